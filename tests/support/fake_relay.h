/**
 * @file fake_relay.h
 * @brief TEST ONLY, header-only: a fake Tor relay's keys, certificates and
 * link-handshake cells (tor-spec §4), with knobs to break each piece.
 *
 * Header-only because tests/CMakeLists.txt compiles only tinytest.c into
 * the support library: include it from exactly one test file.
 *
 * The relay has an RSA-1024 identity (lib/crypto rsa test keys) with a
 * self-signed X.509 ID certificate, an Ed25519 identity and signing key,
 * and a TLS link certificate from lib/tls's tls_testing helpers (so the
 * same relay can also run a real TLS server engine).  fake_relay_certs()
 * builds a CERTS body: type 2 (ID), 4 (identity->signing), 5
 * (signing->SHA-256 of the TLS cert), 7 (RSA->Ed cross-cert), each
 * breakable through fake_relay_opts_t.
 **/
#ifndef CHIVE_TEST_FAKE_RELAY_H
#define CHIVE_TEST_FAKE_RELAY_H

#include <string.h>

#include "core/crypto/torcert.h"
#include "core/proto/cell.h"
#include "core/proto/link_cells.h"
#include "lib/bytes/bytes.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/rsa.h"
#include "lib/malloc/malloc.h"
#include "lib/tls/tls_testing.h"

/** Wall-clock "now" for fake relays and the code under test. */
#define FAKE_NOW 1700000000

typedef struct fake_relay_t {
  crypto_rsa_sk_t *rsa_sk;
  crypto_rsa_sk_t *other_rsa_sk; /**< a second key, for forged certs */
  uint8_t rsa_id[DIGEST_LEN];
  uint8_t *id_cert;
  size_t id_cert_len;
  crypto_ed25519_keypair_t ed_id;
  crypto_ed25519_keypair_t ed_sign;
  crypto_ed25519_keypair_t ed_other;
  tls_testing_relay_t *tls; /**< link key + certificate */
  const uint8_t *link_cert; /**< borrowed from tls */
  size_t link_cert_len;
} fake_relay_t;

/** Ways to break the CERTS cell. */
typedef struct fake_relay_opts_t {
  bool omit_id, omit_4, omit_5, omit_7;
  bool dup_4;               /**< type 4 twice */
  bool dup_2;               /**< type 2 twice */
  bool add_type1;           /**< include a type-1 cert (ignored) */
  bool expire_4, expire_5, expire_7;
  bool id_cert_expired;     /**< X.509 ID cert validity in the past */
  bool id_cert_not_self_signed;
  bool id_cert_2048;        /**< ID cert for a 2048-bit key */
  bool link_digest_wrong;   /**< type 5 certifies another TLS cert */
  bool sign_4_with_other;   /**< type 4 signed by a different key */
  bool sign_5_with_other;   /**< type 5 signed by a different key */
  bool cross_with_other_rsa; /**< type 7 signed by a different RSA key */
  bool cross_names_other_ed; /**< type 7 certifies another Ed key */
  bool no_signing_key_ext;  /**< type 4 without the signed-with-key ext */
  bool truncate_body;       /**< cut the last cert short */
} fake_relay_opts_t;

static void CHIVE_UNUSED
fake_relay_free(fake_relay_t *r)
{
  crypto_rsa_sk_free(r->rsa_sk);
  crypto_rsa_sk_free(r->other_rsa_sk);
  chive_free(r->id_cert);
  tls_testing_relay_free(r->tls);
  crypto_ed25519_keypair_clear(&r->ed_id);
  crypto_ed25519_keypair_clear(&r->ed_sign);
  crypto_ed25519_keypair_clear(&r->ed_other);
  memset(r, 0, sizeof(*r));
}

/** Create a fake relay.  Returns false on failure. */
static bool CHIVE_UNUSED
fake_relay_init(fake_relay_t *r)
{
  tls_testing_relay_opts_t to;
  memset(r, 0, sizeof(*r));
  memset(&to, 0, sizeof(to));
  to.now = FAKE_NOW;
  r->rsa_sk = crypto_rsa_sk_generate(1024);
  r->other_rsa_sk = crypto_rsa_sk_generate(1024);
  if (!r->rsa_sk || !r->other_rsa_sk)
    goto err;
  crypto_rsa_pk_t *pk = crypto_rsa_sk_get_pk(r->rsa_sk);
  if (!pk)
    goto err;
  crypto_rsa_pk_fingerprint(pk, r->rsa_id);
  chive_err_t e = crypto_x509_make_rsa_cert(
      pk, r->rsa_sk, "www.fakeid.net", "www.fakeid.net", FAKE_NOW - 86400,
      FAKE_NOW + 365 * 86400, &r->id_cert, &r->id_cert_len);
  crypto_rsa_pk_free(pk);
  if (e)
    goto err;
  if (crypto_ed25519_keypair_generate(&r->ed_id) ||
      crypto_ed25519_keypair_generate(&r->ed_sign) ||
      crypto_ed25519_keypair_generate(&r->ed_other))
    goto err;
  if (tls_testing_relay_new(&to, &r->tls))
    goto err;
  r->link_cert = tls_testing_relay_link_cert(r->tls, &r->link_cert_len);
  return true;
err:
  fake_relay_free(r);
  return false;
}

