/**
 * @file stream.c
 * @brief Streams on origin circuits (tor-spec §6, §7.4): opening,
 * data in both directions with stream windows, END and half-closed
 * stream IDs, RESOLVE.
 *
 * Streams are owned by their circuit's stream_table_t.  A stream that
 * is done is put in STREAM_STATE_CLOSED and freed by
 * ops_reap() when no callback is on the stack (circuit depth
 * 0), so owners may call stream_close() from inside any callback.
 **/
#include "lib/cc/compat.h"

#include "core/stream/stream.h"

#include <string.h>

#include "core/circuit/circuit_st.h"
#include "lib/crypto/rand.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

/** Magic number of a live stream_t. */
#define STREAM_MAGIC 0x5354524du /* "STRM" */
/** Tables this big find a free ID with a temporary bitmap instead of
 * repeated scans. */
#define STREAM_ID_BITMAP_THRESHOLD 32
/** Highest stream ID (IDs are 16 bits; 0 is reserved, tor-spec §6.1). */
#define STREAM_ID_MAX 65535u

/** What the stream was opened with. */
typedef enum stream_kind_t {
  STREAM_KIND_BEGIN = 0,
  STREAM_KIND_BEGIN_DIR,
  STREAM_KIND_RESOLVE,
} stream_kind_t;

struct stream_t {
  uint32_t magic;
  circuit_t *circ;
  size_t hop;
  uint16_t id;
  stream_state_t state;
  stream_kind_t kind;
  bool optimistic;    /**< May write before CONNECTED. */
  bool recv_blocked;  /**< Owner cannot take data: no SENDMEs. */
  bool write_blocked; /**< A push write was cut short. */
  /** Cells stream_write() may still send in this fair turn (-1: no
   * limit; see give_turn()). */
  int turn_budget;
  stream_owner_t owner;
  void *arg;
  int32_t package_window;
  int32_t deliver_window;
  uint64_t created_us;
  uint64_t bytes_sent;
  uint64_t bytes_received;
  /** Bytes sent before CONNECTED (optimistic data, tor-spec §6.2). */
  uint64_t bytes_sent_early;
  bool got_connected;
};

/** A stream ID we sent END for, remembered so late cells can be
 * accounted (tor-spec §6.3: the sender "SHOULD remember how many cells of
 * which types (CONNECTED, SENDME, DATA) it would have accepted on that
 * stream, and SHOULD kill the circuit if it receives more"). */
typedef struct stream_half_t {
  uint16_t id;
  uint8_t hop;
  bool connected_pending; /**< Closed while waiting for CONNECTED. */
  bool resolved_pending;  /**< Closed while waiting for RESOLVED. */
  int32_t data_left;      /**< DATA cells still acceptable. */
  int32_t sendmes_left;   /**< Stream SENDMEs still acceptable. */
  uint64_t seq;           /**< Order of closing (oldest evicted first). */
} stream_half_t;

/** A circuit's streams (circ->streams). */
typedef struct stream_table_t {
  stream_t **v; /**< Streams, including ones awaiting reaping. */
  size_t n, cap;
  stream_half_t *half; /**< Half-closed IDs. */
  size_t n_half, half_cap;
  size_t max_streams; /**< Open + half-closed limit. */
  uint16_t next_id;   /**< Next stream ID to try. */
  size_t rr;          /**< Round-robin start for resuming. */
  uint64_t half_seq;
} stream_table_t;

/* ---- The table ------------------------------------------------------- */

/** Initialise <b>t</b>: IDs start at <b>first_id</b> (0 = random). */
static void
stream_table_init(stream_table_t *t, uint16_t first_id, size_t max_streams)
{
  memset(t, 0, sizeof(*t));
  t->max_streams = max_streams;
  if (first_id == 0)
    first_id = (uint16_t)(1 + crypto_rand_u64_below(STREAM_ID_MAX));
  t->next_id = first_id;
}

/** Free one stream struct. */
static void
stream_free_struct(stream_t *st)
{
  st->magic = 0;
  chive_free_wipe(st);
}

/** Free every stream and half-closed entry and the table; no
 * callbacks (circuit_stream_ops_t.free_all). */
static void
ops_free_all(circuit_t *circ)
{
  stream_table_t *t = circ->streams;
  if (!t)
    return;
  for (size_t i = 0; i < t->n; i++)
    stream_free_struct(t->v[i]);
  chive_free(t->v);
  chive_free(t->half);
  chive_free(t);
  circ->streams = NULL;
}

