/**
 * @file control.c
 * @brief The control port (control-spec): ControlPort / ControlSocket
 * listeners, controller connections (reading, framing, the bounded
 * output queue) and the authentication configuration (cookie file,
 * HashedControlPassword).  Commands are in control_cmd.c.
 *
 * Never open without authentication by default: with neither
 * CookieAuthentication nor HashedControlPassword set, cookie
 * authentication is turned on.  No authentication at all (tor's "NULL"
 * method) only when CookieAuthentication is explicitly 0 and no
 * password is configured, with a warning.
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/control.h"
#include "app/control_int.h"
#include "app/portconf.h"
#include "lib/malloc/malloc.h"
#include "lib/net/socket.h"
#include "lib/text/str.h"

/* ---- connections ------------------------------------------------------ */

uint64_t
control_now_ms(const control_t *ctl)
{
  return clock_mono_ms(ctl->c->clock);
}

static void
conn_free(void *arg)
{
  control_conn_t *cc = arg;
  control_t *ctl = cc->ctl;
  if (cc->rev)
    event_free(cc->rev);
  if (cc->wev)
    event_free(cc->wev);
  net_close(cc->fd);
  control_framer_clear(&cc->framer);
  control_outbuf_clear(&cc->out);
  control_outbuf_clear(&cc->held);
  control_safecookie_clear(&cc->safecookie);
  if (chive_list_is_linked(&cc->link)) {
    chive_list_remove(&cc->link);
    ctl->n_conns--;
  }
  chive_free(cc);
}

/** Take <b>cc</b> out of service now (events off, no more events or
 * input) and hand it to the reaper. */
static void
conn_finish(control_conn_t *cc)
{
  control_t *ctl = cc->ctl;
  if (cc->rev)
    event_del(cc->rev);
  if (cc->wev)
    event_del(cc->wev);
  cc->marked = true;
  bool had_events = cc->event_mask != 0;
  cc->event_mask = 0;
  if (had_events)
    control_events_update(ctl);
  reaper_mark(ctl->reaper, &cc->reap, cc, conn_free);
  if (cc->owning) {
    cc->owning = false;
    control_owner_gone(ctl, "Owning controller connection has closed -- "
                            "exiting now.");
  }
}

void
control_conn_close(control_conn_t *cc, bool flush)
{
  if (reaper_entry_is_marked(&cc->reap))
    return;
  cc->marked = true;
  if (cc->rev)
    event_del(cc->rev);
  if (flush && control_outbuf_len(&cc->out) > 0) {
    cc->flush_then_close = true;
    /* Events no longer go to a closing connection. */
    if (cc->event_mask) {
      cc->event_mask = 0;
      control_events_update(cc->ctl);
    }
    control_conn_kick(cc);
    return;
  }
  conn_finish(cc);
}

void
control_conn_kick(control_conn_t *cc)
{
  if (cc->wev && control_outbuf_len(&cc->out) > 0 &&
      !reaper_entry_is_marked(&cc->reap))
    event_add(cc->wev, NULL);
}

void
control_conn_send(control_conn_t *cc, const control_outbuf_t *o)
{
  if (reaper_entry_is_marked(&cc->reap) || control_outbuf_len(o) == 0)
    return;
  if (control_outbuf_append(&cc->out, control_outbuf_data(o),
                            control_outbuf_len(o)) != CHIVE_OK) {
    control_conn_close(cc, false); /* before the log line (an event) */
    log_info(cc->ctl->c->log, LD_CONTROL,
             "Control connection %llu: output queue full; closing it.",
             (unsigned long long)cc->id);
    return;
  }
  control_conn_kick(cc);
}

