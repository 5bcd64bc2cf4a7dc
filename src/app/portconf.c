/**
 * @file portconf.c
 * @brief Listener line parser (see portconf.h).
 **/
#include "lib/cc/compat.h"

#include <string.h>
#include <strings.h>

#include "app/portconf.h"
#include "lib/bytes/bytes.h"
#include "lib/text/numparse.h"

/** One flag word: name, what it sets or clears. */
typedef struct flag_def_t {
  const char *name;
  unsigned iso_set, iso_clear;
  unsigned flags_set;
} flag_def_t;

static const flag_def_t flag_defs[] = {
    {"IsolateClientAddr", PORTCONF_ISO_CLIENT_ADDR, 0, 0},
    {"NoIsolateClientAddr", 0, PORTCONF_ISO_CLIENT_ADDR, 0},
    {"IsolateSOCKSAuth", PORTCONF_ISO_SOCKS_AUTH, 0, 0},
    {"NoIsolateSOCKSAuth", 0, PORTCONF_ISO_SOCKS_AUTH, 0},
    {"IsolateClientProtocol", PORTCONF_ISO_CLIENT_PROTO, 0, 0},
    {"NoIsolateClientProtocol", 0, PORTCONF_ISO_CLIENT_PROTO, 0},
    {"IsolateDestPort", PORTCONF_ISO_DEST_PORT, 0, 0},
    {"NoIsolateDestPort", 0, PORTCONF_ISO_DEST_PORT, 0},
    {"IsolateDestAddr", PORTCONF_ISO_DEST_ADDR, 0, 0},
    {"NoIsolateDestAddr", 0, PORTCONF_ISO_DEST_ADDR, 0},
    {"ExtendedErrors", 0, 0, PORTCONF_F_EXTENDED_ERRORS},
    {"NoOnionTraffic", 0, 0, PORTCONF_F_NO_ONION},
    {"OnionTrafficOnly", 0, 0, PORTCONF_F_ONION_ONLY},
    {"NoIPv4Traffic", 0, 0, PORTCONF_F_NO_IPV4},
    {"IPv6Traffic", 0, 0, PORTCONF_F_IPV6},
    {"PreferIPv6", 0, 0, PORTCONF_F_PREFER_IPV6},
    /* Accepted and meaningless for chive (tor's caching flags, which
     * modern tor ignores for clients as well). */
    {"NoDNSRequest", 0, 0, 0},
    {"CacheIPv4DNS", 0, 0, 0},
    {"NoCacheIPv4DNS", 0, 0, 0},
    {"CacheIPv6DNS", 0, 0, 0},
    {"CacheDNS", 0, 0, 0},
    {"UseIPv4Cache", 0, 0, 0},
    {"UseIPv6Cache", 0, 0, 0},
    {"UseDNSCache", 0, 0, 0},
    {"PreferSOCKSNoAuth", 0, 0, 0},
};

/** Parse a port number 1..65535 from <b>s</b>/<b>n</b>. */
static bool
parse_port(const char *s, size_t n, uint16_t *out)
{
  uint64_t v;
  if (n == 0 || n > 5 || parse_u64(s, n, 10, 1, 65535, &v) != CHIVE_OK)
    return false;
  *out = (uint16_t)v;
  return true;
}