/** Free streams in state CLOSED (circuit_stream_ops_t.reap). */
static void
ops_reap(circuit_t *circ)
{
  stream_table_t *t = circ->streams;
  size_t j = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (t->v[i]->state == STREAM_STATE_CLOSED)
      stream_free_struct(t->v[i]);
    else
      t->v[j++] = t->v[i];
  }
  t->n = j;
}

/** Live (not CLOSED) streams in <b>t</b>. */
static size_t
stream_table_n_live(const stream_table_t *t)
{
  size_t n = 0;
  for (size_t i = 0; i < t->n; i++) {
    if (t->v[i]->state != STREAM_STATE_CLOSED)
      n++;
  }
  return n;
}

/** Return the live stream with <b>id</b>, or NULL. */
static stream_t *
find_stream(const stream_table_t *t, uint16_t id)
{
  for (size_t i = 0; i < t->n; i++) {
    if (t->v[i]->id == id && t->v[i]->state != STREAM_STATE_CLOSED)
      return t->v[i];
  }
  return NULL;
}

/** Return the index of the half-closed entry for <b>id</b>, or -1. */
static long
find_half(const stream_table_t *t, uint16_t id)
{
  for (size_t i = 0; i < t->n_half; i++) {
    if (t->half[i].id == id)
      return (long)i;
  }
  return -1;
}

/** Remove half-closed entry <b>i</b>. */
static void
remove_half(stream_table_t *t, size_t i)
{
  t->half[i] = t->half[t->n_half - 1];
  t->n_half--;
}

/** Forget the oldest half-closed ID (to make room). */
static void
evict_oldest_half(stream_table_t *t)
{
  size_t oldest = 0;
  for (size_t i = 1; i < t->n_half; i++) {
    if (t->half[i].seq < t->half[oldest].seq)
      oldest = i;
  }
  remove_half(t, oldest);
}

/** Return true iff <b>id</b> is used by a live or half-closed stream. */
static bool
id_in_use(const stream_table_t *t, uint16_t id)
{
  return find_stream(t, id) != NULL || find_half(t, id) >= 0;
}

/** Advance the ID cursor, wrapping from 65535 to 1. */
static uint16_t
take_next_id(stream_table_t *t)
{
  uint16_t id = t->next_id;
  t->next_id = (uint16_t)(id == STREAM_ID_MAX ? 1 : id + 1);
  return id;
}

/** Choose a fresh stream ID: nonzero, not used by a live or half-closed
 * stream (tor-spec §6.2 "selects an arbitrary StreamID not yet used on
 * that circuit"), going round from the last one.  If the table is full,
 * the oldest half-closed ID is forgotten; if it is full of live
 * streams, CHIVE_ERR_LIMIT. */
static chive_err_t
alloc_stream_id(stream_table_t *t, uint16_t *id_out)
{
  size_t live = stream_table_n_live(t);
  while (live + t->n_half >= t->max_streams) {
    if (t->n_half == 0)
      return CHIVE_ERR_LIMIT;
    evict_oldest_half(t);
  }
  if (live + t->n_half < STREAM_ID_BITMAP_THRESHOLD) {
    for (unsigned tries = 0; tries < STREAM_ID_MAX; tries++) {
      uint16_t id = take_next_id(t);
      if (!id_in_use(t, id)) {
        *id_out = id;
        return CHIVE_OK;
      }
    }
    return CHIVE_ERR_LIMIT;
  }
  /* Big table: mark used IDs once. */
  uint8_t *used = chive_zalloc((STREAM_ID_MAX + 1) / 8);
  if (!used)
    return CHIVE_ERR_NOMEM;
  for (size_t i = 0; i < t->n; i++) {
    if (t->v[i]->state != STREAM_STATE_CLOSED)
      used[t->v[i]->id / 8] |= (uint8_t)(1u << (t->v[i]->id % 8));
  }
  for (size_t i = 0; i < t->n_half; i++)
    used[t->half[i].id / 8] |= (uint8_t)(1u << (t->half[i].id % 8));
  chive_err_t err = CHIVE_ERR_LIMIT;
  for (unsigned tries = 0; tries < STREAM_ID_MAX; tries++) {
    uint16_t id = take_next_id(t);
    if (!(used[id / 8] & (1u << (id % 8)))) {
      *id_out = id;
      err = CHIVE_OK;
      break;
    }
  }
  chive_free(used);
  return err;
}

