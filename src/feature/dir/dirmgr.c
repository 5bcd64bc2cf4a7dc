/**
 * @file dirmgr.c
 * @brief The directory manager (see dirmgr.h): download scheduling,
 * verify-then-commit of consensus, certificates and microdescriptors,
 * and the on-disk cache.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/dirmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feature/dir/dircache.h"
#include "feature/dir/dirverify.h"
#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/protover.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rand.h"
#include "lib/encoding/base16.h"
#include "lib/encoding/base64.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/time/timefmt.h"

/** The subprotocols chive implements (tor-spec §9), compared with the
 * consensus "required-client-protocols" / "recommended-client-protocols"
 * lines.  Only what a chive client really speaks: no LinkAuth (a client
 * never sends AUTHENTICATE), no Conflux.  FlowCtrl=1 is authenticated
 * SENDMEs (core/circuit). */
#define DIRMGR_SUPPORTED_PROTOCOLS                                         \
  "Cons=1-2 Desc=1-2 DirCache=2 FlowCtrl=1 HSDir=2 HSIntro=4-5 HSRend=1-2 " \
  "Link=4-5 Microdesc=1-2 Padding=2 Relay=2-4"

/** Fraction of paths we must be able to build (tor's
 * PathsNeededToBuildCircuits default). */
#define DIRMGR_MIN_PATH_FRACTION 0.6
/** "Reasonably live": expired less than 24 hours ago (dir-spec §5.1). */
#define DIRMGR_REASONABLY_LIVE_S (24 * 60 * 60)
/** Accept a consensus this early (clock skew; dir-spec §3.4.1 lets
 * caches serve it up to DistSeconds before valid-after). */
#define DIRMGR_EARLY_TOLERANCE_S (10 * 60)
/** Retry delays (dir-spec §5.5 decorrelated jitter): lower bound and
 * cap, ms.  Test networks use shorter ones. */
#define DIRMGR_BACKOFF_MIN_MS 1000u
#define DIRMGR_BACKOFF_CAP_MS (10u * 60u * 1000u)
#define DIRMGR_TESTING_BACKOFF_MIN_MS 200u
#define DIRMGR_TESTING_BACKOFF_CAP_MS (10u * 1000u)
/** Failed attempts per microdescriptor (per consensus) before we stop
 * asking for it until the next consensus. */
#define DIRMGR_MD_MAX_FAILS 4
/** Certificate requests for one consensus before we give it up. */
#define DIRMGR_CERT_MAX_TRIES 4
/** A consensus waits for its certificates at most this long, ms. */
#define DIRMGR_PENDING_MAX_AGE_MS (10u * 60u * 1000u)
/** Microdescriptor texts not yet on disk: write when this much is
 * pending, or DIRMGR_MD_FLUSH_INTERVAL_MS after the last write. */
#define DIRMGR_MD_FLUSH_PENDING_MAX ((size_t)1 << 20)
#define DIRMGR_MD_FLUSH_INTERVAL_MS (60u * 1000u)
/** Slices of the md cache file are parsed this many bytes at a time. */
#define DIRMGR_MD_LOAD_SLICE ((size_t)512 * 1024)
/** Recently failed servers we avoid while there are others. */
#define DIRMGR_AVOID_LEN 8
/** Most authority certificates held. */
#define DIRMGR_MAX_CERTS 64
/** At most one progress NOTICE per this many ms. */
#define DIRMGR_PROGRESS_LOG_MS 5000u
/** Hex digits of each authority fingerprint in a consensus URL (dir-spec
 * appendix B: "Tor uses 3 bytes"). */
#define DIRMGR_CONSENSUS_FP_BYTES 3

typedef struct dlstatus_t {
  uint32_t n_fail;
  uint64_t delay_ms; /**< last delay chosen */
  uint64_t next_ms;  /**< monotonic ms before which we do not retry */
} dlstatus_t;

typedef struct inflight_t {
  uint64_t id;
  dirdoc_t kind;
  uint8_t server_id[20];
  size_t n_digests;
  uint8_t digests[DIRMGR_MAX_MDS_PER_REQUEST][32];
} inflight_t;

/** A stored certificate: keys, signatures and text in one block. */
typedef struct certent_t {
  uint8_t *blob;
  const char *text;
  size_t text_len;
} certent_t;

/** A stored microdescriptor (deep copy in md_arena). */
typedef struct mdent_t {
  microdesc_t md;
  uint32_t gen;  /**< flush generation that last wrote it */
  bool unsaved;  /**< its text is not yet in md_unsaved or on disk */
} mdent_t;

enum { MD_WANT = 0, MD_INFLIGHT, MD_HAVE, MD_GIVEUP };

struct dirmgr_t {
  dir_server_t *auths;
  size_t n_auths;
  dir_server_t *fallbacks;
  size_t n_fallbacks;
  uint8_t (*auth_ids)[20];
  size_t n_auth_ids;
  char *cache_dir;
  logger_t *log;
  const chive_clock_t *clock;
  bool testing;
  double min_path;           /**< PathsNeededToBuildCircuits */
  dirmgr_event_fn on_event;
  void *on_event_arg;
  protover_set_t supported;

  uint64_t next_id;
  inflight_t inflight[DIRMGR_MAX_IN_FLIGHT];
  size_t n_inflight;
  uint8_t avoid[DIRMGR_AVOID_LEN][20];
  size_t n_avoid, avoid_pos;

  /* Committed consensus. */
  ns_consensus_t *cons;
  int64_t next_fetch_wall; /**< 0: fetch as soon as allowed */
  dlstatus_t cons_dl;
  bool cons_inflight;

  /* A parsed consensus waiting for certificates. */
  ns_consensus_t *pending;
  uint8_t *pending_body;
  size_t pending_len;
  bool pending_from_cache;
  bool pending_has_source;
  uint8_t pending_source[20];
  uint64_t pending_since_ms;
  uint32_t cert_tries;
  dlstatus_t cert_dl;
  bool cert_inflight;

  /* Verified certificates. */
  authcert_t certs[DIRMGR_MAX_CERTS];
  certent_t cert_ents[DIRMGR_MAX_CERTS];
  size_t n_certs;
  bool certs_dirty;

  /* Per router entry of cons. */
  uint8_t *md_st;
  uint8_t *md_fails;
  uint32_t *by_digest; /**< router indexes sorted by md digest */
  size_t n_have, n_want;
  dlstatus_t md_dl;

  /* Microdescriptor store, sorted by digest. */
  dirarena_t *md_arena;
  mdent_t **mds;
  size_t n_mds, cap_mds;
  uint32_t flush_gen;
  dircache_buf_t md_unsaved;
  bool md_file_dirty;
  bool md_cache_loaded;
  bool in_load_cache; /**< inside dirmgr_load_cache() */
  uint64_t last_flush_ms;

  bool proto_ok;
  bool rec_warned;
  bool enough;
  int pct_g, pct_m, pct_e, pct_path;
  bool logged_ready;
  ratelim_t progress_rl;
};

/* ------------------------------------------------------------------ */
/* Small helpers */

static uint64_t
now_ms(const dirmgr_t *m)
{
  return clock_mono_ms(m->clock);
}

static int64_t
now_wall(const dirmgr_t *m)
{
  return clock_wall_s(m->clock);
}

static void
fire(dirmgr_t *m, dirmgr_event_t ev)
{
  if (m->on_event)
    m->on_event(ev, m->on_event_arg);
}

static const char *
fmt_time(int64_t t, char *buf, size_t len)
{
  if (time_format_iso(t, buf, len) != CHIVE_OK)
    snprintf(buf, len, "%lld", (long long)t);
  return buf;
}

/** dir-spec §5.5: Delay_{i+1} = MIN(cap, random_between(lower, upper)),
 * upper = MAX(lower + 1, Delay_i * 3), lower = MAX(1, base). */
static void
dl_failed(dirmgr_t *m, dlstatus_t *d)
{
  uint64_t lower = m->testing ? DIRMGR_TESTING_BACKOFF_MIN_MS
                              : DIRMGR_BACKOFF_MIN_MS;
  uint64_t cap = m->testing ? DIRMGR_TESTING_BACKOFF_CAP_MS
                            : DIRMGR_BACKOFF_CAP_MS;
  uint64_t upper = d->delay_ms * 3;
  if (upper < lower + 1)
    upper = lower + 1;
  uint64_t delay = lower + crypto_rand_u64_below(upper - lower);
  if (delay > cap)
    delay = cap;
  d->delay_ms = delay;
  d->next_ms = now_ms(m) + delay;
  d->n_fail++;
}

static void
dl_succeeded(dlstatus_t *d)
{
  memset(d, 0, sizeof(*d));
}

static void
avoid_add(dirmgr_t *m, const uint8_t id[20])
{
  memcpy(m->avoid[m->avoid_pos], id, 20);
  m->avoid_pos = (m->avoid_pos + 1) % DIRMGR_AVOID_LEN;
  if (m->n_avoid < DIRMGR_AVOID_LEN)
    m->n_avoid++;
}

static bool
avoided(const dirmgr_t *m, const uint8_t id[20])
{
  for (size_t i = 0; i < m->n_avoid; i++)
    if (fast_memeq(m->avoid[i], id, 20))
      return true;
  return false;
}

static bool
busy_server(const dirmgr_t *m, const uint8_t id[20])
{
  for (size_t i = 0; i < m->n_inflight; i++)
    if (fast_memeq(m->inflight[i].server_id, id, 20))
      return true;
  return false;
}

