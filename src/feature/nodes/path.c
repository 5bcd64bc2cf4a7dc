/**
 * @file path.c
 * @brief Path selection: weighted choice under path-spec §2.2
 * constraints.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "feature/nodes/path.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Cumulative sums stay below this, so they never overflow. */
#define PATH_WEIGHT_TOTAL_LIMIT (UINT64_C(1) << 63)

/** Weight classes (path-spec §2.2): Guard only, neither, Exit only,
 * both ("D"). */
enum { CLS_G = 0, CLS_M = 1, CLS_E = 2, CLS_D = 3 };

void
path_constraints_init(path_constraints_t *c)
{
  memset(c, 0, sizeof(*c));
  c->need_flags = NS_FLAG_FAST;
  c->enforce_distinct_subnets = true;
}

void
path_request_init(path_request_t *r)
{
  memset(r, 0, sizeof(*r));
  r->purpose = PATH_PURPOSE_EXIT;
  r->hops = PATH_DEFAULT_HOPS;
  r->enforce_distinct_subnets = true;
}

bool
path_port_is_long_lived(uint16_t port)
{
  /* path-spec §2.2, the default LongLivedPorts. */
  static const uint16_t LONG_LIVED[] = {21,   22,   706,  1863, 5050, 5190,
                                        5222, 5223, 6667, 6697, 8300};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(LONG_LIVED); i++) {
    if (LONG_LIVED[i] == port)
      return true;
  }
  return false;
}

/** The weight class of <b>n</b>: tor counts a BadExit as a non-exit. */
static unsigned
node_class(const node_t *n)
{
  bool g = (n->flags & NS_FLAG_GUARD) != 0;
  bool e = (n->flags & NS_FLAG_EXIT) && !(n->flags & NS_FLAG_BADEXIT);
  if (g && e)
    return CLS_D;
  if (g)
    return CLS_G;
  if (e)
    return CLS_E;
  return CLS_M;
}

/** One consensus weight, or <b>def</b> if missing or negative (path-spec
 * §2.2: "malformed or not present"). */
static uint32_t
bw_weight(const ns_consensus_t *c, bw_weight_id_t id, uint32_t def)
{
  if (!c->has_bw_weights || !(c->bw_weights.present & (1u << id)))
    return def;
  int32_t v = c->bw_weights.w[id];
  return v < 0 ? def : (uint32_t)v;
}

/** Fill <b>row</b>[class] with the W factors for <b>pos</b>. */
static void
weight_row(const ns_consensus_t *c, path_position_t pos, uint32_t row[4])
{
  uint32_t one =
      (uint32_t)ns_params_get_known(&c->params, NS_PARAM_BWWEIGHTSCALE);
  switch (pos) {
  case PATH_POS_GUARD:
    row[CLS_G] = bw_weight(c, BW_WGG, one);
    row[CLS_M] = bw_weight(c, BW_WGM, one);
    row[CLS_E] = 0; /* An Exit-only relay is never a guard. */
    row[CLS_D] = bw_weight(c, BW_WGD, one);
    break;
  case PATH_POS_MIDDLE:
    row[CLS_G] = bw_weight(c, BW_WMG, one);
    row[CLS_M] = bw_weight(c, BW_WMM, one);
    row[CLS_E] = bw_weight(c, BW_WME, one);
    row[CLS_D] = bw_weight(c, BW_WMD, one);
    break;
  case PATH_POS_EXIT:
  default:
    row[CLS_G] = bw_weight(c, BW_WEG, one);
    row[CLS_M] = bw_weight(c, BW_WEM, one);
    row[CLS_E] = bw_weight(c, BW_WEE, one);
    row[CLS_D] = bw_weight(c, BW_WED, one);
    break;
  }
}

uint32_t
path_weight_factor(const nodelist_t *nl, const node_t *n, path_position_t pos)
{
  uint32_t row[4];
  if (!nl || !n)
    return 0;
  weight_row(nodelist_consensus(nl), pos, row);
  return row[node_class(n)];
}

