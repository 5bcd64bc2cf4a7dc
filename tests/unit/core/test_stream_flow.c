/* Back-pressure and flow-control tests for core/stream + core/circuit
 * against the fake relay chain (test_circuit_fake.h), no sockets:
 *  - 50 MiB each way through one stream on a 3-hop circuit at once, over a
 *    slow "channel" that congests again and again, with an owner that
 *    keeps blocking its receive side: windows stay in range, every SENDME
 *    digest matches (proposal 289, both ways), every byte arrives in
 *    order, circuit SENDMEs keep flowing while the stream is blocked;
 *  - fair turns for several streams (pull and push) on one circuit;
 *  - a congested channel refuses data but not control cells;
 *  - what a SOCKS proxy meets: optimistic data answered by END (the owner
 *    learns it was lost), END EXITPOLICY with an IPv6 address and TTL,
 *    CONNECTED with IPv6, RESOLVED with every answer type, late cells on
 *    half-closed streams counted toward the circuit window. */
#include "lib/cc/compat.h"

#include <stdlib.h>

#include "core/circuit/circuit_st.h"
#include "core/stream/stream.h"
#include "test_circuit_fake.h"
#include "tinytest.h"

static fake_relay_t fr;

/** Bytes moved each way by the big test. */
#define FLOW_TOTAL (50u * 1024u * 1024u)
/** Upload pattern offset (so the two directions differ). */
#define UP_SALT 777u

static struct {
  stream_t *st;
  /* upload (pull) */
  uint64_t up_off, up_total;
  /* download */
  uint64_t dl_got, dl_bad, dl_cells;
  bool blocked;
  size_t block_every, since_block, n_blocks;
  size_t ends;
  uint8_t end_reason;
  /* push owner for the fairness test */
  uint8_t push_buf[4 * RELAY_PAYLOAD_LEN];
  size_t writable_calls;
} own;

static size_t
o_pull(stream_t *st, uint8_t *buf, size_t max, void *arg)
{
  (void)st;
  (void)arg;
  uint64_t left = own.up_total - own.up_off;
  size_t n = left < max ? (size_t)left : max;
  fr_pattern(buf, n, (size_t)own.up_off + UP_SALT);
  own.up_off += n;
  return n;
}

static void
o_data(stream_t *st, const uint8_t *d, size_t len, void *arg)
{
  uint8_t expect[RELAY_PAYLOAD_LEN];
  (void)arg;
  fr_pattern(expect, len, (size_t)own.dl_got);
  if (len > sizeof(expect) || memcmp(expect, d, len) != 0)
    own.dl_bad++;
  own.dl_got += len;
  own.dl_cells++;
  if (own.block_every && ++own.since_block >= own.block_every) {
    /* The application's buffers are full. */
    stream_set_recv_blocked(st, true, fr.now);
    own.blocked = true;
    own.since_block = 0;
    own.n_blocks++;
  }
}

static void
o_end(stream_t *st, stream_end_source_t src, uint8_t reason, const end_t *e,
      void *arg)
{
  (void)st;
  (void)src;
  (void)e;
  (void)arg;
  own.ends++;
  own.end_reason = reason;
}

/* Push owner with an endless supply: writes whatever it is allowed. */
static void
o_writable(stream_t *st, void *arg)
{
  size_t n = 0;
  (void)arg;
  own.writable_calls++;
  if (stream_write(st, own.push_buf, sizeof(own.push_buf), &n, fr.now) !=
      CHIVE_OK)
    own.dl_bad++;
}

static size_t
o_pull_endless(stream_t *st, uint8_t *buf, size_t max, void *arg)
{
  (void)st;
  (void)arg;
  memset(buf, 'p', max);
  return max;
}

static const stream_owner_t owner_flow = {NULL, o_data, o_end,
                                          NULL, o_pull, NULL};
static const stream_owner_t owner_endless_pull = {
    NULL, NULL, o_end, NULL, o_pull_endless, NULL};
static const stream_owner_t owner_endless_push = {NULL, NULL, o_end,
                                                  NULL, NULL, o_writable};

/** A fresh fake relay and an open circuit of <b>hops</b> ntor hops whose
 * sink reports the fake's congestion. */
