/**
 * @file control_auth.h
 * @brief Control-port authentication primitives, sans-I/O: the cookie,
 * SAFECOOKIE (control-spec §3.24), HashedControlPassword (§5.1, RFC 2440
 * iterated+salted S2K), the PROTOCOLINFO reply (§3.21) and a limiter
 * for failed attempts.
 *
 * Nothing here reads files, touches sockets or logs.  The caller (the
 * command dispatcher) reads the cookie file, keeps per-connection
 * control_safecookie_t state and one control_auth_limiter_t per
 * listener, and closes the connection after any failure (§3.5, as tor).
 *
 * Secrets (cookie, password, client hash) are wiped on every path and
 * compared in constant time.
 **/
#ifndef CHIVE_FEATURE_CONTROL_CONTROL_AUTH_H
#define CHIVE_FEATURE_CONTROL_CONTROL_AUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/control/control_proto.h"
#include "lib/cc/cc.h"

/** Authentication cookies are 32 bytes (control-spec §3.21: "All
 * authentication cookies are 32 bytes long"). */
#define CONTROL_AUTH_COOKIE_LEN 32
/** ServerNonce length for SAFECOOKIE (§3.24: "MUST be 32 bytes"). */
#define CONTROL_SAFECOOKIE_NONCE_LEN 32
/** ServerHash / client hash: HMAC-SHA256 output. */
#define CONTROL_SAFECOOKIE_HASH_LEN 32
/** Longest ClientNonce we accept, in bytes.  The spec only says
 * 2*HEXDIG; controllers send 32 bytes. */
#define CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN 1024
/** HMAC keys of §3.24. */
#define CONTROL_SAFECOOKIE_SERVER_KEY \
  "Tor safe cookie authentication server-to-controller hash"
#define CONTROL_SAFECOOKIE_CLIENT_KEY \
  "Tor safe cookie authentication controller-to-server hash"

/** RFC 2440 §3.6.1.3 S2K: 8-byte salt, then one count byte. */
#define CONTROL_S2K_SALT_LEN 8
#define CONTROL_S2K_SPECIFIER_LEN 9
/** S2K output: one SHA-1 digest. */
#define CONTROL_S2K_KEY_LEN 20
/** The count byte tor's --hash-password uses: 0x60 = 65536 bytes. */
#define CONTROL_S2K_DEFAULT_COUNT_BYTE 0x60
/** Length of "16:" + hex(specifier + key), not counting a NUL. */
#define CONTROL_HASHED_PW_HEX_LEN \
  (3 + 2 * (CONTROL_S2K_SPECIFIER_LEN + CONTROL_S2K_KEY_LEN))
/** Longest password we hash, in bytes (bounded by the line anyway). */
#define CONTROL_PASSWORD_MAX_LEN CONTROL_MAX_LINE_LEN

/* ------------------------------------------------------------------ */
/* Cookie                                                             */
/* ------------------------------------------------------------------ */

/** Fill <b>out</b> with a fresh random cookie (the whole content of the
 * cookie file, §5.1).  CHIVE_ERR_CRYPTO if the RNG failed. */
CHIVE_MUST_CHECK chive_err_t
control_auth_cookie_new(uint8_t out[CONTROL_AUTH_COOKIE_LEN]);

/** Accept the <b>len</b> bytes read from a cookie file as a cookie iff
 * there are exactly 32 (§3.21: "Controllers MUST NOT use the contents
 * of a non-32-byte-long file"); CHIVE_ERR_PROTO otherwise. */
CHIVE_MUST_CHECK chive_err_t control_auth_cookie_from_file(
    const uint8_t *buf, size_t len, uint8_t out[CONTROL_AUTH_COOKIE_LEN]);

/** COOKIE method: return true iff the <b>len</b> bytes of <b>resp</b>
 * are the cookie.  Constant time in the contents. */
bool control_auth_cookie_matches(const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN],
                                 const uint8_t *resp, size_t len);

/** Decode an authentication token as AUTHENTICATE and AUTHCHALLENGE take
 * it (§3.5): a quoted value is used as its bytes, a bare one is hex.
 * Writes at most <b>out_len</b> bytes to <b>out</b> and sets
 * *<b>n_out</b>.  CHIVE_ERR_PROTO for bad hex (odd length, non-hex),
 * CHIVE_ERR_LIMIT if it does not fit.  On failure <b>out</b> is wiped. */
CHIVE_MUST_CHECK chive_err_t
control_auth_token_decode(const char *value, size_t value_len, bool quoted,
                          uint8_t *out, size_t out_len, size_t *n_out);

