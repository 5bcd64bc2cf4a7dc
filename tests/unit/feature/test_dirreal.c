/* Directory parsers and verification against real documents from the
 * live Tor network (../shared/data/realnet-A; see its MANIFEST.md).
 * Expected numbers come from realnet-A/groundtruth.json (computed with
 * stem 1.8.1, independently of this code).  Every case skips cleanly when
 * the shared data directory is absent. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "feature/dir/dirverify.h"
#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/md_parse.h"
#include "feature/dir/parse/ns_consensus.h"
#include "lib/crypto/crypto_init.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* groundtruth.json, bundle "primary". */
#define GT_ROUTERS 6596
#define GT_VALID_AFTER 1509278400  /* 2017-10-29 12:00:00 UTC */
#define GT_FRESH_UNTIL 1509282000  /* 2017-10-29 13:00:00 */
#define GT_VALID_UNTIL 1509289200  /* 2017-10-29 15:00:00 */
#define GT_MD_IN_CACHE 5571
#define GT_MD_IN_NEW 1129
/* groundtruth.json, bundle "modern". */
#define GT_MODERN_ROUTERS 8557
#define GT_MODERN_VALID_AFTER 1747519200 /* 2025-05-17 22:00:00 */

/* The 9 v3 authority identities of the primary bundle (dir-source). */
static const char *const AUTH_IDS_2017[9] = {
  "0232AF901C31A04EE9848595AF9BB7620D4C5B2E",
  "14C131DFC5C6F93646BE72FA1401C02A8DF2E8B4",
  "23D15D965BC35114467363C165C4F724B64B4F66",
  "27102BC123E7AF1D4741AE047E160C91ADC76B21",
  "49015F787433103580E3B66A1707A00E60F2D15B",
  "D586D18309DED4CD6D57C18FDB97EFA96D330566",
  "E8A9C45EDE6D711294FADF8E7951F4DE6CA56B58",
  "ED03BB616EB2F60BEC80151114BB25CEF515B226",
  "EFCBE720AB3A82B99F9E953CD5BF50F7EEFC7B97",
};
static const char *const AUTH_IDS_2025[9] = {
  "0232AF901C31A04EE9848595AF9BB7620D4C5B2E",
  "23D15D965BC35114467363C165C4F724B64B4F66",
  "27102BC123E7AF1D4741AE047E160C91ADC76B21",
  "2F3DF9CA0E5D36F2685A2DA67184EB8DCB8CBA8C",
  "49015F787433103580E3B66A1707A00E60F2D15B",
  "70849B868D606BAECFB6128C5E3D782029AA394F",
  "E8A9C45EDE6D711294FADF8E7951F4DE6CA56B58",
  "ED03BB616EB2F60BEC80151114BB25CEF515B226",
  "F533C81CEF0BC0267857C99B2F471ADF249FA232",
};

static char *
read_data(const char *rel, size_t *len)
{
  const char *dir = t_shared_data_dir();
  if (!dir)
    return NULL;
  char path[1024];
  snprintf(path, sizeof(path), "%s/realnet-A/%s", dir, rel);
  return (char *)t_read_file(path, len);
}

#define NEED_DATA(ptr)                                                   \
  do {                                                                   \
    if (!t_shared_data_dir())                                            \
      T_SKIP("shared data dir (../shared/data) absent: realnet-A tests " \
             "skipped");                                                 \
    T_ASSERT((ptr) != NULL);                                             \
  } while (0)

static void
load_ids(const char *const *hex, size_t n, uint8_t (*out)[20])
{
  for (size_t i = 0; i < n; i++)
    (void)t_unhex(hex[i], out[i], 20);
}

static double
now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static size_t
count_flag(const ns_consensus_t *c, uint32_t flag)
{
  size_t n = 0;
  for (size_t i = 0; i < c->n_routers; i++)
    n += (c->routers[i].flags & flag) ? 1 : 0;
  return n;
}

