/**
 * @file cbt.h
 * @brief Circuit build timeout learning (path-spec §2.4).
 *
 * A sans-I/O estimator: the owner reports how long each 3-hop circuit
 * took to build (cbt_add_build_time()) and which circuits ran past the
 * current timeout (cbt_add_timeout()); the estimator keeps the last
 * CBT_NCIRCUITS_TO_OBSERVE build times in a ring buffer, fits a Pareto
 * curve to them (Xm from the cbtnummodes most frequent 10 ms bins, alpha
 * by maximum likelihood) and answers with the usage timeout
 * (cbt_timeout_ms(), the cbtquantile point of the curve) and the close
 * timeout (cbt_close_ms(), the cbtclosequantile point).
 *
 * Pure: no I/O, no logging, no allocation, no clock.  A cbt_t is a plain
 * caller-allocated struct with no interior pointers (about 5 KB): do not
 * touch its fields, use the functions.  Functions that change the state
 * return a cbt_update_t so the caller can log or emit a control event.
 **/
#ifndef CHIVE_FEATURE_CIRCPOOL_CBT_H
#define CHIVE_FEATURE_CIRCPOOL_CBT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** How many build times the ring buffer keeps (path-spec §2.4.2). */
#define CBT_NCIRCUITS_TO_OBSERVE 1000
/** Histogram bin width in milliseconds (path-spec §2.4.2, §2.4.3). */
#define CBT_BIN_WIDTH_MS 10
/** Largest build time recorded, in ms; longer values are clamped. */
#define CBT_BUILD_TIME_MAX_MS ((uint32_t)INT32_MAX)
/** Upper bound of cbtrecentcount (path-spec §2.4.6): size of the
 * recent-outcome window. */
#define CBT_RECENT_COUNT_MAX 1000
/** Upper bound of cbtnummodes (path-spec §2.4.6). */
#define CBT_NUM_MODES_MAX 20
/** After a reset with the timeout already at cbtinitialtimeout or above,
 * path-spec §2.4.5 doubles the timeout.  The spec gives no ceiling;
 * chive stops doubling at this many ms (or at cbtinitialtimeout if that
 * is larger) so a dead network cannot push it to days. */
#define CBT_DOUBLED_TIMEOUT_MAX_MS (10u * 60u * 1000u)

/** Keyword of the persisted histogram lines, as in tor's state file:
 * "CircuitBuildTimeBin <bin midpoint ms> <count>". */
#define CBT_STATE_KEYWORD "CircuitBuildTimeBin"
/** Longest state line cbt_save() writes, newline included, in bytes. */
#define CBT_STATE_LINE_MAX_LEN 48
/** A buffer this large always holds cbt_save()'s output (with NUL). */
#define CBT_STATE_MAX_LEN \
  (CBT_NCIRCUITS_TO_OBSERVE * CBT_STATE_LINE_MAX_LEN + 1)
/** Longest text cbt_load() accepts, in bytes. */
#define CBT_STATE_TEXT_MAX_LEN (1024u * 1024u)

/* path-spec §2.4.6 defaults. */
#define CBT_DEFAULT_NUM_MODES 10
#define CBT_DEFAULT_RECENT_COUNT 20
#define CBT_DEFAULT_MAX_TIMEOUTS 18
#define CBT_DEFAULT_MIN_CIRCS 100
#define CBT_DEFAULT_QUANTILE_PCT 80
#define CBT_DEFAULT_CLOSE_QUANTILE_PCT 99
#define CBT_DEFAULT_TEST_FREQ_S 10
#define CBT_DEFAULT_MIN_TIMEOUT_MS 10
#define CBT_DEFAULT_INITIAL_TIMEOUT_MS 60000
#define CBT_DEFAULT_LEARN_TIMEOUT_S 180
#define CBT_DEFAULT_MAX_OPEN_CIRCS 10

/** The path-spec §2.4.6 consensus parameters, already clamped. */
typedef struct cbt_params_t {
  bool disabled;               /**< cbtdisabled */
  uint32_t num_modes;          /**< cbtnummodes, 1..20 */
  uint32_t recent_count;       /**< cbtrecentcount, 3..1000 */
  uint32_t max_timeouts;       /**< cbtmaxtimeouts, 3..10000 */
  uint32_t min_circs;          /**< cbtmincircs, 1..10000 */
  uint32_t quantile_pct;       /**< cbtquantile, 10..99 */
  uint32_t close_quantile_pct; /**< cbtclosequantile, quantile..99 */
  uint32_t test_freq_s;        /**< cbttestfreq, 1..INT32_MAX seconds */
  uint32_t min_timeout_ms;     /**< cbtmintimeout, 10..INT32_MAX ms */
  uint32_t initial_timeout_ms; /**< cbtinitialtimeout, min..INT32_MAX ms */
  uint32_t learn_timeout_s;    /**< cbtlearntimeout, 10..60000 seconds */
  uint32_t max_open_circs;     /**< cbtmaxopencircs, 0..14 */
} cbt_params_t;

