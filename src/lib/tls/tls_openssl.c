/**
 * @file tls_openssl.c
 * @brief The OpenSSL 3 backend of the TLS filter, over memory BIOs.
 *
 * The SSL object reads ciphertext from one memory BIO (filled by
 * tls_conn_feed) and writes ciphertext to another (emptied by
 * tls_conn_drain), so this file never sees a socket.  Client
 * connections: TLS 1.2 or 1.3, no certificate verification by OpenSSL
 * (Tor's CERTS cell does that, tor-spec §4.2), SNI set to a random
 * plausible host name unless the caller gives one.
 **/
#include "lib/cc/compat.h"

#include <limits.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/tls/tls.h"
#include "lib/tls/tls_openssl_int.h"

typedef struct tls_ossl_t {
  tls_conn_t base; /**< must be first */
  SSL_CTX *ctx;
  SSL *ssl;
  BIO *rbio; /**< network -> SSL (owned by ssl) */
  BIO *wbio; /**< SSL -> network (owned by ssl) */
  char errbuf[160];
} tls_ossl_t;

static const tls_vtable_t ossl_vtable;

static tls_ossl_t *
to_ossl(const tls_conn_t *c)
{
  CHIVE_ASSERT(c->vt == &ossl_vtable);
  return (tls_ossl_t *)(uintptr_t)c;
}

/** Remember the first queued OpenSSL error (or <b>what</b>) for logs. */
static void
note_error(tls_ossl_t *t, const char *what)
{
  unsigned long e = ERR_peek_error();
  if (e)
    ERR_error_string_n(e, t->errbuf, sizeof(t->errbuf));
  else
    snprintf(t->errbuf, sizeof(t->errbuf), "%s", what);
  ERR_clear_error();
}

/** Map the result of an SSL I/O call. */
static chive_err_t
map_ssl_error(tls_ossl_t *t, int ret, const char *what)
{
  int e = SSL_get_error(t->ssl, ret);
  switch (e) {
  case SSL_ERROR_WANT_READ:
  case SSL_ERROR_WANT_WRITE:
    return CHIVE_ERR_TRUNCATED;
  case SSL_ERROR_ZERO_RETURN:
    snprintf(t->errbuf, sizeof(t->errbuf), "%s: close_notify", what);
    return CHIVE_ERR_CLOSED;
  case SSL_ERROR_SSL:
    note_error(t, what);
    return CHIVE_ERR_CRYPTO;
  default:
    note_error(t, what);
    return CHIVE_ERR_PROTO;
  }
}

static chive_err_t
ossl_connect(tls_conn_t *c)
{
  tls_ossl_t *t = to_ossl(c);
  ERR_clear_error();
  int r = SSL_do_handshake(t->ssl);
  if (r == 1)
    return CHIVE_OK;
  return map_ssl_error(t, r, "handshake");
}

static chive_err_t
ossl_recv(tls_conn_t *c, uint8_t *out, size_t len, size_t *n_out)
{
  tls_ossl_t *t = to_ossl(c);
  size_t n = 0;
  ERR_clear_error();
  int r = SSL_read_ex(t->ssl, out, len, &n);
  if (r == 1) {
    *n_out = n;
    return CHIVE_OK;
  }
  return map_ssl_error(t, r, "read");
}

static chive_err_t
ossl_send(tls_conn_t *c, const uint8_t *in, size_t len)
{
  tls_ossl_t *t = to_ossl(c);
  while (len > 0) {
    size_t n = 0;
    ERR_clear_error();
    int r = SSL_write_ex(t->ssl, in, len, &n);
    if (r != 1) {
      chive_err_t err = map_ssl_error(t, r, "write");
      /* A memory BIO never blocks on output; a WANT_READ here would mean
       * a renegotiation we do not support. */
      return err == CHIVE_ERR_TRUNCATED ? CHIVE_ERR_PROTO : err;
    }
    in += n;
    len -= n;
  }
  return CHIVE_OK;
}

static size_t
ossl_pending(const tls_conn_t *c)
{
  int n = SSL_pending(to_ossl(c)->ssl);
  return n > 0 ? (size_t)n : 0;
}

static void
ossl_close(tls_conn_t *c)
{
  tls_ossl_t *t = to_ossl(c);
  ERR_clear_error();
  (void)SSL_shutdown(t->ssl);
  ERR_clear_error();
}

static chive_err_t
ossl_peer_cert(const tls_conn_t *c, uint8_t **der_out, size_t *len_out)
{
  tls_ossl_t *t = to_ossl(c);
  X509 *cert = SSL_get0_peer_certificate(t->ssl);
  if (!cert)
    return CHIVE_ERR_NOTFOUND;
  int n = i2d_X509(cert, NULL);
  if (n <= 0)
    return CHIVE_ERR_CRYPTO;
  uint8_t *der = chive_malloc((size_t)n);
  if (!der)
    return CHIVE_ERR_NOMEM;
  uint8_t *p = der;
  if (i2d_X509(cert, &p) != n) {
    chive_free(der);
    return CHIVE_ERR_CRYPTO;
  }
  *der_out = der;
  *len_out = (size_t)n;
  return CHIVE_OK;
}

