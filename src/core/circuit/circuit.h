/**
 * @file circuit.h
 * @brief Origin circuits as a sans-I/O state machine: CREATE_FAST,
 * CREATE2 (ntor, ntor-v3), EXTEND2/EXTENDED2, relay-cell routing, circuit
 * windows with authenticated SENDMEs, DESTROY/TRUNCATED.
 *
 * chive is a client only, so every circuit here is an origin circuit.
 * A circuit never touches a socket: cells for its first-hop channel go to
 * a circuit_sink_t, cells from that channel come in through
 * circuit_handle_cell(), and the owner hears about progress through a
 * circuit_events_t vtable.  Time is an injected monotonic clock in
 * microseconds passed to every call that may need it.
 *
 * Lifecycle:
 *   circuit_new()                          state BUILDING, no hops
 *   circuit_create_fast() or
 *   circuit_extend_to(first hop)           CREATE_FAST / CREATE2 sent
 *   circuit_extend_to(more hops)...        queued; EXTEND2 sent in turn
 *   ... CREATED*, EXTENDED2 arrive ...     hop_added per hop; when no hop
 *                                          is pending: OPEN + opened
 *   stream_open*() (core/stream)           streams on an open hop
 *   circuit_mark_for_close() / DESTROY /
 *   TRUNCATED / protocol violation         CLOSED + closed callback
 *   circuit_free()
 *
 * Callbacks run synchronously from inside the circuit_* / stream_* call
 * that caused them.  A callback MAY call circuit_mark_for_close(),
 * circuit_free(), stream_close() and stream writes: frees requested from
 * inside a callback are deferred until the outermost call returns.  After
 * requesting circuit_free() the caller MUST NOT touch the circuit again.
 *
 * Peer misbehaviour never asserts: it closes the circuit with a reason
 * and the handler returns CHIVE_ERR_PROTO or CHIVE_ERR_CRYPTO.
 **/
#ifndef CHIVE_CORE_CIRCUIT_CIRCUIT_H
#define CHIVE_CORE_CIRCUIT_CIRCUIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/proto/cell.h"
#include "core/proto/relay_cell.h"
#include "lib/cc/cc.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"

/** Most hops a circuit may have (policy; tor-spec §5.6 bounds extension
 * through RELAY_EARLY to 8 cells, so 1 + 7 EXTEND2 fits). */
#define CIRCUIT_MAX_HOPS 8
/** Most RELAY_EARLY cells a client sends on one circuit (tor-spec §5.6:
 * relays close a circuit that carries more than 8). */
#define CIRCUIT_MAX_RELAY_EARLY 8
/** RELAY_EARLY cells kept back from ordinary cells so that an open
 * circuit can still be extended later (policy; tor-spec §5.6 asks that
 * the first ~8 non-first-hop cells go as RELAY_EARLY to hide the
 * circuit length). */
#define CIRCUIT_RELAY_EARLY_RESERVE 2
/** Default most streams (open + half-closed) per circuit (policy). */
#define CIRCUIT_DEFAULT_MAX_STREAMS 1024
/** Hard cap for circuit_params_t.max_streams: the stream-ID space. */
#define CIRCUIT_MAX_STREAMS_LIMIT 65535

typedef struct circuit_t circuit_t;

/** Circuit states. */
typedef enum circuit_state_t {
  /** A handshake is queued or in flight. */
  CIRCUIT_STATE_BUILDING = 0,
  /** Every requested hop is built. */
  CIRCUIT_STATE_OPEN = 1,
  /** Closed: nothing is sent or accepted any more. */
  CIRCUIT_STATE_CLOSED = 2,
} circuit_state_t;

/** What a circuit is for (set by its owner; informational here). */
typedef enum circuit_purpose_t {
  CIRCUIT_PURPOSE_GENERAL = 0, /**< Exit traffic. */
  CIRCUIT_PURPOSE_DIR_ONEHOP,  /**< One-hop directory fetch. */
  CIRCUIT_PURPOSE_DIR,         /**< Anonymous directory fetch. */
  CIRCUIT_PURPOSE_HS_CLIENT_HSDIR,
  CIRCUIT_PURPOSE_HS_CLIENT_INTRO,
  CIRCUIT_PURPOSE_HS_CLIENT_REND,
  CIRCUIT_PURPOSE_HS_SERVICE_INTRO,
  CIRCUIT_PURPOSE_HS_SERVICE_REND,
} circuit_purpose_t;

