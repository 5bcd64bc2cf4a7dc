/* Unit tests for core/channel's channel object and manager: real TCP +
 * TLS over loopback against an in-process fake relay (fake_relay.h with a
 * TLS server engine from lib/tls's test helpers), a real libevent loop,
 * and a fake clock for the handshake and idle timeouts. */
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <string.h>

#include "core/channel/channel.h"
#include "fake_relay.h"
#include "lib/net/socket.h"
#include "lib/tls/tls_stream.h"
#include "tinytest.h"

static fake_relay_t R;

/* ---- the fake relay's server side ------------------------------------- */

typedef enum srv_mode_t {
  SRV_NORMAL = 0, /* full handshake, answers CREATE_FAST */
  SRV_SILENT,     /* TLS, then never a cell */
  SRV_HANGUP,     /* TLS, then close */
  SRV_SINK,       /* full handshake, then discards every byte */
} srv_mode_t;

typedef struct srv_t {
  struct event_base *base;
  int lfd;
  struct event *ev_accept;
  tls_stream_t *s;
  srv_mode_t mode;
  uint8_t got[16384];
  size_t got_len;
  size_t parsed; /* client bytes consumed as cells */
  bool sent_flight;
  int n_accepted;
  int n_create_fast;
} srv_t;

static void
srv_readable(tls_stream_t *s, void *arg)
{
  srv_t *srv = arg;
  static uint8_t out[16384];
  size_t room = sizeof(srv->got) - srv->got_len;
  if (srv->mode == SRV_SINK && srv->sent_flight) {
    buf_t *in = tls_stream_inbuf(s);
    buf_drain(in, buf_len(in));
    tls_stream_resume(s);
    return;
  }
  srv->got_len += buf_remove(tls_stream_inbuf(s), srv->got + srv->got_len,
                             room);
  tls_stream_resume(s);
  if (srv->mode != SRV_NORMAL && srv->mode != SRV_SINK)
    return;
  if (!srv->sent_flight && srv->got_len >= 9) {
    fake_relay_opts_t o;
    memset(&o, 0, sizeof(o));
    o.add_type1 = true;
    wr_t w = wr_init(out, sizeof(out));
    if (!fake_relay_flight(&R, &o, 5, 0x7f000001u, &w) ||
        tls_stream_write(s, out, wr_used(&w)) != CHIVE_OK)
      return;
    srv->sent_flight = true;
    srv->parsed = 9;
  }
  /* After the client's VERSIONS: 514-byte cells (link protocol 5). */
  while (srv->sent_flight && srv->got_len - srv->parsed >= 514) {
    const uint8_t *c = srv->got + srv->parsed;
    if (c[4] == CELL_CREATE_FAST) {
      uint8_t reply[514];
      wr_t w = wr_init(reply, sizeof(reply));
      srv->n_create_fast++;
      if (fake_put_cell(&w, 5, load_u32(c), CELL_CREATED_FAST,
                        (const uint8_t *)"created!", 8) &&
          tls_stream_write(s, reply, sizeof(reply)) != CHIVE_OK)
        srv->n_create_fast = -1000; /* makes the test fail */
    }
    srv->parsed += 514;
  }
}

static void
srv_open(tls_stream_t *s, void *arg)
{
  srv_t *srv = arg;
  if (srv->mode == SRV_HANGUP) {
    tls_stream_free(s); /* allowed inside its own callback */
    srv->s = NULL;
  }
}

static void
srv_error(tls_stream_t *s, chive_err_t err, void *arg)
{
  (void)s;
  (void)err;
  (void)arg;
}

static const tls_stream_callbacks_t srv_cbs = {srv_open, srv_readable,
                                               srv_error, NULL};

static void
srv_accept(evutil_socket_t fd, short what, void *arg)
{
  srv_t *srv = arg;
  int cfd = -1;
  tls_conn_t *tls = NULL;
  (void)what;
  if (net_accept((int)fd, &cfd, NULL) != CHIVE_OK)
    return;
  srv->n_accepted++;
  if (srv->s || tls_testing_relay_server_new(R.tls, &tls) != CHIVE_OK) {
    net_close(cfd);
    return;
  }
  if (tls_stream_new_from_fd(srv->base, cfd, tls, NULL, &srv_cbs, srv,
                             &srv->s) != CHIVE_OK)
    srv->s = NULL;
}

