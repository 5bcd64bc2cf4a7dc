/* Unit tests for lib/metrics: registry, names, label bounds, histogram
 * bucket math and golden Prometheus text exposition (format 0.0.4). */
#include "lib/cc/compat.h"

#include <math.h>
#include <stdlib.h>

#include "lib/malloc/malloc.h"
#include "lib/metrics/metrics.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

/* math.h gives float NAN/INFINITY; these tests want doubles. */
#define D_NAN ((double)NAN)
#define D_INF ((double)INFINITY)

/** Render <b>reg</b> into a fresh chive_malloc'd string (NULL on error). */
static char *
render(const metrics_registry_t *reg)
{
  strbuf_t sb;
  strbuf_init(&sb, 1 << 20);
  if (metrics_registry_write(reg, &sb) != CHIVE_OK) {
    strbuf_clear(&sb);
    return NULL;
  }
  char *s = strbuf_steal(&sb, NULL);
  strbuf_clear(&sb);
  return s;
}

static void
test_counter_golden(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_counter_t *a = NULL, *b = NULL;
  char *out = NULL;
  T_ASSERT(reg);
  /* "_total" is added when missing, kept when present. */
  T_OK(metrics_counter_new(reg, "chive_a", "Help with \\ and\nnewline \"q\".",
                           &a));
  T_OK(metrics_counter_new(reg, "chive_b_total", "B.", &b));
  T_ASSERT(metrics_registry_find(reg, "chive_a_total"));
  T_ASSERT(!metrics_registry_find(reg, "chive_a"));
  metrics_counter_inc(a);
  metrics_counter_add(a, 41);
  metrics_counter_add(b, UINT64_MAX);
  T_EQ_UINT(metrics_counter_value(a), 42);
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out, "# HELP chive_a_total Help with \\\\ and\\nnewline \"q\".\n"
                "# TYPE chive_a_total counter\n"
                "chive_a_total 42\n"
                "# HELP chive_b_total B.\n"
                "# TYPE chive_b_total counter\n"
                "chive_b_total 18446744073709551615\n");
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static double
cb_value(void *arg)
{
  return *(const double *)arg;
}

static uint64_t
cb_counter(void *arg)
{
  return *(const uint64_t *)arg;
}

static void
test_gauge_golden(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_gauge_t *i = NULL, *d = NULL, *n = NULL, *c = NULL;
  metrics_counter_t *cc = NULL;
  double cbv = 1048576.0;
  uint64_t cbc = 7;
  char *out = NULL;
  T_ASSERT(reg);
  T_OK(metrics_gauge_new(reg, "chive_int", "", &i));
  T_OK(metrics_gauge_new(reg, "chive_dbl", "D", &d));
  T_OK(metrics_gauge_new(reg, "chive_nan", "N", &n));
  T_OK(metrics_gauge_cb_new(reg, "chive_memory_bytes", "M", cb_value, &cbv,
                            &c));
  T_OK(metrics_counter_new(reg, "chive_cb_total", "C", &cc));
  metrics_counter_set_callback(cc, cb_counter, &cbc);
  metrics_gauge_set(i, 5);
  metrics_gauge_dec(i);
  metrics_gauge_add(i, -10);
  metrics_gauge_set_double(d, 0.1);
  metrics_gauge_add(d, 2); /* stays a double */
  metrics_gauge_set_double(n, D_NAN);
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out, "# HELP chive_int \n"
                "# TYPE chive_int gauge\n"
                "chive_int -6\n"
                "# HELP chive_dbl D\n"
                "# TYPE chive_dbl gauge\n"
                "chive_dbl 2.1\n"
                "# HELP chive_nan N\n"
                "# TYPE chive_nan gauge\n"
                "chive_nan NaN\n"
                "# HELP chive_memory_bytes M\n"
                "# TYPE chive_memory_bytes gauge\n"
                "chive_memory_bytes 1048576\n"
                "# HELP chive_cb_total C\n"
                "# TYPE chive_cb_total counter\n"
                "chive_cb_total 7\n");
  chive_free(out);
  /* Callbacks are read at each exposition; clearing one goes back to the
   * stored value. */
  cbv = D_INF;
  cbc = 8;
  T_EQ_UINT(metrics_counter_value(cc), 8);
  metrics_counter_set_callback(cc, NULL, NULL);
  T_EQ_UINT(metrics_counter_value(cc), 0);
  T_ASSERT(isinf(metrics_gauge_value(c)));
  metrics_gauge_set_double(n, -D_INF);
  out = render(reg);
  T_ASSERT(out);
  T_ASSERT(strstr(out, "\nchive_memory_bytes +Inf\n"));
  T_ASSERT(strstr(out, "\nchive_nan -Inf\n"));
  T_ASSERT(strstr(out, "\nchive_cb_total 0\n"));
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static void
test_gauge_saturates(void)
{
  metrics_gauge_t g;
  memset(&g, 0, sizeof(g));
  metrics_gauge_set(&g, INT64_MAX - 1);
  metrics_gauge_add(&g, 5);
  T_EQ_INT(g.ival, INT64_MAX);
  metrics_gauge_set(&g, INT64_MIN + 1);
  metrics_gauge_add(&g, -5);
  T_EQ_INT(g.ival, INT64_MIN);
  metrics_gauge_inc(&g);
  T_EQ_INT(g.ival, INT64_MIN + 1);
  /* NULL handles are no-ops (metrics switched off). */
  metrics_counter_inc(NULL);
  metrics_counter_add(NULL, 3);
  metrics_gauge_set(NULL, 1);
  metrics_gauge_set_double(NULL, 1.0);
  metrics_gauge_inc(NULL);
  metrics_histogram_observe(NULL, 1.0);
  T_EQ_UINT(metrics_counter_value(NULL), 0);
done:
  return;
}

