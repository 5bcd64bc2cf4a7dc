/**
 * @file bench_main.c
 * @brief chive-bench: chive and the C tor client side by side on the
 * project's private Tor network (tests/testnet/testnet).
 *
 * Outside the network namespace, chive-bench starts a network (or uses
 * --testnet DIR), then runs itself inside it with `testnet exec DIR --
 * chive-bench --inside ...`, and stops the network it started.  Inside,
 * it runs one session per client (chive, then C tor, --runs times):
 * bootstrap from an empty DataDirectory, RSS after bootstrap, circuit
 * builds over the control port, a bulk download, N concurrent SOCKS
 * streams, RSS under load for --duration, and a warm restart; then the
 * full-network-directory footprint of each (bench_fulldir.c).
 *
 * Exit status: 0 every hard floor measured passed; 1 a floor missed; 2
 * usage; 3 the network or a local resource failed.
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench_run.h"
#include "lib/malloc/malloc.h"

#ifndef CHIVE_BENCH_SOURCE_DIR
#  define CHIVE_BENCH_SOURCE_DIR "."
#endif
#ifndef CHIVE_BENCH_CHIVE_BIN
#  define CHIVE_BENCH_CHIVE_BIN "chive"
#endif

#define EXIT_FLOOR 1
#define EXIT_USAGE 2
#define EXIT_ENV 3

/** Seconds a client may take to bootstrap. */
#define BOOT_TIMEOUT_S 90.0
/** Seconds one circuit build may take before it counts as failed. */
#define CIRC_TIMEOUT_S 60.0
/** Seconds a client gets to exit after SIGINT. */
#define STOP_GRACE_S 10.0
/** Streams kept open during the memory benchmark's load. */
#define MEM_LOAD_STREAMS 8

static void
usage(FILE *out)
{
  fputs(
      "usage: chive-bench [--circuits N] [--streams N[,N...]] "
      "[--duration 30s]\n"
      "         [--only NAME[,NAME...]] [--no-ctor] [--quick] [--runs N]\n"
      "         [--bulk-mib N] [--stream-bytes N] [--testnet-http]\n"
      "         [--json FILE] [--svg FILE] [--testnet DIR]\n"
      "         [--chive PATH] [--tor PATH] [--workdir DIR] [--strict]\n"
      "         [--testnet-script PATH] [--key-cache DIR] "
      "[--shared-data DIR]\n"
      "\n"
      "Benchmarks (--only): bootstrap, circuits, memory, streams, bulk,\n"
      "fulldir.  Defaults: --circuits 100 --streams 100,1000 --duration 30s\n"
      "--bulk-mib 50 --runs 1.  --quick: --circuits 20 --streams 100\n"
      "--duration 10s --bulk-mib 10 (under 3 minutes with the network).\n"
      "Without --testnet a private network is started in ./chive-bench-net\n"
      "and stopped at the end.  Must run as root (network namespace).\n"
      "Streams fetch N bytes (--stream-bytes, default 1024) from the\n"
      "tool's own HTTP server in the namespace (--testnet-http: the\n"
      "network's Python server: index.html, blob.bin, a written file).\n"
      "Exit: 0 floors met, 1 a hard floor missed (circuit p95 < 5 s,\n"
      "RSS < 50 MB, 100+ concurrent streams without errors), 2 usage,\n"
      "3 environment.\n",
      out);
}

/* ------------------------------------------------------------------ */
/* Small helpers */

void
bench_say(const bctx_t *x, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  printf("[%6.1fs] ", bench_now() - x->t0);
  vprintf(fmt, ap);
  putchar('\n');
  fflush(stdout);
  va_end(ap);
}

bool
bench_write_file(const char *path, const char *text)
{
  FILE *f = fopen(path, "w");
  if (!f)
    return false;
  bool ok = fputs(text, f) >= 0;
  return fclose(f) == 0 && ok;
}

bool
bench_mkdirs(const char *path)
{
  char p[BENCH_PATH_MAX];
  bench_fmt(p, sizeof(p), "%s", path);
  for (char *s = p + 1; *s; s++) {
    if (*s == '/') {
      *s = '\0';
      if (mkdir(p, 0700) < 0 && errno != EEXIST)
        return false;
      *s = '/';
    }
  }
  return mkdir(p, 0700) == 0 || errno == EEXIST;
}

void
bench_rmtree(const char *path)
{
  const char *const argv[] = {"rm", "-rf", path, NULL};
  (void)bench_run_wait(argv);
}

const char *
bench_binary(const bctx_t *x, bench_kind_t k)
{
  return k == BK_CHIVE ? x->o->chive : x->o->tor;
}

bool
bench_binary_has_asan(const char *path)
{
  /* Both clang's static runtime and gcc's libasan imports leave the
   * symbol name in the binary. */
  static const char needle[] = "__asan_init";
  const size_t nl = sizeof(needle) - 1;
  FILE *f = fopen(path, "rb");
  if (!f)
    return false;
  char buf[65536 + sizeof(needle)];
  size_t keep = 0, got;
  bool found = false;
  while (!found && (got = fread(buf + keep, 1, 65536, f)) > 0) {
    size_t n = keep + got;
    for (size_t i = 0; !found && i + nl <= n; i++)
      found = buf[i] == needle[0] && !memcmp(buf + i, needle, nl);
    keep = n < nl - 1 ? n : nl - 1;
    memmove(buf, buf + n - keep, keep);
  }
  fclose(f);
  return found;
}

