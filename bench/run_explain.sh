#!/bin/sh
# Explanations per second of the digits MLP (64 -> 128 ReLU -> 10): libmlops
# integrated gradients at 64, 256 and 4096 uniform steps and with the piecewise
# rule, and KernelSHAP on the fp32 plan (an
# int8 session is explained through that same plan, at the same cost), against PyTorch autograd doing
# the same integrated gradients (the path batched per row), one thread each.
# The peer and libmlops alternate for ROUNDS rounds (each a median of REPS
# repetitions) so that both see the same load; the figure reported is the
# median over the rounds, with the ratio ours / PyTorch (above 1 = libmlops
# faster).
#   sh bench/run_explain.sh BUILD_DIR   (configured with -DMLOPS_BUILD_BENCH=ON;
#   the peer needs scripts/deps.sh bench)
set -eu
build=${1:-build-bench}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reps=${REPS:-5}
rounds=${ROUNDS:-3}
digits="$here/../tests/data/infer/digits_mlp.onnx"

round=1
while [ "$round" -le "$rounds" ]; do
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/explain_peer.py" --reps "$reps" \
        >> "$work/results.txt" 2>&1
    OPENBLAS_NUM_THREADS=1 "$build/bench/bench_explain" "$digits" digits fp32 --reps "$reps" >> "$work/results.txt" 2>&1
    round=$((round + 1))
done
cat "$work/results.txt"
echo
awk '
/^#/ { next }
{ key = $1 " " $2 " " $3; n[key]++; v[key, n[key]] = $5 }
function median(key,    i, j, t, c, a) {
    c = n[key]
    if (c == 0) return 0
    for (i = 1; i <= c; i++) a[i] = v[key, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
    printf "%-12s %18s %18s %10s\n", "figure", "mlops expl/s", "torch expl/s", "ratio"
    split("ig64 ig256 ig4096 ig_piecewise kernel_shap", figures, " ")
    for (f = 1; f <= 5; f++) {
        g = figures[f]; m = median("mlops digits " g); t = median("torch digits " g)
        if (t > 0) printf "%-12s %18.1f %18.1f %9.2fx\n", g, m, t, m / t
        else printf "%-12s %18.1f %18s %10s\n", g, m, "-", "-"
    }
}' "$work/results.txt"
