/**
 * @file metricsglue.c
 * @brief The client's metrics: standard families fed from the event hub
 * and from other modules' state at scrape time, served on MetricsPort.
 **/
#include "lib/cc/compat.h"

#include <math.h>
#include <string.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/events.h"
#include "app/metricsglue.h"
#include "app/streams.h"
#include "feature/metrics/metrics_policy.h"
#include "feature/metrics/metrics_port.h"
#include "feature/metrics/metrics_server.h"
#include "feature/metrics/metrics_std.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Everything the metrics own. */
typedef struct metricsglue_t {
  chive_client_t *c;       /**< borrowed: the owner */
  metrics_registry_t *reg; /**< owned */
  metrics_std_t m;         /**< handles into reg */
  metrics_server_t *srv[METRICSGLUE_MAX_PORTS]; /**< owned */
  size_t n_srv;
  bool subscribed; /**< on c->events */
  /** Totals read at scrape time, exposed by counter callbacks. */
  uint64_t bytes_read, bytes_written;
  uint64_t socks[METRICS_SOCKS_RESULT_N_];
  uint64_t circs_built;
  /** circmgr's circs_built when the metrics started: build times are
   * observed for circuits built after that, each once. */
  uint64_t circs_built_base;
} metricsglue_t;

/** Event types the metrics subscribe to. */
#define METRICSGLUE_EVENT_MASK ((1u << CEV_STREAM) | (1u << CEV_CIRC))

static uint64_t
read_u64_cb(void *arg)
{
  return *(const uint64_t *)arg;
}

/** CEV_STREAM: count how streams ended up (control-spec §4.1.2
 * statuses).  A stream that is retried on another circuit (DETACHED)
 * counts once, by its final SUCCEEDED or FAILED. */
static void
on_stream_event(metricsglue_t *g, const cev_t *ev)
{
  if (ev->status == (int)CEV_STREAM_SUCCEEDED)
    metrics_counter_inc(g->m.streams[METRICS_STREAM_SUCCEEDED]);
  else if (ev->status == (int)CEV_STREAM_FAILED)
    metrics_counter_inc(
        g->m.streams[metrics_stream_result_from_end(ev->reason, ev->remote)]);
}

/** The SOCKS result label of an app request result. */
static metrics_socks_result_t
socks_result(app_req_result_t r)
{
  switch (r) {
  case APP_REQ_SUCCEEDED:
    return METRICS_SOCKS_SUCCEEDED;
  case APP_REQ_BAD_REQUEST:
  case APP_REQ_UNSUPPORTED:
    return METRICS_SOCKS_REJECTED;
  case APP_REQ_FAILED:
  case APP_REQ_TIMEOUT:
  case APP_REQ_CLIENT_GONE:
  case APP_REQ_N_RESULTS:
  default:
    return METRICS_SOCKS_FAILED;
  }
}

/** Read the stream module's counters. */
static void
refresh_streams(metricsglue_t *g)
{
  streams_stats_t ss;
  streams_get_stats(g->c, &ss);
  metrics_gauge_set(g->m.streams_open, (int64_t)ss.n_open);
  memset(g->socks, 0, sizeof(g->socks));
  for (size_t r = 0; r < APP_REQ_N_RESULTS; r++)
    g->socks[socks_result((app_req_result_t)r)] +=
        ss.requests[APP_STREAM_FROM_SOCKS][r];
}

/** CEV_CIRC (status: circmgr_circ_ev_t, reason/remote as the circmgr
 * observer gives them): build times and failures. */
static void
on_circ_event(metricsglue_t *g, const cev_t *ev)
{
  if (ev->status == (int)CIRCMGR_CIRC_BUILT) {
    /* A circuit extended by a controller is BUILT again; circmgr counts
     * only its first BUILT (before notifying), so observe while our
     * count lags circmgr's. */
    const metrics_histogram_t *h = g->m.circuit_build_seconds;
    if (!ev->circ || !h || !g->c->circmgr)
      return;
    uint64_t built = circmgr_stats(g->c->circmgr)->circs_built;
    if (g->circs_built_base + h->count < built)
      metrics_histogram_observe(g->m.circuit_build_seconds,
                                (double)ocirc_build_time_us(ev->circ) / 1e6);
  } else if (ev->status == (int)CIRCMGR_CIRC_FAILED) {
    metrics_counter_inc(
        g->m.circuits_failed[metrics_circ_fail_from_destroy(ev->reason,
                                                            ev->remote)]);
  }
}

/** The hub callback.  Runs synchronously inside the emitting call:
 * counts only (events.h). */
