/**
 * @file control.h
 * @brief The control port (ControlPort, ControlSocket; control-spec).
 **/
#ifndef CHIVE_APP_CONTROL_H
#define CHIVE_APP_CONTROL_H

#include <stdbool.h>
#include <stddef.h>

#include "chive/error.h"
#include "lib/cc/cc.h"

typedef struct chive_client_t chive_client_t;

/** Open the configured control listeners (none configured: no-op). */
CHIVE_MUST_CHECK chive_err_t control_start(chive_client_t *c);
/** The name of open control listener <b>i</b> ("127.0.0.1:9051"; a Unix
 * socket's path with *<b>is_unix</b> set), or NULL past the end. */
const char *control_listener_name(const chive_client_t *c, size_t i,
                                  bool *is_unix);

/** Close listeners and connections. */
void control_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_CONTROL_H) */
