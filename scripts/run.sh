#!/bin/sh
# The README's main job: build chive and run the daemon, a Tor client,
# against the public Tor network (its built-in directory authorities and
# fallback directories), with a SOCKS proxy on 127.0.0.1:9050.
#
#   scripts/run.sh [chive options...]    e.g. --SocksPort 9150
#   scripts/run.sh --demo                the offline demo (scripts/demo.sh)
#
# On a machine that cannot reach the Tor network (chive makes no progress
# past connecting within CHIVE_RUN_PROBE_SECONDS, default 30 s), it stops
# and runs the demo on a private Tor network instead.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ "${1:-}" = "--demo" ]; then
  shift
  exec sh "$root/scripts/demo.sh" "$@"
fi
sh scripts/deps.sh build
build=$root/build-run
echo "== building chive (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target chive_daemon >/dev/null
data=${CHIVE_DATA_DIR:-$HOME/.chive}
log=$build/chive-run.log
echo "== running chive against the public Tor network"
echo "   DataDirectory $data, SOCKS proxy 127.0.0.1:9050 (Ctrl-C stops it)"
echo "   try: curl --socks5-hostname 127.0.0.1:9050 https://check.torproject.org/api/ip"
"$build/daemon/chive" --DataDirectory "$data" "$@" 2>&1 | tee "$log" &
pid=$!
probe=${CHIVE_RUN_PROBE_SECONDS:-30}
i=0
while [ $i -lt $((probe * 2)) ]; do
  if grep -q "Bootstrapped 1[0-9]%\|Bootstrapped [2-9][0-9]%\|Bootstrapped 100%" "$log" 2>/dev/null; then
    wait $pid
    exit $?
  fi
  if ! kill -0 $pid 2>/dev/null; then
    wait $pid || exit $?
    exit 0
  fi
  sleep 0.5
  i=$((i + 1))
done
echo "== chive reached no relay in $probe s: this machine seems to have no"
echo "   access to the Tor network.  Running the offline demo instead."
pkill -INT -f "$build/daemon/chive" 2>/dev/null || true
wait $pid 2>/dev/null || true
exec sh "$root/scripts/demo.sh"
