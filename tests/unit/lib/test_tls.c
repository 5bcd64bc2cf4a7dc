/* Unit tests for lib/tls: the sans-I/O TLS engine (client against a test
 * server, in memory), the X.509 helpers, and tls_stream over a socket
 * pair on a real event loop. */
#include "lib/cc/compat.h"

#include <event2/event.h>
#include <string.h>

#include "lib/crypto/digest.h"
#include "lib/net/socket.h"
#include "lib/tls/tls.h"
#include "lib/tls/tls_stream.h"
#include "lib/tls/tls_testing.h"
#include "lib/tls/x509.h"
#include "tinytest.h"

#define NOW 1700000000

/* One shared fake relay (RSA keygen is slow-ish). */
static tls_testing_relay_t *
relay(void)
{
  static tls_testing_relay_t *r;
  if (!r) {
    tls_testing_relay_opts_t o;
    memset(&o, 0, sizeof(o));
    o.now = NOW;
    if (tls_testing_relay_new(&o, &r) != CHIVE_OK)
      return NULL;
  }
  return r;
}

/* Move ciphertext both ways; return false on engine error. */
static bool
shuttle(tls_conn_t *a, tls_conn_t *b)
{
  uint8_t tmp[8192];
  for (int i = 0; i < 2; i++) {
    tls_conn_t *from = i ? b : a, *to = i ? a : b;
    while (tls_conn_wants_write(from)) {
      size_t n = 0;
      if (tls_conn_drain(from, tmp, sizeof(tmp), &n) != CHIVE_OK)
        return false;
      if (n == 0)
        break;
      if (tls_conn_feed(to, tmp, n) != CHIVE_OK)
        return false;
    }
  }
  return true;
}

static chive_err_t
handshake_pair(tls_conn_t *cli, tls_conn_t *srv)
{
  for (int round = 0; round < 20; round++) {
    chive_err_t e1 = tls_conn_connect(cli);
    chive_err_t e2 = tls_conn_connect(srv);
    if (e1 != CHIVE_OK && e1 != CHIVE_ERR_TRUNCATED)
      return e1;
    if (e2 != CHIVE_OK && e2 != CHIVE_ERR_TRUNCATED)
      return e2;
    if (!shuttle(cli, srv))
      return CHIVE_ERR_IO;
    if (e1 == CHIVE_OK && e2 == CHIVE_OK)
      return CHIVE_OK;
  }
  return CHIVE_ERR_TIMEOUT;
}

