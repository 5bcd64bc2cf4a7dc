/**
 * @file control_proto.c
 * @brief Control-port framing, argument tokenizing and reply formatting
 * (control-spec §2.1-§2.4, §4).  Pure: no I/O, no logging.
 **/
#include "lib/cc/compat.h"

#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "feature/control/control_proto.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/text/cstring.h"
#include "lib/text/str.h"

/* ================================================================== */
/* Commands and framing                                               */
/* ================================================================== */

void
control_cmd_clear(control_cmd_t *cmd)
{
  if (!cmd)
    return;
  chive_free_wipe(cmd->keyword);
  chive_free_wipe(cmd->keyword_raw);
  chive_free_wipe(cmd->args);
  chive_free_wipe(cmd->data);
  memset(cmd, 0, sizeof(*cmd));
}

void
control_framer_init(control_framer_t *f, size_t max_line_len,
                    size_t max_data_len)
{
  memset(f, 0, sizeof(*f));
  f->max_line_len = max_line_len ? max_line_len : CONTROL_MAX_LINE_LEN;
  /* Room for at least the data terminator ".\r\n". */
  if (f->max_line_len < 3)
    f->max_line_len = 3;
  f->max_data_len = max_data_len ? max_data_len : CONTROL_MAX_DATA_LEN;
  strbuf_init(&f->line, f->max_line_len);
  strbuf_init(&f->first, f->max_line_len);
  strbuf_init(&f->data, f->max_data_len);
  f->in_data = false;
  f->err = CHIVE_OK;
}

void
control_framer_clear(control_framer_t *f)
{
  strbuf_clear(&f->line);
  strbuf_clear(&f->first);
  strbuf_clear(&f->data);
  f->in_data = false;
}

bool
control_framer_has_partial(const control_framer_t *f)
{
  return f->in_data || strbuf_len(&f->line) > 0;
}

/** Build *<b>out</b> from the first line <b>line</b> (<b>len</b> bytes,
 * terminator removed) and, for a "+" command, the decoded data buffered
 * in <b>f</b> (taken over).  control-spec §2.2: Keyword OptArguments. */
static chive_err_t
framer_build_cmd(control_framer_t *f, const char *line, size_t len,
                 bool is_data, control_cmd_t *out)
{
  control_cmd_t c;
  memset(&c, 0, sizeof(c));

  size_t i = 0;
  if (is_data) {
    /* The "+" marks a command with a data block; it is not part of the
     * keyword the dispatcher looks up. */
    i = 1;
  }
  size_t kw_start = i;
  while (i < len && !ascii_isspace((unsigned char)line[i]))
    i++;
  size_t kw_len = i - kw_start;
  while (i < len && ascii_isspace((unsigned char)line[i]))
    i++;

  c.is_data = is_data;
  c.keyword_raw = chive_strndup(line + kw_start, kw_len);
  c.keyword = chive_strndup(line + kw_start, kw_len);
  c.args_len = len - i;
  c.args = chive_strndup(line + i, c.args_len);
  if (!c.keyword_raw || !c.keyword || !c.args)
    goto nomem;
  for (size_t k = 0; k < kw_len; k++)
    c.keyword[k] = ascii_toupper(c.keyword[k]);
  if (is_data) {
    c.data = strbuf_steal(&f->data, &c.data_len);
    if (!c.data)
      goto nomem;
  }
  *out = c;
  return CHIVE_OK;
nomem:
  control_cmd_clear(&c);
  return CHIVE_ERR_NOMEM;
}

/** Handle one complete line held in f->line (its LF already removed).
 * Set *<b>done</b> when a command was written to *<b>out</b>. */