/** Check the counts groundtruth.json gives for both 2017 flavors. */
static int
check_2017_counts(const ns_consensus_t *c)
{
  if (c->n_routers != GT_ROUTERS || c->consensus_method != 26 ||
      c->valid_after != GT_VALID_AFTER || c->fresh_until != GT_FRESH_UNTIL ||
      c->valid_until != GT_VALID_UNTIL)
    return 0;
  /* flag_counts_all */
  if (count_flag(c, NS_FLAG_AUTHORITY) != 10 ||
      count_flag(c, NS_FLAG_EXIT) != 824 ||
      count_flag(c, NS_FLAG_FAST) != 6259 ||
      count_flag(c, NS_FLAG_GUARD) != 2128 ||
      count_flag(c, NS_FLAG_HSDIR) != 3461 ||
      count_flag(c, NS_FLAG_RUNNING) != 6596 ||
      count_flag(c, NS_FLAG_STABLE) != 5279 ||
      count_flag(c, NS_FLAG_V2DIR) != 5602 ||
      count_flag(c, NS_FLAG_VALID) != 6596 ||
      count_flag(c, NS_FLAG_BADEXIT) != 0)
    return 0;
  if (c->n_known_flags != 11 || c->n_dirsources != 9 ||
      c->n_signatures != 9 || c->params.n != 11 || c->bw_params.n != 19)
    return 0;
  return 1;
}

static void
test_real_md_consensus(void)
{
  size_t len = 0;
  char *s = read_data("cached-microdesc-consensus", &len);
  ns_consensus_t *c = NULL;
  NEED_DATA(s);
  double t0 = now_ms();
  T_OK(ns_consensus_parse(s, len, &c));
  double t1 = now_ms();
  T_EQ_INT(c->flavor, NS_FLAVOR_MICRODESC);
  T_ASSERT(check_2017_counts(c));
  /* params / weights from the ground truth lines */
  T_EQ_INT(ns_params_get(&c->params, "CircuitPriorityHalflifeMsec", 0, 0,
                         INT32_MAX),
           30000);
  T_EQ_INT(ns_params_get(&c->params, "NumNTorsPerTAP", 0, 0, INT32_MAX),
           100);
  T_EQ_INT(ns_params_get_known(&c->params, NS_PARAM_USECREATEFAST), 0);
  T_EQ_INT(ns_params_get_known(&c->params, NS_PARAM_CIRCWINDOW), 1000);
  T_ASSERT(c->has_bw_weights);
  T_EQ_UINT(c->bw_weights.present, (1u << BW_N_WEIGHTS) - 1);
  T_EQ_INT(c->bw_weights.w[BW_WGG], 6351);
  T_EQ_INT(c->bw_weights.w[BW_WBG], 3649);
  T_EQ_INT(c->bw_weights.w[BW_WMM], 10000);
  T_EQ_INT(c->bw_weights.w[BW_WGD], 0);
  T_ASSERT(c->srv_current.present && c->srv_current.n_reveals == 9);
  T_ASSERT(c->srv_previous.present && c->srv_previous.n_reveals == 9);
  T_ASSERT(c->has_req_client_protos);
  T_ASSERT(protover_supports(&c->req_client_protos, PROTO_LINK, 4));
  T_ASSERT(!protover_supports(&c->req_client_protos, PROTO_LINK, 5));
  T_EQ_STR(c->dirsources[0].nickname, "dannenberg");
  T_EQ_STR(c->dirsources[8].nickname, "Faravahar");
  for (size_t i = 0; i < c->n_signatures; i++)
    T_EQ_INT(c->signatures[i].alg, NS_SIG_SHA256);
  /* The first entry (file order = identity order). */
  T_EQ_STR(c->routers[0].nickname, "networkofthesmoker");
  T_EQ_UINT(c->routers[0].ipv4, (128u << 24) | (72u << 16) | (180u << 8) | 74);
  T_EQ_UINT(c->routers[0].or_port, 443);
  T_EQ_UINT(c->routers[0].bandwidth, 3020);
  T_EQ_STR(ns_routerstatus_version(c, &c->routers[0]), "Tor 0.3.0.10");
  T_ASSERT(ns_consensus_find_router(c, c->routers[4000].identity) ==
           &c->routers[4000]);
  fprintf(stderr,
          "  realnet-A md consensus: %zu routers, %zu distinct v, %zu "
          "distinct pr, parse %.1f ms, %zu heap bytes\n",
          c->n_routers, c->n_versions, c->n_protos, t1 - t0,
          ns_consensus_bytes(c));
done:
  ns_consensus_free(c);
  chive_free(s);
}