static void
test_labels_golden(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_family_t *fam = NULL;
  metrics_counter_t *s1 = NULL, *s2 = NULL, *s3 = NULL, *again = NULL;
  char *out = NULL;
  static const char *const labels[] = {"reason", "hop"};
  T_ASSERT(reg);
  metrics_spec_t spec = {.type = METRICS_TYPE_COUNTER,
                         .name = "chive_circuits_failed_total",
                         .help = "Circuits that failed.",
                         .label_names = labels,
                         .n_labels = 2,
                         .max_series = 8};
  T_OK(metrics_register(reg, &spec, &fam));
  /* No series yet: the family is not exposed at all. */
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out, "");
  chive_free(out);
  out = NULL;
  /* Created out of order; exposed sorted by label values, labels in
   * registration order. */
  T_OK(
      metrics_family_counter(fam, (const char *const[]){"timeout", "2"}, &s1));
  T_OK(metrics_family_counter(fam, (const char *const[]){"a\"b\\c\nd", "1"},
                              &s2));
  T_OK(
      metrics_family_counter(fam, (const char *const[]){"timeout", "1"}, &s3));
  T_OK(metrics_family_counter(fam, (const char *const[]){"timeout", "2"},
                              &again));
  T_ASSERT(again == s1);
  T_EQ_UINT(metrics_family_n_series(fam), 3);
  metrics_counter_inc(s1);
  metrics_counter_add(s2, 2);
  metrics_counter_add(s3, 3);
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out,
           "# HELP chive_circuits_failed_total Circuits that failed.\n"
           "# TYPE chive_circuits_failed_total counter\n"
           "chive_circuits_failed_total{reason=\"a\\\"b\\\\c\\nd\",hop=\"1\"}"
           " 2\n"
           "chive_circuits_failed_total{reason=\"timeout\",hop=\"1\"} 3\n"
           "chive_circuits_failed_total{reason=\"timeout\",hop=\"2\"} 1\n");
  /* Wrong type for the family. */
  metrics_gauge_t *g = NULL;
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){"x", "y"}, &g),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_family_counter(fam, NULL, &s1), CHIVE_ERR_INVAL);
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static void
test_label_bounds(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_family_t *fam = NULL;
  metrics_gauge_t *g = NULL, *g2 = NULL;
  static const char *const labels[] = {"state"};
  char longv[METRICS_LABEL_VALUE_MAX_LEN + 2];
  T_ASSERT(reg);
  metrics_spec_t spec = {.type = METRICS_TYPE_GAUGE,
                         .name = "chive_guards",
                         .help = "Guards by state.",
                         .label_names = labels,
                         .n_labels = 1,
                         .max_series = 2};
  T_OK(metrics_register(reg, &spec, &fam));
  T_OK(metrics_family_gauge(fam, (const char *const[]){"sampled"}, &g));
  T_OK(metrics_family_gauge(fam, (const char *const[]){"usable"}, &g2));
  T_ASSERT(g != g2);
  /* A third combination is over the family's max_series. */
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){"other"}, &g),
           CHIVE_ERR_LIMIT);
  /* Existing combinations are still found. */
  T_OK(metrics_family_gauge(fam, (const char *const[]){"usable"}, &g));
  T_ASSERT(g == g2);
  T_EQ_UINT(metrics_family_n_series(fam), 2);
  /* Label values: bounded length, valid UTF-8. */
  memset(longv, 'x', sizeof(longv) - 1);
  longv[sizeof(longv) - 1] = '\0';
  spec.name = "chive_other";
  spec.max_series = 8;
  T_OK(metrics_register(reg, &spec, &fam));
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){longv}, &g),
           CHIVE_ERR_INVAL);
  longv[METRICS_LABEL_VALUE_MAX_LEN] = '\0';
  T_OK(metrics_family_gauge(fam, (const char *const[]){longv}, &g));
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){"\xff"}, &g),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){"\xc0\x80"}, &g),
           CHIVE_ERR_INVAL);
  T_EQ_INT(
      metrics_family_gauge(fam, (const char *const[]){"\xed\xa0\x80"}, &g),
      CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_family_gauge(fam, (const char *const[]){"\xe2\x82"}, &g),
           CHIVE_ERR_INVAL);
  T_OK(metrics_family_gauge(fam, (const char *const[]){"\xe2\x82\xac"}, &g));
  T_OK(metrics_family_gauge(fam, (const char *const[]){""}, &g));
  T_EQ_UINT(metrics_family_n_series(fam), 3);
