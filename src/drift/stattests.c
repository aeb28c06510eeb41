/*
 * Two-sample tests and distances on raw float64 samples, and the histogram
 * divergences and chi-square tests on counts. Each follows the definition
 * SciPy uses (docs/drift.md lists them), so results agree with SciPy to
 * rounding.
 */
#include <math.h>
#include <string.h>

#include "drift_int.h"

#define SUB "drift"

static void result_init(mlops_test_result *out)
{
    memset(out, 0, sizeof *out);
    out->pvalue = NAN;
}

/* Sorted NaN-free copies of both samples, sizes and NaN counts recorded in `out`. */
static int prepare_pair(double **a, size_t *na, double **b, size_t *nb, mlops_test_result *out, const double *ref,
                        size_t n_ref, const double *cur, size_t n_cur, int finite)
{
    int rc;
    *a = *b = NULL;
    if ((rc = mlops__sample_prepare(a, na, &out->nan_ref, ref, n_ref, finite, "reference")))
        return rc;
    if ((rc = mlops__sample_prepare(b, nb, &out->nan_cur, cur, n_cur, finite, "current"))) {
        mlops__free(*a);
        *a = NULL;
        return rc;
    }
    out->n_ref = *na;
    out->n_cur = *nb;
    return MLOPS_OK;
}

static int check_pair(const char *fn, const mlops_test_result *out, const double *ref, const double *cur)
{
    if (!out)
        return mlops__error_null(SUB, fn, "out");
    if (!ref)
        return mlops__error_null(SUB, fn, "ref");
    if (!cur)
        return mlops__error_null(SUB, fn, "cur");
    return MLOPS_OK;
}

static int check_method(const char *fn, int32_t method)
{
    if (method < MLOPS_METHOD_AUTO || method > MLOPS_METHOD_ASYMP)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: method %d is not one of MLOPS_METHOD_AUTO/EXACT/ASYMP", fn,
                            (int)method);
    return MLOPS_OK;
}

int mlops_stat_ks_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                        int32_t method)
{
    double *a, *b, d, max_s, min_s;
    size_t na, nb;
    mlops__cdf_walk walk;
    int rc;
    if ((rc = check_pair("mlops_stat_ks_2samp", out, ref, cur)) || (rc = check_method("mlops_stat_ks_2samp", method)))
        return rc;
    result_init(out);
    if ((rc = prepare_pair(&a, &na, &b, &nb, out, ref, n_ref, cur, n_cur, 0)))
        return rc;
    mlops__cdf_walk_run(&walk, a, NULL, na, (double)na, b, NULL, nb, (double)nb);
    max_s = walk.ks_max;
    min_s = -walk.ks_min;
    min_s = min_s < 0 ? 0 : (min_s > 1 ? 1 : min_s);
    d = min_s > max_s ? min_s : max_s;
    out->method = method;
    rc = mlops__ks_pvalue(&out->pvalue, &d, &out->method, na, nb);
    out->statistic = d;
    mlops__free(a);
    mlops__free(b);
    return rc;
}

/* The CDF walk of two raw samples of finite values. */
static int cdf_measures(mlops__cdf_walk *walk, double *ref_std, mlops_test_result *out, const char *fn,
                        const double *ref, size_t n_ref, const double *cur, size_t n_cur)
{
    double *a, *b;
    size_t na, nb, i;
    int rc;
    if ((rc = check_pair(fn, out, ref, cur)))
        return rc;
    result_init(out);
    if ((rc = prepare_pair(&a, &na, &b, &nb, out, ref, n_ref, cur, n_cur, 1)))
        return mlops__error_prefix("%s", fn);
    mlops__cdf_walk_run(walk, a, NULL, na, (double)na, b, NULL, nb, (double)nb);
    if (ref_std) {
        double mean = 0.0, ss = 0.0;
        for (i = 0; i < na; i++)
            mean += a[i];
        mean /= (double)na;
        for (i = 0; i < na; i++)
            ss += (a[i] - mean) * (a[i] - mean);
        *ref_std = sqrt(ss / (double)na);
    }
    mlops__free(a);
    mlops__free(b);
    return MLOPS_OK;
}

