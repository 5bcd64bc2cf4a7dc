/* Unit tests for core/crypto/relay_crypto: origin-side layered relay
 * crypto (tor-spec §5.5, §6.1).
 *
 * The relay side is simulated here, written independently of the module
 * from the spec text with the lib/crypto primitives: each relay removes
 * (forward) or adds (backward) its AES-128-CTR layer and checks
 * 'recognized' and the running SHA-1 digest.
 *
 * The known answers in test_relay_crypto_kat were computed by an
 * independent Python 3 implementation of tor-spec §5.5/§6.1 (`cryptography`
 * AES-CTR with a zero IV, hashlib SHA-1 seeded with Df/Db) from the key and
 * cell patterns in make_pattern_keys() / make_cell(). */
#include <string.h>

#include "core/crypto/relay_crypto.h"
#include "lib/crypto/cipher.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/crypto/rand.h"
#include "tinytest.h"

#define PLEN RELAY_CRYPTO_PAYLOAD_LEN
#define N_HOPS 3

/* ---- helpers ----------------------------------------------------------- */

/** Keys for pattern hop <b>i</b>: material[j] = (37 i + 11 j) mod 256. */
static void
make_pattern_keys(unsigned i, relay_keys_t *k)
{
  uint8_t m[RELAY_KEY_MATERIAL_LEN];
  for (unsigned j = 0; j < sizeof(m); j++)
    m[j] = (uint8_t)((i * 37u + j * 11u) & 0xffu);
  relay_keys_from_material(k, m);
}

/** A plaintext relay cell: header with zero recognized/digest, data, then
 * padding byte k = 7k + 3. */
static void
make_cell(uint8_t cmd, uint16_t stream_id, const char *data, uint8_t *p)
{
  size_t len = strlen(data);
  memset(p, 0, PLEN);
  p[0] = cmd;
  p[3] = (uint8_t)(stream_id >> 8);
  p[4] = (uint8_t)stream_id;
  p[9] = (uint8_t)(len >> 8);
  p[10] = (uint8_t)len;
  memcpy(p + 11, data, len);
  for (size_t k = 0; 11 + len + k < PLEN; k++)
    p[11 + len + k] = (uint8_t)((k * 7 + 3) & 0xff);
}

/** One simulated relay's view of its hop. */
typedef struct sim_hop_t {
  crypto_cipher_t *kf, *kb;
  crypto_digest_t *df, *db;
} sim_hop_t;

static bool
sim_hop_init(sim_hop_t *h, const relay_keys_t *k)
{
  h->kf = crypto_cipher_new(k->kf, sizeof(k->kf), NULL);
  h->kb = crypto_cipher_new(k->kb, sizeof(k->kb), NULL);
  h->df = crypto_digest_new(DIGEST_ALG_SHA1);
  h->db = crypto_digest_new(DIGEST_ALG_SHA1);
  if (!h->kf || !h->kb || !h->df || !h->db)
    return false;
  crypto_digest_add(h->df, k->df, sizeof(k->df));
  crypto_digest_add(h->db, k->db, sizeof(k->db));
  return true;
}

static void
sim_hop_clear(sim_hop_t *h)
{
  crypto_cipher_free(h->kf);
  crypto_cipher_free(h->kb);
  crypto_digest_free(h->df);
  crypto_digest_free(h->db);
}

/** A relay receiving a forward cell: "Use Kf as key; decrypt", then decide
 * whether it is recognized; commit Df only then. */
static bool
sim_forward(sim_hop_t *h, uint8_t *p)
{
  uint8_t got[4], calc[4];
  crypto_cipher_crypt_inplace(h->kf, p, PLEN);
  if (p[1] != 0 || p[2] != 0)
    return false;
  memcpy(got, p + 5, 4);
  memset(p + 5, 0, 4);
  crypto_digest_t *tmp = crypto_digest_dup(h->df);
  if (!tmp)
    return false;
  crypto_digest_add(tmp, p, PLEN);
  crypto_digest_peek(tmp, calc, 4);
  memcpy(p + 5, got, 4);
  if (memcmp(calc, got, 4) != 0) {
    crypto_digest_free(tmp);
    return false;
  }
  crypto_digest_free(h->df);
  h->df = tmp;
  return true;
}

/** Pass a cell from the client along the simulated circuit; return the
 * index of the hop that recognized it, or -1. */
