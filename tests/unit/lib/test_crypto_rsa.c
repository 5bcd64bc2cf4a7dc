/* Unit tests for lib/crypto/rsa: PKCS#1 keys, Tor's no-DigestInfo RSA
 * signatures, X.509 helpers; plus real directory-authority key
 * certificates (dir-spec §3.1) from /work/shared/data. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rsa.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ---- tiny helpers for the real-data test (test-only, independent of
 * the library's own encoders) ------------------------------------------ */

static const char *
find(const char *s, const char *end, const char *needle)
{
  size_t n = strlen(needle);
  for (; s && s + n <= end; s++)
    if (memcmp(s, needle, n) == 0)
      return s;
  return NULL;
}

static int
b64val(char c)
{
  if (c >= 'A' && c <= 'Z')
    return c - 'A';
  if (c >= 'a' && c <= 'z')
    return c - 'a' + 26;
  if (c >= '0' && c <= '9')
    return c - '0' + 52;
  if (c == '+')
    return 62;
  if (c == '/')
    return 63;
  return -1;
}

/** Decode base64 in [s, end), skipping newlines and stopping at '=';
 * returns the byte count or -1. */
static long
b64dec(const char *s, const char *end, uint8_t *out, size_t max)
{
  unsigned acc = 0, bits = 0;
  size_t n = 0;
  for (; s < end; s++) {
    if (*s == '\n')
      continue;
    if (*s == '=')
      break;
    int v = b64val(*s);
    if (v < 0)
      return -1;
    acc = (acc << 6) | (unsigned)v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (n >= max)
        return -1;
      out[n++] = (uint8_t)(acc >> bits);
    }
  }
  return (long)n;
}

/** Find "<kw>\n-----BEGIN <obj>-----\n" after <b>s</b>; set [*b, *e) to
 * the base64 body and [*pem_b, *pem_e) to the whole PEM block. */
static bool
find_object(const char *s, const char *end, const char *kw, const char *obj,
            const char **b, const char **e, const char **pem_b,
            const char **pem_e)
{
  char begin[128], fin[128];
  snprintf(begin, sizeof(begin), "\n%s\n-----BEGIN %s-----\n", kw, obj);
  snprintf(fin, sizeof(fin), "-----END %s-----", obj);
  const char *p = find(s, end, begin);
  if (!p)
    return false;
  *pem_b = p + strlen(kw) + 2;
  *b = p + strlen(begin);
  *e = find(*b, end, fin);
  if (!*e)
    return false;
  *pem_e = *e + strlen(fin);
  return true;
}

static int
hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/** Verify every key certificate in <b>path</b>; returns how many verified
 * or -1 on the first failure (reported through T_ macros' caller). */
