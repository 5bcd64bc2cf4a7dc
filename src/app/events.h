/**
 * @file events.h
 * @brief The client's internal event hub: the modules that change state
 * (circuits, channels, streams, bootstrap, directory, log) emit events;
 * observers (the control port, metrics) subscribe.  Events are delivered
 * synchronously from inside the call that caused them: a subscriber MUST
 * NOT close or free the object an event names from its callback (defer
 * that to the loop), and MUST be quick (format and queue, no I/O wait).
 *
 * Objects are passed as borrowed pointers valid for the callback only;
 * subscribers read them through their modules' accessors (circmgr.h for
 * ocirc_t and channel_t, streams.h for app_stream_t).
 **/
#ifndef CHIVE_APP_EVENTS_H
#define CHIVE_APP_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

typedef struct chive_client_t chive_client_t;
typedef struct ocirc_t ocirc_t;
typedef struct channel_t channel_t;
typedef struct app_stream_t app_stream_t;

/** Event types (control-spec §4.1 names where one exists). */
typedef enum cev_type_t {
  CEV_CIRC = 0,         /**< circuit status (control-spec §4.1.1) */
  CEV_CIRC_MINOR,       /**< purpose change etc. (§4.1.22) */
  CEV_STREAM,           /**< stream status (§4.1.2) */
  CEV_ORCONN,           /**< channel status (§4.1.3) */
  CEV_BW,               /**< bytes in the last second (§4.1.4) */
  CEV_STREAM_BW,        /**< per stream, last second (§4.1.13) */
  CEV_CIRC_BW,          /**< per circuit, last second (§4.1.24) */
  CEV_LOG,              /**< a log message (§4.1.5) */
  CEV_STATUS_CLIENT,    /**< e.g. BOOTSTRAP, CIRCUIT_ESTABLISHED (§4.1.10) */
  CEV_STATUS_GENERAL,
  CEV_GUARD,            /**< guard status (§4.1.11) */
  CEV_NEWDESC,          /**< new descriptors (§4.1.6) */
  CEV_NEWCONSENSUS,     /**< a consensus was accepted (§4.1.12) */
  CEV_NETWORK_LIVENESS, /**< (§4.1.27) */
  CEV_BUILDTIMEOUT_SET, /**< (§4.1.16) */
  CEV_ADDRMAP,          /**< an address mapping (§4.1.7); text = body */
  CEV_N_TYPES
} cev_type_t;

/** Stream statuses (control-spec §4.1.2). */
typedef enum cev_stream_status_t {
  CEV_STREAM_NEW = 0,
  CEV_STREAM_NEWRESOLVE,
  CEV_STREAM_REMAP,
  CEV_STREAM_SENTCONNECT,
  CEV_STREAM_SENTRESOLVE,
  CEV_STREAM_SUCCEEDED,
  CEV_STREAM_FAILED,
  CEV_STREAM_CLOSED,
  CEV_STREAM_DETACHED,
} cev_stream_status_t;

/** One event.  Which members are meaningful depends on <b>type</b>. */
typedef struct cev_t {
  cev_type_t type;
  /** CEV_CIRC / CIRC_MINOR / CIRC_BW: the circuit. */
  ocirc_t *circ;
  /** CEV_ORCONN: the channel. */
  channel_t *chan;
  /** CEV_STREAM / STREAM_BW: the stream. */
  app_stream_t *stream;
  /** Status code of the emitting module (cev_stream_status_t for
   * streams; circmgr/channel status codes for circuits/channels). */
  int status;
  /** END/DESTROY reason where one applies, else 0. */
  uint8_t reason;
  /** True if the reason came from the network. */
  bool remote;
  /** CEV_BW / *_BW: bytes read and written in the interval. */
  uint64_t n_read, n_written;
  /** CEV_LOG: severity (chive_log_severity_t); CEV_STATUS_*: severity
   * of the status event. */
  int severity;
  /** CEV_LOG: the message; CEV_STATUS_* / GUARD / NEWDESC / ...: the
   * already formatted event body after the event name (e.g. "BOOTSTRAP
   * PROGRESS=100 TAG=done SUMMARY=\"Done\""), or NULL. */
  const char *text;
} cev_t;

typedef void (*cev_fn)(const cev_t *ev, void *arg);

/** Most subscribers at once (policy). */
#define CEV_MAX_SUBSCRIBERS 16

/** The hub, embedded in chive_client_t. */
typedef struct cev_hub_t {
  struct {
    cev_fn fn;
    void *arg;
    uint32_t mask; /**< 1u << cev_type_t */
  } subs[CEV_MAX_SUBSCRIBERS];
  size_t n_subs;
  uint32_t any_mask; /**< union of every subscriber's mask */
} cev_hub_t;

/** Subscribe <b>fn</b>/<b>arg</b> to the types in <b>mask</b> (replacing
 * the mask if already subscribed).  CHIVE_ERR_LIMIT when full. */
CHIVE_MUST_CHECK chive_err_t cev_subscribe(cev_hub_t *hub, cev_fn fn,
                                           void *arg, uint32_t mask);
/** Remove <b>fn</b>/<b>arg</b> (no-op if absent). */
void cev_unsubscribe(cev_hub_t *hub, cev_fn fn, void *arg);
/** True iff someone listens for <b>type</b> (to skip formatting). */
bool cev_wanted(const cev_hub_t *hub, cev_type_t type);
/** Deliver <b>ev</b> to every subscriber of its type. */
void cev_emit(cev_hub_t *hub, const cev_t *ev);

/** Connect the core's observers (circmgr circuits and channels) to the
 * client's hub, and start the once-a-second BW timer.  Called by
 * chive_client_new() after the circuit manager exists / by
 * chive_client_start(). */
CHIVE_MUST_CHECK chive_err_t client_events_init(chive_client_t *c);
CHIVE_MUST_CHECK chive_err_t client_events_start(chive_client_t *c);
void client_events_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_EVENTS_H) */
