/**
 * @file nodelist.h
 * @brief The node list: an immutable join of a verified microdesc
 * consensus with the microdescriptors we hold, for path selection and
 * guards.
 *
 * One node_t per consensus router entry, in consensus order (sorted by
 * RSA identity).  Each node borrows its routerstatus and, if we have it,
 * its microdescriptor (NULL otherwise), plus a few derived bits so that
 * the hot loops of path selection touch one small struct.
 *
 * Lifetime: a nodelist BORROWS the consensus and every microdescriptor
 * returned by the lookup function.  Both must outlive it and must not
 * change while it lives.  When a new consensus arrives or microdescriptors
 * are added or dropped, build a new nodelist and free the old one once no
 * caller holds its node_t pointers.  A nodelist is never modified after
 * nodelist_build() returns, so any number of readers may share it.
 **/
#ifndef CHIVE_FEATURE_NODES_NODELIST_H
#define CHIVE_FEATURE_NODES_NODELIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "core/circuit/circuit.h"
#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "lib/cc/cc.h"

/** Derived node bits (node_t.nflags). */
typedef enum {
  /** Running, Valid, has a microdescriptor (with its ntor key) and lists
   * Relay=2 (ntor, CREATE2/EXTEND2): we can extend a circuit to it.
   * Relays with an empty "pr" line (19 pre-0.2.9 relays in the 2017
   * data) are not usable: we do not guess protocols from "v". */
  NODE_F_USABLE = 1u << 0,
  NODE_F_HAS_MD = 1u << 1,     /**< md != NULL. */
  NODE_F_HAS_ED = 1u << 2,     /**< The md has an Ed25519 identity. */
  NODE_F_NTOR = 1u << 3,       /**< "pr" lists Relay=2 (tor-spec §9). */
  NODE_F_NTOR_V3 = 1u << 4,    /**< "pr" lists Relay=4 and HAS_ED. */
  NODE_F_HAS_FAMILY = 1u << 5, /**< The md lists "$id" family members. */
  /** The md's IPv4 exit policy summary allows at least one port. */
  NODE_F_EXIT_ANY = 1u << 6,
} node_flag_t;

/** One relay.  40 bytes on LP64.  Fields are read-only for users. */
typedef struct node_t {
  const ns_routerstatus_t *rs; /**< Borrowed from the consensus. */
  const microdesc_t *md;       /**< Borrowed, or NULL if we lack it. */
  uint32_t flags;              /**< ns_flag_t bits (copy of rs->flags). */
  uint32_t bandwidth;          /**< Consensus "w Bandwidth=" (kB/s). */
  uint32_t ipv4;               /**< Host order. */
  uint32_t idx;                /**< Index in the nodelist. */
  uint16_t or_port;
  uint16_t nflags; /**< node_flag_t bits. */
} node_t;

typedef struct nodelist_t nodelist_t;

/** Look up the microdescriptor whose SHA-256 is <b>digest</b>; return it
 * (borrowed; it must outlive the nodelist) or NULL if we do not have it. */
typedef const microdesc_t *(*nodelist_md_lookup_fn)(void *ctx,
                                                    const uint8_t digest[32]);

/** Build a nodelist from <b>c</b> (a microdesc-flavor consensus the
 * caller has verified) and the microdescriptors <b>lookup</b> finds
 * (called once per router with <b>ctx</b>; NULL lookup = no mds).
 * <b>now</b> (seconds, UTC) is recorded as the build time.  Returns
 * CHIVE_ERR_INVAL for a NULL or ns-flavor consensus, CHIVE_ERR_NOMEM.
 * *<b>out</b> is written only on success; free with nodelist_free(). */
CHIVE_MUST_CHECK chive_err_t nodelist_build(const ns_consensus_t *c,
                                            nodelist_md_lookup_fn lookup,
                                            void *ctx, int64_t now,
                                            nodelist_t **out);
