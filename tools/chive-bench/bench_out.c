/**
 * @file bench_out.c
 * @brief chive-bench output: the human table with hard floors and goals,
 * JSON with every sample, and an SVG plot (circuit build time CDF and RSS
 * over time, chive vs C tor) drawn by hand.
 **/
#include "lib/cc/compat.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench_run.h"
#include "cdir_json.h"

/** Hard floors (MISSION.md, issue #6). */
#define FLOOR_CIRC_P95_MS 5000.0
#define FLOOR_RSS_BYTES 50e6
#define FLOOR_MIN_STREAMS 100

#define KIB_TO_MIB(k) ((double)(k) / 1024.0)

typedef enum verdict_t {
  V_NONE,
  V_PASS,
  V_FAIL,
  V_NA,
  V_ASAN /**< an RSS floor for a sanitizer build: not applicable */
} verdict_t;

typedef struct table_t {
  int n_fail, n_na, n_asan;
} table_t;

static void
fmt_val(char *out, size_t len, double v, int prec)
{
  if (isnan(v))
    snprintf(out, len, "n/a");
  else
    snprintf(out, len, "%.*f", prec, v);
}

/** One row.  <b>lower_better</b>: the goal direction for the ratio. */
static void
row(table_t *t, const char *name, double cv, double tv, int prec,
    bool lower_better, const char *target, verdict_t v)
{
  char a[32], b[32], ratio[32], verdict[16];
  fmt_val(a, sizeof(a), cv, prec);
  fmt_val(b, sizeof(b), tv, prec);
  if (!isnan(cv) && !isnan(tv) && tv != 0)
    snprintf(ratio, sizeof(ratio), "%.2fx", cv / tv);
  else
    snprintf(ratio, sizeof(ratio), "-");
  switch (v) {
  case V_PASS:
    snprintf(verdict, sizeof(verdict), "PASS");
    break;
  case V_FAIL:
    snprintf(verdict, sizeof(verdict), "FAIL");
    t->n_fail++;
    break;
  case V_NA:
    snprintf(verdict, sizeof(verdict), "N/A");
    t->n_na++;
    break;
  case V_ASAN:
    snprintf(verdict, sizeof(verdict), "(ASan)");
    t->n_asan++;
    break;
  default:
    if (!isnan(cv) && !isnan(tv))
      snprintf(verdict, sizeof(verdict), "%s",
               (lower_better ? cv <= tv : cv >= tv) ? "beats" : "behind");
    else
      snprintf(verdict, sizeof(verdict), "-");
    break;
  }
  printf("%-34s %12s %12s %8s  %-22s %s\n", name, a, b, ratio, target,
         verdict);
}

static verdict_t
floor_below(double v, double limit)
{
  if (isnan(v))
    return V_NA;
  return v < limit ? V_PASS : V_FAIL;
}

/** An RSS floor: not applicable when chive runs under AddressSanitizer. */
static verdict_t
rss_floor(const bctx_t *x, double mib, double limit)
{
  if (x->chive_asan && !isnan(mib))
    return V_ASAN;
  return floor_below(mib, limit);
}

static double
median(const dvec_t *d)
{
  return dvec_quantile(d, 0.5);
}

static double
rss_mib_or_nan(bool have, uint64_t kib)
{
  return have ? KIB_TO_MIB(kib) : BENCH_NAN;
}

static double
circ_q(const cres_t *r, double q)
{
  return r->circ_ran ? dvec_quantile(&r->circ_ms, q) : BENCH_NAN;
}

static double
circ_success(const cres_t *r)
{
  size_t n = r->circ_ok + r->circ_fail;
  return r->circ_ran && n ? 100.0 * (double)r->circ_ok / (double)n : BENCH_NAN;
}

static double
mem_peak_mib(const cres_t *r)
{
  return r->mem_ran ? dvec_max(&r->mem_rss_kib) / 1024.0 : BENCH_NAN;
}

static double
mem_slope(const cres_t *r)
{
  return r->mem_ran ? bench_slope(&r->mem_t, &r->mem_rss_kib) * 60.0
                    : BENCH_NAN;
}

static double
bulk_mibs(const cres_t *r)
{
  return r->bulk_ok && r->bulk_s > 0
             ? (double)r->bulk_bytes / 1048576.0 / r->bulk_s
             : BENCH_NAN;
}

