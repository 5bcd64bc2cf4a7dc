/**
 * @file bench.h
 * @brief chive-bench: shared types of the benchmark driver.  chive and the
 * C tor client are driven through the same external interfaces (a torrc,
 * the log on stdout, the SOCKS port, the control port, /proc), so every
 * number is measured the same way for both.
 **/
#ifndef CHIVE_TOOLS_BENCH_H
#define CHIVE_TOOLS_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <math.h>
#include <sys/types.h>

#include "lib/cc/cc.h"

/** Longest path the tool builds. */
#define BENCH_PATH_MAX 1024
/** Most stream counts accepted by --streams. */
#define BENCH_MAX_STREAM_SETS 4
/** The two clients. */
#define BENCH_N_CLIENTS 2

typedef enum bench_kind_t { BK_CHIVE = 0, BK_CTOR = 1 } bench_kind_t;

/** A growable array of doubles (samples). */
typedef struct dvec_t {
  double *v;
  size_t n, cap;
} dvec_t;

void dvec_push(dvec_t *d, double x);
void dvec_clear(dvec_t *d);
/** The q-quantile (0..1) of the samples by linear interpolation between
 * closest ranks, or NAN when empty.  Does not reorder <b>d</b>. */
double dvec_quantile(const dvec_t *d, double q);
double dvec_max(const dvec_t *d);
double dvec_mean(const dvec_t *d);
/** Least-squares slope of y over x (same length); NAN if < 2 points. */
double bench_slope(const dvec_t *x, const dvec_t *y);

/* ------------------------------------------------------------------ */
/* Processes */

/** One running client (chive or C tor) under test. */
typedef struct bclient_t {
  bench_kind_t kind;
  char dir[BENCH_PATH_MAX];     /**< Work directory of this run. */
  char datadir[BENCH_PATH_MAX]; /**< Its DataDirectory. */
  char torrc[BENCH_PATH_MAX];
  char logpath[BENCH_PATH_MAX]; /**< stdout+stderr. */
  pid_t pid;                    /**< 0 when not running. */
  double t_start;               /**< Monotonic seconds at fork. */
  int socks_port, control_port; /**< 0 when not configured. */
} bclient_t;

/** Memory and CPU figures of one process from /proc. */
typedef struct procmem_t {
  uint64_t rss_kib, hwm_kib; /**< VmRSS, VmHWM. */
} procmem_t;

/** NAN as a double (NAN is a float: -Wdouble-promotion). */
#define BENCH_NAN ((double)NAN)

/** snprintf that reports truncation (returns false) instead of letting
 * the compiler guess; used for paths and notes. */
bool bench_fmt(char *out, size_t len, const char *fmt, ...)
    CHIVE_PRINTF(3, 4);

/** Monotonic clock in seconds. */
double bench_now(void);
const char *bench_kind_name(bench_kind_t k);
/** Run <b>argv</b> (NULL-terminated; argv[0] looked up in PATH) to
 * completion; its exit status, or -1. */
int bench_run_wait(const char *const *argv);
/** Start <b>argv</b> (argv[0] a path or a name in PATH) with stdout and
 * stderr to <b>c</b>->logpath, in its own process group.  <b>env</b>:
 * extra NAME=VALUE strings or NULL.  Returns false (and says why). */
bool bclient_spawn(bclient_t *c, const char *const *argv,
                   const char *const *env);
/** Wait until the log contains <b>needle</b>: true and *<b>t_out</b> =
 * seconds since spawn, or false on timeout / exit. */
bool bclient_wait_log(bclient_t *c, const char *needle, double timeout_s,
                      double *t_out);
/** SIGINT (chive, tor: clean shutdown), then SIGKILL after <b>grace_s</b>;
 * reaps.  Returns the exit status or -1. */
int bclient_stop(bclient_t *c, double grace_s);
/** True while the process runs. */
bool bclient_alive(bclient_t *c);
/** Print the last <b>n</b> lines of the log to stderr. */
void bclient_log_tail(const bclient_t *c, int n);
bool proc_mem(pid_t pid, procmem_t *out);
/** utime+stime of <b>pid</b> in seconds, or NAN. */
double proc_cpu_s(pid_t pid);

/* ------------------------------------------------------------------ */
/* Control port */

typedef struct ctl_t ctl_t;
/** Connect to 127.0.0.1:<b>port</b> and authenticate with the cookie
 * PROTOCOLINFO names (COOKIE or SAFECOOKIE method advertised). NULL and a
 * reason in <b>why</b> on failure. */
ctl_t *ctl_open(int port, double timeout_s, char *why, size_t whylen);
void ctl_close(ctl_t *c);
/** Send <b>cmd</b> (no CRLF) and read the reply; its first line's text
 * goes to <b>reply</b>.  Returns the status code (250...) or -1. Async
 * lines seen meanwhile are queued for ctl_next_event(). */
int ctl_cmd(ctl_t *c, const char *cmd, char *reply, size_t rlen,
            double timeout_s);
/** Next 650 line (without "650 "), waiting up to <b>timeout_s</b>. */
bool ctl_next_event(ctl_t *c, char *line, size_t len, double timeout_s);

/* ------------------------------------------------------------------ */
/* SOCKS load generator */

/** Most simultaneous streams the generator drives. */
#define LOAD_MAX_STREAMS 20000

typedef struct load_spec_t {
  int socks_port;
  int http_port;
  const char *path;      /**< HTTP path ("/index.html"). */
  uint64_t expect_len;   /**< Body length expected; 0 = do not check. */
  size_t concurrency;    /**< Streams open at the same time. */
  size_t total;          /**< Streams in all (>= concurrency) unless
                          * until_s > 0. */
  double until_s;        /**< >0: restart streams until this much time
                          * has passed (closed-loop load). */
  double stream_timeout_s;
  /** Called about once a second with the elapsed seconds. */
  void (*tick)(void *arg, double elapsed);
  void *tick_arg;
} load_spec_t;

typedef struct load_result_t {
  size_t started, completed, errors;
  size_t err_connect, err_socks, err_http, err_short, err_timeout;
  int last_socks_code;  /**< Last non-zero SOCKS reply code. */
  uint64_t body_bytes;
  double wall_s;        /**< First connect to last stream end. */
  dvec_t ttfb_ms;       /**< Stream start to first HTTP byte. */
  dvec_t total_ms;      /**< Stream start to end of body. */
} load_result_t;

/** Run the load; false only on a local failure (epoll, limits). */
bool load_run(const load_spec_t *spec, load_result_t *res);
void load_result_clear(load_result_t *r);
/** Raise RLIMIT_NOFILE to its hard maximum; return the soft limit. */
uint64_t load_raise_nofile(void);

/* ------------------------------------------------------------------ */
/* HTTP server (bench_httpd.c) */

/** Start the benchmark's own HTTP server on 127.0.0.1 (kernel-chosen
 * port, written to *<b>port_out</b>) in a child process; its pid or -1. */
pid_t bench_httpd_start(int *port_out);
/** Stop it (SIGTERM) and reap it. */
void bench_httpd_stop(pid_t pid);

#endif /* !defined(CHIVE_TOOLS_BENCH_H) */
