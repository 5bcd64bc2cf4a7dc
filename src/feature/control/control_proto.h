/**
 * @file control_proto.h
 * @brief The control-port wire protocol, sans-I/O: command framing,
 * argument tokenizing against a declarative syntax table, and reply /
 * event formatting (control-spec §2, §4).
 *
 * Three independent pieces, none of which does I/O or logging:
 *
 * - control_framer_t turns the controller's byte stream into complete
 *   commands (control_cmd_t): one CRLF- (or LF-) terminated line, or a
 *   "+" command whose dot-encoded data block ends with a line holding a
 *   single "." (control-spec §2.2, §2.4 CmdData).  Lines and data blocks
 *   are bounded; any failure is sticky and means "close the connection".
 *
 * - control_args_parse() splits a command's argument line into
 *   positional words and keyword arguments (Key=Value, Key="Quoted",
 *   bare flags, bare values) as a control_cmd_syntax_t describes.  The
 *   command dispatcher keeps one syntax per command, tor-style.
 *
 * - control_outbuf_t and the control_reply_*() functions build replies
 *   (control-spec §2.3, §4) and asynchronous events ("650 ...") into a
 *   bounded output buffer.  Every builder is atomic: on failure nothing
 *   was appended.  No reply line can carry a bare CR or LF taken from a
 *   value: line text has them escaped, data blocks are dot-encoded.
 **/
#ifndef CHIVE_FEATURE_CONTROL_CONTROL_PROTO_H
#define CHIVE_FEATURE_CONTROL_CONTROL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "chive/error.h"
#include "lib/cc/cc.h"
#include "lib/text/strbuf.h"

/* ------------------------------------------------------------------ */
/* Limits                                                             */
/* ------------------------------------------------------------------ */

/** Longest controller line we accept, in bytes, counting the CRLF.  The
 * spec sets no limit (§2.1); tor caps a whole command at 1 MiB.  64 KiB
 * is far above any real command line (SETCONF of a long list, ADD_ONION
 * with a key) and bounds what one connection can make us buffer. */
#define CONTROL_MAX_LINE_LEN ((size_t)64 * 1024)
/** Largest decoded data block of a "+" command, in bytes (tor's 1 MiB
 * command cap; POSTDESCRIPTOR / LOADCONF / HSPOST bodies fit easily). */
#define CONTROL_MAX_DATA_LEN ((size_t)1024 * 1024)
/** Most positional plus keyword arguments in one command. */
#define CONTROL_MAX_ARGS 1024u
/** Size of the error-message buffer control_args_parse() fills. */
#define CONTROL_ERRMSG_LEN 256
/** A reasonable cap for one connection's pending output, in bytes (a
 * full "GETINFO ns/all" is a few MiB). */
#define CONTROL_OUTBUF_DEFAULT_MAX ((size_t)16 * 1024 * 1024)

/** "No upper bound" for control_cmd_syntax_t.max_args. */
#define CONTROL_ARGS_UNLIMITED ((unsigned)-1)

/* Status codes (control-spec §4). */
#define CONTROL_CODE_OK 250                  /**< OK */
#define CONTROL_CODE_UNNECESSARY 251         /**< Operation was unnecessary */
#define CONTROL_CODE_EXHAUSTED 451           /**< Resource exhausted */
#define CONTROL_CODE_SYNTAX_PROTO 500        /**< Syntax error: protocol */
#define CONTROL_CODE_UNRECOGNIZED 510        /**< Unrecognized command */
#define CONTROL_CODE_UNIMPLEMENTED 511       /**< Unimplemented command */
#define CONTROL_CODE_SYNTAX_ARG 512          /**< Syntax error in argument */
#define CONTROL_CODE_UNRECOGNIZED_ARG 513    /**< Unrecognized argument */
#define CONTROL_CODE_AUTH_REQUIRED 514       /**< Authentication required */
#define CONTROL_CODE_BAD_AUTH 515            /**< Bad authentication */
#define CONTROL_CODE_UNSPECIFIED 550         /**< Unspecified Tor error */
#define CONTROL_CODE_INTERNAL 551            /**< Internal error */
#define CONTROL_CODE_UNRECOGNIZED_ENTITY 552 /**< Unrecognized entity */
#define CONTROL_CODE_INVALID_CONFIG 553 /**< Invalid configuration value */
#define CONTROL_CODE_INVALID_DESC 554   /**< Invalid descriptor */
#define CONTROL_CODE_UNMANAGED 555      /**< Unmanaged entity */
#define CONTROL_CODE_EVENT 650          /**< Asynchronous event */

