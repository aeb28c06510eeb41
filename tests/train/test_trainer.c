/*
 * The trainer: models learn what closed forms and scikit-learn say they
 * should, retraining is bit-identical with 1 and 2 threads, the forward pass
 * equals a plain reference, splits, nulls, schedules and early stopping
 * behave as documented, and every bad configuration is refused by its $.path.
 *
 * Run with --parameter-digest to print a digest of one trained net's
 * parameters instead (tests.cmake compares it across OpenBLAS thread counts).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

/* A frame of n rows: features a, b (float64), c (int64), ts (int64 time), y_reg, y_bin, y_cls. */
static mlops_frame *synthetic(size_t n, uint64_t seed)
{
    mlops_frame *frame = NULL;
    double *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *yr = malloc(n * sizeof *yr);
    int64_t *c = malloc(n * sizeof *c), *ts = malloc(n * sizeof *ts), *yb = malloc(n * sizeof *yb),
            *yc = malloc(n * sizeof *yc);
    size_t i;
    uint64_t x = seed * 2654435761u + 1;
    for (i = 0; i < n; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        a[i] = (double)(x >> 11) / 9007199254740992.0 * 4 - 2;
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        b[i] = (double)(x >> 11) / 9007199254740992.0 * 4 - 2;
        c[i] = (int64_t)(i % 5);
        ts[i] = (int64_t)(i / 3) * 1000000;
        yr[i] = 3 * a[i] - 2 * b[i] + 0.5 * (double)c[i] + 1;
        yb[i] = a[i] + b[i] > 0;
        yc[i] = a[i] > 0 ? (b[i] > 0 ? 0 : 1) : (b[i] > 0 ? 2 : 3);
    }
    assert_int_equal(mlops_frame_new(&frame), 0);
    assert_int_equal(mlops_frame_add_float64(frame, "a", a, NULL, n), 0);
    assert_int_equal(mlops_frame_add_float64(frame, "b", b, NULL, n), 0);
    assert_int_equal(mlops_frame_add_int64(frame, "c", c, NULL, n), 0);
    assert_int_equal(mlops_frame_add_int64(frame, "ts", ts, NULL, n), 0);
    assert_int_equal(mlops_frame_add_float64(frame, "y_reg", yr, NULL, n), 0);
    assert_int_equal(mlops_frame_add_int64(frame, "y_bin", yb, NULL, n), 0);
    assert_int_equal(mlops_frame_add_int64(frame, "y_cls", yc, NULL, n), 0);
    free(a);
    free(b);
    free(c);
    free(ts);
    free(yr);
    free(yb);
    free(yc);
    return frame;
}

static mlops__json *report_of(const mlops_net *net)
{
    char *text = NULL;
    mlops__json *doc = NULL;
    assert_int_equal(mlops_net_report_json(&text, net), MLOPS_OK);
    assert_int_equal(mlops__json_parse(&doc, text, "test", "report"), MLOPS_OK);
    mlops_free(text);
    return doc;
}

static double report_number(const mlops__json *doc, const char *a, const char *b)
{
    const mlops__json *node = mlops__json_get(doc, a);
    if (b)
        node = mlops__json_get(node, b);
    assert_non_null(node);
    return mlops__json_number(node);
}

static double metric(const mlops_metrics *m, const char *name)
{
    double v;
    assert_int_equal(mlops_metrics_get(&v, NULL, NULL, m, name), MLOPS_OK);
    return v;
}

static void test_linear_regression_recovers_the_plane(void **state)
{
    mlops_frame *frame = synthetic(400, 1);
    mlops_net *net = NULL;
    mlops_metrics *m = NULL;
    (void)state;
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\",\"c\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                     "\"linear\"},\"loss\":\"mse\",\"optimizer\":{\"type\":\"sgd\",\"learning_rate\":"
                                     "0.05,\"momentum\":0.9},\"epochs\":60,\"batch_size\":16,\"seed\":3}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_task(net), MLOPS_TASK_REGRESSION);
    assert_int_equal(mlops_net_inputs(net), 3);
    assert_int_equal(mlops_net_outputs(net), 1);
    assert_string_equal(mlops_net_feature_name(net, 2), "c");
    assert_null(mlops_net_feature_name(net, 3));
    assert_int_equal(mlops_net_evaluate(&m, net, frame, "{\"bootstrap\":0}"), MLOPS_OK);
    /* The label is an exact plane of the features: a linear model fits it. */
    assert_true(metric(m, "rmse") < 1e-3);
    assert_true(metric(m, "r2") > 0.999999);
    mlops_metrics_free(m);
    {
        /* Predict on raw values: 3a - 2b + 0.5c + 1 at (1, 1, 2) is 3. */
        float x[3] = {1, 1, 2}, y;
        assert_int_equal(mlops_net_predict(&y, 1, net, x, 1), MLOPS_OK);
        assert_true(fabsf(y - 3.0f) < 1e-3f);
    }
    mlops_net_free(net);
    mlops_frame_free(frame);
}

