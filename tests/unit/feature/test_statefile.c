/* Unit tests for feature/nodes/statefile: parse, encode, edit, K=V
 * splitting, limits, truncation, and atomic save/load. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "feature/nodes/statefile.h"
#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"
#include "lib/text/strbuf.h"
#include "tinytest.h"

static const char sample[] =
    "# Tor state file last generated on 2016-11-29 19:39:31 local time\n"
    "# Other times below are in UTC\n"
    "# You *do not* need to edit this file.\n"
    "\n"
    "Guard in=default rsa_id=7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F7F "
    "nickname=alpha sampled_on=2016-11-20T12:00:00 "
    "sampled_by=0.3.0.0-alpha listed=1 confirmed_on=2016-11-21T00:00:00 "
    "confirmed_idx=0 pb_use_attempts=3.000000 pb_use_successes=3.000000\n"
    "Guard in=restricted rsa_id=0101010101010101010101010101010101010101 "
    "sampled_on=2016-11-20T12:00:00 listed=0\n"
    "TorVersion Tor 0.3.0.0-alpha (git-abc)\n"
    "LastWritten 2016-11-29 19:39:31\n";

static void
test_parse_basic(void)
{
  statefile_t *sf = NULL;
  statefile_error_t err = {0, NULL};
  T_OK(statefile_parse(sample, strlen(sample), &sf, &err));
  T_EQ_UINT(statefile_n(sf), 4);
  T_EQ_STR(statefile_key(sf, 0), "Guard");
  T_EQ_UINT(statefile_line(sf, 0), 5);
  T_EQ_UINT(statefile_line(sf, 3), 8);
  T_EQ_STR(statefile_get(sf, "torversion"), "Tor 0.3.0.0-alpha (git-abc)");
  T_EQ_STR(statefile_get(sf, "LastWritten"), "2016-11-29 19:39:31");
  T_ASSERT(statefile_get(sf, "Nope") == NULL);
  /* Empty input and comment-only input are empty states. */
  statefile_free(sf);
  T_OK(statefile_parse("", 0, &sf, &err));
  T_EQ_UINT(statefile_n(sf), 0);
  statefile_free(sf);
  T_OK(statefile_parse("# x\n\n   \n", 9, &sf, &err));
  T_EQ_UINT(statefile_n(sf), 0);
done:
  statefile_free(sf);
}

static void
test_round_trip(void)
{
  statefile_t *sf = NULL, *sf2 = NULL;
  strbuf_t sb;
  strbuf_init(&sb, STATEFILE_MAX_LEN);
  T_OK(statefile_parse(sample, strlen(sample), &sf, NULL));
  /* Values the tokenizer would change are quoted on output. */
  T_OK(statefile_append(sf, "Hash", "a # b"));
  T_OK(statefile_append(sf, "Quote", "\"quoted\""));
  T_OK(statefile_append(sf, "Slash", "ends\\"));
  T_OK(statefile_append(sf, "Spaces", "  lead and trail  "));
  T_OK(statefile_append(sf, "Empty", ""));
  T_OK(statefile_encode(sf, &sb));
  T_OK(statefile_parse(strbuf_str(&sb), strbuf_len(&sb), &sf2, NULL));
  T_EQ_UINT(statefile_n(sf2), statefile_n(sf));
  for (size_t i = 0; i < statefile_n(sf); i++) {
    T_EQ_STR(statefile_key(sf2, i), statefile_key(sf, i));
    T_EQ_STR(statefile_value(sf2, i), statefile_value(sf, i));
  }
  T_EQ_STR(statefile_get(sf2, "Hash"), "a # b");
  T_EQ_STR(statefile_get(sf2, "Spaces"), "  lead and trail  ");
done:
  strbuf_clear(&sb);
  statefile_free(sf);
  statefile_free(sf2);
}