/** First line of `BIN --version` into <b>out</b>. */
static void
get_version(const char *bin, char *out, size_t len)
{
  char cmd[BENCH_PATH_MAX + 32];
  bench_fmt(cmd, sizeof(cmd), "'%s' --version 2>/dev/null", bin);
  bench_fmt(out, len, "unknown");
  FILE *p = popen(cmd, "r");
  if (!p)
    return;
  char line[256];
  while (fgets(line, sizeof(line), p)) {
    line[strcspn(line, "\r\n")] = '\0';
    if (line[0] && !strcmp(out, "unknown"))
      bench_fmt(out, len, "%s", line);
  }
  pclose(p);
}

/** Whole file as a NUL-terminated string (chive_free it), or NULL. */
static char *
slurp(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  size_t cap = 65536, n = 0;
  char *b = chive_malloc(cap);
  size_t got;
  while ((got = fread(b + n, 1, cap - n - 1, f)) > 0) {
    n += got;
    if (n + 1 == cap) {
      cap *= 2;
      b = chive_realloc(b, cap);
    }
  }
  fclose(f);
  b[n] = '\0';
  return b;
}

/** The integer after "key": following <b>from</b> in a JSON text, or -1
 * (network.json is written by the testnet script: a flat, known shape). */
static long
json_int_after(const char *text, const char *from, const char *key)
{
  const char *p = from ? strstr(text, from) : text;
  if (!p)
    return -1;
  char k[64];
  bench_fmt(k, sizeof(k), "\"%s\":", key);
  p = strstr(p, k);
  if (!p)
    return -1;
  p += strlen(k);
  while (*p == ' ' || *p == '[')
    p++;
  char *end;
  long v = strtol(p, &end, 10);
  return end == p ? -1 : v;
}

/** A TCP port on 127.0.0.1 that is free right now (the kernel's choice
 * for port 0, so parallel tests on the same network do not collide), or
 * 0. */
int
bench_free_port(void)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return 0;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sa);
  int port = 0;
  if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
      getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
    port = ntohs(sa.sin_port);
  close(fd);
  return port;
}

/** True if something accepts TCP connections on 127.0.0.1:<b>port</b>. */
static bool
port_open(int port)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return false;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
  close(fd);
  return ok;
}

static void
sleep_s(double s)
{
  struct timespec ts;
  ts.tv_sec = (time_t)s;
  ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
  while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
  }
}

/* ------------------------------------------------------------------ */
/* Options */

static bool
parse_duration(const char *s, double *out)
{
  char *end;
  double v = strtod(s, &end);
  if (end == s || v <= 0)
    return false;
  if (!strcmp(end, "") || !strcmp(end, "s"))
    *out = v;
  else if (!strcmp(end, "m") || !strcmp(end, "min"))
    *out = v * 60;
  else
    return false;
  return true;
}

static bool
parse_only(const char *s, unsigned *out)
{
  static const struct {
    const char *name;
    unsigned bit;
  } names[] = {{"bootstrap", B_BOOTSTRAP}, {"circuits", B_CIRCUITS},
               {"circuit", B_CIRCUITS},    {"memory", B_MEMORY},
               {"streams", B_STREAMS},     {"bulk", B_BULK},
               {"fulldir", B_FULLDIR},     {"all", B_ALL}};
  unsigned m = 0;
  char buf[256];
  bench_fmt(buf, sizeof(buf), "%s", s);
  char *save = NULL;
  for (char *t = strtok_r(buf, ",", &save); t;
       t = strtok_r(NULL, ",", &save)) {
    bool found = false;
    for (size_t i = 0; i < CHIVE_ARRAY_LEN(names); i++) {
      if (!strcmp(t, names[i].name)) {
        m |= names[i].bit;
        found = true;
      }
    }
    if (!found) {
      fprintf(stderr, "chive-bench: unknown benchmark '%s'\n", t);
      return false;
    }
  }
  *out = m;
  return m != 0;
}

static bool
parse_streams(const char *s, bopts_t *o)
{
  o->n_streams = 0;
  const char *p = s;
  while (*p) {
    char *end;
    unsigned long v = strtoul(p, &end, 10);
    if (end == p || v == 0 || v > LOAD_MAX_STREAMS ||
        o->n_streams == BENCH_MAX_STREAM_SETS)
      return false;
    o->streams[o->n_streams++] = v;
    p = end;
    if (*p == ',')
      p++;
    else if (*p)
      return false;
  }
  return o->n_streams > 0;
}

