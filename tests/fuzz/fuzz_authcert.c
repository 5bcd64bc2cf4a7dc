/**
 * @file fuzz_authcert.c
 * @brief Fuzz the authority key certificate parser (dir-spec §3.1).
 * Oracle: accepted certificates carry both keys and both signatures,
 * key digests match the kept DER, and expiry follows publication.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feature/dir/parse/authcert.h"
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
  authcert_list_t *l = NULL;
  if (authcert_list_parse((const char *)data, size, &l) != CHIVE_OK)
    return 0;
  for (size_t i = 0; i < l->n; i++) {
    const authcert_t *c = &l->certs[i];
    uint8_t d[20];
    if (!c->identity_key_len || !c->signing_key_len || !c->crosscert_len ||
        !c->certification_len || c->expires <= c->published)
      __builtin_trap();
    crypto_sha1(c->signing_key, c->signing_key_len, d);
    if (memcmp(d, c->signing_key_digest, 20) != 0)
      __builtin_trap();
    if (authcert_list_find(l, c->fingerprint, c->signing_key_digest) == NULL)
      __builtin_trap();
  }
  authcert_list_free(l);
  return 0;
}
