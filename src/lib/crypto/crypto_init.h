/**
 * @file crypto_init.h
 * @brief One-time initialisation of the crypto backends.
 **/
#ifndef CHIVE_LIB_CRYPTO_CRYPTO_INIT_H
#define CHIVE_LIB_CRYPTO_CRYPTO_INIT_H

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Initialise OpenSSL and libsodium.  Idempotent and thread-safe (both
 * backends serialise their own init).  Must return CHIVE_OK before any
 * other lib/crypto function is called.  Returns CHIVE_ERR_CRYPTO if a
 * backend cannot start (e.g. no entropy source). */
CHIVE_MUST_CHECK chive_err_t crypto_global_init(void);

#endif /* !defined(CHIVE_LIB_CRYPTO_CRYPTO_INIT_H) */
