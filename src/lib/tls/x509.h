/**
 * @file x509.h
 * @brief The few X.509 operations Tor's link handshake needs: parse DER,
 * read the validity window, check a signature by an issuer, and get an
 * RSA public key (PKCS#1 DER, whose SHA-1 is the relay fingerprint).
 *
 * Backed by OpenSSL; the X.509 structure is opaque so no OpenSSL type
 * leaks out of lib/tls.  Inputs are untrusted bytes from the peer:
 * tls_x509_parse() rejects trailing garbage and oversize input.
 **/
#ifndef CHIVE_LIB_TLS_X509_H
#define CHIVE_LIB_TLS_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

typedef struct tls_x509_t tls_x509_t;

/** Largest certificate we parse, bytes.  Tor's are well under 1 KB. */
#define TLS_X509_MAX_DER_LEN 8192
/** Largest RSA key (bits) whose signatures we check, bounding work a
 * peer can make us do. */
#define TLS_X509_MAX_RSA_BITS 8192

/** Parse exactly <b>len</b> bytes of DER.  On success set *<b>out</b>
 * (free with tls_x509_free()).  CHIVE_ERR_PROTO on malformed input or
 * trailing bytes, CHIVE_ERR_LIMIT if too large, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t tls_x509_parse(const uint8_t *der, size_t len,
                                            tls_x509_t **out);
void tls_x509_free_(tls_x509_t *c);
#define tls_x509_free(c) CHIVE_FREE_AND_NULL(tls_x509_t, tls_x509_free_, (c))

/** Set *<b>not_before</b> and *<b>not_after</b> to the validity window in
 * seconds since the Unix epoch.  CHIVE_ERR_PROTO if a date is missing or
 * unreadable. */
CHIVE_MUST_CHECK chive_err_t tls_x509_validity(const tls_x509_t *c,
                                               int64_t *not_before,
                                               int64_t *not_after);

/** Return CHIVE_OK iff <b>c</b>'s signature verifies under the public key
 * of <b>issuer</b> (pass c itself to check a self-signature);
 * CHIVE_ERR_CRYPTO otherwise. */
CHIVE_MUST_CHECK chive_err_t tls_x509_check_signed_by(
    const tls_x509_t *c, const tls_x509_t *issuer);

/** Return the modulus size in bits if <b>c</b> certifies an RSA key, or
 * 0 for any other key type. */
unsigned tls_x509_rsa_bits(const tls_x509_t *c);

/** Encode the certified RSA public key as PKCS#1 RSAPublicKey DER (the
 * form whose SHA-1 is a Tor relay's identity fingerprint, tor-spec §0.3).
 * On success set *<b>der_out</b> (caller frees with chive_free()) and
 * *<b>len_out</b>.  CHIVE_ERR_INVAL if the key is not RSA. */
CHIVE_MUST_CHECK chive_err_t tls_x509_rsa_pubkey_der(const tls_x509_t *c,
                                                     uint8_t **der_out,
                                                     size_t *len_out);

/** Tor-style RSA signature check (tor-spec §0.3: PKCS#1 v1.5 padding,
 * no DigestInfo): return CHIVE_OK iff the <b>sig_len</b>-byte signature
 * <b>sig</b>, opened with the RSA key certified by <b>c</b>, recovers
 * exactly the <b>expected_len</b> bytes at <b>expected</b>.
 * CHIVE_ERR_CRYPTO otherwise, CHIVE_ERR_INVAL if the key is not RSA. */
CHIVE_MUST_CHECK chive_err_t tls_x509_rsa_check_raw_sig(
    const tls_x509_t *c, const uint8_t *sig, size_t sig_len,
    const uint8_t *expected, size_t expected_len);

#endif /* !defined(CHIVE_LIB_TLS_X509_H) */
