/**
 * @file protover.c
 * @brief Subprotocol version lists (tor-spec §9, dir-spec §2.1.1).
 *
 * Pure: no I/O, no allocation, no logging.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/protover.h"

#include <stdio.h>
#include <string.h>

static const char *const PROTO_NAMES[PROTO_N_KNOWN] = {
  "Conflux",  "Cons",   "Desc",      "DirCache", "FlowCtrl",
  "HSDir",    "HSIntro", "HSRend",   "Link",     "LinkAuth",
  "Microdesc", "Padding", "Relay",
};

/* see protover.h */
const char *
protover_name(protocol_type_t p)
{
  if ((unsigned)p >= PROTO_N_KNOWN)
    return NULL;
  return PROTO_NAMES[p];
}

static bool
kw_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_';
}

/** Parse an Int (no leading zero unless "0", at most 63). */
static bool
parse_int(const char *s, size_t len, size_t *i, unsigned *out)
{
  size_t st = *i;
  unsigned v = 0;
  while (*i < len && s[*i] >= '0' && s[*i] <= '9') {
    v = v * 10 + (unsigned)(s[*i] - '0');
    if (v > PROTOVER_MAX_VERSION)
      return false;
    (*i)++;
  }
  if (*i == st)
    return false;
  if (*i - st > 1 && s[st] == '0')
    return false;
  *out = v;
  return true;
}

/** Parse Values in s[i..len) up to the end of the entry (space or end)
 * into a bitmap. */
static chive_err_t
parse_values(const char *s, size_t len, size_t *i, uint64_t *out)
{
  uint64_t bits = 0;
  if (*i >= len || s[*i] == ' ') {
    *out = 0; /* "Values =" (empty) is allowed */
    return CHIVE_OK;
  }
  for (;;) {
    unsigned lo, hi;
    if (!parse_int(s, len, i, &lo))
      return CHIVE_ERR_PROTO;
    hi = lo;
    if (*i < len && s[*i] == '-') {
      (*i)++;
      if (!parse_int(s, len, i, &hi) || hi < lo)
        return CHIVE_ERR_PROTO;
    }
    for (unsigned v = lo; v <= hi; v++)
      bits |= (uint64_t)1 << v;
    if (*i >= len || s[*i] == ' ')
      break;
    if (s[*i] != ',')
      return CHIVE_ERR_PROTO;
    (*i)++;
  }
  *out = bits;
  return CHIVE_OK;
}

/* see protover.h */
chive_err_t
protover_parse(const char *s, size_t len, protover_set_t *out)
{
  if (len > PROTOVER_MAX_LEN)
    return CHIVE_ERR_LIMIT;
  protover_set_t set;
  memset(&set, 0, sizeof(set));
  uint32_t seen_known = 0;
  size_t i = 0;
  while (i < len) {
    if (s[i] == ' ') {
      i++;
      continue;
    }
    size_t ks = i;
    while (i < len && kw_char(s[i]))
      i++;
    size_t klen = i - ks;
    if (klen == 0 || i >= len || s[i] != '=')
      return CHIVE_ERR_PROTO;
    i++;
    uint64_t bits;
    chive_err_t e = parse_values(s, len, &i, &bits);
    if (e)
      return e;
    int known = -1;
    for (int p = 0; p < PROTO_N_KNOWN; p++) {
      if (strlen(PROTO_NAMES[p]) == klen &&
          memcmp(PROTO_NAMES[p], s + ks, klen) == 0) {
        known = p;
        break;
      }
    }
    if (known >= 0) {
      if (seen_known & (1u << known))
        return CHIVE_ERR_PROTO; /* protocol named twice */
      seen_known |= 1u << known;
      set.known[known] = bits;
      continue;
    }
    for (unsigned u = 0; u < set.n_unknown; u++) {
      if (strlen(set.unknown[u].name) == klen &&
          memcmp(set.unknown[u].name, s + ks, klen) == 0)
        return CHIVE_ERR_PROTO;
    }
    if (set.n_unknown < PROTOVER_MAX_UNKNOWN &&
        klen <= PROTOVER_MAX_NAME_LEN) {
      protover_unknown_t *u = &set.unknown[set.n_unknown++];
      memcpy(u->name, s + ks, klen);
      u->name[klen] = '\0';
      u->versions = bits;
    } else {
      set.unknown_overflow = true;
    }
  }
  *out = set;
  return CHIVE_OK;
}

