/* Unit tests for core/crypto/onion_ntor_v3: ntor-v3 (proposal 332) round
 * trips with circuit-extension messages, limits, degenerate keys, and the
 * CM/SM extension-list codec.  The proposal's vectors are in
 * tests/vectors/test_ntor_v3.c. */
#include <string.h>

#include "core/crypto/onion_ntor_v3.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "tinytest.h"

#define VER ((const uint8_t *)ONION_NTOR3_CIRC_VERIFICATION)
#define VER_LEN ONION_NTOR3_CIRC_VERIFICATION_LEN

typedef struct relay_id_t {
  uint8_t id[ONION_NTOR3_ID_LEN];
  crypto_x25519_keypair_t onion;
} relay_id_t;

static bool
relay_id_make(relay_id_t *r)
{
  return crypto_rand(r->id, sizeof(r->id)) == CHIVE_OK &&
         crypto_x25519_keypair_generate(&r->onion) == CHIVE_OK;
}

/* The verification string is Tor's, 14 bytes. */
static void
test_ntor3_circ_verification(void)
{
  T_EQ_UINT(strlen(ONION_NTOR3_CIRC_VERIFICATION),
            ONION_NTOR3_CIRC_VERIFICATION_LEN);
  T_EQ_STR(ONION_NTOR3_CIRC_VERIFICATION, "circuit extend");
  T_EQ_UINT(ONION_NTOR3_CLIENT_OVERHEAD_LEN, 128);
  T_EQ_UINT(ONION_NTOR3_SERVER_OVERHEAD_LEN, 64);
done:
  return;
}

/* A full circuit-extension exchange: the client asks for congestion
 * control, the relay answers with SENDME_INC, both get the same keys. */
static void
test_ntor3_roundtrip_cc(void)
{
  relay_id_t r;
  onion_ntor3_client_t cst;
  onion_ntor3_server_t sst;
  uint8_t cm[64], skin[512], cm_rcvd[512], sm[64], reply[512], sm_rcvd[512];
  size_t cm_len = 0, skin_len = 0, cm_rcvd_len = 0, sm_len = 0;
  size_t reply_len = 0, sm_rcvd_len = 0, n = 0;
  uint8_t ks_server[RELAY_KEY_MATERIAL_LEN];
  relay_keys_t ck, sk;
  onion_ntor3_ext_t exts[4];

  memset(&cst, 0, sizeof(cst));
  memset(&sst, 0, sizeof(sst));
  memset(&r, 0, sizeof(r));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));

  /* CM: [CC_REQUEST, empty]. */
  const onion_ntor3_ext_t req = {ONION_NTOR3_EXT_CC_REQUEST, 0, NULL};
  T_OK(onion_ntor3_exts_encode(&req, 1, cm, sizeof(cm), &cm_len));
  T_EQ_UINT(cm_len, 3);
  T_EQ_MEM(cm, "\x01\x01\x00", 3);

  T_OK(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN, cm,
                                 cm_len, skin, sizeof(skin), &skin_len));
  T_EQ_UINT(skin_len, ONION_NTOR3_CLIENT_OVERHEAD_LEN + cm_len);
  /* CM travels encrypted. */
  T_ASSERT(memcmp(skin + 96, cm, cm_len) != 0);

  T_OK(onion_ntor3_server_recv(&sst, r.id, r.onion.seckey, r.onion.pubkey, VER,
                               VER_LEN, skin, skin_len, cm_rcvd,
                               sizeof(cm_rcvd), &cm_rcvd_len));
  T_EQ_UINT(cm_rcvd_len, cm_len);
  T_EQ_MEM(cm_rcvd, cm, cm_len);
  T_OK(onion_ntor3_exts_parse(cm_rcvd, cm_rcvd_len, exts, 4, &n));
  T_EQ_UINT(n, 1);
  T_ASSERT(onion_ntor3_exts_find(exts, n, ONION_NTOR3_EXT_CC_REQUEST));

  /* SM: [CC_RESPONSE, sendme_inc = 31]. */
  static const uint8_t inc[1] = {31};
  const onion_ntor3_ext_t resp = {ONION_NTOR3_EXT_CC_RESPONSE, 1, inc};
  T_OK(onion_ntor3_exts_encode(&resp, 1, sm, sizeof(sm), &sm_len));
  T_OK(onion_ntor3_server_reply(&sst, NULL, sm, sm_len, reply, sizeof(reply),
                                &reply_len, ks_server, sizeof(ks_server)));
  T_EQ_UINT(reply_len, ONION_NTOR3_SERVER_OVERHEAD_LEN + sm_len);

  T_OK(onion_ntor3_client_finish_keys(&cst, reply, reply_len, sm_rcvd,
                                      sizeof(sm_rcvd), &sm_rcvd_len, &ck));
  T_EQ_UINT(sm_rcvd_len, sm_len);
  T_EQ_MEM(sm_rcvd, sm, sm_len);
  T_OK(onion_ntor3_exts_parse(sm_rcvd, sm_rcvd_len, exts, 4, &n));
  const onion_ntor3_ext_t *e =
      onion_ntor3_exts_find(exts, n, ONION_NTOR3_EXT_CC_RESPONSE);
  T_ASSERT(e != NULL && e->body_len == 1 && e->body[0] == 31);

  relay_keys_from_material(&sk, ks_server);
  T_EQ_MEM(&ck, &sk, sizeof(ck));
