/* Unit tests for the control port's dispatcher (app/control*.c) with a
 * client that is never started (no Tor network): a real ControlPort on
 * 127.0.0.1, a real socket as the controller, the libevent loop pumped
 * by the test.  Reply framing, the rules before AUTHENTICATE, GETCONF /
 * SETCONF / RESETCONF edge cases and quoting, SIGNAL with and without an
 * embedder handler, SETEVENTS and event lines, and the CIRC_BW /
 * STREAM_BW formatters. */
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "app/client_st.h"
#include "app/control.h"
#include "app/control_int.h"
#include "chive/chive.h"
#include "lib/malloc/malloc.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

/** Longest reply a test reads, bytes. */
#define REPLY_MAX 65536

typedef struct fixture_t {
  struct event_base *base;
  chive_config_t *cfg;
  chive_client_t *c;
  char dir[64];
  int port;
} fixture_t;

static bool
setup(fixture_t *f, const char *const *kv, size_t n)
{
  char err[256] = "";
  memset(f, 0, sizeof(*f));
  (void)snprintf(f->dir, sizeof(f->dir), "/tmp/chive-test-control-XXXXXX");
  if (!mkdtemp(f->dir))
    return false;
  f->base = event_base_new();
  f->cfg = chive_config_new();
  if (!f->base || !f->cfg)
    return false;
  if (chive_config_set(f->cfg, "DataDirectory", f->dir, err, sizeof(err)) ||
      chive_config_set(f->cfg, "ControlPort", "127.0.0.1:auto", err,
                       sizeof(err)))
    return false;
  for (size_t i = 0; i + 1 < n; i += 2)
    if (chive_config_set(f->cfg, kv[i], kv[i + 1], err, sizeof(err)) !=
        CHIVE_OK) {
      fprintf(stderr, "config %s: %s\n", kv[i], err);
      return false;
    }
  if (chive_client_new(f->cfg, f->base, &f->c, err, sizeof(err)) !=
      CHIVE_OK) {
    fprintf(stderr, "client: %s\n", err);
    return false;
  }
  if (control_start(f->c) != CHIVE_OK || !f->c->control ||
      f->c->control->n_listeners != 1)
    return false;
  const char *colon = strrchr(f->c->control->listeners[0].name, ':');
  f->port = colon ? (int)strtol(colon + 1, NULL, 10) : 0;
  return f->port > 0;
}

static void
teardown(fixture_t *f)
{
  if (f->c)
    control_stop(f->c);
  chive_client_free(f->c);
  chive_config_free(f->cfg);
  if (f->base)
    event_base_free(f->base);
  char path[128];
  (void)snprintf(path, sizeof(path), "%s/control_auth_cookie", f->dir);
  (void)unlink(path);
  (void)snprintf(path, sizeof(path), "%s/state", f->dir);
  (void)unlink(path);
  (void)rmdir(f->dir);
  memset(f, 0, sizeof(*f));
}

static int
dial(const fixture_t *f)
{
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)f->port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
    if (s >= 0)
      close(s);
    return -1;
  }
  /* Let the listener accept it. */
  for (int i = 0; i < 5; i++)
    event_base_loop(f->base, EVLOOP_NONBLOCK);
  return s;
}

/** True iff <b>buf</b> ends with a complete EndReplyLine ("NNN ...")
 * that is not inside a data block. */
static bool
reply_complete(const char *buf, size_t len)
{
  if (len < 2 || buf[len - 1] != '\n' || buf[len - 2] != '\r')
    return false;
  size_t start = len - 2;
  while (start > 0 && buf[start - 1] != '\n')
    start--;
  return len - start >= 6 && buf[start + 3] == ' ' &&
         buf[start] >= '1' && buf[start] <= '9';
}

/** Send <b>cmd</b> (may be "") and pump the loop until a whole reply or
 * EOF arrived or 3 s passed; *closed tells EOF.  Returns the reply
 * (static buffer). */
