/**
 * @file circpool.c
 * @brief The circuit pool policy (path-spec §2.1, §3): records of the
 * owner's circuits, predicted ports, isolation sub-pools, and the
 * launch / attach / close decisions.
 *
 * Pure policy: no I/O, no clock, no logging.  The only allocation is the
 * record array (max_total entries) at creation or when max_total grows.
 * Isolation keys may be derived from SOCKS credentials, so they are
 * wiped when forgotten and when the pool is freed.  Records are kept in
 * launch order; every scan is linear in the number of records
 * (<= CIRCPOOL_MAX_TOTAL_LIMIT).
 **/
#include "lib/cc/compat.h"

#include "feature/circpool/circpool.h"

#include <string.h>

#define MS_PER_S 1000u

/** One circuit the owner registered. */
typedef struct circ_rec_t {
  void *handle; /**< Owner's; never dereferenced. */
  circpool_state_t state;
  bool dirty;   /**< Has carried a stream. */
  bool has_iso; /**< iso[] holds the reserved/adopted key. */
  bool retired; /**< No new streams (circpool_retire()); counts as
                 * expired. */
  uint8_t iso_len;
  uint32_t n_streams;
  uint64_t created_ms;
  uint64_t dirty_since_ms;
  uint8_t iso[CIRCPOOL_ISO_KEY_MAX_LEN];
} circ_rec_t;

/** A predicted port and when it was last used. */
typedef struct port_pred_t {
  uint16_t port;
  uint64_t last_ms;
} port_pred_t;

/** An isolation key seen recently (per-isolation sub-pools). */
typedef struct iso_ent_t {
  uint8_t len;
  uint16_t port; /**< Last port the key used (0: none). */
  uint64_t last_ms;
  uint8_t key[CIRCPOOL_ISO_KEY_MAX_LEN];
} iso_ent_t;

struct circpool_t {
  circpool_strategy_t strat;
  circpool_exit_allows_fn exit_allows;
  void *exit_arg;
  circ_rec_t *recs; /**< n_recs used of cap. */
  size_t n_recs;
  size_t cap;
  port_pred_t ports[CIRCPOOL_MAX_PREDICTED_PORTS];
  size_t n_ports;
  iso_ent_t isos[CIRCPOOL_MAX_ISO_KEYS];
  size_t n_isos;
  uint64_t fail_ms[CIRCPOOL_FAIL_LIMIT_MAX]; /**< Ring of failure times. */
  size_t fail_next;
  size_t n_fail; /**< Valid ring entries, <= CIRCPOOL_FAIL_LIMIT_MAX. */
  uint64_t n_launch_requests;
  uint64_t n_launched;
  uint64_t n_opened;
  uint64_t n_failed;
  uint64_t n_closed;
  uint64_t n_streams_attached;
  uint64_t n_close_requests;
};

/** Milliseconds from <b>then</b> to <b>now</b>; 0 if the clock went
 * backwards. */
static uint64_t
elapsed_ms(uint64_t now, uint64_t then)
{
  return now > then ? now - then : 0;
}

static uint64_t
s_to_ms(uint32_t s)
{
  return (uint64_t)s * MS_PER_S;
}

/* see circpool.h */
void
circpool_strategy_default(circpool_strategy_t *out)
{
  memset(out, 0, sizeof(*out));
  out->min_clean = CIRCPOOL_DEFAULT_MIN_CLEAN;
  out->max_clean = CIRCPOOL_DEFAULT_MAX_CLEAN;
  out->max_building = CIRCPOOL_DEFAULT_MAX_BUILDING;
  out->max_total = CIRCPOOL_DEFAULT_MAX_TOTAL;
  out->per_iso_min = CIRCPOOL_DEFAULT_PER_ISO_MIN;
  out->dirtiness_s = CIRCPOOL_DEFAULT_DIRTINESS_S;
  out->idle_timeout_s = CIRCPOOL_DEFAULT_IDLE_TIMEOUT_S;
  out->prediction_s = CIRCPOOL_DEFAULT_PREDICTION_S;
  out->fail_limit = CIRCPOOL_DEFAULT_FAIL_LIMIT;
  out->fail_window_s = CIRCPOOL_DEFAULT_FAIL_WINDOW_S;
}

