/**
 * @file cell.c
 * @brief Cell framing and packing (tor-spec §3).  Pure: no I/O, no
 * allocation, no logging.
 **/
#include "core/proto/cell.h"

#include <string.h>

bool
cell_linkproto_supported(unsigned linkproto)
{
  return linkproto == LINK_PROTO_UNKNOWN ||
         (linkproto >= LINK_PROTO_MIN && linkproto <= LINK_PROTO_MAX);
}

size_t
cell_circ_id_len(unsigned linkproto)
{
  /* tor-spec §3: CIRCID_LEN is 2 for link <= 3 and before VERSIONS. */
  return linkproto >= LINK_PROTO_WIDE_CIRCID ? CIRCID_LEN_WIDE
                                             : CIRCID_LEN_NARROW;
}

size_t
cell_network_size(unsigned linkproto)
{
  return cell_circ_id_len(linkproto) + CELL_COMMAND_LEN + CELL_PAYLOAD_LEN;
}

bool
cell_is_var_command(uint8_t cmd, unsigned linkproto)
{
  (void)linkproto; /* Same rule for link >= 3 and before negotiation. */
  /* tor-spec §3: "On a version 3 or higher connection, variable-length
   * cells are indicated by a command byte equal to 7 ("VERSIONS"), or
   * greater than or equal to 128." */
  return cmd == CELL_VERSIONS || cmd >= 128;
}

const char *
cell_command_name(uint8_t cmd)
{
  switch (cmd) {
  case CELL_PADDING: return "PADDING";
  case CELL_CREATE: return "CREATE";
  case CELL_CREATED: return "CREATED";
  case CELL_RELAY: return "RELAY";
  case CELL_DESTROY: return "DESTROY";
  case CELL_CREATE_FAST: return "CREATE_FAST";
  case CELL_CREATED_FAST: return "CREATED_FAST";
  case CELL_VERSIONS: return "VERSIONS";
  case CELL_NETINFO: return "NETINFO";
  case CELL_RELAY_EARLY: return "RELAY_EARLY";
  case CELL_CREATE2: return "CREATE2";
  case CELL_CREATED2: return "CREATED2";
  case CELL_PADDING_NEGOTIATE: return "PADDING_NEGOTIATE";
  case CELL_VPADDING: return "VPADDING";
  case CELL_CERTS: return "CERTS";
  case CELL_AUTH_CHALLENGE: return "AUTH_CHALLENGE";
  case CELL_AUTHENTICATE: return "AUTHENTICATE";
  case CELL_AUTHORIZE: return "AUTHORIZE";
  default: return "UNKNOWN";
  }
}

chive_err_t
cell_frame_peek(const uint8_t *buf, size_t len, unsigned linkproto,
                cell_frame_t *out, size_t *need_out)
{
  if (!cell_linkproto_supported(linkproto))
    return CHIVE_ERR_INVAL;

  const size_t circ_len = cell_circ_id_len(linkproto);
  rd_t r = rd_init(buf, len);
  uint32_t circ_id = circ_len == CIRCID_LEN_WIDE ? rd_u32(&r) : rd_u16(&r);
  uint8_t cmd = rd_u8(&r);
  bool is_var = cell_is_var_command(cmd, linkproto);
  size_t hdr_len = circ_len + CELL_COMMAND_LEN;
  size_t body_len = CELL_PAYLOAD_LEN;
  if (is_var) {
    hdr_len += VAR_CELL_LENGTH_LEN;
    body_len = rd_u16(&r);
  }
  if (!rd_ok(&r)) {
    /* The header is incomplete: we need at least the rest of the
     * shortest header this could be (cmd unknown yet => fixed). */
    size_t min_hdr = circ_len + CELL_COMMAND_LEN;
    if (len >= min_hdr)
      min_hdr += VAR_CELL_LENGTH_LEN; /* cmd known: it is a var cell */
    if (need_out)
      *need_out = min_hdr - len;
    return CHIVE_ERR_TRUNCATED;
  }
  const uint8_t *body = rd_bytes(&r, body_len);
  if (!rd_ok(&r)) {
    if (need_out)
      *need_out = hdr_len + body_len - len;
    return CHIVE_ERR_TRUNCATED;
  }
  out->is_var = is_var;
  out->command = cmd;
  out->circ_id = circ_id;
  out->frame_len = hdr_len + body_len;
  out->body = body;
  out->body_len = body_len;
  return CHIVE_OK;
}

