/**
 * @file control_getinfo.c
 * @brief GETINFO keys (control-spec §3.9) and the KEY=VALUE reply rule.
 *
 * Each key is a small function that writes its value into a strbuf.
 * Values are bounded by CONTROL_CONN_OUT_MAX (ns/all of the live
 * network fits easily).
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "app/client_st.h"
#include "app/config_int.h"
#include "app/control_int.h"
#include "feature/dir/dircache.h"
#include "lib/crypto/digest.h"
#include "lib/encoding/base16.h"
#include "lib/encoding/base64.h"
#include "lib/malloc/malloc.h"
#include "lib/net/address.h"
#include "lib/text/str.h"
#include "lib/text/strbuf.h"

chive_err_t
control_reply_kv_raw(control_outbuf_t *o, unsigned code, const char *key,
                     const char *val, size_t val_len, bool last)
{
  strbuf_t sb;
  strbuf_init(&sb, CONTROL_MAX_LINE_LEN);
  chive_err_t e;
  if (memchr(val, '\r', val_len) || memchr(val, '\n', val_len)) {
    /* tor: a value with line breaks goes as "CODE+KEY=" and CmdData. */
    if ((e = strbuf_addf(&sb, "%s=", key)) == CHIVE_OK)
      e = control_reply_data(o, code, strbuf_str(&sb), val, val_len);
    strbuf_clear(&sb);
    if (e == CHIVE_OK && last)
      e = control_reply_ok(o);
    return e;
  }
  strbuf_init(&sb, val_len + strlen(key) + 2);
  if ((e = strbuf_addstr(&sb, key)) == CHIVE_OK &&
      (e = strbuf_addc(&sb, '=')) == CHIVE_OK &&
      (e = strbuf_add(&sb, val, val_len)) == CHIVE_OK)
    e = control_reply_line(o, code, last ? CONTROL_SEP_END : CONTROL_SEP_MID,
                           strbuf_str(&sb), strbuf_len(&sb));
  strbuf_clear(&sb);
  return e;
}

/* ---- individual keys -------------------------------------------------- */

typedef control_gi_fn gi_fn;

static chive_err_t
gi_version(control_conn_t *cc, const char *q, strbuf_t *sb,
           const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  char v[128];
  control_version_string(v, sizeof(v));
  return strbuf_addstr(sb, v);
}

static chive_err_t
gi_config_file(control_conn_t *cc, const char *q, strbuf_t *sb,
               const char **errmsg)
{
  (void)q;
  char path[FS_MAX_PATH_LEN];
  if (control_config_file(cc->ctl, path, sizeof(path)) != CHIVE_OK) {
    *errmsg = "Not using a configuration file";
    return CHIVE_ERR_NOTFOUND;
  }
  return strbuf_addstr(sb, path);
}

static chive_err_t
gi_pid(control_conn_t *cc, const char *q, strbuf_t *sb, const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  return strbuf_addf(sb, "%ld", (long)getpid());
}

static chive_err_t
gi_uid(control_conn_t *cc, const char *q, strbuf_t *sb, const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  return strbuf_addf(sb, "%ld", (long)getuid());
}

static chive_err_t
gi_bootstrap(control_conn_t *cc, const char *q, strbuf_t *sb,
             const char **errmsg)
{
  (void)q;
  (void)errmsg;
  bootstrap_phase_t p = cc->ctl->c->boot_phase;
  /* control-spec §3.9 status/bootstrap-phase; §5.5.2 */
  return strbuf_addf(sb, "NOTICE BOOTSTRAP PROGRESS=%d TAG=%s SUMMARY=\"%s\"",
                     (int)p, bootstrap_phase_tag(p),
                     bootstrap_phase_summary(p));
}

static chive_err_t
gi_circ_established(control_conn_t *cc, const char *q, strbuf_t *sb,
                    const char **errmsg)
{
  (void)q;
  (void)errmsg;
  return strbuf_addstr(sb, cc->ctl->c->boot_phase >= BOOT_DONE ? "1" : "0");
}

