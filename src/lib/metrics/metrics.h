/**
 * @file metrics.h
 * @brief A metrics registry (counters, gauges, histograms, callback
 * gauges) and its Prometheus text exposition (format 0.0.4).
 *
 * Model:
 * - A metrics_registry_t holds metric families.  There is no global
 *   registry: each owner (a client, a test) makes its own.
 * - A family has a name, help text, a type, and an optional fixed list of
 *   label names (at most METRICS_MAX_LABELS).  A labelled family holds at
 *   most <b>max_series</b> label-value combinations (named by the
 *   registering code), so peer-influenced label values can never grow
 *   memory without bound.
 * - A series is one label-value combination.  Its handle
 *   (metrics_counter_t *, metrics_gauge_t *, metrics_histogram_t *) is
 *   looked up once, when the code that updates it is wired, and then
 *   updated with the inline functions below: an increment is one add
 *   through a pointer, with no lookup on the hot path.  Every update
 *   function accepts a NULL handle and does nothing, so a subsystem can
 *   be built and run with metrics switched off.
 * - A gauge (or counter) series may instead be backed by a callback that
 *   is read at exposition time (memory in use, open circuits...).
 *
 * Names follow the Prometheus conventions and are checked at
 * registration (metrics_name_check()): snake_case [a-z0-9_], the
 * registry's prefix (e.g. "chive_"), base units (seconds, bytes: names
 * ending in _milliseconds, _kilobytes, ... are refused), counters end in
 * "_total" (added when missing), and no family's sample names may clash
 * with another's (a histogram "x" owns x_bucket, x_sum and x_count).
 *
 * Exposition (metrics_registry_write()) follows
 * https://prometheus.io/docs/instrumenting/exposition_formats/ (text
 * format 0.0.4): "# HELP" and "# TYPE" lines, help text with backslash
 * and newline escaped, label values with backslash, double quote and
 * newline escaped, labels in their registration order, series sorted by
 * label values, families in registration order, histogram buckets
 * cumulative with le="+Inf" last and _sum/_count, and floats as "+Inf",
 * "-Inf", "NaN" or the shortest decimal that reads back exactly.  A
 * labelled family with no series yet is omitted.
 *
 * Lifetimes: handles are owned by the registry and valid until
 * metrics_registry_free().  Callback arguments are borrowed: clear a
 * callback (set it to NULL) before freeing what its argument points to.
 *
 * Threading: none.  Update and expose from one thread (the event loop's).
 **/
#ifndef CHIVE_LIB_METRICS_METRICS_H
#define CHIVE_LIB_METRICS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/text/strbuf.h"

/** The HTTP Content-Type of metrics_registry_write()'s output. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/** Longest metric family name, in bytes (after "_total" is added). */
#define METRICS_NAME_MAX_LEN 128
/** Longest registry prefix, in bytes. */
#define METRICS_PREFIX_MAX_LEN 32
/** Longest help text, in bytes. */
#define METRICS_HELP_MAX_LEN 1024
/** Most label names per family. */
#define METRICS_MAX_LABELS 4
/** Longest label name, in bytes. */
#define METRICS_LABEL_NAME_MAX_LEN 64
/** Longest label value, in bytes. */
#define METRICS_LABEL_VALUE_MAX_LEN 128
/** Most families in one registry. */
#define METRICS_MAX_FAMILIES 256
/** The largest max_series any family may ask for. */
#define METRICS_MAX_SERIES_LIMIT 1024
/** Most finite bucket bounds in a histogram (+Inf is added). */
#define METRICS_HISTOGRAM_MAX_BUCKETS 32

/** The type of a metric family (the "# TYPE" line). */
typedef enum metrics_type_t {
  METRICS_TYPE_COUNTER = 1,   /**< u64, only goes up */
  METRICS_TYPE_GAUGE = 2,     /**< i64 or double, up and down */
  METRICS_TYPE_HISTOGRAM = 3, /**< fixed buckets + sum + count */
} metrics_type_t;

