/* Unit tests for feature/metrics: the MetricsPortPolicy parser and
 * matcher, the standard families, and the /metrics HTTP server on
 * 127.0.0.1 with a real libevent loop and a real socket client.  All
 * traffic stays on loopback. */
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "feature/metrics/metrics_policy.h"
#include "feature/metrics/metrics_server.h"
#include "feature/metrics/metrics_std.h"
#include "lib/malloc/malloc.h"
#include "lib/metrics/metrics.h"
#include "lib/net/address.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

/* --- policy -------------------------------------------------------- */

static bool
addr_of(const char *s, net_addr_t *a)
{
  return net_addr_parse(s, strlen(s), a) == CHIVE_OK;
}

/** Parse <b>line</b> into a fresh policy; return the error. */
static chive_err_t
parse1(const char *line, metrics_policy_t *p)
{
  metrics_policy_init(p);
  return metrics_policy_parse_line(p, line, strlen(line));
}

static bool
permits(const metrics_policy_t *p, const char *addr)
{
  net_addr_t a;
  if (!addr_of(addr, &a))
    return false;
  return metrics_policy_permits(p, &a);
}

static void
test_policy_default(void)
{
  metrics_policy_t p;
  net_addr_t a;
  metrics_policy_init(&p);
  T_ASSERT(permits(&p, "127.0.0.1"));
  T_ASSERT(permits(&p, "127.9.8.7"));
  T_ASSERT(permits(&p, "::1"));
  T_ASSERT(permits(&p, "::ffff:127.0.0.1"));
  T_ASSERT(!permits(&p, "10.0.0.1"));
  T_ASSERT(!permits(&p, "192.168.1.1"));
  T_ASSERT(!permits(&p, "8.8.8.8"));
  T_ASSERT(!permits(&p, "::2"));
  memset(&a, 0, sizeof(a));
  T_ASSERT(!metrics_policy_permits(&p, &a)); /* unspecified */
  T_ASSERT(!metrics_policy_permits(&p, NULL));
  /* Listening: loopback always, others only with an accept entry. */
  T_ASSERT(addr_of("127.0.0.1", &a));
  T_ASSERT(metrics_policy_allows_listen(&p, &a));
  T_ASSERT(metrics_policy_allows_listen(NULL, &a));
  T_ASSERT(addr_of("0.0.0.0", &a));
  T_ASSERT(!metrics_policy_allows_listen(&p, &a));
  T_ASSERT(!metrics_policy_allows_listen(NULL, &a));
  T_OK(parse1("reject *", &p));
  T_ASSERT(!metrics_policy_allows_listen(&p, &a));
  T_OK(parse1("accept 10.0.0.1", &p));
  T_ASSERT(metrics_policy_allows_listen(&p, &a));
done:
  return;
}

static void
test_policy_match(void)
{
  metrics_policy_t p;
  /* 10.0.0.1 is refused unless allowed. */
  T_OK(parse1("accept 127.0.0.1", &p));
  T_ASSERT(permits(&p, "127.0.0.1"));
  T_ASSERT(!permits(&p, "127.0.0.2"));
  T_ASSERT(!permits(&p, "10.0.0.1"));
  T_OK(parse1("accept 10.0.0.1", &p));
  T_ASSERT(permits(&p, "10.0.0.1"));
  T_ASSERT(!permits(&p, "10.0.0.2"));
  T_ASSERT(!permits(&p, "127.0.0.1"));      /* an explicit policy replaces */
  T_ASSERT(permits(&p, "::ffff:10.0.0.1")); /* mapped peers are IPv4 */
  /* First match wins. */
  T_OK(parse1("reject 10.1.2.3, accept 10.0.0.0/8, reject *", &p));
  T_EQ_UINT(p.n_entries, 3);
  T_ASSERT(!permits(&p, "10.1.2.3"));
  T_ASSERT(permits(&p, "10.1.2.4"));
  T_ASSERT(permits(&p, "10.255.255.255"));
  T_ASSERT(!permits(&p, "11.0.0.0"));
  T_ASSERT(!permits(&p, "::1"));
  /* Masks that are not byte-aligned; bits past the mask are cleared. */
  T_OK(parse1("accept 192.168.1.77/27", &p));
  T_ASSERT(permits(&p, "192.168.1.64"));
  T_ASSERT(permits(&p, "192.168.1.95"));
  T_ASSERT(!permits(&p, "192.168.1.96"));
  T_ASSERT(!permits(&p, "192.168.1.63"));
  /* Families: *4, *6, accept6, IPv6 prefixes. */
  T_OK(parse1("accept *4", &p));
  T_ASSERT(permits(&p, "1.2.3.4"));
  T_ASSERT(!permits(&p, "::1"));
  T_OK(parse1("accept6 *,accept [2001:db8::]/32", &p));
  T_ASSERT(permits(&p, "::1"));
  T_ASSERT(!permits(&p, "1.2.3.4"));
  T_OK(parse1("accept [2001:db8::]/33", &p));
  T_ASSERT(permits(&p, "2001:db8:7fff::1"));
  T_ASSERT(!permits(&p, "2001:db8:8000::1"));
  T_ASSERT(!permits(&p, "127.0.0.1"));
  T_OK(parse1("reject [::1], accept *", &p));
  T_ASSERT(!permits(&p, "::1"));
  T_ASSERT(permits(&p, "127.0.0.1"));
  /* Ports are accepted and ignored; keywords are case-insensitive. */
  T_OK(parse1("  ACCEPT\t127.0.0.1:9035 ,reject *:*  ", &p));
  T_ASSERT(permits(&p, "127.0.0.1"));
  T_OK(parse1("accept 127.0.0.1/8:1-65535", &p));
  T_ASSERT(permits(&p, "127.1.1.1"));
  /* "/0" matches everything of the family. */
  T_OK(parse1("accept 1.2.3.4/0", &p));
  T_ASSERT(permits(&p, "9.9.9.9"));
  T_ASSERT(!permits(&p, "::9"));
done:
  return;
}

