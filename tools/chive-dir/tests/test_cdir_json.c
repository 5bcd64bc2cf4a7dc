/* Tests of chive-dir's JSON writer: string escaping (RFC 8259 §7, with
 * invalid UTF-8 replaced by U+FFFD) and comma/nesting placement. */
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "cdir_json.h"

static int n_fail = 0;

/** Run <b>fn</b> against a temporary stream and compare what it wrote
 * with <b>want</b>. */
static void
check_output(const char *name, void (*fn)(FILE *), const char *want)
{
  char buf[1024];
  FILE *f = tmpfile();
  if (!f) {
    fprintf(stderr, "FAIL %s: tmpfile\n", name);
    n_fail++;
    return;
  }
  fn(f);
  long n = ftell(f);
  rewind(f);
  size_t got = (n > 0 && (size_t)n < sizeof(buf))
                   ? fread(buf, 1, (size_t)n, f) : 0;
  buf[got] = '\0';
  fclose(f);
  if (strcmp(buf, want) != 0) {
    fprintf(stderr, "FAIL %s:\n  got  %s\n  want %s\n", name, buf, want);
    n_fail++;
  } else {
    printf("ok   %s\n", name);
  }
}

static void
esc_plain(FILE *f)
{
  jw_write_escaped(f, "abc", 3);
}

static void
esc_specials(FILE *f)
{
  const char s[] = "q\"b\\s/\n\r\t\b\f\x01\x1f\x7f";
  jw_write_escaped(f, s, sizeof(s) - 1);
}

static void
esc_nul(FILE *f)
{
  jw_write_escaped(f, "a\0b", 3);
}

static void
esc_utf8_valid(FILE *f)
{
  /* U+00E9, U+20AC, U+1F600 pass through unchanged. */
  const char s[] = "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80";
  jw_write_escaped(f, s, sizeof(s) - 1);
}

static void
esc_utf8_invalid(FILE *f)
{
  /* Lone continuation, overlong '/', surrogate U+D800, above U+10FFFF,
   * truncated 3-byte sequence at the end. */
  const char s[] = "\x80|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80|\xe2\x82";
  jw_write_escaped(f, s, sizeof(s) - 1);
}

static void
nesting(FILE *f)
{
  jw_t w;
  jw_init(&w, f);
  jw_obj_begin(&w);
  jw_key(&w, "a");
  jw_int(&w, -5);
  jw_key(&w, "b");
  jw_arr_begin(&w);
  jw_uint(&w, 1);
  jw_bool(&w, true);
  jw_null(&w);
  jw_obj_begin(&w);
  jw_obj_end(&w);
  jw_str(&w, NULL);
  jw_arr_end(&w);
  jw_key(&w, "c\"");
  jw_double3(&w, 1.5);
  jw_key(&w, "d");
  jw_arr_begin(&w);
  jw_arr_end(&w);
  jw_obj_end(&w);
  if (!jw_finish(&w))
    fputs("UNBALANCED", f);
}

static void
unbalanced(FILE *f)
{
  jw_t w;
  jw_init(&w, f);
  jw_obj_begin(&w);
  jw_key(&w, "x");
  fputs(jw_finish(&w) ? "balanced" : "unbalanced", f);
}

int
main(void)
{
  check_output("escape plain", esc_plain, "\"abc\"");
  check_output("escape specials", esc_specials,
               "\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\x7f\"");
  check_output("escape NUL", esc_nul, "\"a\\u0000b\"");
  check_output("utf-8 valid", esc_utf8_valid,
               "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
  check_output("utf-8 invalid", esc_utf8_invalid,
               "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
               "\\ufffd\\ufffd\\ufffd\\ufffd|\\ufffd\\ufffd\"");
  check_output("nesting and commas", nesting,
               "{\"a\":-5,\"b\":[1,true,null,{},null],\"c\\\"\":1.500,"
               "\"d\":[]}\n");
  check_output("unbalanced detected", unbalanced, "{\"x\":\nunbalanced");
  if (n_fail) {
    fprintf(stderr, "%d failure(s)\n", n_fail);
    return 1;
  }
  return 0;
}
