/* Fuzz target: feature/circpool/cbt state loading ("CircuitBuildTimeBin
 * ms count" lines from the state file, untrusted).  Oracles: a rejected
 * load leaves the learner unchanged; an accepted one keeps its number of
 * observations through save and reload, and the saved text is a fixed
 * point (saving is lossy once: times become their bin's value). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "feature/circpool/cbt.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint32_t
first_choice(void *arg, uint32_t bound)
{
  (void)arg;
  (void)bound;
  return 0; /* deterministic shuffle */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static cbt_t a, b;
  static char buf[CBT_STATE_MAX_LEN], buf2[CBT_STATE_MAX_LEN];
  cbt_params_t p;
  cbt_params_default(&p);
  cbt_init(&a, &p);
  uint32_t before = cbt_timeout_ms(&a);
  if (cbt_load(&a, (const char *)data, size, first_choice, NULL) !=
      CHIVE_OK) {
    if (cbt_n_observed(&a) != 0 || cbt_timeout_ms(&a) != before)
      abort();
    return 0;
  }
  size_t len = 0;
  if (cbt_save(&a, buf, sizeof(buf), &len) != CHIVE_OK)
    abort();
  cbt_init(&b, &p);
  if (cbt_load(&b, buf, len, first_choice, NULL) != CHIVE_OK)
    abort();
  size_t len2 = 0;
  if (cbt_save(&b, buf2, sizeof(buf2), &len2) != CHIVE_OK)
    abort();
  if (cbt_n_observed(&a) != cbt_n_observed(&b) || len != len2 ||
      memcmp(buf, buf2, len) != 0)
    abort();
  return 0;
}
