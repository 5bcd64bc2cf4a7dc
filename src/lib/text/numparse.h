/**
 * @file numparse.h
 * @brief Checked, bounded, locale-independent number parsing.
 *
 * The one way to turn text into numbers in chive (atoi, strtol, sscanf are
 * banned): every call names the accepted range, and the whole input must
 * be the number -- no leading or trailing whitespace, no junk, no empty
 * string, no "0x" prefix (pass base 16 instead).  Unsigned parsers accept
 * no sign at all; signed parsers accept one leading '-' or '+'.
 *
 * Errors: CHIVE_ERR_PROTO for malformed text, CHIVE_ERR_LIMIT for a
 * well-formed number outside [min, max] (overflow included),
 * CHIVE_ERR_INVAL for a bad base or min > max (a caller bug).  *out is
 * written only on success.  Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_LIB_TEXT_NUMPARSE_H
#define CHIVE_LIB_TEXT_NUMPARSE_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Longest text parse_double() accepts, in bytes. */
#define PARSE_DOUBLE_MAX_LEN 128

/** Parse the <b>len</b> bytes at <b>s</b> as an unsigned integer in
 * <b>base</b> (2..36; letters either case) within [<b>min</b>,
 * <b>max</b>]; on success set *<b>out</b>. */
CHIVE_MUST_CHECK chive_err_t parse_u64(const char *s, size_t len, int base,
                                       uint64_t min, uint64_t max,
                                       uint64_t *out);

/** As parse_u64(), but parse only the longest run of digits at the start
 * of <b>s</b> (at least one) and set *<b>n_used</b> to its length;
 * whatever follows is the caller's business.  For tokenizers that take
 * "123ms" or "x=5,y=6" apart. */
CHIVE_MUST_CHECK chive_err_t parse_u64_prefix(const char *s, size_t len,
                                              int base, uint64_t min,
                                              uint64_t max, uint64_t *out,
                                              size_t *n_used);

/** Parse a signed integer ("-12", "+7", "0") in <b>base</b> within
 * [<b>min</b>, <b>max</b>]. */
CHIVE_MUST_CHECK chive_err_t parse_i64(const char *s, size_t len, int base,
                                       int64_t min, int64_t max, int64_t *out);

/** parse_u64() for a uint32_t (max is at most UINT32_MAX). */
CHIVE_MUST_CHECK chive_err_t parse_u32(const char *s, size_t len, int base,
                                       uint32_t min, uint32_t max,
                                       uint32_t *out);

/** parse_i64() for an int32_t. */
CHIVE_MUST_CHECK chive_err_t parse_i32(const char *s, size_t len, int base,
                                       int32_t min, int32_t max, int32_t *out);

/** Parse a decimal floating-point number within [<b>min</b>,
 * <b>max</b>] (finite bounds, min <= max).  Grammar:
 * [+-] digits [ "." digits ] [ ("e"|"E") [+-] digits ], where at least one
 * digit comes before or after the point ("5", "0.25", ".5", "5.", "1e-3").
 * No "inf", "nan", hex floats or whitespace; at most
 * PARSE_DOUBLE_MAX_LEN bytes.  The decimal point is always '.', whatever
 * the locale.  The result is within one unit in the last place of the
 * exact value (it is not guaranteed to be correctly rounded), which is
 * ample for the configuration fractions and weights it is meant for.
 * Values whose magnitude overflows a double give CHIVE_ERR_LIMIT. */
CHIVE_MUST_CHECK chive_err_t parse_double(const char *s, size_t len,
                                          double min, double max, double *out);

#endif /* !defined(CHIVE_LIB_TEXT_NUMPARSE_H) */
