/**
 * @file dirtok.c
 * @brief Directory meta-format tokenizer and rule checking (dir-spec §1.2),
 * plus checked number/time/hex/base64 helpers.  See dirtok.h.
 *
 * Pure: no I/O, no logging.  The only allocation is the reader itself
 * (argument array and object scratch buffer).
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/dirtok.h"
#include "lib/encoding/base64.h"

#include <arpa/inet.h>
#include <string.h>

#include "lib/err/err.h"

struct dirtok_reader_t {
  const char *s;           /**< The input (borrowed). */
  size_t len;              /**< Its length. */
  size_t pos;              /**< Offset of the next unread line. */
  bool allow_annotations;  /**< Accept "@keyword" lines. */
  size_t n_objects;        /**< Objects since the last reset. */
  size_t max_objects;      /**< Cap on n_objects. */
  dirtok_str_t args[DIRTOK_MAX_ARGS];
  uint8_t obj[DIRTOK_MAX_OBJECT_LEN];
};

/* see dirtok.h */
chive_err_t
dirtok_reader_new(const char *s, size_t len, dirtok_reader_t **out)
{
  if (BUG(out == NULL) || BUG(s == NULL && len != 0))
    return CHIVE_ERR_INVAL;
  if (len > DIR_MAX_DOC_SIZE)
    return CHIVE_ERR_LIMIT;
  /* dir-spec §1.2 has no place for NUL; rejecting it up front also means
   * no later string handling can be cut short by one. */
  if (len && memchr(s, '\0', len) != NULL)
    return CHIVE_ERR_PROTO;
  dirtok_reader_t *r = chive_malloc(sizeof(*r));
  if (!r)
    return CHIVE_ERR_NOMEM;
  r->s = s;
  r->len = len;
  r->pos = 0;
  r->allow_annotations = false;
  r->n_objects = 0;
  r->max_objects = DIRTOK_DEFAULT_MAX_OBJECTS;
  *out = r;
  return CHIVE_OK;
}

/* see dirtok.h */
void
dirtok_reader_free_(dirtok_reader_t *r)
{
  chive_free(r);
}

/* see dirtok.h */
void
dirtok_reader_allow_annotations(dirtok_reader_t *r, bool allow)
{
  r->allow_annotations = allow;
}

/* see dirtok.h */
void
dirtok_reader_set_max_objects(dirtok_reader_t *r, size_t max)
{
  r->max_objects = max;
}

/* see dirtok.h */
void
dirtok_reader_reset_objects(dirtok_reader_t *r)
{
  r->n_objects = 0;
}

/* see dirtok.h */
size_t
dirtok_offset(const dirtok_reader_t *r)
{
  return r->pos;
}

/** Find the line starting at <b>pos</b>: set *<b>line</b> to its text
 * (without NL) and *<b>next</b> to the offset after its NL.
 * CHIVE_ERR_TRUNCATED if the input ends without NL, CHIVE_ERR_LIMIT if
 * the line is longer than DIRTOK_MAX_LINE_LEN. */
static chive_err_t
get_line(const dirtok_reader_t *r, size_t pos, dirtok_str_t *line,
         size_t *next)
{
  if (pos >= r->len)
    return CHIVE_ERR_TRUNCATED;
  size_t left = r->len - pos;
  size_t scan = left < DIRTOK_MAX_LINE_LEN + 1 ? left
                                                : DIRTOK_MAX_LINE_LEN + 1;
  const char *nl = memchr(r->s + pos, '\n', scan);
  if (!nl)
    return scan == left ? CHIVE_ERR_TRUNCATED : CHIVE_ERR_LIMIT;
  size_t n = (size_t)(nl - (r->s + pos));
  line->p = r->s + pos;
  line->len = n;
  *next = pos + n + 1;
  return CHIVE_OK;
}

/** Skip empty lines ("Document ::= (Item | NL)+"). */
static void
skip_empty_lines(dirtok_reader_t *r)
{
  while (r->pos < r->len && r->s[r->pos] == '\n')
    r->pos++;
}

/* see dirtok.h */
bool
dirtok_at_end(dirtok_reader_t *r)
{
  skip_empty_lines(r);
  return r->pos >= r->len;
}

static bool
is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
         (c >= '0' && c <= '9');
}

static bool
is_ws(char c)
{
  return c == ' ' || c == '\t';
}

