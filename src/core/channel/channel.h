/**
 * @file channel.h
 * @brief Channels (TLS connections to relays that speak the link
 * protocol) and the channel manager that owns them.
 *
 * A channel_t is the I/O glue around the sans-I/O channel_sm_t: it opens
 * TCP + TLS to a relay (lib/tls tls_stream on the embedder's event loop),
 * moves bytes between the socket and the state machine through bounded
 * queues, enforces the handshake timeout and closes idle channels.  The
 * channel manager reuses an open (or opening) channel to the same relay
 * RSA identity.
 *
 * Lifetime: channels are owned by their manager.  Nobody frees a channel
 * directly: channel_mark_for_close() closes it at once (no more cells in
 * or out) and the manager's reaper frees it on a later loop iteration,
 * after calling the on_closed callback.  Hold a channel across loop
 * iterations only by its channel_id() and look it up again with
 * channel_mgr_get_by_id() (STYLE §2.7: cross-references that can dangle
 * are IDs).
 *
 * Callbacks (on_open, on_cell, on_closed) run from the event loop, never
 * from inside a channel_* call.  Inside them the callee may send cells,
 * mark channels for close and call the manager; it must not free the
 * manager.  Threading: every call on the loop's thread.
 **/
#ifndef CHIVE_CORE_CHANNEL_CHANNEL_H
#define CHIVE_CORE_CHANNEL_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/channel/channel_sm.h"
#include "core/proto/cell.h"
#include "lib/cc/cc.h"
#include "lib/evloop/evloop.h"
#include "lib/log/log.h"
#include "lib/net/address.h"
#include "lib/time/clock.h"

typedef struct channel_t channel_t;
typedef struct channel_mgr_t channel_mgr_t;

/** A channel that has carried no cell and has no circuit IDs allocated
 * for this long is closed (tor-spec §2: "Either side MAY close a
 * connection if there are no circuits running over it and an amount of
 * time (KeepalivePeriod, defaults to 5 minutes) has passed"). */
#define CHANNEL_IDLE_TIMEOUT_MS (5 * 60 * 1000)
/** How often idle channels are looked for. */
#define CHANNEL_IDLE_CHECK_MS 10000
/** Most channels a manager holds (policy). */
#define CHANNEL_MGR_MAX_CHANNELS 1024
/** Back-pressure: a channel with at least this many bytes waiting for
 * the socket (state-machine queue plus TLS queue) is "congested": the
 * circuits on it stop packaging RELAY_DATA until it drains.  Control
 * cells are still accepted up to the hard limit
 * (CHANNEL_SM_DEFAULT_OUT_MAX). */
#define CHANNEL_CONGESTED_HIGH_BYTES (128 * 1024)
/** A congested channel is uncongested again (on_uncongested runs) once
 * no more than this many bytes wait. */
#define CHANNEL_CONGESTED_LOW_BYTES (32 * 1024)

/** Where to connect and whom to expect there. */
typedef struct channel_target_t {
  net_addrport_t addr;
  uint8_t rsa_id[CHANNEL_RSA_ID_LEN];
  bool has_ed_id;
  uint8_t ed_id[CHANNEL_ED_ID_LEN];
} channel_target_t;

/** Event callbacks, shared by every channel of a manager (the circuit
 * layer dispatches on channel_id() and the cell's circ_id). */
typedef struct channel_callbacks_t {
  /** The handshake completed; the channel is OPEN. */
  void (*on_open)(channel_t *chan, void *arg);
  /** A cell for the circuit layer arrived on an open channel.
   * <b>cell</b> is borrowed for the call. */
  void (*on_cell)(channel_t *chan, const cell_t *cell, void *arg);
  /** The channel closed (reason in channel_close_reason()).  Runs once,
   * from the reaper, just before the channel is freed: <b>chan</b> is
   * valid only during the call. */
  void (*on_closed)(channel_t *chan, void *arg);
  /** Optional.  A new channel was created and started connecting.  The
   * one exception to "never from inside a channel_* call": this runs
   * synchronously from inside channel_mgr_get(), before it returns; the
   * callee must not close the channel or call the manager. */
  void (*on_launched)(channel_t *chan, void *arg);
  /** Optional.  The channel was congested (channel_is_congested()) and
   * has drained to CHANNEL_CONGESTED_LOW_BYTES or less: circuits on it
   * may package data again.  Runs from the event loop. */
  void (*on_uncongested)(channel_t *chan, void *arg);
} channel_callbacks_t;

typedef struct channel_mgr_config_t {
  evloop_t *loop;                /**< borrowed; required */
  const chive_clock_t *clock;    /**< borrowed; NULL: clock_system() */
  logger_t *log;                 /**< borrowed; may be NULL */
  channel_callbacks_t cbs;       /**< copied */
  void *cb_arg;
  uint64_t handshake_timeout_ms; /**< 0: CHANNEL_HANDSHAKE_TIMEOUT_MS */
  uint64_t idle_timeout_ms;      /**< 0: CHANNEL_IDLE_TIMEOUT_MS */
  uint64_t idle_check_ms;        /**< 0: CHANNEL_IDLE_CHECK_MS */
  size_t max_channels;           /**< 0: CHANNEL_MGR_MAX_CHANNELS */
} channel_mgr_config_t;

/** Create a manager.  On success set *<b>out</b> (free with
 * channel_mgr_free()).  CHIVE_ERR_INVAL without a loop, NOMEM. */
CHIVE_MUST_CHECK chive_err_t channel_mgr_new(const channel_mgr_config_t *cfg,
                                             channel_mgr_t **out);
