/**
 * @file test_circuit_fake.h
 * @brief A fake relay chain for the circuit/stream tests and the
 * circuit fuzz target: no sockets, just cells.
 *
 * The relay side of each hop is a relay_crypto_t initialised with the
 * hop's keys in the relay's orientation (Df<->Db, Kf<->Kb swapped): its
 * "encrypt_outbound" then digests with Db and adds Kb layers from the
 * originating hop down to hop 0, which is what relays do toward the
 * client (tor-spec §5.5.3); its "decrypt_inbound" strips Kf layers and
 * checks 'recognized' with the Df digest, which is forward processing
 * (§5.5.2.2).  Handshakes use the server helpers in core/crypto.
 *
 * The relay independently remembers the digest of every 100th DATA cell
 * it sends and checks the client's v1 SENDMEs against them; for uploads
 * it answers every 100 DATA cells with a v1 SENDME carrying the digest
 * of the cell that triggered it, and every 50 DATA cells of a stream
 * with a stream SENDME for that stream.
 *
 * Back-pressure model: with cong_high set, the queue of client cells is
 * the "channel": it reports congested (fr_congested, the sink's
 * congested query) once cong_high cells wait, and fr_drain() takes a few
 * cells off like a slow network, reporting when the queue falls to
 * cong_low so the test can run circuit_resume_round().
 **/
#ifndef CHIVE_TEST_CIRCUIT_FAKE_H
#define CHIVE_TEST_CIRCUIT_FAKE_H

#include <string.h>

#include "core/circuit/circuit.h"
#include "core/circuit/sendme.h"
#include "core/crypto/onion_fast.h"
#include "core/crypto/onion_ntor.h"
#include "core/crypto/onion_ntor_v3.h"
#include "core/crypto/relay_crypto.h"
#include "core/proto/circ_cells.h"
#include "core/proto/relay_cell.h"
#include "core/proto/relay_msg.h"
#include "core/stream/stream.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"

#define FR_MAX_CELLS 1024
#define FR_MAX_PENDING 16
#define FR_UP_CAP (512u * 1024u)

typedef struct fr_hop_t {
  relay_crypto_t rc;
  crypto_x25519_keypair_t ntor;
  uint8_t rsa_id[20];
  uint8_t ed_id[32];
  int32_t circ_pw; /**< Relay's package window toward the client. */
  uint8_t exp[FR_MAX_PENDING][20]; /**< Digests the client must echo. */
  size_t exp_head, exp_n;
  uint32_t data_sent, data_recv;
  uint16_t htype; /**< Handshake type the client used. */
} fr_hop_t;

typedef struct fake_relay_t {
  fr_hop_t hops[CIRCUIT_MAX_HOPS];
  relay_crypto_t *ptrs[CIRCUIT_MAX_HOPS];
  size_t n;
  circuit_t *circ;
  cell_t q[FR_MAX_CELLS];
  size_t qh, qn;
  uint64_t now;
  /* Behaviour switches. */
  bool fail_sink;
  bool auto_sendme;  /**< Answer client DATA with SENDMEs. */
  bool auto_connect; /**< Answer BEGIN/BEGIN_DIR with CONNECTED. */
  bool hold_replies; /**< Do not answer handshakes. */
  int corrupt_hop;   /**< Hop whose handshake reply is spoiled, -1. */
  /* Observations. */
  size_t n_create_fast, n_create2, n_extend2, n_relay_early, n_destroy;
  size_t n_relay, n_bad_cells;
  uint8_t last_destroy_reason;
  size_t client_sendmes_ok, client_sendmes_bad, client_sendmes_v0;
  size_t stream_sendmes;
  size_t n_begin;
  uint8_t last_begin_cmd;
  uint16_t last_begin_sid;
  begin_t last_begin;
  size_t n_end;
  uint8_t last_end_reason;
  uint16_t last_end_sid;
  size_t n_resolve;
  uint16_t last_resolve_sid;
  int32_t stream_pw; /**< Relay's stream package window. */
  uint32_t stream_data_recv;
  uint8_t up[FR_UP_CAP];
  size_t up_len;
  /* Per-stream DATA cells received (for per-stream SENDMEs). */
  uint32_t sid_recv[65536];
  uint64_t sid_bytes[65536];
  /* Upload checking without storing: every byte against fr_pattern()
   * at offset up_total + up_salt. */
  bool up_verify;
  size_t up_salt;
  uint64_t up_total, up_bad;
  /* Back-pressure model (0: off). */
  size_t cong_high, cong_low;
  bool congested;
  size_t n_congested; /**< times the queue became congested */
  size_t max_qn;      /**< longest the queue ever was */
} fake_relay_t;

