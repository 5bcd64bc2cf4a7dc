/**
 * @file timefmt.c
 * @brief Calendar arithmetic and time formats (see timefmt.h).
 *
 * days_from_civil()/civil_from_days() use the era decomposition that
 * Howard Hinnant describes in "chrono-Compatible Low-Level Date
 * Algorithms": a 400-year era has exactly 146097 days, and counting the
 * year from March 1st puts the leap day last.
 **/
#include "lib/cc/compat.h"

#include "lib/time/timefmt.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "lib/bytes/bytes.h"

#define SECS_PER_DAY 86400

static const char *const weekday_names[7] = {"Sun", "Mon", "Tue", "Wed",
                                             "Thu", "Fri", "Sat"};
static const char *const month_names[12] = {"Jan", "Feb", "Mar", "Apr",
                                            "May", "Jun", "Jul", "Aug",
                                            "Sep", "Oct", "Nov", "Dec"};

/* see timefmt.h */
int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;                          /* [0, 399] */
  const int64_t mp = m > 2 ? (int64_t)m - 3 : (int64_t)m + 9; /* [0, 11] */
  const int64_t doy = (153 * mp + 2) / 5 + (int64_t)d - 1;    /* [0, 365] */
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;  /* [0, 146096] */
  return era * 146097 + doe - 719468; /* 719468: 0000-03-01 to 1970-01-01 */
}