int mlops_stat_wasserstein(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                           size_t n_cur)
{
    mlops__cdf_walk walk;
    int rc = cdf_measures(&walk, NULL, out, "mlops_stat_wasserstein", ref, n_ref, cur, n_cur);
    if (rc == MLOPS_OK)
        out->statistic = walk.l1;
    return rc;
}

int mlops_stat_wasserstein_norm(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur,
                                size_t n_cur)
{
    mlops__cdf_walk walk;
    double std = 0.0;
    int rc = cdf_measures(&walk, &std, out, "mlops_stat_wasserstein_norm", ref, n_ref, cur, n_cur);
    if (rc == MLOPS_OK)
        out->statistic = walk.l1 / fmax(std, 0.001);
    return rc;
}

int mlops_stat_energy(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur, size_t n_cur)
{
    mlops__cdf_walk walk;
    int rc = cdf_measures(&walk, NULL, out, "mlops_stat_energy", ref, n_ref, cur, n_cur);
    if (rc == MLOPS_OK)
        out->statistic = sqrt(2.0) * sqrt(walk.l2sq);
    return rc;
}

int mlops_stat_cvm_2samp(mlops_test_result *out, const double *ref, size_t n_ref, const double *cur, size_t n_cur,
                         int32_t method)
{
    double *a, *b, u_a = 0.0, u_b = 0.0, u, k, nn, t;
    size_t na, nb, i = 0, j = 0;
    int rc;
    if ((rc = check_pair("mlops_stat_cvm_2samp", out, ref, cur)) ||
        (rc = check_method("mlops_stat_cvm_2samp", method)))
        return rc;
    result_init(out);
    if ((rc = prepare_pair(&a, &na, &b, &nb, out, ref, n_ref, cur, n_cur, 0)))
        return rc;
    if (na < 2 || nb < 2) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_cvm_2samp: each sample needs at least 2 values (%zu and %zu)",
                          na, nb);
        goto out_free;
    }
    /* Average ranks of the pooled sample, tie group by tie group. */
    while (i < na || j < nb) {
        double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
        size_t i0 = i, j0 = j, before = i + j;
        double rank;
        while (i < na && a[i] == x)
            i++;
        while (j < nb && b[j] == x)
            j++;
        rank = (double)before + (double)(i - i0 + j - j0 + 1) / 2.0;
        for (; i0 < i; i0++)
            u_a += (rank - (double)(i0 + 1)) * (rank - (double)(i0 + 1));
        for (; j0 < j; j0++)
            u_b += (rank - (double)(j0 + 1)) * (rank - (double)(j0 + 1));
    }
    u = (double)na * u_a + (double)nb * u_b;
    k = (double)na * (double)nb;
    nn = (double)(na + nb);
    t = u / (k * nn) - (4 * k - 1) / (6 * nn);
    out->statistic = t;
    if (method == MLOPS_METHOD_AUTO)
        method = (na > nb ? na : nb) > 20 ? MLOPS_METHOD_ASYMP : MLOPS_METHOD_EXACT;
    out->method = method;
    if (method == MLOPS_METHOD_EXACT) {
        rc = mlops__cvm_exact_sf(&out->pvalue, u, (int64_t)na, (int64_t)nb);
    } else {
        double et = (1 + 1 / nn) / 6;
        double vt = (nn + 1) * (4 * k * nn - 3 * ((double)na * na + (double)nb * nb) - 2 * k) / (45 * nn * nn * 4 * k);
        double tn = 1.0 / 6 + (t - et) / sqrt(45 * vt);
        out->pvalue = tn < 0.003 ? 1.0 : fmax(0.0, 1.0 - mlops__cvm_cdf_inf(tn));
    }
out_free:
    mlops__free(a);
    mlops__free(b);
    return rc;
}

