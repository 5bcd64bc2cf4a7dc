/**
 * @file circmgr.h
 * @brief Origin circuits on channels: launch a circuit to a first hop
 * (waiting for the channel's link handshake), route each channel cell to
 * its circuit by (channel, circuit ID), and tear circuits down when their
 * channel dies.
 *
 * This is the I/O-facing glue between core/channel (which owns sockets)
 * and the sans-I/O core/circuit state machines.  Circuits are addressed
 * by handles (ocirc_t); a handle stays valid until its closed callback
 * has returned, then it is reaped on a later loop iteration.
 **/
#ifndef CHIVE_CORE_CIRCMGR_CIRCMGR_H
#define CHIVE_CORE_CIRCMGR_CIRCMGR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/channel/channel.h"
#include "core/circuit/circuit.h"
#include "lib/cc/cc.h"
#include "lib/evloop/evloop.h"
#include "lib/log/log.h"
#include "lib/time/clock.h"

/** Most origin circuits a manager holds at once (policy). */
#define CIRCMGR_MAX_CIRCUITS 4096

typedef struct circmgr_t circmgr_t;
typedef struct ocirc_t ocirc_t;

/** Owner callbacks; each may be NULL. */
typedef struct ocirc_events_t {
  /** Every hop is built: the circuit is OPEN. */
  void (*opened)(ocirc_t *oc, void *arg);
  /** The circuit closed or could not be built (reason: a
   * destroy_reason_t).  Runs exactly once per handle, also when the
   * owner called ocirc_close(); the handle dies when it returns. */
  void (*closed)(ocirc_t *oc, uint8_t reason, bool remote, void *arg);
  /** A circuit-level relay message the circuit does not handle itself
   * (see circuit_events_t.relay_msg). */
  chive_err_t (*relay_msg)(ocirc_t *oc, size_t hop, const relay_cell_t *msg,
                           void *arg);
} ocirc_events_t;

typedef struct circmgr_config_t {
  evloop_t *loop;              /**< borrowed; required */
  const chive_clock_t *clock;  /**< borrowed; NULL: clock_system() */
  logger_t *log;               /**< borrowed; may be NULL */
  circuit_params_t params;     /**< copied; see circuit_params_default() */
  uint64_t handshake_timeout_ms; /**< channel handshake; 0: default */
} circmgr_config_t;

/** Create a manager with its own channel manager. */
CHIVE_MUST_CHECK chive_err_t circmgr_new(const circmgr_config_t *cfg,
                                         circmgr_t **out);
/** Close every circuit (closed callbacks run) and channel; free. */
void circmgr_free_(circmgr_t *m);
#define circmgr_free(m) CHIVE_FREE_AND_NULL(circmgr_t, circmgr_free_, (m))

/** Update the consensus-driven circuit parameters for new circuits. */
void circmgr_set_params(circmgr_t *m, const circuit_params_t *params);

/** Launch a circuit whose first hop is <b>first</b>.  With
 * <b>create_fast</b>, build one hop with CREATE_FAST (directory use;
 * <b>hops</b> is ignored).  Otherwise build <b>n_hops</b> hops from
 * <b>hops</b> (hops[0] must be the relay <b>first</b> names) with
 * CREATE2/EXTEND2.  The first cell goes out once the channel is open.
 * On success *<b>out</b> is a handle; no callback runs before this
 * returns.  Errors: CHIVE_ERR_LIMIT (too many circuits or hops),
 * CHIVE_ERR_NOMEM, or the channel manager's error. */
CHIVE_MUST_CHECK chive_err_t circmgr_launch(
    circmgr_t *m, const channel_target_t *first, bool create_fast,
    const circuit_hop_info_t *hops, size_t n_hops, circuit_purpose_t purpose,
    const ocirc_events_t *ev, void *arg, ocirc_t **out);

/** The circuit behind <b>oc</b>, or NULL while its channel is still
 * connecting or after it closed.  Borrowed. */
circuit_t *ocirc_circuit(const ocirc_t *oc);
/** Hops built so far, or when the circuit closed (0 if it never got a
 * channel).  Tells which relay a failed build was extending to. */
size_t ocirc_hops_built(const ocirc_t *oc);
/** True once the closed callback has run or is running. */
bool ocirc_is_closed(const ocirc_t *oc);
/** Close <b>oc</b> with <b>reason</b> (destroy_reason_t).  The closed
 * callback runs before this returns (unless it already ran). */
void ocirc_close(ocirc_t *oc, uint8_t reason);
/** The channel manager (for statistics and direct channel use). */
channel_mgr_t *circmgr_channels(const circmgr_t *m);
/** Number of live circuit handles. */
size_t circmgr_n_circuits(const circmgr_t *m);
/** Current monotonic time, µs, from the manager's clock. */
uint64_t circmgr_now_us(const circmgr_t *m);

#endif /* !defined(CHIVE_CORE_CIRCMGR_CIRCMGR_H) */
