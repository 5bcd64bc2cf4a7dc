/**
 * @file metrics.c
 * @brief The metrics registry and its Prometheus text exposition.
 *
 * Exposition format: https://prometheus.io/docs/instrumenting/
 * exposition_formats/ (text format 0.0.4).  Naming conventions:
 * https://prometheus.io/docs/practices/naming/.
 **/
#include "lib/cc/compat.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/metrics/metrics.h"

/** One label-value combination of a family, with its value. */
typedef struct metrics_series_t {
  char *values[METRICS_MAX_LABELS]; /**< n_labels owned strings */
  union {
    metrics_counter_t counter;
    metrics_gauge_t gauge;
    metrics_histogram_t histogram;
  } u;
} metrics_series_t;

struct metrics_family_t {
  metrics_type_t type;
  char *name;
  char *help;
  size_t n_labels;
  char *label_names[METRICS_MAX_LABELS];
  size_t max_series;
  double *bounds; /**< histogram bucket upper bounds (owned) */
  size_t n_bounds;
  /** n_series series, sorted by label values; room for max_series. */
  metrics_series_t **series;
  size_t n_series;
};

struct metrics_registry_t {
  char *prefix; /**< "" when none */
  metrics_family_t **families;
  size_t n_families;
  size_t cap_families;
};

/* --- updates -------------------------------------------------------- */

void
metrics_histogram_observe(metrics_histogram_t *h, double v)
{
  if (!h)
    return;
  size_t i = 0;
  /* "le" semantics: the first bound with v <= bound.  NaN compares false
   * everywhere and lands in +Inf, as in the reference clients. */
  while (i < h->n_bounds && !(v <= h->bounds[i]))
    i++;
  h->buckets[i]++;
  h->count++;
  h->sum += v;
}

void
metrics_counter_set_callback(metrics_counter_t *c, metrics_counter_cb_t cb,
                             void *arg)
{
  if (!c)
    return;
  c->cb = cb;
  c->cb_arg = cb ? arg : NULL;
}

void
metrics_gauge_set_callback(metrics_gauge_t *g, metrics_gauge_cb_t cb,
                           void *arg)
{
  if (!g)
    return;
  g->cb = cb;
  g->cb_arg = cb ? arg : NULL;
}

uint64_t
metrics_counter_value(const metrics_counter_t *c)
{
  if (!c)
    return 0;
  return c->cb ? c->cb(c->cb_arg) : c->value;
}

double
metrics_gauge_value(const metrics_gauge_t *g)
{
  if (!g)
    return 0.0;
  if (g->cb)
    return g->cb(g->cb_arg);
  return g->is_double ? g->dval : (double)g->ival;
}

/* --- validation ----------------------------------------------------- */

/** Return true iff the <b>len</b> bytes at <b>s</b> are valid UTF-8
 * (shortest forms only, no surrogates, at most U+10FFFF) with no NUL. */
