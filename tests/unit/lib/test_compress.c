/* Unit tests for lib/compress: round trips, caps, bombs, corruption. */
#include "lib/compress/compress.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static uint8_t *
make_text(size_t n)
{
  uint8_t *t = chive_malloc(n);
  if (!t)
    return NULL;
  for (size_t i = 0; i < n; i++)
    t[i] = (uint8_t)("r relay 1.2.3.4 9001\nm digest\ns Fast Running\n"
                     [i % 45] ^ (i % 997 == 0));
  return t;
}

static void
test_round_trip_all(void)
{
  const compress_method_t ms[] = {COMPRESS_IDENTITY, COMPRESS_DEFLATE,
                                  COMPRESS_GZIP, COMPRESS_ZSTD};
  uint8_t *text = make_text(200000), *c = NULL, *d = NULL;
  size_t clen, dlen;
  T_ASSERT(text);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(ms); i++) {
    T_OK(compress_all(ms[i], text, 200000, &c, &clen));
    T_OK(decompress_all(ms[i], c, clen, 200000, &d, &dlen));
    T_EQ_UINT(dlen, 200000);
    T_EQ_MEM(d, text, dlen);
    T_EQ_UINT(d[dlen], 0);
    /* One byte too small a cap is refused. */
    chive_free(d);
    d = NULL;
    T_EQ_INT(decompress_all(ms[i], c, clen, 199999, &d, &dlen),
             CHIVE_ERR_LIMIT);
    T_ASSERT(d == NULL);
    chive_free(c);
    c = NULL;
  }
done:
  chive_free(text);
  chive_free(c);
  chive_free(d);
}

static void
test_truncated_and_garbage(void)
{
  const compress_method_t ms[] = {COMPRESS_DEFLATE, COMPRESS_GZIP,
                                  COMPRESS_ZSTD};
  uint8_t *text = make_text(5000), *c = NULL, *d = NULL, *g = NULL;
  size_t clen, dlen;
  T_ASSERT(text);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(ms); i++) {
    T_OK(compress_all(ms[i], text, 5000, &c, &clen));
    /* Every strict prefix is rejected. */
    for (size_t n = 0; n < clen; n++) {
      chive_err_t e = decompress_all(ms[i], c, n, 100000, &d, &dlen);
      T_ASSERT(e != CHIVE_OK);
      T_ASSERT(d == NULL);
    }
    /* Trailing garbage after the stream is rejected. */
    g = chive_malloc(clen + 3);
    T_ASSERT(g);
    memcpy(g, c, clen);
    memcpy(g + clen, "xyz", 3);
    T_ASSERT(decompress_all(ms[i], g, clen + 3, 100000, &d, &dlen) !=
             CHIVE_OK);
    chive_free(g);
    g = NULL;
    chive_free(c);
    c = NULL;
  }
  T_EQ_INT(decompress_all(COMPRESS_DEFLATE, (const uint8_t *)"hello", 5,
                          100, &d, &dlen),
           CHIVE_ERR_PROTO);
done:
  chive_free(text);
  chive_free(c);
  chive_free(d);
  chive_free(g);
}

static void
test_bomb(void)
{
  /* 64 MiB of zeros compresses to ~64 KiB: a ratio ~1000 bomb. */
  size_t n = 64u << 20;
  uint8_t *zeros = chive_zalloc(n), *c = NULL, *d = NULL;
  size_t clen, dlen;
  T_ASSERT(zeros);
  T_OK(compress_all(COMPRESS_DEFLATE, zeros, n, &c, &clen));
  chive_free(zeros);
  zeros = NULL;
  T_EQ_INT(decompress_all(COMPRESS_DEFLATE, c, clen, 100u << 20, &d, &dlen),
           CHIVE_ERR_LIMIT);
done:
  chive_free(zeros);
  chive_free(c);
  chive_free(d);
}

static void
test_names(void)
{
  compress_method_t m;
  T_OK(compress_method_from_name("x-zstd", 6, &m));
  T_EQ_INT(m, COMPRESS_ZSTD);
  T_OK(compress_method_from_name("deflate", 7, &m));
  T_EQ_INT(m, COMPRESS_DEFLATE);
  T_EQ_INT(compress_method_from_name("lzma", 4, &m), CHIVE_ERR_NOTFOUND);
  T_EQ_STR(compress_method_name(COMPRESS_GZIP), "gzip");
done:
  return;
}

static void
test_oom(void)
{
  uint8_t *text = make_text(70000), *c = NULL, *d = NULL;
  size_t clen, dlen;
  T_ASSERT(text);
  T_OK(compress_all(COMPRESS_ZSTD, text, 70000, &c, &clen));
  for (uint64_t k = 1; k < 8; k++) {
    chive_mem_fail_nth(k, false);
    chive_err_t e = decompress_all(COMPRESS_ZSTD, c, clen, 1u << 20, &d,
                                   &dlen);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (fired) {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_ASSERT(d == NULL);
    } else {
      T_OK(e);
      chive_free(d);
      d = NULL;
    }
  }
done:
  chive_free(text);
  chive_free(c);
  chive_free(d);
}

static const t_case cases[] = {
    T_CASE(test_round_trip_all), T_CASE(test_truncated_and_garbage),
    T_CASE(test_bomb),           T_CASE(test_names),
    T_CASE(test_oom),            T_END,
};
T_MAIN(cases)
