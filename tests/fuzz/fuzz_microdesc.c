/**
 * @file fuzz_microdesc.c
 * @brief Fuzz the microdescriptor batch parser (dir-spec §3.3).  Oracle:
 * accepted microdescriptors are sorted by digest with no duplicates, can
 * be found by digest, and their policy summaries re-encode and re-parse
 * to the same ranges.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feature/dir/parse/md_parse.h"
#include "lib/crypto/crypto_init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_policy(const policy_summary_t *p, dirarena_t *a)
{
  char buf[8192];
  size_t n = policy_summary_format(p, buf, sizeof(buf));
  if (n >= sizeof(buf))
    return;
  dirtok_str_t kind = {buf, 6}, ports = {buf + 7, n - 7};
  policy_summary_t q;
  if (policy_summary_parse(kind, ports, a, &q) != CHIVE_OK ||
      q.accept != p->accept || q.n_ranges != p->n_ranges ||
      memcmp(q.ranges, p->ranges, p->n_ranges * sizeof(*p->ranges)) != 0)
    __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int inited;
  if (!inited) {
    if (crypto_global_init() != CHIVE_OK)
      __builtin_trap();
    inited = 1;
  }
  md_list_t *l = NULL;
  if (md_list_parse((const char *)data, size, &l) != CHIVE_OK)
    return 0;
  dirarena_t *a = dirarena_new();
  for (size_t i = 0; i < l->n; i++) {
    const microdesc_t *md = &l->mds[i];
    if (i && memcmp(l->mds[i - 1].digest, md->digest, 32) >= 0)
      __builtin_trap();
    if (md_list_find(l, md->digest) != md)
      __builtin_trap();
    if (md->n_family_ids > MD_MAX_FAMILY)
      __builtin_trap();
    if (a && md->has_p)
      check_policy(&md->p, a);
    if (a && md->has_p6)
      check_policy(&md->p6, a);
  }
  dirarena_free(a);
  md_list_free(l);
  return 0;
}