static bool
srv_start(srv_t *srv, struct event_base *base, srv_mode_t mode,
          net_addrport_t *bound)
{
  net_addrport_t any;
  memset(srv, 0, sizeof(*srv));
  srv->base = base;
  srv->mode = mode;
  srv->lfd = -1;
  if (net_addrport_parse_str("127.0.0.1:1", &any) != CHIVE_OK)
    return false;
  any.port = 0;
  if (net_listen(&any, 0, &srv->lfd, bound) != CHIVE_OK)
    return false;
  srv->ev_accept =
      event_new(base, srv->lfd, EV_READ | EV_PERSIST, srv_accept, srv);
  return srv->ev_accept && event_add(srv->ev_accept, NULL) == 0;
}

static void
srv_stop(srv_t *srv)
{
  tls_stream_free(srv->s);
  if (srv->ev_accept)
    event_free(srv->ev_accept);
  srv->ev_accept = NULL;
  net_close(srv->lfd);
  srv->lfd = -1;
}

/* ---- the client side --------------------------------------------------- */

typedef struct cli_t {
  int n_open;
  int n_cells;
  int n_closed;
  int n_launched;
  int n_uncongested;
  size_t queued_at_uncongested;
  cell_t last_cell;
  channel_close_reason_t last_reason;
  uint64_t closed_id;
} cli_t;

static void
cli_open(channel_t *chan, void *arg)
{
  cli_t *c = arg;
  (void)chan;
  c->n_open++;
}

static void
cli_cell(channel_t *chan, const cell_t *cell, void *arg)
{
  cli_t *c = arg;
  (void)chan;
  c->n_cells++;
  c->last_cell = *cell;
}

static void
cli_launched(channel_t *chan, void *arg)
{
  cli_t *c = arg;
  (void)chan;
  c->n_launched++;
}

static void
cli_uncongested(channel_t *chan, void *arg)
{
  cli_t *c = arg;
  c->n_uncongested++;
  c->queued_at_uncongested = channel_queued_bytes(chan);
}

static void
cli_closed(channel_t *chan, void *arg)
{
  cli_t *c = arg;
  c->n_closed++;
  c->last_reason = channel_close_reason(chan);
  c->closed_id = channel_id(chan);
}

typedef struct env_t {
  struct event_base *base;
  evloop_t *loop;
  fakeclock_t clock;
  channel_mgr_t *mgr;
  cli_t cli;
  srv_t srv;
  net_addrport_t addr;
} env_t;

static bool
env_init(env_t *e, srv_mode_t mode, uint64_t hs_timeout_ms,
         uint64_t idle_ms)
{
  channel_mgr_config_t cfg;
  memset(e, 0, sizeof(*e));
  e->srv.lfd = -1;
  fakeclock_init(&e->clock, 1000000, FAKE_NOW);
  e->base = event_base_new();
  if (!e->base || evloop_new(e->base, &e->loop) != CHIVE_OK)
    return false;
  if (!srv_start(&e->srv, e->base, mode, &e->addr))
    return false;
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = e->loop;
  cfg.clock = fakeclock_clock(&e->clock);
  cfg.cbs.on_open = cli_open;
  cfg.cbs.on_cell = cli_cell;
  cfg.cbs.on_closed = cli_closed;
  cfg.cbs.on_launched = cli_launched;
  cfg.cbs.on_uncongested = cli_uncongested;
  cfg.cb_arg = &e->cli;
  cfg.handshake_timeout_ms = hs_timeout_ms;
  cfg.idle_timeout_ms = idle_ms;
  cfg.idle_check_ms = 20;
  return channel_mgr_new(&cfg, &e->mgr) == CHIVE_OK;
}

static void
env_clear(env_t *e)
{
  channel_mgr_free(e->mgr);
  srv_stop(&e->srv);
  evloop_free(e->loop);
  if (e->base)
    event_base_free(e->base);
}

