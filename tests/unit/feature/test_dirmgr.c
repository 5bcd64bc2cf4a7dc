/* dirmgr driven with real directory documents (../shared/data/realnet-A,
 * see its MANIFEST.md) and a fake clock: a fake "network" answers each
 * request dirmgr_poll() emits from the realnet files.  Every case skips
 * cleanly when the shared data directory is absent. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "feature/dir/dircache.h"
#include "feature/dir/dirmgr.h"
#include "feature/dir/parse/ns_consensus.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/encoding/base64.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"
#include "lib/net/address.h"
#include "tinytest.h"

/* groundtruth.json, bundle "primary". */
#define GT_ROUTERS 6596
#define GT_VALID_AFTER 1509278400 /* 2017-10-29 12:00:00 UTC */
#define GT_FRESH_UNTIL 1509282000 /* 13:00:00 */
#define GT_VALID_UNTIL 1509289200 /* 15:00:00 */
#define GT_MODERN_ROUTERS 8557
#define GT_MODERN_VALID_AFTER 1747519200 /* 2025-05-17 22:00:00 */

#define MAX_POLL 8

/* ------------------------------------------------------------------ */
/* A fake directory network built from the realnet files. */

typedef struct mdref_t {
  uint8_t digest[32];
  size_t off, len;
} mdref_t;

typedef struct world_t {
  char *cons;
  size_t cons_len;
  char *certs;
  size_t certs_len;
  char *md;
  size_t md_len;
  mdref_t *refs;
  size_t n_refs, cap_refs;
  dir_server_t auths[16];
  size_t n_auths;
  /* statistics */
  size_t n_cons_req, n_cert_req, n_md_req, n_md_digests, max_in_flight;
  dir_server_t last_server;
} world_t;

static char *
read_data(const char *rel, size_t *len)
{
  const char *dir = t_shared_data_dir();
  if (!dir)
    return NULL;
  char path[1024];
  snprintf(path, sizeof(path), "%s/realnet-A/%s", dir, rel);
  return (char *)t_read_file(path, len);
}

static bool
ref_chunk(const char *s, size_t len, void *arg)
{
  world_t *w = arg;
  if (w->n_refs == w->cap_refs) {
    size_t cap = w->cap_refs ? w->cap_refs * 2 : 1024;
    mdref_t *p = chive_realloc(w->refs, cap * sizeof(*p));
    if (!p)
      return false;
    w->refs = p;
    w->cap_refs = cap;
  }
  mdref_t *r = &w->refs[w->n_refs++];
  crypto_sha256(s, len, r->digest);
  r->off = (size_t)(s - w->md);
  r->len = len;
  return true;
}

static int
ref_cmp(const void *a, const void *b)
{
  return memcmp(((const mdref_t *)a)->digest, ((const mdref_t *)b)->digest,
                32);
}

static void
world_free(world_t *w)
{
  chive_free(w->cons);
  chive_free(w->certs);
  chive_free(w->md);
  chive_free(w->refs);
  memset(w, 0, sizeof(*w));
}

/** Load the bundle in <b>sub</b> ("" or "modern/"); 0 on failure. */
static int
world_load(world_t *w, const char *sub)
{
  char p[256];
  memset(w, 0, sizeof(*w));
  snprintf(p, sizeof(p), "%scached-microdesc-consensus", sub);
  w->cons = read_data(p, &w->cons_len);
  snprintf(p, sizeof(p), "%scached-certs", sub);
  w->certs = read_data(p, &w->certs_len);
  size_t l1 = 0, l2 = 0;
  snprintf(p, sizeof(p), "%scached-microdescs", sub);
  char *a = read_data(p, &l1);
  snprintf(p, sizeof(p), "%scached-microdescs.new", sub);
  char *b = read_data(p, &l2);
  if (!w->cons || !w->certs || !b) {
    chive_free(a);
    chive_free(b);
    return 0;
  }
  w->md = chive_malloc(l1 + l2 + 1);
  if (a)
    memcpy(w->md, a, l1);
  memcpy(w->md + l1, b, l2);
  w->md_len = l1 + l2;
  chive_free(a);
  chive_free(b);
  (void)dircache_split_mds(w->md, w->md_len, ref_chunk, w);
  qsort(w->refs, w->n_refs, sizeof(*w->refs), ref_cmp);
  /* The authorities: the consensus's own dir-source lines. */
  ns_consensus_t *c = NULL;
  if (ns_consensus_parse(w->cons, w->cons_len, &c) != CHIVE_OK)
    return 0;
  for (size_t i = 0; i < c->n_dirsources && w->n_auths < 16; i++) {
    const ns_dirsource_t *ds = &c->dirsources[i];
    if (ds->is_legacy)
      continue;
    dir_server_t *d = &w->auths[w->n_auths++];
    memset(d, 0, sizeof(*d));
    snprintf(d->nickname, sizeof(d->nickname), "%s", ds->nickname);
    net_addr_from_ipv4(&d->dir_addr.addr, ds->ipv4);
    d->dir_addr.port = ds->dir_port;
    d->or_port = ds->or_port;
    memcpy(d->rsa_id, ds->identity, 20); /* unique per authority */
    d->has_v3ident = true;
    memcpy(d->v3ident, ds->identity, 20);
    d->is_authority = true;
    d->weight = 1.0;
  }
  ns_consensus_free(c);
  return 1;
}

