/**
 * @file control_auth.c
 * @brief Control-port authentication primitives: cookie, SAFECOOKIE
 * (control-spec §3.24), HashedControlPassword (§5.1), PROTOCOLINFO
 * (§3.21), failed-attempt limiter.  No I/O, no logging.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/control/control_auth.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rand.h"
#include "lib/encoding/base16.h"
#include "lib/encoding/base64.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/text/strbuf.h"

/* ================================================================== */
/* Cookie                                                             */
/* ================================================================== */

chive_err_t
control_auth_cookie_new(uint8_t out[CONTROL_AUTH_COOKIE_LEN])
{
  /* control-spec §5.1: the cookie file holds 32 random bytes. */
  return crypto_rand(out, CONTROL_AUTH_COOKIE_LEN);
}

chive_err_t
control_auth_cookie_from_file(const uint8_t *buf, size_t len,
                              uint8_t out[CONTROL_AUTH_COOKIE_LEN])
{
  if (!buf || len != CONTROL_AUTH_COOKIE_LEN)
    return CHIVE_ERR_PROTO;
  memcpy(out, buf, CONTROL_AUTH_COOKIE_LEN);
  return CHIVE_OK;
}

bool
control_auth_cookie_matches(const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN],
                            const uint8_t *resp, size_t len)
{
  /* The length is not secret; the contents are. */
  if (!resp || len != CONTROL_AUTH_COOKIE_LEN)
    return false;
  return chive_memeq_ct(cookie, resp, CONTROL_AUTH_COOKIE_LEN);
}

chive_err_t
control_auth_token_decode(const char *value, size_t value_len, bool quoted,
                          uint8_t *out, size_t out_len, size_t *n_out)
{
  if (BUG(value == NULL && value_len > 0) || BUG(out == NULL && out_len))
    return CHIVE_ERR_INVAL;
  if (quoted) {
    /* §3.5: "the original password represented as a QuotedString" */
    if (value_len > out_len) {
      chive_memwipe(out, out_len);
      return CHIVE_ERR_LIMIT;
    }
    if (value_len)
      memcpy(out, value, value_len);
    *n_out = value_len;
    return CHIVE_OK;
  }
  /* §3.5: "or as an unquoted hexadecimal encoding of that same string" */
  size_t n = 0;
  chive_err_t e = base16_decode(value, value_len, out, out_len, &n);
  if (e != CHIVE_OK) {
    chive_memwipe(out, out_len);
    return e;
  }
  *n_out = n;
  return CHIVE_OK;
}

/* ================================================================== */
/* SAFECOOKIE                                                         */
/* ================================================================== */

/** Largest CookieString | ClientNonce | ServerNonce message. */
#define SAFECOOKIE_MSG_MAX_LEN                                         \
  (CONTROL_AUTH_COOKIE_LEN + CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN + \
   CONTROL_SAFECOOKIE_NONCE_LEN)

chive_err_t
control_safecookie_compute(
    const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN], const uint8_t *client_nonce,
    size_t client_nonce_len,
    const uint8_t server_nonce[CONTROL_SAFECOOKIE_NONCE_LEN],
    uint8_t server_hash[CONTROL_SAFECOOKIE_HASH_LEN],
    uint8_t client_hash[CONTROL_SAFECOOKIE_HASH_LEN])
{
  uint8_t msg[SAFECOOKIE_MSG_MAX_LEN];

  if (BUG(cookie == NULL || server_nonce == NULL))
    return CHIVE_ERR_INVAL;
  if (client_nonce == NULL || client_nonce_len == 0)
    return CHIVE_ERR_INVAL;
  if (client_nonce_len > CONTROL_SAFECOOKIE_CLIENT_NONCE_MAX_LEN)
    return CHIVE_ERR_LIMIT;

  /* §3.24: CookieString | ClientNonce | ServerNonce */
  size_t n = 0;
  memcpy(msg, cookie, CONTROL_AUTH_COOKIE_LEN);
  n += CONTROL_AUTH_COOKIE_LEN;
  memcpy(msg + n, client_nonce, client_nonce_len);
  n += client_nonce_len;
  memcpy(msg + n, server_nonce, CONTROL_SAFECOOKIE_NONCE_LEN);
  n += CONTROL_SAFECOOKIE_NONCE_LEN;

  /* "with the HMAC key as its first argument": the constant string. */
  if (server_hash)
    crypto_hmac_sha256(CONTROL_SAFECOOKIE_SERVER_KEY,
                       strlen(CONTROL_SAFECOOKIE_SERVER_KEY), msg, n,
                       server_hash);
  if (client_hash)
    crypto_hmac_sha256(CONTROL_SAFECOOKIE_CLIENT_KEY,
                       strlen(CONTROL_SAFECOOKIE_CLIENT_KEY), msg, n,
                       client_hash);
  chive_memwipe(msg, n);
  return CHIVE_OK;
}

