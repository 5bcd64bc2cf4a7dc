/* Unit tests for app/portconf: SocksPort / HTTPTunnelPort lines. */
#include <string.h>

#include "app/portconf.h"
#include "tinytest.h"

static chive_err_t
parse(const char *s, portconf_t *pc, const char **why)
{
  return portconf_parse(s, strlen(s), pc, why);
}

static void
test_addresses(void)
{
  portconf_t pc;
  const char *why = NULL;
  char buf[NET_ADDRPORT_STR_LEN];
  T_OK(parse("9050", &pc, &why));
  T_EQ_STR(net_addrport_format(&pc.addr, buf, sizeof(buf)),
           "127.0.0.1:9050");
  T_ASSERT(!pc.disabled && !pc.auto_port);
  T_EQ_UINT(pc.iso, PORTCONF_ISO_DEFAULT);
  T_EQ_INT(pc.session_group, -1);
  T_OK(parse("0", &pc, &why));
  T_ASSERT(pc.disabled);
  T_OK(parse("auto", &pc, &why));
  T_ASSERT(pc.auto_port);
  T_EQ_UINT(pc.addr.port, 0);
  T_OK(parse("127.0.0.2:auto", &pc, &why));
  T_ASSERT(pc.auto_port);
  T_EQ_STR(net_addrport_format(&pc.addr, buf, sizeof(buf)), "127.0.0.2:0");
  T_OK(parse("  10.0.0.1:9150  ", &pc, &why));
  T_EQ_STR(net_addrport_format(&pc.addr, buf, sizeof(buf)), "10.0.0.1:9150");
  T_OK(parse("[::1]:9050", &pc, &why));
  T_EQ_STR(net_addrport_format(&pc.addr, buf, sizeof(buf)), "[::1]:9050");
done:;
}

static void
test_flags(void)
{
  portconf_t pc;
  const char *why = NULL;
  T_OK(parse("9050 IsolateDestAddr isolatedestport NoIsolateSOCKSAuth", &pc,
             &why));
  T_EQ_UINT(pc.iso, PORTCONF_ISO_CLIENT_ADDR | PORTCONF_ISO_DEST_ADDR |
                        PORTCONF_ISO_DEST_PORT);
  T_OK(parse("9050 SessionGroup=7 ExtendedErrors IPv6Traffic PreferIPv6",
             &pc, &why));
  T_EQ_INT(pc.session_group, 7);
  T_EQ_UINT(pc.flags, PORTCONF_F_EXTENDED_ERRORS | PORTCONF_F_IPV6 |
                          PORTCONF_F_PREFER_IPV6);
  T_OK(parse("9050\tIsolateClientProtocol", &pc, &why));
  T_ASSERT(pc.iso & PORTCONF_ISO_CLIENT_PROTO);
done:;
}

static void
test_rejects(void)
{
  static const char *bad[] = {
      "",        "   ",       "65536",          "-1",
      "9050x",   "::1:9050",  "1.2.3.4:",       "1.2.3.4:0",
      "unix:/x", "9050 Bogus", "0 IsolateDestAddr", "9050 SessionGroup=x",
      "1.2.3.400:9050", "9050 SessionGroup=99999999999",
  };
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    portconf_t pc;
    const char *why = NULL;
    T_ASSERT(parse(bad[i], &pc, &why) != CHIVE_OK); /* bad[i] accepted */
    T_ASSERT(why && why[0]);
  }
  /* NUL and control bytes inside the given length. */
  {
    portconf_t pc;
    const char *why = NULL;
    T_ASSERT(portconf_parse("9050\0x", 6, &pc, &why) != CHIVE_OK);
    T_ASSERT(portconf_parse("9050 \x01", 6, &pc, &why) != CHIVE_OK);
  }
  /* Every prefix of a long valid line parses or fails cleanly. */
  {
    const char *line = "127.0.0.1:9050 IsolateDestAddr SessionGroup=12";
    for (size_t n = 0; n <= strlen(line); n++) {
      portconf_t pc;
      const char *why = NULL;
      chive_err_t e = portconf_parse(line, n, &pc, &why);
      T_ASSERT(e == CHIVE_OK || (why && why[0]));
    }
  }
done:;
}

static const t_case cases[] = {
    T_CASE(test_addresses),
    T_CASE(test_flags),
    T_CASE(test_rejects),
    T_END,
};
T_MAIN(cases)
