/**
 * @file fuzz_httpconnect.c
 * @brief Fuzz the HTTP CONNECT head parser.
 *
 * Oracles:
 *  - results are OK / TRUNCATED / PROTO / LIMIT only; TRUNCATED only
 *    below HTTPCONNECT_MAX_HEAD_LEN; LIMIT only at or above it;
 *  - the parser sees an exact-size heap copy (ASan catches overreads);
 *  - OK: the head alone parses the same; one byte less is TRUNCATED;
 *    bytes after the head do not change the result; the request
 *    re-encodes into a canonical head that parses to the same request;
 *  - failures zero the output and name a reason with a 4xx reply.
 **/
#include "lib/cc/compat.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feature/socks/httpconnect.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)        \
  do {                  \
    if (!(c))           \
      __builtin_trap(); \
  } while (0)

static chive_err_t
parse_copy(const uint8_t *p, size_t n, httpconnect_req_t *r, size_t *used,
           httpconnect_fail_t *fail)
{
  uint8_t *c = chive_malloc(n ? n : 1);
  if (!c)
    abort();
  if (n)
    memcpy(c, p, n);
  chive_err_t err = httpconnect_parse(c, n, r, used, fail);
  chive_free(c);
  return err;
}

static bool
req_eq(const httpconnect_req_t *a, const httpconnect_req_t *b)
{
  return a->host_len == b->host_len &&
         memcmp(a->host, b->host, a->host_len + 1) == 0 &&
         a->port == b->port && a->flags == b->flags &&
         a->http_minor == b->http_minor &&
         a->has_proxy_auth == b->has_proxy_auth &&
         a->proxy_auth_len == b->proxy_auth_len &&
         memcmp(a->proxy_auth, b->proxy_auth, a->proxy_auth_len + 1) == 0 &&
         a->has_basic == b->has_basic && a->username_len == b->username_len &&
         memcmp(a->username, b->username, a->username_len) == 0 &&
         a->password_len == b->password_len &&
         memcmp(a->password, b->password, a->password_len) == 0 &&
         a->has_isolation == b->has_isolation &&
         a->isolation_len == b->isolation_len &&
         memcmp(a->isolation, b->isolation, a->isolation_len + 1) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size > HTTPCONNECT_MAX_HEAD_LEN + 64)
    return 0;
  static httpconnect_req_t r, r2;
  size_t used = 0, used2 = 0;
  httpconnect_fail_t fail = HTTPCONNECT_FAIL_NONE;
  chive_err_t err = parse_copy(data, size, &r, &used, &fail);
  switch (err) {
  case CHIVE_ERR_TRUNCATED:
    CHECK(size < HTTPCONNECT_MAX_HEAD_LEN);
    return 0;
  case CHIVE_ERR_LIMIT:
    CHECK(size >= HTTPCONNECT_MAX_HEAD_LEN);
    CHECK(fail == HTTPCONNECT_FAIL_HEAD_TOO_LONG);
    break;
  case CHIVE_ERR_PROTO:
    CHECK(fail != HTTPCONNECT_FAIL_NONE &&
          fail != HTTPCONNECT_FAIL_HEAD_TOO_LONG);
    break;
  case CHIVE_OK:
    break;
  default:
    CHECK(0);
  }
  if (err != CHIVE_OK) {
    const uint8_t *b = (const uint8_t *)&r;
    for (size_t i = 0; i < sizeof(r); i++)
      CHECK(b[i] == 0);
    const char *rep = httpconnect_reply_for_fail(fail);
    CHECK(str_starts_with(rep, "HTTP/1.0 4"));
    return 0;
  }

  CHECK(used >= 4 && used <= size && used <= HTTPCONNECT_MAX_HEAD_LEN);
  CHECK(memcmp(data + used - 4, "\r\n\r\n", 4) == 0);
  CHECK(r.host_len >= 1 && r.host_len <= HTTPCONNECT_MAX_HOST_LEN);
  CHECK(strlen(r.host) == r.host_len);
  for (size_t i = 0; i < r.host_len; i++)
    CHECK(r.host[i] > 0x20 && r.host[i] < 0x7f);
  CHECK(r.port >= 1);
  CHECK(strlen(r.proxy_auth) == r.proxy_auth_len);
  CHECK(strlen(r.isolation) == r.isolation_len);

  /* The head alone, and the head minus one byte. */
  CHECK(parse_copy(data, used, &r2, &used2, &fail) == CHIVE_OK);
  CHECK(used2 == used && req_eq(&r, &r2));
  CHECK(parse_copy(data, used - 1, &r2, &used2, &fail) == CHIVE_ERR_TRUNCATED);

  /* Canonical re-encoding. */
  static char enc[HTTPCONNECT_MAX_HEAD_LEN * 2];
  size_t k = 0, n = 0;
  chive_err_t e;
  if (r.flags & HTTPCONNECT_F_IPV6_LITERAL)
    e = chive_snprintf(enc, sizeof(enc), &n, "CONNECT [%s]:%u HTTP/1.%u\r\n",
                       r.host, (unsigned)r.port, (unsigned)r.http_minor);
  else
    e = chive_snprintf(enc, sizeof(enc), &n, "CONNECT %s:%u HTTP/1.%u\r\n",
                       r.host, (unsigned)r.port, (unsigned)r.http_minor);
  CHECK(e == CHIVE_OK);
  k = n;
  if (r.has_proxy_auth) {
    CHECK(chive_snprintf(enc + k, sizeof(enc) - k, &n,
                         "Proxy-Authorization: %s\r\n",
                         r.proxy_auth) == CHIVE_OK);
    k += n;
  }
  if (r.has_isolation) {
    CHECK(chive_snprintf(enc + k, sizeof(enc) - k, &n,
                         "Tor-Stream-Isolation: %s\r\n",
                         r.isolation) == CHIVE_OK);
    k += n;
  }
  memcpy(enc + k, "\r\n", 2);
  k += 2;
  if (k <= HTTPCONNECT_MAX_HEAD_LEN) {
    CHECK(parse_copy((const uint8_t *)enc, k, &r2, &used2, &fail) == CHIVE_OK);
    CHECK(used2 == k);
    CHECK(req_eq(&r, &r2));
  }
  httpconnect_req_clear(&r);
  httpconnect_req_clear(&r2);
  return 0;
}
