/**
 * @file chive_circtest.c
 * @brief Integration test program: real three-hop circuits through the
 * private network's tor relays, each proven usable end to end.
 *
 *   chive_circtest [--circuits N] [--parallel P]     (CHIVE_TESTNET_DIR set)
 *
 * Bootstraps a chive client from the network's authorities (public API),
 * then, through the client's own directory, node list and path selection
 * (path-spec weights; EnforceDistinctSubnets off because every relay is
 * 127.0.0.1), builds N circuits guard → middle → exit with CREATE2 and
 * EXTEND2 (ntor / ntor-v3), and proves each one by fetching the consensus
 * over a BEGIN_DIR stream to its exit.  Prints build-time percentiles and
 * how often each relay served in each position; fails unless every
 * circuit worked (a few retries allowed) and every relay and every exit
 * of the network was used.
 **/
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/circbuild.h"
#include "app/pool.h"
#include "app/client_st.h"
#include "core/proto/circ_cells.h"
#include "core/stream/stream.h"
#include "feature/nodes/nodelist.h"
#include "feature/nodes/path.h"
#include "lib/crypto/rand.h"
#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"
#include "lib/text/numparse.h"

#define MAX_CIRCUITS 10000
#define MAX_NODES 64

typedef struct run_t run_t;

typedef struct attempt_t {
  run_t *run;
  ocirc_t *oc;
  const node_t *path[3]; /**< valid only during launch_one() */
  uint32_t path_idx[3];   /**< node indexes, kept for the statistics */
  uint64_t build_us;
  size_t got;
  char head[32];
  uint8_t guard[20]; /**< the client's guard for this circuit */
  bool ok;
  bool finished;
} attempt_t;

/* --kill-guard mode: circuits through the client's own guards; kill the
 * guard relay after GK_BEFORE circuits and check that the client moves to
 * another guard and keeps building. */
#define GK_BEFORE 5
#define GK_AFTER 20

struct run_t {
  bool pool_mode;
  int pool_phase; /**< 0: waiting for the pool, 1: waiting after a kill */
  int pool_ticks;
  uint64_t pool_t0_ms;
  bool pool_ok;
  bool kill_guard;
  int gk_phase_ok[2], gk_phase_fail[2];
  uint8_t gk_guard[20];
  bool gk_killed;
  int gk_same_guard_after;
  attempt_t *gk_cur;
  chive_client_t *client;
  struct event_base *base;
  nodelist_t *nl;
  int want, parallel, in_flight, n_ok, n_failed, n_launched;
  uint64_t build_us[MAX_CIRCUITS];
  unsigned use[MAX_NODES][3];
  bool started;
};

static const char *GET =
    "GET /tor/status-vote/current/consensus-microdesc HTTP/1.0\r\n\r\n";

static void launch_more(run_t *r);

static void
on_log(chive_log_severity_t sev, const char *domain, const char *msg,
       void *arg)
{
  (void)arg;
  if (sev <= CHIVE_LOG_NOTICE)
    fprintf(stderr, "[%s] %s: %s\n", chive_log_severity_name(sev), domain,
            msg);
}


static uint64_t
rng_below(void *arg, uint64_t n)
{
  (void)arg;
  return crypto_rand_u64_below(n);
}

static void
attempt_done(attempt_t *a, bool ok)
{
  if (a->finished)
    return;
  a->finished = true;
  run_t *r = a->run;
  r->in_flight--;
  if (ok) {
    r->build_us[r->n_ok++] = a->build_us;
    for (int k = 0; k < 3; k++)
      r->use[a->path_idx[k]][k]++;
  } else {
    r->n_failed++;
  }
  if (a->oc && !ocirc_is_closed(a->oc))
    ocirc_close(a->oc, DESTROY_REASON_FINISHED);
  launch_more(r);
}

static void
st_connected(stream_t *st, const connected_t *info, void *arg)
{
  attempt_t *a = arg;
  size_t n = 0;
  (void)info;
  if (stream_write(st, (const uint8_t *)GET, strlen(GET), &n,
                   circmgr_now_us(a->run->client->circmgr)) != CHIVE_OK ||
      n != strlen(GET))
    attempt_done(a, false);
}

