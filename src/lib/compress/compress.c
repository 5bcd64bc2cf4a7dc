/**
 * @file compress.c
 * @brief zlib and zstd behind one bounded interface.
 *
 * Output grows geometrically up to max_out; the buffer is always one byte
 * larger than the data so text documents can be NUL-terminated for
 * convenience (parsers still take explicit lengths).
 **/
#include "lib/cc/compat.h"

#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "lib/compress/compress.h"
#include "lib/malloc/malloc.h"

chive_err_t
compress_method_from_name(const char *name, size_t len,
                          compress_method_t *out)
{
  static const struct {
    const char *name;
    compress_method_t m;
  } names[] = {
      {"identity", COMPRESS_IDENTITY},
      {"deflate", COMPRESS_DEFLATE},
      {"gzip", COMPRESS_GZIP},
      {"x-gzip", COMPRESS_GZIP},
      {"x-zstd", COMPRESS_ZSTD},
      {"zstd", COMPRESS_ZSTD},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(names); i++) {
    if (strlen(names[i].name) == len && !memcmp(names[i].name, name, len)) {
      *out = names[i].m;
      return CHIVE_OK;
    }
  }
  return CHIVE_ERR_NOTFOUND;
}

const char *
compress_method_name(compress_method_t m)
{
  switch (m) {
  case COMPRESS_IDENTITY:
    return "identity";
  case COMPRESS_DEFLATE:
    return "deflate";
  case COMPRESS_GZIP:
    return "gzip";
  case COMPRESS_ZSTD:
    return "x-zstd";
  }
  return "unknown";
}

/** A growable output buffer with a hard cap. */
typedef struct outbuf_t {
  uint8_t *p;
  size_t len;
  size_t cap; /**< allocated bytes, excluding the NUL slot */
  size_t max;
} outbuf_t;

/** Make room for at least one more byte; CHIVE_ERR_LIMIT past max. */
static chive_err_t
outbuf_grow(outbuf_t *o)
{
  if (o->len < o->cap)
    return CHIVE_OK;
  if (o->cap >= o->max)
    return CHIVE_ERR_LIMIT;
  size_t ncap = o->cap ? o->cap * 2 : 16384;
  if (ncap > o->max || ncap < o->cap)
    ncap = o->max;
  uint8_t *np = chive_realloc(o->p, ncap + 1);
  if (!np)
    return CHIVE_ERR_NOMEM;
  o->p = np;
  o->cap = ncap;
  return CHIVE_OK;
}

static chive_err_t
check_ratio(size_t out_len, size_t in_len)
{
  if (out_len >= COMPRESS_RATIO_MIN_OUT_LEN &&
      out_len / (in_len ? in_len : 1) > COMPRESS_MAX_RATIO)
    return CHIVE_ERR_LIMIT;
  return CHIVE_OK;
}

static chive_err_t
inflate_all(int window_bits, const uint8_t *in, size_t in_len, outbuf_t *o)
{
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (inflateInit2(&zs, window_bits) != Z_OK)
    return CHIVE_ERR_NOMEM;
  chive_err_t err = CHIVE_OK;
  zs.next_in = (Bytef *)(uintptr_t)in;
  size_t in_left = in_len;
  int rv = Z_OK;
  while (rv != Z_STREAM_END) {
    if ((err = outbuf_grow(o)) != CHIVE_OK)
      goto done;
    if (zs.avail_in == 0) {
      uInt chunk = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
      zs.avail_in = chunk;
      in_left -= chunk;
    }
    zs.next_out = o->p + o->len;
    size_t room = o->cap - o->len;
    zs.avail_out = room > (1u << 30) ? (1u << 30) : (uInt)room;
    uInt before = zs.avail_out;
    rv = inflate(&zs, Z_NO_FLUSH);
    o->len += before - zs.avail_out;
    if (rv == Z_BUF_ERROR && zs.avail_in == 0 && in_left == 0) {
      err = CHIVE_ERR_PROTO; /* truncated stream */
      goto done;
    }
    if (rv != Z_OK && rv != Z_STREAM_END && rv != Z_BUF_ERROR) {
      err = rv == Z_MEM_ERROR ? CHIVE_ERR_NOMEM : CHIVE_ERR_PROTO;
      goto done;
    }
    if ((err = check_ratio(o->len, in_len)) != CHIVE_OK)
      goto done;
  }
  /* Anything after the end of the stream is garbage. */
  if (zs.avail_in != 0 || in_left != 0)
    err = CHIVE_ERR_PROTO;
done:
  inflateEnd(&zs);
  return err;
}