static void
test_policy_parse_errors(void)
{
  static const char *const bad[] = {
      "",
      " ",
      "accept",
      "accept ",
      "allow 1.2.3.4",
      "accept1.2.3.4",
      "accept 1.2.3",
      "accept 1.2.3.4.5",
      "accept 256.1.1.1",
      "accept 1.2.3.4/33",
      "accept 1.2.3.4/",
      "accept 1.2.3.4/-1",
      "accept 1.2.3.4/255.0.0.0",
      "accept [::1]/129",
      "accept ::1",
      "accept [::1",
      "accept [1.2.3.4]",
      "accept *//8",
      "accept */8",
      "accept 1.2.3.4:",
      "accept 1.2.3.4:0",
      "accept 1.2.3.4:65536",
      "accept 1.2.3.4:20-10",
      "accept 1.2.3.4:x",
      "accept 1.2.3.4 junk",
      "accept6 1.2.3.4",
      "accept *5",
      "accept 1.2.3.4,",
      ",accept 1.2.3.4",
      "accept 1.2.3.4,,reject *",
      "reject *,accept 1.2.3.4 x",
  };
  metrics_policy_t p;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    chive_err_t err = parse1(bad[i], &p);
    if (err == CHIVE_OK)
      fprintf(stderr, "  accepted: \"%s\"\n", bad[i]);
    T_EQ_INT(err, CHIVE_ERR_INVAL);
    T_EQ_UINT(p.n_entries, 0); /* all or nothing */
  }
  /* NUL inside the given length. */
  metrics_policy_init(&p);
  T_EQ_INT(metrics_policy_parse_line(&p, "accept *\0x", 10), CHIVE_ERR_INVAL);
  /* Appending across lines, and the entry limit. */
  metrics_policy_init(&p);
  T_OK(metrics_policy_parse_line(&p, "accept 1.1.1.1", 14));
  T_OK(metrics_policy_parse_line(&p, "reject *", 8));
  T_EQ_UINT(p.n_entries, 2);
  T_ASSERT(permits(&p, "1.1.1.1"));
  for (size_t i = 2; i < METRICS_POLICY_MAX_ENTRIES; i++)
    T_OK(metrics_policy_parse_line(&p, "reject *", 8));
  T_EQ_INT(metrics_policy_parse_line(&p, "reject *", 8), CHIVE_ERR_LIMIT);
  T_EQ_UINT(p.n_entries, METRICS_POLICY_MAX_ENTRIES);
  /* A line with two entries where only one fits adds neither. */
  metrics_policy_init(&p);
  for (size_t i = 1; i < METRICS_POLICY_MAX_ENTRIES; i++)
    T_OK(metrics_policy_parse_line(&p, "reject *", 8));
  T_EQ_INT(metrics_policy_parse_line(&p, "reject *,reject *", 17),
           CHIVE_ERR_LIMIT);
  T_EQ_UINT(p.n_entries, METRICS_POLICY_MAX_ENTRIES - 1);
done:
  return;
}

/** Format <b>p</b> into a fresh string. */
static char *
policy_str(const metrics_policy_t *p)
{
  strbuf_t sb;
  strbuf_init(&sb, 1 << 16);
  if (metrics_policy_format(p, &sb) != CHIVE_OK) {
    strbuf_clear(&sb);
    return NULL;
  }
  char *s = strbuf_steal(&sb, NULL);
  strbuf_clear(&sb);
  return s;
}

static void
test_policy_roundtrip(void)
{
  static const struct {
    const char *in, *canon;
  } cases[] = {
      {"accept 1.2.3.4", "accept 1.2.3.4"},
      {"reject *", "reject *"},
      {"accept 10.1.2.3/8:*", "accept 10.0.0.0/8"},
      {"accept *4,reject *6", "accept *4,reject *6"},
      {"accept6 *", "accept *6"},
      {"reject6 [::1]", "reject [::1]"},
      {"accept [2001:db8::1]/32:80", "accept [2001:db8::]/32"},
      {"accept 1.2.3.4/0", "accept *4"},
      {"accept 192.168.1.77/27, reject 127.0.0.1/32",
       "accept 192.168.1.64/27,reject 127.0.0.1"},
  };
  metrics_policy_t p, q;
  char *s = NULL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    T_OK(parse1(cases[i].in, &p));
    s = policy_str(&p);
    T_ASSERT(s);
    T_EQ_STR(s, cases[i].canon);
    /* The canonical text parses back to the same policy. */
    T_OK(parse1(s, &q));
    T_EQ_UINT(q.n_entries, p.n_entries);
    T_EQ_MEM(q.entries, p.entries, p.n_entries * sizeof(p.entries[0]));
    chive_free(s);
    s = NULL;
  }
  /* Every prefix of a valid line either fails cleanly (nothing added)
   * or parses to a policy whose canonical text parses back to it. */
  const char *line = "accept 10.0.0.0/8:80-90, reject [fe80::1]/10, "
                     "accept6 *:*, reject *4";
  for (size_t n = 0; n <= strlen(line); n++) {
    metrics_policy_init(&p);
    chive_err_t err = metrics_policy_parse_line(&p, line, n);
    if (err) {
      T_EQ_UINT(p.n_entries, 0);
      continue;
    }
    s = policy_str(&p);
    T_ASSERT(s);
    T_OK(parse1(s, &q));
    T_EQ_MEM(q.entries, p.entries, p.n_entries * sizeof(p.entries[0]));
    chive_free(s);
    s = NULL;
  }
