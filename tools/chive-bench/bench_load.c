/**
 * @file bench_load.c
 * @brief chive-bench: a SOCKS5 load generator (RFC 1928, no-auth CONNECT
 * to 127.0.0.1:http_port, then an HTTP/1.0 GET), non-blocking sockets on
 * one epoll loop so thousands of streams cost the generator little.
 *
 * Per stream: t0 = connect() to the SOCKS port; TTFB = first byte of the
 * HTTP response (after the SOCKS reply) - t0; total = EOF - t0.  A stream
 * is an error when the SOCKS port refuses, the SOCKS reply is not
 * "succeeded", the HTTP status is not 200, the body is shorter than
 * expected, or it takes longer than stream_timeout_s.
 **/
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "lib/malloc/malloc.h"

typedef enum st_t {
  ST_CONNECTING,
  ST_GREET,   /* sent 05 01 00, reading 2 bytes */
  ST_CONNECT, /* sent CONNECT, reading the reply */
  ST_HTTP,    /* sent GET, reading the response */
} st_t;

typedef struct lstream_t {
  int fd; /* -1 = free slot */
  st_t st;
  double t0, t_first;
  unsigned char rb[512]; /* SOCKS reply / HTTP head */
  size_t rlen;
  bool head_done;
  int http_status;
  uint64_t body;
} lstream_t;

typedef struct lctx_t {
  const load_spec_t *s;
  load_result_t *r;
  int ep;
  lstream_t *st;
  size_t open;
  double t_begin, t_last_end;
} lctx_t;

uint64_t
load_raise_nofile(void)
{
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
    return 0;
  if (rl.rlim_cur < rl.rlim_max) {
    rl.rlim_cur = rl.rlim_max;
    (void)setrlimit(RLIMIT_NOFILE, &rl);
    (void)getrlimit(RLIMIT_NOFILE, &rl);
  }
  return (uint64_t)rl.rlim_cur;
}

void
load_result_clear(load_result_t *r)
{
  dvec_clear(&r->ttfb_ms);
  dvec_clear(&r->total_ms);
  memset(r, 0, sizeof(*r));
}

static bool
send_all(int fd, const void *buf, size_t len)
{
  /* Requests are tiny; a fresh socket's send buffer always takes them. */
  ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
  return n == (ssize_t)len;
}

static void
finish(lctx_t *x, lstream_t *s, bool ok, size_t *err_counter)
{
  double now = bench_now();
  epoll_ctl(x->ep, EPOLL_CTL_DEL, s->fd, NULL);
  close(s->fd);
  s->fd = -1;
  x->open--;
  x->t_last_end = now;
  if (ok) {
    x->r->completed++;
    dvec_push(&x->r->total_ms, (now - s->t0) * 1000.0);
  } else {
    x->r->errors++;
    if (err_counter)
      (*err_counter)++;
  }
}

static bool
start_stream(lctx_t *x, lstream_t *s)
{
  memset(s, 0, sizeof(*s));
  s->fd = -1;
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)x->s->socks_port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  s->t0 = bench_now();
  x->r->started++;
  int r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
  if (r < 0 && errno != EINPROGRESS) {
    close(fd);
    x->r->errors++;
    x->r->err_connect++;
    return true;
  }
  s->fd = fd;
  s->st = ST_CONNECTING;
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLOUT | EPOLLIN;
  ev.data.ptr = s;
  if (epoll_ctl(x->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
    close(fd);
    s->fd = -1;
    return false;
  }
  x->open++;
  return true;
}

/** Parse the HTTP status line and find the end of the head. */
static void
http_head(lstream_t *s)
{
  const char *end = NULL;
  for (size_t i = 0; i + 3 < s->rlen; i++) {
    if (!memcmp(s->rb + i, "\r\n\r\n", 4)) {
      end = (const char *)s->rb + i + 4;
      break;
    }
  }
  if (!end) {
    if (s->rlen == sizeof(s->rb)) { /* over-long head: give up */
      s->head_done = true;
      s->http_status = -1;
    }
    return;
  }
  s->head_done = true;
  const char *sp = memchr(s->rb, ' ', s->rlen);
  s->http_status = sp ? (int)strtol(sp + 1, NULL, 10) : -1;
  s->body = (uint64_t)(s->rlen - (size_t)(end - (const char *)s->rb));
}