/* see timefmt.h */
void
civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d)
{
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* see timefmt.h */
unsigned
days_in_month(int64_t y, unsigned m)
{
  static const unsigned dim[12] = {31, 28, 31, 30, 31, 30,
                                   31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12)
    return 0;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return dim[m - 1] + (m == 2 && leap ? 1u : 0u);
}

/** Read exactly <b>n</b> ASCII digits from <b>r</b> into *<b>out</b>;
 * return false (and mark r bad) otherwise. */
static bool
read_digits(rd_t *r, unsigned n, unsigned *out)
{
  unsigned v = 0;
  for (unsigned i = 0; i < n; i++) {
    uint8_t c = rd_u8(r);
    if (!rd_ok(r) || c < '0' || c > '9') {
      r->bad = true;
      return false;
    }
    v = v * 10 + (unsigned)(c - '0');
  }
  *out = v;
  return true;
}

/** Read the literal byte <b>c</b>, marking r bad on a mismatch. */
static void
expect(rd_t *r, char c)
{
  if (rd_u8(r) != (uint8_t)c)
    r->bad = true;
}

/** Read one of the three-letter <b>names</b> (<b>n</b> of them); return
 * its index or -1 (and mark r bad). */
static int
read_name(rd_t *r, const char *const *names, int n)
{
  const uint8_t *p = rd_bytes(r, 3);
  if (!rd_ok(r))
    return -1;
  for (int i = 0; i < n; i++)
    if (memcmp(p, names[i], 3) == 0)
      return i;
  r->bad = true;
  return -1;
}

/** Combine validated fields into seconds since the epoch, or return
 * false if the date or time is out of range. */
static bool
fields_to_time(unsigned y, unsigned mo, unsigned d, unsigned h, unsigned mi,
               unsigned s, int64_t *out)
{
  if (y < TIME_MIN_YEAR || y > TIME_MAX_YEAR || mo < 1 || mo > 12 || d < 1 ||
      d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 60)
    return false;
  *out = days_from_civil(y, mo, d) * SECS_PER_DAY + (int64_t)h * 3600 +
         (int64_t)mi * 60 + (int64_t)s;
  return true;
}

/** Parse "YYYY-MM-DD<sep>HH:MM:SS". */
static chive_err_t
parse_iso_sep(const char *s, size_t len, char sep, int64_t *out)
{
  rd_t r = rd_init((const uint8_t *)s, len);
  unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, sec = 0;
  read_digits(&r, 4, &y);
  expect(&r, '-');
  read_digits(&r, 2, &mo);
  expect(&r, '-');
  read_digits(&r, 2, &d);
  expect(&r, sep);
  read_digits(&r, 2, &h);
  expect(&r, ':');
  read_digits(&r, 2, &mi);
  expect(&r, ':');
  read_digits(&r, 2, &sec);
  int64_t t;
  if (!rd_done(&r) || !fields_to_time(y, mo, d, h, mi, sec, &t))
    return CHIVE_ERR_PROTO;
  *out = t;
  return CHIVE_OK;
}

/* see timefmt.h */
chive_err_t
time_parse_iso(const char *s, size_t len, int64_t *out)
{
  return parse_iso_sep(s, len, ' ', out);
}

/* see timefmt.h */
chive_err_t
time_parse_iso_t(const char *s, size_t len, int64_t *out)
{
  return parse_iso_sep(s, len, 'T', out);
}

/** Break <b>t</b> into fields; false if outside the supported years. */
static bool
time_to_fields(int64_t t, int64_t *y, unsigned *mo, unsigned *d, unsigned *h,
               unsigned *mi, unsigned *s, unsigned *wday)
{
  const int64_t min_t = days_from_civil(TIME_MIN_YEAR, 1, 1) * SECS_PER_DAY;
  const int64_t max_t =
      (days_from_civil(TIME_MAX_YEAR + 1, 1, 1)) * SECS_PER_DAY - 1;
  if (t < min_t || t > max_t)
    return false;
  int64_t days = t / SECS_PER_DAY, rem = t % SECS_PER_DAY;
  civil_from_days(days, y, mo, d);
  *h = (unsigned)(rem / 3600);
  *mi = (unsigned)(rem / 60 % 60);
  *s = (unsigned)(rem % 60);
  *wday = (unsigned)((days + 4) % 7); /* 1970-01-01 was a Thursday */
  return true;
}

/** Format "YYYY-MM-DD<sep>HH:MM:SS". */
static chive_err_t
format_iso_sep(int64_t t, char sep, char *out, size_t out_len)
{
  int64_t y;
  unsigned mo, d, h, mi, s, wd;
  if (out_len < TIME_ISO_LEN + 1 ||
      !time_to_fields(t, &y, &mo, &d, &h, &mi, &s, &wd))
    return CHIVE_ERR_LIMIT;
  int n = snprintf(out, out_len, "%04" PRId64 "-%02u-%02u%c%02u:%02u:%02u", y,
                   mo, d, sep, h, mi, s);
  return n == TIME_ISO_LEN ? CHIVE_OK : CHIVE_ERR_INTERNAL;
}

/* see timefmt.h */
chive_err_t
time_format_iso(int64_t t, char *out, size_t out_len)
{
  return format_iso_sep(t, ' ', out, out_len);
}

/* see timefmt.h */
chive_err_t
time_format_iso_t(int64_t t, char *out, size_t out_len)
{
  return format_iso_sep(t, 'T', out, out_len);
}

/* see timefmt.h */
chive_err_t
time_parse_rfc1123(const char *s, size_t len, int64_t *out)
{
  rd_t r = rd_init((const uint8_t *)s, len);
  unsigned y = 0, d = 0, h = 0, mi = 0, sec = 0;
  int wday = read_name(&r, weekday_names, 7);
  expect(&r, ',');
  expect(&r, ' ');
  read_digits(&r, 2, &d);
  expect(&r, ' ');
  int mon = read_name(&r, month_names, 12);
  expect(&r, ' ');
  read_digits(&r, 4, &y);
  expect(&r, ' ');
  read_digits(&r, 2, &h);
  expect(&r, ':');
  read_digits(&r, 2, &mi);
  expect(&r, ':');
  read_digits(&r, 2, &sec);
  expect(&r, ' ');
  expect(&r, 'G');
  expect(&r, 'M');
  expect(&r, 'T');
  int64_t t;
  if (!rd_done(&r) || wday < 0 || mon < 0 ||
      !fields_to_time(y, (unsigned)mon + 1, d, h, mi, sec, &t))
    return CHIVE_ERR_PROTO;
  int64_t days = days_from_civil(y, (unsigned)mon + 1, d);
  if ((days + 4) % 7 != wday)
    return CHIVE_ERR_PROTO;
  *out = t;
  return CHIVE_OK;
}

/* see timefmt.h */
chive_err_t
time_format_rfc1123(int64_t t, char *out, size_t out_len)
{
  int64_t y;
  unsigned mo, d, h, mi, s, wd;
  if (out_len < TIME_RFC1123_LEN + 1 ||
      !time_to_fields(t, &y, &mo, &d, &h, &mi, &s, &wd))
    return CHIVE_ERR_LIMIT;
  int n =
      snprintf(out, out_len, "%s, %02u %s %04" PRId64 " %02u:%02u:%02u GMT",
               weekday_names[wd], d, month_names[mo - 1], y, h, mi, s);
  return n == TIME_RFC1123_LEN ? CHIVE_OK : CHIVE_ERR_INTERNAL;
}
