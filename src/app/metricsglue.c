/**
 * @file metricsglue.c
 * @brief The client's metrics.  PLACEHOLDER being replaced by the metrics
 * work (issue #7): registers nothing yet.
 **/
#include "lib/cc/compat.h"

#include "app/client_st.h"
#include "app/metricsglue.h"

chive_err_t
metricsglue_start(chive_client_t *c)
{
  (void)c;
  return CHIVE_OK;
}

void
metricsglue_stop(chive_client_t *c)
{
  (void)c;
}
