/**
 * @file guards.c
 * @brief guard-spec's entry-guard algorithm: sampled, filtered, usable,
 * confirmed and primary guards; per-circuit guard states; persistence in
 * the state file.
 *
 * Data: every sampled guard is a heap guard_t owned by the `sampled`
 * array, in sample order (guard-spec §4.1).  `confirmed` and `primary`
 * hold borrowed pointers into the same objects, in their own orders.
 * Filtered/usable membership is a flag recomputed from the stored
 * candidate view (a sorted copy of the last consensus' candidates).
 * Circuits refer to guards by (RSA identity, serial), never by pointer,
 * so a guard that leaves the sample cannot dangle.
 *
 * Interpretations of the spec (written down where they are used):
 * - MAX_SAMPLE_THRESHOLD is a fraction of the *number* of possible guards,
 *   as guard-spec §4.1 says (param-spec calls it bandwidth-weighted).
 * - A usable-if-no-better-guard circuit whose guard becomes primary when
 *   it is confirmed is complete at once (tor does the same; otherwise no
 *   rule of §4.9 could ever release it, as the primaries are not down).
 * - When every sampled guard is unusable (§4.6 last bullet), we mark all
 *   of them <maybe> and retry the selection once in the same call.
 * - The network-down heuristic (§4.8) is kept in its simple form: the
 *   caller reports activity with guards_note_internet_activity(), and a
 *   successful circuit counts as activity.
 **/
#include "lib/cc/compat.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "chive/version.h"
#include "feature/nodes/guards.h"
#include "lib/crypto/rand.h"
#include "lib/encoding/base16.h"
#include "lib/err/err.h"
#include "lib/text/numparse.h"
#include "lib/text/str.h"
#include "lib/text/strbuf.h"
#include "lib/time/timefmt.h"

/** Most primary guards, whatever the parameters say. */
#define GUARDS_MAX_PRIMARY 64u
/** Longest sampled_by value kept, bytes. */
#define GUARD_SAMPLED_BY_MAX_LEN 64u
/** Most K=V items in one Guard entry. */
#define GUARD_ENTRY_MAX_ITEMS 64u
/** Seconds per day. */
#define DAY_S ((int64_t)86400)
#define HOUR_S ((int64_t)3600)
#define MIN_S ((int64_t)60)

typedef struct guard_t {
  /* Persistent (guard-spec §4.1, §4.3, A.5). */
  uint8_t rsa_id[GUARD_RSA_ID_LEN];
  char nickname[GUARD_NICKNAME_BUF_LEN];
  char sampled_by[GUARD_SAMPLED_BY_MAX_LEN + 1];
  int64_t sampled_on;
  bool is_listed;
  int64_t unlisted_since; /**< 0 when listed */
  int64_t confirmed_on;   /**< 0 when not confirmed */
  int confirmed_idx;      /**< -1 when not confirmed */
  char *extra;            /**< unknown K=V items, kept verbatim, or NULL */
  /* Transient (guard-spec §4.1). */
  uint64_t serial;
  int64_t last_tried; /**< 0: never */
  guard_reachable_t reachable;
  int64_t failing_since; /**< 0: not failing */
  bool is_pending;
  bool is_filtered;
  int primary_idx; /**< -1 when not primary */
  /* From the current consensus, if the relay is in it. */
  bool in_consensus;
  bool is_running;
  uint8_t ed_id[GUARD_ED_ID_LEN];
  bool has_ed;
  uint32_t ipv4;
  uint16_t port;
  /* Load-time ordering only. */
  uint64_t load_order;
} guard_t;

struct guards_t {
  guards_config_t cfg;
  guard_t **sampled; /**< GUARDS_MAX_SAMPLED slots, sample order */
  size_t n_sampled;
  guard_t **confirmed; /**< GUARDS_MAX_SAMPLED slots, confirmed order */
  size_t n_confirmed;
  guard_t *primary[GUARDS_MAX_PRIMARY];
  size_t n_primary;
  guard_candidate_t *cands; /**< sorted by rsa_id */
  size_t n_cands;
  size_t n_possible; /**< cands that are possible guards (§4.0) */
  bool have_consensus;
  int64_t last_time_on_internet; /**< 0: never (§4.6) */
  uint64_t next_serial;
  bool dirty;
};

struct guard_circ_t {
  uint8_t rsa_id[GUARD_RSA_ID_LEN];
  uint64_t serial; /**< 0: no guard state (UseEntryGuards 0) */
  guard_circ_state_t state;
  int64_t state_set_at;
  guard_usage_t usage;
  uint8_t (*excluded_ids)[GUARD_RSA_ID_LEN];
  size_t n_excluded_ids;
  uint32_t excluded_ipv4;
};

/** A restriction as both guards_select() and stored circuits see it. */
typedef struct rview_t {
  const uint8_t (*ids)[GUARD_RSA_ID_LEN];
  size_t n_ids;
  uint32_t ipv4;
} rview_t;

/* ---------------------------------------------------------------- */
/* Configuration */

void
guards_config_defaults(guards_config_t *cfg)
{
  memset(cfg, 0, sizeof(*cfg));
  /* guard-spec A.1, param-spec §11 defaults. */
  cfg->n_primary = 3;
  cfg->n_usable_primary = 1;
  cfg->n_usable_primary_dir = 3;
  cfg->max_sample_size = 60;
  cfg->max_sample_threshold_pct = 20;
  cfg->min_filtered_sample = 20;
  cfg->lifetime_s = 120 * DAY_S;
  cfg->confirmed_min_lifetime_s = 60 * DAY_S;
  cfg->remove_unlisted_after_s = 20 * DAY_S;
  cfg->internet_likely_down_s = 600;
  cfg->nonprimary_connect_timeout_s = 15;
  cfg->nonprimary_idle_timeout_s = 600;
  cfg->use_entry_guards = true;
  cfg->instance = "default";
}

static uint64_t
rand_below(const guards_t *g, uint64_t n)
{
  if (n <= 1)
    return 0;
  if (g->cfg.rand_fn) {
    uint64_t v = g->cfg.rand_fn(g->cfg.rand_arg, n);
    return v < n ? v : v % n;
  }
  return crypto_rand_u64_below(n);
}

/** guard-spec A.2 RAND(now, interval): a time in (now - interval, now]. */
static int64_t
rand_past(const guards_t *g, int64_t now, int64_t interval)
{
  if (interval <= 0)
    return now;
  return now - (int64_t)rand_below(g, (uint64_t)interval);
}

/** Number of primary guards: NumEntryGuards (and NumDirectoryGuards)
 * override guard-n-primary-guards the way tor's options do. */
static size_t
n_primary_wanted(const guards_t *g)
{
  size_t n;
  size_t nd = g->cfg.num_directory_guards;
  size_t ne = g->cfg.num_entry_guards;
  if (ne > 5)
    n = ne + ne / 2;
  else if (ne >= 1)
    n = ne * 2;
  else
    n = g->cfg.n_primary;
  if (ne >= 1 && nd > n)
    n = nd;
  if (n < 1)
    n = 1;
  if (n > GUARDS_MAX_PRIMARY)
    n = GUARDS_MAX_PRIMARY;
  return n;
}

/** Number of primary guards used in parallel for <b>usage</b>. */
static size_t
n_usable_primary(const guards_t *g, guard_usage_t usage)
{
  size_t n;
  if (usage == GUARD_USAGE_DIR)
    n = g->cfg.num_directory_guards ? g->cfg.num_directory_guards
                                    : g->cfg.n_usable_primary_dir;
  else
    n = g->cfg.num_entry_guards ? g->cfg.num_entry_guards
                                : g->cfg.n_usable_primary;
  return n < 1 ? 1 : n;
}

