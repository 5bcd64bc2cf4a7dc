/* Unit tests for feature/nodes/guards: sampling, filtering, primary and
 * confirmed guards, selection, circuit states and retry schedules
 * (guard-spec §4), on a fake clock with a deterministic RNG. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "feature/nodes/guards.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "lib/time/clock.h"
#include "tinytest.h"

#define T0 ((int64_t)1700000000)
#define MIN ((int64_t)60)
#define HOUR ((int64_t)3600)
#define DAY ((int64_t)86400)
#define MAXC 600

static guard_candidate_t cands[MAXC];

/** n possible guards: identities 01.., weight 1000, distinct /16s. */
static void
mk_cands(size_t n)
{
  for (size_t i = 0; i < n; i++) {
    guard_candidate_t *c = &cands[i];
    memset(c, 0, sizeof(*c));
    memset(c->rsa_id, 0, sizeof(c->rsa_id));
    c->rsa_id[0] = (uint8_t)(i >> 8);
    c->rsa_id[1] = (uint8_t)i;
    c->rsa_id[19] = 0xaa;
    memset(c->ed_id, (int)(i & 0xff), sizeof(c->ed_id));
    c->has_ed = true;
    snprintf(c->nickname, sizeof(c->nickname), "relay%u",
             (unsigned)(i & 0xffff));
    c->weight = 1000;
    c->is_guard_flag = c->is_running = c->is_valid = true;
    c->is_fast = c->is_stable = c->is_v2dir = true;
    c->ipv4 = (10u << 24) + ((uint32_t)i << 16) + 1u;
    c->port = 9001;
  }
}

static void
seed_rng(uint8_t b)
{
  uint8_t s[32];
  memset(s, b, sizeof(s));
  crypto_rand_testing_set_deterministic(s);
}

static guards_t *
mk_guards(const guards_config_t *cfg, size_t n, int64_t now)
{
  guards_config_t d;
  guards_t *g = NULL;
  if (!cfg) {
    guards_config_defaults(&d);
    cfg = &d;
  }
  if (guards_new(cfg, &g) != CHIVE_OK)
    return NULL;
  if (guards_update_consensus(g, cands, n, now) != CHIVE_OK)
    guards_free(g);
  return g;
}

/** Index of candidate whose identity is <b>id</b>. */
static int
cand_idx(const uint8_t *id)
{
  return (int)(((unsigned)id[0] << 8) | id[1]);
}

/** Position of <b>id</b> in the sample, -1 if absent. */
static int
sample_pos(const guards_t *g, const uint8_t *id)
{
  static guard_info_t info[1024];
  size_t n = guards_list(g, info, 1024);
  for (size_t i = 0; i < n && i < 1024; i++) {
    if (memcmp(info[i].rsa_id, id, GUARD_RSA_ID_LEN) == 0)
      return (int)i;
  }
  return -1;
}

static guard_info_t *
info_of(const guards_t *g, const uint8_t *id)
{
  static guard_info_t info[1024];
  size_t n = guards_list(g, info, 1024);
  for (size_t i = 0; i < n && i < 1024; i++) {
    if (memcmp(info[i].rsa_id, id, GUARD_RSA_ID_LEN) == 0)
      return &info[i];
  }
  return NULL;
}

/** Select, report the outcome, free; return the final state and the
 * picked guard in *pick. */
static guard_circ_state_t
run_circ(guards_t *g, int64_t now, bool ok, guard_pick_t *pick)
{
  guard_circ_t *c = NULL;
  guard_circ_state_t st = GUARD_CIRC_DEAD;
  if (guards_select(g, now, NULL, pick, &c) != CHIVE_OK)
    return GUARD_CIRC_DEAD;
  if (ok)
    st = guards_circuit_succeeded(g, c, now);
  else
    guards_circuit_failed(g, c, now);
  guard_circ_free(c);
  return st;
}

