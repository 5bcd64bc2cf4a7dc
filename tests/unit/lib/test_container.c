/* Unit tests for lib/container: ptrvec, dmap, siphash, intrusive lists. */
#include <stdint.h>

#include "lib/container/dmap.h"
#include "lib/container/list.h"
#include "lib/container/ptrvec.h"
#include "lib/container/siphash.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

#define P(n) ((void *)(uintptr_t)(n))
#define N(p) ((uintptr_t)(p))

static void
test_siphash(void)
{
  /* Reference vectors from the SipHash paper's test code: key 00..0f,
   * message 00 01 02 ... of length 0, 1 and 15. */
  uint8_t key[16], msg[16];
  for (int i = 0; i < 16; i++)
    key[i] = msg[i] = (uint8_t)i;
  T_EQ_UINT(siphash24(key, msg, 0), 0x726fdb47dd0e0e31ULL);
  T_EQ_UINT(siphash24(key, msg, 1), 0x74f839c593dc67fdULL);
  T_EQ_UINT(siphash24(key, msg, 15), 0xa129ca6149be45e5ULL);
  /* The key matters. */
  key[0] ^= 1;
  T_ASSERT(siphash24(key, msg, 15) != 0xa129ca6149be45e5ULL);
done:
  return;
}

static void
test_ptrvec_basic(void)
{
  ptrvec_t v;
  ptrvec_init(&v, 100);
  T_EQ_UINT(ptrvec_len(&v), 0);
  T_ASSERT(ptrvec_pop(&v) == NULL);
  for (uintptr_t i = 1; i <= 20; i++)
    T_OK(ptrvec_add(&v, P(i)));
  T_EQ_UINT(ptrvec_len(&v), 20);
  T_EQ_UINT(N(ptrvec_get(&v, 0)), 1);
  T_EQ_UINT(N(ptrvec_get(&v, 19)), 20);
  T_OK(ptrvec_insert(&v, 0, P(100)));
  T_OK(ptrvec_insert(&v, 21, P(200)));
  T_OK(ptrvec_insert(&v, 5, P(300)));
  T_EQ_UINT(ptrvec_len(&v), 23);
  T_EQ_UINT(N(ptrvec_get(&v, 0)), 100);
  T_EQ_UINT(N(ptrvec_get(&v, 5)), 300);
  T_EQ_UINT(N(ptrvec_get(&v, 6)), 5);
  T_EQ_UINT(N(ptrvec_get(&v, 22)), 200);
  T_EQ_UINT(ptrvec_index_of(&v, P(300)), 5);
  T_EQ_UINT(ptrvec_index_of(&v, P(999)), SIZE_MAX);
  T_ASSERT(ptrvec_contains(&v, P(7)));
  T_ASSERT(ptrvec_remove(&v, P(300)));
  T_ASSERT(!ptrvec_remove(&v, P(300)));
  T_EQ_UINT(N(ptrvec_get(&v, 5)), 5);
  /* del swaps the last element in; del_keeporder shifts. */
  T_EQ_UINT(N(ptrvec_del(&v, 0)), 100);
  T_EQ_UINT(N(ptrvec_get(&v, 0)), 200);
  T_EQ_UINT(N(ptrvec_del_keeporder(&v, 0)), 200);
  T_EQ_UINT(N(ptrvec_get(&v, 0)), 1);
  T_EQ_UINT(N(ptrvec_get(&v, 1)), 2);
  T_EQ_UINT(N(ptrvec_set(&v, 1, P(42))), 2);
  T_EQ_UINT(N(ptrvec_get(&v, 1)), 42);
  T_EQ_UINT(N(ptrvec_pop(&v)), 20);
  T_EQ_UINT(ptrvec_len(&v), 19);
  T_OK(ptrvec_add(&v, NULL)); /* NULL elements are allowed */
  T_ASSERT(ptrvec_get(&v, 19) == NULL);
done:
  ptrvec_clear(&v, NULL);
}

