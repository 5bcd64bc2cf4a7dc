/* Unit tests for feature/circpool/circpool: the circuit pool policy, on a
 * fake clock with fake circuits (path-spec §2.1, §3). */
#include "lib/cc/compat.h"

#include "feature/circpool/circpool.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

#define S(x) ((uint64_t)(x)*1000u) /* seconds -> ms on the fake clock */

/* A fake circuit: the handle the pool stores. */
typedef struct fake_circ_t {
  int id;
  bool any_port;
  uint16_t ports[8];
  size_t n_ports;
} fake_circ_t;

static int n_allow_calls;

static bool
fake_exit_allows(void *handle, uint16_t port, void *arg)
{
  (void)arg;
  const fake_circ_t *c = handle;
  n_allow_calls++;
  if (c->any_port)
    return true;
  for (size_t i = 0; i < c->n_ports; i++)
    if (c->ports[i] == port)
      return true;
  return false;
}

static void
fc_init(fake_circ_t *c, int id, uint16_t port)
{
  memset(c, 0, sizeof(*c));
  c->id = id;
  if (port == 0) {
    c->any_port = true;
  } else {
    c->ports[0] = port;
    c->n_ports = 1;
  }
}

static void
fc_allow(fake_circ_t *c, uint16_t port)
{
  c->ports[c->n_ports++] = port;
}

static const uint8_t U1[] = "user1:pass";
static const uint8_t U2[] = "user2:pass";
static const uint8_t U3[] = "user3:pass";

/* Launch and open <b>c</b> as an unreserved circuit at <b>now</b>. */
static bool
add_open(circpool_t *pool, fake_circ_t *c, uint64_t now)
{
  if (circpool_circuit_launched(pool, c, NULL, now) != CHIVE_OK)
    return false;
  return circpool_circuit_opened(pool, c, now);
}

static void
test_circpool_strategy(void)
{
  circpool_t *pool = NULL;
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  T_EQ_UINT(s.min_clean, 2);
  T_EQ_UINT(s.max_clean, 12);
  T_EQ_UINT(s.max_building, 10);
  T_EQ_UINT(s.max_total, 256);
  T_EQ_UINT(s.per_iso_min, 0);
  T_EQ_UINT(s.dirtiness_s, 600);
  T_EQ_UINT(s.idle_timeout_s, 3600);
  T_EQ_UINT(s.prediction_s, 3600);
  T_OK(circpool_strategy_check(&s));

  circpool_strategy_t b = s;
  b.max_total = 0;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.max_total = CIRCPOOL_MAX_TOTAL_LIMIT + 1;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.max_building = 0;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.min_clean = 13;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.max_clean = 300;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.dirtiness_s = 0;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  b = s;
  b.fail_limit = CIRCPOOL_FAIL_LIMIT_MAX + 1;
  T_EQ_INT(circpool_strategy_check(&b), CHIVE_ERR_INVAL);
  T_EQ_INT(circpool_strategy_check(NULL), CHIVE_ERR_INVAL);

  b = s;
  b.idle_timeout_s = 0;
  T_EQ_INT(circpool_new(&b, NULL, NULL, 0, &pool), CHIVE_ERR_INVAL);
  T_ASSERT(pool == NULL);
  T_OK(circpool_new(NULL, NULL, NULL, 0, &pool));
  T_EQ_UINT(circpool_strategy(pool)->max_clean, 12);
  T_EQ_INT(circpool_set_strategy(pool, &b), CHIVE_ERR_INVAL);
  T_EQ_UINT(circpool_strategy(pool)->idle_timeout_s, 3600);
  circpool_free(pool);
  T_ASSERT(pool == NULL);

  /* Allocation failures are reported, nothing leaks. */
  for (uint64_t n = 1; n <= 2; n++) {
    chive_mem_fail_nth(n, false);
    T_EQ_INT(circpool_new(NULL, NULL, NULL, 0, &pool), CHIVE_ERR_NOMEM);
    chive_mem_fail_nth(0, false);
    T_ASSERT(pool == NULL);
  }
  T_OK(circpool_new(NULL, NULL, NULL, 0, &pool));
  b = s;
  b.max_total = 1000;
  chive_mem_fail_nth(1, false);
  T_EQ_INT(circpool_set_strategy(pool, &b), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_EQ_UINT(circpool_strategy(pool)->max_total, 256);
  T_OK(circpool_set_strategy(pool, &b));
  T_EQ_UINT(circpool_strategy(pool)->max_total, 1000);
done:
  chive_mem_fail_nth(0, false);
  circpool_free(pool);
}

/* At start port 80 is predicted: two clean circuits for it; once they
 * exist (building or open) nothing more is wanted. */
static void
test_circpool_initial_port80(void)
{
  circpool_t *pool = NULL;
  fake_circ_t a, b;
  circpool_launch_t req[8];
  uint16_t ports[4];
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(100), &pool));
  T_EQ_UINT(circpool_predicted_ports(pool, S(100), ports, 4), 1);
  T_EQ_UINT(ports[0], 80);
  size_t n = circpool_wants(pool, S(100), req, 8);
  T_EQ_UINT(n, 2);
  for (size_t i = 0; i < n; i++) {
    T_EQ_INT(req[i].reason, CIRCPOOL_REASON_PREDICTED);
    T_EQ_UINT(req[i].n_ports, 1);
    T_EQ_UINT(req[i].ports[0], 80);
    T_ASSERT(!req[i].isolated);
  }
  fc_init(&a, 1, 80);
  fc_init(&b, 2, 80);
  T_OK(circpool_circuit_launched(pool, &a, &req[0], S(100)));
  T_EQ_UINT(circpool_wants(pool, S(100), req, 8), 1);
  T_OK(circpool_circuit_launched(pool, &b, &req[1], S(100)));
  T_EQ_UINT(circpool_wants(pool, S(101), req, 8), 0);
  /* Building circuits take no streams. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(101)) == NULL);
  T_ASSERT(circpool_circuit_opened(pool, &a, S(102)));
  T_ASSERT(circpool_circuit_opened(pool, &b, S(102)));
  T_ASSERT(!circpool_circuit_opened(pool, &b, S(102))); /* not building */
  T_EQ_UINT(circpool_wants(pool, S(103), req, 8), 0);
  circpool_stats_t st;
  circpool_get_stats(pool, S(103), &st);
  T_EQ_UINT(st.n_open_clean, 2);
  T_EQ_UINT(st.n_launched, 2);
  T_EQ_UINT(st.n_opened, 2);
  T_EQ_UINT(st.n_launch_requests, 3);
  /* Using one makes it dirty: a replacement clean circuit is wanted. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(104)) == &a);
  n = circpool_wants(pool, S(104), req, 8);
  T_EQ_UINT(n, 1);
  T_EQ_UINT(req[0].ports[0], 80);
done:
  circpool_free(pool);
}

/* Ports used in the last hour drive preemptive launches; one circuit
 * covers several ports; after an hour without use nothing is built. */
