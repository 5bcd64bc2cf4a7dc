/* Unit tests for core/stream on top of core/circuit: BEGIN_DIR and BEGIN,
 * 300 KB both ways with stream and circuit windows and authenticated
 * SENDMEs checked by the fake relay, END reasons, half-closed IDs, stream
 * ID allocation, RESOLVE.  No sockets. */
#include "lib/cc/compat.h"

#include <stdlib.h>

#include "core/circuit/circuit_st.h"
#include "core/stream/stream.h"
#include "test_circuit_fake.h"
#include "tinytest.h"

static fake_relay_t fr;

#define DL_SIZE (300u * 1024u)
static uint8_t rx[DL_SIZE + 1024];

/* Owner-side record. */
static struct {
  size_t connected, ends, resolved, writable;
  connected_t info;
  stream_end_source_t end_src;
  uint8_t end_reason;
  end_t end;
  bool had_end;
  size_t rx_len;
  resolved_t res;
  uint8_t res_value[16];
  /* Upload source. */
  const uint8_t *src;
  size_t src_len, src_off;
  stream_t *st;
  bool close_in_data;
} own;

static void
o_connected(stream_t *st, const connected_t *info, void *arg)
{
  (void)st;
  (void)arg;
  own.connected++;
  own.info = *info;
}

static void
o_data(stream_t *st, const uint8_t *d, size_t len, void *arg)
{
  (void)arg;
  if (own.rx_len + len <= sizeof(rx))
    memcpy(rx + own.rx_len, d, len);
  own.rx_len += len;
  if (own.close_in_data)
    stream_close(st, END_REASON_DONE, fr.now);
}

static void
o_end(stream_t *st, stream_end_source_t src, uint8_t reason, const end_t *e,
      void *arg)
{
  (void)st;
  (void)arg;
  own.ends++;
  own.end_src = src;
  own.end_reason = reason;
  own.had_end = e != NULL;
  if (e)
    own.end = *e;
}

static void
o_resolved(stream_t *st, const resolved_t *r, void *arg)
{
  (void)st;
  (void)arg;
  own.resolved++;
  own.res = *r;
  if (r->n_answers > 0 && r->answers[0].len <= sizeof(own.res_value))
    memcpy(own.res_value, r->answers[0].value, r->answers[0].len);
}

static size_t
o_pull(stream_t *st, uint8_t *buf, size_t max, void *arg)
{
  (void)st;
  (void)arg;
  size_t n = own.src_len - own.src_off;
  if (n > max)
    n = max;
  memcpy(buf, own.src + own.src_off, n);
  own.src_off += n;
  return n;
}

static void
o_writable(stream_t *st, void *arg)
{
  (void)arg;
  size_t n = 0;
  own.writable++;
  if (stream_write(st, own.src + own.src_off, own.src_len - own.src_off, &n,
                   fr.now) == CHIVE_OK)
    own.src_off += n;
}

static const stream_owner_t owner_push = {o_connected, o_data, o_end,
                                          o_resolved,  NULL,   o_writable};
static const stream_owner_t owner_pull = {o_connected, o_data, o_end,
                                          o_resolved,  o_pull, NULL};

/** A fresh fake relay and an open circuit of <b>hops</b> hops
 * (CREATE_FAST when hops == 0 means one CREATE_FAST hop). */
static circuit_t *
setup_circ(size_t hops, const circuit_params_t *p)
{
  circuit_params_t def;
  circuit_sink_t sink = {fr_sink, &fr, NULL};
  circuit_t *c = NULL;
  memset(&own, 0, sizeof(own));
  fr_init(&fr);
  if (!p) {
    circuit_params_default(&def);
    p = &def;
  }
  if (circuit_new(p, CIRCUIT_PURPOSE_GENERAL, 7, &sink, NULL, NULL, NULL,
                  fr.now, &c) != CHIVE_OK)
    return NULL;
  fr.circ = c;
  if (hops == 0) {
    if (circuit_create_fast(c, fr.now) != CHIVE_OK)
      return c;
  } else {
    for (size_t i = 0; i < hops; i++) {
      circuit_hop_info_t hi;
      fr_hop_info(&fr, i, false, &hi);
      if (circuit_extend_to(c, &hi, fr.now) != CHIVE_OK)
        return c;
    }
  }
  fr_pump(&fr);
  return c;
}

