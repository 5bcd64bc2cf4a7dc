/* Unit tests for feature/socks/httpconnect: HTTP CONNECT request heads
 * and replies. */
#include "lib/cc/compat.h"

#include <string.h>

#include "core/proto/relay_msg.h"
#include "feature/socks/httpconnect.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"
#include "tinytest.h"

/* Parse a NUL-terminated head. */
static chive_err_t
parse_str(const char *s, httpconnect_req_t *r, size_t *used,
          httpconnect_fail_t *fail)
{
  return httpconnect_parse((const uint8_t *)s, strlen(s), r, used, fail);
}

static bool
all_zero(const void *p, size_t n)
{
  const uint8_t *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

static void
test_happy_path(void)
{
  httpconnect_req_t r;
  size_t used = 0;
  httpconnect_fail_t fail = HTTPCONNECT_FAIL_NONE;
  const char *head = "CONNECT example.com:443 HTTP/1.1\r\n"
                     "Host: example.com:443\r\n"
                     "User-Agent: curl/7.88.1\r\n"
                     "\r\n";
  char buf[256];
  size_t hl = strlen(head);
  memcpy(buf, head, hl);
  memcpy(buf + hl, "\x16\x03\x01", 3); /* TLS ClientHello, optimistic */
  T_OK(httpconnect_parse((const uint8_t *)buf, hl + 3, &r, &used, &fail));
  T_EQ_UINT(used, hl);
  T_EQ_STR(r.host, "example.com");
  T_EQ_UINT(r.host_len, 11);
  T_EQ_UINT(r.port, 443);
  T_EQ_UINT(r.http_minor, 1);
  T_EQ_UINT(r.flags, 0);
  T_ASSERT(!r.has_proxy_auth);
  T_ASSERT(!r.has_basic);
  T_ASSERT(!r.has_isolation);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_NONE); /* untouched on success */

  /* No headers at all; HTTP/1.0; lower-case method (tor compares without
   * case); an onion host. */
  T_OK(parse_str("connect abc.onion:80 HTTP/1.0\r\n\r\n", &r, &used, &fail));
  T_EQ_STR(r.host, "abc.onion");
  T_EQ_UINT(r.port, 80);
  T_EQ_UINT(r.http_minor, 0);
  T_EQ_UINT(r.flags, HTTPCONNECT_F_ONION);
  T_OK(
      parse_str("CONNECT www.Node.EXIT:1 HTTP/1.1\r\n\r\n", &r, &used, &fail));
  T_EQ_UINT(r.flags, HTTPCONNECT_F_EXIT);
  T_EQ_UINT(r.port, 1);

  /* IPv4 and bracketed IPv6 literals. */
  T_OK(
      parse_str("CONNECT 192.0.2.1:65535 HTTP/1.1\r\n\r\n", &r, &used, &fail));
  T_EQ_STR(r.host, "192.0.2.1");
  T_EQ_UINT(r.port, 65535);
  T_OK(parse_str("CONNECT [2001:db8::1]:8443 HTTP/1.1\r\n\r\n", &r, &used,
                 &fail));
  T_EQ_STR(r.host, "2001:db8::1");
  T_EQ_UINT(r.port, 8443);
  T_EQ_UINT(r.flags, HTTPCONNECT_F_IPV6_LITERAL);
done:
  httpconnect_req_clear(&r);
}