static chive_err_t
gi_enough_dir_info(control_conn_t *cc, const char *q, strbuf_t *sb,
                   const char **errmsg)
{
  (void)q;
  (void)errmsg;
  dirmgr_t *dm = cc->ctl->c->dirmgr;
  return strbuf_addstr(sb, dm && dirmgr_have_enough_dir_info(dm) ? "1" : "0");
}

static chive_err_t
gi_listeners_control(control_conn_t *cc, const char *q, strbuf_t *sb,
                     const char **errmsg)
{
  (void)q;
  (void)errmsg;
  control_t *ctl = cc->ctl;
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < ctl->n_listeners && e == CHIVE_OK; i++) {
    const control_listener_t *l = &ctl->listeners[i];
    if (i)
      e = strbuf_addc(sb, ' ');
    if (e == CHIVE_OK) {
      strbuf_t t;
      strbuf_init(&t, sizeof(l->name) + 8);
      if ((e = l->is_unix ? strbuf_addf(&t, "unix:%s", l->name)
                          : strbuf_addstr(&t, l->name)) == CHIVE_OK)
        e = control_quote(sb, strbuf_str(&t), strbuf_len(&t));
      strbuf_clear(&t);
    }
  }
  return e;
}

static chive_err_t
gi_names(control_conn_t *cc, const char *q, strbuf_t *sb,
         const char **errmsg);

static chive_err_t
gi_events_names(control_conn_t *cc, const char *q, strbuf_t *sb,
                const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  chive_err_t e = CHIVE_OK;
  for (int i = 0; i < CTL_EV_N && e == CHIVE_OK; i++)
    e = strbuf_addf(sb, "%s%s", i ? " " : "",
                    control_event_name((ctl_ev_t)i));
  return e;
}

static chive_err_t
gi_features_names(control_conn_t *cc, const char *q, strbuf_t *sb,
                  const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  return strbuf_addstr(sb, "VERBOSE_NAMES EXTENDED_EVENTS");
}

static chive_err_t
gi_signal_names(control_conn_t *cc, const char *q, strbuf_t *sb,
                const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  return strbuf_addstr(sb, "RELOAD HUP SHUTDOWN INT DUMP USR1 DEBUG USR2 "
                           "HALT TERM NEWNYM CLEARDNSCACHE HEARTBEAT DORMANT "
                           "ACTIVE");
}

static chive_err_t
gi_config_names(control_conn_t *cc, const char *q, strbuf_t *sb,
                const char **errmsg)
{
  (void)cc;
  (void)q;
  (void)errmsg;
  chive_err_t e = CHIVE_OK;
  /* tor: "Name Type [Doc]" per line; chive gives the type as String. */
  for (size_t i = 0; i < chive_config_n_options() && e == CHIVE_OK; i++) {
    const char *n = chive_config_option_name(i);
    if (n)
      e = strbuf_addf(sb, "%s String\n", n);
  }
  return e;
}

static chive_err_t
gi_config_text(control_conn_t *cc, const char *q, strbuf_t *sb,
               const char **errmsg)
{
  (void)q;
  (void)errmsg;
  return control_config_text(cc->ctl, sb);
}

static chive_err_t
gi_dormant(control_conn_t *cc, const char *q, strbuf_t *sb,
           const char **errmsg)
{
  (void)q;
  (void)errmsg;
  return strbuf_addstr(sb, cc->ctl->dormant ? "1" : "0");
}

/* ---- network status (dir-spec §3.4.1 lines, as in tor GETINFO ns/all) -- */

