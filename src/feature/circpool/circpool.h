/**
 * @file circpool.h
 * @brief The circuit pool policy: which circuits to prebuild, which
 * circuit a new stream should use, and which circuits to close.
 *
 * Sans-I/O.  The pool holds *records* of the owner's circuits (an opaque
 * handle each, never dereferenced) and makes decisions; the owner (the
 * circuit manager) builds and closes the real circuits and reports back:
 *
 *   circpool_wants() / circpool_need_for_stream()  -> launch requests
 *   circpool_circuit_launched() / _opened() / _failed() / _closed()
 *   circpool_get_for_stream() / circpool_stream_detached()
 *   circpool_to_close()                            -> circuits to close
 *
 * Rules (path-spec §2.1.1, §2.1.2, §2.1.6, §3):
 *  - A circuit is *clean* until its first stream; the first stream makes
 *    it *dirty* and gives it that stream's isolation key.  A dirty
 *    circuit serves only streams with the same key, and none at all once
 *    it has been dirty for dirtiness_s (MaxCircuitDirtiness): it is
 *    *expired* and is closed when its last stream goes.
 *  - Circuits launched for a given isolation key (on demand, or for a
 *    per-isolation sub-pool) are *reserved*: only that key may adopt
 *    them.
 *  - Predicted ports: every port used in the last prediction_s seconds
 *    (tor's PredictedPortsRelevanceTime, one hour; port 80 is predicted
 *    at start as tor does) should be allowed by at least min_clean clean
 *    circuits, open or building; no preemptive launch once max_clean
 *    clean circuits exist.  A circuit may cover many ports.
 *  - Limits: at most max_building circuits building and max_total
 *    records at once; after fail_limit build failures within
 *    fail_window_s nothing new is launched until the window passes
 *    (path-spec §2.1.5).
 *  - Closing (§2.1.6): only circuits without streams; expired dirty
 *    ones, clean ones older than idle_timeout_s, and idle ones beyond
 *    max_clean / max_total.
 *
 * Times are caller-supplied monotonic milliseconds (now_ms); durations
 * in the strategy are seconds.  No logging, no clock, no I/O.  Memory:
 * one record array of max_total entries plus fixed-size tables
 * (CIRCPOOL_MAX_PREDICTED_PORTS, CIRCPOOL_MAX_ISO_KEYS).  Single-threaded.
 **/
#ifndef CHIVE_FEATURE_CIRCPOOL_CIRCPOOL_H
#define CHIVE_FEATURE_CIRCPOOL_CIRCPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

/** Longest isolation key, bytes (e.g. a digest over the SOCKS
 * username/password and destination per the listener's flags). */
#define CIRCPOOL_ISO_KEY_MAX_LEN 64
/** Hard cap of circpool_strategy_t.max_total, circuits. */
#define CIRCPOOL_MAX_TOTAL_LIMIT 4096
/** Predicted ports remembered at once; the least recently used port is
 * forgotten first. */
#define CIRCPOOL_MAX_PREDICTED_PORTS 64
/** Isolation keys tracked for per-isolation sub-pools at once (LRU). */
#define CIRCPOOL_MAX_ISO_KEYS 64
/** Ports listed in one launch request. */
#define CIRCPOOL_LAUNCH_MAX_PORTS 8
/** Hard cap of circpool_strategy_t.fail_limit, failures. */
#define CIRCPOOL_FAIL_LIMIT_MAX 64
/** Port predicted at start (path-spec §2.1.1: "one clean fast exit
 * circuit that allows connections to port 80"). */
#define CIRCPOOL_INITIAL_PREDICTED_PORT 80

/* Strategy defaults, modelled on tor's client behaviour. */
/** Clean circuits per predicted port (tor: two, path-spec §2.1.1). */
#define CIRCPOOL_DEFAULT_MIN_CLEAN 2
/** No preemptive launch with this many clean circuits (tor: 12). */
#define CIRCPOOL_DEFAULT_MAX_CLEAN 12
/** Circuits building at once (as cbtmaxopencircs' default). */
#define CIRCPOOL_DEFAULT_MAX_BUILDING 10
/** Circuit records at once. */
#define CIRCPOOL_DEFAULT_MAX_TOTAL 256
/** Circuits kept per recently active isolation key (tor: none). */
#define CIRCPOOL_DEFAULT_PER_ISO_MIN 0
/** MaxCircuitDirtiness default, seconds (10 minutes). */
#define CIRCPOOL_DEFAULT_DIRTINESS_S 600
/** Unused circuits are closed after this long, seconds (tor keeps them
 * as long as ports are predicted: up to an hour).  Use cbtlearntimeout
 * while the build timeout is being learned (§2.1.6). */