/** Remember <b>st</b>'s ID as half-closed (tor-spec §6.3).  On
 * allocation failure the ID is simply not tracked: late cells for it are
 * then dropped as for an unknown stream. */
static void
add_half(stream_table_t *t, const stream_t *st)
{
  if (t->n_half == t->half_cap) {
    size_t ncap = t->half_cap ? t->half_cap * 2 : 4;
    stream_half_t *nv = chive_realloc(t->half, ncap * sizeof(*nv));
    if (!nv)
      return;
    t->half = nv;
    t->half_cap = ncap;
  }
  stream_half_t *h = &t->half[t->n_half++];
  memset(h, 0, sizeof(*h));
  h->id = st->id;
  h->hop = (uint8_t)st->hop;
  h->connected_pending = st->state == STREAM_STATE_CONNECT_WAIT;
  h->resolved_pending = st->state == STREAM_STATE_RESOLVE_WAIT;
  /* Whatever window we had granted can still arrive. */
  h->data_left =
      st->state == STREAM_STATE_RESOLVE_WAIT ? 0 : st->deliver_window;
  h->sendmes_left =
      (STREAMWINDOW_START - st->package_window) / STREAMWINDOW_INCREMENT;
  h->seq = ++t->half_seq;
}

/* ---- Sending --------------------------------------------------------- */

/* see stream.h */
bool
stream_can_write(const stream_t *st)
{
  if (!st || st->state == STREAM_STATE_CLOSED)
    return false;
  if (st->state == STREAM_STATE_RESOLVE_WAIT)
    return false;
  if (st->state == STREAM_STATE_CONNECT_WAIT && !st->optimistic)
    return false;
  return st->package_window > 0 && circuit_can_package(st->circ, st->hop);
}

/** Send one DATA cell of <b>len</b> (1..RELAY_PAYLOAD_LEN) bytes. */
static chive_err_t
send_data(stream_t *st, const uint8_t *data, size_t len, uint64_t now_us)
{
  chive_err_t err = circuit_send_relay(st->circ, st->hop, RELAY_COMMAND_DATA,
                                       st->id, data, len, now_us);
  if (err == CHIVE_OK) {
    st->package_window--;
    st->bytes_sent += len;
    if (st->state == STREAM_STATE_CONNECT_WAIT)
      st->bytes_sent_early += len;
  }
  return err;
}

/** Pull one cell's worth from the owner and send it.  Returns true iff
 * a cell went out. */
static bool
pull_one(stream_t *st, uint64_t now_us)
{
  uint8_t buf[RELAY_PAYLOAD_LEN];
  if (!st->owner.pull || !stream_can_write(st))
    return false;
  size_t n = st->owner.pull(st, buf, sizeof(buf), st->arg);
  if (n == 0 || !stream_can_write(st))
    return false;
  if (BUG(n > sizeof(buf)))
    n = sizeof(buf);
  return send_data(st, buf, n, now_us) == CHIVE_OK;
}

/** A window of <b>st</b> may have reopened: pull, or tell a push owner.
 * The caller holds a circuit depth reference. */
static void
stream_pump(stream_t *st, uint64_t now_us)
{
  if (st->owner.pull) {
    while (pull_one(st, now_us))
      ;
  } else if (st->write_blocked && st->owner.writable && stream_can_write(st)) {
    st->write_blocked = false;
    st->owner.writable(st, st->arg);
  }
}

/** Give <b>st</b> one fair turn: one cell pulled from a pull owner, or
 * for a push owner whose last write was cut short a writable callback in
 * which stream_write() takes at most one cell.  Returns true iff data
 * went out.  The caller holds a circuit depth reference. */
static bool
give_turn(stream_t *st, uint64_t now_us)
{
  if (!stream_can_write(st))
    return false;
  if (st->owner.pull)
    return pull_one(st, now_us);
  if (!st->write_blocked || !st->owner.writable)
    return false;
  const uint64_t before = st->bytes_sent;
  st->write_blocked = false;
  st->turn_budget = 1;
  st->owner.writable(st, st->arg);
  st->turn_budget = -1; /* st lives on: streams are reaped at depth 0 */
  return st->bytes_sent != before;
}

/** The circuit package window toward <b>hop</b> reopened: let blocked
 * streams on it write (circuit_stream_ops_t.resume). */
