/* Unit tests for core/crypto/torcert: cert-spec §2.1-2.2 Ed25519
 * certificates and the §2.3 RSA->Ed25519 cross-certificate. */
#include <string.h>

#include "core/crypto/torcert.h"
#include "lib/bytes/bytes.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/rsa.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* 2030-01-01 00:00:00 UTC in hours since the epoch. */
#define EXP_HOURS 525960u

static void
make_keys(crypto_ed25519_keypair_t *signer, uint8_t certified[32])
{
  uint8_t seed[32];
  memset(seed, 0x11, sizeof(seed));
  crypto_ed25519_keypair_from_seed(signer, seed);
  for (int i = 0; i < 32; i++)
    certified[i] = (uint8_t)(0xa0 + i);
}

static void
test_roundtrip_and_check(void)
{
  crypto_ed25519_keypair_t kp, other;
  uint8_t certified[32], buf[256], buf2[256], seed[32];
  size_t len = 0, len2 = 0;
  torcert_t c;
  T_OK(crypto_global_init());
  make_keys(&kp, certified);
  memset(seed, 0x22, sizeof(seed));
  crypto_ed25519_keypair_from_seed(&other, seed);

  /* With the signed-with-key extension (as in CERTS type 4). */
  T_OK(torcert_encode_signed(buf, sizeof(buf), &len, TORCERT_TYPE_ID_SIGNING,
                             TORCERT_KEYTYPE_ED25519, certified, EXP_HOURS,
                             &kp, true));
  T_EQ_UINT(len, TORCERT_HEADER_LEN + 4 + 32 + 64);
  /* Hand-checked layout (cert-spec §2.1, §2.2.1). */
  T_EQ_UINT(buf[0], 1);
  T_EQ_UINT(buf[1], 4);
  T_EQ_UINT(load_u32(buf + 2), EXP_HOURS);
  T_EQ_UINT(buf[6], 1);
  T_EQ_MEM(buf + 7, certified, 32);
  T_EQ_UINT(buf[39], 1);
  T_EQ_UINT(load_u16(buf + 40), 32);
  T_EQ_UINT(buf[42], 4);
  T_EQ_UINT(buf[43], 0);
  T_EQ_MEM(buf + 44, kp.pubkey, 32);
  /* The signature is over the first N-64 bytes, independently checked. */
  T_OK(crypto_ed25519_verify(kp.pubkey, buf, len - 64, buf + len - 64));

  T_OK(torcert_parse(&c, buf, len));
  T_EQ_UINT(c.cert_type, TORCERT_TYPE_ID_SIGNING);
  T_EQ_UINT(c.key_type, TORCERT_KEYTYPE_ED25519);
  T_EQ_UINT(c.exp_hours, EXP_HOURS);
  T_EQ_MEM(c.certified_key, certified, 32);
  T_EQ_UINT(c.n_extensions, 1);
  T_ASSERT(c.has_signing_key);
  T_EQ_MEM(c.signing_key, kp.pubkey, 32);
  T_ASSERT(c.signed_part == buf);
  T_EQ_UINT(c.signed_len, len - 64);
  T_EQ_INT(torcert_expiry_s(&c), (int64_t)EXP_HOURS * 3600);

  T_OK(torcert_check(&c, NULL, 1700000000));
  T_OK(torcert_check(&c, kp.pubkey, 1700000000));
  /* The extension must match a given key. */
  T_EQ_INT(torcert_check(&c, other.pubkey, 1700000000), CHIVE_ERR_CRYPTO);
  /* Expiry: valid through the expiration instant, not after. */
  T_OK(torcert_check(&c, NULL, (int64_t)EXP_HOURS * 3600));
  T_EQ_INT(torcert_check(&c, NULL, (int64_t)EXP_HOURS * 3600 + 1),
           CHIVE_ERR_EXPIRED);

  /* Round trip: re-encoding the parsed fields gives the same bytes
   * (Ed25519 signing is deterministic). */
  T_OK(torcert_encode_signed(buf2, sizeof(buf2), &len2, c.cert_type,
                             c.key_type, c.certified_key, c.exp_hours, &kp,
                             c.has_signing_key));
  T_EQ_UINT(len2, len);
  T_EQ_MEM(buf2, buf, len);

  /* Without the extension (as in CERTS type 5): a key must be given. */
  T_OK(torcert_encode_signed(buf, sizeof(buf), &len, TORCERT_TYPE_SIGNING_LINK,
                             TORCERT_KEYTYPE_SHA256_X509, certified, EXP_HOURS,
                             &kp, false));
  T_EQ_UINT(len, TORCERT_MIN_LEN);
  T_OK(torcert_parse(&c, buf, len));
  T_ASSERT(!c.has_signing_key);
  T_EQ_UINT(c.n_extensions, 0);
  T_EQ_INT(torcert_check(&c, NULL, 0), CHIVE_ERR_PROTO);
  T_OK(torcert_check(&c, kp.pubkey, 0));
  T_EQ_INT(torcert_check(&c, other.pubkey, 0), CHIVE_ERR_CRYPTO);

  /* Encoding into a buffer that is too small fails cleanly. */
  T_EQ_INT(torcert_encode_signed(buf, TORCERT_MIN_LEN - 1, &len,
                                 TORCERT_TYPE_SIGNING_LINK, 1, certified,
                                 EXP_HOURS, &kp, false),
           CHIVE_ERR_LIMIT);
done:
  crypto_ed25519_keypair_clear(&kp);
  crypto_ed25519_keypair_clear(&other);
}