/** Look up consensus parameter <b>name</b>: set *<b>value_out</b> and
 * return true if the consensus lists it, else return false.  An adapter
 * over ns_params_lookup() belongs to the caller, so this module does not
 * depend on the directory code. */
typedef bool (*cbt_param_get_fn)(void *arg, const char *name,
                                 int32_t *value_out);

/** Return a uniformly distributed integer in [0, <b>bound</b>), bound
 * >= 1.  Used only to shuffle loaded history. */
typedef uint32_t (*cbt_rand_fn)(void *arg, uint32_t bound);

/** What a state change did, for the caller to log or report. */
typedef enum cbt_update_t {
  CBT_UPDATE_NONE = 0, /**< Recorded; the timeouts did not change. */
  CBT_UPDATE_COMPUTED, /**< Timeouts recomputed from the history. */
  CBT_UPDATE_RESET,    /**< Too many recent timeouts: history gone,
                        * timeout back to cbtinitialtimeout (or
                        * doubled) -- path-spec §2.4.5. */
} cbt_update_t;

/** One histogram bin: its midpoint and how many build times fell in it. */
typedef struct cbt_bin_t {
  uint32_t bin_ms; /**< Midpoint: bin * CBT_BIN_WIDTH_MS + width / 2. */
  uint32_t count;
} cbt_bin_t;

/** Figures for metrics and the control port's BUILDTIMEOUT_SET event. */
typedef struct cbt_stats_t {
  uint32_t timeout_ms;        /**< Usage timeout in effect. */
  uint32_t close_ms;          /**< Close timeout in effect. */
  uint32_t n_observed;        /**< Build times in the ring buffer. */
  bool have_estimate;         /**< Timeouts come from a fitted curve. */
  double xm_ms;               /**< Pareto Xm of the last fit (0 if none). */
  double alpha;               /**< Pareto alpha of the last fit (0 if none). */
  uint32_t n_recent;          /**< Outcomes in the recent window. */
  uint32_t n_recent_timeouts; /**< Of which timed out. */
  uint64_t n_builds_total;    /**< Build times ever recorded. */
  uint64_t n_timeouts_total;  /**< Timeouts ever recorded. */
  uint64_t n_resets;          /**< Network-change resets (§2.4.5). */
} cbt_stats_t;

/** Estimator state.  Caller-allocated; fields are private. */
typedef struct cbt_t {
  cbt_params_t params;
  uint32_t build_times_ms[CBT_NCIRCUITS_TO_OBSERVE]; /**< Ring buffer. */
  uint32_t next_idx; /**< Ring slot written next. */
  uint32_t n_times;  /**< Valid entries, <= CBT_NCIRCUITS_TO_OBSERVE */
  uint8_t recent[CBT_RECENT_COUNT_MAX]; /**< 1 = timed out, ring. */
  uint32_t recent_idx;                  /**< Window slot written next. */
  uint32_t n_recent;                    /**< Valid window entries. */
  uint32_t n_recent_timeouts;
  uint32_t timeout_ms;
  uint32_t close_ms;
  bool have_estimate;
  double xm_ms;
  double alpha;
  uint64_t n_builds_total;
  uint64_t n_timeouts_total;
  uint64_t n_resets;
} cbt_t;

/** Fill *<b>out</b> with the path-spec §2.4.6 defaults. */
void cbt_params_default(cbt_params_t *out);

/** Fill *<b>out</b> from consensus parameters looked up through
 * <b>get</b> (called with <b>arg</b>); absent parameters take their
 * defaults and out-of-range values are clamped to the §2.4.6 bounds, the
 * way tor treats consensus parameters.  <b>get</b> may be NULL (all
 * defaults). */
void cbt_params_from_consensus(cbt_params_t *out, cbt_param_get_fn get,
                               void *arg);

/** Initialise <b>cbt</b> with no history and the timeouts at
 * cbtinitialtimeout.  <b>params</b> (copied) is clamped as in
 * cbt_params_from_consensus(); NULL means defaults. */
void cbt_init(cbt_t *cbt, const cbt_params_t *params);

/** Replace the parameters (say, on a new consensus), keeping the build
 * time history, and recompute the timeouts.  If cbtdisabled became 1 the
 * history is discarded (§2.4.6).  A changed cbtrecentcount empties the
 * recent-outcome window. */
void cbt_set_params(cbt_t *cbt, const cbt_params_t *params);

/** Record that a circuit completed its first three hops in
 * <b>build_ms</b> milliseconds (path-spec §2.4.2: only 3-hop builds, and
 * only the first three hops of longer ones).  Once cbtmincircs times are
 * known, recompute the timeouts (§2.4.3).  A build within the usage
 * timeout also counts as a success in the recent-outcome window; a build
 * that took longer is a "measurement circuit" (§2.4.4) whose timeout the
 * caller MUST already have reported with cbt_add_timeout().  Circuits the
 * caller abandoned at the close timeout MUST NOT be reported here
 * (§2.4.4: they are ignored).  No-op when cbtdisabled. */
