/* Unit tests for core/proto/cell: framing and packing (tor-spec §3). */
#include <string.h>

#include "core/proto/cell.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* A VERSIONS cell offering 3, 4, 5, built by hand from tor-spec §3/§4.1:
 * CircID 0 (2 bytes, always for VERSIONS), command 7, length 6, body. */
static const uint8_t versions_cell[] = {0x00, 0x00, 0x07, 0x00, 0x06, 0x00,
                                        0x03, 0x00, 0x04, 0x00, 0x05};

static void
test_var_command(void)
{
  for (unsigned c = 0; c < 256; c++) {
    bool want = c == 7 || c >= 128;
    T_EQ_INT(cell_is_var_command((uint8_t)c, 4), want);
    T_EQ_INT(cell_is_var_command((uint8_t)c, LINK_PROTO_UNKNOWN), want);
  }
  T_EQ_UINT(cell_circ_id_len(LINK_PROTO_UNKNOWN), 2);
  T_EQ_UINT(cell_circ_id_len(3), 2);
  T_EQ_UINT(cell_circ_id_len(4), 4);
  T_EQ_UINT(cell_circ_id_len(5), 4);
  T_EQ_UINT(cell_network_size(3), 512);
  T_EQ_UINT(cell_network_size(5), CELL_MAX_NETWORK_SIZE);
  T_EQ_UINT(CELL_MAX_NETWORK_SIZE, 514);
  T_EQ_UINT(VAR_CELL_MAX_HEADER_SIZE, 7);
  T_ASSERT(!cell_linkproto_supported(2));
  T_ASSERT(!cell_linkproto_supported(6));
  T_ASSERT(cell_linkproto_supported(3));
  T_EQ_STR(cell_command_name(CELL_CERTS), "CERTS");
  T_EQ_STR(cell_command_name(CELL_CREATE2), "CREATE2");
  T_EQ_STR(cell_command_name(200), "UNKNOWN");
done:
  return;
}

static void
test_frame_versions_golden(void)
{
  cell_frame_t f;
  size_t need = 0;
  T_OK(cell_frame_peek(versions_cell, sizeof(versions_cell),
                       LINK_PROTO_UNKNOWN, &f, &need));
  T_ASSERT(f.is_var);
  T_EQ_UINT(f.command, CELL_VERSIONS);
  T_EQ_UINT(f.circ_id, 0);
  T_EQ_UINT(f.frame_len, sizeof(versions_cell));
  T_EQ_UINT(f.body_len, 6);
  T_ASSERT(f.body == versions_cell + 5);

  var_cell_t vc;
  T_OK(var_cell_from_frame(&f, &vc));
  T_EQ_UINT(vc.body_len, 6);
  cell_t c;
  T_EQ_INT(cell_from_frame(&f, &c), CHIVE_ERR_INVAL);

  /* Every prefix asks for exactly what is missing (once it can know). */
  for (size_t i = 0; i < sizeof(versions_cell); i++) {
    uint8_t *p = chive_memdup(versions_cell, i ? i : 1);
    need = 0;
    T_EQ_INT(cell_frame_peek(p, i, LINK_PROTO_UNKNOWN, &f, &need),
             CHIVE_ERR_TRUNCATED);
    chive_free(p);
    size_t want = i < 3 ? 3 - i : i < 5 ? 5 - i : sizeof(versions_cell) - i;
    T_EQ_UINT(need, want);
  }
  /* Trailing bytes belong to the next cell. */
  uint8_t more[sizeof(versions_cell) + 3];
  memcpy(more, versions_cell, sizeof(versions_cell));
  memset(more + sizeof(versions_cell), 0xee, 3);
  T_OK(cell_frame_peek(more, sizeof(more), 0, &f, NULL));
  T_EQ_UINT(f.frame_len, sizeof(versions_cell));
done:
  return;
}

