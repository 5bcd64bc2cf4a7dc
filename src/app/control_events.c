/**
 * @file control_events.c
 * @brief Asynchronous events (control-spec §4.1): the event names, the
 * subscription to the client's event hub (only for the types some
 * connection wants), formatting each hub event once and queueing it to
 * every authenticated connection that asked for it.
 *
 * Events are queued, never written synchronously, so a "650" line is
 * never interleaved inside a reply: replies are queued whole by the
 * command handlers, and events go between them (control-spec §4).
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/client_st.h"
#include "app/control_int.h"
#include "app/streams.h"
#include "core/proto/proto_limits.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"
#include "lib/text/strbuf.h"

/** Longest event line we format, bytes. */
#define CONTROL_EVENT_MAX_LEN ((size_t)64 * 1024)

static const char *const event_names[CTL_EV_N] = {
    [CTL_EV_CIRC] = "CIRC",
    [CTL_EV_STREAM] = "STREAM",
    [CTL_EV_ORCONN] = "ORCONN",
    [CTL_EV_BW] = "BW",
    [CTL_EV_DEBUG] = "DEBUG",
    [CTL_EV_INFO] = "INFO",
    [CTL_EV_NOTICE] = "NOTICE",
    [CTL_EV_WARN] = "WARN",
    [CTL_EV_ERR] = "ERR",
    [CTL_EV_NEWDESC] = "NEWDESC",
    [CTL_EV_ADDRMAP] = "ADDRMAP",
    [CTL_EV_DESCCHANGED] = "DESCCHANGED",
    [CTL_EV_NS] = "NS",
    [CTL_EV_STATUS_GENERAL] = "STATUS_GENERAL",
    [CTL_EV_STATUS_CLIENT] = "STATUS_CLIENT",
    [CTL_EV_STATUS_SERVER] = "STATUS_SERVER",
    [CTL_EV_GUARD] = "GUARD",
    [CTL_EV_STREAM_BW] = "STREAM_BW",
    [CTL_EV_CLIENTS_SEEN] = "CLIENTS_SEEN",
    [CTL_EV_NEWCONSENSUS] = "NEWCONSENSUS",
    [CTL_EV_BUILDTIMEOUT_SET] = "BUILDTIMEOUT_SET",
    [CTL_EV_SIGNAL] = "SIGNAL",
    [CTL_EV_CONF_CHANGED] = "CONF_CHANGED",
    [CTL_EV_CONN_BW] = "CONN_BW",
    [CTL_EV_CELL_STATS] = "CELL_STATS",
    [CTL_EV_CIRC_BW] = "CIRC_BW",
    [CTL_EV_TRANSPORT_LAUNCHED] = "TRANSPORT_LAUNCHED",
    [CTL_EV_HS_DESC] = "HS_DESC",
    [CTL_EV_HS_DESC_CONTENT] = "HS_DESC_CONTENT",
    [CTL_EV_NETWORK_LIVENESS] = "NETWORK_LIVENESS",
    [CTL_EV_PT_LOG] = "PT_LOG",
    [CTL_EV_PT_STATUS] = "PT_STATUS",
    [CTL_EV_CIRC_MINOR] = "CIRC_MINOR",
};

const char *
control_event_name(ctl_ev_t e)
{
  return (unsigned)e < CTL_EV_N ? event_names[e] : "";
}

int
control_event_parse(const char *name)
{
  for (int i = 0; i < CTL_EV_N; i++)
    if (str_eq_ci(name, event_names[i]))
      return i;
  return -1;
}

#define EVBIT(e) ((uint64_t)1 << (e))

static bool
wants(const control_t *ctl, ctl_ev_t e)
{
  return (ctl->ev_union & EVBIT(e)) != 0;
}

