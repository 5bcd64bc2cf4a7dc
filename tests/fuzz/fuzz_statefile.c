/**
 * @file fuzz_statefile.c
 * @brief Fuzz the state-file parser and the guard entries read from it.
 * Oracles: an accepted state encodes and parses back to the same entries;
 * guards loaded from it save to entries that load back to the same
 * guards (same identities, order, dates, confirmed order); a refused
 * load leaves the guard state empty.
 **/
#include <stdlib.h>
#include <string.h>

#include "feature/nodes/guards.h"
#include "feature/nodes/statefile.h"
#include "lib/malloc/malloc.h"
#include "lib/text/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c))    \
      abort();   \
  } while (0)

/** Fixed "now": 2023-05-01 10:00:00 UTC. */
#define FUZZ_NOW ((int64_t)1682935200)
#define MAX_LIST 64

static guard_info_t info_a[MAX_LIST], info_b[MAX_LIST];

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  statefile_t *sf = NULL, *sf2 = NULL, *sf3 = NULL;
  guards_t *g = NULL, *g2 = NULL;
  guards_config_t cfg;
  statefile_error_t err = {0, NULL};
  strbuf_t sb;
  strbuf_init(&sb, STATEFILE_MAX_LEN + 4096);

  chive_err_t e = statefile_parse((const char *)data, size, &sf, &err);
  if (e != CHIVE_OK) {
    CHECK(sf == NULL && err.msg != NULL);
    goto done;
  }
  /* Text round trip. */
  CHECK(statefile_encode(sf, &sb) == CHIVE_OK);
  CHECK(statefile_parse(strbuf_str(&sb), strbuf_len(&sb), &sf2, &err) ==
        CHIVE_OK);
  CHECK(statefile_n(sf2) == statefile_n(sf));
  for (size_t i = 0; i < statefile_n(sf); i++) {
    CHECK(strcmp(statefile_key(sf, i), statefile_key(sf2, i)) == 0);
    CHECK(strcmp(statefile_value(sf, i), statefile_value(sf2, i)) == 0);
  }
  /* Guard entries. */
  guards_config_defaults(&cfg);
  CHECK(guards_new(&cfg, &g) == CHIVE_OK);
  CHECK(guards_new(&cfg, &g2) == CHIVE_OK);
  e = guards_load_from_state(g, sf, FUZZ_NOW, &err);
  if (e != CHIVE_OK) {
    guards_counts_t ct;
    guards_counts(g, &ct);
    CHECK(ct.n_sampled == 0 && err.msg != NULL);
    goto done;
  }
  sf3 = statefile_new();
  CHECK(sf3 != NULL);
  CHECK(guards_save_to_state(g, sf3, FUZZ_NOW) == CHIVE_OK);
  CHECK(guards_load_from_state(g2, sf3, FUZZ_NOW, &err) == CHIVE_OK);
  size_t na = guards_list(g, info_a, MAX_LIST);
  size_t nb = guards_list(g2, info_b, MAX_LIST);
  CHECK(na == nb);
  for (size_t i = 0; i < na && i < MAX_LIST; i++) {
    CHECK(memcmp(info_a[i].rsa_id, info_b[i].rsa_id, 20) == 0);
    CHECK(strcmp(info_a[i].nickname, info_b[i].nickname) == 0);
    CHECK(info_a[i].sampled_on == info_b[i].sampled_on);
    CHECK(info_a[i].is_listed == info_b[i].is_listed);
    CHECK(info_a[i].unlisted_since == info_b[i].unlisted_since);
    CHECK(info_a[i].confirmed_on == info_b[i].confirmed_on);
    CHECK(info_a[i].confirmed_idx == info_b[i].confirmed_idx);
    CHECK(info_a[i].sampled_on <= FUZZ_NOW);
  }
done:
  guards_free(g);
  guards_free(g2);
  statefile_free(sf);
  statefile_free(sf2);
  statefile_free(sf3);
  strbuf_clear(&sb);
  return 0;
}
