/**
 * @file md_parse.c
 * @brief Microdescriptor batches (dir-spec §3.3).  See md_parse.h.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/md_parse.h"

#include <stdlib.h>
#include <string.h>

#include "feature/dir/parse/dirtok.h"
#include "feature/dir/parse/protover.h"
#include "lib/crypto/digest.h"
#include "lib/err/err.h"

enum { M_ONION_KEY = 0, M_NTOR, M_A, M_FAMILY, M_P, M_P6, M_ID, M_PR };
/* dir-spec §3.3.  "onion-key" is "exactly once, at start" in the 2023
 * text but newer relays omit it (proposal 350), so it is optional here
 * and its "at start" position is checked by hand.  "pr" was optional
 * before 0.4.5.1-alpha and 2017 microdescriptors lack it. */
static const dirtok_rule_t MD_RULES[] = {
  [M_ONION_KEY] = DIRTOK_T01("onion-key", 0, 0, DIRTOK_OBJ_REQUIRED),
  [M_NTOR] = DIRTOK_T1("ntor-onion-key", 1, DIRTOK_ANY,
                       DIRTOK_OBJ_FORBIDDEN),
  [M_A] = DIRTOK_T0N("a", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [M_FAMILY] = DIRTOK_T01("family", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [M_P] = DIRTOK_T01("p", 2, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [M_P6] = DIRTOK_T01("p6", 2, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [M_ID] = DIRTOK_T0N("id", 2, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [M_PR] = DIRTOK_T01("pr", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
};
static const dirtok_table_t MD_TABLE = {MD_RULES, CHIVE_ARRAY_LEN(MD_RULES)};

typedef struct mdctx_t {
  const char *s;
  size_t len;
  md_list_t *l;
  size_t cap;
  bool in_md;         /**< An md is being built. */
  bool bad;           /**< It broke a rule: skip it. */
  bool seen_ntor;
  bool seen_rsa_id;
  size_t start;       /**< Offset of its first line. */
  uint32_t pending_last_listed;
  dirtok_section_t sec;
  microdesc_t cur;
} mdctx_t;

static bool
nickname_ok(dirtok_str_t n)
{
  if (n.len == 0 || n.len > 19)
    return false;
  for (size_t i = 0; i < n.len; i++) {
    char ch = n.p[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9')))
      return false;
  }
  return true;
}

/** Parse a family line: "$HEX" (optionally "=name"/"~name") members into
 * ids, nicknames into a name string, others ignored (dir-spec §3.3: the
 * canonicalisation leaves unknown forms unchanged, for forward
 * compatibility). */
static chive_err_t
handle_family(mdctx_t *c, const dirtok_t *tok)
{
  microdesc_t *md = &c->cur;
  size_t n_ids = 0, names_len = 0;
  for (size_t i = 0; i < tok->n_args; i++) {
    dirtok_str_t a = tok->args[i];
    if (a.len >= 41 && a.p[0] == '$')
      n_ids++;
    else if (nickname_ok(a))
      names_len += a.len + 1;
  }
  if (n_ids > MD_MAX_FAMILY)
    return CHIVE_ERR_LIMIT;
  uint8_t(*ids)[20] = NULL;
  char *names = NULL;
  if (n_ids) {
    ids = dirarena_alloc(c->l->arena, n_ids * 20);
    if (!ids)
      return CHIVE_ERR_NOMEM;
  }
  if (names_len) {
    names = dirarena_alloc(c->l->arena, names_len);
    if (!names)
      return CHIVE_ERR_NOMEM;
  }
  size_t k = 0, np = 0;
  for (size_t i = 0; i < tok->n_args; i++) {
    dirtok_str_t a = tok->args[i];
    if (a.len >= 41 && a.p[0] == '$') {
      dirtok_str_t hex = {a.p + 1, 40};
      if (a.len > 41 && a.p[41] != '=' && a.p[41] != '~')
        return CHIVE_ERR_PROTO;
      if (dirtok_parse_hex(hex, ids[k], 20))
        return CHIVE_ERR_PROTO;
      k++;
    } else if (nickname_ok(a)) {
      if (np)
        names[np++] = ' ';
      memcpy(names + np, a.p, a.len);
      np += a.len;
    }
  }
  if (names)
    names[np] = '\0';
  md->family_ids = (const uint8_t(*)[20])ids;
  md->n_family_ids = (uint16_t)n_ids;
  md->family_names = names;
  md->has_family = 1;
  return CHIVE_OK;
}

static chive_err_t
handle_item(mdctx_t *c, int rule, const dirtok_t *tok)
{
  microdesc_t *md = &c->cur;
  switch (rule) {
  case M_ONION_KEY:
    if (c->sec.n_items != 1)
      return CHIVE_ERR_PROTO; /* "at start" */
    if (!dirtok_str_eq(tok->obj_type, "RSA PUBLIC KEY") || tok->obj_len < 64)
      return CHIVE_ERR_PROTO;
    md->has_tap_key = 1;
    return CHIVE_OK;
  case M_NTOR:
    /* base64 curve25519 key, with '=' (method <= 29) or without. */
    if (dirtok_parse_base64(tok->args[0], md->ntor_key, 32))
      return CHIVE_ERR_PROTO;
    return CHIVE_OK;
  case M_A:
    if (!md->has_ipv6 && tok->args[0].len && tok->args[0].p[0] == '[') {
      if (dirtok_parse_ipv6_port(tok->args[0], md->ipv6, &md->ipv6_port))
        return CHIVE_ERR_PROTO;
      md->has_ipv6 = 1;
    }
    return CHIVE_OK;
  case M_FAMILY:
    return handle_family(c, tok);
  case M_P: {
    chive_err_t e = policy_summary_parse(tok->args[0], tok->args[1],
                                         c->l->arena, &md->p);
    if (e)
      return e;
    md->has_p = 1;
    return CHIVE_OK;
  }
  case M_P6: {
    chive_err_t e = policy_summary_parse(tok->args[0], tok->args[1],
                                         c->l->arena, &md->p6);
    if (e)
      return e;
    md->has_p6 = 1;
    return CHIVE_OK;
  }
  case M_ID:
    /* "At most once per distinct keytype"; unknown types ignored. */
    if (dirtok_str_eq(tok->args[0], "ed25519")) {
      if (md->has_ed25519 ||
          dirtok_parse_base64(tok->args[1], md->ed25519_id, 32))
        return CHIVE_ERR_PROTO;
      md->has_ed25519 = 1;
    } else if (dirtok_str_eq(tok->args[0], "rsa1024")) {
      uint8_t tmp[20];
      if (c->seen_rsa_id || dirtok_parse_base64(tok->args[1], tmp, 20))
        return CHIVE_ERR_PROTO;
      c->seen_rsa_id = true;
    }
    return CHIVE_OK;
  case M_PR: {
    protover_set_t set;
    return protover_parse(tok->rest.p, tok->rest.len, &set);
  }
  default:
    return CHIVE_OK;
  }
}

/** Close the md being built; its text ends at offset <b>end</b>. */
static chive_err_t
finish_md(mdctx_t *c, size_t end)
{
  c->in_md = false;
  if (!c->bad && dirtok_section_end(&c->sec))
    c->bad = true;
  if (c->bad) {
    c->l->n_invalid++;
    return CHIVE_OK;
  }
  if (c->l->n >= c->cap)
    return CHIVE_ERR_INTERNAL;
  crypto_sha256(c->s + c->start, end - c->start, c->cur.digest);
  c->l->mds[c->l->n++] = c->cur;
  return CHIVE_OK;
}

static void
begin_md(mdctx_t *c, dirtok_reader_t *r, size_t start)
{
  c->in_md = true;
  c->bad = false;
  c->seen_ntor = false;
  c->seen_rsa_id = false;
  c->start = start;
  memset(&c->cur, 0, sizeof(c->cur));
  c->cur.last_listed = c->pending_last_listed;
  c->pending_last_listed = 0;
  dirtok_section_begin(&c->sec, &MD_TABLE);
  dirtok_reader_reset_objects(r);
}

static int
md_cmp(const void *a, const void *b)
{
  return memcmp(((const microdesc_t *)a)->digest,
                ((const microdesc_t *)b)->digest, 32);
}

/** Count lines that begin with "ntor-onion-key" + WS. */
static size_t
count_ntor_lines(const char *s, size_t len)
{
  static const char KW[] = "ntor-onion-key";
  size_t kl = sizeof(KW) - 1, n = 0, pos = 0;
  while (pos < len) {
    if (len - pos > kl && memcmp(s + pos, KW, kl) == 0 &&
        (s[pos + kl] == ' ' || s[pos + kl] == '\t'))
      n++;
    const char *nl = memchr(s + pos, '\n', len - pos);
    if (!nl)
      break;
    pos = (size_t)(nl - s) + 1;
  }
  return n;
}

static chive_err_t
parse_batch(mdctx_t *c, dirtok_reader_t *r)
{
  chive_err_t e;
  while (!dirtok_at_end(r)) {
    dirtok_t tok;
    e = dirtok_next(r, &tok);
    if (e)
      return e;
    if (tok.kw.p[0] == '@') {
      if (c->in_md && (e = finish_md(c, tok.start)))
        return e;
      int64_t t;
      if (dirtok_str_eq(tok.kw, "@last-listed") && tok.n_args >= 2 &&
          dirtok_parse_time(tok.args[0], tok.args[1], &t) == CHIVE_OK)
        c->pending_last_listed = t > (int64_t)UINT32_MAX ? UINT32_MAX
                                                         : (uint32_t)t;
      continue;
    }
    bool is_ntor = dirtok_str_eq(tok.kw, "ntor-onion-key");
    bool starts_new = dirtok_str_eq(tok.kw, "onion-key") ||
                      (is_ntor && c->seen_ntor);
    if (c->in_md && starts_new && (e = finish_md(c, tok.start)))
      return e;
    if (!c->in_md) {
      if (c->l->n + c->l->n_invalid >= MD_MAX_PER_BATCH)
        return CHIVE_ERR_LIMIT;
      begin_md(c, r, tok.start);
    }
    if (is_ntor)
      c->seen_ntor = true;
    if (c->bad)
      continue;
    int rule;
    if (dirtok_section_add(&c->sec, &tok, &rule)) {
      c->bad = true;
      continue;
    }
    e = handle_item(c, rule, &tok);
    if (e == CHIVE_ERR_NOMEM)
      return e;
    if (e)
      c->bad = true;
  }
  if (c->in_md && (e = finish_md(c, c->len)))
    return e;
  return CHIVE_OK;
}

/* see md_parse.h */
chive_err_t
md_list_parse(const char *s, size_t len, md_list_t **out)
{
  if (BUG(out == NULL))
    return CHIVE_ERR_INVAL;
  *out = NULL;
  dirtok_reader_t *r = NULL;
  chive_err_t e = dirtok_reader_new(s, len, &r);
  if (e)
    return e;
  dirtok_reader_allow_annotations(r, true);
  dirtok_reader_set_max_objects(r, 4);

  md_list_t *l = chive_zalloc(sizeof(*l));
  mdctx_t c;
  memset(&c, 0, sizeof(c));
  c.s = s;
  c.len = len;
  c.l = l;
  if (!l || !(l->arena = dirarena_new())) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  c.cap = count_ntor_lines(s, len);
  if (c.cap > MD_MAX_PER_BATCH) {
    e = CHIVE_ERR_LIMIT;
    goto done;
  }
  l->mds = dirarena_alloc(l->arena, (c.cap ? c.cap : 1) * sizeof(*l->mds));
  if (!l->mds) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  e = parse_batch(&c, r);
  if (e)
    goto done;
  if (l->n > 1) {
    qsort(l->mds, l->n, sizeof(*l->mds), md_cmp);
    /* Drop exact duplicates (same digest means same text). */
    size_t w = 1;
    for (size_t i = 1; i < l->n; i++) {
      if (memcmp(l->mds[i].digest, l->mds[w - 1].digest, 32) != 0)
        l->mds[w++] = l->mds[i];
    }
    l->n = w;
  }

done:
  dirtok_reader_free(r);
  if (e) {
    md_list_free(l);
    return e;
  }
  *out = l;
  return CHIVE_OK;
}

/* see md_parse.h */
void
md_list_free_(md_list_t *l)
{
  if (!l)
    return;
  dirarena_free(l->arena);
  chive_free(l);
}

/* see md_parse.h */
const microdesc_t *
md_list_find(const md_list_t *l, const uint8_t digest[32])
{
  size_t lo = 0, hi = l->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = memcmp(digest, l->mds[mid].digest, 32);
    if (cmp == 0)
      return &l->mds[mid];
    if (cmp < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* see md_parse.h */
const policy_summary_t *
microdesc_policy(const microdesc_t *md)
{
  return md->has_p ? &md->p : NULL;
}

/* see md_parse.h */
const policy_summary_t *
microdesc_policy6(const microdesc_t *md)
{
  return md->has_p6 ? &md->p6 : NULL;
}

/* see md_parse.h */
size_t
md_list_bytes(const md_list_t *l)
{
  return l ? sizeof(*l) + dirarena_bytes(l->arena) : 0;
}
