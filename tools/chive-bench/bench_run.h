/**
 * @file bench_run.h
 * @brief chive-bench: options, per-client results, and the benchmark
 * steps shared by bench_main.c, bench_fulldir.c and bench_out.c.
 **/
#ifndef CHIVE_TOOLS_BENCH_RUN_H
#define CHIVE_TOOLS_BENCH_RUN_H

#include "bench.h"

/** Benchmarks, selectable with --only. */
enum {
  B_BOOTSTRAP = 1u << 0,
  B_CIRCUITS = 1u << 1,
  B_MEMORY = 1u << 2,
  B_STREAMS = 1u << 3,
  B_BULK = 1u << 4,
  B_FULLDIR = 1u << 5,
  B_ALL = (1u << 6) - 1,
};

typedef struct bopts_t {
  int circuits;
  size_t streams[BENCH_MAX_STREAM_SETS];
  size_t n_streams;
  double duration_s;
  unsigned only;
  int runs;
  double bulk_mib;
  bool no_ctor, quick, inside, strict, testnet_http;
  uint64_t stream_bytes;
  const char *json, *svg, *testnet, *chive, *tor, *workdir, *script,
      *key_cache, *shared;
} bopts_t;

/** One stream-count set of the concurrent-streams benchmark. */
typedef struct streamset_t {
  size_t n;
  bool ran;
  load_result_t r;
  uint64_t peak_rss_kib; /**< Highest VmRSS sampled during the run. */
  uint64_t hwm_kib;      /**< VmHWM right after. */
} streamset_t;

/** Everything measured for one client. */
typedef struct cres_t {
  bench_kind_t kind;
  char version[128];
  char note[512]; /**< Why a session failed, if it did. */
  /* bootstrap */
  dvec_t boot_cold_s, boot_warm_s;
  procmem_t after_boot;
  bool have_after_boot;
  /* circuits */
  bool circ_ran;
  char circ_note[256];
  dvec_t circ_ms;
  size_t circ_ok, circ_fail;
  /* streams */
  char streams_note[256];
  streamset_t sets[BENCH_MAX_STREAM_SETS];
  /* bulk */
  bool bulk_ran;
  char bulk_note[256];
  uint64_t bulk_bytes;
  double bulk_s, bulk_cpu_s;
  bool bulk_ok;
  /* memory */
  bool mem_ran, mem_loaded;
  char mem_note[256];
  dvec_t mem_t, mem_rss_kib;
  uint64_t mem_hwm_kib;
  size_t mem_streams_done, mem_streams_err;
  /* full network directory */
  bool fd_ran;
  char fd_note[512];
  double fd_load_s;
  procmem_t fd_mem;
  size_t fd_routers;
} cres_t;

/** Run context of the inside (in-namespace) part. */
typedef struct bctx_t {
  bopts_t *o;
  char netdir[BENCH_PATH_MAX];
  char workdir[BENCH_PATH_MAX];
  char dirauth[4096]; /**< DirAuthority lines of the network. */
  int http_port;
  int port_lo, port_hi; /**< Free client ports. */
  uint64_t index_len, blob_len;
  char bulk_path[64];
  uint64_t bulk_len;
  char stream_path[64]; /**< What each concurrent stream fetches. */
  uint64_t stream_len;
  char mem_path[64];    /**< What the memory benchmark's load fetches. */
  uint64_t mem_len;
  pid_t httpd_pid;      /**< Our own HTTP server, or 0. */
  cres_t res[BENCH_N_CLIENTS];
  char date[64], host[256];
  double t0;
  /** The chive binary is built with AddressSanitizer: its RSS is mostly
   * shadow memory and quarantine, so the RSS floors do not apply. */
  bool chive_asan;
} bctx_t;

/** Progress line to stdout with the elapsed time. */
void bench_say(const bctx_t *x, const char *fmt, ...) CHIVE_PRINTF(2, 3);
/** Write <b>text</b> to <b>path</b>; false on failure. */
bool bench_write_file(const char *path, const char *text);
/** mkdir -p. */
bool bench_mkdirs(const char *path);
/** Remove a directory tree (only under the work directory). */
void bench_rmtree(const char *path);
/** Path of the client binary for <b>k</b>. */
const char *bench_binary(const bctx_t *x, bench_kind_t k);
/** True if the executable at <b>path</b> carries AddressSanitizer (its
 * runtime linked in, or calls into libasan). */
bool bench_binary_has_asan(const char *path);

/** The full-network-directory benchmark for client <b>k</b>. */
void bench_fulldir(bctx_t *x, bench_kind_t k);
/** A TCP port on 127.0.0.1 that is free now, or 0. */
int bench_free_port(void);

/** Print the table; return true iff every hard floor measured passed
 * (and, with --strict, every floor was measured). */
bool bench_report(bctx_t *x);
/** Write every sample as JSON to <b>path</b>. */
bool bench_write_json(const bctx_t *x, const char *path, bool passed);
/** Write the SVG plot (circuit build CDF, RSS over time). */
bool bench_write_svg(const bctx_t *x, const char *path);

#endif /* !defined(CHIVE_TOOLS_BENCH_RUN_H) */
