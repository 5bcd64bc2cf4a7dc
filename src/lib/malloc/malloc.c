/**
 * @file malloc.c
 * @brief Accounting allocator over a replaceable backend.
 *
 * Each block is [header][user bytes]; the header records the user size so
 * frees can be accounted exactly.  The header is 16 bytes to keep user
 * pointers aligned for any type (max_align_t on the platforms we target).
 **/
#include "lib/cc/compat.h"

#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "lib/malloc/malloc.h"

#define MALLOC_HEADER_LEN 16
CHIVE_STATIC_ASSERT(MALLOC_HEADER_LEN >= sizeof(size_t) &&
                        MALLOC_HEADER_LEN % alignof(max_align_t) == 0,
                    "header keeps user pointers aligned");

/* This file is the one place that may call the C allocator directly. */
static chive_malloc_fn backend_malloc = malloc;
static chive_realloc_fn backend_realloc = realloc;
static chive_free_fn backend_free = free;

static atomic_size_t mem_in_use;
static atomic_size_t mem_peak;
static atomic_uint_fast64_t n_allocs;
static atomic_uint_fast64_t fail_at; /* 0: off; else alloc index to fail */
static atomic_bool fail_sticky;
static atomic_bool fail_fired;

chive_err_t
chive_set_allocator(chive_malloc_fn m, chive_realloc_fn r, chive_free_fn f)
{
  if (!m || !r || !f || atomic_load(&n_allocs) != 0)
    return CHIVE_ERR_INVAL;
  backend_malloc = m;
  backend_realloc = r;
  backend_free = f;
  return CHIVE_OK;
}

/** Count one allocation; return false if fail injection says it fails. */
static bool
alloc_permitted(void)
{
  uint64_t idx = (uint64_t)atomic_fetch_add(&n_allocs, 1) + 1;
  uint64_t at = (uint64_t)atomic_load(&fail_at);
  if (at == 0)
    return true;
  if (idx == at || (idx > at && atomic_load(&fail_sticky))) {
    atomic_store(&fail_fired, true);
    return false;
  }
  return true;
}

static void
account_add(size_t n)
{
  size_t now = atomic_fetch_add(&mem_in_use, n) + n;
  size_t peak = atomic_load(&mem_peak);
  while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now))
    ;
}

void *
chive_malloc(size_t n)
{
  if (n > SIZE_MAX - MALLOC_HEADER_LEN || !alloc_permitted())
    return NULL;
  uint8_t *b = backend_malloc(n + MALLOC_HEADER_LEN);
  if (!b)
    return NULL;
  memcpy(b, &n, sizeof(n));
  account_add(n);
  return b + MALLOC_HEADER_LEN;
}

void *
chive_zalloc(size_t n)
{
  void *p = chive_malloc(n);
  if (p)
    memset(p, 0, n);
  return p;
}

void *
chive_calloc(size_t count, size_t size)
{
  if (size && count > SIZE_MAX / size)
    return NULL;
  return chive_zalloc(count * size);
}

static uint8_t *
block_of(void *p, size_t *n_out)
{
  uint8_t *b = (uint8_t *)p - MALLOC_HEADER_LEN;
  memcpy(n_out, b, sizeof(*n_out));
  return b;
}

void *
chive_realloc(void *p, size_t n)
{
  if (!p)
    return chive_malloc(n);
  if (n > SIZE_MAX - MALLOC_HEADER_LEN || !alloc_permitted())
    return NULL;
  size_t old_n;
  uint8_t *b = block_of(p, &old_n);
  uint8_t *nb = backend_realloc(b, n + MALLOC_HEADER_LEN);
  if (!nb)
    return NULL;
  memcpy(nb, &n, sizeof(n));
  atomic_fetch_sub(&mem_in_use, old_n);
  account_add(n);
  return nb + MALLOC_HEADER_LEN;
}

void
chive_free(void *p)
{
  if (!p)
    return;
  size_t n;
  uint8_t *b = block_of(p, &n);
  atomic_fetch_sub(&mem_in_use, n);
  backend_free(b);
}

void
chive_free_wipe(void *p)
{
  if (!p)
    return;
  size_t n;
  (void)block_of(p, &n);
  chive_memwipe(p, n);
  chive_free(p);
}

char *
chive_strndup(const char *s, size_t n)
{
  char *d = chive_malloc(n + 1);
  if (!d)
    return NULL;
  memcpy(d, s, n);
  d[n] = '\0';
  return d;
}

char *
chive_strdup(const char *s)
{
  return chive_strndup(s, strlen(s));
}

void *
chive_memdup(const void *p, size_t n)
{
  void *d = chive_malloc(n);
  if (d && n)
    memcpy(d, p, n);
  return d;
}

size_t
chive_mem_in_use(void)
{
  return atomic_load(&mem_in_use);
}

size_t
chive_mem_peak(void)
{
  return atomic_load(&mem_peak);
}

uint64_t
chive_mem_n_allocs(void)
{
  return (uint64_t)atomic_load(&n_allocs);
}

void
chive_mem_reset_peak(void)
{
  atomic_store(&mem_peak, atomic_load(&mem_in_use));
}

void
chive_mem_fail_nth(uint64_t n, bool sticky)
{
  atomic_store(&fail_fired, false);
  atomic_store(&fail_sticky, sticky);
  atomic_store(&fail_at, n ? (uint64_t)atomic_load(&n_allocs) + n : 0);
}

bool
chive_mem_fail_fired(void)
{
  return atomic_load(&fail_fired);
}

/* A volatile function pointer stops the compiler from proving the memset
 * dead and removing it (the OPENSSL_cleanse / sodium_memzero trick). */
static void *(*const volatile memset_volatile)(void *, int, size_t) = memset;

void
chive_memwipe(void *p, size_t n)
{
  if (p && n)
    memset_volatile(p, 0, n);
}

bool
chive_memeq_ct(const void *a, const void *b, size_t n)
{
  const volatile uint8_t *x = a, *y = b;
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= (uint8_t)(x[i] ^ y[i]);
  return acc == 0;
}

bool
chive_is_zero_ct(const void *p, size_t n)
{
  const volatile uint8_t *x = p;
  uint8_t acc = 0;
  for (size_t i = 0; i < n; i++)
    acc |= x[i];
  return acc == 0;
}

bool
fast_memeq(const void *a, const void *b, size_t n)
{
  return memcmp(a, b, n) == 0;
}
