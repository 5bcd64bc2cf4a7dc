/**
 * @file chive.h
 * @brief Umbrella header for libchive, an embeddable Tor client.
 *
 * Threading contract: one chive_client_t per thread; every call on the
 * thread that dispatches the client's event_base.
 **/
#ifndef CHIVE_CHIVE_H
#define CHIVE_CHIVE_H

#include "chive/client.h"
#include "chive/config.h"
#include "chive/error.h"
#include "chive/export.h"
#include "chive/log.h"
#include "chive/version.h"

#endif /* !defined(CHIVE_CHIVE_H) */
