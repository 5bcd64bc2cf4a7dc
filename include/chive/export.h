/**
 * @file export.h
 * @brief CHIVE_API and CHIVE_MUST_CHECK for the public headers.
 **/
#ifndef CHIVE_EXPORT_H
#define CHIVE_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#  define CHIVE_API __attribute__((visibility("default")))
#  define CHIVE_MUST_CHECK __attribute__((warn_unused_result))
#else
#  define CHIVE_API
#  define CHIVE_MUST_CHECK
#endif

#endif /* !defined(CHIVE_EXPORT_H) */
