/**
 * @file cc.h
 * @brief Compiler attributes and small helpers used across the tree.
 **/
#ifndef CHIVE_LIB_CC_CC_H
#define CHIVE_LIB_CC_CC_H

#include "chive/export.h"

#if defined(__GNUC__) || defined(__clang__)
#  define CHIVE_PRINTF(fmt_idx, arg_idx) \
    __attribute__((format(printf, fmt_idx, arg_idx)))
#  define CHIVE_UNUSED __attribute__((unused))
#  define CHIVE_LIKELY(x) __builtin_expect(!!(x), 1)
#  define CHIVE_UNLIKELY(x) __builtin_expect(!!(x), 0)
#  define CHIVE_NORETURN __attribute__((noreturn))
#else
#  define CHIVE_PRINTF(fmt_idx, arg_idx)
#  define CHIVE_UNUSED
#  define CHIVE_LIKELY(x) (x)
#  define CHIVE_UNLIKELY(x) (x)
#  define CHIVE_NORETURN
#endif

/** Number of elements of a true array. */
#define CHIVE_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/** Compile-time assertion with a message. */
#define CHIVE_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)

/** Test-only exposure: static except in test builds. */
#ifdef CHIVE_PRIVATE_FOR_TESTS
#  define CHIVE_STATIC
#else
#  define CHIVE_STATIC static
#endif

#endif /* !defined(CHIVE_LIB_CC_CC_H) */
