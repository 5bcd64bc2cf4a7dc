/**
 * @file circ_cells.c
 * @brief CREATE_FAST/CREATED_FAST, CREATE2/CREATED2 and DESTROY bodies
 * (tor-spec §5.1, §5.1.5, §5.4).  Pure: no I/O, no allocation, no
 * logging.
 **/
#include "core/proto/circ_cells.h"

#include <string.h>

#include "lib/bytes/bytes.h"

static chive_err_t
finish(const wr_t *w, size_t *len_out)
{
  if (!wr_ok(w))
    return CHIVE_ERR_LIMIT;
  *len_out = wr_used(w);
  return CHIVE_OK;
}

const char *
destroy_reason_name(uint8_t reason)
{
  static const char *const names[] = {
      "NONE",          "PROTOCOL",       "INTERNAL", "REQUESTED",
      "HIBERNATING",   "RESOURCELIMIT",  "CONNECTFAILED",
      "OR_IDENTITY",   "CHANNEL_CLOSED", "FINISHED", "TIMEOUT",
      "DESTROYED",     "NOSUCHSERVICE",
  };
  if (reason < CHIVE_ARRAY_LEN(names))
    return names[reason];
  return "UNKNOWN";
}

chive_err_t
create_fast_parse(const uint8_t *body, size_t len, create_fast_t *out)
{
  if (len < CREATE_FAST_LEN)
    return CHIVE_ERR_PROTO;
  memcpy(out->x, body, HASH_LEN);
  return CHIVE_OK;
}

chive_err_t
create_fast_encode(const create_fast_t *cf, uint8_t *out, size_t cap,
                   size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  wr_bytes(&w, cf->x, HASH_LEN);
  return finish(&w, len_out);
}

chive_err_t
created_fast_parse(const uint8_t *body, size_t len, created_fast_t *out)
{
  if (len < CREATED_FAST_LEN)
    return CHIVE_ERR_PROTO;
  memcpy(out->y, body, HASH_LEN);
  memcpy(out->kh, body + HASH_LEN, HASH_LEN);
  return CHIVE_OK;
}

chive_err_t
created_fast_encode(const created_fast_t *cf, uint8_t *out, size_t cap,
                    size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  wr_bytes(&w, cf->y, HASH_LEN);
  wr_bytes(&w, cf->kh, HASH_LEN);
  return finish(&w, len_out);
}

chive_err_t
create2_parse(const uint8_t *body, size_t len, create2_t *out)
{
  rd_t r = rd_init(body, len);
  uint16_t htype = rd_u16(&r);
  uint16_t hlen = rd_u16(&r);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  if (hlen > CREATE2_MAX_HLEN)
    return CHIVE_ERR_PROTO;
  const uint8_t *hdata = rd_bytes(&r, hlen);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  out->htype = htype;
  out->hlen = hlen;
  out->hdata = hdata;
  return CHIVE_OK;
}

chive_err_t
create2_encode(const create2_t *c2, uint8_t *out, size_t cap,
               size_t *len_out)
{
  if (c2->hlen > CREATE2_MAX_HLEN || (c2->hlen && !c2->hdata))
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_u16(&w, c2->htype);
  wr_u16(&w, c2->hlen);
  if (c2->hlen)
    wr_bytes(&w, c2->hdata, c2->hlen);
  return finish(&w, len_out);
}

chive_err_t
created2_parse(const uint8_t *body, size_t len, created2_t *out)
{
  rd_t r = rd_init(body, len);
  uint16_t hlen = rd_u16(&r);
  if (!rd_ok(&r) || hlen > CREATED2_MAX_HLEN)
    return CHIVE_ERR_PROTO;
  const uint8_t *hdata = rd_bytes(&r, hlen);
  if (!rd_ok(&r))
    return CHIVE_ERR_PROTO;
  out->hlen = hlen;
  out->hdata = hdata;
  return CHIVE_OK;
}

chive_err_t
created2_encode(const created2_t *c2, uint8_t *out, size_t cap,
                size_t *len_out)
{
  if (c2->hlen > CREATED2_MAX_HLEN || (c2->hlen && !c2->hdata))
    return CHIVE_ERR_INVAL;
  wr_t w = wr_init(out, cap);
  wr_u16(&w, c2->hlen);
  if (c2->hlen)
    wr_bytes(&w, c2->hdata, c2->hlen);
  return finish(&w, len_out);
}

chive_err_t
destroy_parse(const uint8_t *body, size_t len, uint8_t *reason_out)
{
  if (len < DESTROY_BODY_LEN)
    return CHIVE_ERR_PROTO;
  *reason_out = body[0];
  return CHIVE_OK;
}

chive_err_t
destroy_encode(uint8_t reason, uint8_t *out, size_t cap, size_t *len_out)
{
  wr_t w = wr_init(out, cap);
  wr_u8(&w, reason);
  return finish(&w, len_out);
}