static void
st_data(stream_t *st, const uint8_t *data, size_t len, void *arg)
{
  attempt_t *a = arg;
  (void)st;
  size_t room = sizeof(a->head) - 1 - (a->got < sizeof(a->head) - 1
                                           ? a->got
                                           : sizeof(a->head) - 1);
  if (room)
    memcpy(a->head + a->got, data, len < room ? len : room);
  a->got += len;
}

static void
st_end(stream_t *st, stream_end_source_t source, uint8_t reason,
       const end_t *end, void *arg)
{
  attempt_t *a = arg;
  (void)st;
  (void)reason;
  (void)end;
  bool ok = source == STREAM_END_BY_PEER && a->got > 1000 &&
            !strncmp(a->head, "HTTP/1.0 200", 12);
  attempt_done(a, ok);
}

static void
oc_opened(ocirc_t *oc, void *arg)
{
  attempt_t *a = arg;
  circuit_t *circ = ocirc_circuit(oc);
  stream_t *st;
  stream_owner_t owner;
  memset(&owner, 0, sizeof(owner));
  owner.connected = st_connected;
  owner.data = st_data;
  owner.end = st_end;
  a->build_us = circuit_build_time_us(circ);
  if (stream_open_dir(circ, &owner, a,
                      circmgr_now_us(a->run->client->circmgr),
                      &st) != CHIVE_OK)
    attempt_done(a, false);
}

static void
oc_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  attempt_t *a = arg;
  (void)oc;
  if (!a->finished)
    fprintf(stderr, "circuit failed: %s%s\n", destroy_reason_name(reason),
            remote ? " (remote)" : "");
  a->oc = NULL;
  attempt_done(a, false);
}

static void
launch_one(run_t *r)
{
  static attempt_t attempts[MAX_CIRCUITS + 64];
  if (r->n_launched >= (int)CHIVE_ARRAY_LEN(attempts))
    return;
  attempt_t *a = &attempts[r->n_launched++];
  memset(a, 0, sizeof(*a));
  a->run = r;
  r->nl = r->client->nodelist;
  path_request_t req;
  path_request_init(&req);
  static const uint16_t port = 80;
  req.ports = &port;
  req.n_ports = 1;
  req.enforce_distinct_subnets = false;
  path_rng_t rng = {rng_below, NULL};
  char why[128] = "";
  if (path_choose(r->nl, &req, &rng, a->path, 3, why, sizeof(why)) !=
      CHIVE_OK) {
    fprintf(stderr, "path selection failed: %s\n", why);
    a->finished = true;
    r->n_failed++;
    return;
  }
  circuit_hop_info_t hops[3];
  for (int k = 0; k < 3; k++)
    a->path_idx[k] = a->path[k]->idx;
  for (int k = 0; k < 3; k++)
    if (node_to_hop_info(a->path[k], &hops[k]) != CHIVE_OK) {
      a->finished = true;
      r->n_failed++;
      return;
    }
  channel_target_t t;
  memset(&t, 0, sizeof(t));
  net_addr_from_ipv4(&t.addr.addr, a->path[0]->ipv4);
  t.addr.port = a->path[0]->or_port;
  memcpy(t.rsa_id, hops[0].rsa_id, sizeof(t.rsa_id));
  if (hops[0].has_ed_id) {
    t.has_ed_id = true;
    memcpy(t.ed_id, hops[0].ed_id, sizeof(t.ed_id));
  }
  ocirc_events_t ev = {oc_opened, oc_closed, NULL};
  if (circmgr_launch(r->client->circmgr, &t, false, hops, 3,
                     CIRCUIT_PURPOSE_GENERAL, &ev, a, &a->oc) != CHIVE_OK) {
    a->finished = true;
    r->n_failed++;
    return;
  }
  r->in_flight++;
}

/** True once every relay with a non-zero weight in some position has been
 * used (the issue asks that the run cover the whole network). */
static bool
coverage_done(run_t *r)
{
  r->nl = r->client->nodelist;
  for (size_t i = 0; i < nodelist_size(r->nl); i++) {
    const node_t *n = nodelist_node(r->nl, i);
    const unsigned *u = r->use[n->idx];
    uint64_t w = path_node_weight(r->nl, n, PATH_POS_GUARD) +
                 path_node_weight(r->nl, n, PATH_POS_MIDDLE) +
                 path_node_weight(r->nl, n, PATH_POS_EXIT);
    if (w && u[0] + u[1] + u[2] == 0)
      return false;
    if (w && node_has_flags(n, NS_FLAG_EXIT) && u[2] == 0)
      return false;
  }
  return true;
}

