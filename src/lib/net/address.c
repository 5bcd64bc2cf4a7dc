/**
 * @file address.c
 * @brief IPv4/IPv6 address parsing, formatting and classification.
 *
 * Pure: no I/O, no allocation, no logging.  Text is copied into a bounded
 * local buffer before it reaches inet_pton(), so callers may pass
 * unterminated slices.
 **/
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "lib/net/address.h"

void
net_addr_from_ipv4(net_addr_t *out, uint32_t ipv4_hostorder)
{
  memset(out, 0, sizeof(*out));
  out->family = NET_AF_INET;
  out->ip[0] = (uint8_t)(ipv4_hostorder >> 24);
  out->ip[1] = (uint8_t)(ipv4_hostorder >> 16);
  out->ip[2] = (uint8_t)(ipv4_hostorder >> 8);
  out->ip[3] = (uint8_t)ipv4_hostorder;
}

uint32_t
net_addr_ipv4(const net_addr_t *a)
{
  if (a->family != NET_AF_INET)
    return 0;
  return ((uint32_t)a->ip[0] << 24) | ((uint32_t)a->ip[1] << 16) |
         ((uint32_t)a->ip[2] << 8) | (uint32_t)a->ip[3];
}

void
net_addr_from_ipv6(net_addr_t *out, const uint8_t ip16[16])
{
  memset(out, 0, sizeof(*out));
  out->family = NET_AF_INET6;
  memcpy(out->ip, ip16, 16);
}

/** Copy <b>len</b> bytes of <b>s</b> into <b>buf</b> as a C string.
 * Return false if it does not fit or contains a NUL. */
static bool
copy_text(const char *s, size_t len, char *buf, size_t buf_len)
{
  if (len >= buf_len || memchr(s, '\0', len) != NULL)
    return false;
  memcpy(buf, s, len);
  buf[len] = '\0';
  return true;
}

/* see address.h */
chive_err_t
net_addr_parse(const char *s, size_t len, net_addr_t *out)
{
  char buf[NET_ADDR_PARSE_MAX_LEN + 1];
  net_addr_t a;

  if (!s || !out)
    return CHIVE_ERR_INVAL;
  if (len >= 2 && s[0] == '[' && s[len - 1] == ']') {
    /* "[v6]" form: brackets only make sense around IPv6. */
    if (!copy_text(s + 1, len - 2, buf, sizeof(buf)))
      return CHIVE_ERR_INVAL;
    memset(&a, 0, sizeof(a));
    if (inet_pton(AF_INET6, buf, a.ip) != 1)
      return CHIVE_ERR_INVAL;
    a.family = NET_AF_INET6;
    *out = a;
    return CHIVE_OK;
  }
  if (!copy_text(s, len, buf, sizeof(buf)))
    return CHIVE_ERR_INVAL;
  memset(&a, 0, sizeof(a));
  if (inet_pton(AF_INET, buf, a.ip) == 1) {
    a.family = NET_AF_INET;
  } else if (inet_pton(AF_INET6, buf, a.ip) == 1) {
    a.family = NET_AF_INET6;
  } else {
    return CHIVE_ERR_INVAL;
  }
  *out = a;
  return CHIVE_OK;
}

/** Parse a decimal port 1..65535 of exactly <b>len</b> digits. */
static bool
parse_port(const char *s, size_t len, uint16_t *out)
{
  uint32_t v = 0;
  if (len == 0 || len > 5)
    return false;
  for (size_t i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return false;
    v = v * 10 + (uint32_t)(s[i] - '0');
  }
  if (v == 0 || v > 65535)
    return false;
  *out = (uint16_t)v;
  return true;
}

