/**
 * @file crypto_init.c
 * @brief crypto_global_init(): OpenSSL 3 + libsodium start-up.
 **/
#include "lib/cc/compat.h"

#include <openssl/crypto.h>
#include <sodium.h>

#include "lib/crypto/crypto_init.h"

chive_err_t
crypto_global_init(void)
{
  /* OPENSSL_init_crypto is idempotent; it returns 1 on success. */
  if (OPENSSL_init_crypto(OPENSSL_INIT_LOAD_CRYPTO_STRINGS, NULL) != 1)
    return CHIVE_ERR_CRYPTO;
  /* sodium_init: 0 = initialised now, 1 = already, -1 = failure. */
  if (sodium_init() < 0)
    return CHIVE_ERR_CRYPTO;
  return CHIVE_OK;
}