/* ------------------------------------------------------------------ */
/* SAFECOOKIE (control-spec §3.24)                                    */
/* ------------------------------------------------------------------ */

/** Compute both SAFECOOKIE hashes over CookieString | ClientNonce |
 * ServerNonce:
 *   server_hash = HMAC-SHA256(CONTROL_SAFECOOKIE_SERVER_KEY, msg)
 *   client_hash = HMAC-SHA256(CONTROL_SAFECOOKIE_CLIENT_KEY, msg)
 * (the constant string is the HMAC key).  Either output may be NULL.
 * CHIVE_ERR_LIMIT if the client nonce is longer than
 * CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN, CHIVE_ERR_INVAL if empty. */
CHIVE_MUST_CHECK chive_err_t control_safecookie_compute(
    const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN], const uint8_t *client_nonce,
    size_t client_nonce_len,
    const uint8_t server_nonce[CONTROL_SAFECOOKIE_NONCE_LEN],
    uint8_t server_hash[CONTROL_SAFECOOKIE_HASH_LEN],
    uint8_t client_hash[CONTROL_SAFECOOKIE_HASH_LEN]);

/** Per-connection SAFECOOKIE state.  Embed zeroed; clear with
 * control_safecookie_clear(). */
typedef struct control_safecookie_t {
  uint8_t client_hash[CONTROL_SAFECOOKIE_HASH_LEN];
  bool pending; /**< an AUTHCHALLENGE succeeded; AUTHENTICATE must follow */
} control_safecookie_t;

/** Answer an AUTHCHALLENGE: draw a random ServerNonce, compute the
 * hashes, remember the client hash in <b>st</b> and write the nonce and
 * the server hash for the "250 AUTHCHALLENGE SERVERHASH=.. SERVERNONCE=.."
 * reply.  CHIVE_ERR_INVAL if a challenge is already pending (§3.24: only
 * once).  On failure <b>st</b> is unchanged and the outputs are wiped. */
CHIVE_MUST_CHECK chive_err_t control_safecookie_challenge(
    control_safecookie_t *st, const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN],
    const uint8_t *client_nonce, size_t client_nonce_len,
    uint8_t server_nonce_out[CONTROL_SAFECOOKIE_NONCE_LEN],
    uint8_t server_hash_out[CONTROL_SAFECOOKIE_HASH_LEN]);

/** Return true iff <b>resp</b> (<b>len</b> bytes, already hex-decoded)
 * is the expected client hash of the pending challenge.  Constant time
 * in the contents.  The challenge is consumed either way. */
bool control_safecookie_verify(control_safecookie_t *st, const uint8_t *resp,
                               size_t len);

/** Wipe <b>st</b>. */
void control_safecookie_clear(control_safecookie_t *st);

/** Append the AUTHCHALLENGE reply line (§3.24), hex upper-case:
 * "250 AUTHCHALLENGE SERVERHASH=<64 hex> SERVERNONCE=<64 hex>". */
CHIVE_MUST_CHECK chive_err_t control_safecookie_reply(
    control_outbuf_t *o,
    const uint8_t server_hash[CONTROL_SAFECOOKIE_HASH_LEN],
    const uint8_t server_nonce[CONTROL_SAFECOOKIE_NONCE_LEN]);

/* ------------------------------------------------------------------ */
/* HashedControlPassword (control-spec §5.1)                          */
/* ------------------------------------------------------------------ */

/** A decoded HashedControlPassword. */
typedef struct control_hashed_pw_t {
  /** Salt (8 bytes) then the count byte (RFC 2440 §3.6.1.3). */
  uint8_t spec[CONTROL_S2K_SPECIFIER_LEN];
  /** SHA-1 of the iterated salted password. */
  uint8_t key[CONTROL_S2K_KEY_LEN];
} control_hashed_pw_t;

/** Return the number of bytes RFC 2440's count byte <b>c</b> asks to
 * hash: (16 + (c & 15)) << ((c >> 4) + 6). */
uint32_t control_s2k_count(uint8_t c);

/** RFC 2440 §3.6.1.3 iterated and salted S2K with SHA-1: hash
 * salt|secret repeated until control_s2k_count(spec[8]) bytes have been
 * hashed (all of salt|secret at least once).  Writes the 20-byte digest
 * to <b>key_out</b>.  CHIVE_ERR_LIMIT if secret_len >
 * CONTROL_PASSWORD_MAX_LEN; CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t control_s2k_rfc2440(
    const uint8_t spec[CONTROL_S2K_SPECIFIER_LEN], const uint8_t *secret,
    size_t secret_len, uint8_t key_out[CONTROL_S2K_KEY_LEN]);

/** Parse a HashedControlPassword value: "16:" followed by 58 hex digits
 * (salt, count byte, key), the form tor --hash-password prints; or, as
 * tor still accepts, the base64 of those 29 bytes.  CHIVE_ERR_PROTO on
 * anything else.  *<b>out</b> is written only on success. */