void
control_events_send(control_t *ctl, ctl_ev_t e, const char *body, size_t len)
{
  if (!ctl || !wants(ctl, e))
    return;
  control_outbuf_t o;
  control_outbuf_init(&o, CONTROL_EVENT_MAX_LEN + 16);
  if (control_reply_line(&o, CONTROL_CODE_EVENT, CONTROL_SEP_END, body,
                         len) != CHIVE_OK) {
    control_outbuf_clear(&o);
    return;
  }
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &ctl->conns)
  {
    control_conn_t *cc = CHIVE_CONTAINER_OF(pos, control_conn_t, link);
    if (!cc->authenticated || cc->marked || !(cc->event_mask & EVBIT(e)))
      continue;
    if (control_outbuf_len(&cc->out) >= CONTROL_CONN_EVENT_BACKLOG_MAX) {
      /* Marking only: the connection list is not changed here.  Mark
       * before logging: the log line is itself an event. */
      control_conn_close(cc, false);
      log_info(ctl->c->log, LD_CONTROL,
               "Control connection %llu is not reading its events; "
               "closing it.",
               (unsigned long long)cc->id);
      continue;
    }
    if (cc->in_cmd) {
      if (control_outbuf_append(&cc->held, control_outbuf_data(&o),
                                control_outbuf_len(&o)) != CHIVE_OK)
        control_conn_close(cc, false); /* far over the backlog bound */
      continue;
    }
    control_conn_send(cc, &o);
  }
  control_outbuf_clear(&o);
}

void
control_iso_time_frac(char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0 || !gmtime_r(&ts.tv_sec, &tm)) {
    (void)snprintf(buf, len, "1970-01-01T00:00:00.000000");
    return;
  }
  char day[32];
  if (!strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm))
    day[0] = 0;
  (void)snprintf(buf, len, "%s.%06ld", day, (long)(ts.tv_nsec / 1000));
}

chive_err_t
control_format_stream_bw(strbuf_t *sb, uint64_t id, uint64_t app_wrote,
                         uint64_t app_read, const char *when)
{
  /* control-spec §4.1.13: the application's view, written first. */
  return strbuf_addf(sb, "STREAM_BW %llu %llu %llu %s",
                     (unsigned long long)id, (unsigned long long)app_wrote,
                     (unsigned long long)app_read, when);
}

chive_err_t
control_format_circ_bw(strbuf_t *sb, uint32_t id,
                       const control_circ_bw_t *now,
                       const control_circ_bw_t *prev, const char *when)
{
  /* control-spec §4.1.22.  READ/WRITTEN: relay cells with their relay
   * header (CELL_PAYLOAD_LEN each, the circuit header excluded);
   * DELIVERED_*: RELAY_DATA payload bytes; OVERHEAD_*: the unused tail of
   * the relay cells that were processed (RELAY_PAYLOAD_LEN each, minus
   * what was delivered).  Cells dropped are in READ only.  chive counts
   * the payload of DATA cells only, so control cells' payloads (SENDMEs)
   * are in OVERHEAD: DELIVERED + OVERHEAD stays below READ. */
  uint64_t cr = now->cells_r - prev->cells_r;
  uint64_t cw = now->cells_w - prev->cells_w;
  uint64_t drop = now->dropped - prev->dropped;
  uint64_t dr = now->data_r - prev->data_r;
  uint64_t dw = now->data_w - prev->data_w;
  uint64_t ok_r = cr > drop ? cr - drop : 0;
  uint64_t room_r = ok_r * RELAY_PAYLOAD_LEN;
  uint64_t room_w = cw * RELAY_PAYLOAD_LEN;
  return strbuf_addf(
      sb,
      "CIRC_BW ID=%u READ=%llu WRITTEN=%llu TIME=%s DELIVERED_READ=%llu "
      "OVERHEAD_READ=%llu DELIVERED_WRITTEN=%llu OVERHEAD_WRITTEN=%llu",
      (unsigned)id, (unsigned long long)(cr * CELL_PAYLOAD_LEN),
      (unsigned long long)(cw * CELL_PAYLOAD_LEN), when,
      (unsigned long long)dr,
      (unsigned long long)(room_r > dr ? room_r - dr : 0),
      (unsigned long long)dw,
      (unsigned long long)(room_w > dw ? room_w - dw : 0));
}

/* ---- from the hub ---------------------------------------------------- */

static ctl_ev_t
log_event_type(int sev)
{
  switch (sev) {
  case CHIVE_LOG_ERR:
    return CTL_EV_ERR;
  case CHIVE_LOG_WARN:
    return CTL_EV_WARN;
  case CHIVE_LOG_NOTICE:
    return CTL_EV_NOTICE;
  case CHIVE_LOG_INFO:
    return CTL_EV_INFO;
  default:
    return CTL_EV_DEBUG;
  }
}

static const char *
severity_word(int sev)
{
  switch (sev) {
  case CHIVE_LOG_ERR:
    return "ERR";
  case CHIVE_LOG_WARN:
    return "WARN";
  case CHIVE_LOG_INFO:
    return "INFO";
  case CHIVE_LOG_DEBUG:
    return "DEBUG";
  default:
    return "NOTICE";
  }
}