/* Least-squares quadratic through (x[i], y[i]) evaluated at `at` (centred and scaled for conditioning). */
static double quadratic_fit_eval(const double *x, const double *y, int n, double at)
{
    double xm = 0, xs = 0, m[3][4] = {{0}}, c[3];
    int i, r, col;
    for (i = 0; i < n; i++)
        xm += x[i];
    xm /= n;
    for (i = 0; i < n; i++)
        xs = fmax(xs, fabs(x[i] - xm));
    for (i = 0; i < n; i++) {
        double t = (x[i] - xm) / xs, p[3] = {1, t, t * t};
        for (r = 0; r < 3; r++) {
            for (col = 0; col < 3; col++)
                m[r][col] += p[r] * p[col];
            m[r][3] += p[r] * y[i];
        }
    }
    for (col = 0; col < 3; col++) {
        int piv = col;
        for (r = col + 1; r < 3; r++)
            if (fabs(m[r][col]) > fabs(m[piv][col]))
                piv = r;
        for (i = 0; i < 4; i++) {
            double tmp = m[col][i];
            m[col][i] = m[piv][i];
            m[piv][i] = tmp;
        }
        for (r = col + 1; r < 3; r++) {
            double f = m[r][col] / m[col][col];
            for (i = col; i < 4; i++)
                m[r][i] -= f * m[col][i];
        }
    }
    for (r = 2; r >= 0; r--) {
        double s = m[r][3];
        for (col = r + 1; col < 3; col++)
            s -= m[r][col] * c[col];
        c[r] = s / m[r][r];
    }
    at = (at - xm) / xs;
    return c[0] + c[1] * at + c[2] * at * at;
}

