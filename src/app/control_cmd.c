/**
 * @file control_cmd.c
 * @brief The control port's command table and the handlers for the
 * connection-level commands (control-spec §3): PROTOCOLINFO,
 * AUTHCHALLENGE, AUTHENTICATE, QUIT, GETINFO, GETCONF, SETCONF,
 * RESETCONF, SETEVENTS, SIGNAL, TAKEOWNERSHIP, DROPOWNERSHIP,
 * USEFEATURE.  Circuit and stream commands are in control_circ.c.
 *
 * Reply texts and codes follow tor's so that controllers that match on
 * them keep working.
 **/
#include "lib/cc/compat.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/control_int.h"
#include "chive/version.h"
#include "lib/encoding/base16.h"
#include "lib/malloc/malloc.h"
#include "lib/text/str.h"

/* ---- helpers ---------------------------------------------------------- */

/** Send a reply composed in <b>o</b>, then clear it. */
static void
send_and_clear(control_conn_t *cc, control_outbuf_t *o)
{
  control_conn_send(cc, o);
  control_outbuf_clear(o);
}

void
control_version_string(char *buf, size_t len)
{
  (void)snprintf(buf, len, "%s-chive (chive-%s)", CONTROL_TOR_COMPAT_VERSION,
                 CHIVE_VERSION_STRING);
}

/* ---- authentication (control-spec §3.5, §3.21, §3.24) ---------------- */

static const control_cmd_syntax_t protocolinfo_syntax = {
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_protocolinfo(control_conn_t *cc, const control_args_t *args)
{
  control_t *ctl = cc->ctl;
  /* §3.21: PIVERSION must be 1 if given. */
  for (size_t i = 0; i < args->n_args; i++) {
    if (strcmp(args->args[i], "1") != 0) {
      control_conn_reply(cc, 513, "No such version %s", args->args[i]);
      return;
    }
  }
  unsigned methods = 0;
  if (ctl->cookie_auth)
    methods |= CONTROL_AUTH_METHOD_COOKIE;
  if (ctl->n_pws)
    methods |= CONTROL_AUTH_METHOD_PASSWORD;
  char ver[128];
  control_version_string(ver, sizeof(ver));
  control_outbuf_t o;
  control_outbuf_init(&o, 0);
  if (control_auth_reply_protocolinfo(&o, methods,
                                      ctl->cookie_auth ? ctl->cookie_path
                                                       : NULL,
                                      ver) != CHIVE_OK) {
    control_outbuf_clear(&o);
    control_conn_reply(cc, 551, "Internal error");
    return;
  }
  if (!cc->authenticated)
    cc->sent_protocolinfo = true;
  send_and_clear(cc, &o);
}

static const control_cmd_syntax_t authchallenge_syntax = {
    .min_args = 1,
    .max_args = 1,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_KEYS | CONTROL_KV_QSTRING,
    .wipe = true,
};

static void
handle_authchallenge(control_conn_t *cc, const control_args_t *args)
{
  control_t *ctl = cc->ctl;
  uint8_t nonce[CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN];
  size_t nonce_len = 0;
  if (!str_eq_ci(args->args[0], "SAFECOOKIE")) {
    control_conn_reply(cc, 513,
                       "AUTHCHALLENGE only supports SAFECOOKIE "
                       "authentication");
    goto fail;
  }
  if (!ctl->cookie_auth) {
    control_conn_reply(cc, 515, "Cookie authentication is disabled");
    goto fail;
  }
  if (args->n_kv != 1) {
    control_conn_reply(cc, 512, "Wrong number of arguments for AUTHCHALLENGE");
    goto fail;
  }
  if (args->kv[0].key[0]) {
    control_conn_reply(cc, 512,
                       "AUTHCHALLENGE does not accept keyword arguments.");
    goto fail;
  }
  if (control_auth_token_decode(args->kv[0].value, args->kv[0].value_len,
                                args->kv[0].quoted, nonce, sizeof(nonce),
                                &nonce_len) != CHIVE_OK ||
      nonce_len == 0) {
    control_conn_reply(cc, 513, "Invalid base16 client nonce");
    goto fail;
  }
  uint8_t snonce[CONTROL_SAFECOOKIE_NONCE_LEN];
  uint8_t shash[CONTROL_SAFECOOKIE_HASH_LEN];
  if (control_safecookie_challenge(&cc->safecookie, ctl->cookie, nonce,
                                   nonce_len, snonce, shash) != CHIVE_OK) {
    control_conn_reply(cc, 551, "Internal error");
    goto fail;
  }
  control_outbuf_t o;
  control_outbuf_init(&o, 0);
  if (control_safecookie_reply(&o, shash, snonce) == CHIVE_OK)
    control_conn_send(cc, &o);
  control_outbuf_clear(&o);
  chive_memwipe(nonce, sizeof(nonce));
  return;
fail:
  chive_memwipe(nonce, sizeof(nonce));
  control_conn_close(cc, true);
}

static const control_cmd_syntax_t authenticate_syntax = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_KEYS | CONTROL_KV_QSTRING,
    .wipe = true,
};