static void
test_circpool_predicted_ports(void)
{
  circpool_t *pool = NULL;
  fake_circ_t c[4];
  circpool_launch_t req[8];
  uint16_t ports[8];
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  circpool_note_port_used(pool, 443, S(10));
  circpool_note_port_used(pool, 0, S(10)); /* ignored */
  T_EQ_UINT(circpool_predicted_ports(pool, S(10), ports, 8), 2);
  T_EQ_UINT(ports[0], 443); /* most recent first */
  T_EQ_UINT(ports[1], 80);
  /* Two per port needed; with max 1 per call the neediest, most recent
   * port comes first and the request lists the other needy ports. */
  size_t n = circpool_wants(pool, S(10), req, 1);
  T_EQ_UINT(n, 1);
  T_EQ_UINT(req[0].ports[0], 443);
  T_EQ_UINT(req[0].n_ports, 2);
  T_EQ_UINT(req[0].ports[1], 80);
  /* The owner finds an exit allowing both: it covers both ports. */
  fc_init(&c[0], 0, 443);
  fc_allow(&c[0], 80);
  T_OK(circpool_circuit_launched(pool, &c[0], &req[0], S(10)));
  n = circpool_wants(pool, S(11), req, 1);
  T_EQ_UINT(n, 1);
  fc_init(&c[1], 1, 443);
  fc_allow(&c[1], 80);
  T_OK(circpool_circuit_launched(pool, &c[1], &req[0], S(11)));
  T_EQ_UINT(circpool_wants(pool, S(12), req, 8), 0);

  /* A port nobody covers. */
  circpool_note_port_used(pool, 6667, S(20));
  n = circpool_wants(pool, S(20), req, 8);
  T_EQ_UINT(n, 2);
  T_EQ_UINT(req[0].ports[0], 6667);
  T_EQ_UINT(req[1].ports[0], 6667);

  /* An hour later (80 and 443 last used at 0 and 10 s): 80 and 443 are
   * no longer predicted; 6667 (used at 20 s) still is for 10 s more. */
  T_EQ_UINT(circpool_predicted_ports(pool, S(3610), ports, 8), 1);
  T_EQ_UINT(ports[0], 6667);
  T_EQ_UINT(circpool_wants(pool, S(3610), req, 8), 2);
  T_EQ_UINT(circpool_predicted_ports(pool, S(3620), ports, 8), 0);
  T_EQ_UINT(circpool_wants(pool, S(3620), req, 8), 0);
  /* Using a port renews the prediction. */
  circpool_note_port_used(pool, 22, S(4000));
  T_EQ_UINT(circpool_predicted_ports(pool, S(7599), ports, 8), 1);
  T_EQ_UINT(circpool_predicted_ports(pool, S(7600), ports, 8), 0);
done:
  circpool_free(pool);
}

static void
test_circpool_predicted_ports_lru(void)
{
  circpool_t *pool = NULL;
  uint16_t ports[CIRCPOOL_MAX_PREDICTED_PORTS];
  T_OK(circpool_new(NULL, NULL, NULL, S(0), &pool));
  /* 80 at 0, then 1000..1069 at 1..70 s: the table keeps the 64 most
   * recent. */
  for (uint16_t i = 0; i < 70; i++)
    circpool_note_port_used(pool, (uint16_t)(1000 + i), S(1 + i));
  T_EQ_UINT(
      circpool_predicted_ports(pool, S(100), ports, CHIVE_ARRAY_LEN(ports)),
      CIRCPOOL_MAX_PREDICTED_PORTS);
  T_EQ_UINT(ports[0], 1069);
  T_EQ_UINT(ports[CIRCPOOL_MAX_PREDICTED_PORTS - 1], 1006);
  /* Re-noting a port moves it to the front. */
  circpool_note_port_used(pool, 1010, S(200));
  T_EQ_UINT(circpool_predicted_ports(pool, S(200), ports, 1),
            CIRCPOOL_MAX_PREDICTED_PORTS);
  T_EQ_UINT(ports[0], 1010);
done:
  circpool_free(pool);
}

