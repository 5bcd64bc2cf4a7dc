/* Unit tests for app/metricsglue: MetricsPort configuration (off by
 * default, bad values refused, non-loopback addresses only with a
 * MetricsPortPolicy), the exposition fed from hub events and scrape-time
 * state, and HTTP scrapes of a client's MetricsPort on 127.0.0.1 (a real
 * libevent loop and a real socket client; no Tor network). */
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "app/client_st.h"
#include "app/events.h"
#include "app/metricsglue.h"
#include "chive/chive.h"
#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "feature/metrics/metrics_std.h"
#include "lib/malloc/malloc.h"
#include "lib/metrics/metrics.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

typedef struct fixture_t {
  struct event_base *base;
  chive_config_t *cfg;
  chive_client_t *c;
} fixture_t;

/** Make a client (never started: no network) whose config has the
 * <b>n</b> name/value pairs in <b>kv</b>. */
static bool
setup(fixture_t *f, const char *const *kv, size_t n)
{
  char err[256] = "";
  memset(f, 0, sizeof(*f));
  f->base = event_base_new();
  f->cfg = chive_config_new();
  if (!f->base || !f->cfg)
    return false;
  for (size_t i = 0; i + 1 < n; i += 2)
    if (chive_config_set(f->cfg, kv[i], kv[i + 1], err, sizeof(err)) !=
        CHIVE_OK) {
      fprintf(stderr, "config %s: %s\n", kv[i], err);
      return false;
    }
  return chive_client_new(f->cfg, f->base, &f->c, err, sizeof(err)) ==
         CHIVE_OK;
}

static void
teardown(fixture_t *f)
{
  if (f->c)
    metricsglue_stop(f->c);
  chive_client_free(f->c);
  chive_config_free(f->cfg);
  if (f->base)
    event_base_free(f->base);
  memset(f, 0, sizeof(*f));
}

/** Render the client's registry after a refresh; chive_malloc'd. */
static char *
render(chive_client_t *c)
{
  strbuf_t sb;
  strbuf_init(&sb, 1 << 20);
  metricsglue_refresh(c);
  const metrics_registry_t *reg = metricsglue_registry(c);
  if (!reg || metrics_registry_write(reg, &sb) != CHIVE_OK) {
    strbuf_clear(&sb);
    return NULL;
  }
  char *out = chive_strdup(strbuf_str(&sb));
  strbuf_clear(&sb);
  return out;
}

/** Return the value of the sample line starting with <b>series</b> + " "
 * in <b>text</b>, or NAN if absent. */
static double
sample(const char *text, const char *series)
{
  size_t n = strlen(series);
  for (const char *p = text; p && *p; p = strchr(p, '\n')) {
    if (*p == '\n')
      p++;
    if (strncmp(p, series, n) == 0 && p[n] == ' ') {
      const char *v = p + n + 1;
      if (strncmp(v, "+Inf", 4) == 0)
        return (double)INFINITY;
      if (strncmp(v, "NaN", 3) == 0)
        return -1.0; /* distinguishable from absent */
      return strtod(v, NULL);
    }
  }
  return (double)NAN;
}

static void
emit_stream(chive_client_t *c, cev_stream_status_t st, uint8_t reason,
            bool remote)
{
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_STREAM;
  ev.status = (int)st;
  ev.reason = reason;
  ev.remote = remote;
  cev_emit(&c->events, &ev);
}

static void
test_off_by_default(void)
{
  fixture_t f;
  static const char *const zero[] = {"MetricsPort", "0"};
  T_ASSERT(setup(&f, NULL, 0));
  T_OK(metricsglue_start(f.c));
  T_ASSERT(metricsglue_registry(f.c) == NULL);
  T_EQ_UINT(metricsglue_n_listeners(f.c), 0);
  T_ASSERT(metricsglue_listener_addr(f.c, 0) == NULL);
  T_EQ_UINT(f.c->events.n_subs, 0);
  metricsglue_refresh(f.c); /* no-op */
  teardown(&f);
  T_ASSERT(setup(&f, zero, 2));
  T_OK(metricsglue_start(f.c));
  T_ASSERT(metricsglue_registry(f.c) == NULL);
done:
  teardown(&f);
}

