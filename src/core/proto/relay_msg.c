/**
 * @file relay_msg.c
 * @brief Relay message bodies (tor-spec §5.1.2, §5.4, §6.2-§6.4, §7.3.1;
 * proposal 289).  Pure: no I/O, no allocation, no logging.
 **/
#include "lib/cc/compat.h"

#include "core/proto/relay_msg.h"

#include <arpa/inet.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/bytes/bytes.h"

/** Longest IPv6 text we accept inside brackets (INET6_ADDRSTRLEN - 1). */
#define IPV6_TEXT_MAX_LEN 45
/** Most digits in a decimal port. */
#define PORT_MAX_DIGITS 5

static chive_err_t
finish(const wr_t *w, size_t *len_out)
{
  if (!wr_ok(w))
    return CHIVE_ERR_LIMIT;
  *len_out = wr_used(w);
  return CHIVE_OK;
}

/* ---- host names and literals ------------------------------------------- */

static char
ascii_lower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/** Return true iff <b>c</b> may appear in a hostname we send or accept:
 * ASCII letters, digits, '-', '_' and '.'. */
static bool
is_hostname_char(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
}

static bool
is_hostname(const char *s, size_t n)
{
  if (n == 0 || n > RELAY_MAX_HOSTNAME_LEN)
    return false;
  for (size_t i = 0; i < n; i++)
    if (!is_hostname_char(s[i]))
      return false;
  return true;
}

/** Parse the <b>n</b>-byte text at <b>s</b> as an address of family
 * <b>af</b> into <b>addr</b>.  Returns false if it is not one. */
static bool
parse_literal(int af, const char *s, size_t n, uint8_t *addr)
{
  char buf[IPV6_TEXT_MAX_LEN + 1];
  if (n == 0 || n > IPV6_TEXT_MAX_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    bool ok = (c >= '0' && c <= '9') || c == '.' ||
              (af == AF_INET6 && ((c >= 'a' && c <= 'f') ||
                                  (c >= 'A' && c <= 'F') || c == ':'));
    if (!ok)
      return false;
  }
  memcpy(buf, s, n);
  buf[n] = '\0';
  return inet_pton(af, buf, addr) == 1;
}

/** Classify the host text <b>s</b> (<b>n</b> bytes) and fill the host
 * fields of *<b>b</b>.  Brackets are required around IPv6 when
 * <b>wire</b>, optional otherwise.  Returns false if invalid. */
static bool
classify_host(const char *s, size_t n, bool wire, begin_t *b)
{
  uint8_t addr[16];
  uint8_t type;
  memset(addr, 0, sizeof(addr));
  if (n > 0 && s[0] == '[') {
    if (n < 2 || s[n - 1] != ']')
      return false;
    s++;
    n -= 2;
    if (!parse_literal(AF_INET6, s, n, addr))
      return false;
    type = BEGIN_HOST_IPV6;
  } else if (n == 0) {
    type = BEGIN_HOST_EMPTY;
  } else if (memchr(s, ':', n)) {
    if (wire || !parse_literal(AF_INET6, s, n, addr))
      return false;
    type = BEGIN_HOST_IPV6;
  } else if (parse_literal(AF_INET, s, n, addr)) {
    type = BEGIN_HOST_IPV4;
  } else if (is_hostname(s, n)) {
    type = BEGIN_HOST_NAME;
  } else {
    return false;
  }
  b->host_type = type;
  for (size_t i = 0; i < n; i++)
    b->host[i] = ascii_lower(s[i]);
  b->host[n] = '\0';
  memcpy(b->addr, addr, sizeof(addr));
  return true;
}