done:
  metrics_registry_free(reg);
}

static const double BUILD_BUCKETS[] = {0.05, 0.1, 0.25, 0.5, 1,
                                       2.5,  5,   10,   30,  60};

static void
test_histogram_golden(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_histogram_t *h = NULL;
  char *out = NULL;
  T_ASSERT(reg);
  T_OK(metrics_histogram_new(reg, "chive_circuit_build_seconds",
                             "Circuit build time.", BUILD_BUCKETS,
                             CHIVE_ARRAY_LEN(BUILD_BUCKETS), &h));
  metrics_histogram_observe(h, 0.03125);
  metrics_histogram_observe(h, 0.375);
  metrics_histogram_observe(h, 0.375);
  metrics_histogram_observe(h, 60);
  metrics_histogram_observe(h, 61.25); /* only +Inf */
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out, "# HELP chive_circuit_build_seconds Circuit build time.\n"
                "# TYPE chive_circuit_build_seconds histogram\n"
                "chive_circuit_build_seconds_bucket{le=\"0.05\"} 1\n"
                "chive_circuit_build_seconds_bucket{le=\"0.1\"} 1\n"
                "chive_circuit_build_seconds_bucket{le=\"0.25\"} 1\n"
                "chive_circuit_build_seconds_bucket{le=\"0.5\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"1\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"2.5\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"5\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"10\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"30\"} 3\n"
                "chive_circuit_build_seconds_bucket{le=\"60\"} 4\n"
                "chive_circuit_build_seconds_bucket{le=\"+Inf\"} 5\n"
                "chive_circuit_build_seconds_sum 122.03125\n"
                "chive_circuit_build_seconds_count 5\n");
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static void
test_histogram_labels(void)
{
  metrics_registry_t *reg = metrics_registry_new(NULL);
  metrics_family_t *fam = NULL;
  metrics_histogram_t *h = NULL;
  char *out = NULL;
  static const double b[] = {-1, 0, 1e21};
  static const char *const labels[] = {"kind"};
  T_ASSERT(reg);
  metrics_spec_t spec = {.type = METRICS_TYPE_HISTOGRAM,
                         .name = "x_seconds",
                         .help = "X.",
                         .label_names = labels,
                         .n_labels = 1,
                         .max_series = 4,
                         .buckets = b,
                         .n_buckets = 3};
  T_OK(metrics_register(reg, &spec, &fam));
  T_OK(metrics_family_histogram(fam, (const char *const[]){"k"}, &h));
  metrics_histogram_observe(h, -2);
  metrics_histogram_observe(h, -1);
  metrics_histogram_observe(h, -0.5);
  metrics_histogram_observe(h, 0);
  T_EQ_UINT(h->buckets[0], 2);
  T_EQ_UINT(h->buckets[1], 2);
  T_EQ_UINT(h->buckets[2], 0);
  T_EQ_UINT(h->buckets[3], 0);
  out = render(reg);
  T_ASSERT(out);
  T_EQ_STR(out, "# HELP x_seconds X.\n"
                "# TYPE x_seconds histogram\n"
                "x_seconds_bucket{kind=\"k\",le=\"-1\"} 2\n"
                "x_seconds_bucket{kind=\"k\",le=\"0\"} 4\n"
                "x_seconds_bucket{kind=\"k\",le=\"1e+21\"} 4\n"
                "x_seconds_bucket{kind=\"k\",le=\"+Inf\"} 4\n"
                "x_seconds_sum{kind=\"k\"} -3.5\n"
                "x_seconds_count{kind=\"k\"} 4\n");
done:
  chive_free(out);
  metrics_registry_free(reg);
}