static void
test_tls_engine_handshake(void)
{
  tls_conn_t *cli = NULL, *srv = NULL;
  uint8_t *der = NULL;
  size_t der_len = 0, link_len = 0, n = 0;
  uint8_t buf[64];
  uint8_t ek1[32], ek2[32];
  tls_testing_relay_t *r = relay();
  T_ASSERT(r);

  T_OK(tls_client_new(NULL, &cli));
  T_OK(tls_testing_relay_server_new(r, &srv));
  T_ASSERT(!tls_conn_handshake_done(cli));
  T_EQ_INT(tls_conn_peer_cert(cli, &der, &der_len), CHIVE_ERR_INVAL);
  T_OK(handshake_pair(cli, srv));
  T_ASSERT(tls_conn_handshake_done(cli));
  T_EQ_STR(tls_conn_version_name(cli), "TLSv1.3");
  T_ASSERT(strlen(tls_conn_cipher_name(cli)) > 0);

  /* The peer certificate is exactly the link cert the server holds. */
  T_OK(tls_conn_peer_cert(cli, &der, &der_len));
  const uint8_t *link = tls_testing_relay_link_cert(r, &link_len);
  T_EQ_UINT(der_len, link_len);
  T_EQ_MEM(der, link, link_len);

  /* Application data both ways. */
  T_EQ_INT(tls_conn_recv(cli, buf, sizeof(buf), &n), CHIVE_ERR_TRUNCATED);
  T_OK(tls_conn_send(cli, (const uint8_t *)"ping", 4));
  T_ASSERT(shuttle(cli, srv));
  T_OK(tls_conn_recv(srv, buf, sizeof(buf), &n));
  T_EQ_UINT(n, 4);
  T_EQ_MEM(buf, "ping", 4);
  T_OK(tls_conn_send(srv, (const uint8_t *)"pong!", 5));
  T_ASSERT(shuttle(cli, srv));
  T_OK(tls_conn_recv(cli, buf, 2, &n));
  T_EQ_UINT(n, 2);
  T_EQ_UINT(tls_conn_pending(cli), 3);
  T_OK(tls_conn_recv(cli, buf + 2, sizeof(buf) - 2, &n));
  T_EQ_MEM(buf, "pong!", 5);

  /* RFC 5705 exporter agrees on both sides; context matters. */
  T_OK(tls_conn_export_keying_material(cli, ek1, 32, "EXPORTER FOR TOR",
                                       (const uint8_t *)"ctx", 3));
  T_OK(tls_conn_export_keying_material(srv, ek2, 32, "EXPORTER FOR TOR",
                                       (const uint8_t *)"ctx", 3));
  T_EQ_MEM(ek1, ek2, 32);
  T_OK(tls_conn_export_keying_material(srv, ek2, 32, "EXPORTER FOR TOR",
                                       (const uint8_t *)"ctY", 3));
  T_ASSERT(memcmp(ek1, ek2, 32) != 0);

  /* close_notify reaches the peer as CLOSED. */
  tls_conn_close(srv);
  T_ASSERT(shuttle(cli, srv));
  T_EQ_INT(tls_conn_recv(cli, buf, sizeof(buf), &n), CHIVE_ERR_CLOSED);
  /* Sticky afterwards. */
  T_EQ_INT(tls_conn_recv(cli, buf, sizeof(buf), &n), CHIVE_ERR_CLOSED);
  T_EQ_INT(tls_conn_send(cli, buf, 1), CHIVE_ERR_CLOSED);
done:
  chive_free(der);
  tls_conn_free(cli);
  tls_conn_free(srv);
}

static void
test_tls_engine_garbage(void)
{
  tls_conn_t *cli = NULL;
  uint8_t junk[100];
  memset(junk, 'A', sizeof(junk));
  T_OK(tls_client_new(NULL, &cli));
  T_EQ_INT(tls_conn_connect(cli), CHIVE_ERR_TRUNCATED);
  T_ASSERT(tls_conn_wants_write(cli) > 0); /* ClientHello */
  T_OK(tls_conn_feed(cli, junk, sizeof(junk)));
  chive_err_t e = tls_conn_connect(cli);
  T_ASSERT(e == CHIVE_ERR_CRYPTO || e == CHIVE_ERR_PROTO);
  T_ASSERT(strlen(tls_conn_error_string(cli)) > 0);
  T_EQ_INT(tls_conn_connect(cli), e); /* sticky */
  T_EQ_INT(tls_conn_feed(cli, junk, 1), e);
done:
  tls_conn_free(cli);
}

static void
test_tls_feed_limit(void)
{
  tls_conn_t *cli = NULL;
  static uint8_t big[TLS_FEED_MAX_PENDING + 1];
  T_OK(tls_client_new(NULL, &cli));
  T_EQ_INT(tls_conn_feed(cli, big, sizeof(big)), CHIVE_ERR_LIMIT);
  T_OK(tls_conn_feed(cli, big, TLS_FEED_MAX_PENDING));
  T_EQ_INT(tls_conn_feed(cli, big, 1), CHIVE_ERR_LIMIT);
done:
  tls_conn_free(cli);
}

static void
test_tls_sni(void)
{
  char h[TLS_SNI_MAX_LEN], h2[TLS_SNI_MAX_LEN];
  tls_client_config_t cfg;
  tls_conn_t *c = NULL;
  T_OK(tls_random_hostname(h, sizeof(h)));
  T_OK(tls_random_hostname(h2, sizeof(h2)));
  T_ASSERT(strncmp(h, "www.", 4) == 0);
  size_t len = strlen(h);
  T_ASSERT(len >= 4 + 8 + 4 && len <= 4 + 20 + 4);
  T_EQ_STR(h + len - 4, ".com");
  T_ASSERT(strcmp(h, h2) != 0);
  T_EQ_INT(tls_random_hostname(h, 10), CHIVE_ERR_INVAL);
  memset(&cfg, 0, sizeof(cfg));
  cfg.sni = "";
  T_OK(tls_client_new(&cfg, &c));
  tls_conn_free(c);
  cfg.sni = "www.example.com";
  T_OK(tls_client_new(&cfg, &c));
done:
  tls_conn_free(c);
}