uint64_t
path_node_weight(const nodelist_t *nl, const node_t *n, path_position_t pos)
{
  /* Both factors < 2^32 and W < 2^31: the product is < 2^63. */
  return (uint64_t)n->bandwidth * path_weight_factor(nl, n, pos);
}

/** Position rules plus the per-node parts of <b>c</b> (flags, ports),
 * without the in-path and exclusion checks. */
static bool
node_ok_base(const node_t *n, path_position_t pos, const path_constraints_t *c)
{
  uint32_t need = c->need_flags, avoid = c->avoid_flags;
  unsigned need_nf = c->need_nflags | NODE_F_USABLE;
  switch (pos) {
  case PATH_POS_GUARD:
    need |= NS_FLAG_GUARD;
    avoid |= NS_FLAG_MIDDLEONLY;
    break;
  case PATH_POS_EXIT:
    /* path-spec §2.2.1: never a BadExit; §1.1: never "reject *:*". */
    avoid |= NS_FLAG_BADEXIT | NS_FLAG_MIDDLEONLY;
    need_nf |= NODE_F_EXIT_ANY;
    break;
  case PATH_POS_MIDDLE:
  default:
    break;
  }
  if ((n->flags & need) != need || (n->flags & avoid) != 0)
    return false;
  if (((unsigned)n->nflags & need_nf) != need_nf)
    return false;
  if (pos == PATH_POS_EXIT && c->n_ports > 0) {
    const policy_summary_t *p = microdesc_policy(n->md);
    if (c->ports_any) {
      bool any = false;
      for (size_t i = 0; i < c->n_ports && !any; i++)
        any = policy_summary_allows_port(p, c->ports[i]);
      if (!any)
        return false;
    } else {
      for (size_t i = 0; i < c->n_ports; i++) {
        if (!policy_summary_allows_port(p, c->ports[i]))
          return false;
      }
    }
  }
  return true;
}

/** Subnet rule only (path-spec §2.2). */
static bool
subnet_conflict(const node_t *n, const path_constraints_t *c)
{
  if (!c->enforce_distinct_subnets)
    return false;
  for (size_t i = 0; i < c->n_in_path; i++) {
    if (c->in_path[i] && nodes_in_same_subnet16(n, c->in_path[i]))
      return true;
  }
  return false;
}

bool
path_node_ok(const nodelist_t *nl, const node_t *n, path_position_t pos,
             const path_constraints_t *c)
{
  if (!nl || !n || !c || !node_ok_base(n, pos, c))
    return false;
  for (size_t i = 0; i < c->n_exclude; i++) {
    if (c->exclude[i] == n)
      return false;
  }
  for (size_t i = 0; i < c->n_in_path; i++) {
    const node_t *p = c->in_path[i];
    if (!p)
      continue;
    if (p == n || nodes_in_same_family(n, p))
      return false;
  }
  return !subnet_conflict(n, c);
}

static uint64_t
rng_below(const path_rng_t *rng, uint64_t n)
{
  if (rng && rng->below) {
    uint64_t r = rng->below(rng->arg, n);
    /* A test RNG out of range is a bug in the test; stay in range. */
    return r < n ? r : r % n;
  }
  return crypto_rand_u64_below(n);
}

/** Scratch for one choice: candidate indexes, cumulative weights and a
 * bitmap of nodes ruled out by identity or family. */
typedef struct choose_scratch_t {
  uint32_t *idx;
  uint64_t *cum;
  uint8_t *banned;
} choose_scratch_t;

typedef struct ban_ctx_t {
  uint8_t *banned;
} ban_ctx_t;

static void
ban_node(void *arg, const node_t *m)
{
  ban_ctx_t *b = arg;
  b->banned[m->idx >> 3] =
      (uint8_t)(b->banned[m->idx >> 3] | (1u << (m->idx & 7)));
}

static bool
is_banned(const uint8_t *banned, const node_t *n)
{
  return (banned[n->idx >> 3] >> (n->idx & 7)) & 1u;
}

