/**
 * @file cstring.h
 * @brief Double-quoted strings with C escapes, as torrc values and
 * control-port QuotedStrings use them: parse and produce.
 *
 * Accepted escapes inside the quotes: \\n \\r \\t \\\\ \\" \\' , \\xHH
 * (exactly two hex digits) and \\ooo (exactly three octal digits, at most
 * \\377).  Anything else after a backslash is an error, as are raw CR or
 * LF inside the quotes and an escape that decodes to NUL (the result is
 * used as a C string).  Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_LIB_TEXT_CSTRING_H
#define CHIVE_LIB_TEXT_CSTRING_H

#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/text/strbuf.h"

/** Parse a quoted string at the start of the <b>in_len</b> bytes at
 * <b>in</b> (in[0] MUST be '"').  On success write the decoded text,
 * NUL-terminated, into <b>out</b> (room for <b>out_len</b> bytes; in_len
 * bytes are always enough), set *<b>n_out</b> to its length and
 * *<b>consumed</b> to the bytes read including both quotes.
 * Returns CHIVE_ERR_TRUNCATED if the input ends before the closing quote,
 * CHIVE_ERR_PROTO for a bad escape, a raw CR/LF or a NUL (raw or
 * escaped), CHIVE_ERR_LIMIT if out is too small.  On failure nothing but
 * out's contents is written. */
CHIVE_MUST_CHECK chive_err_t cstring_unquote(const char *in, size_t in_len,
                                             char *out, size_t out_len,
                                             size_t *n_out, size_t *consumed);

/** Append the <b>len</b> bytes at <b>s</b> to <b>sb</b> as a quoted
 * string that cstring_unquote() decodes back to the same bytes: quotes
 * and backslashes escaped, \\n \\r \\t by name, other bytes outside
 * printable ASCII as three-digit octal (so a NUL byte becomes \\000,
 * which cstring_unquote() refuses).  Returns what strbuf_add()
 * returns (CHIVE_ERR_NOMEM, CHIVE_ERR_LIMIT). */
CHIVE_MUST_CHECK chive_err_t cstring_quote(strbuf_t *sb, const char *s,
                                           size_t len);

#endif /* !defined(CHIVE_LIB_TEXT_CSTRING_H) */