static void
test_ptrvec_limits_and_oom(void)
{
  ptrvec_t v;
  ptrvec_init(&v, 10);
  for (uintptr_t i = 0; i < 10; i++)
    T_OK(ptrvec_add(&v, P(i)));
  T_EQ_INT(ptrvec_add(&v, P(10)), CHIVE_ERR_LIMIT);
  T_EQ_INT(ptrvec_insert(&v, 0, P(10)), CHIVE_ERR_LIMIT);
  T_EQ_INT(ptrvec_reserve(&v, 11), CHIVE_ERR_LIMIT);
  T_EQ_UINT(ptrvec_len(&v), 10);
  T_ASSERT(v.cap <= 10);
  ptrvec_clear(&v, NULL);

  /* Failing each growth leaves the vector exactly as it was. */
  ptrvec_init(&v, 1000);
  for (uintptr_t i = 0; i < 500; i++) {
    chive_mem_fail_nth(1, false);
    chive_err_t e = ptrvec_add(&v, P(i + 1));
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (fired) {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_EQ_UINT(ptrvec_len(&v), i);
      T_OK(ptrvec_add(&v, P(i + 1)));
    } else {
      T_OK(e);
    }
    T_EQ_UINT(ptrvec_len(&v), i + 1);
    for (uintptr_t j = 0; j <= i; j += 37)
      T_EQ_UINT(N(ptrvec_get(&v, j)), j + 1);
  }
  /* After a reserve, adds cannot fail. */
  T_OK(ptrvec_reserve(&v, 1000));
  chive_mem_fail_nth(1, true);
  for (uintptr_t i = 500; i < 1000; i++)
    T_OK(ptrvec_add(&v, P(i + 1)));
  chive_mem_fail_nth(0, false);
done:
  chive_mem_fail_nth(0, false);
  ptrvec_clear(&v, NULL);
}

static int
cmp_num(const void *a, const void *b)
{
  uintptr_t x = N(a), y = N(b);
  return x < y ? -1 : x > y;
}

static int
cmp_key_num(const void *key, const void *item)
{
  return cmp_num(key, item);
}

static void
test_ptrvec_sort_bsearch(void)
{
  ptrvec_t v;
  ptrvec_init(&v, 5000);
  for (size_t n = 0; n < 300; n += (n < 20 ? 1 : 37)) {
    ptrvec_clear(&v, NULL);
    uint32_t x = (uint32_t)n * 7919u + 1;
    for (size_t i = 0; i < n; i++) {
      x = x * 1664525u + 1013904223u;
      T_OK(ptrvec_add(&v, P(x % 50)));
    }
    ptrvec_sort(&v, cmp_num);
    for (size_t i = 1; i < n; i++)
      T_ASSERT(N(ptrvec_get(&v, i - 1)) <= N(ptrvec_get(&v, i)));
    for (uintptr_t k = 0; k < 52; k++) {
      size_t idx = 99999;
      void *hit = ptrvec_bsearch(&v, P(k), cmp_key_num, &idx);
      bool present = false;
      for (size_t i = 0; i < n; i++)
        present |= N(ptrvec_get(&v, i)) == k;
      T_EQ_INT(hit != NULL || (present && k == 0), present);
      T_ASSERT(idx <= n);
      if (present) {
        T_EQ_UINT(N(ptrvec_get(&v, idx)), k);
      } else {
        /* insertion point keeps the order */
        T_ASSERT(idx == 0 || N(ptrvec_get(&v, idx - 1)) < k);
        T_ASSERT(idx == n || N(ptrvec_get(&v, idx)) > k);
      }
    }
  }
done:
  ptrvec_clear(&v, NULL);
}

static void
test_ptrvec_free_fn(void)
{
  ptrvec_t *v = ptrvec_new(50);
  T_ASSERT(v);
  for (int i = 0; i < 30; i++) {
    char *s = chive_strdup("owned element");
    T_ASSERT(s);
    T_OK(ptrvec_add(v, s));
  }
  /* The leak check in the harness proves every element was freed. */
  ptrvec_free(v, chive_free);
  T_ASSERT(v == NULL);
done:
  ptrvec_free(v, chive_free);
}

static void
test_dmap_basic(void)
{
  dmap_t *m = NULL;
  uint8_t k[20];
  void *old = P(1);
  T_OK(dmap_new(20, 100000, &m));
  T_EQ_UINT(dmap_key_len(m), 20);
  memset(k, 0, sizeof(k));
  T_ASSERT(dmap_get(m, k) == NULL);
  T_ASSERT(dmap_remove(m, k) == NULL);
  for (uint32_t i = 0; i < 10000; i++) {
    memset(k, 0xab, sizeof(k));
    dmap_key_u32(k + 16, i);
    T_OK(dmap_set(m, k, P(i + 1), &old));
    T_ASSERT(old == NULL);
  }
  T_EQ_UINT(dmap_size(m), 10000);
  for (uint32_t i = 0; i < 10000; i++) {
    memset(k, 0xab, sizeof(k));
    dmap_key_u32(k + 16, i);
    T_EQ_UINT(N(dmap_get(m, k)), i + 1);
  }
  /* Replace returns the old value and does not change the size. */
  dmap_key_u32(k + 16, 77);
  T_OK(dmap_set(m, k, P(5), &old));
  T_EQ_UINT(N(old), 78);
  T_EQ_UINT(dmap_size(m), 10000);
  /* Remove the even ones. */
  for (uint32_t i = 0; i < 10000; i += 2) {
    dmap_key_u32(k + 16, i);
    T_ASSERT(dmap_remove(m, k) != NULL);
    T_ASSERT(dmap_remove(m, k) == NULL);
  }
  T_EQ_UINT(dmap_size(m), 5000);
  for (uint32_t i = 0; i < 10000; i++) {
    dmap_key_u32(k + 16, i);
    void *v = dmap_get(m, k);
    if (i % 2 == 0)
      T_ASSERT(v == NULL);
    else
      T_EQ_UINT(N(v), i == 77 ? 5 : i + 1);
  }
done:
  dmap_free(m, NULL);
}

