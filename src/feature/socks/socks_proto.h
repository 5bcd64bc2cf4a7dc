/**
 * @file socks_proto.h
 * @brief The SOCKS 4, 4a and 5 server-side protocol engine (sans-I/O).
 *
 * A socks_t is fed the bytes a local application sends to a SocksPort.
 * It answers the SOCKS5 method negotiation and the RFC 1929
 * username/password sub-negotiation by itself (the bytes to write back
 * are queued in a small fixed output buffer the caller drains), and when
 * a request (CONNECT, RESOLVE or RESOLVE_PTR) is complete it hands the
 * parsed request to the caller.  The caller then encodes the final reply
 * with socks_reply_connect(), socks_reply_resolved() or
 * socks_reply_error(), once it knows the outcome.
 *
 * Specs: RFC 1928 (SOCKS5), RFC 1929 (username/password), the de-facto
 * SOCKS4 and SOCKS4a documents, torspec socks-extensions.txt (RESOLVE
 * 0xF0, RESOLVE_PTR 0xF1, isolation by SOCKS credentials, the
 * "username/password message without having selected it" leniency,
 * HTTP-resistance, optimistic data) and address-spec.txt (.onion, .exit,
 * .noconnect).  tor's SocksPort is the behavioural reference.
 *
 * How the I/O layer drives it:
 *
 *     socks_init(&s);
 *     on readable: append to inbuf;
 *       err = socks_feed(&s, inbuf, inlen, &used); drop `used` bytes;
 *       while (socks_output_len(&s)) write(socks_take_output(...));
 *       CHIVE_OK            -> socks_request(&s) is ready; the bytes still
 *                              in inbuf are optimistic stream data;
 *       CHIVE_ERR_TRUNCATED -> wait for more bytes (and for
 *                              SOCKS_HANDSHAKE_TIMEOUT_MSEC);
 *       CHIVE_ERR_PROTO     -> flush the queued error reply, then close;
 *     later: socks_reply_*(&s, ...); flush; on failure close.
 *     socks_clear(&s);   (wipes the credentials)
 *
 * The engine never keeps a partial message: it consumes whole messages
 * only, so the caller's input buffer must be able to hold
 * SOCKS_MAX_MESSAGE_LEN bytes.  Whenever socks_feed() returns
 * CHIVE_ERR_TRUNCATED the unconsumed input is shorter than that.
 *
 * Pure: no I/O, no allocation, no logging.  A socks_t is a plain value
 * (about 1.4 KB) that callers embed or allocate as they like.
 **/
#ifndef CHIVE_FEATURE_SOCKS_SOCKS_PROTO_H
#define CHIVE_FEATURE_SOCKS_SOCKS_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/* ---- Wire constants ---------------------------------------------------- */

#define SOCKS4_VERSION 0x04      /**< VN of a SOCKS4 request */
#define SOCKS5_VERSION 0x05      /**< VER of every SOCKS5 message */
#define SOCKS5_AUTH_VERSION 0x01 /**< RFC 1929 sub-negotiation version */

/** Commands (RFC 1928 §4; socks-extensions §2 for 0xF0/0xF1). */
#define SOCKS_CMD_CONNECT 0x01
#define SOCKS_CMD_BIND 0x02          /**< not supported (reply 0x07) */
#define SOCKS_CMD_UDP_ASSOCIATE 0x03 /**< not supported (reply 0x07) */
#define SOCKS_CMD_RESOLVE 0xF0       /**< Tor: forward lookup */
#define SOCKS_CMD_RESOLVE_PTR 0xF1   /**< Tor: reverse lookup (SOCKS5) */

/** SOCKS5 address types (RFC 1928 §5). */
#define SOCKS5_ATYPE_IPV4 0x01
#define SOCKS5_ATYPE_HOSTNAME 0x03
#define SOCKS5_ATYPE_IPV6 0x04

/** SOCKS5 methods (RFC 1928 §3). */
#define SOCKS5_METHOD_NOAUTH 0x00
#define SOCKS5_METHOD_USERPASS 0x02
#define SOCKS5_METHOD_NONE_ACCEPTABLE 0xFF

/** SOCKS5 reply codes (RFC 1928 §6). */
#define SOCKS5_REP_SUCCEEDED 0x00
#define SOCKS5_REP_GENERAL_FAILURE 0x01
#define SOCKS5_REP_NOT_ALLOWED 0x02
#define SOCKS5_REP_NET_UNREACHABLE 0x03
#define SOCKS5_REP_HOST_UNREACHABLE 0x04
#define SOCKS5_REP_CONNECTION_REFUSED 0x05
#define SOCKS5_REP_TTL_EXPIRED 0x06
#define SOCKS5_REP_COMMAND_NOT_SUPPORTED 0x07
#define SOCKS5_REP_ADDRESS_TYPE_NOT_SUPPORTED 0x08
/** tor's extended onion-service errors (SocksPort ExtendedErrors flag;
 * tor(1) "ExtendedErrors").  Sent only when the port asks for them. */
