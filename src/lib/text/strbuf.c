/**
 * @file strbuf.c
 * @brief Growable bounded string builder (see strbuf.h).
 **/
#include "lib/cc/compat.h"

#include "lib/text/strbuf.h"

#include <stdio.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Smallest allocation, in bytes. */
#define STRBUF_MIN_CAP 64

/* see strbuf.h */
void
strbuf_init(strbuf_t *sb, size_t max_len)
{
  memset(sb, 0, sizeof(*sb));
  sb->max_len =
      max_len < STRBUF_MAX_LEN_LIMIT ? max_len : STRBUF_MAX_LEN_LIMIT;
}

/* see strbuf.h */
void
strbuf_clear(strbuf_t *sb)
{
  size_t max_len = sb->max_len;
  if (sb->buf) {
    chive_memwipe(sb->buf, sb->cap);
    chive_free(sb->buf);
  }
  strbuf_init(sb, max_len);
}

/* see strbuf.h */
void
strbuf_reset(strbuf_t *sb)
{
  if (sb->buf) {
    chive_memwipe(sb->buf, sb->len);
    sb->buf[0] = '\0';
  }
  sb->len = 0;
  sb->truncated = false;
}

/** Make room for <b>need</b> bytes of content plus the NUL (need <=
 * max_len).  The old block is wiped before it is freed. */
static chive_err_t
strbuf_reserve(strbuf_t *sb, size_t need)
{
  if (sb->buf && need + 1 <= sb->cap)
    return CHIVE_OK;
  size_t cap = sb->cap ? sb->cap : STRBUF_MIN_CAP;
  while (cap < need + 1)
    cap = cap > SIZE_MAX / 2 ? need + 1 : cap * 2;
  if (cap > sb->max_len + 1)
    cap = sb->max_len + 1;
  char *nb = chive_malloc(cap);
  if (!nb)
    return CHIVE_ERR_NOMEM;
  if (sb->buf) {
    memcpy(nb, sb->buf, sb->len + 1);
    chive_memwipe(sb->buf, sb->cap);
    chive_free(sb->buf);
  } else {
    nb[0] = '\0';
  }
  sb->buf = nb;
  sb->cap = cap;
  return CHIVE_OK;
}

/* see strbuf.h */
chive_err_t
strbuf_add(strbuf_t *sb, const void *p, size_t n)
{
  if (sb->truncated)
    return CHIVE_ERR_LIMIT;
  size_t room = sb->max_len - sb->len;
  size_t take = n <= room ? n : room;
  chive_err_t e = strbuf_reserve(sb, sb->len + take);
  if (e != CHIVE_OK)
    return e;
  if (take)
    memcpy(sb->buf + sb->len, p, take);
  sb->len += take;
  sb->buf[sb->len] = '\0';
  if (take < n) {
    sb->truncated = true;
    return CHIVE_ERR_LIMIT;
  }
  return CHIVE_OK;
}

/* see strbuf.h */
chive_err_t
strbuf_addstr(strbuf_t *sb, const char *s)
{
  return strbuf_add(sb, s, strlen(s));
}

/* see strbuf.h */
chive_err_t
strbuf_addc(strbuf_t *sb, char c)
{
  return strbuf_add(sb, &c, 1);
}

/* see strbuf.h */
chive_err_t
strbuf_vaddf(strbuf_t *sb, const char *fmt, va_list ap)
{
  if (sb->truncated)
    return CHIVE_ERR_LIMIT;
  va_list ap2;
  va_copy(ap2, ap);
  char small[1];
  int n = vsnprintf(small, sizeof(small), fmt, ap2);
  va_end(ap2);
  if (n < 0)
    return CHIVE_ERR_INVAL;
  size_t want = (size_t)n;
  size_t room = sb->max_len - sb->len;
  size_t take = want <= room ? want : room;
  chive_err_t e = strbuf_reserve(sb, sb->len + take);
  if (e != CHIVE_OK)
    return e;
  /* Format into the space we have; vsnprintf writes at most take bytes
   * plus a NUL, which the reservation covers. */
  va_copy(ap2, ap);
  int n2 = vsnprintf(sb->buf + sb->len, take + 1, fmt, ap2);
  va_end(ap2);
  if (BUG(n2 != n)) {
    sb->buf[sb->len] = '\0';
    return CHIVE_ERR_INTERNAL;
  }
  sb->len += take;
  if (take < want) {
    sb->truncated = true;
    return CHIVE_ERR_LIMIT;
  }
  return CHIVE_OK;
}

/* see strbuf.h */
chive_err_t
strbuf_addf(strbuf_t *sb, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  chive_err_t e = strbuf_vaddf(sb, fmt, ap);
  va_end(ap);
  return e;
}

/* see strbuf.h */
const char *
strbuf_str(const strbuf_t *sb)
{
  return sb->buf ? sb->buf : "";
}

/* see strbuf.h */
char *
strbuf_steal(strbuf_t *sb, size_t *len_out)
{
  char *s = sb->buf;
  size_t len = sb->len;
  if (!s) {
    s = chive_strdup("");
    if (!s)
      return NULL;
  }
  size_t max_len = sb->max_len;
  strbuf_init(sb, max_len);
  if (len_out)
    *len_out = len;
  return s;
}