static void
test_real_ns_consensus(void)
{
  size_t len = 0;
  char *s = read_data("cached-consensus", &len);
  ns_consensus_t *c = NULL, *md = NULL;
  char *s2 = NULL;
  NEED_DATA(s);
  T_OK(ns_consensus_parse(s, len, &c));
  T_EQ_INT(c->flavor, NS_FLAVOR_NS);
  T_ASSERT(check_2017_counts(c));
  for (size_t i = 0; i < c->n_signatures; i++)
    T_EQ_INT(c->signatures[i].alg, NS_SIG_SHA1);
  /* "p" policies: the first relay in the file rejects everything. */
  const policy_summary_t *p0 = ns_routerstatus_policy(c, &c->routers[0]);
  T_ASSERT(p0 != NULL);
  T_ASSERT(!policy_summary_allows_port(p0, 80));
  size_t n_exit80 = 0;
  for (size_t i = 0; i < c->n_routers; i++) {
    if (policy_summary_allows_port(ns_routerstatus_policy(c, &c->routers[i]),
                                   443))
      n_exit80++;
  }
  T_ASSERT(n_exit80 > 0);
  /* ns_vs_microdesc: same routers, same flags. */
  size_t len2 = 0;
  s2 = read_data("cached-microdesc-consensus", &len2);
  T_ASSERT(s2);
  T_OK(ns_consensus_parse(s2, len2, &md));
  T_EQ_UINT(md->n_routers, c->n_routers);
  for (size_t i = 0; i < c->n_routers; i++) {
    T_EQ_MEM(md->routers[i].identity, c->routers[i].identity, 20);
    T_EQ_UINT(md->routers[i].flags, c->routers[i].flags);
  }
  fprintf(stderr, "  realnet-A ns consensus: %zu routers, %zu distinct p "
          "summaries (%zu allow 443)\n", c->n_routers, c->n_policies,
          n_exit80);
done:
  ns_consensus_free(c);
  ns_consensus_free(md);
  chive_free(s);
  chive_free(s2);
}

