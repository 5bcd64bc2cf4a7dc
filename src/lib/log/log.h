/**
 * @file log.h
 * @brief Logging: severities x domains, a sink callback, rate limiting and
 * escaping of untrusted strings.
 *
 * There is no global logger: each chive_client_t owns a logger_t and
 * long-lived objects keep a borrowed pointer to it.  A NULL logger_t
 * discards everything, so modules and tests may pass NULL.
 *
 * Severity rules (tor's, condensed): WARN means an operator should act;
 * normal operation produces none.  Peer misbehaviour is logged with
 * log_proto() (INFO, LD_PROTOCOL) and rate-limited.  NOTICE and above
 * must make sense to someone who has not read the source.  Strings that
 * came from the network go through log_escape() first.
 **/
#ifndef CHIVE_LIB_LOG_LOG_H
#define CHIVE_LIB_LOG_LOG_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/log.h"
#include "lib/cc/cc.h"

/** Log domains, a bitmask. */
typedef enum log_domain_t {
  LD_GENERAL = 1u << 0,
  LD_CRYPTO = 1u << 1,
  LD_NET = 1u << 2,
  LD_CONFIG = 1u << 3,
  LD_FS = 1u << 4,
  LD_PROTOCOL = 1u << 5, /**< a peer broke the protocol */
  LD_MM = 1u << 6,       /**< memory management */
  LD_CHANNEL = 1u << 7,
  LD_CIRC = 1u << 8,
  LD_STREAM = 1u << 9,
  LD_DIR = 1u << 10,
  LD_GUARD = 1u << 11,
  LD_PATH = 1u << 12,
  LD_SOCKS = 1u << 13,
  LD_CONTROL = 1u << 14,
  LD_HS = 1u << 15,
  LD_BUG = 1u << 16,
  LD_APP = 1u << 17,
  LD_METRICS = 1u << 18,
  LD_EVLOOP = 1u << 19,
  LD_TLS = 1u << 20,
} log_domain_t;
#define LD_ALL 0x1fffffu
#define LOG_N_DOMAINS 21

/** Longest message delivered to a sink; longer ones end in "[...]". */
#define LOG_MSG_MAX_LEN 1024

typedef struct logger_t logger_t;

/** Return a new logger with no sink and NOTICE as the threshold for every
 * domain; NULL on OOM.  Free with logger_free(). */
logger_t *logger_new(void);
void logger_free_(logger_t *lg);
#define logger_free(lg) CHIVE_FREE_AND_NULL(logger_t, logger_free_, (lg))

/** Send messages to <b>cb</b> (NULL discards). */
void logger_set_sink(logger_t *lg, chive_log_cb cb, void *arg);
/** Deliver messages of severity <= <b>max</b> for every domain in
 * <b>domains</b>. */
void logger_set_severity(logger_t *lg, uint32_t domains,
                         chive_log_severity_t max);
/** Return true iff a message at <b>sev</b> in <b>domain</b> would be
 * delivered (so callers can skip expensive formatting). */
bool logger_enabled(const logger_t *lg, chive_log_severity_t sev,
                    uint32_t domain);
/** Return the short name of the lowest set bit of <b>domain</b>. */
const char *log_domain_name(uint32_t domain);
/** Parse a domain name ("dir", "circ", ...); 0 if unknown. */
uint32_t log_domain_from_name(const char *name);

void log_fn_(logger_t *lg, chive_log_severity_t sev, uint32_t domain,
             const char *func, const char *fmt, ...) CHIVE_PRINTF(5, 6);
void log_fnv_(logger_t *lg, chive_log_severity_t sev, uint32_t domain,
              const char *func, const char *fmt, va_list ap)
    CHIVE_PRINTF(5, 0);

#define log_err(lg, dom, ...) \
  log_fn_((lg), CHIVE_LOG_ERR, (dom), __func__, __VA_ARGS__)
#define log_warn(lg, dom, ...) \
  log_fn_((lg), CHIVE_LOG_WARN, (dom), __func__, __VA_ARGS__)
#define log_notice(lg, dom, ...) \
  log_fn_((lg), CHIVE_LOG_NOTICE, (dom), __func__, __VA_ARGS__)
#define log_info(lg, dom, ...) \
  log_fn_((lg), CHIVE_LOG_INFO, (dom), __func__, __VA_ARGS__)
#define log_debug(lg, dom, ...) \
  log_fn_((lg), CHIVE_LOG_DEBUG, (dom), __func__, __VA_ARGS__)
/** Peer misbehaviour: INFO in LD_PROTOCOL plus <b>dom</b>. */
#define log_proto(lg, dom, ...)                                      \
  log_fn_((lg), CHIVE_LOG_INFO, (uint32_t)(dom) | LD_PROTOCOL, __func__, \
          __VA_ARGS__)

/** A rate limiter: at most one message per <b>interval_ms</b>, counting
 * what it suppressed.  Embed one per call site in the owning object. */
typedef struct ratelim_t {
  uint64_t interval_ms;
  uint64_t last_ms;     /**< when the last message was allowed */
  uint64_t n_suppressed;
  bool started;
} ratelim_t;
#define RATELIM_INIT(ms) \
  {                      \
    (ms), 0, 0, false    \
  }

/** Return true if a message may be logged at <b>now_ms</b>; then
 * *<b>n_suppressed_out</b> holds how many were dropped since the last one
 * (and the count restarts).  Return false (and count one) otherwise. */
bool ratelim_allow(ratelim_t *rl, uint64_t now_ms,
                   uint64_t *n_suppressed_out);

/** Log through <b>rl</b>: like log_fn_(), but at most once per interval,
 * with " [N similar messages suppressed]" appended when any were. */
void log_fn_ratelim_(logger_t *lg, ratelim_t *rl, uint64_t now_ms,
                     chive_log_severity_t sev, uint32_t domain,
                     const char *func, const char *fmt, ...)
    CHIVE_PRINTF(7, 8);
#define log_ratelim(lg, rl, now_ms, sev, dom, ...) \
  log_fn_ratelim_((lg), (rl), (now_ms), (sev), (dom), __func__, __VA_ARGS__)

/** Escape <b>in_len</b> untrusted bytes at <b>in</b> for a log line into
 * <b>out</b> (size <b>out_len</b>, always NUL-terminated when out_len>0):
 * the result is wrapped in double quotes, printable ASCII is copied,
 * quotes and backslashes are backslash-escaped, and everything else is
 * \\xNN; input that does not fit ends in "...".  Returns <b>out</b>. */
char *log_escape(const void *in, size_t in_len, char *out, size_t out_len);

/** Install this logger as the process's BUG() reporter (LD_BUG, WARN).
 * Pass NULL to restore the default stderr reporter. */
void logger_install_bug_handler(logger_t *lg);

#endif /* !defined(CHIVE_LIB_LOG_LOG_H) */
