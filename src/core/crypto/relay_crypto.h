/**
 * @file relay_crypto.h
 * @brief Layered relay-cell crypto at the circuit origin (tor-spec §5.5,
 * §6.1): per-hop AES-128-CTR streams and running SHA-1 digests.
 *
 * Every circuit hop has one relay_crypto_t, initialised from the
 * relay_keys_t its handshake produced (CREATE_FAST, ntor or ntor-v3).
 * The client encrypts an outbound cell once per hop, from the target hop
 * back to the first; it decrypts an inbound cell one layer at a time from
 * the first hop until some hop "recognizes" it (recognized == 0 and the
 * 4-byte running digest matches).
 *
 * Cells here are the 509-byte RELAY cell payload.  The relay header
 * offsets are hard-coded from tor-spec §6.1; the full header codec lives in
 * core/proto.  No I/O, no logging; the only allocations are the cipher and
 * digest objects made by relay_crypto_init().
 **/
#ifndef CHIVE_CORE_CRYPTO_RELAY_CRYPTO_H
#define CHIVE_CORE_CRYPTO_RELAY_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/crypto/cipher.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"

/** Length of a relay cell payload (tor-spec §3: PAYLOAD_LEN). */
#define RELAY_CRYPTO_PAYLOAD_LEN 509
/** tor-spec §6.1 relay header: command(1) recognized(2) stream_id(2)
 * digest(4) length(2). */
#define RELAY_CRYPTO_OFFSET_RECOGNIZED 1
#define RELAY_CRYPTO_RECOGNIZED_LEN 2
#define RELAY_CRYPTO_OFFSET_DIGEST 5
#define RELAY_CRYPTO_DIGEST_FIELD_LEN 4

/** Length of the seeds Df/Db (HASH_LEN, SHA-1 output), bytes. */
#define RELAY_KEYS_DIGEST_LEN 20
/** Length of the cipher keys Kf/Kb (KEY_LEN, AES-128), bytes. */
#define RELAY_KEYS_CIPHER_LEN 16
/** Key material a handshake must produce: Df | Db | Kf | Kb (tor-spec
 * §5.2.1, §5.2.2, proposal 332 §A.2). */
#define RELAY_KEY_MATERIAL_LEN \
  (2 * RELAY_KEYS_DIGEST_LEN + 2 * RELAY_KEYS_CIPHER_LEN) /* 72 */
/** Length of a full running-digest value (SHA-1), bytes; what an
 * authenticated SENDME carries (proposal 289 §3.1). */
#define RELAY_CRYPTO_SENDME_DIGEST_LEN 20

/** The symmetric keys of one hop, as a handshake derived them.  Secret:
 * wipe with relay_keys_clear(). */
typedef struct relay_keys_t {
  uint8_t df[RELAY_KEYS_DIGEST_LEN]; /**< Forward digest seed. */
  uint8_t db[RELAY_KEYS_DIGEST_LEN]; /**< Backward digest seed. */
  uint8_t kf[RELAY_KEYS_CIPHER_LEN]; /**< Forward (client→relay) key. */
  uint8_t kb[RELAY_KEYS_CIPHER_LEN]; /**< Backward (relay→client) key. */
} relay_keys_t;

/** Fill <b>out</b> from <b>material</b> laid out as Df | Db | Kf | Kb. */
void relay_keys_from_material(relay_keys_t *out,
                              const uint8_t material[RELAY_KEY_MATERIAL_LEN]);
/** Wipe <b>keys</b>. */
void relay_keys_clear(relay_keys_t *keys);

/** Per-hop relay crypto state.  Caller-allocated (embed it in the hop);
 * do not touch the fields.  Not copyable (it owns heap objects). */
typedef struct relay_crypto_t {
  crypto_cipher_t *f_cipher; /**< Kf, AES-128-CTR, IV 0. */
  crypto_cipher_t *b_cipher; /**< Kb, AES-128-CTR, IV 0. */
  crypto_digest_t *f_digest; /**< Running SHA-1 seeded with Df. */
  crypto_digest_t *b_digest; /**< Running SHA-1 seeded with Db. */
  /** Scratch copy of b_digest used to test a cell without committing. */
  crypto_digest_t *b_digest_tmp;
  /** Full running digest after the last cell sent to this hop. */
  uint8_t last_sent_digest[RELAY_CRYPTO_SENDME_DIGEST_LEN];
  /** Full running digest after the last cell recognized from this hop. */
  uint8_t last_recv_digest[RELAY_CRYPTO_SENDME_DIGEST_LEN];
  bool have_sent;
  bool have_recv;
} relay_crypto_t;