static chive_err_t
format_rs(strbuf_t *sb, const ns_routerstatus_t *rs)
{
  char id64[32], dg64[32], ip[NET_ADDR_STR_LEN];
  char published[32];
  if (base64_encode(rs->identity, 20, id64, sizeof(id64), BASE64_NOPAD) !=
          CHIVE_OK ||
      base64_encode(rs->digest, 20, dg64, sizeof(dg64), BASE64_NOPAD) !=
          CHIVE_OK)
    return CHIVE_ERR_INTERNAL;
  time_t t = (time_t)rs->published;
  struct tm tm;
  if (!gmtime_r(&t, &tm) ||
      !strftime(published, sizeof(published), "%Y-%m-%d %H:%M:%S", &tm))
    return CHIVE_ERR_INTERNAL;
  net_addr_t a;
  net_addr_from_ipv4(&a, rs->ipv4);
  (void)net_addr_format(&a, ip, sizeof(ip));
  chive_err_t e = strbuf_addf(sb, "r %s %s %s %s %s %u %u\n", rs->nickname,
                              id64, dg64, published, ip,
                              (unsigned)rs->or_port, (unsigned)rs->dir_port);
  if (e == CHIVE_OK && rs->has_ipv6) {
    net_addrport_t ap;
    char buf[NET_ADDRPORT_STR_LEN];
    net_addr_from_ipv6(&ap.addr, rs->ipv6);
    ap.port = rs->ipv6_port;
    e = strbuf_addf(sb, "a %s\n",
                    net_addrport_format(&ap, buf, sizeof(buf)));
  }
  if (e == CHIVE_OK)
    e = strbuf_addc(sb, 's');
  for (unsigned bit = 0; bit < 32 && e == CHIVE_OK; bit++) {
    if (!(rs->flags & (1u << bit)))
      continue;
    const char *n = ns_flag_name(1u << bit);
    if (n)
      e = strbuf_addf(sb, " %s", n);
  }
  if (e == CHIVE_OK)
    e = strbuf_addc(sb, '\n');
  if (e == CHIVE_OK && rs->has_bandwidth)
    e = strbuf_addf(sb, "w Bandwidth=%u%s\n", (unsigned)rs->bandwidth,
                    rs->bw_unmeasured ? " Unmeasured=1" : "");
  return e;
}

/** Parse "$hex", "hex", "$hex~nick" or "$hex=nick" into an identity. */
static bool
parse_hexid(const char *s, uint8_t id[20])
{
  if (*s == '$')
    s++;
  size_t n = 0;
  while (s[n] && s[n] != '~' && s[n] != '=')
    n++;
  size_t out = 0;
  return n == 40 && base16_decode(s, 40, id, 20, &out) == CHIVE_OK &&
         out == 20;
}

static chive_err_t
gi_ns(control_conn_t *cc, const char *q, strbuf_t *sb, const char **errmsg)
{
  const nodelist_t *nl = cc->ctl->c->nodelist;
  if (!nl) {
    *errmsg = "Not enough information";
    return CHIVE_ERR_NOTFOUND;
  }
  const char *rest = q + 3; /* after "ns/" */
  if (!strcmp(rest, "all")) {
    chive_err_t e = CHIVE_OK;
    for (size_t i = 0; i < nodelist_size(nl) && e == CHIVE_OK; i++)
      e = format_rs(sb, nodelist_node(nl, i)->rs);
    return e;
  }
  const node_t *n = NULL;
  if (str_starts_with(rest, "id/")) {
    uint8_t id[20];
    if (!parse_hexid(rest + 3, id))
      return CHIVE_ERR_NOTFOUND;
    n = nodelist_find_by_rsa(nl, id);
  } else if (str_starts_with(rest, "name/")) {
    for (size_t i = 0; i < nodelist_size(nl) && !n; i++)
      if (str_eq_ci(node_nickname(nodelist_node(nl, i)), rest + 5))
        n = nodelist_node(nl, i);
  } else {
    return CHIVE_ERR_NOTFOUND;
  }
  if (!n)
    return CHIVE_ERR_NOTFOUND; /* 552 Unrecognized key "ns/id/...": tor */
  return format_rs(sb, n->rs);
}

/** Finding one microdescriptor's text in the cache file. */
typedef struct md_find_t {
  const uint8_t *digest; /**< SHA-256 wanted */
  strbuf_t *sb;
  bool found;
  chive_err_t e;
} md_find_t;

