/**
 * @file circbuild.c
 * @brief Node list upkeep, path selection and general circuit launches.
 *
 * The node list borrows from dirmgr's consensus and microdescriptor
 * store, which change only through dirmgr events; it is rebuilt on each
 * such event, before anyone can use a stale pointer (no node_t pointer
 * is kept across loop iterations: hops are copied into the circuit).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "app/circbuild.h"
#include "app/config_int.h"
#include "app/metricsglue.h"
#include "core/proto/circ_cells.h"
#include "lib/crypto/rand.h"
#include "lib/text/strbuf.h"

/** Delay before retrying a failed bootstrap circuit, doubling each time
 * up to the maximum. */
#define BOOT_CIRC_RETRY_MIN_MS 500
#define BOOT_CIRC_RETRY_MAX_MS 30000
/** A relay that a circuit failed to extend to is left out of new paths
 * for this long: it is probably down but still in the consensus. */
#define AVOID_RELAY_S 120

/** Failed bootstrap circuits retried at once before backing off. */
#define BOOT_CIRC_QUICK_RETRIES 5

static const microdesc_t *
md_lookup(void *ctx, const uint8_t digest[32])
{
  return dirmgr_microdesc(ctx, digest);
}

static uint64_t
rng_below(void *arg, uint64_t n)
{
  (void)arg;
  return crypto_rand_u64_below(n);
}

static void boot_circ_try(chive_client_t *c);

/** Build timeout in use, ms: CircuitBuildTimeout when set and
 * LearnCircuitBuildTimeout is 0 (tor(1): "this value is the only one
 * used"), else the learned one (path-spec §2.4). */
static uint32_t
build_timeout_ms(const chive_client_t *c)
{
  int64_t fixed = config_get_interval_s(c->cfg, OPT_CIRCUIT_BUILD_TIMEOUT);
  if (fixed > 0 && !config_get_bool(c->cfg, OPT_LEARN_CIRCUIT_BUILD_TIMEOUT))
    return (uint32_t)(fixed * 1000);
  return cbt_timeout_ms_for_hops(&c->cbt, PATH_DEFAULT_HOPS);
}

/** Measurement (close) timeout, ms; equal to the build timeout when it
 * is fixed. */
static uint32_t
close_timeout_ms(const chive_client_t *c)
{
  int64_t fixed = config_get_interval_s(c->cfg, OPT_CIRCUIT_BUILD_TIMEOUT);
  if (fixed > 0 && !config_get_bool(c->cfg, OPT_LEARN_CIRCUIT_BUILD_TIMEOUT))
    return (uint32_t)(fixed * 1000);
  return cbt_close_ms_for_hops(&c->cbt, PATH_DEFAULT_HOPS);
}
static void cbt_note(chive_client_t *c, cbt_update_t u);

/** Consensus parameter lookup for cbt_params_from_consensus(). */
typedef struct cbt_param_ctx_t {
  const ns_params_t *params;
} cbt_param_ctx_t;

static bool
cbt_param_get(void *arg, const char *name, int32_t *value_out)
{
  const cbt_param_ctx_t *ctx = arg;
  return ns_params_lookup(ctx->params, name, value_out);
}

/** A general circuit launched through circbuild: its guard state and
 * the owner's callbacks, which we call only once the guard logic says
 * the circuit may be used (guard-spec §4.6). */
typedef struct exitcirc_t {
  chive_client_t *c;
  chive_list_t link;      /**< on c->exit_circs */
  ocirc_t *oc;
  guard_circ_t *gc;       /**< NULL without guards */
  ocirc_events_t ev;
  void *arg;
  evloop_timer_t *timer;  /**< build timeout (path-spec §2.4) */
  uint8_t path_ids[PATH_DEFAULT_HOPS][20]; /**< RSA ids of the path */
  bool opened;            /**< circuit built */
  bool measuring;         /**< past the usage timeout: kept only to
                           * measure its build time (path-spec §2.4.4) */
  bool told_open;         /**< owner's opened called */
} exitcirc_t;

/** The state file in the DataDirectory, or NULL without one. */
static bool
state_path(const chive_client_t *c, char *out, size_t len)
{
  return c->data_dir[0] &&
         fs_join(out, len, c->data_dir, "state") == CHIVE_OK;
}

