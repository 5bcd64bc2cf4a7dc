/**
 * @file cdir_json.c
 * @brief Streaming JSON writer (RFC 8259) for chive-dir.
 **/
#include "lib/cc/compat.h"

#include <inttypes.h>
#include <string.h>

#include "cdir_json.h"

/** Return the length of the valid UTF-8 sequence starting at s[0] (of
 * <b>len</b> >= 1 bytes available), or 0 if it is not one (RFC 3629 §4:
 * no overlongs, no surrogates, nothing above U+10FFFF). */
static size_t
utf8_seq_len(const unsigned char *s, size_t len)
{
  unsigned char c = s[0];
  size_t n;
  unsigned char lo = 0x80, hi = 0xbf; /* range of the second byte */
  if (c < 0x80)
    return 1;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0)
      lo = 0xa0;
    else if (c == 0xed)
      hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0)
      lo = 0x90;
    else if (c == 0xf4)
      hi = 0x8f;
  } else {
    return 0;
  }
  if (len < n || s[1] < lo || s[1] > hi)
    return 0;
  for (size_t i = 2; i < n; i++) {
    if (s[i] < 0x80 || s[i] > 0xbf)
      return 0;
  }
  return n;
}

/* see cdir_json.h */
void
jw_write_escaped(FILE *out, const char *s, size_t len)
{
  const unsigned char *p = (const unsigned char *)s;
  size_t i = 0;
  fputc('"', out);
  while (i < len) {
    unsigned char c = p[i];
    if (c == '"' || c == '\\') {
      fputc('\\', out);
      fputc(c, out);
      i++;
    } else if (c < 0x20) {
      switch (c) {
      case '\n':
        fputs("\\n", out);
        break;
      case '\r':
        fputs("\\r", out);
        break;
      case '\t':
        fputs("\\t", out);
        break;
      case '\b':
        fputs("\\b", out);
        break;
      case '\f':
        fputs("\\f", out);
        break;
      default:
        fprintf(out, "\\u%04x", (unsigned)c);
        break;
      }
      i++;
    } else {
      size_t n = utf8_seq_len(p + i, len - i);
      if (n == 0) {
        fputs("\\ufffd", out);
        i++;
      } else {
        fwrite(p + i, 1, n, out);
        i += n;
      }
    }
  }
  fputc('"', out);
}

/** Emit the separator a new value needs at the current level. */
static void
jw_pre_value(jw_t *w)
{
  if (w->after_key) {
    w->after_key = false;
    return;
  }
  if (w->depth > 0 && w->depth <= JW_MAX_DEPTH) {
    if (w->need_comma[w->depth - 1])
      fputc(',', w->out);
    w->need_comma[w->depth - 1] = true;
  }
}

/* see cdir_json.h */
void
jw_init(jw_t *w, FILE *out)
{
  memset(w, 0, sizeof(*w));
  w->out = out;
}

static void
jw_open(jw_t *w, char ch)
{
  jw_pre_value(w);
  fputc(ch, w->out);
  if (w->depth >= JW_MAX_DEPTH) {
    w->overflow = true;
  } else {
    w->need_comma[w->depth] = false;
  }
  w->depth++;
}

static void
jw_close(jw_t *w, char ch)
{
  fputc(ch, w->out);
  if (w->depth > 0)
    w->depth--;
  else
    w->overflow = true;
}

void
jw_obj_begin(jw_t *w)
{
  jw_open(w, '{');
}

void
jw_obj_end(jw_t *w)
{
  jw_close(w, '}');
}

void
jw_arr_begin(jw_t *w)
{
  jw_open(w, '[');
}

void
jw_arr_end(jw_t *w)
{
  jw_close(w, ']');
}

void
jw_key(jw_t *w, const char *key)
{
  jw_pre_value(w);
  jw_write_escaped(w->out, key, strlen(key));
  fputc(':', w->out);
  w->after_key = true;
}

void
jw_str(jw_t *w, const char *s)
{
  if (!s) {
    jw_null(w);
    return;
  }
  jw_pre_value(w);
  jw_write_escaped(w->out, s, strlen(s));
}

void
jw_int(jw_t *w, int64_t v)
{
  jw_pre_value(w);
  fprintf(w->out, "%" PRId64, v);
}

void
jw_uint(jw_t *w, uint64_t v)
{
  jw_pre_value(w);
  fprintf(w->out, "%" PRIu64, v);
}

void
jw_double3(jw_t *w, double v)
{
  jw_pre_value(w);
  fprintf(w->out, "%.3f", v);
}

void
jw_bool(jw_t *w, bool v)
{
  jw_pre_value(w);
  fputs(v ? "true" : "false", w->out);
}

void
jw_null(jw_t *w)
{
  jw_pre_value(w);
  fputs("null", w->out);
}

bool
jw_finish(jw_t *w)
{
  fputc('\n', w->out);
  return w->depth == 0 && !w->overflow && !w->after_key;
}
