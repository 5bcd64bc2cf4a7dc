/**
 * @file main.c
 * @brief chive: a Tor client daemon built on libchive's public API.
 *
 *   chive [-f FILE] [--Option value ...] [--verify-config] [--version]
 *
 * Options are tor's names (SocksPort, DataDirectory, DirAuthority, Log,
 * ...).  The config file is read first, then command-line options, which
 * replace what the file says for that option, as tor's do (several
 * "--Option" of one name on the command line accumulate; "++Option"
 * appends to the file's values and "--/Option" clears them).
 **/
#define _XOPEN_SOURCE 700

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <limits.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "chive/chive.h"

/** Longest config file read. */
#define TORRC_MAX_LEN (1u << 20)
/** Most log destinations. */
#define MAX_LOG_SINKS 8
/** Most distinct options on the command line. */
#define MAX_CMDLINE_OPTIONS 128

typedef struct log_sink_t {
  FILE *f;
  int owns;                 /**< fclose on exit */
  chive_log_severity_t min; /**< most severe delivered (ERR=0) */
  chive_log_severity_t max; /**< least severe delivered */
} log_sink_t;

typedef struct daemon_t {
  const char *torrc_path;
  int argc;
  char **argv;
  chive_config_t *cfg;
  chive_client_t *client;
  struct event_base *base;
  log_sink_t sinks[MAX_LOG_SINKS];
  int n_sinks;
  char pidfile[4096]; /**< written at start, removed at exit ("" none) */
} daemon_t;

static void
usage(FILE *f)
{
  fprintf(f,
          "Usage: chive [-f FILE] [--Option value ...] [--verify-config]\n"
          "             [--version] [--help] [--list-options]\n"
          "Options use tor's names, e.g. --SocksPort 9150 --DataDirectory "
          "DIR.\n");
}

/** Write one log line in tor's format: "Mon DD HH:MM:SS.mmm [sev] msg". */
static void
log_line(FILE *f, chive_log_severity_t sev, const char *msg)
{
  struct timeval tv;
  struct tm tm;
  char ts[32];
  gettimeofday(&tv, NULL);
  time_t t = tv.tv_sec;
  localtime_r(&t, &tm);
  strftime(ts, sizeof(ts), "%b %d %H:%M:%S", &tm);
  fprintf(f, "%s.%03d [%s] %s\n", ts, (int)(tv.tv_usec / 1000),
          chive_log_severity_name(sev), msg);
  fflush(f);
}

static void
on_log(chive_log_severity_t sev, const char *domain, const char *msg,
       void *arg)
{
  daemon_t *d = arg;
  (void)domain;
  for (int i = 0; i < d->n_sinks; i++)
    if (sev >= d->sinks[i].min && sev <= d->sinks[i].max)
      log_line(d->sinks[i].f, sev, msg);
}

static int
parse_sev(const char *s, size_t len, chive_log_severity_t *out)
{
  static const char *const names[] = {"err", "warn", "notice", "info",
                                      "debug"};
  for (int i = 0; i < 5; i++)
    if (strlen(names[i]) == len && !strncmp(s, names[i], len)) {
      *out = (chive_log_severity_t)i;
      return 0;
    }
  return -1;
}

/** Parse a Log option: "SEV[-SEV] stdout|stderr|file PATH".  Domain
 * selectors ("[dir]info") are accepted by tor; we report them unsupported
 * rather than silently ignore them. */
