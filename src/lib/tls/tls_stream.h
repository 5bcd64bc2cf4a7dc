/**
 * @file tls_stream.h
 * @brief A TLS connection over a nonblocking TCP socket, driven by a
 * libevent event_base: the I/O glue between lib/net, the TLS filter
 * (tls.h) and bounded byte queues (lib/buf).
 *
 * The owner sees plaintext only: received bytes accumulate in a bounded
 * input buf_t (tls_stream_inbuf()); bytes to send go through
 * tls_stream_write(), which encrypts at once and queues ciphertext in a
 * bounded output queue that drains as the socket allows.  When the input
 * queue is full the stream stops reading the socket (back-pressure) until
 * the owner calls tls_stream_resume().
 *
 * Callbacks run from the event loop only, never from inside a
 * tls_stream_* call.  After on_error no further callback runs.  The owner
 * may call tls_stream_write()/tls_stream_resume()/tls_stream_free() from
 * inside a callback (free is deferred until the callback returns).
 *
 * Threading: every call on the event loop's thread.
 **/
#ifndef CHIVE_LIB_TLS_TLS_STREAM_H
#define CHIVE_LIB_TLS_TLS_STREAM_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/buf/buf.h"
#include "lib/cc/cc.h"
#include "lib/net/address.h"
#include "lib/tls/tls.h"

struct event_base;
typedef struct tls_stream_t tls_stream_t;

/** Bytes read from the socket per read(2) call. */
#define TLS_STREAM_READ_CHUNK_LEN 16384
/** Default bound on received plaintext waiting for the owner, bytes. */
#define TLS_STREAM_DEFAULT_IN_MAX (128 * 1024)
/** Default bound on ciphertext waiting for the socket, bytes. */
#define TLS_STREAM_DEFAULT_OUT_MAX (512 * 1024)

typedef struct tls_stream_callbacks_t {
  /** The TLS handshake completed; tls_stream_write() is now allowed. */
  void (*on_open)(tls_stream_t *s, void *arg);
  /** New plaintext was appended to tls_stream_inbuf(s). */
  void (*on_readable)(tls_stream_t *s, void *arg);
  /** The stream failed or ended: CHIVE_ERR_CLOSED (peer closed: EOF or
   * close_notify), CHIVE_ERR_IO (socket/connect error), CHIVE_ERR_CRYPTO
   * or CHIVE_ERR_PROTO (TLS failure), CHIVE_ERR_NOMEM.  Terminal. */
  void (*on_error)(tls_stream_t *s, chive_err_t err, void *arg);
  /** Optional: the output queue, after being non-empty, was fully handed
   * to the kernel (a writer that hit CHIVE_ERR_LIMIT may resume). */
  void (*on_drained)(tls_stream_t *s, void *arg);
} tls_stream_callbacks_t;

/** Queue limits; zero fields take the defaults. */
typedef struct tls_stream_limits_t {
  size_t in_max;
  size_t out_max;
} tls_stream_limits_t;

/** Start connecting to <b>ap</b> over TCP, then TLS as a client with
 * <b>cfg</b> (may be NULL).  <b>base</b>, <b>cbs</b> and <b>arg</b> are
 * borrowed and must outlive the stream.  On success set *<b>out</b>
 * (free with tls_stream_free()); progress is reported by callbacks.
 * Errors: CHIVE_ERR_INVAL, CHIVE_ERR_IO (connect failed at once),
 * CHIVE_ERR_NOMEM, CHIVE_ERR_CRYPTO. */
CHIVE_MUST_CHECK chive_err_t tls_stream_connect(
    struct event_base *base, const net_addrport_t *ap,
    const tls_client_config_t *cfg, const tls_stream_limits_t *lim,
    const tls_stream_callbacks_t *cbs, void *arg, tls_stream_t **out);

/** Wrap an already connected socket <b>fd</b> and a TLS engine
 * <b>tls</b> (client or server side).  Takes ownership of both, even on
 * failure.  Used by tests (fake relays) and by tls_stream_connect(). */
CHIVE_MUST_CHECK chive_err_t tls_stream_new_from_fd(
    struct event_base *base, int fd, tls_conn_t *tls,
    const tls_stream_limits_t *lim, const tls_stream_callbacks_t *cbs,
    void *arg, tls_stream_t **out);

/** Release <b>s</b>: close the socket without waiting; no callback runs
 * afterwards.  NULL is a no-op.  Safe inside a callback of <b>s</b>. */
void tls_stream_free_(tls_stream_t *s);
#define tls_stream_free(s) \
  CHIVE_FREE_AND_NULL(tls_stream_t, tls_stream_free_, (s))

/** The received-plaintext queue (borrowed; the owner drains it). */
buf_t *tls_stream_inbuf(tls_stream_t *s);
/** Tell the stream the owner consumed input: resume reading if the queue
 * had filled up.  Cheap; call after draining. */
void tls_stream_resume(tls_stream_t *s);

/** Encrypt and queue <b>len</b> bytes.  CHIVE_ERR_LIMIT (nothing
 * queued) if the output queue cannot take them now; CHIVE_ERR_INVAL
 * before on_open; CHIVE_ERR_CLOSED after an error or close. */
CHIVE_MUST_CHECK chive_err_t tls_stream_write(tls_stream_t *s,
                                              const uint8_t *data,
                                              size_t len);
/** Ciphertext bytes not yet handed to the kernel. */
size_t tls_stream_out_len(const tls_stream_t *s);
/** Room left in the output queue, in bytes (approximate plaintext room:
 * TLS adds a small per-record overhead). */
size_t tls_stream_out_room(const tls_stream_t *s);

/** Send close_notify, flush what the socket takes now, and stop reading.
 * No callbacks run afterwards.  Free the stream later. */
void tls_stream_close(tls_stream_t *s);

/** The TLS engine (borrowed), e.g. for tls_conn_peer_cert(). */
tls_conn_t *tls_stream_tls(tls_stream_t *s);
/** The socket's local address (our side), if known. */
CHIVE_MUST_CHECK chive_err_t tls_stream_local_addr(const tls_stream_t *s,
                                                   net_addrport_t *out);
/** Total bytes received/sent on the socket (ciphertext). */
uint64_t tls_stream_bytes_read(const tls_stream_t *s);
uint64_t tls_stream_bytes_written(const tls_stream_t *s);

#endif /* !defined(CHIVE_LIB_TLS_TLS_STREAM_H) */
