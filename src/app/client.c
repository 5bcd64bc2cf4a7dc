/**
 * @file client.c
 * @brief chive_client_t: configuration checks, logging, bootstrap status,
 * and the order in which subsystems start and stop.
 **/
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/circbuild.h"
#include "app/control.h"
#include "app/metricsglue.h"
#include "app/streams.h"
#include "app/dirglue.h"
#include "app/pool.h"
#include "lib/crypto/crypto_init.h"
#include "lib/malloc/malloc.h"

static void errf(char *err, size_t err_len, const char *fmt, ...)
    CHIVE_PRINTF(3, 4);
static void
errf(char *err, size_t err_len, const char *fmt, ...)
{
  if (!err || !err_len)
    return;
  va_list ap;
  va_start(ap, fmt);
  (void)vsnprintf(err, err_len, fmt, ap);
  va_end(ap);
}

/** Load the authorities: DirAuthority lines replace the built-in list. */
static chive_err_t
load_authorities(chive_client_t *c, char *err, size_t err_len)
{
  size_t n = config_n_values(c->cfg, OPT_DIR_AUTHORITY);
  if (n == 0) {
    c->n_authorities = dir_default_authorities(c->authorities,
                                               DIR_MAX_AUTHORITIES);
    return CHIVE_OK;
  }
  if (n > DIR_MAX_AUTHORITIES) {
    errf(err, err_len, "Too many DirAuthority lines%s%s", "", "");
    return CHIVE_ERR_LIMIT;
  }
  for (size_t i = 0; i < n; i++) {
    const char *line = config_value(c->cfg, OPT_DIR_AUTHORITY, i);
    const char *why = "";
    if (dir_server_parse_authority(line, &c->authorities[i], &why) !=
        CHIVE_OK) {
      errf(err, err_len, "Bad DirAuthority line '%s': %s", line, why);
      return CHIVE_ERR_INVAL;
    }
  }
  c->n_authorities = n;
  return CHIVE_OK;
}

/** Fallback directories: FallbackDir lines, else (with the built-in
 * authorities and UseDefaultFallbackDirs) the built-in list.  A private
 * network (DirAuthority lines) uses none by default, as tor does. */
static chive_err_t
load_fallbacks(chive_client_t *c, char *err, size_t err_len)
{
  size_t n = config_n_values(c->cfg, OPT_FALLBACK_DIR);
  bool builtin = n == 0 && !config_is_set(c->cfg, OPT_DIR_AUTHORITY) &&
                 config_get_bool(c->cfg, OPT_USE_DEFAULT_FALLBACK_DIRS);
  if (n == 0 && !builtin)
    return CHIVE_OK;
  if (n > DIR_MAX_FALLBACKS) {
    errf(err, err_len, "Too many FallbackDir lines");
    return CHIVE_ERR_LIMIT;
  }
  c->fallbacks = chive_calloc(builtin ? DIR_MAX_FALLBACKS : n,
                              sizeof(dir_server_t));
  if (!c->fallbacks)
    return CHIVE_ERR_NOMEM;
  if (builtin) {
    c->n_fallbacks = dir_default_fallbacks(c->fallbacks, DIR_MAX_FALLBACKS);
    return CHIVE_OK;
  }
  for (size_t i = 0; i < n; i++) {
    const char *line = config_value(c->cfg, OPT_FALLBACK_DIR, i);
    const char *why = "";
    if (dir_server_parse_fallback(line, &c->fallbacks[i], &why) !=
        CHIVE_OK) {
      errf(err, err_len, "Bad FallbackDir line '%s': %s", line, why);
      return CHIVE_ERR_INVAL;
    }
  }
  c->n_fallbacks = n;
  return CHIVE_OK;
}

/** Log sink: the embedder's callback (with its own threshold) and, for
 * the control port, CEV_LOG events. */
static void
client_log_tee(chive_log_severity_t sev, const char *domain, const char *msg,
               void *arg)
{
  chive_client_t *c = arg;
  if (c->user_log_cb && sev <= c->user_log_max)
    c->user_log_cb(sev, domain, msg, c->user_log_arg);
  if (cev_wanted(&c->events, CEV_LOG) && sev <= c->ctl_log_max) {
    cev_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = CEV_LOG;
    ev.severity = (int)sev;
    ev.text = msg;
    cev_emit(&c->events, &ev);
  }
}

void
client_log_update(chive_client_t *c)
{
  chive_log_severity_t max = c->user_log_max;
  if (cev_wanted(&c->events, CEV_LOG) && c->ctl_log_max > max)
    max = c->ctl_log_max;
  logger_set_severity(c->log, LD_ALL, max);
}

