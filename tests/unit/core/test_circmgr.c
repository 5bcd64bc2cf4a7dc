/* Unit tests for core/circmgr: the circuit registry (CircuitIDs, planned
 * paths, states, times, close reasons), the observer, the counters and
 * the byte totals.  Real TCP + TLS over loopback against an in-process
 * relay (fake_relay.h for the link handshake) that answers CREATE_FAST,
 * CREATE2 (ntor) and EXTEND2 (for a second, virtual hop) with real
 * handshakes and relay crypto; a real libevent loop; a fake clock. */
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "core/circmgr/circmgr.h"
#include "core/crypto/onion_fast.h"
#include "core/crypto/onion_ntor.h"
#include "core/crypto/relay_crypto.h"
#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "core/proto/relay_cell.h"
#include "fake_relay.h"
#include "lib/crypto/rand.h"
#include "lib/crypto/x25519.h"
#include "lib/net/socket.h"
#include "lib/tls/tls_stream.h"
#include "tinytest.h"

static fake_relay_t R;
/* ntor keys of hop 0 (the TLS relay) and hop 1 (virtual, behind it). */
static crypto_x25519_keypair_t NTOR[2];
static uint8_t HOP1_RSA[20];

#define CELL_LEN 514 /* link protocol 5 */

/* ---- the relay --------------------------------------------------------- */

typedef enum srv_mode_t {
  SRV_NORMAL = 0, /* answer handshakes */
  SRV_DESTROY,    /* answer CREATE* with DESTROY(TIMEOUT) */
  SRV_SILENT,     /* read cells, answer nothing */
} srv_mode_t;

typedef struct srv_t {
  struct event_base *base;
  int lfd;
  struct event *ev_accept;
  tls_stream_t *s;
  srv_mode_t mode;
  uint8_t got[65536];
  size_t got_len;
  bool sent_flight;
  uint32_t circ_id;
  relay_crypto_t rc[2];
  relay_crypto_t *ptrs[2];
  size_t n_hops;
  int n_create, n_extend2, n_destroy, n_bad;
} srv_t;

static void
srv_install(srv_t *srv, size_t idx, const relay_keys_t *keys)
{
  relay_keys_t sw;
  memcpy(sw.df, keys->db, sizeof(sw.df));
  memcpy(sw.db, keys->df, sizeof(sw.db));
  memcpy(sw.kf, keys->kb, sizeof(sw.kf));
  memcpy(sw.kb, keys->kf, sizeof(sw.kb));
  relay_crypto_clear(&srv->rc[idx]);
  if (relay_crypto_init(&srv->rc[idx], &sw) != CHIVE_OK)
    abort();
  relay_keys_clear(&sw);
  srv->ptrs[idx] = &srv->rc[idx];
  srv->n_hops = idx + 1;
}

static void
srv_send(srv_t *srv, uint8_t cmd, const uint8_t *payload, size_t len)
{
  uint8_t out[CELL_LEN];
  wr_t w = wr_init(out, sizeof(out));
  if (!fake_put_cell(&w, 5, srv->circ_id, cmd, payload, len) ||
      tls_stream_write(srv->s, out, sizeof(out)) != CHIVE_OK)
    srv->n_bad++;
}

/* An EXTEND2 to hop 1, sent through hop 0: ntor with hop 1's keys, then
 * EXTENDED2 back from hop 0. */
static void
srv_extend(srv_t *srv, const relay_cell_t *m)
{
  extend2_t e;
  relay_keys_t keys;
  uint8_t reply[ONION_NTOR_REPLY_LEN];
  uint8_t body[RELAY_PAYLOAD_LEN];
  uint8_t payload[CELL_PAYLOAD_LEN];
  size_t len;
  relay_header_t h;
  srv->n_extend2++;
  if (extend2_parse(m->body, m->h.length, &e) != CHIVE_OK ||
      e.create.htype != ONION_NTOR_HTYPE ||
      onion_ntor_server_handshake(HOP1_RSA, NTOR[1].seckey, NTOR[1].pubkey,
                                  e.create.hdata, NULL, reply,
                                  &keys) != CHIVE_OK) {
    srv->n_bad++;
    return;
  }
  created2_t c2 = {ONION_NTOR_REPLY_LEN, reply};
  if (extended2_encode(&c2, body, sizeof(body), &len) != CHIVE_OK)
    abort();
  memset(&h, 0, sizeof(h));
  h.command = RELAY_COMMAND_EXTENDED2;
  if (relay_cell_pack(&h, body, len, NULL, 0, payload, sizeof(payload)) !=
          CHIVE_OK ||
      relay_crypto_encrypt_outbound(srv->ptrs, srv->n_hops, 0, payload) !=
          CHIVE_OK)
    abort();
  srv_install(srv, 1, &keys);
  relay_keys_clear(&keys);
  srv_send(srv, CELL_RELAY, payload, sizeof(payload));
}