static void
test_bad_config(void)
{
  static const char *const cases[][4] = {
      {"MetricsPort", "junk", NULL, NULL},
      {"MetricsPort", "9035 json", NULL, NULL},
      {"MetricsPort", "[::1", NULL, NULL},
      {"MetricsPort", "auto", "MetricsPortPolicy", "accept 1.2.3"},
      {"MetricsPort", "auto", "MetricsPortPolicy", "allow *"},
      /* Not loopback and no policy accepting anyone: refused. */
      {"MetricsPort", "0.0.0.0:auto", NULL, NULL},
      {"MetricsPort", "0.0.0.0:auto", "MetricsPortPolicy", "reject *"},
  };
  fixture_t f;
  memset(&f, 0, sizeof(f));
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    size_t n = cases[i][2] ? 4 : 2;
    T_ASSERT(setup(&f, cases[i], n));
    T_EQ_INT(metricsglue_start(f.c), CHIVE_ERR_INVAL);
    T_ASSERT(metricsglue_registry(f.c) == NULL);
    T_EQ_UINT(f.c->events.n_subs, 0);
    teardown(&f);
  }
  /* Too many listeners. */
  {
    char err[128];
    T_ASSERT(setup(&f, NULL, 0));
    chive_client_free(f.c);
    f.c = NULL;
    for (int i = 0; i <= METRICSGLUE_MAX_PORTS; i++)
      T_OK(chive_config_set(f.cfg, "MetricsPort", "auto", err, sizeof(err)));
    T_OK(chive_client_new(f.cfg, f.base, &f.c, err, sizeof(err)));
    T_EQ_INT(metricsglue_start(f.c), CHIVE_ERR_INVAL);
    T_EQ_UINT(metricsglue_n_listeners(f.c), 0);
  }
done:
  teardown(&f);
}

static void
test_exposition(void)
{
  fixture_t f;
  char *text = NULL;
  static const char *const kv[] = {"MetricsPort", "auto"};
  T_ASSERT(setup(&f, kv, 2));
  int64_t t0 = (int64_t)time(NULL);
  T_OK(metricsglue_start(f.c));
  T_OK(metricsglue_start(f.c)); /* idempotent */
  T_EQ_UINT(metricsglue_n_listeners(f.c), 1);
  const net_addrport_t *ap = metricsglue_listener_addr(f.c, 0);
  T_ASSERT(ap && ap->port != 0 && net_addr_is_loopback(&ap->addr));

  /* Three streams: one succeeds, the exit refuses one, one times out;
   * two close. */
  emit_stream(f.c, CEV_STREAM_NEW, 0, false);
  emit_stream(f.c, CEV_STREAM_SENTCONNECT, 0, false);
  emit_stream(f.c, CEV_STREAM_SUCCEEDED, 0, false);
  emit_stream(f.c, CEV_STREAM_NEW, 0, false);
  emit_stream(f.c, CEV_STREAM_FAILED, END_REASON_EXITPOLICY, true);
  emit_stream(f.c, CEV_STREAM_CLOSED, END_REASON_EXITPOLICY, true);
  emit_stream(f.c, CEV_STREAM_NEWRESOLVE, 0, false);
  emit_stream(f.c, CEV_STREAM_FAILED, END_REASON_TIMEOUT, false);
  emit_stream(f.c, CEV_STREAM_CLOSED, END_REASON_TIMEOUT, false);

  text = render(f.c);
  T_ASSERT(text);
  T_EQ_INT(sample(text, "chive_streams_total{result=\"succeeded\"}"), 1);
  T_EQ_INT(sample(text, "chive_streams_total{result=\"refused\"}"), 1);
  T_EQ_INT(sample(text, "chive_streams_total{result=\"timeout\"}"), 1);
  T_EQ_INT(sample(text, "chive_streams_total{result=\"failed\"}"), 0);
  /* Read from the stream module, which is not running here. */
  T_EQ_INT(sample(text, "chive_streams_open"), 0);
  T_EQ_INT(sample(text, "chive_socks_requests_total{result=\"succeeded\"}"),
           0);
  T_EQ_INT(sample(text, "chive_bootstrap_percent"), 0);
  /* No consensus yet: unknown. */
  T_EQ_INT(sample(text, "chive_consensus_age_seconds"), -1);
  T_EQ_INT(sample(text, "chive_guards{state=\"sampled\"}"), 0);
  T_EQ_INT(sample(text, "chive_circuits_open"), 0);
  T_EQ_INT(sample(text, "chive_channels_open"), 0);
  T_EQ_INT(sample(text, "chive_bytes_read_total"), 0);
  T_ASSERT(isinf(sample(text, "chive_memory_budget_bytes")));
  T_ASSERT(sample(text, "chive_memory_bytes") > 1000);
  double st = sample(text, "chive_process_start_time_seconds");
  T_ASSERT(st >= (double)t0 - 1 && st <= (double)t0 + 5);
  chive_free(text);

  /* Bootstrap progress is read at scrape time. */
  f.c->boot_phase = BOOT_DONE;
  text = render(f.c);
  T_ASSERT(text);
  T_EQ_INT(sample(text, "chive_bootstrap_percent"), 100);

  /* After stop the client no longer feeds anything. */
  metricsglue_stop(f.c);
  metricsglue_stop(f.c);
  T_EQ_UINT(f.c->events.n_subs, 0);
  T_ASSERT(metricsglue_registry(f.c) == NULL);
  emit_stream(f.c, CEV_STREAM_NEW, 0, false);
done:
  chive_free(text);
  teardown(&f);
}

