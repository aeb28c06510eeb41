/*
 * One call trains, evaluates, tracks and registers: the run, the version (its
 * artifact is the ONNX export), the metrics with intervals, lineage and the
 * reference profile are all in the database, or none of them is.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

static const char *const config =
    "{\"features\":[\"f0\",\"f1\",\"f2\",\"f3\"],\"label\":\"label\",\"task\":\"binary\",\"model\":{\"type\":\"mlp\","
    "\"hidden\":[8],\"activation\":\"tanh\"},\"optimizer\":{\"learning_rate\":0.01},\"epochs\":6,\"seed\":3,"
    "\"split\":{\"validation\":0.2,\"test\":0.25},\"early_stopping\":{\"metric\":\"roc_auc\",\"patience\":3},"
    "\"bootstrap\":100}";

static const char *const options =
    "{\"experiment\":\"cancer-weekly\",\"run_name\":\"retrain\",\"tags\":{\"team\":\"ml\"},"
    "\"lineage\":{\"feature_views\":[{\"name\":\"cells\",\"version\":2}],\"as_of_us\":1700000000000000}}";

static mlops_db *fresh_db(const char *name)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, ts_path(name), NULL), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "cancer", "breast cancer classifier", NULL), MLOPS_OK);
    return db;
}

static mlops__json *parse(char *text)
{
    mlops__json *doc = NULL;
    assert_non_null(text);
    assert_int_equal(mlops__json_parse(&doc, text, "test", "document"), MLOPS_OK);
    mlops_free(text);
    return doc;
}

static size_t count_of(mlops_db *db, int runs)
{
    char *text = NULL;
    mlops__json *doc;
    size_t n;
    if (runs)
        assert_int_equal(mlops_run_list(&text, db, NULL), MLOPS_OK);
    else
        assert_int_equal(mlops_version_list(&text, db, "cancer", NULL), MLOPS_OK);
    doc = parse(text);
    n = mlops__json_array_size(doc);
    mlops__json_free(doc);
    return n;
}

static void test_one_call_records_everything(void **state)
{
    mlops_frame *frame = NULL;
    mlops_db *db = fresh_db("everything.db");
    mlops_net *net = NULL;
    const mlops_metrics *test = NULL;
    int64_t version = 0, second = 0;
    char *text = NULL, parent_options[512];
    void *artifact = NULL, *onnx = NULL, *profile_bytes = NULL;
    size_t artifact_len, onnx_len, profile_len, i, found = 0;
    mlops__json *doc;
    const mlops__json *metrics, *series;
    mlops_profile *profile = NULL;
    (void)state;
    assert_int_equal(mlops_frame_read_csv(&frame, ts_data("train/breast_cancer_train.csv"), NULL), MLOPS_OK);
    assert_int_equal(mlops_net_train_register(&version, &net, db, "cancer", frame, config, options), MLOPS_OK);
    assert_int_equal(version, 1);
    assert_non_null(net);

    /* The artifact is the net's ONNX export, byte for byte. */
    assert_int_equal(mlops_artifact_read(&artifact, &artifact_len, db, "cancer", 1), MLOPS_OK);
    assert_int_equal(mlops_net_export_onnx(&onnx, &onnx_len, net, NULL), MLOPS_OK);
    assert_int_equal(artifact_len, onnx_len);
    assert_memory_equal(artifact, onnx, onnx_len);

    /* Test metrics with their intervals, on dataset "test", as the net holds them. */
    assert_int_equal(mlops_net_test_metrics(&test, net), MLOPS_OK);
    assert_int_equal(mlops_version_show(&text, db, "cancer", 1), MLOPS_OK);
    doc = parse(text);
    metrics = mlops__json_get(doc, "metrics");
    for (i = 0; i < mlops__json_array_size(metrics); i++) {
        const mlops__json *m = mlops__json_at(metrics, i);
        double v, lo, hi;
        assert_int_equal(mlops_metrics_get(&v, &lo, &hi, test, mlops__json_string(mlops__json_get(m, "name"))), 0);
        assert_true(mlops__json_number(mlops__json_get(m, "value")) == v);
        assert_true(mlops__json_number(mlops__json_get(m, "ci_low")) == lo);
        assert_true(mlops__json_number(mlops__json_get(m, "ci_high")) == hi);
        assert_string_equal(mlops__json_string(mlops__json_get(m, "dataset")), "test");
        found++;
    }
    assert_int_equal(found, mlops_metrics_count(test));
    assert_true(mlops__json_number(mlops__json_get(doc, "run_id")) == 1);
    assert_true(mlops__json_number(mlops__json_get(doc, "as_of_us")) == 1700000000000000.0);
    assert_string_equal(mlops__json_string(mlops__json_get(mlops__json_get(doc, "tags"), "team")), "ml");
    assert_string_equal(mlops__json_string(mlops__json_get(mlops__json_get(doc, "metadata"), "task")), "binary");
    assert_true(mlops__json_number(mlops__json_at(mlops__json_get(mlops__json_at(mlops__json_get(
        mlops__json_get(doc, "signature"), "inputs"), 0), "shape"), 1)) == 4);
    mlops__json_free(doc);

    /* Lineage. */
    assert_int_equal(mlops_lineage_of(&text, db, "cancer", 1), MLOPS_OK);
    doc = parse(text);
    assert_string_equal(mlops__json_string(mlops__json_get(mlops__json_at(mlops__json_get(doc, "feature_views"), 0),
                                                           "name")), "cells");
    mlops__json_free(doc);

    /* The run: configuration as params, one loss point per epoch, finished. */
    assert_int_equal(mlops_run_show(&text, db, 1), MLOPS_OK);
    doc = parse(text);
    assert_string_equal(mlops__json_string(mlops__json_get(doc, "experiment")), "cancer-weekly");
    assert_string_equal(mlops__json_string(mlops__json_get(doc, "status")), "finished");
    assert_true(mlops__json_number(mlops__json_get(mlops__json_get(doc, "params"), "epochs")) == 6);
    series = mlops__json_get(mlops__json_get(doc, "metrics"), "loss");
    {
        char *report = NULL;
        mlops__json *r;
        assert_int_equal(mlops_net_report_json(&report, net), MLOPS_OK);
        r = parse(report);
        assert_int_equal(mlops__json_array_size(series), mlops__json_array_size(mlops__json_get(r, "epochs")));
        assert_int_equal(mlops__json_array_size(mlops__json_get(mlops__json_get(doc, "metrics"), "validation_roc_auc")),
                         mlops__json_array_size(series));
        mlops__json_free(r);
    }
    assert_non_null(mlops__json_get(mlops__json_get(doc, "metrics"), "test_roc_auc"));
    mlops__json_free(doc);

    /* The reference profile covers the four feature columns of every row. */
    assert_int_equal(mlops_version_profile_get(&profile_bytes, &profile_len, db, "cancer", 1), MLOPS_OK);
    assert_int_equal(mlops_profile_deserialize(&profile, profile_bytes, profile_len), MLOPS_OK);
    assert_int_equal(mlops_profile_columns(profile), 4);
    assert_string_equal(mlops_profile_column_name(profile, 3), "f3");

    /* A retrain names its parent. */
    snprintf(parent_options, sizeof parent_options, "{\"parent_version\":1,\"profile\":false,\"export\":{"
             "\"standardization\":\"folded\"}}");
    assert_int_equal(mlops_net_train_register(&second, NULL, db, "cancer", frame, config, parent_options), MLOPS_OK);
    assert_int_equal(second, 2);
    assert_int_equal(mlops_version_show(&text, db, "cancer", 2), MLOPS_OK);
    doc = parse(text);
    assert_true(mlops__json_number(mlops__json_get(doc, "parent_version")) == 1);
    mlops__json_free(doc);
    mlops_free(profile_bytes);
    ts_assert_error(mlops_version_profile_get(&profile_bytes, &profile_len, db, "cancer", 2), MLOPS_ENOTFOUND, "");

    mlops_profile_free(profile);
    mlops_free(artifact);
    mlops_free(onnx);
    mlops_net_free(net);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_failures_leave_the_database_unchanged(void **state)
{
    mlops_frame *frame = NULL;
    mlops_db *db = fresh_db("failures.db");
    mlops_net *net = (mlops_net *)1;
    int64_t version = 5;
    (void)state;
    assert_int_equal(mlops_frame_read_csv(&frame, ts_data("train/breast_cancer_train.csv"), NULL), MLOPS_OK);
    /* The parent does not exist: the registry refuses after the run was started, and the run goes too. */
    ts_assert_error(mlops_net_train_register(&version, &net, db, "cancer", frame, config, "{\"parent_version\":9}"),
                    MLOPS_ENOTFOUND, "model \"cancer\"");
    assert_int_equal(version, 0);
    assert_null(net);
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "nope", frame, config, NULL), MLOPS_ENOTFOUND,
                    "nope");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame,
                                             "{\"features\":[\"f0\"],\"label\":\"label\",\"model\":{\"type\":"
                                             "\"logistic\"},\"epochs\":1}", NULL),
                    MLOPS_EINVAL, "$.split.test");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame, config, "{\"experment\":\"x\"}"),
                    MLOPS_EFORMAT, "experment");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame, config, "{\"tags\":[1]}"),
                    MLOPS_EFORMAT, "$.tags");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame, config,
                                             "{\"export\":{\"standardization\":\"x\"}}"),
                    MLOPS_EFORMAT, "$.standardization");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame, config,
                                             "{\"lineage\":{\"feature_views\":3}}"),
                    MLOPS_EFORMAT, "feature_views");
    ts_assert_error(mlops_net_train_register(NULL, NULL, db, "cancer", frame, config, NULL), MLOPS_EINVAL,
                    "version_out");
    ts_assert_error(mlops_net_train_register(&version, NULL, NULL, "cancer", frame, config, NULL), MLOPS_EINVAL,
                    "db");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, NULL, frame, config, NULL), MLOPS_EINVAL, "model");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", NULL, config, NULL), MLOPS_EINVAL,
                    "frame");
    ts_assert_error(mlops_net_train_register(&version, NULL, db, "cancer", frame, NULL, NULL), MLOPS_EINVAL,
                    "config_json");
    assert_int_equal(count_of(db, 1), 0);
    assert_int_equal(count_of(db, 0), 0);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

