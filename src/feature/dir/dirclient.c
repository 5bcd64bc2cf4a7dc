/**
 * @file dirclient.c
 * @brief One-hop BEGIN_DIR HTTP requests (see dirclient.h).
 *
 * Life of a request: launch a CREATE_FAST circuit to the server's ORPort
 * (circmgr) → on open, BEGIN_DIR → on CONNECTED, send the GET → collect
 * DATA into a bounded buffer → on END (the server closes after the
 * response, dir-spec §6) parse the HTTP response and decompress it →
 * report → close the circuit.  Any failure or the timeout ends it with an
 * error.  The request object is freed by the reaper after "done" ran.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "core/stream/stream.h"
#include "feature/dir/dirclient.h"
#include "lib/compress/compress.h"
#include "lib/container/list.h"
#include "lib/http/http.h"
#include "lib/malloc/malloc.h"

/** Accept-Encoding we send: tor serves these (dir-spec §6.1). */
#define DIRCLIENT_ACCEPT_ENCODING "deflate, x-zstd, identity"

struct dirclient_t {
  circmgr_t *cm;
  evloop_t *loop;
  logger_t *log;
  reaper_t *reaper;
  chive_list_t reqs;
  size_t n_reqs;
};

struct dirreq_t {
  dirclient_t *dc;
  chive_list_t link;
  reaper_entry_t reap;
  dir_server_t server;
  char request[HTTP_MAX_REQUEST_LEN];
  size_t request_len;
  size_t max_body;
  dirreq_callbacks_t cbs;
  void *arg;
  ocirc_t *oc;
  stream_t *st;
  evloop_timer_t *timer;
  uint8_t *buf;
  size_t len, cap;
  uint64_t started_ms;
  bool finished;
  bool got_data;
};

static uint64_t
now_us(const dirreq_t *r)
{
  return circmgr_now_us(r->dc->cm);
}

static void
req_reap(void *obj)
{
  dirreq_t *r = obj;
  chive_list_remove(&r->link);
  r->dc->n_reqs--;
  evloop_timer_free(r->timer);
  chive_free(r->buf);
  chive_free(r);
}

/** Close the stream and circuit without callbacks into us. */
static void
req_detach(dirreq_t *r, uint8_t destroy_reason)
{
  evloop_timer_cancel(r->timer);
  if (r->st) {
    stream_t *st = r->st;
    r->st = NULL;
    if (stream_state(st) != STREAM_STATE_CLOSED)
      stream_close(st, END_REASON_DONE, now_us(r));
  }
  if (r->oc) {
    ocirc_t *oc = r->oc;
    r->oc = NULL;
    ocirc_close(oc, destroy_reason);
  }
}

/** Report <b>res</b> (once), tear down, schedule the free. */
static void
req_finish(dirreq_t *r, dirreq_result_t *res)
{
  if (r->finished)
    return;
  r->finished = true;
  res->wire_bytes = r->len;
  res->elapsed_ms = now_us(r) / 1000 - r->started_ms;
  req_detach(r, DESTROY_REASON_FINISHED);
  if (r->cbs.done)
    r->cbs.done(r, res, r->arg);
  reaper_mark(r->dc->reaper, &r->reap, r, req_reap);
}

static void
req_fail(dirreq_t *r, chive_err_t err, const char *why)
{
  dirreq_result_t res;
  memset(&res, 0, sizeof(res));
  res.err = err;
  res.why = why;
  req_finish(r, &res);
}

static void
progress(dirreq_t *r, dirreq_stage_t s)
{
  if (r->cbs.progress && !r->finished)
    r->cbs.progress(r, s, r->arg);
}

