/**
 * @file control_circ.c
 * @brief Circuit, channel and stream parts of the control port: the
 * commands that act on them (control-spec §3.10 EXTENDCIRCUIT, §3.11
 * SETCIRCUITPURPOSE, §3.13 ATTACHSTREAM, §3.16-§3.17 CLOSESTREAM /
 * CLOSECIRCUIT, §3.8 MAPADDRESS, §3.18 RESOLVE, §3.26 DROPGUARDS), their
 * GETINFO keys (circuit-status, stream-status, orconn-status,
 * traffic/read|written, net/listeners/socks) and their events (CIRC,
 * CIRC_MINOR, ORCONN, STREAM).
 *
 * Circuits are named by their CircuitID (ocirc_id) and looked up again
 * with circmgr_find_by_id(); streams by StreamID (streams_find()).
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "app/client_st.h"
#include "app/control_int.h"
#include "app/streams.h"
#include "core/proto/circ_cells.h"
#include "core/proto/relay_msg.h"
#include "lib/encoding/base16.h"
#include "lib/malloc/malloc.h"
#include "lib/text/numparse.h"
#include "lib/text/str.h"

/** Longest path EXTENDCIRCUIT accepts, hops (tor's limit is the
 * RELAY_EARLY budget; 8 is what circuits here can carry). */
#define CONTROL_MAX_PATH_HOPS 8

/* ---- formatting helpers ---------------------------------------------- */

/** Append "$HEXID~nickname" (control-spec §2.4 LongName) for <b>rsa</b>. */
static chive_err_t
add_longname(strbuf_t *sb, const chive_client_t *c, const uint8_t *rsa)
{
  char hex[41];
  if (base16_encode(rsa, 20, hex, sizeof(hex), BASE16_UPPER) != CHIVE_OK)
    return CHIVE_ERR_INTERNAL;
  const node_t *n = c->nodelist ? nodelist_find_by_rsa(c->nodelist, rsa)
                                : NULL;
  if (n)
    return strbuf_addf(sb, "$%s~%s", hex, node_nickname(n));
  return strbuf_addf(sb, "$%s", hex);
}

/** The path of <b>oc</b>: its first <b>n</b> planned hops. */
static chive_err_t
add_path(strbuf_t *sb, const chive_client_t *c, const ocirc_t *oc, size_t n)
{
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < n && e == CHIVE_OK; i++) {
    const circuit_hop_info_t *h = ocirc_hop(oc, i);
    if (!h)
      break;
    if (i)
      e = strbuf_addc(sb, ',');
    if (e == CHIVE_OK)
      e = add_longname(sb, c, h->rsa_id);
  }
  return e;
}

static const char *
purpose_name(circuit_purpose_t p)
{
  switch (p) {
  case CIRCUIT_PURPOSE_HS_CLIENT_HSDIR:
    return "HS_CLIENT_HSDIR";
  case CIRCUIT_PURPOSE_HS_CLIENT_INTRO:
    return "HS_CLIENT_INTRO";
  case CIRCUIT_PURPOSE_HS_CLIENT_REND:
    return "HS_CLIENT_REND";
  case CIRCUIT_PURPOSE_HS_SERVICE_INTRO:
    return "HS_SERVICE_INTRO";
  case CIRCUIT_PURPOSE_HS_SERVICE_REND:
    return "HS_SERVICE_REND";
  default:
    return "GENERAL";
  }
}

/** " BUILD_FLAGS=... PURPOSE=... TIME_CREATED=..." (control-spec
 * §4.1.1). */
static chive_err_t
add_circ_details(strbuf_t *sb, const ocirc_t *oc)
{
  circuit_purpose_t p = ocirc_purpose(oc);
  const char *flags = "NEED_CAPACITY";
  if (p == CIRCUIT_PURPOSE_DIR_ONEHOP)
    flags = "ONEHOP_TUNNEL,IS_INTERNAL,NEED_CAPACITY";
  else if (p != CIRCUIT_PURPOSE_GENERAL)
    flags = "IS_INTERNAL,NEED_CAPACITY";
  int64_t sec = 0;
  uint32_t usec = 0;
  ocirc_launched_wall(oc, &sec, &usec);
  time_t t = (time_t)sec;
  struct tm tm;
  char when[40] = "1970-01-01T00:00:00";
  if (gmtime_r(&t, &tm))
    (void)strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
  return strbuf_addf(sb, " BUILD_FLAGS=%s PURPOSE=%s TIME_CREATED=%s.%06u",
                     flags, purpose_name(p), when, (unsigned)usec);
}

