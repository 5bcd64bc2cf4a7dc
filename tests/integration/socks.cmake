# SOCKS / streams proof suite (issue #5), included by tests/CMakeLists.txt.
#
#   socks.ctor.<group>    the reference C tor client: a test that fails
#                         here is a wrong test
#   socks.chive.<group>   the chive daemon, same checks
#
# Groups: fetch transfer concurrent isolation resolve badinput, and
# exitkill (label destructive: kills an exit of the shared network, then
# revives it; runs alone after every other test).  See
# tests/integration/test_socks.py.  CHIVE_TEST_HEAVY=0 in ctest's
# environment shrinks the 50 MiB transfers to 8 MiB and 1,000 concurrent
# streams to 300.

set(_socks_py ${CMAKE_CURRENT_LIST_DIR}/test_socks.py)
set(_socks_groups fetch transfer concurrent isolation resolve badinput)
set(_socks_timeout_fetch 120)
set(_socks_timeout_transfer 240)
set(_socks_timeout_concurrent 420)
set(_socks_timeout_isolation 180)
set(_socks_timeout_resolve 180)
set(_socks_timeout_badinput 420)
set(_socks_timeout_exitkill 300)

foreach(_g ${_socks_groups} exitkill)
  set(_labels socks)
  if(_g STREQUAL "exitkill")
    list(APPEND _labels destructive)
  endif()
  chive_add_testnet_test(NAME socks.ctor.${_g}
    COMMAND ${CHIVE_TESTNET_PYTHON} ${_socks_py} --client ctor
            --work ${CMAKE_BINARY_DIR}/socks-ctor ${_g}
    TIMEOUT ${_socks_timeout_${_g}}
    LABELS ${_labels})
  # heavy (50 MiB, 1,000 streams, 60 s stalls): one at a time, so that
  # timings do not depend on what else runs.  (A -j2 run once killed the
  # test HTTP server: it died of SIGPIPE when a client reset a connection
  # it was answering; fixed in tests/testnet/testnet.)
  set_tests_properties(socks.ctor.${_g} PROPERTIES RUN_SERIAL TRUE)
  if(TARGET chive_daemon)
    chive_add_testnet_test(NAME socks.chive.${_g}
      COMMAND ${CHIVE_TESTNET_PYTHON} ${_socks_py} --client chive
              --binary $<TARGET_FILE:chive_daemon>
              --work ${CMAKE_BINARY_DIR}/socks-chive ${_g}
      TIMEOUT ${_socks_timeout_${_g}}
      LABELS ${_labels})
    set_tests_properties(socks.chive.${_g} PROPERTIES RUN_SERIAL TRUE)
  endif()
endforeach()