static void
ops_resume(circuit_t *circ, size_t hop, uint64_t now_us)
{
  stream_table_t *t = circ->streams;
  const size_t n = t->n; /* streams opened from callbacks wait */
  if (n == 0)
    return;
  const size_t start = t->rr++ % n;
  /* Round-robin one cell per stream per round, so one busy stream
   * cannot take the whole circuit window. */
  bool progress = true;
  while (progress && circuit_can_package(circ, hop)) {
    progress = false;
    for (size_t k = 0; k < n && circ->state != CIRCUIT_STATE_CLOSED; k++) {
      stream_t *st = t->v[(start + k) % n];
      if (st->hop == hop && give_turn(st, now_us))
        progress = true;
    }
  }
}

/** The first-hop channel drained: one fair round over the streams
 * (circuit_stream_ops_t.resume_round).  Each stream that can write gets
 * one turn: one pulled cell, or one writable callback if its last push
 * was cut short.  The round starts where the previous one stopped, so
 * when the channel congests again mid-round the streams that missed
 * their turn go first next time. */
static bool
ops_resume_round(circuit_t *circ, uint64_t now_us)
{
  stream_table_t *t = circ->streams;
  const size_t n = t->n; /* streams opened from callbacks wait */
  bool progress = false;
  if (n == 0)
    return false;
  const size_t start = t->rr % n;
  for (size_t k = 0; k < n && circ->state != CIRCUIT_STATE_CLOSED; k++) {
    const size_t i = (start + k) % n;
    if (circuit_is_blocked_on_channel(circ)) {
      t->rr = i; /* this one did not get its turn */
      return progress;
    }
    t->rr = i + 1;
    if (give_turn(t->v[i], now_us))
      progress = true;
  }
  return progress;
}

/** Consider stream-level SENDMEs (tor-spec §7.4): while the deliver
 * window is at or below 500 - 50 and the owner can take data, send one
 * and credit the window. */
static void
stream_consider_sendme(stream_t *st, uint64_t now_us)
{
  while (st->state == STREAM_STATE_OPEN && !st->recv_blocked &&
         st->deliver_window <= STREAMWINDOW_START - STREAMWINDOW_INCREMENT) {
    /* "They are still empty" (tor-spec §7.4). */
    if (circuit_send_relay(st->circ, st->hop, RELAY_COMMAND_SENDME, st->id,
                           NULL, 0, now_us) != CHIVE_OK)
      return;
    st->deliver_window += STREAMWINDOW_INCREMENT;
  }
}

/** circuit_stream_ops_t.n_live */
static size_t
ops_n_live(const circuit_t *circ)
{
  return stream_table_n_live(circ->streams);
}

/** circuit_stream_ops_t.n_half_closed */
static size_t
ops_n_half_closed(const circuit_t *circ)
{
  return circ->streams->n_half;
}

static chive_err_t ops_handle_relay(circuit_t *circ, size_t hop,
                                    const relay_cell_t *msg, uint64_t now_us);
static void ops_circuit_closed(circuit_t *circ);

static const circuit_stream_ops_t stream_ops = {
    ops_handle_relay, ops_circuit_closed, ops_resume,
    ops_reap,         ops_free_all,       ops_n_live,
    ops_n_half_closed, ops_resume_round,
};

/** Return <b>circ</b>'s stream table, creating it (and installing the
 * hooks) on first use; NULL on allocation failure. */
static stream_table_t *
ensure_table(circuit_t *circ)
{
  if (circ->streams)
    return circ->streams;
  stream_table_t *t = chive_zalloc(sizeof(*t));
  if (!t)
    return NULL;
  stream_table_init(t, circ->params.first_stream_id, circ->params.max_streams);
  circ->streams = t;
  circ->stream_ops = &stream_ops;
  return t;
}

/* ---- Opening --------------------------------------------------------- */