/** Parse a decimal port of 1..5 digits in 1..65535. */
static bool
parse_port(const char *s, size_t n, uint16_t *port_out)
{
  if (n == 0 || n > PORT_MAX_DIGITS)
    return false;
  uint32_t v = 0;
  for (size_t i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return false;
  *port_out = (uint16_t)v;
  return true;
}

/* ---- BEGIN (tor-spec §6.2) --------------------------------------------- */

chive_err_t
begin_init(begin_t *out, const char *host, uint16_t port, uint32_t flags)
{
  begin_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  if (!host || port == 0)
    return CHIVE_ERR_INVAL;
  size_t n = strlen(host);
  if (n > RELAY_MAX_HOSTNAME_LEN || !classify_host(host, n, false, &tmp))
    return CHIVE_ERR_INVAL;
  tmp.port = port;
  tmp.flags = flags;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
begin_parse(const uint8_t *body, size_t len, begin_t *out)
{
  rd_t r = rd_init(body, len);
  const uint8_t *nul = len ? memchr(body, 0, len) : NULL;
  if (!nul)
    return CHIVE_ERR_PROTO;
  size_t slen = (size_t)(nul - body);
  if (slen > BEGIN_MAX_ADDRPORT_LEN)
    return CHIVE_ERR_PROTO;
  const char *s = (const char *)rd_bytes(&r, slen + 1);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  /* ADDRPORT = ADDRESS ':' PORT; the port follows the last ':'. */
  size_t colon = slen;
  while (colon > 0 && s[colon - 1] != ':')
    colon--;
  if (colon == 0)
    return CHIVE_ERR_PROTO;
  colon--; /* index of ':' */
  begin_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  if (colon > RELAY_MAX_HOSTNAME_LEN ||
      !parse_port(s + colon + 1, slen - colon - 1, &tmp.port) ||
      !classify_host(s, colon, true, &tmp))
    return CHIVE_ERR_PROTO;
  /* FLAGS is optional; anything after it is ignored. */
  if (rd_left(&r) >= BEGIN_FLAGS_LEN)
    tmp.flags = rd_u32(&r);
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
begin_encode(const begin_t *b, uint8_t *out, size_t cap, size_t *len_out)
{
  size_t n = strnlen(b->host, sizeof(b->host));
  begin_t check;
  memset(&check, 0, sizeof(check));
  if (n > RELAY_MAX_HOSTNAME_LEN || b->port == 0 || b->host[0] == '[' ||
      !classify_host(b->host, n, false, &check) ||
      check.host_type != b->host_type)
    return CHIVE_ERR_INVAL;

  char port[PORT_MAX_DIGITS];
  size_t np = 0;
  for (uint32_t v = b->port; v; v /= 10)
    port[np++] = (char)('0' + v % 10);

  wr_t w = wr_init(out, cap);
  if (b->host_type == BEGIN_HOST_IPV6)
    wr_u8(&w, '[');
  for (size_t i = 0; i < n; i++)
    wr_u8(&w, (uint8_t)ascii_lower(b->host[i]));
  if (b->host_type == BEGIN_HOST_IPV6)
    wr_u8(&w, ']');
  wr_u8(&w, ':');
  while (np)
    wr_u8(&w, (uint8_t)port[--np]);
  wr_u8(&w, 0);
  if (b->flags)
    wr_u32(&w, b->flags);
  return finish(&w, len_out);
}

/* ---- CONNECTED (tor-spec §6.2) ----------------------------------------- */

chive_err_t
connected_parse(const uint8_t *body, size_t len, connected_t *out)
{
  connected_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  if (len == 0) {
    *out = tmp;
    return CHIVE_OK;
  }
  rd_t r = rd_init(body, len);
  const uint8_t *a4 = rd_bytes(&r, 4);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (load_u32(a4) != 0) {
    tmp.atype = RELAY_ATYPE_IPV4;
    memcpy(tmp.addr, a4, 4);
  } else {
    /* Four zero octets, address type 6, IPv6, TTL. */
    if (rd_u8(&r) != RELAY_ATYPE_IPV6 && rd_ok(&r))
      return CHIVE_ERR_PROTO;
    tmp.atype = RELAY_ATYPE_IPV6;
    rd_copy(&r, tmp.addr, 16);
  }
  tmp.ttl = rd_u32(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
connected_encode(const connected_t *c, uint8_t *out, size_t cap,
                 size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  switch (c->atype) {
  case RELAY_ATYPE_NONE:
    break;
  case RELAY_ATYPE_IPV4:
    if (load_u32(c->addr) == 0)
      return CHIVE_ERR_INVAL;
    wr_bytes(&w, c->addr, 4);
    wr_u32(&w, c->ttl);
    break;
  case RELAY_ATYPE_IPV6:
    wr_zero(&w, 4);
    wr_u8(&w, RELAY_ATYPE_IPV6);
    wr_bytes(&w, c->addr, 16);
    wr_u32(&w, c->ttl);
    break;
  default:
    return CHIVE_ERR_INVAL;
  }
  return finish(&w, len_out);
}

/* ---- END (tor-spec §6.3) ----------------------------------------------- */

const char *
end_reason_name(uint8_t reason)
{
  static const char *const names[] = {
      "UNKNOWN",     "MISC",          "RESOLVEFAILED", "CONNECTREFUSED",
      "EXITPOLICY",  "DESTROY",       "DONE",          "TIMEOUT",
      "NOROUTE",     "HIBERNATING",   "INTERNAL",      "RESOURCELIMIT",
      "CONNRESET",   "TORPROTOCOL",   "NOTDIRECTORY",
  };
  if (reason < CHIVE_ARRAY_LEN(names))
    return names[reason];
  return "UNKNOWN";
}

chive_err_t
end_parse(const uint8_t *body, size_t len, end_t *out)
{
  end_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  tmp.ttl = RELAY_TTL_ABSENT;
  rd_t r = rd_init(body, len);
  /* "Implementations SHOULD accept empty RELAY_END messages, and treat
   * them as if they specified REASON_MISC." */
  tmp.reason = len ? rd_u8(&r) : END_REASON_MISC;
  if (tmp.reason == END_REASON_EXITPOLICY) {
    size_t rest = rd_left(&r);
    /* Address of 4 or 16 bytes, then an optional TTL; any other shape
     * is ignored and the END processed anyway. */
    if (rest == 4 || rest == 8) {
      tmp.atype = RELAY_ATYPE_IPV4;
      rd_copy(&r, tmp.addr, 4);
    } else if (rest == 16 || rest == 20) {
      tmp.atype = RELAY_ATYPE_IPV6;
      rd_copy(&r, tmp.addr, 16);
    }
    if (tmp.atype && rd_left(&r) == 4)
      tmp.ttl = rd_u32(&r);
  }
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
end_encode(const end_t *e, uint8_t *out, size_t cap, size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  wr_u8(&w, e->reason);
  if (e->reason == END_REASON_EXITPOLICY && e->atype != RELAY_ATYPE_NONE) {
    if (e->atype == RELAY_ATYPE_IPV4)
      wr_bytes(&w, e->addr, 4);
    else if (e->atype == RELAY_ATYPE_IPV6)
      wr_bytes(&w, e->addr, 16);
    else
      return CHIVE_ERR_INVAL;
    wr_u32(&w, e->ttl);
  }
  return finish(&w, len_out);
}

/* ---- SENDME (tor-spec §7.3.1, proposal 289) ---------------------------- */

chive_err_t
sendme_parse(const uint8_t *body, size_t len, sendme_t *out)
{
  sendme_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  if (len == 0) {
    *out = tmp; /* version 0: no payload */
    return CHIVE_OK;
  }
  rd_t r = rd_init(body, len);
  tmp.version = rd_u8(&r);
  uint16_t data_len = rd_u16(&r);
  rd_t data = rd_sub(&r, data_len);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (tmp.version == 1) {
    /* "If the DATA_LEN value is less than 20 bytes, the cell should be
     * dropped and the circuit closed." */
    if (data_len < SENDME_DIGEST_LEN)
      return CHIVE_ERR_PROTO;
    rd_copy(&data, tmp.digest, SENDME_DIGEST_LEN);
    if (!rd_ok(&data))
      return CHIVE_ERR_PROTO;
  }
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
sendme_encode(const sendme_t *s, uint8_t *out, size_t cap, size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  if (s->version == 0) {
    wr_u8(&w, 0);
    wr_u16(&w, 0);
  } else if (s->version == 1) {
    wr_u8(&w, 1);
    wr_u16(&w, SENDME_DIGEST_LEN);
    wr_bytes(&w, s->digest, SENDME_DIGEST_LEN);
  } else {
    return CHIVE_ERR_INVAL;
  }
  return finish(&w, len_out);
}

/* ---- Link specifiers, EXTEND2, EXTENDED2 (tor-spec §5.1.2) ------------- */

void
link_spec_set_ipv4(link_spec_t *ls, const uint8_t addr[4], uint16_t port)
{
  memset(ls, 0, sizeof(*ls));
  ls->type = LINK_SPEC_IPV4;
  ls->len = LINK_SPEC_IPV4_LEN;
  memcpy(ls->addr, addr, 4);
  ls->port = port;
}

void
link_spec_set_ipv6(link_spec_t *ls, const uint8_t addr[16], uint16_t port)
{
  memset(ls, 0, sizeof(*ls));
  ls->type = LINK_SPEC_IPV6;
  ls->len = LINK_SPEC_IPV6_LEN;
  memcpy(ls->addr, addr, 16);
  ls->port = port;
}

void
link_spec_set_legacy_id(link_spec_t *ls,
                        const uint8_t id[LINK_SPEC_LEGACY_ID_LEN])
{
  memset(ls, 0, sizeof(*ls));
  ls->type = LINK_SPEC_LEGACY_ID;
  ls->len = LINK_SPEC_LEGACY_ID_LEN;
  memcpy(ls->id, id, LINK_SPEC_LEGACY_ID_LEN);
}

void
link_spec_set_ed25519_id(link_spec_t *ls,
                         const uint8_t id[LINK_SPEC_ED25519_ID_LEN])
{
  memset(ls, 0, sizeof(*ls));
  ls->type = LINK_SPEC_ED25519_ID;
  ls->len = LINK_SPEC_ED25519_ID_LEN;
  memcpy(ls->id, id, LINK_SPEC_ED25519_ID_LEN);
}

/** Return the required LSLEN of a known type, or -1 for unknown types. */
static int
link_spec_known_len(uint8_t type)
{
  switch (type) {
  case LINK_SPEC_IPV4: return LINK_SPEC_IPV4_LEN;
  case LINK_SPEC_IPV6: return LINK_SPEC_IPV6_LEN;
  case LINK_SPEC_LEGACY_ID: return LINK_SPEC_LEGACY_ID_LEN;
  case LINK_SPEC_ED25519_ID: return LINK_SPEC_ED25519_ID_LEN;
  default: return -1;
  }
}

/** Read one link specifier from <b>r</b>; false on a format error. */
static bool
link_spec_read(rd_t *r, link_spec_t *ls)
{
  memset(ls, 0, sizeof(*ls));
  ls->type = rd_u8(r);
  ls->len = rd_u8(r);
  rd_t sub = rd_sub(r, ls->len);
  if (!rd_ok(r))
    return false;
  ls->raw = sub.p;
  int want = link_spec_known_len(ls->type);
  if (want < 0)
    return true; /* "Nodes MUST ignore unrecognized specifiers": kept. */
  if (ls->len != (size_t)want)
    return false;
  switch (ls->type) {
  case LINK_SPEC_IPV4:
    rd_copy(&sub, ls->addr, 4);
    ls->port = rd_u16(&sub);
    break;
  case LINK_SPEC_IPV6:
    rd_copy(&sub, ls->addr, 16);
    ls->port = rd_u16(&sub);
    break;
  default:
    rd_copy(&sub, ls->id, ls->len);
    break;
  }
  return rd_done(&sub);
}

chive_err_t
extend2_parse(const uint8_t *body, size_t len, extend2_t *out)
{
  extend2_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  rd_t r = rd_init(body, len);
  uint8_t n = rd_u8(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (n > EXTEND2_MAX_LINK_SPECS)
    return CHIVE_ERR_LIMIT;
  unsigned n_legacy = 0, n_ed = 0;
  for (unsigned i = 0; i < n; i++) {
    if (!link_spec_read(&r, &tmp.specs[i]))
      return CHIVE_ERR_PROTO;
    n_legacy += tmp.specs[i].type == LINK_SPEC_LEGACY_ID;
    n_ed += tmp.specs[i].type == LINK_SPEC_ED25519_ID;
  }
  /* "Nodes SHOULD reject link specifier lists that include multiple
   * instances of either one of those specifiers." */
  if (n_legacy > 1 || n_ed > 1)
    return CHIVE_ERR_PROTO;
  tmp.n_specs = n;
  tmp.create.htype = rd_u16(&r);
  tmp.create.hlen = rd_u16(&r);
  tmp.create.hdata = rd_bytes(&r, tmp.create.hlen);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
extend2_encode(const extend2_t *e, uint8_t *out, size_t cap,
               size_t *len_out)
{
  if (e->n_specs > EXTEND2_MAX_LINK_SPECS ||
      (e->create.hlen && !e->create.hdata))
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_u8(&w, e->n_specs);
  for (unsigned i = 0; i < e->n_specs; i++) {
    const link_spec_t *ls = &e->specs[i];
    int want = link_spec_known_len(ls->type);
    wr_u8(&w, ls->type);
    if (want < 0) {
      if (ls->len && !ls->raw)
        return CHIVE_ERR_INVAL;
      wr_u8(&w, ls->len);
      if (ls->len)
        wr_bytes(&w, ls->raw, ls->len);
      continue;
    }
    wr_u8(&w, (uint8_t)want);
    switch (ls->type) {
    case LINK_SPEC_IPV4:
      wr_bytes(&w, ls->addr, 4);
      wr_u16(&w, ls->port);
      break;
    case LINK_SPEC_IPV6:
      wr_bytes(&w, ls->addr, 16);
      wr_u16(&w, ls->port);
      break;
    default:
      wr_bytes(&w, ls->id, (size_t)want);
      break;
    }
  }
  wr_u16(&w, e->create.htype);
  wr_u16(&w, e->create.hlen);
  if (e->create.hlen)
    wr_bytes(&w, e->create.hdata, e->create.hlen);
  return finish(&w, len_out);
}

const link_spec_t *
extend2_find_spec(const extend2_t *e, uint8_t type)
{
  for (unsigned i = 0; i < e->n_specs && i < EXTEND2_MAX_LINK_SPECS; i++)
    if (e->specs[i].type == type)
      return &e->specs[i];
  return NULL;
}

chive_err_t
extended2_parse(const uint8_t *body, size_t len, created2_t *out)
{
  rd_t r = rd_init(body, len);
  uint16_t hlen = rd_u16(&r);
  if (!rd_ok(&r) || hlen > EXTENDED2_MAX_HLEN)
    return CHIVE_ERR_PROTO;
  const uint8_t *hdata = rd_bytes(&r, hlen);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  out->hlen = hlen;
  out->hdata = hdata;
  return CHIVE_OK;
}

chive_err_t
extended2_encode(const created2_t *c, uint8_t *out, size_t cap,
                 size_t *len_out)
{
  if (c->hlen > EXTENDED2_MAX_HLEN)
    return CHIVE_ERR_INVAL;
  return created2_encode(c, out, cap, len_out);
}

/* ---- TRUNCATED (tor-spec §5.4) ----------------------------------------- */

chive_err_t
truncated_parse(const uint8_t *body, size_t len, uint8_t *reason_out)
{
  *reason_out = len ? body[0] : (uint8_t)DESTROY_REASON_NONE;
  return CHIVE_OK;
}

chive_err_t
truncated_encode(uint8_t reason, uint8_t *out, size_t cap, size_t *len_out)
{
  return destroy_encode(reason, out, cap, len_out);
}

/* ---- RESOLVE / RESOLVED (tor-spec §6.4) -------------------------------- */

chive_err_t
resolve_parse(const uint8_t *body, size_t len, resolve_t *out)
{
  const uint8_t *nul = len ? memchr(body, 0, len) : NULL;
  if (!nul)
    return CHIVE_ERR_PROTO;
  size_t n = (size_t)(nul - body);
  rd_t r = rd_init(body, len);
  const char *s = (const char *)rd_bytes(&r, n);
  if (!rd_ok(&r) || !is_hostname(s, n))
    return CHIVE_ERR_PROTO;
  for (size_t i = 0; i < n; i++)
    out->name[i] = ascii_lower(s[i]);
  out->name[n] = '\0';
  return CHIVE_OK;
}

chive_err_t
resolve_encode(const char *name, uint8_t *out, size_t cap, size_t *len_out)
{
  if (!name)
    return CHIVE_ERR_INVAL;
  size_t n = strnlen(name, RELAY_MAX_HOSTNAME_LEN + 1);
  if (!is_hostname(name, n))
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  for (size_t i = 0; i < n; i++)
    wr_u8(&w, (uint8_t)ascii_lower(name[i]));
  wr_u8(&w, 0);
  return finish(&w, len_out);
}

chive_err_t
resolve_ptr_name(uint8_t atype, const uint8_t *addr, char *out, size_t cap)
{
  static const char hex[] = "0123456789abcdef";
  char buf[80];
  size_t n = 0;
  if (atype == RELAY_ATYPE_IPV4) {
    for (int i = 3; i >= 0; i--) {
      uint8_t v = addr[i];
      if (v >= 100)
        buf[n++] = (char)('0' + v / 100);
      if (v >= 10)
        buf[n++] = (char)('0' + (v / 10) % 10);
      buf[n++] = (char)('0' + v % 10);
      buf[n++] = '.';
    }
    memcpy(buf + n, "in-addr.arpa", 12);
    n += 12;
  } else if (atype == RELAY_ATYPE_IPV6) {
    for (int i = 15; i >= 0; i--) {
      buf[n++] = hex[addr[i] & 0xf];
      buf[n++] = '.';
      buf[n++] = hex[addr[i] >> 4];
      buf[n++] = '.';
    }
    memcpy(buf + n, "ip6.arpa", 8);
    n += 8;
  } else {
    return CHIVE_ERR_INVAL;
  }
  if (cap < n + 1)
    return CHIVE_ERR_LIMIT;
  memcpy(out, buf, n);
  out[n] = '\0';
  return CHIVE_OK;
}

chive_err_t
resolved_parse(const uint8_t *body, size_t len, resolved_t *out)
{
  resolved_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  rd_t r = rd_init(body, len);
  while (rd_left(&r) > 0) {
    if (tmp.n_answers == RESOLVED_MAX_ANSWERS)
      return CHIVE_ERR_LIMIT;
    resolved_answer_t *a = &tmp.answers[tmp.n_answers];
    a->type = rd_u8(&r);
    a->len = rd_u8(&r);
    a->value = rd_bytes(&r, a->len);
    a->ttl = rd_u32(&r);
    if (!rd_ok(&r))
      return CHIVE_ERR_PROTO;
    if ((a->type == RESOLVED_TYPE_IPV4 && a->len != 4) ||
        (a->type == RESOLVED_TYPE_IPV6 && a->len != 16))
      return CHIVE_ERR_PROTO;
    tmp.n_answers++;
  }
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
resolved_encode(const resolved_t *res, uint8_t *out, size_t cap,
                size_t *len_out)
{
  if (res->n_answers > RESOLVED_MAX_ANSWERS)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  for (unsigned i = 0; i < res->n_answers; i++) {
    const resolved_answer_t *a = &res->answers[i];
    if ((a->len && !a->value) ||
        (a->type == RESOLVED_TYPE_IPV4 && a->len != 4) ||
        (a->type == RESOLVED_TYPE_IPV6 && a->len != 16))
      return CHIVE_ERR_INVAL;
    wr_u8(&w, a->type);
    wr_u8(&w, a->len);
    if (a->len)
      wr_bytes(&w, a->value, a->len);
    wr_u32(&w, a->ttl);
  }
  return finish(&w, len_out);
}
