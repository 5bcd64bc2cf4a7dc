/**
 * @file pool.c
 * @brief Preemptive circuits (path-spec §2.1.1): the pool policy in
 * feature/circpool decides; this file launches and closes circuits for it.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "app/circbuild.h"
#include "app/config_int.h"
#include "app/pool.h"
#include "app/streams.h"
#include "core/proto/circ_cells.h"
#include "feature/dir/parse/policy_summary.h"
#include "lib/malloc/malloc.h"

/** How often the pool policy runs. */
#define POOL_TICK_MS 1000
/** Most launches per tick. */
#define POOL_MAX_LAUNCH_PER_TICK 4
/** Most closes per tick. */
#define POOL_MAX_CLOSE_PER_TICK 16

/** One pooled circuit: the handle circpool knows. */
typedef struct pooled_t {
  chive_client_t *c;
  chive_list_t link; /**< on c->pooled */
  ocirc_t *oc;
  uint8_t exit_id[20];
  bool opened;
} pooled_t;

static uint64_t
now_ms(const chive_client_t *c)
{
  return clock_mono_ms(c->clock);
}

/** Does the pooled circuit's exit allow <b>port</b>?  Asked of the
 * current node list (the exit's microdescriptor policy summary). */
static bool
exit_allows(void *handle, uint16_t port, void *arg)
{
  pooled_t *p = handle;
  chive_client_t *c = arg;
  const node_t *n =
      c->nodelist ? nodelist_find_by_rsa(c->nodelist, p->exit_id) : NULL;
  if (!n || !n->md)
    return false;
  return policy_summary_allows_port(microdesc_policy(n->md), port);
}

static void
pooled_opened(ocirc_t *oc, void *arg)
{
  pooled_t *p = arg;
  (void)oc;
  p->opened = true;
  (void)circpool_circuit_opened(p->c->pool, p, now_ms(p->c));
  streams_circuit_opened(p->c);
}

static void
pooled_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  pooled_t *p = arg;
  chive_client_t *c = p->c;
  (void)oc;
  (void)remote;
  if (p->opened)
    (void)circpool_circuit_closed(c->pool, p);
  else
    (void)circpool_circuit_failed(c->pool, p, now_ms(c));
  log_debug(c->log, LD_CIRC, "Pooled circuit closed (%s).",
            destroy_reason_name(reason));
  chive_list_remove(&p->link);
  chive_free(p);
}

/** Launch and register one circuit for <b>req</b>. */
static chive_err_t
pool_launch(chive_client_t *c, const circpool_launch_t *req, uint64_t now)
{
  pooled_t *p = chive_zalloc(sizeof(*p));
  if (!p)
    return CHIVE_ERR_NOMEM;
  p->c = c;
  chive_list_init(&p->link);
  uint16_t port = req->n_ports ? req->ports[0] : 80;
  ocirc_events_t ev = {pooled_opened, pooled_closed, NULL};
  chive_err_t e = circbuild_launch_exit(c, port, &ev, p, &p->oc);
  if (e != CHIVE_OK) {
    log_info(c->log, LD_CIRC, "Cannot launch a circuit for port %u: %s",
             (unsigned)port, chive_err_str(e));
    chive_free(p);
    return e;
  }
  memcpy(p->exit_id, c->last_exit, sizeof(p->exit_id));
  chive_list_add_tail(&c->pooled, &p->link);
  if ((e = circpool_circuit_launched(c->pool, p, req, now)) != CHIVE_OK) {
    ocirc_close(p->oc, DESTROY_REASON_FINISHED); /* frees p */
    return e;
  }
  return CHIVE_OK;
}

void
pool_tick(chive_client_t *c)
{
  if (!c->pool || c->stopped || c->boot_phase < BOOT_DONE)
    return;
  uint64_t now = now_ms(c);
  circpool_launch_t reqs[POOL_MAX_LAUNCH_PER_TICK];
  size_t n = circpool_wants(c->pool, now, reqs, POOL_MAX_LAUNCH_PER_TICK);
  for (size_t i = 0; i < n; i++)
    if (pool_launch(c, &reqs[i], now) != CHIVE_OK)
      break;
  void *close[POOL_MAX_CLOSE_PER_TICK];
  size_t nc = circpool_to_close(c->pool, now, close, POOL_MAX_CLOSE_PER_TICK);
  for (size_t i = 0; i < nc; i++) {
    pooled_t *p = close[i];
    ocirc_close(p->oc, DESTROY_REASON_FINISHED);
  }
}

static void
pool_timer_cb(evloop_timer_t *t, void *arg)
{
  (void)t;
  pool_tick(arg);
}

