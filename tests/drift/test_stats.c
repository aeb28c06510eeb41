/*
 * Statistical tests and special functions against SciPy: the expected
 * values in tests/data/drift/stats_fixtures.txt come from
 * tests/data/drift/make_fixtures.py (SciPy); samples are rebuilt here with
 * the same deterministic generator. Statistics must agree to 1e-9 relative,
 * p-values to 1e-6 absolute.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "drift/drift_int.h"

#define STAT_RTOL 1e-9
#define P_ATOL 1e-6

typedef struct sample {
    double *v;
    size_t n;
} sample;

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* The generator of make_fixtures.py, operation for operation. */
static void gen(sample *s, uint64_t seed, size_t n, const char *kind, double a, double b, size_t nan_every)
{
    uint64_t state = seed;
    size_t i;
    s->v = malloc(sizeof(double) * (n ? n : 1));
    s->n = n;
    for (i = 0; i < n; i++) {
        double u[4], v;
        int j, draws = strcmp(kind, "irwin") == 0 ? 4 : 1;
        for (j = 0; j < draws; j++)
            u[j] = (double)(splitmix64(&state) >> 11) * (1.0 / 9007199254740992.0);
        if (strcmp(kind, "irwin") == 0)
            v = a + b * (((u[0] + u[1]) + (u[2] + u[3])) - 2.0);
        else if (strcmp(kind, "unif") == 0)
            v = a + b * u[0];
        else if (strcmp(kind, "disc") == 0)
            v = floor(a + b * u[0]);
        else
            v = a;
        if (nan_every && (i + 1) % nan_every == 0)
            v = NAN;
        s->v[i] = v;
    }
}

/* "gen SEED N KIND A B NAN_EVERY" or "vals V1 V2 ..." after the ref/cur word. */
static void parse_sample(sample *s, char *rest)
{
    char *tok = strtok(rest, " \n");
    if (strcmp(tok, "gen") == 0) {
        uint64_t seed = strtoull(strtok(NULL, " \n"), NULL, 10);
        size_t n = strtoull(strtok(NULL, " \n"), NULL, 10);
        char *kind = strtok(NULL, " \n");
        double a = strtod(strtok(NULL, " \n"), NULL);
        double b = strtod(strtok(NULL, " \n"), NULL);
        size_t nan_every = strtoull(strtok(NULL, " \n"), NULL, 10);
        gen(s, seed, n, kind, a, b, nan_every);
    } else {
        size_t cap = 64;
        s->v = malloc(sizeof(double) * cap);
        s->n = 0;
        while ((tok = strtok(NULL, " \n")) != NULL) {
            if (s->n == cap)
                s->v = realloc(s->v, sizeof(double) * (cap *= 2));
            s->v[s->n++] = strtod(tok, NULL);
        }
    }
}

static int failures;
static int checks;

static void check_value(const char *where, const char *what, double got, double want, int is_p)
{
    int ok;
    checks++;
    if (isnan(want))
        ok = isnan(got);
    else if (isinf(want))
        ok = got == want;
    else if (is_p)
        ok = fabs(got - want) <= P_ATOL;
    else
        ok = fabs(got - want) <= STAT_RTOL * fabs(want) || fabs(got - want) <= 1e-15;
    if (!ok) {
        failures++;
        print_message("MISMATCH %s %s: got %.17g want %.17g\n", where, what, got, want);
    }
}

static void check_result(const char *where, const char *test, const mlops_test_result *r, double stat, double p,
                         int has_p)
{
    char what[96];
    snprintf(what, sizeof what, "%s statistic", test);
    check_value(where, what, r->statistic, stat, 0);
    if (has_p) {
        snprintf(what, sizeof what, "%s p-value", test);
        check_value(where, what, r->pvalue, p, 1);
    }
}

