/*
 * Drift reports: the default test choice (KS / chi-square / z below 1000
 * reference values, normed Wasserstein / Jensen–Shannon above), decisions
 * and thresholds, Bonferroni and Benjamini–Hochberg corrections checked by
 * brute force, the effect-size floor, dataset and prediction drift, reports
 * from profiles against the exact values, and configuration errors.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

static uint64_t rng_state = 3;

static double next_unit(void)
{
    uint64_t z = (rng_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (double)((z ^ (z >> 31)) >> 11) * (1.0 / 9007199254740992.0);
}

static double next_normal(void)
{
    double u1 = next_unit() + 1e-300, u2 = next_unit();
    return sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
}

/* Frame with numeric "x" (normal + shift), "y" (normal), categorical "c" (3 values, skew) and "b" (2 values). */
static mlops_frame *make_frame(size_t n, double shift, double skew)
{
    mlops_frame *f = NULL;
    double *x = malloc(sizeof(double) * n), *y = malloc(sizeof(double) * n), *score = malloc(sizeof(double) * n);
    const char **c = malloc(sizeof(char *) * n);
    uint8_t *b = malloc(n);
    size_t i;
    for (i = 0; i < n; i++) {
        double u = next_unit();
        x[i] = next_normal() + shift;
        y[i] = next_normal();
        score[i] = next_unit() + shift / 4;
        c[i] = u < 0.5 - skew ? "red" : (u < 0.8 ? "green" : "blue");
        b[i] = next_unit() < 0.3 + skew;
    }
    assert_int_equal(mlops_frame_new(&f), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(f, "x", x, NULL, n), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(f, "y", y, NULL, n), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(f, "c", c, n), MLOPS_OK);
    assert_int_equal(mlops_frame_add_bool(f, "b", b, NULL, n), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(f, "score", score, NULL, n), MLOPS_OK);
    free(x);
    free(y);
    free(score);
    free(c);
    free(b);
    return f;
}

static mlops__json *parse(const char *text)
{
    mlops__json *doc = NULL;
    assert_int_equal(mlops__json_parse(&doc, text, "test", "report"), MLOPS_OK);
    return doc;
}

static mlops__json *column(const mlops__json *doc, const char *section, const char *name)
{
    mlops__json *cols = section ? mlops__json_get(mlops__json_get(doc, section), "columns")
                                : mlops__json_get(doc, "columns");
    size_t i;
    for (i = 0; i < mlops__json_array_size(cols); i++) {
        mlops__json *c = mlops__json_at(cols, i);
        if (strcmp(mlops__json_string(mlops__json_get(c, "name")), name) == 0)
            return c;
    }
    fail_msg("column %s not in the report", name);
    return NULL;
}

static const char *str(const mlops__json *c, const char *key)
{
    return mlops__json_string(mlops__json_get(c, key));
}

static double num(const mlops__json *c, const char *key)
{
    return mlops__json_number(mlops__json_get(c, key));
}

static int flag(const mlops__json *c, const char *key)
{
    return mlops__json_bool(mlops__json_get(c, key));
}

static void values_of(double **out, size_t *n, const mlops_frame *f, const char *name)
{
    size_t idx;
    const double *v;
    assert_int_equal(mlops_frame_column_index(&idx, f, name), MLOPS_OK);
    assert_int_equal(mlops_frame_column_float64(&v, f, idx), MLOPS_OK);
    *out = (double *)v;
    *n = mlops_frame_rows(f);
}

