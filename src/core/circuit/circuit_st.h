/**
 * @file circuit_st.h
 * @brief The circuit_t structure, for core/circuit and core/stream only.
 *
 * Nothing outside those two directories may include this file.
 **/
#ifndef CHIVE_CORE_CIRCUIT_CIRCUIT_ST_H
#define CHIVE_CORE_CIRCUIT_CIRCUIT_ST_H

#include "core/circuit/circuit.h"
#include "core/circuit/sendme.h"
#include "core/crypto/onion_fast.h"
#include "core/crypto/onion_ntor.h"
#include "core/crypto/onion_ntor_v3.h"
#include "core/crypto/relay_crypto.h"

/** Hooks the stream layer (core/stream) installs on a circuit the first
 * time a stream is opened on it.  core/circuit never includes
 * core/stream: it reaches streams only through these. */
typedef struct circuit_stream_ops_t {
  /** A stream-level relay message (stream id != 0) from hop <b>hop</b>;
   * RELAY_DATA has been counted against the circuit window.  Return
   * CHIVE_ERR_PROTO to close the circuit. */
  chive_err_t (*handle_relay)(circuit_t *circ, size_t hop,
                              const relay_cell_t *msg, uint64_t now_us);
  /** The circuit closed: end every stream (owners told). */
  void (*circuit_closed)(circuit_t *circ);
  /** The circuit package window toward <b>hop</b> reopened. */
  void (*resume)(circuit_t *circ, size_t hop, uint64_t now_us);
  /** Free streams that are done (no callback on the stack). */
  void (*reap)(circuit_t *circ);
  /** Free the whole table (circuit being freed; no callbacks). */
  void (*free_all)(circuit_t *circ);
  size_t (*n_live)(const circuit_t *circ);
  size_t (*n_half_closed)(const circuit_t *circ);
  /** One fair round after the channel drained (circuit_resume_round);
   * true iff data was sent. */
  bool (*resume_round)(circuit_t *circ, uint64_t now_us);
} circuit_stream_ops_t;

struct stream_table_t;

/** Magic number of a live circuit_t. */
#define CIRCUIT_MAGIC 0x43495243u /* "CIRC" */

/** Where one hop is in its life. */
typedef enum circuit_hop_state_t {
  HOP_STATE_PENDING = 0,    /**< Queued; no handshake sent yet. */
  HOP_STATE_AWAIT_CREATED,  /**< CREATE_FAST / CREATE2 sent. */
  HOP_STATE_AWAIT_EXTENDED, /**< EXTEND2 sent. */
  HOP_STATE_OPEN,           /**< Keys in place. */
} circuit_hop_state_t;

/** Handshake kinds. */
typedef enum circuit_hs_kind_t {
  CIRCUIT_HS_FAST = 0,
  CIRCUIT_HS_NTOR,
  CIRCUIT_HS_NTOR_V3,
} circuit_hs_kind_t;

/** One hop.  Heap-allocated per hop; wiped on free. */
typedef struct circuit_hop_t {
  circuit_hop_state_t state;
  circuit_hs_kind_t kind;
  circuit_hop_info_t info; /**< Unused for CREATE_FAST. */
  union {
    onion_fast_client_t fast;
    onion_ntor_client_t ntor;
    onion_ntor3_client_t ntor3;
  } hs; /**< Secret handshake state; wiped when the handshake ends. */
  relay_crypto_t crypto; /**< Valid once OPEN. */
  sendme_circ_t sendme;  /**< Circuit windows toward/from this hop. */
  uint64_t hs_started_us;
  uint64_t opened_us;
} circuit_hop_t;

struct circuit_t {
  uint32_t magic;
  circuit_state_t state;
  circuit_purpose_t purpose;
  uint32_t circ_id;
  circuit_sink_t sink;
  circuit_events_t ev;
  void *ev_arg;
  logger_t *lg;
  circuit_params_t params;

  circuit_hop_t *hops[CIRCUIT_MAX_HOPS]; /**< [0, n_hops) allocated. */
  size_t n_hops;                         /**< Built + pending. */
  size_t n_open; /**< Built: hops[0, n_open) are OPEN. */
  /** Pointers to hops[i]->crypto for relay_crypto_*; [0, n_open). */
  relay_crypto_t *crypto[CIRCUIT_MAX_HOPS];
  unsigned relay_early_left;
  bool sent_anything; /**< A cell went to the channel (DESTROY needed). */

  uint8_t close_reason;
  bool close_remote;

  uint64_t created_us;
  uint64_t build_started_us; /**< First handshake of the current build. */
  uint64_t build_time_us;    /**< First build's duration. */
  uint64_t opened_us;
  uint64_t dirty_us;
  circuit_stats_t stats;

  /** Depth of circuit/stream calls on the stack (callbacks may re-enter).
   * Frees wait until it is 0. */
  unsigned depth;
  bool free_pending;

  /** The stream layer's table and hooks; NULL until the first stream. */
  struct stream_table_t *streams;
  const circuit_stream_ops_t *stream_ops;
};

/** Note entry into a circuit/stream API call (callbacks may follow). */
void circuit_enter_(circuit_t *circ);
/** Leave an API call: at depth 0 reap closed streams and perform a
 * deferred free.  Returns true iff <b>circ</b> was freed. */
bool circuit_leave_(circuit_t *circ);
/** Mark that a stream was attached (sets the dirty time, counts it). */
void circuit_note_stream_attached_(circuit_t *circ, uint64_t now_us);
/** Close for a protocol violation detected at the stream layer. */
void circuit_close_protocol_(circuit_t *circ, uint64_t now_us);

#endif /* !defined(CHIVE_CORE_CIRCUIT_CIRCUIT_ST_H) */