/* Reply-line separators (control-spec §2.3). */
#define CONTROL_SEP_END ' '  /**< EndReplyLine */
#define CONTROL_SEP_MID '-'  /**< MidReplyLine */
#define CONTROL_SEP_DATA '+' /**< DataReplyLine: CmdData follows */

/* ------------------------------------------------------------------ */
/* Commands and framing                                               */
/* ------------------------------------------------------------------ */

/** One complete command from the controller.  Every string is
 * NUL-terminated and contains no NUL (the framer rejects NUL bytes).
 * Owns its strings; release with control_cmd_clear(), which wipes them
 * (an AUTHENTICATE line holds a password). */
typedef struct control_cmd_t {
  /** The keyword, ASCII upper-cased, without a leading "+"; may be ""
   * (an empty line).  Commands are case-insensitive (§3). */
  char *keyword;
  /** The keyword as sent (without the "+"), for error messages. */
  char *keyword_raw;
  /** True iff this was a "+" command carrying a data block. */
  bool is_data;
  /** The rest of the first line after the keyword and the whitespace
   * that follows it, without the line terminator.  Never NULL. */
  char *args;
  size_t args_len;
  /** The dot-decoded data block of a "+" command: each data line with
   * its leading "." unstuffed and its CRLF (or LF) turned into one LF.
   * NULL iff !is_data. */
  char *data;
  size_t data_len;
} control_cmd_t;

/** Release and wipe everything <b>cmd</b> owns; leaves it zeroed.
 * Safe on a zeroed command. */
void control_cmd_clear(control_cmd_t *cmd);

/** A streaming command framer.  Embed it; init/clear.  Not copyable. */
typedef struct control_framer_t {
  strbuf_t line;       /**< the current, incomplete line */
  strbuf_t first;      /**< first line of a "+" command being read */
  strbuf_t data;       /**< decoded data block so far */
  bool in_data;        /**< reading the data block of a "+" command */
  chive_err_t err;     /**< sticky failure, CHIVE_OK while healthy */
  size_t max_line_len; /**< per line, counting the terminator */
  size_t max_data_len; /**< decoded data block */
} control_framer_t;

/** Initialise <b>f</b> with the given limits (0 means the default
 * CONTROL_MAX_LINE_LEN / CONTROL_MAX_DATA_LEN).  Allocates nothing. */
void control_framer_init(control_framer_t *f, size_t max_line_len,
                         size_t max_data_len);
/** Wipe and free everything buffered in <b>f</b>. */
void control_framer_clear(control_framer_t *f);

/** Feed up to <b>in_len</b> bytes of controller input to <b>f</b>.
 *
 * Consumes bytes until one command is complete, then stops:
 * - CHIVE_OK: *<b>cmd_out</b> holds the command (caller clears it with
 *   control_cmd_clear()); *<b>consumed</b> is the number of bytes used,
 *   through the command's final LF.  Call again with the rest.
 * - CHIVE_ERR_TRUNCATED: everything was consumed (and buffered); no
 *   command is complete yet.
 * - CHIVE_ERR_LIMIT: a line or a data block is over its limit (tor
 *   answers "500 Line too long." and closes).
 * - CHIVE_ERR_PROTO: a NUL byte in the input.
 * - CHIVE_ERR_NOMEM.
 * Failures are sticky: every later call returns the same error and
 * consumes nothing.  *<b>cmd_out</b> is written only on CHIVE_OK;
 * *<b>consumed</b> is always written. */