done:
  chive_free(s);
}

/* --- standard families ---------------------------------------------- */

static const char *const STD_NAMES[] = {
    "chive_circuits_built_total",
    "chive_circuits_failed_total",
    "chive_circuit_build_seconds",
    "chive_circuits_open",
    "chive_streams_open",
    "chive_channels_open",
    "chive_streams_total",
    "chive_socks_requests_total",
    "chive_bytes_read_total",
    "chive_bytes_written_total",
    "chive_bootstrap_percent",
    "chive_consensus_age_seconds",
    "chive_guards",
    "chive_memory_bytes",
    "chive_memory_budget_bytes",
    "chive_process_start_time_seconds",
};

static char *
render(const metrics_registry_t *reg)
{
  strbuf_t sb;
  strbuf_init(&sb, 1 << 20);
  if (metrics_registry_write(reg, &sb) != CHIVE_OK) {
    strbuf_clear(&sb);
    return NULL;
  }
  char *s = strbuf_steal(&sb, NULL);
  strbuf_clear(&sb);
  return s;
}

/** Return true iff <b>name</b> is a valid metric name. */
static bool
name_ok(const char *s, size_t n)
{
  if (n == 0)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              c == ':' || (i > 0 && c >= '0' && c <= '9');
    if (!ok)
      return false;
  }
  return true;
}

/** A small independent reader of the text format 0.0.4, strict enough to
 * catch what Prometheus would reject: every line is a HELP or TYPE line
 * or a sample "name[{l="v",...}] value" whose value is a float, +Inf,
 * -Inf or NaN, every sample follows a TYPE line for its family, and the
 * text ends with a newline.  Returns the number of samples, or -1. */
static long
check_exposition(const char *text)
{
  long n_samples = 0;
  char family[160] = "";
  const char *p = text;
  if (*p && text[strlen(text) - 1] != '\n')
    return -1;
  while (*p) {
    const char *eol = strchr(p, '\n');
    size_t len = (size_t)(eol - p);
    if (len >= 7 && !strncmp(p, "# HELP ", 7)) {
      /* The help text may contain only \\ and \n escapes. */
      for (const char *q = p + 7; q < eol; q++) {
        if (*q == '\\' && q + 1 < eol && (q[1] == '\\' || q[1] == 'n'))
          q++;
        else if (*q == '\\')
          return -1;
      }
    } else if (len >= 7 && !strncmp(p, "# TYPE ", 7)) {
      const char *nm = p + 7;
      const char *sp = memchr(nm, ' ', (size_t)(eol - nm));
      if (!sp || !name_ok(nm, (size_t)(sp - nm)) ||
          (size_t)(sp - nm) >= sizeof(family))
        return -1;
      memcpy(family, nm, (size_t)(sp - nm));
      family[sp - nm] = '\0';
      size_t tl = (size_t)(eol - sp - 1);
      if (!((tl == 7 && !strncmp(sp + 1, "counter", 7)) ||
            (tl == 5 && !strncmp(sp + 1, "gauge", 5)) ||
            (tl == 9 && !strncmp(sp + 1, "histogram", 9))))
        return -1;
    } else if (len > 0 && p[0] != '#') {
      const char *q = p;
      while (q < eol && *q != '{' && *q != ' ')
        q++;
      if (!name_ok(p, (size_t)(q - p)) || !family[0] ||
          strncmp(p, family, strlen(family)) != 0)
        return -1;
      if (q < eol && *q == '{') {
        q++;
        while (q < eol && *q != '}') {
          const char *ln = q;
          while (q < eol && *q != '=')
            q++;
          if (!name_ok(ln, (size_t)(q - ln)) || q + 1 >= eol || q[1] != '"')
            return -1;
          q += 2;
          while (q < eol && *q != '"') {
            if (*q == '\\') {
              if (q + 1 >= eol || (q[1] != '\\' && q[1] != '"' && q[1] != 'n'))
                return -1;
              q++;
            }
            q++;
          }
          if (q >= eol)
            return -1;
          q++; /* closing quote */
          if (q < eol && *q == ',')
            q++;
        }
        if (q >= eol)
          return -1;
        q++; /* '}' */
      }
      if (q >= eol || *q != ' ')
        return -1;
      q++;
      char num[64];
      size_t nl = (size_t)(eol - q);
      if (nl == 0 || nl >= sizeof(num))
        return -1;
      memcpy(num, q, nl);
      num[nl] = '\0';
      if (strcmp(num, "+Inf") && strcmp(num, "-Inf") && strcmp(num, "NaN")) {
        char *end = NULL;
        (void)strtod(num, &end);
        if (!end || *end)
          return -1;
      }
      n_samples++;
    } else {
      return -1;
    }
    p = eol + 1;
  }
  return n_samples;
}