static bool
md_find_chunk(const char *s, size_t len, void *arg)
{
  md_find_t *f = arg;
  uint8_t d[32];
  crypto_sha256(s, len, d);
  if (memcmp(d, f->digest, sizeof(d)) != 0)
    return true;
  f->found = true;
  f->e = strbuf_add(f->sb, s, len);
  return false;
}

/** GETINFO md/id/<fp>, md/name/<nick> (control-spec §3.9): the text of
 * the relay's microdescriptor.  chive keeps microdescriptors parsed, not
 * as text; their text is in the DataDirectory's cache file, where the
 * descriptor whose SHA-256 the consensus lists is found (unsaved ones
 * are written out first).  Bounded by DIRCACHE_MAX_MDS_LEN. */
static chive_err_t
gi_md(control_conn_t *cc, const char *q, strbuf_t *sb, const char **errmsg)
{
  chive_client_t *c = cc->ctl->c;
  const nodelist_t *nl = c->nodelist;
  const char *rest = q + 3; /* after "md/" */
  const node_t *n = NULL;
  if (nl && str_starts_with(rest, "id/")) {
    uint8_t id[20];
    if (parse_hexid(rest + 3, id))
      n = nodelist_find_by_rsa(nl, id);
  } else if (nl && str_starts_with(rest, "name/")) {
    for (size_t i = 0; i < nodelist_size(nl) && !n; i++)
      if (str_eq_ci(node_nickname(nodelist_node(nl, i)), rest + 5))
        n = nodelist_node(nl, i);
  }
  if (!n)
    return CHIVE_ERR_NOTFOUND; /* "Unrecognized key", as tor */
  if (!n->md || !c->data_dir[0] || !c->dirmgr) {
    *errmsg = "No microdescriptor for this router";
    return CHIVE_ERR_NOTFOUND;
  }
  if (dirmgr_flush_cache(c->dirmgr) != CHIVE_OK)
    log_info(c->log, LD_CONTROL, "md: could not write the cache first.");
  uint8_t *text = NULL;
  size_t len = 0;
  if (dircache_read(c->data_dir, DIRCACHE_MDS_FILE, DIRCACHE_MAX_MDS_LEN,
                    &text, &len) != CHIVE_OK) {
    *errmsg = "Microdescriptor cache not readable";
    return CHIVE_ERR_NOTFOUND;
  }
  md_find_t f = {n->md->digest, sb, false, CHIVE_OK};
  (void)dircache_split_mds((const char *)text, len, md_find_chunk, &f);
  chive_free(text);
  if (!f.found) {
    *errmsg = "Microdescriptor not in the cache";
    return CHIVE_ERR_NOTFOUND;
  }
  return f.e;
}

static chive_err_t
gi_entry_guards(control_conn_t *cc, const char *q, strbuf_t *sb,
                const char **errmsg)
{
  (void)q;
  (void)errmsg;
  guards_t *g = cc->ctl->c->guards;
  if (!g)
    return CHIVE_OK;
  guard_info_t info[64];
  size_t n = guards_list(g, info, CHIVE_ARRAY_LEN(info));
  if (n > CHIVE_ARRAY_LEN(info))
    n = CHIVE_ARRAY_LEN(info);
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < n && e == CHIVE_OK; i++) {
    char hex[41];
    if (base16_encode(info[i].rsa_id, 20, hex, sizeof(hex), BASE16_UPPER) !=
        CHIVE_OK)
      return CHIVE_ERR_INTERNAL;
    const char *w = guards_status_word(g, info[i].rsa_id);
    /* control-spec §3.9 entry-guards: "$fingerprint~nickname status" */
    e = strbuf_addf(sb, "%s$%s~%s %s", i ? "\n" : "", hex, info[i].nickname,
                    w ? w : "never-connected");
  }
  return e;
}

/* ---- the table -------------------------------------------------------- */

typedef struct gi_def_t {
  const char *key;
  bool prefix; /**< key is a prefix ("ns/id/") */
  gi_fn fn;
  const char *doc;
} gi_def_t;

