/* chive_linktest: open a link-protocol channel to real Tor relays and
 * prove the handshake (tor-spec §4): TLS, VERSIONS, CERTS fully verified
 * (RSA identity + Ed25519 chain bound to the TLS certificate), NETINFO.
 *
 * Usage:
 *   chive_linktest ADDR:PORT RSA_FINGERPRINT_HEX [ED25519_ID_BASE64]
 *   chive_linktest --node-dir DIR...   (a tor DataDirectory holding
 *                                       torrc, fingerprint and
 *                                       fingerprint-ed25519)
 *   chive_linktest --testnet           (every node of the private test
 *                                       network in $CHIVE_TESTNET_DIR/nodes)
 * Options: -v (log at debug level), --timeout SECONDS (default 30).
 *
 * Prints the negotiated link protocol, the verified identities and the
 * NETINFO data for each relay; exits 0 iff every handshake succeeded (77
 * if --testnet finds no network).  Loopback/test networks only. */
#include "lib/cc/compat.h"

#include <dirent.h>
#include <event2/event.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h> /* getenv */
#include <string.h>

#include "core/channel/channel.h"
#include "lib/crypto/crypto_init.h"
#include "lib/encoding/base16.h"
#include "lib/encoding/base64.h"
#include "lib/evloop/evloop.h"
#include "lib/log/log.h"
#include "lib/malloc/malloc.h"
#include "lib/text/numparse.h"
#include "lib/time/clock.h"

#define MAX_TARGETS 64
#define LINE_MAX_LEN 512

typedef struct run_t {
  struct event_base *base;
  int n_pending;
  int n_ok;
  int n_failed;
  channel_target_t targets[MAX_TARGETS];
  char names[MAX_TARGETS][64];
  uint64_t chan_ids[MAX_TARGETS];
  int n_targets;
} run_t;

static void
log_sink(chive_log_severity_t sev, const char *domain, const char *msg,
         void *arg)
{
  (void)arg;
  fprintf(stderr, "[%d %s] %s\n", (int)sev, domain, msg);
}

static int
target_index(run_t *r, const channel_t *chan)
{
  for (int i = 0; i < r->n_targets; i++)
    if (r->chan_ids[i] == channel_id(chan))
      return i;
  return -1;
}

static void
print_hex(const char *label, const uint8_t *p, size_t n)
{
  char hex[2 * 64 + 1];
  if (base16_encode(p, n, hex, sizeof(hex), BASE16_UPPER) == CHIVE_OK)
    printf("  %s %s\n", label, hex);
}

static void
on_open(channel_t *chan, void *arg)
{
  run_t *r = arg;
  int i = target_index(r, chan);
  const channel_peer_ids_t *ids = channel_peer_ids(chan);
  const channel_netinfo_result_t *ni = channel_netinfo(chan);
  char a[NET_ADDRPORT_STR_LEN], b64[64];

  printf("OK %s %s\n", i >= 0 ? r->names[i] : "?",
         net_addrport_format(&channel_target(chan)->addr, a, sizeof(a)));
  printf("  tls %s %s\n", channel_tls_version(chan), channel_tls_cipher(chan));
  printf("  link-protocol %u\n", channel_link_proto(chan));
  print_hex("rsa-identity (verified)", ids->rsa_id, sizeof(ids->rsa_id));
  if (base64_encode(ids->ed_id, sizeof(ids->ed_id), b64, sizeof(b64),
                    BASE64_NOPAD) == CHIVE_OK)
    printf("  ed25519-identity (verified) %s\n", b64);
  if (base64_encode(ids->ed_signing_key, sizeof(ids->ed_signing_key), b64,
                    sizeof(b64), BASE64_NOPAD) == CHIVE_OK)
    printf("  ed25519-signing-key %s\n", b64);
  printf("  certs-valid-until %" PRId64 "\n", ids->certs_expire_s);
  printf("  netinfo-time %" PRIu32 " (clock skew %" PRId64 " s)\n",
         ni->their_time, ni->skew_s);
  printf("  netinfo-our-address %s\n",
         net_addr_format(&ni->our_addr, a, sizeof(a)));
  for (unsigned k = 0; k < ni->n_their_addrs; k++)
    printf("  netinfo-relay-address %s\n",
           net_addr_format(&ni->their_addrs[k], a, sizeof(a)));
  printf("  canonical %s\n", ni->canonical ? "yes" : "no");
  printf("  bytes read %" PRIu64 " written %" PRIu64 "\n",
         channel_bytes_read(chan), channel_bytes_written(chan));
  r->n_ok++;
  channel_mark_for_close(chan, CHANNEL_CLOSE_REQUESTED);
}