/** Check <b>pw</b> against every configured method; return NULL on
 * success or tor's error text. */
static const char *
check_auth(control_conn_t *cc, const uint8_t *pw, size_t len, bool quoted)
{
  control_t *ctl = cc->ctl;
  if (cc->safecookie.pending) {
    /* §3.24: after AUTHCHALLENGE only the client hash is acceptable. */
    if (len != CONTROL_SAFECOOKIE_HASH_LEN) {
      (void)control_safecookie_verify(&cc->safecookie, pw, len);
      return "Wrong length for safe cookie response.";
    }
    if (!control_safecookie_verify(&cc->safecookie, pw, len))
      return "Safe cookie response did not match expected value.";
    return NULL;
  }
  if (ctl->null_auth)
    return NULL;
  bool bad_cookie = false;
  const char *err = "Unknown error";
  if (ctl->cookie_auth) {
    if (control_auth_cookie_matches(ctl->cookie, pw, len))
      return NULL;
    bad_cookie = true;
    err = len != CONTROL_AUTH_COOKIE_LEN
              ? "Wrong length on authentication cookie."
              : "Authentication cookie did not match expected value.";
  }
  if (ctl->n_pws) {
    bool ok = false;
    /* Check every hash (no early exit on the secret's value). */
    for (size_t i = 0; i < ctl->n_pws; i++)
      if (control_hashed_pw_verify(&ctl->pws[i], pw, len) == CHIVE_OK)
        ok = true;
    if (ok)
      return NULL;
    if (bad_cookie)
      return "Password did not match HashedControlPassword *or* "
             "authentication cookie.";
    return quoted ? "Password did not match HashedControlPassword value "
                    "from configuration"
                  : "Password did not match HashedControlPassword value "
                    "from configuration. Maybe you tried a plain text "
                    "password? If so, the standard requires that you put "
                    "it in double quotes.";
  }
  return err;
}