static void
test_histogram_math(void)
{
  metrics_registry_t *reg = metrics_registry_new(NULL);
  metrics_histogram_t *h = NULL, *hb = NULL;
  static const double b[] = {1};
  T_ASSERT(reg);
  /* Upper bounds are inclusive ("le"): a value on a bound counts there. */
  T_OK(metrics_histogram_new(reg, "b_seconds", "B.", BUILD_BUCKETS,
                             CHIVE_ARRAY_LEN(BUILD_BUCKETS), &hb));
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(BUILD_BUCKETS); i++) {
    metrics_histogram_observe(hb, BUILD_BUCKETS[i]);
    T_EQ_UINT(hb->buckets[i], 1);
    metrics_histogram_observe(hb, BUILD_BUCKETS[i] * 1.0000001);
    T_EQ_UINT(hb->buckets[i + 1], 1);
    hb->buckets[i + 1] = 0;
  }
  T_EQ_UINT(hb->count, 2 * CHIVE_ARRAY_LEN(BUILD_BUCKETS));
  T_OK(metrics_histogram_new(reg, "y_seconds", "Y.", b, 1, &h));
  metrics_histogram_observe(h, D_INF);
  T_EQ_UINT(h->buckets[1], 1);
  T_ASSERT(isinf(h->sum));
  metrics_histogram_observe(h, D_NAN);
  T_EQ_UINT(h->buckets[0], 0);
  T_EQ_UINT(h->buckets[1], 2);
  T_EQ_UINT(h->count, 2);
  T_ASSERT(isnan(h->sum));
done:
  metrics_registry_free(reg);
}