/** Build the CERTS body into <b>out</b> (cap bytes); false on failure. */
static bool CHIVE_UNUSED
fake_relay_certs(const fake_relay_t *r, const fake_relay_opts_t *o,
                 uint8_t *out, size_t cap, size_t *len_out)
{
  static uint8_t c4[256], c5[256], c7[512], t1[2048];
  size_t l4 = 0, l5 = 0, l7 = 0;
  uint8_t *idder = NULL;
  size_t idlen = 0;
  bool ok = false;
  uint32_t good_exp = (uint32_t)((FAKE_NOW + 7 * 86400) / 3600);
  uint32_t bad_exp = (uint32_t)((FAKE_NOW - 7200) / 3600);
  crypto_rsa_pk_t *pk = crypto_rsa_sk_get_pk(r->rsa_sk);
  crypto_rsa_sk_t *big = NULL;
  certs_cell_t cc;
  memset(&cc, 0, sizeof(cc));
  if (!pk)
    return false;

  /* Type 2: the X.509 identity certificate. */
  const uint8_t *id_der = r->id_cert;
  size_t id_len = r->id_cert_len;
  if (o->id_cert_expired || o->id_cert_not_self_signed || o->id_cert_2048) {
    crypto_rsa_pk_t *subj = pk;
    const crypto_rsa_sk_t *signer =
        o->id_cert_not_self_signed ? r->other_rsa_sk : r->rsa_sk;
    if (o->id_cert_2048) {
      big = crypto_rsa_sk_generate(2048);
      if (!big)
        goto done;
      subj = crypto_rsa_sk_get_pk(big);
      signer = big;
    }
    int64_t nb = FAKE_NOW - 86400, na = FAKE_NOW + 86400;
    if (o->id_cert_expired) {
      nb = FAKE_NOW - 10 * 86400;
      na = FAKE_NOW - 86400;
    }
    chive_err_t e =
        crypto_x509_make_rsa_cert(subj, signer, "www.a.net", "www.a.net", nb,
                                  na, &idder, &idlen);
    if (subj != pk)
      crypto_rsa_pk_free(subj);
    if (e)
      goto done;
    id_der = idder;
    id_len = idlen;
  }

  /* Type 4: identity -> signing key. */
  if (torcert_encode_signed(c4, sizeof(c4), &l4, TORCERT_TYPE_ID_SIGNING,
                            TORCERT_KEYTYPE_ED25519, r->ed_sign.pubkey,
                            o->expire_4 ? bad_exp : good_exp,
                            o->sign_4_with_other ? &r->ed_other : &r->ed_id,
                            !o->no_signing_key_ext))
    goto done;
  /* Type 5: signing key -> SHA-256 of the TLS certificate. */
  uint8_t digest[DIGEST256_LEN];
  crypto_sha256(r->link_cert, r->link_cert_len, digest);
  if (o->link_digest_wrong)
    digest[7] ^= 0x40;
  if (torcert_encode_signed(c5, sizeof(c5), &l5, TORCERT_TYPE_SIGNING_LINK,
                            TORCERT_KEYTYPE_SHA256_X509, digest,
                            o->expire_5 ? bad_exp : good_exp,
                            o->sign_5_with_other ? &r->ed_other
                                                 : &r->ed_sign,
                            false))
    goto done;
  /* Type 7: RSA -> Ed25519 identity cross-certificate. */
  if (torcert_rsa_crosscert_encode_signed(
          c7, sizeof(c7), &l7,
          o->cross_names_other_ed ? r->ed_other.pubkey : r->ed_id.pubkey,
          o->expire_7 ? bad_exp : good_exp,
          o->cross_with_other_rsa ? r->other_rsa_sk : r->rsa_sk))
    goto done;

  unsigned n = 0;
#define ADD(t, p, l)                         \
  do {                                       \
    cc.certs[n].type = (t);                  \
    cc.certs[n].body = (p);                  \
    cc.certs[n].len = (uint16_t)(l);         \
    n++;                                     \
  } while (0)
  if (o->add_type1) {
    /* A type-1 X.509 link cert: present on real relays, unused by us. */
    memcpy(t1, r->link_cert, r->link_cert_len);
    ADD(CERTTYPE_RSA1024_LINK, t1, r->link_cert_len);
  }
  if (!o->omit_id)
    ADD(CERTTYPE_RSA1024_ID, id_der, id_len);
  if (o->dup_2)
    ADD(CERTTYPE_RSA1024_ID, id_der, id_len);
  if (!o->omit_4)
    ADD(CERTTYPE_ED_ID_SIGN, c4, l4);
  if (o->dup_4)
    ADD(CERTTYPE_ED_ID_SIGN, c4, l4);
  if (!o->omit_5)
    ADD(CERTTYPE_ED_SIGN_LINK, c5, l5);
  if (!o->omit_7)
    ADD(CERTTYPE_RSA_ED_CROSSCERT, c7, l7);
#undef ADD
  cc.n_certs = (uint8_t)n;
  if (certs_cell_encode(&cc, out, cap, len_out))
    goto done;
  if (o->truncate_body)
    *len_out -= 10;
  ok = true;
done:
  chive_free(idder);
  crypto_rsa_pk_free(pk);
  crypto_rsa_sk_free(big);
  return ok;
}

