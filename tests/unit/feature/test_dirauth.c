/* Unit tests for feature/dir/dirauth: DirAuthority/FallbackDir lines and
 * the built-in authority table. */
#include "feature/dir/dirauth.h"
#include "tinytest.h"

static void
test_parse_testnet_line(void)
{
  dir_server_t ds;
  const char *why = NULL;
  /* The format the private test network writes (testnet-facts.md). */
  T_OK(dir_server_parse_authority(
      "a0 orport=25000 no-v2 v3ident=0123456789ABCDEF0123456789ABCDEF01234567"
      " 127.0.0.1:25100 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      &ds, &why));
  T_EQ_STR(ds.nickname, "a0");
  T_EQ_UINT(ds.or_port, 25000);
  T_EQ_UINT(ds.dir_addr.port, 25100);
  T_EQ_UINT(ds.dir_addr.addr.family, NET_AF_INET);
  T_ASSERT(ds.has_v3ident && ds.is_authority);
  T_EQ_UINT(ds.v3ident[0], 0x01);
  T_EQ_UINT(ds.v3ident[19], 0x67);
  T_EQ_UINT(ds.rsa_id[0], 0x89);
  T_EQ_UINT(ds.rsa_id[19], 0xef);
done:
  return;
}

static void
test_parse_spaced_fingerprint(void)
{
  dir_server_t ds;
  /* tor's own defaults write the fingerprint in groups of four. */
  T_OK(dir_server_parse_authority(
      "moria1 orport=9201 v3ident=F533C81CEF0BC0267857C99B2F471ADF249FA232 "
      "weight=3 ipv6=[2001:db8::1]:9201 128.31.0.39:9231 "
      "1A25 C635 8DB9 1342 AA51 720A 5038 B727 4273 2498",
      &ds, NULL));
  T_EQ_UINT(ds.rsa_id[0], 0x1a);
  T_EQ_UINT(ds.rsa_id[19], 0x98);
  T_ASSERT(ds.has_ipv6);
  T_EQ_UINT(ds.ipv6_or.port, 9201);
  T_ASSERT(ds.weight == 3.0);
done:
  return;
}

static void
test_parse_bad_authority(void)
{
  static const char *bad[] = {
      "",
      "a0",
      /* no v3ident */
      "a0 orport=1 127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      /* no orport */
      "a0 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 127.0.0.1:2 "
      "89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      /* short fingerprint */
      "a0 orport=1 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
      "127.0.0.1:2 89ABCDEF",
      /* bad hex */
      "a0 orport=1 v3ident=0123456789ABCDEF0123456789ABCDEF0123456Z "
      "127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      /* port 0, port too large */
      "a0 orport=0 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
      "127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      "a0 orport=70000 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
      "127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      /* unknown flag */
      "a0 frob orport=1 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
      "127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF",
      /* too-long fingerprint */
      "a0 orport=1 v3ident=0123456789ABCDEF0123456789ABCDEF01234567 "
      "127.0.0.1:2 89ABCDEF0123456789ABCDEF0123456789ABCDEF00",
  };
  dir_server_t ds;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    const char *why = NULL;
    T_EQ_INT(dir_server_parse_authority(bad[i], &ds, &why), CHIVE_ERR_INVAL);
    T_ASSERT(why && why[0]);
  }
done:
  return;
}

static void
test_parse_fallback(void)
{
  dir_server_t ds;
  T_OK(dir_server_parse_fallback(
      "185.225.17.3:80 orport=443 id=0338F9F55111FE8E3570E7DE117EF3AF999CC1D7"
      " ipv6=[2a0a:c800:1:5::3]:443",
      &ds, NULL));
  T_ASSERT(!ds.is_authority && ds.has_ipv6);
  T_EQ_UINT(ds.or_port, 443);
  T_EQ_UINT(ds.rsa_id[0], 0x03);
  T_EQ_INT(dir_server_parse_fallback("185.225.17.3:80 orport=443", &ds, NULL),
           CHIVE_ERR_INVAL);
  T_EQ_INT(dir_server_parse_fallback(
               "185.225.17.3:80 orport=443 "
               "id=0338F9F55111FE8E3570E7DE117EF3AF999CC1D7 extra",
               &ds, NULL),
           CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_defaults(void)
{
  dir_server_t d[DIR_N_DEFAULT_AUTHORITIES + 2];
  size_t n = dir_default_authorities(d, CHIVE_ARRAY_LEN(d));
  T_EQ_UINT(n, DIR_N_DEFAULT_AUTHORITIES);
  for (size_t i = 0; i < n; i++) {
    T_ASSERT(d[i].is_authority && d[i].has_v3ident);
    T_ASSERT(d[i].or_port && d[i].dir_addr.port);
    T_EQ_UINT(d[i].dir_addr.addr.family, NET_AF_INET);
  }
  T_EQ_STR(d[0].nickname, "moria1");
  T_EQ_UINT(d[0].v3ident[0], 0xf5);
  T_EQ_UINT(dir_default_authorities(d, 2), 2);
done:
  return;
}

static void
test_default_fallbacks(void)
{
  static dir_server_t d[DIR_MAX_FALLBACKS];
  size_t n = dir_default_fallbacks(d, DIR_MAX_FALLBACKS);
  /* Every entry of the built-in list parses. */
  T_EQ_UINT(n, 200);
  for (size_t i = 0; i < n; i++) {
    T_ASSERT(!d[i].is_authority && d[i].or_port);
    T_EQ_UINT(d[i].dir_addr.port, 0);
  }
  dir_server_t one;
  T_OK(dir_server_parse_fallback(
      "89.147.111.106 orport=443 id=E2E1AAFB65DB0B82F868071FF173DDA28407FDDB",
      &one, NULL));
  T_EQ_UINT(one.or_port, 443);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_default_fallbacks),
    T_CASE(test_parse_testnet_line),  T_CASE(test_parse_spaced_fingerprint),
    T_CASE(test_parse_bad_authority), T_CASE(test_parse_fallback),
    T_CASE(test_defaults),            T_END,
};
T_MAIN(cases)
