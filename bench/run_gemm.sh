#!/bin/sh
# int8 GEMM against oneDNN and OpenBLAS, on 1 and 2 threads (oneDNN takes its
# thread count from OpenMP, OpenBLAS and libmlops from the --threads option),
# then on one thread timed by its CPU clock.
#   sh bench/run_gemm.sh BUILD_DIR [extra bench_gemm arguments]
set -eu
build=${1:-build-bench}
shift || true
for threads in 1 2; do
    OMP_NUM_THREADS=$threads "$build/bench/bench_gemm" --threads "$threads" --reps 7 "$@"
done
# One thread again on its CPU clock: on a shared host this leaves out the
# time the benchmark was not scheduled.
OMP_NUM_THREADS=1 "$build/bench/bench_gemm" --threads 1 --reps 7 --cpu-time "$@"