CHIVE_MUST_CHECK chive_err_t control_framer_feed(control_framer_t *f,
                                                 const uint8_t *in,
                                                 size_t in_len,
                                                 size_t *consumed,
                                                 control_cmd_t *cmd_out);

/** Return true iff <b>f</b> holds part of a command. */
bool control_framer_has_partial(const control_framer_t *f);

/* ------------------------------------------------------------------ */
/* Arguments                                                          */
/* ------------------------------------------------------------------ */

/** Keyword-argument flags for control_cmd_syntax_t.kv_flags. */
/** Bare values with no "Key=" are allowed (their key is ""). */
#define CONTROL_KV_OMIT_KEYS (1u << 0)
/** Bare keys with no "=Value" are allowed (flags; their value is ""). */
#define CONTROL_KV_OMIT_VALS (1u << 1)
/** "..." values are allowed and decoded as C strings (\\n \\t \\r \\"
 * \\\\ \\' \\xHH \\ooo), as tor's KV_QUOTED does (SETCONF, ADD_ONION). */
#define CONTROL_KV_QUOTED (1u << 2)
/** "..." values are allowed and decoded as QuotedStrings (a backslash
 * makes the next byte literal; control-spec §2.1.1), as for
 * AUTHENTICATE and AUTHCHALLENGE.  Exclusive with CONTROL_KV_QUOTED. */
#define CONTROL_KV_QSTRING (1u << 3)

/** How one command's arguments are shaped.  The dispatcher keeps a
 * const table of these, one per command (tor's control_cmd_syntax_t).
 *
 * The argument line is split at whitespace into at most max_args
 * positional words.  If more text follows and accept_keywords is set,
 * the rest of the line is parsed as keyword arguments under kv_flags;
 * otherwise the extra text is an error. */
typedef struct control_cmd_syntax_t {
  unsigned min_args; /**< fewest positional words */
  unsigned max_args; /**< most positional words, or CONTROL_ARGS_UNLIMITED */
  bool accept_keywords; /**< parse what follows as keyword arguments */
  unsigned kv_flags;    /**< CONTROL_KV_* */
  /** NULL-terminated list of permitted keys (compared ignoring case), or
   * NULL to permit any key. */
  const char *const *allowed_keywords;
  bool want_data; /**< a "+" command with a data block */
  bool wipe;      /**< the arguments are secret (wipe after use) */
} control_cmd_syntax_t;

/** One keyword argument. */
typedef struct control_kv_t {
  char *key;        /**< "" for a bare value (CONTROL_KV_OMIT_KEYS) */
  char *value;      /**< "" for a bare key (CONTROL_KV_OMIT_VALS) */
  size_t value_len; /**< strlen(value) (decoding never yields a NUL) */
  bool quoted;      /**< the value was a quoted string */
} control_kv_t;

/** Parsed arguments.  Owns everything; release with
 * control_args_clear(). */
typedef struct control_args_t {
  char **args; /**< positional words */
  size_t n_args;
  control_kv_t *kv; /**< keyword arguments, in order */
  size_t n_kv;
  bool wipe; /**< wipe on clear (copied from the syntax) */
} control_args_t;

/** Parse the arguments of <b>cmd</b> according to <b>syn</b> into
 * *<b>out</b> (overwritten; caller clears it on success).
 *
 * Returns CHIVE_OK, or on failure CHIVE_ERR_PROTO (bad syntax: tor
 * answers 512 "Bad arguments to KEYWORD: <errmsg>"), CHIVE_ERR_LIMIT
 * (more than CONTROL_MAX_ARGS arguments), CHIVE_ERR_INVAL (a data
 * block where none belongs or the reverse) or CHIVE_ERR_NOMEM.  On
 * failure *out is left zeroed and, if <b>errmsg</b> is not NULL, a
 * human-readable reason (tor's wording, e.g. "Need at least 1
 * argument(s)") is written there, NUL-terminated and truncated to
 * <b>errmsg_len</b>.  Peer-supplied text in the message is quoted and
 * escaped. */
