/**
 * @file proto_limits.h
 * @brief Every wire size and every parser limit of core/proto, in one
 * place.
 *
 * Two kinds of constants live here:
 *   - wire sizes fixed by tor-spec (the section is cited next to each);
 *   - policy limits that chive applies to counts the format would allow
 *     to be larger.  These are named *_MAX_* and documented as policy.
 *     A parser that meets an input over a policy limit returns
 *     CHIVE_ERR_LIMIT; an input that breaks the format returns
 *     CHIVE_ERR_PROTO.
 * All sizes are in bytes unless the name says otherwise.
 **/
#ifndef CHIVE_CORE_PROTO_PROTO_LIMITS_H
#define CHIVE_CORE_PROTO_PROTO_LIMITS_H

/* ---- Link protocol versions (tor-spec §4.1) ---------------------------- */

/** Lowest link protocol chive speaks: the in-protocol handshake. */
#define LINK_PROTO_MIN 3
/** Highest link protocol chive speaks (v5: padding negotiation). */
#define LINK_PROTO_MAX 5
/** First link protocol with 4-byte circuit IDs (tor-spec §3, §5.1.1). */
#define LINK_PROTO_WIDE_CIRCID 4
/** "Not negotiated yet": cells before and including the first VERSIONS
 * cell use 2-byte circuit IDs (tor-spec §3). */
#define LINK_PROTO_UNKNOWN 0

/* ---- Cell framing (tor-spec §3) ---------------------------------------- */

/** CIRCID_LEN for link protocols <= 3 and for VERSIONS. */
#define CIRCID_LEN_NARROW 2
/** CIRCID_LEN for link protocol >= 4. */
#define CIRCID_LEN_WIDE 4
/** Command field of every cell. */
#define CELL_COMMAND_LEN 1
/** PAYLOAD_LEN: fixed-length cell payload. */
#define CELL_PAYLOAD_LEN 509
/** Whole fixed-length cell on the wire with 4-byte circuit IDs. */
#define CELL_MAX_NETWORK_SIZE (CIRCID_LEN_WIDE + CELL_COMMAND_LEN + \
                               CELL_PAYLOAD_LEN) /* 514 */
/** Whole fixed-length cell on the wire with 2-byte circuit IDs. */
#define CELL_NARROW_NETWORK_SIZE (CIRCID_LEN_NARROW + CELL_COMMAND_LEN + \
                                  CELL_PAYLOAD_LEN) /* 512 */
/** Length field of a variable-length cell. */
#define VAR_CELL_LENGTH_LEN 2
/** Largest var-cell header: 4-byte circ id, command, 2-byte length. */
#define VAR_CELL_MAX_HEADER_SIZE (CIRCID_LEN_WIDE + CELL_COMMAND_LEN + \
                                  VAR_CELL_LENGTH_LEN) /* 7 */
/** Largest var-cell body the format can express (u16 length). */
#define VAR_CELL_MAX_BODY_LEN 65535

/* ---- VERSIONS (tor-spec §4.1) ------------------------------------------ */

/** Each version is a big-endian u16. */
#define VERSIONS_ENTRY_LEN 2
/** Policy: most versions versions_parse() stores.  The streaming
 * versions_choose() has no such limit. */
#define VERSIONS_MAX_LISTED 32

/* ---- CERTS (tor-spec §4.2) --------------------------------------------- */

/** Policy: most certificates we accept in one CERTS cell.  Seven types are
 * defined and each may appear once; the rest is room for new types. */
#define CERTS_CELL_MAX_CERTS 16
/** Policy: largest CERTS cell body we accept.  Real ones are ~2 KB. */
#define CERTS_CELL_MAX_BODY_LEN 16384

/* ---- AUTH_CHALLENGE (tor-spec §4.3) ------------------------------------ */

/** Challenge field. */
#define AUTH_CHALLENGE_LEN 32
/** Policy: most methods we accept (two are defined). */
#define AUTH_CHALLENGE_MAX_METHODS 32

/* ---- NETINFO (tor-spec §4.5) ------------------------------------------- */

/** ALEN for ATYPE 0x04. */
#define NETINFO_IPV4_LEN 4
/** ALEN for ATYPE 0x06. */
#define NETINFO_IPV6_LEN 16
/** Policy: most of the peer's own addresses we keep; extras are
 * validated and dropped. */
#define NETINFO_MAX_MY_ADDRS 8

/* ---- PADDING_NEGOTIATE (tor-spec §7.2, padding-spec §2.5) -------------- */

/** version, command, ito_low_ms, ito_high_ms. */
#define PADDING_NEGOTIATE_LEN 6

