/**
 * @file control_int.h
 * @brief The control port's internals, shared by control.c (listeners,
 * connections, authentication state), control_cmd.c (the command table
 * and handlers), control_getinfo.c (GETINFO keys) and control_events.c
 * (asynchronous "650" events from the client's event hub).
 *
 * Ownership: the client owns one control_t (c->control); it owns its
 * listeners and connections.  A connection is never freed from inside a
 * callback chain that may still use it: closing marks it, and the
 * control port's reaper frees it on a later loop iteration.
 **/
#ifndef CHIVE_APP_CONTROL_INT_H
#define CHIVE_APP_CONTROL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/events.h"
#include "core/circuit/circuit.h"
#include "chive/error.h"
#include "feature/control/control_auth.h"
#include "feature/control/control_proto.h"
#include "lib/cc/cc.h"
#include "lib/container/list.h"
#include "lib/evloop/evloop.h"
#include "lib/fs/fs.h"
#include "lib/text/strbuf.h"

typedef struct chive_client_t chive_client_t;
struct event;

/** Most control listeners (ControlPort + ControlSocket lines). */
#define CONTROL_MAX_LISTENERS 8
/** Most control connections at once; more are refused at accept. */
#define CONTROL_MAX_CONNS 64
/** Most bytes read from one connection per loop callback (fairness). */
#define CONTROL_READ_PER_CB ((size_t)64 * 1024)
/** Most reply bytes pending for one connection (a "GETINFO ns/all" of
 * the live network is a few MiB). */
#define CONTROL_CONN_OUT_MAX ((size_t)16 * 1024 * 1024)
/** A connection whose unread output reaches this many bytes when an
 * event arrives is closed: a controller that does not read its events
 * must not make us buffer without bound (others keep working). */
#define CONTROL_CONN_EVENT_BACKLOG_MAX ((size_t)1024 * 1024)
/** Length of "addr:port" or a socket path kept for a listener. */
#define CONTROL_LISTENER_NAME_LEN 256
/** The tor release whose control protocol chive speaks: GETINFO version
 * and PROTOCOLINFO report "<this>-chive (chive-X.Y.Z)" so that
 * controllers that gate features on tor's version (stem, nyx) work. */
#define CONTROL_TOR_COMPAT_VERSION "0.4.9.1"
/** How often the owning controller process is checked, ms. */
#define CONTROL_OWNER_POLL_MS 1000
/** Name of the cookie file in the DataDirectory (tor's). */
#define CONTROL_COOKIE_FILE_NAME "control_auth_cookie"

/** Controller-visible event types (control-spec §4.1; the names are in
 * control_event_names[]).  SETEVENTS accepts every name tor accepts;
 * chive emits the ones it has a source for. */
typedef enum ctl_ev_t {
  CTL_EV_CIRC = 0,
  CTL_EV_STREAM,
  CTL_EV_ORCONN,
  CTL_EV_BW,
  CTL_EV_DEBUG,
  CTL_EV_INFO,
  CTL_EV_NOTICE,
  CTL_EV_WARN,
  CTL_EV_ERR,
  CTL_EV_NEWDESC,
  CTL_EV_ADDRMAP,
  CTL_EV_DESCCHANGED,
  CTL_EV_NS,
  CTL_EV_STATUS_GENERAL,
  CTL_EV_STATUS_CLIENT,
  CTL_EV_STATUS_SERVER,
  CTL_EV_GUARD,
  CTL_EV_STREAM_BW,
  CTL_EV_CLIENTS_SEEN,
  CTL_EV_NEWCONSENSUS,
  CTL_EV_BUILDTIMEOUT_SET,
  CTL_EV_SIGNAL,
  CTL_EV_CONF_CHANGED,
  CTL_EV_CONN_BW,
  CTL_EV_CELL_STATS,
  CTL_EV_CIRC_BW,
  CTL_EV_TRANSPORT_LAUNCHED,
  CTL_EV_HS_DESC,
  CTL_EV_HS_DESC_CONTENT,
  CTL_EV_NETWORK_LIVENESS,
  CTL_EV_PT_LOG,
  CTL_EV_PT_STATUS,
  CTL_EV_CIRC_MINOR,
  CTL_EV_N
} ctl_ev_t;

