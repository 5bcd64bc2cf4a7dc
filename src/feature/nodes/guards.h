/**
 * @file guards.h
 * @brief Entry guards as guard-spec describes them: a persistent sampled
 * set, the filtered and usable subsets, the confirmed list, primary
 * guards, retry schedules and the per-circuit guard state machine.
 *
 * The module is independent of the node list's API: every time the
 * consensus changes the caller passes the relays as an array of
 * guard_candidate_t (identity, guard-position weight, flags, address),
 * which the module copies.  Time is passed into every call as wall-clock
 * seconds (`now`, from the client's chive_clock_t), and randomness comes
 * from crypto_rand (or the RNG hook in the configuration), so tests run
 * on a fake clock with a deterministic RNG.  No I/O except
 * guards_load()/guards_save(); no callbacks.
 *
 * Use:
 *   guards_new(&cfg, &g);  guards_load(g, "DataDirectory/state", now, &e);
 *   guards_update_consensus(g, cands, n, now);      each new consensus
 *   guards_select(g, now, &restriction, &pick, &circ);  per circuit
 *   ... build the circuit through pick.rsa_id ...
 *   guards_circuit_succeeded(g, circ, now)  or guards_circuit_failed()
 *   guards_upgrade_waiting(g, all_circs, n, now)   after any change
 *   if (guards_is_dirty(g)) guards_save(g, path, now);
 *
 * A circuit may carry streams only when its guard_circ_t state is
 * GUARD_CIRC_COMPLETE (guard-spec §4.6).
 *
 * Not thread-safe: one guards_t per client, used from the loop thread.
 **/
#ifndef CHIVE_FEATURE_NODES_GUARDS_H
#define CHIVE_FEATURE_NODES_GUARDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/nodes/statefile.h"
#include "lib/cc/cc.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"

/** Length of an RSA identity digest (SHA-1 of the key), bytes. */
#define GUARD_RSA_ID_LEN 20
/** Length of an Ed25519 identity, bytes. */
#define GUARD_ED_ID_LEN 32
/** Longest relay nickname (dir-spec §2.1.1), plus the NUL. */
#define GUARD_NICKNAME_BUF_LEN 20
/** Most candidates one consensus may pass (the live network has ~7000
 * relays, ~4000 of them guards). */
#define GUARDS_MAX_CANDIDATES 32768u
/** Largest candidate weight; larger ones are clamped, so the sum over
 * GUARDS_MAX_CANDIDATES never overflows 64 bits. */
#define GUARD_WEIGHT_MAX (((uint64_t)1 << 48) - 1)
/** Hard cap on the sampled set (and on guards read from a state file),
 * whatever guard-max-sample-size says. */
#define GUARDS_MAX_SAMPLED 1024u
/** Most relays one restriction may exclude by identity. */
#define GUARD_RESTRICTION_MAX_IDS 256u

/** One relay as the consensus shows it, for the guard module.  The
 * caller fills it from its node list (borrowed during the call). */
typedef struct guard_candidate_t {
  uint8_t rsa_id[GUARD_RSA_ID_LEN];
  uint8_t ed_id[GUARD_ED_ID_LEN];
  bool has_ed;
  char nickname[GUARD_NICKNAME_BUF_LEN]; /**< NUL-terminated, may be "" */
  /** Weight for the guard position: the consensus bandwidth times Wgg
   * (Guard) or Wgd (Guard+Exit), path-spec §5.1.  0 is allowed. */
  uint64_t weight;
  bool is_guard_flag;
  bool is_running;
  bool is_valid;
  bool is_fast;
  bool is_stable;
  bool is_v2dir; /**< guard-spec §4.0 wants V2Dir too */
  uint32_t ipv4; /**< host order */
  uint16_t port; /**< ORPort */
} guard_candidate_t;

/** Decides whether the configuration lets us use <b>c</b> as a guard
 * (ExcludeNodes, EntryNodes, reachable addresses: guard-spec §4.2). */
typedef bool (*guard_filter_fn)(const guard_candidate_t *c, void *arg);
/** Returns a uniform random integer in [0, n), n >= 1. */
typedef uint64_t (*guard_rand_fn)(void *arg, uint64_t n);

/** Settings.  Fill with guards_config_defaults(), then change fields.
 * The names in comments are guard-spec A.1 / param-spec §11. */
