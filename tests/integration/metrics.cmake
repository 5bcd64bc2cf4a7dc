# Metrics integration tests (issue #7 part 4), included by
# tests/CMakeLists.txt.
if(TARGET chive_daemon)
  # MetricsPort on the private network: promtool-valid exposition,
  # counters that move with bootstrap and SOCKS traffic, bad HTTP input,
  # MetricsPortPolicy for non-loopback listeners.
  chive_add_testnet_test(NAME chive.metrics
    COMMAND /usr/bin/python3
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_metrics.py
            $<TARGET_FILE:chive_daemon> ${CMAKE_BINARY_DIR}/chive-metrics
    TIMEOUT 240)
endif()