/** Where the circuit's cells go: the first-hop channel (or a test). */
typedef struct circuit_sink_t {
  /** Queue <b>cell</b> (circ_id already set) on the channel.  A failure
   * closes the circuit: CHIVE_ERR_LIMIT (queue full) with
   * DESTROY_REASON_RESOURCELIMIT, anything else with
   * DESTROY_REASON_CHANNEL_CLOSED.  The glue SHOULD therefore queue
   * rather than refuse. */
  chive_err_t (*send_cell)(void *arg, const cell_t *cell);
  void *arg;
  /** Optional back-pressure query: true while the channel's queue is
   * above its congestion mark.  While it says so no RELAY_DATA is
   * packaged (circuit_can_package() is false); control cells still go
   * to send_cell.  When it stops, the glue calls circuit_resume_round()
   * until it returns false or the channel is congested again. */
  bool (*congested)(void *arg);
} circuit_sink_t;

/** Owner notifications.  Every member may be NULL. */
typedef struct circuit_events_t {
  /** Hop number <b>n_hops</b> - 1 finished its handshake. */
  void (*hop_added)(circuit_t *circ, size_t n_hops, void *arg);
  /** No hop is pending any more: the circuit is OPEN. */
  void (*opened)(circuit_t *circ, void *arg);
  /** The circuit is closed.  <b>reason</b> is a destroy_reason_t;
   * <b>remote</b> is true iff a DESTROY or TRUNCATED caused it. */
  void (*closed)(circuit_t *circ, uint8_t reason, bool remote, void *arg);
  /** A recognized circuit-level relay message this module does not
   * handle (onion-service commands, ...) arrived from hop <b>hop</b>.
   * Return CHIVE_OK, or an error to close the circuit (PROTOCOL).  When
   * NULL such messages are dropped (tor-spec §6.1). */
  chive_err_t (*relay_msg)(circuit_t *circ, size_t hop,
                           const relay_cell_t *msg, void *arg);
} circuit_events_t;

/** Consensus-driven parameters (param-spec). */
typedef struct circuit_params_t {
  /** "circwindow": initial circuit package window, 100..1000. */
  unsigned circwindow;
  /** "sendme_emit_min_version".  We always emit v1 (FlowCtrl=1). */
  uint8_t sendme_emit_min_version;
  /** "sendme_accept_min_version": SENDMEs below it close the circuit. */
  uint8_t sendme_accept_min_version;
  /** Policy: most streams, open plus half-closed, on this circuit
   * (1..CIRCUIT_MAX_STREAMS_LIMIT). */
  size_t max_streams;
  /** First stream ID to try (0 = random).  For tests. */
  uint16_t first_stream_id;
  /** Prefer ntor-v3 for hops that support it (Relay=4). */
  bool use_ntor_v3;
} circuit_params_t;

/** Fill <b>p</b> with the defaults (param-spec defaults, except that we
 * require v1 SENDMEs as the live network does, ntor-v3 on). */
void circuit_params_default(circuit_params_t *p);

/** Length of a relay RSA identity digest, bytes. */
#define CIRCUIT_HOP_RSA_ID_LEN 20
/** Length of an Ed25519 identity, bytes. */
#define CIRCUIT_HOP_ED_ID_LEN 32
/** Length of an ntor onion key (curve25519), bytes. */
#define CIRCUIT_HOP_NTOR_KEY_LEN 32

/** What we need to know about a relay to extend to it (public data). */
typedef struct circuit_hop_info_t {
  bool has_ipv4;
  uint8_t ipv4[4]; /**< Network order. */
  uint16_t ipv4_port;
  bool has_ipv6;
  uint8_t ipv6[16];
  uint16_t ipv6_port;
  uint8_t rsa_id[CIRCUIT_HOP_RSA_ID_LEN];
  bool has_ed_id;
  uint8_t ed_id[CIRCUIT_HOP_ED_ID_LEN];
  uint8_t ntor_onion_key[CIRCUIT_HOP_NTOR_KEY_LEN];
  /** The relay lists Relay=4 (ntor-v3).  ntor-v3 also needs ed_id. */
  bool supports_ntor_v3;
} circuit_hop_info_t;

/** Counters (monotonic over the circuit's life). */
typedef struct circuit_stats_t {
  uint64_t cells_sent;
  uint64_t cells_received;
  uint64_t data_bytes_sent;     /**< RELAY_DATA payload bytes. */
  uint64_t data_bytes_received; /**< RELAY_DATA payload bytes. */
  uint64_t sendmes_sent;
  uint64_t sendmes_received;
  uint64_t streams_opened;
  uint64_t cells_dropped; /**< Recognized but ignored. */
} circuit_stats_t;

