/**
 * @file socks_proto.c
 * @brief SOCKS 4/4a/5 server-side engine: parse client messages, queue
 * the negotiation replies, encode the final replies.
 *
 * RFC 1928 (SOCKS5), RFC 1929 (username/password), SOCKS4/4a, torspec
 * socks-extensions.txt.  Every message is parsed from the caller's
 * buffer with a bounded reader; the engine consumes whole messages only
 * and checks each field as soon as it has arrived, so a prefix of a
 * valid message is always "truncated" and never "malformed".
 **/
#include "lib/cc/compat.h"

#include "feature/socks/socks_proto.h"

#include <string.h>

#include "core/proto/relay_msg.h"
#include "lib/bytes/bytes.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/net/address.h"
#include "lib/text/str.h"

/** Length of a SOCKS4 reply: VN CD DSTPORT(2) DSTIP(4). */
#define SOCKS4_REPLY_LEN 8
/** Fixed part of a SOCKS4 request before the userid. */
#define SOCKS4_HEADER_LEN 8
/** Fixed part of a SOCKS5 request before DST.ADDR: VER CMD RSV ATYP. */
#define SOCKS5_REQ_HEADER_LEN 4

/** Answer to a client that speaks HTTP to the SOCKS port
 * (socks-extensions §4).  Our own words. */
static const char socks_http_answer[] =
    "HTTP/1.0 501 Not an HTTP Proxy\r\n"
    "Content-Type: text/plain; charset=us-ascii\r\n"
    "Connection: close\r\n"
    "\r\n"
    "This port speaks SOCKS (versions 4, 4a and 5), not HTTP.\n"
    "Configure your application to use it as a SOCKS proxy, or use an\n"
    "HTTP CONNECT tunnel port instead.\n";

/* ---- Small helpers ------------------------------------------------------ */

void
socks_request_clear(socks_request_t *req)
{
  chive_memwipe(req, sizeof(*req));
}

void
socks_init(socks_t *s)
{
  memset(s, 0, sizeof(*s));
  s->state = SOCKS_ST_START;
}

void
socks_clear(socks_t *s)
{
  chive_memwipe(s, sizeof(*s));
}

/** Append <b>n</b> bytes to the output queue; false if they do not fit
 * (nothing is appended then). */
static bool
out_append(socks_t *s, const void *p, size_t n)
{
  if (n > SOCKS_OUTPUT_MAX - s->out_len)
    return false;
  memcpy(s->out + s->out_len, p, n);
  s->out_len += n;
  return true;
}

size_t
socks_take_output(socks_t *s, uint8_t *out, size_t out_max)
{
  size_t n = s->out_len < out_max ? s->out_len : out_max;
  if (n == 0)
    return 0;
  memcpy(out, s->out, n);
  memmove(s->out, s->out + n, s->out_len - n);
  s->out_len -= n;
  chive_memwipe(s->out + s->out_len, n);
  return n;
}

/** Enter the failed state for <b>why</b> and forget the credentials. */
static chive_err_t
socks_fail(socks_t *s, socks_fail_t why)
{
  s->state = SOCKS_ST_FAILED;
  s->fail = why;
  socks_request_clear(&s->req);
  return CHIVE_ERR_PROTO;
}

/** Queue a SOCKS5 error reply with <b>code</b> and BND 0.0.0.0:0
 * (RFC 1928 §6), then fail with <b>why</b>. */
static chive_err_t
socks5_fail_reply(socks_t *s, uint8_t code, socks_fail_t why)
{
  const uint8_t rep[10] = {
      SOCKS5_VERSION, code, 0, SOCKS5_ATYPE_IPV4, 0, 0, 0, 0, 0, 0};
  /* At most greeting + auth replies precede this: always fits. */
  if (BUG(!out_append(s, rep, sizeof(rep))))
    return CHIVE_ERR_INTERNAL;
  return socks_fail(s, why);
}

