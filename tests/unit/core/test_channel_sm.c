/* Unit tests for core/channel: the sans-I/O link handshake state machine
 * (tor-spec §4), CERTS verification (§4.2) and circuit-ID allocation
 * (§5.1.1), against a fake relay and a fake clock.  No sockets. */
#include "lib/cc/compat.h"

#include <string.h>

#include "core/channel/channel_certs.h"
#include "core/channel/channel_sm.h"
#include "core/channel/circid.h"
#include "fake_relay.h"
#include "tinytest.h"

#define RELAY_IPV4 0x7f000001u /* 127.0.0.1 */

static fake_relay_t R; /* shared: RSA keygen is slow-ish */

static channel_sm_t *
new_sm(bool with_ed, uint64_t now_ms)
{
  channel_sm_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  memcpy(cfg.expect.rsa_id, R.rsa_id, 20);
  if (with_ed) {
    cfg.expect.has_ed_id = true;
    memcpy(cfg.expect.ed_id, R.ed_id.pubkey, 32);
  }
  net_addr_from_ipv4(&cfg.peer_addr, RELAY_IPV4);
  return channel_sm_new(&cfg, now_ms);
}

/* Feed the relay bytes and run process until NONE; return the last
 * non-NONE event (CELL events counted in *n_cells). */
static channel_sm_event_t
drive(channel_sm_t *sm, const uint8_t *p, size_t n, int *n_cells)
{
  channel_sm_event_t last = CHANNEL_SM_EV_NONE, ev;
  cell_t c;
  if (n && channel_sm_feed(sm, p, n) != CHIVE_OK)
    return CHANNEL_SM_EV_NONE;
  for (int i = 0; i < 1000; i++) {
    if (channel_sm_process(sm, 1000, FAKE_NOW, &ev, &c) != CHIVE_OK)
      break;
    if (ev == CHANNEL_SM_EV_NONE)
      break;
    if (ev == CHANNEL_SM_EV_CELL && n_cells)
      (*n_cells)++;
    last = ev;
  }
  return last;
}

/* Run a full handshake with the given CERTS options; return the SM. */
static channel_sm_t *
handshake(const fake_relay_opts_t *o, bool with_ed, unsigned lp,
          channel_sm_event_t *ev_out)
{
  static uint8_t flight[16384];
  wr_t w = wr_init(flight, sizeof(flight));
  channel_sm_t *sm = new_sm(with_ed, 0);
  if (!sm)
    return NULL;
  if (channel_sm_tls_done(sm, R.link_cert, R.link_cert_len) != CHIVE_OK ||
      !fake_relay_flight(&R, o, lp, RELAY_IPV4, &w)) {
    channel_sm_free(sm);
    return NULL;
  }
  *ev_out = drive(sm, flight, wr_used(&w), NULL);
  return sm;
}