/* No more than max_clean spare circuits, however many ports. */
static void
test_circpool_max_clean(void)
{
  circpool_t *pool = NULL;
  circpool_launch_t req[64];
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  s.max_building = 50;
  T_OK(circpool_new(&s, fake_exit_allows, NULL, S(0), &pool));
  for (uint16_t p = 1; p <= 10; p++)
    circpool_note_port_used(pool, (uint16_t)(8000 + p), S(1));
  size_t n = circpool_wants(pool, S(1), req, 64);
  T_EQ_UINT(n, 12);
  /* With 11 predicted ports, the first rounds take one per port. */
  bool seen80 = false;
  for (size_t i = 0; i < n; i++)
    if (req[i].ports[0] == 80)
      seen80 = true;
  T_ASSERT(seen80);
  T_EQ_UINT(req[0].n_ports, CIRCPOOL_LAUNCH_MAX_PORTS);
done:
  circpool_free(pool);
}

/* max_building and max_total bound every launch. */
static void
test_circpool_limits(void)
{
  circpool_t *pool = NULL;
  fake_circ_t c[8];
  circpool_launch_t req[16];
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  s.max_building = 3;
  s.max_total = 5;
  s.max_clean = 5;
  s.min_clean = 5;
  T_OK(circpool_new(&s, fake_exit_allows, NULL, S(0), &pool));
  T_EQ_UINT(circpool_wants(pool, S(0), req, 16), 3);
  for (int i = 0; i < 3; i++) {
    fc_init(&c[i], i, 0);
    T_OK(circpool_circuit_launched(pool, &c[i], NULL, S(0)));
  }
  T_EQ_UINT(circpool_wants(pool, S(0), req, 16), 0); /* 3 building */
  circpool_launch_t one;
  T_EQ_INT(circpool_need_for_stream(pool, 22, U1, sizeof(U1), S(0), &one),
           CIRCPOOL_NEED_WAIT); /* any-port exits are building */
  T_ASSERT(circpool_circuit_opened(pool, &c[0], S(1)));
  T_EQ_UINT(circpool_wants(pool, S(1), req, 16), 1);
  T_ASSERT(circpool_circuit_opened(pool, &c[1], S(1)));
  T_ASSERT(circpool_circuit_opened(pool, &c[2], S(1)));
  /* Total cap: 3 exist, 2 more allowed although 3 could build. */
  T_EQ_UINT(circpool_wants(pool, S(2), req, 16), 2);
  for (int i = 3; i < 5; i++) {
    fc_init(&c[i], i, 0);
    T_OK(circpool_circuit_launched(pool, &c[i], NULL, S(2)));
  }
  fc_init(&c[5], 5, 0);
  T_EQ_INT(circpool_circuit_launched(pool, &c[5], NULL, S(2)),
           CHIVE_ERR_LIMIT);
  T_EQ_UINT(circpool_wants(pool, S(2), req, 16), 0);
  /* A stream with a new key finds every circuit clean: it adopts one. */
  T_ASSERT(circpool_get_for_stream(pool, 22, U1, sizeof(U1), S(3)) == &c[0]);
  /* Another key: c[1] open clean remains. */
  T_ASSERT(circpool_get_for_stream(pool, 22, U2, sizeof(U2), S(3)) == &c[1]);
  T_ASSERT(circpool_get_for_stream(pool, 22, U3, sizeof(U3), S(3)) == &c[2]);
  /* A fourth key: c[3], c[4] still building -> wait. */
  T_EQ_INT(
      circpool_need_for_stream(pool, 22, (const uint8_t *)"k4", 2, S(3), &one),
      CIRCPOOL_NEED_WAIT);
  T_ASSERT(circpool_circuit_opened(pool, &c[3], S(4)));
  T_ASSERT(circpool_circuit_opened(pool, &c[4], S(4)));
  T_ASSERT(circpool_get_for_stream(pool, 22, (const uint8_t *)"k4", 2, S(4)) ==
           &c[3]);
  T_ASSERT(circpool_get_for_stream(pool, 22, (const uint8_t *)"k5", 2, S(4)) ==
           &c[4]);
  /* A sixth key: nothing usable, nothing pending, pool full. */
  T_EQ_INT(
      circpool_need_for_stream(pool, 22, (const uint8_t *)"k6", 2, S(4), &one),
      CIRCPOOL_NEED_LIMITED);
  /* Handle bookkeeping errors. */
  T_EQ_INT(circpool_circuit_launched(pool, NULL, NULL, S(4)), CHIVE_ERR_INVAL);
  T_EQ_INT(circpool_circuit_launched(pool, &c[0], NULL, S(4)),
           CHIVE_ERR_INVAL);
  T_ASSERT(!circpool_circuit_opened(pool, &c[6], S(4)));
  T_ASSERT(!circpool_circuit_closed(pool, &c[6]));
  T_ASSERT(!circpool_circuit_failed(pool, &c[6], S(4)));
  T_ASSERT(!circpool_stream_detached(pool, &c[6]));
done:
  circpool_free(pool);
}

/* Two different keys never share a circuit; need_for_stream launches a
 * circuit reserved for the waiting key. */
