/* Unit tests for core/circuit: handshakes (CREATE_FAST, ntor, ntor-v3,
 * EXTEND2), closing (DESTROY, TRUNCATED, protocol violations), relay
 * routing and RELAY_EARLY accounting, against the fake relay chain in
 * test_circuit_fake.h.  No sockets. */
#include "lib/cc/compat.h"

#include <stdlib.h>

#include "core/circuit/circuit.h"
#include "test_circuit_fake.h"
#include "tinytest.h"

static fake_relay_t fr;

/* Events recorded by the owner callbacks. */
static struct {
  size_t hop_added, opened, closed;
  uint8_t reason;
  bool remote;
  bool free_in_closed;
  size_t relay_msgs;
} ev;

static void
on_hop_added(circuit_t *c, size_t n, void *arg)
{
  (void)c;
  (void)arg;
  ev.hop_added++;
  (void)n;
}

static void
on_opened(circuit_t *c, void *arg)
{
  (void)c;
  (void)arg;
  ev.opened++;
}

static void
on_closed(circuit_t *c, uint8_t reason, bool remote, void *arg)
{
  (void)arg;
  ev.closed++;
  ev.reason = reason;
  ev.remote = remote;
  if (ev.free_in_closed) {
    /* Freeing from inside a callback is deferred, never a crash. */
    circuit_free_(c);
    fr.circ = NULL;
  }
}

static chive_err_t
on_relay_msg(circuit_t *c, size_t hop, const relay_cell_t *m, void *arg)
{
  (void)c;
  (void)hop;
  (void)arg;
  ev.relay_msgs++;
  return m->h.command == RELAY_COMMAND_INTRODUCE_ACK ? CHIVE_ERR_PROTO
                                                     : CHIVE_OK;
}

static const circuit_events_t events = {on_hop_added, on_opened, on_closed,
                                        on_relay_msg};

/** Fresh fake relay and a circuit wired to it. */
static circuit_t *
setup(const circuit_params_t *p)
{
  circuit_params_t def;
  circuit_sink_t sink = {fr_sink, &fr, NULL};
  circuit_t *c = NULL;
  memset(&ev, 0, sizeof(ev));
  fr_init(&fr);
  if (!p) {
    circuit_params_default(&def);
    p = &def;
  }
  if (circuit_new(p, CIRCUIT_PURPOSE_GENERAL, 0x80000001u, &sink, &events,
                  NULL, NULL, fr.now, &c) != CHIVE_OK)
    return NULL;
  fr.circ = c;
  return c;
}

static void
teardown(void)
{
  circuit_free(fr.circ);
  fr_clear(&fr);
}

/** Build <b>n</b> ntor (or ntor-v3) hops. */
static bool
build(circuit_t *c, size_t n, bool v3)
{
  for (size_t i = 0; i < n; i++) {
    circuit_hop_info_t hi;
    fr_hop_info(&fr, i, v3, &hi);
    if (circuit_extend_to(c, &hi, fr.now) != CHIVE_OK)
      return false;
  }
  fr_pump(&fr);
  return circuit_state(c) == CIRCUIT_STATE_OPEN && circuit_n_hops(c) == n;
}