static void
test_sample_flags(void)
{
  guards_t *g = NULL;
  seed_rng(1);
  mk_cands(40);
  /* Ten heavy relays that are not possible guards (guard-spec §4.0). */
  for (size_t i = 0; i < 10; i++) {
    cands[i].weight = 1000000;
    if (i < 5)
      cands[i].is_guard_flag = false;
    else if (i < 7)
      cands[i].is_v2dir = false;
    else if (i < 8)
      cands[i].is_stable = false;
    else if (i < 9)
      cands[i].is_fast = false;
    else
      cands[i].is_valid = false;
  }
  g = mk_guards(NULL, 40, T0);
  T_ASSERT(g);
  guards_counts_t ct;
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_candidates, 30);
  /* 20% of 30 is 6 < MIN_FILTERED_SAMPLE, so the cap is 20. */
  T_EQ_UINT(ct.n_sampled, 20);
  T_EQ_UINT(ct.n_filtered, 20);
  T_EQ_UINT(ct.n_usable_filtered, 20);
  T_EQ_UINT(ct.n_primary, 3);
  T_EQ_UINT(ct.n_confirmed, 0);
  guard_info_t info[64];
  size_t n = guards_list(g, info, 64);
  T_EQ_UINT(n, 20);
  for (size_t i = 0; i < n; i++) {
    T_ASSERT(cand_idx(info[i].rsa_id) >= 10);
    /* ADDED_ON_DATE = RAND(now, GUARD_LIFETIME/10) */
    T_ASSERT(info[i].sampled_on <= T0 && info[i].sampled_on > T0 - 12 * DAY);
    T_ASSERT(info[i].is_listed && info[i].confirmed_idx == -1);
    T_EQ_INT(info[i].primary_idx, i < 3 ? (int)i : -1);
  }
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_sample_weights(void)
{
  guards_config_t cfg;
  guards_t *g = NULL;
  int heavy = 0, zero = 0;
  seed_rng(2);
  guards_config_defaults(&cfg);
  cfg.min_filtered_sample = 1; /* one guard per sample */
  mk_cands(12);
  cands[3].weight = 9000; /* 9000 of 19000 */
  cands[7].weight = 0;    /* never, while others weigh something */
  for (int i = 0; i < 400; i++) {
    g = mk_guards(&cfg, 12, T0);
    T_ASSERT(g);
    guard_info_t info[4];
    T_EQ_UINT(guards_list(g, info, 4), 1);
    int k = cand_idx(info[0].rsa_id);
    heavy += k == 3;
    zero += k == 7;
    guards_free(g);
  }
  /* Expected 400 * 9/19 = 189.5; sd ~10. */
  T_ASSERT(heavy > 150 && heavy < 230);
  T_EQ_INT(zero, 0);
  /* All weights zero: uniform (path-spec: fall back to counting). */
  for (size_t i = 0; i < 12; i++)
    cands[i].weight = 0;
  int seen[12] = {0};
  for (int i = 0; i < 240; i++) {
    g = mk_guards(&cfg, 12, T0);
    T_ASSERT(g);
    guard_info_t info[4];
    T_EQ_UINT(guards_list(g, info, 4), 1);
    seen[cand_idx(info[0].rsa_id)]++;
    guards_free(g);
  }
  for (int i = 0; i < 12; i++)
    T_ASSERT(seen[i] > 3);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static bool
only_even(const guard_candidate_t *c, void *arg)
{
  (void)arg;
  return (c->rsa_id[1] & 1) == 0 && c->rsa_id[0] == 0 && c->rsa_id[1] < 40;
}

static void
test_sample_limits(void)
{
  guards_config_t cfg;
  guards_t *g = NULL;
  seed_rng(3);
  mk_cands(500);
  g = mk_guards(NULL, 200, T0);
  T_ASSERT(g);
  guards_counts_t ct;
  guards_counts(g, &ct);
  /* Enough usable filtered guards after MIN_FILTERED_SAMPLE draws. */
  T_EQ_UINT(ct.n_sampled, 20);
  guards_free(g);
  /* A filter that leaves 20 usable relays among 500: the sample grows to
   * MAX_SAMPLE_SIZE (60 < 20% of 500) and stops. */
  guards_config_defaults(&cfg);
  cfg.filter = only_even;
  g = mk_guards(&cfg, 500, T0);
  T_ASSERT(g);
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 60);
  T_ASSERT(ct.n_filtered < 20);
  T_EQ_UINT(ct.n_filtered, ct.n_usable_filtered);
  guards_free(g);
  /* With 200 relays, MAX_SAMPLE_THRESHOLD (20% = 40) is the cap. */
  g = mk_guards(&cfg, 200, T0);
  T_ASSERT(g);
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 40);
  /* Parameters move the cap. */
  T_OK(guards_set_param(g, "guard-max-sample-threshold-percent", 30));
  T_OK(guards_update_consensus(g, cands, 200, T0 + 10));
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 60);
  T_EQ_INT(guards_set_param(g, "no-such-param", 1), CHIVE_ERR_NOTFOUND);
  /* Too many candidates is refused, state unchanged. */
  T_EQ_INT(guards_update_consensus(g, cands, GUARDS_MAX_CANDIDATES + 1, T0),
           CHIVE_ERR_LIMIT);
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 60);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_primary_order(void)
{
  guards_t *g = NULL;
  guard_pick_t pick;
  seed_rng(4);
  mk_cands(12);
  int64_t now = T0;
  g = mk_guards(NULL, 12, now);
  T_ASSERT(g);
  guard_info_t info[16];
  T_EQ_UINT(guards_list(g, info, 16), 12);
  uint8_t prim[8][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 8), 3);
  /* Unconfirmed primaries are the first filtered guards in sample order. */
  for (int i = 0; i < 3; i++)
    T_EQ_MEM(prim[i], info[i].rsa_id, GUARD_RSA_ID_LEN);
  /* Selection uses the first primary guard, usable on completion. */
  for (int i = 0; i < 5; i++) {
    guard_circ_t *c = NULL;
    T_OK(guards_select(g, now, NULL, &pick, &c));
    T_EQ_MEM(pick.rsa_id, info[0].rsa_id, GUARD_RSA_ID_LEN);
    T_EQ_INT(pick.state, GUARD_CIRC_USABLE_ON_COMPLETION);
    T_ASSERT(pick.is_primary);
    T_EQ_UINT(pick.port, 9001);
    T_EQ_UINT(pick.ipv4, cands[cand_idx(pick.rsa_id)].ipv4);
    T_ASSERT(pick.has_ed);
    guards_circuit_cancel(g, c);
    guard_circ_free(c);
  }
  /* All three primaries down: the next guard in sample order is tried
   * (pending, usable if no better guard). */
  for (int i = 0; i < 3; i++)
    guards_mark_unreachable(g, info[i].rsa_id, now);
  guard_circ_t *c = NULL;
  T_OK(guards_select(g, now, NULL, &pick, &c));
  T_EQ_MEM(pick.rsa_id, info[3].rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_INT(pick.state, GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD);
  T_ASSERT(!pick.is_primary);
  T_ASSERT(info_of(g, info[3].rsa_id)->is_pending);
  /* It works: it is confirmed, so it becomes the first primary (confirmed
   * guards come before unconfirmed ones) and the circuit is complete. */
  T_EQ_INT(guards_circuit_succeeded(g, c, now + 2), GUARD_CIRC_COMPLETE);
  guard_circ_free(c);
  T_EQ_UINT(guards_primary_ids(g, prim, 8), 3);
  T_EQ_MEM(prim[0], info[3].rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_MEM(prim[1], info[0].rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_MEM(prim[2], info[1].rsa_id, GUARD_RSA_ID_LEN);
  guard_info_t *gi = info_of(g, info[3].rsa_id);
  T_EQ_INT(gi->confirmed_idx, 0);
  T_ASSERT(!gi->is_pending && gi->reachable == GUARD_REACHABLE_YES);
  T_ASSERT(gi->confirmed_on <= now + 2 && gi->confirmed_on >= gi->sampled_on);
  T_ASSERT(guards_is_dirty(g));
  T_EQ_STR(guards_status_word(g, info[3].rsa_id), "up");
  T_EQ_STR(guards_status_word(g, info[0].rsa_id), "down");
  T_EQ_STR(guards_status_word(g, info[5].rsa_id), "never-connected");
  T_ASSERT(guards_status_word(g, (const uint8_t *)"xxxxxxxxxxxxxxxxxxxx") ==
           NULL);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

/* The scenario of the brief: 12 candidate guards, the first primary dies,
 * selection moves on and keeps working, the dead one is retried after
 * the primary retry interval and preferred again when it is back. */
static void
test_scenario_failover_and_retry(void)
{
  guards_t *g = NULL;
  guard_pick_t pick;
  fakeclock_t fc;
  seed_rng(5);
  mk_cands(12);
  fakeclock_init(&fc, 0, T0);
  const chive_clock_t *clk = fakeclock_clock(&fc);
  g = mk_guards(NULL, 12, clock_wall_s(clk));
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 3), 3);
  /* First circuit through P0 works: P0 is confirmed. */
  T_EQ_INT(run_circ(g, clock_wall_s(clk), true, &pick), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  /* Kill P0: its next circuit fails. */
  fakeclock_advance_ms(&fc, 30000);
  int64_t t_fail = clock_wall_s(clk);
  T_EQ_INT(run_circ(g, t_fail, false, &pick), GUARD_CIRC_DEAD);
  T_EQ_MEM(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_NO);
  T_EQ_INT(info_of(g, prim[0])->failing_since, t_fail);
  /* Selection moves to the next primary and keeps working. */
  for (int i = 0; i < 9; i++) {
    fakeclock_advance_ms(&fc, 60000);
    T_EQ_INT(run_circ(g, clock_wall_s(clk), true, &pick), GUARD_CIRC_COMPLETE);
    T_EQ_MEM(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN);
    T_ASSERT(pick.is_primary);
  }
  /* 9.5 minutes after the failure: not yet retried. */
  T_ASSERT(clock_wall_s(clk) < t_fail + 10 * MIN);
  T_EQ_INT(run_circ(g, clock_wall_s(clk), true, &pick), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN);
  /* At 10 minutes (PRIMARY_GUARDS_RETRY_SCHED) P0 is tried again... */
  fakeclock_set_wall(&fc, t_fail + 10 * MIN);
  guard_circ_t *c = NULL;
  T_OK(guards_select(g, clock_wall_s(clk), NULL, &pick, &c));
  T_EQ_MEM(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  T_EQ_INT(pick.state, GUARD_CIRC_USABLE_ON_COMPLETION);
  /* ...and it is back: preferred again from now on. */
  T_EQ_INT(guards_circuit_succeeded(g, c, clock_wall_s(clk)),
           GUARD_CIRC_COMPLETE);
  guard_circ_free(c);
  T_EQ_INT(info_of(g, prim[0])->failing_since, 0);
  for (int i = 0; i < 3; i++) {
    fakeclock_advance_ms(&fc, 1000);
    T_EQ_INT(run_circ(g, clock_wall_s(clk), true, &pick), GUARD_CIRC_COMPLETE);
    T_EQ_MEM(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  }
  /* Confirmed order: P0 then P1. */
  T_EQ_INT(info_of(g, prim[0])->confirmed_idx, 0);
  T_EQ_INT(info_of(g, prim[1])->confirmed_idx, 1);
  /* If P0 stays dead, it is retried every 10 minutes for six hours, then
   * every 90 minutes. */
  int64_t t = clock_wall_s(clk);
  T_EQ_INT(run_circ(g, t, false, &pick), GUARD_CIRC_DEAD);
  int64_t t_fail2 = t;
  int retries = 0, late_retries = 0;
  for (int64_t s = t + MIN; s < t_fail2 + 9 * HOUR; s += MIN) {
    guard_circ_t *cc = NULL;
    T_OK(guards_select(g, s, NULL, &pick, &cc));
    if (memcmp(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN) == 0) {
      if (s < t_fail2 + 6 * HOUR)
        retries++;
      else
        late_retries++;
      guards_circuit_failed(g, cc, s); /* still dead */
    } else {
      T_EQ_MEM(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN);
      T_EQ_INT(guards_circuit_succeeded(g, cc, s), GUARD_CIRC_COMPLETE);
    }
    guard_circ_free(cc);
  }
  T_EQ_INT(info_of(g, prim[0])->failing_since, t_fail2);
  /* Every 10 minutes for 6 h (35 retries after the first failure), then
   * every 90 minutes: at 7 h 20 min and 8 h 50 min. */
  T_EQ_INT(retries, 35);
  T_EQ_INT(late_retries, 2);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_retry_schedules(void)
{
  guards_t *g = NULL;
  seed_rng(6);
  mk_cands(12);
  g = mk_guards(NULL, 12, T0);
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 3), 3);
  guard_info_t info[16];
  T_EQ_UINT(guards_list(g, info, 16), 12);
  const uint8_t *np = info[6].rsa_id; /* not primary */
  T_ASSERT(info[6].primary_idx < 0);
  guards_mark_unreachable(g, prim[0], T0);
  guards_mark_unreachable(g, np, T0);
  /* guards_upgrade_waiting() with no circuits applies the retry rules. */
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, T0 + 10 * MIN - 1), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, T0 + 10 * MIN), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_MAYBE);
  /* GUARDS_RETRY_SCHED: one hour for a non-primary guard. */
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, T0 + HOUR - 1), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, T0 + HOUR), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_MAYBE);
  /* Failing for over 6 hours: every 90 minutes (primary), 4 hours
   * (other).  failing_since stays at the first failure. */
  int64_t t = T0 + 7 * HOUR;
  guards_mark_unreachable(g, prim[0], t);
  guards_mark_unreachable(g, np, t);
  T_EQ_INT(info_of(g, prim[0])->failing_since, T0);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 89 * MIN), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 90 * MIN), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_MAYBE);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 4 * HOUR - 1), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 4 * HOUR), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_MAYBE);
  /* Failing for 5 days: 4 h / 18 h.  For 8 days: 9 h / 36 h. */
  t = T0 + 5 * DAY;
  guards_mark_unreachable(g, prim[0], t);
  guards_mark_unreachable(g, np, t);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 4 * HOUR - 1), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 4 * HOUR), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_MAYBE);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 18 * HOUR - 1), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 18 * HOUR), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_MAYBE);
  t = T0 + 8 * DAY;
  guards_mark_unreachable(g, prim[0], t);
  guards_mark_unreachable(g, np, t);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 9 * HOUR - 1), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 9 * HOUR), 0);
  T_EQ_INT(info_of(g, prim[0])->reachable, GUARD_REACHABLE_MAYBE);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 36 * HOUR - 1), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_NO);
  T_EQ_UINT(guards_upgrade_waiting(g, NULL, 0, t + 36 * HOUR), 0);
  T_EQ_INT(info_of(g, np)->reachable, GUARD_REACHABLE_MAYBE);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