static void
test_name_check(void)
{
  static const struct {
    const char *name;
    metrics_type_t type;
    bool ok;
  } cases[] = {
      {"chive_circuits_built_total", METRICS_TYPE_COUNTER, true},
      {"chive_circuits_built", METRICS_TYPE_COUNTER, false},
      {"chive_circuits_open", METRICS_TYPE_GAUGE, true},
      {"chive_circuits_open_total", METRICS_TYPE_GAUGE, false},
      {"chive_build_seconds", METRICS_TYPE_HISTOGRAM, true},
      {"chive_build_seconds_total", METRICS_TYPE_HISTOGRAM, false},
      {"chive_build_bucket", METRICS_TYPE_HISTOGRAM, false},
      {"chive_build_sum", METRICS_TYPE_HISTOGRAM, false},
      {"chive_build_count", METRICS_TYPE_HISTOGRAM, false},
      {"chive_build_count", METRICS_TYPE_GAUGE, true},
      {"chive_x9", METRICS_TYPE_GAUGE, true},
      {"chive_", METRICS_TYPE_GAUGE, false},
      {"chive", METRICS_TYPE_GAUGE, false},
      {"tor_x", METRICS_TYPE_GAUGE, false},
      {"chive_Upper", METRICS_TYPE_GAUGE, false},
      {"chive_camelCase", METRICS_TYPE_GAUGE, false},
      {"chive__x", METRICS_TYPE_GAUGE, false},
      {"chive_x_", METRICS_TYPE_GAUGE, false},
      {"chive_x-y", METRICS_TYPE_GAUGE, false},
      {"chive_x:y", METRICS_TYPE_GAUGE, false},
      {"chive_x y", METRICS_TYPE_GAUGE, false},
      {"", METRICS_TYPE_GAUGE, false},
      {"chive_build_milliseconds", METRICS_TYPE_HISTOGRAM, false},
      {"chive_build_ms", METRICS_TYPE_GAUGE, false},
      {"chive_read_kilobytes_total", METRICS_TYPE_COUNTER, false},
      {"chive_uptime_minutes", METRICS_TYPE_GAUGE, false},
      {"chive_bytes_read_total", METRICS_TYPE_COUNTER, true},
      {"chive_bootstrap_percent", METRICS_TYPE_GAUGE, true},
      {"chive_x", (metrics_type_t)0, false},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    bool ok = metrics_name_check("chive_", cases[i].name, cases[i].type);
    if (ok != cases[i].ok)
      fprintf(stderr, "  name %s\n", cases[i].name);
    T_EQ_INT(ok, cases[i].ok);
  }
  /* No prefix: any valid snake_case name. */
  T_ASSERT(metrics_name_check(NULL, "tor_x", METRICS_TYPE_GAUGE));
  T_ASSERT(metrics_name_check("", "x", METRICS_TYPE_GAUGE));
  T_ASSERT(!metrics_name_check(NULL, "9x", METRICS_TYPE_GAUGE));
  T_ASSERT(!metrics_name_check(NULL, "_x", METRICS_TYPE_GAUGE));
  T_ASSERT(!metrics_name_check(NULL, NULL, METRICS_TYPE_GAUGE));
  char longname[METRICS_NAME_MAX_LEN + 2];
  memset(longname, 'a', sizeof(longname) - 1);
  longname[sizeof(longname) - 1] = '\0';
  T_ASSERT(!metrics_name_check(NULL, longname, METRICS_TYPE_GAUGE));
  longname[METRICS_NAME_MAX_LEN] = '\0';
  T_ASSERT(metrics_name_check(NULL, longname, METRICS_TYPE_GAUGE));

  T_ASSERT(metrics_label_name_check("reason"));
  T_ASSERT(metrics_label_name_check("_x"));
  T_ASSERT(metrics_label_name_check("le"));
  T_ASSERT(!metrics_label_name_check("__x"));
  T_ASSERT(!metrics_label_name_check(""));
  T_ASSERT(!metrics_label_name_check("Reason"));
  T_ASSERT(!metrics_label_name_check("9a"));
  T_ASSERT(!metrics_label_name_check("a-b"));
  T_ASSERT(!metrics_label_name_check(NULL));

  /* Prefixes themselves are checked. */
  metrics_registry_t *bad = metrics_registry_new("Chive_");
  T_ASSERT(!bad);
  bad = metrics_registry_new("chive");
  T_ASSERT(!bad);
done:
  return;
}

