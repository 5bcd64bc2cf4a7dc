#!/bin/sh
# Run the whole test suite: the README's test command, and what CI runs.
#
#   scripts/test.sh            gcc build + ctest, then clang ASan+UBSan build
#                              + ctest (without the C tor reference runs of
#                              the SOCKS suite and the benchmark smoke test,
#                              which the gcc pass runs)
#
# Environment:
#   CHIVE_TEST_JOBS     parallel build jobs (default: number of cores)
#   CHIVE_SKIP_ASAN=1   skip the sanitizer pass (quick local runs)
#   CHIVE_SKIP_INTEGRATION=1  skip tests that start the private network
#
# Ends with one line "N passed, N failed" summing every ctest run.
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
sh scripts/deps.sh all || exit 1

jobs=${CHIVE_TEST_JOBS:-$(nproc 2>/dev/null || echo 2)}
total_pass=0
total_fail=0
status=0
logdir=$root/build-test/logs
mkdir -p "$logdir"

# run_suite NAME BUILD_DIR EXCLUDE_REGEX CMAKE_ARGS...
run_suite() {
  name=$1; dir=$2; exclude=$3; shift 3
  echo "=== [$name] configure + build ($dir)"
  if ! cmake -S "$root" -B "$dir" -DCHIVE_WERROR=ON "$@" \
        >"$logdir/$name-configure.log" 2>&1; then
    cat "$logdir/$name-configure.log"
    echo "=== [$name] configure FAILED"; total_fail=$((total_fail + 1))
    status=1; return
  fi
  if ! cmake --build "$dir" -j "$jobs" >"$logdir/$name-build.log" 2>&1; then
    grep -E 'error|warning' -A3 "$logdir/$name-build.log" | head -80
    echo "=== [$name] build FAILED"; total_fail=$((total_fail + 1))
    status=1; return
  fi
  echo "=== [$name] ctest"
  (cd "$dir" && ctest --output-on-failure -j "$jobs" \
       --timeout 1500 ${exclude:+-E "$exclude"}) 2>&1 |
    tee "$logdir/$name-ctest.log"
  line=$(grep -E '^[0-9]+% tests passed' "$logdir/$name-ctest.log" | tail -1)
  # "95% tests passed, 2 tests failed out of 40"
  failed=$(echo "$line" | sed -n 's/.* \([0-9][0-9]*\) tests* failed out of \([0-9][0-9]*\).*/\1/p')
  outof=$(echo "$line" | sed -n 's/.* failed out of \([0-9][0-9]*\).*/\1/p')
  if [ -z "$line" ] || [ -z "$outof" ]; then
    echo "=== [$name] ctest produced no summary"
    total_fail=$((total_fail + 1)); status=1; return
  fi
  total_pass=$((total_pass + outof - failed))
  total_fail=$((total_fail + failed))
  [ "$failed" -eq 0 ] || status=1
}

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:strict_string_checks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
run_suite gcc "$root/build-test/gcc" "" -DCMAKE_C_COMPILER=gcc \
  -DCMAKE_BUILD_TYPE=Debug
if [ "${CHIVE_SKIP_ASAN:-0}" != 1 ]; then
  # The sanitizer run checks chive's code: the C tor reference runs of the
  # SOCKS suite (they validate the tests, not chive) and the benchmark
  # smoke test (timings under ASan mean nothing) ran in the gcc suite.
  run_suite asan "$root/build-test/asan" '^(socks[.]ctor[.]|chive[.]bench$)' \
    -DCMAKE_C_COMPILER=clang \
    -DCMAKE_BUILD_TYPE=Debug -DCHIVE_SANITIZE=address,undefined
fi

echo "=== summary (all ctest runs)"
echo "$total_pass passed, $total_fail failed"
exit $status
