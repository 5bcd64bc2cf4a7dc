/**
 * @file streams.c
 * @brief Client streams: the SocksPort and HTTPTunnelPort listeners, the
 * application connections they accept, and their streams over exit
 * circuits (tor-spec §6; socks-extensions; address-spec).
 *
 * One app_stream_t per application connection (or controller RESOLVE):
 *
 *   HANDSHAKE   reading the SOCKS / HTTP CONNECT request
 *   UNATTACHED  __LeaveStreamsUnattached: waiting for ATTACHSTREAM
 *   WAIT_CIRC   no usable circuit yet; one is building (path-spec §2.1.2)
 *   CONNECTING  RELAY_BEGIN / RELAY_RESOLVE sent, waiting for the answer
 *   OPEN        CONNECTED received: bytes flow both ways
 *   FLUSHING    done; writing what is left to the application, then close
 *
 * Back-pressure, both ways:
 *  - application -> Tor: bytes are packaged only while the stream and
 *    circuit windows allow (stream_write takes what it can); the rest
 *    stays in the bufferevent's input, whose read high-water mark makes
 *    libevent stop reading the socket (tor-spec §7.3: "stops reading from
 *    TCP connections").  The writable callback resumes.
 *  - Tor -> application: when more than APP_OUT_HIGH bytes wait to be
 *    written to the application, the stream stops sending stream-level
 *    SENDMEs (stream_set_recv_blocked), so the exit stops after its
 *    window; below APP_OUT_LOW it resumes.  Memory per stream is bounded
 *    by APP_OUT_HIGH + one stream window (500 cells).
 *
 * Retries (tor's behaviour, connection_edge.c / relay.c): before
 * CONNECTED, an END with EXITPOLICY, RESOLVEFAILED, RESOURCELIMIT,
 * HIBERNATING, MISC or DESTROY (the circuit died), or no answer within
 * STREAM_BEGIN_TIMEOUT, detaches the stream and tries another circuit,
 * up to STREAM_MAX_ATTEMPTS.  A circuit on which a BEGIN timed out is
 * retired (no new streams).
 *
 * Objects are freed through the client's reaper, never inside a
 * callback chain that may still use them.
 **/
#include "lib/cc/compat.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <inttypes.h>
#include <sys/socket.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/events.h"
#include "app/pool.h"
#include "app/portconf.h"
#include "app/streams.h"
#include "core/circmgr/circmgr.h"
#include "core/circuit/circuit.h"
#include "core/proto/circ_cells.h"
#include "core/stream/stream.h"
#include "feature/socks/httpconnect.h"
#include "feature/socks/socks_proto.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"
#include "lib/net/socket.h"

/* ---- Limits and timeouts (policy unless noted) ------------------------ */

/** Most listeners (SocksPort + HTTPTunnelPort lines). */
#define STREAMS_MAX_LISTENERS 16
/** listen(2) backlog of the proxy listeners. */
#define STREAMS_LISTEN_BACKLOG 4096
/** Most application connections at once; more are refused at accept. */
#define STREAMS_MAX_CONNS 8192
/** Stop reading from the application when this much waits to be sent
 * into Tor, bytes. */
#define APP_IN_HIGH (64 * 1024)
/** Stop sending stream SENDMEs above this much unwritten output, bytes. */
#define APP_OUT_HIGH (256 * 1024)
/** Resume below this, bytes. */
#define APP_OUT_LOW (64 * 1024)
/** Time for a complete SOCKS / CONNECT request, ms (socks_proto.h). */
#define STREAM_HANDSHAKE_TIMEOUT_MS SOCKS_HANDSHAKE_TIMEOUT_MSEC
/** Time for CONNECTED / RESOLVED after the first BEGIN, then after later
 * ones (tor's CircuitStreamTimeout rule: 10 s, then 15 s), ms. */
#define STREAM_BEGIN_TIMEOUT_FIRST_MS (10 * 1000)
#define STREAM_BEGIN_TIMEOUT_LATER_MS (15 * 1000)
/** Attempts (circuits tried) per request (tor: MAX_RESOLVE_FAILURES,
 * 3). */
#define STREAM_MAX_ATTEMPTS 3
/** Time to flush the last bytes to the application before closing, ms. */
#define STREAM_FLUSH_TIMEOUT_MS (30 * 1000)
/** Most bytes sent as optimistic data before CONNECTED (tor-spec §6.2). */
#define STREAM_OPTIMISTIC_MAX (16 * 1024)
/** Most MAPADDRESS entries. */
#define STREAMS_MAX_MAPS 256
/** Length of an isolation key (SHA-256 of the isolation fields). */
#define STREAM_ISO_LEN 32
/** How often timeouts and waiting streams are checked, ms. */
#define STREAMS_TICK_MS 1000
/** Circuits remembered as tried per request. */
#define STREAM_MAX_EXCLUDED STREAM_MAX_ATTEMPTS

typedef enum as_state_t {
  AS_HANDSHAKE = 0,
  AS_UNATTACHED,
  AS_WAIT_CIRC,
  AS_CONNECTING,
  AS_OPEN,
  AS_FLUSHING,
  AS_DEAD,
} as_state_t;

/** One open listener. */
typedef struct listener_t {
  struct streams_t *sm;
  struct evconnlistener *l;
  app_stream_origin_t origin; /**< SOCKS or HTTP CONNECT */
  portconf_t conf;
  uint32_t group;             /**< session group (isolation) */
  char addr[NET_ADDRPORT_STR_LEN];
  char line[PORTCONF_MAX_LEN + 1]; /**< the configuration line */
  bool keep;                  /**< reconfiguration: still configured */
} listener_t;

/** A MAPADDRESS entry. */
typedef struct addrmap_ent_t {
  char from[SOCKS_MAX_HOSTNAME_LEN + 1];
  char to[SOCKS_MAX_HOSTNAME_LEN + 1];
} addrmap_ent_t;

typedef struct streams_t {
  chive_client_t *c;
  listener_t lst[STREAMS_MAX_LISTENERS];
  size_t n_lst;
  chive_list_t all;     /**< app_stream_t.link */
  size_t n_streams;
  uint64_t next_id;
  bool leave_unattached;
  reaper_t *reaper;
  evloop_timer_t *tick;
  addrmap_ent_t *maps;  /**< STREAMS_MAX_MAPS entries, n_maps used */
  size_t n_maps;
  streams_stats_t stats;
  uint64_t circ_timeout_ms; /**< SocksTimeout */
  uint32_t next_group;      /**< automatic session groups */
  ratelim_t rl_refuse;
  ratelim_t rl_onion;
} streams_t;

struct app_stream_t {
  streams_t *sm;
  chive_list_t link;
  reaper_entry_t reap;
  uint64_t id;
  as_state_t state;
  app_stream_kind_t kind;
  app_stream_origin_t origin;
  int status;                 /**< last cev_stream_status_t emitted */
  struct bufferevent *bev;    /**< NULL for controller RESOLVEs */
  bool from_listener;         /**< false for controller RESOLVEs */
  portconf_t lconf;           /**< the listener's settings at accept */
  uint32_t lgroup;            /**< the listener's session group */
  socks_t *socks;             /**< during the SOCKS handshake */
  uint8_t socks_version;      /**< 4 or 5 once the request is read */
  char host[SOCKS_MAX_HOSTNAME_LEN + 1]; /**< target (after MAPADDRESS) */
  char orig_host[SOCKS_MAX_HOSTNAME_LEN + 1]; /**< as the app said */
  uint16_t port;
  char source[NET_ADDRPORT_STR_LEN];
  uint8_t iso[STREAM_ISO_LEN];
  uint32_t begin_flags;
  /* the circuit */
  ocirc_t *oc;                /**< attached circuit, or NULL */
  void *pool_handle;          /**< pooled-circuit handle, or NULL */
  stream_t *rs;               /**< the core stream while attached */
  uint32_t excluded[STREAM_MAX_EXCLUDED]; /**< ocirc_id()s tried */
  size_t n_excluded;
  unsigned attempts;
  size_t opt_sent;            /**< optimistic bytes sent, not drained */
  bool recv_blocked;
  bool app_eof;               /**< the application closed its side */
  bool app_gone;              /**< the socket failed: discard output */
  bool reset;                 /**< close with RST (abortive close) */
  bool counted;               /**< a request result was counted */
  bool resolve_reverse;
  uint64_t deadline_ms;       /**< of the current state, 0 = none */
  uint64_t started_ms;
  uint64_t bytes_read;        /**< from Tor, to the application */
  uint64_t bytes_written;     /**< from the application, into Tor */
  uint64_t bw_read, bw_written; /**< at the last STREAM_BW tick */
};

/* ---- small helpers ------------------------------------------------------ */