/* see guards.h */
chive_err_t
guards_new(const guards_config_t *cfg, guards_t **out)
{
  *out = NULL;
  if (BUG(!cfg))
    return CHIVE_ERR_INVAL;
  if (cfg->n_primary < 1 || cfg->max_sample_size < 1 ||
      cfg->min_filtered_sample < 1 || cfg->max_sample_threshold_pct < 1 ||
      cfg->max_sample_threshold_pct > 100 || cfg->lifetime_s < 1 ||
      cfg->confirmed_min_lifetime_s < 1 || cfg->remove_unlisted_after_s < 1 ||
      cfg->internet_likely_down_s < 1 ||
      cfg->nonprimary_connect_timeout_s < 1 ||
      cfg->nonprimary_idle_timeout_s < 1)
    return CHIVE_ERR_INVAL;
  const char *inst = cfg->instance ? cfg->instance : "default";
  size_t ilen = strlen(inst);
  if (ilen == 0 || ilen > 32)
    return CHIVE_ERR_INVAL;
  for (size_t i = 0; i < ilen; i++) {
    if (!ascii_isalnum((unsigned char)inst[i]) && inst[i] != '_' &&
        inst[i] != '-')
      return CHIVE_ERR_INVAL;
  }
  guards_t *g = chive_zalloc(sizeof(*g));
  if (!g)
    return CHIVE_ERR_NOMEM;
  g->cfg = *cfg;
  g->cfg.instance = inst;
  g->sampled = chive_calloc(GUARDS_MAX_SAMPLED, sizeof(guard_t *));
  g->confirmed = chive_calloc(GUARDS_MAX_SAMPLED, sizeof(guard_t *));
  if (!g->sampled || !g->confirmed) {
    guards_free(g);
    return CHIVE_ERR_NOMEM;
  }
  g->next_serial = 1;
  *out = g;
  return CHIVE_OK;
}

static void
guard_free(guard_t *gd)
{
  if (!gd)
    return;
  chive_free(gd->extra);
  chive_free(gd);
}

/** Forget every sampled guard. */
static void
clear_sample(guards_t *g)
{
  for (size_t i = 0; i < g->n_sampled; i++)
    guard_free(g->sampled[i]);
  g->n_sampled = 0;
  g->n_confirmed = 0;
  g->n_primary = 0;
}

void
guards_free_(guards_t *g)
{
  if (!g)
    return;
  if (g->sampled)
    clear_sample(g);
  chive_free(g->sampled);
  chive_free(g->confirmed);
  chive_free(g->cands);
  chive_free(g);
}

/** A consensus parameter this module reads: name, range, and the
 * configuration field it sets (an int64_t of seconds when scale is
 * nonzero, else an unsigned count capped at cap). */
typedef struct param_def_t {
  const char *name;
  int64_t min, max;
  int64_t scale; /**< seconds per unit; 0 for a count */
  unsigned cap;  /**< counts: the module's hard limit */
  size_t offset; /**< offsetof(guards_config_t, field) */
} param_def_t;

#define P_SECS(n, lo, hi, sc, f)                   \
  {                                                \
    n, lo, hi, sc, 0, offsetof(guards_config_t, f) \
  }
#define P_COUNT(n, lo, hi, cp, f)                  \
  {                                                \
    n, lo, hi, 0, cp, offsetof(guards_config_t, f) \
  }

/* param-spec §11 names and ranges. */
static const param_def_t param_defs[] = {
    P_SECS("guard-lifetime-days", 1, 3650, DAY_S, lifetime_s),
    P_SECS("guard-confirmed-min-lifetime-days", 1, 3650, DAY_S,
           confirmed_min_lifetime_s),
    P_SECS("guard-internet-likely-down-interval", 1, INT32_MAX, 1,
           internet_likely_down_s),
    P_COUNT("guard-max-sample-size", 1, INT32_MAX, GUARDS_MAX_SAMPLED,
            max_sample_size),
    P_COUNT("guard-max-sample-threshold-percent", 1, 100, 100,
            max_sample_threshold_pct),
    P_COUNT("guard-min-filtered-sample-size", 1, INT32_MAX, GUARDS_MAX_SAMPLED,
            min_filtered_sample),
    P_COUNT("guard-n-primary-guards", 1, INT32_MAX, GUARDS_MAX_PRIMARY,
            n_primary),
    P_COUNT("guard-n-primary-guards-to-use", 1, INT32_MAX, GUARDS_MAX_PRIMARY,
            n_usable_primary),
    P_COUNT("guard-n-primary-dir-guards-to-use", 1, INT32_MAX,
            GUARDS_MAX_PRIMARY, n_usable_primary_dir),
    P_SECS("guard-nonprimary-guard-connect-timeout", 1, INT32_MAX, 1,
           nonprimary_connect_timeout_s),
    P_SECS("guard-nonprimary-guard-idle-timeout", 1, INT32_MAX, 1,
           nonprimary_idle_timeout_s),
    P_SECS("guard-remove-unlisted-guards-after-days", 1, 3650, DAY_S,
           remove_unlisted_after_s),
};

/* see guards.h */
chive_err_t
guards_set_param(guards_t *g, const char *name, int64_t value)
{
  if (BUG(!g || !name))
    return CHIVE_ERR_INVAL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(param_defs); i++) {
    const param_def_t *d = &param_defs[i];
    if (strcmp(d->name, name) != 0)
      continue;
    int64_t v = value < d->min ? d->min : value > d->max ? d->max : value;
    char *field = (char *)&g->cfg + d->offset;
    if (d->scale) {
      int64_t s = v * d->scale;
      memcpy(field, &s, sizeof(s));
    } else {
      unsigned u = v > (int64_t)d->cap ? d->cap : (unsigned)v;
      memcpy(field, &u, sizeof(u));
    }
    return CHIVE_OK;
  }
  return CHIVE_ERR_NOTFOUND;
}

/* ---------------------------------------------------------------- */
/* Lookups and predicates */

static int
cmp_cand(const void *a, const void *b)
{
  return memcmp(((const guard_candidate_t *)a)->rsa_id,
                ((const guard_candidate_t *)b)->rsa_id, GUARD_RSA_ID_LEN);
}

static const guard_candidate_t *
find_cand(const guards_t *g, const uint8_t *rsa_id)
{
  if (!g->n_cands)
    return NULL;
  guard_candidate_t key;
  memcpy(key.rsa_id, rsa_id, GUARD_RSA_ID_LEN);
  return bsearch(&key, g->cands, g->n_cands, sizeof(guard_candidate_t),
                 cmp_cand);
}

static guard_t *
find_guard(const guards_t *g, const uint8_t *rsa_id)
{
  for (size_t i = 0; i < g->n_sampled; i++) {
    if (fast_memeq(g->sampled[i]->rsa_id, rsa_id, GUARD_RSA_ID_LEN))
      return g->sampled[i];
  }
  return NULL;
}

/** The guard a circuit was built through, if it is still sampled (and
 * is the same sampling of that relay). */
static guard_t *
circ_guard(const guards_t *g, const guard_circ_t *c)
{
  guard_t *gd = find_guard(g, c->rsa_id);
  return (gd && gd->serial == c->serial) ? gd : NULL;
}

/** guard-spec §4.0: a relay in {GUARDS} has Guard, Stable, Fast and
 * V2Dir (and is Valid). */
static bool
possible_guard(const guard_candidate_t *c)
{
  return c->is_guard_flag && c->is_stable && c->is_fast && c->is_valid &&
         c->is_v2dir;
}

/** guard-spec §4.2: membership of FILTERED_GUARDS.  Path-bias disabling is
 * not implemented. */
static bool
passes_filter(const guards_t *g, const guard_t *gd)
{
  if (!gd->is_listed || !gd->in_consensus || !gd->is_running)
    return false;
  if (!g->cfg.filter)
    return true;
  const guard_candidate_t *c = find_cand(g, gd->rsa_id);
  return c && g->cfg.filter(c, g->cfg.filter_arg);
}

static bool
usable_filtered(const guard_t *gd)
{
  return gd->is_filtered && gd->reachable != GUARD_REACHABLE_NO;
}

static bool
obeys(const rview_t *r, const guard_t *gd)
{
  if (!r)
    return true;
  if (r->ipv4 && gd->ipv4 && (r->ipv4 >> 16) == (gd->ipv4 >> 16))
    return false;
  for (size_t i = 0; i < r->n_ids; i++) {
    if (fast_memeq(r->ids[i], gd->rsa_id, GUARD_RSA_ID_LEN))
      return false;
  }
  return true;
}

static rview_t
circ_rview(const guard_circ_t *c)
{
  rview_t r = {(const uint8_t(*)[GUARD_RSA_ID_LEN])c->excluded_ids,
               c->n_excluded_ids, c->excluded_ipv4};
  return r;
}

/** guard-spec §4.3: is <b>a</b> higher priority than <b>b</b>? */
static bool
higher_priority(const guard_t *a, const guard_t *b)
{
  if (a == b)
    return false;
  if (a->confirmed_idx >= 0 && b->confirmed_idx >= 0)
    return a->confirmed_idx < b->confirmed_idx;
  if (a->confirmed_idx >= 0)
    return true;
  if (b->confirmed_idx >= 0)
    return false;
  if (a->is_pending && b->is_pending)
    return a->last_tried < b->last_tried;
  return a->is_pending && !b->is_pending;
}

