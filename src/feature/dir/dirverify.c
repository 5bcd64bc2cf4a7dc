/**
 * @file dirverify.c
 * @brief Authority certificate and consensus signature verification
 * (dir-spec §3.1, §3.4.1, §1.3).  See dirverify.h.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/dirverify.h"

#include <string.h>

#include "lib/crypto/digest.h"
#include "lib/crypto/rsa.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/* see dirverify.h */
chive_err_t
dirverify_authcert(const authcert_t *c, int64_t now, int64_t skew)
{
  chive_err_t e = CHIVE_ERR_CRYPTO;
  crypto_rsa_pk_t *id = NULL, *sk = NULL;
  if (BUG(c == NULL))
    return CHIVE_ERR_INVAL;
  /* dir-spec §3.1: "fingerprint" is the hex of the identity key digest. */
  if (!fast_memeq(c->fingerprint, c->identity_key_digest, 20))
    goto done;
  id = crypto_rsa_pk_from_der(c->identity_key, c->identity_key_len);
  sk = crypto_rsa_pk_from_der(c->signing_key, c->signing_key_len);
  if (!id || !sk)
    goto done;
  /* "dir-key-crosscert": the signing key's signature of the identity key
   * digest. */
  if (crypto_rsa_verify_digest(sk, c->crosscert, c->crosscert_len,
                               c->identity_key_digest, 20) != CHIVE_OK)
    goto done;
  /* "dir-key-certification": the identity key's document signature
   * (dir-spec §1.3, SHA-1). */
  if (crypto_rsa_verify_digest(id, c->certification, c->certification_len,
                               c->signed_digest, 20) != CHIVE_OK)
    goto done;
  if (now < c->published - skew || now > c->expires + skew) {
    e = CHIVE_ERR_EXPIRED;
    goto done;
  }
  e = CHIVE_OK;
done:
  crypto_rsa_pk_free(id);
  crypto_rsa_pk_free(sk);
  return e;
}

/* see dirverify.h */
const char *
dirverify_sig_status_str(dirverify_sig_status_t s)
{
  switch (s) {
  case DIRVERIFY_SIG_VALID:
    return "valid";
  case DIRVERIFY_SIG_MISSING:
    return "no signature";
  case DIRVERIFY_SIG_NO_CERT:
    return "no certificate";
  case DIRVERIFY_SIG_CERT_INVALID:
    return "certificate invalid";
  case DIRVERIFY_SIG_CERT_EXPIRED:
    return "certificate expired";
  case DIRVERIFY_SIG_BAD:
    return "bad signature";
  case DIRVERIFY_SIG_UNKNOWN_ALG:
    return "unknown digest algorithm";
  default:
    return "?";
  }
}

/* see dirverify.h */
void
dirverify_opts_init(dirverify_opts_t *opts, int64_t now)
{
  memset(opts, 0, sizeof(*opts));
  opts->now = now;
  opts->cert_skew = DIRVERIFY_DEFAULT_CERT_SKEW;
}

/* see dirverify.h */
chive_err_t
dirverify_consensus_time(const ns_consensus_t *c,
                         const dirverify_opts_t *opts)
{
  if (opts->now < c->valid_after - opts->early_tolerance)
    return CHIVE_ERR_EXPIRED;
  if (opts->now > c->valid_until + opts->late_tolerance)
    return CHIVE_ERR_EXPIRED;
  return CHIVE_OK;
}

/** Return the first certificate matching identity and signing key. */
static const authcert_t *
find_cert(const authcert_t *certs, size_t n, const uint8_t id[20],
          const uint8_t skd[20])
{
  for (size_t i = 0; i < n; i++) {
    if (fast_memeq(certs[i].fingerprint, id, 20) &&
        fast_memeq(certs[i].signing_key_digest, skd, 20))
      return &certs[i];
  }
  return NULL;
}