static int
add_log_sink(daemon_t *d, const char *spec)
{
  char sev[32], where[16], path[1024] = "";
  int n = 0;
  const char *p = spec;
  size_t len = strcspn(p, " \t");
  if (len == 0 || len >= sizeof(sev) || d->n_sinks >= MAX_LOG_SINKS)
    return -1;
  memcpy(sev, p, len);
  sev[len] = 0;
  p += len;
  p += strspn(p, " \t");
  len = strcspn(p, " \t");
  if (len == 0 || len >= sizeof(where))
    return -1;
  memcpy(where, p, len);
  where[len] = 0;
  p += len;
  p += strspn(p, " \t");
  if (strlen(p) >= sizeof(path))
    return -1;
  memcpy(path, p, strlen(p) + 1);
  (void)n;

  log_sink_t s = {NULL, 0, CHIVE_LOG_ERR, CHIVE_LOG_NOTICE};
  const char *dash = strchr(sev, '-');
  if (sev[0] == '[')
    return -1;
  if (dash) {
    chive_log_severity_t a, b;
    if (parse_sev(sev, (size_t)(dash - sev), &a) ||
        parse_sev(dash + 1, strlen(dash + 1), &b))
      return -1;
    /* tor: "notice-err" = from notice up to err. */
    s.max = a;
    s.min = b;
  } else if (parse_sev(sev, strlen(sev), &s.max)) {
    return -1;
  }
  if (!strcmp(where, "stdout") && !path[0]) {
    s.f = stdout;
  } else if (!strcmp(where, "stderr") && !path[0]) {
    s.f = stderr;
  } else if (!strcmp(where, "file") && path[0]) {
    s.f = fopen(path, "a");
    if (!s.f) {
      fprintf(stderr, "chive: cannot open log file %s: %s\n", path,
              strerror(errno));
      return -2;
    }
    s.owns = 1;
  } else {
    return -1;
  }
  d->sinks[d->n_sinks++] = s;
  return 0;
}

static void
close_sinks(daemon_t *d)
{
  for (int i = 0; i < d->n_sinks; i++)
    if (d->sinks[i].owns)
      fclose(d->sinks[i].f);
  d->n_sinks = 0;
}

static char *
read_file(const char *path, size_t *len_out)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  char *buf = malloc(TORRC_MAX_LEN + 1); /* check_banned: allow */
  if (!buf) {
    fclose(f);
    return NULL;
  }
  size_t n = fread(buf, 1, TORRC_MAX_LEN + 1, f);
  fclose(f);
  if (n > TORRC_MAX_LEN) {
    free(buf); /* check_banned: allow */
    errno = EFBIG;
    return NULL;
  }
  buf[n] = 0;
  *len_out = n;
  return buf;
}

/** Build a config from the torrc and the command line.  Returns NULL
 * (after printing why) on error. */
static chive_config_t *
load_config(daemon_t *d)
{
  char err[512];
  chive_config_t *cfg = chive_config_new();
  if (!cfg) {
    fprintf(stderr, "chive: out of memory\n");
    return NULL;
  }
  if (d->torrc_path) {
    size_t len;
    char *text = read_file(d->torrc_path, &len);
    if (!text) {
      fprintf(stderr, "chive: cannot read %s: %s\n", d->torrc_path,
              strerror(errno));
      goto fail;
    }
    chive_err_t e = chive_config_load_text(cfg, text, len, err, sizeof(err));
    free(text); /* check_banned: allow */
    if (e != CHIVE_OK) {
      fprintf(stderr, "chive: %s: %s\n", d->torrc_path, err);
      goto fail;
    }
  }
  /* Names already replaced by an earlier command-line option. */
  const char *replaced[MAX_CMDLINE_OPTIONS];
  int n_replaced = 0;
  if (d->torrc_path) {
    char *abs = realpath(d->torrc_path, NULL);
    chive_err_t e = chive_config_set(cfg, "__ConfigFile",
                                     abs ? abs : d->torrc_path, err,
                                     sizeof(err));
    free(abs); /* check_banned: allow */
    if (e != CHIVE_OK) {
      fprintf(stderr, "chive: %s\n", err);
      goto fail;
    }
  }
  for (int i = 1; i < d->argc; i++) {
    const char *a = d->argv[i];
    if (!strcmp(a, "-f")) {
      i++;
      continue;
    }
    if (!strcmp(a, "--verify-config"))
      continue;
    const char *name = a;
    while (*name == '-')
      name++;
    if (name[0] != '/' && name[0] != '+' && i + 1 < d->argc) {
      /* The first "--Option" replaces the file's values. */
      int seen = 0;
      for (int k = 0; k < n_replaced; k++)
        if (!strcasecmp(replaced[k], name))
          seen = 1;
      if (!seen) {
        if (n_replaced >= MAX_CMDLINE_OPTIONS) {
          fprintf(stderr, "chive: too many command-line options\n");
          goto fail;
        }
        replaced[n_replaced++] = name;
        /* An unknown name is reported by chive_config_set() below. */
        if (chive_config_reset(cfg, name) != CHIVE_OK)
          replaced[n_replaced - 1] = "";
      }
    }
    if (i + 1 >= d->argc) {
      fprintf(stderr, "chive: option %s needs a value\n", a);
      goto fail;
    }
    const char *value = d->argv[++i];
    chive_err_t e;
    if (name[0] == '/') {
      e = chive_config_reset(cfg, name + 1);
      if (e == CHIVE_OK)
        continue;
      snprintf(err, sizeof(err), "Unknown option '%s'", name + 1);
    } else {
      if (name[0] == '+')
        name++;
      e = chive_config_set(cfg, name, value, err, sizeof(err));
    }
    if (e != CHIVE_OK) {
      fprintf(stderr, "chive: command line: %s\n", err);
      goto fail;
    }
  }
  return cfg;
fail:
  chive_config_free(cfg);
  return NULL;
}

