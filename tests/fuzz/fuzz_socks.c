/**
 * @file fuzz_socks.c
 * @brief Fuzz the SOCKS engine with arbitrary client bytes.
 *
 * Input: byte 0 seeds the chunk sizes; the rest is the client stream.
 * Oracles:
 *  - chunking does not matter: feeding the stream in input-chosen chunks
 *    (as an I/O layer would, keeping unconsumed bytes) gives the same
 *    result, request, failure reason and output as feeding it at once;
 *  - never more consumed than given; TRUNCATED leaves less than
 *    SOCKS_MAX_MESSAGE_LEN bytes pending; the output never overflows;
 *  - every feed sees an exact-size heap copy (ASan catches overreads);
 *  - an accepted request re-encodes into a client transcript that parses
 *    to the same request, consumed exactly;
 *  - the final reply has the length and fixed bytes the RFCs dictate.
 **/
#include "lib/cc/compat.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feature/socks/socks_proto.h"
#include "lib/malloc/malloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)        \
  do {                  \
    if (!(c))           \
      __builtin_trap(); \
  } while (0)

/** Feed an exact-size heap copy of <b>n</b> bytes at <b>p</b>. */
static chive_err_t
feed_copy(socks_t *s, const uint8_t *p, size_t n, size_t *used)
{
  uint8_t *c = chive_malloc(n ? n : 1);
  if (!c)
    abort();
  if (n)
    memcpy(c, p, n);
  chive_err_t err = socks_feed(s, n ? c : NULL, n, used);
  chive_free(c);
  CHECK(*used <= n);
  CHECK(socks_output_len(s) <= SOCKS_OUTPUT_MAX);
  return err;
}

/** Outcome of running a stream through a fresh engine. */
typedef struct run_t {
  chive_err_t err;
  size_t consumed; /**< stream offset where the request ended */
  size_t out_len;
  uint8_t out[2048];
  socks_fail_t fail;
} run_t;

static void
run_chunked(socks_t *s, const uint8_t *in, size_t n, uint8_t seed, run_t *res)
{
  uint8_t pending[SOCKS_MAX_MESSAGE_LEN + 64];
  size_t plen = 0, pos = 0, done = 0;
  uint32_t x = seed * 2654435761u + 1;
  memset(res, 0, sizeof(*res));
  socks_init(s);
  res->err = CHIVE_ERR_TRUNCATED;
  while (pos < n) {
    x = x * 1103515245u + 12345u;
    size_t chunk = 1 + (x >> 16) % 64;
    if (chunk > n - pos)
      chunk = n - pos;
    if (chunk > sizeof(pending) - plen)
      chunk = sizeof(pending) - plen;
    memcpy(pending + plen, in + pos, chunk);
    plen += chunk;
    pos += chunk;
    size_t used = 0;
    chive_err_t err = feed_copy(s, pending, plen, &used);
    memmove(pending, pending + used, plen - used);
    plen -= used;
    done += used;
    res->out_len += socks_take_output(s, res->out + res->out_len,
                                      sizeof(res->out) - res->out_len);
    res->err = err;
    if (err != CHIVE_ERR_TRUNCATED)
      break;
    CHECK(plen < SOCKS_MAX_MESSAGE_LEN);
  }
  res->consumed = done;
  res->fail = socks_failure(s);
}

/** Re-encode <b>r</b> as the client bytes that produce it. */
static size_t
encode_client(const socks_request_t *r, uint8_t *b)
{
  size_t k = 0;
  if (r->version == SOCKS4_VERSION) {
    b[k++] = 4;
    b[k++] = r->command;
    b[k++] = (uint8_t)(r->port >> 8);
    b[k++] = (uint8_t)r->port;
    if (r->addr_type == SOCKS_ADDR_HOSTNAME) {
      memcpy(b + k, "\0\0\0\x01", 4);
    } else {
      memcpy(b + k, r->addr, 4);
    }
    k += 4;
    memcpy(b + k, r->username, r->username_len);
    k += r->username_len;
    b[k++] = 0;
    if (r->addr_type == SOCKS_ADDR_HOSTNAME) {
      memcpy(b + k, r->host, r->host_len);
      k += r->host_len;
      b[k++] = 0;
    }
    return k;
  }
  bool up = r->auth == SOCKS_AUTH_USERPASS;
  b[k++] = 5;
  b[k++] = 1;
  b[k++] = up ? SOCKS5_METHOD_USERPASS : SOCKS5_METHOD_NOAUTH;
  if (up) {
    b[k++] = 1;
    b[k++] = (uint8_t)r->username_len;
    memcpy(b + k, r->username, r->username_len);
    k += r->username_len;
    b[k++] = (uint8_t)r->password_len;
    memcpy(b + k, r->password, r->password_len);
    k += r->password_len;
  }
  b[k++] = 5;
  b[k++] = r->command;
  b[k++] = 0;
  b[k++] = (uint8_t)r->addr_type;
  if (r->addr_type == SOCKS_ADDR_HOSTNAME) {
    b[k++] = (uint8_t)r->host_len;
    memcpy(b + k, r->host, r->host_len);
    k += r->host_len;
  } else {
    size_t al = r->addr_type == SOCKS_ADDR_IPV4 ? 4 : 16;
    memcpy(b + k, r->addr, al);
    k += al;
  }
  b[k++] = (uint8_t)(r->port >> 8);
  b[k++] = (uint8_t)r->port;
  return k;
}

