/**
 * @file strbuf.h
 * @brief A growable, bounded string builder.
 *
 * A strbuf_t grows with the chive allocator up to a maximum length fixed
 * at init time, so building a reply or a log line from peer data can
 * never take unbounded memory.  The contents are always NUL-terminated.
 *
 * Failure rules:
 * - CHIVE_ERR_NOMEM: nothing was appended; the buffer is unchanged and
 *   later appends may succeed.
 * - CHIVE_ERR_LIMIT: the text did not fit under the maximum: as much of
 *   it as fits was appended and the buffer is marked truncated.  The mark
 *   is sticky: later appends add nothing and return CHIVE_ERR_LIMIT, so a
 *   truncated result never has holes in the middle.
 *
 * Safe for secrets: when the buffer grows, the old block is wiped before
 * it is freed, and strbuf_clear() wipes.  Embed it (init/clear); it is
 * not thread-safe.
 **/
#ifndef CHIVE_LIB_TEXT_STRBUF_H
#define CHIVE_LIB_TEXT_STRBUF_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** The largest max_len a strbuf_t accepts: 256 MiB. */
#define STRBUF_MAX_LEN_LIMIT ((size_t)256 << 20)

typedef struct strbuf_t {
  char *buf;      /**< NULL until the first append; else NUL-terminated. */
  size_t len;     /**< Bytes of content (not counting the NUL). */
  size_t cap;     /**< Bytes allocated at buf. */
  size_t max_len; /**< Content never exceeds this. */
  bool truncated; /**< Sticky: an append did not fit. */
} strbuf_t;

/** Initialise <b>sb</b> empty, holding at most <b>max_len</b> bytes of
 * content (clamped to STRBUF_MAX_LEN_LIMIT).  Allocates nothing. */
void strbuf_init(strbuf_t *sb, size_t max_len);
/** Wipe and free the contents; <b>sb</b> may be initialised again (or
 * reused: it is left empty with the same max_len). */
void strbuf_clear(strbuf_t *sb);
/** Empty the buffer but keep its memory and max_len; clears the
 * truncated mark. */
void strbuf_reset(strbuf_t *sb);

/** Append the <b>n</b> bytes at <b>p</b> (which may include NULs). */
CHIVE_MUST_CHECK chive_err_t strbuf_add(strbuf_t *sb, const void *p, size_t n);
/** Append NUL-terminated <b>s</b>. */
CHIVE_MUST_CHECK chive_err_t strbuf_addstr(strbuf_t *sb, const char *s);
/** Append one character. */
CHIVE_MUST_CHECK chive_err_t strbuf_addc(strbuf_t *sb, char c);
/** Append printf-formatted text. */
CHIVE_MUST_CHECK chive_err_t strbuf_addf(strbuf_t *sb, const char *fmt, ...)
    CHIVE_PRINTF(2, 3);
/** va_list form of strbuf_addf(). */
CHIVE_MUST_CHECK chive_err_t strbuf_vaddf(strbuf_t *sb, const char *fmt,
                                          va_list ap) CHIVE_PRINTF(2, 0);

/** Return the contents, NUL-terminated ("" when empty).  Borrowed: valid
 * until the next call that modifies <b>sb</b>. */
const char *strbuf_str(const strbuf_t *sb);
/** Return the content length. */
static inline size_t
strbuf_len(const strbuf_t *sb)
{
  return sb->len;
}
/** Return true iff an append was cut short. */
static inline bool
strbuf_truncated(const strbuf_t *sb)
{
  return sb->truncated;
}
/** Hand the contents to the caller as a NUL-terminated chive_malloc'd
 * string (caller frees) and leave <b>sb</b> empty.  Sets *<b>len_out</b>
 * if not NULL.  Returns NULL only on OOM (then sb is unchanged). */
char *strbuf_steal(strbuf_t *sb, size_t *len_out);

#endif /* !defined(CHIVE_LIB_TEXT_STRBUF_H) */
