/**
 * @file channel_sm.h
 * @brief The client side of Tor's link protocol as a sans-I/O state
 * machine (tor-spec §4, STYLE §2.9).
 *
 * A channel_sm_t consumes the plaintext bytes that arrive over TLS and
 * produces the plaintext bytes to send back; it never sees a socket, a
 * timer or the event loop.  Time comes in as arguments (monotonic
 * milliseconds for the handshake deadline, wall-clock seconds for
 * certificate validity and clock skew), so tests drive it with a fake
 * clock and a fake relay.
 *
 * Handshake (tor-spec §4, "in-protocol" handshake; we never
 * authenticate):
 *
 *   TLS_HANDSHAKING --channel_sm_tls_done()--> SENT_VERSIONS (our VERSIONS
 *   queued, offering 4 and 5) --VERSIONS--> GOT_VERSIONS --CERTS
 *   (verified, channel_certs.h)--> GOT_CERTS --AUTH_CHALLENGE (ignored: we
 *   do not authenticate)--> GOT_AUTH_CHALLENGE --NETINFO (ours queued)-->
 *   OPEN.  Any violation --> CLOSED(reason).  VPADDING may come anywhere.
 *
 * channel_cell_allowed() is the single table of which command is legal in
 * which state.  Once OPEN, cells for circuits (CREATED*, RELAY*,
 * DESTROY, ...) are returned to the caller one at a time by
 * channel_sm_process(); PADDING/VPADDING are dropped.  A relay's
 * PADDING_NEGOTIATE closes the channel (padding-spec §2.5: "Clients ...
 * MUST reject padding negotiation messages from relays"); we can send
 * one with channel_sm_send_padding_negotiate().
 *
 * Errors are sticky: once CLOSED, every call returns CHIVE_ERR_CLOSED and
 * touches nothing.
 **/
#ifndef CHIVE_CORE_CHANNEL_CHANNEL_SM_H
#define CHIVE_CORE_CHANNEL_CHANNEL_SM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/channel/channel_certs.h"
#include "core/channel/circid.h"
#include "core/proto/cell.h"
#include "lib/buf/buf.h"
#include "lib/cc/cc.h"
#include "lib/log/log.h"
#include "lib/net/address.h"

/** Link protocols we offer (tor-spec §4.1); the highest in common wins. */
#define CHANNEL_LINK_PROTO_LOW 4
#define CHANNEL_LINK_PROTO_HIGH 5
/** Whole handshake (TCP + TLS + link cells) must finish within this. */
#define CHANNEL_HANDSHAKE_TIMEOUT_MS 30000
/** Default bound of buffered received bytes: one maximal var cell plus a
 * few fixed cells. */
#define CHANNEL_SM_DEFAULT_IN_MAX (VAR_CELL_MAX_BODY_LEN + 8 * 1024)
/** Default bound of bytes queued for sending: the hard limit, far above
 * the congestion mark (CHANNEL_CONGESTED_HIGH_BYTES in channel.h) at
 * which data stops being packaged, so control cells (SENDME, END,
 * DESTROY, BEGIN) are never refused because data filled the queue. */
#define CHANNEL_SM_DEFAULT_OUT_MAX (2 * 1024 * 1024)
/** Largest var cell we accept before the handshake completes, apart from
 * CERTS (which has its own limit): VERSIONS, AUTH_CHALLENGE, VPADDING. */
#define CHANNEL_HS_VAR_CELL_MAX_BODY_LEN 4096
/** Interval between two protocol-warning log lines per channel. */
#define CHANNEL_LOG_RATELIM_MS 60000

typedef enum channel_state_t {
  CHANNEL_STATE_TLS_HANDSHAKING = 0,
  CHANNEL_STATE_SENT_VERSIONS,
  CHANNEL_STATE_GOT_VERSIONS,
  CHANNEL_STATE_GOT_CERTS,
  CHANNEL_STATE_GOT_AUTH_CHALLENGE,
  CHANNEL_STATE_OPEN,
  CHANNEL_STATE_CLOSED,
} channel_state_t;
#define CHANNEL_N_STATES 7