static void
test_frame_fixed(void)
{
  uint8_t buf[CELL_MAX_NETWORK_SIZE];
  memset(buf, 0xab, sizeof(buf));
  buf[0] = 0x80;
  buf[1] = 0x00;
  buf[2] = 0x00;
  buf[3] = 0x01;
  buf[4] = CELL_RELAY;
  cell_frame_t f;
  size_t need;
  T_OK(cell_frame_peek(buf, sizeof(buf), 4, &f, &need));
  T_ASSERT(!f.is_var);
  T_EQ_UINT(f.circ_id, 0x80000001u);
  T_EQ_UINT(f.command, CELL_RELAY);
  T_EQ_UINT(f.frame_len, 514);
  T_EQ_UINT(f.body_len, CELL_PAYLOAD_LEN);
  cell_t c;
  T_OK(cell_from_frame(&f, &c));
  T_EQ_UINT(c.circ_id, 0x80000001u);
  T_EQ_UINT(c.payload[0], 0xab);
  T_EQ_UINT(c.payload[508], 0xab);
  var_cell_t vc;
  T_EQ_INT(var_cell_from_frame(&f, &vc), CHIVE_ERR_INVAL);

  for (size_t i = 0; i < sizeof(buf); i++) {
    uint8_t *p = chive_memdup(buf, i ? i : 1);
    T_EQ_INT(cell_frame_peek(p, i, 4, &f, &need), CHIVE_ERR_TRUNCATED);
    chive_free(p);
    T_EQ_UINT(need, i < 5 ? 5 - i : sizeof(buf) - i);
  }
  /* Under link 3 the same bytes are a 2-byte circ id cell of 512. */
  buf[1] = CELL_DESTROY;
  T_OK(cell_frame_peek(buf, sizeof(buf), 3, &f, &need));
  T_EQ_UINT(f.circ_id, 0x8004);
  T_EQ_UINT(f.command, 0x00); /* byte 2 */
  T_EQ_UINT(f.frame_len, 512);
  T_EQ_INT(cell_frame_peek(buf, sizeof(buf), 2, &f, &need), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_frame_var_big(void)
{
  /* A VPADDING of the largest possible length under link 5. */
  size_t total = VAR_CELL_MAX_HEADER_SIZE + VAR_CELL_MAX_BODY_LEN;
  uint8_t *buf = chive_zalloc(total);
  buf[4] = CELL_VPADDING;
  buf[5] = 0xff;
  buf[6] = 0xff;
  cell_frame_t f;
  size_t need = 0;
  T_EQ_INT(cell_frame_peek(buf, total - 1, 5, &f, &need),
           CHIVE_ERR_TRUNCATED);
  T_EQ_UINT(need, 1);
  T_OK(cell_frame_peek(buf, total, 5, &f, &need));
  T_EQ_UINT(f.body_len, 65535);
  T_EQ_UINT(f.frame_len, total);
done:
  chive_free(buf);
}

static void
test_pack_roundtrip(void)
{
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.circ_id = 0x80001234u;
  c.command = CELL_CREATE2;
  for (size_t i = 0; i < CELL_PAYLOAD_LEN; i++)
    c.payload[i] = (uint8_t)i;
  uint8_t buf[2 * CELL_MAX_NETWORK_SIZE];
  wr_t w = wr_init(buf, sizeof(buf));
  T_OK(cell_pack(&c, 4, &w));
  T_EQ_UINT(wr_used(&w), 514);
  const uint8_t hdr[] = {0x80, 0x00, 0x12, 0x34, CELL_CREATE2};
  T_EQ_MEM(buf, hdr, sizeof(hdr));

  const uint8_t body[] = {0, 4, 0, 5};
  var_cell_t vc = {0, CELL_VERSIONS, sizeof(body), body};
  T_OK(var_cell_pack(&vc, LINK_PROTO_UNKNOWN, &w));
  T_EQ_UINT(wr_used(&w), 514 + 9);

  cell_frame_t f;
  T_OK(cell_frame_peek(buf, wr_used(&w), 4, &f, NULL));
  cell_t c2;
  T_OK(cell_from_frame(&f, &c2));
  T_EQ_UINT(c2.circ_id, c.circ_id);
  T_EQ_UINT(c2.command, c.command);
  T_EQ_MEM(c2.payload, c.payload, CELL_PAYLOAD_LEN);
  T_OK(cell_frame_peek(buf + f.frame_len, wr_used(&w) - f.frame_len,
                       LINK_PROTO_UNKNOWN, &f, NULL));
  var_cell_t vc2;
  T_OK(var_cell_from_frame(&f, &vc2));
  T_EQ_UINT(vc2.command, CELL_VERSIONS);
  T_EQ_UINT(vc2.body_len, 4);
  T_EQ_MEM(vc2.body, body, 4);

  /* Link 3: a 2-byte circ id; a too-wide one is refused. */
  w = wr_init(buf, sizeof(buf));
  c.circ_id = 0x1234;
  T_OK(cell_pack(&c, 3, &w));
  T_EQ_UINT(wr_used(&w), 512);
  c.circ_id = 0x10000;
  T_EQ_INT(cell_pack(&c, 3, &w), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_pack_errors(void)
{
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.command = CELL_NETINFO;
  uint8_t buf[CELL_MAX_NETWORK_SIZE];
  memset(buf, 0x5a, sizeof(buf));
  /* One byte short: CHIVE_ERR_LIMIT, nothing written, writer bad. */
  wr_t w = wr_init(buf, sizeof(buf) - 1);
  T_EQ_INT(cell_pack(&c, 4, &w), CHIVE_ERR_LIMIT);
  T_ASSERT(!wr_ok(&w));
  T_EQ_UINT(wr_used(&w), 0);
  T_EQ_UINT(buf[0], 0x5a);
  /* A var command through cell_pack, and the reverse. */
  w = wr_init(buf, sizeof(buf));
  c.command = CELL_CERTS;
  T_EQ_INT(cell_pack(&c, 4, &w), CHIVE_ERR_INVAL);
  var_cell_t vc = {0, CELL_NETINFO, 0, NULL};
  T_EQ_INT(var_cell_pack(&vc, 4, &w), CHIVE_ERR_INVAL);
  vc.command = CELL_VPADDING;
  vc.body_len = 3; /* NULL body with a length */
  T_EQ_INT(var_cell_pack(&vc, 4, &w), CHIVE_ERR_INVAL);
  vc.body_len = 0;
  T_OK(var_cell_pack(&vc, 4, &w));
  T_EQ_UINT(wr_used(&w), 7);
  w = wr_init(buf, 6);
  T_EQ_INT(var_cell_pack(&vc, 4, &w), CHIVE_ERR_LIMIT);
  T_EQ_INT(cell_pack(&c, 9, &w), CHIVE_ERR_INVAL);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_var_command),   T_CASE(test_frame_versions_golden),
    T_CASE(test_frame_fixed),   T_CASE(test_frame_var_big),
    T_CASE(test_pack_roundtrip), T_CASE(test_pack_errors),
    T_END,
};
T_MAIN(cases)
