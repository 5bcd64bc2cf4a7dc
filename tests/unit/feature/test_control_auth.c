/* Unit tests for feature/control/control_auth: cookie, SAFECOOKIE
 * (control-spec §3.24), HashedControlPassword (§5.1), PROTOCOLINFO
 * (§3.21) and the failed-attempt limiter. */
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/control/control_auth.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rand.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* Output of `tor --hash-password foo` from the Debian tor 0.4.9.11
 * installed here (a random salt; data, not code). */
static const char TOR_HASH_FOO[] =
    "16:6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7E";
/* The same 29 bytes in base64 (tor also accepts this form). */
static const char TOR_HASH_FOO_B64[] =
    "bVz/JV6/hhtggCeZ+MNVzHY7z1qun2NODoXgfn4=";
/* control-spec §5.1's example hash of 'foo'. */
static const char SPEC_HASH_FOO[] =
    "16:660537E3E1CD49996044A3BF558097A981F539FEA2F9DA662B4626C1C2";

#define OUT_EQ(o, lit)                                        \
  do {                                                        \
    T_EQ_UINT(control_outbuf_len(o), sizeof(lit) - 1);        \
    T_EQ_MEM(control_outbuf_data(o), (lit), sizeof(lit) - 1); \
  } while (0)

static void
test_cookie(void)
{
  uint8_t a[CONTROL_AUTH_COOKIE_LEN], b[CONTROL_AUTH_COOKIE_LEN];
  uint8_t file[CONTROL_AUTH_COOKIE_LEN + 1];
  T_OK(crypto_global_init());
  T_OK(control_auth_cookie_new(a));
  T_OK(control_auth_cookie_new(b));
  T_ASSERT(memcmp(a, b, sizeof(a)) != 0);
  T_ASSERT(!chive_is_zero_ct(a, sizeof(a)));

  /* §3.21: only a 32-byte file is a cookie. */
  memcpy(file, a, sizeof(a));
  file[32] = 0x55;
  T_EQ_INT(control_auth_cookie_from_file(file, 31, b), CHIVE_ERR_PROTO);
  T_EQ_INT(control_auth_cookie_from_file(file, 33, b), CHIVE_ERR_PROTO);
  T_EQ_INT(control_auth_cookie_from_file(file, 0, b), CHIVE_ERR_PROTO);
  T_OK(control_auth_cookie_from_file(file, 32, b));
  T_EQ_MEM(a, b, sizeof(a));

  /* COOKIE method. */
  T_ASSERT(control_auth_cookie_matches(a, file, 32));
  T_ASSERT(!control_auth_cookie_matches(a, file, 31));
  T_ASSERT(!control_auth_cookie_matches(a, file, 33));
  file[31] ^= 1;
  T_ASSERT(!control_auth_cookie_matches(a, file, 32));
done:
  return;
}

