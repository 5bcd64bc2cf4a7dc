/**
 * @file rsa.c
 * @brief RSA public keys, Tor's raw-digest PKCS#1 signatures and X.509
 * helpers, over OpenSSL 3 (EVP_PKEY only; no deprecated RSA_* calls).
 *
 * Every failure path clears OpenSSL's per-thread error queue, so a failed
 * check here cannot confuse the TLS code that reads the same queue.
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sodium.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/rsa.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

struct crypto_rsa_pk_t {
  EVP_PKEY *pkey;
  unsigned bits;
  size_t der_len;
  uint8_t der[CRYPTO_RSA_PK_DER_MAX_LEN]; /**< Canonical PKCS#1 DER. */
};

struct crypto_rsa_sk_t {
  EVP_PKEY *pkey;
};

/** Wrap <b>pkey</b> (taking ownership, freeing it on failure) after
 * checking that it is an RSA key of acceptable size. */
static crypto_rsa_pk_t *
pk_from_pkey(EVP_PKEY *pkey)
{
  crypto_rsa_pk_t *pk = NULL;
  uint8_t *p;
  int bits, n;
  if (!pkey || EVP_PKEY_get_base_id(pkey) != EVP_PKEY_RSA)
    goto err;
  bits = EVP_PKEY_get_bits(pkey);
  if (bits < (int)CRYPTO_RSA_MIN_BITS || bits > (int)CRYPTO_RSA_MAX_BITS)
    goto err;
  n = i2d_PublicKey(pkey, NULL);
  if (n <= 0 || (size_t)n > CRYPTO_RSA_PK_DER_MAX_LEN)
    goto err;
  pk = chive_zalloc(sizeof(*pk));
  if (!pk)
    goto err;
  p = pk->der;
  if (i2d_PublicKey(pkey, &p) != n)
    goto err;
  pk->der_len = (size_t)n;
  pk->bits = (unsigned)bits;
  pk->pkey = pkey;
  return pk;
err:
  EVP_PKEY_free(pkey);
  chive_free(pk);
  ERR_clear_error();
  return NULL;
}

crypto_rsa_pk_t *
crypto_rsa_pk_from_der(const uint8_t *der, size_t len)
{
  const unsigned char *p = der;
  if (len == 0 || len > CRYPTO_RSA_PK_DER_MAX_LEN)
    return NULL;
  EVP_PKEY *pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)len);
  if (!pkey) {
    ERR_clear_error();
    return NULL;
  }
  if (p != der + len) {
    EVP_PKEY_free(pkey);
    return NULL;
  }
  crypto_rsa_pk_t *pk = pk_from_pkey(pkey);
  if (pk && (pk->der_len != len || !fast_memeq(pk->der, der, len)))
    crypto_rsa_pk_free(pk); /* not canonical DER */
  return pk;
}

/** Return a pointer to the first occurrence of <b>needle</b> in the
 * <b>hay_len</b> bytes at <b>hay</b>, or NULL.  (Public data.) */
static const char *
find_str(const char *hay, size_t hay_len, const char *needle)
{
  size_t n = strlen(needle);
  for (size_t i = 0; n <= hay_len && i <= hay_len - n; i++)
    if (fast_memeq(hay + i, needle, n))
      return hay + i;
  return NULL;
}

