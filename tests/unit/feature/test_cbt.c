/* Unit tests for feature/circpool/cbt: circuit build timeout learning
 * (path-spec §2.4). */
#include "lib/cc/compat.h"

#include <math.h>
#include <stdlib.h>

#include "feature/circpool/cbt.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ---- deterministic PRNG (splitmix64) ---- */

typedef struct prng_t {
  uint64_t s;
} prng_t;

static uint64_t
prng_next(prng_t *r)
{
  uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

/* Uniform in (0, 1]. */
static double
prng_unit(prng_t *r)
{
  return ((double)(prng_next(r) >> 11) + 1.0) / 9007199254740992.0;
}

static uint32_t
prng_rand_fn(void *arg, uint32_t bound)
{
  return (uint32_t)(prng_next((prng_t *)arg) % bound);
}

/* Inverse-CDF sample of a Pareto(xm, alpha): xm / U^(1/alpha). */
static uint32_t
pareto_sample(prng_t *r, double xm, double alpha)
{
  double x = xm / pow(prng_unit(r), 1.0 / alpha);
  if (x > 1e9)
    x = 1e9;
  return (uint32_t)x;
}

/* The true quantile q of Pareto(xm, alpha). */
static double
pareto_quantile(double xm, double alpha, double q)
{
  return xm / pow(1.0 - q, 1.0 / alpha);
}

static bool
within(double got, double want, double rel_tol)
{
  return fabs(got - want) <= rel_tol * want;
}

/* ---- consensus getter over a small table ---- */

typedef struct kv_t {
  const char *name;
  int32_t value;
} kv_t;

typedef struct kv_table_t {
  const kv_t *items;
  size_t n;
} kv_table_t;

static bool
kv_get(void *arg, const char *name, int32_t *value_out)
{
  const kv_table_t *t = arg;
  for (size_t i = 0; i < t->n; i++) {
    if (!strcmp(t->items[i].name, name)) {
      *value_out = t->items[i].value;
      return true;
    }
  }
  return false;
}

static bool
params_eq(const cbt_params_t *a, const cbt_params_t *b)
{
  return a->disabled == b->disabled && a->num_modes == b->num_modes &&
         a->recent_count == b->recent_count &&
         a->max_timeouts == b->max_timeouts && a->min_circs == b->min_circs &&
         a->quantile_pct == b->quantile_pct &&
         a->close_quantile_pct == b->close_quantile_pct &&
         a->test_freq_s == b->test_freq_s &&
         a->min_timeout_ms == b->min_timeout_ms &&
         a->initial_timeout_ms == b->initial_timeout_ms &&
         a->learn_timeout_s == b->learn_timeout_s &&
         a->max_open_circs == b->max_open_circs;
}

/* ---- tests ---- */

static void
test_cbt_defaults(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
  T_EQ_UINT(cbt_close_ms(&cbt), 60000);
  T_EQ_UINT(cbt_n_observed(&cbt), 0);
  T_ASSERT(cbt_is_learning(&cbt));
  cbt_params_t p;
  cbt_params_default(&p);
  T_EQ_UINT(p.num_modes, 10);
  T_EQ_UINT(p.recent_count, 20);
  T_EQ_UINT(p.max_timeouts, 18);
  T_EQ_UINT(p.min_circs, 100);
  T_EQ_UINT(p.quantile_pct, 80);
  T_EQ_UINT(p.close_quantile_pct, 99);
  T_EQ_UINT(p.test_freq_s, 10);
  T_EQ_UINT(p.min_timeout_ms, 10);
  T_EQ_UINT(p.initial_timeout_ms, 60000);
  T_EQ_UINT(p.learn_timeout_s, 180);
  T_EQ_UINT(p.max_open_circs, 10);
  T_ASSERT(!p.disabled);
done:
  return;
}

static void
test_cbt_params_from_consensus(void)
{
  cbt_params_t p, d;
  cbt_params_default(&d);
  cbt_params_from_consensus(&p, NULL, NULL);
  T_ASSERT(params_eq(&p, &d));

  const kv_t items[] = {
      {"cbtnummodes", 50},                                  /* > max 20 */
      {"cbtquantile", 5},                                   /* < min 10 */
      {"cbtclosequantile", 3},                              /* < cbtquantile */
      {"cbtmintimeout", 2000},  {"cbtinitialtimeout", 500}, /* < cbtmintimeout
                                                             */
      {"cbtrecentcount", -7},                               /* < min 3 */
      {"cbtmaxopencircs", 99},                              /* > max 14 */
      {"cbtlearntimeout", 120}, {"cbtdisabled", 1},         {"unrelated", 5},
  };
  kv_table_t t = {items, CHIVE_ARRAY_LEN(items)};
  cbt_params_from_consensus(&p, kv_get, &t);
  T_EQ_UINT(p.num_modes, 20);
  T_EQ_UINT(p.quantile_pct, 10);
  T_EQ_UINT(p.close_quantile_pct, 10);
  T_EQ_UINT(p.min_timeout_ms, 2000);
  T_EQ_UINT(p.initial_timeout_ms, 2000);
  T_EQ_UINT(p.recent_count, 3);
  T_EQ_UINT(p.max_open_circs, 14);
  T_EQ_UINT(p.learn_timeout_s, 120);
  T_ASSERT(p.disabled);
  /* Untouched ones keep defaults. */
  T_EQ_UINT(p.min_circs, 100);
  T_EQ_UINT(p.max_timeouts, 18);

  /* cbt_init clamps a hand-made struct too. */
  cbt_params_t z;
  memset(&z, 0, sizeof(z));
  cbt_t cbt;
  cbt_init(&cbt, &z);
  T_EQ_UINT(cbt.params.num_modes, 1);
  T_EQ_UINT(cbt.params.min_circs, 1);
  T_EQ_UINT(cbt.params.initial_timeout_ms, 10);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 10);
done:
  return;
}

