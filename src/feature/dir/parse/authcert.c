/**
 * @file authcert.c
 * @brief Authority key certificates (dir-spec §3.1).  See authcert.h.
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/authcert.h"

#include <string.h>

#include "feature/dir/parse/dirtok.h"
#include "lib/crypto/digest.h"
#include "lib/err/err.h"

enum {
  C_VERSION = 0, C_ADDRESS, C_FINGERPRINT, C_IDENTITY_KEY, C_PUBLISHED,
  C_EXPIRES, C_SIGNING_KEY, C_CROSSCERT, C_CERTIFICATION
};
/* dir-spec §3.1. */
static const dirtok_rule_t CERT_RULES[] = {
  [C_VERSION] = DIRTOK_T1_START("dir-key-certificate-version", 1,
                                DIRTOK_ANY, DIRTOK_OBJ_FORBIDDEN),
  [C_ADDRESS] = DIRTOK_T01("dir-address", 1, DIRTOK_ANY,
                           DIRTOK_OBJ_FORBIDDEN),
  [C_FINGERPRINT] = DIRTOK_T1("fingerprint", 1, DIRTOK_ANY,
                              DIRTOK_OBJ_FORBIDDEN),
  [C_IDENTITY_KEY] = DIRTOK_T1("dir-identity-key", 0, 0,
                               DIRTOK_OBJ_REQUIRED),
  [C_PUBLISHED] = DIRTOK_T1("dir-key-published", 2, DIRTOK_ANY,
                            DIRTOK_OBJ_FORBIDDEN),
  [C_EXPIRES] = DIRTOK_T1("dir-key-expires", 2, DIRTOK_ANY,
                          DIRTOK_OBJ_FORBIDDEN),
  [C_SIGNING_KEY] = DIRTOK_T1("dir-signing-key", 0, 0, DIRTOK_OBJ_REQUIRED),
  [C_CROSSCERT] = DIRTOK_T1("dir-key-crosscert", 0, 0, DIRTOK_OBJ_REQUIRED),
  [C_CERTIFICATION] = DIRTOK_T1_END("dir-key-certification", 0, 0,
                                    DIRTOK_OBJ_REQUIRED),
};
static const dirtok_table_t CERT_TABLE = {CERT_RULES,
                                          CHIVE_ARRAY_LEN(CERT_RULES)};

/** Count lines that begin with "dir-key-certificate-version". */
static size_t
count_certs(const char *s, size_t len)
{
  static const char KW[] = "dir-key-certificate-version";
  size_t kl = sizeof(KW) - 1, n = 0, pos = 0;
  while (pos < len) {
    if (len - pos > kl && memcmp(s + pos, KW, kl) == 0)
      n++;
    const char *nl = memchr(s + pos, '\n', len - pos);
    if (!nl)
      break;
    pos = (size_t)(nl - s) + 1;
  }
  return n;
}

static chive_err_t
copy_obj(dirarena_t *a, const dirtok_t *tok, const uint8_t **out,
         size_t *out_len)
{
  uint8_t *p = dirarena_memdup(a, tok->obj, tok->obj_len);
  if (!p)
    return CHIVE_ERR_NOMEM;
  *out = p;
  *out_len = tok->obj_len;
  return CHIVE_OK;
}

static chive_err_t
handle_item(dirarena_t *a, authcert_t *c, int rule, const dirtok_t *tok)
{
  switch (rule) {
  case C_VERSION:
    /* "MUST be 3 ...  Implementations MUST reject formats they don't
     * understand." */
    return dirtok_str_eq(tok->args[0], "3") ? CHIVE_OK : CHIVE_ERR_PROTO;
  case C_ADDRESS: {
    dirtok_str_t s = tok->args[0];
    const char *colon = memchr(s.p, ':', s.len);
    if (!colon)
      return CHIVE_ERR_PROTO;
    dirtok_str_t ip = {s.p, (size_t)(colon - s.p)};
    dirtok_str_t port = {colon + 1, s.len - ip.len - 1};
    uint64_t pv;
    if (dirtok_parse_ipv4(ip, &c->address_ipv4) ||
        dirtok_parse_u64(port, 1, 65535, &pv))
      return CHIVE_ERR_PROTO;
    c->address_port = (uint16_t)pv;
    c->has_address = true;
    return CHIVE_OK;
  }
  case C_FINGERPRINT:
    return dirtok_parse_hex(tok->args[0], c->fingerprint, 20);
  case C_PUBLISHED:
    return dirtok_parse_time(tok->args[0], tok->args[1], &c->published);
  case C_EXPIRES:
    return dirtok_parse_time(tok->args[0], tok->args[1], &c->expires);
  case C_IDENTITY_KEY:
  case C_SIGNING_KEY: {
    /* Keys "MUST NOT be shorter than 1024 bits": a DER RSAPublicKey of
     * that size is ~140 bytes; anything under 64 cannot be one. */
    if (!dirtok_str_eq(tok->obj_type, "RSA PUBLIC KEY") ||
        tok->obj_len < AUTHCERT_MIN_KEY_DER_LEN)
      return CHIVE_ERR_PROTO;
    bool id = rule == C_IDENTITY_KEY;
    chive_err_t e = copy_obj(a, tok, id ? &c->identity_key : &c->signing_key,
                             id ? &c->identity_key_len
                                : &c->signing_key_len);
    if (e)
      return e;
    crypto_sha1(tok->obj, tok->obj_len,
                id ? c->identity_key_digest : c->signing_key_digest);
    return CHIVE_OK;
  }
  case C_CROSSCERT:
    /* "Implementations MUST allow the "ID " portion to be omitted." */
    if (!dirtok_str_eq(tok->obj_type, "ID SIGNATURE") &&
        !dirtok_str_eq(tok->obj_type, "SIGNATURE"))
      return CHIVE_ERR_PROTO;
    if (tok->obj_len == 0)
      return CHIVE_ERR_PROTO;
    return copy_obj(a, tok, &c->crosscert, &c->crosscert_len);
  case C_CERTIFICATION:
    if (!dirtok_str_eq(tok->obj_type, "SIGNATURE") || tok->obj_len == 0)
      return CHIVE_ERR_PROTO;
    return copy_obj(a, tok, &c->certification, &c->certification_len);
  default:
    return CHIVE_OK;
  }
}

