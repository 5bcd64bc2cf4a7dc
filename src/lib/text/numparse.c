/**
 * @file numparse.c
 * @brief Checked number parsing (see numparse.h).
 *
 * Reads through rd_t one byte at a time; pure: no I/O, no allocation, no
 * logging, and never consults the C locale.
 **/
#include "lib/text/numparse.h"

#include <float.h>
#include <stdbool.h>

#include "lib/bytes/bytes.h"
#include "lib/err/err.h"

/** Return the value of digit <b>c</b> in any base up to 36, or 99. */
static unsigned
digit_value(int c)
{
  if (c >= '0' && c <= '9')
    return (unsigned)(c - '0');
  if (c >= 'a' && c <= 'z')
    return (unsigned)(c - 'a' + 10);
  if (c >= 'A' && c <= 'Z')
    return (unsigned)(c - 'A' + 10);
  return 99;
}

/** Return the next byte of <b>r</b> without consuming it, or -1 at the
 * end. */
static int
peek(const rd_t *r)
{
  rd_t tmp = *r;
  if (rd_left(&tmp) == 0)
    return -1;
  return rd_u8(&tmp);
}

/** Parse a run of base-<b>base</b> digits from <b>r</b> into *<b>out</b>,
 * saturating: set *<b>overflow</b> if the value exceeds UINT64_MAX.
 * Return the number of digits consumed. */
static size_t
read_digits(rd_t *r, unsigned base, uint64_t *out, bool *overflow)
{
  uint64_t v = 0;
  size_t n = 0;
  int c;
  *overflow = false;
  while ((c = peek(r)) >= 0 && digit_value(c) < base) {
    unsigned d = digit_value(rd_u8(r));
    if (v > (UINT64_MAX - d) / base)
      *overflow = true;
    else
      v = v * base + d;
    n++;
  }
  *out = v;
  return n;
}

/* see numparse.h */
chive_err_t
parse_u64_prefix(const char *s, size_t len, int base, uint64_t min,
                 uint64_t max, uint64_t *out, size_t *n_used)
{
  if (BUG(base < 2 || base > 36) || BUG(min > max))
    return CHIVE_ERR_INVAL;
  rd_t r = rd_init((const uint8_t *)s, len);
  uint64_t v;
  bool overflow;
  size_t n = read_digits(&r, (unsigned)base, &v, &overflow);
  if (n == 0)
    return CHIVE_ERR_PROTO;
  if (overflow || v < min || v > max)
    return CHIVE_ERR_LIMIT;
  *out = v;
  *n_used = n;
  return CHIVE_OK;
}

/* see numparse.h */
chive_err_t
parse_u64(const char *s, size_t len, int base, uint64_t min, uint64_t max,
          uint64_t *out)
{
  if (BUG(base < 2 || base > 36) || BUG(min > max))
    return CHIVE_ERR_INVAL;
  rd_t r = rd_init((const uint8_t *)s, len);
  uint64_t v;
  bool overflow;
  size_t n = read_digits(&r, (unsigned)base, &v, &overflow);
  if (n == 0 || !rd_done(&r))
    return CHIVE_ERR_PROTO;
  if (overflow || v < min || v > max)
    return CHIVE_ERR_LIMIT;
  *out = v;
  return CHIVE_OK;
}

/* see numparse.h */
chive_err_t
parse_i64(const char *s, size_t len, int base, int64_t min, int64_t max,
          int64_t *out)
{
  if (BUG(base < 2 || base > 36) || BUG(min > max))
    return CHIVE_ERR_INVAL;
  rd_t r = rd_init((const uint8_t *)s, len);
  bool neg = false;
  int c = peek(&r);
  if (c == '-' || c == '+') {
    neg = (c == '-');
    rd_skip(&r, 1);
  }
  uint64_t mag;
  bool overflow;
  size_t n = read_digits(&r, (unsigned)base, &mag, &overflow);
  if (n == 0 || !rd_done(&r))
    return CHIVE_ERR_PROTO;
  /* |INT64_MIN| = INT64_MAX + 1. */
  const uint64_t lim = neg ? (uint64_t)INT64_MAX + 1u : (uint64_t)INT64_MAX;
  if (overflow || mag > lim)
    return CHIVE_ERR_LIMIT;
  int64_t v;
  if (neg)
    v = mag == lim ? INT64_MIN : -(int64_t)mag;
  else
    v = (int64_t)mag;
  if (v < min || v > max)
    return CHIVE_ERR_LIMIT;
  *out = v;
  return CHIVE_OK;
}