static void fr_pattern(uint8_t *buf, size_t len, size_t off);

/** Sink: queue the client's cell. */
CHIVE_UNUSED static chive_err_t
fr_sink(void *arg, const cell_t *cell)
{
  fake_relay_t *fr = arg;
  if (fr->fail_sink)
    return CHIVE_ERR_IO;
  if (fr->qn == FR_MAX_CELLS)
    return CHIVE_ERR_LIMIT;
  fr->q[(fr->qh + fr->qn) % FR_MAX_CELLS] = *cell;
  fr->qn++;
  if (fr->qn > fr->max_qn)
    fr->max_qn = fr->qn;
  if (fr->cong_high && !fr->congested && fr->qn >= fr->cong_high) {
    fr->congested = true;
    fr->n_congested++;
  }
  return CHIVE_OK;
}

/** Sink congestion query (circuit_sink_t.congested). */
CHIVE_UNUSED static bool
fr_congested(void *arg)
{
  const fake_relay_t *fr = arg;
  return fr->congested;
}

/** Reset <b>fr</b> and make its relay identities and ntor keys. */
CHIVE_UNUSED static void
fr_init(fake_relay_t *fr)
{
  memset(fr, 0, sizeof(*fr));
  fr->corrupt_hop = -1;
  fr->auto_connect = true;
  fr->auto_sendme = true;
  fr->stream_pw = STREAMWINDOW_START;
  fr->now = 1000000;
  for (size_t i = 0; i < CIRCUIT_MAX_HOPS; i++) {
    if (crypto_x25519_keypair_generate(&fr->hops[i].ntor) != CHIVE_OK)
      abort();
    if (crypto_rand(fr->hops[i].rsa_id, 20) != CHIVE_OK ||
        crypto_rand(fr->hops[i].ed_id, 32) != CHIVE_OK)
      abort();
  }
}

/** Release the relay-side crypto. */
CHIVE_UNUSED static void
fr_clear(fake_relay_t *fr)
{
  for (size_t i = 0; i < CIRCUIT_MAX_HOPS; i++)
    relay_crypto_clear(&fr->hops[i].rc);
}

/** Describe hop <b>i</b> for circuit_extend_to(). */
CHIVE_UNUSED static void
fr_hop_info(const fake_relay_t *fr, size_t i, bool v3, circuit_hop_info_t *out)
{
  memset(out, 0, sizeof(*out));
  out->has_ipv4 = true;
  out->ipv4[0] = 127;
  out->ipv4[3] = (uint8_t)(i + 1);
  out->ipv4_port = (uint16_t)(9000 + i);
  memcpy(out->rsa_id, fr->hops[i].rsa_id, 20);
  out->has_ed_id = true;
  memcpy(out->ed_id, fr->hops[i].ed_id, 32);
  memcpy(out->ntor_onion_key, fr->hops[i].ntor.pubkey, 32);
  out->supports_ntor_v3 = v3;
}

/** Install relay-side crypto for hop <b>idx</b> from the client-view
 * <b>keys</b>. */