static chive_err_t
framer_handle_line(control_framer_t *f, control_cmd_t *out, bool *done)
{
  const char *s = strbuf_str(&f->line);
  size_t n = strbuf_len(&f->line);
  chive_err_t e = CHIVE_OK;

  /* control-spec §2.1: "Tor MAY also accept LF" -- drop one CR before
   * the LF if present; any other CR stays part of the line. */
  if (n > 0 && s[n - 1] == '\r')
    n--;

  *done = false;
  if (!f->in_data) {
    if (n > 0 && s[0] == '+') {
      /* §2.2: "+" Keyword OptArguments CRLF CmdData */
      e = strbuf_add(&f->first, s, n);
      if (e == CHIVE_OK)
        f->in_data = true;
    } else {
      e = framer_build_cmd(f, s, n, false, out);
      if (e == CHIVE_OK)
        *done = true;
    }
  } else if (n == 1 && s[0] == '.') {
    /* §2.4: CmdData = *DataLine "." CRLF */
    e = framer_build_cmd(f, strbuf_str(&f->first), strbuf_len(&f->first), true,
                         out);
    if (e == CHIVE_OK) {
      *done = true;
      f->in_data = false;
      strbuf_reset(&f->first);
      strbuf_reset(&f->data);
    }
  } else {
    /* §2.4: a leading period on a data line is escaped with another
     * one (RFC 2821 §4.5.2); remove it. */
    if (n > 0 && s[0] == '.') {
      s++;
      n--;
    }
    if (n + 1 > f->max_data_len - strbuf_len(&f->data)) {
      e = CHIVE_ERR_LIMIT;
    } else {
      e = strbuf_add(&f->data, s, n);
      if (e == CHIVE_OK)
        e = strbuf_addc(&f->data, '\n');
    }
  }
  strbuf_reset(&f->line);
  return e;
}

chive_err_t
control_framer_feed(control_framer_t *f, const uint8_t *in, size_t in_len,
                    size_t *consumed, control_cmd_t *cmd_out)
{
  size_t pos = 0;
  chive_err_t e = CHIVE_OK;

  *consumed = 0;
  if (f->err != CHIVE_OK)
    return f->err;
  if (BUG(in == NULL && in_len > 0) || BUG(cmd_out == NULL))
    return CHIVE_ERR_INVAL;

  while (pos < in_len) {
    const uint8_t *p = in + pos;
    size_t left = in_len - pos;
    const uint8_t *nl = memchr(p, '\n', left);
    size_t chunk = nl ? (size_t)(nl - p) : left;
    size_t have = strbuf_len(&f->line);

    /* Invariant: have <= max_line_len - 1.  The line, LF included, may
     * not exceed max_line_len, so at most `room` more bytes fit before
     * the LF; fail as soon as that is certain.  The first offending
     * byte decides between PROTO (a NUL) and LIMIT, so the verdict does
     * not depend on how the input was split into calls. */
    size_t room = f->max_line_len - 1 - have;
    const uint8_t *nul = memchr(p, '\0', chunk);
    size_t nul_at = nul ? (size_t)(nul - p) : chunk;
    if (chunk > room) {
      e = nul_at <= room ? CHIVE_ERR_PROTO : CHIVE_ERR_LIMIT;
      goto fail;
    }
    if (nul) {
      e = CHIVE_ERR_PROTO;
      goto fail;
    }
    if (chunk > 0) {
      e = strbuf_add(&f->line, p, chunk);
      if (e != CHIVE_OK)
        goto fail;
    }
    pos += chunk;
    if (!nl)
      break;
    pos++; /* the LF */

    bool done = false;
    e = framer_handle_line(f, cmd_out, &done);
    if (e != CHIVE_OK)
      goto fail;
    if (done) {
      *consumed = pos;
      return CHIVE_OK;
    }
  }
  *consumed = pos;
  return CHIVE_ERR_TRUNCATED;

fail:
  f->err = e;
  control_framer_clear(f);
  *consumed = pos;
  return e;
}

/* ================================================================== */
/* Arguments                                                          */
/* ================================================================== */