static const mdref_t *
world_find(const world_t *w, const uint8_t d[32])
{
  mdref_t key;
  memcpy(key.digest, d, 32);
  return bsearch(&key, w->refs, w->n_refs, sizeof(*w->refs), ref_cmp);
}

/** Build the body answering "/tor/micro/d/<D1>-<D2>...": the texts of
 * the requested digests we know.  Sets *n_found. */
static char *
world_md_body(const world_t *w, const char *path, size_t *len,
              size_t *n_asked, size_t *n_found)
{
  static const char PFX[] = "/tor/micro/d/";
  *len = *n_asked = *n_found = 0;
  if (strncmp(path, PFX, sizeof(PFX) - 1) != 0)
    return NULL;
  dircache_buf_t b;
  dircache_buf_init(&b, (size_t)64 << 20);
  const char *p = path + sizeof(PFX) - 1;
  while (*p) {
    const char *e = strchr(p, '-');
    size_t n = e ? (size_t)(e - p) : strlen(p);
    uint8_t d[48];
    size_t dl = 0;
    (*n_asked)++;
    if (base64_decode(p, n, d, sizeof(d), &dl) == CHIVE_OK && dl == 32) {
      const mdref_t *r = world_find(w, d);
      if (r && dircache_buf_add(&b, w->md + r->off, r->len) == CHIVE_OK)
        (*n_found)++;
    }
    p += n;
    if (*p == '-')
      p++;
  }
  *len = b.len;
  if (!b.p)
    return chive_malloc(1);
  return b.p;
}

/** Answer <b>r</b> from the world. */
static void
world_serve(world_t *w, dirmgr_t *m, const dirmgr_request_t *r)
{
  w->last_server = r->server;
  switch (r->kind) {
  case DIRDOC_CONSENSUS:
    w->n_cons_req++;
    dirmgr_request_done(m, r->id, 200, (const uint8_t *)w->cons,
                        w->cons_len);
    break;
  case DIRDOC_CERTS:
    w->n_cert_req++;
    dirmgr_request_done(m, r->id, 200, (const uint8_t *)w->certs,
                        w->certs_len);
    break;
  case DIRDOC_MICRODESCS: {
    size_t len, asked, found;
    char *body = world_md_body(w, r->path, &len, &asked, &found);
    w->n_md_req++;
    w->n_md_digests += asked;
    dirmgr_request_done(m, r->id, 200, (const uint8_t *)body, len);
    chive_free(body);
    break;
  }
  }
}

/** Poll and serve until READY (1), or until nothing more happens within
 * an hour of fake time (0). */
static int
drive(world_t *w, dirmgr_t *m, fakeclock_t *fc)
{
  static dirmgr_request_t reqs[MAX_POLL];
  for (int it = 0; it < 20000; it++) {
    size_t n = dirmgr_poll(m, reqs, MAX_POLL);
    if (dirmgr_n_in_flight(m) > w->max_in_flight)
      w->max_in_flight = dirmgr_n_in_flight(m);
    if (!n) {
      if (dirmgr_phase(m) == DIRMGR_READY)
        return 1;
      uint64_t nx = dirmgr_next_poll_ms(m);
      if (nx == UINT64_MAX || nx > 3600u * 1000u)
        return 0;
      fakeclock_advance_ms(fc, nx ? nx : 1);
      continue;
    }
    for (size_t i = 0; i < n; i++)
      world_serve(w, m, &reqs[i]);
  }
  return 0;
}

/* ------------------------------------------------------------------ */
/* Log capture */

typedef struct logcap_t {
  int n_warn, n_notice, n_info;
  char text[16384]; /* notices and warnings, one per line */
  size_t len;
} logcap_t;