int mlops_stat_anderson_ksamp(mlops_test_result *out, const double *const *samples, const size_t *sizes, size_t k)
{
    static const double b0[] = {0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085};
    static const double b1[] = {-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615};
    static const double b2[] = {-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154};
    static const double sig[] = {0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001};
    double **sorted = NULL, *all = NULL, *all_raw = NULL, a2kn = 0.0, hsum = 0.0, hh, g = 0.0, cum = 0.0;
    double a, b, c, d, sigmasq, mm, a2, crit[7], logsig[7], cmin, cmax, nn;
    size_t *n = NULL, total = 0, i, j, s, nall;
    uint64_t nan_all;
    int rc = MLOPS_OK;
    if (!out)
        return mlops__error_null(SUB, "mlops_stat_anderson_ksamp", "out");
    if (!samples)
        return mlops__error_null(SUB, "mlops_stat_anderson_ksamp", "samples");
    if (!sizes)
        return mlops__error_null(SUB, "mlops_stat_anderson_ksamp", "sizes");
    if (k < 2)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_anderson_ksamp: needs at least 2 samples, got %zu", k);
    result_init(out);
    sorted = mlops__calloc(k, sizeof *sorted);
    n = mlops__calloc(k, sizeof *n);
    if (!sorted || !n) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "mlops_stat_anderson_ksamp: out of memory");
        goto out_free;
    }
    for (s = 0; s < k; s++) {
        uint64_t nans = 0;
        if (!samples[s]) {
            rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_anderson_ksamp: sample %zu is NULL", s);
            goto out_free;
        }
        if ((rc = mlops__sample_prepare(&sorted[s], &n[s], &nans, samples[s], sizes[s], 0,
                                        s == 0 ? "reference" : "current"))) {
            mlops__error_prefix("mlops_stat_anderson_ksamp: sample %zu", s);
            goto out_free;
        }
        total += n[s];
        if (s == 0) {
            out->n_ref = n[s];
            out->nan_ref = nans;
        } else {
            out->n_cur += n[s];
            out->nan_cur += nans;
        }
    }
    all_raw = mlops__malloc(sizeof(double) * total);
    if (!all_raw) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "mlops_stat_anderson_ksamp: out of memory");
        goto out_free;
    }
    for (s = 0, j = 0; s < k; s++) {
        memcpy(all_raw + j, sorted[s], sizeof(double) * n[s]);
        j += n[s];
    }
    if ((rc = mlops__sample_prepare(&all, &nall, &nan_all, all_raw, total, 0, "pooled")))
        goto out_free;
    if (all[0] == all[nall - 1] || nall < 4) {
        rc = mlops__error(MLOPS_EINVAL, SUB,
                          "mlops_stat_anderson_ksamp: needs at least 4 values and 2 distinct ones (%zu values)", nall);
        goto out_free;
    }
    nn = (double)nall;
    {
        size_t *pos = mlops__calloc(k, sizeof *pos);
        double *inner = mlops__calloc(k, sizeof *inner);
        if (!pos || !inner) {
            mlops__free(pos);
            mlops__free(inner);
            rc = mlops__error(MLOPS_ENOMEM, SUB, "mlops_stat_anderson_ksamp: out of memory");
            goto out_free;
        }
        for (i = 0; i < nall;) {
            double z = all[i], lj, bj;
            size_t i0 = i;
            while (i < nall && all[i] == z)
                i++;
            lj = (double)(i - i0);
            bj = (double)i0 + lj / 2.0;
            for (s = 0; s < k; s++) {
                size_t p0 = pos[s];
                double mij, fij;
                while (pos[s] < n[s] && sorted[s][pos[s]] == z)
                    pos[s]++;
                fij = (double)(pos[s] - p0);
                mij = (double)pos[s] - fij / 2.0;
                inner[s] += lj / nn * (nn * mij - bj * (double)n[s]) * (nn * mij - bj * (double)n[s]) /
                            (bj * (nn - bj) - nn * lj / 4.0);
            }
        }
        for (s = 0; s < k; s++)
            a2kn += inner[s] / (double)n[s];
        mlops__free(pos);
        mlops__free(inner);
    }
    a2kn *= (nn - 1.0) / nn;
    for (s = 0; s < k; s++)
        hsum += 1.0 / (double)n[s];
    /* h = sum_{i=1}^{N-1} 1/i; g = sum_{i=1}^{N-2} sum_{j=i+1}^{N-1} 1/((N-i) j), accumulated as SciPy does. */
    for (i = 0; i + 2 < nall; i++) {
        cum += 1.0 / (double)(nall - 1 - i);
        g += cum / (double)(i + 2);
    }
    hh = cum + 1.0;
    {
        double kk = (double)k;
        a = (4 * g - 6) * (kk - 1) + (10 - 6 * g) * hsum;
        b = (2 * g - 4) * kk * kk + 8 * hh * kk + (2 * g - 14 * hh - 4) * hsum - 8 * hh + 4 * g - 6;
        c = (6 * hh + 2 * g - 2) * kk * kk + (4 * hh - 4 * g + 6) * kk + (2 * hh - 6) * hsum + 4 * hh;
        d = (2 * hh + 6) * kk * kk - 4 * hh * kk;
        sigmasq = (a * nn * nn * nn + b * nn * nn + c * nn + d) / ((nn - 1.) * (nn - 2.) * (nn - 3.));
        mm = kk - 1;
    }
    a2 = (a2kn - mm) / sqrt(sigmasq);
    cmin = INFINITY;
    cmax = -INFINITY;
    for (i = 0; i < 7; i++) {
        crit[i] = b0[i] + b1[i] / sqrt(mm) + b2[i] / mm;
        logsig[i] = log(sig[i]);
        cmin = fmin(cmin, crit[i]);
        cmax = fmax(cmax, crit[i]);
    }
    out->statistic = a2;
    if (a2 < cmin)
        out->pvalue = 0.25;
    else if (a2 > cmax)
        out->pvalue = 0.001;
    else
        out->pvalue = exp(quadratic_fit_eval(crit, logsig, 7, a2));