#define CIRCPOOL_DEFAULT_IDLE_TIMEOUT_S 3600
/** PredictedPortsRelevanceTime, seconds (one hour). */
#define CIRCPOOL_DEFAULT_PREDICTION_S 3600
/** Build failures tolerated within the window. */
#define CIRCPOOL_DEFAULT_FAIL_LIMIT 5
/** Failure window, seconds. */
#define CIRCPOOL_DEFAULT_FAIL_WINDOW_S 60

/** Pool policy; see circpool_strategy_default() for the defaults. */
typedef struct circpool_strategy_t {
  uint32_t min_clean;      /**< Clean circuits wanted per predicted port. */
  uint32_t max_clean;      /**< Clean circuits (open + building) cap for
                            * preemptive launches; idle clean circuits
                            * above it are closed. */
  uint32_t max_building;   /**< Circuits building at once, >= 1. */
  uint32_t max_total;      /**< Records at once, 1..CIRCPOOL_MAX_TOTAL_LIMIT */
  uint32_t per_iso_min;    /**< Circuits kept per active isolation key. */
  uint32_t dirtiness_s;    /**< MaxCircuitDirtiness, >= 1. */
  uint32_t idle_timeout_s; /**< Close never-used circuits this old, >= 1. */
  uint32_t prediction_s;   /**< How long a used port stays predicted. */
  uint32_t fail_limit;     /**< Failures per window before backing off;
                            * 0 disables the backoff. */
  uint32_t fail_window_s;  /**< Failure window, >= 1. */
} circpool_strategy_t;

/** May the exit of circuit <b>handle</b> carry a stream to
 * <b>port</b>?  MUST also answer for circuits still building (the exit is
 * chosen at launch).  Called synchronously; MUST NOT call into the pool. */
typedef bool (*circpool_exit_allows_fn)(void *handle, uint16_t port,
                                        void *arg);

typedef struct circpool_t circpool_t;

/** Why a launch is requested. */
typedef enum circpool_reason_t {
  CIRCPOOL_REASON_PREDICTED = 1, /**< Preemptive, for predicted ports. */
  CIRCPOOL_REASON_ISOLATION,     /**< Per-isolation sub-pool minimum. */
  CIRCPOOL_REASON_STREAM,        /**< On demand for a waiting stream. */
} circpool_reason_t;

/** A circuit the pool would like launched. */
typedef struct circpool_launch_t {
  circpool_reason_t reason;
  /** ports[0], if any, MUST be allowed by the exit; the exit should
   * allow as many of the others as possible.  n_ports 0: any exit. */
  uint16_t ports[CIRCPOOL_LAUNCH_MAX_PORTS];
  size_t n_ports;
  /** If set, the circuit is reserved for isolation key iso_key. */
  bool isolated;
  size_t iso_len;
  uint8_t iso_key[CIRCPOOL_ISO_KEY_MAX_LEN];
} circpool_launch_t;

/** Answer of circpool_need_for_stream(). */
typedef enum circpool_need_t {
  CIRCPOOL_NEED_NONE = 0, /**< An open circuit can take the stream now. */
  CIRCPOOL_NEED_WAIT,     /**< A building circuit could take it. */
  CIRCPOOL_NEED_LAUNCH,   /**< Launch the request written to *out. */
  CIRCPOOL_NEED_LIMITED,  /**< Needs a circuit, but max_building or
                           * max_total forbids launching now (the failure
                           * backoff holds back preemptive launches only). */
} circpool_need_t;

/** Record states. */
typedef enum circpool_state_t {
  CIRCPOOL_STATE_BUILDING = 1,
  CIRCPOOL_STATE_OPEN,
  CIRCPOOL_STATE_CLOSING, /**< Returned by circpool_to_close(). */
} circpool_state_t;

/** One record, for inspection. */
typedef struct circpool_info_t {
  circpool_state_t state;
  bool dirty;
  bool expired; /**< Dirty for at least dirtiness_s. */
  bool has_iso; /**< Reserved for, or adopted, an isolation key. */
  uint32_t n_streams;
  uint64_t created_ms;
  uint64_t dirty_since_ms; /**< 0 while clean. */
} circpool_info_t;