typedef struct register_ctx {
    mlops_db *db;
    mlops_frame *frame;
    int64_t version;
} register_ctx;

static int register_call(void *p)
{
    register_ctx *ctx = p;
    return mlops_net_train_register(&ctx->version, NULL, ctx->db, "cancer", ctx->frame,
                                    "{\"features\":[\"f0\",\"f1\"],\"label\":\"label\",\"model\":{\"type\":"
                                    "\"logistic\"},\"epochs\":1,\"split\":{\"test\":0.3},\"bootstrap\":2}",
                                    options);
}

static void test_allocation_failures_write_nothing(void **state)
{
    register_ctx ctx = {NULL, NULL, 0};
    (void)state;
    ctx.db = fresh_db("alloc.db");
    assert_int_equal(mlops_frame_read_csv(&ctx.frame, ts_data("train/breast_cancer_test.csv"), NULL), MLOPS_OK);
    /* Two calls first (a new artifact, then the same bytes again, deduplicated), so that the database
     * handle's statement cache is warm and takes no new entries during the failing calls. */
    assert_int_equal(register_call(&ctx), MLOPS_OK);
    assert_int_equal(register_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(register_call, NULL, &ctx) > 20);
    /* Only the call that finally succeeded left a trace. */
    assert_int_equal(ctx.version, 3);
    assert_int_equal(count_of(ctx.db, 1), 3);
    assert_int_equal(count_of(ctx.db, 0), 3);
    mlops_frame_free(ctx.frame);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_call_records_everything),
        cmocka_unit_test(test_failures_leave_the_database_unchanged),
        cmocka_unit_test(test_allocation_failures_write_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
