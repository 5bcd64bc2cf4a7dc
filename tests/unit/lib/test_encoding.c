/* Unit tests for lib/encoding: base16, base32, base64 (RFC 4648). */
#include "lib/encoding/base16.h"
#include "lib/encoding/base32.h"
#include "lib/encoding/base64.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* RFC 4648 §10 test vectors. */
static const char *const rfc_in[] = {"",     "f",     "fo",    "foo",
                                     "foob", "fooba", "foobar"};
static const char *const rfc_b64[] = {
    "", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=", "Zm9vYmFy"};
static const char *const rfc_b32[] = {
    "",         "MY======", "MZXQ====",        "MZXW6===",
    "MZXW6YQ=", "MZXW6YTB", "MZXW6YTBOI======"};
static const char *const rfc_b16[] = {
    "", "66", "666F", "666F6F", "666F6F62", "666F6F6261", "666F6F626172"};

/** Deterministic test bytes. */
static void
fill(uint8_t *p, size_t n, uint32_t seed)
{
  uint32_t x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    p[i] = (uint8_t)x;
  }
}

static void
test_rfc4648_vectors(void)
{
  char buf[64];
  uint8_t dec[64];
  size_t n;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(rfc_in); i++) {
    const uint8_t *in = (const uint8_t *)rfc_in[i];
    size_t len = strlen(rfc_in[i]);
    /* base64 */
    T_OK(base64_encode(in, len, buf, sizeof(buf), 0));
    T_EQ_STR(buf, rfc_b64[i]);
    T_EQ_UINT(base64_encoded_len(len, 0), strlen(rfc_b64[i]));
    T_OK(base64_decode(rfc_b64[i], strlen(rfc_b64[i]), dec, sizeof(dec), &n));
    T_EQ_UINT(n, len);
    T_EQ_MEM(dec, in, len);
    /* base32, exact RFC form */
    T_OK(base32_encode(in, len, buf, sizeof(buf), BASE32_UPPER | BASE32_PAD));
    T_EQ_STR(buf, rfc_b32[i]);
    T_OK(base32_decode(rfc_b32[i], strlen(rfc_b32[i]), dec, sizeof(dec), &n));
    T_EQ_UINT(n, len);
    T_EQ_MEM(dec, in, len);
    /* base16 */
    T_OK(base16_encode(in, len, buf, sizeof(buf), BASE16_UPPER));
    T_EQ_STR(buf, rfc_b16[i]);
    T_OK(base16_decode(rfc_b16[i], strlen(rfc_b16[i]), dec, sizeof(dec), &n));
    T_EQ_UINT(n, len);
    T_EQ_MEM(dec, in, len);
  }
done:
  return;
}

static void
test_base16(void)
{
  uint8_t in[] = {0x00, 0x01, 0x9a, 0xbc, 0xff, 0x7f};
  char buf[13];
  uint8_t out[8];
  size_t n = 99;
  T_OK(base16_encode(in, sizeof(in), buf, sizeof(buf), BASE16_LOWER));
  T_EQ_STR(buf, "00019abcff7f");
  T_OK(base16_encode(in, sizeof(in), buf, sizeof(buf), BASE16_UPPER));
  T_EQ_STR(buf, "00019ABCFF7F");
  /* Exactly enough room is fine; one less is refused, untouched. */
  memset(buf, 'x', sizeof(buf));
  T_EQ_INT(base16_encode(in, sizeof(in), buf, 12, 0), CHIVE_ERR_LIMIT);
  T_EQ_INT(buf[0], 'x');
  /* Decoding is case-insensitive, mixed case too. */
  T_OK(base16_decode("00019aBcFf7F", 12, out, sizeof(out), &n));
  T_EQ_UINT(n, 6);
  T_EQ_MEM(out, in, 6);
  /* Bad input. */
  const char *bad[] = {"0",  "abc", "0g", "g0", " 0", "0 ", "0x00",
                       "-1", "::",  "/0", "0@", "`0", "G0"};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    n = 99;
    memset(out, 0xee, sizeof(out));
    T_EQ_INT(base16_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n),
             CHIVE_ERR_PROTO);
    T_EQ_UINT(n, 99);
    /* Partially decoded bytes are wiped (odd lengths write nothing). */
    for (size_t j = 0; strlen(bad[i]) % 2 == 0 && j < strlen(bad[i]) / 2; j++)
      T_EQ_UINT(out[j], 0);
  }
  T_EQ_INT(base16_decode("aa\0b", 4, out, sizeof(out), &n), CHIVE_ERR_PROTO);
  T_EQ_INT(base16_decode("aabb", 4, out, 1, &n), CHIVE_ERR_LIMIT);
  T_OK(base16_decode("", 0, out, 0, &n));
  T_EQ_UINT(n, 0);