void
control_conn_reply(control_conn_t *cc, unsigned code, const char *fmt, ...)
{
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(text, sizeof(text), fmt, ap);
  va_end(ap);
  if (n < 0)
    n = 0;
  size_t len = (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1;
  if (reaper_entry_is_marked(&cc->reap))
    return;
  if (control_reply_line(&cc->out, code, CONTROL_SEP_END, text, len) !=
      CHIVE_OK) {
    control_conn_close(cc, false);
    return;
  }
  control_conn_kick(cc);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
  control_conn_t *cc = arg;
  (void)fd;
  (void)what;
  while (control_outbuf_len(&cc->out) > 0) {
    size_t n = 0;
    chive_err_t e = net_write(cc->fd, control_outbuf_data(&cc->out),
                              control_outbuf_len(&cc->out), &n);
    if (e == CHIVE_ERR_TRUNCATED)
      return; /* still pending; the event stays armed */
    if (e != CHIVE_OK) {
      conn_finish(cc);
      return;
    }
    control_outbuf_drain(&cc->out, n);
  }
  event_del(cc->wev);
  if (cc->flush_then_close)
    conn_finish(cc);
}

/** tor answers a controller that speaks HTTP with this and closes. */
static const char CONTROL_NOT_HTTP_MSG[] =
    "HTTP/1.0 501 Tor ControlPort is not an HTTP proxy"
    "\r\nContent-Type: text/html; charset=iso-8859-1\r\n\r\n"
    "<html>\n<head>\n<title>This is not an HTTP proxy</title>\n</head>\n"
    "<body>\n<h1>This is the Tor control port, not an HTTP proxy</h1>\n"
    "<p>\nIt appears you have configured your web browser to use this "
    "Tor port as\nan HTTP proxy.\n</p><p>\nThis is not correct: This port "
    "is configured as a control port, not an HTTP proxy.\n</p>\n"
    "</body>\n</html>\n";

static bool
looks_like_http(const uint8_t *buf, size_t len)
{
  static const char *const methods[] = {"GET ", "POST ", "HEAD ", "PUT ",
                                        "CONNECT ", "OPTIONS "};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(methods); i++) {
    size_t ml = strlen(methods[i]);
    if (len >= ml && !memcmp(buf, methods[i], ml))
      return true;
  }
  return false;
}

/** Feed <b>len</b> bytes to the framer and run complete commands. */
static void
conn_process(control_conn_t *cc, const uint8_t *buf, size_t len)
{
  while (len > 0 && !cc->marked) {
    size_t used = 0;
    control_cmd_t cmd;
    memset(&cmd, 0, sizeof(cmd));
    chive_err_t e = control_framer_feed(&cc->framer, buf, len, &used, &cmd);
    buf += used;
    len -= used;
    if (e == CHIVE_ERR_TRUNCATED)
      return;
    if (e == CHIVE_ERR_LIMIT) {
      control_conn_reply(cc, 500, "Line too long.");
      control_conn_close(cc, true);
      return;
    }
    if (e != CHIVE_OK) {
      control_conn_reply(cc, 500, "%s",
                         e == CHIVE_ERR_PROTO ? "Invalid NUL byte in command"
                                              : "Internal error");
      control_conn_close(cc, true);
      return;
    }
    cc->in_cmd = true;
    control_cmd_dispatch(cc, &cmd);
    cc->in_cmd = false;
    control_cmd_clear(&cmd);
    if (control_outbuf_len(&cc->held) > 0) {
      control_conn_send(cc, &cc->held);
      control_outbuf_drain(&cc->held, control_outbuf_len(&cc->held));
    }
  }
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
  control_conn_t *cc = arg;
  uint8_t buf[4096];
  size_t total = 0;
  (void)fd;
  (void)what;
  while (!cc->marked && total < CONTROL_READ_PER_CB) {
    size_t n = 0;
    chive_err_t e = net_read(cc->fd, buf, sizeof(buf), &n);
    if (e == CHIVE_ERR_TRUNCATED)
      break;
    if (e != CHIVE_OK) { /* EOF or error */
      log_info(cc->ctl->c->log, LD_CONTROL,
               "Control connection %llu closed by the controller.",
               (unsigned long long)cc->id);
      conn_finish(cc);
      break;
    }
    if (total == 0 && !cc->authenticated &&
        !control_framer_has_partial(&cc->framer) && looks_like_http(buf, n)) {
      if (control_outbuf_append(&cc->out, CONTROL_NOT_HTTP_MSG,
                                sizeof(CONTROL_NOT_HTTP_MSG) - 1) !=
          CHIVE_OK)
        control_outbuf_drain(&cc->out, control_outbuf_len(&cc->out));
      log_notice(cc->ctl->c->log, LD_CONTROL,
                 "Received HTTP request on ControlPort");
      control_conn_close(cc, true);
      break;
    }
    total += n;
    conn_process(cc, buf, n);
  }
  chive_memwipe(buf, sizeof(buf));
}

