/**
 * @file x509.c
 * @brief X.509 helpers over OpenSSL (see x509.h).
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <openssl/asn1.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>
#include <time.h>

#include "lib/err/err.h"
#include "lib/tls/x509.h"

struct tls_x509_t {
  X509 *x;
};

/* see x509.h */
chive_err_t
tls_x509_parse(const uint8_t *der, size_t len, tls_x509_t **out)
{
  if (len == 0)
    return CHIVE_ERR_PROTO;
  if (len > TLS_X509_MAX_DER_LEN)
    return CHIVE_ERR_LIMIT;
  const unsigned char *p = der;
  X509 *x = d2i_X509(NULL, &p, (long)len);
  if (!x) {
    ERR_clear_error();
    return CHIVE_ERR_PROTO;
  }
  if (p != der + len) {
    X509_free(x);
    return CHIVE_ERR_PROTO;
  }
  tls_x509_t *c = chive_malloc(sizeof(*c));
  if (!c) {
    X509_free(x);
    return CHIVE_ERR_NOMEM;
  }
  c->x = x;
  *out = c;
  return CHIVE_OK;
}

/* see x509.h */
void
tls_x509_free_(tls_x509_t *c)
{
  if (!c)
    return;
  X509_free(c->x);
  chive_free(c);
}

/** Days from 1970-01-01 to the proleptic Gregorian date y-m-d (m 1..12).
 * Howard Hinnant's well-known civil-date algorithm. */
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

static chive_err_t
asn1_time_to_unix(const ASN1_TIME *t, int64_t *out)
{
  struct tm tm;
  if (!t)
    return CHIVE_ERR_PROTO;
  memset(&tm, 0, sizeof(tm));
  if (ASN1_TIME_to_tm(t, &tm) != 1) {
    ERR_clear_error();
    return CHIVE_ERR_PROTO;
  }
  int64_t days = days_from_civil((int64_t)tm.tm_year + 1900,
                                 (int64_t)tm.tm_mon + 1, tm.tm_mday);
  *out = days * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 + tm.tm_sec;
  return CHIVE_OK;
}

/* see x509.h */
chive_err_t
tls_x509_validity(const tls_x509_t *c, int64_t *not_before,
                  int64_t *not_after)
{
  int64_t nb, na;
  if (asn1_time_to_unix(X509_get0_notBefore(c->x), &nb) != CHIVE_OK ||
      asn1_time_to_unix(X509_get0_notAfter(c->x), &na) != CHIVE_OK)
    return CHIVE_ERR_PROTO;
  *not_before = nb;
  *not_after = na;
  return CHIVE_OK;
}

/** Return the RSA key of <b>c</b> if it is RSA and not absurdly large. */
static EVP_PKEY *
rsa_key_of(const tls_x509_t *c)
{
  EVP_PKEY *pk = X509_get0_pubkey(c->x);
  if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
    return NULL;
  int bits = EVP_PKEY_get_bits(pk);
  if (bits <= 0 || bits > TLS_X509_MAX_RSA_BITS)
    return NULL;
  return pk;
}

/* see x509.h */
chive_err_t
tls_x509_check_signed_by(const tls_x509_t *c, const tls_x509_t *issuer)
{
  EVP_PKEY *pk = X509_get0_pubkey(issuer->x);
  if (!pk) {
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  if (EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA &&
      EVP_PKEY_get_bits(pk) > TLS_X509_MAX_RSA_BITS)
    return CHIVE_ERR_CRYPTO;
  int r = X509_verify(c->x, pk);
  ERR_clear_error();
  return r == 1 ? CHIVE_OK : CHIVE_ERR_CRYPTO;
}

/* see x509.h */
unsigned
tls_x509_rsa_bits(const tls_x509_t *c)
{
  EVP_PKEY *pk = X509_get0_pubkey(c->x);
  ERR_clear_error();
  if (!pk || EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA)
    return 0;
  int bits = EVP_PKEY_get_bits(pk);
  return bits > 0 ? (unsigned)bits : 0;
}

/* see x509.h */
chive_err_t
tls_x509_rsa_pubkey_der(const tls_x509_t *c, uint8_t **der_out,
                        size_t *len_out)
{
  EVP_PKEY *pk = rsa_key_of(c);
  if (!pk)
    return CHIVE_ERR_INVAL;
  /* For RSA keys, i2d_PublicKey writes the PKCS#1 RSAPublicKey form. */
  int n = i2d_PublicKey(pk, NULL);
  if (n <= 0) {
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  uint8_t *der = chive_malloc((size_t)n);
  if (!der)
    return CHIVE_ERR_NOMEM;
  unsigned char *p = der;
  if (i2d_PublicKey(pk, &p) != n) {
    ERR_clear_error();
    chive_free(der);
    return CHIVE_ERR_CRYPTO;
  }
  *der_out = der;
  *len_out = (size_t)n;
  return CHIVE_OK;
}

/* see x509.h */
chive_err_t
tls_x509_rsa_check_raw_sig(const tls_x509_t *c, const uint8_t *sig,
                           size_t sig_len, const uint8_t *expected,
                           size_t expected_len)
{
  uint8_t buf[TLS_X509_MAX_RSA_BITS / 8];
  chive_err_t err = CHIVE_ERR_CRYPTO;
  EVP_PKEY *pk = rsa_key_of(c);
  if (!pk)
    return CHIVE_ERR_INVAL;
  size_t key_len = (size_t)EVP_PKEY_get_size(pk);
  if (sig_len != key_len || key_len > sizeof(buf))
    return CHIVE_ERR_CRYPTO;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(pk, NULL);
  if (!ctx) {
    ERR_clear_error();
    return CHIVE_ERR_NOMEM;
  }
  size_t out_len = sizeof(buf);
  if (EVP_PKEY_verify_recover_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
      EVP_PKEY_verify_recover(ctx, buf, &out_len, sig, sig_len) == 1 &&
      out_len == expected_len &&
      chive_memeq_ct(buf, expected, expected_len))
    err = CHIVE_OK;
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return err;
}
