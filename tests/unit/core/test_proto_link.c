/* Unit tests for core/proto/link_cells: VERSIONS, CERTS, AUTH_CHALLENGE,
 * NETINFO, PADDING_NEGOTIATE (tor-spec §4, §7.2). */
#include <string.h>

#include "core/proto/link_cells.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ---- VERSIONS ---------------------------------------------------------- */

static void
test_versions_golden(void)
{
  /* tor-spec §4.1: a series of big-endian two-byte integers. */
  const uint8_t body[] = {0x00, 0x03, 0x00, 0x04, 0x00, 0x05};
  versions_t v;
  T_OK(versions_parse(body, sizeof(body), &v));
  T_EQ_UINT(v.n_versions, 3);
  T_EQ_UINT(v.versions[0], 3);
  T_EQ_UINT(v.versions[2], 5);

  const uint16_t ours[] = {4, 5};
  uint8_t out[16];
  size_t len = 0;
  T_OK(versions_encode(ours, 2, out, sizeof(out), &len));
  T_EQ_UINT(len, 4);
  T_EQ_MEM(out, body + 2, 4);
  T_EQ_INT(versions_encode(ours, 2, out, 3, &len), CHIVE_ERR_LIMIT);

  uint16_t chosen = 0;
  T_OK(versions_choose(body, sizeof(body), ours, 2, &chosen));
  T_EQ_UINT(chosen, 5);
  const uint16_t only3[] = {3};
  T_OK(versions_choose(body, sizeof(body), only3, 1, &chosen));
  T_EQ_UINT(chosen, 3);
  const uint16_t none[] = {6, 2};
  chosen = 99;
  T_EQ_INT(versions_choose(body, sizeof(body), none, 2, &chosen),
           CHIVE_ERR_NOTFOUND);
  T_EQ_UINT(chosen, 99);
  /* Odd length is "not well-formed" (tor-spec §4.1). */
  T_EQ_INT(versions_parse(body, 5, &v), CHIVE_ERR_PROTO);
  T_EQ_INT(versions_choose(body, 5, ours, 2, &chosen), CHIVE_ERR_PROTO);
  /* Empty: parses, nothing in common. */
  T_OK(versions_parse(body, 0, &v));
  T_EQ_UINT(v.n_versions, 0);
  T_EQ_INT(versions_choose(body, 0, ours, 2, &chosen), CHIVE_ERR_NOTFOUND);
done:
  return;
}

static void
test_versions_limit(void)
{
  uint8_t body[2 * (VERSIONS_MAX_LISTED + 1)];
  for (size_t i = 0; i < VERSIONS_MAX_LISTED + 1; i++) {
    body[2 * i] = 0;
    body[2 * i + 1] = (uint8_t)(i + 1);
  }
  versions_t v;
  T_OK(versions_parse(body, 2 * VERSIONS_MAX_LISTED, &v));
  T_EQ_UINT(v.n_versions, VERSIONS_MAX_LISTED);
  T_EQ_INT(versions_parse(body, sizeof(body), &v), CHIVE_ERR_LIMIT);
  /* versions_choose streams and has no count limit. */
  const uint16_t ours[] = {4, 5};
  uint16_t chosen;
  T_OK(versions_choose(body, sizeof(body), ours, 2, &chosen));
  T_EQ_UINT(chosen, 5);
done:
  return;
}

/* ---- CERTS ------------------------------------------------------------- */

/* Two certs (type 2 "aabbcc", unknown type 200 empty), then junk. */
static const uint8_t certs_body[] = {0x02, 0x02, 0x00, 0x03, 0xaa, 0xbb,
                                     0xcc, 0xc8, 0x00, 0x00, 0xff, 0xff};
#define CERTS_BODY_USED 10

