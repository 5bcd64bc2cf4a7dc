/**
 * @file fuzz_certs_cell.c
 * @brief Fuzz the CERTS codec.  Oracle: an accepted body re-encodes
 * within the body limit to a prefix of the input (trailing bytes are
 * ignored), and the helpers agree with each other.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/link_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  certs_cell_t cc;
  if (certs_cell_parse(data, size, &cc) != CHIVE_OK)
    return 0;
  static uint8_t again[CERTS_CELL_MAX_BODY_LEN];
  size_t len;
  if (certs_cell_encode(&cc, again, sizeof(again), &len) != CHIVE_OK ||
      len > size || memcmp(again, data, len) != 0)
    __builtin_trap();
  bool dup = false;
  for (unsigned i = 0; i < cc.n_certs; i++) {
    const certs_cell_cert_t *c = certs_cell_find(&cc, cc.certs[i].type);
    if (!c || c->type != cc.certs[i].type || c > &cc.certs[i])
      __builtin_trap();
    if (certs_cell_count_type(&cc, cc.certs[i].type) > 1)
      dup = true;
    if (cc.certs[i].body < data || cc.certs[i].body + cc.certs[i].len >
                                       data + size)
      __builtin_trap();
  }
  if (dup != certs_cell_has_duplicates(&cc))
    __builtin_trap();
  return 0;
}
