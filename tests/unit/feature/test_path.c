/* Path selection on small synthetic networks: exact probabilities (every
 * draw of the RNG enumerated), position weights, the fallbacks (no
 * weights, zero total, overflow), every constraint, whole paths and their
 * errors.  Expected weights are computed by hand in this file (path-spec
 * §2.2, dir-spec §3.4.1), not by calling the code under test. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "feature/nodes/nodelist.h"
#include "feature/nodes/path.h"
#include "lib/malloc/malloc.h"
#include "test_path_synth.h"
#include "tinytest.h"

/* The mixed network of the exact tests (bwweightscale 10). */
enum {
  N_G1 = 0,
  N_G2,
  N_M1,
  N_E1,
  N_E2,
  N_D1,
  N_BX,
  N_GBX,
  N_NF,
  N_MO,
  N_PM,
  N_MIXED
};

static void
mixed_network(syn_t *s)
{
  syn_init(s, 10);
  syn_add(s, "g1", NS_FLAG_GUARD | NS_FLAG_FAST, 3, 10, 1, 0, 1, SYN_P_NONE);
  syn_add(s, "g2", NS_FLAG_GUARD | NS_FLAG_FAST, 5, 10, 2, 0, 1, SYN_P_NONE);
  syn_add(s, "m1", NS_FLAG_FAST, 4, 10, 3, 0, 1, SYN_P_NONE);
  syn_add(s, "e1", NS_FLAG_EXIT | NS_FLAG_FAST, 6, 10, 4, 0, 1, SYN_P_WEB);
  syn_add(s, "e2", NS_FLAG_EXIT | NS_FLAG_FAST, 2, 10, 5, 0, 1, SYN_P_ALL);
  syn_add(s, "d1", NS_FLAG_GUARD | NS_FLAG_EXIT | NS_FLAG_FAST, 7, 10, 6, 0, 1,
          SYN_P_WEB);
  syn_add(s, "bx", NS_FLAG_EXIT | NS_FLAG_BADEXIT | NS_FLAG_FAST, 9, 10, 7, 0,
          1, SYN_P_WEB);
  syn_add(s, "gbx",
          NS_FLAG_GUARD | NS_FLAG_EXIT | NS_FLAG_BADEXIT | NS_FLAG_FAST, 1, 10,
          8, 0, 1, SYN_P_WEB);
  syn_add(s, "nf", NS_FLAG_GUARD, 8, 10, 9, 0, 1, SYN_P_ALL);
  syn_add(s, "mo",
          NS_FLAG_GUARD | NS_FLAG_EXIT | NS_FLAG_MIDDLEONLY | NS_FLAG_FAST, 2,
          10, 10, 0, 1, SYN_P_WEB);
  /* Allows 80/443 without the Exit flag: an exit of class "m". */
  syn_add(s, "pm", NS_FLAG_FAST, 3, 10, 11, 0, 1, SYN_P_WEB);
  syn_weight(s, BW_WGG, 6);
  syn_weight(s, BW_WGM, 4);
  syn_weight(s, BW_WGD, 1);
  syn_weight(s, BW_WMG, 4);
  syn_weight(s, BW_WMM, 10);
  syn_weight(s, BW_WME, 2);
  syn_weight(s, BW_WMD, 3);
  syn_weight(s, BW_WEG, 5);
  syn_weight(s, BW_WEM, 7);
  syn_weight(s, BW_WEE, 10);
  syn_weight(s, BW_WED, 9);
}

/* Draw every r in [0, total) once; count the picks per node index.
 * Returns the total the code drew from (0 on failure). */
static uint64_t
enumerate(const nodelist_t *nl, path_position_t pos,
          const path_constraints_t *c, unsigned *counts, size_t n)
{
  fixed_rng_t f = {0, 0, 0};
  path_rng_t rng = {fixed_below, &f};
  const node_t *out = NULL;
  memset(counts, 0, n * sizeof(*counts));
  if (path_choose_node(nl, pos, c, &rng, &out) != CHIVE_OK)
    return 0;
  uint64_t total = f.last_n;
  for (uint64_t r = 0; r < total; r++) {
    f.value = r;
    if (path_choose_node(nl, pos, c, &rng, &out) != CHIVE_OK ||
        f.last_n != total)
      return 0;
    counts[out->idx]++;
  }
  return total;
}

