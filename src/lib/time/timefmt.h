/**
 * @file timefmt.h
 * @brief Calendar arithmetic and the two text time formats chive needs:
 * "YYYY-MM-DD HH:MM:SS" (UTC; Tor's directory documents and control
 * port) and RFC 1123 dates ("Sun, 06 Nov 1994 08:49:37 GMT"; HTTP).
 *
 * Proleptic Gregorian calendar, UTC, no time zones, no leap-second
 * table; our own days-from-civil arithmetic, so nothing depends on
 * timegm(), strptime() or the TZ environment.  Parsers are strict: exact
 * field widths, ASCII digits only, real dates only (no February 30),
 * years 1970 through 9999 (Tor rejects earlier years too).  A seconds
 * field of 60 (a leap second) is accepted and means the first second of
 * the next minute, as Tor does.  Pure: no I/O, no allocation, no
 * logging.
 **/
#ifndef CHIVE_LIB_TIME_TIMEFMT_H
#define CHIVE_LIB_TIME_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Length of "YYYY-MM-DD HH:MM:SS", without the NUL. */
#define TIME_ISO_LEN 19
/** Length of "Sun, 06 Nov 1994 08:49:37 GMT", without the NUL. */
#define TIME_RFC1123_LEN 29
/** Range of years the parsers and formatters accept. */
#define TIME_MIN_YEAR 1970
#define TIME_MAX_YEAR 9999

/** Return the number of days from 1970-01-01 to <b>y</b>-<b>m</b>-<b>d</b>
 * (negative before).  m is 1..12, d 1..31; not validated. */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);
/** Inverse of days_from_civil(): the date <b>days</b> after 1970-01-01. */
void civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);
/** Return the number of days in month <b>m</b> (1..12) of year <b>y</b>. */
unsigned days_in_month(int64_t y, unsigned m);

/** Parse exactly "YYYY-MM-DD HH:MM:SS" (<b>len</b> MUST be TIME_ISO_LEN)
 * into seconds since the epoch.  CHIVE_ERR_PROTO on anything malformed or
 * out of range. */
CHIVE_MUST_CHECK chive_err_t time_parse_iso(const char *s, size_t len,
                                            int64_t *out);
/** As time_parse_iso(), for the "YYYY-MM-DDTHH:MM:SS" form. */
CHIVE_MUST_CHECK chive_err_t time_parse_iso_t(const char *s, size_t len,
                                              int64_t *out);
/** Format <b>t</b> as "YYYY-MM-DD HH:MM:SS" + NUL into <b>out</b> (room
 * for <b>out_len</b> >= TIME_ISO_LEN + 1 bytes).  CHIVE_ERR_LIMIT if the
 * buffer is short or t is outside the supported years. */
CHIVE_MUST_CHECK chive_err_t time_format_iso(int64_t t, char *out,
                                             size_t out_len);
/** As time_format_iso(), with a 'T' between date and time. */
CHIVE_MUST_CHECK chive_err_t time_format_iso_t(int64_t t, char *out,
                                               size_t out_len);

/** Parse exactly an RFC 1123 date, "Sun, 06 Nov 1994 08:49:37 GMT"
 * (RFC 7231 §7.1.1.1 IMF-fixdate): names are case-sensitive and the
 * weekday MUST match the date. */
CHIVE_MUST_CHECK chive_err_t time_parse_rfc1123(const char *s, size_t len,
                                                int64_t *out);
/** Format <b>t</b> as an RFC 1123 date + NUL (out_len >=
 * TIME_RFC1123_LEN + 1). */
CHIVE_MUST_CHECK chive_err_t time_format_rfc1123(int64_t t, char *out,
                                                 size_t out_len);

#endif /* !defined(CHIVE_LIB_TIME_TIMEFMT_H) */