static void
test_cbt_needs_mincircs(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {1};
  for (int i = 0; i < 99; i++) {
    T_EQ_INT(cbt_add_build_time(&cbt, pareto_sample(&r, 300, 2.0)),
             CBT_UPDATE_NONE);
    T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
    T_EQ_UINT(cbt_close_ms(&cbt), 60000);
  }
  T_ASSERT(cbt_is_learning(&cbt));
  T_EQ_INT(cbt_add_build_time(&cbt, pareto_sample(&r, 300, 2.0)),
           CBT_UPDATE_COMPUTED);
  T_ASSERT(!cbt_is_learning(&cbt));
  T_EQ_UINT(cbt_n_observed(&cbt), 100);
  T_ASSERT(cbt_timeout_ms(&cbt) < 60000);
  T_ASSERT(cbt_timeout_ms(&cbt) >= 300);
  cbt_stats_t st;
  cbt_get_stats(&cbt, &st);
  T_ASSERT(st.have_estimate);
  T_ASSERT(st.alpha > 0.0);
  T_ASSERT(st.xm_ms >= 300.0);
done:
  return;
}

/* Learn from n samples of Pareto(xm, alpha) with <b>params</b>; check the
 * timeout against the true quantile within <b>tol</b>. */
static bool
fit_case(uint64_t seed, double xm, double alpha, unsigned n_modes, double tol,
         cbt_stats_t *st_out)
{
  cbt_params_t p;
  cbt_params_default(&p);
  p.num_modes = n_modes;
  p.initial_timeout_ms = 10; /* so the close timeout is the model's */
  cbt_t cbt;
  cbt_init(&cbt, &p);
  prng_t r = {seed};
  for (int i = 0; i < CBT_NCIRCUITS_TO_OBSERVE; i++)
    (void)cbt_add_build_time(&cbt, pareto_sample(&r, xm, alpha));
  cbt_get_stats(&cbt, st_out);
  double want = pareto_quantile(xm, alpha, 0.80);
  if (!within(cbt_timeout_ms(&cbt), want, tol)) {
    fprintf(stderr,
            "  seed %llu xm %.0f alpha %.2f modes %u: timeout %u "
            "want %.0f (Xm %.1f alpha %.3f)\n",
            (unsigned long long)seed, xm, alpha, n_modes, cbt_timeout_ms(&cbt),
            want, st_out->xm_ms, st_out->alpha);
    return false;
  }
  return true;
}

