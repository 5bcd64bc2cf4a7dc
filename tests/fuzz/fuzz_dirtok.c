/**
 * @file fuzz_dirtok.c
 * @brief Fuzz the directory meta-format tokenizer (dir-spec §1.2).
 * Oracle: every token lies inside the input, in order, with a valid
 * keyword, arguments inside its line, and objects within the size cap.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "feature/dir/parse/dirtok.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  const char *s = (const char *)data;
  dirtok_reader_t *r = NULL;
  if (dirtok_reader_new(s, size, &r) != CHIVE_OK)
    return 0;
  dirtok_reader_allow_annotations(r, size && (data[0] & 1));
  size_t prev_end = 0;
  while (!dirtok_at_end(r)) {
    dirtok_t t;
    if (dirtok_next(r, &t) != CHIVE_OK)
      break;
    if (t.start < prev_end || t.start >= t.line_end || t.line_end > t.end ||
        t.end > size || t.kw.len == 0 || t.kw.p != s + t.start)
      __builtin_trap();
    if (t.n_args > DIRTOK_MAX_ARGS || t.line_end - t.start - 1 >
                                          DIRTOK_MAX_LINE_LEN)
      __builtin_trap();
    for (size_t i = 0; i < t.n_args; i++) {
      const dirtok_str_t *a = &t.args[i];
      if (a->len == 0 || a->p < s + t.start ||
          a->p + a->len > s + t.line_end - 1 ||
          memchr(a->p, ' ', a->len) || memchr(a->p, '\n', a->len))
        __builtin_trap();
    }
    if (t.has_object && (t.obj_len > DIRTOK_MAX_OBJECT_LEN ||
                         t.obj_type.len == 0 || t.end == t.line_end))
      __builtin_trap();
    prev_end = t.end;
  }
  dirtok_reader_free(r);
  return 0;
}