static void
teardown(void)
{
  circuit_free(fr.circ);
  fr_clear(&fr);
}

static void
test_begin_dir_download_300k(void)
{
  stream_t *st = NULL;
  circuit_t *c = setup_circ(0, NULL);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_dirty_since_us(c), 0);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  T_EQ_INT(stream_state(st), STREAM_STATE_CONNECT_WAIT);
  T_ASSERT(circuit_dirty_since_us(c) != 0);
  fr_pump(&fr);
  T_EQ_UINT(fr.last_begin_cmd, RELAY_COMMAND_BEGIN_DIR);
  T_EQ_UINT(fr.last_begin_sid, stream_id(st));
  T_EQ_UINT(own.connected, 1);
  T_EQ_INT(stream_state(st), STREAM_STATE_OPEN);
  T_EQ_UINT(own.info.atype, RELAY_ATYPE_NONE);

  /* The directory request. */
  size_t n = 0;
  static const char req[] = "GET /tor/status-vote/current/consensus HTTP/1.0"
                            "\r\n\r\n";
  T_OK(stream_write(st, (const uint8_t *)req, sizeof(req) - 1, &n, fr.now));
  T_EQ_UINT(n, sizeof(req) - 1);
  fr_pump(&fr);
  T_EQ_UINT(fr.up_len, sizeof(req) - 1);
  T_EQ_MEM(fr.up, req, sizeof(req) - 1);

  /* 300 KB back: 617 cells, more than the stream window of 500, so the
   * stream SENDMEs must flow; 6 circuit SENDMEs, each v1 with the digest
   * of the 100th, 200th, ... cell (checked by the fake relay). */
  T_ASSERT(fr_download(&fr, 0, stream_id(st), DL_SIZE));
  fr_pump(&fr);
  T_EQ_UINT(own.rx_len, DL_SIZE);
  uint8_t expect[RELAY_PAYLOAD_LEN];
  for (size_t off = 0; off < DL_SIZE; off += sizeof(expect)) {
    size_t k = DL_SIZE - off < sizeof(expect) ? DL_SIZE - off : sizeof(expect);
    fr_pattern(expect, k, off);
    T_EQ_MEM(rx + off, expect, k);
  }
  const size_t cells = (DL_SIZE + RELAY_PAYLOAD_LEN - 1) / RELAY_PAYLOAD_LEN;
  T_EQ_UINT(fr.client_sendmes_ok, cells / CIRCWINDOW_INCREMENT);
  T_EQ_UINT(fr.client_sendmes_bad, 0);
  T_EQ_UINT(fr.client_sendmes_v0, 0);
  T_EQ_UINT(fr.stream_sendmes, (cells - 50 * 0) / STREAMWINDOW_INCREMENT);
  T_EQ_UINT(circuit_stats(c)->sendmes_sent, cells / CIRCWINDOW_INCREMENT);
  T_EQ_UINT(stream_bytes_received(st), DL_SIZE);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);

  /* The directory server ends the stream. */
  uint8_t body[1] = {END_REASON_DONE};
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_END, stream_id(st), body, 1));
  T_EQ_UINT(own.ends, 1);
  T_EQ_INT(own.end_src, STREAM_END_BY_PEER);
  T_EQ_UINT(own.end_reason, END_REASON_DONE);
  T_EQ_UINT(circuit_n_streams(c), 0);
  T_EQ_UINT(circuit_n_half_closed(c), 0);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 0); /* nothing sent back after their END */
done:
  teardown();
}