CHIVE_MUST_CHECK chive_err_t control_hashed_pw_parse(const char *s, size_t len,
                                                     control_hashed_pw_t *out);

/** Check <b>password</b> against <b>h</b>: CHIVE_OK iff it matches,
 * CHIVE_ERR_CRYPTO if not, CHIVE_ERR_LIMIT / CHIVE_ERR_NOMEM.  The key
 * comparison is constant-time. */
CHIVE_MUST_CHECK chive_err_t control_hashed_pw_verify(
    const control_hashed_pw_t *h, const uint8_t *password, size_t len);

/** Hash <b>password</b> with a fresh random salt and count byte
 * <b>count_byte</b> (CONTROL_S2K_DEFAULT_COUNT_BYTE for tor's choice)
 * into *<b>out</b>. */
CHIVE_MUST_CHECK chive_err_t control_hashed_pw_new(const uint8_t *password,
                                                   size_t len,
                                                   uint8_t count_byte,
                                                   control_hashed_pw_t *out);

/** Write "16:" + upper-case hex of h->spec | h->key, NUL-terminated,
 * into <b>out</b> (at least CONTROL_HASHED_PW_HEX_LEN + 1 bytes, else
 * CHIVE_ERR_LIMIT). */
CHIVE_MUST_CHECK chive_err_t control_hashed_pw_format(
    const control_hashed_pw_t *h, char *out, size_t out_len);

/* ------------------------------------------------------------------ */
/* PROTOCOLINFO (control-spec §3.21)                                  */
/* ------------------------------------------------------------------ */

/** Authentication methods on offer (flags). */
#define CONTROL_AUTH_METHOD_COOKIE (1u << 0)   /**< COOKIE and SAFECOOKIE */
#define CONTROL_AUTH_METHOD_PASSWORD (1u << 1) /**< HASHEDPASSWORD */

/** Append tor's PROTOCOLINFO reply:
 *   250-PROTOCOLINFO 1
 *   250-AUTH METHODS=COOKIE,SAFECOOKIE,HASHEDPASSWORD COOKIEFILE="<path>"
 *   250-VERSION Tor="<version>"
 *   250 OK
 * METHODS is "NULL" when <b>methods</b> is 0; COOKIEFILE appears iff the
 * cookie methods are on (then <b>cookie_path</b> is required).  Paths
 * and versions are quoted and escaped.  All four lines or nothing. */
CHIVE_MUST_CHECK chive_err_t
control_auth_reply_protocolinfo(control_outbuf_t *o, unsigned methods,
                                const char *cookie_path, const char *version);

/* ------------------------------------------------------------------ */
/* Failed-attempt limiter                                             */
/* ------------------------------------------------------------------ */

/** Default limiter policy: a burst of 5 failures, then one more attempt
 * per second.  With tor's close-after-failure rule this caps password
 * guessing at about one try per second per listener. */
#define CONTROL_AUTH_FAIL_BURST 5u
#define CONTROL_AUTH_FAIL_REFILL_MS 1000u

/** A token bucket of authentication failures (one per listener).  Time
 * is passed in (monotonic milliseconds), so it needs no clock. */
typedef struct control_auth_limiter_t {
  uint32_t burst;     /**< bucket size */
  uint32_t refill_ms; /**< one token comes back every refill_ms */
  uint32_t tokens;    /**< tokens now */
  uint64_t last_ms;   /**< time of the last refill computation */
} control_auth_limiter_t;

/** Start full at <b>now_ms</b>.  burst 0 or refill_ms 0 mean the
 * defaults above. */
void control_auth_limiter_init(control_auth_limiter_t *l, uint32_t burst,
                               uint32_t refill_ms, uint64_t now_ms);
/** Return true iff an authentication attempt may be evaluated at
 * <b>now_ms</b> (a token is available).  If false, answer 515 without
 * checking the secret and close the connection. */
bool control_auth_limiter_allow(control_auth_limiter_t *l, uint64_t now_ms);
/** Record a failed attempt at <b>now_ms</b> (takes a token). */
void control_auth_limiter_note_failure(control_auth_limiter_t *l,
                                       uint64_t now_ms);
/** Milliseconds until the next token, 0 if one is available. */
uint64_t control_auth_limiter_wait_ms(control_auth_limiter_t *l,
                                      uint64_t now_ms);

#endif /* !defined(CHIVE_FEATURE_CONTROL_CONTROL_AUTH_H) */
