/*
 * Evaluation metrics against sklearn.metrics on committed fixtures
 * (tests/data/train/make_fixtures.py), the bootstrap against a brute-force
 * resampling, and every error path.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"
#include "train/train_int.h"

typedef struct fixture {
    float *scores;
    double *labels;
    size_t rows, width;
} fixture;

/* Read a fixture CSV: column "label" then the score columns. */
static void load_fixture(fixture *f, const char *name, const char *const *score_columns, size_t width)
{
    mlops_frame *frame = NULL;
    const char *label = "label";
    float *labels_f;
    size_t i;
    assert_int_equal(mlops_frame_read_csv(&frame, ts_data(name), NULL), MLOPS_OK);
    f->rows = mlops_frame_rows(frame);
    f->width = width;
    f->scores = malloc(f->rows * width * sizeof *f->scores);
    f->labels = malloc(f->rows * sizeof *f->labels);
    labels_f = malloc(f->rows * sizeof *labels_f);
    assert_int_equal(mlops_frame_to_matrix(f->scores, f->rows * width, NULL, frame, score_columns, width, 1), 0);
    assert_int_equal(mlops_frame_to_matrix(labels_f, f->rows, NULL, frame, &label, 1, 1), 0);
    for (i = 0; i < f->rows; i++)
        f->labels[i] = labels_f[i];
    free(labels_f);
    mlops_frame_free(frame);
}

static void free_fixture(fixture *f)
{
    free(f->scores);
    free(f->labels);
}

static mlops__json *expected_doc(void)
{
    size_t len;
    char *text = ts_read_file(ts_data("train/metrics_expected.json"), &len);
    mlops__json *doc = NULL;
    assert_int_equal(mlops__json_parse(&doc, text, "test", "fixture"), MLOPS_OK);
    free(text);
    return doc;
}

/* Compare every metric named in `expected` (an object of numbers and a confusion matrix). */
static void check_against(const mlops_metrics *m, const mlops__json *expected, double tol)
{
    const mlops__json *item;
    size_t matched = 0;
    for (item = mlops__json_first(expected); item; item = mlops__json_next(item)) {
        const char *name = mlops__json_key(item);
        if (strcmp(name, "confusion_matrix") == 0) {
            const int64_t *cm;
            size_t k, r, c;
            assert_int_equal(mlops_metrics_confusion(&cm, &k, m), MLOPS_OK);
            assert_int_equal(k, mlops__json_array_size(item));
            for (r = 0; r < k; r++)
                for (c = 0; c < k; c++)
                    assert_int_equal(cm[r * k + c],
                                     (int64_t)mlops__json_number(mlops__json_at(mlops__json_at(item, r), c)));
        } else {
            double v, lo, hi, want = mlops__json_number(item);
            assert_int_equal(mlops_metrics_get(&v, &lo, &hi, m, name), MLOPS_OK);
            if (fabs(v - want) > tol * (1 + fabs(want)))
                fail_msg("%s: got %.12g, sklearn says %.12g", name, v, want);
            assert_true(lo <= v + 1e-12 && v <= hi + 1e-12);
            assert_true(hi > lo);
        }
        matched++;
    }
    assert_int_equal(matched, mlops_metrics_count(m) + 1 - (m->task == MLOPS_TASK_REGRESSION));
}

static void test_binary_matches_sklearn(void **state)
{
    static const char *const cols[] = {"score"};
    mlops__json *doc = expected_doc();
    mlops_metrics *m = NULL;
    fixture f;
    (void)state;
    load_fixture(&f, "train/metrics_binary.csv", cols, 1);
    assert_int_equal(f.rows, 200);
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_BINARY, f.scores, f.labels, f.rows, 2,
                                           "{\"bootstrap\":200,\"seed\":7}"), MLOPS_OK);
    /* Scores pass through float: only log loss moves, by far less than 1e-6. */
    check_against(m, mlops__json_get(doc, "binary"), 1e-6);
    mlops_metrics_free(m);
    free_fixture(&f);
    mlops__json_free(doc);
}

