/**
 * @file path.h
 * @brief Path selection (path-spec §2.2): bandwidth-weighted choice of
 * guard, middle and exit relays from a nodelist under the path
 * constraints (no relay twice, no two relays of one family, no two in
 * one IPv4 /16, flags, exit policy summaries, protocol support).
 *
 * Weighting (path-spec §2.2, dir-spec §3.4.1 "bandwidth-weights"): a
 * candidate N for position p (g = guard, m = middle, e = exit) weighs
 *   B(N) * W(p, class(N)) / bwweightscale
 * where B is the consensus "w Bandwidth=" value and class(N) is
 *   d if N has Guard and Exit (and not BadExit), g if Guard only,
 *   e if Exit only (and not BadExit), m otherwise,
 * so W is Wgg/Wgm/Wgd (guard position; an exit-only relay weighs 0
 * there), Wmg/Wmm/Wme/Wmd (middle), Weg/Wem/Wee/Wed (exit).  A weight
 * missing from the consensus, or negative, counts as 1.0 (path-spec
 * §2.2: "the default value of 10000" under the default bwweightscale);
 * a consensus with no bandwidth-weights line therefore weighs by plain
 * bandwidth.  Unmeasured relays are used as the consensus lists them
 * (authorities already cap them at maxunmeasuredbw).  The BEGIN_DIR
 * weights (W?b, Wb?) are not used here.  Weights are exact 64-bit
 * integers (B * W, the common 1/bwweightscale factor dropped); the draw
 * is crypto_rand_u64_below(total) over their cumulative sums.  If every
 * candidate weighs 0 the choice is uniform among the candidates.
 *
 * Stateless: every call reads the nodelist and the caller's constraints
 * only.
 **/
#ifndef CHIVE_FEATURE_NODES_PATH_H
#define CHIVE_FEATURE_NODES_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/nodes/nodelist.h"
#include "lib/cc/cc.h"

/** Longest path path_choose() builds. */
#define PATH_MAX_HOPS 8
/** Default path length (path-spec §2.2: three hops). */
#define PATH_DEFAULT_HOPS 3
/** Most target/predicted ports in one request or constraint set. */
#define PATH_MAX_PORTS 64
/** Most nodes in one exclusion or in-path list. */
#define PATH_MAX_EXCLUDE 1024

/** The position a node is chosen for (selects the weight row). */
typedef enum {
  PATH_POS_GUARD = 0,
  PATH_POS_MIDDLE = 1,
  PATH_POS_EXIT = 2,
} path_position_t;

/** A source of uniform integers, for tests that need exact control.
 * below(arg, n) must return a uniform value in [0, n), n > 0.  A NULL
 * path_rng_t * means crypto_rand_u64_below(). */
typedef struct path_rng_t {
  uint64_t (*below)(void *arg, uint64_t n);
  void *arg;
} path_rng_t;

/** What a candidate must satisfy.  Initialise with
 * path_constraints_init(), then set fields.  Pointers are borrowed for
 * the call only. */
typedef struct path_constraints_t {
  uint32_t need_flags;  /**< ns_flag_t bits every candidate must carry. */
  uint32_t avoid_flags; /**< ns_flag_t bits that disqualify. */
  /** node_flag_t bits required; NODE_F_USABLE is always required. */
  unsigned need_nflags;
  /** Exit ports (checked against the md "p" summary, path-spec §2.2.1)
   * if n_ports > 0: all of them must be allowed, or with ports_any at
   * least one (a preemptive circuit for predicted ports). */
  const uint16_t *ports;
  size_t n_ports;
  bool ports_any;
  /** Nodes already in the path: a candidate must not be one of them, in
   * a family with one of them, or (if enforce_distinct_subnets) in the
   * same /16 as one of them. */
  const node_t *const *in_path;
  size_t n_in_path;
  /** Nodes never to choose (failed, user-excluded); identity only. */
  const node_t *const *exclude;
  size_t n_exclude;
  /** tor's EnforceDistinctSubnets (default true).  A private test
   * network on 127.0.0.1 needs false. */
  bool enforce_distinct_subnets;
} path_constraints_t;

/** Set <b>c</b> to defaults: Fast required, subnets enforced, nothing
 * else. */
void path_constraints_init(path_constraints_t *c);

/** The weight of <b>n</b> for position <b>pos</b> in units of
 * 1/bwweightscale kB/s: B * W (see the file comment).  Exported for the
 * guards module (guard sampling is weighted the same way) and tests. */
uint64_t path_node_weight(const nodelist_t *nl, const node_t *n,
                          path_position_t pos);

/** The W factor for position <b>pos</b> and <b>n</b>'s class, in
 * 1/bwweightscale units (so 10000 = 1.0 by default). */
uint32_t path_weight_factor(const nodelist_t *nl, const node_t *n,
                            path_position_t pos);