static void
test_upload_300k_push(void)
{
  static uint8_t src[DL_SIZE];
  stream_t *st = NULL;
  circuit_t *c = setup_circ(3, NULL);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  fr_pattern(src, sizeof(src), 11);
  T_OK(stream_open(c, "Example.COM", 443, 0, 0, &owner_push, NULL, fr.now,
                   &st));
  T_EQ_UINT(stream_hop(st), 2);
  /* Not writable before CONNECTED without optimistic data. */
  size_t n = 0;
  T_EQ_INT(stream_write(st, src, 10, &n, fr.now), CHIVE_ERR_INVAL);
  fr_pump(&fr);
  T_EQ_UINT(fr.last_begin_cmd, RELAY_COMMAND_BEGIN);
  T_EQ_STR(fr.last_begin.host, "example.com");
  T_EQ_UINT(fr.last_begin.port, 443);
  T_EQ_UINT(own.connected, 1);
  T_EQ_UINT(own.info.atype, RELAY_ATYPE_IPV4);
  T_EQ_UINT(own.info.ttl, 300);

  /* Hold the relay's SENDMEs: the first write stops at the stream
   * window (500 cells). */
  fr.auto_sendme = false;
  own.src = src;
  own.src_len = sizeof(src);
  T_OK(stream_write(st, src, sizeof(src), &n, fr.now));
  T_EQ_UINT(n, 500u * RELAY_PAYLOAD_LEN);
  own.src_off = n;
  T_EQ_INT(stream_package_window(st), 0);
  T_ASSERT(!stream_can_write(st));
  T_EQ_INT(circuit_package_window(c, 2), 500);
  /* Digests remembered for cells 100, 200, ..., 500 (proposal 289). */
  T_EQ_UINT(sendme_circ_n_pending(&c->hops[2]->sendme), 5);
  fr_pump(&fr);
  T_EQ_UINT(fr.up_len, n);
  T_EQ_UINT(fr.hops[2].data_recv, 500);
  /* One v1 SENDME with the 100th cell's digest is not available any
   * more at the relay, so send a v1 SENDME with its *latest* digest
   * (the 500th cell's): that is a mismatch and must close. */
  {
    sendme_t sm;
    uint8_t body[RELAY_PAYLOAD_LEN];
    size_t len;
    sm.version = 1;
    T_ASSERT(relay_crypto_last_recv_digest(&fr.hops[2].rc, sm.digest));
    T_OK(sendme_encode(&sm, body, sizeof(body), &len));
    T_EQ_INT(fr_send(&fr, 2, RELAY_COMMAND_SENDME, 0, body, len),
             CHIVE_ERR_CRYPTO);
    T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
    T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
  }
  teardown();

  /* The straightforward run: SENDMEs flowing from the start. */
  c = setup_circ(3, NULL);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  T_OK(stream_open(c, "10.0.0.1", 80, 0, 0, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  T_EQ_INT(stream_state(st), STREAM_STATE_OPEN);
  own.src = src;
  own.src_len = sizeof(src);
  T_OK(stream_write(st, src, sizeof(src), &n, fr.now));
  own.src_off = n;
  for (int rounds = 0; rounds < 100 && own.src_off < own.src_len; rounds++)
    fr_pump(&fr);
  fr_pump(&fr);
  T_EQ_UINT(own.src_off, sizeof(src));
  T_ASSERT(own.writable > 0);
  T_EQ_UINT(fr.up_len, sizeof(src));
  T_EQ_MEM(fr.up, src, sizeof(src));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_stats(c)->sendmes_received,
            (sizeof(src) + RELAY_PAYLOAD_LEN - 1) / RELAY_PAYLOAD_LEN / 100);
  T_EQ_UINT(stream_bytes_sent(st), sizeof(src));
  stream_close(st, END_REASON_DONE, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
  T_EQ_UINT(fr.last_end_reason, END_REASON_DONE);
  T_EQ_UINT(circuit_n_half_closed(c), 1);
done:
  teardown();
}

static void
test_upload_pull_two_streams(void)
{
  static uint8_t src[200000];
  stream_t *a = NULL, *b = NULL;
  circuit_t *c = setup_circ(0, NULL);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  fr_pattern(src, sizeof(src), 3);
  own.src = src;
  own.src_len = sizeof(src);
  T_OK(stream_open_dir(c, &owner_pull, NULL, fr.now, &a));
  fr_pump(&fr);
  T_EQ_INT(stream_state(a), STREAM_STATE_OPEN);
  /* The pull owner is asked as soon as CONNECTED arrived?  Only after a
   * kick, since it had no data then... it has: src is set. */
  stream_kick(a, fr.now);
  for (int i = 0; i < 100 && own.src_off < own.src_len; i++) {
    fr_pump(&fr);
    stream_kick(a, fr.now);
  }
  fr_pump(&fr);
  T_EQ_UINT(own.src_off, sizeof(src));
  T_EQ_UINT(fr.up_len, sizeof(src));
  T_EQ_MEM(fr.up, src, sizeof(src));
  /* A second stream gets a different ID. */
  T_OK(stream_open_dir(c, &owner_pull, NULL, fr.now, &b));
  T_ASSERT(stream_id(b) != stream_id(a));
  T_EQ_UINT(circuit_n_streams(c), 2);
done:
  teardown();
}

static void
test_end_reasons(void)
{
  stream_t *st = NULL;
  circuit_t *c = setup_circ(3, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  T_OK(
      stream_open(c, "example.org", 25, 0, 0, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  /* EXITPOLICY with an address and TTL (tor-spec §6.3). */
  uint8_t body[9] = {END_REASON_EXITPOLICY, 192, 0, 2, 1, 0, 0, 0, 60};
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_END, fr.last_begin_sid, body, 9));
  T_EQ_UINT(own.ends, 1);
  T_EQ_INT(own.end_src, STREAM_END_BY_PEER);
  T_EQ_UINT(own.end_reason, END_REASON_EXITPOLICY);
  T_ASSERT(own.had_end);
  T_EQ_UINT(own.end.atype, RELAY_ATYPE_IPV4);
  T_EQ_UINT(own.end.ttl, 60);
  T_EQ_STR(end_reason_name(own.end_reason), "EXITPOLICY");
  /* An empty END reads as MISC; an unknown reason is passed on. */
  own.ends = 0;
  T_OK(
      stream_open(c, "example.org", 26, 0, 0, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_END, fr.last_begin_sid, NULL, 0));
  T_EQ_UINT(own.end_reason, END_REASON_MISC);
  T_OK(
      stream_open(c, "example.org", 27, 0, 0, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  body[0] = 200;
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_END, fr.last_begin_sid, body, 1));
  T_EQ_UINT(own.end_reason, 200);
  T_EQ_UINT(own.ends, 2);
  T_EQ_UINT(circuit_n_streams(c), 0);
  /* A late cell for an ended stream is dropped, not fatal. */
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_DATA, fr.last_begin_sid, body, 3));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  /* Circuit close ends the remaining streams with DESTROY. */
  T_OK(
      stream_open(c, "example.org", 28, 0, 0, &owner_push, NULL, fr.now, &st));
  circuit_mark_for_close(c, DESTROY_REASON_FINISHED, fr.now);
  T_EQ_INT(own.end_src, STREAM_END_BY_CIRCUIT);
  T_EQ_UINT(own.end_reason, END_REASON_DESTROY);
  T_EQ_UINT(own.ends, 3);
done:
  teardown();
}

static void
test_half_closed(void)
{
  stream_t *st = NULL;
  uint8_t data[100];
  memset(data, 'x', sizeof(data));
  circuit_t *c = setup_circ(0, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  uint16_t sid = stream_id(st);
  /* We close before CONNECTED: END goes out, the ID is half-closed. */
  stream_close(st, END_REASON_MISC, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
  T_EQ_UINT(fr.last_end_sid, sid);
  T_EQ_UINT(fr.last_end_reason, END_REASON_MISC);
  T_EQ_UINT(circuit_n_streams(c), 0);
  T_EQ_UINT(circuit_n_half_closed(c), 1);
  /* The CONNECTED in flight and the granted 500 DATA cells are fine... */
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_CONNECTED, sid, NULL, 0));
  for (int i = 0; i < STREAMWINDOW_START; i++)
    T_OK(fr_send(&fr, 0, RELAY_COMMAND_DATA, sid, data, sizeof(data)));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(own.rx_len, 0); /* ... and go nowhere */
  T_EQ_UINT(own.ends, 0);   /* no callback after stream_close() */
  /* ... but one more DATA cell is more than we allowed. */
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_DATA, sid, data, sizeof(data)),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* A second CONNECTED on a half-closed ID closes; END removes it. */
  c = setup_circ(0, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  sid = stream_id(st);
  stream_close(st, END_REASON_DONE, fr.now);
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_END, sid, NULL, 0));
  T_EQ_UINT(circuit_n_half_closed(c), 0);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  sid = stream_id(st);
  stream_close(st, END_REASON_DONE, fr.now);
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_CONNECTED, sid, NULL, 0));
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_CONNECTED, sid, NULL, 0),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* Closing from inside the data callback is safe. */
  c = setup_circ(0, NULL);
  T_ASSERT(c);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  own.close_in_data = true;
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_DATA, stream_id(st), data, 10));
  T_EQ_UINT(own.rx_len, 10);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
  T_EQ_UINT(circuit_n_streams(c), 0);
  T_EQ_UINT(circuit_n_half_closed(c), 1);
