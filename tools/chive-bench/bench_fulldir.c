/**
 * @file bench_fulldir.c
 * @brief chive-bench: the memory each client holds with the real
 * 6,596-relay directory of ../shared/data/realnet-A loaded from its
 * DataDirectory cache, with the clock set to the consensus' valid-after
 * (Debian's faketime) and no reachable directory server.
 *
 * Both clients get the same files under tor's cache names
 * (cached-microdesc-consensus, cached-certs, cached-microdescs and its
 * journal cached-microdescs.new, which chive reads as one file: they are
 * concatenated for it) and the same nine DirAuthority lines, built from
 * the consensus' own dir-source lines and the authorities' router entries
 * in the ns-flavour consensus (2017's authorities are not today's).  The
 * run ends when the log says "We now have enough directory information"
 * (both clients print it, tor at info level, hence "Log info"); RSS is
 * read 2 s later.
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bench_run.h"
#include "lib/encoding/base64.h"
#include "lib/malloc/malloc.h"

/** The fake start time: the consensus' valid-after plus five minutes. */
#define FULLDIR_FAKETIME "2017-10-29 12:05:00"
/** Debian's thread-safe libfaketime. */
#define FULLDIR_LIBFAKETIME \
  "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
/** Seconds a client gets to load the directory. */
#define FULLDIR_TIMEOUT_S 180.0
/** Seconds between "enough directory information" and the RSS reading. */
#define FULLDIR_SETTLE_S 2

static char *
slurp_file(const char *path, size_t *len_out)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0) {
    fclose(f);
    return NULL;
  }
  long sz = ftell(f);
  if (sz < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  char *b = chive_malloc((size_t)sz + 1);
  size_t got = fread(b, 1, (size_t)sz, f);
  fclose(f);
  b[got] = '\0';
  if (len_out)
    *len_out = got;
  return b;
}

/** Append the files <b>srcs</b> (NULL-terminated) into <b>dst</b>. */
static bool
concat_files(const char *dst, const char *const *srcs)
{
  FILE *out = fopen(dst, "wb");
  if (!out)
    return false;
  bool ok = true;
  for (size_t i = 0; srcs[i] && ok; i++) {
    size_t len;
    char *b = slurp_file(srcs[i], &len);
    if (!b) {
      if (errno == ENOENT)
        continue; /* an absent journal is fine */
      ok = false;
      break;
    }
    ok = fwrite(b, 1, len, out) == len;
    chive_free(b);
  }
  return fclose(out) == 0 && ok;
}

/** Split a line into at most <b>max</b> space-separated fields (in
 * place). */
static size_t
split_fields(char *line, char **f, size_t max)
{
  size_t n = 0;
  char *save = NULL;
  for (char *t = strtok_r(line, " ", &save); t && n < max;
       t = strtok_r(NULL, " ", &save))
    f[n++] = t;
  return n;
}

/** Build the DirAuthority lines of the consensus' authorities into
 * <b>out</b>: for each "dir-source NAME V3IDENT HOST IP DIRPORT ORPORT"
 * (dir-spec §3.4.1) the identity of the router entry "r ... IP ORPORT
 * DIRPORT" with the same address and ORPort.  Returns the count. */
