/**
 * @file metrics_server.c
 * @brief The MetricsPort HTTP endpoint over libevent's evhttp.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>

#include "feature/metrics/metrics_server.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"
#include "lib/net/socket.h"
#include "lib/text/strbuf.h"

struct metrics_server_t {
  struct event_base *base;       /**< borrowed */
  const metrics_registry_t *reg; /**< borrowed */
  logger_t *lg;                  /**< borrowed, may be NULL */
  metrics_policy_t policy;
  struct evhttp *http;
  net_addrport_t bound;
  strbuf_t out; /**< exposition buffer, reused across scrapes */
  metrics_server_stats_t stats;
  metrics_server_scrape_cb_t scrape_cb;
  void *scrape_arg;
};

/** 403; libevent 2.1 has no HTTP_ name for it. */
#define METRICS_HTTP_FORBIDDEN 403

/** Every method evhttp 2.1 knows, so that we (not evhttp) answer the
 * ones we do not serve, with 405. */
#define ALL_METHODS                                                      \
  (EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT | \
   EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |           \
   EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH)

/** Find the peer of the connection carrying <b>req</b>. */
static bool
request_peer(struct evhttp_request *req, net_addrport_t *out)
{
  struct evhttp_connection *conn = evhttp_request_get_connection(req);
  if (!conn)
    return false;
  struct bufferevent *bev = evhttp_connection_get_bufferevent(conn);
  if (!bev)
    return false;
  evutil_socket_t fd = bufferevent_getfd(bev);
  if (fd < 0)
    return false;
  struct sockaddr_storage ss;
  socklen_t len = sizeof(ss);
  memset(&ss, 0, sizeof(ss));
  if (getpeername(fd, (struct sockaddr *)&ss, &len) != 0)
    return false;
  return net_addrport_from_sockaddr((const struct sockaddr *)&ss, (size_t)len,
                                    out) == CHIVE_OK;
}

/** Send a short plain-text reply; close the connection afterwards if
 * <b>close</b>. */
static void
reply_text(struct evhttp_request *req, int code, const char *reason,
           const char *body, bool close)
{
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", "text/plain; charset=utf-8");
  if (close)
    evhttp_add_header(h, "Connection", "close");
  struct evbuffer *buf = evhttp_request_get_output_buffer(req);
  evbuffer_add(buf, body, strlen(body));
  evhttp_send_reply(req, code, reason, NULL);
}

/** Render the registry and send it, or 500 if it does not fit.  With
 * <b>head_only</b> (HEAD), send the same headers and no body. */
static void
serve_metrics(metrics_server_t *srv, struct evhttp_request *req,
              bool head_only)
{
  if (srv->scrape_cb)
    srv->scrape_cb(srv->scrape_arg);
  strbuf_reset(&srv->out);
  chive_err_t err = metrics_registry_write(srv->reg, &srv->out);
  if (err) {
    srv->stats.n_errors++;
    log_warn(srv->lg, LD_METRICS, "Cannot render metrics (%s); answering 500.",
             chive_err_str(err));
    strbuf_reset(&srv->out);
    reply_text(req, HTTP_INTERNAL, "Internal Server Error",
               "cannot render metrics\n", true);
    return;
  }
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  char clen[24];
  snprintf(clen, sizeof(clen), "%zu", strbuf_len(&srv->out));
  evhttp_add_header(h, "Content-Type", METRICS_CONTENT_TYPE);
  /* evhttp adds Content-Length to HTTP/1.1 replies only. */
  evhttp_add_header(h, "Content-Length", clen);
  struct evbuffer *buf = evhttp_request_get_output_buffer(req);
  if (!head_only &&
      evbuffer_add(buf, strbuf_str(&srv->out), strbuf_len(&srv->out))) {
    srv->stats.n_errors++;
    reply_text(req, HTTP_INTERNAL, "Internal Server Error", "out of memory\n",
               true);
    return;
  }
  srv->stats.n_scrapes++;
  evhttp_send_reply(req, HTTP_OK, "OK", NULL);
}

