/* Unit tests for feature/socks/socks_proto: SOCKS4, 4a and 5 server side.
 * Golden bytes are written out by hand from RFC 1928 / RFC 1929, the
 * SOCKS4/4a documents and torspec socks-extensions.txt. */
#include "lib/cc/compat.h"

#include <string.h>

#include "core/proto/relay_msg.h"
#include "feature/socks/socks_proto.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ---- helpers ----------------------------------------------------------- */

/** Feed all of <b>in</b> in one call; append the output to *out. */
static chive_err_t
feed_all(socks_t *s, const uint8_t *in, size_t n, size_t *consumed,
         uint8_t *out, size_t *out_len)
{
  chive_err_t err = socks_feed(s, in, n, consumed);
  if (out)
    *out_len += socks_take_output(s, out + *out_len, 4096 - *out_len);
  return err;
}

/** Simulate an I/O layer receiving <b>in</b> one byte at a time: append
 * the byte, feed the pending buffer, drop what was consumed, drain the
 * output into <b>out</b>.  Returns the first non-TRUNCATED result (or
 * TRUNCATED at the end); *<b>at</b> is the number of bytes received when
 * it happened; *<b>left</b> the unconsumed bytes then. */
static chive_err_t
feed_bytewise(socks_t *s, const uint8_t *in, size_t n, uint8_t *out,
              size_t *out_len, size_t *at, size_t *left)
{
  uint8_t pending[SOCKS_MAX_MESSAGE_LEN + 8];
  size_t plen = 0;
  *out_len = 0;
  for (size_t i = 0; i < n; i++) {
    if (plen >= sizeof(pending))
      return CHIVE_ERR_INTERNAL;
    pending[plen++] = in[i];
    size_t used = 99999;
    chive_err_t err = socks_feed(s, pending, plen, &used);
    if (used > plen)
      return CHIVE_ERR_INTERNAL;
    memmove(pending, pending + used, plen - used);
    plen -= used;
    *out_len += socks_take_output(s, out + *out_len, 4096 - *out_len);
    if (err != CHIVE_ERR_TRUNCATED) {
      *at = i + 1;
      *left = plen;
      return err;
    }
    /* The engine never holds on to a partial message we could not
     * buffer. */
    if (plen >= SOCKS_MAX_MESSAGE_LEN)
      return CHIVE_ERR_INTERNAL;
  }
  *at = n;
  *left = plen;
  return CHIVE_ERR_TRUNCATED;
}

static size_t
unhex(const char *hex, uint8_t *out, size_t max)
{
  long n = t_unhex(hex, out, max);
  return n < 0 ? 0 : (size_t)n;
}

/* ---- SOCKS4 / 4a ------------------------------------------------------- */

static void
test_socks4_connect(void)
{
  socks_t s;
  socks_init(&s);
  /* VN=4 CD=1 port 80 ip 127.0.0.1 "alice" NUL, then optimistic data */
  const uint8_t in[] = {4,   1,   0,   80,  127, 0,   0,   1,  'a',
                        'l', 'i', 'c', 'e', 0,   'G', 'E', 'T'};
  uint8_t out[4096];
  size_t olen = 0, used = 0;
  T_OK(feed_all(&s, in, sizeof(in), &used, out, &olen));
  T_EQ_UINT(used, 14);
  T_EQ_UINT(olen, 0);
  T_EQ_INT(socks_state(&s), SOCKS_ST_REQUEST_READY);
  const socks_request_t *r = socks_request(&s);
  T_ASSERT(r != NULL);
  T_EQ_UINT(r->version, 4);
  T_EQ_UINT(r->command, SOCKS_CMD_CONNECT);
  T_EQ_INT(r->addr_type, SOCKS_ADDR_IPV4);
  T_EQ_MEM(r->addr, "\x7f\x00\x00\x01", 4);
  T_EQ_UINT(r->port, 80);
  T_EQ_INT(r->auth, SOCKS_AUTH_SOCKS4);
  T_EQ_UINT(r->username_len, 5);
  T_EQ_MEM(r->username, "alice", 6);
  T_EQ_UINT(r->password_len, 0);
  T_EQ_UINT(r->flags, 0);
  char target[64];
  T_OK(socks_request_target(r, target, sizeof(target)));
  T_EQ_STR(target, "127.0.0.1:80");

  /* Feeding more now is a caller bug. */
  T_EQ_INT(socks_feed(&s, in, 1, &used), CHIVE_ERR_INVAL);
  T_EQ_UINT(used, 0);

  T_OK(socks_reply_connect(&s, SOCKS5_REP_SUCCEEDED, NULL));
  olen = socks_take_output(&s, out, sizeof(out));
  T_EQ_UINT(olen, 8);
  T_EQ_MEM(out, "\x00\x5a\x00\x00\x00\x00\x00\x00", 8);
  T_EQ_INT(socks_state(&s), SOCKS_ST_DONE);
  /* One reply only. */
  T_EQ_INT(socks_reply_connect(&s, 0, NULL), CHIVE_ERR_INVAL);
done:
  socks_clear(&s);
}