static const gi_def_t getinfo_keys[] = {
    {"version", false, gi_version, "The current version of chive."},
    {"config-file", false, gi_config_file, "Current location of the "
     "configuration file."},
    {"config-text", false, gi_config_text, "Current configuration."},
    {"config/names", false, gi_config_names, "List of configuration "
     "options."},
    {"info/names", false, gi_names, "List of GETINFO options."},
    {"events/names", false, gi_events_names, "Events that the controller "
     "can ask for with SETEVENTS."},
    {"features/names", false, gi_features_names, "What arguments can "
     "USEFEATURE take?"},
    {"signal/names", false, gi_signal_names, "All signal names."},
    {"status/bootstrap-phase", false, gi_bootstrap, "The last bootstrap "
     "phase status event."},
    {"status/circuit-established", false, gi_circ_established, "Whether we "
     "think client functionality is working."},
    {"status/enough-dir-info", false, gi_enough_dir_info, "Whether we have "
     "enough up-to-date directory information to build circuits."},
    {"process/pid", false, gi_pid, "Process id belonging to the main "
     "process."},
    {"process/uid", false, gi_uid, "User id running the process."},
    {"net/listeners/control", false, gi_listeners_control, "Bound addresses "
     "by type."},
    {"dormant", false, gi_dormant, "Are we dormant?"},
    {"ns/all", false, gi_ns, "Brief summary of router status (v2 directory "
     "format)"},
    {"ns/id/", true, gi_ns, "Brief summary of router status by ID (v2 "
     "directory format)."},
    {"ns/name/", true, gi_ns, "Brief summary of router status by nickname "
     "(v2 directory format)."},
    {"md/id/", true, gi_md, "Microdescriptors by ID"},
    {"md/name/", true, gi_md, "Microdescriptors by name"},
    {"entry-guards", false, gi_entry_guards, "Which nodes are we using as "
     "entry guards?"},
};

static chive_err_t
gi_names(control_conn_t *cc, const char *q, strbuf_t *sb,
         const char **errmsg)
{
  (void)q;
  (void)errmsg;
  chive_err_t e = CHIVE_OK;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(getinfo_keys) && e == CHIVE_OK; i++)
    e = strbuf_addf(sb, "%s%s%s -- %s\n", getinfo_keys[i].key,
                    getinfo_keys[i].prefix ? "*" : "", "",
                    getinfo_keys[i].doc);
  const control_getinfo_ext_t *x = control_getinfo_ext(cc->ctl);
  for (; e == CHIVE_OK && x && x->key; x++)
    e = strbuf_addf(sb, "%s%s -- %s\n", x->key, x->prefix ? "*" : "",
                    x->doc);
  return e;
}

chive_err_t
control_getinfo_one(control_conn_t *cc, const char *q, char **ans,
                    const char **errmsg)
{
  strbuf_t sb;
  strbuf_init(&sb, CONTROL_CONN_OUT_MAX);
  chive_err_t e = CHIVE_ERR_NOTFOUND;
  bool found = false;
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(getinfo_keys) && !found; i++) {
    const gi_def_t *d = &getinfo_keys[i];
    if (d->prefix ? str_starts_with(q, d->key) : !strcmp(q, d->key)) {
      found = true;
      e = d->fn(cc, q, &sb, errmsg);
    }
  }
  const control_getinfo_ext_t *x = found ? NULL : control_getinfo_ext(cc->ctl);
  for (; x && x->key && !found; x++) {
    if (x->prefix ? str_starts_with(q, x->key) : !strcmp(q, x->key)) {
      found = true;
      e = x->fn(cc, q, &sb, errmsg);
    }
  }
  if (e == CHIVE_OK) {
    /* Values end without a trailing newline. */
    size_t len = strbuf_len(&sb);
    char *s = strbuf_steal(&sb, NULL);
    if (!s && len == 0)
      s = chive_strdup("");
    if (!s) {
      strbuf_clear(&sb);
      return CHIVE_ERR_NOMEM;
    }
    while (len && s[len - 1] == '\n')
      s[--len] = 0;
    *ans = s;
  }
  strbuf_clear(&sb);
  return e;
}
