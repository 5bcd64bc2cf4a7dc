/* ntor (tor-spec §5.1.4) and CREATE_FAST (§5.1.5) known answers.
 *
 * The spec publishes no ntor or KDF-TOR vectors.  These were computed by an
 * independent Python 3 implementation written from the spec text (the
 * `cryptography` package's X25519, hmac/hashlib for HMAC-SHA256 and SHA-1,
 * KDF-RFC5869 expanded by hand as in §5.2.2), with fixed inputs:
 *   ID = 01 02 .. 14, b = 40 41 .. 5f, x = 80 81 .. 9f, y = c0 c1 .. df
 *   CREATE_FAST: X = 11 22 .. ff 11 22 33 44 55, Y = 64 65 .. 77
 * secret_input = EXP(Y,x)|EXP(B,x)|ID|B|X|Y|PROTOID; KEY_SEED, verify and
 * AUTH = HMAC-SHA256 with keys t_key, t_verify, t_mac; keys = K_1|K_2|K_3
 * with K_(i+1) = HMAC(KEY_SEED, K_i | m_expand | INT8(i+1)). */
#include <string.h>

#include "core/crypto/onion_fast.h"
#include "core/crypto/onion_ntor.h"
#include "lib/crypto/crypto_init.h"
#include "tinytest.h"

static const char HEX_PUB_B[] =
    "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a";
static const char HEX_ONIONSKIN[] =
    "0102030405060708090a0b0c0d0e0f1011121314"
    "79a631eede1bf9c98f12032cdeadd0e7a079398fc786b88cc846ec89af85a51a"
    "493e82fc74464a59268817623d2053c5eb8e2cc4a988b4fee179ec6b010d531d";
static const char HEX_REPLY[] =
    "dc2cca31e8e43bbd91dff7e475cca3347eb478107d5bd765aba4ae4a30c35d44"
    "ab30a7ee41b3a5b013c613e6fbea732854356f2d567e790574967a63559e48b4";
static const char HEX_KEYS[] =
    "6ce03618b6391d1e096b16317180c1cfa1df7e04" /* Df */
    "53dcb54133791b2c2c953556297b7a310552d999" /* Db */
    "dfa3d9ed56f994aa291ad142c55a0572"         /* Kf */
    "5eb08c9c9efa609cfdb89c5603006a7e";        /* Kb */

static const char HEX_FAST_X[] = "112233445566778899aabbccddeeff1122334455";
static const char HEX_FAST_Y[] = "6465666768696a6b6c6d6e6f7071727374757677";
static const char HEX_FAST_KH[] = "f3b50fbcbef9ccbd0858782b1063660108724492";
static const char HEX_FAST_KEYS[] = "7a3bf037042b74161b8380e7be6ec56c5f06cdf4"
                                    "be72cefffd63e070528901c41cac505d1f449704"
                                    "0a571d157e436c0e16c13c8bbaf95a2e"
                                    "757480bb0a34622dfe767d4ec944d215";

static void
fill_seq(uint8_t *p, size_t n, uint8_t first)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)(first + i);
}

static bool
keys_equal(const relay_keys_t *k, const uint8_t m[RELAY_KEY_MATERIAL_LEN])
{
  return memcmp(k->df, m, 20) == 0 && memcmp(k->db, m + 20, 20) == 0 &&
         memcmp(k->kf, m + 40, 16) == 0 && memcmp(k->kb, m + 56, 16) == 0;
}

