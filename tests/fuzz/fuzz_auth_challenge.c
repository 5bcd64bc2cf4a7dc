/**
 * @file fuzz_auth_challenge.c
 * @brief Fuzz the AUTH_CHALLENGE codec.  Oracle: an accepted body
 * re-encodes to a prefix of the input (trailing bytes are ignored).
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/link_cells.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  auth_challenge_t ac;
  if (auth_challenge_parse(data, size, &ac) != CHIVE_OK)
    return 0;
  uint8_t again[AUTH_CHALLENGE_LEN + 2 + 2 * AUTH_CHALLENGE_MAX_METHODS];
  size_t len;
  if (auth_challenge_encode(&ac, again, sizeof(again), &len) != CHIVE_OK ||
      len > size || memcmp(again, data, len) != 0)
    __builtin_trap();
  for (unsigned i = 0; i < ac.n_methods; i++)
    if (!auth_challenge_has_method(&ac, ac.methods[i]))
      __builtin_trap();
  return 0;
}
