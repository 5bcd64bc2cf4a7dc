/**
 * @file cdir_output.c
 * @brief Human and JSON reports of a chive-dir verification run.
 **/
#include "lib/cc/compat.h"

#include <inttypes.h>
#include <string.h>

#include "cdir_json.h"
#include "cdir_output.h"
#include "lib/encoding/base16.h"
#include "lib/time/timefmt.h"

/** Upper-case hex of a 20-byte identity, NUL-terminated. */
typedef struct hexid_t {
  char s[41];
} hexid_t;

static hexid_t
hex20(const uint8_t id[20])
{
  hexid_t h;
  if (base16_encode(id, 20, h.s, sizeof(h.s), BASE16_UPPER) != CHIVE_OK)
    h.s[0] = '\0';
  return h;
}

/** "YYYY-MM-DD HH:MM:SS", or "?" for a time outside years 1970..9999. */
typedef struct isotime_t {
  char s[TIME_ISO_LEN + 1];
} isotime_t;

static isotime_t
iso(int64_t t)
{
  isotime_t r;
  if (time_format_iso(t, r.s, sizeof(r.s)) != CHIVE_OK)
    memcpy(r.s, "?", 2);
  return r;
}

/** A document string made safe for a terminal: bytes outside printable
 * ASCII become '?' (the tokenizer already rejects C0 controls, but lets
 * bytes >= 0x80 through, and 0x80..0x9f are C1 controls to some
 * terminals).  Truncated to CLEAN_MAX_LEN bytes. */
#define CLEAN_MAX_LEN 79
typedef struct cleanstr_t {
  char s[CLEAN_MAX_LEN + 1];
} cleanstr_t;

