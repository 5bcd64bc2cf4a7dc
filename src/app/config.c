/**
 * @file config.c
 * @brief The option table and chive_config_t.
 *
 * Values are stored as text per option (a small vector for repeating
 * options) and validated by type on the way in, so a config never holds
 * a value its getter cannot convert.
 **/
#include "lib/cc/compat.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/config_int.h"
#include "app/portconf.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/text/numparse.h"
#include "lib/text/torrc.h"

/** Most values one repeating option may hold. */
#define CONFIG_MAX_VALUES 256
/** Longest value accepted for any option. */
#define CONFIG_MAX_VALUE_LEN 4096

typedef enum opt_type_t {
  T_STRING,   /**< any text */
  T_PATH,     /**< a filesystem path */
  T_BOOL,     /**< 0 or 1 */
  T_AUTOBOOL, /**< 0, 1 or auto */
  T_INT,      /**< integer within [min, max] */
  T_INTERVAL, /**< "N [seconds|minutes|hours|days|weeks]" */
  T_MEMUNIT,  /**< "N [bytes|KB|MB|GB|TB]" */
  T_DOUBLE,   /**< decimal, within [min, max] */
  T_LISTENER, /**< a listener line (app/portconf.h) */
} opt_type_t;

typedef struct opt_def_t {
  const char *name;
  opt_type_t type;
  bool repeats;  /**< values accumulate (LINELIST) */
  const char *dflt;
  int64_t min, max; /**< for T_INT/T_INTERVAL/T_DOUBLE */
} opt_def_t;

/* Order must match config_opt_t. */
static const opt_def_t opt_defs[OPT_N_OPTIONS] = {
    [OPT_DATA_DIRECTORY] = {"DataDirectory", T_PATH, false, NULL, 0, 0},
    [OPT_DIR_AUTHORITY] = {"DirAuthority", T_STRING, true, NULL, 0, 0},
    [OPT_FALLBACK_DIR] = {"FallbackDir", T_STRING, true, NULL, 0, 0},
    [OPT_USE_DEFAULT_FALLBACK_DIRS] = {"UseDefaultFallbackDirs", T_BOOL,
                                       false, "1", 0, 1},
    [OPT_SOCKS_PORT] = {"SocksPort", T_LISTENER, true, "9050", 0, 0},
    [OPT_HTTP_TUNNEL_PORT] = {"HTTPTunnelPort", T_LISTENER, true, "0", 0, 0},
    [OPT_CONTROL_PORT] = {"ControlPort", T_STRING, true, NULL, 0, 0},
    [OPT_CONTROL_SOCKET] = {"ControlSocket", T_STRING, true, NULL, 0, 0},
    [OPT_COOKIE_AUTHENTICATION] = {"CookieAuthentication", T_BOOL, false,
                                   "0", 0, 1},
    [OPT_HASHED_CONTROL_PASSWORD] = {"HashedControlPassword", T_STRING, true,
                                     NULL, 0, 0},
    [OPT_METRICS_PORT] = {"MetricsPort", T_STRING, true, NULL, 0, 0},
    [OPT_METRICS_PORT_POLICY] = {"MetricsPortPolicy", T_STRING, true, NULL,
                                 0, 0},
    [OPT_LOG] = {"Log", T_STRING, true, NULL, 0, 0},
    [OPT_SAFE_LOGGING] = {"SafeLogging", T_STRING, false, "1", 0, 0},
    [OPT_PID_FILE] = {"PidFile", T_PATH, false, NULL, 0, 0},
    [OPT_TESTING_TOR_NETWORK] = {"TestingTorNetwork", T_BOOL, false, "0", 0,
                                 1},
    [OPT_ENFORCE_DISTINCT_SUBNETS] = {"EnforceDistinctSubnets", T_BOOL, false,
                                      "1", 0, 1},
    [OPT_MAX_CIRCUIT_DIRTINESS] = {"MaxCircuitDirtiness", T_INTERVAL, false,
                                   "10 minutes", 1, 30 * 86400},
    [OPT_NUM_ENTRY_GUARDS] = {"NumEntryGuards", T_INT, false, "0", 0, 10},
    [OPT_USE_ENTRY_GUARDS] = {"UseEntryGuards", T_BOOL, false, "1", 0, 1},
    [OPT_CIRCUIT_BUILD_TIMEOUT] = {"CircuitBuildTimeout", T_INTERVAL, false,
                                   "0", 0, 86400},
    [OPT_LEARN_CIRCUIT_BUILD_TIMEOUT] = {"LearnCircuitBuildTimeout", T_BOOL,
                                         false, "1", 0, 1},
    [OPT_CLIENT_REJECT_INTERNAL_ADDRESSES] = {"ClientRejectInternalAddresses",
                                              T_BOOL, false, "1", 0, 1},
    [OPT_DISABLE_NETWORK] = {"DisableNetwork", T_BOOL, false, "0", 0, 1},
    [OPT_MAX_MEM_IN_QUEUES] = {"MaxMemInQueues", T_MEMUNIT, false, "0", 0,
                               0},
    [OPT_HIDDEN_SERVICE_DIR] = {"HiddenServiceDir", T_PATH, true, NULL, 0,
                                0},
    [OPT_HIDDEN_SERVICE_PORT] = {"HiddenServicePort", T_STRING, true, NULL, 0,
                                 0},
    [OPT_PATHS_NEEDED_TO_BUILD_CIRCUITS] = {"PathsNeededToBuildCircuits",
                                            T_DOUBLE, false, "-1", -1, 1},
    [OPT_COOKIE_AUTH_FILE] = {"CookieAuthFile", T_PATH, false, NULL, 0, 0},
    [OPT_COOKIE_AUTH_FILE_GROUP_READABLE] = {"CookieAuthFileGroupReadable",
                                             T_BOOL, false, "0", 0, 1},
    [OPT_CONTROL_PORT_WRITE_TO_FILE] = {"ControlPortWriteToFile", T_PATH,
                                        false, NULL, 0, 0},
    /* Hidden options (tor's "__" prefix): set by controllers and by the
     * daemon, not meant for torrc files. */
    [OPT_OWNING_CONTROLLER_PROCESS] = {"__OwningControllerProcess", T_INT,
                                       false, NULL, 1, 0x7fffffff},
    [OPT_CONFIG_FILE] = {"__ConfigFile", T_PATH, false, NULL, 0, 0},
    [OPT_SOCKS_TIMEOUT] = {"SocksTimeout", T_INTERVAL, false, "2 minutes",
                           1, 86400},
};

