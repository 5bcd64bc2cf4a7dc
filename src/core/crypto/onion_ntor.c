/**
 * @file onion_ntor.c
 * @brief The ntor handshake (tor-spec §5.1.4) and its key expansion
 * (KDF-RFC5869, tor-spec §5.2.2).
 *
 * Both sides share ntor_compute(): given the two DH outputs, it builds
 * secret_input, KEY_SEED, verify, auth_input and AUTH, and expands the
 * keys.  Every intermediate secret lives in locals wiped at done:.
 **/
#include "core/crypto/onion_ntor.h"

#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/kdf.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/* tor-spec §5.1.4 constants. */
#define PROTOID "ntor-curve25519-sha256-1"
#define PROTOID_LEN (sizeof(PROTOID) - 1)
static const char T_MAC[] = PROTOID ":mac";
static const char T_KEY[] = PROTOID ":key_extract";
static const char T_VERIFY[] = PROTOID ":verify";
static const char M_EXPAND[] = PROTOID ":key_expand";
static const char SERVER_STR[] = "Server";
#define STRLEN(s) (sizeof(s) - 1)

/** secret_input = EXP | EXP | ID | B | X | Y | PROTOID. */
#define SECRET_INPUT_LEN \
  (5 * ONION_NTOR_KEY_LEN + ONION_NTOR_ID_LEN + PROTOID_LEN) /* 204 */
/** auth_input = verify | ID | B | Y | X | PROTOID | "Server". */
#define AUTH_INPUT_LEN                                                        \
  (DIGEST256_LEN + ONION_NTOR_ID_LEN + 3 * ONION_NTOR_KEY_LEN + PROTOID_LEN + \
   STRLEN(SERVER_STR)) /* 178 */

/** Both sides of tor-spec §5.1.4 after the DH steps: from <b>exp_eph</b>
 * (EXP(Y,x) = EXP(X,y)) and <b>exp_static</b> (EXP(B,x) = EXP(X,b)),
 * compute AUTH into <b>auth_out</b> and the expanded keys into
 * <b>keys_out</b>. */
static chive_err_t
ntor_compute(const uint8_t exp_eph[ONION_NTOR_KEY_LEN],
             const uint8_t exp_static[ONION_NTOR_KEY_LEN],
             const uint8_t id[ONION_NTOR_ID_LEN],
             const uint8_t pub_b[ONION_NTOR_KEY_LEN],
             const uint8_t pub_x[ONION_NTOR_KEY_LEN],
             const uint8_t pub_y[ONION_NTOR_KEY_LEN],
             uint8_t auth_out[ONION_NTOR_AUTH_LEN], relay_keys_t *keys_out)
{
  uint8_t secret_input[SECRET_INPUT_LEN];
  uint8_t verify[DIGEST256_LEN];
  uint8_t auth_input[AUTH_INPUT_LEN];
  uint8_t material[RELAY_KEY_MATERIAL_LEN];
  uint8_t auth[ONION_NTOR_AUTH_LEN];
  chive_err_t err = CHIVE_ERR_INTERNAL;

  /* secret_input = EXP(Y,x) | EXP(B,x) | ID | B | X | Y | PROTOID */
  wr_t w = wr_init(secret_input, sizeof(secret_input));
  wr_bytes(&w, exp_eph, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, exp_static, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, id, ONION_NTOR_ID_LEN);
  wr_bytes(&w, pub_b, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, pub_x, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, pub_y, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, PROTOID, PROTOID_LEN);
  if (BUG(!wr_ok(&w) || wr_used(&w) != sizeof(secret_input)))
    goto done;

  /* verify = H(secret_input, t_verify), H(x,t) = HMAC-SHA256(key=t). */
  crypto_hmac_sha256(T_VERIFY, STRLEN(T_VERIFY), secret_input,
                     sizeof(secret_input), verify);

  /* auth_input = verify | ID | B | Y | X | PROTOID | "Server" */
  w = wr_init(auth_input, sizeof(auth_input));
  wr_bytes(&w, verify, sizeof(verify));
  wr_bytes(&w, id, ONION_NTOR_ID_LEN);
  wr_bytes(&w, pub_b, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, pub_y, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, pub_x, ONION_NTOR_KEY_LEN);
  wr_bytes(&w, PROTOID, PROTOID_LEN);
  wr_bytes(&w, SERVER_STR, STRLEN(SERVER_STR));
  if (BUG(!wr_ok(&w) || wr_used(&w) != sizeof(auth_input)))
    goto done;

  /* AUTH = H(auth_input, t_mac) */
  crypto_hmac_sha256(T_MAC, STRLEN(T_MAC), auth_input, sizeof(auth_input),
                     auth);

  /* KEY_SEED = H(secret_input, t_key) is exactly HKDF-Extract with salt
   * t_key and IKM secret_input; tor-spec §5.2.2 then expands it with
   * info m_expand: "HKDF-SHA256 with info == m_expand, salt == t_key, and
   * IKM == secret_input". */
  err = crypto_hkdf_sha256((const uint8_t *)T_KEY, STRLEN(T_KEY), secret_input,
                           sizeof(secret_input), (const uint8_t *)M_EXPAND,
                           STRLEN(M_EXPAND), material, sizeof(material));
  if (err != CHIVE_OK)
    goto done;
  /* "the first HASH_LEN bytes form the forward digest Df; the next
   * HASH_LEN form the backward digest Db; the next KEY_LEN form Kf, the
   * next KEY_LEN form Kb" */
  memcpy(auth_out, auth, sizeof(auth));
  relay_keys_from_material(keys_out, material);
done:
  chive_memwipe(auth, sizeof(auth));
  chive_memwipe(secret_input, sizeof(secret_input));
  chive_memwipe(verify, sizeof(verify));
  chive_memwipe(auth_input, sizeof(auth_input));
  chive_memwipe(material, sizeof(material));
  return err;
}