/* Every strict prefix is refused as truncated; a trailing byte is refused;
 * the output is not written on failure. */
static void
test_truncation_and_trailing(void)
{
  crypto_ed25519_keypair_t kp;
  uint8_t certified[32], buf[256];
  size_t len = 0;
  torcert_t c, sentinel;
  T_OK(crypto_global_init());
  make_keys(&kp, certified);
  T_OK(torcert_encode_signed(buf, sizeof(buf), &len, TORCERT_TYPE_ID_SIGNING,
                             1, certified, EXP_HOURS, &kp, true));
  memset(&sentinel, 0x5a, sizeof(sentinel));
  for (size_t n = 0; n < len; n++) {
    c = sentinel;
    T_EQ_INT(torcert_parse(&c, buf, n), CHIVE_ERR_TRUNCATED);
    T_EQ_MEM(&c, &sentinel, sizeof(c));
  }
  buf[len] = 0;
  T_EQ_INT(torcert_parse(&c, buf, len + 1), CHIVE_ERR_PROTO);
  T_EQ_INT(torcert_parse(&c, buf, TORCERT_MAX_LEN + 1), CHIVE_ERR_LIMIT);
done:
  crypto_ed25519_keypair_clear(&kp);
}

/* Any single-bit change anywhere makes the cert unparseable or makes the
 * check fail, with or without an explicit key. */
static void
test_tamper(void)
{
  crypto_ed25519_keypair_t kp;
  uint8_t certified[32], buf[256], t[256];
  size_t len = 0;
  torcert_t c;
  T_OK(crypto_global_init());
  make_keys(&kp, certified);
  T_OK(torcert_encode_signed(buf, sizeof(buf), &len, TORCERT_TYPE_ID_SIGNING,
                             1, certified, EXP_HOURS, &kp, true));
  for (size_t i = 0; i < len; i++) {
    for (int bit = 0; bit < 8; bit++) {
      memcpy(t, buf, len);
      t[i] ^= (uint8_t)(1u << bit);
      if (torcert_parse(&c, t, len) != CHIVE_OK)
        continue;
      T_ASSERT(torcert_check(&c, NULL, 0) != CHIVE_OK);
      T_ASSERT(torcert_check(&c, kp.pubkey, 0) != CHIVE_OK);
    }
  }
done:
  crypto_ed25519_keypair_clear(&kp);
}

/** Build a cert by hand: header with <b>n_ext</b>, then <b>ext</b> bytes
 * verbatim, then a signature by <b>kp</b>.  Returns the length. */
static size_t
hand_cert(uint8_t *out, uint8_t version, uint8_t n_ext, const uint8_t *ext,
          size_t ext_len, const crypto_ed25519_keypair_t *kp)
{
  wr_t w = wr_init(out, 512);
  wr_u8(&w, version);
  wr_u8(&w, TORCERT_TYPE_SIGNING_AUTH);
  wr_u32(&w, EXP_HOURS);
  wr_u8(&w, 1);
  wr_zero(&w, 32);
  wr_u8(&w, n_ext);
  wr_bytes(&w, ext, ext_len);
  size_t body = wr_used(&w);
  crypto_ed25519_sign(out + body, out, body, kp);
  return body + 64;
}

