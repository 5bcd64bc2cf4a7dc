/**
 * @file fs.c
 * @brief Bounded reads and atomic writes for DataDirectory files.
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"

chive_err_t
fs_read_file(const char *path, size_t max_len, uint8_t **out,
             size_t *len_out)
{
  *out = NULL;
  *len_out = 0;
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return errno == ENOENT ? CHIVE_ERR_NOTFOUND : CHIVE_ERR_IO;
  struct stat st;
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    close(fd);
    return CHIVE_ERR_IO;
  }
  if ((uint64_t)st.st_size > max_len) {
    close(fd);
    return CHIVE_ERR_LIMIT;
  }
  size_t cap = (size_t)st.st_size;
  uint8_t *buf = chive_malloc(cap + 1);
  if (!buf) {
    close(fd);
    return CHIVE_ERR_NOMEM;
  }
  size_t len = 0;
  for (;;) {
    if (len == cap) {
      /* The file grew since fstat; read one more byte to find out. */
      uint8_t extra;
      ssize_t n = read(fd, &extra, 1);
      if (n == 0)
        break;
      if (n < 0 && errno == EINTR)
        continue;
      chive_free(buf);
      close(fd);
      return n < 0 ? CHIVE_ERR_IO : CHIVE_ERR_LIMIT;
    }
    ssize_t n = read(fd, buf + len, cap - len);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      chive_free(buf);
      close(fd);
      return CHIVE_ERR_IO;
    }
    if (n == 0)
      break;
    len += (size_t)n;
  }
  close(fd);
  buf[len] = 0;
  *out = buf;
  *len_out = len;
  return CHIVE_OK;
}

chive_err_t
fs_write_atomic(const char *path, const void *data, size_t len,
                unsigned mode)
{
  char tmp[FS_MAX_PATH_LEN];
  int n = snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  if (n < 0 || (size_t)n >= sizeof(tmp))
    return CHIVE_ERR_LIMIT;
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (mode_t)mode);
  if (fd < 0)
    return CHIVE_ERR_IO;
  const uint8_t *p = data;
  size_t left = len;
  while (left) {
    ssize_t w = write(fd, p, left);
    if (w < 0) {
      if (errno == EINTR)
        continue;
      goto fail;
    }
    p += w;
    left -= (size_t)w;
  }
  if (fsync(fd) != 0)
    goto fail;
  if (close(fd) != 0) {
    fd = -1;
    goto fail;
  }
  fd = -1;
  if (rename(tmp, path) != 0)
    goto fail;
  return CHIVE_OK;
fail:
  if (fd >= 0)
    close(fd);
  (void)unlink(tmp);
  return CHIVE_ERR_IO;
}

chive_err_t
fs_ensure_private_dir(const char *path)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    if (errno != ENOENT)
      return CHIVE_ERR_IO;
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
      return CHIVE_ERR_IO;
    if (stat(path, &st) != 0)
      return CHIVE_ERR_IO;
  }
  if (!S_ISDIR(st.st_mode))
    return CHIVE_ERR_INVAL;
  if (st.st_uid != geteuid())
    return CHIVE_ERR_INVAL;
  if ((st.st_mode & 077) && chmod(path, 0700) != 0)
    return CHIVE_ERR_IO;
  return CHIVE_OK;
}

chive_err_t
fs_remove(const char *path)
{
  if (unlink(path) != 0 && errno != ENOENT)
    return CHIVE_ERR_IO;
  return CHIVE_OK;
}

chive_err_t
fs_join(char *out, size_t out_len, const char *dir, const char *name)
{
  if (strchr(name, '/') || !name[0])
    return CHIVE_ERR_INVAL;
  int n = snprintf(out, out_len, "%s/%s", dir, name);
  if (n < 0 || (size_t)n >= out_len)
    return CHIVE_ERR_LIMIT;
  return CHIVE_OK;
}