/** Why a channel closed. */
typedef enum channel_close_reason_t {
  CHANNEL_CLOSE_NONE = 0,     /**< still open */
  CHANNEL_CLOSE_REQUESTED,    /**< we closed it (owner's request) */
  CHANNEL_CLOSE_IDLE,         /**< unused for too long */
  CHANNEL_CLOSE_TIMEOUT,      /**< handshake took too long */
  CHANNEL_CLOSE_IO_ERROR,     /**< TCP connect/read/write failed */
  CHANNEL_CLOSE_TLS_ERROR,    /**< TLS failed */
  CHANNEL_CLOSE_REMOTE_CLOSED,/**< the relay closed the connection */
  CHANNEL_CLOSE_NO_VERSION,   /**< no link protocol in common */
  CHANNEL_CLOSE_BAD_CELL,     /**< a cell not allowed here / malformed */
  CHANNEL_CLOSE_BAD_CERTS,    /**< CERTS malformed, expired or unsigned */
  CHANNEL_CLOSE_WRONG_IDENTITY, /**< authenticated, but not who we want */
  CHANNEL_CLOSE_RESOURCE,     /**< out of memory or a queue limit */
  CHANNEL_CLOSE_INTERNAL,     /**< a bug */
} channel_close_reason_t;
#define CHANNEL_N_CLOSE_REASONS 13

/** What channel_cell_allowed() says about a command in a state. */
typedef enum channel_cell_action_t {
  CHANNEL_CELL_REJECT = 0, /**< protocol violation: close the channel */
  CHANNEL_CELL_HANDLE,     /**< process it */
  CHANNEL_CELL_IGNORE,     /**< drop it silently */
} channel_cell_action_t;

/** The table: what to do with command <b>cmd</b> received in
 * <b>state</b>.  (tor-spec §3: unknown commands are dropped; §4: during
 * the handshake only the expected cells and VPADDING may come; §4.1:
 * later VERSIONS cells are ignored.) */
channel_cell_action_t channel_cell_allowed(channel_state_t state,
                                           uint8_t cmd);

const char *channel_state_name(channel_state_t st);
const char *channel_close_reason_str(channel_close_reason_t r);

/** What the relay's NETINFO told us (tor-spec §4.5). */
typedef struct channel_netinfo_result_t {
  uint32_t their_time;       /**< TIME field (0 if they sent none) */
  int64_t skew_s;            /**< their_time - our wall clock (0 if
                                  their_time is 0) */
  net_addr_t our_addr;       /**< OTHERADDR: how they see us (UNSPEC if
                                  absent or unknown type) */
  uint8_t n_their_addrs;
  net_addr_t their_addrs[NETINFO_MAX_MY_ADDRS];
  /** True iff the address we connected to is among their_addrs (tor-spec
   * §5.3.1 "canonical"). */
  bool canonical;
} channel_netinfo_result_t;

/** Construction parameters. */
typedef struct channel_sm_config_t {
  channel_expected_id_t expect; /**< who we want to reach */
  net_addr_t peer_addr;         /**< address we connected to */
  logger_t *log;                /**< borrowed; may be NULL */
  size_t in_max;                /**< 0: CHANNEL_SM_DEFAULT_IN_MAX */
  size_t out_max;               /**< 0: CHANNEL_SM_DEFAULT_OUT_MAX */
  uint64_t handshake_timeout_ms; /**< 0: CHANNEL_HANDSHAKE_TIMEOUT_MS */
  circid_rand_fn rng;           /**< NULL: crypto_rand */
  void *rng_arg;
} channel_sm_config_t;

typedef struct channel_sm_t channel_sm_t;

/** Create a state machine in TLS_HANDSHAKING, with its handshake clock
 * started at <b>now_ms</b>.  NULL on OOM.  Free with channel_sm_free(). */
channel_sm_t *channel_sm_new(const channel_sm_config_t *cfg,
                             uint64_t now_ms);
void channel_sm_free_(channel_sm_t *sm);
#define channel_sm_free(p) CHIVE_FREE_AND_NULL(channel_sm_t, channel_sm_free_, (p))

/** TLS finished: remember the peer's leaf certificate <b>cert_der</b>
 * (copied; its SHA-256 must match the type-5 cert) and queue our VERSIONS
 * cell.  Only in TLS_HANDSHAKING. */
CHIVE_MUST_CHECK chive_err_t channel_sm_tls_done(channel_sm_t *sm,
                                                 const uint8_t *cert_der,
                                                 size_t cert_len);

/** The buffer received bytes go into (borrowed).  The glue appends with
 * buf_add()/buf_move() up to buf_room(); then calls channel_sm_process().
 * Bytes that do not fit stay with the glue. */
buf_t *channel_sm_inbuf(channel_sm_t *sm);
/** Convenience: append <b>len</b> received bytes (CHIVE_ERR_LIMIT if they
 * do not fit, nothing added). */
CHIVE_MUST_CHECK chive_err_t channel_sm_feed(channel_sm_t *sm,
                                             const uint8_t *data,
                                             size_t len);

