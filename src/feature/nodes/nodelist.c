/**
 * @file nodelist.c
 * @brief The node list: consensus entries joined with microdescriptors.
 **/
#include "lib/cc/compat.h"

#include <stdlib.h>
#include <string.h>

#include "feature/nodes/nodelist.h"
#include "lib/err/err.h"
#include "lib/malloc/malloc.h"

struct nodelist_t {
  const ns_consensus_t *consensus; /**< Borrowed. */
  size_t n;
  node_t *nodes; /**< n entries, consensus (identity) order. */
  size_t n_usable;
  size_t n_with_md;
  size_t n_ed;
  const node_t **by_ed; /**< n_ed nodes with an Ed25519 id, sorted. */
  int64_t built_at;
};

/** qsort order of by_ed: Ed25519 identity bytes (not secret). */
static int
cmp_by_ed(const void *a, const void *b)
{
  const node_t *na = *(const node_t *const *)a;
  const node_t *nb = *(const node_t *const *)b;
  int r = memcmp(na->md->ed25519_id, nb->md->ed25519_id, 32);
  if (r)
    return r;
  /* Stable tie-break so equal keys sort deterministically. */
  return (na->idx > nb->idx) - (na->idx < nb->idx);
}

/** Fill the derived fields of <b>n</b> from its rs and md. */
static void
node_init(const ns_consensus_t *c, node_t *n)
{
  const ns_routerstatus_t *rs = n->rs;
  const microdesc_t *md = n->md;
  unsigned nf = 0;
  n->flags = rs->flags;
  n->bandwidth = rs->has_bandwidth ? rs->bandwidth : 0;
  n->ipv4 = rs->ipv4;
  n->or_port = rs->or_port;
  const protover_set_t *pr = ns_routerstatus_protos(c, rs);
  /* tor-spec §9: Relay=2 is ntor + CREATE2/EXTEND2; Relay=4 ntor-v3. */
  if (pr && protover_supports(pr, PROTO_RELAY, 2))
    nf |= NODE_F_NTOR;
  if (md) {
    nf |= NODE_F_HAS_MD;
    if (md->has_ed25519) {
      nf |= NODE_F_HAS_ED;
      if (pr && protover_supports(pr, PROTO_RELAY, 4))
        nf |= NODE_F_NTOR_V3;
    }
    if (md->has_family && md->n_family_ids > 0)
      nf |= NODE_F_HAS_FAMILY;
    if (policy_summary_allows_any(microdesc_policy(md)))
      nf |= NODE_F_EXIT_ANY;
  }
  /* A microdescriptor always carries its ntor key (md_parse requires
   * "ntor-onion-key"), so HAS_MD implies we can run ntor with it. */
  if ((rs->flags & NS_FLAG_RUNNING) && (rs->flags & NS_FLAG_VALID) &&
      (nf & NODE_F_HAS_MD) && (nf & NODE_F_NTOR))
    nf |= NODE_F_USABLE;
  n->nflags = (uint16_t)nf;
}

chive_err_t
nodelist_build(const ns_consensus_t *c, nodelist_md_lookup_fn lookup,
               void *ctx, int64_t now, nodelist_t **out)
{
  if (!c || !out || c->flavor != NS_FLAVOR_MICRODESC)
    return CHIVE_ERR_INVAL;
  if (c->n_routers > NS_MAX_ROUTERS || (c->n_routers && !c->routers))
    return CHIVE_ERR_INVAL;
  nodelist_t *nl = chive_zalloc(sizeof(*nl));
  if (!nl)
    return CHIVE_ERR_NOMEM;
  nl->consensus = c;
  nl->built_at = now;
  nl->n = c->n_routers;
  if (nl->n) {
    nl->nodes = chive_calloc(nl->n, sizeof(node_t));
    if (!nl->nodes)
      goto nomem;
  }
  for (size_t i = 0; i < nl->n; i++) {
    node_t *n = &nl->nodes[i];
    n->rs = &c->routers[i];
    n->idx = (uint32_t)i;
    n->md = lookup ? lookup(ctx, n->rs->digest) : NULL;
    node_init(c, n);
    if (n->nflags & NODE_F_USABLE)
      nl->n_usable++;
    if (n->nflags & NODE_F_HAS_MD)
      nl->n_with_md++;
    if (n->nflags & NODE_F_HAS_ED)
      nl->n_ed++;
  }
  if (nl->n_ed) {
    nl->by_ed = chive_calloc(nl->n_ed, sizeof(*nl->by_ed));
    if (!nl->by_ed)
      goto nomem;
    size_t k = 0;
    for (size_t i = 0; i < nl->n; i++) {
      if (nl->nodes[i].nflags & NODE_F_HAS_ED)
        nl->by_ed[k++] = &nl->nodes[i];
    }
    qsort(nl->by_ed, nl->n_ed, sizeof(*nl->by_ed), cmp_by_ed);
  }
  *out = nl;
  return CHIVE_OK;
nomem:
  nodelist_free_(nl);
  return CHIVE_ERR_NOMEM;
}

void
nodelist_free_(nodelist_t *nl)
{
  if (!nl)
    return;
  chive_free(nl->nodes);
  chive_free(nl->by_ed);
  chive_free(nl);
}

size_t
nodelist_size(const nodelist_t *nl)
{
  return nl ? nl->n : 0;
}

const node_t *
nodelist_node(const nodelist_t *nl, size_t i)
{
  if (!nl || i >= nl->n)
    return NULL;
  return &nl->nodes[i];
}