chive_err_t
pool_start(chive_client_t *c)
{
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  s.dirtiness_s = (uint32_t)config_get_interval_s(c->cfg,
                                                  OPT_MAX_CIRCUIT_DIRTINESS);
  chive_err_t e = circpool_new(&s, exit_allows, c, now_ms(c), &c->pool);
  if (e != CHIVE_OK)
    return e;
  if ((e = evloop_timer_new(c->loop, pool_timer_cb, c, &c->pool_timer)) !=
      CHIVE_OK)
    return e;
  return evloop_timer_schedule_periodic(c->pool_timer, POOL_TICK_MS);
}

void
pool_stop(chive_client_t *c)
{
  evloop_timer_free(c->pool_timer);
  if (!c->pool)
    return;
  while (!chive_list_empty(&c->pooled)) {
    pooled_t *p = CHIVE_CONTAINER_OF(chive_list_first(&c->pooled), pooled_t,
                                     link);
    ocirc_close(p->oc, DESTROY_REASON_FINISHED); /* frees p */
  }
  circpool_free(c->pool);
}

size_t
pool_n_open(const chive_client_t *c)
{
  size_t n = 0;
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &c->pooled)
  {
    const pooled_t *p = CHIVE_CONTAINER_OF(pos, pooled_t, link);
    n += p->opened;
  }
  return n;
}

bool
pool_close_one(chive_client_t *c)
{
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &c->pooled)
  {
    pooled_t *p = CHIVE_CONTAINER_OF(pos, pooled_t, link);
    if (p->opened) {
      ocirc_close(p->oc, DESTROY_REASON_CHANNEL_CLOSED);
      return true;
    }
  }
  return false;
}

/** Adapter for circpool's filter: pooled handle -> the caller's test. */
typedef struct pool_filter_t {
  bool (*ok)(ocirc_t *oc, void *arg);
  void *arg;
} pool_filter_t;

static bool
pool_filter_cb(void *handle, void *arg)
{
  pooled_t *p = handle;
  pool_filter_t *f = arg;
  if (!p->opened || !ocirc_circuit(p->oc))
    return false;
  return !f->ok || f->ok(p->oc, f->arg);
}

ocirc_t *
pool_get_for_stream(chive_client_t *c, uint16_t port, const uint8_t *iso,
                    size_t iso_len, bool (*ok)(ocirc_t *oc, void *arg),
                    void *arg, void **handle_out)
{
  if (!c->pool)
    return NULL;
  pool_filter_t f = {ok, arg};
  circpool_note_port_used(c->pool, port, now_ms(c));
  pooled_t *p = circpool_get_for_stream_filtered(c->pool, port, iso, iso_len,
                                                 now_ms(c), pool_filter_cb,
                                                 &f);
  if (!p)
    return NULL;
  *handle_out = p;
  return p->oc;
}

void
pool_stream_detached(chive_client_t *c, void *handle)
{
  if (c->pool && handle)
    (void)circpool_stream_detached(c->pool, handle);
}

void
pool_retire(chive_client_t *c, void *handle)
{
  if (c->pool && handle)
    (void)circpool_retire(c->pool, handle);
}

void
pool_retire_circ(chive_client_t *c, const ocirc_t *oc)
{
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &c->pooled)
  {
    pooled_t *p = CHIVE_CONTAINER_OF(pos, pooled_t, link);
    if (p->oc == oc) {
      pool_retire(c, p);
      return;
    }
  }
}

size_t
pool_newnym(chive_client_t *c)
{
  return c->pool ? circpool_retire_dirty(c->pool) : 0;
}

circpool_need_t
pool_launch_for_stream(chive_client_t *c, uint16_t port, const uint8_t *iso,
                       size_t iso_len)
{
  if (!c->pool || c->stopped || c->boot_phase < BOOT_DONE)
    return CIRCPOOL_NEED_LIMITED;
  uint64_t now = now_ms(c);
  circpool_launch_t req;
  circpool_need_t need =
      circpool_need_for_stream(c->pool, port, iso, iso_len, now, &req);
  if (need == CIRCPOOL_NEED_LAUNCH &&
      pool_launch(c, &req, now) != CHIVE_OK)
    return CIRCPOOL_NEED_LIMITED;
  return need;
}

void
pool_reconfigure(chive_client_t *c)
{
  if (!c->pool)
    return;
  circpool_strategy_t s = *circpool_strategy(c->pool);
  s.dirtiness_s = (uint32_t)config_get_interval_s(c->cfg,
                                                  OPT_MAX_CIRCUIT_DIRTINESS);
  if (circpool_set_strategy(c->pool, &s) != CHIVE_OK)
    log_warn(c->log, LD_CONFIG, "Cannot apply the new circuit settings.");
}