/* see circpool.h */
chive_err_t
circpool_strategy_check(const circpool_strategy_t *s)
{
  if (!s)
    return CHIVE_ERR_INVAL;
  if (s->max_total < 1 || s->max_total > CIRCPOOL_MAX_TOTAL_LIMIT)
    return CHIVE_ERR_INVAL;
  if (s->max_building < 1 || s->max_building > s->max_total)
    return CHIVE_ERR_INVAL;
  if (s->max_clean > s->max_total || s->min_clean > s->max_clean)
    return CHIVE_ERR_INVAL;
  if (s->per_iso_min > s->max_total)
    return CHIVE_ERR_INVAL;
  if (s->dirtiness_s < 1 || s->idle_timeout_s < 1 || s->prediction_s < 1 ||
      s->fail_window_s < 1)
    return CHIVE_ERR_INVAL;
  if (s->fail_limit > CIRCPOOL_FAIL_LIMIT_MAX)
    return CHIVE_ERR_INVAL;
  return CHIVE_OK;
}

/* see circpool.h */
chive_err_t
circpool_new(const circpool_strategy_t *s, circpool_exit_allows_fn exit_allows,
             void *arg, uint64_t now_ms, circpool_t **out)
{
  circpool_strategy_t strat;
  if (s)
    strat = *s;
  else
    circpool_strategy_default(&strat);
  chive_err_t err = circpool_strategy_check(&strat);
  if (err)
    return err;
  circpool_t *pool = chive_zalloc(sizeof(*pool));
  if (!pool)
    return CHIVE_ERR_NOMEM;
  pool->recs = chive_calloc(strat.max_total, sizeof(circ_rec_t));
  if (!pool->recs) {
    chive_free(pool);
    return CHIVE_ERR_NOMEM;
  }
  pool->cap = strat.max_total;
  pool->strat = strat;
  pool->exit_allows = exit_allows;
  pool->exit_arg = arg;
  /* path-spec §2.1.1: at startup, predict port 80. */
  circpool_note_port_used(pool, CIRCPOOL_INITIAL_PREDICTED_PORT, now_ms);
  *out = pool;
  return CHIVE_OK;
}

/* see circpool.h */
void
circpool_free_(circpool_t *pool)
{
  if (!pool)
    return;
  if (pool->recs)
    chive_memwipe(pool->recs, pool->cap * sizeof(circ_rec_t));
  chive_free(pool->recs);
  chive_memwipe(pool, sizeof(*pool));
  chive_free(pool);
}

/* see circpool.h */
chive_err_t
circpool_set_strategy(circpool_t *pool, const circpool_strategy_t *s)
{
  chive_err_t err = circpool_strategy_check(s);
  if (err)
    return err;
  if (s->max_total > pool->cap) {
    circ_rec_t *r = chive_calloc(s->max_total, sizeof(circ_rec_t));
    if (!r)
      return CHIVE_ERR_NOMEM;
    if (pool->n_recs)
      memcpy(r, pool->recs, pool->n_recs * sizeof(circ_rec_t));
    chive_memwipe(pool->recs, pool->cap * sizeof(circ_rec_t));
    chive_free(pool->recs);
    pool->recs = r;
    pool->cap = s->max_total;
  }
  pool->strat = *s;
  return CHIVE_OK;
}

/* see circpool.h */
const circpool_strategy_t *
circpool_strategy(const circpool_t *pool)
{
  return &pool->strat;
}

/* ---- records ---- */

static circ_rec_t *
rec_find(const circpool_t *pool, const void *handle)
{
  for (size_t i = 0; i < pool->n_recs; i++)
    if (pool->recs[i].handle == handle)
      return &pool->recs[i];
  return NULL;
}

/** Drop the record at <b>r</b>, keeping launch order. */
static void
rec_remove(circpool_t *pool, circ_rec_t *r)
{
  size_t i = (size_t)(r - pool->recs);
  size_t tail = pool->n_recs - i - 1;
  if (tail)
    memmove(r, r + 1, tail * sizeof(circ_rec_t));
  pool->n_recs--;
  chive_memwipe(&pool->recs[pool->n_recs], sizeof(circ_rec_t));
}