static void test_small_data_uses_ks_and_chisquare(void **state)
{
    mlops_frame *ref = make_frame(400, 0, 0), *cur = make_frame(300, 0.5, 0.2);
    char *json = NULL;
    mlops__json *doc, *c;
    mlops_test_result t;
    double *a, *b;
    size_t na, nb;
    (void)state;
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, NULL), MLOPS_OK);
    doc = parse(json);
    c = column(doc, NULL, "x");
    assert_string_equal(str(c, "test"), "ks");
    assert_string_equal(str(c, "method"), "exact");
    values_of(&a, &na, ref, "x");
    values_of(&b, &nb, cur, "x");
    assert_int_equal(mlops_stat_ks_2samp(&t, a, na, b, nb, MLOPS_METHOD_AUTO), MLOPS_OK);
    assert_true(num(c, "statistic") == t.statistic && num(c, "p_value") == t.pvalue);
    assert_true(flag(c, "drifted") == (t.pvalue < 0.05));
    assert_true(num(c, "threshold") == 0.05);
    assert_string_equal(str(column(doc, NULL, "c"), "test"), "chisquare");
    assert_string_equal(str(column(doc, NULL, "b"), "test"), "z");
    assert_int_equal((int)num(column(doc, NULL, "b"), "n_unique"), 2);
    assert_int_equal((int)num(mlops__json_get(doc, "dataset"), "columns"), 5);
    mlops__json_free(doc);
    mlops_free(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_large_data_uses_wasserstein_and_jensenshannon(void **state)
{
    mlops_frame *ref = make_frame(5000, 0, 0), *cur = make_frame(4000, 0.3, 0.1);
    char *json = NULL;
    mlops__json *doc, *c, *ds;
    mlops_test_result t;
    double *a, *b, pr[3] = {0}, pc[3] = {0};
    size_t na, nb, i, ci;
    (void)state;
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"prediction\":[\"score\"]}"), MLOPS_OK);
    doc = parse(json);
    c = column(doc, NULL, "x");
    assert_string_equal(str(c, "test"), "wasserstein");
    values_of(&a, &na, ref, "x");
    values_of(&b, &nb, cur, "x");
    assert_int_equal(mlops_stat_wasserstein_norm(&t, a, na, b, nb), MLOPS_OK);
    assert_true(num(c, "statistic") == t.statistic);
    assert_true(flag(c, "drifted") == (t.statistic >= 0.1));
    assert_true(mlops__json_get(c, "p_value") && !mlops__json_is_number(mlops__json_get(c, "p_value")));
    /* Jensen–Shannon (base 2) over the category proportions, recomputed here. */
    c = column(doc, NULL, "c");
    assert_string_equal(str(c, "test"), "jensenshannon");
    assert_int_equal(mlops_frame_column_index(&ci, ref, "c"), MLOPS_OK);
    for (i = 0; i < 5000; i++) {
        const char *s;
        mlops_frame_get_string(&s, NULL, ref, ci, i);
        pr[s[0] == 'r' ? 0 : (s[0] == 'g' ? 1 : 2)] += 1;
        if (i < 4000) {
            mlops_frame_get_string(&s, NULL, cur, ci, i);
            pc[s[0] == 'r' ? 0 : (s[0] == 'g' ? 1 : 2)] += 1;
        }
    }
    {
        double js = 0;
        for (i = 0; i < 3; i++) {
            double p = pr[i] / 5000, q = pc[i] / 4000, m = (p + q) / 2;
            js += (p * log(p / m) + q * log(q / m)) / 2;
        }
        js = sqrt(js / log(2.0));
        assert_true(fabs(num(c, "statistic") - js) < 1e-12);
    }
    ds = mlops__json_get(doc, "dataset");
    assert_int_equal((int)num(ds, "columns"), 4);
    assert_true(num(ds, "share") == num(ds, "drifted_columns") / 4.0);
    assert_true(flag(ds, "drifted") == (num(ds, "share") >= 0.5));
    c = column(doc, "prediction", "score");
    assert_string_equal(str(c, "test"), "wasserstein");
    assert_true(flag(mlops__json_get(doc, "prediction"), "drifted") == flag(c, "drifted"));
    mlops__json_free(doc);
    mlops_free(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_corrections_match_brute_force(void **state)
{
    mlops_frame *ref = make_frame(300, 0, 0), *cur = make_frame(300, 0.15, 0.05);
    const char *names[5] = {"x", "y", "c", "b", "score"};
    char *json = NULL;
    mlops__json *plain, *bonf, *bh;
    double p[5], sorted[5];
    int i, j;
    (void)state;
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, NULL), MLOPS_OK);
    plain = parse(json);
    mlops_free(json);
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"correction\":\"bonferroni\"}"), MLOPS_OK);
    bonf = parse(json);
    mlops_free(json);
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"correction\":\"benjamini_hochberg\"}"), MLOPS_OK);
    bh = parse(json);
    mlops_free(json);
    for (i = 0; i < 5; i++) {
        p[i] = num(column(plain, NULL, names[i]), "p_value");
        sorted[i] = p[i];
    }
    qsort(sorted, 5, sizeof(double), cmp_double);
    for (i = 0; i < 5; i++) {
        double want_bh = 1.0;
        /* BH adjusted p of p_i: min over ranks k >= rank(p_i) of p_(k) * m / k. */
        for (j = 0; j < 5; j++)
            if (sorted[j] >= p[i])
                want_bh = fmin(want_bh, sorted[j] * 5.0 / (double)(j + 1));
        assert_true(fabs(num(column(bonf, NULL, names[i]), "p_value_adjusted") - fmin(1.0, 5 * p[i])) < 1e-15);
        assert_true(fabs(num(column(bh, NULL, names[i]), "p_value_adjusted") - want_bh) < 1e-15);
        assert_true(flag(column(bonf, NULL, names[i]), "drifted") == (fmin(1.0, 5 * p[i]) < 0.05));
    }
    mlops__json_free(plain);
    mlops__json_free(bonf);
    mlops__json_free(bh);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_effect_floor_ignores_trivial_shifts(void **state)
{
    mlops_frame *ref = make_frame(100000, 0, 0), *cur = make_frame(100000, 0.04, 0);
    char *json = NULL;
    mlops__json *doc, *c;
    (void)state;
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"include\":[\"x\"],\"columns\":{\"x\":{\"test\":\"ks\"}}}"),
                     MLOPS_OK);
    doc = parse(json);
    c = column(doc, NULL, "x");
    assert_true(num(c, "p_value") < 0.05);
    assert_true(flag(c, "drifted"));
    mlops__json_free(doc);
    mlops_free(json);
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur,
                                               "{\"include\":[\"x\"],\"columns\":{\"x\":{\"test\":\"ks\",\"min_effect\":0.05}}}"),
                     MLOPS_OK);
    doc = parse(json);
    c = column(doc, NULL, "x");
    assert_true(num(c, "effect") < 0.05);
    assert_false(flag(c, "drifted"));
    assert_false(flag(mlops__json_get(doc, "dataset"), "drifted"));
    mlops__json_free(doc);
    mlops_free(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_drift_share_threshold(void **state)
{
    mlops_frame *ref = make_frame(2000, 0, 0), *cur = make_frame(2000, 2.0, 0.3);
    char *json = NULL;
    mlops__json *doc, *ds;
    (void)state;
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"drift_share\":0.6}"), MLOPS_OK);
    doc = parse(json);
    ds = mlops__json_get(doc, "dataset");
    /* x, score, c, b drift; y does not: 4 of 5. */
    assert_int_equal((int)num(ds, "drifted_columns"), 4);
    assert_true(flag(ds, "drifted"));
    mlops__json_free(doc);
    mlops_free(json);
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"drift_share\":0.9}"), MLOPS_OK);
    doc = parse(json);
    assert_false(flag(mlops__json_get(doc, "dataset"), "drifted"));
    mlops__json_free(doc);
    mlops_free(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_profiles_report_close_to_exact(void **state)
{
    mlops_frame *ref = make_frame(20000, 0, 0), *cur = make_frame(15000, 0.2, 0.1);
    mlops_profile *pr = NULL, *pc = NULL;
    char *exact = NULL, *approx = NULL;
    mlops__json *de, *da;
    const char *cfg = "{\"columns\":{\"y\":{\"test\":\"ks\"},\"score\":{\"test\":\"psi\"}}}";
    (void)state;
    assert_int_equal(mlops_profile_new_for_frame(&pr, ref, NULL), MLOPS_OK);
    assert_int_equal(mlops_profile_new_like(&pc, pr), MLOPS_OK);
    assert_int_equal(mlops_profile_update_frame(pr, ref), MLOPS_OK);
    assert_int_equal(mlops_profile_update_frame(pc, cur), MLOPS_OK);
    assert_int_equal(mlops_drift_report_frames(&exact, ref, cur, cfg), MLOPS_OK);
    assert_int_equal(mlops_drift_report_profiles(&approx, pr, pc, cfg), MLOPS_OK);
    de = parse(exact);
    da = parse(approx);
    assert_string_equal(str(column(da, NULL, "x"), "test"), "wasserstein");
    assert_string_equal(str(column(da, NULL, "x"), "source"), "sketch");
    assert_true(fabs(num(column(da, NULL, "x"), "statistic") - num(column(de, NULL, "x"), "statistic")) < 0.03);
    assert_true(fabs(num(column(da, NULL, "y"), "statistic") - num(column(de, NULL, "y"), "statistic")) < 0.03);
    assert_true(fabs(num(column(da, NULL, "score"), "statistic") - num(column(de, NULL, "score"), "statistic")) < 0.02);
    /* Categories under the cap are exact: the same Jensen–Shannon up to summation order. */
    assert_string_equal(str(column(da, NULL, "c"), "source"), "exact");
    assert_true(fabs(num(column(da, NULL, "c"), "statistic") - num(column(de, NULL, "c"), "statistic")) < 1e-12);
    assert_true(flag(column(da, NULL, "x"), "drifted") == flag(column(de, NULL, "x"), "drifted"));
    mlops__json_free(da);
    mlops_free(approx);
    ts_assert_error(mlops_drift_report_profiles(&approx, pr, pc, "{\"columns\":{\"x\":{\"test\":\"cvm\"}}}"),
                    MLOPS_EINVAL, "needs raw samples");
    {
        /* Profiles with other sketch settings still compare (no distinct counts, another k). */
        mlops_profile *plain = NULL;
        assert_int_equal(mlops_profile_new_for_frame(&plain, cur, "{\"distinct\":false,\"quantile_k\":64}"), MLOPS_OK);
        assert_int_equal(mlops_profile_update_frame(plain, cur), MLOPS_OK);
        assert_int_equal(mlops_drift_report_profiles(&approx, pr, plain, NULL), MLOPS_OK);
        da = parse(approx);
        assert_string_equal(str(column(da, NULL, "x"), "test"), "wasserstein");
        assert_true(fabs(num(column(da, NULL, "x"), "statistic") - num(column(de, NULL, "x"), "statistic")) < 0.05);
        mlops__json_free(da);
        mlops_free(approx);
        mlops_profile_free(plain);
    }
    mlops__json_free(de);
    mlops_free(exact);
    mlops_profile_free(pr);
    mlops_profile_free(pc);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_missing_values_are_dropped_and_counted(void **state)
{
    double rv[8] = {1, 2, NAN, 3, 4, INFINITY, 5, 6}, cv[6] = {2, 3, 4, -INFINITY, 5, 7};
    uint8_t rn[8] = {0, 0, 0, 0, 1, 0, 0, 0};
    mlops_frame *ref = NULL, *cur = NULL;
    char *json = NULL;
    mlops__json *doc, *c;
    (void)state;
    assert_int_equal(mlops_frame_new(&ref), MLOPS_OK);
    assert_int_equal(mlops_frame_new(&cur), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(ref, "v", rv, rn, 8), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(cur, "v", cv, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_drift_report_frames(&json, ref, cur, "{\"columns\":{\"v\":{\"test\":\"wasserstein\"}}}"),
                     MLOPS_OK);
    doc = parse(json);
    c = column(doc, NULL, "v");
    assert_int_equal((int)num(c, "n_ref"), 5);
    assert_int_equal((int)num(c, "missing_ref"), 3);
    assert_int_equal((int)num(c, "n_cur"), 5);
    assert_int_equal((int)num(c, "missing_cur"), 1);
    assert_int_equal((int)num(c, "n_unique"), 7);
    mlops__json_free(doc);
    mlops_free(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

static void test_configuration_errors(void **state)
{
    mlops_frame *ref = make_frame(50, 0, 0), *cur = make_frame(50, 0, 0);
    char *json = NULL;
    (void)state;
    ts_assert_error(mlops_drift_report_frames(NULL, ref, cur, NULL), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_drift_report_frames(&json, NULL, cur, NULL), MLOPS_EINVAL, "reference");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"bogus\":1}"), MLOPS_EFORMAT, "$.bogus");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"columns\":{\"x\":{\"test\":\"t\"}}}"), MLOPS_EFORMAT,
                    "$.columns.x.test: unknown test");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"columns\":{\"zz\":{}}}"), MLOPS_EINVAL,
                    "\"zz\", which is not compared");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"correction\":\"holm\"}"), MLOPS_EFORMAT,
                    "$.correction");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"drift_share\":2}"), MLOPS_EFORMAT, "$.drift_share");
    ts_assert_error(mlops_drift_report_frames(&json, ref, cur, "{\"columns\":{\"c\":{\"test\":\"ks\"}}}"),
                    MLOPS_EINVAL, "does not apply to categorical");
    assert_null(json);
    mlops_frame_free(ref);
    mlops_frame_free(cur);
}

