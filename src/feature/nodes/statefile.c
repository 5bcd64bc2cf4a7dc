/**
 * @file statefile.c
 * @brief The persistent state file: tokenized with the torrc rules,
 * validated, kept in order, written back atomically.
 *
 * Parsing never trusts the file: it is bounded (size, entries, key and
 * value lengths), keys are restricted to [A-Za-z0-9_] and values to
 * printable ASCII, and anything else is refused with a line number.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/nodes/statefile.h"
#include "lib/err/err.h"
#include "lib/fs/fs.h"
#include "lib/text/cstring.h"
#include "lib/text/str.h"
#include "lib/text/torrc.h"

typedef struct statefile_entry_t {
  char *key;
  char *value;
  unsigned line;
} statefile_entry_t;

struct statefile_t {
  statefile_entry_t *e;
  size_t n;
  size_t cap;
};

statefile_t *
statefile_new(void)
{
  return chive_zalloc(sizeof(statefile_t));
}

void
statefile_free_(statefile_t *sf)
{
  if (!sf)
    return;
  for (size_t i = 0; i < sf->n; i++) {
    chive_free(sf->e[i].key);
    chive_free(sf->e[i].value);
  }
  chive_free(sf->e);
  chive_free(sf);
}

/** Return true iff <b>key</b> is a key we accept: 1..MAX_KEY_LEN bytes of
 * [A-Za-z0-9_]. */
static bool
key_ok(const char *key)
{
  size_t n = strlen(key);
  if (n == 0 || n > STATEFILE_MAX_KEY_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (!ascii_isalnum((unsigned char)key[i]) && key[i] != '_')
      return false;
  }
  return true;
}

/** Return true iff <b>value</b> is a value we accept: at most
 * MAX_VALUE_LEN bytes of printable ASCII. */
static bool
value_ok(const char *value)
{
  size_t n = strlen(value);
  if (n > STATEFILE_MAX_VALUE_LEN)
    return false;
  for (size_t i = 0; i < n; i++) {
    if (!ascii_isprint((unsigned char)value[i]))
      return false;
  }
  return true;
}

/** Make room for one more entry. */
static chive_err_t
grow(statefile_t *sf)
{
  if (sf->n >= STATEFILE_MAX_ENTRIES)
    return CHIVE_ERR_LIMIT;
  if (sf->n < sf->cap)
    return CHIVE_OK;
  size_t ncap = sf->cap ? sf->cap * 2 : 16;
  if (ncap > STATEFILE_MAX_ENTRIES)
    ncap = STATEFILE_MAX_ENTRIES;
  statefile_entry_t *ne = chive_realloc(sf->e, ncap * sizeof(*ne));
  if (!ne)
    return CHIVE_ERR_NOMEM;
  sf->e = ne;
  sf->cap = ncap;
  return CHIVE_OK;
}

/** Append copies of key and value (already validated) at line <b>line</b>.
 */
static chive_err_t
append_raw(statefile_t *sf, const char *key, const char *value, unsigned line)
{
  chive_err_t e = grow(sf);
  if (e != CHIVE_OK)
    return e;
  char *k = chive_strdup(key);
  char *v = chive_strdup(value);
  if (!k || !v) {
    chive_free(k);
    chive_free(v);
    return CHIVE_ERR_NOMEM;
  }
  sf->e[sf->n].key = k;
  sf->e[sf->n].value = v;
  sf->e[sf->n].line = line;
  sf->n++;
  return CHIVE_OK;
}

static void
set_err(statefile_error_t *err, unsigned line, const char *msg)
{
  if (err) {
    err->line = line;
    err->msg = msg;
  }
}