/** Figures for metrics. */
typedef struct circpool_stats_t {
  uint32_t n_building;
  uint32_t n_open_clean;
  uint32_t n_open_dirty; /**< Including expired ones. */
  uint32_t n_open_expired;
  uint32_t n_closing;
  uint32_t n_total;   /**< All records. */
  uint32_t n_streams; /**< Streams attached now. */
  uint32_t n_predicted_ports;
  uint32_t n_iso_keys;
  bool in_backoff;
  uint64_t n_launch_requests; /**< Requests handed out. */
  uint64_t n_launched;
  uint64_t n_opened;
  uint64_t n_failed;
  uint64_t n_closed;
  uint64_t n_streams_attached;
  uint64_t n_close_requests; /**< Circuits returned by to_close. */
} circpool_stats_t;

/** Fill *<b>out</b> with the defaults (CIRCPOOL_DEFAULT_*). */
void circpool_strategy_default(circpool_strategy_t *out);

/** Return CHIVE_OK if *<b>s</b> is a usable strategy, else
 * CHIVE_ERR_INVAL (a limit of 0 where >= 1 is needed, max_total above
 * CIRCPOOL_MAX_TOTAL_LIMIT, min_clean > max_clean, max_clean,
 * max_building or per_iso_min > max_total, fail_limit above
 * CIRCPOOL_FAIL_LIMIT_MAX). */
CHIVE_MUST_CHECK chive_err_t
circpool_strategy_check(const circpool_strategy_t *s);

/** Create a pool with strategy <b>s</b> (copied; NULL = defaults) and
 * exit policy callback <b>exit_allows</b> (NULL: every exit allows every
 * port) with <b>arg</b>.  Port 80 is predicted as of <b>now_ms</b>.
 * CHIVE_ERR_INVAL for a bad strategy, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t circpool_new(const circpool_strategy_t *s,
                                          circpool_exit_allows_fn exit_allows,
                                          void *arg, uint64_t now_ms,
                                          circpool_t **out);

/** Free <b>pool</b> (NULL is fine).  Handles are not touched. */
void circpool_free_(circpool_t *pool);
#define circpool_free(p) CHIVE_FREE_AND_NULL(circpool_t, circpool_free_, (p))

/** Replace the strategy (validated as circpool_strategy_check()).
 * Records above a lowered limit are not dropped: circpool_to_close()
 * trims idle ones.  CHIVE_ERR_INVAL, CHIVE_ERR_NOMEM (pool unchanged). */
CHIVE_MUST_CHECK chive_err_t
circpool_set_strategy(circpool_t *pool, const circpool_strategy_t *s);

/** Return the strategy in effect. */
const circpool_strategy_t *circpool_strategy(const circpool_t *pool);

/** Note that a stream to <b>port</b> was requested (tor's
 * rep_hist_note_used_port): the port is predicted for prediction_s from
 * <b>now_ms</b>.  Port 0 is ignored. */
void circpool_note_port_used(circpool_t *pool, uint16_t port, uint64_t now_ms);

/** Write up to <b>max</b> currently predicted ports (most recently used
 * first) to <b>out</b>; return how many are predicted. */
size_t circpool_predicted_ports(circpool_t *pool, uint64_t now_ms,
                                uint16_t *out, size_t max);

/** Write up to <b>max</b> launch requests for preemptive circuits to
 * <b>out</b> and return how many: first per-isolation sub-pool
 * minimums, then clean circuits for predicted ports (path-spec §2.1.1),
 * within max_building, max_total and max_clean, and none during the
 * failure backoff.  Within one call a request is assumed to cover only
 * its ports[0]; pass <b>max</b> 1 and call again after registering the
 * launch (as tor does, once a second) to let the real exit's policy
 * count for all ports.  The owner SHOULD launch each request and
 * register it with circpool_circuit_launched(). */
size_t circpool_wants(circpool_t *pool, uint64_t now_ms,
                      circpool_launch_t *out, size_t max);

/** Register a circuit the owner launched (state building), with the
 * request it answers (<b>req</b>, may be NULL: unreserved).
 * CHIVE_ERR_INVAL for a NULL or already registered <b>handle</b> or an
 * iso_len above CIRCPOOL_ISO_KEY_MAX_LEN; CHIVE_ERR_LIMIT when max_total
 * records exist. */
CHIVE_MUST_CHECK chive_err_t
circpool_circuit_launched(circpool_t *pool, void *handle,
                          const circpool_launch_t *req, uint64_t now_ms);