static void run_numeric(const char *name, const sample *ref, const sample *cur, const char *test, const char *method,
                        double stat, double p)
{
    mlops_test_result r;
    int rc = MLOPS_OK;
    if (strncmp(test, "ks_", 3) == 0) {
        int32_t m = strcmp(test, "ks_auto") == 0 ? MLOPS_METHOD_AUTO
                    : strcmp(test, "ks_exact") == 0 ? MLOPS_METHOD_EXACT : MLOPS_METHOD_ASYMP;
        rc = mlops_stat_ks_2samp(&r, ref->v, ref->n, cur->v, cur->n, m);
        assert_int_equal(rc, MLOPS_OK);
        assert_int_equal(r.method, strcmp(method, "exact") == 0 ? MLOPS_METHOD_EXACT : MLOPS_METHOD_ASYMP);
        check_result(name, test, &r, stat, p, 1);
    } else if (strcmp(test, "wasserstein") == 0) {
        assert_int_equal(mlops_stat_wasserstein(&r, ref->v, ref->n, cur->v, cur->n), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "wasserstein_norm") == 0) {
        assert_int_equal(mlops_stat_wasserstein_norm(&r, ref->v, ref->n, cur->v, cur->n), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "energy") == 0) {
        assert_int_equal(mlops_stat_energy(&r, ref->v, ref->n, cur->v, cur->n), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "cvm") == 0) {
        assert_int_equal(mlops_stat_cvm_2samp(&r, ref->v, ref->n, cur->v, cur->n, MLOPS_METHOD_AUTO), MLOPS_OK);
        check_result(name, test, &r, stat, p, 1);
    } else if (strcmp(test, "anderson") == 0) {
        const double *samples[2] = {ref->v, cur->v};
        size_t sizes[2] = {ref->n, cur->n};
        assert_int_equal(mlops_stat_anderson_ksamp(&r, samples, sizes, 2), MLOPS_OK);
        check_result(name, test, &r, stat, p, 1);
    } else if (strncmp(test, "psi_", 4) == 0) {
        double edges[11];
        int32_t binning = strcmp(test, "psi_quantile") == 0 ? MLOPS_BINS_QUANTILE : MLOPS_BINS_WIDTH;
        assert_int_equal(mlops_stat_psi(&r, edges, 11, ref->v, ref->n, cur->v, cur->n, 10, binning, 0.0), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else {
        fail_msg("unknown test %s", test);
    }
}

static void run_categorical(const char *name, const sample *ref, const sample *cur, const char *test, double stat,
                            double p)
{
    mlops_test_result r;
    size_t k = ref->n, i;
    if (strcmp(test, "chisquare") == 0) {
        double *expected = malloc(sizeof(double) * k), sr = 0, sc = 0;
        for (i = 0; i < k; i++) {
            sr += ref->v[i];
            sc += cur->v[i];
        }
        for (i = 0; i < k; i++)
            expected[i] = ref->v[i] * (sc / sr);
        assert_int_equal(mlops_stat_chisquare(&r, cur->v, expected, k), MLOPS_OK);
        free(expected);
        check_result(name, test, &r, stat, p, 1);
    } else if (strcmp(test, "contingency") == 0 || strcmp(test, "contingency_nocorr") == 0) {
        assert_int_equal(mlops_stat_chi2_contingency(&r, ref->v, cur->v, k, strcmp(test, "contingency") == 0),
                         MLOPS_OK);
        check_result(name, test, &r, stat, p, 1);
    } else if (strcmp(test, "jensenshannon2") == 0) {
        assert_int_equal(mlops_stat_jensenshannon(&r, ref->v, cur->v, k, 2.0), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "jensenshannon_e") == 0) {
        assert_int_equal(mlops_stat_jensenshannon(&r, ref->v, cur->v, k, 0.0), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "kl") == 0) {
        assert_int_equal(mlops_stat_kl(&r, ref->v, cur->v, k, 0.0), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else if (strcmp(test, "psi_hist") == 0) {
        assert_int_equal(mlops_stat_psi_hist(&r, ref->v, cur->v, k, 1e-4), MLOPS_OK);
        check_result(name, test, &r, stat, p, 0);
    } else {
        fail_msg("unknown categorical test %s", test);
    }
}

static void free_sample(sample *s)
{
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

/* Walk the fixture file; `want` selects "numeric", "categorical" or "special" lines. */
static void run_fixtures(const char *want)
{
    size_t len;
    char *text = ts_read_file(ts_data("drift/stats_fixtures.txt"), &len);
    char *line, *save = NULL, name[128] = "";
    sample ref = {NULL, 0}, cur = {NULL, 0};
    int categorical = 0, cases = 0;
    assert_non_null(text);
    failures = checks = 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char buf[65536];
        char test[64], method[16];
        double a, b, c;
        snprintf(buf, sizeof buf, "%s", line);
        if (strncmp(line, "case ", 5) == 0 || strncmp(line, "cat ", 4) == 0) {
            categorical = line[1] == 'a' && line[2] == 't';
            sscanf(line + (categorical ? 4 : 5), "%127s", name);
            free_sample(&ref);
            free_sample(&cur);
            cases += strcmp(want, categorical ? "categorical" : "numeric") == 0;
        } else if (strncmp(line, "ref ", 4) == 0 || strncmp(line, "refc ", 5) == 0) {
            if (line[3] == 'c') {
                memcpy(buf, "vals", 4);
                parse_sample(&ref, buf);
            } else {
                parse_sample(&ref, buf + 4);
            }
        } else if (strncmp(line, "cur ", 4) == 0 || strncmp(line, "curc ", 5) == 0) {
            if (line[3] == 'c') {
                memcpy(buf, "vals", 4);
                parse_sample(&cur, buf);
            } else {
                parse_sample(&cur, buf + 4);
            }
        } else if (strncmp(line, "expect ", 7) == 0) {
            assert_int_equal(sscanf(line + 7, "%63s %15s %lf %lf", test, method, &a, &b), 4);
            if (!categorical && strcmp(want, "numeric") == 0)
                run_numeric(name, &ref, &cur, test, method, a, b);
            else if (categorical && strcmp(want, "categorical") == 0)
                run_categorical(name, &ref, &cur, test, a, b);
        } else if (strcmp(want, "special") == 0) {
            long n;
            if (sscanf(line, "kstwo %ld %lf %lf", &n, &a, &b) == 3) {
                snprintf(name, sizeof name, "kstwo n=%ld x=%g", n, a);
                check_value(name, "sf", mlops__kolmogorov_sf(n, a), b, 1);
                cases++;
            } else if (sscanf(line, "smirnov %ld %lf %lf", &n, &a, &b) == 3) {
                snprintf(name, sizeof name, "smirnov n=%ld x=%g", n, a);
                check_value(name, "sf", mlops__smirnov_sf(n, a), b, 1);
                cases++;
            } else if (sscanf(line, "chi2 %lf %lf %lf", &a, &c, &b) == 3) {
                snprintf(name, sizeof name, "chi2 x=%g dof=%g", a, c);
                check_value(name, "sf", mlops__chi2_sf(a, c), b, 1);
                cases++;
            } else if (sscanf(line, "cvminf %lf %lf", &a, &b) == 2) {
                snprintf(name, sizeof name, "cvm_inf x=%g", a);
                check_value(name, "cdf", mlops__cvm_cdf_inf(a), b, 1);
                cases++;
            }
        }
    }
    free_sample(&ref);
    free_sample(&cur);
    free(text);
    print_message("%s: %d cases, %d values checked, %d mismatches\n", want, cases, checks, failures);
    assert_int_equal(failures, 0);
    if (strcmp(want, "numeric") == 0)
        assert_true(cases >= 20);
    else if (strcmp(want, "categorical") == 0)
        assert_true(cases >= 6);
}

static void test_special_functions_match_scipy(void **state)
{
    (void)state;
    run_fixtures("special");
}

static void test_numeric_tests_match_scipy(void **state)
{
    (void)state;
    run_fixtures("numeric");
}

static void test_categorical_tests_match_scipy(void **state)
{
    (void)state;
    run_fixtures("categorical");
}

static void test_nan_is_dropped_and_counted(void **state)
{
    double ref[] = {1, NAN, 2, 3, NAN}, cur[] = {NAN, 1.5, 2.5};
    mlops_test_result r;
    (void)state;
    assert_int_equal(mlops_stat_ks_2samp(&r, ref, 5, cur, 3, MLOPS_METHOD_AUTO), MLOPS_OK);
    assert_int_equal(r.n_ref, 3);
    assert_int_equal(r.nan_ref, 2);
    assert_int_equal(r.n_cur, 2);
    assert_int_equal(r.nan_cur, 1);
}

static void test_errors_are_named(void **state)
{
    double x[] = {1, 2, 3}, nan3[] = {NAN, NAN, NAN}, inf[] = {1, INFINITY}, edges[4];
    double h1[] = {1, 2}, hneg[] = {1, -1}, hzero[] = {0, 0}, hbig[] = {1, 5};
    const double *samples[1] = {x};
    size_t sizes[1] = {3};
    mlops_test_result r;
    (void)state;
    ts_assert_error(mlops_stat_ks_2samp(NULL, x, 3, x, 3, 0), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_stat_ks_2samp(&r, NULL, 3, x, 3, 0), MLOPS_EINVAL, "ref");
    ts_assert_error(mlops_stat_ks_2samp(&r, x, 3, NULL, 3, 0), MLOPS_EINVAL, "cur");
    ts_assert_error(mlops_stat_ks_2samp(&r, x, 3, x, 3, 7), MLOPS_EINVAL, "method 7");
    ts_assert_error(mlops_stat_ks_2samp(&r, nan3, 3, x, 3, 0), MLOPS_EINVAL, "reference sample: no values");
    ts_assert_error(mlops_stat_ks_2samp(&r, x, 0, x, 3, 0), MLOPS_EINVAL, "no values");
    ts_assert_error(mlops_stat_wasserstein(&r, x, 3, inf, 2), MLOPS_EINVAL, "value 1 is infinite");
    ts_assert_error(mlops_stat_energy(&r, x, 3, NULL, 2), MLOPS_EINVAL, "cur");
    ts_assert_error(mlops_stat_wasserstein_norm(NULL, x, 3, x, 2), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_stat_cvm_2samp(&r, x, 1, x, 3, 0), MLOPS_EINVAL, "at least 2 values");
    ts_assert_error(mlops_stat_cvm_2samp(&r, x, 3, x, 3, -1), MLOPS_EINVAL, "method");
    ts_assert_error(mlops_stat_anderson_ksamp(&r, samples, sizes, 1), MLOPS_EINVAL, "at least 2 samples");
    ts_assert_error(mlops_stat_anderson_ksamp(&r, NULL, sizes, 2), MLOPS_EINVAL, "samples");
    ts_assert_error(mlops_stat_psi(&r, edges, 4, x, 3, x, 3, 0, 0, 0), MLOPS_EINVAL, "bins 0");
    ts_assert_error(mlops_stat_psi(&r, edges, 4, x, 3, x, 3, 10, 0, 0), MLOPS_EBUFSIZE, "edges capacity 4");
    ts_assert_error(mlops_stat_psi(&r, edges, 4, x, 3, x, 3, 3, 5, 0), MLOPS_EINVAL, "binning 5");
    ts_assert_error(mlops_stat_psi(&r, edges, 4, x, 3, x, 3, 3, 0, 2.0), MLOPS_EINVAL, "epsilon");
    ts_assert_error(mlops_stat_jensenshannon(&r, h1, hneg, 2, 2), MLOPS_EINVAL, "q[1] = -1");
    ts_assert_error(mlops_stat_jensenshannon(&r, h1, hzero, 2, 2), MLOPS_EINVAL, "q sums to zero");
    ts_assert_error(mlops_stat_jensenshannon(&r, h1, h1, 2, 1.0), MLOPS_EINVAL, "base 1");
    ts_assert_error(mlops_stat_kl(&r, h1, h1, 0, 0), MLOPS_EINVAL, "no bins");
    ts_assert_error(mlops_stat_chisquare(&r, h1, hbig, 2), MLOPS_EINVAL, "sum to 3");
    ts_assert_error(mlops_stat_chi2_contingency(&r, h1, NULL, 2, 1), MLOPS_EINVAL, "q");
    ts_assert_error(mlops_stat_psi_hist(&r, h1, h1, 2, -1), MLOPS_EINVAL, "epsilon");
}

static void test_psi_edges_and_outer_bins(void **state)
{
    double ref[] = {0, 1, 2, 3, 4}, cur[] = {-100, 100, 2}, edges[5];
    mlops_test_result r;
    double p_ref[4] = {0.2, 0.2, 0.2, 0.4}, p_cur[4] = {1.0 / 3, 0, 1.0 / 3, 1.0 / 3}, want = 0;
    int i;
    (void)state;
    assert_int_equal(mlops_stat_psi(&r, edges, 5, ref, 5, cur, 3, 4, MLOPS_BINS_WIDTH, 0.01), MLOPS_OK);
    for (i = 0; i < 5; i++)
        assert_true(edges[i] == (double)i);
    /* -100 falls in the first bin, 100 in the last; the empty second bin is floored at 0.01. */
    for (i = 0; i < 4; i++) {
        double a = fmax(p_ref[i], 0.01), b = fmax(p_cur[i], 0.01);
        want += (b - a) * log(b / a);
    }
    assert_true(fabs(r.statistic - want) < 1e-12);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_rank_selection_against_sorting(void **state)
{
    size_t n = 5000, ranks[7] = {0, 1, 17, 2500, 2501, 4998, 4999}, i, shape, r;
    double *v = malloc(sizeof(double) * n), *sorted = malloc(sizeof(double) * n);
    (void)state;
    for (shape = 0; shape < 5; shape++) {
        sample s;
        gen(&s, 40 + shape, n, shape == 3 ? "disc" : "irwin", 0, shape == 3 ? 3 : 1, 0);
        for (i = 0; i < n; i++) {
            switch (shape) {
            case 0: v[i] = s.v[i]; break;                 /* random */
            case 1: v[i] = (double)i; break;              /* ascending */
            case 2: v[i] = (double)(n - i); break;        /* descending */
            case 3: v[i] = s.v[i]; break;                 /* three values, heavy ties */
            default: v[i] = 7.0; break;                   /* constant */
            }
        }
        free_sample(&s);
        memcpy(sorted, v, sizeof(double) * n);
        qsort(sorted, n, sizeof(double), cmp_d);
        mlops__select_ranks(v, n, ranks, 7);
        for (r = 0; r < 7; r++)
            assert_true(v[ranks[r]] == sorted[ranks[r]]);
    }
    free(v);
    free(sorted);
}

typedef struct ks_ctx {
    double *a, *b;
    size_t na, nb;
    mlops_test_result r;
} ks_ctx;

static int ks_call(void *ctx)
{
    ks_ctx *c = ctx;
    int rc = mlops_stat_ks_2samp(&c->r, c->a, c->na, c->b, c->nb, MLOPS_METHOD_EXACT);
    if (rc == MLOPS_OK) {
        const double *s[2] = {c->a, c->b};
        size_t n[2] = {c->na, c->nb};
        rc = mlops_stat_anderson_ksamp(&c->r, s, n, 2);
    }
    if (rc == MLOPS_OK)
        rc = mlops_stat_cvm_2samp(&c->r, c->a, 15, c->b, 12, MLOPS_METHOD_EXACT);
    return rc;
}

static void ks_cleanup(void *ctx)
{
    (void)ctx;
}

static void test_allocation_failures_are_clean(void **state)
{
    sample a, b;
    ks_ctx c;
    (void)state;
    gen(&a, 5, 300, "irwin", 0, 1, 0);
    gen(&b, 6, 200, "irwin", 0.5, 1, 0);
    c.a = a.v;
    c.b = b.v;
    c.na = a.n;
    c.nb = b.n;
    assert_true(ts_each_allocation_failure(ks_call, ks_cleanup, &c) > 5);
    free_sample(&a);
    free_sample(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_special_functions_match_scipy),
        cmocka_unit_test(test_numeric_tests_match_scipy),
        cmocka_unit_test(test_categorical_tests_match_scipy),
        cmocka_unit_test(test_nan_is_dropped_and_counted),
        cmocka_unit_test(test_errors_are_named),
        cmocka_unit_test(test_psi_edges_and_outer_bins),
        cmocka_unit_test(test_rank_selection_against_sorting),
        cmocka_unit_test(test_allocation_failures_are_clean),
    };
    ts_alloc_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
