/**
 * @file rsa.h
 * @brief RSA public keys (PKCS#1), Tor-style RSA signature checks, and
 * the X.509 helpers the link handshake needs (tor-spec §4.2).
 *
 * A client never signs with RSA.  The small secret-key section at the end
 * exists so that tests and test fakes can make signatures, certificates
 * and cross-certificates to feed the verifying code.
 **/
#ifndef CHIVE_LIB_CRYPTO_RSA_H
#define CHIVE_LIB_CRYPTO_RSA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"

/** Smallest modulus accepted, bits (Tor identity keys are 1024). */
#define CRYPTO_RSA_MIN_BITS 1024u
/** Largest modulus accepted, bits (bounds the work a peer can cause). */
#define CRYPTO_RSA_MAX_BITS 8192u
/** Largest signature or modulus, bytes. */
#define CRYPTO_RSA_MAX_BYTES (CRYPTO_RSA_MAX_BITS / 8u)
/** Largest PKCS#1 RSAPublicKey DER we produce or accept, bytes. */
#define CRYPTO_RSA_PK_DER_MAX_LEN (CRYPTO_RSA_MAX_BYTES + 64u)
/** Largest X.509 certificate accepted, bytes (a CERTS cell entry is at
 * most 65535 bytes). */
#define CRYPTO_X509_MAX_LEN 65535u

typedef struct crypto_rsa_pk_t crypto_rsa_pk_t;

/** Parse a PEM "-----BEGIN RSA PUBLIC KEY-----" block (PKCS#1), as in Tor
 * directory documents.  <b>pem</b> need not be NUL-terminated; leading
 * and trailing whitespace is allowed, anything else is not.  Returns NULL
 * on malformed input, a modulus outside
 * [CRYPTO_RSA_MIN_BITS, CRYPTO_RSA_MAX_BITS], or allocation failure. */
crypto_rsa_pk_t *crypto_rsa_pk_from_pem(const char *pem, size_t len);

/** Parse exactly <b>len</b> bytes of DER PKCS#1 RSAPublicKey.  The
 * encoding must be canonical DER (it must re-encode to the same bytes, so
 * that fingerprints agree with everyone else's).  NULL on failure, as
 * above. */
crypto_rsa_pk_t *crypto_rsa_pk_from_der(const uint8_t *der, size_t len);

/** Parse an X.509 certificate (DER, exactly <b>len</b> bytes) and return
 * its subject RSA key (CERTS cell types 1, 2, 3).  NULL if the
 * certificate is malformed or its key is not an acceptable RSA key. */
crypto_rsa_pk_t *crypto_rsa_pk_from_x509_der(const uint8_t *der, size_t len);

/** Write the PKCS#1 DER encoding of <b>pk</b> to <b>out</b>.  Returns
 * CHIVE_ERR_LIMIT (writing nothing) if it needs more than
 * <b>out_max</b> bytes. */
CHIVE_MUST_CHECK chive_err_t crypto_rsa_pk_to_der(const crypto_rsa_pk_t *pk,
                                                  uint8_t *out, size_t out_max,
                                                  size_t *out_len);

/** SHA-1 of the PKCS#1 DER encoding (Tor's RSA identity digest). */
void crypto_rsa_pk_fingerprint(const crypto_rsa_pk_t *pk,
                               uint8_t out[DIGEST_LEN]);

/** Modulus size in bits. */
unsigned crypto_rsa_pk_bits(const crypto_rsa_pk_t *pk);

/** Return true iff the public exponent is 65537 (which Tor requires of
 * router keys). */
bool crypto_rsa_pk_exponent_is_65537(const crypto_rsa_pk_t *pk);

/** Return true iff <b>a</b> and <b>b</b> are the same key (not secret:
 * compares public encodings). */
bool crypto_rsa_pk_eq(const crypto_rsa_pk_t *a, const crypto_rsa_pk_t *b);

/** Return a new reference-independent copy of <b>pk</b>, or NULL. */
crypto_rsa_pk_t *crypto_rsa_pk_dup(const crypto_rsa_pk_t *pk);

