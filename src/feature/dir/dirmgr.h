/**
 * @file dirmgr.h
 * @brief The directory manager: decides what directory documents to
 * download, from whom and when; verifies what comes back before it
 * replaces anything (compute, then commit); keeps the on-disk cache.
 *
 * Sans-I/O on the network side: dirmgr never opens a connection.  The app
 * calls dirmgr_poll() to learn which requests to launch (each one is an
 * HTTP GET over a one-hop BEGIN_DIR stream to a server's ORPort), runs
 * them, and reports each outcome with dirmgr_request_done() (body already
 * decompressed) or dirmgr_request_failed().  dirmgr_next_poll_ms() says
 * when to poll again.  The cache directory (if any) is read and written
 * synchronously through dircache.h.
 *
 * Flow (dir-spec §5.1, §5.2): microdesc consensus → the authority
 * certificates its signatures need (by identity and signing-key digest)
 * → verification against the configured authorities (a majority, with
 * the injected clock) → commit → microdescriptors for every digest the
 * consensus lists that we do not hold, in batches of at most 92.  A new
 * consensus is fetched at a random time in the window dir-spec §5.1
 * gives clients.
 *
 * Lifetimes: the consensus returned by dirmgr_consensus() and every
 * microdesc_t returned by dirmgr_microdesc() stay valid until the next
 * consensus is committed (dirmgr then drops unreferenced
 * microdescriptors and compacts its store) or dirmgr_free().  The
 * optional event callback says when that happens.  Not thread-safe.
 **/
#ifndef CHIVE_FEATURE_DIR_DIRMGR_H
#define CHIVE_FEATURE_DIR_DIRMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/dirauth.h"
#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "lib/cc/cc.h"
#include "lib/log/log.h"
#include "lib/time/clock.h"

/** Longest request path: "/tor/micro/d/" plus 92 unpadded base64
 * SHA-256 digests (43 chars) joined by '-' is 4060 bytes. */
#define DIRMGR_MAX_PATH_LEN 4096
/** Most microdescriptor digests asked for in one request (dir-spec §4.3:
 * "at most 92 microdescriptor hashes"). */
#define DIRMGR_MAX_MDS_PER_REQUEST 92
/** Most requests in flight at once. */
#define DIRMGR_MAX_IN_FLIGHT 4
/** Cap on a consensus body (tor's MAX_DIR_DL_SIZE, 16 MiB - 1). */
#define DIRMGR_MAX_CONSENSUS_LEN (((size_t)16 << 20) - 1)
/** Cap on a certificate response body. */
#define DIRMGR_MAX_CERTS_LEN ((size_t)1 << 20)
/** Cap on a microdescriptor response body (92 mds; the 2025 network's
 * longest family lines are ~16 KiB each). */
#define DIRMGR_MAX_MDS_BODY_LEN ((size_t)4 << 20)

typedef struct dirmgr_t dirmgr_t;

typedef enum {
  DIRDOC_CONSENSUS,
  DIRDOC_CERTS,
  DIRDOC_MICRODESCS,
} dirdoc_t;

/** What dirmgr tells its owner about (optional callback). */
typedef enum {
  /** A new consensus was committed: dirmgr_consensus() changed and
   * microdesc_t pointers from before are invalid. */
  DIRMGR_EV_CONSENSUS,
  /** More microdescriptors arrived. */
  DIRMGR_EV_MICRODESCS,
  /** dirmgr_phase() or dirmgr_can_build_circuits() changed. */
  DIRMGR_EV_PHASE,
} dirmgr_event_t;

typedef void (*dirmgr_event_fn)(dirmgr_event_t ev, void *arg);

typedef struct dirmgr_config_t {
  const dir_server_t *authorities; /**< copied */
  size_t n_authorities;
  const dir_server_t *fallbacks;   /**< copied; may be 0 */
  size_t n_fallbacks;
  const char *cache_dir;           /**< copied; NULL: no disk cache */
  logger_t *log;                   /**< borrowed */
  const chive_clock_t *clock;      /**< borrowed; NULL: system */
  bool testing_network;            /**< TestingTorNetwork: short delays */
  /** Fraction of paths needed to build circuits (tor's
   * PathsNeededToBuildCircuits, 0 < f <= 1); 0 or below: the default
   * DIRMGR_MIN_PATH_FRACTION. */
  double min_path_fraction;
  dirmgr_event_fn on_event;        /**< optional */
  void *on_event_arg;
} dirmgr_config_t;

typedef struct dirmgr_request_t {
  uint64_t id;                    /**< unique per request, never 0 */
  dirdoc_t kind;
  dir_server_t server;            /**< whom to ask (ORPort + BEGIN_DIR) */
  char path[DIRMGR_MAX_PATH_LEN]; /**< NUL-terminated; no ".z" suffix */
  size_t max_len;                 /**< cap for the decompressed body */
} dirmgr_request_t;

typedef enum {
  DIRMGR_NEED_CONSENSUS, /**< no usable consensus yet */
  DIRMGR_LOADING_CERTS,  /**< a consensus waits for certificates */
  DIRMGR_LOADING_MDS,    /**< consensus committed, too few mds */
  DIRMGR_READY,          /**< enough directory info */
} dirmgr_phase_t;

