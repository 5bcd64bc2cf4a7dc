/**
 * @file bench_proc.c
 * @brief chive-bench: sample statistics, process start/stop, log watching
 * and /proc readings (VmRSS, VmHWM, utime+stime).
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "lib/malloc/malloc.h"

/* ------------------------------------------------------------------ */
/* Samples */

void
dvec_push(dvec_t *d, double x)
{
  if (d->n == d->cap) {
    size_t ncap = d->cap ? d->cap * 2 : 64;
    d->v = chive_realloc(d->v, ncap * sizeof(double));
    d->cap = ncap;
  }
  d->v[d->n++] = x;
}

void
dvec_clear(dvec_t *d)
{
  chive_free(d->v);
  memset(d, 0, sizeof(*d));
}

static int
cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double
dvec_quantile(const dvec_t *d, double q)
{
  if (!d->n)
    return BENCH_NAN;
  double *s = chive_memdup(d->v, d->n * sizeof(double));
  qsort(s, d->n, sizeof(double), cmp_double);
  double pos = q * (double)(d->n - 1);
  size_t lo = (size_t)floor(pos);
  size_t hi = lo + 1 < d->n ? lo + 1 : lo;
  double r = s[lo] + (s[hi] - s[lo]) * (pos - (double)lo);
  chive_free(s);
  return r;
}

double
dvec_max(const dvec_t *d)
{
  if (!d->n)
    return BENCH_NAN;
  double m = d->v[0];
  for (size_t i = 1; i < d->n; i++)
    if (d->v[i] > m)
      m = d->v[i];
  return m;
}

double
dvec_mean(const dvec_t *d)
{
  if (!d->n)
    return BENCH_NAN;
  double s = 0;
  for (size_t i = 0; i < d->n; i++)
    s += d->v[i];
  return s / (double)d->n;
}

double
bench_slope(const dvec_t *x, const dvec_t *y)
{
  size_t n = x->n < y->n ? x->n : y->n;
  if (n < 2)
    return BENCH_NAN;
  double mx = 0, my = 0;
  for (size_t i = 0; i < n; i++) {
    mx += x->v[i];
    my += y->v[i];
  }
  mx /= (double)n;
  my /= (double)n;
  double sxy = 0, sxx = 0;
  for (size_t i = 0; i < n; i++) {
    sxy += (x->v[i] - mx) * (y->v[i] - my);
    sxx += (x->v[i] - mx) * (x->v[i] - mx);
  }
  return sxx > 0 ? sxy / sxx : BENCH_NAN;
}

/* ------------------------------------------------------------------ */
/* Processes */

double
bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
bench_kind_name(bench_kind_t k)
{
  return k == BK_CHIVE ? "chive" : "ctor";
}

bool
bench_fmt(char *out, size_t len, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(out, len, fmt, ap);
  va_end(ap);
  return n >= 0 && (size_t)n < len;
}

/** In a child: exec <b>argv</b> (copied, since execvp wants mutable
 * strings); never returns. */
static void
exec_child(const char *const *argv)
{
  size_t n = 0;
  while (argv[n])
    n++;
  char **v = chive_calloc(n + 1, sizeof(char *));
  for (size_t i = 0; i < n; i++)
    v[i] = chive_strdup(argv[i]);
  execvp(v[0], v);
  fprintf(stderr, "chive-bench: exec %s: %s\n", v[0], strerror(errno));
  _exit(127);
}

int
bench_run_wait(const char *const *argv)
{
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0)
    return -1;
  if (pid == 0)
    exec_child(argv);
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR)
      return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

bool
bclient_spawn(bclient_t *c, const char *const *argv, const char *const *env)
{
  int fd = open(c->logpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) {
    fprintf(stderr, "chive-bench: cannot create %s: %s\n", c->logpath,
            strerror(errno));
    return false;
  }
  fflush(stdout);
  fflush(stderr);
  c->t_start = bench_now();
  pid_t pid = fork();
  if (pid < 0) {
    close(fd);
    fprintf(stderr, "chive-bench: fork: %s\n", strerror(errno));
    return false;
  }
  if (pid == 0) {
    setpgid(0, 0);
    int nul = open("/dev/null", O_RDONLY);
    if (nul >= 0)
      dup2(nul, 0);
    dup2(fd, 1);
    dup2(fd, 2);
    for (size_t i = 0; env && env[i]; i++)
      putenv(chive_strdup(env[i]));
    exec_child(argv);
  }
  close(fd);
  c->pid = pid;
  return true;
}