static void
test_std_register(void)
{
  metrics_registry_t *reg = metrics_registry_new(METRICS_STD_PREFIX);
  metrics_std_t m, m2;
  char *out = NULL;
  char needle[200];
  T_ASSERT(reg);
  T_OK(metrics_std_register(reg, 1700000000, &m));
  T_EQ_UINT(metrics_registry_n_families(reg), CHIVE_ARRAY_LEN(STD_NAMES));
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(STD_NAMES); i++)
    T_ASSERT(metrics_registry_find(reg, STD_NAMES[i]));
  metrics_counter_inc(m.circuits_built);
  metrics_counter_inc(m.circuits_failed[METRICS_CIRC_FAIL_TIMEOUT]);
  metrics_histogram_observe(m.circuit_build_seconds, 0.7);
  metrics_gauge_set(m.circuits_open, 4);
  metrics_gauge_set(m.guards[METRICS_GUARD_CONFIRMED], 2);
  metrics_counter_add(m.bytes_read, 514);
  metrics_counter_inc(m.socks_requests[METRICS_SOCKS_REJECTED]);
  metrics_gauge_set(m.bootstrap_percent, 100);
  /* Other label values fit up to the family bound. */
  metrics_counter_t *extra = NULL;
  T_OK(metrics_family_counter(m.circuits_failed_family,
                              (const char *const[]){"finished"}, &extra));
  out = render(reg);
  T_ASSERT(out);
  T_ASSERT(check_exposition(out) > 30);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(STD_NAMES); i++) {
    snprintf(needle, sizeof(needle), "# TYPE %s ", STD_NAMES[i]);
    T_ASSERT(strstr(out, needle));
    snprintf(needle, sizeof(needle), "# HELP %s ", STD_NAMES[i]);
    T_ASSERT(strstr(out, needle));
  }
  T_ASSERT(strstr(out, "\nchive_circuits_built_total 1\n"));
  T_ASSERT(
      strstr(out, "\nchive_circuits_failed_total{reason=\"timeout\"} 1\n"));
  T_ASSERT(
      strstr(out, "\nchive_circuits_failed_total{reason=\"channel\"} 0\n"));
  T_ASSERT(
      strstr(out, "\nchive_circuits_failed_total{reason=\"finished\"} 0\n"));
  T_ASSERT(
      strstr(out, "\nchive_circuit_build_seconds_bucket{le=\"0.5\"} 0\n"));
  T_ASSERT(strstr(out, "\nchive_circuit_build_seconds_bucket{le=\"1\"} 1\n"));
  T_ASSERT(
      strstr(out, "\nchive_circuit_build_seconds_bucket{le=\"+Inf\"} 1\n"));
  T_ASSERT(strstr(out, "\nchive_circuit_build_seconds_sum 0.7\n"));
  T_ASSERT(strstr(out, "\n# TYPE chive_circuit_build_seconds histogram\n"));
  T_ASSERT(strstr(out, "\nchive_guards{state=\"confirmed\"} 2\n"));
  T_ASSERT(strstr(out, "\nchive_guards{state=\"sampled\"} 0\n"));
  T_ASSERT(strstr(out, "\nchive_guards{state=\"usable\"} 0\n"));
  T_ASSERT(
      strstr(out, "\nchive_socks_requests_total{result=\"rejected\"} 1\n"));
  T_ASSERT(strstr(out, "\nchive_streams_total{result=\"succeeded\"} 0\n"));
  T_ASSERT(strstr(out, "\nchive_bytes_read_total 514\n"));
  T_ASSERT(strstr(out, "\nchive_bootstrap_percent 100\n"));
  T_ASSERT(strstr(out, "\nchive_process_start_time_seconds 1700000000\n"));
  T_ASSERT(strstr(out, "\nchive_memory_bytes "));
  T_ASSERT(!strstr(out, "\nchive_memory_bytes 0\n")); /* live callback */
  T_EQ_STR(metrics_circ_fail_str(METRICS_CIRC_FAIL_NO_PATH), "no_path");
  T_EQ_STR(metrics_stream_result_str(METRICS_STREAM_REFUSED), "refused");
  T_EQ_STR(metrics_socks_result_str(METRICS_SOCKS_FAILED), "failed");
  T_EQ_STR(metrics_guard_state_str(METRICS_GUARD_USABLE), "usable");
  /* Registering twice clashes; the handles are zeroed on failure. */
  memset(&m2, 0xff, sizeof(m2));
  T_EQ_INT(metrics_std_register(reg, 0, &m2), CHIVE_ERR_INVAL);
  T_ASSERT(m2.circuits_built == NULL && m2.guards_family == NULL);
  /* A zeroed metrics_std_t (metrics off) is safe to update. */
  memset(&m2, 0, sizeof(m2));
  metrics_counter_inc(m2.circuits_built);
  metrics_gauge_inc(m2.streams_open);
  metrics_histogram_observe(m2.circuit_build_seconds, 1.0);
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static void
test_std_oom(void)
{
  int n_failed = 0;
  for (uint64_t n = 1; n < 1000; n++) {
    metrics_registry_t *reg = NULL;
    metrics_std_t m;
    chive_mem_fail_nth(n, false);
    reg = metrics_registry_new(METRICS_STD_PREFIX);
    chive_err_t err = reg ? metrics_std_register(reg, 0, &m) : CHIVE_ERR_NOMEM;
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    metrics_registry_free(reg);
    if (!fired) {
      T_OK(err);
      break;
    }
    T_EQ_INT(err, CHIVE_ERR_NOMEM);
    n_failed++;
  }
  T_ASSERT(n_failed > 20);
done:
  return;
}

/* --- promtool (optional) --------------------------------------------- */

#define PROMTOOL "/usr/bin/promtool"

/** Run "promtool check metrics" on <b>text</b>; return its exit status,
 * or -1 if it could not be run. */