static void
test_circpool_isolation(void)
{
  circpool_t *pool = NULL;
  fake_circ_t a, b, x;
  circpool_launch_t req;
  circpool_info_t info;
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  fc_init(&a, 1, 443);
  T_ASSERT(add_open(pool, &a, S(0)));
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1), S(1)) == &a);
  T_ASSERT(circpool_get_info(pool, &a, S(1), &info));
  T_ASSERT(info.dirty && info.has_iso);
  T_EQ_UINT(info.n_streams, 1);
  T_EQ_UINT(info.dirty_since_ms, S(1));
  /* user2: a is user1's now. */
  T_ASSERT(circpool_get_for_stream(pool, 443, U2, sizeof(U2), S(2)) == NULL);
  T_EQ_INT(circpool_need_for_stream(pool, 443, U2, sizeof(U2), S(2), &req),
           CIRCPOOL_NEED_LAUNCH);
  T_EQ_INT(req.reason, CIRCPOOL_REASON_STREAM);
  T_ASSERT(req.isolated);
  T_EQ_UINT(req.iso_len, sizeof(U2));
  T_EQ_MEM(req.iso_key, U2, sizeof(U2));
  T_EQ_UINT(req.n_ports, 1);
  T_EQ_UINT(req.ports[0], 443);
  /* user1 needs nothing. */
  circpool_launch_t other;
  T_EQ_INT(circpool_need_for_stream(pool, 443, U1, sizeof(U1), S(2), &other),
           CIRCPOOL_NEED_NONE);
  fc_init(&b, 2, 443);
  T_OK(circpool_circuit_launched(pool, &b, &req, S(2)));
  T_EQ_INT(circpool_need_for_stream(pool, 443, U2, sizeof(U2), S(2), &req),
           CIRCPOOL_NEED_WAIT);
  /* b is reserved for user2: user3 does not wait for it. */
  T_EQ_INT(circpool_need_for_stream(pool, 443, U3, sizeof(U3), S(2), &req),
           CIRCPOOL_NEED_LAUNCH);
  T_ASSERT(circpool_circuit_opened(pool, &b, S(3)));
  T_ASSERT(circpool_get_info(pool, &b, S(3), &info));
  T_ASSERT(!info.dirty && info.has_iso);
  /* user3 and user1 cannot take b even though it is clean. */
  T_ASSERT(circpool_get_for_stream(pool, 443, U3, sizeof(U3), S(3)) == NULL);
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1), S(3)) == &a);
  T_ASSERT(circpool_get_for_stream(pool, 443, U2, sizeof(U2), S(3)) == &b);
  /* Same-length keys differing in one byte are different keys. */
  uint8_t u1x[sizeof(U1)];
  memcpy(u1x, U1, sizeof(U1));
  u1x[3] ^= 1;
  T_ASSERT(circpool_get_for_stream(pool, 443, u1x, sizeof(u1x), S(3)) == NULL);
  /* A prefix is a different key too. */
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1) - 1, S(3)) ==
           NULL);
  /* The empty key is a key: it adopts a clean circuit, then only empty
   * keys share it. */
  fc_init(&x, 9, 0);
  T_ASSERT(add_open(pool, &x, S(4)));
  T_ASSERT(circpool_get_for_stream(pool, 443, NULL, 0, S(4)) == &x);
  T_ASSERT(circpool_get_for_stream(pool, 80, NULL, 0, S(4)) == &x);
  T_ASSERT(circpool_get_for_stream(pool, 80, U3, sizeof(U3), S(4)) == NULL);
  /* Keys longer than the maximum are refused. */
  uint8_t big[CIRCPOOL_ISO_KEY_MAX_LEN + 1];
  memset(big, 7, sizeof(big));
  T_ASSERT(circpool_get_for_stream(pool, 80, big, sizeof(big), S(4)) == NULL);
  T_EQ_INT(circpool_need_for_stream(pool, 80, big, sizeof(big), S(4), &req),
           CIRCPOOL_NEED_LIMITED);
  T_ASSERT(circpool_get_for_stream(pool, 80, big, CIRCPOOL_ISO_KEY_MAX_LEN,
                                   S(4)) == NULL); /* no clean circuit */
  fake_circ_t y;
  fc_init(&y, 10, 0);
  T_ASSERT(add_open(pool, &y, S(5)));
  T_ASSERT(circpool_get_for_stream(pool, 80, big, CIRCPOOL_ISO_KEY_MAX_LEN,
                                   S(5)) == &y);
  T_ASSERT(circpool_get_for_stream(pool, 80, big, CIRCPOOL_ISO_KEY_MAX_LEN,
                                   S(5)) == &y);
  circpool_launch_t badreq;
  memset(&badreq, 0, sizeof(badreq));
  badreq.isolated = true;
  badreq.iso_len = CIRCPOOL_ISO_KEY_MAX_LEN + 1;
  fake_circ_t z;
  fc_init(&z, 11, 0);
  T_EQ_INT(circpool_circuit_launched(pool, &z, &badreq, S(5)),
           CHIVE_ERR_INVAL);
done:
  circpool_free(pool);
}

/* MaxCircuitDirtiness: an expired circuit takes no new streams, is
 * closed only once stream-less, and is replaced. */
