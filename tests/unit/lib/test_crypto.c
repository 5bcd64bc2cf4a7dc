/* Unit tests for lib/crypto: incremental digests (dup/assign/peek), the
 * RNG and its test seam, key generation, AES-CTR keystream continuity,
 * allocation failure.  Known-answer vectors are in
 * tests/vectors/test_crypto_vectors.c and test_kdf.c. */
#include <string.h>

#include "lib/crypto/cipher.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/kdf.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static void
oneshot(digest_alg_t alg, const uint8_t *m, size_t len, uint8_t *out)
{
  if (alg == DIGEST_ALG_SHA1)
    crypto_sha1(m, len, out);
  else if (alg == DIGEST_ALG_SHA256)
    crypto_sha256(m, len, out);
  else
    crypto_sha3_256(m, len, out);
}

static void
test_digest_incremental(void)
{
  static const digest_alg_t algs[] = {DIGEST_ALG_SHA1, DIGEST_ALG_SHA256,
                                      DIGEST_ALG_SHA3_256};
  uint8_t msg[1000], exp[32], got[32], mid[32];
  crypto_digest_t *d = NULL, *c = NULL, *e = NULL;
  T_OK(crypto_global_init());
  for (size_t i = 0; i < sizeof(msg); i++)
    msg[i] = (uint8_t)(i * 31 + 7);
  for (size_t a = 0; a < CHIVE_ARRAY_LEN(algs); a++) {
    size_t dl = crypto_digest_alg_len(algs[a]);
    T_EQ_UINT(dl, algs[a] == DIGEST_ALG_SHA1 ? 20 : 32);
    d = crypto_digest_new(algs[a]);
    T_ASSERT(d);
    /* Empty state peeks as the digest of "". */
    oneshot(algs[a], msg, 0, exp);
    crypto_digest_peek(d, got, dl);
    T_EQ_MEM(got, exp, dl);
    /* Uneven chunks, peeking in between (peek must not disturb). */
    size_t off = 0, step = 1;
    while (off < sizeof(msg)) {
      size_t n = step < sizeof(msg) - off ? step : sizeof(msg) - off;
      crypto_digest_add(d, msg + off, n);
      off += n;
      step = step * 3 + 1;
      crypto_digest_peek(d, got, dl);
      oneshot(algs[a], msg, off, exp);
      T_EQ_MEM(got, exp, dl);
    }
    /* dup: the copy continues independently. */
    c = crypto_digest_dup(d);
    T_ASSERT(c);
    crypto_digest_add(c, "x", 1);
    crypto_digest_peek(d, got, dl);
    oneshot(algs[a], msg, sizeof(msg), exp);
    T_EQ_MEM(got, exp, dl);
    crypto_digest_peek(c, mid, dl);
    T_ASSERT(memcmp(mid, exp, dl) != 0);
    /* assign: roll c back to d's state (the relay-cell "don't commit"
     * pattern), and forward again. */
    crypto_digest_assign(c, d);
    crypto_digest_peek(c, got, dl);
    T_EQ_MEM(got, exp, dl);
    e = crypto_digest_new(algs[a]);
    T_ASSERT(e);
    crypto_digest_assign(d, e);
    oneshot(algs[a], msg, 0, exp);
    crypto_digest_peek(d, got, dl);
    T_EQ_MEM(got, exp, dl);
    /* A truncated peek is a prefix (relay cells use 4 bytes). */
    memset(got, 0, sizeof(got));
    crypto_digest_peek(d, got, 4);
    T_EQ_MEM(got, exp, 4);
    T_EQ_UINT(got[4], 0);
    crypto_digest_free(d);
    crypto_digest_free(c);
    crypto_digest_free(e);
    T_ASSERT(d == NULL);
  }
  crypto_digest_free_(NULL);
done:
  crypto_digest_free(d);
  crypto_digest_free(c);
  crypto_digest_free(e);
}

/* Allocation failures are reported, not crashed on, and leak nothing
 * (the harness checks chive_mem_in_use after each case). */