static int
run_promtool(const char *text, char *msg, size_t msg_len)
{
  char path[] = "/tmp/chive-metrics-XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0)
    return -1;
  size_t len = strlen(text);
  bool ok = write(fd, text, len) == (ssize_t)len;
  close(fd);
  int status = -1;
  if (ok) {
    char cmd[256];
    snprintf(cmd, sizeof(cmd), PROMTOOL " check metrics < %s 2>&1", path);
    FILE *f = popen(cmd, "r");
    if (f) {
      size_t n = fread(msg, 1, msg_len - 1, f);
      msg[n] = '\0';
      int st = pclose(f);
      status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    }
  }
  unlink(path);
  return status;
}

static void
test_promtool(void)
{
  metrics_registry_t *reg = NULL;
  metrics_std_t m;
  char *out = NULL;
  char msg[4096];
  if (access(PROMTOOL, X_OK) != 0)
    T_SKIP("promtool not installed (Debian package 'prometheus')");
  reg = metrics_registry_new(METRICS_STD_PREFIX);
  T_ASSERT(reg);
  T_OK(metrics_std_register(reg, 1700000000, &m));
  metrics_histogram_observe(m.circuit_build_seconds, 0.3);
  metrics_counter_t *odd = NULL;
  T_OK(metrics_family_counter(m.circuits_failed_family,
                              (const char *const[]){"a\"b\\c\nd"}, &odd));
  metrics_counter_inc(odd);
  out = render(reg);
  T_ASSERT(out);
  int st = run_promtool(out, msg, sizeof(msg));
  if (st != 0)
    fprintf(stderr, "  promtool said (exit %d):\n%s\n", st, msg);
  T_EQ_INT(st, 0);
done:
  chive_free(out);
  metrics_registry_free(reg);
}

/* --- the HTTP server ------------------------------------------------- */

typedef struct fixture_t {
  struct event_base *base;
  metrics_registry_t *reg;
  metrics_std_t m;
  metrics_server_t *srv;
  uint16_t port;
} fixture_t;

static bool
setup(fixture_t *f, const char *policy_line, unsigned timeout_s)
{
  metrics_policy_t pol;
  memset(f, 0, sizeof(*f));
  f->base = event_base_new();
  f->reg = metrics_registry_new(METRICS_STD_PREFIX);
  if (!f->base || !f->reg)
    return false;
  if (metrics_std_register(f->reg, 1700000000, &f->m) != CHIVE_OK)
    return false;
  metrics_server_cfg_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  if (net_addrport_parse_str("127.0.0.1:1", &cfg.listen) != CHIVE_OK)
    return false;
  cfg.listen.port = 0; /* pick a free port */
  cfg.timeout_s = timeout_s;
  if (policy_line) {
    metrics_policy_init(&pol);
    if (metrics_policy_parse_line(&pol, policy_line, strlen(policy_line)))
      return false;
    cfg.policy = &pol;
  }
  if (metrics_server_new(f->base, f->reg, &cfg, NULL, &f->srv) != CHIVE_OK)
    return false;
  f->port = metrics_server_addr(f->srv)->port;
  return f->port != 0;
}

static void
teardown(fixture_t *f)
{
  metrics_server_free(f->srv);
  metrics_registry_free(f->reg);
  if (f->base)
    event_base_free(f->base);
  f->base = NULL;
}

static uint64_t
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/** A finished exchange with the server. */
typedef struct exchange_t {
  char *resp; /**< chive_malloc'd, NUL-terminated */
  size_t len;
  bool eof; /**< the server closed the connection (EOF or reset) */
} exchange_t;

/** Connect to the server, send <b>req_len</b> bytes of <b>req</b>, and
 * read until the server closes, running the event loop meanwhile, for at
 * most <b>limit_ms</b>.  Returns false only if the test itself failed
 * (socket errors, out of memory). */
static bool
exchange(fixture_t *f, const char *req, size_t req_len, uint64_t limit_ms,
         exchange_t *out)
{
  memset(out, 0, sizeof(*out));
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in sin;
  memset(&sin, 0, sizeof(sin));
  sin.sin_family = AF_INET;
  sin.sin_port = htons(f->port);
  sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  /* A blocking connect to a listening loopback socket completes in the
   * kernel without the server's loop running. */
  if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
    close(fd);
    return false;
  }
  if (fcntl(fd, F_SETFL, O_NONBLOCK) != 0) {
    close(fd);
    return false;
  }
  size_t sent = 0, cap = 1 << 16;
  out->resp = chive_malloc(cap + 1);
  if (!out->resp) {
    close(fd);
    return false;
  }
  uint64_t deadline = now_ms() + limit_ms;
  while (now_ms() < deadline) {
    if (sent < req_len) {
      ssize_t w = send(fd, req + sent, req_len - sent, MSG_NOSIGNAL);
      if (w > 0)
        sent += (size_t)w;
      else if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
        sent = req_len; /* the server closed on us: stop sending */
    }
    event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    if (out->len == cap) {
      char *n = chive_realloc(out->resp, cap * 2 + 1);
      if (!n)
        break;
      out->resp = n;
      cap *= 2;
    }
    ssize_t r = recv(fd, out->resp + out->len, cap - out->len, 0);
    if (r > 0) {
      out->len += (size_t)r;
      continue;
    }
    if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
      out->eof = true;
      break;
    }
    usleep(1000);
  }
  out->resp[out->len] = '\0';
  close(fd);
  return true;
}

static bool
exchange_str(fixture_t *f, const char *req, exchange_t *out)
{
  return exchange(f, req, strlen(req), 5000, out);
}

/** Return the HTTP status code of a response, or -1. */
static int
status_of(const exchange_t *x)
{
  if (x->len < 12 || strncmp(x->resp, "HTTP/1.", 7) != 0)
    return -1;
  return (x->resp[9] - '0') * 100 + (x->resp[10] - '0') * 10 +
         (x->resp[11] - '0');
}

