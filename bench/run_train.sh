#!/bin/sh
# Trainer throughput next to PyTorch in the same run: samples per second over
# one epoch of a 3 x 1024 MLP on 100 000 rows, batch 256, Adam.
#   bench/run_train.sh BUILD_DIR     (built with -DMLOPS_BUILD_BENCH=ON)
# REPS (default 3) sets the repetitions; medians and their ratio are printed.
set -eu
build=${1:-build-bench}
reps=${REPS:-3}
here=$(dirname "$0")
threads=$(nproc)
[ "$threads" -gt 2 ] && threads=2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

median() { sed -n 's/.*median samples_per_s=\([0-9.]*\).*/\1/p' "$out"; }

echo "-- libmlops, 1 trainer thread, 1 shard (OpenBLAS on its own threads)"
"$build/bench/bench_train" "$reps" 1 1 > "$out"
cat "$out"
ours1=$(median)
echo "-- libmlops, 2 trainer threads, 2 shards"
"$build/bench/bench_train" "$reps" 2 2 > "$out"
cat "$out"
ours2=$(median)
echo "-- PyTorch, $threads threads"
/usr/bin/python3 "$here/train_torch.py" "$reps" "$threads" > "$out"
cat "$out"
torch=$(median)
awk -v a="$ours1" -v b="$ours2" -v t="$torch" 'BEGIN {
    printf "samples/s: libmlops 1x1 %.0f, libmlops 2x2 %.0f, pytorch %.0f\n", a, b, t
    printf "ratio libmlops/pytorch: 1x1 %.2f, 2x2 %.2f\n", a / t, b / t }'