static uint64_t
now_ms(const streams_t *sm)
{
  return clock_mono_ms(sm->c->clock);
}

static uint64_t
now_us(const streams_t *sm)
{
  return circmgr_now_us(sm->c->circmgr);
}

static void
emit(app_stream_t *st, cev_stream_status_t status, uint8_t reason,
     bool remote)
{
  st->status = (int)status;
  chive_client_t *c = st->sm->c;
  if (!cev_wanted(&c->events, CEV_STREAM))
    return;
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_STREAM;
  ev.stream = st;
  ev.circ = st->oc;
  ev.status = (int)status;
  ev.reason = reason;
  ev.remote = remote;
  cev_emit(&c->events, &ev);
}

static void
count_result(app_stream_t *st, app_req_result_t r)
{
  if (st->counted)
    return;
  st->counted = true;
  st->sm->stats.requests[st->origin][r]++;
}

static bool
host_is_local_name(const char *h)
{
  /* tor's tor_addr_hostname_is_local(): "localhost", "*.local". */
  size_t n = strlen(h);
  if (!strcasecmp(h, "localhost") || !strcasecmp(h, "localhost."))
    return true;
  return n >= 6 && !strcasecmp(h + n - 6, ".local");
}

static bool
has_suffix(const char *h, const char *suffix)
{
  size_t n = strlen(h), m = strlen(suffix);
  return n >= m && !strcasecmp(h + n - m, suffix);
}

/** The destination for logs: "[scrubbed]" under SafeLogging (tor(1):
 * "strings that could identify ... the destination"). */
static const char *
safe_dest(const app_stream_t *st)
{
  const char *v = config_get_str(st->sm->c->cfg, OPT_SAFE_LOGGING);
  if (v && !strcmp(v, "0"))
    return st->orig_host;
  return "[scrubbed]";
}

/* ---- freeing -------------------------------------------------------------- */