static void
test_socks4_reply_codes(void)
{
  socks_t s;
  uint8_t out[64];
  const uint8_t in[] = {4, 1, 0x01, 0xbb, 10, 1, 2, 3, 0};
  size_t used;
  /* Any nonzero SOCKS5 code collapses to 0x5B; a bound IPv4 address is
   * carried. */
  socks_init(&s);
  T_OK(socks_feed(&s, in, sizeof(in), &used));
  T_EQ_INT(socks_request(&s)->auth, SOCKS_AUTH_NONE);
  T_OK(socks_reply_error(&s, SOCKS5_REP_HS_DESC_NOT_FOUND));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 8);
  T_EQ_MEM(out, "\x00\x5b\x00\x00\x00\x00\x00\x00", 8);
  T_EQ_INT(socks_state(&s), SOCKS_ST_FAILED);
  T_EQ_INT(socks_failure(&s), SOCKS_FAIL_REPLIED);
  T_ASSERT(socks_request(&s) != NULL);
  socks_clear(&s);

  socks_init(&s);
  T_OK(socks_feed(&s, in, sizeof(in), &used));
  socks_bound_t b = {SOCKS_ADDR_IPV4, {192, 0, 2, 7}, 0x1234};
  T_OK(socks_reply_connect(&s, 0, &b));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 8);
  T_EQ_MEM(out, "\x00\x5a\x12\x34\xc0\x00\x02\x07", 8);
done:
  socks_clear(&s);
}

static void
test_socks4a(void)
{
  socks_t s;
  socks_init(&s);
  uint8_t in[64];
  size_t n = unhex("0401"
                   "01bb"
                   "00000001"
                   "00"
                   "6578616d706c652e636f6d00", /* example.com */
                   in, sizeof(in));
  size_t used;
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_UINT(used, n);
  const socks_request_t *r = socks_request(&s);
  T_EQ_INT(r->addr_type, SOCKS_ADDR_HOSTNAME);
  T_EQ_STR(r->host, "example.com");
  T_EQ_UINT(r->host_len, 11);
  T_EQ_UINT(r->port, 443);
  T_EQ_UINT(r->flags, SOCKS_REQ_F_SOCKS4A);
  T_EQ_MEM(r->addr, "\0\0\0\0", 4);
  char target[64];
  T_OK(socks_request_target(r, target, sizeof(target)));
  T_EQ_STR(target, "example.com:443");
  T_EQ_INT(socks_request_target(r, target, 8), CHIVE_ERR_LIMIT);
  T_EQ_STR(target, "");
  socks_clear(&s);

  /* .onion / .exit / .noconnect flags, any case. */
  static const struct {
    const char *host;
    unsigned flags;
  } names[] = {
      {"abc.onion", SOCKS_REQ_F_ONION},
      {"www.ABC.ONION", SOCKS_REQ_F_ONION},
      {"example.com.node1.exit", SOCKS_REQ_F_EXIT},
      {"x.noconnect", SOCKS_REQ_F_NOCONNECT},
      {"onion", 0},
      {"example.onion.com", 0},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(names); i++) {
    uint8_t buf[128] = {4, 1, 0, 80, 0, 0, 0, 9, 0};
    size_t hl = strlen(names[i].host);
    memcpy(buf + 9, names[i].host, hl + 1);
    socks_init(&s);
    T_OK(socks_feed(&s, buf, 9 + hl + 1, &used));
    T_EQ_UINT(socks_request(&s)->flags, names[i].flags | SOCKS_REQ_F_SOCKS4A);
    socks_clear(&s);
  }
done:
  socks_clear(&s);
}

static void
test_socks4_resolve(void)
{
  socks_t s;
  uint8_t out[64];
  const uint8_t in[] = {4,   0xf0, 0,   0,   0,   0,   0,   1, 0,
                        't', 'o',  'r', '.', 'n', 'e', 't', 0};
  size_t used;
  socks_init(&s);
  T_OK(socks_feed(&s, in, sizeof(in), &used));
  T_EQ_UINT(socks_request(&s)->command, SOCKS_CMD_RESOLVE);
  T_EQ_STR(socks_request(&s)->host, "tor.net");
  socks_answer_t a = {SOCKS_ANSWER_IPV4, {93, 184, 216, 34}, NULL, 0};
  T_OK(socks_reply_resolved(&s, &a));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 8);
  T_EQ_MEM(out, "\x00\x5a\x00\x00\x5d\xb8\xd8\x22", 8);
  T_EQ_INT(socks_state(&s), SOCKS_ST_DONE);
  socks_clear(&s);

  /* SOCKS4 cannot carry an IPv6 or hostname answer: 0x5B, as tor. */
  socks_init(&s);
  T_OK(socks_feed(&s, in, sizeof(in), &used));
  socks_answer_t a6 = {SOCKS_ANSWER_IPV6, {0x20, 0x01, 0x0d, 0xb8}, NULL, 0};
  T_OK(socks_reply_resolved(&s, &a6));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 8);
  T_EQ_MEM(out, "\x00\x5b\x00\x00\x00\x00\x00\x00", 8);
  T_EQ_INT(socks_state(&s), SOCKS_ST_FAILED);
done:
  socks_clear(&s);
}

