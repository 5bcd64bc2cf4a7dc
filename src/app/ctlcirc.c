/**
 * @file ctlcirc.c
 * @brief Circuits a controller asks for (EXTENDCIRCUIT, control-spec
 * §3.10): with a path, the hops are the controller's; with none, chive
 * picks an exit path as for its own circuits.  The control port does not
 * own these circuits beyond their launch: it names them by CircuitID,
 * streams reach them with ATTACHSTREAM, CLOSECIRCUIT closes them.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "app/circbuild.h"
#include "app/client_st.h"
#include "app/control_int.h"

/** Port used to pick an exit for "EXTENDCIRCUIT 0" (tor predicts port 80
 * for a fresh client too). */
#define CTLCIRC_DEFAULT_PORT 80

/** No callbacks: the circuit lives on its own until it is closed. */
static const ocirc_events_t ctlcirc_events = {NULL, NULL, NULL};

chive_err_t
control_launch_path(control_t *ctl, const circuit_hop_info_t *hops,
                    size_t n_hops, uint32_t *id_out)
{
  chive_client_t *c = ctl->c;
  if (!c->circmgr || n_hops == 0 || !hops[0].has_ipv4)
    return CHIVE_ERR_INVAL;
  channel_target_t first;
  memset(&first, 0, sizeof(first));
  uint32_t ip = ((uint32_t)hops[0].ipv4[0] << 24) |
                ((uint32_t)hops[0].ipv4[1] << 16) |
                ((uint32_t)hops[0].ipv4[2] << 8) | hops[0].ipv4[3];
  net_addr_from_ipv4(&first.addr.addr, ip);
  first.addr.port = hops[0].ipv4_port;
  memcpy(first.rsa_id, hops[0].rsa_id, sizeof(first.rsa_id));
  first.has_ed_id = hops[0].has_ed_id;
  if (hops[0].has_ed_id)
    memcpy(first.ed_id, hops[0].ed_id, sizeof(first.ed_id));
  ocirc_t *oc = NULL;
  chive_err_t e = circmgr_launch(c->circmgr, &first, false, hops, n_hops,
                                 CIRCUIT_PURPOSE_GENERAL, &ctlcirc_events,
                                 NULL, &oc);
  if (e != CHIVE_OK)
    return e;
  *id_out = ocirc_id(oc);
  log_info(c->log, LD_CONTROL, "Controller launched circuit %u (%zu hops).",
           (unsigned)*id_out, n_hops);
  return CHIVE_OK;
}

chive_err_t
control_launch_auto(control_t *ctl, uint32_t *id_out)
{
  chive_client_t *c = ctl->c;
  ocirc_t *oc = NULL;
  chive_err_t e = circbuild_launch_exit(c, CTLCIRC_DEFAULT_PORT,
                                        &ctlcirc_events, NULL, &oc);
  if (e != CHIVE_OK)
    return e;
  *id_out = ocirc_id(oc);
  return CHIVE_OK;
}
