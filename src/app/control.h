/**
 * @file control.h
 * @brief The control port (ControlPort, ControlSocket; control-spec).
 **/
#ifndef CHIVE_APP_CONTROL_H
#define CHIVE_APP_CONTROL_H

#include "chive/error.h"
#include "lib/cc/cc.h"

typedef struct chive_client_t chive_client_t;

/** Open the configured control listeners (none configured: no-op). */
CHIVE_MUST_CHECK chive_err_t control_start(chive_client_t *c);
/** Close listeners and connections. */
void control_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_CONTROL_H) */