static void
test_circpool_dirtiness(void)
{
  circpool_t *pool = NULL;
  fake_circ_t a, b;
  void *out[8];
  circpool_info_t info;
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  fc_init(&a, 1, 0);
  fc_init(&b, 2, 0);
  T_ASSERT(add_open(pool, &a, S(0)));
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(100)) == &a);
  /* Later streams do not refresh dirty_since. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(699)) == &a);
  T_ASSERT(circpool_get_info(pool, &a, S(699), &info));
  T_EQ_UINT(info.dirty_since_ms, S(100));
  T_EQ_UINT(info.n_streams, 2);
  T_ASSERT(!info.expired);
  /* 600 s after the first stream: expired. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(700)) == NULL);
  T_ASSERT(circpool_get_info(pool, &a, S(700), &info));
  T_ASSERT(info.expired);
  circpool_launch_t req;
  T_EQ_INT(circpool_need_for_stream(pool, 80, U1, sizeof(U1), S(700), &req),
           CIRCPOOL_NEED_LAUNCH);
  /* Streams still attached: not closed. */
  T_EQ_UINT(circpool_to_close(pool, S(700), out, 8), 0);
  T_ASSERT(circpool_stream_detached(pool, &a));
  T_EQ_UINT(circpool_to_close(pool, S(701), out, 8), 0);
  T_ASSERT(circpool_stream_detached(pool, &a));
  T_ASSERT(!circpool_stream_detached(pool, &a)); /* no streams left */
  T_EQ_UINT(circpool_to_close(pool, S(702), out, 8), 1);
  T_ASSERT(out[0] == &a);
  T_ASSERT(circpool_get_info(pool, &a, S(702), &info));
  T_EQ_INT(info.state, CIRCPOOL_STATE_CLOSING);
  /* Marked once only. */
  T_EQ_UINT(circpool_to_close(pool, S(703), out, 8), 0);
  circpool_stats_t st;
  circpool_get_stats(pool, S(703), &st);
  T_EQ_UINT(st.n_closing, 1);
  T_EQ_UINT(st.n_close_requests, 1);
  T_ASSERT(circpool_circuit_closed(pool, &a));
  T_ASSERT(!circpool_get_info(pool, &a, S(703), &info));
  /* A dirty but unexpired idle circuit is kept for its key. */
  T_ASSERT(add_open(pool, &b, S(800)));
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(800)) == &b);
  T_ASSERT(circpool_stream_detached(pool, &b));
  T_EQ_UINT(circpool_to_close(pool, S(1399), out, 8), 0);
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(1399)) == &b);
  T_ASSERT(circpool_stream_detached(pool, &b));
  T_EQ_UINT(circpool_to_close(pool, S(1400), out, 8), 1);
  T_ASSERT(out[0] == &b);
  /* A shorter MaxCircuitDirtiness applies at once. */
  circpool_strategy_t s = *circpool_strategy(pool);
  s.dirtiness_s = 10;
  T_OK(circpool_set_strategy(pool, &s));
  T_ASSERT(circpool_circuit_closed(pool, &b));
  T_ASSERT(add_open(pool, &b, S(2000)));
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(2000)) == &b);
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(2010)) == NULL);
done:
  circpool_free(pool);
}

/* Failed circuits are replaced; repeated failures back off
 * (path-spec §2.1.5). */
static void
test_circpool_failures(void)
{
  circpool_t *pool = NULL;
  fake_circ_t c[16];
  circpool_launch_t req[8];
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  T_EQ_UINT(circpool_wants(pool, S(0), req, 8), 2);
  fc_init(&c[0], 0, 80);
  fc_init(&c[1], 1, 80);
  T_OK(circpool_circuit_launched(pool, &c[0], &req[0], S(0)));
  T_OK(circpool_circuit_launched(pool, &c[1], &req[1], S(0)));
  T_EQ_UINT(circpool_wants(pool, S(0), req, 8), 0);
  T_ASSERT(circpool_circuit_failed(pool, &c[0], S(5)));
  /* The failed one is replaced. */
  T_EQ_UINT(circpool_wants(pool, S(5), req, 8), 1);
  T_EQ_UINT(req[0].ports[0], 80);
  /* An open circuit that is closed is replaced too. */
  T_ASSERT(circpool_circuit_opened(pool, &c[1], S(6)));
  T_ASSERT(circpool_circuit_closed(pool, &c[1]));
  T_EQ_UINT(circpool_wants(pool, S(6), req, 8), 2);
  /* Five build failures within 60 s: back off. */
  for (int i = 2; i < 6; i++) {
    fc_init(&c[i], i, 80);
    T_OK(circpool_circuit_launched(pool, &c[i], NULL, S(10)));
    T_ASSERT(circpool_circuit_failed(pool, &c[i], S(10 + (uint64_t)i)));
  }
  circpool_stats_t st;
  circpool_get_stats(pool, S(16), &st);
  T_ASSERT(st.in_backoff);
  T_EQ_UINT(st.n_failed, 5);
  T_EQ_UINT(circpool_wants(pool, S(16), req, 8), 0);
  /* ... preemptive launches only: a waiting stream still gets one. */
  circpool_launch_t one;
  T_EQ_INT(circpool_need_for_stream(pool, 80, U1, sizeof(U1), S(16), &one),
           CIRCPOOL_NEED_LAUNCH);
  T_EQ_INT(one.reason, CIRCPOOL_REASON_STREAM);
  /* The oldest of the five was at 5 s: the window ends at 65 s. */
  T_EQ_UINT(circpool_wants(pool, S(64), req, 8), 0);
  T_EQ_UINT(circpool_wants(pool, S(65), req, 8), 2);
  circpool_get_stats(pool, S(65), &st);
  T_ASSERT(!st.in_backoff);
  /* Failures of open circuits do not count towards the backoff. */
  for (int i = 6; i < 12; i++) {
    fc_init(&c[i], i, 80);
    T_ASSERT(add_open(pool, &c[i], S(70)));
    T_ASSERT(circpool_circuit_failed(pool, &c[i], S(70)));
  }
  circpool_get_stats(pool, S(70), &st);
  T_ASSERT(!st.in_backoff);
  /* fail_limit 0 disables the backoff. */
  circpool_strategy_t s = *circpool_strategy(pool);
  s.fail_limit = 0;
  T_OK(circpool_set_strategy(pool, &s));
  for (int i = 12; i < 16; i++) {
    fc_init(&c[i], i, 80);
    T_OK(circpool_circuit_launched(pool, &c[i], NULL, S(80)));
    T_ASSERT(circpool_circuit_failed(pool, &c[i], S(80)));
  }
  T_EQ_UINT(circpool_wants(pool, S(80), req, 8), 2);
done:
  circpool_free(pool);
}

