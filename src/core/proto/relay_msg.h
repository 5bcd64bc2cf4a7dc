/**
 * @file relay_msg.h
 * @brief Relay message bodies (the <length> data bytes of a relay cell):
 * BEGIN / BEGIN_DIR / CONNECTED (tor-spec §6.2, §6.2.1), END and its
 * reasons (§6.3), RESOLVE / RESOLVED (§6.4), SENDME v0/v1 (§7.3.1,
 * proposal 289), EXTEND2 / EXTENDED2 and link specifiers (§5.1.2),
 * TRUNCATE / TRUNCATED (§5.4), DROP (§6.2).
 *
 * Pure: no I/O, no allocation, no logging.  Parsers take the relay body
 * (relay_cell_t.body, relay_cell_t.h.length) and fill a caller-owned
 * struct only on success; "borrowed" fields point into that body.
 * Encoders write into a caller buffer (normally RELAY_PAYLOAD_LEN bytes)
 * and return CHIVE_ERR_LIMIT if the message does not fit.
 *
 * Bodies with no fields have no codec: BEGIN_DIR is sent empty and its
 * received payload is ignored (§6.2.1); TRUNCATE and DROP are empty;
 * DATA is the body itself; a stream-level SENDME is sent empty (§7.4).
 **/
#ifndef CHIVE_CORE_PROTO_RELAY_MSG_H
#define CHIVE_CORE_PROTO_RELAY_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proto/circ_cells.h"
#include "core/proto/proto_limits.h"
#include "lib/err/err.h"

/** Address types used by CONNECTED, END and link specifiers' callers. */
#define RELAY_ATYPE_NONE 0
#define RELAY_ATYPE_IPV4 4
#define RELAY_ATYPE_IPV6 6

/* ---- BEGIN (tor-spec §6.2) --------------------------------------------- */

/** BEGIN flags; bit 1 is the LSB. */
#define BEGIN_FLAG_IPV6_OK 0x1u
#define BEGIN_FLAG_IPV4_NOT_OK 0x2u
#define BEGIN_FLAG_IPV6_PREFERRED 0x4u

/** What ADDRESS in "ADDRESS:PORT" is. */
typedef enum begin_host_type_t {
  BEGIN_HOST_EMPTY = 0, /**< "" (BEGIN to an onion service, rend-spec). */
  BEGIN_HOST_NAME = 1,  /**< a DNS hostname */
  BEGIN_HOST_IPV4 = 2,  /**< dotted quad */
  BEGIN_HOST_IPV6 = 3,  /**< "[...]" on the wire, stored without brackets */
} begin_host_type_t;

typedef struct begin_t {
  uint8_t host_type;                      /**< begin_host_type_t */
  char host[RELAY_MAX_HOSTNAME_LEN + 1];  /**< NUL-terminated, lower case */
  uint8_t addr[16];  /**< Parsed literal for IPV4 (4 bytes) / IPV6. */
  uint16_t port;     /**< 1..65535 */
  uint32_t flags;    /**< BEGIN_FLAG_*; unknown bits kept as received. */
} begin_t;

/** Fill *<b>out</b> from a host string (a hostname, a dotted quad, an
 * IPv6 address with or without brackets, or "" for onion services), a
 * port and flags.  The host is lower-cased.  CHIVE_ERR_INVAL if the host
 * is not valid for BEGIN (bad characters, over RELAY_MAX_HOSTNAME_LEN,
 * malformed literal) or the port is 0. */
CHIVE_MUST_CHECK chive_err_t begin_init(begin_t *out, const char *host,
                                        uint16_t port, uint32_t flags);

/** Parse a BEGIN body: "ADDRESS:PORT\0" then optional FLAGS (read only
 * if four bytes follow the NUL; more trailing bytes are ignored).
 * Hostnames are accepted in any case and stored lower-cased.
 * CHIVE_ERR_PROTO for a missing NUL, a bad port, or a host that is not
 * a hostname / dotted quad / bracketed IPv6 / empty. */
CHIVE_MUST_CHECK chive_err_t begin_parse(const uint8_t *body, size_t len,
                                         begin_t *out);