static void
test_socks4_errors(void)
{
  socks_t s;
  uint8_t out[4096];
  size_t olen, used;
  static const uint8_t rej[8] = {0, 0x5b, 0, 0, 0, 0, 0, 0};

  /* BIND (2), RESOLVE_PTR (0xF1, SOCKS5 only) and junk commands: 0x5B as
   * soon as the command byte arrives. */
  const uint8_t cmds[] = {0x02, 0x03, 0xf1, 0x00, 0xff};
  for (size_t i = 0; i < sizeof(cmds); i++) {
    uint8_t in[2] = {4, cmds[i]};
    socks_init(&s);
    olen = 0;
    T_EQ_INT(feed_all(&s, in, 2, &used, out, &olen), CHIVE_ERR_PROTO);
    T_EQ_UINT(olen, 8);
    T_EQ_MEM(out, rej, 8);
    T_EQ_INT(socks_failure(&s), SOCKS_FAIL_BAD_COMMAND);
    T_EQ_INT(socks_state(&s), SOCKS_ST_FAILED);
    T_ASSERT(socks_request(&s) == NULL);
    T_EQ_INT(socks_feed(&s, in, 2, &used), CHIVE_ERR_INVAL);
    socks_clear(&s);
  }

  /* userid: 255 bytes fine, 256 without NUL refused. */
  uint8_t big[8 + 600];
  memcpy(big, "\x04\x01\x00\x50\x01\x02\x03\x04", 8);
  memset(big + 8, 'u', sizeof(big) - 8);
  big[8 + 255] = 0;
  socks_init(&s);
  T_OK(socks_feed(&s, big, 8 + 256, &used));
  T_EQ_UINT(used, 8 + 256);
  T_EQ_UINT(socks_request(&s)->username_len, 255);
  socks_clear(&s);
  big[8 + 255] = 'u';
  socks_init(&s);
  T_EQ_INT(socks_feed(&s, big, 8 + 255, &used), CHIVE_ERR_TRUNCATED);
  socks_clear(&s);
  socks_init(&s);
  olen = 0;
  T_EQ_INT(feed_all(&s, big, 8 + 256, &used, out, &olen), CHIVE_ERR_PROTO);
  T_EQ_INT(socks_failure(&s), SOCKS_FAIL_TOO_LONG);
  T_EQ_MEM(out, rej, 8);
  socks_clear(&s);

  /* SOCKS4a: the longest message (255-byte userid and hostname) is
   * exactly SOCKS_MAX_MESSAGE_LEN; one more hostname byte is refused. */
  memcpy(big, "\x04\x01\x00\x50\x00\x00\x00\x01", 8);
  memset(big + 8, 'u', 255);
  big[8 + 255] = 0;
  memset(big + 8 + 256, 'h', 300);
  big[8 + 256 + 255] = 0;
  socks_init(&s);
  T_OK(socks_feed(&s, big, sizeof(big), &used));
  T_EQ_UINT(used, SOCKS_MAX_MESSAGE_LEN);
  T_EQ_UINT(socks_request(&s)->host_len, 255);
  socks_clear(&s);
  big[8 + 256 + 255] = 'h';
  socks_init(&s);
  T_EQ_INT(socks_feed(&s, big, sizeof(big), &used), CHIVE_ERR_PROTO);
  T_EQ_INT(socks_failure(&s), SOCKS_FAIL_TOO_LONG);
  socks_clear(&s);

  /* SOCKS4a hostname: empty, control byte, space, high byte. */
  static const char *const bad_hosts[] = {"", "a\tb", "a b", "a\x7f",
                                          "caf\xc3\xa9"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad_hosts); i++) {
    uint8_t in[32] = {4, 1, 0, 80, 0, 0, 0, 1, 0};
    size_t hl = strlen(bad_hosts[i]);
    memcpy(in + 9, bad_hosts[i], hl + 1);
    socks_init(&s);
    olen = 0;
    T_EQ_INT(feed_all(&s, in, 10 + hl, &used, out, &olen), CHIVE_ERR_PROTO);
    T_EQ_INT(socks_failure(&s), SOCKS_FAIL_BAD_HOSTNAME);
    T_EQ_UINT(olen, 8);
    T_EQ_MEM(out, rej, 8);
    socks_clear(&s);
  }

  /* Credentials are forgotten when the handshake fails. */
  uint8_t in2[] = {4, 1, 0, 80, 0, 0, 0, 1, 's', 'e', 'c', 0, 0};
  socks_init(&s);
  T_EQ_INT(socks_feed(&s, in2, sizeof(in2), &used), CHIVE_ERR_PROTO);
  for (size_t i = 0; i < sizeof(s.req); i++)
    T_EQ_UINT(((const uint8_t *)&s.req)[i], 0);
done:
  socks_clear(&s);
}

/* ---- SOCKS5 ------------------------------------------------------------ */

static void
test_socks5_noauth_connect(void)
{
  socks_t s;
  socks_init(&s);
  uint8_t out[4096];
  size_t olen = 0, used;
  /* Greeting offering NO AUTH only. */
  const uint8_t greet[] = {5, 1, 0};
  T_EQ_INT(feed_all(&s, greet, 3, &used, out, &olen), CHIVE_ERR_TRUNCATED);
  T_EQ_UINT(used, 3);
  T_EQ_UINT(olen, 2);
  T_EQ_MEM(out, "\x05\x00", 2);
  T_EQ_INT(socks_state(&s), SOCKS_ST_S5_REQUEST);
  T_ASSERT(socks_request(&s) == NULL);

  uint8_t req[64];
  size_t n = unhex("05010003"
                   "0b"
                   "6578616d706c652e636f6d"
                   "01bb",
                   req, sizeof(req));
  olen = 0;
  T_OK(feed_all(&s, req, n, &used, out, &olen));
  T_EQ_UINT(used, n);
  T_EQ_UINT(olen, 0);
  const socks_request_t *r = socks_request(&s);
  T_EQ_UINT(r->version, 5);
  T_EQ_UINT(r->command, SOCKS_CMD_CONNECT);
  T_EQ_INT(r->addr_type, SOCKS_ADDR_HOSTNAME);
  T_EQ_STR(r->host, "example.com");
  T_EQ_UINT(r->port, 443);
  T_EQ_INT(r->auth, SOCKS_AUTH_NONE);
  T_EQ_UINT(r->username_len, 0);

  T_OK(socks_reply_connect(&s, SOCKS5_REP_SUCCEEDED, NULL));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 10);
  T_EQ_MEM(out, "\x05\x00\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  T_EQ_INT(socks_state(&s), SOCKS_ST_DONE);
done:
  socks_clear(&s);
}