/* Placement: same-key dirty circuit first (most recently dirtied), then
 * a clean one reserved for the key, then the oldest unreserved clean. */
static void
test_circpool_placement(void)
{
  circpool_t *pool = NULL;
  fake_circ_t a, b, c, d, r;
  circpool_launch_t req;
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  fc_init(&a, 1, 0);
  fc_init(&b, 2, 0);
  fc_init(&c, 3, 0);
  fc_init(&d, 4, 0);
  T_ASSERT(add_open(pool, &a, S(1)));
  T_ASSERT(add_open(pool, &b, S(2)));
  T_ASSERT(add_open(pool, &c, S(3)));
  /* Oldest clean first. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(10)) == &a);
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(11)) == &b);
  /* user1 again: its own circuit, not the clean c. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(12)) == &a);
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1), S(12)) == &a);
  /* A port a's exit refuses: user1 gets the clean c instead. */
  a.any_port = false;
  fc_allow(&a, 80);
  T_ASSERT(circpool_get_for_stream(pool, 22, U1, sizeof(U1), S(20)) == &c);
  /* Now user1 owns a (dirty at 10 s) and c (dirty at 20 s): the most
   * recently dirtied wins for a port both allow. */
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(21)) == &c);
  /* A reserved clean circuit beats an older unreserved one. */
  T_ASSERT(add_open(pool, &d, S(30)));
  T_EQ_INT(circpool_need_for_stream(pool, 80, U3, sizeof(U3), S(31), &req),
           CIRCPOOL_NEED_NONE); /* d is usable */
  memset(&req, 0, sizeof(req));
  req.reason = CIRCPOOL_REASON_STREAM;
  req.isolated = true;
  req.iso_len = sizeof(U3);
  memcpy(req.iso_key, U3, sizeof(U3));
  fc_init(&r, 5, 0);
  T_OK(circpool_circuit_launched(pool, &r, &req, S(32)));
  T_ASSERT(circpool_circuit_opened(pool, &r, S(33)));
  T_ASSERT(circpool_get_for_stream(pool, 80, U3, sizeof(U3), S(34)) == &r);
  /* The exit-policy callback was consulted; a stream to a port no exit
   * allows gets nothing and asks for a launch for that port. */
  T_ASSERT(n_allow_calls > 0);
  a.any_port = b.any_port = c.any_port = d.any_port = r.any_port = false;
  T_ASSERT(circpool_get_for_stream(pool, 25, U3, sizeof(U3), S(40)) == NULL);
  T_EQ_INT(circpool_need_for_stream(pool, 25, U3, sizeof(U3), S(40), &req),
           CIRCPOOL_NEED_LAUNCH);
  T_EQ_UINT(req.ports[0], 25);
  /* Port 0 (e.g. a RESOLVE) takes any exit. */
  T_ASSERT(circpool_get_for_stream(pool, 0, U3, sizeof(U3), S(41)) == &r);
  circpool_stats_t st;
  circpool_get_stats(pool, S(41), &st);
  T_EQ_UINT(st.n_streams_attached, 8);
  T_EQ_UINT(st.n_streams, 8);
  T_EQ_UINT(st.n_open_dirty, 4);
  T_EQ_UINT(st.n_open_clean, 1);
done:
  circpool_free(pool);
}

/* Never-used circuits are closed after idle_timeout_s and replaced;
 * spare circuits above max_clean and records above max_total are
 * trimmed, idle ones only. */