static void
hex_id(const uint8_t *id, char out[2 * GUARD_RSA_ID_LEN + 1])
{
  if (base16_encode(id, GUARD_RSA_ID_LEN, out, 2 * GUARD_RSA_ID_LEN + 1,
                    BASE16_UPPER) != CHIVE_OK)
    out[0] = '\0';
}

/* ---------------------------------------------------------------- */
/* Retry schedules (guard-spec §4.5, A.1) */

/** How long to wait after the last attempt before retrying a guard that
 * has been failing since <b>failing_since</b>. */
static int64_t
retry_delay(int64_t failing_since, int64_t now, bool is_primary)
{
  /* PRIMARY_GUARDS_RETRY_SCHED: 10 min for 6 h, 90 min for the next 90 h,
   * 4 h for the next 3 days, then 9 h.  GUARDS_RETRY_SCHED: 1 h, 4 h,
   * 18 h, 36 h over the same periods. */
  static const int64_t prim[4] = {10 * MIN_S, 90 * MIN_S, 4 * HOUR_S,
                                  9 * HOUR_S};
  static const int64_t other[4] = {1 * HOUR_S, 4 * HOUR_S, 18 * HOUR_S,
                                   36 * HOUR_S};
  const int64_t *s = is_primary ? prim : other;
  int64_t t =
      failing_since > 0 && now > failing_since ? now - failing_since : 0;
  if (t < 6 * HOUR_S)
    return s[0];
  if (t < 96 * HOUR_S)
    return s[1];
  if (t < 168 * HOUR_S)
    return s[2];
  return s[3];
}

/** Flip an unreachable guard back to <maybe> once its retry time came. */
static void
consider_retry(guard_t *gd, int64_t now)
{
  if (gd->reachable != GUARD_REACHABLE_NO)
    return;
  int64_t delay = retry_delay(gd->failing_since, now, gd->primary_idx >= 0);
  if (gd->last_tried == 0 || now >= gd->last_tried + delay)
    gd->reachable = GUARD_REACHABLE_MAYBE;
}

static void
consider_retry_all(guards_t *g, int64_t now)
{
  for (size_t i = 0; i < g->n_sampled; i++)
    consider_retry(g->sampled[i], now);
}

/* ---------------------------------------------------------------- */
/* Sample maintenance */

static void
refilter(guards_t *g)
{
  for (size_t i = 0; i < g->n_sampled; i++)
    g->sampled[i]->is_filtered = passes_filter(g, g->sampled[i]);
}

static size_t
count_usable_filtered(const guards_t *g)
{
  size_t n = 0;
  for (size_t i = 0; i < g->n_sampled; i++)
    n += usable_filtered(g->sampled[i]) ? 1u : 0u;
  return n;
}

/** guard-spec §4.1: the largest the sample may grow. */
static size_t
max_sample(const guards_t *g)
{
  size_t by_pct =
      g->n_possible * (size_t)g->cfg.max_sample_threshold_pct / 100u;
  size_t m = g->cfg.max_sample_size;
  if (by_pct < m)
    m = by_pct;
  if (m < g->cfg.min_filtered_sample)
    m = g->cfg.min_filtered_sample;
  if (m > GUARDS_MAX_SAMPLED)
    m = GUARDS_MAX_SAMPLED;
  return m;
}

/** Copy the consensus view of <b>c</b> into <b>gd</b>. */
static void
take_cand(guard_t *gd, const guard_candidate_t *c)
{
  gd->in_consensus = true;
  gd->is_running = c->is_running;
  memcpy(gd->ed_id, c->ed_id, GUARD_ED_ID_LEN);
  gd->has_ed = c->has_ed;
  gd->ipv4 = c->ipv4;
  gd->port = c->port;
  if (c->nickname[0] != '\0') {
    memcpy(gd->nickname, c->nickname, GUARD_NICKNAME_BUF_LEN);
    gd->nickname[GUARD_NICKNAME_BUF_LEN - 1] = '\0';
  }
}

/** Add candidate <b>c</b> to the sample (guard-spec §4.1). */
static chive_err_t
add_to_sample(guards_t *g, const guard_candidate_t *c, int64_t now)
{
  if (g->n_sampled >= GUARDS_MAX_SAMPLED)
    return CHIVE_ERR_LIMIT;
  guard_t *gd = chive_zalloc(sizeof(*gd));
  if (!gd)
    return CHIVE_ERR_NOMEM;
  memcpy(gd->rsa_id, c->rsa_id, GUARD_RSA_ID_LEN);
  /* ADDED_ON_DATE = RAND(now, GUARD_LIFETIME/10). */
  gd->sampled_on = rand_past(g, now, g->cfg.lifetime_s / 10);
  (void)chive_strlcpy(gd->sampled_by, "chive-" CHIVE_VERSION_STRING,
                      sizeof(gd->sampled_by));
  gd->is_listed = true;
  gd->confirmed_idx = -1;
  gd->primary_idx = -1;
  gd->serial = g->next_serial++;
  gd->reachable = GUARD_REACHABLE_MAYBE;
  take_cand(gd, c);
  g->sampled[g->n_sampled++] = gd;
  gd->is_filtered = passes_filter(g, gd);
  g->dirty = true;
  char hex[2 * GUARD_RSA_ID_LEN + 1];
  hex_id(gd->rsa_id, hex);
  log_info(g->cfg.log, LD_GUARD, "Sampled new guard $%s~%s (%zu sampled)", hex,
           gd->nickname, g->n_sampled);
  return CHIVE_OK;
}

/** guard-spec §4.2: while USABLE_FILTERED_GUARDS is smaller than
 * MIN_FILTERED_SAMPLE and the sample is below its maximum, add a guard
 * drawn from ({GUARDS} - {SAMPLED_GUARDS}) with probability proportional
 * to its guard-position weight (path-spec §5.1; uniform if every weight
 * is 0). */
static chive_err_t
expand_sample(guards_t *g, int64_t now)
{
  size_t n_usable = count_usable_filtered(g);
  size_t max = max_sample(g);
  if (!g->cfg.use_entry_guards || n_usable >= g->cfg.min_filtered_sample ||
      g->n_sampled >= max || g->n_cands == 0)
    return CHIVE_OK;
  chive_err_t e = CHIVE_OK;
  size_t *elig = chive_calloc(g->n_cands, sizeof(size_t));
  if (!elig)
    return CHIVE_ERR_NOMEM;
  size_t n_elig = 0;
  uint64_t total = 0;
  for (size_t i = 0; i < g->n_cands; i++) {
    const guard_candidate_t *c = &g->cands[i];
    if (!possible_guard(c) || find_guard(g, c->rsa_id))
      continue;
    elig[n_elig++] = i;
    total += c->weight; /* weights were clamped on copy: no overflow */
  }
  while (n_usable < g->cfg.min_filtered_sample && g->n_sampled < max &&
         n_elig > 0) {
    size_t pick = 0;
    if (total == 0) {
      pick = (size_t)rand_below(g, n_elig);
    } else {
      uint64_t r = rand_below(g, total);
      for (pick = 0; pick < n_elig; pick++) {
        uint64_t w = g->cands[elig[pick]].weight;
        if (r < w)
          break;
        r -= w;
      }
      if (BUG(pick >= n_elig))
        pick = n_elig - 1;
    }
    const guard_candidate_t *c = &g->cands[elig[pick]];
    e = add_to_sample(g, c, now);
    if (e != CHIVE_OK)
      break;
    if (usable_filtered(g->sampled[g->n_sampled - 1]))
      n_usable++;
    total -= c->weight;
    elig[pick] = elig[--n_elig];
  }
  chive_free(elig);
  return e;
}

/** Renumber confirmed_idx after removals. */
static void
renumber_confirmed(guards_t *g)
{
  for (size_t i = 0; i < g->n_confirmed; i++)
    g->confirmed[i]->confirmed_idx = (int)i;
}

/** guard-spec §4.4: recompute PRIMARY_GUARDS.  Confirmed-and-filtered
 * guards first, in confirmed order; then the previous primary guards that
 * are still filtered (a primary guard stays until a confirmed one replaces
 * it); then filtered guards in sample order. */
