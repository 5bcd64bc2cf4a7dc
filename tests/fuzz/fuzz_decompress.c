/* Fuzz target: lib/compress with hostile input.  The first byte picks the
 * method; the output cap is 1 MiB.  Oracle: the cap holds. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/compress/compress.h"
#include "lib/malloc/malloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  compress_method_t m = (compress_method_t)(data[0] % 4);
  uint8_t *out = NULL;
  size_t out_len = 0;
  if (decompress_all(m, data + 1, size - 1, 1u << 20, &out, &out_len) ==
      CHIVE_OK) {
    if (out_len > (1u << 20) || out[out_len] != 0)
      abort();
  }
  chive_free(out);
  return 0;
}