static channel_target_t
target_for(const env_t *e)
{
  channel_target_t t;
  memset(&t, 0, sizeof(t));
  t.addr = e->addr;
  memcpy(t.rsa_id, R.rsa_id, 20);
  t.has_ed_id = true;
  memcpy(t.ed_id, R.ed_id.pubkey, 32);
  return t;
}

/* Run the loop (blocking per iteration) until *flag >= want. */
static void
run_until(env_t *e, const int *flag, int want)
{
  for (int i = 0; i < 5000 && *flag < want; i++)
    event_base_loop(e->base, EVLOOP_ONCE);
}

static void
test_open_send_receive_reuse_close(void)
{
  env_t e;
  channel_t *chan = NULL, *again = NULL;
  T_ASSERT(env_init(&e, SRV_NORMAL, 0, 0));
  channel_target_t t = target_for(&e);

  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  T_ASSERT(chan);
  T_EQ_INT(e.cli.n_open, 0); /* never synchronous */
  T_ASSERT(!channel_is_open(chan));
  uint32_t id = 0;
  T_EQ_INT(channel_alloc_circ_id(chan, &id), CHIVE_ERR_INVAL);
  run_until(&e, &e.cli.n_open, 1);
  T_EQ_INT(e.cli.n_open, 1);
  T_ASSERT(channel_is_open(chan));
  T_EQ_UINT(channel_link_proto(chan), 5);
  T_EQ_STR(channel_tls_version(chan), "TLSv1.3");
  T_EQ_MEM(channel_peer_ids(chan)->rsa_id, R.rsa_id, 20);
  T_EQ_MEM(channel_peer_ids(chan)->ed_id, R.ed_id.pubkey, 32);
  T_ASSERT(channel_netinfo(chan)->canonical);
  T_ASSERT(channel_bytes_read(chan) > 1000);

  /* Reuse by identity. */
  T_OK(channel_mgr_get(e.mgr, &t, &again));
  T_ASSERT(again == chan);
  T_ASSERT(channel_mgr_find(e.mgr, R.rsa_id) == chan);
  T_ASSERT(channel_mgr_get_by_id(e.mgr, channel_id(chan)) == chan);
  T_EQ_UINT(channel_mgr_n_channels(e.mgr), 1);
  /* A conflicting Ed25519 identity is refused, not reused. */
  channel_target_t bad = t;
  memcpy(bad.ed_id, R.ed_other.pubkey, 32);
  T_EQ_INT(channel_mgr_get(e.mgr, &bad, &again), CHIVE_ERR_INVAL);

  /* A CREATE_FAST round trip through the relay. */
  T_OK(channel_alloc_circ_id(chan, &id));
  T_ASSERT(id & 0x80000000u);
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.circ_id = id;
  c.command = CELL_CREATE_FAST;
  T_OK(channel_send_cell(chan, &c));
  run_until(&e, &e.cli.n_cells, 1);
  T_EQ_INT(e.cli.n_cells, 1);
  T_EQ_INT(e.srv.n_create_fast, 1);
  T_EQ_UINT(e.cli.last_cell.circ_id, id);
  T_EQ_UINT(e.cli.last_cell.command, CELL_CREATED_FAST);
  T_EQ_MEM(e.cli.last_cell.payload, "created!", 8);
  T_ASSERT(channel_release_circ_id(chan, id));

  /* Mark for close: callbacks deferred, the channel gone from lookups at
   * once, freed by the reaper. */
  uint64_t cid = channel_id(chan);
  channel_mark_for_close(chan, CHANNEL_CLOSE_REQUESTED);
  T_ASSERT(channel_is_closing(chan));
  T_EQ_INT(channel_send_cell(chan, &c), CHIVE_ERR_CLOSED);
  T_EQ_INT(e.cli.n_closed, 0);
  T_ASSERT(channel_mgr_find(e.mgr, R.rsa_id) == NULL);
  T_ASSERT(channel_mgr_get_by_id(e.mgr, cid) == NULL);
  channel_mark_for_close(chan, CHANNEL_CLOSE_IO_ERROR); /* idempotent */
  chan = NULL;
  run_until(&e, &e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_closed, 1);
  T_EQ_INT(e.cli.last_reason, CHANNEL_CLOSE_REQUESTED);
  T_EQ_UINT(e.cli.closed_id, cid);
  T_EQ_UINT(channel_mgr_n_channels(e.mgr), 0);
done:
  env_clear(&e);
}

