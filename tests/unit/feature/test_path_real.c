/* Path selection on the real 2017 network (../shared/data/realnet-A,
 * 6,596 relays with all their microdescriptors) and on the 2025 one
 * (partial microdescriptors): statistical checks of the weighted choice
 * with the deterministic RNG seam, against probabilities computed in
 * this file straight from the consensus (path-spec §2.2, dir-spec §3.4.1
 * bandwidth-weights), and the path constraints over thousands of paths.
 * Skipped cleanly when the shared data is absent. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "feature/nodes/nodelist.h"
#include "feature/nodes/path.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

#define N_EXIT_DRAWS 20000
#define N_GUARD_DRAWS 10000
#define N_PATHS 3000
#define N_TOP 20

typedef struct net_t {
  char *s, *sa, *sb;
  ns_consensus_t *c;
  md_list_t *a, *b;
  nodelist_t *nl;
} net_t;

static const microdesc_t *
net_lookup(void *ctx, const uint8_t digest[32])
{
  net_t *n = ctx;
  const microdesc_t *md = n->a ? md_list_find(n->a, digest) : NULL;
  if (!md && n->b)
    md = md_list_find(n->b, digest);
  return md;
}

static char *
read_data(const char *rel, size_t *len)
{
  const char *dir = t_shared_data_dir();
  if (!dir)
    return NULL;
  char path[1024];
  snprintf(path, sizeof(path), "%s/realnet-A/%s", dir, rel);
  return (char *)t_read_file(path, len);
}

/* Load a bundle; returns 0 if the data is absent, -1 on error. */
static int
net_load(net_t *n, const char *cons, const char *mda, const char *mdb)
{
  size_t len = 0, la = 0, lb = 0;
  memset(n, 0, sizeof(*n));
  if (!t_shared_data_dir())
    return 0;
  n->s = read_data(cons, &len);
  n->sa = read_data(mda, &la);
  if (mdb)
    n->sb = read_data(mdb, &lb);
  if (!n->s || !n->sa || (mdb && !n->sb))
    return -1;
  if (ns_consensus_parse(n->s, len, &n->c) ||
      md_list_parse(n->sa, la, &n->a) ||
      (mdb && md_list_parse(n->sb, lb, &n->b)))
    return -1;
  if (nodelist_build(n->c, net_lookup, n, n->c->valid_after, &n->nl))
    return -1;
  return 1;
}

static void
net_free(net_t *n)
{
  nodelist_free(n->nl);
  md_list_free(n->a);
  md_list_free(n->b);
  ns_consensus_free(n->c);
  chive_free(n->s);
  chive_free(n->sa);
  chive_free(n->sb);
}

#define LOAD_2017(net)                                                   \
  do {                                                                   \
    int r_ = net_load((net), "cached-microdesc-consensus",               \
                      "cached-microdescs", "cached-microdescs.new");     \
    if (r_ == 0)                                                         \
      T_SKIP("shared data dir (../shared/data) absent: realnet-A tests " \
             "skipped");                                                 \
    T_EQ_INT(r_, 1);                                                     \
  } while (0)

static void
seed_rng(uint8_t v)
{
  uint8_t seed[32];
  memset(seed, v, sizeof(seed));
  crypto_rand_testing_set_deterministic(seed);
}

/* --- The reference model, written from the specs, not from path.c. --- */

static bool
md_lists(const microdesc_t *md, const uint8_t id[20])
{
  for (size_t i = 0; md && i < md->n_family_ids; i++) {
    if (memcmp(md->family_ids[i], id, 20) == 0)
      return true;
  }
  return false;
}

/* Running, Valid, a microdescriptor, Relay=2 in "pr", Fast. */
static bool
ref_usable_fast(const net_t *n, const ns_routerstatus_t *rs)
{
  const protover_set_t *pr = ns_routerstatus_protos(n->c, rs);
  return (rs->flags & NS_FLAG_RUNNING) && (rs->flags & NS_FLAG_VALID) &&
         (rs->flags & NS_FLAG_FAST) &&
         net_lookup((void *)(uintptr_t)n, rs->digest) && pr &&
         protover_supports(pr, PROTO_RELAY, 2);
}

/* Reference weight of rs for position 'g', 'm' or 'e' (0 if not a
 * candidate), exit port 443. */
