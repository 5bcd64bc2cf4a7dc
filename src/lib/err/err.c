/**
 * @file err.c
 * @brief Error names and the BUG() machinery.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>

#include "chive/version.h"
#include "lib/err/err.h"

/* see error.h */
const char *
chive_err_str(chive_err_t err)
{
  switch (err) {
  case CHIVE_OK:
    return "ok";
  case CHIVE_ERR_NOMEM:
    return "out of memory";
  case CHIVE_ERR_INVAL:
    return "invalid argument";
  case CHIVE_ERR_PROTO:
    return "protocol violation";
  case CHIVE_ERR_TRUNCATED:
    return "truncated input";
  case CHIVE_ERR_LIMIT:
    return "limit reached";
  case CHIVE_ERR_CRYPTO:
    return "cryptographic check failed";
  case CHIVE_ERR_IO:
    return "I/O error";
  case CHIVE_ERR_TIMEOUT:
    return "timed out";
  case CHIVE_ERR_CLOSED:
    return "closed";
  case CHIVE_ERR_INTERNAL:
    return "internal error";
  case CHIVE_ERR_NOTFOUND:
    return "not found";
  case CHIVE_ERR_EXPIRED:
    return "expired or not yet valid";
  }
  return "unknown error";
}

/* see version.h */
const char *
chive_version(void)
{
  return CHIVE_VERSION_STRING;
}

static void
default_bug_handler(const char *file, int line, const char *expr)
{
  fprintf(stderr, "chive: BUG at %s:%d: %s\n", file, line, expr);
}

/* The bug handler is process-wide by nature (like an assertion), and is
 * set once by the logging module or the embedder before use. */
static chive_bug_handler_fn bug_handler = default_bug_handler;

chive_bug_handler_fn
chive_bug_set_handler(chive_bug_handler_fn fn)
{
  chive_bug_handler_fn old = bug_handler;
  bug_handler = fn ? fn : default_bug_handler;
  return old;
}

bool
chive_bug_report_(const char *file, int line, const char *expr)
{
  bug_handler(file, line, expr);
#ifdef CHIVE_BUGS_ARE_FATAL
  abort();
#else
  return true;
#endif
}

void
chive_assert_failed_(const char *file, int line, const char *expr)
{
  fprintf(stderr, "chive: assertion failed at %s:%d: %s\n", file, line,
          expr);
  abort();
}