/* Client: the onionskin and, on the known reply, the known keys. */
static void
test_ntor_client_kat(void)
{
  uint8_t id[20], sec_x[32], pub_b[32], skin[84], want_skin[84], reply[64];
  uint8_t want_keys[RELAY_KEY_MATERIAL_LEN];
  onion_ntor_client_t st;
  relay_keys_t keys;

  memset(&st, 0, sizeof(st));
  memset(&keys, 0, sizeof(keys));
  T_OK(crypto_global_init());
  fill_seq(id, sizeof(id), 0x01);
  fill_seq(sec_x, sizeof(sec_x), 0x80);
  T_EQ_INT(t_unhex(HEX_PUB_B, pub_b, sizeof(pub_b)), 32);
  T_EQ_INT(t_unhex(HEX_ONIONSKIN, want_skin, sizeof(want_skin)), 84);
  T_EQ_INT(t_unhex(HEX_REPLY, reply, sizeof(reply)), 64);
  T_EQ_INT(t_unhex(HEX_KEYS, want_keys, sizeof(want_keys)), 72);

  T_OK(onion_ntor_client_create_with_secret(&st, id, pub_b, sec_x, skin));
  T_EQ_MEM(skin, want_skin, sizeof(skin));
  T_OK(onion_ntor_client_finish(&st, reply, &keys));
  T_ASSERT(keys_equal(&keys, want_keys));
done:
  onion_ntor_client_clear(&st);
  relay_keys_clear(&keys);
}

/* Server helper: the known reply and keys from the known onionskin. */
static void
test_ntor_server_kat(void)
{
  uint8_t id[20], sec_b[32], sec_y[32], pub_b[32], skin[84], reply[64];
  uint8_t want_reply[64], want_keys[RELAY_KEY_MATERIAL_LEN];
  relay_keys_t keys;

  memset(&keys, 0, sizeof(keys));
  T_OK(crypto_global_init());
  fill_seq(id, sizeof(id), 0x01);
  fill_seq(sec_b, sizeof(sec_b), 0x40);
  fill_seq(sec_y, sizeof(sec_y), 0xc0);
  T_EQ_INT(t_unhex(HEX_PUB_B, pub_b, sizeof(pub_b)), 32);
  T_EQ_INT(t_unhex(HEX_ONIONSKIN, skin, sizeof(skin)), 84);
  T_EQ_INT(t_unhex(HEX_REPLY, want_reply, sizeof(want_reply)), 64);
  T_EQ_INT(t_unhex(HEX_KEYS, want_keys, sizeof(want_keys)), 72);

  T_OK(onion_ntor_server_handshake(id, sec_b, pub_b, skin, sec_y, reply,
                                   &keys));
  T_EQ_MEM(reply, want_reply, sizeof(reply));
  T_ASSERT(keys_equal(&keys, want_keys));
done:
  relay_keys_clear(&keys);
}

/* CREATE_FAST: KDF-TOR(X|Y) = KH | Df | Db | Kf | Kb. */
static void
test_fast_kat(void)
{
  uint8_t x[20], y[20], kh[20], want_kh[20];
  uint8_t want_keys[RELAY_KEY_MATERIAL_LEN];
  onion_fast_client_t st;
  relay_keys_t keys;

  memset(&st, 0, sizeof(st));
  memset(&keys, 0, sizeof(keys));
  T_OK(crypto_global_init());
  T_EQ_INT(t_unhex(HEX_FAST_X, x, sizeof(x)), 20);
  T_EQ_INT(t_unhex(HEX_FAST_Y, y, sizeof(y)), 20);
  T_EQ_INT(t_unhex(HEX_FAST_KH, want_kh, sizeof(want_kh)), 20);
  T_EQ_INT(t_unhex(HEX_FAST_KEYS, want_keys, sizeof(want_keys)), 72);

  T_OK(onion_fast_server_handshake(x, y, kh, &keys));
  T_EQ_MEM(kh, want_kh, sizeof(kh));
  T_ASSERT(keys_equal(&keys, want_keys));

  /* The client with X injected (the state is plain data) agrees. */
  relay_keys_clear(&keys);
  memcpy(st.x, x, sizeof(x));
  st.active = true;
  T_OK(onion_fast_client_finish(&st, y, want_kh, &keys));
  T_ASSERT(keys_equal(&keys, want_keys));
done:
  onion_fast_client_clear(&st);
  relay_keys_clear(&keys);
}

static const t_case cases[] = {
    T_CASE(test_ntor_client_kat),
    T_CASE(test_ntor_server_kat),
    T_CASE(test_fast_kat),
    T_END,
};
T_MAIN(cases)