/* see address.h */
chive_err_t
net_addrport_parse(const char *s, size_t len, net_addrport_t *out)
{
  net_addrport_t ap;
  size_t colon;

  if (!s || !out || len == 0 || len > NET_ADDR_PARSE_MAX_LEN)
    return CHIVE_ERR_INVAL;
  memset(&ap, 0, sizeof(ap));
  if (s[0] == '[') {
    const char *close = memchr(s, ']', len);
    if (!close)
      return CHIVE_ERR_INVAL;
    colon = (size_t)(close - s) + 1;
    if (colon >= len || s[colon] != ':')
      return CHIVE_ERR_INVAL;
    if (net_addr_parse(s, colon, &ap.addr) != CHIVE_OK)
      return CHIVE_ERR_INVAL;
  } else {
    /* Exactly one colon: a bare IPv6 address with a port is ambiguous. */
    const char *c = memchr(s, ':', len);
    if (!c || memchr(c + 1, ':', len - (size_t)(c - s) - 1) != NULL)
      return CHIVE_ERR_INVAL;
    colon = (size_t)(c - s);
    if (net_addr_parse(s, colon, &ap.addr) != CHIVE_OK ||
        ap.addr.family != NET_AF_INET)
      return CHIVE_ERR_INVAL;
  }
  if (!parse_port(s + colon + 1, len - colon - 1, &ap.port))
    return CHIVE_ERR_INVAL;
  *out = ap;
  return CHIVE_OK;
}

/* see address.h */
chive_err_t
net_addrport_parse_str(const char *s, net_addrport_t *out)
{
  if (!s)
    return CHIVE_ERR_INVAL;
  size_t len = strnlen(s, NET_ADDR_PARSE_MAX_LEN + 1);
  return net_addrport_parse(s, len, out);
}

/* see address.h */
char *
net_addr_format(const net_addr_t *a, char *buf, size_t buf_len)
{
  char tmp[INET6_ADDRSTRLEN + 1];
  const char *res = NULL;

  if (buf_len == 0)
    return buf;
  if (a->family == NET_AF_INET)
    res = inet_ntop(AF_INET, a->ip, tmp, sizeof(tmp));
  else if (a->family == NET_AF_INET6)
    res = inet_ntop(AF_INET6, a->ip, tmp, sizeof(tmp));
  snprintf(buf, buf_len, "%s", res ? res : "?");
  return buf;
}

/* see address.h */
char *
net_addrport_format(const net_addrport_t *ap, char *buf, size_t buf_len)
{
  char a[NET_ADDR_STR_LEN];
  net_addr_format(&ap->addr, a, sizeof(a));
  if (buf_len == 0)
    return buf;
  if (ap->addr.family == NET_AF_INET6)
    snprintf(buf, buf_len, "[%s]:%u", a, (unsigned)ap->port);
  else
    snprintf(buf, buf_len, "%s:%u", a, (unsigned)ap->port);
  return buf;
}

/* see address.h */
bool
net_addr_eq(const net_addr_t *a, const net_addr_t *b)
{
  if (a->family != b->family)
    return false;
  switch (a->family) {
  case NET_AF_INET:
    return memcmp(a->ip, b->ip, 4) == 0;
  case NET_AF_INET6:
    return memcmp(a->ip, b->ip, 16) == 0;
  default:
    return true;
  }
}

/* see address.h */
bool
net_addrport_eq(const net_addrport_t *a, const net_addrport_t *b)
{
  return a->port == b->port && net_addr_eq(&a->addr, &b->addr);
}

/** If <b>a</b> is IPv4 or IPv4-mapped IPv6, set *<b>v4</b> (host order)
 * and return true. */
static bool
as_ipv4(const net_addr_t *a, uint32_t *v4)
{
  static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff,
                                     0xff};
  if (a->family == NET_AF_INET) {
    *v4 = net_addr_ipv4(a);
    return true;
  }
  if (a->family == NET_AF_INET6 && memcmp(a->ip, mapped, 12) == 0) {
    *v4 = ((uint32_t)a->ip[12] << 24) | ((uint32_t)a->ip[13] << 16) |
          ((uint32_t)a->ip[14] << 8) | (uint32_t)a->ip[15];
    return true;
  }
  return false;
}