chive_err_t
control_safecookie_challenge(
    control_safecookie_t *st, const uint8_t cookie[CONTROL_AUTH_COOKIE_LEN],
    const uint8_t *client_nonce, size_t client_nonce_len,
    uint8_t server_nonce_out[CONTROL_SAFECOOKIE_NONCE_LEN],
    uint8_t server_hash_out[CONTROL_SAFECOOKIE_HASH_LEN])
{
  uint8_t nonce[CONTROL_SAFECOOKIE_NONCE_LEN];
  uint8_t shash[CONTROL_SAFECOOKIE_HASH_LEN];
  uint8_t chash[CONTROL_SAFECOOKIE_HASH_LEN];
  chive_err_t e;

  if (BUG(st == NULL))
    return CHIVE_ERR_INVAL;
  if (st->pending)
    return CHIVE_ERR_INVAL; /* §3.24: "may be used (but only once!)" */
  e = crypto_rand(nonce, sizeof(nonce));
  if (e != CHIVE_OK)
    goto done;
  e = control_safecookie_compute(cookie, client_nonce, client_nonce_len, nonce,
                                 shash, chash);
  if (e != CHIVE_OK)
    goto done;
  /* Commit. */
  memcpy(st->client_hash, chash, sizeof(chash));
  st->pending = true;
  memcpy(server_nonce_out, nonce, sizeof(nonce));
  memcpy(server_hash_out, shash, sizeof(shash));
done:
  chive_memwipe(nonce, sizeof(nonce));
  chive_memwipe(shash, sizeof(shash));
  chive_memwipe(chash, sizeof(chash));
  return e;
}

bool
control_safecookie_verify(control_safecookie_t *st, const uint8_t *resp,
                          size_t len)
{
  bool ok = false;
  if (st->pending && resp && len == CONTROL_SAFECOOKIE_HASH_LEN)
    ok = chive_memeq_ct(st->client_hash, resp, CONTROL_SAFECOOKIE_HASH_LEN);
  control_safecookie_clear(st);
  return ok;
}

void
control_safecookie_clear(control_safecookie_t *st)
{
  chive_memwipe(st, sizeof(*st));
}

chive_err_t
control_safecookie_reply(
    control_outbuf_t *o,
    const uint8_t server_hash[CONTROL_SAFECOOKIE_HASH_LEN],
    const uint8_t server_nonce[CONTROL_SAFECOOKIE_NONCE_LEN])
{
  char hash_hex[2 * CONTROL_SAFECOOKIE_HASH_LEN + 1];
  char nonce_hex[2 * CONTROL_SAFECOOKIE_NONCE_LEN + 1];
  chive_err_t e = base16_encode(server_hash, CONTROL_SAFECOOKIE_HASH_LEN,
                                hash_hex, sizeof(hash_hex), BASE16_UPPER);
  if (e == CHIVE_OK)
    e = base16_encode(server_nonce, CONTROL_SAFECOOKIE_NONCE_LEN, nonce_hex,
                      sizeof(nonce_hex), BASE16_UPPER);
  if (e == CHIVE_OK)
    e = control_reply_printf(o, CONTROL_CODE_OK, CONTROL_SEP_END,
                             "AUTHCHALLENGE SERVERHASH=%s SERVERNONCE=%s",
                             hash_hex, nonce_hex);
  return e;
}

/* ================================================================== */
/* HashedControlPassword                                              */
/* ================================================================== */

/** Bytes of the repeated salt|secret pattern we hand the digest per
 * call (many short updates are slow through EVP). */
#define S2K_CHUNK_LEN 4096

uint32_t
control_s2k_count(uint8_t c)
{
  /* RFC 2440 §3.6.1.3: #define EXPBIAS 6,
   * count = ((Int32)16 + (c & 15)) << ((c >> 4) + EXPBIAS) */
  return ((uint32_t)16 + (c & 15u)) << ((c >> 4) + 6u);
}

