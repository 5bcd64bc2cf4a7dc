/**
 * @file onion_ntor_v3.c
 * @brief ntor-v3 (proposal 332) with the §A.1 instantiation: SHA3-256,
 * SHAKE-256, curve25519 and AES-256-CTR, PROTOID
 * "ntor3-curve25519-sha3_256-1".
 *
 *   H(s, t)        = SHA3_256(ENCAP(t) | s)
 *   MAC(k, msg, t) = SHA3_256(ENCAP(t) | ENCAP(k) | msg)
 *   KDF(s, t)      = SHAKE_256(ENCAP(t) | s)
 *   ENC(k, m)      = AES_256_CTR(k, m), IV all zero
 *   ENCAP(s)       = htonll(len(s)) | s
 *
 * Every hash input is assembled in a fixed scratch buffer with wr_t and
 * wiped afterwards.  Secrets live in locals wiped at done:; outputs are
 * written only after every check passed.
 **/
#include "core/crypto/onion_ntor_v3.h"

#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/crypto/cipher.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

#define PROTOID "ntor3-curve25519-sha3_256-1"
#define STRLEN(s) (sizeof(s) - 1)
static const char T_MSGKDF[] = PROTOID ":kdf_phase1";
static const char T_MSGMAC[] = PROTOID ":msg_mac";
static const char T_KEY_SEED[] = PROTOID ":key_seed";
static const char T_VERIFY[] = PROTOID ":verify";
static const char T_FINAL[] = PROTOID ":kdf_final";
static const char T_AUTH[] = PROTOID ":auth_final";
static const char SERVER_STR[] = "Server";

/** DIGEST_LEN, MAC_KEY_LEN, ENC_KEY_LEN of §A.1: all 32 bytes. */
#define NTOR3_DIGEST_LEN 32
#define NTOR3_ENC_KEY_LEN 32
#define NTOR3_MAC_KEY_LEN 32
/** ENCAP() length prefix, bytes. */
#define ENCAP_LEN 8

/** Scratch for hash inputs.  The largest is auth_input:
 * ENCAP(t_auth) | verify | ID | B | Y | X | MAC | ENCAP(MSG) | PROTOID |
 * "Server" = 8+38 + 6*32 + 8+443 + 27 + 6 = 722 bytes. */
#define NTOR3_SCRATCH_LEN 768
CHIVE_STATIC_ASSERT(ENCAP_LEN + STRLEN(PROTOID ":auth_final") + 6 * 32 +
                            ENCAP_LEN + ONION_NTOR3_MAX_SERVER_MSG_LEN +
                            STRLEN(PROTOID) + STRLEN("Server") <=
                        NTOR3_SCRATCH_LEN,
                    "ntor3 scratch buffer too small for auth_input");
CHIVE_STATIC_ASSERT(ENCAP_LEN + STRLEN(PROTOID ":msg_mac") + ENCAP_LEN +
                            NTOR3_MAC_KEY_LEN + ONION_NTOR3_ID_LEN +
                            2 * ONION_NTOR3_KEY_LEN +
                            ONION_NTOR3_MAX_CLIENT_MSG_LEN <=
                        NTOR3_SCRATCH_LEN,
                    "ntor3 scratch buffer too small for msg_mac input");

/** A hash input under construction. */
typedef struct ntor3_input_t {
  uint8_t buf[NTOR3_SCRATCH_LEN];
  wr_t w;
} ntor3_input_t;

/** Append ENCAP(<b>p</b>, <b>n</b>) to <b>in</b>. */
static void
in_encap(ntor3_input_t *in, const void *p, size_t n)
{
  wr_u64(&in->w, (uint64_t)n);
  wr_bytes(&in->w, p, n);
}

/** Start <b>in</b> with ENCAP(<b>tweak</b>). */
static void
in_start(ntor3_input_t *in, const char *tweak, size_t tweak_len)
{
  in->w = wr_init(in->buf, sizeof(in->buf));
  in_encap(in, tweak, tweak_len);
}

/** Append <b>n</b> bytes at <b>p</b> to <b>in</b>. */
static void
in_add(ntor3_input_t *in, const void *p, size_t n)
{
  wr_bytes(&in->w, p, n);
}

/** Return true iff every write into <b>in</b> fitted. */
static bool
in_ok(const ntor3_input_t *in)
{
  return wr_ok(&in->w);
}