out_free:
    if (sorted)
        for (s = 0; s < k; s++)
            mlops__free(sorted[s]);
    mlops__free(sorted);
    mlops__free(n);
    mlops__free(all_raw);
    mlops__free(all);
    return rc;
}

/* Index of the bin holding `v`: searchsorted(edges, v, right) - 1 clamped to [0, bins - 1]. */
static size_t bin_of(const double *edges, size_t bins, double v)
{
    size_t lo = 0, hi = bins + 1;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (edges[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0 : (lo - 1 >= bins ? bins - 1 : lo - 1);
}

/* PSI of two proportion vectors already normalised, floored at eps. */
static double psi_sum(const double *p, const double *q, size_t k, double eps)
{
    double psi = 0.0;
    size_t i;
    for (i = 0; i < k; i++) {
        double a = fmax(p[i], eps), b = fmax(q[i], eps);
        psi += (b - a) * log(b / a);
    }
    return psi;
}

int mlops_stat_psi(mlops_test_result *out, double *edges, size_t edges_cap, const double *ref, size_t n_ref,
                   const double *cur, size_t n_cur, uint32_t bins, int32_t binning, double epsilon)
{
    double *a, *e = NULL, *pr = NULL, *pc = NULL;
    size_t na, nb, i, nr = 0, *ranks = NULL;
    int rc;
    if ((rc = check_pair("mlops_stat_psi", out, ref, cur)))
        return rc;
    if (bins < 1 || bins > 100000)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_psi: bins %u outside [1, 100000]", bins);
    if (binning != MLOPS_BINS_QUANTILE && binning != MLOPS_BINS_WIDTH)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_psi: binning %d is not MLOPS_BINS_QUANTILE/WIDTH",
                            (int)binning);
    if (!(epsilon >= 0.0 && epsilon < 1.0))
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_psi: epsilon %g outside [0, 1)", epsilon);
    if (edges && edges_cap < (size_t)bins + 1)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_stat_psi: edges capacity %zu below the %u needed", edges_cap,
                            bins + 1);
    if (epsilon == 0.0)
        epsilon = 1e-4;
    result_init(out);
    /* The reference gives up only the order statistics the edges need (multi-quickselect); nothing is sorted. */
    if ((rc = mlops__sample_copy_finite(&a, &na, &out->nan_ref, ref, n_ref, "reference")))
        return mlops__error_prefix("mlops_stat_psi");
    e = mlops__malloc(sizeof(double) * ((size_t)bins + 1));
    pr = mlops__calloc(bins, sizeof(double));
    pc = mlops__calloc(bins, sizeof(double));
    ranks = mlops__malloc(sizeof(size_t) * 2 * ((size_t)bins + 1));
    if (!e || !pr || !pc || !ranks) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "mlops_stat_psi: out of memory");
        goto out_free;
    }
    if (binning == MLOPS_BINS_WIDTH) {
        ranks[nr++] = 0;
        if (na > 1)
            ranks[nr++] = na - 1;
    } else {
        for (i = 0; i <= bins; i++) {
            size_t lo = (size_t)floor((double)i / (double)bins * (double)(na - 1));
            if (nr == 0 || ranks[nr - 1] < lo)
                ranks[nr++] = lo;
            if (lo + 1 < na && ranks[nr - 1] < lo + 1)
                ranks[nr++] = lo + 1;
        }
    }
    mlops__select_ranks(a, na, ranks, nr);
    for (i = 0; i <= bins; i++) {
        if (binning == MLOPS_BINS_WIDTH) {
            double step = (a[na - 1] - a[0]) / (double)bins;
            e[i] = i == bins ? a[na - 1] : (double)i * step + a[0];
        } else {
            double pos = (double)i / (double)bins * (double)(na - 1);
            size_t lo = (size_t)floor(pos);
            double frac = pos - (double)lo;
            e[i] = lo + 1 < na ? a[lo] + (a[lo + 1] - a[lo]) * frac : a[na - 1];
        }
    }
    for (i = 0; i < na; i++)
        pr[bin_of(e, bins, a[i])] += 1.0;
    nb = 0;
    for (i = 0; i < n_cur; i++) {
        double v = cur[i];
        if (isnan(v)) {
            out->nan_cur++;
            continue;
        }
        if (isinf(v)) {
            rc = mlops__error(MLOPS_EINVAL, SUB,
                              "mlops_stat_psi: current sample: value %zu is infinite; this measure needs finite values", i);
            goto out_free;
        }
        pc[bin_of(e, bins, v)] += 1.0;
        nb++;
    }
    if (nb == 0) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_psi: current sample: no values (%zu given)", n_cur);
        goto out_free;
    }
    out->n_ref = na;
    out->n_cur = nb;
    for (i = 0; i < bins; i++) {
        pr[i] /= (double)na;
        pc[i] /= (double)nb;
    }
    out->statistic = psi_sum(pr, pc, bins, epsilon);
    if (edges)
        memcpy(edges, e, sizeof(double) * ((size_t)bins + 1));
