/* Unit tests for core/crypto/onion_ntor: the ntor handshake (tor-spec
 * §5.1.4) between our client and the test-only server helper.  Known
 * answers are in tests/vectors/test_ntor.c. */
#include <string.h>

#include "core/crypto/onion_ntor.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "tinytest.h"

/** A relay's long-term identity for the tests. */
typedef struct relay_id_t {
  uint8_t id[ONION_NTOR_ID_LEN];
  crypto_x25519_keypair_t onion;
} relay_id_t;

static bool
relay_id_make(relay_id_t *r)
{
  return crypto_rand(r->id, sizeof(r->id)) == CHIVE_OK &&
         crypto_x25519_keypair_generate(&r->onion) == CHIVE_OK;
}

/* Both sides derive the same keys; fresh handshakes differ. */
static void
test_ntor_roundtrip(void)
{
  relay_id_t r;
  onion_ntor_client_t st;
  uint8_t skin[ONION_NTOR_ONIONSKIN_LEN], skin2[ONION_NTOR_ONIONSKIN_LEN];
  uint8_t reply[ONION_NTOR_REPLY_LEN];
  relay_keys_t ck, sk;

  memset(&st, 0, sizeof(st));
  memset(&r, 0, sizeof(r));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_OK(onion_ntor_client_create(&st, r.id, r.onion.pubkey, skin));
  T_EQ_MEM(skin, r.id, ONION_NTOR_ID_LEN);
  T_EQ_MEM(skin + ONION_NTOR_ID_LEN, r.onion.pubkey, ONION_NTOR_KEY_LEN);
  T_OK(onion_ntor_server_handshake(r.id, r.onion.seckey, r.onion.pubkey, skin,
                                   NULL, reply, &sk));
  T_OK(onion_ntor_client_finish(&st, reply, &ck));
  T_EQ_MEM(&ck, &sk, sizeof(ck));
  /* Success wipes the ephemeral secret. */
  T_ASSERT(!st.active);
  static const uint8_t zero[ONION_NTOR_KEY_LEN] = {0};
  T_EQ_MEM(st.sec_x, zero, sizeof(zero));

  /* A second handshake uses a fresh X. */
  T_OK(onion_ntor_client_create(&st, r.id, r.onion.pubkey, skin2));
  T_ASSERT(memcmp(skin + 52, skin2 + 52, 32) != 0);
done:
  onion_ntor_client_clear(&st);
  crypto_x25519_keypair_clear(&r.onion);
  relay_keys_clear(&ck);
  relay_keys_clear(&sk);
}

/* Any change to Y or AUTH is rejected; the state survives a rejection. */
static void
test_ntor_tampered_reply(void)
{
  relay_id_t r;
  onion_ntor_client_t st;
  uint8_t skin[ONION_NTOR_ONIONSKIN_LEN];
  uint8_t reply[ONION_NTOR_REPLY_LEN], bad[ONION_NTOR_REPLY_LEN];
  relay_keys_t ck, sk;

  memset(&st, 0, sizeof(st));
  memset(&r, 0, sizeof(r));
  memset(&ck, 0xa5, sizeof(ck));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_OK(onion_ntor_client_create(&st, r.id, r.onion.pubkey, skin));
  T_OK(onion_ntor_server_handshake(r.id, r.onion.seckey, r.onion.pubkey, skin,
                                   NULL, reply, &sk));
  for (size_t i = 0; i < sizeof(reply); i++) {
    memcpy(bad, reply, sizeof(reply));
    bad[i] ^= (uint8_t)(1u << (i % 8));
    T_EQ_INT(onion_ntor_client_finish(&st, bad, &ck), CHIVE_ERR_CRYPTO);
    T_ASSERT(st.active);
  }
  /* keys_out untouched by failures. */
  relay_keys_t pattern;
  memset(&pattern, 0xa5, sizeof(pattern));
  T_EQ_MEM(&ck, &pattern, sizeof(ck));
  T_OK(onion_ntor_client_finish(&st, reply, &ck));
  T_EQ_MEM(&ck, &sk, sizeof(ck));
done:
  onion_ntor_client_clear(&st);
  crypto_x25519_keypair_clear(&r.onion);
  relay_keys_clear(&ck);
  relay_keys_clear(&sk);
}

