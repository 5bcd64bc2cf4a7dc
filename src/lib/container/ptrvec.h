/**
 * @file ptrvec.h
 * @brief A growable vector of pointers (tor's smartlist, bounded).
 *
 * Every vector has a maximum length fixed at init, so a peer cannot make
 * one grow without bound.  Allocating calls return chive_err_t and leave
 * the vector unchanged on failure (CHIVE_ERR_NOMEM, or CHIVE_ERR_LIMIT at
 * the maximum).  The vector does not own its elements unless the caller
 * passes a free function to ptrvec_clear()/ptrvec_free().  Indexes out of
 * range are caller bugs: BUG() fires and the call does nothing.
 * Not thread-safe.
 **/
#ifndef CHIVE_LIB_CONTAINER_PTRVEC_H
#define CHIVE_LIB_CONTAINER_PTRVEC_H

#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** The largest max_len any vector accepts: 2^28 elements (2 GiB of
 * pointers on 64-bit). */
#define PTRVEC_MAX_LEN_LIMIT ((size_t)1 << 28)

typedef struct ptrvec_t {
  void **items; /**< len used entries of cap allocated */
  size_t len;
  size_t cap;
  size_t max_len; /**< len never exceeds this */
} ptrvec_t;

/** Element destructor for ptrvec_clear()/ptrvec_free(). */
typedef void (*ptrvec_free_fn)(void *item);
/** Ordering of two elements: <0, 0, >0 as for qsort (but the arguments
 * are the elements themselves, not pointers to them). */
typedef int (*ptrvec_cmp_fn)(const void *a, const void *b);
/** Ordering of a search <b>key</b> against element <b>item</b>. */
typedef int (*ptrvec_key_cmp_fn)(const void *key, const void *item);

/** Initialise <b>v</b> empty with room for at most <b>max_len</b>
 * elements (clamped to PTRVEC_MAX_LEN_LIMIT).  Allocates nothing. */
void ptrvec_init(ptrvec_t *v, size_t max_len);
/** Call <b>free_fn</b> (if not NULL) on every element, free the storage,
 * leave <b>v</b> empty and reusable. */
void ptrvec_clear(ptrvec_t *v, ptrvec_free_fn free_fn);
/** Return a new empty heap vector, or NULL on OOM. */
ptrvec_t *ptrvec_new(size_t max_len);
/** ptrvec_clear() then free <b>v</b>; NULL is a no-op. */
void ptrvec_free_(ptrvec_t *v, ptrvec_free_fn free_fn);
#define ptrvec_free(v, fn)   \
  do {                       \
    ptrvec_free_((v), (fn)); \
    (v) = NULL;              \
  } while (0)

/** Make sure <b>n</b> elements fit without allocating again. */
CHIVE_MUST_CHECK chive_err_t ptrvec_reserve(ptrvec_t *v, size_t n);
/** Append <b>item</b> (NULL allowed). */
CHIVE_MUST_CHECK chive_err_t ptrvec_add(ptrvec_t *v, void *item);
/** Insert <b>item</b> at <b>idx</b> (0..len), shifting later ones up. */
CHIVE_MUST_CHECK chive_err_t ptrvec_insert(ptrvec_t *v, size_t idx,
                                           void *item);

static inline size_t
ptrvec_len(const ptrvec_t *v)
{
  return v->len;
}
/** Return element <b>idx</b> (MUST be < len; NULL and BUG otherwise). */
void *ptrvec_get(const ptrvec_t *v, size_t idx);
/** Replace element <b>idx</b> (MUST be < len); return the old one. */
void *ptrvec_set(ptrvec_t *v, size_t idx, void *item);
/** Remove element <b>idx</b> by moving the last element into its place
 * (O(1), changes order); return it. */
void *ptrvec_del(ptrvec_t *v, size_t idx);
/** Remove element <b>idx</b>, shifting later ones down (keeps order);
 * return it. */
void *ptrvec_del_keeporder(ptrvec_t *v, size_t idx);
/** Remove and return the last element, or NULL if empty. */
void *ptrvec_pop(ptrvec_t *v);
/** Return the index of the first element == <b>item</b>, or SIZE_MAX. */
size_t ptrvec_index_of(const ptrvec_t *v, const void *item);
/** Return true iff some element == <b>item</b>. */
bool ptrvec_contains(const ptrvec_t *v, const void *item);
/** Remove the first element == <b>item</b>, keeping order; return true
 * if one was found. */
bool ptrvec_remove(ptrvec_t *v, const void *item);

/** Sort in place by <b>cmp</b> (heapsort: O(n log n), no allocation,
 * not stable). */
void ptrvec_sort(ptrvec_t *v, ptrvec_cmp_fn cmp);
/** Binary-search a vector sorted consistently with <b>cmp</b>.  Return
 * the matching element (any one, if several) or NULL.  If
 * <b>idx_out</b> is not NULL set it to the match's index, or to where
 * <b>key</b> would be inserted to keep the order. */
void *ptrvec_bsearch(const ptrvec_t *v, const void *key, ptrvec_key_cmp_fn cmp,
                     size_t *idx_out);

#endif /* !defined(CHIVE_LIB_CONTAINER_PTRVEC_H) */
