/**
 * @file circid.h
 * @brief Circuit ID allocation on one channel (tor-spec §5.1.1).
 *
 * "In link protocol version 4 or higher, whichever node initiated the
 * connection MUST set its MSB to 1"; IDs are chosen at random among the
 * unused values, and a sender MAY give up after 64 tries (tor does).
 * CircID 0 is never used for a circuit.  For link protocol 3 (2-byte IDs)
 * a client without a key may pick any nonzero value.
 *
 * The set is a small sorted array (bounded by CIRCID_SET_MAX_ENTRIES);
 * no I/O, no logging.
 **/
#ifndef CHIVE_CORE_CHANNEL_CIRCID_H
#define CHIVE_CORE_CHANNEL_CIRCID_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Random draws before giving up (tor-spec §5.1.1, "today's Tor stops
 * after 64"). */
#define CIRCID_MAX_ATTEMPTS 64
/** Most circuit IDs in use on one channel (policy). */
#define CIRCID_SET_MAX_ENTRIES 8192

/** Source of randomness: fill <b>out</b> with <b>len</b> bytes. */
typedef chive_err_t (*circid_rand_fn)(void *arg, uint8_t *out, size_t len);

/** The IDs in use on one channel.  Embed; circid_set_init() / _clear(). */
typedef struct circid_set_t {
  uint32_t *ids; /**< sorted ascending */
  size_t n;
  size_t cap;
} circid_set_t;

void circid_set_init(circid_set_t *s);
void circid_set_clear(circid_set_t *s);

/** Return true iff <b>id</b> is in use. */
bool circid_set_contains(const circid_set_t *s, uint32_t id);
/** Mark <b>id</b> in use (e.g. an ID the peer chose).  CHIVE_ERR_INVAL
 * if 0 or already present, CHIVE_ERR_LIMIT if full, CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t circid_set_add(circid_set_t *s, uint32_t id);
/** Release <b>id</b>; returns false if it was not in use. */
bool circid_set_remove(circid_set_t *s, uint32_t id);
/** Number of IDs in use. */
size_t circid_set_count(const circid_set_t *s);

/** Choose a fresh random ID for a circuit we initiate on a channel with
 * link protocol <b>link_proto</b> (we are the initiator), mark it in use,
 * and store it in *<b>out</b>.  <b>rng</b> NULL means crypto_rand().
 * CHIVE_ERR_LIMIT if the set is full or CIRCID_MAX_ATTEMPTS draws all hit
 * used IDs; CHIVE_ERR_INVAL for an unsupported link protocol. */
CHIVE_MUST_CHECK chive_err_t circid_alloc(circid_set_t *s,
                                          unsigned link_proto,
                                          circid_rand_fn rng, void *rng_arg,
                                          uint32_t *out);

#endif /* !defined(CHIVE_CORE_CHANNEL_CIRCID_H) */