static void
test_real_microdescs(void)
{
  size_t l1 = 0, l2 = 0, l3 = 0;
  char *s1 = read_data("cached-microdescs", &l1);
  char *s2 = read_data("cached-microdescs.new", &l2);
  char *sc = read_data("cached-microdesc-consensus", &l3);
  md_list_t *a = NULL, *b = NULL;
  ns_consensus_t *c = NULL;
  NEED_DATA(s1);
  T_ASSERT(s2 && sc);
  T_OK(md_list_parse(s1, l1, &a));
  T_OK(md_list_parse(s2, l2, &b));
  T_EQ_UINT(a->n, GT_MD_IN_CACHE);
  T_EQ_UINT(b->n, GT_MD_IN_NEW);
  T_EQ_UINT(a->n_invalid + b->n_invalid, 0);
  T_OK(ns_consensus_parse(sc, l3, &c));
  size_t found = 0, with_family = 0, fam_total = 0, with_ed = 0, with_a = 0,
         with_p = 0, with_p6 = 0, with_tap = 0;
  for (size_t i = 0; i < c->n_routers; i++) {
    const microdesc_t *md = md_list_find(a, c->routers[i].digest);
    if (!md)
      md = md_list_find(b, c->routers[i].digest);
    if (!md)
      continue;
    found++;
    with_family += md->has_family;
    fam_total += md->n_family_ids;
    if (md->family_names) {
      fam_total++; /* one more name than spaces */
      for (const char *q = md->family_names; *q; q++)
        fam_total += *q == ' ';
    }
    with_ed += md->has_ed25519;
    with_a += md->has_ipv6;
    with_p += md->has_p;
    with_p6 += md->has_p6;
    with_tap += md->has_tap_key;
  }
  /* groundtruth stats_referenced_mds */
  T_EQ_UINT(found, GT_ROUTERS);
  T_EQ_UINT(with_family, 1551);
  T_EQ_UINT(fam_total, 18528); /* family_entries_total ($ids + names) */
  T_EQ_UINT(with_ed, 5371);
  T_EQ_UINT(with_a, 577);
  T_EQ_UINT(with_p, 990);
  T_EQ_UINT(with_p6, 145);
  T_EQ_UINT(with_tap, 6596);
  fprintf(stderr,
          "  realnet-A microdescs: %zu in cached-microdescs + %zu in .new "
          "= %zu; %zu referenced by the consensus, all %zu found; family "
          "entries %zu\n",
          a->n, b->n, a->n + b->n, c->n_routers, found, fam_total);
done:
  md_list_free(a);
  md_list_free(b);
  ns_consensus_free(c);
  chive_free(s1);
  chive_free(s2);
  chive_free(sc);
}

static void
test_real_certs(void)
{
  size_t len = 0;
  char *s = read_data("cached-certs", &len);
  authcert_list_t *l = NULL;
  NEED_DATA(s);
  T_OK(authcert_list_parse(s, len, &l));
  T_EQ_UINT(l->n, 9);
  for (size_t i = 0; i < l->n; i++) {
    /* fingerprint line == SHA1(identity key DER) for every cert */
    T_EQ_MEM(l->certs[i].fingerprint, l->certs[i].identity_key_digest, 20);
    T_OK(dirverify_authcert(&l->certs[i], GT_VALID_AFTER, 0));
  }
  /* Expired: maatuska's cert expires 2017-11-30 19:52:53. */
  uint8_t maat[20];
  (void)t_unhex("49015F787433103580E3B66A1707A00E60F2D15B", maat, 20);
  uint8_t sk[20];
  (void)t_unhex("9B317F788C1DA69F8BB10E124C2A3174B640F0B8", sk, 20);
  const authcert_t *mc = authcert_list_find(l, maat, sk);
  T_ASSERT(mc != NULL);
  T_EQ_INT(dirverify_authcert(mc, 1512071573 + 1, 0), CHIVE_ERR_EXPIRED);
  T_OK(dirverify_authcert(mc, 1512071573 - 1, 0));
  /* Published 2017-08-30 19:52:53: before that it is not yet valid. */
  T_EQ_INT(dirverify_authcert(mc, 1504122773 - 3600, 0), CHIVE_ERR_EXPIRED);
done:
  authcert_list_free(l);
  chive_free(s);
}

