/**
 * @file bytes.h
 * @brief Bounds-checked readers (rd_t) and writers (wr_t) for wire data.
 *
 * A rd_t is a non-owning cursor over untrusted bytes.  Every accessor
 * checks the remaining length first.  The first short read sets a sticky
 * "bad" flag; later reads return zeros/NULL and consume nothing, so a
 * parser reads a structure linearly and checks rd_ok() once -- but it MUST
 * check rd_ok() before using any view returned by rd_bytes().
 *
 * A wr_t is the same idea for building messages into a fixed buffer: a
 * write that does not fit sets the sticky flag and writes nothing.
 * Integers are big-endian (network order) unless the name says _le.
 **/
#ifndef CHIVE_LIB_BYTES_BYTES_H
#define CHIVE_LIB_BYTES_BYTES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct rd_t {
  const uint8_t *p; /**< Next unread byte. */
  size_t left;      /**< Bytes remaining after p. */
  bool bad;         /**< Sticky: true after any short read. */
} rd_t;

typedef struct wr_t {
  uint8_t *start; /**< First byte of the buffer. */
  uint8_t *p;     /**< Next byte to write. */
  size_t left;    /**< Room remaining after p. */
  bool bad;       /**< Sticky: true after any write that did not fit. */
} wr_t;

/** Return a reader over the <b>n</b> bytes at <b>p</b>.  Does not copy;
 * <b>p</b> is borrowed for the reader's lifetime. */
static inline rd_t
rd_init(const uint8_t *p, size_t n)
{
  rd_t r = {p, n, false};
  return r;
}

uint8_t rd_u8(rd_t *r);
uint16_t rd_u16(rd_t *r);
uint32_t rd_u32(rd_t *r);
uint64_t rd_u64(rd_t *r);
uint16_t rd_u16_le(rd_t *r);
uint32_t rd_u32_le(rd_t *r);
/** Return a borrowed view of the next <b>n</b> bytes, or NULL (and mark
 * the reader bad) if fewer remain. */
const uint8_t *rd_bytes(rd_t *r, size_t n);
/** Copy the next <b>n</b> bytes into <b>out</b>; on a short read, zero
 * <b>out</b> and mark the reader bad. */
void rd_copy(rd_t *r, void *out, size_t n);
/** Skip <b>n</b> bytes. */
void rd_skip(rd_t *r, size_t n);
/** Return a sub-reader over the next <b>n</b> bytes and advance past
 * them.  On a short read both readers are bad. */
rd_t rd_sub(rd_t *r, size_t n);
/** Return a borrowed view of everything left and consume it; *<b>n</b> is
 * set to its length. */
const uint8_t *rd_rest(rd_t *r, size_t *n);

/** Return true iff no read on <b>r</b> has failed. */
static inline bool
rd_ok(const rd_t *r)
{
  return !r->bad;
}

/** Return true iff no read failed and every byte was consumed. */
static inline bool
rd_done(const rd_t *r)
{
  return !r->bad && r->left == 0;
}

/** Return the number of unread bytes (0 once bad). */
static inline size_t
rd_left(const rd_t *r)
{
  return r->bad ? 0 : r->left;
}

/** Return a writer over the <b>n</b> bytes at <b>p</b>. */
static inline wr_t
wr_init(uint8_t *p, size_t n)
{
  wr_t w = {p, p, n, false};
  return w;
}

void wr_u8(wr_t *w, uint8_t v);
void wr_u16(wr_t *w, uint16_t v);
void wr_u32(wr_t *w, uint32_t v);
void wr_u64(wr_t *w, uint64_t v);
void wr_bytes(wr_t *w, const void *src, size_t n);
void wr_zero(wr_t *w, size_t n);
/** Reserve <b>n</b> bytes to fill in later (e.g. a length); returns a
 * pointer to them, or NULL (and marks the writer bad) if they do not
 * fit. */
uint8_t *wr_reserve(wr_t *w, size_t n);

static inline bool
wr_ok(const wr_t *w)
{
  return !w->bad;
}

/** Bytes written so far. */
static inline size_t
wr_used(const wr_t *w)
{
  return (size_t)(w->p - w->start);
}

/* Endian helpers for fixed buffers we own (not for untrusted parsing). */
static inline void
store_u16(uint8_t *p, uint16_t v)
{
  p[0] = (uint8_t)(v >> 8);
  p[1] = (uint8_t)v;
}
static inline void
store_u32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}
static inline uint16_t
load_u16(const uint8_t *p)
{
  return (uint16_t)((p[0] << 8) | p[1]);
}
static inline uint32_t
load_u32(const uint8_t *p)
{
  return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) |
         ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

#endif /* !defined(CHIVE_LIB_BYTES_BYTES_H) */
