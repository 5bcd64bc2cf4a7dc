/* Unit tests for core/circuit/sendme: circuit windows and the
 * authenticated-SENDME digest FIFO (tor-spec §7.3, §7.3.1; proposal
 * 289). */
#include "core/circuit/sendme.h"
#include "core/proto/relay_msg.h"
#include "tinytest.h"

/** A distinct fake digest for cell <b>i</b>. */
static void
digest_for(uint32_t i, uint8_t d[SENDME_DIGEST_LEN])
{
  for (size_t k = 0; k < SENDME_DIGEST_LEN; k++)
    d[k] = (uint8_t)(i * 7u + k);
}

/** Encode a SENDME body of <b>version</b> carrying <b>d</b>. */
static size_t
body_for(uint8_t version, const uint8_t d[SENDME_DIGEST_LEN], uint8_t out[64])
{
  sendme_t s;
  size_t len = 0;
  memset(&s, 0, sizeof(s));
  s.version = version;
  if (d)
    memcpy(s.digest, d, SENDME_DIGEST_LEN);
  if (sendme_encode(&s, out, 64, &len) != CHIVE_OK)
    return 0;
  return len;
}

/** Send <b>n</b> DATA cells, feeding digest_for(cell number). */
static bool
send_cells(sendme_circ_t *sc, uint32_t *count, uint32_t n)
{
  uint8_t d[SENDME_DIGEST_LEN];
  for (uint32_t i = 0; i < n; i++) {
    ++*count;
    digest_for(*count, d);
    if (sendme_circ_note_packaged(sc, d) != CHIVE_OK)
      return false;
  }
  return true;
}

static void
test_init_clamp(void)
{
  sendme_circ_t sc;
  sendme_circ_init(&sc, 5);
  T_EQ_INT(sendme_circ_package_window(&sc), CIRCWINDOW_START_MIN);
  sendme_circ_init(&sc, 5000);
  T_EQ_INT(sendme_circ_package_window(&sc), CIRCWINDOW_START_MAX);
  sendme_circ_init(&sc, 500);
  T_EQ_INT(sendme_circ_package_window(&sc), 500);
  T_EQ_INT(sendme_circ_deliver_window(&sc), CIRCWINDOW_START_MAX);
done:
  return;
}

