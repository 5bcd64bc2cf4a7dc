/**
 * @file channel.c
 * @brief Channel objects and the channel manager: the I/O glue around
 * channel_sm_t (see channel.h).
 *
 * Data path: socket -> tls_stream (decrypts into its bounded inbuf) ->
 * buf_move into the state machine's inbuf -> channel_sm_process() ->
 * on_cell; and channel_send_cell() -> state machine outbuf ->
 * tls_stream_write() (encrypts into its bounded outbuf) -> socket.
 **/
#include "lib/cc/compat.h"

#include <inttypes.h>
#include <string.h>

#include "core/channel/channel.h"
#include "lib/container/dmap.h"
#include "lib/container/list.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/tls/tls_stream.h"

#define CHANNEL_MAGIC 0x6368616eu /* "chan" */

struct channel_t {
  uint32_t magic;
  channel_mgr_t *mgr;
  uint64_t id;
  channel_target_t target;
  channel_sm_t *sm;
  tls_stream_t *stream;
  evloop_timer_t *hs_timer;
  uint64_t last_active_ms;
  bool marked;
  bool was_open;   /**< the handshake completed at some point */
  bool congested;  /**< see channel_is_congested() */
  chive_list_t link;     /**< on mgr->all until reaped */
  reaper_entry_t reap;
};

struct channel_mgr_t {
  evloop_t *loop;
  reaper_t *reaper;
  const chive_clock_t *clock;
  logger_t *log;
  channel_callbacks_t cbs;
  void *cb_arg;
  uint64_t handshake_timeout_ms;
  uint64_t idle_timeout_ms;
  uint64_t idle_check_ms;
  size_t max_channels;
  dmap_t *by_rsa; /**< live channels by RSA identity */
  dmap_t *by_id;  /**< live channels by channel id */
  chive_list_t all; /**< every channel not yet reaped */
  evloop_timer_t *idle_timer;
  uint64_t next_id;
  /** Socket bytes of channels already reaped (for the totals). */
  uint64_t closed_bytes_read;
  uint64_t closed_bytes_written;
};

static void channel_pump(channel_t *chan);
static void channel_flush(channel_t *chan);

static uint64_t
now_ms(const channel_t *chan)
{
  return clock_mono_ms(chan->mgr->clock);
}

static void
id_key(uint8_t out[8], uint64_t id)
{
  for (int i = 0; i < 8; i++)
    out[i] = (uint8_t)(id >> (56 - 8 * i));
}

/* ---- closing and reaping ------------------------------------------------ */

/** Reaper free function: tell the owner, then free everything. */
static void
channel_reap(void *obj)
{
  channel_t *chan = obj;
  channel_mgr_t *mgr = chan->mgr;
  if (mgr->cbs.on_closed)
    mgr->cbs.on_closed(chan, mgr->cb_arg);
  chive_list_remove(&chan->link);
  mgr->closed_bytes_read += channel_bytes_read(chan);
  mgr->closed_bytes_written += channel_bytes_written(chan);
  tls_stream_free(chan->stream);
  evloop_timer_free(chan->hs_timer);
  channel_sm_free(chan->sm);
  chan->magic = 0;
  chive_free(chan);
}

/** Map a tls_stream error to a close reason. */
static channel_close_reason_t
reason_for_stream_error(chive_err_t err)
{
  switch (err) {
  case CHIVE_ERR_CLOSED:
    return CHANNEL_CLOSE_REMOTE_CLOSED;
  case CHIVE_ERR_IO:
    return CHANNEL_CLOSE_IO_ERROR;
  case CHIVE_ERR_NOMEM:
  case CHIVE_ERR_LIMIT:
    return CHANNEL_CLOSE_RESOURCE;
  default:
    return CHANNEL_CLOSE_TLS_ERROR;
  }
}

