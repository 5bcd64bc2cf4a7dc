/**
 * @file fuzz_create_cells.c
 * @brief Fuzz the circuit cell bodies (CREATE_FAST, CREATED_FAST,
 * CREATE2, CREATED2, DESTROY) and PADDING_NEGOTIATE.  The first byte
 * picks the codec.  Oracle: an accepted body re-encodes within one cell
 * payload to a prefix of the input (the rest is padding).
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/cell.h"
#include "core/proto/circ_cells.h"
#include "core/proto/link_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t *b = data + 1;
  size_t n = size - 1;
  uint8_t again[CELL_PAYLOAD_LEN];
  size_t len = 0;
  chive_err_t e;
  switch (data[0] % 6) {
  case 0: {
    create_fast_t m;
    if (create_fast_parse(b, n, &m))
      return 0;
    e = create_fast_encode(&m, again, sizeof(again), &len);
    break;
  }
  case 1: {
    created_fast_t m;
    if (created_fast_parse(b, n, &m))
      return 0;
    e = created_fast_encode(&m, again, sizeof(again), &len);
    break;
  }
  case 2: {
    create2_t m;
    if (create2_parse(b, n, &m))
      return 0;
    e = create2_encode(&m, again, sizeof(again), &len);
    break;
  }
  case 3: {
    created2_t m;
    if (created2_parse(b, n, &m))
      return 0;
    e = created2_encode(&m, again, sizeof(again), &len);
    break;
  }
  case 4: {
    uint8_t reason;
    if (destroy_parse(b, n, &reason))
      return 0;
    (void)destroy_reason_name(reason);
    e = destroy_encode(reason, again, sizeof(again), &len);
    break;
  }
  default: {
    padding_negotiate_t m;
    if (padding_negotiate_parse(b, n, &m))
      return 0;
    e = padding_negotiate_encode(&m, again, sizeof(again), &len);
    break;
  }
  }
  if (e != CHIVE_OK || len > n || memcmp(again, b, len) != 0)
    __builtin_trap();
  return 0;
}
