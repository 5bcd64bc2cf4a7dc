/**
 * @file tls.h
 * @brief TLS as a filter with a vtable (STYLE §2.9): a sans-I/O TLS
 * engine that turns ciphertext into plaintext and back.
 *
 * A tls_conn_t never touches a socket.  The glue (tls_stream.h, or a test)
 * moves ciphertext: bytes read from the network go in with
 * tls_conn_feed(); bytes the engine wants sent come out with
 * tls_conn_drain() (check tls_conn_wants_write()).  Between those, the
 * owner calls tls_conn_connect() until the handshake is done, then
 * tls_conn_recv()/tls_conn_send() for application data.  This is curl's
 * filter idea on BearSSL's engine shape: a second backend (mbedTLS,
 * BearSSL) for small targets is one more file implementing the vtable.
 *
 * Tor specifics: there is no certificate-chain validation at this layer.
 * Tor relays present self-signed certificates and authenticity comes from
 * the CERTS cell (tor-spec §4.2), which binds the SHA-256 of the leaf
 * certificate the TLS layer saw (tls_conn_peer_cert()).  The exporter
 * (RFC 5705) is available for link authentication (tor-spec §4.4.2).
 *
 * Error convention: CHIVE_ERR_TRUNCATED means "would block": feed more
 * ciphertext (or drain what is pending) and call again;
 * CHIVE_ERR_LIMIT from tls_conn_feed() means "engine input full, let it
 * consume first".  Any other error is sticky: every later call returns
 * it.
 **/
#ifndef CHIVE_LIB_TLS_TLS_H
#define CHIVE_LIB_TLS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

typedef struct tls_conn_t tls_conn_t;

/** Most bytes of ciphertext tls_conn_feed() accepts while the engine has
 * not consumed earlier input: bounds memory held by the engine. */
#define TLS_FEED_MAX_PENDING (64 * 1024)
/** Longest SNI host name we generate, with NUL. */
#define TLS_SNI_MAX_LEN 64
/** Longest exporter output we support, bytes. */
#define TLS_EXPORT_MAX_LEN 64

/** Client options.  Zero-initialise, then set what you need. */
typedef struct tls_client_config_t {
  /** Server name to send in SNI.  NULL: invent a random, plausible
   * "www.<random>.com" as tor does, so the hello carries no stable tag;
   * "" sends no SNI at all. */
  const char *sni;
} tls_client_config_t;

/** The backend interface.  Each backend lives in one file. */
typedef struct tls_vtable_t {
  const char *name;
  /** Advance the client handshake.  OK when complete; TRUNCATED while it
   * needs more input; CRYPTO/PROTO on failure. */
  chive_err_t (*connect)(tls_conn_t *c);
  /** Read up to len plaintext bytes into out; *n_out > 0 on OK.
   * TRUNCATED: nothing available; CLOSED: peer sent close_notify. */
  chive_err_t (*recv)(tls_conn_t *c, uint8_t *out, size_t len,
                      size_t *n_out);
  /** Encrypt all len bytes (the ciphertext is queued for drain). */
  chive_err_t (*send)(tls_conn_t *c, const uint8_t *in, size_t len);
  /** Plaintext bytes decrypted and buffered inside the engine. */
  size_t (*pending)(const tls_conn_t *c);
  /** Queue a close_notify alert (best effort). */
  void (*close)(tls_conn_t *c);
  /** Copy the peer's leaf certificate (DER) into a new chive_malloc'd
   * buffer. */
  chive_err_t (*peer_cert)(const tls_conn_t *c, uint8_t **der_out,
                           size_t *len_out);
  /** RFC 5705 exporter. */
  chive_err_t (*export_keying_material)(const tls_conn_t *c, uint8_t *out,
                                        size_t out_len, const char *label,
                                        const uint8_t *context,
                                        size_t context_len);
  /** Give ciphertext received from the network to the engine. */
  chive_err_t (*feed)(tls_conn_t *c, const uint8_t *in, size_t len);
  /** Take up to cap bytes of ciphertext to send; *n_out may be 0. */
  chive_err_t (*drain)(tls_conn_t *c, uint8_t *out, size_t cap,
                       size_t *n_out);
  /** Ciphertext bytes waiting to be drained. */
  size_t (*wants_write)(const tls_conn_t *c);
  /** Negotiated protocol ("TLSv1.3") and cipher, for logs. */
  const char *(*version_name)(const tls_conn_t *c);
  const char *(*cipher_name)(const tls_conn_t *c);
  /** A short description of the last backend error ("" if none). */
  const char *(*error_string)(const tls_conn_t *c);
  void (*free)(tls_conn_t *c);
} tls_vtable_t;