static void
update_primary(guards_t *g)
{
  guard_t *np[GUARDS_MAX_PRIMARY];
  size_t n = 0, want = n_primary_wanted(g);
  for (size_t i = 0; i < g->n_confirmed && n < want; i++) {
    if (g->confirmed[i]->is_filtered)
      np[n++] = g->confirmed[i];
  }
  for (size_t i = 0; i < g->n_primary && n < want; i++) {
    guard_t *gd = g->primary[i];
    if (gd->is_filtered && gd->confirmed_idx < 0)
      np[n++] = gd;
  }
  for (size_t i = 0; i < g->n_sampled && n < want; i++) {
    guard_t *gd = g->sampled[i];
    bool have = false;
    for (size_t j = 0; j < n && !have; j++)
      have = np[j] == gd;
    if (gd->is_filtered && !have)
      np[n++] = gd;
  }
  bool changed = n != g->n_primary;
  for (size_t i = 0; i < n && !changed; i++)
    changed = np[i] != g->primary[i];
  for (size_t i = 0; i < g->n_sampled; i++)
    g->sampled[i]->primary_idx = -1;
  for (size_t i = 0; i < n; i++) {
    g->primary[i] = np[i];
    np[i]->primary_idx = (int)i;
  }
  g->n_primary = n;
  if (changed && n > 0) {
    char hex[2 * GUARD_RSA_ID_LEN + 1];
    hex_id(np[0]->rsa_id, hex);
    log_info(g->cfg.log, LD_GUARD, "Primary guards now %zu, first $%s~%s", n,
             hex, np[0]->nickname);
  }
}

/** Remove sampled guard <b>idx</b>, and from the confirmed list. */
static void
remove_sampled_at(guards_t *g, size_t idx)
{
  guard_t *gd = g->sampled[idx];
  memmove(&g->sampled[idx], &g->sampled[idx + 1],
          (g->n_sampled - idx - 1) * sizeof(guard_t *));
  g->n_sampled--;
  for (size_t i = 0; i < g->n_confirmed; i++) {
    if (g->confirmed[i] == gd) {
      memmove(&g->confirmed[i], &g->confirmed[i + 1],
              (g->n_confirmed - i - 1) * sizeof(guard_t *));
      g->n_confirmed--;
      break;
    }
  }
  for (size_t i = 0; i < g->n_primary; i++) {
    if (g->primary[i] == gd) {
      memmove(&g->primary[i], &g->primary[i + 1],
              (g->n_primary - i - 1) * sizeof(guard_t *));
      g->n_primary--;
      break;
    }
  }
  renumber_confirmed(g);
  guard_free(gd);
  g->dirty = true;
}

/** guard-spec §4.1 removal rules, with a live consensus. */
static bool
expired(const guards_t *g, const guard_t *gd, int64_t now)
{
  if (!gd->is_listed && gd->unlisted_since > 0 &&
      gd->unlisted_since < now - g->cfg.remove_unlisted_after_s)
    return true;
  if (gd->sampled_on < now - g->cfg.lifetime_s &&
      (gd->confirmed_on == 0 ||
       gd->confirmed_on < now - g->cfg.confirmed_min_lifetime_s))
    return true;
  return false;
}

/** guard-spec §4.10 on the stored candidate view. */
static chive_err_t
apply_consensus(guards_t *g, int64_t now)
{
  for (size_t i = 0; i < g->n_sampled; i++) {
    guard_t *gd = g->sampled[i];
    const guard_candidate_t *c = find_cand(g, gd->rsa_id);
    bool listed = c && possible_guard(c);
    if (c)
      take_cand(gd, c);
    else
      gd->in_consensus = false;
    if (listed && !gd->is_listed) {
      gd->is_listed = true;
      gd->unlisted_since = 0;
      g->dirty = true;
    } else if (!listed && gd->is_listed) {
      gd->is_listed = false;
      /* FIRST_UNLISTED_AT, randomized (guard-spec §4.1), never before the
       * guard was sampled. */
      int64_t t = rand_past(g, now, g->cfg.remove_unlisted_after_s / 5);
      gd->unlisted_since = t < gd->sampled_on ? gd->sampled_on : t;
      if (gd->unlisted_since <= 0)
        gd->unlisted_since = 1;
      g->dirty = true;
    }
  }
  for (size_t i = g->n_sampled; i-- > 0;) {
    if (expired(g, g->sampled[i], now)) {
      char hex[2 * GUARD_RSA_ID_LEN + 1];
      hex_id(g->sampled[i]->rsa_id, hex);
      log_info(g->cfg.log, LD_GUARD, "Removing expired guard $%s", hex);
      remove_sampled_at(g, i);
    }
  }
  refilter(g);
  chive_err_t e = expand_sample(g, now);
  update_primary(g);
  return e;
}

/* see guards.h */
chive_err_t
guards_update_consensus(guards_t *g, const guard_candidate_t *cands, size_t n,
                        int64_t now)
{
  if (BUG(!g || (n > 0 && !cands)))
    return CHIVE_ERR_INVAL;
  if (n > GUARDS_MAX_CANDIDATES)
    return CHIVE_ERR_LIMIT;
  guard_candidate_t *copy = NULL;
  if (n > 0) {
    copy = chive_calloc(n, sizeof(*copy));
    if (!copy)
      return CHIVE_ERR_NOMEM;
    memcpy(copy, cands, n * sizeof(*copy));
    for (size_t i = 0; i < n; i++) {
      copy[i].nickname[GUARD_NICKNAME_BUF_LEN - 1] = '\0';
      if (copy[i].weight > GUARD_WEIGHT_MAX)
        copy[i].weight = GUARD_WEIGHT_MAX;
    }
    qsort(copy, n, sizeof(*copy), cmp_cand);
  }
  chive_free(g->cands);
  g->cands = copy;
  g->n_cands = n;
  g->n_possible = 0;
  for (size_t i = 0; i < n; i++)
    g->n_possible += possible_guard(&copy[i]) ? 1u : 0u;
  g->have_consensus = true;
  /* The consensus is committed; growing the sample can still run out of
   * memory, which leaves a smaller but consistent sample. */
  return apply_consensus(g, now);
}

void
guards_refilter(guards_t *g, int64_t now)
{
  refilter(g);
  if (expand_sample(g, now) != CHIVE_OK)
    log_warn(g->cfg.log, LD_GUARD, "Could not grow the guard sample");
  update_primary(g);
}

/* ---------------------------------------------------------------- */
/* Selection (guard-spec §4.6) */

static void
fill_pick(const guard_t *gd, guard_circ_state_t st, guard_pick_t *pick)
{
  memset(pick, 0, sizeof(*pick));
  memcpy(pick->rsa_id, gd->rsa_id, GUARD_RSA_ID_LEN);
  memcpy(pick->ed_id, gd->ed_id, GUARD_ED_ID_LEN);
  pick->has_ed = gd->has_ed;
  pick->ipv4 = gd->ipv4;
  pick->port = gd->port;
  memcpy(pick->nickname, gd->nickname, GUARD_NICKNAME_BUF_LEN);
  pick->state = st;
  pick->is_primary = gd->primary_idx >= 0;
}

/** Allocate a circuit guard state with a copy of the restriction. */
static guard_circ_t *
circ_new(const uint8_t *rsa_id, uint64_t serial, guard_circ_state_t st,
         int64_t now, const guard_restriction_t *r)
{
  guard_circ_t *c = chive_zalloc(sizeof(*c));
  if (!c)
    return NULL;
  memcpy(c->rsa_id, rsa_id, GUARD_RSA_ID_LEN);
  c->serial = serial;
  c->state = st;
  c->state_set_at = now;
  if (r) {
    c->usage = r->usage;
    c->excluded_ipv4 = r->excluded_ipv4;
    if (r->n_excluded_ids > 0) {
      c->excluded_ids =
          chive_memdup(r->excluded_ids, r->n_excluded_ids * GUARD_RSA_ID_LEN);
      if (!c->excluded_ids) {
        chive_free(c);
        return NULL;
      }
      c->n_excluded_ids = r->n_excluded_ids;
    }
  }
  return c;
}

