/**
 * @file channel_certs.h
 * @brief Verify a relay's CERTS cell as an initiator that does not
 * authenticate itself (tor-spec §4.2, "To authenticate the responder as
 * having a given Ed25519,RSA identity key combination").
 *
 * Pure function of its inputs: the CERTS cell body, the DER of the
 * certificate the TLS layer actually saw, the identity we meant to reach,
 * and the wall-clock time.  No I/O, no logging; on failure it returns a
 * static reason string for the caller to log.
 **/
#ifndef CHIVE_CORE_CHANNEL_CHANNEL_CERTS_H
#define CHIVE_CORE_CHANNEL_CHANNEL_CERTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** RSA identity digest (SHA-1 of the PKCS#1 key), bytes. */
#define CHANNEL_RSA_ID_LEN 20
/** Ed25519 identity key, bytes. */
#define CHANNEL_ED_ID_LEN 32
/** Modulus size an RSA identity key must have (tor-spec §4.2). */
#define CHANNEL_RSA_ID_BITS 1024

/** Who we expect at the other end. */
typedef struct channel_expected_id_t {
  uint8_t rsa_id[CHANNEL_RSA_ID_LEN]; /**< required */
  bool has_ed_id;                     /**< also check the Ed25519 id? */
  uint8_t ed_id[CHANNEL_ED_ID_LEN];
} channel_expected_id_t;

/** What a successful verification proved. */
typedef struct channel_peer_ids_t {
  uint8_t rsa_id[CHANNEL_RSA_ID_LEN]; /**< SHA-1 of the RSA identity key */
  uint8_t ed_id[CHANNEL_ED_ID_LEN];   /**< Ed25519 identity key */
  uint8_t ed_signing_key[CHANNEL_ED_ID_LEN]; /**< medium-term signing key */
  /** Earliest expiry among all certificates checked (seconds since the
   * epoch): the channel's authentication is good until then. */
  int64_t certs_expire_s;
} channel_peer_ids_t;

/** Verify the CERTS cell body <b>body</b> (<b>body_len</b> bytes) against
 * the TLS peer certificate <b>tls_cert_der</b> and the time <b>now_s</b>
 * (tor-spec §4.2), proving which identities the peer holds:
 *   - no certificate type appears twice;
 *   - exactly one each of types 2 (RSA ID), 4 (Ed ID->signing),
 *     5 (signing->TLS link) and 7 (RSA->Ed cross-cert);
 *   - the ID cert is a correctly self-signed X.509 certificate, currently
 *     valid, certifying a 1024-bit RSA key;
 *   - the cross-cert is signed by that RSA key and not expired; it names
 *     the Ed25519 identity;
 *   - the type-4 cert carries that identity in its signed-with-key
 *     extension, is signed by it, and is not expired;
 *   - the type-5 cert is signed by the key certified in type 4, is not
 *     expired, and certifies SHA-256(tls_cert_der).
 * On success fill *<b>out</b> and return CHIVE_OK; the caller then checks
 * that these are the identities it wanted (channel_ids_match()).
 * Otherwise return CHIVE_ERR_PROTO (malformed, missing or duplicate
 * certificates, wrong types), CHIVE_ERR_CRYPTO (a signature or binding
 * fails),
 * CHIVE_ERR_EXPIRED (a certificate is outside its validity) or
 * CHIVE_ERR_NOMEM, and set *<b>why_out</b> (if not NULL) to a static
 * description.  *out is untouched on failure. */
CHIVE_MUST_CHECK chive_err_t channel_certs_verify(
    const uint8_t *body, size_t body_len, const uint8_t *tls_cert_der,
    size_t tls_cert_len, int64_t now_s, channel_peer_ids_t *out,
    const char **why_out);

/** Return NULL if the verified <b>ids</b> satisfy <b>expect</b> (the RSA
 * identity always; the Ed25519 identity if expect->has_ed_id), else a
 * static description of the mismatch.  "In all handshake variants, once
 * all certificates are exchanged, all parties receiving certificates must
 * confirm that the identity key is as expected" (tor-spec §2). */
const char *channel_ids_mismatch(const channel_peer_ids_t *ids,
                                 const channel_expected_id_t *expect);

#endif /* !defined(CHIVE_CORE_CHANNEL_CHANNEL_CERTS_H) */
