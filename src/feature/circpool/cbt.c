/**
 * @file cbt.c
 * @brief Circuit build timeout learning (path-spec §2.4).
 *
 * The estimator approximates the tail of the (multi-modal Frechet-like)
 * build time distribution with one Pareto curve (§2.4.1):
 *   Xm    = weighted average of the midpoints of the cbtnummodes most
 *           frequent 10 ms bins, ties going to the shorter bin (§2.4.3);
 *   alpha = n / (Sum ln(max(Xm, x_i)) - n ln(Xm))   (MLE, §2.4.3);
 *   F(q)  = Xm / (1 - q)^(1 / alpha)                (inverse CDF).
 * Pure: no I/O, no allocation, no logging; bounded stack use (one
 * CBT_NCIRCUITS_TO_OBSERVE scratch array).
 **/
#include "lib/cc/compat.h"

#include "feature/circpool/cbt.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/text/numparse.h"
#include "lib/text/str.h"

/* Spec bounds of the §2.4.6 parameters (the close quantile's and the
 * initial timeout's minimums depend on other parameters). */
#define CBT_NUM_MODES_MIN 1
#define CBT_RECENT_COUNT_MIN 3
#define CBT_MAX_TIMEOUTS_MIN 3
#define CBT_MAX_TIMEOUTS_MAX 10000
#define CBT_MIN_CIRCS_MIN 1
#define CBT_MIN_CIRCS_MAX 10000
#define CBT_QUANTILE_PCT_MIN 10
#define CBT_QUANTILE_PCT_MAX 99
#define CBT_TEST_FREQ_S_MIN 1
#define CBT_MIN_TIMEOUT_MS_MIN 10
#define CBT_LEARN_TIMEOUT_S_MIN 10
#define CBT_LEARN_TIMEOUT_S_MAX 60000
#define CBT_MAX_OPEN_CIRCS_MAX 14
#define CBT_PARAM_INT_MAX ((uint32_t)INT32_MAX)

CHIVE_STATIC_ASSERT(CBT_NCIRCUITS_TO_OBSERVE <= UINT32_MAX / 2,
                    "ring indices fit uint32_t");

static uint32_t
clamp_u32(int64_t v, uint32_t lo, uint32_t hi)
{
  if (v < (int64_t)lo)
    return lo;
  if (v > (int64_t)hi)
    return hi;
  return (uint32_t)v;
}

/** Clamp every field of *<b>p</b> to its path-spec §2.4.6 range. */
static void
params_clamp(cbt_params_t *p)
{
  p->num_modes = clamp_u32(p->num_modes, CBT_NUM_MODES_MIN, CBT_NUM_MODES_MAX);
  p->recent_count =
      clamp_u32(p->recent_count, CBT_RECENT_COUNT_MIN, CBT_RECENT_COUNT_MAX);
  p->max_timeouts =
      clamp_u32(p->max_timeouts, CBT_MAX_TIMEOUTS_MIN, CBT_MAX_TIMEOUTS_MAX);
  p->min_circs = clamp_u32(p->min_circs, CBT_MIN_CIRCS_MIN, CBT_MIN_CIRCS_MAX);
  p->quantile_pct =
      clamp_u32(p->quantile_pct, CBT_QUANTILE_PCT_MIN, CBT_QUANTILE_PCT_MAX);
  /* "Min: Value of cbtquantile parameter" */
  p->close_quantile_pct =
      clamp_u32(p->close_quantile_pct, p->quantile_pct, CBT_QUANTILE_PCT_MAX);
  p->test_freq_s =
      clamp_u32(p->test_freq_s, CBT_TEST_FREQ_S_MIN, CBT_PARAM_INT_MAX);
  p->min_timeout_ms =
      clamp_u32(p->min_timeout_ms, CBT_MIN_TIMEOUT_MS_MIN, CBT_PARAM_INT_MAX);
  /* "Min: Value of cbtmintimeout" */
  p->initial_timeout_ms =
      clamp_u32(p->initial_timeout_ms, p->min_timeout_ms, CBT_PARAM_INT_MAX);
  p->learn_timeout_s = clamp_u32(p->learn_timeout_s, CBT_LEARN_TIMEOUT_S_MIN,
                                 CBT_LEARN_TIMEOUT_S_MAX);
  p->max_open_circs = clamp_u32(p->max_open_circs, 0, CBT_MAX_OPEN_CIRCS_MAX);
}