static void
mark_with_detail(channel_t *chan, channel_close_reason_t reason,
                 const char *detail)
{
  channel_mgr_t *mgr = chan->mgr;
  uint8_t k[8];
  char addr[NET_ADDRPORT_STR_LEN];

  if (chan->marked)
    return;
  chan->marked = true;
  /* If the state machine closed itself (protocol error, timeout) its
   * reason stands; otherwise record ours. */
  channel_sm_close(chan->sm, reason, detail);
  if (chan->stream) {
    if (reason == CHANNEL_CLOSE_REQUESTED || reason == CHANNEL_CLOSE_IDLE)
      channel_flush(chan); /* best effort: e.g. queued DESTROY cells */
    tls_stream_close(chan->stream);
  }
  evloop_timer_cancel(chan->hs_timer);
  if (dmap_get(mgr->by_rsa, chan->target.rsa_id) == chan)
    (void)dmap_remove(mgr->by_rsa, chan->target.rsa_id);
  id_key(k, chan->id);
  (void)dmap_remove(mgr->by_id, k);
  log_info(mgr->log, LD_CHANNEL, "Channel %" PRIu64 " to %s closed: %s (%s)",
           chan->id, net_addrport_format(&chan->target.addr, addr,
                                         sizeof(addr)),
           channel_close_reason_str(channel_sm_close_reason(chan->sm)),
           channel_sm_close_detail(chan->sm));
  reaper_mark(mgr->reaper, &chan->reap, chan, channel_reap);
}

/* see channel.h */
void
channel_mark_for_close(channel_t *chan, channel_close_reason_t reason)
{
  if (BUG(!chan || chan->magic != CHANNEL_MAGIC))
    return;
  mark_with_detail(chan, reason, NULL);
}

/* ---- moving bytes ------------------------------------------------------- */

/* see channel.h */
size_t
channel_queued_bytes(const channel_t *chan)
{
  size_t n = buf_len(channel_sm_outbuf(chan->sm));
  if (chan->stream)
    n += tls_stream_out_len(chan->stream);
  return n;
}

/** Enter the congested state when the queues reach the high mark. */
static void
note_queued(channel_t *chan)
{
  if (!chan->congested &&
      channel_queued_bytes(chan) >= CHANNEL_CONGESTED_HIGH_BYTES)
    chan->congested = true;
}

/** Leave the congested state once the queues are down to the low mark,
 * and tell the manager's owner (from the event loop only). */
static void
note_drained(channel_t *chan)
{
  channel_mgr_t *mgr = chan->mgr;
  if (!chan->congested || chan->marked ||
      channel_queued_bytes(chan) > CHANNEL_CONGESTED_LOW_BYTES)
    return;
  chan->congested = false;
  if (mgr->cbs.on_uncongested)
    mgr->cbs.on_uncongested(chan, mgr->cb_arg);
}

/** Move queued outgoing bytes from the state machine into TLS. */
static void
channel_flush(channel_t *chan)
{
  buf_t *out = channel_sm_outbuf(chan->sm);
  while (buf_len(out) > 0) {
    size_t room = tls_stream_out_room(chan->stream);
    size_t len = 0;
    const uint8_t *p = buf_head(out, &len);
    if (room == 0)
      return; /* resumes from on_drained */
    size_t n = len < room ? len : room;
    chive_err_t err = tls_stream_write(chan->stream, p, n);
    if (err == CHIVE_ERR_LIMIT)
      return;
    if (err) {
      /* The stream reports the failure itself (on_error). */
      return;
    }
    buf_drain(out, n);
  }
}

/** Feed received bytes to the state machine and act on its events. */
static void
channel_pump(channel_t *chan)
{
  channel_mgr_t *mgr = chan->mgr;
  buf_t *tin = tls_stream_inbuf(chan->stream);
  buf_t *sin = channel_sm_inbuf(chan->sm);

  while (!chan->marked) {
    size_t n = buf_len(tin);
    if (n > buf_room(sin))
      n = buf_room(sin);
    if (n > 0 && buf_move(sin, tin, n) != CHIVE_OK) {
      mark_with_detail(chan, CHANNEL_CLOSE_RESOURCE, "out of memory");
      return;
    }
    tls_stream_resume(chan->stream);
    for (;;) {
      channel_sm_event_t ev = CHANNEL_SM_EV_NONE;
      cell_t cell;
      uint64_t t = now_ms(chan);
      if (channel_sm_process(chan->sm, t, clock_wall_s(mgr->clock), &ev,
                             &cell) != CHIVE_OK ||
          ev == CHANNEL_SM_EV_NONE)
        break;
      if (ev == CHANNEL_SM_EV_CLOSED) {
        mark_with_detail(chan, channel_sm_close_reason(chan->sm), NULL);
        return;
      }
      chan->last_active_ms = t;
      if (ev == CHANNEL_SM_EV_OPENED) {
        chan->was_open = true;
        evloop_timer_cancel(chan->hs_timer);
        channel_flush(chan); /* our NETINFO */
        if (mgr->cbs.on_open)
          mgr->cbs.on_open(chan, mgr->cb_arg);
      } else if (ev == CHANNEL_SM_EV_CELL && mgr->cbs.on_cell) {
        mgr->cbs.on_cell(chan, &cell, mgr->cb_arg);
      }
      if (chan->marked)
        return;
    }
    channel_flush(chan);
    if (n == 0 || buf_len(tin) == 0)
      break;
  }
}

