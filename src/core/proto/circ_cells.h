/**
 * @file circ_cells.h
 * @brief Circuit-management cell bodies: CREATE_FAST/CREATED_FAST
 * (tor-spec §5.1.5), CREATE2/CREATED2 (§5.1), DESTROY and the circuit
 * close reasons (§5.4).
 *
 * Pure: no I/O, no allocation, no logging.  Parsers take the 509-byte
 * cell payload (a longer or shorter buffer is fine: only the fields are
 * read, padding is ignored) and fill caller structs only on success.
 * Encoders write the fields into a caller buffer and set *len_out; the
 * caller pads the rest of the payload with NUL (a zeroed cell_t does).
 * The CREATE2/CREATED2 encoders are also what EXTEND2/EXTENDED2 use.
 **/
#ifndef CHIVE_CORE_PROTO_CIRC_CELLS_H
#define CHIVE_CORE_PROTO_CIRC_CELLS_H

#include <stddef.h>
#include <stdint.h>

#include "core/proto/proto_limits.h"
#include "lib/err/err.h"

/** Handshake types (tor-spec §5.1; ntor-v3 from proposal 332). */
#define HTYPE_TAP 0x0000
#define HTYPE_NTOR 0x0002
#define HTYPE_NTOR_V3 0x0003

/** CREATE_FAST body. */
typedef struct create_fast_t {
  uint8_t x[HASH_LEN]; /**< Key material X (secret: wipe after use). */
} create_fast_t;

/** CREATED_FAST body. */
typedef struct created_fast_t {
  uint8_t y[HASH_LEN];  /**< Key material Y. */
  uint8_t kh[HASH_LEN]; /**< Derivative key data (tor-spec §5.2.1). */
} created_fast_t;

/** CREATE2 body (and the handshake part of EXTEND2). */
typedef struct create2_t {
  uint16_t htype;
  uint16_t hlen;
  const uint8_t *hdata; /**< Borrowed from the parsed body. */
} create2_t;

/** CREATED2 body (and EXTENDED2). */
typedef struct created2_t {
  uint16_t hlen;
  const uint8_t *hdata; /**< Borrowed from the parsed body. */
} created2_t;

/** DESTROY / RELAY_TRUNCATED reasons (tor-spec §5.4). */
typedef enum destroy_reason_t {
  DESTROY_REASON_NONE = 0,
  DESTROY_REASON_PROTOCOL = 1,
  DESTROY_REASON_INTERNAL = 2,
  DESTROY_REASON_REQUESTED = 3,
  DESTROY_REASON_HIBERNATING = 4,
  DESTROY_REASON_RESOURCELIMIT = 5,
  DESTROY_REASON_CONNECTFAILED = 6,
  DESTROY_REASON_OR_IDENTITY = 7,
  DESTROY_REASON_CHANNEL_CLOSED = 8,
  DESTROY_REASON_FINISHED = 9,
  DESTROY_REASON_TIMEOUT = 10,
  DESTROY_REASON_DESTROYED = 11,
  DESTROY_REASON_NOSUCHSERVICE = 12,
} destroy_reason_t;

/** Return a static upper-case name for <b>reason</b> ("NONE",
 * "PROTOCOL", ..., the names tor's control port uses), or "UNKNOWN".
 * Never NULL. */
const char *destroy_reason_name(uint8_t reason);

/** Parse a CREATE_FAST body.  CHIVE_ERR_PROTO if shorter than
 * CREATE_FAST_LEN. */
CHIVE_MUST_CHECK chive_err_t create_fast_parse(const uint8_t *body,
                                               size_t len,
                                               create_fast_t *out);
CHIVE_MUST_CHECK chive_err_t create_fast_encode(const create_fast_t *cf,
                                                uint8_t *out, size_t cap,
                                                size_t *len_out);

/** Parse a CREATED_FAST body.  CHIVE_ERR_PROTO if shorter than
 * CREATED_FAST_LEN. */
CHIVE_MUST_CHECK chive_err_t created_fast_parse(const uint8_t *body,
                                                size_t len,
                                                created_fast_t *out);
CHIVE_MUST_CHECK chive_err_t created_fast_encode(const created_fast_t *cf,
                                                 uint8_t *out, size_t cap,
                                                 size_t *len_out);

/** Parse a CREATE2 body (HTYPE, HLEN, HDATA).  CHIVE_ERR_PROTO if HDATA
 * runs past <b>len</b> or HLEN > CREATE2_MAX_HLEN. */
CHIVE_MUST_CHECK chive_err_t create2_parse(const uint8_t *body, size_t len,
                                           create2_t *out);
/** Encode a CREATE2 body.  CHIVE_ERR_INVAL if hlen > CREATE2_MAX_HLEN or
 * hdata is NULL with hlen > 0. */
CHIVE_MUST_CHECK chive_err_t create2_encode(const create2_t *c2, uint8_t *out,
                                            size_t cap, size_t *len_out);

/** Parse a CREATED2 body (HLEN, HDATA).  CHIVE_ERR_PROTO if HDATA runs
 * past <b>len</b> or HLEN > CREATED2_MAX_HLEN. */
CHIVE_MUST_CHECK chive_err_t created2_parse(const uint8_t *body, size_t len,
                                            created2_t *out);
/** Encode a CREATED2 body.  CHIVE_ERR_INVAL if hlen > CREATED2_MAX_HLEN
 * or hdata is NULL with hlen > 0. */
CHIVE_MUST_CHECK chive_err_t created2_encode(const created2_t *c2,
                                             uint8_t *out, size_t cap,
                                             size_t *len_out);

/** Parse a DESTROY body: its first octet.  CHIVE_ERR_PROTO if empty. */
CHIVE_MUST_CHECK chive_err_t destroy_parse(const uint8_t *body, size_t len,
                                           uint8_t *reason_out);
/** Encode a DESTROY body (one octet). */
CHIVE_MUST_CHECK chive_err_t destroy_encode(uint8_t reason, uint8_t *out,
                                            size_t cap, size_t *len_out);

#endif /* !defined(CHIVE_CORE_PROTO_CIRC_CELLS_H) */
