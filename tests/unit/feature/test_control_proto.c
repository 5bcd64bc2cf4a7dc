/* Unit tests for feature/control/control_proto: command framing,
 * argument tokenizing and reply/event formatting (control-spec §2, §4). */
#include "lib/cc/compat.h"

#include <string.h>

#include "feature/control/control_proto.h"
#include "lib/malloc/malloc.h"
#include "tinytest.h"

/* ------------------------------------------------------------------ */
/* Helpers                                                            */
/* ------------------------------------------------------------------ */

/** Feed all of <b>s</b> (len <b>n</b>) at once; expect exactly one
 * complete command that uses every byte. */
static chive_err_t
frame_one(control_framer_t *f, const char *s, size_t n, control_cmd_t *c)
{
  size_t used = 0;
  chive_err_t e = control_framer_feed(f, (const uint8_t *)s, n, &used, c);
  if (e == CHIVE_OK && used != n) {
    control_cmd_clear(c);
    return CHIVE_ERR_INTERNAL;
  }
  return e;
}

#define MAX_TEST_CMDS 16

/** Frame a whole stream, <b>step</b> bytes per call (0 = all at once),
 * into cmds[]; return the number of commands or -1 on a framing error.
 * Sets *<b>trailing</b> to whether a partial command remains. */
static int
frame_stream(const char *s, size_t n, size_t step, control_cmd_t *cmds,
             bool *trailing)
{
  control_framer_t f;
  control_framer_init(&f, 0, 0);
  int n_cmds = 0;
  size_t pos = 0;
  while (pos < n) {
    size_t chunk = step ? step : n - pos;
    if (chunk > n - pos)
      chunk = n - pos;
    size_t off = 0;
    while (off < chunk) {
      size_t used = 0;
      control_cmd_t c;
      chive_err_t e = control_framer_feed(&f, (const uint8_t *)s + pos + off,
                                          chunk - off, &used, &c);
      off += used;
      if (e == CHIVE_OK) {
        if (n_cmds == MAX_TEST_CMDS) {
          control_cmd_clear(&c);
          n_cmds = -1;
          goto done;
        }
        cmds[n_cmds++] = c;
      } else if (e == CHIVE_ERR_TRUNCATED) {
        if (off != chunk) {
          n_cmds = -1;
          goto done;
        }
      } else {
        n_cmds = -1;
        goto done;
      }
    }
    pos += chunk;
  }
  *trailing = control_framer_has_partial(&f);
done:
  control_framer_clear(&f);
  return n_cmds;
}

/** Return true iff every CR in out[0..n) is followed by LF and every LF
 * is preceded by CR, i.e. no bare line breaks. */
static bool
only_crlf(const uint8_t *out, size_t n)
{
  for (size_t i = 0; i < n; i++) {
    if (out[i] == '\r' && (i + 1 >= n || out[i + 1] != '\n'))
      return false;
    if (out[i] == '\n' && (i == 0 || out[i - 1] != '\r'))
      return false;
  }
  return true;
}

/** Count CRLF sequences. */
static size_t
count_crlf(const uint8_t *out, size_t n)
{
  size_t k = 0;
  for (size_t i = 0; i + 1 < n; i++)
    if (out[i] == '\r' && out[i + 1] == '\n')
      k++;
  return k;
}

#define OUT_EQ(o, lit)                                        \
  do {                                                        \
    T_EQ_UINT(control_outbuf_len(o), sizeof(lit) - 1);        \
    T_EQ_MEM(control_outbuf_data(o), (lit), sizeof(lit) - 1); \
  } while (0)

/* ------------------------------------------------------------------ */
/* Framing                                                            */
/* ------------------------------------------------------------------ */

static void
test_frame_basic(void)
{
  control_framer_t f;
  control_cmd_t c;
  memset(&c, 0, sizeof(c));
  control_framer_init(&f, 0, 0);

  T_OK(frame_one(&f, "GETINFO version\r\n", 17, &c));
  T_EQ_STR(c.keyword, "GETINFO");
  T_EQ_STR(c.keyword_raw, "GETINFO");
  T_EQ_STR(c.args, "version");
  T_EQ_UINT(c.args_len, 7);
  T_ASSERT(!c.is_data);
  T_ASSERT(c.data == NULL);
  control_cmd_clear(&c);

  /* Case-folded keyword, LF-only line end, extra blanks kept inside. */
  T_OK(frame_one(&f, "getInfo \t Version  x \n", 22, &c));
  T_EQ_STR(c.keyword, "GETINFO");
  T_EQ_STR(c.keyword_raw, "getInfo");
  T_EQ_STR(c.args, "Version  x ");
  control_cmd_clear(&c);

  /* No arguments. */
  T_OK(frame_one(&f, "QUIT\r\n", 6, &c));
  T_EQ_STR(c.keyword, "QUIT");
  T_EQ_STR(c.args, "");
  T_EQ_UINT(c.args_len, 0);
  control_cmd_clear(&c);

  /* An empty line is a command with an empty keyword (tor answers 510
   * or 514 to it). */
  T_OK(frame_one(&f, "\r\n", 2, &c));
  T_EQ_STR(c.keyword, "");
  T_EQ_STR(c.args, "");
  control_cmd_clear(&c);

  /* Only one CR before the LF is the terminator; others stay. */
  T_OK(frame_one(&f, "GETINFO a\rb\r\r\n", 14, &c));
  T_EQ_STR(c.args, "a\rb\r");
  control_cmd_clear(&c);

  /* 8-bit bytes are allowed (§2.1). */
  T_OK(frame_one(&f, "SETCONF x=\xc3\xa9\r\n", 14, &c));
  T_EQ_STR(c.args, "x=\xc3\xa9");
  control_cmd_clear(&c);
  T_ASSERT(!control_framer_has_partial(&f));
done:
  control_cmd_clear(&c);
  control_framer_clear(&f);
}

