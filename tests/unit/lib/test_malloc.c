/* Unit tests for lib/malloc: accounting, fail injection, wiping, ct compare. */
#include "lib/malloc/malloc.h"
#include "tinytest.h"

static void
test_accounting(void)
{
  size_t base = chive_mem_in_use();
  char *a = chive_malloc(100);
  char *b = NULL;
  T_ASSERT(a);
  T_EQ_UINT(chive_mem_in_use(), base + 100);
  b = chive_realloc(a, 1000);
  T_ASSERT(b);
  a = NULL;
  T_EQ_UINT(chive_mem_in_use(), base + 1000);
  T_ASSERT(chive_mem_peak() >= base + 1000);
  chive_free(b);
  b = NULL;
  T_EQ_UINT(chive_mem_in_use(), base);
  chive_free(NULL);
done:
  chive_free(a);
  chive_free(b);
}

static void
test_calloc_overflow(void)
{
  void *p = chive_calloc(SIZE_MAX / 2, 4);
  T_ASSERT(p == NULL);
  p = chive_malloc(SIZE_MAX - 4);
  T_ASSERT(p == NULL);
  p = chive_calloc(4, 8);
  T_ASSERT(p && chive_is_zero_ct(p, 32));
done:
  chive_free(p);
}

static void
test_fail_nth(void)
{
  void *p[3] = {NULL, NULL, NULL};
  chive_mem_fail_nth(2, false);
  p[0] = chive_malloc(8);
  p[1] = chive_malloc(8);
  p[2] = chive_malloc(8);
  T_ASSERT(p[0] && !p[1] && p[2]);
  T_ASSERT(chive_mem_fail_fired());
  chive_free(p[0]);
  chive_free(p[2]);
  p[0] = p[2] = NULL;
  chive_mem_fail_nth(1, true);
  p[0] = chive_malloc(1);
  p[1] = chive_strdup("x");
  T_ASSERT(!p[0] && !p[1]);
  chive_mem_fail_nth(0, false);
  p[0] = chive_malloc(1);
  T_ASSERT(p[0]);
  T_ASSERT(!chive_mem_fail_fired());
done:
  chive_mem_fail_nth(0, false);
  for (int i = 0; i < 3; i++)
    chive_free(p[i]);
}

static void
test_realloc_failure_keeps_block(void)
{
  char *p = chive_strdup("keep me");
  T_ASSERT(p);
  chive_mem_fail_nth(1, false);
  char *q = chive_realloc(p, 4096);
  T_ASSERT(q == NULL);
  T_EQ_STR(p, "keep me");
done:
  chive_mem_fail_nth(0, false);
  chive_free(p);
}

static void
test_dup_and_wipe(void)
{
  char *s = chive_strndup("abcdef", 3);
  uint8_t *m = chive_memdup("\x01\x02\x03", 3);
  T_EQ_STR(s, "abc");
  T_ASSERT(m && m[2] == 3);
  uint8_t key[32];
  memset(key, 0x5a, sizeof(key));
  chive_memwipe(key, sizeof(key));
  T_ASSERT(chive_is_zero_ct(key, sizeof(key)));
  T_ASSERT(chive_memeq_ct("abc", "abc", 3));
  T_ASSERT(!chive_memeq_ct("abc", "abd", 3));
  T_ASSERT(chive_memeq_ct("", "", 0));
  T_ASSERT(fast_memeq("xy", "xy", 2));
  chive_free_wipe(m);
  m = NULL;
  /* Replacing the allocator after use is refused. */
  T_EQ_INT(chive_set_allocator(NULL, NULL, NULL), CHIVE_ERR_INVAL);
done:
  chive_free(s);
  chive_free(m);
}

static const t_case cases[] = {
    T_CASE(test_accounting),       T_CASE(test_calloc_overflow),
    T_CASE(test_fail_nth),         T_CASE(test_realloc_failure_keeps_block),
    T_CASE(test_dup_and_wipe),     T_END,
};
T_MAIN(cases)