static void
test_cbt_pareto_fit(void)
{
  cbt_stats_t st;
  /* For an exact Pareto the 10-mode Xm of §2.4.3 sits above the true Xm
   * (the modes spread over the first ~15 bins), which raises alpha and
   * partly cancels out in F(0.8).  Measured over 200 seeds the worst
   * q80 errors are 7.8% (Xm 1000, alpha 2.5), 11% (Xm 300, alpha 2: the
   * 10 ms bins are coarse there) and 6% (Xm 500, alpha 4). */
  for (uint64_t seed = 1; seed <= 5; seed++) {
    T_ASSERT(fit_case(seed, 1000.0, 2.5, 10, 0.10, &st));
    T_ASSERT(fit_case(seed + 100, 300.0, 2.0, 10, 0.15, &st));
    T_ASSERT(fit_case(seed + 200, 500.0, 4.0, 10, 0.10, &st));
    /* One mode: Xm is the midpoint of the fullest bin, one of the first
     * few (their expected counts differ by ~2%); worst q80 error over
     * 200 seeds 8.8%. */
    T_ASSERT(fit_case(seed + 300, 1000.0, 2.5, 1, 0.10, &st));
    T_ASSERT(within(st.alpha, 2.5, 0.25));
    T_ASSERT(st.xm_ms >= 1005.0 && st.xm_ms <= 1100.0);
  }
  /* Close timeout: the cbtclosequantile (99%) point of the curve. */
  T_ASSERT(fit_case(7, 1000.0, 2.5, 1, 0.10, &st));
  {
    double want_close = pareto_quantile(1000.0, 2.5, 0.99);
    double got_close = st.xm_ms / pow(0.01, 1.0 / st.alpha);
    T_ASSERT(within(got_close, want_close, 0.25));
    cbt_params_t p;
    cbt_params_default(&p);
    p.num_modes = 1;
    p.initial_timeout_ms = 10;
    cbt_t cbt;
    cbt_init(&cbt, &p);
    prng_t r = {7};
    for (int i = 0; i < CBT_NCIRCUITS_TO_OBSERVE; i++)
      (void)cbt_add_build_time(&cbt, pareto_sample(&r, 1000.0, 2.5));
    T_ASSERT(within(cbt_close_ms(&cbt), want_close, 0.25));
    T_ASSERT(cbt_close_ms(&cbt) > cbt_timeout_ms(&cbt));
  }
done:
  return;
}

static void
test_cbt_quantile_param(void)
{
  /* cbtquantile=60 gives a shorter timeout than 80, near the true q60. */
  cbt_params_t p;
  cbt_params_default(&p);
  p.num_modes = 1;
  p.quantile_pct = 60;
  cbt_t cbt;
  cbt_init(&cbt, &p);
  prng_t r = {42};
  for (int i = 0; i < CBT_NCIRCUITS_TO_OBSERVE; i++)
    (void)cbt_add_build_time(&cbt, pareto_sample(&r, 800.0, 3.0));
  double want = pareto_quantile(800.0, 3.0, 0.60);
  T_ASSERT(within(cbt_timeout_ms(&cbt), want, 0.06));
done:
  return;
}

static void
test_cbt_clamps(void)
{
  cbt_params_t p;
  cbt_params_default(&p);
  p.initial_timeout_ms = 10;
  cbt_t cbt;

  /* All builds at 100 ms: Xm is the bin midpoint 105, above every build;
   * the timeout is capped at the longest observed build. */
  cbt_init(&cbt, &p);
  for (int i = 0; i < 100; i++)
    (void)cbt_add_build_time(&cbt, 100);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 100);
  T_ASSERT(cbt_close_ms(&cbt) >= cbt_timeout_ms(&cbt));
  T_ASSERT(cbt_close_ms(&cbt) <= 200);

  /* Tiny builds: the timeout never goes below cbtmintimeout. */
  cbt_init(&cbt, &p);
  for (int i = 0; i < 100; i++)
    (void)cbt_add_build_time(&cbt, 1);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 10);
  p.min_timeout_ms = 250;
  p.initial_timeout_ms = 250;
  cbt_set_params(&cbt, &p);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 250);
  T_EQ_UINT(cbt_close_ms(&cbt), 250);

  /* Heavy tail: half the builds at 100 ms, half at 1000 ms, one mode.
   * Xm = 105 (tie goes to the shorter bin), alpha ~ 0.89: the 99% point
   * is far beyond 2 * max observed, so close = 2000. */
  cbt_params_default(&p);
  p.num_modes = 1;
  p.initial_timeout_ms = 10;
  cbt_init(&cbt, &p);
  for (int i = 0; i < 50; i++) {
    (void)cbt_add_build_time(&cbt, 100);
    (void)cbt_add_build_time(&cbt, 1000);
  }
  cbt_stats_t st;
  cbt_get_stats(&cbt, &st);
  T_ASSERT(within(st.xm_ms, 105.0, 1e-9));
  T_ASSERT(within(st.alpha, 100.0 / (50.0 * log(1000.0 / 105.0)), 1e-9));
  T_EQ_UINT(cbt_close_ms(&cbt), 2000);
  T_ASSERT(cbt_timeout_ms(&cbt) < 1000);

  /* With the default cbtinitialtimeout the close timeout is at least
   * 60 s. */
  cbt_params_default(&p);
  cbt_init(&cbt, &p);
  for (int i = 0; i < 100; i++)
    (void)cbt_add_build_time(&cbt, 500 + (uint32_t)i);
  T_EQ_UINT(cbt_close_ms(&cbt), 60000);
  T_ASSERT(cbt_timeout_ms(&cbt) <= 599);
done:
  return;
}

