/**
 * @file cdir_verify.c
 * @brief chive-dir verification run: the same parsers and checks the
 * client uses (ns_consensus_parse, authcert_list_parse, md_list_parse,
 * dirverify_consensus), driven from files.
 **/
#include "lib/cc/compat.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cdir_verify.h"
#include "lib/crypto/crypto_init.h"
#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"
#include "lib/time/clock.h"
#include "lib/time/timefmt.h"

static void run_fail(cdir_run_t *run, const char *fmt, ...) CHIVE_PRINTF(2, 3);

/** Record the first input error of <b>run</b>. */
static void
run_fail(cdir_run_t *run, const char *fmt, ...)
{
  if (run->stage != CDIR_STAGE_OK)
    return;
  run->stage = CDIR_STAGE_INPUT;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(run->error, sizeof(run->error), fmt, ap);
  va_end(ap);
}

/* see cdir_verify.h */
chive_err_t
cdir_parse_time(const char *s, int64_t *out)
{
  if (strlen(s) != TIME_ISO_LEN)
    return CHIVE_ERR_PROTO;
  return time_parse_iso(s, TIME_ISO_LEN, out);
}

/** Read <b>path</b> (at most <b>max</b> bytes) into *<b>buf</b>; on
 * failure record why in <b>run</b> (naming the file as <b>what</b>). */
static chive_err_t
read_input(cdir_run_t *run, const char *what, const char *path, size_t max,
           uint8_t **buf, size_t *len)
{
  errno = 0;
  chive_err_t e = fs_read_file(path, max, buf, len);
  if (e == CHIVE_OK)
    return CHIVE_OK;
  int saved = errno;
  if (e == CHIVE_ERR_NOTFOUND)
    run_fail(run, "%s file '%s': no such file", what, path);
  else if (e == CHIVE_ERR_LIMIT)
    run_fail(run, "%s file '%s': larger than the %zu-byte limit", what,
             path, max);
  else
    run_fail(run, "%s file '%s': cannot read (%s)", what, path,
             saved ? strerror(saved) : chive_err_str(e));
  return e;
}

/** Return the monotonic clock in microseconds. */
static uint64_t
mono_us(void)
{
  return clock_mono_us(clock_system());
}

/** Parse the consensus file into run->consensus. */
static void
load_consensus(const cdir_opts_t *opts, cdir_run_t *run)
{
  uint8_t *buf = NULL;
  size_t len = 0;
  cdir_file_t *f = &run->consensus_file;
  f->path = opts->consensus_path;
  if (read_input(run, "consensus", f->path, CDIR_MAX_CONSENSUS_BYTES, &buf,
                 &len))
    return;
  f->file_bytes = len;
  size_t before = chive_mem_in_use();
  uint64_t t0 = mono_us();
  chive_err_t e = ns_consensus_parse((const char *)buf, len, &run->consensus);
  f->parse_us = mono_us() - t0;
  f->heap_bytes = chive_mem_in_use() - before;
  chive_free(buf);
  if (e)
    run_fail(run, "consensus file '%s': parse error (%s)", f->path,
             chive_err_str(e));
}

/** Parse the certificate file into run->certs. */
static void
load_certs(const cdir_opts_t *opts, cdir_run_t *run)
{
  uint8_t *buf = NULL;
  size_t len = 0;
  cdir_file_t *f = &run->certs_file;
  f->path = opts->certs_path;
  if (read_input(run, "certificate", f->path, CDIR_MAX_CERTS_BYTES, &buf,
                 &len))
    return;
  f->file_bytes = len;
  size_t before = chive_mem_in_use();
  uint64_t t0 = mono_us();
  chive_err_t e = authcert_list_parse((const char *)buf, len, &run->certs);
  f->parse_us = mono_us() - t0;
  f->heap_bytes = chive_mem_in_use() - before;
  chive_free(buf);
  if (e)
    run_fail(run, "certificate file '%s': parse error (%s)", f->path,
             chive_err_str(e));
}