/** Dirty for at least MaxCircuitDirtiness: no new streams (§2.1.2). */
static bool
rec_is_expired(const circpool_t *pool, const circ_rec_t *r, uint64_t now)
{
  if (r->retired)
    return true;
  return r->dirty && elapsed_ms(now, r->dirty_since_ms) >=
                         s_to_ms(pool->strat.dirtiness_s);
}

/** Never used and older than idle_timeout_s: due to be closed. */
static bool
rec_is_idle_old(const circpool_t *pool, const circ_rec_t *r, uint64_t now)
{
  return !r->dirty &&
         elapsed_ms(now, r->created_ms) >= s_to_ms(pool->strat.idle_timeout_s);
}

/** Clean, unreserved and not about to be closed: counts towards the
 * predicted-port coverage and max_clean. */
static bool
rec_is_spare(const circpool_t *pool, const circ_rec_t *r, uint64_t now)
{
  if (r->state == CIRCPOOL_STATE_CLOSING || r->dirty || r->has_iso)
    return false;
  return r->state == CIRCPOOL_STATE_BUILDING || !rec_is_idle_old(pool, r, now);
}

/** Data-dependent compare of the record's key with <b>iso</b>. */
static bool
rec_key_eq(const circ_rec_t *r, const uint8_t *iso, size_t iso_len)
{
  return r->has_iso && r->iso_len == iso_len &&
         (iso_len == 0 || fast_memeq(r->iso, iso, iso_len));
}

static bool
exit_allows(const circpool_t *pool, void *handle, uint16_t port)
{
  if (port == 0 || !pool->exit_allows)
    return true;
  return pool->exit_allows(handle, port, pool->exit_arg);
}

/** Placement rank of <b>r</b> for a stream (0 best), or -1 if it cannot
 * take it.  <b>building_ok</b>: accept building circuits (for "could a
 * pending circuit serve it"). */
static int
rec_rank(const circpool_t *pool, const circ_rec_t *r, uint16_t port,
         const uint8_t *iso, size_t iso_len, uint64_t now, bool building_ok)
{
  if (r->state == CIRCPOOL_STATE_CLOSING)
    return -1;
  if (r->state == CIRCPOOL_STATE_BUILDING && !building_ok)
    return -1;
  if (rec_is_expired(pool, r, now))
    return -1;
  int rank;
  if (r->dirty || r->has_iso) {
    /* A dirty circuit only serves its own key; a reserved clean one only
     * the key it was launched for. */
    if (!rec_key_eq(r, iso, iso_len))
      return -1;
    rank = r->dirty ? 0 : 1;
  } else {
    rank = 2;
  }
  if (!exit_allows(pool, r->handle, port))
    return -1;
  return rank;
}

/* ---- failures (path-spec §2.1.5) ---- */

static void
fail_note(circpool_t *pool, uint64_t now)
{
  pool->fail_ms[pool->fail_next] = now;
  pool->fail_next = (pool->fail_next + 1) % CIRCPOOL_FAIL_LIMIT_MAX;
  if (pool->n_fail < CIRCPOOL_FAIL_LIMIT_MAX)
    pool->n_fail++;
}

/** True if the last fail_limit failures all fell within fail_window_s
 * before <b>now</b>. */
static bool
in_backoff(const circpool_t *pool, uint64_t now)
{
  size_t lim = pool->strat.fail_limit;
  if (lim == 0 || pool->n_fail < lim)
    return false;
  size_t idx = (pool->fail_next + CIRCPOOL_FAIL_LIMIT_MAX - lim) %
               CIRCPOOL_FAIL_LIMIT_MAX;
  return elapsed_ms(now, pool->fail_ms[idx]) <
         s_to_ms(pool->strat.fail_window_s);
}

/* ---- predicted ports and isolation keys ---- */

