/**
 * @file client_st.h
 * @brief The fields of chive_client_t, for the app tier's files only.
 **/
#ifndef CHIVE_APP_CLIENT_ST_H
#define CHIVE_APP_CLIENT_ST_H

#include <stdbool.h>

#include "app/bootstrap.h"
#include "app/events.h"
#include "chive/client.h"
#include "core/circmgr/circmgr.h"
#include "feature/dir/dirauth.h"
#include "feature/dir/dirclient.h"
#include "feature/circpool/cbt.h"
#include "feature/circpool/circpool.h"
#include "feature/dir/dirmgr.h"
#include "feature/nodes/guards.h"
#include "feature/nodes/nodelist.h"
#include "feature/nodes/path.h"
#include "lib/container/list.h"
#include "lib/evloop/evloop.h"
#include "lib/fs/fs.h"
#include "lib/log/log.h"
#include "lib/time/clock.h"

struct event_base;
struct event;
struct streams_t;
struct control_t;
struct metricsglue_t;

/** Relays left out of paths after failed extensions (see circbuild.c). */
#define CLIENT_MAX_AVOID 16

struct chive_client_t {
  chive_config_t *cfg;       /**< owned copy */
  struct event_base *base;   /**< borrowed from the embedder */
  evloop_t *loop;            /**< owned wrapper around base */
  const chive_clock_t *clock; /**< borrowed (system clock) */
  logger_t *log;             /**< owned */
  chive_bootstrap_cb boot_cb;
  void *boot_arg;
  chive_signal_cb signal_cb;  /**< embedder's SIGNAL handler */
  void *signal_arg;
  char pending_signal[16];    /**< delivered from signal_event */
  struct event *signal_event;
  bootstrap_phase_t boot_phase;
  struct event *boot_event;  /**< deferred bootstrap callback */
  bool started;
  bool stopped;
  bool network_started;      /**< directory fetching runs (not
                              * DisableNetwork) */
  bool testing_network;
  char data_dir[FS_MAX_PATH_LEN]; /**< "" = no DataDirectory */
  dir_server_t authorities[DIR_MAX_AUTHORITIES];
  size_t n_authorities;
  dir_server_t *fallbacks;   /**< owned array, n_fallbacks entries */
  size_t n_fallbacks;
  circmgr_t *circmgr;        /**< owned: channels and circuits */
  dirmgr_t *dirmgr;          /**< owned: directory state */
  dirclient_t *dirclient;    /**< owned: directory requests */
  chive_list_t dir_reqs;     /**< dirglue's requests in flight */
  evloop_timer_t *dir_timer; /**< drives dirmgr_poll */
  nodelist_t *nodelist;      /**< owned; rebuilt on directory changes */
  ocirc_t *boot_circ;        /**< the bootstrap circuit, if any */
  evloop_timer_t *boot_timer; /**< retries the bootstrap circuit */
  uint64_t boot_circ_delay_ms;
  unsigned boot_circ_failures;
  guards_t *guards;          /**< owned: entry guards (guard-spec) */
  chive_list_t exit_circs;   /**< exitcirc_t (circbuild.c) in flight/open */
  uint8_t last_guard[20];    /**< guard of the last launched circuit */
  uint8_t last_exit[20];     /**< exit of the last launched circuit */
  circpool_t *pool;          /**< owned: preemptive circuit policy */
  evloop_timer_t *pool_timer; /**< runs the pool policy */
  chive_list_t pooled;       /**< pooled_t (pool.c) */
  cbt_t cbt;                 /**< circuit build timeout learning */
  unsigned cbt_unsaved;      /**< build times since the last state save */
  struct {
    uint8_t id[20];
    int64_t until;           /**< wall seconds; 0 = unused */
  } avoid[CLIENT_MAX_AVOID];
  cev_hub_t events;          /**< internal event hub (events.h) */
  chive_log_cb user_log_cb;  /**< the embedder's log sink (config) */
  void *user_log_arg;
  chive_log_severity_t user_log_max; /**< its threshold */
  chive_log_severity_t ctl_log_max;  /**< threshold wanted by CEV_LOG
                                      * subscribers (set by control.c;
                                      * call client_log_update() after) */
  struct streams_t *streams; /**< owned: listeners + app streams */
  struct control_t *control; /**< owned: control port (control.c) */
  struct metricsglue_t *metrics; /**< owned: metrics (metricsglue.c) */
};

/** Record progress: log "Bootstrapped N% (tag): summary" at NOTICE the
 * first time each phase is reached (phases only move forward) and
 * schedule the embedder's callback. */
void client_bootstrap_reached(chive_client_t *c, bootstrap_phase_t p);

/** A controller sent SIGNAL <b>name</b> ("RELOAD", "SHUTDOWN",
 * "HALT"): hand it to the embedder's callback from the loop.  Returns
 * false if the embedder installed no handler. */
bool client_deliver_signal(chive_client_t *c, const char *name);

/** Recompute the logger's threshold from the embedder's and the control
 * port's (ctl_log_max). */
void client_log_update(chive_client_t *c);

#endif /* !defined(CHIVE_APP_CLIENT_ST_H) */
