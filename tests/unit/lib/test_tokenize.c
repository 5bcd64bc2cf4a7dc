/* Unit tests for lib/text: the torrc tokenizer, quoted strings, string
 * helpers and strbuf_t. */
#include "lib/malloc/malloc.h"
#include "lib/text/cstring.h"
#include "lib/text/str.h"
#include "lib/text/strbuf.h"
#include "lib/text/torrc.h"
#include "tinytest.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/** Parse NUL-terminated <b>text</b> (helper). */
static chive_err_t
parse(const char *text, torrc_list_t **l, torrc_error_t *err)
{
  return torrc_parse(text, strlen(text), l, err);
}

#define T_ENTRY(l, i, k, v, ln, c)         \
  do {                                     \
    T_ASSERT((i) < (l)->n);                \
    T_EQ_STR((l)->entries[i].key, (k));    \
    T_EQ_STR((l)->entries[i].value, (v));  \
    T_EQ_UINT((l)->entries[i].line, (ln)); \
    T_EQ_INT((l)->entries[i].cmd, (c));    \
  } while (0)

static void
test_torrc_basic(void)
{
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  const char *text = "SocksPort 9050\n"
                     "# a comment\n"
                     "\n"
                     "   ControlPort \t 9051   \n"
                     "Log notice stdout # trailing comment\n"
                     "DataDirectory /var/lib/chive\n"
                     "EmptyValue\n"
                     "NoSpace#comment\n"
                     "  \t  \n"
                     "Last   multiple   words  here";
  T_OK(parse(text, &l, &err));
  T_EQ_UINT(l->n, 7);
  T_ENTRY(l, 0, "SocksPort", "9050", 1, TORRC_CMD_SET);
  T_ENTRY(l, 1, "ControlPort", "9051", 4, TORRC_CMD_SET);
  T_ENTRY(l, 2, "Log", "notice stdout", 5, TORRC_CMD_SET);
  T_ENTRY(l, 3, "DataDirectory", "/var/lib/chive", 6, TORRC_CMD_SET);
  T_ENTRY(l, 4, "EmptyValue", "", 7, TORRC_CMD_SET);
  T_ENTRY(l, 5, "NoSpace", "", 8, TORRC_CMD_SET);
  T_ENTRY(l, 6, "Last", "multiple   words  here", 10, TORRC_CMD_SET);
  torrc_list_free(l);
  T_ASSERT(l == NULL);
  /* Empty and comment-only inputs have no entries. */
  T_OK(parse("", &l, &err));
  T_EQ_UINT(l->n, 0);
  torrc_list_free(l);
  T_OK(parse("# only\n   # comments\n\n", &l, &err));
  T_EQ_UINT(l->n, 0);
done:
  torrc_list_free(l);
}

static void
test_torrc_crlf_and_prefixes(void)
{
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  T_OK(parse("A 1\r\n+B two words\r\n/C ignored value\r\n\r\nD \"q\" \r\n", &l,
             &err));
  T_EQ_UINT(l->n, 4);
  T_ENTRY(l, 0, "A", "1", 1, TORRC_CMD_SET);
  T_ENTRY(l, 1, "B", "two words", 2, TORRC_CMD_APPEND);
  T_ENTRY(l, 2, "C", "", 3, TORRC_CMD_CLEAR);
  T_ENTRY(l, 3, "D", "q", 5, TORRC_CMD_SET);
done:
  torrc_list_free(l);
}

static void
test_torrc_continuation(void)
{
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  const char *text = "ExitPolicy accept *:80, \\\n"
                     "  accept *:443\n"
                     "Multi a \\\n"
                     "# a comment line inside the entry\n"
                     "   # another, indented\n"
                     "b \\\r\n"
                     "c\n"
                     "Next 1\n"
                     "Comment x # not continued \\\n"
                     "Other 2\n"
                     "Lead \\\n"
                     "   value\n"
                     "KeyOnly\\\n"
                     "val\n"
                     "Tail x\\";
  T_OK(parse(text, &l, &err));
  T_EQ_UINT(l->n, 8);
  T_ENTRY(l, 0, "ExitPolicy", "accept *:80,   accept *:443", 1, TORRC_CMD_SET);
  T_ENTRY(l, 1, "Multi", "a b c", 3, TORRC_CMD_SET);
  T_ENTRY(l, 2, "Next", "1", 8, TORRC_CMD_SET);
  T_ENTRY(l, 3, "Comment", "x", 9, TORRC_CMD_SET);
  T_ENTRY(l, 4, "Other", "2", 10, TORRC_CMD_SET);
  T_ENTRY(l, 5, "Lead", "value", 11, TORRC_CMD_SET);
  T_ENTRY(l, 6, "KeyOnly", "val", 13, TORRC_CMD_SET);
  T_ENTRY(l, 7, "Tail", "x", 15, TORRC_CMD_SET);
done:
  torrc_list_free(l);
}

