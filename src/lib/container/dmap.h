/**
 * @file dmap.h
 * @brief Hash map from fixed-size byte keys to non-NULL pointers: relay
 * digests (20 or 32 bytes), circuit and stream IDs (4 bytes, big-endian
 * via dmap_key_u32()), and the like.
 *
 * Open addressing with linear probing and backward-shift deletion (no
 * tombstones), keys stored inline, SipHash-2-4 under a random per-map
 * key so that adversarial keys cannot force collisions.  Every map has a
 * maximum number of entries fixed at creation.
 *
 * Failure rules: allocating calls return chive_err_t and leave the map
 * unchanged on failure (CHIVE_ERR_NOMEM, or CHIVE_ERR_LIMIT at the
 * maximum).  dmap_reserve() lets a caller allocate up front so that the
 * inserts that follow cannot fail.  Values MUST NOT be NULL (NULL is how
 * dmap_get() says "absent").  The map does not own its values unless a
 * free function is passed to dmap_free().  Iterators are invalidated by
 * any insert or remove (BUG() fires if one is used after that); use
 * dmap_remove_if() to remove while walking.  Not thread-safe.
 **/
#ifndef CHIVE_LIB_CONTAINER_DMAP_H
#define CHIVE_LIB_CONTAINER_DMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Longest key a map accepts, in bytes. */
#define DMAP_MAX_KEY_LEN 64
/** The largest max_entries any map accepts: 2^24 (16 Mi) entries. */
#define DMAP_MAX_ENTRIES_LIMIT ((size_t)1 << 24)

typedef struct dmap_t dmap_t;

/** Create an empty map for <b>key_len</b>-byte keys (1..DMAP_MAX_KEY_LEN)
 * holding at most <b>max_entries</b> (1..DMAP_MAX_ENTRIES_LIMIT).  Draws
 * the hash key from the OS (getentropy()).  On success set *<b>out</b>;
 * returns CHIVE_ERR_INVAL for bad sizes, CHIVE_ERR_NOMEM, or
 * CHIVE_ERR_IO if the OS has no randomness to give. */
CHIVE_MUST_CHECK chive_err_t dmap_new(size_t key_len, size_t max_entries,
                                      dmap_t **out);
/** Call <b>free_val</b> (if not NULL) on every value, then free
 * <b>m</b>.  NULL is a no-op. */
void dmap_free_(dmap_t *m, void (*free_val)(void *));
#define dmap_free(m, fn)   \
  do {                     \
    dmap_free_((m), (fn)); \
    (m) = NULL;            \
  } while (0)

/** Number of entries. */
size_t dmap_size(const dmap_t *m);
/** Key length this map was created with. */
size_t dmap_key_len(const dmap_t *m);

/** Return the value stored under the key_len bytes at <b>key</b>, or
 * NULL.  Key comparison is data-dependent (fast_memeq-style): do not use
 * secret keys. */
void *dmap_get(const dmap_t *m, const void *key);
/** Store <b>val</b> (non-NULL) under <b>key</b>.  If the key was present
 * its value is replaced and the old one returned in *<b>old_out</b> (if
 * not NULL); otherwise *old_out is set to NULL.  Replacing never
 * allocates, so it cannot fail. */
CHIVE_MUST_CHECK chive_err_t dmap_set(dmap_t *m, const void *key, void *val,
                                      void **old_out);
/** Make sure the map can hold <b>n</b> entries without allocating.
 * CHIVE_ERR_LIMIT if n is above the maximum. */
CHIVE_MUST_CHECK chive_err_t dmap_reserve(dmap_t *m, size_t n);
/** Remove <b>key</b>; return its value, or NULL if it was absent.  Never
 * allocates. */
void *dmap_remove(dmap_t *m, const void *key);
/** Call <b>pred</b> on every entry; remove the entries for which it
 * returns true (pred may free the value it is given, but MUST NOT touch
 * the map).  Returns the number removed.  Each entry is seen once. */
size_t dmap_remove_if(dmap_t *m,
                      bool (*pred)(const uint8_t *key, void *val, void *arg),
                      void *arg);

/** Iterator: initialise with DMAP_ITER_INIT.  Do not touch the fields. */
typedef struct dmap_iter_t {
  size_t next_slot;
  uint64_t gen;
  bool started;
} dmap_iter_t;
#define DMAP_ITER_INIT \
  {                    \
    0, 0, false        \
  }

/** Advance <b>it</b> to the next entry: set *<b>key_out</b> (borrowed,
 * key_len bytes) and *<b>val_out</b> and return true; return false at
 * the end.  Order is unspecified. */
bool dmap_iter_next(const dmap_t *m, dmap_iter_t *it, const uint8_t **key_out,
                    void **val_out);

/** Iterate over every entry of <b>m</b> with <b>key</b> (const uint8_t *)
 * and <b>val</b> (void *) declared by the caller.  Do not modify the map
 * in the body. */
#define CHIVE_MAP_FOREACH(m, it, key, val) \
  for (dmap_iter_t it = DMAP_ITER_INIT;    \
       dmap_iter_next((m), &it, &(key), &(val));)

/** Write <b>v</b> as a 4-byte big-endian key (for u32 IDs). */
static inline void
dmap_key_u32(uint8_t out[4], uint32_t v)
{
  out[0] = (uint8_t)(v >> 24);
  out[1] = (uint8_t)(v >> 16);
  out[2] = (uint8_t)(v >> 8);
  out[3] = (uint8_t)v;
}

#endif /* !defined(CHIVE_LIB_CONTAINER_DMAP_H) */
