/**
 * @file tls_stream.c
 * @brief TLS over a nonblocking socket on libevent (see tls_stream.h).
 *
 * Three events: read (persistent while not paused), write (only while
 * ciphertext is queued or a connect is in progress) and a "defer" event
 * that delivers errors and resumes pumping from the loop, so no callback
 * ever runs inside an API call.
 **/
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/net/socket.h"
#include "lib/tls/tls_stream.h"

typedef enum stream_state_t {
  ST_CONNECTING,  /**< TCP connect in progress */
  ST_HANDSHAKING, /**< TLS handshake in progress */
  ST_OPEN,        /**< application data flows */
  ST_CLOSED,      /**< owner closed it: silent */
  ST_DEAD,        /**< failed: error reported (or about to be) */
} stream_state_t;

/** Per-record overhead allowance used when checking output room. */
#define TLS_RECORD_OVERHEAD_LEN 64
#define TLS_RECORD_MAX_PLAINTEXT_LEN 16384

struct tls_stream_t {
  struct event_base *base;
  int fd;
  tls_conn_t *tls;
  buf_t *in;
  buf_t *out;
  struct event *ev_read;
  struct event *ev_write;
  struct event *ev_defer;
  tls_stream_callbacks_t cbs;
  void *arg;
  stream_state_t state;
  chive_err_t err;      /**< the error to report once */
  bool err_reported;
  bool read_on;         /**< ev_read is added */
  bool write_on;        /**< ev_write is added */
  bool paused;          /**< reading stopped because in is full */
  bool need_pump;       /**< defer event should pump plaintext */
  bool in_cb;           /**< inside an owner callback */
  bool free_requested;  /**< owner freed us inside a callback */
  uint64_t n_read;
  uint64_t n_written;
};

static void stream_really_free(tls_stream_t *s);

static void
set_read(tls_stream_t *s, bool on)
{
  if (on && !s->read_on)
    event_add(s->ev_read, NULL);
  else if (!on && s->read_on)
    event_del(s->ev_read);
  s->read_on = on;
}

static void
set_write(tls_stream_t *s, bool on)
{
  if (on && !s->write_on)
    event_add(s->ev_write, NULL);
  else if (!on && s->write_on)
    event_del(s->ev_write);
  s->write_on = on;
}

/** Mark the stream failed with <b>err</b>; the error is delivered from
 * the defer event. */
static void
stream_fail(tls_stream_t *s, chive_err_t err)
{
  if (s->state == ST_DEAD || s->state == ST_CLOSED)
    return;
  s->state = ST_DEAD;
  s->err = err;
  set_read(s, false);
  set_write(s, false);
  event_active(s->ev_defer, EV_TIMEOUT, 0);
}

/** Enter an owner callback.  Return false if the owner freed the stream
 * inside it (the stream is gone: touch nothing). */
static bool
cb_done(tls_stream_t *s)
{
  s->in_cb = false;
  if (s->free_requested) {
    stream_really_free(s);
    return false;
  }
  return true;
}

/** Hand queued ciphertext to the kernel. */
static void
flush_socket(tls_stream_t *s)
{
  while (buf_len(s->out) > 0) {
    size_t len = 0, n = 0;
    const uint8_t *p = buf_head(s->out, &len);
    chive_err_t err = net_write(s->fd, p, len, &n);
    if (err == CHIVE_ERR_TRUNCATED)
      break;
    if (err) {
      stream_fail(s, CHIVE_ERR_IO);
      return;
    }
    buf_drain(s->out, n);
    s->n_written += n;
  }
  if (s->state != ST_CONNECTING && s->state != ST_DEAD)
    set_write(s, buf_len(s->out) > 0);
}

/** Move ciphertext the engine produced into the output queue, then try
 * to send it. */
static void
flush_engine(tls_stream_t *s)
{
  uint8_t tmp[4096];
  while (tls_conn_wants_write(s->tls) > 0) {
    size_t n = 0;
    if (tls_conn_drain(s->tls, tmp, sizeof(tmp), &n) != CHIVE_OK || n == 0)
      break;
    chive_err_t err = buf_add(s->out, tmp, n);
    if (err) {
      stream_fail(s, err == CHIVE_ERR_LIMIT ? CHIVE_ERR_LIMIT : err);
      return;
    }
  }
  if (s->state != ST_CONNECTING)
    flush_socket(s);
}

/** Decrypt into the input queue while there is room; tell the owner. */
static void
pump_plaintext(tls_stream_t *s)
{
  uint8_t tmp[TLS_STREAM_READ_CHUNK_LEN];
  bool got = false;

  while (s->state == ST_OPEN) {
    size_t room = buf_room(s->in);
    if (room == 0) {
      s->paused = true;
      set_read(s, false);
      break;
    }
    size_t n = 0;
    chive_err_t err =
        tls_conn_recv(s->tls, tmp, room < sizeof(tmp) ? room : sizeof(tmp),
                      &n);
    if (err == CHIVE_ERR_TRUNCATED)
      break;
    if (err) {
      stream_fail(s, err);
      break;
    }
    err = buf_add(s->in, tmp, n);
    if (err) {
      stream_fail(s, err);
      break;
    }
    got = true;
  }
  chive_memwipe(tmp, sizeof(tmp));
  if (s->state == ST_OPEN || s->state == ST_DEAD)
    flush_engine(s);
  if (got && s->cbs.on_readable && s->state != ST_CLOSED) {
    s->in_cb = true;
    s->cbs.on_readable(s, s->arg);
    (void)cb_done(s);
  }
}