/** Build the requested number of circuits, then keep going (up to
 * MAX_COVERAGE_CIRCUITS) until every relay has served. */
#define MAX_COVERAGE_CIRCUITS 600

static void
launch_more(run_t *r)
{
  for (;;) {
    int target = r->want;
    if (r->n_ok + r->in_flight >= r->want && !coverage_done(r))
      target = MAX_COVERAGE_CIRCUITS;
    if (r->in_flight >= r->parallel || r->n_ok + r->in_flight >= target ||
        r->n_failed > 10)
      break;
    launch_one(r);
  }
  if (r->in_flight == 0)
    event_base_loopexit(r->base, NULL);
}

static void gk_next(run_t *r);

static void
gk_opened(ocirc_t *oc, void *arg)
{
  attempt_t *a = arg;
  run_t *r = a->run;
  (void)oc;
  int ph = r->gk_killed;
  r->gk_phase_ok[ph]++;
  if (!ph)
    memcpy(r->gk_guard, a->guard, 20); /* the guard in use: kill this */
  a->ok = true;
  ocirc_close(a->oc, DESTROY_REASON_FINISHED);
}

static void gk_next_cb(evutil_socket_t fd, short what, void *arg);

/** Launch the next circuit after <b>ms</b> (paced like a user's traffic,
 * not a burst). */
static void
gk_schedule(run_t *r, long ms)
{
  struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
  if (event_base_once(r->base, -1, EV_TIMEOUT, gk_next_cb, r, &tv) != 0)
    event_base_loopexit(r->base, NULL);
}

static void
gk_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  attempt_t *a = arg;
  run_t *r = a->run;
  (void)oc;
  if (!a->ok) {
    r->gk_phase_fail[r->gk_killed]++;
    printf("  circuit failed: %s%s (guard %s)\n", destroy_reason_name(reason),
           remote ? ", remote" : "",
           memcmp(a->guard, r->gk_guard, 20) ? "alive" : "the dead one");
  }
  gk_schedule(r, 250);
}

/** Kill the tor process of the relay with identity <b>id</b>, found
 * through the network's node directories (pid files; the process's
 * command line must name its data directory). */
static bool
kill_relay(const uint8_t id[20])
{
  const char *net = getenv("CHIVE_TESTNET_DIR");
  char hex[41], path[1024];
  for (int i = 0; i < 20; i++)
    snprintf(hex + 2 * i, 3, "%02X", id[i]);
  static const char *const names[] = {"a0", "a1", "a2", "e3", "e4",
                                      "r5", "r6", "r7", "r8", "r9"};
  for (size_t k = 0; k < CHIVE_ARRAY_LEN(names); k++) {
    uint8_t *fp = NULL, *pidtxt = NULL, *cmd = NULL;
    size_t n;
    snprintf(path, sizeof(path), "%s/nodes/%s/fingerprint", net, names[k]);
    if (fs_read_file(path, 4096, &fp, &n) != CHIVE_OK)
      continue;
    bool match = strstr((char *)fp, hex) != NULL;
    chive_free(fp);
    if (!match)
      continue;
    snprintf(path, sizeof(path), "%s/nodes/%s/pid", net, names[k]);
    uint64_t pid = 0;
    if (fs_read_file(path, 64, &pidtxt, &n) != CHIVE_OK)
      return false;
    while (n && (pidtxt[n - 1] == '\n' || pidtxt[n - 1] == ' '))
      n--;
    chive_err_t e = parse_u64((char *)pidtxt, n, 10, 2, 1u << 22, &pid);
    chive_free(pidtxt);
    if (e != CHIVE_OK)
      return false;
    snprintf(path, sizeof(path), "/proc/%llu/cmdline",
             (unsigned long long)pid);
    /* /proc files report size 0, so read them with stdio. */
    static char cmdbuf[8192];
    FILE *f = fopen(path, "rb");
    if (!f)
      return false;
    n = fread(cmdbuf, 1, sizeof(cmdbuf) - 1, f);
    fclose(f);
    for (size_t i = 0; i < n; i++)
      if (!cmdbuf[i])
        cmdbuf[i] = ' ';
    cmdbuf[n] = 0;
    (void)cmd;
    snprintf(path, sizeof(path), "%s/nodes/%s/", net, names[k]);
    match = strstr(cmdbuf, path) != NULL;
    if (!match)
      return false;
    printf("killing guard relay %s (pid %llu)\n", names[k],
           (unsigned long long)pid);
    return kill((pid_t)pid, SIGKILL) == 0;
  }
  return false;
}

