#!/bin/sh
# Check that libchive.a and libchive.so export exactly the public API
# (the chive_* symbols listed in tests/symbols.txt) and nothing else, so
# an embedder's own symbols (rd_u8, log_warn, ...) cannot collide with
# ours (STYLE.md §2.4).
#   check_symbols.sh BUILD_DIR [SOURCE_ROOT]
# With CHIVE_UPDATE_SYMBOLS=1, rewrite tests/symbols.txt instead.
set -eu
build=$1
root=${2:-$(cd "$(dirname "$0")/.." && pwd)}
expected=$root/tests/symbols.txt
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
nm -g --defined-only "$build/libchive.a" 2>/dev/null \
  | awk 'NF==3 {print $3}' | sort -u > "$tmp/static"
nm -D --defined-only "$build/libchive.so" \
  | awk 'NF==3 && $2 ~ /[TDBR]/ {print $3}' | sort -u > "$tmp/shared"
if [ "${CHIVE_UPDATE_SYMBOLS:-0}" = 1 ]; then
  cp "$tmp/shared" "$expected"
  echo "check_symbols: wrote $(wc -l < "$expected") symbols to $expected"
  exit 0
fi
status=0
for kind in static shared; do
  if ! diff -u "$expected" "$tmp/$kind" > "$tmp/diff"; then
    echo "check_symbols: libchive ($kind) exports differ from tests/symbols.txt:"
    cat "$tmp/diff"
    status=1
  fi
done
bad=$(grep -v '^chive_' "$tmp/shared" "$tmp/static" || true)
if [ -n "$bad" ]; then
  echo "check_symbols: non-chive_ symbols exported:"; echo "$bad"; status=1
fi
[ $status -eq 0 ] && echo "check_symbols: $(wc -l < "$expected") public symbols, clean"
exit $status
