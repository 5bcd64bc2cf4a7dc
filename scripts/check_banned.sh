#!/bin/sh
# Reject banned C functions in our library and programs (curl's list,
# which tor's agrees with), and raw allocator calls outside lib/malloc.
# Usage: check_banned.sh [SOURCE_ROOT]
root=${1:-.}
cd "$root" || exit 2
status=0
dirs="src daemon tools"
existing=""
for d in $dirs; do [ -d "$d" ] && existing="$existing $d"; done
[ -n "$existing" ] || { echo "check_banned: nothing to check"; exit 0; }

banned='\b(strcpy|strcat|sprintf|vsprintf|gets|atoi|atol|atoll|strtok|sscanf|strncpy|strncat|alloca)[[:space:]]*\('
if grep -rnE --include='*.c' --include='*.h' "$banned" $existing \
     | grep -v 'check_banned: allow'; then
  echo "check_banned: banned function used (see above)"
  status=1
fi
alloc='(^|[^_a-zA-Z0-9.>])(malloc|calloc|realloc|free)[[:space:]]*\('
if grep -rnE --include='*.c' --include='*.h' "$alloc" $existing \
     | grep -v '^src/lib/malloc/' | grep -v 'check_banned: allow'; then
  echo "check_banned: raw allocator call outside src/lib/malloc (see above)"
  status=1
fi
[ $status -eq 0 ] && echo "check_banned: clean"
exit $status
