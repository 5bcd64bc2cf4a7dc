/**
 * @file protover.h
 * @brief Subprotocol version lists ("proto"/"pr" entries, the consensus
 * "required-client-protocols" family of lines): parsing into per-protocol
 * version bitmaps, formatting, and checking what a required list asks for
 * that a supported list lacks.  tor-spec §9, dir-spec §2.1.1 ("proto").
 *
 * "Entries = Entry (SP Entry)*; Entry = Keyword '=' Values; Values = Value
 * (',' Value)*; Value = Int / Int '-' Int", Ints no larger than 63
 * (dir-spec §2.1.1), so one uint64_t per protocol holds every version.
 *
 * Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_PROTOVER_H
#define CHIVE_FEATURE_DIR_PARSE_PROTOVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Protocols we know by name, in lexical (ASCII) order of their names. */
typedef enum {
  PROTO_CONFLUX = 0,
  PROTO_CONS,
  PROTO_DESC,
  PROTO_DIRCACHE,
  PROTO_FLOWCTRL,
  PROTO_HSDIR,
  PROTO_HSINTRO,
  PROTO_HSREND,
  PROTO_LINK,
  PROTO_LINKAUTH,
  PROTO_MICRODESC,
  PROTO_PADDING,
  PROTO_RELAY,
  PROTO_N_KNOWN
} protocol_type_t;

/** Highest version number an entry may name (dir-spec §2.1.1). */
#define PROTOVER_MAX_VERSION 63
/** Unknown protocol names kept per set; more are flagged, not stored. */
#define PROTOVER_MAX_UNKNOWN 4
/** Longest protocol name kept for an unknown protocol, bytes. */
#define PROTOVER_MAX_NAME_LEN 23
/** Longest entry list we parse, bytes. */
#define PROTOVER_MAX_LEN 4096

typedef struct protover_unknown_t {
  char name[PROTOVER_MAX_NAME_LEN + 1];
  uint64_t versions; /**< Bit v set iff version v is listed. */
} protover_unknown_t;

/** A parsed version list.  A plain value: copy it freely. */
typedef struct protover_set_t {
  uint64_t known[PROTO_N_KNOWN]; /**< Bit v set iff version v listed. */
  uint8_t n_unknown;             /**< Entries used in unknown[]. */
  bool unknown_overflow;         /**< More unknown protocols than fit. */
  protover_unknown_t unknown[PROTOVER_MAX_UNKNOWN];
} protover_set_t;

/** Return the name of <b>p</b> ("Link"), or NULL if out of range. */
const char *protover_name(protocol_type_t p);

/** Parse the space-separated entry list in the <b>len</b> bytes at
 * <b>s</b> into *<b>out</b> (fully overwritten on success).  An empty
 * list is valid.  CHIVE_ERR_PROTO for malformed entries, a version above
 * 63, a reversed range, or a protocol named twice; CHIVE_ERR_LIMIT if
 * len > PROTOVER_MAX_LEN. */
CHIVE_MUST_CHECK chive_err_t protover_parse(const char *s, size_t len,
                                            protover_set_t *out);

/** Return true iff <b>set</b> lists <b>version</b> of <b>p</b>. */
bool protover_supports(const protover_set_t *set, protocol_type_t p,
                       unsigned version);

/** Compare a <b>required</b> (or recommended) list with what we
 * <b>supported</b>.  Return true iff every listed version is supported.
 * If <b>missing</b> is not NULL, set it to the versions required but not
 * supported (unknown protocols are compared by name). */
bool protover_all_supported(const protover_set_t *required,
                            const protover_set_t *supported,
                            protover_set_t *missing);

/** Return true iff <b>set</b> lists nothing. */
bool protover_is_empty(const protover_set_t *set);

/** Write <b>set</b> in canonical form ("Cons=1-2 Link=1-5", known names
 * and unknown ones merged in lexical order, ranges compressed) into
 * <b>buf</b> (NUL-terminated).  Return the length it needs, excluding
 * the NUL; output is truncated if that is >= <b>buflen</b>. */
size_t protover_format(const protover_set_t *set, char *buf, size_t buflen);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_PROTOVER_H) */