/* see dirtok.h */
dirtok_str_t
dirtok_peek_keyword(dirtok_reader_t *r)
{
  dirtok_str_t kw = {NULL, 0};
  skip_empty_lines(r);
  size_t i = r->pos;
  while (i < r->len && r->s[i] != '\n' && !is_ws(r->s[i]) &&
         i - r->pos <= DIRTOK_MAX_LINE_LEN)
    i++;
  kw.p = r->s + r->pos;
  kw.len = i - r->pos;
  return kw;
}

static bool
starts_with(dirtok_str_t s, const char *lit)
{
  size_t n = strlen(lit);
  return s.len >= n && memcmp(s.p, lit, n) == 0;
}

static bool
ends_with(dirtok_str_t s, const char *lit)
{
  size_t n = strlen(lit);
  return s.len >= n && memcmp(s.p + (s.len - n), lit, n) == 0;
}

/** Validate an object type: Keyword (" " Keyword)*, dir-spec §1.2. */
static bool
object_type_ok(dirtok_str_t t)
{
  if (t.len == 0 || t.len > DIRTOK_MAX_OBJECT_TYPE_LEN)
    return false;
  bool at_word_start = true;
  for (size_t i = 0; i < t.len; i++) {
    char c = t.p[i];
    if (c == ' ') {
      if (at_word_start)
        return false; /* leading or doubled space */
      at_word_start = true;
    } else if (is_alnum(c)) {
      at_word_start = false;
    } else if (c == '-') {
      if (at_word_start)
        return false; /* a Keyword may not start with '-' */
    } else {
      return false;
    }
  }
  return !at_word_start;
}

/** Parse the object that begins at the line <b>begin</b> (already known
 * to start with "-----BEGIN ") whose following line is at
 * <b>pos</b>.  Fill the object fields of <b>tok</b> and set *<b>end</b>
 * past the END line. */
static chive_err_t
read_object(dirtok_reader_t *r, dirtok_str_t begin, size_t pos,
            dirtok_t *tok, size_t *end)
{
  static const char BEGIN[] = "-----BEGIN ";
  static const char END[] = "-----END ";
  static const char DASHES[] = "-----";
  if (!ends_with(begin, DASHES) ||
      begin.len < strlen(BEGIN) + strlen(DASHES))
    return CHIVE_ERR_PROTO;
  dirtok_str_t type = {begin.p + strlen(BEGIN),
                       begin.len - strlen(BEGIN) - strlen(DASHES)};
  if (!object_type_ok(type))
    return CHIVE_ERR_PROTO;
  if (r->n_objects >= r->max_objects)
    return CHIVE_ERR_LIMIT;

  size_t body_start = pos;
  for (;;) {
    dirtok_str_t line;
    size_t next;
    chive_err_t e = get_line(r, pos, &line, &next);
    if (e)
      return e;
    if (starts_with(line, "-----")) {
      /* Must be exactly the matching END line. */
      if (!starts_with(line, END) || !ends_with(line, DASHES) ||
          line.len != strlen(END) + type.len + strlen(DASHES) ||
          memcmp(line.p + strlen(END), type.p, type.len) != 0)
        return CHIVE_ERR_PROTO;
      size_t n_dec = 0;
      e = dirtok_base64_decode(r->s + body_start, pos - body_start, r->obj,
                               sizeof(r->obj), &n_dec);
      if (e)
        return e;
      tok->has_object = true;
      tok->obj_type = type;
      tok->obj = r->obj;
      tok->obj_len = n_dec;
      r->n_objects++;
      *end = next;
      return CHIVE_OK;
    }
    /* Bound the encoded body before decoding: 4 chars per 3 bytes plus
     * line breaks every 64 chars is < 2x. */
    if (next - body_start > 2 * DIRTOK_MAX_OBJECT_LEN)
      return CHIVE_ERR_LIMIT;
    pos = next;
  }
}