done:
  return;
}

/** Reference classifier for exhaustive checks of the arithmetic. */
static int
ref_hex(int c)
{
  const char *d = "0123456789abcdef", *u = "0123456789ABCDEF";
  for (int i = 0; i < 16; i++)
    if (c == d[i] || c == u[i])
      return i;
  return -1;
}

static int
ref_b64(int c)
{
  const char *a =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (int i = 0; i < 64; i++)
    if (c == a[i])
      return i;
  return -1;
}

static int
ref_b32(int c)
{
  const char *l = "abcdefghijklmnopqrstuvwxyz234567";
  const char *u = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  for (int i = 0; i < 32; i++)
    if (c == l[i] || c == u[i])
      return i;
  return -1;
}

static void
test_every_char(void)
{
  /* Each of the 256 byte values, in each position that matters, is
   * accepted exactly when the table-based reference says so, and maps to
   * the same value. */
  for (int c = 0; c < 256; c++) {
    char s[8];
    uint8_t out[8];
    size_t n = 0;
    /* base16: "<c>0" */
    s[0] = (char)c;
    s[1] = '0';
    chive_err_t e = base16_decode(s, 2, out, sizeof(out), &n);
    if (ref_hex(c) < 0) {
      T_EQ_INT(e, CHIVE_ERR_PROTO);
    } else {
      T_OK(e);
      T_EQ_UINT(out[0], (unsigned)ref_hex(c) << 4);
    }
    /* base64: "<c>AAA" -- whitespace and '=' are special. */
    memcpy(s, "?AAA", 4);
    s[0] = (char)c;
    e = base64_decode(s, 4, out, sizeof(out), &n);
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      T_OK(e); /* skipped: "AAA" alone is two zero bytes */
      T_EQ_UINT(n, 2);
    } else if (ref_b64(c) < 0) {
      T_EQ_INT(e, CHIVE_ERR_PROTO);
    } else {
      T_OK(e);
      T_EQ_UINT(n, 3);
      T_EQ_UINT(out[0], (unsigned)ref_b64(c) << 2);
    }
    /* base32: "<c>aaaaaaa" */
    memcpy(s, "?aaaaaaa", 8);
    s[0] = (char)c;
    e = base32_decode(s, 8, out, sizeof(out), &n);
    if (ref_b32(c) < 0) {
      T_EQ_INT(e, CHIVE_ERR_PROTO);
    } else {
      T_OK(e);
      T_EQ_UINT(n, 5);
      T_EQ_UINT(out[0], (unsigned)ref_b32(c) << 3);
    }
  }
  /* Encoders produce exactly the reference alphabets. */
  for (unsigned v = 0; v < 256; v++) {
    uint8_t b = (uint8_t)v;
    char s[16];
    T_OK(base16_encode(&b, 1, s, sizeof(s), BASE16_LOWER));
    T_EQ_INT(ref_hex(s[0]), (int)(v >> 4));
    T_EQ_INT(ref_hex(s[1]), (int)(v & 15));
    T_ASSERT(!(s[1] >= 'A' && s[1] <= 'F'));
    T_OK(base64_encode(&b, 1, s, sizeof(s), BASE64_NOPAD));
    T_EQ_INT(ref_b64(s[0]), (int)(v >> 2));
    T_OK(base32_encode(&b, 1, s, sizeof(s), 0));
    T_EQ_INT(ref_b32(s[0]), (int)(v >> 3));
    T_ASSERT(!(s[0] >= 'A' && s[0] <= 'Z'));
  }