static void
fr_install(fake_relay_t *fr, size_t idx, const relay_keys_t *keys)
{
  relay_keys_t sw;
  memcpy(sw.df, keys->db, sizeof(sw.df));
  memcpy(sw.db, keys->df, sizeof(sw.db));
  memcpy(sw.kf, keys->kb, sizeof(sw.kf));
  memcpy(sw.kb, keys->kf, sizeof(sw.kb));
  relay_crypto_clear(&fr->hops[idx].rc);
  if (relay_crypto_init(&fr->hops[idx].rc, &sw) != CHIVE_OK)
    abort();
  relay_keys_clear(&sw);
  fr->ptrs[idx] = &fr->hops[idx].rc;
  fr->n = idx + 1;
  fr->hops[idx].circ_pw = CIRCWINDOW_START_MAX;
}

/** Deliver a raw cell to the client. */
CHIVE_UNUSED static chive_err_t
fr_deliver(fake_relay_t *fr, uint8_t command, const uint8_t *payload)
{
  cell_t cell;
  memset(&cell, 0, sizeof(cell));
  cell.circ_id = circuit_circ_id(fr->circ);
  cell.command = command;
  memcpy(cell.payload, payload, CELL_PAYLOAD_LEN);
  fr->now += 1000;
  return circuit_handle_cell(fr->circ, &cell, fr->now);
}

/** Send a relay message from hop <b>hop</b> to the client. */
CHIVE_UNUSED static chive_err_t
fr_send(fake_relay_t *fr, size_t hop, uint8_t cmd, uint16_t sid,
        const uint8_t *body, size_t len)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  relay_header_t h;
  memset(&h, 0, sizeof(h));
  h.command = cmd;
  h.stream_id = sid;
  if (relay_cell_pack(&h, body, len, NULL, 0, payload, sizeof(payload)) !=
      CHIVE_OK)
    abort();
  if (relay_crypto_encrypt_outbound(fr->ptrs, fr->n, hop, payload) != CHIVE_OK)
    abort();
  if (cmd == RELAY_COMMAND_DATA) {
    fr_hop_t *fh = &fr->hops[hop];
    fh->data_sent++;
    fh->circ_pw--;
    if (fh->data_sent % CIRCWINDOW_INCREMENT == 0) {
      /* The client's SENDME must carry this cell's digest. */
      if (fh->exp_n == FR_MAX_PENDING)
        abort();
      if (!relay_crypto_last_sent_digest(
              &fh->rc, fh->exp[(fh->exp_head + fh->exp_n) % FR_MAX_PENDING]))
        abort();
      fh->exp_n++;
    }
  }
  return fr_deliver(fr, CELL_RELAY, payload);
}

/** Answer a CREATE2/EXTEND2 handshake for hop <b>idx</b>; writes the
 * server HDATA to <b>reply</b>.  Returns false on a bad client
 * handshake. */
static bool
fr_server_handshake(fake_relay_t *fr, size_t idx, const create2_t *c2,
                    uint8_t *reply, size_t cap, size_t *rlen)
{
  fr_hop_t *fh = &fr->hops[idx];
  relay_keys_t keys;
  fh->htype = c2->htype;
  if (c2->htype == ONION_NTOR_HTYPE) {
    if (c2->hlen != ONION_NTOR_ONIONSKIN_LEN || cap < ONION_NTOR_REPLY_LEN)
      return false;
    if (onion_ntor_server_handshake(fh->rsa_id, fh->ntor.seckey,
                                    fh->ntor.pubkey, c2->hdata, NULL, reply,
                                    &keys) != CHIVE_OK)
      return false;
    *rlen = ONION_NTOR_REPLY_LEN;
  } else if (c2->htype == ONION_NTOR3_HTYPE) {
    onion_ntor3_server_t st;
    uint8_t cm[ONION_NTOR3_MAX_CLIENT_MSG_LEN];
    uint8_t ks[RELAY_KEY_MATERIAL_LEN];
    size_t cm_len;
    memset(&st, 0, sizeof(st));
    if (onion_ntor3_server_recv(&st, fh->ed_id, fh->ntor.seckey,
                                fh->ntor.pubkey,
                                (const uint8_t *)ONION_NTOR3_CIRC_VERIFICATION,
                                ONION_NTOR3_CIRC_VERIFICATION_LEN, c2->hdata,
                                c2->hlen, cm, sizeof(cm), &cm_len) != CHIVE_OK)
      return false;
    /* The client sends an empty extension list. */
    if (cm_len != 1 || cm[0] != 0)
      return false;
    if (onion_ntor3_server_reply(&st, NULL, NULL, 0, reply, cap, rlen, ks,
                                 sizeof(ks)) != CHIVE_OK)
      return false;
    relay_keys_from_material(&keys, ks);
  } else {
    return false;
  }
  fr_install(fr, idx, &keys);
  relay_keys_clear(&keys);
  if ((int)idx == fr->corrupt_hop)
    reply[40] ^= 1; /* inside AUTH for both ntor and ntor-v3 */
  return true;
}

