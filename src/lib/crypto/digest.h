/**
 * @file digest.h
 * @brief SHA-1, SHA-256, SHA3-256, SHA-512, SHAKE-256, HMAC-SHA256 and
 * Tor's SHA3-256 MAC; incremental, copyable digest objects.
 *
 * One-shot functions cannot fail for any input: the only way the OpenSSL
 * backend can fail here is an internal allocation failure, and a void
 * digest function has no honest way to report that, so the process aborts
 * (a wrong digest would be worse).  crypto_global_init() must have run.
 **/
#ifndef CHIVE_LIB_CRYPTO_DIGEST_H
#define CHIVE_LIB_CRYPTO_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

#define DIGEST_LEN 20    /**< SHA-1 output, bytes. */
#define DIGEST256_LEN 32 /**< SHA-256 / SHA3-256 output, bytes. */
#define DIGEST512_LEN 64 /**< SHA-512 output, bytes. */

void crypto_sha1(const void *m, size_t len, uint8_t out[DIGEST_LEN]);
void crypto_sha256(const void *m, size_t len, uint8_t out[DIGEST256_LEN]);
void crypto_sha3_256(const void *m, size_t len, uint8_t out[DIGEST256_LEN]);
void crypto_sha512(const void *m, size_t len, uint8_t out[DIGEST512_LEN]);

/** An incremental digest.  Opaque and heap-allocated; copy it with
 * crypto_digest_dup() or crypto_digest_assign() (relay cells keep a
 * running SHA-1 that is cloned to test a cell's digest without
 * committing).  Not safe for concurrent use of one object. */
typedef struct crypto_digest_t crypto_digest_t;

typedef enum {
  DIGEST_ALG_SHA1,
  DIGEST_ALG_SHA256,
  DIGEST_ALG_SHA3_256,
} digest_alg_t;

/** Return the output length in bytes of <b>alg</b>. */
size_t crypto_digest_alg_len(digest_alg_t alg);

/** Return a new digest object for <b>alg</b> over the empty string, or
 * NULL on allocation failure. */
crypto_digest_t *crypto_digest_new(digest_alg_t alg);
/** Return an independent copy of <b>d</b> (same state), or NULL on
 * allocation failure. */
crypto_digest_t *crypto_digest_dup(const crypto_digest_t *d);
/** Make <b>into</b> a copy of <b>from</b>'s state.  Both must use the same
 * algorithm (a BUG otherwise, and <b>into</b> is left unchanged).  Does
 * not allocate. */
void crypto_digest_assign(crypto_digest_t *into, const crypto_digest_t *from);
/** Feed <b>len</b> bytes at <b>m</b> into <b>d</b>. */
void crypto_digest_add(crypto_digest_t *d, const void *m, size_t len);
/** Write the first <b>out_len</b> bytes of the digest of everything added
 * so far to <b>out</b>; <b>d</b> is unchanged and may be fed more.
 * out_len must be at most crypto_digest_alg_len() (a BUG otherwise: the
 * excess is zero-filled). */
void crypto_digest_peek(const crypto_digest_t *d, uint8_t *out,
                        size_t out_len);
/** Release <b>d</b> (wiping its state).  NULL is a no-op. */
void crypto_digest_free_(crypto_digest_t *d);
#define crypto_digest_free(p) \
  CHIVE_FREE_AND_NULL(crypto_digest_t, crypto_digest_free_, (p))

/** SHAKE-256 extendable-output function: write <b>out_len</b> bytes of
 * SHAKE-256(m) to <b>out</b>. */
void crypto_shake256(const void *m, size_t len, uint8_t *out, size_t out_len);
/** HMAC-SHA256 (RFC 2104). */
void crypto_hmac_sha256(const void *key, size_t key_len, const void *m,
                        size_t len, uint8_t out[DIGEST256_LEN]);
/** Tor's v3 onion-service MAC (rend-spec-v3 §0.3, "MAC(key=k, message=m)
 * = H(k_len | k | m)", H = SHA3-256, k_len = 8-byte big-endian length of
 * k). */
void crypto_mac_sha3_256(const void *key, size_t key_len, const void *m,
                         size_t len, uint8_t out[DIGEST256_LEN]);

#endif /* !defined(CHIVE_LIB_CRYPTO_DIGEST_H) */