static chive_err_t
ossl_export(const tls_conn_t *c, uint8_t *out, size_t out_len,
            const char *label, const uint8_t *context, size_t context_len)
{
  tls_ossl_t *t = to_ossl(c);
  ERR_clear_error();
  if (SSL_export_keying_material(t->ssl, out, out_len, label, strlen(label),
                                 context, context_len, 1) != 1) {
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  return CHIVE_OK;
}

static chive_err_t
ossl_feed(tls_conn_t *c, const uint8_t *in, size_t len)
{
  tls_ossl_t *t = to_ossl(c);
  size_t pending = BIO_ctrl_pending(t->rbio);
  if (len > TLS_FEED_MAX_PENDING || pending > TLS_FEED_MAX_PENDING - len)
    return CHIVE_ERR_LIMIT;
  int r = BIO_write(t->rbio, in, (int)len);
  if (r != (int)len)
    return CHIVE_ERR_NOMEM;
  return CHIVE_OK;
}

static chive_err_t
ossl_drain(tls_conn_t *c, uint8_t *out, size_t cap, size_t *n_out)
{
  tls_ossl_t *t = to_ossl(c);
  *n_out = 0;
  if (BIO_ctrl_pending(t->wbio) == 0 || cap == 0)
    return CHIVE_OK;
  int want = cap > INT_MAX ? INT_MAX : (int)cap;
  int r = BIO_read(t->wbio, out, want);
  if (r > 0)
    *n_out = (size_t)r;
  return CHIVE_OK;
}

static size_t
ossl_wants_write(const tls_conn_t *c)
{
  return BIO_ctrl_pending(to_ossl(c)->wbio);
}

static const char *
ossl_version_name(const tls_conn_t *c)
{
  return SSL_get_version(to_ossl(c)->ssl);
}

static const char *
ossl_cipher_name(const tls_conn_t *c)
{
  const char *n = SSL_get_cipher_name(to_ossl(c)->ssl);
  return n ? n : "(none)";
}

static const char *
ossl_error_string(const tls_conn_t *c)
{
  return to_ossl(c)->errbuf;
}

static void
ossl_free(tls_conn_t *c)
{
  tls_ossl_t *t = to_ossl(c);
  SSL_free(t->ssl); /* frees both BIOs */
  SSL_CTX_free(t->ctx);
  chive_free(t);
}

static const tls_vtable_t ossl_vtable = {
    "openssl",          ossl_connect,      ossl_recv,    ossl_send,
    ossl_pending,       ossl_close,        ossl_peer_cert, ossl_export,
    ossl_feed,          ossl_drain,        ossl_wants_write,
    ossl_version_name,  ossl_cipher_name,  ossl_error_string,
    ossl_free,
};

const tls_vtable_t *
tls_default_backend(void)
{
  return &ossl_vtable;
}

/** Allocate the connection, its SSL and its memory BIOs on <b>ctx</b>
 * (ownership of ctx passes to the connection, even on failure). */
static chive_err_t
ossl_conn_new(SSL_CTX *ctx, tls_ossl_t **out)
{
  tls_ossl_t *t = chive_zalloc(sizeof(*t));
  if (!t) {
    SSL_CTX_free(ctx);
    return CHIVE_ERR_NOMEM;
  }
  t->base.vt = &ossl_vtable;
  t->ctx = ctx;
  t->ssl = SSL_new(ctx);
  BIO *rbio = BIO_new(BIO_s_mem());
  BIO *wbio = BIO_new(BIO_s_mem());
  if (!t->ssl || !rbio || !wbio) {
    BIO_free(rbio);
    BIO_free(wbio);
    SSL_free(t->ssl);
    SSL_CTX_free(ctx);
    chive_free(t);
    ERR_clear_error();
    return CHIVE_ERR_NOMEM;
  }
  /* An empty input BIO means "retry later", not EOF. */
  BIO_set_mem_eof_return(rbio, -1);
  SSL_set_bio(t->ssl, rbio, wbio);
  t->rbio = rbio;
  t->wbio = wbio;
  *out = t;
  return CHIVE_OK;
}

/* see tls.h */
chive_err_t
tls_client_new(const tls_client_config_t *cfg, tls_conn_t **out)
{
  char sni[TLS_SNI_MAX_LEN];
  tls_ossl_t *t = NULL;
  chive_err_t err;

  if (cfg && cfg->sni) {
    if (strlen(cfg->sni) >= sizeof(sni))
      return CHIVE_ERR_INVAL;
    snprintf(sni, sizeof(sni), "%s", cfg->sni);
  } else {
    err = tls_random_hostname(sni, sizeof(sni));
    if (err)
      return err;
  }
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (!ctx) {
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  /* No chain validation: self-signed relay certs are normal; the CERTS
   * cell authenticates the relay (tor-spec §2, §4.2). */
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1) {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_NO_COMPRESSION);
  err = ossl_conn_new(ctx, &t);
  if (err)
    return err;
  SSL_set_connect_state(t->ssl);
  if (sni[0] && SSL_set_tlsext_host_name(t->ssl, sni) != 1) {
    ossl_free(&t->base);
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  *out = &t->base;
  return CHIVE_OK;
}

/* see tls_openssl_int.h */
chive_err_t
tls_openssl_server_new(X509 *cert, EVP_PKEY *key, tls_conn_t **out)
{
  tls_ossl_t *t = NULL;
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  if (!ctx) {
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate(ctx, cert) != 1 ||
      SSL_CTX_use_PrivateKey(ctx, key) != 1 ||
      SSL_CTX_check_private_key(ctx) != 1) {
    SSL_CTX_free(ctx);
    ERR_clear_error();
    return CHIVE_ERR_CRYPTO;
  }
  SSL_CTX_set_options(ctx, SSL_OP_NO_TICKET | SSL_OP_NO_RENEGOTIATION);
  chive_err_t err = ossl_conn_new(ctx, &t);
  if (err)
    return err;
  SSL_set_accept_state(t->ssl);
  *out = &t->base;
  return CHIVE_OK;
}
