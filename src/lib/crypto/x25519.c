/**
 * @file x25519.c
 * @brief X25519 over libsodium's crypto_scalarmult.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include <sodium.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "lib/malloc/malloc.h"

CHIVE_STATIC_ASSERT(crypto_scalarmult_BYTES == X25519_KEY_LEN,
                    "X25519 output size");
CHIVE_STATIC_ASSERT(crypto_scalarmult_SCALARBYTES == X25519_KEY_LEN,
                    "X25519 scalar size");

chive_err_t
crypto_x25519_keypair_generate(crypto_x25519_keypair_t *out)
{
  crypto_x25519_keypair_t kp;
  chive_err_t err = crypto_rand(kp.seckey, sizeof(kp.seckey));
  if (err)
    return err;
  crypto_x25519_public_from_secret(kp.pubkey, kp.seckey);
  memcpy(out, &kp, sizeof(kp));
  chive_memwipe(&kp, sizeof(kp));
  return CHIVE_OK;
}

void
crypto_x25519_keypair_clear(crypto_x25519_keypair_t *kp)
{
  chive_memwipe(kp, sizeof(*kp));
}

void
crypto_x25519_public_from_secret(uint8_t pk[X25519_KEY_LEN],
                                 const uint8_t sk[X25519_KEY_LEN])
{
  /* Fails only for a zero result, impossible for the base point. */
  CRYPTO_MUST(crypto_scalarmult_base(pk, sk) == 0);
}

chive_err_t
crypto_x25519(uint8_t out[X25519_KEY_LEN], const uint8_t sk[X25519_KEY_LEN],
              const uint8_t pk[X25519_KEY_LEN])
{
  uint8_t r[X25519_KEY_LEN];
  /* libsodium returns -1 for an all-zero shared secret; test again in
   * constant time so the contract does not rest on one backend. */
  int bad = crypto_scalarmult(r, sk, pk);
  if (bad != 0 || chive_is_zero_ct(r, sizeof(r))) {
    chive_memwipe(r, sizeof(r));
    memset(out, 0, X25519_KEY_LEN);
    return CHIVE_ERR_CRYPTO;
  }
  memcpy(out, r, sizeof(r));
  chive_memwipe(r, sizeof(r));
  return CHIVE_OK;
}