/* see cbt.h */
void
cbt_params_default(cbt_params_t *out)
{
  memset(out, 0, sizeof(*out));
  out->disabled = false;
  out->num_modes = CBT_DEFAULT_NUM_MODES;
  out->recent_count = CBT_DEFAULT_RECENT_COUNT;
  out->max_timeouts = CBT_DEFAULT_MAX_TIMEOUTS;
  out->min_circs = CBT_DEFAULT_MIN_CIRCS;
  out->quantile_pct = CBT_DEFAULT_QUANTILE_PCT;
  out->close_quantile_pct = CBT_DEFAULT_CLOSE_QUANTILE_PCT;
  out->test_freq_s = CBT_DEFAULT_TEST_FREQ_S;
  out->min_timeout_ms = CBT_DEFAULT_MIN_TIMEOUT_MS;
  out->initial_timeout_ms = CBT_DEFAULT_INITIAL_TIMEOUT_MS;
  out->learn_timeout_s = CBT_DEFAULT_LEARN_TIMEOUT_S;
  out->max_open_circs = CBT_DEFAULT_MAX_OPEN_CIRCS;
}

/** Return consensus parameter <b>name</b> via <b>get</b>, or <b>def</b>
 * if absent.  Clamping happens afterwards in params_clamp(). */
static int64_t
param_get(cbt_param_get_fn get, void *arg, const char *name, uint32_t def)
{
  int32_t v = 0;
  if (get && get(arg, name, &v))
    return v;
  return def;
}

/* see cbt.h */
void
cbt_params_from_consensus(cbt_params_t *out, cbt_param_get_fn get, void *arg)
{
  cbt_params_t p;
  cbt_params_default(&p);
  /* path-spec §2.4.6 */
  p.disabled = param_get(get, arg, "cbtdisabled", 0) >= 1;
  p.num_modes = clamp_u32(param_get(get, arg, "cbtnummodes", p.num_modes), 0,
                          UINT32_MAX);
  p.recent_count = clamp_u32(
      param_get(get, arg, "cbtrecentcount", p.recent_count), 0, UINT32_MAX);
  p.max_timeouts = clamp_u32(
      param_get(get, arg, "cbtmaxtimeouts", p.max_timeouts), 0, UINT32_MAX);
  p.min_circs = clamp_u32(param_get(get, arg, "cbtmincircs", p.min_circs), 0,
                          UINT32_MAX);
  p.quantile_pct = clamp_u32(
      param_get(get, arg, "cbtquantile", p.quantile_pct), 0, UINT32_MAX);
  p.close_quantile_pct =
      clamp_u32(param_get(get, arg, "cbtclosequantile", p.close_quantile_pct),
                0, UINT32_MAX);
  p.test_freq_s = clamp_u32(param_get(get, arg, "cbttestfreq", p.test_freq_s),
                            0, UINT32_MAX);
  p.min_timeout_ms = clamp_u32(
      param_get(get, arg, "cbtmintimeout", p.min_timeout_ms), 0, UINT32_MAX);
  p.initial_timeout_ms =
      clamp_u32(param_get(get, arg, "cbtinitialtimeout", p.initial_timeout_ms),
                0, UINT32_MAX);
  p.learn_timeout_s =
      clamp_u32(param_get(get, arg, "cbtlearntimeout", p.learn_timeout_s), 0,
                UINT32_MAX);
  p.max_open_circs = clamp_u32(
      param_get(get, arg, "cbtmaxopencircs", p.max_open_circs), 0, UINT32_MAX);
  params_clamp(&p);
  *out = p;
}

/** Forget every build time and the fitted curve. */
static void
history_clear(cbt_t *cbt)
{
  memset(cbt->build_times_ms, 0, sizeof(cbt->build_times_ms));
  cbt->next_idx = 0;
  cbt->n_times = 0;
  cbt->have_estimate = false;
  cbt->xm_ms = 0.0;
  cbt->alpha = 0.0;
}

