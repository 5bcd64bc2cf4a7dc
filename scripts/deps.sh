#!/bin/sh
# Make sure the Debian 12 packages chive needs are installed.
#
#   scripts/deps.sh [build|test|all]     (default: all)
#
# As root, installs what is missing with apt-get.  Otherwise prints the
# exact apt-get line to run and exits 1.
set -eu
what=${1:-all}

build_pkgs="gcc make cmake pkg-config libssl-dev libevent-dev libsodium-dev
zlib1g-dev libzstd-dev"
# The test suite: clang + sanitizer runtimes, real tor relays and clients
# for the private network, python3 (stdlib) for scripts, stem/nyx for the
# control port, curl/torsocks as real SOCKS clients, iproute2/util-linux
# for the private network namespace, faketime for the benchmark,
# prometheus for promtool (metrics format check).
test_pkgs="clang llvm libclang-rt-14-dev tor python3 python3-stem nyx tmux
torsocks curl iproute2 util-linux procps faketime valgrind prometheus"

case $what in
  build) pkgs=$build_pkgs ;;
  test|all) pkgs="$build_pkgs $test_pkgs" ;;
  *) echo "usage: $0 [build|test|all]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"
  then
    missing="$missing $p"
  fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "chive: missing packages:$missing" >&2
  echo "chive: run as root:  apt-get install -y$missing" >&2
  exit 1
fi
echo "chive: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# Debian's tor package may start a system tor; we never use it.  Stop it
# where a service manager exists, so it cannot confuse the tests.
if command -v systemctl >/dev/null 2>&1 && [ -d /run/systemd/system ]; then
  systemctl stop tor >/dev/null 2>&1 || true
  systemctl disable tor >/dev/null 2>&1 || true
fi
echo "chive: packages installed" >&2
