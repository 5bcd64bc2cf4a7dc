/**
 * @file evloop.c
 * @brief libevent glue (see evloop.h).
 *
 * Events are embedded in chive-allocated objects with event_assign(), so
 * their memory is counted and fail-injectable like the rest of chive's.
 * Freeing an embedded event is event_del() + event_debug_unassign() +
 * free, which is what event_free() does for its own allocations; libevent
 * does not touch an event after its callback returns, which is what makes
 * freeing from inside the callback safe.
 **/
#include "lib/cc/compat.h"

#include "lib/evloop/evloop.h"

#include <event2/event.h>
#include <stdalign.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

struct evloop_t {
  struct event_base *base; /**< borrowed */
  size_t n_children;       /**< live timers, defers and reapers */
};

/* see evloop.h */
chive_err_t
evloop_new(struct event_base *base, evloop_t **out)
{
  if (BUG(base == NULL))
    return CHIVE_ERR_INVAL;
  evloop_t *loop = chive_zalloc(sizeof(*loop));
  if (!loop)
    return CHIVE_ERR_NOMEM;
  loop->base = base;
  *out = loop;
  return CHIVE_OK;
}

/* see evloop.h */
void
evloop_free_(evloop_t *loop)
{
  if (!loop)
    return;
  (void)BUG(loop->n_children != 0);
  chive_free(loop);
}

/* see evloop.h */
struct event_base *
evloop_base(const evloop_t *loop)
{
  return loop->base;
}

/** Allocate <b>head</b> bytes followed by a suitably aligned struct
 * event; set *<b>ev_out</b> to the event. */
static void *
alloc_with_event(size_t head, struct event **ev_out)
{
  const size_t align = alignof(max_align_t);
  size_t off = (head + align - 1) / align * align;
  uint8_t *p = chive_zalloc(off + event_get_struct_event_size());
  if (p)
    *ev_out = (struct event *)(void *)(p + off);
  return p;
}

/** Detach an embedded event before its memory is freed. */
static void
release_event(struct event *ev)
{
  event_del(ev);
  event_debug_unassign(ev);
}

/** Convert milliseconds (<= EVLOOP_TIMER_MAX_MS) to a timeval. */
static struct timeval
ms_to_tv(uint64_t ms)
{
  struct timeval tv;
  tv.tv_sec = (time_t)(ms / 1000);
  tv.tv_usec = (suseconds_t)((ms % 1000) * 1000);
  return tv;
}

/* --- timers -------------------------------------------------------- */

struct evloop_timer_t {
  evloop_t *loop;
  evloop_timer_cb cb;
  void *arg;
  struct event *ev; /**< embedded after this struct */
  bool periodic;    /**< the event is assigned with EV_PERSIST */
};

static void
timer_trampoline(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  evloop_timer_t *t = arg;
  t->cb(t, t->arg); /* may free t: touch nothing after */
}

/* see evloop.h */
chive_err_t
evloop_timer_new(evloop_t *loop, evloop_timer_cb cb, void *arg,
                 evloop_timer_t **out)
{
  if (BUG(loop == NULL || cb == NULL))
    return CHIVE_ERR_INVAL;
  struct event *ev = NULL;
  evloop_timer_t *t = alloc_with_event(sizeof(*t), &ev);
  if (!t)
    return CHIVE_ERR_NOMEM;
  t->loop = loop;
  t->cb = cb;
  t->arg = arg;
  t->ev = ev;
  if (event_assign(ev, loop->base, -1, 0, timer_trampoline, t) != 0) {
    chive_free(t);
    return CHIVE_ERR_INTERNAL;
  }
  loop->n_children++;
  *out = t;
  return CHIVE_OK;
}

/** (Re)arm <b>t</b> after <b>ms</b>, persistent or not. */
static chive_err_t
timer_arm(evloop_timer_t *t, uint64_t ms, bool periodic)
{
  if (ms > EVLOOP_TIMER_MAX_MS)
    return CHIVE_ERR_INVAL;
  event_del(t->ev);
  if (periodic != t->periodic) {
    /* The event is neither pending nor active after event_del(), so it
     * may be re-assigned, even from inside its own callback. */
    if (event_assign(t->ev, t->loop->base, -1,
                     (short)(periodic ? EV_PERSIST : 0), timer_trampoline,
                     t) != 0)
      return CHIVE_ERR_INTERNAL;
    t->periodic = periodic;
  }
  struct timeval tv = ms_to_tv(ms);
  if (event_add(t->ev, &tv) != 0)
    return CHIVE_ERR_NOMEM;
  return CHIVE_OK;
}

/* see evloop.h */
chive_err_t
evloop_timer_schedule(evloop_timer_t *t, uint64_t delay_ms)
{
  return timer_arm(t, delay_ms, false);
}

/* see evloop.h */
chive_err_t
evloop_timer_schedule_periodic(evloop_timer_t *t, uint64_t period_ms)
{
  if (period_ms == 0)
    return CHIVE_ERR_INVAL;
  return timer_arm(t, period_ms, true);
}

/* see evloop.h */
void
evloop_timer_cancel(evloop_timer_t *t)
{
  event_del(t->ev);
}

/* see evloop.h */
bool
evloop_timer_is_pending(const evloop_timer_t *t)
{
  return event_pending(t->ev, EV_TIMEOUT, NULL) != 0;
}

/* see evloop.h */
void
evloop_timer_free_(evloop_timer_t *t)
{
  if (!t)
    return;
  release_event(t->ev);
  t->loop->n_children--;
  chive_free(t);
}

