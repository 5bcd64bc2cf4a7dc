/* ntor-v3 known answers: proposal 332 "X.2: Test vectors" (torspec
 * 8961bb4d, proposals/332-ntor-v3-with-extra-data.md).  Both the client and
 * the server side must reproduce the client message, the server message
 * and the first 256 keystream bytes exactly. */
#include <string.h>

#include "core/crypto/onion_ntor_v3.h"
#include "lib/crypto/crypto_init.h"
#include "tinytest.h"

/* Inputs. */
static const char HEX_SEC_B[] =
    "4051daa5921cfa2a1c27b08451324919538e79e788a81b38cbed097a5dff454a";
static const char HEX_PUB_B[] =
    "f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d";
static const char HEX_ID[] =
    "9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2";
static const char HEX_SEC_X[] =
    "b825a3719147bcbe5fb1d0b0fcb9c09e51948048e2e3283d2ab7b45b5ef38b49";
static const char HEX_PUB_X[] =
    "252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46";
static const char HEX_CM[] = "68656c6c6f20776f726c64";
static const char HEX_VER[] = "78797a7a79";
static const char HEX_SEC_Y[] =
    "4865a5b7689dafd978f529291c7171bc159be076b92186405d13220b80e2a053";
static const char HEX_PUB_Y[] =
    "4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d";
static const char HEX_SM[] = "486f6c61204d756e646f";
/* Intermediate value visible in the messages. */
static const char HEX_MSG_MAC[] =
    "9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67";
static const char HEX_AUTH[] =
    "2fc5f8773ca824542bc6cf6f57c7c29bbf4e5476461ab130c5b18ab0a9127665";

/* Messages. */
static const char HEX_CLIENT_HS[] =
    "9fad2af287ef942632833d21f946c6260c33fae6172b60006e86e4a6911753a2"
    "f8307a2bc1870b00b828bb74dbb8fd88e632a6375ab3bcd1ae706aaa8b6cdd1d"
    "252fe9ae91264c91d4ecb8501f79d0387e34ad8ca0f7c995184f7d11d5da4f46"
    "3bebd9151fd3b47c180abc"
    "9e044d53565f04d82bbb3bebed3d06cea65db8be9c72b68cd461942088502f67";
static const char HEX_SERVER_HS[] =
    "4bf4814326fdab45ad5184f5518bd7fae25dc59374062698201a50a22954246d"
    "2fc5f8773ca824542bc6cf6f57c7c29bbf4e5476461ab130c5b18ab0a9127665"
    "1202c3e1e87c0d32054c";
static const char HEX_KEYSTREAM[] =
    "9c19b631fd94ed86a817e01f6c80b0743a43f5faebd39cfaa8b00fa8bcc65c3b"
    "feaa403d91acbd68a821bf6ee8504602b094a254392a07737d5662768c7a9fb1"
    "b2814bb34780eaee6e867c773e28c212ead563e98a1cd5d5b4576f5ee61c59bd"
    "e025ff2851bb19b721421694f263818e3531e43a9e4e3e2c661e2ad547d8984c"
    "aa28ebecd3e4525452299be26b9185a20a90ce1eac20a91f2832d731b54502b0"
    "9749b5a2a2949292f8cfcbeffb790c7790ed935a9d251e7e336148ea83b063a5"
    "618fcff674a44581585fd22077ca0e52c59a24347a38d1a1ceebddbf238541f2"
    "26b8f88d0fb9c07a1bcd2ea764bbbb5dacdaf5312a14c0b9e4f06309b0333b4a";

/** All decoded vector values. */
typedef struct vec_t {
  uint8_t sec_b[32], pub_b[32], id[32], sec_x[32], pub_x[32], sec_y[32],
      pub_y[32], msg_mac[32], auth[32];
  uint8_t cm[16], ver[8], sm[16];
  size_t cm_len, ver_len, sm_len;
  uint8_t client_hs[256], server_hs[256], keystream[256];
  size_t client_hs_len, server_hs_len;
} vec_t;