static const char *
talk(fixture_t *f, int s, const char *cmd, bool *closed)
{
  static char buf[REPLY_MAX];
  size_t len = 0;
  bool eof = false;
  if (cmd[0] && send(s, cmd, strlen(cmd), 0) != (ssize_t)strlen(cmd))
    return "";
  for (int i = 0; i < 3000 && !eof; i++) {
    event_base_loop(f->base, EVLOOP_NONBLOCK);
    ssize_t n = recv(s, buf + len, sizeof(buf) - 1 - len, MSG_DONTWAIT);
    if (n == 0) {
      eof = true;
    } else if (n > 0) {
      len += (size_t)n;
      if (reply_complete(buf, len) && !closed)
        break;
    } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
      if (reply_complete(buf, len) && !closed)
        break;
      struct timespec ts = {0, 1000000};
      nanosleep(&ts, NULL);
    } else {
      eof = true;
    }
  }
  buf[len] = 0;
  if (closed)
    *closed = eof;
  return buf;
}

/** Connect and authenticate (the fixtures use no authentication). */
static int
dial_auth(fixture_t *f)
{
  int s = dial(f);
  if (s < 0)
    return -1;
  if (strcmp(talk(f, s, "AUTHENTICATE\r\n", NULL), "250 OK\r\n") != 0) {
    close(s);
    return -1;
  }
  return s;
}

static const char *const NULLAUTH[] = {"CookieAuthentication", "0"};

/* ---- before AUTHENTICATE --------------------------------------------- */

static void
test_preauth(void)
{
  fixture_t f;
  int s = -1;
  bool closed = false;
  T_ASSERT(setup(&f, NULL, 0));
  T_ASSERT(f.c->control->cookie_auth);
  s = dial(&f);
  T_ASSERT(s >= 0);
  T_EQ_STR(talk(&f, s, "GETINFO version\r\n", &closed),
           "514 Authentication required.\r\n");
  T_ASSERT(closed);
  close(s);
  /* One PROTOCOLINFO, then only authentication commands. */
  s = dial(&f);
  const char *r = talk(&f, s, "PROTOCOLINFO 1\r\n", NULL);
  T_ASSERT(strncmp(r, "250-PROTOCOLINFO 1\r\n250-AUTH METHODS=COOKIE,"
                      "SAFECOOKIE COOKIEFILE=\"", 60) == 0);
  T_ASSERT(strstr(r, "\r\n250-VERSION Tor=\"0.4.9.1-chive (chive-") != NULL);
  T_EQ_STR(talk(&f, s, "PROTOCOLINFO\r\n", &closed),
           "514 Authentication required.\r\n");
  T_ASSERT(closed);
  close(s);
  /* QUIT works before authenticating. */
  s = dial(&f);
  T_EQ_STR(talk(&f, s, "quit\r\n", &closed), "250 closing connection\r\n");
  T_ASSERT(closed);
  close(s);
  /* A wrong cookie: 515 and closed; PROTOCOLINFO 2 is refused. */
  s = dial(&f);
  T_EQ_STR(talk(&f, s, "PROTOCOLINFO 2\r\n", NULL),
           "513 No such version 2\r\n");
  T_EQ_STR(talk(&f, s, "AUTHENTICATE 00\r\n", &closed),
           "515 Authentication failed: Wrong length on authentication "
           "cookie.\r\n");
  T_ASSERT(closed);
  close(s);
  s = -1;
done:
  if (s >= 0)
    close(s);
  teardown(&f);
}

/* ---- reply framing and quoting ---------------------------------------- */