/* Reference forward pass in double from the public parameters and the report's standardisation. */
static void reference_forward(double *out, const mlops_net *net, const size_t *widths, size_t layers,
                              const char *act, const float *x)
{
    size_t count, l, i, j, off = 0, in = mlops_net_inputs(net);
    float *p;
    double cur[256], next[256];
    mlops__json *doc = report_of(net);
    const mlops__json *mean = mlops__json_get(doc, "mean"), *scale = mlops__json_get(doc, "scale");
    assert_int_equal(mlops_net_parameters(NULL, 0, &count, net), MLOPS_EBUFSIZE);
    p = malloc(count * sizeof *p);
    assert_int_equal(mlops_net_parameters(p, count, &count, net), MLOPS_OK);
    for (j = 0; j < in; j++)
        cur[j] = ((double)x[j] - mlops__json_number(mlops__json_at(mean, j))) /
                 mlops__json_number(mlops__json_at(scale, j));
    for (l = 0; l < layers; l++) {
        size_t out_w = widths[l];
        for (i = 0; i < out_w; i++) {
            double z = p[off + out_w * in + i];
            for (j = 0; j < in; j++)
                z += (double)p[off + i * in + j] * cur[j];
            if (l + 1 < layers)
                z = strcmp(act, "tanh") == 0 ? tanh(z) : strcmp(act, "gelu") == 0 ? 0.5 * z * (1 + erf(z / sqrt(2)))
                                                                                 : (z > 0 ? z : 0);
            next[i] = z;
        }
        off += out_w * in + out_w;
        in = out_w;
        memcpy(cur, next, in * sizeof *cur);
    }
    assert_int_equal(off, count);
    if (in == 1) {
        out[0] = 1 / (1 + exp(-cur[0]));
    } else {
        double max = cur[0], sum = 0;
        for (i = 1; i < in; i++)
            max = cur[i] > max ? cur[i] : max;
        for (i = 0; i < in; i++)
            sum += exp(cur[i] - max);
        for (i = 0; i < in; i++)
            out[i] = exp(cur[i] - max) / sum;
    }
    free(p);
    mlops__json_free(doc);
}