/** Handle a relay message the client sent to hop <b>hop</b>. */
static void
fr_handle_relay(fake_relay_t *fr, size_t hop, const relay_cell_t *m)
{
  uint8_t body[RELAY_PAYLOAD_LEN];
  size_t len;
  fr_hop_t *fh = &fr->hops[hop];
  switch (m->h.command) {
  case RELAY_COMMAND_EXTEND2: {
    extend2_t e;
    fr->n_extend2++;
    if (extend2_parse(m->body, m->h.length, &e) != CHIVE_OK ||
        hop + 1 >= CIRCUIT_MAX_HOPS) {
      fr->n_bad_cells++;
      return;
    }
    const link_spec_t *ls = extend2_find_spec(&e, LINK_SPEC_LEGACY_ID);
    if (!ls || memcmp(ls->id, fr->hops[hop + 1].rsa_id, 20) != 0) {
      fr->n_bad_cells++;
      return;
    }
    if (fr->hold_replies)
      return;
    uint8_t reply[EXTENDED2_MAX_HLEN];
    size_t rlen = 0;
    if (!fr_server_handshake(fr, hop + 1, &e.create, reply, sizeof(reply),
                             &rlen)) {
      fr->n_bad_cells++;
      return;
    }
    created2_t c2 = {(uint16_t)rlen, reply};
    if (extended2_encode(&c2, body, sizeof(body), &len) != CHIVE_OK)
      abort();
    (void)fr_send(fr, hop, RELAY_COMMAND_EXTENDED2, 0, body, len);
    return;
  }
  case RELAY_COMMAND_BEGIN:
  case RELAY_COMMAND_BEGIN_DIR:
    fr->n_begin++;
    fr->last_begin_cmd = m->h.command;
    fr->last_begin_sid = m->h.stream_id;
    fr->stream_pw = STREAMWINDOW_START;
    fr->stream_data_recv = 0;
    fr->sid_recv[m->h.stream_id] = 0;
    fr->sid_bytes[m->h.stream_id] = 0;
    if (m->h.command == RELAY_COMMAND_BEGIN &&
        begin_parse(m->body, m->h.length, &fr->last_begin) != CHIVE_OK)
      fr->n_bad_cells++;
    if (fr->auto_connect) {
      len = 0;
      if (m->h.command == RELAY_COMMAND_BEGIN) {
        connected_t c;
        memset(&c, 0, sizeof(c));
        c.atype = RELAY_ATYPE_IPV4;
        c.addr[0] = 10;
        c.addr[3] = 7;
        c.ttl = 300;
        if (connected_encode(&c, body, sizeof(body), &len) != CHIVE_OK)
          abort();
      }
      (void)fr_send(fr, hop, RELAY_COMMAND_CONNECTED, m->h.stream_id, body,
                    len);
    }
    return;
  case RELAY_COMMAND_DATA:
    fh->data_recv++;
    fr->stream_data_recv++;
    fr->sid_recv[m->h.stream_id]++;
    fr->sid_bytes[m->h.stream_id] += m->h.length;
    if (fr->up_len + m->h.length <= FR_UP_CAP) {
      memcpy(fr->up + fr->up_len, m->body, m->h.length);
      fr->up_len += m->h.length;
    }
    if (fr->up_verify) {
      uint8_t expect[RELAY_PAYLOAD_LEN];
      fr_pattern(expect, m->h.length, (size_t)fr->up_total + fr->up_salt);
      if (memcmp(expect, m->body, m->h.length) != 0)
        fr->up_bad++;
      fr->up_total += m->h.length;
    }
    if (!fr->auto_sendme)
      return;
    if (fh->data_recv % CIRCWINDOW_INCREMENT == 0) {
      sendme_t s;
      s.version = 1;
      if (!relay_crypto_last_recv_digest(&fh->rc, s.digest))
        abort();
      if (sendme_encode(&s, body, sizeof(body), &len) != CHIVE_OK)
        abort();
      (void)fr_send(fr, hop, RELAY_COMMAND_SENDME, 0, body, len);
    }
    if (fr->sid_recv[m->h.stream_id] % STREAMWINDOW_INCREMENT == 0)
      (void)fr_send(fr, hop, RELAY_COMMAND_SENDME, m->h.stream_id, NULL, 0);
    return;
  case RELAY_COMMAND_SENDME:
    if (m->h.stream_id == 0) {
      sendme_t s;
      if (sendme_parse(m->body, m->h.length, &s) != CHIVE_OK ||
          fh->exp_n == 0) {
        fr->client_sendmes_bad++;
        return;
      }
      if (s.version == 0)
        fr->client_sendmes_v0++;
      if (s.version == 1 && memcmp(s.digest, fh->exp[fh->exp_head], 20) == 0)
        fr->client_sendmes_ok++;
      else
        fr->client_sendmes_bad++;
      fh->exp_head = (fh->exp_head + 1) % FR_MAX_PENDING;
      fh->exp_n--;
      fh->circ_pw += CIRCWINDOW_INCREMENT;
    } else {
      fr->stream_sendmes++;
      fr->stream_pw += STREAMWINDOW_INCREMENT;
    }
    return;
  case RELAY_COMMAND_END: {
    end_t e;
    fr->n_end++;
    fr->last_end_sid = m->h.stream_id;
    if (end_parse(m->body, m->h.length, &e) == CHIVE_OK)
      fr->last_end_reason = e.reason;
    return;
  }
  case RELAY_COMMAND_RESOLVE:
    fr->n_resolve++;
    fr->last_resolve_sid = m->h.stream_id;
    return;
  default:
    return;
  }
}