static void
test_create_fast_open(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_BUILDING);
  T_EQ_INT(circuit_n_hops(c), 0);
  T_OK(circuit_create_fast(c, fr.now));
  T_EQ_UINT(fr.qn, 1);
  T_EQ_UINT(fr.q[0].command, CELL_CREATE_FAST);
  T_EQ_UINT(fr.q[0].circ_id, 0x80000001u);
  /* A second first hop is refused. */
  T_EQ_INT(circuit_create_fast(c, fr.now), CHIVE_ERR_INVAL);
  fr_pump(&fr);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_n_hops(c), 1);
  T_EQ_UINT(ev.hop_added, 1);
  T_EQ_UINT(ev.opened, 1);
  T_ASSERT(circuit_build_time_us(c) > 0);
  T_EQ_INT(circuit_package_window(c, 0), 1000);
  T_EQ_INT(circuit_deliver_window(c, 0), 1000);
  T_EQ_INT(circuit_package_window(c, 1), -1);
  /* A DROP from the hop is recognized and ignored. */
  T_OK(fr_send(&fr, 0, RELAY_COMMAND_DROP, 0, NULL, 0));
  T_EQ_UINT(circuit_stats(c)->cells_dropped, 1);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  /* Closing sends DESTROY with reason NONE (tor-spec §5.4). */
  circuit_mark_for_close(c, DESTROY_REASON_FINISHED, fr.now);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_destroy, 1);
  T_EQ_UINT(fr.last_destroy_reason, DESTROY_REASON_NONE);
  T_EQ_UINT(ev.closed, 1);
  T_EQ_UINT(ev.reason, DESTROY_REASON_FINISHED);
  T_ASSERT(!ev.remote);
  /* Idempotent, and cells after close are ignored. */
  circuit_mark_for_close(c, DESTROY_REASON_PROTOCOL, fr.now);
  T_EQ_UINT(ev.closed, 1);
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_DROP, 0, NULL, 0), CHIVE_ERR_CLOSED);
done:
  teardown();
}

static void
test_create_fast_bad_kh(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  fr.corrupt_hop = 0;
  T_OK(circuit_create_fast(c, fr.now));
  fr_pump(&fr);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(ev.opened, 0);
  T_EQ_UINT(ev.closed, 1);
  T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
  T_EQ_UINT(fr.n_destroy, 1);
done:
  teardown();
}

static void
test_ntor_three_hops(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, false));
  T_EQ_UINT(fr.n_create2, 1);
  T_EQ_UINT(fr.n_extend2, 2);
  T_EQ_UINT(fr.hops[0].htype, ONION_NTOR_HTYPE);
  T_EQ_UINT(fr.hops[2].htype, ONION_NTOR_HTYPE);
  /* EXTEND2 only in RELAY_EARLY (tor-spec §5.6). */
  T_EQ_UINT(fr.n_relay_early, 2);
  T_EQ_UINT(circuit_relay_early_left(c), 6);
  T_EQ_UINT(ev.hop_added, 3);
  T_EQ_UINT(ev.opened, 1);
  T_EQ_UINT(fr.n_bad_cells, 0);
  /* Every hop can be addressed (leaky pipe). */
  for (size_t i = 0; i < 3; i++) {
    T_OK(circuit_send_relay(c, i, RELAY_COMMAND_DROP, 0, NULL, 0, fr.now));
    T_OK(fr_send(&fr, i, RELAY_COMMAND_DROP, 0, NULL, 0));
  }
  fr_pump(&fr);
  T_EQ_UINT(fr.n_bad_cells, 0);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
done:
  teardown();
}

static void
test_ntor_v3_three_hops(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, true));
  T_EQ_UINT(fr.hops[0].htype, ONION_NTOR3_HTYPE);
  T_EQ_UINT(fr.hops[1].htype, ONION_NTOR3_HTYPE);
  T_EQ_UINT(fr.hops[2].htype, ONION_NTOR3_HTYPE);
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_DROP, 0, NULL, 0));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
done:
  teardown();
}

static void
test_ntor_v3_off_by_param(void)
{
  circuit_params_t p;
  circuit_params_default(&p);
  p.use_ntor_v3 = false;
  circuit_t *c = setup(&p);
  T_ASSERT(c);
  T_ASSERT(build(c, 2, true));
  T_EQ_UINT(fr.hops[1].htype, ONION_NTOR_HTYPE);
done:
  teardown();
}

static void
test_bad_created2_auth(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  fr.corrupt_hop = 0;
  T_ASSERT(!build(c, 1, false));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
  T_EQ_UINT(ev.opened, 0);
  T_EQ_UINT(fr.n_destroy, 1);
done:
  teardown();
}