static void
guards_maybe_save(chive_client_t *c)
{
  char path[FS_MAX_PATH_LEN];
  if (!c->guards || !guards_is_dirty(c->guards) ||
      !state_path(c, path, sizeof(path)))
    return;
  chive_err_t e = guards_save(c->guards, path, clock_wall_s(c->clock));
  if (e != CHIVE_OK)
    log_warn(c->log, LD_GUARD, "Cannot save the guard state to %s: %s",
             path, chive_err_str(e));
}

/** Feed the node list to the guards module (guard-position weights). */
static void
guards_feed(chive_client_t *c)
{
  const nodelist_t *nl = c->nodelist;
  if (!c->guards || !nl)
    return;
  size_t n = nodelist_size(nl);
  if (n > GUARDS_MAX_CANDIDATES)
    n = GUARDS_MAX_CANDIDATES;
  guard_candidate_t *cands = chive_calloc(n ? n : 1, sizeof(*cands));
  if (!cands)
    return;
  for (size_t i = 0; i < n; i++) {
    const node_t *nd = nodelist_node(nl, i);
    guard_candidate_t *g = &cands[i];
    memcpy(g->rsa_id, node_rsa_id(nd), GUARD_RSA_ID_LEN);
    const uint8_t *ed = node_ed_id(nd);
    if (ed) {
      memcpy(g->ed_id, ed, GUARD_ED_ID_LEN);
      g->has_ed = true;
    }
    size_t nl_len = strlen(node_nickname(nd));
    if (nl_len >= GUARD_NICKNAME_BUF_LEN)
      nl_len = GUARD_NICKNAME_BUF_LEN - 1;
    memcpy(g->nickname, node_nickname(nd), nl_len);
    g->weight = path_node_weight(nl, nd, PATH_POS_GUARD);
    g->is_guard_flag = node_has_flags(nd, NS_FLAG_GUARD);
    /* A relay we cannot extend to (no microdescriptor yet) is not a
     * usable guard now. */
    g->is_running = node_has_flags(nd, NS_FLAG_RUNNING) &&
                    node_has_nflags(nd, NODE_F_USABLE);
    g->is_valid = node_has_flags(nd, NS_FLAG_VALID);
    g->is_fast = node_has_flags(nd, NS_FLAG_FAST);
    g->is_stable = node_has_flags(nd, NS_FLAG_STABLE);
    g->is_v2dir = node_has_flags(nd, NS_FLAG_V2DIR);
    g->ipv4 = nd->ipv4;
    g->port = nd->or_port;
  }
  chive_err_t e = guards_update_consensus(c->guards, cands, n,
                                          clock_wall_s(c->clock));
  chive_free(cands);
  if (e != CHIVE_OK)
    log_warn(c->log, LD_GUARD, "Cannot update the guards: %s",
             chive_err_str(e));
  guards_maybe_save(c);
}

/* ---- circuit build times in the state file ------------------------- */

/** Save the build-time histogram after this many new observations (and
 * at shutdown), like tor's "CircuitBuildTimeBin" state lines. */
#define CBT_SAVE_EVERY 25

static uint32_t
cbt_rand(void *arg, uint32_t bound)
{
  (void)arg;
  return (uint32_t)crypto_rand_u64_below(bound);
}

/** Load "CircuitBuildTimeBin ms count" lines from the state file. */
static void
cbt_state_load(chive_client_t *c, const char *path)
{
  statefile_t *sf = NULL;
  if (statefile_load(path, &sf, NULL) != CHIVE_OK)
    return;
  strbuf_t sb;
  strbuf_init(&sb, CBT_STATE_TEXT_MAX_LEN);
  chive_err_t add = CHIVE_OK;
  for (size_t i = 0; i < statefile_n(sf) && add == CHIVE_OK; i++)
    if (!strcmp(statefile_key(sf, i), CBT_STATE_KEYWORD))
      add = strbuf_addf(&sb, "%s %s\n", CBT_STATE_KEYWORD,
                        statefile_value(sf, i));
  if (add == CHIVE_OK && strbuf_len(&sb) && !strbuf_truncated(&sb)) {
    chive_err_t e = cbt_load(&c->cbt, strbuf_str(&sb), strbuf_len(&sb),
                             cbt_rand, NULL);
    if (e == CHIVE_OK)
      log_info(c->log, LD_CIRC,
               "Loaded %zu circuit build times; timeout %u ms.",
               cbt_n_observed(&c->cbt), (unsigned)cbt_timeout_ms(&c->cbt));
    else
      log_notice(c->log, LD_CIRC,
                 "Ignoring unusable circuit build times in %s (%s).", path,
                 chive_err_str(e));
  }
  strbuf_clear(&sb);
  statefile_free(sf);
}

