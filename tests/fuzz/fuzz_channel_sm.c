/**
 * @file fuzz_channel_sm.c
 * @brief Fuzz the client link-handshake state machine (core/channel,
 * tor-spec §4) with arbitrary relay bytes, delivered in chunks whose
 * sizes come from the input.  Oracles: the machine never opens (random
 * bytes cannot pass CERTS verification), a closed machine always has a
 * reason and detail, the link protocol is 0, 4 or 5, and the input queue
 * never exceeds its bound.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/channel/channel_sm.h"
#include "lib/crypto/crypto_init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint8_t fake_tls_cert[32] = {1, 2, 3};
  static int inited;
  if (!inited) {
    if (crypto_global_init() != CHIVE_OK)
      __builtin_trap();
    inited = 1;
  }
  if (size < 1)
    return 0;
  size_t chunk = (size_t)data[0] % 64 + 1;
  data++;
  size--;

  channel_sm_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  memset(cfg.expect.rsa_id, 0xab, sizeof(cfg.expect.rsa_id));
  cfg.in_max = 16384;
  channel_sm_t *sm = channel_sm_new(&cfg, 0);
  if (!sm)
    return 0;
  if (channel_sm_tls_done(sm, fake_tls_cert, sizeof(fake_tls_cert)) !=
      CHIVE_OK)
    __builtin_trap();
  size_t off = 0;
  while (off < size && channel_sm_state(sm) != CHANNEL_STATE_CLOSED) {
    size_t n = size - off < chunk ? size - off : chunk;
    size_t room = buf_room(channel_sm_inbuf(sm));
    if (n > room)
      n = room;
    if (n == 0)
      break;
    if (channel_sm_feed(sm, data + off, n) != CHIVE_OK)
      __builtin_trap();
    off += n;
    for (int i = 0; i < 10000; i++) {
      channel_sm_event_t ev;
      cell_t c;
      if (channel_sm_process(sm, 1, 1700000000, &ev, &c) != CHIVE_OK ||
          ev == CHANNEL_SM_EV_NONE || ev == CHANNEL_SM_EV_CLOSED)
        break;
    }
    if (buf_len(channel_sm_inbuf(sm)) > 16384)
      __builtin_trap();
  }
  if (channel_sm_state(sm) == CHANNEL_STATE_OPEN)
    __builtin_trap();
  if (channel_sm_state(sm) == CHANNEL_STATE_CLOSED &&
      (channel_sm_close_reason(sm) == CHANNEL_CLOSE_NONE ||
       channel_sm_close_detail(sm)[0] == '\0'))
    __builtin_trap();
  unsigned lp = channel_sm_link_proto(sm);
  if (lp != 0 && lp != 4 && lp != 5)
    __builtin_trap();
  channel_sm_free(sm);
  return 0;
}
