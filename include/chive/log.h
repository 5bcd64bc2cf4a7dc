/**
 * @file log.h
 * @brief Log severities and the embedder's log sink.
 *
 * The library never writes to stderr or syslog itself: it calls the sink
 * the embedder registers.  Messages are plain text, already escaped, with
 * no trailing newline.
 **/
#ifndef CHIVE_LOG_H
#define CHIVE_LOG_H

#include <stdint.h>

#include "chive/export.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Severities, most severe first (numbers match syslog's order). */
typedef enum chive_log_severity_t {
  CHIVE_LOG_ERR = 0,
  CHIVE_LOG_WARN = 1,
  CHIVE_LOG_NOTICE = 2,
  CHIVE_LOG_INFO = 3,
  CHIVE_LOG_DEBUG = 4,
} chive_log_severity_t;

/** Receives one log message.  <b>domain</b> is a short name such as
 * "dir" or "channel".  <b>msg</b> is borrowed for the call only. */
typedef void (*chive_log_cb)(chive_log_severity_t severity,
                             const char *domain, const char *msg,
                             void *arg);

/** Return the lower-case name of <b>sev</b> ("warn", "notice", ...). */
CHIVE_API const char *chive_log_severity_name(chive_log_severity_t sev);

#ifdef __cplusplus
}
#endif

#endif /* !defined(CHIVE_LOG_H) */