/** Choose one node for <b>pos</b>, weighted as above, among the usable
 * nodes satisfying <b>c</b>.  Position rules added here: a guard needs
 * the Guard flag; an exit must not be BadExit and its policy summary must
 * allow some port (path-spec §1.1) and the ports in <b>c</b>; guards and
 * exits must not be MiddleOnly.  Like tor, exits are chosen by policy:
 * the Exit flag only selects the weight class (set NS_FLAG_EXIT in
 * need_flags to require it).  Ports in <b>c</b> apply to PATH_POS_EXIT
 * only.  Returns CHIVE_ERR_NOTFOUND if no node
 * qualifies, CHIVE_ERR_INVAL for bad arguments, CHIVE_ERR_NOMEM.
 * *<b>out</b> is written only on success. */
CHIVE_MUST_CHECK chive_err_t path_choose_node(const nodelist_t *nl,
                                              path_position_t pos,
                                              const path_constraints_t *c,
                                              const path_rng_t *rng,
                                              const node_t **out);
/** path_choose_node(nl, PATH_POS_GUARD, ...). */
CHIVE_MUST_CHECK chive_err_t path_choose_guard(const nodelist_t *nl,
                                               const path_constraints_t *c,
                                               const path_rng_t *rng,
                                               const node_t **out);
/** path_choose_node(nl, PATH_POS_MIDDLE, ...). */
CHIVE_MUST_CHECK chive_err_t path_choose_middle(const nodelist_t *nl,
                                                const path_constraints_t *c,
                                                const path_rng_t *rng,
                                                const node_t **out);
/** path_choose_node(nl, PATH_POS_EXIT, ...). */
CHIVE_MUST_CHECK chive_err_t path_choose_exit(const nodelist_t *nl,
                                              const path_constraints_t *c,
                                              const path_rng_t *rng,
                                              const node_t **out);

/** Does <b>n</b> qualify for <b>pos</b> under <b>c</b>?  (The test
 * path_choose_node() applies to every candidate.) */
bool path_node_ok(const nodelist_t *nl, const node_t *n, path_position_t pos,
                  const path_constraints_t *c);

/** path-spec §2.2: true iff <b>port</b> is one of the default
 * LongLivedPorts (21, 22, 706, 1863, 5050, 5190, 5222, 5223, 6667, 6697,
 * 8300), whose streams need Stable relays. */
bool path_port_is_long_lived(uint16_t port);

typedef enum {
  /** The last hop is an exit for the request's ports. */
  PATH_PURPOSE_EXIT = 0,
  /** "Internal" circuit (path-spec §1.1): the last hop is chosen like a
   * middle node (onion services, resolves-less internal use). */
  PATH_PURPOSE_INTERNAL = 1,
} path_purpose_t;

/** A whole-path request.  Initialise with path_request_init(). */
typedef struct path_request_t {
  path_purpose_t purpose;
  /** Target port (n_ports = 1) or predicted ports (ports_any).  For
   * PATH_PURPOSE_EXIT with n_ports = 0 the exit need only allow some
   * port (e.g. a DNS resolve, path-spec §2.2). */
  const uint16_t *ports;
  size_t n_ports;
  bool ports_any;
  /** Require Stable relays (implied when a port is long-lived). */
  bool need_stable;
  /** Allow relays without the Fast flag (default false: path-spec §2.2
   * "fast" circuits, as tor builds for clients). */
  bool allow_slow;
  /** Every hop must list Relay=4 (ntor-v3). */
  bool need_ntor_v3;
  /** Path length, 2..PATH_MAX_HOPS (default 3). */
  size_t hops;
  /** The first hop, chosen by the guards module, or NULL to choose a
   * Guard-flagged node here.  It must be usable. */
  const node_t *guard;
  /** Nodes never to use (identity only). */
  const node_t *const *exclude;
  size_t n_exclude;
  /** tor's EnforceDistinctSubnets (default true). */
  bool enforce_distinct_subnets;
} path_request_t;

/** Set <b>r</b> to defaults: general exit circuit, 3 hops, Fast,
 * subnets enforced, no ports. */
void path_request_init(path_request_t *r);

/** Choose a whole path for <b>req</b> into <b>out</b>[0..hops-1]
 * (out[0] the guard, out[hops-1] the exit or last hop).  Order
 * (path-spec §2.2): the exit first, then the guard, then the middles
 * front to back; each hop is chosen under the constraints of the hops
 * already chosen.  When req->guard is given it is fixed first and the
 * exit is chosen compatible with it.  Returns CHIVE_ERR_NOTFOUND if some
 * position has no candidate (a reason is written into <b>why</b>, if not
 * NULL, as NUL-terminated text of at most <b>why_len</b> bytes),
 * CHIVE_ERR_INVAL for a bad request (out_len < hops, bad hops, unusable
 * guard, too many ports), CHIVE_ERR_NOMEM.  <b>out</b> is written only
 * on success. */
CHIVE_MUST_CHECK chive_err_t path_choose(const nodelist_t *nl,
                                         const path_request_t *req,
                                         const path_rng_t *rng,
                                         const node_t **out, size_t out_len,
                                         char *why, size_t why_len);

#endif /* !defined(CHIVE_FEATURE_NODES_PATH_H) */
