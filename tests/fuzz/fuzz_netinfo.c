/**
 * @file fuzz_netinfo.c
 * @brief Fuzz the NETINFO codec.  Oracle: an accepted body re-encodes
 * into one cell payload, and parse(encode(parse(x))) == parse(x).
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/cell.h"
#include "core/proto/link_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
addr_eq(const netinfo_addr_t *a, const netinfo_addr_t *b)
{
  return a->atype == b->atype && memcmp(a->addr, b->addr, 16) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  netinfo_t ni, n2;
  if (netinfo_parse(data, size, &ni) != CHIVE_OK)
    return 0;
  uint8_t again[CELL_PAYLOAD_LEN];
  size_t len;
  if (netinfo_encode(&ni, again, sizeof(again), &len) != CHIVE_OK)
    __builtin_trap();
  if (netinfo_parse(again, len, &n2) != CHIVE_OK)
    __builtin_trap();
  if (n2.timestamp != ni.timestamp || n2.n_my_addrs != ni.n_my_addrs ||
      !addr_eq(&n2.other_addr, &ni.other_addr))
    __builtin_trap();
  for (unsigned i = 0; i < ni.n_my_addrs; i++)
    if (!addr_eq(&n2.my_addrs[i], &ni.my_addrs[i]))
      __builtin_trap();
  return 0;
}