static void
test_frame_data(void)
{
  control_framer_t f;
  control_cmd_t c;
  memset(&c, 0, sizeof(c));
  control_framer_init(&f, 0, 0);

  /* §2.4 CmdData: leading periods are doubled, "." ends the block. */
  const char *in = "+POSTDESCRIPTOR purpose=general\r\n"
                   "router x\r\n"
                   "..leading dot\r\n"
                   ".single\r\n"
                   "\r\n"
                   "last\r\n"
                   ".\r\n";
  T_OK(frame_one(&f, in, strlen(in), &c));
  T_ASSERT(c.is_data);
  T_EQ_STR(c.keyword, "POSTDESCRIPTOR");
  T_EQ_STR(c.keyword_raw, "POSTDESCRIPTOR");
  T_EQ_STR(c.args, "purpose=general");
  T_EQ_STR(c.data, "router x\n.leading dot\nsingle\n\nlast\n");
  T_EQ_UINT(c.data_len, strlen(c.data));
  control_cmd_clear(&c);

  /* LF-only, lower case, no arguments. */
  in = "+loadconf\nSocksPort 0\n.\n";
  T_OK(frame_one(&f, in, strlen(in), &c));
  T_ASSERT(c.is_data);
  T_EQ_STR(c.keyword, "LOADCONF");
  T_EQ_STR(c.args, "");
  T_EQ_STR(c.data, "SocksPort 0\n");
  control_cmd_clear(&c);

  /* Empty data block. */
  T_OK(frame_one(&f, "+LOADCONF\r\n.\r\n", 14, &c));
  T_ASSERT(c.is_data);
  T_ASSERT(c.data != NULL);
  T_EQ_UINT(c.data_len, 0);
  control_cmd_clear(&c);

  /* ".\r\r\n" is not the terminator (as tor): it is a data line "\r". */
  in = "+X\r\n.\r\r\n.\r\n";
  T_OK(frame_one(&f, in, strlen(in), &c));
  T_EQ_STR(c.data, "\r\n");
  control_cmd_clear(&c);

  /* A lone "+" line is a data command with an empty keyword. */
  in = "+\r\na\r\n.\r\n";
  T_OK(frame_one(&f, in, strlen(in), &c));
  T_ASSERT(c.is_data);
  T_EQ_STR(c.keyword, "");
  T_EQ_STR(c.data, "a\n");
  control_cmd_clear(&c);

  /* A one-line command containing "+" later is not a data command. */
  T_OK(frame_one(&f, "GETINFO +x\r\n", 12, &c));
  T_ASSERT(!c.is_data);
  control_cmd_clear(&c);
done:
  control_cmd_clear(&c);
  control_framer_clear(&f);
}

static const char stream_text[] = "PROTOCOLINFO 1\r\n"
                                  "AUTHENTICATE \"pass word\"\r\n"
                                  "+LOADCONF\r\n"
                                  "SocksPort 9050\r\n"
                                  "..x\r\n"
                                  ".\r\n"
                                  "getconf a b\n"
                                  "\n"
                                  "SETEVENTS CIRC STREAM\r\n";

static void
test_frame_byte_at_a_time(void)
{
  control_cmd_t whole[MAX_TEST_CMDS], piece[MAX_TEST_CMDS];
  int n_whole = 0, n_piece = 0;
  bool trailing = true;
  size_t len = sizeof(stream_text) - 1;

  n_whole = frame_stream(stream_text, len, 0, whole, &trailing);
  T_EQ_INT(n_whole, 6);
  T_ASSERT(!trailing);
  T_EQ_STR(whole[0].keyword, "PROTOCOLINFO");
  T_EQ_STR(whole[1].args, "\"pass word\"");
  T_EQ_STR(whole[2].keyword, "LOADCONF");
  T_EQ_STR(whole[2].data, "SocksPort 9050\n.x\n");
  T_EQ_STR(whole[3].keyword, "GETCONF");
  T_EQ_STR(whole[3].args, "a b");
  T_EQ_STR(whole[4].keyword, "");
  T_EQ_STR(whole[5].args, "CIRC STREAM");

  for (size_t step = 1; step <= 7; step++) {
    n_piece = frame_stream(stream_text, len, step, piece, &trailing);
    T_EQ_INT(n_piece, n_whole);
    T_ASSERT(!trailing);
    for (int i = 0; i < n_piece; i++) {
      T_EQ_STR(piece[i].keyword, whole[i].keyword);
      T_EQ_STR(piece[i].keyword_raw, whole[i].keyword_raw);
      T_EQ_STR(piece[i].args, whole[i].args);
      T_ASSERT(piece[i].is_data == whole[i].is_data);
      T_EQ_UINT(piece[i].data_len, whole[i].data_len);
      if (whole[i].data)
        T_EQ_MEM(piece[i].data, whole[i].data, whole[i].data_len);
    }
    for (int i = 0; i < n_piece; i++)
      control_cmd_clear(&piece[i]);
    n_piece = 0;
  }
done:
  for (int i = 0; i < n_whole; i++)
    control_cmd_clear(&whole[i]);
  for (int i = 0; i < n_piece; i++)
    control_cmd_clear(&piece[i]);
}

