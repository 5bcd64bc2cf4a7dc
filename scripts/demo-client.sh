#!/bin/sh
# Runs inside the private network's namespace (see scripts/demo.sh).
#   demo-client.sh BUILD_DIR NET_DIR
# chive bootstraps from the network's authorities (verified directory,
# guards, a first three-hop circuit), opens its SocksPort, and curl
# fetches pages from the network's HTTP server through chive and a Tor
# exit; the bytes are checked against the server's files.
set -eu
build=$1
net=$2
json() {
  /usr/bin/python3 -c "import json,sys; d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'): d=d[k]
print(d)" "$net/network.json" "$1"
}
http_port=$(json http.port)
port_lo=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['client']['free_ports'][0])" "$net/network.json")
socks=$((port_lo + 7))
blob_sha=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['http']['files']['blob.bin']['sha256'])" "$net/network.json" 2>/dev/null || true)
cdir=$build/demo-chive
rm -rf "$cdir"; mkdir -p "$cdir"
{ echo "DataDirectory $cdir/data"; echo "TestingTorNetwork 1";
  echo "SocksPort 127.0.0.1:$socks"; cat "$net/client/torrc-dirauth"; } \
  > "$cdir/torrc"
echo "-- chive: bootstrapping from the private network's authorities"
"$build/daemon/chive" -f "$cdir/torrc" >"$cdir/log" 2>&1 &
cpid=$!
trap 'kill -INT $cpid 2>/dev/null; wait $cpid 2>/dev/null || true' EXIT
i=0
until grep -q "Bootstrapped 100%" "$cdir/log"; do
  i=$((i + 1))
  if [ $i -gt 120 ] || ! kill -0 $cpid 2>/dev/null; then
    tail -20 "$cdir/log"; echo "demo: chive did not bootstrap" >&2; exit 1
  fi
  sleep 0.5
done
sed 's/^/   /' "$cdir/log"
echo "-- curl --socks5-hostname 127.0.0.1:$socks http://127.0.0.1:$http_port/index.html"
curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$socks" \
  "http://127.0.0.1:$http_port/index.html" | sed 's/^/   /'
echo "-- the same for blob.bin (1 MiB), checked against the server's sha256"
got=$(curl -sS --max-time 60 --socks5-hostname "127.0.0.1:$socks" \
  "http://127.0.0.1:$http_port/blob.bin" | sha256sum | cut -d' ' -f1)
echo "   sha256 $got"
if [ -n "$blob_sha" ] && [ "$got" != "$blob_sha" ]; then
  echo "demo: blob.bin differs from the server's copy ($blob_sha)" >&2
  exit 1
fi
echo "   matches the server's file"
if [ -s "$net/onion-address" ]; then
  echo "-- $(cat "$net/onion-address"): chive answers that onion services are not supported yet:"
  curl -sS --max-time 30 --socks5-hostname "127.0.0.1:$socks" \
    "http://$(cat "$net/onion-address")/" 2>&1 | sed 's/^/   /' || true
fi
echo "-- chive's log after the fetches:"
tail -n 3 "$cdir/log" | sed 's/^/   /'
echo "-- demo done"
