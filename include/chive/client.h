/**
 * @file client.h
 * @brief chive_client_t: a Tor client running on the caller's event loop.
 *
 * Threading: one chive_client_t per thread; every call on the thread that
 * dispatches the client's event_base.  Callbacks are always deferred: they
 * run from the loop, never from inside the API call that caused them.
 **/
#ifndef CHIVE_CLIENT_H
#define CHIVE_CLIENT_H

#include "chive/config.h"
#include "chive/error.h"
#include "chive/export.h"

#ifdef __cplusplus
extern "C" {
#endif

struct event_base;
typedef struct chive_client_t chive_client_t;

/** Bootstrap progress, tor's phases: <b>percent</b> 0..100, <b>tag</b>
 * (e.g. "requesting_status"), <b>summary</b> (e.g. "Asking for
 * networkstatus consensus").  Strings are borrowed for the call. */
typedef void (*chive_bootstrap_cb)(chive_client_t *client, int percent,
                                   const char *tag, const char *summary,
                                   void *arg);

/** Create a client that runs on <b>base</b> (borrowed; must outlive the
 * client).  <b>cfg</b> is copied.  On success set *<b>out</b> and return
 * CHIVE_OK; on failure leave *<b>out</b> NULL and, if <b>err</b> is
 * non-NULL, explain in it. */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_client_new(
    const chive_config_t *cfg, struct event_base *base,
    chive_client_t **out, char *err, size_t err_len);

/** Report bootstrap progress to <b>cb</b>. */
CHIVE_API void chive_client_set_bootstrap_cb(chive_client_t *client,
                                             chive_bootstrap_cb cb,
                                             void *arg);

/** Start bootstrapping.  Returns immediately; progress is reported
 * through the bootstrap callback and the log. */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_client_start(
    chive_client_t *client);

/** Return the last bootstrap percentage reached (0..100). */
CHIVE_API int chive_client_bootstrap_percent(const chive_client_t *client);

/** Apply a new configuration to a running client (what tor does on
 * SIGHUP): logging, listeners (new ones opened, removed ones closed,
 * existing connections kept), MaxCircuitDirtiness, SocksTimeout, ....
 * Options that cannot change while running (DataDirectory, DirAuthority,
 * FallbackDir, TestingTorNetwork) must be unchanged: otherwise nothing
 * is applied, CHIVE_ERR_INVAL is returned and <b>err</b> says which.
 * <b>cfg</b> is copied. */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_client_reconfigure(
    chive_client_t *client, const chive_config_t *cfg, char *err,
    size_t err_len);

/** A controller asked for a signal the embedder acts on (control-spec
 * §3.7 SIGNAL): "RELOAD" (re-read the configuration), "SHUTDOWN" or
 * "HALT" (exit; the client is not stopped by chive itself). */
typedef void (*chive_signal_cb)(chive_client_t *client, const char *signal,
                                void *arg);

/** Receive controller signals with <b>cb</b> (NULL: they are refused
 * with an error to the controller). */
CHIVE_API void chive_client_set_signal_cb(chive_client_t *client,
                                          chive_signal_cb cb, void *arg);

/** Where the client's <b>i</b>th listener of <b>kind</b> listens
 * ("socks", "httptunnel", "control" or "metrics"): "127.0.0.1:9050" (the
 * real port for "auto"), or "unix:PATH" for a control socket, written to
 * <b>buf</b> (<b>len</b> bytes) and returned; NULL past the last one,
 * for an unknown kind, or if it does not fit.  Listeners open in
 * chive_client_start(). */
CHIVE_API const char *chive_client_listener(const chive_client_t *client,
                                            const char *kind, size_t i,
                                            char *buf, size_t len);

/** Close every connection and stop the client's timers; the client can
 * then be freed.  The event loop keeps running for the caller. */
CHIVE_API void chive_client_stop(chive_client_t *client);

/** Stop (if needed) and release <b>client</b>.  NULL is a no-op.  Must
 * not be called from inside a chive callback. */
CHIVE_API void chive_client_free(chive_client_t *client);

#ifdef __cplusplus
}
#endif

#endif /* !defined(CHIVE_CLIENT_H) */