typedef struct rep_ctx {
    mlops_frame *ref, *cur;
    mlops_profile *pref, *pcur;
    char *json, *json2;
} rep_ctx;

static int rep_call(void *arg)
{
    rep_ctx *c = arg;
    int rc = mlops_drift_report_frames(&c->json, c->ref, c->cur,
                                       "{\"correction\":\"benjamini_hochberg\",\"columns\":{\"y\":{\"test\":\"psi\"}}}");
    if (rc == MLOPS_OK)
        rc = mlops_drift_report_profiles(&c->json2, c->pref, c->pcur,
                                         "{\"columns\":{\"x\":{\"test\":\"ks\"},\"y\":{\"test\":\"kl\"}}}");
    return rc;
}

static void rep_cleanup(void *arg)
{
    rep_ctx *c = arg;
    mlops_free(c->json);
    mlops_free(c->json2);
    c->json = c->json2 = NULL;
}

static void test_allocation_failures_are_clean(void **state)
{
    rep_ctx c;
    (void)state;
    c.ref = make_frame(60, 0, 0);
    c.cur = make_frame(70, 0.2, 0);
    c.json = c.json2 = NULL;
    assert_int_equal(mlops_profile_new_for_frame(&c.pref, c.ref, "{\"quantile_k\":8}"), MLOPS_OK);
    assert_int_equal(mlops_profile_new_like(&c.pcur, c.pref), MLOPS_OK);
    assert_int_equal(mlops_profile_update_frame(c.pref, c.ref), MLOPS_OK);
    assert_int_equal(mlops_profile_update_frame(c.pcur, c.cur), MLOPS_OK);
    assert_true(ts_each_allocation_failure(rep_call, rep_cleanup, &c) > 10);
    mlops_profile_free(c.pref);
    mlops_profile_free(c.pcur);
    mlops_frame_free(c.ref);
    mlops_frame_free(c.cur);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_small_data_uses_ks_and_chisquare),
        cmocka_unit_test(test_large_data_uses_wasserstein_and_jensenshannon),
        cmocka_unit_test(test_corrections_match_brute_force),
        cmocka_unit_test(test_effect_floor_ignores_trivial_shifts),
        cmocka_unit_test(test_drift_share_threshold),
        cmocka_unit_test(test_profiles_report_close_to_exact),
        cmocka_unit_test(test_missing_values_are_dropped_and_counted),
        cmocka_unit_test(test_configuration_errors),
        cmocka_unit_test(test_allocation_failures_are_clean),
    };
    ts_alloc_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
