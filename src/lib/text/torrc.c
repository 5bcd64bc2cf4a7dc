/**
 * @file torrc.c
 * @brief torrc-style configuration tokenizer (see torrc.h for the
 * format).
 *
 * torrc_next() is a pure reader over rd_t: it copies the key and the
 * decoded value into the caller's scratch buffer and never allocates.
 * torrc_parse() wraps it to build an owned list.
 **/
#include "lib/text/torrc.h"

#include <string.h>

#include "lib/err/err.h"
#include "lib/text/cstring.h"
#include "lib/text/str.h"

/** Return the byte <b>i</b> places ahead in <b>r</b> without consuming
 * anything, or -1 past the end. */
static int
peek_at(const rd_t *r, size_t i)
{
  rd_t tmp = *r;
  if (rd_left(&tmp) <= i)
    return -1;
  rd_skip(&tmp, i);
  return rd_u8(&tmp);
}

static int
peek(const rd_t *r)
{
  return peek_at(r, 0);
}

/** Record an error on <b>tr</b> and return <b>e</b>. */
static chive_err_t
fail(torrc_reader_t *tr, chive_err_t e, unsigned line, const char *msg,
     torrc_error_t *err)
{
  tr->failed = e;
  tr->err.line = line;
  tr->err.msg = msg;
  if (err)
    *err = tr->err;
  return e;
}

/* see torrc.h */
chive_err_t
torrc_reader_init(torrc_reader_t *tr, const char *text, size_t len,
                  torrc_error_t *err)
{
  memset(tr, 0, sizeof(*tr));
  tr->line = 1;
  tr->r = rd_init((const uint8_t *)text, len);
  if (len > TORRC_MAX_LEN)
    return fail(tr, CHIVE_ERR_LIMIT, 0, "configuration too large", err);
  unsigned line = 1;
  rd_t scan = tr->r;
  while (rd_left(&scan) > 0) {
    uint8_t c = rd_u8(&scan);
    if (c == '\0')
      return fail(tr, CHIVE_ERR_PROTO, line, "NUL byte in configuration", err);
    if (c == '\n' && ++line > TORRC_MAX_LINES)
      return fail(tr, CHIVE_ERR_LIMIT, line, "too many lines", err);
  }
  return CHIVE_OK;
}

/** Bounded output into the caller's scratch buffer. */
typedef struct outbuf_t {
  char *p;
  size_t len, cap;
  bool overflow;
} outbuf_t;

static void
put(outbuf_t *o, char c)
{
  if (o->len < o->cap)
    o->p[o->len++] = c;
  else
    o->overflow = true;
}

/** Return true if <b>r</b> is at a backslash that ends its line: "\\\n",
 * "\\\r\n", or a backslash (optionally with CR) at the end of input. */
static bool
at_continuation(const rd_t *r)
{
  if (peek(r) != '\\')
    return false;
  int c1 = peek_at(r, 1);
  if (c1 == '\r')
    c1 = peek_at(r, 2);
  return c1 == '\n' || c1 == -1;
}

/** Consume the rest of the current line, not the newline itself. */
static void
skip_to_eol(rd_t *r)
{
  int c;
  while ((c = peek(r)) >= 0 && c != '\n')
    rd_skip(r, 1);
}

/** Return true if the line starting at <b>r</b> is a comment line: its
 * first non-blank character is '#'. */
static bool
at_comment_line(const rd_t *r)
{
  size_t i = 0;
  int c;
  while ((c = peek_at(r, i)) == ' ' || c == '\t')
    i++;
  return c == '#';
}

/** Read an unquoted value (possibly continued over several lines) into
 * <b>o</b>, starting just after the blanks that follow the key. */
static void
read_plain_value(torrc_reader_t *tr, outbuf_t *o)
{
  rd_t *r = &tr->r;
  for (;;) {
    int c = peek(r);
    if (c < 0 || c == '\n')
      return;
    if (c == '#') {
      skip_to_eol(r); /* a comment ends the entry on this line */
      return;
    }
    if (!at_continuation(r)) {
      put(o, (char)c);
      rd_skip(r, 1);
      continue;
    }
    /* Backslash-newline: drop both and go on with the next line, after
     * any comment lines. */
    rd_skip(r, 1);
    if (peek(r) == '\r')
      rd_skip(r, 1);
    if (peek(r) != '\n')
      return; /* backslash at the very end of the input */
    rd_skip(r, 1);
    tr->line++;
    while (at_comment_line(r)) {
      skip_to_eol(r);
      if (peek(r) != '\n')
        return;
      rd_skip(r, 1);
      tr->line++;
    }
  }
}