/** Check the pointers and counts of <b>c</b>. */
static bool
constraints_valid(const nodelist_t *nl, const path_constraints_t *c)
{
  if (c->n_ports > PATH_MAX_PORTS || (c->n_ports && !c->ports))
    return false;
  if (c->n_in_path > PATH_MAX_EXCLUDE || (c->n_in_path && !c->in_path))
    return false;
  if (c->n_exclude > PATH_MAX_EXCLUDE || (c->n_exclude && !c->exclude))
    return false;
  /* Every node given must belong to this nodelist (we index by idx). */
  for (size_t i = 0; i < c->n_in_path; i++) {
    const node_t *p = c->in_path[i];
    if (p && nodelist_node(nl, p->idx) != p)
      return false;
  }
  for (size_t i = 0; i < c->n_exclude; i++) {
    const node_t *p = c->exclude[i];
    if (p && nodelist_node(nl, p->idx) != p)
      return false;
  }
  return true;
}

chive_err_t
path_choose_node(const nodelist_t *nl, path_position_t pos,
                 const path_constraints_t *c, const path_rng_t *rng,
                 const node_t **out)
{
  if (!nl || !c || !out || (unsigned)pos > PATH_POS_EXIT)
    return CHIVE_ERR_INVAL;
  if (!constraints_valid(nl, c))
    return CHIVE_ERR_INVAL;
  size_t n = nodelist_size(nl);
  if (n == 0)
    return CHIVE_ERR_NOTFOUND;
  size_t bitmap_len = (n + 7) / 8;
  choose_scratch_t s;
  uint8_t *mem =
      chive_malloc(n * (sizeof(uint64_t) + sizeof(uint32_t)) + bitmap_len);
  if (!mem)
    return CHIVE_ERR_NOMEM;
  s.cum = (uint64_t *)(void *)mem;
  s.idx = (uint32_t *)(void *)(mem + n * sizeof(uint64_t));
  s.banned = mem + n * (sizeof(uint64_t) + sizeof(uint32_t));
  memset(s.banned, 0, bitmap_len);

  /* Rule out the exclusions, the in-path nodes and their families
   * (path-spec §2.2: mutual family listing). */
  ban_ctx_t bc = {s.banned};
  for (size_t i = 0; i < c->n_exclude; i++) {
    if (c->exclude[i])
      ban_node(&bc, c->exclude[i]);
  }
  for (size_t i = 0; i < c->n_in_path; i++) {
    if (!c->in_path[i])
      continue;
    ban_node(&bc, c->in_path[i]);
    nodelist_foreach_family_member(nl, c->in_path[i], ban_node, &bc);
  }

  uint32_t row[4];
  weight_row(nodelist_consensus(nl), pos, row);

  /* One pass: cumulative integer weights.  Should the running sum ever
   * approach 2^63 (only with absurd consensus values), halve everything
   * so far and every later weight, which keeps the sums exact up to that
   * rounding and never overflows. */
  size_t k = 0;
  uint64_t total = 0;
  unsigned shift = 0;
  for (size_t i = 0; i < n; i++) {
    const node_t *nd = nodelist_node(nl, i);
    if (is_banned(s.banned, nd) || !node_ok_base(nd, pos, c) ||
        subnet_conflict(nd, c))
      continue;
    uint64_t w = ((uint64_t)nd->bandwidth * row[node_class(nd)]) >> shift;
    while (w > PATH_WEIGHT_TOTAL_LIMIT - total) {
      for (size_t j = 0; j < k; j++)
        s.cum[j] >>= 1;
      total = k ? s.cum[k - 1] : 0;
      shift++;
      w >>= 1;
    }
    total += w;
    s.cum[k] = total;
    s.idx[k] = (uint32_t)i;
    k++;
  }

  chive_err_t rv = CHIVE_ERR_NOTFOUND;
  if (k > 0) {
    size_t pick;
    if (total == 0) {
      /* Every candidate weighs 0: uniform. */
      pick = (size_t)rng_below(rng, k);
    } else {
      uint64_t r = rng_below(rng, total);
      /* First candidate whose cumulative sum exceeds r. */
      size_t lo = 0, hi = k - 1;
      while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s.cum[mid] > r)
          hi = mid;
        else
          lo = mid + 1;
      }
      pick = lo;
    }
    *out = nodelist_node(nl, s.idx[pick]);
    rv = CHIVE_OK;
  }
  chive_free(mem);
  return rv;
}

