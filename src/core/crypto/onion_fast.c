/**
 * @file onion_fast.c
 * @brief CREATE_FAST key agreement (tor-spec §5.1.5, §5.2.1).
 *
 * K0 = X | Y; K = KDF-TOR(K0) = KH | Df | Db | Kf | Kb (20, 20, 20, 16,
 * 16 bytes).  Computed in locals, wiped at done:, committed only after the
 * KH check passed.
 **/
#include "core/crypto/onion_fast.h"

#include <string.h>

#include "lib/crypto/kdf.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** KDF-TOR output we use: KEY_LEN*2 + HASH_LEN*3 (tor-spec §5.2.1). */
#define ONION_FAST_KDF_OUT_LEN (ONION_FAST_KEY_LEN + RELAY_KEY_MATERIAL_LEN)

/** Compute KH and the keys from X and Y into <b>kh_out</b> and
 * <b>keys_out</b> (always written on success). */
static chive_err_t
onion_fast_derive(const uint8_t x[ONION_FAST_KEY_LEN],
                  const uint8_t y[ONION_FAST_KEY_LEN],
                  uint8_t kh_out[ONION_FAST_KEY_LEN], relay_keys_t *keys_out)
{
  uint8_t k0[2 * ONION_FAST_KEY_LEN];
  uint8_t k[ONION_FAST_KDF_OUT_LEN];
  chive_err_t err;

  /* tor-spec §5.2.1: "If CREATE_FAST is used, ... K0=X|Y." */
  memcpy(k0, x, ONION_FAST_KEY_LEN);
  memcpy(k0 + ONION_FAST_KEY_LEN, y, ONION_FAST_KEY_LEN);
  err = crypto_kdf_tor(k0, sizeof(k0), k, sizeof(k));
  if (err != CHIVE_OK)
    goto done;
  /* "The first HASH_LEN bytes of K form KH; the next HASH_LEN form the
   * forward digest Df; the next HASH_LEN ... Db; ... Kf, ... Kb." */
  memcpy(kh_out, k, ONION_FAST_KEY_LEN);
  relay_keys_from_material(keys_out, k + ONION_FAST_KEY_LEN);
done:
  chive_memwipe(k0, sizeof(k0));
  chive_memwipe(k, sizeof(k));
  return err;
}

/* see onion_fast.h */
chive_err_t
onion_fast_client_create(onion_fast_client_t *st,
                         uint8_t out_x[ONION_FAST_KEY_LEN])
{
  uint8_t x[ONION_FAST_KEY_LEN];
  chive_err_t err;

  if (BUG(st == NULL || out_x == NULL))
    return CHIVE_ERR_INVAL;
  /* tor-spec §5.1.5: "The values of X and Y must be generated randomly." */
  err = crypto_rand(x, sizeof(x));
  if (err != CHIVE_OK)
    goto done;
  memcpy(st->x, x, sizeof(x));
  st->active = true;
  memcpy(out_x, x, sizeof(x));
done:
  chive_memwipe(x, sizeof(x));
  return err;
}

/* see onion_fast.h */
chive_err_t
onion_fast_client_finish(onion_fast_client_t *st,
                         const uint8_t y[ONION_FAST_KEY_LEN],
                         const uint8_t kh[ONION_FAST_KEY_LEN],
                         relay_keys_t *keys_out)
{
  uint8_t kh_expected[ONION_FAST_KEY_LEN];
  relay_keys_t keys;
  chive_err_t err;

  if (BUG(st == NULL || !st->active || y == NULL || kh == NULL ||
          keys_out == NULL))
    return CHIVE_ERR_INVAL;

  err = onion_fast_derive(st->x, y, kh_expected, &keys);
  if (err != CHIVE_OK)
    goto done;
  /* KH proves the relay knows K; compare in constant time. */
  if (!chive_memeq_ct(kh_expected, kh, ONION_FAST_KEY_LEN)) {
    err = CHIVE_ERR_CRYPTO;
    goto done;
  }
  *keys_out = keys;
  onion_fast_client_clear(st);
done:
  chive_memwipe(kh_expected, sizeof(kh_expected));
  relay_keys_clear(&keys);
  return err;
}

/* see onion_fast.h */
void
onion_fast_client_clear(onion_fast_client_t *st)
{
  if (st)
    chive_memwipe(st, sizeof(*st));
}

/* see onion_fast.h */
chive_err_t
onion_fast_server_handshake(const uint8_t x[ONION_FAST_KEY_LEN],
                            const uint8_t y[ONION_FAST_KEY_LEN],
                            uint8_t kh_out[ONION_FAST_KEY_LEN],
                            relay_keys_t *keys_out)
{
  if (BUG(x == NULL || y == NULL || kh_out == NULL || keys_out == NULL))
    return CHIVE_ERR_INVAL;
  return onion_fast_derive(x, y, kh_out, keys_out);
}