static void
gk_next(run_t *r)
{
  static attempt_t gk_attempts[GK_BEFORE + GK_AFTER + 64];
  int done = r->gk_phase_ok[r->gk_killed] + r->gk_phase_fail[r->gk_killed];
  if (!r->gk_killed && done >= GK_BEFORE) {
    if (!kill_relay(r->gk_guard)) {
      printf("FAIL: could not kill the guard relay\n");
      event_base_loopexit(r->base, NULL);
      return;
    }
    r->gk_killed = true;
    /* Give the relays a moment to notice, as real traffic would. */
    gk_schedule(r, 2000);
    return;
  }
  if (r->gk_killed && done >= GK_AFTER) {
    event_base_loopexit(r->base, NULL);
    return;
  }
  if (r->n_launched >= (int)CHIVE_ARRAY_LEN(gk_attempts)) {
    event_base_loopexit(r->base, NULL);
    return;
  }
  attempt_t *a = &gk_attempts[r->n_launched++];
  memset(a, 0, sizeof(*a));
  a->run = r;
  ocirc_events_t ev = {gk_opened, gk_closed, NULL};
  chive_err_t e = circbuild_launch_exit(r->client, 80, &ev, a, &a->oc);
  if (e != CHIVE_OK) {
    printf("  launch failed: %s\n", chive_err_str(e));
    r->gk_phase_fail[r->gk_killed]++;
    gk_schedule(r, 250);
    return;
  }
  const uint8_t *g = r->client->last_guard;
  memcpy(a->guard, g, 20);
  if (r->gk_killed && !memcmp(r->gk_guard, g, 20))
    r->gk_same_guard_after++;
}

static void
gk_next_cb(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  gk_next(arg);
}

/* --pool mode: the client keeps preemptive circuits for its predicted
 * port (80 at start) without being asked; when one dies, it is
 * replaced. */
static void
pool_check(evutil_socket_t fd, short what, void *arg)
{
  run_t *r = arg;
  (void)fd;
  (void)what;
  size_t n = pool_n_open(r->client);
  r->pool_ticks++;
  if (r->pool_phase == 0 && n >= 2) {
    printf("pool: %zu preemptive circuits open after %.1f s; closing one\n",
           n, (double)r->pool_ticks / 10.0);
    if (!pool_close_one(r->client)) {
      event_base_loopexit(r->base, NULL);
      return;
    }
    printf("pool: %zu open after closing one\n", pool_n_open(r->client));
    r->pool_phase = 1;
    r->pool_ticks = 0;
  } else if (r->pool_phase == 1 && n >= 2) {
    printf("pool: replaced, %zu open again after %.1f s\n", n,
           (double)r->pool_ticks / 10.0);
    r->pool_ok = true;
    event_base_loopexit(r->base, NULL);
    return;
  }
  if (r->pool_ticks > 300) {
    printf("FAIL: pool phase %d: only %zu open circuits after 30 s\n",
           r->pool_phase, n);
    event_base_loopexit(r->base, NULL);
    return;
  }
  struct timeval tv = {0, 100000};
  if (event_base_once(r->base, -1, EV_TIMEOUT, pool_check, r, &tv) != 0)
    event_base_loopexit(r->base, NULL);
}

/* Right after the network comes up some relays still advertise
 * bandwidth 0 (before their bandwidth self-test), which gives them
 * weight 0: wait (up to BW_WAIT_S) for a consensus in which every relay
 * has bandwidth, so the run can show that every relay is used. */
#define BW_WAIT_S 90

static void start_circuits(run_t *r);