/** Send "<NAME> <text>" for event <b>e</b>. */
static void
send_text(control_t *ctl, ctl_ev_t e, const char *prefix, const char *text)
{
  strbuf_t sb;
  strbuf_init(&sb, CONTROL_EVENT_MAX_LEN);
  if (strbuf_addf(&sb, "%s%s%s", control_event_name(e), prefix,
                  text ? text : "") == CHIVE_OK)
    control_events_send(ctl, e, strbuf_str(&sb), strbuf_len(&sb));
  strbuf_clear(&sb);
}

static void
hub_cb(const cev_t *ev, void *arg)
{
  control_t *ctl = arg;
  char pre[32];
  switch (ev->type) {
  case CEV_LOG: {
    /* control-spec §4.1.5: "650 SEVERITY message"; a message with line
     * breaks would need the multi-line form: keep the first line.  Log
     * lines written while an event is being queued are not events
     * themselves (no recursion). */
    ctl_ev_t e = log_event_type(ev->severity);
    if (!wants(ctl, e) || !ev->text || ctl->in_log_event)
      return;
    ctl->in_log_event = true;
    size_t len = strcspn(ev->text, "\r\n");
    strbuf_t sb;
    strbuf_init(&sb, CONTROL_EVENT_MAX_LEN);
    if (strbuf_addf(&sb, "%s ", control_event_name(e)) == CHIVE_OK &&
        strbuf_add(&sb, ev->text, len) == CHIVE_OK)
      control_events_send(ctl, e, strbuf_str(&sb), strbuf_len(&sb));
    strbuf_clear(&sb);
    ctl->in_log_event = false;
    return;
  }
  case CEV_STATUS_CLIENT:
  case CEV_STATUS_GENERAL:
    /* §4.1.10: "650 STATUS_CLIENT SEVERITY ACTION ARGS" */
    (void)snprintf(pre, sizeof(pre), " %s ", severity_word(ev->severity));
    send_text(ctl,
              ev->type == CEV_STATUS_CLIENT ? CTL_EV_STATUS_CLIENT
                                            : CTL_EV_STATUS_GENERAL,
              pre, ev->text);
    return;
  case CEV_BW: {
    char body[96];
    (void)snprintf(body, sizeof(body), "BW %llu %llu",
                   (unsigned long long)ev->n_read,
                   (unsigned long long)ev->n_written);
    control_events_send(ctl, CTL_EV_BW, body, strlen(body));
    return;
  }
  case CEV_STREAM_BW: {
    if (!ev->stream)
      return;
    char when[40];
    control_iso_time_frac(when, sizeof(when));
    strbuf_t sb;
    strbuf_init(&sb, 256);
    if (control_format_stream_bw(&sb, app_stream_id(ev->stream),
                                 ev->n_written, ev->n_read,
                                 when) == CHIVE_OK)
      control_events_send(ctl, CTL_EV_STREAM_BW, strbuf_str(&sb),
                          strbuf_len(&sb));
    strbuf_clear(&sb);
    return;
  }
  case CEV_GUARD:
    send_text(ctl, CTL_EV_GUARD, " ", ev->text);
    return;
  case CEV_NEWDESC:
    send_text(ctl, CTL_EV_NEWDESC, " ", ev->text);
    return;
  case CEV_NEWCONSENSUS:
    send_text(ctl, CTL_EV_NEWCONSENSUS, "", ev->text);
    return;
  case CEV_NETWORK_LIVENESS:
    send_text(ctl, CTL_EV_NETWORK_LIVENESS, " ", ev->text);
    return;
  case CEV_BUILDTIMEOUT_SET:
    send_text(ctl, CTL_EV_BUILDTIMEOUT_SET, " ", ev->text);
    return;
  case CEV_ADDRMAP:
    send_text(ctl, CTL_EV_ADDRMAP, " ", ev->text);
    return;
  default:
    control_events_obj(ctl, ev);
    return;
  }
}