/** Decode <b>hex</b> into exactly <b>n</b> bytes; false on mismatch. */
static bool
unhex_exact(const char *hex, uint8_t *out, size_t n)
{
  return t_unhex(hex, out, n) == (long)n;
}

/** Decode <b>hex</b> into <b>out</b> (cap bytes), storing the length. */
static bool
unhex_var(const char *hex, uint8_t *out, size_t cap, size_t *len)
{
  long n = t_unhex(hex, out, cap);
  if (n < 0)
    return false;
  *len = (size_t)n;
  return true;
}

static bool
load_vec(vec_t *v)
{
  memset(v, 0, sizeof(*v));
  return unhex_exact(HEX_SEC_B, v->sec_b, 32) &&
         unhex_exact(HEX_PUB_B, v->pub_b, 32) &&
         unhex_exact(HEX_ID, v->id, 32) &&
         unhex_exact(HEX_SEC_X, v->sec_x, 32) &&
         unhex_exact(HEX_PUB_X, v->pub_x, 32) &&
         unhex_exact(HEX_SEC_Y, v->sec_y, 32) &&
         unhex_exact(HEX_PUB_Y, v->pub_y, 32) &&
         unhex_exact(HEX_MSG_MAC, v->msg_mac, 32) &&
         unhex_exact(HEX_AUTH, v->auth, 32) &&
         unhex_var(HEX_CM, v->cm, sizeof(v->cm), &v->cm_len) &&
         unhex_var(HEX_VER, v->ver, sizeof(v->ver), &v->ver_len) &&
         unhex_var(HEX_SM, v->sm, sizeof(v->sm), &v->sm_len) &&
         unhex_var(HEX_CLIENT_HS, v->client_hs, sizeof(v->client_hs),
                   &v->client_hs_len) &&
         unhex_var(HEX_SERVER_HS, v->server_hs, sizeof(v->server_hs),
                   &v->server_hs_len) &&
         unhex_exact(HEX_KEYSTREAM, v->keystream, 256);
}

/* The client's first message matches the vector byte for byte. */
static void
test_ntor3_client_message(void)
{
  vec_t v;
  onion_ntor3_client_t st;
  uint8_t out[512];
  size_t out_len = 0;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  T_EQ_UINT(v.client_hs_len, ONION_NTOR3_CLIENT_OVERHEAD_LEN + v.cm_len);

  T_OK(onion_ntor3_client_create_with_secret(&st, v.id, v.pub_b, v.sec_x,
                                             v.ver, v.ver_len, v.cm, v.cm_len,
                                             out, sizeof(out), &out_len));
  T_EQ_UINT(out_len, v.client_hs_len);
  T_EQ_MEM(out, v.client_hs, v.client_hs_len);
  /* X and the MAC sit where the proposal says. */
  T_EQ_MEM(out + 64, v.pub_x, 32);
  T_EQ_MEM(out + out_len - 32, v.msg_mac, 32);
done:
  onion_ntor3_client_clear(&st);
}

/* Client phase 2 on the vector's server message: SM and the keystream. */
static void
test_ntor3_client_finish(void)
{
  vec_t v;
  onion_ntor3_client_t st;
  uint8_t out[512], sm[ONION_NTOR3_MAX_SERVER_MSG_LEN], ks[256];
  size_t out_len = 0, sm_len = 0;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  T_OK(onion_ntor3_client_create_with_secret(&st, v.id, v.pub_b, v.sec_x,
                                             v.ver, v.ver_len, v.cm, v.cm_len,
                                             out, sizeof(out), &out_len));
  T_OK(onion_ntor3_client_finish(&st, v.server_hs, v.server_hs_len, sm,
                                 sizeof(sm), &sm_len, ks, sizeof(ks)));
  T_EQ_UINT(sm_len, v.sm_len);
  T_EQ_MEM(sm, v.sm, v.sm_len);
  T_EQ_MEM(ks, v.keystream, 256);
  /* Success wipes the state: a second finish is API misuse. */
  T_ASSERT(!st.active);
done:
  onion_ntor3_client_clear(&st);
}

