/**
 * @file fuzz_consensus.c
 * @brief Fuzz the consensus parser, both flavors (dir-spec §3.4.1,
 * §3.9.2).  Oracle: an accepted consensus has strictly sorted routers,
 * NUL-terminated nicknames, in-range intern indexes, and digests equal
 * to the hash of its signed prefix.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feature/dir/parse/ns_consensus.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static int inited;
  if (!inited) {
    if (crypto_global_init() != CHIVE_OK)
      __builtin_trap();
    inited = 1;
  }
  ns_consensus_t *c = NULL;
  if (ns_consensus_parse((const char *)data, size, &c) != CHIVE_OK)
    return 0;
  if (c->signed_len > size || c->n_signatures == 0 || c->n_dirsources == 0)
    __builtin_trap();
  uint8_t d[32];
  crypto_sha256(data, c->signed_len, d);
  if (memcmp(d, c->digest_sha256, 32) != 0)
    __builtin_trap();
  for (size_t i = 0; i < c->n_routers; i++) {
    const ns_routerstatus_t *rs = &c->routers[i];
    if (i && memcmp(c->routers[i - 1].identity, rs->identity, 20) >= 0)
      __builtin_trap();
    if (memchr(rs->nickname, '\0', sizeof(rs->nickname)) == NULL ||
        rs->nickname[0] == '\0')
      __builtin_trap();
    if ((rs->proto_idx != NS_IDX_NONE && rs->proto_idx >= c->n_protos) ||
        (rs->version_idx != NS_IDX_NONE &&
         rs->version_idx >= c->n_versions) ||
        (rs->policy_idx != NS_IDX_NONE && rs->policy_idx >= c->n_policies))
      __builtin_trap();
    if (ns_consensus_find_router(c, rs->identity) != rs)
      __builtin_trap();
  }
  if (c->valid_after >= c->fresh_until || c->fresh_until > c->valid_until)
    __builtin_trap();
  ns_consensus_free(c);
  return 0;
}