static void
test_exact_guard_weights(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  unsigned counts[N_MIXED];
  mixed_network(&s);
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  /* Guard position: Guard + Fast, not MiddleOnly.  g1 3*Wgg, g2 5*Wgg,
   * d1 7*Wgd, gbx 1*Wgg (BadExit counts as non-exit). */
  const unsigned want[N_MIXED] = {
      [N_G1] = 18, [N_G2] = 30, [N_D1] = 7, [N_GBX] = 6};
  T_EQ_UINT(enumerate(nl, PATH_POS_GUARD, &c, counts, N_MIXED), 61);
  for (size_t i = 0; i < N_MIXED; i++)
    T_EQ_UINT(counts[i], want[i]);
  T_EQ_UINT(path_node_weight(nl, nodelist_node(nl, N_D1), PATH_POS_GUARD), 7);
  T_EQ_UINT(path_weight_factor(nl, nodelist_node(nl, N_G2), PATH_POS_GUARD),
            6);
done:
  nodelist_free(nl);
}

static void
test_exact_middle_weights(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  unsigned counts[N_MIXED];
  mixed_network(&s);
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  /* Middle: every Fast usable relay.  Wmg=4 Wmm=10 Wme=2 Wmd=3; a BadExit
   * is "m" (bx) or "g" (gbx); MiddleOnly mo is "d". */
  const unsigned want[N_MIXED] = {
      [N_G1] = 12, [N_G2] = 20, [N_M1] = 40, [N_E1] = 12,
      [N_E2] = 4,  [N_D1] = 21, [N_BX] = 90, [N_GBX] = 4,
      [N_NF] = 0,  [N_MO] = 6,  [N_PM] = 30};
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, N_MIXED), 239);
  for (size_t i = 0; i < N_MIXED; i++)
    T_EQ_UINT(counts[i], want[i]);
  /* Without the Fast requirement nf joins as "g": 8*4 = 32 more. */
  c.need_flags = 0;
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, N_MIXED), 271);
  T_EQ_UINT(counts[N_NF], 32);
done:
  nodelist_free(nl);
}

static void
test_exact_exit_weights(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  unsigned counts[N_MIXED];
  mixed_network(&s);
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  uint16_t port = 443;
  c.ports = &port;
  c.n_ports = 1;
  /* Exit 443: e1 6*Wee, e2 2*Wee, d1 7*Wed, pm 3*Wem; never bx/gbx
   * (BadExit), mo (MiddleOnly), nf (not Fast), g1/g2/m1 (no policy). */
  const unsigned want[N_MIXED] = {
      [N_E1] = 60, [N_E2] = 20, [N_D1] = 63, [N_PM] = 21};
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 164);
  for (size_t i = 0; i < N_MIXED; i++)
    T_EQ_UINT(counts[i], want[i]);
  /* Port 22: only e2 (accept 1-65535). */
  port = 22;
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 20);
  T_EQ_UINT(counts[N_E2], 20);
  /* No port: any exit that allows something. */
  c.n_ports = 0;
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 164);
  /* Two ports, all required: 22 and 443 -> e2 only; any -> all four. */
  uint16_t two[2] = {22, 443};
  c.ports = two;
  c.n_ports = 2;
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 20);
  c.ports_any = true;
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 164);
  /* Requiring the Exit flag drops pm. */
  c.need_flags |= NS_FLAG_EXIT;
  T_EQ_UINT(enumerate(nl, PATH_POS_EXIT, &c, counts, N_MIXED), 143);
  T_EQ_UINT(counts[N_PM], 0);
done:
  nodelist_free(nl);
}