static void test_multiclass_matches_sklearn(void **state)
{
    static const char *const cols[] = {"p0", "p1", "p2", "p3"};
    mlops__json *doc = expected_doc();
    mlops_metrics *m = NULL;
    fixture f;
    (void)state;
    load_fixture(&f, "train/metrics_multiclass.csv", cols, 4);
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_MULTICLASS, f.scores, f.labels, f.rows, 4,
                                           "{\"bootstrap\":200}"), MLOPS_OK);
    check_against(m, mlops__json_get(doc, "multiclass"), 1e-6);
    mlops_metrics_free(m);
    free_fixture(&f);
    mlops__json_free(doc);
}

static void test_regression_matches_sklearn(void **state)
{
    static const char *const cols[] = {"prediction"};
    mlops__json *doc = expected_doc();
    mlops_metrics *m = NULL;
    fixture f;
    (void)state;
    load_fixture(&f, "train/metrics_regression.csv", cols, 1);
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_REGRESSION, f.scores, f.labels, f.rows, 0,
                                           "{\"bootstrap\":200}"), MLOPS_OK);
    /* Predictions pass through float (about 1e-7 relative). */
    check_against(m, mlops__json_get(doc, "regression"), 1e-6);
    mlops_metrics_free(m);
    free_fixture(&f);
    mlops__json_free(doc);
}

static void test_rng_known_answers(void **state)
{
    /* splitmix64-seeded xoshiro256**, values from an independent implementation of the published algorithms. */
    mlops__rng rng;
    size_t items[5] = {0, 1, 2, 3, 4}, seen = 0, i;
    (void)state;
    mlops__rng_seed(&rng, 12345, MLOPS__STREAM_BOOTSTRAP);
    assert_true(mlops__rng_next(&rng) == 0x8fb35518b21ed252ull);
    assert_true(mlops__rng_next(&rng) == 0x9f99018bb217c2c6ull);
    assert_true(mlops__rng_next(&rng) == 0xec39c46cb11306dbull);
    for (i = 0; i < 1000; i++) {
        uint64_t r = mlops__rng_below(&rng, 7);
        float u = mlops__rng_unit_float(&rng);
        assert_true(r < 7);
        assert_true(u >= 0.0f && u < 1.0f);
    }
    mlops__rng_shuffle(&rng, items, 5);
    for (i = 0; i < 5; i++)
        seen |= (size_t)1 << items[i];
    assert_int_equal(seen, 31);
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void test_bootstrap_matches_brute_force(void **state)
{
    /* Accuracy resampled by hand with the documented generator and percentile rule. */
    enum { N = 60, B = 300 };
    float scores[N];
    double labels[N], acc[B], v, lo, hi, pos;
    mlops_metrics *m = NULL, *again = NULL, *other = NULL;
    mlops__rng rng;
    size_t i, b;
    (void)state;
    for (i = 0; i < N; i++) {
        labels[i] = (double)(i % 2);
        scores[i] = (i % 7 == 0) ? 1.0f - (float)labels[i] : (float)labels[i] * 0.8f + 0.1f;
    }
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_BINARY, scores, labels, N, 2,
                                           "{\"bootstrap\":300,\"seed\":99}"), MLOPS_OK);
    mlops__rng_seed(&rng, 99, MLOPS__STREAM_BOOTSTRAP);
    for (b = 0; b < B; b++) {
        int counts[N] = {0};
        double correct = 0;
        for (i = 0; i < N; i++)
            counts[mlops__rng_below(&rng, N)]++;
        for (i = 0; i < N; i++)
            correct += counts[i] * ((scores[i] >= 0.5f) == (labels[i] > 0.5));
        acc[b] = correct / N;
    }
    qsort(acc, B, sizeof *acc, cmp_dbl);
    assert_int_equal(mlops_metrics_get(&v, &lo, &hi, m, "accuracy"), MLOPS_OK);
    pos = 0.025 * (B - 1);
    assert_true(fabs(lo - (acc[(size_t)pos] + (acc[(size_t)pos + 1] - acc[(size_t)pos]) * (pos - floor(pos)))) <
                1e-12);
    pos = 0.975 * (B - 1);
    assert_true(fabs(hi - (acc[(size_t)pos] + (acc[(size_t)pos + 1] - acc[(size_t)pos]) * (pos - floor(pos)))) <
                1e-12);
    /* Same seed, same interval; another seed, another one; no resamples, a degenerate interval. */
    assert_int_equal(mlops_metrics_compute(&again, MLOPS_TASK_BINARY, scores, labels, N, 2,
                                           "{\"bootstrap\":300,\"seed\":99}"), MLOPS_OK);
    assert_int_equal(mlops_metrics_compute(&other, MLOPS_TASK_BINARY, scores, labels, N, 2,
                                           "{\"bootstrap\":0}"), MLOPS_OK);
    assert_memory_equal(m->low, again->low, sizeof m->low);
    assert_memory_equal(m->high, again->high, sizeof m->high);
    assert_true(other->low[0] == other->value[0] && other->high[0] == other->value[0]);
    mlops_metrics_free(m);
    mlops_metrics_free(again);
    mlops_metrics_free(other);
}