/** Verify consensus file <b>cons</b> with certs <b>certs</b>. */
static void
verify_one(const char *cons, const char *certs, const char *const *ids,
           int64_t now, chive_err_t expect, size_t expect_valid,
           int *ok)
{
  size_t l1 = 0, l2 = 0;
  char *s = read_data(cons, &l1);
  char *sc = read_data(certs, &l2);
  ns_consensus_t *c = NULL;
  authcert_list_t *cl = NULL;
  uint8_t auth[9][20];
  dirverify_result_t res;
  *ok = 0;
  if (!s || !sc)
    goto done;
  load_ids(ids, 9, auth);
  if (ns_consensus_parse(s, l1, &c) || authcert_list_parse(sc, l2, &cl))
    goto done;
  dirverify_opts_t opts;
  dirverify_opts_init(&opts, now);
  chive_err_t e = dirverify_consensus(c, cl->certs, cl->n,
                                      (const uint8_t(*)[20])auth, 9, &opts,
                                      &res);
  if (e == expect && res.n_valid == expect_valid)
    *ok = 1;
  else
    fprintf(stderr, "  %s: err %d valid %zu\n", cons, (int)e, res.n_valid);
done:
  ns_consensus_free(c);
  authcert_list_free(cl);
  chive_free(s);
  chive_free(sc);
}

static void
test_real_verify(void)
{
  int ok;
  if (!t_shared_data_dir())
    T_SKIP("shared data dir absent: realnet-A tests skipped");
  verify_one("cached-microdesc-consensus", "cached-certs", AUTH_IDS_2017,
             GT_VALID_AFTER, CHIVE_OK, 9, &ok);
  T_ASSERT(ok);
  verify_one("cached-consensus", "cached-certs", AUTH_IDS_2017,
             GT_VALID_AFTER, CHIVE_OK, 9, &ok);
  T_ASSERT(ok);
  verify_one("modern/cached-microdesc-consensus", "modern/cached-certs",
             AUTH_IDS_2025, GT_MODERN_VALID_AFTER, CHIVE_OK, 9, &ok);
  T_ASSERT(ok);
  /* Outside the validity window (and no tolerance): rejected. */
  verify_one("cached-microdesc-consensus", "cached-certs", AUTH_IDS_2017,
             GT_VALID_UNTIL + 1, CHIVE_ERR_EXPIRED, 9, &ok);
  T_ASSERT(ok);
  verify_one("cached-microdesc-consensus", "cached-certs", AUTH_IDS_2017,
             GT_VALID_AFTER - 3600, CHIVE_ERR_EXPIRED, 9, &ok);
  T_ASSERT(ok);
  /* The 2025 certs do not match the 2017 consensus: nothing verifies. */
  verify_one("cached-microdesc-consensus", "modern/cached-certs",
             AUTH_IDS_2017, GT_VALID_AFTER, CHIVE_ERR_CRYPTO, 0, &ok);
  T_ASSERT(ok);
done:
  return;
}

/** Flip one byte at <b>off</b> of the md consensus and expect
 * verification (not parsing) to fail. */