/** Forget ports not used within prediction_s. */
static void
ports_prune(circpool_t *pool, uint64_t now)
{
  uint64_t life = s_to_ms(pool->strat.prediction_s);
  size_t j = 0;
  for (size_t i = 0; i < pool->n_ports; i++) {
    if (elapsed_ms(now, pool->ports[i].last_ms) < life)
      pool->ports[j++] = pool->ports[i];
  }
  pool->n_ports = j;
}

/** Forget isolation keys not used within prediction_s. */
static void
isos_prune(circpool_t *pool, uint64_t now)
{
  uint64_t life = s_to_ms(pool->strat.prediction_s);
  size_t j = 0;
  for (size_t i = 0; i < pool->n_isos; i++) {
    if (elapsed_ms(now, pool->isos[i].last_ms) < life) {
      if (j != i)
        pool->isos[j] = pool->isos[i];
      j++;
    }
  }
  for (size_t i = j; i < pool->n_isos; i++)
    chive_memwipe(&pool->isos[i], sizeof(iso_ent_t));
  pool->n_isos = j;
}

/* see circpool.h */
void
circpool_note_port_used(circpool_t *pool, uint16_t port, uint64_t now_ms)
{
  if (port == 0)
    return;
  size_t lru = 0;
  for (size_t i = 0; i < pool->n_ports; i++) {
    if (pool->ports[i].port == port) {
      if (now_ms > pool->ports[i].last_ms)
        pool->ports[i].last_ms = now_ms;
      return;
    }
    if (pool->ports[i].last_ms < pool->ports[lru].last_ms)
      lru = i;
  }
  size_t slot =
      pool->n_ports < CIRCPOOL_MAX_PREDICTED_PORTS ? pool->n_ports++ : lru;
  pool->ports[slot].port = port;
  pool->ports[slot].last_ms = now_ms;
}

/** Remember that key <b>iso</b> asked for <b>port</b> now (only when
 * per-isolation sub-pools are on: otherwise keep no key history). */
static void
iso_note(circpool_t *pool, const uint8_t *iso, size_t iso_len, uint16_t port,
         uint64_t now)
{
  if (pool->strat.per_iso_min == 0)
    return;
  size_t lru = 0;
  for (size_t i = 0; i < pool->n_isos; i++) {
    iso_ent_t *e = &pool->isos[i];
    if (e->len == iso_len &&
        (iso_len == 0 || fast_memeq(e->key, iso, iso_len))) {
      e->last_ms = now > e->last_ms ? now : e->last_ms;
      if (port)
        e->port = port;
      return;
    }
    if (e->last_ms < pool->isos[lru].last_ms)
      lru = i;
  }
  size_t slot = pool->n_isos < CIRCPOOL_MAX_ISO_KEYS ? pool->n_isos++ : lru;
  iso_ent_t *e = &pool->isos[slot];
  chive_memwipe(e, sizeof(*e));
  e->len = (uint8_t)iso_len;
  if (iso_len)
    memcpy(e->key, iso, iso_len);
  e->port = port;
  e->last_ms = now;
}

/* see circpool.h */
size_t
circpool_predicted_ports(circpool_t *pool, uint64_t now_ms, uint16_t *out,
                         size_t max)
{
  ports_prune(pool, now_ms);
  bool taken[CIRCPOOL_MAX_PREDICTED_PORTS] = {false};
  size_t n = pool->n_ports < max ? pool->n_ports : max;
  for (size_t k = 0; k < n; k++) {
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < pool->n_ports; i++) {
      if (taken[i])
        continue;
      if (best == SIZE_MAX ||
          pool->ports[i].last_ms > pool->ports[best].last_ms)
        best = i;
    }
    taken[best] = true;
    out[k] = pool->ports[best].port;
  }
  return pool->n_ports;
}

/* ---- launching ---- */

static size_t
count_building(const circpool_t *pool)
{
  size_t n = 0;
  for (size_t i = 0; i < pool->n_recs; i++)
    if (pool->recs[i].state == CIRCPOOL_STATE_BUILDING)
      n++;
  return n;
}

/** How many more circuits may be launched now under max_building and
 * max_total. */