/** Parse argv into <b>o</b>; false on a usage error. */
static bool
parse_args(int argc, char **argv, bopts_t *o)
{
  bool set_circ = false, set_streams = false, set_dur = false,
       set_bulk = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define VAL()                                                              \
  do {                                                                     \
    if (!v) {                                                              \
      fprintf(stderr, "chive-bench: %s needs a value\n", a);               \
      return false;                                                        \
    }                                                                      \
    i++;                                                                   \
  } while (0)
    if (!strcmp(a, "--circuits")) {
      VAL();
      o->circuits = (int)strtol(v, NULL, 10);
      set_circ = true;
      if (o->circuits <= 0 || o->circuits > 100000)
        return false;
    } else if (!strcmp(a, "--streams")) {
      VAL();
      set_streams = true;
      if (!parse_streams(v, o))
        return false;
    } else if (!strcmp(a, "--duration")) {
      VAL();
      set_dur = true;
      if (!parse_duration(v, &o->duration_s))
        return false;
    } else if (!strcmp(a, "--only")) {
      VAL();
      if (!parse_only(v, &o->only))
        return false;
    } else if (!strcmp(a, "--runs")) {
      VAL();
      o->runs = (int)strtol(v, NULL, 10);
      if (o->runs <= 0 || o->runs > 100)
        return false;
    } else if (!strcmp(a, "--bulk-mib")) {
      VAL();
      set_bulk = true;
      o->bulk_mib = strtod(v, NULL);
      if (!(o->bulk_mib >= 1 && o->bulk_mib <= 4096))
        return false;
    } else if (!strcmp(a, "--stream-bytes")) {
      VAL();
      o->stream_bytes = strtoull(v, NULL, 10);
      if (o->stream_bytes == 0 || o->stream_bytes > (1ull << 30))
        return false;
    } else if (!strcmp(a, "--testnet-http")) {
      o->testnet_http = true;
    } else if (!strcmp(a, "--no-ctor")) {
      o->no_ctor = true;
    } else if (!strcmp(a, "--quick")) {
      o->quick = true;
    } else if (!strcmp(a, "--inside")) {
      o->inside = true;
    } else if (!strcmp(a, "--strict")) {
      o->strict = true;
    } else if (!strcmp(a, "--json")) {
      VAL();
      o->json = v;
    } else if (!strcmp(a, "--svg")) {
      VAL();
      o->svg = v;
    } else if (!strcmp(a, "--testnet")) {
      VAL();
      o->testnet = v;
    } else if (!strcmp(a, "--chive")) {
      VAL();
      o->chive = v;
    } else if (!strcmp(a, "--tor")) {
      VAL();
      o->tor = v;
    } else if (!strcmp(a, "--workdir")) {
      VAL();
      o->workdir = v;
    } else if (!strcmp(a, "--testnet-script")) {
      VAL();
      o->script = v;
    } else if (!strcmp(a, "--key-cache")) {
      VAL();
      o->key_cache = v;
    } else if (!strcmp(a, "--shared-data")) {
      VAL();
      o->shared = v;
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      exit(0);
    } else {
      fprintf(stderr, "chive-bench: unknown option '%s'\n", a);
      return false;
    }
#undef VAL
  }
  if (o->quick) {
    if (!set_circ)
      o->circuits = 20;
    if (!set_streams) {
      o->streams[0] = 100;
      o->n_streams = 1;
    }
    if (!set_dur)
      o->duration_s = 10;
    if (!set_bulk)
      o->bulk_mib = 10;
  }
  return true;
}

/* ------------------------------------------------------------------ */
/* Outside the namespace: network start, re-exec inside, stop */

static int
run_outside(int argc, char **argv, bopts_t *o)
{
  char self[BENCH_PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (n <= 0) {
    fprintf(stderr, "chive-bench: cannot find my own binary\n");
    return EXIT_ENV;
  }
  self[n] = '\0';
  char netdir[BENCH_PATH_MAX], keys[BENCH_PATH_MAX];
  bool started = false;
  if (o->testnet) {
    if (!realpath(o->testnet, netdir)) {
      fprintf(stderr, "chive-bench: --testnet %s: %s\n", o->testnet,
              strerror(errno));
      return EXIT_USAGE;
    }
  } else {
    char cwd[BENCH_PATH_MAX];
    if (!getcwd(cwd, sizeof(cwd)))
      return EXIT_ENV;
    bench_fmt(netdir, sizeof(netdir), "%s/chive-bench-net", cwd);
    bench_fmt(keys, sizeof(keys), "%s",
             o->key_cache ? o->key_cache : "chive-bench-keys");
    printf("chive-bench: starting a private network in %s\n", netdir);
    /* A network left from an interrupted run: stop it first. */
    const char *const stop0[] = {o->script, "stop", netdir, NULL};
    (void)bench_run_wait(stop0);
    const char *const start[] = {o->script,     "start",       netdir,
                                 "--base-port", "auto",        "--key-cache",
                                 keys,          NULL};
    if (bench_run_wait(start) != 0) {
      fprintf(stderr, "chive-bench: testnet start failed\n");
      (void)bench_run_wait(stop0);
      return EXIT_ENV;
    }
    started = true;
    const char *const waitv[] = {o->script,   "wait", netdir,
                                 "--timeout", "150",  NULL};
    if (bench_run_wait(waitv) != 0) {
      fprintf(stderr, "chive-bench: the network did not become ready\n");
      (void)bench_run_wait(stop0);
      return EXIT_ENV;
    }
  }
  /* testnet exec DIR -- self --inside --testnet DIR <args> */
  const char **av = chive_calloc((size_t)argc + 10, sizeof(char *));
  size_t k = 0;
  av[k++] = o->script;
  av[k++] = "exec";
  av[k++] = netdir;
  av[k++] = "--";
  av[k++] = self;
  av[k++] = "--inside";
  av[k++] = "--testnet";
  av[k++] = netdir;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--testnet")) { /* given above, absolute */
      i++;
      continue;
    }
    av[k++] = argv[i];
  }
  av[k] = NULL;
  int rc = bench_run_wait(av);
  chive_free(av);
  if (started) {
    printf("chive-bench: stopping the private network\n");
    const char *const stop[] = {o->script, "stop", netdir, NULL};
    (void)bench_run_wait(stop);
  }
  return rc < 0 ? EXIT_ENV : rc;
}

