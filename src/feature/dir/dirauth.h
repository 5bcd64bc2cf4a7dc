/**
 * @file dirauth.h
 * @brief Directory servers the client trusts or asks: the built-in
 * directory authorities of the live network, and DirAuthority /
 * FallbackDir configuration lines (tor's torrc formats).
 **/
#ifndef CHIVE_FEATURE_DIR_DIRAUTH_H
#define CHIVE_FEATURE_DIR_DIRAUTH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"

#define DIR_SERVER_NICKNAME_MAX_LEN 19
/** Longest DirAuthority/FallbackDir line accepted. */
#define DIR_SERVER_LINE_MAX_LEN 1024
/** Most directory authorities a client may be configured with. */
#define DIR_MAX_AUTHORITIES 32

typedef struct dir_server_t {
  char nickname[DIR_SERVER_NICKNAME_MAX_LEN + 1]; /**< "" if none */
  net_addrport_t dir_addr;   /**< IPv4 address and DirPort (0 = none) */
  uint16_t or_port;          /**< ORPort on the same IPv4 address */
  bool has_ipv6;
  net_addrport_t ipv6_or;    /**< "ipv6=[addr]:orport" if has_ipv6 */
  uint8_t rsa_id[20];        /**< relay identity fingerprint */
  bool has_v3ident;
  uint8_t v3ident[20];       /**< authority v3 identity (signing) key fp */
  bool is_authority;         /**< DirAuthority (vs FallbackDir) */
  double weight;             /**< selection weight, default 1.0 */
} dir_server_t;

/** Parse the value of a "DirAuthority" option (tor-manual format):
 *   [nickname] [flags] address:dirport fingerprint
 * with flags orport=N, v3ident=HEX40, ipv6=[addr]:port, weight=N, no-v2,
 * v1, hs, bridge (the last four are accepted and ignored).  The
 * fingerprint is 40 hex digits, possibly in space-separated groups.
 * A usable authority for a client needs orport= and v3ident=.
 * CHIVE_ERR_INVAL with a reason in <b>why</b> on failure. */
CHIVE_MUST_CHECK chive_err_t dir_server_parse_authority(const char *line,
                                                        dir_server_t *out,
                                                        const char **why);

/** Parse the value of a "FallbackDir" option:
 *   address[:dirport] orport=N id=HEX40 [weight=N] [ipv6=[addr]:port]
 * (current fallbacks have no DirPort; they answer over BEGIN_DIR). */
CHIVE_MUST_CHECK chive_err_t dir_server_parse_fallback(const char *line,
                                                       dir_server_t *out,
                                                       const char **why);

/** Number of built-in authorities of the live Tor network. */
#define DIR_N_DEFAULT_AUTHORITIES 9
/** Write up to <b>max</b> built-in authorities of the live Tor network
 * into <b>out</b>; return how many were written. */
size_t dir_default_authorities(dir_server_t *out, size_t max);

/** Most fallback directories a client may be configured with. */
#define DIR_MAX_FALLBACKS 256
/** Write up to <b>max</b> built-in fallback directories into <b>out</b>;
 * return how many were written. */
size_t dir_default_fallbacks(dir_server_t *out, size_t max);

#endif /* !defined(CHIVE_FEATURE_DIR_DIRAUTH_H) */