/** The address word: "PORT", "auto", "0", "ADDR:PORT", "ADDR:auto". */
static chive_err_t
parse_addr_word(const char *w, size_t n, portconf_t *out, const char **why)
{
  if (n == 1 && w[0] == '0') {
    out->disabled = true;
    return CHIVE_OK;
  }
  if (n == 4 && strncasecmp(w, "auto", 4) == 0) {
    out->auto_port = true;
    return CHIVE_OK;
  }
  if (n >= 5 && strncmp(w, "unix:", 5) == 0) {
    *why = "Unix socket listeners are not supported";
    return CHIVE_ERR_INVAL;
  }
  uint16_t port;
  if (parse_port(w, n, &port)) {
    out->addr.port = port;
    return CHIVE_OK;
  }
  /* ADDR:PORT or ADDR:auto: the port is after the last ':' (IPv6
   * literals must be bracketed). */
  size_t colon = n;
  while (colon > 0 && w[colon - 1] != ':')
    colon--;
  if (colon == 0) {
    *why = "expected a port, ADDRESS:PORT, auto or 0";
    return CHIVE_ERR_INVAL;
  }
  const char *ps = w + colon;
  size_t pn = n - colon;
  size_t an = colon - 1;
  if (an >= 2 && w[0] == '[' && w[an - 1] == ']') {
    /* keep the brackets: net_addr_parse takes "[::1]" */
  } else if (memchr(w, ':', an)) {
    *why = "IPv6 addresses must be in brackets: [::1]:9050";
    return CHIVE_ERR_INVAL;
  }
  if (net_addr_parse(w, an, &out->addr.addr) != CHIVE_OK) {
    *why = "malformed address";
    return CHIVE_ERR_INVAL;
  }
  if (pn == 4 && strncasecmp(ps, "auto", 4) == 0) {
    out->auto_port = true;
    out->addr.port = 0;
    return CHIVE_OK;
  }
  if (!parse_port(ps, pn, &out->addr.port)) {
    *why = "port must be 1-65535 or auto";
    return CHIVE_ERR_INVAL;
  }
  return CHIVE_OK;
}

/** A flag word (case-insensitive, as tor's). */
static chive_err_t
parse_flag_word(const char *w, size_t n, portconf_t *out, const char **why)
{
  static const char sg[] = "SessionGroup=";
  if (n > sizeof(sg) - 1 && strncasecmp(w, sg, sizeof(sg) - 1) == 0) {
    uint64_t v;
    const char *d = w + sizeof(sg) - 1;
    size_t dn = n - (sizeof(sg) - 1);
    if (dn > 10 || parse_u64(d, dn, 10, 0, INT32_MAX, &v) != CHIVE_OK) {
      *why = "SessionGroup needs a number";
      return CHIVE_ERR_INVAL;
    }
    out->session_group = (int32_t)v;
    return CHIVE_OK;
  }
  for (size_t i = 0; i < sizeof(flag_defs) / sizeof(flag_defs[0]); i++) {
    const flag_def_t *f = &flag_defs[i];
    if (strlen(f->name) == n && strncasecmp(f->name, w, n) == 0) {
      out->iso = (out->iso | f->iso_set) & ~f->iso_clear;
      out->flags |= f->flags_set;
      return CHIVE_OK;
    }
  }
  *why = "unknown flag";
  return CHIVE_ERR_INVAL;
}

chive_err_t
portconf_parse(const char *line, size_t len, portconf_t *out,
               const char **why)
{
  portconf_t pc;
  const char *dummy;
  if (!why)
    why = &dummy;
  if (!line || !out) {
    *why = "missing value";
    return CHIVE_ERR_INVAL;
  }
  if (len > PORTCONF_MAX_LEN) {
    *why = "line too long";
    return CHIVE_ERR_LIMIT;
  }
  memset(&pc, 0, sizeof(pc));
  net_addr_from_ipv4(&pc.addr.addr, 0x7f000001u);
  pc.iso = PORTCONF_ISO_DEFAULT;
  pc.session_group = -1;
  size_t i = 0, nwords = 0;
  while (i < len) {
    while (i < len && (line[i] == ' ' || line[i] == '\t'))
      i++;
    if (i >= len)
      break;
    size_t start = i;
    while (i < len && line[i] != ' ' && line[i] != '\t') {
      if (line[i] == '\0' || (unsigned char)line[i] < 0x20 ||
          (unsigned char)line[i] > 0x7e) {
        *why = "control or non-ASCII byte";
        return CHIVE_ERR_INVAL;
      }
      i++;
    }
    chive_err_t e = nwords == 0
                        ? parse_addr_word(line + start, i - start, &pc, why)
                        : parse_flag_word(line + start, i - start, &pc, why);
    if (e != CHIVE_OK)
      return e;
    nwords++;
  }
  if (nwords == 0) {
    *why = "empty value";
    return CHIVE_ERR_INVAL;
  }
  if (pc.disabled && nwords > 1) {
    *why = "flags on a disabled port";
    return CHIVE_ERR_INVAL;
  }
  *out = pc;
  return CHIVE_OK;
}
