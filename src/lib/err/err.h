/**
 * @file err.h
 * @brief chive_err_t (from the public header), BUG() and CHIVE_ASSERT().
 *
 * BUG(cond) evaluates to cond.  When cond is true it reports the bug once
 * per call site through the bug handler (which the logging module
 * installs) and, in builds with CHIVE_BUGS_ARE_FATAL (tests, fuzzers),
 * aborts so that fuzzers and tests see the bug as a crash.  In production
 * the caller recovers, typically with "return CHIVE_ERR_INTERNAL".
 * Nothing a peer sends may reach a BUG() or CHIVE_ASSERT().
 **/
#ifndef CHIVE_LIB_ERR_ERR_H
#define CHIVE_LIB_ERR_ERR_H

#include <stdbool.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

/** Called when a BUG() fires (file, line, expression text). */
typedef void (*chive_bug_handler_fn)(const char *file, int line,
                                     const char *expr);

/** Report a bug at file:line; returns true.  Use BUG() instead. */
bool chive_bug_report_(const char *file, int line, const char *expr);

/** Replace the process's bug handler (NULL restores the default, which
 * writes to stderr).  Returns the previous handler. */
chive_bug_handler_fn chive_bug_set_handler(chive_bug_handler_fn fn);

/** Abort after printing file:line and the expression. */
CHIVE_NORETURN void chive_assert_failed_(const char *file, int line,
                                         const char *expr);

#define BUG(cond)                                                       \
  (CHIVE_UNLIKELY(cond) ? chive_bug_report_(__FILE__, __LINE__, #cond) \
                        : false)

/** Always-on assertion, for invariants whose violation means memory is
 * already corrupt.  Never for peer input. */
#define CHIVE_ASSERT(cond)                                   \
  do {                                                       \
    if (CHIVE_UNLIKELY(!(cond)))                             \
      chive_assert_failed_(__FILE__, __LINE__, #cond);       \
  } while (0)

#endif /* !defined(CHIVE_LIB_ERR_ERR_H) */