static void
test_register_rejects(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_family_t *fam = NULL;
  metrics_counter_t *c = NULL;
  metrics_gauge_t *g = NULL;
  metrics_histogram_t *h = NULL;
  static const double up[] = {1, 2};
  static const double down[] = {2, 1};
  static const double same[] = {1, 1};
  static const double inf[] = {1, D_INF};
  static const double nan[] = {D_NAN};
  static const char *const le[] = {"le"};
  static const char *const dup[] = {"a", "a"};
  static const char *const five[] = {"a", "b", "c", "d", "e"};
  static const char *const badl[] = {"A"};
  T_ASSERT(reg);

  /* Invalid names and help. */
  T_EQ_INT(metrics_counter_new(reg, "other_x_total", "", &c), CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_counter_new(reg, "chive_X", "", &c), CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_gauge_new(reg, "chive_x", NULL, &g), CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_gauge_new(reg, "chive_x", "bad \xff utf8", &g),
           CHIVE_ERR_INVAL);
  /* Buckets: increasing, finite, only for histograms. */
  T_EQ_INT(metrics_histogram_new(reg, "chive_h", "", down, 2, &h),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_histogram_new(reg, "chive_h", "", same, 2, &h),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_histogram_new(reg, "chive_h", "", inf, 2, &h),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_histogram_new(reg, "chive_h", "", nan, 1, &h),
           CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_histogram_new(reg, "chive_h", "", NULL, 0, &h),
           CHIVE_ERR_INVAL);
  metrics_spec_t spec = {.type = METRICS_TYPE_GAUGE,
                         .name = "chive_g",
                         .help = "",
                         .buckets = up,
                         .n_buckets = 2};
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  /* Labels: "le" on a histogram, duplicates, too many, bad names,
   * max_series > 1 without labels, max_series over the limit. */
  spec = (metrics_spec_t){.type = METRICS_TYPE_HISTOGRAM,
                          .name = "chive_h",
                          .help = "",
                          .label_names = le,
                          .n_labels = 1,
                          .max_series = 2,
                          .buckets = up,
                          .n_buckets = 2};
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  spec = (metrics_spec_t){.type = METRICS_TYPE_GAUGE,
                          .name = "chive_g",
                          .help = "",
                          .label_names = le,
                          .n_labels = 1,
                          .max_series = 2};
  T_OK(metrics_register(reg, &spec, &fam)); /* "le" is fine on a gauge */
  spec.name = "chive_g2";
  spec.label_names = dup;
  spec.n_labels = 2;
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  spec.label_names = five;
  spec.n_labels = 5;
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  spec.label_names = badl;
  spec.n_labels = 1;
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  spec.label_names = NULL;
  spec.n_labels = 0;
  spec.max_series = 2;
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);
  spec.label_names = le;
  spec.n_labels = 1;
  spec.max_series = METRICS_MAX_SERIES_LIMIT + 1;
  T_EQ_INT(metrics_register(reg, &spec, &fam), CHIVE_ERR_INVAL);

  /* Clashes: same name (with or without the added "_total"), and a
   * histogram's derived sample names, in either order. */
  T_OK(metrics_counter_new(reg, "chive_c", "", &c));
  T_EQ_INT(metrics_counter_new(reg, "chive_c_total", "", &c), CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_gauge_new(reg, "chive_g", "", &g), CHIVE_ERR_INVAL);
  T_OK(metrics_histogram_new(reg, "chive_h", "", up, 2, &h));
  T_EQ_INT(metrics_gauge_new(reg, "chive_h_count", "", &g), CHIVE_ERR_INVAL);
  T_EQ_INT(metrics_gauge_new(reg, "chive_h_bucket", "", &g), CHIVE_ERR_INVAL);
  T_OK(metrics_gauge_new(reg, "chive_k_sum", "", &g));
  T_EQ_INT(metrics_histogram_new(reg, "chive_k", "", up, 2, &h),
           CHIVE_ERR_INVAL);
  T_EQ_UINT(metrics_registry_n_families(reg), 4);
done:
  metrics_registry_free(reg);
}

static void
test_family_limit(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_gauge_t *g = NULL;
  char name[32];
  T_ASSERT(reg);
  for (int i = 0; i < METRICS_MAX_FAMILIES; i++) {
    snprintf(name, sizeof(name), "chive_g%d", i);
    T_OK(metrics_gauge_new(reg, name, "", &g));
  }
  T_EQ_INT(metrics_gauge_new(reg, "chive_one_more", "", &g), CHIVE_ERR_LIMIT);
  T_EQ_UINT(metrics_registry_n_families(reg), METRICS_MAX_FAMILIES);
done:
  metrics_registry_free(reg);
}