/** Queue the SOCKS4 "rejected" reply and fail with <b>why</b>. */
static chive_err_t
socks4_fail_reply(socks_t *s, socks_fail_t why)
{
  const uint8_t rep[SOCKS4_REPLY_LEN] = {0, SOCKS4_REP_REJECTED, 0, 0, 0, 0, 0,
                                         0};
  if (BUG(!out_append(s, rep, sizeof(rep))))
    return CHIVE_ERR_INTERNAL;
  return socks_fail(s, why);
}

/** Return true iff the <b>len</b> bytes at <b>p</b> are an acceptable
 * hostname: 1..SOCKS_MAX_HOSTNAME_LEN bytes of printable ASCII other than
 * space.  Deliberately more lenient than tor's hostname rules (which the
 * stream layer may still apply), but never lets a NUL, a control byte or
 * a space through. */
static bool
hostname_ok(const uint8_t *p, size_t len)
{
  if (len == 0 || len > SOCKS_MAX_HOSTNAME_LEN)
    return false;
  for (size_t i = 0; i < len; i++)
    if (p[i] < 0x21 || p[i] > 0x7e)
      return false;
  return true;
}

/** Return true iff the NUL-terminated <b>host</b> (length <b>len</b>)
 * ends with <b>suffix</b> (which starts with '.'), ignoring case. */
static bool
host_has_suffix(const char *host, size_t len, const char *suffix)
{
  size_t slen = strlen(suffix);
  return len >= slen && mem_eq_str_ci(host + len - slen, slen, suffix);
}

/** Store a validated hostname in the request and set the special-name
 * flags (address-spec §2-§4). */
static void
set_hostname(socks_request_t *req, const uint8_t *p, size_t len)
{
  req->addr_type = SOCKS_ADDR_HOSTNAME;
  memset(req->addr, 0, sizeof(req->addr));
  memcpy(req->host, p, len);
  req->host[len] = '\0';
  req->host_len = len;
  if (host_has_suffix(req->host, len, ".onion"))
    req->flags |= SOCKS_REQ_F_ONION;
  if (host_has_suffix(req->host, len, ".exit"))
    req->flags |= SOCKS_REQ_F_EXIT;
  if (host_has_suffix(req->host, len, ".noconnect"))
    req->flags |= SOCKS_REQ_F_NOCONNECT;
}

/** Return the index of the first NUL among the first <b>max</b> of the
 * <b>n</b> bytes at <b>p</b>, or -1. */
static long
find_nul(const uint8_t *p, size_t n, size_t max)
{
  size_t lim = n < max ? n : max;
  const uint8_t *z = (p && lim) ? memchr(p, 0, lim) : NULL;
  return z ? (long)(z - p) : -1;
}

/* ---- SOCKS4 / SOCKS4a --------------------------------------------------- */

/** Parse a SOCKS4(a) request at <b>p</b> (<b>n</b> bytes, p[0] == 4):
 *   VN=4 | CD | DSTPORT(2) | DSTIP(4) | USERID | NUL
 *   [ HOSTNAME | NUL ]   when DSTIP is 0.0.0.x with x != 0 (SOCKS4a).
 * Commands: CONNECT and Tor's RESOLVE (socks-extensions §2; no
 * RESOLVE_PTR, no BIND). */