static void
emit_circ(chive_client_t *c, circmgr_circ_ev_t st, uint8_t reason,
          bool remote)
{
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_CIRC;
  ev.status = (int)st;
  ev.reason = reason;
  ev.remote = remote;
  cev_emit(&c->events, &ev);
}

/* CEV_CIRC FAILED events count by reason; other circuit events do not
 * count as failures. */
static void
test_circ_events(void)
{
  fixture_t f;
  char *text = NULL;
  static const char *const kv[] = {"MetricsPort", "auto"};
  T_ASSERT(setup(&f, kv, 2));
  T_OK(metricsglue_start(f.c));
  emit_circ(f.c, CIRCMGR_CIRC_LAUNCHED, 0, false);
  emit_circ(f.c, CIRCMGR_CIRC_EXTENDED, 0, false);
  emit_circ(f.c, CIRCMGR_CIRC_BUILT, 0, false); /* no circuit: ignored */
  emit_circ(f.c, CIRCMGR_CIRC_CLOSED, DESTROY_REASON_FINISHED, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_TIMEOUT, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_TIMEOUT, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_TIMEOUT, true);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_CHANNEL_CLOSED, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_CONNECTFAILED, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_PROTOCOL, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_RESOURCELIMIT, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, DESTROY_REASON_REQUESTED, false);
  emit_circ(f.c, CIRCMGR_CIRC_FAILED, 200, false);
  metricsglue_note_no_path(f.c);
  metricsglue_note_no_path(NULL); /* no-op */
  text = render(f.c);
  T_ASSERT(text);
#define FAILED(r) sample(text, "chive_circuits_failed_total{reason=\"" r "\"}")
  T_EQ_INT(FAILED("timeout"), 2);
  T_EQ_INT(FAILED("destroyed"), 1);
  T_EQ_INT(FAILED("channel"), 2);
  T_EQ_INT(FAILED("protocol"), 1);
  T_EQ_INT(FAILED("resource"), 1);
  T_EQ_INT(FAILED("other"), 2);
  T_EQ_INT(FAILED("no_path"), 1);