/** Write a formatted message to errmsg (if any), truncating silently. */
static void CHIVE_PRINTF(3, 4)
    set_errmsg(char *errmsg, size_t errmsg_len, const char *fmt, ...)
{
  if (!errmsg || errmsg_len == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  /* Truncation is acceptable for a human-readable message. */
  chive_err_t e = chive_vsnprintf(errmsg, errmsg_len, NULL, fmt, ap);
  va_end(ap);
  (void)e;
}

/** As set_errmsg() with "<prefix><quoted peer text>". */
static void
set_errmsg_quoted(char *errmsg, size_t errmsg_len, const char *prefix,
                  const char *s, size_t len)
{
  strbuf_t sb;
  strbuf_init(&sb, errmsg_len);
  chive_err_t e = control_quote(&sb, s, len);
  (void)e; /* a truncated quote is still safe text */
  set_errmsg(errmsg, errmsg_len, "%s%s", prefix, strbuf_str(&sb));
  strbuf_clear(&sb);
}

static void
free_str(char *s, bool wipe)
{
  if (wipe)
    chive_free_wipe(s);
  else
    chive_free(s);
}

void
control_args_clear(control_args_t *a)
{
  if (!a)
    return;
  for (size_t i = 0; i < a->n_args; i++)
    free_str(a->args[i], a->wipe);
  chive_free(a->args);
  for (size_t i = 0; i < a->n_kv; i++) {
    free_str(a->kv[i].key, a->wipe);
    free_str(a->kv[i].value, a->wipe);
  }
  chive_free(a->kv);
  memset(a, 0, sizeof(*a));
}

const control_kv_t *
control_args_find_kv(const control_args_t *args, const char *key)
{
  for (size_t i = 0; i < args->n_kv; i++) {
    if (str_eq_ci(args->kv[i].key, key))
      return &args->kv[i];
  }
  return NULL;
}

static bool
is_odigit(int c)
{
  return c >= '0' && c <= '7';
}

static unsigned
hexval(int c)
{
  if (c >= '0' && c <= '9')
    return (unsigned)(c - '0');
  if (c >= 'a' && c <= 'f')
    return (unsigned)(c - 'a' + 10);
  return (unsigned)(c - 'A' + 10);
}

/** Decode one C-string escape starting at in[i] == '\\'.  On success
 * set *v and advance *i past it. */
static chive_err_t
unquote_c_escape(const char *in, size_t in_len, size_t *i, unsigned *v)
{
  size_t k = *i + 1;
  if (k >= in_len)
    return CHIVE_ERR_TRUNCATED;
  char e = in[k];
  switch (e) {
  case 'n':
    *v = '\n';
    break;
  case 'r':
    *v = '\r';
    break;
  case 't':
    *v = '\t';
    break;
  case '"':
  case '\\':
  case '\'':
    *v = (unsigned char)e;
    break;
  case 'x':
  case 'X':
    if (k + 2 >= in_len)
      return CHIVE_ERR_TRUNCATED;
    if (!ascii_isxdigit((unsigned char)in[k + 1]) ||
        !ascii_isxdigit((unsigned char)in[k + 2]))
      return CHIVE_ERR_PROTO;
    *v = hexval(in[k + 1]) * 16u + hexval(in[k + 2]);
    *i = k + 3;
    return CHIVE_OK;
  default:
    if (is_odigit((unsigned char)e)) {
      /* One to three octal digits, as tor's unescape_string(). */
      unsigned val = 0;
      size_t nd = 0;
      while (nd < 3 && k < in_len && is_odigit((unsigned char)in[k])) {
        val = val * 8u + (unsigned)(in[k] - '0');
        k++;
        nd++;
      }
      if (val > 0xff)
        return CHIVE_ERR_PROTO;
      *v = val;
      *i = k;
      return CHIVE_OK;
    }
    return CHIVE_ERR_PROTO;
  }
  *i = k + 1;
  return CHIVE_OK;
}

chive_err_t
control_unquote(const char *in, size_t in_len, bool qstring, char *out,
                size_t out_len, size_t *n_out, size_t *consumed)
{
  if (BUG(in == NULL || in_len == 0 || in[0] != '"'))
    return CHIVE_ERR_INVAL;
  size_t i = 1, o = 0;
  for (;;) {
    if (i >= in_len)
      return CHIVE_ERR_TRUNCATED;
    unsigned char c = (unsigned char)in[i];
    unsigned v;
    if (c == '"') {
      i++;
      break;
    }
    if (c == '\0' || c == '\r' || c == '\n')
      return CHIVE_ERR_PROTO;
    if (c == '\\') {
      if (qstring) {
        /* control-spec §2.1.1: "a backslash followed by any character
         * represents that character". */
        if (i + 1 >= in_len)
          return CHIVE_ERR_TRUNCATED;
        v = (unsigned char)in[i + 1];
        if (v == '\r' || v == '\n')
          return CHIVE_ERR_PROTO;
        i += 2;
      } else {
        chive_err_t e = unquote_c_escape(in, in_len, &i, &v);
        if (e != CHIVE_OK)
          return e;
      }
      if (v == 0)
        return CHIVE_ERR_PROTO; /* decoded NUL: values are C strings */
    } else {
      v = c;
      i++;
    }
    if (out_len == 0 || o >= out_len - 1)
      return CHIVE_ERR_LIMIT;
    out[o++] = (char)v;
  }
  if (o >= out_len)
    return CHIVE_ERR_LIMIT;
  out[o] = '\0';
  *n_out = o;
  *consumed = i;
  return CHIVE_OK;
}

/** True iff <b>c</b> may appear in a keyword-argument key (tor rejects
 * keys that would need quoting). */
static bool
key_char_ok(unsigned char c)
{
  return ascii_isprint(c) && c != ' ' && c != '"' && c != '\'' && c != '=';
}

/** True iff unquoted value <b>s</b> may be accepted when no quoting mode
 * is on (tor: a value that would need quoting is refused). */
static bool
bare_value_ok(const char *s, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!ascii_isprint(c) || c == '"' || c == '\'')
      return false;
  }
  return true;
}

