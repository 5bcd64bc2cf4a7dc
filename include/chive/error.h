/**
 * @file error.h
 * @brief chive_err_t: the one error type of the library.
 *
 * Every fallible function returns one of these; CHIVE_OK is 0, so
 * "if (err)" tests for failure.  Values are never renumbered (ABI).
 **/
#ifndef CHIVE_ERROR_H
#define CHIVE_ERROR_H

#include "chive/export.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum chive_err_t {
  CHIVE_OK = 0,
  CHIVE_ERR_NOMEM = 1,     /**< An allocation or a memory cap failed. */
  CHIVE_ERR_INVAL = 2,     /**< The caller broke the API contract. */
  CHIVE_ERR_PROTO = 3,     /**< The peer broke the protocol. */
  CHIVE_ERR_TRUNCATED = 4, /**< Need more bytes (streaming), or short. */
  CHIVE_ERR_LIMIT = 5,     /**< A configured resource limit was reached. */
  CHIVE_ERR_CRYPTO = 6,    /**< A MAC, signature or handshake check failed. */
  CHIVE_ERR_IO = 7,        /**< The OS reported an I/O error. */
  CHIVE_ERR_TIMEOUT = 8,   /**< A deadline passed. */
  CHIVE_ERR_CLOSED = 9,    /**< The object was closed or is closing. */
  CHIVE_ERR_INTERNAL = 10, /**< A bug was detected (a BUG() check fired). */
  CHIVE_ERR_NOTFOUND = 11, /**< The named thing does not exist. */
  CHIVE_ERR_EXPIRED = 12,  /**< A document or certificate is not valid now. */
} chive_err_t;

/** Return a static, human-readable name for <b>err</b>. */
CHIVE_API const char *chive_err_str(chive_err_t err);

#ifdef __cplusplus
}
#endif

#endif /* !defined(CHIVE_ERROR_H) */