static void
test_x509_helpers(void)
{
  tls_x509_t *id = NULL, *link = NULL;
  uint8_t *pk = NULL;
  size_t len = 0, pk_len = 0, sig_len = 0;
  int64_t nb = 0, na = 0;
  uint8_t fp[20], fp2[20], sig[256], digest[32];
  tls_testing_relay_t *r = relay();
  T_ASSERT(r);

  const uint8_t *d = tls_testing_relay_id_cert(r, &len);
  T_OK(tls_x509_parse(d, len, &id));
  T_OK(tls_x509_validity(id, &nb, &na));
  T_EQ_INT(nb, NOW - 86400);
  T_EQ_INT(na, NOW + 365 * 86400);
  T_EQ_UINT(tls_x509_rsa_bits(id), 1024);
  T_OK(tls_x509_check_signed_by(id, id));
  T_OK(tls_x509_rsa_pubkey_der(id, &pk, &pk_len));
  crypto_sha1(pk, pk_len, fp);
  tls_testing_relay_rsa_id(r, fp2);
  T_EQ_MEM(fp, fp2, 20);

  /* Trailing bytes and truncation are rejected. */
  uint8_t tmp[2048];
  T_ASSERT(len < sizeof(tmp));
  memcpy(tmp, d, len);
  tmp[len] = 0;
  tls_x509_t *bad = NULL;
  T_EQ_INT(tls_x509_parse(tmp, len + 1, &bad), CHIVE_ERR_PROTO);
  for (size_t i = 0; i < len; i += 7)
    T_ASSERT(tls_x509_parse(tmp, i, &bad) != CHIVE_OK);
  T_ASSERT(bad == NULL);
  T_EQ_INT(tls_x509_parse(tmp, TLS_X509_MAX_DER_LEN + 1, &bad),
           CHIVE_ERR_LIMIT);

  /* The link cert is EC, self-signed, not signed by the id key. */
  d = tls_testing_relay_link_cert(r, &len);
  T_OK(tls_x509_parse(d, len, &link));
  T_EQ_UINT(tls_x509_rsa_bits(link), 0);
  T_OK(tls_x509_check_signed_by(link, link));
  T_EQ_INT(tls_x509_check_signed_by(link, id), CHIVE_ERR_CRYPTO);
  T_EQ_INT(tls_x509_check_signed_by(id, link), CHIVE_ERR_CRYPTO);
  uint8_t *pk2 = NULL;
  T_EQ_INT(tls_x509_rsa_pubkey_der(link, &pk2, &len), CHIVE_ERR_INVAL);

  /* Tor-style raw RSA signatures. */
  crypto_sha256("message", 7, digest);
  T_OK(tls_testing_relay_rsa_sign(r, digest, 32, sig, sizeof(sig),
                                  &sig_len));
  T_EQ_UINT(sig_len, 128);
  T_OK(tls_x509_rsa_check_raw_sig(id, sig, sig_len, digest, 32));
  T_EQ_INT(tls_x509_rsa_check_raw_sig(id, sig, sig_len - 1, digest, 32),
           CHIVE_ERR_CRYPTO);
  digest[0] ^= 1;
  T_EQ_INT(tls_x509_rsa_check_raw_sig(id, sig, sig_len, digest, 32),
           CHIVE_ERR_CRYPTO);
  digest[0] ^= 1;
  sig[5] ^= 0x10;
  T_EQ_INT(tls_x509_rsa_check_raw_sig(id, sig, sig_len, digest, 32),
           CHIVE_ERR_CRYPTO);
  T_EQ_INT(tls_x509_rsa_check_raw_sig(link, sig, sig_len, digest, 32),
           CHIVE_ERR_INVAL);
done:
  chive_free(pk);
  tls_x509_free(id);
  tls_x509_free(link);
}

