/**
 * @file socket.h
 * @brief Nonblocking TCP sockets: connect, listen, accept, read, write.
 *
 * Thin, errno-free wrappers: every call returns chive_err_t, with
 * CHIVE_ERR_TRUNCATED meaning "would block, try again when the socket is
 * ready" (the streaming meaning of TRUNCATED).  Sockets are plain file
 * descriptors (int) so the event loop glue can watch them.  All sockets
 * created here are nonblocking and close-on-exec; SIGPIPE is avoided with
 * MSG_NOSIGNAL.
 **/
#ifndef CHIVE_LIB_NET_SOCKET_H
#define CHIVE_LIB_NET_SOCKET_H

#include <stddef.h>
#include <stdint.h>

#include "lib/net/address.h"

/** The invalid socket value. */
#define NET_SOCKET_INVALID (-1)
/** Backlog used by net_listen() when given 0. */
#define NET_LISTEN_BACKLOG_DEFAULT 64

/** Start a nonblocking TCP connect to <b>ap</b>.  On success set
 * *<b>fd_out</b> to a new socket (caller closes with net_close()) whose
 * connect may still be in progress: wait for writability, then call
 * net_connect_finish().  Errors: CHIVE_ERR_INVAL (bad address),
 * CHIVE_ERR_IO (socket/connect failed at once). */
CHIVE_MUST_CHECK chive_err_t net_connect(const net_addrport_t *ap,
                                         int *fd_out);
/** After <b>fd</b> became writable, return CHIVE_OK if the connect
 * succeeded, CHIVE_ERR_TRUNCATED if it is still in progress, and
 * CHIVE_ERR_IO if it failed (the OS error is stored in *<b>os_err_out</b>
 * if not NULL). */
CHIVE_MUST_CHECK chive_err_t net_connect_finish(int fd, int *os_err_out);

/** Create a nonblocking listening TCP socket bound to <b>ap</b> (port 0
 * picks a free port).  On success set *<b>fd_out</b> and, if
 * <b>bound_out</b> is not NULL, the actual bound address.  <b>backlog</b>
 * 0 means NET_LISTEN_BACKLOG_DEFAULT. */
CHIVE_MUST_CHECK chive_err_t net_listen(const net_addrport_t *ap,
                                        int backlog, int *fd_out,
                                        net_addrport_t *bound_out);
/** Accept one connection from listener <b>lfd</b>.  On success set
 * *<b>fd_out</b> (nonblocking) and, if not NULL, *<b>peer_out</b>.
 * CHIVE_ERR_TRUNCATED when none is pending. */
CHIVE_MUST_CHECK chive_err_t net_accept(int lfd, int *fd_out,
                                        net_addrport_t *peer_out);

/** Read up to <b>len</b> bytes.  CHIVE_OK with *<b>n_out</b> > 0 on data;
 * CHIVE_ERR_CLOSED on orderly EOF; CHIVE_ERR_TRUNCATED when it would
 * block; CHIVE_ERR_IO on error. */
CHIVE_MUST_CHECK chive_err_t net_read(int fd, uint8_t *buf, size_t len,
                                      size_t *n_out);
/** Write up to <b>len</b> bytes.  CHIVE_OK with *<b>n_out</b> written
 * (maybe fewer than len); CHIVE_ERR_TRUNCATED when nothing could be
 * written now; CHIVE_ERR_IO on error (including a reset peer). */
CHIVE_MUST_CHECK chive_err_t net_write(int fd, const uint8_t *buf,
                                       size_t len, size_t *n_out);

/** Return the local address of connected socket <b>fd</b>. */
CHIVE_MUST_CHECK chive_err_t net_local_addr(int fd, net_addrport_t *out);

/** Close <b>fd</b> (NET_SOCKET_INVALID is a no-op). */
void net_close(int fd);

/** Create a connected pair of nonblocking stream sockets (AF_UNIX), for
 * tests and in-process plumbing. */
CHIVE_MUST_CHECK chive_err_t net_socketpair(int fds_out[2]);

#endif /* !defined(CHIVE_LIB_NET_SOCKET_H) */