/** Status word of a live circuit for circuit-status (tor: BUILT when
 * open, EXTENDED once a hop is built, else LAUNCHED). */
static const char *
circ_status_word(const ocirc_t *oc)
{
  if (ocirc_state(oc) == OCIRC_STATE_BUILT)
    return "BUILT";
  return ocirc_hops_built(oc) > 0 ? "EXTENDED" : "LAUNCHED";
}

static chive_err_t
format_circ_line(strbuf_t *sb, const chive_client_t *c, const ocirc_t *oc,
                 const char *status, size_t n_hops)
{
  chive_err_t e = strbuf_addf(sb, "%u %s", (unsigned)ocirc_id(oc), status);
  if (e == CHIVE_OK && n_hops > 0) {
    e = strbuf_addc(sb, ' ');
    if (e == CHIVE_OK)
      e = add_path(sb, c, oc, n_hops);
  }
  if (e == CHIVE_OK)
    e = add_circ_details(sb, oc);
  return e;
}

/* ---- GETINFO ---------------------------------------------------------- */

static chive_err_t
gi_traffic(control_conn_t *cc, const char *q, strbuf_t *sb,
           const char **errmsg)
{
  (void)errmsg;
  const circmgr_t *m = cc->ctl->c->circmgr;
  uint64_t v = 0;
  if (m)
    v = !strcmp(q, "traffic/read") ? circmgr_bytes_read(m)
                                   : circmgr_bytes_written(m);
  return strbuf_addf(sb, "%llu", (unsigned long long)v);
}

typedef struct walk_t {
  const chive_client_t *c;
  strbuf_t *sb;
  chive_err_t e;
  bool first;
} walk_t;

static void
circ_status_cb(ocirc_t *oc, void *arg)
{
  walk_t *w = arg;
  if (w->e != CHIVE_OK)
    return;
  if (!w->first)
    w->e = strbuf_addc(w->sb, '\n');
  w->first = false;
  if (w->e == CHIVE_OK)
    w->e = format_circ_line(w->sb, w->c, oc, circ_status_word(oc),
                            ocirc_hops_built(oc));
}

static chive_err_t
gi_circuit_status(control_conn_t *cc, const char *q, strbuf_t *sb,
                  const char **errmsg)
{
  (void)q;
  (void)errmsg;
  walk_t w = {cc->ctl->c, sb, CHIVE_OK, true};
  if (cc->ctl->c->circmgr)
    circmgr_foreach(cc->ctl->c->circmgr, circ_status_cb, &w);
  return w.e;
}

static void
orconn_status_cb(channel_t *ch, void *arg)
{
  walk_t *w = arg;
  if (w->e != CHIVE_OK)
    return;
  if (!w->first)
    w->e = strbuf_addc(w->sb, '\n');
  w->first = false;
  if (w->e == CHIVE_OK)
    w->e = add_longname(w->sb, w->c, channel_target(ch)->rsa_id);
  if (w->e == CHIVE_OK)
    w->e = strbuf_addf(w->sb, " %s",
                       channel_is_open(ch) ? "CONNECTED" : "LAUNCHED");
}

static chive_err_t
gi_orconn_status(control_conn_t *cc, const char *q, strbuf_t *sb,
                 const char **errmsg)
{
  (void)q;
  (void)errmsg;
  walk_t w = {cc->ctl->c, sb, CHIVE_OK, true};
  if (cc->ctl->c->circmgr)
    circmgr_foreach_channel(cc->ctl->c->circmgr, orconn_status_cb, &w);
  return w.e;
}

static const char *const stream_status_names[] = {
    "NEW",         "NEWRESOLVE", "REMAP",  "SENTCONNECT", "SENTRESOLVE",
    "SUCCEEDED",   "FAILED",     "CLOSED", "DETACHED",
};

static const char *
stream_status_name(int st)
{
  if (st >= 0 && (size_t)st < CHIVE_ARRAY_LEN(stream_status_names))
    return stream_status_names[st];
  return "NEW";
}