/** Advance the handshake and/or pump application data. */
static void
process(tls_stream_t *s)
{
  if (s->state == ST_HANDSHAKING) {
    chive_err_t err = tls_conn_connect(s->tls);
    flush_engine(s);
    if (err == CHIVE_ERR_TRUNCATED || s->state != ST_HANDSHAKING)
      return;
    if (err) {
      stream_fail(s, err);
      return;
    }
    s->state = ST_OPEN;
    if (s->cbs.on_open) {
      s->in_cb = true;
      s->cbs.on_open(s, s->arg);
      if (!cb_done(s))
        return;
    }
  }
  if (s->state == ST_OPEN)
    pump_plaintext(s);
}

static void
on_read_ready(evutil_socket_t fd, short what, void *arg)
{
  tls_stream_t *s = arg;
  uint8_t tmp[TLS_STREAM_READ_CHUNK_LEN];
  size_t n = 0;
  (void)what;

  if (s->state != ST_HANDSHAKING && s->state != ST_OPEN)
    return;
  chive_err_t err = net_read((int)fd, tmp, sizeof(tmp), &n);
  if (err == CHIVE_ERR_TRUNCATED)
    return;
  if (err) {
    stream_fail(s, err == CHIVE_ERR_CLOSED ? CHIVE_ERR_CLOSED
                                           : CHIVE_ERR_IO);
    return;
  }
  s->n_read += n;
  err = tls_conn_feed(s->tls, tmp, n);
  if (err) {
    stream_fail(s, err);
    return;
  }
  process(s);
}

static void
on_write_ready(evutil_socket_t fd, short what, void *arg)
{
  tls_stream_t *s = arg;
  (void)what;
  if (s->state == ST_CONNECTING) {
    chive_err_t err = net_connect_finish((int)fd, NULL);
    if (err == CHIVE_ERR_TRUNCATED)
      return;
    if (err) {
      stream_fail(s, CHIVE_ERR_IO);
      return;
    }
    s->state = ST_HANDSHAKING;
    set_write(s, false);
    set_read(s, true);
    process(s); /* sends the ClientHello */
    return;
  }
  bool had = buf_len(s->out) > 0;
  flush_socket(s);
  if (had && buf_len(s->out) == 0 && s->state == ST_OPEN &&
      s->cbs.on_drained) {
    s->in_cb = true;
    s->cbs.on_drained(s, s->arg);
    (void)cb_done(s);
  }
}

static void
on_defer(evutil_socket_t fd, short what, void *arg)
{
  tls_stream_t *s = arg;
  (void)fd;
  (void)what;
  if (s->state == ST_DEAD) {
    if (!s->err_reported) {
      s->err_reported = true;
      if (s->cbs.on_error) {
        s->in_cb = true;
        s->cbs.on_error(s, s->err, s->arg);
        (void)cb_done(s);
      }
    }
    return;
  }
  if (s->need_pump && s->state == ST_OPEN) {
    s->need_pump = false;
    pump_plaintext(s);
  }
}

/** Common constructor.  Takes ownership of fd and tls. */
static chive_err_t
stream_new(struct event_base *base, int fd, tls_conn_t *tls,
           bool connecting, const tls_stream_limits_t *lim,
           const tls_stream_callbacks_t *cbs, void *arg,
           tls_stream_t **out)
{
  size_t in_max = lim && lim->in_max ? lim->in_max
                                     : TLS_STREAM_DEFAULT_IN_MAX;
  size_t out_max = lim && lim->out_max ? lim->out_max
                                       : TLS_STREAM_DEFAULT_OUT_MAX;
  tls_stream_t *s = chive_zalloc(sizeof(*s));
  if (!s) {
    net_close(fd);
    tls_conn_free(tls);
    return CHIVE_ERR_NOMEM;
  }
  s->base = base;
  s->fd = fd;
  s->tls = tls;
  s->cbs = *cbs;
  s->arg = arg;
  s->in = buf_new(in_max);
  s->out = buf_new(out_max);
  s->ev_read = event_new(base, fd, EV_READ | EV_PERSIST, on_read_ready, s);
  s->ev_write =
      event_new(base, fd, EV_WRITE | EV_PERSIST, on_write_ready, s);
  s->ev_defer = event_new(base, -1, 0, on_defer, s);
  if (!s->in || !s->out || !s->ev_read || !s->ev_write || !s->ev_defer) {
    stream_really_free(s);
    return CHIVE_ERR_NOMEM;
  }
  if (connecting) {
    s->state = ST_CONNECTING;
    set_write(s, true);
  } else {
    s->state = ST_HANDSHAKING;
    set_read(s, true);
    /* Start the handshake now (a client queues its ClientHello); no
     * callback can run from here: completion needs the peer. */
    chive_err_t err = tls_conn_connect(tls);
    if (err != CHIVE_OK && err != CHIVE_ERR_TRUNCATED) {
      stream_really_free(s);
      return err;
    }
    flush_engine(s);
    if (s->state == ST_DEAD) {
      chive_err_t e = s->err;
      stream_really_free(s);
      return e;
    }
  }
  *out = s;
  return CHIVE_OK;
}

