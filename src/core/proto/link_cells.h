/**
 * @file link_cells.h
 * @brief Codecs for the link-handshake cell bodies: VERSIONS (tor-spec
 * §4.1), CERTS (§4.2), AUTH_CHALLENGE (§4.3), NETINFO (§4.5) and
 * PADDING_NEGOTIATE (§7.2, padding-spec §2.5).
 *
 * Pure: no I/O, no allocation, no logging.  Parsers take the cell body
 * (var-cell body, or the 509-byte fixed payload) and fill a caller-owned
 * struct; fields documented as "borrowed" point into that body.  On
 * failure the output struct is left untouched.  Encoders write a body into
 * a caller buffer, set *len_out, and return CHIVE_ERR_LIMIT if it does
 * not fit.
 **/
#ifndef CHIVE_CORE_PROTO_LINK_CELLS_H
#define CHIVE_CORE_PROTO_LINK_CELLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/proto/proto_limits.h"
#include "lib/err/err.h"

/* ---- VERSIONS ---------------------------------------------------------- */

/** A parsed VERSIONS body, in wire order. */
typedef struct versions_t {
  uint16_t n_versions;
  uint16_t versions[VERSIONS_MAX_LISTED];
} versions_t;

/** Parse a VERSIONS body.  CHIVE_ERR_PROTO if its length is odd (tor-spec
 * §4.1 "not well-formed"); CHIVE_ERR_LIMIT if it lists more than
 * VERSIONS_MAX_LISTED versions.  An empty list parses (and will have no
 * version in common). */
CHIVE_MUST_CHECK chive_err_t versions_parse(const uint8_t *body, size_t len,
                                            versions_t *out);

/** Choose the link protocol: the highest version listed both in the
 * VERSIONS body <b>body</b> and in <b>ours</b> (tor-spec §4.1).  Streams
 * over the body, so no count limit applies.  CHIVE_ERR_PROTO if the body
 * length is odd, CHIVE_ERR_NOTFOUND if there is no common version. */
CHIVE_MUST_CHECK chive_err_t versions_choose(const uint8_t *body, size_t len,
                                             const uint16_t *ours,
                                             size_t n_ours,
                                             uint16_t *chosen_out);

/** Encode the <b>n</b> versions at <b>v</b> as a VERSIONS body. */
CHIVE_MUST_CHECK chive_err_t versions_encode(const uint16_t *v, size_t n,
                                             uint8_t *out, size_t cap,
                                             size_t *len_out);

/* ---- CERTS ------------------------------------------------------------- */

/** CertType values (tor-spec §4.2). */
typedef enum certs_cell_type_t {
  CERTTYPE_RSA1024_LINK = 1,    /**< X.509 link key, signed by RSA id. */
  CERTTYPE_RSA1024_ID = 2,      /**< X.509 self-signed RSA identity. */
  CERTTYPE_RSA1024_AUTH = 3,    /**< X.509 AUTHENTICATE link cert. */
  CERTTYPE_ED_ID_SIGN = 4,      /**< Ed25519 identity -> signing key. */
  CERTTYPE_ED_SIGN_LINK = 5,    /**< Ed25519 signing key -> TLS link. */
  CERTTYPE_ED_SIGN_AUTH = 6,    /**< Ed25519 signing key -> AUTHENTICATE. */
  CERTTYPE_RSA_ED_CROSSCERT = 7 /**< RSA identity -> Ed25519 identity. */
} certs_cell_type_t;

/** One certificate: type and a borrowed view of its bytes. */
typedef struct certs_cell_cert_t {
  uint8_t type;        /**< Any value; unknown types are kept. */
  uint16_t len;        /**< CLEN. */
  const uint8_t *body; /**< Borrowed from the parsed body. */
} certs_cell_cert_t;

/** A parsed CERTS body. */
typedef struct certs_cell_t {
  uint8_t n_certs;
  certs_cell_cert_t certs[CERTS_CELL_MAX_CERTS];
} certs_cell_t;

/** Parse a CERTS body.  Extra octets after the last certificate are
 * ignored (tor-spec §4.2).  CHIVE_ERR_PROTO if truncated;
 * CHIVE_ERR_LIMIT if the body is longer than CERTS_CELL_MAX_BODY_LEN or
 * N > CERTS_CELL_MAX_CERTS.  Duplicates are NOT rejected here: the
 * verifier decides, using certs_cell_count_type(). */
CHIVE_MUST_CHECK chive_err_t certs_cell_parse(const uint8_t *body,
                                              size_t len, certs_cell_t *out);

/** Encode <b>cc</b> as a CERTS body. CHIVE_ERR_INVAL if n_certs is over
 * the limit or a cert has a NULL body with a nonzero length. */
CHIVE_MUST_CHECK chive_err_t certs_cell_encode(const certs_cell_t *cc,
                                               uint8_t *out, size_t cap,
                                               size_t *len_out);

/** Return the first certificate of type <b>type</b> in <b>cc</b>, or
 * NULL. */
const certs_cell_cert_t *certs_cell_find(const certs_cell_t *cc,
                                         uint8_t type);

/** Return how many certificates of type <b>type</b> <b>cc</b> holds
 * ("exactly one" checks of tor-spec §4.2 compare this with 1). */
