/*
 * Raw samples: NaN-dropping sorted copies (LSD radix sort on order-preserving
 * keys), the one-pass walk over two sorted samples that yields every
 * CDF-difference measure, and the KS p-value dispatch of ks_2samp.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "drift_int.h"

void mlops__sort_keys(uint64_t *keys, uint64_t *tmp, size_t n)
{
    size_t (*count)[256];
    size_t stack_count[8][256];
    size_t i;
    int pass;
    uint64_t *src = keys, *dst = tmp;
    if (n < 2)
        return;
    if (n <= 32) {
        for (i = 1; i < n; i++) {
            uint64_t k = keys[i];
            size_t j = i;
            while (j > 0 && keys[j - 1] > k) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = k;
        }
        return;
    }
    count = stack_count;
    memset(stack_count, 0, sizeof stack_count);
    for (i = 0; i < n; i++) {
        uint64_t k = keys[i];
        for (pass = 0; pass < 8; pass++)
            count[pass][(k >> (8 * pass)) & 0xff]++;
    }
    for (pass = 0; pass < 8; pass++) {
        size_t offset = 0, b;
        uint64_t *swap;
        int shift = 8 * pass;
        if (count[pass][(src[0] >> shift) & 0xff] == n)
            continue; /* every key has the same byte here */
        for (b = 0; b < 256; b++) {
            size_t c = count[pass][b];
            count[pass][b] = offset;
            offset += c;
        }
        for (i = 0; i < n; i++) {
            uint64_t k = src[i];
            dst[count[pass][(k >> shift) & 0xff]++] = k;
        }
        swap = src;
        src = dst;
        dst = swap;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
}

int mlops__sample_prepare(double **out, size_t *n_out, uint64_t *nan_out, const double *values, size_t n,
                          int finite, const char *what)
{
    uint64_t *keys;
    double *sorted;
    size_t i, m = 0;
    uint64_t nans = 0;
    *out = NULL;
    *n_out = 0;
    *nan_out = 0;
    keys = mlops__malloc(sizeof(uint64_t) * 2 * (n ? n : 1));
    if (!keys)
        return mlops__error(MLOPS_ENOMEM, "drift", "%s sample: out of memory for %zu values", what, n);
    for (i = 0; i < n; i++) {
        double v = values[i];
        if (isnan(v)) {
            nans++;
            continue;
        }
        if (finite && isinf(v)) {
            mlops__free(keys);
            return mlops__error(MLOPS_EINVAL, "drift", "%s sample: value %zu is infinite; this measure needs finite values",
                                what, i);
        }
        keys[m++] = mlops__key_of(v == 0.0 ? 0.0 : v);
    }
    if (m == 0) {
        mlops__free(keys);
        return mlops__error(MLOPS_EINVAL, "drift", "%s sample: no values (%zu given, %llu NaN)", what, n,
                            (unsigned long long)nans);
    }
    mlops__sort_keys(keys, keys + m, m);
    sorted = mlops__malloc(sizeof(double) * m);
    if (!sorted) {
        mlops__free(keys);
        return mlops__error(MLOPS_ENOMEM, "drift", "%s sample: out of memory for %zu values", what, m);
    }
    for (i = 0; i < m; i++)
        sorted[i] = mlops__value_of(keys[i]);
    mlops__free(keys);
    *out = sorted;
    *n_out = m;
    *nan_out = nans;
    return MLOPS_OK;
}

void mlops__cdf_walk_run(mlops__cdf_walk *out, const double *u, const double *uw, size_t nu, double u_total,
                         const double *v, const double *vw, size_t nv, double v_total)
{
    size_t i = 0, j = 0;
    double cu = 0.0, cv = 0.0;
    int first = 1;
    memset(out, 0, sizeof *out);
    while (i < nu || j < nv) {
        double x = (j >= nv || (i < nu && u[i] <= v[j])) ? u[i] : v[j];
        double diff;
        while (i < nu && u[i] == x)
            cu += uw ? uw[i++] : (i++, 1.0);
        while (j < nv && v[j] == x)
            cv += vw ? vw[j++] : (j++, 1.0);
        diff = cu / u_total - cv / v_total;
        if (first || diff > out->ks_max)
            out->ks_max = diff;
        if (first || diff < out->ks_min)
            out->ks_min = diff;
        first = 0;
        if (i < nu || j < nv) {
            double next = (j >= nv || (i < nu && u[i] <= v[j])) ? u[i] : v[j];
            double delta = next - x;
            out->l1 += fabs(diff) * delta;
            out->l2sq += diff * diff * delta;
        }
    }
}

static uint64_t gcd64(uint64_t a, uint64_t b)
{
    while (b) {
        uint64_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

int mlops__ks_pvalue(double *p_out, double *d, int32_t *method, uint64_t n1, uint64_t n2)
{
    uint64_t g = gcd64(n1, n2);
    double n1g = (double)(n1 / g), n2g = (double)(n2 / g), p = NAN;
    int32_t mode = *method;
    int rc;
    if (mode == MLOPS_METHOD_AUTO)
        mode = (n1 > n2 ? n1 : n2) <= 10000 ? MLOPS_METHOD_EXACT : MLOPS_METHOD_ASYMP;
    else if (mode == MLOPS_METHOD_EXACT && n1g >= 2147483647.0 / n2g)
        mode = MLOPS_METHOD_ASYMP;
    if (mode == MLOPS_METHOD_EXACT) {
        double lcm = n1g * (double)n2;
        double h = nearbyint(*d * lcm);
        *d = h / lcm; /* the exact statistic is a multiple of 1 / lcm(n1, n2) */
        if (h == 0)
            p = 1.0;
        else if ((rc = mlops__ks2_exact_sf(&p, (int64_t)n1, (int64_t)n2, (int64_t)g, (int64_t)h)))
            return rc;
        if (!(p >= 0.0 && p <= 1.0))
            mode = MLOPS_METHOD_ASYMP; /* not representable in double precision */
    }
    if (mode == MLOPS_METHOD_ASYMP) {
        double m = (double)(n1 > n2 ? n1 : n2), n = (double)(n1 > n2 ? n2 : n1);
        int64_t en = (int64_t)nearbyint(m * n / (m + n));
        p = mlops__kolmogorov_sf(en, *d);
        if (en > 0 && isnan(p))
            return mlops__error(MLOPS_ENOMEM, "drift", "KS distribution: out of memory");
    }
    *method = mode;
    *p_out = p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
    return MLOPS_OK;
}