typedef struct metrics_registry_t metrics_registry_t;
typedef struct metrics_family_t metrics_family_t;

/** Returns a counter's current value; read at exposition time. */
typedef uint64_t (*metrics_counter_cb_t)(void *arg);
/** Returns a gauge's current value; read at exposition time. */
typedef double (*metrics_gauge_cb_t)(void *arg);

/** One counter series.  Update with metrics_counter_inc/add only. */
typedef struct metrics_counter_t {
  uint64_t value;
  metrics_counter_cb_t cb; /**< if set, exposed instead of value */
  void *cb_arg;
} metrics_counter_t;

/** One gauge series.  Update with metrics_gauge_* only. */
typedef struct metrics_gauge_t {
  int64_t ival;
  double dval;
  bool is_double;        /**< the last set was a double */
  metrics_gauge_cb_t cb; /**< if set, exposed instead of the value */
  void *cb_arg;
} metrics_gauge_t;

/** One histogram series.  Update with metrics_histogram_observe(). */
typedef struct metrics_histogram_t {
  const double *bounds; /**< n_bounds finite, increasing (family's) */
  size_t n_bounds;
  uint64_t *buckets; /**< n_bounds + 1 per-bucket (not cumulative) */
  double sum;
  uint64_t count;
} metrics_histogram_t;

/* --- hot path: updates (NULL handle = no-op) ------------------------ */

/** Add one to counter <b>c</b>. */
static inline void
metrics_counter_inc(metrics_counter_t *c)
{
  if (c)
    c->value++;
}
/** Add <b>n</b> to counter <b>c</b> (wraps at 2^64). */
static inline void
metrics_counter_add(metrics_counter_t *c, uint64_t n)
{
  if (c)
    c->value += n;
}
/** Set gauge <b>g</b> to the integer <b>v</b>. */
static inline void
metrics_gauge_set(metrics_gauge_t *g, int64_t v)
{
  if (g) {
    g->ival = v;
    g->is_double = false;
  }
}
/** Set gauge <b>g</b> to the floating-point <b>v</b>. */
static inline void
metrics_gauge_set_double(metrics_gauge_t *g, double v)
{
  if (g) {
    g->dval = v;
    g->is_double = true;
  }
}
/** Add <b>d</b> (may be negative) to gauge <b>g</b>; an integer gauge
 * saturates at INT64_MIN / INT64_MAX. */
static inline void
metrics_gauge_add(metrics_gauge_t *g, int64_t d)
{
  if (!g)
    return;
  if (g->is_double) {
    g->dval += (double)d;
  } else if (d > 0 && g->ival > INT64_MAX - d) {
    g->ival = INT64_MAX;
  } else if (d < 0 && g->ival < INT64_MIN - d) {
    g->ival = INT64_MIN;
  } else {
    g->ival += d;
  }
}
/** Add one to gauge <b>g</b>. */
static inline void
metrics_gauge_inc(metrics_gauge_t *g)
{
  metrics_gauge_add(g, 1);
}
/** Subtract one from gauge <b>g</b>. */
static inline void
metrics_gauge_dec(metrics_gauge_t *g)
{
  metrics_gauge_add(g, -1);
}
/** Record the observation <b>v</b> (in the family's base unit) in
 * histogram <b>h</b>: it counts in the first bucket whose upper bound is
 * >= v (+Inf for larger values and NaN) and is added to the sum. */
void metrics_histogram_observe(metrics_histogram_t *h, double v);

/** Back counter <b>c</b> by <b>cb</b>(<b>arg</b>) at exposition time
 * (NULL cb: back to the stored value).  <b>arg</b> is borrowed. */
void metrics_counter_set_callback(metrics_counter_t *c,
                                  metrics_counter_cb_t cb, void *arg);
