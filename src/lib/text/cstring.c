/**
 * @file cstring.c
 * @brief Quoted strings with C escapes (see cstring.h).
 **/
#include "lib/text/cstring.h"

#include <stdint.h>

#include "lib/bytes/bytes.h"
#include "lib/text/str.h"

/** Return the value of hex digit <b>c</b>, or -1. */
static int
hexval(int c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/** Read one byte of <b>r</b>, or -1 at the end (then r is bad). */
static int
next_byte(rd_t *r)
{
  if (rd_left(r) == 0) {
    (void)rd_u8(r); /* marks the reader bad */
    return -1;
  }
  return rd_u8(r);
}

/* see cstring.h */
chive_err_t
cstring_unquote(const char *in, size_t in_len, char *out, size_t out_len,
                size_t *n_out, size_t *consumed)
{
  rd_t r = rd_init((const uint8_t *)in, in_len);
  if (next_byte(&r) != '"')
    return in_len == 0 ? CHIVE_ERR_TRUNCATED : CHIVE_ERR_PROTO;
  size_t o = 0;
  for (;;) {
    int c = next_byte(&r);
    if (c < 0)
      return CHIVE_ERR_TRUNCATED;
    if (c == '"')
      break;
    if (c == '\0' || c == '\r' || c == '\n')
      return CHIVE_ERR_PROTO;
    if (c == '\\') {
      int e = next_byte(&r);
      switch (e) {
      case -1:
        return CHIVE_ERR_TRUNCATED;
      case 'n':
        c = '\n';
        break;
      case 'r':
        c = '\r';
        break;
      case 't':
        c = '\t';
        break;
      case '\\':
      case '"':
      case '\'':
        c = e;
        break;
      case 'x': {
        int h1 = next_byte(&r), h2 = next_byte(&r);
        if (h2 < 0)
          return CHIVE_ERR_TRUNCATED;
        if (hexval(h1) < 0 || hexval(h2) < 0)
          return CHIVE_ERR_PROTO;
        c = hexval(h1) * 16 + hexval(h2);
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3': {
        int o2 = next_byte(&r), o3 = next_byte(&r);
        if (o3 < 0)
          return CHIVE_ERR_TRUNCATED;
        if (o2 < '0' || o2 > '7' || o3 < '0' || o3 > '7')
          return CHIVE_ERR_PROTO;
        c = (e - '0') * 64 + (o2 - '0') * 8 + (o3 - '0');
        break;
      }
      default:
        return CHIVE_ERR_PROTO; /* includes \4..\7 (value > 255) */
      }
      if (c == 0)
        return CHIVE_ERR_PROTO;
    }
    if (o + 1 >= out_len)
      return CHIVE_ERR_LIMIT;
    out[o++] = (char)c;
  }
  if (out_len == 0)
    return CHIVE_ERR_LIMIT;
  out[o] = '\0';
  *n_out = o;
  *consumed = in_len - rd_left(&r);
  return CHIVE_OK;
}

/* see cstring.h */
chive_err_t
cstring_quote(strbuf_t *sb, const char *s, size_t len)
{
  chive_err_t e = strbuf_addc(sb, '"');
  for (size_t i = 0; e == CHIVE_OK && i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    char esc[4] = {'\\', 0, 0, 0};
    size_t n = 2;
    switch (c) {
    case '\n':
      esc[1] = 'n';
      break;
    case '\r':
      esc[1] = 'r';
      break;
    case '\t':
      esc[1] = 't';
      break;
    case '"':
    case '\\':
      esc[1] = (char)c;
      break;
    default:
      if (ascii_isprint(c)) {
        esc[0] = (char)c;
        n = 1;
      } else {
        esc[1] = (char)('0' + (c >> 6));
        esc[2] = (char)('0' + ((c >> 3) & 7));
        esc[3] = (char)('0' + (c & 7));
        n = 4;
      }
      break;
    }
    e = strbuf_add(sb, esc, n);
  }
  if (e == CHIVE_OK)
    e = strbuf_addc(sb, '"');
  return e;
}
