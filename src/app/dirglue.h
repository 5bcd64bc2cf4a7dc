/**
 * @file dirglue.h
 * @brief The client's directory loop (dirmgr + dirclient + bootstrap
 * phases).
 **/
#ifndef CHIVE_APP_DIRGLUE_H
#define CHIVE_APP_DIRGLUE_H

#include "app/client_st.h"

/** Create the directory manager and client, load the cache, and start
 * polling.  c->circmgr must exist. */
CHIVE_MUST_CHECK chive_err_t dirglue_start(chive_client_t *c);
/** Stop polling and free the directory objects (no callbacks). */
void dirglue_stop(chive_client_t *c);

#endif /* !defined(CHIVE_APP_DIRGLUE_H) */
