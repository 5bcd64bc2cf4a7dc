/**
 * @file crypto_int.h
 * @brief Internal helpers shared by the lib/crypto implementation files.
 * Not for use outside src/lib/crypto.
 **/
#ifndef CHIVE_LIB_CRYPTO_CRYPTO_INT_H
#define CHIVE_LIB_CRYPTO_CRYPTO_INT_H

#include "lib/err/err.h"

/** Evaluate <b>cond</b> exactly once; abort if it is false.  For backend
 * calls that can only fail on internal allocation failure or corruption,
 * inside functions whose contract gives them no way to report an error
 * (a digest or keystream that silently went wrong would be worse). */
#define CRYPTO_MUST(cond)                              \
  do {                                                 \
    if (CHIVE_UNLIKELY(!(cond)))                       \
      chive_assert_failed_(__FILE__, __LINE__, #cond); \
  } while (0)

#endif /* !defined(CHIVE_LIB_CRYPTO_CRYPTO_INT_H) */