static void
test_extensions(void)
{
  crypto_ed25519_keypair_t kp;
  uint8_t certified[32], buf[512], ext[128];
  torcert_t c;
  size_t len;
  T_OK(crypto_global_init());
  make_keys(&kp, certified);

  /* Wrong version. */
  len = hand_cert(buf, 2, 0, NULL, 0, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_PROTO);
  len = hand_cert(buf, 1, 0, NULL, 0, &kp);
  T_OK(torcert_parse(&c, buf, len));
  T_OK(torcert_check(&c, kp.pubkey, 0));

  /* An unknown extension without AFFECTS_VALIDATION is ignored but still
   * covered by the signature. */
  memset(ext, 0, sizeof(ext));
  store_u16(ext, 3);
  ext[2] = 0x77;
  ext[3] = 0x00;
  ext[4] = 'a';
  ext[5] = 'b';
  ext[6] = 'c';
  len = hand_cert(buf, 1, 1, ext, 7, &kp);
  T_OK(torcert_parse(&c, buf, len));
  T_ASSERT(!c.has_signing_key);
  T_OK(torcert_check(&c, kp.pubkey, 0));
  /* ... and with AFFECTS_VALIDATION it makes the cert unusable. */
  ext[3] = TORCERT_EXT_FLAG_AFFECTS_VALIDATION;
  len = hand_cert(buf, 1, 1, ext, 7, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_PROTO);
  /* Other flag bits alone do not. */
  ext[3] = 0x02;
  len = hand_cert(buf, 1, 1, ext, 7, &kp);
  T_OK(torcert_parse(&c, buf, len));

  /* The signed-with-key extension must be exactly 32 bytes... */
  store_u16(ext, 33);
  ext[2] = TORCERT_EXT_SIGNED_WITH_KEY;
  ext[3] = 0;
  memcpy(ext + 4, kp.pubkey, 32);
  len = hand_cert(buf, 1, 1, ext, 4 + 33, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_PROTO);
  store_u16(ext, 31);
  len = hand_cert(buf, 1, 1, ext, 4 + 31, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_PROTO);
  /* ... may carry the AFFECTS_VALIDATION flag (we understand it) ... */
  store_u16(ext, 32);
  ext[3] = TORCERT_EXT_FLAG_AFFECTS_VALIDATION;
  len = hand_cert(buf, 1, 1, ext, 36, &kp);
  T_OK(torcert_parse(&c, buf, len));
  T_ASSERT(c.has_signing_key);
  T_OK(torcert_check(&c, NULL, 0));
  /* ... and may not appear twice. */
  memcpy(ext + 36, ext, 36);
  len = hand_cert(buf, 1, 2, ext, 72, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_PROTO);

  /* An extension claiming more bytes than remain is truncated (the
   * claimed ExtData would swallow the signature). */
  store_u16(ext, 200);
  ext[2] = 0x77;
  ext[3] = 0;
  len = hand_cert(buf, 1, 1, ext, 4, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_TRUNCATED);
  /* N_EXTENSIONS larger than the extensions present. */
  len = hand_cert(buf, 1, 3, NULL, 0, &kp);
  T_EQ_INT(torcert_parse(&c, buf, len), CHIVE_ERR_TRUNCATED);
done:
  crypto_ed25519_keypair_clear(&kp);
}

/* ---- RSA->Ed25519 cross-certificate ----------------------------------- */