static circuit_t *
setup_circ(size_t hops)
{
  circuit_params_t p;
  circuit_sink_t sink = {fr_sink, &fr, fr_congested};
  circuit_t *c = NULL;
  memset(&own, 0, sizeof(own));
  fr_init(&fr);
  circuit_params_default(&p);
  if (circuit_new(&p, CIRCUIT_PURPOSE_GENERAL, 7, &sink, NULL, NULL, NULL,
                  fr.now, &c) != CHIVE_OK)
    return NULL;
  fr.circ = c;
  for (size_t i = 0; i < hops; i++) {
    circuit_hop_info_t hi;
    fr_hop_info(&fr, i, i == 1, &hi);
    if (circuit_extend_to(c, &hi, fr.now) != CHIVE_OK)
      return c;
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

/** The fake channel drained: resume rounds until nothing moves or it
 * congests again. */
static void
resume_all(circuit_t *c)
{
  while (!fr.congested && circuit_resume_round(c, fr.now))
    ;
}

static void
test_50mib_both_ways_congested(void)
{
  static uint8_t chunk[RELAY_PAYLOAD_LEN];
  const size_t hop = 2;
  circuit_t *c = setup_circ(3);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  T_OK(stream_open(c, "example.com", 80, 0, 0, &owner_flow, NULL, fr.now,
                   &own.st));
  fr_pump(&fr);
  T_EQ_INT(stream_state(own.st), STREAM_STATE_OPEN);
  const uint16_t sid = stream_id(own.st);

  fr.up_verify = true;
  fr.up_salt = UP_SALT;
  fr.cong_high = 32;
  fr.cong_low = 8;
  own.block_every = 700;
  own.up_total = FLOW_TOTAL;
  stream_kick(own.st, fr.now); /* starts pulling until congested */
  T_ASSERT(fr.congested);

  uint64_t dl_sent = 0, dl_cells_sent = 0;
  size_t resumes = 0;
  unsigned long iter = 0;
  while ((fr.up_total < FLOW_TOTAL || own.dl_got < FLOW_TOTAL) &&
         iter < 4000000ul) {
    iter++;
    /* The exit sends what its windows allow, a few cells at a time. */
    for (int i = 0; i < 8 && dl_sent < FLOW_TOTAL; i++) {
      if (fr.hops[hop].circ_pw <= 0 || fr.stream_pw <= 0)
        break;
      size_t n = FLOW_TOTAL - dl_sent < RELAY_PAYLOAD_LEN
                     ? (size_t)(FLOW_TOTAL - dl_sent)
                     : RELAY_PAYLOAD_LEN;
      fr_pattern(chunk, n, (size_t)dl_sent);
      T_OK(fr_send(&fr, hop, RELAY_COMMAND_DATA, sid, chunk, n));
      fr.stream_pw--;
      dl_sent += n;
      dl_cells_sent++;
    }
    /* A slow network takes a few of our cells. */
    if (fr_drain(&fr, 6)) {
      resumes++;
      resume_all(c);
    }
    /* Now and then the application reads and unblocks. */
    if (own.blocked && iter % 5 == 0) {
      own.blocked = false;
      stream_set_recv_blocked(own.st, false, fr.now);
    }
    /* Windows in range; the relay never thinks it may send more than we
     * granted; a circuit SENDME for every 100 cells, blocked or not. */
    if (iter % 64 == 0 || own.blocked) {
      T_ASSERT(circuit_package_window(c, hop) >= 0 &&
               circuit_package_window(c, hop) <= CIRCWINDOW_START_MAX);
      T_ASSERT(circuit_deliver_window(c, hop) >= 0 &&
               circuit_deliver_window(c, hop) <= CIRCWINDOW_START_MAX);
      T_ASSERT(stream_package_window(own.st) >= 0 &&
               stream_package_window(own.st) <= STREAMWINDOW_START);
      T_ASSERT(stream_deliver_window(own.st) >= 0 &&
               stream_deliver_window(own.st) <= STREAMWINDOW_START);
      T_ASSERT(fr.stream_pw <= stream_deliver_window(own.st));
      T_ASSERT(fr.hops[hop].circ_pw <= circuit_deliver_window(c, hop));
      T_EQ_UINT(circuit_stats(c)->sendmes_sent,
                dl_cells_sent / CIRCWINDOW_INCREMENT);
    }
    /* Blocked and out of stream window: the exit is stopped exactly at
     * the window, and we have not sent it a stream SENDME. */
    if (own.blocked && fr.stream_pw == 0)
      T_EQ_INT(stream_deliver_window(own.st), 0);
    T_ASSERT(circuit_state(c) == CIRCUIT_STATE_OPEN);
  }
  /* Flush what is left. */
  for (int i = 0; i < 100 && fr.qn > 0; i++)
    if (fr_drain(&fr, 64))
      resume_all(c);

  const uint64_t cells = (FLOW_TOTAL + RELAY_PAYLOAD_LEN - 1) /
                         RELAY_PAYLOAD_LEN;
  T_EQ_UINT(own.dl_got, FLOW_TOTAL);
  T_EQ_UINT(own.dl_bad, 0);
  T_EQ_UINT(fr.up_total, FLOW_TOTAL);
  T_EQ_UINT(fr.up_bad, 0);
  T_EQ_UINT(stream_bytes_sent(own.st), FLOW_TOTAL);
  T_EQ_UINT(stream_bytes_received(own.st), FLOW_TOTAL);
  /* Our SENDMEs: one per 100 cells, every v1 digest right. */
  T_EQ_UINT(fr.client_sendmes_ok, cells / CIRCWINDOW_INCREMENT);
  T_EQ_UINT(fr.client_sendmes_bad, 0);
  T_EQ_UINT(fr.client_sendmes_v0, 0);
  /* Theirs: every one accepted (a mismatch closes the circuit). */
  T_EQ_UINT(circuit_stats(c)->sendmes_received, cells / CIRCWINDOW_INCREMENT);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  /* The channel congested over and over, the owner blocked over and
   * over, and data never overran the congestion mark by more than the
   * control cells that are never refused. */
  T_ASSERT(fr.n_congested > 1000);
  T_ASSERT(resumes > 1000);
  T_ASSERT(own.n_blocks > 100);
  T_ASSERT(fr.max_qn <= fr.cong_high + 16);
  fprintf(stderr,
          "  50 MiB each way: %lu iterations, congested %zu times, "
          "blocked %zu times, longest queue %zu cells\n",
          iter, fr.n_congested, own.n_blocks, fr.max_qn);
  stream_close(own.st, END_REASON_DONE, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
done:
  teardown();
}

/* Three streams with endless data (two pull, one push) on one circuit
 * behind a slow channel: after many drain cycles each has sent about a
 * third. */
static void
test_fair_turns(void)
{
  stream_t *s[3] = {NULL, NULL, NULL};
  circuit_t *c = setup_circ(1);
  T_ASSERT(c && circuit_state(c) == CIRCUIT_STATE_OPEN);
  T_OK(stream_open(c, "a.example", 80, 0, 0, &owner_endless_pull, NULL,
                   fr.now, &s[0]));
  T_OK(stream_open(c, "b.example", 80, 0, 0, &owner_endless_push, NULL,
                   fr.now, &s[1]));
  T_OK(stream_open(c, "c.example", 80, 0, 0, &owner_endless_pull, NULL,
                   fr.now, &s[2]));
  fr.cong_high = 24;
  fr.cong_low = 6;
  fr_pump(&fr); /* CONNECTED x3: pulls start; congests */
  size_t n = 0;
  T_OK(stream_write(s[1], own.push_buf, sizeof(own.push_buf), &n, fr.now));
  for (int i = 0; i < 20000; i++) {
    if (fr_drain(&fr, 4))
      resume_all(c);
  }
  uint64_t b[3], total = 0;
  for (int i = 0; i < 3; i++) {
    b[i] = fr.sid_bytes[stream_id(s[i])];
    total += b[i];
  }
  fprintf(stderr, "  fair turns: %llu / %llu / %llu bytes\n",
          (unsigned long long)b[0], (unsigned long long)b[1],
          (unsigned long long)b[2]);
  T_ASSERT(total > 10u * 1024u * 1024u);
  for (int i = 0; i < 3; i++) {
    T_ASSERT(b[i] * 10 >= total * 3 * 8 / 10); /* >= 0.8 of a third */
    T_ASSERT(b[i] * 10 <= total * 4);          /* <= 1.2 of a third */
  }
  T_ASSERT(own.writable_calls > 100);
  T_EQ_UINT(own.dl_bad, 0);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(fr.client_sendmes_bad, 0);
done:
  teardown();
}

/* While congested: no data is packaged, control cells still go out, and
 * a write is cut short and resumed by the next round. */
static void
test_congested_refuses_only_data(void)
{
  stream_t *st = NULL, *st2 = NULL;
  uint8_t data[2000];
  size_t n = 1;
  circuit_t *c = setup_circ(1);
  T_ASSERT(c);
  memset(data, 'x', sizeof(data));
  T_OK(stream_open(c, "example.com", 80, 0, 0, &owner_endless_push, NULL,
                   fr.now, &st));
  fr_pump(&fr);
  T_EQ_INT(stream_state(st), STREAM_STATE_OPEN);
  fr.congested = true;
  T_ASSERT(circuit_is_blocked_on_channel(c));
  T_ASSERT(!circuit_can_package(c, 0));
  T_ASSERT(!stream_can_write(st));
  T_OK(stream_write(st, data, sizeof(data), &n, fr.now));
  T_EQ_UINT(n, 0);
  T_EQ_UINT(fr.qn, 0);
  /* BEGIN, END and DESTROY are not data: they go out. */
  T_OK(stream_open(c, "example.net", 443, 0, 0, &owner_endless_push, NULL,
                   fr.now, &st2));
  T_EQ_UINT(fr.qn, 1);
  stream_close(st2, END_REASON_DONE, fr.now);
  T_EQ_UINT(fr.qn, 2);
  /* No round while congested. */
  T_ASSERT(!circuit_resume_round(c, fr.now));
  T_EQ_UINT(own.writable_calls, 0);
  /* Drained: the cut-short writer gets its turn, one cell per round. */
  fr.congested = false;
  T_ASSERT(circuit_resume_round(c, fr.now));
  T_EQ_UINT(own.writable_calls, 1);
  T_EQ_UINT(stream_bytes_sent(st), RELAY_PAYLOAD_LEN);
  T_ASSERT(circuit_resume_round(c, fr.now));
  T_EQ_UINT(stream_bytes_sent(st), 2 * RELAY_PAYLOAD_LEN);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
  circuit_mark_for_close(c, DESTROY_REASON_FINISHED, fr.now);
  fr.congested = true;
  fr_pump(&fr);
  T_EQ_UINT(fr.n_destroy, 1);
done:
  teardown();
}

/* ---- what a SOCKS proxy meets ------------------------------------------- */

static struct {
  size_t connected, ends, resolved;
  connected_t info;
  uint8_t reason;
  bool had_end;
  end_t end;
  uint64_t unconfirmed_at_end;
  resolved_t res;
  uint8_t values[4][32];
} ed;

static void
e_connected(stream_t *st, const connected_t *info, void *arg)
{
  (void)st;
  (void)arg;
  ed.connected++;
  ed.info = *info;
}

static void
e_end(stream_t *st, stream_end_source_t src, uint8_t reason, const end_t *e,
      void *arg)
{
  (void)src;
  (void)arg;
  ed.ends++;
  ed.reason = reason;
  ed.had_end = e != NULL;
  if (e)
    ed.end = *e;
  ed.unconfirmed_at_end = stream_unconfirmed_bytes(st);
}

static void
e_resolved(stream_t *st, const resolved_t *r, void *arg)
{
  (void)st;
  (void)arg;
  ed.resolved++;
  ed.res = *r;
  for (size_t i = 0; i < r->n_answers && i < 4; i++) {
    memcpy(ed.values[i], r->answers[i].value,
           r->answers[i].len < 32 ? r->answers[i].len : 32);
    ed.res.answers[i].value = ed.values[i];
  }
}

static const stream_owner_t owner_edge = {e_connected, NULL, e_end,
                                          e_resolved,  NULL, NULL};

static void
test_optimistic_then_end_exitpolicy(void)
{
  stream_t *st = NULL;
  uint8_t req[1000];
  size_t n = 0;
  memset(&ed, 0, sizeof(ed));
  circuit_t *c = setup_circ(3);
  T_ASSERT(c);
  fr.auto_connect = false;
  memset(req, 'G', sizeof(req));
  T_OK(stream_open(c, "example.com", 80, 0, STREAM_OPEN_OPTIMISTIC,
                   &owner_edge, NULL, fr.now, &st));
  const uint16_t sid = stream_id(st);
  T_OK(stream_write(st, req, sizeof(req), &n, fr.now));
  T_EQ_UINT(n, sizeof(req));
  T_EQ_UINT(stream_unconfirmed_bytes(st), sizeof(req));
  fr_pump(&fr);
  /* BEGIN first, then the data on the same circuit (BEGIN resets the
   * relay's per-stream count, so DATA before it would read 0). */
  T_EQ_UINT(fr.n_begin, 1);
  T_EQ_UINT(fr.sid_recv[sid], 3); /* 498 + 498 + 4 */
  T_EQ_UINT(fr.up_len, sizeof(req));
  /* The exit refuses: END EXITPOLICY with an IPv6 address and a TTL
   * (tor-spec §6.3). */
  uint8_t body[1 + 16 + 4];
  body[0] = END_REASON_EXITPOLICY;
  for (int i = 0; i < 16; i++)
    body[1 + i] = (uint8_t)(0x20 + i);
  body[17] = 0;
  body[18] = 0;
  body[19] = 0x0e;
  body[20] = 0x10; /* 3600 s */
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_END, sid, body, sizeof(body)));
  T_EQ_UINT(ed.ends, 1);
  T_EQ_UINT(ed.reason, END_REASON_EXITPOLICY);
  T_ASSERT(ed.had_end);
  T_EQ_UINT(ed.end.atype, RELAY_ATYPE_IPV6);
  T_EQ_MEM(ed.end.addr, body + 1, 16);
  T_EQ_UINT(ed.end.ttl, 3600);
  /* The owner learns its optimistic bytes were not delivered. */
  T_EQ_UINT(ed.unconfirmed_at_end, sizeof(req));
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 0); /* nothing sent back after their END */

  /* Optimistic data that is confirmed: CONNECTED with IPv6. */
  T_OK(stream_open(c, "example.net", 443, BEGIN_FLAG_IPV6_OK,
                   STREAM_OPEN_OPTIMISTIC, &owner_edge, NULL, fr.now, &st));
  T_OK(stream_write(st, req, 10, &n, fr.now));
  fr_pump(&fr);
  uint8_t cb[4 + 1 + 16 + 4];
  memset(cb, 0, sizeof(cb));
  cb[4] = RELAY_ATYPE_IPV6;
  for (int i = 0; i < 16; i++)
    cb[5 + i] = (uint8_t)(0xa0 + i);
  cb[24] = 60;
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_CONNECTED, stream_id(st), cb,
               sizeof(cb)));
  T_EQ_UINT(ed.connected, 1);
  T_EQ_UINT(ed.info.atype, RELAY_ATYPE_IPV6);
  T_EQ_MEM(ed.info.addr, cb + 5, 16);
  T_EQ_UINT(ed.info.ttl, 60);
  T_EQ_UINT(stream_unconfirmed_bytes(st), 0);
  /* The circuit dies: the stream ends, nothing unconfirmed. */
  circuit_mark_for_close(c, DESTROY_REASON_FINISHED, fr.now);
  T_EQ_UINT(ed.ends, 2);
  T_EQ_UINT(ed.reason, END_REASON_DESTROY);
  T_EQ_UINT(ed.unconfirmed_at_end, 0);
