#!/bin/sh
# Build the API reference (the docs target) and fail on any Doxygen warning,
# or when a header under include/ is missing from it (a header without a
# "@file" comment would be left out silently, and so would its functions).
#   check_api_reference.sh SOURCE_DIR BUILD_DIR CMAKE DOXYGEN
# Exits 77 (skipped) when Doxygen is not installed: scripts/deps.sh test installs it.
set -eu
source_dir=$1
build=$2
cmake=$3
doxygen=${4:-}
if [ -z "$doxygen" ] || [ ! -x "$doxygen" ]; then
    echo "SKIP: doxygen is not installed (scripts/deps.sh test installs it)"
    exit 77
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! "$cmake" --build "$build" --target docs > "$log" 2>&1; then
    cat "$log"
    echo "FAIL: the docs target did not build"
    exit 1
fi
if grep -E '(warning|error):' "$log"; then
    echo "FAIL: Doxygen warned about the headers above"
    exit 1
fi
html="$build/docs/api/html"
missing=0
for header in $(cd "$source_dir/include" && find . -name '*.h' | sort); do
    name=$(basename "$header")
    if ! grep -q ">$name</a>" "$html/files.html"; then
        echo "FAIL: include/${header#./} is not in the API reference (its first comment needs \"@file\")"
        missing=1
    fi
done
[ "$missing" -eq 0 ] || exit 1
echo "API reference: $(find "$html" -name '*_8h.html' | wc -l) headers, no warnings"