static chive_err_t
parse_socks4(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  socks_request_t *req = &s->req;
  if (n >= 2 && p[1] != SOCKS_CMD_CONNECT && p[1] != SOCKS_CMD_RESOLVE)
    return socks4_fail_reply(s, SOCKS_FAIL_BAD_COMMAND);

  rd_t r = rd_init(p, n);
  (void)rd_u8(&r);
  uint8_t cmd = rd_u8(&r);
  uint16_t port = rd_u16(&r);
  const uint8_t *ip = rd_bytes(&r, 4);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;

  /* USERID: up to SOCKS_MAX_USERNAME_LEN bytes, then NUL. */
  size_t left;
  rd_t peek = r;
  const uint8_t *rest = rd_rest(&peek, &left);
  long z = find_nul(rest, left, SOCKS_MAX_USERNAME_LEN + 1);
  if (z < 0)
    return left > SOCKS_MAX_USERNAME_LEN
               ? socks4_fail_reply(s, SOCKS_FAIL_TOO_LONG)
               : CHIVE_ERR_TRUNCATED;
  size_t ulen = (size_t)z;
  const uint8_t *user = rd_bytes(&r, ulen);
  rd_skip(&r, 1);
  if (!rd_ok(&r) || !user)
    return CHIVE_ERR_TRUNCATED; /* unreachable: z < left */

  bool is_4a = ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0;
  const uint8_t *host = NULL;
  size_t hlen = 0;
  if (is_4a) {
    peek = r;
    rest = rd_rest(&peek, &left);
    z = find_nul(rest, left, SOCKS_MAX_HOSTNAME_LEN + 1);
    if (z < 0)
      return left > SOCKS_MAX_HOSTNAME_LEN
                 ? socks4_fail_reply(s, SOCKS_FAIL_TOO_LONG)
                 : CHIVE_ERR_TRUNCATED;
    hlen = (size_t)z;
    host = rd_bytes(&r, hlen);
    rd_skip(&r, 1);
    if (!rd_ok(&r))
      return CHIVE_ERR_TRUNCATED; /* unreachable */
    if (!hostname_ok(host, hlen))
      return socks4_fail_reply(s, SOCKS_FAIL_BAD_HOSTNAME);
  }

  /* Everything checked: commit. */
  req->version = SOCKS4_VERSION;
  req->command = cmd;
  req->port = port;
  if (is_4a) {
    req->flags |= SOCKS_REQ_F_SOCKS4A;
    set_hostname(req, host, hlen);
  } else {
    req->addr_type = SOCKS_ADDR_IPV4;
    memset(req->addr, 0, sizeof(req->addr));
    memcpy(req->addr, ip, 4);
  }
  if (ulen) {
    /* socks-extensions §1.1: SOCKS4 userids isolate streams. */
    req->auth = SOCKS_AUTH_SOCKS4;
    memcpy(req->username, user, ulen);
  }
  req->username[ulen] = 0;
  req->username_len = ulen;
  *used = n - rd_left(&r);
  s->state = SOCKS_ST_REQUEST_READY;
  return CHIVE_OK;
}

/* ---- SOCKS5 ------------------------------------------------------------- */

/** Parse the greeting (RFC 1928 §3): VER=5 | NMETHODS | METHODS, and
 * queue the method selection.  Like tor, prefer USERNAME/PASSWORD when
 * offered (the credentials select the isolation class), then NO AUTH;
 * otherwise answer 0xFF and fail. */
static chive_err_t
parse_greeting(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  rd_t r = rd_init(p, n);
  (void)rd_u8(&r);
  uint8_t nmethods = rd_u8(&r);
  const uint8_t *methods = rd_bytes(&r, nmethods);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;

  bool noauth = false, userpass = false;
  for (size_t i = 0; i < nmethods; i++) {
    if (methods[i] == SOCKS5_METHOD_NOAUTH)
      noauth = true;
    else if (methods[i] == SOCKS5_METHOD_USERPASS)
      userpass = true;
  }
  uint8_t sel[2] = {SOCKS5_VERSION, SOCKS5_METHOD_NONE_ACCEPTABLE};
  if (userpass)
    sel[1] = SOCKS5_METHOD_USERPASS;
  else if (noauth)
    sel[1] = SOCKS5_METHOD_NOAUTH;
  if (BUG(!out_append(s, sel, sizeof(sel))))
    return CHIVE_ERR_INTERNAL;
  if (sel[1] == SOCKS5_METHOD_NONE_ACCEPTABLE)
    return socks_fail(s, SOCKS_FAIL_NO_METHOD);

  s->method = sel[1];
  s->req.version = SOCKS5_VERSION;
  s->state = userpass ? SOCKS_ST_S5_AUTH : SOCKS_ST_S5_REQUEST;
  *used = n - rd_left(&r);
  return CHIVE_OK;
}

