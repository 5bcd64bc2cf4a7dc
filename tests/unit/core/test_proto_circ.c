/* Unit tests for core/proto/circ_cells: CREATE_FAST/CREATED_FAST,
 * CREATE2/CREATED2, DESTROY (tor-spec §5.1, §5.1.5, §5.4). */
#include <string.h>

#include "core/proto/cell.h"
#include "core/proto/circ_cells.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static void
test_create_fast(void)
{
  cell_t c;
  memset(&c, 0, sizeof(c));
  create_fast_t cf;
  for (int i = 0; i < HASH_LEN; i++)
    cf.x[i] = (uint8_t)(i + 1);
  size_t len;
  T_OK(create_fast_encode(&cf, c.payload, sizeof(c.payload), &len));
  T_EQ_UINT(len, CREATE_FAST_LEN);
  create_fast_t cf2;
  T_OK(create_fast_parse(c.payload, sizeof(c.payload), &cf2));
  T_EQ_MEM(cf2.x, cf.x, HASH_LEN);
  T_EQ_INT(create_fast_parse(c.payload, HASH_LEN - 1, &cf2), CHIVE_ERR_PROTO);
  T_EQ_INT(create_fast_encode(&cf, c.payload, HASH_LEN - 1, &len),
           CHIVE_ERR_LIMIT);

  created_fast_t cd;
  memset(cd.y, 0x11, sizeof(cd.y));
  memset(cd.kh, 0x22, sizeof(cd.kh));
  T_OK(created_fast_encode(&cd, c.payload, sizeof(c.payload), &len));
  T_EQ_UINT(len, CREATED_FAST_LEN);
  T_EQ_UINT(c.payload[19], 0x11);
  T_EQ_UINT(c.payload[20], 0x22);
  created_fast_t cd2;
  T_OK(created_fast_parse(c.payload, sizeof(c.payload), &cd2));
  T_EQ_MEM(&cd2, &cd, sizeof(cd));
  for (size_t i = 0; i < CREATED_FAST_LEN; i++)
    T_EQ_INT(created_fast_parse(c.payload, i, &cd2), CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_create2_golden(void)
{
  /* tor-spec §5.1: HTYPE 0x0002 (ntor), HLEN 84 (ID 20 + B 32 + X 32,
   * §5.1.4), HDATA; then NUL padding to 509. */
  uint8_t payload[CELL_PAYLOAD_LEN];
  memset(payload, 0, sizeof(payload));
  payload[0] = 0x00;
  payload[1] = 0x02;
  payload[2] = 0x00;
  payload[3] = 0x54;
  for (int i = 0; i < 84; i++)
    payload[4 + i] = (uint8_t)(0x30 + i);
  create2_t c2;
  T_OK(create2_parse(payload, sizeof(payload), &c2));
  T_EQ_UINT(c2.htype, HTYPE_NTOR);
  T_EQ_UINT(c2.hlen, 84);
  T_ASSERT(c2.hdata == payload + 4);

  uint8_t out[CELL_PAYLOAD_LEN];
  memset(out, 0, sizeof(out));
  size_t len;
  T_OK(create2_encode(&c2, out, sizeof(out), &len));
  T_EQ_UINT(len, 88);
  T_EQ_MEM(out, payload, sizeof(payload));

  for (size_t i = 0; i < 88; i++) {
    uint8_t *p = chive_memdup(payload, i ? i : 1);
    create2_t bad = {7, 7, NULL};
    T_EQ_INT(create2_parse(p, i, &bad), CHIVE_ERR_PROTO);
    chive_free(p);
    T_EQ_UINT(bad.htype, 7);
  }
done:
  return;
}

static void
test_create2_limits(void)
{
  uint8_t buf[600];
  memset(buf, 0, sizeof(buf));
  create2_t c2;
  /* HLEN 505 fills the cell exactly; 506 cannot fit in one. */
  buf[2] = 0x01;
  buf[3] = 0xf9; /* 505 */
  T_OK(create2_parse(buf, CELL_PAYLOAD_LEN, &c2));
  T_EQ_UINT(c2.hlen, CREATE2_MAX_HLEN);
  buf[3] = 0xfa; /* 506 */
  T_EQ_INT(create2_parse(buf, sizeof(buf), &c2), CHIVE_ERR_PROTO);

  c2.htype = HTYPE_NTOR_V3;
  c2.hlen = CREATE2_MAX_HLEN + 1;
  c2.hdata = buf;
  size_t len;
  T_EQ_INT(create2_encode(&c2, buf, sizeof(buf), &len), CHIVE_ERR_INVAL);
  c2.hlen = 10;
  c2.hdata = NULL;
  T_EQ_INT(create2_encode(&c2, buf, sizeof(buf), &len), CHIVE_ERR_INVAL);
  c2.hlen = 0;
  T_OK(create2_encode(&c2, buf, sizeof(buf), &len));
  T_EQ_UINT(len, 4);
  T_EQ_INT(create2_encode(&c2, buf, 3, &len), CHIVE_ERR_LIMIT);
done:
  return;
}

static void
test_created2_golden(void)
{
  /* tor-spec §5.1: HLEN 64 (ntor: Y 32 + AUTH 32), HDATA. */
  uint8_t payload[CELL_PAYLOAD_LEN];
  memset(payload, 0, sizeof(payload));
  payload[1] = 0x40;
  for (int i = 0; i < 64; i++)
    payload[2 + i] = (uint8_t)(0x80 + i);
  created2_t c2;
  T_OK(created2_parse(payload, sizeof(payload), &c2));
  T_EQ_UINT(c2.hlen, 64);
  T_ASSERT(c2.hdata == payload + 2);
  uint8_t out[CELL_PAYLOAD_LEN];
  memset(out, 0, sizeof(out));
  size_t len;
  T_OK(created2_encode(&c2, out, sizeof(out), &len));
  T_EQ_UINT(len, 66);
  T_EQ_MEM(out, payload, sizeof(out));
  for (size_t i = 0; i < 66; i++)
    T_EQ_INT(created2_parse(payload, i, &c2), CHIVE_ERR_PROTO);

  uint8_t big[600];
  memset(big, 0, sizeof(big));
  big[0] = 0x01;
  big[1] = 0xfb; /* 507 */
  T_OK(created2_parse(big, CELL_PAYLOAD_LEN, &c2));
  big[1] = 0xfc; /* 508 */
  T_EQ_INT(created2_parse(big, sizeof(big), &c2), CHIVE_ERR_PROTO);
  c2.hlen = CREATED2_MAX_HLEN + 1;
  T_EQ_INT(created2_encode(&c2, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_destroy(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  memset(payload, 0, sizeof(payload));
  size_t len;
  T_OK(destroy_encode(DESTROY_REASON_FINISHED, payload, sizeof(payload),
                      &len));
  T_EQ_UINT(len, 1);
  T_EQ_UINT(payload[0], 9);
  uint8_t reason = 0xff;
  T_OK(destroy_parse(payload, sizeof(payload), &reason));
  T_EQ_UINT(reason, DESTROY_REASON_FINISHED);
  T_EQ_INT(destroy_parse(payload, 0, &reason), CHIVE_ERR_PROTO);
  T_EQ_INT(destroy_encode(1, payload, 0, &len), CHIVE_ERR_LIMIT);

  T_EQ_STR(destroy_reason_name(DESTROY_REASON_NONE), "NONE");
  T_EQ_STR(destroy_reason_name(DESTROY_REASON_OR_IDENTITY), "OR_IDENTITY");
  T_EQ_STR(destroy_reason_name(DESTROY_REASON_CHANNEL_CLOSED),
           "CHANNEL_CLOSED");
  T_EQ_STR(destroy_reason_name(DESTROY_REASON_NOSUCHSERVICE),
           "NOSUCHSERVICE");
  T_EQ_STR(destroy_reason_name(13), "UNKNOWN");
  T_EQ_STR(destroy_reason_name(255), "UNKNOWN");
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_create_fast),     T_CASE(test_create2_golden),
    T_CASE(test_create2_limits),  T_CASE(test_created2_golden),
    T_CASE(test_destroy),
    T_END,
};
T_MAIN(cases)
