/**
 * @file circuit.c
 * @brief Origin circuits: handshakes (CREATE_FAST, CREATE2, EXTEND2),
 * relay-cell routing and circuit-level flow control (tor-spec §5, §5.5,
 * §6.1, §7.3; proposals 289 and 332).
 *
 * Sans-I/O: cells leave through circ->sink and enter through
 * circuit_handle_cell().  Every hop's keys are committed only after its
 * handshake verifies; every peer error closes the circuit with a reason.
 **/
#include "lib/cc/compat.h"

#include "core/circuit/circuit.h"

#include <inttypes.h>
#include <string.h>

#include "core/circuit/circuit_st.h"
#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"

/* ---- Small helpers ---------------------------------------------------- */

/* see circuit.h */
void
circuit_params_default(circuit_params_t *p)
{
  memset(p, 0, sizeof(*p));
  p->circwindow = CIRCWINDOW_START_MAX;
  /* param-spec defaults are 0, but the live network has required v1 since
   * FlowCtrl=1 became mandatory; the consensus value overrides these. */
  p->sendme_emit_min_version = 1;
  p->sendme_accept_min_version = 1;
  p->max_streams = CIRCUIT_DEFAULT_MAX_STREAMS;
  p->first_stream_id = 0;
  p->use_ntor_v3 = true;
}

/* see circuit.h */
const char *
circuit_state_name(circuit_state_t state)
{
  switch (state) {
  case CIRCUIT_STATE_BUILDING:
    return "BUILDING";
  case CIRCUIT_STATE_OPEN:
    return "OPEN";
  case CIRCUIT_STATE_CLOSED:
    return "CLOSED";
  }
  return "UNKNOWN";
}

/** Free <b>hop</b>, wiping its secrets. */
static void
hop_free(circuit_hop_t *hop)
{
  if (!hop)
    return;
  relay_crypto_clear(&hop->crypto);
  onion_fast_client_clear(&hop->hs.fast);
  onion_ntor_client_clear(&hop->hs.ntor);
  onion_ntor3_client_clear(&hop->hs.ntor3);
  chive_free_wipe(hop);
}

/** Wipe the handshake state of <b>hop</b> (the union). */
static void
hop_clear_handshake(circuit_hop_t *hop)
{
  chive_memwipe(&hop->hs, sizeof(hop->hs));
}

/** Release everything.  Only at depth 0. */
static void
circuit_really_free(circuit_t *circ)
{
  if (circ->stream_ops)
    circ->stream_ops->free_all(circ);
  for (size_t i = 0; i < circ->n_hops; i++) {
    hop_free(circ->hops[i]);
    circ->hops[i] = NULL;
  }
  circ->magic = 0;
  chive_free(circ);
}

/* see circuit_st.h */
void
circuit_enter_(circuit_t *circ)
{
  circ->depth++;
}

/* see circuit_st.h */
bool
circuit_leave_(circuit_t *circ)
{
  if (BUG(circ->depth == 0))
    return false;
  if (--circ->depth > 0)
    return false;
  if (circ->stream_ops)
    circ->stream_ops->reap(circ);
  if (circ->free_pending) {
    circuit_really_free(circ);
    return true;
  }
  return false;
}

/** Close <b>circ</b>: record <b>reason</b>, send DESTROY (reason NONE,
 * tor-spec §5.4) if <b>send_destroy</b> and anything was ever sent, wipe
 * the keys, end the streams, tell the owner.  Idempotent.  The caller
 * holds a depth reference. */
static void
circuit_close_(circuit_t *circ, uint8_t reason, bool remote, bool send_destroy)
{
  if (circ->state == CIRCUIT_STATE_CLOSED)
    return;
  circ->state = CIRCUIT_STATE_CLOSED;
  circ->close_reason = reason;
  circ->close_remote = remote;
  log_info(circ->lg, LD_CIRC, "Circuit %" PRIu32 " closed: %s%s",
           circ->circ_id, destroy_reason_name(reason),
           remote ? " (by the network)" : "");

  if (send_destroy && circ->sent_anything && circ->sink.send_cell) {
    cell_t cell;
    size_t len;
    memset(&cell, 0, sizeof(cell));
    cell.circ_id = circ->circ_id;
    cell.command = CELL_DESTROY;
    if (destroy_encode(DESTROY_REASON_NONE, cell.payload, sizeof(cell.payload),
                       &len) == CHIVE_OK) {
      if (circ->sink.send_cell(circ->sink.arg, &cell) == CHIVE_OK)
        circ->stats.cells_sent++;
    }
  }

  /* Nothing will be sent or received any more: drop every key now. */
  for (size_t i = 0; i < circ->n_hops; i++) {
    relay_crypto_clear(&circ->hops[i]->crypto);
    hop_clear_handshake(circ->hops[i]);
    circ->crypto[i] = NULL;
  }

  if (circ->stream_ops)
    circ->stream_ops->circuit_closed(circ);
  if (circ->ev.closed)
    circ->ev.closed(circ, reason, remote, circ->ev_arg);
}