static size_t
launch_room(const circpool_t *pool)
{
  size_t building = count_building(pool);
  size_t room_b = pool->strat.max_building > building
                      ? pool->strat.max_building - building
                      : 0;
  size_t room_t = pool->strat.max_total > pool->n_recs
                      ? pool->strat.max_total - pool->n_recs
                      : 0;
  return room_b < room_t ? room_b : room_t;
}

static void
launch_init(circpool_launch_t *req, circpool_reason_t reason)
{
  memset(req, 0, sizeof(*req));
  req->reason = reason;
}

static void
launch_set_iso(circpool_launch_t *req, const uint8_t *iso, size_t iso_len)
{
  req->isolated = true;
  req->iso_len = iso_len;
  if (iso_len)
    memcpy(req->iso_key, iso, iso_len);
}

/** Per-isolation sub-pools: for each recently active key, requests up
 * to per_iso_min circuits that can serve it.  Returns requests written. */
static size_t
wants_isolation(circpool_t *pool, uint64_t now, circpool_launch_t *out,
                size_t budget)
{
  size_t n_out = 0;
  if (pool->strat.per_iso_min == 0)
    return 0;
  for (size_t k = 0; k < pool->n_isos && n_out < budget; k++) {
    const iso_ent_t *e = &pool->isos[k];
    size_t have = 0;
    for (size_t i = 0; i < pool->n_recs; i++) {
      const circ_rec_t *r = &pool->recs[i];
      if (r->state != CIRCPOOL_STATE_CLOSING &&
          !rec_is_expired(pool, r, now) && rec_key_eq(r, e->key, e->len))
        have++;
    }
    while (have < pool->strat.per_iso_min && n_out < budget) {
      circpool_launch_t *req = &out[n_out++];
      launch_init(req, CIRCPOOL_REASON_ISOLATION);
      if (e->port)
        req->ports[req->n_ports++] = e->port;
      launch_set_iso(req, e->key, e->len);
      have++;
    }
  }
  return n_out;
}

/** Predicted ports (path-spec §2.1.1): requests so that each predicted
 * port has min_clean spare circuits, while fewer than max_clean spare
 * circuits exist.  Returns requests written. */
static size_t
wants_predicted(circpool_t *pool, uint64_t now, circpool_launch_t *out,
                size_t budget)
{
  uint32_t deficit[CIRCPOOL_MAX_PREDICTED_PORTS];
  size_t n_spare = 0;
  for (size_t i = 0; i < pool->n_recs; i++)
    if (rec_is_spare(pool, &pool->recs[i], now))
      n_spare++;
  for (size_t p = 0; p < pool->n_ports; p++) {
    uint32_t covered = 0;
    for (size_t i = 0; i < pool->n_recs; i++) {
      const circ_rec_t *r = &pool->recs[i];
      if (rec_is_spare(pool, r, now) &&
          exit_allows(pool, r->handle, pool->ports[p].port))
        covered++;
    }
    deficit[p] =
        pool->strat.min_clean > covered ? pool->strat.min_clean - covered : 0;
  }
  size_t n_out = 0;
  while (n_out < budget && n_spare < pool->strat.max_clean) {
    /* Neediest port first; ties go to the most recently used. */
    size_t best = SIZE_MAX;
    for (size_t p = 0; p < pool->n_ports; p++) {
      if (deficit[p] == 0)
        continue;
      if (best == SIZE_MAX || deficit[p] > deficit[best] ||
          (deficit[p] == deficit[best] &&
           pool->ports[p].last_ms > pool->ports[best].last_ms))
        best = p;
    }
    if (best == SIZE_MAX)
      break;
    circpool_launch_t *req = &out[n_out++];
    launch_init(req, CIRCPOOL_REASON_PREDICTED);
    req->ports[req->n_ports++] = pool->ports[best].port;
    for (size_t p = 0; p < pool->n_ports; p++) {
      if (p != best && deficit[p] > 0 &&
          req->n_ports < CIRCPOOL_LAUNCH_MAX_PORTS)
        req->ports[req->n_ports++] = pool->ports[p].port;
    }
    deficit[best]--;
    n_spare++;
  }
  return n_out;
}