static void
test_no_weights_plain_bandwidth(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  unsigned counts[N_MIXED];
  mixed_network(&s);
  s.c.has_bw_weights = false;
  s.c.bw_weights.present = 0;
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  /* Every W = 1.0 = bwweightscale (10): weight = bandwidth * 10. */
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, N_MIXED), 420);
  for (size_t i = 0; i < N_MIXED; i++) {
    if (i == N_NF)
      T_EQ_UINT(counts[i], 0);
    else
      T_EQ_UINT(counts[i], s.rs[i].bandwidth * 10);
  }
  T_EQ_UINT(enumerate(nl, PATH_POS_GUARD, &c, counts, N_MIXED),
            (3 + 5 + 7 + 1) * 10);
  nodelist_free(nl);
  /* Missing or negative single weights default to 1.0 too. */
  mixed_network(&s);
  s.c.bw_weights.present &= ~(1u << BW_WGG);
  s.c.bw_weights.w[BW_WGD] = -5;
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(enumerate(nl, PATH_POS_GUARD, &c, counts, N_MIXED),
            3 * 10 + 5 * 10 + 7 * 10 + 1 * 10);
  nodelist_free(nl);
  /* Default bwweightscale (10000) when the param is absent. */
  mixed_network(&s);
  s.c.params.n = 0;
  s.c.has_bw_weights = false;
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(path_weight_factor(nl, nodelist_node(nl, N_M1), PATH_POS_MIDDLE),
            10000);
  T_EQ_UINT(path_node_weight(nl, nodelist_node(nl, N_M1), PATH_POS_MIDDLE),
            40000);
done:
  nodelist_free(nl);
}

static void
test_zero_total_uniform(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  for (int i = 0; i < 5; i++)
    syn_add(&s, "z", NS_FLAG_FAST, 0, 20, (uint8_t)i, 0, 1, SYN_P_NONE);
  syn_weights_all(&s, 10000);
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  fixed_rng_t f = {0, 0, 0};
  path_rng_t rng = {fixed_below, &f};
  for (uint64_t r = 0; r < 5; r++) {
    const node_t *out = NULL;
    f.value = r;
    T_OK(path_choose_middle(nl, &c, &rng, &out));
    T_EQ_UINT(f.last_n, 5); /* uniform over the 5 candidates */
    T_EQ_UINT(out->idx, r);
  }
  /* Weights all zero (e.g. Wme = 0 and only exits): uniform as well. */
  nodelist_free(nl);
  syn_init(&s, 0);
  for (int i = 0; i < 3; i++)
    syn_add(&s, "x", NS_FLAG_FAST | NS_FLAG_EXIT, 100, 20, (uint8_t)i, 0, 1,
            SYN_P_WEB);
  syn_weights_all(&s, 10000);
  syn_weight(&s, BW_WME, 0);
  T_OK(syn_build(&s, &nl));
  const node_t *out = NULL;
  f.value = 2;
  T_OK(path_choose_middle(nl, &c, &rng, &out));
  T_EQ_UINT(f.last_n, 3);
  T_EQ_UINT(out->idx, 2);
done:
  nodelist_free(nl);
}

static void
test_huge_weights_no_overflow(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  for (int i = 0; i < SYN_MAX; i++)
    syn_add(&s, "big", NS_FLAG_FAST, UINT32_MAX, 30, (uint8_t)i, 0, 1,
            SYN_P_NONE);
  syn_weights_all(&s, INT32_MAX);
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(path_node_weight(nl, nodelist_node(nl, 0), PATH_POS_MIDDLE),
            (uint64_t)UINT32_MAX * (uint64_t)INT32_MAX);
  path_constraints_t c;
  path_constraints_init(&c);
  fixed_rng_t f = {0, 0, 0};
  path_rng_t rng = {fixed_below, &f};
  const node_t *out = NULL;
  T_OK(path_choose_middle(nl, &c, &rng, &out));
  uint64_t total = f.last_n;
  T_ASSERT(total > 0 && total <= (UINT64_C(1) << 63));
  T_EQ_UINT(out->idx, 0);
  f.value = total - 1;
  T_OK(path_choose_middle(nl, &c, &rng, &out));
  T_EQ_UINT(out->idx, SYN_MAX - 1);
  /* Equal weights stay (nearly) equal after scaling down. */
  for (unsigned q = 1; q < 8; q++) {
    f.value = total / 8 * q;
    T_OK(path_choose_middle(nl, &c, &rng, &out));
    T_ASSERT(out->idx + 1 >= SYN_MAX / 8 * q && out->idx <= SYN_MAX / 8 * q);
  }
done:
  nodelist_free(nl);
}

