/**
 * @file channel_sm.c
 * @brief Client link-protocol state machine (tor-spec §3, §4), sans-I/O.
 *
 * Bytes in (inbuf) -> framing (cell_frame_peek over a pulled-up prefix)
 * -> channel_cell_allowed() -> a handler per command -> bytes out
 * (outbuf).  Peer misbehaviour closes the channel with a reason and a
 * rate-limited PROTO log line; it never asserts.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/channel/channel_sm.h"
#include "core/proto/link_cells.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

struct channel_sm_t {
  channel_state_t state;
  channel_close_reason_t reason;
  const char *detail; /**< static text: why it closed */
  bool close_reported; /**< CHANNEL_SM_EV_CLOSED delivered */

  channel_expected_id_t expect;
  net_addr_t peer_addr;
  logger_t *log;
  ratelim_t log_rl;

  uint64_t started_ms;
  uint64_t timeout_ms;
  uint64_t last_now_ms;

  unsigned link_proto; /**< 0 until VERSIONS */
  uint8_t *tls_cert;   /**< peer's TLS leaf certificate (DER) */
  size_t tls_cert_len;

  bool have_ids;
  channel_peer_ids_t ids;
  bool got_auth_challenge;
  bool have_netinfo;
  channel_netinfo_result_t netinfo;

  circid_set_t circids;
  circid_rand_fn rng;
  void *rng_arg;

  buf_t *in;
  buf_t *out;
};

/* ---- the table --------------------------------------------------------- */

/* see channel_sm.h */
channel_cell_action_t
channel_cell_allowed(channel_state_t state, uint8_t cmd)
{
  switch (state) {
  case CHANNEL_STATE_SENT_VERSIONS:
    /* tor-spec §4: "the first cell must be VERSIONS, VPADDING, or
     * AUTHORIZE". */
    if (cmd == CELL_VERSIONS)
      return CHANNEL_CELL_HANDLE;
    if (cmd == CELL_VPADDING || cmd == CELL_AUTHORIZE)
      return CHANNEL_CELL_IGNORE;
    return CHANNEL_CELL_REJECT;
  case CHANNEL_STATE_GOT_VERSIONS:
  case CHANNEL_STATE_GOT_CERTS:
  case CHANNEL_STATE_GOT_AUTH_CHALLENGE:
    /* tor-spec §4: "no other cell type is allowed to intervene besides
     * those specified, except for VPADDING cells"; §4.1: later VERSIONS
     * cells MUST be ignored. */
    if (cmd == CELL_VPADDING || cmd == CELL_VERSIONS)
      return CHANNEL_CELL_IGNORE;
    if (state == CHANNEL_STATE_GOT_VERSIONS)
      return cmd == CELL_CERTS ? CHANNEL_CELL_HANDLE : CHANNEL_CELL_REJECT;
    if (state == CHANNEL_STATE_GOT_CERTS && cmd == CELL_AUTH_CHALLENGE)
      return CHANNEL_CELL_HANDLE;
    return cmd == CELL_NETINFO ? CHANNEL_CELL_HANDLE : CHANNEL_CELL_REJECT;
  case CHANNEL_STATE_OPEN:
    switch (cmd) {
    case CELL_CREATE:
    case CELL_CREATED:
    case CELL_RELAY:
    case CELL_DESTROY:
    case CELL_CREATE_FAST:
    case CELL_CREATED_FAST:
    case CELL_RELAY_EARLY:
    case CELL_CREATE2:
    case CELL_CREATED2:
      return CHANNEL_CELL_HANDLE;
    case CELL_CERTS:
    case CELL_AUTH_CHALLENGE:
    case CELL_AUTHENTICATE:
      /* The handshake is over; a second one is a protocol violation. */
      return CHANNEL_CELL_REJECT;
    case CELL_PADDING_NEGOTIATE:
      /* padding-spec §2.5: "Clients and bridges MUST reject padding
       * negotiation messages from relays, and close the channel". */
      return CHANNEL_CELL_REJECT;
    default:
      /* PADDING, VPADDING, VERSIONS (§4.1), NETINFO (tor drops late
       * ones), AUTHORIZE and unknown commands (§3: "drop the cell"). */
      return CHANNEL_CELL_IGNORE;
    }
  case CHANNEL_STATE_TLS_HANDSHAKING:
  case CHANNEL_STATE_CLOSED:
  default:
    return CHANNEL_CELL_REJECT;
  }
}