/* ---- tls_stream callbacks ---------------------------------------------- */

static void
st_on_open(tls_stream_t *s, void *arg)
{
  channel_t *chan = arg;
  uint8_t *der = NULL;
  size_t len = 0;
  chive_err_t err = tls_conn_peer_cert(tls_stream_tls(s), &der, &len);
  if (err) {
    mark_with_detail(chan, err == CHIVE_ERR_NOMEM ? CHANNEL_CLOSE_RESOURCE
                                                  : CHANNEL_CLOSE_TLS_ERROR,
                     "no TLS peer certificate");
    return;
  }
  err = channel_sm_tls_done(chan->sm, der, len);
  chive_free(der);
  if (err) {
    mark_with_detail(chan, CHANNEL_CLOSE_RESOURCE, "cannot start handshake");
    return;
  }
  log_debug(chan->mgr->log, LD_CHANNEL,
            "Channel %" PRIu64 ": %s %s up, sending VERSIONS", chan->id,
            tls_conn_version_name(tls_stream_tls(s)),
            tls_conn_cipher_name(tls_stream_tls(s)));
  channel_flush(chan);
}

static void
st_on_readable(tls_stream_t *s, void *arg)
{
  (void)s;
  channel_pump(arg);
}

static void
st_on_error(tls_stream_t *s, chive_err_t err, void *arg)
{
  channel_t *chan = arg;
  const char *detail = "connection failed";
  if (err == CHIVE_ERR_CRYPTO || err == CHIVE_ERR_PROTO)
    detail = "TLS handshake or record failure";
  else if (err == CHIVE_ERR_CLOSED)
    detail = "relay closed the connection";
  (void)s;
  mark_with_detail(chan, reason_for_stream_error(err), detail);
}

static void
st_on_drained(tls_stream_t *s, void *arg)
{
  channel_t *chan = arg;
  (void)s;
  channel_flush(chan);
  note_drained(chan);
}

static const tls_stream_callbacks_t stream_cbs = {
    st_on_open, st_on_readable, st_on_error, st_on_drained};

/* ---- timers -------------------------------------------------------------- */

static void
hs_timer_cb(evloop_timer_t *t, void *arg)
{
  channel_t *chan = arg;
  if (chan->marked)
    return;
  if (channel_sm_check_timeout(chan->sm, now_ms(chan))) {
    mark_with_detail(chan, CHANNEL_CLOSE_TIMEOUT, NULL);
    return;
  }
  if (channel_sm_state(chan->sm) != CHANNEL_STATE_OPEN) {
    /* The clock (possibly a test clock) says "not yet": look again. */
    if (evloop_timer_schedule(t, chan->mgr->handshake_timeout_ms / 4 + 1))
      mark_with_detail(chan, CHANNEL_CLOSE_RESOURCE, "cannot arm timer");
  }
}

static void
idle_timer_cb(evloop_timer_t *t, void *arg)
{
  channel_mgr_t *mgr = arg;
  chive_list_t *pos;
  uint64_t now = clock_mono_ms(mgr->clock);
  (void)t;
  CHIVE_LIST_FOREACH(pos, &mgr->all)
  {
    channel_t *chan = CHIVE_CONTAINER_OF(pos, channel_t, link);
    if (chan->marked || channel_sm_state(chan->sm) != CHANNEL_STATE_OPEN)
      continue;
    if (channel_sm_n_circ_ids(chan->sm) == 0 &&
        now - chan->last_active_ms >= mgr->idle_timeout_ms)
      mark_with_detail(chan, CHANNEL_CLOSE_IDLE, "idle");
  }
}

/* ---- the manager -------------------------------------------------------- */