typedef struct guards_config_t {
  unsigned n_primary;                   /**< N_PRIMARY_GUARDS (3) */
  unsigned n_usable_primary;            /**< NUM_USABLE_PRIMARY_GUARDS (1) */
  unsigned n_usable_primary_dir;        /**< ..._DIRECTORY_GUARDS (3) */
  unsigned max_sample_size;             /**< MAX_SAMPLE_SIZE (60) */
  unsigned max_sample_threshold_pct;    /**< MAX_SAMPLE_THRESHOLD (20) */
  unsigned min_filtered_sample;         /**< MIN_FILTERED_SAMPLE (20) */
  int64_t lifetime_s;                   /**< GUARD_LIFETIME (120 days) */
  int64_t confirmed_min_lifetime_s;     /**< (60 days) */
  int64_t remove_unlisted_after_s;      /**< (20 days) */
  int64_t internet_likely_down_s;       /**< (600 s) */
  int64_t nonprimary_connect_timeout_s; /**< (15 s) */
  int64_t nonprimary_idle_timeout_s;    /**< (600 s) */
  /** UseEntryGuards (default true).  When false every circuit takes a
   * fresh weighted-random first hop and no guard state is kept. */
  bool use_entry_guards;
  /** NumEntryGuards (0 = unset).  When set it overrides the number of
   * primary guards used in parallel, and the primary list grows to
   * twice it (1.5 times above 5), as tor does. */
  unsigned num_entry_guards;
  /** NumDirectoryGuards (0 = unset). */
  unsigned num_directory_guards;
  /** Guard state instance name written as "in=" (default "default"). */
  const char *instance;
  guard_filter_fn filter; /**< NULL: every running candidate passes */
  void *filter_arg;
  guard_rand_fn rand_fn; /**< NULL: crypto_rand_u64_below */
  void *rand_arg;
  logger_t *log; /**< borrowed; NULL discards */
} guards_config_t;

/** Fill <b>cfg</b> with the guard-spec defaults. */
void guards_config_defaults(guards_config_t *cfg);

/** Guard state (opaque). */
typedef struct guards_t guards_t;
/** The guard state of one circuit (opaque; owned by the circuit). */
typedef struct guard_circ_t guard_circ_t;

/** guard-spec §4.6 circuit states. */
typedef enum guard_circ_state_t {
  GUARD_CIRC_USABLE_ON_COMPLETION = 1,
  GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD = 2,
  GUARD_CIRC_WAITING_FOR_BETTER_GUARD = 3,
  GUARD_CIRC_COMPLETE = 4,
  GUARD_CIRC_DEAD = 5, /**< failed or cancelled: close the circuit */
} guard_circ_state_t;

/** What a circuit will be used for. */
typedef enum guard_usage_t {
  GUARD_USAGE_TRAFFIC = 0,
  GUARD_USAGE_DIR = 1, /**< one-hop directory fetches */
} guard_usage_t;

/** Restrictions on one circuit's guard (guard-spec §4.6: "we remember
 * the restrictions").  Everything is borrowed during the call. */
typedef struct guard_restriction_t {
  guard_usage_t usage;
  /** Relays that must not be the guard (the exit and its family). */
  const uint8_t (*excluded_ids)[GUARD_RSA_ID_LEN];
  size_t n_excluded_ids; /**< at most GUARD_RESTRICTION_MAX_IDS */
  /** If nonzero, a guard whose IPv4 /16 equals excluded_ipv4 >> 16 is
   * refused (same-/16 rule, path-spec §2.2). */
  uint32_t excluded_ipv4;
} guard_restriction_t;

/** The guard picked for a circuit. */
typedef struct guard_pick_t {
  uint8_t rsa_id[GUARD_RSA_ID_LEN];
  uint8_t ed_id[GUARD_ED_ID_LEN];
  bool has_ed;
  uint32_t ipv4;
  uint16_t port;
  char nickname[GUARD_NICKNAME_BUF_LEN];
  guard_circ_state_t state; /**< USABLE_ON_COMPLETION or IF_NO_BETTER */
  bool is_primary;
} guard_pick_t;

/** Create guard state from <b>cfg</b> (copied; cfg->instance and
 * cfg->log are borrowed and must outlive <b>out</b>).  The sample is
 * empty until guards_update_consensus() or guards_load().
 * CHIVE_ERR_INVAL for a nonsensical config, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t guards_new(const guards_config_t *cfg,
                                        guards_t **out);
/** Free <b>g</b>.  Outstanding guard_circ_t objects stay valid to free
 * (they hold no pointer into g).  NULL is a no-op. */
void guards_free_(guards_t *g);
#define guards_free(g) CHIVE_FREE_AND_NULL(guards_t, guards_free_, (g))