static void
srv_cell(srv_t *srv, const uint8_t *c)
{
  const uint8_t cmd = c[4];
  const uint8_t *body = c + 5;
  relay_keys_t keys;
  srv->circ_id = load_u32(c);
  if (cmd == CELL_DESTROY) {
    srv->n_destroy++;
    return;
  }
  if (cmd == CELL_CREATE_FAST || cmd == CELL_CREATE2) {
    srv->n_create++;
    if (srv->mode == SRV_SILENT)
      return;
    if (srv->mode == SRV_DESTROY) {
      uint8_t reason = DESTROY_REASON_TIMEOUT;
      srv_send(srv, CELL_DESTROY, &reason, 1);
      return;
    }
  }
  if (cmd == CELL_CREATE_FAST) {
    created_fast_t cd;
    uint8_t p[CELL_PAYLOAD_LEN];
    size_t len;
    if (crypto_rand(cd.y, sizeof(cd.y)) != CHIVE_OK ||
        onion_fast_server_handshake(body, cd.y, cd.kh, &keys) != CHIVE_OK)
      abort();
    srv_install(srv, 0, &keys);
    relay_keys_clear(&keys);
    if (created_fast_encode(&cd, p, sizeof(p), &len) != CHIVE_OK)
      abort();
    srv_send(srv, CELL_CREATED_FAST, p, len);
  } else if (cmd == CELL_CREATE2) {
    create2_t c2;
    uint8_t reply[ONION_NTOR_REPLY_LEN];
    uint8_t p[CELL_PAYLOAD_LEN];
    size_t len;
    if (create2_parse(body, CELL_PAYLOAD_LEN, &c2) != CHIVE_OK ||
        c2.htype != ONION_NTOR_HTYPE ||
        onion_ntor_server_handshake(R.rsa_id, NTOR[0].seckey, NTOR[0].pubkey,
                                    c2.hdata, NULL, reply,
                                    &keys) != CHIVE_OK) {
      srv->n_bad++;
      return;
    }
    srv_install(srv, 0, &keys);
    relay_keys_clear(&keys);
    created2_t cd = {ONION_NTOR_REPLY_LEN, reply};
    if (created2_encode(&cd, p, sizeof(p), &len) != CHIVE_OK)
      abort();
    srv_send(srv, CELL_CREATED2, p, len);
  } else if (cmd == CELL_RELAY || cmd == CELL_RELAY_EARLY) {
    uint8_t p[CELL_PAYLOAD_LEN];
    size_t hop = 0;
    relay_cell_t m;
    memcpy(p, body, sizeof(p));
    if (srv->n_hops == 0 ||
        relay_crypto_decrypt_inbound(srv->ptrs, srv->n_hops, p, &hop) !=
            CHIVE_OK ||
        relay_cell_parse(p, sizeof(p), &m) != CHIVE_OK) {
      srv->n_bad++;
      return;
    }
    if (m.h.command == RELAY_COMMAND_EXTEND2 && hop == 0 &&
        srv->mode == SRV_NORMAL)
      srv_extend(srv, &m);
  }
}

static void
srv_readable(tls_stream_t *s, void *arg)
{
  srv_t *srv = arg;
  static uint8_t out[16384];
  size_t room = sizeof(srv->got) - srv->got_len;
  srv->got_len +=
      buf_remove(tls_stream_inbuf(s), srv->got + srv->got_len, room);
  tls_stream_resume(s);
  size_t used = 0;
  if (!srv->sent_flight && srv->got_len >= 9) {
    fake_relay_opts_t o;
    memset(&o, 0, sizeof(o));
    wr_t w = wr_init(out, sizeof(out));
    if (!fake_relay_flight(&R, &o, 5, 0x7f000001u, &w) ||
        tls_stream_write(s, out, wr_used(&w)) != CHIVE_OK)
      return;
    srv->sent_flight = true;
    used = 9; /* the client's VERSIONS */
  }
  while (srv->sent_flight && srv->got_len - used >= CELL_LEN) {
    srv_cell(srv, srv->got + used);
    used += CELL_LEN;
  }
  memmove(srv->got, srv->got + used, srv->got_len - used);
  srv->got_len -= used;
}

