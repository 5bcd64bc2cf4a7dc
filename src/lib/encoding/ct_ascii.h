/**
 * @file ct_ascii.h
 * @brief Constant-time character classification for the codecs in
 * lib/encoding.  Internal to this directory.
 *
 * Every helper computes its answer with arithmetic on the character's
 * value: no table is indexed by the character and no branch depends on
 * it, so the time taken does not reveal the bytes of a secret being
 * encoded or decoded (key material, auth cookies).  Masks are 0xff for
 * "true" and 0 for "false" so they combine with & and |.
 **/
#ifndef CHIVE_LIB_ENCODING_CT_ASCII_H
#define CHIVE_LIB_ENCODING_CT_ASCII_H

#include <stdint.h>

/** Return 0xff if lo <= c <= hi, else 0.  c, lo and hi MUST be < 256.
 * If c < lo, c - lo wraps to a value whose bits 8..31 are all set; the
 * same holds for hi - c when c > hi; so bits 8..15 of the OR are set
 * exactly when c is out of range. */
static inline uint32_t
ct_range_mask(uint32_t c, uint32_t lo, uint32_t hi)
{
  return ~(((c - lo) | (hi - c)) >> 8) & 0xffu;
}

/** Return 0xff if c == v, else 0 (c, v < 256). */
static inline uint32_t
ct_eq_mask(uint32_t c, uint32_t v)
{
  return ct_range_mask(c, v, v);
}

/** Return 0xff if c < v, else 0 (c, v < 256, v > 0). */
static inline uint32_t
ct_lt_mask(uint32_t c, uint32_t v)
{
  return ((c - v) >> 8) & 0xffu;
}

#endif /* !defined(CHIVE_LIB_ENCODING_CT_ASCII_H) */
