/**
 * @file fuzz_control_line.c
 * @brief Fuzz the control-port framer, the argument tokenizer and the
 * reply builders (feature/control/control_proto).
 *
 * Input: one control byte (bit 7: small limits; bits 0-2: chunk size
 * for the second framing pass), then controller bytes.
 * Oracles:
 * - framing in chunks gives the same commands and the same final status
 *   as framing all at once (differential);
 * - commands are well-formed: upper-case keyword without whitespace,
 *   lengths match the strings, no NUL, data ends with LF;
 * - accepted keyword arguments re-encoded with control_format_kv()
 *   parse back to the same keys and values;
 * - replies echoing peer text are exactly one CRLF-terminated line, and
 *   a data reply frames back to the same data.
 **/
#include <stdlib.h>
#include <string.h>

#include "feature/control/control_proto.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"
#include "lib/text/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c))    \
      abort();   \
  } while (0)

#define MAX_CMDS 64

typedef struct {
  control_cmd_t cmds[MAX_CMDS];
  int n;
  chive_err_t last; /**< final status: TRUNCATED or a sticky error */
} framed_t;

static void
frame_all(const uint8_t *in, size_t n, size_t step, size_t max_line,
          size_t max_data, framed_t *out)
{
  control_framer_t f;
  control_framer_init(&f, max_line, max_data);
  memset(out, 0, sizeof(*out));
  out->last = CHIVE_ERR_TRUNCATED;
  size_t pos = 0;
  while (pos < n) {
    size_t chunk = step ? step : n - pos;
    if (chunk > n - pos)
      chunk = n - pos;
    size_t off = 0;
    while (off < chunk) {
      size_t used = 0;
      control_cmd_t c;
      chive_err_t e =
          control_framer_feed(&f, in + pos + off, chunk - off, &used, &c);
      CHECK(used <= chunk - off);
      off += used;
      if (e == CHIVE_OK) {
        CHECK(used > 0);
        if (out->n < MAX_CMDS)
          out->cmds[out->n++] = c;
        else
          control_cmd_clear(&c);
        continue;
      }
      if (e == CHIVE_ERR_TRUNCATED) {
        CHECK(off == chunk);
        break;
      }
      CHECK(e == CHIVE_ERR_LIMIT || e == CHIVE_ERR_PROTO);
      out->last = e;
      /* Sticky. */
      size_t used2 = 1;
      control_cmd_t c2;
      CHECK(control_framer_feed(&f, (const uint8_t *)"X\n", 2, &used2, &c2) ==
            e);
      CHECK(used2 == 0);
      goto done;
    }
    pos += chunk;
  }
done:
  control_framer_clear(&f);
}

static void
framed_clear(framed_t *fr)
{
  for (int i = 0; i < fr->n; i++)
    control_cmd_clear(&fr->cmds[i]);
  fr->n = 0;
}

static void
check_cmd(const control_cmd_t *c)
{
  size_t kl = strlen(c->keyword);
  CHECK(kl == strlen(c->keyword_raw));
  for (size_t i = 0; i < kl; i++) {
    CHECK(!ascii_isspace((unsigned char)c->keyword[i]));
    CHECK(!(c->keyword[i] >= 'a' && c->keyword[i] <= 'z'));
    CHECK(ascii_toupper(c->keyword_raw[i]) == c->keyword[i]);
  }
  CHECK(strlen(c->args) == c->args_len);
  CHECK(c->args_len == 0 || !ascii_isspace((unsigned char)c->args[0]));
  CHECK(memchr(c->args, '\n', c->args_len) == NULL);
  if (c->is_data) {
    CHECK(c->data != NULL);
    CHECK(strlen(c->data) == c->data_len);
    CHECK(c->data_len == 0 || c->data[c->data_len - 1] == '\n');
  } else {
    CHECK(c->data == NULL && c->data_len == 0);
  }
}