static int
is_space(char c)
{
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

crypto_rsa_pk_t *
crypto_rsa_pk_from_pem(const char *pem, size_t len)
{
  static const char begin[] = "-----BEGIN RSA PUBLIC KEY-----";
  static const char end[] = "-----END RSA PUBLIC KEY-----";
  uint8_t der[CRYPTO_RSA_PK_DER_MAX_LEN];
  size_t der_len = 0;
  const char *b64_end = NULL;
  const char *s = pem, *e = pem + len;

  while (s < e && is_space(*s))
    s++;
  while (e > s && is_space(e[-1]))
    e--;
  if ((size_t)(e - s) < sizeof(begin) - 1 + sizeof(end) - 1)
    return NULL;
  if (!fast_memeq(s, begin, sizeof(begin) - 1))
    return NULL;
  s += sizeof(begin) - 1;
  const char *tail = find_str(s, (size_t)(e - s), end);
  /* The END line must be the last thing in the input. */
  if (!tail || tail + sizeof(end) - 1 != e)
    return NULL;
  if (sodium_base642bin(der, sizeof(der), s, (size_t)(tail - s), "\r\n",
                        &der_len, &b64_end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      b64_end != tail)
    return NULL;
  return crypto_rsa_pk_from_der(der, der_len);
}

chive_err_t
crypto_rsa_pk_to_der(const crypto_rsa_pk_t *pk, uint8_t *out, size_t out_max,
                     size_t *out_len)
{
  if (pk->der_len > out_max)
    return CHIVE_ERR_LIMIT;
  memcpy(out, pk->der, pk->der_len);
  *out_len = pk->der_len;
  return CHIVE_OK;
}

void
crypto_rsa_pk_fingerprint(const crypto_rsa_pk_t *pk, uint8_t out[DIGEST_LEN])
{
  crypto_sha1(pk->der, pk->der_len, out);
}

unsigned
crypto_rsa_pk_bits(const crypto_rsa_pk_t *pk)
{
  return pk->bits;
}

bool
crypto_rsa_pk_exponent_is_65537(const crypto_rsa_pk_t *pk)
{
  BIGNUM *e = NULL;
  bool ok = false;
  if (EVP_PKEY_get_bn_param(pk->pkey, OSSL_PKEY_PARAM_RSA_E, &e) == 1)
    ok = BN_is_word(e, 65537) == 1;
  else
    ERR_clear_error();
  BN_free(e);
  return ok;
}

bool
crypto_rsa_pk_eq(const crypto_rsa_pk_t *a, const crypto_rsa_pk_t *b)
{
  return a->der_len == b->der_len && fast_memeq(a->der, b->der, a->der_len);
}

crypto_rsa_pk_t *
crypto_rsa_pk_dup(const crypto_rsa_pk_t *pk)
{
  return crypto_rsa_pk_from_der(pk->der, pk->der_len);
}

chive_err_t
crypto_rsa_verify_digest(const crypto_rsa_pk_t *pk, const uint8_t *sig,
                         size_t sig_len, const uint8_t *digest,
                         size_t digest_len)
{
  uint8_t buf[CRYPTO_RSA_MAX_BYTES];
  size_t out_len = sizeof(buf);
  chive_err_t rv = CHIVE_ERR_CRYPTO;
  EVP_PKEY_CTX *ctx = NULL;

  if (sig_len == 0 || sig_len > (pk->bits + 7) / 8)
    return CHIVE_ERR_CRYPTO;
  ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk->pkey, NULL);
  if (!ctx)
    goto done;
  /* No signature digest is set, so the provider opens the signature with
   * raw PKCS#1 type-1 unpadding: no DigestInfo is expected or stripped. */
  if (EVP_PKEY_verify_recover_init(ctx) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_verify_recover(ctx, buf, &out_len, sig, sig_len) != 1)
    goto done;
  if (out_len == digest_len && chive_memeq_ct(buf, digest, digest_len))
    rv = CHIVE_OK;
done:
  EVP_PKEY_CTX_free(ctx);
  if (rv != CHIVE_OK)
    ERR_clear_error();
  return rv;
}

void
crypto_rsa_pk_free_(crypto_rsa_pk_t *pk)
{
  if (!pk)
    return;
  EVP_PKEY_free(pk->pkey);
  chive_free(pk);
}

/** Parse exactly <b>len</b> bytes of DER X.509, or return NULL. */
static X509 *
x509_parse(const uint8_t *der, size_t len)
{
  const unsigned char *p = der;
  if (len == 0 || len > CRYPTO_X509_MAX_LEN)
    return NULL;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (!x) {
    ERR_clear_error();
    return NULL;
  }
  if (p != der + len) {
    X509_free(x);
    return NULL;
  }
  return x;
}

crypto_rsa_pk_t *
crypto_rsa_pk_from_x509_der(const uint8_t *der, size_t len)
{
  X509 *x = x509_parse(der, len);
  if (!x)
    return NULL;
  EVP_PKEY *key = X509_get_pubkey(x); /* new reference */
  X509_free(x);
  if (!key) {
    ERR_clear_error();
    return NULL;
  }
  return pk_from_pkey(key);
}

/** Days from 1970-01-01 to year/month/day in the proleptic Gregorian
 * calendar (month 1..12).  Howard Hinnant's well-known civil algorithm. */
static int64_t
days_from_civil(int64_t y, int64_t m, int64_t d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static bool
asn1_time_to_epoch(const ASN1_TIME *t, int64_t *out)
{
  struct tm tm;
  memset(&tm, 0, sizeof(tm));
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
    return false;
  *out = days_from_civil((int64_t)tm.tm_year + 1900, (int64_t)tm.tm_mon + 1,
                         tm.tm_mday) *
             86400 +
         (int64_t)tm.tm_hour * 3600 + (int64_t)tm.tm_min * 60 + tm.tm_sec;
  return true;
}

chive_err_t
crypto_x509_check_self_signed_rsa(const uint8_t *der, size_t len,
                                  const crypto_rsa_pk_t *signer,
                                  int64_t *not_before_s, int64_t *not_after_s)
{
  chive_err_t rv = CHIVE_ERR_PROTO;
  int64_t nb = 0, na = 0;
  X509 *x = x509_parse(der, len);
  if (!x)
    return CHIVE_ERR_PROTO;
  EVP_PKEY *key = signer ? signer->pkey : X509_get0_pubkey(x);
  if (!key || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA)
    goto done;
  if (!asn1_time_to_epoch(X509_get0_notBefore(x), &nb) ||
      !asn1_time_to_epoch(X509_get0_notAfter(x), &na))
    goto done;
  rv = CHIVE_ERR_CRYPTO;
  if (X509_verify(x, key) != 1)
    goto done;
  *not_before_s = nb;
  *not_after_s = na;
  rv = CHIVE_OK;
done:
  X509_free(x);
  if (rv != CHIVE_OK)
    ERR_clear_error();
  return rv;
}

/* ---- secret keys (tests and tools) ------------------------------------ */

crypto_rsa_sk_t *
crypto_rsa_sk_generate(unsigned bits)
{
  if (bits < CRYPTO_RSA_MIN_BITS || bits > CRYPTO_RSA_MAX_BITS)
    return NULL;
  crypto_rsa_sk_t *sk = chive_zalloc(sizeof(*sk));
  if (!sk)
    return NULL;
  sk->pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
  if (!sk->pkey) {
    ERR_clear_error();
    chive_free(sk);
    return NULL;
  }
  return sk;
}

crypto_rsa_pk_t *
crypto_rsa_sk_get_pk(const crypto_rsa_sk_t *sk)
{
  uint8_t der[CRYPTO_RSA_PK_DER_MAX_LEN];
  uint8_t *p = der;
  int n = i2d_PublicKey(sk->pkey, NULL);
  if (n <= 0 || (size_t)n > sizeof(der) || i2d_PublicKey(sk->pkey, &p) != n) {
    ERR_clear_error();
    return NULL;
  }
  return crypto_rsa_pk_from_der(der, (size_t)n);
}

chive_err_t
crypto_rsa_sk_sign_digest(const crypto_rsa_sk_t *sk, const uint8_t *digest,
                          size_t digest_len, uint8_t *sig, size_t sig_max,
                          size_t *sig_len)
{
  chive_err_t rv = CHIVE_ERR_CRYPTO;
  size_t need = 0;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, sk->pkey, NULL);
  if (!ctx)
    goto done;
  if (EVP_PKEY_sign_init(ctx) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) <= 0 ||
      EVP_PKEY_sign(ctx, NULL, &need, digest, digest_len) != 1)
    goto done;
  if (need > sig_max) {
    rv = CHIVE_ERR_LIMIT;
    goto done;
  }
  if (EVP_PKEY_sign(ctx, sig, &need, digest, digest_len) != 1)
    goto done;
  *sig_len = need;
  rv = CHIVE_OK;
done:
  EVP_PKEY_CTX_free(ctx);
  if (rv != CHIVE_OK)
    ERR_clear_error();
  return rv;
}