chive_err_t
path_choose_guard(const nodelist_t *nl, const path_constraints_t *c,
                  const path_rng_t *rng, const node_t **out)
{
  return path_choose_node(nl, PATH_POS_GUARD, c, rng, out);
}

chive_err_t
path_choose_middle(const nodelist_t *nl, const path_constraints_t *c,
                   const path_rng_t *rng, const node_t **out)
{
  return path_choose_node(nl, PATH_POS_MIDDLE, c, rng, out);
}

chive_err_t
path_choose_exit(const nodelist_t *nl, const path_constraints_t *c,
                 const path_rng_t *rng, const node_t **out)
{
  return path_choose_node(nl, PATH_POS_EXIT, c, rng, out);
}

/** Write "80,443" (at most a few ports) into <b>buf</b>. */
static void
format_ports(const uint16_t *ports, size_t n, char *buf, size_t len)
{
  size_t off = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n && off + 8 < len; i++) {
    int w = snprintf(buf + off, len - off, "%s%u", i ? "," : "",
                     (unsigned)ports[i]);
    if (w < 0)
      break;
    off += (size_t)w;
  }
}

/** Explain why no exit qualified under <b>c</b>. */
static void
explain_exit_failure(const nodelist_t *nl, const path_constraints_t *c,
                     char *why, size_t why_len)
{
  char ports[64];
  format_ports(c->ports, c->n_ports, ports, sizeof(ports));
  /* The same request with no flags, in-path nodes or exclusions. */
  path_constraints_t loose = *c;
  loose.need_flags = 0;
  loose.need_nflags = 0;
  loose.in_path = NULL;
  loose.n_in_path = 0;
  loose.exclude = NULL;
  loose.n_exclude = 0;
  path_constraints_t flagged = loose;
  flagged.need_flags = c->need_flags;
  flagged.need_nflags = c->need_nflags;
  size_t n_loose = 0, n_flagged = 0;
  for (size_t i = 0; i < nodelist_size(nl); i++) {
    const node_t *nd = nodelist_node(nl, i);
    if (node_ok_base(nd, PATH_POS_EXIT, &loose)) {
      n_loose++;
      if (node_ok_base(nd, PATH_POS_EXIT, &flagged))
        n_flagged++;
    }
  }
  const char *what =
      c->n_ports ? (c->ports_any ? "any of ports" : "port") : "any port";
  if (n_loose == 0) {
    snprintf(why, why_len,
             "no usable exit (not BadExit) has a policy allowing %s %s", what,
             ports);
  } else if (n_flagged == 0) {
    snprintf(why, why_len,
             "%zu exits allow %s %s but none has the required flags "
             "(Fast/Stable/ntor-v3)",
             n_loose, what, ports);
  } else {
    snprintf(why, why_len,
             "%zu suitable exits allow %s %s but all are excluded or "
             "share a family or /16 with the path",
             n_flagged, what, ports);
  }
}