/* Y = 0 and other small-order points make EXP(Y,x) all zero: rejected
 * (tor-spec §5.1.4 "none of the EXP() operations produced the point at
 * infinity"), even with an AUTH the attacker could compute. */
static void
test_ntor_degenerate_y(void)
{
  relay_id_t r;
  onion_ntor_client_t st;
  uint8_t skin[ONION_NTOR_ONIONSKIN_LEN], reply[ONION_NTOR_REPLY_LEN];
  relay_keys_t ck;

  memset(&st, 0, sizeof(st));
  memset(&r, 0, sizeof(r));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_OK(onion_ntor_client_create(&st, r.id, r.onion.pubkey, skin));

  memset(reply, 0, sizeof(reply)); /* Y = 0 */
  T_EQ_INT(onion_ntor_client_finish(&st, reply, &ck), CHIVE_ERR_CRYPTO);
  reply[0] = 1; /* Y = 1, a point of small order */
  T_EQ_INT(onion_ntor_client_finish(&st, reply, &ck), CHIVE_ERR_CRYPTO);
  T_ASSERT(st.active);

  /* The server helper likewise refuses X = 0. */
  uint8_t zero_skin[ONION_NTOR_ONIONSKIN_LEN];
  memcpy(zero_skin, skin, sizeof(skin));
  memset(zero_skin + ONION_NTOR_ID_LEN + ONION_NTOR_KEY_LEN, 0,
         ONION_NTOR_KEY_LEN);
  T_EQ_INT(onion_ntor_server_handshake(r.id, r.onion.seckey, r.onion.pubkey,
                                       zero_skin, NULL, reply, &ck),
           CHIVE_ERR_CRYPTO);
done:
  onion_ntor_client_clear(&st);
  crypto_x25519_keypair_clear(&r.onion);
  relay_keys_clear(&ck);
}

/* A reply from a relay with another onion key (or for another ID) fails
 * the AUTH check; the server helper refuses a foreign NODEID/KEYID. */
static void
test_ntor_wrong_relay(void)
{
  relay_id_t r, other;
  onion_ntor_client_t st;
  uint8_t skin[ONION_NTOR_ONIONSKIN_LEN], reply[ONION_NTOR_REPLY_LEN];
  relay_keys_t ck, sk;

  memset(&st, 0, sizeof(st));
  memset(&r, 0, sizeof(r));
  memset(&other, 0, sizeof(other));
  T_OK(crypto_global_init());
  T_ASSERT(relay_id_make(&r));
  T_ASSERT(relay_id_make(&other));
  T_OK(onion_ntor_client_create(&st, r.id, r.onion.pubkey, skin));
  T_EQ_INT(onion_ntor_server_handshake(other.id, other.onion.seckey,
                                       other.onion.pubkey, skin, NULL, reply,
                                       &sk),
           CHIVE_ERR_PROTO);
  T_EQ_INT(onion_ntor_server_handshake(r.id, other.onion.seckey,
                                       other.onion.pubkey, skin, NULL, reply,
                                       &sk),
           CHIVE_ERR_PROTO);
  /* An impostor that ignores KEYID and answers with its own key b'. */
  T_OK(onion_ntor_server_handshake(r.id, other.onion.seckey, r.onion.pubkey,
                                   skin, NULL, reply, &sk));
  T_EQ_INT(onion_ntor_client_finish(&st, reply, &ck), CHIVE_ERR_CRYPTO);
done:
  onion_ntor_client_clear(&st);
  crypto_x25519_keypair_clear(&r.onion);
  crypto_x25519_keypair_clear(&other.onion);
  relay_keys_clear(&ck);
  relay_keys_clear(&sk);
}

static const t_case cases[] = {
    T_CASE(test_ntor_roundtrip),
    T_CASE(test_ntor_tampered_reply),
    T_CASE(test_ntor_degenerate_y),
    T_CASE(test_ntor_wrong_relay),
    T_END,
};
T_MAIN(cases)
