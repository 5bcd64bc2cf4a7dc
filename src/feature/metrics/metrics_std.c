/**
 * @file metrics_std.c
 * @brief Registration of chive's standard metric families.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "feature/metrics/metrics_std.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

static const char *const CIRC_FAIL_STR[METRICS_CIRC_FAIL_N_] = {
    "timeout", "destroyed", "channel", "protocol",
    "no_path", "resource",  "other",
};
static const char *const STREAM_RESULT_STR[METRICS_STREAM_RESULT_N_] = {
    "succeeded", "refused", "timeout", "failed"};
static const char *const SOCKS_RESULT_STR[METRICS_SOCKS_RESULT_N_] = {
    "succeeded", "failed", "rejected"};
static const char *const GUARD_STATE_STR[METRICS_GUARD_STATE_N_] = {
    "sampled", "confirmed", "usable"};

const char *
metrics_circ_fail_str(metrics_circ_fail_t r)
{
  return (unsigned)r < METRICS_CIRC_FAIL_N_ ? CIRC_FAIL_STR[r] : "other";
}

const char *
metrics_stream_result_str(metrics_stream_result_t r)
{
  return (unsigned)r < METRICS_STREAM_RESULT_N_ ? STREAM_RESULT_STR[r]
                                                : "failed";
}

const char *
metrics_socks_result_str(metrics_socks_result_t r)
{
  return (unsigned)r < METRICS_SOCKS_RESULT_N_ ? SOCKS_RESULT_STR[r]
                                               : "failed";
}

const char *
metrics_guard_state_str(metrics_guard_state_t s)
{
  return (unsigned)s < METRICS_GUARD_STATE_N_ ? GUARD_STATE_STR[s] : "?";
}

metrics_circ_fail_t
metrics_circ_fail_from_destroy(uint8_t reason, bool remote)
{
  if (remote)
    return METRICS_CIRC_FAIL_DESTROYED;
  switch (reason) {
  case DESTROY_REASON_TIMEOUT:
    return METRICS_CIRC_FAIL_TIMEOUT;
  case DESTROY_REASON_CONNECTFAILED:
  case DESTROY_REASON_OR_IDENTITY:
  case DESTROY_REASON_CHANNEL_CLOSED:
    return METRICS_CIRC_FAIL_CHANNEL;
  case DESTROY_REASON_PROTOCOL:
    return METRICS_CIRC_FAIL_PROTOCOL;
  case DESTROY_REASON_RESOURCELIMIT:
    return METRICS_CIRC_FAIL_RESOURCE;
  default:
    return METRICS_CIRC_FAIL_OTHER;
  }
}

metrics_stream_result_t
metrics_stream_result_from_end(uint8_t reason, bool remote)
{
  if (reason == END_REASON_TIMEOUT)
    return METRICS_STREAM_TIMEOUT;
  return remote ? METRICS_STREAM_REFUSED : METRICS_STREAM_FAILED;
}

/** The default source of chive_memory_bytes. */
static double
mem_in_use_cb(void *arg)
{
  (void)arg;
  return (double)chive_mem_in_use();
}

/** Register a labelled family with one label and pre-create a counter
 * (or gauge) series per value in <b>values</b>. */
static chive_err_t
reg_labelled(metrics_registry_t *reg, metrics_type_t type, const char *name,
             const char *help, const char *label, const char *const *values,
             size_t n_values, metrics_family_t **fam_out, void **series_out)
{
  const char *const labels[] = {label};
  metrics_spec_t spec = {.type = type,
                         .name = name,
                         .help = help,
                         .label_names = labels,
                         .n_labels = 1,
                         .max_series = METRICS_STD_MAX_SERIES};
  chive_err_t err = metrics_register(reg, &spec, fam_out);
  if (err)
    return err;
  for (size_t i = 0; i < n_values; i++) {
    const char *const v[] = {values[i]};
    metrics_counter_t *c = NULL;
    metrics_gauge_t *g = NULL;
    if (type == METRICS_TYPE_COUNTER)
      err = metrics_family_counter(*fam_out, v, &c);
    else
      err = metrics_family_gauge(*fam_out, v, &g);
    if (err)
      return err;
    series_out[i] = c ? (void *)c : (void *)g;
  }
  return CHIVE_OK;
}

