#!/bin/sh
# Runs inside the private network's namespace (see scripts/run.sh).
#   demo-client.sh BUILD_DIR NET_DIR
# Today: chive bootstraps from the network's authorities (verified
# directory, guards, a first three-hop circuit) and exits; then the
# reference C tor client fetches a page from the network's HTTP server
# through an exit and through the onion service.  When chive's SOCKS port
# lands (the streams issue), chive serves the fetches too.
set -eu
build=$1
net=$2
http_port=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['http']['port'])" "$net/network.json" 2>/dev/null || true)
socks=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['client']['socks_port'])" "$net/network.json" 2>/dev/null || true)
if [ -z "$http_port" ] || [ -z "$socks" ]; then
  echo "demo: cannot read ports from $net/network.json" >&2
  exit 1
fi
cdir=$build/demo-chive
rm -rf "$cdir"; mkdir -p "$cdir"
{ echo "DataDirectory $cdir/data"; echo "TestingTorNetwork 1";
  echo "SocksPort 0"; cat "$net/client/torrc-dirauth"; } > "$cdir/torrc"
echo "-- chive: bootstrapping from the private network's authorities"
"$build/daemon/chive" -f "$cdir/torrc" >"$cdir/log" 2>&1 &
cpid=$!
i=0
until grep -q "Bootstrapped 100%" "$cdir/log"; do
  i=$((i + 1))
  if [ $i -gt 120 ] || ! kill -0 $cpid 2>/dev/null; then
    tail -20 "$cdir/log"; echo "demo: chive did not bootstrap" >&2; exit 1
  fi
  sleep 0.5
done
sed 's/^/   /' "$cdir/log"
kill -INT $cpid; wait $cpid || true
echo "   (DataDirectory $cdir/data: $(ls "$cdir/data" | tr '\n' ' '))"

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
