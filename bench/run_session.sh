#!/bin/sh
# Whole-model inference: libmlops sessions (fp32 and int8) against PyTorch fp32
# and PyTorch's dynamically quantized int8 Linear, same models, same inputs,
# one thread each. The peer and libmlops alternate for ROUNDS rounds (each a
# median of REPS repetitions) so that both see the same load on a shared host;
# the figure reported is the median over the rounds. Prints every figure and
# the ratios.
#   sh bench/run_session.sh BUILD_DIR   (configured with -DMLOPS_BUILD_BENCH=ON)
set -eu
build=${1:-build-bench}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reps=${REPS:-7}
copies=${COPIES:-8}
rounds=${ROUNDS:-3}
digits="$here/../tests/data/infer/digits_mlp.onnx"

round=1
while [ "$round" -le "$rounds" ]; do
    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$here/session_peer.py" "$work" --threads 1 \
        --reps "$reps" --copies "$copies" >> "$work/results.txt"
    for precision in fp32 int8; do
        OPENBLAS_NUM_THREADS=1 "$build/bench/bench_session" "$work/mlp1024.onnx" mlp1024 "$precision" \
            --reps "$reps" --copies "$copies" >> "$work/results.txt"
        OPENBLAS_NUM_THREADS=1 "$build/bench/bench_session" "$digits" digits "$precision" \
            --reps "$reps" --copies "$copies" >> "$work/results.txt"
    done
    round=$((round + 1))
done
cat "$work/results.txt"
echo
# medians over the rounds; ratios: latency peer/ours, throughput ours/peer (above 1 = libmlops faster)
awk '
/^#/ { next }
{ key = $1 " " $2 " " $3 " " $4; n[key]++; v[key, n[key]] = $5 }
function median(key,    i, j, t, c, a) {
    c = n[key]
    for (i = 1; i <= c; i++) a[i] = v[key, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
    return c % 2 ? a[(c + 1) / 2] : (a[c / 2] + a[c / 2 + 1]) / 2
}
END {
    printf "%-8s %-16s %12s %12s %12s %12s %9s %9s\n", "model", "figure", "mlops fp32", "mlops int8", \
        "torch fp32", "torch int8", "vs fp32", "vs int8"
    split("mlp1024 digits", models, " ")
    split("b1_hot_us b1_cold_us b256_rows_per_s", figures, " ")
    for (m = 1; m <= 2; m++) for (f = 1; f <= 3; f++) {
        k = models[m]; g = figures[f]
        mf = median("mlops " k " fp32 " g); mi = median("mlops " k " int8 " g)
        tf = median("torch " k " fp32 " g); ti = median("torch " k " int8 " g)
        if (g ~ /_us$/) { rf = tf / mi; ri = ti / mi } else { rf = mi / tf; ri = mi / ti }
        printf "%-8s %-16s %12.2f %12.2f %12.2f %12.2f %8.2fx %8.2fx\n", k, g, mf, mi, tf, ti, rf, ri
    }
}' "$work/results.txt"