static int
sim_deliver_forward(sim_hop_t *hops, size_t n, uint8_t *p)
{
  for (size_t i = 0; i < n; i++) {
    if (sim_forward(&hops[i], p))
      return (int)i;
  }
  return -1;
}

/** Relay <b>origin</b> sends <b>p</b> toward the client: set the digest
 * from its running Db (committed iff <b>commit</b>; a forged cell is
 * produced with a throw-away copy), encrypt with its Kb, and every earlier
 * relay adds its own Kb layer.  If <b>full</b> is set, store the 20-byte
 * running digest there. */
static bool
sim_originate_backward(sim_hop_t *hops, size_t origin, uint8_t *p, bool commit,
                       uint8_t *full)
{
  uint8_t d[20];
  crypto_digest_t *tmp = crypto_digest_dup(hops[origin].db);
  if (!tmp)
    return false;
  p[1] = p[2] = 0;
  memset(p + 5, 0, 4);
  crypto_digest_add(tmp, p, PLEN);
  crypto_digest_peek(tmp, d, sizeof(d));
  memcpy(p + 5, d, 4);
  if (full)
    memcpy(full, d, sizeof(d));
  if (commit) {
    crypto_digest_free(hops[origin].db);
    hops[origin].db = tmp;
  } else {
    crypto_digest_free(tmp);
  }
  for (size_t i = origin + 1; i-- > 0;)
    crypto_cipher_crypt_inplace(hops[i].kb, p, PLEN);
  return true;
}

/** A client circuit and the matching simulated relays, random keys. */
typedef struct circ_t {
  relay_crypto_t rc[N_HOPS];
  relay_crypto_t *ptrs[N_HOPS];
  sim_hop_t sim[N_HOPS];
} circ_t;

static bool
circ_init(circ_t *c, bool pattern)
{
  memset(c, 0, sizeof(*c));
  for (unsigned i = 0; i < N_HOPS; i++) {
    relay_keys_t k;
    uint8_t m[RELAY_KEY_MATERIAL_LEN];
    if (pattern) {
      make_pattern_keys(i + 1, &k);
    } else {
      if (crypto_rand(m, sizeof(m)) != CHIVE_OK)
        return false;
      relay_keys_from_material(&k, m);
    }
    bool ok = relay_crypto_init(&c->rc[i], &k) == CHIVE_OK &&
              sim_hop_init(&c->sim[i], &k);
    relay_keys_clear(&k);
    if (!ok)
      return false;
    c->ptrs[i] = &c->rc[i];
  }
  return true;
}

static void
circ_clear(circ_t *c)
{
  for (unsigned i = 0; i < N_HOPS; i++) {
    relay_crypto_clear(&c->rc[i]);
    sim_hop_clear(&c->sim[i]);
  }
}

/** Random plaintext relay cell. */
static bool
random_cell(uint8_t *p)
{
  if (crypto_rand(p, PLEN) != CHIVE_OK)
    return false;
  p[9] = 0;
  p[10] = (uint8_t)(p[10] % 200);
  return true;
}

/* ---- tests -------------------------------------------------------------- */

