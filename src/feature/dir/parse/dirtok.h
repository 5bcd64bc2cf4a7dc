/**
 * @file dirtok.h
 * @brief Tokenizer for Tor's directory document meta-format (dir-spec
 * §1.2), declarative keyword rules, and the small checked helpers every
 * directory parser needs (numbers, times, hex, base64).
 *
 * A document is a sequence of Items: a KeywordLine ("keyword args...")
 * optionally followed by one PEM-like Object ("-----BEGIN type-----",
 * base64 lines, "-----END type-----").  dirtok_next() yields one item at a
 * time as a dirtok_t whose keyword and arguments are borrowed slices of the
 * input and whose object body is decoded into the reader's scratch buffer
 * (valid until the next call).  Nothing is kept per token, so tokenizing a
 * 2 MB consensus costs one reader allocation, not a token tree.
 *
 * Rules (dirtok_rule_t) say, per keyword: argument count bounds, whether an
 * object is forbidden/optional/required, how many times it may occur and
 * whether it must be first or last.  A dirtok_section_t checks a sequence
 * of tokens (one document, or one part of one, such as a router entry)
 * against a table.  Unknown keywords are accepted and ignored, as dir-spec
 * §1.2 requires ("MUST ignore any KeywordLine that starts with a keyword
 * it doesn't recognize").
 *
 * Hard limits, checked before or while parsing: the document size
 * (DIR_MAX_DOC_SIZE), NUL bytes anywhere (rejected), line length, number
 * of arguments per line, decoded object size and objects per document.
 * The input is (const char *, size_t) and need not be NUL-terminated.
 *
 * Pure: no I/O, no logging.  The reader is the only allocation.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_DIRTOK_H
#define CHIVE_FEATURE_DIR_PARSE_DIRTOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

/** Largest directory document we accept, bytes: tor's MAX_DIR_DL_SIZE
 * (16 MiB - 1), the largest response body tor will download. */
#define DIR_MAX_DOC_SIZE ((size_t)16 * 1024 * 1024 - 1)
/** Longest line, bytes, excluding the NL.  Modern microdescriptor
 * "family" lines reach ~16 kB (realnet-A modern: 15714); 64 KiB leaves
 * room for growth while bounding a single token. */
#define DIRTOK_MAX_LINE_LEN ((size_t)64 * 1024)
/** Most arguments on one line (tor's MAX_ARGS is 512 as well). */
#define DIRTOK_MAX_ARGS 512
/** Largest decoded object body, bytes.  RSA-4096 keys and signatures
 * are ~530 bytes; 16 KiB is generous. */
#define DIRTOK_MAX_OBJECT_LEN ((size_t)16 * 1024)
/** Longest object type ("RSA PUBLIC KEY", "ID SIGNATURE"), bytes. */
#define DIRTOK_MAX_OBJECT_TYPE_LEN 64
/** Default cap on objects per document (reset with
 * dirtok_reader_reset_objects() between documents of a batch). */
#define DIRTOK_DEFAULT_MAX_OBJECTS 256
/** Most rules in one table. */
#define DIRTOK_MAX_RULES 48

/** A borrowed slice of the input text. */
typedef struct dirtok_str_t {
  const char *p;
  size_t len;
} dirtok_str_t;

/** One item of a document.  All pointers are borrowed from the input or
 * the reader and valid until the next dirtok_next() on the same reader
 * (args and object) or while the input lives (kw, args' text). */
typedef struct dirtok_t {
  dirtok_str_t kw;           /**< The keyword (or "@annotation"). */
  size_t n_args;             /**< Number of arguments. */
  const dirtok_str_t *args;  /**< The arguments (reader-owned array). */
  dirtok_str_t rest;         /**< Line text after keyword and WS. */
  bool has_object;           /**< True iff an object follows the line. */
  dirtok_str_t obj_type;     /**< e.g. "RSA PUBLIC KEY". */
  const uint8_t *obj;        /**< Decoded object body (reader scratch). */
  size_t obj_len;            /**< Its length in bytes. */
  size_t start;              /**< Offset of the keyword's first byte. */
  size_t line_end;           /**< Offset just past the keyword line's NL. */
  size_t end;                /**< Offset just past the whole item. */
} dirtok_t;

