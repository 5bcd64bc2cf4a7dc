/**
 * @file fuzz_base64.c
 * @brief Fuzz base64_decode; oracle: accepted input re-encodes to itself
 * (minus whitespace, with the same padding choice) and decodes again to
 * the same bytes.
 **/
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/encoding/base64.h"
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
  size_t max = base64_decoded_max_len(size);
  uint8_t *out = chive_malloc(max + 1);
  char *stripped = chive_malloc(size + 1);
  char *enc = NULL;
  uint8_t *again = NULL;
  size_t n = 0, n2 = 0, ns = 0;
  if (!out || !stripped)
    goto done;
  if (base64_decode(in, size, out, max, &n) != CHIVE_OK)
    goto done;
  CHECK(n <= max);
  /* A buffer one byte short must be refused. */
  if (n > 0) {
    size_t dummy = 0;
    CHECK(base64_decode(in, size, out, n - 1, &dummy) == CHIVE_ERR_LIMIT);
    CHECK(base64_decode(in, size, out, n, &dummy) == CHIVE_OK);
  }
  bool padded = false;
  for (size_t i = 0; i < size; i++) {
    char c = in[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
      continue;
    if (c == '=')
      padded = true;
    stripped[ns++] = c;
  }
  unsigned flags = padded ? 0 : BASE64_NOPAD;
  size_t elen = base64_encoded_len(n, flags);
  enc = chive_malloc(elen + 1);
  if (!enc)
    goto done;
  CHECK(base64_encode(out, n, enc, elen + 1, flags) == CHIVE_OK);
  CHECK(elen == ns && memcmp(enc, stripped, ns) == 0);
  /* Wrapped re-encoding decodes to the same bytes. */
  chive_free(enc);
  elen = base64_encoded_len(n, BASE64_WRAP64);
  enc = chive_malloc(elen + 1);
  again = chive_malloc(n + 1);
  if (!enc || !again)
    goto done;
  CHECK(base64_encode(out, n, enc, elen + 1, BASE64_WRAP64) == CHIVE_OK);
  CHECK(base64_decode(enc, elen, again, n, &n2) == CHIVE_OK);
  CHECK(n2 == n && memcmp(again, out, n) == 0);
done:
  chive_free(out);
  chive_free(stripped);
  chive_free(enc);
  chive_free(again);
  return 0;
}
