/* dircache: the md/cert text splitters (checked against the parsers'
 * own framing on the real realnet-A files and on small synthetic
 * inputs), the growable buffer and the cache file helpers. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "feature/dir/dircache.h"
#include "feature/dir/parse/authcert.h"
#include "feature/dir/parse/md_parse.h"
#include "lib/crypto/crypto_init.h"
#include "lib/crypto/digest.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

typedef struct digests_t {
  uint8_t (*d)[32];
  size_t n, cap;
  size_t stop_after; /* 0: never stop */
} digests_t;

static bool
collect(const char *s, size_t len, void *arg)
{
  digests_t *v = arg;
  if (v->n == v->cap) {
    size_t cap = v->cap ? v->cap * 2 : 64;
    void *p = chive_realloc(v->d, cap * 32);
    if (!p)
      return false;
    v->d = p;
    v->cap = cap;
  }
  crypto_sha256(s, len, v->d[v->n++]);
  return !(v->stop_after && v->n >= v->stop_after);
}

static bool
collect_none(const char *s, size_t len, void *arg)
{
  (void)s;
  (void)len;
  (void)arg;
  return true;
}

static int
cmp32(const void *a, const void *b)
{
  return memcmp(a, b, 32);
}

/** Return 1 iff the splitter's digests are exactly md_list_parse's. */
static int
same_as_parser(const char *s, size_t len, size_t *n_out)
{
  digests_t v;
  memset(&v, 0, sizeof(v));
  md_list_t *l = NULL;
  int ok = 0;
  size_t n = dircache_split_mds(s, len, collect, &v);
  if (n != v.n || md_list_parse(s, len, &l) != CHIVE_OK)
    goto out;
  if (l->n != v.n || l->n_invalid)
    goto out;
  qsort(v.d, v.n, 32, cmp32);
  for (size_t i = 0; i < l->n; i++)
    if (memcmp(v.d[i], l->mds[i].digest, 32) != 0)
      goto out;
  ok = 1;
  *n_out = n;
out:
  md_list_free(l);
  chive_free(v.d);
  return ok;
}

static void
test_init(void)
{
  T_OK(crypto_global_init());
done:
  return;
}

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

static void
test_split_mds_real(void)
{
  size_t l1 = 0, l2 = 0, l3 = 0, n = 0;
  char *a = read_data("cached-microdescs", &l1);
  char *b = read_data("cached-microdescs.new", &l2);
  char *c = read_data("modern/cached-microdescs.new", &l3);
  if (!t_shared_data_dir())
    T_SKIP("shared data dir absent: realnet-A tests skipped");
  T_ASSERT(a && b && c);
  T_ASSERT(same_as_parser(a, l1, &n));
  T_EQ_UINT(n, 5571);
  T_ASSERT(same_as_parser(b, l2, &n));
  T_EQ_UINT(n, 1129);
  T_ASSERT(same_as_parser(c, l3, &n));
  T_EQ_UINT(n, 1116);
done:
  chive_free(a);
  chive_free(b);
  chive_free(c);
}

static const char MD_TAP[] =
    "onion-key\n"
    "-----BEGIN RSA PUBLIC KEY-----\n"
    "MIGJAoGBAKzZswFT+6xO9sHjwmscw/aXZa4imAv43Zuamzn/OCrd0yhG02BYn7o6\n"
    "K6fHKYz8TZbTyH7MxfuC8YVBnUmrDU+zisatZDlH3VmkeWCrNNMSWyQJMA7oK2DW\n"
    "ge0XD5kOyYLqrzFI3tN9cro6UXiFAYnF4pS3Jy43IC8VWZnG20x7AgMBAAE=\n"
    "-----END RSA PUBLIC KEY-----\n"
    "ntor-onion-key W/U7beC0Hx2T/lvfdEWCe3cp1SlQcMYyhcioRAk4rFc=\n";
static const char MD_NTOR1[] =
    "ntor-onion-key Y5jSoSznyh95UEf6P4+4insi/6CRtR9pynTADG7PuhE\n"
    "p accept 80,443\n";
static const char MD_NTOR2[] =
    "ntor-onion-key Y4D2AqOmgBljwFxL6Jt4U4XIX0QDNjE5MZgoxxJyQkY\n";

static void
test_split_mds_synthetic(void)
{
  char buf[4096];
  size_t n = 0;
  /* TAP md, then two ntor-only mds back to back, no annotations. */
  int k = snprintf(buf, sizeof(buf), "%s%s%s", MD_TAP, MD_NTOR1, MD_NTOR2);
  T_ASSERT(k > 0);
  T_ASSERT(same_as_parser(buf, (size_t)k, &n));
  T_EQ_UINT(n, 3);
  /* With annotations. */
  k = snprintf(buf, sizeof(buf), "@last-listed 2017-10-29 11:30:56\n%s"
               "@foo\n%s%s", MD_TAP, MD_NTOR1, MD_NTOR2);
  T_ASSERT(k > 0);
  T_ASSERT(same_as_parser(buf, (size_t)k, &n));
  T_EQ_UINT(n, 3);
  /* The last one without its final NL (the parser wants one; the
   * splitter still frames 3 chunks). */
  T_EQ_UINT(dircache_split_mds(buf, (size_t)k - 1, collect_none, NULL), 3);
  /* Chunk texts exclude annotations: digest == sha256(MD_TAP). */
  digests_t v;
  memset(&v, 0, sizeof(v));
  T_EQ_UINT(dircache_split_mds(buf, (size_t)k, collect, &v), 3);
  uint8_t d[32];
  crypto_sha256(MD_TAP, strlen(MD_TAP), d);
  T_EQ_MEM(v.d[0], d, 32);
  chive_free(v.d);
  /* Stopping early. */
  memset(&v, 0, sizeof(v));
  v.stop_after = 1;
  T_EQ_UINT(dircache_split_mds(buf, (size_t)k, collect, &v), 1);
  chive_free(v.d);
  /* Empty input, only annotations. */
  T_EQ_UINT(dircache_split_mds("", 0, collect_none, NULL), 0);
  T_EQ_UINT(dircache_split_mds("@a\n@b\n", 6, collect_none, NULL), 0);
done:
  return;
}