static void
test_cbt_xm_modes(void)
{
  cbt_params_t p;
  cbt_params_default(&p);
  p.num_modes = 2;
  p.min_circs = 1;
  cbt_t cbt;
  cbt_init(&cbt, &p);
  /* Bins: 30 (count 3), 50 (count 5), 70 (count 3), 90 (count 1).
   * Modes: bin 50 (5), then bin 30 over 70 on the tie.
   * Xm = (505*5 + 305*3) / 8. */
  const uint32_t v[] = {301, 305, 309, 500, 501, 502,
                        503, 509, 700, 705, 709, 900};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(v); i++)
    (void)cbt_add_build_time(&cbt, v[i]);
  cbt_stats_t st;
  cbt_get_stats(&cbt, &st);
  T_ASSERT(within(st.xm_ms, (505.0 * 5 + 305.0 * 3) / 8.0, 1e-12));
  /* alpha = n / (Sum ln max(Xm, x) - n ln Xm) */
  double xm = st.xm_ms, s = 0;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(v); i++)
    s += log((double)v[i] > xm ? (double)v[i] : xm);
  double alpha = 12.0 / (s - 12.0 * log(xm));
  T_ASSERT(within(st.alpha, alpha, 1e-9));
  double want = xm / pow(0.2, 1.0 / alpha);
  if (want > 900)
    want = 900;
  T_ASSERT(fabs((double)cbt_timeout_ms(&cbt) - want) <= 1.0);
done:
  return;
}

static void
test_cbt_timeouts_reset(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {9};
  for (int i = 0; i < 200; i++)
    (void)cbt_add_build_time(&cbt, pareto_sample(&r, 400, 2.5));
  uint32_t learned = cbt_timeout_ms(&cbt);
  T_ASSERT(learned < 60000);
  T_EQ_UINT(cbt_n_observed(&cbt), 200);

  /* 17 timeouts out of the last 20: no reset. */
  for (int i = 0; i < 17; i++)
    T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_NONE);
  T_EQ_UINT(cbt_timeout_ms(&cbt), learned);
  /* The 18th: reset to cbtinitialtimeout and history discarded. */
  T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_RESET);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
  T_EQ_UINT(cbt_close_ms(&cbt), 60000);
  T_EQ_UINT(cbt_n_observed(&cbt), 0);
  T_ASSERT(cbt_is_learning(&cbt));
  cbt_stats_t st;
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_resets, 1);
  T_EQ_UINT(st.n_recent, 0);
  T_ASSERT(!st.have_estimate);

  /* Timeouts again with the timeout already at the initial value: it
   * doubles (path-spec §2.4.5), up to the cap. */
  for (int i = 0; i < 18; i++)
    (void)cbt_add_timeout(&cbt);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 120000);
  T_EQ_UINT(cbt_close_ms(&cbt), 120000);
  for (int k = 0; k < 10; k++)
    for (int i = 0; i < 18; i++)
      (void)cbt_add_timeout(&cbt);
  T_EQ_UINT(cbt_timeout_ms(&cbt), CBT_DOUBLED_TIMEOUT_MAX_MS);
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_resets, 12);

  /* Builds within the (doubled) timeout count; after cbtmincircs the
   * learned value replaces the doubled one. */
  for (int i = 0; i < 100; i++)
    (void)cbt_add_build_time(&cbt, pareto_sample(&r, 400, 2.5));
  T_ASSERT(cbt_timeout_ms(&cbt) < 60000);
done:
  return;
}

static void
test_cbt_recent_window(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  for (int i = 0; i < 150; i++)
    (void)cbt_add_build_time(&cbt, 300 + (uint32_t)(i % 50));
  uint32_t learned = cbt_timeout_ms(&cbt);
  /* 17 timeouts then 3 fast successes, many times over: the window of
   * 20 never holds 18 timeouts. */
  for (int round = 0; round < 20; round++) {
    for (int i = 0; i < 17; i++)
      T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_NONE);
    for (int i = 0; i < 3; i++)
      (void)cbt_add_build_time(&cbt, 320);
  }
  T_ASSERT(cbt_n_observed(&cbt) > 0);
  cbt_stats_t st;
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_resets, 0);
  T_EQ_UINT(st.n_recent, 20);
  T_EQ_UINT(st.n_recent_timeouts, 17);
  T_EQ_UINT(st.n_timeouts_total, 340);

  /* A measurement circuit (slower than the timeout) records its time but
   * is not a success in the window. */
  learned = cbt_timeout_ms(&cbt);
  size_t n_obs = cbt_n_observed(&cbt);
  uint64_t n_builds = st.n_builds_total;
  (void)cbt_add_build_time(&cbt, learned + 1000);
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_recent_timeouts, 17);
  T_EQ_UINT(st.n_recent, 20);
  T_EQ_UINT(st.n_builds_total, n_builds + 1);
  T_EQ_UINT(cbt_n_observed(&cbt), n_obs + 1);
  /* Window (oldest first) is now 17 T + 3 S: 17 more timeouts push the
   * old timeouts out, the 18th pushes out a success and resets. */
  for (int i = 0; i < 17; i++)
    T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_NONE);
  T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_RESET);

  /* A fast build is a success in the window. */
  cbt_init(&cbt, NULL);
  (void)cbt_add_build_time(&cbt, 100);
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_recent, 1);
  T_EQ_UINT(st.n_recent_timeouts, 0);

  /* cbtmaxtimeouts > cbtrecentcount: never resets. */
  cbt_params_t p;
  cbt_params_default(&p);
  p.recent_count = 5;
  p.max_timeouts = 6;
  cbt_init(&cbt, &p);
  for (int i = 0; i < 100; i++)
    T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_NONE);
  cbt_get_stats(&cbt, &st);
  T_EQ_UINT(st.n_recent, 5);
  T_EQ_UINT(st.n_recent_timeouts, 5);