static void
on_cell(channel_t *chan, const cell_t *cell, void *arg)
{
  (void)chan;
  (void)arg;
  printf("  (cell %s on circ %" PRIu32 ")\n", cell_command_name(cell->command),
         cell->circ_id);
}

static void
on_closed(channel_t *chan, void *arg)
{
  run_t *r = arg;
  int i = target_index(r, chan);
  if (channel_close_reason(chan) != CHANNEL_CLOSE_REQUESTED) {
    printf("FAIL %s: %s (%s)\n", i >= 0 ? r->names[i] : "?",
           channel_close_reason_str(channel_close_reason(chan)),
           channel_close_detail(chan));
    r->n_failed++;
  }
  if (--r->n_pending <= 0)
    event_base_loopbreak(r->base);
}

static void
on_deadline(evutil_socket_t fd, short what, void *arg)
{
  run_t *r = arg;
  (void)fd;
  (void)what;
  printf("FAIL: overall deadline passed\n");
  r->n_failed++;
  event_base_loopbreak(r->base);
}

/* Read the first line of DIR/NAME that starts with PREFIX; return the
 * rest (trimmed) in out. */
static bool
read_field(const char *dir, const char *name, const char *prefix,
           int field, char *out, size_t out_len)
{
  char path[1024], line[LINE_MAX_LEN];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "r");
  bool ok = false;
  if (!f)
    return false;
  while (fgets(line, sizeof(line), f)) {
    if (prefix && strncmp(line, prefix, strlen(prefix)) != 0)
      continue;
    /* Split on spaces; take field number <field>. */
    char *p = line;
    for (int k = 0; k < field && p; k++) {
      p = strchr(p, ' ');
      if (p)
        p++;
    }
    if (!p)
      break;
    size_t n = strcspn(p, " \r\n");
    if (n == 0 || n >= out_len)
      break;
    memcpy(out, p, n);
    out[n] = '\0';
    ok = true;
    break;
  }
  fclose(f);
  return ok;
}

static bool
parse_target(const char *addr, const char *fp, const char *ed,
             channel_target_t *t)
{
  size_t n = 0;
  memset(t, 0, sizeof(*t));
  if (net_addrport_parse_str(addr, &t->addr) != CHIVE_OK) {
    fprintf(stderr, "bad address %s\n", addr);
    return false;
  }
  if (base16_decode(fp, strlen(fp), t->rsa_id, sizeof(t->rsa_id), &n) !=
          CHIVE_OK ||
      n != sizeof(t->rsa_id)) {
    fprintf(stderr, "bad RSA fingerprint %s\n", fp);
    return false;
  }
  if (ed) {
    uint8_t tmp[48];
    if (base64_decode(ed, strlen(ed), tmp, sizeof(tmp), &n) != CHIVE_OK ||
        n != sizeof(t->ed_id)) {
      fprintf(stderr, "bad Ed25519 identity %s\n", ed);
      return false;
    }
    memcpy(t->ed_id, tmp, sizeof(t->ed_id));
    t->has_ed_id = true;
  }
  return true;
}

static bool
add_node_dir(run_t *r, const char *dir)
{
  char orport[80], fp[64], ed[64], nick[64];
  if (r->n_targets >= MAX_TARGETS)
    return false;
  if (!read_field(dir, "torrc", "ORPort ", 1, orport, sizeof(orport)) ||
      !read_field(dir, "fingerprint", NULL, 1, fp, sizeof(fp)) ||
      !read_field(dir, "fingerprint", NULL, 0, nick, sizeof(nick))) {
    fprintf(stderr, "%s: no torrc ORPort or fingerprint\n", dir);
    return false;
  }
  bool have_ed =
      read_field(dir, "fingerprint-ed25519", NULL, 1, ed, sizeof(ed));
  if (!parse_target(orport, fp, have_ed ? ed : NULL,
                    &r->targets[r->n_targets]))
    return false;
  snprintf(r->names[r->n_targets], sizeof(r->names[0]), "%s", nick);
  r->n_targets++;
  return true;
}