static void
as_free(void *obj)
{
  app_stream_t *st = obj;
  if (st->bev && st->reset) {
    /* SO_LINGER 0: close() sends RST. */
    struct linger lg = {1, 0};
    evutil_socket_t fd = bufferevent_getfd(st->bev);
    if (fd >= 0)
      (void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  if (st->bev)
    bufferevent_free(st->bev);
  if (st->socks) {
    socks_clear(st->socks);
    chive_free(st->socks);
  }
  chive_list_remove(&st->link);
  st->sm->n_streams--;
  chive_memwipe(st->iso, sizeof(st->iso));
  chive_free(st);
}

/** Leave the circuit: close the core stream (if it still exists) and
 * give the pool its stream count back. */
static void
as_detach(app_stream_t *st, uint8_t end_reason)
{
  streams_t *sm = st->sm;
  if (st->rs) {
    stream_t *rs = st->rs;
    st->rs = NULL;
    stream_close(rs, end_reason, now_us(sm));
  }
  if (st->pool_handle) {
    pool_stream_detached(sm->c, st->pool_handle);
    st->pool_handle = NULL;
  }
  st->oc = NULL;
  st->opt_sent = 0;
}

/** STREAM_BW for the bytes moved since the last report (the 1 s tick,
 * and a last one when the stream goes, as tor does). */
static void
emit_bw(app_stream_t *st)
{
  chive_client_t *c = st->sm->c;
  if (!cev_wanted(&c->events, CEV_STREAM_BW) ||
      (st->bytes_read == st->bw_read && st->bytes_written == st->bw_written))
    return;
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_STREAM_BW;
  ev.stream = st;
  ev.n_read = st->bytes_read - st->bw_read;
  ev.n_written = st->bytes_written - st->bw_written;
  st->bw_read = st->bytes_read;
  st->bw_written = st->bytes_written;
  cev_emit(&c->events, &ev);
}

/** Forget <b>st</b> now: no more callbacks; freed on the next loop
 * iteration. */
static void
as_kill(app_stream_t *st)
{
  if (st->state == AS_DEAD)
    return;
  emit_bw(st);
  as_detach(st, END_REASON_DONE);
  st->state = AS_DEAD;
  if (st->bev) {
    bufferevent_disable(st->bev, EV_READ | EV_WRITE);
    bufferevent_setcb(st->bev, NULL, NULL, NULL, NULL);
  }
  reaper_mark(st->sm->reaper, &st->reap, st, as_free);
}

static void app_write_cb(struct bufferevent *bev, void *arg);

/** Close the application side once what is queued for it is written
 * (at most STREAM_FLUSH_TIMEOUT_MS). */
static void
as_flush_and_close(app_stream_t *st)
{
  if (st->state == AS_DEAD)
    return;
  as_detach(st, END_REASON_DONE);
  if (!st->bev || st->app_gone ||
      evbuffer_get_length(bufferevent_get_output(st->bev)) == 0) {
    as_kill(st);
    return;
  }
  st->state = AS_FLUSHING;
  st->deadline_ms = now_ms(st->sm) + STREAM_FLUSH_TIMEOUT_MS;
  bufferevent_disable(st->bev, EV_READ);
  bufferevent_setwatermark(st->bev, EV_WRITE, 0, 0);
}

/** Queue <b>len</b> bytes for the application. */
static void
app_send(app_stream_t *st, const void *data, size_t len)
{
  if (!st->bev || st->app_gone || len == 0)
    return;
  if (bufferevent_write(st->bev, data, len) != 0)
    st->app_gone = true;
}

/* ---- replies ------------------------------------------------------------ */

/** Send what the SOCKS engine queued. */
static void
socks_flush(app_stream_t *st)
{
  uint8_t out[SOCKS_OUTPUT_MAX];
  while (st->socks && socks_output_len(st->socks) > 0) {
    size_t n = socks_take_output(st->socks, out, sizeof(out));
    app_send(st, out, n);
  }
}

/** Answer the request with failure: SOCKS5 <b>code</b> (collapsed for
 * SOCKS4) or the HTTP reply <b>http</b>, then close. */
static void
reply_error(app_stream_t *st, uint8_t code, const char *http)
{
  if (st->origin == APP_STREAM_FROM_SOCKS && st->socks) {
    if (socks_reply_error(st->socks, code) == CHIVE_OK)
      socks_flush(st);
  } else if (st->origin == APP_STREAM_FROM_HTTP_CONNECT && http) {
    app_send(st, http, strlen(http));
  }
  as_flush_and_close(st);
}

/** The request failed with END <b>reason</b> (ours or the exit's). */
static void
fail_request(app_stream_t *st, uint8_t reason, bool remote,
             app_req_result_t result)
{
  log_info(st->sm->c->log, LD_APP,
           "Stream %" PRIu64 " to %s:%u failed: %s (%s).", st->id,
           safe_dest(st), (unsigned)st->port, end_reason_name(reason),
           remote ? "from the exit" : "local");
  emit(st, CEV_STREAM_FAILED, reason, remote);
  count_result(st, result);
  if (st->kind != APP_STREAM_CONNECT && st->origin == APP_STREAM_FROM_CONTROL) {
    chive_client_t *c = st->sm->c;
    if (cev_wanted(&c->events, CEV_ADDRMAP)) {
      /* control-spec §4.1.7: a failed lookup maps to <error>. */
      char text[SOCKS_MAX_HOSTNAME_LEN + 96];
      (void)snprintf(text, sizeof(text),
                     "%s <error> NEVER error=yes STREAMID=%" PRIu64,
                     st->orig_host, st->id);
      cev_t ev;
      memset(&ev, 0, sizeof(ev));
      ev.type = CEV_ADDRMAP;
      ev.text = text;
      cev_emit(&c->events, &ev);
    }
  }
  reply_error(st, socks5_reply_for_end_reason(reason),
              httpconnect_reply_for_end_reason(reason));
}

/* ---- moving bytes ------------------------------------------------------- */

/** Application -> Tor: package what the windows allow. */
static void
pump_to_tor(app_stream_t *st)
{
  streams_t *sm = st->sm;
  if (!st->rs || !st->bev)
    return;
  struct evbuffer *in = bufferevent_get_input(st->bev);
  bool optimistic = st->state == AS_CONNECTING;
  for (;;) {
    size_t have = evbuffer_get_length(in);
    if (optimistic) {
      if (st->opt_sent >= have || st->opt_sent >= STREAM_OPTIMISTIC_MAX)
        break;
    } else if (have == 0) {
      break;
    }
    /* No stream_can_write() pre-check: stream_write() itself must see
     * the refusal so that it marks the stream blocked and calls the
     * writable callback when a window or the channel reopens. */
    uint8_t chunk[RELAY_PAYLOAD_LEN * 8];
    size_t off = optimistic ? st->opt_sent : 0;
    size_t want = have - off;
    if (want > sizeof(chunk))
      want = sizeof(chunk);
    if (optimistic && off + want > STREAM_OPTIMISTIC_MAX)
      want = STREAM_OPTIMISTIC_MAX - off;
    struct evbuffer_ptr pos;
    if (evbuffer_ptr_set(in, &pos, off, EVBUFFER_PTR_SET) != 0)
      break;
    ev_ssize_t got = evbuffer_copyout_from(in, &pos, chunk, want);
    if (got <= 0)
      break;
    size_t n = 0;
    chive_err_t e = stream_write(st->rs, chunk, (size_t)got, &n, now_us(sm));
    chive_memwipe(chunk, (size_t)got);
    if (st->state == AS_DEAD || !st->rs)
      return; /* the circuit closed under us; callbacks handled it */
    if (e != CHIVE_OK)
      break;
    if (n == 0)
      break;
    st->bytes_written += n;
    sm->stats.bytes_from_apps += n;
    if (optimistic)
      st->opt_sent += n;
    else
      evbuffer_drain(in, n);
  }
  if (st->state == AS_OPEN && st->app_eof &&
      evbuffer_get_length(in) == 0) {
    /* tor closes the stream when the application closes its side. */
    emit(st, CEV_STREAM_CLOSED, END_REASON_DONE, false);
    as_flush_and_close(st);
  }
}

/* ---- core stream callbacks --------------------------------------------- */

static void attach_or_wait(app_stream_t *st);

/** May this END (before CONNECTED) be retried elsewhere?  tor's rules
 * (connection_ap_process_end_not_open): EXITPOLICY, HIBERNATING and
 * RESOURCELIMIT go to another exit; RESOLVEFAILED, TIMEOUT, MISC and
 * NOROUTE are retried too, and the circuit they happened on takes no
 * new streams (*<b>retire</b>); a circuit that died (DESTROY) is gone
 * anyway. */
static bool
end_is_retriable(uint8_t reason, bool *retire)
{
  *retire = false;
  switch (reason) {
  case END_REASON_EXITPOLICY:
  case END_REASON_RESOURCELIMIT:
  case END_REASON_HIBERNATING:
  case END_REASON_DESTROY:
    return true;
  case END_REASON_RESOLVEFAILED:
  case END_REASON_MISC:
  case END_REASON_TIMEOUT:
  case END_REASON_NOROUTE:
    *retire = true;
    return true;
  default:
    return false;
  }
}

/** Leave this circuit and try another, or fail. */
static void
retry_or_fail(app_stream_t *st, uint8_t reason, bool remote)
{
  bool retire = false;
  bool retriable = end_is_retriable(reason, &retire);
  if (st->oc && st->n_excluded < STREAM_MAX_EXCLUDED)
    st->excluded[st->n_excluded++] = ocirc_id(st->oc);
  if (st->oc && retire)
    pool_retire_circ(st->sm->c, st->oc);
  if (st->attempts >= STREAM_MAX_ATTEMPTS || !retriable) {
    as_detach(st, reason); /* closes the core stream if it still exists */
    fail_request(st, reason, remote,
                 reason == END_REASON_TIMEOUT ? APP_REQ_TIMEOUT
                                              : APP_REQ_FAILED);
    return;
  }
  as_detach(st, END_REASON_MISC);
  emit(st, CEV_STREAM_DETACHED, reason, remote);
  attach_or_wait(st);
}

static void
rs_connected(stream_t *rs, const connected_t *info, void *arg)
{
  app_stream_t *st = arg;
  (void)rs;
  (void)info;
  st->state = AS_OPEN;
  st->deadline_ms = 0;
  if (st->bev) {
    /* Optimistic bytes were delivered: drop them from the input. */
    evbuffer_drain(bufferevent_get_input(st->bev), st->opt_sent);
  }
  st->opt_sent = 0;
  if (st->origin == APP_STREAM_FROM_SOCKS && st->socks) {
    if (socks_reply_connect(st->socks, SOCKS5_REP_SUCCEEDED, NULL) ==
        CHIVE_OK)
      socks_flush(st);
    socks_clear(st->socks);
    CHIVE_FREE_AND_NULL(socks_t, chive_free, st->socks);
  } else if (st->origin == APP_STREAM_FROM_HTTP_CONNECT) {
    const char *ok = httpconnect_reply_ok();
    app_send(st, ok, strlen(ok));
  }
  emit(st, CEV_STREAM_SUCCEEDED, 0, false);
  count_result(st, APP_REQ_SUCCEEDED);
  if (st->bev)
    bufferevent_enable(st->bev, EV_READ);
  pump_to_tor(st);
}

static void
rs_data(stream_t *rs, const uint8_t *data, size_t len, void *arg)
{
  app_stream_t *st = arg;
  streams_t *sm = st->sm;
  st->bytes_read += len;
  sm->stats.bytes_to_apps += len;
  if (!st->bev || st->app_gone)
    return; /* discarded; the window logic still counts it */
  app_send(st, data, len);
  if (!st->recv_blocked &&
      evbuffer_get_length(bufferevent_get_output(st->bev)) > APP_OUT_HIGH) {
    st->recv_blocked = true;
    stream_set_recv_blocked(rs, true, now_us(sm));
  }
}

static void
rs_end(stream_t *rs, stream_end_source_t source, uint8_t reason,
       const end_t *end, void *arg)
{
  app_stream_t *st = arg;
  (void)rs;
  (void)end;
  st->rs = NULL; /* gone when this returns */
  bool remote = source == STREAM_END_BY_PEER;
  log_info(st->sm->c->log, LD_APP,
           "Stream %" PRIu64 ": ended by %s, reason %s, after %" PRIu64
           " bytes in, %" PRIu64 " out.",
           st->id,
           source == STREAM_END_BY_PEER      ? "the exit"
           : source == STREAM_END_BY_CIRCUIT ? "its circuit"
                                             : "a protocol error",
           end_reason_name(reason), st->bytes_read, st->bytes_written);
  if (source == STREAM_END_BY_CIRCUIT)
    reason = END_REASON_DESTROY;
  if (st->state == AS_CONNECTING) {
    retry_or_fail(st, reason, remote);
    return;
  }
  if (st->state == AS_OPEN) {
    emit(st, CEV_STREAM_CLOSED, reason, remote);
    if (reason != END_REASON_DONE && st->bev && !st->app_gone &&
        source != STREAM_END_BY_PEER) {
      /* The circuit died mid-stream: reset the application's
       * connection (RST) so it sees an error, not a clean end of data. */
      st->app_gone = true;
      st->reset = true;
    }
    as_flush_and_close(st);
  }
}

/** Format a RESOLVED answer as text for ADDRMAP / logs. */
static bool
answer_text(const resolved_answer_t *a, char *buf, size_t len)
{
  net_addr_t addr;
  if (a->type == RESOLVED_TYPE_IPV4 && a->len == 4) {
    uint32_t v = ((uint32_t)a->value[0] << 24) |
                 ((uint32_t)a->value[1] << 16) |
                 ((uint32_t)a->value[2] << 8) | a->value[3];
    net_addr_from_ipv4(&addr, v);
  } else if (a->type == RESOLVED_TYPE_IPV6 && a->len == 16) {
    net_addr_from_ipv6(&addr, a->value);
  } else if (a->type == RESOLVED_TYPE_HOSTNAME && a->len > 0 &&
             a->len < len && !memchr(a->value, 0, a->len)) {
    memcpy(buf, a->value, a->len);
    buf[a->len] = '\0';
    for (size_t i = 0; i < a->len; i++)
      if ((unsigned char)buf[i] < 0x21 || (unsigned char)buf[i] > 0x7e)
        return false;
    return true;
  } else {
    return false;
  }
  net_addr_format(&addr, buf, len);
  return true;
}

static void
rs_resolved(stream_t *rs, const resolved_t *answers, void *arg)
{
  app_stream_t *st = arg;
  (void)rs;
  st->rs = NULL; /* gone when this returns */
  const resolved_answer_t *pick = NULL;
  bool transient = false;
  for (size_t i = 0; i < answers->n_answers; i++) {
    const resolved_answer_t *a = &answers->answers[i];
    if (a->type == RESOLVED_TYPE_ERROR_TRANSIENT)
      transient = true;
    if (st->kind == APP_STREAM_RESOLVE_PTR) {
      if (a->type == RESOLVED_TYPE_HOSTNAME && !pick)
        pick = a;
    } else if (a->type == RESOLVED_TYPE_IPV4 && a->len == 4) {
      if (!pick || pick->type != RESOLVED_TYPE_IPV4)
        pick = a;
    } else if (a->type == RESOLVED_TYPE_IPV6 && a->len == 16 && !pick) {
      pick = a;
    }
  }
  char text[SOCKS_MAX_HOSTNAME_LEN + 1];
  if (!pick || !answer_text(pick, text, sizeof(text))) {
    if (transient && st->attempts < STREAM_MAX_ATTEMPTS) {
      retry_or_fail(st, END_REASON_RESOLVEFAILED, true);
      return;
    }
    fail_request(st, END_REASON_RESOLVEFAILED, true, APP_REQ_FAILED);
    return;
  }
  chive_client_t *c = st->sm->c;
  if (cev_wanted(&c->events, CEV_ADDRMAP)) {
    char body[2 * SOCKS_MAX_HOSTNAME_LEN + 128];
    (void)snprintf(body, sizeof(body),
                   "%s %s NEVER CACHED=\"NO\" STREAMID=%" PRIu64,
                   st->orig_host, text, st->id);
    cev_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = CEV_ADDRMAP;
    ev.text = body;
    cev_emit(&c->events, &ev);
  }
  if (st->socks) {
    socks_answer_t ans;
    memset(&ans, 0, sizeof(ans));
    if (pick->type == RESOLVED_TYPE_IPV4) {
      ans.type = SOCKS_ANSWER_IPV4;
      memcpy(ans.addr, pick->value, 4);
    } else if (pick->type == RESOLVED_TYPE_IPV6) {
      ans.type = SOCKS_ANSWER_IPV6;
      memcpy(ans.addr, pick->value, 16);
    } else {
      ans.type = SOCKS_ANSWER_HOSTNAME;
      ans.host = text;
      ans.host_len = strlen(text);
    }
    if (socks_reply_resolved(st->socks, &ans) == CHIVE_OK)
      socks_flush(st);
  }
  log_info(c->log, LD_APP, "Stream %" PRIu64 ": resolved.", st->id);
  emit(st, CEV_STREAM_SUCCEEDED, 0, true);
  count_result(st, APP_REQ_SUCCEEDED);
  as_flush_and_close(st);
}

static void
rs_writable(stream_t *rs, void *arg)
{
  app_stream_t *st = arg;
  (void)rs;
  pump_to_tor(st);
}

static const stream_owner_t rs_owner = {
    rs_connected, rs_data, rs_end, rs_resolved, NULL, rs_writable,
};

/* ---- attaching ---------------------------------------------------------- */

static bool
circ_not_excluded(ocirc_t *oc, void *arg)
{
  const app_stream_t *st = arg;
  uint32_t id = ocirc_id(oc);
  for (size_t i = 0; i < st->n_excluded; i++)
    if (st->excluded[i] == id)
      return false;
  return true;
}

/** Build the reverse-lookup name for an address literal (tor-spec §6.4:
 * "in-addr.arpa" / "ip6.arpa"). */
static bool
reverse_name(const char *host, char *out, size_t len)
{
  net_addr_t a;
  if (net_addr_parse(host, strlen(host), &a) != CHIVE_OK)
    return false;
  if (a.family == NET_AF_INET) {
    return snprintf(out, len, "%u.%u.%u.%u.in-addr.arpa", a.ip[3], a.ip[2],
                    a.ip[1], a.ip[0]) < (int)len;
  }
  static const char hex[] = "0123456789abcdef";
  size_t o = 0;
  if (len < 16 * 4 + sizeof("ip6.arpa"))
    return false;
  for (int i = 15; i >= 0; i--) {
    out[o++] = hex[a.ip[i] & 0xf];
    out[o++] = '.';
    out[o++] = hex[a.ip[i] >> 4];
    out[o++] = '.';
  }
  memcpy(out + o, "ip6.arpa", sizeof("ip6.arpa"));
  return true;
}

/** Open the request's stream on <b>oc</b>.  False if that failed (the
 * circuit is then excluded). */
static bool
open_on(app_stream_t *st, ocirc_t *oc, void *pool_handle)
{
  streams_t *sm = st->sm;
  circuit_t *circ = ocirc_circuit(oc);
  chive_err_t e = CHIVE_ERR_CLOSED;
  stream_t *rs = NULL;
  st->oc = oc;
  st->pool_handle = pool_handle;
  st->attempts++;
  if (circ && circuit_state(circ) == CIRCUIT_STATE_OPEN) {
    if (st->kind == APP_STREAM_CONNECT) {
      e = stream_open(circ, st->host, st->port, st->begin_flags,
                      STREAM_OPEN_OPTIMISTIC, &rs_owner, st, now_us(sm), &rs);
    } else {
      char name[SOCKS_MAX_HOSTNAME_LEN + 1];
      const char *q = st->host;
      if (st->kind == APP_STREAM_RESOLVE_PTR) {
        if (!reverse_name(st->host, name, sizeof(name)))
          e = CHIVE_ERR_INVAL;
        q = name;
      }
      if (e != CHIVE_ERR_INVAL)
        e = stream_resolve(circ, q, &rs_owner, st, now_us(sm), &rs);
    }
  }
  if (e != CHIVE_OK) {
    log_info(sm->c->log, LD_APP,
             "Stream %" PRIu64 ": cannot open on circuit %" PRIu32 ": %s",
             st->id, ocirc_id(oc), chive_err_str(e));
    if (st->n_excluded < STREAM_MAX_EXCLUDED)
      st->excluded[st->n_excluded++] = ocirc_id(oc);
    st->oc = NULL;
    if (pool_handle)
      pool_stream_detached(sm->c, pool_handle);
    st->pool_handle = NULL;
    return false;
  }
  st->rs = rs;
  st->state = AS_CONNECTING;
  st->deadline_ms = now_ms(sm) + (st->attempts <= 1
                                      ? STREAM_BEGIN_TIMEOUT_FIRST_MS
                                      : STREAM_BEGIN_TIMEOUT_LATER_MS);
  emit(st, st->kind == APP_STREAM_CONNECT ? CEV_STREAM_SENTCONNECT
                                           : CEV_STREAM_SENTRESOLVE,
       0, false);
  /* Optimistic data (tor-spec §6.2): bytes the application already sent
   * go right after the BEGIN. */
  if (st->kind == APP_STREAM_CONNECT)
    pump_to_tor(st);
  return true;
}

/** Attach to a usable circuit now, or wait for one. */
static void
attach_or_wait(app_stream_t *st)
{
  streams_t *sm = st->sm;
  chive_client_t *c = sm->c;
  if (st->state == AS_DEAD || st->state == AS_FLUSHING)
    return;
  if (st->attempts >= STREAM_MAX_ATTEMPTS) {
    fail_request(st, END_REASON_TIMEOUT, false, APP_REQ_FAILED);
    return;
  }
  uint16_t port = st->kind == APP_STREAM_CONNECT ? st->port : 0;
  while (c->boot_phase >= BOOT_DONE) {
    void *handle = NULL;
    ocirc_t *oc = pool_get_for_stream(c, port, st->iso, sizeof(st->iso),
                                      circ_not_excluded, st, &handle);
    if (!oc)
      break;
    if (open_on(st, oc, handle))
      return;
    if (st->attempts >= STREAM_MAX_ATTEMPTS) {
      fail_request(st, END_REASON_MISC, false, APP_REQ_FAILED);
      return;
    }
  }
  if (st->state != AS_WAIT_CIRC) {
    st->state = AS_WAIT_CIRC;
    st->deadline_ms = now_ms(sm) + sm->circ_timeout_ms;
  }
  (void)pool_launch_for_stream(c, port, st->iso, sizeof(st->iso));
}

/* ---- requests ------------------------------------------------------------ */

/** Compute the isolation key (tor's stream isolation rules: session
 * group, client address, protocol, credentials, destination). */
static void
compute_iso(app_stream_t *st, const uint8_t *user, size_t user_len,
            const uint8_t *pass, size_t pass_len, bool has_auth)
{
  uint8_t buf[4 + 1 + NET_ADDRPORT_STR_LEN + 1 + 2 * 260 + 260 + 8];
  size_t n = 0;
  unsigned iso = st->from_listener ? st->lconf.iso : PORTCONF_ISO_DEFAULT;
  uint32_t group = st->from_listener ? st->lgroup : 0;
#define PUT(p, l)                         \
  do {                                    \
    if (n + (l) <= sizeof(buf)) {         \
      memcpy(buf + n, (p), (l));          \
      n += (l);                           \
    }                                     \
  } while (0)
#define PUT8(v)                \
  do {                         \
    uint8_t b_ = (uint8_t)(v); \
    PUT(&b_, 1);               \
  } while (0)
  PUT8(group >> 24);
  PUT8(group >> 16);
  PUT8(group >> 8);
  PUT8(group);
  if (iso & PORTCONF_ISO_CLIENT_ADDR) {
    /* The address without the port. */
    const char *src = st->source;
    const char *colon = strrchr(src, ':');
    size_t l = colon ? (size_t)(colon - src) : strlen(src);
    PUT8('A');
    PUT8(l);
    PUT(src, l);
  }
  if (iso & PORTCONF_ISO_CLIENT_PROTO) {
    PUT8('P');
    PUT8(st->origin == APP_STREAM_FROM_SOCKS ? st->socks_version : 'H');
  }
  if ((iso & PORTCONF_ISO_SOCKS_AUTH) && has_auth) {
    PUT8('U');
    PUT8(user_len);
    PUT(user, user_len);
    PUT8(pass_len);
    PUT(pass, pass_len);
  }
  if (iso & PORTCONF_ISO_DEST_ADDR) {
    PUT8('D');
    PUT8(strlen(st->host));
    PUT(st->host, strlen(st->host));
  }
  if (iso & PORTCONF_ISO_DEST_PORT) {
    PUT8('p');
    PUT8(st->port >> 8);
    PUT8(st->port);
  }
#undef PUT8
#undef PUT
  crypto_sha256(buf, n, st->iso);
  chive_memwipe(buf, sizeof(buf));
}

/** Apply MAPADDRESS to st->host. */
static void
apply_maps(app_stream_t *st)
{
  streams_t *sm = st->sm;
  for (size_t i = 0; i < sm->n_maps; i++) {
    if (!strcasecmp(sm->maps[i].from, st->host)) {
      size_t l = strlen(sm->maps[i].to);
      memcpy(st->host, sm->maps[i].to, l + 1);
      emit(st, CEV_STREAM_REMAP, 0, false);
      return;
    }
  }
}

/** Common checks and dispatch for a parsed request.  Returns false if the
 * request was refused (the reply is queued and the stream closing). */
static void
start_request(app_stream_t *st)
{
  streams_t *sm = st->sm;
  chive_client_t *c = sm->c;
  memcpy(st->orig_host, st->host, sizeof(st->orig_host));
  apply_maps(st);
  emit(st, st->kind == APP_STREAM_CONNECT ? CEV_STREAM_NEW
                                           : CEV_STREAM_NEWRESOLVE,
       0, false);
  if (has_suffix(st->host, ".onion")) {
    uint64_t sup;
    if (ratelim_allow(&sm->rl_onion, now_ms(sm), &sup))
      log_notice(c->log, LD_APP,
                 "Refusing a request for a .onion address: onion services "
                 "are not supported by this version of chive yet.");
    count_result(st, APP_REQ_UNSUPPORTED);
    emit(st, CEV_STREAM_FAILED, END_REASON_NOROUTE, false);
    reply_error(st, SOCKS5_REP_HOST_UNREACHABLE,
                "HTTP/1.0 501 Onion services are not supported by this "
                "version of chive yet\r\n\r\n");
    return;
  }
  if (has_suffix(st->host, ".exit")) {
    log_info(c->log, LD_APP, "Refusing a .exit address (address-spec §3).");
    count_result(st, APP_REQ_UNSUPPORTED);
    emit(st, CEV_STREAM_FAILED, END_REASON_MISC, false);
    reply_error(st, SOCKS5_REP_NOT_ALLOWED,
                "HTTP/1.0 403 .exit addresses are not allowed\r\n\r\n");
    return;
  }
  if (has_suffix(st->host, ".noconnect")) {
    /* address-spec §4: close without connecting. */
    count_result(st, APP_REQ_UNSUPPORTED);
    emit(st, CEV_STREAM_CLOSED, END_REASON_DONE, false);
    as_kill(st);
    return;
  }
  if (st->kind == APP_STREAM_CONNECT) {
    bool reject_internal =
        config_is_set(c->cfg, OPT_CLIENT_REJECT_INTERNAL_ADDRESSES)
            ? config_get_bool(c->cfg, OPT_CLIENT_REJECT_INTERNAL_ADDRESSES)
            : !c->testing_network;
    net_addr_t a;
    bool literal = net_addr_parse(st->host, strlen(st->host), &a) == CHIVE_OK;
    if (reject_internal &&
        (host_is_local_name(st->host) || (literal && net_addr_is_internal(&a)))) {
      log_info(c->log, LD_APP,
               "Refusing a connection to an internal address "
               "(ClientRejectInternalAddresses).");
      count_result(st, APP_REQ_UNSUPPORTED);
      emit(st, CEV_STREAM_FAILED, END_REASON_EXITPOLICY, false);
      reply_error(st, SOCKS5_REP_NOT_ALLOWED,
                  "HTTP/1.0 403 Internal addresses are refused\r\n\r\n");
      return;
    }
    if (st->port == 0) {
      count_result(st, APP_REQ_BAD_REQUEST);
      emit(st, CEV_STREAM_FAILED, END_REASON_MISC, false);
      reply_error(st, SOCKS5_REP_GENERAL_FAILURE, NULL);
      return;
    }
    unsigned fl = st->from_listener ? st->lconf.flags : 0;
    st->begin_flags = 0;
    if (fl & (PORTCONF_F_IPV6 | PORTCONF_F_PREFER_IPV6))
      st->begin_flags |= BEGIN_FLAG_IPV6_OK;
    if (fl & PORTCONF_F_NO_IPV4)
      st->begin_flags |= BEGIN_FLAG_IPV4_NOT_OK;
    if (fl & PORTCONF_F_PREFER_IPV6)
      st->begin_flags |= BEGIN_FLAG_IPV6_PREFERRED;
  }
  log_info(c->log, LD_APP, "Stream %" PRIu64 ": new %s request.", st->id,
           st->kind == APP_STREAM_CONNECT ? "connect" : "resolve");
  if (st->bev)
    bufferevent_disable(st->bev, EV_READ); /* until CONNECTED */
  if (sm->leave_unattached && st->origin != APP_STREAM_FROM_CONTROL) {
    st->state = AS_UNATTACHED;
    st->deadline_ms = now_ms(sm) + sm->circ_timeout_ms;
    return;
  }
  attach_or_wait(st);
}

/** The SOCKS engine finished a request. */
static void
socks_request_ready(app_stream_t *st)
{
  const socks_request_t *req = socks_request(st->socks);
  st->socks_version = req->version;
  st->port = req->port;
  if (req->addr_type == SOCKS_ADDR_HOSTNAME) {
    memcpy(st->host, req->host, req->host_len + 1);
  } else {
    net_addr_t a;
    if (req->addr_type == SOCKS_ADDR_IPV4) {
      uint32_t v = ((uint32_t)req->addr[0] << 24) |
                   ((uint32_t)req->addr[1] << 16) |
                   ((uint32_t)req->addr[2] << 8) | req->addr[3];
      net_addr_from_ipv4(&a, v);
    } else {
      net_addr_from_ipv6(&a, req->addr);
    }
    net_addr_format(&a, st->host, sizeof(st->host));
  }
  switch (req->command) {
  case SOCKS_CMD_RESOLVE:
    st->kind = APP_STREAM_RESOLVE;
    break;
  case SOCKS_CMD_RESOLVE_PTR:
    st->kind = APP_STREAM_RESOLVE_PTR;
    break;
  default:
    st->kind = APP_STREAM_CONNECT;
    break;
  }
  bool has_auth = req->auth != SOCKS_AUTH_NONE;
  compute_iso(st, req->username, req->username_len, req->password,
              req->password_len, has_auth);
  start_request(st);
}

/** Read the SOCKS handshake. */
static void
socks_handshake(app_stream_t *st)
{
  streams_t *sm = st->sm;
  struct evbuffer *in = bufferevent_get_input(st->bev);
  for (;;) {
    size_t have = evbuffer_get_length(in);
    if (have == 0)
      return;
    size_t take = have < SOCKS_MAX_MESSAGE_LEN ? have : SOCKS_MAX_MESSAGE_LEN;
    const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)take);
    if (!p) {
      as_kill(st);
      return;
    }
    size_t used = 0;
    chive_err_t e = socks_feed(st->socks, p, take, &used);
    evbuffer_drain(in, used);
    socks_flush(st);
    if (e == CHIVE_OK) {
      socks_request_ready(st);
      return;
    }
    if (e == CHIVE_ERR_TRUNCATED) {
      if (used == 0)
        return; /* need more bytes */
      continue;
    }
    /* Refused: the engine queued the reply the protocol allows. */
    socks_fail_t why = socks_failure(st->socks);
    log_info(sm->c->log, LD_APP,
             "SOCKS request from %s refused: %s", st->source,
             socks_fail_name(why));
    count_result(st, why == SOCKS_FAIL_BAD_COMMAND ||
                             why == SOCKS_FAIL_BAD_ATYPE ||
                             why == SOCKS_FAIL_NO_METHOD
                         ? APP_REQ_UNSUPPORTED
                         : APP_REQ_BAD_REQUEST);
    as_flush_and_close(st);
    return;
  }
}