done:
  onion_ntor3_client_clear(&cst);
  onion_ntor3_server_clear(&sst);
  crypto_x25519_keypair_clear(&r.onion);
  relay_keys_clear(&ck);
  relay_keys_clear(&sk);
}

/* Empty messages both ways; the largest CM fits, one more does not. */
static void
test_ntor3_message_sizes(void)
{
  relay_id_t r;
  onion_ntor3_client_t cst;
  onion_ntor3_server_t sst;
  uint8_t cm[ONION_NTOR3_MAX_CLIENT_MSG_LEN + 1];
  uint8_t skin[ONION_NTOR3_CLIENT_OVERHEAD_LEN +
               ONION_NTOR3_MAX_CLIENT_MSG_LEN + 1];
  uint8_t cm_rcvd[ONION_NTOR3_MAX_CLIENT_MSG_LEN];
  uint8_t
      reply[ONION_NTOR3_SERVER_OVERHEAD_LEN + ONION_NTOR3_MAX_SERVER_MSG_LEN];
  uint8_t sm[ONION_NTOR3_MAX_SERVER_MSG_LEN], ks1[100], ks2[100];
  uint8_t big_sm[ONION_NTOR3_MAX_SERVER_MSG_LEN];
  size_t skin_len = 0, cm_rcvd_len = 0, reply_len = 0, sm_len = 0;

  memset(&cst, 0, sizeof(cst));
  memset(&sst, 0, sizeof(sst));
  memset(&r, 0, sizeof(r));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_OK(crypto_rand(cm, sizeof(cm)));
  T_OK(crypto_rand(big_sm, sizeof(big_sm)));

  /* Empty CM, empty SM. */
  T_OK(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN,
                                 NULL, 0, skin, sizeof(skin), &skin_len));
  T_EQ_UINT(skin_len, ONION_NTOR3_CLIENT_OVERHEAD_LEN);
  T_OK(onion_ntor3_server_recv(&sst, r.id, r.onion.seckey, r.onion.pubkey, VER,
                               VER_LEN, skin, skin_len, cm_rcvd,
                               sizeof(cm_rcvd), &cm_rcvd_len));
  T_EQ_UINT(cm_rcvd_len, 0);
  T_OK(onion_ntor3_server_reply(&sst, NULL, NULL, 0, reply, sizeof(reply),
                                &reply_len, ks1, sizeof(ks1)));
  T_EQ_UINT(reply_len, ONION_NTOR3_SERVER_OVERHEAD_LEN);
  T_OK(onion_ntor3_client_finish(&cst, reply, reply_len, NULL, 0, &sm_len, ks2,
                                 sizeof(ks2)));
  T_EQ_UINT(sm_len, 0);
  T_EQ_MEM(ks1, ks2, sizeof(ks1));

  /* Largest CM and SM. */
  T_OK(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN, cm,
                                 ONION_NTOR3_MAX_CLIENT_MSG_LEN, skin,
                                 sizeof(skin), &skin_len));
  T_EQ_UINT(skin_len, 505);
  T_OK(onion_ntor3_server_recv(&sst, r.id, r.onion.seckey, r.onion.pubkey, VER,
                               VER_LEN, skin, skin_len, cm_rcvd,
                               sizeof(cm_rcvd), &cm_rcvd_len));
  T_EQ_MEM(cm_rcvd, cm, ONION_NTOR3_MAX_CLIENT_MSG_LEN);
  T_OK(onion_ntor3_server_reply(&sst, NULL, big_sm, sizeof(big_sm), reply,
                                sizeof(reply), &reply_len, ks1, sizeof(ks1)));
  T_EQ_UINT(reply_len, 507);
  T_OK(onion_ntor3_client_finish(&cst, reply, reply_len, sm, sizeof(sm),
                                 &sm_len, ks2, sizeof(ks2)));
  T_EQ_UINT(sm_len, ONION_NTOR3_MAX_SERVER_MSG_LEN);
  T_EQ_MEM(sm, big_sm, sizeof(big_sm));
  T_EQ_MEM(ks1, ks2, sizeof(ks1));

  /* Over the limits. */
  T_EQ_INT(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN,
                                     cm, sizeof(cm), skin, sizeof(skin),
                                     &skin_len),
           CHIVE_ERR_INVAL);
  T_EQ_INT(onion_ntor3_client_create(
               &cst, r.id, r.onion.pubkey, VER, VER_LEN, cm, 10, skin,
               ONION_NTOR3_CLIENT_OVERHEAD_LEN + 9, &skin_len),
           CHIVE_ERR_LIMIT);
  T_ASSERT(!cst.active);
  T_OK(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN,
                                 NULL, 0, skin, sizeof(skin), &skin_len));
  memset(reply, 0x42, sizeof(reply));
  T_EQ_INT(onion_ntor3_client_finish(&cst, reply, sizeof(reply) + 0, sm,
                                     sizeof(sm), &sm_len, ks2, sizeof(ks2)),
           CHIVE_ERR_CRYPTO);