/** (Re)open log sinks from the config's Log lines; default "notice
 * stdout" as tor does. */
static int
setup_logs(daemon_t *d, chive_config_t *cfg)
{
  close_sinks(d);
  const char *spec;
  for (size_t i = 0; (spec = chive_config_get(cfg, "Log", i)) != NULL; i++) {
    int r = add_log_sink(d, spec);
    if (r) {
      if (r == -1)
        fprintf(stderr, "chive: unsupported Log line '%s'\n", spec);
      return -1;
    }
  }
  if (d->n_sinks == 0)
    (void)add_log_sink(d, "notice stdout");
  chive_log_severity_t most_verbose = CHIVE_LOG_ERR;
  for (int i = 0; i < d->n_sinks; i++)
    if (d->sinks[i].max > most_verbose)
      most_verbose = d->sinks[i].max;
  chive_config_set_log_cb(cfg, on_log, d, most_verbose);
  return 0;
}

/** Apply <b>cfg</b> (owned) to the running client, or keep the old one. */
static void
reload(daemon_t *d, chive_config_t *cfg)
{
  char err[512] = "";
  if (setup_logs(d, cfg) != 0) {
    chive_config_free(cfg);
    (void)setup_logs(d, d->cfg);
    return;
  }
  chive_err_t e = chive_client_reconfigure(d->client, cfg, err, sizeof(err));
  if (e != CHIVE_OK) {
    char msg[640];
    snprintf(msg, sizeof(msg),
             "Reloading config failed: %s; keeping the old configuration.",
             err[0] ? err : "error");
    on_log(CHIVE_LOG_WARN, "general", msg, d);
    if (e == CHIVE_ERR_INVAL) {
      chive_config_free(cfg);
      (void)setup_logs(d, d->cfg);
      return;
    }
  }
  chive_config_free(d->cfg);
  d->cfg = cfg;
}

static void
shutdown_now(daemon_t *d, const char *why)
{
  on_log(CHIVE_LOG_NOTICE, "general", why, d);
  chive_client_stop(d->client);
  event_base_loopexit(d->base, NULL);
}

