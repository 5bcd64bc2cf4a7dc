/**
 * @file replay_main.c
 * @brief A plain main() that replays fuzz corpus files (or every file in
 * the corpus directories given) through LLVMFuzzerTestOneInput, so CI
 * runs the corpora with any compiler.
 **/
#include "lib/cc/compat.h"

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/** Largest corpus file replayed; fuzz inputs are small by design. */
#define REPLAY_MAX_INPUT_LEN (4u << 20)

static int n_replayed;

static int
replay_file(const char *path)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    return -1;
  }
  uint8_t *buf = malloc(REPLAY_MAX_INPUT_LEN);
  if (!buf) {
    fclose(f);
    return -1;
  }
  size_t len = fread(buf, 1, REPLAY_MAX_INPUT_LEN, f);
  fclose(f);
  /* Exact-size copy so ASan catches reads past the input's end. */
  uint8_t *exact = malloc(len ? len : 1);
  if (!exact) {
    free(buf);
    return -1;
  }
  memcpy(exact, buf, len);
  free(buf);
  LLVMFuzzerTestOneInput(exact, len);
  free(exact);
  n_replayed++;
  return 0;
}

static int
replay_path(const char *path)
{
  struct stat st;
  if (stat(path, &st) != 0) {
    perror(path);
    return -1;
  }
  if (!S_ISDIR(st.st_mode))
    return replay_file(path);
  DIR *d = opendir(path);
  if (!d) {
    perror(path);
    return -1;
  }
  struct dirent *de;
  int rv = 0;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.')
      continue;
    char sub[4096];
    int n = snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
    if (n < 0 || (size_t)n >= sizeof(sub))
      continue;
    if (replay_path(sub) != 0)
      rv = -1;
  }
  closedir(d);
  return rv;
}

int
main(int argc, char **argv)
{
  int rv = 0;
  for (int i = 1; i < argc; i++)
    if (replay_path(argv[i]) != 0)
      rv = 1;
  printf("replayed %d inputs\n", n_replayed);
  if (n_replayed == 0) {
    fprintf(stderr, "no corpus inputs found\n");
    return 1;
  }
  return rv;
}
