/**
 * @file pool.h
 * @brief The client's circuit pool: preemptive exit circuits for the
 * ports it predicts, kept by feature/circpool's policy (min/max clean
 * circuits, dirtiness expiry, replacement of failed or closed ones).
 **/
#ifndef CHIVE_APP_POOL_H
#define CHIVE_APP_POOL_H

#include "app/client_st.h"

/** Create the pool and its periodic timer. */
CHIVE_MUST_CHECK chive_err_t pool_start(chive_client_t *c);
/** Apply the client's (new) configuration to the pool policy. */
void pool_reconfigure(chive_client_t *c);
/** Close every pooled circuit and free the pool. */
void pool_stop(chive_client_t *c);
/** Run the pool's policy now (launch/close what it says). */
void pool_tick(chive_client_t *c);
/** Choose an open pooled circuit for a stream to <b>port</b> with
 * isolation key <b>iso</b> (circpool_get_for_stream() rules), skipping
 * circuits for which <b>ok</b> (may be NULL) says false; the stream is
 * counted on it.  Returns the circuit and sets *<b>handle_out</b> (give
 * it back to pool_stream_detached()), or NULL. */
ocirc_t *pool_get_for_stream(chive_client_t *c, uint16_t port,
                             const uint8_t *iso, size_t iso_len,
                             bool (*ok)(ocirc_t *oc, void *arg), void *arg,
                             void **handle_out);
/** A stream counted by pool_get_for_stream() left the circuit. */
void pool_stream_detached(chive_client_t *c, void *handle);
/** No new streams on the pooled circuit <b>handle</b>. */
void pool_retire(chive_client_t *c, void *handle);
/** Same, by circuit (no-op if it is not pooled). */
void pool_retire_circ(chive_client_t *c, const ocirc_t *oc);
/** NEWNYM: retire every dirty pooled circuit; return how many. */
size_t pool_newnym(chive_client_t *c);
/** A stream found no circuit: launch one if the pool's policy says so
 * (path-spec §2.1.2).  Returns the policy's answer (LIMITED also when
 * a launch failed). */
circpool_need_t pool_launch_for_stream(chive_client_t *c, uint16_t port,
                                       const uint8_t *iso, size_t iso_len);
/** Number of open pooled circuits (for tests and metrics). */
size_t pool_n_open(const chive_client_t *c);
/** Close one open pooled circuit as if it had failed (tests). Returns
 * false if there is none. */
bool pool_close_one(chive_client_t *c);

#endif /* !defined(CHIVE_APP_POOL_H) */