/** Parse an RFC 1929 request (§2): VER=1 | ULEN | UNAME | PLEN | PASSWD,
 * keep the credentials and queue the success reply (01 00).  As tor
 * does (socks-extensions §1.1), empty names and passwords are accepted,
 * and so is the message when NO AUTH was selected. */
static chive_err_t
parse_auth(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  if (p[0] != SOCKS5_AUTH_VERSION) {
    /* RFC 1929 §2: a nonzero STATUS, then the server closes. */
    const uint8_t rep[2] = {SOCKS5_AUTH_VERSION, 0x01};
    if (BUG(!out_append(s, rep, sizeof(rep))))
      return CHIVE_ERR_INTERNAL;
    return socks_fail(s, SOCKS_FAIL_BAD_AUTH);
  }
  rd_t r = rd_init(p, n);
  (void)rd_u8(&r);
  uint8_t ulen = rd_u8(&r);
  const uint8_t *user = rd_bytes(&r, ulen);
  uint8_t plen = rd_u8(&r);
  const uint8_t *pass = rd_bytes(&r, plen);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;

  socks_request_t *req = &s->req;
  memcpy(req->username, user, ulen);
  req->username[ulen] = 0;
  req->username_len = ulen;
  memcpy(req->password, pass, plen);
  req->password[plen] = 0;
  req->password_len = plen;
  req->auth = SOCKS_AUTH_USERPASS;
  s->got_auth_msg = true;

  const uint8_t ok[2] = {SOCKS5_AUTH_VERSION, 0x00};
  if (BUG(!out_append(s, ok, sizeof(ok))))
    return CHIVE_ERR_INTERNAL;
  s->state = SOCKS_ST_S5_REQUEST;
  *used = n - rd_left(&r);
  return CHIVE_OK;
}

/** Parse a SOCKS5 request (RFC 1928 §4):
 *   VER=5 | CMD | RSV=0 | ATYP | DST.ADDR | DST.PORT
 * Each field is checked as soon as it arrives, with the error reply
 * RFC 1928 §6 names: 0x07 for a command we do not support (BIND, UDP
 * ASSOCIATE, anything unknown), 0x08 for an unknown address type (and
 * for RESOLVE_PTR of a hostname, which tor refuses), 0x01 otherwise. */