static void
test_torrc_quoted(void)
{
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  const char *text = "Nickname \"a b\\tc\\x41\\101\\\"\\\\\\'\"\n"
                     "Pass \"#not a comment\"   # but this is\n"
                     "Empty \"\"\n"
                     "Nl \"x\\ny\\r\"\n";
  T_OK(parse(text, &l, &err));
  T_EQ_UINT(l->n, 4);
  T_ENTRY(l, 0, "Nickname", "a b\tcAA\"\\'", 1, TORRC_CMD_SET);
  T_ENTRY(l, 1, "Pass", "#not a comment", 2, TORRC_CMD_SET);
  T_ENTRY(l, 2, "Empty", "", 3, TORRC_CMD_SET);
  T_ENTRY(l, 3, "Nl", "x\ny\r", 4, TORRC_CMD_SET);
done:
  torrc_list_free(l);
}

static void
test_torrc_errors(void)
{
  struct {
    const char *text;
    chive_err_t e;
    unsigned line;
    const char *msg;
  } bad[] = {
      {"A 1\nB \"unterminated\nC 3\n", CHIVE_ERR_PROTO, 2,
       "unterminated quoted string"},
      {"A \"split \\\nline\"\n", CHIVE_ERR_PROTO, 1,
       "unterminated quoted string"},
      {"\n\nA \"bad \\q escape\"", CHIVE_ERR_PROTO, 3,
       "invalid escape sequence in quoted string"},
      {"A \"nul \\x00\"", CHIVE_ERR_PROTO, 1,
       "invalid escape sequence in quoted string"},
      {"A \"nul \\000\"", CHIVE_ERR_PROTO, 1,
       "invalid escape sequence in quoted string"},
      {"A \"big \\400\"", CHIVE_ERR_PROTO, 1,
       "invalid escape sequence in quoted string"},
      {"A \"short \\x4\"", CHIVE_ERR_PROTO, 1,
       "invalid escape sequence in quoted string"},
      {"A \"v\" junk", CHIVE_ERR_PROTO, 1, "excess data after quoted string"},
      {"A \"v\"\"w\"", CHIVE_ERR_PROTO, 1, "excess data after quoted string"},
      {"x 1\n+ 2\n", CHIVE_ERR_PROTO, 2, "missing option name"},
      {"/\n", CHIVE_ERR_PROTO, 1, "missing option name"},
      {"\\\nA 1", CHIVE_ERR_PROTO, 1, "missing option name"},
  };
  for (size_t i = 0; i < CHIVE_ARRAY_LEN(bad); i++) {
    torrc_list_t *l = (torrc_list_t *)&bad; /* must be reset to NULL */
    torrc_error_t err = {0, NULL};
    chive_err_t e = parse(bad[i].text, &l, &err);
    if (e != bad[i].e)
      T_FAIL_("case %zu: got %d", i, (int)e);
    T_ASSERT(l == NULL);
    T_EQ_UINT(err.line, bad[i].line);
    T_EQ_STR(err.msg, bad[i].msg);
  }
  /* A NUL byte anywhere, reported with its line. */
  {
    torrc_list_t *l = NULL;
    torrc_error_t err = {0, NULL};
    T_EQ_INT(torrc_parse(S("A 1\nB 2\nC \0 3\n"), &l, &err), CHIVE_ERR_PROTO);
    T_EQ_UINT(err.line, 3);
    T_EQ_STR(err.msg, "NUL byte in configuration");
  }
done:
  return;
}