static void check_mlp(const char *act, const char *task_label, size_t classes, double min_accuracy)
{
    mlops_frame *frame = synthetic(600, 2);
    mlops_net *net = NULL;
    mlops_metrics *m = NULL;
    const mlops_metrics *test = NULL;
    char config[512];
    size_t widths[3] = {16, 8, classes == 2 ? 1 : classes}, i, k;
    float x[3] = {0.3f, -1.2f, 4}, out[4], many[3 * 300];
    double ref[4];
    snprintf(config, sizeof config,
             "{\"features\":[\"a\",\"b\",\"c\"],\"label\":\"%s\",\"task\":\"%s\",\"model\":{\"type\":\"mlp\","
             "\"hidden\":[16,8],\"activation\":\"%s\"},\"optimizer\":{\"type\":\"adam\",\"learning_rate\":0.01},"
             "\"epochs\":40,\"batch_size\":32,\"seed\":11,\"split\":{\"test\":0.25},\"bootstrap\":50}",
             task_label, classes == 2 ? "binary" : "multiclass", act);
    assert_int_equal(mlops_net_train(&net, frame, config), MLOPS_OK);
    assert_int_equal(mlops_net_outputs(net), widths[2]);
    assert_int_equal(mlops_net_test_metrics(&test, net), MLOPS_OK);
    if (metric(test, "accuracy") < min_accuracy)
        fail_msg("%s %s: test accuracy %g", act, task_label, metric(test, "accuracy"));
    /* Predict equals the double-precision reference. */
    assert_int_equal(mlops_net_predict(out, 4, net, x, 1), MLOPS_OK);
    reference_forward(ref, net, widths, 3, act, x);
    for (k = 0; k < widths[2]; k++)
        assert_true(fabs(out[k] - ref[k]) < 1e-5);
    /* A row's output does not depend on the other rows predicted with it. */
    for (i = 0; i < 300; i++) {
        many[3 * i] = (float)i / 100.0f - 1.5f;
        many[3 * i + 1] = 0.5f - (float)i / 300.0f;
        many[3 * i + 2] = (float)(i % 5);
    }
    many[3 * 257] = x[0];
    many[3 * 257 + 1] = x[1];
    many[3 * 257 + 2] = x[2];
    {
        float *all = malloc(300 * widths[2] * sizeof *all);
        assert_int_equal(mlops_net_predict(all, 300 * widths[2], net, many, 300), MLOPS_OK);
        assert_memory_equal(all + 257 * widths[2], out, widths[2] * sizeof *out);
        free(all);
    }
    assert_int_equal(mlops_net_evaluate(&m, net, frame, "{\"bootstrap\":0}"), MLOPS_OK);
    assert_true(metric(m, "accuracy") >= min_accuracy);
    mlops_metrics_free(m);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void test_mlp_activations_and_heads(void **state)
{
    (void)state;
    check_mlp("relu", "y_bin", 2, 0.95);
    check_mlp("gelu", "y_cls", 4, 0.93);
    check_mlp("tanh", "y_cls", 4, 0.93);
}

static void test_logistic_and_softmax(void **state)
{
    mlops_frame *frame = synthetic(500, 4);
    mlops_net *net = NULL;
    const mlops_metrics *test = NULL;
    (void)state;
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"model\":{\"type\":"
                                     "\"logistic\"},\"loss\":\"binary_cross_entropy\",\"epochs\":30,\"seed\":1,"
                                     "\"optimizer\":{\"learning_rate\":0.05},\"split\":{\"test\":0.2}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_test_metrics(&test, net), MLOPS_OK);
    assert_true(metric(test, "accuracy") > 0.95);
    assert_true(metric(test, "roc_auc") > 0.99);
    mlops_net_free(net);
    /* Softmax cannot separate quadrants linearly by a and b alone but does well on a single sign. */
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_cls\",\"model\":{\"type\":"
                                     "\"softmax\"},\"loss\":\"cross_entropy\",\"epochs\":30,\"seed\":1,"
                                     "\"classes\":4,\"optimizer\":{\"learning_rate\":0.05},\"split\":{\"test\":0.2}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_outputs(net), 4);
    assert_int_equal(mlops_net_test_metrics(&test, net), MLOPS_OK);
    assert_true(metric(test, "accuracy") > 0.8);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

/* Pieces of 64 rows through 256- and 128-wide layers: products large enough for OpenBLAS to use its threads. */
static const char *repro_config(int threads)
{
    static char text[512];
    snprintf(text, sizeof text,
             "{\"features\":[\"a\",\"b\",\"c\"],\"label\":\"y_cls\",\"task\":\"multiclass\",\"model\":{\"type\":"
             "\"mlp\",\"hidden\":[256,128],\"activation\":\"gelu\"},\"epochs\":3,\"batch_size\":256,\"seed\":5,"
             "\"threads\":%d,\"shards\":4,\"weight_decay\":0.001,\"split\":{\"validation\":0.2},"
             "\"schedule\":{\"type\":\"cosine\"}}",
             threads);
    return text;
}

static float *train_parameters(const mlops_frame *frame, const char *config, size_t *count)
{
    mlops_net *net = NULL;
    float *p;
    assert_int_equal(mlops_net_train(&net, frame, config), MLOPS_OK);
    assert_int_equal(mlops_net_parameters(NULL, 0, count, net), MLOPS_EBUFSIZE);
    p = malloc(*count * sizeof *p);
    assert_int_equal(mlops_net_parameters(p, *count, count, net), MLOPS_OK);
    mlops_net_free(net);
    return p;
}

static void test_bit_identical_with_1_and_2_threads(void **state)
{
    mlops_frame *frame = synthetic(700, 6);
    size_t n1, n2, n3, n4;
    float *p1, *p2, *p3, *p4;
    (void)state;
    p1 = train_parameters(frame, repro_config(1), &n1);
    p2 = train_parameters(frame, repro_config(2), &n2);
    p3 = train_parameters(frame, repro_config(1), &n3);
    assert_int_equal(n1, 3 * 256 + 256 + 256 * 128 + 128 + 128 * 4 + 4);
    assert_int_equal(n1, n2);
    assert_memory_equal(p1, p2, n1 * sizeof *p1);
    assert_memory_equal(p1, p3, n1 * sizeof *p1);
    /* A different seed gives different weights: the comparison above can fail. */
    {
        char other[512];
        snprintf(other, sizeof other, "%s", repro_config(2));
        memcpy(strstr(other, "\"seed\":5"), "\"seed\":6", 8);
        p4 = train_parameters(frame, other, &n4);
        assert_true(memcmp(p1, p4, n1 * sizeof *p1) != 0);
    }
    free(p1);
    free(p2);
    free(p3);
    free(p4);
    mlops_frame_free(frame);
}

static void test_time_split_keeps_the_future_out(void **state)
{
    /* ts = floor(i / 3): 100 rows, 20% test, 20% validation. The test boundary at row 80 falls inside the
     * group {78, 79, 80} and moves to 78; the validation boundary 78 - 20 = 58 falls inside {57, 58, 59} and
     * moves to 57. */
    mlops_frame *frame = synthetic(100, 7);
    mlops_net *net = NULL;
    mlops__json *doc;
    (void)state;
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                     "\"linear\"},\"epochs\":1,\"split\":{\"validation\":0.2,\"test\":0.2,"
                                     "\"time_column\":\"ts\"},\"bootstrap\":0}"),
                     MLOPS_OK);
    doc = report_of(net);
    assert_true(report_number(doc, "rows", "train") == 57);
    assert_true(report_number(doc, "rows", "validation") == 21);
    assert_true(report_number(doc, "rows", "test") == 22);
    mlops__json_free(doc);
    mlops_net_free(net);
    /* Random split: 100 rows, 10% validation and 30% test. */
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\"],\"label\":\"y_reg\",\"model\":{\"type\":\"linear\"},"
                                     "\"epochs\":1,\"split\":{\"validation\":0.1,\"test\":0.3},\"bootstrap\":0}"),
                     MLOPS_OK);
    doc = report_of(net);
    assert_true(report_number(doc, "rows", "train") == 60);
    assert_true(report_number(doc, "rows", "validation") == 10);
    assert_true(report_number(doc, "rows", "test") == 30);
    mlops__json_free(doc);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void test_nulls_imputed_with_training_mean_or_refused(void **state)
{
    double a[6] = {1, 0, 3, 5, 0, 7}, y[6] = {0, 1, 0, 1, 0, 1};
    uint8_t nulls[6] = {0, 1, 0, 0, 1, 0};
    mlops_frame *frame = NULL;
    mlops_net *net = NULL;
    mlops__json *doc;
    float x[2] = {NAN, 4}, p1, p2;
    (void)state;
    assert_int_equal(mlops_frame_new(&frame), 0);
    assert_int_equal(mlops_frame_add_float64(frame, "a", a, nulls, 6), 0);
    assert_int_equal(mlops_frame_add_float64(frame, "y", y, NULL, 6), 0);
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"logistic\"},"
                                     "\"epochs\":2,\"nulls\":\"impute_mean\"}"),
                     MLOPS_OK);
    doc = report_of(net);
    /* Mean of the non-null training values 1, 3, 5, 7. */
    assert_true(mlops__json_number(mlops__json_at(mlops__json_get(doc, "impute"), 0)) == 4.0);
    mlops__json_free(doc);
    assert_int_equal(mlops_net_predict(&p1, 1, net, &x[0], 1), MLOPS_OK);
    assert_int_equal(mlops_net_predict(&p2, 1, net, &x[1], 1), MLOPS_OK);
    assert_true(p1 == p2);
    mlops_net_free(net);
    ts_assert_error(mlops_net_train(&net, frame,
                                    "{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"logistic\"},"
                                    "\"nulls\":\"refuse\"}"),
                    MLOPS_EINVAL, "column \"a\" row 1 is null");
    assert_null(net);
    mlops_frame_free(frame);
}