static void
test_happy_path(void)
{
  fake_relay_opts_t o;
  channel_sm_event_t ev;
  channel_sm_t *sm = new_sm(true, 0);
  uint8_t out[1024];
  static uint8_t flight[16384];
  memset(&o, 0, sizeof(o));
  o.add_type1 = true;
  T_ASSERT(sm);
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_TLS_HANDSHAKING);

  /* Our VERSIONS: circ id 0 (2 bytes), command 7, length 4, 4 and 5. */
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_SENT_VERSIONS);
  static const uint8_t versions[] = {0, 0, 7, 0, 4, 0, 4, 0, 5};
  T_EQ_UINT(buf_len(channel_sm_outbuf(sm)), sizeof(versions));
  T_EQ_UINT(buf_remove(channel_sm_outbuf(sm), out, sizeof(out)),
            sizeof(versions));
  T_EQ_MEM(out, versions, sizeof(versions));

  wr_t w = wr_init(flight, sizeof(flight));
  T_ASSERT(fake_relay_flight(&R, &o, 5, RELAY_IPV4, &w));
  ev = drive(sm, flight, wr_used(&w), NULL);
  T_EQ_INT(ev, CHANNEL_SM_EV_OPENED);
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_OPEN);
  T_EQ_UINT(channel_sm_link_proto(sm), 5);
  T_ASSERT(channel_sm_got_auth_challenge(sm));

  const channel_peer_ids_t *ids = channel_sm_peer_ids(sm);
  T_ASSERT(ids);
  T_EQ_MEM(ids->rsa_id, R.rsa_id, 20);
  T_EQ_MEM(ids->ed_id, R.ed_id.pubkey, 32);
  T_EQ_MEM(ids->ed_signing_key, R.ed_sign.pubkey, 32);
  T_EQ_INT(ids->certs_expire_s, (FAKE_NOW + 7 * 86400) / 3600 * 3600);

  const channel_netinfo_result_t *ni = channel_sm_netinfo(sm);
  T_ASSERT(ni);
  T_EQ_UINT(ni->their_time, FAKE_NOW + 5);
  T_EQ_INT(ni->skew_s, 5);
  T_EQ_UINT(net_addr_ipv4(&ni->our_addr), 0x0a000002u);
  T_EQ_UINT(ni->n_their_addrs, 1);
  T_ASSERT(ni->canonical);

  /* Our NETINFO: 514 bytes, circ 0, command 8, time 0, OTHERADDR =
   * 127.0.0.1, no addresses of ours. */
  T_EQ_UINT(buf_len(channel_sm_outbuf(sm)), 514);
  T_EQ_UINT(buf_remove(channel_sm_outbuf(sm), out, sizeof(out)), 514);
  static const uint8_t ni_head[] = {0, 0, 0, 0, 8, 0, 0, 0, 0, 4, 4,
                                    127, 0, 0, 1, 0};
  T_EQ_MEM(out, ni_head, sizeof(ni_head));

  /* Cells for circuits come out; padding is dropped. */
  static uint8_t more[4096];
  w = wr_init(more, sizeof(more));
  static const uint8_t created_body[40] = {1, 2, 3};
  T_ASSERT(fake_put_cell(&w, 5, 0, CELL_PADDING, NULL, 0));
  T_ASSERT(fake_put_var(&w, 5, 0, CELL_VPADDING, created_body, 40));
  T_ASSERT(fake_put_cell(&w, 5, 0x80000001u, CELL_CREATED_FAST,
                         created_body, 40));
  T_ASSERT(fake_put_var(&w, 5, 0, 200, created_body, 3)); /* unknown */
  T_ASSERT(fake_put_cell(&w, 5, 0, 99, NULL, 0));         /* unknown */
  /* A later VERSIONS (with the negotiated circ id width) is ignored. */
  T_ASSERT(fake_put_var(&w, 5, 0, CELL_VERSIONS,
                        (const uint8_t *)"\0\4", 2));
  T_ASSERT(fake_put_cell(&w, 5, 0x80000002u, CELL_DESTROY,
                         (const uint8_t *)"\x09", 1));
  T_OK(channel_sm_feed(sm, more, wr_used(&w)));
  cell_t c;
  T_OK(channel_sm_process(sm, 1, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_CELL);
  T_EQ_UINT(c.circ_id, 0x80000001u);
  T_EQ_UINT(c.command, CELL_CREATED_FAST);
  T_EQ_MEM(c.payload, created_body, 40);
  T_OK(channel_sm_process(sm, 1, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_CELL);
  T_EQ_UINT(c.circ_id, 0x80000002u);
  T_EQ_UINT(c.command, CELL_DESTROY);
  T_OK(channel_sm_process(sm, 1, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_NONE);
  T_EQ_UINT(buf_len(channel_sm_inbuf(sm)), 0);

  /* Sending: a CREATE_FAST cell is 514 bytes with a 4-byte circ id. */
  cell_t cf;
  memset(&cf, 0, sizeof(cf));
  cf.circ_id = 0x80000003u;
  cf.command = CELL_CREATE_FAST;
  T_OK(channel_sm_send_cell(sm, &cf));
  T_EQ_UINT(buf_remove(channel_sm_outbuf(sm), out, sizeof(out)), 514);
  T_EQ_MEM(out, "\x80\x00\x00\x03\x05", 5);
  var_cell_t vp = {0, CELL_VPADDING, 3, (const uint8_t *)"abc"};
  T_OK(channel_sm_send_var_cell(sm, &vp));
  T_EQ_UINT(buf_remove(channel_sm_outbuf(sm), out, sizeof(out)), 10);
  T_OK(channel_sm_send_padding_negotiate(sm, false, 0, 0));
  T_EQ_UINT(buf_remove(channel_sm_outbuf(sm), out, sizeof(out)), 514);
  T_EQ_MEM(out, "\x00\x00\x00\x00\x0c\x00\x01", 7);

  /* Local close is sticky. */
  channel_sm_close(sm, CHANNEL_CLOSE_REQUESTED, NULL);
  T_OK(channel_sm_process(sm, 1, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_process(sm, 1, FAKE_NOW, &ev, &c), CHIVE_ERR_CLOSED);
  T_EQ_INT(channel_sm_feed(sm, out, 1), CHIVE_ERR_CLOSED);
  T_EQ_INT(channel_sm_send_cell(sm, &cf), CHIVE_ERR_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_REQUESTED);
done:
  channel_sm_free(sm);
}

/* Every strict prefix of the relay's flight leaves the SM waiting; fed a
 * byte at a time it opens exactly at the last byte. */
static void
test_byte_at_a_time(void)
{
  fake_relay_opts_t o;
  static uint8_t flight[16384];
  channel_sm_t *sm = new_sm(false, 0);
  memset(&o, 0, sizeof(o));
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  wr_t w = wr_init(flight, sizeof(flight));
  T_ASSERT(fake_relay_flight(&R, &o, 4, RELAY_IPV4, &w));
  size_t n = wr_used(&w);
  for (size_t i = 0; i < n; i++) {
    channel_sm_event_t ev = drive(sm, flight + i, 1, NULL);
    if (i + 1 < n && ev != CHANNEL_SM_EV_NONE)
      T_FAIL_("event %d after %zu of %zu bytes", (int)ev, i + 1, n);
    if (i + 1 == n)
      T_EQ_INT(ev, CHANNEL_SM_EV_OPENED);
  }
  T_EQ_UINT(channel_sm_link_proto(sm), 4);
done:
  channel_sm_free(sm);
}

static void
test_versions(void)
{
  channel_sm_t *sm = NULL;
  uint8_t buf[256];
  wr_t w;

  /* Relay offers only 3: nothing in common with {4,5}. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  w = wr_init(buf, sizeof(buf));
  T_ASSERT(fake_put_versions(&w, (const uint16_t[]){2, 3}, 2));
  T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_NO_VERSION);
  channel_sm_free(sm);

  /* Highest common wins, whatever the order. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  w = wr_init(buf, sizeof(buf));
  T_ASSERT(fake_put_versions(&w, (const uint16_t[]){5, 9, 4, 3}, 4));
  T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_NONE);
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_GOT_VERSIONS);
  T_EQ_UINT(channel_sm_link_proto(sm), 5);
  channel_sm_free(sm);

  /* Odd length: malformed. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  w = wr_init(buf, sizeof(buf));
  T_ASSERT(fake_put_var(&w, 0, 0, CELL_VERSIONS, (const uint8_t *)"\0\4\0",
                        3));
  T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_BAD_CELL);
  channel_sm_free(sm);

  /* AUTHORIZE and VPADDING may precede VERSIONS. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  w = wr_init(buf, sizeof(buf));
  T_ASSERT(fake_put_var(&w, 0, 0, CELL_VPADDING, buf, 0));
  T_ASSERT(fake_put_var(&w, 0, 0, CELL_AUTHORIZE, (const uint8_t *)"x", 1));
  T_ASSERT(fake_put_versions(&w, (const uint16_t[]){4}, 1));
  T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_NONE);
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_GOT_VERSIONS);
done:
  channel_sm_free(sm);
}

/* One handshake per broken-certificate option: each must close with the
 * expected reason and never open. */
static void
test_bad_certs(void)
{
  static const struct {
    const char *name;
    size_t off; /* offset of the bool in fake_relay_opts_t */
    channel_close_reason_t want;
  } cases[] = {
#define C(f, r) {#f, offsetof(fake_relay_opts_t, f), r}
      C(omit_id, CHANNEL_CLOSE_BAD_CERTS),
      C(omit_4, CHANNEL_CLOSE_BAD_CERTS),
      C(omit_5, CHANNEL_CLOSE_BAD_CERTS),
      C(omit_7, CHANNEL_CLOSE_BAD_CERTS),
      C(dup_2, CHANNEL_CLOSE_BAD_CERTS),
      C(dup_4, CHANNEL_CLOSE_BAD_CERTS),
      C(expire_4, CHANNEL_CLOSE_BAD_CERTS),
      C(expire_5, CHANNEL_CLOSE_BAD_CERTS),
      C(expire_7, CHANNEL_CLOSE_BAD_CERTS),
      C(id_cert_expired, CHANNEL_CLOSE_BAD_CERTS),
      C(id_cert_not_self_signed, CHANNEL_CLOSE_BAD_CERTS),
      C(id_cert_2048, CHANNEL_CLOSE_BAD_CERTS),
      C(link_digest_wrong, CHANNEL_CLOSE_BAD_CERTS),
      C(sign_4_with_other, CHANNEL_CLOSE_BAD_CERTS),
      C(sign_5_with_other, CHANNEL_CLOSE_BAD_CERTS),
      C(cross_with_other_rsa, CHANNEL_CLOSE_BAD_CERTS),
      C(cross_names_other_ed, CHANNEL_CLOSE_BAD_CERTS),
      C(no_signing_key_ext, CHANNEL_CLOSE_BAD_CERTS),
      C(truncate_body, CHANNEL_CLOSE_BAD_CERTS),
#undef C
  };
  channel_sm_t *sm = NULL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    fake_relay_opts_t o;
    channel_sm_event_t ev = CHANNEL_SM_EV_NONE;
    memset(&o, 0, sizeof(o));
    *(bool *)((uint8_t *)&o + cases[i].off) = true;
    sm = handshake(&o, true, 5, &ev);
    T_ASSERT(sm);
    if (ev != CHANNEL_SM_EV_CLOSED ||
        channel_sm_close_reason(sm) != cases[i].want)
      T_FAIL_("%s: event %d reason %s (%s)", cases[i].name, (int)ev,
              channel_close_reason_str(channel_sm_close_reason(sm)),
              channel_sm_close_detail(sm));
    T_ASSERT(channel_sm_peer_ids(sm) == NULL);
    T_ASSERT(strlen(channel_sm_close_detail(sm)) > 0);
    /* Nothing (not even our NETINFO) goes out after a close for cause. */
    T_EQ_UINT(buf_len(channel_sm_outbuf(sm)), 0);
    channel_sm_free(sm);
  }
done:
  channel_sm_free(sm);
}

static void
test_wrong_identity(void)
{
  fake_relay_opts_t o;
  channel_sm_event_t ev;
  static uint8_t flight[16384];
  channel_sm_config_t cfg;
  channel_sm_t *sm = NULL;
  memset(&o, 0, sizeof(o));

  /* Wrong RSA identity expected. */
  memset(&cfg, 0, sizeof(cfg));
  memcpy(cfg.expect.rsa_id, R.rsa_id, 20);
  cfg.expect.rsa_id[19] ^= 1;
  sm = channel_sm_new(&cfg, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  wr_t w = wr_init(flight, sizeof(flight));
  T_ASSERT(fake_relay_flight(&R, &o, 5, RELAY_IPV4, &w));
  ev = drive(sm, flight, wr_used(&w), NULL);
  T_EQ_INT(ev, CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_WRONG_IDENTITY);
  channel_sm_free(sm);

  /* Right RSA, wrong Ed25519 identity expected. */
  memcpy(cfg.expect.rsa_id, R.rsa_id, 20);
  cfg.expect.has_ed_id = true;
  memcpy(cfg.expect.ed_id, R.ed_other.pubkey, 32);
  sm = channel_sm_new(&cfg, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  ev = drive(sm, flight, wr_used(&w), NULL);
  T_EQ_INT(ev, CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_WRONG_IDENTITY);
  channel_sm_free(sm);

  /* The certificates are fine but TLS showed a different certificate. */
  sm = new_sm(true, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.id_cert, R.id_cert_len));
  ev = drive(sm, flight, wr_used(&w), NULL);
  T_EQ_INT(ev, CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_BAD_CERTS);
done:
  channel_sm_free(sm);
}

/* Certificates checked against the injected wall clock. */
static void
test_certs_clock(void)
{
  fake_relay_opts_t o;
  static uint8_t body[8192];
  size_t len = 0;
  channel_peer_ids_t ids;
  const char *why = NULL;
  memset(&o, 0, sizeof(o));
  T_ASSERT(fake_relay_certs(&R, &o, body, sizeof(body), &len));
  T_OK(channel_certs_verify(body, len, R.link_cert, R.link_cert_len,
                            FAKE_NOW, &ids, &why));
  /* A week later, the Ed25519 certs expire. */
  T_EQ_INT(channel_certs_verify(body, len, R.link_cert, R.link_cert_len,
                                FAKE_NOW + 8 * 86400, &ids, &why),
           CHIVE_ERR_EXPIRED);
  T_ASSERT(why && strstr(why, "expired"));
  /* Long before the ID cert's start (beyond the notBefore slop). */
  T_EQ_INT(channel_certs_verify(body, len, R.link_cert, R.link_cert_len,
                                FAKE_NOW - 60 * 86400, &ids, &why),
           CHIVE_ERR_EXPIRED);
  /* No TLS cert at all. */
  T_EQ_INT(channel_certs_verify(body, len, NULL, 0, FAKE_NOW, &ids, &why),
           CHIVE_ERR_PROTO);
  /* Every strict prefix of the body is rejected. */
  for (size_t i = 0; i < len; i++) {
    if (channel_certs_verify(body, i, R.link_cert, R.link_cert_len,
                             FAKE_NOW, &ids, &why) == CHIVE_OK)
      T_FAIL_("prefix %zu accepted", i);
  }
  /* Trailing bytes after the last cert are ignored (tor-spec §4.2). */
  body[len] = 0xee;
  T_OK(channel_certs_verify(body, len + 1, R.link_cert, R.link_cert_len,
                            FAKE_NOW, &ids, &why));
done:
  return;
}

static void
test_illegal_cells(void)
{
  static uint8_t buf[16384];
  static uint8_t certs[8192];
  size_t clen = 0;
  fake_relay_opts_t o;
  channel_sm_t *sm = NULL;
  wr_t w;
  memset(&o, 0, sizeof(o));
  T_ASSERT(fake_relay_certs(&R, &o, certs, sizeof(certs), &clen));

  /* Table spot checks. */
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_TLS_HANDSHAKING,
                                CELL_VERSIONS),
           CHANNEL_CELL_REJECT);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_SENT_VERSIONS, CELL_NETINFO),
           CHANNEL_CELL_REJECT);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_GOT_VERSIONS, CELL_VPADDING),
           CHANNEL_CELL_IGNORE);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_GOT_VERSIONS, CELL_PADDING),
           CHANNEL_CELL_REJECT);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_GOT_CERTS, CELL_NETINFO),
           CHANNEL_CELL_HANDLE);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_GOT_AUTH_CHALLENGE,
                                CELL_AUTH_CHALLENGE),
           CHANNEL_CELL_REJECT);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_OPEN, CELL_RELAY),
           CHANNEL_CELL_HANDLE);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_OPEN, CELL_NETINFO),
           CHANNEL_CELL_IGNORE);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_OPEN, CELL_CERTS),
           CHANNEL_CELL_REJECT);
  T_EQ_INT(channel_cell_allowed(CHANNEL_STATE_CLOSED, CELL_RELAY),
           CHANNEL_CELL_REJECT);

  static const struct {
    const char *name;
    int step; /* 0: right after VERSIONS, 1: after CERTS, 2: when open */
    uint8_t cmd;
    bool var;
  } cases[] = {
      {"CREATE before VERSIONS", -1, CELL_CREATE, false},
      {"NETINFO before CERTS", 0, CELL_NETINFO, false},
      {"PADDING before CERTS", 0, CELL_PADDING, false},
      {"AUTH_CHALLENGE before CERTS", 0, CELL_AUTH_CHALLENGE, true},
      {"second CERTS", 1, CELL_CERTS, true},
      {"AUTHENTICATE from relay", 1, CELL_AUTHENTICATE, true},
      {"RELAY during handshake", 1, CELL_RELAY, false},
      {"CERTS when open", 2, CELL_CERTS, true},
      {"PADDING_NEGOTIATE when open", 2, CELL_PADDING_NEGOTIATE, false},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(cases); i++) {
    sm = new_sm(false, 0);
    T_ASSERT(sm);
    T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
    w = wr_init(buf, sizeof(buf));
    unsigned lp = cases[i].step < 0 ? 0 : 5;
    if (cases[i].step >= 0)
      T_ASSERT(fake_put_versions(&w, (const uint16_t[]){5}, 1));
    if (cases[i].step >= 1)
      T_ASSERT(fake_put_var(&w, 5, 0, CELL_CERTS, certs, clen));
    if (cases[i].step >= 2) {
      T_ASSERT(fake_put_auth_challenge(&w, 5));
      T_ASSERT(fake_put_netinfo(&w, 5, 0, RELAY_IPV4));
      T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_OPENED);
      w = wr_init(buf, sizeof(buf));
    }
    const uint8_t *b = certs;
    size_t bl = cases[i].cmd == CELL_CERTS ? clen : 0;
    if (cases[i].var)
      T_ASSERT(fake_put_var(&w, lp, 0, cases[i].cmd, b, bl));
    else
      T_ASSERT(fake_put_cell(&w, lp, 0, cases[i].cmd, NULL, 0));
    channel_sm_event_t ev = drive(sm, buf, wr_used(&w), NULL);
    if (ev != CHANNEL_SM_EV_CLOSED ||
        channel_sm_close_reason(sm) != CHANNEL_CLOSE_BAD_CELL)
      T_FAIL_("%s: event %d reason %s", cases[i].name, (int)ev,
              channel_close_reason_str(channel_sm_close_reason(sm)));
    channel_sm_free(sm);
  }