done:
  return;
}

static void
test_cbt_disabled(void)
{
  cbt_params_t p;
  cbt_params_default(&p);
  cbt_t cbt;
  cbt_init(&cbt, &p);
  for (int i = 0; i < 120; i++)
    (void)cbt_add_build_time(&cbt, 400 + (uint32_t)i);
  T_ASSERT(cbt_timeout_ms(&cbt) < 60000);
  p.disabled = true;
  cbt_set_params(&cbt, &p);
  T_EQ_UINT(cbt_n_observed(&cbt), 0);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
  T_ASSERT(!cbt_is_learning(&cbt));
  for (int i = 0; i < 120; i++)
    T_EQ_INT(cbt_add_build_time(&cbt, 400), CBT_UPDATE_NONE);
  for (int i = 0; i < 40; i++)
    T_EQ_INT(cbt_add_timeout(&cbt), CBT_UPDATE_NONE);
  T_EQ_UINT(cbt_n_observed(&cbt), 0);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
  /* Re-enable: learning starts again. */
  p.disabled = false;
  cbt_set_params(&cbt, &p);
  T_ASSERT(cbt_is_learning(&cbt));
  /* Raising cbtmincircs above what we have falls back to initial. */
  for (int i = 0; i < 120; i++)
    (void)cbt_add_build_time(&cbt, 400 + (uint32_t)i);
  T_ASSERT(cbt_timeout_ms(&cbt) < 60000);
  p.min_circs = 500;
  cbt_set_params(&cbt, &p);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
  T_EQ_UINT(cbt_n_observed(&cbt), 120);
done:
  return;
}

static void
test_cbt_ring_bounded(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  /* 1500 slow builds, then 1000 fast ones: the slow ones all fall out. */
  for (int i = 0; i < 1500; i++)
    (void)cbt_add_build_time(&cbt, 5000 + (uint32_t)(i % 7));
  T_EQ_UINT(cbt_n_observed(&cbt), CBT_NCIRCUITS_TO_OBSERVE);
  for (int i = 0; i < 1000; i++)
    (void)cbt_add_build_time(&cbt, 200 + (uint32_t)(i % 30));
  T_EQ_UINT(cbt_n_observed(&cbt), CBT_NCIRCUITS_TO_OBSERVE);
  cbt_bin_t bins[CBT_NCIRCUITS_TO_OBSERVE];
  size_t n = cbt_histogram(&cbt, bins, CHIVE_ARRAY_LEN(bins));
  T_EQ_UINT(n, 3); /* bins 20, 21, 22 */
  uint32_t total = 0;
  for (size_t i = 0; i < n; i++) {
    T_ASSERT(bins[i].bin_ms >= 200 && bins[i].bin_ms < 230);
    total += bins[i].count;
  }
  T_EQ_UINT(total, CBT_NCIRCUITS_TO_OBSERVE);
  T_ASSERT(cbt_timeout_ms(&cbt) <= 229);
  /* Overlong times are clamped, never wrap. */
  (void)cbt_add_build_time(&cbt, UINT32_MAX);
  T_EQ_UINT(cbt_n_observed(&cbt), CBT_NCIRCUITS_TO_OBSERVE);
  n = cbt_histogram(&cbt, bins, 1);
  T_EQ_UINT(n, 4);
  T_EQ_UINT(bins[0].bin_ms, 205);
done:
  return;
}

static void
test_cbt_hops(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  /* Actions(n) = n(n+1)/2; Actions(3) = 6. */
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 1), 10000);
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 2), 30000);
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 3), 60000);
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 4), 100000);
  T_EQ_UINT(cbt_close_ms_for_hops(&cbt, 4), 100000);
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 0), 10000);
  T_EQ_UINT(cbt_timeout_ms_for_hops(&cbt, 100000), UINT32_MAX);
