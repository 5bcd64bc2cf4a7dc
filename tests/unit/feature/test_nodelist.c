/* The node list: built from the real 2017 and 2025 consensuses of
 * ../shared/data/realnet-A with their microdescriptors (counts checked
 * against groundtruth.json / MANIFEST.md, skipped when the data is
 * absent), and from small synthetic networks (lookups, hop info, families,
 * errors, allocation failures). */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "feature/nodes/nodelist.h"
#include "lib/malloc/malloc.h"
#include "test_path_synth.h"
#include "tinytest.h"

/* groundtruth.json, bundle "primary" (flag_counts_all). */
#define GT_ROUTERS 6596
#define GT_EXIT 824
#define GT_GUARD 2128
#define GT_FAST 6259
#define GT_STABLE 5279
#define GT_AUTHORITY 10
/* MANIFEST.md, bundle "modern": 982 of 8557 entries have their md. */
#define GT_MODERN_ROUTERS 8557
#define GT_MODERN_WITH_MD 982

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

#define NEED_DATA(ptr)                                                   \
  do {                                                                   \
    if (!t_shared_data_dir())                                            \
      T_SKIP("shared data dir (../shared/data) absent: realnet-A tests " \
             "skipped");                                                 \
    T_ASSERT((ptr) != NULL);                                             \
  } while (0)

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* A microdescriptor store made of up to two parsed batches. */
typedef struct md_store_t {
  md_list_t *a, *b;
} md_store_t;

static const microdesc_t *
store_lookup(void *ctx, const uint8_t digest[32])
{
  md_store_t *st = ctx;
  const microdesc_t *md = st->a ? md_list_find(st->a, digest) : NULL;
  if (!md && st->b)
    md = md_list_find(st->b, digest);
  return md;
}

/* Does <b>md</b> list <b>id</b>?  (Independent of nodelist.c.) */
static bool
md_lists(const microdesc_t *md, const uint8_t id[20])
{
  for (size_t i = 0; md && i < md->n_family_ids; i++) {
    if (memcmp(md->family_ids[i], id, 20) == 0)
      return true;
  }
  return false;
}

typedef struct fam_count_t {
  const node_t *self;
  size_t n;
  int bad;
} fam_count_t;

static void
count_member(void *arg, const node_t *m)
{
  fam_count_t *fc = arg;
  fc->n++;
  /* Each reported member must list self and be listed by it. */
  if (!m->md || !md_lists(m->md, fc->self->rs->identity) ||
      !md_lists(fc->self->md, m->rs->identity) || m == fc->self)
    fc->bad++;
}

