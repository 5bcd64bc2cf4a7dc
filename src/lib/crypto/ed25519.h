/**
 * @file ed25519.h
 * @brief Ed25519 signatures (RFC 8032, pure Ed25519), over libsodium.
 **/
#ifndef CHIVE_LIB_CRYPTO_ED25519_H
#define CHIVE_LIB_CRYPTO_ED25519_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

#define ED25519_PUBKEY_LEN 32 /**< Encoded public key, bytes. */
#define ED25519_SEED_LEN 32   /**< RFC 8032 private key (seed), bytes. */
#define ED25519_SIG_LEN 64    /**< Signature, bytes. */

/** A caller-allocated Ed25519 key pair.  Clear it with
 * crypto_ed25519_keypair_clear() (wipes the seed). */
typedef struct crypto_ed25519_keypair_t {
  uint8_t pubkey[ED25519_PUBKEY_LEN];
  uint8_t seed[ED25519_SEED_LEN]; /**< Secret.  Do not log or copy. */
} crypto_ed25519_keypair_t;

/** Generate a fresh key pair into <b>out</b> (written only on success). */
CHIVE_MUST_CHECK chive_err_t
crypto_ed25519_keypair_generate(crypto_ed25519_keypair_t *out);

/** Derive the key pair for RFC 8032 private key <b>seed</b>. */
void crypto_ed25519_keypair_from_seed(crypto_ed25519_keypair_t *out,
                                      const uint8_t seed[ED25519_SEED_LEN]);

/** Wipe <b>kp</b>. */
void crypto_ed25519_keypair_clear(crypto_ed25519_keypair_t *kp);

/** Sign <b>len</b> bytes at <b>msg</b> with <b>kp</b> (deterministic,
 * RFC 8032 §5.1.6). */
void crypto_ed25519_sign(uint8_t sig[ED25519_SIG_LEN], const uint8_t *msg,
                         size_t len, const crypto_ed25519_keypair_t *kp);

/** Return CHIVE_OK iff <b>sig</b> is a valid signature of <b>msg</b> under
 * <b>pk</b>; CHIVE_ERR_CRYPTO otherwise.  Rejects non-canonical S and
 * small-order public keys (libsodium's rules). */
CHIVE_MUST_CHECK chive_err_t
crypto_ed25519_verify(const uint8_t pk[ED25519_PUBKEY_LEN], const uint8_t *msg,
                      size_t len, const uint8_t sig[ED25519_SIG_LEN]);

/** Return true iff <b>pk</b> is the canonical encoding of a point on the
 * curve in the prime-order subgroup that is not of small order. */
bool crypto_ed25519_pubkey_is_valid(const uint8_t pk[ED25519_PUBKEY_LEN]);

#endif /* !defined(CHIVE_LIB_CRYPTO_ED25519_H) */
