/**
 * @file dirauth.c
 * @brief DirAuthority/FallbackDir lines and the built-in authority list.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/dir/dirauth.h"
#include "lib/encoding/base16.h"
#include "lib/text/numparse.h"

/* The live network's nine directory authorities, as listed by the
 * 2025-05-17 22:00 consensus (dir-source lines for name, v3 identity,
 * address and ports; the authorities' own "r" lines for their relay
 * identity fingerprints).  Facts, cross-checked against each other. */
typedef struct builtin_auth_t {
  const char *nickname;
  const char *v3ident;
  const char *ipv4;
  uint16_t dirport, orport;
  const char *rsa_id;
} builtin_auth_t;

static const builtin_auth_t builtin_auths[] = {
    {"moria1", "F533C81CEF0BC0267857C99B2F471ADF249FA232", "128.31.0.39", 9231,
     9201, "1A25C6358DB91342AA51720A5038B72742732498"},
    {"tor26", "2F3DF9CA0E5D36F2685A2DA67184EB8DCB8CBA8C", "217.196.147.77", 80,
     443, "FAA4BCA4A6AC0FB4CA2F8AD5A11D9E122BA894F6"},
    {"dizum", "E8A9C45EDE6D711294FADF8E7951F4DE6CA56B58", "45.66.35.11", 80,
     443, "7EA6EAD6FD83083C538F44038BBFA077587DD755"},
    {"gabelmoo", "ED03BB616EB2F60BEC80151114BB25CEF515B226",
     "131.188.40.189", 80, 443, "F2044413DAC2E02E3D6BCF4735A19BCA1DE97281"},
    {"dannenberg", "0232AF901C31A04EE9848595AF9BB7620D4C5B2E",
     "193.23.244.244", 80, 443, "7BE683E65D48141321C5ED92F075C55364AC7123"},
    {"maatuska", "49015F787433103580E3B66A1707A00E60F2D15B", "171.25.193.9",
     443, 80, "BD6A829255CB08E66FBE7D3748363586E46B3810"},
    {"longclaw", "23D15D965BC35114467363C165C4F724B64B4F66", "199.58.81.140",
     80, 443, "74A910646BCEEFBCD2E874FC1DC997430F968145"},
    {"bastet", "27102BC123E7AF1D4741AE047E160C91ADC76B21", "204.13.164.118",
     80, 443, "24E2F139121D4394C54B5BCC368B3B411857C413"},
    {"faravahar", "70849B868D606BAECFB6128C5E3D782029AA394F",
     "216.218.219.41", 80, 443, "E3E42D35F801C9D5AB23584E0025D56FE2B33396"},
};
#define N_BUILTIN_AUTHS CHIVE_ARRAY_LEN(builtin_auths)

/** A word of the line: [p, p+len). */
typedef struct word_t {
  const char *p;
  size_t len;
} word_t;

#define DIRAUTH_MAX_WORDS 24

/** Split <b>line</b> on spaces/tabs into at most DIRAUTH_MAX_WORDS
 * words.  Returns the count, or -1 if there are too many. */
static int
split_words(const char *line, word_t *w)
{
  int n = 0;
  const char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t')
      p++;
    if (!*p)
      return n;
    if (n == DIRAUTH_MAX_WORDS)
      return -1;
    w[n].p = p;
    while (*p && *p != ' ' && *p != '\t')
      p++;
    w[n].len = (size_t)(p - w[n].p);
    n++;
  }
}

static bool
has_prefix(const word_t *w, const char *prefix)
{
  size_t n = strlen(prefix);
  return w->len >= n && !memcmp(w->p, prefix, n);
}

static bool
parse_hex20(const char *s, size_t len, uint8_t out[20])
{
  size_t n;
  return len == 40 && base16_decode(s, len, out, 20, &n) == CHIVE_OK &&
         n == 20;
}

static bool
parse_port(const char *s, size_t len, uint16_t *out)
{
  uint32_t v;
  if (parse_u32(s, len, 10, 1, 65535, &v) != CHIVE_OK)
    return false;
  *out = (uint16_t)v;
  return true;
}