/** Empty the recent-outcome window (§2.4.5). */
static void
recent_clear(cbt_t *cbt)
{
  memset(cbt->recent, 0, sizeof(cbt->recent));
  cbt->recent_idx = 0;
  cbt->n_recent = 0;
  cbt->n_recent_timeouts = 0;
}

/** Append one outcome (<b>timed_out</b>) to the recent window of
 * cbtrecentcount entries, dropping the oldest when full. */
static void
recent_push(cbt_t *cbt, bool timed_out)
{
  uint32_t w = cbt->params.recent_count;
  if (cbt->n_recent == w) {
    cbt->n_recent_timeouts -= cbt->recent[cbt->recent_idx];
  } else {
    cbt->n_recent++;
  }
  cbt->recent[cbt->recent_idx] = timed_out ? 1 : 0;
  cbt->n_recent_timeouts += timed_out ? 1u : 0u;
  cbt->recent_idx = (cbt->recent_idx + 1) % w;
}

static int
cmp_u32(const void *a, const void *b)
{
  uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
  return (x > y) - (x < y);
}

/** Copy the ring's build times into <b>out</b> sorted ascending; return
 * how many. */
static uint32_t
sorted_times(const cbt_t *cbt, uint32_t out[CBT_NCIRCUITS_TO_OBSERVE])
{
  uint32_t n = cbt->n_times;
  memcpy(out, cbt->build_times_ms, (size_t)n * sizeof(uint32_t));
  qsort(out, n, sizeof(uint32_t), cmp_u32);
  return n;
}

static uint32_t
bin_of(uint32_t ms)
{
  return ms / CBT_BIN_WIDTH_MS;
}

static double
bin_mid_ms(uint32_t bin)
{
  return (double)bin * CBT_BIN_WIDTH_MS + CBT_BIN_WIDTH_MS / 2.0;
}

/** Compute Xm from <b>n</b> build times sorted ascending in
 * <b>sorted</b>: the count-weighted average of the midpoints of the
 * <b>n_modes</b> fullest bins, ties broken toward shorter bins
 * (path-spec §2.4.3).  n >= 1. */
static double
estimate_xm(const uint32_t *sorted, uint32_t n, uint32_t n_modes)
{
  uint32_t mode_bin[CBT_NUM_MODES_MAX];
  uint32_t mode_cnt[CBT_NUM_MODES_MAX];
  uint32_t have = 0;
  uint32_t i = 0;
  while (i < n) {
    uint32_t bin = bin_of(sorted[i]);
    uint32_t j = i;
    while (j < n && bin_of(sorted[j]) == bin)
      j++;
    uint32_t cnt = j - i;
    i = j;
    /* Bins arrive in ascending order, so a later bin only displaces an
     * earlier one with a strictly larger count: ties favour short bins. */
    uint32_t pos;
    if (have < n_modes) {
      pos = have++;
    } else if (cnt > mode_cnt[have - 1]) {
      pos = have - 1;
    } else {
      continue;
    }
    while (pos > 0 && mode_cnt[pos - 1] < cnt) {
      mode_bin[pos] = mode_bin[pos - 1];
      mode_cnt[pos] = mode_cnt[pos - 1];
      pos--;
    }
    mode_bin[pos] = bin;
    mode_cnt[pos] = cnt;
  }
  double num = 0.0, den = 0.0;
  for (uint32_t k = 0; k < have; k++) {
    num += bin_mid_ms(mode_bin[k]) * (double)mode_cnt[k];
    den += (double)mode_cnt[k];
  }
  return num / den;
}

/** Convert a non-negative finite ms value to uint32_t, saturating. */
static uint32_t
ms_from_double(double v)
{
  if (!(v >= 0.0))
    return 0;
  if (v >= (double)CBT_BUILD_TIME_MAX_MS)
    return CBT_BUILD_TIME_MAX_MS;
  return (uint32_t)v;
}

/** Fit the Pareto curve to the history and set the timeouts from it
 * (§2.4.3).  Requires n_times >= 1. */