/* see address.h */
bool
net_addr_is_loopback(const net_addr_t *a)
{
  static const uint8_t v6_loop[16] = {0, 0, 0, 0, 0, 0, 0, 0,
                                      0, 0, 0, 0, 0, 0, 0, 1};
  uint32_t v4;
  if (as_ipv4(a, &v4))
    return (v4 >> 24) == 127;
  return a->family == NET_AF_INET6 && memcmp(a->ip, v6_loop, 16) == 0;
}

/* see address.h */
bool
net_addr_is_internal(const net_addr_t *a)
{
  uint32_t v4;
  if (as_ipv4(a, &v4)) {
    return (v4 >> 24) == 0 ||              /* 0.0.0.0/8 */
           (v4 >> 24) == 10 ||             /* 10/8 */
           (v4 >> 24) == 127 ||            /* 127/8 */
           (v4 >> 22) == (0x6440u >> 6) || /* 100.64/10 */
           (v4 >> 16) == 0xa9fe ||         /* 169.254/16 */
           (v4 >> 20) == 0xac1 ||          /* 172.16/12 */
           (v4 >> 16) == 0xc0a8 ||         /* 192.168/16 */
           (v4 >> 29) == 7;                /* 224/3: multicast+reserved */
  }
  if (a->family != NET_AF_INET6)
    return true; /* unspecified */
  if (net_addr_is_loopback(a))
    return true;
  static const uint8_t zero[16] = {0};
  return memcmp(a->ip, zero, 16) == 0 ||               /* :: */
         (a->ip[0] & 0xfe) == 0xfc ||                  /* fc00::/7 */
         (a->ip[0] == 0xfe && (a->ip[1] & 0xc0) == 0x80) || /* fe80::/10 */
         a->ip[0] == 0xff;                             /* ff00::/8 */
}

/* see address.h */
chive_err_t
net_addrport_to_sockaddr(const net_addrport_t *ap, struct sockaddr *ss,
                         size_t ss_len, size_t *len_out)
{
  if (ap->addr.family == NET_AF_INET) {
    struct sockaddr_in sin;
    if (ss_len < sizeof(sin))
      return CHIVE_ERR_INVAL;
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(ap->port);
    memcpy(&sin.sin_addr, ap->addr.ip, 4);
    memcpy(ss, &sin, sizeof(sin));
    *len_out = sizeof(sin);
    return CHIVE_OK;
  }
  if (ap->addr.family == NET_AF_INET6) {
    struct sockaddr_in6 sin6;
    if (ss_len < sizeof(sin6))
      return CHIVE_ERR_INVAL;
    memset(&sin6, 0, sizeof(sin6));
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(ap->port);
    memcpy(&sin6.sin6_addr, ap->addr.ip, 16);
    memcpy(ss, &sin6, sizeof(sin6));
    *len_out = sizeof(sin6);
    return CHIVE_OK;
  }
  return CHIVE_ERR_INVAL;
}

/* see address.h */
chive_err_t
net_addrport_from_sockaddr(const struct sockaddr *sa, size_t len,
                           net_addrport_t *out)
{
  net_addrport_t ap;
  memset(&ap, 0, sizeof(ap));
  if (len >= sizeof(struct sockaddr_in) && sa->sa_family == AF_INET) {
    struct sockaddr_in sin;
    memcpy(&sin, sa, sizeof(sin));
    ap.addr.family = NET_AF_INET;
    memcpy(ap.addr.ip, &sin.sin_addr, 4);
    ap.port = ntohs(sin.sin_port);
  } else if (len >= sizeof(struct sockaddr_in6) &&
             sa->sa_family == AF_INET6) {
    struct sockaddr_in6 sin6;
    memcpy(&sin6, sa, sizeof(sin6));
    ap.addr.family = NET_AF_INET6;
    memcpy(ap.addr.ip, &sin6.sin6_addr, 16);
    ap.port = ntohs(sin6.sin6_port);
  } else {
    return CHIVE_ERR_INVAL;
  }
  *out = ap;
  return CHIVE_OK;
}