cbt_update_t cbt_add_build_time(cbt_t *cbt, uint32_t build_ms);

/** Record that a circuit which had completed at least one hop ran past
 * the usage timeout (§2.4.5).  When cbtmaxtimeouts of the last
 * cbtrecentcount outcomes are timeouts, discard the build time history,
 * set the timeout to cbtinitialtimeout -- or double it if it already was
 * at least that -- and return CBT_UPDATE_RESET.  No-op when disabled. */
cbt_update_t cbt_add_timeout(cbt_t *cbt);

/** Usage timeout for a 3-hop build, in ms: cbtinitialtimeout until
 * cbtmincircs builds were observed, then the cbtquantile point of the
 * fitted curve, at most the longest observed build time and at least
 * cbtmintimeout (§2.4.3). */
uint32_t cbt_timeout_ms(const cbt_t *cbt);

/** Close ("give up") timeout for a 3-hop build, in ms: the
 * cbtclosequantile point, at most twice the longest observed build,
 * at least cbtinitialtimeout and at least cbt_timeout_ms() (§2.4.3). */
uint32_t cbt_close_ms(const cbt_t *cbt);

/** The usage timeout scaled to a circuit of <b>n_hops</b> hops by
 * Actions(n)/Actions(3), Actions(n) = n(n+1)/2 (path-spec §2.4.3
 * "different lengths").  <b>n_hops</b> 0 is treated as 1; the result
 * saturates at UINT32_MAX. */
uint32_t cbt_timeout_ms_for_hops(const cbt_t *cbt, unsigned n_hops);
/** As cbt_timeout_ms_for_hops(), for the close timeout. */
uint32_t cbt_close_ms_for_hops(const cbt_t *cbt, unsigned n_hops);

/** Number of build times in the ring buffer (at most
 * CBT_NCIRCUITS_TO_OBSERVE). */
size_t cbt_n_observed(const cbt_t *cbt);

/** True while fewer than cbtmincircs builds are known and learning is
 * enabled: the caller should then build a test circuit every cbttestfreq
 * seconds with at most cbtmaxopencircs open (§2.4.2), and keep idle
 * circuits for cbtlearntimeout (§2.1.6). */
bool cbt_is_learning(const cbt_t *cbt);

/** While learning, path-spec §2.4.2 asks for a test circuit every
 * cbttestfreq seconds with at most cbtmaxopencircs of them open: return
 * true if the owner should launch one now, given the milliseconds since
 * it last launched one (<b>ms_since_last</b>; UINT64_MAX if never) and
 * how many such circuits are open (<b>n_open</b>).  False when not
 * learning. */
bool cbt_wants_test_circuit(const cbt_t *cbt, uint64_t ms_since_last,
                            uint32_t n_open);

/** Fill *<b>out</b> with the current figures. */
void cbt_get_stats(const cbt_t *cbt, cbt_stats_t *out);

/** Write the histogram of the ring buffer into <b>out</b> (up to
 * <b>max</b> bins, ascending, only non-empty bins) and return the number
 * of non-empty bins (which may exceed <b>max</b>; CBT_NCIRCUITS_TO_OBSERVE
 * always suffices). */
size_t cbt_histogram(const cbt_t *cbt, cbt_bin_t *out, size_t max);

/** Write the histogram as "CircuitBuildTimeBin <ms> <count>\n" lines
 * (ascending; tor's state-file format, path-spec §2.4.2) followed by a
 * NUL into <b>buf</b> of <b>buf_len</b> bytes, and set *<b>len_out</b> to
 * the text length.  CHIVE_ERR_LIMIT if it does not fit (CBT_STATE_MAX_LEN
 * always fits); *<b>len_out</b> is written only on success. */
CHIVE_MUST_CHECK chive_err_t cbt_save(const cbt_t *cbt, char *buf,
                                      size_t buf_len, size_t *len_out);

/** Replace the build time history with the "CircuitBuildTimeBin"
 * lines of the <b>len</b> bytes at <b>text</b> (not NUL-terminated;
 * other lines, e.g. the rest of a state file, are ignored), shuffled
 * with <b>rand</b> as §2.4.2 requires so that old values still expire
 * in a sensible order.  If the lines hold more than
 * CBT_NCIRCUITS_TO_OBSERVE times, each bin is scaled down
 * proportionally.  Then recompute the timeouts.  The recent-outcome
 * window is not touched (§2.4.5: not persisted).
 * Errors, with <b>cbt</b> unchanged: CHIVE_ERR_PROTO for a malformed
 * CircuitBuildTimeBin line (wrong field count, bad number, a value out
 * of range, a NUL byte), CHIVE_ERR_LIMIT for text longer than
 * CBT_STATE_TEXT_MAX_LEN, CHIVE_ERR_INVAL for a NULL <b>rand</b>. */
CHIVE_MUST_CHECK chive_err_t cbt_load(cbt_t *cbt, const char *text, size_t len,
                                      cbt_rand_fn rand, void *rand_arg);

#endif /* !defined(CHIVE_FEATURE_CIRCPOOL_CBT_H) */