/* Every strict prefix of a command is "need more" and consumes all. */
static void
test_frame_truncation(void)
{
  static const char *const cmds[] = {
      "GETINFO version\r\n",
      "AUTHENTICATE 666f6f\n",
      "+POSTDESCRIPTOR\r\nrouter a\r\n..b\r\n\r\n.\r\n",
      "+HSPOST SERVER=x\nabc\n.\n",
  };
  control_cmd_t c;
  memset(&c, 0, sizeof(c));
  for (size_t k = 0; k < CHIVE_ARRAY_LEN(cmds); k++) {
    size_t n = strlen(cmds[k]);
    for (size_t cut = 0; cut < n; cut++) {
      control_framer_t f;
      control_framer_init(&f, 0, 0);
      size_t used = 99;
      chive_err_t e =
          control_framer_feed(&f, (const uint8_t *)cmds[k], cut, &used, &c);
      bool partial = control_framer_has_partial(&f);
      control_framer_clear(&f);
      T_EQ_INT(e, CHIVE_ERR_TRUNCATED);
      T_EQ_UINT(used, cut);
      T_ASSERT(partial == (cut > 0));
    }
    control_framer_t f;
    control_framer_init(&f, 0, 0);
    chive_err_t e = frame_one(&f, cmds[k], n, &c);
    control_framer_clear(&f);
    T_OK(e);
    control_cmd_clear(&c);
  }
done:
  control_cmd_clear(&c);
}

static void
test_frame_limits(void)
{
  control_framer_t f;
  control_cmd_t c;
  char buf[64];
  size_t used = 0;
  memset(&c, 0, sizeof(c));

  /* Lines of up to 16 bytes including the LF are fine. */
  control_framer_init(&f, 16, 8);
  memset(buf, 'A', sizeof(buf));
  buf[15] = '\n';
  T_OK(frame_one(&f, buf, 16, &c));
  T_EQ_UINT(strlen(c.keyword), 15);
  control_cmd_clear(&c);
  /* 16 bytes + CRLF counts the CR: 17 > 16. */
  buf[15] = '\r';
  buf[16] = '\n';
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)buf, 17, &used, &c),
           CHIVE_ERR_LIMIT);
  /* Sticky, consumes nothing. */
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"QUIT\r\n", 6, &used, &c),
           CHIVE_ERR_LIMIT);
  T_EQ_UINT(used, 0);
  control_framer_clear(&f);

  /* An over-long line fails before its LF arrives. */
  control_framer_init(&f, 16, 8);
  for (size_t i = 0; i < 15; i++) {
    T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"A", 1, &used, &c),
             CHIVE_ERR_TRUNCATED);
  }
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"A", 1, &used, &c),
           CHIVE_ERR_LIMIT);
  control_framer_clear(&f);

  /* Data blocks: 8 decoded bytes fit, 9 do not. */
  control_framer_init(&f, 16, 8);
  const char *ok = "+X\r\nabc\r\n..de\r\n.\r\n"; /* "abc\n.de\n" = 8 */
  T_OK(frame_one(&f, ok, strlen(ok), &c));
  T_EQ_STR(c.data, "abc\n.de\n");
  control_cmd_clear(&c);
  const char *big = "+X\r\nabc\r\n..def\r\n.\r\n";
  T_EQ_INT(
      control_framer_feed(&f, (const uint8_t *)big, strlen(big), &used, &c),
      CHIVE_ERR_LIMIT);
  control_framer_clear(&f);

  /* The default limit is CONTROL_MAX_LINE_LEN. */
  control_framer_init(&f, 0, 0);
  char *huge = chive_malloc(CONTROL_MAX_LINE_LEN + 2);
  T_ASSERT(huge != NULL);
  memset(huge, 'G', CONTROL_MAX_LINE_LEN + 2);
  huge[CONTROL_MAX_LINE_LEN - 1] = '\n';
  chive_err_t e = frame_one(&f, huge, CONTROL_MAX_LINE_LEN, &c);
  control_cmd_clear(&c);
  huge[CONTROL_MAX_LINE_LEN - 1] = 'G';
  huge[CONTROL_MAX_LINE_LEN] = '\n';
  chive_err_t e2 = control_framer_feed(&f, (const uint8_t *)huge,
                                       CONTROL_MAX_LINE_LEN + 1, &used, &c);
  chive_free(huge);
  T_OK(e);
  T_EQ_INT(e2, CHIVE_ERR_LIMIT);
done:
  control_cmd_clear(&c);
  control_framer_clear(&f);
}

static void
test_frame_nul(void)
{
  control_framer_t f;
  control_cmd_t c;
  size_t used = 0;
  memset(&c, 0, sizeof(c));
  control_framer_init(&f, 0, 0);
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"GETINFO a\0b\r\n", 13,
                               &used, &c),
           CHIVE_ERR_PROTO);
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"QUIT\r\n", 6, &used, &c),
           CHIVE_ERR_PROTO);
  control_framer_clear(&f);
  /* NUL inside a data block too. */
  control_framer_init(&f, 0, 0);
  T_EQ_INT(control_framer_feed(&f, (const uint8_t *)"+X\r\na\0\r\n.\r\n", 11,
                               &used, &c),
           CHIVE_ERR_PROTO);
done:
  control_framer_clear(&f);
}

static void
test_frame_oom(void)
{
  const size_t len = sizeof(stream_text) - 1;
  for (uint64_t nth = 1; nth < 200; nth++) {
    control_framer_t f;
    control_framer_init(&f, 0, 0);
    chive_mem_fail_nth(nth, false);
    size_t pos = 0;
    chive_err_t e = CHIVE_OK;
    while (pos < len) {
      control_cmd_t c;
      size_t used = 0;
      e = control_framer_feed(&f, (const uint8_t *)stream_text + pos,
                              len - pos, &used, &c);
      pos += used;
      if (e == CHIVE_OK)
        control_cmd_clear(&c);
      else
        break;
    }
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    control_framer_clear(&f);
    if (!fired) {
      T_ASSERT(pos == len);
      break;
    }
    T_EQ_INT(e, CHIVE_ERR_NOMEM);
  }
done:
  chive_mem_fail_nth(0, false);
}