static void
test_circpool_idle_and_trim(void)
{
  circpool_t *pool = NULL;
  fake_circ_t c[8];
  void *out[8];
  circpool_launch_t req[8];
  T_OK(circpool_new(NULL, fake_exit_allows, NULL, S(0), &pool));
  for (int i = 0; i < 2; i++) {
    fc_init(&c[i], i, 80);
    T_ASSERT(add_open(pool, &c[i], S(0)));
  }
  circpool_note_port_used(pool, 80, S(3000));
  T_EQ_UINT(circpool_wants(pool, S(3000), req, 8), 0);
  T_EQ_UINT(circpool_to_close(pool, S(3599), out, 8), 0);
  /* An hour old and never used: closed, and no longer counted as
   * coverage, so replacements are wanted (80 is still predicted). */
  T_EQ_UINT(circpool_wants(pool, S(3600), req, 8), 2);
  T_EQ_UINT(circpool_to_close(pool, S(3600), out, 1), 1);
  T_ASSERT(out[0] == &c[0]);
  T_EQ_UINT(circpool_to_close(pool, S(3600), out, 8), 1);
  T_ASSERT(out[0] == &c[1]);
  T_ASSERT(circpool_circuit_closed(pool, &c[0]));
  T_ASSERT(circpool_circuit_closed(pool, &c[1]));

  /* Six spare circuits, then max_clean lowered to 2: the four oldest
   * idle ones go; a clean circuit with a stream is never closed. */
  for (int i = 0; i < 6; i++) {
    fc_init(&c[i], i, 0);
    T_ASSERT(add_open(pool, &c[i], S(4000 + (uint64_t)i)));
  }
  circpool_strategy_t s = *circpool_strategy(pool);
  s.max_clean = 2;
  s.min_clean = 1;
  T_OK(circpool_set_strategy(pool, &s));
  T_EQ_UINT(circpool_to_close(pool, S(4010), out, 8), 4);
  T_ASSERT(out[0] == &c[0] && out[1] == &c[1] && out[2] == &c[2] &&
           out[3] == &c[3]);
  for (int i = 0; i < 4; i++)
    T_ASSERT(circpool_circuit_closed(pool, &c[i]));
  T_EQ_UINT(circpool_to_close(pool, S(4011), out, 8), 0);

  /* max_total lowered below the live count: idle circuits are trimmed,
   * clean before dirty, busy ones kept. */
  fc_init(&c[6], 6, 0);
  fc_init(&c[7], 7, 0);
  T_ASSERT(add_open(pool, &c[6], S(4020)));
  T_ASSERT(add_open(pool, &c[7], S(4021)));
  T_ASSERT(circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(4022)) ==
           &c[4]); /* busy */
  T_ASSERT(circpool_get_for_stream(pool, 80, U2, sizeof(U2), S(4023)) ==
           &c[5]);
  T_ASSERT(circpool_stream_detached(pool, &c[5])); /* dirty, idle */
  s.max_total = 2;
  s.max_building = 2;
  s.max_clean = 2;
  s.min_clean = 1;
  T_OK(circpool_set_strategy(pool, &s));
  /* Live: c4 (busy), c5 (dirty idle), c6, c7 (clean). */
  T_EQ_UINT(circpool_to_close(pool, S(4030), out, 8), 2);
  T_ASSERT(out[0] == &c[6] && out[1] == &c[7]);
  T_ASSERT(circpool_circuit_closed(pool, &c[6]));
  T_ASSERT(circpool_circuit_closed(pool, &c[7]));
  T_EQ_UINT(circpool_wants(pool, S(4030), req, 8), 0); /* pool full */
  s.max_total = 1;
  s.max_building = 1;
  s.max_clean = 1;
  T_OK(circpool_set_strategy(pool, &s));
  T_EQ_UINT(circpool_to_close(pool, S(4031), out, 8), 1);
  T_ASSERT(out[0] == &c[5]);
  T_EQ_UINT(circpool_to_close(pool, S(4032), out, 8), 0); /* c4 is busy */
done:
  circpool_free(pool);
}

/* Per-isolation sub-pools: each recently active key keeps per_iso_min
 * usable circuits, reserved for it. */
static void
test_circpool_per_iso(void)
{
  circpool_t *pool = NULL;
  fake_circ_t a, b, p1, p2;
  circpool_launch_t req[8];
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  s.per_iso_min = 1;
  s.min_clean = 0; /* isolate the rule under test */
  T_OK(circpool_new(&s, fake_exit_allows, NULL, S(0), &pool));
  T_EQ_UINT(circpool_wants(pool, S(0), req, 8), 0);
  fc_init(&a, 1, 0);
  T_ASSERT(add_open(pool, &a, S(0)));
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1), S(10)) == &a);
  /* user1's a counts for its sub-pool. */
  T_EQ_UINT(circpool_wants(pool, S(10), req, 8), 0);
  /* user2 asked but got nothing: one circuit for user2. */
  T_ASSERT(circpool_get_for_stream(pool, 22, U2, sizeof(U2), S(11)) == NULL);
  size_t n = circpool_wants(pool, S(11), req, 8);
  T_EQ_UINT(n, 1);
  T_EQ_INT(req[0].reason, CIRCPOOL_REASON_ISOLATION);
  T_ASSERT(req[0].isolated);
  T_EQ_MEM(req[0].iso_key, U2, sizeof(U2));
  T_EQ_UINT(req[0].ports[0], 22);
  fc_init(&p2, 2, 22);
  T_OK(circpool_circuit_launched(pool, &p2, &req[0], S(11)));
  T_EQ_UINT(circpool_wants(pool, S(11), req, 8), 0);
  /* When user1's circuit expires, a fresh one is prebuilt for it. */
  n = circpool_wants(pool, S(610), req, 8);
  T_EQ_UINT(n, 1);
  T_EQ_MEM(req[0].iso_key, U1, sizeof(U1));
  T_EQ_UINT(req[0].ports[0], 443);
  fc_init(&p1, 3, 443);
  T_OK(circpool_circuit_launched(pool, &p1, &req[0], S(610)));
  T_ASSERT(circpool_circuit_opened(pool, &p1, S(611)));
  T_ASSERT(circpool_get_for_stream(pool, 443, U2, sizeof(U2), S(611)) == NULL);
  T_ASSERT(circpool_get_for_stream(pool, 443, U1, sizeof(U1), S(612)) == &p1);
  circpool_stats_t st;
  circpool_get_stats(pool, S(612), &st);
  T_EQ_UINT(st.n_iso_keys, 2);
  /* Keys not seen for prediction_s are forgotten. */
  circpool_get_stats(pool, S(611 + 3600), &st);
  T_EQ_UINT(st.n_iso_keys, 1); /* user2 last seen at 611 s */
  circpool_get_stats(pool, S(612 + 3600), &st);
  T_EQ_UINT(st.n_iso_keys, 0);
  /* Many keys: the table is bounded. */
  for (uint32_t i = 0; i < 2 * CIRCPOOL_MAX_ISO_KEYS; i++) {
    uint8_t k[4];
    memcpy(k, &i, sizeof(k));
    (void)circpool_get_for_stream(pool, 80, k, sizeof(k),
                                  S(5000 + (uint64_t)i));
  }
  circpool_get_stats(pool, S(5200), &st);
  T_EQ_UINT(st.n_iso_keys, CIRCPOOL_MAX_ISO_KEYS);
  /* With per_iso_min 0 no keys are remembered. */
  fc_init(&b, 4, 0);
  s.per_iso_min = 0;
  circpool_free(pool);
  T_OK(circpool_new(&s, fake_exit_allows, NULL, S(0), &pool));
  (void)circpool_get_for_stream(pool, 80, U1, sizeof(U1), S(1));
  circpool_get_stats(pool, S(1), &st);
  T_EQ_UINT(st.n_iso_keys, 0);
