/**
 * @file sendme.c
 * @brief Circuit-level windows and authenticated SENDMEs (tor-spec §7.3,
 * §7.3.1; proposal 289).  Pure: no I/O, no allocation, no logging.
 **/
#include "core/circuit/sendme.h"

#include <string.h>

#include "core/proto/relay_msg.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/* see sendme.h */
void
sendme_circ_init(sendme_circ_t *sc, unsigned circwindow)
{
  memset(sc, 0, sizeof(*sc));
  if (circwindow < CIRCWINDOW_START_MIN)
    circwindow = CIRCWINDOW_START_MIN;
  if (circwindow > CIRCWINDOW_START_MAX)
    circwindow = CIRCWINDOW_START_MAX;
  sc->package_start = (int32_t)circwindow;
  sc->package_window = (int32_t)circwindow;
  /* Like tor, we always offer the full window to the peer. */
  sc->deliver_window = CIRCWINDOW_START_MAX;
}

/* see sendme.h */
bool
sendme_circ_can_package(const sendme_circ_t *sc)
{
  return sc->package_window > 0;
}

/* see sendme.h */
bool
sendme_circ_next_needs_digest(const sendme_circ_t *sc)
{
  /* The peer answers every CIRCWINDOW_INCREMENT DATA cells it receives
   * (its deliver window always starts at 1000), so remember the digest
   * of every 100th cell we send.  With the default circwindow of 1000
   * this is exactly tor-spec §7.3's "package window gets to a multiple of
   * the circuit window increment"; counting also stays right for other
   * "circwindow" values. */
  return sc->package_window > 0 &&
         (sc->n_packaged + 1) % CIRCWINDOW_INCREMENT == 0;
}

/* see sendme.h */
chive_err_t
sendme_circ_note_packaged(sendme_circ_t *sc,
                          const uint8_t digest[SENDME_DIGEST_LEN])
{
  const bool need = sendme_circ_next_needs_digest(sc);
  if (BUG(sc->package_window <= 0))
    return CHIVE_ERR_INTERNAL;
  if (need) {
    if (BUG(digest == NULL || sc->n_digests >= SENDME_MAX_PENDING_DIGESTS))
      return CHIVE_ERR_INTERNAL;
    size_t slot = (sc->head + sc->n_digests) % SENDME_MAX_PENDING_DIGESTS;
    memcpy(sc->digests[slot], digest, SENDME_DIGEST_LEN);
    sc->n_digests++;
  }
  sc->package_window--;
  sc->n_packaged++;
  return CHIVE_OK;
}

/* see sendme.h */
chive_err_t
sendme_circ_handle_sendme(sendme_circ_t *sc, const uint8_t *body, size_t len,
                          uint8_t accept_min)
{
  sendme_t msg;
  uint8_t expected[SENDME_DIGEST_LEN];
  chive_err_t err = sendme_parse(body, len, &msg);
  if (err != CHIVE_OK)
    return err;

  /* tor-spec §7.3.1: "If the VERSION is unrecognized or below the minimum
   * accepted version (taken from the consensus), the circuit should be
   * torn down." */
  if (msg.version < accept_min || msg.version > SENDME_VERSION_MAX_SUPPORTED)
    return CHIVE_ERR_PROTO;

  /* Pop the oldest expected digest whatever the version, so that a peer
   * sending v0 cannot make the queue grow.  No digest means the peer
   * acknowledged cells we never sent. */
  if (sc->n_digests == 0)
    return CHIVE_ERR_PROTO;
  memcpy(expected, sc->digests[sc->head], SENDME_DIGEST_LEN);
  chive_memwipe(sc->digests[sc->head], SENDME_DIGEST_LEN);
  sc->head = (sc->head + 1) % SENDME_MAX_PENDING_DIGESTS;
  sc->n_digests--;

  const bool match = chive_memeq_ct(expected, msg.digest, SENDME_DIGEST_LEN);
  chive_memwipe(expected, sizeof(expected));
  if (msg.version == 1 && !match)
    return CHIVE_ERR_CRYPTO;

  /* A SENDME that would lift the window above its start is a protocol
   * violation (tor closes the circuit the same way). */
  if (sc->package_window + CIRCWINDOW_INCREMENT > sc->package_start)
    return CHIVE_ERR_PROTO;
  sc->package_window += CIRCWINDOW_INCREMENT;
  return CHIVE_OK;
}

/* see sendme.h */
chive_err_t
sendme_circ_note_delivered(sendme_circ_t *sc, bool *send_sendme)
{
  /* tor-spec §7.3: "If a deliver window goes below 0, the circuit should
   * be torn down." */
  if (sc->deliver_window <= 0)
    return CHIVE_ERR_PROTO;
  sc->deliver_window--;
  *send_sendme =
      sc->deliver_window <= CIRCWINDOW_START_MAX - CIRCWINDOW_INCREMENT;
  return CHIVE_OK;
}

/* see sendme.h */
void
sendme_circ_note_sendme_sent(sendme_circ_t *sc)
{
  sc->deliver_window += CIRCWINDOW_INCREMENT;
}

/* see sendme.h */
int32_t
sendme_circ_package_window(const sendme_circ_t *sc)
{
  return sc->package_window;
}

/* see sendme.h */
int32_t
sendme_circ_deliver_window(const sendme_circ_t *sc)
{
  return sc->deliver_window;
}

/* see sendme.h */
size_t
sendme_circ_n_pending(const sendme_circ_t *sc)
{
  return sc->n_digests;
}