static int
check_cert_file(const char *path)
{
  size_t len = 0;
  int n_ok = -1, n = 0;
  uint8_t *file = t_read_file(path, &len);
  crypto_rsa_pk_t *id = NULL, *sign = NULL;
  if (!file)
    return -1;
  const char *s = (const char *)file, *end = s + len;
  const char *cert;
  while ((cert = find(s, end, "dir-key-certificate-version 3\n")) != NULL) {
    const char *b, *e, *pb, *pe, *fp;
    uint8_t sig[1024], d[DIGEST_LEN], fpr[DIGEST_LEN];
    long sig_len;
    /* fingerprint line: 40 hex digits of SHA1(DER identity key). */
    fp = find(cert, end, "\nfingerprint ");
    if (!fp)
      goto done;
    fp += strlen("\nfingerprint ");
    for (int i = 0; i < DIGEST_LEN; i++) {
      int hi = hexval(fp[2 * i]), lo = hexval(fp[2 * i + 1]);
      if (hi < 0 || lo < 0)
        goto done;
      fpr[i] = (uint8_t)(hi * 16 + lo);
    }
    if (!find_object(cert, end, "dir-identity-key", "RSA PUBLIC KEY", &b, &e,
                     &pb, &pe))
      goto done;
    id = crypto_rsa_pk_from_pem(pb, (size_t)(pe - pb));
    if (!id || crypto_rsa_pk_bits(id) < 2048 ||
        !crypto_rsa_pk_exponent_is_65537(id))
      goto done;
    crypto_rsa_pk_fingerprint(id, d);
    if (memcmp(d, fpr, DIGEST_LEN) != 0)
      goto done;
    if (!find_object(cert, end, "dir-signing-key", "RSA PUBLIC KEY", &b, &e,
                     &pb, &pe))
      goto done;
    sign = crypto_rsa_pk_from_pem(pb, (size_t)(pe - pb));
    if (!sign)
      goto done;
    /* dir-key-crosscert: the signing key's signature of SHA1(DER id). */
    if (!find_object(cert, end, "dir-key-crosscert", "ID SIGNATURE", &b, &e,
                     &pb, &pe))
      goto done;
    sig_len = b64dec(b, e, sig, sizeof(sig));
    if (sig_len <= 0 || crypto_rsa_verify_digest(sign, sig, (size_t)sig_len,
                                                 fpr, DIGEST_LEN) != CHIVE_OK)
      goto done;
    /* dir-key-certification: identity key over SHA1 of the text from
     * "dir-key-certificate-version" through "dir-key-certification\n"
     * (dir-spec §1.3). */
    if (!find_object(cert, end, "dir-key-certification", "SIGNATURE", &b, &e,
                     &pb, &pe))
      goto done;
    const char *signed_end = pb; /* just after "dir-key-certification\n" */
    crypto_sha1(cert, (size_t)(signed_end - cert), d);
    sig_len = b64dec(b, e, sig, sizeof(sig));
    if (sig_len <= 0 || crypto_rsa_verify_digest(id, sig, (size_t)sig_len, d,
                                                 DIGEST_LEN) != CHIVE_OK)
      goto done;
    /* Negative controls on the same real data: a changed digest, the
     * wrong key, a changed signature. */
    d[3] ^= 1;
    if (crypto_rsa_verify_digest(id, sig, (size_t)sig_len, d, DIGEST_LEN) ==
        CHIVE_OK)
      goto done;
    d[3] ^= 1;
    if (crypto_rsa_verify_digest(sign, sig, (size_t)sig_len, d, DIGEST_LEN) ==
        CHIVE_OK)
      goto done;
    sig[sig_len - 1] ^= 0x40;
    if (crypto_rsa_verify_digest(id, sig, (size_t)sig_len, d, DIGEST_LEN) ==
        CHIVE_OK)
      goto done;
    crypto_rsa_pk_free(id);
    crypto_rsa_pk_free(sign);
    n++;
    s = pe;
  }
  n_ok = n;
done:
  crypto_rsa_pk_free(id);
  crypto_rsa_pk_free(sign);
  chive_free(file);
  return n_ok;
}

static void
test_real_authority_certs(void)
{
  char path[1024];
  const char *dir = t_shared_data_dir();
  T_OK(crypto_global_init());
  if (!dir)
    T_SKIP("no shared data");
  snprintf(path, sizeof(path), "%s/realnet-A/cached-certs", dir);
  T_EQ_INT(check_cert_file(path), 9);
  snprintf(path, sizeof(path), "%s/realnet-A/modern/cached-certs", dir);
  T_EQ_INT(check_cert_file(path), 9);
done:
  return;
}

/* ---- generated keys ---------------------------------------------------- */

