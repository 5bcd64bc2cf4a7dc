/* Unit tests for lib/fs. */
#include "lib/cc/compat.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static char tmpdir[256];

static bool
make_tmpdir(void)
{
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/chive-test-fs-XXXXXX");
  return mkdtemp(tmpdir) != NULL;
}

static void
test_write_read(void)
{
  char path[512];
  uint8_t *buf = NULL;
  size_t len;
  T_ASSERT(make_tmpdir());
  T_OK(fs_join(path, sizeof(path), tmpdir, "state"));
  T_EQ_INT(fs_read_file(path, 100, &buf, &len), CHIVE_ERR_NOTFOUND);
  T_OK(fs_write_atomic(path, "hello", 5, 0600));
  T_OK(fs_read_file(path, 100, &buf, &len));
  T_EQ_UINT(len, 5);
  T_EQ_STR((char *)buf, "hello");
  chive_free(buf);
  buf = NULL;
  /* Replacing leaves no temp file and the new content. */
  T_OK(fs_write_atomic(path, "bye", 3, 0600));
  T_OK(fs_read_file(path, 100, &buf, &len));
  T_EQ_STR((char *)buf, "bye");
  chive_free(buf);
  buf = NULL;
  char tmp[600];
  snprintf(tmp, sizeof(tmp), "%s.tmp", path);
  T_ASSERT(access(tmp, F_OK) != 0);
  struct stat st;
  T_ASSERT(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600);
  /* Size cap. */
  T_EQ_INT(fs_read_file(path, 2, &buf, &len), CHIVE_ERR_LIMIT);
  T_ASSERT(buf == NULL);
  /* Empty file. */
  T_OK(fs_write_atomic(path, "", 0, 0600));
  T_OK(fs_read_file(path, 2, &buf, &len));
  T_EQ_UINT(len, 0);
  chive_free(buf);
  buf = NULL;
  T_OK(fs_remove(path));
  T_OK(fs_remove(path));
  /* A directory is not a file. */
  T_EQ_INT(fs_read_file(tmpdir, 100, &buf, &len), CHIVE_ERR_IO);
done:
  chive_free(buf);
  (void)rmdir(tmpdir);
}

static void
test_private_dir(void)
{
  char sub[512];
  struct stat st;
  T_ASSERT(make_tmpdir());
  T_OK(fs_join(sub, sizeof(sub), tmpdir, "data"));
  T_OK(fs_ensure_private_dir(sub));
  T_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
  T_ASSERT(chmod(sub, 0755) == 0);
  T_OK(fs_ensure_private_dir(sub));
  T_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 0777) == 0700);
  T_EQ_INT(fs_join(sub, sizeof(sub), tmpdir, "a/b"), CHIVE_ERR_INVAL);
  T_EQ_INT(fs_join(sub, 5, tmpdir, "data"), CHIVE_ERR_LIMIT);
  T_OK(fs_join(sub, sizeof(sub), tmpdir, "data"));
  (void)rmdir(sub);
done:
  (void)rmdir(tmpdir);
}

static const t_case cases[] = {
    T_CASE(test_write_read),
    T_CASE(test_private_dir),
    T_END,
};
T_MAIN(cases)