static chive_err_t
parse_request5(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  if (p[0] != SOCKS5_VERSION)
    return socks5_fail_reply(s, SOCKS5_REP_GENERAL_FAILURE,
                             SOCKS_FAIL_BAD_VERSION);
  if (n >= 2 && p[1] != SOCKS_CMD_CONNECT && p[1] != SOCKS_CMD_RESOLVE &&
      p[1] != SOCKS_CMD_RESOLVE_PTR)
    return socks5_fail_reply(s, SOCKS5_REP_COMMAND_NOT_SUPPORTED,
                             SOCKS_FAIL_BAD_COMMAND);
  if (n >= 3 && p[2] != 0)
    return socks5_fail_reply(s, SOCKS5_REP_GENERAL_FAILURE,
                             SOCKS_FAIL_MALFORMED);
  if (n >= 4) {
    uint8_t at = p[3];
    if (at != SOCKS5_ATYPE_IPV4 && at != SOCKS5_ATYPE_IPV6 &&
        at != SOCKS5_ATYPE_HOSTNAME)
      return socks5_fail_reply(s, SOCKS5_REP_ADDRESS_TYPE_NOT_SUPPORTED,
                               SOCKS_FAIL_BAD_ATYPE);
    /* socks-extensions §2: RESOLVE_PTR takes an address. */
    if (at == SOCKS5_ATYPE_HOSTNAME && p[1] == SOCKS_CMD_RESOLVE_PTR)
      return socks5_fail_reply(s, SOCKS5_REP_ADDRESS_TYPE_NOT_SUPPORTED,
                               SOCKS_FAIL_BAD_ATYPE);
    /* A zero-length name can be refused as soon as its length arrives. */
    if (at == SOCKS5_ATYPE_HOSTNAME && n >= 5 && p[4] == 0)
      return socks5_fail_reply(s, SOCKS5_REP_GENERAL_FAILURE,
                               SOCKS_FAIL_BAD_HOSTNAME);
  }

  rd_t r = rd_init(p, n);
  rd_skip(&r, 1);
  uint8_t cmd = rd_u8(&r);
  rd_skip(&r, 1);
  uint8_t atype = rd_u8(&r);
  const uint8_t *addr = NULL;
  size_t alen = 0;
  switch (atype) {
  case SOCKS5_ATYPE_IPV4:
    alen = 4;
    break;
  case SOCKS5_ATYPE_IPV6:
    alen = 16;
    break;
  default: /* hostname (others were refused above), or short input */
    alen = rd_u8(&r);
    break;
  }
  addr = rd_bytes(&r, alen);
  uint16_t port = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;

  socks_request_t *req = &s->req;
  if (atype == SOCKS5_ATYPE_HOSTNAME) {
    if (!hostname_ok(addr, alen))
      return socks5_fail_reply(s, SOCKS5_REP_GENERAL_FAILURE,
                               SOCKS_FAIL_BAD_HOSTNAME);
    set_hostname(req, addr, alen);
  } else {
    req->addr_type = (socks_addr_type_t)atype;
    memset(req->addr, 0, sizeof(req->addr));
    memcpy(req->addr, addr, alen);
  }
  req->version = SOCKS5_VERSION;
  req->command = cmd;
  req->port = port;
  *used = n - rd_left(&r);
  s->state = SOCKS_ST_REQUEST_READY;
  return CHIVE_OK;
}

/** Return true iff <b>c</b> starts an HTTP request line (GET, HEAD,
 * POST, PUT, CONNECT): socks-extensions §4. */
static bool
looks_like_http(uint8_t c)
{
  return c == 'G' || c == 'H' || c == 'P' || c == 'C';
}

/** Handle one message in the current state.  CHIVE_OK means a message
 * was consumed (*used bytes) and the state advanced. */
static chive_err_t
socks_step(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  if (n == 0)
    return CHIVE_ERR_TRUNCATED;
  switch (s->state) {
  case SOCKS_ST_START:
    if (p[0] == SOCKS4_VERSION)
      return parse_socks4(s, p, n, used);
    if (p[0] == SOCKS5_VERSION)
      return parse_greeting(s, p, n, used);
    if (looks_like_http(p[0])) {
      if (BUG(!out_append(s, socks_http_answer,
                          sizeof(socks_http_answer) - 1)))
        return CHIVE_ERR_INTERNAL;
      return socks_fail(s, SOCKS_FAIL_HTTP);
    }
    return socks_fail(s, SOCKS_FAIL_BAD_VERSION);
  case SOCKS_ST_S5_AUTH:
    return parse_auth(s, p, n, used);
  case SOCKS_ST_S5_REQUEST:
    /* socks-extensions §1.1: accept a username/password message even
     * though NO AUTH was selected (once). */
    if (p[0] == SOCKS5_AUTH_VERSION && !s->got_auth_msg)
      return parse_auth(s, p, n, used);
    return parse_request5(s, p, n, used);
  case SOCKS_ST_REQUEST_READY:
  case SOCKS_ST_DONE:
  case SOCKS_ST_FAILED:
  default:
    return CHIVE_ERR_INVAL;
  }
}

