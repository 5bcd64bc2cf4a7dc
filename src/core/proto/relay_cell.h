/**
 * @file relay_cell.h
 * @brief The relay cell header and payload layout (tor-spec §6.1), and
 * the relay command numbers.
 *
 * A relay cell payload is always CELL_PAYLOAD_LEN (509) bytes:
 *
 *     command(1) recognized(2) stream_id(2) digest(4) length(2)
 *     data[length]  padding[509 - 11 - length]
 *
 * These functions work on plaintext payloads (after decryption / before
 * encryption); the relay crypto computes the digest over the whole
 * payload with the digest field zeroed, then stores it with
 * relay_cell_set_digest().  Pure: no I/O, no allocation, no logging and
 * no RNG: random padding bytes come from the caller.
 **/
#ifndef CHIVE_CORE_PROTO_RELAY_CELL_H
#define CHIVE_CORE_PROTO_RELAY_CELL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proto/proto_limits.h"
#include "lib/err/err.h"

/** Relay commands (tor-spec §6.1; rend-spec-v3 §3-4 for 32-40;
 * padding-spec §3 for 41-42; proposal 324 for 43-44; proposal 329 for
 * 19-22). */
typedef enum relay_command_t {
  RELAY_COMMAND_BEGIN = 1,
  RELAY_COMMAND_DATA = 2,
  RELAY_COMMAND_END = 3,
  RELAY_COMMAND_CONNECTED = 4,
  RELAY_COMMAND_SENDME = 5,
  RELAY_COMMAND_EXTEND = 6,
  RELAY_COMMAND_EXTENDED = 7,
  RELAY_COMMAND_TRUNCATE = 8,
  RELAY_COMMAND_TRUNCATED = 9,
  RELAY_COMMAND_DROP = 10,
  RELAY_COMMAND_RESOLVE = 11,
  RELAY_COMMAND_RESOLVED = 12,
  RELAY_COMMAND_BEGIN_DIR = 13,
  RELAY_COMMAND_EXTEND2 = 14,
  RELAY_COMMAND_EXTENDED2 = 15,
  RELAY_COMMAND_CONFLUX_LINK = 19,
  RELAY_COMMAND_CONFLUX_LINKED = 20,
  RELAY_COMMAND_CONFLUX_LINKED_ACK = 21,
  RELAY_COMMAND_CONFLUX_SWITCH = 22,
  RELAY_COMMAND_ESTABLISH_INTRO = 32,
  RELAY_COMMAND_ESTABLISH_RENDEZVOUS = 33,
  RELAY_COMMAND_INTRODUCE1 = 34,
  RELAY_COMMAND_INTRODUCE2 = 35,
  RELAY_COMMAND_RENDEZVOUS1 = 36,
  RELAY_COMMAND_RENDEZVOUS2 = 37,
  RELAY_COMMAND_INTRO_ESTABLISHED = 38,
  RELAY_COMMAND_RENDEZVOUS_ESTABLISHED = 39,
  RELAY_COMMAND_INTRODUCE_ACK = 40,
  RELAY_COMMAND_PADDING_NEGOTIATE = 41,
  RELAY_COMMAND_PADDING_NEGOTIATED = 42,
  RELAY_COMMAND_XON = 43,
  RELAY_COMMAND_XOFF = 44,
} relay_command_t;

/** Return a static name for relay command <b>cmd</b> ("BEGIN", "DATA",
 * ...), or "UNKNOWN".  Never NULL. */
const char *relay_command_name(uint8_t cmd);

/** The decoded relay header. */
typedef struct relay_header_t {
  uint8_t command;
  uint16_t recognized; /**< 0 in every plaintext cell we send. */
  uint16_t stream_id;  /**< 0 for circuit-level ("control") cells. */
  uint8_t digest[RELAY_DIGEST_LEN];
  uint16_t length;     /**< Data bytes; <= RELAY_PAYLOAD_LEN. */
} relay_header_t;

/** A parsed relay cell: header plus a borrowed view of its data. */
typedef struct relay_cell_t {
  relay_header_t h;
  const uint8_t *body; /**< Borrowed: h.length bytes inside the payload. */
} relay_cell_t;

/** Parse the relay header and data of the <b>len</b>-byte plaintext cell
 * payload at <b>payload</b> (normally CELL_PAYLOAD_LEN).
 * CHIVE_ERR_PROTO if <b>len</b> < RELAY_HEADER_LEN, if length >
 * RELAY_PAYLOAD_LEN, or if the data runs past <b>len</b>.  Padding is
 * ignored. */
CHIVE_MUST_CHECK chive_err_t relay_cell_parse(const uint8_t *payload,
                                              size_t len, relay_cell_t *out);

/** Number of random padding bytes relay_cell_pack() wants after
 * <b>body_len</b> data bytes: the padding is four zero bytes, then
 * random bytes to the end of the payload (tor-spec §6.1). 0 if the data
 * leaves no more than four bytes. */
size_t relay_cell_random_pad_len(size_t body_len);

/** Build a plaintext relay cell payload in the <b>cap</b> bytes at
 * <b>payload</b> (which must be >= CELL_PAYLOAD_LEN): the header from
 * <b>h</b> (except its length field: body_len is written), the data,
 * then padding: four zero
 * bytes, then the first relay_cell_random_pad_len(body_len) bytes of
 * <b>pad_random</b>.  If <b>pad_random</b> is NULL all padding is zero
 * (for tests and for cells whose padding need not be unpredictable).
 * CHIVE_ERR_LIMIT if body_len > RELAY_PAYLOAD_LEN or cap is too small;
 * CHIVE_ERR_INVAL if pad_random is given but shorter than needed, or
 * body is NULL with body_len > 0.  Writes nothing on error. */
CHIVE_MUST_CHECK chive_err_t relay_cell_pack(const relay_header_t *h,
                                             const uint8_t *body,
                                             size_t body_len,
                                             const uint8_t *pad_random,
                                             size_t pad_random_len,
                                             uint8_t *payload, size_t cap);

/** Copy the digest field of a CELL_PAYLOAD_LEN payload into <b>out</b>. */
void relay_cell_get_digest(const uint8_t *payload,
                           uint8_t out[RELAY_DIGEST_LEN]);
/** Store <b>digest</b> in the digest field of a payload. */
void relay_cell_set_digest(uint8_t *payload,
                           const uint8_t digest[RELAY_DIGEST_LEN]);
/** Zero the digest field of a payload (before computing the digest). */
void relay_cell_clear_digest(uint8_t *payload);
/** Return true iff the 'recognized' field of a payload is zero. */
bool relay_cell_recognized_is_zero(const uint8_t *payload);

#endif /* !defined(CHIVE_CORE_PROTO_RELAY_CELL_H) */