/* --- deferred callbacks -------------------------------------------- */

struct evloop_defer_t {
  evloop_t *loop;
  evloop_defer_cb cb;
  void *arg;
  struct event *ev;
  bool scheduled;
};

static void
defer_trampoline(evutil_socket_t fd, short what, void *arg)
{
  (void)fd;
  (void)what;
  evloop_defer_t *d = arg;
  d->scheduled = false;
  d->cb(d, d->arg); /* may free d */
}

/* see evloop.h */
chive_err_t
evloop_defer_new(evloop_t *loop, evloop_defer_cb cb, void *arg,
                 evloop_defer_t **out)
{
  if (BUG(loop == NULL || cb == NULL))
    return CHIVE_ERR_INVAL;
  struct event *ev = NULL;
  evloop_defer_t *d = alloc_with_event(sizeof(*d), &ev);
  if (!d)
    return CHIVE_ERR_NOMEM;
  d->loop = loop;
  d->cb = cb;
  d->arg = arg;
  d->ev = ev;
  if (event_assign(ev, loop->base, -1, 0, defer_trampoline, d) != 0) {
    chive_free(d);
    return CHIVE_ERR_INTERNAL;
  }
  loop->n_children++;
  *out = d;
  return CHIVE_OK;
}

/* see evloop.h */
void
evloop_defer_schedule(evloop_defer_t *d)
{
  if (d->scheduled)
    return;
  d->scheduled = true;
  /* A zero timeout expires at the next iteration's timeout pass, after
   * every callback active now has run, and it does not starve I/O even
   * when a deferred callback reschedules itself.  event_active() is the
   * fallback because it cannot fail. */
  static const struct timeval zero = {0, 0};
  if (event_add(d->ev, &zero) != 0)
    event_active(d->ev, EV_TIMEOUT, 0);
}

/* see evloop.h */
void
evloop_defer_cancel(evloop_defer_t *d)
{
  event_del(d->ev);
  d->scheduled = false;
}

/* see evloop.h */
bool
evloop_defer_is_pending(const evloop_defer_t *d)
{
  return d->scheduled;
}

/* see evloop.h */
void
evloop_defer_free_(evloop_defer_t *d)
{
  if (!d)
    return;
  release_event(d->ev);
  d->loop->n_children--;
  chive_free(d);
}

/* --- the close reaper ---------------------------------------------- */

struct reaper_t {
  evloop_t *loop;
  evloop_defer_t *defer;
  chive_list_t marked; /**< reaper_entry_t.link, in marking order */
};

/* see evloop.h */
void
reaper_entry_init(reaper_entry_t *e)
{
  chive_list_init(&e->link);
  e->obj = NULL;
  e->free_fn = NULL;
}

/* see evloop.h */
bool
reaper_entry_is_marked(const reaper_entry_t *e)
{
  return chive_list_is_linked(&e->link);
}

/** Free everything marked before this call; entries marked while this
 * runs wait for the next run. */
static void
reaper_run(reaper_t *r)
{
  chive_list_t batch;
  chive_list_init(&batch);
  chive_list_t *pos;
  while ((pos = chive_list_first(&r->marked)) != NULL) {
    chive_list_remove(pos);
    chive_list_add_tail(&batch, pos);
  }
  /* Pop one at a time: a free_fn may unmark (unlink) other entries of
   * this batch, which is safe with an intrusive list. */
  while ((pos = chive_list_first(&batch)) != NULL) {
    reaper_entry_t *e = CHIVE_CONTAINER_OF(pos, reaper_entry_t, link);
    chive_list_remove(pos);
    e->free_fn(e->obj);
  }
}

static void
reaper_defer_cb(evloop_defer_t *d, void *arg)
{
  (void)d;
  reaper_run(arg);
}

/* see evloop.h */
chive_err_t
reaper_new(evloop_t *loop, reaper_t **out)
{
  if (BUG(loop == NULL))
    return CHIVE_ERR_INVAL;
  reaper_t *r = chive_zalloc(sizeof(*r));
  if (!r)
    return CHIVE_ERR_NOMEM;
  chive_err_t e = evloop_defer_new(loop, reaper_defer_cb, r, &r->defer);
  if (e != CHIVE_OK) {
    chive_free(r);
    return e;
  }
  r->loop = loop;
  chive_list_init(&r->marked);
  loop->n_children++;
  *out = r;
  return CHIVE_OK;
}

/* see evloop.h */
void
reaper_free_(reaper_t *r)
{
  if (!r)
    return;
  /* free_fns may mark more objects; run until nothing is left. */
  while (!chive_list_empty(&r->marked))
    reaper_run(r);
  evloop_defer_free(r->defer);
  r->loop->n_children--;
  chive_free(r);
}

/* see evloop.h */
void
reaper_mark(reaper_t *r, reaper_entry_t *e, void *obj, reaper_free_fn free_fn)
{
  if (BUG(free_fn == NULL))
    return;
  if (reaper_entry_is_marked(e))
    return;
  e->obj = obj;
  e->free_fn = free_fn;
  chive_list_add_tail(&r->marked, &e->link);
  evloop_defer_schedule(r->defer);
}

/* see evloop.h */
void
reaper_unmark(reaper_entry_t *e)
{
  chive_list_remove(&e->link);
}

/* see evloop.h */
size_t
reaper_n_pending(const reaper_t *r)
{
  size_t n = 0;
  const chive_list_t *pos;
  CHIVE_LIST_FOREACH (pos, &r->marked) {
    n++;
  }
  return n;
}