static void
test_torrc_limits(void)
{
  char *big = NULL;
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  /* One entry of exactly the maximum length is fine; one more byte is
   * not. */
  size_t n = TORRC_MAX_LINE_LEN;
  big = chive_malloc(TORRC_MAX_LEN + 1);
  T_ASSERT(big);
  memcpy(big, "Key ", 4);
  memset(big + 4, 'v', n - 4);
  T_OK(torrc_parse(big, n, &l, &err));
  T_EQ_UINT(l->n, 1);
  T_EQ_UINT(strlen(l->entries[0].value), n - 4);
  torrc_list_free(l);
  memset(big + 4, 'v', n - 3);
  T_EQ_INT(torrc_parse(big, n + 1, &l, &err), CHIVE_ERR_LIMIT);
  T_EQ_STR(err.msg, "line too long");
  T_EQ_UINT(err.line, 1);
  /* ...counted across continuations too, and for quoted values. */
  memcpy(big, "K ", 2);
  for (size_t i = 2; i + 3 < n + 100; i += 100) {
    memset(big + i, 'a', 97);
    memcpy(big + i + 97, "\\\n ", 3);
  }
  T_EQ_INT(torrc_parse(big, n + 100, &l, &err), CHIVE_ERR_LIMIT);
  T_EQ_STR(err.msg, "line too long");
  memcpy(big, "K \"", 3);
  memset(big + 3, 'q', n + 10);
  big[n + 13] = '"';
  T_EQ_INT(torrc_parse(big, n + 14, &l, &err), CHIVE_ERR_LIMIT);
  /* Too many lines. */
  memset(big, '\n', TORRC_MAX_LINES);
  T_OK(torrc_parse(big, TORRC_MAX_LINES - 1, &l, &err));
  torrc_list_free(l);
  T_EQ_INT(torrc_parse(big, TORRC_MAX_LINES, &l, &err), CHIVE_ERR_LIMIT);
  T_EQ_STR(err.msg, "too many lines");
  /* Too large in all. */
  memset(big, ' ', TORRC_MAX_LEN + 1);
  T_EQ_INT(torrc_parse(big, TORRC_MAX_LEN + 1, &l, &err), CHIVE_ERR_LIMIT);
  T_EQ_STR(err.msg, "configuration too large");
  T_OK(torrc_parse(big, TORRC_MAX_LEN, &l, &err));
  T_EQ_UINT(l->n, 0);
done:
  torrc_list_free(l);
  chive_free(big);
}

static void
test_torrc_iterator(void)
{
  torrc_reader_t tr;
  torrc_entry_t ent;
  torrc_error_t err = {0, NULL};
  char *buf = chive_malloc(TORRC_ENTRY_BUF_LEN);
  T_ASSERT(buf);
  const char *text = "A 1\nB \"x\nC 3\n";
  T_OK(torrc_reader_init(&tr, text, strlen(text), &err));
  T_OK(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err));
  T_EQ_STR(ent.key, "A");
  T_EQ_STR(ent.value, "1");
  T_EQ_INT(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err),
           CHIVE_ERR_PROTO);
  T_EQ_UINT(err.line, 2);
  /* Sticky: the reader does not resynchronise on C. */
  err.line = 0;
  T_EQ_INT(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err),
           CHIVE_ERR_PROTO);
  T_EQ_UINT(err.line, 2);
  /* End of input is CHIVE_OK with a NULL key, repeatedly. */
  T_OK(torrc_reader_init(&tr, "K v", 3, &err));
  T_OK(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err));
  T_OK(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err));
  T_ASSERT(ent.key == NULL);
  T_OK(torrc_next(&tr, buf, TORRC_ENTRY_BUF_LEN, &ent, &err));
  T_ASSERT(ent.key == NULL);
done:
  chive_free(buf);
}

/** Every prefix of a configuration tokenizes cleanly or fails cleanly,
 * and its entries are a prefix of the whole's (the last one possibly
 * cut short). */
static void
test_torrc_every_prefix(void)
{
  torrc_list_t *full = NULL, *l = NULL;
  char *copy = NULL;
  torrc_error_t err = {0, NULL};
  const char *text = "SocksPort 9050 # c\r\n"
                     "+HiddenServicePort \"80 127.0.0.1:8080\"\n"
                     "ExitPolicy reject *:25, \\\n"
                     "# skipped\n"
                     "  accept *:*\n"
                     "/Log\n"
                     "Nick \"\\x41\\102\\n\"\n";
  size_t len = strlen(text);
  T_OK(torrc_parse(text, len, &full, &err));
  T_EQ_UINT(full->n, 5);
  for (size_t i = 0; i <= len; i++) {
    copy = chive_malloc(i ? i : 1); /* exact size: ASan sees overreads */
    T_ASSERT(copy);
    memcpy(copy, text, i);
    chive_err_t e = torrc_parse(copy, i, &l, &err);
    T_ASSERT(e == CHIVE_OK || e == CHIVE_ERR_PROTO);
    if (e == CHIVE_OK) {
      T_ASSERT(l->n <= full->n);
      for (size_t j = 0; j < l->n; j++) {
        T_ASSERT(str_starts_with(full->entries[j].key, l->entries[j].key));
        T_EQ_UINT(l->entries[j].line, full->entries[j].line);
        T_EQ_INT(l->entries[j].cmd, full->entries[j].cmd);
        if (j + 1 < l->n)
          T_EQ_STR(l->entries[j].value, full->entries[j].value);
      }
    } else {
      T_ASSERT(l == NULL);
      T_ASSERT(err.msg != NULL);
    }
    torrc_list_free(l);
    chive_free_and_null(copy);
  }
done:
  torrc_list_free(full);
  torrc_list_free(l);
  chive_free(copy);
}