done:
  channel_sm_free(sm);
}

/* Oversized var cells are refused as soon as their header arrives;
 * a truncated one stalls until the handshake deadline. */
static void
test_var_cell_sizes(void)
{
  uint8_t hdr[16];
  channel_sm_t *sm = NULL;
  cell_t c;
  channel_sm_event_t ev;

  /* VPADDING claiming 60000 bytes before VERSIONS (2-byte circ id). */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  static const uint8_t big_vpad[] = {0, 0, CELL_VPADDING, 0xea, 0x60};
  memcpy(hdr, big_vpad, sizeof(big_vpad));
  T_EQ_INT(drive(sm, hdr, sizeof(big_vpad), NULL), CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_BAD_CELL);
  channel_sm_free(sm);

  /* CERTS claiming 20000 bytes (limit 16384) after VERSIONS. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  uint8_t b[64];
  wr_t w = wr_init(b, sizeof(b));
  T_ASSERT(fake_put_versions(&w, (const uint16_t[]){5}, 1));
  static const uint8_t big_certs[] = {0, 0, 0, 0, CELL_CERTS, 0x4e, 0x20};
  wr_bytes(&w, big_certs, sizeof(big_certs));
  T_EQ_INT(drive(sm, b, wr_used(&w), NULL), CHANNEL_SM_EV_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_BAD_CELL);
  channel_sm_free(sm);

  /* A truncated VERSIONS (declares 4 bytes, sends 2): the SM waits; at
   * the deadline it times out.  Times are from the fake clock. */
  channel_sm_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  memcpy(cfg.expect.rsa_id, R.rsa_id, 20);
  cfg.handshake_timeout_ms = 5000;
  sm = channel_sm_new(&cfg, 100000);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  static const uint8_t trunc[] = {0, 0, CELL_VERSIONS, 0, 4, 0, 5};
  T_OK(channel_sm_feed(sm, trunc, sizeof(trunc)));
  T_OK(channel_sm_process(sm, 100001, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_NONE);
  T_ASSERT(!channel_sm_check_timeout(sm, 104999));
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_SENT_VERSIONS);
  T_ASSERT(channel_sm_check_timeout(sm, 105000));
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_CLOSED);
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_TIMEOUT);
  T_OK(channel_sm_process(sm, 105001, FAKE_NOW, &ev, &c));
  T_EQ_INT(ev, CHANNEL_SM_EV_CLOSED);
  T_ASSERT(!channel_sm_check_timeout(sm, 999999));
