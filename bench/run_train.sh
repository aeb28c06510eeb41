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

median() { sed -n 's/.*median samples_per_s=\([0-9.]*\).*/\1/p'; }

echo "-- libmlops, 1 trainer thread, 1 shard (OpenBLAS on its own threads)"
ours1=$("$build/bench/bench_train" "$reps" 1 1 | tee /dev/stderr | median)
echo "-- libmlops, 2 trainer threads, 2 shards"
ours2=$("$build/bench/bench_train" "$reps" 2 2 | tee /dev/stderr | median)
echo "-- PyTorch, $threads threads"
torch=$(/usr/bin/python3 "$here/train_torch.py" "$reps" "$threads" | tee /dev/stderr | median)
awk -v a="$ours1" -v b="$ours2" -v t="$torch" 'BEGIN {
    printf "samples/s: libmlops 1x1 %.0f, libmlops 2x2 %.0f, pytorch %.0f\n", a, b, t
    printf "ratio libmlops/pytorch: 1x1 %.2f, 2x2 %.2f\n", a / t, b / t }'