done:
  teardown();
}

static void
test_stream_ids(void)
{
  circuit_params_t p;
  stream_t *st[6] = {NULL};
  circuit_params_default(&p);
  p.first_stream_id = 65534;
  p.max_streams = 4;
  circuit_t *c = setup_circ(0, &p);
  T_ASSERT(c);
  for (int i = 0; i < 3; i++)
    T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st[i]));
  /* Wrap-around skips 0. */
  T_EQ_UINT(stream_id(st[0]), 65534);
  T_EQ_UINT(stream_id(st[1]), 65535);
  T_EQ_UINT(stream_id(st[2]), 1);
  /* Close the middle one: its ID stays reserved (half-closed). */
  stream_close(st[1], END_REASON_DONE, fr.now);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st[3]));
  T_EQ_UINT(stream_id(st[3]), 2);
  /* Full: 3 live + 1 half-closed = 4.  The oldest half-closed ID is
   * forgotten to make room. */
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st[4]));
  T_EQ_UINT(circuit_n_half_closed(c), 0);
  T_EQ_UINT(circuit_n_streams(c), 4);
  /* Full of live streams: refused. */
  T_EQ_INT(stream_open_dir(c, &owner_push, NULL, fr.now, &st[5]),
           CHIVE_ERR_LIMIT);
  teardown();

  /* Many streams (bitmap path), IDs unique, then wrap past used ones. */
  circuit_params_default(&p);
  p.first_stream_id = 65500;
  p.max_streams = 200;
  c = setup_circ(0, &p);
  T_ASSERT(c);
  uint8_t seen[65536 / 8];
  memset(seen, 0, sizeof(seen));
  for (int i = 0; i < 200; i++) {
    stream_t *s = NULL;
    T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &s));
    uint16_t id = stream_id(s);
    T_ASSERT(id != 0);
    T_ASSERT(!(seen[id / 8] & (1u << (id % 8))));
    seen[id / 8] |= (uint8_t)(1u << (id % 8));
  }
  stream_t *s = NULL;
  T_EQ_INT(stream_open_dir(c, &owner_push, NULL, fr.now, &s), CHIVE_ERR_LIMIT);