static chive_err_t
zstd_all(const uint8_t *in, size_t in_len, outbuf_t *o)
{
  ZSTD_DStream *ds = ZSTD_createDStream();
  if (!ds)
    return CHIVE_ERR_NOMEM;
  chive_err_t err = CHIVE_OK;
  ZSTD_inBuffer ib = {in, in_len, 0};
  size_t rv = 1;
  (void)ZSTD_initDStream(ds);
  /* Refuse frames that ask for giant windows (memory on small boxes). */
  (void)ZSTD_DCtx_setParameter(ds, ZSTD_d_windowLogMax, 23);
  while (rv != 0) {
    if ((err = outbuf_grow(o)) != CHIVE_OK)
      goto done;
    ZSTD_outBuffer ob = {o->p + o->len, o->cap - o->len, 0};
    size_t pos_before = ib.pos;
    rv = ZSTD_decompressStream(ds, &ob, &ib);
    o->len += ob.pos;
    if (ZSTD_isError(rv)) {
      err = CHIVE_ERR_PROTO;
      goto done;
    }
    if (rv != 0 && ib.pos == in_len && ob.pos == 0 && ib.pos == pos_before) {
      err = CHIVE_ERR_PROTO; /* truncated frame */
      goto done;
    }
    if ((err = check_ratio(o->len, in_len)) != CHIVE_OK)
      goto done;
    if (rv == 0 && ib.pos < in_len) {
      /* Tor may concatenate frames; keep going if more input follows. */
      rv = 1;
    }
  }
done:
  ZSTD_freeDStream(ds);
  return err;
}

chive_err_t
decompress_all(compress_method_t m, const uint8_t *in, size_t in_len,
               size_t max_out, uint8_t **out, size_t *out_len)
{
  outbuf_t o = {NULL, 0, 0, max_out};
  chive_err_t err;
  *out = NULL;
  *out_len = 0;
  switch (m) {
  case COMPRESS_IDENTITY:
    if (in_len > max_out)
      return CHIVE_ERR_LIMIT;
    o.p = chive_malloc(in_len + 1);
    if (!o.p)
      return CHIVE_ERR_NOMEM;
    if (in_len)
      memcpy(o.p, in, in_len);
    o.len = in_len;
    err = CHIVE_OK;
    break;
  case COMPRESS_DEFLATE:
    err = inflate_all(15, in, in_len, &o);
    break;
  case COMPRESS_GZIP:
    err = inflate_all(15 + 16, in, in_len, &o);
    break;
  case COMPRESS_ZSTD:
    err = zstd_all(in, in_len, &o);
    break;
  default:
    err = CHIVE_ERR_INVAL;
    break;
  }
  if (err == CHIVE_OK && !o.p) { /* empty output */
    o.p = chive_malloc(1);
    if (!o.p)
      err = CHIVE_ERR_NOMEM;
  }
  if (err != CHIVE_OK) {
    chive_free(o.p);
    return err;
  }
  o.p[o.len] = 0;
  *out = o.p;
  *out_len = o.len;
  return CHIVE_OK;
}

chive_err_t
compress_all(compress_method_t m, const uint8_t *in, size_t in_len,
             uint8_t **out, size_t *out_len)
{
  *out = NULL;
  *out_len = 0;
  if (m == COMPRESS_IDENTITY)
    return decompress_all(m, in, in_len, in_len, out, out_len);
  if (m == COMPRESS_ZSTD) {
    size_t cap = ZSTD_compressBound(in_len);
    uint8_t *buf = chive_malloc(cap + 1);
    if (!buf)
      return CHIVE_ERR_NOMEM;
    size_t n = ZSTD_compress(buf, cap, in, in_len, 3);
    if (ZSTD_isError(n)) {
      chive_free(buf);
      return CHIVE_ERR_INTERNAL;
    }
    buf[n] = 0;
    *out = buf;
    *out_len = n;
    return CHIVE_OK;
  }
  if (m != COMPRESS_DEFLATE && m != COMPRESS_GZIP)
    return CHIVE_ERR_INVAL;
  z_stream zs;
  memset(&zs, 0, sizeof(zs));
  if (deflateInit2(&zs, Z_BEST_COMPRESSION, Z_DEFLATED,
                   m == COMPRESS_GZIP ? 31 : 15, 8,
                   Z_DEFAULT_STRATEGY) != Z_OK)
    return CHIVE_ERR_NOMEM;
  if (in_len > (1u << 30)) {
    deflateEnd(&zs);
    return CHIVE_ERR_LIMIT;
  }
  uLong cap = deflateBound(&zs, (uLong)in_len) + 32;
  uint8_t *buf = chive_malloc(cap + 1);
  if (!buf) {
    deflateEnd(&zs);
    return CHIVE_ERR_NOMEM;
  }
  zs.next_in = (Bytef *)(uintptr_t)in;
  zs.avail_in = (uInt)in_len;
  zs.next_out = buf;
  zs.avail_out = (uInt)cap;
  int rv = deflate(&zs, Z_FINISH);
  size_t n = (size_t)zs.total_out;
  deflateEnd(&zs);
  if (rv != Z_STREAM_END) {
    chive_free(buf);
    return CHIVE_ERR_INTERNAL;
  }
  buf[n] = 0;
  *out = buf;
  *out_len = n;
  return CHIVE_OK;
}