/* see circpool.h */
size_t
circpool_wants(circpool_t *pool, uint64_t now_ms, circpool_launch_t *out,
               size_t max)
{
  ports_prune(pool, now_ms);
  isos_prune(pool, now_ms);
  if (max == 0 || in_backoff(pool, now_ms))
    return 0;
  size_t budget = launch_room(pool);
  if (budget > max)
    budget = max;
  size_t n = wants_isolation(pool, now_ms, out, budget);
  n += wants_predicted(pool, now_ms, out + n, budget - n);
  pool->n_launch_requests += n;
  return n;
}

/* see circpool.h */
chive_err_t
circpool_circuit_launched(circpool_t *pool, void *handle,
                          const circpool_launch_t *req, uint64_t now_ms)
{
  if (!handle || rec_find(pool, handle))
    return CHIVE_ERR_INVAL;
  if (req && req->isolated && req->iso_len > CIRCPOOL_ISO_KEY_MAX_LEN)
    return CHIVE_ERR_INVAL;
  if (pool->n_recs >= pool->strat.max_total || pool->n_recs >= pool->cap)
    return CHIVE_ERR_LIMIT;
  circ_rec_t *r = &pool->recs[pool->n_recs++];
  memset(r, 0, sizeof(*r));
  r->handle = handle;
  r->state = CIRCPOOL_STATE_BUILDING;
  r->created_ms = now_ms;
  if (req && req->isolated) {
    r->has_iso = true;
    r->iso_len = (uint8_t)req->iso_len;
    if (req->iso_len)
      memcpy(r->iso, req->iso_key, req->iso_len);
  }
  pool->n_launched++;
  return CHIVE_OK;
}

/* see circpool.h */
bool
circpool_circuit_opened(circpool_t *pool, void *handle, uint64_t now_ms)
{
  (void)now_ms;
  circ_rec_t *r = rec_find(pool, handle);
  if (!r || r->state != CIRCPOOL_STATE_BUILDING)
    return false;
  r->state = CIRCPOOL_STATE_OPEN;
  pool->n_opened++;
  return true;
}

/* see circpool.h */
bool
circpool_circuit_failed(circpool_t *pool, void *handle, uint64_t now_ms)
{
  circ_rec_t *r = rec_find(pool, handle);
  if (!r)
    return false;
  if (r->state == CIRCPOOL_STATE_BUILDING)
    fail_note(pool, now_ms);
  pool->n_failed++;
  rec_remove(pool, r);
  return true;
}

/* see circpool.h */
bool
circpool_circuit_closed(circpool_t *pool, void *handle)
{
  circ_rec_t *r = rec_find(pool, handle);
  if (!r)
    return false;
  pool->n_closed++;
  rec_remove(pool, r);
  return true;
}

/* ---- streams ---- */

/* see circpool.h */
void *
circpool_get_for_stream(circpool_t *pool, uint16_t port, const uint8_t *iso,
                        size_t iso_len, uint64_t now_ms)
{
  return circpool_get_for_stream_filtered(pool, port, iso, iso_len, now_ms,
                                          NULL, NULL);
}

/* see circpool.h */
bool
circpool_retire(circpool_t *pool, void *handle)
{
  circ_rec_t *r = rec_find(pool, handle);
  if (!r)
    return false;
  r->retired = true;
  return true;
}

/* see circpool.h */
size_t
circpool_retire_dirty(circpool_t *pool)
{
  size_t n = 0;
  for (size_t i = 0; i < pool->n_recs; i++) {
    circ_rec_t *r = &pool->recs[i];
    if (r->dirty && !r->retired) {
      r->retired = true;
      n++;
    }
  }
  return n;
}

