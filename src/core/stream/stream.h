/**
 * @file stream.h
 * @brief Streams on origin circuits (tor-spec §6): BEGIN, BEGIN_DIR,
 * CONNECTED, DATA both ways, END with half-closed tracking,
 * RESOLVE/RESOLVED, and stream-level SENDME windows (§7.4).
 *
 * A stream_t belongs to its circuit: it is created on the circuit's last
 * built hop, is freed by the circuit, and never outlives it.  Its owner
 * (the SOCKS layer, the directory client, ...) gets events through a
 * stream_owner_t vtable.  The owner's stream_t pointer stays valid until
 * the owner calls stream_close() or its end callback returns, whichever
 * comes first; after that the owner MUST forget it.
 *
 * Writing: the owner either pushes with stream_write(), which accepts as
 * many bytes as the stream and circuit package windows allow (RELAY_DATA
 * cells of at most RELAY_PAYLOAD_LEN bytes) and later gets a writable
 * callback when a window reopens; or provides a pull callback, which the
 * stream calls whenever it has window to fill (after stream_kick(), a
 * SENDME, or CONNECTED).  While a window is 0 nothing is read from the
 * owner (tor-spec §7.3: "stops reading from TCP connections").
 *
 * Back-pressure: while the first-hop channel is congested
 * (circuit_sink_t.congested) nothing is packaged either.  When a window
 * reopens or the channel drains, the streams waiting to write get turns
 * round-robin, one cell each per turn: a pull owner is asked for one
 * cell, a push owner gets a writable callback inside which stream_write()
 * takes one cell (it is called again for the next turn).  So one bulk
 * stream cannot starve the others on its circuit.
 *
 * Reading: data callbacks deliver each RELAY_DATA body.  Stream SENDMEs
 * go out as the window drains (tor-spec §7.4) unless the owner said its
 * buffers are full with stream_set_recv_blocked().
 *
 * Optimistic data (tor-spec §6.2): a stream opened with
 * STREAM_OPEN_OPTIMISTIC accepts writes before CONNECTED; they go out as
 * DATA right after the BEGIN on the same circuit.  If END comes instead
 * of CONNECTED, stream_unconfirmed_bytes() tells the owner how much was
 * lost.
 *
 * Half-closed streams (tor-spec §6.3): after our END, DATA, SENDME,
 * CONNECTED, RESOLVED and END for the ID are dropped quietly (DATA still
 * counts against the circuit window, and a SENDME is sent for it as
 * usual) up to what the peer could legitimately still send; more closes
 * the circuit.  The ID is not reused until the peer's END or until it
 * must be evicted to make room.
 **/
#ifndef CHIVE_CORE_STREAM_STREAM_H
#define CHIVE_CORE_STREAM_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/proto/relay_cell.h"
#include "core/proto/relay_msg.h"
#include "lib/cc/cc.h"

typedef struct circuit_t circuit_t;
typedef struct stream_t stream_t;

/** Stream states. */
typedef enum stream_state_t {
  STREAM_STATE_CONNECT_WAIT = 0, /**< BEGIN / BEGIN_DIR sent. */
  STREAM_STATE_RESOLVE_WAIT,     /**< RESOLVE sent. */
  STREAM_STATE_OPEN,             /**< CONNECTED received. */
  STREAM_STATE_CLOSED,           /**< Done; the owner has been told or
                                  * has closed it. */
} stream_state_t;

/** Why the owner's end callback runs. */
typedef enum stream_end_source_t {
  STREAM_END_BY_PEER = 0, /**< RELAY_END received; reason is theirs. */
  STREAM_END_BY_CIRCUIT,  /**< The circuit closed (END_REASON_DESTROY). */
  STREAM_END_BY_PROTOCOL, /**< The peer broke the stream protocol; we
                           * sent END (END_REASON_TORPROTOCOL). */
} stream_end_source_t;

/** Flags for stream_open(). */
/** Send data before CONNECTED (tor-spec §6.2, optimistic data). */
#define STREAM_OPEN_OPTIMISTIC 0x1u

/** Owner callbacks.  Every member may be NULL. */
typedef struct stream_owner_t {
  /** CONNECTED arrived (<b>info</b>: address and TTL; all zero after
   * BEGIN_DIR, whose payload is ignored, tor-spec §6.2.1). */
  void (*connected)(stream_t *st, const connected_t *info, void *arg);
  /** <b>len</b> bytes of stream data arrived (borrowed). */
  void (*data)(stream_t *st, const uint8_t *data, size_t len, void *arg);
  /** The stream ended; <b>reason</b> is an end_reason_t (or an unknown
   * value from the peer); <b>end</b> is the parsed END for
   * STREAM_END_BY_PEER, else NULL.  The stream is gone after this
   * returns. */
  void (*end)(stream_t *st, stream_end_source_t source, uint8_t reason,
              const end_t *end, void *arg);
  /** RESOLVED arrived for a stream_resolve() stream; the stream is gone
   * after this returns. */
  void (*resolved)(stream_t *st, const resolved_t *answers, void *arg);
  /** Pull model: copy up to <b>max</b> bytes to send into <b>buf</b>
   * and return how many (0 = nothing now; call stream_kick() later). */
  size_t (*pull)(stream_t *st, uint8_t *buf, size_t max, void *arg);
  /** Push model: a window that stopped stream_write() reopened. */
  void (*writable)(stream_t *st, void *arg);
} stream_owner_t;

