/* Unit tests for lib/net: address parsing/formatting/classification and
 * nonblocking loopback sockets. */
#include "lib/cc/compat.h"

#include <poll.h>
#include <sys/socket.h>
#include <string.h>

#include "lib/net/address.h"
#include "lib/net/socket.h"
#include "tinytest.h"

static chive_err_t
parse_ap(const char *s, net_addrport_t *out)
{
  return net_addrport_parse(s, strlen(s), out);
}

static void
test_addr_parse_ok(void)
{
  net_addrport_t ap;
  net_addr_t a;
  char buf[NET_ADDRPORT_STR_LEN];

  T_OK(parse_ap("1.2.3.4:9001", &ap));
  T_EQ_INT(ap.addr.family, NET_AF_INET);
  T_EQ_UINT(net_addr_ipv4(&ap.addr), 0x01020304u);
  T_EQ_UINT(ap.port, 9001);
  T_EQ_STR(net_addrport_format(&ap, buf, sizeof(buf)), "1.2.3.4:9001");

  T_OK(parse_ap("[::1]:9001", &ap));
  T_EQ_INT(ap.addr.family, NET_AF_INET6);
  T_EQ_UINT(ap.addr.ip[15], 1);
  T_EQ_STR(net_addrport_format(&ap, buf, sizeof(buf)), "[::1]:9001");

  T_OK(parse_ap("[2001:db8::5]:65535", &ap));
  T_EQ_UINT(ap.port, 65535);
  T_EQ_STR(net_addrport_format(&ap, buf, sizeof(buf)),
           "[2001:db8::5]:65535");

  T_OK(net_addr_parse("::1", 3, &a));
  T_EQ_INT(a.family, NET_AF_INET6);
  T_OK(net_addr_parse("[::1]", 5, &a));
  T_EQ_INT(a.family, NET_AF_INET6);
  T_OK(net_addr_parse("10.0.0.1", 8, &a));
  T_EQ_STR(net_addr_format(&a, buf, sizeof(buf)), "10.0.0.1");
  /* Unterminated slice: only the first 7 bytes count. */
  T_OK(net_addr_parse("1.2.3.45678", 7, &a));
  T_EQ_UINT(net_addr_ipv4(&a), 0x01020304u);

  T_OK(net_addrport_parse_str("127.0.0.1:1", &ap));
  T_EQ_UINT(ap.port, 1);
done:
  return;
}

