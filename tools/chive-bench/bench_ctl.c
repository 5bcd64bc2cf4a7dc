/**
 * @file bench_ctl.c
 * @brief chive-bench: a small blocking control-port client (control-spec
 * §3): PROTOCOLINFO, AUTHENTICATE with the cookie file, commands and
 * asynchronous 650 events.  The same code talks to chive and to C tor.
 **/
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench.h"
#include "lib/malloc/malloc.h"

/** Longest control line accepted (replies like circuit-status can be
 * long; they are truncated, not fatal). */
#define CTL_LINE_MAX 8192
/** Queued asynchronous events. */
#define CTL_MAX_EVENTS 256
/** Cookie length (control-spec §3.5). */
#define CTL_COOKIE_LEN 32

struct ctl_t {
  int fd;
  char in[65536];
  size_t in_len;
  char *ev[CTL_MAX_EVENTS];
  size_t ev_head, ev_n;
};

/** Read one line (CRLF stripped) within <b>deadline</b>; 1 ok, 0 timeout,
 * -1 closed/error. */
static int
read_line(ctl_t *c, char *line, size_t len, double deadline)
{
  for (;;) {
    char *nl = memchr(c->in, '\n', c->in_len);
    if (nl) {
      size_t l = (size_t)(nl - c->in);
      size_t cp = l;
      if (cp && c->in[cp - 1] == '\r')
        cp--;
      if (cp >= len)
        cp = len - 1;
      memcpy(line, c->in, cp);
      line[cp] = '\0';
      memmove(c->in, nl + 1, c->in_len - l - 1);
      c->in_len -= l + 1;
      return 1;
    }
    if (c->in_len == sizeof(c->in)) /* over-long line: drop it */
      c->in_len = 0;
    double left = deadline - bench_now();
    if (left <= 0)
      return 0;
    struct pollfd p = {c->fd, POLLIN, 0};
    int r = poll(&p, 1, (int)(left * 1000) + 1);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return r == 0 ? 0 : -1;
    ssize_t n = read(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
    if (n <= 0)
      return -1;
    c->in_len += (size_t)n;
  }
}

static bool
send_line(ctl_t *c, const char *s)
{
  char buf[CTL_LINE_MAX];
  int n = snprintf(buf, sizeof(buf), "%s\r\n", s);
  if (n < 0 || (size_t)n >= sizeof(buf))
    return false;
  size_t off = 0;
  while (off < (size_t)n) {
    ssize_t w = write(c->fd, buf + off, (size_t)n - off);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return false;
    off += (size_t)w;
  }
  return true;
}

static void
queue_event(ctl_t *c, const char *line)
{
  if (c->ev_n == CTL_MAX_EVENTS) { /* drop the oldest */
    chive_free(c->ev[c->ev_head]);
    c->ev_head = (c->ev_head + 1) % CTL_MAX_EVENTS;
    c->ev_n--;
  }
  c->ev[(c->ev_head + c->ev_n) % CTL_MAX_EVENTS] = chive_strdup(line);
  c->ev_n++;
}

int
ctl_cmd(ctl_t *c, const char *cmd, char *reply, size_t rlen,
        double timeout_s)
{
  if (reply && rlen)
    reply[0] = '\0';
  if (!send_line(c, cmd))
    return -1;
  double deadline = bench_now() + timeout_s;
  char line[CTL_LINE_MAX];
  bool first = true;
  bool in_data = false;
  for (;;) {
    int r = read_line(c, line, sizeof(line), deadline);
    if (r <= 0)
      return -1;
    if (in_data) { /* "+" data block ends with "." */
      if (!strcmp(line, "."))
        in_data = false;
      continue;
    }
    if (strlen(line) < 4)
      continue;
    if (!strncmp(line, "650", 3)) {
      /* async: single-line events only are queued (control-spec §4.1) */
      if (line[3] == ' ')
        queue_event(c, line + 4);
      continue;
    }
    if (first && reply) {
      snprintf(reply, rlen, "%s", line + 4);
      first = false;
    }
    if (line[3] == '+')
      in_data = true;
    if (line[3] == ' ')
      return (int)strtol(line, NULL, 10);
  }
}

bool
ctl_next_event(ctl_t *c, char *line, size_t len, double timeout_s)
{
  if (c->ev_n) {
    snprintf(line, len, "%s", c->ev[c->ev_head]);
    chive_free(c->ev[c->ev_head]);
    c->ev_head = (c->ev_head + 1) % CTL_MAX_EVENTS;
    c->ev_n--;
    return true;
  }
  double deadline = bench_now() + timeout_s;
  char buf[CTL_LINE_MAX];
  for (;;) {
    int r = read_line(c, buf, sizeof(buf), deadline);
    if (r <= 0)
      return false;
    if (!strncmp(buf, "650 ", 4)) {
      snprintf(line, len, "%s", buf + 4);
      return true;
    }
  }
}

/** Read the cookie named by PROTOCOLINFO's COOKIEFILE="..." in <b>pi</b>
 * into <b>hex</b> (65 bytes). */
static bool
read_cookie(const char *pi, char *hex, char *why, size_t whylen)
{
  const char *p = strstr(pi, "COOKIEFILE=\"");
  if (!p) {
    snprintf(why, whylen, "PROTOCOLINFO names no COOKIEFILE");
    return false;
  }
  p += strlen("COOKIEFILE=\"");
  char path[BENCH_PATH_MAX];
  size_t n = 0;
  while (*p && *p != '"' && n + 1 < sizeof(path)) {
    if (*p == '\\' && p[1])
      p++;
    path[n++] = *p++;
  }
  path[n] = '\0';
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(why, whylen, "cannot open cookie %s: %s", path,
             strerror(errno));
    return false;
  }
  unsigned char ck[CTL_COOKIE_LEN];
  size_t got = fread(ck, 1, sizeof(ck), f);
  fclose(f);
  if (got != sizeof(ck)) {
    snprintf(why, whylen, "cookie %s is %zu bytes, not 32", path, got);
    return false;
  }
  static const char hx[] = "0123456789ABCDEF";
  for (size_t i = 0; i < sizeof(ck); i++) {
    hex[2 * i] = hx[ck[i] >> 4];
    hex[2 * i + 1] = hx[ck[i] & 15];
  }
  hex[2 * CTL_COOKIE_LEN] = '\0';
  return true;
}