/** Wipe <b>in</b>. */
static void
in_wipe(ntor3_input_t *in)
{
  chive_memwipe(in, sizeof(*in));
}

/** XOR the AES-256-CTR (zero IV) keystream under <b>key</b> into
 * <b>buf</b> (ENC and DEC of §A.1). */
static chive_err_t
ntor3_crypt(const uint8_t key[NTOR3_ENC_KEY_LEN], uint8_t *buf, size_t len)
{
  if (len == 0)
    return CHIVE_OK;
  crypto_cipher_t *c = crypto_cipher_new(key, NTOR3_ENC_KEY_LEN, NULL);
  if (!c)
    return CHIVE_ERR_NOMEM;
  crypto_cipher_crypt_inplace(c, buf, len);
  crypto_cipher_free(c);
  return CHIVE_OK;
}

/** Phase 1 (both sides): from <b>dh</b> = EXP(B,x) = EXP(X,b) compute
 *   secret_input_phase1 = Bx | ID | X | B | PROTOID | ENCAP(VER)
 *   (ENC_K1, MAC_K1) = PARTITION(KDF_msgkdf(secret_input_phase1), 32, 32)
 */
static chive_err_t
ntor3_phase1(const uint8_t dh[ONION_NTOR3_KEY_LEN],
             const uint8_t id[ONION_NTOR3_ID_LEN],
             const uint8_t pub_x[ONION_NTOR3_KEY_LEN],
             const uint8_t pub_b[ONION_NTOR3_KEY_LEN], const uint8_t *ver,
             size_t ver_len, uint8_t enc_k1[NTOR3_ENC_KEY_LEN],
             uint8_t mac_k1[NTOR3_MAC_KEY_LEN])
{
  ntor3_input_t in;
  uint8_t keys[NTOR3_ENC_KEY_LEN + NTOR3_MAC_KEY_LEN];
  chive_err_t err = CHIVE_ERR_INTERNAL;

  in_start(&in, T_MSGKDF, STRLEN(T_MSGKDF));
  in_add(&in, dh, ONION_NTOR3_KEY_LEN);
  in_add(&in, id, ONION_NTOR3_ID_LEN);
  in_add(&in, pub_x, ONION_NTOR3_KEY_LEN);
  in_add(&in, pub_b, ONION_NTOR3_KEY_LEN);
  in_add(&in, PROTOID, STRLEN(PROTOID));
  in_encap(&in, ver, ver_len);
  if (BUG(!in_ok(&in)))
    goto done;
  crypto_shake256(in.buf, wr_used(&in.w), keys, sizeof(keys));
  memcpy(enc_k1, keys, NTOR3_ENC_KEY_LEN);
  memcpy(mac_k1, keys + NTOR3_ENC_KEY_LEN, NTOR3_MAC_KEY_LEN);
  err = CHIVE_OK;
done:
  in_wipe(&in);
  chive_memwipe(keys, sizeof(keys));
  return err;
}

/** msg_mac = MAC_msgmac(MAC_K1, ID | B | X | encrypted_msg). */
static chive_err_t
ntor3_msg_mac(const uint8_t mac_k1[NTOR3_MAC_KEY_LEN],
              const uint8_t id[ONION_NTOR3_ID_LEN],
              const uint8_t pub_b[ONION_NTOR3_KEY_LEN],
              const uint8_t pub_x[ONION_NTOR3_KEY_LEN], const uint8_t *msg,
              size_t msg_len, uint8_t out[ONION_NTOR3_MAC_LEN])
{
  ntor3_input_t in;
  chive_err_t err = CHIVE_ERR_INTERNAL;

  in_start(&in, T_MSGMAC, STRLEN(T_MSGMAC));
  in_encap(&in, mac_k1, NTOR3_MAC_KEY_LEN);
  in_add(&in, id, ONION_NTOR3_ID_LEN);
  in_add(&in, pub_b, ONION_NTOR3_KEY_LEN);
  in_add(&in, pub_x, ONION_NTOR3_KEY_LEN);
  in_add(&in, msg, msg_len);
  if (BUG(!in_ok(&in)))
    goto done;
  crypto_sha3_256(in.buf, wr_used(&in.w), out);
  err = CHIVE_OK;
done:
  in_wipe(&in);
  return err;
}