done:
  channel_sm_free(sm);
}

/* The deadline covers TLS too, and does not apply once open. */
static void
test_timeout_states(void)
{
  fake_relay_opts_t o;
  channel_sm_event_t ev;
  channel_sm_t *sm = new_sm(false, 0);
  memset(&o, 0, sizeof(o));
  T_ASSERT(sm);
  T_ASSERT(!channel_sm_check_timeout(sm, CHANNEL_HANDSHAKE_TIMEOUT_MS - 1));
  T_ASSERT(channel_sm_check_timeout(sm, CHANNEL_HANDSHAKE_TIMEOUT_MS));
  T_EQ_INT(channel_sm_close_reason(sm), CHANNEL_CLOSE_TIMEOUT);
  T_EQ_INT(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len),
           CHIVE_ERR_CLOSED);
  channel_sm_free(sm);

  sm = handshake(&o, false, 5, &ev);
  T_ASSERT(sm);
  T_EQ_INT(ev, CHANNEL_SM_EV_OPENED);
  T_ASSERT(!channel_sm_check_timeout(sm, 10u * 3600u * 1000u));
  T_EQ_INT(channel_sm_state(sm), CHANNEL_STATE_OPEN);
done:
  channel_sm_free(sm);
}

/* No AUTH_CHALLENGE is fine: CERTS then NETINFO. */
static void
test_no_auth_challenge(void)
{
  static uint8_t buf[16384];
  static uint8_t certs[8192];
  size_t clen = 0;
  fake_relay_opts_t o;
  channel_sm_t *sm = new_sm(true, 0);
  memset(&o, 0, sizeof(o));
  T_ASSERT(sm);
  T_ASSERT(fake_relay_certs(&R, &o, certs, sizeof(certs), &clen));
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  wr_t w = wr_init(buf, sizeof(buf));
  T_ASSERT(fake_put_versions(&w, (const uint16_t[]){4}, 1));
  T_ASSERT(fake_put_var(&w, 4, 0, CELL_VPADDING, certs, 5));
  T_ASSERT(fake_put_var(&w, 4, 0, CELL_CERTS, certs, clen));
  T_ASSERT(fake_put_netinfo(&w, 4, 0, 0x01020304u));
  T_EQ_INT(drive(sm, buf, wr_used(&w), NULL), CHANNEL_SM_EV_OPENED);
  T_ASSERT(!channel_sm_got_auth_challenge(sm));
  const channel_netinfo_result_t *ni = channel_sm_netinfo(sm);
  T_ASSERT(ni);
  T_EQ_INT(ni->skew_s, 0); /* they sent time 0 */
  T_ASSERT(!ni->canonical); /* 1.2.3.4 is not where we connected */
  /* Link protocol 4: no padding negotiation. */
  T_EQ_INT(channel_sm_send_padding_negotiate(sm, true, 0, 0),
           CHIVE_ERR_INVAL);
done:
  channel_sm_free(sm);
}