chive_err_t
path_choose(const nodelist_t *nl, const path_request_t *req,
            const path_rng_t *rng, const node_t **out, size_t out_len,
            char *why, size_t why_len)
{
  char dummy[1];
  if (!why || why_len == 0) {
    why = dummy;
    why_len = sizeof(dummy);
  }
  why[0] = '\0';
  if (!nl || !req || !out)
    return CHIVE_ERR_INVAL;
  size_t hops = req->hops;
  if (hops < 2 || hops > PATH_MAX_HOPS || out_len < hops) {
    snprintf(why, why_len, "bad path length %zu", hops);
    return CHIVE_ERR_INVAL;
  }
  if (req->n_ports > PATH_MAX_PORTS || (req->n_ports && !req->ports) ||
      req->n_exclude > PATH_MAX_EXCLUDE || (req->n_exclude && !req->exclude)) {
    snprintf(why, why_len, "bad ports or exclusion list");
    return CHIVE_ERR_INVAL;
  }
  if (req->guard) {
    const node_t *g = req->guard;
    bool excluded = false;
    for (size_t i = 0; i < req->n_exclude; i++)
      excluded = excluded || req->exclude[i] == g;
    if (nodelist_node(nl, g->idx) != g || !node_has_nflags(g, NODE_F_USABLE) ||
        excluded) {
      snprintf(why, why_len, "the given guard is not usable");
      return CHIVE_ERR_INVAL;
    }
  }

  bool stable = req->need_stable;
  for (size_t i = 0; i < req->n_ports; i++)
    stable = stable || path_port_is_long_lived(req->ports[i]);

  path_constraints_t c;
  path_constraints_init(&c);
  c.need_flags = (req->allow_slow ? 0u : (uint32_t)NS_FLAG_FAST) |
                 (stable ? (uint32_t)NS_FLAG_STABLE : 0u);
  c.need_nflags = req->need_ntor_v3 ? (unsigned)NODE_F_NTOR_V3 : 0u;
  c.exclude = req->exclude;
  c.n_exclude = req->n_exclude;
  c.enforce_distinct_subnets = req->enforce_distinct_subnets;

  /* chosen[] holds the hops in the order they are picked. */
  const node_t *chosen[PATH_MAX_HOPS];
  size_t n_chosen = 0;
  const node_t *guard = req->guard, *last = NULL;
  chive_err_t rv;
  if (guard)
    chosen[n_chosen++] = guard;

  /* path-spec §2.2: the exit (last hop) first. */
  c.in_path = chosen;
  c.n_in_path = n_chosen;
  if (req->purpose == PATH_PURPOSE_EXIT) {
    c.ports = req->ports;
    c.n_ports = req->n_ports;
    c.ports_any = req->ports_any;
    rv = path_choose_exit(nl, &c, rng, &last);
    if (rv == CHIVE_ERR_NOTFOUND)
      explain_exit_failure(nl, &c, why, why_len);
    c.ports = NULL;
    c.n_ports = 0;
  } else {
    rv = path_choose_middle(nl, &c, rng, &last);
    if (rv == CHIVE_ERR_NOTFOUND)
      snprintf(why, why_len,
               "no relay for the last hop of an internal "
               "circuit");
  }
  if (rv != CHIVE_OK)
    return rv;
  chosen[n_chosen++] = last;

  /* Then the guard. */
  if (!guard) {
    c.in_path = chosen;
    c.n_in_path = n_chosen;
    rv = path_choose_guard(nl, &c, rng, &guard);
    if (rv == CHIVE_ERR_NOTFOUND)
      snprintf(why, why_len,
               "no Guard-flagged relay fits the path (exit "
               "%s)",
               node_nickname(last));
    if (rv != CHIVE_OK)
      return rv;
    chosen[n_chosen++] = guard;
  }

  /* Then the middles, front to back. */
  const node_t *middles[PATH_MAX_HOPS];
  for (size_t i = 0; i + 2 < hops; i++) {
    c.in_path = chosen;
    c.n_in_path = n_chosen;
    rv = path_choose_middle(nl, &c, rng, &middles[i]);
    if (rv == CHIVE_ERR_NOTFOUND)
      snprintf(why, why_len, "no relay for middle hop %zu", i + 1);
    if (rv != CHIVE_OK)
      return rv;
    chosen[n_chosen++] = middles[i];
  }

  out[0] = guard;
  for (size_t i = 0; i + 2 < hops; i++)
    out[i + 1] = middles[i];
  out[hops - 1] = last;
  return CHIVE_OK;
}
