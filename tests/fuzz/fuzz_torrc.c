/**
 * @file fuzz_torrc.c
 * @brief Fuzz the torrc tokenizer.  Oracle: an accepted configuration,
 * written back one entry per line with quoted values, tokenizes to the
 * same keys, values and commands.
 **/
#include <stdlib.h>
#include <string.h>

#include "lib/malloc/malloc.h"
#include "lib/text/cstring.h"
#include "lib/text/strbuf.h"
#include "lib/text/torrc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c) \
  do {           \
    if (!(c))    \
      abort();   \
  } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  torrc_list_t *l = NULL, *l2 = NULL;
  torrc_error_t err = {0, NULL};
  strbuf_t sb;
  strbuf_init(&sb, TORRC_MAX_LEN);
  chive_err_t e = torrc_parse((const char *)data, size, &l, &err);
  if (e != CHIVE_OK) {
    CHECK(l == NULL && err.msg != NULL);
    CHECK(e == CHIVE_ERR_PROTO || e == CHIVE_ERR_LIMIT);
    goto done;
  }
  unsigned last_line = 0;
  for (size_t i = 0; i < l->n; i++) {
    const torrc_entry_t *ent = &l->entries[i];
    CHECK(ent->key[0] != '\0');
    CHECK(ent->line >= last_line && ent->line >= 1);
    last_line = ent->line;
    if (ent->cmd == TORRC_CMD_CLEAR)
      CHECK(ent->value[0] == '\0');
    const char *prefix = ent->cmd == TORRC_CMD_APPEND  ? "+"
                         : ent->cmd == TORRC_CMD_CLEAR ? "/"
                                                       : "";
    if (strbuf_addf(&sb, "%s%s ", prefix, ent->key) != CHIVE_OK ||
        cstring_quote(&sb, ent->value, strlen(ent->value)) != CHIVE_OK ||
        strbuf_addc(&sb, '\n') != CHIVE_OK)
      goto done; /* too big to write back: nothing to compare */
  }
  if (torrc_parse(strbuf_str(&sb), strbuf_len(&sb), &l2, &err) ==
      CHIVE_ERR_LIMIT)
    goto done; /* escaping can push an entry over the line limit */
  CHECK(l2 != NULL);
  CHECK(l2->n == l->n);
  for (size_t i = 0; i < l->n; i++) {
    CHECK(strcmp(l->entries[i].key, l2->entries[i].key) == 0);
    CHECK(strcmp(l->entries[i].value, l2->entries[i].value) == 0);
    CHECK(l->entries[i].cmd == l2->entries[i].cmd);
    CHECK(l2->entries[i].line == i + 1);
  }
done:
  torrc_list_free(l);
  torrc_list_free(l2);
  strbuf_clear(&sb);
  return 0;
}