static void
test_unusable_never_chosen(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  unsigned counts[8];
  syn_init(&s, 0);
  syn_weights_all(&s, 10000);
  size_t ok = syn_add(&s, "ok", NS_FLAG_FAST | NS_FLAG_GUARD | NS_FLAG_EXIT, 1,
                      40, 1, 0, 1, SYN_P_ALL);
  size_t nomd = syn_add(&s, "nomd", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 2, 0,
                        1, SYN_P_ALL);
  s.has_md[nomd] = false;
  size_t down = syn_add(&s, "down", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 3, 0,
                        1, SYN_P_ALL);
  s.rs[down].flags &= ~(uint32_t)NS_FLAG_RUNNING;
  size_t inval = syn_add(&s, "inval", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 4,
                         0, 1, SYN_P_ALL);
  s.rs[inval].flags &= ~(uint32_t)NS_FLAG_VALID;
  size_t old = syn_add(&s, "old", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 5, 0, 1,
                       SYN_P_ALL);
  s.rs[old].proto_idx = SYN_PR_OLD; /* Relay=1: no ntor */
  size_t nopr = syn_add(&s, "nopr", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 6, 0,
                        1, SYN_P_ALL);
  s.rs[nopr].proto_idx = NS_IDX_NONE;
  size_t v2 = syn_add(&s, "v2", NS_FLAG_FAST | NS_FLAG_GUARD, 1, 40, 7, 0, 1,
                      SYN_P_ALL);
  s.rs[v2].proto_idx = SYN_PR_NTOR; /* usable, but no ntor-v3 */
  T_OK(syn_build(&s, &nl));
  T_EQ_UINT(nodelist_size(nl), 7);
  T_EQ_UINT(nodelist_n_usable(nl), 2);
  T_EQ_UINT(nodelist_n_with_md(nl), 6);
  T_ASSERT(nodelist_node(nl, nomd)->md == NULL);
  path_constraints_t c;
  path_constraints_init(&c);
  for (int pos = PATH_POS_GUARD; pos <= PATH_POS_EXIT; pos++) {
    /* ok and v2 (v2 is a Guard whose policy allows everything, so it
     * is also an exit candidate of class "g"). */
    T_EQ_UINT(enumerate(nl, (path_position_t)pos, &c, counts, 7), 2 * 10000);
    T_EQ_UINT(counts[ok], 10000);
    T_EQ_UINT(counts[v2], 10000);
  }
  /* ntor-v3 required: only "ok". */
  c.need_nflags = NODE_F_NTOR_V3;
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, 7), 10000);
  T_EQ_UINT(counts[ok], 10000);
done:
  nodelist_free(nl);
}

