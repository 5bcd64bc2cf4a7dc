/**
 * @file circmgr.c
 * @brief Origin circuits on channels (see circmgr.h).
 *
 * Ownership: the manager owns every ocirc_t and, through it, its
 * circuit_t.  A handle lives on m->all from launch until it is reaped;
 * while its circuit exists it is also in m->by_key under (channel id,
 * circuit id).  Closing runs the owner's closed callback once, removes
 * the handle from the map, and marks it for the reaper, so nothing is
 * freed inside a callback chain.
 *
 * Registry: every handle gets a CircuitID from m->next_id; the observer
 * (one, optional) hears every state change right after it happens; the
 * counters in m->stats only grow.
 *
 * Back-pressure: each circuit's sink answers "congested?" from its
 * channel; when a congested channel drains, chan_uncongested() runs fair
 * rounds over the circuits on it (see resume_channel()).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/circmgr/circmgr.h"
#include "core/proto/circ_cells.h"
#include "lib/container/dmap.h"
#include "lib/container/list.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Key for m->by_key: channel id (8 bytes) then circuit id (4 bytes). */
#define OCIRC_KEY_LEN 12

struct ocirc_t {
  circmgr_t *m;
  chive_list_t link;      /**< on m->all */
  reaper_entry_t reap;
  uint32_t id;            /**< CircuitID, see ocirc_id() */
  ocirc_state_t state;
  bool ever_built;        /**< reached BUILT at least once */
  uint8_t close_reason;
  bool close_remote;
  int64_t launched_wall_s;
  uint64_t launched_us;
  uint64_t build_time_us;
  uint64_t chan_id;
  uint32_t circ_id;       /**< 0 until allocated */
  circuit_t *circ;        /**< NULL until the channel opened */
  bool in_map;
  bool create_fast;
  size_t hops_built;      /**< hops built when the circuit closed */
  circuit_purpose_t purpose;
  size_t n_hops;          /**< planned; 1 for CREATE_FAST */
  circuit_hop_info_t hops[CIRCUIT_MAX_HOPS];
  ocirc_events_t ev;
  void *arg;
};

struct circmgr_t {
  evloop_t *loop;
  const chive_clock_t *clock;
  logger_t *log;
  circuit_params_t params;
  channel_mgr_t *chans;
  reaper_t *reaper;
  dmap_t *by_key;
  chive_list_t all;
  size_t n_circuits;
  uint32_t next_id;       /**< next CircuitID */
  circmgr_observer_t obs;
  void *obs_arg;
  circmgr_stats_t stats;
  size_t resume_next;     /**< where the next drain round starts */
};

static void
make_key(uint8_t key[OCIRC_KEY_LEN], uint64_t chan_id, uint32_t circ_id)
{
  for (int i = 0; i < 8; i++)
    key[i] = (uint8_t)(chan_id >> (56 - 8 * i));
  key[8] = (uint8_t)(circ_id >> 24);
  key[9] = (uint8_t)(circ_id >> 16);
  key[10] = (uint8_t)(circ_id >> 8);
  key[11] = (uint8_t)circ_id;
}

uint64_t
circmgr_now_us(const circmgr_t *m)
{
  return clock_mono_us(m->clock);
}

static void
ocirc_reap(void *obj)
{
  ocirc_t *oc = obj;
  circmgr_t *m = oc->m;
  chive_list_remove(&oc->link);
  m->n_circuits--;
  circuit_free(oc->circ);
  chive_memwipe(oc->hops, sizeof(oc->hops));
  chive_free(oc);
}

/** Forget the circuit's map entry and circuit ID. */
static void
ocirc_unmap(ocirc_t *oc)
{
  circmgr_t *m = oc->m;
  if (oc->in_map) {
    uint8_t key[OCIRC_KEY_LEN];
    make_key(key, oc->chan_id, oc->circ_id);
    (void)dmap_remove(m->by_key, key);
    oc->in_map = false;
  }
  if (oc->circ_id) {
    channel_t *chan = channel_mgr_get_by_id(m->chans, oc->chan_id);
    if (chan)
      (void)channel_release_circ_id(chan, oc->circ_id);
    oc->circ_id = 0;
  }
}

