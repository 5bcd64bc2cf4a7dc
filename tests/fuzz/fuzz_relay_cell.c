/**
 * @file fuzz_relay_cell.c
 * @brief Fuzz the relay cell header codec.  Oracle: an accepted payload
 * re-packs (with zero padding) to the same header and data, and the
 * digest helpers read back what is there.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/relay_cell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  relay_cell_t rc;
  if (relay_cell_parse(data, size, &rc) != CHIVE_OK)
    return 0;
  (void)relay_command_name(rc.h.command);
  if (rc.h.length > RELAY_PAYLOAD_LEN)
    __builtin_trap();
  uint8_t again[CELL_PAYLOAD_LEN];
  if (relay_cell_pack(&rc.h, rc.body, rc.h.length, NULL, 0, again,
                      sizeof(again)) != CHIVE_OK)
    __builtin_trap();
  size_t used = RELAY_HEADER_LEN + rc.h.length;
  if (memcmp(again, data, used) != 0)
    __builtin_trap();
  for (size_t i = used; i < CELL_PAYLOAD_LEN; i++)
    if (again[i])
      __builtin_trap();
  uint8_t d[RELAY_DIGEST_LEN];
  relay_cell_get_digest(again, d);
  if (memcmp(d, rc.h.digest, RELAY_DIGEST_LEN) != 0 ||
      relay_cell_recognized_is_zero(again) != (rc.h.recognized == 0))
    __builtin_trap();
  relay_cell_t rc2;
  if (relay_cell_parse(again, sizeof(again), &rc2) != CHIVE_OK ||
      rc2.h.length != rc.h.length || rc2.h.stream_id != rc.h.stream_id)
    __builtin_trap();
  return 0;
}