/** Phase 2 (both sides):
 *   secret_input = Yx | Bx | ID | B | X | Y | PROTOID | ENCAP(VER)
 *   ntor_key_seed = H_key_seed(secret_input)
 *   verify = H_verify(secret_input)
 */
static chive_err_t
ntor3_seed(const uint8_t dh_eph[ONION_NTOR3_KEY_LEN],
           const uint8_t dh_static[ONION_NTOR3_KEY_LEN],
           const uint8_t id[ONION_NTOR3_ID_LEN],
           const uint8_t pub_b[ONION_NTOR3_KEY_LEN],
           const uint8_t pub_x[ONION_NTOR3_KEY_LEN],
           const uint8_t pub_y[ONION_NTOR3_KEY_LEN], const uint8_t *ver,
           size_t ver_len, uint8_t key_seed[NTOR3_DIGEST_LEN],
           uint8_t verify[NTOR3_DIGEST_LEN])
{
  ntor3_input_t in;
  chive_err_t err = CHIVE_ERR_INTERNAL;

  for (int i = 0; i < 2; i++) {
    if (i == 0)
      in_start(&in, T_KEY_SEED, STRLEN(T_KEY_SEED));
    else
      in_start(&in, T_VERIFY, STRLEN(T_VERIFY));
    in_add(&in, dh_eph, ONION_NTOR3_KEY_LEN);
    in_add(&in, dh_static, ONION_NTOR3_KEY_LEN);
    in_add(&in, id, ONION_NTOR3_ID_LEN);
    in_add(&in, pub_b, ONION_NTOR3_KEY_LEN);
    in_add(&in, pub_x, ONION_NTOR3_KEY_LEN);
    in_add(&in, pub_y, ONION_NTOR3_KEY_LEN);
    in_add(&in, PROTOID, STRLEN(PROTOID));
    in_encap(&in, ver, ver_len);
    if (BUG(!in_ok(&in)))
      goto done;
    crypto_sha3_256(in.buf, wr_used(&in.w), i == 0 ? key_seed : verify);
  }
  err = CHIVE_OK;
done:
  in_wipe(&in);
  return err;
}

/** auth_input = verify | ID | B | Y | X | MAC | ENCAP(MSG) | PROTOID |
 *               "Server";  AUTH = H_auth(auth_input). */
static chive_err_t
ntor3_auth(const uint8_t verify[NTOR3_DIGEST_LEN],
           const uint8_t id[ONION_NTOR3_ID_LEN],
           const uint8_t pub_b[ONION_NTOR3_KEY_LEN],
           const uint8_t pub_y[ONION_NTOR3_KEY_LEN],
           const uint8_t pub_x[ONION_NTOR3_KEY_LEN],
           const uint8_t msg_mac[ONION_NTOR3_MAC_LEN], const uint8_t *msg,
           size_t msg_len, uint8_t auth[ONION_NTOR3_MAC_LEN])
{
  ntor3_input_t in;
  chive_err_t err = CHIVE_ERR_INTERNAL;

  in_start(&in, T_AUTH, STRLEN(T_AUTH));
  in_add(&in, verify, NTOR3_DIGEST_LEN);
  in_add(&in, id, ONION_NTOR3_ID_LEN);
  in_add(&in, pub_b, ONION_NTOR3_KEY_LEN);
  in_add(&in, pub_y, ONION_NTOR3_KEY_LEN);
  in_add(&in, pub_x, ONION_NTOR3_KEY_LEN);
  in_add(&in, msg_mac, ONION_NTOR3_MAC_LEN);
  in_encap(&in, msg, msg_len);
  in_add(&in, PROTOID, STRLEN(PROTOID));
  in_add(&in, SERVER_STR, STRLEN(SERVER_STR));
  if (BUG(!in_ok(&in)))
    goto done;
  crypto_sha3_256(in.buf, wr_used(&in.w), auth);
  err = CHIVE_OK;
done:
  in_wipe(&in);
  return err;
}

/** RAW_KEYSTREAM = KDF_final(ntor_key_seed); write its first
 * NTOR3_ENC_KEY_LEN + <b>ks_len</b> bytes to <b>raw</b>. */