/** Encode a BEGIN body; FLAGS is written only when nonzero (as tor
 * does).  CHIVE_ERR_INVAL if <b>b</b> is inconsistent (use
 * begin_init()). */
CHIVE_MUST_CHECK chive_err_t begin_encode(const begin_t *b, uint8_t *out,
                                          size_t cap, size_t *len_out);

/* ---- CONNECTED (tor-spec §6.2) ----------------------------------------- */

typedef struct connected_t {
  uint8_t atype;    /**< RELAY_ATYPE_NONE (empty body), _IPV4, _IPV6. */
  uint8_t addr[16]; /**< Network order. */
  uint32_t ttl;     /**< Seconds; 0 when atype is NONE. */
} connected_t;

/** Parse a CONNECTED body: empty, IPv4(4)+TTL(4), or zero(4) + type 6 +
 * IPv6(16) + TTL(4).  Trailing bytes are ignored.  CHIVE_ERR_PROTO for
 * any other shape.  (After BEGIN_DIR the caller ignores the body.) */
CHIVE_MUST_CHECK chive_err_t connected_parse(const uint8_t *body, size_t len,
                                             connected_t *out);
/** Encode a CONNECTED body.  CHIVE_ERR_INVAL for an unknown atype or the
 * IPv4 address 0.0.0.0 (which would read as the IPv6 marker). */
CHIVE_MUST_CHECK chive_err_t connected_encode(const connected_t *c,
                                              uint8_t *out, size_t cap,
                                              size_t *len_out);

/* ---- END (tor-spec §6.3) ----------------------------------------------- */

typedef enum end_reason_t {
  END_REASON_MISC = 1,
  END_REASON_RESOLVEFAILED = 2,
  END_REASON_CONNECTREFUSED = 3,
  END_REASON_EXITPOLICY = 4,
  END_REASON_DESTROY = 5,
  END_REASON_DONE = 6,
  END_REASON_TIMEOUT = 7,
  END_REASON_NOROUTE = 8,
  END_REASON_HIBERNATING = 9,
  END_REASON_INTERNAL = 10,
  END_REASON_RESOURCELIMIT = 11,
  END_REASON_CONNRESET = 12,
  END_REASON_TORPROTOCOL = 13,
  END_REASON_NOTDIRECTORY = 14,
} end_reason_t;

/** Return a static name for an END reason ("MISC", "EXITPOLICY", ... as
 * tor's control port spells them), or "UNKNOWN".  Never NULL.  Mapping
 * reasons to SOCKS replies is the SOCKS module's business. */
const char *end_reason_name(uint8_t reason);

typedef struct end_t {
  uint8_t reason;   /**< Any value; unknown reasons must be accepted. */
  uint8_t atype;    /**< EXITPOLICY only: RELAY_ATYPE_IPV4/_IPV6, or NONE */
  uint8_t addr[16];
  uint32_t ttl;     /**< RELAY_TTL_ABSENT when not given. */
} end_t;

/** Parse an END body.  Empty means END_REASON_MISC (§6.3 SHOULD).  For
 * EXITPOLICY, an address of 4 or 16 bytes with an optional 4-byte TTL is
 * read; other lengths are ignored ("processed anyway").  Never fails on
 * content; returns CHIVE_OK for every input. */
CHIVE_MUST_CHECK chive_err_t end_parse(const uint8_t *body, size_t len,
                                       end_t *out);
/** Encode an END body: the reason, plus address and TTL when the reason
 * is EXITPOLICY and atype is set.  CHIVE_ERR_INVAL for an unknown atype
 * with EXITPOLICY. */
CHIVE_MUST_CHECK chive_err_t end_encode(const end_t *e, uint8_t *out,
                                        size_t cap, size_t *len_out);

/* ---- SENDME (tor-spec §7.3.1, proposal 289) ---------------------------- */

typedef struct sendme_t {
  uint8_t version;                    /**< 0, 1, or an unknown value */
  uint8_t digest[SENDME_DIGEST_LEN];  /**< version 1 only; else zero */
} sendme_t;

/** Parse a SENDME body.  Empty means version 0 (a legacy or stream-level
 * SENDME).  Otherwise VERSION, DATA_LEN, DATA[DATA_LEN] must be present;
 * version 1 needs DATA_LEN >= 20 and takes the first 20 bytes as the
 * digest.  Unknown versions parse (the circuit code tears down the
 * circuit, §7.3.1).  CHIVE_ERR_PROTO for truncation or a short v1. */