static void
test_auth_and_isolation(void)
{
  httpconnect_req_t r;
  size_t used;
  httpconnect_fail_t fail;
  /* "alice:s3cr:t" in Basic; the password may contain ':' (RFC 7617). */
  T_OK(parse_str("CONNECT example.com:443 HTTP/1.1\r\n"
                 "proxy-authorization:   Basic YWxpY2U6czNjcjp0  \r\n"
                 "X-Tor-Stream-Isolation: tab-7\r\n"
                 "\r\n",
                 &r, &used, &fail));
  T_ASSERT(r.has_proxy_auth);
  T_EQ_STR(r.proxy_auth, "Basic YWxpY2U6czNjcjp0");
  T_EQ_UINT(r.proxy_auth_len, 22);
  T_ASSERT(r.has_basic);
  T_EQ_UINT(r.username_len, 5);
  T_EQ_MEM(r.username, "alice", 6);
  T_EQ_UINT(r.password_len, 6);
  T_EQ_MEM(r.password, "s3cr:t", 7);
  T_ASSERT(r.has_isolation);
  T_EQ_STR(r.isolation, "tab-7");
  T_EQ_UINT(r.isolation_len, 5);
  httpconnect_req_clear(&r);
  T_ASSERT(all_zero(&r, sizeof(r)));

  /* Empty user and password ("Og==" is ":"). */
  T_OK(parse_str("CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: basic Og==\r\n"
                 "\r\n",
                 &r, &used, &fail));
  T_ASSERT(r.has_basic);
  T_EQ_UINT(r.username_len, 0);
  T_EQ_UINT(r.password_len, 0);

  /* Not Basic, bad base64, no colon: raw value kept, nothing decoded. */
  static const char *const nonbasic[] = {
      "Bearer abc.def", "Basic !!!!", "Basic YWxpY2U=",
      "Basic",          "Basic  ",    "Digest username=\"a\"",
      "Basicx YTpi"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(nonbasic); i++) {
    char head[256];
    T_OK(chive_snprintf(head, sizeof(head), NULL,
                        "CONNECT h:1 HTTP/1.1\r\n"
                        "Proxy-Authorization: %s\r\n\r\n",
                        nonbasic[i]));
    T_OK(parse_str(head, &r, &used, &fail));
    T_ASSERT(r.has_proxy_auth);
    T_ASSERT(!r.has_basic);
    T_EQ_UINT(r.username_len, 0);
    size_t tl = str_trim_end(nonbasic[i], strlen(nonbasic[i]));
    T_EQ_UINT(r.proxy_auth_len, tl);
    T_EQ_MEM(r.proxy_auth, nonbasic[i], tl);
  }

  /* First Proxy-Authorization wins; Tor-Stream-Isolation beats the
   * legacy X- header whatever the order; first of each wins. */
  T_OK(parse_str("CONNECT h:1 HTTP/1.1\r\n"
                 "X-Tor-Stream-Isolation: legacy\r\n"
                 "Proxy-Authorization: Basic YTpi\r\n"
                 "Proxy-Authorization: Basic Yzpk\r\n"
                 "tor-stream-isolation: new\r\n"
                 "Tor-Stream-Isolation: newer\r\n"
                 "X-Tor-Stream-Isolation: legacy2\r\n"
                 "\r\n",
                 &r, &used, &fail));
  T_EQ_MEM(r.username, "a", 2);
  T_EQ_MEM(r.password, "b", 2);
  T_EQ_STR(r.isolation, "new");
  T_OK(parse_str("CONNECT h:1 HTTP/1.1\r\n"
                 "X-Tor-Stream-Isolation: one\r\n"
                 "X-Tor-Stream-Isolation: two\r\n"
                 "\r\n",
                 &r, &used, &fail));
  T_EQ_STR(r.isolation, "one");
  /* An empty token is still a token. */
  T_OK(parse_str("CONNECT h:1 HTTP/1.1\r\nX-Tor-Stream-Isolation:\r\n\r\n", &r,
                 &used, &fail));
  T_ASSERT(r.has_isolation);
  T_EQ_UINT(r.isolation_len, 0);

  /* Limits: 1024-byte auth value and 512-byte token fit; one more does
   * not. */
  static char big[4096];
  char val[1100];
  memset(val, 'A', sizeof(val));
  val[HTTPCONNECT_MAX_AUTH_LEN] = '\0';
  T_OK(chive_snprintf(big, sizeof(big), NULL,
                      "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: %s\r\n"
                      "\r\n",
                      val));
  T_OK(parse_str(big, &r, &used, &fail));
  T_EQ_UINT(r.proxy_auth_len, HTTPCONNECT_MAX_AUTH_LEN);
  val[HTTPCONNECT_MAX_AUTH_LEN] = 'A';
  val[HTTPCONNECT_MAX_AUTH_LEN + 1] = '\0';
  T_OK(chive_snprintf(big, sizeof(big), NULL,
                      "CONNECT h:1 HTTP/1.1\r\nProxy-Authorization: %s\r\n"
                      "\r\n",
                      val));
  T_EQ_INT(parse_str(big, &r, &used, &fail), CHIVE_ERR_PROTO);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_BAD_REQUEST);
  T_ASSERT(all_zero(&r, sizeof(r)));
  val[HTTPCONNECT_MAX_ISOLATION_LEN] = '\0';
  T_OK(chive_snprintf(big, sizeof(big), NULL,
                      "CONNECT h:1 HTTP/1.1\r\nX-Tor-Stream-Isolation: %s\r\n"
                      "\r\n",
                      val));
  T_OK(parse_str(big, &r, &used, &fail));
  T_EQ_UINT(r.isolation_len, HTTPCONNECT_MAX_ISOLATION_LEN);
  val[HTTPCONNECT_MAX_ISOLATION_LEN] = 'A';
  val[HTTPCONNECT_MAX_ISOLATION_LEN + 1] = '\0';
  T_OK(chive_snprintf(big, sizeof(big), NULL,
                      "CONNECT h:1 HTTP/1.1\r\nTor-Stream-Isolation: %s\r\n"
                      "\r\n",
                      val));
  T_EQ_INT(parse_str(big, &r, &used, &fail), CHIVE_ERR_PROTO);