done:
  teardown();
}

static void
test_resolved_answers(void)
{
  stream_t *st = NULL;
  memset(&ed, 0, sizeof(ed));
  circuit_t *c = setup_circ(1);
  T_ASSERT(c);
  /* IPv4 + IPv6 + hostname, each with its TTL (tor-spec §6.4). */
  T_OK(stream_resolve(c, "multi.example", &owner_edge, NULL, fr.now, &st));
  fr_pump(&fr);
  uint8_t b[64];
  size_t k = 0;
  b[k++] = RESOLVED_TYPE_IPV4;
  b[k++] = 4;
  b[k++] = 192, b[k++] = 0, b[k++] = 2, b[k++] = 7;
  b[k++] = 0, b[k++] = 0, b[k++] = 0, b[k++] = 30;
  b[k++] = RESOLVED_TYPE_IPV6;
  b[k++] = 16;
  for (int i = 0; i < 16; i++)
    b[k++] = (uint8_t)(0x20 + i);
  b[k++] = 0, b[k++] = 0, b[k++] = 1, b[k++] = 0;
  b[k++] = RESOLVED_TYPE_HOSTNAME;
  b[k++] = 9;
  memcpy(b + k, "host.test", 9);
  k += 9;
  b[k++] = 0, b[k++] = 0, b[k++] = 0, b[k++] = 5;
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, b, k));
  T_EQ_UINT(ed.resolved, 1);
  T_EQ_UINT(ed.res.n_answers, 3);
  T_EQ_UINT(ed.res.answers[0].type, RESOLVED_TYPE_IPV4);
  T_EQ_UINT(ed.res.answers[0].ttl, 30);
  T_EQ_MEM(ed.values[0], b + 2, 4);
  T_EQ_UINT(ed.res.answers[1].type, RESOLVED_TYPE_IPV6);
  T_EQ_UINT(ed.res.answers[1].ttl, 256);
  T_EQ_MEM(ed.values[1], b + 12, 16);
  T_EQ_UINT(ed.res.answers[2].type, RESOLVED_TYPE_HOSTNAME);
  T_EQ_UINT(ed.res.answers[2].len, 9);
  T_EQ_MEM(ed.values[2], "host.test", 9);
  T_EQ_UINT(ed.res.answers[2].ttl, 5);
  T_EQ_UINT(circuit_n_half_closed(c), 0);

  /* A lone error answer is an answer, not a protocol error. */
  T_OK(stream_resolve(c, "nx.example", &owner_edge, NULL, fr.now, &st));
  fr_pump(&fr);
  uint8_t err[] = {RESOLVED_TYPE_ERROR_NONTRANSIENT, 0, 0, 0, 0, 0};
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, err,
               sizeof(err)));
  T_EQ_UINT(ed.resolved, 2);
  T_EQ_UINT(ed.res.n_answers, 1);
  T_EQ_UINT(ed.res.answers[0].type, RESOLVED_TYPE_ERROR_NONTRANSIENT);

  /* A truncated answer ends the stream (TORPROTOCOL), keeps the circuit,
   * and leaves no half-closed entry waiting for another answer. */
  T_OK(stream_resolve(c, "bad.example", &owner_edge, NULL, fr.now, &st));
  fr_pump(&fr);
  uint8_t trunc[] = {RESOLVED_TYPE_IPV4, 4, 1, 2};
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_RESOLVED, fr.last_resolve_sid, trunc,
               sizeof(trunc)));
  T_EQ_UINT(ed.ends, 1);
  T_EQ_UINT(ed.reason, END_REASON_TORPROTOCOL);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_n_half_closed(c), 0);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 0); /* no END on a RESOLVE stream */
