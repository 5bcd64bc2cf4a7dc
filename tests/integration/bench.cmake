# chive.bench: chive-bench's quick mode as a CI smoke test (issue #6).
# Runs inside the shared test network's namespace (the fixture's network,
# so no second network is started), with chive and the C tor client side
# by side.  It passes when the run completes, every hard floor that could
# be measured holds (circuit p95 < 5 s, RSS < 50 MB, 100 concurrent
# streams without errors) and the JSON it wrote parses; timing ratios
# against C tor are printed, never failed on.
if(TARGET chive_bench AND TARGET chive_daemon)
  chive_add_testnet_test(NAME chive.bench
    COMMAND /bin/sh -c
      "\"$0\" --inside --quick --json \"$1/chive-bench.json\" --svg \"$1/chive-bench.svg\" --workdir \"$1/chive-bench-work\" && /usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[\"tool\"]==\"chive-bench\" and d[\"clients\"][\"chive\"]; print(\"chive.bench: JSON valid\")' \"$1/chive-bench.json\""
      $<TARGET_FILE:chive_bench> ${CMAKE_BINARY_DIR}
    TIMEOUT 300
    LABELS bench)
endif()
