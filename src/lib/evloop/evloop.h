/**
 * @file evloop.h
 * @brief libevent glue: a loop handle, timers, deferred callbacks and a
 * close reaper.
 *
 * This directory (with lib/buf, lib/net, lib/tls and app/) is the only
 * place that includes libevent headers; everything above it uses these
 * wrappers.  The embedder owns the struct event_base: an evloop_t only
 * borrows it and never runs the loop.
 *
 * Rules shared by every object here:
 * - Callbacks run from the event loop, never from inside the call that
 *   scheduled them.
 * - An object may be freed at any time on the loop's thread: while
 *   scheduled (the pending callback is cancelled) and from inside its own
 *   callback (the loop does not touch it after the callback returns).
 * - Every object MUST be freed before the evloop_t it was made from, and
 *   the evloop_t before the event_base.
 * - Single-threaded: call everything from the thread that runs the loop.
 *
 * Timer and deferred-callback storage comes from the chive allocator
 * (counted and fail-injectable), with the libevent event embedded.
 **/
#ifndef CHIVE_LIB_EVLOOP_EVLOOP_H
#define CHIVE_LIB_EVLOOP_EVLOOP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/container/list.h"

struct event_base;

/** Longest timer delay or period, in milliseconds (about 49.7 days). */
#define EVLOOP_TIMER_MAX_MS ((uint64_t)UINT32_MAX)

/* --- the loop handle ----------------------------------------------- */

typedef struct evloop_t evloop_t;

/** Wrap <b>base</b> (borrowed: it MUST outlive the evloop_t).  On
 * success set *<b>out</b>; CHIVE_ERR_INVAL if base is NULL,
 * CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t evloop_new(struct event_base *base,
                                        evloop_t **out);
/** Free <b>loop</b>.  Every timer, deferred callback and reaper made from
 * it MUST already be freed (BUG() otherwise).  NULL is a no-op. */
void evloop_free_(evloop_t *loop);
#define evloop_free(l) CHIVE_FREE_AND_NULL(evloop_t, evloop_free_, (l))
/** Return the borrowed event_base. */
struct event_base *evloop_base(const evloop_t *loop);

/* --- timers -------------------------------------------------------- */

typedef struct evloop_timer_t evloop_timer_t;
/** Timer callback; <b>t</b> may be rescheduled, cancelled or freed from
 * inside it. */
typedef void (*evloop_timer_cb)(evloop_timer_t *t, void *arg);

/** Create an unscheduled timer that calls <b>cb</b>(t, <b>arg</b>).
 * (Not named evtimer_*: libevent defines macros with those names.) */
CHIVE_MUST_CHECK chive_err_t evloop_timer_new(evloop_t *loop,
                                              evloop_timer_cb cb, void *arg,
                                              evloop_timer_t **out);
/** Fire once, <b>delay_ms</b> from now (0: on the next loop iteration),
 * replacing any earlier schedule.  CHIVE_ERR_INVAL if delay_ms >
 * EVLOOP_TIMER_MAX_MS; CHIVE_ERR_NOMEM if libevent cannot grow its
 * timer heap (the timer is then unscheduled). */
CHIVE_MUST_CHECK chive_err_t evloop_timer_schedule(evloop_timer_t *t,
                                                   uint64_t delay_ms);
/** Fire every <b>period_ms</b> (1..EVLOOP_TIMER_MAX_MS), first
 * period_ms from now, until cancelled; replaces any earlier schedule. */
CHIVE_MUST_CHECK chive_err_t
evloop_timer_schedule_periodic(evloop_timer_t *t, uint64_t period_ms);
/** Unschedule <b>t</b> (no-op if not scheduled). */
void evloop_timer_cancel(evloop_timer_t *t);
/** Return true iff <b>t</b> is scheduled. */
bool evloop_timer_is_pending(const evloop_timer_t *t);
/** Cancel and free <b>t</b>; NULL is a no-op. */
void evloop_timer_free_(evloop_timer_t *t);
#define evloop_timer_free(t) \
  CHIVE_FREE_AND_NULL(evloop_timer_t, evloop_timer_free_, (t))