static void
on_event(lctx_t *x, lstream_t *s, uint32_t evs)
{
  if (s->st == ST_CONNECTING) {
    int err = 0;
    socklen_t el = sizeof(err);
    getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err || (evs & (EPOLLERR | EPOLLHUP))) {
      finish(x, s, false, &x->r->err_connect);
      return;
    }
    static const unsigned char greet[3] = {5, 1, 0};
    if (!send_all(s->fd, greet, sizeof(greet))) {
      finish(x, s, false, &x->r->err_connect);
      return;
    }
    struct epoll_event ev;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = s;
    epoll_ctl(x->ep, EPOLL_CTL_MOD, s->fd, &ev);
    s->st = ST_GREET;
    s->rlen = 0;
    return;
  }
  unsigned char buf[65536];
  for (;;) {
    ssize_t n;
    if (s->st == ST_HTTP && s->head_done)
      n = recv(s->fd, buf, sizeof(buf), 0);
    else
      n = recv(s->fd, s->rb + s->rlen, sizeof(s->rb) - s->rlen, 0);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
      return;
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) { /* EOF or error */
      if (s->st != ST_HTTP) {
        finish(x, s, false, s->st == ST_GREET ? &x->r->err_connect
                                               : &x->r->err_socks);
        return;
      }
      if (!s->head_done)
        http_head(s);
      if (!s->head_done || s->http_status != 200) {
        finish(x, s, false, &x->r->err_http);
        return;
      }
      if (x->s->expect_len && s->body != x->s->expect_len) {
        finish(x, s, false, &x->r->err_short);
        return;
      }
      x->r->body_bytes += s->body;
      finish(x, s, true, NULL);
      return;
    }
    if (s->st == ST_HTTP && s->head_done) {
      s->body += (uint64_t)n;
      continue;
    }
    s->rlen += (size_t)n;
    if (s->st == ST_GREET && s->rlen >= 2) {
      if (s->rb[0] != 5 || s->rb[1] != 0) {
        finish(x, s, false, &x->r->err_socks);
        return;
      }
      /* CONNECT 127.0.0.1:http_port (RFC 1928 §4) */
      unsigned char req[10] = {5, 1, 0, 1, 127, 0, 0, 1, 0, 0};
      req[8] = (unsigned char)((x->s->http_port >> 8) & 0xff);
      req[9] = (unsigned char)(x->s->http_port & 0xff);
      if (!send_all(s->fd, req, sizeof(req))) {
        finish(x, s, false, &x->r->err_socks);
        return;
      }
      s->st = ST_CONNECT;
      s->rlen = 0;
    } else if (s->st == ST_CONNECT && s->rlen >= 5) {
      if (s->rb[1] != 0) {
        x->r->last_socks_code = s->rb[1];
        finish(x, s, false, &x->r->err_socks);
        return;
      }
      /* RFC 1928 §6: VER REP RSV ATYP BND.ADDR BND.PORT */
      size_t need = s->rb[3] == 1 ? 10 : s->rb[3] == 4 ? 22
                                                       : 7u + s->rb[4];
      if (s->rlen < need)
        continue;
      size_t extra = s->rlen - need;
      char get[256];
      int gl = snprintf(get, sizeof(get),
                        "GET %s HTTP/1.0\r\nHost: 127.0.0.1:%d\r\n\r\n",
                        x->s->path, x->s->http_port);
      if (gl < 0 || (size_t)gl >= sizeof(get) ||
          !send_all(s->fd, get, (size_t)gl)) {
        finish(x, s, false, &x->r->err_socks);
        return;
      }
      memmove(s->rb, s->rb + need, extra);
      s->rlen = extra;
      s->st = ST_HTTP;
      if (extra) {
        s->t_first = bench_now();
        dvec_push(&x->r->ttfb_ms, (s->t_first - s->t0) * 1000.0);
        http_head(s);
      }
    } else if (s->st == ST_HTTP) {
      if (s->t_first == 0) {
        s->t_first = bench_now();
        dvec_push(&x->r->ttfb_ms, (s->t_first - s->t0) * 1000.0);
      }
      http_head(s);
    }
  }
}

bool
load_run(const load_spec_t *spec, load_result_t *res)
{
  memset(res, 0, sizeof(*res));
  if (spec->concurrency == 0 || spec->concurrency > LOAD_MAX_STREAMS)
    return false;
  lctx_t x;
  memset(&x, 0, sizeof(x));
  x.s = spec;
  x.r = res;
  x.ep = epoll_create1(EPOLL_CLOEXEC);
  if (x.ep < 0)
    return false;
  x.st = chive_calloc(spec->concurrency, sizeof(lstream_t));
  size_t total = spec->until_s > 0 ? SIZE_MAX : spec->total;
  if (total < spec->concurrency)
    total = spec->concurrency;
  x.t_begin = bench_now();
  double next_tick = x.t_begin + 1.0;
  bool ok = true;
  for (size_t i = 0; i < spec->concurrency; i++) {
    if (!start_stream(&x, &x.st[i])) {
      ok = false;
      break;
    }
  }
  struct epoll_event evs[256];
  while (ok) {
    double now = bench_now();
    bool more = spec->until_s > 0 ? now - x.t_begin < spec->until_s
                                  : res->started < total;
    /* refill free slots (closed loop, or a total beyond concurrency) */
    if (more) {
      for (size_t i = 0; i < spec->concurrency; i++) {
        if (x.st[i].fd < 0 && (spec->until_s > 0 || res->started < total)) {
          if (!start_stream(&x, &x.st[i])) {
            ok = false;
            break;
          }
        }
      }
    }
    if (!x.open && !more)
      break;
    int n = epoll_wait(x.ep, evs, CHIVE_ARRAY_LEN(evs), 100);
    if (n < 0 && errno != EINTR) {
      ok = false;
      break;
    }
    for (int i = 0; i < n; i++) {
      lstream_t *s = evs[i].data.ptr;
      if (s->fd >= 0)
        on_event(&x, s, evs[i].events);
    }
    now = bench_now();
    for (size_t i = 0; i < spec->concurrency; i++) {
      lstream_t *s = &x.st[i];
      if (s->fd >= 0 && now - s->t0 > spec->stream_timeout_s)
        finish(&x, s, false, &res->err_timeout);
    }
    if (now >= next_tick) {
      next_tick += 1.0;
      if (spec->tick)
        spec->tick(spec->tick_arg, now - x.t_begin);
    }
  }
  for (size_t i = 0; i < spec->concurrency; i++)
    if (x.st[i].fd >= 0)
      close(x.st[i].fd);
  res->wall_s = (x.t_last_end > x.t_begin ? x.t_last_end : bench_now()) -
                x.t_begin;
  chive_free(x.st);
  close(x.ep);
  return ok;
}