/** Tell the observer about <b>oc</b>. */
static void
notify_circ(ocirc_t *oc, circmgr_circ_ev_t ev, uint8_t reason, bool remote)
{
  circmgr_t *m = oc->m;
  if (m->obs.circ)
    m->obs.circ(oc, ev, reason, remote, m->obs_arg);
}

/** Mark <b>oc</b> closed, count it, tell the observer and its owner
 * once, and schedule the free. */
static void
ocirc_finish(ocirc_t *oc, uint8_t reason, bool remote)
{
  circmgr_t *m = oc->m;
  if (oc->state == OCIRC_STATE_CLOSED)
    return;
  oc->state = OCIRC_STATE_CLOSED;
  oc->close_reason = reason;
  oc->close_remote = remote;
  ocirc_unmap(oc);
  if (oc->ever_built) {
    m->stats.circs_closed++;
  } else {
    m->stats.circs_failed++;
    m->stats.circs_failed_by_reason[reason <= CIRCMGR_MAX_COUNTED_REASON
                                        ? reason
                                        : CIRCMGR_REASON_OTHER]++;
  }
  notify_circ(oc, oc->ever_built ? CIRCMGR_CIRC_CLOSED : CIRCMGR_CIRC_FAILED,
              reason, remote);
  if (oc->ev.closed)
    oc->ev.closed(oc, reason, remote, oc->arg);
  reaper_mark(m->reaper, &oc->reap, oc, ocirc_reap);
}

/* ---- circuit -> manager ------------------------------------------- */

static chive_err_t
sink_send(void *arg, const cell_t *cell)
{
  ocirc_t *oc = arg;
  channel_t *chan = channel_mgr_get_by_id(oc->m->chans, oc->chan_id);
  if (!chan || !channel_is_open(chan))
    return CHIVE_ERR_CLOSED;
  return channel_send_cell(chan, cell);
}

static bool
sink_congested(void *arg)
{
  const ocirc_t *oc = arg;
  const channel_t *chan = channel_mgr_get_by_id(oc->m->chans, oc->chan_id);
  return chan && channel_is_congested(chan);
}

static void
circ_hop_added(circuit_t *circ, size_t n_hops, void *arg)
{
  ocirc_t *oc = arg;
  (void)circ;
  (void)n_hops;
  if (oc->state == OCIRC_STATE_BUILDING)
    notify_circ(oc, CIRCMGR_CIRC_EXTENDED, 0, false);
}

static void
circ_opened(circuit_t *circ, void *arg)
{
  ocirc_t *oc = arg;
  circmgr_t *m = oc->m;
  if (oc->state != OCIRC_STATE_BUILDING)
    return;
  oc->state = OCIRC_STATE_BUILT;
  const bool first = !oc->ever_built;
  if (first) {
    oc->ever_built = true;
    oc->build_time_us = circuit_build_time_us(circ);
    m->stats.circs_built++;
    m->stats.build_time_us_total += oc->build_time_us;
  }
  notify_circ(oc, CIRCMGR_CIRC_BUILT, 0, false);
  /* The owner hears "opened" once, not again after ocirc_extend(). */
  if (first && oc->state == OCIRC_STATE_BUILT && oc->ev.opened)
    oc->ev.opened(oc, oc->arg);
}

static void
circ_closed(circuit_t *circ, uint8_t reason, bool remote, void *arg)
{
  ocirc_t *oc = arg;
  oc->hops_built = circuit_n_hops(circ);
  ocirc_finish(oc, reason, remote);
}

