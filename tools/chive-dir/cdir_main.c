/**
 * @file cdir_main.c
 * @brief chive-dir: parse and verify Tor directory documents (consensus,
 * authority certificates, microdescriptors) with the library code the
 * client itself uses, and report what was found, for people (an aligned
 * table) and for scripts (--json).
 *
 * Exit status: 0 the consensus verified; 1 verification failed (too few
 * valid signatures, or outside its validity period at the check time);
 * 2 usage error; 3 an input could not be read or parsed.
 **/
#include "lib/cc/compat.h"

#include <stdio.h>
#include <string.h>

#include "cdir_output.h"
#include "cdir_verify.h"
#include "lib/fs/fs.h"
#include "lib/malloc/malloc.h"

#define EXIT_VALID 0
#define EXIT_INVALID 1
#define EXIT_USAGE 2
#define EXIT_INPUT 3

static void
usage(FILE *out)
{
  fputs(
      "usage: chive-dir verify --consensus FILE --certs FILE\n"
      "                 [--microdescs FILE]... [--at 'YYYY-MM-DD HH:MM:SS']\n"
      "                 [--authority-line 'DirAuthority line']... |\n"
      "                 [--authorities-from-certs] [--json]\n"
      "       chive-dir show-consensus FILE\n"
      "\n"
      "verify   parse and verify a consensus (either flavor) against\n"
      "         authority certificates, match microdescriptors, and report.\n"
      "         Authorities: the live network's built-in ones by default;\n"
      "         --authority-line (repeatable, torrc DirAuthority value,\n"
      "         v3ident= required) or --authorities-from-certs (every\n"
      "         certificate's identity, for private networks) instead.\n"
      "         --at sets the check time (UTC); default: now.\n"
      "show-consensus  parse a consensus and list its routers.\n"
      "\n"
      "exit status: 0 valid, 1 verification failed (signatures or time),\n"
      "2 usage error, 3 unreadable or unparseable input.  Missing\n"
      "microdescriptors are reported but do not fail verification.\n",
      out);
}

/** If argv[*i] is option <b>name</b> taking a value ("--x V" or
 * "--x=V"), set *<b>val</b>, advance *<b>i</b> and return 1; return 0
 * if it is another option; -1 if the value is missing. */
static int
opt_value(int argc, char **argv, int *i, const char *name, const char **val)
{
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n) != 0)
    return 0;
  if (a[n] == '=') {
    *val = a + n + 1;
    return 1;
  }
  if (a[n] != '\0')
    return 0;
  if (*i + 1 >= argc)
    return -1;
  *val = argv[++*i];
  return 1;
}

/** Parse the arguments of "verify" into <b>o</b>; return false (after
 * printing why) on a usage error. */
static bool
parse_verify_args(int argc, char **argv, cdir_opts_t *o, bool *json)
{
  memset(o, 0, sizeof(*o));
  for (int i = 2; i < argc; i++) {
    const char *v = NULL;
    int r;
    if (strcmp(argv[i], "--json") == 0) {
      *json = true;
    } else if (strcmp(argv[i], "--authorities-from-certs") == 0) {
      o->authorities_from_certs = true;
    } else if ((r = opt_value(argc, argv, &i, "--consensus", &v)) != 0) {
      if (r < 0)
        goto missing;
      o->consensus_path = v;
    } else if ((r = opt_value(argc, argv, &i, "--certs", &v)) != 0) {
      if (r < 0)
        goto missing;
      o->certs_path = v;
    } else if ((r = opt_value(argc, argv, &i, "--microdescs", &v)) != 0) {
      if (r < 0)
        goto missing;
      if (o->n_md_paths == CDIR_MAX_MD_FILES) {
        fprintf(stderr, "chive-dir: at most %d --microdescs files\n",
                CDIR_MAX_MD_FILES);
        return false;
      }
      o->md_paths[o->n_md_paths++] = v;
    } else if ((r = opt_value(argc, argv, &i, "--authority-line", &v)) !=
               0) {
      if (r < 0)
        goto missing;
      if (o->n_auth_lines == CDIR_MAX_AUTH_LINES) {
        fprintf(stderr, "chive-dir: at most %d --authority-line options\n",
                CDIR_MAX_AUTH_LINES);
        return false;
      }
      o->auth_lines[o->n_auth_lines++] = v;
    } else if ((r = opt_value(argc, argv, &i, "--at", &v)) != 0) {
      if (r < 0)
        goto missing;
      if (cdir_parse_time(v, &o->at) != CHIVE_OK) {
        fprintf(stderr, "chive-dir: --at '%s': expected 'YYYY-MM-DD "
                "HH:MM:SS' (UTC)\n", v);
        return false;
      }
      o->have_at = true;
    } else {
      fprintf(stderr, "chive-dir: unknown argument '%s'\n", argv[i]);
      return false;
    }
  }
  if (!o->consensus_path || !o->certs_path) {
    fprintf(stderr, "chive-dir: verify needs --consensus and --certs\n");
    return false;
  }
  if (o->authorities_from_certs && o->n_auth_lines) {
    fprintf(stderr, "chive-dir: --authority-line and "
            "--authorities-from-certs exclude each other\n");
    return false;
  }
  return true;
missing:
  fprintf(stderr, "chive-dir: %s needs a value\n", argv[argc - 1]);
  return false;
}

