/**
 * @file metrics_port.c
 * @brief MetricsPort value parser (see metrics_port.h).
 **/
#include "lib/cc/compat.h"

#include <string.h>
#include <strings.h>

#include "feature/metrics/metrics_port.h"
#include "lib/text/numparse.h"

/** The address tor listens on when MetricsPort names only a port. */
#define METRICS_PORT_DEFAULT_IPV4 0x7f000001u /* 127.0.0.1 */

static bool
is_space(char ch)
{
  return ch == ' ' || ch == '\t';
}

static bool
word_is(const char *w, size_t n, const char *lit)
{
  return n == strlen(lit) && strncasecmp(w, lit, n) == 0;
}

/** Parse a port 1..65535 (exactly <b>n</b> decimal digits). */
static bool
parse_port(const char *s, size_t n, uint16_t *out)
{
  uint64_t v;
  if (n == 0 || n > 5)
    return false;
  for (size_t i = 0; i < n; i++)
    if (s[i] < '0' || s[i] > '9')
      return false;
  if (parse_u64(s, n, 10, 1, 65535, &v) != CHIVE_OK)
    return false;
  *out = (uint16_t)v;
  return true;
}

/** Parse the first word: "0", PORT, "auto", ADDR:PORT or ADDR:auto. */
static chive_err_t
parse_where(const char *w, size_t n, metrics_port_t *out, const char **why)
{
  if (n == 1 && w[0] == '0') {
    out->disabled = true;
    return CHIVE_OK;
  }
  net_addr_from_ipv4(&out->addr.addr, METRICS_PORT_DEFAULT_IPV4);
  if (word_is(w, n, "auto")) {
    out->addr.port = 0;
    return CHIVE_OK;
  }
  if (parse_port(w, n, &out->addr.port))
    return CHIVE_OK;
  /* ADDR ":" (PORT / "auto"): split at the last colon. */
  size_t colon = n;
  while (colon > 0 && w[colon - 1] != ':')
    colon--;
  if (colon <= 1) {
    *why = "expected [address:]port or auto";
    return CHIVE_ERR_INVAL;
  }
  colon--; /* index of the ':' */
  const char *ps = w + colon + 1;
  size_t pn = n - colon - 1;
  if (word_is(ps, pn, "auto")) {
    out->addr.port = 0;
  } else if (!parse_port(ps, pn, &out->addr.port)) {
    *why = "bad port (expected 1-65535 or auto)";
    return CHIVE_ERR_INVAL;
  }
  /* A bare IPv6 address is ambiguous with a port: it needs brackets. */
  bool bracketed = w[0] == '[' && w[colon - 1] == ']';
  if (!bracketed && memchr(w, ':', colon) != NULL) {
    *why = "an IPv6 address needs brackets: [addr]:port";
    return CHIVE_ERR_INVAL;
  }
  if (net_addr_parse(w, colon, &out->addr.addr) != CHIVE_OK ||
      (bracketed && out->addr.addr.family != NET_AF_INET6)) {
    *why = "bad address";
    return CHIVE_ERR_INVAL;
  }
  return CHIVE_OK;
}

chive_err_t
metrics_port_parse(const char *s, size_t len, metrics_port_t *out,
                   const char **why)
{
  const char *dummy;
  metrics_port_t mp;
  if (!why)
    why = &dummy;
  if (!s || !out) {
    *why = "missing value";
    return CHIVE_ERR_INVAL;
  }
  if (len > METRICS_PORT_LINE_MAX_LEN) {
    *why = "value too long";
    return CHIVE_ERR_LIMIT;
  }
  memset(&mp, 0, sizeof(mp));
  size_t i = 0;
  bool first = true;
  while (i < len) {
    while (i < len && is_space(s[i]))
      i++;
    if (i == len)
      break;
    size_t start = i;
    while (i < len && !is_space(s[i]))
      i++;
    const char *w = s + start;
    size_t n = i - start;
    if (memchr(w, '\0', n) != NULL) {
      *why = "NUL byte in value";
      return CHIVE_ERR_INVAL;
    }
    if (first) {
      chive_err_t err = parse_where(w, n, &mp, why);
      if (err)
        return err;
      first = false;
    } else if (!word_is(w, n, "prometheus")) {
      /* tor(1): the format flag; prometheus is the only one. */
      *why = "unknown MetricsPort flag (only \"prometheus\" is known)";
      return CHIVE_ERR_INVAL;
    }
  }
  if (first) {
    *why = "empty value";
    return CHIVE_ERR_INVAL;
  }
  if (mp.disabled)
    memset(&mp.addr, 0, sizeof(mp.addr));
  *out = mp;
  return CHIVE_OK;
}