static void
fit_and_set(cbt_t *cbt)
{
  uint32_t sorted[CBT_NCIRCUITS_TO_OBSERVE];
  uint32_t n = sorted_times(cbt, sorted);
  const cbt_params_t *p = &cbt->params;
  double xm = estimate_xm(sorted, n, p->num_modes);
  double max_obs = (double)sorted[n - 1];

  /* alpha = n / (Sum ln(max(Xm, x_i)) - n ln(Xm)), written with a sum
   * of logs followed by a subtraction as §2.4.3 advises. */
  double log_sum = 0.0;
  for (uint32_t i = 0; i < n; i++) {
    double x = (double)sorted[i];
    log_sum += log(x > xm ? x : xm);
  }
  double denom = log_sum - (double)n * log(xm);
  double q = (double)p->quantile_pct / 100.0;
  double cq = (double)p->close_quantile_pct / 100.0;
  double t, c, alpha;
  if (denom > 0.0 && isfinite(denom)) {
    alpha = (double)n / denom;
    t = xm / pow(1.0 - q, 1.0 / alpha);
    c = xm / pow(1.0 - cq, 1.0 / alpha);
  } else {
    /* Every build was at or below Xm: the curve degenerates to a spike
     * at Xm (alpha -> infinity), so every quantile is Xm.  Reported as
     * alpha 0. */
    alpha = 0.0;
    t = xm;
    c = xm;
  }
  /* timeout_ms = MIN(timeout_ms, max_observed), at least cbtmintimeout */
  if (t > max_obs)
    t = max_obs;
  if (t < (double)p->min_timeout_ms)
    t = (double)p->min_timeout_ms;
  /* close_ms = MAX(MIN(close_ms, 2*max_observed), cbtinitialtimeout) */
  if (c > 2.0 * max_obs)
    c = 2.0 * max_obs;
  if (c < (double)p->initial_timeout_ms)
    c = (double)p->initial_timeout_ms;
  if (c < t)
    c = t;
  cbt->xm_ms = xm;
  cbt->alpha = alpha;
  cbt->timeout_ms = ms_from_double(t);
  cbt->close_ms = ms_from_double(c);
  cbt->have_estimate = true;
}

/** Set the timeouts from the history if there is enough of it, else
 * to <b>fallback</b> (cbtinitialtimeout, or what a §2.4.5 reset doubled
 * it to).  Return true iff a curve was fitted. */
static bool
apply(cbt_t *cbt, uint32_t fallback)
{
  if (!cbt->params.disabled && cbt->n_times >= cbt->params.min_circs) {
    fit_and_set(cbt);
    return true;
  }
  cbt->have_estimate = false;
  cbt->xm_ms = 0.0;
  cbt->alpha = 0.0;
  cbt->timeout_ms = fallback;
  cbt->close_ms = fallback;
  return false;
}

/* see cbt.h */
void
cbt_init(cbt_t *cbt, const cbt_params_t *params)
{
  memset(cbt, 0, sizeof(*cbt));
  if (params)
    cbt->params = *params;
  else
    cbt_params_default(&cbt->params);
  params_clamp(&cbt->params);
  history_clear(cbt);
  recent_clear(cbt);
  (void)apply(cbt, cbt->params.initial_timeout_ms);
}

/* see cbt.h */
void
cbt_set_params(cbt_t *cbt, const cbt_params_t *params)
{
  cbt_params_t old = cbt->params;
  cbt_params_t p = *params;
  params_clamp(&p);
  /* A timeout above the old initial one without a fit was doubled by a
   * reset; keep that, but never below the new initial timeout. */
  uint32_t fallback = p.initial_timeout_ms;
  if (!cbt->have_estimate && cbt->timeout_ms > old.initial_timeout_ms &&
      cbt->timeout_ms > fallback)
    fallback = cbt->timeout_ms;
  cbt->params = p;
  if (p.disabled) {
    /* §2.4.6 cbtdisabled: "history should be discarded". */
    history_clear(cbt);
    recent_clear(cbt);
    fallback = p.initial_timeout_ms;
  } else if (p.recent_count != old.recent_count) {
    recent_clear(cbt);
  }
  (void)apply(cbt, fallback);
}