static void
on_event(const cev_t *ev, void *arg)
{
  metricsglue_t *g = arg;
  if (ev->type == CEV_STREAM)
    on_stream_event(g, ev);
  else if (ev->type == CEV_CIRC)
    on_circ_event(g, ev);
}

/** Read the gauges and totals other modules own. */
static void
refresh(metricsglue_t *g)
{
  chive_client_t *c = g->c;
  metrics_std_t *m = &g->m;
  int64_t now = clock_wall_s(c->clock);

  metrics_gauge_set(m->bootstrap_percent, (int64_t)c->boot_phase);

  /* Seconds since the valid-after of the consensus in use; NaN (unknown)
   * while there is none. */
  const ns_consensus_t *ns = c->dirmgr ? dirmgr_consensus(c->dirmgr) : NULL;
  if (ns)
    metrics_gauge_set(m->consensus_age_seconds, now - ns->valid_after);
  else
    metrics_gauge_set_double(m->consensus_age_seconds, (double)NAN);

  /* guard-spec §4.1: SAMPLED_GUARDS, CONFIRMED_GUARDS and
   * USABLE_FILTERED_GUARDS. */
  guards_counts_t gc;
  memset(&gc, 0, sizeof(gc));
  if (c->guards)
    guards_counts(c->guards, &gc);
  metrics_gauge_set(m->guards[METRICS_GUARD_SAMPLED], (int64_t)gc.n_sampled);
  metrics_gauge_set(m->guards[METRICS_GUARD_CONFIRMED],
                    (int64_t)gc.n_confirmed);
  metrics_gauge_set(m->guards[METRICS_GUARD_USABLE],
                    (int64_t)gc.n_usable_filtered);

  if (c->circmgr) {
    size_t states[OCIRC_N_STATES];
    circmgr_count_states(c->circmgr, states);
    metrics_gauge_set(m->circuits_open, (int64_t)states[OCIRC_STATE_BUILT]);
    metrics_gauge_set(m->channels_open,
                      (int64_t)circmgr_n_open_channels(c->circmgr));
    g->circs_built = circmgr_stats(c->circmgr)->circs_built;
    g->bytes_read = circmgr_bytes_read(c->circmgr);
    g->bytes_written = circmgr_bytes_written(c->circmgr);
  }
  refresh_streams(g);

  /* MaxMemInQueues 0 means no limit: chive enforces no memory budget
   * then, which the exposition says as +Inf. */
  uint64_t budget = config_get_bytes(c->cfg, OPT_MAX_MEM_IN_QUEUES);
  if (budget)
    metrics_gauge_set_double(m->memory_budget_bytes, (double)budget);
  else
    metrics_gauge_set_double(m->memory_budget_bytes, (double)INFINITY);
}

static void
scrape_cb(void *arg)
{
  refresh(arg);
}

/** Free everything <b>g</b> owns, and <b>g</b>. */
static void
glue_free(metricsglue_t *g)
{
  if (!g)
    return;
  if (g->subscribed)
    cev_unsubscribe(&g->c->events, on_event, g);
  for (size_t i = 0; i < g->n_srv; i++)
    metrics_server_free(g->srv[i]);
  metrics_registry_free(g->reg);
  chive_free(g);
}

/** Parse every MetricsPort value into <b>ports</b>; set *<b>n_out</b>
 * to the number of listeners wanted ("0" values open none). */
static chive_err_t
parse_ports(chive_client_t *c, metrics_port_t *ports, size_t *n_out)
{
  size_t n = 0, nv = config_n_values(c->cfg, OPT_METRICS_PORT);
  for (size_t i = 0; i < nv; i++) {
    const char *v = config_value(c->cfg, OPT_METRICS_PORT, i);
    const char *why = "?";
    metrics_port_t mp;
    if (!v)
      continue;
    chive_err_t err = metrics_port_parse(v, strlen(v), &mp, &why);
    if (err) {
      char esc[METRICS_PORT_LINE_MAX_LEN];
      log_warn(c->log, LD_CONFIG | LD_METRICS, "Bad MetricsPort %s: %s",
               log_escape(v, strlen(v), esc, sizeof(esc)), why);
      return CHIVE_ERR_INVAL;
    }
    if (mp.disabled)
      continue;
    if (n == METRICSGLUE_MAX_PORTS) {
      log_warn(c->log, LD_CONFIG | LD_METRICS,
               "Too many MetricsPort lines (at most %d).",
               METRICSGLUE_MAX_PORTS);
      return CHIVE_ERR_INVAL;
    }
    ports[n++] = mp;
  }
  *n_out = n;
  return CHIVE_OK;
}