static chive_err_t
circ_relay_msg(circuit_t *circ, size_t hop, const relay_cell_t *msg,
               void *arg)
{
  ocirc_t *oc = arg;
  (void)circ;
  if (!oc->ev.relay_msg)
    return CHIVE_OK; /* dropped, tor-spec §6.1 */
  return oc->ev.relay_msg(oc, hop, msg, oc->arg);
}

/** The channel is open: create the circuit and send its first cell.
 * On failure the handle is finished with a reason. */
static void
ocirc_start(ocirc_t *oc, channel_t *chan)
{
  circmgr_t *m = oc->m;
  uint64_t now = circmgr_now_us(m);
  uint32_t id;
  uint8_t key[OCIRC_KEY_LEN];
  if (channel_alloc_circ_id(chan, &id) != CHIVE_OK) {
    ocirc_finish(oc, DESTROY_REASON_RESOURCELIMIT, false);
    return;
  }
  oc->circ_id = id;
  circuit_sink_t sink = {sink_send, oc, sink_congested};
  circuit_events_t ev = {circ_hop_added, circ_opened, circ_closed,
                         circ_relay_msg};
  if (circuit_new(&m->params, oc->purpose, id, &sink, &ev, oc, m->log, now,
                  &oc->circ) != CHIVE_OK) {
    ocirc_finish(oc, DESTROY_REASON_RESOURCELIMIT, false);
    return;
  }
  make_key(key, oc->chan_id, id);
  if (dmap_set(m->by_key, key, oc, NULL) != CHIVE_OK) {
    ocirc_finish(oc, DESTROY_REASON_RESOURCELIMIT, false);
    return;
  }
  oc->in_map = true;
  oc->state = OCIRC_STATE_BUILDING;
  chive_err_t e = CHIVE_OK;
  if (oc->create_fast) {
    e = circuit_create_fast(oc->circ, now);
  } else {
    for (size_t i = 0; i < oc->n_hops && e == CHIVE_OK; i++)
      e = circuit_extend_to(oc->circ, &oc->hops[i], now);
  }
  if (e != CHIVE_OK) {
    /* The circuit may already have reported its own close. */
    if (oc->state != OCIRC_STATE_CLOSED)
      circuit_mark_for_close(oc->circ, DESTROY_REASON_INTERNAL, now);
    ocirc_finish(oc, DESTROY_REASON_INTERNAL, false);
  }
}

/* ---- channel -> manager ------------------------------------------- */

static void
notify_chan(circmgr_t *m, channel_t *chan, circmgr_chan_ev_t ev, int reason)
{
  if (m->obs.chan)
    m->obs.chan(chan, ev, reason, m->obs_arg);
}

static void
chan_launched(channel_t *chan, void *arg)
{
  circmgr_t *m = arg;
  m->stats.chans_launched++;
  notify_chan(m, chan, CIRCMGR_CHAN_LAUNCHED, 0);
}

static void
chan_open(channel_t *chan, void *arg)
{
  circmgr_t *m = arg;
  uint64_t id = channel_id(chan);
  chive_list_t *pos, *tmp;
  m->stats.chans_connected++;
  notify_chan(m, chan, CIRCMGR_CHAN_CONNECTED, 0);
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->state == OCIRC_STATE_LAUNCHED && oc->chan_id == id &&
        channel_is_open(chan))
      ocirc_start(oc, chan);
  }
}

/** True iff <b>oc</b> has a live circuit on channel <b>id</b>. */
static bool
ocirc_active_on(const ocirc_t *oc, uint64_t id)
{
  return oc->chan_id == id && oc->circ &&
         (oc->state == OCIRC_STATE_BUILDING ||
          oc->state == OCIRC_STATE_BUILT);
}

/** Channel <b>chan</b> drained: fair rounds over its circuits, each
 * round giving every circuit one circuit_resume_round() (one turn per
 * waiting stream), the first circuit rotating from drain to drain, until
 * nothing more moves or the channel congests again.  Terminates: every
 * productive round spends package window, which only SENDMEs from the
 * network (never delivered from inside this loop) refill. */
