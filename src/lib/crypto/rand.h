/**
 * @file rand.h
 * @brief Cryptographically strong random numbers, with a deterministic
 * seam for tests.
 **/
#ifndef CHIVE_LIB_CRYPTO_RAND_H
#define CHIVE_LIB_CRYPTO_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Fill <b>out</b> with <b>len</b> random bytes from the OS-seeded CSPRNG.
 * Returns CHIVE_ERR_CRYPTO if the generator failed (out is then wiped). */
CHIVE_MUST_CHECK chive_err_t crypto_rand(uint8_t *out, size_t len);

/** Return a uniformly random integer in [0, n), without modulo bias.
 * n must be nonzero (n == 0 is a BUG and returns 0).  Aborts if the
 * generator fails (no way to report it here). */
uint64_t crypto_rand_u64_below(uint64_t n);

/** Return a uniformly random double in [0, 1) with 53 random bits. */
double crypto_rand_double(void);

/** TEST ONLY.  With a non-NULL <b>seed</b>, make every later crypto_rand()
 * call in this process deterministic: the output is a ChaCha20 keystream
 * keyed by <b>seed</b>, one fresh nonce per call.  NULL restores the real
 * generator.  Process-wide; never call it from library code. */
void crypto_rand_testing_set_deterministic(const uint8_t seed[32]);

#endif /* !defined(CHIVE_LIB_CRYPTO_RAND_H) */
