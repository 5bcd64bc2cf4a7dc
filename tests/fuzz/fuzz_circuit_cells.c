/* Fuzz target: arbitrary cells into an open circuit.
 *
 * A deterministic CREATE_FAST handshake (fixed RNG seed) builds a one-hop
 * circuit against the fake relay of tests/unit/core/test_circuit_fake.h,
 * a BEGIN_DIR stream is opened and connected, then the input is read as
 * a sequence of records:
 *   mode(1)
 *     mode % 4 == 0: command(1) payload(509)       raw cell to the client
 *     mode % 4 == 1: relay_cmd(1) sid_lo(1) len(1) body(len)
 *                    a well-encrypted relay cell from the hop
 *     mode % 4 == 2: len(2) data(len)               client stream write
 *     mode % 4 == 3: op(1)                          owner action
 * Oracle: no crash, no sanitizer report, no BUG(); once closed the
 * circuit refuses every cell; nothing leaks.
 */
#include "lib/cc/compat.h"

#include <stdint.h>
#include <stdlib.h>

#include "../unit/core/test_circuit_fake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_relay_t fr;
static stream_t *fst;

static void
f_end(stream_t *st, stream_end_source_t src, uint8_t reason, const end_t *e,
      void *arg)
{
  (void)src;
  (void)reason;
  (void)e;
  (void)arg;
  if (st == fst)
    fst = NULL;
}

static void
f_resolved(stream_t *st, const resolved_t *r, void *arg)
{
  (void)r;
  (void)arg;
  if (st == fst)
    fst = NULL;
}

static const stream_owner_t owner = {NULL,       NULL, f_end,
                                     f_resolved, NULL, NULL};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint8_t seed[32] = {42};
  circuit_params_t p;
  circuit_sink_t sink = {fr_sink, &fr, NULL};
  circuit_t *c = NULL;
  size_t mem0 = chive_mem_in_use();

  crypto_rand_testing_set_deterministic(seed);
  fr_init(&fr);
  circuit_params_default(&p);
  p.first_stream_id = 1;
  if (circuit_new(&p, CIRCUIT_PURPOSE_DIR_ONEHOP, 0x80000001u, &sink, NULL,
                  NULL, NULL, fr.now, &c) != CHIVE_OK)
    abort();
  fr.circ = c;
  if (circuit_create_fast(c, fr.now) != CHIVE_OK)
    abort();
  fr_pump(&fr);
  if (circuit_state(c) != CIRCUIT_STATE_OPEN)
    abort();
  fst = NULL;
  if (stream_open_dir(c, &owner, NULL, fr.now, &fst) != CHIVE_OK)
    abort();
  fr_pump(&fr);

  rd_t r = rd_init(data, size);
  while (rd_left(&r) > 0) {
    uint8_t mode = rd_u8(&r);
    const bool closed_before = circuit_state(c) == CIRCUIT_STATE_CLOSED;
    chive_err_t err = CHIVE_OK;
    switch (mode % 4) {
    case 0: {
      uint8_t cmd = rd_u8(&r);
      uint8_t payload[CELL_PAYLOAD_LEN];
      memset(payload, 0, sizeof(payload));
      size_t n = rd_left(&r) < sizeof(payload) ? rd_left(&r) : sizeof(payload);
      rd_copy(&r, payload, n);
      err = fr_deliver(&fr, cmd, payload);
      break;
    }
    case 1: {
      uint8_t cmd = rd_u8(&r);
      uint16_t sid = rd_u8(&r) & 3;
      size_t len = rd_u8(&r);
      if (len > rd_left(&r))
        len = rd_left(&r);
      const uint8_t *body = rd_bytes(&r, len);
      if (!rd_ok(&r) || closed_before)
        break;
      err = fr_send(&fr, 0, cmd, sid, body, len);
      break;
    }
    case 2: {
      size_t len = rd_u16(&r);
      if (len > rd_left(&r))
        len = rd_left(&r);
      const uint8_t *d = rd_bytes(&r, len);
      size_t n = 0;
      if (rd_ok(&r) && fst)
        err = stream_write(fst, d, len, &n, fr.now);
      break;
    }
    case 3: {
      uint8_t op = rd_u8(&r);
      stream_t *s2 = NULL;
      if (op % 5 == 0 && fst) {
        stream_close(fst, END_REASON_DONE, fr.now);
        fst = NULL;
      } else if (op % 5 == 1 && !fst) {
        if (stream_open_dir(c, &owner, NULL, fr.now, &s2) == CHIVE_OK)
          fst = s2;
      } else if (op % 5 == 2 && fst) {
        stream_set_recv_blocked(fst, (op & 8) != 0, fr.now);
      } else if (op % 5 == 3 && !fst) {
        if (stream_resolve(c, "example.com", &owner, NULL, fr.now, &s2) ==
            CHIVE_OK)
          fst = s2;
      } else if (op % 5 == 4) {
        err = circuit_send_relay(c, 0, RELAY_COMMAND_DROP, 0, NULL, 0, fr.now);
      }
      break;
    }
    }
    (void)err;
    /* Once closed, the circuit takes nothing more. */
    if (closed_before && circuit_state(c) != CIRCUIT_STATE_CLOSED)
      abort();
    fr_pump(&fr);
  }
  if (circuit_state(c) == CIRCUIT_STATE_CLOSED) {
    uint8_t payload[CELL_PAYLOAD_LEN] = {0};
    if (fr_deliver(&fr, CELL_RELAY, payload) != CHIVE_ERR_CLOSED)
      abort();
  }
  circuit_free(c);
  fr_clear(&fr);
  if (chive_mem_in_use() != mem0)
    abort();
  return 0;
}
