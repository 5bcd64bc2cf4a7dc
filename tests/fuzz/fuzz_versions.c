/**
 * @file fuzz_versions.c
 * @brief Fuzz the VERSIONS codec.  Oracle: an accepted body re-encodes to
 * the same bytes; versions_choose() agrees with the parsed list.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/link_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const uint16_t ours[] = {3, 4, 5};
  uint16_t chosen = 0;
  chive_err_t ce = versions_choose(data, size, ours, 3, &chosen);
  versions_t v;
  chive_err_t e = versions_parse(data, size, &v);
  if (e == CHIVE_ERR_PROTO && ce != CHIVE_ERR_PROTO)
    __builtin_trap();
  if (e != CHIVE_OK)
    return 0;
  uint16_t best = 0;
  for (unsigned i = 0; i < v.n_versions; i++)
    if (v.versions[i] >= 3 && v.versions[i] <= 5 && v.versions[i] > best)
      best = v.versions[i];
  if ((best == 0) != (ce == CHIVE_ERR_NOTFOUND) || (best && chosen != best))
    __builtin_trap();
  uint8_t again[2 * VERSIONS_MAX_LISTED];
  size_t len;
  if (versions_encode(v.versions, v.n_versions, again, sizeof(again),
                      &len) != CHIVE_OK ||
      len != size || memcmp(again, data, size) != 0)
    __builtin_trap();
  return 0;
}