typedef struct opt_val_t {
  char **v;   /**< owned strings */
  size_t n;
  bool set;   /**< explicitly set (even if then reset to no values) */
} opt_val_t;

struct chive_config_t {
  opt_val_t vals[OPT_N_OPTIONS];
  chive_log_cb log_cb;
  void *log_arg;
  chive_log_severity_t log_max;
};

static void seterr(char *err, size_t err_len, const char *fmt, ...)
    CHIVE_PRINTF(3, 4);
static void
seterr(char *err, size_t err_len, const char *fmt, ...)
{
  if (!err || !err_len)
    return;
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

static int
find_opt(const char *name)
{
  for (int i = 0; i < OPT_N_OPTIONS; i++) {
    const char *n = opt_defs[i].name;
    size_t j = 0;
    for (; n[j] && name[j]; j++) {
      char x = n[j], y = name[j];
      if (x >= 'A' && x <= 'Z')
        x = (char)(x + 32);
      if (y >= 'A' && y <= 'Z')
        y = (char)(y + 32);
      if (x != y)
        break;
    }
    if (!n[j] && !name[j])
      return i;
  }
  return -1;
}

/** Split "N unit" into the number and a unit multiplier from
 * <b>units</b> (name, multiplier) pairs; a bare number uses
 * <b>dflt_mult</b>. */
typedef struct unit_t {
  const char *name;
  uint64_t mult;
} unit_t;

static const unit_t interval_units[] = {
    {"second", 1},        {"seconds", 1},      {"sec", 1},
    {"secs", 1},          {"s", 1},            {"minute", 60},
    {"minutes", 60},      {"min", 60},         {"mins", 60},
    {"hour", 3600},       {"hours", 3600},     {"day", 86400},
    {"days", 86400},      {"week", 604800},    {"weeks", 604800},
};
static const unit_t mem_units[] = {
    {"b", 1},           {"byte", 1},        {"bytes", 1},
    {"kb", 1u << 10},   {"kbytes", 1u << 10}, {"kilobytes", 1u << 10},
    {"mb", 1u << 20},   {"mbytes", 1u << 20}, {"megabytes", 1u << 20},
    {"gb", 1u << 30},   {"gbytes", 1u << 30}, {"gigabytes", 1u << 30},
    {"tb", 1ull << 40}, {"terabytes", 1ull << 40},
};

static bool
parse_with_unit(const char *s, const unit_t *units, size_t n_units,
                uint64_t max, uint64_t *out)
{
  size_t i = 0, len = strlen(s);
  while (i < len && s[i] >= '0' && s[i] <= '9')
    i++;
  uint64_t v;
  if (parse_u64(s, i, 10, 0, UINT64_MAX, &v) != CHIVE_OK)
    return false;
  while (i < len && s[i] == ' ')
    i++;
  uint64_t mult = 1;
  if (i < len) {
    char unit[16];
    size_t ul = len - i;
    if (ul >= sizeof(unit))
      return false;
    for (size_t k = 0; k < ul; k++) {
      char c = s[i + k];
      unit[k] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
    }
    unit[ul] = 0;
    size_t k;
    for (k = 0; k < n_units; k++)
      if (!strcmp(unit, units[k].name))
        break;
    if (k == n_units)
      return false;
    mult = units[k].mult;
  }
  if (v > max / mult)
    return false;
  *out = v * mult;
  return true;
}

/** Validate <b>value</b> for option <b>d</b>. */
static bool
value_ok(const opt_def_t *d, const char *value)
{
  uint64_t u;
  switch (d->type) {
  case T_STRING:
    return true;
  case T_PATH:
    return value[0] != '\0';
  case T_BOOL:
    return !strcmp(value, "0") || !strcmp(value, "1");
  case T_AUTOBOOL:
    return !strcmp(value, "0") || !strcmp(value, "1") ||
           !strcmp(value, "auto");
  case T_INT: {
    int64_t v;
    return parse_i64(value, strlen(value), 10, d->min, d->max, &v) == CHIVE_OK;
  }
  case T_INTERVAL:
    return parse_with_unit(value, interval_units,
                           CHIVE_ARRAY_LEN(interval_units),
                           (uint64_t)d->max, &u) &&
           u >= (uint64_t)d->min;
  case T_MEMUNIT:
    return parse_with_unit(value, mem_units, CHIVE_ARRAY_LEN(mem_units),
                           UINT64_MAX, &u);
  case T_DOUBLE: {
    double v;
    return parse_double(value, strlen(value), (double)d->min, (double)d->max,
                        &v) == CHIVE_OK;
  }
  case T_LISTENER: {
    portconf_t pc;
    const char *why;
    return portconf_parse(value, strlen(value), &pc, &why) == CHIVE_OK;
  }
  }
  return false;
}

static void
val_clear(opt_val_t *v)
{
  for (size_t i = 0; i < v->n; i++)
    chive_free(v->v[i]);
  chive_free(v->v);
  v->v = NULL;
  v->n = 0;
  v->set = false;
}

chive_config_t *
chive_config_new(void)
{
  chive_config_t *cfg = chive_zalloc(sizeof(*cfg));
  if (cfg)
    cfg->log_max = CHIVE_LOG_NOTICE;
  return cfg;
}

void
chive_config_free(chive_config_t *cfg)
{
  if (!cfg)
    return;
  for (int i = 0; i < OPT_N_OPTIONS; i++)
    val_clear(&cfg->vals[i]);
  chive_free(cfg);
}

chive_config_t *
chive_config_dup(const chive_config_t *cfg)
{
  chive_config_t *c = chive_config_new();
  if (!c)
    return NULL;
  c->log_cb = cfg->log_cb;
  c->log_arg = cfg->log_arg;
  c->log_max = cfg->log_max;
  for (int i = 0; i < OPT_N_OPTIONS; i++) {
    const opt_val_t *s = &cfg->vals[i];
    opt_val_t *d = &c->vals[i];
    d->set = s->set;
    if (!s->n)
      continue;
    d->v = chive_calloc(s->n, sizeof(char *));
    if (!d->v)
      goto oom;
    for (; d->n < s->n; d->n++)
      if (!(d->v[d->n] = chive_strdup(s->v[d->n])))
        goto oom;
  }
  return c;
oom:
  chive_config_free(c);
  return NULL;
}

chive_err_t
chive_config_set(chive_config_t *cfg, const char *name, const char *value,
                 char *err, size_t err_len)
{
  if (!cfg || !name || !value)
    return CHIVE_ERR_INVAL;
  int idx = find_opt(name);
  if (idx < 0) {
    seterr(err, err_len, "Unknown option '%s'%s", name, "");
    return CHIVE_ERR_NOTFOUND;
  }
  const opt_def_t *d = &opt_defs[idx];
  if (strlen(value) > CONFIG_MAX_VALUE_LEN || !value_ok(d, value)) {
    const char *why = NULL;
    portconf_t pc;
    if (d->type == T_LISTENER &&
        portconf_parse(value, strlen(value), &pc, &why) != CHIVE_OK && why)
      seterr(err, err_len, "Bad value for %s: '%s' (%s)", d->name, value,
             why);
    else
      seterr(err, err_len, "Bad value for %s: '%s'", d->name, value);
    return CHIVE_ERR_INVAL;
  }
  opt_val_t *v = &cfg->vals[idx];
  if (d->repeats && v->n >= CONFIG_MAX_VALUES) {
    seterr(err, err_len, "Too many %s lines%s", d->name, "");
    return CHIVE_ERR_LIMIT;
  }
  char *copy = chive_strdup(value);
  if (!copy)
    return CHIVE_ERR_NOMEM;
  size_t keep = d->repeats ? v->n : 0;
  char **nv = chive_realloc(v->v, (keep + 1) * sizeof(char *));
  if (!nv) {
    chive_free(copy);
    return CHIVE_ERR_NOMEM;
  }
  v->v = nv;
  if (!d->repeats)
    for (size_t i = 0; i < v->n; i++)
      chive_free(v->v[i]);
  v->v[keep] = copy;
  v->n = keep + 1;
  v->set = true;
  return CHIVE_OK;
}

const char *
config_value_canonical(const chive_config_t *cfg, const char *name,
                       size_t i, char *buf, size_t len)
{
  const char *v = chive_config_get(cfg, name, i);
  int idx = find_opt(name);
  if (!v || idx < 0 || !buf || len == 0)
    return v;
  const opt_def_t *d = &opt_defs[idx];
  uint64_t u;
  if (d->type == T_INTERVAL &&
      parse_with_unit(v, interval_units, CHIVE_ARRAY_LEN(interval_units),
                      (uint64_t)d->max, &u)) {
    (void)snprintf(buf, len, "%llu", (unsigned long long)u);
    return buf;
  }
  if (d->type == T_MEMUNIT &&
      parse_with_unit(v, mem_units, CHIVE_ARRAY_LEN(mem_units), UINT64_MAX,
                      &u)) {
    (void)snprintf(buf, len, "%llu", (unsigned long long)u);
    return buf;
  }
  return v;
}

const char *
config_option_name(config_opt_t opt)
{
  return opt < OPT_N_OPTIONS ? opt_defs[opt].name : "?";
}

chive_err_t
chive_config_reset(chive_config_t *cfg, const char *name)
{
  int idx = cfg && name ? find_opt(name) : -1;
  if (idx < 0)
    return CHIVE_ERR_NOTFOUND;
  val_clear(&cfg->vals[idx]);
  return CHIVE_OK;
}

chive_err_t
chive_config_load_text(chive_config_t *cfg, const char *text, size_t len,
                       char *err, size_t err_len)
{
  torrc_list_t *list = NULL;
  torrc_error_t terr = {0, ""};
  char msg[256];
  chive_err_t e = torrc_parse(text, len, &list, &terr);
  if (e != CHIVE_OK) {
    if (err && err_len)
      (void)snprintf(err, err_len, "line %u: %s", terr.line, terr.msg);
    return e;
  }
  for (size_t i = 0; i < list->n; i++) {
    const torrc_entry_t *en = &list->entries[i];
    /* "/Key" clears; "+Key" appends (our repeating options always
     * append, as tor's do within one file). */
    if (en->cmd == TORRC_CMD_CLEAR)
      e = chive_config_reset(cfg, en->key);
    else
      e = chive_config_set(cfg, en->key, en->value, msg, sizeof(msg));
    if (e != CHIVE_OK) {
      if (err && err_len) {
        if (en->cmd == TORRC_CMD_CLEAR)
          (void)snprintf(err, err_len, "line %u: Unknown option '%s'",
                         en->line, en->key);
        else
          (void)snprintf(err, err_len, "line %u: %s", en->line, msg);
      }
      break;
    }
  }
  torrc_list_free(list);
  return e;
}

const char *
chive_config_get(const chive_config_t *cfg, const char *name, size_t n)
{
  int idx = cfg && name ? find_opt(name) : -1;
  if (idx < 0)
    return NULL;
  const opt_val_t *v = &cfg->vals[idx];
  if (v->n)
    return n < v->n ? v->v[n] : NULL;
  return n == 0 && !v->set ? opt_defs[idx].dflt : NULL;
}

void
chive_config_set_log_cb(chive_config_t *cfg, chive_log_cb cb, void *arg,
                        chive_log_severity_t max)
{
  cfg->log_cb = cb;
  cfg->log_arg = arg;
  cfg->log_max = max;
}

size_t
chive_config_n_options(void)
{
  return OPT_N_OPTIONS;
}

const char *
chive_config_option_name(size_t i)
{
  return i < OPT_N_OPTIONS ? opt_defs[i].name : NULL;
}

/* ---- internal getters ---- */

const char *
config_get_str(const chive_config_t *cfg, config_opt_t opt)
{
  const opt_val_t *v = &cfg->vals[opt];
  if (v->n)
    return v->v[v->n - 1];
  return v->set ? NULL : opt_defs[opt].dflt;
}

bool
config_get_bool(const chive_config_t *cfg, config_opt_t opt)
{
  const char *s = config_get_str(cfg, opt);
  return s && !strcmp(s, "1");
}

int64_t
config_get_int(const chive_config_t *cfg, config_opt_t opt)
{
  const char *s = config_get_str(cfg, opt);
  int64_t v = 0;
  if (!s || parse_i64(s, strlen(s), 10, INT64_MIN, INT64_MAX, &v) != CHIVE_OK)
    return 0;
  return v;
}

int64_t
config_get_interval_s(const chive_config_t *cfg, config_opt_t opt)
{
  const char *s = config_get_str(cfg, opt);
  uint64_t v = 0;
  if (!s || !parse_with_unit(s, interval_units,
                             CHIVE_ARRAY_LEN(interval_units), INT64_MAX, &v))
    return 0;
  return (int64_t)v;
}

uint64_t
config_get_bytes(const chive_config_t *cfg, config_opt_t opt)
{
  const char *s = config_get_str(cfg, opt);
  uint64_t v = 0;
  if (!s || !parse_with_unit(s, mem_units, CHIVE_ARRAY_LEN(mem_units),
                             UINT64_MAX, &v))
    return 0;
  return v;
}

double
config_get_double(const chive_config_t *cfg, config_opt_t opt)
{
  const char *s = config_get_str(cfg, opt);
  double v = 0;
  if (!s || parse_double(s, strlen(s), -1e300, 1e300, &v) != CHIVE_OK)
    return 0;
  return v;
}

size_t
config_n_values(const chive_config_t *cfg, config_opt_t opt)
{
  return cfg->vals[opt].n;
}

const char *
config_value(const chive_config_t *cfg, config_opt_t opt, size_t i)
{
  return i < cfg->vals[opt].n ? cfg->vals[opt].v[i] : NULL;
}

bool
config_is_set(const chive_config_t *cfg, config_opt_t opt)
{
  return cfg->vals[opt].set;
}

void
config_get_log_cb(const chive_config_t *cfg, chive_log_cb *cb, void **arg,
                  chive_log_severity_t *max)
{
  *cb = cfg->log_cb;
  *arg = cfg->log_arg;
  *max = cfg->log_max;
}
