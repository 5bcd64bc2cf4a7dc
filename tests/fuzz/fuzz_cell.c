/**
 * @file fuzz_cell.c
 * @brief Fuzz cell framing (core/proto/cell).  The first input byte picks
 * the link protocol; the rest is a byte stream framed cell by cell.
 * Oracle: every framed cell re-packs to exactly the bytes it came from,
 * and a truncated answer never claims more bytes than a cell can hold.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/cell.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static const unsigned protos[] = {LINK_PROTO_UNKNOWN, 3, 4, 5};
  static uint8_t again[VAR_CELL_MAX_HEADER_SIZE + VAR_CELL_MAX_BODY_LEN];
  if (size < 1)
    return 0;
  unsigned linkproto = protos[data[0] % 4];
  const uint8_t *p = data + 1;
  size_t left = size - 1;
  for (;;) {
    cell_frame_t f;
    size_t need = 0;
    chive_err_t e = cell_frame_peek(p, left, linkproto, &f, &need);
    if (e == CHIVE_ERR_TRUNCATED) {
      if (need == 0 ||
          need > VAR_CELL_MAX_HEADER_SIZE + VAR_CELL_MAX_BODY_LEN)
        __builtin_trap();
      return 0;
    }
    if (e != CHIVE_OK || f.frame_len > left || f.frame_len == 0)
      __builtin_trap();
    wr_t w = wr_init(again, sizeof(again));
    if (f.is_var) {
      var_cell_t vc;
      if (var_cell_from_frame(&f, &vc) != CHIVE_OK ||
          var_cell_pack(&vc, linkproto, &w) != CHIVE_OK)
        __builtin_trap();
    } else {
      cell_t c;
      if (cell_from_frame(&f, &c) != CHIVE_OK ||
          cell_pack(&c, linkproto, &w) != CHIVE_OK)
        __builtin_trap();
    }
    if (wr_used(&w) != f.frame_len || memcmp(again, p, f.frame_len) != 0)
      __builtin_trap();
    p += f.frame_len;
    left -= f.frame_len;
  }
}