/** Free <b>nl</b> (not what it borrows); NULL is a no-op. */
void nodelist_free_(nodelist_t *nl);
#define nodelist_free(p) CHIVE_FREE_AND_NULL(nodelist_t, nodelist_free_, (p))

/** Number of nodes (= consensus router entries). */
size_t nodelist_size(const nodelist_t *nl);
/** Node number <b>i</b> (0..size-1, identity order), or NULL. */
const node_t *nodelist_node(const nodelist_t *nl, size_t i);
/** Number of NODE_F_USABLE nodes. */
size_t nodelist_n_usable(const nodelist_t *nl);
/** Number of nodes with a microdescriptor. */
size_t nodelist_n_with_md(const nodelist_t *nl);
/** The consensus this list was built from (borrowed). */
const ns_consensus_t *nodelist_consensus(const nodelist_t *nl);
/** The <b>now</b> given to nodelist_build(). */
int64_t nodelist_built_at(const nodelist_t *nl);
/** Heap bytes the nodelist itself holds (not what it borrows). */
size_t nodelist_bytes(const nodelist_t *nl);

/** Node with RSA identity digest <b>id</b>, or NULL (binary search). */
const node_t *nodelist_find_by_rsa(const nodelist_t *nl, const uint8_t id[20]);
/** Node whose microdescriptor has Ed25519 identity <b>ed</b>, or NULL
 * (binary search).  If two entries claim one key, either may be
 * returned. */
const node_t *nodelist_find_by_ed(const nodelist_t *nl, const uint8_t ed[32]);

/** True iff every bit of <b>f</b> (ns_flag_t) is set on <b>n</b>. */
static inline bool
node_has_flags(const node_t *n, uint32_t f)
{
  return (n->flags & f) == f;
}
/** True iff every bit of <b>f</b> (node_flag_t) is set on <b>n</b>. */
static inline bool
node_has_nflags(const node_t *n, unsigned f)
{
  return ((unsigned)n->nflags & f) == f;
}

/** RSA identity digest of <b>n</b>. */
const uint8_t *node_rsa_id(const node_t *n);
/** Ed25519 identity of <b>n</b>, or NULL if its md has none. */
const uint8_t *node_ed_id(const node_t *n);
/** Nickname (from the consensus). */
const char *node_nickname(const node_t *n);
/** Protocol versions of <b>n</b> ("pr"), or NULL. */
const protover_set_t *node_protos(const nodelist_t *nl, const node_t *n);

/** True iff <b>a</b>'s microdescriptor lists <b>b</b> ("$hexid" form)
 * in its family line.  Nickname members are ignored (they name nobody
 * since the Named flag was retired). */
bool node_lists_in_family(const node_t *a, const node_t *b);
/** path-spec §2.2: true iff <b>a</b> and <b>b</b> are distinct and each
 * lists the other in its family. */
bool nodes_in_same_family(const node_t *a, const node_t *b);
/** True iff the IPv4 addresses of <b>a</b> and <b>b</b> share their
 * first 16 bits (path-spec §2.2, EnforceDistinctSubnets). */
bool nodes_in_same_subnet16(const node_t *a, const node_t *b);

/** Call <b>fn</b>(<b>arg</b>, member) for every node in a mutual family
 * with <b>n</b> (each lists the other; <b>n</b> itself excluded).  Cost:
 * O(k (log N + k')) for k listed members with k' members each. */
void nodelist_foreach_family_member(const nodelist_t *nl, const node_t *n,
                                    void (*fn)(void *arg, const node_t *m),
                                    void *arg);

/** Fill *<b>out</b> with what a circuit needs to extend to <b>n</b>
 * (addresses, RSA and Ed25519 identities, ntor key, ntor-v3 support).
 * Returns CHIVE_ERR_INVAL if <b>n</b> has no microdescriptor; *out is
 * written only on success. */
CHIVE_MUST_CHECK chive_err_t node_to_hop_info(const node_t *n,
                                              circuit_hop_info_t *out);

#endif /* !defined(CHIVE_FEATURE_NODES_NODELIST_H) */