/** Common part of the stream_open* functions. */
static chive_err_t
stream_open_common(circuit_t *circ, stream_kind_t kind, uint8_t cmd,
                   const uint8_t *body, size_t body_len, uint32_t open_flags,
                   const stream_owner_t *owner, void *arg, uint64_t now_us,
                   stream_t **out)
{
  stream_table_t *t;
  uint16_t id = 0;
  chive_err_t err;

  if (BUG(circ == NULL || out == NULL))
    return CHIVE_ERR_INVAL;
  if (circ->state == CIRCUIT_STATE_CLOSED || circ->n_open == 0)
    return CHIVE_ERR_INVAL;
  t = ensure_table(circ);
  if (!t)
    return CHIVE_ERR_NOMEM;
  /* Make room first, so nothing can fail after BEGIN is sent. */
  if (t->n == t->cap) {
    size_t ncap = t->cap ? t->cap * 2 : 4;
    stream_t **nv = chive_realloc(t->v, ncap * sizeof(*nv));
    if (!nv)
      return CHIVE_ERR_NOMEM;
    t->v = nv;
    t->cap = ncap;
  }
  err = alloc_stream_id(t, &id);
  if (err != CHIVE_OK)
    return err;
  stream_t *st = chive_zalloc(sizeof(*st));
  if (!st)
    return CHIVE_ERR_NOMEM;
  st->magic = STREAM_MAGIC;
  st->circ = circ;
  st->hop = circ->n_open - 1;
  st->id = id;
  st->kind = kind;
  st->state = kind == STREAM_KIND_RESOLVE ? STREAM_STATE_RESOLVE_WAIT
                                          : STREAM_STATE_CONNECT_WAIT;
  st->optimistic =
      (open_flags & STREAM_OPEN_OPTIMISTIC) != 0 && kind == STREAM_KIND_BEGIN;
  if (owner)
    st->owner = *owner;
  st->arg = arg;
  st->package_window = STREAMWINDOW_START;
  st->deliver_window = STREAMWINDOW_START;
  st->turn_budget = -1;
  st->created_us = now_us;

  circuit_enter_(circ);
  err = circuit_send_relay(circ, st->hop, cmd, id, body, body_len, now_us);
  if (err == CHIVE_OK) {
    t->v[t->n++] = st;
    circuit_note_stream_attached_(circ, now_us);
    *out = st;
  } else {
    stream_free_struct(st);
  }
  (void)circuit_leave_(circ);
  return err;
}

/* see stream.h */
chive_err_t
stream_open_dir(circuit_t *circ, const stream_owner_t *owner, void *arg,
                uint64_t now_us, stream_t **out)
{
  /* tor-spec §6.2.1: "Clients MUST generate an all-zero payload for
   * RELAY_BEGIN_DIR cells": no data bytes. */
  return stream_open_common(circ, STREAM_KIND_BEGIN_DIR,
                            RELAY_COMMAND_BEGIN_DIR, NULL, 0, 0, owner, arg,
                            now_us, out);
}

/* see stream.h */
chive_err_t
stream_open(circuit_t *circ, const char *host, uint16_t port,
            uint32_t begin_flags, uint32_t open_flags,
            const stream_owner_t *owner, void *arg, uint64_t now_us,
            stream_t **out)
{
  begin_t b;
  uint8_t body[RELAY_PAYLOAD_LEN];
  size_t len;
  if (BUG(host == NULL))
    return CHIVE_ERR_INVAL;
  if (begin_init(&b, host, port, begin_flags) != CHIVE_OK ||
      begin_encode(&b, body, sizeof(body), &len) != CHIVE_OK)
    return CHIVE_ERR_INVAL;
  return stream_open_common(circ, STREAM_KIND_BEGIN, RELAY_COMMAND_BEGIN, body,
                            len, open_flags, owner, arg, now_us, out);
}

/* see stream.h */
chive_err_t
stream_resolve(circuit_t *circ, const char *name, const stream_owner_t *owner,
               void *arg, uint64_t now_us, stream_t **out)
{
  uint8_t body[RELAY_PAYLOAD_LEN];
  size_t len;
  if (BUG(name == NULL))
    return CHIVE_ERR_INVAL;
  if (resolve_encode(name, body, sizeof(body), &len) != CHIVE_OK)
    return CHIVE_ERR_INVAL;
  return stream_open_common(circ, STREAM_KIND_RESOLVE, RELAY_COMMAND_RESOLVE,
                            body, len, 0, owner, arg, now_us, out);
}

/* ---- Owner calls ----------------------------------------------------- */