static void
test_bad_extended2_auth(void)
{
  for (int v3 = 0; v3 < 2; v3++) {
    circuit_t *c = setup(NULL);
    T_ASSERT(c);
    fr.corrupt_hop = 2;
    T_ASSERT(!build(c, 3, v3 != 0));
    T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
    T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
    T_EQ_UINT(circuit_n_hops(c), 2); /* hop 3's keys never committed */
    T_EQ_UINT(ev.hop_added, 2);
    T_EQ_UINT(fr.n_destroy, 1);
    teardown();
  }
  return;
done:
  teardown();
}

static void
test_destroy_every_state(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  /* 0: before CREATED; 1: one hop, open; 2: during EXTEND2; 3: two hops,
   * open. */
  for (int stage = 0; stage < 4; stage++) {
    circuit_t *c = setup(NULL);
    T_ASSERT(c);
    circuit_hop_info_t hi;
    fr_hop_info(&fr, 0, false, &hi);
    T_OK(circuit_extend_to(c, &hi, fr.now));
    if (stage == 0) {
      fr.hold_replies = true;
    }
    fr_pump(&fr);
    if (stage >= 2) {
      fr.hold_replies = (stage == 2);
      fr_hop_info(&fr, 1, false, &hi);
      T_OK(circuit_extend_to(c, &hi, fr.now));
      fr_pump(&fr);
    }
    T_EQ_INT(circuit_state(c),
             (stage % 2) ? CIRCUIT_STATE_OPEN : CIRCUIT_STATE_BUILDING);
    memset(payload, 0, sizeof(payload));
    payload[0] = DESTROY_REASON_CONNECTFAILED;
    T_OK(fr_deliver(&fr, CELL_DESTROY, payload));
    T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
    T_EQ_UINT(ev.closed, 1);
    T_EQ_UINT(ev.reason, DESTROY_REASON_CONNECTFAILED);
    T_ASSERT(ev.remote);
    T_ASSERT(circuit_closed_remotely(c));
    fr_pump(&fr);
    T_EQ_UINT(fr.n_destroy, 0); /* nothing sent back */
    /* Later cells, even another DESTROY, are ignored. */
    T_EQ_INT(fr_deliver(&fr, CELL_DESTROY, payload), CHIVE_ERR_CLOSED);
    T_EQ_UINT(ev.closed, 1);
    teardown();
  }
  return;
done:
  teardown();
}

static void
test_truncated(void)
{
  uint8_t body[1] = {DESTROY_REASON_OR_IDENTITY};
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, false));
  T_OK(fr_send(&fr, 1, RELAY_COMMAND_TRUNCATED, 0, body, 1));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(ev.reason, DESTROY_REASON_OR_IDENTITY);
  T_ASSERT(ev.remote);
  fr_pump(&fr);
  /* tor-spec §5.4: the OP then tears the circuit down with DESTROY. */
  T_EQ_UINT(fr.n_destroy, 1);
done:
  teardown();
}

static void
test_unrecognized_cell(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, false));
  T_OK(crypto_rand(payload, sizeof(payload)));
  T_EQ_INT(fr_deliver(&fr, CELL_RELAY, payload), CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_PROTOCOL);
  T_ASSERT(!ev.remote);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_destroy, 1);
done:
  teardown();
}

