/**
 * @file ns_consensus.h
 * @brief Network-status consensus documents, both flavors: "ns"
 * (dir-spec §3.4.1) and "microdesc" (dir-spec §3.9.2).
 *
 * ns_consensus_parse() turns the text into a compact ns_consensus_t:
 * router entries are fixed-size structs (identity, digest, nickname, IPv4,
 * ports, flag bits, bandwidth) and the per-relay "v", "pr" and "p" lines,
 * which repeat heavily, are interned into per-consensus tables referenced
 * by 16-bit indexes.  The signed region (dir-spec §3.4.1: from
 * "network-status-version" through the space after the first
 * "directory-signature") is hashed with SHA-1 and SHA-256 while parsing,
 * so signature checking (dirverify.h) needs no second pass.  Everything
 * lives in one arena; the token stream is not kept.
 *
 * Parsing checks syntax and the document rules; it does NOT check
 * signatures or times.  Use dirverify_consensus() before trusting it.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_NS_CONSENSUS_H
#define CHIVE_FEATURE_DIR_PARSE_NS_CONSENSUS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/dirarena.h"
#include "feature/dir/parse/ns_params.h"
#include "feature/dir/parse/policy_summary.h"
#include "feature/dir/parse/protover.h"
#include "lib/cc/cc.h"

/** Most router entries in one consensus (the live network has ~9000). */
#define NS_MAX_ROUTERS 100000
/** Most dir-source entries (9 authorities plus legacy keys today). */
#define NS_MAX_DIRSOURCES 64
/** Most directory-signature items. */
#define NS_MAX_SIGNATURES 64
/** Most distinct interned "v"/"pr"/"p" lines each (16-bit indexes). */
#define NS_MAX_INTERNED 65000
/** Most known-flags entries. */
#define NS_MAX_KNOWN_FLAGS 64
/** "Not present" value of the 16-bit intern indexes. */
#define NS_IDX_NONE 0xffffu
/** Longest relay nickname (tor-spec: 1..19 alphanumerics). */
#define NS_MAX_NICKNAME_LEN 19

typedef enum {
  NS_FLAVOR_NS = 0,        /**< "network-status-version 3" */
  NS_FLAVOR_MICRODESC = 1, /**< "network-status-version 3 microdesc" */
} ns_flavor_t;

/** Router status flags (dir-spec §3.4.1 "s"), as bits. */
typedef enum {
  NS_FLAG_AUTHORITY = 1u << 0,
  NS_FLAG_BADEXIT = 1u << 1,
  NS_FLAG_EXIT = 1u << 2,
  NS_FLAG_FAST = 1u << 3,
  NS_FLAG_GUARD = 1u << 4,
  NS_FLAG_HSDIR = 1u << 5,
  NS_FLAG_MIDDLEONLY = 1u << 6,
  NS_FLAG_NOEDCONSENSUS = 1u << 7,
  NS_FLAG_RUNNING = 1u << 8,
  NS_FLAG_STABLE = 1u << 9,
  NS_FLAG_STALEDESC = 1u << 10,
  NS_FLAG_SYBIL = 1u << 11,
  NS_FLAG_V2DIR = 1u << 12,
  NS_FLAG_VALID = 1u << 13,
} ns_flag_t;
/** Number of ns_flag_t bits. */
#define NS_N_FLAGS 14
/** Return the name of flag bit number <b>bit</b> (0..NS_N_FLAGS-1). */
const char *ns_flag_name(unsigned bit);

/** One router status entry.  Fixed size; ~120 bytes. */
typedef struct ns_routerstatus_t {
  uint8_t identity[20]; /**< SHA-1 of the RSA identity key. */
  /** Microdesc flavor: SHA-256 of the microdescriptor ("m").  ns flavor:
   * SHA-1 of the server descriptor in the first 20 bytes. */
  uint8_t digest[32];
  char nickname[NS_MAX_NICKNAME_LEN + 1];
  uint32_t ipv4;       /**< Host order. */
  uint16_t or_port;
  uint16_t dir_port;   /**< 0 = none. */
  uint32_t flags;      /**< ns_flag_t bits. */
  uint32_t bandwidth;  /**< "w Bandwidth=" (kB/s); 0 if absent. */
  uint32_t published;  /**< "r" publication time, seconds (ignored by
                        * clients, dir-spec §3.4.1). */
  uint16_t version_idx; /**< Index into versions[], or NS_IDX_NONE. */
  uint16_t proto_idx;   /**< Index into protos[], or NS_IDX_NONE. */
  uint16_t policy_idx;  /**< ns flavor "p": index into policies[]. */
  uint16_t ipv6_port;   /**< First "a" line's port (0: none). */
  uint8_t ipv6[16];     /**< First "a" IPv6 address. */
  uint8_t has_bandwidth : 1;
  uint8_t bw_unmeasured : 1; /**< "Unmeasured=1" */
  uint8_t has_ipv6 : 1;
} ns_routerstatus_t;