static void
test_family_and_subnet(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  syn_weights_all(&s, 1); /* weight = bandwidth = 10 */
  size_t a = syn_add(&s, "a", NS_FLAG_FAST, 10, 50, 1, 0, 1, SYN_P_NONE);
  size_t b = syn_add(&s, "b", NS_FLAG_FAST, 10, 50, 2, 0, 1, SYN_P_NONE);
  size_t c1 = syn_add(&s, "c", NS_FLAG_FAST, 10, 50, 3, 0, 1, SYN_P_NONE);
  size_t d = syn_add(&s, "d", NS_FLAG_FAST, 10, 50, 1, 7, 7, SYN_P_NONE);
  size_t e = syn_add(&s, "e", NS_FLAG_FAST, 10, 50, 5, 0, 1, SYN_P_NONE);
  /* a <-> b mutual; a -> c one-way only. */
  syn_family_lists(&s, a, b);
  syn_family_lists(&s, b, a);
  syn_family_lists(&s, a, c1);
  syn_family_lists(&s, a, a); /* listing oneself is harmless */
  T_OK(syn_build(&s, &nl));
  const node_t *na = nodelist_node(nl, a), *nb = nodelist_node(nl, b);
  const node_t *nc = nodelist_node(nl, c1), *nd = nodelist_node(nl, d);
  const node_t *ne = nodelist_node(nl, e);
  T_ASSERT(nodes_in_same_family(na, nb) && nodes_in_same_family(nb, na));
  T_ASSERT(!nodes_in_same_family(na, nc) && !nodes_in_same_family(nc, na));
  T_ASSERT(node_lists_in_family(na, nc));
  T_ASSERT(!nodes_in_same_family(na, na));
  T_ASSERT(nodes_in_same_subnet16(na, nd));
  T_ASSERT(!nodes_in_same_subnet16(na, nb));

  path_constraints_t c;
  path_constraints_init(&c);
  const node_t *in_path[1] = {na};
  c.in_path = in_path;
  c.n_in_path = 1;
  /* With a in the path: a itself, b (family) and d (same /16) are out;
   * c (one-way listing) and e are in. */
  T_ASSERT(!path_node_ok(nl, na, PATH_POS_MIDDLE, &c));
  T_ASSERT(!path_node_ok(nl, nb, PATH_POS_MIDDLE, &c));
  T_ASSERT(path_node_ok(nl, nc, PATH_POS_MIDDLE, &c));
  T_ASSERT(!path_node_ok(nl, nd, PATH_POS_MIDDLE, &c));
  T_ASSERT(path_node_ok(nl, ne, PATH_POS_MIDDLE, &c));
  unsigned counts[5];
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, 5), 2 * 10);
  T_EQ_UINT(counts[c1], 10);
  T_EQ_UINT(counts[e], 10);
  /* EnforceDistinctSubnets 0: d comes back. */
  c.enforce_distinct_subnets = false;
  T_ASSERT(path_node_ok(nl, nd, PATH_POS_MIDDLE, &c));
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, 5), 3 * 10);
  T_EQ_UINT(counts[d], 10);
  /* Explicit exclusion. */
  const node_t *ex[1] = {ne};
  c.exclude = ex;
  c.n_exclude = 1;
  T_ASSERT(!path_node_ok(nl, ne, PATH_POS_MIDDLE, &c));
  T_EQ_UINT(enumerate(nl, PATH_POS_MIDDLE, &c, counts, 5), 2 * 10);
  T_EQ_UINT(counts[e], 0);
  /* A node from another nodelist is refused. */
  node_t fake = *na;
  fake.idx = 99;
  const node_t *bad[1] = {&fake};
  c.exclude = bad;
  const node_t *out = NULL;
  T_EQ_INT(path_choose_middle(nl, &c, NULL, &out), CHIVE_ERR_INVAL);
done:
  nodelist_free(nl);
}

/* A network of <b>n</b> relays: every third Guard, every fourth an Exit
 * allowing 80/443; addresses in distinct /16s unless <b>loopback</b>. */
static void
grid_network(syn_t *s, size_t n, bool loopback)
{
  syn_init(s, 0);
  syn_weights_all(s, 10000);
  for (size_t i = 0; i < n; i++) {
    uint32_t fl = NS_FLAG_FAST | ((i % 3 == 0) ? NS_FLAG_GUARD : 0) |
                  ((i % 4 == 1) ? NS_FLAG_EXIT : 0) |
                  ((i % 2) ? NS_FLAG_STABLE : 0);
    if (loopback)
      syn_add(s, "lo", fl, (uint32_t)(10 + i), 127, 0, 0, 1,
              (i % 4 == 1) ? SYN_P_WEB : SYN_P_NONE);
    else
      syn_add(s, "r", fl, (uint32_t)(10 + i), 60, (uint8_t)i, 0, 1,
              (i % 4 == 1) ? SYN_P_WEB : SYN_P_NONE);
  }
}

