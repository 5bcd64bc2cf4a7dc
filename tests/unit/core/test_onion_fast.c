/* Unit tests for core/crypto/onion_fast: CREATE_FAST (tor-spec §5.1.5).
 * Known answers are in tests/vectors/test_ntor.c. */
#include <string.h>

#include "core/crypto/onion_fast.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "tinytest.h"

/* Client and server agree; KH is checked on every byte. */
static void
test_fast_roundtrip(void)
{
  onion_fast_client_t st;
  uint8_t x[ONION_FAST_KEY_LEN], x2[ONION_FAST_KEY_LEN];
  uint8_t y[ONION_FAST_KEY_LEN], kh[ONION_FAST_KEY_LEN];
  uint8_t bad[ONION_FAST_KEY_LEN];
  relay_keys_t ck, sk;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_OK(onion_fast_client_create(&st, x));
  T_ASSERT(st.active);
  T_OK(crypto_rand(y, sizeof(y)));
  T_OK(onion_fast_server_handshake(x, y, kh, &sk));

  for (size_t i = 0; i < sizeof(kh); i++) {
    memcpy(bad, kh, sizeof(kh));
    bad[i] ^= 0x01;
    T_EQ_INT(onion_fast_client_finish(&st, y, bad, &ck), CHIVE_ERR_CRYPTO);
    T_ASSERT(st.active);
  }
  /* A different Y changes K, so the genuine KH no longer matches. */
  memcpy(bad, y, sizeof(y));
  bad[3] ^= 0x40;
  T_EQ_INT(onion_fast_client_finish(&st, bad, kh, &ck), CHIVE_ERR_CRYPTO);

  T_OK(onion_fast_client_finish(&st, y, kh, &ck));
  T_EQ_MEM(&ck, &sk, sizeof(ck));
  T_ASSERT(!st.active);

  /* X is random per handshake. */
  T_OK(onion_fast_client_create(&st, x2));
  T_ASSERT(memcmp(x, x2, sizeof(x)) != 0);
done:
  onion_fast_client_clear(&st);
  relay_keys_clear(&ck);
  relay_keys_clear(&sk);
}

/* The four keys are distinct slices of K (not, e.g., all the same). */
static void
test_fast_keys_distinct(void)
{
  uint8_t x[ONION_FAST_KEY_LEN], y[ONION_FAST_KEY_LEN];
  uint8_t kh[ONION_FAST_KEY_LEN];
  relay_keys_t k;

  T_OK(crypto_global_init());
  memset(x, 0x11, sizeof(x));
  memset(y, 0x22, sizeof(y));
  T_OK(onion_fast_server_handshake(x, y, kh, &k));
  T_ASSERT(memcmp(kh, k.df, 20) != 0);
  T_ASSERT(memcmp(k.df, k.db, 20) != 0);
  T_ASSERT(memcmp(k.kf, k.kb, 16) != 0);
done:
  relay_keys_clear(&k);
}

static const t_case cases[] = {
    T_CASE(test_fast_roundtrip),
    T_CASE(test_fast_keys_distinct),
    T_END,
};
T_MAIN(cases)