static void test_degenerate_and_json(void **state)
{
    /* One class only: AUC undefined (null in JSON), accuracy exact. Constant labels: r2 rule of sklearn. */
    float s[4] = {0.2f, 0.7f, 0.9f, 0.1f}, pred[3] = {1, 1, 1};
    double y[4] = {1, 1, 1, 1}, yr[3] = {1, 1, 1}, v;
    mlops_metrics *m = NULL;
    char *json = NULL;
    mlops__json *doc = NULL;
    (void)state;
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_BINARY, s, y, 4, 2, "{\"bootstrap\":20}"), MLOPS_OK);
    assert_int_equal(mlops_metrics_get(&v, NULL, NULL, m, "roc_auc"), MLOPS_OK);
    assert_true(isnan(v));
    assert_int_equal(mlops_metrics_get(&v, NULL, NULL, m, "accuracy"), MLOPS_OK);
    assert_true(v == 0.5);
    assert_int_equal(mlops_metrics_json(&json, m), MLOPS_OK);
    assert_int_equal(mlops__json_parse(&doc, json, "test", "metrics"), MLOPS_OK);
    assert_true(mlops__json_number(mlops__json_get(mlops__json_get(doc, "accuracy"), "value")) == 0.5);
    assert_non_null(strstr(json, "\"roc_auc\":{\"value\":null"));
    assert_non_null(strstr(json, "\"confusion_matrix\":[[0,0],[2,2]]"));
    mlops__json_free(doc);
    mlops_free(json);
    mlops_metrics_free(m);
    assert_int_equal(mlops_metrics_compute(&m, MLOPS_TASK_REGRESSION, pred, yr, 3, 0, "{\"bootstrap\":0}"), 0);
    assert_int_equal(mlops_metrics_get(&v, NULL, NULL, m, "r2"), MLOPS_OK);
    assert_true(v == 1.0);
    assert_int_equal(mlops_metrics_count(m), 3);
    assert_string_equal(mlops_metrics_name(m, 2), "r2");
    assert_null(mlops_metrics_name(m, 3));
    ts_assert_error(mlops_metrics_get(&v, NULL, NULL, m, "roc_auc"), MLOPS_ENOTFOUND, "roc_auc");
    {
        const int64_t *cm;
        size_t k;
        ts_assert_error(mlops_metrics_confusion(&cm, &k, m), MLOPS_ENOTFOUND, "regression");
    }
    mlops_metrics_free(m);
}

