/* Unit tests for feature/metrics/metrics_port: the MetricsPort value
 * parser ("[address:]port|auto|0 [prometheus]"). */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "feature/metrics/metrics_port.h"
#include "lib/malloc/malloc.h"
#include "lib/net/address.h"
#include "tinytest.h"

static chive_err_t
parse(const char *s, metrics_port_t *out)
{
  const char *why = NULL;
  chive_err_t err = metrics_port_parse(s, strlen(s), out, &why);
  if (err && !why)
    return CHIVE_ERR_INTERNAL; /* an error must say why */
  return err;
}

/** Format <b>mp</b> as "addr:port" (brackets for IPv6, "auto" for 0). */
static void
fmt(const metrics_port_t *mp, char *buf, size_t len)
{
  char a[NET_ADDR_STR_LEN];
  net_addr_format(&mp->addr.addr, a, sizeof(a));
  bool v6 = mp->addr.addr.family == NET_AF_INET6;
  if (mp->addr.port)
    snprintf(buf, len, "%s%s%s:%u", v6 ? "[" : "", a, v6 ? "]" : "",
             (unsigned)mp->addr.port);
  else
    snprintf(buf, len, "%s%s%s:auto", v6 ? "[" : "", a, v6 ? "]" : "");
}

static void
test_valid(void)
{
  static const struct {
    const char *in;
    bool disabled;
    const char *want; /* fmt() of the result */
  } cases[] = {
      {"0", true, NULL},
      {"0 prometheus", true, NULL},
      {"9035", false, "127.0.0.1:9035"},
      {"  9035  ", false, "127.0.0.1:9035"},
      {"1", false, "127.0.0.1:1"},
      {"65535", false, "127.0.0.1:65535"},
      {"auto", false, "127.0.0.1:auto"},
      {"AUTO", false, "127.0.0.1:auto"},
      {"127.0.0.1:9035", false, "127.0.0.1:9035"},
      {"127.0.0.1:9035 prometheus", false, "127.0.0.1:9035"},
      {"127.0.0.1:9035\tPrometheus", false, "127.0.0.1:9035"},
      {"10.1.2.3:80", false, "10.1.2.3:80"},
      {"0.0.0.0:9035", false, "0.0.0.0:9035"},
      {"127.0.0.2:auto", false, "127.0.0.2:auto"},
      {"[::1]:9035", false, "[::1]:9035"},
      {"[::1]:auto", false, "[::1]:auto"},
      {"[2001:db8::5]:443", false, "[2001:db8::5]:443"},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    metrics_port_t mp;
    char buf[NET_ADDRPORT_STR_LEN + 8];
    memset(&mp, 0xa5, sizeof(mp));
    T_OK(parse(cases[i].in, &mp));
    T_EQ_INT(mp.disabled, cases[i].disabled);
    if (cases[i].disabled) {
      T_EQ_INT(mp.addr.addr.family, NET_AF_UNSPEC);
      T_EQ_UINT(mp.addr.port, 0);
      continue;
    }
    fmt(&mp, buf, sizeof(buf));
    T_EQ_STR(buf, cases[i].want);
  }
done:
  return;
}

