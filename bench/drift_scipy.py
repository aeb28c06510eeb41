#!/usr/bin/python3
"""SciPy peer of bench_drift: KS, Wasserstein and PSI on 10^6 against 10^6 values.

Prints "<name> <median CPU seconds>" lines like bench_drift (process CPU time).
Usage: drift_scipy.py [repetitions]
"""
import sys
import time

import numpy as np
from scipy import stats


def psi(ref, cur, bins=10, eps=1e-4):
    # The same definition as mlops_stat_psi: reference-quantile edges, outer bins absorb the rest.
    edges = np.quantile(ref, np.arange(bins + 1) / bins)
    def props(x):
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, bins - 1)
        return np.bincount(idx, minlength=bins) / len(x)
    p, q = np.maximum(props(ref), eps), np.maximum(props(cur), eps)
    return float(np.sum((q - p) * np.log(q / p)))


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return float(np.median(times))


def main():
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    rng = np.random.default_rng(12345)
    a = rng.standard_normal(1000000)
    b = rng.standard_normal(1000000) + 0.01
    print("ks_2samp_1e6 %.6f" % timed(lambda: stats.ks_2samp(a, b), reps))
    print("wasserstein_1e6 %.6f" % timed(lambda: stats.wasserstein_distance(a, b), reps))
    print("psi_1e6 %.6f" % timed(lambda: psi(a, b), reps))


if __name__ == "__main__":
    main()