/** The server ended the stream: parse what we have. */
static void
req_complete(dirreq_t *r)
{
  http_response_t resp;
  dirreq_result_t res;
  memset(&res, 0, sizeof(res));
  chive_err_t e = http_parse_response(r->buf, r->len, &resp);
  if (e != CHIVE_OK) {
    req_fail(r, e == CHIVE_ERR_TRUNCATED ? CHIVE_ERR_TRUNCATED
                                         : CHIVE_ERR_PROTO,
             "malformed or truncated HTTP response");
    return;
  }
  res.http_status = resp.status;
  compress_method_t m = COMPRESS_IDENTITY;
  const http_header_t *ce = http_find_header(&resp, "Content-Encoding");
  if (ce && compress_method_from_name(ce->value, ce->value_len, &m) !=
                CHIVE_OK) {
    req_fail(r, CHIVE_ERR_PROTO, "unknown Content-Encoding");
    return;
  }
  uint8_t *body = NULL;
  size_t body_len = 0;
  e = decompress_all(m, resp.body, resp.body_len, r->max_body, &body,
                     &body_len);
  if (e != CHIVE_OK) {
    req_fail(r, e, e == CHIVE_ERR_LIMIT ? "response too large"
                                        : "bad compressed response body");
    return;
  }
  res.err = CHIVE_OK;
  res.body = body;
  res.body_len = body_len;
  req_finish(r, &res);
  chive_free(body);
}

/* ---- stream owner ------------------------------------------------------ */

static void
st_connected(stream_t *st, const connected_t *info, void *arg)
{
  dirreq_t *r = arg;
  size_t n = 0;
  (void)info;
  chive_err_t e = stream_write(st, (const uint8_t *)r->request,
                               r->request_len, &n, now_us(r));
  if (e != CHIVE_OK || n != r->request_len) {
    req_fail(r, e ? e : CHIVE_ERR_LIMIT, "could not send the request");
    return;
  }
  progress(r, DIRREQ_SENT);
}

static void
st_data(stream_t *st, const uint8_t *data, size_t len, void *arg)
{
  dirreq_t *r = arg;
  (void)st;
  if (r->finished)
    return;
  if (!r->got_data) {
    r->got_data = true;
    progress(r, DIRREQ_RECEIVING);
  }
  /* The compressed response is capped like the decompressed one, plus
   * room for the HTTP headers. */
  size_t cap_max = r->max_body + HTTP_MAX_HEADERS_LEN;
  if (len > cap_max - r->len) {
    req_fail(r, CHIVE_ERR_LIMIT, "response too large");
    return;
  }
  if (r->len + len > r->cap) {
    size_t ncap = r->cap ? r->cap : 65536;
    while (ncap < r->len + len)
      ncap *= 2;
    if (ncap > cap_max)
      ncap = cap_max;
    uint8_t *nb = chive_realloc(r->buf, ncap);
    if (!nb) {
      req_fail(r, CHIVE_ERR_NOMEM, "out of memory");
      return;
    }
    r->buf = nb;
    r->cap = ncap;
  }
  memcpy(r->buf + r->len, data, len);
  r->len += len;
}

static void
st_end(stream_t *st, stream_end_source_t source, uint8_t reason,
       const end_t *end, void *arg)
{
  dirreq_t *r = arg;
  (void)st;
  (void)end;
  r->st = NULL; /* the stream is gone after this callback */
  if (r->finished)
    return;
  if (source == STREAM_END_BY_PEER &&
      (reason == END_REASON_DONE || r->len > 0)) {
    req_complete(r);
    return;
  }
  req_fail(r, CHIVE_ERR_CLOSED,
           source == STREAM_END_BY_CIRCUIT ? "circuit closed"
                                           : "stream refused or broken");
}

/* ---- circuit owner ----------------------------------------------------- */

static void
oc_opened(ocirc_t *oc, void *arg)
{
  dirreq_t *r = arg;
  stream_owner_t owner;
  memset(&owner, 0, sizeof(owner));
  owner.connected = st_connected;
  owner.data = st_data;
  owner.end = st_end;
  progress(r, DIRREQ_CIRCUIT_OPEN);
  chive_err_t e = stream_open_dir(ocirc_circuit(oc), &owner, r, now_us(r),
                                  &r->st);
  if (e != CHIVE_OK)
    req_fail(r, e, "could not open a BEGIN_DIR stream");
}

static void
oc_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  dirreq_t *r = arg;
  (void)oc;
  r->oc = NULL;
  r->st = NULL; /* streams died with the circuit */
  if (r->finished)
    return;
  log_info(r->dc->log, LD_DIR, "Directory circuit closed (%s%s)",
           destroy_reason_name(reason), remote ? ", by the relay" : "");
  req_fail(r, CHIVE_ERR_CLOSED, "directory circuit failed");
}

