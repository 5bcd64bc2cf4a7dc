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
 * has returned, then it is reaped on a later loop iteration.  Code that
 * holds on to a circuit across loop iterations without being its owner
 * (the control port) keeps its ocirc_id() and looks it up again with
 * circmgr_find_by_id().
 *
 * The manager is also the registry the control port and metrics read:
 * every circuit has a CircuitID, a planned path, a state, timestamps and
 * a close reason; an observer hears about every circuit and channel
 * state change; counters cover everything since the manager started.
 *
 * Back-pressure: when a channel's output queue passes its congestion
 * mark (channel.h) the circuits on it stop packaging data; when it
 * drains the manager gives the circuits on it fair rounds
 * (circuit_resume_round()), rotating which circuit goes first.
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

/** Where a circuit handle is in its life. */
typedef enum ocirc_state_t {
  OCIRC_STATE_LAUNCHED = 0, /**< waiting for its first-hop channel */
  OCIRC_STATE_BUILDING,     /**< handshakes in flight */
  OCIRC_STATE_BUILT,        /**< every planned hop is built */
  OCIRC_STATE_CLOSED,       /**< closed or failed; reaped soon */
} ocirc_state_t;
#define OCIRC_N_STATES 4

/** Circuit events for the observer (control-spec §4.1.1 names). */
typedef enum circmgr_circ_ev_t {
  CIRCMGR_CIRC_LAUNCHED = 0, /**< the handle was created */
  CIRCMGR_CIRC_EXTENDED,     /**< one more hop was built */
  CIRCMGR_CIRC_BUILT,        /**< every planned hop is built */
  CIRCMGR_CIRC_FAILED,       /**< closed before it was ever BUILT */
  CIRCMGR_CIRC_CLOSED,       /**< closed after it was BUILT */
  /** ocirc_set_purpose() changed the purpose (control-spec §4.1.22
   * PURPOSE_CHANGED); the reason argument is the old purpose. */
  CIRCMGR_CIRC_PURPOSE_CHANGED,
} circmgr_circ_ev_t;

/** Channel events for the observer (control-spec §4.1.3 ORCONN). */
typedef enum circmgr_chan_ev_t {
  CIRCMGR_CHAN_LAUNCHED = 0, /**< connecting */
  CIRCMGR_CHAN_CONNECTED,    /**< the link handshake completed */
  CIRCMGR_CHAN_FAILED,       /**< closed without ever opening */
  CIRCMGR_CHAN_CLOSED,       /**< closed after being open */
} circmgr_chan_ev_t;

/** Observer callbacks; each may be NULL.  They run synchronously from
 * inside the call that caused the change (circmgr_launch(),
 * ocirc_close(), a cell arriving, ...).  An observer reads the objects
 * through their accessors and MUST NOT close, free or launch anything
 * from inside a callback (defer that to the loop).  <b>reason</b> for
 * circuits is a destroy_reason_t (0 for LAUNCHED/EXTENDED/BUILT), with
 * <b>remote</b> true iff the network closed it; for channels it is a
 * channel_close_reason_t (0 unless FAILED/CLOSED). */
typedef struct circmgr_observer_t {
  void (*circ)(ocirc_t *oc, circmgr_circ_ev_t ev, uint8_t reason,
               bool remote, void *arg);
  void (*chan)(channel_t *ch, circmgr_chan_ev_t ev, int reason, void *arg);
} circmgr_observer_t;

/** Highest destroy_reason_t value counted by reason (tor-spec §5.4
 * lists 0..12); larger values count under CIRCMGR_REASON_OTHER. */
#define CIRCMGR_MAX_COUNTED_REASON 12
#define CIRCMGR_REASON_OTHER (CIRCMGR_MAX_COUNTED_REASON + 1)

/** Counters since the manager was created (monotonic, for metrics). */
typedef struct circmgr_stats_t {
  uint64_t circs_launched;
  uint64_t circs_built;     /**< first BUILT of each circuit */
  uint64_t circs_failed;    /**< closed before BUILT */
  uint64_t circs_closed;    /**< closed after BUILT */
  /** circs_failed split by destroy reason ([CIRCMGR_REASON_OTHER]:
   * reasons beyond the table). */
  uint64_t circs_failed_by_reason[CIRCMGR_REASON_OTHER + 1];
  uint64_t chans_launched;
  uint64_t chans_connected;
  uint64_t chans_failed;
  uint64_t chans_closed;
  /** Times a channel drained after being congested. */
  uint64_t chans_uncongested;
  /** Sum of first build times of built circuits, µs (with circs_built:
   * the mean). */
  uint64_t build_time_us_total;
} circmgr_stats_t;

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