/** UseEntryGuards 0: a weighted-random possible guard each time. */
static chive_err_t
select_no_guards(guards_t *g, int64_t now, const guard_restriction_t *r,
                 const rview_t *rv, guard_pick_t *pick,
                 guard_circ_t **circ_out)
{
  uint64_t total = 0;
  size_t n_ok = 0;
  guard_t tmp;
  for (int pass = 0; pass < 2; pass++) {
    uint64_t target = pass == 1 ? rand_below(g, total ? total : n_ok) : 0;
    for (size_t i = 0; i < g->n_cands; i++) {
      const guard_candidate_t *c = &g->cands[i];
      if (!possible_guard(c) || !c->is_running ||
          (g->cfg.filter && !g->cfg.filter(c, g->cfg.filter_arg)))
        continue;
      memset(&tmp, 0, sizeof(tmp));
      memcpy(tmp.rsa_id, c->rsa_id, GUARD_RSA_ID_LEN);
      tmp.ipv4 = c->ipv4;
      if (!obeys(rv, &tmp))
        continue;
      if (pass == 0) {
        total += c->weight;
        n_ok++;
        continue;
      }
      uint64_t w = total ? c->weight : 1;
      if (target < w) {
        take_cand(&tmp, c);
        guard_circ_t *circ =
            circ_new(c->rsa_id, 0, GUARD_CIRC_USABLE_ON_COMPLETION, now, r);
        if (!circ)
          return CHIVE_ERR_NOMEM;
        tmp.primary_idx = -1;
        fill_pick(&tmp, GUARD_CIRC_USABLE_ON_COMPLETION, pick);
        *circ_out = circ;
        return CHIVE_OK;
      }
      target -= w;
    }
    if (n_ok == 0)
      return CHIVE_ERR_NOTFOUND;
  }
  return CHIVE_ERR_INTERNAL;
}

/** First bullet of §4.6: one of the first NUM_USABLE_PRIMARY_GUARDS
 * primary guards that are not known unreachable, uniformly. */
static guard_t *
pick_primary(guards_t *g, const rview_t *rv, guard_usage_t usage)
{
  guard_t *cands[GUARDS_MAX_PRIMARY];
  size_t n = 0, want = n_usable_primary(g, usage);
  for (size_t i = 0; i < g->n_primary && n < want; i++) {
    guard_t *gd = g->primary[i];
    if (gd->reachable == GUARD_REACHABLE_NO || !gd->is_filtered ||
        !obeys(rv, gd))
      continue;
    cands[n++] = gd;
  }
  if (n == 0)
    return NULL;
  return cands[rand_below(g, n)];
}

/** Second bullet: the first confirmed usable filtered guard that is not
 * pending (else the first pending one). */
static guard_t *
pick_confirmed(guards_t *g, const rview_t *rv)
{
  guard_t *first = NULL;
  for (size_t i = 0; i < g->n_confirmed; i++) {
    guard_t *gd = g->confirmed[i];
    if (!usable_filtered(gd) || !obeys(rv, gd))
      continue;
    if (!gd->is_pending)
      return gd;
    if (!first)
      first = gd;
  }
  return first;
}

/** Third bullet: a usable filtered guard in sample order, non-pending
 * first. */
static guard_t *
pick_filtered(guards_t *g, const rview_t *rv)
{
  guard_t *first = NULL;
  for (size_t i = 0; i < g->n_sampled; i++) {
    guard_t *gd = g->sampled[i];
    if (!usable_filtered(gd) || !obeys(rv, gd))
      continue;
    if (!gd->is_pending)
      return gd;
    if (!first)
      first = gd;
  }
  return first;
}

/* see guards.h */
chive_err_t
guards_select(guards_t *g, int64_t now, const guard_restriction_t *r,
              guard_pick_t *pick, guard_circ_t **circ_out)
{
  if (BUG(!g || !pick || !circ_out))
    return CHIVE_ERR_INVAL;
  *circ_out = NULL;
  if (r && (r->n_excluded_ids > GUARD_RESTRICTION_MAX_IDS ||
            (r->n_excluded_ids > 0 && !r->excluded_ids)))
    return CHIVE_ERR_INVAL;
  rview_t rvs = {NULL, 0, 0};
  if (r) {
    rvs.ids = r->excluded_ids;
    rvs.n_ids = r->n_excluded_ids;
    rvs.ipv4 = r->excluded_ipv4;
  }
  const rview_t *rv = r ? &rvs : NULL;
  guard_usage_t usage = r ? r->usage : GUARD_USAGE_TRAFFIC;

  if (!g->cfg.use_entry_guards)
    return select_no_guards(g, now, r, rv, pick, circ_out);

  consider_retry_all(g, now);
  chive_err_t e = expand_sample(g, now);
  if (e == CHIVE_ERR_NOMEM)
    return e;
  update_primary(g);

  guard_t *gd = NULL;
  guard_circ_state_t st = GUARD_CIRC_USABLE_ON_COMPLETION;
  for (int attempt = 0; attempt < 2 && !gd; attempt++) {
    gd = pick_primary(g, rv, usage);
    if (gd) {
      st = GUARD_CIRC_USABLE_ON_COMPLETION;
      break;
    }
    st = GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD;
    gd = pick_confirmed(g, rv);
    if (!gd)
      gd = pick_filtered(g, rv);
    if (gd || attempt > 0)
      break;
    /* Last bullet: every sampled guard is unusable.  Mark them all
     * <maybe> so that we keep trying, and select again. */
    log_info(g->cfg.log, LD_GUARD,
             "No usable guards; marking all %zu as maybe reachable",
             g->n_sampled);
    for (size_t i = 0; i < g->n_sampled; i++) {
      if (g->sampled[i]->reachable == GUARD_REACHABLE_NO)
        g->sampled[i]->reachable = GUARD_REACHABLE_MAYBE;
    }
  }
  if (!gd)
    return CHIVE_ERR_NOTFOUND;
  guard_circ_t *circ = circ_new(gd->rsa_id, gd->serial, st, now, r);
  if (!circ)
    return CHIVE_ERR_NOMEM;
  /* Commit: only now touch the guard. */
  if (st == GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD)
    gd->is_pending = true; /* not for primaries (§4.6 note) */
  gd->last_tried = now;
  fill_pick(gd, st, pick);
  *circ_out = circ;
  return CHIVE_OK;
}

/* ---------------------------------------------------------------- */
/* Outcomes (guard-spec §4.7 - §4.9) */

/** Append <b>gd</b> to CONFIRMED_GUARDS (§4.3). */
static void
confirm(guards_t *g, guard_t *gd, int64_t now)
{
  if (gd->confirmed_idx >= 0)
    return;
  if (BUG(g->n_confirmed >= GUARDS_MAX_SAMPLED))
    return;
  /* CONFIRMED_ON_DATE = RAND(now, GUARD_LIFETIME/10), not before the
   * sampling. */
  int64_t t = rand_past(g, now, g->cfg.lifetime_s / 10);
  gd->confirmed_on = t < gd->sampled_on ? gd->sampled_on : t;
  if (gd->confirmed_on <= 0)
    gd->confirmed_on = 1;
  gd->confirmed_idx = (int)g->n_confirmed;
  g->confirmed[g->n_confirmed++] = gd;
  g->dirty = true;
  /* §4.4: a newly confirmed guard may displace an unconfirmed primary. */
  update_primary(g);
}

static void
mark_primary_maybe(guards_t *g)
{
  for (size_t i = 0; i < g->n_primary; i++) {
    if (g->primary[i]->reachable == GUARD_REACHABLE_NO)
      g->primary[i]->reachable = GUARD_REACHABLE_MAYBE;
  }
}

/* see guards.h */
guard_circ_state_t
guards_circuit_succeeded(guards_t *g, guard_circ_t *circ, int64_t now)
{
  if (BUG(!g || !circ))
    return GUARD_CIRC_DEAD;
  if (circ->state != GUARD_CIRC_USABLE_ON_COMPLETION &&
      circ->state != GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD)
    return circ->state == GUARD_CIRC_COMPLETE ? GUARD_CIRC_COMPLETE
                                              : GUARD_CIRC_DEAD;
  if (circ->serial == 0) { /* UseEntryGuards 0 */
    circ->state = GUARD_CIRC_COMPLETE;
    circ->state_set_at = now;
    return circ->state;
  }
  guard_t *gd = circ_guard(g, circ);
  if (!gd) {
    circ->state = GUARD_CIRC_DEAD;
    return circ->state;
  }
  int64_t last_on = g->last_time_on_internet;
  g->last_time_on_internet = now;
  /* §4.8 */
  gd->reachable = GUARD_REACHABLE_YES;
  gd->failing_since = 0;
  gd->is_pending = false;
  confirm(g, gd, now);
  if (circ->state == GUARD_CIRC_USABLE_ON_COMPLETION || gd->primary_idx >= 0) {
    circ->state = GUARD_CIRC_COMPLETE;
  } else {
    circ->state = GUARD_CIRC_WAITING_FOR_BETTER_GUARD;
    if (last_on == 0 || last_on < now - g->cfg.internet_likely_down_s) {
      /* We were probably offline: the primaries deserve another try. */
      mark_primary_maybe(g);
    }
  }
  circ->state_set_at = now;
  return circ->state;
}