#define SOCKS5_REP_HS_DESC_NOT_FOUND 0xF0
#define SOCKS5_REP_HS_DESC_INVALID 0xF1
#define SOCKS5_REP_HS_INTRO_FAILED 0xF2
#define SOCKS5_REP_HS_REND_FAILED 0xF3
#define SOCKS5_REP_HS_MISSING_CLIENT_AUTH 0xF4
#define SOCKS5_REP_HS_BAD_CLIENT_AUTH 0xF5
#define SOCKS5_REP_HS_BAD_ADDRESS 0xF6
#define SOCKS5_REP_HS_INTRO_TIMEDOUT 0xF7

/** SOCKS4 reply codes (the "CD" byte of the 8-byte reply). */
#define SOCKS4_REP_GRANTED 0x5A
#define SOCKS4_REP_REJECTED 0x5B

/* ---- Limits ------------------------------------------------------------ */

/** Longest hostname, in bytes (the SOCKS5 length byte cannot say more;
 * SOCKS4a hostnames get the same cap). */
#define SOCKS_MAX_HOSTNAME_LEN 255
/** Longest username or SOCKS4 userid, in bytes (RFC 1929 ULEN). */
#define SOCKS_MAX_USERNAME_LEN 255
/** Longest password, in bytes (RFC 1929 PLEN). */
#define SOCKS_MAX_PASSWORD_LEN 255
/** Longest single client message, in bytes: a SOCKS4a request with a
 * 255-byte userid and a 255-byte hostname (8 + 256 + 256).  Every other
 * message is shorter (RFC 1929 auth: 513; SOCKS5 request: 262;
 * greeting: 257). */
#define SOCKS_MAX_MESSAGE_LEN 520
/** Size of the output queue, in bytes.  The longest sequence of replies
 * one handshake produces is method selection (2) + auth reply (2) + a
 * RESOLVE_PTR answer (5 + 255 + 2); the HTTP-resistance answer is sent
 * alone. */
#define SOCKS_OUTPUT_MAX 512
/** Suggested time, in milliseconds, that the I/O layer allows a client
 * between accepting the connection and a complete request (and before
 * the first byte).  Ours, not tor's: tor's SocksTimeout (120 s) governs
 * the wait for a circuit, after the request. */
#define SOCKS_HANDSHAKE_TIMEOUT_MSEC 60000

/* ---- The parsed request ------------------------------------------------ */

/** How a client authenticated (used for stream isolation). */
typedef enum socks_auth_t {
  SOCKS_AUTH_NONE = 0,     /**< SOCKS5 no-auth, or SOCKS4 empty userid */
  SOCKS_AUTH_USERPASS = 1, /**< RFC 1929 credentials (possibly empty) */
  SOCKS_AUTH_SOCKS4 = 2,   /**< a non-empty SOCKS4 userid, kept in
                              username; password is empty */
} socks_auth_t;

/** Address kinds of a request (SOCKS4 IPv4 is SOCKS_ADDR_IPV4; a
 * SOCKS4a hostname is SOCKS_ADDR_HOSTNAME). */
typedef enum socks_addr_type_t {
  SOCKS_ADDR_IPV4 = SOCKS5_ATYPE_IPV4,
  SOCKS_ADDR_HOSTNAME = SOCKS5_ATYPE_HOSTNAME,
  SOCKS_ADDR_IPV6 = SOCKS5_ATYPE_IPV6,
} socks_addr_type_t;

/** Request flags. */
#define SOCKS_REQ_F_SOCKS4A 0x01u   /**< SOCKS4a (0.0.0.x + hostname) */
#define SOCKS_REQ_F_ONION 0x02u     /**< hostname ends in ".onion" */
#define SOCKS_REQ_F_EXIT 0x04u      /**< hostname ends in ".exit" */
#define SOCKS_REQ_F_NOCONNECT 0x08u /**< hostname ends in ".noconnect" */

/** A complete SOCKS request.  A plain value; copy it with memcpy and
 * wipe copies with socks_request_clear(). */