static void
ntor3_kdf_final(const uint8_t key_seed[NTOR3_DIGEST_LEN], uint8_t *raw,
                size_t raw_len)
{
  ntor3_input_t in;
  in_start(&in, T_FINAL, STRLEN(T_FINAL));
  in_add(&in, key_seed, NTOR3_DIGEST_LEN);
  CHIVE_ASSERT(in_ok(&in)); /* fixed small size */
  crypto_shake256(in.buf, wr_used(&in.w), raw, raw_len);
  in_wipe(&in);
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_client_create_with_secret(
    onion_ntor3_client_t *st, const uint8_t id[ONION_NTOR3_ID_LEN],
    const uint8_t b[ONION_NTOR3_KEY_LEN], const uint8_t x[ONION_NTOR3_KEY_LEN],
    const uint8_t *ver, size_t ver_len, const uint8_t *cm, size_t cm_len,
    uint8_t *out, size_t out_cap, size_t *out_len)
{
  onion_ntor3_client_t tmp;
  uint8_t enc_k1[NTOR3_ENC_KEY_LEN];
  uint8_t mac_k1[NTOR3_MAC_KEY_LEN];
  uint8_t enc_msg[ONION_NTOR3_MAX_CLIENT_MSG_LEN];
  chive_err_t err;

  if (BUG(st == NULL || id == NULL || b == NULL || x == NULL || out == NULL ||
          out_len == NULL || (ver == NULL && ver_len) ||
          (cm == NULL && cm_len)))
    return CHIVE_ERR_INVAL;
  if (ver_len > ONION_NTOR3_MAX_VER_LEN ||
      cm_len > ONION_NTOR3_MAX_CLIENT_MSG_LEN)
    return CHIVE_ERR_INVAL;
  if (out_cap < ONION_NTOR3_CLIENT_OVERHEAD_LEN + cm_len)
    return CHIVE_ERR_LIMIT;

  memset(&tmp, 0, sizeof(tmp));
  memcpy(tmp.id, id, ONION_NTOR3_ID_LEN);
  memcpy(tmp.pub_b, b, ONION_NTOR3_KEY_LEN);
  memcpy(tmp.sec_x, x, ONION_NTOR3_KEY_LEN);
  if (ver_len)
    memcpy(tmp.ver, ver, ver_len);
  tmp.ver_len = ver_len;

  /* x,X = KEYGEN(); Bx = EXP(B,x) */
  crypto_x25519_public_from_secret(tmp.pub_x, tmp.sec_x);
  err = crypto_x25519(tmp.bx, tmp.sec_x, tmp.pub_b);
  if (err != CHIVE_OK)
    goto done;
  /* (ENC_K1, MAC_K1) = PARTITION(KDF_msgkdf(secret_input_phase1), ...) */
  err = ntor3_phase1(tmp.bx, tmp.id, tmp.pub_x, tmp.pub_b, tmp.ver,
                     tmp.ver_len, enc_k1, mac_k1);
  if (err != CHIVE_OK)
    goto done;
  /* encrypted_msg = ENC(ENC_K1, CM) */
  if (cm_len)
    memcpy(enc_msg, cm, cm_len);
  err = ntor3_crypt(enc_k1, enc_msg, cm_len);
  if (err != CHIVE_OK)
    goto done;
  /* msg_mac = MAC_msgmac(MAC_K1, ID | B | X | encrypted_msg) */
  err = ntor3_msg_mac(mac_k1, tmp.id, tmp.pub_b, tmp.pub_x, enc_msg, cm_len,
                      tmp.msg_mac);
  if (err != CHIVE_OK)
    goto done;
  tmp.active = true;

  /* NODEID | KEYID | CLIENT_PK | MSG | MAC */
  wr_t w = wr_init(out, out_cap);
  wr_bytes(&w, tmp.id, ONION_NTOR3_ID_LEN);
  wr_bytes(&w, tmp.pub_b, ONION_NTOR3_KEY_LEN);
  wr_bytes(&w, tmp.pub_x, ONION_NTOR3_KEY_LEN);
  wr_bytes(&w, enc_msg, cm_len);
  wr_bytes(&w, tmp.msg_mac, ONION_NTOR3_MAC_LEN);
  if (BUG(!wr_ok(&w))) {
    chive_memwipe(out, out_cap);
    err = CHIVE_ERR_INTERNAL;
    goto done;
  }
  *out_len = wr_used(&w);
  *st = tmp;
done:
  chive_memwipe(&tmp, sizeof(tmp));
  chive_memwipe(enc_k1, sizeof(enc_k1));
  chive_memwipe(mac_k1, sizeof(mac_k1));
  chive_memwipe(enc_msg, sizeof(enc_msg));
  return err;
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_client_create(onion_ntor3_client_t *st,
                          const uint8_t id[ONION_NTOR3_ID_LEN],
                          const uint8_t b[ONION_NTOR3_KEY_LEN],
                          const uint8_t *ver, size_t ver_len,
                          const uint8_t *cm, size_t cm_len, uint8_t *out,
                          size_t out_cap, size_t *out_len)
{
  crypto_x25519_keypair_t kp;
  chive_err_t err = crypto_x25519_keypair_generate(&kp);
  if (err != CHIVE_OK)
    return err;
  err = onion_ntor3_client_create_with_secret(
      st, id, b, kp.seckey, ver, ver_len, cm, cm_len, out, out_cap, out_len);
  crypto_x25519_keypair_clear(&kp);
  return err;
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_client_finish(onion_ntor3_client_t *st, const uint8_t *reply,
                          size_t reply_len, uint8_t *sm_out, size_t sm_cap,
                          size_t *sm_len, uint8_t *keystream_out,
                          size_t keystream_len)
{
  uint8_t yx[ONION_NTOR3_KEY_LEN];
  uint8_t key_seed[NTOR3_DIGEST_LEN];
  uint8_t verify[NTOR3_DIGEST_LEN];
  uint8_t auth[ONION_NTOR3_MAC_LEN];
  uint8_t raw[NTOR3_ENC_KEY_LEN + ONION_NTOR3_MAX_KEYSTREAM_LEN];
  uint8_t sm[ONION_NTOR3_MAX_SERVER_MSG_LEN];
  chive_err_t err;

  if (BUG(st == NULL || !st->active || reply == NULL || sm_len == NULL ||
          (sm_out == NULL && sm_cap) || keystream_out == NULL ||
          keystream_len == 0 || keystream_len > ONION_NTOR3_MAX_KEYSTREAM_LEN))
    return CHIVE_ERR_INVAL;
  /* Y | AUTH | MSG; MSG runs to the end of the message. */
  if (reply_len < ONION_NTOR3_SERVER_OVERHEAD_LEN ||
      reply_len >
          ONION_NTOR3_SERVER_OVERHEAD_LEN + ONION_NTOR3_MAX_SERVER_MSG_LEN)
    return CHIVE_ERR_PROTO;
  const uint8_t *pub_y = reply;
  const uint8_t *auth_rcvd = reply + ONION_NTOR3_KEY_LEN;
  const uint8_t *msg = reply + ONION_NTOR3_SERVER_OVERHEAD_LEN;
  size_t msg_len = reply_len - ONION_NTOR3_SERVER_OVERHEAD_LEN;
  if (sm_cap < msg_len)
    return CHIVE_ERR_LIMIT;

  /* Yx = EXP(Y, x); an all-zero output (degenerate Y) fails. */
  err = crypto_x25519(yx, st->sec_x, pub_y);
  if (err != CHIVE_OK)
    goto done;
  err = ntor3_seed(yx, st->bx, st->id, st->pub_b, st->pub_x, pub_y, st->ver,
                   st->ver_len, key_seed, verify);
  if (err != CHIVE_OK)
    goto done;
  /* AUTH_expected = H_auth(auth_input); compare in constant time. */
  err = ntor3_auth(verify, st->id, st->pub_b, pub_y, st->pub_x, st->msg_mac,
                   msg, msg_len, auth);
  if (err != CHIVE_OK)
    goto done;
  if (!chive_memeq_ct(auth, auth_rcvd, ONION_NTOR3_MAC_LEN)) {
    err = CHIVE_ERR_CRYPTO;
    goto done;
  }
  /* (ENC_KEY, KEYSTREAM) = PARTITION(KDF_final(ntor_key_seed), 32, ...);
   * SM = DEC(ENC_KEY, MSG) */
  ntor3_kdf_final(key_seed, raw, NTOR3_ENC_KEY_LEN + keystream_len);
  if (msg_len)
    memcpy(sm, msg, msg_len);
  err = ntor3_crypt(raw, sm, msg_len);
  if (err != CHIVE_OK)
    goto done;

  /* Commit. */
  if (msg_len)
    memcpy(sm_out, sm, msg_len);
  *sm_len = msg_len;
  memcpy(keystream_out, raw + NTOR3_ENC_KEY_LEN, keystream_len);
  onion_ntor3_client_clear(st);
done:
  chive_memwipe(yx, sizeof(yx));
  chive_memwipe(key_seed, sizeof(key_seed));
  chive_memwipe(verify, sizeof(verify));
  chive_memwipe(auth, sizeof(auth));
  chive_memwipe(raw, sizeof(raw));
  chive_memwipe(sm, sizeof(sm));
  return err;
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_client_finish_keys(onion_ntor3_client_t *st, const uint8_t *reply,
                               size_t reply_len, uint8_t *sm_out,
                               size_t sm_cap, size_t *sm_len,
                               relay_keys_t *keys_out)
{
  uint8_t material[RELAY_KEY_MATERIAL_LEN];
  if (BUG(keys_out == NULL))
    return CHIVE_ERR_INVAL;
  chive_err_t err =
      onion_ntor3_client_finish(st, reply, reply_len, sm_out, sm_cap, sm_len,
                                material, sizeof(material));
  if (err == CHIVE_OK)
    relay_keys_from_material(keys_out, material);
  chive_memwipe(material, sizeof(material));
  return err;
}

/* see onion_ntor_v3.h */
void
onion_ntor3_client_clear(onion_ntor3_client_t *st)
{
  if (st)
    chive_memwipe(st, sizeof(*st));
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_server_recv(onion_ntor3_server_t *st,
                        const uint8_t id[ONION_NTOR3_ID_LEN],
                        const uint8_t sec_b[ONION_NTOR3_KEY_LEN],
                        const uint8_t pub_b[ONION_NTOR3_KEY_LEN],
                        const uint8_t *ver, size_t ver_len,
                        const uint8_t *onionskin, size_t onionskin_len,
                        uint8_t *cm_out, size_t cm_cap, size_t *cm_len)
{
  onion_ntor3_server_t tmp;
  uint8_t enc_k1[NTOR3_ENC_KEY_LEN];
  uint8_t mac_k1[NTOR3_MAC_KEY_LEN];
  uint8_t mac[ONION_NTOR3_MAC_LEN];
  uint8_t cm[ONION_NTOR3_MAX_CLIENT_MSG_LEN];
  chive_err_t err;

  if (BUG(st == NULL || id == NULL || sec_b == NULL || pub_b == NULL ||
          onionskin == NULL || cm_len == NULL || (cm_out == NULL && cm_cap) ||
          (ver == NULL && ver_len) || ver_len > ONION_NTOR3_MAX_VER_LEN))
    return CHIVE_ERR_INVAL;
  if (onionskin_len < ONION_NTOR3_CLIENT_OVERHEAD_LEN ||
      onionskin_len >
          ONION_NTOR3_CLIENT_OVERHEAD_LEN + ONION_NTOR3_MAX_CLIENT_MSG_LEN)
    return CHIVE_ERR_PROTO;
  size_t msg_len = onionskin_len - ONION_NTOR3_CLIENT_OVERHEAD_LEN;
  if (cm_cap < msg_len)
    return CHIVE_ERR_LIMIT;

  memset(&tmp, 0, sizeof(tmp));
  rd_t r = rd_init(onionskin, onionskin_len);
  rd_copy(&r, tmp.id, ONION_NTOR3_ID_LEN);
  rd_copy(&r, tmp.pub_b, ONION_NTOR3_KEY_LEN);
  rd_copy(&r, tmp.pub_x, ONION_NTOR3_KEY_LEN);
  const uint8_t *msg = rd_bytes(&r, msg_len);
  const uint8_t *mac_rcvd = rd_bytes(&r, ONION_NTOR3_MAC_LEN);
  if (BUG(!rd_done(&r))) {
    err = CHIVE_ERR_INTERNAL;
    goto done;
  }
  /* "The relay checks whether NODEID is as expected, and looks up the
   * (b,B) keypair corresponding to KEYID."  Public values. */
  if (!fast_memeq(tmp.id, id, ONION_NTOR3_ID_LEN) ||
      !fast_memeq(tmp.pub_b, pub_b, ONION_NTOR3_KEY_LEN)) {
    err = CHIVE_ERR_PROTO;
    goto done;
  }
  if (ver_len)
    memcpy(tmp.ver, ver, ver_len);
  tmp.ver_len = ver_len;
  /* Xb = EXP(X,b) */
  err = crypto_x25519(tmp.xb, sec_b, tmp.pub_x);
  if (err != CHIVE_OK)
    goto done;
  err = ntor3_phase1(tmp.xb, tmp.id, tmp.pub_x, tmp.pub_b, tmp.ver,
                     tmp.ver_len, enc_k1, mac_k1);
  if (err != CHIVE_OK)
    goto done;
  /* expected_mac = MAC_msgmac(MAC_K1, ID | B | X | MSG) */
  err = ntor3_msg_mac(mac_k1, tmp.id, tmp.pub_b, tmp.pub_x, msg, msg_len, mac);
  if (err != CHIVE_OK)
    goto done;
  if (!chive_memeq_ct(mac, mac_rcvd, ONION_NTOR3_MAC_LEN)) {
    err = CHIVE_ERR_CRYPTO;
    goto done;
  }
  memcpy(tmp.msg_mac, mac, sizeof(mac));
  /* CM = DEC(MSG, ENC_K1) */
  if (msg_len)
    memcpy(cm, msg, msg_len);
  err = ntor3_crypt(enc_k1, cm, msg_len);
  if (err != CHIVE_OK)
    goto done;
  tmp.active = true;
  if (msg_len)
    memcpy(cm_out, cm, msg_len);
  *cm_len = msg_len;
  *st = tmp;
done:
  chive_memwipe(&tmp, sizeof(tmp));
  chive_memwipe(enc_k1, sizeof(enc_k1));
  chive_memwipe(mac_k1, sizeof(mac_k1));
  chive_memwipe(mac, sizeof(mac));
  chive_memwipe(cm, sizeof(cm));
  return err;
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_server_reply(onion_ntor3_server_t *st, const uint8_t *sec_y,
                         const uint8_t *sm, size_t sm_len, uint8_t *reply_out,
                         size_t reply_cap, size_t *reply_len,
                         uint8_t *keystream_out, size_t keystream_len)
{
  crypto_x25519_keypair_t ykp;
  uint8_t xy[ONION_NTOR3_KEY_LEN];
  uint8_t key_seed[NTOR3_DIGEST_LEN];
  uint8_t verify[NTOR3_DIGEST_LEN];
  uint8_t auth[ONION_NTOR3_MAC_LEN];
  uint8_t raw[NTOR3_ENC_KEY_LEN + ONION_NTOR3_MAX_KEYSTREAM_LEN];
  uint8_t enc_msg[ONION_NTOR3_MAX_SERVER_MSG_LEN];
  chive_err_t err;

  if (BUG(st == NULL || !st->active || (sm == NULL && sm_len) ||
          reply_out == NULL || reply_len == NULL || keystream_out == NULL ||
          keystream_len == 0 ||
          keystream_len > ONION_NTOR3_MAX_KEYSTREAM_LEN ||
          sm_len > ONION_NTOR3_MAX_SERVER_MSG_LEN))
    return CHIVE_ERR_INVAL;
  if (reply_cap < ONION_NTOR3_SERVER_OVERHEAD_LEN + sm_len)
    return CHIVE_ERR_LIMIT;
  memset(&ykp, 0, sizeof(ykp));

  /* y,Y = KEYGEN() */
  if (sec_y) {
    memcpy(ykp.seckey, sec_y, X25519_KEY_LEN);
    crypto_x25519_public_from_secret(ykp.pubkey, ykp.seckey);
  } else {
    err = crypto_x25519_keypair_generate(&ykp);
    if (err != CHIVE_OK)
      goto done;
  }
  /* Xy = EXP(X,y) */
  err = crypto_x25519(xy, ykp.seckey, st->pub_x);
  if (err != CHIVE_OK)
    goto done;
  err = ntor3_seed(xy, st->xb, st->id, st->pub_b, st->pub_x, ykp.pubkey,
                   st->ver, st->ver_len, key_seed, verify);
  if (err != CHIVE_OK)
    goto done;
  /* RAW_KEYSTREAM = KDF_final(ntor_key_seed); encrypted_msg = ENC(ENC_KEY,
   * SM) */
  ntor3_kdf_final(key_seed, raw, NTOR3_ENC_KEY_LEN + keystream_len);
  if (sm_len)
    memcpy(enc_msg, sm, sm_len);
  err = ntor3_crypt(raw, enc_msg, sm_len);
  if (err != CHIVE_OK)
    goto done;
  err = ntor3_auth(verify, st->id, st->pub_b, ykp.pubkey, st->pub_x,
                   st->msg_mac, enc_msg, sm_len, auth);
  if (err != CHIVE_OK)
    goto done;

  /* Y | AUTH | MSG */
  memcpy(reply_out, ykp.pubkey, ONION_NTOR3_KEY_LEN);
  memcpy(reply_out + ONION_NTOR3_KEY_LEN, auth, ONION_NTOR3_MAC_LEN);
  if (sm_len)
    memcpy(reply_out + ONION_NTOR3_SERVER_OVERHEAD_LEN, enc_msg, sm_len);
  *reply_len = ONION_NTOR3_SERVER_OVERHEAD_LEN + sm_len;
  memcpy(keystream_out, raw + NTOR3_ENC_KEY_LEN, keystream_len);
  onion_ntor3_server_clear(st);
done:
  crypto_x25519_keypair_clear(&ykp);
  chive_memwipe(xy, sizeof(xy));
  chive_memwipe(key_seed, sizeof(key_seed));
  chive_memwipe(verify, sizeof(verify));
  chive_memwipe(auth, sizeof(auth));
  chive_memwipe(raw, sizeof(raw));
  chive_memwipe(enc_msg, sizeof(enc_msg));
  return err;
}

/* see onion_ntor_v3.h */
void
onion_ntor3_server_clear(onion_ntor3_server_t *st)
{
  if (st)
    chive_memwipe(st, sizeof(*st));
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_exts_parse(const uint8_t *msg, size_t msg_len,
                       onion_ntor3_ext_t *exts, size_t max_exts,
                       size_t *n_exts)
{
  size_t n_stored = 0;

  if (BUG((msg == NULL && msg_len) || (exts == NULL && max_exts) ||
          n_exts == NULL))
    return CHIVE_ERR_INVAL;
  if (msg_len == 0) {
    /* No extension list at all: treat as N_EXTENSIONS = 0. */
    *n_exts = 0;
    return CHIVE_OK;
  }
  rd_t r = rd_init(msg, msg_len);
  unsigned n = rd_u8(&r);
  for (unsigned i = 0; i < n && rd_ok(&r); i++) {
    uint8_t type = rd_u8(&r);
    uint8_t len = rd_u8(&r);
    const uint8_t *body = rd_bytes(&r, len);
    if (!rd_ok(&r))
      break;
    if (n_stored < max_exts) {
      exts[n_stored].type = type;
      exts[n_stored].body_len = len;
      exts[n_stored].body = len ? body : NULL;
      n_stored++;
    }
  }
  if (!rd_done(&r))
    return CHIVE_ERR_PROTO;
  *n_exts = n_stored;
  return CHIVE_OK;
}

/* see onion_ntor_v3.h */
chive_err_t
onion_ntor3_exts_encode(const onion_ntor3_ext_t *exts, size_t n_exts,
                        uint8_t *out, size_t out_cap, size_t *out_len)
{
  if (BUG((exts == NULL && n_exts) || out == NULL || out_len == NULL))
    return CHIVE_ERR_INVAL;
  if (n_exts > UINT8_MAX)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, out_cap);
  wr_u8(&w, (uint8_t)n_exts);
  for (size_t i = 0; i < n_exts; i++) {
    if (BUG(exts[i].body == NULL && exts[i].body_len))
      return CHIVE_ERR_INVAL;
    wr_u8(&w, exts[i].type);
    wr_u8(&w, exts[i].body_len);
    if (exts[i].body_len)
      wr_bytes(&w, exts[i].body, exts[i].body_len);
  }
  if (!wr_ok(&w))
    return CHIVE_ERR_LIMIT;
  *out_len = wr_used(&w);
  return CHIVE_OK;
}

/* see onion_ntor_v3.h */
const onion_ntor3_ext_t *
onion_ntor3_exts_find(const onion_ntor3_ext_t *exts, size_t n_exts,
                      uint8_t type)
{
  for (size_t i = 0; exts && i < n_exts; i++) {
    if (exts[i].type == type)
      return &exts[i];
  }
  return NULL;
}