static void
cap_cb(chive_log_severity_t sev, const char *domain, const char *msg,
       void *arg)
{
  logcap_t *c = arg;
  (void)domain;
  if (sev == CHIVE_LOG_WARN)
    c->n_warn++;
  else if (sev == CHIVE_LOG_NOTICE)
    c->n_notice++;
  else
    c->n_info++;
  if (sev <= CHIVE_LOG_NOTICE && c->len < sizeof(c->text) - 1) {
    int k = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s: %s\n",
                     sev == CHIVE_LOG_WARN ? "WARN" : "NOTICE", msg);
    if (k > 0)
      c->len += (size_t)k;
    if (c->len > sizeof(c->text) - 1)
      c->len = sizeof(c->text) - 1;
  }
}

static logger_t *
cap_logger(logcap_t *c)
{
  memset(c, 0, sizeof(*c));
  logger_t *lg = logger_new();
  if (lg) {
    logger_set_sink(lg, cap_cb, c);
    logger_set_severity(lg, LD_ALL, CHIVE_LOG_INFO);
  }
  return lg;
}

/* ------------------------------------------------------------------ */

#define NEED_WORLD(w, sub)                                                \
  do {                                                                    \
    if (!t_shared_data_dir())                                             \
      T_SKIP("shared data dir (../shared/data) absent: realnet-A tests " \
             "skipped");                                                  \
    T_ASSERT(world_load((w), (sub)));                                     \
  } while (0)

static void
init_cfg(dirmgr_config_t *cfg, const world_t *w, fakeclock_t *fc,
         logger_t *lg, const char *cache_dir)
{
  memset(cfg, 0, sizeof(*cfg));
  cfg->authorities = w->auths;
  cfg->n_authorities = w->n_auths;
  cfg->clock = fakeclock_clock(fc);
  cfg->log = lg;
  cfg->cache_dir = cache_dir;
}

static double
wall_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static bool
is_auth(const world_t *w, const dir_server_t *s)
{
  for (size_t i = 0; i < w->n_auths; i++)
    if (memcmp(w->auths[i].rsa_id, s->rsa_id, 20) == 0)
      return true;
  return false;
}