/* see channel.h */
chive_err_t
channel_mgr_new(const channel_mgr_config_t *cfg, channel_mgr_t **out)
{
  chive_err_t err;
  if (!cfg || !cfg->loop || !out)
    return CHIVE_ERR_INVAL;
  channel_mgr_t *mgr = chive_zalloc(sizeof(*mgr));
  if (!mgr)
    return CHIVE_ERR_NOMEM;
  chive_list_init(&mgr->all);
  mgr->loop = cfg->loop;
  mgr->clock = cfg->clock ? cfg->clock : clock_system();
  mgr->log = cfg->log;
  mgr->cbs = cfg->cbs;
  mgr->cb_arg = cfg->cb_arg;
  mgr->handshake_timeout_ms = cfg->handshake_timeout_ms
                                  ? cfg->handshake_timeout_ms
                                  : CHANNEL_HANDSHAKE_TIMEOUT_MS;
  mgr->idle_timeout_ms =
      cfg->idle_timeout_ms ? cfg->idle_timeout_ms : CHANNEL_IDLE_TIMEOUT_MS;
  mgr->idle_check_ms =
      cfg->idle_check_ms ? cfg->idle_check_ms : CHANNEL_IDLE_CHECK_MS;
  mgr->max_channels =
      cfg->max_channels ? cfg->max_channels : CHANNEL_MGR_MAX_CHANNELS;
  mgr->next_id = 1;
  if ((err = reaper_new(mgr->loop, &mgr->reaper)) ||
      (err = dmap_new(CHANNEL_RSA_ID_LEN, mgr->max_channels, &mgr->by_rsa)) ||
      (err = dmap_new(8, mgr->max_channels, &mgr->by_id)) ||
      (err = evloop_timer_new(mgr->loop, idle_timer_cb, mgr,
                              &mgr->idle_timer)) ||
      (err = evloop_timer_schedule_periodic(mgr->idle_timer,
                                            mgr->idle_check_ms))) {
    channel_mgr_free_(mgr);
    return err;
  }
  *out = mgr;
  return CHIVE_OK;
}

/* see channel.h */
void
channel_mgr_free_(channel_mgr_t *mgr)
{
  chive_list_t *pos;
  if (!mgr)
    return;
  if (mgr->reaper) {
    CHIVE_LIST_FOREACH(pos, &mgr->all)
    {
      channel_t *chan = CHIVE_CONTAINER_OF(pos, channel_t, link);
      mark_with_detail(chan, CHANNEL_CLOSE_REQUESTED, "shutting down");
    }
    reaper_free(mgr->reaper); /* reaps (and unlinks) every channel */
  }
  evloop_timer_free(mgr->idle_timer);
  dmap_free(mgr->by_rsa, NULL);
  dmap_free(mgr->by_id, NULL);
  chive_free(mgr);
}

/** Create a channel to <b>target</b> and start connecting. */
static chive_err_t
channel_new(channel_mgr_t *mgr, const channel_target_t *target,
            channel_t **out)
{
  channel_sm_config_t smc;
  uint8_t k[8];
  chive_err_t err;

  channel_t *chan = chive_zalloc(sizeof(*chan));
  if (!chan)
    return CHIVE_ERR_NOMEM;
  chan->magic = CHANNEL_MAGIC;
  chan->mgr = mgr;
  chan->id = mgr->next_id++;
  chan->target = *target;
  chive_list_init(&chan->link);
  reaper_entry_init(&chan->reap);

  memset(&smc, 0, sizeof(smc));
  memcpy(smc.expect.rsa_id, target->rsa_id, CHANNEL_RSA_ID_LEN);
  smc.expect.has_ed_id = target->has_ed_id;
  memcpy(smc.expect.ed_id, target->ed_id, CHANNEL_ED_ID_LEN);
  smc.peer_addr = target->addr.addr;
  smc.log = mgr->log;
  smc.handshake_timeout_ms = mgr->handshake_timeout_ms;
  uint64_t t = clock_mono_ms(mgr->clock);
  chan->last_active_ms = t;
  chan->sm = channel_sm_new(&smc, t);
  if (!chan->sm) {
    err = CHIVE_ERR_NOMEM;
    goto fail;
  }
  if ((err = evloop_timer_new(mgr->loop, hs_timer_cb, chan,
                              &chan->hs_timer)) ||
      (err = evloop_timer_schedule(chan->hs_timer,
                                   mgr->handshake_timeout_ms)))
    goto fail;
  if ((err = dmap_reserve(mgr->by_rsa, dmap_size(mgr->by_rsa) + 1)) ||
      (err = dmap_reserve(mgr->by_id, dmap_size(mgr->by_id) + 1)))
    goto fail;
  err = tls_stream_connect(evloop_base(mgr->loop), &target->addr, NULL,
                           NULL, &stream_cbs, chan, &chan->stream);
  if (err)
    goto fail;
  /* Reserved above: these cannot fail now. */
  void *old = NULL;
  id_key(k, chan->id);
  if (dmap_set(mgr->by_rsa, target->rsa_id, chan, &old) ||
      dmap_set(mgr->by_id, k, chan, NULL)) {
    err = CHIVE_ERR_INTERNAL;
    goto fail;
  }
  chive_list_add_tail(&mgr->all, &chan->link);
  *out = chan;
  return CHIVE_OK;
fail:
  if (chan->stream) {
    (void)dmap_remove(mgr->by_rsa, target->rsa_id);
    id_key(k, chan->id);
    (void)dmap_remove(mgr->by_id, k);
  }
  tls_stream_free(chan->stream);
  evloop_timer_free(chan->hs_timer);
  channel_sm_free(chan->sm);
  chive_free(chan);
  return err;
}