static void
test_alloc_failure(void)
{
  crypto_digest_t *d = NULL, *c = NULL;
  crypto_cipher_t *ci = NULL;
  uint8_t key[16] = {0}, out[40];
  T_OK(crypto_global_init());
  chive_mem_fail_nth(1, true);
  d = crypto_digest_new(DIGEST_ALG_SHA1);
  ci = crypto_cipher_new(key, sizeof(key), NULL);
  T_EQ_INT(crypto_kdf_tor(key, sizeof(key), out, sizeof(out)),
           CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_ASSERT(d == NULL);
  T_ASSERT(ci == NULL);
  d = crypto_digest_new(DIGEST_ALG_SHA1);
  T_ASSERT(d);
  chive_mem_fail_nth(1, false);
  c = crypto_digest_dup(d);
  chive_mem_fail_nth(0, false);
  T_ASSERT(c == NULL);
done:
  chive_mem_fail_nth(0, false);
  crypto_digest_free(d);
  crypto_digest_free(c);
  crypto_cipher_free(ci);
}

static void
test_rand(void)
{
  uint8_t a[32], b[32], seed[32];
  unsigned counts[3] = {0, 0, 0};
  T_OK(crypto_global_init());
  T_OK(crypto_global_init()); /* idempotent */
  T_OK(crypto_rand(a, sizeof(a)));
  T_OK(crypto_rand(b, sizeof(b)));
  T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
  T_OK(crypto_rand(a, 0));
  T_EQ_UINT(crypto_rand_u64_below(1), 0);
  for (int i = 0; i < 30000; i++) {
    uint64_t v = crypto_rand_u64_below(3);
    T_ASSERT(v < 3);
    counts[v]++;
  }
  /* Each bucket expects 10000; sd ~ 82, so +-800 is ~10 sd. */
  for (int i = 0; i < 3; i++)
    T_ASSERT(counts[i] > 9200 && counts[i] < 10800);
  /* A bound just above 2^63 (the worst case for rejection). */
  for (int i = 0; i < 100; i++)
    T_ASSERT(crypto_rand_u64_below((1ULL << 63) + 1) <= (1ULL << 63));
  double sum = 0;
  for (int i = 0; i < 10000; i++) {
    double x = crypto_rand_double();
    T_ASSERT(x >= 0.0 && x < 1.0);
    sum += x;
  }
  T_ASSERT(sum > 4700 && sum < 5300);

  /* The deterministic seam reproduces exactly, and can be turned off. */
  memset(seed, 9, sizeof(seed));
  crypto_rand_testing_set_deterministic(seed);
  T_OK(crypto_rand(a, sizeof(a)));
  uint64_t r1 = crypto_rand_u64_below(1000000007);
  crypto_rand_testing_set_deterministic(seed);
  T_OK(crypto_rand(b, sizeof(b)));
  T_EQ_MEM(a, b, sizeof(a));
  T_EQ_UINT(crypto_rand_u64_below(1000000007), r1);
  T_OK(crypto_rand(b, sizeof(b)));
  T_ASSERT(memcmp(a, b, sizeof(a)) != 0); /* successive calls differ */
  crypto_rand_testing_set_deterministic(NULL);
  T_OK(crypto_rand(b, sizeof(b)));
  T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
done:
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_keygen(void)
{
  crypto_x25519_keypair_t x1, x2;
  crypto_ed25519_keypair_t e1, e2;
  uint8_t s1[32], s2[32], pk[32], sig[64], seed[32];
  memset(&x1, 0, sizeof(x1));
  memset(&x2, 0, sizeof(x2));
  memset(&e1, 0, sizeof(e1));
  memset(&e2, 0, sizeof(e2));
  T_OK(crypto_global_init());
  T_OK(crypto_x25519_keypair_generate(&x1));
  T_OK(crypto_x25519_keypair_generate(&x2));
  T_ASSERT(memcmp(x1.seckey, x2.seckey, 32) != 0);
  crypto_x25519_public_from_secret(pk, x1.seckey);
  T_EQ_MEM(pk, x1.pubkey, 32);
  T_OK(crypto_x25519(s1, x1.seckey, x2.pubkey));
  T_OK(crypto_x25519(s2, x2.seckey, x1.pubkey));
  T_EQ_MEM(s1, s2, 32);
  crypto_x25519_keypair_clear(&x1);
  T_ASSERT(chive_is_zero_ct(&x1, sizeof(x1)));

  T_OK(crypto_ed25519_keypair_generate(&e1));
  T_ASSERT(crypto_ed25519_pubkey_is_valid(e1.pubkey));
  crypto_ed25519_sign(sig, (const uint8_t *)"msg", 3, &e1);
  T_OK(crypto_ed25519_verify(e1.pubkey, (const uint8_t *)"msg", 3, sig));
  T_EQ_INT(crypto_ed25519_verify(e1.pubkey, (const uint8_t *)"msh", 3, sig),
           CHIVE_ERR_CRYPTO);
  crypto_ed25519_sign(sig, NULL, 0, &e1);
  T_OK(crypto_ed25519_verify(e1.pubkey, NULL, 0, sig));
  /* Key generation goes through crypto_rand, so the seam makes it
   * reproducible. */
  memset(seed, 3, sizeof(seed));
  crypto_rand_testing_set_deterministic(seed);
  T_OK(crypto_ed25519_keypair_generate(&e1));
  crypto_rand_testing_set_deterministic(seed);
  T_OK(crypto_ed25519_keypair_generate(&e2));
  crypto_rand_testing_set_deterministic(NULL);
  T_EQ_MEM(&e1, &e2, sizeof(e1));
  crypto_ed25519_keypair_clear(&e1);
  T_ASSERT(chive_is_zero_ct(&e1, sizeof(e1)));
done:
  crypto_rand_testing_set_deterministic(NULL);
  crypto_x25519_keypair_clear(&x1);
  crypto_x25519_keypair_clear(&x2);
  crypto_ed25519_keypair_clear(&e1);
  crypto_ed25519_keypair_clear(&e2);
}

/* Relay crypto encrypts 509-byte payloads one at a time on a long-lived
 * stream: random chunking must match one long call. */
static void
test_cipher_chunks(void)
{
  enum { N = 20000 };
  uint8_t *one = NULL, *many = NULL, key[32], iv[16];
  crypto_cipher_t *a = NULL, *b = NULL;
  T_OK(crypto_global_init());
  one = chive_zalloc(N);
  many = chive_zalloc(N);
  T_ASSERT(one && many);
  T_OK(crypto_rand(key, sizeof(key)));
  T_OK(crypto_rand(iv, sizeof(iv)));
  for (size_t klen = 16; klen <= 32; klen += 16) {
    memset(one, 0, N);
    memset(many, 0, N);
    a = crypto_cipher_new(key, klen, iv);
    b = crypto_cipher_new(key, klen, iv);
    T_ASSERT(a && b);
    crypto_cipher_crypt_inplace(a, one, N);
    size_t off = 0;
    while (off < N) {
      size_t n = (size_t)crypto_rand_u64_below(600);
      if (n > N - off)
        n = N - off;
      crypto_cipher_crypt_inplace(b, many + off, n);
      off += n;
    }
    T_EQ_MEM(one, many, N);
    T_ASSERT(!chive_is_zero_ct(one, 64));
    crypto_cipher_free(a);
    crypto_cipher_free(b);
  }
  crypto_cipher_free_(NULL);
done:
  crypto_cipher_free(a);
  crypto_cipher_free(b);
  chive_free(one);
  chive_free(many);
}

static const t_case cases[] = {
    T_CASE(test_digest_incremental),
    T_CASE(test_alloc_failure),
    T_CASE(test_rand),
    T_CASE(test_keygen),
    T_CASE(test_cipher_chunks),
    T_END,
};
T_MAIN(cases)
