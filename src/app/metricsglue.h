/**
 * @file metricsglue.h
 * @brief The client's Prometheus metrics (MetricsPort).
 **/
#ifndef CHIVE_APP_METRICSGLUE_H
#define CHIVE_APP_METRICSGLUE_H

#include "chive/error.h"
#include "lib/cc/cc.h"

typedef struct chive_client_t chive_client_t;

/** Register the metrics and open MetricsPort if configured. */
CHIVE_MUST_CHECK chive_err_t metricsglue_start(chive_client_t *c);
/** Close the listener and free the registry. */
void metricsglue_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_METRICSGLUE_H) */