static void
test_init(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

/** The whole bootstrap, step by step, with the real 2017 network. */
static void
test_bootstrap_realnet(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  logcap_t lc;
  logger_t *lg = cap_logger(&lc);
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, lg, NULL);
  size_t mem0 = chive_mem_in_use();
  double t0 = wall_ms();
  T_OK(dirmgr_new(&cfg, &m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  T_EQ_UINT(dirmgr_next_poll_ms(m), 0);

  /* 1. One consensus request to an authority, with the 9 fp prefixes. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  T_ASSERT(is_auth(&w, &r[0].server));
  T_EQ_STR(r[0].path, "/tor/status-vote/current/consensus-microdesc/"
                      "0232AF+14C131+23D15D+27102B+49015F+D586D1+E8A9C4+"
                      "ED03BB+EFCBE7");
  T_ASSERT(r[0].max_len >= w.cons_len);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0); /* one at a time */
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.cons, w.cons_len);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  T_ASSERT(dirmgr_consensus(m) == NULL); /* not verified: not committed */

  /* 2. Certificates by fp-sk for the 9 signatures. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  T_ASSERT(strncmp(r[0].path,
                   "/tor/keys/fp-sk/0232AF901C31A04EE9848595AF9BB7620D4C5B2E-"
                   "4F82D69064739702C50C69436997FCB9C29944ED+",
                   16 + 81 + 1) == 0);
  T_EQ_UINT(strlen(r[0].path), 16 + 9 * 81 + 8);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.certs,
                      w.certs_len);
  T_ASSERT(dirmgr_consensus(m) != NULL);
  T_EQ_UINT(dirmgr_consensus(m)->n_routers, GT_ROUTERS);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_MDS);
  size_t have, want;
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, 0);
  T_EQ_UINT(want, GT_ROUTERS);

  /* dir-spec §5.1: next fetch uniformly in [13:45, 13:45 + 7/8 * 75min). */
  int64_t nf = dirmgr_next_consensus_fetch(m);
  T_ASSERT(nf >= GT_FRESH_UNTIL + 45 * 60);
  T_ASSERT(nf < GT_FRESH_UNTIL + 45 * 60 + (75 * 60 * 7) / 8);

  /* 3. Microdescriptors: parallel batches of <= 92 from V2Dir caches. */
  size_t n = dirmgr_poll(m, r, MAX_POLL);
  T_EQ_UINT(n, DIRMGR_MAX_IN_FLIGHT);
  for (size_t i = 0; i < n; i++) {
    T_EQ_INT(r[i].kind, DIRDOC_MICRODESCS);
    T_ASSERT(!is_auth(&w, &r[i].server));
    const ns_routerstatus_t *rs =
        ns_consensus_find_router(dirmgr_consensus(m), r[i].server.rsa_id);
    T_ASSERT(rs && (rs->flags & NS_FLAG_V2DIR));
    T_EQ_UINT(r[i].server.or_port, rs->or_port);
    size_t dashes = 0;
    for (const char *q = r[i].path; *q; q++)
      dashes += *q == '-';
    T_EQ_UINT(dashes + 1, DIRMGR_MAX_MDS_PER_REQUEST);
    world_serve(&w, m, &r[i]);
  }
  T_ASSERT(drive(&w, m, &fc));
  double t1 = wall_ms();
  size_t mem1 = chive_mem_in_use();

  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS);
  T_EQ_UINT(want, GT_ROUTERS);
  T_ASSERT(dirmgr_have_enough_dir_info(m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  /* 2017's required-client-protocols include HSIntro=3, LinkAuth=1,
   * DirCache=1, HSDir=1, which chive does not implement. */
  T_ASSERT(!dirmgr_required_protocols_ok(m));
  T_ASSERT(!dirmgr_can_build_circuits(m));
  T_EQ_INT(lc.n_warn, 1);
  T_ASSERT(strstr(lc.text, "HSIntro=3") && strstr(lc.text, "LinkAuth=1"));
  T_ASSERT(strstr(lc.text, "usable microdescriptors"));
  T_ASSERT(strstr(lc.text, "enough directory information"));
  /* Every md requested exactly once: 72 requests. */
  T_EQ_UINT(w.n_md_digests, GT_ROUTERS);
  T_EQ_UINT(w.n_md_req, (GT_ROUTERS + 91) / 92);
  T_ASSERT(w.max_in_flight <= DIRMGR_MAX_IN_FLIGHT);
  const ns_consensus_t *c = dirmgr_consensus(m);
  for (size_t i = 0; i < c->n_routers; i += 97) {
    const microdesc_t *md = dirmgr_microdesc(m, c->routers[i].digest);
    T_ASSERT(md && memcmp(md->digest, c->routers[i].digest, 32) == 0);
  }
  /* Nothing more to do until the next consensus is due. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  uint64_t nx = dirmgr_next_poll_ms(m);
  T_ASSERT(nx >= (uint64_t)(nf - GT_VALID_AFTER - 1) * 1000u);
  fprintf(stderr,
          "  realnet-A bootstrap: %zu mds in %zu requests, %.0f ms "
          "(parse+verify+store), READY dirmgr holds %zu heap bytes "
          "(dirmgr_bytes %zu; consensus %zu)\n",
          have, w.n_md_req, t1 - t0, mem1 - mem0, dirmgr_bytes(m),
          ns_consensus_bytes(dirmgr_consensus(m)));
  T_EQ_UINT(dirmgr_bytes(m), mem1 - mem0);
  T_ASSERT(mem1 - mem0 < (size_t)8 << 20); /* the full-network target */
  /* Time passes: the consensus fetch comes due. */
  fakeclock_advance_ms(&fc, nx);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  T_ASSERT(!is_auth(&w, &r[0].server)); /* a cache now */
  /* The same consensus again is not newer: a failure, retried later. */
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.cons, w.cons_len);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  T_ASSERT(dirmgr_next_poll_ms(m) >= 1000);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
done:
  dirmgr_free(m);
  logger_free(lg);
  world_free(&w);
}

/** Bootstrap up to the certificate request; return the consensus
 * server. */
static int
to_certs(dirmgr_t *m, const char *cons, size_t len, dir_server_t *srv)
{
  dirmgr_request_t *r = chive_malloc(sizeof(*r));
  int ok = dirmgr_poll(m, r, 1) == 1 && r->kind == DIRDOC_CONSENSUS;
  if (ok) {
    *srv = r->server;
    dirmgr_request_done(m, r->id, 200, (const uint8_t *)cons, len);
  }
  chive_free(r);
  return ok;
}

/** A consensus with one byte flipped in the signed region is rejected
 * once the certificates are in, and re-requested from another server. */
static void
test_tampered_consensus(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  char *bad = NULL;
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, NULL, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  bad = chive_strndup(w.cons, w.cons_len);
  char *p = strstr(bad, "\nw Bandwidth=3020\n");
  T_ASSERT(p);
  p[13] = '4';
  dir_server_t first;
  T_ASSERT(to_certs(m, bad, w.cons_len, &first));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.certs,
                      w.certs_len);
  T_ASSERT(dirmgr_consensus(m) == NULL);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  /* Backoff, then another server. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  uint64_t nx = dirmgr_next_poll_ms(m);
  T_ASSERT(nx >= 1000 && nx <= 2000);
  fakeclock_advance_ms(&fc, nx);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  T_ASSERT(memcmp(r[0].server.rsa_id, first.rsa_id, 20) != 0);
  /* The genuine document now verifies with the certs already held: no
   * second certificate request. */
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.cons, w.cons_len);
  T_ASSERT(dirmgr_consensus(m) != NULL);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_MDS);