/** Write the histogram into the state file, keeping its other lines. */
static void
cbt_state_save(chive_client_t *c)
{
  char path[FS_MAX_PATH_LEN];
  if (!state_path(c, path, sizeof(path)))
    return;
  statefile_t *sf = NULL;
  if (statefile_load(path, &sf, NULL) != CHIVE_OK && !(sf = statefile_new()))
    return;
  char *buf = chive_malloc(CBT_STATE_MAX_LEN);
  size_t len = 0;
  chive_err_t e = buf ? cbt_save(&c->cbt, buf, CBT_STATE_MAX_LEN, &len)
                      : CHIVE_ERR_NOMEM;
  for (size_t i = statefile_n(sf); e == CHIVE_OK && i-- > 0;)
    if (!strcmp(statefile_key(sf, i), CBT_STATE_KEYWORD))
      statefile_remove_at(sf, i);
  /* cbt_save writes "CircuitBuildTimeBin <ms> <count>\n" lines. */
  size_t kw = strlen(CBT_STATE_KEYWORD);
  for (size_t off = 0; e == CHIVE_OK && off < len;) {
    char *nl = memchr(buf + off, '\n', len - off);
    if (!nl)
      break;
    *nl = '\0';
    if (!strncmp(buf + off, CBT_STATE_KEYWORD, kw) && buf[off + kw] == ' ')
      e = statefile_append(sf, CBT_STATE_KEYWORD, buf + off + kw + 1);
    off = (size_t)(nl - buf) + 1;
  }
  if (e == CHIVE_OK)
    e = statefile_save(sf, path);
  if (e != CHIVE_OK)
    log_info(c->log, LD_CIRC, "Could not save circuit build times: %s",
             chive_err_str(e));
  chive_free(buf);
  statefile_free(sf);
  c->cbt_unsaved = 0;
}

chive_err_t
circbuild_guards_init(chive_client_t *c)
{
  guards_config_t gc;
  guards_config_defaults(&gc);
  gc.use_entry_guards = config_get_bool(c->cfg, OPT_USE_ENTRY_GUARDS);
  gc.num_entry_guards = (unsigned)config_get_int(c->cfg,
                                                 OPT_NUM_ENTRY_GUARDS);
  gc.log = c->log;
  chive_err_t e = guards_new(&gc, &c->guards);
  if (e != CHIVE_OK)
    return e;
  char path[FS_MAX_PATH_LEN];
  if (state_path(c, path, sizeof(path))) {
    statefile_error_t serr;
    memset(&serr, 0, sizeof(serr));
    cbt_state_load(c, path);
    e = guards_load(c->guards, path, clock_wall_s(c->clock), &serr);
    if (e == CHIVE_OK)
      log_info(c->log, LD_GUARD, "Loaded the guard state from %s.", path);
    else if (e != CHIVE_ERR_NOTFOUND)
      log_warn(c->log, LD_GUARD,
               "The state file %s is unusable (%s); starting with new "
               "guards.",
               path, chive_err_str(e));
  }
  return CHIVE_OK;
}

void
circbuild_kick(chive_client_t *c)
{
  /* Rebuilding is cheap (a few ms for the live network) and makes sure
   * the node list and the guards saw every microdescriptor: a cache load
   * reports the consensus before its microdescriptors. */
  if (c->boot_phase < BOOT_DONE)
    circbuild_dir_changed(c);
}

