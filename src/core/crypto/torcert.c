/**
 * @file torcert.c
 * @brief Ed25519 certificates and RSA->Ed25519 cross-certificates
 * (cert-spec §2), parse, check and encode.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/crypto/torcert.h"
#include "lib/bytes/bytes.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"

chive_err_t
torcert_parse(torcert_t *out, const uint8_t *p, size_t len)
{
  torcert_t c;
  memset(&c, 0, sizeof(c));
  if (len > TORCERT_MAX_LEN)
    return CHIVE_ERR_LIMIT;
  if (len < TORCERT_MIN_LEN)
    return CHIVE_ERR_TRUNCATED;
  rd_t r = rd_init(p, len);

  /* cert-spec §2.1 */
  uint8_t version = rd_u8(&r);
  c.cert_type = rd_u8(&r);
  c.exp_hours = rd_u32(&r);
  c.key_type = rd_u8(&r);
  rd_copy(&r, c.certified_key, sizeof(c.certified_key));
  c.n_extensions = rd_u8(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;
  if (version != TORCERT_VERSION)
    return CHIVE_ERR_PROTO;

  for (unsigned i = 0; i < c.n_extensions; i++) {
    uint16_t ext_len = rd_u16(&r);
    uint8_t ext_type = rd_u8(&r);
    uint8_t ext_flags = rd_u8(&r);
    /* "It is an error for an extension to be truncated." */
    rd_t ext = rd_sub(&r, ext_len);
    if (!rd_ok(&r))
      return CHIVE_ERR_TRUNCATED;
    if (ext_type == TORCERT_EXT_SIGNED_WITH_KEY) {
      /* §2.2.1: ExtLength = 32.  A second copy is ambiguous: refuse. */
      if (ext_len != ED25519_PUBKEY_LEN || c.has_signing_key)
        return CHIVE_ERR_PROTO;
      rd_copy(&ext, c.signing_key, sizeof(c.signing_key));
      if (!rd_done(&ext))
        return CHIVE_ERR_PROTO;
      c.has_signing_key = true;
    } else if (ext_flags & TORCERT_EXT_FLAG_AFFECTS_VALIDATION) {
      /* §2.1: we do not understand it, so the cert cannot be valid. */
      return CHIVE_ERR_PROTO;
    }
    /* Other unknown extensions are ignored (their bytes stay signed). */
  }

  size_t left = rd_left(&r);
  if (left < ED25519_SIG_LEN)
    return CHIVE_ERR_TRUNCATED;
  if (left > ED25519_SIG_LEN)
    return CHIVE_ERR_PROTO;
  c.signed_part = p;
  c.signed_len = len - ED25519_SIG_LEN;
  rd_copy(&r, c.signature, sizeof(c.signature));
  if (!rd_done(&r))
    return CHIVE_ERR_TRUNCATED;
  *out = c;
  return CHIVE_OK;
}

int64_t
torcert_expiry_s(const torcert_t *cert)
{
  return (int64_t)cert->exp_hours * 3600;
}

chive_err_t
torcert_check(const torcert_t *cert,
              const uint8_t signing_pk[ED25519_PUBKEY_LEN], int64_t now_s)
{
  const uint8_t *key;
  if (signing_pk) {
    /* §2.2.1: "When this extension is present, it MUST match the key
     * used to sign the certificate."  Public data. */
    if (cert->has_signing_key &&
        !fast_memeq(cert->signing_key, signing_pk, ED25519_PUBKEY_LEN))
      return CHIVE_ERR_CRYPTO;
    key = signing_pk;
  } else if (cert->has_signing_key) {
    key = cert->signing_key;
  } else {
    return CHIVE_ERR_PROTO;
  }
  if (crypto_ed25519_verify(key, cert->signed_part, cert->signed_len,
                            cert->signature) != CHIVE_OK)
    return CHIVE_ERR_CRYPTO;
  if (now_s > torcert_expiry_s(cert))
    return CHIVE_ERR_EXPIRED;
  return CHIVE_OK;
}