/** Read the HTTP CONNECT request head. */
static void
http_handshake(app_stream_t *st)
{
  streams_t *sm = st->sm;
  struct evbuffer *in = bufferevent_get_input(st->bev);
  size_t have = evbuffer_get_length(in);
  size_t take = have < HTTPCONNECT_MAX_HEAD_LEN ? have
                                                : HTTPCONNECT_MAX_HEAD_LEN;
  const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)take);
  if (!p) {
    as_kill(st);
    return;
  }
  httpconnect_req_t *req = chive_zalloc(sizeof(*req));
  if (!req) {
    as_kill(st);
    return;
  }
  size_t used = 0;
  httpconnect_fail_t fail = HTTPCONNECT_FAIL_NONE;
  chive_err_t e = httpconnect_parse(p, take, req, &used, &fail);
  if (e == CHIVE_ERR_TRUNCATED && have < HTTPCONNECT_MAX_HEAD_LEN) {
    chive_free(req);
    return;
  }
  if (e != CHIVE_OK) {
    if (e == CHIVE_ERR_TRUNCATED)
      fail = HTTPCONNECT_FAIL_HEAD_TOO_LONG;
    log_info(sm->c->log, LD_APP, "HTTP CONNECT request from %s refused.",
             st->source);
    count_result(st, fail == HTTPCONNECT_FAIL_METHOD ? APP_REQ_UNSUPPORTED
                                                     : APP_REQ_BAD_REQUEST);
    const char *r = httpconnect_reply_for_fail(fail);
    app_send(st, r, strlen(r));
    httpconnect_req_clear(req);
    chive_free(req);
    as_flush_and_close(st);
    return;
  }
  evbuffer_drain(in, used);
  memcpy(st->host, req->host, req->host_len + 1);
  st->port = req->port;
  st->kind = APP_STREAM_CONNECT;
  /* tor(1) IsolateSOCKSAuth for HTTPTunnelPort: Proxy-Authorization and
   * the stream-isolation header. */
  bool has_auth = req->has_proxy_auth || req->has_isolation;
  compute_iso(st, (const uint8_t *)req->proxy_auth, req->proxy_auth_len,
              (const uint8_t *)req->isolation, req->isolation_len, has_auth);
  httpconnect_req_clear(req);
  chive_free(req);
  start_request(st);
}