size_t
nodelist_n_usable(const nodelist_t *nl)
{
  return nl ? nl->n_usable : 0;
}

size_t
nodelist_n_with_md(const nodelist_t *nl)
{
  return nl ? nl->n_with_md : 0;
}

const ns_consensus_t *
nodelist_consensus(const nodelist_t *nl)
{
  return nl ? nl->consensus : NULL;
}

int64_t
nodelist_built_at(const nodelist_t *nl)
{
  return nl ? nl->built_at : 0;
}

size_t
nodelist_bytes(const nodelist_t *nl)
{
  if (!nl)
    return 0;
  return sizeof(*nl) + nl->n * sizeof(node_t) + nl->n_ed * sizeof(*nl->by_ed);
}

const node_t *
nodelist_find_by_rsa(const nodelist_t *nl, const uint8_t id[20])
{
  if (!nl || !id)
    return NULL;
  size_t lo = 0, hi = nl->n;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = memcmp(nl->nodes[mid].rs->identity, id, 20);
    if (r == 0)
      return &nl->nodes[mid];
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const node_t *
nodelist_find_by_ed(const nodelist_t *nl, const uint8_t ed[32])
{
  if (!nl || !ed)
    return NULL;
  size_t lo = 0, hi = nl->n_ed;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    int r = memcmp(nl->by_ed[mid]->md->ed25519_id, ed, 32);
    if (r == 0)
      return nl->by_ed[mid];
    if (r < 0)
      lo = mid + 1;
    else
      hi = mid;
  }
  return NULL;
}

const uint8_t *
node_rsa_id(const node_t *n)
{
  return n->rs->identity;
}

const uint8_t *
node_ed_id(const node_t *n)
{
  return (n->nflags & NODE_F_HAS_ED) ? n->md->ed25519_id : NULL;
}

const char *
node_nickname(const node_t *n)
{
  return n->rs->nickname;
}

const protover_set_t *
node_protos(const nodelist_t *nl, const node_t *n)
{
  if (!nl || !n)
    return NULL;
  return ns_routerstatus_protos(nl->consensus, n->rs);
}

bool
node_lists_in_family(const node_t *a, const node_t *b)
{
  if (!(a->nflags & NODE_F_HAS_FAMILY))
    return false;
  const uint8_t *id = b->rs->identity;
  /* Family lists are public; a plain compare is fine. */
  for (size_t i = 0; i < a->md->n_family_ids; i++) {
    if (fast_memeq(a->md->family_ids[i], id, 20))
      return true;
  }
  return false;
}

bool
nodes_in_same_family(const node_t *a, const node_t *b)
{
  /* path-spec §2.2: "each one lists the other". */
  return a != b && node_lists_in_family(a, b) && node_lists_in_family(b, a);
}

bool
nodes_in_same_subnet16(const node_t *a, const node_t *b)
{
  return (a->ipv4 >> 16) == (b->ipv4 >> 16);
}

void
nodelist_foreach_family_member(const nodelist_t *nl, const node_t *n,
                               void (*fn)(void *arg, const node_t *m),
                               void *arg)
{
  if (!nl || !n || !fn || !(n->nflags & NODE_F_HAS_FAMILY))
    return;
  for (size_t i = 0; i < n->md->n_family_ids; i++) {
    const node_t *m = nodelist_find_by_rsa(nl, n->md->family_ids[i]);
    if (!m || m == n || !node_lists_in_family(m, n))
      continue;
    /* A member listed twice is reported once: skip it if an earlier
     * entry of the list names the same identity. */
    bool dup = false;
    for (size_t j = 0; j < i && !dup; j++)
      dup = fast_memeq(n->md->family_ids[j], n->md->family_ids[i], 20);
    if (!dup)
      fn(arg, m);
  }
}

chive_err_t
node_to_hop_info(const node_t *n, circuit_hop_info_t *out)
{
  if (!n || !out || !n->md)
    return CHIVE_ERR_INVAL;
  circuit_hop_info_t h;
  memset(&h, 0, sizeof(h));
  h.has_ipv4 = true;
  h.ipv4[0] = (uint8_t)(n->ipv4 >> 24);
  h.ipv4[1] = (uint8_t)(n->ipv4 >> 16);
  h.ipv4[2] = (uint8_t)(n->ipv4 >> 8);
  h.ipv4[3] = (uint8_t)n->ipv4;
  h.ipv4_port = n->or_port;
  /* IPv6: the consensus "a" line (method >= 27), else the md's (older
   * microdescriptors carried it). */
  if (n->rs->has_ipv6) {
    h.has_ipv6 = true;
    memcpy(h.ipv6, n->rs->ipv6, 16);
    h.ipv6_port = n->rs->ipv6_port;
  } else if (n->md->has_ipv6) {
    h.has_ipv6 = true;
    memcpy(h.ipv6, n->md->ipv6, 16);
    h.ipv6_port = n->md->ipv6_port;
  }
  memcpy(h.rsa_id, n->rs->identity, CIRCUIT_HOP_RSA_ID_LEN);
  if (n->nflags & NODE_F_HAS_ED) {
    h.has_ed_id = true;
    memcpy(h.ed_id, n->md->ed25519_id, CIRCUIT_HOP_ED_ID_LEN);
  }
  memcpy(h.ntor_onion_key, n->md->ntor_key, CIRCUIT_HOP_NTOR_KEY_LEN);
  h.supports_ntor_v3 = (n->nflags & NODE_F_NTOR_V3) != 0;
  *out = h;
  return CHIVE_OK;
}