typedef struct progress_log {
    int64_t calls, last_epoch, epochs;
    double loss[16], validation[16];
} progress_log;

static void record_progress(int64_t epoch, int64_t epochs, double loss, double validation, void *payload)
{
    progress_log *log = payload;
    assert_int_equal(epoch, log->last_epoch + 1);
    log->last_epoch = epoch;
    log->epochs = epochs;
    log->loss[log->calls] = loss;
    log->validation[log->calls] = validation;
    log->calls++;
}

static void test_progress_reports_every_epoch(void **state)
{
    /* The callback sees what the report records, epoch by epoch. */
    mlops_frame *frame = synthetic(200, 13);
    mlops_net *net = NULL;
    progress_log log;
    mlops__json *doc;
    int64_t e;
    (void)state;
    memset(&log, 0, sizeof log);
    assert_int_equal(mlops_net_train_progress(&net, frame,
                                              "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"model\":{\"type\":"
                                              "\"logistic\"},\"epochs\":5,\"split\":{\"validation\":0.2}}",
                                              record_progress, &log),
                     MLOPS_OK);
    assert_int_equal(log.calls, 5);
    assert_int_equal(log.epochs, 5);
    doc = report_of(net);
    for (e = 0; e < 5; e++) {
        const mlops__json *rec = mlops__json_at(mlops__json_get(doc, "epochs"), (size_t)e);
        assert_true(report_number(rec, "loss", NULL) == log.loss[e]);
        assert_true(report_number(rec, "validation", NULL) == log.validation[e]);
    }
    mlops__json_free(doc);
    mlops_net_free(net);
    /* Without a validation split the score is NaN; a NULL callback is allowed. */
    memset(&log, 0, sizeof log);
    assert_int_equal(mlops_net_train_progress(&net, frame,
                                              "{\"features\":[\"a\"],\"label\":\"y_bin\",\"model\":{\"type\":"
                                              "\"logistic\"},\"epochs\":2}",
                                              record_progress, &log),
                     MLOPS_OK);
    assert_int_equal(log.calls, 2);
    assert_true(isnan(log.validation[1]));
    mlops_net_free(net);
    assert_int_equal(mlops_net_train_progress(&net, frame,
                                              "{\"features\":[\"a\"],\"label\":\"y_bin\",\"model\":{\"type\":"
                                              "\"logistic\"},\"epochs\":1}",
                                              NULL, NULL),
                     MLOPS_OK);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void test_schedules_and_early_stopping(void **state)
{
    mlops_frame *frame = synthetic(300, 8);
    mlops_net *net = NULL;
    mlops__json *doc;
    const mlops__json *epochs;
    size_t e;
    (void)state;
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                     "\"linear\"},\"epochs\":8,\"optimizer\":{\"type\":\"sgd\",\"learning_rate\":0.1},"
                                     "\"schedule\":{\"type\":\"cosine\",\"min_learning_rate\":0.02}}"),
                     MLOPS_OK);
    doc = report_of(net);
    epochs = mlops__json_get(doc, "epochs");
    assert_int_equal(mlops__json_array_size(epochs), 8);
    for (e = 0; e < 8; e++) {
        double want = 0.02 + 0.5 * (0.1 - 0.02) * (1 + cos(M_PI * (double)e / 8));
        assert_true(fabs(report_number(mlops__json_at(epochs, e), "learning_rate", NULL) - want) < 1e-12);
    }
    /* The loss decreases on a noiseless plane. */
    assert_true(report_number(mlops__json_at(epochs, 7), "loss", NULL) <
                report_number(mlops__json_at(epochs, 0), "loss", NULL));
    mlops__json_free(doc);
    mlops_net_free(net);

    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                     "\"linear\"},\"epochs\":7,\"optimizer\":{\"type\":\"sgd\",\"learning_rate\":0.1},"
                                     "\"schedule\":{\"type\":\"step\",\"step_epochs\":3,\"gamma\":0.5}}"),
                     MLOPS_OK);
    doc = report_of(net);
    epochs = mlops__json_get(doc, "epochs");
    for (e = 0; e < 7; e++)
        assert_true(report_number(mlops__json_at(epochs, e), "learning_rate", NULL) ==
                    0.1 * (e < 3 ? 1 : e < 6 ? 0.5 : 0.25));
    mlops__json_free(doc);
    mlops_net_free(net);

    /* A learning rate that stalls learning: patience runs out and the best epoch's weights are kept. */
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"model\":{\"type\":"
                                     "\"logistic\"},\"epochs\":500,\"optimizer\":{\"type\":\"sgd\","
                                     "\"learning_rate\":1e-9},\"split\":{\"validation\":0.3},"
                                     "\"early_stopping\":{\"metric\":\"accuracy\",\"patience\":3,\"min_delta\":0.01}}"),
                     MLOPS_OK);
    doc = report_of(net);
    assert_true(mlops__json_bool(mlops__json_get(doc, "stopped_early")));
    assert_int_equal(mlops__json_array_size(mlops__json_get(doc, "epochs")), 4);
    assert_true(report_number(doc, "best_epoch", NULL) == 1);
    assert_string_equal(mlops__json_string(mlops__json_get(doc, "validation_metric")), "accuracy");
    mlops__json_free(doc);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void test_class_weights_shift_predictions(void **state)
{
    /* Overlapping classes: weighting class 1 ten times raises its recall. */
    mlops_frame *frame = synthetic(600, 9);
    mlops_net *net = NULL;
    mlops_metrics *m = NULL;
    double plain, weighted;
    (void)state;
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\"],\"label\":\"y_bin\",\"model\":{\"type\":\"logistic\"},"
                                     "\"epochs\":20,\"seed\":2}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_evaluate(&m, net, frame, "{\"bootstrap\":0}"), MLOPS_OK);
    plain = metric(m, "recall");
    mlops_metrics_free(m);
    mlops_net_free(net);
    assert_int_equal(mlops_net_train(&net, frame,
                                     "{\"features\":[\"a\"],\"label\":\"y_bin\",\"model\":{\"type\":\"logistic\"},"
                                     "\"epochs\":20,\"seed\":2,\"class_weights\":[1,10]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_evaluate(&m, net, frame, "{\"bootstrap\":0}"), MLOPS_OK);
    weighted = metric(m, "recall");
    assert_true(weighted > plain + 0.05);
    mlops_metrics_free(m);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void check_sklearn_reference(const char *name, size_t width)
{
    char path[256], config[4096];
    mlops_frame *train = NULL, *test = NULL;
    mlops_net *net = NULL;
    mlops_metrics *m = NULL;
    mlops__json *ref = NULL;
    char *text;
    size_t len, i, off;
    double ours = 0, theirs;
    int seed;

    snprintf(path, sizeof path, "train/%s_train.csv", name);
    assert_int_equal(mlops_frame_read_csv(&train, ts_data(path), NULL), MLOPS_OK);
    snprintf(path, sizeof path, "train/%s_test.csv", name);
    assert_int_equal(mlops_frame_read_csv(&test, ts_data(path), NULL), MLOPS_OK);
    text = ts_read_file(ts_data("train/mlp_reference.json"), &len);
    assert_int_equal(mlops__json_parse(&ref, text, "test", "reference"), MLOPS_OK);
    free(text);
    theirs = report_number(mlops__json_get(ref, name), "test_accuracy", NULL);
    /* The settings sklearn used: one hidden layer of 64 ReLU, Adam 1e-3, batch 32, L2 1e-4, 100 epochs,
     * standardised inputs; averaged over 5 seeds as sklearn's figure is. */
    for (seed = 0; seed < 5; seed++) {
        off = (size_t)snprintf(config, sizeof config, "{\"features\":[");
        for (i = 0; i < width; i++)
            off += (size_t)snprintf(config + off, sizeof config - off, "%s\"f%zu\"", i ? "," : "", i);
        snprintf(config + off, sizeof config - off,
                 "],\"label\":\"label\",\"task\":\"%s\",\"model\":{\"type\":\"mlp\",\"hidden\":[64],"
                 "\"activation\":\"relu\"},\"optimizer\":{\"type\":\"adam\",\"learning_rate\":0.001},"
                 "\"weight_decay\":0.0001,\"epochs\":100,\"batch_size\":32,\"seed\":%d,\"threads\":2,"
                 "\"shards\":2}",
                 strcmp(name, "digits") == 0 ? "multiclass" : "binary", seed);
        assert_int_equal(mlops_net_train(&net, train, config), MLOPS_OK);
        assert_int_equal(mlops_net_evaluate(&m, net, test, "{\"bootstrap\":0}"), MLOPS_OK);
        ours += metric(m, "accuracy") / 5;
        mlops_metrics_free(m);
        mlops_net_free(net);
    }
    print_message("%s: test accuracy %.4f, sklearn MLPClassifier %.4f\n", name, ours, theirs);
    if (fabs(ours - theirs) > 0.015)
        fail_msg("%s: accuracy %.4f is not within 1.5 points of sklearn's %.4f", name, ours, theirs);
    mlops__json_free(ref);
    mlops_frame_free(train);
    mlops_frame_free(test);
}

static void test_digits_matches_sklearn(void **state)
{
    (void)state;
    check_sklearn_reference("digits", 64);
}

static void test_breast_cancer_matches_sklearn(void **state)
{
    (void)state;
    check_sklearn_reference("breast_cancer", 30);
}

static void test_bad_configurations(void **state)
{
    static const struct {
        const char *config, *needle;
    } cases[] = {
        {"{", "line"},
        {"[]", "$: expected an object"},
        {"{\"label\":\"y\",\"model\":{\"type\":\"linear\"}}", "$.features: required"},
        {"{\"features\":[],\"label\":\"y\",\"model\":{\"type\":\"linear\"}}", "$.features"},
        {"{\"features\":[1],\"label\":\"y\",\"model\":{\"type\":\"linear\"}}", "$.features[0]"},
        {"{\"features\":[\"a\"],\"model\":{\"type\":\"linear\"}}", "$.label: required"},
        {"{\"features\":[\"a\"],\"label\":\"y\"}", "$.model: required"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"tree\"}}", "$.model.type"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\",\"depth\":2}}", "depth"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"epoch\":2}", "epoch"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\",\"hidden\":[4]}}", "$.model.hidden"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"mlp\",\"hidden\":[4]}}", "$.task"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"task\":\"binary\",\"model\":{\"type\":\"mlp\"}}",
         "$.model.hidden"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"task\":\"binary\",\"model\":{\"type\":\"mlp\",\"hidden\":[0]}}",
         "$.model.hidden[0]"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"task\":\"binary\",\"model\":{\"type\":\"mlp\",\"hidden\":[4],"
         "\"activation\":\"swish\"}}", "$.model.activation"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"task\":\"binary\",\"model\":{\"type\":\"linear\"}}", "$.task"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"loss\":\"cross_entropy\"}",
         "$.loss"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"class_weights\":[1]}",
         "$.class_weights"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"logistic\"},\"class_weights\":[1,0]}",
         "$.class_weights[1]"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"logistic\"},\"class_weights\":[1,2,3]}",
         "$.class_weights"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"optimizer\":{\"type\":\"lbfgs\"}}",
         "$.optimizer.type"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"optimizer\":{\"type\":\"sgd\","
         "\"beta1\":0.9}}", "$.optimizer"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"optimizer\":{\"momentum\":0.9}}",
         "$.optimizer.momentum"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"optimizer\":{\"learning_rate\":0}}",
         "$.optimizer.learning_rate"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"schedule\":{\"type\":\"cyclic\"}}",
         "$.schedule.type"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"schedule\":{\"gamma\":2}}",
         "$.schedule.gamma"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"epochs\":0}", "$.epochs"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"batch_size\":1.5}", "$.batch_size"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"threads\":65}", "$.threads"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"standardize\":1}", "$.standardize"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"nulls\":\"drop\"}", "$.nulls"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"split\":{\"test\":0.95}}",
         "$.split.test"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"split\":{\"test\":0.5,"
         "\"validation\":0.5}}", "$.split"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"split\":{\"by\":\"ts\"}}", "by"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"early_stopping\":{}}",
         "$.early_stopping"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"split\":{\"validation\":0.2},"
         "\"early_stopping\":{\"metric\":\"accuracy\"}}", "$.early_stopping.metric"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"linear\"},\"split\":{\"validation\":0.2},"
         "\"early_stopping\":{\"patience\":0}}", "$.early_stopping.patience"},
        {"{\"features\":[\"a\"],\"label\":\"y\",\"model\":{\"type\":\"softmax\"},\"classes\":1}", "$.classes"},
    };
    mlops_frame *frame = synthetic(20, 10);
    mlops_net *net = (mlops_net *)1;
    size_t i;
    (void)state;
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = mlops_net_train(&net, frame, cases[i].config);
        if (rc != MLOPS_EFORMAT || !strstr(mlops_error_last()->message, cases[i].needle))
            fail_msg("case %zu: status %d, message \"%s\", wanted \"%s\"", i, rc, mlops_error_last()->message,
                     cases[i].needle);
        assert_null(net);
    }
    mlops_frame_free(frame);
}