static void
srv_error(tls_stream_t *s, chive_err_t err, void *arg)
{
  (void)s;
  (void)err;
  (void)arg;
}

static const tls_stream_callbacks_t srv_cbs = {NULL, srv_readable, srv_error,
                                               NULL};

static void
srv_accept(evutil_socket_t fd, short what, void *arg)
{
  srv_t *srv = arg;
  int cfd = -1;
  tls_conn_t *tls = NULL;
  (void)what;
  if (net_accept((int)fd, &cfd, NULL) != CHIVE_OK)
    return;
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
  relay_crypto_clear(&srv->rc[0]);
  relay_crypto_clear(&srv->rc[1]);
}

/* ---- the observer and owner -------------------------------------------- */

#define MAX_EVS 64

typedef struct rec_t {
  bool is_chan;
  int ev;
  int reason;
  bool remote;
  uint32_t circ_id; /* CircuitID for circuit events */
  ocirc_state_t state;
  size_t hops_built;
} rec_t;

typedef struct obs_t {
  rec_t ev[MAX_EVS];
  int n;
  int n_built, n_closed_any, n_chan_open, n_chan_end;
  int n_owner_opened, n_owner_closed;
} obs_t;

static void
obs_circ(ocirc_t *oc, circmgr_circ_ev_t ev, uint8_t reason, bool remote,
         void *arg)
{
  obs_t *o = arg;
  if (o->n < MAX_EVS) {
    rec_t *r = &o->ev[o->n++];
    r->is_chan = false;
    r->ev = (int)ev;
    r->reason = reason;
    r->remote = remote;
    r->circ_id = ocirc_id(oc);
    r->state = ocirc_state(oc);
    r->hops_built = ocirc_hops_built(oc);
  }
  if (ev == CIRCMGR_CIRC_BUILT)
    o->n_built++;
  if (ev == CIRCMGR_CIRC_FAILED || ev == CIRCMGR_CIRC_CLOSED)
    o->n_closed_any++;
}

static void
obs_chan(channel_t *ch, circmgr_chan_ev_t ev, int reason, void *arg)
{
  obs_t *o = arg;
  (void)ch;
  if (o->n < MAX_EVS) {
    rec_t *r = &o->ev[o->n++];
    r->is_chan = true;
    r->ev = (int)ev;
    r->reason = reason;
  }
  if (ev == CIRCMGR_CHAN_CONNECTED)
    o->n_chan_open++;
  if (ev == CIRCMGR_CHAN_FAILED || ev == CIRCMGR_CHAN_CLOSED)
    o->n_chan_end++;
}

static void
own_opened(ocirc_t *oc, void *arg)
{
  obs_t *o = arg;
  (void)oc;
  o->n_owner_opened++;
}

static void
own_closed(ocirc_t *oc, uint8_t reason, bool remote, void *arg)
{
  obs_t *o = arg;
  (void)oc;
  (void)reason;
  (void)remote;
  o->n_owner_closed++;
}

static const circmgr_observer_t observer = {obs_circ, obs_chan};
static const ocirc_events_t owner = {own_opened, own_closed, NULL};

/* ---- environment -------------------------------------------------------- */

typedef struct env_t {
  struct event_base *base;
  evloop_t *loop;
  fakeclock_t clock;
  circmgr_t *m;
  srv_t srv;
  net_addrport_t addr;
  obs_t obs;
} env_t;

static bool
env_init(env_t *e, srv_mode_t mode)
{
  circmgr_config_t cfg;
  memset(e, 0, sizeof(*e));
  e->srv.lfd = -1;
  fakeclock_init(&e->clock, 5000000, FAKE_NOW);
  e->base = event_base_new();
  if (!e->base || evloop_new(e->base, &e->loop) != CHIVE_OK)
    return false;
  if (!srv_start(&e->srv, e->base, mode, &e->addr))
    return false;
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = e->loop;
  cfg.clock = fakeclock_clock(&e->clock);
  circuit_params_default(&cfg.params);
  cfg.params.use_ntor_v3 = false;
  if (circmgr_new(&cfg, &e->m) != CHIVE_OK)
    return false;
  circmgr_set_observer(e->m, &observer, &e->obs);
  return true;
}

