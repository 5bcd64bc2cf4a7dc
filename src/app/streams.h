/**
 * @file streams.h
 * @brief Client streams: application connections (SOCKS, HTTP CONNECT,
 * controller RESOLVE) attached to exit circuits.  This is the app-tier
 * owner of core/stream streams: it picks or launches a circuit under the
 * isolation rules, opens the stream, relays bytes between the socket and
 * the stream with back-pressure, retries where the spec allows, and
 * emits CEV_STREAM events.
 *
 * Stream IDs here are the control port's StreamIDs: unique per client,
 * counting from 1, never reused.
 **/
#ifndef CHIVE_APP_STREAMS_H
#define CHIVE_APP_STREAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/config.h"
#include "chive/error.h"
#include "lib/cc/cc.h"

typedef struct chive_client_t chive_client_t;
typedef struct ocirc_t ocirc_t;
typedef struct app_stream_t app_stream_t;

/** What a stream does. */
typedef enum app_stream_kind_t {
  APP_STREAM_CONNECT = 0, /**< RELAY_BEGIN to host:port */
  APP_STREAM_RESOLVE,     /**< RELAY_RESOLVE of a name */
  APP_STREAM_RESOLVE_PTR, /**< RELAY_RESOLVE of an address (reverse) */
} app_stream_kind_t;

/** Where a stream came from (control-spec §4.1.2 PURPOSE/SOURCE). */
typedef enum app_stream_origin_t {
  APP_STREAM_FROM_SOCKS = 0,
  APP_STREAM_FROM_HTTP_CONNECT,
  APP_STREAM_FROM_CONTROL, /**< a controller's RESOLVE */
} app_stream_origin_t;

/** Start/stop the listeners (SocksPort, HTTPTunnelPort) and the stream
 * machinery.  Called by client.c. */
CHIVE_MUST_CHECK chive_err_t streams_start(chive_client_t *c);
void streams_stop(chive_client_t *c);
/** Apply a new configuration (SIGHUP / SETCONF): open listeners that
 * are new, close those no longer configured (their connections stay),
 * keep the others; new SocksTimeout.  Returns the first error. */
CHIVE_MUST_CHECK chive_err_t streams_reconfigure(chive_client_t *c,
                                                 const chive_config_t *cfg);

/** A pooled circuit opened: waiting streams may attach now (pool.c). */
void streams_circuit_opened(chive_client_t *c);

/* ---- Accessors (for the control port and metrics) ------------------- */
uint64_t app_stream_id(const app_stream_t *st);
app_stream_kind_t app_stream_kind(const app_stream_t *st);
app_stream_origin_t app_stream_origin(const app_stream_t *st);
/** Target host (name or address literal, as the application gave it). */
const char *app_stream_host(const app_stream_t *st);
uint16_t app_stream_port(const app_stream_t *st);
/** The application's address "IP:port" ("" if none). */
const char *app_stream_source(const app_stream_t *st);
/** The circuit the stream is attached to, or NULL. */
ocirc_t *app_stream_circ(const app_stream_t *st);
/** Last status emitted (cev_stream_status_t). */
int app_stream_status(const app_stream_t *st);
uint64_t app_stream_bytes_read(const app_stream_t *st);
uint64_t app_stream_bytes_written(const app_stream_t *st);

/** How an application request ended (metrics). */
typedef enum app_req_result_t {
  APP_REQ_SUCCEEDED = 0, /**< the stream opened / the name resolved */
  APP_REQ_BAD_REQUEST,   /**< malformed or oversized request */
  APP_REQ_UNSUPPORTED,   /**< command, address type or .onion refused */
  APP_REQ_FAILED,        /**< no circuit, or the exit said END */
  APP_REQ_TIMEOUT,       /**< no answer in time (client or exit) */
  APP_REQ_CLIENT_GONE,   /**< the application closed first */
  APP_REQ_N_RESULTS
} app_req_result_t;

/** Counters since start. */
typedef struct streams_stats_t {
  /** Requests per origin (app_stream_origin_t) and result. */
  uint64_t requests[3][APP_REQ_N_RESULTS];
  uint64_t bytes_from_apps; /**< sent into Tor */
  uint64_t bytes_to_apps;   /**< received from Tor */
  uint64_t n_open;          /**< live streams now */
  uint64_t n_listeners;     /**< open listeners now */
} streams_stats_t;

/** Fill *<b>out</b>. */
void streams_get_stats(const chive_client_t *c, streams_stats_t *out);
/** "addr:port" of the <b>i</b>th open listener of <b>origin</b> (SOCKS
 * or HTTP CONNECT), or NULL past the end (GETINFO net/listeners/...). */
const char *streams_listener_addr(const chive_client_t *c,
                                  app_stream_origin_t origin, size_t i);

/** Number of live streams. */
size_t streams_count(const chive_client_t *c);
/** Call <b>fn</b> for every live stream (fn MUST NOT close streams). */
void streams_foreach(chive_client_t *c,
                     void (*fn)(app_stream_t *st, void *arg), void *arg);
/** The live stream with control StreamID <b>id</b>, or NULL. */
app_stream_t *streams_find(chive_client_t *c, uint64_t id);

/* ---- Controller operations (control-spec §3) -------------------------- */

/** __LeaveStreamsUnattached: new streams wait (status NEW) for
 * streams_attach() instead of being attached by chive. */
void streams_set_leave_unattached(chive_client_t *c, bool leave);
/** ATTACHSTREAM: attach the unattached (or detached) stream <b>st</b> to
 * <b>oc</b> at hop <b>hop</b> (0 = the last hop), or with <b>oc</b> NULL
 * let chive choose.  CHIVE_ERR_INVAL if the stream is not waiting,
 * CHIVE_ERR_CLOSED if the circuit is not open. */
CHIVE_MUST_CHECK chive_err_t streams_attach(chive_client_t *c,
                                            app_stream_t *st, ocirc_t *oc,
                                            size_t hop);
/** CLOSESTREAM: close <b>st</b> with END reason <b>reason</b>; the
 * application gets the matching SOCKS error or is disconnected. */
void streams_close(chive_client_t *c, app_stream_t *st, uint8_t reason);
/** SIGNAL NEWNYM: no new stream uses a circuit that carried a stream
 * before this call. */
void streams_newnym(chive_client_t *c);
/** RESOLVE from a controller: resolve <b>name</b> (or, with
 * <b>reverse</b>, the address <b>name</b>) through an exit; the answer
 * goes out as a CEV_ADDRMAP event.  CHIVE_ERR_INVAL for a bad name. */
CHIVE_MUST_CHECK chive_err_t streams_resolve(chive_client_t *c,
                                             const char *name, bool reverse);
/** MAPADDRESS: rewrite streams to <b>from</b> so they go to <b>to</b>
 * (<b>to</b> equal to <b>from</b> removes the mapping).  CHIVE_ERR_LIMIT
 * when the map is full. */
CHIVE_MUST_CHECK chive_err_t streams_map_address(chive_client_t *c,
                                                 const char *from,
                                                 const char *to);
/** SIGNAL CLEARDNSCACHE: forget cached answers and automatic mappings. */
void streams_clear_dns_cache(chive_client_t *c);

#endif /* !defined(CHIVE_APP_STREAMS_H) */