static double
ref_weight(const net_t *n, const ns_routerstatus_t *rs, char pos)
{
  if (!ref_usable_fast(n, rs))
    return 0;
  bool guard = rs->flags & NS_FLAG_GUARD;
  bool exit = (rs->flags & NS_FLAG_EXIT) && !(rs->flags & NS_FLAG_BADEXIT);
  const int32_t *w = n->c->bw_weights.w;
  int32_t W;
  if (pos == 'g') {
    if (!guard || (rs->flags & NS_FLAG_MIDDLEONLY))
      return 0;
    W = exit ? w[BW_WGD] : w[BW_WGG];
  } else if (pos == 'e') {
    const microdesc_t *md = net_lookup((void *)(uintptr_t)n, rs->digest);
    if ((rs->flags & (NS_FLAG_BADEXIT | NS_FLAG_MIDDLEONLY)) ||
        !policy_summary_allows_port(microdesc_policy(md), 443))
      return 0;
    W = guard && exit ? w[BW_WED]
        : exit        ? w[BW_WEE]
        : guard       ? w[BW_WEG]
                      : w[BW_WEM];
  } else {
    W = guard && exit ? w[BW_WMD]
        : exit        ? w[BW_WME]
        : guard       ? w[BW_WMG]
                      : w[BW_WMM];
  }
  return (double)rs->bandwidth * (double)W;
}

typedef struct ranked_t {
  size_t idx;
  double p;
} ranked_t;

static int
cmp_ranked(const void *a, const void *b)
{
  double pa = ((const ranked_t *)a)->p, pb = ((const ranked_t *)b)->p;
  return (pa < pb) - (pa > pb);
}

/* Compare counts[] of <b>draws</b> with the reference model for
 * <b>pos</b>: each of the N_TOP most likely relays within 5 sigma, and a
 * chi-square over those plus one bin for the rest.  Returns the worst
 * z^2 seen, or -1 if a chosen node had reference probability 0. */
static double
check_distribution(const net_t *n, char pos, const unsigned *counts,
                   unsigned draws, double *chi2_out)
{
  size_t nn = n->c->n_routers;
  ranked_t *r = chive_calloc(nn, sizeof(*r));
  double total = 0, worst = 0, chi2 = 0;
  if (!r)
    return -1;
  for (size_t i = 0; i < nn; i++) {
    r[i].idx = i;
    r[i].p = ref_weight(n, &n->c->routers[i], pos);
    total += r[i].p;
  }
  for (size_t i = 0; i < nn; i++) {
    r[i].p /= total;
    if (r[i].p == 0 && counts[i] != 0) {
      chive_free(r);
      return -1;
    }
  }
  qsort(r, nn, sizeof(*r), cmp_ranked);
  double rest_p = 1, rest_obs = draws;
  for (size_t k = 0; k < N_TOP; k++) {
    double e = r[k].p * draws;
    double var = draws * r[k].p * (1 - r[k].p);
    double d = counts[r[k].idx] - e;
    double z2 = d * d / var;
    worst = z2 > worst ? z2 : worst;
    chi2 += (counts[r[k].idx] - e) * (counts[r[k].idx] - e) / e;
    rest_p -= r[k].p;
    rest_obs -= counts[r[k].idx];
  }
  chi2 += (rest_obs - rest_p * draws) * (rest_obs - rest_p * draws) /
          (rest_p * draws);
  *chi2_out = chi2;
  chive_free(r);
  return worst;
}

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void
test_exit_443_distribution(void)
{
  net_t n;
  unsigned *counts = NULL;
  memset(&n, 0, sizeof(n));
  LOAD_2017(&n);
  T_OK(crypto_global_init());
  seed_rng(0x43);
  counts = chive_calloc(nodelist_size(n.nl), sizeof(*counts));
  T_ASSERT(counts);
  path_constraints_t c;
  path_constraints_init(&c);
  uint16_t port = 443;
  c.ports = &port;
  c.n_ports = 1;
  double t0 = now_ms();
  for (unsigned i = 0; i < N_EXIT_DRAWS; i++) {
    const node_t *e = NULL;
    T_OK(path_choose_exit(n.nl, &c, NULL, &e));
    /* No chosen exit rejects the port, none is a BadExit. */
    T_ASSERT(policy_summary_allows_port(microdesc_policy(e->md), 443));
    T_ASSERT(!node_has_flags(e, NS_FLAG_BADEXIT));
    counts[e->idx]++;
  }
  double t1 = now_ms();
  double chi2 = 0;
  double worst = check_distribution(&n, 'e', counts, N_EXIT_DRAWS, &chi2);
  fprintf(stderr,
          "  exit:443 x%d: worst z^2 %.2f over top %d, chi2 %.1f (df %d); "
          "%.1f us per choice\n",
          N_EXIT_DRAWS, worst, N_TOP, chi2, N_TOP,
          (t1 - t0) * 1e3 / N_EXIT_DRAWS);
  T_ASSERT(worst >= 0);   /* nothing chosen with probability 0 */
  T_ASSERT(worst < 25.0); /* each top relay within 5 sigma */
  /* chi-square, 20 degrees of freedom: P(> 60) < 1e-5. */
  T_ASSERT(chi2 < 60.0);
done:
  crypto_rand_testing_set_deterministic(NULL);
  chive_free(counts);
  net_free(&n);
}