static void
test_socks5_userpass(void)
{
  socks_t s;
  socks_init(&s);
  uint8_t out[4096];
  size_t olen = 0, used;
  /* Offers NO AUTH and USERNAME/PASSWORD: tor picks 0x02. */
  const uint8_t greet[] = {5, 2, 0, 2};
  T_EQ_INT(feed_all(&s, greet, 4, &used, out, &olen), CHIVE_ERR_TRUNCATED);
  T_EQ_MEM(out, "\x05\x02", 2);
  T_EQ_INT(socks_state(&s), SOCKS_ST_S5_AUTH);

  const uint8_t auth[] = {1, 5,   'a', 'l', 'i', 'c', 'e',
                          6, 's', 0,   'c', 'r', 'e', 't'};
  olen = 0;
  T_EQ_INT(feed_all(&s, auth, sizeof(auth), &used, out, &olen),
           CHIVE_ERR_TRUNCATED);
  T_EQ_UINT(used, sizeof(auth));
  T_EQ_UINT(olen, 2);
  T_EQ_MEM(out, "\x01\x00", 2);

  const uint8_t req[] = {5, 1, 0, 1, 198, 51, 100, 9, 0x1f, 0x90};
  T_OK(socks_feed(&s, req, sizeof(req), &used));
  const socks_request_t *r = socks_request(&s);
  T_EQ_INT(r->auth, SOCKS_AUTH_USERPASS);
  T_EQ_UINT(r->username_len, 5);
  T_EQ_MEM(r->username, "alice", 5);
  /* A NUL inside the password is kept: credentials are bytes. */
  T_EQ_UINT(r->password_len, 6);
  T_EQ_MEM(r->password, "s\0cret", 6);
  T_EQ_INT(r->addr_type, SOCKS_ADDR_IPV4);
  T_EQ_MEM(r->addr, "\xc6\x33\x64\x09", 4);
  T_EQ_UINT(r->port, 8080);

  /* Copy, then wipe: socks_request_clear and socks_clear zero it all. */
  socks_request_t copy;
  memcpy(&copy, r, sizeof(copy));
  socks_request_clear(&copy);
  for (size_t i = 0; i < sizeof(copy); i++)
    T_EQ_UINT(((const uint8_t *)&copy)[i], 0);
  socks_clear(&s);
  for (size_t i = 0; i < sizeof(s); i++)
    T_EQ_UINT(((const uint8_t *)&s)[i], 0);

  /* 255-byte username and password round trip; empty ones are fine. */
  uint8_t big[600];
  size_t k = 0;
  big[k++] = 1;
  big[k++] = 255;
  for (int i = 0; i < 255; i++)
    big[k++] = (uint8_t)i;
  big[k++] = 255;
  for (int i = 0; i < 255; i++)
    big[k++] = (uint8_t)(255 - i);
  socks_init(&s);
  T_EQ_INT(socks_feed(&s, greet, 4, &used), CHIVE_ERR_TRUNCATED);
  T_EQ_INT(socks_feed(&s, big, k, &used), CHIVE_ERR_TRUNCATED);
  T_EQ_UINT(used, 513);
  T_OK(socks_feed(&s, req, sizeof(req), &used));
  r = socks_request(&s);
  T_EQ_UINT(r->username_len, 255);
  T_EQ_UINT(r->password_len, 255);
  T_EQ_MEM(r->username, big + 2, 255);
  T_EQ_MEM(r->password, big + 258, 255);
  T_EQ_UINT(r->username[255], 0);
  socks_clear(&s);

  socks_init(&s);
  const uint8_t empty[] = {5, 1, 2, 1, 0, 0, 5, 1, 0, 1, 1, 2, 3, 4, 0, 80};
  T_OK(socks_feed(&s, empty, sizeof(empty), &used));
  T_EQ_UINT(used, sizeof(empty));
  T_EQ_INT(socks_request(&s)->auth, SOCKS_AUTH_USERPASS);
  T_EQ_UINT(socks_request(&s)->username_len, 0);
  T_EQ_UINT(socks_request(&s)->password_len, 0);
  olen = socks_take_output(&s, out, sizeof(out));
  T_EQ_UINT(olen, 4);
  T_EQ_MEM(out, "\x05\x02\x01\x00", 4);
done:
  socks_clear(&s);
}

static void
test_socks5_methods(void)
{
  socks_t s;
  uint8_t out[4096];
  size_t olen, used;
  static const struct {
    const char *hex;
    uint8_t reply;
  } cases[] = {
      {"050100", 0x00},     {"050102", 0x02},     {"05020200", 0x02},
      {"0503010002", 0x02}, {"0502ff00", 0x00},   {"050101", 0xff},
      {"0500", 0xff},       {"050380fe03", 0xff},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    uint8_t in[16];
    size_t n = unhex(cases[i].hex, in, sizeof(in));
    socks_init(&s);
    olen = 0;
    chive_err_t err = feed_all(&s, in, n, &used, out, &olen);
    T_EQ_UINT(olen, 2);
    T_EQ_UINT(out[0], 5);
    T_EQ_UINT(out[1], cases[i].reply);
    if (cases[i].reply == 0xff) {
      T_EQ_INT(err, CHIVE_ERR_PROTO);
      T_EQ_INT(socks_failure(&s), SOCKS_FAIL_NO_METHOD);
    } else {
      T_EQ_INT(err, CHIVE_ERR_TRUNCATED);
      T_EQ_UINT(used, n);
    }
    socks_clear(&s);
  }
done:
  socks_clear(&s);
}

