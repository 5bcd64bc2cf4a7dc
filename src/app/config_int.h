/**
 * @file config_int.h
 * @brief Internal view of chive_config_t: option ids and typed getters.
 *
 * The option table (config.c) is declarative: name, type, default, range
 * and flags.  Values are validated by type when set and kept as text (so
 * GETCONF can return them exactly); typed getters convert on demand.
 * Semantic checks that need other modules (e.g. parsing a DirAuthority
 * line) happen when the client is created.
 **/
#ifndef CHIVE_APP_CONFIG_INT_H
#define CHIVE_APP_CONFIG_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/config.h"
#include "chive/log.h"

/** Option ids, in table order. */
typedef enum config_opt_t {
  OPT_DATA_DIRECTORY,
  OPT_DIR_AUTHORITY,
  OPT_FALLBACK_DIR,
  OPT_USE_DEFAULT_FALLBACK_DIRS,
  OPT_SOCKS_PORT,
  OPT_HTTP_TUNNEL_PORT,
  OPT_CONTROL_PORT,
  OPT_CONTROL_SOCKET,
  OPT_COOKIE_AUTHENTICATION,
  OPT_HASHED_CONTROL_PASSWORD,
  OPT_METRICS_PORT,
  OPT_METRICS_PORT_POLICY,
  OPT_LOG,
  OPT_SAFE_LOGGING,
  OPT_PID_FILE,
  OPT_TESTING_TOR_NETWORK,
  OPT_ENFORCE_DISTINCT_SUBNETS,
  OPT_MAX_CIRCUIT_DIRTINESS,
  OPT_NUM_ENTRY_GUARDS,
  OPT_USE_ENTRY_GUARDS,
  OPT_CIRCUIT_BUILD_TIMEOUT,
  OPT_LEARN_CIRCUIT_BUILD_TIMEOUT,
  OPT_CLIENT_REJECT_INTERNAL_ADDRESSES,
  OPT_DISABLE_NETWORK,
  OPT_MAX_MEM_IN_QUEUES,
  OPT_HIDDEN_SERVICE_DIR,
  OPT_HIDDEN_SERVICE_PORT,
  OPT_PATHS_NEEDED_TO_BUILD_CIRCUITS,
  OPT_COOKIE_AUTH_FILE,
  OPT_COOKIE_AUTH_FILE_GROUP_READABLE,
  OPT_CONTROL_PORT_WRITE_TO_FILE,
  OPT_OWNING_CONTROLLER_PROCESS,
  OPT_CONFIG_FILE,
  OPT_SOCKS_TIMEOUT,
  OPT_N_OPTIONS
} config_opt_t;

/** The <b>i</b>th value of option <b>name</b> as tor's GETCONF shows
 * it: intervals in seconds, memory sizes in bytes (formatted into
 * <b>buf</b>), anything else as set.  NULL if there is no such value. */
const char *config_value_canonical(const chive_config_t *cfg,
                                   const char *name, size_t i, char *buf,
                                   size_t len);

/** The name of option <b>opt</b> ("SocksPort"). */
const char *config_option_name(config_opt_t opt);

/** Return option <b>opt</b>'s only (or last) value, or its default; NULL
 * if it has neither.  Borrowed. */
const char *config_get_str(const chive_config_t *cfg, config_opt_t opt);
/** Typed getters; the value was validated when set. */
bool config_get_bool(const chive_config_t *cfg, config_opt_t opt);
int64_t config_get_int(const chive_config_t *cfg, config_opt_t opt);
/** Seconds, for INTERVAL options. */
int64_t config_get_interval_s(const chive_config_t *cfg, config_opt_t opt);
/** Bytes, for MEMUNIT options. */
uint64_t config_get_bytes(const chive_config_t *cfg, config_opt_t opt);
double config_get_double(const chive_config_t *cfg, config_opt_t opt);
/** Number of values of a repeating option (0 if unset). */
size_t config_n_values(const chive_config_t *cfg, config_opt_t opt);
/** The <b>i</b>th value of a repeating option.  Borrowed. */
const char *config_value(const chive_config_t *cfg, config_opt_t opt,
                         size_t i);
/** True iff the option was set explicitly (not default). */
bool config_is_set(const chive_config_t *cfg, config_opt_t opt);

/** The log callback configured with chive_config_set_log_cb(). */
void config_get_log_cb(const chive_config_t *cfg, chive_log_cb *cb,
                       void **arg, chive_log_severity_t *max);

#endif /* !defined(CHIVE_APP_CONFIG_INT_H) */
