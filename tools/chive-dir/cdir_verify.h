/**
 * @file cdir_verify.h
 * @brief chive-dir's verification run: read the files, parse them with the
 * library's own directory parsers (feature/dir/parse), verify with
 * feature/dir/dirverify, and collect everything the report prints.  No
 * printing here (see cdir_output.h).
 **/
#ifndef CHIVE_TOOLS_CDIR_VERIFY_H
#define CHIVE_TOOLS_CDIR_VERIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/dirauth.h"
#include "feature/dir/dirverify.h"
#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"

/** Largest consensus file read, bytes (live ones are ~3 MB). */
#define CDIR_MAX_CONSENSUS_BYTES (64u * 1024u * 1024u)
/** Largest certificate file read, bytes (live ones are ~20 kB). */
#define CDIR_MAX_CERTS_BYTES (8u * 1024u * 1024u)
/** Largest microdescriptor file read, bytes (live sets reach tens of
 * MB because of long family lines). */
#define CDIR_MAX_MICRODESCS_BYTES (512u * 1024u * 1024u)
/** Most --microdescs files. */
#define CDIR_MAX_MD_FILES 16
/** Most --authority-line options. */
#define CDIR_MAX_AUTH_LINES DIRVERIFY_MAX_AUTHORITIES

/** Where the configured authority list comes from. */
typedef enum {
  CDIR_AUTH_DEFAULT = 0, /**< dir_default_authorities(): live network. */
  CDIR_AUTH_LINES,       /**< --authority-line options. */
  CDIR_AUTH_FROM_CERTS,  /**< --authorities-from-certs. */
} cdir_auth_source_t;

/** What the user asked for (strings borrowed from argv). */
typedef struct cdir_opts_t {
  const char *consensus_path;
  const char *certs_path;
  const char *md_paths[CDIR_MAX_MD_FILES];
  size_t n_md_paths;
  const char *auth_lines[CDIR_MAX_AUTH_LINES];
  size_t n_auth_lines;
  bool authorities_from_certs;
  bool have_at;
  int64_t at; /**< --at, seconds UTC, if have_at. */
} cdir_opts_t;

/** One parsed input file. */
typedef struct cdir_file_t {
  const char *path;   /**< Borrowed. */
  size_t file_bytes;  /**< Size on disk. */
  uint64_t parse_us;  /**< Wall time of the parse call alone. */
  size_t heap_bytes;  /**< chive_mem_in_use() growth the parse left. */
} cdir_file_t;

/** One configured authority and its signature result. */
typedef struct cdir_auth_t {
  char nickname[DIR_SERVER_NICKNAME_MAX_LEN + 1]; /**< "" if unknown. */
  uint8_t v3ident[20];
} cdir_auth_t;

/** Where a run stopped. */
typedef enum {
  CDIR_STAGE_OK = 0,     /**< Everything parsed and was checked. */
  CDIR_STAGE_INPUT,      /**< A file could not be read or parsed, or the
                          * authority configuration was bad. */
} cdir_stage_t;

/** Result of a run.  Owns the parsed documents. */
typedef struct cdir_run_t {
  cdir_stage_t stage;
  char error[512];       /**< Why, when stage != CDIR_STAGE_OK. */
  int64_t now;           /**< Time the checks used. */
  bool now_from_at;      /**< now came from --at. */

  cdir_file_t consensus_file;
  ns_consensus_t *consensus;
  cdir_file_t certs_file;
  authcert_list_t *certs;
  /** dirverify_authcert() of each certificate at now. */
  chive_err_t *cert_status;
  size_t n_md_files;
  cdir_file_t md_files[CDIR_MAX_MD_FILES];
  md_list_t *mds[CDIR_MAX_MD_FILES];

  cdir_auth_source_t auth_source;
  size_t n_auth;
  cdir_auth_t auth[DIRVERIFY_MAX_AUTHORITIES];

  /** Signature/time verification (valid iff stage == CDIR_STAGE_OK). */
  chive_err_t verify_err;
  dirverify_result_t vres;

  size_t flag_counts[NS_N_FLAGS];

  /** Microdescriptor matching: only for the microdesc flavor with at
   * least one --microdescs file. */
  bool md_checked;
  size_t md_total;        /**< Parsed, over all files. */
  size_t md_invalid;      /**< Skipped as malformed, over all files. */
  size_t md_found;        /**< Consensus entries whose md is present. */
  size_t md_missing;      /**< Consensus entries whose md is absent. */
  size_t md_unreferenced; /**< Parsed mds no consensus entry names. */

  uint64_t parse_us_total;
  size_t heap_bytes_total;
} cdir_run_t;

/** Run the whole verification described by <b>opts</b> into a zeroed
 * <b>run</b>.  Never fails as a function: run->stage and run->error say
 * whether inputs were usable, run->verify_err what dirverify_consensus()
 * said.  Free with cdir_run_clear(). */
void cdir_run_verify(const cdir_opts_t *opts, cdir_run_t *run);

/** Free everything <b>run</b> owns. */
void cdir_run_clear(cdir_run_t *run);

/** Return true iff <b>run</b> passed: inputs parsed, enough valid
 * signatures, time within the validity window.  Missing
 * microdescriptors do not fail a run. */
bool cdir_run_ok(const cdir_run_t *run);

/** Parse "YYYY-MM-DD HH:MM:SS" (UTC) into *<b>out</b>. */
chive_err_t cdir_parse_time(const char *s, int64_t *out);

#endif /* !defined(CHIVE_TOOLS_CDIR_VERIFY_H) */