static bool
is_configured_auth(const dirmgr_t *m, const uint8_t id[20])
{
  for (size_t i = 0; i < m->n_auth_ids; i++)
    if (fast_memeq(m->auth_ids[i], id, 20))
      return true;
  return false;
}

/** Return true iff <b>c</b> is live or reasonably live at <b>wall</b>. */
static bool
reasonably_live(const ns_consensus_t *c, int64_t wall)
{
  return c && wall <= c->valid_until + DIRMGR_REASONABLY_LIVE_S;
}

/** Remove cache file <b>name</b>, logging a failure. */
static void
cache_remove(const dirmgr_t *m, const char *name)
{
  if (!m->cache_dir)
    return;
  chive_err_t e = dircache_remove(m->cache_dir, name);
  if (e)
    log_info(m->log, LD_DIR | LD_FS, "Could not remove %s: %s.", name,
             chive_err_str(e));
}

/* ------------------------------------------------------------------ */
/* Server selection */

/** Pick a directory cache from the committed consensus: Running, Valid,
 * V2Dir relays with an ORPort, weighted by bandwidth (dir-spec §5.1:
 * "caches randomly chosen from among those believed to be V3 directory
 * servers").  Authorities, busy and recently failed servers are skipped
 * while others exist. */
static bool
pick_cache(const dirmgr_t *m, dir_server_t *out)
{
  const ns_consensus_t *c = m->cons;
  const uint32_t need = NS_FLAG_RUNNING | NS_FLAG_VALID | NS_FLAG_V2DIR;
  for (int pass = 0; pass < 2; pass++) {
    uint64_t total = 0;
    for (size_t i = 0; i < c->n_routers; i++) {
      const ns_routerstatus_t *rs = &c->routers[i];
      if ((rs->flags & need) != need || !rs->or_port || !rs->ipv4)
        continue;
      if (pass == 0 && ((rs->flags & NS_FLAG_AUTHORITY) ||
                        avoided(m, rs->identity) ||
                        busy_server(m, rs->identity)))
        continue;
      total += rs->bandwidth ? rs->bandwidth : 1;
    }
    if (!total)
      continue;
    uint64_t r = crypto_rand_u64_below(total);
    for (size_t i = 0; i < c->n_routers; i++) {
      const ns_routerstatus_t *rs = &c->routers[i];
      if ((rs->flags & need) != need || !rs->or_port || !rs->ipv4)
        continue;
      if (pass == 0 && ((rs->flags & NS_FLAG_AUTHORITY) ||
                        avoided(m, rs->identity) ||
                        busy_server(m, rs->identity)))
        continue;
      uint64_t w = rs->bandwidth ? rs->bandwidth : 1;
      if (r < w) {
        memset(out, 0, sizeof(*out));
        memcpy(out->nickname, rs->nickname, sizeof(rs->nickname));
        net_addr_from_ipv4(&out->dir_addr.addr, rs->ipv4);
        out->dir_addr.port = rs->dir_port;
        out->or_port = rs->or_port;
        memcpy(out->rsa_id, rs->identity, 20);
        out->weight = 1.0;
        return true;
      }
      r -= w;
    }
  }
  return false;
}

/** Pick from <b>list</b> by weight, skipping avoided/busy servers while
 * possible. */
static bool
pick_from_list(const dirmgr_t *m, const dir_server_t *list, size_t n,
               dir_server_t *out)
{
  for (int pass = 0; pass < 2; pass++) {
    double total = 0;
    for (size_t i = 0; i < n; i++) {
      if (!list[i].or_port ||
          (pass == 0 &&
           (avoided(m, list[i].rsa_id) || busy_server(m, list[i].rsa_id))))
        continue;
      total += list[i].weight > 0 ? list[i].weight : 1.0;
    }
    if (total <= 0)
      continue;
    double r = crypto_rand_double() * total;
    const dir_server_t *last = NULL;
    for (size_t i = 0; i < n; i++) {
      if (!list[i].or_port ||
          (pass == 0 &&
           (avoided(m, list[i].rsa_id) || busy_server(m, list[i].rsa_id))))
        continue;
      double w = list[i].weight > 0 ? list[i].weight : 1.0;
      last = &list[i];
      if (r < w)
        break;
      r -= w;
    }
    if (last) {
      *out = *last;
      return true;
    }
  }
  return false;
}

/** Choose whom to ask: a cache from a reasonably live consensus, else
 * (bootstrap, dir-spec §5.1) a fallback when configured and not on a test
 * network, else an authority. */
static bool
pick_server(const dirmgr_t *m, dir_server_t *out)
{
  if (m->cons && reasonably_live(m->cons, now_wall(m)) && pick_cache(m, out))
    return true;
  if (m->n_fallbacks && !m->testing &&
      pick_from_list(m, m->fallbacks, m->n_fallbacks, out))
    return true;
  return pick_from_list(m, m->auths, m->n_auths, out);
}

/* ------------------------------------------------------------------ */
/* Certificates */

static bool
have_cert(const dirmgr_t *m, const uint8_t id[20], const uint8_t skd[20])
{
  for (size_t i = 0; i < m->n_certs; i++)
    if (fast_memeq(m->certs[i].fingerprint, id, 20) &&
        fast_memeq(m->certs[i].signing_key_digest, skd, 20))
      return true;
  return false;
}

static bool
cert_used_by(const authcert_t *ac, const ns_consensus_t *c)
{
  if (!c)
    return false;
  for (size_t i = 0; i < c->n_signatures; i++)
    if (fast_memeq(c->signatures[i].identity, ac->fingerprint, 20) &&
        fast_memeq(c->signatures[i].signing_key_digest,
                   ac->signing_key_digest, 20))
      return true;
  return false;
}

static void
cert_remove(dirmgr_t *m, size_t i)
{
  chive_free(m->cert_ents[i].blob);
  m->n_certs--;
  if (i != m->n_certs) {
    m->certs[i] = m->certs[m->n_certs];
    m->cert_ents[i] = m->cert_ents[m->n_certs];
  }
  m->certs_dirty = true;
}

/** Store a deep copy of verified cert <b>ac</b> with its <b>text</b>. */
static chive_err_t
cert_add(dirmgr_t *m, const authcert_t *ac, const char *text, size_t tlen)
{
  if (m->n_certs == DIRMGR_MAX_CERTS) {
    /* Evict the oldest certificate the current consensus does not use. */
    size_t victim = SIZE_MAX;
    for (size_t i = 0; i < m->n_certs; i++) {
      if (cert_used_by(&m->certs[i], m->cons) ||
          cert_used_by(&m->certs[i], m->pending))
        continue;
      if (victim == SIZE_MAX ||
          m->certs[i].published < m->certs[victim].published)
        victim = i;
    }
    if (victim == SIZE_MAX)
      return CHIVE_ERR_LIMIT;
    cert_remove(m, victim);
  }
  size_t n = ac->identity_key_len + ac->signing_key_len +
             ac->crosscert_len + ac->certification_len + tlen + 1;
  uint8_t *blob = chive_malloc(n);
  if (!blob)
    return CHIVE_ERR_NOMEM;
  authcert_t c = *ac;
  uint8_t *p = blob;
  memcpy(p, ac->identity_key, ac->identity_key_len);
  c.identity_key = p;
  p += ac->identity_key_len;
  memcpy(p, ac->signing_key, ac->signing_key_len);
  c.signing_key = p;
  p += ac->signing_key_len;
  memcpy(p, ac->crosscert, ac->crosscert_len);
  c.crosscert = p;
  p += ac->crosscert_len;
  memcpy(p, ac->certification, ac->certification_len);
  c.certification = p;
  p += ac->certification_len;
  memcpy(p, text, tlen);
  p[tlen] = 0;
  m->certs[m->n_certs] = c;
  m->cert_ents[m->n_certs].blob = blob;
  m->cert_ents[m->n_certs].text = (const char *)p;
  m->cert_ents[m->n_certs].text_len = tlen;
  m->n_certs++;
  m->certs_dirty = true;
  return CHIVE_OK;
}

typedef struct cert_walk_t {
  dirmgr_t *m;
  size_t added, bad, ignored;
  chive_err_t err;
} cert_walk_t;

static bool
cert_chunk(const char *s, size_t len, void *arg)
{
  cert_walk_t *w = arg;
  dirmgr_t *m = w->m;
  authcert_list_t *l = NULL;
  chive_err_t e = authcert_list_parse(s, len, &l);
  if (e == CHIVE_ERR_NOMEM) {
    w->err = e;
    return false;
  }
  if (e || l->n != 1) {
    log_proto(m->log, LD_DIR, "Unparseable authority certificate (%s).",
              chive_err_str(e ? e : CHIVE_ERR_PROTO));
    w->bad++;
    goto done;
  }
  const authcert_t *ac = &l->certs[0];
  if (!is_configured_auth(m, ac->fingerprint)) {
    w->ignored++; /* not one of our authorities: not wanted */
    goto done;
  }
  if (have_cert(m, ac->fingerprint, ac->signing_key_digest))
    goto done;
  e = dirverify_authcert(ac, now_wall(m), DIRVERIFY_DEFAULT_CERT_SKEW);
  if (e) {
    char hex[41];
    if (base16_encode(ac->fingerprint, 20, hex, sizeof(hex), BASE16_UPPER))
      hex[0] = 0;
    log_proto(m->log, LD_DIR, "Rejected a certificate for authority %s: %s.",
              hex, e == CHIVE_ERR_EXPIRED ? "not valid now"
                                          : "signature check failed");
    w->bad++;
    goto done;
  }
  e = cert_add(m, ac, s, len);
  if (e == CHIVE_ERR_NOMEM) {
    w->err = e;
    authcert_list_free(l);
    return false;
  }
  if (!e)
    w->added++;
done:
  authcert_list_free(l);
  return true;
}