typedef struct ns_dirsource_t {
  const char *nickname; /**< Arena string. */
  uint8_t identity[20]; /**< v3 identity fingerprint. */
  const char *address;  /**< Hostname, arena string. */
  uint32_t ipv4;
  uint16_t dir_port;
  uint16_t or_port;
  const char *contact;  /**< Arena string, or NULL (legacy entries). */
  uint8_t vote_digest[20];
  bool has_vote_digest;
  bool is_legacy;       /**< Nickname ends in "-legacy". */
} ns_dirsource_t;

typedef enum {
  NS_SIG_SHA1 = 0,
  NS_SIG_SHA256 = 1,
  NS_SIG_UNKNOWN = 2, /**< Unrecognised algorithm: to be ignored. */
} ns_sig_alg_t;

typedef struct ns_signature_t {
  ns_sig_alg_t alg;
  uint8_t identity[20];           /**< Authority v3 identity digest. */
  uint8_t signing_key_digest[20]; /**< SHA-1 of its signing key. */
  const uint8_t *sig;             /**< Arena copy of the signature. */
  size_t sig_len;
} ns_signature_t;

/** A shared random value line (dir-spec §3.4.1). */
typedef struct ns_srv_t {
  bool present;
  uint32_t n_reveals;
  uint8_t value[32];
} ns_srv_t;

typedef struct ns_consensus_t {
  dirarena_t *arena; /**< Owns everything below. */
  ns_flavor_t flavor;
  uint32_t consensus_method;
  int64_t valid_after, fresh_until, valid_until; /**< Seconds (UTC). */
  uint32_t vote_seconds, dist_seconds;
  const char *client_versions; /**< Arena string or NULL. */
  const char *server_versions; /**< Arena string or NULL. */
  uint32_t known_flags;        /**< ns_flag_t bits we recognised. */
  size_t n_known_flags;        /**< Entries in the known-flags line. */
  protover_set_t rec_client_protos, req_client_protos;
  protover_set_t rec_relay_protos, req_relay_protos;
  bool has_rec_client_protos, has_req_client_protos;
  bool has_rec_relay_protos, has_req_relay_protos;
  ns_params_t params;
  ns_srv_t srv_previous, srv_current;

  size_t n_dirsources;
  ns_dirsource_t *dirsources;

  size_t n_routers;
  ns_routerstatus_t *routers; /**< Sorted by identity, strictly. */

  size_t n_versions;
  const char **versions;      /**< Interned "v" texts. */
  size_t n_protos;
  protover_set_t *protos;     /**< Interned "pr" sets. */
  size_t n_policies;
  policy_summary_t *policies; /**< Interned "p" summaries. */

  ns_params_t bw_params;      /**< The bandwidth-weights line. */
  ns_bw_weights_t bw_weights;
  bool has_bw_weights;

  size_t n_signatures;
  ns_signature_t *signatures;

  size_t signed_len;          /**< Bytes covered by the signatures. */
  uint8_t digest_sha1[20];    /**< SHA-1 of the signed region. */
  uint8_t digest_sha256[32];  /**< SHA-256 of the signed region. */
} ns_consensus_t;

/** Parse the consensus in the <b>len</b> bytes at <b>s</b> (need not be
 * NUL-terminated).  On success set *<b>out</b> to a new consensus (free
 * with ns_consensus_free()); its flavor is whatever the document says.
 * Returns CHIVE_ERR_PROTO for any syntax or rule violation,
 * CHIVE_ERR_TRUNCATED if the text ends early, CHIVE_ERR_LIMIT for a hard
 * cap, CHIVE_ERR_NOMEM.  On failure *out is set to NULL. */
CHIVE_MUST_CHECK chive_err_t ns_consensus_parse(const char *s, size_t len,
                                                ns_consensus_t **out);
/** Free <b>c</b>; NULL is a no-op. */
void ns_consensus_free_(ns_consensus_t *c);
#define ns_consensus_free(p) \
  CHIVE_FREE_AND_NULL(ns_consensus_t, ns_consensus_free_, (p))

/** Return the entry with <b>identity</b>, or NULL (binary search). */
const ns_routerstatus_t *
ns_consensus_find_router(const ns_consensus_t *c, const uint8_t identity[20]);
/** Return the pr set of <b>rs</b>, or NULL if it had no "pr" line. */
const protover_set_t *ns_routerstatus_protos(const ns_consensus_t *c,
                                             const ns_routerstatus_t *rs);
/** Return the "v" text of <b>rs</b>, or NULL. */
const char *ns_routerstatus_version(const ns_consensus_t *c,
                                    const ns_routerstatus_t *rs);
/** Return the ns-flavor "p" summary of <b>rs</b>, or NULL. */
const policy_summary_t *ns_routerstatus_policy(const ns_consensus_t *c,
                                               const ns_routerstatus_t *rs);
/** Bytes of heap held by <b>c</b> (arena plus struct). */
size_t ns_consensus_bytes(const ns_consensus_t *c);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_NS_CONSENSUS_H) */
