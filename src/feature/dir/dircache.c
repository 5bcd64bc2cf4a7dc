/**
 * @file dircache.c
 * @brief The client's on-disk directory cache (see dircache.h).
 **/
#include "lib/cc/compat.h"

#include "feature/dir/dircache.h"

#include <string.h>

#include "lib/err/err.h"
#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"

/** Return true iff the line at <b>p</b> (<b>n</b> bytes, no NL) is keyword
 * <b>kw</b> followed by the end of the line or a space/tab. */
static bool
line_is_kw(const char *p, size_t n, const char *kw, bool need_args)
{
  size_t kl = strlen(kw);
  if (n < kl || memcmp(p, kw, kl) != 0)
    return false;
  if (n == kl)
    return !need_args;
  return p[kl] == ' ' || p[kl] == '\t';
}

/** Length of the line at <b>s</b>+<b>pos</b> without its NL, and set
 * *<b>next</b> to the offset of the following line. */
static size_t
line_at(const char *s, size_t len, size_t pos, size_t *next)
{
  const char *nl = memchr(s + pos, '\n', len - pos);
  if (!nl) {
    *next = len;
    return len - pos;
  }
  *next = (size_t)(nl - s) + 1;
  return (size_t)(nl - (s + pos));
}

/* see dircache.h */
size_t
dircache_split_mds(const char *s, size_t len, dircache_chunk_fn fn,
                   void *arg)
{
  size_t n = 0, pos = 0, start = 0;
  bool in_md = false, seen_ntor = false;
  while (pos < len) {
    size_t next;
    size_t ll = line_at(s, len, pos, &next);
    const char *line = s + pos;
    bool is_annot = ll > 0 && line[0] == '@';
    bool is_onion = line_is_kw(line, ll, "onion-key", false);
    bool is_ntor = line_is_kw(line, ll, "ntor-onion-key", true);
    bool ends = is_annot || is_onion || (is_ntor && seen_ntor);
    if (in_md && ends) {
      n++;
      in_md = false;
      if (!fn(s + start, pos - start, arg))
        return n;
    }
    if (!is_annot && !in_md && ll > 0) {
      in_md = true;
      seen_ntor = false;
      start = pos;
    }
    if (is_ntor)
      seen_ntor = true;
    pos = next;
  }
  if (in_md) {
    n++;
    (void)fn(s + start, len - start, arg);
  }
  return n;
}

/* see dircache.h */
size_t
dircache_split_certs(const char *s, size_t len, dircache_chunk_fn fn,
                     void *arg)
{
  static const char KW[] = "dir-key-certificate-version";
  size_t n = 0, pos = 0, start = 0;
  bool in_cert = false;
  while (pos < len) {
    size_t next;
    size_t ll = line_at(s, len, pos, &next);
    if (line_is_kw(s + pos, ll, KW, true)) {
      if (in_cert) {
        n++;
        if (!fn(s + start, pos - start, arg))
          return n;
      }
      in_cert = true;
      start = pos;
    }
    pos = next;
  }
  if (in_cert) {
    n++;
    (void)fn(s + start, len - start, arg);
  }
  return n;
}

/* see dircache.h */
chive_err_t
dircache_prepare_dir(const char *dir)
{
  if (BUG(dir == NULL))
    return CHIVE_ERR_INVAL;
  return fs_ensure_private_dir(dir);
}

/* see dircache.h */
chive_err_t
dircache_read(const char *dir, const char *name, size_t max_len,
              uint8_t **out, size_t *len_out)
{
  char path[FS_MAX_PATH_LEN];
  chive_err_t e = fs_join(path, sizeof(path), dir, name);
  if (e)
    return e;
  uint8_t *buf = NULL;
  size_t len = 0;
  e = fs_read_file(path, max_len, &buf, &len);
  if (e)
    return e;
  *out = buf;
  *len_out = len;
  return CHIVE_OK;
}

/* see dircache.h */
chive_err_t
dircache_write(const char *dir, const char *name, const void *data,
               size_t len)
{
  char path[FS_MAX_PATH_LEN];
  chive_err_t e = fs_join(path, sizeof(path), dir, name);
  if (e)
    return e;
  return fs_write_atomic(path, data, len, DIRCACHE_FILE_MODE);
}

/* see dircache.h */
chive_err_t
dircache_remove(const char *dir, const char *name)
{
  char path[FS_MAX_PATH_LEN];
  chive_err_t e = fs_join(path, sizeof(path), dir, name);
  if (e)
    return e;
  return fs_remove(path);
}

/* see dircache.h */
void
dircache_buf_init(dircache_buf_t *b, size_t max)
{
  memset(b, 0, sizeof(*b));
  b->max = max;
}

/* see dircache.h */
chive_err_t
dircache_buf_add(dircache_buf_t *b, const void *data, size_t n)
{
  if (n == 0)
    return CHIVE_OK;
  if (n > b->max || b->len > b->max - n)
    return CHIVE_ERR_LIMIT;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + n)
      cap = cap > b->max / 2 ? b->max : cap * 2;
    char *p = chive_realloc(b->p, cap);
    if (!p)
      return CHIVE_ERR_NOMEM;
    b->p = p;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, n);
  b->len += n;
  return CHIVE_OK;
}

/* see dircache.h */
void
dircache_buf_clear(dircache_buf_t *b)
{
  chive_free(b->p);
  b->p = NULL;
  b->len = 0;
  b->cap = 0;
}