/** Back gauge <b>g</b> by <b>cb</b>(<b>arg</b>) at exposition time
 * (NULL cb: back to the stored value).  <b>arg</b> is borrowed. */
void metrics_gauge_set_callback(metrics_gauge_t *g, metrics_gauge_cb_t cb,
                                void *arg);

/** Return the value the counter would expose now (callback included). */
uint64_t metrics_counter_value(const metrics_counter_t *c);
/** Return the value the gauge would expose now, as a double. */
double metrics_gauge_value(const metrics_gauge_t *g);

/* --- the registry --------------------------------------------------- */

/** Make an empty registry whose family names must all start with
 * <b>prefix</b> (copied; NULL or "" for no prefix; otherwise a valid
 * name part ending in '_', e.g. "chive_").  Returns NULL on OOM or an
 * invalid prefix.  Free with metrics_registry_free(). */
metrics_registry_t *metrics_registry_new(const char *prefix);
/** Free <b>reg</b>, its families and every series handle.  NULL is a
 * no-op. */
void metrics_registry_free_(metrics_registry_t *reg);
#define metrics_registry_free(r) \
  CHIVE_FREE_AND_NULL(metrics_registry_t, metrics_registry_free_, (r))

/** What metrics_register() needs to know about a family. */
typedef struct metrics_spec_t {
  metrics_type_t type;
  /** Family name, e.g. "chive_circuits_built_total".  A counter name
   * without the "_total" suffix gets it appended. */
  const char *name;
  /** Help text (UTF-8, may be ""; escaped on output). */
  const char *help;
  /** n_labels label names (snake_case; not "le"; no "__" prefix). */
  const char *const *label_names;
  size_t n_labels;
  /** Most label-value combinations (1..METRICS_MAX_SERIES_LIMIT).  0
   * means 1, which is also the only value allowed without labels. */
  size_t max_series;
  /** Histograms: n_buckets finite, strictly increasing upper bounds in
   * the base unit (1..METRICS_HISTOGRAM_MAX_BUCKETS); +Inf is implied.
   * Copied.  Must be NULL/0 for other types. */
  const double *buckets;
  size_t n_buckets;
} metrics_spec_t;

/** Register the family described by <b>spec</b> in <b>reg</b>.  A
 * family without labels gets its one series at once.  On success set
 * *<b>out</b> (borrowed, owned by reg) if <b>out</b> is not NULL.
 * Errors: CHIVE_ERR_INVAL for an invalid spec (see the header comment and
 * metrics_name_check()) or a name that clashes with a registered family;
 * CHIVE_ERR_LIMIT when reg already has METRICS_MAX_FAMILIES families;
 * CHIVE_ERR_NOMEM.  On failure reg is unchanged. */
CHIVE_MUST_CHECK chive_err_t metrics_register(metrics_registry_t *reg,
                                              const metrics_spec_t *spec,
                                              metrics_family_t **out);

/** Shorthand: register an unlabelled counter and return its series. */
CHIVE_MUST_CHECK chive_err_t metrics_counter_new(metrics_registry_t *reg,
                                                 const char *name,
                                                 const char *help,
                                                 metrics_counter_t **out);
/** Shorthand: register an unlabelled gauge and return its series. */
CHIVE_MUST_CHECK chive_err_t metrics_gauge_new(metrics_registry_t *reg,
                                               const char *name,
                                               const char *help,
                                               metrics_gauge_t **out);
/** Shorthand: register an unlabelled gauge whose value is
 * <b>cb</b>(<b>arg</b>) at exposition time; *<b>out</b> (may be NULL)
 * gets the series. */
CHIVE_MUST_CHECK chive_err_t metrics_gauge_cb_new(
    metrics_registry_t *reg, const char *name, const char *help,
    metrics_gauge_cb_t cb, void *arg, metrics_gauge_t **out);