/** Confirm the three primaries in order, then leave them all down. */
static bool
confirm_primaries_then_kill(guards_t *g, int64_t now,
                            uint8_t prim[3][GUARD_RSA_ID_LEN])
{
  guard_pick_t pick;
  if (guards_primary_ids(g, prim, 3) != 3)
    return false;
  for (int i = 0; i < 3; i++) {
    if (run_circ(g, now, true, &pick) != GUARD_CIRC_COMPLETE ||
        memcmp(pick.rsa_id, prim[i], GUARD_RSA_ID_LEN) != 0)
      return false;
    guards_mark_unreachable(g, prim[i], now);
  }
  return true;
}

static void
test_usable_if_no_better(void)
{
  guards_t *g = NULL;
  guard_circ_t *c3 = NULL, *c4 = NULL, *cp = NULL;
  guard_pick_t p3, p4, pp;
  seed_rng(7);
  mk_cands(12);
  int64_t now = T0;
  g = mk_guards(NULL, 12, now);
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_ASSERT(confirm_primaries_then_kill(g, now, prim));
  /* Every primary guard is down: exploratory circuits through the next
   * guards in sample order, one per guard (is_pending). */
  T_OK(guards_select(g, now, NULL, &p3, &c3));
  T_EQ_INT(p3.state, GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD);
  T_OK(guards_select(g, now, NULL, &p4, &c4));
  T_EQ_INT(p4.state, GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD);
  T_ASSERT(memcmp(p3.rsa_id, p4.rsa_id, GUARD_RSA_ID_LEN) != 0);
  T_ASSERT(sample_pos(g, p3.rsa_id) < sample_pos(g, p4.rsa_id));
  /* Ten minutes on, the first primary is due for a retry.  The circuit
   * through the non-primary guard is built meanwhile: it is held. */
  now += 10 * MIN;
  guards_note_internet_activity(g, now);
  T_EQ_INT(guards_circuit_succeeded(g, c3, now),
           GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  T_EQ_INT(guard_circ_state(c3), GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  guard_circ_t *all[3] = {c3, c4, NULL};
  T_EQ_UINT(guards_upgrade_waiting(g, all, 2, now), 0);
  T_EQ_INT(guard_circ_state(c3), GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  /* The retried primary is picked (usable on completion)... */
  T_OK(guards_select(g, now, NULL, &pp, &cp));
  T_EQ_MEM(pp.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  T_EQ_INT(pp.state, GUARD_CIRC_USABLE_ON_COMPLETION);
  /* ...and fails again, as do the other two primaries (also due): every
   * primary is known down, nothing better is in progress, so the waiting
   * circuit may be used. */
  guards_circuit_failed(g, cp, now + 1);
  guards_mark_unreachable(g, prim[1], now + 1);
  guards_mark_unreachable(g, prim[2], now + 1);
  all[2] = cp;
  T_EQ_UINT(guards_upgrade_waiting(g, all, 3, now + 1), 1);
  T_EQ_INT(guard_circ_state(c3), GUARD_CIRC_COMPLETE);
  T_EQ_INT(guard_circ_state(cp), GUARD_CIRC_DEAD);
  /* c4 is still building; its guard is now lower priority than c3's
   * (confirmed).  When it succeeds it waits, and c3 (complete, higher
   * priority) blocks it. */
  T_EQ_INT(guards_circuit_succeeded(g, c4, now + 2),
           GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  T_EQ_UINT(guards_upgrade_waiting(g, all, 3, now + 3), 0);
  T_EQ_INT(guard_circ_state(c4), GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  /* NONPRIMARY_GUARD_IDLE_TIMEOUT: it gets closed eventually. */
  T_ASSERT(!guards_circ_is_expired(g, c4, now + 2 + 600));
  T_ASSERT(guards_circ_is_expired(g, c4, now + 2 + 601));
  /* Without c3, c4 is released. */
  all[0] = NULL;
  T_EQ_UINT(guards_upgrade_waiting(g, all, 3, now + 4), 1);
  T_EQ_INT(guard_circ_state(c4), GUARD_CIRC_COMPLETE);
done:
  guard_circ_free(c3);
  guard_circ_free(c4);
  guard_circ_free(cp);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_blocking_pending(void)
{
  guards_t *g = NULL;
  guard_circ_t *c3 = NULL, *c4 = NULL;
  guard_pick_t p3, p4;
  seed_rng(8);
  mk_cands(12);
  int64_t now = T0;
  g = mk_guards(NULL, 12, now);
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_ASSERT(confirm_primaries_then_kill(g, now, prim));
  guards_note_internet_activity(g, now);
  /* Confirm two more guards, G3 then G4. */
  T_OK(guards_select(g, now, NULL, &p3, &c3));
  T_OK(guards_select(g, now, NULL, &p4, &c4));
  T_EQ_INT(guards_circuit_succeeded(g, c3, now),
           GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  T_EQ_INT(guards_circuit_succeeded(g, c4, now),
           GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  guard_circ_free(c3);
  guard_circ_free(c4);
  T_EQ_INT(info_of(g, p3.rsa_id)->confirmed_idx, 3);
  T_EQ_INT(info_of(g, p4.rsa_id)->confirmed_idx, 4);
  /* Primaries still down: the confirmed guards are tried in order, one
   * pending circuit each. */
  now += 60;
  guard_pick_t q3, q4;
  T_OK(guards_select(g, now, NULL, &q3, &c3));
  T_OK(guards_select(g, now, NULL, &q4, &c4));
  T_EQ_MEM(q3.rsa_id, p3.rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_MEM(q4.rsa_id, p4.rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_INT(q3.state, GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD);
  /* The lower-priority one answers first.  The higher-priority circuit
   * is still in progress: for NONPRIMARY_GUARD_CONNECT_TIMEOUT (15 s) it
   * blocks. */
  T_EQ_INT(guards_circuit_succeeded(g, c4, now + 3),
           GUARD_CIRC_WAITING_FOR_BETTER_GUARD);
  guard_circ_t *all[2] = {c3, c4};
  T_EQ_UINT(guards_upgrade_waiting(g, all, 2, now + 10), 0);
  T_EQ_UINT(guards_upgrade_waiting(g, all, 2, now + 15), 0);
  T_EQ_UINT(guards_upgrade_waiting(g, all, 2, now + 16), 1);
  T_EQ_INT(guard_circ_state(c4), GUARD_CIRC_COMPLETE);
  /* The pending guard's circuit closes for another reason. */
  T_ASSERT(info_of(g, p3.rsa_id)->is_pending);
  guards_circuit_cancel(g, c3);
  T_ASSERT(!info_of(g, p3.rsa_id)->is_pending);
  T_EQ_INT(guard_circ_state(c3), GUARD_CIRC_DEAD);
  /* Outcomes reported on a dead circuit change nothing. */
  T_EQ_INT(guards_circuit_succeeded(g, c3, now + 20), GUARD_CIRC_DEAD);
  T_EQ_INT(info_of(g, p3.rsa_id)->reachable, GUARD_REACHABLE_YES);
done:
  guard_circ_free(c3);
  guard_circ_free(c4);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_restrictions(void)
{
  guards_t *g = NULL;
  guard_circ_t *c = NULL;
  guard_pick_t pick;
  seed_rng(9);
  mk_cands(12);
  g = mk_guards(NULL, 12, T0);
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 3), 3);
  /* The exit is P0: the guard must be another primary. */
  guard_restriction_t r = {GUARD_USAGE_TRAFFIC, (const uint8_t(*)[20])prim, 1,
                           0};
  T_OK(guards_select(g, T0, &r, &pick, &c));
  T_EQ_MEM(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN);
  T_EQ_INT(pick.state, GUARD_CIRC_USABLE_ON_COMPLETION);
  guards_circuit_cancel(g, c);
  guard_circ_free(c);
  /* Same /16 as P1 too. */
  r.excluded_ipv4 = cands[cand_idx(prim[1])].ipv4 ^ 0xff;
  T_OK(guards_select(g, T0, &r, &pick, &c));
  T_EQ_MEM(pick.rsa_id, prim[2], GUARD_RSA_ID_LEN);
  guards_circuit_cancel(g, c);
  guard_circ_free(c);
  /* Directory usage spreads over the first three primaries. */
  int seen[3] = {0, 0, 0};
  guard_restriction_t rd = {GUARD_USAGE_DIR, NULL, 0, 0};
  for (int i = 0; i < 60; i++) {
    T_OK(guards_select(g, T0, &rd, &pick, &c));
    for (int k = 0; k < 3; k++)
      seen[k] += memcmp(pick.rsa_id, prim[k], GUARD_RSA_ID_LEN) == 0;
    guards_circuit_cancel(g, c);
    guard_circ_free(c);
  }
  T_EQ_INT(seen[0] + seen[1] + seen[2], 60);
  T_ASSERT(seen[0] > 5 && seen[1] > 5 && seen[2] > 5);
  /* Too many exclusions is a caller error. */
  r.n_excluded_ids = GUARD_RESTRICTION_MAX_IDS + 1;
  T_EQ_INT(guards_select(g, T0, &r, &pick, &c), CHIVE_ERR_INVAL);
  T_ASSERT(c == NULL);
done:
  guard_circ_free(c);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_unlisted_and_lifetime(void)
{
  guards_t *g = NULL;
  guard_pick_t pick;
  seed_rng(10);
  mk_cands(12);
  g = mk_guards(NULL, 12, T0);
  T_ASSERT(g);
  uint8_t prim[3][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 3), 3);
  int gone = cand_idx(prim[0]);
  guard_candidate_t saved = cands[gone];
  /* Drop P0 from the consensus (swap the last candidate in). */
  cands[gone] = cands[11];
  int64_t t = T0 + DAY;
  T_OK(guards_update_consensus(g, cands, 11, t));
  guard_info_t *gi = info_of(g, prim[0]);
  T_ASSERT(gi && !gi->is_listed && !gi->is_filtered);
  /* FIRST_UNLISTED_AT = RAND(now, REMOVE_UNLISTED_GUARDS_AFTER / 5) */
  T_ASSERT(gi->unlisted_since <= t && gi->unlisted_since > t - 4 * DAY);
  int64_t unl = gi->unlisted_since;
  uint8_t p2[3][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, p2, 3), 3);
  T_EQ_MEM(p2[0], prim[1], GUARD_RSA_ID_LEN);
  T_EQ_MEM(p2[1], prim[2], GUARD_RSA_ID_LEN);
  T_EQ_INT(run_circ(g, t, true, &pick), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN);
  /* Still sampled just before REMOVE_UNLISTED_GUARDS_AFTER... */
  T_OK(guards_update_consensus(g, cands, 11, unl + 20 * DAY));
  T_ASSERT(sample_pos(g, prim[0]) >= 0);
  /* ...removed after it. */
  T_OK(guards_update_consensus(g, cands, 11, unl + 20 * DAY + 1));
  T_ASSERT(sample_pos(g, prim[0]) < 0);
  guards_counts_t ct;
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 11);
  /* It comes back: it can be sampled again, as a new guard. */
  cands[11] = saved;
  T_OK(guards_update_consensus(g, cands, 12, unl + 21 * DAY));
  T_ASSERT(sample_pos(g, prim[0]) == 11);
  T_ASSERT(info_of(g, prim[0])->sampled_on > unl + 9 * DAY);
  /* GUARD_LIFETIME: unconfirmed guards sampled over 120 days ago are
   * removed (and the sample is redrawn); P1, confirmed on day 1, goes
   * once its confirmation is also older than 60 days. */
  int64_t t2 = T0 + 121 * DAY;
  T_OK(guards_update_consensus(g, cands, 12, t2));
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 12);
  guard_info_t info[16];
  T_EQ_UINT(guards_list(g, info, 16), 12);
  for (size_t i = 0; i < 12; i++) {
    if (memcmp(info[i].rsa_id, prim[0], GUARD_RSA_ID_LEN) == 0)
      T_ASSERT(info[i].sampled_on > unl + 9 * DAY);
    else
      T_ASSERT(info[i].sampled_on > t2 - 12 * DAY);
    T_EQ_INT(info[i].confirmed_idx, -1);
  }
  /* A guard confirmed recently survives its sampling lifetime. */
  T_EQ_INT(run_circ(g, t2, true, &pick), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN);
  T_OK(guards_update_consensus(g, cands, 12, t2 + 45 * DAY));
  gi = info_of(g, pick.rsa_id);
  T_ASSERT(gi && gi->confirmed_idx == 0 && gi->sampled_on < T0 + 30 * DAY);
  /* Confirmed over 60 days ago and sampled over 120: removed (and, being
   * listed, sampled afresh). */
  T_OK(guards_update_consensus(g, cands, 12, t2 + 75 * DAY));
  gi = info_of(g, pick.rsa_id);
  T_ASSERT(gi && gi->confirmed_idx == -1);
  T_ASSERT(gi->sampled_on > t2 + 63 * DAY);
done:
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_drop_and_edge_cases(void)
{
  guards_t *g = NULL;
  guard_circ_t *c = NULL;
  guard_pick_t pick;
  guards_config_t cfg;
  seed_rng(11);
  mk_cands(12);
  /* No consensus yet: nothing to select. */
  guards_config_defaults(&cfg);
  T_OK(guards_new(&cfg, &g));
  T_EQ_INT(guards_select(g, T0, NULL, &pick, &c), CHIVE_ERR_NOTFOUND);
  T_ASSERT(c == NULL);
  T_OK(guards_update_consensus(g, cands, 12, T0));
  /* DROPGUARDS forgets everything; the next selection resamples. */
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  guard_circ_t *old = NULL;
  T_OK(guards_select(g, T0, NULL, &pick, &old));
  guards_drop_all(g);
  guards_counts_t ct;
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled + ct.n_confirmed + ct.n_primary, 0);
  T_ASSERT(guards_is_dirty(g));
  T_OK(guards_select(g, T0, NULL, &pick, &c));
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 12);
  T_EQ_UINT(ct.n_confirmed, 0);
  /* A circuit from before the drop refers to a forgotten sampling of its
   * guard (even though the same relay is sampled again): ignored. */
  T_EQ_INT(guards_circuit_succeeded(g, old, T0), GUARD_CIRC_DEAD);
  guard_circ_free(old);
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_confirmed, 0);
  T_EQ_INT(guards_circuit_succeeded(g, c, T0), GUARD_CIRC_COMPLETE);
  guard_circ_free(c);
  /* Every guard down: all are marked maybe and selection goes on. */
  guard_info_t info[16];
  T_EQ_UINT(guards_list(g, info, 16), 12);
  for (size_t i = 0; i < 12; i++)
    guards_mark_unreachable(g, info[i].rsa_id, T0 + 1);
  T_OK(guards_select(g, T0 + 2, NULL, &pick, &c));
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_unreachable, 0);
  guards_circuit_cancel(g, c);
  guard_circ_free(c);
  /* Everything filtered out: no guard. */
  for (size_t i = 0; i < 12; i++)
    cands[i].is_running = false;
  T_OK(guards_update_consensus(g, cands, 12, T0 + 3));
  T_EQ_INT(guards_select(g, T0 + 3, NULL, &pick, &c), CHIVE_ERR_NOTFOUND);
  guards_free(g);
  /* UseEntryGuards 0: a fresh weighted pick each time, no state. */
  mk_cands(12);
  cfg.use_entry_guards = false;
  g = mk_guards(&cfg, 12, T0);
  T_ASSERT(g);
  int distinct = 0;
  uint8_t first[GUARD_RSA_ID_LEN];
  for (int i = 0; i < 20; i++) {
    T_OK(guards_select(g, T0, NULL, &pick, &c));
    T_EQ_INT(pick.state, GUARD_CIRC_USABLE_ON_COMPLETION);
    if (i == 0)
      memcpy(first, pick.rsa_id, GUARD_RSA_ID_LEN);
    else if (memcmp(first, pick.rsa_id, GUARD_RSA_ID_LEN) != 0)
      distinct = 1;
    T_EQ_INT(guards_circuit_succeeded(g, c, T0), GUARD_CIRC_COMPLETE);
    guard_circ_free(c);
  }
  T_ASSERT(distinct);
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 0);
  guards_free(g);
  /* Bad configurations are refused. */
  guards_config_defaults(&cfg);
  cfg.n_primary = 0;
  T_EQ_INT(guards_new(&cfg, &g), CHIVE_ERR_INVAL);
  guards_config_defaults(&cfg);
  cfg.instance = "has space";
  T_EQ_INT(guards_new(&cfg, &g), CHIVE_ERR_INVAL);
  T_ASSERT(g == NULL);
done:
  guard_circ_free(c);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_num_entry_guards(void)
{
  guards_t *g = NULL;
  guards_config_t cfg;
  guard_pick_t pick;
  guard_circ_t *c = NULL;
  seed_rng(12);
  mk_cands(30);
  guards_config_defaults(&cfg);
  cfg.num_entry_guards = 2; /* two in parallel, four primaries */
  g = mk_guards(&cfg, 30, T0);
  T_ASSERT(g);
  uint8_t prim[8][GUARD_RSA_ID_LEN];
  T_EQ_UINT(guards_primary_ids(g, prim, 8), 4);
  int seen[2] = {0, 0};
  for (int i = 0; i < 40; i++) {
    T_OK(guards_select(g, T0, NULL, &pick, &c));
    seen[0] += memcmp(pick.rsa_id, prim[0], GUARD_RSA_ID_LEN) == 0;
    seen[1] += memcmp(pick.rsa_id, prim[1], GUARD_RSA_ID_LEN) == 0;
    guards_circuit_cancel(g, c);
    guard_circ_free(c);
  }
  T_EQ_INT(seen[0] + seen[1], 40);
  T_ASSERT(seen[0] > 5 && seen[1] > 5);
  /* The consensus parameter sets the primary count when the option is
   * unset. */
  guards_free(g);
  guards_config_defaults(&cfg);
  g = mk_guards(&cfg, 30, T0);
  T_ASSERT(g);
  T_OK(guards_set_param(g, "guard-n-primary-guards", 5));
  T_OK(guards_update_consensus(g, cands, 30, T0 + 1));
  T_EQ_UINT(guards_primary_ids(g, prim, 8), 5);
  T_OK(guards_set_param(g, "guard-n-primary-guards", 0)); /* clamped to 1 */
  T_OK(guards_update_consensus(g, cands, 30, T0 + 2));
  T_EQ_UINT(guards_primary_ids(g, prim, 8), 1);
done:
  guard_circ_free(c);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_setup(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_setup),
    T_CASE(test_sample_flags),
    T_CASE(test_sample_weights),
    T_CASE(test_sample_limits),
    T_CASE(test_primary_order),
    T_CASE(test_scenario_failover_and_retry),
    T_CASE(test_retry_schedules),
    T_CASE(test_usable_if_no_better),
    T_CASE(test_blocking_pending),
    T_CASE(test_restrictions),
    T_CASE(test_unlisted_and_lifetime),
    T_CASE(test_drop_and_edge_cases),
    T_CASE(test_num_entry_guards),
    T_END,
};

T_MAIN(cases)
