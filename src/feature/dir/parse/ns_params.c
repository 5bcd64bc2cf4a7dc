/**
 * @file ns_params.c
 * @brief Consensus params and bandwidth weights (dir-spec §3.4.1,
 * param-spec.txt).
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/ns_params.h"

#include <string.h>

/* param-spec.txt: name, default, min, max. */
static const ns_param_info_t PARAMS[NS_PARAM_N_KNOWN] = {
  [NS_PARAM_CIRCWINDOW] = {"circwindow", 1000, 100, 1000},
  [NS_PARAM_USE_OPTIMISTIC_DATA] = {"UseOptimisticData", 1, 0, 1},
  [NS_PARAM_USECREATEFAST] = {"usecreatefast", 1, 0, 1},
  [NS_PARAM_CIRCUIT_PRIORITY_HALFLIFE_MSEC] =
    {"CircuitPriorityHalflifeMsec", 30000, 1, INT32_MAX},
  [NS_PARAM_BWWEIGHTSCALE] = {"bwweightscale", 10000, 1, INT32_MAX},
  [NS_PARAM_SENDME_EMIT_MIN_VERSION] = {"sendme_emit_min_version", 0, 0, 255},
  [NS_PARAM_SENDME_ACCEPT_MIN_VERSION] =
    {"sendme_accept_min_version", 0, 0, 255},
  /* path-spec §2.4.5 */
  [NS_PARAM_CBTDISABLED] = {"cbtdisabled", 0, 0, 1},
  [NS_PARAM_CBTNUMMODES] = {"cbtnummodes", 10, 1, 20},
  [NS_PARAM_CBTRECENTCOUNT] = {"cbtrecentcount", 20, 3, 1000},
  [NS_PARAM_CBTMAXTIMEOUTS] = {"cbtmaxtimeouts", 18, 3, 10000},
  [NS_PARAM_CBTMINCIRCS] = {"cbtmincircs", 100, 1, 10000},
  [NS_PARAM_CBTQUANTILE] = {"cbtquantile", 80, 10, 99},
  [NS_PARAM_CBTCLOSEQUANTILE] = {"cbtclosequantile", 99, 0, 99},
  [NS_PARAM_CBTTESTFREQ] = {"cbttestfreq", 10, 1, INT32_MAX},
  [NS_PARAM_CBTMINTIMEOUT] = {"cbtmintimeout", 10, 10, INT32_MAX},
  [NS_PARAM_CBTINITIALTIMEOUT] = {"cbtinitialtimeout", 60000, 10, INT32_MAX},
  [NS_PARAM_HSDIR_INTERVAL] = {"hsdir_interval", 1440, 30, 14400},
  [NS_PARAM_HSDIR_N_REPLICAS] = {"hsdir_n_replicas", 2, 1, 16},
  [NS_PARAM_HSDIR_SPREAD_FETCH] = {"hsdir_spread_fetch", 3, 1, 128},
  [NS_PARAM_HSDIR_SPREAD_STORE] = {"hsdir_spread_store", 4, 1, 128},
  [NS_PARAM_HSV3_MAX_DESCRIPTOR_SIZE] =
    {"HSV3MaxDescriptorSize", 50000, 1, INT32_MAX},
  [NS_PARAM_GUARD_LIFETIME_DAYS] = {"guard-lifetime-days", 120, 1, 3650},
  [NS_PARAM_GUARD_CONFIRMED_MIN_LIFETIME_DAYS] =
    {"guard-confirmed-min-lifetime-days", 60, 1, 3650},
  [NS_PARAM_GUARD_MAX_SAMPLE_SIZE] =
    {"guard-max-sample-size", 60, 1, INT32_MAX},
  [NS_PARAM_GUARD_MAX_SAMPLE_THRESHOLD_PERCENT] =
    {"guard-max-sample-threshold-percent", 20, 1, 100},
  [NS_PARAM_GUARD_N_PRIMARY_GUARDS] =
    {"guard-n-primary-guards", 3, 1, INT32_MAX},
  [NS_PARAM_GUARD_N_PRIMARY_GUARDS_TO_USE] =
    {"guard-n-primary-guards-to-use", 1, 1, INT32_MAX},
  [NS_PARAM_GUARD_N_PRIMARY_DIR_GUARDS_TO_USE] =
    {"guard-n-primary-dir-guards-to-use", 3, 1, INT32_MAX},
  [NS_PARAM_GUARD_MIN_FILTERED_SAMPLE_SIZE] =
    {"guard-min-filtered-sample-size", 20, 1, INT32_MAX},
  [NS_PARAM_GUARD_REMOVE_UNLISTED_AFTER_DAYS] =
    {"guard-remove-unlisted-guards-after-days", 20, 1, 3650},
  /* proposal 324 */
  [NS_PARAM_CC_ALG] = {"cc_alg", 2, 0, 2},
  [NS_PARAM_CC_CWND_MIN] = {"cc_cwnd_min", 124, 31, 1000},
  [NS_PARAM_CC_CWND_INC] = {"cc_cwnd_inc", 31, 1, 1000},
  [NS_PARAM_CC_CWND_INC_RATE] = {"cc_cwnd_inc_rate", 1, 1, 250},
  [NS_PARAM_CC_SSCAP_EXIT] = {"cc_sscap_exit", 600, 100, INT32_MAX},
  [NS_PARAM_CC_VEGAS_ALPHA_EXIT] = {"cc_vegas_alpha_exit", 186, 0, 1000},
  [NS_PARAM_CC_VEGAS_BETA_EXIT] = {"cc_vegas_beta_exit", 248, 0, 1000},
  [NS_PARAM_CC_VEGAS_GAMMA_EXIT] = {"cc_vegas_gamma_exit", 186, 0, 1000},
  [NS_PARAM_CC_VEGAS_DELTA_EXIT] = {"cc_vegas_delta_exit", 310, 0, 1000},
  [NS_PARAM_CIRC_MAX_CELL_QUEUE_SIZE] =
    {"circ_max_cell_queue_size", 50000, 1000, INT32_MAX},
};