/** Create a directory manager.  <b>cfg</b> needs at least one authority
 * with a v3ident (CHIVE_ERR_INVAL otherwise); its arrays and strings are
 * copied.  Nothing is read from disk yet (see dirmgr_load_cache()). */
CHIVE_MUST_CHECK chive_err_t dirmgr_new(const dirmgr_config_t *cfg,
                                        dirmgr_t **out);
/** Free <b>m</b>; NULL is a no-op.  Does not write the cache (call
 * dirmgr_flush_cache() first to keep microdescriptors not yet saved). */
void dirmgr_free_(dirmgr_t *m);
#define dirmgr_free(p) CHIVE_FREE_AND_NULL(dirmgr_t, dirmgr_free_, (p))

/** Load and verify the cached certificates, consensus and
 * microdescriptors from the cache directory.  A missing file is fine; a
 * stale, unparseable or unverifiable one is discarded with a NOTICE.  A
 * consensus up to 24 h past its valid-until ("reasonably live", dir-spec
 * §5.1) is used, but a fresh one is requested at once.  Returns CHIVE_OK
 * unless memory ran out (CHIVE_ERR_NOMEM) or there is no cache dir
 * (CHIVE_OK, nothing done). */
CHIVE_MUST_CHECK chive_err_t dirmgr_load_cache(dirmgr_t *m);

/** Write microdescriptors received since the last write to the cache
 * now (dirmgr also does this by itself when a download round ends, when
 * much is pending, and at most every DIRMGR_MD_FLUSH_INTERVAL_MS). */
CHIVE_MUST_CHECK chive_err_t dirmgr_flush_cache(dirmgr_t *m);

/** Write up to <b>max</b> requests that should be launched now into
 * <b>out</b> and return how many; at most DIRMGR_MAX_IN_FLIGHT are ever
 * outstanding.  Every returned request MUST later be answered with
 * dirmgr_request_done() or dirmgr_request_failed(). */
size_t dirmgr_poll(dirmgr_t *m, dirmgr_request_t *out, size_t max);

/** Report the HTTP answer to request <b>id</b>: status and decompressed
 * body (borrowed for the call).  Anything but a 200 with a document that
 * parses and verifies counts as a failure of that server. */
void dirmgr_request_done(dirmgr_t *m, uint64_t id, int http_status,
                         const uint8_t *body, size_t len);
/** Report that request <b>id</b> failed without an HTTP answer
 * (timeout, connection failure). */
void dirmgr_request_failed(dirmgr_t *m, uint64_t id, chive_err_t why);

/** Milliseconds until dirmgr_poll() may have something new to launch
 * (0: poll now; UINT64_MAX: nothing to do until a request completes). */
uint64_t dirmgr_next_poll_ms(const dirmgr_t *m);

dirmgr_phase_t dirmgr_phase(const dirmgr_t *m);

/** Return true iff we hold a reasonably live verified consensus (and its
 * certificates) and enough microdescriptors to build circuits.  The rule
 * (tor's, simplified): with the bandwidth ("w Bandwidth=") of usable
 * relays (Running and Valid) as weight, the fraction of guard (Guard
 * flag), middle (all usable) and exit (Exit, not BadExit) weight whose
 * microdescriptor we hold, multiplied together, is at least
 * DIRMGR_MIN_PATH_FRACTION (0.6, tor's PathsNeededToBuildCircuits
 * default); and we hold at least one md in each position.  A consensus
 * without exits (a test network) counts the exit fraction as 1. */
bool dirmgr_have_enough_dir_info(const dirmgr_t *m);
/** Enough directory info AND the consensus does not require a
 * protocol chive lacks ("required-client-protocols"). */
bool dirmgr_can_build_circuits(const dirmgr_t *m);

/** False iff the committed consensus requires a client protocol chive
 * lacks (a WARN naming them was logged when it was committed). */
bool dirmgr_required_protocols_ok(const dirmgr_t *m);

/** Microdescriptors held (*have) of those the consensus lists (*want;
 * one per router entry). */
void dirmgr_md_progress(const dirmgr_t *m, size_t *have, size_t *want);
/** The committed consensus, or NULL. */
const ns_consensus_t *dirmgr_consensus(const dirmgr_t *m);
/** The microdescriptor with SHA-256 <b>digest</b>, or NULL. */
const microdesc_t *dirmgr_microdesc(const dirmgr_t *m,
                                    const uint8_t digest[32]);
/** Number of requests in flight. */
size_t dirmgr_n_in_flight(const dirmgr_t *m);
/** Heap bytes held by <b>m</b> (consensus, certificates, mds, indexes). */
size_t dirmgr_bytes(const dirmgr_t *m);
/** Wall time (seconds) at which the next consensus fetch is due, or 0. */
int64_t dirmgr_next_consensus_fetch(const dirmgr_t *m);

/** The protocols chive supports, as a "Name=versions ..." string (the
 * set compared with the consensus protocol lines). */
const char *dirmgr_supported_protocols(void);

#endif /* !defined(CHIVE_FEATURE_DIR_DIRMGR_H) */