static void
test_framing(void)
{
  fixture_t f;
  int s = -1;
  char want[256];
  bool closed = false;
  T_ASSERT(setup(&f, NULLAUTH, 2));
  T_ASSERT(f.c->control->null_auth);
  s = dial_auth(&f);
  T_ASSERT(s >= 0);
  /* Several keys: MidReplyLines then "250 OK"; keywords ignore case. */
  (void)snprintf(want, sizeof(want),
                 "250-process/pid=%ld\r\n250-dormant=0\r\n250 OK\r\n",
                 (long)getpid());
  T_EQ_STR(talk(&f, s, "getinfo process/pid dormant\r\n", NULL), want);
  /* LF alone ends a line too (control-spec §2.1 leniency, as tor). */
  T_EQ_STR(talk(&f, s, "GETINFO dormant\n", NULL),
           "250-dormant=0\r\n250 OK\r\n");
  /* A value with line breaks is a data reply ("250+key=" + CmdData). */
  const char *r = talk(&f, s, "GETINFO config-text\r\n", NULL);
  T_ASSERT(strncmp(r, "250+config-text=\r\n", 18) == 0);
  T_ASSERT(strstr(r, "\r\nControlPort 127.0.0.1:auto\r\n") != NULL);
  T_ASSERT(strlen(r) > 13 &&
           !strcmp(r + strlen(r) - 13, "\r\n.\r\n250 OK\r\n"));
  /* Unknown keys: one 552 line each, the last one ends the reply. */
  T_EQ_STR(talk(&f, s, "GETINFO bogus version other\r\n", NULL),
           "552-Unrecognized key \"bogus\"\r\n"
           "552 Unrecognized key \"other\"\r\n");
  /* Listener addresses are quoted. */
  (void)snprintf(want, sizeof(want),
                 "250-net/listeners/control=\"127.0.0.1:%d\"\r\n250 OK\r\n",
                 f.port);
  T_EQ_STR(talk(&f, s, "GETINFO net/listeners/control\r\n", NULL), want);
  /* Unknown commands (as typed), empty lines ignored. */
  T_EQ_STR(talk(&f, s, "\r\nFrobnicate x\r\n", NULL),
           "510 Unrecognized command \"Frobnicate\"\r\n");
  /* A "+" command with a data block that nobody expects. */
  r = talk(&f, s, "+GETINFO version\r\nabc\r\n.\r\n", NULL);
  T_ASSERT(strncmp(r, "512 Bad arguments to GETINFO: ", 30) == 0);
  /* Arity checks word tor's way. */
  T_EQ_STR(talk(&f, s, "SIGNAL\r\n", NULL),
           "512 Bad arguments to SIGNAL: Need at least 1 argument(s)\r\n");
  T_EQ_STR(talk(&f, s, "SIGNAL NEWNYM X\r\n", NULL),
           "512 Bad arguments to SIGNAL: Cannot accept more than 1 "
           "argument(s)\r\n");
  /* A NUL byte closes the connection. */
  static const char nul[] = "GETINFO a\0b\r\n";
  T_ASSERT(send(s, nul, sizeof(nul) - 1, 0) == (ssize_t)(sizeof(nul) - 1));
  T_EQ_STR(talk(&f, s, "", &closed), "500 Invalid NUL byte in command\r\n");
  T_ASSERT(closed);
done:
  if (s >= 0)
    close(s);
  teardown(&f);
}

/* ---- GETCONF / SETCONF / RESETCONF ------------------------------------ */