static const char *const BW_NAMES[BW_N_WEIGHTS] = {
  "Wbd", "Wbe", "Wbg", "Wbm", "Wdb", "Web", "Wed", "Wee", "Weg", "Wem",
  "Wgb", "Wgd", "Wgg", "Wgm", "Wmb", "Wmd", "Wme", "Wmg", "Wmm",
};

/* see ns_params.h */
chive_err_t
ns_params_parse(const dirtok_t *tok, dirarena_t *arena, ns_params_t *out)
{
  size_t n = tok->n_args;
  ns_param_t *items = NULL;
  if (n) {
    items = dirarena_alloc(arena, n * sizeof(*items));
    if (!items)
      return CHIVE_ERR_NOMEM;
  }
  for (size_t i = 0; i < n; i++) {
    dirtok_str_t a = tok->args[i];
    const char *eq = memchr(a.p, '=', a.len);
    if (!eq || eq == a.p)
      return CHIVE_ERR_PROTO;
    size_t klen = (size_t)(eq - a.p);
    if (klen > NS_PARAM_MAX_NAME_LEN)
      return CHIVE_ERR_PROTO;
    dirtok_str_t v = {eq + 1, a.len - klen - 1};
    int64_t val;
    if (dirtok_parse_i64(v, INT32_MIN, INT32_MAX, &val))
      return CHIVE_ERR_PROTO;
    for (size_t j = 0; j < i; j++) {
      if (strlen(items[j].name) == klen &&
          memcmp(items[j].name, a.p, klen) == 0)
        return CHIVE_ERR_PROTO; /* duplicate name */
    }
    char *name = dirarena_strndup(arena, a.p, klen);
    if (!name)
      return CHIVE_ERR_NOMEM;
    items[i].name = name;
    items[i].value = (int32_t)val;
  }
  out->n = n;
  out->items = items;
  return CHIVE_OK;
}

/* see ns_params.h */
bool
ns_params_lookup(const ns_params_t *p, const char *name, int32_t *value)
{
  if (!p)
    return false;
  for (size_t i = 0; i < p->n; i++) {
    if (strcmp(p->items[i].name, name) == 0) {
      *value = p->items[i].value;
      return true;
    }
  }
  return false;
}

/* see ns_params.h */
int32_t
ns_params_get(const ns_params_t *p, const char *name, int32_t def,
              int32_t min, int32_t max)
{
  int32_t v;
  if (!ns_params_lookup(p, name, &v))
    return def;
  if (v < min)
    return min;
  if (v > max)
    return max;
  return v;
}

/* see ns_params.h */
const ns_param_info_t *
ns_param_info(ns_param_id_t id)
{
  if ((unsigned)id >= NS_PARAM_N_KNOWN)
    return NULL;
  return &PARAMS[id];
}

/* see ns_params.h */
int32_t
ns_params_get_known(const ns_params_t *p, ns_param_id_t id)
{
  const ns_param_info_t *info = ns_param_info(id);
  if (!info)
    return 0;
  return ns_params_get(p, info->name, info->def, info->min, info->max);
}

/* see ns_params.h */
const char *
ns_bw_weight_name(bw_weight_id_t id)
{
  if ((unsigned)id >= BW_N_WEIGHTS)
    return NULL;
  return BW_NAMES[id];
}

/* see ns_params.h */
void
ns_bw_weights_from_params(const ns_params_t *p, ns_bw_weights_t *out)
{
  memset(out, 0, sizeof(*out));
  for (int i = 0; i < BW_N_WEIGHTS; i++) {
    int32_t v;
    if (ns_params_lookup(p, BW_NAMES[i], &v)) {
      out->w[i] = v;
      out->present |= 1u << i;
    }
  }
}
