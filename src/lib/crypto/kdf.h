/**
 * @file kdf.h
 * @brief Key derivation: HKDF-SHA256 (RFC 5869, tor-spec §5.2.2
 * KDF-RFC5869) and Tor's legacy KDF-TOR (tor-spec §5.2.1).
 **/
#ifndef CHIVE_LIB_CRYPTO_KDF_H
#define CHIVE_LIB_CRYPTO_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Most output HKDF-SHA256 can produce (RFC 5869 §2.3: 255 * HashLen). */
#define HKDF_SHA256_MAX_OUT_LEN (255u * 32u)
/** Most output KDF-TOR can produce: one SHA-1 block per counter byte
 * value 0..255. */
#define KDF_TOR_MAX_OUT_LEN (256u * 20u)

/** RFC 5869 HKDF-SHA256: Extract(salt, ikm) then Expand(info, out_len).
 * For tor-spec §5.2.2, salt = t_key and info = m_expand.  Any of the
 * inputs may be empty (pointer may then be NULL).  Returns
 * CHIVE_ERR_INVAL if out_len is 0 or exceeds HKDF_SHA256_MAX_OUT_LEN,
 * CHIVE_ERR_CRYPTO on backend failure (out is then wiped). */
CHIVE_MUST_CHECK chive_err_t crypto_hkdf_sha256(
    const uint8_t *salt, size_t salt_len, const uint8_t *ikm, size_t ikm_len,
    const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

/** tor-spec §5.2.1 KDF-TOR: K = SHA1(K0 | [00]) | SHA1(K0 | [01]) | ...,
 * truncated to out_len bytes.  Returns CHIVE_ERR_INVAL if out_len exceeds
 * KDF_TOR_MAX_OUT_LEN. */
CHIVE_MUST_CHECK chive_err_t crypto_kdf_tor(const uint8_t *k0, size_t k0_len,
                                            uint8_t *out, size_t out_len);

#endif /* !defined(CHIVE_LIB_CRYPTO_KDF_H) */
