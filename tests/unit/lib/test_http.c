/* Unit tests for lib/http: request building and response parsing. */
#include "lib/http/http.h"
#include "tinytest.h"

static const char resp_ok[] =
    "HTTP/1.0 200 OK\r\n"
    "Date: Mon, 01 Jan 2024 00:00:00 GMT\r\n"
    "Content-Type: text/plain\r\n"
    "Content-Encoding: deflate\r\n"
    "X-Your-Address-Is: 127.0.0.1\r\n"
    "\r\n"
    "BODYBYTES";

static void
test_parse_ok(void)
{
  http_response_t r;
  T_OK(http_parse_response((const uint8_t *)resp_ok, strlen(resp_ok), &r));
  T_EQ_INT(r.major, 1);
  T_EQ_INT(r.minor, 0);
  T_EQ_INT(r.status, 200);
  T_EQ_UINT(r.reason_len, 2);
  T_EQ_UINT(r.n_headers, 4);
  const http_header_t *h = http_find_header(&r, "content-encoding");
  T_ASSERT(h && h->value_len == 7 && !memcmp(h->value, "deflate", 7));
  T_ASSERT(http_find_header(&r, "Content-Length") == NULL);
  T_EQ_UINT(r.body_len, 9);
  T_EQ_MEM(r.body, "BODYBYTES", 9);
done:
  return;
}

static void
test_parse_truncated(void)
{
  http_response_t r;
  size_t hdr_len = strlen(resp_ok) - 9;
  /* Every prefix that ends before the blank line needs more bytes. */
  for (size_t n = 0; n < hdr_len; n++)
    T_EQ_INT(http_parse_response((const uint8_t *)resp_ok, n, &r),
             CHIVE_ERR_TRUNCATED);
  /* Content-Length makes a short body "truncated" and a long one bad. */
  const char *cl = "HTTP/1.0 404 Not found\nContent-Length: 5\n\nabc";
  T_EQ_INT(http_parse_response((const uint8_t *)cl, strlen(cl), &r),
           CHIVE_ERR_TRUNCATED);
  const char *cl2 = "HTTP/1.0 404 Not found\nContent-Length: 2\n\nabc";
  T_EQ_INT(http_parse_response((const uint8_t *)cl2, strlen(cl2), &r),
           CHIVE_ERR_PROTO);
  const char *cl3 = "HTTP/1.0 404 Not found\nContent-Length: 3\n\nabc";
  T_OK(http_parse_response((const uint8_t *)cl3, strlen(cl3), &r));
  T_EQ_INT(r.status, 404);
done:
  return;
}

static void
test_parse_bad(void)
{
  static const char *bad[] = {
      "HTTP/1.0 2000 OK\r\n\r\n",     "HTTX/1.0 200 OK\r\n\r\n",
      "HTTP/1.0 200OK\r\n\r\n",       "HTTP/1.0 099 x\r\n\r\n",
      "HTTP/1.0 200 OK\r\nNoColon\r\n\r\n",
      "HTTP/1.0 200 OK\r\n: empty\r\n\r\n",
      "HTTP/1.0 200 OK\r\nBad Name: x\r\n\r\n",
      "HTTP/1.0 200 OK\r\nA: b\r\n folded\r\n\r\n",
      "HTTP/1.0 200 OK\r\nA: b\x01\r\n\r\n",
      "HTTP/1.0 200 OK\r\nContent-Length: -1\r\n\r\n",
  };
  http_response_t r;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++)
    T_EQ_INT(http_parse_response((const uint8_t *)bad[i], strlen(bad[i]), &r),
             CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_parse_limits(void)
{
  static char big[HTTP_MAX_HEADERS_LEN + 100];
  http_response_t r;
  memcpy(big, "HTTP/1.0 200 OK\r\n", 17);
  memset(big + 17, 'a', sizeof(big) - 17);
  T_EQ_INT(http_parse_response((const uint8_t *)big, sizeof(big), &r),
           CHIVE_ERR_LIMIT);
  /* Too many header lines. */
  size_t off = 17;
  for (int i = 0; i < HTTP_MAX_HEADERS + 1; i++) {
    memcpy(big + off, "X: y\r\n", 6);
    off += 6;
  }
  memcpy(big + off, "\r\n", 2);
  off += 2;
  T_EQ_INT(http_parse_response((const uint8_t *)big, off, &r),
           CHIVE_ERR_LIMIT);
done:
  return;
}

static void
test_build(void)
{
  char buf[256];
  size_t n = 0;
  T_OK(http_build_get(buf, sizeof(buf), "/tor/keys/all.z", "127.0.0.1",
                      "deflate, x-zstd, identity", &n));
  const char *want = "GET /tor/keys/all.z HTTP/1.0\r\n"
                     "Host: 127.0.0.1\r\n"
                     "Accept-Encoding: deflate, x-zstd, identity\r\n\r\n";
  T_EQ_UINT(n, strlen(want));
  T_EQ_STR(buf, want);
  T_EQ_INT(http_build_get(buf, sizeof(buf), "no-slash", NULL, NULL, &n),
           CHIVE_ERR_INVAL);
  T_EQ_INT(http_build_get(buf, sizeof(buf), "/a b", NULL, NULL, &n),
           CHIVE_ERR_INVAL);
  T_EQ_INT(http_build_get(buf, 10, "/tor/keys/all", NULL, NULL, &n),
           CHIVE_ERR_LIMIT);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_parse_ok),     T_CASE(test_parse_truncated),
    T_CASE(test_parse_bad),    T_CASE(test_parse_limits),
    T_CASE(test_build),        T_END,
};
T_MAIN(cases)
