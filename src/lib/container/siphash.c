/**
 * @file siphash.c
 * @brief SipHash-2-4, written from the algorithm description in the
 * SipHash paper (§2): four 64-bit lanes initialised from the key and the
 * constants "somepseudorandomlygeneratedbytes", two SipRounds per 8-byte
 * little-endian message word, the length in the top byte of the last
 * word, 0xff folded into v2, four finalisation rounds.
 **/
#include "lib/container/siphash.h"

static inline uint64_t
rotl(uint64_t x, unsigned b)
{
  return (x << b) | (x >> (64 - b));
}

static inline uint64_t
load_le64(const uint8_t *p)
{
  uint64_t v = 0;
  for (unsigned i = 0; i < 8; i++)
    v |= (uint64_t)p[i] << (8 * i);
  return v;
}

#define SIPROUND(v0, v1, v2, v3) \
  do {                           \
    v0 += v1;                    \
    v1 = rotl(v1, 13);           \
    v1 ^= v0;                    \
    v0 = rotl(v0, 32);           \
    v2 += v3;                    \
    v3 = rotl(v3, 16);           \
    v3 ^= v2;                    \
    v0 += v3;                    \
    v3 = rotl(v3, 21);           \
    v3 ^= v0;                    \
    v2 += v1;                    \
    v1 = rotl(v1, 17);           \
    v1 ^= v2;                    \
    v2 = rotl(v2, 32);           \
  } while (0)

/* see siphash.h */
uint64_t
siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data, size_t len)
{
  const uint8_t *in = data;
  const uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
  uint64_t v0 = k0 ^ 0x736f6d6570736575ULL;
  uint64_t v1 = k1 ^ 0x646f72616e646f6dULL;
  uint64_t v2 = k0 ^ 0x6c7967656e657261ULL;
  uint64_t v3 = k1 ^ 0x7465646279746573ULL;
  size_t full = len - len % 8;
  for (size_t i = 0; i < full; i += 8) {
    uint64_t m = load_le64(in + i);
    v3 ^= m;
    SIPROUND(v0, v1, v2, v3);
    SIPROUND(v0, v1, v2, v3);
    v0 ^= m;
  }
  uint64_t b = (uint64_t)len << 56;
  for (size_t i = 0; i < len % 8; i++)
    b |= (uint64_t)in[full + i] << (8 * i);
  v3 ^= b;
  SIPROUND(v0, v1, v2, v3);
  SIPROUND(v0, v1, v2, v3);
  v0 ^= b;
  v2 ^= 0xff;
  for (int i = 0; i < 4; i++)
    SIPROUND(v0, v1, v2, v3);
  return v0 ^ v1 ^ v2 ^ v3;
}