const char *
channel_state_name(channel_state_t st)
{
  static const char *const names[CHANNEL_N_STATES] = {
      "TLS_HANDSHAKING", "SENT_VERSIONS",      "GOT_VERSIONS", "GOT_CERTS",
      "GOT_AUTH_CHALLENGE", "OPEN",            "CLOSED",
  };
  return (unsigned)st < CHANNEL_N_STATES ? names[st] : "?";
}

const char *
channel_close_reason_str(channel_close_reason_t r)
{
  static const char *const names[CHANNEL_N_CLOSE_REASONS] = {
      "none",          "requested",       "idle",        "timeout",
      "io-error",      "tls-error",       "remote-closed", "no-common-version",
      "bad-cell",      "bad-certs",       "wrong-identity", "resource-limit",
      "internal",
  };
  return (unsigned)r < CHANNEL_N_CLOSE_REASONS ? names[r] : "?";
}

/* ---- lifecycle --------------------------------------------------------- */

/* see channel_sm.h */
channel_sm_t *
channel_sm_new(const channel_sm_config_t *cfg, uint64_t now_ms)
{
  channel_sm_t *sm = chive_zalloc(sizeof(*sm));
  if (!sm)
    return NULL;
  sm->state = CHANNEL_STATE_TLS_HANDSHAKING;
  sm->detail = "";
  sm->expect = cfg->expect;
  sm->peer_addr = cfg->peer_addr;
  sm->log = cfg->log;
  sm->log_rl.interval_ms = CHANNEL_LOG_RATELIM_MS;
  sm->started_ms = now_ms;
  sm->last_now_ms = now_ms;
  sm->timeout_ms = cfg->handshake_timeout_ms ? cfg->handshake_timeout_ms
                                             : CHANNEL_HANDSHAKE_TIMEOUT_MS;
  sm->rng = cfg->rng;
  sm->rng_arg = cfg->rng_arg;
  circid_set_init(&sm->circids);
  sm->in = buf_new(cfg->in_max ? cfg->in_max : CHANNEL_SM_DEFAULT_IN_MAX);
  sm->out = buf_new(cfg->out_max ? cfg->out_max : CHANNEL_SM_DEFAULT_OUT_MAX);
  if (!sm->in || !sm->out) {
    channel_sm_free_(sm);
    return NULL;
  }
  return sm;
}

/* see channel_sm.h */
void
channel_sm_free_(channel_sm_t *sm)
{
  if (!sm)
    return;
  buf_free(sm->in);
  buf_free(sm->out);
  chive_free(sm->tls_cert);
  circid_set_clear(&sm->circids);
  chive_free(sm);
}

/** Close with <b>reason</b> and <b>detail</b> (static text), logging
 * peer-caused closes at PROTO level, rate-limited. */
static void
sm_close(channel_sm_t *sm, channel_close_reason_t reason, const char *detail)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return;
  channel_state_t was = sm->state;
  sm->state = CHANNEL_STATE_CLOSED;
  sm->reason = reason;
  sm->detail = detail ? detail : "";
  /* Drop unprocessed input.  On a close for cause also drop what we
   * would have sent (nothing more goes out); a requested or idle close
   * leaves queued cells (e.g. DESTROYs) for the glue to flush. */
  buf_clear(sm->in);
  if (reason != CHANNEL_CLOSE_REQUESTED && reason != CHANNEL_CLOSE_IDLE) {
    buf_clear(sm->out);
    log_ratelim(sm->log, &sm->log_rl, sm->last_now_ms, CHIVE_LOG_INFO,
                LD_CHANNEL | LD_PROTOCOL,
                "Closing channel in state %s: %s (%s)",
                channel_state_name(was), channel_close_reason_str(reason),
                sm->detail);
  }
}