/** Create a circuit in state BUILDING with no hops.  <b>params</b>,
 * <b>sink</b> and <b>events</b> are copied (events may be NULL);
 * <b>arg</b> is passed to the events; <b>lg</b> is borrowed (NULL =
 * discard) and must outlive the circuit.  <b>circ_id</b> is the nonzero
 * ID on the first-hop channel (chosen by the channel).  Returns
 * CHIVE_ERR_INVAL for a zero circ_id or NULL sink, CHIVE_ERR_NOMEM.
 * Free with circuit_free(). */
CHIVE_MUST_CHECK chive_err_t circuit_new(const circuit_params_t *params,
                                         circuit_purpose_t purpose,
                                         uint32_t circ_id,
                                         const circuit_sink_t *sink,
                                         const circuit_events_t *events,
                                         void *arg, logger_t *lg,
                                         uint64_t now_us, circuit_t **out);

/** Release <b>circ</b>.  NULL is a no-op.  If the circuit is not yet
 * closed it is closed first (DESTROY sent, streams told, closed
 * callback run), reason FINISHED.  Inside a callback the free is
 * deferred until the outermost circuit/stream call returns. */
void circuit_free_(circuit_t *circ);
#define circuit_free(p) CHIVE_FREE_AND_NULL(circuit_t, circuit_free_, (p))

/** Build the first hop with CREATE_FAST (tor-spec §5.1.5): only for
 * one-hop directory circuits, whose security rests on the TLS link.
 * Returns CHIVE_ERR_INVAL if the circuit already has a hop or is
 * closed, CHIVE_ERR_CRYPTO if the RNG fails (nothing changes then), or
 * the sink's error (the circuit is then closed). */
CHIVE_MUST_CHECK chive_err_t circuit_create_fast(circuit_t *circ,
                                                 uint64_t now_us);

/** Queue a hop to <b>hop</b> (copied).  The first hop is built with
 * CREATE2, later ones with EXTEND2 in RELAY_EARLY (tor-spec §5.1.2,
 * §5.6); the handshake is ntor-v3 when params.use_ntor_v3 and the relay
 * supports it and has an Ed25519 ID, else ntor.  If no handshake is in
 * flight it starts now.  Callable while BUILDING or OPEN (an open
 * circuit goes back to BUILDING).  Returns CHIVE_ERR_LIMIT if the circuit
 * would exceed CIRCUIT_MAX_HOPS or the RELAY_EARLY budget,
 * CHIVE_ERR_INVAL if closed, CHIVE_ERR_NOMEM; nothing changes then.
 * If starting the handshake fails the circuit is closed and the error
 * returned. */
CHIVE_MUST_CHECK chive_err_t circuit_extend_to(circuit_t *circ,
                                               const circuit_hop_info_t *hop,
                                               uint64_t now_us);

/** Process one cell the first-hop channel received for this circuit
 * (fixed-size: CREATED_FAST, CREATED2, RELAY, RELAY_EARLY, DESTROY, ...).
 * Returns CHIVE_OK if it was consumed (a DESTROY closes the circuit and
 * returns CHIVE_OK); CHIVE_ERR_PROTO / CHIVE_ERR_CRYPTO if the peer broke
 * the protocol (the circuit is closed); CHIVE_ERR_CLOSED if the circuit
 * was already closed (the cell is ignored, tor-spec §5.4). */
CHIVE_MUST_CHECK chive_err_t circuit_handle_cell(circuit_t *circ,
                                                 const cell_t *cell,
                                                 uint64_t now_us);

/** The first-hop channel died: close with DESTROY_REASON_CHANNEL_CLOSED,
 * sending nothing. */
void circuit_handle_channel_closed(circuit_t *circ, uint64_t now_us);

/** Close <b>circ</b> for <b>reason</b> (a destroy_reason_t, reported to
 * the owner).  Sends DESTROY with reason NONE if anything was sent
 * (tor-spec §5.4: "An OP should always use the NONE reason"), ends every
 * stream (owners get their end callback), runs the closed callback.
 * Idempotent. */
void circuit_mark_for_close(circuit_t *circ, uint8_t reason, uint64_t now_us);

