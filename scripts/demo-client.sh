#!/bin/sh
# Runs inside the private network's namespace (see scripts/run.sh).
#   demo-client.sh BUILD_DIR NET_DIR
# Today: the reference C tor client bootstraps through the private network
# and fetches a page from the network's HTTP server through an exit and
# through the onion service.  As chive gains its client, this script runs
# chive instead (see the issues).
set -eu
build=$1
net=$2
http_port=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['http']['port'])" "$net/network.json" 2>/dev/null || true)
socks=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['client']['socks_port'])" "$net/network.json" 2>/dev/null || true)
if [ -z "$http_port" ] || [ -z "$socks" ]; then
  echo "demo: cannot read ports from $net/network.json" >&2
  exit 1
fi
ddir=$build/demo-ctor
rm -rf "$ddir"; mkdir -p "$ddir"
echo "-- C tor client: bootstrapping through the private network"
tor -f "$net/client/torrc" --DataDirectory "$ddir" --PidFile "$ddir/pid" \
  --RunAsDaemon 0 >"$ddir/log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
i=0
until grep -q "Bootstrapped 100%" "$ddir/log"; do
  i=$((i + 1))
  if [ $i -gt 120 ] || ! kill -0 $pid 2>/dev/null; then
    tail -20 "$ddir/log"; echo "demo: tor did not bootstrap" >&2; exit 1
  fi
  sleep 0.5
done
grep "Bootstrapped" "$ddir/log" | sed 's/^/   /'
echo "-- fetching http://127.0.0.1:$http_port/ through an exit"
curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$socks" \
  "http://127.0.0.1:$http_port/index.html" | head -5
if [ -s "$net/onion-address" ]; then
  onion=$(cat "$net/onion-address")
  echo "-- fetching http://$onion/ through the onion service"
  curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$socks" \
    "http://$onion/index.html" | head -5
fi
echo "-- demo done"