/** Process one cell the client sent. */
static void
fr_process(fake_relay_t *fr, const cell_t *cell)
{
  switch (cell->command) {
  case CELL_CREATE_FAST: {
    create_fast_t cf;
    created_fast_t cd;
    relay_keys_t keys;
    uint8_t payload[CELL_PAYLOAD_LEN];
    size_t len;
    fr->n_create_fast++;
    if (create_fast_parse(cell->payload, CELL_PAYLOAD_LEN, &cf) != CHIVE_OK)
      abort();
    if (crypto_rand(cd.y, sizeof(cd.y)) != CHIVE_OK)
      abort();
    if (onion_fast_server_handshake(cf.x, cd.y, cd.kh, &keys) != CHIVE_OK)
      abort();
    fr_install(fr, 0, &keys);
    relay_keys_clear(&keys);
    if (fr->corrupt_hop == 0)
      cd.kh[3] ^= 1;
    if (fr->hold_replies)
      return;
    memset(payload, 0, sizeof(payload));
    if (created_fast_encode(&cd, payload, sizeof(payload), &len) != CHIVE_OK)
      abort();
    (void)fr_deliver(fr, CELL_CREATED_FAST, payload);
    return;
  }
  case CELL_CREATE2: {
    create2_t c2;
    uint8_t reply[CREATED2_MAX_HLEN];
    uint8_t payload[CELL_PAYLOAD_LEN];
    size_t rlen = 0, len;
    fr->n_create2++;
    if (create2_parse(cell->payload, CELL_PAYLOAD_LEN, &c2) != CHIVE_OK ||
        !fr_server_handshake(fr, 0, &c2, reply, sizeof(reply), &rlen)) {
      fr->n_bad_cells++;
      return;
    }
    if (fr->hold_replies)
      return;
    created2_t cd = {(uint16_t)rlen, reply};
    memset(payload, 0, sizeof(payload));
    if (created2_encode(&cd, payload, sizeof(payload), &len) != CHIVE_OK)
      abort();
    (void)fr_deliver(fr, CELL_CREATED2, payload);
    return;
  }
  case CELL_DESTROY:
    fr->n_destroy++;
    fr->last_destroy_reason = cell->payload[0];
    return;
  case CELL_RELAY_EARLY:
  case CELL_RELAY: {
    uint8_t payload[CELL_PAYLOAD_LEN];
    size_t hop = 0;
    relay_cell_t m;
    if (cell->command == CELL_RELAY_EARLY)
      fr->n_relay_early++;
    fr->n_relay++;
    memcpy(payload, cell->payload, sizeof(payload));
    if (fr->n == 0 ||
        relay_crypto_decrypt_inbound(fr->ptrs, fr->n, payload, &hop) !=
            CHIVE_OK ||
        relay_cell_parse(payload, sizeof(payload), &m) != CHIVE_OK) {
      fr->n_bad_cells++;
      return;
    }
    fr_handle_relay(fr, hop, &m);
    return;
  }
  default:
    fr->n_bad_cells++;
    return;
  }
}