static void
test_socks5_auth_leniency_and_errors(void)
{
  socks_t s;
  uint8_t out[4096];
  size_t olen, used;

  /* NO AUTH selected, client sends an RFC 1929 message anyway (tor
   * accepts it, socks-extensions §1.1). */
  uint8_t in[64];
  size_t n = unhex("050100"
                   "0103626f62"
                   "00"
                   "050100010a000001"
                   "0050",
                   in, sizeof(in));
  socks_init(&s);
  olen = 0;
  T_OK(feed_all(&s, in, n, &used, out, &olen));
  T_EQ_UINT(used, n);
  T_EQ_UINT(olen, 4);
  T_EQ_MEM(out, "\x05\x00\x01\x00", 4);
  T_EQ_INT(socks_request(&s)->auth, SOCKS_AUTH_USERPASS);
  T_EQ_MEM(socks_request(&s)->username, "bob", 4);
  socks_clear(&s);

  /* ... but only once: a second one is not a SOCKS5 request. */
  n = unhex("050100"
            "010000"
            "010000",
            in, sizeof(in));
  socks_init(&s);
  olen = 0;
  T_EQ_INT(feed_all(&s, in, n, &used, out, &olen), CHIVE_ERR_PROTO);
  T_EQ_INT(socks_failure(&s), SOCKS_FAIL_BAD_VERSION);
  T_EQ_UINT(olen, 4 + 10);
  T_EQ_MEM(out + 4, "\x05\x01\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  socks_clear(&s);

  /* USERPASS selected, client skips it: RFC 1929 failure status. */
  n = unhex("050102"
            "050100010a0000010050",
            in, sizeof(in));
  socks_init(&s);
  olen = 0;
  T_EQ_INT(feed_all(&s, in, n, &used, out, &olen), CHIVE_ERR_PROTO);
  T_EQ_INT(socks_failure(&s), SOCKS_FAIL_BAD_AUTH);
  T_EQ_UINT(olen, 4);
  T_EQ_MEM(out, "\x05\x02\x01\x01", 4);
  T_EQ_UINT(used, 3);
done:
  socks_clear(&s);
}

static void
test_socks5_ipv6_and_bound(void)
{
  socks_t s;
  socks_init(&s);
  uint8_t in[64], out[64];
  size_t n = unhex("050100"
                   "05010004"
                   "20010db8000000000000000000000001"
                   "01bb",
                   in, sizeof(in));
  size_t used;
  T_OK(socks_feed(&s, in, n, &used));
  const socks_request_t *r = socks_request(&s);
  T_EQ_INT(r->addr_type, SOCKS_ADDR_IPV6);
  T_EQ_MEM(r->addr, in + 7, 16);
  char target[64];
  T_OK(socks_request_target(r, target, sizeof(target)));
  T_EQ_STR(target, "[2001:db8::1]:443");
  (void)socks_take_output(&s, out, sizeof(out));

  socks_bound_t bad = {(socks_addr_type_t)SOCKS5_ATYPE_HOSTNAME, {0}, 0};
  T_EQ_INT(socks_reply_connect(&s, 0, &bad), CHIVE_ERR_INVAL);
  socks_bound_t b = {SOCKS_ADDR_IPV6, {0xfe, 0x80}, 9050};
  T_OK(socks_reply_connect(&s, 0, &b));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 22);
  uint8_t want[22];
  T_EQ_UINT(unhex("05000004"
                  "fe800000000000000000000000000000"
                  "235a",
                  want, sizeof(want)),
            22);
  T_EQ_MEM(out, want, 22);
done:
  socks_clear(&s);
}

static void
test_socks5_resolve(void)
{
  socks_t s;
  uint8_t in[300], out[300];
  size_t n, used;
  /* RESOLVE example.com: IPv4, IPv6 and hostname answers. */
  n = unhex("050100"
            "05f00003"
            "0b"
            "6578616d706c652e636f6d"
            "0000",
            in, sizeof(in));

  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_UINT(socks_request(&s)->command, SOCKS_CMD_RESOLVE);
  (void)socks_take_output(&s, out, sizeof(out));
  socks_answer_t a4 = {SOCKS_ANSWER_IPV4, {93, 184, 216, 34}, NULL, 0};
  T_EQ_INT(socks_reply_connect(&s, 4, NULL), CHIVE_OK); /* error path */
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 10);
  T_EQ_MEM(out, "\x05\x04\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  T_EQ_INT(socks_reply_resolved(&s, &a4), CHIVE_ERR_INVAL); /* done */
  socks_clear(&s);

  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  (void)socks_take_output(&s, out, sizeof(out));
  T_OK(socks_reply_resolved(&s, &a4));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 10);
  T_EQ_MEM(out, "\x05\x00\x00\x01\x5d\xb8\xd8\x22\x00\x00", 10);
  socks_clear(&s);

  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  (void)socks_take_output(&s, out, sizeof(out));
  socks_answer_t a6 = {SOCKS_ANSWER_IPV6,
                       {0x26, 0x06, 0x28, 0x00, 0x02, 0x20, 0, 1, 0x2, 0x48,
                        0x18, 0x93, 0x25, 0xc8, 0x19, 0x46},
                       NULL,
                       0};
  T_OK(socks_reply_resolved(&s, &a6));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 22);
  T_EQ_MEM(out, "\x05\x00\x00\x04", 4);
  T_EQ_MEM(out + 4, a6.addr, 16);
  T_EQ_MEM(out + 20, "\x00\x00", 2);
  socks_clear(&s);

  /* RESOLVE_PTR of 93.184.216.34: answer a hostname. */
  n = unhex("050100"
            "05f10001"
            "5db8d822"
            "0000",
            in, sizeof(in));
  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_UINT(socks_request(&s)->command, SOCKS_CMD_RESOLVE_PTR);
  (void)socks_take_output(&s, out, sizeof(out));
  socks_answer_t ah = {SOCKS_ANSWER_HOSTNAME, {0}, "example.com", 11};
  T_OK(socks_reply_resolved(&s, &ah));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 18);
  T_EQ_MEM(out,
           "\x05\x00\x00\x03\x0b"
           "example.com"
           "\x00\x00",
           18);
  socks_clear(&s);

  /* A 255-byte hostname answer fits; 0, 256 or NUL-containing do not. */
  char longname[300];
  memset(longname, 'n', sizeof(longname));
  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  (void)socks_take_output(&s, out, sizeof(out));
  socks_answer_t bad = {SOCKS_ANSWER_HOSTNAME, {0}, longname, 256};
  T_EQ_INT(socks_reply_resolved(&s, &bad), CHIVE_ERR_INVAL);
  bad.host_len = 0;
  T_EQ_INT(socks_reply_resolved(&s, &bad), CHIVE_ERR_INVAL);
  bad.host = "a\0b";
  bad.host_len = 3;
  T_EQ_INT(socks_reply_resolved(&s, &bad), CHIVE_ERR_INVAL);
  bad.type = (socks_answer_type_t)77;
  T_EQ_INT(socks_reply_resolved(&s, &bad), CHIVE_ERR_INVAL);
  socks_answer_t big = {SOCKS_ANSWER_HOSTNAME, {0}, longname, 255};
  T_OK(socks_reply_resolved(&s, &big));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 5 + 255 + 2);
  T_EQ_UINT(out[4], 255);
  socks_clear(&s);

  /* socks_reply_resolved() is for RESOLVE commands only. */
  n = unhex("050100"
            "05010001"
            "01020304"
            "0050",
            in, sizeof(in));
  socks_init(&s);
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_INT(socks_reply_resolved(&s, &a4), CHIVE_ERR_INVAL);
  T_EQ_INT(socks_reply_error(&s, 0), CHIVE_ERR_INVAL);
