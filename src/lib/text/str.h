/**
 * @file str.h
 * @brief Small, locale-independent string helpers: ASCII classification,
 * case-insensitive comparison, whitespace trimming, bounded copies and a
 * checked snprintf.
 *
 * Nothing here consults the C locale (<ctype.h> does, and its functions
 * take int with surprising rules for negative chars).  Functions that take
 * (const char *, size_t) never read past the length and do not need a
 * NUL.
 **/
#ifndef CHIVE_LIB_TEXT_STR_H
#define CHIVE_LIB_TEXT_STR_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** True for ' ', '\\t', '\\n', '\\v', '\\f', '\\r'. */
static inline bool
ascii_isspace(int c)
{
  return c == ' ' || (c >= '\t' && c <= '\r');
}
/** True for ' ' and '\\t' (blanks within a line). */
static inline bool
ascii_isblank(int c)
{
  return c == ' ' || c == '\t';
}
static inline bool
ascii_isdigit(int c)
{
  return c >= '0' && c <= '9';
}
static inline bool
ascii_isxdigit(int c)
{
  return ascii_isdigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
static inline bool
ascii_isalpha(int c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
static inline bool
ascii_isalnum(int c)
{
  return ascii_isalpha(c) || ascii_isdigit(c);
}
/** True for printable ASCII, 0x20 (space) through 0x7e. */
static inline bool
ascii_isprint(int c)
{
  return c >= 0x20 && c <= 0x7e;
}
static inline char
ascii_tolower(char c)
{
  return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}
static inline char
ascii_toupper(char c)
{
  return (c >= 'a' && c <= 'z') ? (char)(c - 'a' + 'A') : c;
}

/** Return true iff NUL-terminated <b>a</b> and <b>b</b> are equal,
 * ignoring ASCII case.  Data-dependent time. */
bool str_eq_ci(const char *a, const char *b);
/** Return true iff the <b>a_len</b> bytes at <b>a</b> equal the
 * <b>b_len</b> bytes at <b>b</b>, ignoring ASCII case. */
bool mem_eq_ci(const char *a, size_t a_len, const char *b, size_t b_len);
/** Return true iff the <b>s_len</b> bytes at <b>s</b> equal the
 * NUL-terminated <b>word</b>, ignoring ASCII case (for keyword tables). */
bool mem_eq_str_ci(const char *s, size_t s_len, const char *word);
/** Return true iff <b>s</b> starts with <b>prefix</b> (both
 * NUL-terminated). */
bool str_starts_with(const char *s, const char *prefix);
/** As str_starts_with(), ignoring ASCII case. */
bool str_starts_with_ci(const char *s, const char *prefix);
/** Return true iff <b>s</b> ends with <b>suffix</b>. */
bool str_ends_with(const char *s, const char *suffix);

/** Return the number of leading ascii_isspace() bytes among the first
 * <b>len</b> at <b>s</b>. */
size_t str_span_space(const char *s, size_t len);
/** Return the number of leading bytes among the first <b>len</b> at
 * <b>s</b> that are not ascii_isspace(). */
size_t str_span_nonspace(const char *s, size_t len);
/** Return <b>len</b> minus the number of trailing ascii_isspace() bytes. */
size_t str_trim_end(const char *s, size_t len);
/** Trim ASCII whitespace from both ends of the <b>len</b> bytes at
 * <b>s</b>: return a pointer into <b>s</b> and set *<b>len_out</b>. */
const char *str_trim(const char *s, size_t len, size_t *len_out);
/** Return true iff the <b>len</b> bytes at <b>s</b> contain a NUL. */
bool mem_has_nul(const char *s, size_t len);

/** Copy NUL-terminated <b>src</b> into <b>dst</b> (size <b>size</b>),
 * truncating, always NUL-terminating when size > 0 (BSD strlcpy).
 * Returns strlen(src); truncation happened iff the result >= size. */
size_t chive_strlcpy(char *dst, const char *src, size_t size);
/** Append <b>src</b> to the NUL-terminated string in <b>dst</b> (size
 * <b>size</b>), as BSD strlcat.  Returns the length it tried to create. */
size_t chive_strlcat(char *dst, const char *src, size_t size);

/** snprintf into <b>buf</b> (size <b>size</b> > 0), always
 * NUL-terminated.  Set *<b>len_out</b> (if not NULL) to the length
 * written.  Returns CHIVE_ERR_LIMIT if the output was truncated (buf then
 * holds the truncated prefix), CHIVE_ERR_INVAL on a formatting error or
 * size == 0. */
CHIVE_MUST_CHECK chive_err_t chive_snprintf(char *buf, size_t size,
                                            size_t *len_out, const char *fmt,
                                            ...) CHIVE_PRINTF(4, 5);
/** va_list form of chive_snprintf(). */
CHIVE_MUST_CHECK chive_err_t chive_vsnprintf(char *buf, size_t size,
                                             size_t *len_out, const char *fmt,
                                             va_list ap) CHIVE_PRINTF(4, 0);

#endif /* !defined(CHIVE_LIB_TEXT_STR_H) */
