/**
 * @file torcert.h
 * @brief Tor's Ed25519 certificates (cert-spec §2.1-2.2) and the
 * RSA->Ed25519 cross-certificate (cert-spec §2.3, CERTS cell type 7).
 *
 * Parsers are pure and bounded (rd_t only; no I/O, logging or allocation).
 * Checking is separate from parsing: a parsed certificate is not trusted
 * until torcert_check() / torcert_rsa_crosscert_check() returned CHIVE_OK.
 * Callers (the link handshake, tor-spec §4.2; onion services) also check
 * that cert_type is the type they expected.
 **/
#ifndef CHIVE_CORE_CRYPTO_TORCERT_H
#define CHIVE_CORE_CRYPTO_TORCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/rsa.h"

/** cert-spec §2.1 VERSION. */
#define TORCERT_VERSION 1
/** VERSION, CERT_TYPE, EXPIRATION_DATE, CERT_KEY_TYPE, CERTIFIED_KEY,
 * N_EXTENSIONS: bytes before the first extension. */
#define TORCERT_HEADER_LEN 40
/** ExtLength, ExtType, ExtFlags: bytes before each ExtData. */
#define TORCERT_EXT_HEADER_LEN 4
/** Smallest possible certificate (no extensions), bytes. */
#define TORCERT_MIN_LEN (TORCERT_HEADER_LEN + ED25519_SIG_LEN)
/** Largest certificate accepted, bytes: a CERTS cell entry's CLEN is
 * 16 bits (tor-spec §4.2), and no other carrier allows more. */
#define TORCERT_MAX_LEN 65535u

/** cert-spec A.1 certificate types (CERT_TYPE). */
#define TORCERT_TYPE_ID_SIGNING 0x04      /**< identity -> signing key */
#define TORCERT_TYPE_SIGNING_LINK 0x05    /**< signing key -> TLS cert */
#define TORCERT_TYPE_SIGNING_AUTH 0x06    /**< signing key -> AUTHENTICATE */
#define TORCERT_TYPE_RSA_ED_CROSS 0x07    /**< reserved: RSA cross-cert */
#define TORCERT_TYPE_HS_DESC_SIGNING 0x08 /**< blinded id -> desc signing */
#define TORCERT_TYPE_HS_IP_AUTH 0x09      /**< desc signing -> intro auth */
#define TORCERT_TYPE_NTOR_CROSS 0x0a      /**< ntor onion key -> identity */
#define TORCERT_TYPE_HS_IP_ENC 0x0b       /**< desc signing -> ntor enc */

/** cert-spec A.4 certified key types (CERT_KEY_TYPE).  Tor before
 * 0.4.5.1-alpha wrote 01 for every type, so accept 01 anywhere and infer
 * the real meaning from CERT_TYPE. */
#define TORCERT_KEYTYPE_ED25519 0x01
#define TORCERT_KEYTYPE_SHA256_RSA 0x02
#define TORCERT_KEYTYPE_SHA256_X509 0x03

/** cert-spec A.2 / §2.2.1: signed-with-ed25519-key extension. */
#define TORCERT_EXT_SIGNED_WITH_KEY 0x04
/** cert-spec §2.1 ExtFlags AFFECTS_VALIDATION. */
#define TORCERT_EXT_FLAG_AFFECTS_VALIDATION 0x01

/** A parsed Ed25519 certificate.  Caller-allocated; fill it with
 * torcert_parse().  Do not modify the fields. */
typedef struct torcert_t {
  uint8_t cert_type;         /**< CERT_TYPE */
  uint8_t key_type;          /**< CERT_KEY_TYPE (see note above) */
  uint32_t exp_hours;        /**< EXPIRATION_DATE: hours since the epoch */
  uint8_t certified_key[32]; /**< CERTIFIED_KEY (a key or a digest) */
  uint8_t n_extensions;      /**< N_EXTENSIONS */
  bool has_signing_key;      /**< true iff a type-04 extension was present */
  uint8_t signing_key[ED25519_PUBKEY_LEN]; /**< its key, if present */
  uint8_t signature[ED25519_SIG_LEN];      /**< SIGNATURE */
  /** Borrowed: the first signed_len (= N-64) bytes of the buffer given to
   * torcert_parse(), which torcert_check() verifies.  That buffer must
   * outlive every use of this certificate with torcert_check(). */
  const uint8_t *signed_part;
  size_t signed_len;
} torcert_t;

/** Parse the <b>len</b>-byte Ed25519 certificate at <b>p</b> into
 * *<b>out</b> (written only on success; it borrows <b>p</b>, see
 * torcert_t.signed_part).  The certificate must fill the input exactly.
 * Returns CHIVE_ERR_TRUNCATED if the input ends early, CHIVE_ERR_PROTO
 * for a wrong VERSION, trailing bytes, a signed-with-key extension whose
 * length is not 32 or that appears twice, or an unknown extension marked
 * AFFECTS_VALIDATION (cert-spec §2.1: such a certificate cannot be
 * valid for us), CHIVE_ERR_LIMIT if len > TORCERT_MAX_LEN. */