static void
note_failure(guard_t *gd, int64_t now)
{
  gd->reachable = GUARD_REACHABLE_NO;
  gd->is_pending = false;
  if (gd->failing_since == 0)
    gd->failing_since = now;
  if (gd->last_tried == 0)
    gd->last_tried = now;
}

/* see guards.h */
void
guards_circuit_failed(guards_t *g, guard_circ_t *circ, int64_t now)
{
  if (BUG(!g || !circ))
    return;
  if (circ->state != GUARD_CIRC_DEAD && circ->serial != 0) {
    guard_t *gd = circ_guard(g, circ);
    if (gd) {
      note_failure(gd, now);
      char hex[2 * GUARD_RSA_ID_LEN + 1];
      hex_id(gd->rsa_id, hex);
      log_info(g->cfg.log, LD_GUARD, "Guard $%s~%s is unreachable", hex,
               gd->nickname);
    }
  }
  circ->state = GUARD_CIRC_DEAD;
  circ->state_set_at = now;
}

/* see guards.h */
void
guards_circuit_cancel(guards_t *g, guard_circ_t *circ)
{
  if (BUG(!g || !circ))
    return;
  if (circ->state == GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD) {
    guard_t *gd = circ_guard(g, circ);
    if (gd)
      gd->is_pending = false;
  }
  circ->state = GUARD_CIRC_DEAD;
}

/** §4.9: does <b>c2</b> block <b>c1</b> (whose guard is <b>g1</b>)? */
static bool
blocks(const guards_t *g, const guard_circ_t *c2, const guard_circ_t *c1,
       const guard_t *g1, int64_t now)
{
  if (c2 == c1)
    return false;
  const guard_t *g2 = circ_guard(g, c2);
  if (!g2)
    return false;
  rview_t r1 = circ_rview(c1);
  if (!obeys(&r1, g2) || c2->usage != c1->usage)
    return false;
  if (!higher_priority(g2, g1))
    return false;
  switch (c2->state) {
  case GUARD_CIRC_COMPLETE:
  case GUARD_CIRC_WAITING_FOR_BETTER_GUARD:
    return true;
  case GUARD_CIRC_USABLE_IF_NO_BETTER_GUARD:
    return now - c2->state_set_at <= g->cfg.nonprimary_connect_timeout_s;
  case GUARD_CIRC_USABLE_ON_COMPLETION:
  case GUARD_CIRC_DEAD:
  default:
    return false;
  }
}

/* see guards.h */
size_t
guards_upgrade_waiting(guards_t *g, guard_circ_t *const *circs, size_t n,
                       int64_t now)
{
  if (BUG(!g || (n > 0 && !circs)))
    return 0;
  consider_retry_all(g, now);
  for (size_t i = 0; i < g->n_primary; i++) {
    if (g->primary[i]->reachable != GUARD_REACHABLE_NO)
      return 0; /* a primary guard may still work: keep waiting */
  }
  bool *up = n ? chive_calloc(n, sizeof(bool)) : NULL;
  if (n && !up)
    return 0;
  for (size_t i = 0; i < n; i++) {
    const guard_circ_t *c1 = circs[i];
    if (!c1 || c1->state != GUARD_CIRC_WAITING_FOR_BETTER_GUARD)
      continue;
    const guard_t *g1 = circ_guard(g, c1);
    if (!g1)
      continue;
    bool blocked = false;
    for (size_t j = 0; j < n && !blocked; j++)
      blocked = circs[j] && blocks(g, circs[j], c1, g1, now);
    up[i] = !blocked;
  }
  size_t n_up = 0;
  for (size_t i = 0; i < n; i++) {
    if (up[i]) {
      circs[i]->state = GUARD_CIRC_COMPLETE;
      circs[i]->state_set_at = now;
      n_up++;
    }
  }
  chive_free(up);
  return n_up;
}

bool
guards_circ_is_expired(const guards_t *g, const guard_circ_t *circ,
                       int64_t now)
{
  return circ->state == GUARD_CIRC_WAITING_FOR_BETTER_GUARD &&
         now - circ->state_set_at > g->cfg.nonprimary_idle_timeout_s;
}

guard_circ_state_t
guard_circ_state(const guard_circ_t *circ)
{
  return circ->state;
}

const uint8_t *
guard_circ_rsa_id(const guard_circ_t *circ)
{
  return circ->rsa_id;
}

void
guard_circ_free_(guard_circ_t *circ)
{
  if (!circ)
    return;
  chive_free(circ->excluded_ids);
  chive_free(circ);
}

void
guards_mark_unreachable(guards_t *g, const uint8_t *rsa_id, int64_t now)
{
  guard_t *gd = find_guard(g, rsa_id);
  if (!gd)
    return;
  note_failure(gd, now);
  gd->last_tried = now;
}

void
guards_note_internet_activity(guards_t *g, int64_t now)
{
  g->last_time_on_internet = now;
}

/* ---------------------------------------------------------------- */
/* Introspection */

void
guards_counts(const guards_t *g, guards_counts_t *out)
{
  memset(out, 0, sizeof(*out));
  out->n_candidates = g->n_possible;
  out->n_sampled = g->n_sampled;
  out->n_confirmed = g->n_confirmed;
  out->n_primary = g->n_primary;
  for (size_t i = 0; i < g->n_sampled; i++) {
    const guard_t *gd = g->sampled[i];
    out->n_filtered += gd->is_filtered ? 1u : 0u;
    out->n_usable_filtered += usable_filtered(gd) ? 1u : 0u;
    out->n_reachable += gd->reachable == GUARD_REACHABLE_YES ? 1u : 0u;
    out->n_unreachable += gd->reachable == GUARD_REACHABLE_NO ? 1u : 0u;
  }
}

size_t
guards_list(const guards_t *g, guard_info_t *out, size_t max)
{
  for (size_t i = 0; i < g->n_sampled && i < max; i++) {
    const guard_t *gd = g->sampled[i];
    guard_info_t *o = &out[i];
    memset(o, 0, sizeof(*o));
    memcpy(o->rsa_id, gd->rsa_id, GUARD_RSA_ID_LEN);
    memcpy(o->nickname, gd->nickname, GUARD_NICKNAME_BUF_LEN);
    o->sampled_on = gd->sampled_on;
    o->is_listed = gd->is_listed;
    o->unlisted_since = gd->unlisted_since;
    o->confirmed_on = gd->confirmed_on;
    o->confirmed_idx = gd->confirmed_idx;
    o->primary_idx = gd->primary_idx;
    o->is_filtered = gd->is_filtered;
    o->is_pending = gd->is_pending;
    o->reachable = gd->reachable;
    o->failing_since = gd->failing_since;
    o->last_tried = gd->last_tried;
  }
  return g->n_sampled;
}

size_t
guards_primary_ids(const guards_t *g, uint8_t (*out)[GUARD_RSA_ID_LEN],
                   size_t max)
{
  for (size_t i = 0; i < g->n_primary && i < max; i++)
    memcpy(out[i], g->primary[i]->rsa_id, GUARD_RSA_ID_LEN);
  return g->n_primary;
}

const char *
guards_status_word(const guards_t *g, const uint8_t *rsa_id)
{
  const guard_t *gd = find_guard(g, rsa_id);
  if (!gd)
    return NULL;
  if (gd->reachable == GUARD_REACHABLE_NO)
    return "down";
  if (gd->confirmed_idx < 0 && gd->reachable != GUARD_REACHABLE_YES)
    return "never-connected";
  return "up";
}

void
guards_drop_all(guards_t *g)
{
  log_notice(g->cfg.log, LD_GUARD, "Dropping all %zu sampled guards",
             g->n_sampled);
  clear_sample(g);
  g->dirty = true;
}

bool
guards_is_dirty(const guards_t *g)
{
  return g->dirty;
}

/* ---------------------------------------------------------------- */
/* Persistence (guard-spec A.5) */

/** Is state-file entry <b>i</b> a Guard entry of <b>instance</b>? */
static bool
entry_is_ours(const statefile_t *sf, size_t i, const char *instance)
{
  if (!str_eq_ci(statefile_key(sf, i), "Guard"))
    return false;
  const char *v = statefile_value(sf, i);
  statefile_kv_t kv[GUARD_ENTRY_MAX_ITEMS];
  size_t n = 0;
  if (statefile_split_kv(v, strlen(v), kv, GUARD_ENTRY_MAX_ITEMS, &n) !=
      CHIVE_OK)
    return false;
  for (size_t k = 0; k < n; k++) {
    if (kv[k].k_len == 2 && memcmp(kv[k].k, "in", 2) == 0)
      return kv[k].v_len == strlen(instance) &&
             memcmp(kv[k].v, instance, kv[k].v_len) == 0;
  }
  return false;
}