/* see torrc.h */
chive_err_t
torrc_next(torrc_reader_t *tr, char *buf, size_t buf_len, torrc_entry_t *out,
           torrc_error_t *err)
{
  if (tr->failed != CHIVE_OK) {
    if (err)
      *err = tr->err;
    return tr->failed;
  }
  if (BUG(buf_len < TORRC_ENTRY_BUF_LEN))
    return CHIVE_ERR_INVAL;
  rd_t *r = &tr->r;

  /* Skip whitespace, blank lines and comment lines. */
  int c;
  for (;;) {
    c = peek(r);
    if (c < 0) {
      memset(out, 0, sizeof(*out));
      return CHIVE_OK;
    }
    if (c == '#') {
      skip_to_eol(r);
    } else if (ascii_isspace(c)) {
      rd_skip(r, 1);
      if (c == '\n')
        tr->line++;
    } else {
      break;
    }
  }
  const unsigned start_line = tr->line;
  const size_t start_left = rd_left(r);
  outbuf_t o = {buf, 0, TORRC_MAX_LINE_LEN + 2u, false};

  /* The key: up to whitespace, '#' or a line-ending backslash. */
  torrc_cmd_t cmd = TORRC_CMD_SET;
  if (c == '+' || c == '/') {
    cmd = c == '+' ? TORRC_CMD_APPEND : TORRC_CMD_CLEAR;
    rd_skip(r, 1);
  }
  while ((c = peek(r)) >= 0 && !ascii_isspace(c) && c != '#' &&
         !at_continuation(r)) {
    put(&o, (char)c);
    rd_skip(r, 1);
  }
  if (o.len == 0)
    return fail(tr, CHIVE_ERR_PROTO, start_line, "missing option name", err);
  put(&o, '\0');
  const size_t value_off = o.len;

  while ((c = peek(r)) == ' ' || c == '\t')
    rd_skip(r, 1);

  if (c == '"') {
    /* A quoted value ends on this line. */
    rd_t line = *r;
    size_t line_len = 0;
    while ((c = peek_at(r, line_len)) >= 0 && c != '\n')
      line_len++;
    line = rd_sub(&line, line_len);
    size_t view_len = 0;
    const char *view = (const char *)rd_rest(&line, &view_len);
    size_t n = 0, used = 0;
    chive_err_t e =
        cstring_unquote(view, view_len, o.p + o.len, o.cap - o.len, &n, &used);
    if (e == CHIVE_ERR_TRUNCATED)
      return fail(tr, CHIVE_ERR_PROTO, start_line,
                  "unterminated quoted string", err);
    if (e == CHIVE_ERR_LIMIT)
      return fail(tr, CHIVE_ERR_LIMIT, start_line, "line too long", err);
    if (e != CHIVE_OK)
      return fail(tr, CHIVE_ERR_PROTO, start_line,
                  "invalid escape sequence in quoted string", err);
    rd_skip(r, used);
    o.len += n + 1;
    while ((c = peek(r)) == ' ' || c == '\t' || c == '\r')
      rd_skip(r, 1);
    if (c == '#')
      skip_to_eol(r);
    else if (c >= 0 && c != '\n')
      return fail(tr, CHIVE_ERR_PROTO, start_line,
                  "excess data after quoted string", err);
  } else {
    read_plain_value(tr, &o);
    /* Trim the value: blanks before a comment, CR, and whatever leading
     * whitespace a continuation brought in. */
    size_t vlen = 0;
    const char *v = str_trim(o.p + value_off, o.len - value_off, &vlen);
    memmove(o.p + value_off, v, vlen);
    o.len = value_off + vlen;
    put(&o, '\0');
  }
  if (o.overflow || start_left - rd_left(r) > TORRC_MAX_LINE_LEN)
    return fail(tr, CHIVE_ERR_LIMIT, start_line, "line too long", err);

  out->key = buf;
  out->value = cmd == TORRC_CMD_CLEAR ? "" : buf + value_off;
  out->line = start_line;
  out->cmd = cmd;
  return CHIVE_OK;
}

/* see torrc.h */
void
torrc_list_free_(torrc_list_t *l)
{
  if (!l)
    return;
  for (size_t i = 0; i < l->n; i++)
    chive_free_wipe((void *)(uintptr_t)l->entries[i].key);
  chive_free(l->entries);
  chive_free(l);
}

/** Hard cap on entries: every entry takes at least two bytes ("k\n"). */
#define TORRC_MAX_ENTRIES (TORRC_MAX_LEN / 2 + 1)

/* see torrc.h */
chive_err_t
torrc_parse(const char *text, size_t len, torrc_list_t **out,
            torrc_error_t *err)
{
  torrc_reader_t tr;
  torrc_list_t *l = NULL;
  char *buf = NULL;
  size_t cap = 0;
  chive_err_t e;

  *out = NULL;
  e = torrc_reader_init(&tr, text, len, err);
  if (e != CHIVE_OK)
    return e;
  e = CHIVE_ERR_NOMEM;
  l = chive_zalloc(sizeof(*l));
  buf = chive_malloc(TORRC_ENTRY_BUF_LEN);
  if (!l || !buf)
    goto fail;
  for (;;) {
    torrc_entry_t ent;
    e = torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, err);
    if (e != CHIVE_OK)
      goto fail;
    if (!ent.key)
      break;
    e = CHIVE_ERR_NOMEM;
    if (l->n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      if (BUG(ncap > TORRC_MAX_ENTRIES))
        goto fail;
      torrc_entry_t *ne = chive_realloc(l->entries, ncap * sizeof(*ne));
      if (!ne)
        goto fail;
      l->entries = ne;
      cap = ncap;
    }
    size_t klen = strlen(ent.key), vlen = strlen(ent.value);
    char *block = chive_malloc(klen + vlen + 2);
    if (!block)
      goto fail;
    memcpy(block, ent.key, klen + 1);
    memcpy(block + klen + 1, ent.value, vlen + 1);
    ent.key = block;
    ent.value = block + klen + 1;
    l->entries[l->n++] = ent;
  }
  chive_free_wipe(buf);
  *out = l;
  return CHIVE_OK;

fail:
  if (buf)
    chive_free_wipe(buf);
  torrc_list_free_(l);
  return e;
}