chive_err_t
chive_client_new(const chive_config_t *cfg, struct event_base *base,
                 chive_client_t **out, char *err, size_t err_len)
{
  chive_err_t e = CHIVE_ERR_NOMEM;
  chive_log_cb cb;
  void *arg;
  chive_log_severity_t max;
  if (!out)
    return CHIVE_ERR_INVAL;
  *out = NULL;
  if (!cfg || !base) {
    errf(err, err_len, "chive_client_new: %s%s", "missing config or base",
         "");
    return CHIVE_ERR_INVAL;
  }
  chive_client_t *c = chive_zalloc(sizeof(*c));
  if (!c)
    goto fail;
  c->base = base;
  chive_list_init(&c->exit_circs);
  chive_list_init(&c->dir_reqs);
  chive_list_init(&c->pooled);
  c->cfg = chive_config_dup(cfg);
  c->log = logger_new();
  if (!c->cfg || !c->log)
    goto fail;
  config_get_log_cb(cfg, &cb, &arg, &max);
  c->user_log_cb = cb;
  c->user_log_arg = arg;
  c->user_log_max = max;
  c->ctl_log_max = CHIVE_LOG_ERR;
  logger_set_sink(c->log, client_log_tee, c);
  client_log_update(c);
  if ((e = load_authorities(c, err, err_len)) != CHIVE_OK ||
      (e = load_fallbacks(c, err, err_len)) != CHIVE_OK)
    goto fail;
  if ((e = crypto_global_init()) != CHIVE_OK) {
    errf(err, err_len, "cannot initialise the crypto library");
    goto fail;
  }
  c->clock = clock_system();
  c->testing_network = config_get_bool(c->cfg, OPT_TESTING_TOR_NETWORK);
  const char *dd = config_get_str(c->cfg, OPT_DATA_DIRECTORY);
  if (dd) {
    if (strlen(dd) >= sizeof(c->data_dir) - 64) {
      errf(err, err_len, "DataDirectory path too long");
      e = CHIVE_ERR_INVAL;
      goto fail;
    }
    memcpy(c->data_dir, dd, strlen(dd) + 1);
    if ((e = fs_ensure_private_dir(c->data_dir)) != CHIVE_OK) {
      errf(err, err_len, "Cannot use DataDirectory %s: %s", c->data_dir,
           chive_err_str(e));
      goto fail;
    }
  }
  if ((e = evloop_new(base, &c->loop)) != CHIVE_OK)
    goto fail;
  circmgr_config_t cc;
  memset(&cc, 0, sizeof(cc));
  cc.loop = c->loop;
  cc.clock = c->clock;
  cc.log = c->log;
  circuit_params_default(&cc.params);
  if ((e = circmgr_new(&cc, &c->circmgr)) != CHIVE_OK ||
      (e = client_events_init(c)) != CHIVE_OK)
    goto fail;
  if (config_is_set(c->cfg, OPT_DIR_AUTHORITY) &&
      !config_get_bool(c->cfg, OPT_TESTING_TOR_NETWORK))
    log_warn(c->log, LD_CONFIG,
             "You have configured your own directory authorities; chive "
             "will not use the public Tor network's.");
  *out = c;
  return CHIVE_OK;
fail:
  if (e == CHIVE_ERR_NOMEM)
    errf(err, err_len, "out of memory%s%s", "", "");
  chive_client_free(c);
  return e;
}

const char *
chive_client_listener(const chive_client_t *c, const char *kind, size_t i,
                      char *buf, size_t len)
{
  const char *a = NULL;
  char tmp[NET_ADDRPORT_STR_LEN];
  if (!c || !kind || !buf || len == 0)
    return NULL;
  if (!strcmp(kind, "socks")) {
    a = streams_listener_addr(c, APP_STREAM_FROM_SOCKS, i);
  } else if (!strcmp(kind, "httptunnel")) {
    a = streams_listener_addr(c, APP_STREAM_FROM_HTTP_CONNECT, i);
  } else if (!strcmp(kind, "metrics")) {
    const net_addrport_t *ap = metricsglue_listener_addr(c, i);
    if (ap)
      a = net_addrport_format(ap, tmp, sizeof(tmp));
  } else if (!strcmp(kind, "control")) {
    bool is_unix = false;
    const char *n = control_listener_name(c, i, &is_unix);
    if (n) {
      int w = snprintf(buf, len, "%s%s", is_unix ? "unix:" : "", n);
      return w >= 0 && (size_t)w < len ? buf : NULL;
    }
  }
  if (!a || strlen(a) >= len)
    return NULL;
  memcpy(buf, a, strlen(a) + 1);
  return buf;
}

