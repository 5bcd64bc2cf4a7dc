/**
 * @file metrics_policy.h
 * @brief Who may scrape the metrics endpoint: tor's MetricsPortPolicy.
 *
 * A policy is an ordered list of "accept" / "reject" entries, each with
 * an address pattern; the first entry matching a peer decides, and a
 * peer that matches none is refused (tor's MetricsPortPolicy: "the
 * policies have the same form as exit policies ... except that port
 * specifiers are ignored").  An empty policy means "loopback only", the
 * default.
 *
 * Entry grammar (one or more per line, separated by commas):
 *
 *     entry   = keyword 1*WSP pattern
 *     keyword = "accept" / "reject" / "accept6" / "reject6"
 *     pattern = addr [ "/" maskbits ] [ ":" ports ]
 *     addr    = "*" / "*4" / "*6" / IPv4 / "[" IPv6 "]"
 *     ports   = "*" / port / port "-" port      ; parsed, then ignored
 *
 * "*" matches both families; "accept6"/"reject6" take only IPv6 patterns
 * ("*" then means "*6").  Address bits past the mask are cleared.  Dotted
 * masks ("/255.0.0.0") are not accepted.  A peer with an IPv4-mapped IPv6
 * address (::ffff:a.b.c.d) is matched as the IPv4 address.
 *
 * The parser is pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_FEATURE_METRICS_METRICS_POLICY_H
#define CHIVE_FEATURE_METRICS_METRICS_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"
#include "lib/text/strbuf.h"

/** Most entries in one policy. */
#define METRICS_POLICY_MAX_ENTRIES 64
/** Longest policy line metrics_policy_parse_line() accepts, in bytes. */
#define METRICS_POLICY_LINE_MAX_LEN 4096

/** One accept/reject entry. */
typedef struct metrics_policy_entry_t {
  bool accept;
  /** NET_AF_UNSPEC: "*" (any address of either family). */
  net_family_t family;
  uint8_t ip[16];   /**< network order; bits past maskbits are zero */
  uint8_t maskbits; /**< 0..32 (IPv4) or 0..128 (IPv6) */
} metrics_policy_entry_t;

/** An ordered policy; a plain value (copy it freely). */
typedef struct metrics_policy_t {
  size_t n_entries;
  metrics_policy_entry_t entries[METRICS_POLICY_MAX_ENTRIES];
} metrics_policy_t;

/** Make <b>p</b> the empty (loopback-only) policy. */
void metrics_policy_init(metrics_policy_t *p);

/** Parse the <b>len</b> bytes at <b>s</b> (no NUL needed) as one or more
 * comma-separated entries and append them to <b>p</b>.  All or nothing:
 * on error <b>p</b> is unchanged.  Errors: CHIVE_ERR_INVAL (syntax,
 * a line longer than METRICS_POLICY_LINE_MAX_LEN), CHIVE_ERR_LIMIT (more
 * than METRICS_POLICY_MAX_ENTRIES entries in all). */
CHIVE_MUST_CHECK chive_err_t metrics_policy_parse_line(metrics_policy_t *p,
                                                       const char *s,
                                                       size_t len);

/** Return true iff a peer at <b>peer</b> may use the endpoint: the first
 * matching entry decides, no match refuses; an empty policy permits
 * exactly the loopback addresses. */
bool metrics_policy_permits(const metrics_policy_t *p, const net_addr_t *peer);

/** Return true iff the endpoint may listen on <b>addr</b> under
 * <b>p</b>: loopback addresses always; any other address (wildcards
 * included) only when the policy has at least one accept entry, i.e. the
 * operator explicitly allowed non-local scrapers. */
bool metrics_policy_allows_listen(const metrics_policy_t *p,
                                  const net_addr_t *addr);

/** Append the canonical text of <b>p</b> ("accept 10.0.0.0/8,reject *";
 * "" when empty) to <b>out</b>.  Parsing the text gives <b>p</b> back. */
CHIVE_MUST_CHECK chive_err_t metrics_policy_format(const metrics_policy_t *p,
                                                   strbuf_t *out);

#endif /* !defined(CHIVE_FEATURE_METRICS_METRICS_POLICY_H) */