static double
bulk_cpu(const cres_t *r)
{
  return r->bulk_ok && r->bulk_bytes
             ? r->bulk_cpu_s / ((double)r->bulk_bytes / 1048576.0)
             : BENCH_NAN;
}

static const double MIB_FLOOR = FLOOR_RSS_BYTES / 1048576.0;

bool
bench_report(bctx_t *x)
{
  const cres_t *c = &x->res[BK_CHIVE], *t = &x->res[BK_CTOR];
  table_t tb = {0, 0, 0};
  const unsigned only = x->o->only;
  char name[64], tgt[64];
  printf("\n%-34s %12s %12s %8s  %-22s %s\n", "benchmark", "chive", "C tor",
         "ratio", "target", "verdict");
  printf("%.*s\n", 100,
         "-----------------------------------------------------------------"
         "-----------------------------------");
  if (only & B_BOOTSTRAP) {
    row(&tb, "bootstrap, empty DataDir (s)", median(&c->boot_cold_s),
        median(&t->boot_cold_s), 2, true, "goal: <= C tor", V_NONE);
    row(&tb, "bootstrap, warm DataDir (s)", median(&c->boot_warm_s),
        median(&t->boot_warm_s), 2, true, "goal: <= C tor", V_NONE);
  }
  if (only & (B_BOOTSTRAP | B_CIRCUITS | B_MEMORY | B_STREAMS | B_BULK)) {
    double cv = rss_mib_or_nan(c->have_after_boot, c->after_boot.rss_kib);
    snprintf(tgt, sizeof(tgt), "floor: < %.1f MiB", MIB_FLOOR);
    row(&tb, "RSS after bootstrap (MiB)", cv,
        rss_mib_or_nan(t->have_after_boot, t->after_boot.rss_kib), 1, true,
        tgt, rss_floor(x, cv, MIB_FLOOR));
  }
  if (only & B_CIRCUITS) {
    row(&tb, "circuit build p50 (ms)", circ_q(c, 0.5), circ_q(t, 0.5), 0,
        true, "goal: <= C tor", V_NONE);
    row(&tb, "circuit build p95 (ms)", circ_q(c, 0.95), circ_q(t, 0.95), 0,
        true, "floor: < 5000 ms",
        floor_below(circ_q(c, 0.95), FLOOR_CIRC_P95_MS));
    row(&tb, "circuit build p99 (ms)", circ_q(c, 0.99), circ_q(t, 0.99), 0,
        true, "goal: <= C tor", V_NONE);
    row(&tb, "circuit build max (ms)", circ_q(c, 1.0), circ_q(t, 1.0), 0,
        true, "goal: <= C tor", V_NONE);
    row(&tb, "circuit build success (%)", circ_success(c), circ_success(t), 1,
        false, "goal: >= C tor", V_NONE);
  }
  if (only & B_STREAMS) {
    for (size_t i = 0; i < x->o->n_streams; i++) {
      const streamset_t *a = &c->sets[i], *b = &t->sets[i];
      size_t n = x->o->streams[i];
      double ca = a->ran ? (double)a->r.completed : BENCH_NAN;
      double cb = b->ran ? (double)b->r.completed : BENCH_NAN;
      verdict_t v = V_NONE;
      /* with --runs N the set pools N runs of n streams each */
      size_t want = n * (size_t)x->o->runs;
      if (n >= FLOOR_MIN_STREAMS)
        v = !a->ran ? V_NA
            : (a->r.errors == 0 && a->r.completed == want) ? V_PASS
                                                           : V_FAIL;
      snprintf(name, sizeof(name), "streams x%zu: completed", n);
      snprintf(tgt, sizeof(tgt), "floor: %zu, 0 errors", want);
      row(&tb, name, ca, cb, 0, false, tgt, v);
      snprintf(name, sizeof(name), "streams x%zu: errors", n);
      row(&tb, name, a->ran ? (double)a->r.errors : BENCH_NAN,
          b->ran ? (double)b->r.errors : BENCH_NAN, 0, true, "goal: 0",
          V_NONE);
      static const double qs[3] = {0.5, 0.95, 0.99};
      static const char *const qn[3] = {"p50", "p95", "p99"};
      for (size_t q = 0; q < 3; q++) {
        snprintf(name, sizeof(name), "streams x%zu: TTFB %s (ms)", n, qn[q]);
        row(&tb, name,
            a->ran ? dvec_quantile(&a->r.ttfb_ms, qs[q]) : BENCH_NAN,
            b->ran ? dvec_quantile(&b->r.ttfb_ms, qs[q]) : BENCH_NAN, 0, true,
            "goal: <= C tor", V_NONE);
      }
      snprintf(name, sizeof(name), "streams x%zu: streams/s", n);
      row(&tb, name,
          a->ran && a->r.wall_s > 0 ? (double)a->r.completed / a->r.wall_s
                                    : BENCH_NAN,
          b->ran && b->r.wall_s > 0 ? (double)b->r.completed / b->r.wall_s
                                    : BENCH_NAN,
          1, false, "goal: >= C tor", V_NONE);
      snprintf(name, sizeof(name), "streams x%zu: MiB/s", n);
      row(&tb, name,
          a->ran && a->r.wall_s > 0
              ? (double)a->r.body_bytes / 1048576.0 / a->r.wall_s
              : BENCH_NAN,
          b->ran && b->r.wall_s > 0
              ? (double)b->r.body_bytes / 1048576.0 / b->r.wall_s
              : BENCH_NAN,
          3, false, "goal: >= C tor", V_NONE);
      snprintf(name, sizeof(name), "streams x%zu: peak RSS (MiB)", n);
      double pa = a->ran ? KIB_TO_MIB(a->peak_rss_kib) : BENCH_NAN;
      snprintf(tgt, sizeof(tgt), "floor: < %.1f MiB", MIB_FLOOR);
      row(&tb, name, pa, b->ran ? KIB_TO_MIB(b->peak_rss_kib) : BENCH_NAN, 1,
          true, tgt, rss_floor(x, pa, MIB_FLOOR));
    }
  }
  if (only & B_BULK) {
    snprintf(name, sizeof(name), "bulk %.0f MiB: MiB/s",
             (double)x->bulk_len / 1048576.0);
    row(&tb, name, bulk_mibs(c), bulk_mibs(t), 2, false, "goal: >= C tor",
        V_NONE);
    row(&tb, "bulk: CPU s per MiB", bulk_cpu(c), bulk_cpu(t), 4, true,
        "goal: <= C tor", V_NONE);
  }
  if (only & B_MEMORY) {
    snprintf(name, sizeof(name), "memory %s %.0fs: peak RSS (MiB)",
             c->mem_loaded ? "load" : "idle", x->o->duration_s);
    snprintf(tgt, sizeof(tgt), "floor: < %.1f MiB", MIB_FLOOR);
    row(&tb, name, mem_peak_mib(c), mem_peak_mib(t), 1, true, tgt,
        rss_floor(x, mem_peak_mib(c), MIB_FLOOR));
    row(&tb, "memory: VmHWM (MiB)",
        c->mem_ran ? KIB_TO_MIB(c->mem_hwm_kib) : BENCH_NAN,
        t->mem_ran ? KIB_TO_MIB(t->mem_hwm_kib) : BENCH_NAN, 1, true,
        "goal: <= C tor", V_NONE);
    row(&tb, "memory: RSS slope (KiB/min)", mem_slope(c), mem_slope(t), 0,
        true, "leak check: ~0", V_NONE);
  }
  if (only & B_FULLDIR) {
    double cv = c->fd_ran ? KIB_TO_MIB(c->fd_mem.rss_kib) : BENCH_NAN;
    snprintf(tgt, sizeof(tgt), "floor: < %.1f MiB", MIB_FLOOR);
    row(&tb, "full directory 6596 relays: RSS", cv,
        t->fd_ran ? KIB_TO_MIB(t->fd_mem.rss_kib) : BENCH_NAN, 1, true, tgt,
        rss_floor(x, cv, MIB_FLOOR));
    row(&tb, "full directory: VmHWM (MiB)",
        c->fd_ran ? KIB_TO_MIB(c->fd_mem.hwm_kib) : BENCH_NAN,
        t->fd_ran ? KIB_TO_MIB(t->fd_mem.hwm_kib) : BENCH_NAN, 1, true,
        "goal: <= C tor", V_NONE);
    row(&tb, "full directory: load time (s)",
        c->fd_ran ? c->fd_load_s : BENCH_NAN,
        t->fd_ran ? t->fd_load_s : BENCH_NAN, 2, true, "goal: <= C tor",
        V_NONE);
  }
  printf("\n");
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    const cres_t *r = &x->res[k];
    const char *nm = bench_kind_name((bench_kind_t)k);
    if (k == BK_CTOR && x->o->no_ctor)
      continue;
    if (r->note[0])
      printf("note: %s: %s\n", nm, r->note);
    if (r->circ_note[0])
      printf("note: %s circuits: %s\n", nm, r->circ_note);
    if (r->streams_note[0])
      printf("note: %s streams: %s\n", nm, r->streams_note);
    if (r->bulk_note[0])
      printf("note: %s bulk: %s\n", nm, r->bulk_note);
    if (r->mem_note[0])
      printf("note: %s memory: %s\n", nm, r->mem_note);
    if (r->fd_note[0])
      printf("note: %s fulldir: %s\n", nm, r->fd_note);
  }
  printf("ratio = chive / C tor.  Floors apply to chive; N/A = not "
         "measurable in this run (%s).\n",
         x->o->strict ? "--strict: counts as a failure"
                      : "not a failure without --strict");
  if (tb.n_asan)
    printf("(ASan) = chive is an AddressSanitizer build: its RSS is "
           "mostly shadow memory and quarantine, so the %d RSS floors do "
           "not apply in this run.\n", tb.n_asan);
  printf("hard floors: %d failed, %d not measured\n", tb.n_fail, tb.n_na);
  return tb.n_fail == 0 && !(x->o->strict && tb.n_na);
}