static void
test_record_every_100th(void)
{
  sendme_circ_t sc;
  uint32_t count = 0;
  sendme_circ_init(&sc, 1000);
  /* Cells 1..99 need no digest; cell 100 does. */
  for (int i = 0; i < 99; i++) {
    T_ASSERT(!sendme_circ_next_needs_digest(&sc));
    T_OK(sendme_circ_note_packaged(&sc, NULL));
    count++;
  }
  T_ASSERT(sendme_circ_next_needs_digest(&sc));
  T_ASSERT(send_cells(&sc, &count, 1));
  T_EQ_UINT(sendme_circ_n_pending(&sc), 1);
  T_ASSERT(send_cells(&sc, &count, 900));
  T_EQ_UINT(sendme_circ_n_pending(&sc), 10);
  T_EQ_INT(sendme_circ_package_window(&sc), 0);
  T_ASSERT(!sendme_circ_can_package(&sc));

  /* The SENDMEs come back in order with cells 100, 200, ... digests. */
  uint8_t d[SENDME_DIGEST_LEN], body[64];
  for (uint32_t k = 1; k <= 10; k++) {
    digest_for(k * 100, d);
    size_t len = body_for(1, d, body);
    T_OK(sendme_circ_handle_sendme(&sc, body, len, 1));
    T_EQ_INT(sendme_circ_package_window(&sc), (int32_t)k * 100);
  }
  T_EQ_UINT(sendme_circ_n_pending(&sc), 0);
  /* One more is a SENDME for cells never sent. */
  size_t len = body_for(1, d, body);
  T_EQ_INT(sendme_circ_handle_sendme(&sc, body, len, 1), CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_smaller_circwindow(void)
{
  sendme_circ_t sc;
  uint32_t count = 0;
  uint8_t d[SENDME_DIGEST_LEN], body[64];
  sendme_circ_init(&sc, 250);
  /* The peer acknowledges every 100 cells whatever our start window, so
   * the digests are those of cells 100 and 200. */
  T_ASSERT(send_cells(&sc, &count, 250));
  T_EQ_INT(sendme_circ_package_window(&sc), 0);
  T_EQ_UINT(sendme_circ_n_pending(&sc), 2);
  digest_for(100, d);
  T_OK(sendme_circ_handle_sendme(&sc, body, body_for(1, d, body), 1));
  digest_for(200, d);
  T_OK(sendme_circ_handle_sendme(&sc, body, body_for(1, d, body), 1));
  T_EQ_INT(sendme_circ_package_window(&sc), 200);
  /* Nothing else outstanding. */
  T_EQ_INT(sendme_circ_handle_sendme(&sc, body, body_for(1, d, body), 1),
           CHIVE_ERR_PROTO);
  /* A window of 150: one SENDME lifts it from 50 to 150, the limit. */
  sendme_circ_init(&sc, 150);
  count = 0;
  T_ASSERT(send_cells(&sc, &count, 100));
  digest_for(100, d);
  T_OK(sendme_circ_handle_sendme(&sc, body, body_for(1, d, body), 1));
  T_EQ_INT(sendme_circ_package_window(&sc), 150);
done:
  return;
}

static void
test_mismatch_and_versions(void)
{
  sendme_circ_t sc;
  uint32_t count = 0;
  uint8_t d[SENDME_DIGEST_LEN], body[64];
  sendme_circ_init(&sc, 1000);
  T_ASSERT(send_cells(&sc, &count, 300));
  /* Wrong digest. */
  digest_for(101, d);
  T_EQ_INT(sendme_circ_handle_sendme(&sc, body, body_for(1, d, body), 1),
           CHIVE_ERR_CRYPTO);
  /* v0 refused when the minimum is 1... */
  T_EQ_INT(sendme_circ_handle_sendme(&sc, NULL, 0, 1), CHIVE_ERR_PROTO);
  /* ... accepted when it is 0, and it still pops a digest. */
  size_t before = sendme_circ_n_pending(&sc);
  T_OK(sendme_circ_handle_sendme(&sc, NULL, 0, 0));
  T_EQ_UINT(sendme_circ_n_pending(&sc), before - 1);
  /* Unknown version: torn down (tor-spec §7.3.1). */
  uint8_t v2[3 + 20] = {2, 0, 20};
  T_EQ_INT(sendme_circ_handle_sendme(&sc, v2, sizeof(v2), 0), CHIVE_ERR_PROTO);
  /* v1 with DATA_LEN < 20. */
  uint8_t shortv1[3 + 4] = {1, 0, 4, 1, 2, 3, 4};
  T_EQ_INT(sendme_circ_handle_sendme(&sc, shortv1, sizeof(shortv1), 0),
           CHIVE_ERR_PROTO);
  /* v1 with DATA_LEN > 20 uses the first 20 bytes. */
  sendme_circ_init(&sc, 1000);
  count = 0;
  T_ASSERT(send_cells(&sc, &count, 100));
  uint8_t longv1[3 + 24] = {1, 0, 24};
  digest_for(100, longv1 + 3);
  T_OK(sendme_circ_handle_sendme(&sc, longv1, sizeof(longv1), 1));
  /* Truncated DATA. */
  uint8_t trunc[3 + 10] = {1, 0, 20};
  T_EQ_INT(sendme_circ_handle_sendme(&sc, trunc, sizeof(trunc), 1),
           CHIVE_ERR_PROTO);
done:
  return;
}

static void
test_deliver_window(void)
{
  sendme_circ_t sc;
  bool send = false;
  int sendmes = 0;
  sendme_circ_init(&sc, 1000);
  /* 1000 cells with SENDMEs acknowledged never overrun. */
  for (int i = 0; i < 5000; i++) {
    T_OK(sendme_circ_note_delivered(&sc, &send));
    if (send) {
      T_EQ_INT(sendme_circ_deliver_window(&sc), 900);
      sendme_circ_note_sendme_sent(&sc);
      sendmes++;
    }
  }
  T_EQ_INT(sendmes, 50);
  /* Without SENDMEs, the 1001st cell is a violation. */
  sendme_circ_init(&sc, 1000);
  for (int i = 0; i < 1000; i++)
    T_OK(sendme_circ_note_delivered(&sc, &send));
  T_EQ_INT(sendme_circ_deliver_window(&sc), 0);
  T_EQ_INT(sendme_circ_note_delivered(&sc, &send), CHIVE_ERR_PROTO);
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_init_clamp),         T_CASE(test_record_every_100th),
    T_CASE(test_smaller_circwindow), T_CASE(test_mismatch_and_versions),
    T_CASE(test_deliver_window),     T_END,
};

T_MAIN(cases)