/** Check one signature; return its status. */
static dirverify_sig_status_t
check_sig(const ns_consensus_t *c, const ns_signature_t *sig,
          const authcert_t *certs, size_t n_certs,
          const dirverify_opts_t *opts)
{
  const authcert_t *cert =
      find_cert(certs, n_certs, sig->identity, sig->signing_key_digest);
  if (!cert)
    return DIRVERIFY_SIG_NO_CERT;
  chive_err_t e = dirverify_authcert(cert, opts->now, opts->cert_skew);
  if (e == CHIVE_ERR_EXPIRED)
    return DIRVERIFY_SIG_CERT_EXPIRED;
  if (e)
    return DIRVERIFY_SIG_CERT_INVALID;
  crypto_rsa_pk_t *sk =
      crypto_rsa_pk_from_der(cert->signing_key, cert->signing_key_len);
  if (!sk)
    return DIRVERIFY_SIG_CERT_INVALID;
  const uint8_t *d = sig->alg == NS_SIG_SHA256 ? c->digest_sha256
                                               : c->digest_sha1;
  size_t dlen = sig->alg == NS_SIG_SHA256 ? 32 : 20;
  e = crypto_rsa_verify_digest(sk, sig->sig, sig->sig_len, d, dlen);
  crypto_rsa_pk_free(sk);
  return e == CHIVE_OK ? DIRVERIFY_SIG_VALID : DIRVERIFY_SIG_BAD;
}

/** Rank statuses so the most informative failure is reported. */
static int
status_rank(dirverify_sig_status_t s)
{
  switch (s) {
  case DIRVERIFY_SIG_VALID:
    return 6;
  case DIRVERIFY_SIG_BAD:
    return 5;
  case DIRVERIFY_SIG_CERT_EXPIRED:
    return 4;
  case DIRVERIFY_SIG_CERT_INVALID:
    return 3;
  case DIRVERIFY_SIG_NO_CERT:
    return 2;
  case DIRVERIFY_SIG_UNKNOWN_ALG:
    return 1;
  default:
    return 0;
  }
}

/* see dirverify.h */
chive_err_t
dirverify_consensus(const ns_consensus_t *c, const authcert_t *certs,
                    size_t n_certs, const uint8_t (*auth_ids)[20],
                    size_t n_auth, const dirverify_opts_t *opts,
                    dirverify_result_t *res)
{
  if (BUG(res == NULL))
    return CHIVE_ERR_INVAL;
  memset(res, 0, sizeof(*res));
  if (BUG(c == NULL || opts == NULL) || n_auth == 0 ||
      n_auth > DIRVERIFY_MAX_AUTHORITIES || (n_certs && !certs))
    return CHIVE_ERR_INVAL;
  res->n_auth = n_auth;
  res->n_needed = n_auth / 2 + 1;
  for (size_t a = 0; a < n_auth; a++) {
    memcpy(res->auth[a].identity, auth_ids[a], 20);
    res->auth[a].status = DIRVERIFY_SIG_MISSING;
  }
  for (size_t i = 0; i < c->n_signatures; i++) {
    const ns_signature_t *sig = &c->signatures[i];
    size_t a;
    for (a = 0; a < n_auth; a++) {
      if (fast_memeq(auth_ids[a], sig->identity, 20))
        break;
    }
    if (a == n_auth) {
      res->n_sigs_unconfigured++;
      continue;
    }
    dirverify_auth_result_t *ar = &res->auth[a];
    /* "only one signature from each authority should be counted". */
    if (ar->status == DIRVERIFY_SIG_VALID)
      continue;
    dirverify_sig_status_t st;
    if (sig->alg == NS_SIG_UNKNOWN) {
      /* "implementations MUST ignore directory-signature entries with an
       * unrecognized Algorithm" */
      st = DIRVERIFY_SIG_UNKNOWN_ALG;
    } else {
      st = check_sig(c, sig, certs, n_certs, opts);
    }
    if (status_rank(st) > status_rank(ar->status)) {
      ar->status = st;
      ar->alg = sig->alg;
    }
  }
  for (size_t a = 0; a < n_auth; a++) {
    if (res->auth[a].status == DIRVERIFY_SIG_VALID)
      res->n_valid++;
  }
  res->time_ok = dirverify_consensus_time(c, opts) == CHIVE_OK;
  if (res->n_valid < res->n_needed)
    return CHIVE_ERR_CRYPTO;
  if (!res->time_ok)
    return CHIVE_ERR_EXPIRED;
  return CHIVE_OK;
}
