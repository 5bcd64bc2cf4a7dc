/* Unit tests for app/config: option table, validation, torrc loading. */
#include "app/config_int.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static void
test_defaults_and_set(void)
{
  char err[256];
  chive_config_t *c = chive_config_new();
  T_ASSERT(c);
  T_EQ_STR(chive_config_get(c, "socksport", 0), "9050");
  T_ASSERT(config_get_bool(c, OPT_ENFORCE_DISTINCT_SUBNETS));
  T_EQ_INT(config_get_interval_s(c, OPT_MAX_CIRCUIT_DIRTINESS), 600);
  T_OK(chive_config_set(c, "MaxCircuitDirtiness", "2 hours", err,
                        sizeof(err)));
  T_EQ_INT(config_get_interval_s(c, OPT_MAX_CIRCUIT_DIRTINESS), 7200);
  T_OK(chive_config_set(c, "enforcedistinctsubnets", "0", err, sizeof(err)));
  T_ASSERT(!config_get_bool(c, OPT_ENFORCE_DISTINCT_SUBNETS));
  T_OK(chive_config_set(c, "MaxMemInQueues", "64 MB", err, sizeof(err)));
  T_EQ_UINT(config_get_bytes(c, OPT_MAX_MEM_IN_QUEUES), 64u << 20);
  T_OK(chive_config_set(c, "NumEntryGuards", "3", err, sizeof(err)));
  T_EQ_INT(config_get_int(c, OPT_NUM_ENTRY_GUARDS), 3);
  T_OK(chive_config_set(c, "PathsNeededToBuildCircuits", "0.67", err,
                        sizeof(err)));
  T_ASSERT(config_get_double(c, OPT_PATHS_NEEDED_TO_BUILD_CIRCUITS) > 0.66);
  /* Repeating options accumulate; single ones replace. */
  T_OK(chive_config_set(c, "DirAuthority", "a", err, sizeof(err)));
  T_OK(chive_config_set(c, "DirAuthority", "b", err, sizeof(err)));
  T_EQ_UINT(config_n_values(c, OPT_DIR_AUTHORITY), 2);
  T_EQ_STR(config_value(c, OPT_DIR_AUTHORITY, 1), "b");
  T_OK(chive_config_set(c, "DataDirectory", "/x", err, sizeof(err)));
  T_OK(chive_config_set(c, "DataDirectory", "/y", err, sizeof(err)));
  T_EQ_STR(config_get_str(c, OPT_DATA_DIRECTORY), "/y");
  T_OK(chive_config_reset(c, "DirAuthority"));
  T_EQ_UINT(config_n_values(c, OPT_DIR_AUTHORITY), 0);
done:
  chive_config_free(c);
}

static void
test_bad_values(void)
{
  char err[256];
  chive_config_t *c = chive_config_new();
  T_ASSERT(c);
  T_EQ_INT(chive_config_set(c, "NoSuchOption", "1", err, sizeof(err)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(err, "NoSuchOption") != NULL);
  static const char *bad[][2] = {
      {"EnforceDistinctSubnets", "yes"}, {"NumEntryGuards", "11"},
      {"NumEntryGuards", "-1"},          {"NumEntryGuards", "3x"},
      {"MaxCircuitDirtiness", "5 fortnights"},
      {"MaxCircuitDirtiness", "0"},      {"MaxMemInQueues", "12 parsecs"},
      {"DataDirectory", ""},             {"PathsNeededToBuildCircuits", "2"},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    T_EQ_INT(chive_config_set(c, bad[i][0], bad[i][1], err, sizeof(err)),
             CHIVE_ERR_INVAL);
    T_ASSERT(strstr(err, "Bad value") != NULL);
  }
  /* A failed set leaves the option as it was. */
  T_EQ_INT(config_get_int(c, OPT_NUM_ENTRY_GUARDS), 0);
done:
  chive_config_free(c);
}

static void
test_load_text(void)
{
  char err[256];
  chive_config_t *c = chive_config_new(), *d = NULL;
  const char *text = "# a comment\n"
                     "SocksPort 9150\n"
                     "DataDirectory \"/tmp/with space\"\n"
                     "DirAuthority a0 orport=1 \\\n"
                     "  v3ident=X 127.0.0.1:2 FP\n"
                     "Log notice stdout\n"
                     "Log info file /tmp/x.log\n";
  T_ASSERT(c);
  T_OK(chive_config_load_text(c, text, strlen(text), err, sizeof(err)));
  T_EQ_STR(chive_config_get(c, "SocksPort", 0), "9150");
  T_EQ_STR(config_get_str(c, OPT_DATA_DIRECTORY), "/tmp/with space");
  T_EQ_UINT(config_n_values(c, OPT_LOG), 2);
  T_ASSERT(strstr(config_value(c, OPT_DIR_AUTHORITY, 0), "v3ident=X") != NULL);
  d = chive_config_dup(c);
  T_ASSERT(d);
  T_EQ_STR(chive_config_get(d, "Log", 1), "info file /tmp/x.log");
  /* Errors name the line. */
  const char *bad = "SocksPort 9050\n\nFrobnicate 1\n";
  T_EQ_INT(chive_config_load_text(d, bad, strlen(bad), err, sizeof(err)),
           CHIVE_ERR_NOTFOUND);
  T_ASSERT(strstr(err, "line 3") != NULL);
  const char *bad2 = "NumEntryGuards 99\n";
  T_EQ_INT(chive_config_load_text(d, bad2, strlen(bad2), err, sizeof(err)),
           CHIVE_ERR_INVAL);
  T_ASSERT(strstr(err, "line 1") != NULL);
  const char *bad3 = "DataDirectory \"unterminated\n";
  T_ASSERT(chive_config_load_text(d, bad3, strlen(bad3), err, sizeof(err)) !=
           CHIVE_OK);
  T_ASSERT(strstr(err, "line 1") != NULL);
done:
  chive_config_free(c);
  chive_config_free(d);
}

static void
test_oom(void)
{
  const char *text = "SocksPort 9150\nDirAuthority x\nDirAuthority y\n";
  for (uint64_t k = 1; k < 40; k++) {
    chive_config_t *c = chive_config_new();
    if (!c)
      continue;
    chive_mem_fail_nth(k, false);
    chive_err_t e = chive_config_load_text(c, text, strlen(text), NULL, 0);
    chive_config_t *d = chive_config_dup(c);
    chive_mem_fail_nth(0, false);
    T_ASSERT(e == CHIVE_OK || e == CHIVE_ERR_NOMEM);
    chive_config_free(c);
    chive_config_free(d);
  }
done:
  chive_mem_fail_nth(0, false);
}

static const t_case cases[] = {
    T_CASE(test_defaults_and_set), T_CASE(test_bad_values),
    T_CASE(test_load_text),        T_CASE(test_oom),
    T_END,
};
T_MAIN(cases)
