/**
 * @file tls.c
 * @brief Backend-independent dispatch for the TLS filter (see tls.h).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/tls/tls.h"

/** Record <b>err</b> as sticky if it is a hard error (not "would block"
 * and not "input queue full"); return it. */
static chive_err_t
stick(tls_conn_t *c, chive_err_t err)
{
  if (err != CHIVE_OK && err != CHIVE_ERR_TRUNCATED &&
      err != CHIVE_ERR_LIMIT && c->sticky_err == CHIVE_OK)
    c->sticky_err = err;
  return err;
}

/* see tls.h */
void
tls_conn_free_(tls_conn_t *c)
{
  if (!c)
    return;
  c->vt->free(c);
}

/* see tls.h */
chive_err_t
tls_conn_connect(tls_conn_t *c)
{
  if (c->sticky_err)
    return c->sticky_err;
  if (c->handshake_done)
    return CHIVE_OK;
  chive_err_t err = c->vt->connect(c);
  if (err == CHIVE_OK)
    c->handshake_done = true;
  return stick(c, err);
}

/* see tls.h */
chive_err_t
tls_conn_recv(tls_conn_t *c, uint8_t *out, size_t len, size_t *n_out)
{
  if (c->sticky_err)
    return c->sticky_err;
  if (BUG(!c->handshake_done) || BUG(len == 0))
    return CHIVE_ERR_INVAL;
  return stick(c, c->vt->recv(c, out, len, n_out));
}

/* see tls.h */
chive_err_t
tls_conn_send(tls_conn_t *c, const uint8_t *in, size_t len)
{
  if (c->sticky_err)
    return c->sticky_err;
  if (BUG(!c->handshake_done))
    return CHIVE_ERR_INVAL;
  if (len == 0)
    return CHIVE_OK;
  return stick(c, c->vt->send(c, in, len));
}

size_t
tls_conn_pending(const tls_conn_t *c)
{
  return c->sticky_err ? 0 : c->vt->pending(c);
}

void
tls_conn_close(tls_conn_t *c)
{
  if (!c->sticky_err)
    c->vt->close(c);
}

/* see tls.h */
chive_err_t
tls_conn_peer_cert(const tls_conn_t *c, uint8_t **der_out, size_t *len_out)
{
  if (!c->handshake_done)
    return CHIVE_ERR_INVAL;
  return c->vt->peer_cert(c, der_out, len_out);
}

/* see tls.h */
chive_err_t
tls_conn_export_keying_material(const tls_conn_t *c, uint8_t *out,
                                size_t out_len, const char *label,
                                const uint8_t *context, size_t context_len)
{
  if (!c->handshake_done || out_len == 0 || out_len > TLS_EXPORT_MAX_LEN)
    return CHIVE_ERR_INVAL;
  return c->vt->export_keying_material(c, out, out_len, label, context,
                                       context_len);
}

/* see tls.h */
chive_err_t
tls_conn_feed(tls_conn_t *c, const uint8_t *in, size_t len)
{
  if (c->sticky_err)
    return c->sticky_err;
  if (len == 0)
    return CHIVE_OK;
  return stick(c, c->vt->feed(c, in, len));
}

/* see tls.h */
chive_err_t
tls_conn_drain(tls_conn_t *c, uint8_t *out, size_t cap, size_t *n_out)
{
  /* Draining stays possible after an error, so a fatal alert the engine
   * queued can still reach the peer. */
  return c->vt->drain(c, out, cap, n_out);
}

size_t
tls_conn_wants_write(const tls_conn_t *c)
{
  return c->vt->wants_write(c);
}

bool
tls_conn_handshake_done(const tls_conn_t *c)
{
  return c->handshake_done;
}

const char *
tls_conn_version_name(const tls_conn_t *c)
{
  return c->vt->version_name(c);
}

const char *
tls_conn_cipher_name(const tls_conn_t *c)
{
  return c->vt->cipher_name(c);
}

const char *
tls_conn_error_string(const tls_conn_t *c)
{
  return c->vt->error_string(c);
}

/* see tls.h */
chive_err_t
tls_random_hostname(char *out, size_t cap)
{
  static const char b32[] = "abcdefghijklmnopqrstuvwxyz234567";
  uint8_t r[21];
  if (cap < TLS_SNI_MAX_LEN)
    return CHIVE_ERR_INVAL;
  if (crypto_rand(r, sizeof(r)) != CHIVE_OK)
    return CHIVE_ERR_CRYPTO;
  /* Length 8..20 of random base32, like tor's crypto_random_hostname(). */
  size_t n = 8 + (size_t)(r[0] % 13);
  memcpy(out, "www.", 4);
  for (size_t i = 0; i < n; i++)
    out[4 + i] = b32[r[1 + i] & 31];
  memcpy(out + 4 + n, ".com", 5);
  return CHIVE_OK;
}