/** Initialise <b>rc</b> from <b>keys</b> (tor-spec §5.5: AES-128-CTR with
 * a zero IV under Kf/Kb; SHA-1 digests seeded with Df/Db).  <b>keys</b>
 * is only read; the caller still owns (and should wipe) it.  Returns
 * CHIVE_ERR_NOMEM if an object cannot be allocated; <b>rc</b> is then
 * left zeroed (safe to clear).  Clear with relay_crypto_clear(). */
CHIVE_MUST_CHECK chive_err_t relay_crypto_init(relay_crypto_t *rc,
                                               const relay_keys_t *keys);

/** Release and wipe everything in <b>rc</b>.  Safe on a zeroed struct and
 * idempotent. */
void relay_crypto_clear(relay_crypto_t *rc);

/** Client side, tor-spec §5.5.2.1 and §6.1: prepare <b>payload</b> (a
 * plaintext relay cell) for hop <b>target_hop</b> (0-based index into
 * <b>hops</b>, which has <b>n_hops</b> entries, hop 0 being the one the
 * client is connected to).
 *
 * Sets the 'recognized' field to zero, computes the digest field as the
 * first 4 bytes of the target hop's running forward digest over the
 * payload (with the digest field zeroed) and commits that digest, then
 * encrypts with Kf of hops target_hop, target_hop-1, ..., 0.  Records the
 * full running digest (see relay_crypto_last_sent_digest()).
 * Returns CHIVE_ERR_INVAL (BUG) if target_hop >= n_hops or a hop is not
 * initialised; nothing is changed then. */
CHIVE_MUST_CHECK chive_err_t relay_crypto_encrypt_outbound(
    relay_crypto_t *const *hops, size_t n_hops, size_t target_hop,
    uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN]);

/** Client side, tor-spec §5.5.4 ("Routing to the Origin") and §6.1:
 * decrypt <b>payload</b> (a cell arriving from hop 0) layer by layer with
 * Kb of hops 0, 1, ... until a hop recognizes it: 'recognized' is zero
 * and the digest field equals the first 4 bytes of that hop's running
 * backward digest over the payload with the digest field zeroed.  The
 * digest is only advanced for the hop that recognizes the cell.
 *
 * On success set *<b>hop_out</b> to the recognizing hop's index, leave
 * the plaintext in <b>payload</b> (digest field intact) and return
 * CHIVE_OK.  If no hop recognizes the cell return CHIVE_ERR_PROTO (the
 * circuit must be closed: every hop's cipher has advanced and cannot be
 * rewound; no digest has changed).  Returns CHIVE_ERR_INVAL (BUG) for
 * n_hops == 0 or an uninitialised hop, changing nothing. */
CHIVE_MUST_CHECK chive_err_t relay_crypto_decrypt_inbound(
    relay_crypto_t *const *hops, size_t n_hops,
    uint8_t payload[RELAY_CRYPTO_PAYLOAD_LEN], size_t *hop_out);

/** Copy to <b>out</b> the full (20-byte) running forward digest of
 * <b>rc</b> as it was right after the last cell sent to this hop.  For
 * authenticated SENDMEs (proposal 289 §3.1-3.2): the client remembers
 * this value for the cell that will make the exit answer with a SENDME,
 * and checks the SENDME's DIGEST against it.  Returns false (and leaves
 * <b>out</b> alone) if no cell has been sent. */
bool
relay_crypto_last_sent_digest(const relay_crypto_t *rc,
                              uint8_t out[RELAY_CRYPTO_SENDME_DIGEST_LEN]);

/** Copy to <b>out</b> the full (20-byte) running backward digest of
 * <b>rc</b> right after the last cell recognized from this hop.  For
 * authenticated SENDMEs (proposal 289 §3.1): when that cell triggers a
 * circuit-level SENDME, this value is its DIGEST.  Returns false if no
 * cell has been received. */
bool
relay_crypto_last_recv_digest(const relay_crypto_t *rc,
                              uint8_t out[RELAY_CRYPTO_SENDME_DIGEST_LEN]);

#endif /* !defined(CHIVE_CORE_CRYPTO_RELAY_CRYPTO_H) */