static size_t
authority_lines(const char *ns_text, char *out, size_t outlen)
{
  out[0] = '\0';
  size_t used = 0, count = 0;
  const char *p = ns_text;
  while ((p = strstr(p, "\ndir-source ")) != NULL) {
    p++;
    const char *eol = strchr(p, '\n');
    if (!eol)
      break;
    char ds[512];
    size_t l = (size_t)(eol - p);
    if (l >= sizeof(ds)) {
      p = eol;
      continue;
    }
    memcpy(ds, p, l);
    ds[l] = '\0';
    p = eol;
    char *f[8];
    if (split_fields(ds, f, 8) != 7)
      continue;
    /* find "r NICK ID DIGEST DATE TIME IP ORPORT DIRPORT" */
    char rneedle[128];
    bench_fmt(rneedle, sizeof(rneedle), " %s %s %s\n", f[4], f[6], f[5]);
    const char *r = strstr(ns_text, rneedle);
    if (!r)
      continue;
    const char *rs = r;
    while (rs > ns_text && rs[-1] != '\n')
      rs--;
    char rl[512];
    size_t rlen = (size_t)(r - rs);
    if (rlen >= sizeof(rl) || strncmp(rs, "r ", 2) != 0)
      continue;
    memcpy(rl, rs, rlen);
    rl[rlen] = '\0';
    char *rf[8];
    if (split_fields(rl, rf, 8) < 3)
      continue;
    uint8_t id[32];
    size_t idlen = 0;
    if (base64_decode(rf[2], strlen(rf[2]), id, sizeof(id), &idlen) !=
            CHIVE_OK ||
        idlen != 20)
      continue;
    char hex[41];
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < 20; i++) {
      hex[2 * i] = hx[id[i] >> 4];
      hex[2 * i + 1] = hx[id[i] & 15];
    }
    hex[40] = '\0';
    int n = snprintf(out + used, outlen - used,
                     "DirAuthority %s orport=%s no-v2 v3ident=%s %s:%s %s\n",
                     f[1], f[6], f[2], f[4], f[5], hex);
    if (n < 0 || (size_t)n >= outlen - used)
      break;
    used += (size_t)n;
    count++;
  }
  return count;
}

