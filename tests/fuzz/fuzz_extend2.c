/**
 * @file fuzz_extend2.c
 * @brief Fuzz EXTEND2 (with its link specifiers) and EXTENDED2.  An even
 * first byte selects EXTEND2, odd EXTENDED2.  Oracle: an accepted body
 * re-encodes to exactly the bytes it was parsed from (trailing bytes are
 * ignored by the parser), and EXTEND2 never holds two identities of one
 * kind.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/relay_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[65536 + 1024];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t *b = data + 1;
  size_t n = size - 1;
  size_t len;
  if (data[0] % 2 == 0) {
    extend2_t e;
    if (extend2_parse(b, n, &e))
      return 0;
    unsigned n_legacy = 0, n_ed = 0;
    for (unsigned i = 0; i < e.n_specs; i++) {
      n_legacy += e.specs[i].type == LINK_SPEC_LEGACY_ID;
      n_ed += e.specs[i].type == LINK_SPEC_ED25519_ID;
      if (extend2_find_spec(&e, e.specs[i].type) == NULL)
        __builtin_trap();
    }
    if (n_legacy > 1 || n_ed > 1 || e.n_specs > EXTEND2_MAX_LINK_SPECS)
      __builtin_trap();
    if (extend2_encode(&e, again, sizeof(again), &len) || len > n ||
        memcmp(again, b, len) != 0)
      __builtin_trap();
  } else {
    created2_t c;
    if (extended2_parse(b, n, &c))
      return 0;
    if (extended2_encode(&c, again, RELAY_PAYLOAD_LEN, &len) || len > n ||
        memcmp(again, b, len) != 0)
      __builtin_trap();
  }
  return 0;
}