typedef struct cert_count_t {
  size_t n, n_ok;
} cert_count_t;

static bool
count_cert(const char *s, size_t len, void *arg)
{
  cert_count_t *c = arg;
  authcert_list_t *l = NULL;
  c->n++;
  if (authcert_list_parse(s, len, &l) == CHIVE_OK && l->n == 1)
    c->n_ok++;
  authcert_list_free(l);
  return true;
}

static void
test_split_certs(void)
{
  size_t len = 0;
  char *s = read_data("cached-certs", &len);
  cert_count_t c = {0, 0};
  if (!t_shared_data_dir())
    T_SKIP("shared data dir absent: realnet-A tests skipped");
  T_ASSERT(s);
  T_EQ_UINT(dircache_split_certs(s, len, count_cert, &c), 9);
  T_EQ_UINT(c.n_ok, 9);
  /* Leading junk is skipped, not attached to a cert. */
  c.n = c.n_ok = 0;
  T_EQ_UINT(dircache_split_certs("junk\n", 5, count_cert, &c), 0);
  T_EQ_UINT(dircache_split_certs("x\ndir-key-certificate-version 3\n", 32,
                                 count_cert, &c),
            1);
  T_EQ_UINT(c.n_ok, 0);
done:
  chive_free(s);
}

static void
test_buf(void)
{
  dircache_buf_t b;
  dircache_buf_init(&b, 10000);
  char x[3000];
  memset(x, 'x', sizeof(x));
  T_OK(dircache_buf_add(&b, x, sizeof(x)));
  T_OK(dircache_buf_add(&b, x, sizeof(x)));
  T_OK(dircache_buf_add(&b, x, sizeof(x)));
  T_EQ_INT(dircache_buf_add(&b, x, sizeof(x)), CHIVE_ERR_LIMIT);
  T_EQ_UINT(b.len, 9000);
  T_OK(dircache_buf_add(&b, x, 1000));
  T_EQ_UINT(b.len, 10000);
  T_OK(dircache_buf_add(&b, x, 0));
  T_EQ_INT(dircache_buf_add(&b, x, 1), CHIVE_ERR_LIMIT);
  /* OOM leaves the buffer unchanged. */
  dircache_buf_clear(&b);
  chive_mem_fail_nth(1, false);
  T_EQ_INT(dircache_buf_add(&b, x, 10), CHIVE_ERR_NOMEM);
  chive_mem_fail_nth(0, false);
  T_EQ_UINT(b.len, 0);
  T_ASSERT(b.p == NULL);
done:
  chive_mem_fail_nth(0, false);
  dircache_buf_clear(&b);
}

static void
test_files(void)
{
  char dir[] = "/tmp/chive-dircache-XXXXXX";
  char sub[64];
  uint8_t *data = NULL;
  size_t len = 0;
  bool made = false;
  T_ASSERT(mkdtemp(dir) != NULL);
  made = true;
  snprintf(sub, sizeof(sub), "%s/c", dir);
  T_OK(dircache_prepare_dir(sub));
  struct stat st;
  T_ASSERT(stat(sub, &st) == 0 && (st.st_mode & 0777u) == 0700);
  T_EQ_INT(dircache_read(sub, DIRCACHE_CERTS_FILE, 100, &data, &len),
           CHIVE_ERR_NOTFOUND);
  T_OK(dircache_write(sub, DIRCACHE_CERTS_FILE, "hello", 5));
  T_OK(dircache_read(sub, DIRCACHE_CERTS_FILE, 100, &data, &len));
  T_EQ_UINT(len, 5);
  T_EQ_MEM(data, "hello", 5);
  chive_free(data);
  data = NULL;
  T_EQ_INT(dircache_read(sub, DIRCACHE_CERTS_FILE, 4, &data, &len),
           CHIVE_ERR_LIMIT);
  char p[128];
  snprintf(p, sizeof(p), "%s/%s", sub, DIRCACHE_CERTS_FILE);
  T_ASSERT(stat(p, &st) == 0 && (st.st_mode & 0777u) == 0600);
  T_OK(dircache_remove(sub, DIRCACHE_CERTS_FILE));
  T_OK(dircache_remove(sub, DIRCACHE_CERTS_FILE)); /* missing is fine */
  T_EQ_INT(dircache_write(sub, "a/b", "x", 1), CHIVE_ERR_INVAL);
done:
  chive_free(data);
  if (made) {
    rmdir(sub);
    rmdir(dir);
  }
}

static const t_case cases[] = {
  T_CASE(test_init),
  T_CASE(test_split_mds_real),
  T_CASE(test_split_mds_synthetic),
  T_CASE(test_split_certs),
  T_CASE(test_buf),
  T_CASE(test_files),
  T_END,
};

T_MAIN(cases)