/* ------------------------------------------------------------------ */
/* Arguments                                                          */
/* ------------------------------------------------------------------ */

/** Build a one-line command with <b>args</b>. */
static void
mkcmd(control_cmd_t *c, const char *args)
{
  memset(c, 0, sizeof(*c));
  c->keyword = chive_strdup("X");
  c->keyword_raw = chive_strdup("X");
  c->args = chive_strdup(args);
  c->args_len = strlen(args);
}

static const control_cmd_syntax_t getinfo_syn = {
    .min_args = 1, .max_args = CONTROL_ARGS_UNLIMITED};
static const control_cmd_syntax_t signal_syn = {.min_args = 1, .max_args = 1};
static const control_cmd_syntax_t setconf_syn = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_VALS | CONTROL_KV_QUOTED};
static const control_cmd_syntax_t auth_syn = {
    .max_args = 0,
    .accept_keywords = true,
    .kv_flags = CONTROL_KV_OMIT_KEYS | CONTROL_KV_QSTRING,
    .wipe = true};
static const control_cmd_syntax_t mapaddress_syn = {.max_args = 0,
                                                    .accept_keywords = true};
static const char *const onion_keys[] = {"Port", "Flags", "MaxStreams", NULL};
static const control_cmd_syntax_t add_onion_syn = {.min_args = 1,
                                                   .max_args = 1,
                                                   .accept_keywords = true,
                                                   .kv_flags = 0,
                                                   .allowed_keywords =
                                                       onion_keys,
                                                   .wipe = true};
static const control_cmd_syntax_t loadconf_syn = {.want_data = true};