done:
  return;
}

static void
test_base32(void)
{
  uint8_t in[35], out[64];
  char buf[64];
  size_t n = 0;
  fill(in, sizeof(in), 3);
  /* 35 bytes -> 56 lower-case chars, no padding (an onion address). */
  T_EQ_UINT(base32_encoded_len(35, 0), 56);
  T_OK(base32_encode(in, sizeof(in), buf, 57, 0));
  T_EQ_UINT(strlen(buf), 56);
  for (size_t i = 0; i < 56; i++)
    T_ASSERT((buf[i] >= 'a' && buf[i] <= 'z') ||
             (buf[i] >= '2' && buf[i] <= '7'));
  T_EQ_INT(base32_encode(in, sizeof(in), buf, 56, 0), CHIVE_ERR_LIMIT);
  T_OK(base32_decode(buf, 56, out, 35, &n));
  T_EQ_UINT(n, 35);
  T_EQ_MEM(out, in, 35);
  T_EQ_INT(base32_decode(buf, 56, out, 34, &n), CHIVE_ERR_LIMIT);
  /* Lower-case, unpadded RFC vectors decode too. */
  T_OK(base32_decode("mzxw6ytboi", 10, out, sizeof(out), &n));
  T_EQ_UINT(n, 6);
  T_EQ_MEM(out, "foobar", 6);
  T_OK(base32_decode("MzXw6", 5, out, sizeof(out), &n));
  T_EQ_UINT(n, 3);
  T_EQ_MEM(out, "foo", 3);
  /* Bad input: characters, lengths, padding, non-canonical bits. */
  const char *bad[] = {
      "m",
      "mzx",
      "mzxw6y",
      "my1",
      "mz0q",
      "my8=",
      "my======x",
      "my=====",
      "my=======",
      "m=======",
      "mzxw6ytb========",
      "my==  ==",
      "mz",
      "mzxr",
      "mzxw7",
      "mzxw6yr",
      "=",
      "========",
      "my.",
      "my ",
      " my",
      "MY=\n",
      "my=a====",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    n = 99;
    if (base32_decode(bad[i], strlen(bad[i]), out, sizeof(out), &n) !=
        CHIVE_ERR_PROTO)
      T_FAIL_("accepted bad base32 \"%s\"", bad[i]);
    T_EQ_UINT(n, 99);
  }
  T_EQ_INT(base32_decode("my\0a", 4, out, sizeof(out), &n), CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_base64(void)
{
  uint8_t out[128];
  size_t n = 0;
  /* Missing padding and whitespace anywhere are tolerated. */
  T_OK(base64_decode("Zm9vYg", 6, out, sizeof(out), &n));
  T_EQ_UINT(n, 4);
  T_EQ_MEM(out, "foob", 4);
  T_OK(base64_decode("Zm9vYmE", 7, out, sizeof(out), &n));
  T_EQ_UINT(n, 5);
  const char *ws = " Zm\n9v\r\nY\tg =\n= \n";
  T_OK(base64_decode(ws, strlen(ws), out, sizeof(out), &n));
  T_EQ_UINT(n, 4);
  T_EQ_MEM(out, "foob", 4);
  T_OK(base64_decode(" \n\t\r", 4, out, sizeof(out), &n));
  T_EQ_UINT(n, 0);
  /* Output room: exactly enough works, one less fails and wipes. */
  T_OK(base64_decode("Zm9vYmFy", 8, out, 6, &n));
  memset(out, 0x55, sizeof(out));
  T_EQ_INT(base64_decode("Zm9vYmFy", 8, out, 5, &n), CHIVE_ERR_LIMIT);
  for (size_t i = 0; i < 5; i++)
    T_EQ_UINT(out[i], 0);
  /* Bad input. */
  const char *bad[] = {
      "Z",     "Zm9vY",  "Zg=",    "Zg===",    "Zm9v=",    "Zm8==",
      "Zh==",  "Zm9=",   "Zg==Zg", "Zg=a",     "Zm-v",     "Zm_v",
      "Zm9v.", "Zm9v\v", "=",      "====",     "Zg==\x80", "Zm9v\f",
      "A===",  "AB=C",   "-_-_",   "Zm9v\x7f", "Zg= =x",   "Z===",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    n = 99;
    size_t len = strlen(bad[i]);
    if (base64_decode(bad[i], len, out, sizeof(out), &n) != CHIVE_ERR_PROTO)
      T_FAIL_("accepted bad base64 \"%s\"", bad[i]);
    T_EQ_UINT(n, 99);
  }
  T_EQ_INT(base64_decode("Zm\0v", 4, out, sizeof(out), &n), CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_base64_wrap(void)
{
  uint8_t in[100];
  char buf[256];
  uint8_t out[100];
  size_t n = 0;
  fill(in, sizeof(in), 9);
  /* 48 bytes -> exactly one 64-char line. */
  T_EQ_UINT(base64_encoded_len(48, BASE64_WRAP64), 65);
  T_OK(base64_encode(in, 48, buf, sizeof(buf), BASE64_WRAP64));
  T_EQ_UINT(strlen(buf), 65);
  T_EQ_INT(buf[64], '\n');
  T_ASSERT(memchr(buf, '\n', 64) == NULL);
  /* 100 bytes -> 136 chars (with "=="): 64 + 64 + 8, every line ends in
   * a newline. */
  T_EQ_UINT(base64_encoded_len(100, BASE64_WRAP64), 139);
  T_OK(base64_encode(in, 100, buf, sizeof(buf), BASE64_WRAP64));
  T_EQ_UINT(strlen(buf), 139);
  T_EQ_INT(buf[64], '\n');
  T_EQ_INT(buf[129], '\n');
  T_EQ_INT(buf[138], '\n');
  T_EQ_INT(buf[137], '=');
  T_EQ_INT(buf[136], '=');
  T_OK(base64_decode(buf, strlen(buf), out, sizeof(out), &n));
  T_EQ_UINT(n, 100);
  T_EQ_MEM(out, in, 100);
  /* Unpadded and wrapped. */
  T_OK(base64_encode(in, 100, buf, sizeof(buf), BASE64_WRAP64 | BASE64_NOPAD));
  T_EQ_UINT(strlen(buf), 137);
  T_EQ_INT(buf[136], '\n');
  T_ASSERT(strchr(buf, '=') == NULL);
  T_OK(base64_decode(buf, strlen(buf), out, sizeof(out), &n));
  T_EQ_UINT(n, 100);
  T_EQ_MEM(out, in, 100);
  /* Empty input wraps to nothing. */
  T_EQ_UINT(base64_encoded_len(0, BASE64_WRAP64), 0);
  T_OK(base64_encode(in, 0, buf, 1, BASE64_WRAP64));
  T_EQ_STR(buf, "");
done:
  return;
}

static void
test_round_trips(void)
{
  uint8_t in[200], out[200];
  char buf[512];
  size_t n = 0;
  const unsigned b64_flags[] = {0, BASE64_NOPAD, BASE64_WRAP64,
                                BASE64_NOPAD | BASE64_WRAP64};
  const unsigned b32_flags[] = {0, BASE32_PAD, BASE32_UPPER,
                                BASE32_UPPER | BASE32_PAD};
  for (size_t len = 0; len <= sizeof(in); len++) {
    fill(in, len, (uint32_t)len);
    for (size_t f = 0; f < 4; f++) {
      size_t need = base64_encoded_len(len, b64_flags[f]);
      T_OK(base64_encode(in, len, buf, need + 1, b64_flags[f]));
      T_EQ_UINT(strlen(buf), need);
      T_EQ_INT(base64_encode(in, len, buf, need, b64_flags[f]),
               CHIVE_ERR_LIMIT);
      T_OK(base64_encode(in, len, buf, need + 1, b64_flags[f]));
      T_ASSERT(base64_decoded_max_len(need) >= len);
      T_OK(base64_decode(buf, need, out, len, &n));
      T_EQ_UINT(n, len);
      T_EQ_MEM(out, in, len);

      need = base32_encoded_len(len, b32_flags[f]);
      T_OK(base32_encode(in, len, buf, need + 1, b32_flags[f]));
      T_EQ_UINT(strlen(buf), need);
      T_ASSERT(base32_decoded_max_len(need) >= len);
      T_OK(base32_decode(buf, need, out, len, &n));
      T_EQ_UINT(n, len);
      T_EQ_MEM(out, in, len);
    }
    T_OK(base16_encode(in, len, buf, sizeof(buf),
                       len % 2 ? BASE16_UPPER : BASE16_LOWER));
    T_OK(base16_decode(buf, 2 * len, out, len, &n));
    T_EQ_UINT(n, len);
    T_EQ_MEM(out, in, len);
  }
done:
  return;
}

/** Every prefix of an encoding either decodes to a prefix of the data
 * (base64 tolerates missing padding) or is rejected; none overruns a
 * buffer of exactly decoded_max_len() bytes. */
static void
test_every_prefix(void)
{
  uint8_t in[70], out[70];
  char b64[128], b32[128];
  uint8_t *exact = NULL;
  size_t n = 0;
  fill(in, sizeof(in), 77);
  T_OK(base64_encode(in, sizeof(in), b64, sizeof(b64), BASE64_WRAP64));
  T_OK(base32_encode(in, sizeof(in), b32, sizeof(b32), BASE32_PAD));
  for (size_t i = 0; i <= strlen(b64); i++) {
    size_t max = base64_decoded_max_len(i);
    exact = chive_malloc(max ? max : 1);
    T_ASSERT(exact);
    chive_err_t e = base64_decode(b64, i, exact, max, &n);
    T_ASSERT(e == CHIVE_OK || e == CHIVE_ERR_PROTO);
    if (e == CHIVE_OK) {
      T_ASSERT(n <= max);
      T_EQ_MEM(exact, in, n);
    }
    chive_free_and_null(exact);
  }
  /* The complete unwrapped prefix lengths 4k decode to 3k bytes. */
  T_OK(base64_decode(b64, 4, out, sizeof(out), &n));
  T_EQ_UINT(n, 3);
  for (size_t i = 0; i <= strlen(b32); i++) {
    size_t max = base32_decoded_max_len(i);
    exact = chive_malloc(max ? max : 1);
    T_ASSERT(exact);
    chive_err_t e = base32_decode(b32, i, exact, max, &n);
    T_ASSERT(e == CHIVE_OK || e == CHIVE_ERR_PROTO);
    if (e == CHIVE_OK)
      T_EQ_MEM(exact, in, n);
    /* Only complete groups, or the exact whole, are canonical with
     * padding present; unpadded partial groups may be canonical by
     * chance, so only the lengths are checked here. */
    if (i % 8 == 1 || i % 8 == 3 || i % 8 == 6)
      T_EQ_INT(e, CHIVE_ERR_PROTO);
    chive_free_and_null(exact);
  }
  for (size_t i = 1; i < 2 * sizeof(in); i += 2) {
    char hex[150];
    T_OK(base16_encode(in, sizeof(in), hex, sizeof(hex), 0));
    T_EQ_INT(base16_decode(hex, i, out, sizeof(out), &n), CHIVE_ERR_PROTO);
  }
done:
  chive_free(exact);
}

static const t_case cases[] = {
    T_CASE(test_rfc4648_vectors),
    T_CASE(test_base16),
    T_CASE(test_every_char),
    T_CASE(test_base32),
    T_CASE(test_base64),
    T_CASE(test_base64_wrap),
    T_CASE(test_round_trips),
    T_CASE(test_every_prefix),
    T_END,
};
T_MAIN(cases)