CHIVE_MUST_CHECK chive_err_t torcert_parse(torcert_t *out, const uint8_t *p,
                                           size_t len);

/** Check <b>cert</b>: its Ed25519 signature over the first N-64 bytes,
 * made with <b>signing_pk</b>, or with the key in its signed-with-key
 * extension when <b>signing_pk</b> is NULL; and that it has not expired
 * at <b>now_s</b> (seconds since the epoch; valid while
 * now_s <= exp_hours * 3600).  When both a key is given and the extension
 * is present they must match (cert-spec §2.2.1).
 * Returns CHIVE_OK; CHIVE_ERR_PROTO if signing_pk is NULL and the cert
 * carries no key; CHIVE_ERR_CRYPTO if the key mismatches or the signature
 * is bad; CHIVE_ERR_EXPIRED if the (correctly signed) cert expired. */
CHIVE_MUST_CHECK chive_err_t
torcert_check(const torcert_t *cert,
              const uint8_t signing_pk[ED25519_PUBKEY_LEN], int64_t now_s);

/** Return the expiry time of <b>cert</b> in seconds since the epoch. */
int64_t torcert_expiry_s(const torcert_t *cert);

/** Encode and sign an Ed25519 certificate: VERSION 1, <b>cert_type</b>,
 * <b>key_type</b>, <b>certified_key</b>, <b>exp_hours</b>, signed by
 * <b>signer</b>, with a signed-with-key extension naming signer's public
 * key iff <b>include_signing_key</b>.  Writes at most <b>out_max</b> bytes
 * to <b>out</b> and the length to *<b>out_len</b>; CHIVE_ERR_LIMIT if it
 * does not fit. */
CHIVE_MUST_CHECK chive_err_t torcert_encode_signed(
    uint8_t *out, size_t out_max, size_t *out_len, uint8_t cert_type,
    uint8_t key_type, const uint8_t certified_key[32], uint32_t exp_hours,
    const crypto_ed25519_keypair_t *signer, bool include_signing_key);

/* ---- RSA->Ed25519 cross-certificate (cert-spec §2.3) ------------------ */

/** The personalisation prefix hashed before the certificate body. */
#define TORCERT_RSA_CROSSCERT_PREFIX "Tor TLS RSA/Ed25519 cross-certificate"
/** ED25519_KEY and EXPIRATION_DATE: the signed body, bytes. */
#define TORCERT_RSA_CROSSCERT_BODY_LEN 36
/** Largest SIGLEN (one byte). */
#define TORCERT_RSA_CROSSCERT_MAX_SIG_LEN 255

/** A parsed RSA->Ed25519 cross-certificate.  Holds copies; no borrowed
 * pointers. */
typedef struct torcert_rsa_crosscert_t {
  uint8_t ed_key[ED25519_PUBKEY_LEN]; /**< ED25519_KEY (the identity) */
  uint32_t exp_hours;                 /**< EXPIRATION_DATE, hours */
  uint8_t sig_len;                    /**< SIGLEN */
  uint8_t sig[TORCERT_RSA_CROSSCERT_MAX_SIG_LEN]; /**< SIGNATURE */
} torcert_rsa_crosscert_t;

/** Parse exactly <b>len</b> bytes at <b>p</b> as a cross-certificate into
 * *<b>out</b> (written only on success).  CHIVE_ERR_TRUNCATED if short,
 * CHIVE_ERR_PROTO if bytes follow the signature. */
CHIVE_MUST_CHECK chive_err_t torcert_rsa_crosscert_parse(
    torcert_rsa_crosscert_t *out, const uint8_t *p, size_t len);

/** Check <b>cc</b>: the signature must be <b>rsa_id</b>'s Tor-style RSA
 * signature (PKCS#1 v1.5, no DigestInfo) of SHA256(prefix | ED25519_KEY |
 * EXPIRATION_DATE), and it must not have expired at <b>now_s</b>.  The
 * caller separately compares cc->ed_key with the Ed25519 identity it
 * expects.  CHIVE_ERR_CRYPTO for a bad signature, CHIVE_ERR_EXPIRED if
 * expired. */
CHIVE_MUST_CHECK chive_err_t
torcert_rsa_crosscert_check(const torcert_rsa_crosscert_t *cc,
                            const crypto_rsa_pk_t *rsa_id, int64_t now_s);

/** Return the expiry of <b>cc</b> in seconds since the epoch. */
int64_t torcert_rsa_crosscert_expiry_s(const torcert_rsa_crosscert_t *cc);

/** Encode and sign a cross-certificate for <b>ed_key</b> with the RSA key
 * <b>sk</b> (tests and test relays only).  CHIVE_ERR_LIMIT if it does not
 * fit in <b>out_max</b> bytes. */
CHIVE_MUST_CHECK chive_err_t torcert_rsa_crosscert_encode_signed(
    uint8_t *out, size_t out_max, size_t *out_len,
    const uint8_t ed_key[ED25519_PUBKEY_LEN], uint32_t exp_hours,
    const crypto_rsa_sk_t *sk);

#endif /* !defined(CHIVE_CORE_CRYPTO_TORCERT_H) */
