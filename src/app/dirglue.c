/**
 * @file dirglue.c
 * @brief The client's directory loop: drives feature/dir/dirmgr (what to
 * fetch, verify, cache) with feature/dir/dirclient (how to fetch), and
 * turns directory progress into tor's bootstrap phases.
 **/
#include "lib/cc/compat.h"

#include <string.h>

#include "app/client_st.h"
#include "app/circbuild.h"
#include "app/config_int.h"
#include "app/dirglue.h"
#include "lib/malloc/malloc.h"

/** Most requests launched per poll. */
#define DIRGLUE_MAX_LAUNCH 8
/** Upper bound on the poll interval, so phase changes show promptly. */
#define DIRGLUE_MAX_POLL_MS 5000

typedef struct glue_req_t {
  chive_client_t *c;
  chive_list_t link; /**< on c->dir_reqs while in flight */
  uint64_t id;
  dirdoc_t kind;
} glue_req_t;

static void schedule_poll(chive_client_t *c, uint64_t delay_ms);

static void
report_dir_phase(chive_client_t *c)
{
  switch (dirmgr_phase(c->dirmgr)) {
  case DIRMGR_NEED_CONSENSUS:
    break;
  case DIRMGR_LOADING_CERTS:
    client_bootstrap_reached(c, BOOT_LOADING_KEYS);
    break;
  case DIRMGR_LOADING_MDS: {
    size_t have = 0, want = 0;
    client_bootstrap_reached(c, BOOT_REQUESTING_DESCRIPTORS);
    dirmgr_md_progress(c->dirmgr, &have, &want);
    if (have > 0)
      client_bootstrap_reached(c, BOOT_LOADING_DESCRIPTORS);
    break;
  }
  case DIRMGR_READY:
    client_bootstrap_reached(c, BOOT_LOADING_DESCRIPTORS);
    break;
  }
  if (dirmgr_have_enough_dir_info(c->dirmgr)) {
    client_bootstrap_reached(c, BOOT_ENOUGH_DIRINFO);
    circbuild_kick(c);
  }
}

/** dirmgr changed what it holds: keep the node list in step. */
static void
on_dir_event(dirmgr_event_t ev, void *arg)
{
  chive_client_t *c = arg;
  if (ev == DIRMGR_EV_CONSENSUS || ev == DIRMGR_EV_MICRODESCS)
    circbuild_dir_changed(c);
}

static void
req_progress(dirreq_t *req, dirreq_stage_t stage, void *arg)
{
  glue_req_t *g = arg;
  chive_client_t *c = g->c;
  (void)req;
  if (g->kind != DIRDOC_CONSENSUS)
    return;
  switch (stage) {
  case DIRREQ_CONNECTING:
    client_bootstrap_reached(c, BOOT_CONN);
    break;
  case DIRREQ_CIRCUIT_OPEN:
    client_bootstrap_reached(c, BOOT_HANDSHAKE_DONE);
    client_bootstrap_reached(c, BOOT_ONEHOP_CREATE);
    break;
  case DIRREQ_SENT:
    client_bootstrap_reached(c, BOOT_REQUESTING_STATUS);
    break;
  case DIRREQ_RECEIVING:
    client_bootstrap_reached(c, BOOT_LOADING_STATUS);
    break;
  }
}

static void
req_done(dirreq_t *req, const dirreq_result_t *res, void *arg)
{
  glue_req_t *g = arg;
  chive_client_t *c = g->c;
  (void)req;
  if (res->err == CHIVE_OK) {
    log_info(c->log, LD_DIR,
             "Directory response %d, %zu bytes (%llu on the wire) in "
             "%llu ms",
             res->http_status, res->body_len,
             (unsigned long long)res->wire_bytes,
             (unsigned long long)res->elapsed_ms);
    dirmgr_request_done(c->dirmgr, g->id, res->http_status, res->body,
                        res->body_len);
  } else {
    log_info(c->log, LD_DIR, "Directory request failed: %s (%s)",
             res->why ? res->why : "", chive_err_str(res->err));
    dirmgr_request_failed(c->dirmgr, g->id, res->err);
  }
  chive_list_remove(&g->link);
  chive_free(g);
  report_dir_phase(c);
  schedule_poll(c, 0);
}