/** Write entries with quoted values, tokenize, get the same entries. */
static void
test_torrc_round_trip(void)
{
  strbuf_t sb;
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  strbuf_init(&sb, 1 << 20);
  char vals[50][40];
  uint32_t x = 12345;
  for (int i = 0; i < 50; i++) {
    size_t vlen = (size_t)(i % 39);
    for (size_t j = 0; j < vlen; j++) {
      x = x * 1103515245u + 12345u;
      char c = (char)((x >> 16) & 0xff);
      vals[i][j] = c ? c : 'z';
    }
    vals[i][vlen] = '\0';
    T_OK(strbuf_addf(&sb, "%sKey%d ", i % 3 == 1 ? "+" : "", i));
    T_OK(cstring_quote(&sb, vals[i], vlen));
    T_OK(strbuf_addstr(&sb, i % 2 ? " # comment\n" : "\r\n"));
  }
  T_OK(torrc_parse(strbuf_str(&sb), strbuf_len(&sb), &l, &err));
  T_EQ_UINT(l->n, 50);
  for (int i = 0; i < 50; i++) {
    char k[16];
    snprintf(k, sizeof(k), "Key%d", i);
    T_EQ_STR(l->entries[i].key, k);
    T_EQ_STR(l->entries[i].value, vals[i]);
    T_EQ_UINT(l->entries[i].line, (unsigned)i + 1);
    T_EQ_INT(l->entries[i].cmd, i % 3 == 1 ? TORRC_CMD_APPEND : TORRC_CMD_SET);
  }
done:
  torrc_list_free(l);
  strbuf_clear(&sb);
}

static void
test_torrc_oom(void)
{
  const char *text = "A 1\nB 2\nC 3\nD 4\nE 5\nF 6\nG 7\nH 8\nI 9\nJ 10\n"
                     "K 11\nL 12\nM 13\nN 14\nO 15\nP 16\nQ 17\nR 18\n";
  torrc_list_t *l = NULL;
  torrc_error_t err = {0, NULL};
  bool succeeded = false;
  for (uint64_t n = 1; n < 100 && !succeeded; n++) {
    chive_mem_fail_nth(n, false);
    chive_err_t e = parse(text, &l, &err);
    bool fired = chive_mem_fail_fired();
    chive_mem_fail_nth(0, false);
    if (e == CHIVE_OK) {
      T_ASSERT(!fired);
      T_EQ_UINT(l->n, 18);
      T_EQ_STR(l->entries[17].value, "18");
      succeeded = true;
    } else {
      T_EQ_INT(e, CHIVE_ERR_NOMEM);
      T_ASSERT(l == NULL);
    }
    torrc_list_free(l);
  }
  T_ASSERT(succeeded);
done:
  chive_mem_fail_nth(0, false);
  torrc_list_free(l);
}

