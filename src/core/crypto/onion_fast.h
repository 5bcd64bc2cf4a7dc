/**
 * @file onion_fast.h
 * @brief CREATE_FAST / CREATED_FAST key agreement (tor-spec §5.1.5,
 * KDF-TOR §5.2.1), client side, plus a server-side helper for tests and
 * the fake relay.
 *
 * CREATE_FAST relies on the TLS link for its security and is only ever
 * used for the first hop.  Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_CORE_CRYPTO_ONION_FAST_H
#define CHIVE_CORE_CRYPTO_ONION_FAST_H

#include <stdbool.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/crypto/relay_crypto.h"
#include "lib/cc/cc.h"

/** HASH_LEN: length of X, Y and KH, bytes (tor-spec §5.1.5). */
#define ONION_FAST_KEY_LEN 20

/** Client handshake state: the random X.  Caller-allocated; secret.
 * Wipe with onion_fast_client_clear(). */
typedef struct onion_fast_client_t {
  uint8_t x[ONION_FAST_KEY_LEN];
  bool active; /**< True between create and a successful finish. */
} onion_fast_client_t;

/** Start a CREATE_FAST handshake: generate X into <b>st</b> and copy it
 * to <b>out_x</b> (the whole CREATE_FAST body).  Returns
 * CHIVE_ERR_CRYPTO if the RNG fails (nothing written). */
CHIVE_MUST_CHECK chive_err_t onion_fast_client_create(
    onion_fast_client_t *st, uint8_t out_x[ONION_FAST_KEY_LEN]);

/** Finish the handshake with the CREATED_FAST body (Y, KH): compute
 * K = KDF-TOR(X | Y), check KH in constant time, and write Df, Db, Kf, Kb
 * to <b>keys_out</b>.  On success wipe <b>st</b> and return CHIVE_OK.
 * Returns CHIVE_ERR_CRYPTO if KH does not match, CHIVE_ERR_INVAL (BUG) if
 * <b>st</b> is not active; on failure nothing is written and <b>st</b> is
 * unchanged (the caller clears it). */
CHIVE_MUST_CHECK chive_err_t onion_fast_client_finish(
    onion_fast_client_t *st, const uint8_t y[ONION_FAST_KEY_LEN],
    const uint8_t kh[ONION_FAST_KEY_LEN], relay_keys_t *keys_out);

/** Wipe <b>st</b>.  NULL is a no-op. */
void onion_fast_client_clear(onion_fast_client_t *st);

/** SERVER SIDE, FOR TESTS AND THE FAKE RELAY ONLY (chive is a client).
 * Given the client's <b>x</b> and the relay's chosen <b>y</b>, write the
 * CREATED_FAST KH to <b>kh_out</b> and the relay's view of the keys to
 * <b>keys_out</b>.  Returns an error only if KDF-TOR fails. */
CHIVE_MUST_CHECK chive_err_t onion_fast_server_handshake(
    const uint8_t x[ONION_FAST_KEY_LEN], const uint8_t y[ONION_FAST_KEY_LEN],
    uint8_t kh_out[ONION_FAST_KEY_LEN], relay_keys_t *keys_out);

#endif /* !defined(CHIVE_CORE_CRYPTO_ONION_FAST_H) */