/* Known answers from the independent implementation. */
static void
test_relay_crypto_kat(void)
{
  static const char *const want_out_sha256[] = {
      "9eeda3bedb873d385f11df4b5cdeb9c6a78794af0203c6a25e4cb07e3fb98972",
      "efe60dbb65fb7a27be27c6235b126e47845459a75f0820d57d5f31d5dd8923f4",
      "770310c48120e1805ecd01736d73bce591a8b1b84c5c409d0078b0dc3741844f",
  };
  static const char *const want_sent[] = {
      "c1784f8f0f14bd734cdd6b73ec7de9455b285e4b",
      "650ff3a9fc77a772bb5a8107b91487e1d6eae287",
      "065a4d570c2334e6b16bf7f5f8c76ba2684ad4d1",
  };
  static const char in1_hex[] =
      "29104bcf142a92e733dea851ccb97de526afe08ea2fd0c601650e4f72379d179"
      "851488b350aba5c269d9befce1dd04ef5b77a6d89afa96da8d4b6025ccea5cf4"
      "8126c314f1ded6ae28c40ed3cd33fc2b5729aa6305840d562752484f45554415"
      "14e4801575b7f3f42a3fae0a8b77af012c65a3bb4957c85541143fb0435a842e"
      "1e3c97f951ec5afa891f2389ff376f2069d4c08ec0273c55f30a01f4911d86cf"
      "d39a6e835da408e8a75c52fc1f84315e296c29cfd67d4071845c0df2b12957ae"
      "3a18982009c67305b3bac70dfb37ee9f0f2b74893112b609003bba9f46e0ff4a"
      "54c101b48cd7376302e40df609d2d02ac39b8453524d602b7d4417fa5a0e02da"
      "2a3456b8791ad5b1421793408222164cb6ff14cf80d61f2db42bfc93335abf78"
      "3430652a72daa9c8c6f8455a138990cc9b0eb30c282e5ad2b40682ee5d192807"
      "bc8b7e4c4040aff4ca999da66cb594af20edce864a511847aa45b37a26bde8ae"
      "568f39d04ce7c9c4a1f8ce4ad42a7fac36ac1cf913e0ff51658aaedd98ee6a69"
      "e3d93940556b2e7e7cab5c375e43e7f1c71a4c61149c6780ad50412844eb54b3"
      "4fd292d470e234cf3e76a7fe8a8e702ee960d8be32a6e121296f276c3d1f92e9"
      "fa33738dba220cbe9041b43929cad478f8c43aa47876eb7c233bdeb1a44ba074"
      "2cc71b79f6b6f561ce1886557d528f3be6e91605daca18e63b73b617d3";
  static const char in2_hex[] =
      "4547325a8ab34e886ff025a5db11ba1868cc03765517c0380cbbdc1290a7ea00"
      "dd00b8099d74e62666097e360fce7fc81825790faf43f54ec166d729c6b60cb9"
      "ce86d68439ef19f286b6e209cf80f24689adbb4742664e7f59150d3571073ea2"
      "9312cd3236879eaba00fd5abec2da9f61607afe022574405c0bb08f83ef1a515"
      "7fac35b2781742dad5b9311e8033cb35019e5a10e20f87ffa8280e469c6cd976"
      "e1c422578ee008cc88655f9b3becada886b8f9c9bcbf2a110730a1ff69666e7c"
      "177a9ad972a161035c3df90521d7429d591c14afed86bf412cc4119dd8788699"
      "866bf9d8e9955ed235d5a9df91c29ccf019b06e99661f3141d3fb11122a5fcec"
      "d95c5cb95c4850ecf2bfa1ef680a70397c3d2bd41e3abb3854505cb01c257729"
      "f7ee0287c4338501f9a7d40b5a350bc4806b83830dba2ebccda2a90a20da9eee"
      "b8b684f9c90246c7cbf14e56b80e3e37c6ee5b8ed747d58829bfb6f606e357c4"
      "964d8025259c58f5fa98a5435e50e98f3ee8b46b0ab318081246aecd840e7867"
      "2bb12a5dc88d1acefb675f56fd6cdaf1089a81d0f7853b30fe9693c81388f686"
      "947ab05a0c01c5a5b156b302af8874427c5b3ab1134abf965c9f879fe5c0f7f6"
      "425a67a2303b1b9f5ca28bfcc51b2eb98b0f89474a417f8afa043d4f472b09f5"
      "0f2f25594a33ee6995f79bb831094379ad08689bc8630b5b3edfb5d449";
  static const char recv1_hex[] = "f59805c0c113ed36164d1d8920df08bca18b9623";
  static const char recv2_hex[] = "fde17288536fa78d7ea2634612661d56c52929c4";
  const struct {
    uint8_t cmd;
    uint16_t sid;
    const char *data;
    size_t target;
  } outs[] = {{2, 1, "hello exit", 2}, {5, 0, "", 1}, {2, 1, "second", 2}};
  circ_t c;
  uint8_t p[PLEN], want[PLEN], h[32], wh[32], d[20], wd[20];
  size_t hop = 99;

  T_OK(crypto_global_init());
  T_ASSERT(circ_init(&c, true));
  for (size_t i = 0; i < 3; i++) {
    make_cell(outs[i].cmd, outs[i].sid, outs[i].data, p);
    T_OK(relay_crypto_encrypt_outbound(c.ptrs, N_HOPS, outs[i].target, p));
    crypto_sha256(p, PLEN, h);
    T_EQ_INT(t_unhex(want_out_sha256[i], wh, sizeof(wh)), 32);
    T_EQ_MEM(h, wh, 32);
    T_ASSERT(relay_crypto_last_sent_digest(&c.rc[outs[i].target], d));
    T_EQ_INT(t_unhex(want_sent[i], wd, sizeof(wd)), 20);
    T_EQ_MEM(d, wd, 20);
  }

  /* Inbound: a CONNECTED from hop 2 (index 1), then DATA from the exit. */
  T_EQ_INT(t_unhex(in1_hex, p, sizeof(p)), PLEN);
  T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
  T_EQ_UINT(hop, 1);
  T_EQ_INT(t_unhex(recv1_hex, wd, sizeof(wd)), 20);
  make_cell(4, 1, "connected", want);
  memcpy(want + 5, wd, 4);
  T_EQ_MEM(p, want, PLEN);
  T_ASSERT(relay_crypto_last_recv_digest(&c.rc[1], d));
  T_EQ_MEM(d, wd, 20);

  T_EQ_INT(t_unhex(in2_hex, p, sizeof(p)), PLEN);
  T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
  T_EQ_UINT(hop, 2);
  T_EQ_INT(t_unhex(recv2_hex, wd, sizeof(wd)), 20);
  make_cell(2, 1, "data back", want);
  memcpy(want + 5, wd, 4);
  T_EQ_MEM(p, want, PLEN);
  T_ASSERT(relay_crypto_last_recv_digest(&c.rc[2], d));
  T_EQ_MEM(d, wd, 20);
  /* Nothing was ever received from hop 0. */
  T_ASSERT(!relay_crypto_last_recv_digest(&c.rc[0], d));
done:
  circ_clear(&c);
}

