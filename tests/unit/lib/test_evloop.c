/* Unit tests for lib/evloop, on a real libevent event_base. */
#include "lib/cc/compat.h"

#include <event2/event.h>

#include "lib/evloop/evloop.h"
#include "lib/malloc/malloc.h"
#include "lib/time/clock.h"
#include "tinytest.h"

/** Timing tolerance between libevent's clock and ours. */
#define SLACK_MS 10

/** A fresh base and loop for one test. */
typedef struct fixture_t {
  struct event_base *base;
  evloop_t *loop;
} fixture_t;

static bool
setup(fixture_t *f)
{
  memset(f, 0, sizeof(*f));
  f->base = event_base_new();
  if (!f->base)
    return false;
  return evloop_new(f->base, &f->loop) == CHIVE_OK;
}

static void
teardown(fixture_t *f)
{
  evloop_free(f->loop);
  if (f->base)
    event_base_free(f->base);
  f->base = NULL;
}

/** Run one non-blocking loop iteration. */
static void
run_once(fixture_t *f)
{
  event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

/* --- timers -------------------------------------------------------- */

typedef struct order_t {
  int fired[8];
  int n;
  uint64_t at_ms[8];
} order_t;

typedef struct tctx_t {
  order_t *order;
  int id;
  int remaining; /* periodic: cancel after this many */
  bool free_self;
  evloop_timer_t **self;
} tctx_t;

static void
record_cb(evloop_timer_t *t, void *arg)
{
  tctx_t *c = arg;
  if (c->order->n < 8) {
    c->order->at_ms[c->order->n] = clock_mono_ms(clock_system());
    c->order->fired[c->order->n++] = c->id;
  }
  if (c->remaining > 0 && --c->remaining == 0)
    evloop_timer_cancel(t);
  if (c->free_self)
    evloop_timer_free(*c->self); /* free from inside its own callback */
}

static void
test_timers_fire_in_order(void)
{
  fixture_t f;
  order_t order = {{0}, 0, {0}};
  evloop_timer_t *t[3] = {NULL, NULL, NULL};
  tctx_t ctx[3];
  T_ASSERT(setup(&f));
  const uint64_t delays[3] = {60, 20, 40};
  uint64_t start = clock_mono_ms(clock_system());
  for (int i = 0; i < 3; i++) {
    ctx[i] = (tctx_t){&order, i, 0, false, NULL};
    T_OK(evloop_timer_new(f.loop, record_cb, &ctx[i], &t[i]));
    T_ASSERT(!evloop_timer_is_pending(t[i]));
    T_OK(evloop_timer_schedule(t[i], delays[i]));
    T_ASSERT(evloop_timer_is_pending(t[i]));
  }
  T_EQ_INT(order.n, 0); /* nothing runs synchronously */
  event_base_dispatch(f.base);
  T_EQ_INT(order.n, 3);
  T_EQ_INT(order.fired[0], 1);
  T_EQ_INT(order.fired[1], 2);
  T_EQ_INT(order.fired[2], 0);
  /* Not early.  libevent may time with CLOCK_MONOTONIC_COARSE (a few ms
   * of granularity), so allow SLACK_MS against our finer clock. */
  T_ASSERT(order.at_ms[0] + SLACK_MS >= start + 20);
  T_ASSERT(order.at_ms[2] + SLACK_MS >= start + 60);
  for (int i = 0; i < 3; i++)
    T_ASSERT(!evloop_timer_is_pending(t[i]));
done:
  for (int i = 0; i < 3; i++)
    evloop_timer_free(t[i]);
  teardown(&f);
}

static void
test_timer_cancel_and_reschedule(void)
{
  fixture_t f;
  order_t order = {{0}, 0, {0}};
  evloop_timer_t *a = NULL, *b = NULL;
  tctx_t ca = {&order, 1, 0, false, NULL}, cb = {&order, 2, 0, false, NULL};
  T_ASSERT(setup(&f));
  T_OK(evloop_timer_new(f.loop, record_cb, &ca, &a));
  T_OK(evloop_timer_new(f.loop, record_cb, &cb, &b));
  T_OK(evloop_timer_schedule(a, 10));
  evloop_timer_cancel(a);
  T_ASSERT(!evloop_timer_is_pending(a));
  evloop_timer_cancel(a); /* twice is fine */
  /* Rescheduling replaces: b fires once, at the later time. */
  T_OK(evloop_timer_schedule(b, 5));
  T_OK(evloop_timer_schedule(b, 30));
  uint64_t start = clock_mono_ms(clock_system());
  event_base_dispatch(f.base);
  T_EQ_INT(order.n, 1);
  T_EQ_INT(order.fired[0], 2);
  T_ASSERT(order.at_ms[0] + SLACK_MS >= start + 30);
  T_EQ_INT(evloop_timer_schedule(a, EVLOOP_TIMER_MAX_MS + 1), CHIVE_ERR_INVAL);
  T_EQ_INT(evloop_timer_schedule_periodic(a, 0), CHIVE_ERR_INVAL);
  /* Zero delay: fires on the next iteration, not now. */
  T_OK(evloop_timer_schedule(a, 0));
  T_EQ_INT(order.n, 1);
  event_base_dispatch(f.base);
  T_EQ_INT(order.n, 2);
  T_EQ_INT(order.fired[1], 1);
done:
  evloop_timer_free(a);
  evloop_timer_free(b);
  teardown(&f);
}

static void
test_timer_periodic(void)
{
  fixture_t f;
  order_t order = {{0}, 0, {0}};
  evloop_timer_t *t = NULL;
  tctx_t c = {&order, 7, 3, false, NULL};
  T_ASSERT(setup(&f));
  T_OK(evloop_timer_new(f.loop, record_cb, &c, &t));
  T_OK(evloop_timer_schedule_periodic(t, 5));
  event_base_dispatch(f.base); /* returns once the callback cancels */
  T_EQ_INT(order.n, 3);
  T_ASSERT(!evloop_timer_is_pending(t));
  /* Switch back to one-shot. */
  T_OK(evloop_timer_schedule(t, 1));
  event_base_dispatch(f.base);
  T_EQ_INT(order.n, 4);
  T_ASSERT(!evloop_timer_is_pending(t));
done:
  evloop_timer_free(t);
  teardown(&f);
}

static void
test_timer_free_safety(void)
{
  fixture_t f;
  order_t order = {{0}, 0, {0}};
  evloop_timer_t *a = NULL, *b = NULL, *p = NULL;
  tctx_t ca = {&order, 1, 0, false, NULL};
  tctx_t cb = {&order, 2, 0, true, &b};
  tctx_t cp = {&order, 3, 0, true, &p};
  T_ASSERT(setup(&f));
  /* Freed while pending: never fires (ASan would see a use after free). */
  T_OK(evloop_timer_new(f.loop, record_cb, &ca, &a));
  T_OK(evloop_timer_schedule(a, 1));
  evloop_timer_free(a);
  T_ASSERT(a == NULL);
  /* Freed from inside its own callback, one-shot and periodic. */
  T_OK(evloop_timer_new(f.loop, record_cb, &cb, &b));
  T_OK(evloop_timer_schedule(b, 2));
  T_OK(evloop_timer_new(f.loop, record_cb, &cp, &p));
  T_OK(evloop_timer_schedule_periodic(p, 3));
  event_base_dispatch(f.base);
  T_EQ_INT(order.n, 2);
  T_ASSERT(b == NULL && p == NULL);
  /* OOM at creation leaves nothing behind. */
  chive_mem_fail_nth(1, false);
  T_EQ_INT(evloop_timer_new(f.loop, record_cb, &ca, &a), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_ASSERT(a == NULL);
done:
  chive_mem_fail_nth(0, false);
  evloop_timer_free(a);
  evloop_timer_free(b);
  evloop_timer_free(p);
  teardown(&f);
}

/* --- deferred callbacks -------------------------------------------- */

typedef struct dctx_t {
  int runs;
  int reschedule; /* times to reschedule itself */
  evloop_defer_t *other;
  bool free_self;
  evloop_defer_t **self;
} dctx_t;

static void
defer_cb(evloop_defer_t *d, void *arg)
{
  dctx_t *c = arg;
  c->runs++;
  if (c->other)
    evloop_defer_schedule(c->other);
  if (c->reschedule > 0) {
    c->reschedule--;
    evloop_defer_schedule(d);
  }
  if (c->free_self)
    evloop_defer_free(*c->self);
}

static void
test_defer_not_synchronous(void)
{
  fixture_t f;
  evloop_defer_t *d = NULL;
  dctx_t c = {0, 0, NULL, false, NULL};
  T_ASSERT(setup(&f));
  T_OK(evloop_defer_new(f.loop, defer_cb, &c, &d));
  T_ASSERT(!evloop_defer_is_pending(d));
  evloop_defer_schedule(d);
  evloop_defer_schedule(d); /* coalesces */
  T_ASSERT(evloop_defer_is_pending(d));
  T_EQ_INT(c.runs, 0);
  event_base_dispatch(f.base);
  T_EQ_INT(c.runs, 1);
  T_ASSERT(!evloop_defer_is_pending(d));
  /* Cancel. */
  evloop_defer_schedule(d);
  evloop_defer_cancel(d);
  T_ASSERT(!evloop_defer_is_pending(d));
  event_base_dispatch(f.base);
  T_EQ_INT(c.runs, 1);
done:
  evloop_defer_free(d);
  teardown(&f);
}

static void
test_defer_next_iteration(void)
{
  fixture_t f;
  evloop_defer_t *a = NULL, *b = NULL;
  dctx_t cb = {0, 0, NULL, false, NULL};
  dctx_t ca = {0, 0, NULL, false, NULL};
  T_ASSERT(setup(&f));
  T_OK(evloop_defer_new(f.loop, defer_cb, &cb, &b));
  T_OK(evloop_defer_new(f.loop, defer_cb, &ca, &a));
  ca.other = b; /* a schedules b from inside its callback */
  evloop_defer_schedule(a);
  run_once(&f);
  T_EQ_INT(ca.runs, 1);
  T_EQ_INT(cb.runs, 0); /* not in the same iteration */
  T_ASSERT(evloop_defer_is_pending(b));
  run_once(&f);
  T_EQ_INT(cb.runs, 1);
  /* A deferred callback that reschedules itself runs once per iteration
   * and does not starve a timer. */
  ca.other = NULL;
  ca.reschedule = 1000000;
  ca.runs = 0;
  evloop_defer_schedule(a);
  order_t order = {{0}, 0, {0}};
  tctx_t tc = {&order, 1, 0, false, NULL};
  evloop_timer_t *t = NULL;
  T_OK(evloop_timer_new(f.loop, record_cb, &tc, &t));
  T_OK(evloop_timer_schedule(t, 5));
  while (order.n == 0 && ca.reschedule > 0)
    run_once(&f);
  evloop_timer_free(t);
  T_EQ_INT(order.n, 1);
  T_ASSERT(ca.reschedule > 0);
  evloop_defer_cancel(a);
done:
  evloop_defer_free(a);
  evloop_defer_free(b);
  teardown(&f);
}

static void
test_defer_free_safety(void)
{
  fixture_t f;
  evloop_defer_t *a = NULL, *b = NULL;
  dctx_t ca = {0, 0, NULL, false, NULL};
  dctx_t cb = {0, 0, NULL, true, &b};
  T_ASSERT(setup(&f));
  T_OK(evloop_defer_new(f.loop, defer_cb, &ca, &a));
  evloop_defer_schedule(a);
  evloop_defer_free(a); /* while pending */
  T_OK(evloop_defer_new(f.loop, defer_cb, &cb, &b));
  evloop_defer_schedule(b);
  event_base_dispatch(f.base); /* b frees itself */
  T_EQ_INT(ca.runs, 0);
  T_EQ_INT(cb.runs, 1);
  T_ASSERT(b == NULL);
  chive_mem_fail_nth(1, false);
  T_EQ_INT(evloop_defer_new(f.loop, defer_cb, &ca, &a), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
done:
  chive_mem_fail_nth(0, false);
  evloop_defer_free(a);
  evloop_defer_free(b);
  teardown(&f);
}

/* --- reaper -------------------------------------------------------- */

typedef struct obj_t {
  reaper_entry_t reap;
  int *freed;          /* counter shared by the test */
  struct obj_t *child; /* freed with this object */
  reaper_t *reaper;
  struct obj_t *mark_on_free; /* marked by this object's free */
  evloop_defer_t *trigger;    /* this object's own "callback" */
} obj_t;

static void
obj_free(void *p)
{
  obj_t *o = p;
  reaper_unmark(&o->reap);
  if (o->mark_on_free)
    reaper_mark(o->reaper, &o->mark_on_free->reap, o->mark_on_free, obj_free);
  if (o->child)
    obj_free(o->child);
  evloop_defer_free(o->trigger);
  (*o->freed)++;
  chive_free(o);
}

static obj_t *
obj_new(reaper_t *r, int *freed)
{
  obj_t *o = chive_zalloc(sizeof(*o));
  if (o) {
    reaper_entry_init(&o->reap);
    o->freed = freed;
    o->reaper = r;
  }
  return o;
}

static int g_freed_at_callback_end;

/** An object's own callback marks it for close and then keeps using it:
 * that must be safe. */
static void
obj_trigger_cb(evloop_defer_t *d, void *arg)
{
  (void)d;
  obj_t *o = arg;
  reaper_mark(o->reaper, &o->reap, o, obj_free);
  reaper_mark(o->reaper, &o->reap, o, obj_free); /* idempotent */
  g_freed_at_callback_end = *o->freed;           /* o is still valid here */
}

static void
test_reaper(void)
{
  fixture_t f;
  reaper_t *r = NULL;
  int freed = 0;
  obj_t *o = NULL, *parent = NULL, *x = NULL;
  T_ASSERT(setup(&f));
  T_OK(reaper_new(f.loop, &r));

  /* Marked from its own callback, freed on a later iteration. */
  o = obj_new(r, &freed);
  T_ASSERT(o);
  T_OK(evloop_defer_new(f.loop, obj_trigger_cb, o, &o->trigger));
  evloop_defer_schedule(o->trigger);
  run_once(&f);
  T_EQ_INT(g_freed_at_callback_end, 0);
  T_EQ_INT(freed, 0);
  T_ASSERT(reaper_entry_is_marked(&o->reap));
  T_EQ_UINT(reaper_n_pending(r), 1);
  run_once(&f);
  T_EQ_INT(freed, 1);
  T_EQ_UINT(reaper_n_pending(r), 0);
  o = NULL;

  /* A parent and its child both marked: the parent's free frees the
   * child, which unmarks itself first, so it is not freed twice. */
  parent = obj_new(r, &freed);
  T_ASSERT(parent);
  parent->child = obj_new(r, &freed);
  T_ASSERT(parent->child);
  reaper_mark(r, &parent->reap, parent, obj_free);
  reaper_mark(r, &parent->child->reap, parent->child, obj_free);
  T_EQ_UINT(reaper_n_pending(r), 2);
  event_base_dispatch(f.base);
  T_EQ_INT(freed, 3);
  parent = NULL;

  /* An object marked by a free function is freed an iteration later. */
  o = obj_new(r, &freed);
  x = obj_new(r, &freed);
  T_ASSERT(o && x);
  o->mark_on_free = x;
  reaper_mark(r, &o->reap, o, obj_free);
  run_once(&f);
  T_EQ_INT(freed, 4);
  T_ASSERT(reaper_entry_is_marked(&x->reap));
  run_once(&f);
  T_EQ_INT(freed, 5);
  o = x = NULL;

  /* Unmarking cancels. */
  o = obj_new(r, &freed);
  T_ASSERT(o);
  reaper_mark(r, &o->reap, o, obj_free);
  reaper_unmark(&o->reap);
  T_ASSERT(!reaper_entry_is_marked(&o->reap));
  event_base_dispatch(f.base);
  T_EQ_INT(freed, 5);
  obj_free(o);
  o = NULL;

  /* Freeing the reaper frees whatever is still marked. */
  o = obj_new(r, &freed);
  T_ASSERT(o);
  reaper_mark(r, &o->reap, o, obj_free);
  reaper_free(r);
  T_EQ_INT(freed, 7);
  o = NULL;
done:
  reaper_free(r);
  teardown(&f);
}

static void
test_reaper_oom(void)
{
  fixture_t f;
  reaper_t *r = NULL;
  T_ASSERT(setup(&f));
  for (uint64_t n = 1; n <= 2; n++) {
    chive_mem_fail_nth(n, false);
    T_EQ_INT(reaper_new(f.loop, &r), CHIVE_ERR_NOMEM);
    chive_mem_fail_nth(0, false);
    T_ASSERT(r == NULL);
  }
  T_OK(reaper_new(f.loop, &r));
done:
  chive_mem_fail_nth(0, false);
  reaper_free(r);
  teardown(&f);
}

static const t_case cases[] = {
    T_CASE(test_timers_fire_in_order),
    T_CASE(test_timer_cancel_and_reschedule),
    T_CASE(test_timer_periodic),
    T_CASE(test_timer_free_safety),
    T_CASE(test_defer_not_synchronous),
    T_CASE(test_defer_next_iteration),
    T_CASE(test_defer_free_safety),
    T_CASE(test_reaper),
    T_CASE(test_reaper_oom),
    T_END,
};
T_MAIN(cases)