/* ------------------------------------------------------------------ */
/* Inside: one client session */

/** Write the torrc of a testnet session of <b>c</b>. */
static bool
write_torrc(const bctx_t *x, bclient_t *c)
{
  char text[8192];
  int n = snprintf(text, sizeof(text),
                   "DataDirectory %s\n"
                   "SocksPort 127.0.0.1:%d\n"
                   "ControlPort 127.0.0.1:%d\n"
                   "CookieAuthentication 1\n"
                   "TestingTorNetwork 1\n"
                   "UseDefaultFallbackDirs 0\n"
                   "PathsNeededToBuildCircuits 0.67\n"
                   "SafeLogging 0\n"
                   "Log notice stdout\n"
                   "%s",
                   c->datadir, c->socks_port, c->control_port, x->dirauth);
  if (n < 0 || (size_t)n >= sizeof(text))
    return false;
  if (c->kind == BK_CTOR) {
    /* tor-only options: the same as the network's own client torrc (no
     * GeoIP parsing, no IPv6 on a loopback-only network, exit with us). */
    int m = snprintf(text + n, sizeof(text) - (size_t)n,
                     "ClientUseIPv6 0\n"
                     "GeoIPFile %s/empty-torrc\n"
                     "GeoIPv6File %s/empty-torrc\n"
                     "__OwningControllerProcess %d\n",
                     x->netdir, x->netdir, (int)getpid());
    if (m < 0 || (size_t)m >= sizeof(text) - (size_t)n)
      return false;
  }
  return bench_write_file(c->torrc, text);
}

static bool
client_start(const bctx_t *x, bclient_t *c)
{
  const char *const argv[] = {bench_binary(x, c->kind), "-f", c->torrc,
                              NULL};
  return bclient_spawn(c, argv, NULL);
}

typedef struct memtick_t {
  const bclient_t *c;
  cres_t *r;
  uint64_t peak;
  dvec_t *t, *rss; /**< Where samples go (NULL: only the peak). */
  double t_offset;
} memtick_t;

static void
mem_tick(void *arg, double elapsed)
{
  memtick_t *m = arg;
  procmem_t pm;
  if (!m->c->pid || !proc_mem(m->c->pid, &pm))
    return;
  if (pm.rss_kib > m->peak)
    m->peak = pm.rss_kib;
  if (m->t) {
    dvec_push(m->t, elapsed + m->t_offset);
    dvec_push(m->rss, (double)pm.rss_kib);
  }
}

static void
bench_circuits(bctx_t *x, bclient_t *c, cres_t *r)
{
  char why[256];
  ctl_t *ctl = ctl_open(c->control_port, 10, why, sizeof(why));
  if (!ctl) {
    bench_fmt(r->circ_note, sizeof(r->circ_note),
             "not available: control port: %s", why);
    bench_say(x, "%s circuits: %s", bench_kind_name(c->kind), r->circ_note);
    return;
  }
  char reply[512];
  int code = ctl_cmd(ctl, "SETEVENTS CIRC", reply, sizeof(reply), 10);
  if (code != 250) {
    bench_fmt(r->circ_note, sizeof(r->circ_note),
             "not available: SETEVENTS CIRC: %d %s", code, reply);
    bench_say(x, "%s circuits: %s", bench_kind_name(c->kind), r->circ_note);
    ctl_close(ctl);
    return;
  }
  int n = x->o->circuits;
  for (int i = 0; i < n; i++) {
    double t0 = bench_now();
    code = ctl_cmd(ctl, "EXTENDCIRCUIT 0", reply, sizeof(reply), 30);
    if (code != 250 || strncmp(reply, "EXTENDED ", 9) != 0) {
      if (i == 0 && code >= 500) {
        bench_fmt(r->circ_note, sizeof(r->circ_note),
                 "not available: EXTENDCIRCUIT: %d %s", code, reply);
        bench_say(x, "%s circuits: %s", bench_kind_name(c->kind),
                  r->circ_note);
        ctl_close(ctl);
        return;
      }
      r->circ_fail++;
      continue;
    }
    r->circ_ran = true;
    char id[32];
    bench_fmt(id, sizeof(id), "%s", reply + 9);
    id[strcspn(id, " ")] = '\0';
    char want[64];
    int wl = snprintf(want, sizeof(want), "CIRC %s ", id);
    bool done = false, ok = false;
    while (!done) {
      double left = CIRC_TIMEOUT_S - (bench_now() - t0);
      char ev[1024];
      if (left <= 0 || !ctl_next_event(ctl, ev, sizeof(ev), left))
        break;
      if (strncmp(ev, want, (size_t)wl) != 0)
        continue;
      const char *st = ev + wl;
      if (!strncmp(st, "BUILT", 5)) {
        done = ok = true;
      } else if (!strncmp(st, "FAILED", 6) || !strncmp(st, "CLOSED", 6)) {
        done = true;
      }
    }
    double ms = (bench_now() - t0) * 1000.0;
    if (ok) {
      r->circ_ok++;
      dvec_push(&r->circ_ms, ms);
    } else {
      r->circ_fail++;
    }
    char cmd[64];
    bench_fmt(cmd, sizeof(cmd), "CLOSECIRCUIT %s", id);
    (void)ctl_cmd(ctl, cmd, reply, sizeof(reply), 10);
    if ((i + 1) % 10 == 0 || i + 1 == n)
      bench_say(x, "%s circuits: %d/%d built, %zu failed, p50 %.0f ms",
                bench_kind_name(c->kind), i + 1, n, r->circ_fail,
                dvec_quantile(&r->circ_ms, 0.5));
  }
  ctl_close(ctl);
}

