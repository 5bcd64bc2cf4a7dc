/**
 * @file cdir_json.h
 * @brief A tiny streaming JSON writer for chive-dir's --json output: no
 * dependency, no allocation.  It tracks nesting so commas are placed
 * automatically, and escapes strings per RFC 8259 §7.
 *
 * Usage: jw_init(), then jw_obj_begin()/jw_key()/jw_str()/.../
 * jw_obj_end().  Inside an object, every value is preceded by jw_key().
 * The writer does not validate call order beyond a nesting depth bound;
 * jw_finish() reports whether the nesting was balanced.
 **/
#ifndef CHIVE_TOOLS_CDIR_JSON_H
#define CHIVE_TOOLS_CDIR_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/** Deepest nesting of objects/arrays the writer supports. */
#define JW_MAX_DEPTH 16

typedef struct jw_t {
  FILE *out;
  int depth;                     /**< Open containers. */
  bool need_comma[JW_MAX_DEPTH]; /**< A value was written at this level. */
  bool after_key;                /**< The next value follows a key. */
  bool overflow;                 /**< Nesting went past JW_MAX_DEPTH. */
} jw_t;

/** Start writing to <b>out</b> (borrowed). */
void jw_init(jw_t *w, FILE *out);
void jw_obj_begin(jw_t *w);
void jw_obj_end(jw_t *w);
void jw_arr_begin(jw_t *w);
void jw_arr_end(jw_t *w);
/** Write an object key (escaped) and the ':' separator. */
void jw_key(jw_t *w, const char *key);
/** Write <b>s</b> as a JSON string; NULL writes null. */
void jw_str(jw_t *w, const char *s);
void jw_int(jw_t *w, int64_t v);
void jw_uint(jw_t *w, uint64_t v);
/** Write <b>v</b> with three decimals (finite values only). */
void jw_double3(jw_t *w, double v);
void jw_bool(jw_t *w, bool v);
void jw_null(jw_t *w);
/** Write a newline; return true iff every container was closed and the
 * depth bound was never exceeded. */
bool jw_finish(jw_t *w);

/** Write the JSON string literal for the <b>len</b> bytes at <b>s</b>,
 * quotes included, to <b>out</b>: '"' and '\\' are backslash-escaped,
 * control characters become \n, \t... or \u00XX, valid UTF-8 passes
 * through, and each byte of an invalid UTF-8 sequence becomes \ufffd
 * (JSON text must be Unicode).  Exposed for the tests. */
void jw_write_escaped(FILE *out, const char *s, size_t len);

#endif /* !defined(CHIVE_TOOLS_CDIR_JSON_H) */