int main(int argc, char **argv);
int
main(int argc, char **argv)
{
  static run_t r;
  evloop_t *loop = NULL;
  channel_mgr_t *mgr = NULL;
  logger_t *lg = NULL;
  struct event *deadline = NULL;
  int timeout_s = 30, rv = 1;
  bool verbose = false;
  int i = 1;

  memset(&r, 0, sizeof(r));
  for (; i < argc && argv[i][0] == '-'; i++) {
    if (!strcmp(argv[i], "-v")) {
      verbose = true;
    } else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
      uint64_t v = 0;
      i++;
      if (parse_u64(argv[i], strlen(argv[i]), 10, 1, 3600, &v) != CHIVE_OK) {
        fprintf(stderr, "bad --timeout %s\n", argv[i]);
        return 2;
      }
      timeout_s = (int)v;
    } else if (!strcmp(argv[i], "--node-dir")) {
      for (i++; i < argc && argv[i][0] != '-'; i++)
        if (!add_node_dir(&r, argv[i]))
          return 2;
      i--;
    } else if (!strcmp(argv[i], "--testnet")) {
      const char *tn = getenv("CHIVE_TESTNET_DIR");
      char nodes[1024];
      if (!tn) {
        fprintf(stderr, "CHIVE_TESTNET_DIR not set: skipping\n");
        return 77;
      }
      snprintf(nodes, sizeof(nodes), "%s/nodes", tn);
      DIR *d = opendir(nodes);
      if (!d) {
        fprintf(stderr, "%s: cannot open: skipping\n", nodes);
        return 77;
      }
      struct dirent *de;
      while ((de = readdir(d)) != NULL) {
        char path[2048];
        if (de->d_name[0] == '.')
          continue;
        snprintf(path, sizeof(path), "%s/%s", nodes, de->d_name);
        /* The onion-service instance is a client: no ORPort, no relay. */
        char orport_line[80];
        if (!read_field(path, "torrc", "ORPort ", 1, orport_line,
                        sizeof(orport_line)))
          continue;
        if (!add_node_dir(&r, path)) {
          closedir(d);
          return 2;
        }
      }
      closedir(d);
    } else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (i + 2 <= argc && r.n_targets < MAX_TARGETS) {
    if (!parse_target(argv[i], argv[i + 1], i + 2 < argc ? argv[i + 2] : NULL,
                      &r.targets[r.n_targets]))
      return 2;
    snprintf(r.names[r.n_targets], sizeof(r.names[0]), "%s", argv[i]);
    r.n_targets++;
  }
  if (r.n_targets == 0) {
    fprintf(stderr,
            "usage: %s [-v] [--timeout S] ADDR:PORT RSA_FP [ED25519_ID]\n"
            "       %s --node-dir DIR... | --testnet\n",
            argv[0], argv[0]);
    return 2;
  }

  if (crypto_global_init() != CHIVE_OK)
    return 1;
  r.base = event_base_new();
  lg = logger_new();
  if (!r.base || !lg || evloop_new(r.base, &loop) != CHIVE_OK)
    goto done;
  logger_set_sink(lg, log_sink, NULL);
  logger_set_severity(lg, LD_ALL,
                      verbose ? CHIVE_LOG_DEBUG : CHIVE_LOG_NOTICE);
  logger_set_severity(lg, LD_PROTOCOL | LD_CHANNEL,
                      verbose ? CHIVE_LOG_DEBUG : CHIVE_LOG_INFO);

  channel_mgr_config_t cfg;
  memset(&cfg, 0, sizeof(cfg));
  cfg.loop = loop;
  cfg.log = lg;
  cfg.cbs.on_open = on_open;
  cfg.cbs.on_cell = on_cell;
  cfg.cbs.on_closed = on_closed;
  cfg.cb_arg = &r;
  cfg.handshake_timeout_ms = (uint64_t)timeout_s * 1000u;
  if (channel_mgr_new(&cfg, &mgr) != CHIVE_OK)
    goto done;

  for (int k = 0; k < r.n_targets; k++) {
    channel_t *chan = NULL;
    chive_err_t err = channel_mgr_get(mgr, &r.targets[k], &chan);
    if (err) {
      printf("FAIL %s: cannot start: %s\n", r.names[k], chive_err_str(err));
      r.n_failed++;
      continue;
    }
    r.chan_ids[k] = channel_id(chan);
    r.n_pending++;
  }
  struct timeval tv = {timeout_s + 5, 0};
  deadline = evtimer_new(r.base, on_deadline, &r);
  if (!deadline || evtimer_add(deadline, &tv) != 0)
    goto done;
  if (r.n_pending > 0)
    event_base_dispatch(r.base);
  rv = (r.n_failed == 0 && r.n_ok == r.n_targets) ? 0 : 1;
  printf("%d of %d relays: handshake verified\n", r.n_ok, r.n_targets);
done:
  if (deadline)
    event_free(deadline);
  channel_mgr_free(mgr);
  evloop_free(loop);
  logger_free(lg);
  if (r.base)
    event_base_free(r.base);
  return rv;
}
