/**
 * @file streams.c
 * @brief Client streams.  SKELETON: being implemented (issue #5).
 **/
#include "lib/cc/compat.h"

#include "app/client_st.h"
#include "app/streams.h"

struct app_stream_t {
  uint64_t id;
};

chive_err_t streams_start(chive_client_t *c) { (void)c; return CHIVE_OK; }
void streams_stop(chive_client_t *c) { (void)c; }
uint64_t app_stream_id(const app_stream_t *st) { return st->id; }