static void
bench_bulk(bctx_t *x, bclient_t *c, cres_t *r)
{
  load_spec_t s;
  memset(&s, 0, sizeof(s));
  s.socks_port = c->socks_port;
  s.http_port = x->http_port;
  s.path = x->bulk_path;
  s.expect_len = x->bulk_len;
  s.concurrency = 1;
  s.total = 1;
  s.stream_timeout_s = 600;
  double cpu0 = proc_cpu_s(c->pid);
  load_result_t lr;
  if (!load_run(&s, &lr)) {
    bench_fmt(r->bulk_note, sizeof(r->bulk_note), "load generator failed");
    return;
  }
  double cpu1 = proc_cpu_s(c->pid);
  /* With --runs N the downloads pool: bytes, seconds and CPU seconds
   * add up; the row is good only if every download completed. */
  bool first = !r->bulk_ran;
  r->bulk_ran = true;
  r->bulk_ok = (first || r->bulk_ok) && lr.completed == 1;
  r->bulk_bytes += lr.body_bytes;
  r->bulk_s += lr.wall_s;
  r->bulk_cpu_s += cpu1 - cpu0;
  if (lr.completed != 1)
    bench_fmt(r->bulk_note, sizeof(r->bulk_note),
             "download failed (socks %zu, http %zu, short %zu, timeout %zu, "
             "connect %zu)",
             lr.err_socks, lr.err_http, lr.err_short, lr.err_timeout,
             lr.err_connect);
  bench_say(x, "%s bulk: %s %.1f MiB in %.2f s = %.2f MiB/s, %.3f CPU s/MiB%s",
            bench_kind_name(c->kind), x->bulk_path,
            (double)lr.body_bytes / 1048576.0, lr.wall_s,
            lr.wall_s > 0 ? (double)lr.body_bytes / 1048576.0 / lr.wall_s : 0,
            lr.body_bytes ? (cpu1 - cpu0) / ((double)lr.body_bytes / 1048576.0)
                          : 0,
            lr.completed == 1 ? "" : " (FAILED)");
  load_result_clear(&lr);
}

/** Add the streams of <b>from</b> to <b>to</b> (samples copied). */
static void
merge_load_result(load_result_t *to, const load_result_t *from)
{
  to->started += from->started;
  to->completed += from->completed;
  to->errors += from->errors;
  to->err_connect += from->err_connect;
  to->err_socks += from->err_socks;
  to->err_http += from->err_http;
  to->err_short += from->err_short;
  to->err_timeout += from->err_timeout;
  if (from->last_socks_code)
    to->last_socks_code = from->last_socks_code;
  to->body_bytes += from->body_bytes;
  to->wall_s += from->wall_s;
  for (size_t i = 0; i < from->ttfb_ms.n; i++)
    dvec_push(&to->ttfb_ms, from->ttfb_ms.v[i]);
  for (size_t i = 0; i < from->total_ms.n; i++)
    dvec_push(&to->total_ms, from->total_ms.v[i]);
}

static void
bench_streams(bctx_t *x, bclient_t *c, cres_t *r)
{
  for (size_t i = 0; i < x->o->n_streams; i++) {
    streamset_t *ss = &r->sets[i];
    ss->n = x->o->streams[i];
    load_spec_t s;
    memset(&s, 0, sizeof(s));
    s.socks_port = c->socks_port;
    s.http_port = x->http_port;
    s.path = x->stream_path;
    s.expect_len = x->stream_len;
    s.concurrency = ss->n;
    s.total = ss->n;
    s.stream_timeout_s = 120;
    memtick_t mt;
    memset(&mt, 0, sizeof(mt));
    mt.c = c;
    mt.r = r;
    s.tick = mem_tick;
    s.tick_arg = &mt;
    mem_tick(&mt, 0);
    load_result_t lr;
    bool ran = load_run(&s, &lr);
    mem_tick(&mt, 0);
    procmem_t pm;
    if (proc_mem(c->pid, &pm) && pm.hwm_kib > ss->hwm_kib)
      ss->hwm_kib = pm.hwm_kib;
    if (mt.peak > ss->peak_rss_kib)
      ss->peak_rss_kib = mt.peak;
    if (ran) {
      /* With --runs N, the set pools every run's streams: counts and
       * wall time add up, samples join, peaks are the maximum. */
      merge_load_result(&ss->r, &lr);
      ss->ran = true;
    }
    bench_say(x,
              "%s streams x%zu: %zu completed, %zu errors (connect %zu socks "
              "%zu http %zu short %zu timeout %zu), %.2f s, TTFB p50 %.0f "
              "ms p95 %.0f ms, peak RSS %.1f MiB",
              bench_kind_name(c->kind), ss->n, lr.completed,
              lr.errors, lr.err_connect, lr.err_socks,
              lr.err_http, lr.err_short, lr.err_timeout,
              lr.wall_s, dvec_quantile(&lr.ttfb_ms, 0.5),
              dvec_quantile(&lr.ttfb_ms, 0.95),
              (double)mt.peak / 1024.0);
    load_result_clear(&lr);
    sleep_s(1);
  }
}