CHIVE_MUST_CHECK chive_err_t
control_args_parse(const control_cmd_t *cmd, const control_cmd_syntax_t *syn,
                   control_args_t *out, char *errmsg, size_t errmsg_len);

/** Release (and wipe, if args->wipe) everything <b>args</b> owns; leaves
 * it zeroed.  Safe on a zeroed struct. */
void control_args_clear(control_args_t *args);

/** Return the first keyword argument whose key equals <b>key</b>
 * ignoring case, or NULL.  Borrowed. */
const control_kv_t *control_args_find_kv(const control_args_t *args,
                                         const char *key);

/** Decode the quoted string at the start of the <b>in_len</b> bytes at
 * <b>in</b> (in[0] MUST be '"').  <b>qstring</b> selects QuotedString
 * rules (backslash quotes the next byte) instead of C-string rules (see
 * CONTROL_KV_QUOTED).  Writes the decoded text, NUL-terminated, to
 * <b>out</b> (<b>out_len</b> bytes; in_len is always enough), sets
 * *<b>n_out</b> to its length and *<b>consumed</b> to the bytes read
 * including both quotes.  Returns CHIVE_ERR_TRUNCATED if no closing
 * quote, CHIVE_ERR_PROTO for a bad escape, a raw NUL/CR/LF or a decoded
 * NUL, CHIVE_ERR_LIMIT if out is too small. */
CHIVE_MUST_CHECK chive_err_t control_unquote(const char *in, size_t in_len,
                                             bool qstring, char *out,
                                             size_t out_len, size_t *n_out,
                                             size_t *consumed);

/* ------------------------------------------------------------------ */
/* Output                                                             */
/* ------------------------------------------------------------------ */

/** A bounded, growable output buffer of reply bytes for one control
 * connection.  The listener copies control_outbuf_data() to the socket
 * and calls control_outbuf_drain().  Wiped when it shrinks or grows
 * (replies can carry keys, e.g. ADD_ONION). */
typedef struct control_outbuf_t {
  uint8_t *buf;
  size_t len;
  size_t cap;
  size_t max_len;
} control_outbuf_t;

/** Initialise <b>o</b> empty, holding at most <b>max_len</b> bytes (0
 * means CONTROL_OUTBUF_DEFAULT_MAX). */
void control_outbuf_init(control_outbuf_t *o, size_t max_len);
/** Wipe and free the contents. */
void control_outbuf_clear(control_outbuf_t *o);
/** Borrowed view of the pending bytes (NULL when empty). */
static inline const uint8_t *
control_outbuf_data(const control_outbuf_t *o)
{
  return o->buf;
}
static inline size_t
control_outbuf_len(const control_outbuf_t *o)
{
  return o->len;
}
/** Remove the first <b>n</b> bytes (all of them if n >= len). */
void control_outbuf_drain(control_outbuf_t *o, size_t n);
/** Append <b>n</b> raw bytes (already formatted reply text, e.g. a
 * reply composed in another outbuf).  All or nothing: CHIVE_ERR_LIMIT or
 * CHIVE_ERR_NOMEM with nothing appended. */
CHIVE_MUST_CHECK chive_err_t control_outbuf_append(control_outbuf_t *o,
                                                   const void *p, size_t n);

/** Append "CODE SEP TEXT CRLF" (control-spec §2.3).  <b>code</b> must be
 * 100..999 and <b>sep</b> one of CONTROL_SEP_*; otherwise
 * CHIVE_ERR_INVAL.  CR, LF and NUL bytes in the <b>len</b> bytes of
 * <b>text</b> are written as the escapes \\r, \\n, \\000 so a value can
 * never end the line early.  With CONTROL_SEP_DATA the caller must
 * follow with control_reply_cmddata().  Returns CHIVE_ERR_LIMIT (over
 * the buffer's max) or CHIVE_ERR_NOMEM with nothing appended. */