/** "weight=N": a non-negative decimal integer (tor allows only those). */
static bool
parse_weight(const char *s, size_t len, double *out)
{
  uint32_t v;
  if (parse_u32(s, len, 10, 0, 999999999, &v) != CHIVE_OK)
    return false;
  *out = (double)v;
  return true;
}

static bool
is_nickname(const word_t *w)
{
  if (w->len == 0 || w->len > DIR_SERVER_NICKNAME_MAX_LEN)
    return false;
  for (size_t i = 0; i < w->len; i++) {
    char c = w->p[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
          (c >= '0' && c <= '9')))
      return false;
  }
  return true;
}

/** Parse a flag word common to both formats.  Returns 1 if it was one,
 * 0 if not a known flag, -1 if malformed. */
static int
parse_common_flag(const word_t *w, dir_server_t *ds, const char **why)
{
  if (has_prefix(w, "orport=")) {
    if (!parse_port(w->p + 7, w->len - 7, &ds->or_port)) {
      *why = "bad orport=";
      return -1;
    }
    return 1;
  }
  if (has_prefix(w, "weight=")) {
    if (!parse_weight(w->p + 7, w->len - 7, &ds->weight)) {
      *why = "bad weight=";
      return -1;
    }
    return 1;
  }
  if (has_prefix(w, "ipv6=")) {
    if (net_addrport_parse(w->p + 5, w->len - 5, &ds->ipv6_or) != CHIVE_OK ||
        ds->ipv6_or.addr.family != NET_AF_INET6) {
      *why = "bad ipv6=";
      return -1;
    }
    ds->has_ipv6 = true;
    return 1;
  }
  return 0;
}

/** Parse "a.b.c.d" (no DirPort: modern fallbacks serve directory
 * documents over their ORPort only) into ds->dir_addr with port 0. */
static bool
parse_bare_ipv4(const word_t *w, dir_server_t *ds)
{
  if (net_addr_parse(w->p, w->len, &ds->dir_addr.addr) != CHIVE_OK ||
      ds->dir_addr.addr.family != NET_AF_INET)
    return false;
  ds->dir_addr.port = 0;
  return true;
}

static bool
parse_dir_addr(const word_t *w, dir_server_t *ds)
{
  return net_addrport_parse(w->p, w->len, &ds->dir_addr) == CHIVE_OK &&
         ds->dir_addr.addr.family == NET_AF_INET;
}

chive_err_t
dir_server_parse_authority(const char *line, dir_server_t *out,
                           const char **why)
{
  word_t w[DIRAUTH_MAX_WORDS];
  dir_server_t ds;
  const char *dummy;
  if (!why)
    why = &dummy;
  *why = "";
  memset(&ds, 0, sizeof(ds));
  ds.weight = 1.0;
  ds.is_authority = true;
  if (strlen(line) > DIR_SERVER_LINE_MAX_LEN) {
    *why = "line too long";
    return CHIVE_ERR_INVAL;
  }
  int n = split_words(line, w);
  if (n < 2) {
    *why = n < 0 ? "too many words" : "expected address:dirport fingerprint";
    return CHIVE_ERR_INVAL;
  }
  int i = 0;
  if (is_nickname(&w[0]) && !memchr(w[0].p, ':', w[0].len)) {
    memcpy(ds.nickname, w[0].p, w[0].len);
    i = 1;
  }
  /* Flags, until the address:port word. */
  for (; i < n; i++) {
    if (memchr(w[i].p, ':', w[i].len) && !has_prefix(&w[i], "ipv6="))
      break;
    int r = parse_common_flag(&w[i], &ds, why);
    if (r < 0)
      return CHIVE_ERR_INVAL;
    if (r > 0)
      continue;
    if (has_prefix(&w[i], "v3ident=")) {
      if (!parse_hex20(w[i].p + 8, w[i].len - 8, ds.v3ident)) {
        *why = "bad v3ident=";
        return CHIVE_ERR_INVAL;
      }
      ds.has_v3ident = true;
      continue;
    }
    static const char *const ignored[] = {"no-v2", "v1", "hs", "bridge",
                                          "no-hs"};
    bool known = false;
    for (size_t k = 0; k < CHIVE_ARRAY_LEN(ignored); k++)
      if (w[i].len == strlen(ignored[k]) &&
          !memcmp(w[i].p, ignored[k], w[i].len))
        known = true;
    if (!known) {
      *why = "unknown flag";
      return CHIVE_ERR_INVAL;
    }
  }
  if (i >= n || !parse_dir_addr(&w[i], &ds)) {
    *why = "bad or missing IPv4 address:dirport";
    return CHIVE_ERR_INVAL;
  }
  /* The fingerprint: the remaining words, spaces removed. */
  char fp[41];
  size_t fl = 0;
  for (i++; i < n; i++) {
    if (fl + w[i].len > 40) {
      *why = "bad fingerprint";
      return CHIVE_ERR_INVAL;
    }
    memcpy(fp + fl, w[i].p, w[i].len);
    fl += w[i].len;
  }
  if (!parse_hex20(fp, fl, ds.rsa_id)) {
    *why = "bad fingerprint";
    return CHIVE_ERR_INVAL;
  }
  if (!ds.or_port) {
    *why = "missing orport=";
    return CHIVE_ERR_INVAL;
  }
  if (!ds.has_v3ident) {
    *why = "missing v3ident= (not a v3 directory authority)";
    return CHIVE_ERR_INVAL;
  }
  *out = ds;
  return CHIVE_OK;
}