static void
env_clear(env_t *e)
{
  circmgr_free(e->m);
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

static void
hop_info(const env_t *e, size_t i, circuit_hop_info_t *h)
{
  memset(h, 0, sizeof(*h));
  h->has_ipv4 = true;
  memcpy(h->ipv4, e->addr.addr.ip, 4);
  h->ipv4_port = i == 0 ? e->addr.port : 9999;
  memcpy(h->rsa_id, i == 0 ? R.rsa_id : HOP1_RSA, 20);
  if (i == 0) {
    h->has_ed_id = true;
    memcpy(h->ed_id, R.ed_id.pubkey, 32);
  }
  memcpy(h->ntor_onion_key, NTOR[i].pubkey, 32);
}

static void
run_until(env_t *e, const int *flag, int want)
{
  for (int i = 0; i < 5000 && *flag < want; i++)
    event_base_loop(e->base, EVLOOP_ONCE);
}

/* Let the loop run briefly (reaper, pending I/O). */
static void
spin(env_t *e)
{
  struct timeval tv = {0, 50000};
  event_base_loopexit(e->base, &tv);
  event_base_dispatch(e->base);
}

static void
count_cb(ocirc_t *oc, void *arg)
{
  (void)oc;
  (*(int *)arg)++;
}

static void
chan_count_cb(channel_t *ch, void *arg)
{
  (void)ch;
  (*(int *)arg)++;
}

/* ---- tests --------------------------------------------------------------- */

/* A CREATE_FAST circuit from launch to close: IDs, the planned path,
 * states, times, events in order, counters. */
static void
test_create_fast_lifecycle(void)
{
  env_t e;
  ocirc_t *oc = NULL, *oc2 = NULL;
  T_ASSERT(env_init(&e, SRV_NORMAL));
  channel_target_t t = target_for(&e);

  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc));
  T_EQ_UINT(ocirc_id(oc), 1);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_LAUNCHED);
  T_EQ_STR(ocirc_state_name(ocirc_state(oc)), "LAUNCHED");
  T_ASSERT(ocirc_is_create_fast(oc));
  T_EQ_UINT(ocirc_n_hops_planned(oc), 1);
  T_EQ_MEM(ocirc_hop(oc, 0)->rsa_id, R.rsa_id, 20);
  T_EQ_MEM(ocirc_hop(oc, 0)->ipv4, e.addr.addr.ip, 4);
  T_EQ_UINT(ocirc_hop(oc, 0)->ipv4_port, e.addr.port);
  T_ASSERT(ocirc_hop(oc, 1) == NULL);
  int64_t sec = 0;
  uint32_t usec = 1;
  ocirc_launched_wall(oc, &sec, &usec);
  T_EQ_INT(sec, FAKE_NOW);
  T_EQ_UINT(usec, 0);
  T_EQ_UINT(ocirc_launched_us(oc), 5000000);
  T_ASSERT(circmgr_find_by_id(e.m, 1) == oc);
  T_ASSERT(circmgr_find_by_id(e.m, 2) == NULL);
  T_ASSERT(circmgr_find_by_id(e.m, 0) == NULL);
  /* Synchronous: channel LAUNCHED, then circuit LAUNCHED. */
  T_EQ_INT(e.obs.n, 2);
  T_ASSERT(e.obs.ev[0].is_chan);
  T_EQ_INT(e.obs.ev[0].ev, CIRCMGR_CHAN_LAUNCHED);
  T_ASSERT(!e.obs.ev[1].is_chan);
  T_EQ_INT(e.obs.ev[1].ev, CIRCMGR_CIRC_LAUNCHED);
  T_EQ_UINT(e.obs.ev[1].circ_id, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_launched, 1);
  T_EQ_UINT(circmgr_stats(e.m)->chans_launched, 1);
  T_EQ_UINT(circmgr_n_open_channels(e.m), 0);

  fakeclock_advance_ms(&e.clock, 7);
  run_until(&e, &e.obs.n_built, 1);
  T_EQ_INT(e.obs.n_built, 1);
  T_EQ_INT(e.obs.n_owner_opened, 1);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_BUILT);
  T_EQ_UINT(ocirc_hops_built(oc), 1);
  /* chan CONNECTED, circ EXTENDED (hop 1 of 1), circ BUILT. */
  T_EQ_INT(e.obs.n, 5);
  T_ASSERT(e.obs.ev[2].is_chan);
  T_EQ_INT(e.obs.ev[2].ev, CIRCMGR_CHAN_CONNECTED);
  T_EQ_INT(e.obs.ev[3].ev, CIRCMGR_CIRC_EXTENDED);
  T_EQ_UINT(e.obs.ev[3].hops_built, 1);
  T_EQ_INT(e.obs.ev[3].state, OCIRC_STATE_BUILDING);
  T_EQ_INT(e.obs.ev[4].ev, CIRCMGR_CIRC_BUILT);
  T_EQ_INT(e.obs.ev[4].state, OCIRC_STATE_BUILT);
  T_EQ_UINT(circmgr_stats(e.m)->circs_built, 1);
  T_EQ_UINT(circmgr_stats(e.m)->chans_connected, 1);
  T_EQ_UINT(circmgr_n_open_channels(e.m), 1);
  T_ASSERT(ocirc_build_time_us(oc) == 0 || ocirc_build_time_us(oc) >= 1);
  T_EQ_UINT(circmgr_stats(e.m)->build_time_us_total,
            ocirc_build_time_us(oc));
  T_ASSERT(circmgr_bytes_read(e.m) > 1000);    /* CERTS etc. */
  T_ASSERT(circmgr_bytes_written(e.m) > 514);  /* CREATE_FAST */
  size_t counts[OCIRC_N_STATES];
  circmgr_count_states(e.m, counts);
  T_EQ_UINT(counts[OCIRC_STATE_BUILT], 1);
  T_EQ_UINT(counts[OCIRC_STATE_LAUNCHED], 0);

  /* Purpose change: reported with the old purpose; same value: silent. */
  ocirc_set_purpose(oc, CIRCUIT_PURPOSE_DIR_ONEHOP);
  T_EQ_INT(e.obs.n, 5);
  ocirc_set_purpose(oc, CIRCUIT_PURPOSE_GENERAL);
  T_EQ_INT(e.obs.n, 6);
  T_EQ_INT(e.obs.ev[5].ev, CIRCMGR_CIRC_PURPOSE_CHANGED);
  T_EQ_INT(e.obs.ev[5].reason, CIRCUIT_PURPOSE_DIR_ONEHOP);
  T_EQ_INT(ocirc_purpose(oc), CIRCUIT_PURPOSE_GENERAL);
  T_EQ_INT(circuit_purpose(ocirc_circuit(oc)), CIRCUIT_PURPOSE_GENERAL);

  /* A second circuit on the same channel: the next CircuitID. */
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc2));
  T_EQ_UINT(ocirc_id(oc2), 2);
  T_EQ_UINT(ocirc_channel_id(oc2), ocirc_channel_id(oc));
  run_until(&e, &e.obs.n_built, 2);
  T_EQ_INT(e.obs.n_built, 2);
  int n = 0;
  circmgr_foreach(e.m, count_cb, &n);
  T_EQ_INT(n, 2);
  n = 0;
  circmgr_foreach_channel(e.m, chan_count_cb, &n);
  T_EQ_INT(n, 1);

  /* Close after BUILT: CLOSED (not FAILED), the reason, not remote. */
  int before = e.obs.n;
  ocirc_close(oc, DESTROY_REASON_REQUESTED);
  T_EQ_INT(e.obs.n, before + 1);
  T_EQ_INT(e.obs.ev[before].ev, CIRCMGR_CIRC_CLOSED);
  T_EQ_INT(e.obs.ev[before].reason, DESTROY_REASON_REQUESTED);
  T_ASSERT(!e.obs.ev[before].remote);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_CLOSED);
  T_EQ_INT(ocirc_close_reason(oc), DESTROY_REASON_REQUESTED);
  T_ASSERT(!ocirc_closed_remotely(oc));
  T_ASSERT(circmgr_find_by_id(e.m, 1) == NULL);
  T_EQ_UINT(circmgr_stats(e.m)->circs_closed, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_failed, 0);
  n = 0;
  circmgr_foreach(e.m, count_cb, &n);
  T_EQ_INT(n, 1);
  run_until(&e, &e.srv.n_destroy, 1);
  T_EQ_INT(e.srv.n_destroy, 1);
  spin(&e); /* reap */
  T_EQ_UINT(circmgr_n_circuits(e.m), 1);
  T_ASSERT(circmgr_find_by_id(e.m, 2) == oc2);