/** Return the body of a response (after the blank line), or NULL. */
static const char *
body_of(const exchange_t *x)
{
  const char *p = strstr(x->resp, "\r\n\r\n");
  return p ? p + 4 : NULL;
}

static void
test_http_scrape(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  T_ASSERT(setup(&f, NULL, 0));
  metrics_counter_add(f.m.circuits_built, 3);
  metrics_histogram_observe(f.m.circuit_build_seconds, 1.5);
  T_ASSERT(exchange_str(&f, "GET /metrics HTTP/1.0\r\n\r\n", &x));
  T_ASSERT(x.eof);
  T_EQ_INT(status_of(&x), 200);
  T_ASSERT(strstr(x.resp, "\r\nContent-Type: text/plain; version=0.0.4; "
                          "charset=utf-8\r\n"));
  const char *body = body_of(&x);
  T_ASSERT(body);
  /* Content-Length matches the body. */
  const char *cl = strstr(x.resp, "\r\nContent-Length: ");
  T_ASSERT(cl && cl < body);
  T_EQ_UINT(strtoul(cl + 18, NULL, 10), strlen(body));
  T_ASSERT(check_exposition(body) > 30);
  T_ASSERT(strstr(body, "\nchive_circuits_built_total 3\n"));
  T_ASSERT(
      strstr(body, "\nchive_circuit_build_seconds_bucket{le=\"2.5\"} 1\n"));
  T_ASSERT(strstr(body, "\nchive_circuit_build_seconds_count 1\n"));
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 1);
  chive_free(x.resp);
  x.resp = NULL;
  /* A query string is fine; HTTP/1.1 with Connection: close too. */
  T_ASSERT(exchange_str(&f,
                        "GET /metrics?x=1 HTTP/1.1\r\nHost: localhost\r\n"
                        "Connection: close\r\n\r\n",
                        &x));
  T_EQ_INT(status_of(&x), 200);
  T_ASSERT(x.eof);
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 2);
done:
  chive_free(x.resp);
  teardown(&f);
}

/* HEAD /metrics: the GET headers (Content-Length of the exposition)
 * and no body. */
static void
test_http_head(void)
{
  fixture_t f;
  exchange_t x, g;
  memset(&x, 0, sizeof(x));
  memset(&g, 0, sizeof(g));
  T_ASSERT(setup(&f, NULL, 0));
  /* Fix the one value that changes between scrapes (memory in use). */
  metrics_gauge_set_callback(f.m.memory_bytes, NULL, NULL);
  metrics_gauge_set(f.m.memory_bytes, 12345);
  T_ASSERT(exchange_str(&f, "HEAD /metrics HTTP/1.0\r\n\r\n", &x));
  T_ASSERT(x.eof);
  T_EQ_INT(status_of(&x), 200);
  T_ASSERT(strstr(x.resp, "\r\nContent-Type: text/plain; version=0.0.4; "
                          "charset=utf-8\r\n"));
  const char *body = body_of(&x);
  T_ASSERT(body);
  T_EQ_UINT(strlen(body), 0);
  const char *cl = strstr(x.resp, "\r\nContent-Length: ");
  T_ASSERT(cl);
  unsigned long head_len = strtoul(cl + 18, NULL, 10);
  T_ASSERT(exchange_str(&f, "GET /metrics HTTP/1.0\r\n\r\n", &g));
  T_EQ_INT(status_of(&g), 200);
  T_ASSERT(body_of(&g));
  T_EQ_UINT(head_len, strlen(body_of(&g)));
  T_ASSERT(head_len > 100);
  /* HEAD of another path is still 404. */
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "HEAD /nope HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 404);
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 2);
done:
  chive_free(x.resp);
  chive_free(g.resp);
  teardown(&f);
}

static int count_scrape_cb_calls_ = 0;

static void
scrape_cb(void *arg)
{
  metrics_std_t *m = arg;
  count_scrape_cb_calls_++;
  metrics_gauge_set(m->circuits_open, 42);
}

static void
test_http_keepalive_and_cb(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  T_ASSERT(setup(&f, NULL, 0));
  count_scrape_cb_calls_ = 0;
  metrics_server_set_scrape_cb(f.srv, scrape_cb, &f.m);
  /* Two pipelined HTTP/1.1 requests on one connection, the second one
   * asking to close. */
  T_ASSERT(exchange_str(&f,
                        "GET /metrics HTTP/1.1\r\nHost: a\r\n\r\n"
                        "GET /metrics HTTP/1.1\r\nHost: a\r\n"
                        "Connection: close\r\n\r\n",
                        &x));
  T_ASSERT(x.eof);
  T_EQ_INT(status_of(&x), 200);
  const char *second = strstr(x.resp + 1, "HTTP/1.1 200 OK\r\n");
  T_ASSERT(second);
  T_EQ_INT(count_scrape_cb_calls_, 2);
  T_ASSERT(strstr(x.resp, "\nchive_circuits_open 42\n"));
done:
  chive_free(x.resp);
  teardown(&f);
}

