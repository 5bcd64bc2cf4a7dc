/**
 * @file log.c
 * @brief Logger objects, formatting, rate limiting and escaping.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "lib/err/err.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"

struct logger_t {
  chive_log_cb sink;
  void *sink_arg;
  /** Per-domain threshold: deliver severities <= this. */
  uint8_t max_sev[LOG_N_DOMAINS];
};

static const char *const domain_names[LOG_N_DOMAINS] = {
    "general", "crypto", "net",     "config", "fs",     "protocol", "mm",
    "channel", "circ",   "stream",  "dir",    "guard",  "path",     "socks",
    "control", "hs",     "bug",     "app",    "metrics", "evloop",  "tls",
};

logger_t *
logger_new(void)
{
  logger_t *lg = chive_zalloc(sizeof(*lg));
  if (!lg)
    return NULL;
  memset(lg->max_sev, CHIVE_LOG_NOTICE, sizeof(lg->max_sev));
  return lg;
}

void
logger_free_(logger_t *lg)
{
  chive_free(lg);
}

void
logger_set_sink(logger_t *lg, chive_log_cb cb, void *arg)
{
  lg->sink = cb;
  lg->sink_arg = arg;
}

void
logger_set_severity(logger_t *lg, uint32_t domains, chive_log_severity_t max)
{
  for (unsigned i = 0; i < LOG_N_DOMAINS; i++)
    if (domains & (1u << i))
      lg->max_sev[i] = (uint8_t)max;
}

static unsigned
lowest_domain_idx(uint32_t domain)
{
  for (unsigned i = 0; i < LOG_N_DOMAINS; i++)
    if (domain & (1u << i))
      return i;
  return 0;
}

bool
logger_enabled(const logger_t *lg, chive_log_severity_t sev, uint32_t domain)
{
  if (!lg || !lg->sink)
    return false;
  /* A message is delivered if any of its domains wants it. */
  for (unsigned i = 0; i < LOG_N_DOMAINS; i++)
    if ((domain & (1u << i)) && (unsigned)sev <= lg->max_sev[i])
      return true;
  return domain == 0 && (unsigned)sev <= lg->max_sev[0];
}

const char *
log_domain_name(uint32_t domain)
{
  return domain_names[lowest_domain_idx(domain)];
}

uint32_t
log_domain_from_name(const char *name)
{
  for (unsigned i = 0; i < LOG_N_DOMAINS; i++)
    if (!strcmp(name, domain_names[i]))
      return 1u << i;
  return 0;
}

const char *
chive_log_severity_name(chive_log_severity_t sev)
{
  switch (sev) {
  case CHIVE_LOG_ERR:
    return "err";
  case CHIVE_LOG_WARN:
    return "warn";
  case CHIVE_LOG_NOTICE:
    return "notice";
  case CHIVE_LOG_INFO:
    return "info";
  case CHIVE_LOG_DEBUG:
    return "debug";
  }
  return "unknown";
}

/** Name a message by its first domain other than "protocol". */
static const char *
sink_domain(uint32_t domain)
{
  uint32_t named = domain & ~(uint32_t)LD_PROTOCOL;
  return log_domain_name(named ? named : domain);
}

/** Format into <b>buf</b>, marking truncation with "[...]". */
static void format_msg(char *buf, size_t buf_len, chive_log_severity_t sev,
                       const char *func, const char *fmt, va_list ap)
    CHIVE_PRINTF(5, 0);
static void
format_msg(char *buf, size_t buf_len, chive_log_severity_t sev,
           const char *func, const char *fmt, va_list ap)
{
  size_t off = 0;
  /* Users read NOTICE lines; developers want the function elsewhere. */
  if (func && sev != CHIVE_LOG_NOTICE) {
    int n = snprintf(buf, buf_len, "%s(): ", func);
    if (n > 0 && (size_t)n < buf_len)
      off = (size_t)n;
  }
  int n = vsnprintf(buf + off, buf_len - off, fmt, ap);
  if (n >= 0 && (size_t)n >= buf_len - off && buf_len > 6)
    memcpy(buf + buf_len - 6, "[...]", 6);
}