static chive_err_t
counter_rng(void *arg, uint8_t *out, size_t len)
{
  uint32_t *ctr = arg;
  for (size_t i = 0; i < len; i++)
    out[i] = (uint8_t)(*ctr >> (8 * (i % 4)));
  return CHIVE_OK;
}

static void
test_circ_ids(void)
{
  circid_set_t s;
  uint32_t id = 0, id2 = 0, ctr = 7;
  fake_relay_opts_t o;
  channel_sm_event_t ev;
  channel_sm_t *sm = NULL;
  circid_set_init(&s);
  memset(&o, 0, sizeof(o));

  /* Link 4+: the initiator sets the MSB; IDs are unique. */
  for (int i = 0; i < 200; i++) {
    T_OK(circid_alloc(&s, 4, NULL, NULL, &id));
    T_ASSERT(id & 0x80000000u);
  }
  T_EQ_UINT(circid_set_count(&s), 200);
  T_ASSERT(circid_set_contains(&s, id));
  T_ASSERT(circid_set_remove(&s, id));
  T_ASSERT(!circid_set_remove(&s, id));
  T_ASSERT(!circid_set_contains(&s, id));
  circid_set_clear(&s);

  /* A stuck RNG gives up after CIRCID_MAX_ATTEMPTS. */
  T_OK(circid_alloc(&s, 4, counter_rng, &ctr, &id));
  T_EQ_INT(circid_alloc(&s, 4, counter_rng, &ctr, &id2), CHIVE_ERR_LIMIT);
  T_EQ_UINT(circid_set_count(&s), 1);
  /* Link 3: 2-byte IDs. */
  ctr = 0x1234;
  T_OK(circid_alloc(&s, 3, counter_rng, &ctr, &id2));
  T_ASSERT(id2 <= 0xffff && id2 != 0);
  T_EQ_INT(circid_alloc(&s, 2, NULL, NULL, &id2), CHIVE_ERR_INVAL);
  T_EQ_INT(circid_set_add(&s, 0), CHIVE_ERR_INVAL);
  T_EQ_INT(circid_set_add(&s, id), CHIVE_ERR_INVAL);
  circid_set_clear(&s);

  /* Through the channel: only when open. */
  sm = new_sm(false, 0);
  T_ASSERT(sm);
  T_EQ_INT(channel_sm_alloc_circ_id(sm, &id), CHIVE_ERR_INVAL);
  channel_sm_free(sm);
  sm = handshake(&o, false, 5, &ev);
  T_ASSERT(sm && ev == CHANNEL_SM_EV_OPENED);
  T_OK(channel_sm_alloc_circ_id(sm, &id));
  T_ASSERT(id & 0x80000000u);
  T_EQ_UINT(channel_sm_n_circ_ids(sm), 1);
  T_ASSERT(channel_sm_release_circ_id(sm, id));
  T_EQ_UINT(channel_sm_n_circ_ids(sm), 0);
done:
  circid_set_clear(&s);
  channel_sm_free(sm);
}