typedef struct dirtok_reader_t dirtok_reader_t;

/** Create a reader over the <b>len</b> bytes at <b>s</b> (borrowed; MUST
 * outlive the reader).  Fails with CHIVE_ERR_LIMIT if len exceeds
 * DIR_MAX_DOC_SIZE, CHIVE_ERR_PROTO if the text holds a NUL byte,
 * CHIVE_ERR_NOMEM on allocation failure.  On success *<b>out</b> is the
 * reader; free it with dirtok_reader_free(). */
CHIVE_MUST_CHECK chive_err_t dirtok_reader_new(const char *s, size_t len,
                                               dirtok_reader_t **out);
/** Free <b>r</b>; NULL is a no-op. */
void dirtok_reader_free_(dirtok_reader_t *r);
#define dirtok_reader_free(p) \
  CHIVE_FREE_AND_NULL(dirtok_reader_t, dirtok_reader_free_, (p))

/** Allow "@keyword" annotation lines (microdescriptor caches). */
void dirtok_reader_allow_annotations(dirtok_reader_t *r, bool allow);
/** Set the cap on objects until the next reset (default
 * DIRTOK_DEFAULT_MAX_OBJECTS). */
void dirtok_reader_set_max_objects(dirtok_reader_t *r, size_t max);
/** Reset the object counter (start of a new document in a batch). */
void dirtok_reader_reset_objects(dirtok_reader_t *r);
/** Skip empty lines; return true iff no item is left. */
bool dirtok_at_end(dirtok_reader_t *r);
/** Current offset in the input (start of the next unread line). */
size_t dirtok_offset(const dirtok_reader_t *r);
/** Peek at the keyword of the next item without consuming it (empty
 * lines skipped).  Returns an empty slice at end of input. */
dirtok_str_t dirtok_peek_keyword(dirtok_reader_t *r);

/** Read the next item into *<b>out</b>.  Returns CHIVE_ERR_TRUNCATED at
 * end of input or when the input ends inside an item (every line MUST
 * end with NL), CHIVE_ERR_LIMIT when a hard cap is hit, CHIVE_ERR_PROTO
 * for any syntax error (bad keyword, control character, bad object
 * framing or base64). */
CHIVE_MUST_CHECK chive_err_t dirtok_next(dirtok_reader_t *r, dirtok_t *out);

/* ---- rules -------------------------------------------------------------*/

typedef enum {
  DIRTOK_OBJ_FORBIDDEN = 0, /**< No object may follow. */
  DIRTOK_OBJ_OPTIONAL,      /**< An object may follow. */
  DIRTOK_OBJ_REQUIRED,      /**< An object must follow. */
} dirtok_objrule_t;

typedef enum {
  DIRTOK_POS_ANY = 0, /**< Anywhere. */
  DIRTOK_POS_FIRST,   /**< Must be the section's first item. */
  DIRTOK_POS_LAST,    /**< Must be the section's last item. */
} dirtok_posrule_t;

/** "No upper bound" for counts and argument maxima. */
#define DIRTOK_ANY 0xffffu

typedef struct dirtok_rule_t {
  const char *kw;    /**< Keyword, NUL-terminated. */
  uint16_t min_args; /**< Fewest arguments. */
  uint16_t max_args; /**< Most arguments (DIRTOK_ANY: no bound). */
  uint8_t obj;       /**< A dirtok_objrule_t. */
  uint8_t pos;       /**< A dirtok_posrule_t. */
  uint16_t min_count;
  uint16_t max_count; /**< DIRTOK_ANY: no bound. */
} dirtok_rule_t;

/* dir-spec §1.2 multiplicities, as rule initialisers. */
/** "At start, exactly once". */
#define DIRTOK_T1_START(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_FIRST, 1, 1}
/** "At end, exactly once". */
#define DIRTOK_T1_END(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_LAST, 1, 1}
/** "Exactly once". */
#define DIRTOK_T1(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_ANY, 1, 1}
/** "At most once". */
#define DIRTOK_T01(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_ANY, 0, 1}
/** "Any number". */
#define DIRTOK_T0N(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_ANY, 0, DIRTOK_ANY}
/** "Once or more". */
#define DIRTOK_T1N(k, mina, maxa, o) \
  {(k), (mina), (maxa), (o), DIRTOK_POS_ANY, 1, DIRTOK_ANY}