/** Open a directory stream (RELAY_BEGIN_DIR, tor-spec §6.2.1) on the
 * last built hop of <b>circ</b>.  <b>owner</b> is copied, <b>arg</b>
 * passed to it.  On success set *<b>out</b> (owned by the circuit; see
 * the file comment) and return CHIVE_OK.  Returns CHIVE_ERR_INVAL if the
 * circuit has no built hop or is closed, CHIVE_ERR_LIMIT if it has
 * params.max_streams streams (open or half-closed), CHIVE_ERR_NOMEM, or
 * the send error (the circuit is then closed). */
CHIVE_MUST_CHECK chive_err_t stream_open_dir(circuit_t *circ,
                                             const stream_owner_t *owner,
                                             void *arg, uint64_t now_us,
                                             stream_t **out);

/** Open an exit stream (RELAY_BEGIN, tor-spec §6.2) to
 * <b>host</b>:<b>port</b> (hostname, dotted quad, IPv6 literal, or ""
 * for an onion service) with BEGIN_FLAG_* <b>begin_flags</b> and
 * STREAM_OPEN_* <b>open_flags</b>.  Same contract as stream_open_dir();
 * CHIVE_ERR_INVAL also for a host or port BEGIN cannot carry. */
CHIVE_MUST_CHECK chive_err_t stream_open(circuit_t *circ, const char *host,
                                         uint16_t port, uint32_t begin_flags,
                                         uint32_t open_flags,
                                         const stream_owner_t *owner,
                                         void *arg, uint64_t now_us,
                                         stream_t **out);

/** Resolve <b>name</b> (tor-spec §6.4; a reverse lookup uses an
 * in-addr.arpa / ip6.arpa name).  The answer comes to the resolved
 * callback (or end, on failure).  Same contract as stream_open_dir(). */
CHIVE_MUST_CHECK chive_err_t stream_resolve(circuit_t *circ, const char *name,
                                            const stream_owner_t *owner,
                                            void *arg, uint64_t now_us,
                                            stream_t **out);

/** Push up to <b>len</b> bytes: packages RELAY_DATA cells while the
 * stream and circuit windows allow and sets *<b>n_written</b> to the
 * bytes taken (possibly 0; the owner keeps the rest and waits for the
 * writable callback).  Returns CHIVE_ERR_INVAL if the stream is not open
 * (or connecting with STREAM_OPEN_OPTIMISTIC), CHIVE_ERR_CLOSED if the
 * circuit closed meanwhile, or a send error. */
CHIVE_MUST_CHECK chive_err_t stream_write(stream_t *st, const uint8_t *data,
                                          size_t len, size_t *n_written,
                                          uint64_t now_us);

/** Pull model: the owner has data; the stream pulls while windows
 * allow. */
void stream_kick(stream_t *st, uint64_t now_us);

/** Close the stream from our side: send RELAY_END with <b>reason</b>
 * (END_REASON_DONE for a normal close, END_REASON_MISC otherwise;
 * tor-spec §6.3 "SHOULD NOT send any reason except REASON_MISC" applies
 * to exits' view, tor itself sends DONE) and remember the stream ID as
 * half-closed.  No end callback runs.  The owner MUST forget <b>st</b>.
 * Safe on a stream already closed by the peer (then only frees). */
void stream_close(stream_t *st, uint8_t reason, uint64_t now_us);

/** Tell the stream whether the owner can take more data.  While blocked
 * the stream sends no stream-level SENDMEs, so the peer stops after the
 * window (tor-spec §7.4 b).  Unblocking sends the SENDMEs owed. */
void stream_set_recv_blocked(stream_t *st, bool blocked, uint64_t now_us);

/* ---- Accessors ------------------------------------------------------- */

uint16_t stream_id(const stream_t *st);
stream_state_t stream_state(const stream_t *st);
const char *stream_state_name(stream_state_t state);
/** The circuit the stream is on (borrowed). */
circuit_t *stream_circuit(const stream_t *st);
/** The hop the stream is attached to. */
size_t stream_hop(const stream_t *st);
int32_t stream_package_window(const stream_t *st);
int32_t stream_deliver_window(const stream_t *st);
/** True iff a RELAY_DATA cell could be sent now (state and windows). */
bool stream_can_write(const stream_t *st);
uint64_t stream_bytes_sent(const stream_t *st);
uint64_t stream_bytes_received(const stream_t *st);
/** Optimistic data (tor-spec §6.2) the exit never confirmed: the bytes
 * written before CONNECTED, as long as no CONNECTED arrived.  In an end
 * callback (the exit sent END instead of CONNECTED, or the circuit died
 * first) a nonzero value means those bytes were NOT delivered: an owner
 * that retries elsewhere must resend them, so it keeps a copy of what it
 * wrote until the connected callback. */
uint64_t stream_unconfirmed_bytes(const stream_t *st);

#endif /* !defined(CHIVE_CORE_STREAM_STREAM_H) */
