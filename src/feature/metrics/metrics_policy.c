/**
 * @file metrics_policy.c
 * @brief MetricsPortPolicy parsing and matching (tor manual,
 * "MetricsPortPolicy"; entry syntax as tor's exit policies, ports
 * ignored).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/metrics/metrics_policy.h"
#include "lib/err/err.h"
#include "lib/text/numparse.h"
#include "lib/text/str.h"

void
metrics_policy_init(metrics_policy_t *p)
{
  memset(p, 0, sizeof(*p));
}

/** Clear the bits of <b>ip</b> (<b>n_bytes</b> long) past <b>bits</b>. */
static void
mask_ip(uint8_t *ip, size_t n_bytes, unsigned bits)
{
  for (size_t i = 0; i < n_bytes; i++) {
    unsigned first = (unsigned)i * 8;
    if (bits >= first + 8)
      continue;
    if (bits <= first)
      ip[i] = 0;
    else
      ip[i] &= (uint8_t)(0xffu << (8 - (bits - first)));
  }
}

/** Parse a port spec ("*", "N", "N-M"; 1..65535, N <= M).  Ports are
 * ignored for MetricsPortPolicy, but must still be well-formed. */
static bool
ports_ok(const char *s, size_t len)
{
  if (len == 1 && s[0] == '*')
    return true;
  const char *dash = memchr(s, '-', len);
  uint32_t lo, hi;
  if (!dash)
    return parse_u32(s, len, 10, 1, 65535, &lo) == CHIVE_OK;
  size_t lo_len = (size_t)(dash - s);
  if (parse_u32(s, lo_len, 10, 1, 65535, &lo) != CHIVE_OK ||
      parse_u32(dash + 1, len - lo_len - 1, 10, 1, 65535, &hi) != CHIVE_OK)
    return false;
  return lo <= hi;
}

/** Parse the pattern part of an entry (no whitespace inside). */
static chive_err_t
parse_pattern(const char *s, size_t len, bool v6_only,
              metrics_policy_entry_t *e)
{
  size_t addr_len;
  bool star = false;
  e->family = NET_AF_UNSPEC;
  memset(e->ip, 0, sizeof(e->ip));
  e->maskbits = 0;

  if (len == 0)
    return CHIVE_ERR_INVAL;
  if (s[0] == '*') {
    star = true;
    addr_len = 1;
    if (len > 1 && (s[1] == '4' || s[1] == '6')) {
      e->family = s[1] == '4' ? NET_AF_INET : NET_AF_INET6;
      addr_len = 2;
    }
  } else if (s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (!close)
      return CHIVE_ERR_INVAL;
    addr_len = (size_t)(close - s) + 1;
  } else {
    addr_len = 0;
    while (addr_len < len && s[addr_len] != '/' && s[addr_len] != ':')
      addr_len++;
  }
  if (!star) {
    net_addr_t a;
    if (net_addr_parse(s, addr_len, &a) != CHIVE_OK)
      return CHIVE_ERR_INVAL;
    /* IPv6 only in brackets, IPv4 only without. */
    if ((s[0] == '[') != (a.family == NET_AF_INET6))
      return CHIVE_ERR_INVAL;
    e->family = a.family;
    memcpy(e->ip, a.ip, sizeof(e->ip));
    e->maskbits = a.family == NET_AF_INET ? 32 : 128;
  }
  if (v6_only) {
    if (e->family == NET_AF_INET)
      return CHIVE_ERR_INVAL;
    e->family = NET_AF_INET6;
  }

  size_t pos = addr_len;
  if (pos < len && s[pos] == '/') {
    if (star)
      return CHIVE_ERR_INVAL;
    size_t start = ++pos;
    while (pos < len && s[pos] != ':')
      pos++;
    uint32_t bits;
    uint32_t max_bits = e->family == NET_AF_INET ? 32 : 128;
    if (parse_u32(s + start, pos - start, 10, 0, max_bits, &bits) != CHIVE_OK)
      return CHIVE_ERR_INVAL;
    e->maskbits = (uint8_t)bits;
  }
  if (pos < len) {
    if (s[pos] != ':' || !ports_ok(s + pos + 1, len - pos - 1))
      return CHIVE_ERR_INVAL;
  }
  mask_ip(e->ip, sizeof(e->ip), e->maskbits);
  return CHIVE_OK;
}

/** Parse one trimmed, non-empty entry. */
static chive_err_t
parse_entry(const char *s, size_t len, metrics_policy_entry_t *e)
{
  size_t kw_len = str_span_nonspace(s, len);
  bool v6_only = false;
  memset(e, 0, sizeof(*e)); /* padding too: entries compare with memcmp */
  if (mem_eq_str_ci(s, kw_len, "accept")) {
    e->accept = true;
  } else if (mem_eq_str_ci(s, kw_len, "reject")) {
    e->accept = false;
  } else if (mem_eq_str_ci(s, kw_len, "accept6")) {
    e->accept = true;
    v6_only = true;
  } else if (mem_eq_str_ci(s, kw_len, "reject6")) {
    e->accept = false;
    v6_only = true;
  } else {
    return CHIVE_ERR_INVAL;
  }
  size_t ws = str_span_space(s + kw_len, len - kw_len);
  if (ws == 0)
    return CHIVE_ERR_INVAL;
  const char *pat = s + kw_len + ws;
  size_t pat_len = len - kw_len - ws;
  if (str_span_nonspace(pat, pat_len) != pat_len)
    return CHIVE_ERR_INVAL;
  return parse_pattern(pat, pat_len, v6_only, e);
}

