/* Unit tests for lib/buf: the bounded chunked byte queue. */
#include "lib/cc/compat.h"

#include <string.h>

#include "lib/buf/buf.h"
#include "tinytest.h"

static void
fill_pattern(uint8_t *p, size_t n, size_t start)
{
  for (size_t i = 0; i < n; i++)
    p[i] = (uint8_t)((start + i) * 7 + 3);
}

static void
test_buf_basic(void)
{
  buf_t *b = buf_new(100);
  uint8_t out[100];
  T_ASSERT(b);
  T_EQ_UINT(buf_len(b), 0);
  T_EQ_UINT(buf_max_len(b), 100);
  T_EQ_UINT(buf_room(b), 100);
  T_OK(buf_add(b, "hello ", 6));
  T_OK(buf_add(b, "world", 5));
  T_EQ_UINT(buf_len(b), 11);
  T_EQ_UINT(buf_peek(b, out, 5), 5);
  T_EQ_MEM(out, "hello", 5);
  T_EQ_UINT(buf_len(b), 11);
  T_EQ_UINT(buf_drain(b, 6), 6);
  T_EQ_UINT(buf_remove(b, out, sizeof(out)), 5);
  T_EQ_MEM(out, "world", 5);
  T_EQ_UINT(buf_len(b), 0);
  size_t hl = 9;
  T_ASSERT(buf_head(b, &hl) == NULL);
  T_EQ_UINT(hl, 0);
  T_EQ_UINT(buf_drain(b, 10), 0);
  T_OK(buf_add(b, NULL, 0));
done:
  buf_free(b);
  T_ASSERT(b == NULL);
}

static void
test_buf_limit(void)
{
  buf_t *b = buf_new(10);
  uint8_t d[11] = {0};
  T_ASSERT(b);
  T_EQ_INT(buf_add(b, d, 11), CHIVE_ERR_LIMIT);
  T_EQ_UINT(buf_len(b), 0);
  T_OK(buf_add(b, d, 7));
  T_EQ_INT(buf_add(b, d, 4), CHIVE_ERR_LIMIT);
  T_EQ_UINT(buf_len(b), 7);
  T_OK(buf_add(b, d, 3));
  T_EQ_UINT(buf_room(b), 0);
  T_ASSERT(buf_new(0) == NULL);
  T_ASSERT(buf_new((size_t)BUF_MAX_LEN_LIMIT + 1) == NULL);
done:
  buf_free(b);
}

/* Data crossing many chunks comes out in order; pullup makes any prefix
 * contiguous. */
static void
test_buf_chunks_pullup(void)
{
  enum { TOTAL = 3 * BUF_CHUNK_LEN + 123 };
  static uint8_t in[TOTAL], out[TOTAL];
  buf_t *b = buf_new(TOTAL);
  const uint8_t *p = NULL;
  T_ASSERT(b);
  fill_pattern(in, TOTAL, 0);
  /* Odd-sized adds so chunk boundaries fall mid-frame. */
  size_t off = 0;
  while (off < TOTAL) {
    size_t k = TOTAL - off < 509 ? TOTAL - off : 509;
    T_OK(buf_add(b, in + off, k));
    off += k;
  }
  T_EQ_UINT(buf_len(b), TOTAL);
  T_EQ_INT(buf_pullup(b, TOTAL + 1, &p), CHIVE_ERR_TRUNCATED);
  T_OK(buf_pullup(b, 10, &p));
  T_EQ_MEM(p, in, 10);
  /* Pull up across a boundary. */
  T_OK(buf_pullup(b, BUF_CHUNK_LEN + 514, &p));
  T_EQ_MEM(p, in, BUF_CHUNK_LEN + 514);
  T_EQ_UINT(buf_len(b), TOTAL);
  T_EQ_UINT(buf_drain(b, 1000), 1000);
  T_OK(buf_pullup(b, 2 * BUF_CHUNK_LEN, &p));
  T_EQ_MEM(p, in + 1000, 2 * BUF_CHUNK_LEN);
  T_OK(buf_pullup(b, TOTAL - 1000, &p));
  T_EQ_MEM(p, in + 1000, TOTAL - 1000);
  T_EQ_UINT(buf_remove(b, out, TOTAL), TOTAL - 1000);
  T_EQ_MEM(out, in + 1000, TOTAL - 1000);
  T_OK(buf_pullup(b, 0, &p));
done:
  buf_free(b);
}

static void
test_buf_move(void)
{
  buf_t *a = buf_new(10000), *b = buf_new(3000);
  uint8_t in[6000], out[6000];
  T_ASSERT(a && b);
  fill_pattern(in, sizeof(in), 5);
  T_OK(buf_add(a, in, sizeof(in)));
  T_EQ_INT(buf_move(b, a, 3001), CHIVE_ERR_LIMIT);
  T_EQ_INT(buf_move(b, a, 6001), CHIVE_ERR_TRUNCATED);
  T_OK(buf_add(b, "xy", 2));
  T_OK(buf_move(b, a, 2500));
  T_EQ_UINT(buf_len(a), 3500);
  T_EQ_UINT(buf_len(b), 2502);
  T_EQ_UINT(buf_remove(b, out, sizeof(out)), 2502);
  T_EQ_MEM(out, "xy", 2);
  T_EQ_MEM(out + 2, in, 2500);
  T_EQ_UINT(buf_remove(a, out, sizeof(out)), 3500);
  T_EQ_MEM(out, in + 2500, 3500);
  T_OK(buf_move(b, a, 0));
done:
  buf_free(a);
  buf_free(b);
}

/* Every allocation failure leaves the buffer unchanged and reports
 * NOMEM. */
static void
test_buf_oom(void)
{
  buf_t *b = buf_new(100000);
  uint8_t in[9000];
  const uint8_t *p = NULL;
  T_ASSERT(b);
  fill_pattern(in, sizeof(in), 1);
  T_OK(buf_add(b, in, 100));
  chive_mem_fail_nth(1, false);
  T_EQ_INT(buf_add(b, in, sizeof(in)), CHIVE_ERR_NOMEM);
  T_EQ_UINT(buf_len(b), 100);
  T_OK(buf_add(b, in + 100, 8000));
  chive_mem_fail_nth(1, false);
  T_EQ_INT(buf_pullup(b, 8100, &p), CHIVE_ERR_NOMEM);
  T_EQ_UINT(buf_len(b), 8100);
  chive_mem_fail_nth(0, false);
  T_OK(buf_pullup(b, 8100, &p));
  T_EQ_MEM(p, in, 8100);
done:
  chive_mem_fail_nth(0, false);
  buf_free(b);
}

static void
test_buf_clear_reuse(void)
{
  buf_t *b = buf_new(50000);
  uint8_t in[20000];
  size_t hl = 0;
  T_ASSERT(b);
  fill_pattern(in, sizeof(in), 9);
  T_OK(buf_add(b, in, sizeof(in)));
  buf_clear(b);
  T_EQ_UINT(buf_len(b), 0);
  T_OK(buf_add(b, in, 10));
  const uint8_t *h = buf_head(b, &hl);
  T_ASSERT(h != NULL);
  T_EQ_UINT(hl, 10);
  T_EQ_MEM(h, in, 10);
done:
  buf_free(b);
}

static const t_case cases[] = {
    T_CASE(test_buf_basic), T_CASE(test_buf_limit),
    T_CASE(test_buf_chunks_pullup), T_CASE(test_buf_move),
    T_CASE(test_buf_oom),   T_CASE(test_buf_clear_reuse),
    T_END,
};
T_MAIN(cases)
