/*
 * Private interfaces of the drift subsystem: special functions, sorting and
 * sample preparation, the two-sample CDF walk shared by raw samples and
 * sketches, and the sketches themselves.
 */
#ifndef MLOPS_DRIFT_INT_H
#define MLOPS_DRIFT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "mlops/drift.h"
#include "../core/core_int.h"

/* ---- special functions (special.c) ---------------------------------------- */
/* P(D_n > x) of the two-sided one-sample Kolmogorov statistic (Simard–L'Ecuyer choices, as SciPy kstwo.sf); NaN when scratch memory cannot be allocated. */
double mlops__kolmogorov_sf(int64_t n, double x);
/* P(D+_n >= x), one-sided Smirnov statistic (Birnbaum–Tingey sum). */
double mlops__smirnov_sf(int64_t n, double x);
/* Exact two-sided two-sample KS p-value for statistic h / lcm (Hodges' inside method); *out NaN when not representable. */
int mlops__ks2_exact_sf(double *out, int64_t n1, int64_t n2, int64_t g, int64_t h);
/* Regularised upper incomplete gamma Q(a, x). */
double mlops__gamma_q(double a, double x);
/* Survival function of the chi-square distribution with `dof` degrees of freedom. */
double mlops__chi2_sf(double x, double dof);
/* Limiting CDF of the Cramér–von Mises statistic (Csörgő–Faraway series, SciPy's truncation). */
double mlops__cvm_cdf_inf(double x);
/* Exact p-value P(U >= u) of the two-sample Cramér–von Mises criterion (Xiao et al.); MLOPS_ENOMEM possible, MLOPS_EINVAL for an empty sample. */
int mlops__cvm_exact_sf(double *out, double u, int64_t m, int64_t n);

/* ---- sorting and samples (sample.c) ------------------------------------------ */
/* Order-preserving map of a non-NaN double to an unsigned key, and back. */
static inline uint64_t mlops__key_of(double value)
{
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return (bits >> 63) ? ~bits : (bits | UINT64_C(0x8000000000000000));
}
static inline double mlops__value_of(uint64_t key)
{
    uint64_t bits = (key >> 63) ? (key & ~UINT64_C(0x8000000000000000)) : ~key;
    double value;
    memcpy(&value, &bits, sizeof value);
    return value;
}
/*
 * Sort `n` (< 2^32) keys ascending by LSD radix, skipping digits that never
 * vary. `tmp` holds n keys, plus MLOPS__SORT_EXTRA keys when n > MLOPS__SORT_SMALL.
 */
#define MLOPS__SORT_SMALL 65536
#define MLOPS__SORT_EXTRA (6 * 2048 / 2)
void mlops__sort_keys(uint64_t *keys, uint64_t *tmp, size_t n);
/*
 * Copy `values` without NaN into a new sorted array (mlops__free), counting
 * the NaN dropped. `what` names the sample in errors. With `finite`, ±Inf is
 * refused (MLOPS_EINVAL). An empty result is refused too.
 */
int mlops__sample_prepare(double **out, size_t *n_out, uint64_t *nan_out, const double *values, size_t n,
                          int finite, const char *what);

/* Copy `values` without NaN (counted) into a new unsorted array; ±Inf and an empty result are refused. */
int mlops__sample_copy_finite(double **out, size_t *n_out, uint64_t *nan_out, const double *values, size_t n,
                              const char *what);
/* Hoare partition around the median of three (n >= 2); afterwards v[0..j] <= pivot <= v[j+1..n), j returned. */
size_t mlops__partition_doubles(double *v, size_t n);
/* Insertion sort, ascending, for short runs of doubles (no NaN). */
void mlops__insertion_sort_doubles(double *v, size_t n);
/* Reorder `v` so that v[r] holds the value of rank r for each of the `m` ascending ranks (multi-quickselect). */
void mlops__select_ranks(double *v, size_t n, const size_t *ranks, size_t m);

/* One pass over two sorted weighted samples: the CDF-difference measures. */
typedef struct mlops__cdf_walk {
    double ks_max;     /* max of F_ref - F_cur */
    double ks_min;     /* min of F_ref - F_cur */
    double l1;         /* integral of |F_ref - F_cur| (Wasserstein-1) */
    double l2sq;       /* integral of (F_ref - F_cur)^2 */
} mlops__cdf_walk;
/* `uw`, `vw` are per-value weights (NULL: weight 1); totals are their sums. */
void mlops__cdf_walk_run(mlops__cdf_walk *out, const double *u, const double *uw, size_t nu, double u_total,
                         const double *v, const double *vw, size_t nv, double v_total);
/* KS p-value as ks_2samp decides for sizes n1, n2 and statistic d; updates *d (exact rounding) and *method. */
int mlops__ks_pvalue(double *p_out, double *d, int32_t *method, uint64_t n1, uint64_t n2);

#endif /* MLOPS_DRIFT_INT_H */
