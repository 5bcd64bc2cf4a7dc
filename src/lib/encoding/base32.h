/**
 * @file base32.h
 * @brief Base32 (RFC 4648 §6 alphabet) encoding and decoding,
 * constant-time in the data.
 *
 * The encoder writes lower-case letters and digits 2-7, without "="
 * padding by default, as onion addresses and other Tor identifiers use
 * them; BASE32_UPPER and BASE32_PAD give the RFC's exact form.  The
 * decoder is case-insensitive and strict: it rejects characters outside
 * the alphabet, whitespace, impossible lengths (1, 3 or 6 characters in
 * the last group), padding that is not exactly what the RFC requires,
 * and non-zero unused bits in the last character (so every byte string
 * has exactly one accepted encoding, up to case and padding).
 * Pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_LIB_ENCODING_BASE32_H
#define CHIVE_LIB_ENCODING_BASE32_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Flags for base32_encode() and base32_encoded_len(). */
#define BASE32_UPPER 1u /**< "A".."Z": upper case instead of lower */
#define BASE32_PAD 2u   /**< pad with "=" to a multiple of 8 chars */

/** Return the number of characters (not counting the NUL) that encoding
 * <b>in_len</b> bytes with <b>flags</b> produces, or SIZE_MAX on
 * overflow. */
size_t base32_encoded_len(size_t in_len, unsigned flags);

/** Return an upper bound on the bytes that decoding <b>in_len</b>
 * characters produces. */
size_t base32_decoded_max_len(size_t in_len);

/** Encode <b>in_len</b> bytes at <b>in</b> into <b>out</b> (room for
 * <b>out_len</b> chars) followed by a NUL.  Returns CHIVE_ERR_LIMIT,
 * writing nothing, if out_len < base32_encoded_len(in_len, flags) + 1. */
CHIVE_MUST_CHECK chive_err_t base32_encode(const uint8_t *in, size_t in_len,
                                           char *out, size_t out_len,
                                           unsigned flags);

/** Decode the <b>in_len</b> base32 characters at <b>in</b> into
 * <b>out</b> (room for <b>out_len</b> bytes) and set *<b>n_out</b> to the
 * number of bytes written.  "=" padding is optional, but if present
 * MUST be complete (total length a multiple of 8).  Returns
 * CHIVE_ERR_PROTO on malformed input and CHIVE_ERR_LIMIT if out_len is
 * too small for the result.  On failure *n_out is not written and any
 * bytes already written to out are zeroed. */
CHIVE_MUST_CHECK chive_err_t base32_decode(const char *in, size_t in_len,
                                           uint8_t *out, size_t out_len,
                                           size_t *n_out);

#endif /* !defined(CHIVE_LIB_ENCODING_BASE32_H) */