/* ---- Circuit handshakes (tor-spec §5.1) -------------------------------- */

/** HASH_LEN: SHA-1 output (tor-spec §0.2). */
#define HASH_LEN 20
/** CREATE_FAST body: X. */
#define CREATE_FAST_LEN HASH_LEN
/** CREATED_FAST body: Y then KH. */
#define CREATED_FAST_LEN (2 * HASH_LEN)
/** CREATE2 header: HTYPE, HLEN. */
#define CREATE2_HEADER_LEN 4
/** Largest HDATA of a CREATE2 cell. */
#define CREATE2_MAX_HLEN (CELL_PAYLOAD_LEN - CREATE2_HEADER_LEN) /* 505 */
/** CREATED2 header: HLEN. */
#define CREATED2_HEADER_LEN 2
/** Largest HDATA of a CREATED2 cell. */
#define CREATED2_MAX_HLEN (CELL_PAYLOAD_LEN - CREATED2_HEADER_LEN) /* 507 */
/** DESTROY body: the reason octet (tor-spec §5.4). */
#define DESTROY_BODY_LEN 1

/* ---- Relay cells (tor-spec §6.1) --------------------------------------- */

/** command(1) recognized(2) stream id(2) digest(4) length(2). */
#define RELAY_HEADER_LEN 11
/** Offsets of the relay header fields inside a cell payload. */
#define RELAY_OFFSET_COMMAND 0
#define RELAY_OFFSET_RECOGNIZED 1
#define RELAY_OFFSET_STREAM_ID 3
#define RELAY_OFFSET_DIGEST 5
#define RELAY_OFFSET_LENGTH 9
/** Digest field. */
#define RELAY_DIGEST_LEN 4
/** RELAY_PAYLOAD_LEN: most data one relay cell carries. */
#define RELAY_PAYLOAD_LEN (CELL_PAYLOAD_LEN - RELAY_HEADER_LEN) /* 498 */
/** Padding starts with this many zero bytes, then random ones. */
#define RELAY_PADDING_ZERO_PREFIX_LEN 4

/* ---- Relay message bodies (tor-spec §5.1.2, §6) ------------------------ */

/** Longest hostname (DNS limit) in BEGIN or RESOLVE. */
#define RELAY_MAX_HOSTNAME_LEN 255
/** Longest ADDRPORT string: "[" IPv6 "]" or hostname, ':' , 5 digits. */
#define BEGIN_MAX_ADDRPORT_LEN (RELAY_MAX_HOSTNAME_LEN + 1 + 5)
/** BEGIN FLAGS field (tor-spec §6.2). */
#define BEGIN_FLAGS_LEN 4
/** CONNECTED with IPv4: address + TTL. */
#define CONNECTED_IPV4_LEN 8
/** CONNECTED with IPv6: zeros(4) + type(1) + address(16) + TTL(4). */
#define CONNECTED_IPV6_LEN 25
/** TTL meaning "absent" in END (tor-spec §6.3). */
#define RELAY_TTL_ABSENT 0xffffffffu
/** SENDME header: VERSION, DATA_LEN (tor-spec §7.3.1). */
#define SENDME_HEADER_LEN 3
/** SENDME v1 digest (proposal 289). */
#define SENDME_DIGEST_LEN 20
/** Link specifier header: LSTYPE, LSLEN (tor-spec §5.1.2). */
#define LINK_SPEC_HEADER_LEN 2
/** LSLEN of the recognised link specifier types. */
#define LINK_SPEC_IPV4_LEN 6
#define LINK_SPEC_IPV6_LEN 18
#define LINK_SPEC_LEGACY_ID_LEN 20
#define LINK_SPEC_ED25519_ID_LEN 32
/** Longest link specifier body (LSLEN is one octet). */
#define LINK_SPEC_MAX_LEN 255
/** Policy: most link specifiers we accept in EXTEND2.  Tor sends four. */
#define EXTEND2_MAX_LINK_SPECS 8
/** EXTENDED2 carries HLEN then HDATA inside one relay body. */
#define EXTENDED2_MAX_HLEN (RELAY_PAYLOAD_LEN - CREATED2_HEADER_LEN) /* 496 */
/** RESOLVED answer header+trailer: type(1) len(1) ... TTL(4). */
#define RESOLVED_ANSWER_OVERHEAD 6
/** Policy: most answers we accept in one RESOLVED cell. */
#define RESOLVED_MAX_ANSWERS 16

#endif /* !defined(CHIVE_CORE_PROTO_PROTO_LIMITS_H) */
