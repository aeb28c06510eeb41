#!/bin/sh
# Registry benchmark: registrations/s and 64 MiB artifact write/read MB/s,
# next to raw SQLite transactions, one-shot zstd and SQLite blob I/O measured
# in the same run. Prints medians and ratios for docs/PERFORMANCE.md.
#   sh bench/run_registry.sh BUILD_DIR [REPETITIONS]
set -eu
build=${1:-build-bench}
reps=${2:-5}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/mlops-bench-registry-XXXXXX")
trap 'rm -rf "$scratch"' EXIT INT TERM
"$build/bench/bench_registry" "$scratch" "$reps"