static void
test_real_tamper(void)
{
  size_t l1 = 0, l2 = 0;
  char *s = read_data("cached-microdesc-consensus", &l1);
  char *sc = read_data("cached-certs", &l2);
  ns_consensus_t *c = NULL;
  authcert_list_t *cl = NULL;
  uint8_t auth[9][20];
  dirverify_result_t res;
  dirverify_opts_t opts;
  NEED_DATA(s);
  T_ASSERT(sc);
  load_ids(AUTH_IDS_2017, 9, auth);
  dirverify_opts_init(&opts, GT_VALID_AFTER);
  T_OK(authcert_list_parse(sc, l2, &cl));

  /* (1) a byte inside the signed region: a bandwidth digit. */
  char *w = strstr(s, "\nw Bandwidth=3020\n");
  T_ASSERT(w != NULL);
  char worig = w[13];
  w[13] = '4';
  T_OK(ns_consensus_parse(s, l1, &c));
  T_EQ_INT(dirverify_consensus(c, cl->certs, cl->n,
                               (const uint8_t(*)[20])auth, 9, &opts, &res),
           CHIVE_ERR_CRYPTO);
  T_EQ_UINT(res.n_valid, 0);
  for (size_t i = 0; i < 9; i++)
    T_EQ_INT(res.auth[i].status, DIRVERIFY_SIG_BAD);
  ns_consensus_free(c);
  w[13] = worig;

  /* (2) a byte inside one signature object (first signature's base64):
   * that authority fails, the other 8 still make a majority. */
  char *sig = strstr(s, "-----BEGIN SIGNATURE-----\n");
  T_ASSERT(sig != NULL);
  char *b64 = sig + strlen("-----BEGIN SIGNATURE-----\n") + 10;
  char orig = *b64;
  *b64 = orig == 'A' ? 'B' : 'A';
  T_OK(ns_consensus_parse(s, l1, &c));
  T_OK(dirverify_consensus(c, cl->certs, cl->n, (const uint8_t(*)[20])auth,
                           9, &opts, &res));
  T_EQ_UINT(res.n_valid, 8);
  T_EQ_INT(res.auth[0].status, DIRVERIFY_SIG_BAD);
  ns_consensus_free(c);
  *b64 = orig;

  /* (3) signed region untouched, but only 4 certs available for 9
   * configured authorities: 4 valid signatures is not > 9/2. */
  T_OK(ns_consensus_parse(s, l1, &c));
  T_EQ_INT(dirverify_consensus(c, cl->certs, 4, (const uint8_t(*)[20])auth,
                               9, &opts, &res),
           CHIVE_ERR_CRYPTO);
  T_EQ_UINT(res.n_valid, 4);
  T_EQ_UINT(res.n_needed, 5);
  /* ...while 5 certs are enough. */
  T_OK(dirverify_consensus(c, cl->certs, 5, (const uint8_t(*)[20])auth, 9,
                           &opts, &res));
  T_EQ_UINT(res.n_valid, 5);
  for (size_t i = 0; i < 9; i++)
    fprintf(stderr, "    %-10s %s\n", c->dirsources[i].nickname,
            dirverify_sig_status_str(res.auth[i].status));
done:
  ns_consensus_free(c);
  authcert_list_free(cl);
  chive_free(s);
  chive_free(sc);
}

static void
test_real_modern(void)
{
  size_t l1 = 0, l2 = 0;
  char *s = read_data("modern/cached-microdesc-consensus", &l1);
  char *sm = read_data("modern/cached-microdescs.new", &l2);
  ns_consensus_t *c = NULL;
  md_list_t *m = NULL;
  NEED_DATA(s);
  T_ASSERT(sm);
  T_OK(ns_consensus_parse(s, l1, &c));
  T_EQ_UINT(c->n_routers, GT_MODERN_ROUTERS);
  T_EQ_UINT(c->consensus_method, 33);
  T_EQ_INT(c->valid_after, GT_MODERN_VALID_AFTER);
  T_EQ_UINT(count_flag(c, NS_FLAG_EXIT), 2608);
  T_EQ_UINT(count_flag(c, NS_FLAG_GUARD), 5337);
  T_EQ_UINT(count_flag(c, NS_FLAG_BADEXIT), 62);
  T_EQ_UINT(count_flag(c, NS_FLAG_MIDDLEONLY), 56);
  T_EQ_UINT(count_flag(c, NS_FLAG_STALEDESC), 15);
  T_EQ_UINT(count_flag(c, NS_FLAG_V2DIR), 7317);
  T_EQ_UINT(c->params.n, 45);
  T_EQ_INT(c->bw_weights.w[BW_WGG], 6091);
  T_OK(md_list_parse(sm, l2, &m));
  T_EQ_UINT(m->n, 1116);
  size_t found = 0, fam = 0;
  for (size_t i = 0; i < c->n_routers; i++) {
    const microdesc_t *md = md_list_find(m, c->routers[i].digest);
    if (md) {
      found++;
      fam += md->n_family_ids;
    }
  }
  T_EQ_UINT(found, 982);
  T_EQ_UINT(fam, 58333);
  /* required-client-protocols ("Cons=2 Desc=2 Link=4 Microdesc=2
   * Relay=2") vs a supported set that lacks Cons=2. */
  static const char SUP[] = "Cons=1 Desc=1-2 Link=3-5 Microdesc=1-2 "
                            "Relay=1-4";
  protover_set_t sup, missing;
  T_OK(protover_parse(SUP, strlen(SUP), &sup));
  T_ASSERT(c->has_req_client_protos);
  bool all = protover_all_supported(&c->req_client_protos, &sup, &missing);
  char buf[256];
  protover_format(&missing, buf, sizeof(buf));
  char req[256];
  protover_format(&c->req_client_protos, req, sizeof(req));
  fprintf(stderr,
          "  modern: %zu routers, method %u, %zu params, %zu/%zu mds "
          "found (%zu in file), required-client \"%s\", missing from "
          "\"%s\": \"%s\"\n",
          c->n_routers, c->consensus_method, c->params.n, found,
          c->n_routers, m->n, req, SUP, buf);
  T_ASSERT(!all);
  T_EQ_STR(buf, "Cons=2");
  T_EQ_STR(req, "Cons=2 Desc=2 Link=4 Microdesc=2 Relay=2");
done:
  ns_consensus_free(c);
  md_list_free(m);
  chive_free(s);
  chive_free(sm);
}