/** Set the consensus parameter <b>name</b> (param-spec §11, e.g.
 * "guard-n-primary-guards") to <b>value</b>, clamped to the spec's range.
 * CHIVE_ERR_NOTFOUND for a name this module does not use.  Takes effect
 * at the next guards_update_consensus(). */
CHIVE_MUST_CHECK chive_err_t guards_set_param(guards_t *g, const char *name,
                                              int64_t value);

/** guard-spec §4.10: a new consensus.  <b>cands</b> (borrowed, <b>n</b>
 * entries, at most GUARDS_MAX_CANDIDATES) are all relays the caller wants
 * considered; the module copies what it needs.  Updates IS_LISTED and
 * unlisted_since, expires sampled guards (§4.1), recomputes the filtered
 * and primary guards, and grows the sample (§4.2).  CHIVE_ERR_LIMIT for
 * too many candidates, CHIVE_ERR_NOMEM (state unchanged). */
CHIVE_MUST_CHECK chive_err_t guards_update_consensus(
    guards_t *g, const guard_candidate_t *cands, size_t n, int64_t now);

/** Recompute the filtered set after the filter's inputs changed. */
void guards_refilter(guards_t *g, int64_t now);

/** guard-spec §4.6: pick a guard for a new circuit obeying <b>r</b> (NULL:
 * traffic, no restriction).  On success fill *<b>pick</b> and set
 * *<b>circ_out</b> to the circuit's guard state (caller frees with
 * guard_circ_free(), once the circuit is gone).  CHIVE_ERR_NOTFOUND if
 * no guard can be used (no consensus yet, or everything filtered out),
 * CHIVE_ERR_INVAL for a bad restriction, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t guards_select(guards_t *g, int64_t now,
                                           const guard_restriction_t *r,
                                           guard_pick_t *pick,
                                           guard_circ_t **circ_out);

/** guard-spec §4.8: the circuit through <b>circ</b>'s guard was built.
 * Marks the guard reachable and confirmed, and returns the circuit's new
 * state: GUARD_CIRC_COMPLETE (use it) or GUARD_CIRC_WAITING_FOR_BETTER_GUARD
 * (hold it; call guards_upgrade_waiting()).  GUARD_CIRC_DEAD if the guard
 * left the sample meanwhile or circ was not pending. */
guard_circ_state_t guards_circuit_succeeded(guards_t *g, guard_circ_t *circ,
                                            int64_t now);
/** guard-spec §4.7: the circuit failed in a way that shows its guard is
 * unreachable.  Marks the guard unreachable; circ becomes DEAD. */
void guards_circuit_failed(guards_t *g, guard_circ_t *circ, int64_t now);
/** The circuit closed for a reason that says nothing about its guard:
 * clear the guard's pending mark; circ becomes DEAD. */
void guards_circuit_cancel(guards_t *g, guard_circ_t *circ);

/** guard-spec §4.9: upgrade <b>circs</b> (all the client's circuits that
 * have a guard state, any state; <b>n</b> of them) in
 * WAITING_FOR_BETTER_GUARD to COMPLETE when every primary guard is known
 * down and no better circuit blocks them.  Returns how many changed. */
size_t guards_upgrade_waiting(guards_t *g, guard_circ_t *const *circs,
                              size_t n, int64_t now);
/** True iff <b>circ</b> has waited for a better guard longer than
 * NONPRIMARY_GUARD_IDLE_TIMEOUT (guard-spec §4.9): close it. */
bool guards_circ_is_expired(const guards_t *g, const guard_circ_t *circ,
                            int64_t now);

/** Current state of <b>circ</b>. */
guard_circ_state_t guard_circ_state(const guard_circ_t *circ);
/** RSA identity of <b>circ</b>'s guard (borrowed). */
const uint8_t *guard_circ_rsa_id(const guard_circ_t *circ);
/** Free a circuit guard state.  Call guards_circuit_cancel() first if
 * the circuit's outcome was never reported.  NULL is a no-op. */
void guard_circ_free_(guard_circ_t *circ);
#define guard_circ_free(c) \
  CHIVE_FREE_AND_NULL(guard_circ_t, guard_circ_free_, (c))

/** The connection to the sampled guard <b>rsa_id</b> failed (outside any
 * circuit): mark it unreachable (guard-spec §4.7).  Unknown ids are
 * ignored. */
void guards_mark_unreachable(guards_t *g, const uint8_t *rsa_id, int64_t now);
/** We reached the Tor network at <b>now</b> (guard-spec §4.6
 * last_time_on_internet). */
void guards_note_internet_activity(guards_t *g, int64_t now);

