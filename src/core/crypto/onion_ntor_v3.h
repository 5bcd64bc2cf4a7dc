/**
 * @file onion_ntor_v3.h
 * @brief The ntor-v3 handshake (proposal 332) as used for Tor circuit
 * extension (CREATE2 HTYPE 3), with its encrypted "extra data" messages
 * and their extension-list encoding.
 *
 * Client side for real use, plus a server side for tests and the fake
 * relay.  The client sends an encrypted message CM with its handshake
 * (e.g. a congestion-control request) and receives an encrypted server
 * message SM (e.g. the CC response) with the reply.  After the handshake
 * both sides share a SHAKE-256 keystream; its first RELAY_KEY_MATERIAL_LEN
 * bytes are Df | Db | Kf | Kb (proposal 332 §A.2).
 *
 * No I/O and no logging.  The only allocations are the short-lived
 * AES-256-CTR objects from lib/crypto (hence CHIVE_ERR_NOMEM).
 **/
#ifndef CHIVE_CORE_CRYPTO_ONION_NTOR_V3_H
#define CHIVE_CORE_CRYPTO_ONION_NTOR_V3_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/crypto/relay_crypto.h"
#include "lib/cc/cc.h"

/** CREATE2 HTYPE for ntor-v3 (tor-spec §5.1, proposal 332 §A.2). */
#define ONION_NTOR3_HTYPE 0x0003
/** ID_LEN: the relay's Ed25519 identity key, bytes. */
#define ONION_NTOR3_ID_LEN 32
/** PUB_KEY_LEN: curve25519 keys, bytes. */
#define ONION_NTOR3_KEY_LEN 32
/** MAC_LEN = DIGEST_LEN, bytes. */
#define ONION_NTOR3_MAC_LEN 32
/** Client handshake without CM: NODEID | KEYID | CLIENT_PK | MAC. */
#define ONION_NTOR3_CLIENT_OVERHEAD_LEN \
  (ONION_NTOR3_ID_LEN + 2 * ONION_NTOR3_KEY_LEN + ONION_NTOR3_MAC_LEN)
/** Server handshake without SM: Y | AUTH. */
#define ONION_NTOR3_SERVER_OVERHEAD_LEN \
  (ONION_NTOR3_KEY_LEN + ONION_NTOR3_MAC_LEN)
/** Largest CM: what fits in a CREATE2 HDATA (509 - 4 header bytes). */
#define ONION_NTOR3_MAX_CLIENT_MSG_LEN \
  (505 - ONION_NTOR3_CLIENT_OVERHEAD_LEN) /* 377 */
/** Largest SM: what fits in a CREATED2 HDATA (509 - 2 header bytes). */
#define ONION_NTOR3_MAX_SERVER_MSG_LEN \
  (507 - ONION_NTOR3_SERVER_OVERHEAD_LEN) /* 443 */
/** Largest verification string we accept, bytes (Tor uses 14). */
#define ONION_NTOR3_MAX_VER_LEN 64
/** Largest keystream one finish call derives, bytes. */
#define ONION_NTOR3_MAX_KEYSTREAM_LEN 512

/** The verification string Tor uses for circuit extension (not in the
 * proposal text; tor's onion_crypto.c and arti both use it). */
#define ONION_NTOR3_CIRC_VERIFICATION "circuit extend"
#define ONION_NTOR3_CIRC_VERIFICATION_LEN 14

/** Client handshake state.  Caller-allocated; holds the secret x and
 * Bx.  Do not touch the fields; wipe with onion_ntor3_client_clear(). */
typedef struct onion_ntor3_client_t {
  uint8_t id[ONION_NTOR3_ID_LEN];
  uint8_t pub_b[ONION_NTOR3_KEY_LEN];
  uint8_t sec_x[ONION_NTOR3_KEY_LEN];
  uint8_t pub_x[ONION_NTOR3_KEY_LEN];
  uint8_t bx[ONION_NTOR3_KEY_LEN]; /**< EXP(B,x), secret. */
  uint8_t msg_mac[ONION_NTOR3_MAC_LEN];
  uint8_t ver[ONION_NTOR3_MAX_VER_LEN];
  size_t ver_len;
  bool active; /**< True between create and a successful finish. */
} onion_ntor3_client_t;