static chive_err_t
add_time(strbuf_t *sb, const char *key, int64_t t)
{
  char buf[TIME_ISO_LEN + 1];
  if (t < 0)
    t = 0;
  chive_err_t e = time_format_iso_t(t, buf, sizeof(buf));
  if (e != CHIVE_OK)
    return e;
  return strbuf_addf(sb, " %s=%s", key, buf);
}

/** Encode one guard as a Guard entry value. */
static chive_err_t
encode_guard(const guards_t *g, const guard_t *gd, size_t idx, bool extra,
             strbuf_t *sb)
{
  char hex[2 * GUARD_RSA_ID_LEN + 1];
  hex_id(gd->rsa_id, hex);
  chive_err_t e = strbuf_addf(sb, "in=%s rsa_id=%s", g->cfg.instance, hex);
  if (e == CHIVE_OK && gd->nickname[0])
    e = strbuf_addf(sb, " nickname=%s", gd->nickname);
  if (e == CHIVE_OK)
    e = add_time(sb, "sampled_on", gd->sampled_on);
  if (e == CHIVE_OK)
    e = strbuf_addf(sb, " sampled_idx=%zu", idx);
  if (e == CHIVE_OK && gd->sampled_by[0])
    e = strbuf_addf(sb, " sampled_by=%s", gd->sampled_by);
  if (e == CHIVE_OK && !gd->is_listed && gd->unlisted_since > 0)
    e = add_time(sb, "unlisted_since", gd->unlisted_since);
  if (e == CHIVE_OK)
    e = strbuf_addf(sb, " listed=%d", gd->is_listed ? 1 : 0);
  if (e == CHIVE_OK && gd->confirmed_idx >= 0) {
    e = add_time(sb, "confirmed_on", gd->confirmed_on);
    if (e == CHIVE_OK)
      e = strbuf_addf(sb, " confirmed_idx=%d", gd->confirmed_idx);
  }
  if (e == CHIVE_OK && gd->extra && extra)
    e = strbuf_addf(sb, " %s", gd->extra);
  return e;
}

/* see guards.h */
chive_err_t
guards_save_to_state(const guards_t *g, statefile_t *sf, int64_t now)
{
  (void)now;
  if (BUG(!g || !sf))
    return CHIVE_ERR_INVAL;
  for (size_t i = statefile_n(sf); i-- > 0;) {
    if (entry_is_ours(sf, i, g->cfg.instance))
      statefile_remove_at(sf, i);
  }
  strbuf_t sb;
  strbuf_init(&sb, STATEFILE_MAX_VALUE_LEN);
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < g->n_sampled && e == CHIVE_OK; i++) {
    strbuf_reset(&sb);
    e = encode_guard(g, g->sampled[i], i, true, &sb);
    if (e == CHIVE_ERR_LIMIT) {
      /* The kept unknown items made the entry too long: drop them rather
       * than the guard. */
      strbuf_reset(&sb);
      e = encode_guard(g, g->sampled[i], i, false, &sb);
    }
    if (e == CHIVE_OK)
      e = statefile_append(sf, "Guard", strbuf_str(&sb));
  }
  strbuf_clear(&sb);
  return e;
}

static bool
kv_is(const statefile_kv_t *kv, const char *key)
{
  return kv->k_len == strlen(key) && memcmp(kv->k, key, kv->k_len) == 0;
}

static chive_err_t
parse_time_kv(const statefile_kv_t *kv, int64_t now, int64_t *out)
{
  int64_t t;
  if (kv->v_len != TIME_ISO_LEN ||
      time_parse_iso_t(kv->v, kv->v_len, &t) != CHIVE_OK)
    return CHIVE_ERR_PROTO;
  /* A time in the future (a clock that jumped back) is taken as now. */
  *out = t > now ? now : t;
  if (*out <= 0)
    *out = 1;
  return CHIVE_OK;
}

/** Bits for the known keys of a Guard entry, to spot duplicates. */
enum {
  F_IN = 1 << 0,
  F_RSA = 1 << 1,
  F_NICK = 1 << 2,
  F_SON = 1 << 3,
  F_SBY = 1 << 4,
  F_SIDX = 1 << 5,
  F_UNL = 1 << 6,
  F_LISTED = 1 << 7,
  F_CON = 1 << 8,
  F_CIDX = 1 << 9,
};

/** Parse one Guard entry.  Return CHIVE_OK with *out NULL for another
 * instance's entry; otherwise a new guard (caller frees) or an error with
 * *msg set.  <b>cidx</b> and <b>sidx</b> receive confirmed_idx and
 * sampled_idx (UINT64_MAX when absent). */