/* see dirtok.h */
chive_err_t
dirtok_next(dirtok_reader_t *r, dirtok_t *out)
{
  skip_empty_lines(r);
  dirtok_str_t line;
  size_t next;
  chive_err_t e = get_line(r, r->pos, &line, &next);
  if (e)
    return e;

  dirtok_t tok;
  memset(&tok, 0, sizeof(tok));
  tok.start = r->pos;
  tok.line_end = next;
  tok.end = next;

  /* Keyword ::= KeywordStart KeywordChar*, dir-spec §1.2. */
  size_t i = 0;
  if (line.len == 0)
    return CHIVE_ERR_PROTO;
  if (line.p[0] == '@' && r->allow_annotations)
    i = 1;
  if (i >= line.len || !is_alnum(line.p[i]))
    return CHIVE_ERR_PROTO;
  while (i < line.len && (is_alnum(line.p[i]) || line.p[i] == '-'))
    i++;
  tok.kw.p = line.p;
  tok.kw.len = i;
  if (i < line.len && !is_ws(line.p[i]))
    return CHIVE_ERR_PROTO;

  /* Arguments: runs of non-WS separated by WS.  Control characters are
   * not ArgumentChars; bytes >= 0x80 are tolerated (contact lines). */
  size_t n_args = 0;
  while (i < line.len) {
    while (i < line.len && is_ws(line.p[i]))
      i++;
    if (i >= line.len)
      break;
    size_t a = i;
    while (i < line.len && !is_ws(line.p[i])) {
      unsigned char c = (unsigned char)line.p[i];
      if (c < 0x20 || c == 0x7f)
        return CHIVE_ERR_PROTO;
      i++;
    }
    if (n_args >= DIRTOK_MAX_ARGS)
      return CHIVE_ERR_LIMIT;
    r->args[n_args].p = line.p + a;
    r->args[n_args].len = i - a;
    if (n_args == 0)
      tok.rest.p = line.p + a;
    n_args++;
  }
  tok.n_args = n_args;
  tok.args = r->args;
  if (n_args) {
    const dirtok_str_t *last = &r->args[n_args - 1];
    tok.rest.len = (size_t)((last->p + last->len) - tok.rest.p);
  } else {
    tok.rest.p = line.p + line.len;
    tok.rest.len = 0;
  }

  /* Object? */
  dirtok_str_t nline;
  size_t nnext;
  if (get_line(r, next, &nline, &nnext) == CHIVE_OK &&
      starts_with(nline, "-----BEGIN ")) {
    size_t end = 0;
    e = read_object(r, nline, nnext, &tok, &end);
    if (e)
      return e;
    tok.end = end;
  }
  r->pos = tok.end;
  *out = tok;
  return CHIVE_OK;
}

/* ---- rules -------------------------------------------------------------*/

/* see dirtok.h */
bool
dirtok_str_eq(dirtok_str_t s, const char *lit)
{
  size_t n = strlen(lit);
  return s.len == n && (n == 0 || memcmp(s.p, lit, n) == 0);
}

/* see dirtok.h */
int
dirtok_lookup(const dirtok_table_t *tbl, const dirtok_t *tok)
{
  if (tok->kw.len == 0)
    return -1;
  for (size_t i = 0; i < tbl->n_rules && i < DIRTOK_MAX_RULES; i++) {
    const char *kw = tbl->rules[i].kw;
    if (kw[0] == tok->kw.p[0] && dirtok_str_eq(tok->kw, kw))
      return (int)i;
  }
  return -1;
}

/* see dirtok.h */
void
dirtok_section_begin(dirtok_section_t *sec, const dirtok_table_t *tbl)
{
  memset(sec, 0, sizeof(*sec));
  sec->tbl = tbl;
  sec->first_rule = -1;
  for (size_t i = 0; i < tbl->n_rules && i < DIRTOK_MAX_RULES; i++) {
    if (tbl->rules[i].pos == DIRTOK_POS_FIRST) {
      sec->first_rule = (int)i;
      break;
    }
  }
}

/* see dirtok.h */
chive_err_t
dirtok_section_add(dirtok_section_t *sec, const dirtok_t *tok, int *rule_out)
{
  if (sec->closed)
    return CHIVE_ERR_PROTO; /* something after an "at end" item */
  int idx = dirtok_lookup(sec->tbl, tok);
  if (sec->n_items == 0 && sec->first_rule >= 0 && idx != sec->first_rule)
    return CHIVE_ERR_PROTO; /* "at start" item missing */
  if (idx < 0) {
    sec->n_items++;
    *rule_out = -1;
    return CHIVE_OK;
  }
  const dirtok_rule_t *rule = &sec->tbl->rules[idx];
  if (rule->pos == DIRTOK_POS_FIRST && sec->n_items != 0)
    return CHIVE_ERR_PROTO;
  if (tok->n_args < rule->min_args)
    return CHIVE_ERR_PROTO;
  if (rule->max_args != DIRTOK_ANY && tok->n_args > rule->max_args)
    return CHIVE_ERR_PROTO;
  if (rule->obj == DIRTOK_OBJ_FORBIDDEN && tok->has_object)
    return CHIVE_ERR_PROTO;
  if (rule->obj == DIRTOK_OBJ_REQUIRED && !tok->has_object)
    return CHIVE_ERR_PROTO;
  if (rule->max_count != DIRTOK_ANY &&
      sec->counts[idx] >= rule->max_count)
    return CHIVE_ERR_PROTO;
  if (sec->counts[idx] < UINT16_MAX)
    sec->counts[idx]++;
  if (rule->pos == DIRTOK_POS_LAST)
    sec->closed = true;
  sec->n_items++;
  *rule_out = idx;
  return CHIVE_OK;
}

