/**
 * @file base16.c
 * @brief Hexadecimal codec (RFC 4648 §8), constant-time in the data.
 *
 * Pure: no I/O, no allocation, no logging.  The only branches depend on
 * lengths, never on the value of a byte or character.
 **/
#include "lib/encoding/base16.h"

#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/encoding/ct_ascii.h"
#include "lib/malloc/malloc.h"

/* see base16.h */
size_t
base16_encoded_len(size_t in_len)
{
  if (in_len > SIZE_MAX / 2)
    return SIZE_MAX;
  return in_len * 2;
}

/* see base16.h */
size_t
base16_decoded_max_len(size_t in_len)
{
  return in_len / 2;
}

/** Return the hex digit for the nibble <b>v</b> (0..15): '0'+v below 10,
 * else 'a'+v-10 (<b>alpha_off</b> = 39) or 'A'+v-10 (alpha_off = 7). */
static inline char
nibble_to_hex(uint32_t v, uint32_t alpha_off)
{
  uint32_t ge10 = ~ct_lt_mask(v, 10) & 0xffu;
  return (char)(v + '0' + (ge10 & alpha_off));
}

/* see base16.h */
chive_err_t
base16_encode(const uint8_t *in, size_t in_len, char *out, size_t out_len,
              unsigned flags)
{
  size_t need = base16_encoded_len(in_len);
  if (need == SIZE_MAX || out_len < need + 1)
    return CHIVE_ERR_LIMIT;
  uint32_t alpha_off = (flags & BASE16_UPPER) ? 7u : 39u;
  for (size_t i = 0; i < in_len; i++) {
    out[2 * i] = nibble_to_hex((uint32_t)in[i] >> 4, alpha_off);
    out[2 * i + 1] = nibble_to_hex((uint32_t)in[i] & 15u, alpha_off);
  }
  out[need] = '\0';
  return CHIVE_OK;
}

/** Return the value of hex digit <b>c</b> and OR 0xff into *<b>bad</b> if
 * c is not a hex digit (in which case the value is meaningless). */
static inline uint32_t
hex_to_nibble(uint32_t c, uint32_t *bad)
{
  uint32_t m_num = ct_range_mask(c, '0', '9');
  uint32_t m_low = ct_range_mask(c, 'a', 'f');
  uint32_t m_up = ct_range_mask(c, 'A', 'F');
  *bad |= ~(m_num | m_low | m_up) & 0xffu;
  return (m_num & (c - '0')) | (m_low & (c - 'a' + 10)) |
         (m_up & (c - 'A' + 10));
}

/* see base16.h */
chive_err_t
base16_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len,
              size_t *n_out)
{
  if (in_len % 2 != 0)
    return CHIVE_ERR_PROTO;
  size_t n = in_len / 2;
  if (out_len < n)
    return CHIVE_ERR_LIMIT;
  rd_t r = rd_init((const uint8_t *)in, in_len);
  uint32_t bad = 0;
  for (size_t i = 0; i < n; i++) {
    uint32_t hi = hex_to_nibble(rd_u8(&r), &bad);
    uint32_t lo = hex_to_nibble(rd_u8(&r), &bad);
    out[i] = (uint8_t)((hi << 4) | lo);
  }
  if (bad || !rd_done(&r)) {
    chive_memwipe(out, n);
    return CHIVE_ERR_PROTO;
  }
  *n_out = n;
  return CHIVE_OK;
}