static void
test_path_choose_whole(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  grid_network(&s, 24, false);
  T_OK(syn_build(&s, &nl));
  path_request_t req;
  path_request_init(&req);
  uint16_t port = 443;
  req.ports = &port;
  req.n_ports = 1;
  const node_t *out[PATH_MAX_HOPS];
  char why[160];
  for (int it = 0; it < 300; it++) {
    T_OK(path_choose(nl, &req, NULL, out, PATH_MAX_HOPS, why, sizeof(why)));
    T_ASSERT(node_has_flags(out[0], NS_FLAG_GUARD | NS_FLAG_FAST));
    T_ASSERT(node_has_flags(out[2], NS_FLAG_EXIT));
    T_ASSERT(policy_summary_allows_port(microdesc_policy(out[2]->md), 443));
    T_ASSERT(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
  }
  /* Port 25: no relay allows it -> NOTFOUND with a reason. */
  port = 25;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "port 25") != NULL);
  T_ASSERT(strstr(why, "no usable exit") != NULL);
  /* Port 80 with Stable needed: exits 1,5,9.. are all odd -> Stable. */
  port = 80;
  req.need_stable = true;
  for (int it = 0; it < 100; it++) {
    T_OK(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)));
    for (int h = 0; h < 3; h++)
      T_ASSERT(node_has_flags(out[h], NS_FLAG_STABLE));
  }
  req.need_stable = false;
  /* Four hops, internal purpose. */
  req.hops = 4;
  req.purpose = PATH_PURPOSE_INTERNAL;
  for (int it = 0; it < 100; it++) {
    T_OK(path_choose(nl, &req, NULL, out, 4, why, sizeof(why)));
    for (int i = 0; i < 4; i++)
      for (int j = i + 1; j < 4; j++)
        T_ASSERT(out[i] != out[j] && !nodes_in_same_subnet16(out[i], out[j]));
  }
  /* A fixed guard: always out[0]; the exit avoids it. */
  req.hops = 3;
  req.purpose = PATH_PURPOSE_EXIT;
  req.guard = nodelist_node(nl, 9); /* a Guard and an Exit */
  for (int it = 0; it < 100; it++) {
    T_OK(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)));
    T_ASSERT(out[0] == req.guard && out[2] != req.guard);
  }
  /* Bad requests. */
  req.hops = 1;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_INVAL);
  req.hops = PATH_MAX_HOPS + 1;
  T_EQ_INT(
      path_choose(nl, &req, NULL, out, PATH_MAX_HOPS + 1, why, sizeof(why)),
      CHIVE_ERR_INVAL);
  req.hops = 3;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 2, NULL, 0), CHIVE_ERR_INVAL);
  const node_t *ex[1] = {req.guard};
  req.exclude = ex;
  req.n_exclude = 1;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_INVAL);
  T_ASSERT(strstr(why, "guard") != NULL);
done:
  nodelist_free(nl);
}

static void
test_loopback_network(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  grid_network(&s, 8, true); /* all 127.0.0.1, like the test network */
  T_OK(syn_build(&s, &nl));
  path_request_t req;
  path_request_init(&req);
  uint16_t port = 80;
  req.ports = &port;
  req.n_ports = 1;
  const node_t *out[3];
  char why[160];
  /* With distinct subnets enforced nothing fits after the exit. */
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "Guard") != NULL);
  req.enforce_distinct_subnets = false;
  for (int it = 0; it < 200; it++) {
    T_OK(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)));
    T_ASSERT(out[0] != out[1] && out[1] != out[2] && out[0] != out[2]);
    T_EQ_UINT(out[0]->ipv4, 0x7f000001u);
  }
done:
  nodelist_free(nl);
}