typedef struct dirtok_table_t {
  const dirtok_rule_t *rules;
  size_t n_rules; /**< At most DIRTOK_MAX_RULES. */
} dirtok_table_t;

/** Return the index of <b>tok</b>'s keyword in <b>tbl</b>, or -1 if the
 * keyword is unknown to the table. */
int dirtok_lookup(const dirtok_table_t *tbl, const dirtok_t *tok);

/** Checks a sequence of items against one table. */
typedef struct dirtok_section_t {
  const dirtok_table_t *tbl;
  uint16_t counts[DIRTOK_MAX_RULES];
  size_t n_items;
  int first_rule; /**< Index of the table's POS_FIRST rule, or -1. */
  bool closed;    /**< A POS_LAST item was seen; nothing may follow. */
} dirtok_section_t;

/** Start checking a new section against <b>tbl</b>. */
void dirtok_section_begin(dirtok_section_t *sec, const dirtok_table_t *tbl);
/** Check <b>tok</b> (the next item of the section): its argument count
 * and object against its rule, its count against max_count, its
 * position.  On success set *<b>rule_out</b> to the rule index, or -1 for
 * an unknown keyword (accepted, to be ignored).  CHIVE_ERR_PROTO on any
 * violation. */
CHIVE_MUST_CHECK chive_err_t dirtok_section_add(dirtok_section_t *sec,
                                                const dirtok_t *tok,
                                                int *rule_out);
/** Finish the section: check every min_count and that a POS_LAST rule,
 * if it occurred, was last.  CHIVE_ERR_PROTO on violation. */
CHIVE_MUST_CHECK chive_err_t dirtok_section_end(const dirtok_section_t *sec);

/* ---- checked helpers ---------------------------------------------------*/

/** Return true iff <b>s</b> equals the NUL-terminated <b>lit</b>. */
bool dirtok_str_eq(dirtok_str_t s, const char *lit);
/** Parse a decimal unsigned integer in [min, max] (no sign, no spaces,
 * no leading '+').  CHIVE_ERR_PROTO if malformed or out of range. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_u64(dirtok_str_t s, uint64_t min,
                                              uint64_t max, uint64_t *out);
/** Parse a decimal integer with optional '-' in [min, max]. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_i64(dirtok_str_t s, int64_t min,
                                              int64_t max, int64_t *out);
/** Parse "YYYY-MM-DD" and "HH:MM:SS" (two arguments) as UTC into seconds
 * since the epoch. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_time(dirtok_str_t date,
                                               dirtok_str_t hms,
                                               int64_t *out);
/** Decode exactly 2*<b>n</b> hex digits (either case) into <b>out</b>. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_hex(dirtok_str_t s, uint8_t *out,
                                              size_t n);
/** Decode base64 (standard alphabet, '=' padding optional, no
 * whitespace) into exactly <b>n</b> bytes at <b>out</b>.  CHIVE_ERR_PROTO
 * if the text is not base64 or decodes to a different length. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_base64(dirtok_str_t s, uint8_t *out,
                                                 size_t n);
/** Decode base64 text that may contain NL characters (object bodies)
 * into <b>out</b> (capacity <b>cap</b>); set *<b>n_out</b>.  Padding
 * is optional; CHIVE_ERR_PROTO on a bad character or length,
 * CHIVE_ERR_LIMIT if the result does not fit. */
CHIVE_MUST_CHECK chive_err_t dirtok_base64_decode(const char *s, size_t len,
                                                  uint8_t *out, size_t cap,
                                                  size_t *n_out);
/** Parse a dotted-quad IPv4 address into a host-order u32. */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_ipv4(dirtok_str_t s,
                                               uint32_t *out);
/** Parse "[IPv6]:port" (dir-spec "or-address" for IPv6) into 16 address
 * bytes and a port (1..65535). */
CHIVE_MUST_CHECK chive_err_t dirtok_parse_ipv6_port(dirtok_str_t s,
                                                    uint8_t addr[16],
                                                    uint16_t *port);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_DIRTOK_H) */