done:
  teardown();
}

static void
test_stream_protocol_errors(void)
{
  stream_t *st = NULL;
  uint8_t data[10] = {0};
  circuit_t *c = setup_circ(0, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  /* DATA before CONNECTED ends the stream (TORPROTOCOL), not the
   * circuit. */
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_DATA, stream_id(st), data, 10));
  T_EQ_UINT(own.ends, 1);
  T_EQ_INT(own.end_src, STREAM_END_BY_PROTOCOL);
  T_EQ_UINT(own.end_reason, END_REASON_TORPROTOCOL);
  fr_pump(&fr);
  T_EQ_UINT(fr.last_end_reason, END_REASON_TORPROTOCOL);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  /* CONNECTED twice closes the circuit. */
  fr.auto_connect = true;
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  T_EQ_INT(stream_state(st), STREAM_STATE_OPEN);
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_CONNECTED, stream_id(st), NULL, 0),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_INT(own.end_src, STREAM_END_BY_CIRCUIT);
  teardown();

  /* A stream SENDME above the window start closes the circuit. */
  c = setup_circ(0, NULL);
  T_ASSERT(c);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_SENDME, stream_id(st), NULL, 0),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* Bad CONNECTED address after BEGIN: stream ended. */
  c = setup_circ(0, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  T_OK(
      stream_open(c, "example.net", 80, 0, 0, &owner_push, NULL, fr.now, &st));
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_CONNECTED, stream_id(st), data, 3));
  T_EQ_INT(own.end_src, STREAM_END_BY_PROTOCOL);
  /* Bad hosts are refused up front. */
  T_EQ_INT(
      stream_open(c, "bad host", 80, 0, 0, &owner_push, NULL, fr.now, &st),
      CHIVE_ERR_INVAL);
  T_EQ_INT(
      stream_open(c, "example.net", 0, 0, 0, &owner_push, NULL, fr.now, &st),
      CHIVE_ERR_INVAL);