/** Send a relay message from the origin to hop <b>hop</b> (0-based; the
 * hop must be built): command <b>cmd</b>, stream <b>stream_id</b>,
 * <b>len</b> <= RELAY_PAYLOAD_LEN bytes of <b>body</b>.  RELAY_DATA cells
 * consume the hop's circuit package window (the caller MUST check
 * circuit_can_package() first; streams do).  Chooses RELAY_EARLY as
 * tor-spec §5.6 says.  Returns CHIVE_ERR_INVAL (BUG) for bad arguments,
 * CHIVE_ERR_CLOSED if closed, CHIVE_ERR_LIMIT if an EXTEND2 finds no
 * RELAY_EARLY left, or the sink's error (the circuit is then closed). */
CHIVE_MUST_CHECK chive_err_t circuit_send_relay(circuit_t *circ, size_t hop,
                                                uint8_t cmd,
                                                uint16_t stream_id,
                                                const uint8_t *body,
                                                size_t len, uint64_t now_us);

/** Return true iff a RELAY_DATA cell to <b>hop</b> may be sent now: the
 * circuit is not closed, the hop is built, its circuit package window is
 * open (tor-spec §7.3) and the first-hop channel is not congested. */
bool circuit_can_package(const circuit_t *circ, size_t hop);
/** True iff the sink reports its channel congested. */
bool circuit_is_blocked_on_channel(const circuit_t *circ);
/** The first-hop channel drained (back-pressure released): give every
 * stream waiting to write one turn, round-robin from where the previous
 * turn stopped: a pull owner is asked for one cell, a push owner whose
 * last write was cut short gets its writable callback.  Stops early
 * when the channel congests again.  Returns true iff some stream sent
 * data (the caller may call again for another round). */
bool circuit_resume_round(circuit_t *circ, uint64_t now_us);

/** Return true iff <b>cmd</b> may arrive from the channel for a circuit
 * in <b>state</b> whose first hop is awaiting <b>awaiting</b> (the reply
 * command CELL_CREATED_FAST or CELL_CREATED2, or 0 when no first-hop
 * handshake is in flight) and has <b>n_open_hops</b> built hops.  The
 * single place deciding which cells are legal when (STYLE §2.9). */
bool circuit_cell_allowed(circuit_state_t state, uint8_t awaiting,
                          size_t n_open_hops, uint8_t cmd);

/* ---- Accessors ------------------------------------------------------- */

circuit_state_t circuit_state(const circuit_t *circ);
const char *circuit_state_name(circuit_state_t state);
circuit_purpose_t circuit_purpose(const circuit_t *circ);
void circuit_set_purpose(circuit_t *circ, circuit_purpose_t purpose);
uint32_t circuit_circ_id(const circuit_t *circ);
/** Built hops. */
size_t circuit_n_hops(const circuit_t *circ);
/** Built plus pending hops. */
size_t circuit_n_hops_planned(const circuit_t *circ);
/** RELAY_EARLY cells still available. */
unsigned circuit_relay_early_left(const circuit_t *circ);
/** Reason given when closed (destroy_reason_t), 0 while not closed. */
uint8_t circuit_close_reason(const circuit_t *circ);
/** True iff closed by a DESTROY or TRUNCATED from the network. */
bool circuit_closed_remotely(const circuit_t *circ);
/** Monotonic time of circuit_new(), µs. */
uint64_t circuit_created_us(const circuit_t *circ);
/** Time from the first handshake cell to the circuit becoming OPEN the
 * first time, µs; 0 if it never opened.  For the circuit build timeout
 * learner (path-spec §2.4). */
uint64_t circuit_build_time_us(const circuit_t *circ);
/** Time the current build has been running (first handshake sent until
 * <b>now_us</b>), µs; 0 unless BUILDING.  For build timeouts. */
uint64_t circuit_build_elapsed_us(const circuit_t *circ, uint64_t now_us);
/** Monotonic time the first stream was attached (the circuit became
 * "dirty"), µs; 0 if never. */
uint64_t circuit_dirty_since_us(const circuit_t *circ);
/** Counters. */
const circuit_stats_t *circuit_stats(const circuit_t *circ);
/** Circuit package / deliver windows toward hop <b>hop</b> (-1 if no
 * such built hop). */
int32_t circuit_package_window(const circuit_t *circ, size_t hop);
int32_t circuit_deliver_window(const circuit_t *circ, size_t hop);
/** Number of streams (open, connecting or resolving) on the circuit. */
size_t circuit_n_streams(const circuit_t *circ);
/** Number of half-closed stream IDs remembered. */
size_t circuit_n_half_closed(const circuit_t *circ);
/** The logger (may be NULL). */
logger_t *circuit_logger(const circuit_t *circ);

#endif /* !defined(CHIVE_CORE_CIRCUIT_CIRCUIT_H) */