/** The hub types behind each controller event. */
static uint32_t
hub_mask_for(uint64_t ev_union)
{
  uint32_t m = 0;
#define MAP(cev, ctlev)                   \
  do {                                    \
    if (ev_union & EVBIT(ctlev))          \
      m |= 1u << (cev);                   \
  } while (0)
  MAP(CEV_CIRC, CTL_EV_CIRC);
  MAP(CEV_CIRC_MINOR, CTL_EV_CIRC_MINOR);
  MAP(CEV_STREAM, CTL_EV_STREAM);
  MAP(CEV_ORCONN, CTL_EV_ORCONN);
  MAP(CEV_BW, CTL_EV_BW);
  MAP(CEV_STREAM_BW, CTL_EV_STREAM_BW);
  MAP(CEV_CIRC_BW, CTL_EV_CIRC_BW);
  MAP(CEV_LOG, CTL_EV_DEBUG);
  MAP(CEV_LOG, CTL_EV_INFO);
  MAP(CEV_LOG, CTL_EV_NOTICE);
  MAP(CEV_LOG, CTL_EV_WARN);
  MAP(CEV_LOG, CTL_EV_ERR);
  MAP(CEV_STATUS_CLIENT, CTL_EV_STATUS_CLIENT);
  MAP(CEV_STATUS_GENERAL, CTL_EV_STATUS_GENERAL);
  MAP(CEV_GUARD, CTL_EV_GUARD);
  MAP(CEV_NEWDESC, CTL_EV_NEWDESC);
  MAP(CEV_NEWCONSENSUS, CTL_EV_NEWCONSENSUS);
  MAP(CEV_NETWORK_LIVENESS, CTL_EV_NETWORK_LIVENESS);
  MAP(CEV_BUILDTIMEOUT_SET, CTL_EV_BUILDTIMEOUT_SET);
  MAP(CEV_ADDRMAP, CTL_EV_ADDRMAP);
#undef MAP
  return m;
}

typedef struct circ_bw_walk_t {
  control_circ_bw_t *cur;
  size_t n, cap;
  bool nomem;
} circ_bw_walk_t;

static void
circ_bw_collect(ocirc_t *oc, void *arg)
{
  circ_bw_walk_t *w = arg;
  const circuit_t *circ = ocirc_circuit(oc);
  if (!circ || w->nomem)
    return;
  if (w->n == w->cap) {
    size_t cap = w->cap ? w->cap * 2 : 16;
    control_circ_bw_t *p = chive_realloc(w->cur, cap * sizeof(*p));
    if (!p) {
      w->nomem = true;
      return;
    }
    w->cur = p;
    w->cap = cap;
  }
  const circuit_stats_t *st = circuit_stats(circ);
  control_circ_bw_t *e = &w->cur[w->n++];
  e->id = ocirc_id(oc);
  e->cells_r = st->cells_received;
  e->cells_w = st->cells_sent;
  e->dropped = st->cells_dropped;
  e->data_r = st->data_bytes_received;
  e->data_w = st->data_bytes_sent;
}

/** CIRC_BW for every circuit whose counters moved since the last tick.
 * circmgr_foreach() walks circuits oldest first, so both snapshots are
 * sorted by CircuitID and are matched in one merge. */
static void
circ_bw_tick(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  circ_bw_walk_t w = {NULL, 0, 0, false};
  circmgr_foreach(c->circmgr, circ_bw_collect, &w);
  if (w.nomem) {
    chive_free(w.cur);
    return;
  }
  char when[40];
  control_iso_time_frac(when, sizeof(when));
  size_t j = 0;
  for (size_t i = 0; i < w.n; i++) {
    const control_circ_bw_t *now = &w.cur[i];
    while (j < ctl->n_circ_bw && ctl->circ_bw[j].id < now->id)
      j++;
    control_circ_bw_t zero;
    memset(&zero, 0, sizeof(zero));
    const control_circ_bw_t *prev =
        j < ctl->n_circ_bw && ctl->circ_bw[j].id == now->id ? &ctl->circ_bw[j]
                                                            : &zero;
    if (now->cells_r == prev->cells_r && now->cells_w == prev->cells_w)
      continue;
    strbuf_t sb;
    strbuf_init(&sb, 512);
    if (control_format_circ_bw(&sb, now->id, now, prev, when) == CHIVE_OK)
      control_events_send(ctl, CTL_EV_CIRC_BW, strbuf_str(&sb),
                          strbuf_len(&sb));
    strbuf_clear(&sb);
  }
  chive_free(ctl->circ_bw);
  ctl->circ_bw = w.cur;
  ctl->n_circ_bw = w.n;
}

/** Once a second: BW (control-spec §4.1.4) with the bytes read and
 * written on every channel since the last tick, for the hub (the
 * control port's and anyone else's subscribers). */
