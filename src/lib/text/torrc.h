/**
 * @file torrc.h
 * @brief Tokenizer for torrc-style configuration text: "Key value" lines
 * into (key, value, line number) records.
 *
 * The format, as Tor's manual describes it ("THE CONFIGURATION FILE
 * FORMAT") and as implemented here:
 * - Each entry is a key, blanks, and a value ("SocksPort 9050").  The key
 *   runs up to the first whitespace or '#'.  The value may be empty.
 * - '#' starts a comment that runs to the end of the line; blank lines
 *   and comment lines are skipped.  Leading and trailing whitespace
 *   (CR included, so CRLF files work) is trimmed from keys and values.
 * - A line ending in a backslash continues onto the next line; the
 *   backslash and the newline are removed, the next line's text is kept
 *   as is.  Inside such a multi-line entry, lines whose first non-blank
 *   character is '#' are comments and are skipped, and the entry goes on
 *   after them (the manual: "Comments can be used in such multiline
 *   entries, but they must start at the beginning of a line").  A '#'
 *   elsewhere ends the entry's text for that line, and a backslash inside
 *   such a comment does not continue the entry.
 * - A value that starts with '"' is a quoted string with C escapes
 *   (cstring.h).  It must close on the same line; only blanks or a comment
 *   may follow it.
 * - A key starting with '+' means "append to the option" (TORRC_CMD_APPEND)
 *   and one starting with '/' means "clear the option" (TORRC_CMD_CLEAR);
 *   the prefix is removed from the key.  A clear entry's value is ignored
 *   and reported as "", as Tor does.
 * - Bounded: TORRC_MAX_LEN bytes in all, TORRC_MAX_LINES physical lines,
 *   TORRC_MAX_LINE_LEN bytes per entry (continuations included).  A NUL
 *   byte anywhere is an error.
 *
 * Keys are reported as written (case preserved): matching option names
 * case-insensitively is the caller's job.  Errors carry the 1-based line
 * number and a static message.  Nothing here knows any option name.
 * Pure: torrc_next() does no I/O, allocation or logging; torrc_parse()
 * allocates the result list.
 **/
#ifndef CHIVE_LIB_TEXT_TORRC_H
#define CHIVE_LIB_TEXT_TORRC_H

#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/bytes/bytes.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

/** Largest configuration text accepted, in bytes: 4 MiB. */
#define TORRC_MAX_LEN ((size_t)4 << 20)
/** Most physical lines accepted. */
#define TORRC_MAX_LINES 100000u
/** Most bytes of text in one entry, from its key to its end, continuation
 * lines included. */
#define TORRC_MAX_LINE_LEN 32768u
/** Size of the scratch buffer torrc_next() needs: the entry's text plus
 * the key's and the value's NULs. */
#define TORRC_ENTRY_BUF_LEN (TORRC_MAX_LINE_LEN + 2u)

/** What an entry asks for. */
typedef enum torrc_cmd_t {
  TORRC_CMD_SET = 0,    /**< "Key value" */
  TORRC_CMD_APPEND = 1, /**< "+Key value" */
  TORRC_CMD_CLEAR = 2,  /**< "/Key" */
} torrc_cmd_t;

/** One configuration entry. */
typedef struct torrc_entry_t {
  const char *key;   /**< NUL-terminated, non-empty, prefix removed */
  const char *value; /**< NUL-terminated, possibly empty */
  unsigned line;     /**< 1-based line on which the key appears */
  torrc_cmd_t cmd;
} torrc_entry_t;

/** Where and why tokenizing failed. */
typedef struct torrc_error_t {
  unsigned line;   /**< 1-based line of the problem (0: whole input) */
  const char *msg; /**< static, human-readable */
} torrc_error_t;

/** Iterator state.  Do not touch the fields. */
typedef struct torrc_reader_t {
  rd_t r;
  unsigned line;
  chive_err_t failed; /**< sticky: CHIVE_OK until an error */
  torrc_error_t err;
} torrc_reader_t;

/** Start reading the <b>len</b> bytes at <b>text</b> (borrowed for the
 * reader's lifetime; no NUL terminator needed).  Checks the whole-input
 * limits first: returns CHIVE_ERR_LIMIT if the text is longer than
 * TORRC_MAX_LEN or has more than TORRC_MAX_LINES lines, CHIVE_ERR_PROTO if
 * it contains a NUL byte; then *<b>err</b> (if not NULL) says where. */
CHIVE_MUST_CHECK chive_err_t torrc_reader_init(torrc_reader_t *tr,
                                               const char *text, size_t len,
                                               torrc_error_t *err);

/** Read the next entry into *<b>out</b>, using <b>buf</b> (room for
 * <b>buf_len</b> >= TORRC_ENTRY_BUF_LEN bytes) to hold its key and value:
 * out's strings are borrowed from buf until the next call.  At the end of
 * the input return CHIVE_OK with out->key == NULL.  On malformed input
 * return CHIVE_ERR_PROTO (or CHIVE_ERR_LIMIT for an over-long entry) and
 * fill *<b>err</b> (if not NULL); errors are sticky. */
CHIVE_MUST_CHECK chive_err_t torrc_next(torrc_reader_t *tr, char *buf,
                                        size_t buf_len, torrc_entry_t *out,
                                        torrc_error_t *err);

/** A parsed configuration: entries in file order. */
typedef struct torrc_list_t {
  torrc_entry_t *entries; /**< n entries; strings owned by the list */
  size_t n;
} torrc_list_t;

/** Tokenize all of <b>text</b> into a new list (caller frees with
 * torrc_list_free()).  Returns what torrc_reader_init()/torrc_next()
 * return, or CHIVE_ERR_NOMEM; on failure *<b>out</b> is set to NULL. */
CHIVE_MUST_CHECK chive_err_t torrc_parse(const char *text, size_t len,
                                         torrc_list_t **out,
                                         torrc_error_t *err);
/** Free <b>l</b> and its strings (wiped: values may hold secrets).  NULL
 * is a no-op. */
void torrc_list_free_(torrc_list_t *l);
#define torrc_list_free(l) \
  CHIVE_FREE_AND_NULL(torrc_list_t, torrc_list_free_, (l))

#endif /* !defined(CHIVE_LIB_TEXT_TORRC_H) */
