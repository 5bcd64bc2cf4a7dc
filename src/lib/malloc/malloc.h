/**
 * @file malloc.h
 * @brief The allocator every chive module uses: hooks, byte accounting,
 * fail injection for tests, secret wiping and constant-time compare.
 *
 * Raw malloc/calloc/realloc/free are banned outside this module
 * (scripts/check_banned.sh).  Every block carries a small header with its
 * size so that chive_mem_in_use() is exact; that number is what the
 * "heap bytes held" measurements report.
 *
 * Process-wide state here is limited to what must be process-wide: the
 * allocator hooks (set before any client exists, like curl's
 * curl_global_init_mem), the byte counters (atomic) and the test-only
 * fail-the-Nth-allocation hook.
 **/
#ifndef CHIVE_LIB_MALLOC_MALLOC_H
#define CHIVE_LIB_MALLOC_MALLOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Allocate <b>n</b> bytes (n may be 0).  Returns NULL only on failure;
 * caller frees with chive_free(). */
void *chive_malloc(size_t n);
/** Allocate <b>count</b> * <b>size</b> zeroed bytes; NULL on overflow or
 * failure. */
void *chive_calloc(size_t count, size_t size);
/** Allocate <b>n</b> zeroed bytes. */
void *chive_zalloc(size_t n);
/** Resize <b>p</b> (which may be NULL).  On failure returns NULL and
 * leaves <b>p</b> valid and unchanged. */
void *chive_realloc(void *p, size_t n);
/** Free <b>p</b>; NULL is a no-op. */
void chive_free(void *p);
/** Wipe the whole block, then free it.  For blocks holding secrets. */
void chive_free_wipe(void *p);
/** Return a NUL-terminated copy of <b>s</b>, or NULL on failure. */
char *chive_strdup(const char *s);
/** Return a NUL-terminated copy of the first <b>n</b> bytes of <b>s</b>. */
char *chive_strndup(const char *s, size_t n);
/** Return a copy of <b>n</b> bytes at <b>p</b>. */
void *chive_memdup(const void *p, size_t n);

/** Free <b>p</b> with <b>fn</b> and set it to NULL (tor's idiom). */
#define CHIVE_FREE_AND_NULL(type, fn, p) \
  do {                                   \
    fn((type *)(p));                     \
    (p) = NULL;                          \
  } while (0)
#define chive_free_and_null(p) CHIVE_FREE_AND_NULL(void, chive_free, (p))

/** Underlying allocator, replaceable once before any client exists. */
typedef void *(*chive_malloc_fn)(size_t);
typedef void *(*chive_realloc_fn)(void *, size_t);
typedef void (*chive_free_fn)(void *);

/** Replace the underlying allocator.  MUST be called before anything was
 * allocated through chive_malloc (returns CHIVE_ERR_INVAL otherwise). */
CHIVE_MUST_CHECK chive_err_t chive_set_allocator(chive_malloc_fn m,
                                                 chive_realloc_fn r,
                                                 chive_free_fn f);

/** Bytes currently allocated through this module (user sizes). */
size_t chive_mem_in_use(void);
/** Highest value chive_mem_in_use() has had. */
size_t chive_mem_peak(void);
/** Number of allocations made so far (for fail-injection loops). */
uint64_t chive_mem_n_allocs(void);
/** Reset the peak to the current value. */
void chive_mem_reset_peak(void);

/** Test hook: make the <b>n</b>th allocation from now (1-based) fail,
 * and every later one too if <b>sticky</b>.  n == 0 disables. */
void chive_mem_fail_nth(uint64_t n, bool sticky);
/** Return true iff a fail-injection fired since the last call to
 * chive_mem_fail_nth(). */
bool chive_mem_fail_fired(void);

/** Overwrite <b>n</b> bytes at <b>p</b> with zeros in a way the compiler
 * may not remove.  For key material and passwords. */
void chive_memwipe(void *p, size_t n);
/** Compare <b>n</b> bytes in time that depends only on <b>n</b>.  Returns
 * true iff equal.  Use for MACs, digests of secrets, cookies. */
bool chive_memeq_ct(const void *a, const void *b, size_t n);
/** Return true iff all <b>n</b> bytes at <b>p</b> are zero, in constant
 * time. */
bool chive_is_zero_ct(const void *p, size_t n);
/** Data-dependent comparison, named so review sees the choice. */
bool fast_memeq(const void *a, const void *b, size_t n);

#endif /* !defined(CHIVE_LIB_MALLOC_MALLOC_H) */