done:
  chive_free(bad);
  dirmgr_free(m);
  world_free(&w);
}

/** Only 4 of 9 signatures: rejected at once (no certificate request can
 * make it verify). */
static void
test_too_few_signatures(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  static dirmgr_request_t r[MAX_POLL];
  logcap_t lc;
  logger_t *lg = cap_logger(&lc);
  NEED_WORLD(&w, "");
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, lg, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  /* Cut the document before its 5th directory-signature. */
  const char *q = w.cons;
  for (int i = 0; i < 5 && q; i++) {
    q = strstr(q, "\ndirectory-signature ");
    if (q && i < 4)
      q++;
  }
  T_ASSERT(q);
  size_t cut = (size_t)(q - w.cons) + 1;
  dir_server_t first;
  T_ASSERT(to_certs(m, w.cons, cut, &first));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0); /* backoff, no certs */
  fakeclock_advance_ms(&fc, dirmgr_next_poll_ms(m));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  T_EQ_INT(lc.n_warn, 0);
  dirmgr_request_failed(m, r[0].id, CHIVE_ERR_TIMEOUT);
done:
  dirmgr_free(m);
  logger_free(lg);
  world_free(&w);
}

/** Certificates that do not verify (wrong keys / not valid now, or a
 * damaged signature) are rejected; the consensus waits and certificates
 * are asked from another server. */
static void
test_bad_certs(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  char *modern = NULL, *dam = NULL;
  size_t mlen = 0;
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  modern = read_data("modern/cached-certs", &mlen);
  T_ASSERT(modern);
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, NULL, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  dir_server_t first;
  T_ASSERT(to_certs(m, w.cons, w.cons_len, &first));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  dir_server_t s1 = r[0].server;
  /* 2025 certificates: other keys, and published after "now". */
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)modern, mlen);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  fakeclock_advance_ms(&fc, dirmgr_next_poll_ms(m));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  T_ASSERT(memcmp(r[0].server.rsa_id, s1.rsa_id, 20) != 0);
  /* Now the real ones, with 5 of 9 certification signatures damaged:
   * only 4 certs verify, fewer than the 5 needed. */
  dam = chive_strndup(w.certs, w.certs_len);
  char *p = dam;
  for (int i = 0; i < 5; i++) {
    p = strstr(p, "dir-key-certification\n-----BEGIN SIGNATURE-----\n");
    T_ASSERT(p);
    p += strlen("dir-key-certification\n-----BEGIN SIGNATURE-----\n") + 10;
    *p = *p == 'A' ? 'B' : 'A';
  }
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)dam, w.certs_len);
  T_ASSERT(dirmgr_consensus(m) == NULL);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  /* The next request asks only for the 5 missing ones. */
  fakeclock_advance_ms(&fc, dirmgr_next_poll_ms(m));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  T_EQ_UINT(strlen(r[0].path), 16 + 5 * 81 + 4);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.certs,
                      w.certs_len);
  T_ASSERT(dirmgr_consensus(m) != NULL);
done:
  chive_free(modern);
  chive_free(dam);
  dirmgr_free(m);
  world_free(&w);
}

/** Microdescriptors not asked for (stale ones, or listed but not in this
 * request) are ignored; missing ones are asked again elsewhere. */
static void
test_md_filtering(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  char *body = NULL;
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, NULL, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  dir_server_t first;
  T_ASSERT(to_certs(m, w.cons, w.cons_len, &first));
  T_EQ_UINT(dirmgr_poll(m, r, 1), 1);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.certs,
                      w.certs_len);
  T_ASSERT(dirmgr_consensus(m));
  T_EQ_UINT(dirmgr_poll(m, r, 1), 1);
  T_EQ_INT(r[0].kind, DIRDOC_MICRODESCS);
  /* Answer with the whole md file: 6700 mds, of which 92 were asked. */
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.md, w.md_len);
  size_t have, want;
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, 92);
  /* A partial answer: only the first 50 of 92. */
  T_EQ_UINT(dirmgr_poll(m, r, 1), 1);
  size_t len, asked, found;
  char *cut = strchr(r[0].path + 13, '-');
  for (int i = 1; i < 50 && cut; i++)
    cut = strchr(cut + 1, '-');
  T_ASSERT(cut);
  char *path50 = chive_strdup(r[0].path);
  path50[cut - r[0].path] = 0;
  body = world_md_body(&w, path50, &len, &asked, &found);
  chive_free(path50);
  T_EQ_UINT(found, 50);
  dir_server_t s = r[0].server;
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)body, len);
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, 142);
  /* 404 and failures: the digests come back, with backoff. */
  T_EQ_UINT(dirmgr_poll(m, r, 2), 2);
  T_ASSERT(memcmp(r[0].server.rsa_id, s.rsa_id, 20) != 0);
  dirmgr_request_done(m, r[0].id, 404, NULL, 0);
  dirmgr_request_failed(m, r[1].id, CHIVE_ERR_TIMEOUT);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  T_ASSERT(dirmgr_next_poll_ms(m) > 0);
  T_ASSERT(drive(&w, m, &fc));
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS);
  /* drive() asked for exactly the rest: 42 left out, 2 * 92 failed. */
  T_EQ_UINT(w.n_md_digests, GT_ROUTERS - 142);
