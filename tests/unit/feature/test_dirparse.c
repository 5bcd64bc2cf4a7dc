/* Unit tests for feature/dir/parse: the meta-format tokenizer and its
 * rules, the helpers, protover, policy summaries, params, and the
 * consensus / microdescriptor / authority-certificate parsers on small
 * hand-written documents (dir-spec §1.2, §3.1, §3.3, §3.4.1, §3.9.2). */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/dirarena.h"
#include "feature/dir/parse/dirtok.h"
#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "feature/dir/parse/policy_summary.h"
#include "feature/dir/parse/protover.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

#define ID0 "AAAAAAAAAAAAAAAAAAAAAAAAAAA"  /* 20 zero bytes */
#define ID1 "AQAAAAAAAAAAAAAAAAAAAAAAAAA"  /* 01 00 .. */
#define MD0 "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
#define MD1 "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE"
#define AUTHFP "0123456789ABCDEF0123456789ABCDEF01234567"

static const char CONS[] =
  "network-status-version 3 microdesc\n"
  "vote-status consensus\n"
  "consensus-method 28\n"
  "valid-after 2020-01-01 00:00:00\n"
  "fresh-until 2020-01-01 01:00:00\n"
  "valid-until 2020-01-01 03:00:00\n"
  "voting-delay 300 60\n"
  "client-versions 0.4.8.1,0.4.8.2\n"
  "known-flags Exit Fast Guard Running Stable Valid\n"
  "recommended-client-protocols Cons=1-2 Link=4-5\n"
  "required-client-protocols Cons=1-2 Link=4\n"
  "params CircuitPriorityHalflifeMsec=30000 circwindow=50 foo=-3\n"
  "shared-rand-current-value 5 " MD0 "=\n"
  "dir-source auth1 " AUTHFP " auth1.example 10.0.0.1 80 443\n"
  "contact someone <a@example.org>\n"
  "vote-digest 00112233445566778899AABBCCDDEEFF00112233\n"
  "r relayA " ID0 " 2020-01-01 00:00:00 10.0.0.2 9001 0\n"
  "a [2001:db8::1]:9002\n"
  "m " MD0 "\n"
  "s Exit Fast Running Valid\n"
  "v Tor 0.4.8.1\n"
  "pr Cons=1-2 Link=1-5\n"
  "w Bandwidth=100 Unmeasured=1\n"
  "r relayB " ID1 " 2020-01-01 00:00:00 10.0.0.3 443 80\n"
  "m " MD1 "\n"
  "s Fast Guard Running Stable Valid\n"
  "v Tor 0.4.8.1\n"
  "pr Cons=1-2 Link=1-5\n"
  "w Bandwidth=200\n"
  "directory-footer\n"
  "bandwidth-weights Wgg=6000 Wmm=10000\n"
  "directory-signature sha256 " AUTHFP
  " FEDCBA9876543210FEDCBA9876543210FEDCBA98\n"
  "-----BEGIN SIGNATURE-----\n"
  "AAECAwQFBgcICQ==\n"
  "-----END SIGNATURE-----\n";

/** Return a chive_malloc'd copy of <b>s</b> with the first <b>old</b>
 * replaced by <b>new_</b> (NULL if old is absent). */
static char *
replace(const char *s, const char *old, const char *new_)
{
  const char *at = strstr(s, old);
  if (!at)
    return NULL;
  size_t n = strlen(s) - strlen(old) + strlen(new_);
  char *out = chive_malloc(n + 1);
  if (!out)
    return NULL;
  size_t pre = (size_t)(at - s);
  memcpy(out, s, pre);
  memcpy(out + pre, new_, strlen(new_));
  const char *tail = at + strlen(old);
  memcpy(out + pre + strlen(new_), tail, strlen(tail) + 1);
  return out;
}

/** Parse <b>doc</b> as a consensus and return the error. */
static chive_err_t
cons_err(const char *doc)
{
  ns_consensus_t *c = NULL;
  chive_err_t e = ns_consensus_parse(doc, strlen(doc), &c);
  ns_consensus_free(c);
  return e;
}

/** Replace and parse; return the error (CHIVE_ERR_INTERNAL if the test's
 * own replacement failed). */
static chive_err_t
mutated_err(const char *old, const char *new_)
{
  char *d = replace(CONS, old, new_);
  if (!d)
    return CHIVE_ERR_INTERNAL;
  chive_err_t e = cons_err(d);
  chive_free(d);
  return e;
}

/* ---- tokenizer ---------------------------------------------------------*/

static void
test_tok_basic(void)
{
  static const char doc[] =
    "alpha b  c\td \n"
    "\n"
    "key-2\n"
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "AAECAw==\n"
    "-----END RSA PUBLIC KEY-----\n"
    "x\n";
  dirtok_reader_t *r = NULL;
  dirtok_t t;
  T_OK(dirtok_reader_new(doc, strlen(doc), &r));
  T_OK(dirtok_next(r, &t));
  T_ASSERT(dirtok_str_eq(t.kw, "alpha"));
  T_EQ_UINT(t.n_args, 3);
  T_ASSERT(dirtok_str_eq(t.args[0], "b"));
  T_ASSERT(dirtok_str_eq(t.args[1], "c"));
  T_ASSERT(dirtok_str_eq(t.args[2], "d"));
  T_ASSERT(dirtok_str_eq(t.rest, "b  c\td"));
  T_ASSERT(!t.has_object);
  T_EQ_UINT(t.start, 0);
  T_OK(dirtok_next(r, &t));
  T_ASSERT(dirtok_str_eq(t.kw, "key-2"));
  T_EQ_UINT(t.n_args, 0);
  T_ASSERT(t.has_object);
  T_ASSERT(dirtok_str_eq(t.obj_type, "RSA PUBLIC KEY"));
  T_EQ_UINT(t.obj_len, 4);
  T_EQ_MEM(t.obj, "\x00\x01\x02\x03", 4);
  T_EQ_UINT(t.start, 15);
  T_EQ_UINT(t.line_end, 21);
  T_EQ_UINT(t.end, strlen(doc) - 2);
  T_ASSERT(dirtok_str_eq(dirtok_peek_keyword(r), "x"));
  T_OK(dirtok_next(r, &t));
  T_ASSERT(dirtok_at_end(r));
  T_EQ_INT(dirtok_next(r, &t), CHIVE_ERR_TRUNCATED);
done:
  dirtok_reader_free(r);
}

