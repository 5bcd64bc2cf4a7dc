/**
 * @file compress.h
 * @brief Bounded decompression of directory downloads (deflate/zlib,
 * gzip, zstd) and compression for tests and caches.
 *
 * Directory responses are hostile input: every call takes a maximum output
 * size and fails with CHIVE_ERR_LIMIT rather than allocate past it, and
 * rejects absurd expansion ratios (compression bombs) early.
 **/
#ifndef CHIVE_LIB_COMPRESS_COMPRESS_H
#define CHIVE_LIB_COMPRESS_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

typedef enum compress_method_t {
  COMPRESS_IDENTITY = 0, /**< no compression */
  COMPRESS_DEFLATE,      /**< zlib stream (RFC 1950), tor's "deflate" */
  COMPRESS_GZIP,         /**< gzip (RFC 1952) */
  COMPRESS_ZSTD,         /**< zstd frame, tor's "x-zstd" */
} compress_method_t;

/** Compressed input may expand at most this much (zstd and deflate reach
 * ~1000x only on pathological input; real directory documents stay under
 * 20x).  Checked once the output passes COMPRESS_RATIO_MIN_OUT_LEN. */
#define COMPRESS_MAX_RATIO 64
#define COMPRESS_RATIO_MIN_OUT_LEN (1u << 20)

/** Map an HTTP Content-Encoding value ("deflate", "gzip", "x-zstd",
 * "identity") to a method.  Returns CHIVE_ERR_NOTFOUND if unknown. */
CHIVE_MUST_CHECK chive_err_t compress_method_from_name(
    const char *name, size_t len, compress_method_t *out);
/** Return the Content-Encoding name of <b>m</b>. */
const char *compress_method_name(compress_method_t m);

/** Decompress <b>in_len</b> bytes at <b>in</b> with <b>m</b> into a new
 * buffer of at most <b>max_out</b> bytes.  On success *<b>out</b> is a
 * chive_malloc'd buffer (caller frees; one extra NUL byte follows the
 * data, not counted in *<b>out_len</b>).  Errors: CHIVE_ERR_LIMIT (too
 * large or too high a ratio), CHIVE_ERR_PROTO (corrupt or truncated
 * stream, or trailing garbage), CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t decompress_all(compress_method_t m,
                                            const uint8_t *in, size_t in_len,
                                            size_t max_out, uint8_t **out,
                                            size_t *out_len);

/** Compress (for tests and for the on-disk cache).  Same output
 * convention as decompress_all(). */
CHIVE_MUST_CHECK chive_err_t compress_all(compress_method_t m,
                                          const uint8_t *in, size_t in_len,
                                          uint8_t **out, size_t *out_len);

#endif /* !defined(CHIVE_LIB_COMPRESS_COMPRESS_H) */
