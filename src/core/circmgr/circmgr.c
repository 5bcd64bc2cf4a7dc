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
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/circmgr/circmgr.h"
#include "core/proto/circ_cells.h"
#include "lib/container/dmap.h"
#include "lib/container/list.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

typedef enum ocirc_state_t {
  OCIRC_WAIT_CHANNEL = 0, /**< channel still handshaking */
  OCIRC_BUILDING,         /**< circuit exists, hops pending */
  OCIRC_OPEN,
  OCIRC_CLOSED,
} ocirc_state_t;

/** Key for m->by_key: channel id (8 bytes) then circuit id (4 bytes). */
#define OCIRC_KEY_LEN 12

struct ocirc_t {
  circmgr_t *m;
  chive_list_t link;      /**< on m->all */
  reaper_entry_t reap;
  ocirc_state_t state;
  uint64_t chan_id;
  uint32_t circ_id;       /**< 0 until allocated */
  circuit_t *circ;        /**< NULL until the channel opened */
  bool in_map;
  bool create_fast;
  size_t hops_built;      /**< hops built when the circuit closed */
  circuit_purpose_t purpose;
  size_t n_hops;
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

/** Mark <b>oc</b> closed, tell its owner once, and schedule the free. */
static void
ocirc_finish(ocirc_t *oc, uint8_t reason, bool remote)
{
  if (oc->state == OCIRC_CLOSED)
    return;
  oc->state = OCIRC_CLOSED;
  ocirc_unmap(oc);
  if (oc->ev.closed)
    oc->ev.closed(oc, reason, remote, oc->arg);
  reaper_mark(oc->m->reaper, &oc->reap, oc, ocirc_reap);
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

static void
circ_opened(circuit_t *circ, void *arg)
{
  ocirc_t *oc = arg;
  (void)circ;
  if (oc->state != OCIRC_BUILDING)
    return;
  oc->state = OCIRC_OPEN;
  if (oc->ev.opened)
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
  circuit_sink_t sink = {sink_send, oc};
  circuit_events_t ev = {NULL, circ_opened, circ_closed, circ_relay_msg};
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
  oc->state = OCIRC_BUILDING;
  chive_err_t e = CHIVE_OK;
  if (oc->create_fast) {
    e = circuit_create_fast(oc->circ, now);
  } else {
    for (size_t i = 0; i < oc->n_hops && e == CHIVE_OK; i++)
      e = circuit_extend_to(oc->circ, &oc->hops[i], now);
  }
  if (e != CHIVE_OK) {
    /* The circuit may already have reported its own close. */
    if (oc->state != OCIRC_CLOSED)
      circuit_mark_for_close(oc->circ, DESTROY_REASON_INTERNAL, now);
    ocirc_finish(oc, DESTROY_REASON_INTERNAL, false);
  }
}

/* ---- channel -> manager ------------------------------------------- */

static void
chan_open(channel_t *chan, void *arg)
{
  circmgr_t *m = arg;
  uint64_t id = channel_id(chan);
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->state == OCIRC_WAIT_CHANNEL && oc->chan_id == id)
      ocirc_start(oc, chan);
  }
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
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &m->all)
  {
    ocirc_t *oc = CHIVE_CONTAINER_OF(pos, ocirc_t, link);
    if (oc->chan_id != id || oc->state == OCIRC_CLOSED)
      continue;
    oc->circ_id = 0; /* the channel and its IDs are gone */
    if (oc->circ)
      circuit_handle_channel_closed(oc->circ, now);
    ocirc_finish(oc, DESTROY_REASON_CHANNEL_CLOSED, true);
  }
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
  chive_list_init(&m->all);
  channel_mgr_config_t cc;
  memset(&cc, 0, sizeof(cc));
  cc.loop = cfg->loop;
  cc.clock = m->clock;
  cc.log = cfg->log;
  cc.cbs.on_open = chan_open;
  cc.cbs.on_cell = chan_cell;
  cc.cbs.on_closed = chan_closed;
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
  oc->state = OCIRC_WAIT_CHANNEL;
  oc->chan_id = channel_id(chan);
  oc->create_fast = create_fast;
  oc->purpose = purpose;
  if (!create_fast) {
    memcpy(oc->hops, hops, n_hops * sizeof(*hops));
    oc->n_hops = n_hops;
  }
  if (ev)
    oc->ev = *ev;
  oc->arg = arg;
  chive_list_add_tail(&m->all, &oc->link);
  m->n_circuits++;
  *out = oc;
  if (channel_is_open(chan)) {
    /* A failure here is reported through the closed callback, but the
     * contract says none runs before we return: hide the callbacks
     * while starting and report a synchronous failure as an error. */
    ocirc_events_t saved = oc->ev;
    memset(&oc->ev, 0, sizeof(oc->ev));
    ocirc_start(oc, chan);
    oc->ev = saved;
    if (oc->state == OCIRC_CLOSED) {
      *out = NULL;
      return CHIVE_ERR_INTERNAL;
    }
  }
  return CHIVE_OK;
}

circuit_t *
ocirc_circuit(const ocirc_t *oc)
{
  return oc->state == OCIRC_CLOSED ? NULL : oc->circ;
}

size_t
ocirc_hops_built(const ocirc_t *oc)
{
  if (oc->state != OCIRC_CLOSED && oc->circ)
    return circuit_n_hops(oc->circ);
  return oc->hops_built;
}

bool
ocirc_is_closed(const ocirc_t *oc)
{
  return oc->state == OCIRC_CLOSED;
}

void
ocirc_close(ocirc_t *oc, uint8_t reason)
{
  if (oc->state == OCIRC_CLOSED)
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
