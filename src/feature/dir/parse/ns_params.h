/**
 * @file ns_params.h
 * @brief Consensus "params" and "bandwidth-weights" lines (dir-spec
 * §3.4.1): "Keyword=Int32" lists, a table of the parameters chive uses
 * with param-spec defaults and clamps, and the 19 bandwidth weights.
 **/
#ifndef CHIVE_FEATURE_DIR_PARSE_NS_PARAMS_H
#define CHIVE_FEATURE_DIR_PARSE_NS_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "feature/dir/parse/dirarena.h"
#include "feature/dir/parse/dirtok.h"
#include "lib/cc/cc.h"

/** Longest parameter name kept, bytes. */
#define NS_PARAM_MAX_NAME_LEN 64

typedef struct ns_param_t {
  const char *name; /**< NUL-terminated, arena-owned. */
  int32_t value;
} ns_param_t;

/** A parsed Keyword=Int32 list, in document order. */
typedef struct ns_params_t {
  size_t n;
  const ns_param_t *items;
} ns_params_t;

/** Parse the arguments of <b>tok</b> as "Keyword=Int32" pairs into
 * *<b>out</b>, names copied into <b>arena</b>.  Names must be distinct
 * (CHIVE_ERR_PROTO otherwise, or for a malformed pair or an out-of-range
 * value); CHIVE_ERR_NOMEM. */
CHIVE_MUST_CHECK chive_err_t ns_params_parse(const dirtok_t *tok,
                                             dirarena_t *arena,
                                             ns_params_t *out);

/** Look <b>name</b> up; set *<b>value</b> and return true if present. */
bool ns_params_lookup(const ns_params_t *p, const char *name,
                      int32_t *value);

/** Return the value of <b>name</b> clamped to [min, max], or <b>def</b>
 * if absent (tor's networkstatus_get_param). */
int32_t ns_params_get(const ns_params_t *p, const char *name, int32_t def,
                      int32_t min, int32_t max);

/** Parameters chive uses, with param-spec.txt defaults and bounds. */
typedef enum {
  NS_PARAM_CIRCWINDOW = 0,
  NS_PARAM_USE_OPTIMISTIC_DATA,
  NS_PARAM_USECREATEFAST,
  NS_PARAM_CIRCUIT_PRIORITY_HALFLIFE_MSEC,
  NS_PARAM_BWWEIGHTSCALE,
  NS_PARAM_SENDME_EMIT_MIN_VERSION,
  NS_PARAM_SENDME_ACCEPT_MIN_VERSION,
  NS_PARAM_CBTDISABLED,
  NS_PARAM_CBTNUMMODES,
  NS_PARAM_CBTRECENTCOUNT,
  NS_PARAM_CBTMAXTIMEOUTS,
  NS_PARAM_CBTMINCIRCS,
  NS_PARAM_CBTQUANTILE,
  NS_PARAM_CBTCLOSEQUANTILE,
  NS_PARAM_CBTTESTFREQ,
  NS_PARAM_CBTMINTIMEOUT,
  NS_PARAM_CBTINITIALTIMEOUT,
  NS_PARAM_HSDIR_INTERVAL,
  NS_PARAM_HSDIR_N_REPLICAS,
  NS_PARAM_HSDIR_SPREAD_FETCH,
  NS_PARAM_HSDIR_SPREAD_STORE,
  NS_PARAM_HSV3_MAX_DESCRIPTOR_SIZE,
  NS_PARAM_GUARD_LIFETIME_DAYS,
  NS_PARAM_GUARD_CONFIRMED_MIN_LIFETIME_DAYS,
  NS_PARAM_GUARD_MAX_SAMPLE_SIZE,
  NS_PARAM_GUARD_MAX_SAMPLE_THRESHOLD_PERCENT,
  NS_PARAM_GUARD_N_PRIMARY_GUARDS,
  NS_PARAM_GUARD_N_PRIMARY_GUARDS_TO_USE,
  NS_PARAM_GUARD_N_PRIMARY_DIR_GUARDS_TO_USE,
  NS_PARAM_GUARD_MIN_FILTERED_SAMPLE_SIZE,
  NS_PARAM_GUARD_REMOVE_UNLISTED_AFTER_DAYS,
  NS_PARAM_CC_ALG,
  NS_PARAM_CC_CWND_MIN,
  NS_PARAM_CC_CWND_INC,
  NS_PARAM_CC_CWND_INC_RATE,
  NS_PARAM_CC_SSCAP_EXIT,
  NS_PARAM_CC_VEGAS_ALPHA_EXIT,
  NS_PARAM_CC_VEGAS_BETA_EXIT,
  NS_PARAM_CC_VEGAS_GAMMA_EXIT,
  NS_PARAM_CC_VEGAS_DELTA_EXIT,
  NS_PARAM_CIRC_MAX_CELL_QUEUE_SIZE,
  NS_PARAM_N_KNOWN
} ns_param_id_t;

typedef struct ns_param_info_t {
  const char *name;
  int32_t def, min, max;
} ns_param_info_t;

/** Return the table entry for <b>id</b>, or NULL if out of range. */
const ns_param_info_t *ns_param_info(ns_param_id_t id);
/** Value of known parameter <b>id</b>, defaulted and clamped per the
 * table. */
int32_t ns_params_get_known(const ns_params_t *p, ns_param_id_t id);

/** dir-spec §3.4.1 bandwidth weights (divided by bwweightscale). */
typedef enum {
  BW_WBD = 0, BW_WBE, BW_WBG, BW_WBM, BW_WDB, BW_WEB, BW_WED, BW_WEE,
  BW_WEG, BW_WEM, BW_WGB, BW_WGD, BW_WGG, BW_WGM, BW_WMB, BW_WMD, BW_WME,
  BW_WMG, BW_WMM, BW_N_WEIGHTS
} bw_weight_id_t;

typedef struct ns_bw_weights_t {
  int32_t w[BW_N_WEIGHTS];
  uint32_t present; /**< Bit i set iff weight i was in the line. */
} ns_bw_weights_t;

/** Return the name ("Wgg") of weight <b>id</b>. */
const char *ns_bw_weight_name(bw_weight_id_t id);
/** Fill *<b>out</b> from a parsed bandwidth-weights list (unknown names
 * ignored). */
void ns_bw_weights_from_params(const ns_params_t *p, ns_bw_weights_t *out);

#endif /* !defined(CHIVE_FEATURE_DIR_PARSE_NS_PARAMS_H) */