static chive_err_t
parse_batch(const char *s, authcert_list_t *l, size_t cap,
            dirtok_reader_t *r)
{
  chive_err_t e;
  bool in_cert = false;
  size_t start = 0;
  dirtok_section_t sec;
  authcert_t cur;
  while (!dirtok_at_end(r)) {
    dirtok_t tok;
    if ((e = dirtok_next(r, &tok)))
      return e;
    if (!in_cert) {
      if (l->n >= cap)
        return CHIVE_ERR_INTERNAL;
      in_cert = true;
      start = tok.start;
      memset(&cur, 0, sizeof(cur));
      dirtok_section_begin(&sec, &CERT_TABLE);
      dirtok_reader_reset_objects(r);
    }
    int rule;
    if ((e = dirtok_section_add(&sec, &tok, &rule)))
      return e;
    if ((e = handle_item(l->arena, &cur, rule, &tok)))
      return e;
    if (rule == C_CERTIFICATION) {
      if ((e = dirtok_section_end(&sec)))
        return e;
      /* dir-spec §1.3: "through the newline after the Signature Item's
       * keyword and its arguments". */
      crypto_sha1(s + start, tok.line_end - start, cur.signed_digest);
      if (cur.expires <= cur.published)
        return CHIVE_ERR_PROTO;
      l->certs[l->n++] = cur;
      in_cert = false;
    }
  }
  return in_cert ? CHIVE_ERR_TRUNCATED : CHIVE_OK;
}

/* see authcert.h */
chive_err_t
authcert_list_parse(const char *s, size_t len, authcert_list_t **out)
{
  if (BUG(out == NULL))
    return CHIVE_ERR_INVAL;
  *out = NULL;
  dirtok_reader_t *r = NULL;
  chive_err_t e = dirtok_reader_new(s, len, &r);
  if (e)
    return e;
  dirtok_reader_set_max_objects(r, 4);
  authcert_list_t *l = chive_zalloc(sizeof(*l));
  size_t cap = count_certs(s, len);
  if (!l || !(l->arena = dirarena_new())) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  if (cap > AUTHCERT_MAX_PER_BATCH) {
    e = CHIVE_ERR_LIMIT;
    goto done;
  }
  l->certs = dirarena_alloc(l->arena, (cap ? cap : 1) * sizeof(*l->certs));
  if (!l->certs) {
    e = CHIVE_ERR_NOMEM;
    goto done;
  }
  e = parse_batch(s, l, cap, r);
done:
  dirtok_reader_free(r);
  if (e) {
    authcert_list_free(l);
    return e;
  }
  *out = l;
  return CHIVE_OK;
}

/* see authcert.h */
void
authcert_list_free_(authcert_list_t *l)
{
  if (!l)
    return;
  dirarena_free(l->arena);
  chive_free(l);
}

/* see authcert.h */
const authcert_t *
authcert_list_find(const authcert_list_t *l, const uint8_t fingerprint[20],
                   const uint8_t signing_key_digest[20])
{
  for (size_t i = 0; i < l->n; i++) {
    if (fast_memeq(l->certs[i].fingerprint, fingerprint, 20) &&
        fast_memeq(l->certs[i].signing_key_digest, signing_key_digest, 20))
      return &l->certs[i];
  }
  return NULL;
}

/* see authcert.h */
size_t
authcert_list_bytes(const authcert_list_t *l)
{
  return l ? sizeof(*l) + dirarena_bytes(l->arena) : 0;
}
