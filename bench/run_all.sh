#!/bin/sh
# Run every benchmark script (bench/run_<name>.sh BUILD_DIR) in turn.
# Each one measures libmlops and its peer in the same run and prints the
# medians and ratios that docs/PERFORMANCE.md records.
set -eu
build=${1:-build-bench}
here=$(dirname "$0")
for script in "$here"/run_*.sh; do
    [ -e "$script" ] || continue
    echo "== $(basename "$script")"
    sh "$script" "$build"
done
