/* Unit tests for guard persistence (guard-spec A.5): save/load round
 * trip, reuse after a restart, tor-written state, corrupt files. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feature/nodes/guards.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/rand.h"
#include "lib/fs/fs.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

#define T0 ((int64_t)1700000000)
#define DAY ((int64_t)86400)

static guard_candidate_t cands[40];

static void
mk_cands(size_t n)
{
  for (size_t i = 0; i < n; i++) {
    guard_candidate_t *c = &cands[i];
    memset(c, 0, sizeof(*c));
    c->rsa_id[1] = (uint8_t)i;
    c->rsa_id[19] = 0x55;
    snprintf(c->nickname, sizeof(c->nickname), "n%u", (unsigned)i);
    c->weight = 100 + i;
    c->is_guard_flag = c->is_running = c->is_valid = true;
    c->is_fast = c->is_stable = c->is_v2dir = true;
    c->ipv4 = (10u << 24) + ((uint32_t)i << 16) + 1u;
    c->port = 443;
  }
}

static void
seed_rng(uint8_t b)
{
  uint8_t s[32];
  memset(s, b, sizeof(s));
  crypto_rand_testing_set_deterministic(s);
}

static guards_t *
mk_guards(size_t n, int64_t now)
{
  guards_config_t cfg;
  guards_t *g = NULL;
  guards_config_defaults(&cfg);
  if (guards_new(&cfg, &g) != CHIVE_OK)
    return NULL;
  if (n && guards_update_consensus(g, cands, n, now) != CHIVE_OK)
    guards_free(g);
  return g;
}

static guard_circ_state_t
run_circ(guards_t *g, int64_t now, bool ok, guard_pick_t *pick)
{
  guard_circ_t *c = NULL;
  guard_circ_state_t st = GUARD_CIRC_DEAD;
  if (guards_select(g, now, NULL, pick, &c) != CHIVE_OK)
    return GUARD_CIRC_DEAD;
  if (ok)
    st = guards_circuit_succeeded(g, c, now);
  else
    guards_circuit_failed(g, c, now);
  guard_circ_free(c);
  return st;
}

/** Compare the persistent fields of two guard sets. */
static bool
same_persistent(const guards_t *a, const guards_t *b)
{
  static guard_info_t ia[64], ib[64];
  size_t na = guards_list(a, ia, 64), nb = guards_list(b, ib, 64);
  if (na != nb)
    return false;
  for (size_t i = 0; i < na && i < 64; i++) {
    if (memcmp(ia[i].rsa_id, ib[i].rsa_id, GUARD_RSA_ID_LEN) != 0 ||
        strcmp(ia[i].nickname, ib[i].nickname) != 0 ||
        ia[i].sampled_on != ib[i].sampled_on ||
        ia[i].is_listed != ib[i].is_listed ||
        ia[i].unlisted_since != ib[i].unlisted_since ||
        ia[i].confirmed_on != ib[i].confirmed_on ||
        ia[i].confirmed_idx != ib[i].confirmed_idx) {
      fprintf(stderr, "  guard %zu differs\n", i);
      return false;
    }
  }
  return true;
}

static char tmpdir[64];
static char statepath[128];

static bool
mk_tmp(void)
{
  snprintf(tmpdir, sizeof(tmpdir), "/tmp/chive-test-guards-XXXXXX");
  if (!mkdtemp(tmpdir))
    return false;
  return fs_join(statepath, sizeof(statepath), tmpdir, "state") == CHIVE_OK;
}

static void
rm_tmp(void)
{
  (void)unlink(statepath);
  (void)rmdir(tmpdir);
}