static void
test_conf(void)
{
  fixture_t f;
  int s = -1;
  T_ASSERT(setup(&f, NULLAUTH, 2));
  s = dial_auth(&f);
  T_ASSERT(s >= 0);
  T_EQ_STR(talk(&f, s, "GETCONF MaxCircuitDirtiness\r\n", NULL),
           "250 MaxCircuitDirtiness=600\r\n");
  /* Quoted values are C strings. */
  T_EQ_STR(talk(&f, s, "SETCONF MaxCircuitDirtiness=\"300\"\r\n", NULL),
           "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "getconf maxcircuitdirtiness\r\n", NULL),
           "250 MaxCircuitDirtiness=300\r\n");
  /* All or nothing: an unknown option fails the whole SETCONF. */
  T_EQ_STR(talk(&f, s,
                "SETCONF MaxCircuitDirtiness=200 NoSuchOption=1\r\n", NULL),
           "552 Unrecognized option: Unknown option 'NoSuchOption'.  "
           "Failing.\r\n");
  T_EQ_STR(talk(&f, s, "GETCONF MaxCircuitDirtiness\r\n", NULL),
           "250 MaxCircuitDirtiness=300\r\n");
  const char *r = talk(&f, s, "SETCONF MaxCircuitDirtiness=soon\r\n", NULL);
  T_ASSERT(strncmp(r, "513 Unacceptable option value: ", 31) == 0);
  r = talk(&f, s, "SETCONF DataDirectory=/elsewhere\r\n", NULL);
  T_ASSERT(strncmp(r, "553 Transition not allowed: ", 28) == 0);
  /* The same value for a fixed option is fine (tor allows no-ops). */
  char cmd[128];
  (void)snprintf(cmd, sizeof(cmd), "SETCONF DataDirectory=%s\r\n", f.dir);
  T_EQ_STR(talk(&f, s, cmd, NULL), "250 OK\r\n");
  /* An unterminated quote is a syntax error. */
  r = talk(&f, s, "SETCONF MaxCircuitDirtiness=\"300\r\n", NULL);
  T_ASSERT(strncmp(r, "512 Bad arguments to SETCONF: ", 30) == 0);
  /* Bare key: back to the default. */
  T_EQ_STR(talk(&f, s, "RESETCONF MaxCircuitDirtiness\r\n", NULL),
           "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "GETCONF MaxCircuitDirtiness\r\n", NULL),
           "250 MaxCircuitDirtiness=600\r\n");
  /* Unset options have no "=", several keys, cookie auth in force. */
  T_EQ_STR(talk(&f, s,
                "GETCONF HashedControlPassword CookieAuthentication\r\n",
                NULL),
           "250-HashedControlPassword\r\n250 CookieAuthentication=0\r\n");
  T_EQ_STR(talk(&f, s, "GETCONF Bogus MaxCircuitDirtiness Nope\r\n", NULL),
           "552-Unrecognized configuration key \"Bogus\"\r\n"
           "552 Unrecognized configuration key \"Nope\"\r\n");
  /* The control-only option. */
  T_EQ_STR(talk(&f, s, "SETCONF __LeaveStreamsUnattached=2\r\n", NULL),
           "513 Unacceptable option value: Could not parse "
           "__LeaveStreamsUnattached '2'\r\n");
  T_EQ_STR(talk(&f, s, "SETCONF __leavestreamsunattached=1\r\n", NULL),
           "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "GETCONF __LeaveStreamsUnattached\r\n", NULL),
           "250 __LeaveStreamsUnattached=1\r\n");
  /* A quoted value with a space; GETCONF sends it as is (tor's). */
  T_EQ_STR(talk(&f, s, "SETCONF MaxCircuitDirtiness=\"5 minutes\"\r\n",
                NULL),
           "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "GETCONF MaxCircuitDirtiness\r\n", NULL),
           "250 MaxCircuitDirtiness=300\r\n");
done:
  if (s >= 0)
    close(s);
  teardown(&f);
}

/* ---- SIGNAL ------------------------------------------------------------ */

static void
on_signal(chive_client_t *c, const char *sig, void *arg)
{
  (void)c;
  (void)sig;
  (void)arg;
}

static void
test_signal(void)
{
  fixture_t f;
  int s = -1;
  T_ASSERT(setup(&f, NULLAUTH, 2));
  s = dial_auth(&f);
  T_ASSERT(s >= 0);
  T_EQ_STR(talk(&f, s, "SIGNAL BOGUS\r\n", NULL),
           "552 Unrecognized signal code \"BOGUS\"\r\n");
  /* No embedder handler: refused. */
  T_EQ_STR(talk(&f, s, "SIGNAL SHUTDOWN\r\n", NULL),
           "551 Signal SHUTDOWN is not handled here\r\n");
  /* With one installed: "250 OK" (the handler runs from the started
   * client's loop: chive.control's shutdown case proves that part). */
  chive_client_set_signal_cb(f.c, on_signal, NULL);
  T_EQ_STR(talk(&f, s, "SIGNAL RELOAD\r\n", NULL), "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "SIGNAL DUMP\r\n", NULL), "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "SETEVENTS SIGNAL\r\n", NULL), "250 OK\r\n");
  T_EQ_STR(talk(&f, s, "SIGNAL HEARTBEAT\r\n", NULL),
           "250 OK\r\n650 SIGNAL HEARTBEAT\r\n");
  T_EQ_STR(talk(&f, s, "signal newnym\r\n", NULL),
           "250 OK\r\n650 SIGNAL NEWNYM\r\n");
done:
  if (s >= 0)
    close(s);
  teardown(&f);
}

/* ---- events ------------------------------------------------------------ */

