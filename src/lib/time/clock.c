/**
 * @file clock.c
 * @brief The system clock and the fake clock (see clock.h).
 **/
#include "lib/cc/compat.h"

#include "lib/time/clock.h"

#include <string.h>
#include <time.h>

#include "lib/err/err.h"

/** CLOCK_MONOTONIC in microseconds.  clock_gettime() cannot fail for
 * this clock id on any system we support; if it somehow does, report 0
 * through BUG() rather than garbage. */
static uint64_t
system_mono_us(void *arg)
{
  (void)arg;
  struct timespec ts;
  if (BUG(clock_gettime(CLOCK_MONOTONIC, &ts) != 0))
    return 0;
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/** CLOCK_REALTIME in whole seconds. */
static int64_t
system_wall_s(void *arg)
{
  (void)arg;
  struct timespec ts;
  if (BUG(clock_gettime(CLOCK_REALTIME, &ts) != 0))
    return (int64_t)time(NULL);
  return (int64_t)ts.tv_sec;
}

static const chive_clock_t system_clock = {system_mono_us, system_wall_s,
                                           NULL};

/* see clock.h */
const chive_clock_t *
clock_system(void)
{
  return &system_clock;
}

static uint64_t
fake_mono_us(void *arg)
{
  const fakeclock_t *fc = arg;
  return fc->mono_us;
}

static int64_t
fake_wall_s(void *arg)
{
  const fakeclock_t *fc = arg;
  /* Floor division, so times before 1970 round down too. */
  int64_t q = fc->wall_us / 1000000, r = fc->wall_us % 1000000;
  return r < 0 ? q - 1 : q;
}

/* see clock.h */
void
fakeclock_init(fakeclock_t *fc, uint64_t mono_us, int64_t wall_s)
{
  memset(fc, 0, sizeof(*fc));
  fc->clock.mono_us = fake_mono_us;
  fc->clock.wall_s = fake_wall_s;
  fc->clock.arg = fc;
  fc->mono_us = mono_us;
  fc->wall_us = wall_s * 1000000;
}

/* see clock.h */
void
fakeclock_advance_us(fakeclock_t *fc, uint64_t us)
{
  fc->mono_us += us;
  fc->wall_us += (int64_t)us;
}

/* see clock.h */
void
fakeclock_advance_ms(fakeclock_t *fc, uint64_t ms)
{
  fakeclock_advance_us(fc, ms * 1000u);
}

/* see clock.h */
void
fakeclock_set_wall(fakeclock_t *fc, int64_t wall_s)
{
  fc->wall_us = wall_s * 1000000;
}