/** Shorthand: register an unlabelled histogram and return its series. */
CHIVE_MUST_CHECK chive_err_t metrics_histogram_new(
    metrics_registry_t *reg, const char *name, const char *help,
    const double *buckets, size_t n_buckets, metrics_histogram_t **out);

/** Get (or create, the first time) the series of counter family
 * <b>fam</b> with the label values <b>values</b> (one per label name, in
 * the family's label order; UTF-8, at most METRICS_LABEL_VALUE_MAX_LEN
 * bytes each; copied).  For an unlabelled family pass NULL.  Meant for
 * wiring time, not the hot path (it searches).  Errors:
 * CHIVE_ERR_INVAL (wrong family type, bad value), CHIVE_ERR_LIMIT (the
 * family already has max_series series), CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t metrics_family_counter(metrics_family_t *fam,
                                                    const char *const *values,
                                                    metrics_counter_t **out);
/** As metrics_family_counter(), for a gauge family. */
CHIVE_MUST_CHECK chive_err_t metrics_family_gauge(metrics_family_t *fam,
                                                  const char *const *values,
                                                  metrics_gauge_t **out);
/** As metrics_family_counter(), for a histogram family. */
CHIVE_MUST_CHECK chive_err_t
metrics_family_histogram(metrics_family_t *fam, const char *const *values,
                         metrics_histogram_t **out);

/** Return the family named <b>name</b> (exactly as stored, e.g. with
 * "_total"), or NULL. */
metrics_family_t *metrics_registry_find(const metrics_registry_t *reg,
                                        const char *name);
/** Return the number of families in <b>reg</b>. */
size_t metrics_registry_n_families(const metrics_registry_t *reg);
/** Return the family's stored name (borrowed). */
const char *metrics_family_name(const metrics_family_t *fam);
/** Return the family's type. */
metrics_type_t metrics_family_type(const metrics_family_t *fam);
/** Return how many series the family holds now. */
size_t metrics_family_n_series(const metrics_family_t *fam);

/* --- names ---------------------------------------------------------- */

/** Check <b>name</b> as the name of a family of <b>type</b> in a
 * registry with <b>prefix</b> (NULL: none), after the counter "_total"
 * suffix has been added.  Rules: 1..METRICS_NAME_MAX_LEN bytes of
 * [a-z0-9_], starting with a letter, no "__", not ending in '_', starting
 * with prefix and longer than it; counters end in "_total", other types
 * do not; histograms do not end in _bucket/_sum/_count; no non-base unit
 * suffix (_milliseconds, _ms, _minutes, _kilobytes, ...).  Returns true
 * iff valid. */
bool metrics_name_check(const char *prefix, const char *name,
                        metrics_type_t type);
/** Return true iff <b>name</b> is a valid label name (snake_case
 * [a-z_][a-z0-9_]*, at most METRICS_LABEL_NAME_MAX_LEN bytes, not
 * starting with "__"). */
bool metrics_label_name_check(const char *name);

/* --- exposition ----------------------------------------------------- */

/** Append the Prometheus text exposition (0.0.4) of every family in
 * <b>reg</b> to <b>out</b>, reading callback series now.  Returns
 * CHIVE_OK, or strbuf's CHIVE_ERR_LIMIT (output did not fit: out holds a
 * truncated text that MUST NOT be served) or CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t
metrics_registry_write(const metrics_registry_t *reg, strbuf_t *out);

/** Longest text metrics_format_double() writes, with the NUL. */
#define METRICS_DOUBLE_STR_LEN 32
/** Write <b>v</b> as Prometheus reads it into <b>buf</b>: "NaN", "+Inf",
 * "-Inf", or the shortest of %.15g/%.17g that reads back to exactly v,
 * with '.' as the decimal point whatever the locale.  Returns buf. */
char *metrics_format_double(double v, char buf[METRICS_DOUBLE_STR_LEN]);

#endif /* !defined(CHIVE_LIB_METRICS_METRICS_H) */
