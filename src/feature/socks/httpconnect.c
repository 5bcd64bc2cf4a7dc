/**
 * @file httpconnect.c
 * @brief HTTP CONNECT tunnel requests: a bounded parser for the request
 * head and the fixed replies.
 *
 * RFC 9112 §3 (request line), §5 (field lines), RFC 9110 §9.3.6
 * (CONNECT, authority-form target), RFC 7617 (Basic).  tor's
 * HTTPTunnelPort is the reference for the error statuses and the
 * end-reason replies (tor reasons.c).
 **/
#include "lib/cc/compat.h"

#include "feature/socks/httpconnect.h"

#include <string.h>

#include "core/proto/relay_msg.h"
#include "lib/encoding/base64.h"
#include "lib/malloc/malloc.h"
#include "lib/net/address.h"
#include "lib/text/numparse.h"
#include "lib/text/str.h"

/** Longest method token we look at before deciding it is not CONNECT. */
#define HTTPCONNECT_MAX_METHOD_LEN 32

void
httpconnect_req_clear(httpconnect_req_t *req)
{
  chive_memwipe(req, sizeof(*req));
}

/** RFC 9110 §5.6.2 tchar. */
static bool
is_tchar(uint8_t c)
{
  if (ascii_isalnum(c))
    return true;
  return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/** RFC 9110 §5.5 field-value bytes: HTAB, SP, VCHAR, obs-text. */
static bool
is_field_byte(uint8_t c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/** Return the index of the first "\r\n" at or after <b>from</b> among
 * the first <b>n</b> bytes at <b>p</b>, or -1. */
static long
find_crlf(const uint8_t *p, size_t n, size_t from)
{
  for (size_t i = from; i + 1 < n; i++)
    if (p[i] == '\r' && p[i + 1] == '\n')
      return (long)i;
  return -1;
}

/** Fail: zero *out, set *fail, return <b>err</b>. */
static chive_err_t
refuse(httpconnect_req_t *out, httpconnect_fail_t *fail,
       httpconnect_fail_t why, chive_err_t err)
{
  httpconnect_req_clear(out);
  *fail = why;
  return err;
}

/** Return true iff <b>host</b> (length <b>len</b>) ends with
 * <b>suffix</b>, ignoring case. */
static bool
host_has_suffix(const char *host, size_t len, const char *suffix)
{
  size_t slen = strlen(suffix);
  return len >= slen && mem_eq_str_ci(host + len - slen, slen, suffix);
}

/** Parse the authority-form target "host:port" or "[v6]:port" (RFC 9110
 * §9.3.6) into <b>out</b>.  Returns the failure kind, or
 * HTTPCONNECT_FAIL_NONE. */
static httpconnect_fail_t
parse_target(const char *t, size_t len, httpconnect_req_t *out)
{
  const char *host;
  size_t hlen;
  const char *port;
  size_t plen;
  bool v6 = false;

  if (len > 0 && t[0] == '[') {
    const char *rb = memchr(t, ']', len);
    if (!rb)
      return HTTPCONNECT_FAIL_BAD_REQUEST;
    host = t + 1;
    hlen = (size_t)(rb - host);
    size_t after = (size_t)(rb - t) + 1;
    if (after >= len || t[after] != ':')
      return HTTPCONNECT_FAIL_BAD_REQUEST; /* no port */
    port = t + after + 1;
    plen = len - after - 1;
    v6 = true;
  } else {
    const char *colon = NULL;
    for (size_t i = len; i > 0; i--)
      if (t[i - 1] == ':') {
        colon = t + i - 1;
        break;
      }
    if (!colon)
      return HTTPCONNECT_FAIL_BAD_REQUEST; /* no port */
    host = t;
    hlen = (size_t)(colon - t);
    port = colon + 1;
    plen = len - hlen - 1;
    if (memchr(host, ':', hlen))
      return HTTPCONNECT_FAIL_BAD_REQUEST; /* unbracketed IPv6 */
  }
  if (hlen > HTTPCONNECT_MAX_HOST_LEN)
    return HTTPCONNECT_FAIL_URI_TOO_LONG;
  if (hlen == 0)
    return HTTPCONNECT_FAIL_BAD_REQUEST;
  for (size_t i = 0; i < hlen; i++)
    if ((uint8_t)host[i] < 0x21 || (uint8_t)host[i] > 0x7e)
      return HTTPCONNECT_FAIL_BAD_REQUEST;
  if (v6) {
    net_addr_t a;
    if (net_addr_parse(host, hlen, &a) != CHIVE_OK || a.family != NET_AF_INET6)
      return HTTPCONNECT_FAIL_BAD_REQUEST;
  }
  uint32_t pnum;
  if (parse_u32(port, plen, 10, 1, 65535, &pnum) != CHIVE_OK)
    return HTTPCONNECT_FAIL_BAD_REQUEST;

  memcpy(out->host, host, hlen);
  out->host[hlen] = '\0';
  out->host_len = hlen;
  out->port = (uint16_t)pnum;
  if (v6)
    out->flags |= HTTPCONNECT_F_IPV6_LITERAL;
  if (host_has_suffix(out->host, hlen, ".onion"))
    out->flags |= HTTPCONNECT_F_ONION;
  if (host_has_suffix(out->host, hlen, ".exit"))
    out->flags |= HTTPCONNECT_F_EXIT;
  return HTTPCONNECT_FAIL_NONE;
}

/** Parse the request line "CONNECT SP target SP HTTP/1.d" (RFC 9112
 * §3), <b>len</b> bytes without its CRLF. */
static httpconnect_fail_t
parse_request_line(const char *l, size_t len, httpconnect_req_t *out)
{
  const char *sp1 = memchr(l, ' ', len);
  if (!sp1 || sp1 == l)
    return HTTPCONNECT_FAIL_BAD_REQUEST;
  const char *target = sp1 + 1;
  size_t rest = len - (size_t)(target - l);
  const char *sp2 = memchr(target, ' ', rest);
  if (!sp2 || sp2 == target)
    return HTTPCONNECT_FAIL_BAD_REQUEST;
  size_t tlen = (size_t)(sp2 - target);
  const char *ver = sp2 + 1;
  size_t vlen = len - (size_t)(ver - l);
  /* "HTTP/1.0" or "HTTP/1.1" (any single minor digit). */
  if (vlen != 8 || memcmp(ver, "HTTP/1.", 7) != 0 || !ascii_isdigit(ver[7]))
    return HTTPCONNECT_FAIL_BAD_REQUEST;
  out->http_minor = (uint8_t)(ver[7] - '0');
  return parse_target(target, tlen, out);
}

/** Decode a "Basic" Proxy-Authorization value (RFC 7617 §2) into
 * out->username / out->password; leave has_basic false if it is not
 * well-formed Basic with short enough parts. */
static void
decode_basic(const char *v, size_t len, httpconnect_req_t *out)
{
  size_t tok = 0;
  while (tok < len && v[tok] != ' ')
    tok++;
  if (!mem_eq_str_ci(v, tok, "Basic"))
    return;
  size_t i = tok;
  while (i < len && v[i] == ' ')
    i++;
  if (i == len)
    return;
  uint8_t buf[HTTPCONNECT_MAX_AUTH_LEN];
  size_t n;
  if (base64_decode(v + i, len - i, buf, sizeof(buf), &n) != CHIVE_OK)
    return;
  const uint8_t *colon = memchr(buf, ':', n);
  if (colon) {
    size_t ulen = (size_t)(colon - buf);
    size_t plen = n - ulen - 1;
    if (ulen <= HTTPCONNECT_MAX_CRED_LEN && plen <= HTTPCONNECT_MAX_CRED_LEN) {
      memcpy(out->username, buf, ulen);
      out->username[ulen] = 0;
      out->username_len = ulen;
      memcpy(out->password, colon + 1, plen);
      out->password[plen] = 0;
      out->password_len = plen;
      out->has_basic = true;
    }
  }
  chive_memwipe(buf, sizeof(buf));
}

/** Handle one field line "name: value" (<b>len</b> bytes, no CRLF).
 * Returns the failure kind, or HTTPCONNECT_FAIL_NONE. */
static httpconnect_fail_t
parse_field(const char *l, size_t len, httpconnect_req_t *out,
            bool *seen_tor_iso, bool *seen_x_iso)
{
  const char *colon = memchr(l, ':', len);
  if (!colon || colon == l)
    return HTTPCONNECT_FAIL_BAD_REQUEST; /* includes obs-fold lines */
  size_t nlen = (size_t)(colon - l);
  for (size_t i = 0; i < nlen; i++)
    if (!is_tchar((uint8_t)l[i]))
      return HTTPCONNECT_FAIL_BAD_REQUEST; /* RFC 9112 §5.1 */
  const char *v = colon + 1;
  size_t vlen = len - nlen - 1;
  for (size_t i = 0; i < vlen; i++)
    if (!is_field_byte((uint8_t)v[i]))
      return HTTPCONNECT_FAIL_BAD_REQUEST;
  /* Trim optional whitespace (RFC 9110 §5.5). */
  while (vlen && (v[0] == ' ' || v[0] == '\t')) {
    v++;
    vlen--;
  }
  while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
    vlen--;

  if (mem_eq_str_ci(l, nlen, "Proxy-Authorization")) {
    if (vlen > HTTPCONNECT_MAX_AUTH_LEN)
      return HTTPCONNECT_FAIL_BAD_REQUEST;
    if (!out->has_proxy_auth) {
      out->has_proxy_auth = true;
      memcpy(out->proxy_auth, v, vlen);
      out->proxy_auth[vlen] = '\0';
      out->proxy_auth_len = vlen;
      decode_basic(v, vlen, out);
    }
  } else {
    bool tor_iso = mem_eq_str_ci(l, nlen, "Tor-Stream-Isolation");
    bool x_iso = mem_eq_str_ci(l, nlen, "X-Tor-Stream-Isolation");
    if (!tor_iso && !x_iso)
      return HTTPCONNECT_FAIL_NONE;
    if (vlen > HTTPCONNECT_MAX_ISOLATION_LEN)
      return HTTPCONNECT_FAIL_BAD_REQUEST;
    /* First occurrence of each wins; the current name wins over the
     * legacy one. */
    bool take = tor_iso ? !*seen_tor_iso : (!*seen_x_iso && !*seen_tor_iso);
    if (tor_iso)
      *seen_tor_iso = true;
    else
      *seen_x_iso = true;
    if (take) {
      out->has_isolation = true;
      memcpy(out->isolation, v, vlen);
      out->isolation[vlen] = '\0';
      out->isolation_len = vlen;
    }
  }
  return HTTPCONNECT_FAIL_NONE;
}

chive_err_t
httpconnect_parse(const uint8_t *in, size_t len, httpconnect_req_t *out,
                  size_t *consumed, httpconnect_fail_t *fail)
{
  memset(out, 0, sizeof(*out));
  size_t scan =
      len < HTTPCONNECT_MAX_HEAD_LEN ? len : HTTPCONNECT_MAX_HEAD_LEN;
  if (scan == 0)
    return CHIVE_ERR_TRUNCATED;

  /* Judge the method as soon as its token has ended (405 for anything
   * but CONNECT, compared without case as tor does). */
  size_t mlen = 0;
  while (mlen < scan && mlen <= HTTPCONNECT_MAX_METHOD_LEN &&
         is_tchar(in[mlen]))
    mlen++;
  if (mlen < scan) {
    if (mlen == 0 || mlen > HTTPCONNECT_MAX_METHOD_LEN || in[mlen] != ' ')
      return refuse(out, fail, HTTPCONNECT_FAIL_BAD_REQUEST, CHIVE_ERR_PROTO);
    if (!mem_eq_str_ci((const char *)in, mlen, "CONNECT"))
      return refuse(out, fail, HTTPCONNECT_FAIL_METHOD, CHIVE_ERR_PROTO);
  }

  long eol = find_crlf(in, scan, 0);
  if (eol < 0) {
    /* No line may hold a NUL, CR or LF of its own. */
    for (size_t i = 0; i < scan; i++)
      if (in[i] == 0 || in[i] == '\n' || (in[i] == '\r' && i + 1 < scan))
        return refuse(out, fail, HTTPCONNECT_FAIL_BAD_REQUEST,
                      CHIVE_ERR_PROTO);
    if (len >= HTTPCONNECT_MAX_HEAD_LEN)
      return refuse(out, fail, HTTPCONNECT_FAIL_HEAD_TOO_LONG,
                    CHIVE_ERR_LIMIT);
    return CHIVE_ERR_TRUNCATED;
  }
  size_t rl_len = (size_t)eol;
  for (size_t i = 0; i < rl_len; i++)
    if (in[i] < 0x20 || in[i] == 0x7f)
      return refuse(out, fail, HTTPCONNECT_FAIL_BAD_REQUEST, CHIVE_ERR_PROTO);
  httpconnect_fail_t f = parse_request_line((const char *)in, rl_len, out);
  if (f != HTTPCONNECT_FAIL_NONE)
    return refuse(out, fail, f, CHIVE_ERR_PROTO);

  /* Field lines, each ending in CRLF, then an empty line. */
  bool seen_tor_iso = false, seen_x_iso = false;
  size_t pos = rl_len + 2;
  for (;;) {
    long e = find_crlf(in, scan, pos);
    if (e < 0) {
      for (size_t i = pos; i < scan; i++)
        if (in[i] == 0 || in[i] == '\n' || (in[i] == '\r' && i + 1 < scan))
          return refuse(out, fail, HTTPCONNECT_FAIL_BAD_REQUEST,
                        CHIVE_ERR_PROTO);
      if (len >= HTTPCONNECT_MAX_HEAD_LEN)
        return refuse(out, fail, HTTPCONNECT_FAIL_HEAD_TOO_LONG,
                      CHIVE_ERR_LIMIT);
      httpconnect_req_clear(out);
      return CHIVE_ERR_TRUNCATED;
    }
    size_t llen = (size_t)e - pos;
    if (llen == 0) {
      *consumed = pos + 2;
      return CHIVE_OK;
    }
    /* A bare CR or LF inside a line is refused by parse_field (not a
     * field byte), as is a NUL. */
    f = parse_field((const char *)in + pos, llen, out, &seen_tor_iso,
                    &seen_x_iso);
    if (f != HTTPCONNECT_FAIL_NONE)
      return refuse(out, fail, f, CHIVE_ERR_PROTO);
    pos = (size_t)e + 2;
  }
}

/* ---- Replies ------------------------------------------------------------ */

const char *
httpconnect_reply_ok(void)
{
  return "HTTP/1.0 200 OK\r\n\r\n";
}

const char *
httpconnect_reply_for_fail(httpconnect_fail_t fail)
{
  switch (fail) {
  case HTTPCONNECT_FAIL_METHOD:
    return "HTTP/1.0 405 Method Not Allowed\r\n"
           "Content-Type: text/plain; charset=us-ascii\r\n"
           "Connection: close\r\n"
           "\r\n"
           "This port is an HTTP CONNECT tunnel, not a general HTTP "
           "proxy:\nonly CONNECT host:port requests are accepted.\n";
  case HTTPCONNECT_FAIL_URI_TOO_LONG:
    return "HTTP/1.0 414 Request-URI Too Long\r\n\r\n";
  case HTTPCONNECT_FAIL_BAD_REQUEST:
  case HTTPCONNECT_FAIL_HEAD_TOO_LONG:
  case HTTPCONNECT_FAIL_NONE:
  default:
    return "HTTP/1.0 400 Bad Request\r\n\r\n";
  }
}

const char *
httpconnect_reply_for_end_reason(uint8_t reason)
{
  /* tor reasons.c end_reason_to_http_connect_response_line(). */
  switch (reason) {
  case 0:
    return "HTTP/1.0 200 OK\r\n\r\n";
  case END_REASON_MISC:
    return "HTTP/1.0 500 Internal Server Error\r\n\r\n";
  case END_REASON_RESOLVEFAILED:
    return "HTTP/1.0 404 Not Found (resolve failed)\r\n\r\n";
  case END_REASON_NOROUTE:
    return "HTTP/1.0 404 Not Found (no route)\r\n\r\n";
  case END_REASON_CONNECTREFUSED:
    return "HTTP/1.0 403 Forbidden (connection refused)\r\n\r\n";
  case END_REASON_EXITPOLICY:
    return "HTTP/1.0 403 Forbidden (exit policy)\r\n\r\n";
  case END_REASON_DESTROY:
    return "HTTP/1.0 502 Bad Gateway (destroy cell received)\r\n\r\n";
  case END_REASON_DONE:
    return "HTTP/1.0 502 Bad Gateway (unexpected close)\r\n\r\n";
  case END_REASON_TIMEOUT:
    return "HTTP/1.0 504 Gateway Timeout\r\n\r\n";
  case END_REASON_HIBERNATING:
    return "HTTP/1.0 502 Bad Gateway (hibernating server)\r\n\r\n";
  case END_REASON_INTERNAL:
    return "HTTP/1.0 502 Bad Gateway (internal error)\r\n\r\n";
  case END_REASON_RESOURCELIMIT:
    return "HTTP/1.0 502 Bad Gateway (resource limit)\r\n\r\n";
  case END_REASON_CONNRESET:
    return "HTTP/1.0 403 Forbidden (connection reset)\r\n\r\n";
  case END_REASON_TORPROTOCOL:
    return "HTTP/1.0 502 Bad Gateway (tor protocol violation)\r\n\r\n";
  case END_REASON_NOTDIRECTORY:
  default:
    return "HTTP/1.0 500 Internal Server Error (weird end reason)\r\n\r\n";
  }
}