chive_err_t
socks_feed(socks_t *s, const uint8_t *in, size_t len, size_t *consumed)
{
  size_t total = 0;
  *consumed = 0;
  if (s->state != SOCKS_ST_START && s->state != SOCKS_ST_S5_AUTH &&
      s->state != SOCKS_ST_S5_REQUEST)
    return CHIVE_ERR_INVAL;
  if (len == 0)
    return CHIVE_ERR_TRUNCATED;
  if (!in)
    return CHIVE_ERR_INVAL;
  for (;;) {
    size_t used = 0;
    chive_err_t err = total < len
                          ? socks_step(s, in + total, len - total, &used)
                          : CHIVE_ERR_TRUNCATED;
    if (err != CHIVE_OK) {
      *consumed = total;
      return err;
    }
    total += used;
    if (s->state == SOCKS_ST_REQUEST_READY) {
      *consumed = total;
      return CHIVE_OK;
    }
  }
}

const socks_request_t *
socks_request(const socks_t *s)
{
  if (s->state == SOCKS_ST_REQUEST_READY || s->state == SOCKS_ST_DONE ||
      (s->state == SOCKS_ST_FAILED && s->fail == SOCKS_FAIL_REPLIED))
    return &s->req;
  return NULL;
}

/* ---- Replies ------------------------------------------------------------ */

chive_err_t
socks_reply_connect(socks_t *s, uint8_t code, const socks_bound_t *bound)
{
  if (s->state != SOCKS_ST_REQUEST_READY)
    return CHIVE_ERR_INVAL;
  if (bound && bound->addr_type != SOCKS_ADDR_IPV4 &&
      bound->addr_type != SOCKS_ADDR_IPV6)
    return CHIVE_ERR_INVAL;

  uint8_t buf[22];
  wr_t w = wr_init(buf, sizeof(buf));
  if (s->req.version == SOCKS4_VERSION) {
    /* VN=0 | CD | DSTPORT | DSTIP */
    wr_u8(&w, 0);
    wr_u8(&w, code == SOCKS5_REP_SUCCEEDED ? SOCKS4_REP_GRANTED
                                           : SOCKS4_REP_REJECTED);
    if (bound && bound->addr_type == SOCKS_ADDR_IPV4) {
      wr_u16(&w, bound->port);
      wr_bytes(&w, bound->addr, 4);
    } else {
      wr_zero(&w, 6);
    }
  } else {
    /* RFC 1928 §6: VER | REP | RSV | ATYP | BND.ADDR | BND.PORT */
    wr_u8(&w, SOCKS5_VERSION);
    wr_u8(&w, code);
    wr_u8(&w, 0);
    if (bound) {
      wr_u8(&w, (uint8_t)bound->addr_type);
      wr_bytes(&w, bound->addr,
               bound->addr_type == SOCKS_ADDR_IPV4 ? 4u : 16u);
      wr_u16(&w, bound->port);
    } else {
      wr_u8(&w, SOCKS5_ATYPE_IPV4);
      wr_zero(&w, 6);
    }
  }
  if (BUG(!wr_ok(&w)))
    return CHIVE_ERR_INTERNAL;
  if (!out_append(s, buf, wr_used(&w)))
    return CHIVE_ERR_LIMIT;
  if (code == SOCKS5_REP_SUCCEEDED) {
    s->state = SOCKS_ST_DONE;
  } else {
    s->state = SOCKS_ST_FAILED;
    s->fail = SOCKS_FAIL_REPLIED;
  }
  return CHIVE_OK;
}

chive_err_t
socks_reply_error(socks_t *s, uint8_t code)
{
  if (code == SOCKS5_REP_SUCCEEDED)
    return CHIVE_ERR_INVAL;
  return socks_reply_connect(s, code, NULL);
}