done:
  env_clear(&e);
}

/* CREATE2 then ocirc_extend() (EXTENDCIRCUIT) to a second hop. */
static void
test_create2_and_extend(void)
{
  env_t e;
  ocirc_t *oc = NULL;
  circuit_hop_info_t h0, h1;
  T_ASSERT(env_init(&e, SRV_NORMAL));
  channel_target_t t = target_for(&e);
  hop_info(&e, 0, &h0);
  hop_info(&e, 1, &h1);
  T_OK(circmgr_launch(e.m, &t, false, &h0, 1, CIRCUIT_PURPOSE_GENERAL,
                      &owner, &e.obs, &oc));
  T_ASSERT(!ocirc_is_create_fast(oc));
  T_EQ_UINT(ocirc_n_hops_planned(oc), 1);
  run_until(&e, &e.obs.n_built, 1);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_BUILT);
  T_EQ_UINT(ocirc_hops_built(oc), 1);

  T_OK(ocirc_extend(oc, &h1));
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_BUILDING);
  T_EQ_UINT(ocirc_n_hops_planned(oc), 2);
  T_EQ_MEM(ocirc_hop(oc, 1)->rsa_id, HOP1_RSA, 20);
  run_until(&e, &e.obs.n_built, 2);
  T_EQ_INT(e.obs.n_built, 2);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_BUILT);
  T_EQ_UINT(ocirc_hops_built(oc), 2);
  T_EQ_INT(e.srv.n_extend2, 1);
  T_EQ_INT(e.srv.n_bad, 0);
  /* The owner heard "opened" once; built counted once. */
  T_EQ_INT(e.obs.n_owner_opened, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_built, 1);
  /* The last two circuit events: EXTENDED (2 hops) and BUILT. */
  T_EQ_INT(e.obs.ev[e.obs.n - 2].ev, CIRCMGR_CIRC_EXTENDED);
  T_EQ_UINT(e.obs.ev[e.obs.n - 2].hops_built, 2);
  T_EQ_INT(e.obs.ev[e.obs.n - 1].ev, CIRCMGR_CIRC_BUILT);

  /* Refusals change nothing. */
  ocirc_t *fast = NULL;
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      NULL, NULL, &fast));
  T_EQ_INT(ocirc_extend(fast, &h1), CHIVE_ERR_INVAL);
  T_EQ_UINT(ocirc_n_hops_planned(fast), 1);
  ocirc_close(oc, DESTROY_REASON_FINISHED);
  T_EQ_INT(ocirc_extend(oc, &h1), CHIVE_ERR_INVAL);
