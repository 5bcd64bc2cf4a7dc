/**
 * @file chive_dirfetch.c
 * @brief Integration test program: fetch directory documents from a real
 * tor relay over a one-hop CREATE_FAST circuit and a BEGIN_DIR stream
 * (channel → circmgr → circuit → stream → HTTP → decompress).
 *
 *   chive_dirfetch NETWORK_JSON_DIR
 *
 * Reads $DIR/client/torrc-dirauth for the authorities, fetches from each
 * authority's ORPort the microdesc consensus and the authority
 * certificates, checks status 200 and that the bodies look like the
 * documents asked for, and prints timings.  Exit 0 on success.
 **/
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/circmgr/circmgr.h"
#include "feature/dir/dirauth.h"
#include "feature/dir/dirclient.h"
#include "lib/crypto/crypto_init.h"
#include "lib/fs/fs.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"

typedef struct fetch_t {
  const char *path;
  const char *expect; /**< body must start with this */
  int done;
  int ok;
} fetch_t;

static int n_pending;
static struct event_base *base;

static void
on_log(chive_log_severity_t sev, const char *domain, const char *msg,
       void *arg)
{
  (void)arg;
  fprintf(stderr, "[%s] %s: %s\n", chive_log_severity_name(sev), domain,
          msg);
}

static void
on_done(dirreq_t *req, const dirreq_result_t *res, void *arg)
{
  fetch_t *f = arg;
  (void)req;
  f->done = 1;
  if (res->err == CHIVE_OK && res->http_status == 200 &&
      res->body_len >= strlen(f->expect) &&
      !memcmp(res->body, f->expect, strlen(f->expect))) {
    f->ok = 1;
    printf("OK   %-45s status %d, %zu bytes (%llu on the wire), %llu ms\n",
           f->path, res->http_status, res->body_len,
           (unsigned long long)res->wire_bytes,
           (unsigned long long)res->elapsed_ms);
  } else {
    printf("FAIL %-45s err=%s (%s) status=%d len=%zu\n", f->path,
           chive_err_str(res->err), res->why ? res->why : "",
           res->http_status, res->body_len);
  }
  if (--n_pending == 0)
    event_base_loopexit(base, NULL);
}

int
main(int argc, char **argv)
{
  const char *dir = argc > 1 ? argv[1] : getenv("CHIVE_TESTNET_DIR");
  if (!dir) {
    fprintf(stderr, "usage: %s TESTNET_DIR (or set CHIVE_TESTNET_DIR)\n",
            argv[0]);
    return 2;
  }
  char path[1024];
  snprintf(path, sizeof(path), "%s/client/torrc-dirauth", dir);
  uint8_t *text = NULL;
  size_t len = 0;
  if (fs_read_file(path, 1 << 20, &text, &len) != CHIVE_OK) {
    fprintf(stderr, "cannot read %s\n", path);
    return 1;
  }
  dir_server_t auths[DIR_MAX_AUTHORITIES];
  size_t n_auth = 0;
  char *save = (char *)text;
  for (char *line = save; line && *line && n_auth < DIR_MAX_AUTHORITIES;) {
    char *nl = strchr(line, '\n');
    if (nl)
      *nl = 0;
    if (!strncmp(line, "DirAuthority ", 13)) {
      const char *why = "";
      if (dir_server_parse_authority(line + 13, &auths[n_auth], &why) !=
          CHIVE_OK) {
        fprintf(stderr, "bad line %s: %s\n", line, why);
        return 1;
      }
      n_auth++;
    }
    line = nl ? nl + 1 : NULL;
  }
  chive_free(text);
  if (!n_auth) {
    fprintf(stderr, "no DirAuthority lines\n");
    return 1;
  }
  if (crypto_global_init() != CHIVE_OK)
    return 1;
  base = event_base_new();
  evloop_t *loop = NULL;
  logger_t *lg = logger_new();
  circmgr_t *cm = NULL;
  dirclient_t *dc = NULL;
  logger_set_sink(lg, on_log, NULL);
  logger_set_severity(lg, LD_ALL, getenv("CHIVE_DEBUG") ? CHIVE_LOG_DEBUG
                                                        : CHIVE_LOG_NOTICE);
  circmgr_config_t cc;
  memset(&cc, 0, sizeof(cc));
  if (evloop_new(base, &loop) != CHIVE_OK)
    return 1;
  cc.loop = loop;
  cc.log = lg;
  circuit_params_default(&cc.params);
  if (circmgr_new(&cc, &cm) != CHIVE_OK ||
      dirclient_new(cm, loop, lg, &dc) != CHIVE_OK) {
    fprintf(stderr, "setup failed\n");
    return 1;
  }
  fetch_t fetches[DIR_MAX_AUTHORITIES * 2];
  size_t n_f = 0;
  dirreq_callbacks_t cbs = {on_done, NULL};
  for (size_t i = 0; i < n_auth; i++) {
    fetches[n_f] = (fetch_t){"/tor/status-vote/current/consensus-microdesc",
                             "network-status-version 3 microdesc", 0, 0};
    fetches[n_f + 1] =
        (fetch_t){"/tor/keys/all", "dir-key-certificate-version 3", 0, 0};
    for (int k = 0; k < 2; k++) {
      if (dirclient_fetch(dc, &auths[i], fetches[n_f].path, 0, 30000, &cbs,
                          &fetches[n_f], NULL) != CHIVE_OK) {
        fprintf(stderr, "fetch launch failed\n");
        return 1;
      }
      n_pending++;
      n_f++;
    }
  }
  event_base_dispatch(base);
  int n_ok = 0;
  for (size_t i = 0; i < n_f; i++)
    n_ok += fetches[i].ok;
  printf("channels used: %zu (one per authority, reused by both requests)\n",
         channel_mgr_n_channels(circmgr_channels(cm)));
  dirclient_free(dc);
  circmgr_free(cm);
  evloop_free(loop);
  logger_free(lg);
  event_base_free(base);
  printf("%d passed, %d failed\n", n_ok, (int)n_f - n_ok);
  return n_ok == (int)n_f ? 0 : 1;
}