done:
  chive_free(body);
  dirmgr_free(m);
  world_free(&w);
}

/** Consensus request failures: retried on other servers with growing,
 * bounded delays (dir-spec §5.5). */
static void
test_failure_backoff(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, NULL, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  uint8_t prev[20];
  uint64_t total = 0, maxd = 0;
  for (int i = 0; i < 12; i++) {
    T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
    T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
    if (i > 0)
      T_ASSERT(memcmp(prev, r[0].server.rsa_id, 20) != 0);
    memcpy(prev, r[0].server.rsa_id, 20);
    dirmgr_request_failed(m, r[0].id, CHIVE_ERR_TIMEOUT);
    T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
    uint64_t d = dirmgr_next_poll_ms(m);
    T_ASSERT(d >= 1000 && d <= 10u * 60u * 1000u);
    if (d > maxd)
      maxd = d;
    total += d;
    fakeclock_advance_ms(&fc, d);
  }
  /* Grows beyond the 1 s floor (decorrelated jitter grows slowly). */
  T_ASSERT(maxd > 2000);
  /* Success resets: the answer is accepted at once. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.cons, w.cons_len);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  T_EQ_UINT(dirmgr_next_poll_ms(m), 0);
  (void)total;
done:
  dirmgr_free(m);
  world_free(&w);
}

/* ------------------------------------------------------------------ */
/* Cache */

static int
rm_cache_dir(const char *dir)
{
  static const char *const names[] = {
      DIRCACHE_CONSENSUS_FILE, DIRCACHE_CERTS_FILE, DIRCACHE_MDS_FILE};
  char p[512];
  for (size_t i = 0; i < 3; i++) {
    snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
    (void)unlink(p);
  }
  return rmdir(dir);
}

static bool
file_mode_is(const char *dir, const char *name, unsigned mode)
{
  char p[512];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  return stat(p, &st) == 0 && (st.st_mode & 0777u) == mode;
}

static bool
file_exists(const char *dir, const char *name)
{
  char p[512];
  struct stat st;
  snprintf(p, sizeof(p), "%s/%s", dir, name);
  return stat(p, &st) == 0;
}

/** Bootstrap into <b>dir</b> and flush; 1 on success. */
static int
fill_cache(world_t *w, const char *dir, fakeclock_t *fc)
{
  dirmgr_t *m = NULL;
  dirmgr_config_t cfg;
  init_cfg(&cfg, w, fc, NULL, dir);
  if (dirmgr_new(&cfg, &m) || dirmgr_load_cache(m))
    return 0;
  int ok = drive(w, m, fc) && dirmgr_flush_cache(m) == CHIVE_OK;
  dirmgr_free(m);
  return ok;
}

static void
test_cache_roundtrip(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  char dir[] = "/tmp/chive-dirmgr-XXXXXX";
  bool made = false;
  logcap_t lc;
  logger_t *lg = cap_logger(&lc);
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  T_ASSERT(mkdtemp(dir) != NULL);
  made = true;
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  T_ASSERT(fill_cache(&w, dir, &fc));
  T_ASSERT(file_mode_is(dir, DIRCACHE_CONSENSUS_FILE, 0600));
  T_ASSERT(file_mode_is(dir, DIRCACHE_CERTS_FILE, 0600));
  T_ASSERT(file_mode_is(dir, DIRCACHE_MDS_FILE, 0600));

  /* Restart: everything from disk, not a single request. */
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, lg, dir);
  size_t mem0 = chive_mem_in_use();
  chive_mem_reset_peak();
  double t0 = wall_ms();
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  double t1 = wall_ms();
  size_t peak = chive_mem_peak() - mem0, held = chive_mem_in_use() - mem0;
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  size_t have, want;
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  T_ASSERT(dirmgr_next_poll_ms(m) > 3600u * 1000u / 2);
  T_ASSERT(strstr(lc.text, "Loaded a consensus"));
  T_EQ_INT(lc.n_warn, 1); /* the 2017 protocol requirement, once */
  fprintf(stderr,
          "  cache load (consensus + 9 certs + 6596 mds): %.0f ms, heap "
          "peak %zu, held %zu bytes\n",
          t1 - t0, peak, held);
  dirmgr_free(m);

  /* 20 h after valid-until: reasonably live, usable, refreshed at once. */
  fakeclock_set_wall(&fc, GT_VALID_UNTIL + 20 * 3600);
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  dirmgr_request_failed(m, r[0].id, CHIVE_ERR_TIMEOUT);
  dirmgr_free(m);

  /* 25 h after: too old; discarded. */
  fakeclock_set_wall(&fc, GT_VALID_UNTIL + 25 * 3600);
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  T_ASSERT(!file_exists(dir, DIRCACHE_CONSENSUS_FILE));
  T_ASSERT(strstr(lc.text, "Discarding the cached consensus"));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  dirmgr_request_failed(m, r[0].id, CHIVE_ERR_TIMEOUT);
done:
  dirmgr_free(m);
  logger_free(lg);
  if (made)
    T_ASSERT(rm_cache_dir(dir) == 0);
  world_free(&w);
}