done:
  env_clear(&e);
}

/* The relay answers CREATE_FAST with DESTROY: FAILED, remote, counted by
 * reason; the owner's closed callback runs once. */
static void
test_failed_by_destroy(void)
{
  env_t e;
  ocirc_t *oc = NULL;
  T_ASSERT(env_init(&e, SRV_DESTROY));
  channel_target_t t = target_for(&e);
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc));
  run_until(&e, &e.obs.n_closed_any, 1);
  T_EQ_INT(e.obs.n_closed_any, 1);
  rec_t *last = &e.obs.ev[e.obs.n - 1];
  T_EQ_INT(last->ev, CIRCMGR_CIRC_FAILED);
  T_EQ_INT(last->reason, DESTROY_REASON_TIMEOUT);
  T_ASSERT(last->remote);
  T_EQ_INT(ocirc_close_reason(oc), DESTROY_REASON_TIMEOUT);
  T_ASSERT(ocirc_closed_remotely(oc));
  T_EQ_INT(e.obs.n_owner_closed, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_failed, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_failed_by_reason[DESTROY_REASON_TIMEOUT],
            1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_closed, 0);
  T_EQ_UINT(circmgr_stats(e.m)->circs_built, 0);
done:
  env_clear(&e);
}

/* Nobody listens: channel FAILED, circuit FAILED (CHANNEL_CLOSED, remote);
 * then a relay that goes away after the channel opened: channel CLOSED. */