/** Append a var cell to <b>w</b>. */
static bool CHIVE_UNUSED
fake_put_var(wr_t *w, unsigned lp, uint32_t circ, uint8_t cmd,
             const uint8_t *body, size_t len)
{
  var_cell_t vc = {circ, cmd, (uint16_t)len, body};
  return var_cell_pack(&vc, lp, w) == CHIVE_OK;
}

/** Append a fixed cell to <b>w</b>. */
static bool CHIVE_UNUSED
fake_put_cell(wr_t *w, unsigned lp, uint32_t circ, uint8_t cmd,
              const uint8_t *body, size_t len)
{
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.circ_id = circ;
  c.command = cmd;
  if (len)
    memcpy(c.payload, body, len);
  return cell_pack(&c, lp, w) == CHIVE_OK;
}

/** Append the relay's VERSIONS cell listing <b>n</b> versions. */
static bool CHIVE_UNUSED
fake_put_versions(wr_t *w, const uint16_t *v, size_t n)
{
  uint8_t body[64];
  size_t len = 0;
  if (versions_encode(v, n, body, sizeof(body), &len))
    return false;
  return fake_put_var(w, LINK_PROTO_UNKNOWN, 0, CELL_VERSIONS, body, len);
}

/** Append an AUTH_CHALLENGE offering methods 1 and 3. */
static bool CHIVE_UNUSED
fake_put_auth_challenge(wr_t *w, unsigned lp)
{
  auth_challenge_t ac;
  uint8_t body[64];
  size_t len = 0;
  memset(&ac, 0, sizeof(ac));
  memset(ac.challenge, 0xc5, sizeof(ac.challenge));
  ac.n_methods = 2;
  ac.methods[0] = 1;
  ac.methods[1] = 3;
  if (auth_challenge_encode(&ac, body, sizeof(body), &len))
    return false;
  return fake_put_var(w, lp, 0, CELL_AUTH_CHALLENGE, body, len);
}

/** Append a NETINFO: time <b>t</b>, OTHERADDR 10.0.0.2 (how the relay
 * sees us) and MYADDRS <b>my_ipv4</b> (host order). */
static bool CHIVE_UNUSED
fake_put_netinfo(wr_t *w, unsigned lp, uint32_t t, uint32_t my_ipv4)
{
  netinfo_t ni;
  uint8_t body[CELL_PAYLOAD_LEN];
  size_t len = 0;
  memset(&ni, 0, sizeof(ni));
  ni.timestamp = t;
  ni.other_addr.atype = NETINFO_ATYPE_IPV4;
  store_u32(ni.other_addr.addr, 0x0a000002u);
  ni.n_my_addrs = 1;
  ni.my_addrs[0].atype = NETINFO_ATYPE_IPV4;
  store_u32(ni.my_addrs[0].addr, my_ipv4);
  if (netinfo_encode(&ni, body, sizeof(body), &len))
    return false;
  return fake_put_cell(w, lp, 0, CELL_NETINFO, body, len);
}

/** The relay's whole handshake flight for link protocol <b>lp</b> (it
 * offers 3, 4, 5): VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO. */
static bool CHIVE_UNUSED
fake_relay_flight(const fake_relay_t *r, const fake_relay_opts_t *o,
                  unsigned lp, uint32_t my_ipv4, wr_t *w)
{
  static const uint16_t v[] = {3, 4, 5};
  uint8_t certs[8192];
  size_t clen = 0;
  uint16_t mine[3];
  size_t nv = 0;
  for (size_t i = 0; i < 3; i++)
    if (v[i] <= lp)
      mine[nv++] = v[i];
  return fake_put_versions(w, mine, nv) &&
         fake_relay_certs(r, o, certs, sizeof(certs), &clen) &&
         fake_put_var(w, lp, 0, CELL_CERTS, certs, clen) &&
         fake_put_auth_challenge(w, lp) &&
         fake_put_netinfo(w, lp, FAKE_NOW + 5, my_ipv4);
}

#endif /* !defined(CHIVE_TEST_FAKE_RELAY_H) */