/* see stream.h */
chive_err_t
stream_write(stream_t *st, const uint8_t *data, size_t len, size_t *n_written,
             uint64_t now_us)
{
  if (BUG(st == NULL || st->magic != STREAM_MAGIC || n_written == NULL ||
          (len > 0 && data == NULL)))
    return CHIVE_ERR_INVAL;
  *n_written = 0;
  if (st->state == STREAM_STATE_CLOSED ||
      st->circ->state == CIRCUIT_STATE_CLOSED)
    return CHIVE_ERR_CLOSED;
  if (st->state == STREAM_STATE_RESOLVE_WAIT ||
      (st->state == STREAM_STATE_CONNECT_WAIT && !st->optimistic))
    return CHIVE_ERR_INVAL;

  circuit_t *circ = st->circ;
  chive_err_t err = CHIVE_OK;
  size_t done = 0;
  circuit_enter_(circ);
  while (done < len && stream_can_write(st) && st->turn_budget != 0) {
    size_t chunk = len - done;
    if (chunk > RELAY_PAYLOAD_LEN)
      chunk = RELAY_PAYLOAD_LEN;
    err = send_data(st, data + done, chunk, now_us);
    if (err != CHIVE_OK)
      break;
    done += chunk;
    if (st->turn_budget > 0)
      st->turn_budget--;
  }
  if (err == CHIVE_OK && done < len)
    st->write_blocked = true;
  *n_written = done;
  (void)circuit_leave_(circ);
  return err;
}

/* see stream.h */
void
stream_kick(stream_t *st, uint64_t now_us)
{
  if (!st || BUG(st->magic != STREAM_MAGIC))
    return;
  circuit_t *circ = st->circ;
  circuit_enter_(circ);
  stream_pump(st, now_us);
  (void)circuit_leave_(circ);
}

/* see stream.h */
void
stream_close(stream_t *st, uint8_t reason, uint64_t now_us)
{
  if (!st || BUG(st->magic != STREAM_MAGIC))
    return;
  if (st->state == STREAM_STATE_CLOSED)
    return;
  circuit_t *circ = st->circ;
  circuit_enter_(circ);
  if (circ->state != CIRCUIT_STATE_CLOSED) {
    if (st->state != STREAM_STATE_RESOLVE_WAIT) {
      /* tor-spec §6.3: RELAY_END with the reason. */
      end_t e;
      uint8_t body[RELAY_PAYLOAD_LEN];
      size_t len;
      memset(&e, 0, sizeof(e));
      e.reason = reason;
      e.ttl = RELAY_TTL_ABSENT;
      if (end_encode(&e, body, sizeof(body), &len) == CHIVE_OK) {
        /* A failure closes the circuit, which is all we could do. */
        chive_err_t err = circuit_send_relay(circ, st->hop, RELAY_COMMAND_END,
                                             st->id, body, len, now_us);
        (void)err;
      }
    }
    if (circ->state != CIRCUIT_STATE_CLOSED)
      add_half(circ->streams, st);
  }
  st->state = STREAM_STATE_CLOSED;
  (void)circuit_leave_(circ);
}

/* see stream.h */
void
stream_set_recv_blocked(stream_t *st, bool blocked, uint64_t now_us)
{
  if (!st || BUG(st->magic != STREAM_MAGIC))
    return;
  st->recv_blocked = blocked;
  if (blocked || st->state != STREAM_STATE_OPEN)
    return;
  circuit_t *circ = st->circ;
  circuit_enter_(circ);
  stream_consider_sendme(st, now_us);
  (void)circuit_leave_(circ);
}

/* ---- Receiving ------------------------------------------------------- */

/** End <b>st</b> for a stream-level protocol error: send END
 * (TORPROTOCOL), remember the ID, tell the owner.  <b>answered</b>: the
 * offending cell was the CONNECTED / RESOLVED the stream waited for, so
 * the half-closed entry must not wait for another. */
static void
stream_end_protocol(stream_t *st, bool answered, uint64_t now_us)
{
  circuit_t *circ = st->circ;
  stream_owner_t owner = st->owner;
  log_proto(circ->lg, LD_STREAM, "Stream %u broke the protocol; ending it",
            (unsigned)st->id);
  if (st->state != STREAM_STATE_RESOLVE_WAIT) {
    end_t e;
    uint8_t body[RELAY_PAYLOAD_LEN];
    size_t len;
    memset(&e, 0, sizeof(e));
    e.reason = END_REASON_TORPROTOCOL;
    e.ttl = RELAY_TTL_ABSENT;
    if (end_encode(&e, body, sizeof(body), &len) == CHIVE_OK) {
      chive_err_t err = circuit_send_relay(circ, st->hop, RELAY_COMMAND_END,
                                           st->id, body, len, now_us);
      (void)err;
    }
  }
  /* A resolve that got its (bad) answer expects nothing more. */
  if (circ->state != CIRCUIT_STATE_CLOSED &&
      !(answered && st->state == STREAM_STATE_RESOLVE_WAIT)) {
    add_half(circ->streams, st);
    if (answered && circ->streams->n_half > 0) {
      stream_half_t *h = &circ->streams->half[circ->streams->n_half - 1];
      if (h->id == st->id) {
        h->connected_pending = false;
        h->resolved_pending = false;
      }
    }
  }
  st->state = STREAM_STATE_CLOSED;
  if (owner.end)
    owner.end(st, STREAM_END_BY_PROTOCOL, END_REASON_TORPROTOCOL, NULL,
              st->arg);
}