/** Set (or with NULL clear) the observer; <b>obs</b> is copied. */
void circmgr_set_observer(circmgr_t *m, const circmgr_observer_t *obs,
                          void *arg);
/** Call <b>fn</b> on every circuit handle not yet closed, oldest first.
 * <b>fn</b> must not close or launch circuits. */
void circmgr_foreach(circmgr_t *m, void (*fn)(ocirc_t *oc, void *arg),
                     void *arg);
/** Call <b>fn</b> on every live channel (see channel_mgr_foreach()). */
void circmgr_foreach_channel(circmgr_t *m,
                             void (*fn)(channel_t *ch, void *arg),
                             void *arg);
/** The circuit handle with CircuitID <b>id</b>, or NULL if there is none
 * or it is closed. */
ocirc_t *circmgr_find_by_id(circmgr_t *m, uint32_t id);
/** Counters (borrowed; updated in place). */
const circmgr_stats_t *circmgr_stats(const circmgr_t *m);
/** Handles per ocirc_state_t: counts[OCIRC_N_STATES] (closed ones not
 * yet reaped are in counts[OCIRC_STATE_CLOSED]). */
void circmgr_count_states(const circmgr_t *m, size_t counts[OCIRC_N_STATES]);
/** Channels open (link handshake done, not closing). */
size_t circmgr_n_open_channels(const circmgr_t *m);
/** Ciphertext bytes read from / written to relays on every channel since
 * the manager started, closed channels included (TLS records as they
 * crossed the socket, so this counts TLS overhead too). */
uint64_t circmgr_bytes_read(const circmgr_t *m);
uint64_t circmgr_bytes_written(const circmgr_t *m);

/** The CircuitID: unique per manager, counting from 1, never reused
 * (control-spec §2.4 "CircuitID").  Not the wire circuit ID. */
uint32_t ocirc_id(const ocirc_t *oc);
ocirc_state_t ocirc_state(const ocirc_t *oc);
/** "LAUNCHED", "BUILDING", "BUILT", "CLOSED". */
const char *ocirc_state_name(ocirc_state_t st);
/** Hops planned, built or not (1 for a CREATE_FAST circuit). */
size_t ocirc_n_hops_planned(const ocirc_t *oc);
/** Hop <b>i</b> of the planned path (the info given to circmgr_launch or
 * ocirc_extend; for CREATE_FAST, the first hop's identities and address
 * only), or NULL if i >= ocirc_n_hops_planned().  Borrowed. */
const circuit_hop_info_t *ocirc_hop(const ocirc_t *oc, size_t i);
/** True iff built with CREATE_FAST (a one-hop directory circuit). */
bool ocirc_is_create_fast(const ocirc_t *oc);
circuit_purpose_t ocirc_purpose(const ocirc_t *oc);
/** Change the purpose (the circuit's too); the observer hears
 * CIRCMGR_CIRC_PURPOSE_CHANGED if it differs. */
void ocirc_set_purpose(ocirc_t *oc, circuit_purpose_t purpose);
/** Wall-clock time of launch (for TIME_CREATED): seconds since the
 * epoch, and microseconds within the second.  The injected clock has
 * a wall clock in seconds only, so *usec is 0 for now. */
void ocirc_launched_wall(const ocirc_t *oc, int64_t *sec, uint32_t *usec);
/** Monotonic time of launch, µs (manager's clock). */
uint64_t ocirc_launched_us(const ocirc_t *oc);
/** Time from the first handshake cell to BUILT the first time, µs; 0
 * if it was never built. */
uint64_t ocirc_build_time_us(const ocirc_t *oc);
/** Reason it closed (destroy_reason_t) and whether the network closed
 * it; 0 / false while not closed. */
uint8_t ocirc_close_reason(const ocirc_t *oc);
bool ocirc_closed_remotely(const ocirc_t *oc);
/** The first-hop channel's channel_id(). */
uint64_t ocirc_channel_id(const ocirc_t *oc);
/** Add a hop to a circuit that is building or built (EXTENDCIRCUIT,
 * control-spec §3.10): it is appended to the planned path and the
 * circuit goes back to BUILDING; the observer hears EXTENDED and BUILT
 * again; the owner's opened callback does not run a second time.
 * A circuit still waiting for its channel just gets a longer plan.
 * Errors: CHIVE_ERR_INVAL (closed or CREATE_FAST), CHIVE_ERR_LIMIT (too
 * many hops / RELAY_EARLY), or the circuit's error (it is then closed,
 * callbacks run). */
CHIVE_MUST_CHECK chive_err_t ocirc_extend(ocirc_t *oc,
                                          const circuit_hop_info_t *hop);

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