static void
test_der_roundtrip_and_limits(void)
{
  crypto_rsa_sk_t *sk = NULL;
  crypto_rsa_pk_t *pk = NULL, *pk2 = NULL, *pk3 = NULL;
  uint8_t der[CRYPTO_RSA_PK_DER_MAX_LEN + 8], d1[20], d2[20];
  size_t der_len = 0, small = 0;
  T_OK(crypto_global_init());
  T_ASSERT(crypto_rsa_sk_generate(512) == NULL); /* below the minimum */
  sk = crypto_rsa_sk_generate(1024);
  T_ASSERT(sk);
  pk = crypto_rsa_sk_get_pk(sk);
  T_ASSERT(pk);
  T_EQ_UINT(crypto_rsa_pk_bits(pk), 1024);
  T_ASSERT(crypto_rsa_pk_exponent_is_65537(pk));
  T_OK(crypto_rsa_pk_to_der(pk, der, sizeof(der), &der_len));
  T_EQ_UINT(der_len, 140); /* 30 81 89 02 81 81 00 <128> 02 03 010001 */
  T_EQ_UINT(der[0], 0x30);
  T_EQ_INT(crypto_rsa_pk_to_der(pk, der, der_len - 1, &small),
           CHIVE_ERR_LIMIT);
  pk2 = crypto_rsa_pk_from_der(der, der_len);
  T_ASSERT(pk2);
  T_ASSERT(crypto_rsa_pk_eq(pk, pk2));
  pk3 = crypto_rsa_pk_dup(pk2);
  T_ASSERT(pk3 && crypto_rsa_pk_eq(pk3, pk));
  /* Fingerprint = SHA1 of the PKCS#1 DER. */
  crypto_rsa_pk_fingerprint(pk, d1);
  crypto_sha1(der, der_len, d2);
  T_EQ_MEM(d1, d2, 20);
  /* Every strict prefix, and a trailing byte, are refused. */
  for (size_t n = 0; n < der_len; n++) {
    crypto_rsa_pk_t *bad = crypto_rsa_pk_from_der(der, n);
    T_ASSERT(bad == NULL);
  }
  der[der_len] = 0;
  T_ASSERT(crypto_rsa_pk_from_der(der, der_len + 1) == NULL);
  /* Non-canonical DER: the outer length in a longer form than needed. */
  {
    uint8_t nc[sizeof(der) + 1];
    T_EQ_UINT(der[1], 0x81);
    nc[0] = 0x30;
    nc[1] = 0x82;
    nc[2] = 0x00;
    memcpy(nc + 3, der + 2, der_len - 2);
    T_ASSERT(crypto_rsa_pk_from_der(nc, der_len + 1) == NULL);
  }
done:
  crypto_rsa_sk_free(sk);
  crypto_rsa_pk_free(pk);
  crypto_rsa_pk_free(pk2);
  crypto_rsa_pk_free(pk3);
}

static void
test_pem(void)
{
  /* Generated once with "openssl rsa -RSAPublicKey_out". */
  static const char pem[] =
      "-----BEGIN RSA PUBLIC KEY-----\n"
      "MIGJAoGBALAly8aLZTw4/+HhdzPMLaRj/1k6wJPyGAMV9TmdvyImCrw+zEEWCaTS\n"
      "/VX2NGNQZReBWOvBYJV4m/68W4qT98ejvY/GnwxUgzxyxGLyb7EZ9d8H1BBZycuL\n"
      "2/9BDyOeCaCBoDJk5o31C9sXHBJKNcECi09e20V8vM13MCctkgHJAgMBAAE=\n"
      "-----END RSA PUBLIC KEY-----\n";
  crypto_rsa_pk_t *pk = NULL;
  char buf[sizeof(pem) + 16];
  T_OK(crypto_global_init());
  pk = crypto_rsa_pk_from_pem(pem, strlen(pem));
  T_ASSERT(pk);
  T_EQ_UINT(crypto_rsa_pk_bits(pk), 1024);
  crypto_rsa_pk_free(pk);
  /* Surrounding whitespace is fine. */
  snprintf(buf, sizeof(buf), "\n  %s\n", pem);
  pk = crypto_rsa_pk_from_pem(buf, strlen(buf));
  T_ASSERT(pk);
  crypto_rsa_pk_free(pk);
  /* Not NUL-terminated: the length is what counts. */
  memcpy(buf, pem, strlen(pem));
  buf[strlen(pem)] = 'X';
  pk = crypto_rsa_pk_from_pem(buf, strlen(pem));
  T_ASSERT(pk);
  crypto_rsa_pk_free(pk);
  /* ...but trailing junk inside the length is not. */
  T_ASSERT(crypto_rsa_pk_from_pem(buf, strlen(pem) + 1) == NULL);
  /* Wrong label, corrupt base64, truncations. */
  snprintf(buf, sizeof(buf), "%s", pem);
  memcpy(buf + 11, "PUB", 3);
  T_ASSERT(crypto_rsa_pk_from_pem(buf, strlen(buf)) == NULL);
  snprintf(buf, sizeof(buf), "%s", pem);
  buf[40] = '*';
  T_ASSERT(crypto_rsa_pk_from_pem(buf, strlen(buf)) == NULL);
  for (size_t n = 0; n + 1 < strlen(pem); n += 7)
    T_ASSERT(crypto_rsa_pk_from_pem(pem, n) == NULL);
done:
  crypto_rsa_pk_free(pk);
}