done:
  return;
}

static void
test_cbt_test_circuits(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  /* Learning: one every cbttestfreq (10 s), at most cbtmaxopencircs (10)
   * open. */
  T_ASSERT(cbt_wants_test_circuit(&cbt, UINT64_MAX, 0));
  T_ASSERT(cbt_wants_test_circuit(&cbt, 10000, 9));
  T_ASSERT(!cbt_wants_test_circuit(&cbt, 9999, 0));
  T_ASSERT(!cbt_wants_test_circuit(&cbt, UINT64_MAX, 10));
  for (int i = 0; i < 100; i++)
    (void)cbt_add_build_time(&cbt, 500);
  T_ASSERT(!cbt_wants_test_circuit(&cbt, UINT64_MAX, 0)); /* learned */
  cbt_params_t p;
  cbt_params_default(&p);
  p.max_open_circs = 0;
  cbt_init(&cbt, &p);
  T_ASSERT(!cbt_wants_test_circuit(&cbt, UINT64_MAX, 0));
  p.max_open_circs = 1;
  p.disabled = true;
  cbt_init(&cbt, &p);
  T_ASSERT(!cbt_wants_test_circuit(&cbt, UINT64_MAX, 0));
done:
  return;
}

static void
test_cbt_save_load_roundtrip(void)
{
  char *buf = NULL, *buf2 = NULL;
  cbt_t *a = chive_zalloc(sizeof(*a));
  cbt_t *b = chive_zalloc(sizeof(*b));
  cbt_init(a, NULL);
  cbt_init(b, NULL);
  buf = chive_malloc(CBT_STATE_MAX_LEN);
  buf2 = chive_malloc(CBT_STATE_MAX_LEN);
  prng_t r = {77};
  for (int i = 0; i < 700; i++)
    (void)cbt_add_build_time(a, pareto_sample(&r, 600, 2.2));
  size_t len = 0, len2 = 0;
  T_OK(cbt_save(a, buf, CBT_STATE_MAX_LEN, &len));
  T_EQ_UINT(strlen(buf), len);
  T_ASSERT(!strncmp(buf, "CircuitBuildTimeBin ", 20));
  T_OK(cbt_load(b, buf, len, prng_rand_fn, &r));
  T_EQ_UINT(cbt_n_observed(b), 700);
  cbt_bin_t ha[CBT_NCIRCUITS_TO_OBSERVE], hb[CBT_NCIRCUITS_TO_OBSERVE];
  size_t na = cbt_histogram(a, ha, CHIVE_ARRAY_LEN(ha));
  size_t nb = cbt_histogram(b, hb, CHIVE_ARRAY_LEN(hb));
  T_EQ_UINT(na, nb);
  T_EQ_MEM(ha, hb, na * sizeof(cbt_bin_t));
  T_OK(cbt_save(b, buf2, CBT_STATE_MAX_LEN, &len2));
  T_EQ_UINT(len, len2);
  T_EQ_MEM(buf, buf2, len);
  /* Binning loses at most half a bin: the timeouts agree closely. */
  T_ASSERT(within(cbt_timeout_ms(b), cbt_timeout_ms(a), 0.02));
  /* The loaded order is shuffled: not sorted ascending. */
  bool sorted = true;
  for (uint32_t i = 1; i < 700; i++)
    if (b->build_times_ms[i] < b->build_times_ms[i - 1])
      sorted = false;
  T_ASSERT(!sorted);
  /* New builds then overwrite the loaded ones from slot 700 on. */
  (void)cbt_add_build_time(b, 12345);
  T_EQ_UINT(b->build_times_ms[700], 12345);

  /* Exact text, and a buffer one byte short fails without len_out. */
  cbt_init(a, NULL);
  (void)cbt_add_build_time(a, 100);
  (void)cbt_add_build_time(a, 109);
  (void)cbt_add_build_time(a, 2001);
  T_OK(cbt_save(a, buf, CBT_STATE_MAX_LEN, &len));
  T_EQ_STR(buf, "CircuitBuildTimeBin 105 2\nCircuitBuildTimeBin 2005 1\n");
  len2 = 999;
  T_EQ_INT(cbt_save(a, buf2, len, &len2), CHIVE_ERR_LIMIT);
  T_EQ_UINT(len2, 999);
  T_OK(cbt_save(a, buf2, len + 1, &len2));
  T_EQ_UINT(len2, len);
  /* Empty history: empty text. */
  cbt_init(a, NULL);
  T_OK(cbt_save(a, buf, 1, &len));
  T_EQ_UINT(len, 0);
  T_EQ_STR(buf, "");
  /* Worst case fits CBT_STATE_MAX_LEN: 1000 distinct huge bins. */
  for (uint32_t i = 0; i < CBT_NCIRCUITS_TO_OBSERVE; i++)
    (void)cbt_add_build_time(a, CBT_BUILD_TIME_MAX_MS - i * 10);
  T_OK(cbt_save(a, buf, CBT_STATE_MAX_LEN, &len));
  T_OK(cbt_load(b, buf, len, prng_rand_fn, &r));
  T_EQ_UINT(cbt_n_observed(b), CBT_NCIRCUITS_TO_OBSERVE);
done:
  chive_free(buf);
  chive_free(buf2);
  chive_free(a);
  chive_free(b);
}