#undef FAILED
  T_EQ_INT(sample(text, "chive_circuit_build_seconds_count"), 0);
  T_EQ_INT(sample(text, "chive_circuits_built_total"), 0);
done:
  chive_free(text);
  teardown(&f);
}

static void
test_classify(void)
{
  T_EQ_INT(metrics_circ_fail_from_destroy(DESTROY_REASON_TIMEOUT, false),
           METRICS_CIRC_FAIL_TIMEOUT);
  T_EQ_INT(metrics_circ_fail_from_destroy(DESTROY_REASON_OR_IDENTITY, false),
           METRICS_CIRC_FAIL_CHANNEL);
  T_EQ_INT(metrics_circ_fail_from_destroy(DESTROY_REASON_PROTOCOL, true),
           METRICS_CIRC_FAIL_DESTROYED);
  T_EQ_INT(metrics_circ_fail_from_destroy(DESTROY_REASON_NONE, false),
           METRICS_CIRC_FAIL_OTHER);
  T_EQ_INT(metrics_stream_result_from_end(END_REASON_TIMEOUT, true),
           METRICS_STREAM_TIMEOUT);
  T_EQ_INT(metrics_stream_result_from_end(END_REASON_TIMEOUT, false),
           METRICS_STREAM_TIMEOUT);
  T_EQ_INT(metrics_stream_result_from_end(END_REASON_CONNECTREFUSED, true),
           METRICS_STREAM_REFUSED);
  T_EQ_INT(metrics_stream_result_from_end(END_REASON_NOROUTE, false),
           METRICS_STREAM_FAILED);
done:
  return;
}

static void
test_memory_budget(void)
{
  fixture_t f;
  char *text = NULL;
  static const char *const kv[] = {"MetricsPort", "auto", "MaxMemInQueues",
                                   "64 MB"};
  T_ASSERT(setup(&f, kv, 4));
  T_OK(metricsglue_start(f.c));
  text = render(f.c);
  T_ASSERT(text);
  T_EQ_INT(sample(text, "chive_memory_budget_bytes"), 64 * 1024 * 1024);
done:
  chive_free(text);
  teardown(&f);
}

/* --- HTTP ------------------------------------------------------------ */

