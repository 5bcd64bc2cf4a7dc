/**
 * @file onion_ntor.h
 * @brief The ntor handshake (tor-spec §5.1.4) with KDF-RFC5869 key
 * expansion (§5.2.2): CREATE2 handshake type 2.
 *
 * Client side for real use, plus a server-side helper for tests and the
 * fake relay.  Pure: no I/O, no allocation, no logging.  The handshake
 * state is caller-allocated and holds the ephemeral secret x until the
 * handshake finishes or onion_ntor_client_clear() wipes it.
 **/
#ifndef CHIVE_CORE_CRYPTO_ONION_NTOR_H
#define CHIVE_CORE_CRYPTO_ONION_NTOR_H

#include <stdbool.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/crypto/relay_crypto.h"
#include "lib/cc/cc.h"

/** CREATE2 HTYPE for ntor (tor-spec §5.1). */
#define ONION_NTOR_HTYPE 0x0002
/** ID_LENGTH: relay RSA identity digest, bytes. */
#define ONION_NTOR_ID_LEN 20
/** G_LENGTH: curve25519 public key, bytes. */
#define ONION_NTOR_KEY_LEN 32
/** H_LENGTH: HMAC-SHA256 output, bytes. */
#define ONION_NTOR_AUTH_LEN 32
/** Client handshake: NODEID | KEYID(B) | CLIENT_KP (X). */
#define ONION_NTOR_ONIONSKIN_LEN \
  (ONION_NTOR_ID_LEN + 2 * ONION_NTOR_KEY_LEN) /* 84 */
/** Server handshake: SERVER_KP (Y) | AUTH. */
#define ONION_NTOR_REPLY_LEN \
  (ONION_NTOR_KEY_LEN + ONION_NTOR_AUTH_LEN) /* 64 */

/** Client handshake state.  Caller-allocated; holds the secret x.  Do not
 * touch the fields; wipe with onion_ntor_client_clear(). */
typedef struct onion_ntor_client_t {
  uint8_t id[ONION_NTOR_ID_LEN];
  uint8_t pub_b[ONION_NTOR_KEY_LEN]; /**< Relay's ntor onion key B. */
  uint8_t sec_x[ONION_NTOR_KEY_LEN]; /**< Ephemeral secret x. */
  uint8_t pub_x[ONION_NTOR_KEY_LEN]; /**< X = x*G. */
  bool active; /**< True between create and a successful finish. */
} onion_ntor_client_t;

/** Start an ntor handshake with the relay whose identity digest is
 * <b>id</b> and ntor onion key is <b>b</b>: generate x, X and write the
 * 84-byte CREATE2/EXTEND2 HDATA (ID | B | X) to <b>onionskin_out</b>.
 * Returns CHIVE_ERR_CRYPTO if the RNG fails; nothing is written then. */
CHIVE_MUST_CHECK chive_err_t onion_ntor_client_create(
    onion_ntor_client_t *st, const uint8_t id[ONION_NTOR_ID_LEN],
    const uint8_t b[ONION_NTOR_KEY_LEN],
    uint8_t onionskin_out[ONION_NTOR_ONIONSKIN_LEN]);

/** Like onion_ntor_client_create() but with the ephemeral secret
 * <b>x</b> supplied by the caller.  FOR TESTS (known-answer vectors) ONLY:
 * reusing x breaks forward secrecy. */
CHIVE_MUST_CHECK chive_err_t onion_ntor_client_create_with_secret(
    onion_ntor_client_t *st, const uint8_t id[ONION_NTOR_ID_LEN],
    const uint8_t b[ONION_NTOR_KEY_LEN], const uint8_t x[ONION_NTOR_KEY_LEN],
    uint8_t onionskin_out[ONION_NTOR_ONIONSKIN_LEN]);

/** Finish the handshake with the CREATED2/EXTENDED2 HDATA <b>reply</b>
 * (Y | AUTH): compute secret_input, KEY_SEED and verify, check AUTH in
 * constant time, and expand KDF-RFC5869 into Df | Db | Kf | Kb in
 * <b>keys_out</b>.  On success wipe <b>st</b> and return CHIVE_OK.
 * Returns CHIVE_ERR_CRYPTO if AUTH is wrong or a DH output is all zero
 * (Y of small order), CHIVE_ERR_INVAL (BUG) if <b>st</b> is not active.
 * On failure <b>keys_out</b> is not written and <b>st</b> is unchanged
 * (the caller clears it). */
CHIVE_MUST_CHECK chive_err_t onion_ntor_client_finish(
    onion_ntor_client_t *st, const uint8_t reply[ONION_NTOR_REPLY_LEN],
    relay_keys_t *keys_out);

/** Wipe <b>st</b>.  NULL is a no-op. */
void onion_ntor_client_clear(onion_ntor_client_t *st);

/** SERVER SIDE, FOR TESTS AND THE FAKE RELAY ONLY (chive is a client).
 * Answer <b>onionskin</b> as the relay with identity <b>id</b> and ntor
 * key pair (<b>sec_b</b>, <b>pub_b</b>), using ephemeral secret
 * <b>sec_y</b> (NULL = generate one).  Writes Y | AUTH to
 * <b>reply_out</b> and the relay's keys to <b>keys_out</b>.  Returns
 * CHIVE_ERR_PROTO if NODEID or KEYID do not match, CHIVE_ERR_CRYPTO if a
 * DH output is all zero or the RNG fails. */
CHIVE_MUST_CHECK chive_err_t onion_ntor_server_handshake(
    const uint8_t id[ONION_NTOR_ID_LEN],
    const uint8_t sec_b[ONION_NTOR_KEY_LEN],
    const uint8_t pub_b[ONION_NTOR_KEY_LEN],
    const uint8_t onionskin[ONION_NTOR_ONIONSKIN_LEN], const uint8_t *sec_y,
    uint8_t reply_out[ONION_NTOR_REPLY_LEN], relay_keys_t *keys_out);

#endif /* !defined(CHIVE_CORE_CRYPTO_ONION_NTOR_H) */