/** Name of event <b>e</b> ("CIRC", ...). */
const char *control_event_name(ctl_ev_t e);
/** Parse an event name (ignoring case); -1 if unknown. */
int control_event_parse(const char *name);

typedef struct control_t control_t;

/** One circuit's counters at a CIRC_BW tick (circuit_stats()). */
typedef struct control_circ_bw_t {
  uint32_t id;               /**< CircuitID */
  uint64_t cells_r, cells_w; /**< relay cells received / sent */
  uint64_t dropped;          /**< received cells ignored */
  uint64_t data_r, data_w;   /**< RELAY_DATA payload bytes */
} control_circ_bw_t;

/** One controller connection. */
typedef struct control_conn_t {
  chive_list_t link;         /**< on control_t.conns */
  control_t *ctl;            /**< borrowed back-pointer */
  uint64_t id;               /**< for log lines */
  int fd;
  struct event *rev, *wev;
  control_framer_t framer;
  control_outbuf_t out;
  reaper_entry_t reap;
  bool authenticated;
  bool sent_protocolinfo;    /**< PROTOCOLINFO before auth: once only */
  bool marked;               /**< closing: no more input is processed */
  bool flush_then_close;     /**< close once the output is written */
  bool owning;               /**< TAKEOWNERSHIP */
  control_safecookie_t safecookie;
  uint64_t event_mask;       /**< 1 << ctl_ev_t */
  /** While a command runs, its events wait here and follow its reply
   * (tor queues events and sends them after the reply too). */
  bool in_cmd;
  control_outbuf_t held;
} control_conn_t;

/** One listening socket. */
typedef struct control_listener_t {
  int fd;
  struct event *ev;
  bool is_unix;
  char name[CONTROL_LISTENER_NAME_LEN]; /**< "127.0.0.1:9051" or path */
} control_listener_t;

struct control_t {
  chive_client_t *c;          /**< borrowed */
  control_listener_t listeners[CONTROL_MAX_LISTENERS];
  size_t n_listeners;
  chive_list_t conns;         /**< control_conn_t */
  size_t n_conns;
  uint64_t next_conn_id;
  reaper_t *reaper;
  /* Authentication (control-spec §3.5, §5.1). */
  bool cookie_auth;
  uint8_t cookie[CONTROL_AUTH_COOKIE_LEN];
  char cookie_path[FS_MAX_PATH_LEN];
  control_hashed_pw_t *pws;   /**< HashedControlPassword values */
  size_t n_pws;
  bool null_auth;             /**< explicitly configured: no auth */
  control_auth_limiter_t limiter;
  /* Events. */
  uint64_t ev_union;          /**< union of the connections' masks */
  bool hub_subscribed;
  evloop_timer_t *bw_timer;   /**< BW / CIRC_BW / STREAM_BW, once a second */
  uint64_t bw_last_read, bw_last_written;
  bool leave_streams_unattached;
  bool dormant;               /**< SIGNAL DORMANT (until ACTIVE) */
  bool in_log_event;          /**< queueing a log event (no recursion) */
  uint64_t last_newnym_ms;    /**< NEWNYM rate limit */
  /* Ownership (__OwningControllerProcess, TAKEOWNERSHIP). */
  evloop_timer_t *owner_timer; /**< polls the owning process */
  bool exiting;               /**< shutdown already asked for */
  char port_file[FS_MAX_PATH_LEN]; /**< ControlPortWriteToFile, or "" */
  /* CIRC_BW: per-circuit counters at the last tick, by CircuitID. */
  control_circ_bw_t *circ_bw; /**< sorted by id; owned */
  size_t n_circ_bw;
  bool circ_bw_on;            /**< someone wants CIRC_BW */
};

