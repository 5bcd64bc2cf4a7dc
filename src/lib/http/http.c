/**
 * @file http.c
 * @brief HTTP/1.0 request building and response parsing (RFC 1945 subset).
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/http/http.h"

/** Return the offset just past the blank line ending the header block, or
 * 0 if there is none within <b>len</b>.  Accepts CRLF or bare LF. */
static size_t
find_header_end(const uint8_t *p, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    if (p[i] != '\n')
      continue;
    if (i + 1 < len && p[i + 1] == '\n')
      return i + 2;
    if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
      return i + 3;
  }
  return 0;
}

static bool
is_tchar(uint8_t c)
{
  /* RFC 7230 token characters. */
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
         (c >= 'A' && c <= 'Z') || (c && strchr("!#$%&'*+-.^_`|~", c));
}

/** Parse one decimal number of at most <b>max_digits</b> digits. */
static bool
read_num(rd_t *r, unsigned max_digits, int *out)
{
  int v = 0;
  unsigned n = 0;
  while (rd_left(r) && n < max_digits && r->p[0] >= '0' && r->p[0] <= '9') {
    v = v * 10 + (rd_u8(r) - '0');
    n++;
  }
  *out = v;
  return n > 0;
}

/** Return the line [start, eol) from r (without the CR/LF) and advance
 * past its terminator.  The caller guarantees a '\n' exists. */
static rd_t
next_line(rd_t *r)
{
  const uint8_t *nl = memchr(r->p, '\n', rd_left(r));
  size_t n = nl ? (size_t)(nl - r->p) : rd_left(r);
  rd_t line = rd_sub(r, n);
  rd_skip(r, nl ? 1 : 0);
  if (line.left && line.p[line.left - 1] == '\r')
    line.left--;
  return line;
}

static bool
expect(rd_t *r, const char *lit)
{
  size_t n = strlen(lit);
  const uint8_t *v = rd_bytes(r, n);
  return v && !memcmp(v, lit, n);
}

chive_err_t
http_parse_response(const uint8_t *in, size_t in_len, http_response_t *out)
{
  size_t scan = in_len < HTTP_MAX_HEADERS_LEN ? in_len : HTTP_MAX_HEADERS_LEN;
  size_t hdr_end = find_header_end(in, scan);
  if (!hdr_end)
    return in_len >= HTTP_MAX_HEADERS_LEN ? CHIVE_ERR_LIMIT
                                          : CHIVE_ERR_TRUNCATED;
  memset(out, 0, sizeof(*out));
  rd_t hdrs = rd_init(in, hdr_end);

  /* Status line: HTTP/x.y SP code SP reason */
  rd_t line = next_line(&hdrs);
  if (!expect(&line, "HTTP/") || !read_num(&line, 3, &out->major) ||
      !expect(&line, ".") || !read_num(&line, 3, &out->minor) ||
      !expect(&line, " ") || !read_num(&line, 3, &out->status))
    return CHIVE_ERR_PROTO;
  if (out->status < 100 || out->status > 599)
    return CHIVE_ERR_PROTO;
  if (rd_left(&line)) {
    if (!expect(&line, " "))
      return CHIVE_ERR_PROTO;
    size_t rn;
    out->reason = (const char *)rd_rest(&line, &rn);
    out->reason_len = rn;
  }

  /* Header lines until the empty line. */
  for (;;) {
    line = next_line(&hdrs);
    if (!rd_ok(&line) || rd_left(&line) == 0)
      break;
    if (line.p[0] == ' ' || line.p[0] == '\t')
      return CHIVE_ERR_PROTO; /* obsolete line folding: refuse */
    const uint8_t *colon = memchr(line.p, ':', line.left);
    if (!colon || colon == line.p)
      return CHIVE_ERR_PROTO;
    size_t name_len = (size_t)(colon - line.p);
    for (size_t i = 0; i < name_len; i++)
      if (!is_tchar(line.p[i]))
        return CHIVE_ERR_PROTO;
    if (out->n_headers >= HTTP_MAX_HEADERS)
      return CHIVE_ERR_LIMIT;
    http_header_t *h = &out->headers[out->n_headers++];
    h->name = (const char *)line.p;
    h->name_len = name_len;
    const uint8_t *v = colon + 1;
    size_t vlen = line.left - name_len - 1;
    while (vlen && (v[0] == ' ' || v[0] == '\t')) {
      v++;
      vlen--;
    }
    while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
      vlen--;
    for (size_t i = 0; i < vlen; i++)
      if (v[i] < 0x20 && v[i] != '\t')
        return CHIVE_ERR_PROTO;
    h->value = (const char *)v;
    h->value_len = vlen;
  }

  out->body = in + hdr_end;
  out->body_len = in_len - hdr_end;
  const http_header_t *cl = http_find_header(out, "Content-Length");
  if (cl) {
    uint64_t n = 0;
    if (cl->value_len == 0 || cl->value_len > 15)
      return CHIVE_ERR_PROTO;
    for (size_t i = 0; i < cl->value_len; i++) {
      if (cl->value[i] < '0' || cl->value[i] > '9')
        return CHIVE_ERR_PROTO;
      n = n * 10 + (uint64_t)(cl->value[i] - '0');
    }
    if (n > out->body_len)
      return CHIVE_ERR_TRUNCATED;
    if (n < out->body_len)
      return CHIVE_ERR_PROTO;
  }
  return CHIVE_OK;
}

static bool
eq_ci(const char *a, size_t a_len, const char *b)
{
  size_t b_len = strlen(b);
  if (a_len != b_len)
    return false;
  for (size_t i = 0; i < a_len; i++) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = (char)(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = (char)(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

const http_header_t *
http_find_header(const http_response_t *resp, const char *name)
{
  for (size_t i = 0; i < resp->n_headers; i++)
    if (eq_ci(resp->headers[i].name, resp->headers[i].name_len, name))
      return &resp->headers[i];
  return NULL;
}

static bool
printable_no_space(const char *s)
{
  for (; *s; s++)
    if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
      return false;
  return true;
}

chive_err_t
http_build_get(char *out, size_t out_max, const char *path, const char *host,
               const char *accept_encoding, size_t *out_len)
{
  if (!path || path[0] != '/' || !printable_no_space(path) ||
      (host && !printable_no_space(host)))
    return CHIVE_ERR_INVAL;
  if (accept_encoding && strpbrk(accept_encoding, "\r\n"))
    return CHIVE_ERR_INVAL;
  int n = snprintf(out, out_max, "GET %s HTTP/1.0\r\n%s%s%s%s%s%s\r\n", path,
                   host ? "Host: " : "", host ? host : "", host ? "\r\n" : "",
                   accept_encoding ? "Accept-Encoding: " : "",
                   accept_encoding ? accept_encoding : "",
                   accept_encoding ? "\r\n" : "");
  if (n < 0 || (size_t)n >= out_max || (size_t)n > HTTP_MAX_REQUEST_LEN)
    return CHIVE_ERR_LIMIT;
  *out_len = (size_t)n;
  return CHIVE_OK;
}