/* see circpool.h */
void *
circpool_get_for_stream_filtered(circpool_t *pool, uint16_t port,
                                 const uint8_t *iso, size_t iso_len,
                                 uint64_t now_ms,
                                 bool (*ok)(void *handle, void *arg),
                                 void *arg)
{
  if (iso_len > CIRCPOOL_ISO_KEY_MAX_LEN || (!iso && iso_len))
    return NULL;
  iso_note(pool, iso, iso_len, port, now_ms);
  circ_rec_t *best = NULL;
  int best_rank = 3;
  for (size_t i = 0; i < pool->n_recs; i++) {
    circ_rec_t *r = &pool->recs[i];
    int rank = rec_rank(pool, r, port, iso, iso_len, now_ms, false);
    if (rank < 0 || (ok && !ok(r->handle, arg)))
      continue;
    bool better;
    if (!best || rank < best_rank)
      better = true;
    else if (rank > best_rank)
      better = false;
    else if (rank == 0) /* most recently dirtied: longest life left */
      better = r->dirty_since_ms > best->dirty_since_ms;
    else /* oldest clean first, before it idles out */
      better = r->created_ms < best->created_ms;
    if (better) {
      best = r;
      best_rank = rank;
    }
  }
  if (!best)
    return NULL;
  if (!best->dirty) {
    /* §2.1.2: dirty as soon as a stream is attached; the circuit now
     * belongs to this stream's isolation key. */
    best->dirty = true;
    best->dirty_since_ms = now_ms;
    if (!best->has_iso) {
      best->has_iso = true;
      best->iso_len = (uint8_t)iso_len;
      if (iso_len)
        memcpy(best->iso, iso, iso_len);
    }
  }
  best->n_streams++;
  pool->n_streams_attached++;
  return best->handle;
}

/* see circpool.h */
bool
circpool_stream_detached(circpool_t *pool, void *handle)
{
  circ_rec_t *r = rec_find(pool, handle);
  if (!r || r->n_streams == 0)
    return false;
  r->n_streams--;
  return true;
}

/* see circpool.h */
circpool_need_t
circpool_need_for_stream(circpool_t *pool, uint16_t port, const uint8_t *iso,
                         size_t iso_len, uint64_t now_ms,
                         circpool_launch_t *out)
{
  if (iso_len > CIRCPOOL_ISO_KEY_MAX_LEN || (!iso && iso_len))
    return CIRCPOOL_NEED_LIMITED;
  iso_note(pool, iso, iso_len, port, now_ms);
  bool pending = false;
  for (size_t i = 0; i < pool->n_recs; i++) {
    const circ_rec_t *r = &pool->recs[i];
    if (rec_rank(pool, r, port, iso, iso_len, now_ms, true) < 0)
      continue;
    if (r->state == CIRCPOOL_STATE_OPEN)
      return CIRCPOOL_NEED_NONE;
    pending = true;
  }
  if (pending)
    return CIRCPOOL_NEED_WAIT;
  /* The failure backoff (path-spec §2.1.5) holds back preemptive circuits
   * only: a stream that is waiting gets its circuit, one at a time per
   * isolation key (a pending one answers WAIT above), as tor keeps
   * launching circuits for pending streams after failures. */
  if (launch_room(pool) == 0)
    return CIRCPOOL_NEED_LIMITED;
  launch_init(out, CIRCPOOL_REASON_STREAM);
  if (port)
    out->ports[out->n_ports++] = port;
  launch_set_iso(out, iso, iso_len);
  pool->n_launch_requests++;
  return CIRCPOOL_NEED_LAUNCH;
}

/* ---- closing (path-spec §2.1.6) ---- */

/** Open, stream-less and not yet closing. */
static bool
rec_is_idle_open(const circ_rec_t *r)
{
  return r->state == CIRCPOOL_STATE_OPEN && r->n_streams == 0;
}

static void
close_mark(circpool_t *pool, circ_rec_t *r, void **out, size_t *n)
{
  r->state = CIRCPOOL_STATE_CLOSING;
  out[(*n)++] = r->handle;
  pool->n_close_requests++;
}

/** The idle open circuit to trim first: clean before dirty; among clean
 * the oldest, among dirty the earliest dirtied.  <b>clean_only</b>:
 * unreserved clean ones only. */