/* The whole 2017 directory as chive holds it: md consensus + every
 * microdescriptor + the certificates.  Target: <= 8 MiB of heap. */
static void
test_real_memory(void)
{
  size_t l1 = 0, l2 = 0, l3 = 0, l4 = 0;
  char *sc = read_data("cached-microdesc-consensus", &l1);
  char *s1 = read_data("cached-microdescs", &l2);
  char *s2 = read_data("cached-microdescs.new", &l3);
  char *sk = read_data("cached-certs", &l4);
  ns_consensus_t *c = NULL;
  md_list_t *a = NULL, *b = NULL;
  authcert_list_t *k = NULL;
  NEED_DATA(sc);
  T_ASSERT(s1 && s2 && sk);
  size_t before = chive_mem_in_use();
  chive_mem_reset_peak();
  double t0 = now_ms();
  T_OK(ns_consensus_parse(sc, l1, &c));
  double t1 = now_ms();
  T_OK(md_list_parse(s1, l2, &a));
  T_OK(md_list_parse(s2, l3, &b));
  double t2 = now_ms();
  T_OK(authcert_list_parse(sk, l4, &k));
  double t3 = now_ms();
  size_t held = chive_mem_in_use() - before;
  size_t peak = chive_mem_peak() - before;
  fprintf(stderr,
          "  MEMORY whole 2017 directory (md consensus %zu routers + %zu "
          "microdescs + %zu certs): %zu heap bytes held (%.2f MiB; "
          "consensus %zu, mds %zu, certs %zu), transient peak %zu; parse "
          "ms: consensus %.1f, microdescs %.1f, certs %.1f\n",
          c->n_routers, a->n + b->n, k->n, held,
          (double)held / (1024.0 * 1024.0), ns_consensus_bytes(c),
          md_list_bytes(a) + md_list_bytes(b), authcert_list_bytes(k), peak,
          t1 - t0, t2 - t1, t3 - t2);
  T_ASSERT(held <= (size_t)8 * 1024 * 1024);
done:
  ns_consensus_free(c);
  md_list_free(a);
  md_list_free(b);
  authcert_list_free(k);
  chive_free(sc);
  chive_free(s1);
  chive_free(s2);
  chive_free(sk);
}

static void
test_init(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

static const t_case cases[] = {
  T_CASE(test_init),
  T_CASE(test_real_md_consensus),
  T_CASE(test_real_ns_consensus),
  T_CASE(test_real_microdescs),
  T_CASE(test_real_certs),
  T_CASE(test_real_verify),
  T_CASE(test_real_tamper),
  T_CASE(test_real_modern),
  T_CASE(test_real_memory),
  T_END,
};

T_MAIN(cases)