/** Tor's RSA signature check (tor-spec §0.3, dir-spec §1.3): the
 * signature, opened with the public key, must hold PKCS#1 v1.5 type-1
 * padding around the raw digest bytes, with NO DigestInfo.  Returns
 * CHIVE_OK iff it decodes to exactly <b>digest</b> (digest_len bytes);
 * CHIVE_ERR_CRYPTO otherwise (bad padding, wrong length, wrong value,
 * sig_len 0 or longer than the modulus). */
CHIVE_MUST_CHECK chive_err_t crypto_rsa_verify_digest(
    const crypto_rsa_pk_t *pk, const uint8_t *sig, size_t sig_len,
    const uint8_t *digest, size_t digest_len);

void crypto_rsa_pk_free_(crypto_rsa_pk_t *pk);
#define crypto_rsa_pk_free(p) \
  CHIVE_FREE_AND_NULL(crypto_rsa_pk_t, crypto_rsa_pk_free_, (p))

/** Check the signature of the X.509 certificate <b>der</b> (exactly
 * <b>len</b> bytes) with <b>signer</b>, or with the certificate's own
 * subject key when <b>signer</b> is NULL (a self-signed certificate, like
 * the CERTS cell "ID" cert).  On CHIVE_OK, *<b>not_before_s</b> and
 * *<b>not_after_s</b> hold the validity period (seconds since the epoch);
 * the caller decides about expiry.  Returns CHIVE_ERR_PROTO if the
 * certificate is malformed (or lacks a validity time), CHIVE_ERR_CRYPTO if
 * the signature does not verify. */
CHIVE_MUST_CHECK chive_err_t crypto_x509_check_self_signed_rsa(
    const uint8_t *der, size_t len, const crypto_rsa_pk_t *signer,
    int64_t *not_before_s, int64_t *not_after_s);

/* ---- Secret keys: for tests, test fakes and tools only. ---------------
 * The client itself never signs with RSA. */
typedef struct crypto_rsa_sk_t crypto_rsa_sk_t;

/** Generate an RSA key with a <b>bits</b>-bit modulus and exponent 65537.
 * NULL on failure. */
crypto_rsa_sk_t *crypto_rsa_sk_generate(unsigned bits);
/** Return a new public-key object for <b>sk</b>, or NULL. */
crypto_rsa_pk_t *crypto_rsa_sk_get_pk(const crypto_rsa_sk_t *sk);
/** Make a Tor-style signature (PKCS#1 v1.5 type 1, no DigestInfo) of the
 * raw bytes <b>digest</b>, as crypto_rsa_verify_digest() checks.  Writes
 * the modulus size in bytes to *<b>sig_len</b>. */
CHIVE_MUST_CHECK chive_err_t crypto_rsa_sk_sign_digest(
    const crypto_rsa_sk_t *sk, const uint8_t *digest, size_t digest_len,
    uint8_t *sig, size_t sig_max, size_t *sig_len);
/** Build a DER X.509 v3 certificate for <b>subject</b>, signed with
 * <b>issuer</b> (sha256WithRSAEncryption), with commonNames
 * <b>subject_cn</b> / <b>issuer_cn</b> and the given validity period.
 * On success *<b>der_out</b> is a chive_malloc'd buffer the caller
 * frees. */
CHIVE_MUST_CHECK chive_err_t crypto_x509_make_rsa_cert(
    const crypto_rsa_pk_t *subject, const crypto_rsa_sk_t *issuer,
    const char *subject_cn, const char *issuer_cn, int64_t not_before_s,
    int64_t not_after_s, uint8_t **der_out, size_t *der_len);
/** Release <b>sk</b> (OpenSSL cleanses the private key). */
void crypto_rsa_sk_free_(crypto_rsa_sk_t *sk);
#define crypto_rsa_sk_free(p) \
  CHIVE_FREE_AND_NULL(crypto_rsa_sk_t, crypto_rsa_sk_free_, (p))

#endif /* !defined(CHIVE_LIB_CRYPTO_RSA_H) */