static void
test_args_positional(void)
{
  control_cmd_t c;
  control_args_t a;
  char err[CONTROL_ERRMSG_LEN];
  memset(&a, 0, sizeof(a));

  mkcmd(&c, "  version\tconfig/names   net/listeners/socks ");
  T_OK(control_args_parse(&c, &getinfo_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_args, 3);
  T_EQ_STR(a.args[0], "version");
  T_EQ_STR(a.args[1], "config/names");
  T_EQ_STR(a.args[2], "net/listeners/socks");
  T_EQ_UINT(a.n_kv, 0);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* tor's wording for arity errors. */
  mkcmd(&c, "");
  T_EQ_INT(control_args_parse(&c, &getinfo_syn, &a, err, sizeof(err)),
           CHIVE_ERR_PROTO);
  T_EQ_STR(err, "Need at least 1 argument(s)");
  T_EQ_UINT(a.n_args, 0);
  control_cmd_clear(&c);

  mkcmd(&c, "NEWNYM now");
  T_EQ_INT(control_args_parse(&c, &signal_syn, &a, err, sizeof(err)),
           CHIVE_ERR_PROTO);
  T_EQ_STR(err, "Cannot accept more than 1 argument(s)");
  control_cmd_clear(&c);

  mkcmd(&c, "NEWNYM");
  T_OK(control_args_parse(&c, &signal_syn, &a, NULL, 0));
  T_EQ_UINT(a.n_args, 1);
  T_EQ_STR(a.args[0], "NEWNYM");
  T_ASSERT(control_args_find_kv(&a, "x") == NULL);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* The argument count is bounded. */
  {
    char *many = chive_malloc(2 * (CONTROL_MAX_ARGS + 1) + 1);
    T_ASSERT(many != NULL);
    for (size_t i = 0; i <= CONTROL_MAX_ARGS; i++) {
      many[2 * i] = 'a';
      many[2 * i + 1] = ' ';
    }
    many[2 * (CONTROL_MAX_ARGS + 1)] = '\0';
    mkcmd(&c, many);
    chive_free(many);
    T_EQ_INT(control_args_parse(&c, &getinfo_syn, &a, err, sizeof(err)),
             CHIVE_ERR_LIMIT);
    T_EQ_STR(err, "Too many arguments");
    control_cmd_clear(&c);
  }
done:
  control_args_clear(&a);
  control_cmd_clear(&c);
}

static void
test_args_keywords(void)
{
  control_cmd_t c;
  control_args_t a;
  char err[CONTROL_ERRMSG_LEN];
  memset(&a, 0, sizeof(a));

  /* SETCONF-style: K=V, K="quoted C string", bare K. */
  mkcmd(&c, "SocksPort=9050 Log=\"notice stdout\" ExitPolicy "
            "Nick=\"a\\tb\\n\\x41\\101\\7\\\\\\\"\\'\" Empty=");
  T_OK(control_args_parse(&c, &setconf_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_args, 0);
  T_EQ_UINT(a.n_kv, 5);
  T_EQ_STR(a.kv[0].key, "SocksPort");
  T_EQ_STR(a.kv[0].value, "9050");
  T_ASSERT(!a.kv[0].quoted);
  T_EQ_STR(a.kv[1].key, "Log");
  T_EQ_STR(a.kv[1].value, "notice stdout");
  T_ASSERT(a.kv[1].quoted);
  T_EQ_STR(a.kv[2].key, "ExitPolicy");
  T_EQ_STR(a.kv[2].value, "");
  T_EQ_STR(a.kv[3].value, "a\tb\nAA\a\\\"'");
  T_EQ_UINT(a.kv[3].value_len, 10);
  T_EQ_STR(a.kv[4].key, "Empty");
  T_EQ_STR(a.kv[4].value, "");
  T_ASSERT(control_args_find_kv(&a, "socksport") == &a.kv[0]);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* Positional words, then keywords; allowed keys ignore case. */
  mkcmd(&c, "NEW:BEST port=80,127.0.0.1:8080 Flags=Detach,DiscardPK");
  T_OK(control_args_parse(&c, &add_onion_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_args, 1);
  T_EQ_STR(a.args[0], "NEW:BEST");
  T_EQ_UINT(a.n_kv, 2);
  T_EQ_STR(a.kv[0].key, "port");
  T_EQ_STR(a.kv[0].value, "80,127.0.0.1:8080");
  T_EQ_STR(control_args_find_kv(&a, "FLAGS")->value, "Detach,DiscardPK");
  control_args_clear(&a);
  control_cmd_clear(&c);

  mkcmd(&c, "NEW:BEST Port=80 Bogus=1");
  T_EQ_INT(control_args_parse(&c, &add_onion_syn, &a, err, sizeof(err)),
           CHIVE_ERR_PROTO);
  T_EQ_STR(err, "Unrecognized keyword argument \"Bogus\"");
  control_cmd_clear(&c);

  /* MAPADDRESS: plain K=V only. */
  mkcmd(&c, "1.2.3.4=torproject.org .=x.onion");
  T_OK(control_args_parse(&c, &mapaddress_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_kv, 2);
  T_EQ_STR(a.kv[1].key, ".");
  T_EQ_STR(a.kv[1].value, "x.onion");
  control_args_clear(&a);
  control_cmd_clear(&c);
done:
  control_args_clear(&a);
  control_cmd_clear(&c);
}

static void
test_args_auth(void)
{
  control_cmd_t c;
  control_args_t a;
  char err[CONTROL_ERRMSG_LEN];
  memset(&a, 0, sizeof(a));

  /* QuotedString: a backslash quotes the next byte (\n is "n"). */
  mkcmd(&c, "\"pa\\\"ss\\\\w\\n d\"");
  T_OK(control_args_parse(&c, &auth_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_kv, 1);
  T_EQ_STR(a.kv[0].key, "");
  T_EQ_STR(a.kv[0].value, "pa\"ss\\wn d");
  T_ASSERT(a.kv[0].quoted);
  T_ASSERT(a.wipe);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* Hex form: a bare value. */
  mkcmd(&c, "666F6f");
  T_OK(control_args_parse(&c, &auth_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_kv, 1);
  T_EQ_STR(a.kv[0].value, "666F6f");
  T_ASSERT(!a.kv[0].quoted);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* No argument at all: "AUTHENTICATE" CRLF (§3.5). */
  mkcmd(&c, "   ");
  T_OK(control_args_parse(&c, &auth_syn, &a, err, sizeof(err)));
  T_EQ_UINT(a.n_kv, 0);
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* Unterminated / trailing backslash. */
  static const char *const bad[] = {"\"abc", "\"abc\\", "\"a\"b", "\"\\",
                                    "\"a\rb\""};
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    mkcmd(&c, bad[i]);
    T_EQ_INT(control_args_parse(&c, &auth_syn, &a, err, sizeof(err)),
             CHIVE_ERR_PROTO);
    T_EQ_STR(err, "Cannot parse keyword argument(s)");
    control_cmd_clear(&c);
  }
done:
  control_args_clear(&a);
  control_cmd_clear(&c);
}

static void
test_args_errors(void)
{
  static const struct {
    const control_cmd_syntax_t *syn;
    const char *args;
  } bad[] = {
      {&setconf_syn, "=v"},           /* empty key */
      {&setconf_syn, "\"v\""},        /* quoted value without key */
      {&setconf_syn, "K=\"a\"b"},     /* quote must end the token */
      {&setconf_syn, "K=\"a\\q\""},   /* unknown C escape */
      {&setconf_syn, "K=\"\\x4\""},   /* short hex escape */
      {&setconf_syn, "K=\"\\xg0\""},  /* bad hex escape */
      {&setconf_syn, "K=\"\\400\""},  /* octal over 255 */
      {&setconf_syn, "K=\"a\\0b\""},  /* decoded NUL */
      {&setconf_syn, "K=\"a\\x00\""}, /* decoded NUL */
      {&setconf_syn, "K=\"abc"},      /* unterminated */
      {&setconf_syn, "K\"x=1"},       /* quote in key */
      {&setconf_syn, "K\x01=1"},      /* control char in key */
      {&mapaddress_syn, "a"},         /* no value, flags not allowed */
      {&mapaddress_syn, "a=b\"c"},    /* quote needs quoting mode */
      {&mapaddress_syn, "a=\"b\""},   /* quoting not allowed */
      {&mapaddress_syn, "a=\x7f"},    /* non-printable bare value */
      {&auth_syn, "K=V"},             /* fine syntax... */
  };
  control_cmd_t c;
  control_args_t a;
  char err[CONTROL_ERRMSG_LEN];
  memset(&a, 0, sizeof(a));
  memset(&c, 0, sizeof(c));

  for (size_t i = 0; i + 1 < CHIVE_ARRAY_LEN(bad); i++) {
    mkcmd(&c, bad[i].args);
    chive_err_t e = control_args_parse(&c, bad[i].syn, &a, err, sizeof(err));
    if (e != CHIVE_ERR_PROTO)
      fprintf(stderr, "  case %zu (%s): %d\n", i, bad[i].args, (int)e);
    T_EQ_INT(e, CHIVE_ERR_PROTO);
    T_EQ_STR(err, "Cannot parse keyword argument(s)");
    T_EQ_UINT(a.n_kv, 0);
    T_ASSERT(a.kv == NULL);
    control_cmd_clear(&c);
  }
  /* ...AUTHENTICATE accepts keys syntactically (the handler refuses
   * them, as tor: "AUTHENTICATE does not accept keyword arguments."). */
  mkcmd(&c, "K=V");
  T_OK(control_args_parse(&c, &auth_syn, &a, err, sizeof(err)));
  T_EQ_STR(a.kv[0].key, "K");
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* Data-block mismatch. */
  mkcmd(&c, "");
  T_EQ_INT(control_args_parse(&c, &loadconf_syn, &a, err, sizeof(err)),
           CHIVE_ERR_INVAL);
  T_EQ_STR(err, "Empty body");
  c.is_data = true;
  c.data = chive_strdup("");
  T_EQ_INT(control_args_parse(&c, &loadconf_syn, &a, err, sizeof(err)),
           CHIVE_ERR_PROTO);
  T_EQ_STR(err, "Empty body");
  T_EQ_INT(control_args_parse(&c, &signal_syn, &a, err, sizeof(err)),
           CHIVE_ERR_INVAL);
  T_EQ_STR(err, "Unexpected body");
  chive_free(c.data);
  c.data = chive_strdup("SocksPort 0\n");
  c.data_len = strlen(c.data);
  T_OK(control_args_parse(&c, &loadconf_syn, &a, err, sizeof(err)));
  control_args_clear(&a);
  control_cmd_clear(&c);

  /* A tiny error buffer truncates safely. */
  mkcmd(&c, "");
  char tiny[5];
  T_EQ_INT(control_args_parse(&c, &signal_syn, &a, tiny, sizeof(tiny)),
           CHIVE_ERR_PROTO);
  T_EQ_STR(tiny, "Need");
done:
  control_args_clear(&a);
  control_cmd_clear(&c);
}

static void
test_unquote(void)
{
  char out[64];
  size_t n = 0, used = 0;

  /* C-string mode (tor's unescape_string): 1-3 octal digits. */
  const char *s = "\"\\1\\12\\123x\" rest";
  T_OK(control_unquote(s, strlen(s), false, out, sizeof(out), &n, &used));
  T_EQ_UINT(n, 4);
  T_EQ_MEM(out, "\001\012Sx", 4);
  T_EQ_UINT(used, 12);

  /* QuotedString mode. */
  s = "\"\\1\\n\\\"\"";
  T_OK(control_unquote(s, strlen(s), true, out, sizeof(out), &n, &used));
  T_EQ_STR(out, "1n\"");
  T_EQ_UINT(used, strlen(s));

  /* Output room is checked (NUL included). */
  s = "\"abcd\"";
  T_EQ_INT(control_unquote(s, strlen(s), false, out, 4, &n, &used),
           CHIVE_ERR_LIMIT);
  T_OK(control_unquote(s, strlen(s), false, out, 5, &n, &used));

  /* Every strict prefix of a valid quoted string is TRUNCATED. */
  static const char *const good[] = {"\"a\\x41\\101\\n\\\\\\\"z\"", "\"\"",
                                     "\"\\7\""};
  for (size_t k = 0; k < CHIVE_ARRAY_LEN(good); k++) {
    size_t len = strlen(good[k]);
    for (int mode = 0; mode < 2; mode++) {
      T_OK(control_unquote(good[k], len, mode == 1, out, sizeof(out), &n,
                           &used));
      T_EQ_UINT(used, len);
      for (size_t cut = 1; cut < len; cut++) {
        T_EQ_INT(control_unquote(good[k], cut, mode == 1, out, sizeof(out), &n,
                                 &used),
                 CHIVE_ERR_TRUNCATED);
      }
    }
  }
done:
  return;
}

/* ------------------------------------------------------------------ */
/* Replies and events                                                 */
/* ------------------------------------------------------------------ */

static void
test_reply_golden(void)
{
  control_outbuf_t o;
  control_outbuf_init(&o, 0);

  T_OK(control_reply_ok(&o));
  OUT_EQ(&o, "250 OK\r\n");
  control_outbuf_drain(&o, 100);
  T_EQ_UINT(control_outbuf_len(&o), 0);

  /* tor's error replies. */
  T_OK(control_reply_printf(&o, 510, CONTROL_SEP_END,
                            "Unrecognized command \"%s\"", "FOO"));
  T_OK(control_reply_str(&o, 514, ' ', "Authentication required."));
  T_OK(control_reply_printf(&o, 515, ' ', "Authentication failed: %s",
                            "Password did not match HashedControlPassword "
                            "value from configuration"));
  T_OK(control_reply_printf(&o, 552, ' ', "Unrecognized key \"%s\"", "x"));
  T_OK(control_reply_printf(&o, 512, ' ', "Bad arguments to %s: %s", "SIGNAL",
                            "Need at least 1 argument(s)"));
  T_OK(control_reply_str(&o, 500, ' ', "Line too long."));
  OUT_EQ(&o, "510 Unrecognized command \"FOO\"\r\n"
             "514 Authentication required.\r\n"
             "515 Authentication failed: Password did not match "
             "HashedControlPassword value from configuration\r\n"
             "552 Unrecognized key \"x\"\r\n"
             "512 Bad arguments to SIGNAL: Need at least 1 argument(s)\r\n"
             "500 Line too long.\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* A GETINFO answer: mid lines, a data line, the end line. */
  T_OK(control_reply_kv(&o, 250, CONTROL_SEP_MID, "version", "0.1.0", 5));
  T_OK(control_reply_kv(&o, 250, CONTROL_SEP_MID, "status/x", "a b \"c\"", 7));
  T_OK(control_reply_kv(&o, 250, CONTROL_SEP_MID, "empty", "", 0));
  T_OK(control_reply_data(&o, 250, "config-text=", "a\n.b\nc", 6));
  T_OK(control_reply_ok(&o));
  OUT_EQ(&o, "250-version=0.1.0\r\n"
             "250-status/x=\"a b \\\"c\\\"\"\r\n"
             "250-empty=\r\n"
             "250+config-text=\r\n"
             "a\r\n"
             "..b\r\n"
             "c\r\n"
             ".\r\n"
             "250 OK\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* CmdData: existing CRLF kept, final CRLF added once, empty data. */
  T_OK(control_reply_cmddata(&o, "x\r\ny\n", 5));
  T_OK(control_reply_cmddata(&o, "", 0));
  T_OK(control_reply_cmddata(&o, ".\n..\n", 5));
  OUT_EQ(&o, "x\r\ny\r\n.\r\n"
             ".\r\n"
             "..\r\n...\r\n.\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* Events (§4.1): one-line and multi-line. */
  T_OK(control_event_printf(&o, "CIRC %u BUILT %s PURPOSE=GENERAL", 7u,
                            "$AAAA~a,$BBBB~b"));
  T_OK(control_reply_str(&o, CONTROL_CODE_EVENT, CONTROL_SEP_DATA, "NS"));
  T_OK(control_reply_cmddata(&o, "r a b c\ns Fast\n", 15));
  T_OK(control_reply_str(&o, CONTROL_CODE_EVENT, CONTROL_SEP_END, "OK"));
  OUT_EQ(&o, "650 CIRC 7 BUILT $AAAA~a,$BBBB~b PURPOSE=GENERAL\r\n"
             "650+NS\r\n"
             "r a b c\r\n"
             "s Fast\r\n"
             ".\r\n"
             "650 OK\r\n");

  /* Partial drain keeps the rest. */
  size_t before = control_outbuf_len(&o);
  control_outbuf_drain(&o, 4);
  T_EQ_UINT(control_outbuf_len(&o), before - 4);
  T_EQ_MEM(control_outbuf_data(&o), "CIRC 7", 6);
done:
  control_outbuf_clear(&o);
}

static void
test_reply_injection(void)
{
  control_outbuf_t o;
  strbuf_t sb;
  control_outbuf_init(&o, 0);
  strbuf_init(&sb, 1024);

  /* A value with CRLF cannot start a new reply line. */
  const char *evil = "x\r\n250 OK\r\n650 CIRC 1 BUILT\n\rz";
  T_OK(control_reply_printf(&o, 552, ' ', "Unrecognized key \"%s\"", evil));
  OUT_EQ(&o, "552 Unrecognized key \"x\\r\\n250 OK\\r\\n650 CIRC 1 "
             "BUILT\\n\\rz\"\r\n");
  T_EQ_UINT(count_crlf(control_outbuf_data(&o), control_outbuf_len(&o)), 1);
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* NUL bytes in line text are escaped too. */
  T_OK(control_reply_line(&o, 250, '-', "a\0b", 3));
  OUT_EQ(&o, "250-a\\000b\r\n");
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* key=value quoting escapes CR/LF. */
  T_OK(control_reply_kv(&o, 250, ' ', "k", evil, strlen(evil)));
  T_EQ_UINT(count_crlf(control_outbuf_data(&o), control_outbuf_len(&o)), 1);
  T_ASSERT(only_crlf(control_outbuf_data(&o), control_outbuf_len(&o)));
  control_outbuf_drain(&o, control_outbuf_len(&o));

  /* Data that contains the terminator is dot-stuffed: the only "."
   * line is the real end, and there are no bare CR/LF breaks. */
  const char *d = "a\r\n.\r\n250 OK\n.\nb\r.\n.";
  T_OK(control_reply_data(&o, 250, "x=", d, strlen(d)));
  const uint8_t *p = control_outbuf_data(&o);
  size_t n = control_outbuf_len(&o);
  /* A lone CR is legal inside CmdData (§2.4 LineItem); every LF is
   * still part of a CRLF. */
  for (size_t i = 0; i < n; i++)
    T_ASSERT(p[i] != '\n' || (i > 0 && p[i - 1] == '\r'));
  T_ASSERT(n > 23 && memcmp(p, "250+x=\r\na\r\n..\r\n250 OK\r\n", 23) == 0);
  size_t dot_lines = 0;
  for (size_t i = 0; i + 2 < n; i++) {
    if ((i == 0 || p[i - 1] == '\n') && p[i] == '.' && p[i + 1] == '\r')
      dot_lines++;
  }
  T_EQ_UINT(dot_lines, 1);
  T_EQ_MEM(p + n - 5, "\r\n.\r\n", 5);

  /* Quoting helpers. */
  T_ASSERT(!control_value_needs_quote("abc/def:1,2", 11));
  T_ASSERT(!control_value_needs_quote("", 0));
  T_ASSERT(!control_value_needs_quote("a\\b", 3));
  T_ASSERT(control_value_needs_quote("a b", 3));
  T_ASSERT(control_value_needs_quote("a'b", 3));
  T_ASSERT(control_value_needs_quote("a\"b", 3));
  T_ASSERT(control_value_needs_quote("a\tb", 3));
  T_ASSERT(control_value_needs_quote("\xe9", 1));
  T_ASSERT(control_value_needs_quote("\x7f", 1));
  T_OK(control_quote(&sb, "a\"\\\n\r\t\x01\xff", 8));
  T_EQ_STR(strbuf_str(&sb), "\"a\\\"\\\\\\n\\r\\t\\001\\377\"");
done:
  strbuf_clear(&sb);
  control_outbuf_clear(&o);
}

/* Values written with control_format_kv() parse back unchanged. */
static void
test_kv_roundtrip(void)
{
  static const char *const values[] = {
      "plain", "",          "two words",     "quote\"d",         "back\\slash",
      "apos'", "tab\there", "new\nline\r\n", "\x01\x7f\x80\xff", "=eq=",
      "\\x41",
  };
  strbuf_t sb;
  control_cmd_t c;
  control_args_t a;
  memset(&a, 0, sizeof(a));
  memset(&c, 0, sizeof(c));
  strbuf_init(&sb, 4096);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(values); i++) {
    if (i)
      T_OK(strbuf_addc(&sb, ' '));
    T_OK(control_format_kv(&sb, "Key", values[i], strlen(values[i])));
  }
  mkcmd(&c, strbuf_str(&sb));
  T_OK(control_args_parse(&c, &setconf_syn, &a, NULL, 0));
  T_EQ_UINT(a.n_kv, CHIVE_ARRAY_LEN(values));
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(values); i++) {
    T_EQ_STR(a.kv[i].key, "Key");
    T_EQ_STR(a.kv[i].value, values[i]);
  }
done:
  control_args_clear(&a);
  control_cmd_clear(&c);
  strbuf_clear(&sb);
}

/* Data encoded by control_reply_cmddata() is framed back by the framer
 * (with LF line ends and a final LF). */
static void
test_cmddata_roundtrip(void)
{
  static const char *const datas[] = {
      "one line", "a\nb\n",  ".\n..\n...", "\n\n\n",
      ".",        "x\n.\ny", "trailing\n",
  };
  static const char *const expect[] = {
      "one line\n", "a\nb\n",    ".\n..\n...\n", "\n\n\n",
      ".\n",        "x\n.\ny\n", "trailing\n",
  };
  control_outbuf_t o;
  control_framer_t f;
  control_cmd_t c;
  memset(&c, 0, sizeof(c));
  control_outbuf_init(&o, 0);
  control_framer_init(&f, 0, 0);
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(datas); i++) {
    control_outbuf_drain(&o, control_outbuf_len(&o));
    T_OK(control_outbuf_append(&o, "+POSTDESCRIPTOR\r\n", 17));
    T_OK(control_reply_cmddata(&o, datas[i], strlen(datas[i])));
    T_OK(frame_one(&f, (const char *)control_outbuf_data(&o),
                   control_outbuf_len(&o), &c));
    T_EQ_STR(c.data, expect[i]);
    control_cmd_clear(&c);
  }
done:
  control_cmd_clear(&c);
  control_framer_clear(&f);
  control_outbuf_clear(&o);
}

static void
test_outbuf_limits(void)
{
  control_outbuf_t o;
  control_outbuf_init(&o, 16);

  T_OK(control_reply_ok(&o)); /* 8 bytes */
  /* "250 123456\r\n" is 12: over the remaining 8, nothing appended. */
  T_EQ_INT(control_reply_str(&o, 250, ' ', "123456"), CHIVE_ERR_LIMIT);
  T_EQ_UINT(control_outbuf_len(&o), 8);
  T_EQ_INT(control_reply_printf(&o, 250, ' ', "%s", "123456"),
           CHIVE_ERR_LIMIT);
  T_EQ_INT(control_reply_data(&o, 250, "", "a", 1), CHIVE_ERR_LIMIT);
  T_EQ_INT(control_event_printf(&o, "XYZ"), CHIVE_ERR_LIMIT);
  T_EQ_UINT(control_outbuf_len(&o), 8);
  OUT_EQ(&o, "250 OK\r\n");
  /* Exactly full is fine. */
  T_OK(control_reply_ok(&o));
  T_EQ_UINT(control_outbuf_len(&o), 16);
  T_EQ_INT(control_outbuf_append(&o, "x", 1), CHIVE_ERR_LIMIT);
  control_outbuf_drain(&o, 8);
  OUT_EQ(&o, "250 OK\r\n");
done:
  control_outbuf_clear(&o);
}

static void
test_reply_oom(void)
{
  for (uint64_t nth = 1; nth < 50; nth++) {
    control_outbuf_t o;
    control_outbuf_init(&o, 0);
    chive_mem_fail_nth(nth, false);
    chive_err_t e = control_reply_kv(&o, 250, '-', "k", "a b", 3);
    if (e == CHIVE_OK)
      e = control_reply_data(&o, 250, "d=", "x\ny", 3);
    if (e == CHIVE_OK)
      e = control_event_printf(&o, "STATUS_CLIENT NOTICE %s", "X");
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    size_t len = control_outbuf_len(&o);
    control_outbuf_clear(&o);
    if (!fired) {
      T_OK(e);
      break;
    }
    T_EQ_INT(e, CHIVE_ERR_NOMEM);
    (void)len;
  }
done:
  chive_mem_fail_nth(0, false);
}

static const t_case cases[] = {
    T_CASE(test_frame_basic),
    T_CASE(test_frame_data),
    T_CASE(test_frame_byte_at_a_time),
    T_CASE(test_frame_truncation),
    T_CASE(test_frame_limits),
    T_CASE(test_frame_nul),
    T_CASE(test_frame_oom),
    T_CASE(test_args_positional),
    T_CASE(test_args_keywords),
    T_CASE(test_args_auth),
    T_CASE(test_args_errors),
    T_CASE(test_unquote),
    T_CASE(test_reply_golden),
    T_CASE(test_reply_injection),
    T_CASE(test_kv_roundtrip),
    T_CASE(test_cmddata_roundtrip),
    T_CASE(test_outbuf_limits),
    T_CASE(test_reply_oom),
    T_END,
};

T_MAIN(cases)