static void
test_cells_not_allowed(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  memset(payload, 0, sizeof(payload));
  /* The table itself. */
  T_ASSERT(circuit_cell_allowed(CIRCUIT_STATE_BUILDING, CELL_CREATED_FAST, 0,
                                CELL_CREATED_FAST));
  T_ASSERT(!circuit_cell_allowed(CIRCUIT_STATE_BUILDING, CELL_CREATED2, 0,
                                 CELL_CREATED_FAST));
  T_ASSERT(!circuit_cell_allowed(CIRCUIT_STATE_BUILDING, CELL_CREATED2, 0,
                                 CELL_RELAY));
  T_ASSERT(circuit_cell_allowed(CIRCUIT_STATE_OPEN, 0, 1, CELL_RELAY));
  T_ASSERT(!circuit_cell_allowed(CIRCUIT_STATE_OPEN, 0, 1, CELL_RELAY_EARLY));
  T_ASSERT(!circuit_cell_allowed(CIRCUIT_STATE_OPEN, 0, 1, CELL_CREATE2));
  T_ASSERT(circuit_cell_allowed(CIRCUIT_STATE_OPEN, 0, 1, CELL_DESTROY));
  T_ASSERT(!circuit_cell_allowed(CIRCUIT_STATE_CLOSED, 0, 1, CELL_DESTROY));

  /* Inbound RELAY_EARLY: "MUST close the circuit immediately". */
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 1, false));
  T_EQ_INT(fr_deliver(&fr, CELL_RELAY_EARLY, payload), CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* CREATED2 on an open circuit. */
  c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 1, false));
  T_EQ_INT(fr_deliver(&fr, CELL_CREATED2, payload), CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* A relay cell before any hop exists. */
  c = setup(NULL);
  T_ASSERT(c);
  T_OK(circuit_create_fast(c, fr.now));
  T_EQ_INT(fr_deliver(&fr, CELL_RELAY, payload), CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* An EXTENDED2 nobody asked for. */
  c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 2, false));
  T_EQ_INT(fr_send(&fr, 1, RELAY_COMMAND_EXTENDED2, 0, payload, 66),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  teardown();

  /* DATA with stream id 0. */
  c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 1, false));
  T_EQ_INT(fr_send(&fr, 0, RELAY_COMMAND_DATA, 0, payload, 10),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
done:
  teardown();
}

static void
test_relay_early_budget(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, CIRCUIT_MAX_HOPS, false));
  T_EQ_UINT(fr.n_extend2, CIRCUIT_MAX_HOPS - 1);
  T_EQ_UINT(fr.n_relay_early, CIRCUIT_MAX_HOPS - 1);
  T_EQ_UINT(fr.n_bad_cells, 0);
  circuit_hop_info_t hi;
  fr_hop_info(&fr, 0, false, &hi);
  T_EQ_INT(circuit_extend_to(c, &hi, fr.now), CHIVE_ERR_LIMIT);
  T_EQ_UINT(circuit_n_hops_planned(c), CIRCUIT_MAX_HOPS);
  /* Ordinary cells use the rest only down to the reserve. */
  for (int i = 0; i < 10; i++)
    T_OK(circuit_send_relay(c, 7, RELAY_COMMAND_DROP, 0, NULL, 0, fr.now));
  fr_pump(&fr);
  T_ASSERT(fr.n_relay_early <= CIRCUIT_MAX_RELAY_EARLY);
  T_EQ_UINT(fr.n_bad_cells, 0);
  teardown();

  /* Ordinary cells on a 3-hop circuit: RELAY_EARLY until the reserve. */
  c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, false));
  for (int i = 0; i < 20; i++)
    T_OK(circuit_send_relay(c, 2, RELAY_COMMAND_DROP, 0, NULL, 0, fr.now));
  fr_pump(&fr);
  T_EQ_UINT(circuit_relay_early_left(c), CIRCUIT_RELAY_EARLY_RESERVE);
  T_EQ_UINT(fr.n_relay_early,
            CIRCUIT_MAX_RELAY_EARLY - CIRCUIT_RELAY_EARLY_RESERVE);
  /* The reserve still allows extending an open circuit. */
  fr_hop_info(&fr, 3, false, &hi);
  T_OK(circuit_extend_to(c, &hi, fr.now));
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_BUILDING);
  fr_pump(&fr);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_UINT(circuit_n_hops(c), 4);
  T_EQ_UINT(ev.opened, 2);
done:
  teardown();
}

static void
test_sink_failure(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 1, false));
  fr.fail_sink = true;
  T_EQ_INT(circuit_send_relay(c, 0, RELAY_COMMAND_DROP, 0, NULL, 0, fr.now),
           CHIVE_ERR_IO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
  T_EQ_UINT(circuit_close_reason(c), DESTROY_REASON_CHANNEL_CLOSED);
done:
  teardown();
}