/** "StreamID StreamStatus CircuitID Target" (control-spec §3.9
 * stream-status; §4.1.2 without the keyword arguments). */
static chive_err_t
format_stream_head(strbuf_t *sb, const app_stream_t *st, int status)
{
  const ocirc_t *oc = app_stream_circ(st);
  const char *host = app_stream_host(st);
  return strbuf_addf(sb, "%llu %s %u %s:%u",
                     (unsigned long long)app_stream_id(st),
                     stream_status_name(status),
                     oc ? (unsigned)ocirc_id(oc) : 0u, host ? host : "",
                     (unsigned)app_stream_port(st));
}

static void
stream_status_cb(app_stream_t *st, void *arg)
{
  walk_t *w = arg;
  if (w->e != CHIVE_OK)
    return;
  if (!w->first)
    w->e = strbuf_addc(w->sb, '\n');
  w->first = false;
  if (w->e == CHIVE_OK)
    w->e = format_stream_head(w->sb, st, app_stream_status(st));
}

static chive_err_t
gi_stream_status(control_conn_t *cc, const char *q, strbuf_t *sb,
                 const char **errmsg)
{
  (void)q;
  (void)errmsg;
  walk_t w = {cc->ctl->c, sb, CHIVE_OK, true};
  if (cc->ctl->c->streams)
    streams_foreach(cc->ctl->c, stream_status_cb, &w);
  return w.e;
}

static chive_err_t
gi_listeners_socks(control_conn_t *cc, const char *q, strbuf_t *sb,
                   const char **errmsg)
{
  (void)q;
  (void)errmsg;
  chive_err_t e = CHIVE_OK;
  if (!cc->ctl->c->streams)
    return CHIVE_OK;
  for (size_t i = 0; e == CHIVE_OK; i++) {
    const char *a = streams_listener_addr(cc->ctl->c, APP_STREAM_FROM_SOCKS,
                                          i);
    if (!a)
      break;
    if (i)
      e = strbuf_addc(sb, ' ');
    if (e == CHIVE_OK)
      e = control_quote(sb, a, strlen(a));
  }
  return e;
}

static const control_getinfo_ext_t getinfo_ext[] = {
    {"traffic/read", false, gi_traffic, "Bytes read since the process was "
     "started."},
    {"traffic/written", false, gi_traffic, "Bytes written since the "
     "process was started."},
    {"circuit-status", false, gi_circuit_status, "List of current "
     "circuits originating here."},
    {"orconn-status", false, gi_orconn_status, "A list of current OR "
     "connections."},
    {"stream-status", false, gi_stream_status, "List of current streams."},
    {"net/listeners/socks", false, gi_listeners_socks, "Bound addresses "
     "by type."},
    {NULL, false, NULL, NULL},
};

const control_getinfo_ext_t *
control_getinfo_ext(control_t *ctl)
{
  (void)ctl;
  return getinfo_ext;
}

/* ---- commands ---------------------------------------------------------- */

static ocirc_t *
find_circ(control_t *ctl, const char *s)
{
  uint32_t id;
  if (!ctl->c->circmgr || parse_u32(s, strlen(s), 10, 1, UINT32_MAX, &id) !=
                              CHIVE_OK)
    return NULL;
  return circmgr_find_by_id(ctl->c->circmgr, id);
}

static app_stream_t *
find_stream(control_t *ctl, const char *s)
{
  uint64_t id;
  if (!ctl->c->streams ||
      parse_u64(s, strlen(s), 10, 1, UINT64_MAX, &id) != CHIVE_OK)
    return NULL;
  return streams_find(ctl->c, id);
}

typedef struct count_streams_t {
  const ocirc_t *oc;
  size_t n;
} count_streams_t;

static void
count_streams_cb(app_stream_t *st, void *arg)
{
  count_streams_t *w = arg;
  if (app_stream_circ(st) == w->oc)
    w->n++;
}

/** Streams attached to <b>oc</b>. */
static size_t
circ_n_streams(chive_client_t *c, const ocirc_t *oc)
{
  count_streams_t w = {oc, 0};
  if (c->streams)
    streams_foreach(c, count_streams_cb, &w);
  return w.n;
}