static bool
keyword_allowed(const control_cmd_syntax_t *syn, const char *key)
{
  if (!syn->allowed_keywords || key[0] == '\0')
    return true;
  for (const char *const *k = syn->allowed_keywords; *k; k++) {
    if (str_eq_ci(*k, key))
      return true;
  }
  return false;
}

/** Grow-by-one helpers that respect CONTROL_MAX_ARGS. */
static chive_err_t
push_arg(control_args_t *a, size_t *cap, char *s)
{
  if (a->n_args + a->n_kv >= CONTROL_MAX_ARGS) {
    free_str(s, a->wipe);
    return CHIVE_ERR_LIMIT;
  }
  if (a->n_args == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    char **n = chive_realloc(a->args, ncap * sizeof(char *));
    if (!n) {
      free_str(s, a->wipe);
      return CHIVE_ERR_NOMEM;
    }
    a->args = n;
    *cap = ncap;
  }
  a->args[a->n_args++] = s;
  return CHIVE_OK;
}

static chive_err_t
push_kv(control_args_t *a, size_t *cap, control_kv_t *kv)
{
  if (a->n_args + a->n_kv >= CONTROL_MAX_ARGS)
    return CHIVE_ERR_LIMIT;
  if (a->n_kv == *cap) {
    size_t ncap = *cap ? *cap * 2 : 4;
    control_kv_t *n = chive_realloc(a->kv, ncap * sizeof(control_kv_t));
    if (!n)
      return CHIVE_ERR_NOMEM;
    a->kv = n;
    *cap = ncap;
  }
  a->kv[a->n_kv++] = *kv;
  return CHIVE_OK;
}

/** Parse one keyword argument starting at s[*i] (not whitespace).
 * control-spec §3 commands use Key=Value, Key="Quoted", bare flags and
 * bare values; which ones a command takes is in <b>flags</b>. */