/** Tokenize all of <b>doc</b> (length <b>len</b>); return first error. */
static chive_err_t
tok_all(const char *doc, size_t len, bool annotations)
{
  dirtok_reader_t *r = NULL;
  chive_err_t e = dirtok_reader_new(doc, len, &r);
  if (e)
    return e;
  dirtok_reader_allow_annotations(r, annotations);
  while (!dirtok_at_end(r)) {
    dirtok_t t;
    if ((e = dirtok_next(r, &t)))
      break;
  }
  dirtok_reader_free(r);
  return e;
}

static void
test_tok_errors(void)
{
  char *big = NULL;
#define TOKERR(s, err) T_EQ_INT(tok_all((s), sizeof(s) - 1, false), (err))
  TOKERR("a\n", CHIVE_OK);
  TOKERR("a", CHIVE_ERR_TRUNCATED);              /* no final NL */
  TOKERR("-a\n", CHIVE_ERR_PROTO);               /* keyword start */
  TOKERR("a_b\n", CHIVE_ERR_PROTO);              /* keyword char */
  TOKERR("a b\x01\n", CHIVE_ERR_PROTO);          /* control char */
  TOKERR("a\r\n", CHIVE_ERR_PROTO);              /* CR */
  TOKERR("a b\0c\n", CHIVE_ERR_PROTO);           /* NUL byte */
  TOKERR(" a\n", CHIVE_ERR_PROTO);               /* leading space */
  TOKERR("@ann x\n", CHIVE_ERR_PROTO);           /* annotations off */
  T_EQ_INT(tok_all("@ann x\n", 7, true), CHIVE_OK);
  /* objects */
  TOKERR("k\n-----BEGIN X-----\nAAAA\n-----END X-----\n", CHIVE_OK);
  TOKERR("k\n-----BEGIN X-----\nAAAA\n-----END Y-----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nAA*A\n-----END X-----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nA\n-----END X-----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nAA=A\n-----END X-----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nAA===\n-----END X-----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nAAAA\n", CHIVE_ERR_TRUNCATED);
  TOKERR("k\n-----BEGIN  X-----\nAAAA\n-----END  X-----\n",
         CHIVE_ERR_PROTO); /* double space in type */
  TOKERR("k\n-----BEGIN X----\nAAAA\n-----END X----\n", CHIVE_ERR_PROTO);
  TOKERR("k\n-----BEGIN X-----\nAAAA\n-----END X-----x\n", CHIVE_ERR_PROTO);
  TOKERR("-----END X-----\n", CHIVE_ERR_PROTO);  /* stray END */
  /* too many arguments */
  size_t n = 2 + (DIRTOK_MAX_ARGS + 1) * 2;
  big = chive_malloc(n + 1);
  T_ASSERT(big);
  big[0] = 'k';
  for (size_t i = 0; i < DIRTOK_MAX_ARGS + 1; i++) {
    big[1 + 2 * i] = ' ';
    big[2 + 2 * i] = 'x';
  }
  big[n - 1] = '\n';
  T_EQ_INT(tok_all(big, n, false), CHIVE_ERR_LIMIT);
  big[n - 3] = '\n'; /* exactly DIRTOK_MAX_ARGS arguments */
  T_EQ_INT(tok_all(big, n - 2, false), CHIVE_OK);
  chive_free(big);
  /* oversize line */
  n = DIRTOK_MAX_LINE_LEN + 2;
  big = chive_malloc(n);
  T_ASSERT(big);
  memset(big, 'a', n);
  big[n - 1] = '\n';
  T_EQ_INT(tok_all(big, n, false), CHIVE_ERR_LIMIT);
  T_EQ_INT(tok_all(big + 1, n - 1, false), CHIVE_OK); /* exactly the max */
  /* oversize object */
  chive_free(big);
  n = 64 + 4 * DIRTOK_MAX_OBJECT_LEN;
  big = chive_malloc(n);
  T_ASSERT(big);
  memset(big, 'A', n);
  memcpy(big, "k\n-----BEGIN X-----\n", 20);
  memcpy(big + n - 17, "\n-----END X-----\n", 17);
  T_EQ_INT(tok_all(big, n, false), CHIVE_ERR_LIMIT);
  /* document size cap: checked before any byte is read */
  dirtok_reader_t *r = NULL;
  T_EQ_INT(dirtok_reader_new("x", DIR_MAX_DOC_SIZE + 1, &r),
           CHIVE_ERR_LIMIT);
  T_ASSERT(r == NULL);
#undef TOKERR
done:
  chive_free(big);
}

static void
test_tok_max_objects(void)
{
  static const char doc[] = "k\n-----BEGIN X-----\nAAAA\n-----END X-----\n"
                            "k\n-----BEGIN X-----\nAAAA\n-----END X-----\n";
  dirtok_reader_t *r = NULL;
  dirtok_t t;
  T_OK(dirtok_reader_new(doc, strlen(doc), &r));
  dirtok_reader_set_max_objects(r, 1);
  T_OK(dirtok_next(r, &t));
  T_EQ_INT(dirtok_next(r, &t), CHIVE_ERR_LIMIT);
done:
  dirtok_reader_free(r);
}