/* A net past MLOPS__TRAIN_MAX_PARAMETERS is refused before anything is allocated for it. */
static void test_parameter_limit(void **state)
{
    mlops_frame *frame = synthetic(20, 12);
    mlops_net *net = (mlops_net *)1;
    size_t count = 0;
    (void)state;
    /* 2 x 8192 + 8192, then 8192 x 8192 + 8192, then 8192 + 1: 67 149 825 parameters, 2^26 is 67 108 864. */
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"task\":"
                                                 "\"binary\",\"model\":{\"type\":\"mlp\",\"hidden\":[8192,8192]}}"),
                    MLOPS_ELIMIT, "$.model: the net would have 67149825 parameters (at most 67108864)");
    assert_null(net);
    /* A batch far larger than the data is sized to the data. */
    assert_int_equal(mlops_net_train(&net, frame, "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"task\":"
                                                  "\"binary\",\"model\":{\"type\":\"mlp\",\"hidden\":[4096]},"
                                                  "\"epochs\":1,\"batch_size\":1048576,\"shards\":64}"),
                     MLOPS_OK);
    assert_int_equal(mlops_net_parameters(NULL, 0, &count, net), MLOPS_EBUFSIZE);
    assert_int_equal(count, 2 * 4096 + 4096 + 4096 + 1);
    mlops_net_free(net);
    mlops_frame_free(frame);
}