chive_err_t
control_s2k_rfc2440(const uint8_t spec[CONTROL_S2K_SPECIFIER_LEN],
                    const uint8_t *secret, size_t secret_len,
                    uint8_t key_out[CONTROL_S2K_KEY_LEN])
{
  chive_err_t e = CHIVE_OK;
  uint8_t *buf = NULL;
  crypto_digest_t *d = NULL;

  if (BUG(spec == NULL) || BUG(secret == NULL && secret_len > 0))
    return CHIVE_ERR_INVAL;
  if (secret_len > CONTROL_PASSWORD_MAX_LEN)
    return CHIVE_ERR_LIMIT;

  /* The hashed stream is salt|secret repeated, cut at count bytes.
   * Like tor (and unlike RFC 2440's "at least once" rule) we stop at
   * exactly count bytes even when salt|secret is longer, so hashes of
   * long passwords match what tor computes. */
  size_t unit = CONTROL_S2K_SALT_LEN + secret_len;
  size_t reps = unit >= S2K_CHUNK_LEN ? 1 : S2K_CHUNK_LEN / unit;
  size_t buf_len = reps * unit;
  buf = chive_malloc(buf_len);
  d = crypto_digest_new(DIGEST_ALG_SHA1);
  if (!buf || !d) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  for (size_t r = 0; r < reps; r++) {
    memcpy(buf + r * unit, spec, CONTROL_S2K_SALT_LEN);
    if (secret_len)
      memcpy(buf + r * unit + CONTROL_S2K_SALT_LEN, secret, secret_len);
  }
  uint64_t count = control_s2k_count(spec[CONTROL_S2K_SALT_LEN]);
  while (count > 0) {
    size_t n = count >= buf_len ? buf_len : (size_t)count;
    crypto_digest_add(d, buf, n);
    count -= n;
  }
  crypto_digest_peek(d, key_out, CONTROL_S2K_KEY_LEN);
done:
  if (buf)
    chive_memwipe(buf, buf_len);
  chive_free(buf);
  crypto_digest_free(d);
  return e;
}

chive_err_t
control_hashed_pw_parse(const char *s, size_t len, control_hashed_pw_t *out)
{
  uint8_t raw[64];
  size_t n = 0;
  chive_err_t e;
  const size_t want = CONTROL_S2K_SPECIFIER_LEN + CONTROL_S2K_KEY_LEN;

  if (!s)
    return CHIVE_ERR_PROTO;
  if (len >= 3 && memcmp(s, "16:", 3) == 0) {
    /* §5.1: "encoded in hexadecimal, prefixed by ... "16:"" */
    if (len - 3 != 2 * want)
      return CHIVE_ERR_PROTO;
    e = base16_decode(s + 3, len - 3, raw, sizeof(raw), &n);
  } else {
    /* tor's decode_hashed_passwords() also takes base64 of the bytes. */
    e = base64_decode(s, len, raw, sizeof(raw), &n);
  }
  if (e != CHIVE_OK || n != want) {
    chive_memwipe(raw, sizeof(raw));
    return CHIVE_ERR_PROTO;
  }
  memcpy(out->spec, raw, CONTROL_S2K_SPECIFIER_LEN);
  memcpy(out->key, raw + CONTROL_S2K_SPECIFIER_LEN, CONTROL_S2K_KEY_LEN);
  chive_memwipe(raw, sizeof(raw));
  return CHIVE_OK;
}

chive_err_t
control_hashed_pw_verify(const control_hashed_pw_t *h, const uint8_t *password,
                         size_t len)
{
  uint8_t key[CONTROL_S2K_KEY_LEN];
  if (BUG(h == NULL))
    return CHIVE_ERR_INVAL;
  chive_err_t e = control_s2k_rfc2440(h->spec, password, len, key);
  if (e == CHIVE_OK && !chive_memeq_ct(key, h->key, sizeof(key)))
    e = CHIVE_ERR_CRYPTO;
  chive_memwipe(key, sizeof(key));
  return e;
}

chive_err_t
control_hashed_pw_new(const uint8_t *password, size_t len, uint8_t count_byte,
                      control_hashed_pw_t *out)
{
  control_hashed_pw_t h;
  chive_err_t e = crypto_rand(h.spec, CONTROL_S2K_SALT_LEN);
  if (e == CHIVE_OK) {
    h.spec[CONTROL_S2K_SALT_LEN] = count_byte;
    e = control_s2k_rfc2440(h.spec, password, len, h.key);
  }
  if (e == CHIVE_OK)
    *out = h;
  chive_memwipe(&h, sizeof(h));
  return e;
}

chive_err_t
control_hashed_pw_format(const control_hashed_pw_t *h, char *out,
                         size_t out_len)
{
  uint8_t raw[CONTROL_S2K_SPECIFIER_LEN + CONTROL_S2K_KEY_LEN];
  if (BUG(h == NULL || out == NULL))
    return CHIVE_ERR_INVAL;
  if (out_len < CONTROL_HASHED_PW_HEX_LEN + 1)
    return CHIVE_ERR_LIMIT;
  memcpy(raw, h->spec, CONTROL_S2K_SPECIFIER_LEN);
  memcpy(raw + CONTROL_S2K_SPECIFIER_LEN, h->key, CONTROL_S2K_KEY_LEN);
  memcpy(out, "16:", 3);
  chive_err_t e =
      base16_encode(raw, sizeof(raw), out + 3, out_len - 3, BASE16_UPPER);
  chive_memwipe(raw, sizeof(raw));
  return e;
}

/* ================================================================== */
/* PROTOCOLINFO                                                       */
/* ================================================================== */