typedef struct socks_request_t {
  uint8_t version;             /**< 4 or 5 */
  uint8_t command;             /**< SOCKS_CMD_CONNECT/RESOLVE/RESOLVE_PTR */
  socks_addr_type_t addr_type; /**< which of addr / host is valid */
  /** IPv4 (first 4 bytes) or IPv6 address, network order; zero for a
   * hostname. */
  uint8_t addr[16];
  /** The hostname, NUL-terminated, host_len bytes of printable ASCII
   * (0x21..0x7E: no NUL, no space, no control byte); "" for an
   * address. */
  char host[SOCKS_MAX_HOSTNAME_LEN + 1];
  size_t host_len;
  uint16_t port;     /**< host order; may be 0 (policy is the caller's) */
  unsigned flags;    /**< SOCKS_REQ_F_* */
  socks_auth_t auth; /**< how username/password were obtained */
  /** Credentials, username_len / password_len bytes, followed by a NUL
   * for convenience.  They are arbitrary bytes (RFC 1929 allows any
   * octet, including NUL): compare them by length, never as C
   * strings.  Secret-ish (they select the isolation class): wiped by
   * socks_request_clear() and socks_clear(). */
  uint8_t username[SOCKS_MAX_USERNAME_LEN + 1];
  size_t username_len;
  uint8_t password[SOCKS_MAX_PASSWORD_LEN + 1];
  size_t password_len;
} socks_request_t;

/** Wipe <b>req</b> (credentials included) to all-zero. */
void socks_request_clear(socks_request_t *req);

/** Write the request's destination as "host:port", "1.2.3.4:port" or
 * "[v6]:port" (the address part of a RELAY_BEGIN body, tor-spec §6.2)
 * into <b>buf</b> (<b>buf_len</b> bytes), NUL-terminated.  Returns
 * CHIVE_ERR_LIMIT if it does not fit (buf then holds ""). */
CHIVE_MUST_CHECK chive_err_t socks_request_target(const socks_request_t *req,
                                                  char *buf, size_t buf_len);

/* ---- The engine -------------------------------------------------------- */

/** Where the engine is. */
typedef enum socks_state_t {
  SOCKS_ST_START = 0,     /**< nothing yet: expecting 0x04 or 0x05 */
  SOCKS_ST_S5_AUTH,       /**< USERPASS selected: expecting RFC 1929 */
  SOCKS_ST_S5_REQUEST,    /**< method chosen: expecting the request */
  SOCKS_ST_REQUEST_READY, /**< request parsed; waiting for the reply */
  SOCKS_ST_DONE,          /**< success reply queued: now a stream */
  SOCKS_ST_FAILED,        /**< error (reply queued if any): close */
} socks_state_t;

/** Why a handshake failed (for logs and metrics). */
typedef enum socks_fail_t {
  SOCKS_FAIL_NONE = 0,
  SOCKS_FAIL_BAD_VERSION,  /**< first byte neither 4 nor 5 (nor HTTP) */
  SOCKS_FAIL_HTTP,         /**< looked like HTTP: an HTTP answer queued */
  SOCKS_FAIL_NO_METHOD,    /**< no acceptable SOCKS5 method: 0xFF sent */
  SOCKS_FAIL_BAD_AUTH,     /**< malformed RFC 1929 message */
  SOCKS_FAIL_BAD_COMMAND,  /**< unsupported command (0x07 / 0x5B sent) */
  SOCKS_FAIL_BAD_ATYPE,    /**< unsupported address type (0x08 sent) */
  SOCKS_FAIL_BAD_HOSTNAME, /**< empty, NUL or non-printable hostname */
  SOCKS_FAIL_TOO_LONG,     /**< SOCKS4 userid or hostname over the cap */
  SOCKS_FAIL_MALFORMED,    /**< other malformed request (reserved byte) */
  SOCKS_FAIL_REPLIED,      /**< the caller sent an error reply */
} socks_fail_t;

/** A SOCKS server-side handshake.  Fields are private: use the
 * functions below. */
typedef struct socks_t {
  socks_state_t state;
  socks_fail_t fail;
  bool got_auth_msg;   /**< an RFC 1929 message was seen */
  uint8_t method;      /**< SOCKS5 method selected */
  socks_request_t req; /**< filled as messages arrive */
  size_t out_len;
  uint8_t out[SOCKS_OUTPUT_MAX];
} socks_t;

/** Initialise <b>s</b> for a new connection. */
void socks_init(socks_t *s);
/** Wipe <b>s</b> (credentials and queued output) to all-zero. */
void socks_clear(socks_t *s);

/** Feed the <b>len</b> bytes at <b>in</b> (everything received and not
 * yet consumed).  Always sets *<b>consumed</b> to the number of bytes
 * the engine used; the caller drops them and keeps the rest.
 *
 * Returns CHIVE_OK when a request is complete: socks_request() is valid
 * and the bytes after *consumed are optimistic data for the stream
 * (socks-extensions §5), never interpreted here.  Returns
 * CHIVE_ERR_TRUNCATED when more bytes are needed (there may be output
 * to send first, e.g. the method selection).  Returns CHIVE_ERR_PROTO
 * when the client broke the protocol: the state is SOCKS_ST_FAILED,
 * socks_failure() says why, and any error reply the protocol allows is
 * queued; flush it and close.  Returns CHIVE_ERR_INVAL if called in a
 * state that takes no input (request ready, done or failed). */
