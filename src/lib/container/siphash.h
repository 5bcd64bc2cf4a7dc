/**
 * @file siphash.h
 * @brief SipHash-2-4 (Aumasson and Bernstein, 2012): a keyed 64-bit hash
 * for hash tables whose keys an adversary may choose.
 *
 * With a secret random key per table, an attacker who picks keys (relay
 * identities, stream IDs) cannot make them collide on purpose, so lookups
 * stay O(1).  Not a MAC for anything that needs more than 64 bits.
 **/
#ifndef CHIVE_LIB_CONTAINER_SIPHASH_H
#define CHIVE_LIB_CONTAINER_SIPHASH_H

#include <stddef.h>
#include <stdint.h>

/** Key size in bytes. */
#define SIPHASH_KEY_LEN 16

/** Return SipHash-2-4 of the <b>len</b> bytes at <b>data</b> under the
 * 16-byte <b>key</b>. */
uint64_t siphash24(const uint8_t key[SIPHASH_KEY_LEN], const void *data,
                   size_t len);

#endif /* !defined(CHIVE_LIB_CONTAINER_SIPHASH_H) */