/* see statefile.h */
chive_err_t
statefile_parse(const char *text, size_t len, statefile_t **out,
                statefile_error_t *err)
{
  torrc_reader_t tr;
  torrc_error_t terr = {0, NULL};
  char *buf = NULL;
  statefile_t *sf = NULL;
  chive_err_t e;

  *out = NULL;
  if (len > STATEFILE_MAX_LEN) {
    set_err(err, 0, "state file too large");
    return CHIVE_ERR_LIMIT;
  }
  e = torrc_reader_init(&tr, text, len, &terr);
  if (e != CHIVE_OK) {
    set_err(err, terr.line, terr.msg);
    return e;
  }
  buf = chive_malloc(TORRC_ENTRY_BUF_LEN);
  sf = statefile_new();
  if (!buf || !sf) {
    set_err(err, 0, "out of memory");
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  for (;;) {
    torrc_entry_t ent;
    e = torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &terr);
    if (e != CHIVE_OK) {
      set_err(err, terr.line, terr.msg);
      goto done;
    }
    if (!ent.key)
      break;
    if (ent.cmd != TORRC_CMD_SET) {
      set_err(err, ent.line, "'+' or '/' entries are not allowed here");
      e = CHIVE_ERR_PROTO;
      goto done;
    }
    if (!key_ok(ent.key)) {
      set_err(err, ent.line, "bad key (want 1-64 of [A-Za-z0-9_])");
      e = CHIVE_ERR_PROTO;
      goto done;
    }
    if (!value_ok(ent.value)) {
      set_err(err, ent.line, "value too long or not printable ASCII");
      e = CHIVE_ERR_PROTO;
      goto done;
    }
    e = append_raw(sf, ent.key, ent.value, ent.line);
    if (e != CHIVE_OK) {
      set_err(err, ent.line,
              e == CHIVE_ERR_LIMIT ? "too many entries" : "out of memory");
      goto done;
    }
  }
  *out = sf;
  sf = NULL;
  e = CHIVE_OK;
done:
  statefile_free(sf);
  chive_free(buf);
  return e;
}

/** Return true iff <b>v</b> must be quoted so that the torrc tokenizer
 * reads it back unchanged: a leading quote, a '#', a trailing backslash
 * (a continuation) or blanks at either end (trimmed). */
static bool
needs_quotes(const char *v)
{
  size_t n = strlen(v);
  if (n == 0)
    return false;
  if (v[0] == '"' || ascii_isspace((unsigned char)v[0]) ||
      ascii_isspace((unsigned char)v[n - 1]) || v[n - 1] == '\\')
    return true;
  return strchr(v, '#') != NULL;
}

/* see statefile.h */
chive_err_t
statefile_encode(const statefile_t *sf, strbuf_t *sb)
{
  chive_err_t e = strbuf_addstr(sb, "# chive state file: written by chive, "
                                    "read at startup.  Do not edit while "
                                    "chive is running.\n");
  for (size_t i = 0; e == CHIVE_OK && i < sf->n; i++) {
    const statefile_entry_t *ent = &sf->e[i];
    e = strbuf_addstr(sb, ent->key);
    if (e == CHIVE_OK && ent->value[0] != '\0') {
      e = strbuf_addc(sb, ' ');
      if (e == CHIVE_OK) {
        if (needs_quotes(ent->value))
          e = cstring_quote(sb, ent->value, strlen(ent->value));
        else
          e = strbuf_addstr(sb, ent->value);
      }
    }
    if (e == CHIVE_OK)
      e = strbuf_addc(sb, '\n');
  }
  return e;
}

size_t
statefile_n(const statefile_t *sf)
{
  return sf->n;
}

const char *
statefile_key(const statefile_t *sf, size_t i)
{
  if (BUG(i >= sf->n))
    return "";
  return sf->e[i].key;
}

const char *
statefile_value(const statefile_t *sf, size_t i)
{
  if (BUG(i >= sf->n))
    return "";
  return sf->e[i].value;
}

unsigned
statefile_line(const statefile_t *sf, size_t i)
{
  if (BUG(i >= sf->n))
    return 0;
  return sf->e[i].line;
}