/* ---- application socket callbacks --------------------------------------- */

static void
app_read_cb(struct bufferevent *bev, void *arg)
{
  app_stream_t *st = arg;
  (void)bev;
  switch (st->state) {
  case AS_HANDSHAKE:
    if (st->origin == APP_STREAM_FROM_SOCKS)
      socks_handshake(st);
    else
      http_handshake(st);
    break;
  case AS_OPEN:
  case AS_CONNECTING:
    pump_to_tor(st);
    break;
  default:
    break;
  }
}

static void
app_write_cb(struct bufferevent *bev, void *arg)
{
  app_stream_t *st = arg;
  size_t pending = evbuffer_get_length(bufferevent_get_output(bev));
  if (st->state == AS_FLUSHING) {
    if (pending == 0)
      as_kill(st);
    return;
  }
  if (st->recv_blocked && pending <= APP_OUT_LOW && st->rs) {
    st->recv_blocked = false;
    stream_set_recv_blocked(st->rs, false, now_us(st->sm));
  }
}

static void
app_event_cb(struct bufferevent *bev, short what, void *arg)
{
  app_stream_t *st = arg;
  (void)bev;
  if (what & BEV_EVENT_ERROR)
    st->app_gone = true;
  if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
    return;
  st->app_eof = true;
  if (st->state == AS_OPEN && st->rs) {
    circuit_t *circ = stream_circuit(st->rs);
    size_t hop = stream_hop(st->rs);
    log_info(st->sm->c->log, LD_APP,
             "Stream %" PRIu64 ": the application closed; %" PRIu64
             " bytes sent, %" PRIu64 " received, %zu waiting; stream "
             "windows %d/%d, circuit windows %d/%d%s.",
             st->id, st->bytes_written, st->bytes_read,
             evbuffer_get_length(bufferevent_get_input(st->bev)),
             (int)stream_package_window(st->rs),
             (int)stream_deliver_window(st->rs),
             (int)circuit_package_window(circ, hop),
             (int)circuit_deliver_window(circ, hop),
             stream_can_write(st->rs) ? "" : ", cannot write");
  }
  switch (st->state) {
  case AS_OPEN:
    if (st->app_gone) {
      emit(st, CEV_STREAM_CLOSED, END_REASON_DONE, false);
      as_kill(st);
    } else {
      pump_to_tor(st); /* closes once the input is sent */
    }
    break;
  case AS_FLUSHING:
    as_kill(st);
    break;
  default:
    /* Gone before the request completed or was answered. */
    if (st->state != AS_HANDSHAKE)
      emit(st, CEV_STREAM_CLOSED, END_REASON_DONE, false);
    count_result(st, APP_REQ_CLIENT_GONE);
    as_kill(st);
    break;
  }
}