static void
test_addr_parse_bad(void)
{
  static const char *const bad[] = {
      "",           "1.2.3.4",        "1.2.3.4:",      "1.2.3.4:0",
      "1.2.3.4:65536", "1.2.3.4:-1",  "1.2.3.4:9a",    "1.2.3:80",
      "01.2.3.4:80", "::1:9001",      "[::1]",         "[::1]:",
      "[::1]9001",  "[1.2.3.4]:80",   "[::1:80",       "host:80",
      "1.2.3.4:123456", " 1.2.3.4:80", "1.2.3.4 :80",  "[::g]:80",
  };
  net_addrport_t ap, before;
  memset(&ap, 0x5a, sizeof(ap));
  before = ap;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    if (parse_ap(bad[i], &ap) == CHIVE_OK)
      T_FAIL_("accepted \"%s\"", bad[i]);
    T_ASSERT(memcmp(&ap, &before, sizeof(ap)) == 0); /* untouched */
  }
  /* Embedded NUL. */
  T_EQ_INT(net_addrport_parse("1.2.3.4\0:80", 10, &ap), CHIVE_ERR_INVAL);
  /* Over-long input is rejected before parsing. */
  char longs[200];
  memset(longs, '1', sizeof(longs));
  T_EQ_INT(net_addrport_parse(longs, sizeof(longs), &ap), CHIVE_ERR_INVAL);
  net_addr_t a;
  T_EQ_INT(net_addr_parse("1.2.3.4.5", 9, &a), CHIVE_ERR_INVAL);
  T_EQ_INT(net_addr_parse("", 0, &a), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_addr_classify(void)
{
  static const struct {
    const char *s;
    bool loopback;
    bool internal;
  } cases[] = {
      {"127.0.0.1", true, true},     {"127.255.1.2", true, true},
      {"10.1.2.3", false, true},     {"172.16.0.1", false, true},
      {"172.31.255.255", false, true}, {"172.32.0.1", false, false},
      {"192.168.1.1", false, true},  {"169.254.3.3", false, true},
      {"100.64.0.1", false, true},   {"100.128.0.1", false, false},
      {"0.1.2.3", false, true},      {"224.0.0.1", false, true},
      {"255.255.255.255", false, true}, {"8.8.8.8", false, false},
      {"::1", true, true},           {"::", false, true},
      {"fe80::1", false, true},      {"fd00::1", false, true},
      {"ff02::1", false, true},      {"2001:db8::1", false, false},
      {"::ffff:127.0.0.1", true, true}, {"::ffff:10.0.0.1", false, true},
      {"::ffff:8.8.8.8", false, false},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    net_addr_t a;
    T_OK(net_addr_parse(cases[i].s, strlen(cases[i].s), &a));
    if (net_addr_is_loopback(&a) != cases[i].loopback)
      T_FAIL_("loopback(%s)", cases[i].s);
    if (net_addr_is_internal(&a) != cases[i].internal)
      T_FAIL_("internal(%s)", cases[i].s);
  }
  net_addr_t none;
  memset(&none, 0, sizeof(none));
  T_ASSERT(net_addr_is_internal(&none));
  T_ASSERT(!net_addr_is_loopback(&none));
  char buf[8];
  T_EQ_STR(net_addr_format(&none, buf, sizeof(buf)), "?");
done:
  return;
}

static void
test_addr_eq_sockaddr(void)
{
  net_addrport_t a, b, c;
  struct sockaddr_storage ss;
  size_t len = 0;
  T_OK(parse_ap("[2001:db8::1]:443", &a));
  T_OK(net_addrport_to_sockaddr(&a, (struct sockaddr *)&ss, sizeof(ss),
                                &len));
  T_OK(net_addrport_from_sockaddr((struct sockaddr *)&ss, len, &b));
  T_ASSERT(net_addrport_eq(&a, &b));
  T_OK(parse_ap("1.2.3.4:443", &c));
  T_ASSERT(!net_addrport_eq(&a, &c));
  T_OK(net_addrport_to_sockaddr(&c, (struct sockaddr *)&ss, sizeof(ss),
                                &len));
  T_OK(net_addrport_from_sockaddr((struct sockaddr *)&ss, len, &b));
  T_ASSERT(net_addrport_eq(&c, &b));
  b.port = 444;
  T_ASSERT(!net_addrport_eq(&c, &b));
  T_ASSERT(net_addr_eq(&c.addr, &b.addr));
  /* Short buffer. */
  T_EQ_INT(net_addrport_to_sockaddr(&a, (struct sockaddr *)&ss, 8, &len),
           CHIVE_ERR_INVAL);
  net_addrport_t none;
  memset(&none, 0, sizeof(none));
  T_EQ_INT(net_addrport_to_sockaddr(&none, (struct sockaddr *)&ss,
                                    sizeof(ss), &len),
           CHIVE_ERR_INVAL);
done:
  return;
}

static bool
wait_fd(int fd, short events)
{
  struct pollfd p = {fd, events, 0};
  return poll(&p, 1, 5000) == 1;
}

static void
test_socket_loopback(void)
{
  int lfd = -1, cfd = -1, sfd = -1;
  net_addrport_t any, bound, peer, local;
  uint8_t buf[64];
  size_t n = 0;

  T_OK(parse_ap("127.0.0.1:1", &any));
  any.port = 0; /* any free port */
  T_OK(net_listen(&any, 0, &lfd, &bound));
  T_ASSERT(bound.port != 0);
  T_ASSERT(net_addr_is_loopback(&bound.addr));
  T_EQ_INT(net_accept(lfd, &sfd, &peer), CHIVE_ERR_TRUNCATED);

  T_OK(net_connect(&bound, &cfd));
  T_ASSERT(wait_fd(cfd, POLLOUT));
  T_OK(net_connect_finish(cfd, NULL));
  T_ASSERT(wait_fd(lfd, POLLIN));
  T_OK(net_accept(lfd, &sfd, &peer));
  T_OK(net_local_addr(cfd, &local));
  T_ASSERT(net_addrport_eq(&local, &peer));

  T_EQ_INT(net_read(sfd, buf, sizeof(buf), &n), CHIVE_ERR_TRUNCATED);
  T_OK(net_write(cfd, (const uint8_t *)"hello", 5, &n));
  T_EQ_UINT(n, 5);
  T_ASSERT(wait_fd(sfd, POLLIN));
  T_OK(net_read(sfd, buf, sizeof(buf), &n));
  T_EQ_UINT(n, 5);
  T_EQ_MEM(buf, "hello", 5);
  net_close(cfd);
  cfd = -1;
  T_ASSERT(wait_fd(sfd, POLLIN));
  T_EQ_INT(net_read(sfd, buf, sizeof(buf), &n), CHIVE_ERR_CLOSED);
done:
  net_close(lfd);
  net_close(cfd);
  net_close(sfd);
}

static void
test_socket_refused(void)
{
  int lfd = -1, cfd = -1;
  net_addrport_t any, bound;
  int oserr = 0;
  T_OK(parse_ap("127.0.0.1:1", &any));
  any.port = 0;
  /* Bind a port, then close it so nothing listens there. */
  T_OK(net_listen(&any, 0, &lfd, &bound));
  net_close(lfd);
  lfd = -1;
  T_OK(net_connect(&bound, &cfd));
  T_ASSERT(wait_fd(cfd, POLLOUT));
  T_EQ_INT(net_connect_finish(cfd, &oserr), CHIVE_ERR_IO);
  T_ASSERT(oserr != 0);
  /* Invalid target. */
  net_addrport_t zero;
  memset(&zero, 0, sizeof(zero));
  int fd2 = -1;
  T_EQ_INT(net_connect(&zero, &fd2), CHIVE_ERR_INVAL);
done:
  net_close(lfd);
  net_close(cfd);
}

static void
test_socketpair(void)
{
  int fds[2] = {-1, -1};
  uint8_t b[4];
  size_t n = 0;
  T_OK(net_socketpair(fds));
  T_OK(net_write(fds[0], (const uint8_t *)"abcd", 4, &n));
  T_OK(net_read(fds[1], b, 4, &n));
  T_EQ_UINT(n, 4);
  T_EQ_MEM(b, "abcd", 4);
done:
  net_close(fds[0]);
  net_close(fds[1]);
}

static const t_case cases[] = {
    T_CASE(test_addr_parse_ok),   T_CASE(test_addr_parse_bad),
    T_CASE(test_addr_classify),   T_CASE(test_addr_eq_sockaddr),
    T_CASE(test_socket_loopback), T_CASE(test_socket_refused),
    T_CASE(test_socketpair),      T_END,
};
T_MAIN(cases)
