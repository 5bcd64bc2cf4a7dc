/**
 * @file ptrvec.c
 * @brief Growable bounded pointer vector (see ptrvec.h).
 **/
#include "lib/container/ptrvec.h"

#include <stdint.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** First allocation, in elements. */
#define PTRVEC_MIN_CAP 8

/* see ptrvec.h */
void
ptrvec_init(ptrvec_t *v, size_t max_len)
{
  memset(v, 0, sizeof(*v));
  v->max_len = max_len < PTRVEC_MAX_LEN_LIMIT ? max_len : PTRVEC_MAX_LEN_LIMIT;
}

/* see ptrvec.h */
void
ptrvec_clear(ptrvec_t *v, ptrvec_free_fn free_fn)
{
  if (free_fn)
    for (size_t i = 0; i < v->len; i++)
      free_fn(v->items[i]);
  chive_free(v->items);
  ptrvec_init(v, v->max_len);
}

/* see ptrvec.h */
ptrvec_t *
ptrvec_new(size_t max_len)
{
  ptrvec_t *v = chive_malloc(sizeof(*v));
  if (v)
    ptrvec_init(v, max_len);
  return v;
}

/* see ptrvec.h */
void
ptrvec_free_(ptrvec_t *v, ptrvec_free_fn free_fn)
{
  if (!v)
    return;
  ptrvec_clear(v, free_fn);
  chive_free(v);
}

/* see ptrvec.h */
chive_err_t
ptrvec_reserve(ptrvec_t *v, size_t n)
{
  if (n <= v->cap)
    return CHIVE_OK;
  if (n > v->max_len)
    return CHIVE_ERR_LIMIT;
  size_t cap = v->cap ? v->cap : PTRVEC_MIN_CAP;
  while (cap < n)
    cap *= 2; /* cannot overflow: n <= PTRVEC_MAX_LEN_LIMIT */
  if (cap > v->max_len)
    cap = v->max_len;
  void **items = chive_realloc(v->items, cap * sizeof(void *));
  if (!items)
    return CHIVE_ERR_NOMEM;
  v->items = items;
  v->cap = cap;
  return CHIVE_OK;
}

/* see ptrvec.h */
chive_err_t
ptrvec_add(ptrvec_t *v, void *item)
{
  return ptrvec_insert(v, v->len, item);
}

/* see ptrvec.h */
chive_err_t
ptrvec_insert(ptrvec_t *v, size_t idx, void *item)
{
  if (BUG(idx > v->len))
    return CHIVE_ERR_INVAL;
  if (v->len == v->max_len)
    return CHIVE_ERR_LIMIT;
  chive_err_t e = ptrvec_reserve(v, v->len + 1);
  if (e != CHIVE_OK)
    return e;
  memmove(v->items + idx + 1, v->items + idx, (v->len - idx) * sizeof(void *));
  v->items[idx] = item;
  v->len++;
  return CHIVE_OK;
}

/* see ptrvec.h */
void *
ptrvec_get(const ptrvec_t *v, size_t idx)
{
  if (BUG(idx >= v->len))
    return NULL;
  return v->items[idx];
}

/* see ptrvec.h */
void *
ptrvec_set(ptrvec_t *v, size_t idx, void *item)
{
  if (BUG(idx >= v->len))
    return NULL;
  void *old = v->items[idx];
  v->items[idx] = item;
  return old;
}

/* see ptrvec.h */
void *
ptrvec_del(ptrvec_t *v, size_t idx)
{
  if (BUG(idx >= v->len))
    return NULL;
  void *old = v->items[idx];
  v->items[idx] = v->items[--v->len];
  return old;
}

/* see ptrvec.h */
void *
ptrvec_del_keeporder(ptrvec_t *v, size_t idx)
{
  if (BUG(idx >= v->len))
    return NULL;
  void *old = v->items[idx];
  memmove(v->items + idx, v->items + idx + 1,
          (v->len - idx - 1) * sizeof(void *));
  v->len--;
  return old;
}

/* see ptrvec.h */
void *
ptrvec_pop(ptrvec_t *v)
{
  return v->len ? v->items[--v->len] : NULL;
}

/* see ptrvec.h */
size_t
ptrvec_index_of(const ptrvec_t *v, const void *item)
{
  for (size_t i = 0; i < v->len; i++)
    if (v->items[i] == item)
      return i;
  return SIZE_MAX;
}

/* see ptrvec.h */
bool
ptrvec_contains(const ptrvec_t *v, const void *item)
{
  return ptrvec_index_of(v, item) != SIZE_MAX;
}

/* see ptrvec.h */
bool
ptrvec_remove(ptrvec_t *v, const void *item)
{
  size_t i = ptrvec_index_of(v, item);
  if (i == SIZE_MAX)
    return false;
  (void)ptrvec_del_keeporder(v, i);
  return true;
}

/** Restore the max-heap property below <b>root</b> in a[0..n). */
static void
sift_down(void **a, size_t root, size_t n, ptrvec_cmp_fn cmp)
{
  for (;;) {
    size_t child = 2 * root + 1;
    if (child >= n)
      return;
    if (child + 1 < n && cmp(a[child], a[child + 1]) < 0)
      child++;
    if (cmp(a[root], a[child]) >= 0)
      return;
    void *t = a[root];
    a[root] = a[child];
    a[child] = t;
    root = child;
  }
}

/* see ptrvec.h */
void
ptrvec_sort(ptrvec_t *v, ptrvec_cmp_fn cmp)
{
  void **a = v->items;
  size_t n = v->len;
  if (n < 2)
    return;
  for (size_t i = n / 2; i-- > 0;)
    sift_down(a, i, n, cmp);
  for (size_t end = n - 1; end > 0; end--) {
    void *t = a[0];
    a[0] = a[end];
    a[end] = t;
    sift_down(a, 0, end, cmp);
  }
}

/* see ptrvec.h */
void *
ptrvec_bsearch(const ptrvec_t *v, const void *key, ptrvec_key_cmp_fn cmp,
               size_t *idx_out)
{
  size_t lo = 0, hi = v->len; /* answer is in [lo, hi] */
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int c = cmp(key, v->items[mid]);
    if (c == 0) {
      if (idx_out)
        *idx_out = mid;
      return v->items[mid];
    }
    if (c < 0)
      hi = mid;
    else
      lo = mid + 1;
  }
  if (idx_out)
    *idx_out = lo;
  return NULL;
}
