/**
 * @file dirverify.h
 * @brief Verification of parsed directory documents: authority key
 * certificates (dir-spec §3.1) and consensus signatures and validity
 * (dir-spec §3.4.1, §1.3), against a caller-configured list of v3
 * authority identities and an injected clock.
 *
 * A consensus is accepted when more than half of the *configured*
 * authorities produced a valid signature (tor's rule: a majority of the
 * authorities we trust, not of those that happened to sign), each one
 * checked with a certificate that itself verifies and is current, and the
 * clock lies in its validity window.  Results are given per authority so
 * a tool can print them.
 **/
#ifndef CHIVE_FEATURE_DIR_DIRVERIFY_H
#define CHIVE_FEATURE_DIR_DIRVERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/ns_consensus.h"
#include "lib/cc/cc.h"

/** Most configured authorities. */
#define DIRVERIFY_MAX_AUTHORITIES 32
/** Default tolerance for certificate times, seconds (clock skew). */
#define DIRVERIFY_DEFAULT_CERT_SKEW (30 * 60)

/** Check one certificate: the fingerprint line equals SHA-1 of the
 * identity key; dir-key-crosscert is the signing key's signature over
 * SHA-1(identity key); dir-key-certification is the identity key's
 * signature over the certificate's signed digest; published - skew <=
 * <b>now</b> <= expires + skew.  Returns CHIVE_OK,
 * CHIVE_ERR_CRYPTO (a key or signature check failed; also for an
 * unparseable key), CHIVE_ERR_EXPIRED (times), CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t dirverify_authcert(const authcert_t *c,
                                                int64_t now, int64_t skew);

typedef enum {
  DIRVERIFY_SIG_VALID = 0,    /**< Valid signature from this authority. */
  DIRVERIFY_SIG_MISSING,      /**< No directory-signature from it. */
  DIRVERIFY_SIG_NO_CERT,      /**< No certificate for its signing key. */
  DIRVERIFY_SIG_CERT_INVALID, /**< Its certificate failed to verify. */
  DIRVERIFY_SIG_CERT_EXPIRED, /**< Its certificate is not current. */
  DIRVERIFY_SIG_BAD,          /**< The RSA signature does not match. */
  DIRVERIFY_SIG_UNKNOWN_ALG,  /**< Only signatures with unknown digests. */
} dirverify_sig_status_t;

/** Return a short static name for <b>s</b> ("valid", "bad signature"). */
const char *dirverify_sig_status_str(dirverify_sig_status_t s);

typedef struct dirverify_auth_result_t {
  uint8_t identity[20];          /**< The configured authority. */
  dirverify_sig_status_t status;
  ns_sig_alg_t alg;              /**< Algorithm of the checked signature. */
} dirverify_auth_result_t;

typedef struct dirverify_result_t {
  size_t n_auth;                 /**< Configured authorities. */
  dirverify_auth_result_t auth[DIRVERIFY_MAX_AUTHORITIES];
  size_t n_valid;                /**< Authorities with a valid signature. */
  size_t n_needed;               /**< n_auth / 2 + 1. */
  size_t n_sigs_unconfigured;    /**< Signatures by unknown identities. */
  bool time_ok;                  /**< now within the validity window. */
} dirverify_result_t;

typedef struct dirverify_opts_t {
  int64_t now;             /**< Wall clock, seconds UTC (injected). */
  /** Accept a consensus this many seconds before valid-after
   * (propagation: dir-spec §3.4.1 allows up to DistSeconds early). */
  int64_t early_tolerance;
  /** Accept a consensus this many seconds after valid-until ("reasonably
   * live": tor uses 24 h when nothing newer can be fetched). */
  int64_t late_tolerance;
  int64_t cert_skew;       /**< Tolerance for certificate times. */
} dirverify_opts_t;

/** Strict defaults: no early/late tolerance, DIRVERIFY_DEFAULT_CERT_SKEW
 * for certificates, clock <b>now</b>. */
void dirverify_opts_init(dirverify_opts_t *opts, int64_t now);

/** Return CHIVE_OK iff valid_after - early <= now <= valid_until + late,
 * else CHIVE_ERR_EXPIRED. */
CHIVE_MUST_CHECK chive_err_t dirverify_consensus_time(
    const ns_consensus_t *c, const dirverify_opts_t *opts);

/** Verify the signatures of <b>c</b> with the <b>n_certs</b> certificates
 * at <b>certs</b> against the <b>n_auth</b> configured authority
 * identities at <b>auth_ids</b>, and its validity window per
 * <b>opts</b>.  For each configured authority, the first signature that
 * names its identity, has a known algorithm and a matching certificate
 * (identity and signing-key digest) is checked: certificate first
 * (dirverify_authcert), then RSA PKCS#1 v1.5 without DigestInfo over the
 * SHA-1 or SHA-256 of the signed region.  *<b>res</b> is always filled.
 * Returns CHIVE_OK if more than half of the configured authorities
 * signed validly and the time is right; CHIVE_ERR_CRYPTO if too few
 * valid signatures; CHIVE_ERR_EXPIRED if signatures are fine but the
 * time is not; CHIVE_ERR_INVAL for bad arguments (n_auth 0 or more than
 * DIRVERIFY_MAX_AUTHORITIES); CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t dirverify_consensus(
    const ns_consensus_t *c, const authcert_t *certs, size_t n_certs,
    const uint8_t (*auth_ids)[20], size_t n_auth,
    const dirverify_opts_t *opts, dirverify_result_t *res);

#endif /* !defined(CHIVE_FEATURE_DIR_DIRVERIFY_H) */