static void test_bad_data_and_arguments(void **state)
{
    mlops_frame *frame = synthetic(30, 11);
    mlops_net *net = NULL;
    float x[2] = {1, 2}, out[4];
    size_t count;
    const mlops_metrics *tm;
    mlops_metrics *m;
    char *text;
    (void)state;
    ts_assert_error(mlops_net_train(NULL, frame, "{}"), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_net_train(&net, NULL, "{}"), MLOPS_EINVAL, "frame");
    ts_assert_error(mlops_net_train(&net, frame, NULL), MLOPS_EINVAL, "config_json");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"nope\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                                 "\"linear\"}}"),
                    MLOPS_ENOTFOUND, "nope");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                                 "\"logistic\"}}"),
                    MLOPS_EINVAL, "not a class index");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\"],\"label\":\"y_cls\",\"model\":{\"type\":"
                                                 "\"logistic\"}}"),
                    MLOPS_EINVAL, "outside the 2 classes");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\"],\"label\":\"y_cls\",\"model\":{\"type\":"
                                                 "\"softmax\"},\"classes\":3}"),
                    MLOPS_EINVAL, "outside the 3 classes");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                                 "\"linear\"},\"split\":{\"time_column\":\"a\"}}"),
                    MLOPS_EINVAL, "not an int64 timestamp");
    ts_assert_error(mlops_net_train(&net, frame, "{\"features\":[\"a\"],\"label\":\"y_reg\",\"model\":{\"type\":"
                                                 "\"linear\"},\"epochs\":50,\"optimizer\":{\"type\":\"sgd\",\"learning_rate\":1e3}}"),
                    MLOPS_EINVAL, "diverged");
    assert_null(net);
    {
        /* A feature with no value in the training rows has no mean to impute with. */
        mlops_frame *empty = NULL;
        double v[3] = {0, 0, 0}, y[3] = {0, 1, 0};
        uint8_t all[3] = {1, 1, 1};
        assert_int_equal(mlops_frame_new(&empty), 0);
        assert_int_equal(mlops_frame_add_float64(empty, "v", v, all, 3), 0);
        assert_int_equal(mlops_frame_add_float64(empty, "y", y, NULL, 3), 0);
        ts_assert_error(mlops_net_train(&net, empty, "{\"features\":[\"v\"],\"label\":\"y\",\"model\":{\"type\":"
                                                     "\"logistic\"}}"),
                        MLOPS_EINVAL, "input 0 (in $.features order): every training value is null");
        ts_assert_error(mlops_net_train(&net, empty, "{\"features\":[\"y\"],\"label\":\"v\",\"model\":{\"type\":"
                                                     "\"linear\"}}"),
                        MLOPS_EINVAL, "column \"v\" row 0 is null");
        mlops_frame_free(empty);
    }
    assert_int_equal(mlops_net_train(&net, frame, "{\"features\":[\"a\",\"b\"],\"label\":\"y_bin\",\"model\":"
                                                  "{\"type\":\"logistic\"},\"epochs\":1}"),
                     MLOPS_OK);
    ts_assert_error(mlops_net_predict(out, 0, net, x, 1), MLOPS_EBUFSIZE, "capacity");
    ts_assert_error(mlops_net_predict(NULL, 4, net, x, 1), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_net_predict(out, 4, NULL, x, 1), MLOPS_EINVAL, "net");
    x[1] = INFINITY;
    ts_assert_error(mlops_net_predict(out, 4, net, x, 1), MLOPS_EINVAL, "infinite");
    ts_assert_error(mlops_net_predict_frame(out, 4, net, frame), MLOPS_EBUFSIZE, "capacity");
    ts_assert_error(mlops_net_predict_frame(out, 4, NULL, frame), MLOPS_EINVAL, "net");
    ts_assert_error(mlops_net_parameters(out, 4, NULL, net), MLOPS_EINVAL, "count_out");
    ts_assert_error(mlops_net_parameters(out, 1, &count, net), MLOPS_EBUFSIZE, "needs 3");
    ts_assert_error(mlops_net_test_metrics(&tm, net), MLOPS_ENOTFOUND, "test split");
    ts_assert_error(mlops_net_test_metrics(NULL, net), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_net_report_json(&text, NULL), MLOPS_EINVAL, "net");
    ts_assert_error(mlops_net_evaluate(&m, net, NULL, NULL), MLOPS_EINVAL, "frame");
    ts_assert_error(mlops_net_evaluate(&m, net, frame, "{\"x\":1}"), MLOPS_EFORMAT, "x");
    assert_int_equal(mlops_net_task(NULL), 0);
    assert_int_equal(mlops_net_inputs(NULL), 0);
    assert_int_equal(mlops_net_outputs(NULL), 0);
    assert_null(mlops_net_feature_name(NULL, 0));
    mlops_net_free(net);
    mlops_net_free(NULL);
    mlops_frame_free(frame);
}