chive_err_t
socks_reply_resolved(socks_t *s, const socks_answer_t *ans)
{
  if (s->state != SOCKS_ST_REQUEST_READY)
    return CHIVE_ERR_INVAL;
  if (s->req.command != SOCKS_CMD_RESOLVE &&
      s->req.command != SOCKS_CMD_RESOLVE_PTR)
    return CHIVE_ERR_INVAL;
  switch (ans->type) {
  case SOCKS_ANSWER_IPV4:
  case SOCKS_ANSWER_IPV6:
    break;
  case SOCKS_ANSWER_HOSTNAME:
    if (!ans->host || ans->host_len == 0 ||
        ans->host_len > SOCKS_MAX_HOSTNAME_LEN ||
        mem_has_nul(ans->host, ans->host_len))
      return CHIVE_ERR_INVAL;
    break;
  default:
    return CHIVE_ERR_INVAL;
  }

  uint8_t buf[5 + SOCKS_MAX_HOSTNAME_LEN + 2];
  wr_t w = wr_init(buf, sizeof(buf));
  bool ok = true;
  if (s->req.version == SOCKS4_VERSION) {
    /* SOCKS4 can carry only an IPv4 answer; anything else is refused,
     * as tor does. */
    ok = ans->type == SOCKS_ANSWER_IPV4;
    wr_u8(&w, 0);
    wr_u8(&w, ok ? SOCKS4_REP_GRANTED : SOCKS4_REP_REJECTED);
    wr_u16(&w, 0);
    if (ok)
      wr_bytes(&w, ans->addr, 4);
    else
      wr_zero(&w, 4);
  } else {
    /* socks-extensions §2: the answer goes in BND.ADDR, port 0. */
    wr_u8(&w, SOCKS5_VERSION);
    wr_u8(&w, SOCKS5_REP_SUCCEEDED);
    wr_u8(&w, 0);
    if (ans->type == SOCKS_ANSWER_IPV4) {
      wr_u8(&w, SOCKS5_ATYPE_IPV4);
      wr_bytes(&w, ans->addr, 4);
    } else if (ans->type == SOCKS_ANSWER_IPV6) {
      wr_u8(&w, SOCKS5_ATYPE_IPV6);
      wr_bytes(&w, ans->addr, 16);
    } else {
      wr_u8(&w, SOCKS5_ATYPE_HOSTNAME);
      wr_u8(&w, (uint8_t)ans->host_len);
      wr_bytes(&w, ans->host, ans->host_len);
    }
    wr_u16(&w, 0);
  }
  if (BUG(!wr_ok(&w)))
    return CHIVE_ERR_INTERNAL;
  if (!out_append(s, buf, wr_used(&w)))
    return CHIVE_ERR_LIMIT;
  if (ok) {
    s->state = SOCKS_ST_DONE;
  } else {
    s->state = SOCKS_ST_FAILED;
    s->fail = SOCKS_FAIL_REPLIED;
  }
  return CHIVE_OK;
}

/* ---- Target text, mappings and names ----------------------------------- */

chive_err_t
socks_request_target(const socks_request_t *req, char *buf, size_t buf_len)
{
  if (buf_len == 0)
    return CHIVE_ERR_LIMIT;
  chive_err_t err;
  if (req->addr_type == SOCKS_ADDR_HOSTNAME) {
    err = chive_snprintf(buf, buf_len, NULL, "%s:%u", req->host,
                         (unsigned)req->port);
  } else {
    net_addr_t a;
    char abuf[NET_ADDR_STR_LEN];
    if (req->addr_type == SOCKS_ADDR_IPV4)
      net_addr_from_ipv4(&a, load_u32(req->addr));
    else
      net_addr_from_ipv6(&a, req->addr);
    net_addr_format(&a, abuf, sizeof(abuf));
    if (req->addr_type == SOCKS_ADDR_IPV4)
      err = chive_snprintf(buf, buf_len, NULL, "%s:%u", abuf,
                           (unsigned)req->port);
    else
      err = chive_snprintf(buf, buf_len, NULL, "[%s]:%u", abuf,
                           (unsigned)req->port);
  }
  if (err != CHIVE_OK) {
    buf[0] = '\0';
    return CHIVE_ERR_LIMIT;
  }
  return CHIVE_OK;
}