/** §2.4.5: discard the history and fall back to cbtinitialtimeout, or
 * double the timeout if it already was at least that. */
static void
network_reset(cbt_t *cbt)
{
  uint32_t initial = cbt->params.initial_timeout_ms;
  uint32_t cap = initial > CBT_DOUBLED_TIMEOUT_MAX_MS
                     ? initial
                     : CBT_DOUBLED_TIMEOUT_MAX_MS;
  uint32_t fallback = initial;
  if (cbt->timeout_ms >= initial) {
    uint64_t doubled = (uint64_t)cbt->timeout_ms * 2u;
    fallback = doubled > cap ? cap : (uint32_t)doubled;
    if (fallback < initial)
      fallback = initial;
  }
  history_clear(cbt);
  recent_clear(cbt);
  cbt->n_resets++;
  (void)apply(cbt, fallback);
}

/* see cbt.h */
cbt_update_t
cbt_add_build_time(cbt_t *cbt, uint32_t build_ms)
{
  if (cbt->params.disabled)
    return CBT_UPDATE_NONE;
  if (build_ms > CBT_BUILD_TIME_MAX_MS)
    build_ms = CBT_BUILD_TIME_MAX_MS;
  bool in_time = build_ms <= cbt->timeout_ms;
  cbt->build_times_ms[cbt->next_idx] = build_ms;
  cbt->next_idx = (cbt->next_idx + 1) % CBT_NCIRCUITS_TO_OBSERVE;
  if (cbt->n_times < CBT_NCIRCUITS_TO_OBSERVE)
    cbt->n_times++;
  cbt->n_builds_total++;
  if (in_time)
    recent_push(cbt, false);
  if (cbt->n_times >= cbt->params.min_circs) {
    fit_and_set(cbt);
    return CBT_UPDATE_COMPUTED;
  }
  return CBT_UPDATE_NONE;
}

/* see cbt.h */
cbt_update_t
cbt_add_timeout(cbt_t *cbt)
{
  if (cbt->params.disabled)
    return CBT_UPDATE_NONE;
  cbt->n_timeouts_total++;
  recent_push(cbt, true);
  /* cbtmaxtimeouts: "When this many timeouts happen in the last
   * 'cbtrecentcount' circuit attempts" -- so >=, and never when
   * cbtmaxtimeouts > cbtrecentcount. */
  if (cbt->n_recent_timeouts >= cbt->params.max_timeouts) {
    network_reset(cbt);
    return CBT_UPDATE_RESET;
  }
  return CBT_UPDATE_NONE;
}

/* see cbt.h */
uint32_t
cbt_timeout_ms(const cbt_t *cbt)
{
  return cbt->timeout_ms;
}

/* see cbt.h */
uint32_t
cbt_close_ms(const cbt_t *cbt)
{
  return cbt->close_ms;
}

