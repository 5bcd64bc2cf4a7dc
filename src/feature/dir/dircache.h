/**
 * @file dircache.h
 * @brief The client's on-disk directory cache: file names (tor's), size
 * caps, atomic writes with mode 0600, and the pure helpers dirmgr needs
 * to keep per-document text: splitting a microdescriptor batch or a
 * certificate batch into the exact text of each document.
 *
 * Files (in the cache directory, tor's names):
 *   cached-microdesc-consensus  the last verified microdesc consensus
 *   cached-certs                the authority certificates we hold
 *   cached-microdescs           the microdescriptors we hold (no journal:
 *                               the whole file is rewritten atomically)
 *
 * Everything read back from disk is untrusted input: dirmgr parses and
 * verifies it exactly as if it came from the network.
 **/
#ifndef CHIVE_FEATURE_DIR_DIRCACHE_H
#define CHIVE_FEATURE_DIR_DIRCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

#define DIRCACHE_CONSENSUS_FILE "cached-microdesc-consensus"
#define DIRCACHE_CERTS_FILE "cached-certs"
#define DIRCACHE_MDS_FILE "cached-microdescs"

/** Largest consensus file read (tor's MAX_DIR_DL_SIZE, 16 MiB - 1). */
#define DIRCACHE_MAX_CONSENSUS_LEN (((size_t)16 << 20) - 1)
/** Largest certificate file read, bytes (9 certs are ~20 KiB). */
#define DIRCACHE_MAX_CERTS_LEN ((size_t)1 << 20)
/** Largest microdescriptor file read, bytes (the 2025 network with long
 * family lines needs tens of MiB). */
#define DIRCACHE_MAX_MDS_LEN ((size_t)64 << 20)
/** Mode of every cache file. */
#define DIRCACHE_FILE_MODE 0600u

/** Called once per document text found by a splitter; return false to
 * stop the walk. */
typedef bool (*dircache_chunk_fn)(const char *s, size_t len, void *arg);

/** Walk the microdescriptors in the <b>len</b> bytes at <b>s</b> and call
 * <b>fn</b> with the text of each, framed exactly as md_list_parse()
 * frames them for its digest (dir-spec §3.3): from an "onion-key" line
 * (or an "ntor-onion-key" line that is not the first in the current
 * descriptor) up to the next such line, the next "@" annotation line, or
 * the end; annotations are excluded.  Object bodies cannot contain those
 * keywords ('-' and '@' are not base64), so the walk is line-based.
 * Returns the number of chunks passed to fn.  Pure. */
size_t dircache_split_mds(const char *s, size_t len, dircache_chunk_fn fn,
                          void *arg);

/** Walk the authority certificates in the <b>len</b> bytes at <b>s</b>:
 * each chunk runs from a "dir-key-certificate-version" line to the next
 * one or the end (dir-spec §3.1: that keyword is "at start, exactly
 * once").  Text before the first one is skipped.  Returns the number of
 * chunks.  Pure. */
size_t dircache_split_certs(const char *s, size_t len, dircache_chunk_fn fn,
                            void *arg);

/** Make sure <b>dir</b> exists and is private (0700). */
CHIVE_MUST_CHECK chive_err_t dircache_prepare_dir(const char *dir);

/** Read "<dir>/<name>" (at most <b>max_len</b> bytes, else
 * CHIVE_ERR_LIMIT) into a chive_malloc'd NUL-terminated buffer.
 * CHIVE_ERR_NOTFOUND if it does not exist, CHIVE_ERR_IO otherwise. */
CHIVE_MUST_CHECK chive_err_t dircache_read(const char *dir, const char *name,
                                           size_t max_len, uint8_t **out,
                                           size_t *len_out);

/** Replace "<dir>/<name>" atomically with <b>len</b> bytes (mode
 * DIRCACHE_FILE_MODE). */
CHIVE_MUST_CHECK chive_err_t dircache_write(const char *dir, const char *name,
                                            const void *data, size_t len);

/** Remove "<dir>/<name>" (missing is fine). */
CHIVE_MUST_CHECK chive_err_t dircache_remove(const char *dir,
                                             const char *name);

/** A growable byte buffer for building cache files (chive_malloc'd). */
typedef struct dircache_buf_t {
  char *p;
  size_t len;
  size_t cap;
  size_t max; /**< Appends beyond this many bytes fail (CHIVE_ERR_LIMIT). */
} dircache_buf_t;

/** Initialise <b>b</b> empty, holding at most <b>max</b> bytes. */
void dircache_buf_init(dircache_buf_t *b, size_t max);
/** Append <b>n</b> bytes; CHIVE_ERR_NOMEM / CHIVE_ERR_LIMIT leave <b>b</b>
 * unchanged. */
CHIVE_MUST_CHECK chive_err_t dircache_buf_add(dircache_buf_t *b,
                                              const void *data, size_t n);
/** Free the bytes held by <b>b</b> and make it empty again. */
void dircache_buf_clear(dircache_buf_t *b);

#endif /* !defined(CHIVE_FEATURE_DIR_DIRCACHE_H) */
