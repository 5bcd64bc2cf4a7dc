/**
 * @file fs.h
 * @brief Files the client keeps in its DataDirectory: bounded reads,
 * atomic replacement (temp file + fsync + rename), private directories.
 *
 * Files on disk are treated as untrusted input by their parsers; this
 * module only bounds their size.
 **/
#ifndef CHIVE_LIB_FS_FS_H
#define CHIVE_LIB_FS_FS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Longest path this module builds. */
#define FS_MAX_PATH_LEN 4096

/** Read the whole file at <b>path</b> into a chive_malloc'd buffer
 * (NUL-terminated, the NUL not counted in *<b>len_out</b>).  Files larger
 * than <b>max_len</b> are refused with CHIVE_ERR_LIMIT.  A missing file
 * is CHIVE_ERR_NOTFOUND; other failures CHIVE_ERR_IO.  The caller frees
 * *<b>out</b> with chive_free(). */
CHIVE_MUST_CHECK chive_err_t fs_read_file(const char *path, size_t max_len,
                                          uint8_t **out, size_t *len_out);

/** Replace the file at <b>path</b> with <b>len</b> bytes from <b>data</b>
 * atomically: write "<path>.tmp" with mode <b>mode</b>, fsync it, rename
 * it over <b>path</b>.  A crash leaves either the old or the new file,
 * never a mix. */
CHIVE_MUST_CHECK chive_err_t fs_write_atomic(const char *path,
                                             const void *data, size_t len,
                                             unsigned mode);

/** Make sure <b>path</b> is a directory we own, creating it with mode
 * 0700 if needed; if it exists with group/other permissions, tighten
 * them to 0700 (tor does the same for its DataDirectory). */
CHIVE_MUST_CHECK chive_err_t fs_ensure_private_dir(const char *path);

/** Remove the file at <b>path</b>; missing is fine. */
CHIVE_MUST_CHECK chive_err_t fs_remove(const char *path);

/** Write "<dir>/<name>" into <b>out</b> (<b>out_len</b> bytes);
 * CHIVE_ERR_LIMIT if it does not fit.  <b>name</b> must not contain '/'
 * (CHIVE_ERR_INVAL). */
CHIVE_MUST_CHECK chive_err_t fs_join(char *out, size_t out_len,
                                     const char *dir, const char *name);

#endif /* !defined(CHIVE_LIB_FS_FS_H) */