/* A cell for hop k is recognized at hop k and nowhere before it; a cell
 * from hop k is attributed to hop k; the SENDME digests match the relay's
 * full running digests. */
static void
test_relay_crypto_three_hops(void)
{
  circ_t c;
  uint8_t p[PLEN], orig[PLEN], d[20], relay_d[20];
  size_t hop = 99;

  T_OK(crypto_global_init());
  T_ASSERT(circ_init(&c, false));
  T_ASSERT(!relay_crypto_last_sent_digest(&c.rc[2], d));
  for (size_t target = 0; target < N_HOPS; target++) {
    T_ASSERT(random_cell(orig));
    memcpy(p, orig, PLEN);
    T_OK(relay_crypto_encrypt_outbound(c.ptrs, N_HOPS, target, p));
    T_ASSERT(memcmp(p + 11, orig + 11, PLEN - 11) != 0);
    T_EQ_INT(sim_deliver_forward(c.sim, N_HOPS, p), (int)target);
    /* The relay sees our plaintext (recognized and digest now set). */
    T_EQ_UINT(p[1], 0);
    T_EQ_UINT(p[2], 0);
    T_EQ_MEM(p + 9, orig + 9, PLEN - 9);
    T_EQ_MEM(p, orig, 1);
    T_EQ_MEM(p + 3, orig + 3, 2);
    T_ASSERT(relay_crypto_last_sent_digest(&c.rc[target], d));
    crypto_digest_peek(c.sim[target].df, relay_d, 20);
    T_EQ_MEM(d, relay_d, 20);
  }
  for (size_t origin = 0; origin < N_HOPS; origin++) {
    T_ASSERT(random_cell(orig));
    memcpy(p, orig, PLEN);
    T_ASSERT(sim_originate_backward(c.sim, origin, p, true, relay_d));
    T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
    T_EQ_UINT(hop, origin);
    T_EQ_MEM(p + 9, orig + 9, PLEN - 9);
    T_ASSERT(relay_crypto_last_recv_digest(&c.rc[origin], d));
    T_EQ_MEM(d, relay_d, 20);
  }
done:
  circ_clear(&c);
}

/* Keystreams and digests stay in step over many cells in both
 * directions, with targets and origins interleaved. */
static void
test_relay_crypto_many_cells(void)
{
  circ_t c;
  uint8_t p[PLEN], orig[PLEN], r[2];
  size_t hop = 99;

  T_OK(crypto_global_init());
  T_ASSERT(circ_init(&c, false));
  for (int i = 0; i < 600; i++) {
    T_OK(crypto_rand(r, sizeof(r)));
    size_t h = r[0] % N_HOPS;
    T_ASSERT(random_cell(orig));
    memcpy(p, orig, PLEN);
    if (r[1] & 1) {
      T_OK(relay_crypto_encrypt_outbound(c.ptrs, N_HOPS, h, p));
      T_EQ_INT(sim_deliver_forward(c.sim, N_HOPS, p), (int)h);
    } else {
      T_ASSERT(sim_originate_backward(c.sim, h, p, true, NULL));
      T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
      T_EQ_UINT(hop, h);
    }
    T_EQ_MEM(p + 9, orig + 9, PLEN - 9);
  }
done:
  circ_clear(&c);
}