uint8_t
socks5_reply_for_end_reason(uint8_t reason)
{
  /* tor reasons.c stream_end_reason_to_socks5_response(); tor-spec
   * §6.3 reason values. */
  switch (reason) {
  case 0:
    return SOCKS5_REP_SUCCEEDED;
  case END_REASON_RESOLVEFAILED:
  case END_REASON_NOROUTE:
    return SOCKS5_REP_HOST_UNREACHABLE;
  case END_REASON_CONNECTREFUSED:
  case END_REASON_DONE: /* closed before CONNECTED: a refusal */
  case END_REASON_CONNRESET:
    return SOCKS5_REP_CONNECTION_REFUSED;
  case END_REASON_EXITPOLICY:
    return SOCKS5_REP_NOT_ALLOWED;
  case END_REASON_TIMEOUT:
    return SOCKS5_REP_TTL_EXPIRED;
  case END_REASON_MISC:
  case END_REASON_DESTROY:
  case END_REASON_HIBERNATING:
  case END_REASON_INTERNAL:
  case END_REASON_RESOURCELIMIT:
  case END_REASON_TORPROTOCOL:
  case END_REASON_NOTDIRECTORY:
  default:
    return SOCKS5_REP_GENERAL_FAILURE;
  }
}

const char *
socks5_reply_name(uint8_t code)
{
  switch (code) {
  case SOCKS5_REP_SUCCEEDED:
    return "succeeded";
  case SOCKS5_REP_GENERAL_FAILURE:
    return "general SOCKS server failure";
  case SOCKS5_REP_NOT_ALLOWED:
    return "connection not allowed by ruleset";
  case SOCKS5_REP_NET_UNREACHABLE:
    return "network unreachable";
  case SOCKS5_REP_HOST_UNREACHABLE:
    return "host unreachable";
  case SOCKS5_REP_CONNECTION_REFUSED:
    return "connection refused";
  case SOCKS5_REP_TTL_EXPIRED:
    return "TTL expired";
  case SOCKS5_REP_COMMAND_NOT_SUPPORTED:
    return "command not supported";
  case SOCKS5_REP_ADDRESS_TYPE_NOT_SUPPORTED:
    return "address type not supported";
  case SOCKS5_REP_HS_DESC_NOT_FOUND:
    return "onion service descriptor not found";
  case SOCKS5_REP_HS_DESC_INVALID:
    return "onion service descriptor invalid";
  case SOCKS5_REP_HS_INTRO_FAILED:
    return "onion service introduction failed";
  case SOCKS5_REP_HS_REND_FAILED:
    return "onion service rendezvous failed";
  case SOCKS5_REP_HS_MISSING_CLIENT_AUTH:
    return "onion service client authorization missing";
  case SOCKS5_REP_HS_BAD_CLIENT_AUTH:
    return "onion service client authorization wrong";
  case SOCKS5_REP_HS_BAD_ADDRESS:
    return "onion service address invalid";
  case SOCKS5_REP_HS_INTRO_TIMEDOUT:
    return "onion service introduction timed out";
  default:
    return "unknown reply code";
  }
}

const char *
socks_fail_name(socks_fail_t fail)
{
  switch (fail) {
  case SOCKS_FAIL_NONE:
    return "none";
  case SOCKS_FAIL_BAD_VERSION:
    return "bad-version";
  case SOCKS_FAIL_HTTP:
    return "http-request";
  case SOCKS_FAIL_NO_METHOD:
    return "no-acceptable-method";
  case SOCKS_FAIL_BAD_AUTH:
    return "bad-auth";
  case SOCKS_FAIL_BAD_COMMAND:
    return "unsupported-command";
  case SOCKS_FAIL_BAD_ATYPE:
    return "unsupported-address-type";
  case SOCKS_FAIL_BAD_HOSTNAME:
    return "bad-hostname";
  case SOCKS_FAIL_TOO_LONG:
    return "too-long";
  case SOCKS_FAIL_MALFORMED:
    return "malformed";
  case SOCKS_FAIL_REPLIED:
    return "replied-error";
  default:
    return "unknown";
  }
}
