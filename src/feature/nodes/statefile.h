/**
 * @file statefile.h
 * @brief The client's persistent state file (DataDirectory/state): an
 * ordered list of "Key value" lines, parsed with bounds, written
 * atomically.
 *
 * The format is tor's: the state file is read with the same rules as a
 * torrc (lib/text/torrc.h: one "Key value" entry per line, '#' comments,
 * quoted values with C escapes), so a file tor wrote is readable here.
 * This module knows no key names: guards.c owns the "Guard" entries
 * (guard-spec A.5), other modules may own others, and every entry that
 * nobody claimed is written back unchanged.  statefile_split_kv() takes
 * apart values made of space-separated K=V items, as guard entries are.
 *
 * Limits: STATEFILE_MAX_LEN bytes, STATEFILE_MAX_ENTRIES entries, keys of
 * STATEFILE_MAX_KEY_LEN bytes from [A-Za-z0-9_], values of printable
 * ASCII only (no control bytes after unquoting).  Parsing is pure (no
 * I/O, no logging; it allocates the result); statefile_load() and
 * statefile_save() are the only functions that touch the file system.
 **/
#ifndef CHIVE_FEATURE_NODES_STATEFILE_H
#define CHIVE_FEATURE_NODES_STATEFILE_H

#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"
#include "lib/text/strbuf.h"

/** Largest state file accepted or written, in bytes: 1 MiB (tor's own
 * state is a few kilobytes; 60 guards take about 15 KiB). */
#define STATEFILE_MAX_LEN ((size_t)1 << 20)
/** Most entries in one state file. */
#define STATEFILE_MAX_ENTRIES 8192u
/** Longest key, in bytes. */
#define STATEFILE_MAX_KEY_LEN 64u
/** Longest value, in bytes (after unquoting). */
#define STATEFILE_MAX_VALUE_LEN 4096u
/** Permissions of the written file: it tells which guards we use. */
#define STATEFILE_MODE 0600u

/** An ordered list of (key, value) entries.  Do not touch the fields. */
typedef struct statefile_t statefile_t;

/** Where and why parsing failed. */
typedef struct statefile_error_t {
  unsigned line;   /**< 1-based line of the problem (0: whole file) */
  const char *msg; /**< static, human-readable */
} statefile_error_t;

/** Return a new empty state; NULL on OOM.  Free with statefile_free(). */
statefile_t *statefile_new(void);
/** Free <b>sf</b> and its strings.  NULL is a no-op. */
void statefile_free_(statefile_t *sf);
#define statefile_free(sf) \
  CHIVE_FREE_AND_NULL(statefile_t, statefile_free_, (sf))

/** Parse the <b>len</b> bytes at <b>text</b> (no NUL needed) into a new
 * state (caller frees).  Returns CHIVE_ERR_PROTO for malformed text (a
 * bad line, a "+Key"/"/Key" entry, a key outside [A-Za-z0-9_], a value
 * with control characters), CHIVE_ERR_LIMIT for input over the limits,
 * CHIVE_ERR_NOMEM.  On failure *<b>out</b> is NULL and *<b>err</b> (if
 * not NULL) says where. */
CHIVE_MUST_CHECK chive_err_t statefile_parse(const char *text, size_t len,
                                             statefile_t **out,
                                             statefile_error_t *err);

/** Append <b>sf</b> as text to <b>sb</b>: a comment header, then one
 * "Key value" line per entry; values that the tokenizer would not read
 * back verbatim are quoted.  statefile_parse() of the result gives the
 * same entries.  Returns what strbuf appends return. */
CHIVE_MUST_CHECK chive_err_t statefile_encode(const statefile_t *sf,
                                              strbuf_t *sb);

/** Number of entries in <b>sf</b>. */
size_t statefile_n(const statefile_t *sf);
/** Key of entry <b>i</b> (< statefile_n); borrowed until <b>sf</b>
 * changes. */
const char *statefile_key(const statefile_t *sf, size_t i);
/** Value of entry <b>i</b>; borrowed until <b>sf</b> changes. */
const char *statefile_value(const statefile_t *sf, size_t i);
/** Line on which entry <b>i</b> appeared in the parsed text (0 for an
 * entry added by statefile_append()). */
unsigned statefile_line(const statefile_t *sf, size_t i);
/** Value of the first entry whose key is <b>key</b> (ASCII
 * case-insensitive), or NULL; borrowed. */
const char *statefile_get(const statefile_t *sf, const char *key);

/** Append (<b>key</b>, <b>value</b>) (both copied).  CHIVE_ERR_INVAL for
 * a key or value the parser would refuse, CHIVE_ERR_LIMIT when the state
 * is full, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t statefile_append(statefile_t *sf, const char *key,
                                              const char *value);
/** Replace the value of every entry keyed <b>key</b> by a single entry
 * (at the position of the first, else appended). */
CHIVE_MUST_CHECK chive_err_t statefile_set(statefile_t *sf, const char *key,
                                           const char *value);
/** Remove entry <b>i</b> (< statefile_n); later entries move down. */
void statefile_remove_at(statefile_t *sf, size_t i);

/** Read and parse the file at <b>path</b> into a new state (caller
 * frees).  CHIVE_ERR_NOTFOUND if there is no file; CHIVE_ERR_IO; then
 * what statefile_parse() returns.  On failure *<b>out</b> is NULL. */
CHIVE_MUST_CHECK chive_err_t statefile_load(const char *path,
                                            statefile_t **out,
                                            statefile_error_t *err);
/** Encode <b>sf</b> and replace the file at <b>path</b> atomically
 * (fs_write_atomic, mode STATEFILE_MODE). */
CHIVE_MUST_CHECK chive_err_t statefile_save(const statefile_t *sf,
                                            const char *path);

/** One K=V item of a value: views into the value (not NUL-terminated). */
typedef struct statefile_kv_t {
  const char *k;
  size_t k_len; /**< >= 1 */
  const char *v;
  size_t v_len; /**< may be 0 */
} statefile_kv_t;

/** Split the <b>len</b> bytes at <b>s</b> into blank-separated K=V items
 * (guard-spec A.5: "K contains any nonspace character except =, and V
 * contains any nonspace characters").  Write at most <b>max</b> items to
 * <b>out</b> and set *<b>n_out</b>.  CHIVE_ERR_PROTO for an item without
 * '=' or with an empty key, CHIVE_ERR_LIMIT for more than max items.
 * Pure; the views borrow <b>s</b>. */
CHIVE_MUST_CHECK chive_err_t statefile_split_kv(const char *s, size_t len,
                                                statefile_kv_t *out,
                                                size_t max, size_t *n_out);

#endif /* !defined(CHIVE_FEATURE_NODES_STATEFILE_H) */