static void
test_token_decode(void)
{
  uint8_t out[8];
  size_t n = 0;
  T_OK(control_auth_token_decode("666f6F", 6, false, out, sizeof(out), &n));
  T_EQ_UINT(n, 3);
  T_EQ_MEM(out, "foo", 3);
  T_OK(control_auth_token_decode("666f6F", 6, true, out, sizeof(out), &n));
  T_EQ_UINT(n, 6);
  T_EQ_MEM(out, "666f6F", 6);
  T_OK(control_auth_token_decode("", 0, false, out, sizeof(out), &n));
  T_EQ_UINT(n, 0);
  T_EQ_INT(control_auth_token_decode("666", 3, false, out, sizeof(out), &n),
           CHIVE_ERR_PROTO);
  T_EQ_INT(control_auth_token_decode("zz", 2, false, out, sizeof(out), &n),
           CHIVE_ERR_PROTO);
  T_EQ_INT(control_auth_token_decode("foo", 3, false, out, sizeof(out), &n),
           CHIVE_ERR_PROTO);
  T_EQ_INT(control_auth_token_decode("000102030405060708", 18, false, out,
                                     sizeof(out), &n),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(
      control_auth_token_decode("123456789", 9, true, out, sizeof(out), &n),
      CHIVE_ERR_LIMIT);
  T_ASSERT(chive_is_zero_ct(out, sizeof(out)));
done:
  return;
}

/* Vectors computed independently with Python's hmac module from the
 * §3.24 definitions: cookie = 00..1f, ClientNonce = 32 x a5 (or 010203),
 * ServerNonce = 20..3f. */
static void
test_safecookie_vectors(void)
{
  uint8_t cookie[32], cn[32], sn[32], sh[32], ch[32], want[32];
  for (unsigned i = 0; i < 32; i++) {
    cookie[i] = (uint8_t)i;
    cn[i] = 0xa5;
    sn[i] = (uint8_t)(0x20 + i);
  }
  T_OK(crypto_global_init());
  T_OK(control_safecookie_compute(cookie, cn, 32, sn, sh, ch));
  T_EQ_INT(t_unhex("50C4A164D3A761F54784AB76C4B199A9"
                   "47140C85E0B4E0FE6EB89FD646E13E4C",
                   want, 32),
           32);
  T_EQ_MEM(sh, want, 32);
  T_EQ_INT(t_unhex("8A5ED2DE6D8E614A75703B164A86FA95"
                   "E072CE41904D6E47C2E8A71E39EF0BF9",
                   want, 32),
           32);
  T_EQ_MEM(ch, want, 32);

  /* The spec's definition spelled out in the test: HMAC keyed with the
   * constant over CookieString | ClientNonce | ServerNonce. */
  static const uint8_t short_nonce[3] = {1, 2, 3};
  uint8_t msg[32 + 3 + 32], direct[32];
  memcpy(msg, cookie, 32);
  memcpy(msg + 32, short_nonce, 3);
  memcpy(msg + 35, sn, 32);
  crypto_hmac_sha256("Tor safe cookie authentication server-to-controller "
                     "hash",
                     56, msg, sizeof(msg), direct);
  T_OK(control_safecookie_compute(cookie, short_nonce, 3, sn, sh, NULL));
  T_EQ_MEM(sh, direct, 32);
  T_EQ_INT(t_unhex("1A53F587563B7F82DB168BA83EFD9B42"
                   "55C2A2004B5F91E49E9B291BACE616E9",
                   want, 32),
           32);
  T_EQ_MEM(sh, want, 32);

  /* Nonce bounds. */
  T_EQ_INT(control_safecookie_compute(cookie, cn, 0, sn, sh, ch),
           CHIVE_ERR_INVAL);
  {
    uint8_t big[CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN + 1];
    memset(big, 7, sizeof(big));
    T_EQ_INT(control_safecookie_compute(cookie, big, sizeof(big), sn, sh, ch),
             CHIVE_ERR_LIMIT);
    T_OK(control_safecookie_compute(cookie, big, sizeof(big) - 1, sn, sh, ch));
  }
done:
  return;
}

static void
test_safecookie_flow(void)
{
  uint8_t cookie[32], cn[32], sn[32], sh[32], ch[32], sh2[32];
  control_safecookie_t st;
  control_outbuf_t o;
  memset(&st, 0, sizeof(st));
  control_outbuf_init(&o, 0);
  T_OK(crypto_global_init());
  T_OK(control_auth_cookie_new(cookie));
  memset(cn, 0x42, sizeof(cn));

  /* Server side: AUTHCHALLENGE SAFECOOKIE <ClientNonce>. */
  T_OK(control_safecookie_challenge(&st, cookie, cn, 32, sn, sh));
  T_ASSERT(st.pending);
  /* Only once. */
  T_EQ_INT(control_safecookie_challenge(&st, cookie, cn, 32, sn, sh2),
           CHIVE_ERR_INVAL);
  /* Controller side: check the server hash, compute its response. */
  T_OK(control_safecookie_compute(cookie, cn, 32, sn, sh2, ch));
  T_EQ_MEM(sh, sh2, 32);
  /* AUTHENTICATE <ClientHash> succeeds once. */
  T_ASSERT(control_safecookie_verify(&st, ch, 32));
  T_ASSERT(!st.pending);
  T_ASSERT(!control_safecookie_verify(&st, ch, 32));

  /* A wrong response, or one of the wrong length, fails and consumes. */
  T_OK(control_safecookie_challenge(&st, cookie, cn, 32, sn, sh));
  T_OK(control_safecookie_compute(cookie, cn, 32, sn, NULL, ch));
  ch[0] ^= 0x80;
  T_ASSERT(!control_safecookie_verify(&st, ch, 32));
  ch[0] ^= 0x80;
  T_ASSERT(!control_safecookie_verify(&st, ch, 32));
  T_OK(control_safecookie_challenge(&st, cookie, cn, 32, sn, sh));
  T_ASSERT(!control_safecookie_verify(&st, ch, 31));
  T_ASSERT(chive_is_zero_ct(&st, sizeof(st)));

  /* Reply line (§3.24), upper-case hex. */
  for (unsigned i = 0; i < 32; i++) {
    sh[i] = (uint8_t)(0xf0 + (i & 15));
    sn[i] = (uint8_t)i;
  }
  T_OK(control_safecookie_reply(&o, sh, sn));
  OUT_EQ(&o, "250 AUTHCHALLENGE SERVERHASH="
             "F0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFFF0F1F2F3F4F5F6F7F8F9FAFBFCFDFEFF"
             " SERVERNONCE="
             "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
             "\r\n");
done:
  control_safecookie_clear(&st);
  control_outbuf_clear(&o);
}

static void
test_s2k(void)
{
  uint8_t spec[9] = {1, 2, 3, 4, 5, 6, 7, 8, 0}, key[20], want[20];
  uint8_t *longpw = NULL;
  T_OK(crypto_global_init());
  /* RFC 2440 §3.6.1.3 count byte. */
  T_EQ_UINT(control_s2k_count(0x60), 65536);
  T_EQ_UINT(control_s2k_count(0x00), 1024);
  T_EQ_UINT(control_s2k_count(0x0f), 31u << 6);
  T_EQ_UINT(control_s2k_count(0xff), 31u << 21);

  /* A password longer than the count: only count bytes are hashed (as
   * tor).  Vector from an independent Python implementation. */
  longpw = chive_malloc(2000);
  T_ASSERT(longpw != NULL);
  memset(longpw, 'A', 2000);
  T_OK(control_s2k_rfc2440(spec, longpw, 2000, key));
  T_EQ_INT(t_unhex("6F2AA9D135A2D9DABAF7A4D7D58739517A1899C2", want, 20), 20);
  T_EQ_MEM(key, want, 20);

  /* Empty password, tor's count byte. */
  spec[8] = 0x60;
  T_OK(control_s2k_rfc2440(spec, NULL, 0, key));
  T_EQ_INT(t_unhex("65211D79F81BCDC6AADB3C64E62820DB4E005378", want, 20), 20);
  T_EQ_MEM(key, want, 20);

  T_EQ_INT(
      control_s2k_rfc2440(spec, longpw, CONTROL_PASSWORD_MAX_LEN + 1, key),
      CHIVE_ERR_LIMIT);
done:
  chive_free(longpw);
}

static void
test_hashed_password_tor(void)
{
  control_hashed_pw_t h, h2;
  char buf[CONTROL_HASHED_PW_HEX_LEN + 1];
  T_OK(crypto_global_init());

  T_OK(control_hashed_pw_parse(TOR_HASH_FOO, strlen(TOR_HASH_FOO), &h));
  T_EQ_UINT(h.spec[8], CONTROL_S2K_DEFAULT_COUNT_BYTE);
  T_OK(control_hashed_pw_verify(&h, (const uint8_t *)"foo", 3));
  static const char *const wrong[] = {"",      "fo",     "Foo", "foo ",
                                      "foo\n", "foofoo", "bar"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(wrong); i++) {
    T_EQ_INT(control_hashed_pw_verify(&h, (const uint8_t *)wrong[i],
                                      strlen(wrong[i])),
             CHIVE_ERR_CRYPTO);
  }
  /* Formatting gives tor's string back. */
  T_OK(control_hashed_pw_format(&h, buf, sizeof(buf)));
  T_EQ_STR(buf, TOR_HASH_FOO);
  T_EQ_INT(control_hashed_pw_format(&h, buf, sizeof(buf) - 1),
           CHIVE_ERR_LIMIT);

  /* The base64 form decodes to the same thing; lower-case hex too. */
  T_OK(control_hashed_pw_parse(TOR_HASH_FOO_B64, strlen(TOR_HASH_FOO_B64),
                               &h2));
  T_EQ_MEM(&h, &h2, sizeof(h));
  {
    char lower[sizeof(TOR_HASH_FOO)];
    memcpy(lower, TOR_HASH_FOO, sizeof(lower));
    for (size_t i = 3; lower[i]; i++)
      lower[i] = (char)(lower[i] >= 'A' && lower[i] <= 'F' ? lower[i] + 32
                                                           : lower[i]);
    T_OK(control_hashed_pw_parse(lower, strlen(lower), &h2));
    T_EQ_MEM(&h, &h2, sizeof(h));
  }

  /* The spec's own example. */
  T_OK(control_hashed_pw_parse(SPEC_HASH_FOO, strlen(SPEC_HASH_FOO), &h2));
  T_OK(control_hashed_pw_verify(&h2, (const uint8_t *)"foo", 3));
  T_EQ_INT(control_hashed_pw_verify(&h2, (const uint8_t *)"foO", 3),
           CHIVE_ERR_CRYPTO);
done:
  return;
}

static void
test_hashed_password_bad(void)
{
  control_hashed_pw_t h;
  memset(&h, 0xaa, sizeof(h));
  /* Every strict prefix of the tor string is rejected. */
  for (size_t cut = 0; cut < strlen(TOR_HASH_FOO); cut++) {
    T_EQ_INT(control_hashed_pw_parse(TOR_HASH_FOO, cut, &h), CHIVE_ERR_PROTO);
  }
  static const char *const bad[] = {
      "16:6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7E00",
      "16:6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7G",
      "17:6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7E",
      " 16:6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7E",
      "16: 6D5CFF255EBF861B60802799F8C355CC763BCF5AAE9F634E0E85E07E7E",
      "bVz/JV6/hhtggCeZ+MNVzHY7z1qun2NODoXgfn4=AAAA",
      "bVz/JV6/hhtggCeZ+MNVzHY7z1qun2NODoXgfn=",
      "foo",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++)
    T_EQ_INT(control_hashed_pw_parse(bad[i], strlen(bad[i]), &h),
             CHIVE_ERR_PROTO);
  /* Untouched on failure. */
  for (size_t i = 0; i < sizeof(h.key); i++)
    T_EQ_UINT(h.key[i], 0xaa);
done:
  return;
}

static void
test_hashed_password_new(void)
{
  control_hashed_pw_t h1, h2, h3;
  char s1[CONTROL_HASHED_PW_HEX_LEN + 1], s2[CONTROL_HASHED_PW_HEX_LEN + 1];
  T_OK(crypto_global_init());
  T_OK(control_hashed_pw_new((const uint8_t *)"secret", 6,
                             CONTROL_S2K_DEFAULT_COUNT_BYTE, &h1));
  T_OK(control_hashed_pw_new((const uint8_t *)"secret", 6,
                             CONTROL_S2K_DEFAULT_COUNT_BYTE, &h2));
  /* Fresh salts. */
  T_ASSERT(memcmp(h1.spec, h2.spec, 8) != 0);
  T_ASSERT(memcmp(h1.key, h2.key, 20) != 0);
  T_OK(control_hashed_pw_format(&h1, s1, sizeof(s1)));
  T_OK(control_hashed_pw_format(&h2, s2, sizeof(s2)));
  T_EQ_UINT(strlen(s1), CONTROL_HASHED_PW_HEX_LEN);
  T_ASSERT(strncmp(s1, "16:", 3) == 0);
  /* "…60" is the count byte, right after the 16 hex digits of salt. */
  T_ASSERT(s1[19] == '6' && s1[20] == '0');
  T_OK(control_hashed_pw_parse(s1, strlen(s1), &h3));
  T_EQ_MEM(&h1, &h3, sizeof(h1));
  T_OK(control_hashed_pw_verify(&h3, (const uint8_t *)"secret", 6));
  T_EQ_INT(control_hashed_pw_verify(&h3, (const uint8_t *)"secreT", 6),
           CHIVE_ERR_CRYPTO);
  T_OK(control_hashed_pw_parse(s2, strlen(s2), &h3));
  T_OK(control_hashed_pw_verify(&h3, (const uint8_t *)"secret", 6));
done:
  return;
}

static void
test_protocolinfo(void)
{
  control_outbuf_t o;
  control_outbuf_init(&o, 0);

  T_OK(control_auth_reply_protocolinfo(&o, 0, NULL, "0.1.0"));
  OUT_EQ(&o, "250-PROTOCOLINFO 1\r\n"
             "250-AUTH METHODS=NULL\r\n"
             "250-VERSION Tor=\"0.1.0\"\r\n"
             "250 OK\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  T_OK(control_auth_reply_protocolinfo(&o, CONTROL_AUTH_METHOD_PASSWORD, NULL,
                                       "0.1.0"));
  OUT_EQ(&o, "250-PROTOCOLINFO 1\r\n"
             "250-AUTH METHODS=HASHEDPASSWORD\r\n"
             "250-VERSION Tor=\"0.1.0\"\r\n"
             "250 OK\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  T_OK(control_auth_reply_protocolinfo(
      &o, CONTROL_AUTH_METHOD_COOKIE | CONTROL_AUTH_METHOD_PASSWORD,
      "/var/lib/chive/control_auth_cookie", "0.4.9.11"));
  OUT_EQ(&o, "250-PROTOCOLINFO 1\r\n"
             "250-AUTH METHODS=COOKIE,SAFECOOKIE,HASHEDPASSWORD "
             "COOKIEFILE=\"/var/lib/chive/control_auth_cookie\"\r\n"
             "250-VERSION Tor=\"0.4.9.11\"\r\n"
             "250 OK\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* Odd paths are escaped (§3.21: "Controllers MUST handle escape
   * sequences inside this string"), never breaking the line. */
  T_OK(control_auth_reply_protocolinfo(&o, CONTROL_AUTH_METHOD_COOKIE,
                                       "/tmp/a \"b\"\\c\r\n250 OK", "v"));
  OUT_EQ(&o, "250-PROTOCOLINFO 1\r\n"
             "250-AUTH METHODS=COOKIE,SAFECOOKIE "
             "COOKIEFILE=\"/tmp/a \\\"b\\\"\\\\c\\r\\n250 OK\"\r\n"
             "250-VERSION Tor=\"v\"\r\n"
             "250 OK\r\n");
  control_outbuf_clear(&o);

  /* All or nothing under a small cap. */
  control_outbuf_init(&o, 40);
  T_EQ_INT(control_auth_reply_protocolinfo(&o, 0, NULL, "0.1.0"),
           CHIVE_ERR_LIMIT);
  T_EQ_UINT(control_outbuf_len(&o), 0);
done:
  control_outbuf_clear(&o);
}

