/**
 * @file bench_httpd.c
 * @brief chive-bench's own HTTP/1.0 server, run in a child process inside
 * the network namespace: one epoll loop, non-blocking sockets, a listen
 * backlog of 4096, bodies generated on the fly.  `GET /bytes/N` answers
 * 200 with exactly N bytes; anything else 404.
 *
 * Why not the network's server: tests/testnet's Python server listens
 * with a backlog of 5 and a thread per connection, so with 100+
 * simultaneous streams the exits' connections queue there and the
 * benchmark measures the server (both clients saw TTFB p99 ~8 s).
 **/
#define _GNU_SOURCE 1 /* accept4 */
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "lib/malloc/malloc.h"

/** Listen backlog (the kernel caps it at net.core.somaxconn). */
#define HTTPD_BACKLOG 4096
/** Largest body served. */
#define HTTPD_MAX_BODY (4ull << 30)
/** Request head buffer. */
#define HTTPD_HEAD_MAX 2048

typedef struct hconn_t {
  int fd;
  char head[HTTPD_HEAD_MAX];
  size_t hlen;
  bool writing;
  char hdr[160];
  size_t hdr_len, hdr_off;
  uint64_t body_len, body_off;
} hconn_t;

static unsigned char pattern[65536];

static void
conn_close(int ep, hconn_t *c)
{
  epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
  close(c->fd);
  chive_free(c);
}

/** Parse the request line; set up the reply. */
static void
conn_request(hconn_t *c)
{
  c->head[c->hlen < sizeof(c->head) ? c->hlen : sizeof(c->head) - 1] = '\0';
  uint64_t n = 0;
  bool ok = false;
  if (!strncmp(c->head, "GET /bytes/", 11)) {
    char *end;
    unsigned long long v = strtoull(c->head + 11, &end, 10);
    if (end != c->head + 11 && (*end == ' ' || *end == '?') &&
        v <= HTTPD_MAX_BODY) {
      n = v;
      ok = true;
    }
  }
  int l;
  if (ok)
    l = snprintf(c->hdr, sizeof(c->hdr),
                 "HTTP/1.0 200 OK\r\nContent-Type: application/octet-stream"
                 "\r\nContent-Length: %llu\r\n\r\n",
                 (unsigned long long)n);
  else
    l = snprintf(c->hdr, sizeof(c->hdr),
                 "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n");
  c->hdr_len = l > 0 ? (size_t)l : 0;
  c->body_len = n;
  c->writing = true;
}

/** Write what the socket takes; true when the reply is complete. */
static bool
conn_write(hconn_t *c, bool *err)
{
  while (c->hdr_off < c->hdr_len) {
    ssize_t w = send(c->fd, c->hdr + c->hdr_off, c->hdr_len - c->hdr_off,
                     MSG_NOSIGNAL);
    if (w < 0) {
      *err = errno != EAGAIN && errno != EWOULDBLOCK;
      return false;
    }
    c->hdr_off += (size_t)w;
  }
  while (c->body_off < c->body_len) {
    uint64_t left = c->body_len - c->body_off;
    size_t pos = (size_t)(c->body_off % sizeof(pattern));
    size_t chunk = sizeof(pattern) - pos;
    if (chunk > left)
      chunk = (size_t)left;
    ssize_t w = send(c->fd, pattern + pos, chunk, MSG_NOSIGNAL);
    if (w < 0) {
      *err = errno != EAGAIN && errno != EWOULDBLOCK;
      return false;
    }
    c->body_off += (uint64_t)w;
  }
  return true;
}

static void
serve(int lfd)
{
  for (size_t i = 0; i < sizeof(pattern); i++)
    pattern[i] = (unsigned char)((i * 131u + 7u) & 0xffu);
  int ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0)
    _exit(1);
  struct epoll_event ev;
  memset(&ev, 0, sizeof(ev));
  ev.events = EPOLLIN;
  ev.data.ptr = NULL; /* the listener */
  epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
  struct epoll_event evs[256];
  for (;;) {
    int n = epoll_wait(ep, evs, CHIVE_ARRAY_LEN(evs), -1);
    if (n < 0 && errno != EINTR)
      _exit(1);
    for (int i = 0; i < n; i++) {
      hconn_t *c = evs[i].data.ptr;
      if (!c) {
        int fd;
        while ((fd = accept4(lfd, NULL, NULL,
                             SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
          hconn_t *nc = chive_zalloc(sizeof(*nc));
          nc->fd = fd;
          struct epoll_event e2;
          memset(&e2, 0, sizeof(e2));
          e2.events = EPOLLIN;
          e2.data.ptr = nc;
          if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e2) < 0) {
            close(fd);
            chive_free(nc);
          }
        }
        continue;
      }
      if (evs[i].events & (EPOLLERR | EPOLLHUP)) {
        conn_close(ep, c);
        continue;
      }
      bool err = false;
      if (!c->writing) {
        ssize_t r = recv(c->fd, c->head + c->hlen,
                         sizeof(c->head) - 1 - c->hlen, 0);
        if (r <= 0) {
          if (r == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
            conn_close(ep, c);
          continue;
        }
        c->hlen += (size_t)r;
        c->head[c->hlen] = '\0';
        if (!strstr(c->head, "\r\n\r\n") && !strstr(c->head, "\n\n")) {
          if (c->hlen + 1 >= sizeof(c->head))
            conn_close(ep, c);
          continue;
        }
        conn_request(c);
        struct epoll_event e2;
        memset(&e2, 0, sizeof(e2));
        e2.events = EPOLLOUT;
        e2.data.ptr = c;
        epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &e2);
      }
      if (conn_write(c, &err)) {
        shutdown(c->fd, SHUT_WR);
        conn_close(ep, c);
      } else if (err) {
        conn_close(ep, c);
      }
    }
  }
}

pid_t
bench_httpd_start(int *port_out)
{
  int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (lfd < 0)
    return -1;
  int one = 1;
  setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t sl = sizeof(sa);
  if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
      listen(lfd, HTTPD_BACKLOG) < 0 ||
      getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0) {
    close(lfd);
    return -1;
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    close(lfd);
    return -1;
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    signal(SIGPIPE, SIG_IGN);
    serve(lfd);
    _exit(0);
  }
  close(lfd);
  *port_out = ntohs(sa.sin_port);
  return pid;
}

void
bench_httpd_stop(pid_t pid)
{
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  int st;
  waitpid(pid, &st, 0);
}