unsigned certs_cell_count_type(const certs_cell_t *cc, uint8_t type);

/** Return true iff some type appears more than once in <b>cc</b>
 * (tor-spec §4.2: "no more than one certificate of each CertType"). */
bool certs_cell_has_duplicates(const certs_cell_t *cc);

/* ---- AUTH_CHALLENGE ---------------------------------------------------- */

/** AuthType values (tor-spec §4.4). */
#define AUTHTYPE_RSA_SHA256_TLSSECRET 1
#define AUTHTYPE_ED25519_SHA256_RFC5705 3

typedef struct auth_challenge_t {
  uint8_t challenge[AUTH_CHALLENGE_LEN];
  uint16_t n_methods;
  uint16_t methods[AUTH_CHALLENGE_MAX_METHODS];
} auth_challenge_t;

/** Parse an AUTH_CHALLENGE body; trailing bytes are ignored (tor-spec
 * §4.3).  CHIVE_ERR_PROTO if truncated, CHIVE_ERR_LIMIT if N_Methods >
 * AUTH_CHALLENGE_MAX_METHODS. */
CHIVE_MUST_CHECK chive_err_t auth_challenge_parse(const uint8_t *body,
                                                  size_t len,
                                                  auth_challenge_t *out);

/** Encode an AUTH_CHALLENGE body.  CHIVE_ERR_INVAL if n_methods is over
 * the limit. */
CHIVE_MUST_CHECK chive_err_t auth_challenge_encode(const auth_challenge_t *ac,
                                                   uint8_t *out, size_t cap,
                                                   size_t *len_out);

/** Return true iff <b>ac</b> offers <b>method</b>. */
bool auth_challenge_has_method(const auth_challenge_t *ac, uint16_t method);

/* ---- NETINFO ----------------------------------------------------------- */

#define NETINFO_ATYPE_IPV4 0x04
#define NETINFO_ATYPE_IPV6 0x06

/** One address.  atype is 0 when the peer sent a type we do not know or
 * an ALEN that is wrong for the type: tor-spec §4.5 says to ignore it. */
typedef struct netinfo_addr_t {
  uint8_t atype;    /**< NETINFO_ATYPE_IPV4, _IPV6, or 0 (ignored). */
  uint8_t addr[16]; /**< Network order; IPv4 uses the first 4 bytes. */
} netinfo_addr_t;

typedef struct netinfo_t {
  uint32_t timestamp;       /**< Seconds since the epoch; clients send 0. */
  netinfo_addr_t other_addr;
  uint8_t n_my_addrs;       /**< Addresses kept (known types only). */
  netinfo_addr_t my_addrs[NETINFO_MAX_MY_ADDRS];
} netinfo_t;

/** Parse a NETINFO body (tor-spec §4.5).  Trailing bytes are ignored.
 * Addresses of unknown type or wrong length are ignored (other_addr gets
 * atype 0; they are not added to my_addrs); my_addrs beyond
 * NETINFO_MAX_MY_ADDRS are validated and dropped.  CHIVE_ERR_PROTO if
 * truncated. */
CHIVE_MUST_CHECK chive_err_t netinfo_parse(const uint8_t *body, size_t len,
                                           netinfo_t *out);

/** Encode a NETINFO body.  An other_addr with atype 0 ("unknown") is
 * written as type 0, length 0, which the peer ignores.  CHIVE_ERR_INVAL
 * if a my_addrs entry is not IPv4/IPv6, other_addr has another unknown
 * type, or n_my_addrs is over the limit. */
CHIVE_MUST_CHECK chive_err_t netinfo_encode(const netinfo_t *ni,
                                            uint8_t *out, size_t cap,
                                            size_t *len_out);

/* ---- PADDING_NEGOTIATE ------------------------------------------------- */

/** Commands of a version-0 PADDING_NEGOTIATE (tor-spec §7.2). */
#define PADDING_NEGOTIATE_STOP 1
#define PADDING_NEGOTIATE_START 2

typedef struct padding_negotiate_t {
  uint8_t version;      /**< Only 0 is defined. */
  uint8_t command;      /**< PADDING_NEGOTIATE_STOP or _START. */
  uint16_t ito_low_ms;  /**< 0 with START: "use consensus values". */
  uint16_t ito_high_ms;
} padding_negotiate_t;

/** Parse a PADDING_NEGOTIATE payload.  CHIVE_ERR_PROTO if shorter than
 * PADDING_NEGOTIATE_LEN.  Unknown versions and commands are returned
 * as-is: the channel decides (a client closes the channel on any
 * PADDING_NEGOTIATE from a relay, padding-spec §2.5). */
CHIVE_MUST_CHECK chive_err_t padding_negotiate_parse(const uint8_t *body,
                                                     size_t len,
                                                     padding_negotiate_t *out);

/** Encode a PADDING_NEGOTIATE body (PADDING_NEGOTIATE_LEN bytes). */
CHIVE_MUST_CHECK chive_err_t padding_negotiate_encode(
    const padding_negotiate_t *pn, uint8_t *out, size_t cap,
    size_t *len_out);

#endif /* !defined(CHIVE_CORE_PROTO_LINK_CELLS_H) */