/** Start an ntor-v3 handshake with the relay whose Ed25519 identity is
 * <b>id</b> and ntor onion key is <b>b</b>, using verification string
 * <b>ver</b> (ver_len bytes; ONION_NTOR3_CIRC_VERIFICATION for circuit
 * extension) and client message <b>cm</b> (cm_len bytes, may be 0).
 * Writes the CREATE2 HDATA (ID | B | X | ENC(CM) | MAC) to <b>out</b>
 * (out_cap bytes available) and its length to *<b>out_len</b>.
 * Returns CHIVE_ERR_INVAL for ver_len or cm_len over their limits,
 * CHIVE_ERR_LIMIT if out_cap is too small, CHIVE_ERR_CRYPTO if the RNG
 * fails or B is degenerate, CHIVE_ERR_NOMEM.  Nothing is written on
 * failure. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_client_create(
    onion_ntor3_client_t *st, const uint8_t id[ONION_NTOR3_ID_LEN],
    const uint8_t b[ONION_NTOR3_KEY_LEN], const uint8_t *ver, size_t ver_len,
    const uint8_t *cm, size_t cm_len, uint8_t *out, size_t out_cap,
    size_t *out_len);

/** Like onion_ntor3_client_create() with the ephemeral secret <b>x</b>
 * supplied.  FOR TESTS (proposal 332 §X.2 vectors) ONLY. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_client_create_with_secret(
    onion_ntor3_client_t *st, const uint8_t id[ONION_NTOR3_ID_LEN],
    const uint8_t b[ONION_NTOR3_KEY_LEN], const uint8_t x[ONION_NTOR3_KEY_LEN],
    const uint8_t *ver, size_t ver_len, const uint8_t *cm, size_t cm_len,
    uint8_t *out, size_t out_cap, size_t *out_len);

/** Finish the handshake with the CREATED2/EXTENDED2 HDATA <b>reply</b>
 * (reply_len bytes: Y | AUTH | MSG).  Checks AUTH in constant time, then
 * decrypts SM into <b>sm_out</b> (sm_cap bytes; length in
 * *<b>sm_len</b>) and writes <b>keystream_len</b> bytes of KEYSTREAM
 * (1..ONION_NTOR3_MAX_KEYSTREAM_LEN) to <b>keystream_out</b>.  On success
 * wipe <b>st</b>.  Returns CHIVE_ERR_PROTO if reply_len is out of range,
 * CHIVE_ERR_CRYPTO if AUTH is wrong or Y is degenerate, CHIVE_ERR_LIMIT if
 * sm_cap is too small, CHIVE_ERR_INVAL (BUG) for a bad keystream_len or an
 * inactive <b>st</b>, CHIVE_ERR_NOMEM.  On failure no output is written
 * and <b>st</b> is unchanged. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_client_finish(
    onion_ntor3_client_t *st, const uint8_t *reply, size_t reply_len,
    uint8_t *sm_out, size_t sm_cap, size_t *sm_len, uint8_t *keystream_out,
    size_t keystream_len);

/** onion_ntor3_client_finish() producing the circuit keys directly: the
 * first RELAY_KEY_MATERIAL_LEN keystream bytes as Df | Db | Kf | Kb. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_client_finish_keys(
    onion_ntor3_client_t *st, const uint8_t *reply, size_t reply_len,
    uint8_t *sm_out, size_t sm_cap, size_t *sm_len, relay_keys_t *keys_out);

/** Wipe <b>st</b>.  NULL is a no-op. */
void onion_ntor3_client_clear(onion_ntor3_client_t *st);

/* ---- Server side: FOR TESTS AND THE FAKE RELAY ONLY ------------------ */

/** Server handshake state between reading the client handshake and
 * replying.  Holds the secret Xb.  Wipe with onion_ntor3_server_clear(). */
typedef struct onion_ntor3_server_t {
  uint8_t id[ONION_NTOR3_ID_LEN];
  uint8_t pub_b[ONION_NTOR3_KEY_LEN];
  uint8_t pub_x[ONION_NTOR3_KEY_LEN];
  uint8_t xb[ONION_NTOR3_KEY_LEN]; /**< EXP(X,b), secret. */
  uint8_t msg_mac[ONION_NTOR3_MAC_LEN];
  uint8_t ver[ONION_NTOR3_MAX_VER_LEN];
  size_t ver_len;
  bool active;
} onion_ntor3_server_t;

