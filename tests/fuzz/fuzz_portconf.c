/* Fuzz target: listener lines (app/portconf).  Oracles: a rejection says
 * why; an accepted line is consistent (a disabled port has no flags and
 * an auto port has port 0). */
#include <stdint.h>
#include <stdlib.h>

#include "app/portconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  portconf_t pc;
  const char *why = NULL;
  chive_err_t e = portconf_parse((const char *)data, size, &pc, &why);
  if (e != CHIVE_OK) {
    if (!why || !why[0])
      abort();
    return 0;
  }
  if (pc.auto_port && pc.addr.port != 0)
    abort();
  if (!pc.disabled && !pc.auto_port && pc.addr.port == 0)
    abort();
  return 0;
}
