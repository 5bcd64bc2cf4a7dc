/**
 * @file control.c
 * @brief The control port.  PLACEHOLDER being replaced by the control
 * port work (issue #7): opens nothing yet.
 **/
#include "lib/cc/compat.h"

#include "app/client_st.h"
#include "app/control.h"

chive_err_t
control_start(chive_client_t *c)
{
  (void)c;
  return CHIVE_OK;
}

void
control_stop(chive_client_t *c)
{
  (void)c;
}