static void
test_certs_parse(void)
{
  certs_cell_t cc;
  T_OK(certs_cell_parse(certs_body, sizeof(certs_body), &cc));
  T_EQ_UINT(cc.n_certs, 2);
  T_EQ_UINT(cc.certs[0].type, CERTTYPE_RSA1024_ID);
  T_EQ_UINT(cc.certs[0].len, 3);
  T_ASSERT(cc.certs[0].body == certs_body + 4);
  T_EQ_UINT(cc.certs[1].type, 200); /* unknown types are kept */
  T_EQ_UINT(cc.certs[1].len, 0);
  T_ASSERT(certs_cell_find(&cc, 2) == &cc.certs[0]);
  T_ASSERT(certs_cell_find(&cc, 4) == NULL);
  T_EQ_UINT(certs_cell_count_type(&cc, 200), 1);
  T_ASSERT(!certs_cell_has_duplicates(&cc));

  /* Round trip (the junk is not re-encoded). */
  uint8_t out[64];
  size_t len;
  T_OK(certs_cell_encode(&cc, out, sizeof(out), &len));
  T_EQ_UINT(len, CERTS_BODY_USED);
  T_EQ_MEM(out, certs_body, CERTS_BODY_USED);
  T_EQ_INT(certs_cell_encode(&cc, out, CERTS_BODY_USED - 1, &len),
           CHIVE_ERR_LIMIT);

  /* Every prefix short of the last cert fails; out is untouched. */
  for (size_t i = 0; i < CERTS_BODY_USED; i++) {
    uint8_t *p = chive_memdup(certs_body, i ? i : 1);
    certs_cell_t cc2;
    cc2.n_certs = 77;
    chive_err_t e = certs_cell_parse(p, i, &cc2);
    chive_free(p);
    T_EQ_INT(e, CHIVE_ERR_PROTO);
    T_EQ_UINT(cc2.n_certs, 77);
  }
done:
  return;
}

