/**
 * @file fuzz_metrics_http.c
 * @brief Fuzz the metrics endpoint: the MetricsPortPolicy parser, the
 * exposition escaping, and the HTTP server with arbitrary client bytes.
 *
 * Input: byte 0 picks the mode (mod 3); the rest is the payload.
 *  0. Policy: parse the payload as a MetricsPortPolicy line.  Oracles: an
 *     error leaves the policy empty; an accepted policy formats to text
 *     that parses back to the same entries; matching never crashes.
 *  1. Exposition: the payload, split at its first NUL, is a label value
 *     and help text.  Oracles: a value/help the registry accepts renders
 *     to exactly HELP + TYPE + one sample line (escaping keeps every
 *     newline out), and the value reads back unescaped.
 *  2. HTTP: the payload is sent by a client over 127.0.0.1 to a server
 *     on a real libevent loop (made once), then the client half-closes.
 *     Oracles: the server answers or closes within a bounded time, any
 *     status line is 200/4xx/5xx, and a 200 only ever comes for a request
 *     that begins "GET /metrics" or "HEAD /metrics".
 **/
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "feature/metrics/metrics_policy.h"
#include "feature/metrics/metrics_server.h"
#include "feature/metrics/metrics_std.h"
#include "lib/malloc/malloc.h"
#include "lib/metrics/metrics.h"
#include "lib/text/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)        \
  do {                  \
    if (!(c))           \
      __builtin_trap(); \
  } while (0)

/** Longest HTTP payload sent (bigger ones are cut). */
#define FUZZ_HTTP_MAX_LEN 16384
/** Longest time one HTTP exchange may take, in milliseconds. */
#define FUZZ_HTTP_LIMIT_MS 3000

static void
fuzz_policy(const uint8_t *p, size_t n)
{
  metrics_policy_t pol, back;
  metrics_policy_init(&pol);
  chive_err_t err = metrics_policy_parse_line(&pol, (const char *)p, n);
  if (err) {
    CHECK(pol.n_entries == 0);
    return;
  }
  CHECK(pol.n_entries > 0 && pol.n_entries <= METRICS_POLICY_MAX_ENTRIES);
  strbuf_t sb;
  strbuf_init(&sb, 1 << 16);
  CHECK(metrics_policy_format(&pol, &sb) == CHIVE_OK);
  metrics_policy_init(&back);
  CHECK(metrics_policy_parse_line(&back, strbuf_str(&sb), strbuf_len(&sb)) ==
        CHIVE_OK);
  CHECK(back.n_entries == pol.n_entries);
  CHECK(memcmp(back.entries, pol.entries,
               pol.n_entries * sizeof(pol.entries[0])) == 0);
  strbuf_clear(&sb);
  static const char *const peers[] = {"127.0.0.1", "10.0.0.1", "::1",
                                      "::ffff:10.1.2.3", "2001:db8::1"};
  for (size_t i = 0; i < sizeof(peers) / sizeof(peers[0]); i++) {
    net_addr_t a;
    CHECK(net_addr_parse(peers[i], strlen(peers[i]), &a) == CHIVE_OK);
    (void)metrics_policy_permits(&pol, &a);
  }
}

/** Undo label-value escaping of the <b>n</b> bytes at <b>s</b> into
 * <b>out</b>; return the length, or SIZE_MAX on a bad escape. */
static size_t
unescape(const char *s, size_t n, char *out)
{
  size_t o = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] != '\\') {
      out[o++] = s[i];
      continue;
    }
    if (++i >= n)
      return SIZE_MAX;
    if (s[i] == 'n')
      out[o++] = '\n';
    else if (s[i] == '\\' || s[i] == '"')
      out[o++] = s[i];
    else
      return SIZE_MAX;
  }
  return o;
}

