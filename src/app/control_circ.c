/**
 * @file control_circ.c
 * @brief Circuit, channel and stream parts of the control port: the
 * commands that act on them (control-spec §3.10 EXTENDCIRCUIT, §3.11
 * SETCIRCUITPURPOSE, §3.13 ATTACHSTREAM, §3.16-§3.17 CLOSESTREAM /
 * CLOSECIRCUIT, §3.8 MAPADDRESS, §3.18 RESOLVE, §3.26 DROPGUARDS), their
 * GETINFO keys (circuit-status, stream-status, orconn-status,
 * traffic/read|written) and their events (CIRC, ORCONN, STREAM).
 *
 * Circuit and stream accessors come from core/circmgr and app/streams;
 * the parts whose accessors are not available yet are listed in
 * src/app/README.md.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "app/client_st.h"
#include "app/control_int.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"

/* ---- GETINFO ---------------------------------------------------------- */

static chive_err_t
gi_traffic(control_conn_t *cc, const char *q, strbuf_t *sb,
           const char **errmsg)
{
  (void)errmsg;
  channel_mgr_t *cm = cc->ctl->c->circmgr
                          ? circmgr_channels(cc->ctl->c->circmgr)
                          : NULL;
  uint64_t v = 0;
  if (cm)
    v = !strcmp(q, "traffic/read") ? channel_mgr_bytes_read(cm)
                                   : channel_mgr_bytes_written(cm);
  return strbuf_addf(sb, "%llu", (unsigned long long)v);
}

static const control_getinfo_ext_t getinfo_ext[] = {
    {"traffic/read", false, gi_traffic, "Bytes read since the process was "
     "started."},
    {"traffic/written", false, gi_traffic, "Bytes written since the "
     "process was started."},
    {NULL, false, NULL, NULL},
};

const control_getinfo_ext_t *
control_getinfo_ext(control_t *ctl)
{
  (void)ctl;
  return getinfo_ext;
}

/* ---- commands ---------------------------------------------------------- */

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

static const control_cmd_ext_t ext_commands[] = {
    {"DROPGUARDS", handle_dropguards, &dropguards_syntax},
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

void
control_events_obj(control_t *ctl, const cev_t *ev)
{
  (void)ctl;
  (void)ev;
}

/* ---- streams ----------------------------------------------------------- */

void
control_streams_apply_leave(control_t *ctl)
{
  (void)ctl;
}

void
control_streams_newnym(control_t *ctl)
{
  (void)ctl;
}

void
control_streams_clear_dns(control_t *ctl)
{
  (void)ctl;
}
