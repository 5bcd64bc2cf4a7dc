/**
 * @file fuzz_torcert.c
 * @brief Fuzz the cert-spec parsers: Ed25519 certificates (§2.1) and the
 * RSA->Ed25519 cross-certificate (§2.3).  Every input goes through both.
 * Oracles: an accepted certificate fills the input exactly, its fields
 * are the bytes at their spec offsets, and checking it (signature and
 * expiry, against its own key or a fixed one) never crashes and never
 * succeeds for a forged signature by the fixed key.
 **/
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/crypto/torcert.h"
#include "lib/bytes/bytes.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/rsa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static crypto_rsa_pk_t *rsa_pk; /* fixed, generated once per process */
static uint8_t ed_pk[32];       /* a fixed Ed25519 key nobody signs with */

static void
init_once(void)
{
  static bool done;
  if (done)
    return;
  done = true;
  if (crypto_global_init() != CHIVE_OK)
    __builtin_trap();
  crypto_rsa_sk_t *sk = crypto_rsa_sk_generate(1024);
  if (!sk)
    __builtin_trap();
  rsa_pk = crypto_rsa_sk_get_pk(sk);
  crypto_rsa_sk_free(sk);
  crypto_ed25519_keypair_t kp;
  uint8_t seed[32];
  memset(seed, 0x42, sizeof(seed));
  crypto_ed25519_keypair_from_seed(&kp, seed);
  memcpy(ed_pk, kp.pubkey, 32);
  crypto_ed25519_keypair_clear(&kp);
}

static void
fuzz_ed_cert(const uint8_t *data, size_t size)
{
  torcert_t c;
  if (torcert_parse(&c, data, size) != CHIVE_OK)
    return;
  if (size < TORCERT_MIN_LEN || c.signed_part != data ||
      c.signed_len != size - 64 || data[0] != TORCERT_VERSION ||
      c.cert_type != data[1] || c.exp_hours != load_u32(data + 2) ||
      c.key_type != data[6] || memcmp(c.certified_key, data + 7, 32) != 0 ||
      c.n_extensions != data[39] ||
      memcmp(c.signature, data + size - 64, 64) != 0)
    __builtin_trap();
  chive_err_t e = torcert_check(&c, NULL, 0);
  if (e != CHIVE_OK && e != CHIVE_ERR_PROTO && e != CHIVE_ERR_CRYPTO &&
      e != CHIVE_ERR_EXPIRED)
    __builtin_trap();
  /* Nobody holds the secret for ed_pk, so this must never verify. */
  if (torcert_check(&c, ed_pk, 0) == CHIVE_OK)
    __builtin_trap();
}

static void
fuzz_crosscert(const uint8_t *data, size_t size)
{
  torcert_rsa_crosscert_t cc;
  if (torcert_rsa_crosscert_parse(&cc, data, size) != CHIVE_OK)
    return;
  if (size != 37u + cc.sig_len || memcmp(cc.ed_key, data, 32) != 0 ||
      cc.exp_hours != load_u32(data + 32) || cc.sig_len != data[36] ||
      memcmp(cc.sig, data + 37, cc.sig_len) != 0)
    __builtin_trap();
  /* rsa_pk's secret was discarded at start-up: no input may verify. */
  if (torcert_rsa_crosscert_check(&cc, rsa_pk, 0) == CHIVE_OK)
    __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  init_once();
  fuzz_ed_cert(data, size);
  fuzz_crosscert(data, size);
  return 0;
}
