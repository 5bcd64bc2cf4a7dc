/**
 * @file http.h
 * @brief Minimal HTTP/1.0 for directory requests: a request builder and a
 * bounded parser for complete responses.
 *
 * Tor's directory protocol (dir-spec §6) is HTTP/1.0 over a BEGIN_DIR
 * stream: one request, then the server sends the response and closes.
 * The parser therefore sees the whole response at once.  It is pure: no
 * I/O, no allocation; header values are borrowed views into the input.
 **/
#ifndef CHIVE_LIB_HTTP_HTTP_H
#define CHIVE_LIB_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Longest header block accepted (tor uses the same bound). */
#define HTTP_MAX_HEADERS_LEN 50000
/** Most header lines kept; more are a protocol error. */
#define HTTP_MAX_HEADERS 64
/** Longest request we build. */
#define HTTP_MAX_REQUEST_LEN 8192

typedef struct http_header_t {
  const char *name; /**< borrowed, not NUL-terminated */
  size_t name_len;
  const char *value; /**< borrowed, trimmed, not NUL-terminated */
  size_t value_len;
} http_header_t;

typedef struct http_response_t {
  int major, minor;   /**< HTTP version */
  int status;         /**< e.g. 200, 404 */
  const char *reason; /**< borrowed */
  size_t reason_len;
  http_header_t headers[HTTP_MAX_HEADERS];
  size_t n_headers;
  const uint8_t *body; /**< borrowed */
  size_t body_len;
} http_response_t;

/** Parse the complete response in <b>in</b>.  CHIVE_ERR_TRUNCATED if the
 * header block has not ended yet (more bytes may help, unless the stream
 * has closed); CHIVE_ERR_LIMIT if the header block is over
 * HTTP_MAX_HEADERS_LEN or has too many lines; CHIVE_ERR_PROTO for
 * malformed input.  If a Content-Length header is present, the body must
 * have exactly that length (CHIVE_ERR_TRUNCATED if shorter). */
CHIVE_MUST_CHECK chive_err_t http_parse_response(const uint8_t *in,
                                                 size_t in_len,
                                                 http_response_t *out);

/** Find header <b>name</b> (case-insensitive) in <b>resp</b>; NULL if
 * absent.  Borrowed from <b>resp</b>. */
const http_header_t *http_find_header(const http_response_t *resp,
                                      const char *name);

/** Write "GET <b>path</b> HTTP/1.0" with a Host header (if <b>host</b>
 * is non-NULL) and an Accept-Encoding header (if non-NULL) into
 * <b>out</b>.  <b>path</b> must be printable ASCII without spaces.
 * CHIVE_ERR_INVAL for a bad path, CHIVE_ERR_LIMIT if it does not fit. */
CHIVE_MUST_CHECK chive_err_t http_build_get(char *out, size_t out_max,
                                            const char *path,
                                            const char *host,
                                            const char *accept_encoding,
                                            size_t *out_len);

#endif /* !defined(CHIVE_LIB_HTTP_HTTP_H) */