/* see channel_sm.h */
void
channel_sm_close(channel_sm_t *sm, channel_close_reason_t reason,
                 const char *detail)
{
  sm_close(sm, reason, detail ? detail : "closed locally");
}

/* ---- output ------------------------------------------------------------ */

/** Pack and queue a var cell with link protocol <b>lp</b>. */
static chive_err_t
queue_var_cell(channel_sm_t *sm, const var_cell_t *vc, unsigned lp)
{
  size_t len = VAR_CELL_MAX_HEADER_SIZE + vc->body_len;
  if (len > buf_room(sm->out))
    return CHIVE_ERR_LIMIT;
  uint8_t *tmp = chive_malloc(len);
  if (!tmp)
    return CHIVE_ERR_NOMEM;
  wr_t w = wr_init(tmp, len);
  chive_err_t err = var_cell_pack(vc, lp, &w);
  if (!err)
    err = buf_add(sm->out, tmp, wr_used(&w));
  chive_free(tmp);
  return err;
}

/** Pack and queue a fixed cell. */
static chive_err_t
queue_cell(channel_sm_t *sm, const cell_t *c)
{
  uint8_t tmp[CELL_MAX_NETWORK_SIZE];
  wr_t w = wr_init(tmp, sizeof(tmp));
  chive_err_t err = cell_pack(c, sm->link_proto, &w);
  if (err)
    return err;
  return buf_add(sm->out, tmp, wr_used(&w));
}

/* see channel_sm.h */
chive_err_t
channel_sm_tls_done(channel_sm_t *sm, const uint8_t *cert_der,
                    size_t cert_len)
{
  static const uint16_t ours[] = {CHANNEL_LINK_PROTO_LOW,
                                  CHANNEL_LINK_PROTO_HIGH};
  uint8_t body[2 * CHIVE_ARRAY_LEN(ours)];
  size_t body_len = 0;

  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (BUG(sm->state != CHANNEL_STATE_TLS_HANDSHAKING) ||
      BUG(!cert_der || cert_len == 0))
    return CHIVE_ERR_INVAL;
  sm->tls_cert = chive_memdup(cert_der, cert_len);
  if (!sm->tls_cert) {
    sm_close(sm, CHANNEL_CLOSE_RESOURCE, "out of memory");
    return CHIVE_ERR_NOMEM;
  }
  sm->tls_cert_len = cert_len;
  /* tor-spec §4.1: VERSIONS uses 2-byte circuit IDs, circ id 0, no
   * padding. */
  chive_err_t err =
      versions_encode(ours, CHIVE_ARRAY_LEN(ours), body, sizeof(body),
                      &body_len);
  if (!err) {
    var_cell_t vc = {0, CELL_VERSIONS, (uint16_t)body_len, body};
    err = queue_var_cell(sm, &vc, LINK_PROTO_UNKNOWN);
  }
  if (err) {
    sm_close(sm, CHANNEL_CLOSE_RESOURCE, "cannot queue VERSIONS");
    return err;
  }
  sm->state = CHANNEL_STATE_SENT_VERSIONS;
  return CHIVE_OK;
}

buf_t *
channel_sm_inbuf(channel_sm_t *sm)
{
  return sm->in;
}

buf_t *
channel_sm_outbuf(channel_sm_t *sm)
{
  return sm->out;
}

/* see channel_sm.h */
chive_err_t
channel_sm_feed(channel_sm_t *sm, const uint8_t *data, size_t len)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  return buf_add(sm->in, data, len);
}

/* ---- handlers ---------------------------------------------------------- */