void
log_fnv_(logger_t *lg, chive_log_severity_t sev, uint32_t domain,
         const char *func, const char *fmt, va_list ap)
{
  if (!logger_enabled(lg, sev, domain))
    return;
  char buf[LOG_MSG_MAX_LEN];
  format_msg(buf, sizeof(buf), sev, func, fmt, ap);
  lg->sink(sev, sink_domain(domain), buf, lg->sink_arg);
}

void
log_fn_(logger_t *lg, chive_log_severity_t sev, uint32_t domain,
        const char *func, const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  log_fnv_(lg, sev, domain, func, fmt, ap);
  va_end(ap);
}

bool
ratelim_allow(ratelim_t *rl, uint64_t now_ms, uint64_t *n_suppressed_out)
{
  if (!rl->started || now_ms >= rl->last_ms + rl->interval_ms) {
    rl->started = true;
    rl->last_ms = now_ms;
    *n_suppressed_out = rl->n_suppressed;
    rl->n_suppressed = 0;
    return true;
  }
  rl->n_suppressed++;
  return false;
}

void
log_fn_ratelim_(logger_t *lg, ratelim_t *rl, uint64_t now_ms,
                chive_log_severity_t sev, uint32_t domain, const char *func,
                const char *fmt, ...)
{
  uint64_t n_supp;
  if (!logger_enabled(lg, sev, domain) || !ratelim_allow(rl, now_ms, &n_supp))
    return;
  char buf[LOG_MSG_MAX_LEN];
  va_list ap;
  va_start(ap, fmt);
  format_msg(buf, sizeof(buf), sev, func, fmt, ap);
  va_end(ap);
  if (n_supp) {
    size_t len = strlen(buf);
    (void)snprintf(buf + len, sizeof(buf) - len,
                   " [%llu similar message(s) suppressed]",
                   (unsigned long long)n_supp);
  }
  lg->sink(sev, sink_domain(domain), buf, lg->sink_arg);
}

char *
log_escape(const void *in, size_t in_len, char *out, size_t out_len)
{
  static const char hex[] = "0123456789abcdef";
  const uint8_t *s = in;
  size_t o = 0;
  if (out_len == 0)
    return out;
  if (out_len < 6) { /* room for nothing useful */
    out[0] = '\0';
    return out;
  }
  /* Keep 5 bytes for the closing quote, "..." and the NUL. */
  size_t cap = out_len - 5;
  out[o++] = '"';
  size_t i;
  for (i = 0; i < in_len; i++) {
    uint8_t c = s[i];
    char tmp[4];
    size_t n;
    if (c == '"' || c == '\\') {
      tmp[0] = '\\';
      tmp[1] = (char)c;
      n = 2;
    } else if (c >= 0x20 && c < 0x7f) {
      tmp[0] = (char)c;
      n = 1;
    } else {
      tmp[0] = '\\';
      tmp[1] = 'x';
      tmp[2] = hex[c >> 4];
      tmp[3] = hex[c & 15];
      n = 4;
    }
    if (o + n > cap)
      break;
    memcpy(out + o, tmp, n);
    o += n;
  }
  out[o++] = '"';
  if (i < in_len) {
    memcpy(out + o, "...", 3);
    o += 3;
  }
  out[o] = '\0';
  return out;
}

/* The BUG() reporter is process-wide; installing a logger there is the
 * embedder's (or daemon's) explicit choice. */
static logger_t *bug_logger;

static void
bug_to_logger(const char *file, int line, const char *expr)
{
  log_fn_(bug_logger, CHIVE_LOG_WARN, LD_BUG, NULL, "BUG at %s:%d: %s",
          file, line, expr);
}

void
logger_install_bug_handler(logger_t *lg)
{
  bug_logger = lg;
  (void)chive_bug_set_handler(lg ? bug_to_logger : NULL);
}
