/**
 * @file dmap.c
 * @brief Fixed-size-key hash map (see dmap.h).
 *
 * Layout: one block per table holding cap value pointers (NULL = empty
 * slot), cap 32-bit hashes and cap keys.  cap is a power of two and the
 * load factor stays at most 3/4, so probe sequences end at an empty slot.
 * Deletion shifts later members of the probe cluster back instead of
 * leaving tombstones (Knuth vol. 3, §6.4, Algorithm R).
 **/
#include "lib/cc/compat.h"

#include "lib/container/dmap.h"

#include <string.h>
#include <unistd.h>

#include "lib/container/siphash.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Smallest table, in slots. */
#define DMAP_MIN_CAP 8

struct dmap_t {
  size_t key_len;
  size_t max_entries;
  size_t n;     /**< entries */
  size_t cap;   /**< slots: 0 or a power of two */
  uint64_t gen; /**< bumped by every insert and remove */
  void **vals;  /**< cap entries; NULL marks an empty slot */
  uint32_t *hashes;
  uint8_t *keys; /**< cap * key_len bytes */
  uint8_t sip_key[SIPHASH_KEY_LEN];
};

/** Return the slot count needed for <b>n</b> entries. */
static size_t
cap_for(size_t n)
{
  size_t cap = DMAP_MIN_CAP;
  while (cap / 4 * 3 < n)
    cap *= 2;
  return cap;
}

/* see dmap.h */
chive_err_t
dmap_new(size_t key_len, size_t max_entries, dmap_t **out)
{
  if (BUG(key_len == 0 || key_len > DMAP_MAX_KEY_LEN) ||
      BUG(max_entries == 0 || max_entries > DMAP_MAX_ENTRIES_LIMIT))
    return CHIVE_ERR_INVAL;
  dmap_t *m = chive_zalloc(sizeof(*m));
  if (!m)
    return CHIVE_ERR_NOMEM;
  if (getentropy(m->sip_key, sizeof(m->sip_key)) != 0) {
    chive_free(m);
    return CHIVE_ERR_IO;
  }
  m->key_len = key_len;
  m->max_entries = max_entries;
  *out = m;
  return CHIVE_OK;
}

/* see dmap.h */
void
dmap_free_(dmap_t *m, void (*free_val)(void *))
{
  if (!m)
    return;
  if (free_val)
    for (size_t i = 0; i < m->cap; i++)
      if (m->vals[i])
        free_val(m->vals[i]);
  chive_free(m->vals);
  chive_memwipe(m->sip_key, sizeof(m->sip_key));
  chive_free(m);
}

/* see dmap.h */
size_t
dmap_size(const dmap_t *m)
{
  return m->n;
}

/* see dmap.h */
size_t
dmap_key_len(const dmap_t *m)
{
  return m->key_len;
}

static uint32_t
hash_key(const dmap_t *m, const void *key)
{
  return (uint32_t)siphash24(m->sip_key, key, m->key_len);
}

static uint8_t *
key_at(const dmap_t *m, size_t slot)
{
  return m->keys + slot * m->key_len;
}

/** Return the slot holding <b>key</b> (hash <b>h</b>), or the empty slot
 * where it would go. */
static size_t
find_slot(const dmap_t *m, const void *key, uint32_t h)
{
  const size_t mask = m->cap - 1;
  size_t i = h & mask;
  while (m->vals[i] &&
         !(m->hashes[i] == h && fast_memeq(key_at(m, i), key, m->key_len)))
    i = (i + 1) & mask;
  return i;
}

/** Move every entry into a new table of <b>cap</b> slots.  On failure
 * the map is unchanged. */
static chive_err_t
rehash(dmap_t *m, size_t cap)
{
  size_t per_slot = sizeof(void *) + sizeof(uint32_t) + m->key_len;
  uint8_t *block = chive_calloc(cap, per_slot);
  if (!block)
    return CHIVE_ERR_NOMEM;
  dmap_t nm = *m;
  nm.cap = cap;
  nm.vals = (void **)(void *)block;
  nm.hashes = (uint32_t *)(void *)(block + cap * sizeof(void *));
  nm.keys = block + cap * (sizeof(void *) + sizeof(uint32_t));
  for (size_t i = 0; i < m->cap; i++) {
    if (!m->vals[i])
      continue;
    size_t j = find_slot(&nm, key_at(m, i), m->hashes[i]);
    nm.vals[j] = m->vals[i];
    nm.hashes[j] = m->hashes[i];
    memcpy(key_at(&nm, j), key_at(m, i), m->key_len);
  }
  chive_free(m->vals);
  *m = nm;
  return CHIVE_OK;
}