done:
  teardown();
}

static void
test_peer_exceeds_stream_window(void)
{
  stream_t *st = NULL;
  uint8_t data[RELAY_PAYLOAD_LEN] = {0};
  circuit_t *c = setup_circ(0, NULL);
  T_ASSERT(c);
  T_OK(stream_open_dir(c, &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  /* The owner's buffers are full: no stream SENDMEs. */
  stream_set_recv_blocked(st, true, fr.now);
  for (int i = 0; i < STREAMWINDOW_START; i++)
    T_OK(fr_send(&fr, 0, RELAY_COMMAND_DATA, stream_id(st), data, 100));
  fr_pump(&fr);
  T_EQ_UINT(fr.stream_sendmes, 0);
  T_EQ_INT(stream_deliver_window(st), 0);
  /* Unblocking sends the owed SENDMEs: the window goes back to 500. */
  stream_set_recv_blocked(st, false, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.stream_sendmes, STREAMWINDOW_START / STREAMWINDOW_INCREMENT);
  T_EQ_INT(stream_deliver_window(st), STREAMWINDOW_START);
  /* Block again, and let the relay overrun the window. */
  stream_set_recv_blocked(st, true, fr.now);
  for (int i = 0; i < STREAMWINDOW_START; i++)
    T_OK(fr_send(&fr, 0, RELAY_COMMAND_DATA, stream_id(st), data, 10));
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_DATA, stream_id(st), data, 10),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
done:
  teardown();
}

static void
test_resolve(void)
{
  stream_t *st = NULL;
  circuit_t *c = setup_circ(3, NULL);
  T_ASSERT(c);
  T_OK(stream_resolve(c, "www.example.com", &owner_push, NULL, fr.now, &st));
  T_EQ_INT(stream_state(st), STREAM_STATE_RESOLVE_WAIT);
  size_t n = 0;
  T_EQ_INT(stream_write(st, (const uint8_t *)"x", 1, &n, fr.now),
           CHIVE_ERR_INVAL);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_resolve, 1);
  uint8_t body[] = {RESOLVED_TYPE_IPV4, 4, 93, 184, 216, 34, 0, 0, 1, 0};
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, body,
               sizeof(body)));
  T_EQ_UINT(own.resolved, 1);
  T_EQ_UINT(own.res.n_answers, 1);
  T_EQ_UINT(own.res.answers[0].type, RESOLVED_TYPE_IPV4);
  T_EQ_UINT(own.res.answers[0].ttl, 256);
  T_EQ_UINT(own.res_value[0], 93);
  T_EQ_UINT(circuit_n_streams(c), 0);
  /* A second RESOLVED for that ID is just an unknown stream: dropped. */
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, body,
               sizeof(body)));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  /* An error answer with company is a protocol error for the stream. */
  T_OK(stream_resolve(c, "bad.example", &owner_push, NULL, fr.now, &st));
  fr_pump(&fr);
  uint8_t bad[] = {RESOLVED_TYPE_ERROR_TRANSIENT,
                   0,
                   0,
                   0,
                   0,
                   0,
                   RESOLVED_TYPE_IPV4,
                   4,
                   1,
                   2,
                   3,
                   4,
                   0,
                   0,
                   0,
                   0};
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, bad,
               sizeof(bad)));
  T_EQ_INT(own.end_src, STREAM_END_BY_PROTOCOL);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
