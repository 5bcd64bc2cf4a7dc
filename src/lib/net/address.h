/**
 * @file address.h
 * @brief IPv4/IPv6 addresses and address:port pairs: parse, format,
 * compare, classify, and convert to/from struct sockaddr.
 *
 * Values are small fixed-size structs (no interior pointers) that callers
 * copy freely.  Parsing takes text that may come from a config file or a
 * peer; it is bounded and never trusts a trailing NUL beyond the length
 * it is given.  Nothing here does I/O or logs.
 **/
#ifndef CHIVE_LIB_NET_ADDRESS_H
#define CHIVE_LIB_NET_ADDRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

struct sockaddr;

/** Address family of a net_addr_t. */
typedef enum net_family_t {
  NET_AF_UNSPEC = 0, /**< no address (zero-initialised) */
  NET_AF_INET = 4,   /**< IPv4: the first 4 bytes of ip[] are used */
  NET_AF_INET6 = 6,  /**< IPv6: all 16 bytes */
} net_family_t;

/** An IP address, in network byte order. */
typedef struct net_addr_t {
  net_family_t family;
  uint8_t ip[16];
} net_addr_t;

/** An IP address and a TCP port (host byte order). */
typedef struct net_addrport_t {
  net_addr_t addr;
  uint16_t port;
} net_addrport_t;

/** Longest text form of an address, including the NUL
 * ("ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is 45 chars). */
#define NET_ADDR_STR_LEN 46
/** Longest text form of address:port ("[" addr "]:" 65535), with NUL. */
#define NET_ADDRPORT_STR_LEN (NET_ADDR_STR_LEN + 8)
/** Longest text we accept as an address:port (anything longer is
 * rejected before parsing). */
#define NET_ADDR_PARSE_MAX_LEN 64

/** Set *<b>out</b> to the IPv4 address <b>ipv4_hostorder</b>. */
void net_addr_from_ipv4(net_addr_t *out, uint32_t ipv4_hostorder);
/** Return the IPv4 address in host order (0 unless family is INET). */
uint32_t net_addr_ipv4(const net_addr_t *a);
/** Set *<b>out</b> to the IPv6 address at <b>ip16</b>. */
void net_addr_from_ipv6(net_addr_t *out, const uint8_t ip16[16]);

/** Parse an IP address: "1.2.3.4", "::1" or "[::1]".  <b>s</b> is
 * <b>len</b> bytes of text (no NUL needed).  On success write *<b>out</b>
 * and return CHIVE_OK; otherwise CHIVE_ERR_INVAL and *out is untouched. */
CHIVE_MUST_CHECK chive_err_t net_addr_parse(const char *s, size_t len,
                                            net_addr_t *out);
/** Parse "1.2.3.4:9001" or "[::1]:9001" (port required, 1..65535).
 * Same contract as net_addr_parse(). */
CHIVE_MUST_CHECK chive_err_t net_addrport_parse(const char *s, size_t len,
                                                net_addrport_t *out);
/** Convenience: parse a NUL-terminated string with net_addrport_parse. */
CHIVE_MUST_CHECK chive_err_t net_addrport_parse_str(const char *s,
                                                    net_addrport_t *out);

/** Write the text form of <b>a</b> ("1.2.3.4" or "::1", no brackets)
 * into <b>buf</b> (at least NET_ADDR_STR_LEN bytes recommended; always
 * NUL-terminated when <b>buf_len</b> > 0).  An UNSPEC address formats as
 * "?".  Returns <b>buf</b>. */
char *net_addr_format(const net_addr_t *a, char *buf, size_t buf_len);
/** Write "1.2.3.4:9001" or "[::1]:9001" into <b>buf</b>.  Returns
 * <b>buf</b>. */
char *net_addrport_format(const net_addrport_t *ap, char *buf,
                          size_t buf_len);

/** Return true iff <b>a</b> and <b>b</b> are the same address. */
bool net_addr_eq(const net_addr_t *a, const net_addr_t *b);
/** Return true iff same address and port. */
bool net_addrport_eq(const net_addrport_t *a, const net_addrport_t *b);

/** Return true iff <b>a</b> is a loopback address (127/8, ::1, or
 * ::ffff:127.x.y.z). */
bool net_addr_is_loopback(const net_addr_t *a);
/** Return true iff <b>a</b> is not a public unicast address: unspecified,
 * loopback, RFC 1918 private, link-local, CGNAT 100.64/10, 0/8,
 * multicast/broadcast/reserved 224/3, IPv6 ULA fc00::/7, fe80::/10,
 * multicast ff00::/8, and IPv4-mapped forms of these. */
bool net_addr_is_internal(const net_addr_t *a);

/** Fill <b>ss</b> (a struct sockaddr_storage, <b>ss_len</b> bytes) from
 * <b>ap</b>; write the used length to *<b>len_out</b>.  Returns
 * CHIVE_ERR_INVAL for an UNSPEC address or a short buffer. */
CHIVE_MUST_CHECK chive_err_t net_addrport_to_sockaddr(
    const net_addrport_t *ap, struct sockaddr *ss, size_t ss_len,
    size_t *len_out);
/** Parse a sockaddr (AF_INET / AF_INET6) of <b>len</b> bytes. */
CHIVE_MUST_CHECK chive_err_t net_addrport_from_sockaddr(
    const struct sockaddr *sa, size_t len, net_addrport_t *out);

#endif /* !defined(CHIVE_LIB_NET_ADDRESS_H) */