static void
bw_tick(evloop_timer_t *t, void *arg)
{
  control_t *ctl = arg;
  chive_client_t *c = ctl->c;
  (void)t;
  if (!c->circmgr)
    return;
  channel_mgr_t *cm = circmgr_channels(c->circmgr);
  uint64_t r = channel_mgr_bytes_read(cm);
  uint64_t w = channel_mgr_bytes_written(cm);
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_BW;
  ev.n_read = r - ctl->bw_last_read;
  ev.n_written = w - ctl->bw_last_written;
  ctl->bw_last_read = r;
  ctl->bw_last_written = w;
  cev_emit(&c->events, &ev);
  if (wants(ctl, CTL_EV_CIRC_BW))
    circ_bw_tick(ctl);
}

/** Start counting CIRC_BW from the circuits' present totals. */
static void
circ_bw_prime(control_t *ctl)
{
  circ_bw_walk_t w = {NULL, 0, 0, false};
  if (ctl->c->circmgr)
    circmgr_foreach(ctl->c->circmgr, circ_bw_collect, &w);
  chive_free(ctl->circ_bw);
  ctl->circ_bw = w.nomem ? NULL : w.cur;
  ctl->n_circ_bw = w.nomem ? 0 : w.n;
  if (w.nomem)
    chive_free(w.cur);
}

static void
bw_timer_update(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  bool want = (ctl->ev_union & (EVBIT(CTL_EV_BW) | EVBIT(CTL_EV_CIRC_BW) |
                                EVBIT(CTL_EV_STREAM_BW))) != 0;
  bool want_circ = wants(ctl, CTL_EV_CIRC_BW);
  if (want_circ && !ctl->circ_bw_on)
    circ_bw_prime(ctl);
  ctl->circ_bw_on = want_circ;
  if (!want_circ && ctl->circ_bw) {
    chive_free(ctl->circ_bw);
    ctl->circ_bw = NULL;
    ctl->n_circ_bw = 0;
  }
  if (want && !ctl->bw_timer) {
    if (evloop_timer_new(c->loop, bw_tick, ctl, &ctl->bw_timer) != CHIVE_OK)
      return;
    if (c->circmgr) {
      channel_mgr_t *cm = circmgr_channels(c->circmgr);
      ctl->bw_last_read = channel_mgr_bytes_read(cm);
      ctl->bw_last_written = channel_mgr_bytes_written(cm);
    }
    if (evloop_timer_schedule_periodic(ctl->bw_timer, 1000) != CHIVE_OK)
      evloop_timer_free(ctl->bw_timer);
  } else if (!want && ctl->bw_timer) {
    evloop_timer_free(ctl->bw_timer);
  }
}

void
control_events_update(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  uint64_t u = 0;
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &ctl->conns)
  {
    control_conn_t *cc = CHIVE_CONTAINER_OF(pos, control_conn_t, link);
    if (!cc->marked)
      u |= cc->event_mask;
  }
  ctl->ev_union = u;
  uint32_t m = hub_mask_for(u);
  if (m) {
    if (cev_subscribe(&c->events, hub_cb, ctl, m) == CHIVE_OK)
      ctl->hub_subscribed = true;
  } else if (ctl->hub_subscribed) {
    cev_unsubscribe(&c->events, hub_cb, ctl);
    ctl->hub_subscribed = false;
  }
  /* The log tee sends CEV_LOG at or above ctl_log_max. */
  chive_log_severity_t max = CHIVE_LOG_ERR;
  if (u & EVBIT(CTL_EV_WARN))
    max = CHIVE_LOG_WARN;
  if (u & EVBIT(CTL_EV_NOTICE))
    max = CHIVE_LOG_NOTICE;
  if (u & EVBIT(CTL_EV_INFO))
    max = CHIVE_LOG_INFO;
  if (u & EVBIT(CTL_EV_DEBUG))
    max = CHIVE_LOG_DEBUG;
  c->ctl_log_max = max;
  client_log_update(c);
  bw_timer_update(ctl);
}

void
control_events_shutdown(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  if (ctl->hub_subscribed)
    cev_unsubscribe(&c->events, hub_cb, ctl);
  ctl->hub_subscribed = false;
  ctl->ev_union = 0;
  evloop_timer_free(ctl->bw_timer);
  chive_free(ctl->circ_bw);
  ctl->circ_bw = NULL;
  ctl->n_circ_bw = 0;
  ctl->circ_bw_on = false;
  c->ctl_log_max = CHIVE_LOG_ERR;
  client_log_update(c);
}
