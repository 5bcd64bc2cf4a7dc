/**
 * @file dirarena.c
 * @brief Bump allocator for parsed directory documents (see dirarena.h).
 **/
#include "lib/cc/compat.h"

#include "feature/dir/parse/dirarena.h"

#include <string.h>

#include "lib/err/err.h"

/** Alignment of every block handed out. */
#define DIRARENA_ALIGN ((size_t)8)

typedef struct dirarena_chunk_t {
  struct dirarena_chunk_t *next; /**< Older chunk. */
  size_t cap;                    /**< Payload bytes. */
  size_t used;                   /**< Payload bytes handed out. */
  /* Payload follows, aligned by the union below. */
  union {
    uint64_t u;
    void *p;
    double d;
  } mem[];
} dirarena_chunk_t;

struct dirarena_t {
  dirarena_chunk_t *head; /**< Newest chunk, allocations come from it. */
  size_t bytes;           /**< Bytes held (chunks + this struct). */
};

/* see dirarena.h */
dirarena_t *
dirarena_new(void)
{
  dirarena_t *a = chive_zalloc(sizeof(*a));
  if (a)
    a->bytes = sizeof(*a);
  return a;
}

/* see dirarena.h */
void
dirarena_free_(dirarena_t *a)
{
  if (!a)
    return;
  dirarena_chunk_t *c = a->head;
  while (c) {
    dirarena_chunk_t *next = c->next;
    chive_free(c);
    c = next;
  }
  chive_free(a);
}

/** Add a chunk with at least <b>need</b> payload bytes in front of
 * <b>a</b>'s list; return it or NULL. */
static dirarena_chunk_t *
dirarena_add_chunk(dirarena_t *a, size_t need)
{
  size_t cap = need > DIRARENA_CHUNK_LEN ? need : DIRARENA_CHUNK_LEN;
  dirarena_chunk_t *c = chive_malloc(sizeof(*c) + cap);
  if (!c)
    return NULL;
  c->cap = cap;
  c->used = 0;
  if (need > DIRARENA_CHUNK_LEN / 4 && a->head) {
    /* A big block gets its own chunk behind the current one, so the
     * current chunk's free tail is not wasted. */
    c->next = a->head->next;
    a->head->next = c;
  } else {
    c->next = a->head;
    a->head = c;
  }
  a->bytes += sizeof(*c) + cap;
  return c;
}

/* see dirarena.h */
void *
dirarena_alloc(dirarena_t *a, size_t n)
{
  if (BUG(a == NULL) || n > DIRARENA_MAX_ALLOC)
    return NULL;
  size_t rounded = (n + DIRARENA_ALIGN - 1) & ~(DIRARENA_ALIGN - 1);
  if (rounded == 0)
    rounded = DIRARENA_ALIGN;
  dirarena_chunk_t *c = a->head;
  if (!c || c->cap - c->used < rounded) {
    c = dirarena_add_chunk(a, rounded);
    if (!c)
      return NULL;
  }
  uint8_t *base = (uint8_t *)c->mem;
  void *out = base + c->used;
  c->used += rounded;
  memset(out, 0, rounded);
  return out;
}

/* see dirarena.h */
char *
dirarena_strndup(dirarena_t *a, const char *s, size_t n)
{
  if (n >= DIRARENA_MAX_ALLOC)
    return NULL;
  char *out = dirarena_alloc(a, n + 1);
  if (!out)
    return NULL;
  if (n)
    memcpy(out, s, n);
  out[n] = '\0';
  return out;
}

/* see dirarena.h */
void *
dirarena_memdup(dirarena_t *a, const void *p, size_t n)
{
  void *out = dirarena_alloc(a, n);
  if (out && n)
    memcpy(out, p, n);
  return out;
}

/* see dirarena.h */
size_t
dirarena_bytes(const dirarena_t *a)
{
  return a ? a->bytes : 0;
}
