/**
 * @file clock.h
 * @brief Monotonic and wall clocks behind an injectable interface, and a
 * fake clock for tests.
 *
 * Code that needs the time takes a `const chive_clock_t *` (borrowed) at
 * construction and reads it through clock_mono_*() and clock_wall_s().
 * Use the monotonic clock for timeouts and durations; use the wall clock
 * only for things defined in calendar time (document validity,
 * certificates).  Production passes clock_system(); tests pass a
 * fakeclock_t they advance by hand, so timeouts need no sleeping.
 **/
#ifndef CHIVE_LIB_TIME_CLOCK_H
#define CHIVE_LIB_TIME_CLOCK_H

#include <stdint.h>

/** A clock.  Both functions MUST be callable at any time from the thread
 * that owns the objects using the clock. */
typedef struct chive_clock_t {
  /** Microseconds since an arbitrary fixed point; never decreases. */
  uint64_t (*mono_us)(void *arg);
  /** Seconds since 1970-01-01 00:00:00 UTC (may jump either way). */
  int64_t (*wall_s)(void *arg);
  void *arg; /**< passed to both */
} chive_clock_t;

/** Return the process's real clock: CLOCK_MONOTONIC and CLOCK_REALTIME.
 * The object is static and immutable; it holds no state. */
const chive_clock_t *clock_system(void);

/** Monotonic time in microseconds. */
static inline uint64_t
clock_mono_us(const chive_clock_t *c)
{
  return c->mono_us(c->arg);
}
/** Monotonic time in milliseconds. */
static inline uint64_t
clock_mono_ms(const chive_clock_t *c)
{
  return c->mono_us(c->arg) / 1000u;
}
/** Wall-clock time in seconds since the Unix epoch. */
static inline int64_t
clock_wall_s(const chive_clock_t *c)
{
  return c->wall_s(c->arg);
}

/** A settable clock for tests.  Embed it, fakeclock_init() it, pass
 * fakeclock_clock() to the code under test, then move time by hand. */
typedef struct fakeclock_t {
  chive_clock_t clock; /**< points back at this object */
  uint64_t mono_us;
  int64_t wall_us; /**< wall time in microseconds, so advances add up */
} fakeclock_t;

/** Start <b>fc</b> at monotonic <b>mono_us</b> and wall <b>wall_s</b>.
 * <b>fc</b> MUST NOT move in memory while its clock is in use. */
void fakeclock_init(fakeclock_t *fc, uint64_t mono_us, int64_t wall_s);
/** Return the clock interface of <b>fc</b> (borrowed). */
static inline const chive_clock_t *
fakeclock_clock(const fakeclock_t *fc)
{
  return &fc->clock;
}
/** Move both clocks forward by <b>us</b> microseconds. */
void fakeclock_advance_us(fakeclock_t *fc, uint64_t us);
/** Move both clocks forward by <b>ms</b> milliseconds. */
void fakeclock_advance_ms(fakeclock_t *fc, uint64_t ms);
/** Set only the wall clock (a jump, as when the system time is changed);
 * the monotonic clock is unaffected. */
void fakeclock_set_wall(fakeclock_t *fc, int64_t wall_s);

#endif /* !defined(CHIVE_LIB_TIME_CLOCK_H) */