static void test_errors(void **state)
{
    float s[3] = {0.1f, 0.5f, 0.9f}, bad[3] = {0.1f, NAN, 0.9f}, over[3] = {0.1f, 1.5f, 0.2f};
    double y[3] = {0, 1, 1}, yb[3] = {0, 2, 1}, yf[3] = {0, 0.5, 1}, v;
    mlops_metrics *m = (mlops_metrics *)1;
    char *json;
    (void)state;
    ts_assert_error(mlops_metrics_compute(NULL, 2, s, y, 3, 2, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_metrics_compute(&m, 2, NULL, y, 3, 2, NULL), MLOPS_EINVAL, "scores");
    assert_null(m);
    ts_assert_error(mlops_metrics_compute(&m, 2, s, NULL, 3, 2, NULL), MLOPS_EINVAL, "labels");
    ts_assert_error(mlops_metrics_compute(&m, 9, s, y, 3, 2, NULL), MLOPS_EINVAL, "unknown task");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 3, 3, NULL), MLOPS_EINVAL, "2 classes");
    ts_assert_error(mlops_metrics_compute(&m, 3, s, y, 3, 1, NULL), MLOPS_EINVAL, "classes");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 0, 2, NULL), MLOPS_EINVAL, "no rows");
    ts_assert_error(mlops_metrics_compute(&m, 2, bad, y, 3, 2, NULL), MLOPS_EINVAL, "row 1");
    ts_assert_error(mlops_metrics_compute(&m, 2, over, y, 3, 2, NULL), MLOPS_EINVAL, "probability");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, yb, 3, 2, NULL), MLOPS_EINVAL, "label of row 1");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, yf, 3, 2, NULL), MLOPS_EINVAL, "label of row 1");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 3, 2, "{\"bootstrp\":1}"), MLOPS_EFORMAT, "bootstrp");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 3, 2, "{\"bootstrap\":-1}"), MLOPS_EFORMAT,
                    "$.bootstrap");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 3, 2, "{\"threshold\":\"x\"}"), MLOPS_EFORMAT,
                    "$.threshold");
    ts_assert_error(mlops_metrics_compute(&m, 2, s, y, 3, 2, "{"), MLOPS_EFORMAT, "");
    assert_null(m);
    ts_assert_error(mlops_metrics_get(NULL, NULL, NULL, m, "x"), MLOPS_EINVAL, "value");
    ts_assert_error(mlops_metrics_get(&v, NULL, NULL, NULL, "x"), MLOPS_EINVAL, "metrics");
    ts_assert_error(mlops_metrics_json(&json, NULL), MLOPS_EINVAL, "metrics");
    ts_assert_error(mlops_metrics_confusion(NULL, NULL, NULL), MLOPS_EINVAL, "out");
    assert_int_equal(mlops_metrics_count(NULL), 0);
    assert_null(mlops_metrics_name(NULL, 0));
    mlops_metrics_free(NULL);
}

typedef struct alloc_ctx {
    mlops_metrics *m;
    char *json;
} alloc_ctx;

static int compute_call(void *p)
{
    alloc_ctx *ctx = p;
    static const float s[4] = {0.1f, 0.6f, 0.4f, 0.9f};
    static const double y[4] = {0, 1, 0, 1};
    int rc = mlops_metrics_compute(&ctx->m, MLOPS_TASK_BINARY, s, y, 4, 2, "{\"bootstrap\":5}");
    return rc ? rc : mlops_metrics_json(&ctx->json, ctx->m);
}

static void compute_cleanup(void *p)
{
    alloc_ctx *ctx = p;
    mlops_metrics_free(ctx->m);
    mlops_free(ctx->json);
    ctx->m = NULL;
    ctx->json = NULL;
}

static void test_allocation_failures(void **state)
{
    alloc_ctx ctx = {NULL, NULL};
    (void)state;
    assert_true(ts_each_allocation_failure(compute_call, compute_cleanup, &ctx) > 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_binary_matches_sklearn),
        cmocka_unit_test(test_multiclass_matches_sklearn),
        cmocka_unit_test(test_regression_matches_sklearn),
        cmocka_unit_test(test_rng_known_answers),
        cmocka_unit_test(test_bootstrap_matches_brute_force),
        cmocka_unit_test(test_degenerate_and_json),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