static void
expect_bad(const char *text, chive_err_t want, unsigned line)
{
  statefile_t *sf = NULL;
  statefile_error_t err = {0, NULL};
  chive_err_t e = statefile_parse(text, strlen(text), &sf, &err);
  if (e != want || sf != NULL || err.msg == NULL || err.line != line) {
    fprintf(stderr, "  bad input %s: got %d line %u\n", text, (int)e,
            err.line);
    t_failed_ = 1;
  }
  statefile_free(sf);
}

static void
test_reject(void)
{
  expect_bad("+Guard x=1\n", CHIVE_ERR_PROTO, 1);
  expect_bad("A 1\n/Guard\n", CHIVE_ERR_PROTO, 2);
  expect_bad("Bad-Key 1\n", CHIVE_ERR_PROTO, 1);
  expect_bad("Key \"\\x01\"\n", CHIVE_ERR_PROTO, 1);
  expect_bad("Key \"unterminated\n", CHIVE_ERR_PROTO, 1);
  expect_bad("Key \xff\n", CHIVE_ERR_PROTO, 1);
  /* A NUL byte anywhere. */
  statefile_t *sf = NULL;
  statefile_error_t err = {0, NULL};
  T_EQ_INT(statefile_parse("A 1\0\n", 5, &sf, &err), CHIVE_ERR_PROTO);
  T_ASSERT(sf == NULL);
  /* A key over 64 bytes, a value over 4096. */
  char big[5000];
  memset(big, 'k', 65);
  memcpy(big + 65, " v\n", 4);
  expect_bad(big, CHIVE_ERR_PROTO, 1);
  memcpy(big, "K ", 2);
  memset(big + 2, 'v', 4097);
  memcpy(big + 4099, "\n", 2);
  expect_bad(big, CHIVE_ERR_PROTO, 1);
  /* Oversized input. */
  T_EQ_INT(statefile_parse(big, STATEFILE_MAX_LEN + 1, &sf, &err),
           CHIVE_ERR_LIMIT);
  T_ASSERT(sf == NULL && err.msg != NULL);
  /* Too many entries. */
  size_t n = (STATEFILE_MAX_ENTRIES + 1) * 4;
  char *many = chive_malloc(n + 1);
  T_ASSERT(many);
  for (size_t i = 0; i < STATEFILE_MAX_ENTRIES + 1; i++)
    memcpy(many + 4 * i, "A 1\n", 4);
  T_EQ_INT(statefile_parse(many, n, &sf, &err), CHIVE_ERR_LIMIT);
  T_EQ_UINT(err.line, STATEFILE_MAX_ENTRIES + 1);
  T_OK(statefile_parse(many, n - 4, &sf, &err));
  T_EQ_UINT(statefile_n(sf), STATEFILE_MAX_ENTRIES);
  T_EQ_INT(statefile_append(sf, "B", "1"), CHIVE_ERR_LIMIT);
  chive_free(many);
done:
  statefile_free(sf);
}

static void
test_edit(void)
{
  statefile_t *sf = statefile_new();
  T_ASSERT(sf);
  T_OK(statefile_append(sf, "A", "1"));
  T_OK(statefile_append(sf, "B", "2"));
  T_OK(statefile_append(sf, "a", "3"));
  T_EQ_INT(statefile_append(sf, "bad key", "1"), CHIVE_ERR_INVAL);
  T_EQ_INT(statefile_append(sf, "K", "line\nbreak"), CHIVE_ERR_INVAL);
  /* set replaces every A with one entry where the first was. */
  T_OK(statefile_set(sf, "A", "x"));
  T_EQ_UINT(statefile_n(sf), 2);
  T_EQ_STR(statefile_key(sf, 0), "A");
  T_EQ_STR(statefile_value(sf, 0), "x");
  T_EQ_STR(statefile_value(sf, 1), "2");
  T_OK(statefile_set(sf, "C", "y"));
  T_EQ_UINT(statefile_n(sf), 3);
  statefile_remove_at(sf, 0);
  T_EQ_UINT(statefile_n(sf), 2);
  T_EQ_STR(statefile_key(sf, 0), "B");
  T_EQ_STR(statefile_key(sf, 1), "C");
  T_EQ_UINT(statefile_line(sf, 1), 0);
done:
  statefile_free(sf);
}