static void
test_cstring(void)
{
  char out[600];
  size_t n = 0, used = 0;
  strbuf_t sb;
  strbuf_init(&sb, 4096);
  /* All 255 non-NUL byte values survive quote -> unquote. */
  char all[255];
  for (int i = 0; i < 255; i++)
    all[i] = (char)(i + 1);
  T_OK(cstring_quote(&sb, all, sizeof(all)));
  T_OK(cstring_unquote(strbuf_str(&sb), strbuf_len(&sb), out, sizeof(out), &n,
                       &used));
  T_EQ_UINT(n, 255);
  T_EQ_MEM(out, all, 255);
  T_EQ_UINT(used, strbuf_len(&sb));
  /* Quoted text is printable ASCII only. */
  for (size_t i = 0; i < strbuf_len(&sb); i++)
    T_ASSERT(ascii_isprint(strbuf_str(&sb)[i]));
  /* consumed stops at the closing quote. */
  T_OK(cstring_unquote(S("\"ab\" rest"), out, sizeof(out), &n, &used));
  T_EQ_UINT(used, 4);
  T_EQ_STR(out, "ab");
  /* Every strict prefix of a quoted string is truncated or refused. */
  const char *q = "\"a\\x41\\101\\n\\\"z\"";
  for (size_t i = 0; i < strlen(q); i++) {
    chive_err_t e = cstring_unquote(q, i, out, sizeof(out), &n, &used);
    T_ASSERT(e == CHIVE_ERR_TRUNCATED);
  }
  T_OK(cstring_unquote(q, strlen(q), out, sizeof(out), &n, &used));
  T_EQ_STR(out, "aAA\n\"z");
  /* Bad input. */
  T_EQ_INT(cstring_unquote(S("x\"\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"a\nb\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"a\rb\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"a\0b\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"\\xg0\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"\\08\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"\\a\""), out, sizeof(out), &n, &used),
           CHIVE_ERR_PROTO);
  T_EQ_INT(cstring_unquote(S("\"abc\""), out, 3, &n, &used), CHIVE_ERR_LIMIT);
  T_OK(cstring_unquote(S("\"abc\""), out, 4, &n, &used));
done:
  strbuf_clear(&sb);
}

static void
test_str_helpers(void)
{
  T_ASSERT(str_eq_ci("SocksPort", "sockSPORT"));
  T_ASSERT(!str_eq_ci("SocksPort", "SocksPor"));
  T_ASSERT(!str_eq_ci("a", "b"));
  T_ASSERT(str_eq_ci("", ""));
  T_ASSERT(mem_eq_ci("ABCx", 3, "abc", 3));
  T_ASSERT(!mem_eq_ci("ABC", 3, "abcd", 4));
  T_ASSERT(mem_eq_str_ci("Log  ", 3, "log"));
  T_ASSERT(!mem_eq_str_ci("Logs", 4, "log"));
  T_ASSERT(!str_eq_ci("\xc3\xa9", "\xc3\x89")); /* ASCII-only folding */
  T_ASSERT(str_starts_with("onion.address", "onion"));
  T_ASSERT(!str_starts_with("on", "onion"));
  T_ASSERT(str_starts_with_ci("HTTP/1.0", "http/"));
  T_ASSERT(str_ends_with("x.onion", ".onion"));
  T_ASSERT(!str_ends_with("onion", ".onion"));
  T_EQ_UINT(str_span_space(S(" \t\r\n\v\fx ")), 6);
  T_EQ_UINT(str_span_space(S("   ")), 3);
  T_EQ_UINT(str_span_nonspace(S("word rest")), 4);
  T_EQ_UINT(str_trim_end(S("ab \r\n")), 2);
  size_t n = 0;
  const char *t = str_trim(S("  mid dle \n"), &n);
  T_EQ_UINT(n, 7);
  T_EQ_MEM(t, "mid dle", 7);
  t = str_trim(S("   "), &n);
  T_EQ_UINT(n, 0);
  T_ASSERT(mem_has_nul("a\0b", 3));
  T_ASSERT(!mem_has_nul("ab", 2));
  T_ASSERT(!ascii_isspace(0xa0) && !ascii_isspace(-1));
  T_ASSERT(ascii_isxdigit('F') && !ascii_isxdigit('g'));
  T_EQ_INT(ascii_tolower('Q'), 'q');
  T_EQ_INT(ascii_toupper('q'), 'Q');
  T_EQ_INT(ascii_toupper('1'), '1');

  char buf[8];
  T_EQ_UINT(chive_strlcpy(buf, "hello", sizeof(buf)), 5);
  T_EQ_STR(buf, "hello");
  T_EQ_UINT(chive_strlcpy(buf, "much too long", sizeof(buf)), 13);
  T_EQ_STR(buf, "much to");
  T_EQ_UINT(chive_strlcpy(buf, "x", 0), 1);
  chive_strlcpy(buf, "ab", sizeof(buf));
  T_EQ_UINT(chive_strlcat(buf, "cd", sizeof(buf)), 4);
  T_EQ_STR(buf, "abcd");
  T_EQ_UINT(chive_strlcat(buf, "efghij", sizeof(buf)), 10);
  T_EQ_STR(buf, "abcdefg");

  size_t len = 0;
  T_OK(chive_snprintf(buf, sizeof(buf), &len, "%d-%s", 42, "x"));
  T_EQ_STR(buf, "42-x");
  T_EQ_UINT(len, 4);
  T_EQ_INT(chive_snprintf(buf, sizeof(buf), &len, "%s", "0123456789"),
           CHIVE_ERR_LIMIT);
  T_EQ_STR(buf, "0123456");
  T_EQ_UINT(len, 7);
  T_EQ_INT(chive_snprintf(buf, 0, NULL, "x"), CHIVE_ERR_INVAL);
done:
  return;
}

