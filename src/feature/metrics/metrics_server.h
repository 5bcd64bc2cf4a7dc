/**
 * @file metrics_server.h
 * @brief The MetricsPort: an HTTP endpoint serving GET /metrics in the
 * Prometheus text format, on the embedder's event_base (libevent evhttp).
 *
 * Behaviour:
 * - Listens on one configured address:port.  Port 0 picks a free port
 *   (tests); metrics_server_addr() reports the bound address.  A
 *   non-loopback listen address is refused unless the policy has an
 *   accept entry (metrics_policy_allows_listen()).
 * - Every request is checked against the policy (empty policy: loopback
 *   peers only).  A refused peer gets 403 and the connection is closed.
 *   (libevent 2.1's evhttp has no hook between accept and the first
 *   request, so the check happens when the request head has been read;
 *   the header size limit bounds what a refused peer can send.)
 * - GET /metrics (any query string) -> 200 with Content-Type
 *   METRICS_CONTENT_TYPE and the registry's exposition; HEAD /metrics ->
 *   the same headers (Content-Length included) without the body; another
 *   path -> 404; another method -> 405 with "Allow: GET, HEAD"; a
 *   malformed request is answered or closed by evhttp itself (400 or
 *   close).
 * - Bounded: request heads at most METRICS_HTTP_MAX_HEADERS_LEN bytes,
 *   bodies at most METRICS_HTTP_MAX_BODY_LEN, each read/write must make
 *   progress within the timeout (idle and slow peers are closed), and the
 *   exposition at most max_response_len bytes (else 500).
 *
 * Lifetimes: the event_base, registry and logger are borrowed and MUST
 * outlive the server.  Free the server from the loop's thread; it closes
 * its listener and every open connection.
 **/
#ifndef CHIVE_FEATURE_METRICS_METRICS_SERVER_H
#define CHIVE_FEATURE_METRICS_METRICS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/metrics/metrics_policy.h"
#include "lib/cc/cc.h"
#include "lib/log/log.h"
#include "lib/metrics/metrics.h"
#include "lib/net/address.h"

struct event_base;

/** Largest request head (request line + headers) accepted, in bytes. */
#define METRICS_HTTP_MAX_HEADERS_LEN 8192
/** Largest request body accepted, in bytes (GET has none). */
#define METRICS_HTTP_MAX_BODY_LEN 1024
/** Default per-read/write timeout, in seconds. */
#define METRICS_HTTP_TIMEOUT_S_DEFAULT 10
/** Default largest exposition served, in bytes. */
#define METRICS_HTTP_MAX_RESPONSE_LEN_DEFAULT ((size_t)4 << 20)
/** The one path served. */
#define METRICS_HTTP_PATH "/metrics"

/** Configuration of a metrics server.  Zero-initialise, then set. */
typedef struct metrics_server_cfg_t {
  /** Where to listen (port 0: pick a free port). */
  net_addrport_t listen;
  /** Who may scrape (copied); NULL or empty: loopback peers only. */
  const metrics_policy_t *policy;
  /** Per-read/write timeout in seconds; 0: the default. */
  unsigned timeout_s;
  /** Largest exposition served, in bytes; 0: the default. */
  size_t max_response_len;
} metrics_server_cfg_t;

/** Counters of what the server did, for tests and for the log. */
typedef struct metrics_server_stats_t {
  uint64_t n_scrapes;    /**< 200 responses (GET and HEAD) */
  uint64_t n_refused;    /**< 403: peer not permitted by the policy */
  uint64_t n_not_found;  /**< 404 */
  uint64_t n_bad_method; /**< 405 */
  uint64_t n_errors;     /**< 400/500 sent by us */
} metrics_server_stats_t;

typedef struct metrics_server_t metrics_server_t;

/** Called before each exposition (e.g. to refresh sampled gauges). */
typedef void (*metrics_server_scrape_cb_t)(void *arg);

/** Start serving <b>reg</b> on <b>base</b> as configured by <b>cfg</b>.
 * <b>lg</b> may be NULL.  On success set *<b>out</b> (free with
 * metrics_server_free()).  Errors: CHIVE_ERR_INVAL (NULL arguments, an
 * unspecified address, a non-loopback address the policy does not allow),
 * CHIVE_ERR_IO (cannot listen: address in use...), CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t metrics_server_new(
    struct event_base *base, const metrics_registry_t *reg,
    const metrics_server_cfg_t *cfg, logger_t *lg, metrics_server_t **out);

/** Close the listener and every connection, then free <b>srv</b>.  NULL
 * is a no-op.  Do not call from inside a scrape callback. */
void metrics_server_free_(metrics_server_t *srv);
#define metrics_server_free(s) \
  CHIVE_FREE_AND_NULL(metrics_server_t, metrics_server_free_, (s))

/** Return the address the server is bound to (the real port when the
 * configured port was 0).  Borrowed. */
const net_addrport_t *metrics_server_addr(const metrics_server_t *srv);

/** Return the server's counters.  Borrowed. */
const metrics_server_stats_t *
metrics_server_stats(const metrics_server_t *srv);

/** Set (or clear, with NULL) a callback run before each exposition.
 * <b>arg</b> is borrowed. */
void metrics_server_set_scrape_cb(metrics_server_t *srv,
                                  metrics_server_scrape_cb_t cb, void *arg);

#endif /* !defined(CHIVE_FEATURE_METRICS_METRICS_SERVER_H) */