static void
test_round_trip(void)
{
  guards_t *g = NULL, *g2 = NULL;
  statefile_t *sf = NULL;
  guard_pick_t pick;
  seed_rng(21);
  mk_cands(30);
  T_ASSERT(mk_tmp());
  g = mk_guards(30, T0);
  T_ASSERT(g);
  /* Confirm two guards, unlist one. */
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  guards_mark_unreachable(g, pick.rsa_id, T0);
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  guard_info_t info[32];
  T_EQ_UINT(guards_list(g, info, 32), 20);
  int gone = info[7].rsa_id[1];
  cands[gone].is_guard_flag = false;
  T_OK(guards_update_consensus(g, cands, 30, T0 + 100));
  T_ASSERT(guards_is_dirty(g));
  T_OK(guards_save(g, statepath, T0 + 100));
  T_ASSERT(!guards_is_dirty(g));
  /* A fresh instance, before any consensus, reads the same thing. */
  g2 = mk_guards(0, T0);
  T_ASSERT(g2);
  statefile_error_t err = {0, NULL};
  T_OK(guards_load(g2, statepath, T0 + 200, &err));
  T_ASSERT(same_persistent(g, g2));
  T_ASSERT(!guards_is_dirty(g2));
  guards_counts_t c1, c2;
  guards_counts(g, &c1);
  guards_counts(g2, &c2);
  T_EQ_UINT(c2.n_confirmed, 2);
  T_EQ_UINT(c2.n_sampled, c1.n_sampled);
  /* Saving again produces the same Guard lines. */
  sf = statefile_new();
  T_ASSERT(sf);
  T_OK(guards_save_to_state(g2, sf, T0 + 200));
  statefile_t *sf1 = NULL;
  T_OK(statefile_load(statepath, &sf1, NULL));
  T_EQ_UINT(statefile_n(sf1), statefile_n(sf));
  for (size_t i = 0; i < statefile_n(sf); i++)
    T_EQ_STR(statefile_value(sf1, i), statefile_value(sf, i));
  statefile_free(sf1);
done:
  statefile_free(sf);
  guards_free(g);
  guards_free(g2);
  rm_tmp();
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_restart_reuses_guard(void)
{
  guards_t *g = NULL, *g2 = NULL;
  guard_pick_t pick, pick2;
  seed_rng(22);
  mk_cands(30);
  T_ASSERT(mk_tmp());
  g = mk_guards(30, T0);
  T_ASSERT(g);
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  T_OK(guards_save(g, statepath, T0));
  guards_free(g);
  /* "Restart": another RNG stream, so a fresh sample would differ. */
  seed_rng(99);
  g2 = mk_guards(0, T0 + 3600);
  T_ASSERT(g2);
  T_OK(guards_load(g2, statepath, T0 + 3600, NULL));
  /* No consensus yet: no addresses, nothing to pick. */
  guard_circ_t *c = NULL;
  T_EQ_INT(guards_select(g2, T0 + 3600, NULL, &pick2, &c), CHIVE_ERR_NOTFOUND);
  T_OK(guards_update_consensus(g2, cands, 30, T0 + 3600));
  T_EQ_INT(run_circ(g2, T0 + 3600, true, &pick2), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick2.rsa_id, pick.rsa_id, GUARD_RSA_ID_LEN);
  T_EQ_UINT(pick2.port, 443);
  /* Loading into an instance that already has a consensus works too. */
  T_OK(guards_load(g2, statepath, T0 + 7200, NULL));
  T_EQ_INT(run_circ(g2, T0 + 7200, true, &pick2), GUARD_CIRC_COMPLETE);
  T_EQ_MEM(pick2.rsa_id, pick.rsa_id, GUARD_RSA_ID_LEN);
done:
  guards_free(g);
  guards_free(g2);
  rm_tmp();
  crypto_rand_testing_set_deterministic(NULL);
}

static const char tor_state[] =
    "# Tor state file last generated on 2023-05-01 10:00:00 local time\n"
    "Guard in=default rsa_id=0001000000000000000000000000000000000055 "
    "nickname=n1 sampled_on=2023-04-10T08:00:00 sampled_idx=1 "
    "sampled_by=0.4.7.13 listed=1 confirmed_on=2023-04-12T00:00:00 "
    "confirmed_idx=1 pb_use_attempts=5.000000 pb_circ_attempts=40.000000\n"
    "Guard in=default rsa_id=0002000000000000000000000000000000000055 "
    "sampled_on=2023-04-10T08:00:00 sampled_idx=0 sampled_by=0.4.7.13 "
    "listed=0 unlisted_since=2023-04-20T00:00:00\n"
    "Guard in=default rsa_id=0003000000000000000000000000000000000055 "
    "nickname=n3 sampled_on=2023-04-10T08:00:00 sampled_idx=2 listed=1 "
    "confirmed_on=2023-04-11T00:00:00 confirmed_idx=0\n"
    "Guard in=bridges rsa_id=0004000000000000000000000000000000000055 "
    "bridge_addr=192.0.2.1:443 sampled_on=2023-04-10T08:00:00 listed=1\n"
    "TorVersion Tor 0.4.7.13\n"
    "LastWritten 2023-05-01 08:00:00\n";

static void
test_tor_state(void)
{
  guards_t *g = NULL;
  statefile_t *sf = NULL;
  int64_t now = 1682935200; /* 2023-05-01 10:00:00 */
  T_OK(statefile_parse(tor_state, strlen(tor_state), &sf, NULL));
  g = mk_guards(0, now);
  T_ASSERT(g);
  T_OK(guards_load_from_state(g, sf, now, NULL));
  guard_info_t info[8];
  T_EQ_UINT(guards_list(g, info, 8), 3);
  /* Sample order from sampled_idx. */
  T_EQ_UINT(info[0].rsa_id[1], 2);
  T_EQ_UINT(info[1].rsa_id[1], 1);
  T_EQ_UINT(info[2].rsa_id[1], 3);
  T_ASSERT(!info[0].is_listed);
  T_EQ_INT(info[0].unlisted_since, 1681948800); /* 2023-04-20 */
  T_EQ_INT(info[1].sampled_on, 1681113600);     /* 2023-04-10 08:00 */
  T_EQ_STR(info[1].nickname, "n1");
  /* Confirmed order from confirmed_idx. */
  T_EQ_INT(info[2].confirmed_idx, 0);
  T_EQ_INT(info[1].confirmed_idx, 1);
  T_EQ_INT(info[0].confirmed_idx, -1);
  T_EQ_INT(info[2].confirmed_on, 1681171200); /* 2023-04-11 */
  /* Writing back keeps the path-bias fields, the other instance's
   * guard, and the other keys. */
  T_OK(guards_save_to_state(g, sf, now));
  T_EQ_UINT(statefile_n(sf), 6);
  T_EQ_STR(statefile_get(sf, "TorVersion"), "Tor 0.4.7.13");
  bool have_bridge = false, have_pb = false;
  for (size_t i = 0; i < statefile_n(sf); i++) {
    const char *v = statefile_value(sf, i);
    if (strstr(v, "in=bridges") && strstr(v, "bridge_addr=192.0.2.1:443"))
      have_bridge = true;
    if (strstr(v, "rsa_id=0001000000000000000000000000000000000055") &&
        strstr(v, "pb_use_attempts=5.000000 pb_circ_attempts=40.000000") &&
        strstr(v, "sampled_by=0.4.7.13") && strstr(v, "nickname=n1"))
      have_pb = true;
  }
  T_ASSERT(have_bridge && have_pb);
done:
  statefile_free(sf);
  guards_free(g);
}

/** Load a state whose only Guard entry has value <b>v</b>; expect
 * failure with the state left alone. */
static bool
entry_rejected(guards_t *g, const char *v)
{
  char text[1024];
  statefile_t *sf = NULL;
  statefile_error_t err = {0, NULL};
  snprintf(text, sizeof(text), "Foo bar\nGuard %s\n", v);
  if (statefile_parse(text, strlen(text), &sf, NULL) != CHIVE_OK)
    return false;
  chive_err_t e = guards_load_from_state(g, sf, T0, &err);
  statefile_free(sf);
  if (e == CHIVE_OK || err.line != 2 || err.msg == NULL) {
    fprintf(stderr, "  accepted or unexplained: %s\n", v);
    return false;
  }
  return true;
}

#define ID "rsa_id=0001000000000000000000000000000000000055 "
#define SON "sampled_on=2023-04-10T08:00:00 "

static void
test_bad_entries(void)
{
  guards_t *g = NULL;
  statefile_t *sf = NULL;
  guard_pick_t pick;
  seed_rng(23);
  mk_cands(30);
  g = mk_guards(30, T0);
  T_ASSERT(g);
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  guard_info_t before[32];
  size_t nb = guards_list(g, before, 32);
  T_ASSERT(entry_rejected(g, ID SON "listed=1"));            /* no in= */
  T_ASSERT(entry_rejected(g, "in=default " SON "listed=1")); /* no id */
  T_ASSERT(entry_rejected(g, "in=default " ID "listed=1"));  /* no date */
  T_ASSERT(entry_rejected(g, "in=default " ID SON));         /* no listed */
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=2"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=1 listed=1"));
  T_ASSERT(entry_rejected(g, "in=default in=default " ID SON "listed=1"));
  T_ASSERT(entry_rejected(g, "in=default rsa_id=00 " SON "listed=1"));
  T_ASSERT(entry_rejected(
      g, "in=default rsa_id=000100000000000000000000000000000000005G " SON
         "listed=1"));
  T_ASSERT(entry_rejected(g, "in=default " ID
                             "sampled_on=2023-04-10 listed=1")); /* format */
  T_ASSERT(entry_rejected(g, "in=default " ID
                             "sampled_on=2023-02-30T00:00:00 listed=1"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=1 nickname=a-b"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON
                             "listed=1 nickname=abcdefghijklmnopqrst"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=1 confirmed_idx=x"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=1 sampled_idx=-1"));
  T_ASSERT(entry_rejected(g, "in=default " ID SON "listed=1 junk"));
  /* The same guard twice. */
  statefile_error_t err = {0, NULL};
  const char *dup = "Guard in=default " ID SON "listed=1\n"
                    "Guard in=default " ID SON "listed=0\n";
  T_OK(statefile_parse(dup, strlen(dup), &sf, NULL));
  T_EQ_INT(guards_load_from_state(g, sf, T0, &err), CHIVE_ERR_PROTO);
  T_EQ_UINT(err.line, 2);
  statefile_free(sf);
  /* Nothing changed. */
  guard_info_t after[32];
  T_EQ_UINT(guards_list(g, after, 32), nb);
  T_EQ_MEM(after, before, nb * sizeof(guard_info_t));
  /* Another instance's odd entries are not ours to judge. */
  T_OK(statefile_parse("Guard in=other whatever=1\n", 26, &sf, NULL));
  T_OK(guards_load_from_state(g, sf, T0, &err));
  guards_counts_t ct;
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_confirmed, 0); /* an empty default instance */
done:
  statefile_free(sf);
  guards_free(g);
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_corrupt_file_fresh_start(void)
{
  guards_t *g = NULL;
  guard_pick_t pick;
  seed_rng(24);
  mk_cands(30);
  T_ASSERT(mk_tmp());
  g = mk_guards(0, T0);
  T_ASSERT(g);
  statefile_error_t err = {0, NULL};
  /* Missing file. */
  T_EQ_INT(guards_load(g, statepath, T0, &err), CHIVE_ERR_NOTFOUND);
  /* Garbage. */
  static const char junk[] = "\x01\x02\x03 garbage\n\"\n";
  T_OK(fs_write_atomic(statepath, junk, sizeof(junk) - 1, 0600));
  T_ASSERT(guards_load(g, statepath, T0, &err) != CHIVE_OK);
  T_ASSERT(err.msg != NULL);
  /* A bad guard entry among good lines. */
  static const char bad[] = "TorVersion x\nGuard in=default listed=1\n";
  T_OK(fs_write_atomic(statepath, bad, sizeof(bad) - 1, 0600));
  T_EQ_INT(guards_load(g, statepath, T0, &err), CHIVE_ERR_PROTO);
  T_EQ_UINT(err.line, 2);
  /* The client goes on with fresh guards and can save over the file. */
  T_OK(guards_update_consensus(g, cands, 30, T0));
  T_EQ_INT(run_circ(g, T0, true, &pick), GUARD_CIRC_COMPLETE);
  T_OK(guards_save(g, statepath, T0));
  guards_free(g);
  g = mk_guards(0, T0);
  T_ASSERT(g);
  T_OK(guards_load(g, statepath, T0, &err));
  guards_counts_t ct;
  guards_counts(g, &ct);
  T_EQ_UINT(ct.n_sampled, 20);
  T_EQ_UINT(ct.n_confirmed, 1);
done:
  guards_free(g);
  rm_tmp();
  crypto_rand_testing_set_deterministic(NULL);
}