static int
overwrite(const char *dir, const char *name, const char *s, size_t len)
{
  return dircache_write(dir, name, s, len) == CHIVE_OK;
}

/** Damaged cache files are discarded (consensus, certs) or only their
 * good parts are used (microdescriptors, which are checked by digest). */
static void
test_cache_corrupt(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  char dir[] = "/tmp/chive-dirmgr-XXXXXX";
  bool made = false;
  char *bad = NULL;
  uint8_t *mdf = NULL;
  size_t mdf_len = 0;
  logcap_t lc;
  logger_t *lg = cap_logger(&lc);
  static dirmgr_request_t r[MAX_POLL];
  NEED_WORLD(&w, "");
  T_ASSERT(mkdtemp(dir) != NULL);
  made = true;
  fakeclock_init(&fc, 1000000, GT_VALID_AFTER);
  T_ASSERT(fill_cache(&w, dir, &fc));
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, lg, dir);

  /* (1) Consensus with a flipped byte: fails verification, discarded. */
  bad = chive_strndup(w.cons, w.cons_len);
  char *p = strstr(bad, "\nw Bandwidth=3020\n");
  T_ASSERT(p);
  p[13] = '4';
  T_ASSERT(overwrite(dir, DIRCACHE_CONSENSUS_FILE, bad, w.cons_len));
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  T_ASSERT(!file_exists(dir, DIRCACHE_CONSENSUS_FILE));
  T_ASSERT(strstr(lc.text, "Discarding the cached consensus"));
  T_EQ_INT(lc.n_warn, 0);
  /* Fetch it again: certs and mds come from the cache. */
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CONSENSUS);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.cons, w.cons_len);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
  T_ASSERT(file_exists(dir, DIRCACHE_CONSENSUS_FILE));
  dirmgr_free(m);

  /* (2) Garbage certificate file: discarded, certs fetched again. */
  static const char GARBAGE[] =
      "dir-key-certificate-version 3\nfingerprint XYZ\n";
  T_ASSERT(overwrite(dir, DIRCACHE_CERTS_FILE, GARBAGE, strlen(GARBAGE)));
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_CERTS);
  T_ASSERT(strstr(lc.text, "unusable authority certificates"));
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_CERTS);
  dirmgr_request_done(m, r[0].id, 200, (const uint8_t *)w.certs,
                      w.certs_len);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  dirmgr_free(m);

  /* (3) Damaged microdescriptors: exactly those are fetched again. */
  T_OK(dircache_read(dir, DIRCACHE_MDS_FILE, DIRCACHE_MAX_MDS_LEN, &mdf,
                     &mdf_len));
  size_t n_dam = 0;
  char *q = (char *)mdf;
  while (n_dam < 10 && (q = strstr(q, "\nntor-onion-key ")) != NULL) {
    q += 20;
    *q = *q == 'A' ? 'B' : 'A';
    n_dam++;
  }
  T_EQ_UINT(n_dam, 10);
  T_ASSERT(overwrite(dir, DIRCACHE_MDS_FILE, (const char *)mdf, mdf_len));
  w.n_md_digests = 0;
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  size_t have, want;
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS - 10);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_READY);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 1);
  T_EQ_INT(r[0].kind, DIRDOC_MICRODESCS);
  world_serve(&w, m, &r[0]);
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS);
  T_EQ_UINT(w.n_md_digests, 10);
  /* The round is over: the file was rewritten without the damage. */
  chive_free(mdf);
  mdf = NULL;
  T_OK(dircache_read(dir, DIRCACHE_MDS_FILE, DIRCACHE_MAX_MDS_LEN, &mdf,
                     &mdf_len));
  dirmgr_free(m);
  T_OK(dirmgr_new(&cfg, &m));
  T_OK(dirmgr_load_cache(m));
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, GT_ROUTERS);
  T_EQ_UINT(dirmgr_poll(m, r, MAX_POLL), 0);
