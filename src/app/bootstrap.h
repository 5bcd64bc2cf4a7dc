/**
 * @file bootstrap.h
 * @brief Bootstrap phases as tor reports them (control-spec §5.5.2
 * "Bootstrap events"): percent, tag and summary.
 **/
#ifndef CHIVE_APP_BOOTSTRAP_H
#define CHIVE_APP_BOOTSTRAP_H

typedef enum bootstrap_phase_t {
  BOOT_STARTING = 0,
  BOOT_CONN_PT = 1,
  BOOT_CONN_DONE_PT = 2,
  BOOT_CONN_PROXY = 3,
  BOOT_CONN_DONE_PROXY = 4,
  BOOT_CONN = 5,
  BOOT_CONN_DONE = 10,
  BOOT_HANDSHAKE = 14,
  BOOT_HANDSHAKE_DONE = 15,
  BOOT_ONEHOP_CREATE = 20,
  BOOT_REQUESTING_STATUS = 25,
  BOOT_LOADING_STATUS = 30,
  BOOT_LOADING_KEYS = 40,
  BOOT_REQUESTING_DESCRIPTORS = 45,
  BOOT_LOADING_DESCRIPTORS = 50,
  BOOT_ENOUGH_DIRINFO = 75,
  BOOT_AP_CONN = 80,
  BOOT_AP_CONN_DONE = 85,
  BOOT_AP_HANDSHAKE = 89,
  BOOT_AP_HANDSHAKE_DONE = 90,
  BOOT_CIRCUIT_CREATE = 95,
  BOOT_DONE = 100,
} bootstrap_phase_t;

/** The tag of <b>p</b> ("conn", "requesting_status", ...). */
const char *bootstrap_phase_tag(bootstrap_phase_t p);
/** The human summary of <b>p</b>, as tor words it. */
const char *bootstrap_phase_summary(bootstrap_phase_t p);

#endif /* !defined(CHIVE_APP_BOOTSTRAP_H) */