static void
test_guard_and_middle_distribution(void)
{
  net_t n;
  unsigned *counts = NULL;
  memset(&n, 0, sizeof(n));
  LOAD_2017(&n);
  T_OK(crypto_global_init());
  seed_rng(0x47);
  counts = chive_calloc(nodelist_size(n.nl), sizeof(*counts));
  T_ASSERT(counts);
  path_constraints_t c;
  path_constraints_init(&c);
  for (unsigned i = 0; i < N_GUARD_DRAWS; i++) {
    const node_t *g = NULL;
    T_OK(path_choose_guard(n.nl, &c, NULL, &g));
    T_ASSERT(node_has_flags(g, NS_FLAG_GUARD | NS_FLAG_FAST));
    counts[g->idx]++;
  }
  double chi2 = 0;
  double worst = check_distribution(&n, 'g', counts, N_GUARD_DRAWS, &chi2);
  fprintf(stderr, "  guard x%d: worst z^2 %.2f, chi2 %.1f\n", N_GUARD_DRAWS,
          worst, chi2);
  T_ASSERT(worst >= 0 && worst < 25.0 && chi2 < 60.0);

  memset(counts, 0, nodelist_size(n.nl) * sizeof(*counts));
  for (unsigned i = 0; i < N_GUARD_DRAWS; i++) {
    const node_t *m = NULL;
    T_OK(path_choose_middle(n.nl, &c, NULL, &m));
    counts[m->idx]++;
  }
  worst = check_distribution(&n, 'm', counts, N_GUARD_DRAWS, &chi2);
  fprintf(stderr, "  middle x%d: worst z^2 %.2f, chi2 %.1f\n", N_GUARD_DRAWS,
          worst, chi2);
  /* Wme = 0 in this consensus: Exit-flagged relays never in the middle
   * (check_distribution returns -1 if one had been chosen). */
  T_ASSERT(worst >= 0 && worst < 25.0 && chi2 < 60.0);
done:
  crypto_rand_testing_set_deterministic(NULL);
  chive_free(counts);
  net_free(&n);
}

/* Check one path against path-spec §2.2, independently of path.c. */
static bool
path_ok(const net_t *n, const node_t *const *p, size_t hops, uint16_t port,
        bool subnets)
{
  for (size_t i = 0; i < hops; i++) {
    if (!p[i] || !p[i]->md || !ref_usable_fast(n, p[i]->rs))
      return false;
    for (size_t j = i + 1; j < hops; j++) {
      if (p[i] == p[j] ||
          memcmp(p[i]->rs->identity, p[j]->rs->identity, 20) == 0)
        return false;
      if (md_lists(p[i]->md, p[j]->rs->identity) &&
          md_lists(p[j]->md, p[i]->rs->identity))
        return false;
      if (subnets && (p[i]->rs->ipv4 >> 16) == (p[j]->rs->ipv4 >> 16))
        return false;
    }
  }
  const ns_routerstatus_t *g = p[0]->rs, *e = p[hops - 1]->rs;
  if (!(g->flags & NS_FLAG_GUARD) || (g->flags & NS_FLAG_MIDDLEONLY))
    return false;
  if ((e->flags & (NS_FLAG_BADEXIT | NS_FLAG_MIDDLEONLY)) ||
      !policy_summary_allows_port(microdesc_policy(p[hops - 1]->md), port))
    return false;
  return true;
}