done:
  teardown();
}

/* Late DATA on a stream we closed is dropped quietly but still counts
 * toward the circuit window, so our circuit SENDMEs keep coming with the
 * right digests (tor-spec §6.3, §7.3). */
static void
test_half_closed_counts_circuit_window(void)
{
  stream_t *st = NULL;
  uint8_t data[RELAY_PAYLOAD_LEN];
  memset(&ed, 0, sizeof(ed));
  memset(data, 'd', sizeof(data));
  circuit_t *c = setup_circ(3);
  T_ASSERT(c);
  T_OK(stream_open(c, "example.com", 80, 0, 0, &owner_edge, NULL, fr.now,
                   &st));
  fr_pump(&fr);
  T_EQ_UINT(ed.connected, 1);
  const uint16_t sid = stream_id(st);
  stream_close(st, END_REASON_DONE, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_end, 1);
  for (int i = 0; i < 450; i++)
    T_OK(fr_send(&fr, 2, RELAY_COMMAND_DATA, sid, data, sizeof(data)));
  fr_pump(&fr);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_stats(c)->sendmes_sent, 4);
  T_EQ_UINT(fr.client_sendmes_ok, 4);
  T_EQ_UINT(fr.client_sendmes_bad, 0);
  T_EQ_INT(circuit_deliver_window(c, 2), CIRCWINDOW_START_MAX - 50);
  T_EQ_UINT(fr.stream_sendmes, 0); /* none for a closed stream */
  T_EQ_UINT(ed.ends, 0);
  /* Their END retires the ID; it is then free for reuse. */
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_END, sid, NULL, 0));
  T_EQ_UINT(circuit_n_half_closed(c), 0);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
done:
  teardown();
}

static const t_case cases[] = {
    T_CASE(test_optimistic_then_end_exitpolicy),
    T_CASE(test_resolved_answers),
    T_CASE(test_half_closed_counts_circuit_window),
    T_CASE(test_congested_refuses_only_data),
    T_CASE(test_fair_turns),
    T_CASE(test_50mib_both_ways_congested),
    T_END,
};

T_MAIN(cases)
