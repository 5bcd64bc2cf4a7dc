/**
 * @file bootstrap.c
 * @brief Names of the bootstrap phases (control-spec §5.5.2; the wording
 * matches what tor prints, so scripts and controllers that watch for
 * "Bootstrapped 100% (done): Done" work unchanged).
 **/
#include "app/bootstrap.h"
#include "lib/cc/cc.h"

typedef struct phase_name_t {
  bootstrap_phase_t phase;
  const char *tag;
  const char *summary;
} phase_name_t;

static const phase_name_t phase_names[] = {
    {BOOT_STARTING, "starting", "Starting"},
    {BOOT_CONN_PT, "conn_pt", "Connecting to pluggable transport"},
    {BOOT_CONN_DONE_PT, "conn_done_pt", "Connected to pluggable transport"},
    {BOOT_CONN_PROXY, "conn_proxy", "Connecting to proxy"},
    {BOOT_CONN_DONE_PROXY, "conn_done_proxy", "Connected to proxy"},
    {BOOT_CONN, "conn", "Connecting to a relay"},
    {BOOT_CONN_DONE, "conn_done", "Connected to a relay"},
    {BOOT_HANDSHAKE, "handshake", "Handshaking with a relay"},
    {BOOT_HANDSHAKE_DONE, "handshake_done", "Handshake with a relay done"},
    {BOOT_ONEHOP_CREATE, "onehop_create",
     "Establishing an encrypted directory connection"},
    {BOOT_REQUESTING_STATUS, "requesting_status",
     "Asking for networkstatus consensus"},
    {BOOT_LOADING_STATUS, "loading_status",
     "Loading networkstatus consensus"},
    {BOOT_LOADING_KEYS, "loading_keys", "Loading authority key certs"},
    {BOOT_REQUESTING_DESCRIPTORS, "requesting_descriptors",
     "Asking for relay descriptors"},
    {BOOT_LOADING_DESCRIPTORS, "loading_descriptors",
     "Loading relay descriptors"},
    {BOOT_ENOUGH_DIRINFO, "enough_dirinfo",
     "Loaded enough directory info to build circuits"},
    {BOOT_AP_CONN, "ap_conn", "Connecting to a relay to build circuits"},
    {BOOT_AP_CONN_DONE, "ap_conn_done",
     "Connected to a relay to build circuits"},
    {BOOT_AP_HANDSHAKE, "ap_handshake",
     "Finishing handshake with a relay to build circuits"},
    {BOOT_AP_HANDSHAKE_DONE, "ap_handshake_done",
     "Handshake finished with a relay to build circuits"},
    {BOOT_CIRCUIT_CREATE, "circuit_create", "Establishing a Tor circuit"},
    {BOOT_DONE, "done", "Done"},
};

static const phase_name_t *
find(bootstrap_phase_t p)
{
  for (unsigned i = 0; i < CHIVE_ARRAY_LEN(phase_names); i++)
    if (phase_names[i].phase == p)
      return &phase_names[i];
  return &phase_names[0];
}

const char *
bootstrap_phase_tag(bootstrap_phase_t p)
{
  return find(p)->tag;
}

const char *
bootstrap_phase_summary(bootstrap_phase_t p)
{
  return find(p)->summary;
}