typedef struct train_ctx {
    mlops_frame *frame;
    mlops_net *net;
    int threads;
} train_ctx;

static int train_call(void *p)
{
    train_ctx *ctx = p;
    char config[512];
    snprintf(config, sizeof config,
             "{\"features\":[\"a\",\"b\"],\"label\":\"y_cls\",\"task\":\"multiclass\",\"model\":{\"type\":\"mlp\","
             "\"hidden\":[4]},\"epochs\":2,\"batch_size\":8,\"threads\":%d,\"shards\":2,\"split\":{\"validation\":"
             "0.2,\"test\":0.2},\"early_stopping\":{\"patience\":1},\"bootstrap\":3}",
             ctx->threads);
    return mlops_net_train(&ctx->net, ctx->frame, config);
}

static void train_cleanup(void *p)
{
    train_ctx *ctx = p;
    mlops_net_free(ctx->net);
    ctx->net = NULL;
}

static void test_allocation_failures(void **state)
{
    train_ctx ctx = {NULL, NULL, 1};
    (void)state;
    ctx.frame = synthetic(40, 12);
    assert_true(ts_each_allocation_failure(train_call, train_cleanup, &ctx) > 20);
    ctx.threads = 2;
    assert_true(ts_each_allocation_failure(train_call, train_cleanup, &ctx) > 20);
    mlops_frame_free(ctx.frame);
}

