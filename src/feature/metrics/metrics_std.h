/**
 * @file metrics_std.h
 * @brief chive's standard metric families (names, help, labels, units)
 * and the handles the client's subsystems update.
 *
 * metrics_std_register() registers every family below in a registry
 * whose prefix is "chive_" and fills a metrics_std_t with series handles.
 * Label values with a fixed meaning are pre-created (so they appear as 0
 * from the first scrape) and reached by enum index; the families are also
 * returned so wiring code can add other values, within each family's
 * METRICS_STD_MAX_SERIES.  A zeroed metrics_std_t (metrics switched off)
 * is valid: every handle is NULL and every update is a no-op.
 *
 * | name                                  | type      | labels |
 * |---------------------------------------|-----------|------------------------|
 * | chive_circuits_built_total            | counter   | | |
 *chive_circuits_failed_total           | counter   | reason                 |
 * | chive_circuit_build_seconds           | histogram | (buckets: see .c) | |
 *chive_circuits_open                   | gauge     |                        |
 * | chive_streams_open                    | gauge     | | |
 *chive_channels_open                   | gauge     |                        |
 * | chive_streams_total                   | counter   | result | |
 *chive_socks_requests_total            | counter   | result                 |
 * | chive_bytes_read_total                | counter   | | |
 *chive_bytes_written_total             | counter   |                        |
 * | chive_bootstrap_percent               | gauge     | | |
 *chive_consensus_age_seconds           | gauge     |                        |
 * | chive_guards                          | gauge     | state | |
 *chive_memory_bytes                    | gauge     | (callback)             |
 * | chive_memory_budget_bytes             | gauge     | | |
 *chive_process_start_time_seconds      | gauge     |                        |
 **/
#ifndef CHIVE_FEATURE_METRICS_METRICS_STD_H
#define CHIVE_FEATURE_METRICS_METRICS_STD_H

#include <stdbool.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/metrics/metrics.h"

/** The name prefix of every chive metric (metrics_registry_new()). */
#define METRICS_STD_PREFIX "chive_"
/** Most label-value combinations of each labelled standard family. */
#define METRICS_STD_MAX_SERIES 16
/** Upper bounds (seconds) of chive_circuit_build_seconds, +Inf implied. */
#define METRICS_STD_BUILD_BUCKETS_SECONDS       \
  {                                             \
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60 \
  }

/** chive_circuits_failed_total{reason}: why a circuit we were building
 * or using failed. */
typedef enum metrics_circ_fail_t {
  METRICS_CIRC_FAIL_TIMEOUT = 0, /**< "timeout": build timed out (CBT) */
  METRICS_CIRC_FAIL_DESTROYED,   /**< "destroyed": DESTROY/TRUNCATED */
  METRICS_CIRC_FAIL_CHANNEL,     /**< "channel": first-hop channel failed */
  METRICS_CIRC_FAIL_PROTOCOL,    /**< "protocol": a hop broke the protocol */
  METRICS_CIRC_FAIL_NO_PATH,     /**< "no_path": no usable path */
  METRICS_CIRC_FAIL_RESOURCE,    /**< "resource": a local limit (OOM...) */
  METRICS_CIRC_FAIL_OTHER,       /**< "other" */
  METRICS_CIRC_FAIL_N_
} metrics_circ_fail_t;

/** chive_streams_total{result}: how a stream ended up. */
typedef enum metrics_stream_result_t {
  METRICS_STREAM_SUCCEEDED = 0, /**< "succeeded": CONNECTED/RESOLVED */
  METRICS_STREAM_REFUSED,       /**< "refused": the exit sent END */
  METRICS_STREAM_TIMEOUT,       /**< "timeout": no answer in time */
  METRICS_STREAM_FAILED,        /**< "failed": anything else */
  METRICS_STREAM_RESULT_N_
} metrics_stream_result_t;

/** chive_socks_requests_total{result}: the fate of a SOCKS request. */
typedef enum metrics_socks_result_t {
  METRICS_SOCKS_SUCCEEDED = 0, /**< "succeeded": replied success */
  METRICS_SOCKS_FAILED,        /**< "failed": valid, but the stream failed */
  METRICS_SOCKS_REJECTED,      /**< "rejected": malformed or not allowed */
  METRICS_SOCKS_RESULT_N_
} metrics_socks_result_t;

