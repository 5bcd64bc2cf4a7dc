/**
 * @file fuzz_ntor_reply.c
 * @brief Fuzz what a relay can send back to a circuit handshake: the input
 * is taken as an ntor-v3 server handshake (Y | AUTH | MSG), as an ntor
 * CREATED2 body (first 64 bytes), as a CM/SM extension list, and as an
 * inbound relay cell on a 3-hop circuit.
 *
 * The client states are fixed: ntor-v3 uses the proposal 332 §X.2 inputs,
 * so the seed holding that vector's server handshake takes the success
 * path.  Oracles: an accepted ntor-v3 reply yields SM of length
 * size - 64; an accepted extension list re-encodes to the input exactly;
 * nothing crashes or leaks.
 **/
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/crypto/onion_ntor.h"
#include "core/crypto/onion_ntor_v3.h"
#include "core/crypto/relay_crypto.h"
#include "lib/crypto/crypto_init.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Proposal 332 §X.2 inputs (public test values). */
static const uint8_t V3_PUB_B[32] = {
    0xf8, 0x30, 0x7a, 0x2b, 0xc1, 0x87, 0x0b, 0x00, 0xb8, 0x28, 0xbb,
    0x74, 0xdb, 0xb8, 0xfd, 0x88, 0xe6, 0x32, 0xa6, 0x37, 0x5a, 0xb3,
    0xbc, 0xd1, 0xae, 0x70, 0x6a, 0xaa, 0x8b, 0x6c, 0xdd, 0x1d};
static const uint8_t V3_ID[32] = {
    0x9f, 0xad, 0x2a, 0xf2, 0x87, 0xef, 0x94, 0x26, 0x32, 0x83, 0x3d,
    0x21, 0xf9, 0x46, 0xc6, 0x26, 0x0c, 0x33, 0xfa, 0xe6, 0x17, 0x2b,
    0x60, 0x00, 0x6e, 0x86, 0xe4, 0xa6, 0x91, 0x17, 0x53, 0xa2};
static const uint8_t V3_SEC_X[32] = {
    0xb8, 0x25, 0xa3, 0x71, 0x91, 0x47, 0xbc, 0xbe, 0x5f, 0xb1, 0xd0,
    0xb0, 0xfc, 0xb9, 0xc0, 0x9e, 0x51, 0x94, 0x80, 0x48, 0xe2, 0xe3,
    0x28, 0x3d, 0x2a, 0xb7, 0xb4, 0x5b, 0x5e, 0xf3, 0x8b, 0x49};

static void
fuzz_ntor3(const uint8_t *data, size_t size)
{
  static const uint8_t ver[] = "xyzzy";
  static const uint8_t cm[] = "hello world";
  onion_ntor3_client_t st;
  uint8_t skin[256], sm[ONION_NTOR3_MAX_SERVER_MSG_LEN], ks[72];
  size_t skin_len, sm_len = 0;

  if (onion_ntor3_client_create_with_secret(
          &st, V3_ID, V3_PUB_B, V3_SEC_X, ver, sizeof(ver) - 1, cm,
          sizeof(cm) - 1, skin, sizeof(skin), &skin_len) != CHIVE_OK)
    __builtin_trap();
  if (onion_ntor3_client_finish(&st, data, size, sm, sizeof(sm), &sm_len, ks,
                                sizeof(ks)) == CHIVE_OK) {
    if (sm_len != size - ONION_NTOR3_SERVER_OVERHEAD_LEN || st.active)
      __builtin_trap();
  }
  onion_ntor3_client_clear(&st);
}

static void
fuzz_ntor1(const uint8_t *data, size_t size)
{
  uint8_t id[ONION_NTOR_ID_LEN], sec_x[ONION_NTOR_KEY_LEN];
  uint8_t skin[ONION_NTOR_ONIONSKIN_LEN];
  onion_ntor_client_t st;
  relay_keys_t keys;

  if (size < ONION_NTOR_REPLY_LEN)
    return;
  /* The fixed inputs of tests/vectors/test_ntor.c; B is reused from the
   * v3 vector (any valid point will do). */
  for (size_t i = 0; i < sizeof(id); i++)
    id[i] = (uint8_t)(1 + i);
  for (size_t i = 0; i < sizeof(sec_x); i++)
    sec_x[i] = (uint8_t)(0x80 + i);
  if (onion_ntor_client_create_with_secret(&st, id, V3_PUB_B, sec_x, skin) !=
      CHIVE_OK)
    __builtin_trap();
  if (onion_ntor_client_finish(&st, data, &keys) == CHIVE_OK)
    relay_keys_clear(&keys);
  onion_ntor_client_clear(&st);
}

static void
fuzz_exts(const uint8_t *data, size_t size)
{
  onion_ntor3_ext_t exts[255];
  uint8_t again[2 + 255 * (2 + 255)];
  size_t n = 0, len = 0;

  if (onion_ntor3_exts_parse(data, size, exts, 255, &n) != CHIVE_OK)
    return;
  if (size == 0) {
    if (n != 0)
      __builtin_trap();
    return;
  }
  if (onion_ntor3_exts_encode(exts, n, again, sizeof(again), &len) !=
          CHIVE_OK ||
      len != size || memcmp(again, data, size) != 0)
    __builtin_trap();
}

static void
fuzz_relay_cell(const uint8_t *data, size_t size)
{
  relay_crypto_t rc[3];
  relay_crypto_t *hops[3] = {&rc[0], &rc[1], &rc[2]};
  uint8_t cell[RELAY_CRYPTO_PAYLOAD_LEN];
  uint8_t material[RELAY_KEY_MATERIAL_LEN];
  relay_keys_t k;
  size_t hop = 0;
  bool ok = true;

  memset(rc, 0, sizeof(rc));
  for (unsigned i = 0; i < 3; i++) {
    for (size_t j = 0; j < sizeof(material); j++)
      material[j] = (uint8_t)(i * 37 + j * 11);
    relay_keys_from_material(&k, material);
    if (relay_crypto_init(&rc[i], &k) != CHIVE_OK)
      ok = false;
  }
  if (ok) {
    memset(cell, 0, sizeof(cell));
    memcpy(cell, data, size < sizeof(cell) ? size : sizeof(cell));
    chive_err_t e = relay_crypto_decrypt_inbound(hops, 3, cell, &hop);
    if (e != CHIVE_OK && e != CHIVE_ERR_PROTO)
      __builtin_trap();
    if (e == CHIVE_OK && hop >= 3)
      __builtin_trap();
  }
  for (unsigned i = 0; i < 3; i++)
    relay_crypto_clear(&rc[i]);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  if (crypto_global_init() != CHIVE_OK)
    __builtin_trap();
  fuzz_ntor3(data, size);
  fuzz_ntor1(data, size);
  fuzz_exts(data, size);
  fuzz_relay_cell(data, size);
  return 0;
}