static const char *const some_keys[] = {"Port", "Flags", "Key", NULL};
static const control_cmd_syntax_t syntaxes[] = {
    {.min_args = 0, .max_args = CONTROL_ARGS_UNLIMITED},
    {.max_args = 0,
     .accept_keywords = true,
     .kv_flags = CONTROL_KV_OMIT_VALS | CONTROL_KV_QUOTED},
    {.max_args = 0,
     .accept_keywords = true,
     .kv_flags = CONTROL_KV_OMIT_KEYS | CONTROL_KV_QSTRING,
     .wipe = true},
    {.min_args = 1,
     .max_args = 1,
     .accept_keywords = true,
     .allowed_keywords = some_keys},
    {.min_args = 1, .max_args = 2},
};

/** Re-encode SETCONF-style (OMIT_VALS | QUOTED) keyword args and check
 * they parse back the same. */
static void
check_kv_roundtrip(const control_args_t *a, const control_cmd_syntax_t *syn)
{
  strbuf_t sb;
  strbuf_init(&sb, (size_t)1 << 20);
  for (size_t i = 0; i < a->n_kv; i++) {
    CHECK(a->kv[i].key[0] != '\0');
    CHECK(strlen(a->kv[i].value) == a->kv[i].value_len);
    if ((i && strbuf_addc(&sb, ' ') != CHIVE_OK) ||
        control_format_kv(&sb, a->kv[i].key, a->kv[i].value,
                          a->kv[i].value_len) != CHIVE_OK)
      goto done;
  }
  control_cmd_t c;
  memset(&c, 0, sizeof(c));
  c.keyword = chive_strdup("SETCONF");
  c.keyword_raw = chive_strdup("SETCONF");
  c.args = chive_strdup(strbuf_str(&sb));
  if (!c.keyword || !c.keyword_raw || !c.args) {
    control_cmd_clear(&c);
    goto done;
  }
  c.args_len = strbuf_len(&sb);
  control_args_t b;
  chive_err_t e = control_args_parse(&c, syn, &b, NULL, 0);
  if (e != CHIVE_ERR_LIMIT) {
    CHECK(e == CHIVE_OK);
    CHECK(b.n_kv == a->n_kv);
    for (size_t i = 0; i < a->n_kv; i++) {
      CHECK(strcmp(b.kv[i].key, a->kv[i].key) == 0);
      CHECK(strcmp(b.kv[i].value, a->kv[i].value) == 0);
    }
    control_args_clear(&b);
  }
  control_cmd_clear(&c);
done:
  strbuf_clear(&sb);
}

static void
check_args(const control_cmd_t *c)
{
  char err[CONTROL_ERRMSG_LEN];
  for (size_t s = 0; s < sizeof(syntaxes) / sizeof(syntaxes[0]); s++) {
    control_args_t a;
    control_cmd_t one = *c;
    one.is_data = false; /* parse the argument line whatever it was */
    one.data = NULL;
    one.data_len = 0;
    chive_err_t e =
        control_args_parse(&one, &syntaxes[s], &a, err, sizeof(err));
    if (e != CHIVE_OK) {
      CHECK(e == CHIVE_ERR_PROTO || e == CHIVE_ERR_LIMIT);
      CHECK(a.n_args == 0 && a.n_kv == 0);
      CHECK(err[0] != '\0');
      CHECK(memchr(err, '\n', strlen(err)) == NULL);
      CHECK(memchr(err, '\r', strlen(err)) == NULL);
      continue;
    }
    CHECK(a.n_args >= syntaxes[s].min_args);
    CHECK(a.n_args <= syntaxes[s].max_args);
    CHECK(a.n_args + a.n_kv <= CONTROL_MAX_ARGS);
    for (size_t i = 0; i < a.n_args; i++) {
      size_t l = strlen(a.args[i]);
      CHECK(l > 0);
      for (size_t k = 0; k < l; k++)
        CHECK(!ascii_isspace((unsigned char)a.args[i][k]));
    }
    if (syntaxes[s].kv_flags & CONTROL_KV_QUOTED)
      check_kv_roundtrip(&a, &syntaxes[s]);
    control_args_clear(&a);
  }
}

