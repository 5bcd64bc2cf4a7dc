/**
 * @file kdf.c
 * @brief HKDF-SHA256 over OpenSSL 3's EVP_KDF, and KDF-TOR over SHA-1.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/kdf.h"
#include "lib/malloc/malloc.h"

chive_err_t
crypto_hkdf_sha256(const uint8_t *salt, size_t salt_len, const uint8_t *ikm,
                   size_t ikm_len, const uint8_t *info, size_t info_len,
                   uint8_t *out, size_t out_len)
{
  static const uint8_t empty[1] = {0};
  char digest_name[] = "SHA256";
  chive_err_t rv = CHIVE_ERR_CRYPTO;
  EVP_KDF *kdf = NULL;
  EVP_KDF_CTX *kctx = NULL;
  OSSL_PARAM params[5];
  size_t n = 0;

  if (out_len == 0 || out_len > HKDF_SHA256_MAX_OUT_LEN)
    return CHIVE_ERR_INVAL;
  /* OSSL_PARAM wants non-const buffers, though HKDF only reads them. */
  params[n++] =
      OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, digest_name, 0);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_KEY, (void *)(uintptr_t)(ikm_len ? ikm : empty), ikm_len);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_SALT, (void *)(uintptr_t)(salt_len ? salt : empty),
      salt_len);
  params[n++] = OSSL_PARAM_construct_octet_string(
      OSSL_KDF_PARAM_INFO, (void *)(uintptr_t)(info_len ? info : empty),
      info_len);
  params[n] = OSSL_PARAM_construct_end();

  kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
  if (!kdf)
    goto done;
  kctx = EVP_KDF_CTX_new(kdf);
  if (!kctx)
    goto done;
  if (EVP_KDF_derive(kctx, out, out_len, params) != 1) {
    chive_memwipe(out, out_len);
    goto done;
  }
  rv = CHIVE_OK;
done:
  EVP_KDF_CTX_free(kctx); /* cleanses the keyed state */
  EVP_KDF_free(kdf);
  return rv;
}

chive_err_t
crypto_kdf_tor(const uint8_t *k0, size_t k0_len, uint8_t *out, size_t out_len)
{
  uint8_t block[DIGEST_LEN];
  if (out_len > KDF_TOR_MAX_OUT_LEN)
    return CHIVE_ERR_INVAL;
  crypto_digest_t *base = crypto_digest_new(DIGEST_ALG_SHA1);
  crypto_digest_t *d = crypto_digest_new(DIGEST_ALG_SHA1);
  if (!base || !d) {
    crypto_digest_free(base);
    crypto_digest_free(d);
    return CHIVE_ERR_NOMEM;
  }
  crypto_digest_add(base, k0, k0_len);
  for (size_t i = 0; out_len > 0; i++) {
    uint8_t ctr = (uint8_t)i;
    size_t n = out_len < DIGEST_LEN ? out_len : DIGEST_LEN;
    crypto_digest_assign(d, base);
    crypto_digest_add(d, &ctr, 1);
    crypto_digest_peek(d, block, DIGEST_LEN);
    memcpy(out, block, n);
    out += n;
    out_len -= n;
  }
  chive_memwipe(block, sizeof(block));
  crypto_digest_free(base); /* both wipe the K0-dependent state */
  crypto_digest_free(d);
  return CHIVE_OK;
}