/* see circuit_st.h */
void
circuit_close_protocol_(circuit_t *circ, uint64_t now_us)
{
  (void)now_us;
  circuit_close_(circ, DESTROY_REASON_PROTOCOL, false, true);
}

/** Close for a peer's protocol violation and return <b>err</b>. */
static chive_err_t
close_for_peer(circuit_t *circ, chive_err_t err, const char *what)
{
  log_proto(circ->lg, LD_CIRC, "Closing circuit %" PRIu32 ": %s",
            circ->circ_id, what);
  circuit_close_(circ, DESTROY_REASON_PROTOCOL, false, true);
  return err;
}

/** Hand <b>cell</b> to the channel.  A sink failure closes the circuit
 * (no DESTROY: the channel is gone). */
static chive_err_t
send_cell(circuit_t *circ, cell_t *cell)
{
  cell->circ_id = circ->circ_id;
  chive_err_t err = circ->sink.send_cell(circ->sink.arg, cell);
  if (err != CHIVE_OK) {
    log_info(circ->lg, LD_CIRC,
             "Channel refused a cell for circuit %" PRIu32 ": %s",
             circ->circ_id, chive_err_str(err));
    /* A full channel queue is a resource problem; anything else means
     * the channel is gone.  Either way the circuit cannot go on without
     * losing a cell. */
    circuit_close_(circ,
                   err == CHIVE_ERR_LIMIT ? DESTROY_REASON_RESOURCELIMIT
                                          : DESTROY_REASON_CHANNEL_CLOSED,
                   false, false);
    return err;
  }
  circ->sent_anything = true;
  circ->stats.cells_sent++;
  return CHIVE_OK;
}

/** Number of hops whose EXTEND2 has not been sent yet. */
static size_t
n_pending_extends(const circuit_t *circ)
{
  size_t n = 0;
  for (size_t i = 1; i < circ->n_hops; i++) {
    if (circ->hops[i]->state == HOP_STATE_PENDING)
      n++;
  }
  return n;
}

/* ---- Sending relay cells (tor-spec §5.5.2.1, §5.6, §6.1) -------------- */

