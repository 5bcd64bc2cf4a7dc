/* Unit tests for lib/bytes: the bounded reader and writer. */
#include "lib/bytes/bytes.h"
#include "tinytest.h"

static void
test_rd_basic(void)
{
  const uint8_t in[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                        16, 17, 18, 19};
  rd_t r = rd_init(in, sizeof(in));
  T_EQ_UINT(rd_u8(&r), 1);
  T_EQ_UINT(rd_u16(&r), 0x0203);
  T_EQ_UINT(rd_u32(&r), 0x04050607);
  T_EQ_UINT(rd_u64(&r), 0x08090a0b0c0d0e0fULL);
  T_EQ_UINT(rd_u16_le(&r), 0x1110);
  T_ASSERT(rd_ok(&r));
  T_EQ_UINT(rd_left(&r), 2);
  T_ASSERT(!rd_done(&r));
  const uint8_t *v = rd_bytes(&r, 2);
  T_ASSERT(v && v[0] == 18 && v[1] == 19);
  T_ASSERT(rd_done(&r));
  /* Reading past the end is sticky and yields zeros. */
  T_EQ_UINT(rd_u8(&r), 0);
  T_ASSERT(!rd_ok(&r));
  T_EQ_UINT(rd_left(&r), 0);
done:
  return;
}

static void
test_rd_sticky(void)
{
  const uint8_t in[] = {0xaa, 0xbb, 0xcc};
  rd_t r = rd_init(in, sizeof(in));
  T_EQ_UINT(rd_u32(&r), 0); /* short */
  T_ASSERT(!rd_ok(&r));
  /* Even a read that would fit now fails: the error is sticky. */
  T_EQ_UINT(rd_u8(&r), 0);
  T_ASSERT(rd_bytes(&r, 0) == NULL);
  uint8_t out[2] = {9, 9};
  rd_copy(&r, out, 2);
  T_EQ_UINT(out[0], 0);
  T_EQ_UINT(out[1], 0);
done:
  return;
}

static void
test_rd_sub(void)
{
  const uint8_t in[] = {3, 'a', 'b', 'c', 7};
  rd_t r = rd_init(in, sizeof(in));
  uint8_t n = rd_u8(&r);
  rd_t s = rd_sub(&r, n);
  T_ASSERT(rd_ok(&s) && rd_left(&s) == 3);
  T_EQ_UINT(rd_u8(&s), 'a');
  rd_skip(&s, 2);
  T_ASSERT(rd_done(&s));
  T_EQ_UINT(rd_u8(&s), 0); /* cannot run past the field */
  T_ASSERT(!rd_ok(&s));
  T_ASSERT(rd_ok(&r)); /* ...but the outer reader is fine */
  T_EQ_UINT(rd_u8(&r), 7);
  rd_t bad = rd_sub(&r, 1);
  T_ASSERT(!rd_ok(&bad) && !rd_ok(&r));
  size_t len = 99;
  T_ASSERT(rd_rest(&r, &len) == NULL && len == 0);
done:
  return;
}

/** A tiny length-prefixed format used to show every-prefix truncation:
 * u16 type, u8 len, len bytes, u32 trailer. */
static bool
parse_tlv(const uint8_t *p, size_t n, uint16_t *type, uint32_t *trailer)
{
  rd_t r = rd_init(p, n);
  *type = rd_u16(&r);
  rd_t body = rd_sub(&r, rd_u8(&r));
  (void)rd_rest(&body, &n);
  *trailer = rd_u32(&r);
  return rd_done(&r);
}

static void
test_rd_every_prefix(void)
{
  const uint8_t in[] = {0x01, 0x02, 4, 'd', 'a', 't', 'a', 0, 0, 0, 9};
  uint16_t t;
  uint32_t tr;
  T_ASSERT(parse_tlv(in, sizeof(in), &t, &tr));
  T_EQ_UINT(t, 0x0102);
  T_EQ_UINT(tr, 9);
  for (size_t i = 0; i < sizeof(in); i++)
    T_ASSERT(!parse_tlv(in, i, &t, &tr));
done:
  return;
}

static void
test_wr_basic(void)
{
  uint8_t buf[16];
  wr_t w = wr_init(buf, sizeof(buf));
  wr_u8(&w, 1);
  uint8_t *len = wr_reserve(&w, 2);
  T_ASSERT(len != NULL);
  wr_u32(&w, 0x02030405);
  wr_u64(&w, 0x060708090a0b0c0dULL);
  store_u16(len, 0xbeef);
  T_ASSERT(wr_ok(&w));
  T_EQ_UINT(wr_used(&w), 15);
  const uint8_t want[] = {1, 0xbe, 0xef, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12,
                          13};
  T_EQ_MEM(buf, want, sizeof(want));
  wr_u16(&w, 7); /* does not fit: nothing written, sticky */
  T_ASSERT(!wr_ok(&w));
  T_EQ_UINT(wr_used(&w), 15);
  wr_u8(&w, 1);
  T_ASSERT(!wr_ok(&w));
  T_ASSERT(wr_reserve(&w, 0) == NULL);
done:
  return;
}

static void
test_wr_zero_and_bytes(void)
{
  uint8_t buf[6];
  memset(buf, 0xff, sizeof(buf));
  wr_t w = wr_init(buf, sizeof(buf));
  wr_zero(&w, 2);
  wr_bytes(&w, "abcd", 4);
  T_ASSERT(wr_ok(&w));
  T_EQ_MEM(buf, "\0\0abcd", 6);
  wr_bytes(&w, "", 0);
  T_ASSERT(wr_ok(&w));
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_rd_basic),    T_CASE(test_rd_sticky),
    T_CASE(test_rd_sub),      T_CASE(test_rd_every_prefix),
    T_CASE(test_wr_basic),    T_CASE(test_wr_zero_and_bytes),
    T_END,
};
T_MAIN(cases)