static void
test_format_double(void)
{
  char b[METRICS_DOUBLE_STR_LEN];
  T_EQ_STR(metrics_format_double(0.1, b), "0.1");
  T_EQ_STR(metrics_format_double(1, b), "1");
  T_EQ_STR(metrics_format_double(2.5, b), "2.5");
  T_EQ_STR(metrics_format_double(-60, b), "-60");
  T_EQ_STR(metrics_format_double(0.1 + 0.2, b), "0.30000000000000004");
  T_EQ_STR(metrics_format_double(1e21, b), "1e+21");
  T_EQ_STR(metrics_format_double(1.5e-9, b), "1.5e-09");
  T_EQ_STR(metrics_format_double(9007199254740993.0, b), "9007199254740992");
  T_EQ_STR(metrics_format_double(D_NAN, b), "NaN");
  T_EQ_STR(metrics_format_double(D_INF, b), "+Inf");
  T_EQ_STR(metrics_format_double(-D_INF, b), "-Inf");
  /* Every output reads back exactly. */
  static const double vals[] = {
      1.0 / 3,  2.0 / 3,    1e-300, 1.7976931348623157e308,
      4.9e-324, 123456.789, -0.001};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(vals); i++) {
    metrics_format_double(vals[i], b);
    T_ASSERT(strtod(b, NULL) == vals[i]);
  }
done:
  return;
}

static void
test_truncated_output(void)
{
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_counter_t *c = NULL;
  strbuf_t sb;
  strbuf_init(&sb, 20);
  T_ASSERT(reg);
  T_OK(metrics_counter_new(reg, "chive_c", "Some long help text here.", &c));
  T_EQ_INT(metrics_registry_write(reg, &sb), CHIVE_ERR_LIMIT);
  T_ASSERT(strbuf_truncated(&sb));
done:
  strbuf_clear(&sb);
  metrics_registry_free(reg);
}

/** Build a small registry; with fail injection every failure must leave
 * things consistent and leak nothing (the harness checks leaks). */
static chive_err_t
build_some(metrics_registry_t **out)
{
  static const char *const labels[] = {"result"};
  static const double b[] = {1, 2};
  metrics_registry_t *reg = metrics_registry_new("chive_");
  metrics_family_t *fam;
  metrics_counter_t *c;
  metrics_histogram_t *h;
  chive_err_t err = CHIVE_ERR_NOMEM;
  if (!reg)
    return CHIVE_ERR_NOMEM;
  metrics_spec_t spec = {.type = METRICS_TYPE_COUNTER,
                         .name = "chive_streams_total",
                         .help = "Streams.",
                         .label_names = labels,
                         .n_labels = 1,
                         .max_series = 4};
  if ((err = metrics_register(reg, &spec, &fam)))
    goto err;
  if ((err = metrics_family_counter(fam, (const char *const[]){"ok"}, &c)))
    goto err;
  if ((err = metrics_family_counter(fam, (const char *const[]){"no"}, &c)))
    goto err;
  if ((err = metrics_histogram_new(reg, "chive_h_seconds", "H.", b, 2, &h)))
    goto err;
  metrics_histogram_observe(h, 1.5);
  *out = reg;
  return CHIVE_OK;
err:
  metrics_registry_free(reg);
  return err;
}

static void
test_oom(void)
{
  metrics_registry_t *reg = NULL;
  char *ref = NULL, *got = NULL;
  T_OK(build_some(&reg));
  ref = render(reg);
  T_ASSERT(ref);
  metrics_registry_free(reg);
  int n_failed = 0;
  for (uint64_t n = 1; n < 200; n++) {
    chive_mem_fail_nth(n, false);
    chive_err_t err = build_some(&reg);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (!fired) {
      T_OK(err);
      metrics_registry_free(reg);
      break;
    }
    n_failed++;
    /* Every allocation is checked: a failed one fails the build. */
    T_EQ_INT(err, CHIVE_ERR_NOMEM);
  }
  T_ASSERT(n_failed > 5);
  T_OK(build_some(&reg));
  got = render(reg);
  T_ASSERT(got);
  T_EQ_STR(got, ref);
done:
  chive_free(ref);
  chive_free(got);
  metrics_registry_free(reg);
}

static const t_case cases[] = {T_CASE(test_counter_golden),
                               T_CASE(test_gauge_golden),
                               T_CASE(test_gauge_saturates),
                               T_CASE(test_labels_golden),
                               T_CASE(test_label_bounds),
                               T_CASE(test_histogram_golden),
                               T_CASE(test_histogram_labels),
                               T_CASE(test_histogram_math),
                               T_CASE(test_name_check),
                               T_CASE(test_register_rejects),
                               T_CASE(test_family_limit),
                               T_CASE(test_format_double),
                               T_CASE(test_truncated_output),
                               T_CASE(test_oom),
                               T_END};

T_MAIN(cases)