chive_err_t
metrics_std_register(metrics_registry_t *reg, int64_t start_time_unix,
                     metrics_std_t *out)
{
  static const double build_buckets[] = METRICS_STD_BUILD_BUCKETS_SECONDS;
  metrics_std_t m;
  chive_err_t err;
  void *fail[METRICS_CIRC_FAIL_N_];
  void *streams[METRICS_STREAM_RESULT_N_];
  void *socks[METRICS_SOCKS_RESULT_N_];
  void *guards[METRICS_GUARD_STATE_N_];

  if (BUG(!reg || !out))
    return CHIVE_ERR_INVAL;
  memset(&m, 0, sizeof(m));

#define TRY(expr) \
  do {            \
    err = (expr); \
    if (err)      \
      goto err;   \
  } while (0)

  TRY(metrics_counter_new(reg, "chive_circuits_built_total",
                          "Circuits whose every hop was built.",
                          &m.circuits_built));
  TRY(reg_labelled(reg, METRICS_TYPE_COUNTER, "chive_circuits_failed_total",
                   "Circuits that failed while building or in use, by "
                   "reason.",
                   "reason", CIRC_FAIL_STR, METRICS_CIRC_FAIL_N_,
                   &m.circuits_failed_family, fail));
  TRY(metrics_histogram_new(reg, "chive_circuit_build_seconds",
                            "Time to build a circuit (all hops), in "
                            "seconds.",
                            build_buckets, CHIVE_ARRAY_LEN(build_buckets),
                            &m.circuit_build_seconds));
  TRY(metrics_gauge_new(reg, "chive_circuits_open",
                        "Circuits open now (built and not closed).",
                        &m.circuits_open));
  TRY(metrics_gauge_new(reg, "chive_streams_open", "Streams open now.",
                        &m.streams_open));
  TRY(metrics_gauge_new(reg, "chive_channels_open",
                        "Channels (TLS links to relays) open now.",
                        &m.channels_open));
  TRY(reg_labelled(reg, METRICS_TYPE_COUNTER, "chive_streams_total",
                   "Streams attempted, by result.", "result",
                   STREAM_RESULT_STR, METRICS_STREAM_RESULT_N_,
                   &m.streams_family, streams));
  TRY(reg_labelled(reg, METRICS_TYPE_COUNTER, "chive_socks_requests_total",
                   "SOCKS requests received, by result.", "result",
                   SOCKS_RESULT_STR, METRICS_SOCKS_RESULT_N_,
                   &m.socks_requests_family, socks));
  TRY(metrics_counter_new(reg, "chive_bytes_read_total",
                          "Bytes read from relays on every channel (TLS "
                          "records as they crossed the socket).",
                          &m.bytes_read));
  TRY(metrics_counter_new(reg, "chive_bytes_written_total",
                          "Bytes written to relays on every channel (TLS "
                          "records as they crossed the socket).",
                          &m.bytes_written));
  TRY(metrics_gauge_new(reg, "chive_bootstrap_percent",
                        "Bootstrap progress, 0 to 100 (tor's phases).",
                        &m.bootstrap_percent));
  TRY(metrics_gauge_new(reg, "chive_consensus_age_seconds",
                        "Seconds since the valid-after time of the "
                        "consensus in use; NaN while there is none.",
                        &m.consensus_age_seconds));
  TRY(reg_labelled(reg, METRICS_TYPE_GAUGE, "chive_guards",
                   "Entry guards by state (guard-spec): sampled, "
                   "confirmed, usable.",
                   "state", GUARD_STATE_STR, METRICS_GUARD_STATE_N_,
                   &m.guards_family, guards));
  TRY(metrics_gauge_cb_new(reg, "chive_memory_bytes",
                           "Bytes allocated through the chive allocator.",
                           mem_in_use_cb, NULL, &m.memory_bytes));
  TRY(metrics_gauge_new(reg, "chive_memory_budget_bytes",
                        "The configured memory budget (MaxMemInQueues), in "
                        "bytes; +Inf when unlimited.",
                        &m.memory_budget_bytes));
  TRY(metrics_gauge_new(reg, "chive_process_start_time_seconds",
                        "Start time of the client since the Unix epoch, in "
                        "seconds.",
                        &m.process_start_time_seconds));
#undef TRY

  for (size_t i = 0; i < METRICS_CIRC_FAIL_N_; i++)
    m.circuits_failed[i] = fail[i];
  for (size_t i = 0; i < METRICS_STREAM_RESULT_N_; i++)
    m.streams[i] = streams[i];
  for (size_t i = 0; i < METRICS_SOCKS_RESULT_N_; i++)
    m.socks_requests[i] = socks[i];
  for (size_t i = 0; i < METRICS_GUARD_STATE_N_; i++)
    m.guards[i] = guards[i];
  metrics_gauge_set(m.process_start_time_seconds, start_time_unix);
  *out = m;
  return CHIVE_OK;
err:
  memset(out, 0, sizeof(*out));
  return err;
}