/** A cell for a half-closed ID (tor-spec §6.3).  Returns CHIVE_ERR_PROTO
 * if the peer sent more than it was allowed. */
static chive_err_t
handle_half(stream_table_t *t, size_t i, const relay_cell_t *msg)
{
  stream_half_t *h = &t->half[i];
  switch (msg->h.command) {
  case RELAY_COMMAND_DATA:
    if (h->data_left <= 0)
      return CHIVE_ERR_PROTO;
    h->data_left--;
    return CHIVE_OK;
  case RELAY_COMMAND_SENDME:
    if (h->sendmes_left <= 0)
      return CHIVE_ERR_PROTO;
    h->sendmes_left--;
    return CHIVE_OK;
  case RELAY_COMMAND_CONNECTED:
    if (!h->connected_pending)
      return CHIVE_ERR_PROTO;
    h->connected_pending = false;
    return CHIVE_OK;
  case RELAY_COMMAND_RESOLVED:
    if (!h->resolved_pending)
      return CHIVE_ERR_PROTO;
    remove_half(t, i);
    return CHIVE_OK;
  case RELAY_COMMAND_END:
    /* Both sides are done with the ID. */
    remove_half(t, i);
    return CHIVE_OK;
  default:
    return CHIVE_OK;
  }
}

/** DATA for a live stream. */
static chive_err_t
handle_data(stream_t *st, const relay_cell_t *msg, uint64_t now_us)
{
  if (st->state != STREAM_STATE_OPEN) {
    /* Data before CONNECTED (or on a resolve) is a stream-level
     * violation: end the stream, keep the circuit. */
    stream_end_protocol(st, false, now_us);
    return CHIVE_OK;
  }
  /* tor-spec §7.4: the peer may not exceed our stream window. */
  if (st->deliver_window <= 0)
    return CHIVE_ERR_PROTO;
  st->deliver_window--;
  st->bytes_received += msg->h.length;
  if (st->owner.data && msg->h.length > 0)
    st->owner.data(st, msg->body, msg->h.length, st->arg);
  if (st->state == STREAM_STATE_OPEN &&
      st->circ->state != CIRCUIT_STATE_CLOSED)
    stream_consider_sendme(st, now_us);
  return CHIVE_OK;
}