/** Parse, check and store every certificate in <b>s</b>. */
static chive_err_t
ingest_certs(dirmgr_t *m, const char *s, size_t len, cert_walk_t *w)
{
  memset(w, 0, sizeof(*w));
  w->m = m;
  (void)dircache_split_certs(s, len, cert_chunk, w);
  return w->err;
}

static void
write_certs_cache(dirmgr_t *m)
{
  if (!m->cache_dir || !m->certs_dirty)
    return;
  dircache_buf_t b;
  dircache_buf_init(&b, DIRCACHE_MAX_CERTS_LEN);
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < m->n_certs && !e; i++)
    e = dircache_buf_add(&b, m->cert_ents[i].text, m->cert_ents[i].text_len);
  if (!e)
    e = dircache_write(m->cache_dir, DIRCACHE_CERTS_FILE, b.p ? b.p : "",
                       b.len);
  if (e)
    log_info(m->log, LD_DIR | LD_FS, "Could not write %s: %s.",
             DIRCACHE_CERTS_FILE, chive_err_str(e));
  else
    m->certs_dirty = false;
  dircache_buf_clear(&b);
}

/** Drop certificates that have expired. */
static void
prune_certs(dirmgr_t *m)
{
  int64_t now = now_wall(m);
  for (size_t i = m->n_certs; i-- > 0;) {
    if (m->certs[i].expires + DIRVERIFY_DEFAULT_CERT_SKEW < now &&
        !cert_used_by(&m->certs[i], m->pending))
      cert_remove(m, i);
  }
}

/** Count configured authorities that signed <b>c</b> with a known
 * algorithm but whose certificate we lack; write up to <b>max</b> of
 * (identity, signing key digest) pairs to <b>out</b>. */
static size_t
missing_certs(const dirmgr_t *m, const ns_consensus_t *c,
              uint8_t (*out)[2][20], size_t max)
{
  size_t n = 0;
  for (size_t a = 0; a < m->n_auth_ids; a++) {
    const ns_signature_t *want = NULL;
    for (size_t i = 0; i < c->n_signatures; i++) {
      const ns_signature_t *sg = &c->signatures[i];
      if (sg->alg == NS_SIG_UNKNOWN ||
          !fast_memeq(sg->identity, m->auth_ids[a], 20))
        continue;
      if (have_cert(m, sg->identity, sg->signing_key_digest)) {
        want = NULL;
        break;
      }
      if (!want)
        want = sg;
    }
    if (!want)
      continue;
    if (out && n < max) {
      memcpy(out[n][0], want->identity, 20);
      memcpy(out[n][1], want->signing_key_digest, 20);
    }
    n++;
  }
  return n;
}

/* ------------------------------------------------------------------ */
/* Microdescriptor store */