static void
test_cbt_load_state_file(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {5};
  /* Other state-file lines are ignored; CRLF and extra blanks are fine. */
  const char *text = "# Tor state file\n"
                     "EntryGuard foo 0123\n"
                     "CircuitBuildAbandonedCount 0\n"
                     "CircuitBuildTimeBinX 1 2\n"
                     "CircuitBuildTimeBin 305 60\r\n"
                     "CircuitBuildTimeBin\t415  30  \n"
                     "\n"
                     "CircuitBuildTimeBin 1005 10"; /* no final newline */
  T_OK(cbt_load(&cbt, text, strlen(text), prng_rand_fn, &r));
  T_EQ_UINT(cbt_n_observed(&cbt), 100);
  T_ASSERT(cbt_timeout_ms(&cbt) < 60000); /* 100 = cbtmincircs: fitted */
  cbt_bin_t bins[8];
  T_EQ_UINT(cbt_histogram(&cbt, bins, 8), 3);
  T_EQ_UINT(bins[0].bin_ms, 305);
  T_EQ_UINT(bins[0].count, 60);
  T_EQ_UINT(bins[1].bin_ms, 415);
  T_EQ_UINT(bins[1].count, 30);
  T_EQ_UINT(bins[2].bin_ms, 1005);
  T_EQ_UINT(bins[2].count, 10);

  /* More than 1000 times: scaled down proportionally. */
  const char *big = "CircuitBuildTimeBin 205 3000\n"
                    "CircuitBuildTimeBin 305 1000\n"
                    "CircuitBuildTimeBin 405 0\n"
                    "CircuitBuildTimeBin 505 4294967295\n";
  T_OK(cbt_load(&cbt, big, strlen(big), prng_rand_fn, &r));
  T_ASSERT(cbt_n_observed(&cbt) <= CBT_NCIRCUITS_TO_OBSERVE);
  T_ASSERT(cbt_n_observed(&cbt) >= CBT_NCIRCUITS_TO_OBSERVE - 3);
  T_EQ_UINT(cbt_histogram(&cbt, bins, 8), 1); /* 3000/(4.29e9) -> 0 */
  T_EQ_UINT(bins[0].bin_ms, 505);
  const char *big2 = "CircuitBuildTimeBin 205 3000\n"
                     "CircuitBuildTimeBin 305 1000\n";
  T_OK(cbt_load(&cbt, big2, strlen(big2), prng_rand_fn, &r));
  T_EQ_UINT(cbt_n_observed(&cbt), 1000);
  T_EQ_UINT(cbt_histogram(&cbt, bins, 8), 2);
  T_EQ_UINT(bins[0].count, 750);
  T_EQ_UINT(bins[1].count, 250);

  /* Empty text: empty history, back to the initial timeout. */
  T_OK(cbt_load(&cbt, "", 0, prng_rand_fn, &r));
  T_EQ_UINT(cbt_n_observed(&cbt), 0);
  T_EQ_UINT(cbt_timeout_ms(&cbt), 60000);
done:
  return;
}

static void
test_cbt_load_errors(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {11};
  for (int i = 0; i < 150; i++)
    (void)cbt_add_build_time(&cbt, 400 + (uint32_t)(i % 40));
  cbt_t before;
  memcpy(&before, &cbt, sizeof(before));
  static const char *const bad[] = {
      "CircuitBuildTimeBin\n",
      "CircuitBuildTimeBin 205\n",
      "CircuitBuildTimeBin 205 3 4\n",
      "CircuitBuildTimeBin -205 3\n",
      "CircuitBuildTimeBin 205 -3\n",
      "CircuitBuildTimeBin 0x20 3\n",
      "CircuitBuildTimeBin 205 3x\n",
      "CircuitBuildTimeBin 2147483648 1\n", /* > INT32_MAX ms */
      "CircuitBuildTimeBin 205 4294967296\n",
      "CircuitBuildTimeBin 205 3\nCircuitBuildTimeBin 1 \n",
      "CircuitBuildTimeBin 1.5 3\n",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    chive_err_t err = cbt_load(&cbt, bad[i], strlen(bad[i]), prng_rand_fn, &r);
    if (err != CHIVE_ERR_PROTO)
      fprintf(stderr, "  case %zu: %d\n", i, (int)err);
    T_EQ_INT(err, CHIVE_ERR_PROTO);
    T_EQ_MEM(&cbt, &before, sizeof(cbt));
  }
  const char nul[] = "CircuitBuildTimeBin 205 3\n\0CircuitBuildTimeBin 1 1\n";
  T_EQ_INT(cbt_load(&cbt, nul, sizeof(nul) - 1, prng_rand_fn, &r),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cbt_load(&cbt, "", 0, NULL, NULL), CHIVE_ERR_INVAL);
  T_EQ_INT(cbt_load(&cbt, NULL, 5, prng_rand_fn, &r), CHIVE_ERR_INVAL);
  T_EQ_INT(cbt_load(&cbt, "x", CBT_STATE_TEXT_MAX_LEN + 1, prng_rand_fn, &r),
           CHIVE_ERR_LIMIT);
  T_EQ_MEM(&cbt, &before, sizeof(cbt));
done:
  return;
}

