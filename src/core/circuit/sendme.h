/**
 * @file sendme.h
 * @brief Circuit-level flow control for one hop: package/deliver windows
 * (tor-spec §7.3) and authenticated SENDMEs (proposal 289, tor-spec
 * §7.3.1), plus the SENDME body codec.
 *
 * Pure bookkeeping: no I/O, no allocation, no logging.  The circuit owns
 * one sendme_circ_t per hop ("the OP has a pair of windows for every relay
 * on the circuit", tor-spec §7.3) and asks it, cell by cell, what to do.
 *
 * Which digest is remembered (proposal 289 §3.1-3.2, tor-spec §7.3): the
 * peer answers with a circuit SENDME after every CIRCWINDOW_INCREMENT
 * RELAY_DATA cells it receives, carrying the running digest of the cell
 * that triggered it.  So when we send the 100th, 200th, ... DATA cell
 * (with the default window of 1000: the cell that leaves our package
 * window at a multiple of the increment) we remember our running forward
 * digest right after that cell.  The peer's SENDMEs arrive in the same
 * order, so a FIFO of at most CIRCWINDOW_START_MAX / CIRCWINDOW_INCREMENT
 * digests suffices.
 **/
#ifndef CHIVE_CORE_CIRCUIT_SENDME_H
#define CHIVE_CORE_CIRCUIT_SENDME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/proto/proto_limits.h"
#include "lib/cc/cc.h"

/** Largest initial circuit package window, cells (param-spec
 * "circwindow" max; also the deliver window we start with). */
#define CIRCWINDOW_START_MAX 1000
/** Smallest "circwindow" consensus value, cells (param-spec). */
#define CIRCWINDOW_START_MIN 100
/** Cells acknowledged by one circuit SENDME (tor-spec §7.3). */
#define CIRCWINDOW_INCREMENT 100
/** Initial stream package and deliver windows, cells (tor-spec §7.4). */
#define STREAMWINDOW_START 500
/** Cells acknowledged by one stream SENDME (tor-spec §7.4). */
#define STREAMWINDOW_INCREMENT 50
/** Highest SENDME version we understand (proposal 289: v1). */
#define SENDME_VERSION_MAX_SUPPORTED 1
/** Most digests that can be outstanding on one hop. */
#define SENDME_MAX_PENDING_DIGESTS \
  (CIRCWINDOW_START_MAX / CIRCWINDOW_INCREMENT) /* 10 */

/** Per-hop circuit windows and the FIFO of expected SENDME digests.  Do
 * not touch the fields. */
typedef struct sendme_circ_t {
  int32_t package_window; /**< DATA cells we may still send. */
  int32_t package_start;  /**< Initial package window ("circwindow"). */
  int32_t deliver_window; /**< DATA cells the peer may still send. */
  /** Ring buffer of digests we expect back, oldest at head. */
  uint8_t digests[SENDME_MAX_PENDING_DIGESTS][SENDME_DIGEST_LEN];
  size_t head;
  size_t n_digests;
  uint64_t n_packaged; /**< DATA cells sent so far. */
} sendme_circ_t;

/** Initialise <b>sc</b> with package window <b>circwindow</b> (clamped
 * to [CIRCWINDOW_START_MIN, CIRCWINDOW_START_MAX]) and deliver window
 * CIRCWINDOW_START_MAX. */
void sendme_circ_init(sendme_circ_t *sc, unsigned circwindow);

/** Return true iff a RELAY_DATA cell may be sent now. */
bool sendme_circ_can_package(const sendme_circ_t *sc);

/** Return true iff the next DATA cell sent is one the peer will answer
 * with a SENDME, so its digest must be remembered (tor-spec §7.3). */
bool sendme_circ_next_needs_digest(const sendme_circ_t *sc);

/** Account for one RELAY_DATA cell sent.  If
 * sendme_circ_next_needs_digest() was true before the call, <b>digest</b>
 * (the full running forward digest right after the cell) is queued; it
 * may be NULL otherwise.  Returns CHIVE_ERR_INTERNAL (BUG) if the window
 * was already 0 or a needed digest is missing; nothing changes then. */
CHIVE_MUST_CHECK chive_err_t sendme_circ_note_packaged(
    sendme_circ_t *sc, const uint8_t digest[SENDME_DIGEST_LEN]);

/** Process the body of a circuit-level SENDME (tor-spec §7.3.1).  Pops
 * the oldest expected digest (whatever the version, so v0 cells do not
 * let the queue grow), checks the version against <b>accept_min</b> and
 * SENDME_VERSION_MAX_SUPPORTED, checks a v1 digest in constant time, and
 * checks the window would not exceed its start value; then adds
 * CIRCWINDOW_INCREMENT to the package window.  Returns CHIVE_ERR_PROTO for
 * a malformed body, an unacceptable version, no expected digest or a
 * window overflow, CHIVE_ERR_CRYPTO for a digest mismatch.  The body
 * codec is core/proto/relay_msg.h sendme_parse().  On error the
 * circuit MUST be closed (the queue may have been popped). */
CHIVE_MUST_CHECK chive_err_t sendme_circ_handle_sendme(sendme_circ_t *sc,
                                                       const uint8_t *body,
                                                       size_t len,
                                                       uint8_t accept_min);

/** Account for one RELAY_DATA cell received from this hop.  Returns
 * CHIVE_ERR_PROTO if the deliver window was already 0 (the peer ignored
 * our window: close the circuit).  On success set *<b>send_sendme</b> to
 * true iff a circuit SENDME is now due (window <= start - increment). */
CHIVE_MUST_CHECK chive_err_t sendme_circ_note_delivered(sendme_circ_t *sc,
                                                        bool *send_sendme);

/** Account for a circuit SENDME we sent: deliver window += increment. */
void sendme_circ_note_sendme_sent(sendme_circ_t *sc);

/** Return the package window. */
int32_t sendme_circ_package_window(const sendme_circ_t *sc);
/** Return the deliver window. */
int32_t sendme_circ_deliver_window(const sendme_circ_t *sc);
/** Return the number of digests waiting for a SENDME. */
size_t sendme_circ_n_pending(const sendme_circ_t *sc);

#endif /* !defined(CHIVE_CORE_CIRCUIT_SENDME_H) */
