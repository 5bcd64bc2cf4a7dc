/**
 * @file fuzz_metrics_port.c
 * @brief Fuzz the MetricsPort value parser (metrics_port_parse()).
 *
 * Oracles: an error leaves the output untouched and names a reason; an
 * accepted value is either "disabled" with a zero address, or an IPv4 /
 * IPv6 address whose text form ("addr:port", "[v6]:port", ":auto" for
 * port 0) parses back to the same address and port.
 **/
#include "lib/cc/compat.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "feature/metrics/metrics_port.h"
#include "lib/net/address.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)        \
  do {                  \
    if (!(c))           \
      __builtin_trap(); \
  } while (0)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  metrics_port_t mp, before, back;
  const char *why = NULL;
  memset(&mp, 0x5a, sizeof(mp));
  before = mp;
  chive_err_t err = metrics_port_parse((const char *)data, size, &mp, &why);
  if (err) {
    CHECK(err == CHIVE_ERR_INVAL || err == CHIVE_ERR_LIMIT);
    CHECK(why != NULL);
    CHECK(memcmp(&mp, &before, sizeof(mp)) == 0);
    return 0;
  }
  if (mp.disabled) {
    CHECK(mp.addr.addr.family == NET_AF_UNSPEC && mp.addr.port == 0);
    return 0;
  }
  CHECK(mp.addr.addr.family == NET_AF_INET ||
        mp.addr.addr.family == NET_AF_INET6);
  char a[NET_ADDR_STR_LEN], text[NET_ADDRPORT_STR_LEN + 8];
  bool v6 = mp.addr.addr.family == NET_AF_INET6;
  net_addr_format(&mp.addr.addr, a, sizeof(a));
  if (mp.addr.port)
    snprintf(text, sizeof(text), "%s%s%s:%u", v6 ? "[" : "", a,
             v6 ? "]" : "", (unsigned)mp.addr.port);
  else
    snprintf(text, sizeof(text), "%s%s%s:auto", v6 ? "[" : "", a,
             v6 ? "]" : "");
  CHECK(metrics_port_parse(text, strlen(text), &back, NULL) == CHIVE_OK);
  CHECK(!back.disabled);
  CHECK(net_addrport_eq(&back.addr, &mp.addr));
  return 0;
}
