/**
 * @file metrics_port.h
 * @brief Parse a MetricsPort option value (tor(1): "MetricsPort
 * [address:]port [format]").
 *
 * Grammar (words separated by spaces or tabs):
 *
 *     value  = where *( 1*WSP flag )
 *     where  = "0" / port / "auto" / addr ":" port / addr ":auto"
 *     addr   = IPv4 / "[" IPv6 "]"
 *     flag   = "prometheus"           ; the only format; case-insensitive
 *
 * "0" disables the listener; a bare port or "auto" listens on 127.0.0.1
 * (tor's default MetricsPort address); "auto" asks the OS for a free
 * port.  Whether a non-loopback address may be used is decided later,
 * against MetricsPortPolicy (metrics_policy_allows_listen()).
 *
 * The parser is pure: no I/O, no allocation, no logging.
 **/
#ifndef CHIVE_FEATURE_METRICS_METRICS_PORT_H
#define CHIVE_FEATURE_METRICS_METRICS_PORT_H

#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"

/** Longest MetricsPort value metrics_port_parse() accepts, in bytes. */
#define METRICS_PORT_LINE_MAX_LEN 256

/** One parsed MetricsPort value. */
typedef struct metrics_port_t {
  bool disabled;       /**< "0": no listener */
  net_addrport_t addr; /**< where to listen; port 0 means "auto" */
} metrics_port_t;

/** Parse the <b>len</b> bytes at <b>s</b> (no NUL needed).  On success
 * fill *<b>out</b>; otherwise leave it untouched, set *<b>why</b> (may be
 * NULL) to a static reason and return CHIVE_ERR_INVAL (or
 * CHIVE_ERR_LIMIT for a value longer than METRICS_PORT_LINE_MAX_LEN). */
CHIVE_MUST_CHECK chive_err_t metrics_port_parse(const char *s, size_t len,
                                                metrics_port_t *out,
                                                const char **why);

#endif /* !defined(CHIVE_FEATURE_METRICS_METRICS_PORT_H) */