/* see channel.h */
chive_err_t
channel_mgr_get(channel_mgr_t *mgr, const channel_target_t *target,
                channel_t **out)
{
  char addr[NET_ADDRPORT_STR_LEN];
  if (BUG(!mgr || !target || !out))
    return CHIVE_ERR_INVAL;
  channel_t *chan = dmap_get(mgr->by_rsa, target->rsa_id);
  if (chan) {
    /* Reuse by identity (tor-spec §5.3.1).  A known, different Ed25519
     * identity cannot be satisfied by this relay. */
    const channel_peer_ids_t *ids = channel_sm_peer_ids(chan->sm);
    const uint8_t *have = NULL;
    if (ids)
      have = ids->ed_id;
    else if (chan->target.has_ed_id)
      have = chan->target.ed_id;
    if (target->has_ed_id && have &&
        !fast_memeq(have, target->ed_id, CHANNEL_ED_ID_LEN))
      return CHIVE_ERR_INVAL;
    *out = chan;
    return CHIVE_OK;
  }
  if (dmap_size(mgr->by_id) >= mgr->max_channels)
    return CHIVE_ERR_LIMIT;
  chive_err_t err = channel_new(mgr, target, &chan);
  if (err)
    return err;
  log_info(mgr->log, LD_CHANNEL, "Channel %" PRIu64 ": connecting to %s",
           chan->id, net_addrport_format(&target->addr, addr, sizeof(addr)));
  if (mgr->cbs.on_launched)
    mgr->cbs.on_launched(chan, mgr->cb_arg);
  *out = chan;
  return CHIVE_OK;
}

channel_t *
channel_mgr_find(const channel_mgr_t *mgr,
                 const uint8_t rsa_id[CHANNEL_RSA_ID_LEN])
{
  return dmap_get(mgr->by_rsa, rsa_id);
}

channel_t *
channel_mgr_get_by_id(const channel_mgr_t *mgr, uint64_t id)
{
  uint8_t k[8];
  id_key(k, id);
  return dmap_get(mgr->by_id, k);
}

size_t
channel_mgr_n_channels(const channel_mgr_t *mgr)
{
  return dmap_size(mgr->by_id);
}

size_t
channel_mgr_n_open(const channel_mgr_t *mgr)
{
  size_t n = 0;
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &mgr->all)
  {
    const channel_t *chan = CHIVE_CONTAINER_OF(pos, const channel_t, link);
    if (channel_is_open(chan))
      n++;
  }
  return n;
}

/* see channel.h */
void
channel_mgr_foreach(channel_mgr_t *mgr,
                    void (*fn)(channel_t *chan, void *arg), void *arg)
{
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &mgr->all)
  {
    channel_t *chan = CHIVE_CONTAINER_OF(pos, channel_t, link);
    if (!chan->marked)
      fn(chan, arg);
  }
}

/* see channel.h */
uint64_t
channel_mgr_bytes_read(const channel_mgr_t *mgr)
{
  uint64_t n = mgr->closed_bytes_read;
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &mgr->all)
  {
    n += channel_bytes_read(CHIVE_CONTAINER_OF(pos, const channel_t, link));
  }
  return n;
}

/* see channel.h */
uint64_t
channel_mgr_bytes_written(const channel_mgr_t *mgr)
{
  uint64_t n = mgr->closed_bytes_written;
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &mgr->all)
  {
    n += channel_bytes_written(
        CHIVE_CONTAINER_OF(pos, const channel_t, link));
  }
  return n;
}

/* ---- per-channel API ----------------------------------------------------- */

