/* An embedder that defines symbols with the same names as chive's
 * internal functions must still link against libchive.a and work
 * (STYLE.md §2.4).  Build this against the static archive only. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "chive/chive.h"

/* Same names as chive internals, different meaning. */
uint8_t rd_u8(void *r);
uint8_t
rd_u8(void *r)
{
  (void)r;
  return 42;
}
void *chive_malloc(size_t n);
void *
chive_malloc(size_t n)
{
  (void)n;
  return NULL; /* would break chive if it were used by the library */
}

int
main(void)
{
  chive_config_t *cfg = chive_config_new(); /* uses chive's own allocator */
  if (!cfg || rd_u8(NULL) != 42 || strcmp(chive_version(), "") == 0) {
    fprintf(stderr, "collision test failed\n");
    return 1;
  }
  chive_config_free(cfg);
  printf("1 passed, 0 failed\n");
  return 0;
}