/** A stream-level relay message (circuit_stream_ops_t.handle_relay). */
static chive_err_t
ops_handle_relay(circuit_t *circ, size_t hop, const relay_cell_t *msg,
                 uint64_t now_us)
{
  stream_table_t *t = circ->streams;
  stream_t *st = find_stream(t, msg->h.stream_id);
  if (!st || st->hop != hop) {
    long hi = find_half(t, msg->h.stream_id);
    if (hi >= 0 && t->half[hi].hop == hop)
      return handle_half(t, (size_t)hi, msg);
    /* tor-spec §6.2: cells for unknown streams are dropped. */
    circ->stats.cells_dropped++;
    return CHIVE_OK;
  }

  switch (msg->h.command) {
  case RELAY_COMMAND_DATA:
    return handle_data(st, msg, now_us);

  case RELAY_COMMAND_CONNECTED: {
    connected_t info;
    if (st->state != STREAM_STATE_CONNECT_WAIT)
      return CHIVE_ERR_PROTO; /* CONNECTED twice: close the circuit. */
    memset(&info, 0, sizeof(info));
    if (st->kind != STREAM_KIND_BEGIN_DIR &&
        connected_parse(msg->body, msg->h.length, &info) != CHIVE_OK) {
      stream_end_protocol(st, true, now_us);
      return CHIVE_OK;
    }
    /* tor-spec §6.2.1: after BEGIN_DIR "clients MUST ignore the
     * payload". */
    st->state = STREAM_STATE_OPEN;
    st->got_connected = true;
    if (st->owner.connected)
      st->owner.connected(st, &info, st->arg);
    if (st->state == STREAM_STATE_OPEN && circ->state != CIRCUIT_STATE_CLOSED)
      stream_pump(st, now_us);
    return CHIVE_OK;
  }

  case RELAY_COMMAND_END: {
    end_t e;
    if (end_parse(msg->body, msg->h.length, &e) != CHIVE_OK) {
      memset(&e, 0, sizeof(e));
      e.reason = END_REASON_MISC;
    }
    /* tor-spec §6.3: "sends nothing more along the circuit for that
     * stream". */
    st->state = STREAM_STATE_CLOSED;
    if (st->owner.end)
      st->owner.end(st, STREAM_END_BY_PEER, e.reason, &e, st->arg);
    return CHIVE_OK;
  }

  case RELAY_COMMAND_SENDME: {
    /* tor-spec §7.4: +50, never above the start value. */
    if (st->package_window + STREAMWINDOW_INCREMENT > STREAMWINDOW_START)
      return CHIVE_ERR_PROTO;
    const bool was_blocked = st->package_window <= 0;
    st->package_window += STREAMWINDOW_INCREMENT;
    if (was_blocked || st->write_blocked)
      stream_pump(st, now_us);
    return CHIVE_OK;
  }

  case RELAY_COMMAND_RESOLVED: {
    resolved_t r;
    if (st->state != STREAM_STATE_RESOLVE_WAIT)
      return CHIVE_ERR_PROTO;
    if (resolved_parse(msg->body, msg->h.length, &r) != CHIVE_OK) {
      stream_end_protocol(st, true, now_us);
      return CHIVE_OK;
    }
    /* tor-spec §6.4: "If any answer has a type of 'Error', then no other
     * answer may be given." */
    for (size_t i = 0; i < r.n_answers; i++) {
      if (r.answers[i].type >= RESOLVED_TYPE_ERROR_TRANSIENT &&
          r.answers[i].type <= RESOLVED_TYPE_ERROR_NONTRANSIENT &&
          r.n_answers != 1) {
        stream_end_protocol(st, true, now_us);
        return CHIVE_OK;
      }
    }
    st->state = STREAM_STATE_CLOSED;
    if (st->owner.resolved)
      st->owner.resolved(st, &r, st->arg);
    return CHIVE_OK;
  }

  default:
    /* Unknown or forward-only commands: dropped (tor-spec §6.1). */
    circ->stats.cells_dropped++;
    return CHIVE_OK;
  }
}

/** The circuit closed: end every live stream
 * (circuit_stream_ops_t.circuit_closed). */
static void
ops_circuit_closed(circuit_t *circ)
{
  stream_table_t *t = circ->streams;
  t->n_half = 0;
  for (size_t i = 0; i < t->n; i++) {
    stream_t *st = t->v[i];
    if (st->state == STREAM_STATE_CLOSED)
      continue;
    st->state = STREAM_STATE_CLOSED;
    if (st->owner.end)
      st->owner.end(st, STREAM_END_BY_CIRCUIT, END_REASON_DESTROY, NULL,
                    st->arg);
  }
}

/* ---- Accessors ------------------------------------------------------- */

uint16_t
stream_id(const stream_t *st)
{
  return st->id;
}

stream_state_t
stream_state(const stream_t *st)
{
  return st->state;
}

const char *
stream_state_name(stream_state_t state)
{
  switch (state) {
  case STREAM_STATE_CONNECT_WAIT:
    return "CONNECT_WAIT";
  case STREAM_STATE_RESOLVE_WAIT:
    return "RESOLVE_WAIT";
  case STREAM_STATE_OPEN:
    return "OPEN";
  case STREAM_STATE_CLOSED:
    return "CLOSED";
  }
  return "UNKNOWN";
}

circuit_t *
stream_circuit(const stream_t *st)
{
  return st->circ;
}

size_t
stream_hop(const stream_t *st)
{
  return st->hop;
}

int32_t
stream_package_window(const stream_t *st)
{
  return st->package_window;
}

int32_t
stream_deliver_window(const stream_t *st)
{
  return st->deliver_window;
}

uint64_t
stream_bytes_sent(const stream_t *st)
{
  return st->bytes_sent;
}

uint64_t
stream_bytes_received(const stream_t *st)
{
  return st->bytes_received;
}

uint64_t
stream_unconfirmed_bytes(const stream_t *st)
{
  return st->got_connected ? 0 : st->bytes_sent_early;
}