static void
test_real_2017(void)
{
  size_t len = 0, la = 0, lb = 0;
  char *s = read_data("cached-microdesc-consensus", &len);
  char *sa = NULL, *sb = NULL;
  ns_consensus_t *c = NULL;
  md_store_t st = {NULL, NULL};
  nodelist_t *nl = NULL;
  NEED_DATA(s);
  sa = read_data("cached-microdescs", &la);
  sb = read_data("cached-microdescs.new", &lb);
  T_ASSERT(sa && sb);
  T_OK(ns_consensus_parse(s, len, &c));
  T_OK(md_list_parse(sa, la, &st.a));
  T_OK(md_list_parse(sb, lb, &st.b));

  /* Build several times; report the best time. */
  double best = 1e9;
  for (int i = 0; i < 5; i++) {
    double t0 = now_ms();
    T_OK(nodelist_build(c, store_lookup, &st, c->valid_after, &nl));
    double t = now_ms() - t0;
    best = t < best ? t : best;
    if (i < 4)
      nodelist_free(nl);
  }
  T_EQ_UINT(nodelist_size(nl), GT_ROUTERS);
  T_EQ_UINT(nodelist_n_with_md(nl), GT_ROUTERS); /* complete set */
  T_ASSERT(nodelist_consensus(nl) == c);
  T_EQ_INT(nodelist_built_at(nl), c->valid_after);

  /* Flags against the ground truth; usable computed here from the
   * consensus: Running, Valid, md, Relay=2. */
  size_t n_exit = 0, n_guard = 0, n_fast = 0, n_stable = 0, n_auth = 0;
  size_t want_usable = 0, n_ed = 0, n_v3 = 0, n_exit_any = 0;
  for (size_t i = 0; i < nodelist_size(nl); i++) {
    const node_t *n = nodelist_node(nl, i);
    const ns_routerstatus_t *rs = &c->routers[i];
    T_ASSERT(n->rs == rs && n->idx == i);
    T_ASSERT(n->md == store_lookup(&st, rs->digest));
    n_exit += node_has_flags(n, NS_FLAG_EXIT);
    n_guard += node_has_flags(n, NS_FLAG_GUARD);
    n_fast += node_has_flags(n, NS_FLAG_FAST);
    n_stable += node_has_flags(n, NS_FLAG_STABLE);
    n_auth += node_has_flags(n, NS_FLAG_AUTHORITY);
    const protover_set_t *pr = ns_routerstatus_protos(c, rs);
    bool relay2 = pr && protover_supports(pr, PROTO_RELAY, 2);
    if ((rs->flags & NS_FLAG_RUNNING) && (rs->flags & NS_FLAG_VALID) &&
        n->md && relay2)
      want_usable++;
    T_EQ_UINT(n->bandwidth, rs->bandwidth);
    T_EQ_UINT(n->ipv4, rs->ipv4);
    T_EQ_UINT(n->or_port, rs->or_port);
    if (n->md && n->md->has_ed25519) {
      n_ed++;
      T_ASSERT(nodelist_find_by_ed(nl, n->md->ed25519_id) == n);
      T_EQ_MEM(node_ed_id(n), n->md->ed25519_id, 32);
    } else {
      T_ASSERT(node_ed_id(n) == NULL);
    }
    n_v3 += node_has_nflags(n, NODE_F_NTOR_V3);
    n_exit_any += node_has_nflags(n, NODE_F_EXIT_ANY);
    T_ASSERT(nodelist_find_by_rsa(nl, rs->identity) == n);
  }
  T_EQ_UINT(n_exit, GT_EXIT);
  T_EQ_UINT(n_guard, GT_GUARD);
  T_EQ_UINT(n_fast, GT_FAST);
  T_EQ_UINT(n_stable, GT_STABLE);
  T_EQ_UINT(n_auth, GT_AUTHORITY);
  T_EQ_UINT(nodelist_n_usable(nl), want_usable);
  T_ASSERT(want_usable > 6500); /* all Running+Valid, all have Relay=2 */
  T_EQ_UINT(n_v3, 0);           /* no relay had Relay=4 in 2017 */
  T_ASSERT(n_ed > 0 && n_ed < GT_ROUTERS); /* some mds lack "id ed25519" */
  T_ASSERT(n_exit_any >= GT_EXIT);
  uint8_t zero[32] = {0};
  T_ASSERT(nodelist_find_by_rsa(nl, zero) == NULL);
  T_ASSERT(nodelist_find_by_ed(nl, zero) == NULL);

  /* The first entry (dir-spec order), as test_dirreal checks it. */
  const node_t *n0 = nodelist_node(nl, 0);
  circuit_hop_info_t h;
  T_OK(node_to_hop_info(n0, &h));
  T_EQ_STR(node_nickname(n0), "networkofthesmoker");
  T_ASSERT(h.has_ipv4);
  const uint8_t ip0[4] = {128, 72, 180, 74};
  T_EQ_MEM(h.ipv4, ip0, 4);
  T_EQ_UINT(h.ipv4_port, 443);
  T_EQ_MEM(h.rsa_id, c->routers[0].identity, 20);
  T_EQ_MEM(h.ntor_onion_key, n0->md->ntor_key, 32);
  T_ASSERT(!h.supports_ntor_v3);
  T_EQ_INT(h.has_ed_id, n0->md->has_ed25519);

  /* Families: every member reported is mutual, and the count of ordered
   * mutual pairs equals an independent count over the consensus. */
  size_t pairs_nl = 0, pairs_ref = 0;
  for (size_t i = 0; i < nodelist_size(nl); i++) {
    const node_t *n = nodelist_node(nl, i);
    fam_count_t fc = {n, 0, 0};
    nodelist_foreach_family_member(nl, n, count_member, &fc);
    T_EQ_INT(fc.bad, 0);
    pairs_nl += fc.n;
    const microdesc_t *md = n->md;
    for (size_t k = 0; md && k < md->n_family_ids; k++) {
      bool dup = false;
      for (size_t j = 0; j < k; j++)
        dup = dup || memcmp(md->family_ids[j], md->family_ids[k], 20) == 0;
      const ns_routerstatus_t *rs2 =
          ns_consensus_find_router(c, md->family_ids[k]);
      if (dup || !rs2 || rs2 == n->rs)
        continue;
      const microdesc_t *md2 = store_lookup(&st, rs2->digest);
      if (md_lists(md2, n->rs->identity))
        pairs_ref++;
    }
  }
  T_EQ_UINT(pairs_nl, pairs_ref);
  T_ASSERT(pairs_nl > 100); /* the 2017 network has many families */

  fprintf(stderr,
          "  realnet-A 2017: %zu nodes, %zu usable, %zu with ed25519, "
          "%zu mutual family pairs; build %.2f ms; nodelist heap %zu bytes "
          "(node_t %zu bytes); consensus %zu + mds %zu bytes\n",
          nodelist_size(nl), nodelist_n_usable(nl), n_ed, pairs_nl / 2, best,
          nodelist_bytes(nl), sizeof(node_t), ns_consensus_bytes(c),
          md_list_bytes(st.a) + md_list_bytes(st.b));
done:
  nodelist_free(nl);
  md_list_free(st.a);
  md_list_free(st.b);
  ns_consensus_free(c);
  chive_free(s);
  chive_free(sa);
  chive_free(sb);
}