static void
test_http_errors(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  T_ASSERT(setup(&f, NULL, 0));
  T_ASSERT(exchange_str(&f, "GET /other HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 404);
  T_ASSERT(x.eof);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "GET /metrics/ HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 404);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "GET / HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 404);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f,
                        "POST /metrics HTTP/1.0\r\nContent-Length: 3\r\n"
                        "\r\nabc",
                        &x));
  T_EQ_INT(status_of(&x), 405);
  T_ASSERT(strstr(x.resp, "\r\nAllow: GET, HEAD\r\n"));
  T_ASSERT(x.eof);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "DELETE /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 405);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "PUT /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 405);
  chive_free(x.resp);
  T_ASSERT(exchange_str(&f, "OPTIONS /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 405);
  chive_free(x.resp);
  /* POST to another path: 404 (the path is matched first). */
  T_ASSERT(exchange_str(&f, "POST /x HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 404);
  chive_free(x.resp);
  x.resp = NULL;
  const metrics_server_stats_t *st = metrics_server_stats(f.srv);
  T_EQ_UINT(st->n_not_found, 4);
  T_EQ_UINT(st->n_bad_method, 4);
  T_EQ_UINT(st->n_scrapes, 0);
done:
  chive_free(x.resp);
  teardown(&f);
}

/** After hostile input, the server must still serve a normal scrape. */
static bool
still_serves(fixture_t *f)
{
  exchange_t x;
  if (!exchange_str(f, "GET /metrics HTTP/1.0\r\n\r\n", &x))
    return false;
  bool ok = status_of(&x) == 200 && x.eof;
  chive_free(x.resp);
  return ok;
}

static void
test_http_garbage(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
#define J(s)         \
  {                  \
    s, sizeof(s) - 1 \
  }
  static const struct {
    const char *s;
    size_t len;
  } junk[] = {
      J("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n"),
      J("GARBAGE\r\n\r\n"),
      J("GET\r\n\r\n"),
      J("GET /metrics HTTP/9.9\r\n\r\n"),
      J("GET /metrics HTTP/1.0\r\nno colon here\r\n\r\n"),
      J("GET /metrics HTTP/1.0\r\nContent-Length: -5\r\n\r\n"),
      J("\r\n\r\n\r\n"),
      J("GET /metrics HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
  };
#undef J
  /* A 2 s timeout ends anything evhttp waits on. */
  T_ASSERT(setup(&f, NULL, 2));
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(junk); i++) {
    T_ASSERT(exchange(&f, junk[i].s, junk[i].len, 6000, &x));
    /* A clean close, with at most an error status: never a scrape. */
    if (!x.eof)
      fprintf(stderr, "  junk %zu: no close; got %zu bytes: %.200s\n", i,
              x.len, x.resp);
    T_ASSERT(x.eof);
    int st = status_of(&x);
    if (st != -1 && !(st >= 400 && st < 600))
      fprintf(stderr, "  junk %zu got status %d\n", i, st);
    T_ASSERT(st == -1 || (st >= 400 && st < 600));
    chive_free(x.resp);
    x.resp = NULL;
  }
  /* Binary noise with NULs. */
  char noise[1024];
  for (size_t i = 0; i < sizeof(noise); i++)
    noise[i] = (char)((i * 131u + 7u) & 0xffu);
  T_ASSERT(exchange(&f, noise, sizeof(noise), 5000, &x));
  T_ASSERT(x.eof);
  chive_free(x.resp);
  x.resp = NULL;
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 0);
  T_ASSERT(still_serves(&f));
done:
  chive_free(x.resp);
  teardown(&f);
}

static void
test_http_limits(void)
{
  fixture_t f;
  exchange_t x;
  char *big = NULL;
  memset(&x, 0, sizeof(x));
  T_ASSERT(setup(&f, NULL, 0));
  /* An over-long header: refused with a 4xx or closed, never served. */
  size_t n = 4 * METRICS_HTTP_MAX_HEADERS_LEN;
  big = chive_malloc(n + 64);
  T_ASSERT(big);
  size_t off = (size_t)snprintf(big, 64, "GET /metrics HTTP/1.0\r\nX-A: ");
  memset(big + off, 'a', n);
  memcpy(big + off + n, "\r\n\r\n", 4);
  T_ASSERT(exchange(&f, big, off + n + 4, 5000, &x));
  T_ASSERT(x.eof);
  int st = status_of(&x);
  T_ASSERT(st == -1 || (st >= 400 && st < 500));
  chive_free(x.resp);
  x.resp = NULL;
  /* An over-long request line. */
  memcpy(big, "GET /", 5);
  memset(big + 5, 'm', n);
  memcpy(big + 5 + n, " HTTP/1.0\r\n\r\n", 13);
  T_ASSERT(exchange(&f, big, n + 18, 5000, &x));
  T_ASSERT(x.eof);
  st = status_of(&x);
  T_ASSERT(st == -1 || (st >= 400 && st < 500));
  chive_free(x.resp);
  x.resp = NULL;
  /* A body over the limit. */
  off = (size_t)snprintf(big, 128,
                         "POST /metrics HTTP/1.0\r\nContent-Length: %zu"
                         "\r\n\r\n",
                         n);
  memset(big + off, 'b', n - off);
  T_ASSERT(exchange(&f, big, n, 5000, &x));
  T_ASSERT(x.eof);
  st = status_of(&x);
  T_ASSERT(st == -1 || (st >= 400 && st < 500));
  chive_free(x.resp);
  x.resp = NULL;
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 0);
  T_ASSERT(still_serves(&f));
done:
  chive_free(big);
  chive_free(x.resp);
  teardown(&f);
}

static void
test_http_slowloris(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  T_ASSERT(setup(&f, NULL, 1)); /* 1 s timeout */
  /* An incomplete request head, then silence: the server closes. */
  uint64_t t0 = now_ms();
  T_ASSERT(exchange(&f, "GET /metrics HTTP/1.0\r\nX-Slow: 1", 33, 8000, &x));
  uint64_t took = now_ms() - t0;
  T_ASSERT(x.eof);
  T_ASSERT(took < 5000);
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 0);
  chive_free(x.resp);
  x.resp = NULL;
  /* A connection that sends nothing at all is closed too. */
  t0 = now_ms();
  T_ASSERT(exchange(&f, "", 0, 8000, &x));
  T_ASSERT(x.eof);
  T_ASSERT(now_ms() - t0 < 5000);
  T_ASSERT(still_serves(&f));
done:
  chive_free(x.resp);
  teardown(&f);
}

