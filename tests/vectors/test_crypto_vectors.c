/* Known-answer tests for lib/crypto against published vectors:
 *   FIPS 180 / NIST CSRC examples: SHA-1, SHA-256, SHA-512 ("abc", the
 *     448-bit message, one million 'a')
 *   FIPS 202 / NIST examples: SHA3-256, SHAKE256
 *   RFC 4231 §4.2-4.8: HMAC-SHA256 test cases 1-7
 *   NIST SP 800-38A F.5.1 / F.5.5: AES-128-CTR, AES-256-CTR
 *   RFC 7748 §5.2 and §6.1: X25519
 *   RFC 8032 §7.1: Ed25519 (TEST 1, 2, 3, SHA(abc))
 */
#include <stdlib.h>
#include <string.h>

#include "lib/crypto/cipher.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/ed25519.h"
#include "lib/crypto/x25519.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/** Decode hex literal <b>h</b> into <b>buf</b> and return its length, or
 * fail the test. */
#define UNHEX(buf, h)                           \
  do {                                          \
    long n_ = t_unhex((h), (buf), sizeof(buf)); \
    T_ASSERT(n_ >= 0);                          \
    buf##_len = (size_t)n_;                     \
    (void)buf##_len;                            \
  } while (0)

static const char sha_msg448[] =
    "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";