/* see dmap.h */
chive_err_t
dmap_reserve(dmap_t *m, size_t n)
{
  if (n > m->max_entries)
    return CHIVE_ERR_LIMIT;
  size_t cap = cap_for(n);
  if (cap <= m->cap)
    return CHIVE_OK;
  return rehash(m, cap);
}

/* see dmap.h */
void *
dmap_get(const dmap_t *m, const void *key)
{
  if (m->n == 0)
    return NULL;
  return m->vals[find_slot(m, key, hash_key(m, key))];
}

/* see dmap.h */
chive_err_t
dmap_set(dmap_t *m, const void *key, void *val, void **old_out)
{
  if (BUG(val == NULL))
    return CHIVE_ERR_INVAL;
  uint32_t h = hash_key(m, key);
  if (m->n > 0) {
    size_t i = find_slot(m, key, h);
    if (m->vals[i]) {
      if (old_out)
        *old_out = m->vals[i];
      m->vals[i] = val;
      return CHIVE_OK;
    }
  }
  if (m->n >= m->max_entries)
    return CHIVE_ERR_LIMIT;
  chive_err_t e = dmap_reserve(m, m->n + 1);
  if (e != CHIVE_OK)
    return e;
  size_t i = find_slot(m, key, h);
  m->vals[i] = val;
  m->hashes[i] = h;
  memcpy(key_at(m, i), key, m->key_len);
  m->n++;
  m->gen++;
  if (old_out)
    *old_out = NULL;
  return CHIVE_OK;
}

/** Empty slot <b>i</b> and shift the rest of its cluster back so that
 * every remaining entry is still reachable from its home slot. */
static void
remove_slot(dmap_t *m, size_t i)
{
  const size_t mask = m->cap - 1;
  size_t j = i;
  for (;;) {
    j = (j + 1) & mask;
    if (!m->vals[j])
      break;
    size_t home = m->hashes[j] & mask;
    /* Entry j may fill the hole at i unless its home lies cyclically in
     * (i, j]: then moving it before its home would hide it. */
    if (((j - home) & mask) >= ((j - i) & mask)) {
      m->vals[i] = m->vals[j];
      m->hashes[i] = m->hashes[j];
      memcpy(key_at(m, i), key_at(m, j), m->key_len);
      i = j;
    }
  }
  m->vals[i] = NULL;
  m->n--;
  m->gen++;
}

/* see dmap.h */
void *
dmap_remove(dmap_t *m, const void *key)
{
  if (m->n == 0)
    return NULL;
  size_t i = find_slot(m, key, hash_key(m, key));
  void *val = m->vals[i];
  if (val)
    remove_slot(m, i);
  return val;
}

/* see dmap.h */
size_t
dmap_remove_if(dmap_t *m,
               bool (*pred)(const uint8_t *key, void *val, void *arg),
               void *arg)
{
  if (m->n == 0)
    return 0;
  const size_t mask = m->cap - 1;
  /* Start at an empty slot (one exists: load <= 3/4).  Then no probe
   * cluster wraps past the start, and the backward shift only moves
   * entries from later in the scan to the slot being examined or later,
   * so re-examining the current slot after a removal sees each entry
   * exactly once. */
  size_t start = 0;
  while (m->vals[start])
    start++;
  size_t removed = 0;
  for (size_t k = 0; k < m->cap;) {
    size_t i = (start + k) & mask;
    if (m->vals[i]) {
      uint64_t gen = m->gen;
      bool rm = pred(key_at(m, i), m->vals[i], arg);
      if (BUG(gen != m->gen))
        return removed;
      if (rm) {
        remove_slot(m, i);
        removed++;
        continue; /* slot i may now hold a not-yet-seen entry */
      }
    }
    k++;
  }
  return removed;
}

/* see dmap.h */
bool
dmap_iter_next(const dmap_t *m, dmap_iter_t *it, const uint8_t **key_out,
               void **val_out)
{
  if (!it->started) {
    it->started = true;
    it->gen = m->gen;
    it->next_slot = 0;
  } else if (BUG(it->gen != m->gen)) {
    return false;
  }
  for (size_t i = it->next_slot; i < m->cap; i++) {
    if (m->vals[i]) {
      it->next_slot = i + 1;
      *key_out = key_at(m, i);
      *val_out = m->vals[i];
      return true;
    }
  }
  it->next_slot = m->cap;
  return false;
}