/** Create a stream record. */
static app_stream_t *
as_new(streams_t *sm, app_stream_origin_t origin)
{
  app_stream_t *st = chive_zalloc(sizeof(*st));
  if (!st)
    return NULL;
  st->sm = sm;
  st->id = sm->next_id++;
  st->origin = origin;
  st->started_ms = now_ms(sm);
  reaper_entry_init(&st->reap);
  chive_list_add_tail(&sm->all, &st->link);
  sm->n_streams++;
  return st;
}

static void
accept_cb(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa,
          int salen, void *arg)
{
  listener_t *lst = arg;
  streams_t *sm = lst->sm;
  chive_client_t *c = sm->c;
  (void)l;
  if (sm->n_streams >= STREAMS_MAX_CONNS || c->stopped) {
    uint64_t sup;
    if (ratelim_allow(&sm->rl_refuse, now_ms(sm), &sup))
      log_warn(c->log, LD_APP,
               "Refusing a connection on %s: %zu connections open (limit).",
               lst->addr, sm->n_streams);
    evutil_closesocket(fd);
    return;
  }
  app_stream_t *st = as_new(sm, lst->origin);
  if (!st) {
    evutil_closesocket(fd);
    return;
  }
  st->from_listener = true;
  st->lconf = lst->conf;
  st->lgroup = lst->group;
  net_addrport_t peer;
  memset(&peer, 0, sizeof(peer));
  if (net_addrport_from_sockaddr(sa, (size_t)salen, &peer) == CHIVE_OK)
    net_addrport_format(&peer, st->source, sizeof(st->source));
  if (lst->origin == APP_STREAM_FROM_SOCKS) {
    st->socks = chive_malloc(sizeof(*st->socks));
    if (st->socks)
      socks_init(st->socks);
  }
  st->bev = bufferevent_socket_new(c->base, fd, BEV_OPT_CLOSE_ON_FREE);
  if (!st->bev || (lst->origin == APP_STREAM_FROM_SOCKS && !st->socks)) {
    if (!st->bev)
      evutil_closesocket(fd);
    as_kill(st);
    return;
  }
  st->state = AS_HANDSHAKE;
  st->deadline_ms = now_ms(sm) + STREAM_HANDSHAKE_TIMEOUT_MS;
  bufferevent_setcb(st->bev, app_read_cb, app_write_cb, app_event_cb, st);
  bufferevent_setwatermark(st->bev, EV_READ, 0, APP_IN_HIGH);
  bufferevent_setwatermark(st->bev, EV_WRITE, APP_OUT_LOW, 0);
  bufferevent_enable(st->bev, EV_READ | EV_WRITE);
}

/* ---- the tick ------------------------------------------------------------ */

static void
streams_tick(evloop_timer_t *t, void *arg)
{
  streams_t *sm = arg;
  chive_client_t *c = sm->c;
  uint64_t now = now_ms(sm);
  bool bw = cev_wanted(&c->events, CEV_STREAM_BW);
  (void)t;
  chive_list_t *pos, *next;
  for (pos = sm->all.next; pos != &sm->all; pos = next) {
    next = pos->next;
    app_stream_t *st = CHIVE_CONTAINER_OF(pos, app_stream_t, link);
    if (bw && st->state != AS_DEAD)
      emit_bw(st);
    if (st->state == AS_WAIT_CIRC && st->deadline_ms > now)
      attach_or_wait(st);
    if (st->state == AS_DEAD || !st->deadline_ms || now < st->deadline_ms)
      continue;
    switch (st->state) {
    case AS_HANDSHAKE:
      log_info(c->log, LD_APP,
               "Closing a connection from %s: no complete request in %d s.",
               st->source, STREAM_HANDSHAKE_TIMEOUT_MS / 1000);
      count_result(st, APP_REQ_TIMEOUT);
      as_kill(st);
      break;
    case AS_UNATTACHED:
    case AS_WAIT_CIRC:
      log_notice(c->log, LD_APP,
                 "Stream %" PRIu64 ": no circuit to %s:%u within %d s; "
                 "giving up.",
                 st->id, safe_dest(st), (unsigned)st->port,
                 (int)(sm->circ_timeout_ms / 1000));
      fail_request(st, END_REASON_TIMEOUT, false, APP_REQ_TIMEOUT);
      break;
    case AS_CONNECTING:
      /* No answer from the exit in time: retire the circuit for new
       * streams and try another (tor's connection_ap_expire_beginning). */
      log_info(c->log, LD_APP,
               "Stream %" PRIu64 ": no answer on circuit %" PRIu32
               "; retrying.",
               st->id, st->oc ? ocirc_id(st->oc) : 0u);
      if (st->oc)
        pool_retire_circ(c, st->oc);
      retry_or_fail(st, END_REASON_TIMEOUT, false);
      break;
    case AS_FLUSHING:
      as_kill(st);
      break;
    default:
      break;
    }
  }
}

