/**
 * @file fuzz_protover.c
 * @brief Fuzz subprotocol version lists (tor-spec §9, dir-spec §2.1.1).
 * Oracle: an accepted list formats canonically and re-parses to the same
 * set; a set always supports itself.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feature/dir/parse/protover.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  protover_set_t a, b, m;
  if (protover_parse((const char *)data, size, &a) != CHIVE_OK)
    return 0;
  char buf[8192];
  size_t n = protover_format(&a, buf, sizeof(buf));
  if (n >= sizeof(buf))
    __builtin_trap();
  if (protover_parse(buf, n, &b) != CHIVE_OK)
    __builtin_trap();
  if (memcmp(a.known, b.known, sizeof(a.known)) != 0 ||
      a.n_unknown != b.n_unknown)
    __builtin_trap();
  if (!a.unknown_overflow && !protover_all_supported(&a, &a, &m))
    __builtin_trap();
  return 0;
}