/** See circuit_send_relay(); the caller holds a depth reference. */
static chive_err_t
send_relay(circuit_t *circ, size_t hop_idx, uint8_t cmd, uint16_t stream_id,
           const uint8_t *body, size_t len)
{
  cell_t cell;
  uint8_t pad[RELAY_PAYLOAD_LEN];
  uint8_t digest[RELAY_CRYPTO_SENDME_DIGEST_LEN];
  relay_header_t hh;
  bool early = false;
  chive_err_t err;

  if (circ->state == CIRCUIT_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (BUG(hop_idx >= circ->n_open || len > RELAY_PAYLOAD_LEN ||
          (len > 0 && body == NULL)))
    return CHIVE_ERR_INVAL;
  circuit_hop_t *hop = circ->hops[hop_idx];
  const bool is_data = (cmd == RELAY_COMMAND_DATA);
  if (is_data && BUG(!sendme_circ_can_package(&hop->sendme)))
    return CHIVE_ERR_INTERNAL;

  /* tor-spec §5.6: "clients MUST only send EXTEND/EXTEND2 cells inside
   * RELAY_EARLY cells", and SHOULD send the first ~8 cells not for the
   * first hop as RELAY_EARLY.  Keep enough for the extensions queued plus
   * a reserve, so an open circuit can still be extended. */
  if (cmd == RELAY_COMMAND_EXTEND2 || cmd == RELAY_COMMAND_EXTEND) {
    if (circ->relay_early_left == 0)
      return CHIVE_ERR_LIMIT;
    early = true;
  } else if (hop_idx > 0 &&
             circ->relay_early_left >
                 n_pending_extends(circ) + CIRCUIT_RELAY_EARLY_RESERVE) {
    early = true;
  }

  memset(&hh, 0, sizeof(hh));
  hh.command = cmd;
  hh.stream_id = stream_id;
  /* tor-spec §6.1 / proposal 289 §3.3: unpredictable padding.  If the
   * RNG fails the padding is zero, which only weakens that defence. */
  size_t n_pad = relay_cell_random_pad_len(len);
  const uint8_t *pad_p = pad;
  if (n_pad > 0 && crypto_rand(pad, n_pad) != CHIVE_OK)
    pad_p = NULL;
  memset(&cell, 0, sizeof(cell));
  cell.command = early ? CELL_RELAY_EARLY : CELL_RELAY;
  err = relay_cell_pack(&hh, body, len, pad_p, n_pad, cell.payload,
                        sizeof(cell.payload));
  if (BUG(err != CHIVE_OK))
    return CHIVE_ERR_INTERNAL;

  /* For DATA, find out before encrypting whether this cell's digest is
   * the one the peer's next SENDME will carry (tor-spec §7.3). */
  const bool need_digest =
      is_data && sendme_circ_next_needs_digest(&hop->sendme);
  err = relay_crypto_encrypt_outbound(circ->crypto, circ->n_open, hop_idx,
                                      cell.payload);
  if (BUG(err != CHIVE_OK))
    return CHIVE_ERR_INTERNAL;
  if (is_data) {
    if (need_digest &&
        BUG(!relay_crypto_last_sent_digest(&hop->crypto, digest)))
      return CHIVE_ERR_INTERNAL;
    err = sendme_circ_note_packaged(&hop->sendme, need_digest ? digest : NULL);
    chive_memwipe(digest, sizeof(digest));
    if (err != CHIVE_OK)
      return err;
    circ->stats.data_bytes_sent += len;
  }
  if (early)
    circ->relay_early_left--;
  return send_cell(circ, &cell);
}

/* see circuit.h */
chive_err_t
circuit_send_relay(circuit_t *circ, size_t hop, uint8_t cmd,
                   uint16_t stream_id, const uint8_t *body, size_t len,
                   uint64_t now_us)
{
  (void)now_us;
  if (BUG(circ == NULL))
    return CHIVE_ERR_INVAL;
  circuit_enter_(circ);
  chive_err_t err = send_relay(circ, hop, cmd, stream_id, body, len);
  (void)circuit_leave_(circ);
  return err;
}

/* see circuit.h */
bool
circuit_is_blocked_on_channel(const circuit_t *circ)
{
  return circ->sink.congested && circ->sink.congested(circ->sink.arg);
}

/* see circuit.h */
bool
circuit_can_package(const circuit_t *circ, size_t hop)
{
  return circ && circ->state != CIRCUIT_STATE_CLOSED && hop < circ->n_open &&
         sendme_circ_can_package(&circ->hops[hop]->sendme) &&
         !circuit_is_blocked_on_channel(circ);
}

/* see circuit.h */
bool
circuit_resume_round(circuit_t *circ, uint64_t now_us)
{
  if (BUG(circ == NULL))
    return false;
  if (circ->state == CIRCUIT_STATE_CLOSED || !circ->stream_ops)
    return false;
  circuit_enter_(circ);
  bool progress = circ->stream_ops->resume_round(circ, now_us);
  if (circuit_leave_(circ))
    return false; /* freed from inside a callback */
  return progress;
}

/* ---- Building -------------------------------------------------------- */

/* see circuit.h */
chive_err_t
circuit_new(const circuit_params_t *params, circuit_purpose_t purpose,
            uint32_t circ_id, const circuit_sink_t *sink,
            const circuit_events_t *events, void *arg, logger_t *lg,
            uint64_t now_us, circuit_t **out)
{
  if (BUG(params == NULL || sink == NULL || out == NULL))
    return CHIVE_ERR_INVAL;
  if (circ_id == 0 || sink->send_cell == NULL || params->max_streams == 0 ||
      params->max_streams > CIRCUIT_MAX_STREAMS_LIMIT)
    return CHIVE_ERR_INVAL;
  circuit_t *circ = chive_zalloc(sizeof(*circ));
  if (!circ)
    return CHIVE_ERR_NOMEM;
  circ->magic = CIRCUIT_MAGIC;
  circ->state = CIRCUIT_STATE_BUILDING;
  circ->purpose = purpose;
  circ->circ_id = circ_id;
  circ->sink = *sink;
  if (events)
    circ->ev = *events;
  circ->ev_arg = arg;
  circ->lg = lg;
  circ->params = *params;
  circ->relay_early_left = CIRCUIT_MAX_RELAY_EARLY;
  circ->created_us = now_us;
  *out = circ;
  return CHIVE_OK;
}

/* see circuit.h */
void
circuit_free_(circuit_t *circ)
{
  if (!circ)
    return;
  if (BUG(circ->magic != CIRCUIT_MAGIC))
    return;
  circ->depth++;
  circuit_close_(circ, DESTROY_REASON_FINISHED, false, true);
  circ->depth--;
  if (circ->depth > 0) {
    /* Inside a callback: the outermost call frees. */
    circ->free_pending = true;
    return;
  }
  circuit_really_free(circ);
}

/** Client message for ntor-v3: an empty extension list (proposal 332
 * §A.2; tor's relays parse N_EXTENSIONS, so the byte must be there). */
static const uint8_t ntor3_empty_cm[1] = {0};

/** Start the handshake of hops[n_open] if it is pending and its
 * predecessor is built.  On failure close the circuit and return the
 * error.  The caller holds a depth reference. */
static chive_err_t
start_next_hop(circuit_t *circ, uint64_t now_us)
{
  uint8_t hdata[CREATE2_MAX_HLEN];
  size_t hlen = 0;
  uint16_t htype;
  chive_err_t err;

  if (circ->state == CIRCUIT_STATE_CLOSED || circ->n_open >= circ->n_hops)
    return CHIVE_OK;
  const size_t idx = circ->n_open;
  circuit_hop_t *hop = circ->hops[idx];
  if (hop->state != HOP_STATE_PENDING)
    return CHIVE_OK;

  /* Client side of the handshake (tor-spec §5.1.4; proposal 332). */
  if (hop->kind == CIRCUIT_HS_NTOR_V3) {
    htype = ONION_NTOR3_HTYPE;
    err = onion_ntor3_client_create(
        &hop->hs.ntor3, hop->info.ed_id, hop->info.ntor_onion_key,
        (const uint8_t *)ONION_NTOR3_CIRC_VERIFICATION,
        ONION_NTOR3_CIRC_VERIFICATION_LEN, ntor3_empty_cm,
        sizeof(ntor3_empty_cm), hdata, sizeof(hdata), &hlen);
  } else {
    htype = ONION_NTOR_HTYPE;
    err = onion_ntor_client_create(&hop->hs.ntor, hop->info.rsa_id,
                                   hop->info.ntor_onion_key, hdata);
    hlen = ONION_NTOR_ONIONSKIN_LEN;
  }
  if (err != CHIVE_OK) {
    circuit_close_(circ, DESTROY_REASON_INTERNAL, false, true);
    return err;
  }
  if (circ->build_started_us == 0 || circ->state == CIRCUIT_STATE_OPEN)
    circ->build_started_us = now_us;
  hop->hs_started_us = now_us;

  create2_t c2 = {htype, (uint16_t)hlen, hdata};
  if (idx == 0) {
    /* tor-spec §5.1: CREATE2 to the first hop. */
    cell_t cell;
    size_t len;
    memset(&cell, 0, sizeof(cell));
    cell.command = CELL_CREATE2;
    err = create2_encode(&c2, cell.payload, sizeof(cell.payload), &len);
    if (BUG(err != CHIVE_OK)) {
      circuit_close_(circ, DESTROY_REASON_INTERNAL, false, true);
      return CHIVE_ERR_INTERNAL;
    }
    hop->state = HOP_STATE_AWAIT_CREATED;
    err = send_cell(circ, &cell);
  } else {
    /* tor-spec §5.1.2: EXTEND2 to the last built hop, link specifiers in
     * the suggested order [00], [02], [03], [01]. */
    extend2_t e;
    uint8_t body[RELAY_PAYLOAD_LEN];
    size_t len;
    memset(&e, 0, sizeof(e));
    if (hop->info.has_ipv4)
      link_spec_set_ipv4(&e.specs[e.n_specs++], hop->info.ipv4,
                         hop->info.ipv4_port);
    link_spec_set_legacy_id(&e.specs[e.n_specs++], hop->info.rsa_id);
    if (hop->info.has_ed_id)
      link_spec_set_ed25519_id(&e.specs[e.n_specs++], hop->info.ed_id);
    if (hop->info.has_ipv6)
      link_spec_set_ipv6(&e.specs[e.n_specs++], hop->info.ipv6,
                         hop->info.ipv6_port);
    e.create = c2;
    err = extend2_encode(&e, body, sizeof(body), &len);
    if (err != CHIVE_OK) {
      circuit_close_(circ, DESTROY_REASON_INTERNAL, false, true);
      return err;
    }
    err = send_relay(circ, idx - 1, RELAY_COMMAND_EXTEND2, 0, body, len);
    if (err == CHIVE_OK) {
      hop->state = HOP_STATE_AWAIT_EXTENDED;
    } else if (circ->state != CIRCUIT_STATE_CLOSED) {
      circuit_close_(circ, DESTROY_REASON_INTERNAL, false, true);
    }
  }
  chive_memwipe(hdata, sizeof(hdata));
  return err;
}

/** The handshake of hops[idx] produced <b>keys</b> (wiped here): commit
 * them, open the hop, notify, and go on with the next pending hop.  The
 * caller holds a depth reference. */
static chive_err_t
hop_commit_keys(circuit_t *circ, size_t idx, relay_keys_t *keys,
                uint64_t now_us)
{
  circuit_hop_t *hop = circ->hops[idx];
  chive_err_t err = relay_crypto_init(&hop->crypto, keys);
  relay_keys_clear(keys);
  hop_clear_handshake(hop);
  if (err != CHIVE_OK) {
    circuit_close_(circ, DESTROY_REASON_RESOURCELIMIT, false, true);
    return err;
  }
  sendme_circ_init(&hop->sendme, circ->params.circwindow);
  hop->state = HOP_STATE_OPEN;
  hop->opened_us = now_us;
  circ->crypto[idx] = &hop->crypto;
  circ->n_open = idx + 1;
  log_debug(circ->lg, LD_CIRC, "Circuit %" PRIu32 ": hop %zu built",
            circ->circ_id, idx + 1);

  if (circ->ev.hop_added)
    circ->ev.hop_added(circ, circ->n_open, circ->ev_arg);
  if (circ->state == CIRCUIT_STATE_CLOSED)
    return CHIVE_OK;
  if (circ->n_open < circ->n_hops)
    return start_next_hop(circ, now_us);

  circ->state = CIRCUIT_STATE_OPEN;
  circ->opened_us = now_us;
  if (circ->build_time_us == 0)
    circ->build_time_us =
        now_us > circ->build_started_us ? now_us - circ->build_started_us : 1;
  if (circ->ev.opened)
    circ->ev.opened(circ, circ->ev_arg);
  return CHIVE_OK;
}

/** Finish the CREATE2/EXTEND2 handshake of hops[idx] with the server's
 * HDATA.  A bad reply closes the circuit. */
static chive_err_t
hop_finish_handshake(circuit_t *circ, size_t idx, const uint8_t *hdata,
                     size_t hlen, uint64_t now_us)
{
  circuit_hop_t *hop = circ->hops[idx];
  relay_keys_t keys;
  chive_err_t err;

  if (hop->kind == CIRCUIT_HS_NTOR_V3) {
    uint8_t sm[ONION_NTOR3_MAX_SERVER_MSG_LEN];
    size_t sm_len = 0;
    err = onion_ntor3_client_finish_keys(&hop->hs.ntor3, hdata, hlen, sm,
                                         sizeof(sm), &sm_len, &keys);
    if (err == CHIVE_OK) {
      /* We requested nothing, so any extension is ignored, but the
       * message must be well formed (proposal 332 §A.2). */
      onion_ntor3_ext_t exts[4];
      size_t n_exts;
      if (onion_ntor3_exts_parse(sm, sm_len, exts, CHIVE_ARRAY_LEN(exts),
                                 &n_exts) != CHIVE_OK) {
        relay_keys_clear(&keys);
        err = CHIVE_ERR_PROTO;
      }
    }
  } else if (hop->kind == CIRCUIT_HS_NTOR) {
    if (hlen != ONION_NTOR_REPLY_LEN)
      return close_for_peer(circ, CHIVE_ERR_PROTO,
                            "ntor reply of the wrong length");
    err = onion_ntor_client_finish(&hop->hs.ntor, hdata, &keys);
  } else {
    return close_for_peer(circ, CHIVE_ERR_PROTO,
                          "CREATED2 for a CREATE_FAST hop");
  }
  if (err != CHIVE_OK)
    return close_for_peer(circ,
                          err == CHIVE_ERR_NOMEM ? err : CHIVE_ERR_CRYPTO,
                          "handshake reply failed verification");
  return hop_commit_keys(circ, idx, &keys, now_us);
}

/* see circuit.h */
chive_err_t
circuit_create_fast(circuit_t *circ, uint64_t now_us)
{
  uint8_t x[ONION_FAST_KEY_LEN];
  if (BUG(circ == NULL))
    return CHIVE_ERR_INVAL;
  if (circ->state == CIRCUIT_STATE_CLOSED || circ->n_hops != 0)
    return CHIVE_ERR_INVAL;
  circuit_hop_t *hop = chive_zalloc(sizeof(*hop));
  if (!hop)
    return CHIVE_ERR_NOMEM;
  hop->kind = CIRCUIT_HS_FAST;
  chive_err_t err = onion_fast_client_create(&hop->hs.fast, x);
  if (err != CHIVE_OK) {
    hop_free(hop);
    return err;
  }
  /* tor-spec §5.1.5: CREATE_FAST carries X. */
  create_fast_t cf;
  cell_t cell;
  size_t len;
  memcpy(cf.x, x, sizeof(cf.x));
  memset(&cell, 0, sizeof(cell));
  cell.command = CELL_CREATE_FAST;
  err = create_fast_encode(&cf, cell.payload, sizeof(cell.payload), &len);
  chive_memwipe(&cf, sizeof(cf));
  chive_memwipe(x, sizeof(x));
  if (BUG(err != CHIVE_OK)) {
    hop_free(hop);
    return CHIVE_ERR_INTERNAL;
  }
  hop->state = HOP_STATE_AWAIT_CREATED;
  hop->hs_started_us = now_us;
  circ->hops[0] = hop;
  circ->n_hops = 1;
  circ->build_started_us = now_us;

  circuit_enter_(circ);
  err = send_cell(circ, &cell);
  chive_memwipe(&cell, sizeof(cell));
  (void)circuit_leave_(circ);
  return err;
}

/* see circuit.h */
chive_err_t
circuit_extend_to(circuit_t *circ, const circuit_hop_info_t *info,
                  uint64_t now_us)
{
  if (BUG(circ == NULL || info == NULL))
    return CHIVE_ERR_INVAL;
  if (circ->state == CIRCUIT_STATE_CLOSED)
    return CHIVE_ERR_INVAL;
  if (circ->n_hops >= CIRCUIT_MAX_HOPS)
    return CHIVE_ERR_LIMIT;
  /* Each later hop costs one RELAY_EARLY (tor-spec §5.6). */
  if (circ->n_hops > 0 && circ->relay_early_left < n_pending_extends(circ) + 1)
    return CHIVE_ERR_LIMIT;

  circuit_hop_t *hop = chive_zalloc(sizeof(*hop));
  if (!hop)
    return CHIVE_ERR_NOMEM;
  hop->info = *info;
  hop->kind =
      (circ->params.use_ntor_v3 && info->supports_ntor_v3 && info->has_ed_id)
          ? CIRCUIT_HS_NTOR_V3
          : CIRCUIT_HS_NTOR;
  hop->state = HOP_STATE_PENDING;
  circ->hops[circ->n_hops++] = hop;

  circuit_enter_(circ);
  if (circ->state == CIRCUIT_STATE_OPEN) {
    circ->state = CIRCUIT_STATE_BUILDING;
    circ->build_started_us = now_us;
  }
  chive_err_t err = start_next_hop(circ, now_us);
  (void)circuit_leave_(circ);
  return err;
}

/* ---- Receiving ------------------------------------------------------- */

/* see circuit.h */
bool
circuit_cell_allowed(circuit_state_t state, uint8_t awaiting,
                     size_t n_open_hops, uint8_t cmd)
{
  if (state == CIRCUIT_STATE_CLOSED)
    return false;
  switch (cmd) {
  case CELL_DESTROY:
    return true;
  case CELL_CREATED_FAST:
  case CELL_CREATED2:
    return awaiting == cmd;
  case CELL_RELAY:
    return n_open_hops > 0;
  case CELL_RELAY_EARLY:
    /* tor-spec §5.6: "If it receives any inbound RELAY_EARLY cells, it
     * MUST close the circuit immediately." */
    return false;
  default:
    /* CREATE*, CREATED (TAP), link-level commands: never for a client's
     * circuit. */
    return false;
  }
}

/** Send a v1 circuit SENDME to hop <b>idx</b> carrying the digest of the
 * cell just received from it (proposal 289 §3.1). */
static chive_err_t
send_circuit_sendme(circuit_t *circ, size_t idx)
{
  circuit_hop_t *hop = circ->hops[idx];
  sendme_t s;
  uint8_t body[RELAY_PAYLOAD_LEN];
  size_t len;

  /* sendme_emit_min_version <= 1 is all we can honour; v1 is what the
   * network requires (FlowCtrl=1), so v1 it is in every case. */
  memset(&s, 0, sizeof(s));
  s.version = 1;
  if (BUG(!relay_crypto_last_recv_digest(&hop->crypto, s.digest)))
    return CHIVE_ERR_INTERNAL;
  chive_err_t err = sendme_encode(&s, body, sizeof(body), &len);
  if (BUG(err != CHIVE_OK))
    return CHIVE_ERR_INTERNAL;
  err = send_relay(circ, idx, RELAY_COMMAND_SENDME, 0, body, len);
  if (err == CHIVE_OK) {
    sendme_circ_note_sendme_sent(&hop->sendme);
    circ->stats.sendmes_sent++;
  }
  return err;
}

/** A circuit-level (stream id 0) relay message from hop <b>idx</b>. */
static chive_err_t
handle_circuit_msg(circuit_t *circ, size_t idx, const relay_cell_t *msg,
                   uint64_t now_us)
{
  circuit_hop_t *hop = circ->hops[idx];
  chive_err_t err;

  switch (msg->h.command) {
  case RELAY_COMMAND_SENDME: {
    /* tor-spec §7.3, §7.3.1. */
    const bool was_blocked = !sendme_circ_can_package(&hop->sendme);
    err = sendme_circ_handle_sendme(&hop->sendme, msg->body, msg->h.length,
                                    circ->params.sendme_accept_min_version);
    if (err != CHIVE_OK)
      return close_for_peer(circ, err,
                            err == CHIVE_ERR_CRYPTO
                                ? "SENDME digest mismatch"
                                : "unexpected or malformed circuit SENDME");
    circ->stats.sendmes_received++;
    if (was_blocked && circ->stream_ops)
      circ->stream_ops->resume(circ, idx, now_us);
    return CHIVE_OK;
  }
  case RELAY_COMMAND_EXTENDED2: {
    /* tor-spec §5.1.2: only as the answer to our EXTEND2, from the hop we
     * sent it to. */
    created2_t c2;
    if (idx + 1 != circ->n_open || circ->n_open >= circ->n_hops ||
        circ->hops[circ->n_open]->state != HOP_STATE_AWAIT_EXTENDED)
      return close_for_peer(circ, CHIVE_ERR_PROTO, "unexpected EXTENDED2");
    if (extended2_parse(msg->body, msg->h.length, &c2) != CHIVE_OK)
      return close_for_peer(circ, CHIVE_ERR_PROTO, "malformed EXTENDED2");
    return hop_finish_handshake(circ, circ->n_open, c2.hdata, c2.hlen, now_us);
  }
  case RELAY_COMMAND_TRUNCATED: {
    /* tor-spec §5.4: "An OP, upon receiving a RELAY_TRUNCATED, will send
     * forward a DESTROY cell in order to entirely tear down the
     * circuit." */
    uint8_t reason = DESTROY_REASON_NONE;
    if (truncated_parse(msg->body, msg->h.length, &reason) != CHIVE_OK)
      reason = DESTROY_REASON_NONE;
    circuit_close_(circ, reason, true, true);
    return CHIVE_OK;
  }
  case RELAY_COMMAND_DROP:
  case RELAY_COMMAND_PADDING_NEGOTIATED:
    /* tor-spec §6.2: long-range dummies are dropped. */
    circ->stats.cells_dropped++;
    return CHIVE_OK;
  case RELAY_COMMAND_DATA:
  case RELAY_COMMAND_END:
  case RELAY_COMMAND_CONNECTED:
  case RELAY_COMMAND_RESOLVED:
    /* tor-spec §6.1: "No stream may have a StreamID of zero." */
    return close_for_peer(circ, CHIVE_ERR_PROTO,
                          "stream command with stream id 0");
  default:
    if (circ->ev.relay_msg) {
      err = circ->ev.relay_msg(circ, idx, msg, circ->ev_arg);
      if (err != CHIVE_OK && circ->state != CIRCUIT_STATE_CLOSED)
        return close_for_peer(circ, CHIVE_ERR_PROTO,
                              "owner rejected a relay message");
      return err;
    }
    /* tor-spec §6.1: "If the RELAY cell is recognized but the relay
     * command is not understood, the cell must be dropped and
     * ignored." */
    circ->stats.cells_dropped++;
    return CHIVE_OK;
  }
}

/** An inbound RELAY cell: decrypt, find the hop, dispatch. */
static chive_err_t
handle_relay_cell(circuit_t *circ, const cell_t *cell, uint64_t now_us)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  relay_cell_t msg;
  size_t idx = 0;
  chive_err_t err;

  memcpy(payload, cell->payload, sizeof(payload));
  /* tor-spec §5.5.3 ("Routing to the Origin"). */
  err =
      relay_crypto_decrypt_inbound(circ->crypto, circ->n_open, payload, &idx);
  if (err == CHIVE_ERR_PROTO)
    return close_for_peer(circ, CHIVE_ERR_PROTO,
                          "relay cell recognized by no hop");
  if (err != CHIVE_OK) {
    circuit_close_(circ, DESTROY_REASON_INTERNAL, false, true);
    return err;
  }
  if (relay_cell_parse(payload, sizeof(payload), &msg) != CHIVE_OK)
    return close_for_peer(circ, CHIVE_ERR_PROTO, "malformed relay header");

  if (msg.h.command == RELAY_COMMAND_DATA && msg.h.stream_id != 0) {
    /* tor-spec §7.3: every RELAY_DATA cell counts against the circuit
     * deliver window, whatever stream it is for. */
    bool want_sendme = false;
    if (sendme_circ_note_delivered(&circ->hops[idx]->sendme, &want_sendme) !=
        CHIVE_OK)
      return close_for_peer(circ, CHIVE_ERR_PROTO,
                            "peer exceeded the circuit window");
    circ->stats.data_bytes_received += msg.h.length;
    if (want_sendme) {
      /* Now, while the last received digest is this cell's. */
      err = send_circuit_sendme(circ, idx);
      if (err != CHIVE_OK)
        return err;
    }
  }
  if (msg.h.stream_id == 0)
    return handle_circuit_msg(circ, idx, &msg, now_us);

  if (!circ->stream_ops) {
    /* No stream was ever opened: an unknown stream (tor-spec §6.2). */
    circ->stats.cells_dropped++;
    return CHIVE_OK;
  }
  err = circ->stream_ops->handle_relay(circ, idx, &msg, now_us);
  if (err != CHIVE_OK && circ->state != CIRCUIT_STATE_CLOSED)
    return close_for_peer(circ, err, "stream protocol violation");
  return err;
}