static void
test_events(void)
{
  fixture_t f;
  int s = -1, s2 = -1;
  T_ASSERT(setup(&f, NULLAUTH, 2));
  s = dial_auth(&f);
  s2 = dial_auth(&f);
  T_ASSERT(s >= 0 && s2 >= 0);
  T_EQ_STR(talk(&f, s, "SETEVENTS CIRC BOGUS\r\n", NULL),
           "552 Unrecognized event \"BOGUS\"\r\n");
  T_EQ_STR(talk(&f, s, "SETEVENTS circ EXTENDED stream_bw\r\n", NULL),
           "250 OK\r\n");
  T_ASSERT(f.c->control->ev_union ==
           (((uint64_t)1 << CTL_EV_CIRC) | ((uint64_t)1 << CTL_EV_STREAM_BW)));
  /* An event goes to the connection that asked, only; CR/LF in a body
   * cannot end the line. */
  static const char body[] = "CIRC 7 LAUNCHED\r\n650 CIRC 8 FAKE";
  control_events_send(f.c->control, CTL_EV_CIRC, body, sizeof(body) - 1);
  control_events_send(f.c->control, CTL_EV_ORCONN, "ORCONN x", 8);
  T_EQ_STR(talk(&f, s, "", NULL),
           "650 CIRC 7 LAUNCHED\\r\\n650 CIRC 8 FAKE\r\n");
  T_EQ_STR(talk(&f, s2, "GETINFO dormant\r\n", NULL),
           "250-dormant=0\r\n250 OK\r\n");
  /* SETEVENTS with nothing turns every event off. */
  T_EQ_STR(talk(&f, s, "SETEVENTS\r\n", NULL), "250 OK\r\n");
  T_ASSERT(f.c->control->ev_union == 0);
  T_EQ_UINT(f.c->events.n_subs, 0);
done:
  if (s >= 0)
    close(s);
  if (s2 >= 0)
    close(s2);
  teardown(&f);
}

static void
test_bw_format(void)
{
  strbuf_t sb;
  strbuf_init(&sb, 1024);
  T_OK(control_format_stream_bw(&sb, 42, 100, 2000,
                                "2026-01-02T03:04:05.000006"));
  T_EQ_STR(strbuf_str(&sb),
           "STREAM_BW 42 100 2000 2026-01-02T03:04:05.000006");
  strbuf_clear(&sb);
  strbuf_init(&sb, 1024);
  control_circ_bw_t prev = {9, 10, 5, 1, 1000, 100};
  /* 20 cells in (1 dropped), 4 out; 9000 data bytes in, 300 out. */
  control_circ_bw_t now = {9, 30, 9, 2, 10000, 400};
  T_OK(control_format_circ_bw(&sb, 9, &now, &prev, "T"));
  /* READ 20*509, WRITTEN 4*509, OVERHEAD_READ 19*498-9000,
   * OVERHEAD_WRITTEN 4*498-300. */
  T_EQ_STR(strbuf_str(&sb),
           "CIRC_BW ID=9 READ=10180 WRITTEN=2036 TIME=T DELIVERED_READ=9000 "
           "OVERHEAD_READ=462 DELIVERED_WRITTEN=300 OVERHEAD_WRITTEN=1692");
  strbuf_clear(&sb);
  /* A new circuit (no previous numbers) and no underflow. */
  strbuf_init(&sb, 1024);
  control_circ_bw_t zero;
  memset(&zero, 0, sizeof(zero));
  control_circ_bw_t odd = {3, 1, 0, 1, 0, 0};
  T_OK(control_format_circ_bw(&sb, 3, &odd, &zero, "T"));
  T_EQ_STR(strbuf_str(&sb),
           "CIRC_BW ID=3 READ=509 WRITTEN=0 TIME=T DELIVERED_READ=0 "
           "OVERHEAD_READ=0 DELIVERED_WRITTEN=0 OVERHEAD_WRITTEN=0");
  /* The time format. */
  char when[40];
  control_iso_time_frac(when, sizeof(when));
  T_EQ_UINT(strlen(when), 26);
  T_ASSERT(when[4] == '-' && when[10] == 'T' && when[19] == '.');
done:
  strbuf_clear(&sb);
}

static const t_case cases[] = {
    T_CASE(test_preauth), T_CASE(test_framing),  T_CASE(test_conf),
    T_CASE(test_signal),  T_CASE(test_events),   T_CASE(test_bw_format),
    T_END,
};
T_MAIN(cases)
