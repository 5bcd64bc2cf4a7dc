/* Unit tests for app/client: creation, failure paths, teardown (no
 * network: a client that is never started, or started and stopped at
 * once with no reachable authority). */
#include "lib/cc/compat.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "chive/chive.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static void
test_bad_config_fails_cleanly(void)
{
  struct event_base *base = event_base_new();
  chive_config_t *cfg = chive_config_new();
  chive_client_t *c = NULL;
  char err[256] = "";
  T_ASSERT(base && cfg);
  T_OK(chive_config_set(cfg, "DirAuthority", "junk line", err, sizeof(err)));
  T_EQ_INT(chive_client_new(cfg, base, &c, err, sizeof(err)),
           CHIVE_ERR_INVAL);
  T_ASSERT(c == NULL);
  T_ASSERT(strstr(err, "Bad DirAuthority line") != NULL);
  T_OK(chive_config_reset(cfg, "DirAuthority"));
  T_OK(chive_config_set(cfg, "DataDirectory", "/proc/nonexistent/chive", err,
                        sizeof(err)));
  T_ASSERT(chive_client_new(cfg, base, &c, err, sizeof(err)) != CHIVE_OK);
  T_ASSERT(c == NULL);
  T_ASSERT(strstr(err, "DataDirectory") != NULL);
  T_EQ_INT(chive_client_new(NULL, base, &c, err, sizeof(err)),
           CHIVE_ERR_INVAL);
done:
  chive_client_free(c);
  chive_config_free(cfg);
  if (base)
    event_base_free(base);
}

static void
test_new_free_without_start(void)
{
  struct event_base *base = event_base_new();
  chive_config_t *cfg = chive_config_new();
  chive_client_t *c = NULL;
  char err[256] = "";
  T_ASSERT(base && cfg);
  T_OK(chive_client_new(cfg, base, &c, err, sizeof(err)));
  T_EQ_INT(chive_client_bootstrap_percent(c), 0);
  chive_client_stop(c);
  chive_client_stop(c);
done:
  chive_client_free(c);
  chive_config_free(cfg);
  if (base)
    event_base_free(base);
}

/** Remove <b>path</b> and the files directly in it. */
static void
rm_flat_dir(const char *path)
{
  DIR *d = opendir(path);
  if (!d)
    return;
  struct dirent *e;
  char f[512];
  while ((e = readdir(d)) != NULL) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    if (snprintf(f, sizeof(f), "%s/%s", path, e->d_name) < (int)sizeof(f))
      (void)unlink(f);
  }
  closedir(d);
  (void)rmdir(path);
}

/** Connect to "127.0.0.1:PORT"; true if something accepts. */
static bool
can_connect(const char *addrport)
{
  const char *colon = strrchr(addrport, ':');
  if (!colon)
    return false;
  struct sockaddr_in sa;
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons((uint16_t)strtoul(colon + 1, NULL, 10));
  sa.sin_addr.s_addr = htonl(0x7f000001u);
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  bool ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
  close(fd);
  return ok;
}

static void
test_listeners_auto_ports(void)
{
  /* A started client with every listener on "auto" and the network
   * disabled: chive_client_listener() names the real ports, and they
   * accept connections.  Nothing leaves 127.0.0.1. */
  struct event_base *base = event_base_new();
  chive_config_t *cfg = chive_config_new();
  chive_client_t *c = NULL;
  char err[256] = "", dir[] = "/tmp/chive-test-client-XXXXXX";
  char buf[128];
  T_ASSERT(base && cfg && mkdtemp(dir));
  T_OK(chive_config_set(cfg, "DataDirectory", dir, err, sizeof(err)));
  T_OK(chive_config_set(cfg, "DisableNetwork", "1", err, sizeof(err)));
  T_OK(chive_config_set(cfg, "SocksPort", "auto", err, sizeof(err)));
  T_OK(chive_config_set(cfg, "SocksPort", "127.0.0.1:auto IsolateDestAddr",
                        err, sizeof(err)));
  T_OK(chive_config_set(cfg, "HTTPTunnelPort", "auto", err, sizeof(err)));
  T_OK(chive_config_set(cfg, "ControlPort", "auto", err, sizeof(err)));
  T_OK(chive_config_set(cfg, "MetricsPort", "127.0.0.1:auto", err,
                        sizeof(err)));
  T_OK(chive_client_new(cfg, base, &c, err, sizeof(err)));
  T_ASSERT(chive_client_listener(c, "socks", 0, buf, sizeof(buf)) == NULL);
  T_OK(chive_client_start(c));
  static const char *kinds[] = {"socks", "socks", "httptunnel", "control",
                                "metrics"};
  static const size_t idx[] = {0, 1, 0, 0, 0};
  char first[128] = "";
  for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
    const char *a = chive_client_listener(c, kinds[k], idx[k], buf,
                                          sizeof(buf));
    T_ASSERT(a != NULL);
    T_ASSERT(strncmp(a, "127.0.0.1:", 10) == 0);
    T_ASSERT(strcmp(a, "127.0.0.1:0") != 0);
    T_ASSERT(can_connect(a));
    if (k == 0)
      memcpy(first, a, strlen(a) + 1);
    else if (k == 1)
      T_ASSERT(strcmp(first, a) != 0);
  }
  T_ASSERT(chive_client_listener(c, "socks", 2, buf, sizeof(buf)) == NULL);
  T_ASSERT(chive_client_listener(c, "control", 1, buf, sizeof(buf)) == NULL);
  T_ASSERT(chive_client_listener(c, "bogus", 0, buf, sizeof(buf)) == NULL);
  T_ASSERT(chive_client_listener(c, "socks", 0, buf, 4) == NULL);
  chive_client_stop(c);
  T_ASSERT(!can_connect(first));
done:
  chive_client_free(c);
  chive_config_free(cfg);
  if (base)
    event_base_free(base);
  rm_flat_dir(dir);
}

static const t_case cases[] = {
    T_CASE(test_bad_config_fails_cleanly),
    T_CASE(test_new_free_without_start),
    T_CASE(test_listeners_auto_ports),
    T_END,
};
T_MAIN(cases)