CHIVE_MUST_CHECK chive_err_t sendme_parse(const uint8_t *body, size_t len,
                                          sendme_t *out);
/** Encode a circuit-level SENDME: version 0 as 00 00 00, version 1 as
 * 01 00 14 DIGEST.  CHIVE_ERR_INVAL for other versions. */
CHIVE_MUST_CHECK chive_err_t sendme_encode(const sendme_t *s, uint8_t *out,
                                           size_t cap, size_t *len_out);

/* ---- Link specifiers, EXTEND2, EXTENDED2 (tor-spec §5.1.2) ------------- */

typedef enum link_spec_type_t {
  LINK_SPEC_IPV4 = 0,       /**< IPv4 address + ORPort */
  LINK_SPEC_IPV6 = 1,       /**< IPv6 address + ORPort */
  LINK_SPEC_LEGACY_ID = 2,  /**< SHA-1 RSA identity fingerprint */
  LINK_SPEC_ED25519_ID = 3, /**< Ed25519 identity key */
} link_spec_type_t;

typedef struct link_spec_t {
  uint8_t type;       /**< link_spec_type_t or an unknown value */
  uint8_t len;        /**< LSLEN */
  uint8_t addr[16];   /**< IPV4 (first 4 bytes) / IPV6 */
  uint16_t port;      /**< IPV4 / IPV6 */
  uint8_t id[32];     /**< LEGACY_ID (first 20 bytes) / ED25519_ID */
  const uint8_t *raw; /**< Borrowed LSPEC bytes; the only content of an
                       * unknown type (encoders use it for those). */
} link_spec_t;

/** Fill *<b>ls</b> as an IPv4/IPv6/legacy/Ed25519 specifier. */
void link_spec_set_ipv4(link_spec_t *ls, const uint8_t addr[4],
                        uint16_t port);
void link_spec_set_ipv6(link_spec_t *ls, const uint8_t addr[16],
                        uint16_t port);
void link_spec_set_legacy_id(link_spec_t *ls,
                             const uint8_t id[LINK_SPEC_LEGACY_ID_LEN]);
void link_spec_set_ed25519_id(link_spec_t *ls,
                              const uint8_t id[LINK_SPEC_ED25519_ID_LEN]);

typedef struct extend2_t {
  uint8_t n_specs;
  link_spec_t specs[EXTEND2_MAX_LINK_SPECS];
  create2_t create; /**< HTYPE, HLEN, HDATA (borrowed) */
} extend2_t;

/** Parse an EXTEND2 body.  Unknown link specifier types are kept (raw
 * view); known ones must have their exact length; more than one legacy
 * or Ed25519 identity is rejected (§5.1.2 SHOULD).  Bytes after HDATA are
 * ignored.  CHIVE_ERR_PROTO for bad format, CHIVE_ERR_LIMIT for NSPEC >
 * EXTEND2_MAX_LINK_SPECS. */
CHIVE_MUST_CHECK chive_err_t extend2_parse(const uint8_t *body, size_t len,
                                           extend2_t *out);
/** Encode an EXTEND2 body, specifiers in the order given (tor-spec
 * suggests [00], [02], [03], [01]).  CHIVE_ERR_INVAL for too many
 * specifiers, an unknown type without raw bytes, or bad handshake data;
 * CHIVE_ERR_LIMIT if it does not fit <b>cap</b>. */
CHIVE_MUST_CHECK chive_err_t extend2_encode(const extend2_t *e, uint8_t *out,
                                            size_t cap, size_t *len_out);
/** Return the first specifier of <b>type</b> in <b>e</b>, or NULL. */
const link_spec_t *extend2_find_spec(const extend2_t *e, uint8_t type);

/** Parse an EXTENDED2 body (same as CREATED2, tor-spec §5.1.2).
 * CHIVE_ERR_PROTO if HDATA runs past the body or HLEN >
 * EXTENDED2_MAX_HLEN.  Trailing bytes are ignored. */
