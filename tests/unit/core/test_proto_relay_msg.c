/* Unit tests for core/proto/relay_msg: relay message bodies (tor-spec
 * §5.1.2, §5.4, §6.2-§6.4, §7.3.1, proposal 289). */
#include <string.h>

#include "core/proto/relay_msg.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ---- BEGIN ------------------------------------------------------------- */

static void
test_begin_golden(void)
{
  /* tor-spec §6.2: "www.example.com:443" NUL, FLAGS = IPv6-okay |
   * IPv6-preferred = 0x00000005. */
  static const uint8_t body[] = "www.example.com:443\0\x00\x00\x00\x05";
  const size_t blen = sizeof(body) - 1; /* drop the literal's own NUL */
  begin_t b;
  T_OK(begin_parse(body, blen, &b));
  T_EQ_UINT(b.host_type, BEGIN_HOST_NAME);
  T_EQ_STR(b.host, "www.example.com");
  T_EQ_UINT(b.port, 443);
  T_EQ_UINT(b.flags, BEGIN_FLAG_IPV6_OK | BEGIN_FLAG_IPV6_PREFERRED);
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_UINT(len, blen);
  T_EQ_MEM(out, body, blen);
  T_EQ_INT(begin_encode(&b, out, blen - 1, &len), CHIVE_ERR_LIMIT);

  /* Prefixes without the NUL fail; after it, a partial FLAGS field
   * means "no flags". */
  for (size_t i = 0; i < blen; i++) {
    uint8_t *p = chive_memdup(body, i ? i : 1);
    begin_t b2;
    b2.port = 7;
    chive_err_t e = begin_parse(p, i, &b2);
    chive_free(p);
    if (i < 20) {
      T_EQ_INT(e, CHIVE_ERR_PROTO);
      T_EQ_UINT(b2.port, 7);
    } else {
      T_OK(e);
      T_EQ_UINT(b2.flags, 0);
    }
  }
  /* No flags: encoded without the field, like tor. */
  b.flags = 0;
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_UINT(len, 20);
done:
  return;
}

static void
test_begin_hosts(void)
{
  begin_t b;
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  static const uint8_t v4[] = "1.2.3.4:80";
  T_OK(begin_parse(v4, sizeof(v4), &b));
  T_EQ_UINT(b.host_type, BEGIN_HOST_IPV4);
  T_EQ_MEM(b.addr, "\x01\x02\x03\x04", 4);
  static const uint8_t v6[] = "[2001:DB8::1]:22";
  T_OK(begin_parse(v6, sizeof(v6), &b));
  T_EQ_UINT(b.host_type, BEGIN_HOST_IPV6);
  T_EQ_STR(b.host, "2001:db8::1");
  T_EQ_UINT(b.addr[0], 0x20);
  T_EQ_UINT(b.addr[15], 0x01);
  T_EQ_UINT(b.port, 22);
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_MEM(out, "[2001:db8::1]:22", 17);
  static const uint8_t upper[] = "WWW.Example.COM:8080";
  T_OK(begin_parse(upper, sizeof(upper), &b));
  T_EQ_STR(b.host, "www.example.com");
  T_EQ_UINT(b.port, 8080);
  /* Onion-service BEGIN: empty address (rend-spec). */
  static const uint8_t hs[] = ":80";
  T_OK(begin_parse(hs, sizeof(hs), &b));
  T_EQ_UINT(b.host_type, BEGIN_HOST_EMPTY);
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_UINT(len, 4);

  static const char *const bad[] = {
      "host",     "host:",     "host:0",      "host:65536", "host:8a",
      "ho st:80", "[::1:80",   "::1:80",      "[1.2.3.4]:80",
      "a/b:80",   "host:+80",  "host:123456", "[]:80",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    T_EQ_INT(begin_parse((const uint8_t *)bad[i], strlen(bad[i]) + 1, &b),
             CHIVE_ERR_PROTO);
  }
  static const uint8_t nonul[] = {'a', ':', '8', '0'};
  T_EQ_INT(begin_parse(nonul, sizeof(nonul), &b), CHIVE_ERR_PROTO);
  T_OK(begin_parse((const uint8_t *)"h:65535", 8, &b));
  T_EQ_UINT(b.port, 65535);
done:
  return;
}