static const control_cmd_syntax_t dropguards_syntax = {
    .max_args = 0,
};

static void
handle_dropguards(control_conn_t *cc, const control_args_t *args)
{
  (void)args;
  chive_client_t *c = cc->ctl->c;
  if (c->guards)
    guards_drop_all(c->guards);
  log_notice(c->log, LD_CONTROL, "Controller dropped every entry guard.");
  control_conn_reply(cc, 250, "OK");
}

static const control_cmd_syntax_t closecircuit_syntax = {
    .min_args = 1,
    .max_args = 1,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS,
};

static void
handle_closecircuit(control_conn_t *cc, const control_args_t *args)
{
  ocirc_t *oc = find_circ(cc->ctl, args->args[0]);
  if (!oc) {
    control_conn_reply(cc, 552, "Unknown circuit \"%s\"", args->args[0]);
    return;
  }
  /* §3.17: with IfUnused, a circuit that carries streams stays open
   * (the reply is still "250 OK", as tor's). */
  bool if_unused = false;
  for (size_t i = 0; i < args->n_kv; i++)
    if (str_eq_ci(args->kv[i].key, "IfUnused") && !args->kv[i].value[0])
      if_unused = true;
  control_conn_reply(cc, 250, "OK");
  if (if_unused && circ_n_streams(cc->ctl->c, oc) > 0)
    return;
  ocirc_close(oc, DESTROY_REASON_REQUESTED);
}

static const control_cmd_syntax_t setcircuitpurpose_syntax = {
    .min_args = 1,
    .max_args = 1,
    .accept_keywords = true,
};

static void
handle_setcircuitpurpose(control_conn_t *cc, const control_args_t *args)
{
  ocirc_t *oc = find_circ(cc->ctl, args->args[0]);
  if (!oc) {
    control_conn_reply(cc, 552, "Unknown circuit \"%s\"", args->args[0]);
    return;
  }
  const control_kv_t *p = control_args_find_kv(args, "purpose");
  if (!p) {
    control_conn_reply(cc, 552, "No purpose given");
    return;
  }
  if (!str_eq_ci(p->value, "general") && !str_eq_ci(p->value, "controller")) {
    control_conn_reply(cc, 552, "Unknown purpose \"%s\"", p->value);
    return;
  }
  ocirc_set_purpose(oc, CIRCUIT_PURPOSE_GENERAL);
  control_conn_reply(cc, 250, "OK");
}

static const control_cmd_syntax_t extendcircuit_syntax = {
    .min_args = 1,
    .max_args = 2,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS,
};

/** Look a relay up by "$hex[~nick]", "hex" or nickname. */
static const node_t *
find_node(const chive_client_t *c, const char *name)
{
  if (!c->nodelist)
    return NULL;
  const char *s = name[0] == '$' ? name + 1 : name;
  size_t n = strcspn(s, "~=");
  uint8_t id[20];
  size_t out = 0;
  if (n == 40 && base16_decode(s, 40, id, sizeof(id), &out) == CHIVE_OK)
    return nodelist_find_by_rsa(c->nodelist, id);
  if (name[0] == '$')
    return NULL;
  for (size_t i = 0; i < nodelist_size(c->nodelist); i++)
    if (str_eq_ci(node_nickname(nodelist_node(c->nodelist, i)), name))
      return nodelist_node(c->nodelist, i);
  return NULL;
}