/** Process the client's cells until none are left. */
CHIVE_UNUSED static void
fr_pump(fake_relay_t *fr)
{
  while (fr->qn > 0) {
    cell_t cell = fr->q[fr->qh];
    fr->qh = (fr->qh + 1) % FR_MAX_CELLS;
    fr->qn--;
    fr_process(fr, &cell);
  }
}

/** Take up to <b>k</b> cells off the queue and process them (a slow
 * network).  Returns true iff the queue was congested and is now at or
 * below cong_low: the caller should then resume the circuit. */
CHIVE_UNUSED static bool
fr_drain(fake_relay_t *fr, size_t k)
{
  for (size_t i = 0; i < k && fr->qn > 0; i++) {
    cell_t cell = fr->q[fr->qh];
    fr->qh = (fr->qh + 1) % FR_MAX_CELLS;
    fr->qn--;
    fr_process(fr, &cell);
  }
  if (fr->congested && fr->qn <= fr->cong_low) {
    fr->congested = false;
    return true;
  }
  return false;
}

/** Fill <b>buf</b> with a recognisable pattern starting at offset
 * <b>off</b>. */
CHIVE_UNUSED static void
fr_pattern(uint8_t *buf, size_t len, size_t off)
{
  for (size_t i = 0; i < len; i++)
    buf[i] = (uint8_t)(((off + i) * 131u + 7u) >> 3);
}

/** Send <b>total</b> pattern bytes from hop <b>hop</b> on stream
 * <b>sid</b>, obeying the windows the client grants.  Returns false if
 * the client stopped granting windows or the circuit closed. */
CHIVE_UNUSED static bool
fr_download(fake_relay_t *fr, size_t hop, uint16_t sid, size_t total)
{
  uint8_t chunk[RELAY_PAYLOAD_LEN];
  size_t sent = 0;
  while (sent < total) {
    if (fr->hops[hop].circ_pw <= 0 || fr->stream_pw <= 0)
      fr_pump(fr);
    if (fr->hops[hop].circ_pw <= 0 || fr->stream_pw <= 0)
      return false;
    size_t n = total - sent;
    if (n > RELAY_PAYLOAD_LEN)
      n = RELAY_PAYLOAD_LEN;
    fr_pattern(chunk, n, sent);
    if (fr_send(fr, hop, RELAY_COMMAND_DATA, sid, chunk, n) != CHIVE_OK)
      return false;
    fr->stream_pw--;
    sent += n;
    fr_pump(fr);
  }
  return true;
}

#endif /* !defined(CHIVE_TEST_CIRCUIT_FAKE_H) */