static void
test_limiter(void)
{
  control_auth_limiter_t l;
  control_auth_limiter_init(&l, 3, 1000, 5000);
  T_ASSERT(control_auth_limiter_allow(&l, 5000));
  T_EQ_UINT(control_auth_limiter_wait_ms(&l, 5000), 0);
  control_auth_limiter_note_failure(&l, 5000);
  control_auth_limiter_note_failure(&l, 5001);
  T_ASSERT(control_auth_limiter_allow(&l, 5002));
  control_auth_limiter_note_failure(&l, 5002);
  /* Bucket empty: refused until a token comes back, 1 s after the
   * first failure. */
  T_ASSERT(!control_auth_limiter_allow(&l, 5003));
  T_EQ_UINT(control_auth_limiter_wait_ms(&l, 5003), 997);
  T_ASSERT(!control_auth_limiter_allow(&l, 5999));
  T_ASSERT(control_auth_limiter_allow(&l, 6000));
  control_auth_limiter_note_failure(&l, 6000);
  T_ASSERT(!control_auth_limiter_allow(&l, 6500));
  T_EQ_UINT(control_auth_limiter_wait_ms(&l, 6500), 500);
  /* Time going backwards hands out nothing. */
  T_ASSERT(!control_auth_limiter_allow(&l, 100));
  /* A long pause refills to the burst, not beyond. */
  T_ASSERT(control_auth_limiter_allow(&l, 1000000));
  for (int i = 0; i < 3; i++)
    control_auth_limiter_note_failure(&l, 1000000);
  T_ASSERT(!control_auth_limiter_allow(&l, 1000000));
  /* Failures while empty do not go negative. */
  control_auth_limiter_note_failure(&l, 1000001);
  T_ASSERT(control_auth_limiter_allow(&l, 1001000));

  /* Defaults. */
  control_auth_limiter_init(&l, 0, 0, 0);
  T_EQ_UINT(l.burst, CONTROL_AUTH_FAIL_BURST);
  T_EQ_UINT(l.refill_ms, CONTROL_AUTH_FAIL_REFILL_MS);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_cookie),
    T_CASE(test_token_decode),
    T_CASE(test_safecookie_vectors),
    T_CASE(test_safecookie_flow),
    T_CASE(test_s2k),
    T_CASE(test_hashed_password_tor),
    T_CASE(test_hashed_password_bad),
    T_CASE(test_hashed_password_new),
    T_CASE(test_protocolinfo),
    T_CASE(test_limiter),
    T_END,
};

T_MAIN(cases)
