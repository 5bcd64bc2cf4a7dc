/**
 * @file pool.h
 * @brief The client's circuit pool: preemptive exit circuits for the
 * ports it predicts, kept by feature/circpool's policy (min/max clean
 * circuits, dirtiness expiry, replacement of failed or closed ones).
 **/
#ifndef CHIVE_APP_POOL_H
#define CHIVE_APP_POOL_H

#include "app/client_st.h"

/** Create the pool and its periodic timer. */
CHIVE_MUST_CHECK chive_err_t pool_start(chive_client_t *c);
/** Close every pooled circuit and free the pool. */
void pool_stop(chive_client_t *c);
/** Run the pool's policy now (launch/close what it says). */
void pool_tick(chive_client_t *c);
/** Number of open pooled circuits (for tests and metrics). */
size_t pool_n_open(const chive_client_t *c);
/** Close one open pooled circuit as if it had failed (tests). Returns
 * false if there is none. */
bool pool_close_one(chive_client_t *c);

#endif /* !defined(CHIVE_APP_POOL_H) */
