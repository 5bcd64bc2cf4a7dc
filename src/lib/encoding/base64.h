/**
 * @file base64.h
 * @brief Base64 (RFC 4648 §4, standard alphabet) encoding and decoding,
 * constant-time in the data.
 *
 * Encoding: with "=" padding by default (BASE64_NOPAD omits it, as Tor
 * does for digests and keys in directory documents), and optionally
 * wrapped at 64 columns with every line, the last included, ending in
 * "\n" (BASE64_WRAP64, the layout of PEM bodies and of Tor's directory
 * objects).
 *
 * Decoding accepts what Tor's documents contain: padding may be missing;
 * spaces, tabs, CR and LF may appear anywhere (they are skipped).
 * Everything else is rejected: characters outside the alphabet, data
 * after "=", more padding than the RFC allows, a last group of a single
 * character, and non-zero unused bits in the last character.
 *
 * Timing depends only on the input length and on the positions of
 * whitespace and padding, never on the value of a data character, so the
 * codec is safe for keys and cookies.  Pure: no I/O, no allocation, no
 * logging.
 **/
#ifndef CHIVE_LIB_ENCODING_BASE64_H
#define CHIVE_LIB_ENCODING_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Flags for base64_encode() and base64_encoded_len(). */
#define BASE64_NOPAD 1u  /**< omit the trailing "=" padding */
#define BASE64_WRAP64 2u /**< "\n" after each 64 chars and at the end */

/** Characters per line with BASE64_WRAP64 (RFC 7468 §2, PEM). */
#define BASE64_LINE_LEN 64

/** Return the number of characters (not counting the NUL) that encoding
 * <b>in_len</b> bytes with <b>flags</b> produces, or SIZE_MAX on
 * overflow. */
size_t base64_encoded_len(size_t in_len, unsigned flags);

/** Return an upper bound on the bytes that decoding <b>in_len</b>
 * characters (whitespace included) produces. */
size_t base64_decoded_max_len(size_t in_len);

/** Encode <b>in_len</b> bytes at <b>in</b> into <b>out</b> (room for
 * <b>out_len</b> chars) followed by a NUL.  Returns CHIVE_ERR_LIMIT,
 * writing nothing, if out_len < base64_encoded_len(in_len, flags) + 1. */
CHIVE_MUST_CHECK chive_err_t base64_encode(const uint8_t *in, size_t in_len,
                                           char *out, size_t out_len,
                                           unsigned flags);

/** Decode the <b>in_len</b> characters at <b>in</b> into <b>out</b> (room
 * for <b>out_len</b> bytes) and set *<b>n_out</b> to the number of bytes
 * written.  Returns CHIVE_ERR_PROTO on malformed input and
 * CHIVE_ERR_LIMIT if out_len is too small for the result (a buffer of
 * base64_decoded_max_len(in_len) bytes is always enough).  On failure
 * *n_out is not written and any bytes already written to out are
 * zeroed. */
CHIVE_MUST_CHECK chive_err_t base64_decode(const char *in, size_t in_len,
                                           uint8_t *out, size_t out_len,
                                           size_t *n_out);

#endif /* !defined(CHIVE_LIB_ENCODING_BASE64_H) */
