/* KDF known answers:
 *   RFC 5869 Appendix A.1-A.3: HKDF-SHA256 (tor-spec §5.2.2 KDF-RFC5869 is
 *     this HKDF with salt = t_key, info = m_expand)
 *   tor-spec §5.2.1 KDF-TOR: K = SHA1(K0|00) | SHA1(K0|01) | ..., checked
 *     against SHA1("\0") (a well-known value) and against an independent
 *     computation from one-shot SHA-1 in this file.
 */
#include <string.h>

#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/kdf.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

#define UNHEX(buf, h)                           \
  do {                                          \
    long n_ = t_unhex((h), (buf), sizeof(buf)); \
    T_ASSERT(n_ >= 0);                          \
    buf##_len = (size_t)n_;                     \
  } while (0)

static void
test_hkdf_rfc5869(void)
{
  static const struct {
    const char *ikm, *salt, *info, *okm;
  } tv[] = {
      /* A.1 */
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b",
       "000102030405060708090a0b0c", "f0f1f2f3f4f5f6f7f8f9",
       "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf"
       "34007208d5b887185865"},
      /* A.2 */
      {"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
       "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
       "404142434445464748494a4b4c4d4e4f",
       "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
       "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
       "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
       "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
       "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
       "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
       "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
       "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
       "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
      /* A.3: empty salt and info */
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
       "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
       "9d201395faa4b61a96c8"},
  };
  uint8_t ikm[128], salt[128], info[128], okm[128], out[128];
  size_t ikm_len, salt_len, info_len, okm_len;
  T_OK(crypto_global_init());
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(tv); i++) {
    UNHEX(ikm, tv[i].ikm);
    UNHEX(salt, tv[i].salt);
    UNHEX(info, tv[i].info);
    UNHEX(okm, tv[i].okm);
    T_OK(crypto_hkdf_sha256(salt_len ? salt : NULL, salt_len, ikm, ikm_len,
                            info_len ? info : NULL, info_len, out, okm_len));
    T_EQ_MEM(out, okm, okm_len);
    /* A shorter request yields a prefix. */
    T_OK(crypto_hkdf_sha256(salt, salt_len, ikm, ikm_len, info, info_len, out,
                            7));
    T_EQ_MEM(out, okm, 7);
  }
  /* Limits: 0 bytes and more than 255 * 32 bytes are refused. */
  {
    uint8_t *big = chive_malloc(HKDF_SHA256_MAX_OUT_LEN + 1);
    T_ASSERT(big);
    T_EQ_INT(crypto_hkdf_sha256(salt, 1, ikm, 1, info, 1, big, 0),
             CHIVE_ERR_INVAL);
    T_EQ_INT(crypto_hkdf_sha256(salt, 1, ikm, 1, info, 1, big,
                                HKDF_SHA256_MAX_OUT_LEN + 1),
             CHIVE_ERR_INVAL);
    chive_err_t e = crypto_hkdf_sha256(salt, 1, ikm, 1, info, 1, big,
                                       HKDF_SHA256_MAX_OUT_LEN);
    chive_free(big);
    T_OK(e);
  }
done:
  return;
}

/** Independent KDF-TOR: concatenate one-shot SHA1(K0 | i). */
static void
kdf_tor_ref(const uint8_t *k0, size_t k0_len, uint8_t *out, size_t out_len)
{
  uint8_t buf[256], d[DIGEST_LEN];
  memcpy(buf, k0, k0_len);
  for (size_t i = 0, off = 0; off < out_len; i++) {
    buf[k0_len] = (uint8_t)i;
    crypto_sha1(buf, k0_len + 1, d);
    size_t n = out_len - off < DIGEST_LEN ? out_len - off : DIGEST_LEN;
    memcpy(out + off, d, n);
    off += n;
  }
}

static void
test_kdf_tor(void)
{
  uint8_t exp[KDF_TOR_MAX_OUT_LEN], out[KDF_TOR_MAX_OUT_LEN + 1];
  uint8_t k0[128];
  size_t exp_len;
  T_OK(crypto_global_init());
  /* Empty K0: the first block is SHA1("\x00"). */
  UNHEX(exp, "5ba93c9db0cff93f52b521d7420e43f6eda2784f");
  T_EQ_UINT(exp_len, DIGEST_LEN);
  T_OK(crypto_kdf_tor(NULL, 0, out, 20));
  T_EQ_MEM(out, exp, 20);
  /* A 128-byte K0 (the TAP handshake's g^xy size), output lengths that
   * are and are not multiples of 20, up to the maximum. */
  for (size_t i = 0; i < sizeof(k0); i++)
    k0[i] = (uint8_t)(i * 7 + 3);
  static const size_t lens[] = {1,  19,  20,   21,
                                72, 100, 5119, KDF_TOR_MAX_OUT_LEN};
  for (size_t j = 0; j < CHIVE_ARRAY_LEN(lens); j++) {
    memset(out, 0xee, sizeof(out));
    kdf_tor_ref(k0, sizeof(k0), exp, lens[j]);
    T_OK(crypto_kdf_tor(k0, sizeof(k0), out, lens[j]));
    T_EQ_MEM(out, exp, lens[j]);
    if (lens[j] < sizeof(out))
      T_EQ_UINT(out[lens[j]], 0xee); /* nothing written past the end */
  }
  /* The 256th block uses counter byte 0xff; one more is impossible. */
  T_EQ_INT(crypto_kdf_tor(k0, sizeof(k0), out, KDF_TOR_MAX_OUT_LEN + 1),
           CHIVE_ERR_INVAL);
  T_OK(crypto_kdf_tor(k0, sizeof(k0), out, 0));
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_hkdf_rfc5869),
    T_CASE(test_kdf_tor),
    T_END,
};
T_MAIN(cases)
