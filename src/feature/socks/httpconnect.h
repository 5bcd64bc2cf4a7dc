/**
 * @file httpconnect.h
 * @brief The HTTP CONNECT tunnel protocol engine (sans-I/O), for an
 * HTTPTunnelPort as tor has one.
 *
 * A client opens a tunnel with
 *
 *     CONNECT host:port HTTP/1.1\r\n
 *     Header: value\r\n
 *     ...\r\n
 *     \r\n
 *
 * and, once the stream is open, receives "HTTP/1.0 200 OK\r\n\r\n"
 * followed by the stream's bytes; on failure it receives an error status
 * line and the connection closes.  httpconnect_parse() reads the request
 * head from the caller's buffer (bounded by HTTPCONNECT_MAX_HEAD_LEN);
 * the reply functions return the exact bytes to send.
 *
 * For stream isolation (tor(1) IsolateSOCKSAuth: "For HTTPTunnelPort
 * connections, this option looks at the Proxy-Authorization and
 * X-Tor-Stream-Isolation headers") the request keeps the raw
 * Proxy-Authorization value, its decoded Basic username and password
 * when it is well-formed Basic, and the isolation token from
 * Tor-Stream-Isolation or the legacy X-Tor-Stream-Isolation header.
 *
 * Specs: RFC 9110 §9.3.6 (CONNECT), RFC 9112 §3 (request line, headers),
 * RFC 7617 (Basic), tor's HTTPTunnelPort as the behavioural reference.
 * Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_FEATURE_SOCKS_HTTPCONNECT_H
#define CHIVE_FEATURE_SOCKS_HTTPCONNECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Longest request head (request line + headers + blank line), in
 * bytes.  A head that has not ended within this many bytes is refused. */
#define HTTPCONNECT_MAX_HEAD_LEN 8192
/** Longest host in the request target, in bytes (tor answers 414 beyond
 * 255, the SOCKS address limit). */
#define HTTPCONNECT_MAX_HOST_LEN 255
/** Longest Proxy-Authorization value kept, in bytes; longer is a 400. */
#define HTTPCONNECT_MAX_AUTH_LEN 1024
/** Longest decoded Basic username or password, in bytes (longer ones
 * are not decoded; the raw header still isolates). */
#define HTTPCONNECT_MAX_CRED_LEN 255
/** Longest isolation token kept, in bytes; longer is a 400. */
#define HTTPCONNECT_MAX_ISOLATION_LEN 512
/** Suggested time, in milliseconds, that the I/O layer allows a client
 * between accepting the connection and a complete request head. */
#define HTTPCONNECT_HEAD_TIMEOUT_MSEC 60000

/** Why a request was refused; selects the error reply. */
typedef enum httpconnect_fail_t {
  HTTPCONNECT_FAIL_NONE = 0,
  HTTPCONNECT_FAIL_BAD_REQUEST,   /**< 400: malformed line, target, port */
  HTTPCONNECT_FAIL_METHOD,        /**< 405: not CONNECT */
  HTTPCONNECT_FAIL_URI_TOO_LONG,  /**< 414: host over the limit */
  HTTPCONNECT_FAIL_HEAD_TOO_LONG, /**< 400: head over the limit */
} httpconnect_fail_t;

/** Request flags (address-spec §2, §3). */
#define HTTPCONNECT_F_IPV6_LITERAL 0x01u /**< target was "[v6]:port" */
#define HTTPCONNECT_F_ONION 0x02u        /**< host ends in ".onion" */
#define HTTPCONNECT_F_EXIT 0x04u         /**< host ends in ".exit" */

/** A parsed CONNECT request.  A plain value (about 2.4 KB); wipe it with
 * httpconnect_req_clear(). */
typedef struct httpconnect_req_t {
  /** The host, NUL-terminated, host_len bytes of printable ASCII other
   * than space; an IPv6 literal without its brackets. */
  char host[HTTPCONNECT_MAX_HOST_LEN + 1];
  size_t host_len;
  uint16_t port;      /**< 1..65535 */
  unsigned flags;     /**< HTTPCONNECT_F_* */
  uint8_t http_minor; /**< HTTP/1.<minor> of the request line */

  /** Raw Proxy-Authorization value (trimmed, NUL-terminated) if the
   * header was present; first occurrence wins. */
  bool has_proxy_auth;
  char proxy_auth[HTTPCONNECT_MAX_AUTH_LEN + 1];
  size_t proxy_auth_len;
  /** Decoded "Basic" credentials (RFC 7617 user-id ":" password), if the
   * value was well-formed Basic.  Arbitrary bytes plus a NUL: compare by
   * length. */
  bool has_basic;
  uint8_t username[HTTPCONNECT_MAX_CRED_LEN + 1];
  size_t username_len;
  uint8_t password[HTTPCONNECT_MAX_CRED_LEN + 1];
  size_t password_len;

  /** Isolation token: Tor-Stream-Isolation if present, else
   * X-Tor-Stream-Isolation; first occurrence of each wins. */
  bool has_isolation;
  char isolation[HTTPCONNECT_MAX_ISOLATION_LEN + 1];
  size_t isolation_len;
} httpconnect_req_t;

/** Wipe <b>req</b> (credentials included) to all-zero. */
void httpconnect_req_clear(httpconnect_req_t *req);

/** Parse a request head from the <b>len</b> bytes at <b>in</b> (all
 * bytes received and not yet consumed).
 *
 * CHIVE_OK: *<b>out</b> holds the request and *<b>consumed</b> the head
 * length; bytes after it belong to the tunnel.  CHIVE_ERR_TRUNCATED: the
 * head has not ended yet (a prefix of a valid head always gives this;
 * len is then below HTTPCONNECT_MAX_HEAD_LEN).  CHIVE_ERR_PROTO or
 * CHIVE_ERR_LIMIT: refused; *<b>fail</b> says why, and
 * httpconnect_reply_for_fail() gives the bytes to send before closing.
 * The method is judged as soon as its token has ended, so a non-CONNECT
 * request is refused (405) without waiting for the rest of the head.
 * *out is filled on success and zeroed on failure; *consumed is written
 * only on success, *fail only on failure. */
CHIVE_MUST_CHECK chive_err_t httpconnect_parse(const uint8_t *in, size_t len,
                                               httpconnect_req_t *out,
                                               size_t *consumed,
                                               httpconnect_fail_t *fail);

/** The success reply, "HTTP/1.0 200 OK\r\n\r\n" (static). */
const char *httpconnect_reply_ok(void);

/** Return the complete reply (status line and blank line; static) for
 * a refused request. */
const char *httpconnect_reply_for_fail(httpconnect_fail_t fail);

/** Return the complete reply (static) for a stream that ended with
 * RELAY_END <b>reason</b> before it opened, as tor words them: 0 -> 200;
 * MISC -> 500; RESOLVEFAILED and NOROUTE -> 404; CONNECTREFUSED,
 * EXITPOLICY and CONNRESET -> 403; DESTROY, DONE, HIBERNATING,
 * INTERNAL, RESOURCELIMIT, TORPROTOCOL -> 502; TIMEOUT -> 504; anything
 * else -> 500. */
const char *httpconnect_reply_for_end_reason(uint8_t reason);

#endif /* !defined(CHIVE_FEATURE_SOCKS_HTTPCONNECT_H) */