void
circbuild_dir_changed(chive_client_t *c)
{
  const ns_consensus_t *ns = dirmgr_consensus(c->dirmgr);
  nodelist_t *nl = NULL;
  if (ns && nodelist_build(ns, md_lookup, c->dirmgr, clock_wall_s(c->clock),
                           &nl) != CHIVE_OK) {
    log_warn(c->log, LD_PATH, "Cannot build the node list: out of memory.");
    return;
  }
  nodelist_free(c->nodelist);
  c->nodelist = nl;
  guards_feed(c);
  if (ns) {
    cbt_params_t p;
    cbt_param_ctx_t ctx = {&ns->params};
    cbt_params_from_consensus(&p, cbt_param_get, &ctx);
    cbt_set_params(&c->cbt, &p);
  }
  if (c->boot_phase >= BOOT_ENOUGH_DIRINFO && !c->boot_circ &&
      c->boot_phase < BOOT_DONE && dirmgr_can_build_circuits(c->dirmgr))
    boot_circ_try(c);
}

static void
exitcirc_free(exitcirc_t *x)
{
  chive_list_remove(&x->link);
  evloop_timer_free(x->timer);
  guard_circ_free(x->gc);
  chive_free(x);
}

/** Tell the owner the circuit is usable, once. */
static void
exitcirc_usable(exitcirc_t *x)
{
  if (x->told_open)
    return;
  x->told_open = true;
  if (x->ev.opened)
    x->ev.opened(x->oc, x->arg);
}

/** Circuits held back for a better guard may now be usable. */
static void
upgrade_waiting(chive_client_t *c)
{
  guard_circ_t *gcs[64];
  exitcirc_t *xs[64];
  size_t n = 0;
  chive_list_t *pos;
  if (!c->guards)
    return;
  CHIVE_LIST_FOREACH(pos, &c->exit_circs)
  {
    exitcirc_t *x = CHIVE_CONTAINER_OF(pos, exitcirc_t, link);
    if (x->gc && n < CHIVE_ARRAY_LEN(gcs)) {
      gcs[n] = x->gc;
      xs[n++] = x;
    }
  }
  if (!guards_upgrade_waiting(c->guards, gcs, n, clock_wall_s(c->clock)))
    return;
  for (size_t i = 0; i < n; i++)
    if (xs[i]->opened && guard_circ_state(xs[i]->gc) == GUARD_CIRC_COMPLETE)
      exitcirc_usable(xs[i]);
}

static void
xc_opened(ocirc_t *oc, void *arg)
{
  exitcirc_t *x = arg;
  chive_client_t *c = x->c;
  x->opened = true;
  evloop_timer_cancel(x->timer);
  circuit_t *circ = ocirc_circuit(oc);
  if (circ && config_get_bool(c->cfg, OPT_LEARN_CIRCUIT_BUILD_TIMEOUT)) {
    cbt_note(c, cbt_add_build_time(&c->cbt, (uint32_t)(
                                                circuit_build_time_us(circ) /
                                                1000)));
    if (++c->cbt_unsaved >= CBT_SAVE_EVERY)
      cbt_state_save(c);
  }
  if (x->measuring) {
    /* Built after the usage timeout: measured, never used. */
    ocirc_close(x->oc, DESTROY_REASON_FINISHED);
    return;
  }
  if (!x->gc) {
    exitcirc_usable(x);
    return;
  }
  guard_circ_state_t st =
      guards_circuit_succeeded(c->guards, x->gc, clock_wall_s(c->clock));
  guards_maybe_save(c);
  if (st == GUARD_CIRC_COMPLETE)
    exitcirc_usable(x);
  else if (st == GUARD_CIRC_DEAD)
    ocirc_close(x->oc, DESTROY_REASON_FINISHED);
  else
    log_info(c->log, LD_GUARD,
             "Circuit built through a non-primary guard; holding it until "
             "the primary guards are known down.");
  upgrade_waiting(c);
}

void
circbuild_avoid_relay(chive_client_t *c, const uint8_t rsa_id[20])
{
  int64_t now = clock_wall_s(c->clock);
  size_t slot = 0;
  for (size_t i = 0; i < CLIENT_MAX_AVOID; i++) {
    if (!memcmp(c->avoid[i].id, rsa_id, 20)) {
      slot = i;
      break;
    }
    if (c->avoid[i].until < c->avoid[slot].until)
      slot = i;
  }
  memcpy(c->avoid[slot].id, rsa_id, 20);
  c->avoid[slot].until = now + AVOID_RELAY_S;
  log_info(c->log, LD_PATH,
           "A circuit failed while extending to a relay; leaving it out of "
           "new paths for %d seconds.",
           AVOID_RELAY_S);
}