static void
test_output_limit(void)
{
  fake_relay_opts_t o;
  static uint8_t flight[16384];
  channel_sm_config_t cfg;
  channel_sm_t *sm = NULL;
  memset(&o, 0, sizeof(o));
  memset(&cfg, 0, sizeof(cfg));
  memcpy(cfg.expect.rsa_id, R.rsa_id, 20);
  cfg.out_max = 2000;
  sm = channel_sm_new(&cfg, 0);
  T_ASSERT(sm);
  T_OK(channel_sm_tls_done(sm, R.link_cert, R.link_cert_len));
  wr_t w = wr_init(flight, sizeof(flight));
  T_ASSERT(fake_relay_flight(&R, &o, 5, RELAY_IPV4, &w));
  T_EQ_INT(drive(sm, flight, wr_used(&w), NULL), CHANNEL_SM_EV_OPENED);
  /* VERSIONS (9) + NETINFO (514) queued; room for 2 more cells. */
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.circ_id = 0x80000001u;
  c.command = CELL_RELAY;
  T_OK(channel_sm_send_cell(sm, &c));
  T_OK(channel_sm_send_cell(sm, &c));
  T_EQ_INT(channel_sm_send_cell(sm, &c), CHIVE_ERR_LIMIT);
  T_EQ_UINT(buf_len(channel_sm_outbuf(sm)), 9 + 3 * 514);
  buf_drain(channel_sm_outbuf(sm), 1000);
  T_OK(channel_sm_send_cell(sm, &c));
  /* Input limit: feeding more than fits is refused whole. */
  static uint8_t junk[CHANNEL_SM_DEFAULT_IN_MAX + 1];
  T_EQ_INT(channel_sm_feed(sm, junk, sizeof(junk)), CHIVE_ERR_LIMIT);
  T_EQ_UINT(buf_len(channel_sm_inbuf(sm)), 0);
done:
  channel_sm_free(sm);
}