void
streams_circuit_opened(chive_client_t *c)
{
  streams_t *sm = c->streams;
  if (!sm)
    return;
  chive_list_t *pos, *next;
  for (pos = sm->all.next; pos != &sm->all; pos = next) {
    next = pos->next;
    app_stream_t *st = CHIVE_CONTAINER_OF(pos, app_stream_t, link);
    if (st->state == AS_WAIT_CIRC)
      attach_or_wait(st);
  }
}

/* ---- listeners ------------------------------------------------------------- */

/** Open a listener for <b>line</b> in a free slot. */
static chive_err_t
open_listener(streams_t *sm, app_stream_origin_t origin, const char *line)
{
  chive_client_t *c = sm->c;
  portconf_t pc;
  const char *why = "";
  const char *what = origin == APP_STREAM_FROM_SOCKS ? "Socks" : "HTTP tunnel";
  if (portconf_parse(line, strlen(line), &pc, &why) != CHIVE_OK) {
    log_warn(c->log, LD_CONFIG, "Bad %s port line '%s': %s", what, line, why);
    return CHIVE_ERR_INVAL;
  }
  if (pc.disabled)
    return CHIVE_OK;
  size_t slot;
  for (slot = 0; slot < STREAMS_MAX_LISTENERS; slot++)
    if (!sm->lst[slot].l)
      break;
  if (slot == STREAMS_MAX_LISTENERS) {
    log_warn(c->log, LD_CONFIG, "Too many listeners (at most %d).",
             STREAMS_MAX_LISTENERS);
    return CHIVE_ERR_LIMIT;
  }
  if (!net_addr_is_loopback(&pc.addr.addr))
    log_warn(c->log, LD_CONFIG,
             "%s port on %s is not a loopback address: anyone who can reach "
             "it can use chive as a proxy.",
             what, line);
  listener_t *lst = &sm->lst[slot];
  memset(lst, 0, sizeof(*lst));
  int fd = NET_SOCKET_INVALID;
  net_addrport_t bound;
  /* A deep backlog: bursts of hundreds of connections are normal for a
   * proxy (tor's is the system maximum). */
  chive_err_t e = net_listen(&pc.addr, STREAMS_LISTEN_BACKLOG, &fd, &bound);
  if (e != CHIVE_OK) {
    char a[NET_ADDRPORT_STR_LEN];
    log_warn(c->log, LD_NET, "Could not bind to %s: %s (is another Tor "
             "client running?)",
             net_addrport_format(&pc.addr, a, sizeof(a)), chive_err_str(e));
    return e;
  }
  lst->sm = sm;
  lst->origin = origin;
  lst->conf = pc;
  lst->keep = true;
  memcpy(lst->line, line, strlen(line) + 1);
  lst->group = pc.session_group >= 0 ? (uint32_t)pc.session_group
                                     : 0x80000000u + sm->next_group++;
  net_addrport_format(&bound, lst->addr, sizeof(lst->addr));
  lst->l = evconnlistener_new(c->base, accept_cb, lst, LEV_OPT_CLOSE_ON_FREE,
                              0, fd);
  if (!lst->l) {
    net_close(fd);
    return CHIVE_ERR_NOMEM;
  }
  if (slot >= sm->n_lst)
    sm->n_lst = slot + 1;
  log_notice(c->log, LD_NET, "Opened %s listener connection (ready) on %s",
             what, lst->addr);
  return CHIVE_OK;
}

static void
close_listener(listener_t *lst)
{
  if (lst->l) {
    log_notice(lst->sm->c->log, LD_NET, "Closing %s listener on %s",
               lst->origin == APP_STREAM_FROM_SOCKS ? "Socks" : "HTTP tunnel",
               lst->addr);
    evconnlistener_free(lst->l);
    lst->l = NULL;
  }
}

static void
close_listeners(streams_t *sm)
{
  for (size_t i = 0; i < sm->n_lst; i++)
    close_listener(&sm->lst[i]);
}

/** The listener lines of <b>origin</b> in <b>cfg</b>: the i-th, or NULL. */
static const char *
cfg_listener_line(const chive_config_t *cfg, app_stream_origin_t origin,
                  size_t i)
{
  config_opt_t opt = origin == APP_STREAM_FROM_SOCKS ? OPT_SOCKS_PORT
                                                     : OPT_HTTP_TUNNEL_PORT;
  size_t n = config_n_values(cfg, opt);
  if (n == 0)
    return i == 0 ? config_get_str(cfg, opt) : NULL;
  return i < n ? config_value(cfg, opt, i) : NULL;
}

/** Open every configured listener not open yet, close the others
 * (existing connections are not touched). */
static chive_err_t
sync_listeners(streams_t *sm, const chive_config_t *cfg)
{
  static const app_stream_origin_t origins[] = {
      APP_STREAM_FROM_SOCKS, APP_STREAM_FROM_HTTP_CONNECT};
  for (size_t k = 0; k < sm->n_lst; k++)
    sm->lst[k].keep = false;
  chive_err_t e = CHIVE_OK;
  for (size_t o = 0; o < CHIVE_ARRAY_LEN(origins); o++) {
    const char *line;
    for (size_t i = 0; (line = cfg_listener_line(cfg, origins[o], i)); i++) {
      size_t k;
      for (k = 0; k < sm->n_lst; k++)
        if (sm->lst[k].l && !sm->lst[k].keep &&
            sm->lst[k].origin == origins[o] && !strcmp(sm->lst[k].line, line))
          break;
      if (k < sm->n_lst) {
        sm->lst[k].keep = true;
        continue;
      }
      /* New line: close a listener on the same address first (changed
       * flags), so the port can be bound again. */
      portconf_t pc;
      const char *why;
      if (portconf_parse(line, strlen(line), &pc, &why) == CHIVE_OK &&
          !pc.disabled && !pc.auto_port) {
        for (k = 0; k < sm->n_lst; k++)
          if (sm->lst[k].l && !sm->lst[k].keep &&
              net_addrport_eq(&sm->lst[k].conf.addr, &pc.addr))
            close_listener(&sm->lst[k]);
      }
      chive_err_t e2 = open_listener(sm, origins[o], line);
      if (e2 != CHIVE_OK && e == CHIVE_OK)
        e = e2;
    }
  }
  for (size_t k = 0; k < sm->n_lst; k++)
    if (!sm->lst[k].keep)
      close_listener(&sm->lst[k]);
  return e;
}

chive_err_t
streams_reconfigure(chive_client_t *c, const chive_config_t *cfg)
{
  streams_t *sm = c->streams;
  if (!sm)
    return CHIVE_OK;
  sm->circ_timeout_ms =
      (uint64_t)config_get_interval_s(cfg, OPT_SOCKS_TIMEOUT) * 1000;
  return sync_listeners(sm, cfg);
}

chive_err_t
streams_start(chive_client_t *c)
{
  streams_t *sm = chive_zalloc(sizeof(*sm));
  if (!sm)
    return CHIVE_ERR_NOMEM;
  sm->c = c;
  sm->next_id = 1;
  sm->circ_timeout_ms =
      (uint64_t)config_get_interval_s(c->cfg, OPT_SOCKS_TIMEOUT) * 1000;
  chive_list_init(&sm->all);
  sm->rl_refuse = (ratelim_t)RATELIM_INIT(60 * 1000);
  sm->rl_onion = (ratelim_t)RATELIM_INIT(60 * 1000);
  c->streams = sm;
  chive_err_t e = reaper_new(c->loop, &sm->reaper);
  if (e == CHIVE_OK)
    e = evloop_timer_new(c->loop, streams_tick, sm, &sm->tick);
  if (e == CHIVE_OK)
    e = evloop_timer_schedule_periodic(sm->tick, STREAMS_TICK_MS);
  if (e == CHIVE_OK)
    e = sync_listeners(sm, c->cfg);
  if (e != CHIVE_OK)
    streams_stop(c);
  return e;
}