CHIVE_MUST_CHECK chive_err_t socks_feed(socks_t *s, const uint8_t *in,
                                        size_t len, size_t *consumed);

/** Return the current state. */
static inline socks_state_t
socks_state(const socks_t *s)
{
  return s->state;
}
/** Return why the handshake failed (SOCKS_FAIL_NONE if it did not). */
static inline socks_fail_t
socks_failure(const socks_t *s)
{
  return s->fail;
}
/** Return the parsed request once socks_feed() returned CHIVE_OK (state
 * SOCKS_ST_REQUEST_READY or later), else NULL.  Borrowed from <b>s</b>. */
const socks_request_t *socks_request(const socks_t *s);

/** Return the number of queued output bytes. */
static inline size_t
socks_output_len(const socks_t *s)
{
  return s->out_len;
}
/** Move up to <b>out_max</b> queued output bytes into <b>out</b>; return
 * how many were moved. */
size_t socks_take_output(socks_t *s, uint8_t *out, size_t out_max);

/** A bound address for a reply (RFC 1928 §6 BND.ADDR/BND.PORT). */
typedef struct socks_bound_t {
  socks_addr_type_t addr_type; /**< SOCKS_ADDR_IPV4 or SOCKS_ADDR_IPV6 */
  uint8_t addr[16];            /**< network order */
  uint16_t port;               /**< host order */
} socks_bound_t;

/** Queue the final reply to the ready request with SOCKS5 reply code
 * <b>code</b> (SOCKS5_REP_*; SOCKS5_REP_SUCCEEDED for success) and the
 * bound address <b>bound</b> (NULL: 0.0.0.0:0, what tor sends).  For a
 * SOCKS4 request the code collapses to 0x5A (success) or 0x5B, and
 * only an IPv4 bound address is carried.  Usable for any command (a
 * failed RESOLVE answers this way too).  On success the state becomes
 * SOCKS_ST_DONE if code is 0, SOCKS_ST_FAILED otherwise.
 * CHIVE_ERR_INVAL if no request is ready or bound is not IPv4/IPv6. */
CHIVE_MUST_CHECK chive_err_t socks_reply_connect(socks_t *s, uint8_t code,
                                                 const socks_bound_t *bound);

/** socks_reply_connect(s, code, NULL) for a nonzero code. */
CHIVE_MUST_CHECK chive_err_t socks_reply_error(socks_t *s, uint8_t code);

/** An answer to RESOLVE / RESOLVE_PTR (tor-spec §6.4 RESOLVED). */
typedef enum socks_answer_type_t {
  SOCKS_ANSWER_IPV4 = 4,
  SOCKS_ANSWER_IPV6 = 6,
  SOCKS_ANSWER_HOSTNAME = 0,
} socks_answer_type_t;

typedef struct socks_answer_t {
  socks_answer_type_t type;
  uint8_t addr[16]; /**< IPv4 (first 4 bytes) or IPv6, network order */
  const char *host; /**< hostname bytes (borrowed), for HOSTNAME */
  size_t host_len;  /**< 1..SOCKS_MAX_HOSTNAME_LEN */
} socks_answer_t;

/** Queue a successful RESOLVE / RESOLVE_PTR reply carrying <b>ans</b> in
 * the BND.ADDR field, port 0, as tor does.  SOCKS has no field for a
 * TTL, so none is sent.  A SOCKS4 request can only carry an IPv4
 * answer; any other answer is sent as 0x5B (tor's behaviour).  State
 * becomes SOCKS_ST_DONE (SOCKS_ST_FAILED for that SOCKS4 case).
 * CHIVE_ERR_INVAL if no request is ready or the answer is malformed (a
 * hostname that is empty, too long or contains NUL). */
CHIVE_MUST_CHECK chive_err_t socks_reply_resolved(socks_t *s,
                                                  const socks_answer_t *ans);

/** Return the SOCKS5 reply code for a RELAY_END reason (tor-spec §6.3),
 * as tor maps them (reasons.c): 0 (no error) -> 0x00; RESOLVEFAILED and
 * NOROUTE -> 0x04; CONNECTREFUSED, DONE (before CONNECTED) and
 * CONNRESET -> 0x05; EXITPOLICY -> 0x02; TIMEOUT -> 0x06; everything
 * else -> 0x01. */
uint8_t socks5_reply_for_end_reason(uint8_t reason);

/** Return a static name for a SOCKS5 reply code ("Host unreachable"). */
const char *socks5_reply_name(uint8_t code);
/** Return a static name for a failure reason ("bad-version"). */
const char *socks_fail_name(socks_fail_t fail);

#endif /* !defined(CHIVE_FEATURE_SOCKS_SOCKS_PROTO_H) */
