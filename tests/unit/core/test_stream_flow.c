/* Back-pressure and flow-control tests for core/stream + core/circuit
 * against the fake relay chain (test_circuit_fake.h), no sockets:
 *  - 50 MiB each way through one stream on a 3-hop circuit at once, over a
 *    slow "channel" that congests again and again, with an owner that
 *    keeps blocking its receive side: windows stay in range, every SENDME
 *    digest matches (proposal 289, both ways), every byte arrives in
 *    order, circuit SENDMEs keep flowing while the stream is blocked;
 *  - fair turns for several streams (pull and push) on one circuit;
 *  - a congested channel refuses data but not control cells. */
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

static const t_case cases[] = {
    T_CASE(test_congested_refuses_only_data),
    T_CASE(test_fair_turns),
    T_CASE(test_50mib_both_ways_congested),
    T_END,
};

T_MAIN(cases)