static void
test_begin_init(void)
{
  begin_t b;
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(begin_init(&b, "::1", 443, BEGIN_FLAG_IPV6_OK));
  T_EQ_UINT(b.host_type, BEGIN_HOST_IPV6);
  T_OK(begin_init(&b, "[::1]", 443, BEGIN_FLAG_IPV6_OK));
  T_EQ_STR(b.host, "::1");
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_MEM(out, "[::1]:443\0\0\0\0\1", len);
  T_OK(begin_init(&b, "Example.ORG", 80, 0));
  T_EQ_STR(b.host, "example.org");
  T_OK(begin_init(&b, "", 80, 0));
  T_EQ_INT(begin_init(&b, "example.org", 0, 0), CHIVE_ERR_INVAL);
  T_EQ_INT(begin_init(&b, "exa mple.org", 80, 0), CHIVE_ERR_INVAL);
  char longname[RELAY_MAX_HOSTNAME_LEN + 2];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  T_EQ_INT(begin_init(&b, longname, 80, 0), CHIVE_ERR_INVAL);
  longname[RELAY_MAX_HOSTNAME_LEN] = '\0';
  T_OK(begin_init(&b, longname, 65535, 0));
  T_OK(begin_encode(&b, out, sizeof(out), &len));
  T_EQ_UINT(len, BEGIN_MAX_ADDRPORT_LEN + 1);
  begin_t b2;
  T_OK(begin_parse(out, len, &b2));
  T_EQ_STR(b2.host, b.host);
  /* An inconsistent struct is refused. */
  b.host_type = BEGIN_HOST_IPV4;
  T_EQ_INT(begin_encode(&b, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

/* ---- CONNECTED --------------------------------------------------------- */

static void
test_connected(void)
{
  connected_t c;
  uint8_t out[64];
  size_t len;
  T_OK(connected_parse(NULL, 0, &c));
  T_EQ_UINT(c.atype, RELAY_ATYPE_NONE);
  T_OK(connected_encode(&c, out, sizeof(out), &len));
  T_EQ_UINT(len, 0);

  /* 93.184.216.34, TTL 3600. */
  const uint8_t v4[] = {93, 184, 216, 34, 0, 0, 0x0e, 0x10};
  T_OK(connected_parse(v4, sizeof(v4), &c));
  T_EQ_UINT(c.atype, RELAY_ATYPE_IPV4);
  T_EQ_MEM(c.addr, v4, 4);
  T_EQ_UINT(c.ttl, 3600);
  T_OK(connected_encode(&c, out, sizeof(out), &len));
  T_EQ_UINT(len, CONNECTED_IPV4_LEN);
  T_EQ_MEM(out, v4, len);
  for (size_t i = 1; i < sizeof(v4); i++)
    T_EQ_INT(connected_parse(v4, i, &c), CHIVE_ERR_PROTO);

  uint8_t v6[CONNECTED_IPV6_LEN + 2];
  memset(v6, 0, sizeof(v6));
  v6[4] = 6;
  v6[5] = 0x20;
  v6[6] = 0x01;
  v6[20] = 0x01;
  v6[24] = 60;
  T_OK(connected_parse(v6, sizeof(v6), &c)); /* trailing ignored */
  T_EQ_UINT(c.atype, RELAY_ATYPE_IPV6);
  T_EQ_MEM(c.addr, v6 + 5, 16);
  T_EQ_UINT(c.ttl, 60);
  T_OK(connected_encode(&c, out, sizeof(out), &len));
  T_EQ_UINT(len, CONNECTED_IPV6_LEN);
  T_EQ_MEM(out, v6, len);
  for (size_t i = 1; i < CONNECTED_IPV6_LEN; i++)
    T_EQ_INT(connected_parse(v6, i, &c), CHIVE_ERR_PROTO);
  v6[4] = 4; /* zero address, but not type 6 */
  T_EQ_INT(connected_parse(v6, sizeof(v6), &c), CHIVE_ERR_PROTO);

  c.atype = RELAY_ATYPE_IPV4;
  memset(c.addr, 0, 4);
  T_EQ_INT(connected_encode(&c, out, sizeof(out), &len), CHIVE_ERR_INVAL);
  c.atype = 5;
  T_EQ_INT(connected_encode(&c, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

/* ---- END --------------------------------------------------------------- */

static void
test_end(void)
{
  end_t e;
  uint8_t out[64];
  size_t len;
  T_OK(end_parse(NULL, 0, &e));
  T_EQ_UINT(e.reason, END_REASON_MISC);
  const uint8_t done_[] = {END_REASON_DONE, 0x99};
  T_OK(end_parse(done_, sizeof(done_), &e));
  T_EQ_UINT(e.reason, END_REASON_DONE);
  T_EQ_UINT(e.atype, 0);
  T_OK(end_encode(&e, out, sizeof(out), &len));
  T_EQ_UINT(len, 1);

  const uint8_t ep4[] = {4, 10, 0, 0, 1, 0, 0, 1, 0};
  T_OK(end_parse(ep4, sizeof(ep4), &e));
  T_EQ_UINT(e.atype, RELAY_ATYPE_IPV4);
  T_EQ_MEM(e.addr, "\x0a\x00\x00\x01", 4);
  T_EQ_UINT(e.ttl, 256);
  T_OK(end_encode(&e, out, sizeof(out), &len));
  T_EQ_UINT(len, sizeof(ep4));
  T_EQ_MEM(out, ep4, len);
  /* TTL absent reads as 0xffffffff. */
  T_OK(end_parse(ep4, 5, &e));
  T_EQ_UINT(e.atype, RELAY_ATYPE_IPV4);
  T_EQ_UINT(e.ttl, RELAY_TTL_ABSENT);
  /* IPv6, no TTL. */
  uint8_t ep6[17];
  memset(ep6, 0x11, sizeof(ep6));
  ep6[0] = END_REASON_EXITPOLICY;
  T_OK(end_parse(ep6, sizeof(ep6), &e));
  T_EQ_UINT(e.atype, RELAY_ATYPE_IPV6);
  T_EQ_UINT(e.ttl, RELAY_TTL_ABSENT);
  /* Wrong lengths: address ignored, END still processed. */
  T_OK(end_parse(ep4, 3, &e));
  T_EQ_UINT(e.reason, END_REASON_EXITPOLICY);
  T_EQ_UINT(e.atype, 0);
  T_OK(end_parse(ep6, 12, &e));
  T_EQ_UINT(e.atype, 0);
  e.atype = 9;
  T_EQ_INT(end_encode(&e, out, sizeof(out), &len), CHIVE_ERR_INVAL);
  e.atype = RELAY_ATYPE_IPV4;
  T_EQ_INT(end_encode(&e, out, 8, &len), CHIVE_ERR_LIMIT);

  T_EQ_STR(end_reason_name(END_REASON_MISC), "MISC");
  T_EQ_STR(end_reason_name(END_REASON_EXITPOLICY), "EXITPOLICY");
  T_EQ_STR(end_reason_name(END_REASON_NOTDIRECTORY), "NOTDIRECTORY");
  T_EQ_STR(end_reason_name(0), "UNKNOWN");
  T_EQ_STR(end_reason_name(15), "UNKNOWN");
done:
  return;
}

/* ---- SENDME ------------------------------------------------------------ */

static void
test_sendme(void)
{
  sendme_t s;
  uint8_t out[64];
  size_t len;
  T_OK(sendme_parse(NULL, 0, &s));
  T_EQ_UINT(s.version, 0);
  const uint8_t v0[] = {0, 0, 0};
  T_OK(sendme_parse(v0, 3, &s));
  T_EQ_UINT(s.version, 0);
  T_OK(sendme_encode(&s, out, sizeof(out), &len));
  T_EQ_UINT(len, 3);
  T_EQ_MEM(out, v0, 3);

  /* proposal 289: VERSION 1, DATA_LEN 20, DIGEST. */
  uint8_t v1[3 + 20 + 5];
  v1[0] = 1;
  v1[1] = 0;
  v1[2] = 20;
  for (int i = 0; i < 25; i++)
    v1[3 + i] = (uint8_t)(0xd0 + i);
  T_OK(sendme_parse(v1, 23, &s));
  T_EQ_UINT(s.version, 1);
  T_EQ_MEM(s.digest, v1 + 3, 20);
  T_OK(sendme_encode(&s, out, sizeof(out), &len));
  T_EQ_UINT(len, 23);
  T_EQ_MEM(out, v1, 23);
  T_EQ_INT(sendme_encode(&s, out, 22, &len), CHIVE_ERR_LIMIT);
  for (size_t i = 1; i < 23; i++)
    T_EQ_INT(sendme_parse(v1, i, &s), CHIVE_ERR_PROTO);
  /* DATA_LEN > 20: the first 20 bytes are the digest. */
  v1[2] = 25;
  T_OK(sendme_parse(v1, sizeof(v1), &s));
  T_EQ_MEM(s.digest, v1 + 3, 20);
  /* DATA_LEN < 20: close the circuit. */
  v1[2] = 19;
  T_EQ_INT(sendme_parse(v1, sizeof(v1), &s), CHIVE_ERR_PROTO);
  /* Unknown version parses; the circuit code decides. */
  const uint8_t v2[] = {2, 0, 1, 7};
  T_OK(sendme_parse(v2, sizeof(v2), &s));
  T_EQ_UINT(s.version, 2);
  T_EQ_INT(sendme_encode(&s, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

/* ---- EXTEND2 / EXTENDED2 ----------------------------------------------- */

/* Built by hand from tor-spec §5.1.2: NSPEC 3 in the suggested order
 * ([00] 127.0.0.1:9001, [02] legacy id, [03] Ed25519 id), then HTYPE 2
 * (ntor), HLEN 84, HDATA. */
static void
build_extend2_golden(uint8_t *buf, size_t *len_out)
{
  size_t n = 0;
  buf[n++] = 3;
  const uint8_t v4[] = {0x00, 0x06, 0x7f, 0x00, 0x00, 0x01, 0x23, 0x29};
  memcpy(buf + n, v4, sizeof(v4));
  n += sizeof(v4);
  buf[n++] = 0x02;
  buf[n++] = 0x14;
  memset(buf + n, 0xaa, 20);
  n += 20;
  buf[n++] = 0x03;
  buf[n++] = 0x20;
  memset(buf + n, 0xbb, 32);
  n += 32;
  buf[n++] = 0x00;
  buf[n++] = 0x02;
  buf[n++] = 0x00;
  buf[n++] = 0x54;
  memset(buf + n, 0xcc, 84);
  n += 84;
  *len_out = n;
}

static void
test_extend2_golden(void)
{
  uint8_t body[RELAY_PAYLOAD_LEN];
  size_t blen;
  build_extend2_golden(body, &blen);
  T_EQ_UINT(blen, 153);
  extend2_t e;
  T_OK(extend2_parse(body, blen, &e));
  T_EQ_UINT(e.n_specs, 3);
  T_EQ_UINT(e.specs[0].type, LINK_SPEC_IPV4);
  T_EQ_MEM(e.specs[0].addr, "\x7f\x00\x00\x01", 4);
  T_EQ_UINT(e.specs[0].port, 9001);
  const link_spec_t *ls = extend2_find_spec(&e, LINK_SPEC_LEGACY_ID);
  T_ASSERT(ls != NULL);
  T_EQ_UINT(ls->id[19], 0xaa);
  ls = extend2_find_spec(&e, LINK_SPEC_ED25519_ID);
  T_ASSERT(ls != NULL);
  T_EQ_UINT(ls->id[31], 0xbb);
  T_ASSERT(extend2_find_spec(&e, LINK_SPEC_IPV6) == NULL);
  T_EQ_UINT(e.create.htype, 2);
  T_EQ_UINT(e.create.hlen, 84);
  T_ASSERT(e.create.hdata == body + 69);

  /* Build the same message with the setters. */
  extend2_t m;
  memset(&m, 0, sizeof(m));
  uint8_t id20[20], id32[32], hdata[84];
  memset(id20, 0xaa, sizeof(id20));
  memset(id32, 0xbb, sizeof(id32));
  memset(hdata, 0xcc, sizeof(hdata));
  link_spec_set_ipv4(&m.specs[0], (const uint8_t *)"\x7f\x00\x00\x01", 9001);
  link_spec_set_legacy_id(&m.specs[1], id20);
  link_spec_set_ed25519_id(&m.specs[2], id32);
  m.n_specs = 3;
  m.create.htype = HTYPE_NTOR;
  m.create.hlen = sizeof(hdata);
  m.create.hdata = hdata;
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(extend2_encode(&m, out, sizeof(out), &len));
  T_EQ_UINT(len, blen);
  T_EQ_MEM(out, body, blen);
  T_EQ_INT(extend2_encode(&m, out, blen - 1, &len), CHIVE_ERR_LIMIT);

  for (size_t i = 0; i < blen; i++) {
    uint8_t *p = chive_memdup(body, i ? i : 1);
    extend2_t e2;
    e2.n_specs = 99;
    T_EQ_INT(extend2_parse(p, i, &e2), CHIVE_ERR_PROTO);
    chive_free(p);
    T_EQ_UINT(e2.n_specs, 99);
  }
done:
  return;
}

static void
test_extend2_specs(void)
{
  /* An unknown type (7, 3 bytes) and an IPv6 one; empty handshake. */
  uint8_t body[] = {2,    7,    3,    1,    2,    3, /* [07] 3 bytes */
                    1,    18,   0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0,
                    0,    0,    0,    0,    0,    1,    /* 2001:db8::1 */
                    0x01, 0xbb,                         /* port 443 */
                    0x00, 0x03, 0x00, 0x00};            /* ntor-v3, 0 */
  extend2_t e;
  T_OK(extend2_parse(body, sizeof(body), &e));
  T_EQ_UINT(e.n_specs, 2);
  T_EQ_UINT(e.specs[0].type, 7);
  T_EQ_UINT(e.specs[0].len, 3);
  T_EQ_MEM(e.specs[0].raw, "\x01\x02\x03", 3);
  T_EQ_UINT(e.specs[1].type, LINK_SPEC_IPV6);
  T_EQ_UINT(e.specs[1].port, 443);
  T_EQ_UINT(e.specs[1].addr[15], 1);
  T_EQ_UINT(e.create.htype, HTYPE_NTOR_V3);
  T_EQ_UINT(e.create.hlen, 0);
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(extend2_encode(&e, out, sizeof(out), &len));
  T_EQ_UINT(len, sizeof(body));
  T_EQ_MEM(out, body, sizeof(body));

  /* A known type with a wrong length. */
  body[7] = 17;
  T_EQ_INT(extend2_parse(body, sizeof(body), &e), CHIVE_ERR_PROTO);
  body[7] = 18;
  /* Two legacy identities. */
  uint8_t dup[1 + 2 * 22 + 4];
  memset(dup, 0, sizeof(dup));
  dup[0] = 2;
  dup[1] = 2;
  dup[2] = 20;
  dup[23] = 2;
  dup[24] = 20;
  T_EQ_INT(extend2_parse(dup, sizeof(dup), &e), CHIVE_ERR_PROTO);
  dup[23] = 3;
  dup[24] = 20; /* Ed25519 with 20 bytes: wrong length */
  T_EQ_INT(extend2_parse(dup, sizeof(dup), &e), CHIVE_ERR_PROTO);
  /* Too many specifiers. */
  uint8_t many[1 + 2 * (EXTEND2_MAX_LINK_SPECS + 1) + 4];
  memset(many, 0, sizeof(many));
  many[0] = EXTEND2_MAX_LINK_SPECS + 1;
  for (int i = 0; i < EXTEND2_MAX_LINK_SPECS + 1; i++)
    many[1 + 2 * i] = 0x42;
  T_EQ_INT(extend2_parse(many, sizeof(many), &e), CHIVE_ERR_LIMIT);
  many[0] = EXTEND2_MAX_LINK_SPECS;
  T_OK(extend2_parse(many, sizeof(many) - 2, &e));
  T_EQ_UINT(e.n_specs, EXTEND2_MAX_LINK_SPECS);
  e.n_specs = EXTEND2_MAX_LINK_SPECS + 1;
  T_EQ_INT(extend2_encode(&e, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_extended2(void)
{
  uint8_t body[RELAY_PAYLOAD_LEN];
  memset(body, 0x5c, sizeof(body));
  body[0] = 0;
  body[1] = 64;
  created2_t c;
  T_OK(extended2_parse(body, 66, &c));
  T_EQ_UINT(c.hlen, 64);
  T_ASSERT(c.hdata == body + 2);
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(extended2_encode(&c, out, sizeof(out), &len));
  T_EQ_UINT(len, 66);
  T_EQ_MEM(out, body, 66);
  for (size_t i = 0; i < 66; i++)
    T_EQ_INT(extended2_parse(body, i, &c), CHIVE_ERR_PROTO);
  body[0] = 0x01;
  body[1] = 0xf0; /* 496 fits a relay body exactly */
  T_OK(extended2_parse(body, sizeof(body), &c));
  body[1] = 0xf1;
  T_EQ_INT(extended2_parse(body, sizeof(body), &c), CHIVE_ERR_PROTO);
  c.hlen = EXTENDED2_MAX_HLEN + 1;
  T_EQ_INT(extended2_encode(&c, out, sizeof(out), &len), CHIVE_ERR_INVAL);

  uint8_t reason = 99;
  T_OK(truncated_parse(NULL, 0, &reason));
  T_EQ_UINT(reason, DESTROY_REASON_NONE);
  T_OK(truncated_encode(DESTROY_REASON_OR_IDENTITY, out, sizeof(out), &len));
  T_EQ_UINT(len, 1);
  T_OK(truncated_parse(out, len, &reason));
  T_EQ_UINT(reason, DESTROY_REASON_OR_IDENTITY);
done:
  return;
}

/* ---- RESOLVE / RESOLVED ------------------------------------------------ */

static void
test_resolve(void)
{
  resolve_t r;
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  static const uint8_t body[] = "Example.COM\0junk";
  T_OK(resolve_parse(body, sizeof(body), &r));
  T_EQ_STR(r.name, "example.com");
  T_OK(resolve_encode("example.com", out, sizeof(out), &len));
  T_EQ_UINT(len, 12);
  T_EQ_MEM(out, "example.com", 12);
  for (size_t i = 0; i < 12; i++)
    T_EQ_INT(resolve_parse(body, i, &r), CHIVE_ERR_PROTO);
  T_EQ_INT(resolve_parse((const uint8_t *)"a b", 4, &r), CHIVE_ERR_PROTO);
  T_EQ_INT(resolve_encode("a b", out, sizeof(out), &len), CHIVE_ERR_INVAL);
  T_EQ_INT(resolve_encode("", out, sizeof(out), &len), CHIVE_ERR_INVAL);
  T_EQ_INT(resolve_encode("example.com", out, 11, &len), CHIVE_ERR_LIMIT);

  char name[80];
  T_OK(resolve_ptr_name(RELAY_ATYPE_IPV4, (const uint8_t *)"\xc0\x00\x02\x01",
                        name, sizeof(name)));
  T_EQ_STR(name, "1.2.0.192.in-addr.arpa");
  T_OK(resolve_parse((const uint8_t *)name, strlen(name) + 1, &r));
  uint8_t v6[16] = {0x20, 0x01, 0x0d, 0xb8};
  v6[15] = 0x01;
  T_OK(resolve_ptr_name(RELAY_ATYPE_IPV6, v6, name, sizeof(name)));
  T_EQ_STR(name, "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0."
                 "8.b.d.0.1.0.0.2.ip6.arpa");
  T_OK(resolve_encode(name, out, sizeof(out), &len));
  T_EQ_INT(resolve_ptr_name(RELAY_ATYPE_IPV6, v6, name, 72), CHIVE_ERR_LIMIT);
  T_EQ_INT(resolve_ptr_name(5, v6, name, sizeof(name)), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_resolved(void)
{
  /* tor-spec §6.4: an IPv4 answer 192.0.2.1 TTL 3600, an IPv6 answer
   * 2001:db8::1 TTL 60, a hostname "example.com" TTL 60. */
  uint8_t body[10 + 22 + 17];
  size_t n = 0;
  const uint8_t a4[] = {4, 4, 192, 0, 2, 1, 0, 0, 0x0e, 0x10};
  memcpy(body + n, a4, sizeof(a4));
  n += sizeof(a4);
  body[n++] = 6;
  body[n++] = 16;
  memset(body + n, 0, 16);
  body[n] = 0x20;
  body[n + 1] = 0x01;
  body[n + 15] = 1;
  n += 16;
  memcpy(body + n, "\x00\x00\x00\x3c", 4);
  n += 4;
  body[n++] = 0;
  body[n++] = 11;
  memcpy(body + n, "example.com", 11);
  n += 11;
  memcpy(body + n, "\x00\x00\x00\x3c", 4);
  n += 4;
  T_EQ_UINT(n, sizeof(body));

  resolved_t r;
  T_OK(resolved_parse(body, n, &r));
  T_EQ_UINT(r.n_answers, 3);
  T_EQ_UINT(r.answers[0].type, RESOLVED_TYPE_IPV4);
  T_EQ_MEM(r.answers[0].value, "\xc0\x00\x02\x01", 4);
  T_EQ_UINT(r.answers[0].ttl, 3600);
  T_EQ_UINT(r.answers[1].type, RESOLVED_TYPE_IPV6);
  T_EQ_UINT(r.answers[1].ttl, 60);
  T_EQ_UINT(r.answers[2].type, RESOLVED_TYPE_HOSTNAME);
  T_EQ_MEM(r.answers[2].value, "example.com", 11);
  uint8_t out[RELAY_PAYLOAD_LEN];
  size_t len;
  T_OK(resolved_encode(&r, out, sizeof(out), &len));
  T_EQ_UINT(len, n);
  T_EQ_MEM(out, body, n);

  /* Prefixes: fine at answer boundaries, PROTO inside an answer. */
  for (size_t i = 0; i < n; i++) {
    uint8_t *p = chive_memdup(body, i ? i : 1);
    chive_err_t e = resolved_parse(p, i, &r);
    chive_free(p);
    if (i == 0 || i == 10 || i == 32)
      T_OK(e);
    else
      T_EQ_INT(e, CHIVE_ERR_PROTO);
  }
  /* IPv4 answer of the wrong length. */
  const uint8_t bad4[] = {4, 3, 1, 2, 3, 0, 0, 0, 0};
  T_EQ_INT(resolved_parse(bad4, sizeof(bad4), &r), CHIVE_ERR_PROTO);
  /* Errors and unknown types are kept. */
  const uint8_t err[] = {0xf0, 2, 'n', 'o', 0, 0, 0, 0,
                         0x77, 0,   0,   0,   0, 1};
  T_OK(resolved_parse(err, sizeof(err), &r));
  T_EQ_UINT(r.n_answers, 2);
  T_EQ_UINT(r.answers[0].type, RESOLVED_TYPE_ERROR_TRANSIENT);
  T_EQ_UINT(r.answers[1].type, 0x77);
  T_EQ_UINT(r.answers[1].ttl, 1);
  /* Over the answer limit. */
  uint8_t many[RESOLVED_ANSWER_OVERHEAD * (RESOLVED_MAX_ANSWERS + 1)];
  memset(many, 0, sizeof(many));
  T_OK(resolved_parse(many, sizeof(many) - RESOLVED_ANSWER_OVERHEAD, &r));
  T_EQ_UINT(r.n_answers, RESOLVED_MAX_ANSWERS);
  T_EQ_INT(resolved_parse(many, sizeof(many), &r), CHIVE_ERR_LIMIT);
  r.answers[0].type = RESOLVED_TYPE_IPV6;
  r.answers[0].len = 4;
  T_EQ_INT(resolved_encode(&r, out, sizeof(out), &len), CHIVE_ERR_INVAL);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_begin_golden),  T_CASE(test_begin_hosts),
    T_CASE(test_begin_init),    T_CASE(test_connected),
    T_CASE(test_end),           T_CASE(test_sendme),
    T_CASE(test_extend2_golden), T_CASE(test_extend2_specs),
    T_CASE(test_extended2),     T_CASE(test_resolve),
    T_CASE(test_resolved),
    T_END,
};
T_MAIN(cases)