static void
poll_dirmgr(chive_client_t *c)
{
  dirmgr_request_t reqs[DIRGLUE_MAX_LAUNCH];
  size_t n = dirmgr_poll(c->dirmgr, reqs, DIRGLUE_MAX_LAUNCH);
  for (size_t i = 0; i < n; i++) {
    glue_req_t *g = chive_zalloc(sizeof(*g));
    dirreq_callbacks_t cbs = {req_done, req_progress};
    if (!g) {
      dirmgr_request_failed(c->dirmgr, reqs[i].id, CHIVE_ERR_NOMEM);
      continue;
    }
    g->c = c;
    g->id = reqs[i].id;
    g->kind = reqs[i].kind;
    chive_list_add_tail(&c->dir_reqs, &g->link);
    chive_err_t e = dirclient_fetch(c->dirclient, &reqs[i].server,
                                    reqs[i].path, reqs[i].max_len, 0, &cbs, g,
                                    NULL);
    if (e != CHIVE_OK) {
      log_info(c->log, LD_DIR, "Could not launch a directory request: %s",
               chive_err_str(e));
      chive_list_remove(&g->link);
      chive_free(g);
      dirmgr_request_failed(c->dirmgr, reqs[i].id, e);
      continue;
    }
    if (g->kind == DIRDOC_CONSENSUS)
      req_progress(NULL, DIRREQ_CONNECTING, g);
  }
  report_dir_phase(c);
  uint64_t next = dirmgr_next_poll_ms(c->dirmgr);
  schedule_poll(c, next > DIRGLUE_MAX_POLL_MS ? DIRGLUE_MAX_POLL_MS : next);
}

static void
on_poll_timer(evloop_timer_t *t, void *arg)
{
  (void)t;
  poll_dirmgr(arg);
}

static void
schedule_poll(chive_client_t *c, uint64_t delay_ms)
{
  if (!c->dir_timer || c->stopped)
    return;
  if (evloop_timer_is_pending(c->dir_timer) && delay_ms > 0)
    return;
  evloop_timer_cancel(c->dir_timer);
  if (evloop_timer_schedule(c->dir_timer, delay_ms) != CHIVE_OK)
    log_warn(c->log, LD_DIR, "Cannot schedule directory work.");
}

chive_err_t
dirglue_start(chive_client_t *c)
{
  dirmgr_config_t dc;
  memset(&dc, 0, sizeof(dc));
  dc.authorities = c->authorities;
  dc.n_authorities = c->n_authorities;
  dc.fallbacks = c->fallbacks;
  dc.n_fallbacks = c->n_fallbacks;
  dc.cache_dir = c->data_dir[0] ? c->data_dir : NULL;
  dc.log = c->log;
  dc.clock = c->clock;
  dc.testing_network = c->testing_network;
  dc.min_path_fraction =
      config_get_double(c->cfg, OPT_PATHS_NEEDED_TO_BUILD_CIRCUITS);
  dc.on_event = on_dir_event;
  dc.on_event_arg = c;
  chive_err_t e;
  if ((e = dirmgr_new(&dc, &c->dirmgr)) != CHIVE_OK ||
      (e = dirclient_new(c->circmgr, c->loop, c->log, &c->dirclient)) !=
          CHIVE_OK ||
      (e = evloop_timer_new(c->loop, on_poll_timer, c, &c->dir_timer)) !=
          CHIVE_OK)
    return e;
  if (dc.cache_dir && dirmgr_load_cache(c->dirmgr) == CHIVE_OK) {
    circbuild_dir_changed(c);
    report_dir_phase(c);
  }
  schedule_poll(c, 0);
  return CHIVE_OK;
}

void
dirglue_stop(chive_client_t *c)
{
  evloop_timer_free(c->dir_timer);
  dirclient_free(c->dirclient);
  /* Requests still in flight get no completion callback any more. */
  while (c->dir_reqs.next && !chive_list_empty(&c->dir_reqs)) {
    glue_req_t *g = CHIVE_CONTAINER_OF(chive_list_first(&c->dir_reqs),
                                       glue_req_t, link);
    chive_list_remove(&g->link);
    chive_free(g);
  }
  dirmgr_free(c->dirmgr);
}