static void
test_sign_verify_digest(void)
{
  crypto_rsa_sk_t *sk = NULL, *sk2 = NULL;
  crypto_rsa_pk_t *pk = NULL, *pk2 = NULL;
  uint8_t digest[32], sig[CRYPTO_RSA_MAX_BYTES + 1], sig2[256];
  uint8_t info[19 + 20];
  size_t sig_len = 0, sig2_len = 0;
  T_OK(crypto_global_init());
  sk = crypto_rsa_sk_generate(1024);
  sk2 = crypto_rsa_sk_generate(1024);
  T_ASSERT(sk && sk2);
  pk = crypto_rsa_sk_get_pk(sk);
  pk2 = crypto_rsa_sk_get_pk(sk2);
  T_ASSERT(pk && pk2);
  crypto_sha1("hello", 5, digest);
  T_OK(crypto_rsa_sk_sign_digest(sk, digest, 20, sig, sizeof(sig), &sig_len));
  T_EQ_UINT(sig_len, 128);
  T_OK(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 20));
  /* Exactly the digest: not a prefix of it, not a longer claim. */
  T_EQ_INT(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 19),
           CHIVE_ERR_CRYPTO);
  T_EQ_INT(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 21),
           CHIVE_ERR_CRYPTO);
  digest[0] ^= 1;
  T_EQ_INT(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 20),
           CHIVE_ERR_CRYPTO);
  digest[0] ^= 1;
  T_EQ_INT(crypto_rsa_verify_digest(pk2, sig, sig_len, digest, 20),
           CHIVE_ERR_CRYPTO);
  for (size_t i = 0; i < sig_len; i += 9) {
    sig[i] ^= 0x20;
    T_EQ_INT(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 20),
             CHIVE_ERR_CRYPTO);
    sig[i] ^= 0x20;
  }
  T_EQ_INT(crypto_rsa_verify_digest(pk, sig, 0, digest, 20), CHIVE_ERR_CRYPTO);
  sig[sig_len] = 0;
  T_EQ_INT(crypto_rsa_verify_digest(pk, sig, sig_len + 1, digest, 20),
           CHIVE_ERR_CRYPTO);
  /* A standard PKCS#1 signature (DigestInfo around the SHA-1) is NOT a
   * Tor signature of the bare digest: nothing strips the DigestInfo. */
  {
    static const uint8_t sha1_info[19] = {0x30, 0x21, 0x30, 0x09, 0x06,
                                          0x05, 0x2b, 0x0e, 0x03, 0x02,
                                          0x1a, 0x05, 0x00, 0x04, 0x14};
    memcpy(info, sha1_info, 15);
    memcpy(info + 15, digest, 20);
    T_OK(crypto_rsa_sk_sign_digest(sk, info, 35, sig2, sizeof(sig2),
                                   &sig2_len));
    T_EQ_INT(crypto_rsa_verify_digest(pk, sig2, sig2_len, digest, 20),
             CHIVE_ERR_CRYPTO);
    T_OK(crypto_rsa_verify_digest(pk, sig2, sig2_len, info, 35));
  }
  /* A 32-byte (SHA-256) digest works the same way. */
  crypto_sha256("x", 1, digest);
  T_OK(crypto_rsa_sk_sign_digest(sk, digest, 32, sig, sizeof(sig), &sig_len));
  T_OK(crypto_rsa_verify_digest(pk, sig, sig_len, digest, 32));
  T_EQ_INT(crypto_rsa_sk_sign_digest(sk, digest, 32, sig, 100, &sig_len),
           CHIVE_ERR_LIMIT);
done:
  crypto_rsa_sk_free(sk);
  crypto_rsa_sk_free(sk2);
  crypto_rsa_pk_free(pk);
  crypto_rsa_pk_free(pk2);
}