/* see dirtok.h */
chive_err_t
dirtok_section_end(const dirtok_section_t *sec)
{
  for (size_t i = 0; i < sec->tbl->n_rules && i < DIRTOK_MAX_RULES; i++) {
    const dirtok_rule_t *rule = &sec->tbl->rules[i];
    if (sec->counts[i] < rule->min_count)
      return CHIVE_ERR_PROTO;
    if (rule->pos == DIRTOK_POS_LAST && sec->counts[i] && !sec->closed)
      return CHIVE_ERR_PROTO;
  }
  return CHIVE_OK;
}

/* ---- helpers -----------------------------------------------------------*/

/* see dirtok.h */
chive_err_t
dirtok_parse_u64(dirtok_str_t s, uint64_t min, uint64_t max, uint64_t *out)
{
  if (s.len == 0 || s.len > 20)
    return CHIVE_ERR_PROTO;
  uint64_t v = 0;
  for (size_t i = 0; i < s.len; i++) {
    char c = s.p[i];
    if (c < '0' || c > '9')
      return CHIVE_ERR_PROTO;
    uint64_t d = (uint64_t)(c - '0');
    if (v > (UINT64_MAX - d) / 10)
      return CHIVE_ERR_PROTO;
    v = v * 10 + d;
  }
  if (v < min || v > max)
    return CHIVE_ERR_PROTO;
  *out = v;
  return CHIVE_OK;
}

/* see dirtok.h */
chive_err_t
dirtok_parse_i64(dirtok_str_t s, int64_t min, int64_t max, int64_t *out)
{
  bool neg = false;
  if (s.len && s.p[0] == '-') {
    neg = true;
    s.p++;
    s.len--;
  }
  uint64_t mag;
  chive_err_t e = dirtok_parse_u64(s, 0, (uint64_t)INT64_MAX + 1, &mag);
  if (e)
    return e;
  int64_t v;
  if (neg) {
    v = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
  } else {
    if (mag > (uint64_t)INT64_MAX)
      return CHIVE_ERR_PROTO;
    v = (int64_t)mag;
  }
  if (v < min || v > max)
    return CHIVE_ERR_PROTO;
  *out = v;
  return CHIVE_OK;
}

/** Parse exactly <b>n</b> digits at <b>p</b>. */
static bool
digits(const char *p, size_t n, unsigned *out)
{
  unsigned v = 0;
  for (size_t i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return false;
    v = v * 10 + (unsigned)(p[i] - '0');
  }
  *out = v;
  return true;
}

/** Days since 1970-01-01 of the civil date y-m-d (proleptic Gregorian;
 * Howard Hinnant's days_from_civil algorithm). */
static int64_t
days_from_civil(int64_t y, unsigned m, unsigned d)
{
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned mp = m > 2 ? m - 3 : m + 9;
  unsigned doy = (153 * mp + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

/* see dirtok.h */
chive_err_t
dirtok_parse_time(dirtok_str_t date, dirtok_str_t hms, int64_t *out)
{
  static const unsigned mdays[12] = {31, 28, 31, 30, 31, 30,
                                     31, 31, 30, 31, 30, 31};
  unsigned y, mo, d, h, mi, s;
  if (date.len != 10 || hms.len != 8)
    return CHIVE_ERR_PROTO;
  if (date.p[4] != '-' || date.p[7] != '-' || hms.p[2] != ':' ||
      hms.p[5] != ':')
    return CHIVE_ERR_PROTO;
  if (!digits(date.p, 4, &y) || !digits(date.p + 5, 2, &mo) ||
      !digits(date.p + 8, 2, &d) || !digits(hms.p, 2, &h) ||
      !digits(hms.p + 3, 2, &mi) || !digits(hms.p + 6, 2, &s))
    return CHIVE_ERR_PROTO;
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 ||
      s > 60)
    return CHIVE_ERR_PROTO;
  unsigned dim = mdays[mo - 1];
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && leap)
    dim = 29;
  if (d > dim)
    return CHIVE_ERR_PROTO;
  int64_t days = days_from_civil((int64_t)y, mo, d);
  *out = days * 86400 + (int64_t)h * 3600 + (int64_t)mi * 60 + (int64_t)s;
  return CHIVE_OK;
}