/** Parse every --microdescs file into run->mds[]. */
static void
load_microdescs(const cdir_opts_t *opts, cdir_run_t *run)
{
  for (size_t i = 0; i < opts->n_md_paths; i++) {
    uint8_t *buf = NULL;
    size_t len = 0;
    cdir_file_t *f = &run->md_files[i];
    f->path = opts->md_paths[i];
    run->n_md_files = i + 1;
    if (read_input(run, "microdescriptor", f->path,
                   CDIR_MAX_MICRODESCS_BYTES, &buf, &len))
      return;
    f->file_bytes = len;
    size_t before = chive_mem_in_use();
    uint64_t t0 = mono_us();
    chive_err_t e = md_list_parse((const char *)buf, len, &run->mds[i]);
    f->parse_us = mono_us() - t0;
    f->heap_bytes = chive_mem_in_use() - before;
    chive_free(buf);
    if (e) {
      run_fail(run, "microdescriptor file '%s': parse error (%s)", f->path,
               chive_err_str(e));
      return;
    }
  }
}

/** Copy the nickname the consensus's dir-source lines give
 * <b>id</b>, if any, into <b>a</b>. */
static void
name_from_consensus(const ns_consensus_t *c, cdir_auth_t *a)
{
  for (size_t i = 0; c && i < c->n_dirsources; i++) {
    const ns_dirsource_t *d = &c->dirsources[i];
    if (!d->is_legacy && d->nickname &&
        memcmp(d->identity, a->v3ident, 20) == 0) {
      snprintf(a->nickname, sizeof(a->nickname), "%s", d->nickname);
      return;
    }
  }
}

/** Add an authority to the configured list, ignoring duplicates.
 * Returns false if the list is full. */
static bool
add_auth(cdir_run_t *run, const char *nickname, const uint8_t id[20])
{
  for (size_t i = 0; i < run->n_auth; i++) {
    if (memcmp(run->auth[i].v3ident, id, 20) == 0)
      return true;
  }
  if (run->n_auth == DIRVERIFY_MAX_AUTHORITIES)
    return false;
  cdir_auth_t *a = &run->auth[run->n_auth++];
  memcpy(a->v3ident, id, 20);
  snprintf(a->nickname, sizeof(a->nickname), "%s", nickname ? nickname : "");
  if (!a->nickname[0])
    name_from_consensus(run->consensus, a);
  return true;
}

/** Build the configured authority list from the options. */
static void
configure_authorities(const cdir_opts_t *opts, cdir_run_t *run)
{
  if (opts->authorities_from_certs) {
    run->auth_source = CDIR_AUTH_FROM_CERTS;
    for (size_t i = 0; i < run->certs->n; i++) {
      if (!add_auth(run, NULL, run->certs->certs[i].fingerprint)) {
        run_fail(run, "more than %d distinct certificate identities",
                 DIRVERIFY_MAX_AUTHORITIES);
        return;
      }
    }
  } else if (opts->n_auth_lines) {
    run->auth_source = CDIR_AUTH_LINES;
    for (size_t i = 0; i < opts->n_auth_lines; i++) {
      const char *line = opts->auth_lines[i];
      /* Accept the torrc form with its keyword, too. */
      if (strncmp(line, "DirAuthority ", 13) == 0)
        line += 13;
      dir_server_t ds;
      const char *why = NULL;
      if (dir_server_parse_authority(line, &ds, &why) != CHIVE_OK) {
        run_fail(run, "--authority-line '%s': %s", opts->auth_lines[i],
                 why ? why : "malformed");
        return;
      }
      if (!ds.has_v3ident) {
        run_fail(run, "--authority-line '%s': no v3ident= (needed to check "
                 "consensus signatures)", opts->auth_lines[i]);
        return;
      }
      if (!add_auth(run, ds.nickname, ds.v3ident)) {
        run_fail(run, "too many authorities");
        return;
      }
    }
  } else {
    run->auth_source = CDIR_AUTH_DEFAULT;
    dir_server_t ds[DIR_N_DEFAULT_AUTHORITIES];
    size_t n = dir_default_authorities(ds, DIR_N_DEFAULT_AUTHORITIES);
    for (size_t i = 0; i < n; i++) {
      if (ds[i].has_v3ident)
        (void)add_auth(run, ds[i].nickname, ds[i].v3ident);
    }
  }
  if (run->n_auth == 0 && run->stage == CDIR_STAGE_OK)
    run_fail(run, "no authorities configured (the certificate file holds "
             "no certificates?)");
}