static void
check_replies(const control_cmd_t *c)
{
  control_outbuf_t o;
  control_outbuf_init(&o, (size_t)4 << 20);
  /* Echoing peer text: exactly one line. */
  if (control_reply_printf(&o, 510, ' ', "Unrecognized command \"%s\"",
                           c->keyword_raw) == CHIVE_OK &&
      control_reply_line(&o, 552, '-', c->args, c->args_len) == CHIVE_OK) {
    const uint8_t *p = control_outbuf_data(&o);
    size_t n = control_outbuf_len(&o), crlf = 0;
    for (size_t i = 0; i < n; i++) {
      if (p[i] == '\n') {
        CHECK(i > 0 && p[i - 1] == '\r');
        crlf++;
      }
      if (p[i] == '\r')
        CHECK(i + 1 < n && p[i + 1] == '\n');
    }
    CHECK(crlf == 2);
  }
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* Data reply round trip (when the data holds no CRLF, which the
   * framer would have folded). */
  if (c->is_data && (c->data_len == 0 || !strstr(c->data, "\r\n")) &&
      control_outbuf_append(&o, "+X\r\n", 4) == CHIVE_OK &&
      control_reply_cmddata(&o, c->data, c->data_len) == CHIVE_OK) {
    control_framer_t f;
    control_framer_init(&f, CONTROL_MAX_DATA_LEN, CONTROL_MAX_DATA_LEN);
    control_cmd_t back;
    size_t used = 0;
    chive_err_t e = control_framer_feed(&f, control_outbuf_data(&o),
                                        control_outbuf_len(&o), &used, &back);
    CHECK(e == CHIVE_OK);
    CHECK(used == control_outbuf_len(&o));
    CHECK(back.data_len == c->data_len);
    CHECK(memcmp(back.data, c->data, c->data_len) == 0);
    control_cmd_clear(&back);
    control_framer_clear(&f);
  }
  control_outbuf_clear(&o);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t mode = data[0];
  const uint8_t *in = data + 1;
  size_t n = size - 1;
  size_t max_line = (mode & 0x80) ? 48 : 0;
  size_t max_data = (mode & 0x80) ? 96 : 0;
  size_t step = (size_t)(mode & 7) + 1;

  framed_t whole, pieces;
  frame_all(in, n, 0, max_line, max_data, &whole);
  frame_all(in, n, step, max_line, max_data, &pieces);
  CHECK(whole.n == pieces.n);
  CHECK(whole.last == pieces.last);
  for (int i = 0; i < whole.n; i++) {
    const control_cmd_t *a = &whole.cmds[i], *b = &pieces.cmds[i];
    CHECK(strcmp(a->keyword_raw, b->keyword_raw) == 0);
    CHECK(strcmp(a->args, b->args) == 0);
    CHECK(a->is_data == b->is_data);
    CHECK(a->data_len == b->data_len);
    CHECK(a->data_len == 0 || memcmp(a->data, b->data, a->data_len) == 0);
    check_cmd(a);
    check_args(a);
    check_replies(a);

    /* control_unquote on a leading quoted string, both dialects. */
    if (a->args_len > 0 && a->args[0] == '"') {
      char *out = chive_malloc(a->args_len + 1);
      if (out) {
        for (int q = 0; q < 2; q++) {
          size_t no = 0, used = 0;
          chive_err_t e = control_unquote(a->args, a->args_len, q == 1, out,
                                          a->args_len + 1, &no, &used);
          if (e == CHIVE_OK) {
            CHECK(used >= 2 && used <= a->args_len);
            CHECK(no <= used - 2);
            CHECK(strlen(out) == no);
          } else {
            CHECK(e == CHIVE_ERR_TRUNCATED || e == CHIVE_ERR_PROTO);
          }
        }
        chive_free(out);
      }
    }
  }
  framed_clear(&whole);
  framed_clear(&pieces);
  return 0;
}