static void
handle_authenticate(control_conn_t *cc, const control_args_t *args)
{
  control_t *ctl = cc->ctl;
  chive_client_t *c = ctl->c;
  uint8_t *pw = NULL;
  size_t len = 0;
  bool quoted = false;
  if (args->n_kv > 1) {
    control_conn_reply(cc, 512, "Too many arguments to AUTHENTICATE.");
    control_conn_close(cc, true);
    return;
  }
  if (args->n_kv == 1 && args->kv[0].key[0]) {
    control_conn_reply(cc, 512,
                       "AUTHENTICATE does not accept keyword arguments.");
    control_conn_close(cc, true);
    return;
  }
  uint64_t now = control_now_ms(ctl);
  if (!control_auth_limiter_allow(&ctl->limiter, now)) {
    log_warn(c->log, LD_CONTROL,
             "Too many failed control port authentications; refusing one "
             "without checking it.");
    control_conn_reply(cc, 515,
                       "Authentication failed: Too many failed attempts; "
                       "try again later.");
    control_conn_close(cc, true);
    return;
  }
  if (args->n_kv == 1) {
    const control_kv_t *kv = &args->kv[0];
    quoted = kv->quoted;
    pw = chive_malloc(kv->value_len + 1);
    if (!pw) {
      control_conn_reply(cc, 551, "Internal error");
      control_conn_close(cc, true);
      return;
    }
    if (control_auth_token_decode(kv->value, kv->value_len, kv->quoted, pw,
                                  kv->value_len + 1, &len) != CHIVE_OK) {
      chive_free_wipe(pw);
      control_conn_reply(cc, 551,
                         "Invalid hexadecimal encoding.  Maybe you tried a "
                         "plain text password?  If so, the standard "
                         "requires that you put it in double quotes.");
      control_auth_limiter_note_failure(&ctl->limiter, now);
      control_conn_close(cc, true);
      return;
    }
  }
  const char *err = check_auth(cc, pw ? pw : (const uint8_t *)"", len,
                               quoted);
  if (pw)
    chive_free_wipe(pw);
  if (err) {
    control_auth_limiter_note_failure(&ctl->limiter, now);
    log_warn(c->log, LD_CONTROL,
             "Control connection %llu: authentication failed (%s).",
             (unsigned long long)cc->id, err);
    control_conn_reply(cc, 515, "Authentication failed: %s", err);
    control_conn_close(cc, true);
    return;
  }
  cc->authenticated = true;
  log_info(c->log, LD_CONTROL, "Authenticated control connection %llu.",
           (unsigned long long)cc->id);
  control_conn_reply(cc, 250, "OK");
}

/* ---- configuration (control-spec §3.1-§3.3, §3.6) --------------------- */

/** Options a controller may not change while chive runs (they were used
 * when the client was created and are not re-read). */
static bool
option_is_fixed(const char *canon)
{
  static const char *const fixed[] = {
      "DataDirectory",   "DirAuthority",      "FallbackDir",
      "UseDefaultFallbackDirs", "TestingTorNetwork",
      "ControlPort",       "ControlSocket",
      "CookieAuthentication", "HashedControlPassword",
      "HiddenServiceDir", "HiddenServicePort",
      "PidFile", "CookieAuthFile", "CookieAuthFileGroupReadable",
      "ControlPortWriteToFile", "__ConfigFile",
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(fixed); i++)
    if (!strcmp(canon, fixed[i]))
      return true;
  return false;
}

/** The control-only pseudo-option (control-spec §3.1, tor's hidden
 * option): new streams wait for ATTACHSTREAM. */
#define LEAVE_UNATTACHED_NAME "__LeaveStreamsUnattached"

const char *
control_option_canonical(const char *name)
{
  if (str_eq_ci(name, LEAVE_UNATTACHED_NAME))
    return LEAVE_UNATTACHED_NAME;
  for (size_t i = 0; i < chive_config_n_options(); i++) {
    const char *n = chive_config_option_name(i);
    if (n && str_eq_ci(n, name))
      return n;
  }
  return NULL;
}