/* ------------------------------------------------------------------ */
/* JSON */

static void
jw_num(jw_t *w, double v)
{
  if (isnan(v) || isinf(v))
    jw_null(w);
  else
    jw_double3(w, v);
}

static void
jw_dvec(jw_t *w, const char *key, const dvec_t *d)
{
  jw_key(w, key);
  jw_arr_begin(w);
  for (size_t i = 0; i < d->n; i++)
    jw_num(w, d->v[i]);
  jw_arr_end(w);
}

static void
jw_quantiles(jw_t *w, const dvec_t *d)
{
  jw_key(w, "p50");
  jw_num(w, dvec_quantile(d, 0.5));
  jw_key(w, "p95");
  jw_num(w, dvec_quantile(d, 0.95));
  jw_key(w, "p99");
  jw_num(w, dvec_quantile(d, 0.99));
  jw_key(w, "max");
  jw_num(w, dvec_max(d));
}

static void
jw_note(jw_t *w, const char *note)
{
  jw_key(w, "note");
  jw_str(w, note[0] ? note : NULL);
}

static void
json_client(jw_t *w, const bctx_t *x, const cres_t *r)
{
  jw_obj_begin(w);
  jw_key(w, "binary");
  jw_str(w, bench_binary(x, r->kind));
  jw_key(w, "version");
  jw_str(w, r->version);
  jw_note(w, r->note);

  jw_key(w, "bootstrap");
  jw_obj_begin(w);
  jw_dvec(w, "cold_s", &r->boot_cold_s);
  jw_dvec(w, "warm_s", &r->boot_warm_s);
  jw_key(w, "rss_after_kib");
  if (r->have_after_boot)
    jw_uint(w, r->after_boot.rss_kib);
  else
    jw_null(w);
  jw_key(w, "hwm_after_kib");
  if (r->have_after_boot)
    jw_uint(w, r->after_boot.hwm_kib);
  else
    jw_null(w);
  jw_obj_end(w);

  jw_key(w, "circuits");
  jw_obj_begin(w);
  jw_key(w, "available");
  jw_bool(w, r->circ_ran);
  jw_note(w, r->circ_note);
  jw_key(w, "built");
  jw_uint(w, r->circ_ok);
  jw_key(w, "failed");
  jw_uint(w, r->circ_fail);
  jw_quantiles(w, &r->circ_ms);
  jw_dvec(w, "samples_ms", &r->circ_ms);
  jw_obj_end(w);

  jw_key(w, "streams");
  jw_obj_begin(w);
  jw_note(w, r->streams_note);
  jw_key(w, "sets");
  jw_arr_begin(w);
  for (size_t i = 0; i < x->o->n_streams; i++) {
    const streamset_t *s = &r->sets[i];
    jw_obj_begin(w);
    jw_key(w, "n");
    jw_uint(w, x->o->streams[i]);
    jw_key(w, "ran");
    jw_bool(w, s->ran);
    jw_key(w, "completed");
    jw_uint(w, s->r.completed);
    jw_key(w, "errors");
    jw_uint(w, s->r.errors);
    jw_key(w, "errors_by_kind");
    jw_obj_begin(w);
    jw_key(w, "connect");
    jw_uint(w, s->r.err_connect);
    jw_key(w, "socks");
    jw_uint(w, s->r.err_socks);
    jw_key(w, "http");
    jw_uint(w, s->r.err_http);
    jw_key(w, "short");
    jw_uint(w, s->r.err_short);
    jw_key(w, "timeout");
    jw_uint(w, s->r.err_timeout);
    jw_obj_end(w);
    jw_key(w, "body_bytes");
    jw_uint(w, s->r.body_bytes);
    jw_key(w, "wall_s");
    jw_num(w, s->r.wall_s);
    jw_key(w, "peak_rss_kib");
    jw_uint(w, s->peak_rss_kib);
    jw_key(w, "hwm_kib");
    jw_uint(w, s->hwm_kib);
    jw_key(w, "ttfb_ms");
    jw_obj_begin(w);
    jw_quantiles(w, &s->r.ttfb_ms);
    jw_dvec(w, "samples", &s->r.ttfb_ms);
    jw_obj_end(w);
    jw_dvec(w, "total_ms", &s->r.total_ms);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_obj_end(w);

  jw_key(w, "bulk");
  jw_obj_begin(w);
  jw_note(w, r->bulk_note);
  jw_key(w, "ok");
  jw_bool(w, r->bulk_ok);
  jw_key(w, "path");
  jw_str(w, x->bulk_path);
  jw_key(w, "bytes");
  jw_uint(w, r->bulk_bytes);
  jw_key(w, "seconds");
  jw_num(w, r->bulk_ran ? r->bulk_s : BENCH_NAN);
  jw_key(w, "cpu_seconds");
  jw_num(w, r->bulk_ran ? r->bulk_cpu_s : BENCH_NAN);
  jw_key(w, "mib_per_s");
  jw_num(w, bulk_mibs(r));
  jw_key(w, "cpu_s_per_mib");
  jw_num(w, bulk_cpu(r));
  jw_obj_end(w);

  jw_key(w, "memory");
  jw_obj_begin(w);
  jw_key(w, "ran");
  jw_bool(w, r->mem_ran);
  jw_key(w, "under_load");
  jw_bool(w, r->mem_loaded);
  jw_note(w, r->mem_note);
  jw_key(w, "streams_done");
  jw_uint(w, r->mem_streams_done);
  jw_key(w, "stream_errors");
  jw_uint(w, r->mem_streams_err);
  jw_key(w, "peak_rss_kib");
  jw_num(w, r->mem_ran ? dvec_max(&r->mem_rss_kib) : BENCH_NAN);
  jw_key(w, "hwm_kib");
  jw_uint(w, r->mem_hwm_kib);
  jw_key(w, "slope_kib_per_min");
  jw_num(w, mem_slope(r));
  jw_dvec(w, "t_s", &r->mem_t);
  jw_dvec(w, "rss_kib", &r->mem_rss_kib);
  jw_obj_end(w);

  jw_key(w, "fulldir");
  jw_obj_begin(w);
  jw_key(w, "ran");
  jw_bool(w, r->fd_ran);
  jw_note(w, r->fd_note);
  jw_key(w, "load_s");
  jw_num(w, r->fd_ran ? r->fd_load_s : BENCH_NAN);
  jw_key(w, "rss_kib");
  jw_uint(w, r->fd_mem.rss_kib);
  jw_key(w, "hwm_kib");
  jw_uint(w, r->fd_mem.hwm_kib);
  jw_obj_end(w);

  jw_obj_end(w);
}

bool
bench_write_json(const bctx_t *x, const char *path, bool passed)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  jw_t w;
  jw_init(&w, f);
  jw_obj_begin(&w);
  jw_key(&w, "tool");
  jw_str(&w, "chive-bench");
  jw_key(&w, "date");
  jw_str(&w, x->date);
  jw_key(&w, "host");
  jw_obj_begin(&w);
  struct utsname u;
  if (uname(&u) == 0) {
    jw_key(&w, "kernel");
    jw_str(&w, u.release);
    jw_key(&w, "machine");
    jw_str(&w, u.machine);
  }
  jw_key(&w, "cpus");
  jw_int(&w, sysconf(_SC_NPROCESSORS_ONLN));
  double la[3];
  if (getloadavg(la, 3) == 3) {
    jw_key(&w, "loadavg_at_end");
    jw_num(&w, la[0]);
  }
  jw_obj_end(&w);
  jw_key(&w, "options");
  jw_obj_begin(&w);
  jw_key(&w, "quick");
  jw_bool(&w, x->o->quick);
  jw_key(&w, "circuits");
  jw_int(&w, x->o->circuits);
  jw_key(&w, "duration_s");
  jw_num(&w, x->o->duration_s);
  jw_key(&w, "runs");
  jw_int(&w, x->o->runs);
  jw_key(&w, "stream_path");
  jw_str(&w, x->stream_path);
  jw_key(&w, "memory_load_path");
  jw_str(&w, x->mem_path);
  jw_key(&w, "bulk_path");
  jw_str(&w, x->bulk_path);
  jw_key(&w, "http_server");
  jw_str(&w, x->o->testnet_http ? "testnet" : "chive-bench");
  jw_key(&w, "only_mask");
  jw_uint(&w, x->o->only);
  jw_key(&w, "testnet");
  jw_str(&w, x->netdir);
  jw_obj_end(&w);
  jw_key(&w, "floors_passed");
  jw_bool(&w, passed);
  jw_key(&w, "chive_asan");
  jw_bool(&w, x->chive_asan);
  jw_key(&w, "clients");
  jw_obj_begin(&w);
  jw_key(&w, "chive");
  json_client(&w, x, &x->res[BK_CHIVE]);
  jw_key(&w, "ctor");
  if (x->o->no_ctor)
    jw_null(&w);
  else
    json_client(&w, x, &x->res[BK_CTOR]);
  jw_obj_end(&w);
  jw_obj_end(&w);
  bool ok = jw_finish(&w);
  return fclose(f) == 0 && ok;
}