/** circuit_handle_cell() body; the caller holds a depth reference. */
static chive_err_t
handle_cell(circuit_t *circ, const cell_t *cell, uint64_t now_us)
{
  uint8_t awaiting = 0;
  if (circ->n_open == 0 && circ->n_hops > 0 &&
      circ->hops[0]->state == HOP_STATE_AWAIT_CREATED)
    awaiting = circ->hops[0]->kind == CIRCUIT_HS_FAST ? CELL_CREATED_FAST
                                                      : CELL_CREATED2;
  if (!circuit_cell_allowed(circ->state, awaiting, circ->n_open,
                            cell->command))
    return close_for_peer(circ, CHIVE_ERR_PROTO,
                          "cell not allowed in this state");

  switch (cell->command) {
  case CELL_DESTROY: {
    uint8_t reason = DESTROY_REASON_NONE;
    if (destroy_parse(cell->payload, sizeof(cell->payload), &reason) !=
        CHIVE_OK)
      reason = DESTROY_REASON_NONE;
    /* tor-spec §5.4: the circuit is gone; send nothing back. */
    circuit_close_(circ, reason, true, false);
    return CHIVE_OK;
  }
  case CELL_CREATED_FAST: {
    created_fast_t cf;
    relay_keys_t keys;
    if (created_fast_parse(cell->payload, sizeof(cell->payload), &cf) !=
        CHIVE_OK)
      return close_for_peer(circ, CHIVE_ERR_PROTO, "bad CREATED_FAST");
    /* tor-spec §5.1.5, §5.2.1: KH must match. */
    chive_err_t err =
        onion_fast_client_finish(&circ->hops[0]->hs.fast, cf.y, cf.kh, &keys);
    chive_memwipe(&cf, sizeof(cf));
    if (err != CHIVE_OK)
      return close_for_peer(circ, CHIVE_ERR_CRYPTO,
                            "CREATED_FAST failed verification");
    return hop_commit_keys(circ, 0, &keys, now_us);
  }
  case CELL_CREATED2: {
    created2_t c2;
    if (created2_parse(cell->payload, sizeof(cell->payload), &c2) != CHIVE_OK)
      return close_for_peer(circ, CHIVE_ERR_PROTO, "bad CREATED2");
    return hop_finish_handshake(circ, 0, c2.hdata, c2.hlen, now_us);
  }
  case CELL_RELAY:
    return handle_relay_cell(circ, cell, now_us);
  default:
    return close_for_peer(circ, CHIVE_ERR_PROTO, "unexpected cell");
  }
}

