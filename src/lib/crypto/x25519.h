/**
 * @file x25519.h
 * @brief X25519 Diffie-Hellman (RFC 7748), over libsodium.
 **/
#ifndef CHIVE_LIB_CRYPTO_X25519_H
#define CHIVE_LIB_CRYPTO_X25519_H

#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

#define X25519_KEY_LEN 32 /**< Public key, secret key and output, bytes. */

/** A caller-allocated X25519 key pair.  Clear it with
 * crypto_x25519_keypair_clear() (wipes the secret). */
typedef struct crypto_x25519_keypair_t {
  uint8_t pubkey[X25519_KEY_LEN];
  uint8_t seckey[X25519_KEY_LEN]; /**< Secret.  Do not log or copy. */
} crypto_x25519_keypair_t;

/** Generate a fresh key pair into <b>out</b> (written only on success).
 * Returns CHIVE_ERR_CRYPTO if the RNG failed. */
CHIVE_MUST_CHECK chive_err_t
crypto_x25519_keypair_generate(crypto_x25519_keypair_t *out);

/** Wipe <b>kp</b>. */
void crypto_x25519_keypair_clear(crypto_x25519_keypair_t *kp);

/** Compute the public key for secret scalar <b>sk</b> (clamped as RFC
 * 7748 §5 says). */
void crypto_x25519_public_from_secret(uint8_t pk[X25519_KEY_LEN],
                                      const uint8_t sk[X25519_KEY_LEN]);

/** X25519(sk, pk) into <b>out</b>.  Returns CHIVE_ERR_CRYPTO (and zeroes
 * out) if the result is all zero, i.e. <b>pk</b> was a small-order point
 * (tor-spec §5.1.4: the ntor handshake must reject that). */
CHIVE_MUST_CHECK chive_err_t crypto_x25519(uint8_t out[X25519_KEY_LEN],
                                           const uint8_t sk[X25519_KEY_LEN],
                                           const uint8_t pk[X25519_KEY_LEN]);

#endif /* !defined(CHIVE_LIB_CRYPTO_X25519_H) */