/** Scale <b>ms</b> (valid for 3 hops) by Actions(n)/Actions(3). */
static uint32_t
scale_for_hops(uint32_t ms, unsigned n_hops)
{
  /* path-spec §2.4.3: Actions(N) = N * (N + 1) / 2; Actions(3) = 6. */
  uint64_t n = n_hops ? n_hops : 1u;
  if (n > 1000u)
    n = 1000u; /* keeps the product below 2^64 */
  uint64_t actions = n * (n + 1u) / 2u;
  uint64_t v = (uint64_t)ms * actions / 6u;
  return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* see cbt.h */
uint32_t
cbt_timeout_ms_for_hops(const cbt_t *cbt, unsigned n_hops)
{
  return scale_for_hops(cbt->timeout_ms, n_hops);
}

/* see cbt.h */
uint32_t
cbt_close_ms_for_hops(const cbt_t *cbt, unsigned n_hops)
{
  return scale_for_hops(cbt->close_ms, n_hops);
}

/* see cbt.h */
size_t
cbt_n_observed(const cbt_t *cbt)
{
  return cbt->n_times;
}

/* see cbt.h */
bool
cbt_is_learning(const cbt_t *cbt)
{
  return !cbt->params.disabled && cbt->n_times < cbt->params.min_circs;
}

/* see cbt.h */
bool
cbt_wants_test_circuit(const cbt_t *cbt, uint64_t ms_since_last,
                       uint32_t n_open)
{
  if (!cbt_is_learning(cbt))
    return false;
  if (n_open >= cbt->params.max_open_circs)
    return false;
  return ms_since_last >= (uint64_t)cbt->params.test_freq_s * 1000u;
}

/* see cbt.h */
void
cbt_get_stats(const cbt_t *cbt, cbt_stats_t *out)
{
  memset(out, 0, sizeof(*out));
  out->timeout_ms = cbt->timeout_ms;
  out->close_ms = cbt->close_ms;
  out->n_observed = cbt->n_times;
  out->have_estimate = cbt->have_estimate;
  out->xm_ms = cbt->xm_ms;
  out->alpha = cbt->alpha;
  out->n_recent = cbt->n_recent;
  out->n_recent_timeouts = cbt->n_recent_timeouts;
  out->n_builds_total = cbt->n_builds_total;
  out->n_timeouts_total = cbt->n_timeouts_total;
  out->n_resets = cbt->n_resets;
}

/* see cbt.h */
size_t
cbt_histogram(const cbt_t *cbt, cbt_bin_t *out, size_t max)
{
  uint32_t sorted[CBT_NCIRCUITS_TO_OBSERVE];
  uint32_t n = sorted_times(cbt, sorted);
  size_t n_bins = 0;
  uint32_t i = 0;
  while (i < n) {
    uint32_t bin = bin_of(sorted[i]);
    uint32_t j = i;
    while (j < n && bin_of(sorted[j]) == bin)
      j++;
    if (n_bins < max) {
      out[n_bins].bin_ms = bin * CBT_BIN_WIDTH_MS + CBT_BIN_WIDTH_MS / 2;
      out[n_bins].count = j - i;
    }
    n_bins++;
    i = j;
  }
  return n_bins;
}

/* see cbt.h */
chive_err_t
cbt_save(const cbt_t *cbt, char *buf, size_t buf_len, size_t *len_out)
{
  cbt_bin_t bins[CBT_NCIRCUITS_TO_OBSERVE];
  size_t n_bins = cbt_histogram(cbt, bins, CHIVE_ARRAY_LEN(bins));
  size_t off = 0;
  if (buf_len == 0)
    return CHIVE_ERR_LIMIT;
  for (size_t i = 0; i < n_bins; i++) {
    int r = snprintf(buf + off, buf_len - off, "%s %u %u\n", CBT_STATE_KEYWORD,
                     (unsigned)bins[i].bin_ms, (unsigned)bins[i].count);
    if (r < 0 || (size_t)r >= buf_len - off) {
      buf[off] = '\0';
      return CHIVE_ERR_LIMIT;
    }
    off += (size_t)r;
  }
  buf[off] = '\0';
  *len_out = off;
  return CHIVE_OK;
}

/** Parse the line of <b>len</b> bytes at <b>line</b> (no newline).  If
 * it is a CircuitBuildTimeBin line set *<b>is_bin</b>, *<b>ms</b> and
 * *<b>count</b>; other lines only clear *<b>is_bin</b>.  CHIVE_ERR_PROTO
 * for a malformed bin line. */
static chive_err_t
parse_state_line(const char *line, size_t len, bool *is_bin, uint32_t *ms,
                 uint32_t *count)
{
  const size_t kw_len = sizeof(CBT_STATE_KEYWORD) - 1;
  *is_bin = false;
  len = str_trim_end(line, len);
  if (len < kw_len || memcmp(line, CBT_STATE_KEYWORD, kw_len) != 0)
    return CHIVE_OK;
  if (len > kw_len && !ascii_isspace((unsigned char)line[kw_len]))
    return CHIVE_OK; /* another keyword that merely starts the same way */
  const char *s = line + kw_len;
  size_t left = len - kw_len;
  const char *tok[2];
  size_t tok_len[2];
  for (int i = 0; i < 2; i++) {
    size_t sp = str_span_space(s, left);
    if (sp == 0)
      return CHIVE_ERR_PROTO;
    s += sp;
    left -= sp;
    tok[i] = s;
    tok_len[i] = str_span_nonspace(s, left);
    if (tok_len[i] == 0)
      return CHIVE_ERR_PROTO;
    s += tok_len[i];
    left -= tok_len[i];
  }
  if (left != 0)
    return CHIVE_ERR_PROTO; /* trailing fields (trailing space was cut) */
  uint32_t v_ms, v_count;
  if (parse_u32(tok[0], tok_len[0], 10, 0, CBT_BUILD_TIME_MAX_MS, &v_ms) ||
      parse_u32(tok[1], tok_len[1], 10, 0, UINT32_MAX, &v_count))
    return CHIVE_ERR_PROTO;
  *is_bin = true;
  *ms = v_ms;
  *count = v_count;
  return CHIVE_OK;
}

/** Call parse_state_line() on each line of <b>text</b>.  First pass
 * (<b>out</b> NULL): validate and sum the counts into *<b>total</b>.
 * Second pass: append min(count, count * CBT_NCIRCUITS_TO_OBSERVE /
 * total) copies of each bin to <b>out</b>, counting in *<b>n_out</b>. */
static chive_err_t
walk_state(const char *text, size_t len, uint64_t *total, uint32_t *out,
           uint32_t *n_out)
{
  size_t off = 0;
  while (off < len) {
    const char *line = text + off;
    const char *nl = memchr(line, '\n', len - off);
    size_t line_len = nl ? (size_t)(nl - line) : len - off;
    off += line_len + (nl ? 1u : 0u);
    bool is_bin;
    uint32_t ms = 0, count = 0;
    chive_err_t err = parse_state_line(line, line_len, &is_bin, &ms, &count);
    if (err)
      return err;
    if (!is_bin)
      continue;
    if (!out) {
      *total += count;
      continue;
    }
    uint64_t take = count;
    if (*total > CBT_NCIRCUITS_TO_OBSERVE)
      take = (uint64_t)count * CBT_NCIRCUITS_TO_OBSERVE / *total;
    for (uint64_t k = 0; k < take && *n_out < CBT_NCIRCUITS_TO_OBSERVE; k++)
      out[(*n_out)++] = ms;
  }
  return CHIVE_OK;
}

/* see cbt.h */
chive_err_t
cbt_load(cbt_t *cbt, const char *text, size_t len, cbt_rand_fn rand,
         void *rand_arg)
{
  if (!rand || (!text && len))
    return CHIVE_ERR_INVAL;
  if (len > CBT_STATE_TEXT_MAX_LEN)
    return CHIVE_ERR_LIMIT;
  if (len && mem_has_nul(text, len))
    return CHIVE_ERR_PROTO;
  uint64_t total = 0;
  chive_err_t err = walk_state(text, len, &total, NULL, NULL);
  if (err)
    return err;
  uint32_t times[CBT_NCIRCUITS_TO_OBSERVE];
  uint32_t n = 0;
  err = walk_state(text, len, &total, times, &n);
  if (err)
    return err;
  /* §2.4.2: "The timeouts recorded in the histogram must be shuffled
   * after being read from disk" (Fisher-Yates). */
  for (uint32_t i = n; i > 1; i--) {
    uint32_t j = rand(rand_arg, i);
    if (j >= i)
      j %= i; /* a misbehaving generator must not index out of bounds */
    uint32_t tmp = times[i - 1];
    times[i - 1] = times[j];
    times[j] = tmp;
  }
  /* Keep a timeout doubled by a reset (no fit, above initial). */
  uint32_t fallback = cbt->params.initial_timeout_ms;
  if (!cbt->have_estimate && cbt->timeout_ms > fallback)
    fallback = cbt->timeout_ms;
  history_clear(cbt);
  memcpy(cbt->build_times_ms, times, (size_t)n * sizeof(uint32_t));
  cbt->n_times = n;
  cbt->next_idx = n % CBT_NCIRCUITS_TO_OBSERVE;
  (void)apply(cbt, fallback);
  return CHIVE_OK;
}