/* Every prefix of a valid state text either loads or is rejected as
 * malformed, never anything else, and the invariants hold. */
static void
test_cbt_load_prefixes(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {3};
  const char *text = "CircuitBuildTimeBin 205 12\n"
                     "CircuitBuildAbandonedCount 4\n"
                     "CircuitBuildTimeBin 3105 7\n";
  size_t len = strlen(text);
  for (size_t i = 0; i <= len; i++) {
    chive_err_t err = cbt_load(&cbt, text, i, prng_rand_fn, &r);
    T_ASSERT(err == CHIVE_OK || err == CHIVE_ERR_PROTO);
    T_ASSERT(cbt_n_observed(&cbt) <= 19);
    /* Cut right after "CircuitBuildTimeBin": the keyword alone is a
     * malformed line. */
    if (i == 19)
      T_EQ_INT(err, CHIVE_ERR_PROTO);
    if (i == len)
      T_EQ_UINT(cbt_n_observed(&cbt), 19);
  }
done:
  return;
}

/* A small in-test fuzz loop: random mutations of a valid state text. */
static void
test_cbt_load_mutations(void)
{
  cbt_t cbt;
  cbt_init(&cbt, NULL);
  prng_t r = {2024};
  const char *seed = "CircuitBuildTimeBin 205 12\n"
                     "CircuitBuildTimeBin 3105 7\n"
                     "Other 1 2 3\n"
                     "CircuitBuildTimeBin 99995 100\n";
  char buf[128];
  size_t seed_len = strlen(seed);
  int n_ok = 0;
  for (int iter = 0; iter < 5000; iter++) {
    memcpy(buf, seed, seed_len);
    size_t len = seed_len;
    int n_mut = 1 + (int)(prng_next(&r) % 4);
    for (int m = 0; m < n_mut; m++) {
      size_t pos = (size_t)(prng_next(&r) % len);
      static const char alphabet[] = "0123456789 \t\r\n-+xCB\0";
      buf[pos] = alphabet[prng_next(&r) % (sizeof(alphabet) - 1)];
      if (prng_next(&r) % 8 == 0)
        len = pos + 1;
    }
    chive_err_t err = cbt_load(&cbt, buf, len, prng_rand_fn, &r);
    T_ASSERT(err == CHIVE_OK || err == CHIVE_ERR_PROTO);
    if (err == CHIVE_OK)
      n_ok++;
    T_ASSERT(cbt_n_observed(&cbt) <= CBT_NCIRCUITS_TO_OBSERVE);
    T_ASSERT(cbt_timeout_ms(&cbt) >= cbt.params.min_timeout_ms);
    T_ASSERT(cbt_close_ms(&cbt) >= cbt_timeout_ms(&cbt));
  }
  T_ASSERT(n_ok > 50);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_cbt_defaults),
    T_CASE(test_cbt_params_from_consensus),
    T_CASE(test_cbt_needs_mincircs),
    T_CASE(test_cbt_pareto_fit),
    T_CASE(test_cbt_quantile_param),
    T_CASE(test_cbt_clamps),
    T_CASE(test_cbt_xm_modes),
    T_CASE(test_cbt_timeouts_reset),
    T_CASE(test_cbt_recent_window),
    T_CASE(test_cbt_disabled),
    T_CASE(test_cbt_ring_bounded),
    T_CASE(test_cbt_hops),
    T_CASE(test_cbt_test_circuits),
    T_CASE(test_cbt_save_load_roundtrip),
    T_CASE(test_cbt_load_state_file),
    T_CASE(test_cbt_load_errors),
    T_CASE(test_cbt_load_prefixes),
    T_CASE(test_cbt_load_mutations),
    T_END,
};

T_MAIN(cases)
