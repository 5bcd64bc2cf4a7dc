/**
 * @file ns_consensus.c
 * @brief Consensus parser, ns and microdesc flavors (dir-spec §3.4.1,
 * §3.9.2).  See ns_consensus.h.
 *
 * The document is read item by item with a state machine over its parts
 * (preamble, authority groups, router entries, footer); each part is
 * checked against its own rule table with a dirtok_section_t, and each
 * finished router entry is committed into a fixed-size array sized by a
 * pre-count of "r" lines.  Pure: no I/O, no logging.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/ns_consensus.h"

#include <stdlib.h>
#include <string.h>

#include "feature/dir/parse/dirtok.h"
#include "lib/crypto/digest.h"
#include "lib/err/err.h"

/* ---- rule tables -------------------------------------------------------*/

enum {
  H_NSV = 0, H_VOTE_STATUS, H_METHOD, H_VALID_AFTER, H_FRESH_UNTIL,
  H_VALID_UNTIL, H_VOTING_DELAY, H_CLIENT_VERSIONS, H_SERVER_VERSIONS,
  H_PACKAGE, H_KNOWN_FLAGS, H_REC_CLIENT, H_REC_RELAY, H_REQ_CLIENT,
  H_REQ_RELAY, H_PARAMS, H_SRV_PREV, H_SRV_CUR,
};
/* dir-spec §3.4.1 preamble (consensus only). */
static const dirtok_rule_t HEADER_RULES[] = {
  [H_NSV] = DIRTOK_T1_START("network-status-version", 1, DIRTOK_ANY,
                            DIRTOK_OBJ_FORBIDDEN),
  [H_VOTE_STATUS] = DIRTOK_T1("vote-status", 1, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_METHOD] = DIRTOK_T1("consensus-method", 1, 1, DIRTOK_OBJ_FORBIDDEN),
  [H_VALID_AFTER] = DIRTOK_T1("valid-after", 2, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_FRESH_UNTIL] = DIRTOK_T1("fresh-until", 2, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_VALID_UNTIL] = DIRTOK_T1("valid-until", 2, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_VOTING_DELAY] = DIRTOK_T1("voting-delay", 2, DIRTOK_ANY,
                               DIRTOK_OBJ_FORBIDDEN),
  [H_CLIENT_VERSIONS] = DIRTOK_T01("client-versions", 0, DIRTOK_ANY,
                                   DIRTOK_OBJ_FORBIDDEN),
  [H_SERVER_VERSIONS] = DIRTOK_T01("server-versions", 0, DIRTOK_ANY,
                                   DIRTOK_OBJ_FORBIDDEN),
  [H_PACKAGE] = DIRTOK_T0N("package", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [H_KNOWN_FLAGS] = DIRTOK_T1("known-flags", 0, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_REC_CLIENT] = DIRTOK_T01("recommended-client-protocols", 0, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_REC_RELAY] = DIRTOK_T01("recommended-relay-protocols", 0, DIRTOK_ANY,
                             DIRTOK_OBJ_FORBIDDEN),
  [H_REQ_CLIENT] = DIRTOK_T01("required-client-protocols", 0, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [H_REQ_RELAY] = DIRTOK_T01("required-relay-protocols", 0, DIRTOK_ANY,
                             DIRTOK_OBJ_FORBIDDEN),
  [H_PARAMS] = DIRTOK_T01("params", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [H_SRV_PREV] = DIRTOK_T01("shared-rand-previous-value", 2, DIRTOK_ANY,
                            DIRTOK_OBJ_FORBIDDEN),
  [H_SRV_CUR] = DIRTOK_T01("shared-rand-current-value", 2, DIRTOK_ANY,
                           DIRTOK_OBJ_FORBIDDEN),
};
static const dirtok_table_t HEADER_TABLE = {HEADER_RULES,
                                            CHIVE_ARRAY_LEN(HEADER_RULES)};

enum { A_DIR_SOURCE = 0, A_CONTACT, A_VOTE_DIGEST };
/* dir-spec §3.4.1 authority section of a consensus: one group per
 * authority.  contact/vote-digest are "exactly once" except in the
 * "-legacy" groups, which have neither; checked by hand. */
static const dirtok_rule_t AUTH_RULES[] = {
  [A_DIR_SOURCE] = DIRTOK_T1_START("dir-source", 6, DIRTOK_ANY,
                                   DIRTOK_OBJ_FORBIDDEN),
  [A_CONTACT] = DIRTOK_T01("contact", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [A_VOTE_DIGEST] = DIRTOK_T01("vote-digest", 1, DIRTOK_ANY,
                               DIRTOK_OBJ_FORBIDDEN),
};
static const dirtok_table_t AUTH_TABLE = {AUTH_RULES,
                                          CHIVE_ARRAY_LEN(AUTH_RULES)};

enum { R_R = 0, R_A, R_S, R_V, R_PR, R_W, R_P, R_M };
/* dir-spec §3.4.1 router status entries (ns flavor: "m" is vote-only, so
 * any number and ignored). */
static const dirtok_rule_t RS_NS_RULES[] = {
  [R_R] = DIRTOK_T1_START("r", 8, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_A] = DIRTOK_T0N("a", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_S] = DIRTOK_T1("s", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_V] = DIRTOK_T01("v", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_PR] = DIRTOK_T01("pr", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_W] = DIRTOK_T01("w", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_P] = DIRTOK_T01("p", 2, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_M] = DIRTOK_T0N("m", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
};
/* dir-spec §3.9.2: "r" without the descriptor digest; "m" exactly once. */
static const dirtok_rule_t RS_MD_RULES[] = {
  [R_R] = DIRTOK_T1_START("r", 7, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_A] = DIRTOK_T0N("a", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_S] = DIRTOK_T1("s", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_V] = DIRTOK_T01("v", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_PR] = DIRTOK_T01("pr", 0, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_W] = DIRTOK_T01("w", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_P] = DIRTOK_T01("p", 2, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [R_M] = DIRTOK_T1("m", 1, DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
};
static const dirtok_table_t RS_NS_TABLE = {RS_NS_RULES,
                                           CHIVE_ARRAY_LEN(RS_NS_RULES)};
static const dirtok_table_t RS_MD_TABLE = {RS_MD_RULES,
                                           CHIVE_ARRAY_LEN(RS_MD_RULES)};

enum { F_FOOTER = 0, F_BW_WEIGHTS, F_SIGNATURE };
/* dir-spec §3.4.1 footer (consensus method 9 and later). */
static const dirtok_rule_t FOOTER_RULES[] = {
  [F_FOOTER] = DIRTOK_T1_START("directory-footer", 0, 0,
                               DIRTOK_OBJ_FORBIDDEN),
  [F_BW_WEIGHTS] = DIRTOK_T01("bandwidth-weights", 0, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [F_SIGNATURE] = DIRTOK_T1N("directory-signature", 2, DIRTOK_ANY,
                             DIRTOK_OBJ_REQUIRED),
};
static const dirtok_table_t FOOTER_TABLE = {FOOTER_RULES,
                                            CHIVE_ARRAY_LEN(FOOTER_RULES)};

static const char *const FLAG_NAMES[NS_N_FLAGS] = {
  "Authority", "BadExit", "Exit",    "Fast",   "Guard",
  "HSDir",     "MiddleOnly", "NoEdConsensus", "Running", "Stable",
  "StaleDesc", "Sybil",   "V2Dir",   "Valid",
};

/* see ns_consensus.h */
const char *
ns_flag_name(unsigned bit)
{
  return bit < NS_N_FLAGS ? FLAG_NAMES[bit] : NULL;
}

/* ---- interning ---------------------------------------------------------*/

/** A transient string -> index map with a parallel value array. */
typedef struct interner_t {
  uint32_t *slots;     /**< index + 1, 0 = empty; cap entries. */
  size_t cap;          /**< Power of two. */
  dirtok_str_t *keys;  /**< Borrowed from the input. */
  uint8_t *vals;       /**< n * elem bytes. */
  size_t elem;
  size_t n, alloc;
} interner_t;

static void
interner_init(interner_t *in, size_t elem)
{
  memset(in, 0, sizeof(*in));
  in->elem = elem;
}

static void
interner_clear(interner_t *in)
{
  chive_free(in->slots);
  chive_free(in->keys);
  chive_free(in->vals);
  memset(in, 0, sizeof(*in));
}

static uint32_t
str_hash(dirtok_str_t s)
{
  uint32_t h = 2166136261u; /* FNV-1a */
  for (size_t i = 0; i < s.len; i++) {
    h ^= (uint8_t)s.p[i];
    h *= 16777619u;
  }
  return h;
}

static chive_err_t
interner_grow(interner_t *in)
{
  size_t ncap = in->cap ? in->cap * 2 : 64;
  uint32_t *ns = chive_calloc(ncap, sizeof(*ns));
  if (!ns)
    return CHIVE_ERR_NOMEM;
  for (size_t i = 0; i < in->n; i++) {
    size_t h = str_hash(in->keys[i]) & (ncap - 1);
    while (ns[h])
      h = (h + 1) & (ncap - 1);
    ns[h] = (uint32_t)i + 1;
  }
  chive_free(in->slots);
  in->slots = ns;
  in->cap = ncap;
  return CHIVE_OK;
}

/** Find <b>key</b>, or add it; set *<b>idx</b>, *<b>is_new</b>.  A new
 * entry's value bytes are zeroed for the caller to fill. */
static chive_err_t
interner_get(interner_t *in, dirtok_str_t key, size_t *idx, bool *is_new)
{
  if (in->cap == 0 || (in->n + 1) * 2 > in->cap) {
    chive_err_t e = interner_grow(in);
    if (e)
      return e;
  }
  size_t h = str_hash(key) & (in->cap - 1);
  while (in->slots[h]) {
    size_t i = in->slots[h] - 1;
    if (in->keys[i].len == key.len && memcmp(in->keys[i].p, key.p, key.len) == 0) {
      *idx = i;
      *is_new = false;
      return CHIVE_OK;
    }
    h = (h + 1) & (in->cap - 1);
  }
  if (in->n >= NS_MAX_INTERNED)
    return CHIVE_ERR_LIMIT;
  if (in->n == in->alloc) {
    size_t na = in->alloc ? in->alloc * 2 : 32;
    dirtok_str_t *nk = chive_realloc(in->keys, na * sizeof(*nk));
    if (!nk)
      return CHIVE_ERR_NOMEM;
    in->keys = nk;
    uint8_t *nv = chive_realloc(in->vals, na * in->elem);
    if (!nv)
      return CHIVE_ERR_NOMEM;
    in->vals = nv;
    in->alloc = na;
  }
  in->keys[in->n] = key;
  memset(in->vals + in->n * in->elem, 0, in->elem);
  in->slots[h] = (uint32_t)in->n + 1;
  *idx = in->n++;
  *is_new = true;
  return CHIVE_OK;
}

/* ---- parse context -----------------------------------------------------*/

typedef enum { ST_HEADER, ST_AUTH, ST_ROUTER, ST_FOOTER } pstate_t;

typedef struct pctx_t {
  const char *s;
  size_t len;
  ns_consensus_t *c;
  dirarena_t *arena;
  dirtok_str_t kf[NS_MAX_KNOWN_FLAGS]; /**< known-flags entries. */
  uint32_t kf_bits[NS_MAX_KNOWN_FLAGS];
  size_t n_kf;
  interner_t iv, ipr, ipol;
  size_t cap_routers, cap_dirsources, cap_sigs;
  ns_routerstatus_t cur;       /**< Router entry being built. */
  ns_dirsource_t cur_ds;       /**< Authority group being built. */
  bool seen_sig;
} pctx_t;

/** Count lines starting with <b>kw</b> followed by SP or TAB. */
static size_t
count_lines(const char *s, size_t len, const char *kw)
{
  size_t n = 0, kl = strlen(kw), pos = 0;
  while (pos < len) {
    if (len - pos > kl && memcmp(s + pos, kw, kl) == 0 &&
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
parse_time_args(const dirtok_t *tok, int64_t *out)
{
  return dirtok_parse_time(tok->args[0], tok->args[1], out);
}

static chive_err_t
parse_u32(dirtok_str_t s, uint32_t min, uint32_t max, uint32_t *out)
{
  uint64_t v;
  if (dirtok_parse_u64(s, min, max, &v))
    return CHIVE_ERR_PROTO;
  *out = (uint32_t)v;
  return CHIVE_OK;
}

static chive_err_t
parse_protos(const dirtok_t *tok, protover_set_t *out, bool *has)
{
  chive_err_t e = protover_parse(tok->rest.p, tok->rest.len, out);
  if (e)
    return e;
  *has = true;
  return CHIVE_OK;
}

static chive_err_t
parse_srv(const dirtok_t *tok, ns_srv_t *out)
{
  if (parse_u32(tok->args[0], 0, UINT32_MAX, &out->n_reveals))
    return CHIVE_ERR_PROTO;
  /* "It will be exactly 256 bits long." */
  if (dirtok_parse_base64(tok->args[1], out->value, 32))
    return CHIVE_ERR_PROTO;
  out->present = true;
  return CHIVE_OK;
}

static chive_err_t
handle_header(pctx_t *p, int rule, const dirtok_t *tok)
{
  ns_consensus_t *c = p->c;
  switch (rule) {
  case H_NSV:
    if (!dirtok_str_eq(tok->args[0], "3"))
      return CHIVE_ERR_PROTO;
    if (tok->n_args == 1)
      c->flavor = NS_FLAVOR_NS;
    else if (dirtok_str_eq(tok->args[1], "microdesc"))
      c->flavor = NS_FLAVOR_MICRODESC;
    else if (dirtok_str_eq(tok->args[1], "ns"))
      c->flavor = NS_FLAVOR_NS;
    else
      return CHIVE_ERR_PROTO; /* a flavor we cannot read */
    return CHIVE_OK;
  case H_VOTE_STATUS:
    return dirtok_str_eq(tok->args[0], "consensus") ? CHIVE_OK
                                                    : CHIVE_ERR_PROTO;
  case H_METHOD:
    return parse_u32(tok->args[0], 1, UINT32_MAX, &c->consensus_method);
  case H_VALID_AFTER:
    return parse_time_args(tok, &c->valid_after);
  case H_FRESH_UNTIL:
    return parse_time_args(tok, &c->fresh_until);
  case H_VALID_UNTIL:
    return parse_time_args(tok, &c->valid_until);
  case H_VOTING_DELAY:
    if (parse_u32(tok->args[0], 0, UINT32_MAX, &c->vote_seconds) ||
        parse_u32(tok->args[1], 0, UINT32_MAX, &c->dist_seconds))
      return CHIVE_ERR_PROTO;
    return CHIVE_OK;
  case H_CLIENT_VERSIONS:
    c->client_versions = dirarena_strndup(p->arena, tok->rest.p,
                                          tok->rest.len);
    return c->client_versions ? CHIVE_OK : CHIVE_ERR_NOMEM;
  case H_SERVER_VERSIONS:
    c->server_versions = dirarena_strndup(p->arena, tok->rest.p,
                                          tok->rest.len);
    return c->server_versions ? CHIVE_OK : CHIVE_ERR_NOMEM;
  case H_KNOWN_FLAGS:
    if (tok->n_args > NS_MAX_KNOWN_FLAGS)
      return CHIVE_ERR_LIMIT;
    for (size_t i = 0; i < tok->n_args; i++) {
      p->kf[i] = tok->args[i];
      p->kf_bits[i] = 0;
      for (unsigned b = 0; b < NS_N_FLAGS; b++) {
        if (dirtok_str_eq(tok->args[i], FLAG_NAMES[b]))
          p->kf_bits[i] = 1u << b;
      }
      c->known_flags |= p->kf_bits[i];
    }
    p->n_kf = tok->n_args;
    c->n_known_flags = tok->n_args;
    return CHIVE_OK;
  case H_REC_CLIENT:
    return parse_protos(tok, &c->rec_client_protos,
                        &c->has_rec_client_protos);
  case H_REC_RELAY:
    return parse_protos(tok, &c->rec_relay_protos, &c->has_rec_relay_protos);
  case H_REQ_CLIENT:
    return parse_protos(tok, &c->req_client_protos,
                        &c->has_req_client_protos);
  case H_REQ_RELAY:
    return parse_protos(tok, &c->req_relay_protos, &c->has_req_relay_protos);
  case H_PARAMS:
    return ns_params_parse(tok, p->arena, &c->params);
  case H_SRV_PREV:
    return parse_srv(tok, &c->srv_previous);
  case H_SRV_CUR:
    return parse_srv(tok, &c->srv_current);
  default:
    return CHIVE_OK; /* package, unknown: ignored */
  }
}

static chive_err_t
finish_header(pctx_t *p)
{
  ns_consensus_t *c = p->c;
  /* dir-spec §1.4: valid-after < fresh-until <= valid-until. */
  if (c->valid_after >= c->fresh_until || c->fresh_until > c->valid_until)
    return CHIVE_ERR_PROTO;
  return CHIVE_OK;
}

static bool
nickname_ok(dirtok_str_t n)
{
  if (n.len == 0 || n.len > NS_MAX_NICKNAME_LEN)
    return false;
  for (size_t i = 0; i < n.len; i++) {
    char ch = n.p[i];
    if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
          (ch >= '0' && ch <= '9')))
      return false;
  }
  return true;
}

static chive_err_t
parse_port(dirtok_str_t s, bool allow_zero, uint16_t *out)
{
  uint64_t v;
  if (dirtok_parse_u64(s, allow_zero ? 0 : 1, 65535, &v))
    return CHIVE_ERR_PROTO;
  *out = (uint16_t)v;
  return CHIVE_OK;
}

static chive_err_t
handle_auth(pctx_t *p, int rule, const dirtok_t *tok)
{
  ns_dirsource_t *ds = &p->cur_ds;
  switch (rule) {
  case A_DIR_SOURCE: {
    /* nickname identity address IP dirport orport */
    dirtok_str_t nick = tok->args[0];
    if (nick.len == 0 || nick.len > 64)
      return CHIVE_ERR_PROTO;
    ds->is_legacy = nick.len > 7 &&
                    memcmp(nick.p + nick.len - 7, "-legacy", 7) == 0;
    if (dirtok_parse_hex(tok->args[1], ds->identity, 20) ||
        dirtok_parse_ipv4(tok->args[3], &ds->ipv4) ||
        parse_port(tok->args[4], true, &ds->dir_port) ||
        parse_port(tok->args[5], true, &ds->or_port))
      return CHIVE_ERR_PROTO;
    if (tok->args[2].len > 255)
      return CHIVE_ERR_PROTO;
    ds->nickname = dirarena_strndup(p->arena, nick.p, nick.len);
    ds->address = dirarena_strndup(p->arena, tok->args[2].p,
                                   tok->args[2].len);
    if (!ds->nickname || !ds->address)
      return CHIVE_ERR_NOMEM;
    return CHIVE_OK;
  }
  case A_CONTACT:
    ds->contact = dirarena_strndup(p->arena, tok->rest.p, tok->rest.len);
    return ds->contact ? CHIVE_OK : CHIVE_ERR_NOMEM;
  case A_VOTE_DIGEST:
    if (dirtok_parse_hex(tok->args[0], ds->vote_digest, 20))
      return CHIVE_ERR_PROTO;
    ds->has_vote_digest = true;
    return CHIVE_OK;
  default:
    return CHIVE_OK;
  }
}

static chive_err_t
finish_auth(pctx_t *p)
{
  ns_dirsource_t *ds = &p->cur_ds;
  if (!ds->is_legacy && (!ds->contact || !ds->has_vote_digest))
    return CHIVE_ERR_PROTO;
  if (p->c->n_dirsources >= p->cap_dirsources)
    return CHIVE_ERR_INTERNAL;
  p->c->dirsources[p->c->n_dirsources++] = *ds;
  memset(ds, 0, sizeof(*ds));
  return CHIVE_OK;
}

static chive_err_t
handle_w(ns_routerstatus_t *rs, const dirtok_t *tok)
{
  for (size_t i = 0; i < tok->n_args; i++) {
    dirtok_str_t a = tok->args[i];
    if (a.len > 10 && memcmp(a.p, "Bandwidth=", 10) == 0) {
      dirtok_str_t v = {a.p + 10, a.len - 10};
      if (parse_u32(v, 0, UINT32_MAX, &rs->bandwidth))
        return CHIVE_ERR_PROTO;
      rs->has_bandwidth = 1;
    } else if (dirtok_str_eq(a, "Unmeasured=1")) {
      rs->bw_unmeasured = 1;
    }
    /* "Clients MUST ignore keywords they do not recognize." */
  }
  return CHIVE_OK;
}

static chive_err_t
handle_rs(pctx_t *p, int rule, const dirtok_t *tok)
{
  ns_routerstatus_t *rs = &p->cur;
  ns_consensus_t *c = p->c;
  switch (rule) {
  case R_R: {
    /* "r" nickname identity [digest] date time IP ORPort DirPort */
    size_t k = c->flavor == NS_FLAVOR_NS ? 3 : 2;
    int64_t pub;
    if (!nickname_ok(tok->args[0]))
      return CHIVE_ERR_PROTO;
    memcpy(rs->nickname, tok->args[0].p, tok->args[0].len);
    if (dirtok_parse_base64(tok->args[1], rs->identity, 20))
      return CHIVE_ERR_PROTO;
    if (c->flavor == NS_FLAVOR_NS &&
        dirtok_parse_base64(tok->args[2], rs->digest, 20))
      return CHIVE_ERR_PROTO;
    if (dirtok_parse_time(tok->args[k], tok->args[k + 1], &pub) ||
        dirtok_parse_ipv4(tok->args[k + 2], &rs->ipv4) ||
        parse_port(tok->args[k + 3], false, &rs->or_port) ||
        parse_port(tok->args[k + 4], true, &rs->dir_port))
      return CHIVE_ERR_PROTO;
    rs->published = pub > (int64_t)UINT32_MAX ? UINT32_MAX : (uint32_t)pub;
    return CHIVE_OK;
  }
  case R_A:
    if (rs->has_ipv6)
      return CHIVE_OK; /* "Any other ... addresses should be ignored." */
    if (tok->args[0].len && tok->args[0].p[0] == '[') {
      if (dirtok_parse_ipv6_port(tok->args[0], rs->ipv6, &rs->ipv6_port))
        return CHIVE_ERR_PROTO;
      rs->has_ipv6 = 1;
    }
    return CHIVE_OK;
  case R_S:
    for (size_t i = 0; i < tok->n_args; i++) {
      size_t j;
      for (j = 0; j < p->n_kf; j++) {
        if (p->kf[j].len == tok->args[i].len &&
            memcmp(p->kf[j].p, tok->args[i].p, p->kf[j].len) == 0)
          break;
      }
      if (j == p->n_kf)
        return CHIVE_ERR_PROTO; /* a flag not in known-flags */
      rs->flags |= p->kf_bits[j];
    }
    return CHIVE_OK;
  case R_V: {
    size_t idx;
    bool is_new;
    chive_err_t e = interner_get(&p->iv, tok->rest, &idx, &is_new);
    if (e)
      return e;
    if (is_new) {
      char *v = dirarena_strndup(p->arena, tok->rest.p, tok->rest.len);
      if (!v)
        return CHIVE_ERR_NOMEM;
      memcpy(p->iv.vals + idx * p->iv.elem, &v, sizeof(v));
    }
    rs->version_idx = (uint16_t)idx;
    return CHIVE_OK;
  }
  case R_PR: {
    size_t idx;
    bool is_new;
    chive_err_t e = interner_get(&p->ipr, tok->rest, &idx, &is_new);
    if (e)
      return e;
    if (is_new) {
      protover_set_t set;
      e = protover_parse(tok->rest.p, tok->rest.len, &set);
      if (e)
        return e;
      memcpy(p->ipr.vals + idx * p->ipr.elem, &set, sizeof(set));
    }
    rs->proto_idx = (uint16_t)idx;
    return CHIVE_OK;
  }
  case R_W:
    return handle_w(rs, tok);
  case R_P: {
    size_t idx;
    bool is_new;
    chive_err_t e = interner_get(&p->ipol, tok->rest, &idx, &is_new);
    if (e)
      return e;
    if (is_new) {
      policy_summary_t ps;
      e = policy_summary_parse(tok->args[0], tok->args[1], p->arena, &ps);
      if (e)
        return e;
      memcpy(p->ipol.vals + idx * p->ipol.elem, &ps, sizeof(ps));
    }
    rs->policy_idx = (uint16_t)idx;
    return CHIVE_OK;
  }
  case R_M:
    if (c->flavor == NS_FLAVOR_MICRODESC &&
        dirtok_parse_base64(tok->args[0], rs->digest, 32))
      return CHIVE_ERR_PROTO;
    return CHIVE_OK;
  default:
    return CHIVE_OK;
  }
}

static void
rs_begin(pctx_t *p)
{
  memset(&p->cur, 0, sizeof(p->cur));
  p->cur.version_idx = NS_IDX_NONE;
  p->cur.proto_idx = NS_IDX_NONE;
  p->cur.policy_idx = NS_IDX_NONE;
}

static chive_err_t
finish_rs(pctx_t *p)
{
  ns_consensus_t *c = p->c;
  if (c->n_routers >= p->cap_routers)
    return CHIVE_ERR_INTERNAL;
  /* "Router status entries are sorted in ascending order by identity
   * digest"; a duplicate or out-of-order entry is rejected. */
  if (c->n_routers &&
      memcmp(c->routers[c->n_routers - 1].identity, p->cur.identity, 20) >= 0)
    return CHIVE_ERR_PROTO;
  c->routers[c->n_routers++] = p->cur;
  return CHIVE_OK;
}

static chive_err_t
handle_footer(pctx_t *p, int rule, const dirtok_t *tok)
{
  ns_consensus_t *c = p->c;
  if (p->seen_sig && rule != F_SIGNATURE)
    return CHIVE_ERR_PROTO; /* only signatures after the first one */
  switch (rule) {
  case F_BW_WEIGHTS: {
    chive_err_t e = ns_params_parse(tok, p->arena, &c->bw_params);
    if (e)
      return e;
    ns_bw_weights_from_params(&c->bw_params, &c->bw_weights);
    c->has_bw_weights = true;
    return CHIVE_OK;
  }
  case F_SIGNATURE: {
    if (!p->seen_sig) {
      /* dir-spec §3.4.1: "we take the hash through the _space_ after
       * directory-signature, not the newline". */
      static const char KW[] = "directory-signature ";
      size_t kl = sizeof(KW) - 1;
      if (p->len - tok->start < kl || memcmp(p->s + tok->start, KW, kl) != 0)
        return CHIVE_ERR_PROTO;
      c->signed_len = tok->start + kl;
      p->seen_sig = true;
    }
    if (c->n_signatures >= p->cap_sigs)
      return CHIVE_ERR_LIMIT;
    ns_signature_t *sig = &c->signatures[c->n_signatures];
    size_t k = 0;
    sig->alg = NS_SIG_SHA1; /* "sha1" is the default */
    if (tok->n_args >= 3) {
      if (dirtok_str_eq(tok->args[0], "sha1"))
        sig->alg = NS_SIG_SHA1;
      else if (dirtok_str_eq(tok->args[0], "sha256"))
        sig->alg = NS_SIG_SHA256;
      else
        sig->alg = NS_SIG_UNKNOWN;
      k = 1;
    }
    if (dirtok_parse_hex(tok->args[k], sig->identity, 20) ||
        dirtok_parse_hex(tok->args[k + 1], sig->signing_key_digest, 20))
      return CHIVE_ERR_PROTO;
    if (!dirtok_str_eq(tok->obj_type, "SIGNATURE") || tok->obj_len == 0)
      return CHIVE_ERR_PROTO;
    sig->sig = dirarena_memdup(p->arena, tok->obj, tok->obj_len);
    if (!sig->sig)
      return CHIVE_ERR_NOMEM;
    sig->sig_len = tok->obj_len;
    c->n_signatures++;
    return CHIVE_OK;
  }
  default:
    return CHIVE_OK;
  }
}

/** Copy an interner's values into exact-size arena storage. */
static chive_err_t
commit_interned(pctx_t *p, interner_t *in, void **out, size_t *n_out)
{
  *n_out = in->n;
  *out = NULL;
  if (in->n == 0)
    return CHIVE_OK;
  *out = dirarena_memdup(p->arena, in->vals, in->n * in->elem);
  return *out ? CHIVE_OK : CHIVE_ERR_NOMEM;
}

/** Parse the whole document into p->c. */
static chive_err_t
parse_doc(pctx_t *p, dirtok_reader_t *r)
{
  ns_consensus_t *c = p->c;
  dirtok_section_t sec;
  pstate_t st = ST_HEADER;
  chive_err_t e;
  bool first = true;
  dirtok_section_begin(&sec, &HEADER_TABLE);

  while (!dirtok_at_end(r)) {
    dirtok_t tok;
    e = dirtok_next(r, &tok);
    if (e)
      return e;
    if (first && tok.start != 0)
      return CHIVE_ERR_PROTO; /* the initial item starts the document */
    first = false;
    bool is_dirsrc = dirtok_str_eq(tok.kw, "dir-source");
    bool is_r = dirtok_str_eq(tok.kw, "r");
    bool is_footer = dirtok_str_eq(tok.kw, "directory-footer");
    /* Signatures only in the footer, which needs its "directory-footer"
     * (consensus method 9 and later). */
    if (st != ST_FOOTER && dirtok_str_eq(tok.kw, "directory-signature"))
      return CHIVE_ERR_PROTO;

    /* Part transitions. */
    switch (st) {
    case ST_HEADER:
      if (is_r || is_footer)
        return CHIVE_ERR_PROTO; /* no authority section */
      if (is_dirsrc) {
        if ((e = dirtok_section_end(&sec)) || (e = finish_header(p)))
          return e;
        st = ST_AUTH;
        dirtok_section_begin(&sec, &AUTH_TABLE);
      }
      break;
    case ST_AUTH:
      if (is_dirsrc || is_r || is_footer) {
        if ((e = dirtok_section_end(&sec)) || (e = finish_auth(p)))
          return e;
        if (is_r) {
          st = ST_ROUTER;
          rs_begin(p);
          dirtok_section_begin(&sec, c->flavor == NS_FLAVOR_NS
                                         ? &RS_NS_TABLE
                                         : &RS_MD_TABLE);
        } else if (is_footer) {
          st = ST_FOOTER;
          dirtok_section_begin(&sec, &FOOTER_TABLE);
        } else {
          dirtok_section_begin(&sec, &AUTH_TABLE);
        }
      }
      break;
    case ST_ROUTER:
      if (is_r || is_footer) {
        if ((e = dirtok_section_end(&sec)) || (e = finish_rs(p)))
          return e;
        if (is_r) {
          rs_begin(p);
          dirtok_section_begin(&sec, c->flavor == NS_FLAVOR_NS
                                         ? &RS_NS_TABLE
                                         : &RS_MD_TABLE);
        } else {
          st = ST_FOOTER;
          dirtok_section_begin(&sec, &FOOTER_TABLE);
        }
      }
      break;
    case ST_FOOTER:
      break;
    }

    int rule;
    e = dirtok_section_add(&sec, &tok, &rule);
    if (e)
      return e;
    switch (st) {
    case ST_HEADER:
      e = handle_header(p, rule, &tok);
      break;
    case ST_AUTH:
      e = handle_auth(p, rule, &tok);
      break;
    case ST_ROUTER:
      e = handle_rs(p, rule, &tok);
      break;
    case ST_FOOTER:
      e = handle_footer(p, rule, &tok);
      break;
    }
    if (e)
      return e;
  }
  if (st != ST_FOOTER)
    return CHIVE_ERR_TRUNCATED;
  e = dirtok_section_end(&sec);
  if (e)
    return e;

  void *vp;
  if ((e = commit_interned(p, &p->iv, &vp, &c->n_versions)))
    return e;
  c->versions = vp;
  if ((e = commit_interned(p, &p->ipr, &vp, &c->n_protos)))
    return e;
  c->protos = vp;
  if ((e = commit_interned(p, &p->ipol, &vp, &c->n_policies)))
    return e;
  c->policies = vp;

  crypto_sha1(p->s, c->signed_len, c->digest_sha1);
  crypto_sha256(p->s, c->signed_len, c->digest_sha256);
  return CHIVE_OK;
}

/* see ns_consensus.h */
chive_err_t
ns_consensus_parse(const char *s, size_t len, ns_consensus_t **out)
{
  if (BUG(out == NULL))
    return CHIVE_ERR_INVAL;
  *out = NULL;
  dirtok_reader_t *r = NULL;
  chive_err_t e = dirtok_reader_new(s, len, &r);
  if (e)
    return e;
  pctx_t p;
  memset(&p, 0, sizeof(p));
  p.s = s;
  p.len = len;
  interner_init(&p.iv, sizeof(char *));
  interner_init(&p.ipr, sizeof(protover_set_t));
  interner_init(&p.ipol, sizeof(policy_summary_t));

  ns_consensus_t *c = chive_zalloc(sizeof(*c));
  dirarena_t *arena = dirarena_new();
  if (!c || !arena) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  c->arena = arena;
  p.c = c;
  p.arena = arena;

  p.cap_routers = count_lines(s, len, "r");
  p.cap_dirsources = count_lines(s, len, "dir-source");
  p.cap_sigs = count_lines(s, len, "directory-signature");
  if (p.cap_routers > NS_MAX_ROUTERS ||
      p.cap_dirsources > NS_MAX_DIRSOURCES ||
      p.cap_sigs > NS_MAX_SIGNATURES) {
    e = CHIVE_ERR_LIMIT;
    goto done;
  }
  /* Objects: one per signature; unknown items may carry a few more. */
  dirtok_reader_set_max_objects(r, NS_MAX_SIGNATURES + 16);
  c->routers = dirarena_alloc(arena, (p.cap_routers ? p.cap_routers : 1) *
                                         sizeof(*c->routers));
  c->dirsources = dirarena_alloc(
      arena, (p.cap_dirsources ? p.cap_dirsources : 1) *
                 sizeof(*c->dirsources));
  c->signatures = dirarena_alloc(
      arena, (p.cap_sigs ? p.cap_sigs : 1) * sizeof(*c->signatures));
  if (!c->routers || !c->dirsources || !c->signatures) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  e = parse_doc(&p, r);

done:
  interner_clear(&p.iv);
  interner_clear(&p.ipr);
  interner_clear(&p.ipol);
  dirtok_reader_free(r);
  if (e) {
    if (c)
      c->arena = NULL;
    dirarena_free(arena);
    chive_free(c);
    return e;
  }
  *out = c;
  return CHIVE_OK;
}

/* see ns_consensus.h */
void
ns_consensus_free_(ns_consensus_t *c)
{
  if (!c)
    return;
  dirarena_free(c->arena);
  chive_free(c);
}

/* see ns_consensus.h */
const ns_routerstatus_t *
ns_consensus_find_router(const ns_consensus_t *c, const uint8_t identity[20])
{
  size_t lo = 0, hi = c->n_routers;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int cmp = memcmp(identity, c->routers[mid].identity, 20);
    if (cmp == 0)
      return &c->routers[mid];
    if (cmp < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  return NULL;
}

/* see ns_consensus.h */
const protover_set_t *
ns_routerstatus_protos(const ns_consensus_t *c, const ns_routerstatus_t *rs)
{
  if (rs->proto_idx == NS_IDX_NONE || rs->proto_idx >= c->n_protos)
    return NULL;
  return &c->protos[rs->proto_idx];
}

/* see ns_consensus.h */
const char *
ns_routerstatus_version(const ns_consensus_t *c, const ns_routerstatus_t *rs)
{
  if (rs->version_idx == NS_IDX_NONE || rs->version_idx >= c->n_versions)
    return NULL;
  return c->versions[rs->version_idx];
}

/* see ns_consensus.h */
const policy_summary_t *
ns_routerstatus_policy(const ns_consensus_t *c, const ns_routerstatus_t *rs)
{
  if (rs->policy_idx == NS_IDX_NONE || rs->policy_idx >= c->n_policies)
    return NULL;
  return &c->policies[rs->policy_idx];
}

/* see ns_consensus.h */
size_t
ns_consensus_bytes(const ns_consensus_t *c)
{
  return c ? sizeof(*c) + dirarena_bytes(c->arena) : 0;
}
