/**
 * @file fuzz_relay_msgs.c
 * @brief Fuzz the relay message bodies of core/proto/relay_msg: BEGIN,
 * CONNECTED, END, SENDME, TRUNCATED, RESOLVE, RESOLVED.  The first byte
 * picks the codec.  Oracle: whatever is accepted re-encodes (within one
 * relay body where the format bounds it) and parse(encode(parse(x)))
 * equals parse(x); RESOLVED re-encodes byte for byte.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/proto/relay_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t again[65536];

static void
check_begin(const uint8_t *b, size_t n)
{
  begin_t m, m2;
  size_t len;
  if (begin_parse(b, n, &m))
    return;
  if (begin_encode(&m, again, RELAY_PAYLOAD_LEN, &len) ||
      begin_parse(again, len, &m2))
    __builtin_trap();
  if (m2.host_type != m.host_type || strcmp(m2.host, m.host) != 0 ||
      m2.port != m.port || m2.flags != m.flags ||
      memcmp(m2.addr, m.addr, sizeof(m.addr)) != 0 || m.port == 0)
    __builtin_trap();
}

static void
check_connected(const uint8_t *b, size_t n)
{
  connected_t m, m2;
  size_t len;
  if (connected_parse(b, n, &m))
    return;
  if (connected_encode(&m, again, RELAY_PAYLOAD_LEN, &len) ||
      connected_parse(again, len, &m2) || m2.atype != m.atype ||
      m2.ttl != m.ttl || memcmp(m2.addr, m.addr, 16) != 0)
    __builtin_trap();
}

static void
check_end(const uint8_t *b, size_t n)
{
  end_t m, m2;
  size_t len;
  if (end_parse(b, n, &m))
    __builtin_trap(); /* END never fails */
  if (end_encode(&m, again, RELAY_PAYLOAD_LEN, &len) ||
      end_parse(again, len, &m2) || m2.reason != m.reason ||
      m2.atype != m.atype || m2.ttl != m.ttl ||
      memcmp(m2.addr, m.addr, 16) != 0)
    __builtin_trap();
  (void)end_reason_name(m.reason);
}

static void
check_sendme(const uint8_t *b, size_t n)
{
  sendme_t m, m2;
  size_t len;
  if (sendme_parse(b, n, &m))
    return;
  chive_err_t e = sendme_encode(&m, again, RELAY_PAYLOAD_LEN, &len);
  if (m.version > 1) {
    if (e != CHIVE_ERR_INVAL)
      __builtin_trap();
    return;
  }
  if (e || sendme_parse(again, len, &m2) || m2.version != m.version ||
      memcmp(m2.digest, m.digest, SENDME_DIGEST_LEN) != 0)
    __builtin_trap();
}

static void
check_resolve(const uint8_t *b, size_t n)
{
  resolve_t m, m2;
  size_t len;
  uint8_t r = 0;
  if (truncated_parse(b, n, &r) || truncated_encode(r, again, 1, &len))
    __builtin_trap();
  if (resolve_parse(b, n, &m))
    return;
  if (resolve_encode(m.name, again, RELAY_PAYLOAD_LEN, &len) ||
      resolve_parse(again, len, &m2) || strcmp(m.name, m2.name) != 0)
    __builtin_trap();
}

static void
check_resolved(const uint8_t *b, size_t n)
{
  resolved_t m;
  size_t len;
  if (resolved_parse(b, n, &m))
    return;
  if (resolved_encode(&m, again, sizeof(again), &len) || len != n ||
      memcmp(again, b, n) != 0)
    __builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (size < 1)
    return 0;
  const uint8_t *b = data + 1;
  size_t n = size - 1;
  switch (data[0] % 6) {
  case 0: check_begin(b, n); break;
  case 1: check_connected(b, n); break;
  case 2: check_end(b, n); break;
  case 3: check_sendme(b, n); break;
  case 4: check_resolve(b, n); break;
  default: check_resolved(b, n); break;
  }
  return 0;
}