void
bench_fulldir(bctx_t *x, bench_kind_t k)
{
  cres_t *r = &x->res[k];
  char src[BENCH_PATH_MAX];
  bench_fmt(src, sizeof(src), "%s/realnet-A", x->o->shared);
  char p1[BENCH_PATH_MAX + 64], p2[BENCH_PATH_MAX + 64];
  bench_fmt(p1, sizeof(p1), "%s/cached-microdesc-consensus", src);
  struct stat st;
  if (stat(p1, &st) != 0) {
    bench_fmt(r->fd_note, sizeof(r->fd_note),
             "skipped: %s absent (set CHIVE_SHARED_DATA or --shared-data)",
             src);
    bench_say(x, "%s fulldir: %s", bench_kind_name(k), r->fd_note);
    return;
  }
  if (access(FULLDIR_LIBFAKETIME, R_OK) != 0) {
    bench_fmt(r->fd_note, sizeof(r->fd_note),
             "skipped: %s absent (Debian package libfaketime)",
             FULLDIR_LIBFAKETIME);
    bench_say(x, "%s fulldir: %s", bench_kind_name(k), r->fd_note);
    return;
  }
  bench_fmt(p2, sizeof(p2), "%s/cached-consensus", src);
  char *ns = slurp_file(p2, NULL);
  char auth[4096];
  size_t n_auth = ns ? authority_lines(ns, auth, sizeof(auth)) : 0;
  chive_free(ns);
  if (n_auth < 5) {
    bench_fmt(r->fd_note, sizeof(r->fd_note),
             "failed: only %zu authorities found in %s", n_auth, p2);
    bench_say(x, "%s fulldir: %s", bench_kind_name(k), r->fd_note);
    return;
  }
  bclient_t c;
  memset(&c, 0, sizeof(c));
  c.kind = k;
  bench_fmt(c.dir, sizeof(c.dir), "%s/%s-fulldir", x->workdir,
           bench_kind_name(k));
  bench_rmtree(c.dir);
  bench_fmt(c.datadir, sizeof(c.datadir), "%s/data", c.dir);
  bench_fmt(c.torrc, sizeof(c.torrc), "%s/torrc", c.dir);
  bench_fmt(c.logpath, sizeof(c.logpath), "%s/log.txt", c.dir);
  c.socks_port = bench_free_port();
  if (!bench_mkdirs(c.datadir)) {
    bench_fmt(r->fd_note, sizeof(r->fd_note), "cannot create %s", c.datadir);
    return;
  }
  /* the cache files */
  static const char *const plain[] = {"cached-microdesc-consensus",
                                      "cached-certs"};
  bool ok = true;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(plain) && ok; i++) {
    bench_fmt(p1, sizeof(p1), "%s/%s", src, plain[i]);
    bench_fmt(p2, sizeof(p2), "%s/%s", c.datadir, plain[i]);
    const char *const one[] = {p1, NULL};
    ok = concat_files(p2, one);
  }
  char md1[BENCH_PATH_MAX + 64], md2[BENCH_PATH_MAX + 64];
  bench_fmt(md1, sizeof(md1), "%s/cached-microdescs", src);
  bench_fmt(md2, sizeof(md2), "%s/cached-microdescs.new", src);
  if (ok && k == BK_CTOR) {
    const char *const a[] = {md1, NULL}, *const b[] = {md2, NULL};
    bench_fmt(p2, sizeof(p2), "%s/cached-microdescs", c.datadir);
    ok = concat_files(p2, a);
    bench_fmt(p2, sizeof(p2), "%s/cached-microdescs.new", c.datadir);
    ok = ok && concat_files(p2, b);
  } else if (ok) {
    const char *const ab[] = {md1, md2, NULL};
    bench_fmt(p2, sizeof(p2), "%s/cached-microdescs", c.datadir);
    ok = concat_files(p2, ab);
  }
  char text[8192];
  int n = snprintf(text, sizeof(text),
                   "DataDirectory %s\n"
                   "SocksPort 127.0.0.1:%d\n"
                   "Log info stdout\n"
                   "SafeLogging 0\n"
                   "%s%s",
                   c.datadir, c.socks_port, auth,
                   k == BK_CTOR ? "ClientUseIPv6 0\n" : "");
  if (!ok || n < 0 || (size_t)n >= sizeof(text) ||
      !bench_write_file(c.torrc, text)) {
    bench_fmt(r->fd_note, sizeof(r->fd_note), "cannot prepare %s", c.dir);
    return;
  }
  if (k == BK_CTOR) {
    char geo[BENCH_PATH_MAX + 64];
    bench_fmt(geo, sizeof(geo),
             "GeoIPFile %s/empty-torrc\nGeoIPv6File %s/empty-torrc\n"
             "__OwningControllerProcess %d\n",
             x->netdir, x->netdir, (int)getpid());
    FILE *f = fopen(c.torrc, "a");
    if (f) {
      fputs(geo, f);
      fclose(f);
    }
  }
  /* libfaketime preloaded straight into the client (the faketime wrapper
   * would put its own pid between us and the client): the thread-safe
   * build, which tor needs (the plain one aborts tor in a mutex unlock);
   * only the wall clock moves back to 2017, monotonic time stays real,
   * and pthread_cond_timedwait is left alone (with the "monotonic fix"
   * on, tor's worker-thread start-up wait times out and tor aborts in 3
   * of 3 tries; off, 0 of 3). */
  const char *const argv[] = {bench_binary(x, k), "-f", c.torrc, NULL};
  const char *const env[] = {"LD_PRELOAD=" FULLDIR_LIBFAKETIME,
                             "FAKETIME=@" FULLDIR_FAKETIME,
                             "FAKETIME_DONT_FAKE_MONOTONIC=1",
                             "FAKETIME_FORCE_MONOTONIC_FIX=0", NULL};
  bench_say(x, "%s fulldir: loading realnet-A (%zu authorities) at %s",
            bench_kind_name(k), n_auth, FULLDIR_FAKETIME);
  if (!bclient_spawn(&c, argv, env))
    return;
  double t;
  if (!bclient_wait_log(&c, "We now have enough directory information",
                        FULLDIR_TIMEOUT_S, &t)) {
    bench_fmt(r->fd_note, sizeof(r->fd_note),
             "failed: no \"enough directory information\" within %.0f s (%s)",
             FULLDIR_TIMEOUT_S,
             bclient_alive(&c) ? "still running" : "exited");
    bench_say(x, "%s fulldir: %s; log tail:", bench_kind_name(k),
              r->fd_note);
    bclient_log_tail(&c, 15);
    bclient_stop(&c, 10);
    return;
  }
  struct timespec ts = {FULLDIR_SETTLE_S, 0};
  nanosleep(&ts, NULL);
  if (proc_mem(c.pid, &r->fd_mem)) {
    r->fd_ran = true;
    r->fd_load_s = t;
    bench_say(x,
              "%s fulldir: enough directory information after %.2f s; RSS "
              "%.1f MiB, VmHWM %.1f MiB",
              bench_kind_name(k), t, (double)r->fd_mem.rss_kib / 1024.0,
              (double)r->fd_mem.hwm_kib / 1024.0);
  } else {
    bench_fmt(r->fd_note, sizeof(r->fd_note), "process vanished");
  }
  bclient_stop(&c, 10);
}