/** Counts for GETINFO and metrics. */
typedef struct guards_counts_t {
  size_t n_candidates;      /**< possible guards in the last consensus */
  size_t n_sampled;         /**< SAMPLED_GUARDS */
  size_t n_filtered;        /**< FILTERED_GUARDS */
  size_t n_usable_filtered; /**< USABLE_FILTERED_GUARDS */
  size_t n_confirmed;       /**< CONFIRMED_GUARDS */
  size_t n_primary;         /**< PRIMARY_GUARDS */
  size_t n_reachable;       /**< sampled guards known reachable */
  size_t n_unreachable;     /**< sampled guards known unreachable */
} guards_counts_t;
/** Fill *<b>out</b>. */
void guards_counts(const guards_t *g, guards_counts_t *out);

/** guard-spec §2 reachability tristate. */
typedef enum guard_reachable_t {
  GUARD_REACHABLE_MAYBE = 0,
  GUARD_REACHABLE_YES = 1,
  GUARD_REACHABLE_NO = 2,
} guard_reachable_t;

/** One sampled guard, for GETINFO entry-guards and tests. */
typedef struct guard_info_t {
  uint8_t rsa_id[GUARD_RSA_ID_LEN];
  char nickname[GUARD_NICKNAME_BUF_LEN];
  int64_t sampled_on;
  bool is_listed;
  int64_t unlisted_since; /**< 0: listed */
  int64_t confirmed_on;   /**< 0: not confirmed */
  int confirmed_idx;      /**< -1: not confirmed */
  int primary_idx;        /**< -1: not primary */
  bool is_filtered;
  bool is_pending;
  guard_reachable_t reachable;
  int64_t failing_since; /**< 0: not failing */
  int64_t last_tried;    /**< 0: never */
} guard_info_t;
/** Write up to <b>max</b> sampled guards, in sample order, to
 * <b>out</b>; return the total number of sampled guards. */
size_t guards_list(const guards_t *g, guard_info_t *out, size_t max);
/** Write the primary guards' identities, in order, to <b>out</b> (room
 * for <b>max</b>); return how many there are. */
size_t guards_primary_ids(const guards_t *g, uint8_t (*out)[GUARD_RSA_ID_LEN],
                          size_t max);
/** Tor's GETINFO "entry-guards" status word of sampled guard
 * <b>rsa_id</b>: "up", "down" or "never-connected"; NULL if unknown. */
const char *guards_status_word(const guards_t *g, const uint8_t *rsa_id);

/** DROPGUARDS (control-spec §3.26): forget every sampled guard.  A new
 * sample is drawn from the current consensus at the next selection. */
void guards_drop_all(guards_t *g);

/** True iff the persistent part of the state changed since the last
 * successful save or load. */
bool guards_is_dirty(const guards_t *g);

/** Replace this instance's "Guard" entries of <b>sf</b> with the current
 * sample (guard-spec A.5), keeping other entries and other instances'
 * guards.  CHIVE_ERR_NOMEM / CHIVE_ERR_LIMIT (sf may then be partly
 * updated: do not write it). */
CHIVE_MUST_CHECK chive_err_t guards_save_to_state(const guards_t *g,
                                                  statefile_t *sf,
                                                  int64_t now);
/** Replace the sample with this instance's "Guard" entries of <b>sf</b>.
 * Every entry is validated first; on any malformed entry (missing or bad
 * required field, duplicate identity, too many guards) return
 * CHIVE_ERR_PROTO or CHIVE_ERR_LIMIT with *<b>err</b> naming the line,
 * and leave <b>g</b> unchanged. */
CHIVE_MUST_CHECK chive_err_t guards_load_from_state(guards_t *g,
                                                    const statefile_t *sf,
                                                    int64_t now,
                                                    statefile_error_t *err);
/** Read the state file at <b>path</b> and load it as above.  A missing
 * file is CHIVE_ERR_NOTFOUND; a corrupt one returns the parse error (and
 * logs a warning): in both cases g is unchanged and the client goes on
 * with fresh guards. */
CHIVE_MUST_CHECK chive_err_t guards_load(guards_t *g, const char *path,
                                         int64_t now, statefile_error_t *err);
/** Write the guards into the state file at <b>path</b> atomically,
 * keeping the file's other entries (a corrupt or missing old file is
 * replaced).  Clears the dirty mark on success. */
CHIVE_MUST_CHECK chive_err_t guards_save(guards_t *g, const char *path,
                                         int64_t now);

#endif /* !defined(CHIVE_FEATURE_NODES_GUARDS_H) */