static chive_err_t
parse_one_kv(const char *s, size_t n, size_t *i, unsigned flags,
             control_kv_t *kv, char *errmsg, size_t errmsg_len)
{
  const bool omit_keys = (flags & CONTROL_KV_OMIT_KEYS) != 0;
  const bool omit_vals = (flags & CONTROL_KV_OMIT_VALS) != 0;
  const bool qstring = (flags & CONTROL_KV_QSTRING) != 0;
  const bool quoting = qstring || (flags & CONTROL_KV_QUOTED) != 0;
  size_t p = *i;
  const char *key = "";
  size_t key_len = 0;
  bool bare_key = false;

  memset(kv, 0, sizeof(*kv));
  if (s[p] != '"') {
    size_t j = p;
    while (j < n && !ascii_isspace((unsigned char)s[j]) && s[j] != '=')
      j++;
    key = s + p;
    key_len = j - p;
    if (j < n && s[j] == '=') {
      p = j + 1;
    } else if (omit_vals) {
      p = j;
      bare_key = true;
    } else if (omit_keys) {
      key = "";
      key_len = 0; /* the token is a bare value */
    } else {
      goto syntax;
    }
    if (key_len == 0 && (bare_key || (j < n && s[j] == '=')))
      goto syntax; /* empty key ("=value") */
    for (size_t k = 0; k < key_len; k++) {
      if (!key_char_ok((unsigned char)key[k]))
        goto syntax;
    }
  } else if (!omit_keys) {
    goto syntax; /* a quoted value needs a key */
  }

  kv->key = chive_strndup(key, key_len);
  if (!kv->key)
    return CHIVE_ERR_NOMEM;

  if (bare_key) {
    kv->value = chive_strdup("");
    if (!kv->value)
      goto nomem;
  } else if (p < n && s[p] == '"') {
    if (!quoting)
      goto syntax;
    size_t cap = n - p + 1, used = 0;
    kv->value = chive_malloc(cap);
    if (!kv->value)
      goto nomem;
    chive_err_t e = control_unquote(s + p, n - p, qstring, kv->value, cap,
                                    &kv->value_len, &used);
    if (e == CHIVE_ERR_NOMEM)
      goto nomem;
    if (e != CHIVE_OK)
      goto syntax;
    p += used;
    /* Stricter than tor: a quoted string must end its token. */
    if (p < n && !ascii_isspace((unsigned char)s[p]))
      goto syntax;
    kv->quoted = true;
  } else {
    size_t j = p;
    while (j < n && !ascii_isspace((unsigned char)s[j]))
      j++;
    if (!quoting && !bare_value_ok(s + p, j - p))
      goto syntax;
    kv->value = chive_strndup(s + p, j - p);
    if (!kv->value)
      goto nomem;
    kv->value_len = j - p;
    p = j;
  }
  *i = p;
  return CHIVE_OK;

syntax:
  set_errmsg(errmsg, errmsg_len, "Cannot parse keyword argument(s)");
  chive_free_wipe(kv->key);
  chive_free_wipe(kv->value);
  memset(kv, 0, sizeof(*kv));
  return CHIVE_ERR_PROTO;
nomem:
  chive_free_wipe(kv->key);
  chive_free_wipe(kv->value);
  memset(kv, 0, sizeof(*kv));
  return CHIVE_ERR_NOMEM;
}

chive_err_t
control_args_parse(const control_cmd_t *cmd, const control_cmd_syntax_t *syn,
                   control_args_t *out, char *errmsg, size_t errmsg_len)
{
  control_args_t a;
  size_t args_cap = 0, kv_cap = 0;
  chive_err_t e = CHIVE_OK;

  memset(&a, 0, sizeof(a));
  memset(out, 0, sizeof(*out));
  if (errmsg && errmsg_len)
    errmsg[0] = '\0';
  if (BUG(cmd == NULL || syn == NULL || cmd->args == NULL))
    return CHIVE_ERR_INVAL;
  a.wipe = syn->wipe;

  if (syn->want_data != cmd->is_data) {
    set_errmsg(errmsg, errmsg_len,
               cmd->is_data ? "Unexpected body" : "Empty body");
    return CHIVE_ERR_INVAL;
  }
  if (syn->want_data && cmd->data_len == 0) {
    set_errmsg(errmsg, errmsg_len, "Empty body");
    return CHIVE_ERR_PROTO;
  }

  const char *s = cmd->args;
  size_t n = cmd->args_len, i = 0;
  for (;;) {
    while (i < n && ascii_isspace((unsigned char)s[i]))
      i++;
    if (i >= n)
      break;
    if (a.n_args >= syn->max_args) {
      if (!syn->accept_keywords) {
        set_errmsg(errmsg, errmsg_len,
                   "Cannot accept more than %u argument(s)", syn->max_args);
        e = CHIVE_ERR_PROTO;
        goto err;
      }
      /* The rest of the line is keyword arguments. */
      while (i < n) {
        control_kv_t kv;
        e = parse_one_kv(s, n, &i, syn->kv_flags, &kv, errmsg, errmsg_len);
        if (e != CHIVE_OK)
          goto err;
        if (!keyword_allowed(syn, kv.key)) {
          set_errmsg_quoted(errmsg, errmsg_len,
                            "Unrecognized keyword argument ", kv.key,
                            strlen(kv.key));
          free_str(kv.key, true);
          free_str(kv.value, true);
          e = CHIVE_ERR_PROTO;
          goto err;
        }
        e = push_kv(&a, &kv_cap, &kv);
        if (e != CHIVE_OK) {
          free_str(kv.key, true);
          free_str(kv.value, true);
          goto err;
        }
        while (i < n && ascii_isspace((unsigned char)s[i]))
          i++;
      }
      break;
    }
    size_t j = i;
    while (j < n && !ascii_isspace((unsigned char)s[j]))
      j++;
    char *w = chive_strndup(s + i, j - i);
    if (!w) {
      e = CHIVE_ERR_NOMEM;
      goto err;
    }
    e = push_arg(&a, &args_cap, w);
    if (e != CHIVE_OK)
      goto err;
    i = j;
  }
  if (a.n_args < syn->min_args) {
    set_errmsg(errmsg, errmsg_len, "Need at least %u argument(s)",
               syn->min_args);
    e = CHIVE_ERR_PROTO;
    goto err;
  }
  *out = a;
  return CHIVE_OK;

err:
  if (e == CHIVE_ERR_LIMIT)
    set_errmsg(errmsg, errmsg_len, "Too many arguments");
  else if (e == CHIVE_ERR_NOMEM)
    set_errmsg(errmsg, errmsg_len, "Out of memory");
  a.wipe = true; /* cheap, and partial secrets may be in there */
  control_args_clear(&a);
  return e;
}