static void
xc_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  exitcirc_t *x = arg;
  chive_client_t *c = x->c;
  if (!x->opened && !x->measuring) {
    /* Which relay were we extending to?  Hop k failed after k hops were
     * built; k == 0 is the guard, which the guards module judges. */
    size_t k = ocirc_hops_built(oc);
    if (k >= 1 && k < PATH_DEFAULT_HOPS &&
        (reason == DESTROY_REASON_CONNECTFAILED ||
         reason == DESTROY_REASON_CHANNEL_CLOSED ||
         reason == DESTROY_REASON_OR_IDENTITY ||
         reason == DESTROY_REASON_TIMEOUT))
      circbuild_avoid_relay(c, x->path_ids[k]);
  }
  if (x->gc && !x->opened) {
    /* Built no further than it got: count it against the guard only if
     * the failure was not ours (guard-spec §4.7). */
    if (reason == DESTROY_REASON_REQUESTED ||
        reason == DESTROY_REASON_FINISHED)
      guards_circuit_cancel(c->guards, x->gc);
    else
      guards_circuit_failed(c->guards, x->gc, clock_wall_s(c->clock));
    guards_maybe_save(c);
  }
  if (x->ev.closed)
    x->ev.closed(oc, reason, remote, x->arg);
  exitcirc_free(x);
  upgrade_waiting(c);
}

/** Log what a CBT update did. */
static void
cbt_note(chive_client_t *c, cbt_update_t u)
{
  if (u == CBT_UPDATE_COMPUTED)
    log_info(c->log, LD_CIRC,
             "Circuit build timeout is now %u ms (close after %u ms), "
             "from %zu circuits.",
             (unsigned)cbt_timeout_ms(&c->cbt),
             (unsigned)cbt_close_ms(&c->cbt), cbt_n_observed(&c->cbt));
  else if (u == CBT_UPDATE_RESET)
    log_notice(c->log, LD_CIRC,
               "Many recent circuits timed out; resetting the circuit "
               "build timeout to %u ms.",
               (unsigned)cbt_timeout_ms(&c->cbt));
}

/** path-spec §2.4: at the learned timeout a circuit is no longer
 * usable, but it keeps building until the longer close timeout so that
 * slow builds are still measured (§2.4.4); only a circuit that completed
 * its first hop counts as a timeout (§2.4.5). */
static void
xc_build_timeout(evloop_timer_t *t, void *arg)
{
  exitcirc_t *x = arg;
  chive_client_t *c = x->c;
  (void)t;
  if (x->opened)
    return;
  if (!x->measuring) {
    x->measuring = true;
    log_info(c->log, LD_CIRC,
             "Circuit not built after %u ms; giving up on using it.",
             (unsigned)build_timeout_ms(c));
    if (x->gc) {
      guards_circuit_cancel(c->guards, x->gc);
      guard_circ_free(x->gc);
      x->gc = NULL;
    }
    ocirc_events_t owner = x->ev;
    memset(&x->ev, 0, sizeof(x->ev));
    if (owner.closed)
      owner.closed(x->oc, DESTROY_REASON_TIMEOUT, false, x->arg);
    uint32_t use = build_timeout_ms(c);
    uint32_t close = close_timeout_ms(c);
    if (close > use &&
        evloop_timer_schedule(x->timer, close - use) == CHIVE_OK)
      return;
  }
  circuit_t *circ = ocirc_circuit(x->oc);
  if (circ && circuit_n_hops(circ) >= 1 &&
      config_get_bool(c->cfg, OPT_LEARN_CIRCUIT_BUILD_TIMEOUT))
    cbt_note(c, cbt_add_timeout(&c->cbt));
  ocirc_close(x->oc, DESTROY_REASON_TIMEOUT);
}