done:
  onion_ntor3_client_clear(&cst);
  onion_ntor3_server_clear(&sst);
  crypto_x25519_keypair_clear(&r.onion);
}

/* Degenerate DH inputs: Y = 0 in the reply, B = 0 at create. */
static void
test_ntor3_degenerate(void)
{
  relay_id_t r;
  onion_ntor3_client_t cst;
  uint8_t skin[512], reply[ONION_NTOR3_SERVER_OVERHEAD_LEN], ks[72];
  uint8_t zero_b[ONION_NTOR3_KEY_LEN];
  size_t skin_len = 0, sm_len = 0;

  memset(&cst, 0, sizeof(cst));
  memset(&r, 0, sizeof(r));
  memset(zero_b, 0, sizeof(zero_b));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_EQ_INT(onion_ntor3_client_create(&cst, r.id, zero_b, VER, VER_LEN, NULL, 0,
                                     skin, sizeof(skin), &skin_len),
           CHIVE_ERR_CRYPTO);
  T_ASSERT(!cst.active);
  T_OK(onion_ntor3_client_create(&cst, r.id, r.onion.pubkey, VER, VER_LEN,
                                 NULL, 0, skin, sizeof(skin), &skin_len));
  memset(reply, 0, sizeof(reply));
  T_EQ_INT(onion_ntor3_client_finish(&cst, reply, sizeof(reply), NULL, 0,
                                     &sm_len, ks, sizeof(ks)),
           CHIVE_ERR_CRYPTO);
  T_ASSERT(cst.active);
done:
  onion_ntor3_client_clear(&cst);
  crypto_x25519_keypair_clear(&r.onion);
}

/* Extension list codec: round trip, duplicates, overflow of the caller's
 * array, every strict prefix rejected, trailing bytes rejected. */
static void
test_ntor3_exts_codec(void)
{
  static const uint8_t b1[] = {7};
  static const uint8_t b3[] = {1, 2, 3, 4, 5};
  const onion_ntor3_ext_t in[] = {
      {ONION_NTOR3_EXT_CC_REQUEST, 0, NULL},
      {ONION_NTOR3_EXT_CC_RESPONSE, 1, b1},
      {0x99, 5, b3},
      {ONION_NTOR3_EXT_CC_RESPONSE, 1, b3},
  };
  uint8_t buf[64], longer[65];
  size_t len = 0, n = 0;
  onion_ntor3_ext_t out[4];

  T_OK(onion_ntor3_exts_encode(in, 4, buf, sizeof(buf), &len));
  T_EQ_UINT(len, 1 + 2 + 3 + 7 + 3);
  T_OK(onion_ntor3_exts_parse(buf, len, out, 4, &n));
  T_EQ_UINT(n, 4);
  for (size_t i = 0; i < 4; i++) {
    T_EQ_UINT(out[i].type, in[i].type);
    T_EQ_UINT(out[i].body_len, in[i].body_len);
    if (in[i].body_len)
      T_EQ_MEM(out[i].body, in[i].body, in[i].body_len);
  }
  /* First occurrence wins (proposal 332 §A.2). */
  const onion_ntor3_ext_t *e =
      onion_ntor3_exts_find(out, n, ONION_NTOR3_EXT_CC_RESPONSE);
  T_ASSERT(e == &out[1]);
  T_ASSERT(onion_ntor3_exts_find(out, n, 0x42) == NULL);

  /* Fewer slots than extensions: the rest are validated and dropped. */
  T_OK(onion_ntor3_exts_parse(buf, len, out, 2, &n));
  T_EQ_UINT(n, 2);
  T_OK(onion_ntor3_exts_parse(buf, len, NULL, 0, &n));
  T_EQ_UINT(n, 0);

  /* Every strict prefix except the empty message is malformed. */
  for (size_t i = 1; i < len; i++)
    T_EQ_INT(onion_ntor3_exts_parse(buf, i, out, 4, &n), CHIVE_ERR_PROTO);
  T_OK(onion_ntor3_exts_parse(buf, 0, out, 4, &n));
  T_EQ_UINT(n, 0);
  /* Trailing garbage after the declared extensions. */
  memcpy(longer, buf, len);
  longer[len] = 0;
  T_EQ_INT(onion_ntor3_exts_parse(longer, len + 1, out, 4, &n),
           CHIVE_ERR_PROTO);

  /* An empty list is one zero byte. */
  T_OK(onion_ntor3_exts_encode(NULL, 0, buf, sizeof(buf), &len));
  T_EQ_UINT(len, 1);
  T_EQ_UINT(buf[0], 0);
  /* Output too small. */
  T_EQ_INT(onion_ntor3_exts_encode(in, 4, buf, 10, &len), CHIVE_ERR_LIMIT);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_ntor3_circ_verification), T_CASE(test_ntor3_roundtrip_cc),
    T_CASE(test_ntor3_message_sizes),     T_CASE(test_ntor3_degenerate),
    T_CASE(test_ntor3_exts_codec),        T_END,
};
T_MAIN(cases)