/* ---- control.c -------------------------------------------------------- */

/** Mark <b>cc</b> for close; with <b>flush</b>, after its pending output
 * is written.  Safe to call repeatedly and from any callback. */
void control_conn_close(control_conn_t *cc, bool flush);
/** Arrange for <b>cc</b>'s output to be written. */
void control_conn_kick(control_conn_t *cc);
/** Append the formatted reply in <b>o</b> to <b>cc</b>'s output (all or
 * nothing); if it does not fit, the connection is closed. */
void control_conn_send(control_conn_t *cc, const control_outbuf_t *o);
/** Append "CODE TEXT" (an EndReplyLine); closes the connection if it
 * cannot be queued. */
void control_conn_reply(control_conn_t *cc, unsigned code, const char *fmt,
                        ...) CHIVE_PRINTF(3, 4);
/** Try to write every connection's pending output now (before the
 * process exits on SIGNAL SHUTDOWN). */
void control_flush_all(control_t *ctl);
/** The owning controller (connection or process) is gone: log
 * <b>why</b> and ask the embedder to shut down (tor exits). */
void control_owner_gone(control_t *ctl, const char *why);
/** Current monotonic time in ms (for the auth limiter). */
uint64_t control_now_ms(const control_t *ctl);

/* ---- control_cmd.c ---------------------------------------------------- */

/** Run one complete command from <b>cc</b> (authentication rules
 * first).  Replies are queued on cc; the command is not kept. */
void control_cmd_dispatch(control_conn_t *cc, const control_cmd_t *cmd);
/** Write "<tor-compat>-chive (chive-X.Y.Z)" into <b>buf</b>. */
void control_version_string(char *buf, size_t len);
/** The canonical spelling of option <b>name</b> (any case), or NULL if
 * chive has no such option.  Includes control-only options. */
const char *control_option_canonical(const char *name);

/** A command handler and its syntax (for tables in other files). */
typedef struct control_cmd_ext_t {
  const char *name; /**< upper case */
  void (*fn)(control_conn_t *cc, const control_args_t *args);
  const control_cmd_syntax_t *syntax;
} control_cmd_ext_t;

/* ---- control_ops.c ---------------------------------------------------- */

/** The circuit / stream / address commands (EXTENDCIRCUIT, ...), or
 * NULL if <b>kw</b> is none of them. */
const control_cmd_ext_t *control_cmd_find_ext(const char *kw);
/** Carry out SIGNAL <b>sig</b> (a canonical name from the SIGNAL
 * table) after "250 OK" was queued. */
void control_signal_run(control_t *ctl, const char *sig);
/** True iff SIGNAL <b>sig</b> is carried out by the embedder's signal
 * callback (SHUTDOWN, HALT, RELOAD and their aliases). */
bool control_signal_needs_embedder(const char *sig);
/** __LeaveStreamsUnattached. */
void control_set_leave_unattached(control_t *ctl, bool leave);
/** SAVECONF: write the configuration to the configuration file. */
CHIVE_MUST_CHECK chive_err_t control_save_config(control_t *ctl);
/** The configuration file chive was started with, if known. */
CHIVE_MUST_CHECK chive_err_t control_config_file(control_t *ctl, char *buf,
                                                 size_t len);
/** Append the configuration as torrc text (GETINFO config-text). */
CHIVE_MUST_CHECK chive_err_t control_config_text(control_t *ctl,
                                                 strbuf_t *sb);

/** Stream side of the commands (control_circ.c): apply
 * ctl->leave_streams_unattached, SIGNAL NEWNYM, SIGNAL CLEARDNSCACHE. */
void control_streams_apply_leave(control_t *ctl);
void control_streams_newnym(control_t *ctl);
void control_streams_clear_dns(control_t *ctl);

