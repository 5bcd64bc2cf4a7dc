/**
 * @file fuzz_numparse.c
 * @brief Fuzz the checked number parsers.  The first input byte picks the
 * parser and base; the rest is the text.  Oracles: an accepted integer
 * prints back to the input (leading zeros and '+' aside); an accepted
 * double is in range and survives print -> parse within 1 ulp; the
 * prefix parser agrees with the whole-input parser.
 **/
#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text/numparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c))    \
      abort();   \
  } while (0)

/** Compare printed <b>p</b> with input <b>s</b> (len), ignoring case,
 * one leading '+', and leading zeros. */
static int
same_number(const char *p, const char *s, size_t len)
{
  if (len && (*s == '+' || *s == '-')) {
    if (*s == '-' && *p == '-')
      p++;
    s++;
    len--;
  }
  while (len > 1 && *s == '0') {
    s++;
    len--;
  }
  if (strlen(p) != len)
    return 0;
  for (size_t i = 0; i < len; i++) {
    char a = p[i], b = s[i];
    if (b >= 'A' && b <= 'Z')
      b = (char)(b - 'A' + 'a');
    if (a != b)
      return 0;
  }
  return 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size == 0)
    return 0;
  const uint8_t sel = data[0];
  const char *s = (const char *)data + 1;
  const size_t len = size - 1;
  char buf[64];
  switch (sel % 4) {
  case 0: { /* parse_u64, base 10 or 16 */
    int base = (sel & 4) ? 16 : 10;
    uint64_t v = 0, v2 = 0;
    size_t used = 0;
    chive_err_t e = parse_u64(s, len, base, 0, UINT64_MAX, &v);
    chive_err_t e2 = parse_u64_prefix(s, len, base, 0, UINT64_MAX, &v2, &used);
    if (e == CHIVE_OK) {
      snprintf(buf, sizeof(buf), base == 16 ? "%" PRIx64 : "%" PRIu64, v);
      CHECK(same_number(buf, s, len));
      CHECK(e2 == CHIVE_OK && v2 == v && used == len);
    } else if (e2 == CHIVE_OK) {
      CHECK(used < len || e == CHIVE_ERR_LIMIT);
      CHECK(used <= len);
    }
    /* A narrower range only ever rejects more. */
    uint64_t v3 = 0;
    if (parse_u64(s, len, base, 10, 1000, &v3) == CHIVE_OK)
      CHECK(e == CHIVE_OK && v3 == v && v3 >= 10 && v3 <= 1000);
    break;
  }
  case 1: { /* parse_i64 */
    int64_t v = 0;
    if (parse_i64(s, len, 10, INT64_MIN, INT64_MAX, &v) == CHIVE_OK) {
      snprintf(buf, sizeof(buf), "%" PRId64, v);
      CHECK(same_number(buf, s, len) || (v == 0 && len > 0));
    }
    break;
  }
  case 2: { /* parse_u32 with an arbitrary base */
    int base = 2 + (sel >> 2) % 35;
    uint32_t v = 0;
    uint64_t w = 0;
    chive_err_t e = parse_u32(s, len, base, 0, UINT32_MAX, &v);
    chive_err_t e64 = parse_u64(s, len, base, 0, UINT64_MAX, &w);
    if (e == CHIVE_OK)
      CHECK(e64 == CHIVE_OK && w == v);
    else if (e64 == CHIVE_OK)
      CHECK(e == CHIVE_ERR_LIMIT && w > UINT32_MAX);
    break;
  }
  default: { /* parse_double */
    double d = 0, d2 = 0;
    if (parse_double(s, len, -DBL_MAX, DBL_MAX, &d) == CHIVE_OK) {
      CHECK(d >= -DBL_MAX && d <= DBL_MAX);
      int n = snprintf(buf, sizeof(buf), "%.17g", d);
      CHECK(n > 0 && (size_t)n < sizeof(buf));
      CHECK(parse_double(buf, (size_t)n, -DBL_MAX, DBL_MAX, &d2) == CHIVE_OK);
      double diff = d > d2 ? d - d2 : d2 - d;
      double mag = d > 0 ? d : -d;
      CHECK(diff <= mag * 2 * DBL_EPSILON || diff <= DBL_MIN);
      double r = 0;
      if (parse_double(s, len, 0.0, 1.0, &r) == CHIVE_OK)
        CHECK(r >= 0.0 && r <= 1.0 && r == d);
    }
    break;
  }
  }
  return 0;
}