out_free:
    mlops__free(a);
    mlops__free(ranks);
    mlops__free(e);
    mlops__free(pr);
    mlops__free(pc);
    return rc;
}

/* Validate a histogram (finite, non-negative, positive sum) and return its sum. */
static int hist_sum(double *sum_out, const char *fn, const char *name, const double *h, size_t k)
{
    double sum = 0.0;
    size_t i;
    for (i = 0; i < k; i++) {
        if (!(h[i] >= 0.0) || isinf(h[i]))
            return mlops__error(MLOPS_EINVAL, SUB, "%s: %s[%zu] = %g is not a finite non-negative count", fn, name, i,
                                h[i]);
        sum += h[i];
    }
    if (!(sum > 0.0))
        return mlops__error(MLOPS_EINVAL, SUB, "%s: %s sums to zero", fn, name);
    *sum_out = sum;
    return MLOPS_OK;
}

static int check_hist_pair(double *sp, double *sq, mlops_test_result *out, const char *fn, const double *p,
                           const double *q, size_t k)
{
    int rc;
    if (!out)
        return mlops__error_null(SUB, fn, "out");
    if (!p)
        return mlops__error_null(SUB, fn, "p");
    if (!q)
        return mlops__error_null(SUB, fn, "q");
    if (k == 0)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: no bins", fn);
    if ((rc = hist_sum(sp, fn, "p", p, k)) || (rc = hist_sum(sq, fn, "q", q, k)))
        return rc;
    result_init(out);
    return MLOPS_OK;
}

int mlops_stat_psi_hist(mlops_test_result *out, const double *ref, const double *cur, size_t k, double epsilon)
{
    double sp, sq, psi = 0.0;
    size_t i;
    int rc;
    if ((rc = check_hist_pair(&sp, &sq, out, "mlops_stat_psi_hist", ref, cur, k)))
        return rc;
    if (!(epsilon >= 0.0 && epsilon < 1.0))
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_stat_psi_hist: epsilon %g outside [0, 1)", epsilon);
    if (epsilon == 0.0)
        epsilon = 1e-4;
    for (i = 0; i < k; i++) {
        double a = fmax(ref[i] / sp, epsilon), b = fmax(cur[i] / sq, epsilon);
        psi += (b - a) * log(b / a);
    }
    out->statistic = psi;
    return MLOPS_OK;
}

/* x log(x / y) with SciPy's rel_entr conventions. */
static double rel_entr(double x, double y)
{
    if (x > 0 && y > 0)
        return x * log(x / y);
    if (x == 0 && y >= 0)
        return 0.0;
    return INFINITY;
}

static int check_base(const char *fn, double base)
{
    if (base != 0.0 && !(base > 0.0 && base != 1.0 && isfinite(base)))
        return mlops__error(MLOPS_EINVAL, SUB, "%s: base %g must be 0 (natural) or positive and not 1", fn, base);
    return MLOPS_OK;
}