void
streams_stop(chive_client_t *c)
{
  streams_t *sm = c->streams;
  if (!sm)
    return;
  close_listeners(sm);
  evloop_timer_free(sm->tick);
  while (!chive_list_empty(&sm->all)) {
    app_stream_t *st = CHIVE_CONTAINER_OF(chive_list_first(&sm->all),
                                          app_stream_t, link);
    if (st->state != AS_DEAD) {
      as_detach(st, END_REASON_DONE);
      st->state = AS_DEAD;
    }
    reaper_unmark(&st->reap);
    as_free(st);
  }
  reaper_free(sm->reaper);
  chive_free(sm->maps);
  chive_free(sm);
  c->streams = NULL;
}

/* ---- accessors ------------------------------------------------------------ */

uint64_t
app_stream_id(const app_stream_t *st)
{
  return st->id;
}

app_stream_kind_t
app_stream_kind(const app_stream_t *st)
{
  return st->kind;
}

app_stream_origin_t
app_stream_origin(const app_stream_t *st)
{
  return st->origin;
}

const char *
app_stream_host(const app_stream_t *st)
{
  return st->host;
}

uint16_t
app_stream_port(const app_stream_t *st)
{
  return st->port;
}

const char *
app_stream_source(const app_stream_t *st)
{
  return st->source;
}

ocirc_t *
app_stream_circ(const app_stream_t *st)
{
  return st->oc;
}

int
app_stream_status(const app_stream_t *st)
{
  return st->status;
}

uint64_t
app_stream_bytes_read(const app_stream_t *st)
{
  return st->bytes_read;
}

uint64_t
app_stream_bytes_written(const app_stream_t *st)
{
  return st->bytes_written;
}

void
streams_get_stats(const chive_client_t *c, streams_stats_t *out)
{
  memset(out, 0, sizeof(*out));
  const streams_t *sm = c->streams;
  if (!sm)
    return;
  *out = sm->stats;
  out->n_open = sm->n_streams;
  out->n_listeners = sm->n_lst;
}

const char *
streams_listener_addr(const chive_client_t *c, app_stream_origin_t origin,
                      size_t i)
{
  const streams_t *sm = c->streams;
  if (!sm)
    return NULL;
  for (size_t k = 0; k < sm->n_lst; k++) {
    if (sm->lst[k].origin != origin || !sm->lst[k].l)
      continue;
    if (i-- == 0)
      return sm->lst[k].addr;
  }
  return NULL;
}

size_t
streams_count(const chive_client_t *c)
{
  streams_stats_t s;
  streams_get_stats(c, &s);
  return (size_t)s.n_open;
}

void
streams_foreach(chive_client_t *c, void (*fn)(app_stream_t *st, void *arg),
                void *arg)
{
  streams_t *sm = c->streams;
  if (!sm)
    return;
  chive_list_t *pos, *next;
  for (pos = sm->all.next; pos != &sm->all; pos = next) {
    next = pos->next;
    app_stream_t *st = CHIVE_CONTAINER_OF(pos, app_stream_t, link);
    if (st->state != AS_DEAD && st->state != AS_HANDSHAKE)
      fn(st, arg);
  }
}

app_stream_t *
streams_find(chive_client_t *c, uint64_t id)
{
  streams_t *sm = c->streams;
  if (!sm)
    return NULL;
  chive_list_t *pos;
  for (pos = sm->all.next; pos != &sm->all; pos = pos->next) {
    app_stream_t *st = CHIVE_CONTAINER_OF(pos, app_stream_t, link);
    if (st->id == id && st->state != AS_DEAD)
      return st;
  }
  return NULL;
}

/* ---- controller operations ---------------------------------------------- */

void
streams_set_leave_unattached(chive_client_t *c, bool leave)
{
  if (c->streams)
    c->streams->leave_unattached = leave;
}

chive_err_t
streams_attach(chive_client_t *c, app_stream_t *st, ocirc_t *oc, size_t hop)
{
  (void)hop; /* streams go to the last hop; tor allows choosing another */
  if (!c->streams || !st || st->state == AS_DEAD)
    return CHIVE_ERR_INVAL;
  if (st->state != AS_UNATTACHED && st->state != AS_WAIT_CIRC &&
      st->state != AS_CONNECTING)
    return CHIVE_ERR_INVAL;
  if (st->state == AS_CONNECTING) {
    /* control-spec §3.5: a stream that was already attached is detached
     * first. */
    as_detach(st, END_REASON_MISC);
    emit(st, CEV_STREAM_DETACHED, END_REASON_MISC, false);
  }
  if (!oc) {
    st->state = AS_WAIT_CIRC;
    st->deadline_ms = now_ms(c->streams) + c->streams->circ_timeout_ms;
    attach_or_wait(st);
    return CHIVE_OK;
  }
  circuit_t *circ = ocirc_circuit(oc);
  if (!circ || circuit_state(circ) != CIRCUIT_STATE_OPEN)
    return CHIVE_ERR_CLOSED;
  if (!open_on(st, oc, NULL))
    return CHIVE_ERR_CLOSED;
  return CHIVE_OK;
}

void
streams_close(chive_client_t *c, app_stream_t *st, uint8_t reason)
{
  if (!c->streams || !st || st->state == AS_DEAD)
    return;
  if (st->state == AS_OPEN || st->state == AS_FLUSHING) {
    emit(st, CEV_STREAM_CLOSED, reason, false);
    as_detach(st, reason);
    as_flush_and_close(st);
    return;
  }
  as_detach(st, reason);
  fail_request(st, reason, false, APP_REQ_FAILED);
}

void
streams_newnym(chive_client_t *c)
{
  size_t n = pool_newnym(c);
  log_notice(c->log, LD_APP,
             "NEWNYM: %zu used circuit%s will take no new streams.", n,
             n == 1 ? "" : "s");
}

chive_err_t
streams_resolve(chive_client_t *c, const char *name, bool reverse)
{
  streams_t *sm = c->streams;
  size_t len = name ? strlen(name) : 0;
  if (!sm || len == 0 || len > SOCKS_MAX_HOSTNAME_LEN)
    return CHIVE_ERR_INVAL;
  for (size_t i = 0; i < len; i++)
    if ((unsigned char)name[i] < 0x21 || (unsigned char)name[i] > 0x7e)
      return CHIVE_ERR_INVAL;
  if (reverse) {
    net_addr_t a;
    if (net_addr_parse(name, len, &a) != CHIVE_OK)
      return CHIVE_ERR_INVAL;
  }
  app_stream_t *st = as_new(sm, APP_STREAM_FROM_CONTROL);
  if (!st)
    return CHIVE_ERR_NOMEM;
  memcpy(st->host, name, len + 1);
  st->kind = reverse ? APP_STREAM_RESOLVE_PTR : APP_STREAM_RESOLVE;
  st->state = AS_WAIT_CIRC;
  compute_iso(st, NULL, 0, NULL, 0, false);
  start_request(st);
  return CHIVE_OK;
}

chive_err_t
streams_map_address(chive_client_t *c, const char *from, const char *to)
{
  streams_t *sm = c->streams;
  if (!sm || !from || !to || !from[0] || !to[0] ||
      strlen(from) > SOCKS_MAX_HOSTNAME_LEN ||
      strlen(to) > SOCKS_MAX_HOSTNAME_LEN)
    return CHIVE_ERR_INVAL;
  size_t i;
  for (i = 0; i < sm->n_maps; i++)
    if (!strcasecmp(sm->maps[i].from, from))
      break;
  if (!strcasecmp(from, to)) {
    if (i < sm->n_maps) {
      sm->maps[i] = sm->maps[sm->n_maps - 1];
      sm->n_maps--;
    }
    return CHIVE_OK;
  }
  if (i == sm->n_maps) {
    if (sm->n_maps >= STREAMS_MAX_MAPS)
      return CHIVE_ERR_LIMIT;
    if (!sm->maps) {
      sm->maps = chive_calloc(STREAMS_MAX_MAPS, sizeof(*sm->maps));
      if (!sm->maps)
        return CHIVE_ERR_NOMEM;
    }
    sm->n_maps++;
  }
  memcpy(sm->maps[i].from, from, strlen(from) + 1);
  memcpy(sm->maps[i].to, to, strlen(to) + 1);
  return CHIVE_OK;
}

void
streams_clear_dns_cache(chive_client_t *c)
{
  /* chive keeps no DNS cache (tor's clients do not cache by default
   * either); nothing automatic is mapped.  Explicit MAPADDRESS entries
   * stay, as in tor. */
  (void)c;
}