/* The circuit keys are the first 72 keystream bytes: Df|Db|Kf|Kb. */
static void
test_ntor3_client_finish_keys(void)
{
  vec_t v;
  onion_ntor3_client_t st;
  relay_keys_t keys;
  uint8_t out[512], sm[64];
  size_t out_len = 0, sm_len = 0;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  T_OK(onion_ntor3_client_create_with_secret(&st, v.id, v.pub_b, v.sec_x,
                                             v.ver, v.ver_len, v.cm, v.cm_len,
                                             out, sizeof(out), &out_len));
  T_OK(onion_ntor3_client_finish_keys(&st, v.server_hs, v.server_hs_len, sm,
                                      sizeof(sm), &sm_len, &keys));
  T_EQ_MEM(keys.df, v.keystream, 20);
  T_EQ_MEM(keys.db, v.keystream + 20, 20);
  T_EQ_MEM(keys.kf, v.keystream + 40, 16);
  T_EQ_MEM(keys.kb, v.keystream + 56, 16);
done:
  onion_ntor3_client_clear(&st);
  relay_keys_clear(&keys);
}

/* The server side reproduces CM, the server message and the keystream. */
static void
test_ntor3_server(void)
{
  vec_t v;
  onion_ntor3_server_t st;
  uint8_t cm[ONION_NTOR3_MAX_CLIENT_MSG_LEN], reply[512], ks[256];
  size_t cm_len = 0, reply_len = 0;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  T_OK(onion_ntor3_server_recv(&st, v.id, v.sec_b, v.pub_b, v.ver, v.ver_len,
                               v.client_hs, v.client_hs_len, cm, sizeof(cm),
                               &cm_len));
  T_EQ_UINT(cm_len, v.cm_len);
  T_EQ_MEM(cm, v.cm, v.cm_len);
  T_OK(onion_ntor3_server_reply(&st, v.sec_y, v.sm, v.sm_len, reply,
                                sizeof(reply), &reply_len, ks, sizeof(ks)));
  T_EQ_UINT(reply_len, v.server_hs_len);
  T_EQ_MEM(reply, v.server_hs, v.server_hs_len);
  T_EQ_MEM(reply, v.pub_y, 32);
  T_EQ_MEM(reply + 32, v.auth, 32);
  T_EQ_MEM(ks, v.keystream, 256);
done:
  onion_ntor3_server_clear(&st);
}

/* Flipping any single bit of the server message is rejected, and a
 * rejected reply leaves the client able to finish with the real one. */
static void
test_ntor3_tampered_reply(void)
{
  vec_t v;
  onion_ntor3_client_t st;
  uint8_t out[512], sm[64], ks[72], bad[256];
  size_t out_len = 0, sm_len = 0;

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  T_OK(onion_ntor3_client_create_with_secret(&st, v.id, v.pub_b, v.sec_x,
                                             v.ver, v.ver_len, v.cm, v.cm_len,
                                             out, sizeof(out), &out_len));
  for (size_t i = 0; i < v.server_hs_len; i++) {
    memcpy(bad, v.server_hs, v.server_hs_len);
    bad[i] ^= (uint8_t)(1u << (i % 8));
    chive_err_t e = onion_ntor3_client_finish(
        &st, bad, v.server_hs_len, sm, sizeof(sm), &sm_len, ks, sizeof(ks));
    T_EQ_INT(e, CHIVE_ERR_CRYPTO);
    T_ASSERT(st.active);
  }
  /* Truncated (dropping the last MSG byte changes ENCAP(MSG)) and short. */
  T_EQ_INT(onion_ntor3_client_finish(&st, v.server_hs, v.server_hs_len - 1, sm,
                                     sizeof(sm), &sm_len, ks, sizeof(ks)),
           CHIVE_ERR_CRYPTO);
  T_EQ_INT(onion_ntor3_client_finish(&st, v.server_hs, 63, sm, sizeof(sm),
                                     &sm_len, ks, sizeof(ks)),
           CHIVE_ERR_PROTO);
  /* Too small an SM buffer is reported, not overflowed. */
  T_EQ_INT(onion_ntor3_client_finish(&st, v.server_hs, v.server_hs_len, sm,
                                     v.sm_len - 1, &sm_len, ks, sizeof(ks)),
           CHIVE_ERR_LIMIT);
  T_OK(onion_ntor3_client_finish(&st, v.server_hs, v.server_hs_len, sm,
                                 sizeof(sm), &sm_len, ks, sizeof(ks)));
  T_EQ_MEM(ks, v.keystream, sizeof(ks));
done:
  onion_ntor3_client_clear(&st);
}

