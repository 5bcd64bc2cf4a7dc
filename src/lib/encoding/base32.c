/**
 * @file base32.c
 * @brief Base32 codec (RFC 4648 §6), constant-time in the data.
 *
 * Pure: no I/O, no allocation, no logging.  Branches depend only on
 * lengths and on where "=" padding starts (which the length determines
 * for valid input), never on the value of a data character.
 **/
#include "lib/encoding/base32.h"

#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/encoding/ct_ascii.h"
#include "lib/malloc/malloc.h"

/* see base32.h */
size_t
base32_encoded_len(size_t in_len, unsigned flags)
{
  /* 5 bytes -> 8 chars; a partial group of k bytes -> ceil(8k/5) chars. */
  static const size_t tail_chars[5] = {0, 2, 4, 5, 7};
  size_t groups = in_len / 5, rem = in_len % 5;
  if (groups > (SIZE_MAX - 8) / 8)
    return SIZE_MAX;
  if (flags & BASE32_PAD)
    return groups * 8 + (rem ? 8 : 0);
  return groups * 8 + tail_chars[rem];
}

/* see base32.h */
size_t
base32_decoded_max_len(size_t in_len)
{
  /* Exact for unpadded input of a valid length; an over-estimate else. */
  return (in_len / 8) * 5 + ((in_len % 8) * 5) / 8;
}

/** Return the character for the 5-bit value <b>v</b>. */
static inline char
b32_char(uint32_t v, uint32_t first_letter)
{
  uint32_t m_alpha = ct_lt_mask(v, 26);
  return (char)((m_alpha & (v + first_letter)) |
                (~m_alpha & 0xffu & (v - 26 + '2')));
}

/* see base32.h */
chive_err_t
base32_encode(const uint8_t *in, size_t in_len, char *out, size_t out_len,
              unsigned flags)
{
  size_t need = base32_encoded_len(in_len, flags);
  if (need == SIZE_MAX || out_len < need + 1)
    return CHIVE_ERR_LIMIT;
  uint32_t first = (flags & BASE32_UPPER) ? 'A' : 'a';
  uint32_t acc = 0;
  unsigned nbits = 0;
  size_t o = 0;
  for (size_t i = 0; i < in_len; i++) {
    acc = ((acc << 8) | in[i]) & 0xfffu;
    nbits += 8;
    while (nbits >= 5) {
      nbits -= 5;
      out[o++] = b32_char((acc >> nbits) & 31u, first);
    }
  }
  if (nbits > 0)
    out[o++] = b32_char((acc << (5 - nbits)) & 31u, first);
  while (o < need)
    out[o++] = '=';
  out[o] = '\0';
  return CHIVE_OK;
}

/** Return the value of base32 character <b>c</b>; OR 0xff into *bad if it
 * is not one. */
static inline uint32_t
b32_value(uint32_t c, uint32_t *bad)
{
  uint32_t m_alpha = ct_range_mask(c, 'a', 'z') | ct_range_mask(c, 'A', 'Z');
  uint32_t lc = c | 0x20u; /* 'A'..'Z' -> 'a'..'z'; used only if m_alpha */
  uint32_t m_digit = ct_range_mask(c, '2', '7');
  *bad |= ~(m_alpha | m_digit) & 0xffu;
  return (m_alpha & (lc - 'a')) | (m_digit & (c - '2' + 26));
}

/* see base32.h */
chive_err_t
base32_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len,
              size_t *n_out)
{
  /* Padding: strip it first (its amount depends only on the length of
   * the data part), then check it was exactly what the RFC requires. */
  size_t n_data = in_len;
  while (n_data > 0 && in[n_data - 1] == '=')
    n_data--;
  size_t n_pad = in_len - n_data;
  size_t rem = n_data % 8;
  /* Partial last group: 2, 4, 5 or 7 chars are valid (1, 2, 3, 4 bytes);
   * 1, 3 and 6 cannot come from any byte string. */
  if (rem == 1 || rem == 3 || rem == 6)
    return CHIVE_ERR_PROTO;
  if (n_pad != 0 && (rem == 0 || (n_data + n_pad) % 8 != 0 || n_pad >= 8))
    return CHIVE_ERR_PROTO;
  size_t n = base32_decoded_max_len(n_data);
  if (out_len < n)
    return CHIVE_ERR_LIMIT;

  rd_t r = rd_init((const uint8_t *)in, n_data);
  uint32_t bad = 0, acc = 0;
  unsigned nbits = 0;
  size_t o = 0;
  for (size_t i = 0; i < n_data; i++) {
    acc = ((acc << 5) | b32_value(rd_u8(&r), &bad)) & 0xfffu;
    nbits += 5;
    if (nbits >= 8) {
      nbits -= 8;
      out[o++] = (uint8_t)(acc >> nbits);
    }
  }
  /* Unused low bits of the last character must be zero (canonical). */
  bad |= acc & ((1u << nbits) - 1u);
  if (bad || !rd_done(&r) || o != n) {
    chive_memwipe(out, o);
    return CHIVE_ERR_PROTO;
  }
  *n_out = n;
  return CHIVE_OK;
}
