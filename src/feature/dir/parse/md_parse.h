/**
 * @file md_parse.h
 * @brief Microdescriptors (dir-spec §3.3): parsing a batch (a directory
 * response or tor's cached-microdescs file, with "@" annotations) into
 * compact fixed-size records, each with its SHA-256 digest so that it can
 * be matched against a microdesc consensus "m" line.
 *
 * The digest of a microdescriptor covers its exact text from its first
 * line ("onion-key", or "ntor-onion-key" in descriptors without a TAP
 * key) up to the first byte of the next microdescriptor or annotation
 * line, or the end of the input; annotations are excluded.
 *
 * The TAP onion key is checked for presence and form but not kept: chive
 * never uses TAP (ntor only), and dropping it saves ~140 bytes per relay.
 *
 * Pure: no I/O, no logging; one arena per batch.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_MD_PARSE_H
#define CHIVE_FEATURE_DIR_PARSE_MD_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/dirarena.h"
#include "feature/dir/parse/policy_summary.h"
#include "lib/cc/cc.h"

/** Most microdescriptors in one batch. */
#define MD_MAX_PER_BATCH 200000
/** Most "$hexid" family members kept per microdescriptor. */
#define MD_MAX_FAMILY 1024

typedef struct microdesc_t {
  uint8_t digest[32];     /**< SHA-256 of the text (the "m" value). */
  uint8_t ntor_key[32];   /**< curve25519 "ntor-onion-key". */
  uint8_t ed25519_id[32]; /**< "id ed25519", if has_ed25519. */
  uint8_t ipv6[16];       /**< First IPv6 "a" address, if has_ipv6. */
  uint16_t ipv6_port;
  uint16_t n_family_ids;
  uint32_t last_listed;   /**< "@last-listed" time (seconds) or 0. */
  uint8_t has_ed25519 : 1;
  uint8_t has_ipv6 : 1;
  uint8_t has_tap_key : 1; /**< An "onion-key" was present. */
  uint8_t has_p : 1;
  uint8_t has_p6 : 1;
  uint8_t has_family : 1;
  /** "$hexid" family members, n_family_ids * 20 bytes (arena). */
  const uint8_t (*family_ids)[20];
  /** Nickname family members, space-separated (arena), or NULL. */
  const char *family_names;
  policy_summary_t p;  /**< Valid iff has_p; else reject all. */
  policy_summary_t p6; /**< Valid iff has_p6; else reject all. */
} microdesc_t;

typedef struct md_list_t {
  dirarena_t *arena;
  size_t n;          /**< Valid microdescriptors. */
  microdesc_t *mds;  /**< Sorted by digest. */
  size_t n_invalid;  /**< Microdescriptors skipped as malformed. */
} md_list_t;

/** Parse every microdescriptor in the <b>len</b> bytes at <b>s</b>.
 * "@annotation" lines are allowed (cache files).  A microdescriptor that
 * breaks the rules is skipped and counted in n_invalid (tor does the
 * same), but framing errors (bad objects, NUL bytes, over-long lines,
 * truncation) reject the whole batch with CHIVE_ERR_PROTO /
 * CHIVE_ERR_TRUNCATED / CHIVE_ERR_LIMIT.  On success *<b>out</b> is a new
 * list (free with md_list_free()). */
CHIVE_MUST_CHECK chive_err_t md_list_parse(const char *s, size_t len,
                                           md_list_t **out);
/** Free <b>l</b>; NULL is a no-op. */
void md_list_free_(md_list_t *l);
#define md_list_free(p) CHIVE_FREE_AND_NULL(md_list_t, md_list_free_, (p))

/** Return the microdescriptor with SHA-256 <b>digest</b>, or NULL. */
const microdesc_t *md_list_find(const md_list_t *l,
                                const uint8_t digest[32]);
/** Return the exit policy summary of <b>md</b> for IPv4 (never NULL is
 * needed: NULL means reject all, as policy_summary_allows_port()
 * expects). */
const policy_summary_t *microdesc_policy(const microdesc_t *md);
/** Same for IPv6 ("p6"). */
const policy_summary_t *microdesc_policy6(const microdesc_t *md);
/** Bytes of heap held by <b>l</b>. */
size_t md_list_bytes(const md_list_t *l);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_MD_PARSE_H) */