chive_err_t
torcert_encode_signed(uint8_t *out, size_t out_max, size_t *out_len,
                      uint8_t cert_type, uint8_t key_type,
                      const uint8_t certified_key[32], uint32_t exp_hours,
                      const crypto_ed25519_keypair_t *signer,
                      bool include_signing_key)
{
  wr_t w = wr_init(out, out_max);
  wr_u8(&w, TORCERT_VERSION);
  wr_u8(&w, cert_type);
  wr_u32(&w, exp_hours);
  wr_u8(&w, key_type);
  wr_bytes(&w, certified_key, 32);
  wr_u8(&w, include_signing_key ? 1 : 0);
  if (include_signing_key) {
    wr_u16(&w, ED25519_PUBKEY_LEN);
    wr_u8(&w, TORCERT_EXT_SIGNED_WITH_KEY);
    wr_u8(&w, 0);
    wr_bytes(&w, signer->pubkey, ED25519_PUBKEY_LEN);
  }
  size_t body_len = wr_used(&w);
  uint8_t *sig = wr_reserve(&w, ED25519_SIG_LEN);
  if (!wr_ok(&w) || !sig)
    return CHIVE_ERR_LIMIT;
  crypto_ed25519_sign(sig, out, body_len, signer);
  *out_len = wr_used(&w);
  return CHIVE_OK;
}

/* ---- RSA->Ed25519 cross-certificate ----------------------------------- */

chive_err_t
torcert_rsa_crosscert_parse(torcert_rsa_crosscert_t *out, const uint8_t *p,
                            size_t len)
{
  torcert_rsa_crosscert_t c;
  memset(&c, 0, sizeof(c));
  rd_t r = rd_init(p, len);
  /* cert-spec §2.3 */
  rd_copy(&r, c.ed_key, sizeof(c.ed_key));
  c.exp_hours = rd_u32(&r);
  c.sig_len = rd_u8(&r);
  rd_copy(&r, c.sig, c.sig_len);
  if (!rd_ok(&r))
    return CHIVE_ERR_TRUNCATED;
  if (!rd_done(&r))
    return CHIVE_ERR_PROTO;
  *out = c;
  return CHIVE_OK;
}

/** SHA256(prefix | ED25519_KEY | EXPIRATION_DATE): what the RSA key
 * signs (cert-spec §2.3; SIGLEN is not covered). */
static void
crosscert_digest(const uint8_t ed_key[ED25519_PUBKEY_LEN], uint32_t exp_hours,
                 uint8_t out[DIGEST256_LEN])
{
  static const char prefix[] = TORCERT_RSA_CROSSCERT_PREFIX;
  uint8_t buf[sizeof(prefix) - 1 + TORCERT_RSA_CROSSCERT_BODY_LEN];
  memcpy(buf, prefix, sizeof(prefix) - 1);
  memcpy(buf + sizeof(prefix) - 1, ed_key, ED25519_PUBKEY_LEN);
  store_u32(buf + sizeof(prefix) - 1 + ED25519_PUBKEY_LEN, exp_hours);
  crypto_sha256(buf, sizeof(buf), out);
}

int64_t
torcert_rsa_crosscert_expiry_s(const torcert_rsa_crosscert_t *cc)
{
  return (int64_t)cc->exp_hours * 3600;
}

chive_err_t
torcert_rsa_crosscert_check(const torcert_rsa_crosscert_t *cc,
                            const crypto_rsa_pk_t *rsa_id, int64_t now_s)
{
  uint8_t d[DIGEST256_LEN];
  crosscert_digest(cc->ed_key, cc->exp_hours, d);
  if (crypto_rsa_verify_digest(rsa_id, cc->sig, cc->sig_len, d, sizeof(d)) !=
      CHIVE_OK)
    return CHIVE_ERR_CRYPTO;
  if (now_s > torcert_rsa_crosscert_expiry_s(cc))
    return CHIVE_ERR_EXPIRED;
  return CHIVE_OK;
}

chive_err_t
torcert_rsa_crosscert_encode_signed(uint8_t *out, size_t out_max,
                                    size_t *out_len,
                                    const uint8_t ed_key[ED25519_PUBKEY_LEN],
                                    uint32_t exp_hours,
                                    const crypto_rsa_sk_t *sk)
{
  uint8_t d[DIGEST256_LEN];
  uint8_t sig[CRYPTO_RSA_MAX_BYTES];
  size_t sig_len = 0;
  chive_err_t err;
  crosscert_digest(ed_key, exp_hours, d);
  err =
      crypto_rsa_sk_sign_digest(sk, d, sizeof(d), sig, sizeof(sig), &sig_len);
  if (err)
    return err;
  if (sig_len > TORCERT_RSA_CROSSCERT_MAX_SIG_LEN)
    return CHIVE_ERR_LIMIT; /* SIGLEN is one byte: RSA <= 2040 bits */
  wr_t w = wr_init(out, out_max);
  wr_bytes(&w, ed_key, ED25519_PUBKEY_LEN);
  wr_u32(&w, exp_hours);
  wr_u8(&w, (uint8_t)sig_len);
  wr_bytes(&w, sig, sig_len);
  if (!wr_ok(&w))
    return CHIVE_ERR_LIMIT;
  *out_len = wr_used(&w);
  return CHIVE_OK;
}
