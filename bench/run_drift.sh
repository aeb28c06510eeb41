#!/bin/sh
# Drift benchmark: libmlops (bench_drift) and SciPy (drift_scipy.py) in the
# same run, CPU-time medians over REPS repetitions, ratios SciPy / libmlops.
#   sh bench/run_drift.sh BUILD_DIR [REPS]
set -eu
build=${1:-build-bench}
reps=${2:-5}
here=$(dirname "$0")
ours=$(mktemp)
peer=$(mktemp)
trap 'rm -f "$ours" "$peer"' EXIT
"$build/bench/bench_drift" "$reps" > "$ours"
OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/drift_scipy.py" "$reps" > "$peer"
echo "profile update, 1e7 float64 values (median CPU seconds, values/s/core):"
grep '^update_' "$ours" | awk '{ printf "  %-34s %9.4f s  %s\n", $1, $2, $3 }'
echo "1e6 vs 1e6 (median CPU seconds): libmlops, SciPy, SciPy/libmlops"
awk 'NR == FNR { peer[$1] = $2; next }
     ($1 in peer) { printf "  %-18s %9.4f s %9.4f s %7.1fx\n", $1, $2, peer[$1], peer[$1] / $2 }' "$peer" "$ours"