/** SIGNAL from a controller (control-spec §3.7). */
static void
on_control_signal(chive_client_t *client, const char *sig, void *arg)
{
  daemon_t *d = arg;
  (void)client;
  if (!strcmp(sig, "RELOAD")) {
    chive_config_t *cfg = load_config(d);
    if (cfg)
      reload(d, cfg);
  } else if (!strcmp(sig, "SHUTDOWN") || !strcmp(sig, "HALT")) {
    shutdown_now(d, "Controller asked us to exit: exiting cleanly.");
  }
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
  daemon_t *d = arg;
  (void)what;
  if (sig == SIGHUP) {
    on_log(CHIVE_LOG_NOTICE, "general",
           "Received reload signal (hup). Reloading config.", d);
    chive_config_t *cfg = load_config(d);
    if (!cfg) {
      on_log(CHIVE_LOG_WARN, "general",
             "Reloading config failed; keeping the old configuration.", d);
      return;
    }
    reload(d, cfg);
    return;
  }
  shutdown_now(d, sig == SIGINT ? "Interrupt: exiting cleanly."
                                 : "Catching signal TERM, exiting cleanly.");
}

int
main(int argc, char **argv)
{
  daemon_t d;
  int verify_only = 0, rv = 1;
  struct event *sigs[3] = {NULL, NULL, NULL};
  memset(&d, 0, sizeof(d));
  d.argc = argc;
  d.argv = argv;

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      usage(stdout);
      return 0;
    }
    if (!strcmp(argv[i], "--version")) {
      printf("chive %s\n", chive_version());
      return 0;
    }
    if (!strcmp(argv[i], "--list-options")) {
      for (size_t k = 0; k < chive_config_n_options(); k++)
        printf("%s\n", chive_config_option_name(k));
      return 0;
    }
    if (!strcmp(argv[i], "--verify-config"))
      verify_only = 1;
    if (!strcmp(argv[i], "-f")) {
      if (i + 1 >= argc) {
        usage(stderr);
        return 1;
      }
      d.torrc_path = argv[++i];
    }
  }

  d.cfg = load_config(&d);
  if (!d.cfg || setup_logs(&d, d.cfg) != 0)
    goto done;
  if (verify_only) {
    printf("Configuration was valid\n");
    rv = 0;
    goto done;
  }
  char msg[160];
  snprintf(msg, sizeof(msg), "chive %s starting.", chive_version());
  on_log(CHIVE_LOG_NOTICE, "general", msg, &d);

  d.base = event_base_new();
  if (!d.base) {
    fprintf(stderr, "chive: cannot create the event loop\n");
    goto done;
  }
  char err[512] = "";
  if (chive_client_new(d.cfg, d.base, &d.client, err, sizeof(err)) !=
      CHIVE_OK) {
    fprintf(stderr, "chive: %s\n", err[0] ? err : "cannot create client");
    goto done;
  }
  const int signums[3] = {SIGINT, SIGTERM, SIGHUP};
  for (int i = 0; i < 3; i++) {
    sigs[i] = evsignal_new(d.base, signums[i], on_signal, &d);
    if (!sigs[i] || event_add(sigs[i], NULL) != 0) {
      fprintf(stderr, "chive: cannot install signal handlers\n");
      goto done;
    }
  }
  signal(SIGPIPE, SIG_IGN);
  chive_client_set_signal_cb(d.client, on_control_signal, &d);
  const char *pidfile = chive_config_get(d.cfg, "PidFile", 0);
  if (pidfile) {
    FILE *pf = fopen(pidfile, "w");
    if (!pf || fprintf(pf, "%ld\n", (long)getpid()) < 0 || fclose(pf) != 0) {
      fprintf(stderr, "chive: cannot write PidFile %s: %s\n", pidfile,
              strerror(errno));
      goto done;
    }
    snprintf(d.pidfile, sizeof(d.pidfile), "%s", pidfile);
  }
  if (chive_client_start(d.client) != CHIVE_OK) {
    fprintf(stderr, "chive: cannot start the client\n");
    goto done;
  }
  event_base_dispatch(d.base);
  rv = 0;
done:
  for (int i = 0; i < 3; i++)
    if (sigs[i])
      event_free(sigs[i]);
  chive_client_free(d.client);
  if (d.pidfile[0])
    (void)unlink(d.pidfile);
  if (d.base)
    event_base_free(d.base);
  chive_config_free(d.cfg);
  close_sinks(&d);
  return rv;
}