/** Close and free every channel (on_closed runs for each), then the
 * manager.  NULL is a no-op.  Not from inside a channel callback. */
void channel_mgr_free_(channel_mgr_t *mgr);
#define channel_mgr_free(m) \
  CHIVE_FREE_AND_NULL(channel_mgr_t, channel_mgr_free_, (m))

/** Return a channel to <b>target</b>'s RSA identity: an existing open or
 * opening one (reuse; its address may differ), or a new one that starts
 * connecting now.  An existing channel whose Ed25519 identity is known and
 * differs from target's is not reused.  On success set *<b>out</b>
 * (borrowed).  Errors: CHIVE_ERR_LIMIT (too many channels), CHIVE_ERR_IO
 * (connect failed at once), CHIVE_ERR_NOMEM, CHIVE_ERR_INVAL. */
CHIVE_MUST_CHECK chive_err_t channel_mgr_get(channel_mgr_t *mgr,
                                             const channel_target_t *target,
                                             channel_t **out);
/** The live (not closing) channel to <b>rsa_id</b>, or NULL. */
channel_t *channel_mgr_find(const channel_mgr_t *mgr,
                            const uint8_t rsa_id[CHANNEL_RSA_ID_LEN]);
/** The live channel with id <b>id</b>, or NULL. */
channel_t *channel_mgr_get_by_id(const channel_mgr_t *mgr, uint64_t id);
/** Number of live channels (open or still connecting). */
size_t channel_mgr_n_channels(const channel_mgr_t *mgr);
/** Number of live channels that are OPEN. */
size_t channel_mgr_n_open(const channel_mgr_t *mgr);
/** Call <b>fn</b> on every live (not closing) channel, in creation
 * order.  <b>fn</b> must not close channels or create new ones. */
void channel_mgr_foreach(channel_mgr_t *mgr,
                         void (*fn)(channel_t *chan, void *arg), void *arg);
/** Ciphertext (TLS record) bytes read from / written to the sockets of
 * every channel this manager ever had, including closed ones. */
uint64_t channel_mgr_bytes_read(const channel_mgr_t *mgr);
uint64_t channel_mgr_bytes_written(const channel_mgr_t *mgr);

/** Close <b>chan</b> with <b>reason</b>: no cell is delivered or accepted
 * afterwards; cells already queued are flushed best-effort for a
 * REQUESTED/IDLE close.  Freed later by the reaper (after on_closed).
 * Idempotent. */
void channel_mark_for_close(channel_t *chan, channel_close_reason_t reason);

/** Send a fixed-length cell on an open channel.  CHIVE_ERR_LIMIT if the
 * output queues are full (the hard limit; data senders stop at the
 * congestion mark long before), CHIVE_ERR_CLOSED if closing,
 * CHIVE_ERR_INVAL if not open yet.  May make the channel congested. */
CHIVE_MUST_CHECK chive_err_t channel_send_cell(channel_t *chan,
                                               const cell_t *cell);
/** Send a variable-length cell (same rules). */
CHIVE_MUST_CHECK chive_err_t channel_send_var_cell(channel_t *chan,
                                                   const var_cell_t *cell);
/** Ask the relay to stop (or restart) link padding (link protocol 5;
 * tor-spec §7.2). */
CHIVE_MUST_CHECK chive_err_t channel_send_padding_negotiate(
    channel_t *chan, bool start, uint16_t ito_low_ms, uint16_t ito_high_ms);

/** Allocate / release a circuit ID (tor-spec §5.1.1); see circid.h.  A
 * channel with circuit IDs allocated is never idle-closed. */
CHIVE_MUST_CHECK chive_err_t channel_alloc_circ_id(channel_t *chan,
                                                   uint32_t *out);
bool channel_release_circ_id(channel_t *chan, uint32_t id);

uint64_t channel_id(const channel_t *chan);
channel_state_t channel_state(const channel_t *chan);
bool channel_is_open(const channel_t *chan);
/** True once marked for close. */
bool channel_is_closing(const channel_t *chan);
/** True iff the link handshake ever completed (distinguishes a channel
 * that failed from one that closed after being open). */
bool channel_was_open(const channel_t *chan);
/** True while the channel is congested (see
 * CHANNEL_CONGESTED_HIGH_BYTES): do not package data for it. */
bool channel_is_congested(const channel_t *chan);
/** Bytes waiting to go to the socket: the state machine's queue plus
 * the TLS output queue. */
size_t channel_queued_bytes(const channel_t *chan);
channel_close_reason_t channel_close_reason(const channel_t *chan);
/** Static detail text on why it closed ("" if open). */
const char *channel_close_detail(const channel_t *chan);
unsigned channel_link_proto(const channel_t *chan);
const channel_target_t *channel_target(const channel_t *chan);
/** Verified identities (NULL before CERTS). */
const channel_peer_ids_t *channel_peer_ids(const channel_t *chan);
/** The relay's NETINFO data (NULL before OPEN). */
const channel_netinfo_result_t *channel_netinfo(const channel_t *chan);
/** TLS protocol and cipher names, for logs ("" before TLS is up). */
const char *channel_tls_version(const channel_t *chan);
const char *channel_tls_cipher(const channel_t *chan);
/** Ciphertext bytes read/written on the socket. */
uint64_t channel_bytes_read(const channel_t *chan);
uint64_t channel_bytes_written(const channel_t *chan);

#endif /* !defined(CHIVE_CORE_CHANNEL_CHANNEL_H) */
