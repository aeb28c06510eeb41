/*
 * Special functions behind the p-values: the Kolmogorov distribution of the
 * one-sample statistic (the branch choices of Simard and L'Ecuyer, 2011:
 * Ruben–Gambino closed forms, the Durbin matrix in the form of Marsaglia,
 * Tsang and Wang, 2003, Pomeranz' recursion, the Pelz–Good expansion and the
 * Birnbaum–Tingey sum for the one-sided Smirnov tail), the exact two-sample
 * Smirnov distribution (Hodges' lattice-path method in the 1 - p form of
 * Viehmann, 2021), the regularised incomplete gamma function (series and
 * Lentz continued fraction), and the Cramér–von Mises distributions
 * (Csörgő–Faraway series for the limit; Xiao, Gordon and Yakovlev's exact
 * enumeration for two samples).
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "drift_int.h"

#define SCALE_UP 0x1p128   /* rescaling factor of the matrix and recursion methods */
#define SCALE_DOWN 0x1p-128
#define SCALE_EXP 128
#define PI_SQUARED (M_PI * M_PI)

static double clip01(double p)
{
    return p < 0.0 ? 0.0 : (p > 1.0 ? 1.0 : p);
}

static int64_t floordiv64(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t ceildiv64(int64_t a, int64_t b)
{
    return -floordiv64(-a, b);
}

/* log(n!) - n log(n) by Stirling's series, for the Ruben–Gambino branch at large n. */
static double log_nfact_div_npow_n(int64_t n)
{
    static const double coef[] = {-2.955065359477124183e-2, 6.4102564102564102564e-3,
                                  -1.9175269175269175269e-3, 8.4175084175084175084e-4,
                                  -5.952380952380952381e-4, 7.9365079365079365079e-4,
                                  -2.7777777777777777778e-3, 8.3333333333333333333e-2};
    double rn = 1.0 / (double)n, x = rn / (double)n, poly = 0.0;
    size_t i;
    for (i = 0; i < sizeof coef / sizeof coef[0]; i++)
        poly = poly * x + coef[i];
    return log((double)n) / 2 - (double)n + log(2 * M_PI) / 2 + rn * poly;
}

/* c = a * b for m x m row-major matrices. */
static void matmul(double *c, const double *a, const double *b, int m)
{
    int i, j, l;
    for (i = 0; i < m; i++) {
        double *row = c + (size_t)i * m;
        memset(row, 0, sizeof(double) * (size_t)m);
        for (l = 0; l < m; l++) {
            double f = a[(size_t)i * m + l];
            const double *brow = b + (size_t)l * m;
            if (f == 0.0)
                continue;
            for (j = 0; j < m; j++)
                row[j] += f * brow[j];
        }
    }
}

/* P(D_n <= d) by the Durbin matrix: the (k, k) entry of H^n times n!/n^n, with exponent bookkeeping. */
static double kolmogorov_cdf_durbin(int64_t n, double d)
{
    double nd = (double)n * d, h, fac = 1.0, tt, p;
    double *H, *P, *T, *v, *w;
    int k, m, i, j;
    int64_t nn, expnt = 0, hexpnt = 0, r;
    if (d >= 1.0)
        return 1.0;
    if (nd <= 0.5)
        return 0.0;
    k = (int)ceil(nd);
    h = k - nd;
    m = 2 * k - 1;
    H = mlops__calloc((size_t)m * m * 3 + 2 * (size_t)m, sizeof(double));
    if (!H)
        return NAN;
    P = H + (size_t)m * m;
    T = P + (size_t)m * m;
    v = T + (size_t)m * m;
    w = v + m;
    for (j = 1; j <= m; j++) {
        v[j - 1] = 1.0 - pow(h, j);
        w[j - 1] = fac;
        fac /= j;
        v[j - 1] *= fac;
    }
    tt = pow(fmax(2 * h - 1.0, 0.0), m) - 2 * pow(h, m);
    v[m - 1] = (1.0 + tt) * fac;
    for (i = 1; i < m; i++) {
        for (r = i - 1; r < m; r++)
            H[(size_t)r * m + i] = w[r - (i - 1)];
    }
    for (r = 0; r < m; r++)
        H[(size_t)r * m] = v[r];
    for (j = 0; j < m; j++)
        H[(size_t)(m - 1) * m + j] = v[m - 1 - j];
    for (i = 0; i < m; i++)
        P[(size_t)i * m + i] = 1.0;
    for (nn = n; nn > 0; nn /= 2) {
        if (nn % 2) {
            matmul(T, P, H, m);
            memcpy(P, T, sizeof(double) * (size_t)m * m);
            expnt += hexpnt;
        }
        matmul(T, H, H, m);
        memcpy(H, T, sizeof(double) * (size_t)m * m);
        hexpnt *= 2;
        if (fabs(H[(size_t)(k - 1) * m + (k - 1)]) > SCALE_UP) {
            for (r = 0; r < (int64_t)m * m; r++)
                H[r] *= SCALE_DOWN;
            hexpnt += SCALE_EXP;
        }
    }
    p = P[(size_t)(k - 1) * m + (k - 1)];
    mlops__free(H);
    for (r = 1; r <= n; r++) {
        p = (double)r * p / (double)n;
        if (fabs(p) < SCALE_DOWN) {
            p *= SCALE_UP;
            expnt -= SCALE_EXP;
        }
    }
    return expnt ? ldexp(p, (int)expnt) : p;
}

/* Row interval [j1, j2] of Pomeranz' recursion at step i. */
static void pomeranz_bounds(int64_t *j1_out, int64_t *j2_out, int64_t i, int64_t n, int64_t ll, int64_t ceilf,
                            int64_t roundf)
{
    int64_t j1, j2;
    if (i == 0) {
        j1 = -ll - ceilf - 1;
        j2 = ll + ceilf - 1;
    } else if ((i + 1) % 2 == 0) {
        int64_t half = (i + 1) / 2;
        if (half == n + 1) {
            j1 = n - ll - ceilf - 1;
            j2 = n + ll + ceilf - 1;
        } else {
            j1 = half - 1 - ll - roundf - 1;
            j2 = half + ll - 1 + ceilf - 1;
        }
    } else {
        int64_t half = (i + 1) / 2;
        j1 = half - 1 - ll - 1;
        j2 = half + ll + roundf - 1;
    }
    *j1_out = j1 + 2 > 0 ? j1 + 2 : 0;
    *j2_out = j2 < n ? j2 : n;
}

/* P(D_n <= x) by Pomeranz' recursion (1974), used for n <= 140. */
static double kolmogorov_cdf_pomeranz(int64_t n, double x)
{
    double t = (double)n * x, f, g, ans;
    int64_t ll = (int64_t)floor(t), ceilf, roundf, npw, i, j1, j2, k1, expnt = 0, v0s = 0, v1s = 0, c, a;
    double *gp, *g2p, *g12p, *v0, *v1, *swap;
    f = t - (double)ll;
    g = fmin(f, 1.0 - f);
    ceilf = f > 0 ? 1 : 0;
    roundf = f > 0.5 ? 1 : 0;
    npw = 2 * (ll + 1);
    gp = mlops__calloc((size_t)npw * 5, sizeof(double));
    if (!gp)
        return NAN;
    g2p = gp + npw;
    g12p = g2p + npw;
    v0 = g12p + npw;
    v1 = v0 + npw;
    gp[0] = g2p[0] = g12p[0] = 1.0;
    for (i = 1; i < npw; i++) {
        gp[i] = gp[i - 1] * (g / (double)n) / (double)i;
        g2p[i] = g2p[i - 1] * (2 * g / (double)n) / (double)i;
        g12p[i] = g12p[i - 1] * ((1 - 2 * g) / (double)n) / (double)i;
    }
    v1[0] = 1.0;
    pomeranz_bounds(&j1, &j2, 0, n, ll, ceilf, roundf);
    for (i = 1; i < 2 * n + 2; i++) {
        const double *pw;
        int64_t ln2, conv_start, conv_len, tmp;
        k1 = j1;
        swap = v0;
        v0 = v1;
        v1 = swap;
        tmp = v0s;
        v0s = v1s;
        v1s = tmp;
        memset(v1, 0, sizeof(double) * (size_t)npw);
        pomeranz_bounds(&j1, &j2, i, n, ll, ceilf, roundf);
        pw = (i == 1 || i == 2 * n + 1) ? gp : (i % 2 ? g2p : g12p);
        ln2 = j2 - k1 + 1;
        if (ln2 <= 0)
            continue;
        conv_start = j1 - k1;
        conv_len = j2 - j1 + 1;
        {
            double vmax = 0.0;
            for (c = 0; c < conv_len && c < npw; c++) {
                int64_t idx = conv_start + c;
                double sum = 0.0;
                for (a = 0; a <= idx; a++) {
                    int64_t src = k1 - v0s + a;
                    if (a >= ln2 || idx - a >= ln2 || src < 0 || src >= npw)
                        continue;
                    sum += v0[src] * pw[idx - a];
                }
                v1[c] = sum;
                if (sum > vmax)
                    vmax = sum;
            }
            if (vmax > 0 && vmax < SCALE_DOWN) {
                for (c = 0; c < npw; c++)
                    v1[c] *= SCALE_UP;
                expnt -= SCALE_EXP;
            }
        }
        v1s = v0s + j1 - k1;
    }
    ans = (n - v1s >= 0 && n - v1s < npw) ? v1[n - v1s] : 0.0;
    mlops__free(gp);
    for (i = 1; i <= n; i++) {
        if (fabs(ans) > SCALE_UP) {
            ans *= SCALE_DOWN;
            expnt += SCALE_EXP;
        }
        ans *= (double)i;
    }
    return expnt ? ldexp(ans, (int)expnt) : ans;
}

/* Pelz–Good asymptotic expansion of P(D_n <= x) in powers of 1/sqrt(n) (1976). */
static double kolmogorov_cdf_pelz_good(int64_t n, double x)
{
    double z, z2, z3, z4, z6, qlog, q, k1a, k1b, k2a, k2b, k2c, k3a, k3b, k3c, k3d, kk[4] = {0, 0, 0, 0};
    double k2extra = 0, k3extra = 0, sqrt3z, sum;
    int64_t maxk, kq;
    int i;
    if (x <= 0.0)
        return 0.0;
    if (x >= 1.0)
        return 1.0;
    z = sqrt((double)n) * x;
    z2 = z * z;
    z3 = z2 * z;
    z4 = z2 * z2;
    z6 = z4 * z2;
    qlog = -PI_SQUARED / 8 / z2;
    if (qlog < -708)
        return 0.0;
    q = exp(qlog);
    k1a = -z2;
    k1b = PI_SQUARED / 4;
    k2a = 6 * z6 + 2 * z4;
    k2b = (2 * z4 - 5 * z2) * PI_SQUARED / 4;
    k2c = PI_SQUARED * PI_SQUARED * (1 - 2 * z2) / 16;
    k3d = PI_SQUARED * PI_SQUARED * PI_SQUARED * (5 - 30 * z2) / 64;
    k3c = PI_SQUARED * PI_SQUARED * (-60 * z2 + 212 * z4) / 16;
    k3b = PI_SQUARED * (135 * z4 - 96 * z6) / 4;
    k3a = -30 * z6 - 90 * z4 * z4;
    maxk = (int64_t)ceil(16 * z / M_PI);
    for (kq = maxk; kq > 0; kq--) {
        double m = (double)(2 * kq - 1), m2 = m * m, m4 = m2 * m2, m6 = m4 * m2;
        double qp = pow(q, (double)(8 * kq));
        double coeffs[4] = {1.0, k1a + k1b * m2, k2a + k2b * m2 + k2c * m4, k3a + k3b * m2 + k3c * m4 + k3d * m6};
        for (i = 0; i < 4; i++)
            kk[i] = kk[i] * qp + coeffs[i];
    }
    for (i = 0; i < 4; i++)
        kk[i] *= q * sqrt(2 * M_PI);
    kk[0] /= z;
    kk[1] /= 6 * z4;
    kk[2] /= 72 * z4 * z3;
    kk[3] /= 6480 * z6 * z4;
    q = exp(-PI_SQUARED / 2 / z2);
    sqrt3z = sqrt(3.0) * z;
    for (kq = maxk; kq > 0; kq--) {
        double ks = (double)kq, ks2 = ks * ks, qpw = pow(q, ks2), kspi = M_PI * ks;
        k2extra += ks2 * qpw;
        k3extra += (sqrt3z + kspi) * (sqrt3z - kspi) * ks2 * qpw;
    }
    kk[2] += k2extra * PI_SQUARED * sqrt(2 * M_PI) / (-36 * z3);
    kk[3] += k3extra * PI_SQUARED * sqrt(2 * M_PI) / (216 * z6);
    sum = 0.0;
    for (i = 0; i < 4; i++)
        sum += kk[i] / pow((double)n, i / 2.0);
    return sum;
}

double mlops__smirnov_sf(int64_t n, double x)
{
    double dn = (double)n, sum = 0.0, lgn;
    int64_t j, jmax;
    if (x >= 1.0)
        return 0.0;
    if (x <= 0.0)
        return 1.0;
    jmax = (int64_t)floor(dn * (1.0 - x));
    if (jmax > n)
        jmax = n;
    lgn = lgamma(dn + 1.0);
    for (j = 0; j <= jmax; j++) {
        double a = (double)(n - j) / dn - x, b = x + (double)j / dn, lt;
        if (a <= 0.0) {
            if (n - j == 0)
                sum += exp(lgn - lgamma((double)j + 1.0) + (double)(j - 1) * log(b));
            continue;
        }
        lt = lgn - lgamma((double)j + 1.0) - lgamma((double)(n - j) + 1.0) + (double)(n - j) * log(a) +
             (double)(j - 1) * log(b);
        sum += exp(lt);
    }
    return clip01(x * sum);
}

double mlops__kolmogorov_sf(int64_t n, double x)
{
    double t, nx2, cdf;
    if (n <= 0 || isnan(x))
        return NAN;
    if (x >= 1.0)
        return 0.0;
    if (x <= 0.0)
        return 1.0;
    t = (double)n * x;
    if (t <= 1.0) {
        double prob = 1.0;
        int64_t i;
        if (t <= 0.5)
            return 1.0;
        if (n <= 140) {
            for (i = 1; i <= n; i++)
                prob *= (double)i * (1.0 / (double)n) * (2 * t - 1);
        } else {
            prob = exp(log_nfact_div_npow_n(n) + (double)n * log(2 * t - 1));
        }
        return clip01(1.0 - prob);
    }
    if (t >= (double)(n - 1))
        return clip01(2 * pow(1.0 - x, (double)n));
    if (x >= 0.5)
        return clip01(2 * mlops__smirnov_sf(n, x));
    nx2 = t * x;
    if (n <= 140) {
        if (nx2 <= 0.754693)
            cdf = kolmogorov_cdf_durbin(n, x);
        else if (nx2 <= 4)
            cdf = kolmogorov_cdf_pomeranz(n, x);
        else
            return clip01(2 * mlops__smirnov_sf(n, x));
        return isnan(cdf) ? NAN : clip01(1.0 - cdf);
    }
    if (nx2 >= 370.0)
        return 0.0;
    if (nx2 >= 2.2)
        return clip01(2 * mlops__smirnov_sf(n, x));
    if (n <= 100000 && (double)n * pow(x, 1.5) <= 1.4)
        cdf = kolmogorov_cdf_durbin(n, x);
    else
        cdf = kolmogorov_cdf_pelz_good(n, x);
    return isnan(cdf) ? NAN : clip01(1.0 - cdf);
}

/* Proportion of lattice paths of the n x n square leaving the band |x - y| < h (reflection sum). */
static double ks2_outside_square(int64_t n, int64_t h)
{
    double p = 0.0;
    int64_t k, j;
    for (k = n / h; k >= 0; k--) {
        double p1 = 1.0;
        for (j = 0; j < h; j++)
            p1 = (double)(n - k * h - j) * p1 / (double)(n + k * h + j + 1);
        p = p1 * (1.0 - p);
    }
    return 2 * p;
}

int mlops__ks2_exact_sf(double *out, int64_t n1, int64_t n2, int64_t g, int64_t h)
{
    int64_t m = n1, n = n2, mg, ng, minj, maxj, i, jj, lastminj, curlen, lastlen, len;
    double *col;
    *out = NAN;
    if (n1 == n2) {
        *out = ks2_outside_square(n1, h);
        return MLOPS_OK;
    }
    if (m < n) {
        m = n2;
        n = n1;
    }
    mg = m / g;
    ng = n / g;
    len = n + 1;
    /* col[j - minj] = probability that a path to (i, j) has already left the band. */
    col = mlops__malloc(sizeof(double) * (size_t)len);
    if (!col)
        return mlops__error(MLOPS_ENOMEM, "drift", "KS exact distribution: out of memory for %lld values",
                            (long long)len);
    for (jj = 0; jj < len; jj++)
        col[jj] = 1.0;
    minj = 0;
    maxj = ceildiv64(h, mg);
    if (maxj > n + 1)
        maxj = n + 1;
    curlen = maxj - minj;
    for (jj = minj; jj < maxj; jj++)
        col[jj] = 0.0;
    for (i = 1; i <= m; i++) {
        double val;
        lastminj = minj;
        lastlen = curlen;
        minj = floordiv64(ng * i - h, mg) + 1;
        if (minj < 0)
            minj = 0;
        if (minj > n)
            minj = n;
        maxj = ceildiv64(ng * i + h, mg);
        if (maxj > n + 1)
            maxj = n + 1;
        if (maxj <= minj) {
            *out = 1.0;
            goto out_free_col;
        }
        val = minj == 0 ? 0.0 : 1.0;
        for (jj = 0; jj < maxj - minj; jj++) {
            int64_t j = jj + minj;
            val = (col[jj + minj - lastminj] * (double)i + val * (double)j) / (double)(i + j);
            col[jj] = val;
        }
        curlen = maxj - minj;
        for (jj = curlen; jj < lastlen && jj < len; jj++)
            col[jj] = 1.0;
    }
    *out = col[maxj - minj - 1];
out_free_col:
    mlops__free(col);
    return MLOPS_OK;
}

double mlops__gamma_q(double a, double x)
{
    double lpre;
    int i;
    if (isnan(a) || isnan(x) || a <= 0)
        return NAN;
    if (x <= 0)
        return 1.0;
    if (isinf(x))
        return 0.0;
    lpre = -x + a * log(x) - lgamma(a);
    if (x < a + 1.0) {
        double ap = a, del = 1.0 / a, sum = del;
        for (i = 0; i < 100000; i++) {
            ap += 1.0;
            del *= x / ap;
            sum += del;
            if (fabs(del) < fabs(sum) * DBL_EPSILON)
                break;
        }
        return clip01(1.0 - sum * exp(lpre));
    } else {
        const double tiny = 1e-300;
        double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
        for (i = 1; i < 100000; i++) {
            double an = -(double)i * ((double)i - a), del;
            b += 2.0;
            d = an * d + b;
            if (fabs(d) < tiny)
                d = tiny;
            c = b + an / c;
            if (fabs(c) < tiny)
                c = tiny;
            d = 1.0 / d;
            del = d * c;
            h *= del;
            if (fabs(del - 1.0) < DBL_EPSILON)
                break;
        }
        return clip01(exp(lpre) * h);
    }
}

double mlops__chi2_sf(double x, double dof)
{
    if (isnan(x) || !(dof > 0))
        return NAN;
    return mlops__gamma_q(dof / 2.0, x / 2.0);
}

/* exp(q) K_{1/4}(q) by the trapezoidal rule on K_nu(q) = int_0^inf exp(-q cosh t) cosh(nu t) dt. */
static double bessel_k_quarter_scaled(double q)
{
    double h = fmin(0.05, 0.25 / sqrt(q)), sum = 0.5, t;
    for (t = h;; t += h) { // NOLINT(cert-flp30-c): the walk ends on the integrand size, not on a count of steps
        double e = q * (cosh(t) - 1.0);
        double term;
        if (e > 745.0)
            break;
        term = exp(-e) * cosh(0.25 * t);
        sum += term;
        if (term < 1e-300)
            break;
    }
    return sum * h;
}

double mlops__cvm_cdf_inf(double x)
{
    double total = 0.0;
    int k;
    if (!(x > 0))
        return 0.0;
    for (k = 0; k < 100000; k++) {
        double u = exp(lgamma(k + 0.5) - lgamma(k + 1.0)) / (pow(M_PI, 1.5) * sqrt(x));
        double y = 4.0 * k + 1.0, q = y * y / (16.0 * x);
        /* The series needs exp(-q) K(q) = exp(-2 q) (exp(q) K(q)). */
        double term = u * sqrt(y) * exp(-2.0 * q) * bessel_k_quarter_scaled(q);
        total += term;
        if (fabs(term) < 1e-7)
            break;
    }
    return total;
}

/* A sorted frequency list of integer statistic values. */
typedef struct cvm_list {
    int64_t *value;
    uint64_t *count;
    size_t len;
} cvm_list;

static void cvm_list_free(cvm_list *l)
{
    mlops__free(l->value);
    mlops__free(l->count);
    l->value = NULL;
    l->count = NULL;
    l->len = 0;
}

/* out = merge(a, b) with `add` added to every value. */
static int cvm_list_merge(cvm_list *out, const cvm_list *a, const cvm_list *b, int64_t add)
{
    size_t i = 0, j = 0, k = 0, cap = a->len + b->len;
    out->value = mlops__malloc(sizeof(int64_t) * (cap ? cap : 1));
    out->count = mlops__malloc(sizeof(uint64_t) * (cap ? cap : 1));
    out->len = 0;
    if (!out->value || !out->count) {
        cvm_list_free(out);
        return mlops__error(MLOPS_ENOMEM, "drift", "Cramér–von Mises exact distribution: out of memory");
    }
    while (i < a->len || j < b->len) {
        if (j >= b->len || (i < a->len && a->value[i] < b->value[j])) {
            out->value[k] = a->value[i];
            out->count[k++] = a->count[i++];
        } else if (i >= a->len || b->value[j] < a->value[i]) {
            out->value[k] = b->value[j];
            out->count[k++] = b->count[j++];
        } else {
            out->value[k] = a->value[i];
            out->count[k++] = a->count[i++] + b->count[j++];
        }
    }
    out->len = k;
    for (i = 0; i < k; i++)
        out->value[i] += add;
    return MLOPS_OK;
}

int mlops__cvm_exact_sf(double *out, double u, int64_t m, int64_t n)
{
    int64_t g = m, r = n, lcm, a, b, mn, uu, v, i;
    double zeta, combinations = 1.0;
    uint64_t hits = 0;
    cvm_list *row, cur, next;
    int rc = MLOPS_OK;
    if (m < 1 || n < 1)
        return mlops__error(MLOPS_EINVAL, "drift", "Cramér–von Mises exact distribution: sample sizes %lld and %lld",
                            (long long)m, (long long)n);
    while (r) {
        int64_t t = g % r;
        g = r;
        r = t;
    }
    lcm = m / g * n;
    a = lcm / m;
    b = lcm / n;
    mn = m * n;
    zeta = floor((double)(lcm * lcm * (m + n)) * (6.0 * u - (double)(mn * (4 * mn - 1))) /
                 (double)(6 * mn * mn));
    row = mlops__calloc((size_t)m + 1, sizeof(cvm_list));
    if (!row)
        return mlops__error(MLOPS_ENOMEM, "drift", "Cramér–von Mises exact distribution: out of memory");
    row[0].value = mlops__malloc(sizeof(int64_t));
    row[0].count = mlops__malloc(sizeof(uint64_t));
    if (!row[0].value || !row[0].count) {
        rc = mlops__error(MLOPS_ENOMEM, "drift", "Cramér–von Mises exact distribution: out of memory");
        goto out_free_rows;
    }
    row[0].value[0] = 0;
    row[0].count[0] = 1;
    row[0].len = 1;
    /* Node (uu, v) holds the distribution of the sum of (a v - b uu)^2 along lattice paths from (0, 0). */
    for (uu = 0; uu <= n; uu++) {
        memset(&cur, 0, sizeof cur);
        for (v = 0; v <= m; v++) {
            int64_t d = a * v - b * uu;
            if ((rc = cvm_list_merge(&next, &cur, &row[v], d * d)))
                goto out_free_rows;
            cvm_list_free(&row[v]);
            row[v] = next;
            cur = row[v];
        }
    }
    for (i = 0; i < (int64_t)row[m].len; i++) {
        if ((double)row[m].value[i] >= zeta)
            hits += row[m].count[i];
    }
    for (i = 1; i <= m; i++)
        combinations = combinations * (double)(n + i) / (double)i;
    *out = (double)hits / combinations;
out_free_rows:
    for (v = 0; v <= m; v++)
        cvm_list_free(&row[v]);
    mlops__free(row);
    return rc;
}