static const control_cmd_syntax_t getconf_syntax = {
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_getconf(control_conn_t *cc, const control_args_t *args)
{
  chive_client_t *c = cc->ctl->c;
  control_outbuf_t ans, bad;
  control_outbuf_init(&ans, CONTROL_CONN_OUT_MAX);
  control_outbuf_init(&bad, CONTROL_CONN_OUT_MAX);
  size_t n_bad = 0;
  for (size_t i = 0; i < args->n_args; i++)
    if (!control_option_canonical(args->args[i]))
      n_bad++;
  chive_err_t e = CHIVE_OK;
  size_t k = 0;
  for (size_t i = 0; i < args->n_args && e == CHIVE_OK; i++) {
    const char *q = args->args[i];
    const char *canon = control_option_canonical(q);
    if (!canon) {
      k++;
      e = control_reply_printf(&bad, 552, k == n_bad ? ' ' : '-',
                               "Unrecognized configuration key \"%s\"", q);
      continue;
    }
    if (n_bad)
      continue;
    bool last_q = i + 1 == args->n_args;
    if (!strcmp(canon, LEAVE_UNATTACHED_NAME)) {
      const char *v = cc->ctl->leave_streams_unattached ? "1" : "0";
      e = control_reply_kv_raw(&ans, 250, canon, v, 1, last_q);
      continue;
    }
    if (!strcmp(canon, "CookieAuthentication")) {
      /* chive turns cookie authentication on when nothing else is
       * configured (tor would leave the port open): report what is in
       * force, so controllers (nyx) describe the port correctly. */
      const char *v = cc->ctl->cookie_auth ? "1" : "0";
      e = control_reply_kv_raw(&ans, 250, canon, v, 1, last_q);
      continue;
    }
    const char *v0 = chive_config_get(c->cfg, canon, 0);
    if (!v0) {
      e = control_reply_line(&ans, 250, last_q ? ' ' : '-', canon,
                             strlen(canon));
      continue;
    }
    for (size_t j = 0; e == CHIVE_OK; j++) {
      char num[32];
      const char *v = config_value_canonical(c->cfg, canon, j, num,
                                             sizeof(num));
      if (!v)
        break;
      bool last = last_q && !chive_config_get(c->cfg, canon, j + 1);
      e = control_reply_kv_raw(&ans, 250, canon, v, strlen(v), last);
    }
  }
  if (e != CHIVE_OK) {
    control_conn_reply(cc, 551, "Internal error");
  } else if (n_bad) {
    control_conn_send(cc, &bad);
  } else if (control_outbuf_len(&ans)) {
    control_conn_send(cc, &ans);
  } else {
    control_conn_reply(cc, 250, "OK");
  }
  control_outbuf_clear(&ans);
  control_outbuf_clear(&bad);
}

static const control_cmd_syntax_t setconf_syntax = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS | CONTROL_KV_QUOTED,
};

/** SETCONF / RESETCONF (§3.1, §3.2): all or nothing on a trial copy of
 * the configuration, then swapped in. */
static void
setconf_common(control_conn_t *cc, const control_args_t *args, bool reset)
{
  control_t *ctl = cc->ctl;
  chive_client_t *c = ctl->c;
  char err[512];
  chive_config_t *trial = chive_config_dup(c->cfg);
  if (!trial) {
    control_conn_reply(cc, 551, "Internal error");
    return;
  }
  int leave = -1;
  /* First pass: clear every named option once (tor's CAL_CLEAR_FIRST). */
  for (size_t i = 0; i < args->n_kv; i++) {
    const char *canon = control_option_canonical(args->kv[i].key);
    if (!canon) {
      control_conn_reply(cc, 552,
                         "Unrecognized option: Unknown option '%s'.  "
                         "Failing.",
                         args->kv[i].key);
      goto out;
    }
    if (!strcmp(canon, LEAVE_UNATTACHED_NAME))
      continue;
    if (option_is_fixed(canon)) {
      const char *cur = chive_config_get(c->cfg, canon, 0);
      const char *nv = args->kv[i].value;
      bool same = (!cur && !nv[0]) || (cur && !strcmp(cur, nv) &&
                                       !chive_config_get(c->cfg, canon, 1));
      if (!same) {
        control_conn_reply(cc, 553,
                           "Transition not allowed: While chive is running, "
                           "changing %s is not allowed.",
                           canon);
        goto out;
      }
      continue;
    }
    if (chive_config_reset(trial, canon) != CHIVE_OK) {
      control_conn_reply(cc, 551, "Internal error");
      goto out;
    }
  }
  for (size_t i = 0; i < args->n_kv; i++) {
    const control_kv_t *kv = &args->kv[i];
    const char *canon = control_option_canonical(kv->key);
    if (!strcmp(canon, LEAVE_UNATTACHED_NAME)) {
      if (!kv->value[0] && reset)
        leave = 0;
      else if (!strcmp(kv->value, "0") || !strcmp(kv->value, "1"))
        leave = kv->value[0] == '1';
      else if (!kv->value[0])
        leave = 0;
      else {
        control_conn_reply(cc, 513,
                           "Unacceptable option value: Could not parse "
                           "%s '%s'",
                           canon, kv->value);
        goto out;
      }
      continue;
    }
    if (option_is_fixed(canon))
      continue;
    if (!kv->value[0])
      continue; /* "Key" alone or "Key=": back to the default */
    chive_err_t e = chive_config_set(trial, canon, kv->value, err,
                                     sizeof(err));
    if (e != CHIVE_OK) {
      control_conn_reply(cc, 513, "Unacceptable option value: %s", err);
      goto out;
    }
  }
  /* Apply: modules read most options on demand (config_get_*); the
   * reconfiguration opens/closes SocksPort, HTTPTunnelPort and MetricsPort
   * listeners and applies logging, the pool policy and DisableNetwork. */
  chive_err_t re = chive_client_reconfigure(c, trial, err, sizeof(err));
  if (re == CHIVE_ERR_INVAL) {
    control_conn_reply(cc, 553, "Transition not allowed: %s", err);
    goto out;
  }
  if (re != CHIVE_OK) {
    control_conn_reply(cc, 553, "Unable to set option: %s", err);
    goto out;
  }
  if (leave >= 0)
    control_set_leave_unattached(ctl, leave == 1);
  log_info(c->log, LD_CONTROL, "Control connection %llu changed the "
           "configuration.", (unsigned long long)cc->id);
  control_conn_reply(cc, 250, "OK");
out:
  chive_config_free(trial);
}

