#!/bin/sh
# The README's demo: build chive and run it on a private Tor network of
# real relays (Debian's tor) inside a loopback-only network namespace;
# curl fetches pages through chive's SocksPort.  Nothing leaves the
# machine.
#
#   scripts/demo.sh [--keep]     --keep leaves the network running
#
# Steps: install missing packages (as root), build (Release), start the
# private network, wait for a usable consensus, then run the client demo
# (scripts/demo-client.sh) inside the network's namespace, then stop the
# network (unless --keep).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
keep=0
[ "${1:-}" = "--keep" ] && keep=1

sh scripts/deps.sh all
build=$root/build-run
echo "== building chive (Release) in $build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" >/dev/null

net=$build/demo-net
tn=$root/tests/testnet/testnet
if [ "$(id -u)" -ne 0 ]; then
  echo "chive demo: the private network needs root (network namespace)." >&2
  exit 1
fi
cleanup() {
  if [ $keep -eq 0 ]; then
    echo "== stopping the private network"
    /usr/bin/python3 "$tn" stop "$net" || true
  else
    echo "== network left running in $net (stop: $tn stop $net)"
  fi
}
/usr/bin/python3 "$tn" stop "$net" >/dev/null 2>&1 || true
trap cleanup EXIT INT TERM
echo "== starting a private Tor network in $net"
/usr/bin/python3 "$tn" start "$net"
/usr/bin/python3 "$tn" wait "$net"
echo "== running the demo client inside the network namespace"
/usr/bin/python3 "$tn" exec "$net" -- sh "$root/scripts/demo-client.sh" \
  "$build" "$net"