static void
fuzz_exposition(const uint8_t *p, size_t n)
{
  const uint8_t *nul = memchr(p, 0, n);
  size_t vlen = nul ? (size_t)(nul - p) : n;
  char *value = chive_malloc(vlen + 1);
  char *help = chive_malloc(n - vlen + 1);
  char *unesc = chive_malloc(2 * METRICS_LABEL_VALUE_MAX_LEN + 1);
  CHECK(value && help && unesc);
  memcpy(value, p, vlen);
  value[vlen] = '\0';
  size_t hlen = nul ? n - vlen - 1 : 0;
  if (hlen)
    memcpy(help, nul + 1, hlen);
  help[hlen] = '\0';
  /* Embedded NULs end the C strings early: that is fine. */

  metrics_registry_t *reg = metrics_registry_new("chive_");
  CHECK(reg);
  static const char *const labels[] = {"v"};
  metrics_spec_t spec = {.type = METRICS_TYPE_GAUGE,
                         .name = "chive_fuzz",
                         .help = help,
                         .label_names = labels,
                         .n_labels = 1,
                         .max_series = 2};
  metrics_family_t *fam = NULL;
  metrics_gauge_t *g = NULL;
  if (metrics_register(reg, &spec, &fam) != CHIVE_OK)
    goto done;
  if (metrics_family_gauge(fam, (const char *const[]){value}, &g) != CHIVE_OK)
    goto done;
  metrics_gauge_set(g, -1);
  strbuf_t sb;
  strbuf_init(&sb, 1 << 16);
  CHECK(metrics_registry_write(reg, &sb) == CHIVE_OK);
  const char *out = strbuf_str(&sb);
  size_t lines = 0;
  for (const char *q = out; *q; q++)
    lines += *q == '\n';
  CHECK(lines == 3);
  const char *open = strstr(out, "\nchive_fuzz{v=\"");
  CHECK(open);
  open += strlen("\nchive_fuzz{v=\"");
  const char *close = strstr(open, "\"} -1\n");
  CHECK(close);
  /* The last '"} -1\n' ends the line; find the value's real end. */
  size_t elen = strlen(open) - strlen("\"} -1\n");
  size_t ulen = unescape(open, elen, unesc);
  CHECK(ulen == strlen(value) && memcmp(unesc, value, ulen) == 0);
  strbuf_clear(&sb);
done:
  metrics_registry_free(reg);
  chive_free(unesc);
  chive_free(help);
  chive_free(value);
}

/* The server lives for the whole fuzzing run. */
static struct event_base *http_base;
static metrics_registry_t *http_reg;
static metrics_server_t *http_srv;

static void
http_setup(void)
{
  metrics_std_t m;
  metrics_server_cfg_t cfg;
  if (http_srv)
    return;
  http_base = event_base_new();
  http_reg = metrics_registry_new(METRICS_STD_PREFIX);
  CHECK(http_base && http_reg);
  CHECK(metrics_std_register(http_reg, 0, &m) == CHIVE_OK);
  memset(&cfg, 0, sizeof(cfg));
  CHECK(net_addrport_parse_str("127.0.0.1:1", &cfg.listen) == CHIVE_OK);
  cfg.listen.port = 0;
  cfg.timeout_s = 1;
  CHECK(metrics_server_new(http_base, http_reg, &cfg, NULL, &http_srv) ==
        CHIVE_OK);
}

static uint64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void
fuzz_http(const uint8_t *p, size_t n)
{
  if (n > FUZZ_HTTP_MAX_LEN)
    n = FUZZ_HTTP_MAX_LEN;
  http_setup();
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  CHECK(fd >= 0);
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(metrics_server_addr(http_srv)->port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  CHECK(connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0);
  CHECK(fcntl(fd, F_SETFL, O_NONBLOCK) == 0);
  size_t sent = 0, got = 0;
  bool shut = false, eof = false;
  char resp[16];
  uint64_t deadline = now_ms() + FUZZ_HTTP_LIMIT_MS;
  while (now_ms() < deadline) {
    if (sent < n) {
      ssize_t w = send(fd, p + sent, n - sent, MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        sent = n;
    }
    if (sent == n && !shut) {
      shutdown(fd, SHUT_WR);
      shut = true;
    }
    event_base_loop(http_base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    char buf[4096];
    ssize_t r = recv(fd, buf, sizeof(buf), 0);
    if (r > 0) {
      if (got < sizeof(resp))
        memcpy(resp + got, buf,
               (size_t)r < sizeof(resp) - got ? (size_t)r
                                              : sizeof(resp) - got);
      got += (size_t)r;
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      eof = true;
      break;
    }
    usleep(200);
  }
  close(fd);
  if (getenv("FUZZ_DEBUG"))
    fprintf(stderr, "eof=%d got=%zu resp=%.16s\n", eof, got, resp);
  CHECK(eof); /* the server always ends the exchange in time */
  /* evhttp echoes the request's version ("HTTP/1.10 404 ..."): the
   * status code follows the first space. */
  size_t have = got < sizeof(resp) ? got : sizeof(resp);
  const char *sp = memchr(resp, ' ', have);
  if (have >= 7 && memcmp(resp, "HTTP/", 5) == 0 && sp &&
      (size_t)(sp - resp) + 4 <= have) {
    int code = (sp[1] - '0') * 100 + (sp[2] - '0') * 10 + sp[3] - '0';
    CHECK(code == 200 || (code >= 400 && code < 600));
    if (code == 200)
      CHECK((n >= 12 && memcmp(p, "GET /metrics", 12) == 0) ||
            (n >= 13 && memcmp(p, "HEAD /metrics", 13) == 0));
  }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  switch (data[0] % 3) {
  case 0:
    fuzz_policy(data + 1, size - 1);
    break;
  case 1:
    fuzz_exposition(data + 1, size - 1);
    break;
  default:
    fuzz_http(data + 1, size - 1);
    break;
  }
  return 0;
}