chive_err_t
metrics_policy_parse_line(metrics_policy_t *p, const char *s, size_t len)
{
  if (BUG(!p || (!s && len)))
    return CHIVE_ERR_INVAL;
  if (len == 0 || len > METRICS_POLICY_LINE_MAX_LEN || mem_has_nul(s, len))
    return CHIVE_ERR_INVAL;
  metrics_policy_entry_t parsed[METRICS_POLICY_MAX_ENTRIES];
  size_t n = 0;
  size_t pos = 0;
  for (;;) {
    const char *comma = memchr(s + pos, ',', len - pos);
    size_t end = comma ? (size_t)(comma - s) : len;
    size_t ent_len;
    const char *ent = str_trim(s + pos, end - pos, &ent_len);
    if (ent_len == 0)
      return CHIVE_ERR_INVAL;
    if (p->n_entries + n >= METRICS_POLICY_MAX_ENTRIES)
      return CHIVE_ERR_LIMIT;
    chive_err_t err = parse_entry(ent, ent_len, &parsed[n]);
    if (err)
      return err;
    n++;
    if (!comma)
      break;
    pos = end + 1;
  }
  memcpy(&p->entries[p->n_entries], parsed, n * sizeof(parsed[0]));
  p->n_entries += n;
  return CHIVE_OK;
}

/** Return true iff the first <b>bits</b> bits of a and b are equal. */
static bool
prefix_eq(const uint8_t *a, const uint8_t *b, unsigned bits)
{
  size_t full = bits / 8;
  if (full && memcmp(a, b, full) != 0)
    return false;
  unsigned rest = bits % 8;
  if (!rest)
    return true;
  uint8_t m = (uint8_t)(0xffu << (8 - rest));
  return (a[full] & m) == (b[full] & m);
}

/** Map ::ffff:a.b.c.d to a.b.c.d; other addresses are copied. */
static void
unmap_v4(const net_addr_t *in, net_addr_t *out)
{
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  *out = *in;
  if (in->family == NET_AF_INET6 && memcmp(in->ip, mapped, 12) == 0) {
    memset(out->ip, 0, sizeof(out->ip));
    memcpy(out->ip, in->ip + 12, 4);
    out->family = NET_AF_INET;
  }
}

bool
metrics_policy_permits(const metrics_policy_t *p, const net_addr_t *peer)
{
  if (!p || !peer)
    return false;
  net_addr_t a;
  unmap_v4(peer, &a);
  if (a.family != NET_AF_INET && a.family != NET_AF_INET6)
    return false;
  if (p->n_entries == 0)
    return net_addr_is_loopback(&a);
  for (size_t i = 0; i < p->n_entries; i++) {
    const metrics_policy_entry_t *e = &p->entries[i];
    if (e->family == NET_AF_UNSPEC)
      return e->accept;
    if (e->family != a.family)
      continue;
    if (prefix_eq(e->ip, a.ip, e->maskbits))
      return e->accept;
  }
  return false; /* no entry matched: refuse */
}

bool
metrics_policy_allows_listen(const metrics_policy_t *p, const net_addr_t *addr)
{
  if (!addr)
    return false;
  if (net_addr_is_loopback(addr))
    return true;
  if (!p)
    return false;
  for (size_t i = 0; i < p->n_entries; i++) {
    if (p->entries[i].accept)
      return true;
  }
  return false;
}

chive_err_t
metrics_policy_format(const metrics_policy_t *p, strbuf_t *out)
{
  chive_err_t err;
  for (size_t i = 0; i < p->n_entries; i++) {
    const metrics_policy_entry_t *e = &p->entries[i];
    char abuf[NET_ADDR_STR_LEN];
    if ((err = strbuf_addf(out, "%s%s ", i ? "," : "",
                           e->accept ? "accept" : "reject")))
      return err;
    if (e->family == NET_AF_UNSPEC) {
      err = strbuf_addc(out, '*');
    } else if (e->maskbits == 0) {
      err = strbuf_addstr(out, e->family == NET_AF_INET ? "*4" : "*6");
    } else {
      net_addr_t a;
      memset(&a, 0, sizeof(a));
      a.family = e->family;
      memcpy(a.ip, e->ip, sizeof(a.ip));
      net_addr_format(&a, abuf, sizeof(abuf));
      bool v6 = e->family == NET_AF_INET6;
      unsigned full = v6 ? 128 : 32;
      err = strbuf_addf(out, "%s%s%s", v6 ? "[" : "", abuf, v6 ? "]" : "");
      if (!err && e->maskbits != full)
        err = strbuf_addf(out, "/%u", (unsigned)e->maskbits);
    }
    if (err)
      return err;
  }
  return CHIVE_OK;
}