static void
test_channel_failed_and_closed(void)
{
  env_t e;
  ocirc_t *oc = NULL;
  T_ASSERT(env_init(&e, SRV_SILENT));
  channel_target_t t = target_for(&e);

  /* First, an open channel whose relay then hangs up. */
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc));
  run_until(&e, &e.obs.n_chan_open, 1);
  T_EQ_INT(e.obs.n_chan_open, 1);
  run_until(&e, &e.srv.n_create, 1);
  T_EQ_INT(ocirc_state(oc), OCIRC_STATE_BUILDING);
  uint64_t rd = circmgr_bytes_read(e.m), wr = circmgr_bytes_written(e.m);
  T_ASSERT(rd > 0 && wr > 0);
  tls_stream_free(e.srv.s);
  run_until(&e, &e.obs.n_chan_end, 1);
  T_EQ_INT(e.obs.n_chan_end, 1);
  run_until(&e, &e.obs.n_closed_any, 1);
  T_EQ_INT(e.obs.n_closed_any, 1);
  /* Channel CLOSED, then the circuit FAILED with CHANNEL_CLOSED. */
  T_ASSERT(e.obs.ev[e.obs.n - 2].is_chan);
  T_EQ_INT(e.obs.ev[e.obs.n - 2].ev, CIRCMGR_CHAN_CLOSED);
  T_EQ_INT(e.obs.ev[e.obs.n - 1].ev, CIRCMGR_CIRC_FAILED);
  T_EQ_INT(e.obs.ev[e.obs.n - 1].reason, DESTROY_REASON_CHANNEL_CLOSED);
  T_ASSERT(e.obs.ev[e.obs.n - 1].remote);
  T_EQ_UINT(circmgr_stats(e.m)->chans_closed, 1);
  /* Totals include the closed channel. */
  T_ASSERT(circmgr_bytes_read(e.m) >= rd);
  T_ASSERT(circmgr_bytes_written(e.m) >= wr);
  T_EQ_UINT(circmgr_n_open_channels(e.m), 0);

  /* Then nobody listening at all. */
  srv_stop(&e.srv);
  int n_end = e.obs.n_chan_end, n_closed = e.obs.n_closed_any;
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc));
  T_EQ_UINT(ocirc_id(oc), 2);
  run_until(&e, &e.obs.n_closed_any, n_closed + 1);
  T_EQ_INT(e.obs.n_chan_end, n_end + 1);
  T_ASSERT(e.obs.ev[e.obs.n - 2].is_chan);
  T_EQ_INT(e.obs.ev[e.obs.n - 2].ev, CIRCMGR_CHAN_FAILED);
  T_EQ_INT(e.obs.ev[e.obs.n - 2].reason, CHANNEL_CLOSE_IO_ERROR);
  T_EQ_INT(e.obs.ev[e.obs.n - 1].ev, CIRCMGR_CIRC_FAILED);
  T_EQ_UINT(circmgr_stats(e.m)->chans_failed, 1);
  T_EQ_UINT(circmgr_stats(e.m)->circs_failed, 2);
  T_EQ_UINT(circmgr_stats(e.m)->circs_failed_by_reason
                [DESTROY_REASON_CHANNEL_CLOSED],
            2);
  T_ASSERT(circmgr_bytes_read(e.m) >= rd);
done:
  env_clear(&e);
}

/* Freeing the manager closes circuits without calling a stale observer. */
static void
test_free_silences_observer(void)
{
  env_t e;
  ocirc_t *oc = NULL;
  T_ASSERT(env_init(&e, SRV_NORMAL));
  channel_target_t t = target_for(&e);
  T_OK(circmgr_launch(e.m, &t, true, NULL, 0, CIRCUIT_PURPOSE_DIR_ONEHOP,
                      &owner, &e.obs, &oc));
  run_until(&e, &e.obs.n_built, 1);
  int n = e.obs.n;
  circmgr_free(e.m);
  T_EQ_INT(e.obs.n, n);
  T_EQ_INT(e.obs.n_owner_closed, 1); /* the owner is still told */
done:
  env_clear(&e);
}

static const t_case cases[] = {
    T_CASE(test_create_fast_lifecycle),
    T_CASE(test_create2_and_extend),
    T_CASE(test_failed_by_destroy),
    T_CASE(test_channel_failed_and_closed),
    T_CASE(test_free_silences_observer),
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
  if (crypto_x25519_keypair_generate(&NTOR[0]) != CHIVE_OK ||
      crypto_x25519_keypair_generate(&NTOR[1]) != CHIVE_OK ||
      crypto_rand(HOP1_RSA, sizeof(HOP1_RSA)) != CHIVE_OK)
    return 1;
  int rv = t_run(cases, argc, argv);
  fake_relay_free(&R);
  return rv;
}
