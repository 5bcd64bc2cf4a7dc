/**
 * @file cipher.h
 * @brief AES-CTR stream cipher (128- or 256-bit key, 16-byte IV) with a
 * keystream that continues across calls, as Tor's relay crypto needs
 * (tor-spec §0.3: "AES-128 in counter mode, with an IV of all 0 bytes").
 **/
#ifndef CHIVE_LIB_CRYPTO_CIPHER_H
#define CHIVE_LIB_CRYPTO_CIPHER_H

#include <stddef.h>
#include <stdint.h>

#include "lib/malloc/malloc.h"

#define CIPHER_KEY_LEN 16    /**< AES-128 key, bytes. */
#define CIPHER256_KEY_LEN 32 /**< AES-256 key, bytes. */
#define CIPHER_IV_LEN 16     /**< Initial counter block, bytes. */

typedef struct crypto_cipher_t crypto_cipher_t;

/** Return a new AES-CTR object with <b>key</b> (key_len 16 or 32 bytes)
 * and initial counter block <b>iv</b> (big-endian counter over all 16
 * bytes; NULL means all zeros).  The key is copied into the backend and
 * may be wiped by the caller on return.  Returns NULL on allocation
 * failure or a bad key length. */
crypto_cipher_t *crypto_cipher_new(const uint8_t *key, size_t key_len,
                                   const uint8_t iv[CIPHER_IV_LEN]);

/** XOR the next <b>len</b> keystream bytes into <b>buf</b>.  Encryption
 * and decryption are the same operation.  The keystream position carries
 * over between calls, whatever the chunk sizes. */
void crypto_cipher_crypt_inplace(crypto_cipher_t *c, uint8_t *buf, size_t len);

/** Like crypto_cipher_crypt_inplace() but from <b>in</b> to <b>out</b>
 * (which may be equal, but must not otherwise overlap). */
void crypto_cipher_crypt(crypto_cipher_t *c, uint8_t *out, const uint8_t *in,
                         size_t len);

/** Release <b>c</b>, wiping the key schedule and keystream state. */
void crypto_cipher_free_(crypto_cipher_t *c);
#define crypto_cipher_free(p) \
  CHIVE_FREE_AND_NULL(crypto_cipher_t, crypto_cipher_free_, (p))

#endif /* !defined(CHIVE_LIB_CRYPTO_CIPHER_H) */