static void
handle_setconf(control_conn_t *cc, const control_args_t *args)
{
  setconf_common(cc, args, false);
}

static void
handle_resetconf(control_conn_t *cc, const control_args_t *args)
{
  setconf_common(cc, args, true);
}

static const control_cmd_syntax_t saveconf_syntax = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS,
};

static void
handle_saveconf(control_conn_t *cc, const control_args_t *args)
{
  (void)args;
  if (control_save_config(cc->ctl) != CHIVE_OK) {
    control_conn_reply(cc, 551, "Unable to write configuration to disk.");
    return;
  }
  control_conn_reply(cc, 250, "OK");
}

/* ---- events (§3.4) ----------------------------------------------------- */

static const control_cmd_syntax_t setevents_syntax = {
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_setevents(control_conn_t *cc, const control_args_t *args)
{
  uint64_t mask = 0;
  for (size_t i = 0; i < args->n_args; i++) {
    const char *ev = args->args[i];
    if (str_eq_ci(ev, "EXTENDED") || str_eq_ci(ev, "AUTHDIR_NEWDESCS"))
      continue; /* accepted and ignored, as tor does */
    int code = control_event_parse(ev);
    if (code < 0) {
      control_conn_reply(cc, 552, "Unrecognized event \"%s\"", ev);
      return;
    }
    mask |= (uint64_t)1 << code;
  }
  cc->event_mask = mask;
  control_events_update(cc->ctl);
  control_conn_reply(cc, 250, "OK");
}

/* ---- SIGNAL (§3.7) ---------------------------------------------------- */

static const control_cmd_syntax_t signal_syntax = {
    .min_args = 1,
    .max_args = 1,
};

static void
handle_signal(control_conn_t *cc, const control_args_t *args)
{
  const char *s = args->args[0];
  static const char *const names[] = {
      "RELOAD", "HUP",    "SHUTDOWN",  "INT",    "DUMP",
      "USR1",   "DEBUG",  "USR2",      "HALT",   "TERM",
      "NEWNYM", "CLEARDNSCACHE", "HEARTBEAT", "DORMANT", "ACTIVE",
  };
  const char *canon = NULL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(names); i++)
    if (str_eq_ci(s, names[i]))
      canon = names[i];
  if (!canon) {
    control_conn_reply(cc, 552, "Unrecognized signal code \"%s\"", s);
    return;
  }
  if (control_signal_needs_embedder(canon) && !cc->ctl->c->signal_cb) {
    /* A library embedder that installed no signal handler. */
    control_conn_reply(cc, 551, "Signal %s is not handled here", canon);
    return;
  }
  control_conn_reply(cc, 250, "OK");
  control_signal_run(cc->ctl, canon);
}