/* see protover.h */
bool
protover_supports(const protover_set_t *set, protocol_type_t p,
                  unsigned version)
{
  if ((unsigned)p >= PROTO_N_KNOWN || version > PROTOVER_MAX_VERSION)
    return false;
  return (set->known[p] >> version) & 1;
}

/* see protover.h */
bool
protover_all_supported(const protover_set_t *required,
                       const protover_set_t *supported,
                       protover_set_t *missing)
{
  protover_set_t m;
  memset(&m, 0, sizeof(m));
  bool ok = true;
  for (int p = 0; p < PROTO_N_KNOWN; p++) {
    m.known[p] = required->known[p] & ~supported->known[p];
    if (m.known[p])
      ok = false;
  }
  for (unsigned u = 0; u < required->n_unknown; u++) {
    uint64_t have = 0;
    for (unsigned w = 0; w < supported->n_unknown; w++) {
      if (strcmp(required->unknown[u].name, supported->unknown[w].name) == 0)
        have = supported->unknown[w].versions;
    }
    uint64_t lack = required->unknown[u].versions & ~have;
    if (lack) {
      ok = false;
      m.unknown[m.n_unknown] = required->unknown[u];
      m.unknown[m.n_unknown].versions = lack;
      m.n_unknown++;
    }
  }
  if (required->unknown_overflow) {
    /* We could not even record those names: we cannot support them. */
    ok = false;
    m.unknown_overflow = true;
  }
  if (missing)
    *missing = m;
  return ok;
}

/* see protover.h */
bool
protover_is_empty(const protover_set_t *set)
{
  for (int p = 0; p < PROTO_N_KNOWN; p++) {
    if (set->known[p])
      return false;
  }
  return set->n_unknown == 0 && !set->unknown_overflow;
}

/** Append the text of <b>piece</b> to buf at *pos unless an earlier
 * piece was cut off; always advance *pos by its length. */
static void
append(char *buf, size_t buflen, size_t *pos, bool *trunc, const char *piece)
{
  size_t tl = strlen(piece);
  if (buf && !*trunc && *pos + tl < buflen)
    memcpy(buf + *pos, piece, tl + 1);
  else
    *trunc = true;
  *pos += tl;
}

/** Append "name=ranges" (with a leading space unless first). */
static void
emit_entry(char *buf, size_t buflen, size_t *pos, bool *trunc,
           const char *name, uint64_t bits)
{
  char tmp[PROTOVER_MAX_NAME_LEN + 16];
  snprintf(tmp, sizeof(tmp), "%s%s=", *pos ? " " : "", name);
  append(buf, buflen, pos, trunc, tmp);
  bool first = true;
  for (unsigned v = 0; v <= PROTOVER_MAX_VERSION; v++) {
    if (!((bits >> v) & 1))
      continue;
    unsigned hi = v;
    while (hi < PROTOVER_MAX_VERSION && ((bits >> (hi + 1)) & 1))
      hi++;
    if (hi == v)
      snprintf(tmp, sizeof(tmp), "%s%u", first ? "" : ",", v);
    else
      snprintf(tmp, sizeof(tmp), "%s%u-%u", first ? "" : ",", v, hi);
    append(buf, buflen, pos, trunc, tmp);
    first = false;
    v = hi;
  }
}

/* see protover.h */
size_t
protover_format(const protover_set_t *set, char *buf, size_t buflen)
{
  size_t pos = 0;
  bool trunc = false;
  if (buf && buflen)
    buf[0] = '\0';
  /* Merge known names (already sorted) with unknown ones in order. */
  bool used[PROTOVER_MAX_UNKNOWN] = {false};
  int k = 0;
  for (;;) {
    int best_u = -1;
    for (unsigned u = 0; u < set->n_unknown; u++) {
      if (used[u])
        continue;
      if (best_u < 0 ||
          strcmp(set->unknown[u].name, set->unknown[best_u].name) < 0)
        best_u = (int)u;
    }
    while (k < PROTO_N_KNOWN && !set->known[k])
      k++;
    if (k >= PROTO_N_KNOWN && best_u < 0)
      break;
    if (best_u >= 0 &&
        (k >= PROTO_N_KNOWN ||
         strcmp(set->unknown[best_u].name, PROTO_NAMES[k]) < 0)) {
      emit_entry(buf, buflen, &pos, &trunc, set->unknown[best_u].name,
                 set->unknown[best_u].versions);
      used[best_u] = true;
    } else {
      emit_entry(buf, buflen, &pos, &trunc, PROTO_NAMES[k], set->known[k]);
      k++;
    }
  }
  return pos;
}