void
control_owner_gone(control_t *ctl, const char *why)
{
  chive_client_t *c = ctl->c;
  if (ctl->exiting)
    return;
  ctl->exiting = true;
  log_notice(c->log, LD_CONTROL, "%s", why);
  control_flush_all(ctl);
  if (!client_deliver_signal(c, "SHUTDOWN"))
    log_warn(c->log, LD_CONTROL,
             "The owning controller is gone but no handler is installed "
             "to exit; continuing.");
}

/** Once a second: has __OwningControllerProcess exited?  (tor polls the
 * process the same way, with kill(pid, 0), on systems without a better
 * mechanism.) */
static void
owner_tick(evloop_timer_t *t, void *arg)
{
  control_t *ctl = arg;
  const chive_config_t *cfg = ctl->c->cfg;
  (void)t;
  if (ctl->exiting || !config_is_set(cfg, OPT_OWNING_CONTROLLER_PROCESS))
    return;
  int64_t pid = config_get_int(cfg, OPT_OWNING_CONTROLLER_PROCESS);
  if (pid <= 0 || pid > 0x7fffffff)
    return;
  if (kill((pid_t)pid, 0) < 0 && errno == ESRCH)
    control_owner_gone(ctl, "Owning controller process has vanished -- "
                            "exiting now.");
}

/* Listener callbacks need the control_t: keep a small trampoline. */
typedef struct listener_arg_t {
  control_t *ctl;
  size_t idx;
} listener_arg_t;

static void
accept_one(control_t *ctl, int nfd, const char *from)
{
  chive_client_t *c = ctl->c;
  if (ctl->n_conns >= CONTROL_MAX_CONNS) {
    log_warn(c->log, LD_CONTROL,
             "Refusing a control connection: %u connections already open.",
             (unsigned)CONTROL_MAX_CONNS);
    net_close(nfd);
    return;
  }
  control_conn_t *cc = chive_zalloc(sizeof(*cc));
  if (!cc) {
    net_close(nfd);
    return;
  }
  cc->ctl = ctl;
  cc->fd = nfd;
  cc->id = ++ctl->next_conn_id;
  chive_list_init(&cc->link);
  reaper_entry_init(&cc->reap);
  control_framer_init(&cc->framer, 0, 0);
  control_outbuf_init(&cc->out, CONTROL_CONN_OUT_MAX);
  control_outbuf_init(&cc->held, CONTROL_CONN_EVENT_BACKLOG_MAX);
  cc->rev = event_new(c->base, nfd, EV_READ | EV_PERSIST, conn_read_cb, cc);
  cc->wev = event_new(c->base, nfd, EV_WRITE | EV_PERSIST, conn_write_cb,
                      cc);
  if (!cc->rev || !cc->wev || event_add(cc->rev, NULL) != 0) {
    if (cc->rev)
      event_free(cc->rev);
    if (cc->wev)
      event_free(cc->wev);
    control_framer_clear(&cc->framer);
    control_outbuf_clear(&cc->out);
    control_outbuf_clear(&cc->held);
    net_close(nfd);
    chive_free(cc);
    return;
  }
  chive_list_add_tail(&ctl->conns, &cc->link);
  ctl->n_conns++;
  log_info(c->log, LD_CONTROL, "New control connection %llu on %s.",
           (unsigned long long)cc->id, from);
}

