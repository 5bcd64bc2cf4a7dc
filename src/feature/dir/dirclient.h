/**
 * @file dirclient.h
 * @brief One-hop directory requests: CREATE_FAST circuit to a directory
 * server's ORPort, a BEGIN_DIR stream, one HTTP/1.0 GET, the response
 * read until the server ends the stream, decompressed with a cap.
 *
 * dir-spec §6 (HTTP over BEGIN_DIR), tor-spec §5.1.5 (CREATE_FAST),
 * §6.2.1 (BEGIN_DIR).  The result is handed to the caller (normally
 * feature/dir/dirmgr, which does the parsing and verification).
 **/
#ifndef CHIVE_FEATURE_DIR_DIRCLIENT_H
#define CHIVE_FEATURE_DIR_DIRCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/circmgr/circmgr.h"
#include "feature/dir/dirauth.h"
#include "lib/cc/cc.h"
#include "lib/evloop/evloop.h"
#include "lib/log/log.h"

/** Largest directory response body accepted before decompression, and
 * the default cap after it (tor's MAX_DIR_DL_SIZE: 16 MiB - 1). */
#define DIRCLIENT_MAX_BODY_LEN ((size_t)(16u << 20) - 1)
/** Default time allowed for one request, from launch to the end. */
#define DIRCLIENT_DEFAULT_TIMEOUT_MS 60000

typedef struct dirclient_t dirclient_t;
typedef struct dirreq_t dirreq_t;

/** Where a request is (for bootstrap progress reporting). */
typedef enum dirreq_stage_t {
  DIRREQ_CONNECTING = 0, /**< channel and CREATE_FAST in progress */
  DIRREQ_CIRCUIT_OPEN,   /**< one-hop circuit built, BEGIN_DIR sent */
  DIRREQ_SENT,           /**< stream connected, GET sent */
  DIRREQ_RECEIVING,      /**< first response bytes arrived */
} dirreq_stage_t;

typedef struct dirreq_result_t {
  chive_err_t err;      /**< CHIVE_OK iff an HTTP response was parsed */
  const char *why;      /**< static text for logs when err != OK */
  int http_status;      /**< e.g. 200 or 404 (0 if none) */
  const uint8_t *body;  /**< decompressed body, borrowed for the call */
  size_t body_len;
  uint64_t wire_bytes;  /**< stream bytes received (compressed) */
  uint64_t elapsed_ms;  /**< launch to result */
} dirreq_result_t;

typedef struct dirreq_callbacks_t {
  /** Exactly once per request unless it was cancelled.  The request is
   * dead once this returns. */
  void (*done)(dirreq_t *req, const dirreq_result_t *res, void *arg);
  /** Optional: the request reached <b>stage</b>. */
  void (*progress)(dirreq_t *req, dirreq_stage_t stage, void *arg);
} dirreq_callbacks_t;

/** Create a directory client that launches circuits through <b>cm</b>
 * (borrowed; must outlive the client). */
CHIVE_MUST_CHECK chive_err_t dirclient_new(circmgr_t *cm, evloop_t *loop,
                                           logger_t *log, dirclient_t **out);
/** Cancel every request (no callbacks) and free the client. */
void dirclient_free_(dirclient_t *dc);
#define dirclient_free(p) CHIVE_FREE_AND_NULL(dirclient_t, dirclient_free_, (p))

/** Fetch <b>path</b> from <b>server</b> (copied) over a one-hop circuit.
 * The decompressed body may be at most <b>max_body</b> bytes (0 means
 * DIRCLIENT_MAX_BODY_LEN); <b>timeout_ms</b> 0 means the default.  No
 * callback runs before this returns.  *<b>out</b> (optional) receives a
 * handle for dirreq_cancel(). */
CHIVE_MUST_CHECK chive_err_t dirclient_fetch(
    dirclient_t *dc, const dir_server_t *server, const char *path,
    size_t max_body, uint64_t timeout_ms, const dirreq_callbacks_t *cbs,
    void *arg, dirreq_t **out);

/** Cancel <b>req</b>: its circuit is closed and no callback runs. */
void dirreq_cancel(dirreq_t *req);

/** Number of requests in flight. */
size_t dirclient_n_requests(const dirclient_t *dc);

#endif /* !defined(CHIVE_FEATURE_DIR_DIRCLIENT_H) */
