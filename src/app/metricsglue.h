/**
 * @file metricsglue.h
 * @brief The client's Prometheus metrics (MetricsPort).
 *
 * When MetricsPort is configured (off by default), metricsglue_start()
 * makes a registry with chive's standard families (metrics_std.h),
 * subscribes to the client's event hub for what happens (circuits,
 * channels, streams), and opens one HTTP listener per MetricsPort value
 * (metrics_server.h), each restricted by MetricsPortPolicy.  Gauges and
 * totals owned by other modules (bootstrap phase, consensus age, guards,
 * byte counts, memory) are read at scrape time.  Without MetricsPort
 * nothing is allocated and c->metrics stays NULL.
 **/
#ifndef CHIVE_APP_METRICSGLUE_H
#define CHIVE_APP_METRICSGLUE_H

#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"

typedef struct chive_client_t chive_client_t;
typedef struct metrics_registry_t metrics_registry_t;

/** Most MetricsPort listeners (policy). */
#define METRICSGLUE_MAX_PORTS 4

/** Register the metrics and open MetricsPort if configured.  Errors:
 * CHIVE_ERR_INVAL (a bad MetricsPort or MetricsPortPolicy value, a
 * non-loopback address that MetricsPortPolicy does not allow, more than
 * METRICSGLUE_MAX_PORTS listeners), CHIVE_ERR_IO (cannot listen),
 * CHIVE_ERR_NOMEM.  On error nothing is left open. */
CHIVE_MUST_CHECK chive_err_t metricsglue_start(chive_client_t *c);
/** Close the listener and free the registry.  Idempotent. */
void metricsglue_stop(chive_client_t *c);

/** Number of open MetricsPort listeners. */
size_t metricsglue_n_listeners(const chive_client_t *c);
/** The bound address of listener <b>i</b> (the real port for "auto"), or
 * NULL past the end.  Borrowed. */
const net_addrport_t *metricsglue_listener_addr(const chive_client_t *c,
                                                size_t i);
/** Read the scrape-time gauges and totals now (each scrape does this
 * first).  No-op without metrics. */
void metricsglue_refresh(chive_client_t *c);
/** Count a circuit that could not even be launched because path
 * selection found no usable path (chive_circuits_failed_total{reason=
 * "no_path"}); for the circuit builder to call.  No-op without metrics. */
void metricsglue_note_no_path(chive_client_t *c);
/** The registry (NULL without metrics).  Borrowed; for tests. */
const metrics_registry_t *metricsglue_registry(const chive_client_t *c);

#endif /* !defined(CHIVE_APP_METRICSGLUE_H) */