static void
check_request(const socks_request_t *r)
{
  CHECK(r->version == 4 || r->version == 5);
  CHECK(r->command == SOCKS_CMD_CONNECT || r->command == SOCKS_CMD_RESOLVE ||
        (r->command == SOCKS_CMD_RESOLVE_PTR && r->version == 5));
  CHECK(r->host_len <= SOCKS_MAX_HOSTNAME_LEN);
  CHECK(r->host[r->host_len] == '\0');
  CHECK(strlen(r->host) == r->host_len);
  if (r->addr_type == SOCKS_ADDR_HOSTNAME) {
    CHECK(r->host_len > 0);
    for (size_t i = 0; i < r->host_len; i++)
      CHECK(r->host[i] > 0x20 && r->host[i] < 0x7f);
  } else {
    CHECK(r->addr_type == SOCKS_ADDR_IPV4 || r->addr_type == SOCKS_ADDR_IPV6);
    CHECK(r->host_len == 0);
  }
  CHECK(r->username_len <= SOCKS_MAX_USERNAME_LEN);
  CHECK(r->password_len <= SOCKS_MAX_PASSWORD_LEN);
  char t[SOCKS_MAX_HOSTNAME_LEN + 16];
  CHECK(socks_request_target(r, t, sizeof(t)) == CHIVE_OK);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1 || size > 4096)
    return 0;
  uint8_t seed = data[0];
  const uint8_t *in = data + 1;
  size_t n = size - 1;

  static socks_t a, b;
  static run_t ra, rb;

  /* All at once (bounded by the buffer an I/O layer would have). */
  size_t once = n < SOCKS_MAX_MESSAGE_LEN * 3 ? n : SOCKS_MAX_MESSAGE_LEN * 3;
  socks_init(&a);
  memset(&ra, 0, sizeof(ra));
  size_t used = 0;
  ra.err = feed_copy(&a, in, once, &used);
  ra.consumed = used;
  ra.out_len = socks_take_output(&a, ra.out, sizeof(ra.out));
  ra.fail = socks_failure(&a);
  CHECK(ra.err == CHIVE_OK || ra.err == CHIVE_ERR_TRUNCATED ||
        ra.err == CHIVE_ERR_PROTO);
  CHECK((ra.err == CHIVE_ERR_PROTO) == (socks_state(&a) == SOCKS_ST_FAILED));
  if (ra.err == CHIVE_ERR_TRUNCATED)
    CHECK(once - used < SOCKS_MAX_MESSAGE_LEN);

  /* In chunks. */
  run_chunked(&b, in, once, seed, &rb);
  CHECK(rb.err == ra.err);
  CHECK(rb.fail == ra.fail);
  CHECK(rb.out_len == ra.out_len);
  CHECK(memcmp(rb.out, ra.out, ra.out_len) == 0);
  if (ra.err == CHIVE_OK) {
    CHECK(rb.consumed == ra.consumed);
    const socks_request_t *r = socks_request(&a);
    CHECK(r != NULL);
    CHECK(memcmp(r, socks_request(&b), sizeof(*r)) == 0);
    check_request(r);

    /* Re-encode and parse again. */
    static uint8_t enc[1200];
    size_t k = encode_client(r, enc);
    socks_t c;
    socks_init(&c);
    CHECK(feed_copy(&c, enc, k, &used) == CHIVE_OK);
    CHECK(used == k);
    CHECK(memcmp(socks_request(&c), r, sizeof(*r)) == 0);
    socks_clear(&c);

    /* Final replies: shape fixed by the RFCs. */
    uint8_t out[SOCKS_OUTPUT_MAX];
    if (r->command == SOCKS_CMD_CONNECT || (seed & 1)) {
      uint8_t code = (seed & 2) ? 0 : seed;
      CHECK(socks_reply_connect(&a, code, NULL) == CHIVE_OK);
      size_t ol = socks_take_output(&a, out, sizeof(out));
      if (r->version == 4) {
        CHECK(ol == 8 && out[0] == 0);
        CHECK(out[1] == (code ? SOCKS4_REP_REJECTED : SOCKS4_REP_GRANTED));
      } else {
        CHECK(ol == 10 && out[0] == 5 && out[1] == code && out[3] == 1);
      }
      CHECK(socks_state(&a) == (code ? SOCKS_ST_FAILED : SOCKS_ST_DONE));
    } else {
      socks_answer_t ans;
      memset(&ans, 0, sizeof(ans));
      ans.type = (seed & 2) ? SOCKS_ANSWER_IPV6 : SOCKS_ANSWER_HOSTNAME;
      memset(ans.addr, seed, sizeof(ans.addr));
      ans.host = r->addr_type == SOCKS_ADDR_HOSTNAME ? r->host : "x.example";
      ans.host_len = strlen(ans.host);
      CHECK(socks_reply_resolved(&a, &ans) == CHIVE_OK);
      size_t ol = socks_take_output(&a, out, sizeof(out));
      if (r->version == 4)
        CHECK(ol == 8 && out[1] == SOCKS4_REP_REJECTED);
      else if (ans.type == SOCKS_ANSWER_IPV6)
        CHECK(ol == 22 && out[3] == 4);
      else
        CHECK(ol == 7 + ans.host_len && out[4] == ans.host_len);
    }
    CHECK(socks_reply_connect(&a, 0, NULL) == CHIVE_ERR_INVAL);
  } else if (ra.err == CHIVE_ERR_PROTO) {
    CHECK(socks_request(&a) == NULL);
    CHECK(ra.fail != SOCKS_FAIL_NONE);
  }
  socks_clear(&a);
  socks_clear(&b);
  return 0;
}