static void
handle_versions(channel_sm_t *sm, const cell_frame_t *fr)
{
  static const uint16_t ours[] = {CHANNEL_LINK_PROTO_LOW,
                                  CHANNEL_LINK_PROTO_HIGH};
  uint16_t chosen = 0;
  /* tor-spec §4.1: "select as the link protocol version the highest
   * number contained both in the VERSIONS cell they sent and in the
   * versions cell they received"; close if none or malformed. */
  chive_err_t err = versions_choose(fr->body, fr->body_len, ours,
                                    CHIVE_ARRAY_LEN(ours), &chosen);
  if (err == CHIVE_ERR_NOTFOUND) {
    sm_close(sm, CHANNEL_CLOSE_NO_VERSION, "no link protocol in common");
    return;
  }
  if (err) {
    sm_close(sm, CHANNEL_CLOSE_BAD_CELL, "malformed VERSIONS cell");
    return;
  }
  sm->link_proto = chosen;
  sm->state = CHANNEL_STATE_GOT_VERSIONS;
}

static void
handle_certs(channel_sm_t *sm, const cell_frame_t *fr, int64_t now_wall_s)
{
  channel_peer_ids_t ids;
  const char *why = NULL;
  /* tor-spec §4.2, initiator side. */
  chive_err_t err = channel_certs_verify(fr->body, fr->body_len,
                                         sm->tls_cert, sm->tls_cert_len,
                                         now_wall_s, &ids, &why);
  if (err == CHIVE_ERR_NOMEM) {
    sm_close(sm, CHANNEL_CLOSE_RESOURCE, why);
    return;
  }
  if (err) {
    sm_close(sm, CHANNEL_CLOSE_BAD_CERTS, why);
    return;
  }
  /* tor-spec §2: "confirm that the identity key is as expected". */
  why = channel_ids_mismatch(&ids, &sm->expect);
  if (why) {
    sm_close(sm, CHANNEL_CLOSE_WRONG_IDENTITY, why);
    return;
  }
  sm->ids = ids;
  sm->have_ids = true;
  sm->state = CHANNEL_STATE_GOT_CERTS;
}

static void
handle_auth_challenge(channel_sm_t *sm, const cell_frame_t *fr)
{
  auth_challenge_t ac;
  /* tor-spec §4.3.  We do not authenticate, so the content is unused,
   * but a malformed cell is still a protocol violation. */
  if (auth_challenge_parse(fr->body, fr->body_len, &ac) != CHIVE_OK) {
    sm_close(sm, CHANNEL_CLOSE_BAD_CELL, "malformed AUTH_CHALLENGE cell");
    return;
  }
  sm->got_auth_challenge = true;
  sm->state = CHANNEL_STATE_GOT_AUTH_CHALLENGE;
}

/** Convert a NETINFO address; false if it is to be ignored. */
static bool
netinfo_to_addr(const netinfo_addr_t *na, net_addr_t *out)
{
  if (na->atype == NETINFO_ATYPE_IPV4) {
    memset(out, 0, sizeof(*out));
    out->family = NET_AF_INET;
    memcpy(out->ip, na->addr, 4);
    return true;
  }
  if (na->atype == NETINFO_ATYPE_IPV6) {
    net_addr_from_ipv6(out, na->addr);
    return true;
  }
  return false;
}

/** Return true (and set *out) if <b>a</b> can go in a NETINFO. */
static bool
addr_to_netinfo(const net_addr_t *a, netinfo_addr_t *out)
{
  memset(out, 0, sizeof(*out));
  if (a->family == NET_AF_INET) {
    out->atype = NETINFO_ATYPE_IPV4;
    memcpy(out->addr, a->ip, 4);
    return true;
  }
  if (a->family == NET_AF_INET6) {
    out->atype = NETINFO_ATYPE_IPV6;
    memcpy(out->addr, a->ip, 16);
    return true;
  }
  return false;
}