static void
on_timeout(evloop_timer_t *t, void *arg)
{
  (void)t;
  req_fail(arg, CHIVE_ERR_TIMEOUT, "directory request timed out");
}

/* ---- public ------------------------------------------------------------ */

chive_err_t
dirclient_new(circmgr_t *cm, evloop_t *loop, logger_t *log,
              dirclient_t **out)
{
  *out = NULL;
  dirclient_t *dc = chive_zalloc(sizeof(*dc));
  if (!dc)
    return CHIVE_ERR_NOMEM;
  dc->cm = cm;
  dc->loop = loop;
  dc->log = log;
  chive_list_init(&dc->reqs);
  chive_err_t e = reaper_new(loop, &dc->reaper);
  if (e != CHIVE_OK) {
    chive_free(dc);
    return e;
  }
  *out = dc;
  return CHIVE_OK;
}

void
dirclient_free_(dirclient_t *dc)
{
  if (!dc)
    return;
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &dc->reqs)
  {
    dirreq_t *r = CHIVE_CONTAINER_OF(pos, dirreq_t, link);
    dirreq_cancel(r);
  }
  reaper_free(dc->reaper); /* frees every marked request */
  chive_free(dc);
}

chive_err_t
dirclient_fetch(dirclient_t *dc, const dir_server_t *server,
                const char *path, size_t max_body, uint64_t timeout_ms,
                const dirreq_callbacks_t *cbs, void *arg, dirreq_t **out)
{
  if (out)
    *out = NULL;
  if (!server || !path || !cbs || !server->or_port)
    return CHIVE_ERR_INVAL;
  dirreq_t *r = chive_zalloc(sizeof(*r));
  if (!r)
    return CHIVE_ERR_NOMEM;
  r->dc = dc;
  reaper_entry_init(&r->reap);
  r->server = *server;
  r->cbs = *cbs;
  r->arg = arg;
  r->max_body = max_body && max_body < DIRCLIENT_MAX_BODY_LEN
                    ? max_body
                    : DIRCLIENT_MAX_BODY_LEN;
  r->started_ms = circmgr_now_us(dc->cm) / 1000;
  char host[NET_ADDRPORT_STR_LEN];
  (void)net_addrport_format(&server->dir_addr, host, sizeof(host));
  chive_err_t e = http_build_get(r->request, sizeof(r->request), path, host,
                                 DIRCLIENT_ACCEPT_ENCODING, &r->request_len);
  if (e == CHIVE_OK)
    e = evloop_timer_new(dc->loop, on_timeout, r, &r->timer);
  if (e == CHIVE_OK)
    e = evloop_timer_schedule(r->timer, timeout_ms ? timeout_ms
                                                   : DIRCLIENT_DEFAULT_TIMEOUT_MS);
  if (e != CHIVE_OK) {
    evloop_timer_free(r->timer);
    chive_free(r);
    return e;
  }
  channel_target_t target;
  memset(&target, 0, sizeof(target));
  target.addr.addr = server->dir_addr.addr;
  target.addr.port = server->or_port;
  memcpy(target.rsa_id, server->rsa_id, sizeof(target.rsa_id));
  ocirc_events_t ev = {oc_opened, oc_closed, NULL};
  e = circmgr_launch(dc->cm, &target, true, NULL, 0,
                     CIRCUIT_PURPOSE_DIR_ONEHOP, &ev, r, &r->oc);
  if (e != CHIVE_OK) {
    evloop_timer_free(r->timer);
    chive_free(r);
    return e;
  }
  chive_list_add_tail(&dc->reqs, &r->link);
  dc->n_reqs++;
  if (out)
    *out = r;
  return CHIVE_OK;
}

void
dirreq_cancel(dirreq_t *r)
{
  if (r->finished)
    return;
  r->finished = true;
  req_detach(r, DESTROY_REASON_REQUESTED);
  reaper_mark(r->dc->reaper, &r->reap, r, req_reap);
}

size_t
dirclient_n_requests(const dirclient_t *dc)
{
  return dc->n_reqs;
}
