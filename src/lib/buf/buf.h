/**
 * @file buf.h
 * @brief A bounded byte queue for I/O edges, with "pull up N contiguous
 * bytes" so a framer can parse a complete frame in place.
 *
 * A buf_t is a FIFO of bytes held in a list of heap chunks (allocated
 * through lib/malloc, so they count against the memory budget).  Every
 * buf_t has a maximum length fixed at creation: an add that would exceed
 * it fails with CHIVE_ERR_LIMIT and changes nothing (STYLE §2.7
 * "bounded everything").  Chunks are wiped when freed, since link
 * plaintext passes through here.
 *
 * Not thread-safe; one owner.  Pointers returned by buf_pullup() and
 * buf_head() are borrowed: valid until the next call that modifies the
 * buffer.
 **/
#ifndef CHIVE_LIB_BUF_BUF_H
#define CHIVE_LIB_BUF_BUF_H

#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/malloc/malloc.h"

typedef struct buf_t buf_t;

/** Default size of a chunk's data area, in bytes. */
#define BUF_CHUNK_LEN 4096
/** Largest maximum a buf_t may be created with (64 MiB). */
#define BUF_MAX_LEN_LIMIT (64u * 1024u * 1024u)

/** Return a new empty buffer that holds at most <b>max_len</b> bytes
 * (1 .. BUF_MAX_LEN_LIMIT), or NULL on OOM or a bad maximum.  Caller
 * frees with buf_free(). */
buf_t *buf_new(size_t max_len);
/** Free <b>b</b> and its chunks (wiped).  NULL is a no-op. */
void buf_free_(buf_t *b);
#define buf_free(b) CHIVE_FREE_AND_NULL(buf_t, buf_free_, (b))

/** Bytes queued. */
size_t buf_len(const buf_t *b);
/** The maximum given at creation. */
size_t buf_max_len(const buf_t *b);
/** Bytes that can still be added (max_len - len). */
size_t buf_room(const buf_t *b);

/** Append <b>n</b> bytes at <b>data</b>.  All or nothing: returns
 * CHIVE_ERR_LIMIT if the result would exceed the maximum and
 * CHIVE_ERR_NOMEM on allocation failure, leaving <b>b</b> unchanged. */
CHIVE_MUST_CHECK chive_err_t buf_add(buf_t *b, const void *data, size_t n);

/** Make the first <b>n</b> bytes contiguous and set *<b>out</b> to them
 * (borrowed, valid until the next modifying call).  Returns
 * CHIVE_ERR_TRUNCATED if fewer than <b>n</b> bytes are queued,
 * CHIVE_ERR_NOMEM on allocation failure (buffer unchanged).  n == 0
 * yields a non-NULL pointer only if the buffer is non-empty. */
CHIVE_MUST_CHECK chive_err_t buf_pullup(buf_t *b, size_t n,
                                        const uint8_t **out);

/** Copy up to <b>n</b> bytes from the front into <b>out</b> without
 * removing them; return how many were copied. */
size_t buf_peek(const buf_t *b, void *out, size_t n);
/** Remove up to <b>n</b> bytes from the front; return how many. */
size_t buf_drain(buf_t *b, size_t n);
/** Copy up to <b>n</b> bytes into <b>out</b> and remove them; return how
 * many. */
size_t buf_remove(buf_t *b, void *out, size_t n);
/** Return a borrowed view of the first contiguous run of bytes (for a
 * write(2)), with its length in *<b>len_out</b>; NULL when empty. */
const uint8_t *buf_head(const buf_t *b, size_t *len_out);
/** Move the first <b>n</b> bytes of <b>src</b> to the end of <b>dst</b>.
 * CHIVE_ERR_TRUNCATED if src holds fewer, CHIVE_ERR_LIMIT if dst has no
 * room, CHIVE_ERR_NOMEM; both unchanged on failure. */
CHIVE_MUST_CHECK chive_err_t buf_move(buf_t *dst, buf_t *src, size_t n);
/** Drop (and wipe) everything queued. */
void buf_clear(buf_t *b);

#endif /* !defined(CHIVE_LIB_BUF_BUF_H) */