static void
resume_channel(circmgr_t *m, channel_t *chan)
{
  const uint64_t id = channel_id(chan);
  const uint64_t now = circmgr_now_us(m);
  chive_list_t *pos;
  size_t n = 0;
  CHIVE_LIST_FOREACH(pos, &m->all)
  {
    if (ocirc_active_on(CHIVE_CONTAINER_OF(pos, ocirc_t, link), id))
      n++;
  }
  if (n == 0)
    return;
  size_t start = m->resume_next % n;
  m->resume_next = start + 1;
  bool progress = true;
  while (progress) {
    progress = false;
    /* Two passes: positions start..end, then 0..start-1.  Handles are
     * only unlinked by the reaper, never from inside this loop; circuits
     * launched from callbacks are appended and may get a turn. */
    for (int pass = 0; pass < 2; pass++) {
      size_t j = 0;
      CHIVE_LIST_FOREACH(pos, &m->all)
      {
        ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
        if (!ocirc_active_on(oc, id))
          continue;
        const size_t at = j++;
        if ((pass == 0) != (at >= start))
          continue;
        if (!channel_is_open(chan))
          return;
        if (channel_is_congested(chan)) {
          m->resume_next = at; /* missed its turn: first next time */
          return;
        }
        if (circuit_resume_round(oc->circ, now))
          progress = true;
      }
    }
  }
}

static void
chan_uncongested(channel_t *chan, void *arg)
{
  circmgr_t *m = arg;
  m->stats.chans_uncongested++;
  resume_channel(m, chan);
}

static void
chan_cell(channel_t *chan, const cell_t *cell, void *arg)
{
  circmgr_t *m = arg;
  uint8_t key[OCIRC_KEY_LEN];
  make_key(key, channel_id(chan), cell->circ_id);
  ocirc_t *oc = dmap_get(m->by_key, key);
  if (!oc || !oc->circ) {
    log_debug(m->log, LD_CIRC, "Dropping cell %u for unknown circuit %u",
              (unsigned)cell->command, (unsigned)cell->circ_id);
    return;
  }
  /* Errors close the circuit inside core/circuit (closed callback). */
  chive_err_t e = circuit_handle_cell(oc->circ, cell, circmgr_now_us(m));
  if (e != CHIVE_OK)
    log_debug(m->log, LD_CIRC, "Circuit %u: cell rejected (%s)",
              (unsigned)cell->circ_id, chive_err_str(e));
}

static void
chan_closed(channel_t *chan, void *arg)
{
  circmgr_t *m = arg;
  uint64_t id = channel_id(chan);
  uint64_t now = circmgr_now_us(m);
  chive_list_t *pos, *tmp;
  const bool was_open = channel_was_open(chan);
  if (was_open)
    m->stats.chans_closed++;
  else
    m->stats.chans_failed++;
  notify_chan(m, chan, was_open ? CIRCMGR_CHAN_CLOSED : CIRCMGR_CHAN_FAILED,
              (int)channel_close_reason(chan));
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->chan_id != id || oc->state == OCIRC_STATE_CLOSED)
      continue;
    oc->circ_id = 0; /* the channel and its IDs are gone */
    if (oc->circ)
      circuit_handle_channel_closed(oc->circ, now);
    ocirc_finish(oc, DESTROY_REASON_CHANNEL_CLOSED, true);
  }
}

/** What a CREATE_FAST circuit's registry entry says about its hop: the
 * channel target's identities and address. */
static void
hop_info_from_target(const channel_target_t *t, circuit_hop_info_t *out)
{
  memset(out, 0, sizeof(*out));
  if (t->addr.addr.family == NET_AF_INET) {
    out->has_ipv4 = true;
    memcpy(out->ipv4, t->addr.addr.ip, 4);
    out->ipv4_port = t->addr.port;
  } else if (t->addr.addr.family == NET_AF_INET6) {
    out->has_ipv6 = true;
    memcpy(out->ipv6, t->addr.addr.ip, 16);
    out->ipv6_port = t->addr.port;
  }
  memcpy(out->rsa_id, t->rsa_id, CIRCUIT_HOP_RSA_ID_LEN);
  out->has_ed_id = t->has_ed_id;
  memcpy(out->ed_id, t->ed_id, CIRCUIT_HOP_ED_ID_LEN);
}