static void
test_strbuf(void)
{
  strbuf_t sb;
  char *s = NULL;
  strbuf_init(&sb, 10);
  T_EQ_STR(strbuf_str(&sb), "");
  T_OK(strbuf_addstr(&sb, "abc"));
  T_OK(strbuf_addc(&sb, '-'));
  T_OK(strbuf_addf(&sb, "%02d", 7));
  T_EQ_STR(strbuf_str(&sb), "abc-07");
  T_EQ_UINT(strbuf_len(&sb), 6);
  /* Truncation appends what fits, then sticks. */
  T_EQ_INT(strbuf_addf(&sb, "%s", "123456"), CHIVE_ERR_LIMIT);
  T_EQ_STR(strbuf_str(&sb), "abc-071234");
  T_ASSERT(strbuf_truncated(&sb));
  T_EQ_INT(strbuf_addstr(&sb, ""), CHIVE_ERR_LIMIT);
  T_EQ_UINT(strbuf_len(&sb), 10);
  strbuf_reset(&sb);
  T_ASSERT(!strbuf_truncated(&sb));
  T_EQ_STR(strbuf_str(&sb), "");
  T_EQ_INT(strbuf_add(&sb, "0123456789AB", 12), CHIVE_ERR_LIMIT);
  T_EQ_STR(strbuf_str(&sb), "0123456789");
  strbuf_clear(&sb);

  /* Growth across many appends; steal hands over the string. */
  strbuf_init(&sb, 100000);
  for (int i = 0; i < 1000; i++)
    T_OK(strbuf_addf(&sb, "%d,", i % 10));
  T_EQ_UINT(strbuf_len(&sb), 2000);
  size_t len = 0;
  s = strbuf_steal(&sb, &len);
  T_ASSERT(s);
  T_EQ_UINT(len, 2000);
  T_ASSERT(str_starts_with(s, "0,1,2,"));
  T_EQ_UINT(strbuf_len(&sb), 0);
  chive_free_and_null(s);
  s = strbuf_steal(&sb, NULL);
  T_EQ_STR(s, "");
  chive_free_and_null(s);

  /* OOM leaves the buffer unchanged and usable. */
  T_OK(strbuf_addstr(&sb, "keep"));
  chive_mem_fail_nth(1, false);
  char big[200];
  memset(big, 'x', sizeof(big));
  T_EQ_INT(strbuf_add(&sb, big, sizeof(big)), CHIVE_ERR_NOMEM);
  T_EQ_STR(strbuf_str(&sb), "keep");
  T_EQ_INT(strbuf_addf(&sb, "%200s", "y"), CHIVE_OK);
  T_EQ_UINT(strbuf_len(&sb), 204);
  chive_mem_fail_nth(1, false);
  T_EQ_INT(strbuf_addf(&sb, "%300s", "y"), CHIVE_ERR_NOMEM);
  T_EQ_UINT(strbuf_len(&sb), 204);
  chive_mem_fail_nth(0, false);
done:
  chive_mem_fail_nth(0, false);
  chive_free(s);
  strbuf_clear(&sb);
}

static const t_case cases[] = {
    T_CASE(test_torrc_basic),
    T_CASE(test_torrc_crlf_and_prefixes),
    T_CASE(test_torrc_continuation),
    T_CASE(test_torrc_quoted),
    T_CASE(test_torrc_errors),
    T_CASE(test_torrc_limits),
    T_CASE(test_torrc_iterator),
    T_CASE(test_torrc_every_prefix),
    T_CASE(test_torrc_round_trip),
    T_CASE(test_torrc_oom),
    T_CASE(test_cstring),
    T_CASE(test_str_helpers),
    T_CASE(test_strbuf),
    T_END,
};
T_MAIN(cases)