/* Tampering is detected in both directions, and a rejected cell does not
 * move any hop's running digest. */
static void
test_relay_crypto_tamper(void)
{
  circ_t c;
  uint8_t p[PLEN], orig[PLEN], before[N_HOPS][20], after[20];
  size_t hop = 99;

  T_OK(crypto_global_init());
  T_ASSERT(circ_init(&c, false));

  /* Warm up so every hop has a last-received digest. */
  for (size_t origin = 0; origin < N_HOPS; origin++) {
    T_ASSERT(random_cell(p));
    T_ASSERT(sim_originate_backward(c.sim, origin, p, true, NULL));
    T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
    T_ASSERT(relay_crypto_last_recv_digest(&c.rc[origin], before[origin]));
  }

  /* Inbound: a cell the exit never counted (forged digest, or a bit flipped
   * in transit after the digest was computed). */
  for (int round = 0; round < 2; round++) {
    T_ASSERT(random_cell(p));
    T_ASSERT(sim_originate_backward(c.sim, 2, p, false, NULL));
    if (round == 0)
      p[100] ^= 0x10; /* data bit flipped on the wire */
    else
      p[6] ^= 0x01; /* digest field (still under the exit's layer) */
    hop = 99;
    T_EQ_INT(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop),
             CHIVE_ERR_PROTO);
    T_EQ_UINT(hop, 99);
    for (size_t i = 0; i < N_HOPS; i++) {
      T_ASSERT(relay_crypto_last_recv_digest(&c.rc[i], after));
      T_EQ_MEM(after, before[i], 20);
    }
  }
  /* Because no digest moved, genuine cells from every hop still verify. */
  for (size_t origin = N_HOPS; origin-- > 0;) {
    T_ASSERT(random_cell(orig));
    memcpy(p, orig, PLEN);
    T_ASSERT(sim_originate_backward(c.sim, origin, p, true, NULL));
    T_OK(relay_crypto_decrypt_inbound(c.ptrs, N_HOPS, p, &hop));
    T_EQ_UINT(hop, origin);
    T_EQ_MEM(p + 9, orig + 9, PLEN - 9);
  }

  /* Outbound: a bit flipped on the way means no relay recognizes it. */
  T_ASSERT(random_cell(p));
  T_OK(relay_crypto_encrypt_outbound(c.ptrs, N_HOPS, 2, p));
  p[200] ^= 0x04;
  T_EQ_INT(sim_deliver_forward(c.sim, N_HOPS, p), -1);
done:
  circ_clear(&c);
}

/* Clearing a zeroed or already-cleared state is safe, and such a state
 * reports no SENDME digests. */
static void
test_relay_crypto_clear_zeroed(void)
{
  relay_crypto_t rc;
  uint8_t d[20];
  memset(&rc, 0, sizeof(rc));
  relay_crypto_clear(&rc); /* zeroed struct: no-op */
  relay_crypto_clear(&rc); /* idempotent */
  relay_crypto_clear(NULL);
  T_ASSERT(!relay_crypto_last_sent_digest(&rc, d));
  T_ASSERT(!relay_crypto_last_recv_digest(&rc, d));
done:
  return;
}

/* relay_crypto_init() fails cleanly, without leaks, at every
 * allocation. */
static void
test_relay_crypto_init_oom(void)
{
  relay_keys_t k;
  relay_crypto_t rc;
  bool succeeded = false;

  T_OK(crypto_global_init());
  make_pattern_keys(1, &k);
  for (uint64_t n = 1; n < 64 && !succeeded; n++) {
    chive_mem_fail_nth(n, false);
    chive_err_t e = relay_crypto_init(&rc, &k);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (e == CHIVE_OK) {
      T_ASSERT(!fired);
      succeeded = true;
    } else {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_ASSERT(rc.f_cipher == NULL && rc.b_digest_tmp == NULL);
    }
    relay_crypto_clear(&rc);
  }
  T_ASSERT(succeeded);
done:
  chive_mem_fail_nth(0, false);
  relay_keys_clear(&k);
}

static const t_case cases[] = {
    T_CASE(test_relay_crypto_kat),
    T_CASE(test_relay_crypto_three_hops),
    T_CASE(test_relay_crypto_many_cells),
    T_CASE(test_relay_crypto_tamper),
    T_CASE(test_relay_crypto_clear_zeroed),
    T_CASE(test_relay_crypto_init_oom),
    T_END,
};
T_MAIN(cases)