static void
listener_accept_cb(evutil_socket_t fd, short what, void *arg)
{
  listener_arg_t *la = arg;
  control_t *ctl = la->ctl;
  (void)what;
  for (int i = 0; i < 16; i++) {
    int nfd = NET_SOCKET_INVALID;
    if (net_accept((int)fd, &nfd, NULL) != CHIVE_OK)
      return;
    accept_one(ctl, nfd, ctl->listeners[la->idx].name);
  }
}

/* ---- listeners -------------------------------------------------------- */

/** The argument blocks of the listener events (one per listener). */
typedef struct control_priv_t {
  control_t ctl;
  listener_arg_t largs[CONTROL_MAX_LISTENERS];
} control_priv_t;

static chive_err_t
open_tcp(control_priv_t *p, const char *value)
{
  control_t *ctl = &p->ctl;
  chive_client_t *c = ctl->c;
  portconf_t pc;
  const char *why = "bad value";
  if (portconf_parse(value, strlen(value), &pc, &why) != CHIVE_OK) {
    log_warn(c->log, LD_CONFIG, "Bad ControlPort '%s': %s", value, why);
    return CHIVE_ERR_INVAL;
  }
  if (pc.disabled)
    return CHIVE_OK;
  if (ctl->n_listeners >= CONTROL_MAX_LISTENERS)
    return CHIVE_ERR_LIMIT;
  if (!net_addr_is_loopback(&pc.addr.addr))
    log_warn(c->log, LD_CONFIG,
             "You have a ControlPort set to accept connections from a "
             "non-local address.  This means that programs not running on "
             "your computer can reconfigure your chive.  That's pretty bad, "
             "since the controller protocol isn't encrypted!");
  control_listener_t *l = &ctl->listeners[ctl->n_listeners];
  net_addrport_t bound;
  chive_err_t e = net_listen(&pc.addr, 0, &l->fd, &bound);
  if (e != CHIVE_OK) {
    char buf[NET_ADDRPORT_STR_LEN];
    log_warn(c->log, LD_NET, "Could not bind the control port on %s: %s",
             net_addrport_format(&pc.addr, buf, sizeof(buf)),
             chive_err_str(e));
    return e;
  }
  (void)net_addrport_format(&bound, l->name, sizeof(l->name));
  l->is_unix = false;
  return CHIVE_OK;
}

static chive_err_t
open_unix(control_priv_t *p, const char *path)
{
  control_t *ctl = &p->ctl;
  chive_client_t *c = ctl->c;
  struct sockaddr_un sa;
  memset(&sa, 0, sizeof(sa));
  sa.sun_family = AF_UNIX;
  size_t plen = strlen(path);
  if (plen == 0 || plen >= sizeof(sa.sun_path) ||
      plen >= CONTROL_LISTENER_NAME_LEN) {
    log_warn(c->log, LD_CONFIG, "ControlSocket path too long: %s", path);
    return CHIVE_ERR_INVAL;
  }
  if (ctl->n_listeners >= CONTROL_MAX_LISTENERS)
    return CHIVE_ERR_LIMIT;
  memcpy(sa.sun_path, path, plen + 1);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return CHIVE_ERR_IO;
  struct stat st;
  if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
    (void)unlink(path); /* a stale socket from an earlier run */
  /* Bind with a tight umask: the socket is 0600 from its first moment
   * (tor's default without GroupWritable/WorldWritable). */
  mode_t old = umask(0177);
  int r = bind(fd, (struct sockaddr *)&sa, (socklen_t)sizeof(sa));
  umask(old);
  if (r < 0 || listen(fd, NET_LISTEN_BACKLOG_DEFAULT) < 0) {
    log_warn(c->log, LD_NET, "Could not bind the control socket %s: %s",
             path, strerror(errno));
    close(fd);
    return CHIVE_ERR_IO;
  }
  control_listener_t *l = &ctl->listeners[ctl->n_listeners];
  l->fd = fd;
  l->is_unix = true;
  memcpy(l->name, path, plen + 1);
  return CHIVE_OK;
}

