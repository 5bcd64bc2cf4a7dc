/**
 * @file link_cells.c
 * @brief VERSIONS, CERTS, AUTH_CHALLENGE, NETINFO and PADDING_NEGOTIATE
 * bodies (tor-spec §4.1-§4.5, §7.2).  Pure: no I/O, no allocation, no
 * logging.
 **/
#include "core/proto/link_cells.h"

#include <string.h>

#include "lib/bytes/bytes.h"

/** Finish an encoder: set *len_out from <b>w</b> or report overflow. */
static chive_err_t
finish(const wr_t *w, size_t *len_out)
{
  if (!wr_ok(w))
    return CHIVE_ERR_LIMIT;
  *len_out = wr_used(w);
  return CHIVE_OK;
}

/* ---- VERSIONS (tor-spec §4.1) ------------------------------------------ */

chive_err_t
versions_parse(const uint8_t *body, size_t len, versions_t *out)
{
  if (len % VERSIONS_ENTRY_LEN)
    return CHIVE_ERR_PROTO;
  if (len / VERSIONS_ENTRY_LEN > VERSIONS_MAX_LISTED)
    return CHIVE_ERR_LIMIT;
  versions_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  rd_t r = rd_init(body, len);
  uint16_t n = 0;
  while (rd_left(&r) > 0)
    tmp.versions[n++] = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  tmp.n_versions = n;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
versions_choose(const uint8_t *body, size_t len, const uint16_t *ours,
                size_t n_ours, uint16_t *chosen_out)
{
  if (len % VERSIONS_ENTRY_LEN)
    return CHIVE_ERR_PROTO;
  rd_t r = rd_init(body, len);
  uint16_t best = 0;
  bool found = false;
  while (rd_left(&r) > 0) {
    uint16_t v = rd_u16(&r);
    for (size_t i = 0; i < n_ours; i++) {
      if (ours[i] == v && (!found || v > best)) {
        best = v;
        found = true;
      }
    }
  }
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (!found)
    return CHIVE_ERR_NOTFOUND;
  *chosen_out = best;
  return CHIVE_OK;
}

chive_err_t
versions_encode(const uint16_t *v, size_t n, uint8_t *out, size_t cap,
                size_t *len_out)
{
  if (n && !v)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  for (size_t i = 0; i < n; i++)
    wr_u16(&w, v[i]);
  return finish(&w, len_out);
}

/* ---- CERTS (tor-spec §4.2) --------------------------------------------- */

chive_err_t
certs_cell_parse(const uint8_t *body, size_t len, certs_cell_t *out)
{
  if (len > CERTS_CELL_MAX_BODY_LEN)
    return CHIVE_ERR_LIMIT;
  rd_t r = rd_init(body, len);
  uint8_t n = rd_u8(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (n > CERTS_CELL_MAX_CERTS)
    return CHIVE_ERR_LIMIT;
  certs_cell_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  for (unsigned i = 0; i < n; i++) {
    certs_cell_cert_t *c = &tmp.certs[i];
    c->type = rd_u8(&r);
    c->len = rd_u16(&r);
    c->body = rd_bytes(&r, c->len);
    if (!rd_ok(&r))
      return CHIVE_ERR_PROTO;
  }
  /* "Any extra octets at the end of a CERTS cell MUST be ignored." */
  tmp.n_certs = n;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
certs_cell_encode(const certs_cell_t *cc, uint8_t *out, size_t cap,
                  size_t *len_out)
{
  if (cc->n_certs > CERTS_CELL_MAX_CERTS)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_u8(&w, cc->n_certs);
  for (unsigned i = 0; i < cc->n_certs; i++) {
    const certs_cell_cert_t *c = &cc->certs[i];
    if (c->len && !c->body)
      return CHIVE_ERR_INVAL;
    wr_u8(&w, c->type);
    wr_u16(&w, c->len);
    if (c->len)
      wr_bytes(&w, c->body, c->len);
  }
  return finish(&w, len_out);
}

const certs_cell_cert_t *
certs_cell_find(const certs_cell_t *cc, uint8_t type)
{
  for (unsigned i = 0; i < cc->n_certs && i < CERTS_CELL_MAX_CERTS; i++)
    if (cc->certs[i].type == type)
      return &cc->certs[i];
  return NULL;
}

unsigned
certs_cell_count_type(const certs_cell_t *cc, uint8_t type)
{
  unsigned n = 0;
  for (unsigned i = 0; i < cc->n_certs && i < CERTS_CELL_MAX_CERTS; i++)
    if (cc->certs[i].type == type)
      n++;
  return n;
}

bool
certs_cell_has_duplicates(const certs_cell_t *cc)
{
  for (unsigned i = 0; i < cc->n_certs && i < CERTS_CELL_MAX_CERTS; i++)
    if (certs_cell_count_type(cc, cc->certs[i].type) > 1)
      return true;
  return false;
}

/* ---- AUTH_CHALLENGE (tor-spec §4.3) ------------------------------------ */

chive_err_t
auth_challenge_parse(const uint8_t *body, size_t len, auth_challenge_t *out)
{
  auth_challenge_t tmp;
  memset(&tmp, 0, sizeof(tmp));
  rd_t r = rd_init(body, len);
  rd_copy(&r, tmp.challenge, AUTH_CHALLENGE_LEN);
  uint16_t n = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (n > AUTH_CHALLENGE_MAX_METHODS)
    return CHIVE_ERR_LIMIT;
  for (unsigned i = 0; i < n; i++)
    tmp.methods[i] = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  /* "Initiators MUST ignore unexpected bytes at the end of the cell." */
  tmp.n_methods = n;
  *out = tmp;
  return CHIVE_OK;
}

chive_err_t
auth_challenge_encode(const auth_challenge_t *ac, uint8_t *out, size_t cap,
                      size_t *len_out)
{
  if (ac->n_methods > AUTH_CHALLENGE_MAX_METHODS)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_bytes(&w, ac->challenge, AUTH_CHALLENGE_LEN);
  wr_u16(&w, ac->n_methods);
  for (unsigned i = 0; i < ac->n_methods; i++)
    wr_u16(&w, ac->methods[i]);
  return finish(&w, len_out);
}

bool
auth_challenge_has_method(const auth_challenge_t *ac, uint16_t method)
{
  for (unsigned i = 0; i < ac->n_methods && i < AUTH_CHALLENGE_MAX_METHODS;
       i++)
    if (ac->methods[i] == method)
      return true;
  return false;
}

/* ---- NETINFO (tor-spec §4.5) ------------------------------------------- */

/** Read one ATYPE/ALEN/AVAL triple into *<b>out</b>.  Unknown types and
 * wrong lengths leave atype 0 ("ignore it", tor-spec §4.5).  Truncation
 * marks <b>r</b> bad; the caller checks it. */
static void
netinfo_read_addr(rd_t *r, netinfo_addr_t *out)
{
  uint8_t atype = rd_u8(r);
  uint8_t alen = rd_u8(r);
  const uint8_t *aval = rd_bytes(r, alen);

  memset(out, 0, sizeof(*out));
  if (!rd_ok(r))
    return;
  if ((atype == NETINFO_ATYPE_IPV4 && alen == NETINFO_IPV4_LEN) ||
      (atype == NETINFO_ATYPE_IPV6 && alen == NETINFO_IPV6_LEN)) {
    memcpy(out->addr, aval, alen);
    out->atype = atype;
  }
}

chive_err_t
netinfo_parse(const uint8_t *body, size_t len, netinfo_t *out)
{
  netinfo_t tmp;
  rd_t r = rd_init(body, len);
  memset(&tmp, 0, sizeof(tmp));
  tmp.timestamp = rd_u32(&r);
  netinfo_read_addr(&r, &tmp.other_addr);
  uint8_t n = rd_u8(&r);
  for (unsigned i = 0; i < n && rd_ok(&r); i++) {
    netinfo_addr_t a;
    netinfo_read_addr(&r, &a);
    if (a.atype && tmp.n_my_addrs < NETINFO_MAX_MY_ADDRS)
      tmp.my_addrs[tmp.n_my_addrs++] = a;
  }
  /* "Implementations MUST ignore unexpected bytes at the end." */
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  *out = tmp;
  return CHIVE_OK;
}

/** Write one address; CHIVE_ERR_INVAL for an unknown type unless
 * <b>allow_none</b> and atype is 0 (then type 0, length 0). */
static chive_err_t
netinfo_write_addr(wr_t *w, const netinfo_addr_t *a, bool allow_none)
{
  uint8_t alen;
  if (a->atype == NETINFO_ATYPE_IPV4)
    alen = NETINFO_IPV4_LEN;
  else if (a->atype == NETINFO_ATYPE_IPV6)
    alen = NETINFO_IPV6_LEN;
  else if (a->atype == 0 && allow_none)
    alen = 0;
  else
    return CHIVE_ERR_INVAL;
  wr_u8(w, a->atype);
  wr_u8(w, alen);
  wr_bytes(w, a->addr, alen);
  return CHIVE_OK;
}

chive_err_t
netinfo_encode(const netinfo_t *ni, uint8_t *out, size_t cap,
               size_t *len_out)
{
  if (ni->n_my_addrs > NETINFO_MAX_MY_ADDRS)
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_u32(&w, ni->timestamp);
  if (netinfo_write_addr(&w, &ni->other_addr, true))
    return CHIVE_ERR_INVAL;
  wr_u8(&w, ni->n_my_addrs);
  for (unsigned i = 0; i < ni->n_my_addrs; i++)
    if (netinfo_write_addr(&w, &ni->my_addrs[i], false))
      return CHIVE_ERR_INVAL;
  return finish(&w, len_out);
}

/* ---- PADDING_NEGOTIATE (tor-spec §7.2) --------------------------------- */

chive_err_t
padding_negotiate_parse(const uint8_t *body, size_t len,
                        padding_negotiate_t *out)
{
  rd_t r = rd_init(body, len);
  uint8_t version = rd_u8(&r);
  uint8_t command = rd_u8(&r);
  uint16_t lo = rd_u16(&r);
  uint16_t hi = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  out->version = version;
  out->command = command;
  out->ito_low_ms = lo;
  out->ito_high_ms = hi;
  return CHIVE_OK;
}

chive_err_t
padding_negotiate_encode(const padding_negotiate_t *pn, uint8_t *out,
                         size_t cap, size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  wr_u8(&w, pn->version);
  wr_u8(&w, pn->command);
  wr_u16(&w, pn->ito_low_ms);
  wr_u16(&w, pn->ito_high_ms);
  return finish(&w, len_out);
}