static void
test_real_2025_partial(void)
{
  size_t len = 0, la = 0;
  char *s = read_data("modern/cached-microdesc-consensus", &len);
  char *sa = NULL;
  ns_consensus_t *c = NULL;
  md_store_t st = {NULL, NULL};
  nodelist_t *nl = NULL;
  NEED_DATA(s);
  sa = read_data("modern/cached-microdescs.new", &la);
  T_ASSERT(sa);
  T_OK(ns_consensus_parse(s, len, &c));
  T_OK(md_list_parse(sa, la, &st.a));
  double t0 = now_ms();
  T_OK(nodelist_build(c, store_lookup, &st, c->valid_after, &nl));
  double t1 = now_ms();
  T_EQ_UINT(nodelist_size(nl), GT_MODERN_ROUTERS);
  T_EQ_UINT(nodelist_n_with_md(nl), GT_MODERN_WITH_MD);
  size_t n_v3 = 0, n_mo = 0, usable = 0, fam = 0;
  for (size_t i = 0; i < nodelist_size(nl); i++) {
    const node_t *n = nodelist_node(nl, i);
    n_v3 += node_has_nflags(n, NODE_F_NTOR_V3);
    n_mo += node_has_flags(n, NS_FLAG_MIDDLEONLY);
    usable += node_has_nflags(n, NODE_F_USABLE);
    if (!n->md)
      T_ASSERT(!node_has_nflags(n, NODE_F_USABLE));
    /* Every mutual family member found is mutual (huge families). */
    if (n->md) {
      fam_count_t fc = {n, 0, 0};
      nodelist_foreach_family_member(nl, n, count_member, &fc);
      T_EQ_INT(fc.bad, 0);
      fam += fc.n;
    }
  }
  T_EQ_UINT(usable, nodelist_n_usable(nl));
  T_ASSERT(usable > 900 && usable <= GT_MODERN_WITH_MD);
  T_ASSERT(n_v3 > 900); /* Relay=4 is everywhere by 2025 */
  T_ASSERT(n_mo > 0);
  fprintf(stderr,
          "  realnet-A 2025: %zu nodes, %zu with md, %zu usable, %zu "
          "ntor-v3, %zu MiddleOnly, %zu mutual family links among mds; "
          "build %.2f ms, %zu heap bytes\n",
          nodelist_size(nl), nodelist_n_with_md(nl), usable, n_v3, n_mo, fam,
          t1 - t0, nodelist_bytes(nl));
done:
  nodelist_free(nl);
  md_list_free(st.a);
  ns_consensus_free(c);
  chive_free(s);
  chive_free(sa);
}