/* ------------------------------------------------------------------ */
/* SVG */

#define SVG_W 1000
#define SVG_H 380
#define PANEL_W 400
#define PANEL_H 280
#define PANEL_Y 50

static const char *const COLORS[BENCH_N_CLIENTS] = {"#d62728", "#1f77b4"};

static void
axes(FILE *f, double x0, const char *title, const char *xl, const char *yl,
     double xmax, double ymax)
{
  fprintf(f,
          "<text class='title' x='%.0f' y='30' font-size='15' "
          "font-weight='bold'>%s</text>\n"
          "<rect x='%.0f' y='%d' width='%d' height='%d' fill='none' "
          "stroke='#444'/>\n"
          "<text class='xlabel' x='%.0f' y='%d' font-size='12' "
          "text-anchor='middle'>%s</text>\n"
          "<text class='ylabel' x='%.0f' y='%d' font-size='12' "
          "text-anchor='middle' "
          "transform='rotate(-90 %.0f %d)'>%s</text>\n",
          x0, title, x0, PANEL_Y, PANEL_W, PANEL_H, x0 + PANEL_W / 2.0,
          PANEL_Y + PANEL_H + 35, xl, x0 - 38, PANEL_Y + PANEL_H / 2, x0 - 38,
          PANEL_Y + PANEL_H / 2, yl);
  for (int i = 0; i <= 4; i++) {
    double fx = x0 + PANEL_W * i / 4.0;
    double fy = PANEL_Y + PANEL_H - PANEL_H * i / 4.0;
    fprintf(f,
            "<text x='%.0f' y='%d' font-size='10' text-anchor='middle'>%.4g"
            "</text>\n<text x='%.0f' y='%.0f' font-size='10' "
            "text-anchor='end'>%.4g</text>\n"
            "<line x1='%.0f' y1='%.0f' x2='%.0f' y2='%.0f' stroke='#ddd'/>\n",
            fx, PANEL_Y + PANEL_H + 15, xmax * i / 4.0, x0 - 4, fy + 3,
            ymax * i / 4.0, x0, fy, x0 + PANEL_W, fy);
  }
}

