/**
 * @file policy_summary.h
 * @brief Exit policy summaries: "accept 80,443,1000-2000" /
 * "reject 1-65535" (dir-spec §3.4.1 "p" lines, §3.3 microdescriptor "p"
 * and "p6", §3.8.2 encoding), parsed into sorted port ranges.
 *
 * With microdescriptors this is all a client knows about an exit's
 * policy: it picks exits whose summary allows the target port, and
 * tolerates an END reason EXITPOLICY when the guess was wrong.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_POLICY_SUMMARY_H
#define CHIVE_FEATURE_DIR_PARSE_POLICY_SUMMARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/dirarena.h"
#include "feature/dir/parse/dirtok.h"
#include "lib/cc/cc.h"

/** Most ranges in one summary.  A summary is at most 1000 characters
 * (dir-spec §3.8.2), so at most ~500 ranges; 1024 leaves slack. */
#define POLICY_SUMMARY_MAX_RANGES 1024

/** An inclusive port range, 1 <= lo <= hi <= 65535. */
typedef struct policy_range_t {
  uint16_t lo;
  uint16_t hi;
} policy_range_t;

/** A parsed summary.  ranges is owned by whatever arena parsed it. */
typedef struct policy_summary_t {
  bool accept;      /**< true: listed ports accepted; false: rejected. */
  uint16_t n_ranges;
  const policy_range_t *ranges; /**< Sorted, non-overlapping. */
} policy_summary_t;

/** Parse the two arguments of a "p"/"p6" line: <b>kind</b> ("accept" or
 * "reject") and <b>ports</b> ("80,443,1000-2000").  Ranges are allocated
 * from <b>arena</b>.  CHIVE_ERR_PROTO if malformed (bad number, port 0,
 * reversed, unsorted or overlapping ranges), CHIVE_ERR_LIMIT if more than
 * POLICY_SUMMARY_MAX_RANGES, CHIVE_ERR_NOMEM.  *<b>out</b> is written
 * only on success. */
CHIVE_MUST_CHECK chive_err_t policy_summary_parse(dirtok_str_t kind,
                                                  dirtok_str_t ports,
                                                  dirarena_t *arena,
                                                  policy_summary_t *out);

/** Return true iff <b>p</b> allows exiting to <b>port</b>.  A NULL
 * summary means "reject 1-65535" (dir-spec §3.3: a missing "p6" is
 * equivalent to that, and a microdescriptor without "p" exits nowhere).
 * Port 0 is never allowed. */
bool policy_summary_allows_port(const policy_summary_t *p, uint16_t port);

/** Return true iff <b>p</b> allows at least one port. */
bool policy_summary_allows_any(const policy_summary_t *p);

/** Write "accept 80,443" form into <b>buf</b> (NUL-terminated); return
 * the length needed excluding the NUL (truncated if >= buflen). */
size_t policy_summary_format(const policy_summary_t *p, char *buf,
                             size_t buflen);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_POLICY_SUMMARY_H) */