done:
  circpool_free(pool);
}

/* A long random run: the invariants hold whatever the event order. */
static void
test_circpool_random_run(void)
{
  enum { N = 40 };
  circpool_t *pool = NULL;
  fake_circ_t c[N];
  bool live[N] = {false};
  uint32_t streams[N] = {0};
  circpool_launch_t req[8];
  void *out[8];
  uint64_t rng = 12345;
  uint64_t now = 0;
  circpool_strategy_t s;
  circpool_strategy_default(&s);
  s.max_total = 20;
  s.max_building = 5;
  s.max_clean = 8;
  s.per_iso_min = 1;
  s.dirtiness_s = 60;
  s.idle_timeout_s = 300;
  T_OK(circpool_new(&s, fake_exit_allows, NULL, now, &pool));
  for (int i = 0; i < N; i++)
    fc_init(&c[i], i, (uint16_t)(i % 3 == 0 ? 0 : 80 + (i % 2) * 363));
  for (int step = 0; step < 20000; step++) {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    uint32_t r = (uint32_t)(rng >> 33);
    now += (r % 5) * 250;
    int k = (int)((r >> 4) % N);
    uint8_t key = (uint8_t)((r >> 12) % 6);
    uint16_t port = (r >> 16) % 2 ? 80 : 443;
    switch ((r >> 20) % 7) {
    case 0: {
      size_t n = circpool_wants(pool, now, req, 8);
      for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < N; j++) {
          if (!live[j]) {
            if (circpool_circuit_launched(pool, &c[j], &req[i], now) ==
                CHIVE_OK)
              live[j] = true;
            break;
          }
        }
      }
      break;
    }
    case 1:
      if (live[k])
        (void)circpool_circuit_opened(pool, &c[k], now);
      break;
    case 2:
      if (live[k] && streams[k] == 0 && (r >> 24) % 4 == 0) {
        T_ASSERT(circpool_circuit_failed(pool, &c[k], now));
        live[k] = false;
      }
      break;
    case 3: {
      void *h = circpool_get_for_stream(pool, port, &key, 1, now);
      if (h) {
        fake_circ_t *fc = h;
        T_ASSERT(live[fc->id]);
        T_ASSERT(fake_exit_allows(h, port, NULL));
        circpool_info_t info;
        T_ASSERT(circpool_get_info(pool, h, now, &info));
        T_EQ_INT(info.state, CIRCPOOL_STATE_OPEN);
        T_ASSERT(!info.expired);
        streams[fc->id]++;
      }
      break;
    }
    case 4:
      if (live[k] && streams[k] > 0) {
        T_ASSERT(circpool_stream_detached(pool, &c[k]));
        streams[k]--;
      }
      break;
    case 5: {
      size_t n = circpool_to_close(pool, now, out, 8);
      for (size_t i = 0; i < n; i++) {
        fake_circ_t *fc = out[i];
        T_EQ_UINT(streams[fc->id], 0);
        T_ASSERT(circpool_circuit_closed(pool, fc));
        live[fc->id] = false;
      }
      break;
    }
    default: {
      circpool_launch_t one;
      circpool_need_t need =
          circpool_need_for_stream(pool, port, &key, 1, now, &one);
      if (need == CIRCPOOL_NEED_LAUNCH) {
        for (int j = 0; j < N; j++) {
          if (!live[j] && (c[j].any_port || c[j].ports[0] == port)) {
            if (circpool_circuit_launched(pool, &c[j], &one, now) == CHIVE_OK)
              live[j] = true;
            break;
          }
        }
      }
      circpool_note_port_used(pool, port, now);
      break;
    }
    }
    circpool_stats_t st;
    circpool_get_stats(pool, now, &st);
    T_ASSERT(st.n_total <= s.max_total);
    T_ASSERT(st.n_building <= s.max_building);
    T_EQ_UINT(st.n_total, st.n_building + st.n_open_clean + st.n_open_dirty +
                              st.n_closing);
  }
done:
  circpool_free(pool);
}

static const t_case cases[] = {
    T_CASE(test_circpool_strategy),
    T_CASE(test_circpool_initial_port80),
    T_CASE(test_circpool_predicted_ports),
    T_CASE(test_circpool_predicted_ports_lru),
    T_CASE(test_circpool_max_clean),
    T_CASE(test_circpool_limits),
    T_CASE(test_circpool_isolation),
    T_CASE(test_circpool_dirtiness),
    T_CASE(test_circpool_failures),
    T_CASE(test_circpool_placement),
    T_CASE(test_circpool_idle_and_trim),
    T_CASE(test_circpool_per_iso),
    T_CASE(test_circpool_random_run),
    T_END,
};

T_MAIN(cases)