/* ================================================================== */
/* Output                                                             */
/* ================================================================== */

/** Bytes of the smallest output block we allocate. */
#define OUTBUF_MIN_ALLOC 256

void
control_outbuf_init(control_outbuf_t *o, size_t max_len)
{
  memset(o, 0, sizeof(*o));
  o->max_len = max_len ? max_len : CONTROL_OUTBUF_DEFAULT_MAX;
}

void
control_outbuf_clear(control_outbuf_t *o)
{
  chive_free_wipe(o->buf);
  o->buf = NULL;
  o->len = o->cap = 0;
}

void
control_outbuf_drain(control_outbuf_t *o, size_t n)
{
  if (n >= o->len) {
    control_outbuf_clear(o);
    return;
  }
  memmove(o->buf, o->buf + n, o->len - n);
  chive_memwipe(o->buf + o->len - n, n);
  o->len -= n;
}

/** Make room for <b>n</b> more bytes and return where they go; the
 * caller writes exactly n bytes there and then adds n to o->len. */
static chive_err_t
outbuf_reserve(control_outbuf_t *o, size_t n, uint8_t **where)
{
  if (n > o->max_len - o->len)
    return CHIVE_ERR_LIMIT;
  size_t need = o->len + n;
  if (need > o->cap) {
    size_t ncap = o->cap ? o->cap : OUTBUF_MIN_ALLOC;
    while (ncap < need)
      ncap = ncap > o->max_len / 2 ? o->max_len : ncap * 2;
    if (ncap > o->max_len)
      ncap = o->max_len;
    if (ncap < need)
      ncap = need;
    uint8_t *nb = chive_malloc(ncap);
    if (!nb)
      return CHIVE_ERR_NOMEM;
    if (o->len)
      memcpy(nb, o->buf, o->len);
    chive_free_wipe(o->buf); /* the old block may hold secrets */
    o->buf = nb;
    o->cap = ncap;
  }
  *where = o->buf + o->len;
  return CHIVE_OK;
}

chive_err_t
control_outbuf_append(control_outbuf_t *o, const void *p, size_t n)
{
  if (BUG(p == NULL && n > 0))
    return CHIVE_ERR_INVAL;
  if (n == 0)
    return CHIVE_OK;
  uint8_t *d;
  chive_err_t e = outbuf_reserve(o, n, &d);
  if (e != CHIVE_OK)
    return e;
  memcpy(d, p, n);
  o->len += n;
  return CHIVE_OK;
}