/* OOM at every allocation of construction + handshake: fails cleanly. */
static void
test_oom(void)
{
  fake_relay_opts_t o;
  static uint8_t flight[16384];
  memset(&o, 0, sizeof(o));
  wr_t w = wr_init(flight, sizeof(flight));
  T_ASSERT(fake_relay_flight(&R, &o, 5, RELAY_IPV4, &w));
  int opened = 0;
  for (uint64_t n = 1; n < 40; n++) {
    chive_mem_fail_nth(n, false);
    channel_sm_t *sm = new_sm(true, 0);
    if (sm) {
      if (channel_sm_tls_done(sm, R.link_cert, R.link_cert_len) ==
          CHIVE_OK) {
        channel_sm_event_t ev = drive(sm, flight, wr_used(&w), NULL);
        if (ev == CHANNEL_SM_EV_OPENED)
          opened++;
        else
          T_ASSERT(channel_sm_state(sm) != CHANNEL_STATE_OPEN);
      }
      channel_sm_free(sm);
    }
    chive_mem_fail_nth(0, false);
  }
  T_ASSERT(opened > 0); /* late failures miss every allocation */
done:
  chive_mem_fail_nth(0, false);
}

static const t_case cases[] = {
    T_CASE(test_happy_path),      T_CASE(test_byte_at_a_time),
    T_CASE(test_versions),        T_CASE(test_bad_certs),
    T_CASE(test_wrong_identity),  T_CASE(test_certs_clock),
    T_CASE(test_illegal_cells),   T_CASE(test_var_cell_sizes),
    T_CASE(test_timeout_states),  T_CASE(test_no_auth_challenge),
    T_CASE(test_circ_ids),        T_CASE(test_output_limit),
    T_CASE(test_oom),             T_END,
};

int main(int argc, char **argv);
int
main(int argc, char **argv)
{
  /* The shared relay is created before the per-case memory baselines. */
  if (!fake_relay_init(&R)) {
    fprintf(stderr, "cannot create fake relay\n");
    return 1;
  }
  int rv = t_run(cases, argc, argv);
  fake_relay_free(&R);
  return rv;
}