CHIVE_MUST_CHECK chive_err_t extended2_parse(const uint8_t *body, size_t len,
                                             created2_t *out);
/** Encode an EXTENDED2 body.  CHIVE_ERR_INVAL if hlen >
 * EXTENDED2_MAX_HLEN. */
CHIVE_MUST_CHECK chive_err_t extended2_encode(const created2_t *c,
                                              uint8_t *out, size_t cap,
                                              size_t *len_out);

/* ---- TRUNCATED (tor-spec §5.4) ----------------------------------------- */

/** Parse a TRUNCATED body: a destroy_reason_t octet.  An empty body reads
 * as DESTROY_REASON_NONE.  Never fails. */
CHIVE_MUST_CHECK chive_err_t truncated_parse(const uint8_t *body, size_t len,
                                             uint8_t *reason_out);
CHIVE_MUST_CHECK chive_err_t truncated_encode(uint8_t reason, uint8_t *out,
                                              size_t cap, size_t *len_out);

/* ---- RESOLVE / RESOLVED (tor-spec §6.4) -------------------------------- */

typedef struct resolve_t {
  char name[RELAY_MAX_HOSTNAME_LEN + 1]; /**< NUL-terminated, lower case */
} resolve_t;

/** Parse a RESOLVE body: a hostname (or in-addr.arpa / ip6.arpa name)
 * terminated by NUL; bytes after the NUL are ignored.  CHIVE_ERR_PROTO
 * for no NUL, an empty or over-long name, or bad characters. */
CHIVE_MUST_CHECK chive_err_t resolve_parse(const uint8_t *body, size_t len,
                                           resolve_t *out);
/** Encode <b>name</b> + NUL.  CHIVE_ERR_INVAL for an invalid name. */
CHIVE_MUST_CHECK chive_err_t resolve_encode(const char *name, uint8_t *out,
                                            size_t cap, size_t *len_out);
/** Write the reverse-lookup name for an address into <b>out</b>:
 * "d.c.b.a.in-addr.arpa" for RELAY_ATYPE_IPV4, the 32 reversed nibbles +
 * "ip6.arpa" for RELAY_ATYPE_IPV6.  CHIVE_ERR_INVAL for another atype,
 * CHIVE_ERR_LIMIT if <b>cap</b> is too small (74 bytes always do). */
CHIVE_MUST_CHECK chive_err_t resolve_ptr_name(uint8_t atype,
                                              const uint8_t *addr, char *out,
                                              size_t cap);

#define RESOLVED_TYPE_HOSTNAME 0x00
#define RESOLVED_TYPE_IPV4 0x04
#define RESOLVED_TYPE_IPV6 0x06
#define RESOLVED_TYPE_ERROR_TRANSIENT 0xF0
#define RESOLVED_TYPE_ERROR_NONTRANSIENT 0xF1

typedef struct resolved_answer_t {
  uint8_t type;          /**< RESOLVED_TYPE_* or unknown (kept) */
  uint8_t len;           /**< Length of value */
  const uint8_t *value;  /**< Borrowed; for errors, ignore its content */
  uint32_t ttl;
} resolved_answer_t;

typedef struct resolved_t {
  uint8_t n_answers;
  resolved_answer_t answers[RESOLVED_MAX_ANSWERS];
} resolved_t;

/** Parse a RESOLVED body: answers to the end of the body.
 * CHIVE_ERR_PROTO for a truncated answer or an IPv4/IPv6 answer of the
 * wrong length; CHIVE_ERR_LIMIT for more than RESOLVED_MAX_ANSWERS.
 * Unknown answer types are kept.  The rule "an error answer comes
 * alone" is left to the caller. */
CHIVE_MUST_CHECK chive_err_t resolved_parse(const uint8_t *body, size_t len,
                                            resolved_t *out);
/** Encode a RESOLVED body.  CHIVE_ERR_INVAL for too many answers, a NULL
 * value with a length, or an IPv4/IPv6 answer of the wrong length. */
CHIVE_MUST_CHECK chive_err_t resolved_encode(const resolved_t *r,
                                             uint8_t *out, size_t cap,
                                             size_t *len_out);

#endif /* !defined(CHIVE_CORE_PROTO_RELAY_MSG_H) */
