/**
 * @file config.h
 * @brief chive_config_t: the client's configuration, set by option name
 * (tor's torrc names) or loaded from torrc-style text.
 *
 * Options use the names a Tor user already knows (SocksPort,
 * DataDirectory, DirAuthority, Log, ...), matched case-insensitively.
 * Setting an unknown option or a malformed value is an error, never
 * silently ignored.  Options that may appear several times (DirAuthority,
 * Log, SocksPort, ...) accumulate; chive_config_reset() clears them.
 *
 * A config is a plain value: chive_client_new() copies it, and the caller
 * may free it afterwards.
 **/
#ifndef CHIVE_CONFIG_H
#define CHIVE_CONFIG_H

#include <stddef.h>

#include "chive/error.h"
#include "chive/export.h"
#include "chive/log.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct chive_config_t chive_config_t;

/** Return a configuration holding every option's default; NULL on OOM.
 * Free with chive_config_free(). */
CHIVE_API chive_config_t *chive_config_new(void);
/** Free <b>cfg</b>; NULL is a no-op. */
CHIVE_API void chive_config_free(chive_config_t *cfg);
/** Return a deep copy of <b>cfg</b>, or NULL on OOM. */
CHIVE_API chive_config_t *chive_config_dup(const chive_config_t *cfg);

/** Set option <b>name</b> to <b>value</b> (validated).  For options that
 * may repeat, append.  On failure <b>cfg</b> is unchanged and, if
 * <b>err</b> is non-NULL, a message is written there (<b>err_len</b>
 * bytes, NUL-terminated).  CHIVE_ERR_NOTFOUND for an unknown option,
 * CHIVE_ERR_INVAL for a bad value. */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_config_set(chive_config_t *cfg,
                                                        const char *name,
                                                        const char *value,
                                                        char *err,
                                                        size_t err_len);
/** Return option <b>name</b> to its default (clearing every value of a
 * repeating option). */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_config_reset(chive_config_t *cfg,
                                                          const char *name);
/** Load torrc-style text: "Option value" lines, '#' comments, line
 * continuations with a trailing backslash, quoted values.  Stops at the
 * first error, writing "line N: why" into <b>err</b>; options set by
 * earlier lines stay set (load into a fresh config to be atomic). */
CHIVE_API CHIVE_MUST_CHECK chive_err_t chive_config_load_text(
    chive_config_t *cfg, const char *text, size_t len, char *err,
    size_t err_len);

/** Return the value of single-valued option <b>name</b> as text (the
 * n-th value, from 0, for a repeating one), or NULL if unset / no such
 * value.  Borrowed: valid until <b>cfg</b> changes. */
CHIVE_API const char *chive_config_get(const chive_config_t *cfg,
                                       const char *name, size_t n);

/** Send the client's log messages to <b>cb</b>.  Severities above
 * <b>max</b> (i.e. less severe) are dropped; Log options refine this per
 * domain. */
CHIVE_API void chive_config_set_log_cb(chive_config_t *cfg, chive_log_cb cb,
                                       void *arg,
                                       chive_log_severity_t max);

/** Number of options chive knows, and the name of option <b>i</b>
 * (for GETINFO config/names and --list-options). */
CHIVE_API size_t chive_config_n_options(void);
CHIVE_API const char *chive_config_option_name(size_t i);

#ifdef __cplusplus
}
#endif

#endif /* !defined(CHIVE_CONFIG_H) */
