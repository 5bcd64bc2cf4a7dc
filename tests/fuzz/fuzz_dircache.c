/* Fuzz target: feature/dir/dircache splitters, which cut untrusted cache
 * files and directory responses into documents.  The first byte picks the
 * splitter.  Oracles: every chunk lies inside the input, chunks do not
 * overlap and come in order, and the count returned equals the number of
 * callbacks. */
#include <stdint.h>
#include <stdlib.h>

#include "feature/dir/dircache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct walk_t {
  const char *base;
  size_t len;
  const char *last_end;
  size_t n;
} walk_t;

static bool
check_chunk(const char *s, size_t len, void *arg)
{
  walk_t *w = arg;
  if (s < w->base || len > w->len || s + len > w->base + w->len ||
      s < w->last_end)
    abort();
  w->last_end = s + len;
  w->n++;
  return true;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const char *s = (const char *)data + 1;
  walk_t w = {s, size - 1, s, 0};
  size_t n = (data[0] & 1) ? dircache_split_certs(s, size - 1, check_chunk, &w)
                           : dircache_split_mds(s, size - 1, check_chunk, &w);
  if (n != w.n)
    abort();
  return 0;
}
