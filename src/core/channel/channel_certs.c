/**
 * @file channel_certs.c
 * @brief CERTS cell verification for a non-authenticating initiator
 * (tor-spec §4.2; certificate formats in cert-spec §2.1-2.3).
 *
 * Pure: no I/O, no logging.  Compute everything in locals; write the
 * result only when every check has passed.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/channel/channel_certs.h"
#include "core/crypto/torcert.h"
#include "core/proto/link_cells.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rsa.h"
#include "lib/malloc/malloc.h"

/** Tor randomises the start of its X.509 certificates' validity, up to
 * two days into the future, so a strictly checked notBefore would reject
 * fresh relays; like tor, accept a notBefore up to this far ahead of our
 * clock.  notAfter is checked strictly ("not expired", tor-spec §4.2). */
#define CHANNEL_X509_NOT_BEFORE_SLOP_S (30 * 24 * 60 * 60)

#define FAIL(e, msg) \
  do {               \
    err = (e);       \
    why = (msg);     \
    goto done;       \
  } while (0)

/* see channel_certs.h */
chive_err_t
channel_certs_verify(const uint8_t *body, size_t body_len,
                     const uint8_t *tls_cert_der, size_t tls_cert_len,
                     int64_t now_s, channel_peer_ids_t *out,
                     const char **why_out)
{
  certs_cell_t cc;
  torcert_rsa_crosscert_t cross;
  torcert_t id_sign, sign_link;
  crypto_rsa_pk_t *rsa = NULL;
  uint8_t rsa_id[DIGEST_LEN];
  uint8_t tls_digest[DIGEST256_LEN];
  int64_t nb = 0, na = 0, expires;
  chive_err_t err = CHIVE_OK;
  const char *why = NULL;

  if (!tls_cert_der || tls_cert_len == 0)
    FAIL(CHIVE_ERR_PROTO, "no TLS peer certificate");

  /* Parse the cell. */
  chive_err_t perr = certs_cell_parse(body, body_len, &cc);
  if (perr == CHIVE_ERR_LIMIT)
    FAIL(CHIVE_ERR_PROTO, "CERTS cell too large or has too many certs");
  if (perr)
    FAIL(CHIVE_ERR_PROTO, "malformed CERTS cell");

  /* "A CERTS cell may have no more than one certificate of each
   * CertType." */
  if (certs_cell_has_duplicates(&cc))
    FAIL(CHIVE_ERR_PROTO, "duplicate certificate type in CERTS cell");

  const certs_cell_cert_t *c_id = certs_cell_find(&cc, CERTTYPE_RSA1024_ID);
  const certs_cell_cert_t *c_4 = certs_cell_find(&cc, CERTTYPE_ED_ID_SIGN);
  const certs_cell_cert_t *c_5 = certs_cell_find(&cc, CERTTYPE_ED_SIGN_LINK);
  const certs_cell_cert_t *c_7 =
      certs_cell_find(&cc, CERTTYPE_RSA_ED_CROSSCERT);
  if (!c_id)
    FAIL(CHIVE_ERR_PROTO, "missing RSA identity certificate (type 2)");
  if (!c_4 || !c_5 || !c_7)
    FAIL(CHIVE_ERR_PROTO, "missing Ed25519 certificate (type 4, 5 or 7)");

  /* The ID certificate: a correctly self-signed X.509 certificate for a
   * 1024-bit RSA key, with validAfter/validUntil covering now. */
  rsa = crypto_rsa_pk_from_x509_der(c_id->body, c_id->len);
  if (!rsa)
    FAIL(CHIVE_ERR_PROTO, "unparseable RSA identity certificate");
  if (crypto_rsa_pk_bits(rsa) != CHANNEL_RSA_ID_BITS)
    FAIL(CHIVE_ERR_PROTO, "RSA identity key is not 1024 bits");
  err = crypto_x509_check_self_signed_rsa(c_id->body, c_id->len, NULL, &nb,
                                          &na);
  if (err == CHIVE_ERR_NOMEM)
    FAIL(err, "out of memory");
  if (err == CHIVE_ERR_CRYPTO)
    FAIL(CHIVE_ERR_CRYPTO, "RSA identity certificate is not self-signed");
  if (err)
    FAIL(CHIVE_ERR_PROTO, "malformed RSA identity certificate");
  if (now_s < nb - CHANNEL_X509_NOT_BEFORE_SLOP_S)
    FAIL(CHIVE_ERR_EXPIRED, "RSA identity certificate not yet valid");
  if (now_s > na)
    FAIL(CHIVE_ERR_EXPIRED, "RSA identity certificate expired");
  expires = na;

  crypto_rsa_pk_fingerprint(rsa, rsa_id);

  /* RSA->Ed25519 cross-certificate (cert-spec §2.3): signed with the RSA
   * identity listed in the ID certificate. */
  if (torcert_rsa_crosscert_parse(&cross, c_7->body, c_7->len) != CHIVE_OK)
    FAIL(CHIVE_ERR_PROTO, "malformed RSA->Ed25519 cross-certificate");
  err = torcert_rsa_crosscert_check(&cross, rsa, now_s);
  if (err == CHIVE_ERR_EXPIRED)
    FAIL(err, "RSA->Ed25519 cross-certificate expired");
  if (err)
    FAIL(CHIVE_ERR_CRYPTO, "bad RSA->Ed25519 cross-certificate signature");
  if (torcert_rsa_crosscert_expiry_s(&cross) < expires)
    expires = torcert_rsa_crosscert_expiry_s(&cross);

  /* Ed25519 identity -> signing key (type 4): lists the identity key in
   * its signed-with-ed25519-key extension and is signed by it. */
  if (torcert_parse(&id_sign, c_4->body, c_4->len) != CHIVE_OK ||
      id_sign.cert_type != TORCERT_TYPE_ID_SIGNING ||
      id_sign.key_type != TORCERT_KEYTYPE_ED25519)
    FAIL(CHIVE_ERR_PROTO, "malformed identity->signing certificate");
  if (!id_sign.has_signing_key)
    FAIL(CHIVE_ERR_PROTO, "identity->signing certificate lacks the "
                          "identity key extension");
  if (!fast_memeq(id_sign.signing_key, cross.ed_key, CHANNEL_ED_ID_LEN))
    FAIL(CHIVE_ERR_CRYPTO, "cross-certificate certifies a different "
                           "Ed25519 identity");
  err = torcert_check(&id_sign, cross.ed_key, now_s);
  if (err == CHIVE_ERR_EXPIRED)
    FAIL(err, "identity->signing certificate expired");
  if (err)
    FAIL(CHIVE_ERR_CRYPTO, "bad identity->signing certificate signature");
  if (torcert_expiry_s(&id_sign) < expires)
    expires = torcert_expiry_s(&id_sign);

  /* Signing key -> TLS link certificate (type 5): signed with the signing
   * key, certifying SHA-256 of the certificate TLS actually presented.
   * Key type 03 per cert-spec A.4, or the legacy 01. */
  if (torcert_parse(&sign_link, c_5->body, c_5->len) != CHIVE_OK ||
      sign_link.cert_type != TORCERT_TYPE_SIGNING_LINK ||
      (sign_link.key_type != TORCERT_KEYTYPE_SHA256_X509 &&
       sign_link.key_type != TORCERT_KEYTYPE_ED25519))
    FAIL(CHIVE_ERR_PROTO, "malformed signing->link certificate");
  err = torcert_check(&sign_link, id_sign.certified_key, now_s);
  if (err == CHIVE_ERR_EXPIRED)
    FAIL(err, "signing->link certificate expired");
  if (err)
    FAIL(CHIVE_ERR_CRYPTO, "bad signing->link certificate signature");
  if (torcert_expiry_s(&sign_link) < expires)
    expires = torcert_expiry_s(&sign_link);
  crypto_sha256(tls_cert_der, tls_cert_len, tls_digest);
  if (!fast_memeq(tls_digest, sign_link.certified_key, DIGEST256_LEN))
    FAIL(CHIVE_ERR_CRYPTO, "link certificate does not match the TLS "
                           "certificate");

  /* Every check passed: commit. */
  memcpy(out->rsa_id, rsa_id, CHANNEL_RSA_ID_LEN);
  memcpy(out->ed_id, cross.ed_key, CHANNEL_ED_ID_LEN);
  memcpy(out->ed_signing_key, id_sign.certified_key, CHANNEL_ED_ID_LEN);
  out->certs_expire_s = expires;
  err = CHIVE_OK;
done:
  crypto_rsa_pk_free(rsa);
  if (err && why_out)
    *why_out = why;
  return err;
}

/* see channel_certs.h */
const char *
channel_ids_mismatch(const channel_peer_ids_t *ids,
                     const channel_expected_id_t *expect)
{
  /* Identities are public: no need for a constant-time comparison. */
  if (!fast_memeq(ids->rsa_id, expect->rsa_id, CHANNEL_RSA_ID_LEN))
    return "RSA identity is not the one we expected";
  if (expect->has_ed_id &&
      !fast_memeq(ids->ed_id, expect->ed_id, CHANNEL_ED_ID_LEN))
    return "Ed25519 identity is not the one we expected";
  return NULL;
}