static void
bench_memory(bctx_t *x, bclient_t *c, cres_t *r, bool socks_ok)
{
  /* With --runs N the memory rows are the last session's: one time
   * series, so that the slope means something. */
  dvec_clear(&r->mem_t);
  dvec_clear(&r->mem_rss_kib);
  r->mem_streams_done = r->mem_streams_err = 0;
  memtick_t mt;
  memset(&mt, 0, sizeof(mt));
  mt.c = c;
  mt.r = r;
  mt.t = &r->mem_t;
  mt.rss = &r->mem_rss_kib;
  mem_tick(&mt, 0);
  r->mem_ran = true;
  if (socks_ok) {
    r->mem_loaded = true;
    load_spec_t s;
    memset(&s, 0, sizeof(s));
    s.socks_port = c->socks_port;
    s.http_port = x->http_port;
    s.path = x->mem_path;
    s.expect_len = x->mem_len;
    s.concurrency = MEM_LOAD_STREAMS;
    s.until_s = x->o->duration_s;
    s.stream_timeout_s = 60;
    s.tick = mem_tick;
    s.tick_arg = &mt;
    load_result_t lr;
    (void)load_run(&s, &lr);
    r->mem_streams_done = lr.completed;
    r->mem_streams_err = lr.errors;
    load_result_clear(&lr);
  } else {
    bench_fmt(r->mem_note, sizeof(r->mem_note),
             "idle: no SOCKS port to load");
    double t0 = bench_now();
    while (bench_now() - t0 < x->o->duration_s) {
      sleep_s(1);
      mem_tick(&mt, bench_now() - t0);
    }
  }
  procmem_t pm;
  if (proc_mem(c->pid, &pm))
    r->mem_hwm_kib = pm.hwm_kib;
  double slope = bench_slope(&r->mem_t, &r->mem_rss_kib) * 60.0;
  bench_say(x,
            "%s memory (%s, %.0f s): peak RSS %.1f MiB, VmHWM %.1f MiB, "
            "slope %+.0f KiB/min, %zu streams done, %zu errors",
            bench_kind_name(c->kind), r->mem_loaded ? "under load" : "idle",
            x->o->duration_s, dvec_max(&r->mem_rss_kib) / 1024.0,
            (double)r->mem_hwm_kib / 1024.0, slope, r->mem_streams_done,
            r->mem_streams_err);
}

/** One session of client <b>k</b> (run number <b>run</b>). */
static void
session(bctx_t *x, bench_kind_t k, int run)
{
  cres_t *r = &x->res[k];
  unsigned only = x->o->only;
  bclient_t c;
  memset(&c, 0, sizeof(c));
  c.kind = k;
  bench_fmt(c.dir, sizeof(c.dir), "%s/%s-%d", x->workdir, bench_kind_name(k),
           run);
  bench_rmtree(c.dir);
  bench_fmt(c.datadir, sizeof(c.datadir), "%s/data", c.dir);
  bench_fmt(c.torrc, sizeof(c.torrc), "%s/torrc", c.dir);
  bench_fmt(c.logpath, sizeof(c.logpath), "%s/log-cold.txt", c.dir);
  c.socks_port = bench_free_port();
  c.control_port = bench_free_port();
  if (c.control_port == c.socks_port)
    c.control_port = bench_free_port();
  if (!bench_mkdirs(c.datadir) || !write_torrc(x, &c)) {
    bench_fmt(r->note, sizeof(r->note), "cannot prepare %s", c.dir);
    return;
  }
  bench_say(x, "%s run %d: starting %s (fresh DataDirectory %s)",
            bench_kind_name(k), run + 1, bench_binary(x, k), c.datadir);
  if (!client_start(x, &c))
    return;
  double t;
  if (!bclient_wait_log(&c, "Bootstrapped 100%", BOOT_TIMEOUT_S, &t)) {
    bench_fmt(r->note, sizeof(r->note),
             "did not reach \"Bootstrapped 100%%\" within %.0f s (%s)",
             BOOT_TIMEOUT_S, bclient_alive(&c) ? "still running" : "exited");
    bench_say(x, "%s: %s; log tail:", bench_kind_name(k), r->note);
    bclient_log_tail(&c, 15);
    bclient_stop(&c, STOP_GRACE_S);
    return;
  }
  dvec_push(&r->boot_cold_s, t);
  bench_say(x, "%s: bootstrapped (cold) in %.2f s", bench_kind_name(k), t);
  sleep_s(1);
  if (proc_mem(c.pid, &r->after_boot)) {
    r->have_after_boot = true;
    bench_say(x, "%s: RSS after bootstrap %.1f MiB (VmHWM %.1f MiB)",
              bench_kind_name(k), (double)r->after_boot.rss_kib / 1024.0,
              (double)r->after_boot.hwm_kib / 1024.0);
  }
  bool socks_ok = port_open(c.socks_port);
  if (!socks_ok)
    bench_say(x, "%s: nothing listens on its SocksPort %d: stream "
              "benchmarks not available", bench_kind_name(k), c.socks_port);
  if (only & B_CIRCUITS)
    bench_circuits(x, &c, r);
  if (only & B_BULK) {
    if (socks_ok)
      bench_bulk(x, &c, r);
    else
      bench_fmt(r->bulk_note, sizeof(r->bulk_note),
               "not available: no SOCKS listener");
  }
  if (only & B_STREAMS) {
    if (socks_ok)
      bench_streams(x, &c, r);
    else
      bench_fmt(r->streams_note, sizeof(r->streams_note),
               "not available: no SOCKS listener");
  }
  if (only & B_MEMORY)
    bench_memory(x, &c, r, socks_ok);
  int rc = bclient_stop(&c, STOP_GRACE_S);
  bench_say(x, "%s: stopped (exit status %d)", bench_kind_name(k), rc);
  if (only & B_BOOTSTRAP) {
    bench_fmt(c.logpath, sizeof(c.logpath), "%s/log-warm.txt", c.dir);
    if (client_start(x, &c)) {
      if (bclient_wait_log(&c, "Bootstrapped 100%", BOOT_TIMEOUT_S, &t)) {
        dvec_push(&r->boot_warm_s, t);
        bench_say(x, "%s: bootstrapped (warm DataDirectory) in %.2f s",
                  bench_kind_name(k), t);
      } else {
        bench_say(x, "%s: warm start did not reach 100%%; log tail:",
                  bench_kind_name(k));
        bclient_log_tail(&c, 15);
      }
      bclient_stop(&c, STOP_GRACE_S);
    }
  }
}