/* ---- public ------------------------------------------------------------ */

chive_err_t
circmgr_new(const circmgr_config_t *cfg, circmgr_t **out)
{
  *out = NULL;
  if (!cfg || !cfg->loop)
    return CHIVE_ERR_INVAL;
  circmgr_t *m = chive_zalloc(sizeof(*m));
  if (!m)
    return CHIVE_ERR_NOMEM;
  m->loop = cfg->loop;
  m->clock = cfg->clock ? cfg->clock : clock_system();
  m->log = cfg->log;
  m->params = cfg->params;
  m->next_id = 1;
  chive_list_init(&m->all);
  channel_mgr_config_t cc;
  memset(&cc, 0, sizeof(cc));
  cc.loop = cfg->loop;
  cc.clock = m->clock;
  cc.log = cfg->log;
  cc.cbs.on_open = chan_open;
  cc.cbs.on_cell = chan_cell;
  cc.cbs.on_closed = chan_closed;
  cc.cbs.on_launched = chan_launched;
  cc.cbs.on_uncongested = chan_uncongested;
  cc.cb_arg = m;
  cc.handshake_timeout_ms = cfg->handshake_timeout_ms;
  chive_err_t e;
  if ((e = dmap_new(OCIRC_KEY_LEN, CIRCMGR_MAX_CIRCUITS, &m->by_key)) ||
      (e = reaper_new(cfg->loop, &m->reaper)) ||
      (e = channel_mgr_new(&cc, &m->chans))) {
    circmgr_free(m);
    return e;
  }
  *out = m;
  return CHIVE_OK;
}

void
circmgr_free_(circmgr_t *m)
{
  if (!m)
    return;
  /* Whoever observes is shutting down too: no events from here on. */
  memset(&m->obs, 0, sizeof(m->obs));
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    ocirc_close(oc, DESTROY_REASON_FINISHED);
  }
  /* Reap every handle now (the reaper runs free_fns on shutdown). */
  reaper_free(m->reaper);
  channel_mgr_free(m->chans);
  dmap_free(m->by_key, NULL);
  chive_free(m);
}

void
circmgr_set_params(circmgr_t *m, const circuit_params_t *params)
{
  m->params = *params;
}

chive_err_t
circmgr_launch(circmgr_t *m, const channel_target_t *first, bool create_fast,
               const circuit_hop_info_t *hops, size_t n_hops,
               circuit_purpose_t purpose, const ocirc_events_t *ev,
               void *arg, ocirc_t **out)
{
  *out = NULL;
  if (!create_fast && (n_hops == 0 || !hops))
    return CHIVE_ERR_INVAL;
  if (n_hops > CIRCUIT_MAX_HOPS)
    return CHIVE_ERR_LIMIT;
  if (m->n_circuits >= CIRCMGR_MAX_CIRCUITS)
    return CHIVE_ERR_LIMIT;
  channel_t *chan = NULL;
  chive_err_t e = channel_mgr_get(m->chans, first, &chan);
  if (e != CHIVE_OK)
    return e;
  ocirc_t *oc = chive_zalloc(sizeof(*oc));
  if (!oc)
    return CHIVE_ERR_NOMEM;
  oc->m = m;
  reaper_entry_init(&oc->reap);
  oc->id = m->next_id++;
  if (m->next_id == 0)
    m->next_id = 1; /* after 2^32 launches; IDs of live handles differ */
  oc->state = OCIRC_STATE_LAUNCHED;
  oc->chan_id = channel_id(chan);
  oc->create_fast = create_fast;
  oc->purpose = purpose;
  oc->launched_us = circmgr_now_us(m);
  oc->launched_wall_s = clock_wall_s(m->clock);
  if (!create_fast) {
    memcpy(oc->hops, hops, n_hops * sizeof(*hops));
    oc->n_hops = n_hops;
  } else {
    hop_info_from_target(first, &oc->hops[0]);
    oc->n_hops = 1;
  }
  if (ev)
    oc->ev = *ev;
  oc->arg = arg;
  chive_list_add_tail(&m->all, &oc->link);
  m->n_circuits++;
  m->stats.circs_launched++;
  *out = oc;
  notify_circ(oc, CIRCMGR_CIRC_LAUNCHED, 0, false);
  if (channel_is_open(chan)) {
    /* A failure here is reported through the closed callback, but the
     * contract says none runs before we return: hide the callbacks
     * while starting and report a synchronous failure as an error. */
    ocirc_events_t saved = oc->ev;
    memset(&oc->ev, 0, sizeof(oc->ev));
    ocirc_start(oc, chan);
    oc->ev = saved;
    if (oc->state == OCIRC_STATE_CLOSED) {
      *out = NULL;
      return CHIVE_ERR_INTERNAL;
    }
  }
  return CHIVE_OK;
}

