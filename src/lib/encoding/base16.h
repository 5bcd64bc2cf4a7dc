/**
 * @file base16.h
 * @brief Hexadecimal (RFC 4648 §8) encoding and decoding, constant-time
 * in the data.
 *
 * Encoding writes upper- or lower-case digits; decoding accepts either
 * case (mixed too).  Both run in time that depends only on the length,
 * so they are safe for secrets (keys, auth cookies).  Pure: no I/O, no
 * allocation, no logging.
 **/
#ifndef CHIVE_LIB_ENCODING_BASE16_H
#define CHIVE_LIB_ENCODING_BASE16_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Flags for base16_encode(). */
#define BASE16_LOWER 0u /**< "0123456789abcdef" (the default) */
#define BASE16_UPPER 1u /**< "0123456789ABCDEF" (tor's fingerprints) */

/** Return the number of characters (not counting the NUL) that encoding
 * <b>in_len</b> bytes produces, or SIZE_MAX if that would overflow. */
size_t base16_encoded_len(size_t in_len);

/** Return the number of bytes that decoding <b>in_len</b> characters
 * produces at most. */
size_t base16_decoded_max_len(size_t in_len);

/** Encode the <b>in_len</b> bytes at <b>in</b> into <b>out</b> (room for
 * <b>out_len</b> chars) followed by a NUL.  <b>flags</b> is BASE16_LOWER
 * or BASE16_UPPER.  Returns CHIVE_ERR_LIMIT, writing nothing, if
 * out_len < base16_encoded_len(in_len) + 1. */
CHIVE_MUST_CHECK chive_err_t base16_encode(const uint8_t *in, size_t in_len,
                                           char *out, size_t out_len,
                                           unsigned flags);

/** Decode the <b>in_len</b> hex digits at <b>in</b> (either case; no
 * whitespace, no "0x") into <b>out</b> (room for <b>out_len</b> bytes)
 * and set *<b>n_out</b> to the number of bytes written (in_len / 2).
 * Returns CHIVE_ERR_PROTO on an odd length or any non-hex character,
 * CHIVE_ERR_LIMIT if out_len is too small.  On any failure *n_out is not
 * written and the first min(out_len, in_len / 2) bytes of out are
 * zeroed (they may have held partly decoded secret data). */
CHIVE_MUST_CHECK chive_err_t base16_decode(const char *in, size_t in_len,
                                           uint8_t *out, size_t out_len,
                                           size_t *n_out);

#endif /* !defined(CHIVE_LIB_ENCODING_BASE16_H) */
