/**
 * @file buf.c
 * @brief Bounded chunked byte queue.
 *
 * Invariants: b->len is the sum of the chunks' len; no chunk in the list
 * is empty except transiently inside a function; b->len <= b->max_len.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "lib/buf/buf.h"
#include "lib/err/err.h"

typedef struct chunk_t {
  struct chunk_t *next;
  size_t cap; /**< size of data[] */
  size_t off; /**< first used byte */
  size_t len; /**< used bytes from off */
  uint8_t data[];
} chunk_t;

struct buf_t {
  chunk_t *head;
  chunk_t *tail;
  size_t len;
  size_t max_len;
};

static chunk_t *
chunk_new(size_t cap)
{
  chunk_t *c = chive_malloc(sizeof(chunk_t) + cap);
  if (!c)
    return NULL;
  c->next = NULL;
  c->cap = cap;
  c->off = 0;
  c->len = 0;
  return c;
}

/* see buf.h */
buf_t *
buf_new(size_t max_len)
{
  if (max_len == 0 || max_len > BUF_MAX_LEN_LIMIT)
    return NULL;
  buf_t *b = chive_zalloc(sizeof(*b));
  if (!b)
    return NULL;
  b->max_len = max_len;
  return b;
}

/* see buf.h */
void
buf_clear(buf_t *b)
{
  chunk_t *c = b->head;
  while (c) {
    chunk_t *next = c->next;
    chive_free_wipe(c);
    c = next;
  }
  b->head = b->tail = NULL;
  b->len = 0;
}

/* see buf.h */
void
buf_free_(buf_t *b)
{
  if (!b)
    return;
  buf_clear(b);
  chive_free(b);
}

size_t
buf_len(const buf_t *b)
{
  return b->len;
}

size_t
buf_max_len(const buf_t *b)
{
  return b->max_len;
}

size_t
buf_room(const buf_t *b)
{
  return b->max_len - b->len;
}

/** Prepare <b>b</b> to take <b>n</b> more bytes without failing: if the
 * tail chunk lacks room, allocate one extra chunk for the rest and link
 * it (empty) at the tail.  Returns CHIVE_ERR_NOMEM with <b>b</b>
 * unchanged. */
static chive_err_t
buf_reserve(buf_t *b, size_t n)
{
  size_t tail_room = 0;
  if (b->tail)
    tail_room = b->tail->cap - b->tail->off - b->tail->len;
  if (n <= tail_room)
    return CHIVE_OK;
  size_t need = n - tail_room;
  chunk_t *extra = chunk_new(need > BUF_CHUNK_LEN ? need : BUF_CHUNK_LEN);
  if (!extra)
    return CHIVE_ERR_NOMEM;
  if (b->tail)
    b->tail->next = extra;
  else
    b->head = extra;
  /* The old tail keeps its room: appends fill it first, then extra. */
  if (!b->tail)
    b->tail = extra;
  return CHIVE_OK;
}

/** Append after buf_reserve() succeeded for at least <b>n</b> bytes. */
static void
buf_append_reserved(buf_t *b, const uint8_t *p, size_t n)
{
  chunk_t *c = b->tail;
  while (n > 0) {
    size_t room = c->cap - c->off - c->len;
    if (room == 0) {
      c = c->next;
      CHIVE_ASSERT(c != NULL);
      b->tail = c;
      continue;
    }
    size_t k = n < room ? n : room;
    memcpy(c->data + c->off + c->len, p, k);
    c->len += k;
    b->len += k;
    p += k;
    n -= k;
  }
}

/** Drop a trailing empty chunk left by buf_reserve() when nothing was
 * appended into it (keeps the "no empty chunk" invariant). */
static void
buf_trim_tail(buf_t *b)
{
  chunk_t *c = b->tail;
  if (c && c->next) {
    /* reserved chunk was never reached */
    chive_free_wipe(c->next);
    c->next = NULL;
  }
  if (b->head && b->head->len == 0 && b->head == b->tail) {
    chive_free_wipe(b->head);
    b->head = b->tail = NULL;
  }
}

/* see buf.h */
chive_err_t
buf_add(buf_t *b, const void *data, size_t n)
{
  if (n == 0)
    return CHIVE_OK;
  if (BUG(!data))
    return CHIVE_ERR_INVAL;
  if (n > b->max_len - b->len)
    return CHIVE_ERR_LIMIT;
  if (buf_reserve(b, n) != CHIVE_OK)
    return CHIVE_ERR_NOMEM;
  buf_append_reserved(b, data, n);
  buf_trim_tail(b);
  return CHIVE_OK;
}

/* see buf.h */
size_t
buf_peek(const buf_t *b, void *out, size_t n)
{
  uint8_t *o = out;
  size_t done = 0;
  for (const chunk_t *c = b->head; c && done < n; c = c->next) {
    size_t k = c->len < n - done ? c->len : n - done;
    memcpy(o + done, c->data + c->off, k);
    done += k;
  }
  return done;
}

/* see buf.h */
size_t
buf_drain(buf_t *b, size_t n)
{
  size_t done = 0;
  while (b->head && done < n) {
    chunk_t *c = b->head;
    size_t k = c->len < n - done ? c->len : n - done;
    c->off += k;
    c->len -= k;
    done += k;
    if (c->len == 0) {
      b->head = c->next;
      if (!b->head)
        b->tail = NULL;
      chive_free_wipe(c);
    }
  }
  b->len -= done;
  return done;
}

/* see buf.h */
size_t
buf_remove(buf_t *b, void *out, size_t n)
{
  size_t k = buf_peek(b, out, n);
  buf_drain(b, k);
  return k;
}

/* see buf.h */
const uint8_t *
buf_head(const buf_t *b, size_t *len_out)
{
  if (!b->head) {
    *len_out = 0;
    return NULL;
  }
  *len_out = b->head->len;
  return b->head->data + b->head->off;
}

/* see buf.h */
chive_err_t
buf_pullup(buf_t *b, size_t n, const uint8_t **out)
{
  if (n > b->len)
    return CHIVE_ERR_TRUNCATED;
  if (!b->head) {
    *out = NULL;
    return CHIVE_OK;
  }
  if (b->head->len >= n) {
    *out = b->head->data + b->head->off;
    return CHIVE_OK;
  }
  /* Copy the first n bytes into a fresh chunk that replaces them. */
  chunk_t *c = chunk_new(n > BUF_CHUNK_LEN ? n : BUF_CHUNK_LEN);
  if (!c)
    return CHIVE_ERR_NOMEM;
  c->len = buf_peek(b, c->data, n);
  buf_drain(b, n);
  c->next = b->head;
  b->head = c;
  if (!b->tail)
    b->tail = c;
  b->len += n;
  *out = c->data;
  return CHIVE_OK;
}

/* see buf.h */
chive_err_t
buf_move(buf_t *dst, buf_t *src, size_t n)
{
  if (BUG(dst == src))
    return CHIVE_ERR_INVAL;
  if (n > src->len)
    return CHIVE_ERR_TRUNCATED;
  if (n > dst->max_len - dst->len)
    return CHIVE_ERR_LIMIT;
  if (n == 0)
    return CHIVE_OK;
  if (buf_reserve(dst, n) != CHIVE_OK)
    return CHIVE_ERR_NOMEM;
  size_t done = 0;
  for (const chunk_t *c = src->head; c && done < n; c = c->next) {
    size_t k = c->len < n - done ? c->len : n - done;
    buf_append_reserved(dst, c->data + c->off, k);
    done += k;
  }
  buf_trim_tail(dst);
  buf_drain(src, n);
  return CHIVE_OK;
}