done:
  chive_free(bad);
  chive_free(mdf);
  dirmgr_free(m);
  logger_free(lg);
  if (made)
    T_ASSERT(rm_cache_dir(dir) == 0);
  world_free(&w);
}

/** The 2025 consensus: its required protocols are all supported (no
 * WARN); with 11.5 % of the mds there is not enough directory info. */
static void
test_modern_protocols(void)
{
  world_t w;
  memset(&w, 0, sizeof(w));
  dirmgr_t *m = NULL;
  fakeclock_t fc;
  logcap_t lc;
  logger_t *lg = cap_logger(&lc);
  NEED_WORLD(&w, "modern/");
  fakeclock_init(&fc, 1000000, GT_MODERN_VALID_AFTER);
  dirmgr_config_t cfg;
  init_cfg(&cfg, &w, &fc, lg, NULL);
  T_OK(dirmgr_new(&cfg, &m));
  T_ASSERT(!drive(&w, m, &fc)); /* never READY: mds missing */
  T_ASSERT(dirmgr_consensus(m) != NULL);
  T_EQ_UINT(dirmgr_consensus(m)->n_routers, GT_MODERN_ROUTERS);
  T_ASSERT(dirmgr_required_protocols_ok(m));
  T_ASSERT(!dirmgr_have_enough_dir_info(m));
  T_ASSERT(!dirmgr_can_build_circuits(m));
  size_t have, want;
  dirmgr_md_progress(m, &have, &want);
  T_EQ_UINT(have, 982);
  T_EQ_UINT(want, GT_MODERN_ROUTERS);
  T_EQ_INT(lc.n_warn, 0);
  T_ASSERT(strstr(lc.text, "not enough to build a circuit"));
  /* Unobtainable mds are given up after DIRMGR_MD_MAX_FAILS tries
   * each: the number of requests is bounded. */
  T_ASSERT(w.n_md_digests <= (size_t)(GT_MODERN_ROUTERS - 982) * 4 + 982);
  T_EQ_INT(dirmgr_phase(m), DIRMGR_LOADING_MDS);
done:
  dirmgr_free(m);
  logger_free(lg);
  world_free(&w);
}

static void
test_bad_config(void)
{
  dirmgr_t *m = NULL;
  dirmgr_config_t cfg;
  dir_server_t s;
  memset(&cfg, 0, sizeof(cfg));
  memset(&s, 0, sizeof(s));
  T_EQ_INT(dirmgr_new(&cfg, &m), CHIVE_ERR_INVAL);
  cfg.authorities = &s;
  cfg.n_authorities = 1; /* no v3ident */
  T_EQ_INT(dirmgr_new(&cfg, &m), CHIVE_ERR_INVAL);
  s.has_v3ident = true;
  s.or_port = 443;
  T_OK(dirmgr_new(&cfg, &m));
  T_EQ_INT(dirmgr_phase(m), DIRMGR_NEED_CONSENSUS);
  T_ASSERT(!dirmgr_have_enough_dir_info(m));
  T_ASSERT(dirmgr_consensus(m) == NULL);
  T_OK(dirmgr_load_cache(m)); /* no cache dir: nothing */
  /* Unknown ids are ignored. */
  dirmgr_request_done(m, 12345, 200, (const uint8_t *)"x", 1);
  dirmgr_request_failed(m, 12345, CHIVE_ERR_TIMEOUT);
  protover_set_t sup;
  T_OK(protover_parse(dirmgr_supported_protocols(),
                      strlen(dirmgr_supported_protocols()), &sup));
  T_ASSERT(protover_supports(&sup, PROTO_FLOWCTRL, 1));
  T_ASSERT(!protover_supports(&sup, PROTO_LINKAUTH, 1));
done:
  dirmgr_free(m);
}

static const t_case cases[] = {
  T_CASE(test_init),
  T_CASE(test_bad_config),
  T_CASE(test_bootstrap_realnet),
  T_CASE(test_tampered_consensus),
  T_CASE(test_too_few_signatures),
  T_CASE(test_bad_certs),
  T_CASE(test_md_filtering),
  T_CASE(test_failure_backoff),
  T_CASE(test_cache_roundtrip),
  T_CASE(test_cache_corrupt),
  T_CASE(test_modern_protocols),
  T_END,
};

T_MAIN(cases)
