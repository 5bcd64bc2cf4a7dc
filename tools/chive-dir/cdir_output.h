/**
 * @file cdir_output.h
 * @brief chive-dir's two report formats for a verification run: an
 * aligned human-readable table, and one JSON object (--json).
 **/
#ifndef CHIVE_TOOLS_CDIR_OUTPUT_H
#define CHIVE_TOOLS_CDIR_OUTPUT_H

#include <stdbool.h>
#include <stdio.h>

#include "cdir_verify.h"

/** Print the human-readable report of <b>run</b> to <b>out</b>. */
void cdir_print_text(FILE *out, const cdir_run_t *run);

/** Print <b>run</b> as one JSON object (and a newline) to <b>out</b>.
 * Returns false if the writer detected unbalanced output (a bug). */
bool cdir_print_json(FILE *out, const cdir_run_t *run);

/** Print one line per router of <b>c</b> (show-consensus). */
void cdir_print_routers(FILE *out, const ns_consensus_t *c);

#endif /* !defined(CHIVE_TOOLS_CDIR_OUTPUT_H) */