static void
test_http_policy_refuses(void)
{
  fixture_t f;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  /* Listening on loopback, but the policy lets only 10.0.0.1 in: our
   * 127.0.0.1 client is refused with 403. */
  T_ASSERT(setup(&f, "accept 10.0.0.1", 0));
  T_ASSERT(exchange_str(&f, "GET /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 403);
  T_ASSERT(x.eof);
  T_ASSERT(!strstr(x.resp, "chive_"));
  T_EQ_UINT(metrics_server_stats(f.srv)->n_refused, 1);
  T_EQ_UINT(metrics_server_stats(f.srv)->n_scrapes, 0);
  chive_free(x.resp);
  x.resp = NULL;
  teardown(&f);
  /* An explicit accept for loopback works. */
  T_ASSERT(setup(&f, "reject 10.0.0.1, accept 127.0.0.0/8", 0));
  T_ASSERT(still_serves(&f));
  teardown(&f);
  T_ASSERT(setup(&f, "reject *", 0));
  T_ASSERT(exchange_str(&f, "GET /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 403);
done:
  chive_free(x.resp);
  teardown(&f);
}

static void
test_http_listen_rules(void)
{
  struct event_base *base = event_base_new();
  metrics_registry_t *reg = metrics_registry_new(NULL);
  metrics_server_t *srv = NULL, *srv2 = NULL;
  metrics_server_cfg_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  T_ASSERT(base && reg);
  /* A non-loopback (wildcard) address is refused without a policy that
   * accepts someone; nothing is bound. */
  T_OK(net_addrport_parse_str("0.0.0.0:9035", &cfg.listen));
  T_EQ_INT(metrics_server_new(base, reg, &cfg, NULL, &srv), CHIVE_ERR_INVAL);
  T_ASSERT(!srv);
  T_OK(net_addrport_parse_str("[::]:9035", &cfg.listen));
  T_EQ_INT(metrics_server_new(base, reg, &cfg, NULL, &srv), CHIVE_ERR_INVAL);
  /* An unspecified address is a caller error. */
  memset(&cfg.listen, 0, sizeof(cfg.listen));
  T_EQ_INT(metrics_server_new(base, reg, &cfg, NULL, &srv), CHIVE_ERR_INVAL);
  /* Port 0 picks a port; the same port again is in use. */
  T_OK(net_addrport_parse_str("127.0.0.1:1", &cfg.listen));
  cfg.listen.port = 0;
  T_OK(metrics_server_new(base, reg, &cfg, NULL, &srv));
  const net_addrport_t *b = metrics_server_addr(srv);
  T_ASSERT(b->port != 0);
  T_ASSERT(net_addr_eq(&b->addr, &cfg.listen.addr));
  cfg.listen.port = b->port;
  T_EQ_INT(metrics_server_new(base, reg, &cfg, NULL, &srv2), CHIVE_ERR_IO);
  T_ASSERT(!srv2);
done:
  metrics_server_free(srv);
  metrics_server_free(srv2);
  metrics_registry_free(reg);
  if (base)
    event_base_free(base);
}

static void
test_http_too_big(void)
{
  struct event_base *base = event_base_new();
  metrics_registry_t *reg = metrics_registry_new(METRICS_STD_PREFIX);
  metrics_server_t *srv = NULL;
  metrics_std_t m;
  metrics_server_cfg_t cfg;
  exchange_t x;
  memset(&x, 0, sizeof(x));
  memset(&cfg, 0, sizeof(cfg));
  T_ASSERT(base && reg);
  T_OK(metrics_std_register(reg, 0, &m));
  T_OK(net_addrport_parse_str("127.0.0.1:1", &cfg.listen));
  cfg.listen.port = 0;
  cfg.max_response_len = 100; /* far too small: 500, not a cut text */
  T_OK(metrics_server_new(base, reg, &cfg, NULL, &srv));
  fixture_t f = {.base = base, .port = metrics_server_addr(srv)->port};
  T_ASSERT(exchange_str(&f, "GET /metrics HTTP/1.0\r\n\r\n", &x));
  T_EQ_INT(status_of(&x), 500);
  T_ASSERT(!strstr(x.resp, "# HELP"));
  T_EQ_UINT(metrics_server_stats(srv)->n_errors, 1);
done:
  chive_free(x.resp);
  metrics_server_free(srv);
  metrics_registry_free(reg);
  if (base)
    event_base_free(base);
}

static const t_case cases[] = {T_CASE(test_policy_default),
                               T_CASE(test_policy_match),
                               T_CASE(test_policy_parse_errors),
                               T_CASE(test_policy_roundtrip),
                               T_CASE(test_http_head),
                               T_CASE(test_std_register),
                               T_CASE(test_std_oom),
                               T_CASE(test_promtool),
                               T_CASE(test_http_scrape),
                               T_CASE(test_http_keepalive_and_cb),
                               T_CASE(test_http_errors),
                               T_CASE(test_http_garbage),
                               T_CASE(test_http_limits),
                               T_CASE(test_http_slowloris),
                               T_CASE(test_http_policy_refuses),
                               T_CASE(test_http_listen_rules),
                               T_CASE(test_http_too_big),
                               T_END};

T_MAIN(cases)