static bool
utf8_valid(const char *s, size_t len)
{
  const uint8_t *p = (const uint8_t *)s;
  size_t i = 0;
  while (i < len) {
    uint8_t c = p[i];
    size_t n;
    uint32_t cp;
    if (c == 0)
      return false;
    if (c < 0x80) {
      i++;
      continue;
    } else if (c >= 0xc2 && c <= 0xdf) {
      n = 1;
      cp = c & 0x1fu;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 2;
      cp = c & 0x0fu;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 3;
      cp = c & 0x07u;
    } else {
      return false;
    }
    if (n > len - i - 1)
      return false;
    for (size_t k = 1; k <= n; k++) {
      if ((p[i + k] & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + k] & 0x3fu);
    }
    if ((n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n + 1;
  }
  return true;
}

static bool
ends_with(const char *s, const char *suffix)
{
  size_t n = strlen(s), m = strlen(suffix);
  return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/** Unit suffixes that are not base units (Prometheus: "use base units",
 * seconds and bytes). */
static const char *const NON_BASE_UNITS[] = {
    "_milliseconds", "_microseconds", "_nanoseconds", "_minutes", "_hours",
    "_days",         "_ms",           "_us",          "_ns",      "_kilobytes",
    "_megabytes",    "_gigabytes",    "_kb",          "_mb",      "_gb",
    "_kib",          "_mib",          "_gib",         "_bits",
};

/** Return true iff <b>s</b> (length <b>len</b>) is snake_case: [a-z0-9_],
 * first a letter (or '_' if <b>allow_underscore_first</b>), no "__". */
static bool
snake_case_ok(const char *s, size_t len, bool allow_underscore_first)
{
  if (len == 0)
    return false;
  if (!(s[0] >= 'a' && s[0] <= 'z') &&
      !(allow_underscore_first && s[0] == '_'))
    return false;
  for (size_t i = 0; i < len; i++) {
    char c = s[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok)
      return false;
    if (c == '_' && i + 1 < len && s[i + 1] == '_')
      return false;
  }
  return true;
}

bool
metrics_name_check(const char *prefix, const char *name, metrics_type_t type)
{
  if (!name)
    return false;
  size_t len = strnlen(name, METRICS_NAME_MAX_LEN + 1);
  if (len == 0 || len > METRICS_NAME_MAX_LEN)
    return false;
  if (!snake_case_ok(name, len, false) || name[len - 1] == '_')
    return false;
  if (prefix && *prefix) {
    size_t plen = strlen(prefix);
    if (len <= plen || strncmp(name, prefix, plen) != 0)
      return false;
  }
  bool total = ends_with(name, "_total");
  switch (type) {
  case METRICS_TYPE_COUNTER:
    if (!total)
      return false;
    break;
  case METRICS_TYPE_GAUGE:
    if (total)
      return false;
    break;
  case METRICS_TYPE_HISTOGRAM:
    if (total || ends_with(name, "_bucket") || ends_with(name, "_sum") ||
        ends_with(name, "_count"))
      return false;
    break;
  default:
    return false;
  }
  /* The unit comes before "_total" in a counter name. */
  size_t base_len = total ? len - 6 : len;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(NON_BASE_UNITS); i++) {
    size_t ulen = strlen(NON_BASE_UNITS[i]);
    if (base_len >= ulen &&
        memcmp(name + base_len - ulen, NON_BASE_UNITS[i], ulen) == 0)
      return false;
  }
  return true;
}

bool
metrics_label_name_check(const char *name)
{
  if (!name)
    return false;
  size_t len = strnlen(name, METRICS_LABEL_NAME_MAX_LEN + 1);
  if (len == 0 || len > METRICS_LABEL_NAME_MAX_LEN)
    return false;
  if (len >= 2 && name[0] == '_' && name[1] == '_')
    return false;
  return snake_case_ok(name, len, true);
}

/** Return true iff <b>v</b> is an acceptable label value. */
static bool
label_value_ok(const char *v)
{
  if (!v)
    return false;
  size_t len = strnlen(v, METRICS_LABEL_VALUE_MAX_LEN + 1);
  return len <= METRICS_LABEL_VALUE_MAX_LEN && utf8_valid(v, len);
}

/* --- registry ------------------------------------------------------- */

metrics_registry_t *
metrics_registry_new(const char *prefix)
{
  if (!prefix)
    prefix = "";
  size_t plen = strnlen(prefix, METRICS_PREFIX_MAX_LEN + 1);
  if (plen > METRICS_PREFIX_MAX_LEN)
    return NULL;
  if (plen > 0 &&
      (!snake_case_ok(prefix, plen, false) || prefix[plen - 1] != '_'))
    return NULL;
  metrics_registry_t *reg = chive_zalloc(sizeof(*reg));
  if (!reg)
    return NULL;
  reg->prefix = chive_strdup(prefix);
  if (!reg->prefix) {
    chive_free(reg);
    return NULL;
  }
  return reg;
}

static void
series_free(metrics_series_t *s, size_t n_labels, metrics_type_t type)
{
  if (!s)
    return;
  for (size_t i = 0; i < n_labels; i++)
    chive_free(s->values[i]);
  /* Only a histogram owns memory in the union. */
  if (type == METRICS_TYPE_HISTOGRAM)
    chive_free(s->u.histogram.buckets);
  chive_free(s);
}

static void
family_free(metrics_family_t *fam)
{
  if (!fam)
    return;
  for (size_t i = 0; i < fam->n_series; i++)
    series_free(fam->series[i], fam->n_labels, fam->type);
  chive_free(fam->series);
  for (size_t i = 0; i < fam->n_labels; i++)
    chive_free(fam->label_names[i]);
  chive_free(fam->bounds);
  chive_free(fam->help);
  chive_free(fam->name);
  chive_free(fam);
}

void
metrics_registry_free_(metrics_registry_t *reg)
{
  if (!reg)
    return;
  for (size_t i = 0; i < reg->n_families; i++)
    family_free(reg->families[i]);
  chive_free(reg->families);
  chive_free(reg->prefix);
  chive_free(reg);
}

/** Return true iff a family named <b>name</b> of <b>type</b> would expose
 * a sample name that <b>fam</b> exposes too (or vice versa). */
static bool
names_clash(const metrics_family_t *fam, const char *name, metrics_type_t type)
{
  static const char *const hist_suffixes[] = {"_bucket", "_sum", "_count"};
  if (strcmp(fam->name, name) == 0)
    return true;
  size_t flen = strlen(fam->name), nlen = strlen(name);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(hist_suffixes); i++) {
    const char *suf = hist_suffixes[i];
    size_t slen = strlen(suf);
    if (fam->type == METRICS_TYPE_HISTOGRAM && nlen == flen + slen &&
        memcmp(name, fam->name, flen) == 0 && strcmp(name + flen, suf) == 0)
      return true;
    if (type == METRICS_TYPE_HISTOGRAM && flen == nlen + slen &&
        memcmp(fam->name, name, nlen) == 0 &&
        strcmp(fam->name + nlen, suf) == 0)
      return true;
  }
  return false;
}

metrics_family_t *
metrics_registry_find(const metrics_registry_t *reg, const char *name)
{
  if (!reg || !name)
    return NULL;
  for (size_t i = 0; i < reg->n_families; i++) {
    if (strcmp(reg->families[i]->name, name) == 0)
      return reg->families[i];
  }
  return NULL;
}

size_t
metrics_registry_n_families(const metrics_registry_t *reg)
{
  return reg ? reg->n_families : 0;
}

const char *
metrics_family_name(const metrics_family_t *fam)
{
  return fam->name;
}

metrics_type_t
metrics_family_type(const metrics_family_t *fam)
{
  return fam->type;
}

size_t
metrics_family_n_series(const metrics_family_t *fam)
{
  return fam->n_series;
}

/** Check the parts of <b>spec</b> other than the name. */
static bool
spec_ok(const metrics_spec_t *spec)
{
  if (!spec->help)
    return false;
  size_t hlen = strnlen(spec->help, METRICS_HELP_MAX_LEN + 1);
  if (hlen > METRICS_HELP_MAX_LEN || !utf8_valid(spec->help, hlen))
    return false;
  if (spec->n_labels > METRICS_MAX_LABELS ||
      (spec->n_labels > 0 && !spec->label_names))
    return false;
  for (size_t i = 0; i < spec->n_labels; i++) {
    if (!metrics_label_name_check(spec->label_names[i]))
      return false;
    if (spec->type == METRICS_TYPE_HISTOGRAM &&
        strcmp(spec->label_names[i], "le") == 0)
      return false;
    for (size_t j = 0; j < i; j++) {
      if (strcmp(spec->label_names[i], spec->label_names[j]) == 0)
        return false;
    }
  }
  if (spec->max_series > METRICS_MAX_SERIES_LIMIT)
    return false;
  if (spec->n_labels == 0 && spec->max_series > 1)
    return false;
  if (spec->type == METRICS_TYPE_HISTOGRAM) {
    if (!spec->buckets || spec->n_buckets == 0 ||
        spec->n_buckets > METRICS_HISTOGRAM_MAX_BUCKETS)
      return false;
    for (size_t i = 0; i < spec->n_buckets; i++) {
      if (!isfinite(spec->buckets[i]))
        return false;
      if (i > 0 && !(spec->buckets[i] > spec->buckets[i - 1]))
        return false;
    }
  } else if (spec->buckets || spec->n_buckets) {
    return false;
  }
  return true;
}

/** Build the stored family name: spec->name plus "_total" for a counter
 * that lacks it.  Returns NULL on OOM or an over-long name. */
static char *
family_name_make(const metrics_spec_t *spec)
{
  size_t len = strnlen(spec->name, METRICS_NAME_MAX_LEN + 1);
  if (len > METRICS_NAME_MAX_LEN)
    return NULL;
  bool add =
      spec->type == METRICS_TYPE_COUNTER && !ends_with(spec->name, "_total");
  size_t out_len = len + (add ? 6 : 0);
  char *out = chive_malloc(out_len + 1);
  if (!out)
    return NULL;
  memcpy(out, spec->name, len);
  if (add)
    memcpy(out + len, "_total", 6);
  out[out_len] = '\0';
  return out;
}

static chive_err_t family_series_get(metrics_family_t *fam,
                                     const char *const *values,
                                     metrics_series_t **out);

chive_err_t
metrics_register(metrics_registry_t *reg, const metrics_spec_t *spec,
                 metrics_family_t **out)
{
  if (BUG(!reg || !spec))
    return CHIVE_ERR_INVAL;
  if (!spec->name || !spec_ok(spec))
    return CHIVE_ERR_INVAL;
  if (reg->n_families >= METRICS_MAX_FAMILIES)
    return CHIVE_ERR_LIMIT;

  chive_err_t err = CHIVE_ERR_NOMEM;
  metrics_family_t *fam = chive_zalloc(sizeof(*fam));
  if (!fam)
    return CHIVE_ERR_NOMEM;
  fam->type = spec->type;
  fam->name = family_name_make(spec);
  if (!fam->name) {
    /* Over-long name or OOM: tell them apart for the caller. */
    err = strnlen(spec->name, METRICS_NAME_MAX_LEN + 1) > METRICS_NAME_MAX_LEN
              ? CHIVE_ERR_INVAL
              : CHIVE_ERR_NOMEM;
    goto err;
  }
  if (!metrics_name_check(reg->prefix, fam->name, spec->type)) {
    err = CHIVE_ERR_INVAL;
    goto err;
  }
  for (size_t i = 0; i < reg->n_families; i++) {
    if (names_clash(reg->families[i], fam->name, spec->type)) {
      err = CHIVE_ERR_INVAL;
      goto err;
    }
  }
  fam->help = chive_strdup(spec->help);
  if (!fam->help)
    goto err;
  for (size_t i = 0; i < spec->n_labels; i++) {
    fam->label_names[i] = chive_strdup(spec->label_names[i]);
    if (!fam->label_names[i])
      goto err;
    fam->n_labels = i + 1;
  }
  fam->max_series = spec->max_series ? spec->max_series : 1;
  fam->series = chive_calloc(fam->max_series, sizeof(*fam->series));
  if (!fam->series)
    goto err;
  if (spec->type == METRICS_TYPE_HISTOGRAM) {
    fam->bounds =
        chive_memdup(spec->buckets, spec->n_buckets * sizeof(*spec->buckets));
    if (!fam->bounds)
      goto err;
    fam->n_bounds = spec->n_buckets;
  }
  if (fam->n_labels == 0) {
    metrics_series_t *s;
    err = family_series_get(fam, NULL, &s);
    if (err)
      goto err;
  }
  if (reg->n_families == reg->cap_families) {
    size_t ncap = reg->cap_families ? reg->cap_families * 2 : 16;
    if (ncap > METRICS_MAX_FAMILIES)
      ncap = METRICS_MAX_FAMILIES;
    metrics_family_t **nf =
        chive_realloc(reg->families, ncap * sizeof(*reg->families));
    if (!nf) {
      err = CHIVE_ERR_NOMEM;
      goto err;
    }
    reg->families = nf;
    reg->cap_families = ncap;
  }
  reg->families[reg->n_families++] = fam;
  if (out)
    *out = fam;
  return CHIVE_OK;
err:
  family_free(fam);
  return err;
}

/** Compare label-value tuples (lexicographic by bytes, label by label). */
static int
values_cmp(const metrics_family_t *fam, const char *const *a,
           const char *const *b)
{
  for (size_t i = 0; i < fam->n_labels; i++) {
    int c = strcmp(a[i], b[i]);
    if (c)
      return c;
  }
  return 0;
}

/** Find or create the series of <b>fam</b> with <b>values</b>. */
static chive_err_t
family_series_get(metrics_family_t *fam, const char *const *values,
                  metrics_series_t **out)
{
  if (fam->n_labels > 0 && !values)
    return CHIVE_ERR_INVAL;
  for (size_t i = 0; i < fam->n_labels; i++) {
    if (!label_value_ok(values[i]))
      return CHIVE_ERR_INVAL;
  }
  /* Sorted insert position (binary search). */
  size_t lo = 0, hi = fam->n_series;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c =
        values_cmp(fam, (const char *const *)fam->series[mid]->values, values);
    if (c == 0) {
      *out = fam->series[mid];
      return CHIVE_OK;
    }
    if (c < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  if (fam->n_series >= fam->max_series)
    return CHIVE_ERR_LIMIT;

  metrics_series_t *s = chive_zalloc(sizeof(*s));
  if (!s)
    return CHIVE_ERR_NOMEM;
  for (size_t i = 0; i < fam->n_labels; i++) {
    s->values[i] = chive_strdup(values[i]);
    if (!s->values[i]) {
      series_free(s, i, fam->type);
      return CHIVE_ERR_NOMEM;
    }
  }
  if (fam->type == METRICS_TYPE_HISTOGRAM) {
    s->u.histogram.buckets =
        chive_calloc(fam->n_bounds + 1, sizeof(*s->u.histogram.buckets));
    if (!s->u.histogram.buckets) {
      series_free(s, fam->n_labels, fam->type);
      return CHIVE_ERR_NOMEM;
    }
    s->u.histogram.bounds = fam->bounds;
    s->u.histogram.n_bounds = fam->n_bounds;
  }
  memmove(&fam->series[lo + 1], &fam->series[lo],
          (fam->n_series - lo) * sizeof(*fam->series));
  fam->series[lo] = s;
  fam->n_series++;
  *out = s;
  return CHIVE_OK;
}

/** Shared body of metrics_family_{counter,gauge,histogram}. */
static chive_err_t
family_typed_get(metrics_family_t *fam, metrics_type_t type,
                 const char *const *values, metrics_series_t **out)
{
  if (BUG(!fam || !out))
    return CHIVE_ERR_INVAL;
  if (fam->type != type)
    return CHIVE_ERR_INVAL;
  return family_series_get(fam, values, out);
}

chive_err_t
metrics_family_counter(metrics_family_t *fam, const char *const *values,
                       metrics_counter_t **out)
{
  metrics_series_t *s = NULL;
  chive_err_t err = family_typed_get(fam, METRICS_TYPE_COUNTER, values, &s);
  if (!err)
    *out = &s->u.counter;
  return err;
}

chive_err_t
metrics_family_gauge(metrics_family_t *fam, const char *const *values,
                     metrics_gauge_t **out)
{
  metrics_series_t *s = NULL;
  chive_err_t err = family_typed_get(fam, METRICS_TYPE_GAUGE, values, &s);
  if (!err)
    *out = &s->u.gauge;
  return err;
}

chive_err_t
metrics_family_histogram(metrics_family_t *fam, const char *const *values,
                         metrics_histogram_t **out)
{
  metrics_series_t *s = NULL;
  chive_err_t err = family_typed_get(fam, METRICS_TYPE_HISTOGRAM, values, &s);
  if (!err)
    *out = &s->u.histogram;
  return err;
}

chive_err_t
metrics_counter_new(metrics_registry_t *reg, const char *name,
                    const char *help, metrics_counter_t **out)
{
  metrics_spec_t spec = {
      .type = METRICS_TYPE_COUNTER, .name = name, .help = help};
  metrics_family_t *fam;
  chive_err_t err = metrics_register(reg, &spec, &fam);
  if (err)
    return err;
  *out = &fam->series[0]->u.counter;
  return CHIVE_OK;
}

chive_err_t
metrics_gauge_new(metrics_registry_t *reg, const char *name, const char *help,
                  metrics_gauge_t **out)
{
  metrics_spec_t spec = {
      .type = METRICS_TYPE_GAUGE, .name = name, .help = help};
  metrics_family_t *fam;
  chive_err_t err = metrics_register(reg, &spec, &fam);
  if (err)
    return err;
  *out = &fam->series[0]->u.gauge;
  return CHIVE_OK;
}

chive_err_t
metrics_gauge_cb_new(metrics_registry_t *reg, const char *name,
                     const char *help, metrics_gauge_cb_t cb, void *arg,
                     metrics_gauge_t **out)
{
  if (BUG(!cb))
    return CHIVE_ERR_INVAL;
  metrics_gauge_t *g;
  chive_err_t err = metrics_gauge_new(reg, name, help, &g);
  if (err)
    return err;
  metrics_gauge_set_callback(g, cb, arg);
  if (out)
    *out = g;
  return CHIVE_OK;
}

chive_err_t
metrics_histogram_new(metrics_registry_t *reg, const char *name,
                      const char *help, const double *buckets,
                      size_t n_buckets, metrics_histogram_t **out)
{
  metrics_spec_t spec = {.type = METRICS_TYPE_HISTOGRAM,
                         .name = name,
                         .help = help,
                         .buckets = buckets,
                         .n_buckets = n_buckets};
  metrics_family_t *fam;
  chive_err_t err = metrics_register(reg, &spec, &fam);
  if (err)
    return err;
  *out = &fam->series[0]->u.histogram;
  return CHIVE_OK;
}

/* --- exposition ----------------------------------------------------- */

char *
metrics_format_double(double v, char buf[METRICS_DOUBLE_STR_LEN])
{
  if (isnan(v)) {
    memcpy(buf, "NaN", 4);
    return buf;
  }
  if (isinf(v)) {
    memcpy(buf, v > 0 ? "+Inf" : "-Inf", 5);
    return buf;
  }
  /* %.17g always reads back exactly; prefer %.15g when it does too, so
   * 0.1 prints as "0.1" and not "0.10000000000000001". */
  snprintf(buf, METRICS_DOUBLE_STR_LEN, "%.15g", v);
  if (strtod(buf, NULL) != v)
    snprintf(buf, METRICS_DOUBLE_STR_LEN, "%.17g", v);
  /* A locale may use another decimal point; Prometheus wants '.'. */
  for (char *p = buf; *p; p++) {
    if (!((*p >= '0' && *p <= '9') || *p == '-' || *p == '+' || *p == 'e'))
      *p = '.';
  }
  return buf;
}

/** Append <b>s</b> escaped for a HELP line (backslash, newline) or, if
 * <b>quote</b>, for a label value (also double quote). */
static chive_err_t
write_escaped(strbuf_t *out, const char *s, bool quote)
{
  const char *run = s;
  chive_err_t err;
  for (const char *p = s;; p++) {
    const char *esc = NULL;
    if (*p == '\\')
      esc = "\\\\";
    else if (*p == '\n')
      esc = "\\n";
    else if (quote && *p == '"')
      esc = "\\\"";
    if (!esc && *p)
      continue;
    if ((err = strbuf_add(out, run, (size_t)(p - run))))
      return err;
    if (!esc)
      return CHIVE_OK;
    if ((err = strbuf_addstr(out, esc)))
      return err;
    run = p + 1;
  }
}

/** Append "name{l1="v1",...,le="x"}" (no braces without labels). */
static chive_err_t
write_sample_name(strbuf_t *out, const metrics_family_t *fam,
                  const metrics_series_t *s, const char *suffix,
                  const char *le)
{
  chive_err_t err;
  if ((err = strbuf_addstr(out, fam->name)))
    return err;
  if (suffix && (err = strbuf_addstr(out, suffix)))
    return err;
  if (fam->n_labels == 0 && !le)
    return CHIVE_OK;
  if ((err = strbuf_addc(out, '{')))
    return err;
  for (size_t i = 0; i < fam->n_labels; i++) {
    if ((err = strbuf_addf(out, "%s%s=\"", i ? "," : "", fam->label_names[i])))
      return err;
    if ((err = write_escaped(out, s->values[i], true)))
      return err;
    if ((err = strbuf_addc(out, '"')))
      return err;
  }
  if (le &&
      (err = strbuf_addf(out, "%sle=\"%s\"", fam->n_labels ? "," : "", le)))
    return err;
  return strbuf_addc(out, '}');
}

static chive_err_t
write_histogram(strbuf_t *out, const metrics_family_t *fam,
                const metrics_series_t *s)
{
  const metrics_histogram_t *h = &s->u.histogram;
  char num[METRICS_DOUBLE_STR_LEN];
  uint64_t cum = 0;
  chive_err_t err;
  for (size_t i = 0; i <= fam->n_bounds; i++) {
    const char *le = i < fam->n_bounds
                         ? metrics_format_double(fam->bounds[i], num)
                         : "+Inf";
    cum += h->buckets[i];
    if ((err = write_sample_name(out, fam, s, "_bucket", le)))
      return err;
    if ((err = strbuf_addf(out, " %" PRIu64 "\n", cum)))
      return err;
  }
  if ((err = write_sample_name(out, fam, s, "_sum", NULL)))
    return err;
  if ((err = strbuf_addf(out, " %s\n", metrics_format_double(h->sum, num))))
    return err;
  if ((err = write_sample_name(out, fam, s, "_count", NULL)))
    return err;
  return strbuf_addf(out, " %" PRIu64 "\n", h->count);
}

static chive_err_t
write_series(strbuf_t *out, const metrics_family_t *fam,
             const metrics_series_t *s)
{
  char num[METRICS_DOUBLE_STR_LEN];
  chive_err_t err;
  if (fam->type == METRICS_TYPE_HISTOGRAM)
    return write_histogram(out, fam, s);
  if ((err = write_sample_name(out, fam, s, NULL, NULL)))
    return err;
  if (fam->type == METRICS_TYPE_COUNTER)
    return strbuf_addf(out, " %" PRIu64 "\n",
                       metrics_counter_value(&s->u.counter));
  const metrics_gauge_t *g = &s->u.gauge;
  if (!g->cb && !g->is_double)
    return strbuf_addf(out, " %" PRId64 "\n", g->ival);
  return strbuf_addf(out, " %s\n",
                     metrics_format_double(metrics_gauge_value(g), num));
}

static const char *
type_name(metrics_type_t t)
{
  switch (t) {
  case METRICS_TYPE_COUNTER:
    return "counter";
  case METRICS_TYPE_GAUGE:
    return "gauge";
  case METRICS_TYPE_HISTOGRAM:
    return "histogram";
  default:
    return "untyped";
  }
}

chive_err_t
metrics_registry_write(const metrics_registry_t *reg, strbuf_t *out)
{
  if (BUG(!reg || !out))
    return CHIVE_ERR_INVAL;
  chive_err_t err;
  for (size_t i = 0; i < reg->n_families; i++) {
    const metrics_family_t *fam = reg->families[i];
    if (fam->n_series == 0)
      continue;
    if ((err = strbuf_addf(out, "# HELP %s ", fam->name)))
      return err;
    if ((err = write_escaped(out, fam->help, false)))
      return err;
    if ((err = strbuf_addf(out, "\n# TYPE %s %s\n", fam->name,
                           type_name(fam->type))))
      return err;
    for (size_t j = 0; j < fam->n_series; j++) {
      if ((err = write_series(out, fam, fam->series[j])))
        return err;
    }
  }
  return CHIVE_OK;
}
