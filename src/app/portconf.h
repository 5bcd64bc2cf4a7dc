/**
 * @file portconf.h
 * @brief Parse listener lines (SocksPort, HTTPTunnelPort; tor(1) "SocksPort
 * [address:]port|unix:path|auto [flags] [isolation flags]").
 *
 * Pure: no I/O, no allocation, no logging; bounded by PORTCONF_MAX_LEN.
 * Unix-socket listeners are refused here (not supported yet) with a
 * clear reason, as are unknown flags: a typo must not silently weaken
 * isolation.
 **/
#ifndef CHIVE_APP_PORTCONF_H
#define CHIVE_APP_PORTCONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"

/** Longest listener line we parse, bytes. */
#define PORTCONF_MAX_LEN 1024

/** Isolation flags (tor(1) "SocksPort" isolation flags). */
#define PORTCONF_ISO_CLIENT_ADDR 0x01u  /**< IsolateClientAddr (default) */
#define PORTCONF_ISO_SOCKS_AUTH 0x02u   /**< IsolateSOCKSAuth (default) */
#define PORTCONF_ISO_CLIENT_PROTO 0x04u /**< IsolateClientProtocol */
#define PORTCONF_ISO_DEST_PORT 0x08u    /**< IsolateDestPort */
#define PORTCONF_ISO_DEST_ADDR 0x10u    /**< IsolateDestAddr */
/** tor's defaults: IsolateClientAddr and IsolateSOCKSAuth. */
#define PORTCONF_ISO_DEFAULT \
  (PORTCONF_ISO_CLIENT_ADDR | PORTCONF_ISO_SOCKS_AUTH)

/** Other flags. */
#define PORTCONF_F_EXTENDED_ERRORS 0x01u /**< ExtendedErrors */
#define PORTCONF_F_NO_ONION 0x02u        /**< NoOnionTraffic */
#define PORTCONF_F_ONION_ONLY 0x04u      /**< OnionTrafficOnly */
#define PORTCONF_F_NO_IPV4 0x08u         /**< NoIPv4Traffic */
#define PORTCONF_F_IPV6 0x10u            /**< IPv6Traffic */
#define PORTCONF_F_PREFER_IPV6 0x20u     /**< PreferIPv6 */

/** One parsed listener line. */
typedef struct portconf_t {
  bool disabled;         /**< "0": no listener */
  bool auto_port;        /**< "auto": the OS picks the port */
  net_addrport_t addr;   /**< where to listen (port 0 with auto_port) */
  unsigned iso;          /**< PORTCONF_ISO_* */
  unsigned flags;        /**< PORTCONF_F_* */
  int32_t session_group; /**< SessionGroup=N, or -1 (own group) */
} portconf_t;

/** Parse <b>line</b> (<b>len</b> bytes) for a listener whose default
 * address is 127.0.0.1.  On success fill *<b>out</b>; otherwise set
 * *<b>why</b> to a static reason and return CHIVE_ERR_INVAL (or
 * CHIVE_ERR_LIMIT for an over-long line). */
CHIVE_MUST_CHECK chive_err_t portconf_parse(const char *line, size_t len,
                                            portconf_t *out,
                                            const char **why);

#endif /* !defined(CHIVE_APP_PORTCONF_H) */