chive_err_t
circbuild_launch_exit(chive_client_t *c, uint16_t port,
                      const ocirc_events_t *ev, void *arg, ocirc_t **out)
{
  *out = NULL;
  if (!c->nodelist || !dirmgr_can_build_circuits(c->dirmgr))
    return CHIVE_ERR_NOTFOUND;
  path_request_t req;
  path_request_init(&req);
  req.ports = &port;
  req.n_ports = 1;
  /* TestingTorNetwork implies EnforceDistinctSubnets 0 unless set, as
   * in tor: a private network's relays share one address. */
  req.enforce_distinct_subnets =
      config_is_set(c->cfg, OPT_ENFORCE_DISTINCT_SUBNETS) ||
              !c->testing_network
          ? config_get_bool(c->cfg, OPT_ENFORCE_DISTINCT_SUBNETS)
          : false;
  exitcirc_t *x = chive_zalloc(sizeof(*x));
  if (!x)
    return CHIVE_ERR_NOMEM;
  x->c = c;
  x->ev = *ev;
  x->arg = arg;
  chive_list_init(&x->link);
  chive_err_t e;
  if (c->guards && config_get_bool(c->cfg, OPT_USE_ENTRY_GUARDS)) {
    guard_restriction_t r;
    guard_pick_t pick;
    memset(&r, 0, sizeof(r));
    r.usage = GUARD_USAGE_TRAFFIC;
    e = guards_select(c->guards, clock_wall_s(c->clock), &r, &pick, &x->gc);
    if (e != CHIVE_OK) {
      log_info(c->log, LD_GUARD, "No usable guard: %s", chive_err_str(e));
      chive_free(x);
      return e;
    }
    req.guard = nodelist_find_by_rsa(c->nodelist, pick.rsa_id);
    if (!req.guard) {
      guards_circuit_cancel(c->guards, x->gc);
      guard_circ_free(x->gc);
      chive_free(x);
      return CHIVE_ERR_NOTFOUND;
    }
  }
  /* Relays that recently failed an extension. */
  const node_t *avoid[CLIENT_MAX_AVOID];
  size_t n_avoid = 0;
  int64_t now_s = clock_wall_s(c->clock);
  for (size_t i = 0; i < CLIENT_MAX_AVOID; i++) {
    const node_t *nd;
    if (c->avoid[i].until > now_s &&
        (nd = nodelist_find_by_rsa(c->nodelist, c->avoid[i].id)) != NULL &&
        nd != req.guard)
      avoid[n_avoid++] = nd;
  }
  req.exclude = avoid;
  req.n_exclude = n_avoid;
  path_rng_t rng = {rng_below, NULL};
  const node_t *path[PATH_DEFAULT_HOPS];
  circuit_hop_info_t hops[PATH_DEFAULT_HOPS];
  char why[160] = "";
  e = path_choose(c->nodelist, &req, &rng, path, PATH_DEFAULT_HOPS, why,
                  sizeof(why));
  if (e != CHIVE_OK) {
    log_info(c->log, LD_PATH, "No path for port %u: %s", (unsigned)port,
             why);
    metricsglue_note_no_path(c);
  }
  for (size_t i = 0; e == CHIVE_OK && i < PATH_DEFAULT_HOPS; i++) {
    e = node_to_hop_info(path[i], &hops[i]);
    memcpy(x->path_ids[i], node_rsa_id(path[i]), 20);
  }
  if (e == CHIVE_OK) {
    channel_target_t t;
    memset(&t, 0, sizeof(t));
    net_addr_from_ipv4(&t.addr.addr, path[0]->ipv4);
    t.addr.port = path[0]->or_port;
    memcpy(t.rsa_id, hops[0].rsa_id, sizeof(t.rsa_id));
    if (hops[0].has_ed_id) {
      t.has_ed_id = true;
      memcpy(t.ed_id, hops[0].ed_id, sizeof(t.ed_id));
    }
    ocirc_events_t xev = {xc_opened, xc_closed, ev->relay_msg};
    e = evloop_timer_new(c->loop, xc_build_timeout, x, &x->timer);
    if (e == CHIVE_OK)
      e = evloop_timer_schedule(
          x->timer, build_timeout_ms(c));
    if (e == CHIVE_OK)
      e = circmgr_launch(c->circmgr, &t, false, hops, PATH_DEFAULT_HOPS,
                       CIRCUIT_PURPOSE_GENERAL, &xev, x, &x->oc);
  }
  if (e != CHIVE_OK) {
    if (x->gc)
      guards_circuit_cancel(c->guards, x->gc);
    guard_circ_free(x->gc);
    evloop_timer_free(x->timer);
    chive_free(x);
    return e;
  }
  memcpy(c->last_guard, hops[0].rsa_id, sizeof(c->last_guard));
  memcpy(c->last_exit, hops[PATH_DEFAULT_HOPS - 1].rsa_id,
         sizeof(c->last_exit));
  chive_list_add_tail(&c->exit_circs, &x->link);
  *out = x->oc;
  return CHIVE_OK;
}