done:
  socks_clear(&s);
}

static void
test_socks5_request_errors(void)
{
  socks_t s;
  uint8_t out[4096];
  size_t olen, used;
  static const struct {
    const char *hex; /* after the "050100" greeting */
    uint8_t rep;
    socks_fail_t why;
  } cases[] = {
      /* BIND, UDP ASSOCIATE, unknown, old CONNECT_DIR: 0x07 */
      {"0502", 0x07, SOCKS_FAIL_BAD_COMMAND},
      {"05030001010203040050", 0x07, SOCKS_FAIL_BAD_COMMAND},
      {"0500", 0x07, SOCKS_FAIL_BAD_COMMAND},
      {"05f2", 0x07, SOCKS_FAIL_BAD_COMMAND},
      /* address types 0, 2, 5: 0x08 */
      {"05010000", 0x08, SOCKS_FAIL_BAD_ATYPE},
      {"05010002", 0x08, SOCKS_FAIL_BAD_ATYPE},
      {"05010005aaaa", 0x08, SOCKS_FAIL_BAD_ATYPE},
      /* RESOLVE_PTR of a name */
      {"05f100030161", 0x08, SOCKS_FAIL_BAD_ATYPE},
      /* nonzero reserved byte */
      {"050101", 0x01, SOCKS_FAIL_MALFORMED},
      /* wrong version in the request */
      {"04010001", 0x01, SOCKS_FAIL_BAD_VERSION},
      /* empty hostname, NUL inside, space, control, high byte */
      {"0501000300", 0x01, SOCKS_FAIL_BAD_HOSTNAME},
      {"0501000303610062"
       "0050",
       0x01, SOCKS_FAIL_BAD_HOSTNAME},
      {"0501000303612062"
       "0050",
       0x01, SOCKS_FAIL_BAD_HOSTNAME},
      {"050100030261"
       "0a"
       "0050",
       0x01, SOCKS_FAIL_BAD_HOSTNAME},
      {"050100030261"
       "80"
       "0050",
       0x01, SOCKS_FAIL_BAD_HOSTNAME},
      {"0501000301"
       "00"
       "0050",
       0x01, SOCKS_FAIL_BAD_HOSTNAME},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    uint8_t in[64] = {5, 1, 0};
    size_t n = 3 + unhex(cases[i].hex, in + 3, sizeof(in) - 3);
    socks_init(&s);
    olen = 0;
    T_EQ_INT(feed_all(&s, in, n, &used, out, &olen), CHIVE_ERR_PROTO);
    T_EQ_UINT(used, 3);
    T_EQ_UINT(olen, 12);
    T_EQ_MEM(out, "\x05\x00", 2);
    uint8_t want[10] = {5, cases[i].rep, 0, 1, 0, 0, 0, 0, 0, 0};
    T_EQ_MEM(out + 2, want, 10);
    T_EQ_INT(socks_failure(&s), cases[i].why);
    T_ASSERT(socks_fail_name(socks_failure(&s)) != NULL);
    T_EQ_INT(socks_reply_connect(&s, 0, NULL), CHIVE_ERR_INVAL);
    socks_clear(&s);
  }

  /* A 255-byte hostname is fine (the length byte cannot say more). */
  uint8_t in[300] = {5, 1, 0, 5, 1, 0, 3, 255};
  memset(in + 8, 'h', 255);
  in[8 + 255] = 0;
  in[8 + 256] = 80;
  socks_init(&s);
  T_OK(socks_feed(&s, in, 8 + 257, &used));
  T_EQ_UINT(used, 8 + 257);
  T_EQ_UINT(socks_request(&s)->host_len, 255);
  T_EQ_UINT(strlen(socks_request(&s)->host), 255);
  T_EQ_UINT(socks_request(&s)->port, 80);
done:
  socks_clear(&s);
}