static circ_rec_t *
pick_trim_victim(circpool_t *pool, bool clean_only)
{
  circ_rec_t *best = NULL;
  for (size_t i = 0; i < pool->n_recs; i++) {
    circ_rec_t *r = &pool->recs[i];
    if (!rec_is_idle_open(r))
      continue;
    if (clean_only && (r->dirty || r->has_iso))
      continue;
    if (!best) {
      best = r;
    } else if (r->dirty != best->dirty) {
      if (!r->dirty)
        best = r;
    } else if (r->dirty ? r->dirty_since_ms < best->dirty_since_ms
                        : r->created_ms < best->created_ms) {
      best = r;
    }
  }
  return best;
}

/* see circpool.h */
size_t
circpool_to_close(circpool_t *pool, uint64_t now_ms, void **out, size_t max)
{
  size_t n = 0;
  /* Expired dirty circuits and old never-used ones, once stream-less. */
  for (size_t i = 0; i < pool->n_recs && n < max; i++) {
    circ_rec_t *r = &pool->recs[i];
    if (!rec_is_idle_open(r))
      continue;
    if (rec_is_expired(pool, r, now_ms) || rec_is_idle_old(pool, r, now_ms))
      close_mark(pool, r, out, &n);
  }
  /* Spare (clean, unreserved) circuits beyond max_clean. */
  size_t n_spare = 0;
  for (size_t i = 0; i < pool->n_recs; i++)
    if (rec_is_spare(pool, &pool->recs[i], now_ms))
      n_spare++;
  while (n < max && n_spare > pool->strat.max_clean) {
    circ_rec_t *r = pick_trim_victim(pool, true);
    if (!r)
      break;
    close_mark(pool, r, out, &n);
    n_spare--;
  }
  /* Records beyond max_total (after the strategy was lowered). */
  size_t live = 0;
  for (size_t i = 0; i < pool->n_recs; i++)
    if (pool->recs[i].state != CIRCPOOL_STATE_CLOSING)
      live++;
  while (n < max && live > pool->strat.max_total) {
    circ_rec_t *r = pick_trim_victim(pool, false);
    if (!r)
      break;
    close_mark(pool, r, out, &n);
    live--;
  }
  return n;
}

/* ---- inspection ---- */

/* see circpool.h */
bool
circpool_get_info(const circpool_t *pool, const void *handle, uint64_t now_ms,
                  circpool_info_t *out)
{
  const circ_rec_t *r = rec_find(pool, handle);
  if (!r)
    return false;
  memset(out, 0, sizeof(*out));
  out->state = r->state;
  out->dirty = r->dirty;
  out->expired = rec_is_expired(pool, r, now_ms);
  out->has_iso = r->has_iso;
  out->n_streams = r->n_streams;
  out->created_ms = r->created_ms;
  out->dirty_since_ms = r->dirty ? r->dirty_since_ms : 0;
  return true;
}

/* see circpool.h */
void
circpool_get_stats(circpool_t *pool, uint64_t now_ms, circpool_stats_t *out)
{
  ports_prune(pool, now_ms);
  isos_prune(pool, now_ms);
  memset(out, 0, sizeof(*out));
  for (size_t i = 0; i < pool->n_recs; i++) {
    const circ_rec_t *r = &pool->recs[i];
    switch (r->state) {
    case CIRCPOOL_STATE_BUILDING:
      out->n_building++;
      break;
    case CIRCPOOL_STATE_OPEN:
      if (r->dirty) {
        out->n_open_dirty++;
        if (rec_is_expired(pool, r, now_ms))
          out->n_open_expired++;
      } else {
        out->n_open_clean++;
      }
      break;
    case CIRCPOOL_STATE_CLOSING:
    default:
      out->n_closing++;
      break;
    }
    out->n_streams += r->n_streams;
  }
  out->n_total = (uint32_t)pool->n_recs;
  out->n_predicted_ports = (uint32_t)pool->n_ports;
  out->n_iso_keys = (uint32_t)pool->n_isos;
  out->in_backoff = in_backoff(pool, now_ms);
  out->n_launch_requests = pool->n_launch_requests;
  out->n_launched = pool->n_launched;
  out->n_opened = pool->n_opened;
  out->n_failed = pool->n_failed;
  out->n_closed = pool->n_closed;
  out->n_streams_attached = pool->n_streams_attached;
  out->n_close_requests = pool->n_close_requests;
}
