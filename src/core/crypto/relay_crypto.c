/**
 * @file relay_crypto.c
 * @brief Origin-side layered relay-cell crypto (tor-spec §5.5, §6.1).
 *
 * Each hop holds two AES-128-CTR streams (Kf outbound, Kb inbound) that
 * continue across cells, and two running SHA-1 digests seeded with Df and
 * Db.  The backward digest is only advanced for a cell the hop
 * recognizes: the candidate update is computed in a scratch copy and
 * committed by swapping the two objects (tor-spec §6.1: "if 'recognized'
 * is zero but the digest does not match, the running digest at that node
 * should not be updated").
 **/
#include "core/crypto/relay_crypto.h"

#include <string.h>

#include "lib/err/err.h"

/* see relay_crypto.h */
void
relay_keys_from_material(relay_keys_t *out,
                         const uint8_t material[RELAY_KEY_MATERIAL_LEN])
{
  size_t off = 0;
  memcpy(out->df, material + off, sizeof(out->df));
  off += sizeof(out->df);
  memcpy(out->db, material + off, sizeof(out->db));
  off += sizeof(out->db);
  memcpy(out->kf, material + off, sizeof(out->kf));
  off += sizeof(out->kf);
  memcpy(out->kb, material + off, sizeof(out->kb));
}

/* see relay_crypto.h */
void
relay_keys_clear(relay_keys_t *keys)
{
  if (keys)
    chive_memwipe(keys, sizeof(*keys));
}

/* see relay_crypto.h */
chive_err_t
relay_crypto_init(relay_crypto_t *rc, const relay_keys_t *keys)
{
  relay_crypto_t tmp;
  chive_err_t err = CHIVE_ERR_NOMEM;

  if (BUG(rc == NULL || keys == NULL))
    return CHIVE_ERR_INVAL;
  memset(&tmp, 0, sizeof(tmp));

  /* tor-spec §5.5 / §0.3: AES-128 in counter mode, IV of all zero bytes. */
  tmp.f_cipher = crypto_cipher_new(keys->kf, sizeof(keys->kf), NULL);
  tmp.b_cipher = crypto_cipher_new(keys->kb, sizeof(keys->kb), NULL);
  /* tor-spec §6.1: running digests "seeded from Df or Db". */
  tmp.f_digest = crypto_digest_new(DIGEST_ALG_SHA1);
  tmp.b_digest = crypto_digest_new(DIGEST_ALG_SHA1);
  tmp.b_digest_tmp = crypto_digest_new(DIGEST_ALG_SHA1);
  if (!tmp.f_cipher || !tmp.b_cipher || !tmp.f_digest || !tmp.b_digest ||
      !tmp.b_digest_tmp)
    goto done;
  crypto_digest_add(tmp.f_digest, keys->df, sizeof(keys->df));
  crypto_digest_add(tmp.b_digest, keys->db, sizeof(keys->db));

  *rc = tmp;
  memset(&tmp, 0, sizeof(tmp));
  err = CHIVE_OK;
done:
  relay_crypto_clear(&tmp);
  if (err != CHIVE_OK)
    memset(rc, 0, sizeof(*rc));
  return err;
}

/* see relay_crypto.h */
void
relay_crypto_clear(relay_crypto_t *rc)
{
  if (!rc)
    return;
  crypto_cipher_free(rc->f_cipher);
  crypto_cipher_free(rc->b_cipher);
  crypto_digest_free(rc->f_digest);
  crypto_digest_free(rc->b_digest);
  crypto_digest_free(rc->b_digest_tmp);
  chive_memwipe(rc, sizeof(*rc));
}

/** Return true iff <b>rc</b> has all its objects. */
static bool
relay_crypto_is_ready(const relay_crypto_t *rc)
{
  return rc && rc->f_cipher && rc->b_cipher && rc->f_digest && rc->b_digest &&
         rc->b_digest_tmp;
}

/** Return true iff every one of the <b>n_hops</b> hops is ready. */
static bool
hops_are_ready(relay_crypto_t *const *hops, size_t n_hops)
{
  if (!hops)
    return false;
  for (size_t i = 0; i < n_hops; i++) {
    if (!relay_crypto_is_ready(hops[i]))
      return false;
  }
  return true;
}