static bool
handle_netinfo(channel_sm_t *sm, const cell_frame_t *fr, int64_t now_wall_s)
{
  netinfo_t ni;
  channel_netinfo_result_t res;
  /* tor-spec §4.5. */
  if (netinfo_parse(fr->body, fr->body_len, &ni) != CHIVE_OK) {
    sm_close(sm, CHANNEL_CLOSE_BAD_CELL, "malformed NETINFO cell");
    return false;
  }
  memset(&res, 0, sizeof(res));
  res.their_time = ni.timestamp;
  if (ni.timestamp != 0)
    res.skew_s = (int64_t)ni.timestamp - now_wall_s;
  (void)netinfo_to_addr(&ni.other_addr, &res.our_addr);
  for (unsigned i = 0; i < ni.n_my_addrs; i++) {
    net_addr_t a;
    if (!netinfo_to_addr(&ni.my_addrs[i], &a))
      continue;
    res.their_addrs[res.n_their_addrs++] = a;
    if (net_addr_eq(&a, &sm->peer_addr))
      res.canonical = true;
  }

  /* Our NETINFO: "Clients SHOULD send "0" as their timestamp", OTHERADDR
   * is the address we connected to, and we list no addresses of our
   * own. */
  netinfo_t mine;
  memset(&mine, 0, sizeof(mine));
  (void)addr_to_netinfo(&sm->peer_addr, &mine.other_addr);
  cell_t c;
  memset(&c, 0, sizeof(c));
  c.command = CELL_NETINFO;
  size_t len = 0;
  chive_err_t err =
      netinfo_encode(&mine, c.payload, sizeof(c.payload), &len);
  if (!err)
    err = queue_cell(sm, &c);
  if (err) {
    sm_close(sm, CHANNEL_CLOSE_RESOURCE, "cannot queue NETINFO");
    return false;
  }
  sm->netinfo = res;
  sm->have_netinfo = true;
  sm->state = CHANNEL_STATE_OPEN;
  return true;
}

/* ---- framing and dispatch ---------------------------------------------- */

/** Largest var-cell body allowed for <b>cmd</b> in the current state. */
static size_t
var_body_limit(const channel_sm_t *sm, uint8_t cmd)
{
  if (sm->state == CHANNEL_STATE_OPEN)
    return VAR_CELL_MAX_BODY_LEN;
  if (cmd == CELL_CERTS)
    return CERTS_CELL_MAX_BODY_LEN;
  return CHANNEL_HS_VAR_CELL_MAX_BODY_LEN;
}

/** Frame the next cell at the head of sm->in.  CHIVE_OK: *fr describes
 * it (borrowed from the buffer until it is modified).  TRUNCATED: wait.
 * PROTO/LIMIT/NOMEM: the channel was closed. */
static chive_err_t
frame_next(channel_sm_t *sm, cell_frame_t *fr)
{
  size_t have = buf_len(sm->in);
  size_t want = have < VAR_CELL_MAX_HEADER_SIZE ? have
                                                : VAR_CELL_MAX_HEADER_SIZE;
  size_t id_len = cell_circ_id_len(sm->link_proto);
  if (have == 0)
    return CHIVE_ERR_TRUNCATED;
  for (;;) {
    const uint8_t *p = NULL;
    size_t need = 0;
    chive_err_t err = buf_pullup(sm->in, want, &p);
    if (err == CHIVE_ERR_NOMEM) {
      sm_close(sm, CHANNEL_CLOSE_RESOURCE, "out of memory");
      return err;
    }
    if (err)
      return CHIVE_ERR_TRUNCATED;
    err = cell_frame_peek(p, want, sm->link_proto, fr, &need);
    if (err == CHIVE_OK)
      return CHIVE_OK;
    if (err != CHIVE_ERR_TRUNCATED) {
      sm_close(sm, CHANNEL_CLOSE_INTERNAL, "bad link protocol");
      return CHIVE_ERR_INTERNAL;
    }
    /* Refuse oversized frames before waiting for them. */
    if (want > id_len && cell_is_var_command(p[id_len], sm->link_proto) &&
        want >= id_len + CELL_COMMAND_LEN + VAR_CELL_LENGTH_LEN) {
      size_t body = want + need - (id_len + CELL_COMMAND_LEN +
                                   VAR_CELL_LENGTH_LEN);
      if (body > var_body_limit(sm, p[id_len])) {
        sm_close(sm, CHANNEL_CLOSE_BAD_CELL, "oversized variable cell");
        return CHIVE_ERR_LIMIT;
      }
    }
    if (want + need > buf_max_len(sm->in)) {
      sm_close(sm, CHANNEL_CLOSE_RESOURCE, "cell larger than input queue");
      return CHIVE_ERR_LIMIT;
    }
    if (want + need > have)
      return CHIVE_ERR_TRUNCATED;
    want += need;
  }
}

