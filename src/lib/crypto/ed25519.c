/**
 * @file ed25519.c
 * @brief Ed25519 over libsodium's crypto_sign_* (libsodium's secret key
 * is seed || public key; we keep the two apart).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include <sodium.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/rand.h"
#include "lib/malloc/malloc.h"

CHIVE_STATIC_ASSERT(crypto_sign_ed25519_PUBLICKEYBYTES == ED25519_PUBKEY_LEN,
                    "ed25519 pk size");
CHIVE_STATIC_ASSERT(crypto_sign_ed25519_SEEDBYTES == ED25519_SEED_LEN,
                    "ed25519 seed size");
CHIVE_STATIC_ASSERT(crypto_sign_ed25519_BYTES == ED25519_SIG_LEN,
                    "ed25519 sig size");
CHIVE_STATIC_ASSERT(crypto_sign_ed25519_SECRETKEYBYTES ==
                        ED25519_SEED_LEN + ED25519_PUBKEY_LEN,
                    "ed25519 libsodium sk layout");

chive_err_t
crypto_ed25519_keypair_generate(crypto_ed25519_keypair_t *out)
{
  uint8_t seed[ED25519_SEED_LEN];
  chive_err_t err = crypto_rand(seed, sizeof(seed));
  if (err)
    return err;
  crypto_ed25519_keypair_from_seed(out, seed);
  chive_memwipe(seed, sizeof(seed));
  return CHIVE_OK;
}

void
crypto_ed25519_keypair_from_seed(crypto_ed25519_keypair_t *out,
                                 const uint8_t seed[ED25519_SEED_LEN])
{
  uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
  uint8_t pk[ED25519_PUBKEY_LEN];
  CRYPTO_MUST(crypto_sign_ed25519_seed_keypair(pk, sk, seed) == 0);
  memcpy(out->pubkey, pk, sizeof(pk));
  memcpy(out->seed, seed, ED25519_SEED_LEN);
  chive_memwipe(sk, sizeof(sk));
}

void
crypto_ed25519_keypair_clear(crypto_ed25519_keypair_t *kp)
{
  chive_memwipe(kp, sizeof(*kp));
}

void
crypto_ed25519_sign(uint8_t sig[ED25519_SIG_LEN], const uint8_t *msg,
                    size_t len, const crypto_ed25519_keypair_t *kp)
{
  uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
  static const uint8_t empty[1] = {0};
  memcpy(sk, kp->seed, ED25519_SEED_LEN);
  memcpy(sk + ED25519_SEED_LEN, kp->pubkey, ED25519_PUBKEY_LEN);
  CRYPTO_MUST(crypto_sign_ed25519_detached(sig, NULL, len ? msg : empty, len,
                                           sk) == 0);
  chive_memwipe(sk, sizeof(sk));
}

chive_err_t
crypto_ed25519_verify(const uint8_t pk[ED25519_PUBKEY_LEN], const uint8_t *msg,
                      size_t len, const uint8_t sig[ED25519_SIG_LEN])
{
  static const uint8_t empty[1] = {0};
  if (crypto_sign_ed25519_verify_detached(sig, len ? msg : empty, len, pk) !=
      0)
    return CHIVE_ERR_CRYPTO;
  return CHIVE_OK;
}

bool
crypto_ed25519_pubkey_is_valid(const uint8_t pk[ED25519_PUBKEY_LEN])
{
  return crypto_core_ed25519_is_valid_point(pk) == 1;
}