/* see relay_crypto.h */
chive_err_t
relay_crypto_encrypt_outbound(relay_crypto_t *const *hops, size_t n_hops,
                              size_t target_hop,
                              uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN])
{
  uint8_t full[RELAY_CRYPTO_SENDME_DIGEST_LEN];

  if (BUG(payload == NULL || target_hop >= n_hops ||
          !hops_are_ready(hops, n_hops)))
    return CHIVE_ERR_INVAL;
  relay_crypto_t *target = hops[target_hop];

  /* tor-spec §6.1: "When sending cells, the unencrypted 'recognized' MUST
   * be set to zero."  The digest covers the whole payload, padding
   * included, taken with the digest field set to zero. */
  memset(payload + RELAY_CRYPTO_OFFSET_RECOGNIZED, 0,
         RELAY_CRYPTO_RECOGNIZED_LEN);
  memset(payload + RELAY_CRYPTO_OFFSET_DIGEST, 0,
         RELAY_CRYPTO_DIGEST_FIELD_LEN);
  crypto_digest_add(target->f_digest, payload, RELAY_CRYPTO_PAYLOAD_LEN);
  crypto_digest_peek(target->f_digest, full, sizeof(full));
  memcpy(payload + RELAY_CRYPTO_OFFSET_DIGEST, full,
         RELAY_CRYPTO_DIGEST_FIELD_LEN);
  memcpy(target->last_sent_digest, full, sizeof(full));
  target->have_sent = true;

  /* tor-spec §5.5.2.1: "For I=N...1, where N is the destination node:
   * Encrypt with Kf_I." */
  for (size_t i = target_hop + 1; i-- > 0;)
    crypto_cipher_crypt_inplace(hops[i]->f_cipher, payload,
                                RELAY_CRYPTO_PAYLOAD_LEN);

  chive_memwipe(full, sizeof(full));
  return CHIVE_OK;
}

/** tor-spec §6.1: having removed <b>hop</b>'s layer from <b>payload</b>,
 * decide whether the cell is recognized at this hop.  If it is, commit
 * the hop's backward digest and record its full value; otherwise change
 * nothing.  <b>payload</b> is unchanged either way. */
static bool
hop_recognizes(relay_crypto_t *hop, uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN])
{
  static const uint8_t zeros[RELAY_CRYPTO_DIGEST_FIELD_LEN] = {0};
  uint8_t received[RELAY_CRYPTO_DIGEST_FIELD_LEN];
  uint8_t full[RELAY_CRYPTO_SENDME_DIGEST_LEN];
  bool ok = false;

  /* 'recognized' is a cheap filter; it is not secret, so a plain
   * comparison is fine. */
  if (payload[RELAY_CRYPTO_OFFSET_RECOGNIZED] != 0 ||
      payload[RELAY_CRYPTO_OFFSET_RECOGNIZED + 1] != 0)
    return false;

  memcpy(received, payload + RELAY_CRYPTO_OFFSET_DIGEST, sizeof(received));
  memcpy(payload + RELAY_CRYPTO_OFFSET_DIGEST, zeros, sizeof(zeros));
  /* Work on a scratch copy: the real digest moves only on a match. */
  crypto_digest_assign(hop->b_digest_tmp, hop->b_digest);
  crypto_digest_add(hop->b_digest_tmp, payload, RELAY_CRYPTO_PAYLOAD_LEN);
  crypto_digest_peek(hop->b_digest_tmp, full, sizeof(full));
  memcpy(payload + RELAY_CRYPTO_OFFSET_DIGEST, received, sizeof(received));

  if (chive_memeq_ct(full, received, sizeof(received))) {
    /* Commit: the scratch copy becomes the running digest. */
    crypto_digest_t *swap = hop->b_digest;
    hop->b_digest = hop->b_digest_tmp;
    hop->b_digest_tmp = swap;
    memcpy(hop->last_recv_digest, full, sizeof(full));
    hop->have_recv = true;
    ok = true;
  }
  chive_memwipe(full, sizeof(full));
  return ok;
}

/* see relay_crypto.h */
chive_err_t
relay_crypto_decrypt_inbound(relay_crypto_t *const *hops, size_t n_hops,
                             uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN],
                             size_t *hop_out)
{
  if (BUG(payload == NULL || hop_out == NULL || n_hops == 0 ||
          !hops_are_ready(hops, n_hops)))
    return CHIVE_ERR_INVAL;

  /* tor-spec §5.5.4: "For I=1...N ... Decrypt with Kb_I.  If the payload
   * is recognized ... The sending node is I." */
  for (size_t i = 0; i < n_hops; i++) {
    crypto_cipher_crypt_inplace(hops[i]->b_cipher, payload,
                                RELAY_CRYPTO_PAYLOAD_LEN);
    if (hop_recognizes(hops[i], payload)) {
      *hop_out = i;
      return CHIVE_OK;
    }
  }
  return CHIVE_ERR_PROTO;
}

/* see relay_crypto.h */
bool
relay_crypto_last_sent_digest(const relay_crypto_t *rc,
                              uint8_t out[RELAY_CRYPTO_SENDME_DIGEST_LEN])
{
  if (!rc || !rc->have_sent)
    return false;
  memcpy(out, rc->last_sent_digest, RELAY_CRYPTO_SENDME_DIGEST_LEN);
  return true;
}

/* see relay_crypto.h */
bool
relay_crypto_last_recv_digest(const relay_crypto_t *rc,
                              uint8_t out[RELAY_CRYPTO_SENDME_DIGEST_LEN])
{
  if (!rc || !rc->have_recv)
    return false;
  memcpy(out, rc->last_recv_digest, RELAY_CRYPTO_SENDME_DIGEST_LEN);
  return true;
}