/* ---- the bootstrap circuit ------------------------------------------ */

static void
boot_opened(ocirc_t *oc, void *arg)
{
  chive_client_t *c = arg;
  (void)oc;
  c->boot_circ_delay_ms = 0;
  client_bootstrap_reached(c, BOOT_AP_HANDSHAKE_DONE);
  client_bootstrap_reached(c, BOOT_CIRCUIT_CREATE);
  client_bootstrap_reached(c, BOOT_DONE);
}

static void
boot_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  chive_client_t *c = arg;
  (void)oc;
  c->boot_circ = NULL;
  if (c->stopped || c->boot_phase >= BOOT_DONE)
    return;
  log_info(c->log, LD_CIRC, "Bootstrap circuit failed (%s%s); retrying.",
           destroy_reason_name(reason), remote ? ", remote" : "");
  /* Each attempt picks a new path, so the first few retries go out at
   * once (a relay that died but is still in the consensus should cost one
   * attempt, not a growing delay); after that, back off. */
  if (++c->boot_circ_failures <= BOOT_CIRC_QUICK_RETRIES)
    c->boot_circ_delay_ms = 0;
  else
    c->boot_circ_delay_ms = c->boot_circ_delay_ms
                                ? c->boot_circ_delay_ms * 2
                                : BOOT_CIRC_RETRY_MIN_MS;
  if (c->boot_circ_delay_ms > BOOT_CIRC_RETRY_MAX_MS)
    c->boot_circ_delay_ms = BOOT_CIRC_RETRY_MAX_MS;
  if (evloop_timer_schedule(c->boot_timer, c->boot_circ_delay_ms) !=
      CHIVE_OK)
    log_warn(c->log, LD_CIRC, "Cannot schedule a circuit retry.");
}

static void
boot_circ_try(chive_client_t *c)
{
  if (c->boot_circ || c->stopped)
    return;
  ocirc_events_t ev = {boot_opened, boot_closed, NULL};
  client_bootstrap_reached(c, BOOT_AP_CONN);
  chive_err_t e = circbuild_launch_exit(c, 80, &ev, c, &c->boot_circ);
  if (e != CHIVE_OK) {
    log_info(c->log, LD_CIRC, "Cannot launch a circuit yet: %s",
             chive_err_str(e));
    return;
  }
  client_bootstrap_reached(c, BOOT_AP_HANDSHAKE);
}

static void
boot_timer_cb(evloop_timer_t *t, void *arg)
{
  (void)t;
  boot_circ_try(arg);
}

chive_err_t
circbuild_start(chive_client_t *c)
{
  cbt_params_t cp;
  cbt_params_default(&cp);
  cbt_init(&c->cbt, &cp);
  chive_err_t e = circbuild_guards_init(c);
  if (e != CHIVE_OK)
    return e;
  return evloop_timer_new(c->loop, boot_timer_cb, c, &c->boot_timer);
}

void
circbuild_stop(chive_client_t *c)
{
  evloop_timer_free(c->boot_timer);
  if (c->boot_circ) {
    ocirc_t *oc = c->boot_circ;
    c->boot_circ = NULL;
    ocirc_close(oc, DESTROY_REASON_FINISHED);
  }
  /* Close what is left; xc_closed frees each record. */
  while (!chive_list_empty(&c->exit_circs)) {
    exitcirc_t *x = CHIVE_CONTAINER_OF(chive_list_first(&c->exit_circs),
                                       exitcirc_t, link);
    ocirc_close(x->oc, DESTROY_REASON_FINISHED);
  }
  guards_maybe_save(c);
  if (c->cbt_unsaved)
    cbt_state_save(c);
  guards_free(c->guards);
  nodelist_free(c->nodelist);
}
