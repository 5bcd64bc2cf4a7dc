/**
 * @file dirarena.h
 * @brief A bump allocator for parsed directory documents.
 *
 * Every parsed directory object (consensus, microdescriptor batch,
 * authority certificate) keeps all of its variable-size data in one arena
 * that is freed as a whole (tor's memarea idea).  Blocks are taken from
 * chunks of DIRARENA_CHUNK_LEN bytes (or one exact-size chunk for a larger
 * request), so the number of chive_malloc calls and their header overhead
 * stay small.  A request larger than a quarter chunk gets its own
 * exact-size chunk, so big arrays (router lists) waste nothing and at
 * most one partly used chunk is ever wasted.  Blocks never move.
 *
 * Not thread-safe; one arena belongs to one document.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_DIRARENA_H
#define CHIVE_FEATURE_DIR_PARSE_DIRARENA_H

#include <stddef.h>
#include <stdint.h>

#include "lib/malloc/malloc.h"

/** Default chunk payload size, bytes. */
#define DIRARENA_CHUNK_LEN ((size_t)64 * 1024)
/** Largest single request, bytes (above this dirarena_alloc fails). */
#define DIRARENA_MAX_ALLOC ((size_t)64 * 1024 * 1024)

typedef struct dirarena_t dirarena_t;

/** Return a new empty arena, or NULL on allocation failure.  Free with
 * dirarena_free(). */
dirarena_t *dirarena_new(void);
/** Free <b>a</b> and every block allocated from it.  NULL is a no-op. */
void dirarena_free_(dirarena_t *a);
#define dirarena_free(p) CHIVE_FREE_AND_NULL(dirarena_t, dirarena_free_, (p))

/** Return <b>n</b> zeroed bytes aligned for any scalar type, owned by
 * <b>a</b>; NULL on allocation failure or when n > DIRARENA_MAX_ALLOC. */
void *dirarena_alloc(dirarena_t *a, size_t n);
/** Return a NUL-terminated copy of the <b>n</b> bytes at <b>s</b>, owned
 * by <b>a</b>; NULL on failure. */
char *dirarena_strndup(dirarena_t *a, const char *s, size_t n);
/** Return a copy of the <b>n</b> bytes at <b>p</b>; NULL on failure. */
void *dirarena_memdup(dirarena_t *a, const void *p, size_t n);
/** Bytes held by <b>a</b> (chunk payloads plus bookkeeping). */
size_t dirarena_bytes(const dirarena_t *a);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_DIRARENA_H) */