static void
bw_wait(evutil_socket_t fd, short what, void *arg)
{
  run_t *r = arg;
  (void)fd;
  (void)what;
  /* The client's own node list: rebuilt whenever its directory changes,
   * so it never points at microdescriptors the client dropped. */
  r->nl = r->client->nodelist;
  if (!r->nl) {
    event_base_loopexit(r->base, NULL);
    return;
  }
  size_t zero = 0;
  for (size_t i = 0; i < nodelist_size(r->nl); i++)
    zero += nodelist_node(r->nl, i)->bandwidth == 0;
  r->pool_ticks++;
  if (zero == 0 || r->pool_ticks >= BW_WAIT_S) {
    if (zero)
      printf("after %d s, %zu relays still advertise bandwidth 0\n",
             r->pool_ticks, zero);
    else
      printf("every relay advertises bandwidth (waited %d s)\n",
             r->pool_ticks - 1);
    r->pool_ticks = 0;
    start_circuits(r);
    return;
  }
  struct timeval tv = {1, 0};
  if (event_base_once(r->base, -1, EV_TIMEOUT, bw_wait, r, &tv) != 0)
    event_base_loopexit(r->base, NULL);
}

static void
on_boot(chive_client_t *c, int pct, const char *tag, const char *summary,
        void *arg)
{
  run_t *r = arg;
  (void)c;
  (void)tag;
  (void)summary;
  if (pct < 75 || r->started)
    return;
  r->started = true;
  if (r->kill_guard) {
    gk_next(r);
    return;
  }
  if (r->pool_mode) {
    if (pct < 100) {
      r->started = false; /* wait for the bootstrap circuit */
      return;
    }
    pool_check(-1, 0, r);
    return;
  }
  bw_wait(-1, 0, r);
}

static void
start_circuits(run_t *r)
{
  if (nodelist_size(r->nl) > MAX_NODES) {
    fprintf(stderr, "cannot build the node list\n");
    event_base_loopexit(r->base, NULL);
    return;
  }
  printf("directory ready: %zu relays, %zu usable\n", nodelist_size(r->nl),
         nodelist_n_usable(r->nl));
  launch_more(r);
}