/* ---- ctlcirc.c -------------------------------------------------------- */

/** EXTENDCIRCUIT 0 with a path: launch a circuit through <b>hops</b>;
 * *<b>id_out</b> is its CircuitID. */
CHIVE_MUST_CHECK chive_err_t
control_launch_path(control_t *ctl, const circuit_hop_info_t *hops,
                    size_t n_hops, uint32_t *id_out);
/** EXTENDCIRCUIT 0 without a path: chive picks an exit path. */
CHIVE_MUST_CHECK chive_err_t control_launch_auto(control_t *ctl,
                                                 uint32_t *id_out);

/** A GETINFO key answered by another file. */
typedef chive_err_t (*control_gi_fn)(control_conn_t *cc, const char *q,
                                     strbuf_t *sb, const char **errmsg);
typedef struct control_getinfo_ext_t {
  const char *key;
  bool prefix;
  control_gi_fn fn;
  const char *doc;
} control_getinfo_ext_t;
/** More GETINFO keys (circuit-status, ...), ending with a NULL key. */
const control_getinfo_ext_t *control_getinfo_ext(control_t *ctl);

/* ---- control_getinfo.c ------------------------------------------------ */

/** Answer GETINFO for key <b>q</b>: on success *<b>ans</b> is a
 * chive_malloc'd value (caller frees) and CHIVE_OK; CHIVE_ERR_NOTFOUND
 * for an unknown key (with *<b>errmsg</b> set to a static message or
 * NULL for the default); other errors are internal (551). */
CHIVE_MUST_CHECK chive_err_t control_getinfo_one(control_conn_t *cc,
                                                 const char *q, char **ans,
                                                 const char **errmsg);
/** Append "KEY=VALUE" as a reply line to <b>o</b>: a MidReplyLine (or
 * an EndReplyLine with <b>last</b>), or a data reply "CODE+KEY=" then
 * CmdData when the value holds CR or LF (tor's rule). */
CHIVE_MUST_CHECK chive_err_t control_reply_kv_raw(control_outbuf_t *o,
                                                  unsigned code,
                                                  const char *key,
                                                  const char *val,
                                                  size_t val_len, bool last);

/* ---- control_events.c ------------------------------------------------- */

/** Recompute ctl->ev_union and the hub subscription, log threshold and
 * BW timer after a connection's event mask changed or it closed. */
void control_events_update(control_t *ctl);
/** Queue one already formatted event line body (without "650 ") of
 * type <b>e</b> to every authenticated connection that wants it. */
void control_events_send(control_t *ctl, ctl_ev_t e, const char *body,
                         size_t len);
/** Circuit, channel and stream events (control_circ.c). */
void control_events_obj(control_t *ctl, const cev_t *ev);
/** "YYYY-MM-DDTHH:MM:SS.ffffff" now, UTC (control-spec ISOTime2Frac). */
void control_iso_time_frac(char *buf, size_t len);
/** Append a STREAM_BW event body (control-spec §4.1.13): <b>app_wrote</b>
 * is what the application sent into chive, <b>app_read</b> what it got
 * back. */
CHIVE_MUST_CHECK chive_err_t control_format_stream_bw(strbuf_t *sb,
                                                      uint64_t id,
                                                      uint64_t app_wrote,
                                                      uint64_t app_read,
                                                      const char *when);
/** Append a CIRC_BW event body (control-spec §4.1.22) for the change
 * from <b>prev</b> to <b>now</b>. */
CHIVE_MUST_CHECK chive_err_t
control_format_circ_bw(strbuf_t *sb, uint32_t id,
                       const control_circ_bw_t *now,
                       const control_circ_bw_t *prev, const char *when);
/** Stop everything control_events_update() started. */
void control_events_shutdown(control_t *ctl);

#endif /* !defined(CHIVE_APP_CONTROL_INT_H) */