/** Make sure the bulk file exists in the network's web root: a
 * deterministic pseudo-random file of --bulk-mib MiB. */
static bool
prepare_bulk_file(bctx_t *x)
{
  uint64_t len = (uint64_t)(x->o->bulk_mib * 1048576.0);
  bench_fmt(x->bulk_path, sizeof(x->bulk_path), "/bench-%llu.bin",
           (unsigned long long)len);
  x->bulk_len = len;
  char path[BENCH_PATH_MAX];
  bench_fmt(path, sizeof(path), "%s/www%s", x->netdir, x->bulk_path);
  struct stat st;
  if (stat(path, &st) == 0 && (uint64_t)st.st_size == len)
    return true;
  char tmp[BENCH_PATH_MAX + 8];
  bench_fmt(tmp, sizeof(tmp), "%s.tmp", path);
  FILE *f = fopen(tmp, "wb");
  if (!f)
    return false;
  /* xorshift64*: incompressible enough for a transfer test */
  uint64_t s = 0x9E3779B97F4A7C15ull;
  uint64_t buf[8192];
  uint64_t left = len;
  while (left) {
    for (size_t i = 0; i < CHIVE_ARRAY_LEN(buf); i++) {
      s ^= s >> 12;
      s ^= s << 25;
      s ^= s >> 27;
      buf[i] = s * 2685821657736338717ull;
    }
    size_t chunk = left < sizeof(buf) ? (size_t)left : sizeof(buf);
    if (fwrite(buf, 1, chunk, f) != chunk) {
      fclose(f);
      return false;
    }
    left -= chunk;
  }
  if (fclose(f) != 0)
    return false;
  return rename(tmp, path) == 0;
}