/* see tls_stream.h */
chive_err_t
tls_stream_new_from_fd(struct event_base *base, int fd, tls_conn_t *tls,
                       const tls_stream_limits_t *lim,
                       const tls_stream_callbacks_t *cbs, void *arg,
                       tls_stream_t **out)
{
  if (BUG(!base || fd < 0 || !tls || !cbs || !out)) {
    net_close(fd);
    tls_conn_free(tls);
    return CHIVE_ERR_INVAL;
  }
  return stream_new(base, fd, tls, false, lim, cbs, arg, out);
}

/* see tls_stream.h */
chive_err_t
tls_stream_connect(struct event_base *base, const net_addrport_t *ap,
                   const tls_client_config_t *cfg,
                   const tls_stream_limits_t *lim,
                   const tls_stream_callbacks_t *cbs, void *arg,
                   tls_stream_t **out)
{
  tls_conn_t *tls = NULL;
  int fd = NET_SOCKET_INVALID;
  if (BUG(!base || !ap || !cbs || !out))
    return CHIVE_ERR_INVAL;
  chive_err_t err = tls_client_new(cfg, &tls);
  if (err)
    return err;
  err = net_connect(ap, &fd);
  if (err) {
    tls_conn_free(tls);
    return err;
  }
  return stream_new(base, fd, tls, true, lim, cbs, arg, out);
}

static void
stream_really_free(tls_stream_t *s)
{
  if (s->ev_read)
    event_free(s->ev_read);
  if (s->ev_write)
    event_free(s->ev_write);
  if (s->ev_defer)
    event_free(s->ev_defer);
  net_close(s->fd);
  tls_conn_free(s->tls);
  buf_free(s->in);
  buf_free(s->out);
  chive_free(s);
}

/* see tls_stream.h */
void
tls_stream_free_(tls_stream_t *s)
{
  if (!s)
    return;
  if (s->in_cb) {
    s->free_requested = true;
    s->state = ST_CLOSED;
    set_read(s, false);
    set_write(s, false);
    return;
  }
  stream_really_free(s);
}

buf_t *
tls_stream_inbuf(tls_stream_t *s)
{
  return s->in;
}

/* see tls_stream.h */
void
tls_stream_resume(tls_stream_t *s)
{
  if (s->state != ST_OPEN || !s->paused || buf_room(s->in) == 0)
    return;
  s->paused = false;
  set_read(s, true);
  /* The engine may hold decrypted or undecrypted bytes already. */
  s->need_pump = true;
  event_active(s->ev_defer, EV_TIMEOUT, 0);
}

/* see tls_stream.h */
chive_err_t
tls_stream_write(tls_stream_t *s, const uint8_t *data, size_t len)
{
  if (s->state == ST_DEAD || s->state == ST_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (s->state != ST_OPEN)
    return CHIVE_ERR_INVAL;
  if (len == 0)
    return CHIVE_OK;
  if (len > tls_stream_out_room(s))
    return CHIVE_ERR_LIMIT;
  chive_err_t err = tls_conn_send(s->tls, data, len);
  if (err) {
    stream_fail(s, err);
    return err;
  }
  flush_engine(s);
  return s->state == ST_DEAD ? CHIVE_ERR_CLOSED : CHIVE_OK;
}

size_t
tls_stream_out_len(const tls_stream_t *s)
{
  return buf_len(s->out);
}

/* see tls_stream.h */
size_t
tls_stream_out_room(const tls_stream_t *s)
{
  size_t room = buf_room(s->out);
  /* Reserve record overhead for the worst case of this much data. */
  size_t records = room / TLS_RECORD_MAX_PLAINTEXT_LEN + 1;
  size_t overhead = records * TLS_RECORD_OVERHEAD_LEN;
  return room > overhead ? room - overhead : 0;
}

/* see tls_stream.h */
void
tls_stream_close(tls_stream_t *s)
{
  if (s->state == ST_OPEN) {
    tls_conn_close(s->tls);
    flush_engine(s);
  }
  if (s->state != ST_DEAD)
    s->state = ST_CLOSED;
  s->err_reported = true;
  set_read(s, false);
  set_write(s, false);
}

tls_conn_t *
tls_stream_tls(tls_stream_t *s)
{
  return s->tls;
}

/* see tls_stream.h */
chive_err_t
tls_stream_local_addr(const tls_stream_t *s, net_addrport_t *out)
{
  return net_local_addr(s->fd, out);
}

uint64_t
tls_stream_bytes_read(const tls_stream_t *s)
{
  return s->n_read;
}

uint64_t
tls_stream_bytes_written(const tls_stream_t *s)
{
  return s->n_written;
}
