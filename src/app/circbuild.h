/**
 * @file circbuild.h
 * @brief The client's general circuits: the node list kept in step with
 * the directory, path selection, and launching three-hop circuits (the
 * bootstrap circuit first, for "Bootstrapped 100% (done)").
 **/
#ifndef CHIVE_APP_CIRCBUILD_H
#define CHIVE_APP_CIRCBUILD_H

#include "app/client_st.h"

/** Create the guards module and load DataDirectory/state. */
CHIVE_MUST_CHECK chive_err_t circbuild_guards_init(chive_client_t *c);

/** Prepare (guards, timers). */
CHIVE_MUST_CHECK chive_err_t circbuild_start(chive_client_t *c);

/** Rebuild the node list after the directory changed (dirmgr event). */
void circbuild_dir_changed(chive_client_t *c);

/** Directory work reached a point where circuits may be possible:
 * build the node list if missing and launch the bootstrap circuit. */
void circbuild_kick(chive_client_t *c);

/** Choose a path for an exit circuit to <b>port</b> and launch it.
 * Callbacks as for circmgr_launch(). */
CHIVE_MUST_CHECK chive_err_t circbuild_launch_exit(chive_client_t *c,
                                                   uint16_t port,
                                                   const ocirc_events_t *ev,
                                                   void *arg, ocirc_t **out);

/** Leave relay <b>rsa_id</b> out of new paths for a while (a circuit
 * failed while extending to it). */
void circbuild_avoid_relay(chive_client_t *c, const uint8_t rsa_id[20]);

/** Free what circbuild holds (node list, bootstrap circuit). */
void circbuild_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_CIRCBUILD_H) */
