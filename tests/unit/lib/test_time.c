/* Unit tests for lib/time: clocks, calendar arithmetic, time formats. */
#include "lib/time/clock.h"
#include "lib/time/timefmt.h"
#include "tinytest.h"

#define S(lit) (lit), (sizeof(lit) - 1)

static void
test_civil(void)
{
  T_EQ_INT(days_from_civil(1970, 1, 1), 0);
  T_EQ_INT(days_from_civil(1969, 12, 31), -1);
  T_EQ_INT(days_from_civil(2000, 1, 1), 10957);
  T_EQ_INT(days_from_civil(2000, 3, 1), 11017);
  T_EQ_INT(days_from_civil(1600, 1, 1), -135140);
  T_EQ_INT(days_from_civil(0, 3, 1), -719468);
  /* Every day over +-1.2 million days (3300 years each way) maps back to
   * itself, and consecutive days are consecutive dates. */
  int64_t py = 0;
  unsigned pm = 0, pd = 0;
  for (int64_t z = -1200000; z <= 1200000; z++) {
    int64_t y;
    unsigned m, d;
    civil_from_days(z, &y, &m, &d);
    if (days_from_civil(y, m, d) != z)
      T_FAIL_("day %jd does not round-trip", (intmax_t)z);
    if (m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
      T_FAIL_("day %jd -> bad date", (intmax_t)z);
    if (z > -1200000 && !(d == pd + 1 && m == pm && y == py) &&
        !(d == 1 &&
          ((m == pm + 1 && y == py) || (m == 1 && pm == 12 && y == py + 1))))
      T_FAIL_("day %jd does not follow the previous one", (intmax_t)z);
    py = y;
    pm = m;
    pd = d;
  }
  T_EQ_UINT(days_in_month(2000, 2), 29);
  T_EQ_UINT(days_in_month(1900, 2), 28);
  T_EQ_UINT(days_in_month(2024, 2), 29);
  T_EQ_UINT(days_in_month(2023, 2), 28);
  T_EQ_UINT(days_in_month(2023, 4), 30);
  T_EQ_UINT(days_in_month(2023, 13), 0);
done:
  return;
}

static void
test_iso(void)
{
  struct {
    const char *s;
    int64_t t;
  } ok[] = {
      {"1970-01-01 00:00:00", 0},
      {"2000-01-01 00:00:00", 946684800},
      {"2016-02-29 00:00:00", 1456704000},
      {"2038-01-19 03:14:07", 2147483647},
      {"2017-06-13 12:34:56", 1497357296},
      {"9999-12-31 23:59:59", 253402300799},
      /* A leap second reads as the next minute's first second. */
      {"2016-12-31 23:59:60", 1483228800},
  };
  char buf[TIME_ISO_LEN + 1];
  int64_t t = 0;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(ok); i++) {
    T_OK(time_parse_iso(ok[i].s, strlen(ok[i].s), &t));
    T_EQ_INT(t, ok[i].t);
    if (i + 1 < CHIVE_ARRAY_LEN(ok)) {
      T_OK(time_format_iso(ok[i].t, buf, sizeof(buf)));
      T_EQ_STR(buf, ok[i].s);
    }
  }
  T_OK(time_parse_iso_t(S("2017-06-13T12:34:56"), &t));
  T_EQ_INT(t, 1497357296);
  T_OK(time_format_iso_t(1497357296, buf, sizeof(buf)));
  T_EQ_STR(buf, "2017-06-13T12:34:56");
  T_EQ_INT(time_parse_iso_t(S("2017-06-13 12:34:56"), &t), CHIVE_ERR_PROTO);

  t = 42;
  const char *bad[] = {
      "2017-02-29 00:00:00",  "2017-13-01 00:00:00", "2017-00-10 00:00:00",
      "2017-01-00 00:00:00",  "2017-04-31 00:00:00", "2017-01-01 24:00:00",
      "2017-01-01 12:60:00",  "2017-01-01 12:00:61", "1969-12-31 23:59:59",
      "2017-01-01T00:00:00",  "2017-01-01  00:00:0", "2017-1-01 00:00:00 ",
      "2017-01-01 00:00:00 ", " 2017-01-01 00:00:0", "+017-01-01 00:00:00",
      "2017/01/01 00:00:00",  "2017-01-01 00:00:0a", "2017-01-01 00-00-00",
      "0000-01-01 00:00:00",  "2017-01-01 0:00:000", "",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++)
    if (time_parse_iso(bad[i], strlen(bad[i]), &t) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", bad[i]);
  T_EQ_INT(t, 42);
  T_EQ_INT(time_parse_iso(S("2017-01-01 00:00:00\0"), &t), CHIVE_ERR_PROTO);
  /* Every strict prefix is rejected. */
  const char *good = "2017-06-13 12:34:56";
  for (size_t i = 0; i < TIME_ISO_LEN; i++)
    T_EQ_INT(time_parse_iso(good, i, &t), CHIVE_ERR_PROTO);
  /* Formatting limits. */
  T_EQ_INT(time_format_iso(0, buf, TIME_ISO_LEN), CHIVE_ERR_LIMIT);
  T_EQ_INT(time_format_iso(-1, buf, sizeof(buf)), CHIVE_ERR_LIMIT);
  T_EQ_INT(time_format_iso(253402300800, buf, sizeof(buf)), CHIVE_ERR_LIMIT);
done:
  return;
}

static void
test_iso_round_trip(void)
{
  char buf[TIME_ISO_LEN + 1], buf2[TIME_RFC1123_LEN + 1];
  uint64_t x = 88172645463325252ULL;
  for (int i = 0; i < 20000; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    int64_t t = (int64_t)(x % 253402300800ULL), back = -1;
    T_OK(time_format_iso(t, buf, sizeof(buf)));
    T_OK(time_parse_iso(buf, TIME_ISO_LEN, &back));
    T_EQ_INT(back, t);
    T_OK(time_format_rfc1123(t, buf2, sizeof(buf2)));
    T_EQ_UINT(strlen(buf2), TIME_RFC1123_LEN);
    T_OK(time_parse_rfc1123(buf2, TIME_RFC1123_LEN, &back));
    T_EQ_INT(back, t);
  }
done:
  return;
}

static void
test_rfc1123(void)
{
  char buf[TIME_RFC1123_LEN + 1];
  int64_t t = 0;
  /* RFC 7231 §7.1.1.1's example. */
  T_OK(time_parse_rfc1123(S("Sun, 06 Nov 1994 08:49:37 GMT"), &t));
  T_EQ_INT(t, 784111777);
  T_OK(time_format_rfc1123(784111777, buf, sizeof(buf)));
  T_EQ_STR(buf, "Sun, 06 Nov 1994 08:49:37 GMT");
  T_OK(time_format_rfc1123(0, buf, sizeof(buf)));
  T_EQ_STR(buf, "Thu, 01 Jan 1970 00:00:00 GMT");
  T_OK(time_format_rfc1123(951782400, buf, sizeof(buf)));
  T_EQ_STR(buf, "Tue, 29 Feb 2000 00:00:00 GMT");
  t = 42;
  const char *bad[] = {
      "Mon, 06 Nov 1994 08:49:37 GMT",  "sun, 06 Nov 1994 08:49:37 GMT",
      "Sun, 06 nov 1994 08:49:37 GMT",  "Sun, 06 Nov 1994 08:49:37 UTC",
      "Sun, 6 Nov 1994 08:49:37 GMT",   "Sun 06 Nov 1994 08:49:37 GMT",
      "Sun, 06 Nov 1994 08:49:37 GMT ", "Sunday, 06-Nov-94 08:49:37 GMT",
      "Sun Nov  6 08:49:37 1994",       "Sun, 31 Nov 1994 08:49:37 GMT",
      "Sun, 06 Xyz 1994 08:49:37 GMT",  "",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++)
    if (time_parse_rfc1123(bad[i], strlen(bad[i]), &t) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", bad[i]);
  T_EQ_INT(t, 42);
  const char *good = "Sun, 06 Nov 1994 08:49:37 GMT";
  for (size_t i = 0; i < TIME_RFC1123_LEN; i++)
    T_EQ_INT(time_parse_rfc1123(good, i, &t), CHIVE_ERR_PROTO);
  T_EQ_INT(time_format_rfc1123(0, buf, TIME_RFC1123_LEN), CHIVE_ERR_LIMIT);
done:
  return;
}

static void
test_clocks(void)
{
  const chive_clock_t *sys = clock_system();
  uint64_t a = clock_mono_us(sys);
  uint64_t b = clock_mono_us(sys);
  T_ASSERT(b >= a);
  T_ASSERT(clock_mono_ms(sys) >= a / 1000);
  /* The wall clock is after this code was written (2024-01-01). */
  T_ASSERT(clock_wall_s(sys) > 1704067200);

  fakeclock_t fc;
  fakeclock_init(&fc, 5000, 1000);
  const chive_clock_t *c = fakeclock_clock(&fc);
  T_EQ_UINT(clock_mono_us(c), 5000);
  T_EQ_UINT(clock_mono_ms(c), 5);
  T_EQ_INT(clock_wall_s(c), 1000);
  fakeclock_advance_ms(&fc, 1500);
  T_EQ_UINT(clock_mono_ms(c), 1505);
  T_EQ_INT(clock_wall_s(c), 1001);
  fakeclock_advance_us(&fc, 500000);
  T_EQ_INT(clock_wall_s(c), 1002);
  /* A wall jump (backwards) leaves the monotonic clock alone. */
  fakeclock_set_wall(&fc, 10);
  T_EQ_INT(clock_wall_s(c), 10);
  T_EQ_UINT(clock_mono_us(c), 2005000);
  fakeclock_set_wall(&fc, -5);
  fakeclock_advance_us(&fc, 1);
  T_EQ_INT(clock_wall_s(c), -5);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_civil),   T_CASE(test_iso),    T_CASE(test_iso_round_trip),
    T_CASE(test_rfc1123), T_CASE(test_clocks), T_END,
};
T_MAIN(cases)