static int
cmp_u64(const void *a, const void *b)
{
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static double
pct_ms(const uint64_t *v, int n, double p)
{
  int i = (int)(p / 100.0 * (n - 1) + 0.5);
  return (double)v[i] / 1000.0;
}

int
main(int argc, char **argv)
{
  static run_t r;
  r.want = 100;
  r.parallel = 4;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--kill-guard")) {
      r.kill_guard = true;
      continue;
    }
    if (!strcmp(argv[i], "--pool")) {
      r.pool_mode = true;
      continue;
    }
    uint64_t v;
    if (i + 1 >= argc ||
        parse_u64(argv[i + 1], strlen(argv[i + 1]), 10, 1, MAX_CIRCUITS,
                  &v) != CHIVE_OK) {
      fprintf(stderr, "usage: %s [--circuits N] [--parallel P] "
                      "[--kill-guard]\n", argv[0]);
      return 2;
    }
    if (!strcmp(argv[i], "--circuits"))
      r.want = (int)v;
    else if (!strcmp(argv[i], "--parallel"))
      r.parallel = (int)v;
    i++;
  }
  const char *net = getenv("CHIVE_TESTNET_DIR");
  if (!net) {
    fprintf(stderr, "CHIVE_TESTNET_DIR is not set\n");
    return 77;
  }
  char path[1024], err[512];
  snprintf(path, sizeof(path), "%s/client/torrc-dirauth", net);
  uint8_t *text = NULL;
  size_t len;
  if (fs_read_file(path, 1 << 20, &text, &len) != CHIVE_OK) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  chive_config_t *cfg = chive_config_new();
  if (!cfg || chive_config_load_text(cfg, (char *)text, len, err,
                                     sizeof(err)) != CHIVE_OK ||
      chive_config_set(cfg, "TestingTorNetwork", "1", err, sizeof(err)) ||
      chive_config_set(cfg, "SocksPort", "0", err, sizeof(err))) {
    fprintf(stderr, "config: %s\n", err);
    return 1;
  }
  chive_free(text);
  chive_config_set_log_cb(cfg, on_log, NULL, CHIVE_LOG_NOTICE);
  r.base = event_base_new();
  if (chive_client_new(cfg, r.base, &r.client, err, sizeof(err)) !=
      CHIVE_OK) {
    fprintf(stderr, "client: %s\n", err);
    return 1;
  }
  chive_config_free(cfg);
  chive_client_set_bootstrap_cb(r.client, on_boot, &r);
  if (chive_client_start(r.client) != CHIVE_OK)
    return 1;
  struct timeval limit = {300, 0};
  event_base_loopexit(r.base, &limit);
  event_base_dispatch(r.base);

  int rv = 0;
  if (r.pool_mode) {
    chive_client_free(r.client);
    event_base_free(r.base);
    printf("%d passed, %d failed\n", r.pool_ok, !r.pool_ok);
    return r.pool_ok ? 0 : 1;
  }
  if (r.kill_guard) {
    printf("before the kill: %d circuits built, %d failed\n",
           r.gk_phase_ok[0], r.gk_phase_fail[0]);
    printf("after the kill:  %d circuits built, %d failed, %d launched "
           "through the dead guard\n",
           r.gk_phase_ok[1], r.gk_phase_fail[1], r.gk_same_guard_after);
    /* The dead relay stays in the consensus until the authorities notice,
     * so circuits that pick it as middle or exit still fail (as with tor);
     * what matters is that the client stops using it as its guard and
     * keeps building. */
    int ok = r.gk_killed && r.gk_phase_ok[0] >= GK_BEFORE - 1 &&
             r.gk_same_guard_after <= 2 && r.gk_phase_ok[1] >= GK_AFTER / 2;
    chive_client_free(r.client);
    event_base_free(r.base);
    printf("%d passed, %d failed\n", ok, !ok);
    return ok ? 0 : 1;
  }
  printf("circuits: %d built and proven, %d failed\n", r.n_ok, r.n_failed);
  if (r.n_ok > 0) {
    qsort(r.build_us, (size_t)r.n_ok, sizeof(uint64_t), cmp_u64);
    printf("build time ms: p50 %.1f  p95 %.1f  p99 %.1f  max %.1f\n",
           pct_ms(r.build_us, r.n_ok, 50), pct_ms(r.build_us, r.n_ok, 95),
           pct_ms(r.build_us, r.n_ok, 99),
           (double)r.build_us[r.n_ok - 1] / 1000.0);
  }
  r.nl = r.client->nodelist;
  if (r.nl) {
    printf("%-20s %6s %6s %6s\n", "relay", "guard", "middle", "exit");
    for (size_t i = 0; i < nodelist_size(r.nl); i++) {
      const node_t *n = nodelist_node(r.nl, i);
      unsigned *u = r.use[n->idx];
      printf("%-20s %6u %6u %6u%s\n", node_nickname(n), u[0], u[1], u[2],
             node_has_flags(n, NS_FLAG_EXIT) ? "  (Exit)" : "");
      uint64_t w = path_node_weight(r.nl, n, PATH_POS_GUARD) +
                   path_node_weight(r.nl, n, PATH_POS_MIDDLE) +
                   path_node_weight(r.nl, n, PATH_POS_EXIT);
      if (!w) {
        printf("  %s has weight 0 in every position (consensus bandwidth "
               "%u): correctly never chosen\n",
               node_nickname(n), (unsigned)n->bandwidth);
        continue;
      }
      if (u[0] + u[1] + u[2] == 0) {
        printf("FAIL: relay %s was never used\n", node_nickname(n));
        rv = 1;
      }
      if (node_has_flags(n, NS_FLAG_EXIT) && u[2] == 0) {
        printf("FAIL: exit %s was never used as an exit\n",
               node_nickname(n));
        rv = 1;
      }
    }
  }
  if (r.n_ok > r.want)
    printf("(%d more circuits were built until every relay had served)\n",
           r.n_ok - r.want);
  if (r.n_ok < r.want || r.n_failed > 5)
    rv = 1;
  chive_client_free(r.client);
  event_base_free(r.base);
  printf("%d passed, %d failed\n", r.n_ok, r.n_failed + (r.n_ok < r.want));
  return rv;
}