/** Events out of channel_sm_process(). */
typedef enum channel_sm_event_t {
  CHANNEL_SM_EV_NONE = 0, /**< need more bytes (or closed: check state) */
  CHANNEL_SM_EV_OPENED,   /**< the handshake just completed */
  CHANNEL_SM_EV_CELL,     /**< *cell_out holds a cell for the circuits */
  CHANNEL_SM_EV_CLOSED,   /**< the channel just closed; see reason */
} channel_sm_event_t;

/** Consume buffered bytes until there is something to report: set
 * *<b>ev_out</b> and, for CHANNEL_SM_EV_CELL, *<b>cell_out</b>.  Call
 * repeatedly until it reports CHANNEL_SM_EV_NONE.  <b>now_ms</b> is the
 * monotonic time, <b>now_wall_s</b> the wall clock.  Returns CHIVE_OK
 * (also when the peer's misbehaviour just closed the channel: the event is
 * then CHANNEL_SM_EV_CLOSED); CHIVE_ERR_CLOSED if it was already closed
 * before this call. */
CHIVE_MUST_CHECK chive_err_t channel_sm_process(channel_sm_t *sm,
                                                uint64_t now_ms,
                                                int64_t now_wall_s,
                                                channel_sm_event_t *ev_out,
                                                cell_t *cell_out);

/** Check the handshake deadline: if the channel is not OPEN and more than
 * the handshake timeout has passed since creation, close it with
 * CHANNEL_CLOSE_TIMEOUT and return true. */
bool channel_sm_check_timeout(channel_sm_t *sm, uint64_t now_ms);

/** The queue of bytes to send (borrowed): the glue drains it. */
buf_t *channel_sm_outbuf(channel_sm_t *sm);

/** Queue a fixed-length cell.  Only when OPEN; the command must not be a
 * link-handshake command.  CHIVE_ERR_LIMIT if the output queue is full
 * (nothing queued); CHIVE_ERR_CLOSED if closed; CHIVE_ERR_INVAL on
 * misuse. */
CHIVE_MUST_CHECK chive_err_t channel_sm_send_cell(channel_sm_t *sm,
                                                  const cell_t *cell);
/** Queue a variable-length cell (e.g. VPADDING).  Same rules. */
CHIVE_MUST_CHECK chive_err_t channel_sm_send_var_cell(
    channel_sm_t *sm, const var_cell_t *cell);
/** Queue a PADDING_NEGOTIATE (tor-spec §7.2): <b>start</b> true with the
 * timeout range (0,0 = "use consensus values"), or false to stop.  Needs
 * link protocol >= 5 (CHIVE_ERR_INVAL otherwise). */
CHIVE_MUST_CHECK chive_err_t channel_sm_send_padding_negotiate(
    channel_sm_t *sm, bool start, uint16_t ito_low_ms, uint16_t ito_high_ms);

/** Close locally with <b>reason</b> and <b>detail</b> (static text, or
 * NULL for "closed locally"); no-op if already closed. */
void channel_sm_close(channel_sm_t *sm, channel_close_reason_t reason,
                      const char *detail);

/** Allocate a fresh circuit ID for a circuit we initiate (tor-spec
 * §5.1.1).  Only when OPEN.  See circid_alloc(). */
CHIVE_MUST_CHECK chive_err_t channel_sm_alloc_circ_id(channel_sm_t *sm,
                                                      uint32_t *out);
/** Release a circuit ID; false if it was not in use. */
bool channel_sm_release_circ_id(channel_sm_t *sm, uint32_t id);
/** Number of circuit IDs in use. */
size_t channel_sm_n_circ_ids(const channel_sm_t *sm);

channel_state_t channel_sm_state(const channel_sm_t *sm);
channel_close_reason_t channel_sm_close_reason(const channel_sm_t *sm);
/** Static text with detail on why the channel closed ("" if open). */
const char *channel_sm_close_detail(const channel_sm_t *sm);
/** Negotiated link protocol (0 before VERSIONS). */
unsigned channel_sm_link_proto(const channel_sm_t *sm);
/** Verified identities; NULL until CERTS was verified. */
const channel_peer_ids_t *channel_sm_peer_ids(const channel_sm_t *sm);
/** The relay's NETINFO data; NULL until OPEN. */
const channel_netinfo_result_t *channel_sm_netinfo(const channel_sm_t *sm);
/** Whether the relay offered an AUTH_CHALLENGE, and its methods count. */
bool channel_sm_got_auth_challenge(const channel_sm_t *sm);

#endif /* !defined(CHIVE_CORE_CHANNEL_CHANNEL_SM_H) */