int mlops_stat_jensenshannon(mlops_test_result *out, const double *p, const double *q, size_t k, double base)
{
    double sp, sq, left = 0.0, right = 0.0, js;
    size_t i;
    int rc;
    if ((rc = check_hist_pair(&sp, &sq, out, "mlops_stat_jensenshannon", p, q, k)) ||
        (rc = check_base("mlops_stat_jensenshannon", base)))
        return rc;
    for (i = 0; i < k; i++) {
        double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2.0;
        left += rel_entr(a, m);
        right += rel_entr(b, m);
    }
    js = (left + right) / 2.0;
    if (base != 0.0)
        js /= log(base);
    out->statistic = sqrt(js);
    return MLOPS_OK;
}

int mlops_stat_kl(mlops_test_result *out, const double *p, const double *q, size_t k, double base)
{
    double sp, sq, s = 0.0;
    size_t i;
    int rc;
    if ((rc = check_hist_pair(&sp, &sq, out, "mlops_stat_kl", p, q, k)) || (rc = check_base("mlops_stat_kl", base)))
        return rc;
    for (i = 0; i < k; i++)
        s += rel_entr(p[i] / sp, q[i] / sq);
    if (base != 0.0)
        s /= log(base);
    out->statistic = s;
    return MLOPS_OK;
}

/* Pearson's sum over cells; a cell expecting 0 adds +Inf when observed, nothing when not. */
static double pearson_term(double o, double e)
{
    if (e == 0.0)
        return o == 0.0 ? 0.0 : INFINITY;
    return (o - e) * (o - e) / e;
}

int mlops_stat_chisquare(mlops_test_result *out, const double *observed, const double *expected, size_t k)
{
    double so, se, stat = 0.0;
    size_t i;
    int rc;
    if ((rc = check_hist_pair(&so, &se, out, "mlops_stat_chisquare", observed, expected, k)))
        return rc;
    if (fabs(so - se) / fmin(so, se) > 1e-8)
        return mlops__error(MLOPS_EINVAL, SUB,
                            "mlops_stat_chisquare: observed counts sum to %.17g but expected counts to %.17g", so, se);
    for (i = 0; i < k; i++)
        stat += pearson_term(observed[i], expected[i]);
    out->statistic = stat;
    out->dof = (int32_t)(k - 1);
    out->pvalue = k > 1 ? mlops__chi2_sf(stat, (double)(k - 1)) : 1.0;
    out->n_ref = (uint64_t)se;
    out->n_cur = (uint64_t)so;
    return MLOPS_OK;
}

int mlops_stat_chi2_contingency(mlops_test_result *out, const double *ref, const double *cur, size_t k,
                                int32_t correction)
{
    double s0, s1, total, stat = 0.0;
    size_t i, used = 0;
    int rc;
    if ((rc = check_hist_pair(&s0, &s1, out, "mlops_stat_chi2_contingency", ref, cur, k)))
        return rc;
    total = s0 + s1;
    for (i = 0; i < k; i++)
        used += ref[i] + cur[i] > 0.0;
    out->dof = (int32_t)(used - 1);
    out->n_ref = (uint64_t)s0;
    out->n_cur = (uint64_t)s1;
    if (used < 2) {
        out->statistic = 0.0;
        out->pvalue = 1.0;
        return MLOPS_OK;
    }
    for (i = 0; i < k; i++) {
        double col = ref[i] + cur[i], obs[2] = {ref[i], cur[i]}, rows[2] = {s0, s1};
        int r;
        if (col == 0.0)
            continue;
        for (r = 0; r < 2; r++) {
            double e = rows[r] * col / total, o = obs[r];
            if (correction && used == 2) {
                double diff = e - o, mag = fmin(0.5, fabs(diff));
                o += diff > 0 ? mag : (diff < 0 ? -mag : 0.0);
            }
            stat += (o - e) * (o - e) / e;
        }
    }
    out->statistic = stat;
    out->pvalue = mlops__chi2_sf(stat, (double)(used - 1));
    return MLOPS_OK;
}
