/**
 * @file tinytest.h
 * @brief A deliberately tiny unit-test harness.
 *
 * Each test is a void function using T_* checks.  A failed check records
 * the failure and jumps to the function's "done:" label, where the test
 * frees what it allocated (the tor/tinytest convention).  Each test file
 * ends with a case table and T_MAIN(table); the binary accepts a
 * name-prefix filter and prints a final "N passed, N failed" line.
 * After each case the harness checks that chive_mem_in_use() returned to
 * its value before the case (a leak check for chive allocations).
 **/
#ifndef CHIVE_TEST_TINYTEST_H
#define CHIVE_TEST_TINYTEST_H

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

extern int t_failed_;
extern int t_skipped_;

#define T_FAIL_(fmt, ...)                                          \
  do {                                                             \
    fprintf(stderr, "  FAIL %s:%d: " fmt "\n", __FILE__, __LINE__, \
            __VA_ARGS__);                                          \
    t_failed_ = 1;                                                 \
    goto done;                                                     \
  } while (0)

#define T_ASSERT(cond)              \
  do {                              \
    if (!(cond))                    \
      T_FAIL_("assert(%s)", #cond); \
  } while (0)

#define T_EQ_INT(a, b)                                  \
  do {                                                  \
    intmax_t a_ = (intmax_t)(a), b_ = (intmax_t)(b);    \
    if (a_ != b_)                                       \
      T_FAIL_("%s == %s (%jd vs %jd)", #a, #b, a_, b_); \
  } while (0)

#define T_EQ_UINT(a, b)                                 \
  do {                                                  \
    uintmax_t a_ = (uintmax_t)(a), b_ = (uintmax_t)(b); \
    if (a_ != b_)                                       \
      T_FAIL_("%s == %s (%ju vs %ju)", #a, #b, a_, b_); \
  } while (0)

#define T_EQ_STR(a, b)                                          \
  do {                                                          \
    const char *a_ = (a), *b_ = (b);                            \
    if (!a_ || !b_ || strcmp(a_, b_) != 0)                      \
      T_FAIL_("%s == %s (\"%s\" vs \"%s\")", #a, #b,            \
              a_ ? a_ : "(null)", b_ ? b_ : "(null)");          \
  } while (0)

#define T_EQ_MEM(a, b, n)                                       \
  do {                                                          \
    if (memcmp((a), (b), (n)) != 0)                             \
      T_FAIL_("memcmp(%s, %s, %zu) != 0", #a, #b, (size_t)(n)); \
  } while (0)

/** Expect a chive_err_t. */
#define T_OK(expr) T_EQ_INT((expr), 0)

/** Mark the current test skipped (with a reason) and leave it. */
#define T_SKIP(why)                              \
  do {                                           \
    fprintf(stderr, "  SKIP %s\n", (why));       \
    t_skipped_ = 1;                              \
    goto done;                                   \
  } while (0)

typedef struct t_case {
  const char *name;
  void (*fn)(void);
} t_case;

#define T_CASE(fn) \
  {                \
#    fn, fn        \
  }
#define T_END  \
  {            \
    NULL, NULL \
  }

int t_run(const t_case *cases, int argc, char **argv);

/** Decode hex text into <b>out</b> (at most <b>max</b> bytes); returns
 * the byte count, or -1 on bad hex.  Test convenience only. */
long t_unhex(const char *hex, uint8_t *out, size_t max);

/** Directory holding ../shared/data, or NULL if absent (tests skip). */
const char *t_shared_data_dir(void);

/** Read a whole file into a chive_malloc'd buffer (NUL-terminated);
 * NULL if it cannot be read. */
uint8_t *t_read_file(const char *path, size_t *len_out);

#define T_MAIN(cases)                    \
  int main(int argc, char **argv);       \
  int main(int argc, char **argv)        \
  {                                      \
    return t_run((cases), argc, argv);   \
  }

#endif /* !defined(CHIVE_TEST_TINYTEST_H) */