static void
test_crosscert(void)
{
  crypto_rsa_sk_t *sk = NULL, *sk2 = NULL;
  crypto_rsa_pk_t *pk = NULL, *pk2 = NULL;
  uint8_t ed[32], buf[512], tmp[512], d[32];
  size_t len = 0;
  torcert_rsa_crosscert_t cc, sentinel;
  T_OK(crypto_global_init());
  for (int i = 0; i < 32; i++)
    ed[i] = (uint8_t)(i * 3);
  sk = crypto_rsa_sk_generate(1024);
  sk2 = crypto_rsa_sk_generate(1024);
  T_ASSERT(sk && sk2);
  pk = crypto_rsa_sk_get_pk(sk);
  pk2 = crypto_rsa_sk_get_pk(sk2);
  T_ASSERT(pk && pk2);

  T_OK(torcert_rsa_crosscert_encode_signed(buf, sizeof(buf), &len, ed,
                                           EXP_HOURS, sk));
  T_EQ_UINT(len, 32 + 4 + 1 + 128);
  T_EQ_MEM(buf, ed, 32);
  T_EQ_UINT(load_u32(buf + 32), EXP_HOURS);
  T_EQ_UINT(buf[36], 128);
  /* Independently: the signature opens to SHA256(prefix | first 36
   * bytes), PKCS#1 type 1 with no DigestInfo. */
  {
    static const char prefix[] = "Tor TLS RSA/Ed25519 cross-certificate";
    memcpy(tmp, prefix, strlen(prefix));
    memcpy(tmp + strlen(prefix), buf, 36);
    crypto_sha256(tmp, strlen(prefix) + 36, d);
    T_OK(crypto_rsa_verify_digest(pk, buf + 37, 128, d, 32));
  }

  T_OK(torcert_rsa_crosscert_parse(&cc, buf, len));
  T_EQ_MEM(cc.ed_key, ed, 32);
  T_EQ_UINT(cc.exp_hours, EXP_HOURS);
  T_EQ_UINT(cc.sig_len, 128);
  T_EQ_MEM(cc.sig, buf + 37, 128);
  T_EQ_INT(torcert_rsa_crosscert_expiry_s(&cc), (int64_t)EXP_HOURS * 3600);
  T_OK(torcert_rsa_crosscert_check(&cc, pk, 1700000000));
  T_OK(torcert_rsa_crosscert_check(&cc, pk, (int64_t)EXP_HOURS * 3600));
  T_EQ_INT(torcert_rsa_crosscert_check(&cc, pk, (int64_t)EXP_HOURS * 3600 + 1),
           CHIVE_ERR_EXPIRED);
  T_EQ_INT(torcert_rsa_crosscert_check(&cc, pk2, 0), CHIVE_ERR_CRYPTO);

  /* Tampering with the key, expiry or signature breaks it. */
  for (size_t i = 0; i < len; i++) {
    if (i == 36)
      continue; /* SIGLEN: changes the framing, covered below */
    memcpy(tmp, buf, len);
    tmp[i] ^= 0x01;
    T_OK(torcert_rsa_crosscert_parse(&cc, tmp, len));
    T_EQ_INT(torcert_rsa_crosscert_check(&cc, pk, 0), CHIVE_ERR_CRYPTO);
  }

  /* Every strict prefix is truncated; trailing bytes are refused. */
  memset(&sentinel, 0x5a, sizeof(sentinel));
  for (size_t n = 0; n < len; n++) {
    cc = sentinel;
    T_EQ_INT(torcert_rsa_crosscert_parse(&cc, buf, n), CHIVE_ERR_TRUNCATED);
    T_EQ_MEM(&cc, &sentinel, sizeof(cc));
  }
  buf[len] = 0;
  T_EQ_INT(torcert_rsa_crosscert_parse(&cc, buf, len + 1), CHIVE_ERR_PROTO);
  /* A zero-length signature parses but never verifies. */
  buf[36] = 0;
  T_OK(torcert_rsa_crosscert_parse(&cc, buf, 37));
  T_EQ_INT(torcert_rsa_crosscert_check(&cc, pk, 0), CHIVE_ERR_CRYPTO);
  /* Too small an output buffer. */
  T_EQ_INT(torcert_rsa_crosscert_encode_signed(buf, 100, &len, ed, 1, sk),
           CHIVE_ERR_LIMIT);
done:
  crypto_rsa_sk_free(sk);
  crypto_rsa_sk_free(sk2);
  crypto_rsa_pk_free(pk);
  crypto_rsa_pk_free(pk2);
}

static const t_case cases[] = {
    T_CASE(test_roundtrip_and_check),
    T_CASE(test_truncation_and_trailing),
    T_CASE(test_tamper),
    T_CASE(test_extensions),
    T_CASE(test_crosscert),
    T_END,
};
T_MAIN(cases)