/** Count flags, and match microdescriptors against the consensus. */
static chive_err_t
summarise(cdir_run_t *run)
{
  const ns_consensus_t *c = run->consensus;
  for (size_t i = 0; i < c->n_routers; i++) {
    for (unsigned b = 0; b < NS_N_FLAGS; b++) {
      if (c->routers[i].flags & (1u << b))
        run->flag_counts[b]++;
    }
  }
  if (c->flavor != NS_FLAVOR_MICRODESC || run->n_md_files == 0)
    return CHIVE_OK;
  /* One "referenced" mark per parsed microdescriptor, per file. */
  bool *seen[CDIR_MAX_MD_FILES] = {0};
  chive_err_t err = CHIVE_OK;
  for (size_t f = 0; f < run->n_md_files; f++) {
    run->md_total += run->mds[f]->n;
    run->md_invalid += run->mds[f]->n_invalid;
    seen[f] = chive_calloc(run->mds[f]->n ? run->mds[f]->n : 1,
                           sizeof(bool));
    if (!seen[f]) {
      err = CHIVE_ERR_NOMEM;
      goto done;
    }
  }
  for (size_t i = 0; i < c->n_routers; i++) {
    bool found = false;
    for (size_t f = 0; f < run->n_md_files; f++) {
      const microdesc_t *md = md_list_find(run->mds[f], c->routers[i].digest);
      if (md) {
        seen[f][md - run->mds[f]->mds] = true;
        found = true;
      }
    }
    if (found)
      run->md_found++;
    else
      run->md_missing++;
  }
  for (size_t f = 0; f < run->n_md_files; f++) {
    for (size_t j = 0; j < run->mds[f]->n; j++)
      run->md_unreferenced += seen[f][j] ? 0 : 1;
  }
  run->md_checked = true;
done:
  for (size_t f = 0; f < run->n_md_files; f++)
    chive_free(seen[f]);
  return err;
}

/* see cdir_verify.h */
void
cdir_run_verify(const cdir_opts_t *opts, cdir_run_t *run)
{
  memset(run, 0, sizeof(*run));
  run->verify_err = CHIVE_ERR_INVAL;
  if (crypto_global_init() != CHIVE_OK) {
    run_fail(run, "cannot initialise the crypto library");
    return;
  }
  run->now_from_at = opts->have_at;
  run->now = opts->have_at ? opts->at : clock_wall_s(clock_system());

  load_consensus(opts, run);
  if (run->stage == CDIR_STAGE_OK)
    load_certs(opts, run);
  if (run->stage == CDIR_STAGE_OK)
    load_microdescs(opts, run);
  run->parse_us_total = run->consensus_file.parse_us +
                        run->certs_file.parse_us;
  run->heap_bytes_total = run->consensus_file.heap_bytes +
                          run->certs_file.heap_bytes;
  for (size_t i = 0; i < run->n_md_files; i++) {
    run->parse_us_total += run->md_files[i].parse_us;
    run->heap_bytes_total += run->md_files[i].heap_bytes;
  }
  if (run->stage != CDIR_STAGE_OK)
    return;

  configure_authorities(opts, run);
  if (run->stage != CDIR_STAGE_OK)
    return;

  run->cert_status = chive_calloc(run->certs->n ? run->certs->n : 1,
                                  sizeof(chive_err_t));
  if (!run->cert_status || summarise(run) != CHIVE_OK) {
    run_fail(run, "out of memory");
    return;
  }
  for (size_t i = 0; i < run->certs->n; i++) {
    run->cert_status[i] = dirverify_authcert(&run->certs->certs[i],
                                             run->now,
                                             DIRVERIFY_DEFAULT_CERT_SKEW);
  }

  uint8_t ids[DIRVERIFY_MAX_AUTHORITIES][20];
  for (size_t i = 0; i < run->n_auth; i++)
    memcpy(ids[i], run->auth[i].v3ident, 20);
  dirverify_opts_t vopts;
  dirverify_opts_init(&vopts, run->now);
  run->verify_err = dirverify_consensus(
      run->consensus, run->certs->certs, run->certs->n,
      (const uint8_t(*)[20])ids, run->n_auth, &vopts, &run->vres);
}

/* see cdir_verify.h */
void
cdir_run_clear(cdir_run_t *run)
{
  ns_consensus_free(run->consensus);
  authcert_list_free(run->certs);
  for (size_t i = 0; i < CDIR_MAX_MD_FILES; i++)
    md_list_free(run->mds[i]);
  chive_free(run->cert_status);
  run->cert_status = NULL;
}

/* see cdir_verify.h */
bool
cdir_run_ok(const cdir_run_t *run)
{
  return run->stage == CDIR_STAGE_OK && run->verify_err == CHIVE_OK;
}