static void
handle_extendcircuit(control_conn_t *cc, const control_args_t *args)
{
  control_t *ctl = cc->ctl;
  chive_client_t *c = ctl->c;
  const char *id_s = args->args[0];
  uint32_t id = 0;
  if (parse_u32(id_s, strlen(id_s), 10, 0, UINT32_MAX, &id) != CHIVE_OK) {
    control_conn_reply(cc, 552, "Unknown circuit \"%s\"", id_s);
    return;
  }
  const control_kv_t *pk = control_args_find_kv(args, "purpose");
  if (pk && !str_eq_ci(pk->value, "general") &&
      !str_eq_ci(pk->value, "controller")) {
    control_conn_reply(cc, 552, "Unknown purpose \"%s\"", pk->value);
    return;
  }
  ocirc_t *oc = NULL;
  if (id != 0) {
    oc = circmgr_find_by_id(c->circmgr, id);
    if (!oc) {
      control_conn_reply(cc, 552, "Unknown circuit \"%s\"", id_s);
      return;
    }
  }
  if (args->n_args < 2) {
    if (id != 0) {
      control_conn_reply(cc, 512, "syntax error: path required.");
      return;
    }
    /* "EXTENDCIRCUIT 0": chive picks the path. */
    uint32_t nid = 0;
    if (control_launch_auto(ctl, &nid) != CHIVE_OK) {
      control_conn_reply(cc, 551, "Couldn't start circuit");
      return;
    }
    control_conn_reply(cc, 250, "EXTENDED %u", (unsigned)nid);
    return;
  }
  /* Parse the comma-separated path. */
  circuit_hop_info_t hops[CONTROL_MAX_PATH_HOPS];
  size_t n_hops = 0;
  const char *p = args->args[1];
  while (*p) {
    size_t len = strcspn(p, ",");
    char name[128];
    if (len == 0 || len >= sizeof(name) || n_hops >= CONTROL_MAX_PATH_HOPS) {
      control_conn_reply(cc, 512, "syntax error: bad path.");
      return;
    }
    memcpy(name, p, len);
    name[len] = 0;
    const node_t *n = find_node(c, name);
    if (!n) {
      control_conn_reply(cc, 552, "No such router \"%s\"", name);
      return;
    }
    if (node_to_hop_info(n, &hops[n_hops]) != CHIVE_OK) {
      control_conn_reply(cc, 552, "No descriptor for \"%s\"", name);
      return;
    }
    n_hops++;
    p += len;
    if (*p == ',')
      p++;
  }
  if (n_hops == 0) {
    control_conn_reply(cc, 512, "No router names provided");
    return;
  }
  if (oc) {
    for (size_t i = 0; i < n_hops; i++) {
      if (ocirc_extend(oc, &hops[i]) != CHIVE_OK) {
        control_conn_reply(cc, 551, "Couldn't send onion skin");
        return;
      }
    }
    control_conn_reply(cc, 250, "EXTENDED %u", (unsigned)id);
    return;
  }
  uint32_t nid = 0;
  if (control_launch_path(ctl, hops, n_hops, &nid) != CHIVE_OK) {
    control_conn_reply(cc, 551, "Couldn't start circuit");
    return;
  }
  control_conn_reply(cc, 250, "EXTENDED %u", (unsigned)nid);
}

static const control_cmd_syntax_t attachstream_syntax = {
    .min_args = 2,
    .max_args = 2,
    .accept_keywords = true,
};

static void
handle_attachstream(control_conn_t *cc, const control_args_t *args)
{
  control_t *ctl = cc->ctl;
  app_stream_t *st = find_stream(ctl, args->args[0]);
  if (!st) {
    control_conn_reply(cc, 552, "Unknown stream \"%s\"", args->args[0]);
    return;
  }
  ocirc_t *oc = NULL;
  if (strcmp(args->args[1], "0") != 0) {
    oc = find_circ(ctl, args->args[1]);
    if (!oc) {
      control_conn_reply(cc, 552, "Unknown circuit \"%s\"", args->args[1]);
      return;
    }
  }
  size_t hop = 0;
  const control_kv_t *hk = control_args_find_kv(args, "HOP");
  if (hk) {
    uint32_t h;
    if (parse_u32(hk->value, hk->value_len, 10, 1, CONTROL_MAX_PATH_HOPS,
                  &h) != CHIVE_OK) {
      control_conn_reply(cc, 552, "Bad value hop=%s", hk->value);
      return;
    }
    hop = h;
  }
  if (oc) {
    /* §3.13 and tor: never to a one-hop circuit or to hop 1; HOP= names
     * the hop that acts as the exit. */
    size_t n = ocirc_n_hops_planned(oc);
    if (n < 2 || hop == 1) {
      control_conn_reply(cc, 551, "Can't attach stream to one-hop circuit.");
      return;
    }
    if (hop > n) {
      control_conn_reply(cc, 551, "Circuit doesn't have %u hops.",
                         (unsigned)hop);
      return;
    }
    if (hop == n)
      hop = 0; /* the last hop: the ordinary case */
    if (hop != 0) {
      /* Leaky-pipe exits (a BEGIN to a middle hop) are not done by
       * chive's streams yet: refuse rather than silently use the last
       * hop. */
      control_conn_reply(cc, 551,
                         "Attaching a stream to hop %u of %u is not "
                         "supported; only the last hop can be the exit.",
                         (unsigned)hop, (unsigned)n);
      return;
    }
  }
  chive_err_t e = streams_attach(ctl->c, st, oc, hop);
  if (e == CHIVE_ERR_INVAL) {
    control_conn_reply(cc, 555,
                       "Connection is not managed by controller.");
    return;
  }
  if (e != CHIVE_OK) {
    control_conn_reply(cc, 551, "Unable to attach stream");
    return;
  }
  control_conn_reply(cc, 250, "OK");
}