static bool
set_cn(X509_NAME *name, const char *cn)
{
  return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                    (const unsigned char *)cn, -1, -1, 0) == 1;
}

chive_err_t
crypto_x509_make_rsa_cert(const crypto_rsa_pk_t *subject,
                          const crypto_rsa_sk_t *issuer,
                          const char *subject_cn, const char *issuer_cn,
                          int64_t not_before_s, int64_t not_after_s,
                          uint8_t **der_out, size_t *der_len)
{
  chive_err_t rv = CHIVE_ERR_CRYPTO;
  X509 *x = X509_new();
  X509_NAME *sn = X509_NAME_new(), *in = X509_NAME_new();
  uint8_t serial[8];
  uint8_t *buf = NULL, *p;
  int n;
  BIGNUM *bn = NULL;

  if (!x || !sn || !in)
    goto done;
  if (crypto_rand(serial, sizeof(serial)) != CHIVE_OK)
    goto done;
  serial[0] &= 0x7f; /* positive */
  bn = BN_bin2bn(serial, (int)sizeof(serial), NULL);
  if (!bn || !BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)))
    goto done;
  if (X509_set_version(x, 2) != 1 || !set_cn(sn, subject_cn) ||
      !set_cn(in, issuer_cn) || X509_set_subject_name(x, sn) != 1 ||
      X509_set_issuer_name(x, in) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)not_before_s) ||
      !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)not_after_s) ||
      X509_set_pubkey(x, subject->pkey) != 1 ||
      X509_sign(x, issuer->pkey, EVP_sha256()) <= 0)
    goto done;
  n = i2d_X509(x, NULL);
  if (n <= 0)
    goto done;
  buf = chive_malloc((size_t)n);
  if (!buf) {
    rv = CHIVE_ERR_NOMEM;
    goto done;
  }
  p = buf;
  if (i2d_X509(x, &p) != n)
    goto done;
  *der_out = buf;
  *der_len = (size_t)n;
  buf = NULL;
  rv = CHIVE_OK;
done:
  chive_free(buf);
  BN_free(bn);
  X509_NAME_free(sn);
  X509_NAME_free(in);
  X509_free(x);
  if (rv != CHIVE_OK)
    ERR_clear_error();
  return rv;
}

void
crypto_rsa_sk_free_(crypto_rsa_sk_t *sk)
{
  if (!sk)
    return;
  EVP_PKEY_free(sk->pkey); /* OpenSSL clears the private bignums */
  chive_free(sk);
}
