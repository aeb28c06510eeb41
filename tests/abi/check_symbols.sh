#!/bin/sh
# Compare the symbols the shared library exports with the committed baseline.
# A removed symbol fails; so does a new one missing from the baseline (add it
# in the same commit). Also fails on any export outside the mlops_ prefix.
set -eu
export LC_ALL=C
lib=$1
baseline=$2
actual=$(mktemp)
trap 'rm -f "$actual"' EXIT
nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u > "$actual"
status=0
foreign=$(grep -v '^mlops_' "$actual" || true)
if [ -n "$foreign" ]; then
    echo "exported symbols outside the mlops_ prefix:"
    echo "$foreign" | sed 's/^/  /'
    status=1
fi
removed=$(comm -23 "$baseline" "$actual")
added=$(comm -13 "$baseline" "$actual")
if [ -n "$removed" ]; then
    echo "ABI break: symbols in the baseline $baseline that the library no longer exports:"
    echo "$removed" | sed 's/^/  - /'
    status=1
fi
if [ -n "$added" ]; then
    echo "new exported symbols not yet in the baseline $baseline (add them in the same change):"
    echo "$added" | sed 's/^/  + /'
    status=1
fi
[ $status -eq 0 ] && echo "exported symbols match the baseline ($(wc -l < "$actual") symbols)"
exit $status