/** Output length of reply-line text: CR/LF become 2 bytes, NUL 4. */
static size_t
line_text_len(const char *text, size_t len)
{
  size_t out = 0;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    out += (c == '\r' || c == '\n') ? 2 : (c == '\0') ? 4 : 1;
  }
  return out;
}

/** Length of a whole reply line "CODE SEP TEXT CRLF". */
static size_t
line_len(const char *text, size_t len)
{
  return 4 + line_text_len(text, len) + 2;
}

static uint8_t *
line_write(uint8_t *d, unsigned code, char sep, const char *text, size_t len)
{
  *d++ = (uint8_t)('0' + code / 100);
  *d++ = (uint8_t)('0' + (code / 10) % 10);
  *d++ = (uint8_t)('0' + code % 10);
  *d++ = (uint8_t)sep;
  for (size_t i = 0; i < len; i++) {
    char c = text[i];
    if (c == '\r' || c == '\n') {
      *d++ = '\\';
      *d++ = c == '\r' ? 'r' : 'n';
    } else if (c == '\0') {
      memcpy(d, "\\000", 4);
      d += 4;
    } else {
      *d++ = (uint8_t)c;
    }
  }
  *d++ = '\r';
  *d++ = '\n';
  return d;
}

/** Output length of the CmdData encoding of <b>data</b> (§2.4). */
static size_t
cmddata_len(const char *data, size_t len)
{
  if (len == 0)
    return 3;
  size_t out = 0;
  bool at_start = true;
  for (size_t i = 0; i < len; i++) {
    char c = data[i];
    if (c == '\n') {
      out += (i > 0 && data[i - 1] == '\r') ? 1 : 2;
      at_start = true;
    } else {
      out += (c == '.' && at_start) ? 2 : 1;
      at_start = false;
    }
  }
  if (data[len - 1] != '\n')
    out += 2;
  return out + 3;
}

static uint8_t *
cmddata_write(uint8_t *d, const char *data, size_t len)
{
  bool at_start = true;
  for (size_t i = 0; i < len; i++) {
    char c = data[i];
    if (c == '\n') {
      if (!(i > 0 && data[i - 1] == '\r'))
        *d++ = '\r';
      *d++ = '\n';
      at_start = true;
      continue;
    }
    if (c == '.' && at_start)
      *d++ = '.';
    *d++ = (uint8_t)c;
    at_start = false;
  }
  if (len > 0 && data[len - 1] != '\n') {
    *d++ = '\r';
    *d++ = '\n';
  }
  memcpy(d, ".\r\n", 3);
  return d + 3;
}

static bool
reply_args_ok(unsigned code, char sep)
{
  return code >= 100 && code <= 999 &&
         (sep == CONTROL_SEP_END || sep == CONTROL_SEP_MID ||
          sep == CONTROL_SEP_DATA);
}

/** Largest input length whose escaped form cannot overflow size_t. */
#define REPLY_MAX_INPUT_LEN (SIZE_MAX / 8)

chive_err_t
control_reply_line(control_outbuf_t *o, unsigned code, char sep,
                   const char *text, size_t len)
{
  if (BUG(!reply_args_ok(code, sep)) || BUG(text == NULL && len > 0))
    return CHIVE_ERR_INVAL;
  if (len > REPLY_MAX_INPUT_LEN)
    return CHIVE_ERR_LIMIT;
  size_t n = line_len(text, len);
  uint8_t *d;
  chive_err_t e = outbuf_reserve(o, n, &d);
  if (e != CHIVE_OK)
    return e;
  line_write(d, code, sep, text, len);
  o->len += n;
  return CHIVE_OK;
}

chive_err_t
control_reply_str(control_outbuf_t *o, unsigned code, char sep,
                  const char *text)
{
  return control_reply_line(o, code, sep, text, text ? strlen(text) : 0);
}

/** Format into a temporary buffer bounded by what <b>o</b> can take. */
static chive_err_t CHIVE_PRINTF(4, 0)
    reply_vprintf(control_outbuf_t *o, unsigned code, char sep,
                  const char *fmt, va_list ap)
{
  strbuf_t sb;
  strbuf_init(&sb, o->max_len - o->len);
  chive_err_t e = strbuf_vaddf(&sb, fmt, ap);
  if (e == CHIVE_OK)
    e = control_reply_line(o, code, sep, strbuf_str(&sb), strbuf_len(&sb));
  strbuf_clear(&sb);
  return e;
}