static void
test_paths_constraints(void)
{
  net_t n;
  size_t near_family = 0, n_ex = 0;
  const node_t **ex = NULL;
  memset(&n, 0, sizeof(n));
  LOAD_2017(&n);
  T_OK(crypto_global_init());
  seed_rng(0x50);
  path_request_t req;
  path_request_init(&req);
  uint16_t port = 443;
  req.ports = &port;
  req.n_ports = 1;
  const node_t *p[PATH_MAX_HOPS];
  char why[200];
  double t0 = now_ms();
  for (unsigned i = 0; i < N_PATHS; i++) {
    T_OK(path_choose(n.nl, &req, NULL, p, 3, why, sizeof(why)));
    T_ASSERT(path_ok(&n, p, 3, 443, true));
    /* Count one-way family listings, which are allowed. */
    for (int a = 0; a < 3; a++)
      for (int b = 0; b < 3; b++)
        near_family += a != b && md_lists(p[a]->md, p[b]->rs->identity);
  }
  double t1 = now_ms();
  /* Long-lived port 22: every hop Stable. */
  port = 22;
  for (unsigned i = 0; i < N_PATHS / 10; i++) {
    T_OK(path_choose(n.nl, &req, NULL, p, 3, why, sizeof(why)));
    T_ASSERT(path_ok(&n, p, 3, 22, true));
    for (int h = 0; h < 3; h++)
      T_ASSERT(node_has_flags(p[h], NS_FLAG_STABLE));
  }
  /* With a fixed guard from the family-heavy part of the network: the
   * rest of the path avoids its family and /16. */
  const node_t *fam_guard = NULL;
  for (size_t i = 0; i < nodelist_size(n.nl) && !fam_guard; i++) {
    const node_t *g = nodelist_node(n.nl, i);
    if (node_has_flags(g, NS_FLAG_GUARD | NS_FLAG_FAST) &&
        node_has_nflags(g, NODE_F_USABLE | NODE_F_HAS_FAMILY) &&
        g->md->n_family_ids >= 8)
      fam_guard = g;
  }
  T_ASSERT(fam_guard);
  req.guard = fam_guard;
  port = 443;
  for (unsigned i = 0; i < N_PATHS / 3; i++) {
    T_OK(path_choose(n.nl, &req, NULL, p, 3, why, sizeof(why)));
    T_ASSERT(p[0] == fam_guard);
    T_ASSERT(path_ok(&n, p, 3, 443, true));
  }
  req.guard = NULL;
  ex = chive_calloc(PATH_MAX_EXCLUDE, sizeof(*ex));
  T_ASSERT(ex);
  /* Port 25: every port is allowed by some 2017 exit, but only a few
   * allow 25.  Without ntor-v3 (Relay=4 did not exist yet) none
   * qualifies; excluding every exit that allows 25, none either. */
  port = 25;
  req.need_ntor_v3 = true;
  T_EQ_INT(path_choose(n.nl, &req, NULL, p, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "port 25") && strstr(why, "required flags"));
  req.need_ntor_v3 = false;
  for (size_t i = 0; i < nodelist_size(n.nl) && n_ex < PATH_MAX_EXCLUDE; i++) {
    const node_t *x = nodelist_node(n.nl, i);
    if (x->md && policy_summary_allows_port(microdesc_policy(x->md), 25))
      ex[n_ex++] = x;
  }
  T_ASSERT(n_ex > 0 && n_ex < PATH_MAX_EXCLUDE);
  req.exclude = ex;
  req.n_exclude = n_ex;
  T_EQ_INT(path_choose(n.nl, &req, NULL, p, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "port 25") && strstr(why, "excluded"));
  fprintf(stderr,
          "  %d 3-hop paths for :443 in %.1f ms (%.1f us each); %zu "
          "one-way family listings seen (allowed); %zu relays allow 25; "
          "\"%s\"\n",
          N_PATHS, t1 - t0, (t1 - t0) * 1e3 / N_PATHS, near_family, n_ex, why);
done:
  chive_free(ex);
  crypto_rand_testing_set_deterministic(NULL);
  net_free(&n);
}

static void
test_paths_2025(void)
{
  net_t n;
  memset(&n, 0, sizeof(n));
  int r = net_load(&n, "modern/cached-microdesc-consensus",
                   "modern/cached-microdescs.new", NULL);
  if (r == 0)
    T_SKIP("shared data dir (../shared/data) absent: realnet-A tests "
           "skipped");
  T_EQ_INT(r, 1);
  T_ASSERT(n.c->has_bw_weights);
  T_OK(crypto_global_init());
  seed_rng(0x25);
  path_request_t req;
  path_request_init(&req);
  uint16_t ports[3] = {443, 80, 8080};
  req.ports = ports;
  req.n_ports = 3;
  req.ports_any = true;
  req.need_ntor_v3 = true;
  const node_t *p[4];
  char why[200];
  for (unsigned i = 0; i < 500; i++) {
    req.hops = 3 + (i & 1);
    T_OK(path_choose(n.nl, &req, NULL, p, 4, why, sizeof(why)));
    T_ASSERT(path_ok(&n, p, req.hops, 443, true) ||
             path_ok(&n, p, req.hops, 80, true) ||
             path_ok(&n, p, req.hops, 8080, true));
    for (size_t h = 0; h < req.hops; h++) {
      circuit_hop_info_t hi;
      T_OK(node_to_hop_info(p[h], &hi));
      T_ASSERT(hi.supports_ntor_v3 && hi.has_ed_id);
      if (h > 0 && h + 1 < req.hops)
        continue;
      T_ASSERT(!node_has_flags(p[h], NS_FLAG_MIDDLEONLY));
    }
  }
done:
  crypto_rand_testing_set_deterministic(NULL);
  net_free(&n);
}

static const t_case cases[] = {
    T_CASE(test_exit_443_distribution),
    T_CASE(test_guard_and_middle_distribution),
    T_CASE(test_paths_constraints),
    T_CASE(test_paths_2025),
    T_END,
};

T_MAIN(cases)