/* see circuit.h */
chive_err_t
circuit_handle_cell(circuit_t *circ, const cell_t *cell, uint64_t now_us)
{
  if (BUG(circ == NULL || cell == NULL))
    return CHIVE_ERR_INVAL;
  if (circ->state == CIRCUIT_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  circuit_enter_(circ);
  circ->stats.cells_received++;
  chive_err_t err = handle_cell(circ, cell, now_us);
  (void)circuit_leave_(circ);
  return err;
}

/* see circuit.h */
void
circuit_handle_channel_closed(circuit_t *circ, uint64_t now_us)
{
  (void)now_us;
  if (!circ)
    return;
  circuit_enter_(circ);
  circuit_close_(circ, DESTROY_REASON_CHANNEL_CLOSED, true, false);
  (void)circuit_leave_(circ);
}

/* see circuit.h */
void
circuit_mark_for_close(circuit_t *circ, uint8_t reason, uint64_t now_us)
{
  (void)now_us;
  if (!circ)
    return;
  circuit_enter_(circ);
  circuit_close_(circ, reason, false, true);
  (void)circuit_leave_(circ);
}

/* see circuit_st.h */
void
circuit_note_stream_attached_(circuit_t *circ, uint64_t now_us)
{
  if (circ->dirty_us == 0)
    circ->dirty_us = now_us ? now_us : 1;
  circ->stats.streams_opened++;
}

/* ---- Accessors ------------------------------------------------------- */

circuit_state_t
circuit_state(const circuit_t *circ)
{
  return circ->state;
}

circuit_purpose_t
circuit_purpose(const circuit_t *circ)
{
  return circ->purpose;
}

void
circuit_set_purpose(circuit_t *circ, circuit_purpose_t purpose)
{
  circ->purpose = purpose;
}

uint32_t
circuit_circ_id(const circuit_t *circ)
{
  return circ->circ_id;
}

size_t
circuit_n_hops(const circuit_t *circ)
{
  return circ->n_open;
}

size_t
circuit_n_hops_planned(const circuit_t *circ)
{
  return circ->n_hops;
}

unsigned
circuit_relay_early_left(const circuit_t *circ)
{
  return circ->relay_early_left;
}

uint8_t
circuit_close_reason(const circuit_t *circ)
{
  return circ->state == CIRCUIT_STATE_CLOSED ? circ->close_reason : 0;
}

bool
circuit_closed_remotely(const circuit_t *circ)
{
  return circ->state == CIRCUIT_STATE_CLOSED && circ->close_remote;
}

uint64_t
circuit_created_us(const circuit_t *circ)
{
  return circ->created_us;
}

uint64_t
circuit_build_time_us(const circuit_t *circ)
{
  return circ->build_time_us;
}

uint64_t
circuit_build_elapsed_us(const circuit_t *circ, uint64_t now_us)
{
  if (circ->state != CIRCUIT_STATE_BUILDING || circ->n_hops == 0 ||
      now_us < circ->build_started_us)
    return 0;
  return now_us - circ->build_started_us;
}

uint64_t
circuit_dirty_since_us(const circuit_t *circ)
{
  return circ->dirty_us;
}

const circuit_stats_t *
circuit_stats(const circuit_t *circ)
{
  return &circ->stats;
}

int32_t
circuit_package_window(const circuit_t *circ, size_t hop)
{
  if (hop >= circ->n_open)
    return -1;
  return sendme_circ_package_window(&circ->hops[hop]->sendme);
}

int32_t
circuit_deliver_window(const circuit_t *circ, size_t hop)
{
  if (hop >= circ->n_open)
    return -1;
  return sendme_circ_deliver_window(&circ->hops[hop]->sendme);
}

size_t
circuit_n_streams(const circuit_t *circ)
{
  return circ->stream_ops ? circ->stream_ops->n_live(circ) : 0;
}

size_t
circuit_n_half_closed(const circuit_t *circ)
{
  return circ->stream_ops ? circ->stream_ops->n_half_closed(circ) : 0;
}

logger_t *
circuit_logger(const circuit_t *circ)
{
  return circ->lg;
}