/** evhttp's handler for every request it parsed. */
static void
handle_request(struct evhttp_request *req, void *arg)
{
  metrics_server_t *srv = arg;
  net_addrport_t peer;
  memset(&peer, 0, sizeof(peer));

  if (!request_peer(req, &peer) ||
      !metrics_policy_permits(&srv->policy, &peer.addr)) {
    char abuf[NET_ADDRPORT_STR_LEN] = "?";
    srv->stats.n_refused++;
    if (peer.addr.family != NET_AF_UNSPEC)
      net_addr_format(&peer.addr, abuf, sizeof(abuf));
    log_info(srv->lg, LD_METRICS,
             "Refusing a metrics request from %s: not permitted by "
             "MetricsPortPolicy.",
             abuf);
    reply_text(req, METRICS_HTTP_FORBIDDEN, "Forbidden", "forbidden\n", true);
    return;
  }
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
  if (!path) {
    srv->stats.n_errors++;
    reply_text(req, HTTP_BADREQUEST, "Bad Request", "bad request\n", true);
    return;
  }
  if (strcmp(path, METRICS_HTTP_PATH) != 0) {
    srv->stats.n_not_found++;
    reply_text(req, HTTP_NOTFOUND, "Not Found", "not found\n", false);
    return;
  }
  enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
  if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
    srv->stats.n_bad_method++;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Allow",
                      "GET, HEAD");
    reply_text(req, HTTP_BADMETHOD, "Method Not Allowed",
               "method not allowed\n", false);
    return;
  }
  serve_metrics(srv, req, cmd == EVHTTP_REQ_HEAD);
}

chive_err_t
metrics_server_new(struct event_base *base, const metrics_registry_t *reg,
                   const metrics_server_cfg_t *cfg, logger_t *lg,
                   metrics_server_t **out)
{
  if (BUG(!base || !reg || !cfg || !out))
    return CHIVE_ERR_INVAL;
  const net_addr_t *la = &cfg->listen.addr;
  if (la->family != NET_AF_INET && la->family != NET_AF_INET6)
    return CHIVE_ERR_INVAL;
  if (!metrics_policy_allows_listen(cfg->policy, la)) {
    char abuf[NET_ADDR_STR_LEN];
    log_warn(lg, LD_METRICS | LD_CONFIG,
             "Refusing to open MetricsPort on non-loopback address %s: "
             "set a MetricsPortPolicy that accepts the scrapers.",
             net_addr_format(la, abuf, sizeof(abuf)));
    return CHIVE_ERR_INVAL;
  }

  metrics_server_t *srv = chive_zalloc(sizeof(*srv));
  if (!srv)
    return CHIVE_ERR_NOMEM;
  int fd = NET_SOCKET_INVALID;
  chive_err_t err = CHIVE_ERR_NOMEM;
  srv->base = base;
  srv->reg = reg;
  srv->lg = lg;
  if (cfg->policy)
    srv->policy = *cfg->policy;
  else
    metrics_policy_init(&srv->policy);
  strbuf_init(&srv->out, cfg->max_response_len
                             ? cfg->max_response_len
                             : METRICS_HTTP_MAX_RESPONSE_LEN_DEFAULT);

  srv->http = evhttp_new(base);
  if (!srv->http)
    goto err;
  evhttp_set_max_headers_size(srv->http, METRICS_HTTP_MAX_HEADERS_LEN);
  evhttp_set_max_body_size(srv->http, METRICS_HTTP_MAX_BODY_LEN);
  evhttp_set_timeout(
      srv->http,
      (int)(cfg->timeout_s ? cfg->timeout_s : METRICS_HTTP_TIMEOUT_S_DEFAULT));
  evhttp_set_allowed_methods(srv->http, ALL_METHODS);
  evhttp_set_gencb(srv->http, handle_request, srv);

  err = net_listen(&cfg->listen, 0, &fd, &srv->bound);
  if (err) {
    char abuf[NET_ADDRPORT_STR_LEN];
    log_warn(lg, LD_METRICS | LD_NET, "Cannot listen on %s for metrics: %s",
             net_addrport_format(&cfg->listen, abuf, sizeof(abuf)),
             chive_err_str(err));
    goto err;
  }
  /* On success the evhttp owns fd (it closes it when freed). */
  if (!evhttp_accept_socket_with_handle(srv->http, fd)) {
    err = CHIVE_ERR_IO;
    goto err;
  }
  fd = NET_SOCKET_INVALID;
  {
    char abuf[NET_ADDRPORT_STR_LEN];
    log_notice(lg, LD_METRICS, "Serving metrics on http://%s%s",
               net_addrport_format(&srv->bound, abuf, sizeof(abuf)),
               METRICS_HTTP_PATH);
  }
  *out = srv;
  return CHIVE_OK;
err:
  net_close(fd);
  metrics_server_free_(srv);
  return err;
}

void
metrics_server_free_(metrics_server_t *srv)
{
  if (!srv)
    return;
  if (srv->http)
    evhttp_free(srv->http);
  strbuf_clear(&srv->out);
  chive_free(srv);
}

const net_addrport_t *
metrics_server_addr(const metrics_server_t *srv)
{
  return &srv->bound;
}

const metrics_server_stats_t *
metrics_server_stats(const metrics_server_t *srv)
{
  return &srv->stats;
}

void
metrics_server_set_scrape_cb(metrics_server_t *srv,
                             metrics_server_scrape_cb_t cb, void *arg)
{
  srv->scrape_cb = cb;
  srv->scrape_arg = cb ? arg : NULL;
}