static chive_err_t
send_check(const channel_t *chan)
{
  if (BUG(!chan || chan->magic != CHANNEL_MAGIC))
    return CHIVE_ERR_INVAL;
  if (chan->marked)
    return CHIVE_ERR_CLOSED;
  if (channel_sm_state(chan->sm) != CHANNEL_STATE_OPEN)
    return CHIVE_ERR_INVAL;
  return CHIVE_OK;
}

/* see channel.h */
chive_err_t
channel_send_cell(channel_t *chan, const cell_t *cell)
{
  chive_err_t err = send_check(chan);
  if (err)
    return err;
  err = channel_sm_send_cell(chan->sm, cell);
  if (err) {
    if (err == CHIVE_ERR_LIMIT)
      log_info(chan->mgr->log, LD_CHANNEL,
               "Channel %" PRIu64 ": output queue full (%zu bytes)",
               chan->id, channel_queued_bytes(chan));
    return err;
  }
  chan->last_active_ms = now_ms(chan);
  channel_flush(chan);
  note_queued(chan);
  return CHIVE_OK;
}

/* see channel.h */
chive_err_t
channel_send_var_cell(channel_t *chan, const var_cell_t *cell)
{
  chive_err_t err = send_check(chan);
  if (err)
    return err;
  err = channel_sm_send_var_cell(chan->sm, cell);
  if (err)
    return err;
  channel_flush(chan);
  note_queued(chan);
  return CHIVE_OK;
}

/* see channel.h */
chive_err_t
channel_send_padding_negotiate(channel_t *chan, bool start,
                               uint16_t ito_low_ms, uint16_t ito_high_ms)
{
  chive_err_t err = send_check(chan);
  if (err)
    return err;
  err = channel_sm_send_padding_negotiate(chan->sm, start, ito_low_ms,
                                          ito_high_ms);
  if (err)
    return err;
  channel_flush(chan);
  return CHIVE_OK;
}

/* see channel.h */
chive_err_t
channel_alloc_circ_id(channel_t *chan, uint32_t *out)
{
  chive_err_t err = send_check(chan);
  if (err)
    return err;
  return channel_sm_alloc_circ_id(chan->sm, out);
}

bool
channel_release_circ_id(channel_t *chan, uint32_t id)
{
  bool r = channel_sm_release_circ_id(chan->sm, id);
  if (r)
    chan->last_active_ms = now_ms(chan);
  return r;
}

uint64_t
channel_id(const channel_t *chan)
{
  return chan->id;
}

channel_state_t
channel_state(const channel_t *chan)
{
  return channel_sm_state(chan->sm);
}

bool
channel_is_open(const channel_t *chan)
{
  return !chan->marked && channel_sm_state(chan->sm) == CHANNEL_STATE_OPEN;
}

bool
channel_is_closing(const channel_t *chan)
{
  return chan->marked;
}

bool
channel_was_open(const channel_t *chan)
{
  return chan->was_open;
}

bool
channel_is_congested(const channel_t *chan)
{
  return chan->congested;
}

channel_close_reason_t
channel_close_reason(const channel_t *chan)
{
  return channel_sm_close_reason(chan->sm);
}

const char *
channel_close_detail(const channel_t *chan)
{
  return channel_sm_close_detail(chan->sm);
}

unsigned
channel_link_proto(const channel_t *chan)
{
  return channel_sm_link_proto(chan->sm);
}

const channel_target_t *
channel_target(const channel_t *chan)
{
  return &chan->target;
}

const channel_peer_ids_t *
channel_peer_ids(const channel_t *chan)
{
  return channel_sm_peer_ids(chan->sm);
}

const channel_netinfo_result_t *
channel_netinfo(const channel_t *chan)
{
  return channel_sm_netinfo(chan->sm);
}

const char *
channel_tls_version(const channel_t *chan)
{
  tls_conn_t *tls = chan->stream ? tls_stream_tls(chan->stream) : NULL;
  return tls && tls_conn_handshake_done(tls) ? tls_conn_version_name(tls)
                                             : "";
}

const char *
channel_tls_cipher(const channel_t *chan)
{
  tls_conn_t *tls = chan->stream ? tls_stream_tls(chan->stream) : NULL;
  return tls && tls_conn_handshake_done(tls) ? tls_conn_cipher_name(tls)
                                             : "";
}

uint64_t
channel_bytes_read(const channel_t *chan)
{
  return chan->stream ? tls_stream_bytes_read(chan->stream) : 0;
}

uint64_t
channel_bytes_written(const channel_t *chan)
{
  return chan->stream ? tls_stream_bytes_written(chan->stream) : 0;
}
