/**
 * @file bytes.c
 * @brief rd_t / wr_t implementation.  Pure: no I/O, no allocation.
 **/
#include <string.h>

#include "lib/bytes/bytes.h"

/** Return a pointer to the next <b>n</b> bytes and advance, or NULL and
 * mark <b>r</b> bad.  Written as "n > left" so it cannot overflow. */
static const uint8_t *
take(rd_t *r, size_t n)
{
  if (r->bad || n > r->left) {
    r->bad = true;
    return NULL;
  }
  const uint8_t *v = r->p;
  r->p += n;
  r->left -= n;
  return v;
}

uint8_t
rd_u8(rd_t *r)
{
  const uint8_t *v = take(r, 1);
  return v ? v[0] : 0;
}

uint16_t
rd_u16(rd_t *r)
{
  const uint8_t *v = take(r, 2);
  return v ? load_u16(v) : 0;
}

uint32_t
rd_u32(rd_t *r)
{
  const uint8_t *v = take(r, 4);
  return v ? load_u32(v) : 0;
}

uint64_t
rd_u64(rd_t *r)
{
  const uint8_t *v = take(r, 8);
  if (!v)
    return 0;
  return ((uint64_t)load_u32(v) << 32) | load_u32(v + 4);
}

uint16_t
rd_u16_le(rd_t *r)
{
  const uint8_t *v = take(r, 2);
  return v ? (uint16_t)(v[0] | (v[1] << 8)) : 0;
}

uint32_t
rd_u32_le(rd_t *r)
{
  const uint8_t *v = take(r, 4);
  if (!v)
    return 0;
  return (uint32_t)v[0] | ((uint32_t)v[1] << 8) | ((uint32_t)v[2] << 16) |
         ((uint32_t)v[3] << 24);
}

const uint8_t *
rd_bytes(rd_t *r, size_t n)
{
  return take(r, n);
}

void
rd_copy(rd_t *r, void *out, size_t n)
{
  const uint8_t *v = take(r, n);
  if (v)
    memcpy(out, v, n);
  else if (n)
    memset(out, 0, n);
}

void
rd_skip(rd_t *r, size_t n)
{
  (void)take(r, n);
}

rd_t
rd_sub(rd_t *r, size_t n)
{
  const uint8_t *v = take(r, n);
  rd_t sub = {v, v ? n : 0, v == NULL};
  return sub;
}

const uint8_t *
rd_rest(rd_t *r, size_t *n)
{
  if (r->bad) {
    *n = 0;
    return NULL;
  }
  *n = r->left;
  return take(r, r->left);
}

/** Return where to write <b>n</b> bytes and advance, or NULL and mark
 * <b>w</b> bad. */
static uint8_t *
room(wr_t *w, size_t n)
{
  if (w->bad || n > w->left) {
    w->bad = true;
    return NULL;
  }
  uint8_t *v = w->p;
  w->p += n;
  w->left -= n;
  return v;
}

void
wr_u8(wr_t *w, uint8_t v)
{
  uint8_t *p = room(w, 1);
  if (p)
    p[0] = v;
}

void
wr_u16(wr_t *w, uint16_t v)
{
  uint8_t *p = room(w, 2);
  if (p)
    store_u16(p, v);
}

void
wr_u32(wr_t *w, uint32_t v)
{
  uint8_t *p = room(w, 4);
  if (p)
    store_u32(p, v);
}

void
wr_u64(wr_t *w, uint64_t v)
{
  uint8_t *p = room(w, 8);
  if (p) {
    store_u32(p, (uint32_t)(v >> 32));
    store_u32(p + 4, (uint32_t)v);
  }
}

void
wr_bytes(wr_t *w, const void *src, size_t n)
{
  uint8_t *p = room(w, n);
  if (p && n)
    memcpy(p, src, n);
}

void
wr_zero(wr_t *w, size_t n)
{
  uint8_t *p = room(w, n);
  if (p && n)
    memset(p, 0, n);
}

uint8_t *
wr_reserve(wr_t *w, size_t n)
{
  return room(w, n);
}