static uint64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** Send <b>req</b> to 127.0.0.1:<b>port</b> and read until the server
 * closes (running <b>base</b> meanwhile, at most 5 s).  Returns the
 * response (chive_malloc'd, NUL-terminated) or NULL on a test failure. */
static char *
http(struct event_base *base, uint16_t port, const char *req)
{
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return NULL;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0 ||
      fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
    close(fd);
    return NULL;
  }
  size_t cap = 1 << 18, len = 0, sent = 0, req_len = strlen(req);
  char *resp = chive_malloc(cap + 1);
  if (!resp) {
    close(fd);
    return NULL;
  }
  uint64_t deadline = now_ms() + 5000;
  while (now_ms() < deadline && len < cap) {
    if (sent < req_len) {
      ssize_t w = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        sent = req_len;
    }
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    ssize_t r = recv(fd, resp + len, cap - len, 0);
    if (r > 0) {
      len += (size_t)r;
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
      break;
    usleep(1000);
  }
  resp[len] = '\0';
  close(fd);
  return resp;
}

static int
status_of(const char *resp)
{
  if (!resp || strncmp(resp, "HTTP/1.", 7) != 0 || strlen(resp) < 12)
    return -1;
  return (int)strtol(resp + 9, NULL, 10);
}

static void
test_http(void)
{
  fixture_t f;
  char *r = NULL;
  static const char *const kv[] = {"MetricsPort", "127.0.0.1:auto"};
  T_ASSERT(setup(&f, kv, 2));
  T_OK(metricsglue_start(f.c));
  uint16_t port = metricsglue_listener_addr(f.c, 0)->port;
  emit_stream(f.c, CEV_STREAM_SUCCEEDED, 0, false);

  r = http(f.base, port, "GET /metrics HTTP/1.0\r\n\r\n");
  T_EQ_INT(status_of(r), 200);
  T_ASSERT(strstr(r, "\r\nContent-Type: text/plain; version=0.0.4"));
  T_ASSERT(strstr(r, "\nchive_streams_total{result=\"succeeded\"} 1\n"));
  T_ASSERT(strstr(r, "\n# TYPE chive_circuit_build_seconds histogram\n"));
  chive_free(r);
  r = http(f.base, port, "HEAD /metrics HTTP/1.0\r\n\r\n");
  T_EQ_INT(status_of(r), 200);
  T_ASSERT(strstr(r, "\r\n\r\n") && strstr(r, "\r\n\r\n")[4] == '\0');
  chive_free(r);
  r = http(f.base, port, "GET /status HTTP/1.0\r\n\r\n");
  T_EQ_INT(status_of(r), 404);
  chive_free(r);
  /* Garbage gets an error or a close, and the port keeps serving. */
  uint64_t t0 = now_ms();
  r = http(f.base, port, "\x16\x03\x01\x02\xffgarbage\r\n\r\n");
  T_ASSERT(r && strstr(r, " 200 ") == NULL);
  T_ASSERT(now_ms() - t0 < 4000); /* answered or closed, not left hanging */
  chive_free(r);
  r = http(f.base, port, "GET /metrics HTTP/1.1\r\nHost: x\r\n"
                         "Connection: close\r\n\r\n");
  T_EQ_INT(status_of(r), 200);
done:
  chive_free(r);
  teardown(&f);
}

/* A wildcard listener is allowed once a policy accepts someone; the
 * policy then decides per peer (here 127.0.0.1 is not accepted). */
static void
test_policy(void)
{
  fixture_t f;
  char *r = NULL;
  static const char *const kv[] = {"MetricsPort", "0.0.0.0:auto",
                                   "MetricsPortPolicy",
                                   "accept 10.0.0.0/8"};
  static const char *const kv2[] = {"MetricsPort", "0.0.0.0:auto",
                                    "MetricsPortPolicy",
                                    "reject 10.0.0.0/8, accept 127.0.0.1"};
  T_ASSERT(setup(&f, kv, 4));
  T_OK(metricsglue_start(f.c));
  uint16_t port = metricsglue_listener_addr(f.c, 0)->port;
  r = http(f.base, port, "GET /metrics HTTP/1.0\r\n\r\n");
  T_EQ_INT(status_of(r), 403);
  chive_free(r);
  r = NULL;
  teardown(&f);
  T_ASSERT(setup(&f, kv2, 4));
  T_OK(metricsglue_start(f.c));
  port = metricsglue_listener_addr(f.c, 0)->port;
  r = http(f.base, port, "GET /metrics HTTP/1.0\r\n\r\n");
  T_EQ_INT(status_of(r), 200);
done:
  chive_free(r);
  teardown(&f);
}

static void
test_oom(void)
{
  fixture_t f;
  int n_failed = 0;
  static const char *const kv[] = {"MetricsPort", "auto"};
  T_ASSERT(setup(&f, kv, 2));
  for (uint64_t n = 1; n < 2000; n++) {
    chive_mem_fail_nth(n, false);
    chive_err_t err = metricsglue_start(f.c);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (!fired) {
      T_OK(err);
      T_EQ_UINT(metricsglue_n_listeners(f.c), 1);
      break;
    }
    T_EQ_INT(err, CHIVE_ERR_NOMEM);
    T_ASSERT(metricsglue_registry(f.c) == NULL);
    T_EQ_UINT(f.c->events.n_subs, 0);
    n_failed++;
  }
  T_ASSERT(n_failed > 20);
done:
  teardown(&f);
}

static const t_case cases[] = {
    T_CASE(test_off_by_default), T_CASE(test_bad_config),
    T_CASE(test_exposition),     T_CASE(test_circ_events),
    T_CASE(test_classify),       T_CASE(test_memory_budget),
    T_CASE(test_http),           T_CASE(test_policy),
    T_CASE(test_oom),            T_END,
};
T_MAIN(cases)