static void
test_exit_failure_reasons(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  syn_init(&s, 0);
  syn_weights_all(&s, 10000);
  syn_add(&s, "g", NS_FLAG_FAST | NS_FLAG_GUARD, 10, 70, 1, 0, 1, SYN_P_NONE);
  syn_add(&s, "m", NS_FLAG_FAST, 10, 70, 2, 0, 1, SYN_P_NONE);
  size_t slow =
      syn_add(&s, "slowexit", NS_FLAG_EXIT, 10, 70, 3, 0, 1, SYN_P_WEB);
  syn_add(&s, "bad", NS_FLAG_FAST | NS_FLAG_EXIT | NS_FLAG_BADEXIT, 10, 70, 4,
          0, 1, SYN_P_ALL);
  T_OK(syn_build(&s, &nl));
  path_request_t req;
  path_request_init(&req);
  uint16_t port = 443;
  req.ports = &port;
  req.n_ports = 1;
  const node_t *out[3];
  char why[200];
  /* The only exit for 443 lacks Fast; the BadExit is never used. */
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "required flags") != NULL);
  req.allow_slow = true;
  T_OK(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)));
  T_EQ_UINT(out[2]->idx, slow);
  /* Excluding it: "excluded". */
  const node_t *ex[1] = {nodelist_node(nl, slow)};
  req.exclude = ex;
  req.n_exclude = 1;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "excluded") != NULL);
  /* Port 22 (only the BadExit allows it). */
  req.n_exclude = 0;
  port = 22;
  T_EQ_INT(path_choose(nl, &req, NULL, out, 3, why, sizeof(why)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(why, "port 22") != NULL);
done:
  nodelist_free(nl);
}

static void
test_long_lived_ports(void)
{
  T_ASSERT(path_port_is_long_lived(22));
  T_ASSERT(path_port_is_long_lived(6667));
  T_ASSERT(path_port_is_long_lived(8300));
  T_ASSERT(!path_port_is_long_lived(80));
  T_ASSERT(!path_port_is_long_lived(443));
  T_ASSERT(!path_port_is_long_lived(0));
done:
  return;
}

static void
test_choose_oom_and_args(void)
{
  syn_t s;
  nodelist_t *nl = NULL;
  mixed_network(&s);
  T_OK(syn_build(&s, &nl));
  path_constraints_t c;
  path_constraints_init(&c);
  const node_t *out = NULL;
  chive_mem_fail_nth(1, false);
  T_EQ_INT(path_choose_middle(nl, &c, NULL, &out), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_ASSERT(out == NULL);
  T_EQ_INT(path_choose_node(nl, (path_position_t)7, &c, NULL, &out),
           CHIVE_ERR_INVAL);
  T_EQ_INT(path_choose_node(NULL, PATH_POS_GUARD, &c, NULL, &out),
           CHIVE_ERR_INVAL);
  c.n_ports = 1; /* ports NULL */
  T_EQ_INT(path_choose_exit(nl, &c, NULL, &out), CHIVE_ERR_INVAL);
  T_ASSERT(out == NULL);
  /* The real RNG works too. */
  c.n_ports = 0;
  T_OK(path_choose_exit(nl, &c, NULL, &out));
  T_ASSERT(out != NULL);
done:
  chive_mem_fail_nth(0, false);
  nodelist_free(nl);
}

static const t_case cases[] = {
    T_CASE(test_exact_guard_weights),
    T_CASE(test_exact_middle_weights),
    T_CASE(test_exact_exit_weights),
    T_CASE(test_no_weights_plain_bandwidth),
    T_CASE(test_zero_total_uniform),
    T_CASE(test_huge_weights_no_overflow),
    T_CASE(test_unusable_never_chosen),
    T_CASE(test_family_and_subnet),
    T_CASE(test_path_choose_whole),
    T_CASE(test_loopback_network),
    T_CASE(test_exit_failure_reasons),
    T_CASE(test_long_lived_ports),
    T_CASE(test_choose_oom_and_args),
    T_END,
};

T_MAIN(cases)
