/**
 * @file compat.h
 * @brief Feature-test macros: include first in every .c file that uses
 * POSIX interfaces, before any system header.
 **/
#ifndef CHIVE_LIB_CC_COMPAT_H
#define CHIVE_LIB_CC_COMPAT_H

#ifndef _POSIX_C_SOURCE
#  define _POSIX_C_SOURCE 200809L
#endif
#ifndef _DEFAULT_SOURCE
/* For getentropy, explicit_bzero and similar BSD-derived helpers
 * (glibc declares memmem only under _GNU_SOURCE: do not rely on it). */
#  define _DEFAULT_SOURCE 1
#endif

#endif /* !defined(CHIVE_LIB_CC_COMPAT_H) */
