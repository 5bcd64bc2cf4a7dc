/**
 * @file fuzz_base32.c
 * @brief Fuzz base32_decode; oracle: accepted input re-encodes to itself
 * up to case (with the same padding choice) and decodes to the same
 * bytes again.
 **/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding/base32.h"
#include "lib/malloc/malloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c))    \
      abort();   \
  } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *in = (const char *)data;
  size_t max = base32_decoded_max_len(size);
  uint8_t *out = chive_malloc(max + 1);
  char *enc = NULL;
  size_t n = 0;
  if (!out)
    goto done;
  if (base32_decode(in, size, out, max, &n) != CHIVE_OK)
    goto done;
  CHECK(n <= max);
  if (n > 0) {
    size_t dummy = 0;
    CHECK(base32_decode(in, size, out, n - 1, &dummy) == CHIVE_ERR_LIMIT);
    CHECK(base32_decode(in, size, out, n, &dummy) == CHIVE_OK);
  }
  unsigned flags = (size > 0 && in[size - 1] == '=') ? BASE32_PAD : 0;
  size_t elen = base32_encoded_len(n, flags);
  enc = chive_malloc(elen + 1);
  if (!enc)
    goto done;
  CHECK(base32_encode(out, n, enc, elen + 1, flags) == CHIVE_OK);
  CHECK(elen == size);
  for (size_t i = 0; i < size; i++) {
    char a = in[i], b = enc[i];
    if (a >= 'A' && a <= 'Z')
      a = (char)(a - 'A' + 'a');
    CHECK(a == b);
  }
done:
  chive_free(out);
  chive_free(enc);
  return 0;
}