/* see channel_sm.h */
chive_err_t
channel_sm_process(channel_sm_t *sm, uint64_t now_ms, int64_t now_wall_s,
                   channel_sm_event_t *ev_out, cell_t *cell_out)
{
  *ev_out = CHANNEL_SM_EV_NONE;
  sm->last_now_ms = now_ms;
  if (sm->state == CHANNEL_STATE_CLOSED) {
    if (!sm->close_reported) {
      sm->close_reported = true;
      *ev_out = CHANNEL_SM_EV_CLOSED;
      return CHIVE_OK;
    }
    return CHIVE_ERR_CLOSED;
  }
  if (sm->state == CHANNEL_STATE_TLS_HANDSHAKING)
    return CHIVE_OK; /* bytes before TLS completes wait */

  while (sm->state != CHANNEL_STATE_CLOSED) {
    cell_frame_t fr;
    chive_err_t err = frame_next(sm, &fr);
    if (err == CHIVE_ERR_TRUNCATED)
      return CHIVE_OK;
    if (err)
      break; /* closed */

    channel_state_t st = sm->state;
    channel_cell_action_t act = channel_cell_allowed(st, fr.command);
    if (act == CHANNEL_CELL_REJECT) {
      const char *why = "cell not allowed in this handshake state";
      if (fr.command == CELL_PADDING_NEGOTIATE)
        why = "PADDING_NEGOTIATE from a relay";
      else if (st == CHANNEL_STATE_OPEN)
        why = "handshake cell on an open channel";
      sm_close(sm, CHANNEL_CLOSE_BAD_CELL, why);
      break;
    }
    if (act == CHANNEL_CELL_IGNORE) {
      buf_drain(sm->in, fr.frame_len);
      continue;
    }
    switch (fr.command) {
    case CELL_VERSIONS:
      handle_versions(sm, &fr);
      break;
    case CELL_CERTS:
      handle_certs(sm, &fr, now_wall_s);
      break;
    case CELL_AUTH_CHALLENGE:
      handle_auth_challenge(sm, &fr);
      break;
    case CELL_NETINFO:
      if (handle_netinfo(sm, &fr, now_wall_s)) {
        buf_drain(sm->in, fr.frame_len);
        *ev_out = CHANNEL_SM_EV_OPENED;
        return CHIVE_OK;
      }
      break;
    default:
      /* OPEN: a cell for the circuit layer. */
      if (BUG(st != CHANNEL_STATE_OPEN) ||
          cell_from_frame(&fr, cell_out) != CHIVE_OK) {
        sm_close(sm, CHANNEL_CLOSE_INTERNAL, "unexpected frame");
        break;
      }
      buf_drain(sm->in, fr.frame_len);
      *ev_out = CHANNEL_SM_EV_CELL;
      return CHIVE_OK;
    }
    if (sm->state != CHANNEL_STATE_CLOSED)
      buf_drain(sm->in, fr.frame_len);
  }
  sm->close_reported = true;
  *ev_out = CHANNEL_SM_EV_CLOSED;
  return CHIVE_OK;
}

/* see channel_sm.h */
bool
channel_sm_check_timeout(channel_sm_t *sm, uint64_t now_ms)
{
  if (sm->state == CHANNEL_STATE_OPEN || sm->state == CHANNEL_STATE_CLOSED)
    return false;
  sm->last_now_ms = now_ms;
  if (now_ms < sm->started_ms || now_ms - sm->started_ms < sm->timeout_ms)
    return false;
  sm_close(sm, CHANNEL_CLOSE_TIMEOUT, "handshake timed out");
  return true;
}

/* ---- sending after OPEN ------------------------------------------------ */

