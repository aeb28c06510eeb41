#!/bin/sh
# Router overhead at batch 1: mlops_router_run() against a bare
# mlops_session_run() on the same model (the digits MLP, fp32), one and two
# threads, measured alternately in the same run; medians of the repetitions.
#   sh bench/run_serve.sh BUILD_DIR   (configured with -DMLOPS_BUILD_BENCH=ON)
set -eu
build=${1:-build-bench}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reps=${REPS:-7}
calls=${CALLS:-50000}

OPENBLAS_NUM_THREADS=1 "$build/bench/bench_serve" "$here/../tests/data/infer/digits_mlp.onnx" "$work" \
    --reps "$reps" --calls "$calls" | tee "$work/results.txt"
echo
awk '{ printf "%-6s %d thread(s): bare %8.1f ns, router %8.1f ns, overhead %6.1f ns (%5.2f%%), goal max(5%%, 1000 ns) %s\n", \
        $2, $4, $6, $8, $10, $12, ($10 <= 1000 || $12 <= 5) ? "met" : "missed" }' "$work/results.txt"