/* see onion_ntor.h */
chive_err_t
onion_ntor_client_create_with_secret(
    onion_ntor_client_t *st, const uint8_t id[ONION_NTOR_ID_LEN],
    const uint8_t b[ONION_NTOR_KEY_LEN], const uint8_t x[ONION_NTOR_KEY_LEN],
    uint8_t onionskin_out[ONION_NTOR_ONIONSKIN_LEN])
{
  onion_ntor_client_t tmp;

  if (BUG(st == NULL || id == NULL || b == NULL || x == NULL ||
          onionskin_out == NULL))
    return CHIVE_ERR_INVAL;

  memset(&tmp, 0, sizeof(tmp));
  memcpy(tmp.id, id, ONION_NTOR_ID_LEN);
  memcpy(tmp.pub_b, b, ONION_NTOR_KEY_LEN);
  memcpy(tmp.sec_x, x, ONION_NTOR_KEY_LEN);
  /* x,X = KEYGEN() */
  crypto_x25519_public_from_secret(tmp.pub_x, tmp.sec_x);
  tmp.active = true;

  /* NODEID | KEYID(B) | CLIENT_KP */
  memcpy(onionskin_out, tmp.id, ONION_NTOR_ID_LEN);
  memcpy(onionskin_out + ONION_NTOR_ID_LEN, tmp.pub_b, ONION_NTOR_KEY_LEN);
  memcpy(onionskin_out + ONION_NTOR_ID_LEN + ONION_NTOR_KEY_LEN, tmp.pub_x,
         ONION_NTOR_KEY_LEN);
  *st = tmp;
  chive_memwipe(&tmp, sizeof(tmp));
  return CHIVE_OK;
}

/* see onion_ntor.h */
chive_err_t
onion_ntor_client_create(onion_ntor_client_t *st,
                         const uint8_t id[ONION_NTOR_ID_LEN],
                         const uint8_t b[ONION_NTOR_KEY_LEN],
                         uint8_t onionskin_out[ONION_NTOR_ONIONSKIN_LEN])
{
  crypto_x25519_keypair_t kp;
  chive_err_t err;

  if (BUG(st == NULL || id == NULL || b == NULL || onionskin_out == NULL))
    return CHIVE_ERR_INVAL;
  err = crypto_x25519_keypair_generate(&kp);
  if (err != CHIVE_OK)
    return err;
  err = onion_ntor_client_create_with_secret(st, id, b, kp.seckey,
                                             onionskin_out);
  crypto_x25519_keypair_clear(&kp);
  return err;
}