chive_err_t
dir_server_parse_fallback(const char *line, dir_server_t *out,
                          const char **why)
{
  word_t w[DIRAUTH_MAX_WORDS];
  dir_server_t ds;
  const char *dummy;
  bool have_id = false;
  if (!why)
    why = &dummy;
  *why = "";
  memset(&ds, 0, sizeof(ds));
  ds.weight = 1.0;
  if (strlen(line) > DIR_SERVER_LINE_MAX_LEN) {
    *why = "line too long";
    return CHIVE_ERR_INVAL;
  }
  int n = split_words(line, w);
  if (n < 3 || !(memchr(w[0].p, ':', w[0].len) ? parse_dir_addr(&w[0], &ds)
                                                : parse_bare_ipv4(&w[0], &ds))) {
    *why = n < 0 ? "too many words" : "expected address[:dirport] first";
    return CHIVE_ERR_INVAL;
  }
  for (int i = 1; i < n; i++) {
    int r = parse_common_flag(&w[i], &ds, why);
    if (r < 0)
      return CHIVE_ERR_INVAL;
    if (r > 0)
      continue;
    if (has_prefix(&w[i], "id=") &&
        parse_hex20(w[i].p + 3, w[i].len - 3, ds.rsa_id)) {
      have_id = true;
      continue;
    }
    *why = "unknown or malformed word";
    return CHIVE_ERR_INVAL;
  }
  if (!have_id || !ds.or_port) {
    *why = "orport= and id= are required";
    return CHIVE_ERR_INVAL;
  }
  *out = ds;
  return CHIVE_OK;
}

size_t
dir_default_authorities(dir_server_t *out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < N_BUILTIN_AUTHS && n < max; i++) {
    const builtin_auth_t *b = &builtin_auths[i];
    dir_server_t *d = &out[n];
    memset(d, 0, sizeof(*d));
    memcpy(d->nickname, b->nickname, strlen(b->nickname));
    /* The table is constant and unit-tested; a bad entry is a bug. */
    if (net_addr_parse(b->ipv4, strlen(b->ipv4), &d->dir_addr.addr) !=
            CHIVE_OK ||
        !parse_hex20(b->v3ident, 40, d->v3ident) ||
        !parse_hex20(b->rsa_id, 40, d->rsa_id))
      continue;
    d->dir_addr.port = b->dirport;
    d->or_port = b->orport;
    d->has_v3ident = true;
    d->is_authority = true;
    d->weight = 1.0;
    n++;
  }
  return n;
}

/* The Tor Project's fallback directory list (facts; see the file). */
static const char *const builtin_fallbacks[] = {
#include "feature/dir/fallback_dirs.inc"
};

size_t
dir_default_fallbacks(dir_server_t *out, size_t max)
{
  size_t n = 0;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(builtin_fallbacks) && n < max; i++)
    if (dir_server_parse_fallback(builtin_fallbacks[i], &out[n], NULL) ==
        CHIVE_OK)
      n++;
  return n;
}