/** As the relay (<b>id</b>, key pair <b>sec_b</b>/<b>pub_b</b>), check
 * the client handshake <b>onionskin</b> and decrypt CM into <b>cm_out</b>
 * (cm_cap bytes; length in *<b>cm_len</b>).  Returns CHIVE_ERR_PROTO for a
 * bad length, NODEID or KEYID, CHIVE_ERR_CRYPTO for a bad MAC or
 * degenerate X, CHIVE_ERR_LIMIT if cm_cap is too small. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_server_recv(
    onion_ntor3_server_t *st, const uint8_t id[ONION_NTOR3_ID_LEN],
    const uint8_t sec_b[ONION_NTOR3_KEY_LEN],
    const uint8_t pub_b[ONION_NTOR3_KEY_LEN], const uint8_t *ver,
    size_t ver_len, const uint8_t *onionskin, size_t onionskin_len,
    uint8_t *cm_out, size_t cm_cap, size_t *cm_len);

/** Reply to the handshake read by onion_ntor3_server_recv() with server
 * message <b>sm</b> (sm_len bytes) and ephemeral secret <b>sec_y</b>
 * (NULL = generate).  Writes Y | AUTH | ENC(SM) to <b>reply_out</b>
 * (reply_cap bytes; length in *<b>reply_len</b>) and keystream_len bytes
 * of KEYSTREAM to <b>keystream_out</b>.  Wipes <b>st</b> on success. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_server_reply(
    onion_ntor3_server_t *st, const uint8_t *sec_y, const uint8_t *sm,
    size_t sm_len, uint8_t *reply_out, size_t reply_cap, size_t *reply_len,
    uint8_t *keystream_out, size_t keystream_len);

/** Wipe <b>st</b>.  NULL is a no-op. */
void onion_ntor3_server_clear(onion_ntor3_server_t *st);

/* ---- Message encoding (proposal 332 §A.2; proposal 358) -------------- */

/** Extension types of circuit-extension messages (proposal 324 §10.3). */
#define ONION_NTOR3_EXT_CC_REQUEST 0x01  /**< client→relay, empty body */
#define ONION_NTOR3_EXT_CC_RESPONSE 0x02 /**< relay→client, SENDME_INC */
/** Largest body of one extension, bytes (EXT_FIELD_LEN is one byte). */
#define ONION_NTOR3_EXT_MAX_BODY_LEN 255

/** One extension: a borrowed view into the message it was parsed from
 * (or the caller's body for encoding). */
typedef struct onion_ntor3_ext_t {
  uint8_t type;
  uint8_t body_len;
  const uint8_t *body; /**< NULL allowed iff body_len == 0. */
} onion_ntor3_ext_t;

/** Parse a CM/SM extension list: N_EXTENSIONS [1 byte], then that many
 * of EXT_FIELD_TYPE [1] EXT_FIELD_LEN [1] EXT_FIELD [EXT_FIELD_LEN].
 * An empty message (msg_len 0) is an empty list.  The first
 * <b>max_exts</b> extensions are stored in <b>exts</b> (views into
 * <b>msg</b>); later ones are validated and dropped.  *<b>n_exts</b> is
 * the number stored.  Returns CHIVE_ERR_PROTO for a truncated list or
 * trailing bytes ("All parties MUST reject messages that are not
 * well-formed").  Pure. */
CHIVE_MUST_CHECK chive_err_t onion_ntor3_exts_parse(const uint8_t *msg,
                                                    size_t msg_len,
                                                    onion_ntor3_ext_t *exts,
                                                    size_t max_exts,
                                                    size_t *n_exts);

/** Encode <b>n_exts</b> extensions into <b>out</b> (out_cap bytes),
 * writing the length to *<b>out_len</b>.  Returns CHIVE_ERR_INVAL for
 * more than 255 extensions, CHIVE_ERR_LIMIT if out_cap is too small. */
CHIVE_MUST_CHECK chive_err_t
onion_ntor3_exts_encode(const onion_ntor3_ext_t *exts, size_t n_exts,
                        uint8_t *out, size_t out_cap, size_t *out_len);

/** Return the first extension of <b>type</b> in <b>exts</b>, or NULL
 * (proposal 332 §A.2: later occurrences are ignored). */
const onion_ntor3_ext_t *onion_ntor3_exts_find(const onion_ntor3_ext_t *exts,
                                               size_t n_exts, uint8_t type);

#endif /* !defined(CHIVE_CORE_CRYPTO_ONION_NTOR_V3_H) */