circuit_t *
ocirc_circuit(const ocirc_t *oc)
{
  return oc->state == OCIRC_STATE_CLOSED ? NULL : oc->circ;
}

size_t
ocirc_hops_built(const ocirc_t *oc)
{
  if (oc->state != OCIRC_STATE_CLOSED && oc->circ)
    return circuit_n_hops(oc->circ);
  return oc->hops_built;
}

bool
ocirc_is_closed(const ocirc_t *oc)
{
  return oc->state == OCIRC_STATE_CLOSED;
}

void
ocirc_close(ocirc_t *oc, uint8_t reason)
{
  if (oc->state == OCIRC_STATE_CLOSED)
    return;
  if (oc->circ && circuit_state(oc->circ) != CIRCUIT_STATE_CLOSED) {
    /* circuit_mark_for_close sends DESTROY and runs circ_closed, which
     * finishes the handle. */
    circuit_mark_for_close(oc->circ, reason, circmgr_now_us(oc->m));
  }
  ocirc_finish(oc, reason, false);
}

channel_mgr_t *
circmgr_channels(const circmgr_t *m)
{
  return m->chans;
}

size_t
circmgr_n_circuits(const circmgr_t *m)
{
  return m->n_circuits;
}

/* ---- registry ---------------------------------------------------------- */

void
circmgr_set_observer(circmgr_t *m, const circmgr_observer_t *obs, void *arg)
{
  if (obs)
    m->obs = *obs;
  else
    memset(&m->obs, 0, sizeof(m->obs));
  m->obs_arg = arg;
}

void
circmgr_foreach(circmgr_t *m, void (*fn)(ocirc_t *oc, void *arg), void *arg)
{
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->state != OCIRC_STATE_CLOSED)
      fn(oc, arg);
  }
}

void
circmgr_foreach_channel(circmgr_t *m, void (*fn)(channel_t *ch, void *arg),
                        void *arg)
{
  channel_mgr_foreach(m->chans, fn, arg);
}

ocirc_t *
circmgr_find_by_id(circmgr_t *m, uint32_t id)
{
  chive_list_t *pos;
  if (id == 0)
    return NULL;
  CHIVE_LIST_FOREACH(pos, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->id == id)
      return oc->state == OCIRC_STATE_CLOSED ? NULL : oc;
  }
  return NULL;
}

const circmgr_stats_t *
circmgr_stats(const circmgr_t *m)
{
  return &m->stats;
}

void
circmgr_count_states(const circmgr_t *m, size_t counts[OCIRC_N_STATES])
{
  chive_list_t *pos;
  memset(counts, 0, OCIRC_N_STATES * sizeof(counts[0]));
  CHIVE_LIST_FOREACH(pos, &m->all)
  {
    const ocirc_t *oc = CHIVE_CONTAINER_OF(pos, const ocirc_t, link);
    counts[oc->state]++;
  }
}