static bool
is_link_command(uint8_t cmd)
{
  return cmd == CELL_VERSIONS || cmd == CELL_CERTS ||
         cmd == CELL_AUTH_CHALLENGE || cmd == CELL_AUTHENTICATE ||
         cmd == CELL_NETINFO || cmd == CELL_AUTHORIZE ||
         cmd == CELL_PADDING_NEGOTIATE;
}

/* see channel_sm.h */
chive_err_t
channel_sm_send_cell(channel_sm_t *sm, const cell_t *cell)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (BUG(sm->state != CHANNEL_STATE_OPEN) || BUG(!cell) ||
      BUG(is_link_command(cell->command)) ||
      BUG(cell_is_var_command(cell->command, sm->link_proto)))
    return CHIVE_ERR_INVAL;
  if (buf_room(sm->out) < cell_network_size(sm->link_proto))
    return CHIVE_ERR_LIMIT;
  return queue_cell(sm, cell);
}

/* see channel_sm.h */
chive_err_t
channel_sm_send_var_cell(channel_sm_t *sm, const var_cell_t *cell)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (BUG(sm->state != CHANNEL_STATE_OPEN) || BUG(!cell) ||
      BUG(is_link_command(cell->command)) ||
      BUG(!cell_is_var_command(cell->command, sm->link_proto)))
    return CHIVE_ERR_INVAL;
  return queue_var_cell(sm, cell, sm->link_proto);
}

/* see channel_sm.h */
chive_err_t
channel_sm_send_padding_negotiate(channel_sm_t *sm, bool start,
                                  uint16_t ito_low_ms, uint16_t ito_high_ms)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (sm->state != CHANNEL_STATE_OPEN || sm->link_proto < 5)
    return CHIVE_ERR_INVAL;
  padding_negotiate_t pn = {0, start ? PADDING_NEGOTIATE_START
                                     : PADDING_NEGOTIATE_STOP,
                            start ? ito_low_ms : 0,
                            start ? ito_high_ms : 0};
  cell_t c;
  size_t len = 0;
  memset(&c, 0, sizeof(c));
  c.command = CELL_PADDING_NEGOTIATE;
  chive_err_t err =
      padding_negotiate_encode(&pn, c.payload, sizeof(c.payload), &len);
  if (err)
    return err;
  if (buf_room(sm->out) < cell_network_size(sm->link_proto))
    return CHIVE_ERR_LIMIT;
  return queue_cell(sm, &c);
}

/* ---- circuit IDs ------------------------------------------------------- */

/* see channel_sm.h */
chive_err_t
channel_sm_alloc_circ_id(channel_sm_t *sm, uint32_t *out)
{
  if (sm->state == CHANNEL_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (sm->state != CHANNEL_STATE_OPEN)
    return CHIVE_ERR_INVAL;
  return circid_alloc(&sm->circids, sm->link_proto, sm->rng, sm->rng_arg,
                      out);
}

bool
channel_sm_release_circ_id(channel_sm_t *sm, uint32_t id)
{
  return circid_set_remove(&sm->circids, id);
}

size_t
channel_sm_n_circ_ids(const channel_sm_t *sm)
{
  return circid_set_count(&sm->circids);
}

/* ---- accessors --------------------------------------------------------- */

channel_state_t
channel_sm_state(const channel_sm_t *sm)
{
  return sm->state;
}

channel_close_reason_t
channel_sm_close_reason(const channel_sm_t *sm)
{
  return sm->reason;
}

const char *
channel_sm_close_detail(const channel_sm_t *sm)
{
  return sm->detail;
}

unsigned
channel_sm_link_proto(const channel_sm_t *sm)
{
  return sm->link_proto;
}

const channel_peer_ids_t *
channel_sm_peer_ids(const channel_sm_t *sm)
{
  return sm->have_ids ? &sm->ids : NULL;
}

const channel_netinfo_result_t *
channel_sm_netinfo(const channel_sm_t *sm)
{
  return sm->have_netinfo ? &sm->netinfo : NULL;
}

bool
channel_sm_got_auth_challenge(const channel_sm_t *sm)
{
  return sm->got_auth_challenge;
}