static void
test_every_prefix(void)
{
  /* Each prefix of a tor state file loads or is refused; never crashes,
   * and a refusal leaves the (empty) state unchanged. */
  guards_t *g = mk_guards(0, T0);
  T_ASSERT(g);
  size_t len = strlen(tor_state);
  for (size_t i = 0; i <= len; i++) {
    statefile_t *sf = NULL;
    if (statefile_parse(tor_state, i, &sf, NULL) != CHIVE_OK)
      continue;
    statefile_error_t err = {0, NULL};
    guards_drop_all(g);
    if (guards_load_from_state(g, sf, T0, &err) != CHIVE_OK) {
      guards_counts_t ct;
      guards_counts(g, &ct);
      T_EQ_UINT(ct.n_sampled, 0);
      T_ASSERT(err.msg != NULL);
    }
    statefile_free(sf);
  }
done:
  guards_free(g);
}

static void
test_long_unknown_items(void)
{
  /* Unknown items that would push an entry over the value limit are
   * dropped on save; the guard itself is kept. */
  guards_t *g = mk_guards(0, T0);
  statefile_t *sf = NULL, *out = NULL;
  char *text = chive_malloc(STATEFILE_MAX_VALUE_LEN + 64);
  T_ASSERT(g && text);
  static const char head[] = "Guard in=default " ID SON "listed=1 pb_x=";
  size_t hl = strlen(head);
  memcpy(text, head, hl);
  size_t fill = STATEFILE_MAX_VALUE_LEN - (hl - 6) - 1;
  memset(text + hl, '9', fill);
  memcpy(text + hl + fill, "\n", 2);
  T_OK(statefile_parse(text, hl + fill + 1, &sf, NULL));
  T_OK(guards_load_from_state(g, sf, T0, NULL));
  out = statefile_new();
  T_ASSERT(out);
  T_OK(guards_save_to_state(g, out, T0));
  T_EQ_UINT(statefile_n(out), 1);
  T_ASSERT(strstr(statefile_value(out, 0), "pb_x") == NULL);
  T_ASSERT(strstr(statefile_value(out, 0), "listed=1") != NULL);
done:
  chive_free(text);
  statefile_free(sf);
  statefile_free(out);
  guards_free(g);
}

static void
test_setup(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_setup),
    T_CASE(test_round_trip),
    T_CASE(test_restart_reuses_guard),
    T_CASE(test_tor_state),
    T_CASE(test_bad_entries),
    T_CASE(test_corrupt_file_fresh_start),
    T_CASE(test_every_prefix),
    T_CASE(test_long_unknown_items),
    T_END,
};

T_MAIN(cases)