void
chive_client_set_signal_cb(chive_client_t *c, chive_signal_cb cb, void *arg)
{
  if (!c)
    return;
  c->signal_cb = cb;
  c->signal_arg = arg;
}

static void
signal_event_cb(evutil_socket_t fd, short what, void *arg)
{
  chive_client_t *c = arg;
  (void)fd;
  (void)what;
  char name[sizeof(c->pending_signal)];
  memcpy(name, c->pending_signal, sizeof(name));
  c->pending_signal[0] = '\0';
  if (c->signal_cb && name[0])
    c->signal_cb(c, name, c->signal_arg);
}

bool
client_deliver_signal(chive_client_t *c, const char *name)
{
  if (!c->signal_cb || !c->signal_event ||
      strlen(name) >= sizeof(c->pending_signal))
    return false;
  memcpy(c->pending_signal, name, strlen(name) + 1);
  event_active(c->signal_event, EV_TIMEOUT, 0);
  return true;
}

/** True iff option <b>o</b> differs between <b>a</b> and <b>b</b>. */
static bool
opt_changed(const chive_config_t *a, const chive_config_t *b, config_opt_t o)
{
  size_t n = config_n_values(a, o);
  if (n != config_n_values(b, o))
    return true;
  for (size_t k = 0; k < n; k++)
    if (strcmp(config_value(a, o, k), config_value(b, o, k)) != 0)
      return true;
  if (n == 0) {
    const char *x = config_get_str(a, o), *y = config_get_str(b, o);
    return !((!x && !y) || (x && y && !strcmp(x, y)));
  }
  return false;
}

/** Options that cannot change while the client runs. */
static const config_opt_t fixed_opts[] = {
    OPT_DATA_DIRECTORY,  OPT_DIR_AUTHORITY,       OPT_FALLBACK_DIR,
    OPT_TESTING_TOR_NETWORK, OPT_USE_DEFAULT_FALLBACK_DIRS,
};

chive_err_t
chive_client_reconfigure(chive_client_t *c, const chive_config_t *cfg,
                         char *err, size_t err_len)
{
  if (!c || !cfg)
    return CHIVE_ERR_INVAL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(fixed_opts); i++) {
    config_opt_t o = fixed_opts[i];
    if (opt_changed(c->cfg, cfg, o)) {
      errf(err, err_len, "While chive is running, changing %s is not "
           "allowed", config_option_name(o));
      return CHIVE_ERR_INVAL;
    }
  }
  chive_config_t *copy = chive_config_dup(cfg);
  if (!copy)
    return CHIVE_ERR_NOMEM;
  chive_config_t *old = c->cfg;
  c->cfg = copy;
  chive_log_cb cb;
  void *arg;
  chive_log_severity_t max;
  config_get_log_cb(copy, &cb, &arg, &max);
  c->user_log_cb = cb;
  c->user_log_arg = arg;
  c->user_log_max = max;
  client_log_update(c);
  chive_err_t e = CHIVE_OK;
  if (c->started && !c->stopped) {
    pool_reconfigure(c);
    if (opt_changed(old, copy, OPT_METRICS_PORT) ||
        opt_changed(old, copy, OPT_METRICS_PORT_POLICY)) {
      /* Re-open the metrics listeners (counters restart). */
      metricsglue_stop(c);
      if (metricsglue_start(c) != CHIVE_OK)
        log_warn(c->log, LD_CONFIG, "Cannot open the new MetricsPort.");
    }
    if (!c->network_started && !config_get_bool(copy, OPT_DISABLE_NETWORK)) {
      if (dirglue_start(c) == CHIVE_OK)
        c->network_started = true;
      else
        log_warn(c->log, LD_GENERAL, "Cannot start directory fetching.");
    }
    e = streams_reconfigure(c, copy);
    if (e != CHIVE_OK)
      errf(err, err_len, "Some listeners could not be opened: %s",
           chive_err_str(e));
  }
  chive_config_free(old);
  log_notice(c->log, LD_CONFIG, "Configuration reloaded.");
  return e;
}

void
chive_client_set_bootstrap_cb(chive_client_t *c, chive_bootstrap_cb cb,
                              void *arg)
{
  c->boot_cb = cb;
  c->boot_arg = arg;
}

/** Deferred delivery of the bootstrap callback (never from inside the
 * call that made progress). */
static void
boot_event_cb(evutil_socket_t fd, short what, void *arg)
{
  chive_client_t *c = arg;
  (void)fd;
  (void)what;
  if (c->boot_cb)
    c->boot_cb(c, (int)c->boot_phase, bootstrap_phase_tag(c->boot_phase),
               bootstrap_phase_summary(c->boot_phase), c->boot_arg);
}