static void
test_certs_limits(void)
{
  /* Duplicates are detected by the helper, not rejected. */
  const uint8_t dup[] = {3, 4, 0, 1, 'a', 5, 0, 0, 4, 0, 1, 'b'};
  uint8_t *big = NULL;
  certs_cell_t cc;
  T_OK(certs_cell_parse(dup, sizeof(dup), &cc));
  T_ASSERT(certs_cell_has_duplicates(&cc));
  T_EQ_UINT(certs_cell_count_type(&cc, 4), 2);

  /* N over the policy limit. */
  uint8_t many[1 + 3 * (CERTS_CELL_MAX_CERTS + 1)];
  memset(many, 0, sizeof(many));
  many[0] = CERTS_CELL_MAX_CERTS + 1;
  T_EQ_INT(certs_cell_parse(many, sizeof(many), &cc), CHIVE_ERR_LIMIT);
  many[0] = CERTS_CELL_MAX_CERTS;
  T_OK(certs_cell_parse(many, sizeof(many), &cc));
  T_EQ_UINT(cc.n_certs, CERTS_CELL_MAX_CERTS);

  /* A body over the policy limit. */
  big = chive_zalloc(CERTS_CELL_MAX_BODY_LEN + 1);
  T_EQ_INT(certs_cell_parse(big, CERTS_CELL_MAX_BODY_LEN + 1, &cc),
           CHIVE_ERR_LIMIT);
  T_OK(certs_cell_parse(big, CERTS_CELL_MAX_BODY_LEN, &cc));
  T_EQ_UINT(cc.n_certs, 0);

  cc.n_certs = CERTS_CELL_MAX_CERTS + 1;
  uint8_t out[8];
  size_t len;
  T_EQ_INT(certs_cell_encode(&cc, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  chive_free(big);
}

/* ---- AUTH_CHALLENGE ---------------------------------------------------- */

static void
test_auth_challenge(void)
{
  uint8_t body[32 + 2 + 4 + 3];
  for (int i = 0; i < 32; i++)
    body[i] = (uint8_t)(0xa0 + i);
  const uint8_t rest[] = {0x00, 0x02, 0x00, 0x01, 0x00, 0x03, 9, 9, 9};
  memcpy(body + 32, rest, sizeof(rest));

  auth_challenge_t ac;
  T_OK(auth_challenge_parse(body, sizeof(body), &ac));
  T_EQ_MEM(ac.challenge, body, 32);
  T_EQ_UINT(ac.n_methods, 2);
  T_ASSERT(auth_challenge_has_method(&ac, AUTHTYPE_RSA_SHA256_TLSSECRET));
  T_ASSERT(auth_challenge_has_method(&ac, AUTHTYPE_ED25519_SHA256_RFC5705));
  T_ASSERT(!auth_challenge_has_method(&ac, 2));

  uint8_t out[64];
  size_t len;
  T_OK(auth_challenge_encode(&ac, out, sizeof(out), &len));
  T_EQ_UINT(len, 38);
  T_EQ_MEM(out, body, 38);
  for (size_t i = 0; i < 38; i++) {
    uint8_t *p = chive_memdup(body, i ? i : 1);
    auth_challenge_t ac2;
    T_EQ_INT(auth_challenge_parse(p, i, &ac2), CHIVE_ERR_PROTO);
    chive_free(p);
  }
  /* N_Methods over the limit. */
  body[32] = 0;
  body[33] = AUTH_CHALLENGE_MAX_METHODS + 1;
  T_EQ_INT(auth_challenge_parse(body, sizeof(body), &ac), CHIVE_ERR_LIMIT);
  ac.n_methods = AUTH_CHALLENGE_MAX_METHODS + 1;
  T_EQ_INT(auth_challenge_encode(&ac, out, sizeof(out), &len),
           CHIVE_ERR_INVAL);
done:
  return;
}

/* ---- NETINFO ----------------------------------------------------------- */

/* Built by hand from tor-spec §4.5: TIME 0x5f000000, OTHERADDR
 * 127.0.0.1, NMYADDR 1: [2001:db8::1]. */
static const uint8_t netinfo_golden[] = {
    0x5f, 0x00, 0x00, 0x00,                         /* TIME */
    0x04, 0x04, 0x7f, 0x00, 0x00, 0x01,             /* OTHERADDR */
    0x01,                                           /* NMYADDR */
    0x06, 0x10, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, /* IPv6 */
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
};

static void
test_netinfo_golden(void)
{
  uint8_t payload[509];
  memset(payload, 0, sizeof(payload));
  memcpy(payload, netinfo_golden, sizeof(netinfo_golden));
  netinfo_t ni;
  T_OK(netinfo_parse(payload, sizeof(payload), &ni)); /* padding ignored */
  T_EQ_UINT(ni.timestamp, 0x5f000000u);
  T_EQ_UINT(ni.other_addr.atype, NETINFO_ATYPE_IPV4);
  T_EQ_MEM(ni.other_addr.addr, "\x7f\x00\x00\x01", 4);
  T_EQ_UINT(ni.n_my_addrs, 1);
  T_EQ_UINT(ni.my_addrs[0].atype, NETINFO_ATYPE_IPV6);
  T_EQ_MEM(ni.my_addrs[0].addr, netinfo_golden + 13, 16);

  uint8_t out[509];
  size_t len;
  T_OK(netinfo_encode(&ni, out, sizeof(out), &len));
  T_EQ_UINT(len, sizeof(netinfo_golden));
  T_EQ_MEM(out, netinfo_golden, len);
  T_EQ_INT(netinfo_encode(&ni, out, len - 1, &len), CHIVE_ERR_LIMIT);

  for (size_t i = 0; i < sizeof(netinfo_golden); i++) {
    uint8_t *p = chive_memdup(netinfo_golden, i ? i : 1);
    netinfo_t n2;
    n2.timestamp = 1234;
    T_EQ_INT(netinfo_parse(p, i, &n2), CHIVE_ERR_PROTO);
    chive_free(p);
    T_EQ_UINT(n2.timestamp, 1234);
  }
done:
  return;
}

static void
test_netinfo_unknown(void)
{
  /* OTHERADDR of unknown type 5, then an IPv4 with a wrong ALEN, an
   * unknown type, and a good IPv4: only the last is kept. */
  const uint8_t body[] = {0, 0, 0, 0,      5,    2,    0xaa, 0xbb, 3,
                          4, 3, 1, 2, 3,   0x07, 0x00, 4,    4,    10,
                          0, 0, 1, 0xde, 0xad};
  netinfo_t ni;
  T_OK(netinfo_parse(body, sizeof(body), &ni));
  T_EQ_UINT(ni.other_addr.atype, 0);
  T_EQ_UINT(ni.n_my_addrs, 1);
  T_EQ_UINT(ni.my_addrs[0].atype, NETINFO_ATYPE_IPV4);
  T_EQ_MEM(ni.my_addrs[0].addr, "\x0a\x00\x00\x01", 4);
  /* An unknown other_addr re-encodes as type 0, length 0; canonical. */
  uint8_t out[64];
  size_t len;
  T_OK(netinfo_encode(&ni, out, sizeof(out), &len));
  netinfo_t n2;
  T_OK(netinfo_parse(out, len, &n2));
  T_EQ_UINT(n2.other_addr.atype, 0);
  T_EQ_UINT(n2.n_my_addrs, 1);
  T_EQ_MEM(&n2.my_addrs[0], &ni.my_addrs[0], sizeof(netinfo_addr_t));
  /* Unknown types may not be sent in my_addrs. */
  ni.my_addrs[0].atype = 9;
  T_EQ_INT(netinfo_encode(&ni, out, sizeof(out), &len), CHIVE_ERR_INVAL);
  ni.my_addrs[0].atype = 4;
  ni.n_my_addrs = NETINFO_MAX_MY_ADDRS + 1;
  T_EQ_INT(netinfo_encode(&ni, out, sizeof(out), &len), CHIVE_ERR_INVAL);

  /* More addresses than we keep: extras dropped, all validated. */
  uint8_t many[4 + 2 + 1 + 6 * 20];
  memset(many, 0, sizeof(many));
  many[6] = 20;
  for (int i = 0; i < 20; i++) {
    many[7 + 6 * i] = 4;
    many[8 + 6 * i] = 4;
    many[12 + 6 * i] = (uint8_t)i;
  }
  T_OK(netinfo_parse(many, sizeof(many), &ni));
  T_EQ_UINT(ni.n_my_addrs, NETINFO_MAX_MY_ADDRS);
  T_EQ_UINT(ni.my_addrs[7].addr[3], 7);
  T_EQ_INT(netinfo_parse(many, sizeof(many) - 1, &ni), CHIVE_ERR_PROTO);
done:
  return;
}

/* ---- PADDING_NEGOTIATE ------------------------------------------------- */

static void
test_padding_negotiate(void)
{
  /* version 0, START, 1500 ms, 9500 ms (padding-spec §2.6 defaults). */
  const uint8_t body[] = {0x00, 0x02, 0x05, 0xdc, 0x25, 0x1c};
  padding_negotiate_t pn;
  T_OK(padding_negotiate_parse(body, sizeof(body), &pn));
  T_EQ_UINT(pn.version, 0);
  T_EQ_UINT(pn.command, PADDING_NEGOTIATE_START);
  T_EQ_UINT(pn.ito_low_ms, 1500);
  T_EQ_UINT(pn.ito_high_ms, 9500);
  uint8_t out[8];
  size_t len;
  T_OK(padding_negotiate_encode(&pn, out, sizeof(out), &len));
  T_EQ_UINT(len, PADDING_NEGOTIATE_LEN);
  T_EQ_MEM(out, body, len);
  T_EQ_INT(padding_negotiate_encode(&pn, out, 5, &len), CHIVE_ERR_LIMIT);
  for (size_t i = 0; i < sizeof(body); i++)
    T_EQ_INT(padding_negotiate_parse(body, i, &pn), CHIVE_ERR_PROTO);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_versions_golden), T_CASE(test_versions_limit),
    T_CASE(test_certs_parse),     T_CASE(test_certs_limits),
    T_CASE(test_auth_challenge),  T_CASE(test_netinfo_golden),
    T_CASE(test_netinfo_unknown), T_CASE(test_padding_negotiate),
    T_END,
};
T_MAIN(cases)
