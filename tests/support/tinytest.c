/**
 * @file tinytest.c
 * @brief The test runner behind tinytest.h.
 **/
#include "lib/cc/compat.h"

#include <stdlib.h>
#include <sys/stat.h>

#include "lib/malloc/malloc.h"
#include "tinytest.h"

int t_failed_;
int t_skipped_;

int
t_run(const t_case *cases, int argc, char **argv)
{
  const char *prefix = argc > 1 ? argv[1] : "";
  int passed = 0, failed = 0, skipped = 0;

  for (const t_case *c = cases; c->name; c++) {
    if (strncmp(c->name, prefix, strlen(prefix)) != 0)
      continue;
    t_failed_ = 0;
    t_skipped_ = 0;
    size_t before = chive_mem_in_use();
    c->fn();
    chive_mem_fail_nth(0, false);
    size_t after = chive_mem_in_use();
    if (!t_failed_ && after != before) {
      fprintf(stderr, "  FAIL %s leaked %zd bytes of chive memory\n",
              c->name, (ssize_t)(after - before));
      t_failed_ = 1;
    }
    if (t_failed_) {
      fprintf(stderr, "%s: FAILED\n", c->name);
      failed++;
    } else if (t_skipped_) {
      skipped++;
    } else {
      passed++;
    }
  }
  if (skipped)
    printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
  else
    printf("%d passed, %d failed\n", passed, failed);
  return failed ? 1 : 0;
}

long
t_unhex(const char *hex, uint8_t *out, size_t max)
{
  size_t n = 0;
  for (const char *p = hex; *p; p++) {
    if (*p == ' ' || *p == '\n' || *p == '\t')
      continue;
    int v;
    if (*p >= '0' && *p <= '9')
      v = *p - '0';
    else if (*p >= 'a' && *p <= 'f')
      v = *p - 'a' + 10;
    else if (*p >= 'A' && *p <= 'F')
      v = *p - 'A' + 10;
    else
      return -1;
    if (n / 2 >= max)
      return -1;
    if (n % 2 == 0)
      out[n / 2] = (uint8_t)(v << 4);
    else
      out[n / 2] |= (uint8_t)v;
    n++;
  }
  return n % 2 ? -1 : (long)(n / 2);
}

const char *
t_shared_data_dir(void)
{
  static char buf[4096];
  const char *env = getenv("CHIVE_SHARED_DATA");
  struct stat st;
  if (env && stat(env, &st) == 0 && S_ISDIR(st.st_mode))
    return env;
#ifdef CHIVE_SOURCE_DIR
  snprintf(buf, sizeof(buf), "%s/../shared/data", CHIVE_SOURCE_DIR);
  if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode))
    return buf;
#endif
  return NULL;
}

uint8_t *
t_read_file(const char *path, size_t *len_out)
{
  FILE *f = fopen(path, "rb");
  if (!f)
    return NULL;
  uint8_t *buf = NULL;
  size_t len = 0, cap = 0;
  for (;;) {
    if (len + 65536 + 1 > cap) {
      size_t ncap = cap ? cap * 2 : 131072;
      uint8_t *nb = chive_realloc(buf, ncap);
      if (!nb) {
        chive_free(buf);
        fclose(f);
        return NULL;
      }
      buf = nb;
      cap = ncap;
    }
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0)
      break;
  }
  fclose(f);
  buf[len] = 0;
  *len_out = len;
  return buf;
}