static const control_cmd_syntax_t closestream_syntax = {
    .min_args = 2,
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_closestream(control_conn_t *cc, const control_args_t *args)
{
  app_stream_t *st = find_stream(cc->ctl, args->args[0]);
  if (!st) {
    control_conn_reply(cc, 552, "Unknown stream \"%s\"", args->args[0]);
    return;
  }
  uint32_t reason;
  if (parse_u32(args->args[1], strlen(args->args[1]), 10, 0, 255, &reason) !=
      CHIVE_OK) {
    control_conn_reply(cc, 552, "Unrecognized reason \"%s\"", args->args[1]);
    return;
  }
  control_conn_reply(cc, 250, "OK");
  streams_close(cc->ctl->c, st, (uint8_t)reason);
}

static const control_cmd_syntax_t mapaddress_syntax = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_QUOTED,
};

static void
handle_mapaddress(control_conn_t *cc, const control_args_t *args)
{
  control_outbuf_t o;
  control_outbuf_init(&o, CONTROL_CONN_OUT_MAX);
  chive_err_t e = CHIVE_OK;
  if (args->n_kv == 0) {
    control_conn_reply(cc, 512, "syntax error: not enough arguments to "
                                "mapaddress.");
    return;
  }
  for (size_t i = 0; i < args->n_kv && e == CHIVE_OK; i++) {
    const control_kv_t *kv = &args->kv[i];
    bool last = i + 1 == args->n_kv;
    char sep = last ? ' ' : '-';
    if (!cc->ctl->c->streams ||
        streams_map_address(cc->ctl->c, kv->key, kv->value) != CHIVE_OK)
      e = control_reply_printf(&o, 451, sep,
                               "resource exhausted: skipping '%s=%s'",
                               kv->key, kv->value);
    else
      e = control_reply_printf(&o, 250, sep, "%s=%s", kv->key, kv->value);
  }
  if (e == CHIVE_OK)
    control_conn_send(cc, &o);
  else
    control_conn_reply(cc, 551, "Internal error");
  control_outbuf_clear(&o);
}

static const control_cmd_syntax_t resolve_syntax = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS,
};

static void
handle_resolve(control_conn_t *cc, const control_args_t *args)
{
  bool reverse = false;
  for (size_t i = 0; i < args->n_kv; i++)
    if (str_eq_ci(args->kv[i].key, "mode") &&
        str_eq_ci(args->kv[i].value, "reverse"))
      reverse = true;
  for (size_t i = 0; i < args->n_kv; i++) {
    const control_kv_t *kv = &args->kv[i];
    if (kv->value[0] || !kv->key[0])
      continue; /* mode=... */
    if (!cc->ctl->c->streams ||
        streams_resolve(cc->ctl->c, kv->key, reverse) != CHIVE_OK) {
      control_conn_reply(cc, 512, "Invalid address \"%s\"", kv->key);
      return;
    }
  }
  control_conn_reply(cc, 250, "OK");
}

static const control_cmd_ext_t ext_commands[] = {
    {"DROPGUARDS", handle_dropguards, &dropguards_syntax},
    {"CLOSECIRCUIT", handle_closecircuit, &closecircuit_syntax},
    {"SETCIRCUITPURPOSE", handle_setcircuitpurpose,
     &setcircuitpurpose_syntax},
    {"EXTENDCIRCUIT", handle_extendcircuit, &extendcircuit_syntax},
    {"ATTACHSTREAM", handle_attachstream, &attachstream_syntax},
    {"CLOSESTREAM", handle_closestream, &closestream_syntax},
    {"MAPADDRESS", handle_mapaddress, &mapaddress_syntax},
    {"RESOLVE", handle_resolve, &resolve_syntax},
};