static chive_err_t
arm_listener(control_priv_t *p)
{
  control_t *ctl = &p->ctl;
  size_t i = ctl->n_listeners;
  control_listener_t *l = &ctl->listeners[i];
  p->largs[i].ctl = ctl;
  p->largs[i].idx = i;
  l->ev = event_new(ctl->c->base, l->fd, EV_READ | EV_PERSIST,
                    listener_accept_cb, &p->largs[i]);
  if (!l->ev || event_add(l->ev, NULL) != 0) {
    if (l->ev)
      event_free(l->ev);
    l->ev = NULL;
    net_close(l->fd);
    if (l->is_unix)
      (void)unlink(l->name);
    return CHIVE_ERR_NOMEM;
  }
  ctl->n_listeners++;
  log_notice(ctl->c->log, LD_NET,
             "Opened Control listener connection (ready) on %s", l->name);
  return CHIVE_OK;
}

/* ---- authentication configuration ------------------------------------- */

static chive_err_t
setup_auth(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  size_t n = config_n_values(c->cfg, OPT_HASHED_CONTROL_PASSWORD);
  if (n) {
    ctl->pws = chive_calloc(n, sizeof(*ctl->pws));
    if (!ctl->pws)
      return CHIVE_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
      const char *v = config_value(c->cfg, OPT_HASHED_CONTROL_PASSWORD, i);
      if (control_hashed_pw_parse(v, strlen(v), &ctl->pws[i]) != CHIVE_OK) {
        log_warn(c->log, LD_CONFIG,
                 "Bad HashedControlPassword: wrong length or bad encoding");
        return CHIVE_ERR_INVAL;
      }
    }
    ctl->n_pws = n;
  }
  bool cookie_set = config_is_set(c->cfg, OPT_COOKIE_AUTHENTICATION);
  ctl->cookie_auth = config_get_bool(c->cfg, OPT_COOKIE_AUTHENTICATION);
  if (!ctl->cookie_auth && ctl->n_pws == 0) {
    if (cookie_set) {
      ctl->null_auth = true;
      log_warn(c->log, LD_CONFIG,
               "ControlPort is open and CookieAuthentication is 0 with no "
               "HashedControlPassword: any program on this computer can "
               "control chive.  This is only safe if nothing else runs "
               "here.");
    } else {
      ctl->cookie_auth = true;
      log_notice(c->log, LD_CONFIG,
                 "No control port authentication configured; using cookie "
                 "authentication (CookieAuthentication 1).");
    }
  }
  if (ctl->cookie_auth) {
    if (!c->data_dir[0] && !config_get_str(c->cfg, OPT_COOKIE_AUTH_FILE)) {
      log_warn(c->log, LD_CONFIG,
               "Cookie authentication needs a DataDirectory for its "
               "cookie file.");
      return CHIVE_ERR_INVAL;
    }
    chive_err_t e;
    const char *file = config_get_str(c->cfg, OPT_COOKIE_AUTH_FILE);
    if (file && file[0])
      e = chive_snprintf(ctl->cookie_path, sizeof(ctl->cookie_path), NULL,
                         "%s", file);
    else
      e = fs_join(ctl->cookie_path, sizeof(ctl->cookie_path), c->data_dir,
                  CONTROL_COOKIE_FILE_NAME);
    if (e != CHIVE_OK || (e = control_auth_cookie_new(ctl->cookie)) !=
                             CHIVE_OK)
      return e;
    /* control-spec §5.1: the file holds the 32 bytes, nothing else;
     * only its owner may read it (and its group with
     * CookieAuthFileGroupReadable). */
    unsigned mode =
        config_get_bool(c->cfg, OPT_COOKIE_AUTH_FILE_GROUP_READABLE) ? 0640
                                                                      : 0600;
    if ((e = fs_write_atomic(ctl->cookie_path, ctl->cookie,
                             sizeof(ctl->cookie), mode)) != CHIVE_OK) {
      log_warn(c->log, LD_FS, "Cannot write the control cookie file %s: %s",
               ctl->cookie_path, chive_err_str(e));
      return e;
    }
  }
  control_auth_limiter_init(&ctl->limiter, 0, 0, control_now_ms(ctl));
  return CHIVE_OK;
}