static void
test_x509_bad_self_signature(void)
{
  tls_testing_relay_t *r = NULL;
  tls_x509_t *id = NULL;
  tls_testing_relay_opts_t o;
  size_t len = 0;
  memset(&o, 0, sizeof(o));
  o.now = NOW;
  o.bad_id_self_signature = 1;
  T_OK(tls_testing_relay_new(&o, &r));
  const uint8_t *d = tls_testing_relay_id_cert(r, &len);
  T_OK(tls_x509_parse(d, len, &id));
  T_EQ_INT(tls_x509_check_signed_by(id, id), CHIVE_ERR_CRYPTO);
done:
  tls_x509_free(id);
  tls_testing_relay_free(r);
}

/* ---- tls_stream over a socketpair ------------------------------------ */

typedef struct side_t {
  tls_stream_t *s;
  int opened;
  int readable;
  chive_err_t err;
  int errors;
  uint8_t got[70000];
  size_t got_len;
  struct event_base *base;
  bool free_on_error;
} side_t;

static void
side_open(tls_stream_t *s, void *arg)
{
  side_t *d = arg;
  (void)s;
  d->opened++;
}

static void
side_readable(tls_stream_t *s, void *arg)
{
  side_t *d = arg;
  buf_t *in = tls_stream_inbuf(s);
  d->readable++;
  size_t room = sizeof(d->got) - d->got_len;
  d->got_len += buf_remove(in, d->got + d->got_len, room);
  tls_stream_resume(s);
}

static void
side_error(tls_stream_t *s, chive_err_t err, void *arg)
{
  side_t *d = arg;
  d->err = err;
  d->errors++;
  if (d->free_on_error) {
    tls_stream_free(s); /* allowed inside the callback */
    d->s = NULL;
  }
  event_base_loopbreak(d->base);
}

static const tls_stream_callbacks_t side_cbs = {side_open, side_readable,
                                                side_error, NULL};

