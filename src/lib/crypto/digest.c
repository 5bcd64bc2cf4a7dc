/**
 * @file digest.c
 * @brief Hash functions over OpenSSL 3's EVP interface.
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/digest.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

struct crypto_digest_t {
  digest_alg_t alg;
  EVP_MD_CTX *ctx;     /**< The running state. */
  EVP_MD_CTX *scratch; /**< Finalised by peek; never holds lasting state. */
};

static const EVP_MD *
md_for_alg(digest_alg_t alg)
{
  switch (alg) {
  case DIGEST_ALG_SHA1:
    return EVP_sha1();
  case DIGEST_ALG_SHA256:
    return EVP_sha256();
  case DIGEST_ALG_SHA3_256:
    return EVP_sha3_256();
  default:
    CHIVE_ASSERT(0);
    return NULL;
  }
}

size_t
crypto_digest_alg_len(digest_alg_t alg)
{
  return alg == DIGEST_ALG_SHA1 ? DIGEST_LEN : DIGEST256_LEN;
}

/** One-shot digest of <b>m</b> with <b>md</b>; aborts on backend
 * failure (see digest.h). */
static void
digest_oneshot(const EVP_MD *md, const void *m, size_t len, uint8_t *out,
               size_t out_len)
{
  unsigned int got = 0;
  int ok = EVP_Digest(m, len, out, &got, md, NULL);
  CRYPTO_MUST(ok == 1);
  CRYPTO_MUST(got == out_len);
}

void
crypto_sha1(const void *m, size_t len, uint8_t out[DIGEST_LEN])
{
  digest_oneshot(EVP_sha1(), m, len, out, DIGEST_LEN);
}

void
crypto_sha256(const void *m, size_t len, uint8_t out[DIGEST256_LEN])
{
  digest_oneshot(EVP_sha256(), m, len, out, DIGEST256_LEN);
}

void
crypto_sha3_256(const void *m, size_t len, uint8_t out[DIGEST256_LEN])
{
  digest_oneshot(EVP_sha3_256(), m, len, out, DIGEST256_LEN);
}

void
crypto_sha512(const void *m, size_t len, uint8_t out[DIGEST512_LEN])
{
  digest_oneshot(EVP_sha512(), m, len, out, DIGEST512_LEN);
}

crypto_digest_t *
crypto_digest_new(digest_alg_t alg)
{
  crypto_digest_t *d = chive_zalloc(sizeof(*d));
  if (!d)
    return NULL;
  d->alg = alg;
  d->ctx = EVP_MD_CTX_new();
  d->scratch = EVP_MD_CTX_new();
  if (!d->ctx || !d->scratch ||
      EVP_DigestInit_ex(d->ctx, md_for_alg(alg), NULL) != 1) {
    crypto_digest_free_(d);
    return NULL;
  }
  return d;
}

crypto_digest_t *
crypto_digest_dup(const crypto_digest_t *d)
{
  crypto_digest_t *c = chive_zalloc(sizeof(*c));
  if (!c)
    return NULL;
  c->alg = d->alg;
  c->ctx = EVP_MD_CTX_new();
  c->scratch = EVP_MD_CTX_new();
  if (!c->ctx || !c->scratch || EVP_MD_CTX_copy_ex(c->ctx, d->ctx) != 1) {
    crypto_digest_free_(c);
    return NULL;
  }
  return c;
}

void
crypto_digest_assign(crypto_digest_t *into, const crypto_digest_t *from)
{
  if (BUG(into->alg != from->alg))
    return;
  /* Same EVP_MD on both sides: OpenSSL reuses into's state buffer, so
   * this does not allocate and cannot fail short of corruption. */
  CRYPTO_MUST(EVP_MD_CTX_copy_ex(into->ctx, from->ctx) == 1);
}

void
crypto_digest_add(crypto_digest_t *d, const void *m, size_t len)
{
  CRYPTO_MUST(EVP_DigestUpdate(d->ctx, m, len) == 1);
}

void
crypto_digest_peek(const crypto_digest_t *d, uint8_t *out, size_t out_len)
{
  uint8_t buf[EVP_MAX_MD_SIZE];
  unsigned int got = 0;
  size_t want = crypto_digest_alg_len(d->alg);
  CRYPTO_MUST(EVP_MD_CTX_copy_ex(d->scratch, d->ctx) == 1);
  CRYPTO_MUST(EVP_DigestFinal_ex(d->scratch, buf, &got) == 1);
  CRYPTO_MUST(got == want);
  if (BUG(out_len > want)) {
    memset(out + want, 0, out_len - want);
    out_len = want;
  }
  memcpy(out, buf, out_len);
  chive_memwipe(buf, sizeof(buf));
}

void
crypto_digest_free_(crypto_digest_t *d)
{
  if (!d)
    return;
  /* EVP_MD_CTX_free cleanses the hash state before freeing it. */
  EVP_MD_CTX_free(d->ctx);
  EVP_MD_CTX_free(d->scratch);
  chive_free_wipe(d);
}

void
crypto_shake256(const void *m, size_t len, uint8_t *out, size_t out_len)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  CRYPTO_MUST(ctx != NULL);
  CRYPTO_MUST(EVP_DigestInit_ex(ctx, EVP_shake256(), NULL) == 1);
  CRYPTO_MUST(EVP_DigestUpdate(ctx, m, len) == 1);
  CRYPTO_MUST(EVP_DigestFinalXOF(ctx, out, out_len) == 1);
  EVP_MD_CTX_free(ctx);
}

void
crypto_hmac_sha256(const void *key, size_t key_len, const void *m, size_t len,
                   uint8_t out[DIGEST256_LEN])
{
  unsigned int got = 0;
  static const uint8_t empty_key[1] = {0};
  /* OpenSSL treats a NULL key as "reuse the previous key"; an empty key
   * must be passed as a non-NULL pointer. */
  if (key_len == 0)
    key = empty_key;
  CHIVE_ASSERT(key_len <= INT_MAX);
  CRYPTO_MUST(HMAC(EVP_sha256(), key, (int)key_len, m, len, out, &got) !=
              NULL);
  CRYPTO_MUST(got == DIGEST256_LEN);
}

void
crypto_mac_sha3_256(const void *key, size_t key_len, const void *m, size_t len,
                    uint8_t out[DIGEST256_LEN])
{
  uint8_t k_len[8];
  uint64_t n = (uint64_t)key_len;
  for (int i = 7; i >= 0; i--) {
    k_len[i] = (uint8_t)n;
    n >>= 8;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned int got = 0;
  CRYPTO_MUST(ctx != NULL);
  CRYPTO_MUST(EVP_DigestInit_ex(ctx, EVP_sha3_256(), NULL) == 1);
  CRYPTO_MUST(EVP_DigestUpdate(ctx, k_len, sizeof(k_len)) == 1);
  CRYPTO_MUST(EVP_DigestUpdate(ctx, key, key_len) == 1);
  CRYPTO_MUST(EVP_DigestUpdate(ctx, m, len) == 1);
  CRYPTO_MUST(EVP_DigestFinal_ex(ctx, out, &got) == 1);
  CRYPTO_MUST(got == DIGEST256_LEN);
  EVP_MD_CTX_free(ctx); /* cleanses the keyed state */
}