static void
test_first_byte(void)
{
  socks_t s;
  uint8_t out[4096];
  size_t olen, used;
  /* Neither 4 nor 5: close without a reply. */
  const uint8_t junk[] = {0x06, 0x00, 0x16, 0x03};
  for (size_t i = 0; i < sizeof(junk); i++) {
    socks_init(&s);
    olen = 0;
    T_EQ_INT(feed_all(&s, junk + i, 1, &used, out, &olen), CHIVE_ERR_PROTO);
    T_EQ_INT(socks_failure(&s), SOCKS_FAIL_BAD_VERSION);
    T_EQ_UINT(olen, 0);
    socks_clear(&s);
  }
  /* HTTP on the SOCKS port: an HTTP answer (socks-extensions §4). */
  const char *http[] = {"GET / HTTP/1.1\r\n", "POST", "HEAD", "PUT",
                        "CONNECT x:1 HTTP/1.1"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(http); i++) {
    socks_init(&s);
    olen = 0;
    T_EQ_INT(feed_all(&s, (const uint8_t *)http[i], strlen(http[i]), &used,
                      out, &olen),
             CHIVE_ERR_PROTO);
    T_EQ_INT(socks_failure(&s), SOCKS_FAIL_HTTP);
    T_ASSERT(olen > 20 && olen < SOCKS_OUTPUT_MAX);
    T_EQ_MEM(out, "HTTP/1.0 501 ", 13);
    T_ASSERT(olen >= 4);
    bool blank = false;
    for (size_t k = 0; k + 4 <= olen; k++)
      blank = blank || memcmp(out + k, "\r\n\r\n", 4) == 0;
    T_ASSERT(blank);
    socks_clear(&s);
  }
  /* Nothing at all is simply "need more". */
  socks_init(&s);
  T_EQ_INT(socks_feed(&s, NULL, 0, &used), CHIVE_ERR_TRUNCATED);
  T_EQ_UINT(used, 0);
  T_EQ_INT(socks_feed(&s, NULL, 3, &used), CHIVE_ERR_INVAL);
done:
  socks_clear(&s);
}

/* ---- whole transcripts: pipelining, prefixes, byte-at-a-time ---------- */

/** Valid client transcripts (all client bytes of one handshake), the
 * output the server sends while parsing, and the version. */
static const struct {
  const char *client;
  const char *server;
} transcripts[] = {
    {"04010050"
     "7f000001"
     "616c69636500",
     ""},
    {"04010050"
     "7f000001"
     "00",
     ""},
    {"04f00000"
     "00000001"
     "00"
     "746f722e6e657400",
     ""},
    {"040101bb"
     "000000ff"
     "7500"
     "6578616d706c652e6f6e696f6e00",
     ""},
    {"050100"
     "05010001"
     "0a000001"
     "0050",
     "0500"},
    {"05020002"
     "0105616c696365"
     "06736563726574"
     "05010003"
     "0b6578616d706c652e636f6d"
     "01bb",
     "0502"
     "0100"},
    {"050102"
     "010000"
     "05f00003"
     "03616263"
     "0000",
     "0502"
     "0100"},
    {"050100"
     "0103626f6200"
     "05f10004"
     "20010db8000000000000000000000001"
     "0000",
     "0500"
     "0100"},
    {"0503000180"
     "05010004"
     "00000000000000000000000000000001"
     "ffff",
     "0500"},
};

static void
test_transcripts(void)
{
  socks_t s;
  socks_init(&s);
  for (size_t t = 0; t < CHIVE_ARRAY_LEN(transcripts); t++) {
    uint8_t in[600], want_out[64], out[4096];
    size_t n = unhex(transcripts[t].client, in, sizeof(in));
    size_t wn = unhex(transcripts[t].server, want_out, sizeof(want_out));
    T_ASSERT(n > 0);
    /* Whole, plus optimistic data that must be left alone. */
    memcpy(in + n, "DATA", 4);
    size_t olen = 0, used = 0;
    socks_init(&s);
    T_OK(feed_all(&s, in, n + 4, &used, out, &olen));
    T_EQ_UINT(used, n);
    T_EQ_UINT(olen, wn);
    T_EQ_MEM(out, want_out, wn);
    socks_request_t whole;
    memcpy(&whole, socks_request(&s), sizeof(whole));
    socks_clear(&s);

    /* Every proper prefix, fed at once: truncated, never malformed,
     * with less than one message left over. */
    for (size_t k = 0; k < n; k++) {
      socks_init(&s);
      used = 0;
      T_EQ_INT(socks_feed(&s, in, k, &used), CHIVE_ERR_TRUNCATED);
      T_ASSERT(used <= k);
      T_ASSERT(k - used < SOCKS_MAX_MESSAGE_LEN);
      T_ASSERT(socks_request(&s) == NULL);
      socks_clear(&s);
    }

    /* Byte at a time, as a slow client: completes at the last byte with
     * the same output and the same request. */
    size_t at = 0, left = 0;
    socks_init(&s);
    T_OK(feed_bytewise(&s, in, n, out, &olen, &at, &left));
    T_EQ_UINT(at, n);
    T_EQ_UINT(left, 0);
    T_EQ_UINT(olen, wn);
    T_EQ_MEM(out, want_out, wn);
    T_EQ_MEM(socks_request(&s), &whole, sizeof(whole));
    socks_request_clear(&whole);
    socks_clear(&s);
  }
done:
  socks_clear(&s);
}

static void
test_output_queue(void)
{
  socks_t s;
  socks_init(&s);
  uint8_t in[32], out[16];
  size_t n = unhex("050100"
                   "050100010102030400"
                   "50",
                   in, sizeof(in));
  size_t used;
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_UINT(socks_output_len(&s), 2);
  T_OK(socks_reply_connect(&s, 0, NULL));
  T_EQ_UINT(socks_output_len(&s), 12);
  /* Drain in pieces. */
  T_EQ_UINT(socks_take_output(&s, out, 3), 3);
  T_EQ_MEM(out, "\x05\x00\x05", 3);
  T_EQ_UINT(socks_output_len(&s), 9);
  T_EQ_UINT(socks_take_output(&s, out, 0), 0);
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 9);
  T_EQ_MEM(out, "\x00\x00\x01\x00\x00\x00\x00\x00\x00", 9);
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 0);
  /* Replies need a ready request. */
  socks_clear(&s);
  socks_init(&s);
  T_EQ_INT(socks_reply_connect(&s, 0, NULL), CHIVE_ERR_INVAL);
  socks_answer_t a = {SOCKS_ANSWER_IPV4, {1, 2, 3, 4}, NULL, 0};
  T_EQ_INT(socks_reply_resolved(&s, &a), CHIVE_ERR_INVAL);