/* --- deferred callbacks -------------------------------------------- */

typedef struct evloop_defer_t evloop_defer_t;
typedef void (*evloop_defer_cb)(evloop_defer_t *d, void *arg);

/** Create a deferred callback: a pre-allocated event that
 * evloop_defer_schedule() arms without allocating. */
CHIVE_MUST_CHECK chive_err_t evloop_defer_new(evloop_t *loop,
                                              evloop_defer_cb cb, void *arg,
                                              evloop_defer_t **out);
/** Arrange for the callback to run once on the next iteration of the
 * loop (never synchronously, never later in the current iteration).
 * Scheduling again before it ran is a no-op.  Cannot fail: if libevent
 * cannot grow its timer heap the callback is activated directly, which
 * runs it after the current callback returns.  There is no ordering
 * among deferred callbacks scheduled for the same iteration. */
void evloop_defer_schedule(evloop_defer_t *d);
/** Unschedule <b>d</b> (no-op if not scheduled). */
void evloop_defer_cancel(evloop_defer_t *d);
/** Return true iff <b>d</b> is scheduled and has not run yet. */
bool evloop_defer_is_pending(const evloop_defer_t *d);
/** Cancel and free <b>d</b>; NULL is a no-op. */
void evloop_defer_free_(evloop_defer_t *d);
#define evloop_defer_free(d) \
  CHIVE_FREE_AND_NULL(evloop_defer_t, evloop_defer_free_, (d))

/* --- the close reaper ---------------------------------------------- */

/** Frees objects on the next loop iteration (tor's mark-for-close), so
 * that an object is never freed inside its own callback chain. */
typedef struct reaper_t reaper_t;
typedef void (*reaper_free_fn)(void *obj);

/** Embed one in each object that can be marked for close.  Marking
 * needs no allocation, so it cannot fail (it happens on error paths,
 * OOM included).  Do not touch the fields. */
typedef struct reaper_entry_t {
  chive_list_t link; /**< on the reaper's list while marked */
  void *obj;
  reaper_free_fn free_fn;
} reaper_entry_t;

/** Initialise <b>e</b> as unmarked.  MUST be called before the first
 * reaper_mark() or reaper_unmark(). */
void reaper_entry_init(reaper_entry_t *e);
/** Return true iff <b>e</b> is marked and not yet reaped. */
bool reaper_entry_is_marked(const reaper_entry_t *e);

/** Create a reaper on <b>loop</b>. */
CHIVE_MUST_CHECK chive_err_t reaper_new(evloop_t *loop, reaper_t **out);
/** Run free_fn on every object still marked, then free <b>r</b>.  NULL
 * is a no-op.  For shutdown. */
void reaper_free_(reaper_t *r);
#define reaper_free(r) CHIVE_FREE_AND_NULL(reaper_t, reaper_free_, (r))

/** Mark <b>obj</b> (whose embedded entry is <b>e</b>) to be freed with
 * <b>free_fn</b>(obj) on the next loop iteration.  Marking an already
 * marked entry does nothing.  Objects are freed in marking order; an
 * object marked by a free_fn is freed on the iteration after. */
void reaper_mark(reaper_t *r, reaper_entry_t *e, void *obj,
                 reaper_free_fn free_fn);
/** Take <b>e</b> off the reaper's list (no-op if not marked).  An object
 * that is freed by some other path while marked -- for instance by the
 * free_fn of its owner -- MUST call this first. */
void reaper_unmark(reaper_entry_t *e);
/** Number of objects waiting to be freed. */
size_t reaper_n_pending(const reaper_t *r);

#endif /* !defined(CHIVE_LIB_EVLOOP_EVLOOP_H) */