/** The circuit <b>handle</b> finished building.  Returns false if the
 * pool does not know it or it is not building. */
bool circpool_circuit_opened(circpool_t *pool, void *handle, uint64_t now_ms);

/** The circuit <b>handle</b> failed (build failure or timeout, or was
 * destroyed); forget it.  A failure while building counts towards the
 * failure backoff.  The pool will want a replacement if the circuit was
 * needed.  Returns false if unknown. */
bool circpool_circuit_failed(circpool_t *pool, void *handle, uint64_t now_ms);

/** The circuit <b>handle</b> is closed (for any reason, including after
 * circpool_to_close()); forget it.  The owner MUST call this (or _failed)
 * for every registered circuit it closes.  Returns false if unknown. */
bool circpool_circuit_closed(circpool_t *pool, void *handle);

/** Choose an open circuit for a stream to <b>port</b> (0: any exit) with
 * isolation key <b>iso</b>/<b>iso_len</b> (compared bytewise; length 0 is
 * a valid, empty key) and attach the stream to it: the circuit becomes
 * dirty as of <b>now_ms</b> if it was clean, adopts the key, and counts
 * one more stream.  Preference: a dirty circuit of the same key (the
 * most recently dirtied), then a clean circuit reserved for the key,
 * then any unreserved clean circuit (the oldest).  Never an expired,
 * building or closing circuit, nor one whose exit refuses the port.
 * Return the handle or NULL (also for iso_len above the maximum). */
void *circpool_get_for_stream(circpool_t *pool, uint16_t port,
                              const uint8_t *iso, size_t iso_len,
                              uint64_t now_ms);

/** As circpool_get_for_stream(), but consider only circuits for which
 * <b>ok</b>(handle, <b>arg</b>) returns true (NULL: all).  For streams
 * that must avoid circuits they already failed on. */
void *circpool_get_for_stream_filtered(circpool_t *pool, uint16_t port,
                                       const uint8_t *iso, size_t iso_len,
                                       uint64_t now_ms,
                                       bool (*ok)(void *handle, void *arg),
                                       void *arg);

/** Take circuit <b>handle</b> out of service: no new stream is given to
 * it, and it is closed (circpool_to_close()) once its streams are gone,
 * as an expired dirty circuit is (tor's "mark the circuit unusable for
 * new streams", e.g. after a stream timed out on it).  False if
 * unknown. */
bool circpool_retire(circpool_t *pool, void *handle);

/** Retire every dirty circuit (SIGNAL NEWNYM: "switch to clean circuits,
 * so new application requests don't share any circuits with old ones",
 * control-spec §3.7).  Returns how many were retired. */
size_t circpool_retire_dirty(circpool_t *pool);

/** A stream attached by circpool_get_for_stream() to <b>handle</b>
 * ended.  Returns false if unknown or it had no streams. */
bool circpool_stream_detached(circpool_t *pool, void *handle);

/** Decide whether a stream to <b>port</b> with key <b>iso</b> that found
 * no circuit needs one launched (path-spec §2.1.2): see
 * circpool_need_t.  On CIRCPOOL_NEED_LAUNCH *<b>out</b> is a request
 * reserved for the key; the owner MUST register the launch before
 * asking again for the same stream, or it will be told to launch
 * another. */
circpool_need_t circpool_need_for_stream(circpool_t *pool, uint16_t port,
                                         const uint8_t *iso, size_t iso_len,
                                         uint64_t now_ms,
                                         circpool_launch_t *out);

/** Write up to <b>max</b> handles of circuits to close now to
 * <b>out</b>, mark them closing, and return how many (path-spec §2.1.6):
 * stream-less circuits that are expired, clean and older than
 * idle_timeout_s, or idle beyond max_clean (oldest first) or max_total.
 * The owner closes them and then calls circpool_circuit_closed(). */
size_t circpool_to_close(circpool_t *pool, uint64_t now_ms, void **out,
                         size_t max);

/** Describe the record of <b>handle</b>; false if unknown. */
bool circpool_get_info(const circpool_t *pool, const void *handle,
                       uint64_t now_ms, circpool_info_t *out);

/** Fill *<b>out</b> with the current figures. */
void circpool_get_stats(circpool_t *pool, uint64_t now_ms,
                        circpool_stats_t *out);

#endif /* !defined(CHIVE_FEATURE_CIRCPOOL_CIRCPOOL_H) */