done:
  teardown();
}

static void
test_optimistic_data(void)
{
  stream_t *st = NULL;
  circuit_t *c = setup_circ(3, NULL);
  T_ASSERT(c);
  fr.auto_connect = false;
  T_OK(stream_open(c, "example.com", 80, BEGIN_FLAG_IPV6_OK,
                   STREAM_OPEN_OPTIMISTIC, &owner_push, NULL, fr.now, &st));
  size_t n = 0;
  T_OK(stream_write(st, (const uint8_t *)"GET / HTTP/1.0\r\n\r\n", 18, &n,
                    fr.now));
  T_EQ_UINT(n, 18);
  fr_pump(&fr);
  T_EQ_UINT(fr.last_begin.flags, BEGIN_FLAG_IPV6_OK);
  T_EQ_UINT(fr.up_len, 18);
done:
  teardown();
}

static void
test_open_refused(void)
{
  stream_t *st = NULL;
  circuit_params_t p;
  circuit_sink_t sink = {fr_sink, &fr, NULL};
  circuit_t *c = NULL;
  fr_init(&fr);
  circuit_params_default(&p);
  T_OK(circuit_new(&p, CIRCUIT_PURPOSE_GENERAL, 9, &sink, NULL, NULL, NULL, 0,
                   &c));
  fr.circ = c;
  /* No hop yet. */
  T_EQ_INT(stream_open_dir(c, &owner_push, NULL, 0, &st), CHIVE_ERR_INVAL);
  T_ASSERT(st == NULL);
  T_OK(circuit_create_fast(c, 0));
  fr_pump(&fr);
  circuit_mark_for_close(c, DESTROY_REASON_FINISHED, 0);
  T_EQ_INT(stream_open_dir(c, &owner_push, NULL, 0, &st), CHIVE_ERR_INVAL);
  T_ASSERT(strcmp(stream_state_name(STREAM_STATE_OPEN), "OPEN") == 0);
done:
  teardown();
}

static const t_case cases[] = {
    T_CASE(test_begin_dir_download_300k),
    T_CASE(test_upload_300k_push),
    T_CASE(test_upload_pull_two_streams),
    T_CASE(test_end_reasons),
    T_CASE(test_half_closed),
    T_CASE(test_stream_ids),
    T_CASE(test_stream_protocol_errors),
    T_CASE(test_peer_exceeds_stream_window),
    T_CASE(test_resolve),
    T_CASE(test_optimistic_data),
    T_CASE(test_open_refused),
    T_END,
};

T_MAIN(cases)