static int
run_inside(bopts_t *o)
{
  bctx_t *x = chive_zalloc(sizeof(*x));
  x->o = o;
  x->t0 = bench_now();
  const char *nd = getenv("CHIVE_TESTNET_DIR");
  if (!nd)
    nd = o->testnet;
  if (!nd) {
    fprintf(stderr, "chive-bench: --inside needs --testnet DIR or "
                    "CHIVE_TESTNET_DIR\n");
    chive_free(x);
    return EXIT_USAGE;
  }
  bench_fmt(x->netdir, sizeof(x->netdir), "%s", nd);
  char path[BENCH_PATH_MAX + 32];
  bench_fmt(path, sizeof(path), "%s/network.json", x->netdir);
  char *net = slurp(path);
  bench_fmt(path, sizeof(path), "%s/client/torrc-dirauth", x->netdir);
  char *da = slurp(path);
  int rc = EXIT_ENV;
  if (!net || !da) {
    fprintf(stderr, "chive-bench: %s is not a running testnet directory\n",
            x->netdir);
    goto out;
  }
  bench_fmt(x->dirauth, sizeof(x->dirauth), "%s", da);
  x->http_port = (int)json_int_after(net, "\"http\"", "port");
  x->port_lo = (int)json_int_after(net, "\"client\"", "free_ports");
  x->index_len = (uint64_t)json_int_after(net, "\"index.html\"", "size");
  x->blob_len = (uint64_t)json_int_after(net, "\"blob.bin\"", "size");
  if (x->http_port <= 0 || x->port_lo <= 0) {
    fprintf(stderr, "chive-bench: cannot read ports from network.json\n");
    goto out;
  }
  bench_fmt(x->workdir, sizeof(x->workdir), "%s",
           o->workdir ? o->workdir : "");
  if (!o->workdir)
    bench_fmt(x->workdir, sizeof(x->workdir), "%s.bench", x->netdir);
  if (!bench_mkdirs(x->workdir)) {
    fprintf(stderr, "chive-bench: cannot create %s\n", x->workdir);
    goto out;
  }
  uint64_t nofile = load_raise_nofile();
  time_t now = time(NULL);
  struct tm tmv;
  gmtime_r(&now, &tmv);
  strftime(x->date, sizeof(x->date), "%Y-%m-%d %H:%M:%S UTC", &tmv);
  if (gethostname(x->host, sizeof(x->host)) != 0)
    bench_fmt(x->host, sizeof(x->host), "unknown");
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    x->res[k].kind = (bench_kind_t)k;
    get_version(bench_binary(x, (bench_kind_t)k), x->res[k].version,
                sizeof(x->res[k].version));
  }
  bench_say(x, "chive-bench in the network namespace of %s (%ld CPUs, "
            "RLIMIT_NOFILE %llu)", x->netdir, sysconf(_SC_NPROCESSORS_ONLN),
            (unsigned long long)nofile);
  bench_say(x, "chive: %s (%s); C tor: %s (%s)", o->chive,
            x->res[BK_CHIVE].version, o->no_ctor ? "skipped" : o->tor,
            x->res[BK_CTOR].version);
  x->chive_asan = bench_binary_has_asan(o->chive);
  if (x->chive_asan)
    bench_say(x, "chive is built with AddressSanitizer: its RSS includes "
              "shadow memory and quarantine, the RSS floors do not apply");
  if (o->testnet_http) {
    bench_fmt(x->stream_path, sizeof(x->stream_path), "/index.html");
    x->stream_len = x->index_len;
    bench_fmt(x->mem_path, sizeof(x->mem_path), "/blob.bin");
    x->mem_len = x->blob_len;
    if ((o->only & B_BULK) && !prepare_bulk_file(x)) {
      fprintf(stderr, "chive-bench: cannot write the bulk file\n");
      goto out;
    }
  } else {
    int hp = 0;
    x->httpd_pid = bench_httpd_start(&hp);
    if (x->httpd_pid <= 0) {
      fprintf(stderr, "chive-bench: cannot start the HTTP server\n");
      x->httpd_pid = 0;
      goto out;
    }
    x->http_port = hp;
    bench_fmt(x->stream_path, sizeof(x->stream_path), "/bytes/%llu",
              (unsigned long long)o->stream_bytes);
    x->stream_len = o->stream_bytes;
    bench_fmt(x->mem_path, sizeof(x->mem_path), "/bytes/%d", 1 << 20);
    x->mem_len = 1u << 20;
    x->bulk_len = (uint64_t)(o->bulk_mib * 1048576.0);
    bench_fmt(x->bulk_path, sizeof(x->bulk_path), "/bytes/%llu",
              (unsigned long long)x->bulk_len);
    bench_say(x, "HTTP server (own) on 127.0.0.1:%d, pid %d", hp,
              (int)x->httpd_pid);
  }
  unsigned sess = B_BOOTSTRAP | B_CIRCUITS | B_MEMORY | B_STREAMS | B_BULK;
  if (o->only & sess) {
    for (int run = 0; run < o->runs; run++) {
      /* alternate which client goes first from run to run */
      for (int j = 0; j < BENCH_N_CLIENTS; j++) {
        bench_kind_t k = (bench_kind_t)((j + run) % BENCH_N_CLIENTS);
        if (k == BK_CTOR && o->no_ctor)
          continue;
        session(x, k, run);
      }
    }
  }
  if (o->only & B_FULLDIR) {
    bench_fulldir(x, BK_CHIVE);
    if (!o->no_ctor)
      bench_fulldir(x, BK_CTOR);
  }
  bool passed = bench_report(x);
  if (o->json) {
    if (bench_write_json(x, o->json, passed))
      bench_say(x, "JSON written to %s", o->json);
    else
      fprintf(stderr, "chive-bench: cannot write %s\n", o->json);
  }
  if (o->svg) {
    if (bench_write_svg(x, o->svg))
      bench_say(x, "SVG plot written to %s", o->svg);
    else
      fprintf(stderr, "chive-bench: cannot write %s\n", o->svg);
  }
  rc = passed ? 0 : EXIT_FLOOR;
out:
  if (x->httpd_pid)
    bench_httpd_stop(x->httpd_pid);
  for (int k = 0; k < BENCH_N_CLIENTS; k++) {
    cres_t *r = &x->res[k];
    dvec_clear(&r->boot_cold_s);
    dvec_clear(&r->boot_warm_s);
    dvec_clear(&r->circ_ms);
    dvec_clear(&r->mem_t);
    dvec_clear(&r->mem_rss_kib);
    for (size_t i = 0; i < BENCH_MAX_STREAM_SETS; i++)
      load_result_clear(&r->sets[i].r);
  }
  chive_free(net);
  chive_free(da);
  chive_free(x);
  return rc;
}

int
main(int argc, char **argv)
{
  bopts_t o;
  memset(&o, 0, sizeof(o));
  o.circuits = 100;
  o.streams[0] = 100;
  o.streams[1] = 1000;
  o.n_streams = 2;
  o.duration_s = 30;
  o.only = B_ALL;
  o.runs = 1;
  o.bulk_mib = 50;
  o.chive = CHIVE_BENCH_CHIVE_BIN;
  o.tor = "tor";
  o.script = CHIVE_BENCH_SOURCE_DIR "/tests/testnet/testnet";
  o.stream_bytes = 1024;
  if (!parse_args(argc, argv, &o)) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (!o.shared)
    o.shared = getenv("CHIVE_SHARED_DATA");
  if (!o.shared)
    o.shared = CHIVE_BENCH_SOURCE_DIR "/../shared/data";
  if (o.inside || getenv("CHIVE_TESTNET_DIR"))
    return run_inside(&o);
  if (geteuid() != 0) {
    fprintf(stderr, "chive-bench: must run as root (the private network "
                    "lives in a network namespace)\n");
    return EXIT_ENV;
  }
  return run_outside(argc, argv, &o);
}
