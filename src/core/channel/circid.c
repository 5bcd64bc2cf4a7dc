/**
 * @file circid.c
 * @brief Circuit ID allocation (tor-spec §5.1.1).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "core/channel/circid.h"
#include "lib/bytes/bytes.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

void
circid_set_init(circid_set_t *s)
{
  memset(s, 0, sizeof(*s));
}

void
circid_set_clear(circid_set_t *s)
{
  chive_free(s->ids);
  memset(s, 0, sizeof(*s));
}

/** Index of the first entry >= id. */
static size_t
lower_bound(const circid_set_t *s, uint32_t id)
{
  size_t lo = 0, hi = s->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    if (s->ids[mid] < id)
      lo = mid + 1;
    else
      hi = mid;
  }
  return lo;
}

bool
circid_set_contains(const circid_set_t *s, uint32_t id)
{
  size_t i = lower_bound(s, id);
  return i < s->n && s->ids[i] == id;
}

/* see circid.h */
chive_err_t
circid_set_add(circid_set_t *s, uint32_t id)
{
  if (id == 0)
    return CHIVE_ERR_INVAL;
  size_t i = lower_bound(s, id);
  if (i < s->n && s->ids[i] == id)
    return CHIVE_ERR_INVAL;
  if (s->n >= CIRCID_SET_MAX_ENTRIES)
    return CHIVE_ERR_LIMIT;
  if (s->n == s->cap) {
    size_t ncap = s->cap ? s->cap * 2 : 16;
    if (ncap > CIRCID_SET_MAX_ENTRIES)
      ncap = CIRCID_SET_MAX_ENTRIES;
    uint32_t *p = chive_realloc(s->ids, ncap * sizeof(uint32_t));
    if (!p)
      return CHIVE_ERR_NOMEM;
    s->ids = p;
    s->cap = ncap;
  }
  memmove(s->ids + i + 1, s->ids + i, (s->n - i) * sizeof(uint32_t));
  s->ids[i] = id;
  s->n++;
  return CHIVE_OK;
}

bool
circid_set_remove(circid_set_t *s, uint32_t id)
{
  size_t i = lower_bound(s, id);
  if (i >= s->n || s->ids[i] != id)
    return false;
  memmove(s->ids + i, s->ids + i + 1, (s->n - i - 1) * sizeof(uint32_t));
  s->n--;
  return true;
}

size_t
circid_set_count(const circid_set_t *s)
{
  return s->n;
}

static chive_err_t
default_rng(void *arg, uint8_t *out, size_t len)
{
  (void)arg;
  return crypto_rand(out, len);
}

/* see circid.h */
chive_err_t
circid_alloc(circid_set_t *s, unsigned link_proto, circid_rand_fn rng,
             void *rng_arg, uint32_t *out)
{
  if (link_proto < 3 || link_proto > 5)
    return CHIVE_ERR_INVAL;
  if (s->n >= CIRCID_SET_MAX_ENTRIES)
    return CHIVE_ERR_LIMIT;
  if (!rng)
    rng = default_rng;
  for (int attempt = 0; attempt < CIRCID_MAX_ATTEMPTS; attempt++) {
    uint8_t r[4];
    chive_err_t err = rng(rng_arg, r, sizeof(r));
    if (err)
      return err;
    uint32_t id;
    if (link_proto >= 4) {
      /* tor-spec §5.1.1: the initiator sets the MSB. */
      id = load_u32(r) | 0x80000000u;
    } else {
      /* 2-byte IDs; a keyless client may choose any nonzero value. */
      id = load_u16(r);
    }
    if (id == 0 || circid_set_contains(s, id))
      continue;
    err = circid_set_add(s, id);
    if (err)
      return err;
    *out = id;
    return CHIVE_OK;
  }
  return CHIVE_ERR_LIMIT;
}