/** Parse every MetricsPortPolicy value into <b>pol</b>. */
static chive_err_t
parse_policy(chive_client_t *c, metrics_policy_t *pol)
{
  metrics_policy_init(pol);
  size_t nv = config_n_values(c->cfg, OPT_METRICS_PORT_POLICY);
  for (size_t i = 0; i < nv; i++) {
    const char *v = config_value(c->cfg, OPT_METRICS_PORT_POLICY, i);
    if (!v)
      continue;
    chive_err_t err = metrics_policy_parse_line(pol, v, strlen(v));
    if (err) {
      char esc[256];
      log_warn(c->log, LD_CONFIG | LD_METRICS, "Bad MetricsPortPolicy %s: %s",
               log_escape(v, strlen(v), esc, sizeof(esc)),
               err == CHIVE_ERR_LIMIT ? "too many entries" : "syntax error");
      return CHIVE_ERR_INVAL;
    }
  }
  return CHIVE_OK;
}

chive_err_t
metricsglue_start(chive_client_t *c)
{
  metrics_port_t ports[METRICSGLUE_MAX_PORTS];
  metrics_policy_t policy;
  size_t n_ports = 0;
  chive_err_t err;

  if (BUG(!c))
    return CHIVE_ERR_INVAL;
  if (c->metrics)
    return CHIVE_OK;
  if ((err = parse_ports(c, ports, &n_ports)) != CHIVE_OK ||
      (err = parse_policy(c, &policy)) != CHIVE_OK)
    return err;
  if (n_ports == 0)
    return CHIVE_OK; /* MetricsPort is off (the default) */

  metricsglue_t *g = chive_zalloc(sizeof(*g));
  if (!g)
    return CHIVE_ERR_NOMEM;
  g->c = c;
  err = CHIVE_ERR_NOMEM;
  g->reg = metrics_registry_new(METRICS_STD_PREFIX);
  if (!g->reg)
    goto fail;
  if ((err = metrics_std_register(g->reg, clock_wall_s(c->clock), &g->m)) !=
      CHIVE_OK)
    goto fail;
  metrics_counter_set_callback(g->m.bytes_read, read_u64_cb, &g->bytes_read);
  metrics_counter_set_callback(g->m.bytes_written, read_u64_cb,
                               &g->bytes_written);
  metrics_counter_set_callback(g->m.circuits_built, read_u64_cb,
                               &g->circs_built);
  if (c->circmgr)
    g->circs_built_base = circmgr_stats(c->circmgr)->circs_built;
  for (size_t i = 0; i < METRICS_SOCKS_RESULT_N_; i++)
    metrics_counter_set_callback(g->m.socks_requests[i], read_u64_cb,
                                 &g->socks[i]);
  if ((err = cev_subscribe(&c->events, on_event, g,
                           METRICSGLUE_EVENT_MASK)) != CHIVE_OK)
    goto fail;
  g->subscribed = true;
  refresh(g);

  for (size_t i = 0; i < n_ports; i++) {
    metrics_server_cfg_t sc;
    memset(&sc, 0, sizeof(sc));
    sc.listen = ports[i].addr;
    sc.policy = &policy;
    err = metrics_server_new(c->base, g->reg, &sc, c->log, &g->srv[i]);
    if (err)
      goto fail;
    g->n_srv++;
    metrics_server_set_scrape_cb(g->srv[i], scrape_cb, g);
  }
  c->metrics = g;
  return CHIVE_OK;
fail:
  glue_free(g);
  return err;
}

void
metricsglue_stop(chive_client_t *c)
{
  if (!c || !c->metrics)
    return;
  metricsglue_t *g = c->metrics;
  c->metrics = NULL;
  glue_free(g);
}

size_t
metricsglue_n_listeners(const chive_client_t *c)
{
  const metricsglue_t *g = c ? c->metrics : NULL;
  return g ? g->n_srv : 0;
}

const net_addrport_t *
metricsglue_listener_addr(const chive_client_t *c, size_t i)
{
  const metricsglue_t *g = c ? c->metrics : NULL;
  if (!g || i >= g->n_srv)
    return NULL;
  return metrics_server_addr(g->srv[i]);
}

void
metricsglue_refresh(chive_client_t *c)
{
  if (c && c->metrics)
    refresh(c->metrics);
}

void
metricsglue_note_no_path(chive_client_t *c)
{
  metricsglue_t *g = c ? c->metrics : NULL;
  if (g)
    metrics_counter_inc(g->m.circuits_failed[METRICS_CIRC_FAIL_NO_PATH]);
}

const metrics_registry_t *
metricsglue_registry(const chive_client_t *c)
{
  const metricsglue_t *g = c ? c->metrics : NULL;
  return g ? g->reg : NULL;
}
