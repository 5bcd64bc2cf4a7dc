/**
 * @file socket.c
 * @brief Nonblocking TCP socket wrappers (POSIX).
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lib/net/socket.h"

/** Make <b>fd</b> nonblocking and close-on-exec. */
static chive_err_t
set_nonblocking_cloexec(int fd)
{
  int fl = fcntl(fd, F_GETFL, 0);
  if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
    return CHIVE_ERR_IO;
  int fdfl = fcntl(fd, F_GETFD, 0);
  if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0)
    return CHIVE_ERR_IO;
  return CHIVE_OK;
}

static bool
would_block(int e)
{
  return e == EAGAIN || e == EWOULDBLOCK || e == EINTR;
}

/* see socket.h */
chive_err_t
net_connect(const net_addrport_t *ap, int *fd_out)
{
  struct sockaddr_storage ss;
  size_t sslen = 0;
  chive_err_t err;

  err = net_addrport_to_sockaddr(ap, (struct sockaddr *)&ss, sizeof(ss),
                                 &sslen);
  if (err || ap->port == 0)
    return CHIVE_ERR_INVAL;
  int fd = socket(ap->addr.family == NET_AF_INET ? AF_INET : AF_INET6,
                  SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0)
    return CHIVE_ERR_IO;
  if (set_nonblocking_cloexec(fd) != CHIVE_OK)
    goto fail;
  int one = 1;
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  if (connect(fd, (struct sockaddr *)&ss, (socklen_t)sslen) < 0 &&
      errno != EINPROGRESS && errno != EINTR)
    goto fail;
  *fd_out = fd;
  return CHIVE_OK;
fail:
  close(fd);
  return CHIVE_ERR_IO;
}

/* see socket.h */
chive_err_t
net_connect_finish(int fd, int *os_err_out)
{
  int e = 0;
  socklen_t elen = sizeof(e);
  if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0)
    e = errno;
  if (e == 0)
    return CHIVE_OK;
  if (e == EINPROGRESS || e == EALREADY || e == EINTR)
    return CHIVE_ERR_TRUNCATED;
  if (os_err_out)
    *os_err_out = e;
  return CHIVE_ERR_IO;
}

/* see socket.h */
chive_err_t
net_listen(const net_addrport_t *ap, int backlog, int *fd_out,
           net_addrport_t *bound_out)
{
  struct sockaddr_storage ss;
  size_t sslen = 0;
  if (net_addrport_to_sockaddr(ap, (struct sockaddr *)&ss, sizeof(ss),
                               &sslen) != CHIVE_OK)
    return CHIVE_ERR_INVAL;
  int fd = socket(ap->addr.family == NET_AF_INET ? AF_INET : AF_INET6,
                  SOCK_STREAM, IPPROTO_TCP);
  if (fd < 0)
    return CHIVE_ERR_IO;
  int one = 1;
  (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (set_nonblocking_cloexec(fd) != CHIVE_OK ||
      bind(fd, (struct sockaddr *)&ss, (socklen_t)sslen) < 0 ||
      listen(fd, backlog > 0 ? backlog : NET_LISTEN_BACKLOG_DEFAULT) < 0)
    goto fail;
  if (bound_out && net_local_addr(fd, bound_out) != CHIVE_OK)
    goto fail;
  *fd_out = fd;
  return CHIVE_OK;
fail:
  close(fd);
  return CHIVE_ERR_IO;
}

/* see socket.h */
chive_err_t
net_accept(int lfd, int *fd_out, net_addrport_t *peer_out)
{
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  int fd = accept(lfd, (struct sockaddr *)&ss, &sslen);
  if (fd < 0)
    return would_block(errno) || errno == ECONNABORTED ? CHIVE_ERR_TRUNCATED
                                                       : CHIVE_ERR_IO;
  if (set_nonblocking_cloexec(fd) != CHIVE_OK) {
    close(fd);
    return CHIVE_ERR_IO;
  }
  if (peer_out) {
    net_addrport_t p;
    if (net_addrport_from_sockaddr((struct sockaddr *)&ss, sslen, &p) ==
        CHIVE_OK)
      *peer_out = p;
    else
      memset(peer_out, 0, sizeof(*peer_out));
  }
  *fd_out = fd;
  return CHIVE_OK;
}

/* see socket.h */
chive_err_t
net_read(int fd, uint8_t *buf, size_t len, size_t *n_out)
{
  ssize_t n = recv(fd, buf, len, 0);
  if (n > 0) {
    *n_out = (size_t)n;
    return CHIVE_OK;
  }
  if (n == 0)
    return len == 0 ? CHIVE_ERR_INVAL : CHIVE_ERR_CLOSED;
  return would_block(errno) ? CHIVE_ERR_TRUNCATED : CHIVE_ERR_IO;
}

/* see socket.h */
chive_err_t
net_write(int fd, const uint8_t *buf, size_t len, size_t *n_out)
{
  ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
  if (n >= 0) {
    if (n == 0 && len > 0)
      return CHIVE_ERR_TRUNCATED;
    *n_out = (size_t)n;
    return CHIVE_OK;
  }
  return would_block(errno) ? CHIVE_ERR_TRUNCATED : CHIVE_ERR_IO;
}

/* see socket.h */
chive_err_t
net_local_addr(int fd, net_addrport_t *out)
{
  struct sockaddr_storage ss;
  socklen_t sslen = sizeof(ss);
  if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
    return CHIVE_ERR_IO;
  return net_addrport_from_sockaddr((struct sockaddr *)&ss, sslen, out);
}

/* see socket.h */
void
net_close(int fd)
{
  if (fd >= 0)
    close(fd);
}

/* see socket.h */
chive_err_t
net_socketpair(int fds_out[2])
{
  int fds[2];
  if (socketpair(AF_UNIX, SOCK_STREAM, 0, fds) < 0)
    return CHIVE_ERR_IO;
  if (set_nonblocking_cloexec(fds[0]) != CHIVE_OK ||
      set_nonblocking_cloexec(fds[1]) != CHIVE_OK) {
    close(fds[0]);
    close(fds[1]);
    return CHIVE_ERR_IO;
  }
  fds_out[0] = fds[0];
  fds_out[1] = fds[1];
  return CHIVE_OK;
}