static void
test_invalid(void)
{
  static const char *const bad[] = {
      "",
      "   ",
      "65536",
      "99999999",
      "-1",
      "+80",
      "0x50",
      "80a",
      "port",
      "127.0.0.1",
      "127.0.0.1:",
      "127.0.0.1:0",
      "127.0.0.1:65536",
      "127.0.0.1:-5",
      ":80",
      "::1:9035",
      "[::1]",
      "[::1]:",
      "[127.0.0.1]:80",
      "[::1:80",
      "::1]:80",
      "256.0.0.1:80",
      "localhost:9035",
      "unix:/tmp/metrics",
      "9035 json",
      "9035 prometheus extra",
      "auto prometheusx",
      "9035,9036",
      "\x01\x39\x30\x33\x35", /* "\x01" then "9035" */
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    metrics_port_t mp;
    memset(&mp, 0x5a, sizeof(mp));
    metrics_port_t before = mp;
    chive_err_t err = parse(bad[i], &mp);
    if (err == CHIVE_OK)
      fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
    T_EQ_INT(err, CHIVE_ERR_INVAL);
    /* Out-param untouched on failure. */
    T_EQ_MEM(&mp, &before, sizeof(mp));
  }
  /* An embedded NUL inside the given length is refused. */
  {
    metrics_port_t mp;
    T_EQ_INT(metrics_port_parse("90\0" "35", 5, &mp, NULL), CHIVE_ERR_INVAL);
  }
  /* Over-long values. */
  {
    char big[METRICS_PORT_LINE_MAX_LEN + 2];
    memset(big, ' ', sizeof(big));
    memcpy(big, "9035", 4);
    metrics_port_t mp;
    T_EQ_INT(metrics_port_parse(big, sizeof(big), &mp, NULL),
             CHIVE_ERR_LIMIT);
    T_OK(metrics_port_parse(big, METRICS_PORT_LINE_MAX_LEN, &mp, NULL));
    T_EQ_UINT(mp.addr.port, 9035);
  }
  /* NULL arguments. */
  {
    metrics_port_t mp;
    T_EQ_INT(metrics_port_parse(NULL, 0, &mp, NULL), CHIVE_ERR_INVAL);
    T_EQ_INT(metrics_port_parse("80", 2, NULL, NULL), CHIVE_ERR_INVAL);
  }
done:
  return;
}

/* Every prefix of valid values parses or fails cleanly, and the parser
 * never reads past the length it is given (the copy has no NUL). */
static void
test_truncation(void)
{
  static const char *const inputs[] = {"[2001:db8::5]:443 prometheus",
                                       "127.0.0.1:9035 prometheus",
                                       "auto prometheus"};
  for (size_t k = 0; k < CHIVE_ARRAY_LEN(inputs); k++) {
    size_t n = strlen(inputs[k]);
    for (size_t len = 0; len <= n; len++) {
      char *copy = chive_malloc(len ? len : 1);
      T_ASSERT(copy);
      memcpy(copy, inputs[k], len);
      metrics_port_t mp;
      chive_err_t err = metrics_port_parse(copy, len, &mp, NULL);
      chive_free(copy);
      T_ASSERT(err == CHIVE_OK || err == CHIVE_ERR_INVAL);
    }
  }
  /* Specific prefixes. */
  {
    metrics_port_t mp;
    T_OK(metrics_port_parse("127.0.0.1:9035 prometheus", 14, &mp, NULL));
    T_EQ_UINT(mp.addr.port, 9035);
    T_OK(metrics_port_parse("127.0.0.1:9035 prometheus", 12, &mp, NULL));
    T_EQ_UINT(mp.addr.port, 90);
    T_EQ_INT(metrics_port_parse("127.0.0.1:9035", 10, &mp, NULL),
             CHIVE_ERR_INVAL);
  }
done:
  return;
}

/* parse(fmt(parse(x))) == parse(x). */
static void
test_roundtrip(void)
{
  static const char *const inputs[] = {"9035", "auto", "10.0.0.1:1",
                                       "[::1]:auto", "[fe80::1]:65535",
                                       "0.0.0.0:80 prometheus"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(inputs); i++) {
    metrics_port_t a, b;
    char buf[NET_ADDRPORT_STR_LEN + 8];
    T_OK(parse(inputs[i], &a));
    fmt(&a, buf, sizeof(buf));
    T_OK(parse(buf, &b));
    T_EQ_INT(a.disabled, b.disabled);
    T_ASSERT(net_addrport_eq(&a.addr, &b.addr));
  }
done:
  return;
}

static const t_case cases[] = {T_CASE(test_valid), T_CASE(test_invalid),
                               T_CASE(test_truncation),
                               T_CASE(test_roundtrip), T_END};

T_MAIN(cases)
