/* Unit tests for app/client: creation, failure paths, teardown (no
 * network: a client that is never started, or started and stopped at
 * once with no reachable authority). */
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <stdlib.h>

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

static const t_case cases[] = {
    T_CASE(test_bad_config_fails_cleanly),
    T_CASE(test_new_free_without_start),
    T_END,
};
T_MAIN(cases)
