/* Fuzz target: a torrc-style configuration file through the whole config
 * path (tokenizer, option table, typed validation), then every
 * DirAuthority/FallbackDir value through its line parser.  Oracles: a
 * rejected load says why; an accepted config copies exactly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config_int.h"
#include "feature/dir/dirauth.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char err[256] = "";
  chive_config_t *cfg = chive_config_new();
  if (!cfg)
    return 0;
  if (chive_config_load_text(cfg, (const char *)data, size, err,
                             sizeof(err)) != CHIVE_OK) {
    if (!err[0])
      abort();
    chive_config_free(cfg);
    return 0;
  }
  chive_config_t *dup = chive_config_dup(cfg);
  for (size_t i = 0; dup && i < chive_config_n_options(); i++) {
    const char *name = chive_config_option_name(i);
    for (size_t k = 0;; k++) {
      const char *a = chive_config_get(cfg, name, k);
      const char *b = chive_config_get(dup, name, k);
      if (!a || !b) {
        if (a != b)
          abort();
        break;
      }
      if (strcmp(a, b))
        abort();
    }
  }
  /* Accepted lines carry what a client needs; rejected ones say why. */
  dir_server_t ds;
  const char *why;
  for (size_t i = 0; i < config_n_values(cfg, OPT_DIR_AUTHORITY); i++) {
    why = NULL;
    if (dir_server_parse_authority(config_value(cfg, OPT_DIR_AUTHORITY, i),
                                   &ds, &why) == CHIVE_OK) {
      if (!ds.or_port || !ds.has_v3ident)
        abort();
    } else if (!why || !why[0]) {
      abort();
    }
  }
  for (size_t i = 0; i < config_n_values(cfg, OPT_FALLBACK_DIR); i++) {
    why = NULL;
    if (dir_server_parse_fallback(config_value(cfg, OPT_FALLBACK_DIR, i),
                                  &ds, &why) == CHIVE_OK) {
      if (!ds.or_port)
        abort();
    } else if (!why || !why[0]) {
      abort();
    }
  }
  chive_config_free(dup);
  chive_config_free(cfg);
  return 0;
}
