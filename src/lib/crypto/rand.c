/**
 * @file rand.c
 * @brief crypto_rand() over OpenSSL's RAND_bytes, plus a deterministic
 * test seam.
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <stdbool.h>
#include <string.h>

#include <openssl/rand.h>
#include <sodium.h>

#include "lib/crypto/crypto_int.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/* Deterministic test mode (see rand.h).  Process-wide on purpose: it
 * exists only so that tests can reproduce key generation. */
static bool det_enabled;
static uint8_t det_key[crypto_stream_chacha20_ietf_KEYBYTES];
static uint64_t det_calls;

void
crypto_rand_testing_set_deterministic(const uint8_t seed[32])
{
  if (seed) {
    memcpy(det_key, seed, sizeof(det_key));
    det_calls = 0;
    det_enabled = true;
  } else {
    chive_memwipe(det_key, sizeof(det_key));
    det_enabled = false;
  }
}

/** Deterministic stream: ChaCha20-IETF(key = seed, nonce = call count). */
static void
det_fill(uint8_t *out, size_t len)
{
  uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
  uint64_t c = det_calls++;
  for (size_t i = 0; i < 8; i++)
    nonce[i] = (uint8_t)(c >> (8 * i));
  memset(out, 0, len);
  CRYPTO_MUST(crypto_stream_chacha20_ietf_xor(out, out, len, nonce, det_key) ==
              0);
}

chive_err_t
crypto_rand(uint8_t *out, size_t len)
{
  if (det_enabled) {
    det_fill(out, len);
    return CHIVE_OK;
  }
  while (len > 0) {
    int chunk = len > (size_t)INT_MAX ? INT_MAX : (int)len;
    if (RAND_bytes(out, chunk) != 1) {
      chive_memwipe(out, len);
      return CHIVE_ERR_CRYPTO;
    }
    out += chunk;
    len -= (size_t)chunk;
  }
  return CHIVE_OK;
}

static uint64_t
rand_u64(void)
{
  uint8_t b[8];
  uint64_t v = 0;
  CRYPTO_MUST(crypto_rand(b, sizeof(b)) == CHIVE_OK);
  for (size_t i = 0; i < sizeof(b); i++)
    v = (v << 8) | b[i];
  chive_memwipe(b, sizeof(b));
  return v;
}

uint64_t
crypto_rand_u64_below(uint64_t n)
{
  if (BUG(n == 0))
    return 0;
  /* Reject the lowest (2^64 mod n) values, leaving a range whose size is
   * a multiple of n.  (-n) % n == 2^64 mod n in unsigned arithmetic. */
  uint64_t thresh = (0 - n) % n;
  for (;;) {
    uint64_t v = rand_u64();
    if (v >= thresh)
      return v % n;
  }
}

double
crypto_rand_double(void)
{
  /* 53 random bits scaled by 2^-53: uniform over the doubles k * 2^-53. */
  return (double)(rand_u64() >> 11) * (1.0 / 9007199254740992.0);
}