const char *
statefile_get(const statefile_t *sf, const char *key)
{
  for (size_t i = 0; i < sf->n; i++) {
    if (str_eq_ci(sf->e[i].key, key))
      return sf->e[i].value;
  }
  return NULL;
}

/* see statefile.h */
chive_err_t
statefile_append(statefile_t *sf, const char *key, const char *value)
{
  if (BUG(!sf || !key || !value))
    return CHIVE_ERR_INVAL;
  if (!key_ok(key) || !value_ok(value))
    return CHIVE_ERR_INVAL;
  return append_raw(sf, key, value, 0);
}

/* see statefile.h */
chive_err_t
statefile_set(statefile_t *sf, const char *key, const char *value)
{
  if (BUG(!sf || !key || !value))
    return CHIVE_ERR_INVAL;
  if (!key_ok(key) || !value_ok(value))
    return CHIVE_ERR_INVAL;
  size_t first = SIZE_MAX;
  for (size_t i = 0; i < sf->n; i++) {
    if (str_eq_ci(sf->e[i].key, key)) {
      first = i;
      break;
    }
  }
  if (first == SIZE_MAX)
    return append_raw(sf, key, value, 0);
  char *v = chive_strdup(value);
  if (!v)
    return CHIVE_ERR_NOMEM;
  chive_free(sf->e[first].value);
  sf->e[first].value = v;
  sf->e[first].line = 0;
  for (size_t i = sf->n; i-- > first + 1;) {
    if (str_eq_ci(sf->e[i].key, key))
      statefile_remove_at(sf, i);
  }
  return CHIVE_OK;
}

void
statefile_remove_at(statefile_t *sf, size_t i)
{
  if (BUG(i >= sf->n))
    return;
  chive_free(sf->e[i].key);
  chive_free(sf->e[i].value);
  memmove(&sf->e[i], &sf->e[i + 1], (sf->n - i - 1) * sizeof(sf->e[0]));
  sf->n--;
}

/* see statefile.h */
chive_err_t
statefile_load(const char *path, statefile_t **out, statefile_error_t *err)
{
  uint8_t *data = NULL;
  size_t len = 0;
  *out = NULL;
  chive_err_t e = fs_read_file(path, STATEFILE_MAX_LEN, &data, &len);
  if (e != CHIVE_OK) {
    set_err(err, 0,
            e == CHIVE_ERR_NOTFOUND ? "no state file"
            : e == CHIVE_ERR_LIMIT  ? "state file too large"
                                    : "cannot read state file");
    return e;
  }
  e = statefile_parse((const char *)data, len, out, err);
  chive_free(data);
  return e;
}

/* see statefile.h */
chive_err_t
statefile_save(const statefile_t *sf, const char *path)
{
  strbuf_t sb;
  strbuf_init(&sb, STATEFILE_MAX_LEN);
  chive_err_t e = statefile_encode(sf, &sb);
  if (e == CHIVE_OK)
    e = fs_write_atomic(path, strbuf_str(&sb), strbuf_len(&sb),
                        STATEFILE_MODE);
  strbuf_clear(&sb);
  return e;
}

/* see statefile.h */
chive_err_t
statefile_split_kv(const char *s, size_t len, statefile_kv_t *out, size_t max,
                   size_t *n_out)
{
  size_t n = 0, pos = 0;
  while (pos < len) {
    pos += str_span_space(s + pos, len - pos);
    if (pos >= len)
      break;
    size_t wlen = str_span_nonspace(s + pos, len - pos);
    const char *w = s + pos;
    const char *eq = memchr(w, '=', wlen);
    if (!eq || eq == w)
      return CHIVE_ERR_PROTO;
    if (n >= max)
      return CHIVE_ERR_LIMIT;
    size_t klen = (size_t)(eq - w);
    out[n].k = w;
    out[n].k_len = klen;
    out[n].v = eq + 1;
    out[n].v_len = wlen - klen - 1;
    n++;
    pos += wlen;
  }
  *n_out = n;
  return CHIVE_OK;
}