const control_cmd_ext_t *
control_cmd_find_ext(const char *kw)
{
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(ext_commands); i++)
    if (!strcmp(kw, ext_commands[i].name))
      return &ext_commands[i];
  return NULL;
}

/* ---- events ------------------------------------------------------------ */

static const char *
orconn_reason(int r)
{
  switch (r) {
  case CHANNEL_CLOSE_REQUESTED:
  case CHANNEL_CLOSE_IDLE:
    return "DONE";
  case CHANNEL_CLOSE_TIMEOUT:
    return "TIMEOUT";
  case CHANNEL_CLOSE_IO_ERROR:
  case CHANNEL_CLOSE_TLS_ERROR:
    return "IOERROR";
  case CHANNEL_CLOSE_REMOTE_CLOSED:
    return "DONE";
  case CHANNEL_CLOSE_WRONG_IDENTITY:
  case CHANNEL_CLOSE_BAD_CERTS:
    return "IDENTITY";
  case CHANNEL_CLOSE_RESOURCE:
    return "RESOURCELIMIT";
  default:
    return "MISC";
  }
}

static void
circ_event(control_t *ctl, const cev_t *ev)
{
  const ocirc_t *oc = ev->circ;
  strbuf_t sb;
  strbuf_init(&sb, CONTROL_MAX_LINE_LEN);
  chive_err_t e;
  if (ev->type == CEV_CIRC_MINOR) {
    /* §4.1.22: "CIRC_MINOR ID PURPOSE_CHANGED path ... OLD_PURPOSE=" */
    e = strbuf_addstr(&sb, "CIRC_MINOR ");
    if (e == CHIVE_OK)
      e = format_circ_line(&sb, ctl->c, oc, "PURPOSE_CHANGED",
                           ocirc_hops_built(oc));
    if (e == CHIVE_OK)
      e = strbuf_addf(&sb, " OLD_PURPOSE=%s",
                      purpose_name((circuit_purpose_t)ev->reason));
    if (e == CHIVE_OK)
      control_events_send(ctl, CTL_EV_CIRC_MINOR, strbuf_str(&sb),
                          strbuf_len(&sb));
    strbuf_clear(&sb);
    return;
  }
  const char *status;
  switch ((circmgr_circ_ev_t)ev->status) {
  case CIRCMGR_CIRC_LAUNCHED:
    status = "LAUNCHED";
    break;
  case CIRCMGR_CIRC_EXTENDED:
    status = "EXTENDED";
    break;
  case CIRCMGR_CIRC_BUILT:
    status = "BUILT";
    break;
  case CIRCMGR_CIRC_FAILED:
    status = "FAILED";
    break;
  case CIRCMGR_CIRC_CLOSED:
    status = "CLOSED";
    break;
  default:
    strbuf_clear(&sb);
    return;
  }
  size_t n = ev->status == CIRCMGR_CIRC_LAUNCHED ? 0 : ocirc_hops_built(oc);
  e = strbuf_addstr(&sb, "CIRC ");
  if (e == CHIVE_OK)
    e = format_circ_line(&sb, ctl->c, oc, status, n);
  if (e == CHIVE_OK && (ev->status == CIRCMGR_CIRC_FAILED ||
                        ev->status == CIRCMGR_CIRC_CLOSED)) {
    /* tor: a DESTROY from the network is REASON=DESTROYED with the
     * relay's reason as REMOTE_REASON. */
    if (ev->remote)
      e = strbuf_addf(&sb, " REASON=DESTROYED REMOTE_REASON=%s",
                      destroy_reason_name(ev->reason));
    else
      e = strbuf_addf(&sb, " REASON=%s", destroy_reason_name(ev->reason));
  }
  if (e == CHIVE_OK)
    control_events_send(ctl, CTL_EV_CIRC, strbuf_str(&sb), strbuf_len(&sb));
  strbuf_clear(&sb);
}

