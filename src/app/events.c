/**
 * @file events.c
 * @brief The client's internal event hub (see events.h).
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "app/client_st.h"
#include "app/events.h"
#include "lib/err/err.h"

chive_err_t
cev_subscribe(cev_hub_t *hub, cev_fn fn, void *arg, uint32_t mask)
{
  if (BUG(!hub || !fn))
    return CHIVE_ERR_INVAL;
  size_t i;
  for (i = 0; i < hub->n_subs; i++)
    if (hub->subs[i].fn == fn && hub->subs[i].arg == arg)
      break;
  if (i == hub->n_subs) {
    if (hub->n_subs >= CEV_MAX_SUBSCRIBERS)
      return CHIVE_ERR_LIMIT;
    hub->n_subs++;
  }
  hub->subs[i].fn = fn;
  hub->subs[i].arg = arg;
  hub->subs[i].mask = mask;
  hub->any_mask = 0;
  for (size_t j = 0; j < hub->n_subs; j++)
    hub->any_mask |= hub->subs[j].mask;
  return CHIVE_OK;
}

void
cev_unsubscribe(cev_hub_t *hub, cev_fn fn, void *arg)
{
  if (!hub)
    return;
  for (size_t i = 0; i < hub->n_subs; i++) {
    if (hub->subs[i].fn == fn && hub->subs[i].arg == arg) {
      memmove(&hub->subs[i], &hub->subs[i + 1],
              (hub->n_subs - i - 1) * sizeof(hub->subs[0]));
      hub->n_subs--;
      break;
    }
  }
  hub->any_mask = 0;
  for (size_t j = 0; j < hub->n_subs; j++)
    hub->any_mask |= hub->subs[j].mask;
}

bool
cev_wanted(const cev_hub_t *hub, cev_type_t type)
{
  return hub && (hub->any_mask & (1u << type)) != 0;
}

void
cev_emit(cev_hub_t *hub, const cev_t *ev)
{
  if (!hub || !ev || !cev_wanted(hub, ev->type))
    return;
  /* A subscriber may unsubscribe from inside its callback: walk a copy. */
  size_t n = hub->n_subs;
  struct {
    cev_fn fn;
    void *arg;
    uint32_t mask;
  } subs[CEV_MAX_SUBSCRIBERS];
  memcpy(subs, hub->subs, n * sizeof(subs[0]));
  for (size_t i = 0; i < n; i++)
    if (subs[i].mask & (1u << ev->type))
      subs[i].fn(ev, subs[i].arg);
}

/* ---- the core's observer: circuits and channels ----------------------- */

static void
obs_circ(ocirc_t *oc, circmgr_circ_ev_t what, uint8_t reason, bool remote,
         void *arg)
{
  chive_client_t *c = arg;
  cev_type_t t =
      what == CIRCMGR_CIRC_PURPOSE_CHANGED ? CEV_CIRC_MINOR : CEV_CIRC;
  if (!cev_wanted(&c->events, t))
    return;
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = t;
  ev.circ = oc;
  ev.status = (int)what;
  ev.reason = reason;
  ev.remote = remote;
  cev_emit(&c->events, &ev);
}

static void
obs_chan(channel_t *ch, circmgr_chan_ev_t what, int reason, void *arg)
{
  chive_client_t *c = arg;
  if (!cev_wanted(&c->events, CEV_ORCONN))
    return;
  cev_t ev;
  memset(&ev, 0, sizeof(ev));
  ev.type = CEV_ORCONN;
  ev.chan = ch;
  ev.status = (int)what;
  ev.reason = (uint8_t)reason;
  cev_emit(&c->events, &ev);
}

chive_err_t
client_events_init(chive_client_t *c)
{
  /* circmgr has one observer slot: the hub fans out to every
   * subscriber (control port, metrics). */
  circmgr_observer_t obs = {obs_circ, obs_chan};
  circmgr_set_observer(c->circmgr, &obs, c);
  return CHIVE_OK;
}

chive_err_t
client_events_start(chive_client_t *c)
{
  (void)c;
  return CHIVE_OK;
}

void
client_events_stop(chive_client_t *c)
{
  if (c->circmgr)
    circmgr_set_observer(c->circmgr, NULL, NULL);
}
