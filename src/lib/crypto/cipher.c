/**
 * @file cipher.c
 * @brief AES-CTR over OpenSSL EVP.  EVP's CTR mode keeps the partial-block
 * position itself, so the keystream is continuous across calls.
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>

#include "lib/crypto/cipher.h"
#include "lib/crypto/crypto_int.h"
#include "lib/malloc/malloc.h"

struct crypto_cipher_t {
  EVP_CIPHER_CTX *ctx;
};

crypto_cipher_t *
crypto_cipher_new(const uint8_t *key, size_t key_len,
                  const uint8_t iv[CIPHER_IV_LEN])
{
  static const uint8_t zero_iv[CIPHER_IV_LEN] = {0};
  const EVP_CIPHER *alg;
  if (key_len == CIPHER_KEY_LEN)
    alg = EVP_aes_128_ctr();
  else if (key_len == CIPHER256_KEY_LEN)
    alg = EVP_aes_256_ctr();
  else
    return NULL;
  crypto_cipher_t *c = chive_zalloc(sizeof(*c));
  if (!c)
    return NULL;
  c->ctx = EVP_CIPHER_CTX_new();
  if (!c->ctx ||
      EVP_EncryptInit_ex(c->ctx, alg, NULL, key, iv ? iv : zero_iv) != 1) {
    crypto_cipher_free_(c);
    return NULL;
  }
  return c;
}

void
crypto_cipher_crypt(crypto_cipher_t *c, uint8_t *out, const uint8_t *in,
                    size_t len)
{
  while (len > 0) {
    int chunk = len > (size_t)(INT_MAX / 2) ? INT_MAX / 2 : (int)len;
    int outl = 0;
    /* A failure here would leave plaintext in place: abort instead. */
    CRYPTO_MUST(EVP_EncryptUpdate(c->ctx, out, &outl, in, chunk) == 1);
    CRYPTO_MUST(outl == chunk);
    in += chunk;
    out += chunk;
    len -= (size_t)chunk;
  }
}

void
crypto_cipher_crypt_inplace(crypto_cipher_t *c, uint8_t *buf, size_t len)
{
  crypto_cipher_crypt(c, buf, buf, len);
}

void
crypto_cipher_free_(crypto_cipher_t *c)
{
  if (!c)
    return;
  /* EVP_CIPHER_CTX_free cleanses the key schedule and counter state. */
  EVP_CIPHER_CTX_free(c->ctx);
  chive_free_wipe(c);
}