static void
test_sha1(void)
{
  uint8_t out[DIGEST_LEN], exp[DIGEST_LEN];
  size_t exp_len;
  uint8_t *million = NULL;
  T_OK(crypto_global_init());
  crypto_sha1("abc", 3, out);
  UNHEX(exp, "a9993e364706816aba3e25717850c26c9cd0d89d");
  T_EQ_MEM(out, exp, DIGEST_LEN);
  crypto_sha1(sha_msg448, strlen(sha_msg448), out);
  UNHEX(exp, "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  T_EQ_MEM(out, exp, DIGEST_LEN);
  crypto_sha1("", 0, out);
  UNHEX(exp, "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  T_EQ_MEM(out, exp, DIGEST_LEN);
  million = chive_malloc(1000000);
  T_ASSERT(million);
  memset(million, 'a', 1000000);
  crypto_sha1(million, 1000000, out);
  UNHEX(exp, "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
  T_EQ_MEM(out, exp, DIGEST_LEN);
done:
  chive_free(million);
}

static void
test_sha256_sha512(void)
{
  uint8_t out[DIGEST512_LEN], exp[DIGEST512_LEN];
  size_t exp_len;
  T_OK(crypto_global_init());
  crypto_sha256("abc", 3, out);
  UNHEX(exp,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  T_EQ_MEM(out, exp, DIGEST256_LEN);
  crypto_sha256("", 0, out);
  UNHEX(exp,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  T_EQ_MEM(out, exp, DIGEST256_LEN);
  crypto_sha256(sha_msg448, strlen(sha_msg448), out);
  UNHEX(exp,
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  T_EQ_MEM(out, exp, DIGEST256_LEN);
  crypto_sha512("abc", 3, out);
  UNHEX(exp,
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
        "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f");
  T_EQ_MEM(out, exp, DIGEST512_LEN);
done:
  return;
}

static void
test_sha3_shake(void)
{
  uint8_t out[64], exp[64];
  size_t exp_len;
  T_OK(crypto_global_init());
  crypto_sha3_256("", 0, out);
  UNHEX(exp,
        "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
  T_EQ_MEM(out, exp, DIGEST256_LEN);
  crypto_sha3_256("abc", 3, out);
  UNHEX(exp,
        "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
  T_EQ_MEM(out, exp, DIGEST256_LEN);
  crypto_shake256("", 0, out, 32);
  UNHEX(exp,
        "46b9dd2b0ba88d13233b3feb743eeb243fcd52ea62b81b82b50c27646ed5762f");
  T_EQ_MEM(out, exp, 32);
  crypto_shake256("abc", 3, out, 64);
  UNHEX(exp,
        "483366601360a8771c6863080cc4114d8db44530f8f1e1ee4f94ea37e78b5739"
        "d5a15bef186a5386c75744c0527e1faa9f8726e462a12a4feb06bd8801e751e4");
  T_EQ_MEM(out, exp, 64);
  /* An XOF's shorter output is a prefix of its longer output. */
  crypto_shake256("abc", 3, out, 5);
  T_EQ_MEM(out, exp, 5);
done:
  return;
}

/* RFC 4231 §4.2-§4.8. */
static void
test_hmac_sha256_rfc4231(void)
{
  static const struct {
    const char *key, *data, *mac;
    size_t mac_len;
  } tv[] = {
      {"0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "4869205468657265",
       "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7", 32},
      {"4a656665", "7768617420646f2079612077616e7420666f72206e6f7468696e673f",
       "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843", 32},
      {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
       "dddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddddd"
       "dddddddddddddddddddddddddddddddd",
       "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe", 32},
      {"0102030405060708090a0b0c0d0e0f10111213141516171819",
       "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd"
       "cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd",
       "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b", 32},
      {"0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c",
       "546573742057697468205472756e636174696f6e",
       "a3b6167473100ee06e0c796c2955552b", 16},
  };
  uint8_t key[200], data[300], mac[32], out[32];
  size_t key_len, data_len, mac_len;
  T_OK(crypto_global_init());
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(tv); i++) {
    UNHEX(key, tv[i].key);
    UNHEX(data, tv[i].data);
    UNHEX(mac, tv[i].mac);
    T_EQ_UINT(mac_len, tv[i].mac_len);
    crypto_hmac_sha256(key, key_len, data, data_len, out);
    T_EQ_MEM(out, mac, mac_len);
  }
  /* Test cases 6 and 7: a 131-byte key of 0xaa (hashed first). */
  memset(key, 0xaa, 131);
  {
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *d7 = "This is a test using a larger than block-size key and a "
                     "larger than block-size data. The key needs to be hashed "
                     "before being used by the HMAC algorithm.";
    crypto_hmac_sha256(key, 131, d6, strlen(d6), out);
    UNHEX(mac,
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
    T_EQ_MEM(out, mac, 32);
    crypto_hmac_sha256(key, 131, d7, strlen(d7), out);
    UNHEX(mac,
          "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
    T_EQ_MEM(out, mac, 32);
  }
done:
  return;
}

/* rend-spec-v3 MAC = SHA3-256(htonll(len(k)) | k | m), checked against an
 * independent composition of the one-shot SHA3. */
static void
test_mac_sha3(void)
{
  uint8_t buf[8 + 5 + 7], exp[32], out[32];
  static const uint8_t k[5] = {1, 2, 3, 4, 5};
  static const uint8_t m[7] = {'m', 'e', 's', 's', 'a', 'g', 'e'};
  T_OK(crypto_global_init());
  memset(buf, 0, 8);
  buf[7] = 5;
  memcpy(buf + 8, k, 5);
  memcpy(buf + 13, m, 7);
  crypto_sha3_256(buf, sizeof(buf), exp);
  crypto_mac_sha3_256(k, sizeof(k), m, sizeof(m), out);
  T_EQ_MEM(out, exp, 32);
done:
  return;
}

static const char *ctr_plain =
    "6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
    "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710";

/* SP 800-38A F.5.1 (AES-128) and F.5.5 (AES-256), encrypted in uneven
 * chunks to show the keystream carries over between calls. */
static void
test_aes_ctr_sp800_38a(void)
{
  static const struct {
    const char *key, *ct;
  } tv[] = {
      {"2b7e151628aed2a6abf7158809cf4f3c",
       "874d6191b620e3261bef6864990db6ce9806f66b7970fdff8617187bb9fffdff"
       "5ae4df3edbd5d35e5b4f09020db03eab1e031dda2fbe03d1792170a0f3009cee"},
      {"603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
       "601ec313775789a5b7a7f504bbf3d228f443e3ca4d62b59aca84e990cacaf5c5"
       "2b0930daa23de94ce87017ba2d84988ddfc9c58db67aada613c2dd08457941a6"},
  };
  static const size_t chunks[] = {1, 15, 2, 17, 0, 3, 26};
  uint8_t key[32], iv[16], pt[64], ct[64], buf[64];
  size_t key_len, iv_len, pt_len, ct_len;
  crypto_cipher_t *c = NULL;
  T_OK(crypto_global_init());
  UNHEX(iv, "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  UNHEX(pt, ctr_plain);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(tv); i++) {
    UNHEX(key, tv[i].key);
    UNHEX(ct, tv[i].ct);
    T_EQ_UINT(ct_len, pt_len);
    /* One call. */
    c = crypto_cipher_new(key, key_len, iv);
    T_ASSERT(c);
    memcpy(buf, pt, pt_len);
    crypto_cipher_crypt_inplace(c, buf, pt_len);
    T_EQ_MEM(buf, ct, ct_len);
    crypto_cipher_free(c);
    /* Uneven chunks (sum 64). */
    c = crypto_cipher_new(key, key_len, iv);
    T_ASSERT(c);
    memcpy(buf, pt, pt_len);
    size_t off = 0;
    for (size_t j = 0; j < CHIVE_ARRAY_LEN(chunks); j++) {
      crypto_cipher_crypt_inplace(c, buf + off, chunks[j]);
      off += chunks[j];
    }
    T_EQ_UINT(off, 64);
    T_EQ_MEM(buf, ct, ct_len);
    crypto_cipher_free(c);
    /* Decryption is the same operation; out-of-place form too. */
    c = crypto_cipher_new(key, key_len, iv);
    T_ASSERT(c);
    crypto_cipher_crypt(c, buf, ct, ct_len);
    T_EQ_MEM(buf, pt, pt_len);
    crypto_cipher_free(c);
  }
  /* Bad key lengths are refused. */
  T_ASSERT(crypto_cipher_new(key, 24, iv) == NULL);
  T_ASSERT(crypto_cipher_new(key, 0, iv) == NULL);
done:
  crypto_cipher_free(c);
}

/* Tor uses IV = 0 (tor-spec §0.3).  The NIST counter block for block i is
 * f0..ff + i; with IV 0 block i is the big-endian counter i.  Check that
 * block 1 of an IV-0 stream equals AES-ECB(key, 00..01), using the NIST
 * vector's structure: CTR(key, iv=X) block 0 == CTR(key, iv=X-1) block 1. */
static void
test_aes_ctr_counter_carry(void)
{
  uint8_t key[16], iv[16], ivm1[16], a[32], b[32];
  size_t key_len, iv_len, ivm1_len;
  crypto_cipher_t *c1 = NULL, *c2 = NULL;
  T_OK(crypto_global_init());
  UNHEX(key, "2b7e151628aed2a6abf7158809cf4f3c");
  /* Counter carry across the low 64 bits into the high half. */
  UNHEX(ivm1, "0000000000000000ffffffffffffffff");
  UNHEX(iv, "00000000000000010000000000000000");
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  c1 = crypto_cipher_new(key, key_len, ivm1);
  c2 = crypto_cipher_new(key, key_len, iv);
  T_ASSERT(c1 && c2);
  crypto_cipher_crypt_inplace(c1, a, 32);
  crypto_cipher_crypt_inplace(c2, b, 16);
  T_EQ_MEM(a + 16, b, 16);
  crypto_cipher_free(c1);
  crypto_cipher_free(c2);
  /* NULL IV means all zeros. */
  memset(iv, 0, sizeof(iv));
  memset(a, 0, sizeof(a));
  memset(b, 0, sizeof(b));
  c1 = crypto_cipher_new(key, key_len, NULL);
  c2 = crypto_cipher_new(key, key_len, iv);
  T_ASSERT(c1 && c2);
  crypto_cipher_crypt_inplace(c1, a, 32);
  crypto_cipher_crypt_inplace(c2, b, 32);
  T_EQ_MEM(a, b, 32);
done:
  crypto_cipher_free(c1);
  crypto_cipher_free(c2);
}

/* RFC 7748 §6.1 (Diffie-Hellman) and §5.2 (single scalar mults). */
static void
test_x25519_rfc7748(void)
{
  uint8_t a[32], A[32], b[32], B[32], K[32], out[32], u[32];
  size_t a_len, A_len, b_len, B_len, K_len, u_len;
  T_OK(crypto_global_init());
  UNHEX(a, "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
  UNHEX(A, "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  UNHEX(b, "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
  UNHEX(B, "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  UNHEX(K, "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
  crypto_x25519_public_from_secret(out, a);
  T_EQ_MEM(out, A, 32);
  crypto_x25519_public_from_secret(out, b);
  T_EQ_MEM(out, B, 32);
  T_OK(crypto_x25519(out, a, B));
  T_EQ_MEM(out, K, 32);
  T_OK(crypto_x25519(out, b, A));
  T_EQ_MEM(out, K, 32);

  UNHEX(a, "a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4");
  UNHEX(u, "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c");
  UNHEX(K, "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552");
  T_OK(crypto_x25519(out, a, u));
  T_EQ_MEM(out, K, 32);
  UNHEX(a, "4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d");
  UNHEX(u, "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493");
  UNHEX(K, "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957");
  T_OK(crypto_x25519(out, a, u));
  T_EQ_MEM(out, K, 32);

  /* Small-order points give an all-zero result, which must be refused:
   * u = 0 and u = 1 (RFC 7748 §6.1 "check ... all-zero value"). */
  memset(u, 0, sizeof(u));
  T_EQ_INT(crypto_x25519(out, a, u), CHIVE_ERR_CRYPTO);
  T_ASSERT(chive_is_zero_ct(out, 32));
  u[0] = 1;
  T_EQ_INT(crypto_x25519(out, a, u), CHIVE_ERR_CRYPTO);
done:
  return;
}

/* RFC 8032 §7.1. */
static void
test_ed25519_rfc8032(void)
{
  static const struct {
    const char *sk, *pk, *msg, *sig;
  } tv[] = {
      {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
       "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
       "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
       "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
      {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
       "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
       "72",
       "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
       "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
      {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
       "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
       "af82",
       "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
       "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
      {"833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
       "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
       "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
       "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f",
       "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b589"
       "09351fc9ac90b3ecfdfbc7c66431e0303dca179c138ac17ad9bef1177331a704"},
  };
  uint8_t sk[32], pk[32], msg[64], sig[64], out[64];
  size_t sk_len, pk_len, msg_len, sig_len;
  crypto_ed25519_keypair_t kp;
  memset(&kp, 0, sizeof(kp));
  T_OK(crypto_global_init());
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(tv); i++) {
    UNHEX(sk, tv[i].sk);
    UNHEX(pk, tv[i].pk);
    UNHEX(msg, tv[i].msg);
    UNHEX(sig, tv[i].sig);
    T_OK(crypto_ed25519_verify(pk, msg, msg_len, sig));
    T_ASSERT(crypto_ed25519_pubkey_is_valid(pk));
    crypto_ed25519_keypair_from_seed(&kp, sk);
    T_EQ_MEM(kp.pubkey, pk, 32);
    crypto_ed25519_sign(out, msg, msg_len, &kp);
    T_EQ_MEM(out, sig, 64); /* RFC 8032 signing is deterministic */
    /* Any flipped bit in the signature, message or key is rejected. */
    for (size_t bit = 0; bit < 512; bit += 37) {
      memcpy(out, sig, 64);
      out[bit / 8] ^= (uint8_t)(1u << (bit % 8));
      T_EQ_INT(crypto_ed25519_verify(pk, msg, msg_len, out), CHIVE_ERR_CRYPTO);
    }
    if (msg_len > 0) {
      msg[0] ^= 0x01;
      T_EQ_INT(crypto_ed25519_verify(pk, msg, msg_len, sig), CHIVE_ERR_CRYPTO);
    }
    pk[5] ^= 0x10;
    T_EQ_INT(crypto_ed25519_verify(pk, msg, msg_len, sig), CHIVE_ERR_CRYPTO);
    crypto_ed25519_keypair_clear(&kp);
  }
  /* Small-order / non-canonical public keys are invalid: the identity
   * point (y = 1) and y = p (non-canonical encoding of 0). */
  memset(pk, 0, sizeof(pk));
  pk[0] = 1;
  T_ASSERT(!crypto_ed25519_pubkey_is_valid(pk));
  UNHEX(pk,
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  T_ASSERT(!crypto_ed25519_pubkey_is_valid(pk));
done:
  crypto_ed25519_keypair_clear(&kp);
}

static const t_case cases[] = {
    T_CASE(test_sha1),
    T_CASE(test_sha256_sha512),
    T_CASE(test_sha3_shake),
    T_CASE(test_hmac_sha256_rfc4231),
    T_CASE(test_mac_sha3),
    T_CASE(test_aes_ctr_sp800_38a),
    T_CASE(test_aes_ctr_counter_carry),
    T_CASE(test_x25519_rfc7748),
    T_CASE(test_ed25519_rfc8032),
    T_END,
};
T_MAIN(cases)