/* ---- start / stop ----------------------------------------------------- */

/** ControlPortWriteToFile: one "PORT=addr:port" or "UNIX_PORT=path"
 * line per listener (tor's format), for controllers that asked for an
 * automatic port ("ControlPort auto"). */
static chive_err_t
write_port_file(control_t *ctl)
{
  chive_client_t *c = ctl->c;
  const char *path = config_get_str(c->cfg, OPT_CONTROL_PORT_WRITE_TO_FILE);
  if (!path || !path[0])
    return CHIVE_OK;
  strbuf_t sb;
  strbuf_init(&sb, (size_t)CONTROL_MAX_LISTENERS * 300);
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < ctl->n_listeners && e == CHIVE_OK; i++) {
    const control_listener_t *l = &ctl->listeners[i];
    e = strbuf_addf(&sb, "%s=%s\n", l->is_unix ? "UNIX_PORT" : "PORT",
                    l->name);
  }
  if (e == CHIVE_OK)
    e = fs_write_atomic(path, strbuf_str(&sb), strbuf_len(&sb), 0600);
  strbuf_clear(&sb);
  if (e != CHIVE_OK) {
    log_warn(c->log, LD_FS, "Cannot write ControlPortWriteToFile %s: %s",
             path, chive_err_str(e));
    return e;
  }
  if (chive_snprintf(ctl->port_file, sizeof(ctl->port_file), NULL, "%s",
                     path) != CHIVE_OK)
    ctl->port_file[0] = 0;
  return CHIVE_OK;
}

chive_err_t
control_start(chive_client_t *c)
{
  size_t n_tcp = config_n_values(c->cfg, OPT_CONTROL_PORT);
  size_t n_unix = config_n_values(c->cfg, OPT_CONTROL_SOCKET);
  bool any = false;
  for (size_t i = 0; i < n_tcp; i++) {
    const char *v = config_value(c->cfg, OPT_CONTROL_PORT, i);
    if (v && strcmp(v, "0") != 0)
      any = true;
  }
  for (size_t i = 0; i < n_unix; i++) {
    const char *v = config_value(c->cfg, OPT_CONTROL_SOCKET, i);
    if (v && strcmp(v, "0") != 0)
      any = true;
  }
  if (!any)
    return CHIVE_OK;
  control_priv_t *p = chive_zalloc(sizeof(*p));
  if (!p)
    return CHIVE_ERR_NOMEM;
  control_t *ctl = &p->ctl;
  ctl->c = c;
  chive_list_init(&ctl->conns);
  c->control = ctl;
  chive_err_t e = reaper_new(c->loop, &ctl->reaper);
  if (e == CHIVE_OK)
    e = setup_auth(ctl);
  for (size_t i = 0; e == CHIVE_OK && i < n_tcp; i++) {
    const char *v = config_value(c->cfg, OPT_CONTROL_PORT, i);
    size_t before = ctl->n_listeners;
    if (str_starts_with(v, "unix:"))
      e = open_unix(p, v + 5);
    else
      e = open_tcp(p, v);
    if (e == CHIVE_OK && ctl->n_listeners == before &&
        (str_starts_with(v, "unix:") || strcmp(v, "0") != 0))
      e = arm_listener(p);
  }
  for (size_t i = 0; e == CHIVE_OK && i < n_unix; i++) {
    const char *v = config_value(c->cfg, OPT_CONTROL_SOCKET, i);
    if (!strcmp(v, "0"))
      continue;
    e = open_unix(p, str_starts_with(v, "unix:") ? v + 5 : v);
    if (e == CHIVE_OK)
      e = arm_listener(p);
  }
  if (e == CHIVE_OK)
    e = write_port_file(ctl);
  if (e == CHIVE_OK &&
      (e = evloop_timer_new(c->loop, owner_tick, ctl, &ctl->owner_timer)) ==
          CHIVE_OK)
    e = evloop_timer_schedule_periodic(ctl->owner_timer,
                                       CONTROL_OWNER_POLL_MS);
  if (e != CHIVE_OK) {
    control_stop(c);
    return e;
  }
  return CHIVE_OK;
}