static void
test_synth_lookups_and_hop_info(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  size_t a = syn_add(&s, "alpha", NS_FLAG_FAST, 100, 192, 0, 2, 1, SYN_P_NONE);
  size_t b = syn_add(&s, "beta", NS_FLAG_FAST | NS_FLAG_EXIT, 200, 198, 51,
                     100, 7, SYN_P_WEB);
  size_t c1 =
      syn_add(&s, "gamma", NS_FLAG_FAST, 300, 203, 0, 113, 9, SYN_P_NONE);
  s.md[b].has_ipv6 = 1;
  memset(s.md[b].ipv6, 0x20, 16);
  s.md[b].ipv6_port = 9999;
  s.rs[c1].proto_idx = SYN_PR_NTOR;
  s.md[c1].has_ed25519 = 0;
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(nodelist_size(nl), 3);
  T_ASSERT(nodelist_node(nl, 3) == NULL);
  uint8_t id[20];
  for (size_t i = 0; i < 3; i++) {
    syn_identity(i, id);
    T_ASSERT(nodelist_find_by_rsa(nl, id) == nodelist_node(nl, i));
  }
  syn_identity(7, id);
  T_ASSERT(nodelist_find_by_rsa(nl, id) == NULL);
  T_ASSERT(nodelist_find_by_ed(nl, s.md[a].ed25519_id) ==
           nodelist_node(nl, a));
  T_ASSERT(nodelist_find_by_ed(nl, s.md[b].ed25519_id) ==
           nodelist_node(nl, b));
  T_ASSERT(nodelist_find_by_ed(nl, s.md[c1].ed25519_id) == NULL);

  circuit_hop_info_t h;
  memset(&h, 0xee, sizeof(h));
  T_OK(node_to_hop_info(nodelist_node(nl, b), &h));
  const uint8_t ip[4] = {198, 51, 100, 7};
  T_ASSERT(h.has_ipv4);
  T_EQ_MEM(h.ipv4, ip, 4);
  T_EQ_UINT(h.ipv4_port, s.rs[b].or_port);
  T_ASSERT(h.has_ipv6);
  T_EQ_MEM(h.ipv6, s.md[b].ipv6, 16);
  T_EQ_UINT(h.ipv6_port, 9999);
  T_EQ_MEM(h.rsa_id, s.rs[b].identity, 20);
  T_ASSERT(h.has_ed_id);
  T_EQ_MEM(h.ed_id, s.md[b].ed25519_id, 32);
  T_EQ_MEM(h.ntor_onion_key, s.md[b].ntor_key, 32);
  T_ASSERT(h.supports_ntor_v3);
  T_ASSERT(node_has_nflags(nodelist_node(nl, b), NODE_F_EXIT_ANY));
  T_ASSERT(!node_has_nflags(nodelist_node(nl, a), NODE_F_EXIT_ANY));

  /* gamma: Relay=1-2 and no Ed25519 id: usable, ntor only. */
  T_OK(node_to_hop_info(nodelist_node(nl, c1), &h));
  T_ASSERT(!h.has_ed_id && !h.supports_ntor_v3 && !h.has_ipv6);
  T_ASSERT(node_has_nflags(nodelist_node(nl, c1), NODE_F_USABLE));
  const protover_set_t *pr = node_protos(nl, nodelist_node(nl, c1));
  T_ASSERT(pr && protover_supports(pr, PROTO_RELAY, 2) &&
           !protover_supports(pr, PROTO_RELAY, 4));

  /* No md: no hop info (out untouched). */
  nodelist_free(nl);
  T_OK(nodelist_build(&s.c, NULL, NULL, 5, &nl));
  T_EQ_UINT(nodelist_n_with_md(nl), 0);
  T_EQ_UINT(nodelist_n_usable(nl), 0);
  memset(&h, 0x5a, sizeof(h));
  T_EQ_INT(node_to_hop_info(nodelist_node(nl, a), &h), CHIVE_ERR_INVAL);
  T_EQ_UINT(h.ipv4_port, 0x5a5a);
done:
  nodelist_free(nl);
}

static void
test_synth_errors_and_oom(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  syn_add(&s, "a", NS_FLAG_FAST, 1, 10, 0, 0, 1, SYN_P_NONE);
  syn_add(&s, "b", NS_FLAG_FAST, 1, 11, 0, 0, 1, SYN_P_NONE);
  /* ns flavor and NULLs are refused. */
  s.c.flavor = NS_FLAVOR_NS;
  T_EQ_INT(syn_build(&s, &nl), CHIVE_ERR_INVAL);
  T_ASSERT(nl == NULL);
  s.c.flavor = NS_FLAVOR_MICRODESC;
  T_EQ_INT(nodelist_build(NULL, syn_lookup, &s, 0, &nl), CHIVE_ERR_INVAL);
  T_EQ_INT(nodelist_build(&s.c, syn_lookup, &s, 0, NULL), CHIVE_ERR_INVAL);
  /* Every allocation failure is reported cleanly (no leak: harness). */
  for (uint64_t k = 1; k <= 3; k++) {
    chive_mem_fail_nth(k, false);
    chive_err_t e = syn_build(&s, &nl);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (fired) {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_ASSERT(nl == NULL);
    } else {
      T_OK(e);
      nodelist_free(nl);
    }
  }
  /* An empty consensus makes an empty list. */
  s.c.n_routers = 0;
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(nodelist_size(nl), 0);
  T_ASSERT(nodelist_bytes(nl) > 0);
  /* Accessors tolerate NULL. */
  T_EQ_UINT(nodelist_size(NULL), 0);
  T_ASSERT(nodelist_node(NULL, 0) == NULL);
  T_ASSERT(nodelist_find_by_rsa(NULL, NULL) == NULL);
done:
  chive_mem_fail_nth(0, false);
  nodelist_free(nl);
}

static void
test_node_size(void)
{
  /* Keep node_t compact: two pointers and 24 bytes of fields. */
  T_ASSERT(sizeof(node_t) <= 40);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_real_2017),
    T_CASE(test_real_2025_partial),
    T_CASE(test_synth_lookups_and_hop_info),
    T_CASE(test_synth_errors_and_oom),
    T_CASE(test_node_size),
    T_END,
};

T_MAIN(cases)