static chive_err_t
parse_guard_entry(const guards_t *g, const char *value, int64_t now,
                  guard_t **out, uint64_t *cidx, uint64_t *sidx,
                  const char **msg)
{
  statefile_kv_t kv[GUARD_ENTRY_MAX_ITEMS];
  size_t n = 0;
  guard_t *gd = NULL;
  strbuf_t extra;
  unsigned seen = 0;
  chive_err_t e;
  uint64_t listed = 2;
  const statefile_kv_t *in = NULL;

  *out = NULL;
  *cidx = *sidx = UINT64_MAX;
  strbuf_init(&extra, STATEFILE_MAX_VALUE_LEN);
  e = statefile_split_kv(value, strlen(value), kv, GUARD_ENTRY_MAX_ITEMS, &n);
  if (e != CHIVE_OK) {
    *msg = e == CHIVE_ERR_LIMIT ? "too many items in Guard entry"
                                : "Guard entry item is not K=V";
    e = CHIVE_ERR_PROTO;
    goto done;
  }
  /* Instance first: other instances' entries are not ours to judge. */
  for (size_t i = 0; i < n; i++) {
    if (kv_is(&kv[i], "in")) {
      if (in) {
        *msg = "Guard entry has two in= items";
        e = CHIVE_ERR_PROTO;
        goto done;
      }
      in = &kv[i];
    }
  }
  if (!in) {
    *msg = "Guard entry without in=";
    e = CHIVE_ERR_PROTO;
    goto done;
  }
  if (in->v_len != strlen(g->cfg.instance) ||
      memcmp(in->v, g->cfg.instance, in->v_len) != 0) {
    e = CHIVE_OK;
    goto done;
  }
  gd = chive_zalloc(sizeof(*gd));
  if (!gd) {
    *msg = "out of memory";
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  gd->confirmed_idx = -1;
  gd->primary_idx = -1;
  gd->reachable = GUARD_REACHABLE_MAYBE;
  *msg = NULL;
  for (size_t i = 0; i < n && !*msg; i++) {
    const statefile_kv_t *p = &kv[i];
    unsigned bit = 0;
    size_t dummy;
    uint64_t u;
    if (kv_is(p, "in")) {
      bit = F_IN;
    } else if (kv_is(p, "rsa_id")) {
      bit = F_RSA;
      if (p->v_len != 2 * GUARD_RSA_ID_LEN ||
          base16_decode(p->v, p->v_len, gd->rsa_id, GUARD_RSA_ID_LEN,
                        &dummy) != CHIVE_OK)
        *msg = "bad rsa_id";
    } else if (kv_is(p, "nickname")) {
      bit = F_NICK;
      bool ok = p->v_len >= 1 && p->v_len < GUARD_NICKNAME_BUF_LEN;
      for (size_t k = 0; ok && k < p->v_len; k++)
        ok = ascii_isalnum((unsigned char)p->v[k]);
      if (ok)
        memcpy(gd->nickname, p->v, p->v_len);
      else
        *msg = "bad nickname";
    } else if (kv_is(p, "sampled_on")) {
      bit = F_SON;
      if (parse_time_kv(p, now, &gd->sampled_on) != CHIVE_OK)
        *msg = "bad sampled_on";
    } else if (kv_is(p, "sampled_by")) {
      bit = F_SBY;
      if (p->v_len > GUARD_SAMPLED_BY_MAX_LEN)
        *msg = "sampled_by too long";
      else
        memcpy(gd->sampled_by, p->v, p->v_len);
    } else if (kv_is(p, "sampled_idx")) {
      bit = F_SIDX;
      if (parse_u64(p->v, p->v_len, 10, 0, UINT32_MAX, &u) != CHIVE_OK)
        *msg = "bad sampled_idx";
      else
        *sidx = u;
    } else if (kv_is(p, "unlisted_since")) {
      bit = F_UNL;
      if (parse_time_kv(p, now, &gd->unlisted_since) != CHIVE_OK)
        *msg = "bad unlisted_since";
    } else if (kv_is(p, "listed")) {
      bit = F_LISTED;
      if (parse_u64(p->v, p->v_len, 10, 0, 1, &listed) != CHIVE_OK)
        *msg = "bad listed";
    } else if (kv_is(p, "confirmed_on")) {
      bit = F_CON;
      if (parse_time_kv(p, now, &gd->confirmed_on) != CHIVE_OK)
        *msg = "bad confirmed_on";
    } else if (kv_is(p, "confirmed_idx")) {
      bit = F_CIDX;
      if (parse_u64(p->v, p->v_len, 10, 0, UINT32_MAX, &u) != CHIVE_OK)
        *msg = "bad confirmed_idx";
      else
        *cidx = u;
    } else {
      /* guard-spec A.5: "Implementations must retain any unrecognized K=V
       * entries". */
      if ((strbuf_len(&extra) > 0 && strbuf_addc(&extra, ' ') != CHIVE_OK) ||
          strbuf_add(&extra, p->k, p->k_len + 1 + p->v_len) != CHIVE_OK)
        *msg = "Guard entry too long";
    }
    if (bit && (seen & bit))
      *msg = "Guard entry repeats a key";
    seen |= bit;
  }
  if (!*msg && !(seen & F_RSA))
    *msg = "Guard entry without rsa_id";
  if (!*msg && !(seen & F_SON))
    *msg = "Guard entry without sampled_on";
  if (!*msg && !(seen & F_LISTED))
    *msg = "Guard entry without listed";
  if (*msg) {
    e = CHIVE_ERR_PROTO;
    goto done;
  }
  gd->is_listed = listed == 1;
  if (gd->is_listed)
    gd->unlisted_since = 0;
  else if (gd->unlisted_since == 0)
    gd->unlisted_since = now > 0 ? now : 1;
  if (!(seen & F_CON))
    *cidx = UINT64_MAX; /* confirmed iff confirmed_on is present */
  else if (*cidx == UINT64_MAX)
    *cidx = (uint64_t)UINT32_MAX + 1; /* confirmed, place at the end */
  if (strbuf_len(&extra) > 0) {
    gd->extra = strbuf_steal(&extra, NULL);
    if (!gd->extra) {
      *msg = "out of memory";
      e = CHIVE_ERR_NOMEM;
      goto done;
    }
  }
  *out = gd;
  gd = NULL;
  e = CHIVE_OK;
done:
  guard_free(gd);
  strbuf_clear(&extra);
  return e;
}

static int
cmp_load_sample(const void *a, const void *b)
{
  const guard_t *x = *(guard_t *const *)a, *y = *(guard_t *const *)b;
  return x->load_order < y->load_order ? -1 : x->load_order > y->load_order;
}

/* see guards.h */
chive_err_t
guards_load_from_state(guards_t *g, const statefile_t *sf, int64_t now,
                       statefile_error_t *err)
{
  if (BUG(!g || !sf))
    return CHIVE_ERR_INVAL;
  guard_t **ng = chive_calloc(GUARDS_MAX_SAMPLED, sizeof(guard_t *));
  guard_t **nc = chive_calloc(GUARDS_MAX_SAMPLED, sizeof(guard_t *));
  uint64_t *ckey = chive_calloc(GUARDS_MAX_SAMPLED, sizeof(uint64_t));
  size_t n = 0, nconf = 0;
  chive_err_t e = CHIVE_OK;
  unsigned line = 0;
  const char *msg = NULL;
  if (!ng || !nc || !ckey) {
    e = CHIVE_ERR_NOMEM;
    msg = "out of memory";
    goto done;
  }
  for (size_t i = 0; i < statefile_n(sf); i++) {
    if (!str_eq_ci(statefile_key(sf, i), "Guard"))
      continue;
    line = statefile_line(sf, i);
    guard_t *gd = NULL;
    uint64_t cidx, sidx;
    e = parse_guard_entry(g, statefile_value(sf, i), now, &gd, &cidx, &sidx,
                          &msg);
    if (e != CHIVE_OK)
      goto done;
    if (!gd)
      continue;
    for (size_t k = 0; k < n; k++) {
      if (fast_memeq(ng[k]->rsa_id, gd->rsa_id, GUARD_RSA_ID_LEN)) {
        guard_free(gd);
        e = CHIVE_ERR_PROTO;
        msg = "the same guard appears twice";
        goto done;
      }
    }
    if (n >= GUARDS_MAX_SAMPLED) {
      guard_free(gd);
      e = CHIVE_ERR_LIMIT;
      msg = "too many guards";
      goto done;
    }
    /* Sample order: by sampled_idx where given, then file order. */
    gd->load_order =
        (sidx == UINT64_MAX ? ((uint64_t)1 << 60) : sidx << 20) | (uint64_t)n;
    if (cidx != UINT64_MAX) {
      ckey[nconf] = (cidx << 20) | (uint64_t)n;
      nc[nconf++] = gd;
    }
    ng[n++] = gd;
  }
  line = 0;
  /* Commit. */
  qsort(ng, n, sizeof(guard_t *), cmp_load_sample);
  /* Confirmed order: by confirmed_idx, then file order (insertion sort on
   * the small list; keys parallel to nc). */
  for (size_t i = 1; i < nconf; i++) {
    for (size_t j = i; j > 0 && ckey[j - 1] > ckey[j]; j--) {
      uint64_t tk = ckey[j];
      ckey[j] = ckey[j - 1];
      ckey[j - 1] = tk;
      guard_t *tg = nc[j];
      nc[j] = nc[j - 1];
      nc[j - 1] = tg;
    }
  }
  clear_sample(g);
  for (size_t i = 0; i < n; i++) {
    ng[i]->serial = g->next_serial++;
    g->sampled[i] = ng[i];
  }
  g->n_sampled = n;
  for (size_t i = 0; i < nconf; i++)
    g->confirmed[i] = nc[i];
  g->n_confirmed = nconf;
  renumber_confirmed(g);
  n = 0; /* owned by g now */
  g->dirty = false;
  if (g->have_consensus) {
    if (apply_consensus(g, now) != CHIVE_OK)
      log_warn(g->cfg.log, LD_GUARD, "Could not grow the guard sample");
  } else {
    update_primary(g);
  }
  log_info(g->cfg.log, LD_GUARD, "Loaded %zu guards (%zu confirmed)",
           g->n_sampled, g->n_confirmed);
done:
  if (e != CHIVE_OK && err) {
    err->line = line;
    err->msg = msg ? msg : "bad Guard entry";
  }
  for (size_t i = 0; i < n; i++)
    guard_free(ng[i]);
  chive_free(ng);
  chive_free(nc);
  chive_free(ckey);
  return e;
}

/* see guards.h */
chive_err_t
guards_load(guards_t *g, const char *path, int64_t now, statefile_error_t *err)
{
  statefile_t *sf = NULL;
  statefile_error_t lerr = {0, NULL};
  chive_err_t e = statefile_load(path, &sf, &lerr);
  if (e == CHIVE_OK)
    e = guards_load_from_state(g, sf, now, &lerr);
  statefile_free(sf);
  if (e == CHIVE_ERR_NOTFOUND) {
    log_info(g->cfg.log, LD_GUARD, "No state file; starting fresh guards");
  } else if (e != CHIVE_OK) {
    log_warn(g->cfg.log, LD_GUARD,
             "State file %s is unusable (line %u: %s); starting with fresh "
             "guards",
             path, lerr.line, lerr.msg ? lerr.msg : chive_err_str(e));
  }
  if (err)
    *err = lerr;
  return e;
}

/* see guards.h */
chive_err_t
guards_save(guards_t *g, const char *path, int64_t now)
{
  statefile_t *sf = NULL;
  if (statefile_load(path, &sf, NULL) != CHIVE_OK) {
    sf = statefile_new();
    if (!sf)
      return CHIVE_ERR_NOMEM;
  }
  chive_err_t e = guards_save_to_state(g, sf, now);
  if (e == CHIVE_OK)
    e = statefile_save(sf, path);
  statefile_free(sf);
  if (e == CHIVE_OK)
    g->dirty = false;
  else
    log_warn(g->cfg.log, LD_GUARD, "Could not save guards to %s: %s", path,
             chive_err_str(e));
  return e;
}
