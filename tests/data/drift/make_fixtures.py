#!/usr/bin/python3
"""Generate the expected values of the drift statistics with SciPy.

Run once with Debian's python3 + python3-scipy:
    /usr/bin/python3 tests/data/drift/make_fixtures.py > tests/data/drift/stats_fixtures.txt
The test suite reads the committed output and never needs SciPy.

Samples are described by a generator that C and Python evaluate with the
same IEEE double operations (splitmix64 bits -> uniform -> a shaped value),
so large samples cost one line each. Lines:
  case NAME                         starts a numeric case
  ref gen SEED N KIND A B NAN_EVERY | ref vals V1 V2 ...   (same for cur)
  expect TEST METHOD STATISTIC PVALUE     (TEST: ks, wasserstein, ...; METHOD the KS/CvM mode used)
  cat NAME K  /  refc C1..CK  /  curc C1..CK  /  expect ...   categorical cases
  kstwo N X SF   chi2 X DOF SF   cvminf X CDF   smirnov N X SF   special functions
"""
import math
import sys
import warnings

import numpy as np
from scipy import stats, special
from scipy.spatial import distance
from scipy.stats._hypotests import _cdf_cvm_inf

MASK = (1 << 64) - 1


def splitmix64(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def gen(seed, n, kind, a, b, nan_every):
    state = seed
    out = []
    for i in range(n):
        us = []
        for _ in range(4 if kind == "irwin" else 1):
            state, z = splitmix64(state)
            us.append((z >> 11) * (1.0 / 9007199254740992.0))
        if kind == "irwin":
            v = a + b * (((us[0] + us[1]) + (us[2] + us[3])) - 2.0)
        elif kind == "unif":
            v = a + b * us[0]
        elif kind == "disc":
            v = float(math.floor(a + b * us[0]))
        elif kind == "const":
            v = a
        else:
            raise ValueError(kind)
        if nan_every and (i + 1) % nan_every == 0:
            v = float("nan")
        out.append(v)
    return np.array(out, dtype=np.float64)


def fmt(x):
    return repr(float(x))


def psi(ref, cur, bins, binning, eps=1e-4):
    ref = np.sort(ref)
    if binning == "quantile":
        edges = np.quantile(ref, np.arange(bins + 1) / bins)
    else:
        edges = np.linspace(ref[0], ref[-1], bins + 1)
    def props(x):
        idx = np.searchsorted(edges, x, side="right") - 1
        idx = np.clip(idx, 0, bins - 1)
        return np.bincount(idx, minlength=bins) / len(x)
    p, q = np.maximum(props(ref), eps), np.maximum(props(cur), eps)
    return float(np.sum((q - p) * np.log(q / p)))


NUMERIC = [
    # name, ref spec, cur spec, flags
    ("normal_50_60_shift", ("gen", 11, 50, "irwin", 0.0, 1.0, 0), ("gen", 12, 60, "irwin", 0.3, 1.0, 0), ""),
    ("normal_200_same", ("gen", 21, 200, "irwin", 0.0, 1.0, 0), ("gen", 22, 200, "irwin", 0.0, 1.0, 0), ""),
    ("ties_int_100_80", ("gen", 31, 100, "disc", 0.0, 6.0, 0), ("gen", 32, 80, "disc", 0.0, 6.0, 0), ""),
    ("discrete_half_30_40", ("vals", [0.5 * (i % 7) for i in range(30)]),
     ("vals", [0.5 * ((i * 3) % 9) for i in range(40)]), ""),
    ("tiny_3_4", ("vals", [1.0, 2.5, 3.0]), ("vals", [0.5, 2.0, 2.7, 4.0]), ""),
    ("tiny_5_5", ("vals", [1.0, 2.0, 3.0, 4.0, 5.0]), ("vals", [3.5, 4.5, 5.5, 6.5, 7.5]), ""),
    ("unequal_10_5000", ("gen", 41, 10, "irwin", 0.0, 1.0, 0), ("gen", 42, 5000, "irwin", 0.2, 1.0, 0), ""),
    ("unequal_2000_15", ("gen", 51, 2000, "unif", 0.0, 1.0, 0), ("gen", 52, 15, "unif", 0.1, 1.0, 0), ""),
    ("nans_100_120", ("gen", 61, 100, "irwin", 0.0, 1.0, 10), ("gen", 62, 120, "irwin", 0.1, 1.2, 24), ""),
    ("constant_current", ("gen", 71, 50, "irwin", 1.0, 1.0, 0), ("gen", 72, 60, "const", 1.0, 0.0, 0), ""),
    ("both_constant", ("gen", 73, 30, "const", 2.0, 0.0, 0), ("gen", 74, 40, "const", 2.0, 0.0, 0), "noad"),
    ("asymp_auto_20000_15000", ("gen", 81, 20000, "irwin", 0.0, 1.0, 0), ("gen", 82, 15000, "irwin", 0.02, 1.0, 0), ""),
    ("exact_square_3000", ("gen", 91, 3000, "irwin", 0.0, 1.0, 0), ("gen", 92, 3000, "irwin", 0.05, 1.0, 0), ""),
    ("exact_inner_5000_7000", ("gen", 101, 5000, "irwin", 0.0, 1.0, 0), ("gen", 102, 7000, "irwin", 0.03, 1.0, 0), ""),
    ("large_100000_80000", ("gen", 111, 100000, "irwin", 0.0, 1.0, 0), ("gen", 112, 80000, "irwin", 0.0, 1.0, 0), "fast"),
    ("large_shift_60000_50000", ("gen", 121, 60000, "irwin", 0.0, 1.0, 0), ("gen", 122, 50000, "irwin", 0.05, 1.0, 0), "fast"),
    ("ties_8_12", ("vals", [1, 1, 2, 2, 2, 3, 3, 4.0]), ("vals", [2, 2, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6.0]), ""),
    ("one_vs_30", ("vals", [0.25]), ("gen", 131, 30, "unif", 0.0, 1.0, 0), "nocvm"),
    ("signed_zero_ties", ("vals", [-0.0, 0.0, 1.0, -1.0, 0.0, 2.0]), ("vals", [0.0, -0.0, 0.0, 3.0, 1.0]), ""),
    ("disjoint_40_50", ("gen", 141, 40, "unif", 0.0, 1.0, 0), ("gen", 142, 50, "unif", 5.0, 1.0, 0), ""),
    ("wide_scale_300_400", ("gen", 151, 300, "irwin", 0.0, 1.0, 0), ("gen", 152, 400, "irwin", 0.0, 3.0, 0), ""),
    ("discrete_big_12000_9000", ("gen", 161, 12000, "disc", 0.0, 20.0, 0), ("gen", 162, 9000, "disc", 0.0, 21.0, 0), ""),
    ("cvm_exact_20_19", ("gen", 171, 20, "irwin", 0.0, 1.0, 0), ("gen", 172, 19, "irwin", 0.5, 1.0, 0), ""),
    ("cvm_exact_ties_12_15", ("gen", 181, 12, "disc", 0.0, 4.0, 0), ("gen", 182, 15, "disc", 0.0, 5.0, 0), ""),
]

KS_MODES = {"auto": "auto", "exact": "exact", "asymp": "asymp"}


def sample(spec):
    if spec[0] == "vals":
        return np.array(spec[1], dtype=np.float64), "ref vals " + " ".join(fmt(v) for v in spec[1])
    _, seed, n, kind, a, b, nan_every = spec
    return gen(seed, n, kind, a, b, nan_every), "ref gen %d %d %s %s %s %d" % (seed, n, kind, fmt(a), fmt(b), nan_every)


def emit_numeric(out):
    for name, rs, cs, flags in NUMERIC:
        ref, rline = sample(rs)
        cur, cline = sample(cs)
        out.append("case " + name)
        out.append(rline)
        out.append("cur" + cline[3:])
        r = ref[~np.isnan(ref)]
        c = cur[~np.isnan(cur)]
        for mode in ("auto", "exact", "asymp"):
            if mode == "exact" and "fast" in flags:
                continue
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                res = stats.ks_2samp(r, c, method=mode)
            used = mode
            if mode == "auto":
                used = "exact" if max(len(r), len(c)) <= 10000 else "asymp"
            if any("Switching to" in str(w.message) for w in caught):
                used = "asymp"
            out.append("expect ks_%s %s %s %s" % (mode, used, fmt(res.statistic), fmt(res.pvalue)))
        out.append("expect wasserstein - %s nan" % fmt(stats.wasserstein_distance(r, c)))
        out.append("expect wasserstein_norm - %s nan" % fmt(stats.wasserstein_distance(r, c) / max(np.std(r), 0.001)))
        out.append("expect energy - %s nan" % fmt(stats.energy_distance(r, c)))
        if "nocvm" not in flags:
            res = stats.cramervonmises_2samp(r, c)
            out.append("expect cvm - %s %s" % (fmt(res.statistic), fmt(res.pvalue)))
        if "noad" not in flags:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                res = stats.anderson_ksamp([r, c])
            out.append("expect anderson - %s %s" % (fmt(res.statistic), fmt(res.significance_level)))
        if len(np.unique(r)) > 1:
            out.append("expect psi_quantile - %s nan" % fmt(psi(r, c, 10, "quantile")))
        out.append("expect psi_width - %s nan" % fmt(psi(r, c, 10, "width")))


CATEGORICAL = [
    ("similar_4", [120, 80, 50, 30], [118, 85, 47, 33]),
    ("shifted_4", [120, 80, 50, 30], [40, 90, 100, 60]),
    ("only_current", [100, 50, 0], [90, 60, 5]),
    ("only_reference", [100, 50, 7], [95, 55, 0]),
    ("binary_yates", [30, 70], [45, 55]),
    ("many_30", [int(5 + (i * 37) % 23) for i in range(30)], [int(4 + (i * 41) % 29) for i in range(30)]),
    ("huge_counts", [1000000, 2500000, 1500000], [1001000, 2497000, 1503500]),
    ("unequal_totals", [10, 20, 30, 40, 50], [1000, 1900, 3100, 4000, 5200]),
]


def emit_categorical(out):
    for name, rc, cc in CATEGORICAL:
        r = np.array(rc, dtype=np.float64)
        c = np.array(cc, dtype=np.float64)
        out.append("cat %s %d" % (name, len(r)))
        out.append("refc " + " ".join(fmt(v) for v in r))
        out.append("curc " + " ".join(fmt(v) for v in c))
        with np.errstate(divide="ignore", invalid="ignore"):
            exp = r * (c.sum() / r.sum())
            res = stats.chisquare(c, exp)
        out.append("expect chisquare - %s %s" % (fmt(res.statistic), fmt(res.pvalue)))
        stat, p, dof, _ = stats.chi2_contingency(np.vstack([r, c]))
        out.append("expect contingency - %s %s" % (fmt(stat), fmt(p)))
        stat, p, dof, _ = stats.chi2_contingency(np.vstack([r, c]), correction=False)
        out.append("expect contingency_nocorr - %s %s" % (fmt(stat), fmt(p)))
        out.append("expect jensenshannon2 - %s nan" % fmt(distance.jensenshannon(r, c, base=2)))
        out.append("expect jensenshannon_e - %s nan" % fmt(distance.jensenshannon(r, c)))
        out.append("expect kl - %s nan" % fmt(stats.entropy(r, c)))
        rp, cp = np.maximum(r / r.sum(), 1e-4), np.maximum(c / c.sum(), 1e-4)
        out.append("expect psi_hist - %s nan" % fmt(np.sum((cp - rp) * np.log(cp / rp))))


def emit_special(out):
    for n in (1, 2, 5, 10, 22, 50, 140, 141, 500, 5000, 44444, 100000, 150000):
        for x in (0.001, 0.01, 0.03, 0.05, 0.08, 0.1, 0.15, 0.2, 0.3, 0.45, 0.5, 0.6, 0.9):
            if n * x <= 0.5:
                continue
            out.append("kstwo %d %s %s" % (n, fmt(x), fmt(stats.kstwo.sf(x, n))))
    for n, x in ((10, 0.2), (10, 0.6), (100, 0.05), (1000, 0.03), (40000, 0.01)):
        out.append("smirnov %d %s %s" % (n, fmt(x), fmt(special.smirnov(n, x))))
    for dof in (1, 2, 3, 7, 30, 150):
        for x in (0.0, 0.01, 0.5, 1.0, 3.84, 10.0, 50.0, 200.0):
            out.append("chi2 %s %d %s" % (fmt(x), dof, fmt(stats.chi2.sf(x, dof))))
    for x in (0.01, 0.05, 0.1, 0.2, 0.4, 0.7, 1.0, 1.5, 2.5):
        out.append("cvminf %s %s" % (fmt(x), fmt(_cdf_cvm_inf(x))))


def main():
    out = ["# generated by make_fixtures.py with SciPy " + __import__("scipy").__version__]
    emit_special(out)
    emit_numeric(out)
    emit_categorical(out)
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