/* ---- ownership, features, QUIT (§3.23, §3.9, §3.15) ------------------- */

static const control_cmd_syntax_t anyargs_syntax = {
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_takeownership(control_conn_t *cc, const control_args_t *args)
{
  (void)args;
  cc->owning = true;
  log_info(cc->ctl->c->log, LD_CONTROL,
           "Control connection %llu has taken ownership of this chive "
           "instance.",
           (unsigned long long)cc->id);
  control_conn_reply(cc, 250, "OK");
}

static void
handle_dropownership(control_conn_t *cc, const control_args_t *args)
{
  (void)args;
  cc->owning = false;
  control_conn_reply(cc, 250, "OK");
}

static void
handle_usefeature(control_conn_t *cc, const control_args_t *args)
{
  for (size_t i = 0; i < args->n_args; i++) {
    const char *f = args->args[i];
    if (!str_eq_ci(f, "VERBOSE_NAMES") && !str_eq_ci(f, "EXTENDED_EVENTS")) {
      control_conn_reply(cc, 552, "Unrecognized feature \"%s\"", f);
      return;
    }
  }
  control_conn_reply(cc, 250, "OK");
}

/* ---- GETINFO (§3.9) --------------------------------------------------- */

static const control_cmd_syntax_t getinfo_syntax = {
    .max_args = CONTROL_ARGS_UNLIMITED,
};

static void
handle_getinfo(control_conn_t *cc, const control_args_t *args)
{
  control_outbuf_t ans, bad;
  control_outbuf_init(&ans, CONTROL_CONN_OUT_MAX);
  control_outbuf_init(&bad, CONTROL_CONN_OUT_MAX);
  /* Two passes so that the last unrecognized line ends the reply. */
  const char **errs = chive_calloc(args->n_args + 1, sizeof(char *));
  char **vals = chive_calloc(args->n_args + 1, sizeof(char *));
  size_t n_bad = 0;
  chive_err_t e = (errs && vals) ? CHIVE_OK : CHIVE_ERR_NOMEM;
  bool internal = false;
  for (size_t i = 0; e == CHIVE_OK && i < args->n_args; i++) {
    const char *msg = NULL;
    chive_err_t r = control_getinfo_one(cc, args->args[i], &vals[i], &msg);
    if (r == CHIVE_ERR_NOTFOUND) {
      errs[i] = msg ? msg : "";
      n_bad++;
    } else if (r != CHIVE_OK) {
      internal = true;
      control_conn_reply(cc, 551, "%s", msg ? msg : "Internal error");
      break;
    }
  }
  if (e == CHIVE_OK && !internal) {
    if (n_bad) {
      size_t k = 0;
      for (size_t i = 0; e == CHIVE_OK && i < args->n_args; i++) {
        if (!errs[i])
          continue;
        char sep = ++k == n_bad ? ' ' : '-';
        if (errs[i][0])
          e = control_reply_str(&bad, 552, sep, errs[i]);
        else
          e = control_reply_printf(&bad, 552, sep,
                                   "Unrecognized key \"%s\"", args->args[i]);
      }
      if (e == CHIVE_OK)
        control_conn_send(cc, &bad);
    } else {
      for (size_t i = 0; e == CHIVE_OK && i < args->n_args; i++)
        e = control_reply_kv_raw(&ans, 250, args->args[i], vals[i],
                                 strlen(vals[i]), false);
      if (e == CHIVE_OK)
        e = control_reply_ok(&ans);
      if (e == CHIVE_OK)
        control_conn_send(cc, &ans);
    }
    if (e == CHIVE_ERR_LIMIT)
      control_conn_reply(cc, 551, "Answer too long");
    else if (e != CHIVE_OK)
      control_conn_reply(cc, 551, "Internal error");
  }
  if (vals)
    for (size_t i = 0; i < args->n_args; i++)
      chive_free(vals[i]);
  chive_free(vals);
  chive_free(errs);
  control_outbuf_clear(&ans);
  control_outbuf_clear(&bad);
}

/* ---- the table -------------------------------------------------------- */

/** Commands a connection may send before it has authenticated. */
#define CMD_F_PREAUTH 1u

typedef struct cmd_def_t {
  const char *name;
  void (*fn)(control_conn_t *cc, const control_args_t *args);
  const control_cmd_syntax_t *syntax;
  unsigned flags;
} cmd_def_t;

static const cmd_def_t commands[] = {
    {"PROTOCOLINFO", handle_protocolinfo, &protocolinfo_syntax,
     CMD_F_PREAUTH},
    {"AUTHCHALLENGE", handle_authchallenge, &authchallenge_syntax,
     CMD_F_PREAUTH},
    {"AUTHENTICATE", handle_authenticate, &authenticate_syntax,
     CMD_F_PREAUTH},
    {"GETINFO", handle_getinfo, &getinfo_syntax, 0},
    {"GETCONF", handle_getconf, &getconf_syntax, 0},
    {"SETCONF", handle_setconf, &setconf_syntax, 0},
    {"RESETCONF", handle_resetconf, &setconf_syntax, 0},
    {"SAVECONF", handle_saveconf, &saveconf_syntax, 0},
    {"SETEVENTS", handle_setevents, &setevents_syntax, 0},
    {"SIGNAL", handle_signal, &signal_syntax, 0},
    {"TAKEOWNERSHIP", handle_takeownership, &anyargs_syntax, 0},
    {"DROPOWNERSHIP", handle_dropownership, &anyargs_syntax, 0},
    {"USEFEATURE", handle_usefeature, &anyargs_syntax, 0},
};

void
control_cmd_dispatch(control_conn_t *cc, const control_cmd_t *cmd)
{
  if (cc->marked)
    return;
  const char *kw = cmd->keyword;
  /* §3.15: QUIT is always valid. */
  if (!strcmp(kw, "QUIT")) {
    control_conn_reply(cc, 250, "closing connection");
    control_conn_close(cc, true);
    return;
  }
  if (!kw[0])
    return; /* an empty line: tor ignores it too */
  const cmd_def_t *def = NULL;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(commands) && !def; i++)
    if (!strcmp(kw, commands[i].name))
      def = &commands[i];
  const control_cmd_ext_t *ext = def ? NULL : control_cmd_find_ext(kw);
  if (!cc->authenticated) {
    bool ok = def && (def->flags & CMD_F_PREAUTH);
    /* tor: PROTOCOLINFO only once before authenticating, and nothing
     * but AUTHENTICATE after AUTHCHALLENGE. */
    if (ok && def->fn == handle_protocolinfo &&
        (cc->sent_protocolinfo || cc->safecookie.pending))
      ok = false;
    if (ok && def->fn == handle_authchallenge && cc->safecookie.pending)
      ok = false;
    if (!ok) {
      control_conn_reply(cc, 514, "Authentication required.");
      control_conn_close(cc, true);
      return;
    }
  }
  const control_cmd_syntax_t *syn = def ? def->syntax
                                        : ext ? ext->syntax : NULL;
  if (!syn) {
    control_conn_reply(cc, 510, "Unrecognized command \"%s\"",
                       cmd->keyword_raw);
    return;
  }
  control_args_t args;
  char errmsg[CONTROL_ERRMSG_LEN];
  errmsg[0] = 0;
  chive_err_t e = control_args_parse(cmd, syn, &args, errmsg, sizeof(errmsg));
  if (e != CHIVE_OK) {
    control_conn_reply(cc, 512, "Bad arguments to %s: %s", cmd->keyword_raw,
                       errmsg);
    return;
  }
  if (def)
    def->fn(cc, &args);
  else
    ext->fn(cc, &args);
  control_args_clear(&args);
}