/** Every backend's connection struct starts with this. */
struct tls_conn_t {
  const tls_vtable_t *vt;
  chive_err_t sticky_err; /**< first hard error, or CHIVE_OK */
  bool handshake_done;
};

/** Return the default backend (OpenSSL 3). */
const tls_vtable_t *tls_default_backend(void);

/** Create a client connection with the default backend.  On success set
 * *<b>out</b> (free with tls_conn_free()).  CHIVE_ERR_NOMEM,
 * CHIVE_ERR_CRYPTO (backend failed to initialise). */
CHIVE_MUST_CHECK chive_err_t tls_client_new(const tls_client_config_t *cfg,
                                            tls_conn_t **out);

/** Free <b>c</b> (NULL is a no-op).  Does not send close_notify. */
void tls_conn_free_(tls_conn_t *c);
#define tls_conn_free(c) CHIVE_FREE_AND_NULL(tls_conn_t, tls_conn_free_, (c))

/* Dispatchers: see the vtable for the contracts.  They add the sticky
 * error and state checks (INVAL and BUG() on misuse). */
CHIVE_MUST_CHECK chive_err_t tls_conn_connect(tls_conn_t *c);
CHIVE_MUST_CHECK chive_err_t tls_conn_recv(tls_conn_t *c, uint8_t *out,
                                           size_t len, size_t *n_out);
CHIVE_MUST_CHECK chive_err_t tls_conn_send(tls_conn_t *c, const uint8_t *in,
                                           size_t len);
size_t tls_conn_pending(const tls_conn_t *c);
void tls_conn_close(tls_conn_t *c);
CHIVE_MUST_CHECK chive_err_t tls_conn_peer_cert(const tls_conn_t *c,
                                                uint8_t **der_out,
                                                size_t *len_out);
CHIVE_MUST_CHECK chive_err_t tls_conn_export_keying_material(
    const tls_conn_t *c, uint8_t *out, size_t out_len, const char *label,
    const uint8_t *context, size_t context_len);
CHIVE_MUST_CHECK chive_err_t tls_conn_feed(tls_conn_t *c, const uint8_t *in,
                                           size_t len);
CHIVE_MUST_CHECK chive_err_t tls_conn_drain(tls_conn_t *c, uint8_t *out,
                                            size_t cap, size_t *n_out);
size_t tls_conn_wants_write(const tls_conn_t *c);
bool tls_conn_handshake_done(const tls_conn_t *c);
const char *tls_conn_version_name(const tls_conn_t *c);
const char *tls_conn_cipher_name(const tls_conn_t *c);
/** A short description of the last backend error, for logs (never NULL;
 * "" if none; contains no peer-controlled text). */
const char *tls_conn_error_string(const tls_conn_t *c);

/** Write a random plausible host name "www.<8-20 base32 chars>.com" into
 * <b>out</b> (<b>cap</b> >= TLS_SNI_MAX_LEN). */
CHIVE_MUST_CHECK chive_err_t tls_random_hostname(char *out, size_t cap);

#endif /* !defined(CHIVE_LIB_TLS_TLS_H) */
