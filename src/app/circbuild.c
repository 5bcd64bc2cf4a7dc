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
#include "core/proto/circ_cells.h"
#include "lib/crypto/rand.h"

/** Delay before retrying a failed bootstrap circuit, doubling each time
 * up to the maximum. */
#define BOOT_CIRC_RETRY_MIN_MS 500
#define BOOT_CIRC_RETRY_MAX_MS 30000

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

void
circbuild_kick(chive_client_t *c)
{
  if (!c->nodelist)
    circbuild_dir_changed(c);
  else if (c->boot_phase >= BOOT_ENOUGH_DIRINFO && !c->boot_circ &&
           c->boot_phase < BOOT_DONE && dirmgr_can_build_circuits(c->dirmgr))
    boot_circ_try(c);
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
  if (c->boot_phase >= BOOT_ENOUGH_DIRINFO && !c->boot_circ &&
      c->boot_phase < BOOT_DONE && dirmgr_can_build_circuits(c->dirmgr))
    boot_circ_try(c);
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
  path_rng_t rng = {rng_below, NULL};
  const node_t *path[PATH_DEFAULT_HOPS];
  char why[160] = "";
  chive_err_t e = path_choose(c->nodelist, &req, &rng, path,
                              PATH_DEFAULT_HOPS, why, sizeof(why));
  if (e != CHIVE_OK) {
    log_info(c->log, LD_PATH, "No path for port %u: %s", (unsigned)port,
             why);
    return e;
  }
  circuit_hop_info_t hops[PATH_DEFAULT_HOPS];
  for (size_t i = 0; i < PATH_DEFAULT_HOPS; i++)
    if ((e = node_to_hop_info(path[i], &hops[i])) != CHIVE_OK)
      return e;
  channel_target_t t;
  memset(&t, 0, sizeof(t));
  net_addr_from_ipv4(&t.addr.addr, path[0]->ipv4);
  t.addr.port = path[0]->or_port;
  memcpy(t.rsa_id, hops[0].rsa_id, sizeof(t.rsa_id));
  if (hops[0].has_ed_id) {
    t.has_ed_id = true;
    memcpy(t.ed_id, hops[0].ed_id, sizeof(t.ed_id));
  }
  return circmgr_launch(c->circmgr, &t, false, hops, PATH_DEFAULT_HOPS,
                        CIRCUIT_PURPOSE_GENERAL, ev, arg, out);
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
  nodelist_free(c->nodelist);
}
