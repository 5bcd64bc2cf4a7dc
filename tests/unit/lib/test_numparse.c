/* Unit tests for lib/text/numparse: checked number parsing. */
#include <float.h>
#include <stdint.h>

#include "lib/text/numparse.h"
#include "tinytest.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void
test_u64_ok(void)
{
  uint64_t v = 0;
  T_OK(parse_u64(S("0"), 10, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 0);
  T_OK(parse_u64(S("18446744073709551615"), 10, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, UINT64_MAX);
  T_OK(parse_u64(S("000123"), 10, 0, 1000, &v));
  T_EQ_UINT(v, 123);
  T_OK(parse_u64(S("ffFF"), 16, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 0xffff);
  T_OK(parse_u64(S("FFFFFFFFFFFFFFFF"), 16, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, UINT64_MAX);
  T_OK(parse_u64(S("777"), 8, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 511);
  T_OK(parse_u64(S("101"), 2, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 5);
  T_OK(parse_u64(S("zz"), 36, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 36 * 36 - 1);
  /* Range bounds are inclusive. */
  T_OK(parse_u64(S("5"), 10, 5, 5, &v));
  T_EQ_UINT(v, 5);
  /* The length bounds the parse: no NUL needed, trailing bytes unseen. */
  T_OK(parse_u64("12345", 3, 10, 0, UINT64_MAX, &v));
  T_EQ_UINT(v, 123);
done:
  return;
}

static void
test_u64_bad(void)
{
  uint64_t v = 42;
  const char *malformed[] = {"",   " 1",   "1 ",  "+1",    "-1",
                             "1a", "0x10", "1.",  ".1",    "1e3",
                             "١",  "1\n",  "--1", "1,000", "\t"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(malformed); i++) {
    if (parse_u64(malformed[i], strlen(malformed[i]), 10, 0, UINT64_MAX, &v) !=
        CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", malformed[i]);
  }
  T_EQ_UINT(v, 42); /* never written on failure */
  T_EQ_INT(parse_u64("1\0"
                     "2",
                     3, 10, 0, UINT64_MAX, &v),
           CHIVE_ERR_PROTO);
  T_EQ_INT(parse_u64(S("12"), 2, 0, UINT64_MAX, &v), CHIVE_ERR_PROTO);
  T_EQ_INT(parse_u64(S("g"), 16, 0, UINT64_MAX, &v), CHIVE_ERR_PROTO);
  /* Overflow and range. */
  T_EQ_INT(parse_u64(S("18446744073709551616"), 10, 0, UINT64_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_u64(S("99999999999999999999999999"), 10, 0, UINT64_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_u64(S("10000000000000000"), 16, 0, UINT64_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_u64(S("4"), 10, 5, 10, &v), CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_u64(S("11"), 10, 5, 10, &v), CHIVE_ERR_LIMIT);
  T_EQ_UINT(v, 42);
done:
  return;
}

static void
test_u64_prefix(void)
{
  uint64_t v = 0;
  size_t n = 0;
  T_OK(parse_u64_prefix(S("123ms"), 10, 0, UINT64_MAX, &v, &n));
  T_EQ_UINT(v, 123);
  T_EQ_UINT(n, 3);
  T_OK(parse_u64_prefix(S("7"), 10, 0, UINT64_MAX, &v, &n));
  T_EQ_UINT(n, 1);
  T_EQ_INT(parse_u64_prefix(S("ms"), 10, 0, UINT64_MAX, &v, &n),
           CHIVE_ERR_PROTO);
  T_EQ_INT(parse_u64_prefix(S(""), 10, 0, UINT64_MAX, &v, &n),
           CHIVE_ERR_PROTO);
  T_EQ_INT(
      parse_u64_prefix(S("99999999999999999999x"), 10, 0, UINT64_MAX, &v, &n),
      CHIVE_ERR_LIMIT);
done:
  return;
}

static void
test_i64(void)
{
  int64_t v = 0;
  T_OK(parse_i64(S("-9223372036854775808"), 10, INT64_MIN, INT64_MAX, &v));
  T_ASSERT(v == INT64_MIN);
  T_OK(parse_i64(S("9223372036854775807"), 10, INT64_MIN, INT64_MAX, &v));
  T_ASSERT(v == INT64_MAX);
  T_OK(parse_i64(S("+17"), 10, INT64_MIN, INT64_MAX, &v));
  T_EQ_INT(v, 17);
  T_OK(parse_i64(S("-0"), 10, INT64_MIN, INT64_MAX, &v));
  T_EQ_INT(v, 0);
  T_OK(parse_i64(S("-ff"), 16, INT64_MIN, INT64_MAX, &v));
  T_EQ_INT(v, -255);
  T_EQ_INT(parse_i64(S("9223372036854775808"), 10, INT64_MIN, INT64_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_i64(S("-9223372036854775809"), 10, INT64_MIN, INT64_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_i64(S("-5"), 10, -4, 4, &v), CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_i64(S("5"), 10, -4, 4, &v), CHIVE_ERR_LIMIT);
  const char *malformed[] = {"",    "-",   "+",   "+-1", "-+1",
                             " -1", "-1 ", "- 1", "1-",  "--1"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(malformed); i++)
    if (parse_i64(malformed[i], strlen(malformed[i]), 10, INT64_MIN, INT64_MAX,
                  &v) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", malformed[i]);
done:
  return;
}

static void
test_32bit(void)
{
  uint32_t u = 0;
  int32_t i = 0;
  T_OK(parse_u32(S("4294967295"), 10, 0, UINT32_MAX, &u));
  T_EQ_UINT(u, UINT32_MAX);
  T_EQ_INT(parse_u32(S("4294967296"), 10, 0, UINT32_MAX, &u), CHIVE_ERR_LIMIT);
  T_OK(parse_u32(S("65535"), 10, 1, 65535, &u));
  T_EQ_INT(parse_u32(S("0"), 10, 1, 65535, &u), CHIVE_ERR_LIMIT);
  T_OK(parse_i32(S("-2147483648"), 10, INT32_MIN, INT32_MAX, &i));
  T_EQ_INT(i, INT32_MIN);
  T_EQ_INT(parse_i32(S("2147483648"), 10, INT32_MIN, INT32_MAX, &i),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_i32(S("-2147483649"), 10, INT32_MIN, INT32_MAX, &i),
           CHIVE_ERR_LIMIT);
done:
  return;
}

/** Return true iff a and b are within 1 ulp (or both zero). */
static bool
close_enough(double a, double b)
{
  if (a == b)
    return true;
  double diff = a > b ? a - b : b - a;
  double mag = a > 0 ? a : -a;
  return diff <= mag * DBL_EPSILON;
}

static void
test_double(void)
{
  struct {
    const char *s;
    double want;
  } ok[] = {
      {"0", 0.0},
      {"1", 1.0},
      {"-1", -1.0},
      {"+2.5", 2.5},
      {"0.25", 0.25},
      {".5", 0.5},
      {"5.", 5.0},
      {"1e3", 1000.0},
      {"1E-3", 0.001},
      {"1.5e+2", 150.0},
      {"0.1", 0.1},
      {"0.3", 0.3},
      {"123456789012345678901234567890", 1.2345678901234568e29},
      {"0.000000000000000000000000000001", 1e-30},
      {"1.7976931348623157e308", DBL_MAX},
      {"2.2250738585072014e-308", DBL_MIN},
      {"1e-400", 0.0},
      {"00000.00001", 1e-5},
      {"3.14159265358979323846264338327950288", 3.141592653589793},
  };
  double v = 0;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(ok); i++) {
    chive_err_t e =
        parse_double(ok[i].s, strlen(ok[i].s), -DBL_MAX, DBL_MAX, &v);
    if (e != CHIVE_OK)
      T_FAIL_("rejected \"%s\" (%d)", ok[i].s, (int)e);
    if (!close_enough(v, ok[i].want))
      T_FAIL_("\"%s\" -> %.17g, want %.17g", ok[i].s, v, ok[i].want);
  }
  /* Exact small cases are exact. */
  T_OK(parse_double(S("0.5"), 0.0, 1.0, &v));
  T_ASSERT(v == 0.5);
  T_OK(parse_double(S("1"), 0.0, 1.0, &v));
  T_ASSERT(v == 1.0);
  v = 42.0;
  const char *malformed[] = {"",      ".",     "-",     "+",   "e5",  "1e",
                             "1e+",   "1.2.3", " 1",    "1 ",  "inf", "nan",
                             "0x1p3", "1,5",   "1e5.5", "--1", "1f",  "."};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(malformed); i++)
    if (parse_double(malformed[i], strlen(malformed[i]), -DBL_MAX, DBL_MAX,
                     &v) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", malformed[i]);
  T_ASSERT(v == 42.0);
  T_EQ_INT(parse_double(S("1e309"), -DBL_MAX, DBL_MAX, &v), CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_double(S("-1e999999999999"), -DBL_MAX, DBL_MAX, &v),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_double(S("1.0001"), 0.0, 1.0, &v), CHIVE_ERR_LIMIT);
  T_EQ_INT(parse_double(S("-0.1"), 0.0, 1.0, &v), CHIVE_ERR_LIMIT);
  /* Over-long text is refused before it is looked at. */
  char big[PARSE_DOUBLE_MAX_LEN + 2];
  memset(big, '1', sizeof(big));
  T_EQ_INT(parse_double(big, sizeof(big), -DBL_MAX, DBL_MAX, &v),
           CHIVE_ERR_PROTO);
  T_OK(parse_double(big, PARSE_DOUBLE_MAX_LEN - 10, -DBL_MAX, DBL_MAX, &v));
  T_ASSERT(close_enough(v, 1.1111111111111111e117));
done:
  return;
}

/** Round trip: every u64 printed and parsed back is itself; every prefix
 * of a number parses to the prefix's value. */
static void
test_round_trip_and_prefixes(void)
{
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  for (int i = 0; i < 2000; i++) {
    x ^= x << 7;
    x ^= x >> 9;
    uint64_t want = x >> (i % 64);
    char buf[32];
    int n = snprintf(buf, sizeof(buf), "%" PRIu64, want);
    uint64_t v = 0;
    T_OK(parse_u64(buf, (size_t)n, 10, 0, UINT64_MAX, &v));
    T_EQ_UINT(v, want);
    n = snprintf(buf, sizeof(buf), "%" PRIx64, want);
    T_OK(parse_u64(buf, (size_t)n, 16, 0, UINT64_MAX, &v));
    T_EQ_UINT(v, want);
    int64_t sv = 0, swant = (int64_t)(want >> 1) * ((i & 1) ? -1 : 1);
    n = snprintf(buf, sizeof(buf), "%" PRId64, swant);
    T_OK(parse_i64(buf, (size_t)n, 10, INT64_MIN, INT64_MAX, &sv));
    T_EQ_INT(sv, swant);
  }
  const char *num = "18446744073709551615";
  uint64_t expect = 0;
  for (size_t i = 0; i <= strlen(num); i++) {
    uint64_t v = 7;
    chive_err_t e = parse_u64(num, i, 10, 0, UINT64_MAX, &v);
    if (i == 0) {
      T_EQ_INT(e, CHIVE_ERR_PROTO);
    } else {
      T_OK(e);
      expect = expect * 10 + (uint64_t)(num[i - 1] - '0');
      T_EQ_UINT(v, expect);
    }
  }
  const char *dbl = "-12.5e-3";
  for (size_t i = 0; i <= strlen(dbl); i++) {
    double d = 0;
    chive_err_t e = parse_double(dbl, i, -DBL_MAX, DBL_MAX, &d);
    /* "", "-", "-12.5e", "-12.5e-" are malformed; the rest parse. */
    bool want_ok = !(i == 0 || i == 1 || i == 6 || i == 7);
    T_EQ_INT(e == CHIVE_OK, want_ok);
  }
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_u64_ok),
    T_CASE(test_u64_bad),
    T_CASE(test_u64_prefix),
    T_CASE(test_i64),
    T_CASE(test_32bit),
    T_CASE(test_double),
    T_CASE(test_round_trip_and_prefixes),
    T_END,
};
T_MAIN(cases)