done:
  httpconnect_req_clear(&r);
}

static void
test_errors(void)
{
  httpconnect_req_t r;
  size_t used = 12345;
  httpconnect_fail_t fail;
  static const struct {
    const char *head;
    httpconnect_fail_t why;
  } cases[] = {
      /* Not CONNECT: 405, even before the line ends. */
      {"GET / HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_METHOD},
      {"GET http://example.com/ HTTP/1.1\r\nHost: x\r\n\r\n",
       HTTPCONNECT_FAIL_METHOD},
      {"POST ", HTTPCONNECT_FAIL_METHOD},
      {"CONNECTX h:1 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_METHOD},
      /* Missing or bad port. */
      {"CONNECT example.com HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com: HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:0 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:65536 HTTP/1.1\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:+80 HTTP/1.1\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:http HTTP/1.1\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT :80 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT [::1] HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT [::1:80 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT [zz]:80 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT [1.2.3.4]:80 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT ::1:80 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      /* Request-line shape. */
      {"CONNECT example.com:443\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:443 HTTP/2.0\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:443 HTTP/1.1 \r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT  example.com:443 HTTP/1.1\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT example.com:443 http/1.1\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT a\tb:443 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\n\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {" CONNECT h:1 HTTP/1.1\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"\r\n\r\n", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"\x16\x03\x01\x02\x00", HTTPCONNECT_FAIL_BAD_REQUEST},
      {"\x05\x01\x00", HTTPCONNECT_FAIL_BAD_REQUEST},
      /* Field lines. */
      {"CONNECT h:1 HTTP/1.1\r\nNoColon\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\n: empty-name\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nHost : x\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nA: b\rc\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nA: b\nc\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nA: \x01\r\n\r\n",
       HTTPCONNECT_FAIL_BAD_REQUEST},
      {"CONNECT h:1 HTTP/1.1\r\nA: b\r\n\n", HTTPCONNECT_FAIL_BAD_REQUEST},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    fail = HTTPCONNECT_FAIL_NONE;
    chive_err_t err = parse_str(cases[i].head, &r, &used, &fail);
    if (err != CHIVE_ERR_PROTO || fail != cases[i].why)
      fprintf(stderr, "  case %zu: %s\n", i, cases[i].head);
    T_EQ_INT(err, CHIVE_ERR_PROTO);
    T_EQ_INT(fail, cases[i].why);
    T_ASSERT(all_zero(&r, sizeof(r)));
  }
  T_EQ_UINT(used, 12345); /* never written on failure */

  /* A NUL anywhere is refused. */
  static const uint8_t nul1[] = "CONNECT h\0:1 HTTP/1.1\r\n\r\n";
  T_EQ_INT(httpconnect_parse(nul1, sizeof(nul1) - 1, &r, &used, &fail),
           CHIVE_ERR_PROTO);
  static const uint8_t nul2[] = "CONNECT h:1 HTTP/1.1\r\nA: \0\r\n\r\n";
  T_EQ_INT(httpconnect_parse(nul2, sizeof(nul2) - 1, &r, &used, &fail),
           CHIVE_ERR_PROTO);
  static const uint8_t nul3[] = "CONNECT h:1 HTTP/1.1\r\nA: b\0";
  T_EQ_INT(httpconnect_parse(nul3, sizeof(nul3) - 1, &r, &used, &fail),
           CHIVE_ERR_PROTO);

  /* Host length: 255 fine, 256 is 414 (tor's answer). */
  static char head[600];
  char host[300];
  memset(host, 'h', sizeof(host));
  host[255] = '\0';
  T_OK(chive_snprintf(head, sizeof(head), NULL,
                      "CONNECT %s:80 HTTP/1.1\r\n\r\n", host));
  T_OK(parse_str(head, &r, &used, &fail));
  T_EQ_UINT(r.host_len, 255);
  host[255] = 'h';
  host[256] = '\0';
  T_OK(chive_snprintf(head, sizeof(head), NULL,
                      "CONNECT %s:80 HTTP/1.1\r\n\r\n", host));
  T_EQ_INT(parse_str(head, &r, &used, &fail), CHIVE_ERR_PROTO);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_URI_TOO_LONG);
done:
  httpconnect_req_clear(&r);
}

static void
test_oversize_head(void)
{
  httpconnect_req_t r;
  size_t used;
  httpconnect_fail_t fail;
  uint8_t *buf = chive_malloc(HTTPCONNECT_MAX_HEAD_LEN + 100);
  T_ASSERT(buf != NULL);
  const char *line = "CONNECT h:1 HTTP/1.1\r\n";
  size_t ll = strlen(line);

  /* Headers that go on and on: TRUNCATED below the cap, LIMIT at it. */
  memcpy(buf, line, ll);
  size_t n = ll;
  while (n + 12 <= HTTPCONNECT_MAX_HEAD_LEN + 100) {
    memcpy(buf + n, "X-Pad: abc\r\n", 12);
    n += 12;
  }
  T_EQ_INT(
      httpconnect_parse(buf, HTTPCONNECT_MAX_HEAD_LEN - 1, &r, &used, &fail),
      CHIVE_ERR_TRUNCATED);
  T_EQ_INT(httpconnect_parse(buf, HTTPCONNECT_MAX_HEAD_LEN, &r, &used, &fail),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_HEAD_TOO_LONG);
  T_EQ_INT(httpconnect_parse(buf, n, &r, &used, &fail), CHIVE_ERR_LIMIT);

  /* A request line with no end. */
  memcpy(buf, "CONNECT ", 8);
  memset(buf + 8, 'a', HTTPCONNECT_MAX_HEAD_LEN + 92);
  T_EQ_INT(
      httpconnect_parse(buf, HTTPCONNECT_MAX_HEAD_LEN + 100, &r, &used, &fail),
      CHIVE_ERR_LIMIT);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_HEAD_TOO_LONG);

  /* A head of exactly the cap is accepted. */
  memcpy(buf, line, ll);
  n = ll;
  size_t pad = HTTPCONNECT_MAX_HEAD_LEN - ll - 2 - 5; /* "X: " + CRLF */
  memcpy(buf + n, "X: ", 3);
  n += 3;
  memset(buf + n, 'v', pad);
  n += pad;
  memcpy(buf + n, "\r\n\r\n", 4);
  n += 4;
  T_EQ_UINT(n, HTTPCONNECT_MAX_HEAD_LEN);
  T_OK(httpconnect_parse(buf, n, &r, &used, &fail));
  T_EQ_UINT(used, HTTPCONNECT_MAX_HEAD_LEN);
  /* A very long method token is a 400, not a wait. */
  memset(buf, 'A', 64);
  T_EQ_INT(httpconnect_parse(buf, 64, &r, &used, &fail), CHIVE_ERR_PROTO);
  T_EQ_INT(fail, HTTPCONNECT_FAIL_BAD_REQUEST);
done:
  chive_free(buf);
  httpconnect_req_clear(&r);
}

static void
test_every_prefix(void)
{
  httpconnect_req_t r, whole;
  size_t used;
  httpconnect_fail_t fail;
  static const char *const heads[] = {
      "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
      "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
      "X-Tor-Stream-Isolation: 42\r\n\r\n",
      "CONNECT [::1]:80 HTTP/1.0\r\n\r\n",
      "connect a.onion:1 HTTP/1.1\r\nA:\r\nB: \t x \t\r\n\r\n",
  };
  for (size_t h = 0; h < CHIVE_ARRAY_LEN(heads); h++) {
    const uint8_t *in = (const uint8_t *)heads[h];
    size_t n = strlen(heads[h]);
    T_OK(httpconnect_parse(in, n, &whole, &used, &fail));
    T_EQ_UINT(used, n);
    for (size_t k = 0; k < n; k++) {
      /* Exact-size copy so a sanitizer sees any overread. */
      uint8_t *p = chive_malloc(k ? k : 1);
      memcpy(p, in, k);
      chive_err_t err = httpconnect_parse(p, k, &r, &used, &fail);
      chive_free(p);
      T_EQ_INT(err, CHIVE_ERR_TRUNCATED);
    }
    /* Byte-at-a-time growth ends with the same request. */
    T_OK(httpconnect_parse(in, n, &r, &used, &fail));
    T_EQ_MEM(&r, &whole, sizeof(r));
  }
done:
  httpconnect_req_clear(&r);
  httpconnect_req_clear(&whole);
}

static void
test_replies(void)
{
  T_EQ_STR(httpconnect_reply_ok(), "HTTP/1.0 200 OK\r\n\r\n");
  T_EQ_STR(httpconnect_reply_for_fail(HTTPCONNECT_FAIL_BAD_REQUEST),
           "HTTP/1.0 400 Bad Request\r\n\r\n");
  T_EQ_STR(httpconnect_reply_for_fail(HTTPCONNECT_FAIL_HEAD_TOO_LONG),
           "HTTP/1.0 400 Bad Request\r\n\r\n");
  T_EQ_STR(httpconnect_reply_for_fail(HTTPCONNECT_FAIL_URI_TOO_LONG),
           "HTTP/1.0 414 Request-URI Too Long\r\n\r\n");
  const char *m = httpconnect_reply_for_fail(HTTPCONNECT_FAIL_METHOD);
  T_ASSERT(str_starts_with(m, "HTTP/1.0 405 Method Not Allowed\r\n"));
  T_ASSERT(strstr(m, "\r\n\r\n") != NULL);

  /* tor reasons.c end_reason_to_http_connect_response_line(). */
  static const struct {
    uint8_t reason;
    const char *line;
  } map[] = {
      {0, "HTTP/1.0 200 OK\r\n\r\n"},
      {END_REASON_MISC, "HTTP/1.0 500 Internal Server Error\r\n\r\n"},
      {END_REASON_RESOLVEFAILED,
       "HTTP/1.0 404 Not Found (resolve failed)\r\n\r\n"},
      {END_REASON_CONNECTREFUSED,
       "HTTP/1.0 403 Forbidden (connection refused)\r\n\r\n"},
      {END_REASON_EXITPOLICY, "HTTP/1.0 403 Forbidden (exit policy)\r\n\r\n"},
      {END_REASON_DESTROY,
       "HTTP/1.0 502 Bad Gateway (destroy cell received)\r\n\r\n"},
      {END_REASON_DONE, "HTTP/1.0 502 Bad Gateway (unexpected close)\r\n\r\n"},
      {END_REASON_TIMEOUT, "HTTP/1.0 504 Gateway Timeout\r\n\r\n"},
      {END_REASON_NOROUTE, "HTTP/1.0 404 Not Found (no route)\r\n\r\n"},
      {END_REASON_HIBERNATING,
       "HTTP/1.0 502 Bad Gateway (hibernating server)\r\n\r\n"},
      {END_REASON_INTERNAL,
       "HTTP/1.0 502 Bad Gateway (internal error)\r\n\r\n"},
      {END_REASON_RESOURCELIMIT,
       "HTTP/1.0 502 Bad Gateway (resource limit)\r\n\r\n"},
      {END_REASON_CONNRESET,
       "HTTP/1.0 403 Forbidden (connection reset)\r\n\r\n"},
      {END_REASON_TORPROTOCOL,
       "HTTP/1.0 502 Bad Gateway (tor protocol violation)\r\n\r\n"},
      {END_REASON_NOTDIRECTORY,
       "HTTP/1.0 500 Internal Server Error (weird end reason)\r\n\r\n"},
      {99, "HTTP/1.0 500 Internal Server Error (weird end reason)\r\n\r\n"},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(map); i++)
    T_EQ_STR(httpconnect_reply_for_end_reason(map[i].reason), map[i].line);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_happy_path),
    T_CASE(test_auth_and_isolation),
    T_CASE(test_errors),
    T_CASE(test_oversize_head),
    T_CASE(test_every_prefix),
    T_CASE(test_replies),
    T_END,
};
T_MAIN(cases)