void
client_bootstrap_reached(chive_client_t *c, bootstrap_phase_t p)
{
  if (c->started && p <= c->boot_phase && p != BOOT_STARTING)
    return;
  c->boot_phase = p;
  log_notice(c->log, LD_GENERAL, "Bootstrapped %d%% (%s): %s", (int)p,
             bootstrap_phase_tag(p), bootstrap_phase_summary(p));
  if (cev_wanted(&c->events, CEV_STATUS_CLIENT)) {
    /* control-spec §4.1.10 / §5.5.2: "BOOTSTRAP PROGRESS=num TAG=Keyword
     * SUMMARY=String" */
    char text[256];
    (void)snprintf(text, sizeof(text),
                   "BOOTSTRAP PROGRESS=%d TAG=%s SUMMARY=\"%s\"", (int)p,
                   bootstrap_phase_tag(p), bootstrap_phase_summary(p));
    cev_t ev;
    memset(&ev, 0, sizeof(ev));
    ev.type = CEV_STATUS_CLIENT;
    ev.severity = CHIVE_LOG_NOTICE;
    ev.text = text;
    cev_emit(&c->events, &ev);
  }
  if (c->boot_cb && c->boot_event)
    event_active(c->boot_event, EV_TIMEOUT, 0);
}

/** Say plainly which configured listeners this version does not open
 * yet, rather than accept them silently. */
static void
note_unimplemented(chive_client_t *c)
{
  static const struct {
    config_opt_t opt;
    const char *what;
  } pending[] = {
      {OPT_HIDDEN_SERVICE_DIR, "HiddenServiceDir"},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(pending); i++) {
    const char *v = config_get_str(c->cfg, pending[i].opt);
    if (v && strcmp(v, "0") != 0)
      log_notice(c->log, LD_CONFIG,
                 "%s is not implemented in this version of chive yet; "
                 "nothing is listening for it.",
                 pending[i].what);
  }
}

chive_err_t
chive_client_start(chive_client_t *c)
{
  if (!c || c->started)
    return CHIVE_ERR_INVAL;
  c->boot_event = event_new(c->base, -1, 0, boot_event_cb, c);
  c->signal_event = event_new(c->base, -1, 0, signal_event_cb, c);
  if (!c->boot_event || !c->signal_event)
    return CHIVE_ERR_NOMEM;
  client_bootstrap_reached(c, BOOT_STARTING);
  note_unimplemented(c);
  c->started = true;
  chive_err_t e = client_events_start(c);
  if (e == CHIVE_OK)
    e = metricsglue_start(c);
  if (e != CHIVE_OK) {
    log_warn(c->log, LD_GENERAL, "Cannot open the metrics port: %s",
             chive_err_str(e));
    return e;
  }
  if ((e = control_start(c)) != CHIVE_OK) {
    log_warn(c->log, LD_GENERAL, "Cannot open the control port: %s",
             chive_err_str(e));
    return e;
  }
  if ((e = streams_start(c)) != CHIVE_OK) {
    log_warn(c->log, LD_GENERAL, "Cannot open the proxy listeners: %s",
             chive_err_str(e));
    return e;
  }
  e = circbuild_start(c);
  if (e == CHIVE_OK)
    e = pool_start(c);
  if (e == CHIVE_OK && config_get_bool(c->cfg, OPT_DISABLE_NETWORK))
    log_notice(c->log, LD_GENERAL,
               "DisableNetwork is set: no connections to the Tor network "
               "until it is cleared.");
  else if (e == CHIVE_OK && (e = dirglue_start(c)) == CHIVE_OK)
    c->network_started = true;
  if (e != CHIVE_OK)
    log_warn(c->log, LD_GENERAL, "Cannot start directory fetching: %s",
             chive_err_str(e));
  return e;
}

int
chive_client_bootstrap_percent(const chive_client_t *c)
{
  return c ? (int)c->boot_phase : 0;
}

void
chive_client_stop(chive_client_t *c)
{
  if (!c || c->stopped)
    return;
  c->stopped = true;
  if (c->started) {
    streams_stop(c);
    control_stop(c);
    pool_stop(c);
    circbuild_stop(c);
    dirglue_stop(c);
    metricsglue_stop(c);
    client_events_stop(c);
  }
  if (c->boot_event) {
    event_free(c->boot_event);
    c->boot_event = NULL;
  }
  if (c->signal_event) {
    event_free(c->signal_event);
    c->signal_event = NULL;
  }
}

void
chive_client_free(chive_client_t *c)
{
  if (!c)
    return;
  chive_client_stop(c);
  circmgr_free(c->circmgr);
  evloop_free(c->loop);
  chive_free(c->fallbacks);
  logger_free(c->log);
  chive_config_free(c->cfg);
  chive_free(c);
}