static void
run_until(struct event_base *base, int *flag, int want)
{
  for (int i = 0; i < 2000 && *flag < want; i++)
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
run_until_len(struct event_base *base, size_t *len, size_t want)
{
  for (int i = 0; i < 20000 && *len < want; i++)
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
}

static void
test_tls_stream_socketpair(void)
{
  static side_t cli, srv;
  struct event_base *base = event_base_new();
  tls_conn_t *ce = NULL, *se = NULL;
  int fds[2] = {-1, -1};
  static uint8_t big[60000];
  tls_stream_limits_t lim = {4096, 0}; /* small input queue: back-pressure */
  tls_testing_relay_t *r = relay();
  memset(&cli, 0, sizeof(cli));
  memset(&srv, 0, sizeof(srv));
  T_ASSERT(base && r);
  cli.base = srv.base = base;

  T_OK(net_socketpair(fds));
  T_OK(tls_client_new(NULL, &ce));
  T_OK(tls_testing_relay_server_new(r, &se));
  T_OK(tls_stream_new_from_fd(base, fds[0], ce, &lim, &side_cbs, &cli,
                              &cli.s));
  fds[0] = -1;
  T_OK(tls_stream_new_from_fd(base, fds[1], se, NULL, &side_cbs, &srv,
                              &srv.s));
  fds[1] = -1;
  /* Nothing happens synchronously. */
  T_EQ_INT(cli.opened + srv.opened, 0);
  T_EQ_INT(tls_stream_write(cli.s, (const uint8_t *)"x", 1),
           CHIVE_ERR_INVAL);
  run_until(base, &cli.opened, 1);
  run_until(base, &srv.opened, 1);
  T_EQ_INT(cli.opened, 1);
  T_EQ_INT(srv.opened, 1);

  T_OK(tls_stream_write(cli.s, (const uint8_t *)"hello relay", 11));
  run_until_len(base, &srv.got_len, 11);
  T_EQ_UINT(srv.got_len, 11);
  T_EQ_MEM(srv.got, "hello relay", 11);

  /* 60 KB to a client whose input queue holds 4 KB. */
  for (size_t i = 0; i < sizeof(big); i++)
    big[i] = (uint8_t)(i * 31);
  T_OK(tls_stream_write(srv.s, big, sizeof(big)));
  run_until_len(base, &cli.got_len, sizeof(big));
  T_EQ_UINT(cli.got_len, sizeof(big));
  T_EQ_MEM(cli.got, big, sizeof(big));
  T_ASSERT(cli.readable > 1);
  T_ASSERT(tls_stream_bytes_read(cli.s) > sizeof(big));

  /* Output limit. */
  T_ASSERT(tls_stream_out_room(cli.s) > 0);
  T_EQ_INT(tls_stream_write(cli.s, big, TLS_STREAM_DEFAULT_OUT_MAX + 1),
           CHIVE_ERR_LIMIT);

  /* Peer closes: the client sees CLOSED once, and may free itself. */
  cli.free_on_error = true;
  tls_stream_close(srv.s);
  tls_stream_free(srv.s);
  run_until(base, &cli.errors, 1);
  T_EQ_INT(cli.errors, 1);
  T_EQ_INT(cli.err, CHIVE_ERR_CLOSED);
  T_ASSERT(cli.s == NULL);
  T_EQ_INT(srv.errors, 0);
done:
  tls_stream_free(cli.s);
  tls_stream_free(srv.s);
  net_close(fds[0]);
  net_close(fds[1]);
  if (base)
    event_base_free(base);
}

static void
test_tls_stream_connect_refused(void)
{
  static side_t cli;
  struct event_base *base = event_base_new();
  int lfd = -1;
  net_addrport_t any, bound;
  memset(&cli, 0, sizeof(cli));
  T_ASSERT(base);
  cli.base = base;
  T_OK(net_addrport_parse_str("127.0.0.1:1", &any));
  any.port = 0;
  T_OK(net_listen(&any, 0, &lfd, &bound));
  net_close(lfd);
  lfd = -1;
  T_OK(tls_stream_connect(base, &bound, NULL, NULL, &side_cbs, &cli,
                          &cli.s));
  run_until(base, &cli.errors, 1);
  T_EQ_INT(cli.errors, 1);
  T_EQ_INT(cli.err, CHIVE_ERR_IO);
  T_EQ_INT(cli.opened, 0);
done:
  tls_stream_free(cli.s);
  if (base)
    event_base_free(base);
}

/* A TCP server that speaks garbage instead of TLS. */
static void
test_tls_stream_garbage_server(void)
{
  static side_t cli;
  struct event_base *base = event_base_new();
  int lfd = -1, sfd = -1;
  net_addrport_t any, bound;
  memset(&cli, 0, sizeof(cli));
  T_ASSERT(base);
  cli.base = base;
  T_OK(net_addrport_parse_str("127.0.0.1:1", &any));
  any.port = 0;
  T_OK(net_listen(&any, 0, &lfd, &bound));
  T_OK(tls_stream_connect(base, &bound, NULL, NULL, &side_cbs, &cli,
                          &cli.s));
  for (int i = 0; i < 200 && sfd < 0; i++) {
    event_base_loop(base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
    if (net_accept(lfd, &sfd, NULL) != CHIVE_OK)
      sfd = -1;
  }
  T_ASSERT(sfd >= 0);
  size_t n = 0;
  static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\nnope";
  T_OK(net_write(sfd, (const uint8_t *)junk, sizeof(junk) - 1, &n));
  run_until(base, &cli.errors, 1);
  T_EQ_INT(cli.errors, 1);
  T_ASSERT(cli.err == CHIVE_ERR_CRYPTO || cli.err == CHIVE_ERR_PROTO);
  T_EQ_INT(cli.opened, 0);
done:
  tls_stream_free(cli.s);
  net_close(lfd);
  net_close(sfd);
  if (base)
    event_base_free(base);
}

static const t_case cases[] = {
    T_CASE(test_tls_engine_handshake),
    T_CASE(test_tls_engine_garbage),
    T_CASE(test_tls_feed_limit),
    T_CASE(test_tls_sni),
    T_CASE(test_x509_helpers),
    T_CASE(test_x509_bad_self_signature),
    T_CASE(test_tls_stream_socketpair),
    T_CASE(test_tls_stream_connect_refused),
    T_CASE(test_tls_stream_garbage_server),
    T_END,
};

int main(int argc, char **argv);
int
main(int argc, char **argv)
{
  /* Create the shared relay before the harness takes its per-case memory
   * baselines, and free it after. */
  if (!relay()) {
    fprintf(stderr, "cannot create test relay\n");
    return 1;
  }
  int rv = t_run(cases, argc, argv);
  tls_testing_relay_t *r = relay();
  tls_testing_relay_free(r);
  return rv;
}
