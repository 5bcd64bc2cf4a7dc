/**
 * @file str.c
 * @brief Locale-independent string helpers (see str.h).
 **/
#include "lib/cc/compat.h"

#include "lib/text/str.h"

#include <stdio.h>
#include <string.h>

/* see str.h */
bool
str_eq_ci(const char *a, const char *b)
{
  for (;; a++, b++) {
    if (ascii_tolower(*a) != ascii_tolower(*b))
      return false;
    if (*a == '\0')
      return true;
  }
}

/* see str.h */
bool
mem_eq_ci(const char *a, size_t a_len, const char *b, size_t b_len)
{
  if (a_len != b_len)
    return false;
  for (size_t i = 0; i < a_len; i++)
    if (ascii_tolower(a[i]) != ascii_tolower(b[i]))
      return false;
  return true;
}

/* see str.h */
bool
mem_eq_str_ci(const char *s, size_t s_len, const char *word)
{
  return mem_eq_ci(s, s_len, word, strlen(word));
}

/* see str.h */
bool
str_starts_with(const char *s, const char *prefix)
{
  size_t n = strlen(prefix);
  return strlen(s) >= n && memcmp(s, prefix, n) == 0;
}

/* see str.h */
bool
str_starts_with_ci(const char *s, const char *prefix)
{
  size_t n = strlen(prefix);
  return strlen(s) >= n && mem_eq_ci(s, n, prefix, n);
}

/* see str.h */
bool
str_ends_with(const char *s, const char *suffix)
{
  size_t ls = strlen(s), lx = strlen(suffix);
  return ls >= lx && memcmp(s + (ls - lx), suffix, lx) == 0;
}

/* see str.h */
size_t
str_span_space(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && ascii_isspace(s[i]))
    i++;
  return i;
}

/* see str.h */
size_t
str_span_nonspace(const char *s, size_t len)
{
  size_t i = 0;
  while (i < len && !ascii_isspace(s[i]))
    i++;
  return i;
}

/* see str.h */
size_t
str_trim_end(const char *s, size_t len)
{
  while (len > 0 && ascii_isspace(s[len - 1]))
    len--;
  return len;
}

/* see str.h */
const char *
str_trim(const char *s, size_t len, size_t *len_out)
{
  size_t lead = str_span_space(s, len);
  s += lead;
  *len_out = str_trim_end(s, len - lead);
  return s;
}

/* see str.h */
bool
mem_has_nul(const char *s, size_t len)
{
  return len > 0 && memchr(s, '\0', len) != NULL;
}

/* see str.h */
size_t
chive_strlcpy(char *dst, const char *src, size_t size)
{
  size_t n = strlen(src);
  if (size > 0) {
    size_t k = n < size - 1 ? n : size - 1;
    memmove(dst, src, k);
    dst[k] = '\0';
  }
  return n;
}

/* see str.h */
size_t
chive_strlcat(char *dst, const char *src, size_t size)
{
  size_t d = 0;
  while (d < size && dst[d] != '\0')
    d++;
  if (d == size) /* dst not terminated within size: nothing to append to */
    return size + strlen(src);
  return d + chive_strlcpy(dst + d, src, size - d);
}

/* see str.h */
chive_err_t
chive_vsnprintf(char *buf, size_t size, size_t *len_out, const char *fmt,
                va_list ap)
{
  if (size == 0)
    return CHIVE_ERR_INVAL;
  int n = vsnprintf(buf, size, fmt, ap);
  if (n < 0) {
    buf[0] = '\0';
    return CHIVE_ERR_INVAL;
  }
  size_t written = (size_t)n < size ? (size_t)n : size - 1;
  if (len_out)
    *len_out = written;
  return (size_t)n < size ? CHIVE_OK : CHIVE_ERR_LIMIT;
}

/* see str.h */
chive_err_t
chive_snprintf(char *buf, size_t size, size_t *len_out, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  chive_err_t e = chive_vsnprintf(buf, size, len_out, fmt, ap);
  va_end(ap);
  return e;
}
