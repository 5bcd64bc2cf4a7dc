/**
 * @file base64.c
 * @brief Base64 codec (RFC 4648 §4), constant-time in the data.
 *
 * Pure: no I/O, no allocation, no logging.  The decoder branches on
 * whether a character is whitespace or "=" (positions the document's
 * layout fixes) but computes each data character's value with
 * arithmetic masks, not a lookup table.
 **/
#include "lib/encoding/base64.h"

#include <string.h>

#include "lib/bytes/bytes.h"
#include "lib/encoding/ct_ascii.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/* see base64.h */
size_t
base64_encoded_len(size_t in_len, unsigned flags)
{
  size_t groups = in_len / 3, rem = in_len % 3;
  if (groups > SIZE_MAX / 8)
    return SIZE_MAX;
  size_t n = groups * 4;
  if (rem)
    n += (flags & BASE64_NOPAD) ? rem + 1 : 4;
  if ((flags & BASE64_WRAP64) && n > 0)
    n += (n + BASE64_LINE_LEN - 1) / BASE64_LINE_LEN;
  return n;
}

/* see base64.h */
size_t
base64_decoded_max_len(size_t in_len)
{
  /* Four characters carry three bytes; a partial group of 2 or 3 carries
   * 1 or 2.  Whitespace and padding only make the result smaller. */
  return (in_len / 4) * 3 + ((in_len % 4) * 3) / 4;
}

/** Return the character for the 6-bit value <b>v</b>. */
static inline char
b64_char(uint32_t v)
{
  uint32_t m_up = ct_lt_mask(v, 26);
  uint32_t m_low = ct_range_mask(v, 26, 51);
  uint32_t m_dig = ct_range_mask(v, 52, 61);
  uint32_t m_plus = ct_eq_mask(v, 62);
  uint32_t m_slash = ct_eq_mask(v, 63);
  return (char)((m_up & (v + 'A')) | (m_low & (v - 26 + 'a')) |
                (m_dig & (v - 52 + '0')) | (m_plus & '+') | (m_slash & '/'));
}

/* see base64.h */
chive_err_t
base64_encode(const uint8_t *in, size_t in_len, char *out, size_t out_len,
              unsigned flags)
{
  size_t need = base64_encoded_len(in_len, flags);
  if (need == SIZE_MAX || out_len < need + 1)
    return CHIVE_ERR_LIMIT;
  const int wrap = (flags & BASE64_WRAP64) != 0;
  const int pad = (flags & BASE64_NOPAD) == 0;
  size_t o = 0, col = 0;
  uint32_t acc = 0;
  unsigned nbits = 0;

/* Emit one character, wrapping lines when asked to. */
#define EMIT(ch)                            \
  do {                                      \
    out[o++] = (ch);                        \
    if (wrap && ++col == BASE64_LINE_LEN) { \
      out[o++] = '\n';                      \
      col = 0;                              \
    }                                       \
  } while (0)

  for (size_t i = 0; i < in_len; i++) {
    acc = ((acc << 8) | in[i]) & 0xffffu;
    nbits += 8;
    while (nbits >= 6) {
      nbits -= 6;
      EMIT(b64_char((acc >> nbits) & 63u));
    }
  }
  if (nbits > 0) {
    EMIT(b64_char((acc << (6 - nbits)) & 63u));
    if (pad) {
      /* 2 leftover bits -> "==", 4 leftover bits -> "=". */
      EMIT('=');
      if (nbits == 2)
        EMIT('=');
    }
  }
  if (wrap && col != 0)
    out[o++] = '\n';
#undef EMIT
  CHIVE_ASSERT(o == need);
  out[o] = '\0';
  return CHIVE_OK;
}

/** Return the value of base64 data character <b>c</b>; OR 0xff into
 * *<b>bad</b> if it is not one. */
static inline uint32_t
b64_value(uint32_t c, uint32_t *bad)
{
  uint32_t m_up = ct_range_mask(c, 'A', 'Z');
  uint32_t m_low = ct_range_mask(c, 'a', 'z');
  uint32_t m_dig = ct_range_mask(c, '0', '9');
  uint32_t m_plus = ct_eq_mask(c, '+');
  uint32_t m_slash = ct_eq_mask(c, '/');
  *bad |= ~(m_up | m_low | m_dig | m_plus | m_slash) & 0xffu;
  return (m_up & (c - 'A')) | (m_low & (c - 'a' + 26)) |
         (m_dig & (c - '0' + 52)) | (m_plus & 62u) | (m_slash & 63u);
}

/** Return 0xff if <b>c</b> is whitespace the decoder skips. */
static inline uint32_t
b64_space_mask(uint32_t c)
{
  return ct_eq_mask(c, ' ') | ct_eq_mask(c, '\t') | ct_eq_mask(c, '\r') |
         ct_eq_mask(c, '\n');
}

/* see base64.h */
chive_err_t
base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_len,
              size_t *n_out)
{
  rd_t r = rd_init((const uint8_t *)in, in_len);
  uint32_t bad = 0, acc = 0;
  unsigned nbits = 0;
  size_t o = 0, n_data = 0, n_pad = 0;
  chive_err_t err = CHIVE_ERR_PROTO;

  while (rd_left(&r) > 0) {
    uint32_t c = rd_u8(&r);
    if (b64_space_mask(c))
      continue;
    if (ct_eq_mask(c, '=')) {
      if (++n_pad > 2)
        goto fail;
      continue;
    }
    if (n_pad)
      goto fail; /* data after padding */
    acc = ((acc << 6) | b64_value(c, &bad)) & 0xfffu;
    nbits += 6;
    n_data++;
    if (nbits >= 8) {
      nbits -= 8;
      if (o >= out_len) {
        err = CHIVE_ERR_LIMIT;
        goto fail;
      }
      out[o++] = (uint8_t)(acc >> nbits);
    }
  }
  /* A last group of one character cannot come from any byte string;
   * present padding must complete the last group exactly. */
  size_t rem = n_data % 4;
  if (rem == 1)
    goto fail;
  if (n_pad != 0 && (rem == 0 || rem + n_pad != 4))
    goto fail;
  /* Unused low bits of the last character must be zero (canonical). */
  bad |= acc & ((1u << nbits) - 1u);
  if (bad || !rd_done(&r))
    goto fail;
  *n_out = o;
  return CHIVE_OK;

fail:
  chive_memwipe(out, o);
  return err;
}