chive_err_t
control_auth_reply_protocolinfo(control_outbuf_t *o, unsigned methods,
                                const char *cookie_path, const char *version)
{
  const bool cookie = (methods & CONTROL_AUTH_METHOD_COOKIE) != 0;
  const bool passwd = (methods & CONTROL_AUTH_METHOD_PASSWORD) != 0;
  control_outbuf_t tmp;
  strbuf_t sb;
  chive_err_t e;

  if (BUG(version == NULL) || BUG(cookie && cookie_path == NULL))
    return CHIVE_ERR_INVAL;
  control_outbuf_init(&tmp, o->max_len - o->len);
  strbuf_init(&sb, o->max_len);

  /* §3.21: AuthLine = "250-AUTH" SP "METHODS=" AuthMethod *("," ...)
   * *(SP "COOKIEFILE=" AuthCookieFile); tor's order. */
  e = strbuf_addstr(&sb, "AUTH METHODS=");
  if (e == CHIVE_OK && cookie)
    e = strbuf_addstr(&sb, passwd ? "COOKIE,SAFECOOKIE,HASHEDPASSWORD"
                                  : "COOKIE,SAFECOOKIE");
  else if (e == CHIVE_OK)
    e = strbuf_addstr(&sb, passwd ? "HASHEDPASSWORD" : "NULL");
  if (e == CHIVE_OK && cookie) {
    e = strbuf_addstr(&sb, " COOKIEFILE=");
    if (e == CHIVE_OK)
      e = control_quote(&sb, cookie_path, strlen(cookie_path));
  }

  if (e == CHIVE_OK)
    e = control_reply_str(&tmp, CONTROL_CODE_OK, CONTROL_SEP_MID,
                          "PROTOCOLINFO 1");
  if (e == CHIVE_OK)
    e = control_reply_line(&tmp, CONTROL_CODE_OK, CONTROL_SEP_MID,
                           strbuf_str(&sb), strbuf_len(&sb));
  if (e == CHIVE_OK) {
    /* VersionLine = "250-VERSION" SP "Tor=" TorVersion OptArguments */
    strbuf_reset(&sb);
    e = strbuf_addstr(&sb, "VERSION Tor=");
    if (e == CHIVE_OK)
      e = control_quote(&sb, version, strlen(version));
    if (e == CHIVE_OK)
      e = control_reply_line(&tmp, CONTROL_CODE_OK, CONTROL_SEP_MID,
                             strbuf_str(&sb), strbuf_len(&sb));
  }
  if (e == CHIVE_OK)
    e = control_reply_ok(&tmp);
  if (e == CHIVE_OK)
    e = control_outbuf_append(o, control_outbuf_data(&tmp),
                              control_outbuf_len(&tmp));
  strbuf_clear(&sb);
  control_outbuf_clear(&tmp);
  return e;
}

/* ================================================================== */
/* Failed-attempt limiter                                             */
/* ================================================================== */

void
control_auth_limiter_init(control_auth_limiter_t *l, uint32_t burst,
                          uint32_t refill_ms, uint64_t now_ms)
{
  l->burst = burst ? burst : CONTROL_AUTH_FAIL_BURST;
  l->refill_ms = refill_ms ? refill_ms : CONTROL_AUTH_FAIL_REFILL_MS;
  l->tokens = l->burst;
  l->last_ms = now_ms;
}

/** Bring the bucket up to date at <b>now_ms</b>. */
static void
limiter_refill(control_auth_limiter_t *l, uint64_t now_ms)
{
  if (l->tokens >= l->burst || now_ms < l->last_ms) {
    /* Full (the refill clock starts at the next failure), or time went
     * backwards (a caller bug; do not hand out tokens for it). */
    if (l->tokens >= l->burst)
      l->last_ms = now_ms;
    return;
  }
  uint64_t add = (now_ms - l->last_ms) / l->refill_ms;
  if (add == 0)
    return;
  if (add >= (uint64_t)(l->burst - l->tokens)) {
    l->tokens = l->burst;
    l->last_ms = now_ms;
  } else {
    l->tokens += (uint32_t)add;
    l->last_ms += add * l->refill_ms;
  }
}

bool
control_auth_limiter_allow(control_auth_limiter_t *l, uint64_t now_ms)
{
  limiter_refill(l, now_ms);
  return l->tokens > 0;
}

void
control_auth_limiter_note_failure(control_auth_limiter_t *l, uint64_t now_ms)
{
  limiter_refill(l, now_ms);
  if (l->tokens > 0)
    l->tokens--;
}

uint64_t
control_auth_limiter_wait_ms(control_auth_limiter_t *l, uint64_t now_ms)
{
  limiter_refill(l, now_ms);
  if (l->tokens > 0)
    return 0;
  uint64_t next = l->last_ms + l->refill_ms;
  return next > now_ms ? next - now_ms : 0;
}
