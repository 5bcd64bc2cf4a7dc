/* Synthetic networks for the nodelist and path tests: an ns_consensus_t
 * and microdesc_t records filled in directly (no document text), so the
 * tests control every flag, bandwidth, weight, policy and family member.
 * Included by test_nodelist.c and test_path.c only. */
#ifndef CHIVE_TEST_PATH_SYNTH_H
#define CHIVE_TEST_PATH_SYNTH_H

#include <string.h>

#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "feature/dir/parse/protover.h"
#include "feature/nodes/nodelist.h"

#define SYN_MAX 64
#define SYN_MAX_FAM 8

/* Policies used by the synthetic relays. */
static const policy_range_t SYN_R_WEB[] = {{80, 80}, {443, 443}};
static const policy_range_t SYN_R_ALL[] = {{1, 65535}};
static const policy_range_t SYN_R_25[] = {{25, 25}};

typedef enum {
  SYN_P_NONE = 0, /* no "p": exits nowhere */
  SYN_P_WEB,      /* accept 80,443 */
  SYN_P_ALL,      /* accept 1-65535 */
  SYN_P_REJECT25, /* reject 25 */
} syn_policy_t;

/* Index into syn_t.protos. */
enum { SYN_PR_V3 = 0, SYN_PR_NTOR = 1, SYN_PR_OLD = 2 };

typedef struct syn_t {
  ns_consensus_t c;
  ns_routerstatus_t rs[SYN_MAX];
  microdesc_t md[SYN_MAX];
  bool has_md[SYN_MAX];
  uint8_t fam[SYN_MAX][SYN_MAX_FAM][20];
  protover_set_t protos[3];
  ns_param_t params[1];
  bool init_ok; /* the protover sets parsed */
} syn_t;

/* Identity of relay i: 20 bytes of (i + 1), so the entries are sorted. */
static inline void
syn_identity(size_t i, uint8_t out[20])
{
  memset(out, (int)(i + 1), 20);
}

/* Start an empty network with bwweightscale <b>scale</b> (0 = absent). */
static inline void
syn_init(syn_t *s, int32_t scale)
{
  memset(s, 0, sizeof(*s));
  s->c.flavor = NS_FLAVOR_MICRODESC;
  s->c.routers = s->rs;
  s->c.protos = s->protos;
  s->c.n_protos = 3;
  s->init_ok =
      protover_parse("Relay=1-4", 9, &s->protos[SYN_PR_V3]) == CHIVE_OK &&
      protover_parse("Relay=1-2", 9, &s->protos[SYN_PR_NTOR]) == CHIVE_OK &&
      protover_parse("Relay=1", 7, &s->protos[SYN_PR_OLD]) == CHIVE_OK;
  if (scale > 0) {
    s->params[0].name = "bwweightscale";
    s->params[0].value = scale;
    s->c.params.items = s->params;
    s->c.params.n = 1;
  }
}

/* Set all 19 bandwidth weights to <b>v</b> and mark them present. */
static inline void
syn_weights_all(syn_t *s, int32_t v)
{
  s->c.has_bw_weights = true;
  for (int i = 0; i < BW_N_WEIGHTS; i++)
    s->c.bw_weights.w[i] = v;
  s->c.bw_weights.present = (1u << BW_N_WEIGHTS) - 1;
}

static inline void
syn_weight(syn_t *s, bw_weight_id_t id, int32_t v)
{
  s->c.has_bw_weights = true;
  s->c.bw_weights.w[id] = v;
  s->c.bw_weights.present |= 1u << id;
}

/* Add relay number n_routers: a usable (Running Valid, md, Relay=1-4,
 * Ed25519) relay with <b>flags</b> added, bandwidth <b>bw</b>, address
 * a.b.c.d, policy <b>pol</b>.  Returns its index. */
static inline size_t
syn_add(syn_t *s, const char *nick, uint32_t flags, uint32_t bw, uint8_t a,
        uint8_t b, uint8_t c3, uint8_t d, syn_policy_t pol)
{
  size_t i = s->c.n_routers++;
  ns_routerstatus_t *rs = &s->rs[i];
  microdesc_t *md = &s->md[i];
  syn_identity(i, rs->identity);
  memset(rs->digest, 0, 32);
  rs->digest[0] = 0xd0;
  rs->digest[1] = (uint8_t)i;
  size_t nl = strlen(nick);
  if (nl > NS_MAX_NICKNAME_LEN)
    nl = NS_MAX_NICKNAME_LEN;
  memcpy(rs->nickname, nick, nl);
  rs->nickname[nl] = '\0';
  rs->ipv4 =
      ((uint32_t)a << 24) | ((uint32_t)b << 16) | ((uint32_t)c3 << 8) | d;
  rs->or_port = (uint16_t)(9000 + i);
  rs->flags = flags | NS_FLAG_RUNNING | NS_FLAG_VALID;
  rs->bandwidth = bw;
  rs->has_bandwidth = 1;
  rs->version_idx = NS_IDX_NONE;
  rs->policy_idx = NS_IDX_NONE;
  rs->proto_idx = SYN_PR_V3;
  memcpy(md->digest, rs->digest, 32);
  memset(md->ntor_key, (int)(0x40 + i), 32);
  memset(md->ed25519_id, (int)(0xff - i), 32);
  md->has_ed25519 = 1;
  switch (pol) {
  case SYN_P_WEB:
    md->has_p = 1;
    md->p.accept = true;
    md->p.n_ranges = 2;
    md->p.ranges = SYN_R_WEB;
    break;
  case SYN_P_ALL:
    md->has_p = 1;
    md->p.accept = true;
    md->p.n_ranges = 1;
    md->p.ranges = SYN_R_ALL;
    break;
  case SYN_P_REJECT25:
    md->has_p = 1;
    md->p.accept = false;
    md->p.n_ranges = 1;
    md->p.ranges = SYN_R_25;
    break;
  case SYN_P_NONE:
  default:
    break;
  }
  s->has_md[i] = true;
  return i;
}

/* Make <b>a</b> list <b>b</b> in its family line. */
static inline void
syn_family_lists(syn_t *s, size_t a, size_t b)
{
  microdesc_t *md = &s->md[a];
  syn_identity(b, s->fam[a][md->n_family_ids]);
  md->n_family_ids++;
  md->family_ids = (const uint8_t(*)[20])s->fam[a];
  md->has_family = 1;
}

static inline const microdesc_t *
syn_lookup(void *ctx, const uint8_t digest[32])
{
  syn_t *s = ctx;
  for (size_t i = 0; i < s->c.n_routers; i++) {
    if (s->has_md[i] && memcmp(s->md[i].digest, digest, 32) == 0)
      return &s->md[i];
  }
  return NULL;
}

static inline chive_err_t
syn_build(syn_t *s, nodelist_t **out)
{
  if (!s->init_ok)
    return CHIVE_ERR_INTERNAL;
  return nodelist_build(&s->c, syn_lookup, s, 1000, out);
}

/* An RNG that returns a value set by the test, and records n. */
typedef struct fixed_rng_t {
  uint64_t value;
  uint64_t last_n;
  unsigned calls;
} fixed_rng_t;

static inline uint64_t
fixed_below(void *arg, uint64_t n)
{
  fixed_rng_t *f = arg;
  f->last_n = n;
  f->calls++;
  return f->value < n ? f->value : n - 1;
}

#endif /* !defined(CHIVE_TEST_PATH_SYNTH_H) */