/* FNV-1a over the bytes of the parameters. */
static int print_digest(void)
{
    mlops_frame *frame = synthetic(700, 6);
    size_t n, i;
    float *p = train_parameters(frame, repro_config(2), &n);
    const unsigned char *bytes = (const unsigned char *)p;
    uint64_t h = 1469598103934665603ull;
    for (i = 0; i < n * sizeof *p; i++)
        h = (h ^ bytes[i]) * 1099511628211ull;
    printf("%016llx\n", (unsigned long long)h);
    free(p);
    mlops_frame_free(frame);
    return 0;
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_regression_recovers_the_plane),
        cmocka_unit_test(test_mlp_activations_and_heads),
        cmocka_unit_test(test_logistic_and_softmax),
        cmocka_unit_test(test_bit_identical_with_1_and_2_threads),
        cmocka_unit_test(test_time_split_keeps_the_future_out),
        cmocka_unit_test(test_nulls_imputed_with_training_mean_or_refused),
        cmocka_unit_test(test_schedules_and_early_stopping),
        cmocka_unit_test(test_progress_reports_every_epoch),
        cmocka_unit_test(test_class_weights_shift_predictions),
        cmocka_unit_test(test_digits_matches_sklearn),
        cmocka_unit_test(test_breast_cancer_matches_sklearn),
        cmocka_unit_test(test_bad_configurations),
        cmocka_unit_test(test_parameter_limit),
        cmocka_unit_test(test_bad_data_and_arguments),
        cmocka_unit_test(test_allocation_failures),
    };
    if (argc > 1 && strcmp(argv[1], "--parameter-digest") == 0)
        return print_digest();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