chive_err_t
control_reply_printf(control_outbuf_t *o, unsigned code, char sep,
                     const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  chive_err_t e = reply_vprintf(o, code, sep, fmt, ap);
  va_end(ap);
  return e;
}

chive_err_t
control_reply_ok(control_outbuf_t *o)
{
  return control_reply_str(o, CONTROL_CODE_OK, CONTROL_SEP_END, "OK");
}

chive_err_t
control_reply_cmddata(control_outbuf_t *o, const char *data, size_t len)
{
  if (BUG(data == NULL && len > 0))
    return CHIVE_ERR_INVAL;
  if (len > REPLY_MAX_INPUT_LEN)
    return CHIVE_ERR_LIMIT;
  size_t n = cmddata_len(data, len);
  uint8_t *d;
  chive_err_t e = outbuf_reserve(o, n, &d);
  if (e != CHIVE_OK)
    return e;
  cmddata_write(d, data, len);
  o->len += n;
  return CHIVE_OK;
}

chive_err_t
control_reply_data(control_outbuf_t *o, unsigned code, const char *head,
                   const char *data, size_t len)
{
  if (BUG(!reply_args_ok(code, CONTROL_SEP_DATA)) || BUG(head == NULL) ||
      BUG(data == NULL && len > 0))
    return CHIVE_ERR_INVAL;
  size_t head_len = strlen(head);
  if (len > REPLY_MAX_INPUT_LEN || head_len > REPLY_MAX_INPUT_LEN)
    return CHIVE_ERR_LIMIT;
  size_t n1 = line_len(head, head_len);
  size_t n2 = cmddata_len(data, len);
  uint8_t *d;
  /* Both parts in one reservation, so the reply is all or nothing. */
  chive_err_t e = outbuf_reserve(o, n1 + n2, &d);
  if (e != CHIVE_OK)
    return e;
  d = line_write(d, code, CONTROL_SEP_DATA, head, head_len);
  cmddata_write(d, data, len);
  o->len += n1 + n2;
  return CHIVE_OK;
}

chive_err_t
control_reply_kv(control_outbuf_t *o, unsigned code, char sep, const char *key,
                 const char *value, size_t value_len)
{
  strbuf_t sb;
  strbuf_init(&sb, o->max_len - o->len);
  chive_err_t e = control_format_kv(&sb, key, value, value_len);
  if (e == CHIVE_OK)
    e = control_reply_line(o, code, sep, strbuf_str(&sb), strbuf_len(&sb));
  strbuf_clear(&sb);
  return e;
}

chive_err_t
control_event_printf(control_outbuf_t *o, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  chive_err_t e =
      reply_vprintf(o, CONTROL_CODE_EVENT, CONTROL_SEP_END, fmt, ap);
  va_end(ap);
  return e;
}

/* ================================================================== */
/* Text helpers                                                       */
/* ================================================================== */

chive_err_t
control_quote(strbuf_t *sb, const char *s, size_t len)
{
  /* lib/text's C-string quoting is exactly tor's output form. */
  return cstring_quote(sb, s, len);
}

bool
control_value_needs_quote(const char *s, size_t len)
{
  for (size_t i = 0; i < len; i++) {
    unsigned char c = (unsigned char)s[i];
    if (!ascii_isprint(c) || c == ' ' || c == '"' || c == '\'')
      return true;
  }
  return false;
}

chive_err_t
control_format_kv(strbuf_t *sb, const char *key, const char *value,
                  size_t value_len)
{
  if (BUG(key == NULL) || BUG(value == NULL && value_len > 0))
    return CHIVE_ERR_INVAL;
  chive_err_t e = strbuf_addstr(sb, key);
  if (e == CHIVE_OK)
    e = strbuf_addc(sb, '=');
  if (e != CHIVE_OK)
    return e;
  if (control_value_needs_quote(value, value_len))
    return control_quote(sb, value, value_len);
  return value_len ? strbuf_add(sb, value, value_len) : CHIVE_OK;
}