/** Random operations on a small key space, checked against a plain
 * array: exercises long probe clusters and backward-shift deletion. */
static void
test_dmap_model(void)
{
  dmap_t *m = NULL;
  enum { KEYS = 600 };
  static uintptr_t model[KEYS];
  memset(model, 0, sizeof(model));
  size_t n = 0;
  T_OK(dmap_new(4, KEYS, &m));
  uint32_t x = 2463534242u;
  for (int step = 0; step < 200000; step++) {
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    uint32_t key = x % KEYS;
    uint8_t k[4];
    dmap_key_u32(k, key);
    switch ((x >> 12) % 3) {
    case 0: {
      void *old = P(7);
      T_OK(dmap_set(m, k, P(step + 1), &old));
      T_EQ_UINT(N(old), model[key]);
      if (!model[key])
        n++;
      model[key] = (uintptr_t)step + 1;
      break;
    }
    case 1:
      T_EQ_UINT(N(dmap_remove(m, k)), model[key]);
      if (model[key])
        n--;
      model[key] = 0;
      break;
    default:
      T_EQ_UINT(N(dmap_get(m, k)), model[key]);
      break;
    }
    T_EQ_UINT(dmap_size(m), n);
  }
  for (uint32_t key = 0; key < KEYS; key++) {
    uint8_t k[4];
    dmap_key_u32(k, key);
    T_EQ_UINT(N(dmap_get(m, k)), model[key]);
  }
done:
  dmap_free(m, NULL);
}

static bool
remove_even(const uint8_t *key, void *val, void *arg)
{
  size_t *calls = arg;
  (*calls)++;
  (void)key;
  return N(val) % 2 == 0;
}

static void
test_dmap_iterate(void)
{
  dmap_t *m = NULL;
  uint8_t *seen = NULL;
  T_OK(dmap_new(4, 5000, &m));
  for (uint32_t i = 1; i <= 3000; i++) {
    uint8_t k[4];
    dmap_key_u32(k, i * 2654435761u);
    T_OK(dmap_set(m, k, P(i), NULL));
  }
  seen = chive_zalloc(3001);
  T_ASSERT(seen);
  const uint8_t *key;
  void *val;
  size_t count = 0;
  CHIVE_MAP_FOREACH (m, it, key, val) {
    uint8_t k[4];
    dmap_key_u32(k, (uint32_t)N(val) * 2654435761u);
    T_EQ_MEM(key, k, 4);
    T_EQ_UINT(seen[N(val)], 0);
    seen[N(val)] = 1;
    count++;
  }
  T_EQ_UINT(count, 3000);
  /* remove_if sees every entry exactly once and removes the evens. */
  size_t calls = 0;
  T_EQ_UINT(dmap_remove_if(m, remove_even, &calls), 1500);
  T_EQ_UINT(calls, 3000);
  T_EQ_UINT(dmap_size(m), 1500);
  for (uint32_t i = 1; i <= 3000; i++) {
    uint8_t k[4];
    dmap_key_u32(k, i * 2654435761u);
    T_EQ_INT(dmap_get(m, k) != NULL, i % 2 == 1);
  }
  calls = 0;
  T_EQ_UINT(dmap_remove_if(m, remove_even, &calls), 0);
  T_EQ_UINT(calls, 1500);
done:
  chive_free(seen);
  dmap_free(m, NULL);
}