done:
  socks_clear(&s);
}

/* ---- mappings ---------------------------------------------------------- */

static void
test_end_reason_map(void)
{
  /* tor reasons.c stream_end_reason_to_socks5_response() for the wire
   * reasons (tor-spec §6.3). */
  static const struct {
    uint8_t reason;
    uint8_t rep;
  } map[] = {
      {0, 0x00},
      {END_REASON_MISC, 0x01},
      {END_REASON_RESOLVEFAILED, 0x04},
      {END_REASON_CONNECTREFUSED, 0x05},
      {END_REASON_EXITPOLICY, 0x02},
      {END_REASON_DESTROY, 0x01},
      {END_REASON_DONE, 0x05},
      {END_REASON_TIMEOUT, 0x06},
      {END_REASON_NOROUTE, 0x04},
      {END_REASON_HIBERNATING, 0x01},
      {END_REASON_INTERNAL, 0x01},
      {END_REASON_RESOURCELIMIT, 0x01},
      {END_REASON_CONNRESET, 0x05},
      {END_REASON_TORPROTOCOL, 0x01},
      {END_REASON_NOTDIRECTORY, 0x01},
      {15, 0x01},
      {200, 0x01},
      {255, 0x01},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(map); i++)
    T_EQ_UINT(socks5_reply_for_end_reason(map[i].reason), map[i].rep);
  for (unsigned c = 0; c < 256; c++)
    T_ASSERT(socks5_reply_name((uint8_t)c) != NULL);
  T_EQ_STR(socks5_reply_name(0x04), "host unreachable");
  T_EQ_STR(socks5_reply_name(0xf6), "onion service address invalid");
  for (int f = SOCKS_FAIL_NONE; f <= SOCKS_FAIL_REPLIED + 1; f++)
    T_ASSERT(socks_fail_name((socks_fail_t)f) != NULL);

  /* Extended codes go out as-is in SOCKS5. */
  socks_t s;
  socks_init(&s);
  uint8_t in[32], out[32];
  size_t n = unhex("050100"
                   "05010003"
                   "07612e6f6e696f6e"
                   "0050",
                   in, sizeof(in));
  size_t used;
  T_OK(socks_feed(&s, in, n, &used));
  T_EQ_UINT(socks_request(&s)->flags, SOCKS_REQ_F_ONION);
  (void)socks_take_output(&s, out, sizeof(out));
  T_OK(socks_reply_error(&s, SOCKS5_REP_HS_INTRO_TIMEDOUT));
  T_EQ_UINT(socks_take_output(&s, out, sizeof(out)), 10);
  T_EQ_MEM(out, "\x05\xf7\x00\x01\x00\x00\x00\x00\x00\x00", 10);
  socks_clear(&s);
done:
  return;
}

/* ---- a light random torture: never crashes, never overreads ----------- */

static void
test_random_inputs(void)
{
  socks_t s;
  uint32_t x = 0x12345678u;
  uint8_t buf[64];
  for (int iter = 0; iter < 20000; iter++) {
    size_t n = 0;
    x = x * 1103515245u + 12345u;
    size_t len = (x >> 16) % sizeof(buf);
    for (n = 0; n < len; n++) {
      x = x * 1103515245u + 12345u;
      buf[n] = (uint8_t)(x >> 24);
    }
    /* Bias towards valid starts. */
    if (len > 0)
      buf[0] = (iter & 1) ? 5 : 4;
    if (len > 2 && (iter & 2))
      buf[2] = 0;
    /* Exact-size heap copy so ASan sees any read past the end. */
    uint8_t *p = len ? chive_malloc(len) : NULL;
    if (len)
      memcpy(p, buf, len);
    socks_init(&s);
    size_t used = 0;
    chive_err_t err = socks_feed(&s, p, len, &used);
    chive_free(p);
    T_ASSERT(used <= len);
    T_ASSERT(err == CHIVE_OK || err == CHIVE_ERR_TRUNCATED ||
             err == CHIVE_ERR_PROTO);
    T_ASSERT(socks_output_len(&s) <= SOCKS_OUTPUT_MAX);
    if (err == CHIVE_OK) {
      const socks_request_t *r = socks_request(&s);
      T_ASSERT(r != NULL);
      T_ASSERT(r->host_len <= SOCKS_MAX_HOSTNAME_LEN);
      T_EQ_UINT(strlen(r->host), r->host_len);
    }
    socks_clear(&s);
  }
done:
  socks_clear(&s);
}

static const t_case cases[] = {
    T_CASE(test_socks4_connect),
    T_CASE(test_socks4_reply_codes),
    T_CASE(test_socks4a),
    T_CASE(test_socks4_resolve),
    T_CASE(test_socks4_errors),
    T_CASE(test_socks5_noauth_connect),
    T_CASE(test_socks5_userpass),
    T_CASE(test_socks5_methods),
    T_CASE(test_socks5_auth_leniency_and_errors),
    T_CASE(test_socks5_ipv6_and_bound),
    T_CASE(test_socks5_resolve),
    T_CASE(test_socks5_request_errors),
    T_CASE(test_first_byte),
    T_CASE(test_transcripts),
    T_CASE(test_output_queue),
    T_CASE(test_end_reason_map),
    T_CASE(test_random_inputs),
    T_END,
};
T_MAIN(cases)
