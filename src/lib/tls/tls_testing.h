/**
 * @file tls_testing.h
 * @brief TEST ONLY: key and certificate material for fake Tor relays, and
 * a server-side TLS engine presenting it.
 *
 * Tests may not include OpenSSL headers, so the parts of a fake relay
 * that need OpenSSL live here: an RSA identity key with its self-signed
 * X.509 "ID" certificate (CERTS type 2), a TLS link key with its X.509
 * certificate (the one presented in the TLS handshake, whose SHA-256 the
 * Ed25519 type-5 certificate binds), raw RSA signing with the identity
 * key (for the type-7 RSA->Ed25519 cross-certificate), and a TLS server
 * engine.  Never used by library code.
 **/
#ifndef CHIVE_LIB_TLS_TLS_TESTING_H
#define CHIVE_LIB_TLS_TLS_TESTING_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"
#include "lib/tls/tls.h"

typedef struct tls_testing_relay_t tls_testing_relay_t;

/** Options; zero-initialise.  Times are seconds since the epoch; a zero
 * window means [now - 1 day, now + 1 year]. */
typedef struct tls_testing_relay_opts_t {
  int64_t now;
  int64_t id_not_before;
  int64_t id_not_after;
  int64_t link_not_before;
  int64_t link_not_after;
  unsigned id_bits; /**< RSA identity size; 0 means 1024 */
  /** If nonzero, sign the ID certificate with a different key, so its
   * self-signature is invalid. */
  int bad_id_self_signature;
} tls_testing_relay_opts_t;

/** Generate a relay's keys and certificates.  Slow-ish (RSA keygen). */
CHIVE_MUST_CHECK chive_err_t tls_testing_relay_new(
    const tls_testing_relay_opts_t *opts, tls_testing_relay_t **out);
void tls_testing_relay_free_(tls_testing_relay_t *r);
#define tls_testing_relay_free(r) \
  CHIVE_FREE_AND_NULL(tls_testing_relay_t, tls_testing_relay_free_, (r))

/** The DER of the self-signed RSA identity certificate (borrowed). */
const uint8_t *tls_testing_relay_id_cert(const tls_testing_relay_t *r,
                                         size_t *len_out);
/** The DER of the TLS link certificate (borrowed). */
const uint8_t *tls_testing_relay_link_cert(const tls_testing_relay_t *r,
                                           size_t *len_out);
/** SHA-1 of the identity key's PKCS#1 DER: the relay fingerprint. */
void tls_testing_relay_rsa_id(const tls_testing_relay_t *r,
                              uint8_t out[20]);

/** Sign <b>len</b> bytes with the RSA identity key, tor-style (PKCS#1
 * v1.5 padding, no DigestInfo).  *<b>sig_len</b> gets the length. */
CHIVE_MUST_CHECK chive_err_t tls_testing_relay_rsa_sign(
    const tls_testing_relay_t *r, const uint8_t *data, size_t len,
    uint8_t *sig, size_t sig_cap, size_t *sig_len);

/** A server-side TLS engine presenting the link certificate. */
CHIVE_MUST_CHECK chive_err_t tls_testing_relay_server_new(
    const tls_testing_relay_t *r, tls_conn_t **out);

#endif /* !defined(CHIVE_LIB_TLS_TLS_TESTING_H) */
