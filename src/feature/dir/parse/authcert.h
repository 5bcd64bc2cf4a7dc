/**
 * @file authcert.h
 * @brief Directory authority key certificates (dir-spec §3.1): parsing a
 * batch (tor's cached-certs, or a /tor/keys/ response) into records that
 * keep the two RSA keys as DER, the signatures, and the digests needed to
 * check them (dirverify_authcert()).
 *
 * Parsing checks syntax and the document rules only; nothing here is
 * trusted until dirverify_authcert() accepts it.  Pure: no I/O, no
 * logging; one arena per batch.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_AUTHCERT_H
#define CHIVE_FEATURE_DIR_PARSE_AUTHCERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/dirarena.h"
#include "lib/cc/cc.h"

/** Most certificates in one batch. */
#define AUTHCERT_MAX_PER_BATCH 256
/** Shortest key object accepted, bytes (a 1024-bit key is ~140). */
#define AUTHCERT_MIN_KEY_DER_LEN 64

typedef struct authcert_t {
  uint8_t fingerprint[20]; /**< The "fingerprint" line (v3 identity). */
  int64_t published;       /**< dir-key-published, seconds UTC. */
  int64_t expires;         /**< dir-key-expires, seconds UTC. */
  const uint8_t *identity_key; /**< PKCS#1 RSAPublicKey DER (arena). */
  size_t identity_key_len;
  const uint8_t *signing_key;  /**< PKCS#1 RSAPublicKey DER (arena). */
  size_t signing_key_len;
  /** SHA-1 of identity_key: what "fingerprint" must equal, and what the
   * cross-certificate signs (dir-spec §3.1 "dir-key-crosscert"). */
  uint8_t identity_key_digest[20];
  /** SHA-1 of signing_key: the "signing-key-digest" a consensus
   * directory-signature names. */
  uint8_t signing_key_digest[20];
  const uint8_t *crosscert;     /**< dir-key-crosscert signature. */
  size_t crosscert_len;
  const uint8_t *certification; /**< dir-key-certification signature. */
  size_t certification_len;
  /** SHA-1 of the signed region: "dir-key-certificate-version" through
   * the NL after "dir-key-certification" (dir-spec §1.3). */
  uint8_t signed_digest[20];
  bool has_address;        /**< A "dir-address" line was present. */
  uint32_t address_ipv4;
  uint16_t address_port;
} authcert_t;

typedef struct authcert_list_t {
  dirarena_t *arena;
  size_t n;
  authcert_t *certs;
} authcert_list_t;

/** Parse every certificate in the <b>len</b> bytes at <b>s</b>.  Any
 * malformed certificate rejects the batch (CHIVE_ERR_PROTO,
 * CHIVE_ERR_TRUNCATED, CHIVE_ERR_LIMIT); CHIVE_ERR_NOMEM.  On success
 * *<b>out</b> is a new list (free with authcert_list_free()). */
CHIVE_MUST_CHECK chive_err_t authcert_list_parse(const char *s, size_t len,
                                                 authcert_list_t **out);
/** Free <b>l</b>; NULL is a no-op. */
void authcert_list_free_(authcert_list_t *l);
#define authcert_list_free(p) \
  CHIVE_FREE_AND_NULL(authcert_list_t, authcert_list_free_, (p))

/** Return the first certificate with this identity fingerprint and
 * signing key digest, or NULL. */
const authcert_t *authcert_list_find(const authcert_list_t *l,
                                     const uint8_t fingerprint[20],
                                     const uint8_t signing_key_digest[20]);
/** Bytes of heap held by <b>l</b>. */
size_t authcert_list_bytes(const authcert_list_t *l);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_AUTHCERT_H) */
