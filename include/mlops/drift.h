/*
 * libmlops: drift statistics. Two-sample tests computed exactly on raw
 * float64 samples (the way SciPy computes them), mergeable streaming
 * profiles with bounded memory, drift reports comparing a reference with
 * current data, and live profiles stored per time window.
 *
 * Raw-sample tests drop NaN values and count them in the result; they
 * allocate scratch memory for sorting and are `any` (pure functions).
 * docs/drift.md gives every formula and its SciPy/Evidently counterpart.
 */
#ifndef MLOPS_DRIFT_H
#define MLOPS_DRIFT_H

#include "common.h"
#include "db.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Methods of the two-sample KS and Cramér–von Mises tests. Pinned. */
#define MLOPS_METHOD_AUTO  0  /* as SciPy decides: exact for small samples, asymptotic otherwise */
#define MLOPS_METHOD_EXACT 1  /* exact null distribution (KS falls back to asymptotic when it cannot) */
#define MLOPS_METHOD_ASYMP 2  /* asymptotic distribution */

/* Binnings of the Population Stability Index. Pinned. */
#define MLOPS_BINS_QUANTILE 0  /* edges at reference quantiles i/bins (linear interpolation) */
#define MLOPS_BINS_WIDTH    1  /* equal-width edges from the reference minimum to its maximum */

/** Result of one statistical test. */
typedef struct mlops_test_result {
    double statistic;   /* the test statistic or distance */
    double pvalue;      /* p-value (significance for Anderson–Darling), NaN when the measure has none */
    int32_t method;     /* MLOPS_METHOD_EXACT or _ASYMP actually used; 0 when not applicable */
    int32_t dof;        /* degrees of freedom of chi-square tests, else 0 */
    uint64_t n_ref;     /* values of the reference (first) sample used */
    uint64_t n_cur;     /* values of the current (second) sample used */
    uint64_t nan_ref;   /* NaN values dropped from the reference sample */
    uint64_t nan_cur;   /* NaN values dropped from the current sample */
} mlops_test_result;

/** Two-sample Kolmogorov–Smirnov test, two-sided, SciPy ks_2samp semantics (`method` MLOPS_METHOD_*). @thread any */
MLOPS_API int mlops_stat_ks_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                  size_t n_cur, int32_t method);
/** Wasserstein-1 distance between the empirical distributions (SciPy wasserstein_distance). @thread any */
MLOPS_API int mlops_stat_wasserstein(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                     size_t n_cur);
/** Wasserstein-1 divided by max(population std of `ref`, 0.001) (Evidently's normed Wasserstein). @thread any */
MLOPS_API int mlops_stat_wasserstein_norm(mlops_test_result *out, const double *ref, size_t n_ref,
                                          const double *cur, size_t n_cur);
/** Energy distance (SciPy energy_distance). @thread any */
MLOPS_API int mlops_stat_energy(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                size_t n_cur);
/** Two-sample Cramér–von Mises test (SciPy cramervonmises_2samp; `method` MLOPS_METHOD_*). @thread any */
MLOPS_API int mlops_stat_cvm_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                   size_t n_cur, int32_t method);
/**
 * Anderson–Darling k-sample test with midranks (SciPy anderson_ksamp): the
 * normalised statistic and SciPy's interpolated significance level, capped to
 * [0.001, 0.25]. n_ref/nan_ref describe samples[0], n_cur/nan_cur the rest. @thread any
 */
MLOPS_API int mlops_stat_anderson_ksamp(mlops_test_result *out, const double *const *samples, const size_t *sizes,
                                        size_t k);
/**
 * Population Stability Index with `bins` bins derived from the reference
 * (`binning` MLOPS_BINS_*); values outside the edges count in the outer bins;
 * proportions below `epsilon` (0 selects 1e-4) are raised to it. The bins + 1
 * edges are written to `edges` (may be NULL; else capacity `edges_cap` >= bins + 1). @thread any
 */
MLOPS_API int mlops_stat_psi(mlops_test_result *out, double *edges, size_t edges_cap, const double *ref,
                             size_t n_ref, const double *cur, size_t n_cur, uint32_t bins, int32_t binning,
                             double epsilon);
/** PSI of two histograms over the same bins (counts or proportions), floored at `epsilon` as above. @thread any */
MLOPS_API int mlops_stat_psi_hist(mlops_test_result *out, const double *ref, const double *cur, size_t k,
                                  double epsilon);
/** Jensen–Shannon distance of two histograms (normalised first; `base` 0 means e; SciPy jensenshannon). @thread any */
MLOPS_API int mlops_stat_jensenshannon(mlops_test_result *out, const double *p, const double *q, size_t k,
                                       double base);
/** Kullback–Leibler divergence D(p || q) of two histograms (normalised first; `base` 0 means e; SciPy entropy). @thread any */
MLOPS_API int mlops_stat_kl(mlops_test_result *out, const double *p, const double *q, size_t k, double base);
/** Chi-square goodness of fit of `observed` against `expected` counts (SciPy chisquare, k - 1 dof). @thread any */
MLOPS_API int mlops_stat_chisquare(mlops_test_result *out, const double *observed, const double *expected,
                                   size_t k);
/**
 * Chi-square test of independence of the 2 x k table whose rows are `ref`
 * and `cur` counts (SciPy chi2_contingency; Yates' correction when
 * `correction` is non-zero and dof is 1). Categories empty in both rows are skipped. @thread any
 */
MLOPS_API int mlops_stat_chi2_contingency(mlops_test_result *out, const double *ref, const double *cur, size_t k,
                                          int32_t correction);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_DRIFT_H */