CHIVE_MUST_CHECK chive_err_t control_reply_line(control_outbuf_t *o,
                                                unsigned code, char sep,
                                                const char *text, size_t len);
/** control_reply_line() with NUL-terminated <b>text</b>. */
CHIVE_MUST_CHECK chive_err_t control_reply_str(control_outbuf_t *o,
                                               unsigned code, char sep,
                                               const char *text);
/** control_reply_line() with printf-formatted text. */
CHIVE_MUST_CHECK chive_err_t control_reply_printf(control_outbuf_t *o,
                                                  unsigned code, char sep,
                                                  const char *fmt, ...)
    CHIVE_PRINTF(4, 5);
/** Append "250 OK\\r\\n". */
CHIVE_MUST_CHECK chive_err_t control_reply_ok(control_outbuf_t *o);

/** Append <b>len</b> bytes of <b>data</b> as CmdData (control-spec §2.4):
 * every LF not already preceded by CR becomes CRLF, a "." starting a
 * line is doubled, a final CRLF is added if missing, and the block ends
 * with ".\\r\\n".  Empty data is just ".\\r\\n". */
CHIVE_MUST_CHECK chive_err_t control_reply_cmddata(control_outbuf_t *o,
                                                   const char *data,
                                                   size_t len);
/** Append a whole data reply: "CODE+HEAD CRLF" then the CmdData of
 * <b>data</b> (e.g. head "config-text=" or "ns/all="). */
CHIVE_MUST_CHECK chive_err_t control_reply_data(control_outbuf_t *o,
                                                unsigned code,
                                                const char *head,
                                                const char *data, size_t len);
/** Append "CODE SEP KEY=VALUE CRLF", quoting the value (see
 * control_format_kv()). */
CHIVE_MUST_CHECK chive_err_t control_reply_kv(control_outbuf_t *o,
                                              unsigned code, char sep,
                                              const char *key,
                                              const char *value,
                                              size_t value_len);
/** Append a one-line asynchronous event "650 TEXT CRLF" (control-spec
 * §4.1), e.g. control_event_printf(o, "CIRC %u BUILT %s", id, path).
 * Multi-line events use control_reply_*() with CONTROL_CODE_EVENT and
 * end with control_reply_str(o, 650, ' ', "OK"). */
CHIVE_MUST_CHECK chive_err_t control_event_printf(control_outbuf_t *o,
                                                  const char *fmt, ...)
    CHIVE_PRINTF(2, 3);

/* ------------------------------------------------------------------ */
/* Text helpers (on strbuf_t, for composing reply text)               */
/* ------------------------------------------------------------------ */

/** Append the <b>len</b> bytes at <b>s</b> to <b>sb</b> as a quoted
 * string: backslash and double quote escaped, \\n \\r \\t by name, other
 * bytes outside printable ASCII as three octal digits (tor's output
 * "QuotedString", really a CString, control-spec §2.1.1).  The result
 * never contains a raw CR, LF or NUL. */
CHIVE_MUST_CHECK chive_err_t control_quote(strbuf_t *sb, const char *s,
                                           size_t len);
/** Return true iff a value must be quoted to be sent as KEY=VALUE: it
 * holds whitespace, a quote, an apostrophe, or a byte outside printable
 * ASCII (tor's rule; an empty value is sent as "KEY="). */
bool control_value_needs_quote(const char *s, size_t len);
/** Append "KEY=VALUE" to <b>sb</b>, quoting VALUE with control_quote()
 * iff control_value_needs_quote(). */
CHIVE_MUST_CHECK chive_err_t control_format_kv(strbuf_t *sb, const char *key,
                                               const char *value,
                                               size_t value_len);

#endif /* !defined(CHIVE_FEATURE_CONTROL_CONTROL_PROTO_H) */