static int
hexval(char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* see dirtok.h */
chive_err_t
dirtok_parse_hex(dirtok_str_t s, uint8_t *out, size_t n)
{
  if (s.len != 2 * n)
    return CHIVE_ERR_PROTO;
  for (size_t i = 0; i < n; i++) {
    int hi = hexval(s.p[2 * i]), lo = hexval(s.p[2 * i + 1]);
    if (hi < 0 || lo < 0)
      return CHIVE_ERR_PROTO;
    out[i] = (uint8_t)((hi << 4) | lo);
  }
  return CHIVE_OK;
}

/* see dirtok.h */
chive_err_t
dirtok_base64_decode(const char *s, size_t len, uint8_t *out, size_t cap,
                     size_t *n_out)
{
  /* lib/encoding does the work (constant time, strict canonical form,
   * line breaks allowed); this only keeps the tokenizer's contract. */
  return base64_decode(s, len, out, cap, n_out);
}

/* see dirtok.h */
chive_err_t
dirtok_parse_base64(dirtok_str_t s, uint8_t *out, size_t n)
{
  /* Largest decoded size we handle here: identities, digests, keys. */
  uint8_t tmp[128];
  size_t got = 0;
  if (n > sizeof(tmp) || s.len > (sizeof(tmp) / 3 + 1) * 4)
    return CHIVE_ERR_PROTO;
  if (memchr(s.p, '\n', s.len))
    return CHIVE_ERR_PROTO;
  chive_err_t e = dirtok_base64_decode(s.p, s.len, tmp, sizeof(tmp), &got);
  if (e)
    return CHIVE_ERR_PROTO;
  if (got != n)
    return CHIVE_ERR_PROTO;
  memcpy(out, tmp, n);
  return CHIVE_OK;
}

/* see dirtok.h */
chive_err_t
dirtok_parse_ipv4(dirtok_str_t s, uint32_t *out)
{
  uint32_t v = 0;
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    if (part) {
      if (i >= s.len || s.p[i] != '.')
        return CHIVE_ERR_PROTO;
      i++;
    }
    size_t st = i;
    unsigned octet = 0;
    while (i < s.len && s.p[i] >= '0' && s.p[i] <= '9' && i - st < 3) {
      octet = octet * 10 + (unsigned)(s.p[i] - '0');
      i++;
    }
    if (i == st || octet > 255 || (i - st > 1 && s.p[st] == '0'))
      return CHIVE_ERR_PROTO;
    v = (v << 8) | octet;
  }
  if (i != s.len)
    return CHIVE_ERR_PROTO;
  *out = v;
  return CHIVE_OK;
}

/* see dirtok.h */
chive_err_t
dirtok_parse_ipv6_port(dirtok_str_t s, uint8_t addr[16], uint16_t *port)
{
  /* "[" addr "]:" port; the longest IPv6 text form is 45 chars. */
  char buf[48];
  if (s.len < 4 || s.p[0] != '[')
    return CHIVE_ERR_PROTO;
  const char *close = memchr(s.p, ']', s.len);
  if (!close)
    return CHIVE_ERR_PROTO;
  size_t alen = (size_t)(close - s.p) - 1;
  if (alen == 0 || alen >= sizeof(buf))
    return CHIVE_ERR_PROTO;
  size_t rest_off = alen + 2;
  if (rest_off >= s.len || s.p[rest_off] != ':')
    return CHIVE_ERR_PROTO;
  dirtok_str_t ps = {s.p + rest_off + 1, s.len - rest_off - 1};
  uint64_t p;
  if (dirtok_parse_u64(ps, 1, 65535, &p))
    return CHIVE_ERR_PROTO;
  memcpy(buf, s.p + 1, alen);
  buf[alen] = '\0';
  uint8_t tmp[16];
  if (inet_pton(AF_INET6, buf, tmp) != 1)
    return CHIVE_ERR_PROTO;
  memcpy(addr, tmp, 16);
  *port = (uint16_t)p;
  return CHIVE_OK;
}