static mdent_t *
md_find(const dirmgr_t *m, const uint8_t d[32])
{
  size_t lo = 0, hi = m->n_mds;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = memcmp(m->mds[mid]->md.digest, d, 32);
    if (r == 0)
      return m->mds[mid];
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

/** Deep-copy <b>src</b> into <b>a</b>. */
static mdent_t *
md_copy(dirarena_t *a, const microdesc_t *src)
{
  mdent_t *e = dirarena_alloc(a, sizeof(*e));
  if (!e)
    return NULL;
  e->md = *src;
  if (src->n_family_ids && src->family_ids) {
    void *p = dirarena_memdup(a, src->family_ids,
                              (size_t)src->n_family_ids * 20);
    if (!p)
      return NULL;
    e->md.family_ids = (const uint8_t(*)[20])p;
  }
  if (src->family_names) {
    e->md.family_names =
        dirarena_strndup(a, src->family_names, strlen(src->family_names));
    if (!e->md.family_names)
      return NULL;
  }
  const policy_summary_t *ps[2] = {&src->p, &src->p6};
  policy_summary_t *pd[2] = {&e->md.p, &e->md.p6};
  for (int i = 0; i < 2; i++) {
    if (ps[i]->n_ranges && ps[i]->ranges) {
      pd[i]->ranges = dirarena_memdup(
          a, ps[i]->ranges, (size_t)ps[i]->n_ranges * sizeof(policy_range_t));
      if (!pd[i]->ranges)
        return NULL;
    }
  }
  return e;
}

/** Merge the <b>k</b> new entries at <b>add</b> (sorted, not present)
 * into the store. */
static chive_err_t
md_merge(dirmgr_t *m, mdent_t **add, size_t k)
{
  if (!k)
    return CHIVE_OK;
  if (m->n_mds + k > m->cap_mds) {
    size_t cap = m->cap_mds ? m->cap_mds : 256;
    while (cap < m->n_mds + k)
      cap *= 2;
    mdent_t **p = chive_realloc(m->mds, cap * sizeof(*p));
    if (!p)
      return CHIVE_ERR_NOMEM;
    m->mds = p;
    m->cap_mds = cap;
  }
  size_t i = m->n_mds, j = k, o = m->n_mds + k;
  while (j > 0) {
    if (i > 0 && memcmp(m->mds[i - 1]->md.digest, add[j - 1]->md.digest,
                        32) > 0)
      m->mds[--o] = m->mds[--i];
    else
      m->mds[--o] = add[--j];
  }
  m->n_mds += k;
  return CHIVE_OK;
}

/** First index in by_digest whose router has digest >= <b>d</b>. */
static size_t
digest_lower(const dirmgr_t *m, const uint8_t d[32])
{
  size_t lo = 0, hi = m->cons ? m->cons->n_routers : 0;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (memcmp(m->cons->routers[m->by_digest[mid]].digest, d, 32) < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

static bool
referenced(const dirmgr_t *m, const uint8_t d[32])
{
  if (!m->cons)
    return false;
  size_t i = digest_lower(m, d);
  return i < m->cons->n_routers &&
         fast_memeq(m->cons->routers[m->by_digest[i]].digest, d, 32);
}

static void
set_state(dirmgr_t *m, size_t r, uint8_t st)
{
  uint8_t old = m->md_st[r];
  if (old == st)
    return;
  if (old == MD_HAVE)
    m->n_have--;
  if (old == MD_WANT)
    m->n_want--;
  if (st == MD_HAVE)
    m->n_have++;
  if (st == MD_WANT)
    m->n_want++;
  m->md_st[r] = st;
}

/** Apply <b>fn</b>-like update: set every router with digest <b>d</b>
 * that is in state <b>from</b> (or any state if from < 0) to <b>to</b>;
 * if <b>count_fail</b>, count a failure first (to GIVEUP after
 * DIRMGR_MD_MAX_FAILS). */
static void
mark_digest(dirmgr_t *m, const uint8_t d[32], int from, uint8_t to,
            bool count_fail)
{
  if (!m->cons)
    return;
  for (size_t i = digest_lower(m, d); i < m->cons->n_routers; i++) {
    uint32_t r = m->by_digest[i];
    if (!fast_memeq(m->cons->routers[r].digest, d, 32))
      break;
    if (from >= 0 && m->md_st[r] != from)
      continue;
    uint8_t st = to;
    if (count_fail) {
      if (m->md_fails[r] < UINT8_MAX)
        m->md_fails[r]++;
      if (m->md_fails[r] >= DIRMGR_MD_MAX_FAILS)
        st = MD_GIVEUP;
    }
    set_state(m, r, st);
  }
}

typedef struct md_text_walk_t {
  dirmgr_t *m;
  chive_err_t err;
} md_text_walk_t;

/** Keep the text of newly stored microdescriptors for the disk cache. */
static bool
md_text_chunk(const char *s, size_t len, void *arg)
{
  md_text_walk_t *w = arg;
  uint8_t d[32];
  crypto_sha256(s, len, d);
  mdent_t *e = md_find(w->m, d);
  if (!e || !e->unsaved)
    return true;
  chive_err_t err = dircache_buf_add(&w->m->md_unsaved, s, len);
  if (!err && (len == 0 || s[len - 1] != '\n'))
    err = dircache_buf_add(&w->m->md_unsaved, "\n", 1);
  if (err) {
    w->err = err;
    return false;
  }
  e->unsaved = false;
  return true;
}

/** Parse the microdescriptors in <b>s</b> and store those the consensus
 * references (and, if <b>req</b>, that it asked for).  If
 * <b>keep_text</b>, queue their text for the disk cache. */
static chive_err_t
ingest_mds(dirmgr_t *m, const char *s, size_t len, const inflight_t *req,
           bool keep_text, size_t *n_added, size_t *n_ignored)
{
  *n_added = *n_ignored = 0;
  md_list_t *l = NULL;
  chive_err_t e = md_list_parse(s, len, &l);
  if (e)
    return e;
  mdent_t **add = NULL;
  size_t k = 0;
  if (l->n && !(add = chive_calloc(l->n, sizeof(*add)))) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  if (!m->md_arena && !(m->md_arena = dirarena_new())) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  for (size_t i = 0; i < l->n; i++) {
    const microdesc_t *md = &l->mds[i];
    bool asked = !req;
    for (size_t j = 0; req && j < req->n_digests && !asked; j++)
      asked = fast_memeq(req->digests[j], md->digest, 32);
    if (!asked || !referenced(m, md->digest)) {
      (*n_ignored)++; /* dir-spec §5.2: discard what we did not ask for */
      continue;
    }
    if (md_find(m, md->digest) ||
        (k && fast_memeq(add[k - 1]->md.digest, md->digest, 32)))
      continue;
    mdent_t *ent = md_copy(m->md_arena, md);
    if (!ent) {
      e = CHIVE_ERR_NOMEM;
      goto done;
    }
    ent->unsaved = keep_text;
    add[k++] = ent;
  }
  if ((e = md_merge(m, add, k)))
    goto done;
  for (size_t i = 0; i < k; i++)
    mark_digest(m, add[i]->md.digest, -1, MD_HAVE, false);
  *n_added = k;
  if (keep_text && k) {
    md_text_walk_t w = {m, CHIVE_OK};
    (void)dircache_split_mds(s, len, md_text_chunk, &w);
    if (w.err)
      log_info(m->log, LD_DIR, "Not caching some microdescriptors: %s.",
               chive_err_str(w.err));
  }
done:
  chive_free(add);
  md_list_free(l);
  return e;
}

/** Rebuild the store with only the microdescriptors <b>m->cons</b>
 * references (one fresh arena: no garbage left behind). */
static chive_err_t
md_compact(dirmgr_t *m)
{
  size_t keep = 0;
  for (size_t i = 0; i < m->n_mds; i++)
    keep += referenced(m, m->mds[i]->md.digest);
  if (keep == m->n_mds)
    return CHIVE_OK;
  dirarena_t *a = dirarena_new();
  mdent_t **v = keep ? chive_calloc(keep, sizeof(*v)) : NULL;
  if (!a || (keep && !v)) {
    dirarena_free(a);
    chive_free(v);
    return CHIVE_ERR_NOMEM;
  }
  size_t k = 0;
  for (size_t i = 0; i < m->n_mds; i++) {
    const mdent_t *old = m->mds[i];
    if (!referenced(m, old->md.digest))
      continue;
    mdent_t *e = md_copy(a, &old->md);
    if (!e) {
      dirarena_free(a);
      chive_free(v);
      return CHIVE_ERR_NOMEM;
    }
    e->unsaved = old->unsaved;
    e->gen = old->gen;
    v[k++] = e;
  }
  log_info(m->log, LD_DIR, "Dropped %zu microdescriptors no longer listed.",
           m->n_mds - keep);
  dirarena_free(m->md_arena);
  chive_free(m->mds);
  m->md_arena = a;
  m->mds = v;
  m->n_mds = m->cap_mds = keep;
  m->md_file_dirty = true;
  return CHIVE_OK;
}

typedef struct md_flush_walk_t {
  dirmgr_t *m;
  dircache_buf_t *out;
  chive_err_t err;
  size_t n;
} md_flush_walk_t;

static bool
md_flush_chunk(const char *s, size_t len, void *arg)
{
  md_flush_walk_t *w = arg;
  uint8_t d[32];
  crypto_sha256(s, len, d);
  mdent_t *e = md_find(w->m, d);
  if (!e || e->gen == w->m->flush_gen)
    return true;
  chive_err_t err = dircache_buf_add(w->out, s, len);
  if (!err && (len == 0 || s[len - 1] != '\n'))
    err = dircache_buf_add(w->out, "\n", 1);
  if (err) {
    w->err = err;
    return false;
  }
  e->gen = w->m->flush_gen;
  w->n++;
  return true;
}

/* see dirmgr.h */
chive_err_t
dirmgr_flush_cache(dirmgr_t *m)
{
  if (!m->cache_dir || (!m->md_unsaved.len && !m->md_file_dirty))
    return CHIVE_OK;
  m->flush_gen++;
  if (m->flush_gen == 0)
    m->flush_gen = 1;
  dircache_buf_t out;
  dircache_buf_init(&out, DIRCACHE_MAX_MDS_LEN);
  md_flush_walk_t w = {m, &out, CHIVE_OK, 0};
  uint8_t *old = NULL;
  size_t old_len = 0;
  chive_err_t e = dircache_read(m->cache_dir, DIRCACHE_MDS_FILE,
                                DIRCACHE_MAX_MDS_LEN, &old, &old_len);
  if (e == CHIVE_OK)
    (void)dircache_split_mds((const char *)old, old_len, md_flush_chunk, &w);
  chive_free(old);
  if (!w.err && m->md_unsaved.len)
    (void)dircache_split_mds(m->md_unsaved.p, m->md_unsaved.len,
                             md_flush_chunk, &w);
  e = w.err;
  if (!e)
    e = dircache_write(m->cache_dir, DIRCACHE_MDS_FILE, out.p ? out.p : "",
                       out.len);
  dircache_buf_clear(&out);
  m->last_flush_ms = now_ms(m);
  if (e) {
    log_info(m->log, LD_DIR | LD_FS, "Could not write %s: %s.",
             DIRCACHE_MDS_FILE, chive_err_str(e));
    return e;
  }
  log_debug(m->log, LD_DIR, "Wrote %zu microdescriptors to %s.", w.n,
            DIRCACHE_MDS_FILE);
  dircache_buf_clear(&m->md_unsaved);
  m->md_file_dirty = false;
  return CHIVE_OK;
}

typedef struct md_load_walk_t {
  dirmgr_t *m;
  dircache_buf_t slice;
  size_t loaded, unusable;
  chive_err_t err;
} md_load_walk_t;

static void
md_load_slice(md_load_walk_t *w)
{
  if (!w->slice.len)
    return;
  size_t added = 0, ign = 0;
  chive_err_t e = ingest_mds(w->m, w->slice.p, w->slice.len, NULL, false,
                             &added, &ign);
  if (e == CHIVE_ERR_NOMEM)
    w->err = e;
  else if (e)
    w->unusable++;
  w->loaded += added;
  w->slice.len = 0;
}

static bool
md_load_chunk(const char *s, size_t len, void *arg)
{
  md_load_walk_t *w = arg;
  uint8_t d[32];
  crypto_sha256(s, len, d);
  if (!referenced(w->m, d) || md_find(w->m, d)) {
    w->unusable++;
    return true;
  }
  chive_err_t e = dircache_buf_add(&w->slice, s, len);
  if (!e && (len == 0 || s[len - 1] != '\n'))
    e = dircache_buf_add(&w->slice, "\n", 1);
  if (e) {
    w->err = e;
    return false;
  }
  if (w->slice.len >= DIRMGR_MD_LOAD_SLICE)
    md_load_slice(w);
  return !w->err;
}

/** Load the cached microdescriptors the committed consensus references:
 * only texts whose SHA-256 matches a listed digest are parsed, a slice at
 * a time, so stale or damaged entries cost nothing. */
static void
load_md_cache(dirmgr_t *m)
{
  m->md_cache_loaded = true;
  if (!m->cache_dir || !m->cons)
    return;
  uint8_t *buf = NULL;
  size_t len = 0;
  chive_err_t e = dircache_read(m->cache_dir, DIRCACHE_MDS_FILE,
                                DIRCACHE_MAX_MDS_LEN, &buf, &len);
  if (e == CHIVE_ERR_NOTFOUND)
    return;
  if (e) {
    log_notice(m->log, LD_DIR,
               "Discarding the cached microdescriptors (%s): %s.",
               DIRCACHE_MDS_FILE, chive_err_str(e));
    cache_remove(m, DIRCACHE_MDS_FILE);
    return;
  }
  md_load_walk_t w;
  memset(&w, 0, sizeof(w));
  w.m = m;
  dircache_buf_init(&w.slice, DIRCACHE_MAX_MDS_LEN);
  (void)dircache_split_mds((const char *)buf, len, md_load_chunk, &w);
  if (!w.err)
    md_load_slice(&w);
  dircache_buf_clear(&w.slice);
  chive_free(buf);
  if (w.err)
    log_notice(m->log, LD_DIR, "Could not load all cached microdescriptors:"
               " %s.", chive_err_str(w.err));
  if (w.unusable) {
    /* Stale (no longer listed) or damaged: rewrite the file without. */
    m->md_file_dirty = true;
  }
  log_info(m->log, LD_DIR,
           "Loaded %zu microdescriptors from the cache (%zu entries not "
           "usable).", w.loaded, w.unusable);
}

/* ------------------------------------------------------------------ */
/* Enough directory info */

/** Recompute the path-fraction rule of dirmgr_have_enough_dir_info(). */
static void
update_enough(dirmgr_t *m)
{
  m->enough = false;
  m->pct_g = m->pct_m = m->pct_e = m->pct_path = 0;
  const ns_consensus_t *c = m->cons;
  if (!c)
    return;
  double tot[3] = {0, 0, 0}, have[3] = {0, 0, 0};
  size_t cnt[3] = {0, 0, 0}, n_pos[3] = {0, 0, 0};
  for (size_t i = 0; i < c->n_routers; i++) {
    const ns_routerstatus_t *rs = &c->routers[i];
    if (!(rs->flags & NS_FLAG_RUNNING) || !(rs->flags & NS_FLAG_VALID))
      continue;
    double w = rs->bandwidth ? (double)rs->bandwidth : 1.0;
    bool h = m->md_st[i] == MD_HAVE;
    bool pos[3] = {(rs->flags & NS_FLAG_GUARD) != 0, true,
                   (rs->flags & NS_FLAG_EXIT) &&
                       !(rs->flags & NS_FLAG_BADEXIT)};
    for (int p = 0; p < 3; p++) {
      if (!pos[p])
        continue;
      n_pos[p]++;
      tot[p] += w;
      if (h) {
        have[p] += w;
        cnt[p]++;
      }
    }
  }
  double f[3];
  bool ok = true;
  for (int p = 0; p < 3; p++) {
    /* No guards or no exits listed (a test network): that position
     * does not constrain us. */
    if (!n_pos[p] && p != 1) {
      f[p] = 1.0;
      continue;
    }
    f[p] = tot[p] > 0 ? have[p] / tot[p] : 0.0;
    if (!cnt[p])
      ok = false;
  }
  double path = f[0] * f[1] * f[2];
  m->pct_g = (int)(f[0] * 100);
  m->pct_m = (int)(f[1] * 100);
  m->pct_e = (int)(f[2] * 100);
  m->pct_path = (int)(path * 100);
  m->enough = ok && path >= m->min_path;
}

/** NOTICE the user about microdescriptor progress / readiness. */
static void
log_progress(dirmgr_t *m)
{
  if (!m->cons)
    return;
  if (m->enough) {
    if (!m->logged_ready) {
      m->logged_ready = true;
      log_notice(m->log, LD_DIR,
                 "We now have enough directory information to build "
                 "circuits (%zu of %zu microdescriptors).",
                 m->n_have, m->cons->n_routers);
      fire(m, DIRMGR_EV_PHASE);
    }
    return;
  }
  if (m->logged_ready) {
    m->logged_ready = false;
    fire(m, DIRMGR_EV_PHASE);
  }
  uint64_t supp = 0;
  if (!ratelim_allow(&m->progress_rl, now_ms(m), &supp))
    return;
  log_notice(m->log, LD_DIR,
             "I learned some more directory information, but not enough to "
             "build a circuit: we have only %zu/%zu usable microdescriptors "
             "(%d%% of guard, %d%% of middle and %d%% of exit bandwidth: "
             "%d%% of paths; %d%% needed).",
             m->n_have, m->cons->n_routers, m->pct_g, m->pct_m, m->pct_e,
             m->pct_path, (int)(m->min_path * 100));
}

/* ------------------------------------------------------------------ */
/* Consensus commit */

static int64_t
rand_between(int64_t lo, int64_t hi)
{
  if (hi <= lo)
    return lo;
  return lo + (int64_t)crypto_rand_u64_below((uint64_t)(hi - lo));
}

/** dir-spec §5.1: fetch the next consensus at a time chosen uniformly
 * from [start, end), where start is 3/4 of the way through the first
 * interval after fresh-until (interval = fresh-until - valid-after) and
 * end is 7/8 of the remaining time to valid-until after start.  (VA 1:00,
 * FU 2:00, VU 4:00 gives 2:45 .. 3:50.)  A consensus that is no longer
 * live is replaced at once. */
static void
schedule_next_fetch(dirmgr_t *m)
{
  const ns_consensus_t *c = m->cons;
  int64_t now = now_wall(m);
  if (now >= c->valid_until) {
    m->next_fetch_wall = now;
    return;
  }
  int64_t interval = c->fresh_until - c->valid_after;
  if (interval < 0)
    interval = 0;
  int64_t start = c->fresh_until + interval * 3 / 4;
  if (start > c->valid_until)
    start = c->valid_until;
  int64_t end = start + (c->valid_until - start) * 7 / 8;
  m->next_fetch_wall = rand_between(start, end);
}

static void
check_protocols(dirmgr_t *m)
{
  const ns_consensus_t *c = m->cons;
  char buf[512];
  protover_set_t missing;
  bool was_ok = m->proto_ok;
  m->proto_ok = true;
  if (c->has_req_client_protos &&
      !protover_all_supported(&c->req_client_protos, &m->supported,
                              &missing)) {
    m->proto_ok = false;
    (void)protover_format(&missing, buf, sizeof(buf));
    log_warn(m->log, LD_DIR,
             "The directory authorities require protocols that chive does "
             "not support: %s. chive will not build circuits until it gets "
             "a consensus that does not require them; upgrade chive.",
             buf);
  } else if (c->has_rec_client_protos && !m->rec_warned &&
             !protover_all_supported(&c->rec_client_protos, &m->supported,
                                     &missing)) {
    m->rec_warned = true;
    (void)protover_format(&missing, buf, sizeof(buf));
    log_warn(m->log, LD_DIR,
             "The directory authorities recommend protocols that chive "
             "does not support: %s. Consider upgrading chive.",
             buf);
  }
  if (was_ok != m->proto_ok)
    fire(m, DIRMGR_EV_PHASE);
}

static int
cmp_by_digest_ctx(const ns_consensus_t *c, uint32_t a, uint32_t b)
{
  int r = memcmp(c->routers[a].digest, c->routers[b].digest, 32);
  return r ? r : (a < b ? -1 : a > b);
}

/* qsort has no context argument: sort with a file-local pointer set only
 * for the duration of the call (single-threaded by contract). */
static const ns_consensus_t *sort_ctx_;
static int
cmp_by_digest(const void *a, const void *b)
{
  return cmp_by_digest_ctx(sort_ctx_, *(const uint32_t *)a,
                           *(const uint32_t *)b);
}

static bool
digest_in_flight(const dirmgr_t *m, const uint8_t d[32])
{
  for (size_t i = 0; i < m->n_inflight; i++)
    for (size_t j = 0; j < m->inflight[i].n_digests; j++)
      if (fast_memeq(m->inflight[i].digests[j], d, 32))
        return true;
  return false;
}

/** Make <b>c</b> (verified) the current consensus.  Takes ownership.
 * <b>body</b> is written to the cache unless it came from there. */
static void
commit_consensus(dirmgr_t *m, ns_consensus_t *c, const uint8_t *body,
                 size_t len, bool from_cache)
{
  size_t n = c->n_routers;
  uint8_t *st = chive_zalloc(n ? n : 1);
  uint8_t *fails = chive_zalloc(n ? n : 1);
  uint32_t *idx = chive_calloc(n ? n : 1, sizeof(uint32_t));
  if (!st || !fails || !idx) {
    log_warn(m->log, LD_DIR | LD_MM,
             "Out of memory while installing a new consensus; keeping the "
             "old one.");
    chive_free(st);
    chive_free(fails);
    chive_free(idx);
    ns_consensus_free(c);
    dl_failed(m, &m->cons_dl);
    return;
  }
  for (size_t i = 0; i < n; i++)
    idx[i] = (uint32_t)i;
  sort_ctx_ = c;
  qsort(idx, n, sizeof(*idx), cmp_by_digest);
  sort_ctx_ = NULL;

  bool first = m->cons == NULL;
  ns_consensus_t *old = m->cons;
  m->cons = c;
  chive_free(m->md_st);
  chive_free(m->md_fails);
  chive_free(m->by_digest);
  m->md_st = st;
  m->md_fails = fails;
  m->by_digest = idx;
  m->n_have = 0;
  m->n_want = n; /* every md_st entry starts as MD_WANT */
  ns_consensus_free(old);
  dl_succeeded(&m->md_dl);

  if (md_compact(m))
    log_info(m->log, LD_DIR | LD_MM, "Could not compact the md store.");
  /* A consensus from the network: mds from the cache first (a cached
   * consensus is followed by dirmgr_load_cache() itself, once the
   * consensus text is freed, to keep the peak lower). */
  if (!m->md_cache_loaded && !m->in_load_cache)
    load_md_cache(m);
  for (size_t i = 0; i < n; i++) {
    if (md_find(m, c->routers[i].digest))
      set_state(m, i, MD_HAVE);
    else if (digest_in_flight(m, c->routers[i].digest))
      set_state(m, i, MD_INFLIGHT);
  }
  schedule_next_fetch(m);
  dl_succeeded(&m->cons_dl);
  check_protocols(m);
  prune_certs(m);
  if (m->cache_dir && !from_cache && body) {
    chive_err_t e =
        dircache_write(m->cache_dir, DIRCACHE_CONSENSUS_FILE, body, len);
    if (e)
      log_info(m->log, LD_DIR | LD_FS, "Could not write %s: %s.",
               DIRCACHE_CONSENSUS_FILE, chive_err_str(e));
  }
  write_certs_cache(m);

  char va[32], nf[32];
  int64_t now = now_wall(m);
  if (now > c->valid_until)
    log_notice(m->log, LD_DIR,
               "Using a consensus that expired at %s (less than 24 hours "
               "ago) while fetching a newer one.",
               fmt_time(c->valid_until, va, sizeof(va)));
  if (first && m->in_load_cache)
    log_notice(m->log, LD_DIR,
               "Loaded a consensus valid after %s with %zu relays from the "
               "cache.",
               fmt_time(c->valid_after, va, sizeof(va)), n);
  else if (first)
    log_notice(m->log, LD_DIR,
               "Received a consensus valid after %s with %zu relays; we have "
               "%zu of their microdescriptors.",
               fmt_time(c->valid_after, va, sizeof(va)), n, m->n_have);
  else
    log_info(m->log, LD_DIR,
             "New consensus valid after %s (%zu relays); next fetch at %s.",
             fmt_time(c->valid_after, va, sizeof(va)), n,
             fmt_time(m->next_fetch_wall, nf, sizeof(nf)));
  update_enough(m);
  fire(m, DIRMGR_EV_CONSENSUS);
  if (!m->in_load_cache)
    log_progress(m);
}

typedef enum { PV_COMMITTED, PV_NEED_CERTS, PV_REJECTED } pv_t;

static void
drop_pending(dirmgr_t *m)
{
  ns_consensus_free(m->pending);
  chive_free(m->pending_body);
  m->pending_body = NULL;
  m->pending_len = 0;
  m->pending_from_cache = false;
  m->pending_has_source = false;
  m->cert_tries = 0;
  dl_succeeded(&m->cert_dl);
}

/** Verify the pending consensus with the certificates we hold: commit it,
 * keep waiting for certificates that could make it verify, or reject
 * it (logged). */
static pv_t
try_verify_pending(dirmgr_t *m)
{
  ns_consensus_t *c = m->pending;
  dirverify_opts_t opts;
  dirverify_result_t res;
  dirverify_opts_init(&opts, now_wall(m));
  opts.early_tolerance = DIRMGR_EARLY_TOLERANCE_S;
  opts.late_tolerance = DIRMGR_REASONABLY_LIVE_S;
  chive_err_t e = dirverify_consensus(
      c, m->certs, m->n_certs, (const uint8_t(*)[20])m->auth_ids,
      m->n_auth_ids, &opts, &res);
  if (e == CHIVE_OK) {
    uint8_t *body = m->pending_body;
    size_t len = m->pending_len;
    bool from_cache = m->pending_from_cache;
    m->pending = NULL;
    m->pending_body = NULL;
    drop_pending(m);
    commit_consensus(m, c, body, len, from_cache);
    chive_free(body);
    return PV_COMMITTED;
  }
  size_t missing = missing_certs(m, c, NULL, 0);
  if (e == CHIVE_ERR_CRYPTO && missing &&
      res.n_valid + missing >= res.n_needed &&
      m->cert_tries < DIRMGR_CERT_MAX_TRIES)
    return PV_NEED_CERTS;
  const char *why = e == CHIVE_ERR_EXPIRED ? "it is not live now"
                    : e == CHIVE_ERR_CRYPTO ? "too few valid signatures"
                                            : chive_err_str(e);
  size_t n_bad = 0, n_nocert = 0;
  for (size_t i = 0; i < res.n_auth; i++) {
    n_bad += res.auth[i].status == DIRVERIFY_SIG_BAD ||
             res.auth[i].status == DIRVERIFY_SIG_CERT_INVALID;
    n_nocert += res.auth[i].status == DIRVERIFY_SIG_NO_CERT;
  }
  if (m->pending_from_cache) {
    log_notice(m->log, LD_DIR,
               "Discarding the cached consensus: %s (%zu of %zu authorities "
               "signed it validly, %zu needed).",
               why, res.n_valid, res.n_auth, res.n_needed);
    if (m->cache_dir)
      cache_remove(m, DIRCACHE_CONSENSUS_FILE);
  } else {
    log_proto(m->log, LD_DIR,
              "Rejected a consensus: %s (%zu valid signatures of %zu "
              "authorities, %zu needed; %zu bad, %zu without certificate).",
              why, res.n_valid, res.n_auth, res.n_needed, n_bad, n_nocert);
    if (m->pending_has_source)
      avoid_add(m, m->pending_source);
    dl_failed(m, &m->cons_dl);
  }
  m->pending = NULL;
  ns_consensus_free(c);
  drop_pending(m);
  return PV_REJECTED;
}

/** Parse <b>body</b> as a consensus and make it pending (then try to
 * verify it).  Returns false if it was unusable. */
static bool
accept_consensus_body(dirmgr_t *m, const uint8_t *body, size_t len,
                      bool from_cache, const uint8_t *source)
{
  ns_consensus_t *c = NULL;
  chive_err_t e = ns_consensus_parse((const char *)body, len, &c);
  const char *why = NULL;
  if (e)
    why = chive_err_str(e);
  else if (c->flavor != NS_FLAVOR_MICRODESC)
    why = "not a microdesc consensus";
  else if (m->cons && c->valid_after <= m->cons->valid_after)
    why = "not newer than the one we have";
  if (why) {
    if (from_cache) {
      log_notice(m->log, LD_DIR, "Discarding the cached consensus: %s.", why);
      cache_remove(m, DIRCACHE_CONSENSUS_FILE);
    } else {
      log_proto(m->log, LD_DIR, "Unusable consensus from a directory "
                "server: %s.", why);
    }
    ns_consensus_free(c);
    return false;
  }
  drop_pending(m);
  m->pending = c;
  m->pending_from_cache = from_cache;
  m->pending_since_ms = now_ms(m);
  if (source) {
    m->pending_has_source = true;
    memcpy(m->pending_source, source, 20);
  }
  if (m->cache_dir && !from_cache) {
    m->pending_body = chive_memdup(body, len);
    if (m->pending_body)
      m->pending_len = len;
  }
  pv_t r = try_verify_pending(m);
  if (r == PV_NEED_CERTS) {
    log_info(m->log, LD_DIR,
             "Consensus needs %zu more authority certificates.",
             missing_certs(m, m->pending, NULL, 0));
    fire(m, DIRMGR_EV_PHASE);
  }
  return r != PV_REJECTED;
}

/* ------------------------------------------------------------------ */
/* Construction */

/* see dirmgr.h */
const char *
dirmgr_supported_protocols(void)
{
  return DIRMGR_SUPPORTED_PROTOCOLS;
}

/* see dirmgr.h */
chive_err_t
dirmgr_new(const dirmgr_config_t *cfg, dirmgr_t **out)
{
  if (BUG(!cfg || !out) || !cfg->n_authorities || !cfg->authorities ||
      cfg->n_authorities > DIRVERIFY_MAX_AUTHORITIES ||
      (cfg->n_fallbacks && !cfg->fallbacks))
    return CHIVE_ERR_INVAL;
  dirmgr_t *m = chive_zalloc(sizeof(*m));
  if (!m)
    return CHIVE_ERR_NOMEM;
  chive_err_t e = CHIVE_ERR_NOMEM;
  m->auths = chive_memdup(cfg->authorities,
                          cfg->n_authorities * sizeof(dir_server_t));
  m->auth_ids = chive_calloc(cfg->n_authorities, 20);
  if (!m->auths || !m->auth_ids)
    goto err;
  m->n_auths = cfg->n_authorities;
  for (size_t i = 0; i < m->n_auths; i++)
    if (m->auths[i].has_v3ident)
      memcpy(m->auth_ids[m->n_auth_ids++], m->auths[i].v3ident, 20);
  if (!m->n_auth_ids) {
    e = CHIVE_ERR_INVAL;
    goto err;
  }
  if (cfg->n_fallbacks) {
    m->fallbacks = chive_memdup(cfg->fallbacks,
                                cfg->n_fallbacks * sizeof(dir_server_t));
    if (!m->fallbacks)
      goto err;
    m->n_fallbacks = cfg->n_fallbacks;
  }
  if (cfg->cache_dir && !(m->cache_dir = chive_strdup(cfg->cache_dir)))
    goto err;
  if (protover_parse(DIRMGR_SUPPORTED_PROTOCOLS,
                     strlen(DIRMGR_SUPPORTED_PROTOCOLS), &m->supported)) {
    e = CHIVE_ERR_INTERNAL;
    goto err;
  }
  m->log = cfg->log;
  m->clock = cfg->clock ? cfg->clock : clock_system();
  m->testing = cfg->testing_network;
  m->min_path = cfg->min_path_fraction > 0 && cfg->min_path_fraction <= 1
                    ? cfg->min_path_fraction
                    : DIRMGR_MIN_PATH_FRACTION;
  m->on_event = cfg->on_event;
  m->on_event_arg = cfg->on_event_arg;
  m->proto_ok = true;
  m->next_id = 1;
  ratelim_t rl = RATELIM_INIT(DIRMGR_PROGRESS_LOG_MS);
  m->progress_rl = rl;
  dircache_buf_init(&m->md_unsaved, DIRCACHE_MAX_MDS_LEN);
  m->last_flush_ms = now_ms(m);
  *out = m;
  return CHIVE_OK;
err:
  dirmgr_free_(m);
  return e;
}

/* see dirmgr.h */
void
dirmgr_free_(dirmgr_t *m)
{
  if (!m)
    return;
  chive_free(m->auths);
  chive_free(m->auth_ids);
  chive_free(m->fallbacks);
  chive_free(m->cache_dir);
  ns_consensus_free(m->cons);
  drop_pending(m);
  for (size_t i = 0; i < m->n_certs; i++)
    chive_free(m->cert_ents[i].blob);
  chive_free(m->md_st);
  chive_free(m->md_fails);
  chive_free(m->by_digest);
  dirarena_free(m->md_arena);
  chive_free(m->mds);
  dircache_buf_clear(&m->md_unsaved);
  chive_free(m);
}

/* see dirmgr.h */
chive_err_t
dirmgr_load_cache(dirmgr_t *m)
{
  if (!m->cache_dir)
    return CHIVE_OK;
  chive_err_t e = dircache_prepare_dir(m->cache_dir);
  if (e) {
    log_warn(m->log, LD_DIR | LD_FS,
             "Cannot use the directory cache in \"%s\": %s.", m->cache_dir,
             chive_err_str(e));
    return e;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  /* Certificates first: the consensus needs them. */
  e = dircache_read(m->cache_dir, DIRCACHE_CERTS_FILE,
                    DIRCACHE_MAX_CERTS_LEN, &buf, &len);
  if (e == CHIVE_OK) {
    cert_walk_t w;
    e = ingest_certs(m, (const char *)buf, len, &w);
    chive_free(buf);
    if (e == CHIVE_ERR_NOMEM)
      return e;
    if (w.bad || (!w.added && len)) {
      log_notice(m->log, LD_DIR,
                 "Discarded %zu unusable authority certificates from the "
                 "cache (%s).",
                 w.bad + (w.added ? 0 : w.ignored), DIRCACHE_CERTS_FILE);
      m->certs_dirty = true;
    } else {
      m->certs_dirty = false;
    }
  } else if (e != CHIVE_ERR_NOTFOUND) {
    log_notice(m->log, LD_DIR, "Discarding %s: %s.", DIRCACHE_CERTS_FILE,
               chive_err_str(e));
    cache_remove(m, DIRCACHE_CERTS_FILE);
  }
  e = dircache_read(m->cache_dir, DIRCACHE_CONSENSUS_FILE,
                    DIRCACHE_MAX_CONSENSUS_LEN, &buf, &len);
  if (e == CHIVE_OK) {
    m->in_load_cache = true;
    (void)accept_consensus_body(m, buf, len, true, NULL);
    m->in_load_cache = false;
    chive_free(buf);
    if (m->cons && !m->md_cache_loaded) {
      load_md_cache(m);
      for (size_t i = 0; i < m->cons->n_routers; i++)
        if (md_find(m, m->cons->routers[i].digest))
          set_state(m, i, MD_HAVE);
      update_enough(m);
      log_progress(m);
    }
  } else if (e != CHIVE_ERR_NOTFOUND) {
    log_notice(m->log, LD_DIR, "Discarding %s: %s.", DIRCACHE_CONSENSUS_FILE,
               chive_err_str(e));
    cache_remove(m, DIRCACHE_CONSENSUS_FILE);
  }
  write_certs_cache(m);
  return CHIVE_OK;
}

/* ------------------------------------------------------------------ */
/* Requests */

static size_t
free_slots(const dirmgr_t *m)
{
  return DIRMGR_MAX_IN_FLIGHT - m->n_inflight;
}

/** True iff a consensus download is due now (ignoring backoff). */
static bool
consensus_due(const dirmgr_t *m)
{
  if (m->cons_inflight || m->pending)
    return false;
  return !m->cons || now_wall(m) >= m->next_fetch_wall;
}

static inflight_t *
new_inflight(dirmgr_t *m, dirdoc_t kind, const dir_server_t *srv,
             dirmgr_request_t *req)
{
  inflight_t *f = &m->inflight[m->n_inflight++];
  memset(f, 0, offsetof(inflight_t, digests));
  f->id = m->next_id++;
  f->kind = kind;
  memcpy(f->server_id, srv->rsa_id, 20);
  memset(req, 0, offsetof(dirmgr_request_t, path));
  req->path[0] = 0;
  req->id = f->id;
  req->kind = kind;
  req->server = *srv;
  return f;
}

static bool
launch_consensus(dirmgr_t *m, dirmgr_request_t *req)
{
  dir_server_t srv;
  if (!pick_server(m, &srv))
    return false;
  /* dir-spec appendix B: ".../consensus-microdesc/<F1>+<F2>..." with
   * sorted 3-byte authority fingerprint prefixes: a server only answers
   * with a consensus more than half of them signed. */
  uint8_t (*ids)[20] = m->auth_ids;
  size_t n = m->n_auth_ids;
  uint8_t sorted[DIRVERIFY_MAX_AUTHORITIES][20];
  memcpy(sorted, ids, n * 20);
  for (size_t i = 1; i < n; i++)
    for (size_t j = i; j > 0 && memcmp(sorted[j - 1], sorted[j], 20) > 0;
         j--) {
      uint8_t t[20];
      memcpy(t, sorted[j], 20);
      memcpy(sorted[j], sorted[j - 1], 20);
      memcpy(sorted[j - 1], t, 20);
    }
  inflight_t *f = new_inflight(m, DIRDOC_CONSENSUS, &srv, req);
  (void)f;
  size_t off = (size_t)snprintf(req->path, sizeof(req->path),
                                "/tor/status-vote/current/consensus-microdesc");
  for (size_t i = 0; i < n; i++) {
    char hex[2 * DIRMGR_CONSENSUS_FP_BYTES + 1];
    if (base16_encode(sorted[i], DIRMGR_CONSENSUS_FP_BYTES, hex,
                      sizeof(hex), BASE16_UPPER))
      continue;
    off += (size_t)snprintf(req->path + off, sizeof(req->path) - off, "%c%s",
                            i ? '+' : '/', hex);
  }
  req->max_len = DIRMGR_MAX_CONSENSUS_LEN;
  m->cons_inflight = true;
  log_info(m->log, LD_DIR, "Requesting a consensus from %s.",
           srv.nickname[0] ? srv.nickname : "a directory server");
  return true;
}

static bool
launch_certs(dirmgr_t *m, dirmgr_request_t *req)
{
  uint8_t want[DIRVERIFY_MAX_AUTHORITIES][2][20];
  size_t n = missing_certs(m, m->pending, want, DIRVERIFY_MAX_AUTHORITIES);
  if (!n)
    return false;
  if (n > DIRVERIFY_MAX_AUTHORITIES)
    n = DIRVERIFY_MAX_AUTHORITIES;
  dir_server_t srv;
  if (!pick_server(m, &srv))
    return false;
  (void)new_inflight(m, DIRDOC_CERTS, &srv, req);
  /* dir-spec appendix B: /tor/keys/fp-sk/<F1>-<S1>+<F2>-<S2> */
  size_t off = (size_t)snprintf(req->path, sizeof(req->path),
                                "/tor/keys/fp-sk/");
  for (size_t i = 0; i < n; i++) {
    char f[41], s[41];
    if (base16_encode(want[i][0], 20, f, sizeof(f), BASE16_UPPER) ||
        base16_encode(want[i][1], 20, s, sizeof(s), BASE16_UPPER))
      continue;
    off += (size_t)snprintf(req->path + off, sizeof(req->path) - off,
                            "%s%s-%s", i ? "+" : "", f, s);
  }
  req->max_len = DIRMGR_MAX_CERTS_LEN;
  m->cert_inflight = true;
  m->cert_tries++;
  log_info(m->log, LD_DIR, "Requesting %zu authority certificates.", n);
  return true;
}

static bool
launch_mds(dirmgr_t *m, dirmgr_request_t *req)
{
  const ns_consensus_t *c = m->cons;
  size_t n = c->n_routers;
  if (!m->n_want || !n)
    return false;
  dir_server_t srv;
  if (!pick_server(m, &srv))
    return false;
  inflight_t *f = new_inflight(m, DIRDOC_MICRODESCS, &srv, req);
  size_t start = (size_t)crypto_rand_u64_below(n);
  size_t off = (size_t)snprintf(req->path, sizeof(req->path), "/tor/micro/d/");
  for (size_t k = 0; k < n && f->n_digests < DIRMGR_MAX_MDS_PER_REQUEST;
       k++) {
    size_t r = (start + k) % n;
    if (m->md_st[r] != MD_WANT)
      continue;
    const uint8_t *d = c->routers[r].digest;
    char b64[64];
    if (base64_encode(d, 32, b64, sizeof(b64), BASE64_NOPAD))
      continue;
    memcpy(f->digests[f->n_digests++], d, 32);
    mark_digest(m, d, MD_WANT, MD_INFLIGHT, false);
    /* dir-spec §4.3: unpadded base64 digests separated by '-'. */
    off += (size_t)snprintf(req->path + off, sizeof(req->path) - off, "%s%s",
                            f->n_digests > 1 ? "-" : "", b64);
  }
  req->max_len = DIRMGR_MAX_MDS_BODY_LEN;
  log_debug(m->log, LD_DIR, "Requesting %zu microdescriptors from %s.",
            f->n_digests, srv.nickname);
  return true;
}

static bool
md_request_in_flight(const dirmgr_t *m)
{
  for (size_t i = 0; i < m->n_inflight; i++)
    if (m->inflight[i].kind == DIRDOC_MICRODESCS)
      return true;
  return false;
}

static void
maybe_flush(dirmgr_t *m)
{
  if (!m->cache_dir || (!m->md_unsaved.len && !m->md_file_dirty))
    return;
  bool round_done = m->cons && !m->n_want && !md_request_in_flight(m);
  if (round_done || m->md_unsaved.len >= DIRMGR_MD_FLUSH_PENDING_MAX ||
      now_ms(m) >= m->last_flush_ms + DIRMGR_MD_FLUSH_INTERVAL_MS)
    if (dirmgr_flush_cache(m) != CHIVE_OK)
      m->last_flush_ms = now_ms(m); /* logged; retry later */
}

/* see dirmgr.h */
size_t
dirmgr_poll(dirmgr_t *m, dirmgr_request_t *out, size_t max)
{
  size_t n = 0;
  uint64_t now = now_ms(m);
  maybe_flush(m);
  if (m->pending && !m->cert_inflight &&
      now >= m->pending_since_ms + DIRMGR_PENDING_MAX_AGE_MS) {
    log_info(m->log, LD_DIR, "Gave up waiting for certificates for a "
             "consensus.");
    m->cert_tries = DIRMGR_CERT_MAX_TRIES;
    (void)try_verify_pending(m);
  }
  if (n < max && free_slots(m) && consensus_due(m) &&
      now >= m->cons_dl.next_ms && launch_consensus(m, &out[n]))
    n++;
  if (n < max && free_slots(m) && m->pending && !m->cert_inflight &&
      now >= m->cert_dl.next_ms && launch_certs(m, &out[n]))
    n++;
  while (n < max && free_slots(m) && m->cons && m->n_want &&
         now >= m->md_dl.next_ms && launch_mds(m, &out[n]))
    n++;
  return n;
}

/** Remove in-flight request <b>id</b>, copying it to *<b>f</b>. */
static bool
take_inflight(dirmgr_t *m, uint64_t id, inflight_t *f)
{
  for (size_t i = 0; i < m->n_inflight; i++) {
    if (m->inflight[i].id != id)
      continue;
    *f = m->inflight[i];
    m->n_inflight--;
    if (i != m->n_inflight)
      m->inflight[i] = m->inflight[m->n_inflight];
    if (f->kind == DIRDOC_CONSENSUS)
      m->cons_inflight = false;
    else if (f->kind == DIRDOC_CERTS)
      m->cert_inflight = false;
    return true;
  }
  return false;
}

/** Requested microdescriptors we did not get go back to "wanted" (with a
 * failure counted: dir-spec §5.2). */
static void
md_unfinished(dirmgr_t *m, const inflight_t *f)
{
  for (size_t j = 0; j < f->n_digests; j++)
    mark_digest(m, f->digests[j], MD_INFLIGHT, MD_WANT, true);
}

static void
handle_failure(dirmgr_t *m, const inflight_t *f)
{
  avoid_add(m, f->server_id);
  switch (f->kind) {
  case DIRDOC_CONSENSUS:
    dl_failed(m, &m->cons_dl);
    break;
  case DIRDOC_CERTS:
    dl_failed(m, &m->cert_dl);
    if (m->pending && m->cert_tries >= DIRMGR_CERT_MAX_TRIES)
      (void)try_verify_pending(m);
    break;
  case DIRDOC_MICRODESCS:
    md_unfinished(m, f);
    dl_failed(m, &m->md_dl);
    break;
  }
}

static void
done_consensus(dirmgr_t *m, const inflight_t *f, const uint8_t *body,
               size_t len)
{
  if (len > DIRMGR_MAX_CONSENSUS_LEN) {
    log_proto(m->log, LD_DIR, "Consensus body too long (%zu bytes).", len);
    handle_failure(m, f);
    return;
  }
  if (!accept_consensus_body(m, body, len, false, f->server_id)) {
    if (m->cons_dl.next_ms <= now_ms(m))
      handle_failure(m, f); /* unparseable: not yet counted */
    else
      avoid_add(m, f->server_id);
  }
}

static void
done_certs(dirmgr_t *m, const inflight_t *f, const uint8_t *body,
           size_t len)
{
  cert_walk_t w;
  if (len > DIRMGR_MAX_CERTS_LEN ||
      ingest_certs(m, (const char *)body, len, &w) || !w.added) {
    log_proto(m->log, LD_DIR,
              "No usable authority certificates in a response (%zu "
              "bytes).", len);
    handle_failure(m, f);
    return;
  }
  dl_succeeded(&m->cert_dl);
  log_info(m->log, LD_DIR, "Got %zu authority certificates (%zu rejected).",
           w.added, w.bad);
  if (m->pending) {
    pv_t r = try_verify_pending(m);
    if (r == PV_NEED_CERTS)
      dl_failed(m, &m->cert_dl); /* still missing some: ask elsewhere */
  } else {
    write_certs_cache(m);
  }
}

static void
done_mds(dirmgr_t *m, const inflight_t *f, const uint8_t *body, size_t len)
{
  size_t added = 0, ignored = 0;
  chive_err_t e = CHIVE_ERR_LIMIT;
  if (len <= DIRMGR_MAX_MDS_BODY_LEN && m->cons)
    e = ingest_mds(m, (const char *)body, len, f, m->cache_dir != NULL,
                   &added, &ignored);
  if (e)
    log_proto(m->log, LD_DIR, "Unusable microdescriptor response: %s.",
              chive_err_str(e));
  else if (ignored)
    log_proto(m->log, LD_DIR,
              "Ignored %zu microdescriptors we did not ask for.", ignored);
  if (!added) {
    handle_failure(m, f);
  } else {
    md_unfinished(m, f); /* the ones missing from the answer */
    dl_succeeded(&m->md_dl);
    update_enough(m);
    fire(m, DIRMGR_EV_MICRODESCS);
    log_progress(m);
  }
  maybe_flush(m);
}

/* see dirmgr.h */
void
dirmgr_request_done(dirmgr_t *m, uint64_t id, int http_status,
                    const uint8_t *body, size_t len)
{
  inflight_t f;
  if (!take_inflight(m, id, &f)) {
    log_info(m->log, LD_DIR, "Answer to unknown directory request %llu.",
             (unsigned long long)id);
    return;
  }
  if (http_status != 200 || !body || !len) {
    log_info(m->log, LD_DIR, "Directory request %llu failed: HTTP %d.",
             (unsigned long long)id, http_status);
    handle_failure(m, &f);
    return;
  }
  switch (f.kind) {
  case DIRDOC_CONSENSUS:
    done_consensus(m, &f, body, len);
    break;
  case DIRDOC_CERTS:
    done_certs(m, &f, body, len);
    break;
  case DIRDOC_MICRODESCS:
    done_mds(m, &f, body, len);
    break;
  }
}

/* see dirmgr.h */
void
dirmgr_request_failed(dirmgr_t *m, uint64_t id, chive_err_t why)
{
  inflight_t f;
  if (!take_inflight(m, id, &f))
    return;
  log_info(m->log, LD_DIR, "Directory request %llu failed: %s.",
           (unsigned long long)id, chive_err_str(why));
  handle_failure(m, &f);
}

/* see dirmgr.h */
uint64_t
dirmgr_next_poll_ms(const dirmgr_t *m)
{
  uint64_t now = now_ms(m), at = UINT64_MAX;
#define AT(t)                 \
  do {                        \
    uint64_t t_ = (t);        \
    if (t_ < at)              \
      at = t_;                \
  } while (0)
  if (m->cache_dir && (m->md_unsaved.len || m->md_file_dirty))
    AT(m->last_flush_ms + DIRMGR_MD_FLUSH_INTERVAL_MS);
  if (m->pending && !m->cert_inflight)
    AT(m->pending_since_ms + DIRMGR_PENDING_MAX_AGE_MS);
  if (free_slots(m)) {
    if (!m->cons_inflight && !m->pending) {
      uint64_t t = m->cons_dl.next_ms;
      if (m->cons) {
        int64_t dw = m->next_fetch_wall - now_wall(m);
        uint64_t tw = dw > 0 ? now + (uint64_t)dw * 1000u : now;
        if (tw > t)
          t = tw;
      }
      AT(t);
    }
    if (m->pending && !m->cert_inflight)
      AT(m->cert_dl.next_ms);
    if (m->cons && m->n_want)
      AT(m->md_dl.next_ms);
  }
#undef AT
  if (at == UINT64_MAX)
    return UINT64_MAX;
  return at > now ? at - now : 0;
}

/* see dirmgr.h */
dirmgr_phase_t
dirmgr_phase(const dirmgr_t *m)
{
  if (m->cons && reasonably_live(m->cons, now_wall(m)))
    return m->enough ? DIRMGR_READY : DIRMGR_LOADING_MDS;
  return m->pending ? DIRMGR_LOADING_CERTS : DIRMGR_NEED_CONSENSUS;
}

/* see dirmgr.h */
bool
dirmgr_have_enough_dir_info(const dirmgr_t *m)
{
  return dirmgr_phase(m) == DIRMGR_READY;
}

/* see dirmgr.h */
bool
dirmgr_can_build_circuits(const dirmgr_t *m)
{
  return dirmgr_have_enough_dir_info(m) && m->proto_ok;
}

/* see dirmgr.h */
bool
dirmgr_required_protocols_ok(const dirmgr_t *m)
{
  return m->proto_ok;
}

/* see dirmgr.h */
void
dirmgr_md_progress(const dirmgr_t *m, size_t *have, size_t *want)
{
  *have = m->cons ? m->n_have : 0;
  *want = m->cons ? m->cons->n_routers : 0;
}

/* see dirmgr.h */
const ns_consensus_t *
dirmgr_consensus(const dirmgr_t *m)
{
  return m->cons;
}

/* see dirmgr.h */
const microdesc_t *
dirmgr_microdesc(const dirmgr_t *m, const uint8_t digest[32])
{
  const mdent_t *e = md_find(m, digest);
  return e ? &e->md : NULL;
}

/* see dirmgr.h */
size_t
dirmgr_n_in_flight(const dirmgr_t *m)
{
  return m->n_inflight;
}

/* see dirmgr.h */
int64_t
dirmgr_next_consensus_fetch(const dirmgr_t *m)
{
  return m->cons ? m->next_fetch_wall : 0;
}

/* see dirmgr.h */
size_t
dirmgr_bytes(const dirmgr_t *m)
{
  size_t n = sizeof(*m);
  n += m->n_auths * sizeof(dir_server_t) + m->n_auths * 20;
  n += m->n_fallbacks * sizeof(dir_server_t);
  if (m->cons)
    n += ns_consensus_bytes(m->cons) + m->cons->n_routers * (1 + 1 + 4);
  if (m->pending)
    n += ns_consensus_bytes(m->pending) + m->pending_len;
  for (size_t i = 0; i < m->n_certs; i++)
    n += m->certs[i].identity_key_len + m->certs[i].signing_key_len +
         m->certs[i].crosscert_len + m->certs[i].certification_len +
         m->cert_ents[i].text_len + 1;
  if (m->md_arena)
    n += dirarena_bytes(m->md_arena);
  n += m->cap_mds * sizeof(mdent_t *);
  n += m->md_unsaved.cap;
  return n;
}
