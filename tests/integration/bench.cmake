# chive.bench: chive-bench's quick mode as a CI smoke test (issue #6).
# Runs inside the shared test network's namespace (the fixture's network,
# so no second network is started), with chive and the C tor client side
# by side.  test_bench.py passes when the run completes, every hard floor
# holds (circuit p95 < 5 s, RSS < 50 MB, 100 concurrent streams without
# errors), the JSON has real samples of every quick-mode benchmark for
# both clients and the SVG parses with both series in both panels; timing
# ratios against C tor are printed, never failed on.
if(TARGET chive_bench AND TARGET chive_daemon)
  chive_add_testnet_test(NAME chive.bench
    COMMAND /usr/bin/python3
            ${CMAKE_CURRENT_SOURCE_DIR}/integration/test_bench.py
            $<TARGET_FILE:chive_bench> ${CMAKE_BINARY_DIR}/chive-bench
    TIMEOUT 300
    LABELS bench)
endif()