static void
test_split_kv(void)
{
  statefile_kv_t kv[4];
  size_t n = 99;
  const char *s = "  in=default  rsa_id=AB x= ";
  T_OK(statefile_split_kv(s, strlen(s), kv, 4, &n));
  T_EQ_UINT(n, 3);
  T_EQ_UINT(kv[0].k_len, 2);
  T_ASSERT(memcmp(kv[0].k, "in", 2) == 0);
  T_EQ_UINT(kv[0].v_len, 7);
  T_ASSERT(memcmp(kv[1].v, "AB", 2) == 0 && kv[1].v_len == 2);
  T_EQ_UINT(kv[2].v_len, 0);
  /* "=" inside a value is part of the value. */
  T_OK(statefile_split_kv("a=b=c", 5, kv, 4, &n));
  T_EQ_UINT(n, 1);
  T_EQ_UINT(kv[0].v_len, 3);
  T_OK(statefile_split_kv("", 0, kv, 4, &n));
  T_EQ_UINT(n, 0);
  n = 7;
  T_EQ_INT(statefile_split_kv("novalue", 7, kv, 4, &n), CHIVE_ERR_PROTO);
  T_EQ_INT(statefile_split_kv("=v", 2, kv, 4, &n), CHIVE_ERR_PROTO);
  T_EQ_INT(statefile_split_kv("a=1 b=2 c=3 d=4 e=5", 19, kv, 4, &n),
           CHIVE_ERR_LIMIT);
  T_EQ_UINT(n, 7); /* untouched on failure */
done:
  return;
}

static void
test_every_prefix(void)
{
  /* Every prefix either parses (a shorter file) or is refused cleanly. */
  size_t len = strlen(sample);
  for (size_t i = 0; i <= len; i++) {
    char *copy = chive_memdup(sample, i ? i : 1);
    T_ASSERT(copy);
    statefile_t *sf = NULL;
    statefile_error_t err = {0, NULL};
    chive_err_t e = statefile_parse(copy, i, &sf, &err);
    chive_free(copy);
    if (e == CHIVE_OK) {
      T_ASSERT(statefile_n(sf) <= 4);
    } else {
      T_ASSERT(sf == NULL && err.msg != NULL);
    }
    statefile_free(sf);
  }
done:
  return;
}

static void
test_save_load(void)
{
  char dir[] = "/tmp/chive-test-statefile-XXXXXX";
  char path[256];
  statefile_t *sf = NULL, *sf2 = NULL;
  statefile_error_t err = {0, NULL};
  T_ASSERT(mkdtemp(dir) != NULL);
  T_OK(fs_join(path, sizeof(path), dir, "state"));
  T_EQ_INT(statefile_load(path, &sf, &err), CHIVE_ERR_NOTFOUND);
  T_ASSERT(sf == NULL);
  T_OK(statefile_parse(sample, strlen(sample), &sf, NULL));
  T_OK(statefile_save(sf, path));
  T_OK(statefile_load(path, &sf2, &err));
  T_EQ_UINT(statefile_n(sf2), statefile_n(sf));
  T_EQ_STR(statefile_value(sf2, 3), statefile_value(sf, 3));
  statefile_free(sf2);
  /* A corrupt file is reported with its line. */
  T_OK(fs_write_atomic(path, "A 1\n+B 2\n", 9, 0600));
  T_EQ_INT(statefile_load(path, &sf2, &err), CHIVE_ERR_PROTO);
  T_EQ_UINT(err.line, 2);
  T_ASSERT(sf2 == NULL);
done:
  statefile_free(sf);
  statefile_free(sf2);
  (void)unlink(path);
  (void)rmdir(dir);
}

static const t_case cases[] = {
    T_CASE(test_parse_basic), T_CASE(test_round_trip),
    T_CASE(test_reject),      T_CASE(test_edit),
    T_CASE(test_split_kv),    T_CASE(test_every_prefix),
    T_CASE(test_save_load),   T_END,
};

T_MAIN(cases)