/* see onion_ntor.h */
chive_err_t
onion_ntor_client_finish(onion_ntor_client_t *st,
                         const uint8_t reply[ONION_NTOR_REPLY_LEN],
                         relay_keys_t *keys_out)
{
  uint8_t exp_yx[X25519_KEY_LEN];
  uint8_t exp_bx[X25519_KEY_LEN];
  uint8_t auth[ONION_NTOR_AUTH_LEN];
  relay_keys_t keys;
  chive_err_t err;

  if (BUG(st == NULL || !st->active || reply == NULL || keys_out == NULL))
    return CHIVE_ERR_INVAL;
  memset(&keys, 0, sizeof(keys));
  const uint8_t *pub_y = reply;
  const uint8_t *auth_rcvd = reply + ONION_NTOR_KEY_LEN;

  /* EXP(Y,x), EXP(B,x); "Both parties check that none of the EXP()
   * operations produced the point at infinity" -- crypto_x25519() fails
   * on an all-zero output, which covers a Y outside G^*. */
  err = crypto_x25519(exp_yx, st->sec_x, pub_y);
  if (err != CHIVE_OK)
    goto done;
  err = crypto_x25519(exp_bx, st->sec_x, st->pub_b);
  if (err != CHIVE_OK)
    goto done;

  err = ntor_compute(exp_yx, exp_bx, st->id, st->pub_b, st->pub_x, pub_y, auth,
                     &keys);
  if (err != CHIVE_OK)
    goto done;
  /* "The client verifies that AUTH == H(auth_input, t_mac)." */
  if (!chive_memeq_ct(auth, auth_rcvd, ONION_NTOR_AUTH_LEN)) {
    err = CHIVE_ERR_CRYPTO;
    goto done;
  }
  *keys_out = keys;
  onion_ntor_client_clear(st);
done:
  chive_memwipe(exp_yx, sizeof(exp_yx));
  chive_memwipe(exp_bx, sizeof(exp_bx));
  chive_memwipe(auth, sizeof(auth));
  relay_keys_clear(&keys);
  return err;
}

/* see onion_ntor.h */
void
onion_ntor_client_clear(onion_ntor_client_t *st)
{
  if (st)
    chive_memwipe(st, sizeof(*st));
}

/* see onion_ntor.h */
chive_err_t
onion_ntor_server_handshake(const uint8_t id[ONION_NTOR_ID_LEN],
                            const uint8_t sec_b[ONION_NTOR_KEY_LEN],
                            const uint8_t pub_b[ONION_NTOR_KEY_LEN],
                            const uint8_t onionskin[ONION_NTOR_ONIONSKIN_LEN],
                            const uint8_t *sec_y,
                            uint8_t reply_out[ONION_NTOR_REPLY_LEN],
                            relay_keys_t *keys_out)
{
  crypto_x25519_keypair_t ykp;
  uint8_t exp_xy[X25519_KEY_LEN];
  uint8_t exp_xb[X25519_KEY_LEN];
  uint8_t auth[ONION_NTOR_AUTH_LEN];
  relay_keys_t keys;
  chive_err_t err;

  if (BUG(id == NULL || sec_b == NULL || pub_b == NULL || onionskin == NULL ||
          reply_out == NULL || keys_out == NULL))
    return CHIVE_ERR_INVAL;
  memset(&ykp, 0, sizeof(ykp));
  memset(&keys, 0, sizeof(keys));
  const uint8_t *node_id = onionskin;
  const uint8_t *key_id = onionskin + ONION_NTOR_ID_LEN;
  const uint8_t *pub_x = onionskin + ONION_NTOR_ID_LEN + ONION_NTOR_KEY_LEN;

  /* Public values: a plain comparison is fine. */
  if (!fast_memeq(node_id, id, ONION_NTOR_ID_LEN) ||
      !fast_memeq(key_id, pub_b, ONION_NTOR_KEY_LEN)) {
    err = CHIVE_ERR_PROTO;
    goto done;
  }
  /* y,Y = KEYGEN() */
  if (sec_y) {
    memcpy(ykp.seckey, sec_y, X25519_KEY_LEN);
    crypto_x25519_public_from_secret(ykp.pubkey, ykp.seckey);
  } else {
    err = crypto_x25519_keypair_generate(&ykp);
    if (err != CHIVE_OK)
      goto done;
  }
  /* EXP(X,y), EXP(X,b) */
  err = crypto_x25519(exp_xy, ykp.seckey, pub_x);
  if (err != CHIVE_OK)
    goto done;
  err = crypto_x25519(exp_xb, sec_b, pub_x);
  if (err != CHIVE_OK)
    goto done;
  err =
      ntor_compute(exp_xy, exp_xb, id, pub_b, pub_x, ykp.pubkey, auth, &keys);
  if (err != CHIVE_OK)
    goto done;
  /* SERVER_KP | AUTH */
  memcpy(reply_out, ykp.pubkey, ONION_NTOR_KEY_LEN);
  memcpy(reply_out + ONION_NTOR_KEY_LEN, auth, ONION_NTOR_AUTH_LEN);
  *keys_out = keys;
done:
  crypto_x25519_keypair_clear(&ykp);
  chive_memwipe(exp_xy, sizeof(exp_xy));
  chive_memwipe(exp_xb, sizeof(exp_xb));
  chive_memwipe(auth, sizeof(auth));
  relay_keys_clear(&keys);
  return err;
}
