#!/bin/sh
# Trainer throughput next to PyTorch in the same run: samples per second over
# one epoch of a 3 x 1024 MLP on 100 000 rows, batch 256, Adam.
#   bench/run_train.sh BUILD_DIR     (built with -DMLOPS_BUILD_BENCH=ON)
# REPS (default 3) sets the repetitions. libmlops and PyTorch alternate, one
# epoch each, so that both see the same load on a shared machine; medians and
# their ratio are printed. SHARDED=1 adds libmlops with 2 trainer threads over
# 2 shards per batch.
set -eu
build=${1:-build-bench}
reps=${REPS:-3}
sharded=${SHARDED:-0}
here=$(dirname "$0")
threads=$(nproc)
[ "$threads" -gt 2 ] && threads=2
out=$(mktemp)
trap 'rm -f "$out"' EXIT

rate() { sed -n 's/.*median samples_per_s=\([0-9.]*\).*/\1/p' "$out"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

ours="" torch="" split=""
r=1
while [ "$r" -le "$reps" ]; do
    "$build/bench/bench_train" 1 1 1 > "$out"
    ours="$ours $(rate)"
    /usr/bin/python3 "$here/train_torch.py" 1 "$threads" > "$out"
    torch="$torch $(rate)"
    if [ "$sharded" = 1 ]; then
        "$build/bench/bench_train" 1 2 2 > "$out"
        split="$split $(rate)"
    fi
    echo "rep $r: libmlops $(echo "$ours" | awk '{print $NF}') samples/s, pytorch $(echo "$torch" | awk '{print $NF}') samples/s"
    r=$((r + 1))
done
m_ours=$(echo "$ours" | tr ' ' '\n' | grep . | median)
m_torch=$(echo "$torch" | tr ' ' '\n' | grep . | median)
echo "median samples/s: libmlops (1 trainer thread, OpenBLAS on $threads) $m_ours, pytorch $(/usr/bin/python3 -c 'import torch; print(torch.__version__)') ($threads threads) $m_torch"
awk -v a="$m_ours" -v t="$m_torch" 'BEGIN { printf "ratio libmlops/pytorch: %.2f\n", a / t }'
if [ "$sharded" = 1 ]; then
    echo "median samples/s: libmlops 2 trainer threads x 2 shards $(echo "$split" | tr ' ' '\n' | grep . | median)"
fi