static void
test_wrong_identity(void)
{
  env_t e;
  channel_t *chan = NULL;
  T_ASSERT(env_init(&e, SRV_NORMAL, 0, 0));
  channel_target_t t = target_for(&e);
  t.rsa_id[0] ^= 0xff;
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  run_until(&e, &e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_open, 0);
  T_EQ_INT(e.cli.last_reason, CHANNEL_CLOSE_WRONG_IDENTITY);
done:
  env_clear(&e);
}

/* The relay completes TLS and then says nothing: the handshake deadline
 * (measured on the fake clock) closes the channel. */
static void
test_stall_timeout(void)
{
  env_t e;
  channel_t *chan = NULL;
  T_ASSERT(env_init(&e, SRV_SILENT, 40, 0));
  channel_target_t t = target_for(&e);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  /* Real time passes, the fake clock does not: no timeout. */
  for (int i = 0; i < 20; i++)
    event_base_loop(e.base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
  struct timeval tv = {0, 100000};
  event_base_loopexit(e.base, &tv);
  event_base_dispatch(e.base);
  T_EQ_INT(e.cli.n_closed, 0);
  T_EQ_INT(channel_state(chan), CHANNEL_STATE_SENT_VERSIONS);
  fakeclock_advance_ms(&e.clock, 41);
  run_until(&e, &e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_closed, 1);
  T_EQ_INT(e.cli.last_reason, CHANNEL_CLOSE_TIMEOUT);
done:
  env_clear(&e);
}

static void
test_idle_close(void)
{
  env_t e;
  channel_t *chan = NULL;
  uint32_t id = 0;
  T_ASSERT(env_init(&e, SRV_NORMAL, 0, 1000));
  channel_target_t t = target_for(&e);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  run_until(&e, &e.cli.n_open, 1);
  T_EQ_INT(e.cli.n_open, 1);
  /* A circuit ID in use keeps it alive. */
  T_OK(channel_alloc_circ_id(chan, &id));
  fakeclock_advance_ms(&e.clock, 5000);
  struct timeval tv = {0, 100000};
  event_base_loopexit(e.base, &tv);
  event_base_dispatch(e.base);
  T_EQ_INT(e.cli.n_closed, 0);
  T_ASSERT(channel_release_circ_id(chan, id)); /* counts as activity */
  fakeclock_advance_ms(&e.clock, 999);
  event_base_loopexit(e.base, &tv);
  event_base_dispatch(e.base);
  T_EQ_INT(e.cli.n_closed, 0);
  fakeclock_advance_ms(&e.clock, 2);
  run_until(&e, &e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_closed, 1);
  T_EQ_INT(e.cli.last_reason, CHANNEL_CLOSE_IDLE);
done:
  env_clear(&e);
}

static void
test_remote_hangup_and_refused(void)
{
  env_t e;
  channel_t *chan = NULL;
  T_ASSERT(env_init(&e, SRV_HANGUP, 0, 0));
  channel_target_t t = target_for(&e);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  run_until(&e, &e.cli.n_closed, 1);
  T_EQ_INT(e.cli.n_closed, 1);
  T_ASSERT(e.cli.last_reason == CHANNEL_CLOSE_REMOTE_CLOSED ||
           e.cli.last_reason == CHANNEL_CLOSE_TLS_ERROR);

  /* Nobody listening. */
  srv_stop(&e.srv);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  run_until(&e, &e.cli.n_closed, 2);
  T_EQ_INT(e.cli.n_closed, 2);
  T_EQ_INT(e.cli.last_reason, CHANNEL_CLOSE_IO_ERROR);
  T_EQ_INT(e.cli.n_open, 0);
done:
  env_clear(&e);
}

/* Freeing the manager with channels open and opening closes them all,
 * each reported once. */
static void
test_mgr_free_with_channels(void)
{
  env_t e;
  channel_t *chan = NULL;
  T_ASSERT(env_init(&e, SRV_NORMAL, 0, 0));
  channel_target_t t = target_for(&e);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  run_until(&e, &e.cli.n_open, 1);
  channel_target_t t2 = t;
  t2.rsa_id[5] ^= 1; /* a second, still-connecting channel */
  T_OK(channel_mgr_get(e.mgr, &t2, &chan));
  T_EQ_UINT(channel_mgr_n_channels(e.mgr), 2);
  channel_mgr_free(e.mgr);
  T_EQ_INT(e.cli.n_closed, 2);
done:
  env_clear(&e);
}

/* Back-pressure: the relay does not read (the loop does not run), so the
 * kernel buffers fill and the channel's own queues grow past the
 * congestion mark; control cells are still accepted while congested;
 * once the relay reads, the queues drain and on_uncongested runs. */
static void
test_congestion(void)
{
  env_t e;
  channel_t *chan = NULL;
  cell_t c;
  T_ASSERT(env_init(&e, SRV_SINK, 0, 0));
  channel_target_t t = target_for(&e);
  T_OK(channel_mgr_get(e.mgr, &t, &chan));
  T_EQ_INT(e.cli.n_launched, 1); /* synchronous */
  run_until(&e, &e.cli.n_open, 1);
  T_ASSERT(channel_is_open(chan));
  T_ASSERT(channel_was_open(chan));
  T_ASSERT(!channel_is_congested(chan));
  uint64_t wr0 = channel_mgr_bytes_written(e.mgr);
  memset(&c, 0, sizeof(c));
  c.circ_id = 0x80000001u;
  c.command = CELL_PADDING;
  int sent = 0;
  while (!channel_is_congested(chan) && sent < 200000) {
    T_OK(channel_send_cell(chan, &c));
    sent++;
  }
  T_ASSERT(channel_is_congested(chan));
  T_ASSERT(channel_queued_bytes(chan) >= CHANNEL_CONGESTED_HIGH_BYTES);
  /* Far from the hard limit: control cells still fit. */
  for (int i = 0; i < 100; i++)
    T_OK(channel_send_cell(chan, &c));
  T_ASSERT(channel_queued_bytes(chan) < CHANNEL_SM_DEFAULT_OUT_MAX);
  T_EQ_INT(e.cli.n_uncongested, 0);
  run_until(&e, &e.cli.n_uncongested, 1);
  T_EQ_INT(e.cli.n_uncongested, 1);
  T_ASSERT(e.cli.queued_at_uncongested <= CHANNEL_CONGESTED_LOW_BYTES);
  T_ASSERT(!channel_is_congested(chan));
  T_ASSERT(channel_mgr_bytes_written(e.mgr) >=
           wr0 + (uint64_t)sent * 514u / 2u);
  T_EQ_UINT(channel_mgr_n_open(e.mgr), 1);
  /* Totals survive the channel. */
  uint64_t wr = channel_mgr_bytes_written(e.mgr);
  uint64_t rd = channel_mgr_bytes_read(e.mgr);
  channel_mark_for_close(chan, CHANNEL_CLOSE_REQUESTED);
  run_until(&e, &e.cli.n_closed, 1);
  T_ASSERT(channel_mgr_bytes_written(e.mgr) >= wr);
  T_ASSERT(channel_mgr_bytes_read(e.mgr) >= rd);
  T_EQ_UINT(channel_mgr_n_open(e.mgr), 0);
done:
  env_clear(&e);
}

static const t_case cases[] = {
    T_CASE(test_congestion),
    T_CASE(test_open_send_receive_reuse_close),
    T_CASE(test_wrong_identity),
    T_CASE(test_stall_timeout),
    T_CASE(test_idle_close),
    T_CASE(test_remote_hangup_and_refused),
    T_CASE(test_mgr_free_with_channels),
    T_END,
};

int main(int argc, char **argv);
int
main(int argc, char **argv)
{
  if (!fake_relay_init(&R)) {
    fprintf(stderr, "cannot create fake relay\n");
    return 1;
  }
  int rv = t_run(cases, argc, argv);
  fake_relay_free(&R);
  return rv;
}