static void
orconn_event(control_t *ctl, const cev_t *ev)
{
  const char *status;
  switch ((circmgr_chan_ev_t)ev->status) {
  case CIRCMGR_CHAN_LAUNCHED:
    status = "LAUNCHED";
    break;
  case CIRCMGR_CHAN_CONNECTED:
    status = "CONNECTED";
    break;
  case CIRCMGR_CHAN_FAILED:
    status = "FAILED";
    break;
  case CIRCMGR_CHAN_CLOSED:
    status = "CLOSED";
    break;
  default:
    return;
  }
  strbuf_t sb;
  strbuf_init(&sb, 1024);
  chive_err_t e = strbuf_addstr(&sb, "ORCONN ");
  if (e == CHIVE_OK)
    e = add_longname(&sb, ctl->c, channel_target(ev->chan)->rsa_id);
  if (e == CHIVE_OK)
    e = strbuf_addf(&sb, " %s", status);
  if (e == CHIVE_OK && (ev->status == CIRCMGR_CHAN_FAILED ||
                        ev->status == CIRCMGR_CHAN_CLOSED))
    e = strbuf_addf(&sb, " REASON=%s", orconn_reason(ev->reason));
  if (e == CHIVE_OK)
    e = strbuf_addf(&sb, " ID=%llu",
                    (unsigned long long)channel_id(ev->chan));
  if (e == CHIVE_OK)
    control_events_send(ctl, CTL_EV_ORCONN, strbuf_str(&sb),
                        strbuf_len(&sb));
  strbuf_clear(&sb);
}

static void
stream_event(control_t *ctl, const cev_t *ev)
{
  const app_stream_t *st = ev->stream;
  strbuf_t sb;
  strbuf_init(&sb, 2048);
  chive_err_t e = strbuf_addstr(&sb, "STREAM ");
  if (e == CHIVE_OK)
    e = format_stream_head(&sb, st, ev->status);
  if (e == CHIVE_OK && (ev->status == CEV_STREAM_FAILED ||
                        ev->status == CEV_STREAM_CLOSED ||
                        ev->status == CEV_STREAM_DETACHED) &&
      ev->reason) {
    /* §4.1.2: REASON is the END reason (END_REASON names), with
     * REMOTE_REASON when the exit sent it. */
    if (ev->remote)
      e = strbuf_addf(&sb, " REASON=END REMOTE_REASON=%s",
                      end_reason_name(ev->reason));
    else
      e = strbuf_addf(&sb, " REASON=%s", end_reason_name(ev->reason));
  }
  if (e == CHIVE_OK && (ev->status == CEV_STREAM_NEW ||
                        ev->status == CEV_STREAM_NEWRESOLVE)) {
    const char *src = app_stream_source(st);
    if (src && src[0])
      e = strbuf_addf(&sb, " SOURCE_ADDR=%s", src);
    if (e == CHIVE_OK)
      e = strbuf_addf(&sb, " PURPOSE=%s",
                      app_stream_kind(st) == APP_STREAM_CONNECT
                          ? "USER"
                          : "DNS_REQUEST");
  }
  if (e == CHIVE_OK)
    control_events_send(ctl, CTL_EV_STREAM, strbuf_str(&sb),
                        strbuf_len(&sb));
  strbuf_clear(&sb);
}

void
control_events_obj(control_t *ctl, const cev_t *ev)
{
  switch (ev->type) {
  case CEV_CIRC:
  case CEV_CIRC_MINOR:
    if (ev->circ)
      circ_event(ctl, ev);
    return;
  case CEV_ORCONN:
    if (ev->chan)
      orconn_event(ctl, ev);
    return;
  case CEV_STREAM:
    if (ev->stream)
      stream_event(ctl, ev);
    return;
  default:
    return;
  }
}

/* ---- streams ----------------------------------------------------------- */

void
control_streams_apply_leave(control_t *ctl)
{
  if (ctl->c->streams)
    streams_set_leave_unattached(ctl->c, ctl->leave_streams_unattached);
}

void
control_streams_newnym(control_t *ctl)
{
  if (ctl->c->streams)
    streams_newnym(ctl->c);
}

void
control_streams_clear_dns(control_t *ctl)
{
  if (ctl->c->streams)
    streams_clear_dns_cache(ctl->c);
}