bool
bclient_alive(bclient_t *c)
{
  if (!c->pid)
    return false;
  int st;
  pid_t r = waitpid(c->pid, &st, WNOHANG);
  if (r == c->pid) {
    c->pid = 0;
    return false;
  }
  return true;
}

bool
bclient_wait_log(bclient_t *c, const char *needle, double timeout_s,
                 double *t_out)
{
  double deadline = bench_now() + timeout_s;
  size_t nlen = strlen(needle);
  long off = 0; /* bytes already searched, minus an overlap */
  char buf[65536];
  for (;;) {
    FILE *f = fopen(c->logpath, "r");
    if (f) {
      if (fseek(f, off, SEEK_SET) == 0) {
        size_t got;
        while ((got = fread(buf, 1, sizeof(buf) - 1, f)) > 0) {
          buf[got] = '\0';
          if (strstr(buf, needle)) {
            fclose(f);
            *t_out = bench_now() - c->t_start;
            return true;
          }
          /* keep an overlap so a needle split across reads is found */
          long adv = (long)got - (long)nlen;
          off += adv > 0 ? adv : 0;
          if (fseek(f, off, SEEK_SET) != 0 || got < sizeof(buf) - 1)
            break;
        }
      }
      fclose(f);
    }
    if (!bclient_alive(c) || bench_now() > deadline)
      return false;
    struct timespec ts = {0, 10 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int
bclient_stop(bclient_t *c, double grace_s)
{
  if (!c->pid)
    return -1;
  kill(c->pid, SIGINT);
  double deadline = bench_now() + grace_s;
  int st = 0;
  for (;;) {
    pid_t r = waitpid(c->pid, &st, WNOHANG);
    if (r == c->pid)
      break;
    if (bench_now() > deadline) {
      kill(c->pid, SIGKILL);
      waitpid(c->pid, &st, 0);
      break;
    }
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  c->pid = 0;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void
bclient_log_tail(const bclient_t *c, int n)
{
  FILE *f = fopen(c->logpath, "r");
  if (!f)
    return;
  char *lines[64];
  int cnt = 0;
  if (n > 64)
    n = 64;
  memset(lines, 0, sizeof(lines));
  char buf[1024];
  while (fgets(buf, sizeof(buf), f)) {
    chive_free(lines[cnt % n]);
    lines[cnt % n] = chive_strdup(buf);
    cnt++;
  }
  fclose(f);
  int first = cnt > n ? cnt - n : 0;
  for (int i = first; i < cnt; i++)
    fprintf(stderr, "    | %s", lines[i % n]);
  for (int i = 0; i < n; i++)
    chive_free(lines[i]);
}

bool
proc_mem(pid_t pid, procmem_t *out)
{
  char path[64], line[256];
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return false;
  procmem_t m = {0, 0};
  while (fgets(line, sizeof(line), f)) {
    if (!strncmp(line, "VmRSS:", 6))
      m.rss_kib = strtoull(line + 6, NULL, 10);
    else if (!strncmp(line, "VmHWM:", 6))
      m.hwm_kib = strtoull(line + 6, NULL, 10);
  }
  fclose(f);
  if (!m.rss_kib)
    return false;
  *out = m;
  return true;
}

double
proc_cpu_s(pid_t pid)
{
  char path[64], buf[2048];
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  FILE *f = fopen(path, "r");
  if (!f)
    return BENCH_NAN;
  size_t n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  /* proc(5): fields after the ")" ending comm; utime is field 14,
   * stime 15 (1-based), i.e. the 12th and 13th after ") ". */
  char *p = strrchr(buf, ')');
  if (!p)
    return BENCH_NAN;
  p += 2;
  for (int field = 3; field < 14 && p; field++) {
    p = strchr(p, ' ');
    if (p)
      p++;
  }
  if (!p)
    return BENCH_NAN;
  char *end;
  unsigned long long ut = strtoull(p, &end, 10);
  unsigned long long stt = strtoull(end, NULL, 10);
  long hz = sysconf(_SC_CLK_TCK);
  return (double)(ut + stt) / (double)(hz > 0 ? hz : 100);
}
