/**
 * @file tls_testing.c
 * @brief TEST ONLY: fake relay keys, certificates and TLS server engine
 * (see tls_testing.h).
 **/
#include "lib/cc/compat.h"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <string.h>

#include "lib/crypto/digest.h"
#include "lib/err/err.h"
#include "lib/tls/tls_openssl_int.h"
#include "lib/tls/tls_testing.h"

struct tls_testing_relay_t {
  EVP_PKEY *id_key;
  X509 *id_cert;
  EVP_PKEY *link_key;
  X509 *link_cert;
  uint8_t *id_der;
  size_t id_der_len;
  uint8_t *link_der;
  size_t link_der_len;
  uint8_t rsa_id[20];
};

/** Make an X.509 certificate for <b>subject_key</b>, signed by
 * <b>signer</b>, valid [nb, na]. */
static X509 *
make_cert(EVP_PKEY *subject_key, EVP_PKEY *signer, const char *cn,
          int64_t nb, int64_t na, long serial)
{
  X509 *x = X509_new();
  X509_NAME *name = X509_NAME_new();
  if (!x || !name)
    goto err;
  if (X509_set_version(x, 2) != 1 ||
      ASN1_INTEGER_set(X509_get_serialNumber(x), serial) != 1 ||
      !ASN1_TIME_set(X509_getm_notBefore(x), (time_t)nb) ||
      !ASN1_TIME_set(X509_getm_notAfter(x), (time_t)na) ||
      X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 (const unsigned char *)cn, -1, -1,
                                 0) != 1 ||
      X509_set_subject_name(x, name) != 1 ||
      X509_set_issuer_name(x, name) != 1 ||
      X509_set_pubkey(x, subject_key) != 1 ||
      X509_sign(x, signer, EVP_sha256()) <= 0)
    goto err;
  X509_NAME_free(name);
  return x;
err:
  X509_NAME_free(name);
  X509_free(x);
  return NULL;
}

static chive_err_t
to_der(X509 *x, uint8_t **out, size_t *len)
{
  int n = i2d_X509(x, NULL);
  if (n <= 0)
    return CHIVE_ERR_CRYPTO;
  uint8_t *d = chive_malloc((size_t)n);
  if (!d)
    return CHIVE_ERR_NOMEM;
  uint8_t *p = d;
  if (i2d_X509(x, &p) != n) {
    chive_free(d);
    return CHIVE_ERR_CRYPTO;
  }
  *out = d;
  *len = (size_t)n;
  return CHIVE_OK;
}

/* see tls_testing.h */
chive_err_t
tls_testing_relay_new(const tls_testing_relay_opts_t *opts,
                      tls_testing_relay_t **out)
{
  tls_testing_relay_opts_t o;
  chive_err_t err = CHIVE_ERR_CRYPTO;
  EVP_PKEY *other = NULL;
  uint8_t *pk_der = NULL;

  memset(&o, 0, sizeof(o));
  if (opts)
    o = *opts;
  if (o.id_not_before == 0 && o.id_not_after == 0) {
    o.id_not_before = o.now - 86400;
    o.id_not_after = o.now + 365 * 86400;
  }
  if (o.link_not_before == 0 && o.link_not_after == 0) {
    o.link_not_before = o.now - 86400;
    o.link_not_after = o.now + 365 * 86400;
  }
  tls_testing_relay_t *r = chive_zalloc(sizeof(*r));
  if (!r)
    return CHIVE_ERR_NOMEM;
  r->id_key = EVP_RSA_gen(o.id_bits ? o.id_bits : 1024);
  r->link_key = EVP_EC_gen("P-256");
  if (!r->id_key || !r->link_key)
    goto done;
  EVP_PKEY *id_signer = r->id_key;
  if (o.bad_id_self_signature) {
    other = EVP_RSA_gen(1024);
    if (!other)
      goto done;
    id_signer = other;
  }
  r->id_cert = make_cert(r->id_key, id_signer, "www.testid.net",
                         o.id_not_before, o.id_not_after, 1);
  r->link_cert = make_cert(r->link_key, r->link_key, "www.testlink.com",
                           o.link_not_before, o.link_not_after, 2);
  if (!r->id_cert || !r->link_cert)
    goto done;
  if ((err = to_der(r->id_cert, &r->id_der, &r->id_der_len)) ||
      (err = to_der(r->link_cert, &r->link_der, &r->link_der_len)))
    goto done;
  int n = i2d_PublicKey(r->id_key, &pk_der);
  if (n <= 0) {
    err = CHIVE_ERR_CRYPTO;
    goto done;
  }
  crypto_sha1(pk_der, (size_t)n, r->rsa_id);
  err = CHIVE_OK;
done:
  OPENSSL_free(pk_der);
  EVP_PKEY_free(other);
  ERR_clear_error();
  if (err) {
    tls_testing_relay_free_(r);
    return err;
  }
  *out = r;
  return CHIVE_OK;
}

/* see tls_testing.h */
void
tls_testing_relay_free_(tls_testing_relay_t *r)
{
  if (!r)
    return;
  EVP_PKEY_free(r->id_key);
  EVP_PKEY_free(r->link_key);
  X509_free(r->id_cert);
  X509_free(r->link_cert);
  chive_free(r->id_der);
  chive_free(r->link_der);
  chive_free(r);
}

const uint8_t *
tls_testing_relay_id_cert(const tls_testing_relay_t *r, size_t *len_out)
{
  *len_out = r->id_der_len;
  return r->id_der;
}

const uint8_t *
tls_testing_relay_link_cert(const tls_testing_relay_t *r, size_t *len_out)
{
  *len_out = r->link_der_len;
  return r->link_der;
}

void
tls_testing_relay_rsa_id(const tls_testing_relay_t *r, uint8_t out[20])
{
  memcpy(out, r->rsa_id, 20);
}

/* see tls_testing.h */
chive_err_t
tls_testing_relay_rsa_sign(const tls_testing_relay_t *r, const uint8_t *data,
                           size_t len, uint8_t *sig, size_t sig_cap,
                           size_t *sig_len)
{
  chive_err_t err = CHIVE_ERR_CRYPTO;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(r->id_key, NULL);
  size_t n = sig_cap;
  if (ctx && EVP_PKEY_sign_init(ctx) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
      EVP_PKEY_sign(ctx, sig, &n, data, len) == 1) {
    *sig_len = n;
    err = CHIVE_OK;
  }
  EVP_PKEY_CTX_free(ctx);
  ERR_clear_error();
  return err;
}

/* see tls_testing.h */
chive_err_t
tls_testing_relay_server_new(const tls_testing_relay_t *r, tls_conn_t **out)
{
  return tls_openssl_server_new(r->link_cert, r->link_key, out);
}