/** <b>s</b> as SVG character data (the version strings come from the
 * binaries' --version output). */
static void
svg_text(FILE *f, const char *s)
{
  for (; *s; s++) {
    switch (*s) {
    case '<':
      fputs("&lt;", f);
      break;
    case '>':
      fputs("&gt;", f);
      break;
    case '&':
      fputs("&amp;", f);
      break;
    default:
      if ((unsigned char)*s >= 0x20 && (unsigned char)*s < 0x7f)
        fputc(*s, f);
      break;
    }
  }
}

bool
bench_write_svg(const bctx_t *x, const char *path)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  fprintf(f,
          "<svg xmlns='http://www.w3.org/2000/svg' width='%d' height='%d' "
          "font-family='sans-serif'>\n<rect width='100%%' height='100%%' "
          "fill='white'/>\n",
          SVG_W, SVG_H);
  /* Panel 1: circuit build time CDF */
  double xmax = 0;
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    double m = dvec_max(&x->res[k].circ_ms);
    if (!isnan(m) && m > xmax)
      xmax = m;
  }
  if (xmax <= 0)
    xmax = 1000;
  double x0 = 60;
  axes(f, x0, "Circuit build time CDF (EXTENDCIRCUIT to BUILT)", "ms",
       "fraction of builds", xmax, 1.0);
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    const dvec_t *d = &x->res[k].circ_ms;
    if (!d->n)
      continue;
    fprintf(f, "<polyline class='series' data-series='%s-circuits' "
               "fill='none' stroke='%s' stroke-width='2' points='",
            bench_kind_name((bench_kind_t)k), COLORS[k]);
    for (size_t i = 0; i < d->n; i++) {
      /* the (i+1)/n quantile: sorted samples */
      double v = dvec_quantile(d, d->n > 1 ? (double)i / (double)(d->n - 1)
                                           : 0);
      double px = x0 + PANEL_W * v / xmax;
      double py0 = PANEL_Y + PANEL_H - PANEL_H * (double)i / (double)d->n;
      double py1 =
          PANEL_Y + PANEL_H - PANEL_H * (double)(i + 1) / (double)d->n;
      fprintf(f, "%.1f,%.1f %.1f,%.1f ", px, py0, px, py1);
    }
    fprintf(f, "'/>\n");
  }
  /* Panel 2: RSS over time in the memory benchmark */
  double tmax = 0, rmax = 0;
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    const cres_t *r = &x->res[k];
    double a = dvec_max(&r->mem_t), b = dvec_max(&r->mem_rss_kib);
    if (!isnan(a) && a > tmax)
      tmax = a;
    if (!isnan(b) && b / 1024.0 > rmax)
      rmax = b / 1024.0;
  }
  if (tmax <= 0)
    tmax = 1;
  if (rmax <= 0)
    rmax = 1;
  rmax *= 1.1;
  double x1 = 60 + PANEL_W + 80;
  axes(f, x1, "RSS over time under load", "s", "RSS (MiB)", tmax, rmax);
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    const cres_t *r = &x->res[k];
    if (!r->mem_t.n)
      continue;
    fprintf(f, "<polyline class='series' data-series='%s-rss' "
               "fill='none' stroke='%s' stroke-width='2' points='",
            bench_kind_name((bench_kind_t)k), COLORS[k]);
    for (size_t i = 0; i < r->mem_t.n && i < r->mem_rss_kib.n; i++)
      fprintf(f, "%.1f,%.1f ", x1 + PANEL_W * r->mem_t.v[i] / tmax,
              PANEL_Y + PANEL_H -
                  PANEL_H * (r->mem_rss_kib.v[i] / 1024.0) / rmax);
    fprintf(f, "'/>\n");
  }
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    if (k == BK_CTOR && x->o->no_ctor)
      continue;
    fprintf(f,
            "<rect x='%d' y='%d' width='14' height='4' fill='%s'/>"
            "<text class='legend' x='%d' y='%d' font-size='12'>%s (",
            60 + 300 * k, SVG_H - 12, COLORS[k], 80 + 300 * k, SVG_H - 7,
            k == BK_CHIVE ? "chive" : "C tor");
    svg_text(f, x->res[k].version);
    fprintf(f, ")</text>\n");
  }
  fprintf(f, "</svg>\n");
  return fclose(f) == 0;
}