static cleanstr_t
clean(const char *in)
{
  cleanstr_t r;
  size_t i = 0;
  for (; in && in[i] && i < CLEAN_MAX_LEN; i++) {
    unsigned char c = (unsigned char)in[i];
    r.s[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
  }
  r.s[i] = '\0';
  return r;
}

static const char *
flavor_name(ns_flavor_t f)
{
  return f == NS_FLAVOR_MICRODESC ? "microdesc" : "ns";
}

static const char *
auth_source_name(cdir_auth_source_t s)
{
  switch (s) {
  case CDIR_AUTH_LINES:
    return "authority-lines";
  case CDIR_AUTH_FROM_CERTS:
    return "certificates";
  case CDIR_AUTH_DEFAULT:
  default:
    return "built-in";
  }
}

static const char *
alg_name(const dirverify_auth_result_t *r)
{
  if (r->status == DIRVERIFY_SIG_MISSING)
    return NULL;
  switch (r->alg) {
  case NS_SIG_SHA1:
    return "sha1";
  case NS_SIG_SHA256:
    return "sha256";
  case NS_SIG_UNKNOWN:
  default:
    return "unknown";
  }
}

/** Status word for a certificate check result. */
static const char *
cert_status_name(chive_err_t e)
{
  switch (e) {
  case CHIVE_OK:
    return "valid";
  case CHIVE_ERR_EXPIRED:
    return "not current";
  case CHIVE_ERR_CRYPTO:
    return "bad signature or key";
  default:
    return chive_err_str(e);
  }
}

/** Nickname of v3 identity <b>id</b>: configured, else dir-source. */
static const char *
nick_for(const cdir_run_t *run, const uint8_t id[20])
{
  for (size_t i = 0; i < run->n_auth; i++) {
    if (memcmp(run->auth[i].v3ident, id, 20) == 0 && run->auth[i].nickname[0])
      return run->auth[i].nickname;
  }
  const ns_consensus_t *c = run->consensus;
  for (size_t i = 0; c && i < c->n_dirsources; i++) {
    if (!c->dirsources[i].is_legacy &&
        memcmp(c->dirsources[i].identity, id, 20) == 0)
      return c->dirsources[i].nickname;
  }
  return "";
}

static double
ms(uint64_t us)
{
  return (double)us / 1000.0;
}

/** One-line verdict, also used as the JSON "message". */
static void
verdict(const cdir_run_t *run, char *buf, size_t len)
{
  if (run->stage != CDIR_STAGE_OK) {
    snprintf(buf, len, "error: %s", run->error);
    return;
  }
  const dirverify_result_t *v = &run->vres;
  const ns_consensus_t *c = run->consensus;
  isotime_t now = iso(run->now);
  if (run->verify_err == CHIVE_OK) {
    snprintf(buf, len,
             "VALID: %zu/%zu configured authorities signed validly (%zu "
             "needed); within validity at %s",
             v->n_valid, v->n_auth, v->n_needed, now.s);
  } else if (run->verify_err == CHIVE_ERR_CRYPTO) {
    snprintf(buf, len,
             "INVALID: only %zu/%zu configured authorities signed validly "
             "(%zu needed)%s",
             v->n_valid, v->n_auth, v->n_needed,
             v->time_ok ? "" : "; also outside its validity period");
  } else if (run->verify_err == CHIVE_ERR_EXPIRED) {
    isotime_t va = iso(c->valid_after), vu = iso(c->valid_until);
    snprintf(buf, len,
             "INVALID: not valid at %s (valid from %s to %s); signatures "
             "OK (%zu/%zu)",
             now.s, va.s, vu.s, v->n_valid, v->n_auth);
  } else {
    snprintf(buf, len, "INVALID: verification failed (%s)",
             chive_err_str(run->verify_err));
  }
}

/* ------------------------------------------------------------------ */
/* Human-readable report                                                */

static void
text_header(FILE *out, const cdir_run_t *run)
{
  const ns_consensus_t *c = run->consensus;
  isotime_t va = iso(c->valid_after), fu = iso(c->fresh_until),
            vu = iso(c->valid_until), now = iso(run->now);
  fprintf(out, "Consensus %s\n", run->consensus_file.path);
  fprintf(out, "  %-18s %s\n", "flavor", flavor_name(c->flavor));
  fprintf(out, "  %-18s %" PRIu32 "\n", "consensus-method",
          c->consensus_method);
  fprintf(out, "  %-18s %s\n", "valid-after", va.s);
  fprintf(out, "  %-18s %s\n", "fresh-until", fu.s);
  fprintf(out, "  %-18s %s\n", "valid-until", vu.s);
  fprintf(out, "  %-18s %s (%s): %s\n", "checked at", now.s,
          run->now_from_at ? "--at" : "current time",
          run->vres.time_ok ? "within validity" : "OUTSIDE validity");
  fprintf(out, "  %-18s %zu\n", "routers", c->n_routers);
  fprintf(out, "  %-18s %zu\n", "dir-sources", c->n_dirsources);
  fprintf(out, "  %-18s %zu\n", "signatures", c->n_signatures);
}

static void
text_flags_params(FILE *out, const cdir_run_t *run)
{
  const ns_consensus_t *c = run->consensus;
  fprintf(out, "\nFlags (routers carrying each)\n");
  for (unsigned b = 0; b < NS_N_FLAGS; b++) {
    if (!(c->known_flags & (1u << b)) && run->flag_counts[b] == 0)
      continue;
    fprintf(out, "  %-18s %8zu\n", ns_flag_name(b), run->flag_counts[b]);
  }
  size_t w = 18;
  for (size_t i = 0; i < c->params.n; i++) {
    size_t l = strlen(c->params.items[i].name);
    w = l > w ? l : w;
  }
  fprintf(out, "\nParams (%zu)\n", c->params.n);
  for (size_t i = 0; i < c->params.n; i++)
    fprintf(out, "  %-*s %8" PRId32 "\n", (int)w,
            clean(c->params.items[i].name).s, c->params.items[i].value);
  fprintf(out, "\nBandwidth weights (%zu)\n", c->bw_params.n);
  for (size_t i = 0; i < c->bw_params.n; i++) {
    fprintf(out, "%s%-4s %6" PRId32, (i % 5) ? "   " : "  ",
            clean(c->bw_params.items[i].name).s,
            c->bw_params.items[i].value);
    if (i % 5 == 4 || i + 1 == c->bw_params.n)
      fputc('\n', out);
  }
}

static void
text_authorities(FILE *out, const cdir_run_t *run)
{
  const dirverify_result_t *v = &run->vres;
  fprintf(out, "\nAuthorities (%zu configured from %s; %zu valid needed)\n",
          v->n_auth, auth_source_name(run->auth_source), v->n_needed);
  int w = 10;
  for (size_t i = 0; i < v->n_auth; i++) {
    int l = (int)strlen(clean(nick_for(run, v->auth[i].identity)).s);
    w = l > w ? l : w;
  }
  for (size_t i = 0; i < run->certs->n; i++) {
    int l = (int)strlen(
        clean(nick_for(run, run->certs->certs[i].fingerprint)).s);
    w = l > w ? l : w;
  }
  fprintf(out, "  %-*s %-40s %-7s %s\n", w, "NICKNAME", "V3 IDENTITY",
          "DIGEST", "RESULT");
  for (size_t i = 0; i < v->n_auth; i++) {
    const dirverify_auth_result_t *r = &v->auth[i];
    const char *alg = alg_name(r);
    hexid_t h = hex20(r->identity);
    fprintf(out, "  %-*s %-40s %-7s %s\n", w,
            clean(nick_for(run, r->identity)).s,
            h.s, alg ? alg : "-", dirverify_sig_status_str(r->status));
  }
  fprintf(out, "  %zu/%zu valid; %zu signature(s) by unconfigured "
          "identities\n", v->n_valid, v->n_auth, v->n_sigs_unconfigured);

  fprintf(out, "\nCertificates (%zu in %s)\n", run->certs->n,
          run->certs_file.path);
  fprintf(out, "  %-*s %-40s %-19s %-19s %s\n", w, "NICKNAME",
          "FINGERPRINT", "PUBLISHED", "EXPIRES", "AT CHECK TIME");
  for (size_t i = 0; i < run->certs->n; i++) {
    const authcert_t *ac = &run->certs->certs[i];
    hexid_t h = hex20(ac->fingerprint);
    isotime_t p = iso(ac->published), e = iso(ac->expires);
    fprintf(out, "  %-*s %-40s %-19s %-19s %s\n", w,
            clean(nick_for(run, ac->fingerprint)).s, h.s, p.s, e.s,
            cert_status_name(run->cert_status[i]));
  }
}

static void
text_microdescs(FILE *out, const cdir_run_t *run)
{
  fprintf(out, "\nMicrodescriptors\n");
  if (run->n_md_files == 0) {
    fprintf(out, "  (no --microdescs given)\n");
    return;
  }
  if (run->consensus->flavor != NS_FLAVOR_MICRODESC) {
    fprintf(out, "  not checked: an ns-flavor consensus names server "
            "descriptors, not microdescriptors\n");
  }
  for (size_t i = 0; i < run->n_md_files; i++)
    fprintf(out, "  %-18s %8zu parsed, %zu malformed skipped (%s)\n",
            i == 0 ? "files" : "", run->mds[i]->n, run->mds[i]->n_invalid,
            run->md_files[i].path);
  if (!run->md_checked)
    return;
  fprintf(out, "  %-18s %8zu\n", "found", run->md_found);
  fprintf(out, "  %-18s %8zu%s\n", "missing", run->md_missing,
          run->md_missing ? " (informational: does not fail verification)"
                          : "");
  fprintf(out, "  %-18s %8zu\n", "unreferenced", run->md_unreferenced);
}

static void
text_resource_row(FILE *out, const char *what, const cdir_file_t *f)
{
  fprintf(out, "  %-24s %12zu %12.3f %12zu\n", what, f->file_bytes,
          ms(f->parse_us), f->heap_bytes);
}

static void
text_resources(FILE *out, const cdir_run_t *run)
{
  fprintf(out, "\nResources\n");
  fprintf(out, "  %-24s %12s %12s %12s\n", "DOCUMENT", "FILE BYTES",
          "PARSE ms", "HEAP HELD");
  text_resource_row(out, "consensus", &run->consensus_file);
  text_resource_row(out, "certificates", &run->certs_file);
  for (size_t i = 0; i < run->n_md_files; i++) {
    char name[48];
    snprintf(name, sizeof(name), "microdescs #%zu", i + 1);
    text_resource_row(out, name, &run->md_files[i]);
  }
  fprintf(out, "  %-24s %12s %12.3f %12zu\n", "total", "",
          ms(run->parse_us_total), run->heap_bytes_total);
}

/* see cdir_output.h */
void
cdir_print_text(FILE *out, const cdir_run_t *run)
{
  char msg[768];
  verdict(run, msg, sizeof(msg));
  if (run->stage != CDIR_STAGE_OK) {
    fprintf(out, "Result: %s\n", msg);
    return;
  }
  text_header(out, run);
  text_flags_params(out, run);
  text_authorities(out, run);
  text_microdescs(out, run);
  text_resources(out, run);
  fprintf(out, "\nResult: %s\n", msg);
}

/* ------------------------------------------------------------------ */
/* JSON report                                                          */

static void
json_file(jw_t *w, const cdir_file_t *f)
{
  jw_obj_begin(w);
  jw_key(w, "path");
  jw_str(w, f->path);
  jw_key(w, "file_bytes");
  jw_uint(w, f->file_bytes);
  jw_key(w, "parse_ms");
  jw_double3(w, ms(f->parse_us));
  jw_key(w, "heap_bytes");
  jw_uint(w, f->heap_bytes);
  jw_obj_end(w);
}

static void
json_consensus(jw_t *w, const cdir_run_t *run)
{
  const ns_consensus_t *c = run->consensus;
  jw_key(w, "flavor");
  jw_str(w, flavor_name(c->flavor));
  jw_key(w, "consensus_method");
  jw_uint(w, c->consensus_method);
  jw_key(w, "valid_after");
  jw_str(w, iso(c->valid_after).s);
  jw_key(w, "fresh_until");
  jw_str(w, iso(c->fresh_until).s);
  jw_key(w, "valid_until");
  jw_str(w, iso(c->valid_until).s);
  jw_key(w, "time_ok");
  jw_bool(w, run->vres.time_ok);
  jw_key(w, "routers");
  jw_uint(w, c->n_routers);
  jw_key(w, "flags");
  jw_obj_begin(w);
  for (unsigned b = 0; b < NS_N_FLAGS; b++) {
    if (!(c->known_flags & (1u << b)) && run->flag_counts[b] == 0)
      continue;
    jw_key(w, ns_flag_name(b));
    jw_uint(w, run->flag_counts[b]);
  }
  jw_obj_end(w);
  jw_key(w, "params");
  jw_obj_begin(w);
  for (size_t i = 0; i < c->params.n; i++) {
    jw_key(w, c->params.items[i].name);
    jw_int(w, c->params.items[i].value);
  }
  jw_obj_end(w);
  jw_key(w, "bandwidth_weights");
  jw_obj_begin(w);
  for (size_t i = 0; i < c->bw_params.n; i++) {
    jw_key(w, c->bw_params.items[i].name);
    jw_int(w, c->bw_params.items[i].value);
  }
  jw_obj_end(w);
}

static void
json_authorities(jw_t *w, const cdir_run_t *run)
{
  const dirverify_result_t *v = &run->vres;
  jw_key(w, "authorities");
  jw_obj_begin(w);
  jw_key(w, "source");
  jw_str(w, auth_source_name(run->auth_source));
  jw_key(w, "configured");
  jw_uint(w, v->n_auth);
  jw_key(w, "needed");
  jw_uint(w, v->n_needed);
  jw_key(w, "valid");
  jw_uint(w, v->n_valid);
  jw_key(w, "unconfigured_signatures");
  jw_uint(w, v->n_sigs_unconfigured);
  jw_key(w, "results");
  jw_arr_begin(w);
  for (size_t i = 0; i < v->n_auth; i++) {
    const dirverify_auth_result_t *r = &v->auth[i];
    jw_obj_begin(w);
    jw_key(w, "nickname");
    jw_str(w, nick_for(run, r->identity));
    jw_key(w, "v3ident");
    jw_str(w, hex20(r->identity).s);
    jw_key(w, "digest");
    jw_str(w, alg_name(r));
    jw_key(w, "status");
    jw_str(w, dirverify_sig_status_str(r->status));
    jw_key(w, "valid");
    jw_bool(w, r->status == DIRVERIFY_SIG_VALID);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  jw_obj_end(w);

  jw_key(w, "certificates");
  jw_arr_begin(w);
  for (size_t i = 0; i < run->certs->n; i++) {
    const authcert_t *ac = &run->certs->certs[i];
    jw_obj_begin(w);
    jw_key(w, "nickname");
    jw_str(w, nick_for(run, ac->fingerprint));
    jw_key(w, "fingerprint");
    jw_str(w, hex20(ac->fingerprint).s);
    jw_key(w, "published");
    jw_str(w, iso(ac->published).s);
    jw_key(w, "expires");
    jw_str(w, iso(ac->expires).s);
    jw_key(w, "status");
    jw_str(w, cert_status_name(run->cert_status[i]));
    jw_obj_end(w);
  }
  jw_arr_end(w);
}

static void
json_microdescs(jw_t *w, const cdir_run_t *run)
{
  jw_key(w, "microdescs");
  if (run->n_md_files == 0) {
    jw_null(w);
    return;
  }
  jw_obj_begin(w);
  jw_key(w, "checked");
  jw_bool(w, run->md_checked);
  jw_key(w, "files");
  jw_arr_begin(w);
  for (size_t i = 0; i < run->n_md_files; i++) {
    jw_obj_begin(w);
    jw_key(w, "path");
    jw_str(w, run->md_files[i].path);
    jw_key(w, "parsed");
    jw_uint(w, run->mds[i]->n);
    jw_key(w, "malformed");
    jw_uint(w, run->mds[i]->n_invalid);
    jw_obj_end(w);
  }
  jw_arr_end(w);
  if (run->md_checked) {
    jw_key(w, "parsed");
    jw_uint(w, run->md_total);
    jw_key(w, "found");
    jw_uint(w, run->md_found);
    jw_key(w, "missing");
    jw_uint(w, run->md_missing);
    jw_key(w, "unreferenced");
    jw_uint(w, run->md_unreferenced);
  }
  jw_obj_end(w);
}

static void
json_resources(jw_t *w, const cdir_run_t *run)
{
  jw_key(w, "documents");
  jw_obj_begin(w);
  if (run->consensus_file.file_bytes) {
    jw_key(w, "consensus");
    json_file(w, &run->consensus_file);
  }
  if (run->certs_file.file_bytes) {
    jw_key(w, "certificates");
    json_file(w, &run->certs_file);
  }
  jw_key(w, "microdescs");
  jw_arr_begin(w);
  for (size_t i = 0; i < run->n_md_files; i++) {
    if (run->md_files[i].file_bytes)
      json_file(w, &run->md_files[i]);
  }
  jw_arr_end(w);
  jw_obj_end(w);
  jw_key(w, "parse_ms");
  jw_double3(w, ms(run->parse_us_total));
  jw_key(w, "heap_bytes");
  jw_uint(w, run->heap_bytes_total);
}

/* see cdir_output.h */
bool
cdir_print_json(FILE *out, const cdir_run_t *run)
{
  jw_t w;
  char msg[768];
  verdict(run, msg, sizeof(msg));
  jw_init(&w, out);
  jw_obj_begin(&w);
  jw_key(&w, "command");
  jw_str(&w, "verify");
  jw_key(&w, "valid");
  jw_bool(&w, cdir_run_ok(run));
  jw_key(&w, "message");
  jw_str(&w, msg);
  jw_key(&w, "error");
  jw_str(&w, run->stage == CDIR_STAGE_OK ? NULL : run->error);
  jw_key(&w, "checked_at");
  jw_str(&w, iso(run->now).s);
  jw_key(&w, "checked_at_source");
  jw_str(&w, run->now_from_at ? "--at" : "current time");
  if (run->stage == CDIR_STAGE_OK) {
    json_consensus(&w, run);
    json_authorities(&w, run);
    json_microdescs(&w, run);
  }
  json_resources(&w, run);
  jw_obj_end(&w);
  return jw_finish(&w);
}

/* ------------------------------------------------------------------ */
/* show-consensus                                                       */

/* see cdir_output.h */
void
cdir_print_routers(FILE *out, const ns_consensus_t *c)
{
  isotime_t va = iso(c->valid_after), vu = iso(c->valid_until);
  fprintf(out, "# flavor %s, method %" PRIu32 ", valid %s .. %s, %zu "
          "routers\n", flavor_name(c->flavor), c->consensus_method, va.s,
          vu.s, c->n_routers);
  fprintf(out, "%-19s %-40s %-21s %10s %s\n", "NICKNAME", "IDENTITY",
          "ADDRESS", "BW(kB/s)", "FLAGS");
  for (size_t i = 0; i < c->n_routers; i++) {
    const ns_routerstatus_t *rs = &c->routers[i];
    char addr[32];
    snprintf(addr, sizeof(addr), "%u.%u.%u.%u:%u",
             (unsigned)(rs->ipv4 >> 24), (unsigned)((rs->ipv4 >> 16) & 0xff),
             (unsigned)((rs->ipv4 >> 8) & 0xff), (unsigned)(rs->ipv4 & 0xff),
             (unsigned)rs->or_port);
    hexid_t h = hex20(rs->identity);
    fprintf(out, "%-19s %-40s %-21s %10" PRIu32 " ", clean(rs->nickname).s,
            h.s, addr, rs->bandwidth);
    bool first = true;
    for (unsigned b = 0; b < NS_N_FLAGS; b++) {
      if (rs->flags & (1u << b)) {
        fprintf(out, "%s%s", first ? "" : ",", ns_flag_name(b));
        first = false;
      }
    }
    fputc('\n', out);
  }
}