ctl_t *
ctl_open(int port, double timeout_s, char *why, size_t whylen)
{
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    snprintf(why, whylen, "socket: %s", strerror(errno));
    return NULL;
  }
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)port);
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
    snprintf(why, whylen, "connect 127.0.0.1:%d: %s", port,
             strerror(errno));
    close(fd);
    return NULL;
  }
  ctl_t *c = chive_zalloc(sizeof(*c));
  c->fd = fd;
  /* PROTOCOLINFO's reply is multi-line; collect the AUTH line. */
  if (!send_line(c, "PROTOCOLINFO 1")) {
    snprintf(why, whylen, "write failed");
    goto err;
  }
  double deadline = bench_now() + timeout_s;
  char line[CTL_LINE_MAX], auth[CTL_LINE_MAX] = "";
  for (;;) {
    int r = read_line(c, line, sizeof(line), deadline);
    if (r <= 0) {
      snprintf(why, whylen, "no PROTOCOLINFO reply");
      goto err;
    }
    if (!strncmp(line, "250-AUTH ", 9))
      snprintf(auth, sizeof(auth), "%s", line + 9);
    if (line[0] != '2') {
      snprintf(why, whylen, "PROTOCOLINFO: %s", line);
      goto err;
    }
    if (strlen(line) >= 4 && line[3] == ' ')
      break;
  }
  char hex[2 * CTL_COOKIE_LEN + 1];
  char cmd[128];
  if (strstr(auth, "NULL") && !strstr(auth, "COOKIE")) {
    snprintf(cmd, sizeof(cmd), "AUTHENTICATE");
  } else {
    if (!read_cookie(auth, hex, why, whylen))
      goto err;
    snprintf(cmd, sizeof(cmd), "AUTHENTICATE %s", hex);
  }
  char reply[256];
  int code = ctl_cmd(c, cmd, reply, sizeof(reply), timeout_s);
  if (code != 250) {
    snprintf(why, whylen, "AUTHENTICATE: %d %s", code, reply);
    goto err;
  }
  return c;
err:
  ctl_close(c);
  return NULL;
}

void
ctl_close(ctl_t *c)
{
  if (!c)
    return;
  close(c->fd);
  while (c->ev_n) {
    chive_free(c->ev[c->ev_head]);
    c->ev_head = (c->ev_head + 1) % CTL_MAX_EVENTS;
    c->ev_n--;
  }
  chive_free(c);
}
