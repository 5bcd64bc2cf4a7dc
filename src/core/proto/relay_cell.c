/**
 * @file relay_cell.c
 * @brief Relay cell header codec and padding (tor-spec §6.1).  Pure: no
 * I/O, no allocation, no logging, no RNG.
 **/
#include "core/proto/relay_cell.h"

#include <string.h>

#include "lib/bytes/bytes.h"

const char *
relay_command_name(uint8_t cmd)
{
  switch (cmd) {
  case RELAY_COMMAND_BEGIN: return "BEGIN";
  case RELAY_COMMAND_DATA: return "DATA";
  case RELAY_COMMAND_END: return "END";
  case RELAY_COMMAND_CONNECTED: return "CONNECTED";
  case RELAY_COMMAND_SENDME: return "SENDME";
  case RELAY_COMMAND_EXTEND: return "EXTEND";
  case RELAY_COMMAND_EXTENDED: return "EXTENDED";
  case RELAY_COMMAND_TRUNCATE: return "TRUNCATE";
  case RELAY_COMMAND_TRUNCATED: return "TRUNCATED";
  case RELAY_COMMAND_DROP: return "DROP";
  case RELAY_COMMAND_RESOLVE: return "RESOLVE";
  case RELAY_COMMAND_RESOLVED: return "RESOLVED";
  case RELAY_COMMAND_BEGIN_DIR: return "BEGIN_DIR";
  case RELAY_COMMAND_EXTEND2: return "EXTEND2";
  case RELAY_COMMAND_EXTENDED2: return "EXTENDED2";
  case RELAY_COMMAND_CONFLUX_LINK: return "CONFLUX_LINK";
  case RELAY_COMMAND_CONFLUX_LINKED: return "CONFLUX_LINKED";
  case RELAY_COMMAND_CONFLUX_LINKED_ACK: return "CONFLUX_LINKED_ACK";
  case RELAY_COMMAND_CONFLUX_SWITCH: return "CONFLUX_SWITCH";
  case RELAY_COMMAND_ESTABLISH_INTRO: return "ESTABLISH_INTRO";
  case RELAY_COMMAND_ESTABLISH_RENDEZVOUS: return "ESTABLISH_RENDEZVOUS";
  case RELAY_COMMAND_INTRODUCE1: return "INTRODUCE1";
  case RELAY_COMMAND_INTRODUCE2: return "INTRODUCE2";
  case RELAY_COMMAND_RENDEZVOUS1: return "RENDEZVOUS1";
  case RELAY_COMMAND_RENDEZVOUS2: return "RENDEZVOUS2";
  case RELAY_COMMAND_INTRO_ESTABLISHED: return "INTRO_ESTABLISHED";
  case RELAY_COMMAND_RENDEZVOUS_ESTABLISHED:
    return "RENDEZVOUS_ESTABLISHED";
  case RELAY_COMMAND_INTRODUCE_ACK: return "INTRODUCE_ACK";
  case RELAY_COMMAND_PADDING_NEGOTIATE: return "PADDING_NEGOTIATE";
  case RELAY_COMMAND_PADDING_NEGOTIATED: return "PADDING_NEGOTIATED";
  case RELAY_COMMAND_XON: return "XON";
  case RELAY_COMMAND_XOFF: return "XOFF";
  default: return "UNKNOWN";
  }
}

chive_err_t
relay_cell_parse(const uint8_t *payload, size_t len, relay_cell_t *out)
{
  relay_cell_t tmp;
  rd_t r = rd_init(payload, len);
  tmp.h.command = rd_u8(&r);
  tmp.h.recognized = rd_u16(&r);
  tmp.h.stream_id = rd_u16(&r);
  rd_copy(&r, tmp.h.digest, RELAY_DIGEST_LEN);
  tmp.h.length = rd_u16(&r);
  if (!rd_ok(&r) || tmp.h.length > RELAY_PAYLOAD_LEN)
    return CHIVE_ERR_PROTO;
  tmp.body = rd_bytes(&r, tmp.h.length);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  /* The rest is padding: "Implementations MUST NOT rely on [it]". */
  *out = tmp;
  return CHIVE_OK;
}

size_t
relay_cell_random_pad_len(size_t body_len)
{
  if (body_len >= RELAY_PAYLOAD_LEN - RELAY_PADDING_ZERO_PREFIX_LEN)
    return 0;
  return RELAY_PAYLOAD_LEN - RELAY_PADDING_ZERO_PREFIX_LEN - body_len;
}

chive_err_t
relay_cell_pack(const relay_header_t *h, const uint8_t *body,
                size_t body_len, const uint8_t *pad_random,
                size_t pad_random_len, uint8_t *payload, size_t cap)
{
  if (body_len > RELAY_PAYLOAD_LEN || cap < CELL_PAYLOAD_LEN)
    return CHIVE_ERR_LIMIT;
  if (body_len && !body)
    return CHIVE_ERR_INVAL;
  const size_t n_random = relay_cell_random_pad_len(body_len);
  if (pad_random && pad_random_len < n_random)
    return CHIVE_ERR_INVAL;

  wr_t w = wr_init(payload, CELL_PAYLOAD_LEN);
  wr_u8(&w, h->command);
  wr_u16(&w, h->recognized);
  wr_u16(&w, h->stream_id);
  wr_bytes(&w, h->digest, RELAY_DIGEST_LEN);
  wr_u16(&w, (uint16_t)body_len);
  if (body_len)
    wr_bytes(&w, body, body_len);
  /* tor-spec §6.1: "fill this field with four zero-valued bytes,
   * followed by as many random bytes as will fit" (all zero if fewer
   * than four bytes are left). */
  size_t pad = CELL_PAYLOAD_LEN - RELAY_HEADER_LEN - body_len;
  if (pad_random && n_random) {
    wr_zero(&w, pad - n_random);
    wr_bytes(&w, pad_random, n_random);
  } else {
    wr_zero(&w, pad);
  }
  if (!wr_ok(&w) || wr_used(&w) != CELL_PAYLOAD_LEN)
    return CHIVE_ERR_INTERNAL;
  return CHIVE_OK;
}

void
relay_cell_get_digest(const uint8_t *payload, uint8_t out[RELAY_DIGEST_LEN])
{
  memcpy(out, payload + RELAY_OFFSET_DIGEST, RELAY_DIGEST_LEN);
}

void
relay_cell_set_digest(uint8_t *payload,
                      const uint8_t digest[RELAY_DIGEST_LEN])
{
  memcpy(payload + RELAY_OFFSET_DIGEST, digest, RELAY_DIGEST_LEN);
}

void
relay_cell_clear_digest(uint8_t *payload)
{
  memset(payload + RELAY_OFFSET_DIGEST, 0, RELAY_DIGEST_LEN);
}

bool
relay_cell_recognized_is_zero(const uint8_t *payload)
{
  return payload[RELAY_OFFSET_RECOGNIZED] == 0 &&
         payload[RELAY_OFFSET_RECOGNIZED + 1] == 0;
}