chive_err_t
cell_from_frame(const cell_frame_t *frame, cell_t *out)
{
  if (frame->is_var || frame->body_len != CELL_PAYLOAD_LEN)
    return CHIVE_ERR_INVAL;
  out->circ_id = frame->circ_id;
  out->command = frame->command;
  memcpy(out->payload, frame->body, CELL_PAYLOAD_LEN);
  return CHIVE_OK;
}

chive_err_t
var_cell_from_frame(const cell_frame_t *frame, var_cell_t *out)
{
  if (!frame->is_var || frame->body_len > VAR_CELL_MAX_BODY_LEN)
    return CHIVE_ERR_INVAL;
  out->circ_id = frame->circ_id;
  out->command = frame->command;
  out->body_len = (uint16_t)frame->body_len;
  out->body = frame->body;
  return CHIVE_OK;
}

/** Write the circuit ID in the width <b>linkproto</b> uses.  The caller
 * has checked that it fits. */
static void
write_circ_id(wr_t *w, uint32_t circ_id, unsigned linkproto)
{
  if (cell_circ_id_len(linkproto) == CIRCID_LEN_WIDE)
    wr_u32(w, circ_id);
  else
    wr_u16(w, (uint16_t)circ_id);
}

/** Return true iff <b>circ_id</b> fits CIRCID_LEN for <b>linkproto</b>. */
static bool
circ_id_fits(uint32_t circ_id, unsigned linkproto)
{
  return cell_circ_id_len(linkproto) == CIRCID_LEN_WIDE || circ_id <= 0xffff;
}

chive_err_t
cell_pack(const cell_t *cell, unsigned linkproto, wr_t *w)
{
  if (!cell_linkproto_supported(linkproto) ||
      cell_is_var_command(cell->command, linkproto) ||
      !circ_id_fits(cell->circ_id, linkproto))
    return CHIVE_ERR_INVAL;
  size_t need = cell_network_size(linkproto);
  if (w->bad || w->left < need) {
    w->bad = true;
    return CHIVE_ERR_LIMIT;
  }
  write_circ_id(w, cell->circ_id, linkproto);
  wr_u8(w, cell->command);
  wr_bytes(w, cell->payload, CELL_PAYLOAD_LEN);
  return wr_ok(w) ? CHIVE_OK : CHIVE_ERR_INTERNAL;
}

chive_err_t
var_cell_pack(const var_cell_t *cell, unsigned linkproto, wr_t *w)
{
  if (!cell_linkproto_supported(linkproto) ||
      !cell_is_var_command(cell->command, linkproto) ||
      !circ_id_fits(cell->circ_id, linkproto) ||
      (cell->body_len && !cell->body))
    return CHIVE_ERR_INVAL;
  size_t need = cell_circ_id_len(linkproto) + CELL_COMMAND_LEN +
                VAR_CELL_LENGTH_LEN + cell->body_len;
  if (w->bad || w->left < need) {
    w->bad = true;
    return CHIVE_ERR_LIMIT;
  }
  write_circ_id(w, cell->circ_id, linkproto);
  wr_u8(w, cell->command);
  wr_u16(w, cell->body_len);
  if (cell->body_len)
    wr_bytes(w, cell->body, cell->body_len);
  return wr_ok(w) ? CHIVE_OK : CHIVE_ERR_INTERNAL;
}