/** chive_guards{state} (guard-spec): counts by guard state. */
typedef enum metrics_guard_state_t {
  METRICS_GUARD_SAMPLED = 0, /**< "sampled": in SAMPLED_GUARDS */
  METRICS_GUARD_CONFIRMED,   /**< "confirmed": in CONFIRMED_GUARDS */
  METRICS_GUARD_USABLE,      /**< "usable": filtered and reachable */
  METRICS_GUARD_STATE_N_
} metrics_guard_state_t;

/** Handles into the standard families.  Borrowed from the registry: valid
 * until it is freed. */
typedef struct metrics_std_t {
  metrics_counter_t *circuits_built;
  metrics_counter_t *circuits_failed[METRICS_CIRC_FAIL_N_];
  metrics_histogram_t *circuit_build_seconds;
  metrics_gauge_t *circuits_open;
  metrics_gauge_t *streams_open;
  metrics_gauge_t *channels_open;
  metrics_counter_t *streams[METRICS_STREAM_RESULT_N_];
  metrics_counter_t *socks_requests[METRICS_SOCKS_RESULT_N_];
  metrics_counter_t *bytes_read;
  metrics_counter_t *bytes_written;
  metrics_gauge_t *bootstrap_percent;
  metrics_gauge_t *consensus_age_seconds;
  metrics_gauge_t *guards[METRICS_GUARD_STATE_N_];
  /** Backed by chive_mem_in_use() until wiring sets another callback. */
  metrics_gauge_t *memory_bytes;
  metrics_gauge_t *memory_budget_bytes;
  metrics_gauge_t *process_start_time_seconds;

  /** The labelled families, for label values outside the enums. */
  metrics_family_t *circuits_failed_family;
  metrics_family_t *streams_family;
  metrics_family_t *socks_requests_family;
  metrics_family_t *guards_family;
} metrics_std_t;

/** Register chive's standard families in <b>reg</b> (made with prefix
 * METRICS_STD_PREFIX or none) and fill *<b>out</b>.  chive_process_
 * start_time_seconds is set to <b>start_time_unix</b> (seconds since the
 * epoch).  On failure *out is zeroed, and families registered before the
 * failure stay in reg (free reg).  Errors: as metrics_register(),
 * CHIVE_ERR_INVAL if the names are already registered. */
CHIVE_MUST_CHECK chive_err_t metrics_std_register(metrics_registry_t *reg,
                                                  int64_t start_time_unix,
                                                  metrics_std_t *out);

/** Return the label value of each enum ("timeout", "succeeded", ...). */
const char *metrics_circ_fail_str(metrics_circ_fail_t r);
const char *metrics_stream_result_str(metrics_stream_result_t r);
const char *metrics_socks_result_str(metrics_socks_result_t r);
const char *metrics_guard_state_str(metrics_guard_state_t s);

/** Classify why a circuit failed (chive_circuits_failed_total{reason}):
 * <b>reason</b> is a destroy_reason_t (tor-spec §5.4), <b>remote</b> true
 * when a relay sent DESTROY/TRUNCATED ("destroyed" whatever the reason).
 * Locally: TIMEOUT -> "timeout"; CONNECTFAILED, OR_IDENTITY and
 * CHANNEL_CLOSED -> "channel"; PROTOCOL -> "protocol"; RESOURCELIMIT ->
 * "resource"; anything else -> "other". */
metrics_circ_fail_t metrics_circ_fail_from_destroy(uint8_t reason,
                                                   bool remote);
/** Classify a failed stream (chive_streams_total{result}): <b>reason</b>
 * is an END reason (tor-spec §6.3), <b>remote</b> true when the exit sent
 * the END.  TIMEOUT -> "timeout" either way; any other remote END ->
 * "refused"; any other local reason -> "failed". */
metrics_stream_result_t metrics_stream_result_from_end(uint8_t reason,
                                                       bool remote);

#endif /* !defined(CHIVE_FEATURE_METRICS_METRICS_STD_H) */