void
control_stop(chive_client_t *c)
{
  control_t *ctl = c ? c->control : NULL;
  if (!ctl)
    return;
  control_priv_t *p = (control_priv_t *)ctl;
  /* Replies already queued (the "250 OK" to SIGNAL SHUTDOWN) are
   * written if the sockets take them now. */
  control_flush_all(ctl);
  evloop_timer_free(ctl->owner_timer);
  for (size_t i = 0; i < ctl->n_listeners; i++) {
    control_listener_t *l = &ctl->listeners[i];
    if (l->ev)
      event_free(l->ev);
    net_close(l->fd);
    if (l->is_unix)
      (void)unlink(l->name);
  }
  ctl->n_listeners = 0;
  chive_list_t *pos, *tmp;
  CHIVE_LIST_FOREACH_SAFE(pos, tmp, &ctl->conns)
  {
    control_conn_t *cc = CHIVE_CONTAINER_OF(pos, control_conn_t, link);
    if (!reaper_entry_is_marked(&cc->reap)) {
      cc->event_mask = 0;
      reaper_mark(ctl->reaper, &cc->reap, cc, conn_free);
    }
  }
  control_events_shutdown(ctl);
  reaper_free(ctl->reaper); /* frees every marked connection */
  if (ctl->cookie_path[0] && fs_remove(ctl->cookie_path) != CHIVE_OK)
    log_info(c->log, LD_FS, "Could not remove %s", ctl->cookie_path);
  if (ctl->port_file[0] && fs_remove(ctl->port_file) != CHIVE_OK)
    log_info(c->log, LD_FS, "Could not remove %s", ctl->port_file);
  chive_memwipe(ctl->cookie, sizeof(ctl->cookie));
  if (ctl->pws)
    chive_free_wipe(ctl->pws);
  c->control = NULL;
  chive_free(p);
}

void
control_flush_all(control_t *ctl)
{
  chive_list_t *pos;
  CHIVE_LIST_FOREACH(pos, &ctl->conns)
  {
    control_conn_t *cc = CHIVE_CONTAINER_OF(pos, control_conn_t, link);
    while (control_outbuf_len(&cc->out) > 0) {
      size_t n = 0;
      if (net_write(cc->fd, control_outbuf_data(&cc->out),
                    control_outbuf_len(&cc->out), &n) != CHIVE_OK)
        break;
      control_outbuf_drain(&cc->out, n);
    }
  }
}

const char *
control_listener_name(const chive_client_t *c, size_t i, bool *is_unix)
{
  const control_t *ctl = c ? c->control : NULL;
  if (!ctl || i >= ctl->n_listeners)
    return NULL;
  if (is_unix)
    *is_unix = ctl->listeners[i].is_unix;
  return ctl->listeners[i].name;
}