size_t
circmgr_n_open_channels(const circmgr_t *m)
{
  return channel_mgr_n_open(m->chans);
}

uint64_t
circmgr_bytes_read(const circmgr_t *m)
{
  return channel_mgr_bytes_read(m->chans);
}

uint64_t
circmgr_bytes_written(const circmgr_t *m)
{
  return channel_mgr_bytes_written(m->chans);
}

uint32_t
ocirc_id(const ocirc_t *oc)
{
  return oc->id;
}

ocirc_state_t
ocirc_state(const ocirc_t *oc)
{
  return oc->state;
}

const char *
ocirc_state_name(ocirc_state_t st)
{
  static const char *const names[OCIRC_N_STATES] = {"LAUNCHED", "BUILDING",
                                                    "BUILT", "CLOSED"};
  return (unsigned)st < OCIRC_N_STATES ? names[st] : "?";
}

size_t
ocirc_n_hops_planned(const ocirc_t *oc)
{
  return oc->n_hops;
}

const circuit_hop_info_t *
ocirc_hop(const ocirc_t *oc, size_t i)
{
  return i < oc->n_hops ? &oc->hops[i] : NULL;
}

bool
ocirc_is_create_fast(const ocirc_t *oc)
{
  return oc->create_fast;
}

circuit_purpose_t
ocirc_purpose(const ocirc_t *oc)
{
  return oc->purpose;
}

void
ocirc_set_purpose(ocirc_t *oc, circuit_purpose_t purpose)
{
  circuit_purpose_t old = oc->purpose;
  if (old == purpose)
    return;
  oc->purpose = purpose;
  if (oc->circ)
    circuit_set_purpose(oc->circ, purpose);
  notify_circ(oc, CIRCMGR_CIRC_PURPOSE_CHANGED, (uint8_t)old, false);
}

void
ocirc_launched_wall(const ocirc_t *oc, int64_t *sec, uint32_t *usec)
{
  *sec = oc->launched_wall_s;
  *usec = 0;
}

uint64_t
ocirc_launched_us(const ocirc_t *oc)
{
  return oc->launched_us;
}

uint64_t
ocirc_build_time_us(const ocirc_t *oc)
{
  return oc->build_time_us;
}

uint8_t
ocirc_close_reason(const ocirc_t *oc)
{
  return oc->state == OCIRC_STATE_CLOSED ? oc->close_reason : 0;
}

bool
ocirc_closed_remotely(const ocirc_t *oc)
{
  return oc->state == OCIRC_STATE_CLOSED && oc->close_remote;
}

uint64_t
ocirc_channel_id(const ocirc_t *oc)
{
  return oc->chan_id;
}

chive_err_t
ocirc_extend(ocirc_t *oc, const circuit_hop_info_t *hop)
{
  if (BUG(!oc || !hop))
    return CHIVE_ERR_INVAL;
  if (oc->state == OCIRC_STATE_CLOSED || oc->create_fast)
    return CHIVE_ERR_INVAL;
  if (oc->n_hops >= CIRCUIT_MAX_HOPS)
    return CHIVE_ERR_LIMIT;
  oc->hops[oc->n_hops++] = *hop;
  if (oc->state == OCIRC_STATE_LAUNCHED)
    return CHIVE_OK; /* built with the rest once the channel opens */
  const ocirc_state_t prev = oc->state;
  oc->state = OCIRC_STATE_BUILDING;
  chive_err_t e = circuit_extend_to(oc->circ, hop, circmgr_now_us(oc->m));
  if (e != CHIVE_OK && oc->state != OCIRC_STATE_CLOSED) {
    /* Refused without closing: nothing changed. */
    oc->n_hops--;
    oc->state = prev;
  }
  return e;
}