static void
test_x509(void)
{
  crypto_rsa_sk_t *id_sk = NULL, *link_sk = NULL;
  crypto_rsa_pk_t *id_pk = NULL, *link_pk = NULL, *got = NULL;
  uint8_t *id_der = NULL, *link_der = NULL, *tmp = NULL;
  size_t id_len = 0, link_len = 0;
  int64_t nb = 0, na = 0;
  T_OK(crypto_global_init());
  id_sk = crypto_rsa_sk_generate(1024);
  link_sk = crypto_rsa_sk_generate(1024);
  T_ASSERT(id_sk && link_sk);
  id_pk = crypto_rsa_sk_get_pk(id_sk);
  link_pk = crypto_rsa_sk_get_pk(link_sk);
  T_ASSERT(id_pk && link_pk);
  /* CERTS type 2: self-signed identity cert.  2052 is past UTCTime's
   * range, so this also exercises GeneralizedTime. */
  T_OK(crypto_x509_make_rsa_cert(id_pk, id_sk, "www.a.net", "www.a.net",
                                 1500000000, 2600000000LL, &id_der, &id_len));
  T_OK(crypto_x509_check_self_signed_rsa(id_der, id_len, NULL, &nb, &na));
  T_EQ_INT(nb, 1500000000);
  T_EQ_INT(na, 2600000000LL);
  T_OK(crypto_x509_check_self_signed_rsa(id_der, id_len, id_pk, &nb, &na));
  T_EQ_INT(
      crypto_x509_check_self_signed_rsa(id_der, id_len, link_pk, &nb, &na),
      CHIVE_ERR_CRYPTO);
  got = crypto_rsa_pk_from_x509_der(id_der, id_len);
  T_ASSERT(got && crypto_rsa_pk_eq(got, id_pk));
  crypto_rsa_pk_free(got);

  /* CERTS type 1: link key certified by the identity key. */
  T_OK(crypto_x509_make_rsa_cert(link_pk, id_sk, "www.b.com", "www.a.net",
                                 1600000000, 1700000000, &link_der,
                                 &link_len));
  nb = na = 0;
  T_OK(crypto_x509_check_self_signed_rsa(link_der, link_len, id_pk, &nb, &na));
  T_EQ_INT(nb, 1600000000);
  T_EQ_INT(na, 1700000000);
  T_EQ_INT(
      crypto_x509_check_self_signed_rsa(link_der, link_len, NULL, &nb, &na),
      CHIVE_ERR_CRYPTO);
  got = crypto_rsa_pk_from_x509_der(link_der, link_len);
  T_ASSERT(got && crypto_rsa_pk_eq(got, link_pk));

  /* Malformed: truncation, trailing byte, a flipped signature bit. */
  for (size_t n = 0; n < id_len; n += 13)
    T_EQ_INT(crypto_x509_check_self_signed_rsa(id_der, n, NULL, &nb, &na),
             CHIVE_ERR_PROTO);
  T_ASSERT(crypto_rsa_pk_from_x509_der(id_der, id_len - 1) == NULL);
  tmp = chive_malloc(id_len + 1);
  T_ASSERT(tmp);
  memcpy(tmp, id_der, id_len);
  tmp[id_len] = 0;
  T_EQ_INT(crypto_x509_check_self_signed_rsa(tmp, id_len + 1, NULL, &nb, &na),
           CHIVE_ERR_PROTO);
  tmp[id_len - 1] ^= 0x01; /* inside the signature BIT STRING */
  T_EQ_INT(crypto_x509_check_self_signed_rsa(tmp, id_len, NULL, &nb, &na),
           CHIVE_ERR_CRYPTO);
done:
  crypto_rsa_pk_free(got);
  crypto_rsa_pk_free(id_pk);
  crypto_rsa_pk_free(link_pk);
  crypto_rsa_sk_free(id_sk);
  crypto_rsa_sk_free(link_sk);
  chive_free(id_der);
  chive_free(link_der);
  chive_free(tmp);
}

static const t_case cases[] = {
    T_CASE(test_real_authority_certs),
    T_CASE(test_der_roundtrip_and_limits),
    T_CASE(test_pem),
    T_CASE(test_sign_verify_digest),
    T_CASE(test_x509),
    T_END,
};
T_MAIN(cases)