/* The server rejects a tampered client message and a different
 * verification string. */
static void
test_ntor3_server_rejects(void)
{
  vec_t v;
  onion_ntor3_server_t st;
  uint8_t cm[ONION_NTOR3_MAX_CLIENT_MSG_LEN], bad[256];
  size_t cm_len = 0;
  static const uint8_t other_ver[] = "xyzzz";

  memset(&st, 0, sizeof(st));
  T_OK(crypto_global_init());
  T_ASSERT(load_vec(&v));
  /* Encrypted CM and MAC bytes: MAC failure. */
  for (size_t i = 96; i < v.client_hs_len; i++) {
    memcpy(bad, v.client_hs, v.client_hs_len);
    bad[i] ^= 0x80;
    T_EQ_INT(onion_ntor3_server_recv(&st, v.id, v.sec_b, v.pub_b, v.ver,
                                     v.ver_len, bad, v.client_hs_len, cm,
                                     sizeof(cm), &cm_len),
             CHIVE_ERR_CRYPTO);
    T_ASSERT(!st.active);
  }
  /* NODEID / KEYID that are not ours. */
  memcpy(bad, v.client_hs, v.client_hs_len);
  bad[0] ^= 1;
  T_EQ_INT(onion_ntor3_server_recv(&st, v.id, v.sec_b, v.pub_b, v.ver,
                                   v.ver_len, bad, v.client_hs_len, cm,
                                   sizeof(cm), &cm_len),
           CHIVE_ERR_PROTO);
  memcpy(bad, v.client_hs, v.client_hs_len);
  bad[40] ^= 1;
  T_EQ_INT(onion_ntor3_server_recv(&st, v.id, v.sec_b, v.pub_b, v.ver,
                                   v.ver_len, bad, v.client_hs_len, cm,
                                   sizeof(cm), &cm_len),
           CHIVE_ERR_PROTO);
  /* Verification string mismatch ("xyzzz" vs "xyzzy"). */
  T_EQ_INT(onion_ntor3_server_recv(&st, v.id, v.sec_b, v.pub_b, other_ver,
                                   sizeof(other_ver) - 1, v.client_hs,
                                   v.client_hs_len, cm, sizeof(cm), &cm_len),
           CHIVE_ERR_CRYPTO);
  /* Too short to hold the fixed fields. */
  T_EQ_INT(onion_ntor3_server_recv(
               &st, v.id, v.sec_b, v.pub_b, v.ver, v.ver_len, v.client_hs,
               ONION_NTOR3_CLIENT_OVERHEAD_LEN - 1, cm, sizeof(cm), &cm_len),
           CHIVE_ERR_PROTO);
done:
  onion_ntor3_server_clear(&st);
}

static const t_case cases[] = {
    T_CASE(test_ntor3_client_message),
    T_CASE(test_ntor3_client_finish),
    T_CASE(test_ntor3_client_finish_keys),
    T_CASE(test_ntor3_server),
    T_CASE(test_ntor3_tampered_reply),
    T_CASE(test_ntor3_server_rejects),
    T_END,
};
T_MAIN(cases)
