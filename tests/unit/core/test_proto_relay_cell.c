/* Unit tests for core/proto/relay_cell: the relay header and padding
 * (tor-spec §6.1). */
#include <string.h>

#include "core/proto/relay_cell.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* Built by hand from tor-spec §6.1: RELAY_DATA, recognized 0, stream
 * 0x1234, digest de ad be ef, length 5, "hello". */
static const uint8_t relay_golden[] = {0x02, 0x00, 0x00, 0x12, 0x34, 0xde,
                                       0xad, 0xbe, 0xef, 0x00, 0x05, 'h',
                                       'e',  'l',  'l',  'o'};

static void
test_relay_golden(void)
{
  uint8_t rnd[RELAY_PAYLOAD_LEN];
  for (size_t i = 0; i < sizeof(rnd); i++)
    rnd[i] = (uint8_t)(0x80 | i);
  relay_header_t h = {RELAY_COMMAND_DATA, 0, 0x1234,
                      {0xde, 0xad, 0xbe, 0xef}, 999 /* ignored */};
  uint8_t payload[CELL_PAYLOAD_LEN];
  T_EQ_UINT(relay_cell_random_pad_len(5), 498 - 5 - 4);
  T_OK(relay_cell_pack(&h, (const uint8_t *)"hello", 5, rnd, sizeof(rnd),
                       payload, sizeof(payload)));
  T_EQ_MEM(payload, relay_golden, sizeof(relay_golden));
  /* Padding: four zero bytes, then the caller's random bytes. */
  T_EQ_MEM(payload + 16, "\0\0\0\0", 4);
  T_EQ_MEM(payload + 20, rnd, CELL_PAYLOAD_LEN - 20);

  relay_cell_t rc;
  T_OK(relay_cell_parse(payload, sizeof(payload), &rc));
  T_EQ_UINT(rc.h.command, RELAY_COMMAND_DATA);
  T_EQ_UINT(rc.h.recognized, 0);
  T_EQ_UINT(rc.h.stream_id, 0x1234);
  T_EQ_MEM(rc.h.digest, "\xde\xad\xbe\xef", 4);
  T_EQ_UINT(rc.h.length, 5);
  T_ASSERT(rc.body == payload + RELAY_HEADER_LEN);

  /* Every prefix that cuts the header or the data fails. */
  for (size_t i = 0; i < sizeof(relay_golden); i++) {
    uint8_t *p = chive_memdup(relay_golden, i ? i : 1);
    relay_cell_t rc2;
    rc2.h.command = 77;
    T_EQ_INT(relay_cell_parse(p, i, &rc2), CHIVE_ERR_PROTO);
    chive_free(p);
    T_EQ_UINT(rc2.h.command, 77);
  }
  T_OK(relay_cell_parse(relay_golden, sizeof(relay_golden), &rc));
done:
  return;
}

static void
test_relay_lengths(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  uint8_t body[RELAY_PAYLOAD_LEN + 1];
  memset(body, 'x', sizeof(body));
  relay_header_t h;
  memset(&h, 0, sizeof(h));
  h.command = RELAY_COMMAND_DATA;
  relay_cell_t rc;

  T_OK(relay_cell_pack(&h, body, RELAY_PAYLOAD_LEN, NULL, 0, payload,
                       sizeof(payload)));
  T_OK(relay_cell_parse(payload, sizeof(payload), &rc));
  T_EQ_UINT(rc.h.length, 498);
  /* Length 499 claims more than a cell holds. */
  payload[RELAY_OFFSET_LENGTH + 1] = 0xf3; /* 0x01f3 = 499 */
  T_EQ_INT(relay_cell_parse(payload, sizeof(payload), &rc), CHIVE_ERR_PROTO);
  payload[RELAY_OFFSET_LENGTH] = 0xff;
  T_EQ_INT(relay_cell_parse(payload, sizeof(payload), &rc), CHIVE_ERR_PROTO);

  T_EQ_INT(relay_cell_pack(&h, body, RELAY_PAYLOAD_LEN + 1, NULL, 0,
                           payload, sizeof(payload)),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(relay_cell_pack(&h, body, 10, NULL, 0, payload,
                           CELL_PAYLOAD_LEN - 1),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(relay_cell_pack(&h, NULL, 10, NULL, 0, payload, sizeof(payload)),
           CHIVE_ERR_INVAL);

  /* Padding sizes around the four-zero-byte prefix. */
  T_EQ_UINT(relay_cell_random_pad_len(494), 0);
  T_EQ_UINT(relay_cell_random_pad_len(495), 0);
  T_EQ_UINT(relay_cell_random_pad_len(493), 1);
  T_EQ_UINT(relay_cell_random_pad_len(0), 494);
  uint8_t rnd[1] = {0x77};
  T_EQ_INT(relay_cell_pack(&h, body, 492, rnd, 1, payload, sizeof(payload)),
           CHIVE_ERR_INVAL); /* needs 2 random bytes */
  T_OK(relay_cell_pack(&h, body, 493, rnd, 1, payload, sizeof(payload)));
  T_EQ_MEM(payload + 11 + 493, "\0\0\0\0\x77", 5);
  memset(payload, 0xee, sizeof(payload));
  T_OK(relay_cell_pack(&h, body, 496, rnd, 1, payload, sizeof(payload)));
  T_EQ_MEM(payload + 11 + 496, "\0\0", 2);
  /* Empty body, all-zero padding. */
  T_OK(relay_cell_pack(&h, NULL, 0, NULL, 0, payload, sizeof(payload)));
  for (size_t i = RELAY_HEADER_LEN; i < CELL_PAYLOAD_LEN; i++)
    T_EQ_UINT(payload[i], 0);
done:
  return;
}

static void
test_relay_digest_helpers(void)
{
  uint8_t payload[CELL_PAYLOAD_LEN];
  memset(payload, 0, sizeof(payload));
  T_ASSERT(relay_cell_recognized_is_zero(payload));
  payload[RELAY_OFFSET_RECOGNIZED + 1] = 1;
  T_ASSERT(!relay_cell_recognized_is_zero(payload));
  const uint8_t d[RELAY_DIGEST_LEN] = {1, 2, 3, 4};
  relay_cell_set_digest(payload, d);
  T_EQ_MEM(payload + 5, d, 4);
  uint8_t got[RELAY_DIGEST_LEN];
  relay_cell_get_digest(payload, got);
  T_EQ_MEM(got, d, 4);
  relay_cell_clear_digest(payload);
  T_EQ_MEM(payload + 5, "\0\0\0\0", 4);
  T_EQ_UINT(payload[4], 0);
  T_EQ_UINT(payload[9], 0);

  T_EQ_STR(relay_command_name(RELAY_COMMAND_BEGIN_DIR), "BEGIN_DIR");
  T_EQ_STR(relay_command_name(RELAY_COMMAND_EXTENDED2), "EXTENDED2");
  T_EQ_STR(relay_command_name(RELAY_COMMAND_XOFF), "XOFF");
  T_EQ_STR(relay_command_name(0), "UNKNOWN");
  T_EQ_STR(relay_command_name(16), "UNKNOWN");
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_relay_golden),
    T_CASE(test_relay_lengths),
    T_CASE(test_relay_digest_helpers),
    T_END,
};
T_MAIN(cases)
