/**
 * @file policy_summary.c
 * @brief Exit policy summaries (dir-spec §3.4.1, §3.3, §3.8.2).
 *
 * Pure: no I/O, no logging; allocation only from the caller's arena.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/policy_summary.h"

#include <stdio.h>
#include <string.h>

/** Parse a port number 1..65535 at s[*i..len). */
static bool
parse_port(const char *s, size_t len, size_t *i, uint16_t *out)
{
  size_t st = *i;
  uint32_t v = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9' && *i - st < 5) {
    v = v * 10 + (uint32_t)(s[*i] - '0');
    (*i)++;
  }
  if (*i == st || v == 0 || v > 65535)
    return false;
  *out = (uint16_t)v;
  return true;
}

/* see policy_summary.h */
chive_err_t
policy_summary_parse(dirtok_str_t kind, dirtok_str_t ports, dirarena_t *arena,
                     policy_summary_t *out)
{
  bool accept;
  if (dirtok_str_eq(kind, "accept"))
    accept = true;
  else if (dirtok_str_eq(kind, "reject"))
    accept = false;
  else
    return CHIVE_ERR_PROTO;
  if (ports.len == 0)
    return CHIVE_ERR_PROTO;
  size_t n = 1;
  for (size_t i = 0; i < ports.len; i++) {
    if (ports.p[i] == ',')
      n++;
  }
  if (n > POLICY_SUMMARY_MAX_RANGES)
    return CHIVE_ERR_LIMIT;
  policy_range_t *r = dirarena_alloc(arena, n * sizeof(*r));
  if (!r)
    return CHIVE_ERR_NOMEM;
  size_t i = 0, k = 0;
  uint32_t prev_hi = 0;
  while (k < n) {
    uint16_t lo, hi;
    if (!parse_port(ports.p, ports.len, &i, &lo))
      return CHIVE_ERR_PROTO;
    hi = lo;
    if (i < ports.len && ports.p[i] == '-') {
      i++;
      if (!parse_port(ports.p, ports.len, &i, &hi))
        return CHIVE_ERR_PROTO;
    }
    /* dir-spec §3.8.2: "Port lists are sorted in ascending order" and
     * adjacent items are merged, so ranges never overlap. */
    if (hi < lo || lo <= prev_hi)
      return CHIVE_ERR_PROTO;
    prev_hi = hi;
    r[k].lo = lo;
    r[k].hi = hi;
    k++;
    if (k < n) {
      if (i >= ports.len || ports.p[i] != ',')
        return CHIVE_ERR_PROTO;
      i++;
    }
  }
  if (i != ports.len)
    return CHIVE_ERR_PROTO;
  out->accept = accept;
  out->n_ranges = (uint16_t)n;
  out->ranges = r;
  return CHIVE_OK;
}

/* see policy_summary.h */
bool
policy_summary_allows_port(const policy_summary_t *p, uint16_t port)
{
  if (!p || port == 0)
    return false;
  /* Binary search for a range containing port. */
  size_t lo = 0, hi = p->n_ranges;
  bool listed = false;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (port < p->ranges[mid].lo) {
      hi = mid;
    } else if (port > p->ranges[mid].hi) {
      lo = mid + 1;
    } else {
      listed = true;
      break;
    }
  }
  return p->accept ? listed : !listed;
}

/* see policy_summary.h */
bool
policy_summary_allows_any(const policy_summary_t *p)
{
  if (!p)
    return false;
  if (p->accept)
    return p->n_ranges > 0;
  /* A reject list allows something unless it covers 1-65535. */
  uint32_t next = 1;
  for (size_t i = 0; i < p->n_ranges; i++) {
    if (p->ranges[i].lo > next)
      return true;
    next = (uint32_t)p->ranges[i].hi + 1;
  }
  return next <= 65535;
}

/* see policy_summary.h */
size_t
policy_summary_format(const policy_summary_t *p, char *buf, size_t buflen)
{
  size_t pos = 0;
  bool trunc = false;
  char tmp[24];
  if (buf && buflen)
    buf[0] = '\0';
  for (size_t i = 0; i <= p->n_ranges; i++) {
    int n;
    if (i == 0)
      n = snprintf(tmp, sizeof(tmp), "%s ", p->accept ? "accept" : "reject");
    else if (p->ranges[i - 1].lo == p->ranges[i - 1].hi)
      n = snprintf(tmp, sizeof(tmp), "%s%u", i > 1 ? "," : "",
                   (unsigned)p->ranges[i - 1].lo);
    else
      n = snprintf(tmp, sizeof(tmp), "%s%u-%u", i > 1 ? "," : "",
                   (unsigned)p->ranges[i - 1].lo,
                   (unsigned)p->ranges[i - 1].hi);
    size_t tl = n > 0 ? (size_t)n : 0;
    if (buf && !trunc && pos + tl < buflen)
      memcpy(buf + pos, tmp, tl + 1);
    else
      trunc = true; /* keep what fits; stop appending */
    pos += tl;
  }
  return pos;
}