static void
test_dmap_limits_and_oom(void)
{
  dmap_t *m = NULL;
  uint8_t k[32];
  memset(k, 0, sizeof(k));
  T_OK(dmap_new(32, 100, &m));
  for (uint32_t i = 0; i < 100; i++) {
    dmap_key_u32(k, i);
    T_OK(dmap_set(m, k, P(i + 1), NULL));
  }
  dmap_key_u32(k, 100);
  T_EQ_INT(dmap_set(m, k, P(1), NULL), CHIVE_ERR_LIMIT);
  T_EQ_INT(dmap_reserve(m, 101), CHIVE_ERR_LIMIT);
  /* At the limit, replacing still works. */
  dmap_key_u32(k, 5);
  T_OK(dmap_set(m, k, P(55), NULL));
  dmap_free(m, NULL);

  /* Fail every growth once: the map is unchanged, then the retry
   * works. */
  T_OK(dmap_new(32, 10000, &m));
  for (uint32_t i = 0; i < 2000; i++) {
    dmap_key_u32(k, i);
    chive_mem_fail_nth(1, false);
    chive_err_t e = dmap_set(m, k, P(i + 1), NULL);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (fired) {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_EQ_UINT(dmap_size(m), i);
      T_ASSERT(dmap_get(m, k) == NULL);
      for (uint32_t j = 0; j < i; j += 17) {
        uint8_t k2[32] = {0};
        dmap_key_u32(k2, j);
        T_EQ_UINT(N(dmap_get(m, k2)), j + 1);
      }
      T_OK(dmap_set(m, k, P(i + 1), NULL));
    } else {
      T_OK(e);
    }
  }
  T_EQ_UINT(dmap_size(m), 2000);
  /* After a reserve, inserts cannot fail; removals never allocate. */
  T_OK(dmap_reserve(m, 5000));
  chive_mem_fail_nth(1, true);
  for (uint32_t i = 2000; i < 5000; i++) {
    dmap_key_u32(k, i);
    T_OK(dmap_set(m, k, P(i + 1), NULL));
  }
  for (uint32_t i = 0; i < 5000; i += 3) {
    dmap_key_u32(k, i);
    T_EQ_UINT(N(dmap_remove(m, k)), i + 1);
  }
  chive_mem_fail_nth(0, false);
  dmap_free(m, NULL);
  /* Creating a map under OOM fails cleanly. */
  chive_mem_fail_nth(1, false);
  T_EQ_INT(dmap_new(4, 10, &m), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_ASSERT(m == NULL);
done:
  chive_mem_fail_nth(0, false);
  dmap_free(m, NULL);
}

static void
test_dmap_free_values(void)
{
  dmap_t *m = NULL;
  T_OK(dmap_new(4, 100, &m));
  for (uint32_t i = 0; i < 50; i++) {
    uint8_t k[4];
    dmap_key_u32(k, i);
    char *s = chive_strdup("value");
    T_ASSERT(s);
    T_OK(dmap_set(m, k, s, NULL));
  }
  dmap_free(m, chive_free); /* the harness's leak check verifies */
  T_ASSERT(m == NULL);
done:
  dmap_free(m, chive_free);
}

typedef struct item_t {
  int id;
  chive_list_t link;
} item_t;

static void
test_list(void)
{
  chive_list_t head, *pos, *tmp;
  item_t items[5];
  chive_list_init(&head);
  T_ASSERT(chive_list_empty(&head));
  T_ASSERT(chive_list_first(&head) == NULL);
  for (int i = 0; i < 5; i++) {
    items[i].id = i;
    chive_list_init(&items[i].link);
    T_ASSERT(!chive_list_is_linked(&items[i].link));
  }
  chive_list_add_tail(&head, &items[1].link);
  chive_list_add_tail(&head, &items[2].link);
  chive_list_add_head(&head, &items[0].link);
  chive_list_add_tail(&head, &items[3].link);
  chive_list_insert_after(&items[3].link, &items[4].link);
  int want = 0;
  CHIVE_LIST_FOREACH (pos, &head) {
    T_EQ_INT(CHIVE_CONTAINER_OF(pos, item_t, link)->id, want);
    want++;
  }
  T_EQ_INT(want, 5);
  T_EQ_INT(CHIVE_CONTAINER_OF(chive_list_last(&head), item_t, link)->id, 4);
  /* Remove the odd ones while iterating. */
  CHIVE_LIST_FOREACH_SAFE (pos, tmp, &head) {
    item_t *it = CHIVE_CONTAINER_OF(pos, item_t, link);
    if (it->id % 2)
      chive_list_remove(&it->link);
  }
  T_ASSERT(!chive_list_is_linked(&items[1].link));
  chive_list_remove(&items[1].link); /* harmless twice */
  want = 0;
  CHIVE_LIST_FOREACH (pos, &head) {
    T_EQ_INT(CHIVE_CONTAINER_OF(pos, item_t, link)->id, want);
    want += 2;
  }
  T_EQ_INT(want, 6);
  chive_list_remove(&items[0].link);
  chive_list_remove(&items[2].link);
  chive_list_remove(&items[4].link);
  T_ASSERT(chive_list_empty(&head));
done:
  return;
}

static const t_case cases[] = {
    T_CASE(test_siphash),
    T_CASE(test_ptrvec_basic),
    T_CASE(test_ptrvec_limits_and_oom),
    T_CASE(test_ptrvec_sort_bsearch),
    T_CASE(test_ptrvec_free_fn),
    T_CASE(test_dmap_basic),
    T_CASE(test_dmap_model),
    T_CASE(test_dmap_iterate),
    T_CASE(test_dmap_limits_and_oom),
    T_CASE(test_dmap_free_values),
    T_CASE(test_list),
    T_END,
};
T_MAIN(cases)
