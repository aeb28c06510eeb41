/*
 * Raw samples: NaN-dropping sorted copies (LSD radix sort on order-preserving
 * keys), the one-pass walk over two sorted samples that yields every
 * CDF-difference measure, and the KS p-value dispatch of ks_2samp.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "drift_int.h"

/* One LSD radix sort over `passes` digits of `bits` bits; `count` holds passes x 2^bits entries. */
static void radix_passes(uint64_t *keys, uint64_t *tmp, size_t n, int bits, int passes, uint32_t *count)
{
    const uint64_t mask = ((uint64_t)1 << bits) - 1;
    const size_t buckets = (size_t)1 << bits;
    size_t i;
    int pass;
    uint64_t *src = keys, *dst = tmp;
    memset(count, 0, sizeof(uint32_t) * buckets * (size_t)passes);
    for (i = 0; i < n; i++) {
        uint64_t k = keys[i];
        for (pass = 0; pass < passes; pass++)
            count[(size_t)pass * buckets + ((k >> (bits * pass)) & mask)]++;
    }
    for (pass = 0; pass < passes; pass++) {
        uint32_t *c = count + (size_t)pass * buckets, offset = 0;
        uint64_t *swap;
        size_t b;
        int shift = bits * pass;
        if (c[(src[0] >> shift) & mask] == n)
            continue; /* every key has the same digit here */
        for (b = 0; b < buckets; b++) {
            uint32_t v = c[b];
            c[b] = offset;
            offset += v;
        }
        for (i = 0; i < n; i++) {
            uint64_t k = src[i];
            dst[c[(k >> shift) & mask]++] = k;
        }
        swap = src;
        src = dst;
        dst = swap;
    }
    if (src != keys)
        memcpy(keys, src, n * sizeof *keys);
}

void mlops__sort_keys(uint64_t *keys, uint64_t *tmp, size_t n)
{
    size_t i;
    if (n <= 64) {
        for (i = 1; i < n; i++) {
            uint64_t k = keys[i];
            size_t j = i;
            while (j > 0 && keys[j - 1] > k) {
                keys[j] = keys[j - 1];
                j--;
            }
            keys[j] = k;
        }
    } else if (n <= MLOPS__SORT_SMALL) {
        uint32_t count[8 * 256]; /* 8 KiB: safe on small thread stacks */
        radix_passes(keys, tmp, n, 8, 8, count);
    } else {
        /* Large arrays: 6 passes of 11 bits, counters after the n scratch keys. */
        radix_passes(keys, tmp, n, 11, 6, (uint32_t *)(void *)(tmp + n));
    }
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
    if (n > UINT32_MAX)
        return mlops__error(MLOPS_ELIMIT, "drift", "%s sample: %zu values exceed the limit of 2^32 - 1", what, n);
    keys = mlops__malloc(sizeof(uint64_t) * (2 * (n ? n : 1) + MLOPS__SORT_EXTRA));
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
    uint64_t g = gcd64(n1, n2), n1_reduced = n1 / g, n2_reduced = n2 / g;
    double n1g = (double)n1_reduced, n2g = (double)n2_reduced, p = NAN;
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

int mlops__sample_copy_finite(double **out, size_t *n_out, uint64_t *nan_out, const double *values, size_t n,
                              const char *what)
{
    double *copy;
    size_t i, m = 0;
    uint64_t nans = 0;
    *out = NULL;
    *n_out = 0;
    *nan_out = 0;
    copy = mlops__malloc(sizeof(double) * (n ? n : 1));
    if (!copy)
        return mlops__error(MLOPS_ENOMEM, "drift", "%s sample: out of memory for %zu values", what, n);
    for (i = 0; i < n; i++) {
        double v = values[i];
        if (isnan(v)) {
            nans++;
        } else if (isinf(v)) {
            mlops__free(copy);
            return mlops__error(MLOPS_EINVAL, "drift", "%s sample: value %zu is infinite; this measure needs finite values",
                                what, i);
        } else {
            copy[m++] = v;
        }
    }
    if (m == 0) {
        mlops__free(copy);
        return mlops__error(MLOPS_EINVAL, "drift", "%s sample: no values (%zu given, %llu NaN)", what, n,
                            (unsigned long long)nans);
    }
    *out = copy;
    *n_out = m;
    *nan_out = nans;
    return MLOPS_OK;
}

size_t mlops__partition_doubles(double *v, size_t n)
{
    size_t i = 0, j = n - 1, mid = n / 2;
    double pivot, t;
    if (v[mid] < v[0]) { t = v[mid]; v[mid] = v[0]; v[0] = t; }
    if (v[n - 1] < v[0]) { t = v[n - 1]; v[n - 1] = v[0]; v[0] = t; }
    if (v[n - 1] < v[mid]) { t = v[n - 1]; v[n - 1] = v[mid]; v[mid] = t; }
    pivot = v[mid];
    for (;;) {
        while (v[i] < pivot)
            i++;
        while (pivot < v[j])
            j--;
        if (i >= j)
            return j;
        t = v[i];
        v[i++] = v[j];
        v[j--] = t;
    }
}

void mlops__insertion_sort_doubles(double *v, size_t n)
{
    size_t i;
    for (i = 1; i < n; i++) {
        double x = v[i];
        size_t k = i;
        while (k > 0 && v[k - 1] > x) {
            v[k] = v[k - 1];
            k--;
        }
        v[k] = x;
    }
}

/* Put in v[r - base] the value of rank r for every rank of `ranks` (ascending); v holds ranks base.. base + n - 1. */
static void select_ranks(double *v, size_t n, size_t base, const size_t *ranks, size_t m)
{
    while (m > 0 && n > 16) {
        size_t j = mlops__partition_doubles(v, n), left = 0;
        while (left < m && ranks[left] - base <= j)
            left++;
        if (left > 0)
            select_ranks(v, j + 1, base, ranks, left);
        v += j + 1;
        n -= j + 1;
        base += j + 1;
        ranks += left;
        m -= left;
    }
    if (m > 0)
        mlops__insertion_sort_doubles(v, n);
}

void mlops__select_ranks(double *v, size_t n, const size_t *ranks, size_t m)
{
    select_ranks(v, n, 0, ranks, m);
}