static int
cmd_verify(int argc, char **argv)
{
  cdir_opts_t opts;
  bool json = false;
  if (!parse_verify_args(argc, argv, &opts, &json)) {
    usage(stderr);
    return EXIT_USAGE;
  }
  cdir_run_t run;
  cdir_run_verify(&opts, &run);
  int status;
  if (run.stage != CDIR_STAGE_OK) {
    fprintf(stderr, "chive-dir: error: %s\n", run.error);
    status = EXIT_INPUT;
  } else {
    status = cdir_run_ok(&run) ? EXIT_VALID : EXIT_INVALID;
  }
  if (json) {
    if (!cdir_print_json(stdout, &run))
      status = EXIT_INPUT; /* cannot happen: unbalanced JSON is a bug */
  } else if (run.stage == CDIR_STAGE_OK) {
    cdir_print_text(stdout, &run);
  }
  if (status == EXIT_INVALID) {
    /* The reason, also on stderr, for scripts that only keep stderr. */
    fprintf(stderr, "chive-dir: consensus '%s' did not verify: %s\n",
            opts.consensus_path,
            run.verify_err == CHIVE_ERR_EXPIRED
                ? "outside its validity period at the check time"
                : "not enough valid authority signatures");
  }
  cdir_run_clear(&run);
  if (fflush(stdout) != 0 && status == EXIT_VALID)
    status = EXIT_INPUT;
  return status;
}

static int
cmd_show_consensus(int argc, char **argv)
{
  if (argc != 3) {
    usage(stderr);
    return EXIT_USAGE;
  }
  uint8_t *buf = NULL;
  size_t len = 0;
  chive_err_t e = fs_read_file(argv[2], CDIR_MAX_CONSENSUS_BYTES, &buf,
                               &len);
  if (e) {
    fprintf(stderr, "chive-dir: error: consensus file '%s': %s\n", argv[2],
            e == CHIVE_ERR_NOTFOUND ? "no such file" : chive_err_str(e));
    return EXIT_INPUT;
  }
  ns_consensus_t *c = NULL;
  e = ns_consensus_parse((const char *)buf, len, &c);
  chive_free(buf);
  if (e) {
    fprintf(stderr, "chive-dir: error: consensus file '%s': parse error "
            "(%s)\n", argv[2], chive_err_str(e));
    return EXIT_INPUT;
  }
  cdir_print_routers(stdout, c);
  ns_consensus_free(c);
  return fflush(stdout) == 0 ? EXIT_VALID : EXIT_INPUT;
}

int
main(int argc, char **argv)
{
  if (argc < 2) {
    usage(stderr);
    return EXIT_USAGE;
  }
  if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
    usage(stdout);
    return EXIT_VALID;
  }
  if (strcmp(argv[1], "verify") == 0)
    return cmd_verify(argc, argv);
  if (strcmp(argv[1], "show-consensus") == 0)
    return cmd_show_consensus(argc, argv);
  fprintf(stderr, "chive-dir: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return EXIT_USAGE;
}
