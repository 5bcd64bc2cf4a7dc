/* Unit tests for lib/log: thresholds, domains, sink, rate limit, escaping. */
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

typedef struct seen_t {
  int n;
  chive_log_severity_t sev;
  char domain[32];
  char msg[LOG_MSG_MAX_LEN + 1];
} seen_t;

static void
sink(chive_log_severity_t sev, const char *domain, const char *msg,
     void *arg)
{
  seen_t *s = arg;
  s->n++;
  s->sev = sev;
  snprintf(s->domain, sizeof(s->domain), "%s", domain);
  snprintf(s->msg, sizeof(s->msg), "%s", msg);
}

static void
test_thresholds(void)
{
  seen_t s = {0};
  logger_t *lg = logger_new();
  T_ASSERT(lg);
  log_notice(lg, LD_DIR, "no sink yet");
  logger_set_sink(lg, sink, &s);
  log_notice(lg, LD_DIR, "Bootstrapped %d%%", 5);
  T_EQ_INT(s.n, 1);
  T_EQ_STR(s.msg, "Bootstrapped 5%");
  T_EQ_STR(s.domain, "dir");
  log_info(lg, LD_DIR, "hidden");
  T_EQ_INT(s.n, 1);
  logger_set_severity(lg, LD_DIR, CHIVE_LOG_DEBUG);
  log_debug(lg, LD_DIR, "shown %s", "now");
  T_EQ_INT(s.n, 2);
  T_ASSERT(strstr(s.msg, "test_thresholds(): shown now") != NULL);
  log_debug(lg, LD_CIRC, "other domain stays quiet");
  T_EQ_INT(s.n, 2);
  log_warn(lg, LD_CIRC, "warned");
  T_EQ_INT(s.n, 3);
  T_EQ_INT(s.sev, CHIVE_LOG_WARN);
  /* Protocol messages are INFO, named by their non-protocol domain. */
  logger_set_severity(lg, LD_CHANNEL, CHIVE_LOG_INFO);
  log_proto(lg, LD_CHANNEL, "peer sent junk");
  T_EQ_INT(s.n, 4);
  T_EQ_STR(s.domain, "channel");
  T_EQ_UINT(log_domain_from_name("hs"), LD_HS);
  T_EQ_UINT(log_domain_from_name("nope"), 0);
  T_EQ_STR(chive_log_severity_name(CHIVE_LOG_NOTICE), "notice");
  /* A NULL logger is a valid black hole. */
  log_warn(NULL, LD_DIR, "ignored");
done:
  logger_free(lg);
}

static void
test_truncation(void)
{
  seen_t s = {0};
  char big[3000];
  logger_t *lg = logger_new();
  T_ASSERT(lg);
  logger_set_sink(lg, sink, &s);
  memset(big, 'x', sizeof(big) - 1);
  big[sizeof(big) - 1] = 0;
  log_notice(lg, LD_GENERAL, "%s", big);
  T_EQ_UINT(strlen(s.msg), LOG_MSG_MAX_LEN - 1);
  T_ASSERT(strcmp(s.msg + LOG_MSG_MAX_LEN - 6, "[...]") == 0);
done:
  logger_free(lg);
}

static void
test_ratelim(void)
{
  seen_t s = {0};
  ratelim_t rl = RATELIM_INIT(1000);
  logger_t *lg = logger_new();
  T_ASSERT(lg);
  logger_set_sink(lg, sink, &s);
  for (int i = 0; i < 10; i++)
    log_ratelim(lg, &rl, 5000 + (uint64_t)i, CHIVE_LOG_WARN, LD_CIRC,
                "flood %d", i);
  T_EQ_INT(s.n, 1);
  log_ratelim(lg, &rl, 6000, CHIVE_LOG_WARN, LD_CIRC, "later");
  T_EQ_INT(s.n, 2);
  T_ASSERT(strstr(s.msg, "[9 similar message(s) suppressed]") != NULL);
done:
  logger_free(lg);
}

static void
test_escape(void)
{
  char out[64];
  T_EQ_STR(log_escape("ab\"c\\\n\x01", 7, out, sizeof(out)),
           "\"ab\\\"c\\\\\\x0a\\x01\"");
  T_EQ_STR(log_escape("", 0, out, sizeof(out)), "\"\"");
  char small[12];
  T_EQ_STR(log_escape("0123456789abcdef", 16, small, sizeof(small)),
           "\"012345\"...");
  T_EQ_STR(log_escape("abc", 3, small, 3), "");
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_thresholds), T_CASE(test_truncation), T_CASE(test_ratelim),
    T_CASE(test_escape),     T_END,
};
T_MAIN(cases)