/* see numparse.h */
chive_err_t
parse_u32(const char *s, size_t len, int base, uint32_t min, uint32_t max,
          uint32_t *out)
{
  uint64_t v;
  chive_err_t e = parse_u64(s, len, base, min, max, &v);
  if (e == CHIVE_OK)
    *out = (uint32_t)v;
  return e;
}

/* see numparse.h */
chive_err_t
parse_i32(const char *s, size_t len, int base, int32_t min, int32_t max,
          int32_t *out)
{
  int64_t v;
  chive_err_t e = parse_i64(s, len, base, min, max, &v);
  if (e == CHIVE_OK)
    *out = (int32_t)v;
  return e;
}

/** Significant decimal digits kept in the mantissa: 19 always fit in a
 * uint64_t (10^19 - 1 < 2^64). */
#define DOUBLE_MAX_SIG_DIGITS 19
/** Decimal exponents beyond this are clamped: any non-zero mantissa
 * already over- or underflows a double long before. */
#define DOUBLE_EXP_CLAMP 10000

/** Return 10^<b>k</b> (k >= 0) in long double, by repeated squaring; inf
 * for huge k. */
static long double
pow10_ld(int k)
{
  long double result = 1.0L, base = 10.0L;
  while (k > 0) {
    if (k & 1)
      result *= base;
    base *= base;
    k >>= 1;
  }
  return result;
}

/* see numparse.h */
chive_err_t
parse_double(const char *s, size_t len, double min, double max, double *out)
{
  if (BUG(!(min <= max)) || BUG(min < -DBL_MAX || max > DBL_MAX))
    return CHIVE_ERR_INVAL;
  if (len > PARSE_DOUBLE_MAX_LEN)
    return CHIVE_ERR_PROTO;
  rd_t r = rd_init((const uint8_t *)s, len);
  bool neg = false;
  int c = peek(&r);
  if (c == '-' || c == '+') {
    neg = (c == '-');
    rd_skip(&r, 1);
  }
  uint64_t mant = 0;
  int n_sig = 0; /* digits stored in mant */
  int exp10 = 0; /* value = mant * 10^exp10 */
  size_t n_digits = 0;
  bool seen_point = false;
  while ((c = peek(&r)) >= 0) {
    if (c == '.' && !seen_point) {
      seen_point = true;
      rd_skip(&r, 1);
      continue;
    }
    if (c < '0' || c > '9')
      break;
    rd_skip(&r, 1);
    n_digits++;
    unsigned d = (unsigned)(c - '0');
    if (mant == 0 && d == 0) {
      /* Leading zeros carry no precision. */
      if (seen_point)
        exp10--;
      continue;
    }
    if (n_sig < DOUBLE_MAX_SIG_DIGITS) {
      mant = mant * 10u + d;
      n_sig++;
      if (seen_point)
        exp10--;
    } else if (!seen_point) {
      exp10++; /* a dropped integer digit still scales the value */
    }
  }
  if (n_digits == 0)
    return CHIVE_ERR_PROTO;
  c = peek(&r);
  if (c == 'e' || c == 'E') {
    rd_skip(&r, 1);
    bool eneg = false;
    c = peek(&r);
    if (c == '-' || c == '+') {
      eneg = (c == '-');
      rd_skip(&r, 1);
    }
    uint64_t e;
    bool overflow;
    if (read_digits(&r, 10, &e, &overflow) == 0)
      return CHIVE_ERR_PROTO;
    if (overflow || e > DOUBLE_EXP_CLAMP)
      e = DOUBLE_EXP_CLAMP;
    exp10 += eneg ? -(int)e : (int)e;
  }
  if (!rd_done(&r))
    return CHIVE_ERR_PROTO;

  long double v = (long double)mant;
  if (mant != 0) {
    if (exp10 > DBL_MAX_10_EXP + 1)
      return CHIVE_ERR_LIMIT;
    /* Dividing by an exact-as-possible 10^k loses less than multiplying
     * by an inexact 10^-k.  Split huge negative exponents so 10^k stays
     * finite even where long double is only a double. */
    if (exp10 >= 0) {
      v *= pow10_ld(exp10);
    } else {
      int k = -exp10;
      while (k > 300) {
        v /= pow10_ld(300);
        k -= 300;
      }
      v /= pow10_ld(k);
    }
  }
  if (v > (long double)DBL_MAX)
    return CHIVE_ERR_LIMIT;
  double d = (double)v;
  if (neg)
    d = -d;
  if (d < min || d > max)
    return CHIVE_ERR_LIMIT;
  *out = d;
  return CHIVE_OK;
}
