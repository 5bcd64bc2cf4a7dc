/* Fuzz target: lib/http response parser.  Oracle: every accepted
 * response's views lie inside the input. */
#include <stdint.h>
#include <stdlib.h>

#include "lib/http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  http_response_t r;
  if (http_parse_response(data, size, &r) != CHIVE_OK)
    return 0;
  const uint8_t *end = data + size;
  if (r.body < data || r.body + r.body_len != end)
    abort();
  for (size_t i = 0; i < r.n_headers; i++) {
    const uint8_t *v = (const uint8_t *)r.headers[i].value;
    if (v < data || v + r.headers[i].value_len > end)
      abort();
  }
  (void)http_find_header(&r, "Content-Encoding");
  return 0;
}