static void
test_channel_closed_and_free_in_callback(void)
{
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 2, false));
  ev.free_in_closed = true;
  circuit_handle_channel_closed(c, fr.now);
  /* The circuit freed itself from inside its closed callback. */
  T_EQ_UINT(ev.closed, 1);
  T_EQ_UINT(ev.reason, DESTROY_REASON_CHANNEL_CLOSED);
  T_ASSERT(fr.circ == NULL);
  fr_pump(&fr);
  T_EQ_UINT(fr.n_destroy, 0);

  /* Same from inside circuit_handle_cell (a TRUNCATED). */
  fr_clear(&fr);
  c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 2, false));
  ev.free_in_closed = true;
  T_OK(fr_send(&fr, 1, RELAY_COMMAND_TRUNCATED, 0, NULL, 0));
  T_ASSERT(fr.circ == NULL);
  T_EQ_UINT(ev.reason, DESTROY_REASON_NONE);
done:
  teardown();
}

static void
test_owner_relay_msg_hook(void)
{
  uint8_t body[4] = {1, 2, 3, 4};
  circuit_t *c = setup(NULL);
  T_ASSERT(c);
  T_ASSERT(build(c, 3, false));
  T_OK(fr_send(&fr, 2, RELAY_COMMAND_RENDEZVOUS2, 0, body, 4));
  T_EQ_UINT(ev.relay_msgs, 1);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_OPEN);
  T_EQ_INT(fr_send(&fr, 2, RELAY_COMMAND_INTRODUCE_ACK, 0, body, 4),
           CHIVE_ERR_PROTO);
  T_EQ_INT(circuit_state(c), CIRCUIT_STATE_CLOSED);
done:
  teardown();
}

static void
test_new_args(void)
{
  circuit_params_t p;
  circuit_sink_t sink = {fr_sink, &fr, NULL};
  circuit_sink_t nosink = {NULL, NULL, NULL};
  circuit_t *c = NULL;
  circuit_params_default(&p);
  T_EQ_INT(circuit_new(&p, CIRCUIT_PURPOSE_GENERAL, 0, &sink, NULL, NULL, NULL,
                       0, &c),
           CHIVE_ERR_INVAL);
  T_EQ_INT(circuit_new(&p, CIRCUIT_PURPOSE_GENERAL, 5, &nosink, NULL, NULL,
                       NULL, 0, &c),
           CHIVE_ERR_INVAL);
  T_ASSERT(c == NULL);
  /* OOM at every allocation of new + create_fast leaves no leak. */
  for (uint64_t n = 1; n < 20; n++) {
    chive_mem_fail_nth(n, false);
    chive_err_t err = circuit_new(&p, CIRCUIT_PURPOSE_DIR_ONEHOP, 5, &sink,
                                  NULL, NULL, NULL, 0, &c);
    if (err == CHIVE_OK) {
      err = circuit_create_fast(c, 0);
      circuit_free(c);
    }
    chive_mem_fail_nth(0, false);
  }
  circuit_free(c); /* NULL is fine */
  T_ASSERT(strcmp(circuit_state_name(CIRCUIT_STATE_OPEN), "OPEN") == 0);
done:
  chive_mem_fail_nth(0, false);
  fr.qn = 0;
}

static const t_case cases[] = {
    T_CASE(test_create_fast_open),
    T_CASE(test_create_fast_bad_kh),
    T_CASE(test_ntor_three_hops),
    T_CASE(test_ntor_v3_three_hops),
    T_CASE(test_ntor_v3_off_by_param),
    T_CASE(test_bad_created2_auth),
    T_CASE(test_bad_extended2_auth),
    T_CASE(test_destroy_every_state),
    T_CASE(test_truncated),
    T_CASE(test_unrecognized_cell),
    T_CASE(test_cells_not_allowed),
    T_CASE(test_relay_early_budget),
    T_CASE(test_sink_failure),
    T_CASE(test_channel_closed_and_free_in_callback),
    T_CASE(test_owner_relay_msg_hook),
    T_CASE(test_new_args),
    T_END,
};

T_MAIN(cases)