/* A rule table for the section tests. */
static const dirtok_rule_t RULES[] = {
  DIRTOK_T1_START("start", 1, 1, DIRTOK_OBJ_FORBIDDEN),
  DIRTOK_T1("one", 0, 2, DIRTOK_OBJ_FORBIDDEN),
  DIRTOK_T01("maybe", 0, DIRTOK_ANY, DIRTOK_OBJ_OPTIONAL),
  DIRTOK_T0N("many", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  DIRTOK_T1N("some", 0, 0, DIRTOK_OBJ_REQUIRED),
  DIRTOK_T1_END("end", 0, 0, DIRTOK_OBJ_FORBIDDEN),
};
static const dirtok_table_t TABLE = {RULES, CHIVE_ARRAY_LEN(RULES)};

/** Check <b>doc</b> as one section against TABLE. */
static chive_err_t
section_check(const char *doc)
{
  dirtok_reader_t *r = NULL;
  dirtok_section_t sec;
  chive_err_t e = dirtok_reader_new(doc, strlen(doc), &r);
  if (e)
    return e;
  dirtok_section_begin(&sec, &TABLE);
  while (!dirtok_at_end(r)) {
    dirtok_t t;
    int rule;
    if ((e = dirtok_next(r, &t)) || (e = dirtok_section_add(&sec, &t, &rule)))
      goto done;
  }
  e = dirtok_section_end(&sec);
done:
  dirtok_reader_free(r);
  return e;
}

#define OBJ "-----BEGIN S-----\nAAAA\n-----END S-----\n"

static void
test_tok_rules(void)
{
  T_OK(section_check("start 1\none\nsome\n" OBJ "end\n"));
  T_OK(section_check("start 1\nmaybe\n" OBJ "unknown 1 2\n" OBJ
                     "one a b\nmany x\nmany y\nsome\n" OBJ "end\n"));
  /* missing required keyword ("one") */
  T_EQ_INT(section_check("start 1\nsome\n" OBJ "end\n"), CHIVE_ERR_PROTO);
  /* missing "at end" item */
  T_EQ_INT(section_check("start 1\none\nsome\n" OBJ), CHIVE_ERR_PROTO);
  /* duplicate single keyword */
  T_EQ_INT(section_check("start 1\none\none\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1\nmaybe\nmaybe\none\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  /* "at start" not first / twice / missing */
  T_EQ_INT(section_check("one\nstart 1\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1\nstart 1\none\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("unknown\nstart 1\none\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  /* item after "at end" */
  T_EQ_INT(section_check("start 1\none\nsome\n" OBJ "end\nmany x\n"),
           CHIVE_ERR_PROTO);
  /* argument counts */
  T_EQ_INT(section_check("start\none\nsome\n" OBJ "end\n"), CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1 2\none\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1\none a b c\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1\none\nmany\nsome\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
  /* objects: required missing, forbidden present */
  T_EQ_INT(section_check("start 1\none\nsome\nend\n"), CHIVE_ERR_PROTO);
  T_EQ_INT(section_check("start 1\none\n" OBJ "some\n" OBJ "end\n"),
           CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_tok_helpers(void)
{
  int64_t t = 0;
  dirtok_str_t d = {"2017-10-29", 10}, h = {"12:00:00", 8};
  T_OK(dirtok_parse_time(d, h, &t));
  T_EQ_INT(t, 1509278400);
  dirtok_str_t d2 = {"1970-01-01", 10}, h2 = {"00:00:00", 8};
  T_OK(dirtok_parse_time(d2, h2, &t));
  T_EQ_INT(t, 0);
  dirtok_str_t d3 = {"2024-02-29", 10};
  T_OK(dirtok_parse_time(d3, h2, &t));
  T_EQ_INT(t, 1709164800);
  dirtok_str_t bad[] = {{"2023-02-29", 10}, {"2017-13-01", 10},
                        {"2017-1-011", 10}, {"1969-12-31", 10},
                        {"2017-10-2", 9}};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++)
    T_EQ_INT(dirtok_parse_time(bad[i], h, &t), CHIVE_ERR_PROTO);
  dirtok_str_t hb = {"24:00:00", 8};
  T_EQ_INT(dirtok_parse_time(d, hb, &t), CHIVE_ERR_PROTO);

  uint64_t u;
  dirtok_str_t n1 = {"18446744073709551615", 20}, n2 = {"18446744073709551616", 20};
  T_OK(dirtok_parse_u64(n1, 0, UINT64_MAX, &u));
  T_ASSERT(u == UINT64_MAX);
  T_EQ_INT(dirtok_parse_u64(n2, 0, UINT64_MAX, &u), CHIVE_ERR_PROTO);
  dirtok_str_t n3 = {"+1", 2}, n4 = {"", 0}, n5 = {"70000", 5};
  T_EQ_INT(dirtok_parse_u64(n3, 0, 10, &u), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_u64(n4, 0, 10, &u), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_u64(n5, 0, 65535, &u), CHIVE_ERR_PROTO);
  int64_t i64;
  dirtok_str_t m1 = {"-2147483648", 11}, m2 = {"2147483648", 10};
  T_OK(dirtok_parse_i64(m1, INT32_MIN, INT32_MAX, &i64));
  T_EQ_INT(i64, INT32_MIN);
  T_EQ_INT(dirtok_parse_i64(m2, INT32_MIN, INT32_MAX, &i64), CHIVE_ERR_PROTO);

  uint8_t b[32];
  dirtok_str_t b1 = {"AAECAw", 6}, b2 = {"AAECAw==", 8}, b3 = {"AAECA", 5};
  T_OK(dirtok_parse_base64(b1, b, 4));
  T_EQ_MEM(b, "\x00\x01\x02\x03", 4);
  T_OK(dirtok_parse_base64(b2, b, 4));
  T_EQ_INT(dirtok_parse_base64(b1, b, 5), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_base64(b3, b, 4), CHIVE_ERR_PROTO);
  dirtok_str_t x1 = {"0aFf", 4}, x2 = {"0g", 2};
  T_OK(dirtok_parse_hex(x1, b, 2));
  T_EQ_MEM(b, "\x0a\xff", 2);
  T_EQ_INT(dirtok_parse_hex(x2, b, 1), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_hex(x1, b, 1), CHIVE_ERR_PROTO);

  uint32_t ip;
  dirtok_str_t i1 = {"10.0.0.255", 10}, i2 = {"10.0.0.256", 10},
               i3 = {"10.0.0", 6}, i4 = {"10.0.0.01", 9};
  T_OK(dirtok_parse_ipv4(i1, &ip));
  T_EQ_UINT(ip, 0x0a0000ffu);
  T_EQ_INT(dirtok_parse_ipv4(i2, &ip), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_ipv4(i3, &ip), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_ipv4(i4, &ip), CHIVE_ERR_PROTO);
  uint16_t port;
  dirtok_str_t v1 = {"[2001:db8::1]:443", 17}, v2 = {"[2001:db8::1]", 13},
               v3 = {"[zz::1]:1", 9}, v4 = {"[::1]:0", 7};
  T_OK(dirtok_parse_ipv6_port(v1, b, &port));
  T_EQ_UINT(port, 443);
  T_EQ_UINT(b[0], 0x20);
  T_EQ_UINT(b[15], 1);
  T_EQ_INT(dirtok_parse_ipv6_port(v2, b, &port), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_ipv6_port(v3, b, &port), CHIVE_ERR_PROTO);
  T_EQ_INT(dirtok_parse_ipv6_port(v4, b, &port), CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_arena(void)
{
  dirarena_t *a = dirarena_new();
  T_ASSERT(a);
  uint8_t *p1 = dirarena_alloc(a, 3);
  uint8_t *p2 = dirarena_alloc(a, 5);
  T_ASSERT(p1 && p2 && p2 - p1 == 8);
  T_ASSERT(((uintptr_t)p2 & 7) == 0);
  uint8_t *big = dirarena_alloc(a, DIRARENA_CHUNK_LEN * 2);
  T_ASSERT(big);
  memset(big, 1, DIRARENA_CHUNK_LEN * 2);
  uint8_t *p3 = dirarena_alloc(a, 8);
  T_ASSERT(p3 == p2 + 8); /* the big block did not waste the chunk */
  char *s = dirarena_strndup(a, "hello", 3);
  T_EQ_STR(s, "hel");
  T_ASSERT(dirarena_alloc(a, DIRARENA_MAX_ALLOC + 1) == NULL);
  T_ASSERT(dirarena_bytes(a) >= DIRARENA_CHUNK_LEN * 3);
done:
  dirarena_free(a);
}

/* ---- protover / policy / params ----------------------------------------*/

static void
test_protover(void)
{
  protover_set_t a, b, m;
  char buf[256];
  static const char L[] =
    "Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1-2 HSDir=2 HSIntro=4-5 "
    "HSRend=1-2 Link=1-5 LinkAuth=1,3 Microdesc=1-2 Padding=2 Relay=1-4";
  T_OK(protover_parse(L, strlen(L), &a));
  T_ASSERT(protover_supports(&a, PROTO_FLOWCTRL, 2));
  T_ASSERT(protover_supports(&a, PROTO_LINKAUTH, 3));
  T_ASSERT(!protover_supports(&a, PROTO_LINKAUTH, 2));
  T_ASSERT(!protover_supports(&a, PROTO_CONFLUX, 1));
  /* round trip of a canonical list */
  T_EQ_UINT(protover_format(&a, buf, sizeof(buf)), strlen(L));
  T_EQ_STR(buf, L);
  /* unknown protocols are kept and sorted in */
  static const char U[] = "Zed=7 Cons=1,2,3,5 Abc=0-1 Link=63";
  T_OK(protover_parse(U, strlen(U), &b));
  T_EQ_UINT(b.n_unknown, 2);
  protover_format(&b, buf, sizeof(buf));
  T_EQ_STR(buf, "Abc=0-1 Cons=1-3,5 Link=63 Zed=7");
  /* truncation of the formatted text */
  size_t need = protover_format(&b, buf, 8);
  T_EQ_UINT(need, strlen("Abc=0-1 Cons=1-3,5 Link=63 Zed=7"));
  T_EQ_STR(buf, "Abc=0-1");
  /* missing */
  T_ASSERT(!protover_all_supported(&b, &a, &m));
  protover_format(&m, buf, sizeof(buf));
  T_EQ_STR(buf, "Abc=0-1 Cons=3,5 Link=63 Zed=7");
  T_ASSERT(protover_all_supported(&a, &a, &m));
  T_ASSERT(protover_is_empty(&m));
  /* errors */
  static const char *const BAD[] = {
    "Link=64", "Link=2-1", "Link", "Link=1-", "Link=,1", "Link=1,,2",
    "Link=01", "Link=1 Link=2", "=1", "Li nk=1", "Link=1;", "X=1 X=2",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(BAD); i++) {
    if (protover_parse(BAD[i], strlen(BAD[i]), &m) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", BAD[i]);
  }
  T_OK(protover_parse("", 0, &m));
  T_ASSERT(protover_is_empty(&m));
  T_OK(protover_parse("Link=", 5, &m));
  T_ASSERT(protover_is_empty(&m));
done:
  return;
}

static void
test_policy(void)
{
  dirarena_t *a = dirarena_new();
  policy_summary_t p;
  char buf[64];
  T_ASSERT(a);
  dirtok_str_t acc = {"accept", 6}, rej = {"reject", 6}, foo = {"foo", 3};
  dirtok_str_t l1 = {"80,443,1000-2000", 16};
  T_OK(policy_summary_parse(acc, l1, a, &p));
  T_ASSERT(policy_summary_allows_port(&p, 80));
  T_ASSERT(policy_summary_allows_port(&p, 1500));
  T_ASSERT(policy_summary_allows_port(&p, 2000));
  T_ASSERT(!policy_summary_allows_port(&p, 81));
  T_ASSERT(!policy_summary_allows_port(&p, 2001));
  T_ASSERT(!policy_summary_allows_port(&p, 0));
  T_ASSERT(policy_summary_allows_any(&p));
  T_EQ_UINT(policy_summary_format(&p, buf, sizeof(buf)), 23);
  T_EQ_STR(buf, "accept 80,443,1000-2000");
  T_OK(policy_summary_parse(rej, l1, a, &p));
  T_ASSERT(!policy_summary_allows_port(&p, 443));
  T_ASSERT(policy_summary_allows_port(&p, 22));
  dirtok_str_t all = {"1-65535", 7};
  T_OK(policy_summary_parse(rej, all, a, &p));
  T_ASSERT(!policy_summary_allows_any(&p));
  T_ASSERT(!policy_summary_allows_port(&p, 65535));
  T_ASSERT(!policy_summary_allows_port(NULL, 80)); /* absent = reject */
  static const char *const BAD[] = {"0",      "65536", "80,80", "443,80",
                                    "10-5",   "1-",    "",      "80,",
                                    "80;443", "1-10,5-20"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(BAD); i++) {
    dirtok_str_t s = {BAD[i], strlen(BAD[i])};
    if (policy_summary_parse(acc, s, a, &p) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted \"%s\"", BAD[i]);
  }
  T_EQ_INT(policy_summary_parse(foo, l1, a, &p), CHIVE_ERR_PROTO);
done:
  dirarena_free(a);
}

/* ---- consensus ---------------------------------------------------------*/

static void
test_cons_ok(void)
{
  ns_consensus_t *c = NULL;
  T_OK(ns_consensus_parse(CONS, strlen(CONS), &c));
  T_EQ_INT(c->flavor, NS_FLAVOR_MICRODESC);
  T_EQ_UINT(c->consensus_method, 28);
  T_EQ_INT(c->valid_after, 1577836800);
  T_EQ_INT(c->fresh_until, 1577836800 + 3600);
  T_EQ_INT(c->valid_until, 1577836800 + 3 * 3600);
  T_EQ_UINT(c->vote_seconds, 300);
  T_EQ_UINT(c->dist_seconds, 60);
  T_EQ_STR(c->client_versions, "0.4.8.1,0.4.8.2");
  T_EQ_UINT(c->n_known_flags, 6);
  T_EQ_UINT(c->params.n, 3);
  T_EQ_INT(ns_params_get(&c->params, "foo", 0, INT32_MIN, INT32_MAX), -3);
  T_EQ_INT(ns_params_get_known(&c->params, NS_PARAM_CIRCWINDOW), 100);
  T_EQ_INT(ns_params_get_known(&c->params, NS_PARAM_BWWEIGHTSCALE), 10000);
  T_ASSERT(c->srv_current.present && !c->srv_previous.present);
  T_EQ_UINT(c->srv_current.n_reveals, 5);
  T_EQ_UINT(c->n_dirsources, 1);
  T_EQ_STR(c->dirsources[0].nickname, "auth1");
  T_EQ_STR(c->dirsources[0].contact, "someone <a@example.org>");
  T_EQ_UINT(c->dirsources[0].or_port, 443);
  T_EQ_UINT(c->n_routers, 2);
  const ns_routerstatus_t *a = &c->routers[0], *b = &c->routers[1];
  T_EQ_STR(a->nickname, "relayA");
  T_EQ_UINT(a->flags, NS_FLAG_EXIT | NS_FLAG_FAST | NS_FLAG_RUNNING |
                          NS_FLAG_VALID);
  T_EQ_UINT(a->bandwidth, 100);
  T_ASSERT(a->bw_unmeasured && a->has_ipv6);
  T_EQ_UINT(a->ipv6_port, 9002);
  T_EQ_UINT(a->ipv4, 0x0a000002u);
  T_EQ_UINT(a->or_port, 9001);
  T_EQ_UINT(a->dir_port, 0);
  T_EQ_UINT(b->dir_port, 80);
  T_EQ_UINT(b->digest[0], 1);
  T_ASSERT(!b->bw_unmeasured);
  T_EQ_UINT(c->n_versions, 1); /* interned */
  T_EQ_UINT(c->n_protos, 1);
  T_ASSERT(ns_routerstatus_protos(c, a) == ns_routerstatus_protos(c, b));
  T_ASSERT(protover_supports(ns_routerstatus_protos(c, b), PROTO_LINK, 5));
  T_EQ_STR(ns_routerstatus_version(c, b), "Tor 0.4.8.1");
  T_ASSERT(ns_routerstatus_policy(c, a) == NULL);
  T_ASSERT(c->has_bw_weights);
  T_EQ_INT(c->bw_weights.w[BW_WGG], 6000);
  T_EQ_UINT(c->bw_weights.present, (1u << BW_WGG) | (1u << BW_WMM));
  T_EQ_UINT(c->n_signatures, 1);
  T_EQ_INT(c->signatures[0].alg, NS_SIG_SHA256);
  T_EQ_UINT(c->signatures[0].sig_len, 10);
  /* Signed region: through the space after "directory-signature". */
  const char *sig = strstr(CONS, "directory-signature ");
  size_t slen = (size_t)(sig - CONS) + strlen("directory-signature ");
  T_EQ_UINT(c->signed_len, slen);
  uint8_t d1[20], d2[32];
  crypto_sha1(CONS, slen, d1);
  crypto_sha256(CONS, slen, d2);
  T_EQ_MEM(c->digest_sha1, d1, 20);
  T_EQ_MEM(c->digest_sha256, d2, 32);
  T_ASSERT(ns_consensus_find_router(c, b->identity) == b);
  uint8_t none[20];
  memset(none, 0xff, 20);
  T_ASSERT(ns_consensus_find_router(c, none) == NULL);
done:
  ns_consensus_free(c);
}

static void
test_cons_rules(void)
{
  /* missing required keyword */
  T_EQ_INT(mutated_err("vote-status consensus\n", ""), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("known-flags Exit Fast Guard Running Stable Valid\n",
                       ""),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("m " MD1 "\n", ""), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("s Fast Guard Running Stable Valid\n", ""),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("contact someone <a@example.org>\n", ""),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("directory-footer\n", ""), CHIVE_ERR_PROTO);
  /* duplicate single keyword */
  T_EQ_INT(mutated_err("consensus-method 28\n",
                       "consensus-method 28\nconsensus-method 28\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("w Bandwidth=200\n", "w Bandwidth=200\nw Bandwidth=1\n"),
           CHIVE_ERR_PROTO);
  /* at start / ordering */
  T_EQ_INT(mutated_err("network-status-version 3 microdesc\nvote-status "
                       "consensus\n",
                       "vote-status consensus\nnetwork-status-version 3 "
                       "microdesc\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("network-status-version", "\nnetwork-status-version"),
           CHIVE_ERR_PROTO);
  /* values */
  T_EQ_INT(mutated_err("network-status-version 3", "network-status-version 4"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("3 microdesc", "3 bogus"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("vote-status consensus", "vote-status vote"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("consensus-method 28", "consensus-method 28 29"),
           CHIVE_ERR_PROTO); /* "no extra arguments" */
  T_EQ_INT(mutated_err("fresh-until 2020-01-01 01", "fresh-until 2019-01-01 01"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("\ns Exit Fast", "\ns Exit Named Fast"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("r relayB " ID1, "r relayB " ID0), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("r relayA", "r relay_A"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("r relayA", "r relayAAAAAAAAAAAAAAAAA"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("10.0.0.2 9001", "10.0.0.2 0"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("m " MD0, "m " ID0), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("w Bandwidth=100", "w Bandwidth=-1"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("pr Cons=1-2 Link=1-5\nw Bandwidth=100",
                       "pr Link=99\nw Bandwidth=100"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("params CircuitPriorityHalflifeMsec=30000",
                       "params CircuitPriorityHalflifeMsec=2147483648"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("foo=-3", "foo=-3 foo=4"), CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("AAECAwQFBgcICQ==", "AAECA*QFBgcICQ=="),
           CHIVE_ERR_PROTO); /* bad base64 object */
  T_EQ_INT(mutated_err("-----END SIGNATURE-----\n",
                       "-----END SIGNATURE-----\nx-after 1\n"),
           CHIVE_ERR_PROTO); /* item after a signature */
  T_EQ_INT(mutated_err("BEGIN SIGNATURE", "BEGIN SIGNATUR"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("vote-status consensus\n", "vote-status consensus\n"
                                                  "valid-after\n"),
           CHIVE_ERR_PROTO); /* too few args */
  T_EQ_INT(mutated_err("dir-source auth1 0123", "dir-source auth1 X123"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("directory-footer\n", "directory-footer x\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(mutated_err("known-flags", "k\n-----BEGIN X-----\nAAAA\n"
                                      "-----END X-----\nknown-flags"),
           CHIVE_OK); /* unknown item with an object: ignored */
  T_EQ_INT(mutated_err("consensus-method 28\n",
                       "consensus-method 28\n"
                       "consensus-method-x\n-----BEGIN X-----\nAAAA\n"
                       "-----END X-----\n"),
           CHIVE_OK);
  /* unknown keywords are ignored everywhere */
  T_EQ_INT(mutated_err("\ns Exit", "\nx-new 1 2 3\ns Exit"), CHIVE_OK);
  T_EQ_INT(mutated_err("contact", "x-new\ncontact"), CHIVE_OK);
  /* the "sha1" default and unknown algorithms */
  T_EQ_INT(mutated_err("directory-signature sha256 ", "directory-signature "),
           CHIVE_OK);
  T_EQ_INT(mutated_err("directory-signature sha256 ",
                       "directory-signature md5 "),
           CHIVE_OK);
  T_EQ_INT(mutated_err("directory-signature sha256 ",
                       "directory-signature\tsha256 "),
           CHIVE_ERR_PROTO); /* the signed text must end in a space */
  /* NUL byte */
  char *d = chive_strdup(CONS);
  T_ASSERT(d);
  d[100] = '\0';
  ns_consensus_t *c = NULL;
  T_EQ_INT(ns_consensus_parse(d, strlen(CONS), &c), CHIVE_ERR_PROTO);
  T_ASSERT(c == NULL);
  chive_free(d);
done:
  return;
}

static void
test_cons_truncation(void)
{
  /* Every strict prefix is rejected; no prefix may crash or leak. */
  size_t len = strlen(CONS);
  for (size_t i = 0; i < len; i++) {
    char *d = chive_memdup(CONS, i ? i : 1);
    ns_consensus_t *c = NULL;
    T_ASSERT(d);
    chive_err_t e = ns_consensus_parse(d, i, &c);
    chive_free(d);
    if (e == CHIVE_OK) {
      ns_consensus_free(c);
      T_FAIL_("prefix of %zu bytes accepted", i);
    }
  }
done:
  return;
}

static void
test_cons_ns_flavor(void)
{
  char *d1 = replace(CONS, "3 microdesc", "3");
  char *d2 = NULL, *d3 = NULL, *d4 = NULL;
  ns_consensus_t *c = NULL;
  T_ASSERT(d1);
  /* ns "r" lines carry the descriptor digest; "m" is vote-only. */
  d2 = replace(d1, "r relayA " ID0, "r relayA " ID0 " " ID1);
  T_ASSERT(d2);
  d3 = replace(d2, "r relayB " ID1, "r relayB " ID1 " " ID0);
  T_ASSERT(d3);
  d4 = replace(d3, "w Bandwidth=200\n", "w Bandwidth=200\np accept 80,443\n");
  T_ASSERT(d4);
  T_OK(ns_consensus_parse(d4, strlen(d4), &c));
  T_EQ_INT(c->flavor, NS_FLAVOR_NS);
  T_EQ_UINT(c->routers[0].digest[0], 1);
  const policy_summary_t *p = ns_routerstatus_policy(c, &c->routers[1]);
  T_ASSERT(p && policy_summary_allows_port(p, 443));
  T_ASSERT(!policy_summary_allows_port(p, 22));
  ns_consensus_free(c);
  /* an md-flavor "r" line in an ns consensus is one argument short */
  T_EQ_INT(cons_err(d1), CHIVE_ERR_PROTO);
done:
  ns_consensus_free(c);
  chive_free(d1);
  chive_free(d2);
  chive_free(d3);
  chive_free(d4);
}

/* ---- microdescriptors --------------------------------------------------*/

#define MD_A                                                               \
  "onion-key\n"                                                            \
  "-----BEGIN RSA PUBLIC KEY-----\n"                                       \
  "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4v\n"      \
  "MDEyMzQ1Njc4OTo7PD0+P0BBQkNERUZHSElKS0xNTk9QUVJTVFVWV1hZWltcXV5f\n"      \
  "YGFiY2RlZmdoaWprbG1ub3BxcnN0dXZ3eHl6e3x9fn+AgYKDhIWGh4iJios=\n"          \
  "-----END RSA PUBLIC KEY-----\n"                                         \
  "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA=\n"          \
  "a [2001:db8::2]:443\n"                                                  \
  "family $0123232323232323232323232323232323232323 somenick "             \
  "$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA5E=nick2\n"                      \
  "p accept 80,443\n"                                                      \
  "p6 reject 25\n"                                                         \
  "id ed25519 mAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4\n"
#define MD_B                                                               \
  "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"           \
  "pr Cons=1-2 Link=1-5\n"                                                 \
  "id rsa1024 AAAAAAAAAAAAAAAAAAAAAAAAAAA\n"

static void
test_md_ok(void)
{
  static const char doc[] = "@last-listed 2017-10-29 11:30:56\n" MD_A
                            "@last-listed 2017-10-29 11:30:55\n" MD_B MD_B;
  md_list_t *l = NULL;
  T_OK(md_list_parse(doc, strlen(doc), &l));
  /* MD_B twice: same text, same digest, kept once */
  T_EQ_UINT(l->n, 2);
  T_EQ_UINT(l->n_invalid, 0);
  uint8_t da[32], db[32];
  crypto_sha256(MD_A, strlen(MD_A), da);
  crypto_sha256(MD_B, strlen(MD_B), db);
  const microdesc_t *a = md_list_find(l, da), *b = md_list_find(l, db);
  T_ASSERT(a && b);
  T_ASSERT(a->has_tap_key && !b->has_tap_key);
  T_EQ_UINT(a->last_listed, 1509276656);
  T_EQ_UINT(b->last_listed, 1509276655);
  T_EQ_MEM(a->ntor_key, b->ntor_key, 32); /* padded == unpadded */
  T_ASSERT(a->has_ipv6 && a->ipv6_port == 443);
  T_EQ_UINT(a->n_family_ids, 2);
  T_EQ_UINT(a->family_ids[0][0], 0x01);
  T_EQ_UINT(a->family_ids[1][19], 0x5e);
  T_EQ_STR(a->family_names, "somenick");
  T_ASSERT(policy_summary_allows_port(microdesc_policy(a), 443));
  T_ASSERT(!policy_summary_allows_port(microdesc_policy(a), 22));
  T_ASSERT(!policy_summary_allows_port(microdesc_policy6(a), 25));
  T_ASSERT(policy_summary_allows_port(microdesc_policy6(a), 80));
  T_ASSERT(!policy_summary_allows_port(microdesc_policy(b), 80));
  T_ASSERT(a->has_ed25519 && !b->has_ed25519);
  T_EQ_UINT(a->ed25519_id[0], 0x98);
done:
  md_list_free(l);
}

/** Parse <b>doc</b>; set *n_ok / *n_bad; return the error. */
static chive_err_t
md_counts(const char *doc, size_t *n_ok, size_t *n_bad)
{
  md_list_t *l = NULL;
  chive_err_t e = md_list_parse(doc, strlen(doc), &l);
  *n_ok = l ? l->n : 0;
  *n_bad = l ? l->n_invalid : 0;
  md_list_free(l);
  return e;
}

static void
test_md_rules(void)
{
  size_t ok, bad;
  /* invalid ones are skipped, the rest kept */
  static const char *const INVALID[] = {
    "ntor-onion-key AAAA\n",                                 /* short key */
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
    "p accept 0\n",                                          /* port 0 */
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
    "p accept 80\np accept 80\n",                            /* two p */
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
    "id ed25519 AAAA\n",                                     /* bad id */
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
    "family $012323232323232323232323232323232323232X\n",    /* bad hex */
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n"
    "a [zz]:1\n",                                            /* bad a */
    "@last-listed 2017-10-29 11:30:55\np accept 80\n",      /* no ntor */
    "onion-key\n-----BEGIN RSA PUBLIC KEY-----\nAAAA\n"
    "-----END RSA PUBLIC KEY-----\n"
    "ntor-onion-key AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA\n",
    /* ^ starts a new md, whose TAP key is far too short */
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(INVALID); i++) {
    char doc[1024];
    snprintf(doc, sizeof(doc), "%s%s", MD_B, INVALID[i]);
    T_OK(md_counts(doc, &ok, &bad));
    if (ok != 1 || bad != 1)
      T_FAIL_("case %zu: %zu ok, %zu bad", i, ok, bad);
  }
  /* framing errors reject the batch */
  T_EQ_INT(md_counts(MD_B "onion-key\n-----BEGIN RSA PUBLIC KEY-----\n"
                          "AA*A\n-----END RSA PUBLIC KEY-----\n",
                     &ok, &bad),
           CHIVE_ERR_PROTO);
  T_EQ_INT(md_counts(MD_B "p accept 80", &ok, &bad), CHIVE_ERR_TRUNCATED);
  T_OK(md_counts("", &ok, &bad));
  T_EQ_UINT(ok, 0);
done:
  return;
}

static void
test_md_truncation(void)
{
  /* A microdescriptor is not self-delimiting: a prefix may parse, but
   * then never with the full text's digest (so it cannot match an "m"
   * line).  Everything else is rejected, without crash or leak. */
  static const char doc[] = "@last-listed 2017-10-29 11:30:56\n" MD_A;
  uint8_t want[32];
  crypto_sha256(MD_A, strlen(MD_A), want);
  size_t n_parsed = 0;
  for (size_t i = 0; i < strlen(doc); i++) {
    char *d = chive_memdup(doc, i ? i : 1);
    md_list_t *l = NULL;
    T_ASSERT(d);
    if (md_list_parse(d, i, &l) == CHIVE_OK) {
      n_parsed++;
      bool match = md_list_find(l, want) != NULL;
      md_list_free(l);
      if (match) {
        chive_free(d);
        T_FAIL_("prefix %zu has the full digest", i);
      }
    }
    chive_free(d);
  }
  T_ASSERT(n_parsed > 0);
done:
  return;
}

/* ---- authority certificates --------------------------------------------*/

#define KEYOBJ(t)                                                         \
  "-----BEGIN " t "-----\n"                                               \
  "ZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXp7fH1+f4CBgoOEhYaHiImKi4yNjo+QkZKT\n"    \
  "lJWWl5iZmpucnZ6foKGio6SlpqeoqaqrrK2ur7CxsrO0tba3uLm6u7y9vr/AwcLD\n"    \
  "-----END " t "-----\n"
static const char CERT[] = "dir-key-certificate-version 3\n"
                           "dir-address 10.0.0.1:80\n"
                           "fingerprint " AUTHFP "\n"
                           "dir-key-published 2017-10-01 09:23:24\n"
                           "dir-key-expires 2018-01-01 09:23:24\n"
                           "dir-identity-key\n" KEYOBJ("RSA PUBLIC KEY")
                           "dir-signing-key\n" KEYOBJ("RSA PUBLIC KEY")
                           "dir-key-crosscert\n" KEYOBJ("ID SIGNATURE")
                           "dir-key-certification\n" KEYOBJ("SIGNATURE");

static chive_err_t
cert_err(const char *old, const char *new_)
{
  char *d = replace(CERT, old, new_);
  if (!d)
    return CHIVE_ERR_INTERNAL;
  authcert_list_t *l = NULL;
  chive_err_t e = authcert_list_parse(d, strlen(d), &l);
  authcert_list_free(l);
  chive_free(d);
  return e;
}

static void
test_cert_parse(void)
{
  authcert_list_t *l = NULL;
  char *two = NULL;
  T_OK(authcert_list_parse(CERT, strlen(CERT), &l));
  T_EQ_UINT(l->n, 1);
  const authcert_t *c = &l->certs[0];
  T_EQ_UINT(c->fingerprint[0], 0x01);
  T_EQ_INT(c->published, 1506849804);
  T_EQ_INT(c->expires, 1514798604);
  T_ASSERT(c->has_address && c->address_port == 80);
  T_EQ_UINT(c->identity_key_len, 96);
  uint8_t d[20];
  crypto_sha1(c->identity_key, c->identity_key_len, d);
  T_EQ_MEM(c->identity_key_digest, d, 20);
  T_EQ_MEM(c->signing_key_digest, d, 20);
  const char *end = strstr(CERT, "dir-key-certification\n");
  crypto_sha1(CERT, (size_t)(end - CERT) + strlen("dir-key-certification\n"),
              d);
  T_EQ_MEM(c->signed_digest, d, 20);
  T_ASSERT(authcert_list_find(l, c->fingerprint, c->signing_key_digest) == c);
  authcert_list_free(l);
  /* two in a row */
  size_t n = strlen(CERT);
  two = chive_malloc(2 * n + 1);
  T_ASSERT(two);
  memcpy(two, CERT, n);
  memcpy(two + n, CERT, n + 1);
  T_OK(authcert_list_parse(two, 2 * n, &l));
  T_EQ_UINT(l->n, 2);
  /* rules */
  T_EQ_INT(cert_err("dir-key-certificate-version 3", "dir-key-certificate-version 4"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("fingerprint " AUTHFP "\n", ""), CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("fingerprint " AUTHFP "\n",
                    "fingerprint " AUTHFP "\nfingerprint " AUTHFP "\n"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("dir-identity-key\n", "dir-identity-key x\n"),
           CHIVE_ERR_PROTO); /* no extra arguments */
  T_EQ_INT(cert_err("ID SIGNATURE-----\n", "SIGNATURE-----\n"),
           CHIVE_ERR_PROTO); /* BEGIN/END mismatch */
  T_EQ_INT(cert_err(KEYOBJ("ID SIGNATURE"), KEYOBJ("SIGNATURE")), CHIVE_OK);
  T_EQ_INT(cert_err("dir-signing-key\n-----BEGIN RSA PUBLIC KEY",
                    "dir-signing-key\n-----BEGIN RSA PRIVATE KEY"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("2018-01-01", "2017-01-01"), CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("dir-address 10.0.0.1:80", "dir-address 10.0.0.1"),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cert_err("dir-key-expires", "x-unknown 1\ndir-key-expires"),
           CHIVE_OK);
  /* every strict prefix rejected */
  for (size_t i = 1; i < n; i++) {
    char *p = chive_memdup(CERT, i);
    authcert_list_t *t = NULL;
    T_ASSERT(p);
    chive_err_t e = authcert_list_parse(p, i, &t);
    authcert_list_free(t);
    chive_free(p);
    if (e == CHIVE_OK)
      T_FAIL_("cert prefix %zu accepted", i);
  }
done:
  authcert_list_free(l);
  chive_free(two);
}

static void
test_init(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

static const t_case cases[] = {
  T_CASE(test_init),
  T_CASE(test_tok_basic),
  T_CASE(test_tok_errors),
  T_CASE(test_tok_max_objects),
  T_CASE(test_tok_rules),
  T_CASE(test_tok_helpers),
  T_CASE(test_arena),
  T_CASE(test_protover),
  T_CASE(test_policy),
  T_CASE(test_cons_ok),
  T_CASE(test_cons_rules),
  T_CASE(test_cons_truncation),
  T_CASE(test_cons_ns_flavor),
  T_CASE(test_md_ok),
  T_CASE(test_md_rules),
  T_CASE(test_md_truncation),
  T_CASE(test_cert_parse),
  T_END,
};

T_MAIN(cases)
