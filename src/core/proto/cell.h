/**
 * @file cell.h
 * @brief Cell framing for link protocols 3-5 (tor-spec §3).
 *
 * Pure: no I/O, no allocation, no logging.
 *
 * Reading: the channel keeps received bytes in a contiguous buffer and
 * calls cell_frame_peek() on its start.  The answer is one of
 *   - CHIVE_OK: a complete cell of frame->frame_len bytes is at the start
 *     of the buffer; frame->body borrows from that buffer, so use it (or
 *     copy it with cell_from_frame()) before consuming those bytes;
 *   - CHIVE_ERR_TRUNCATED: *need_out more bytes are needed at least (the
 *     exact count once the header is complete);
 *   - CHIVE_ERR_INVAL: the caller passed an unsupported link protocol.
 * The format itself cannot be violated at this layer (every command byte
 * frames), so whether a command is allowed in the current state is the
 * channel's decision.
 *
 * Writing: cell_pack() and var_cell_pack() write whole cells through a
 * wr_t and return CHIVE_ERR_LIMIT, writing nothing, when they do not fit.
 **/
#ifndef CHIVE_CORE_PROTO_CELL_H
#define CHIVE_CORE_PROTO_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proto/proto_limits.h"
#include "lib/bytes/bytes.h"
#include "lib/err/err.h"

/** Cell commands (tor-spec §3). */
typedef enum cell_command_t {
  CELL_PADDING = 0,
  CELL_CREATE = 1,
  CELL_CREATED = 2,
  CELL_RELAY = 3,
  CELL_DESTROY = 4,
  CELL_CREATE_FAST = 5,
  CELL_CREATED_FAST = 6,
  CELL_VERSIONS = 7,
  CELL_NETINFO = 8,
  CELL_RELAY_EARLY = 9,
  CELL_CREATE2 = 10,
  CELL_CREATED2 = 11,
  CELL_PADDING_NEGOTIATE = 12,
  CELL_VPADDING = 128,
  CELL_CERTS = 129,
  CELL_AUTH_CHALLENGE = 130,
  CELL_AUTHENTICATE = 131,
  CELL_AUTHORIZE = 132,
} cell_command_t;

/** A fixed-length cell.  The payload is owned by the struct. */
typedef struct cell_t {
  uint32_t circ_id;
  uint8_t command;
  uint8_t payload[CELL_PAYLOAD_LEN];
} cell_t;

/** A variable-length cell.  <b>body</b> is borrowed: it points into the
 * buffer it was framed from (or, when building one, into the caller's
 * buffer) and lives no longer than that buffer. */
typedef struct var_cell_t {
  uint32_t circ_id;
  uint8_t command;
  uint16_t body_len;
  const uint8_t *body;
} var_cell_t;

/** A complete cell found at the start of a buffer by cell_frame_peek(). */
typedef struct cell_frame_t {
  bool is_var;         /**< Variable-length cell? */
  uint8_t command;     /**< Command byte. */
  uint32_t circ_id;    /**< Circuit ID (2 or 4 bytes wide on the wire). */
  size_t frame_len;    /**< Bytes the whole cell takes in the buffer. */
  const uint8_t *body; /**< Borrowed: payload (509 bytes) or var body. */
  size_t body_len;     /**< CELL_PAYLOAD_LEN, or the var-cell length. */
} cell_frame_t;

/** Return true iff <b>linkproto</b> is LINK_PROTO_UNKNOWN or a version in
 * [LINK_PROTO_MIN, LINK_PROTO_MAX]. */
bool cell_linkproto_supported(unsigned linkproto);

/** Return the CIRCID_LEN for <b>linkproto</b> (2 or 4).  Before
 * negotiation (LINK_PROTO_UNKNOWN) it is 2.  VERSIONS cells always use 2:
 * pass LINK_PROTO_UNKNOWN when framing or packing them. */
size_t cell_circ_id_len(unsigned linkproto);

/** Return the wire size of a fixed-length cell under <b>linkproto</b>
 * (512 or 514). */
size_t cell_network_size(unsigned linkproto);

/** Return true iff <b>cmd</b> is a variable-length command under
 * <b>linkproto</b>: VERSIONS (7) or any command >= 128 (link >= 3 and
 * before negotiation, since the in-protocol handshake may start with
 * VPADDING or AUTHORIZE).  tor-spec §3. */
bool cell_is_var_command(uint8_t cmd, unsigned linkproto);

/** Return a static name for <b>cmd</b> ("RELAY", "CERTS", ...), or
 * "UNKNOWN".  Never NULL. */
const char *cell_command_name(uint8_t cmd);

/** Frame the cell at the start of the <b>len</b> bytes at <b>buf</b>.
 * On CHIVE_OK fill *<b>out</b> (borrowing from <b>buf</b>).  On
 * CHIVE_ERR_TRUNCATED set *<b>need_out</b> (if not NULL) to the number of
 * further bytes needed, at least 1.  CHIVE_ERR_INVAL if <b>linkproto</b>
 * is unsupported. */
CHIVE_MUST_CHECK chive_err_t cell_frame_peek(const uint8_t *buf, size_t len,
                                             unsigned linkproto,
                                             cell_frame_t *out,
                                             size_t *need_out);

/** Copy a fixed-length frame into *<b>out</b>.  CHIVE_ERR_INVAL if the
 * frame is variable-length. */
CHIVE_MUST_CHECK chive_err_t cell_from_frame(const cell_frame_t *frame,
                                             cell_t *out);

/** Describe a variable-length frame as a var_cell_t (body borrowed from
 * the framed buffer).  CHIVE_ERR_INVAL if the frame is fixed-length. */
CHIVE_MUST_CHECK chive_err_t var_cell_from_frame(const cell_frame_t *frame,
                                                 var_cell_t *out);

/** Write <b>cell</b> (circ id, command, 509-byte payload) to <b>w</b>.
 * CHIVE_ERR_INVAL if the command is a var command, the link protocol is
 * unsupported or the circ id does not fit CIRCID_LEN; CHIVE_ERR_LIMIT
 * (writing nothing, marking <b>w</b> bad) if it does not fit. */
CHIVE_MUST_CHECK chive_err_t cell_pack(const cell_t *cell, unsigned linkproto,
                                       wr_t *w);

/** Write <b>cell</b> (circ id, command, length, body) to <b>w</b>.  Same
 * errors as cell_pack(); the command must be a var command. */
CHIVE_MUST_CHECK chive_err_t var_cell_pack(const var_cell_t *cell,
                                           unsigned linkproto, wr_t *w);

#endif /* !defined(CHIVE_CORE_PROTO_CELL_H) */
