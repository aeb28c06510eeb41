/*
 * Runs (params, tags, metric series, status) and lineage in both
 * directions, with a version pointing at the run that produced it.
 */
#include <math.h>

#include "registry_fixture.h"

static void test_runs(void **state)
{
    mlops_db *db = rt_open("runs.db");
    int64_t run = 0, other = 0;
    char *json = NULL;
    cJSON *doc, *series;
    (void)state;
    ts_assert_error(mlops_run_start(&run, db, "", NULL, NULL, NULL), MLOPS_EINVAL, "experiment name");
    ts_assert_error(mlops_run_start(&run, db, "exp", NULL, "[1]", NULL), MLOPS_EFORMAT, "run params");
    ts_assert_error(mlops_run_start(&run, db, "exp", NULL, NULL, "{\"a\": 1}"), MLOPS_EFORMAT, "$.a");
    ts_assert_error(mlops_run_start(NULL, db, "exp", NULL, NULL, NULL), MLOPS_EINVAL, "run_out");
    assert_int_equal(mlops_run_start(&run, db, "exp", "baseline", "{\"lr\": 0.1, \"layers\": [64, 32]}",
                                     "{\"owner\": \"alice\"}"), MLOPS_OK);
    assert_int_equal(mlops_run_start(&other, db, "other", NULL, NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_run_log_metric(db, run, "loss", 0.9, 0, 100), MLOPS_OK);
    assert_int_equal(mlops_run_log_metric(db, run, "loss", 0.5, 1, 200), MLOPS_OK);
    assert_int_equal(mlops_run_log_metric(db, run, "loss", 0.25, 2, 300), MLOPS_OK);
    assert_int_equal(mlops_run_log_metric(db, run, "acc", 0.75, 2, 300), MLOPS_OK);
    ts_assert_error(mlops_run_log_metric(db, run, "loss", NAN, 3, 0), MLOPS_EINVAL, "not finite");
    ts_assert_error(mlops_run_log_metric(db, 999, "loss", 1, 3, 0), MLOPS_ENOTFOUND, "run 999");
    assert_int_equal(mlops_run_set_tag(db, run, "owner", "bob"), MLOPS_OK);
    assert_int_equal(mlops_run_set_tag(db, run, "gpu", "none"), MLOPS_OK);
    ts_assert_error(mlops_run_end(db, run, "done"), MLOPS_EINVAL, "not one of");
    assert_int_equal(mlops_run_end(db, run, "finished"), MLOPS_OK);
    ts_assert_error(mlops_run_end(db, run, "failed"), MLOPS_ESTATE, "has ended");
    ts_assert_error(mlops_run_log_metric(db, run, "loss", 1, 3, 0), MLOPS_ESTATE, "has ended");
    assert_int_equal(mlops_run_show(&json, db, run), MLOPS_OK);
    doc = rt_json(json);
    assert_string_equal(cJSON_GetObjectItem(doc, "experiment")->valuestring, "exp");
    assert_string_equal(cJSON_GetObjectItem(doc, "status")->valuestring, "finished");
    assert_true(cJSON_IsNumber(cJSON_GetObjectItem(doc, "end_us")));
    assert_true(rt_num(cJSON_GetObjectItem(doc, "params"), "lr") == 0.1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "tags"), "owner")->valuestring, "bob");
    series = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics"), "loss");
    assert_int_equal(cJSON_GetArraySize(series), 3);
    assert_true(rt_num(cJSON_GetArrayItem(series, 2), "value") == 0.25);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(series, 1), "time_us"), 200);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "metrics"), "acc")), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_run_list(&json, db, "exp"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_run_list(&json, db, NULL), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    cJSON_Delete(doc);
    ts_assert_error(mlops_run_show(&json, db, 77), MLOPS_ENOTFOUND, "run 77");
    mlops_db_close(db);
}

static void test_lineage_both_ways(void **state)
{
    mlops_db *db = rt_open("lineage.db");
    int64_t run = 0, version = 0;
    char options[512], *json = NULL;
    cJSON *doc;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "churn", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_run_start(&run, db, "exp", NULL, NULL, NULL), MLOPS_OK);
    snprintf(options, sizeof options,
             "{\"run_id\": %lld, \"lineage\": {\"feature_views\": [{\"name\": \"txn\", \"version\": 3},"
             " {\"name\": \"customer\", \"version\": 1}], \"as_of_us\": 1700000000000000}}", (long long)run);
    assert_int_equal(rt_register(db, "fraud", 1, 100, options), 1);
    assert_int_equal(rt_register(db, "fraud", 2, 100,
                                 "{\"parent_version\": 1, \"lineage\": {\"feature_views\": [{\"name\": \"txn\","
                                 " \"version\": 4}]}}"), 2);
    assert_int_equal(rt_register(db, "churn", 3, 100,
                                 "{\"lineage\": {\"feature_views\": [{\"name\": \"txn\", \"version\": 3}]}}"), 1);
    ts_assert_error(mlops_version_register(&version, db, "fraud", "x", 1,
                                           "{\"lineage\": {\"feature_views\": [{\"name\": \"txn\"}]}}"),
                    MLOPS_EFORMAT, "$.lineage.feature_views[0]");
    ts_assert_error(mlops_version_register(&version, db, "fraud", "x", 1,
                                           "{\"lineage\": {\"feature_views\": [{\"name\": \"a\", \"version\": 1},"
                                           " {\"name\": \"a\", \"version\": 2}]}}"), MLOPS_EFORMAT, "twice");
    ts_assert_error(mlops_version_register(&version, db, "fraud", "x", 1, "{\"lineage\": {\"when\": 1}}"),
                    MLOPS_EFORMAT, "$.lineage.when");
    assert_int_equal(mlops_lineage_of(&json, db, "fraud", 1), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "feature_views")), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "feature_views"), 0),
                                            "name")->valuestring, "customer");
    assert_true(rt_num(doc, "as_of_us") == 1700000000000000.0);
    assert_int_equal((int64_t)rt_num(doc, "run_id"), run);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "parent_version")));
    cJSON_Delete(doc);
    assert_int_equal(mlops_lineage_of(&json, db, "fraud", 2), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal((int)rt_num(doc, "parent_version"), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_lineage_users(&json, db, "txn", 3), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "model")->valuestring, "churn");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 1), "model")->valuestring, "fraud");
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 1), "version"), 1);
    cJSON_Delete(doc);
    assert_int_equal(mlops_lineage_users(&json, db, "txn", -1), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 3);
    cJSON_Delete(doc);
    assert_int_equal(mlops_lineage_users(&json, db, "nothing", -1), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 0);
    cJSON_Delete(doc);
    ts_assert_error(mlops_lineage_users(&json, db, "txn", -2), MLOPS_EINVAL, "invalid");
    ts_assert_error(mlops_lineage_of(&json, db, "fraud", 9), MLOPS_ENOTFOUND, "version 9");
    mlops_db_close(db);
}

typedef struct alloc_ctx {
    mlops_db *db;
    int64_t run;
    char *json;
} alloc_ctx;

static int start_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_run_start(&ctx->run, ctx->db, "exp", "r", "{\"a\": 1}", "{\"t\": \"v\"}");
}

static int show_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_run_show(&ctx->json, ctx->db, 1);
}

static void free_json(void *p)
{
    alloc_ctx *ctx = p;
    mlops_free(ctx->json);
    ctx->json = NULL;
}

static void test_allocation_failures(void **state)
{
    alloc_ctx ctx = {0};
    (void)state;
    ctx.db = rt_open("runs_alloc.db");
    assert_int_equal(start_call(&ctx), MLOPS_OK);
    assert_int_equal(mlops_run_log_metric(ctx.db, 1, "loss", 1.5, 1, 0), MLOPS_OK);
    assert_true(ts_each_allocation_failure(start_call, NULL, &ctx) > 0);
    assert_int_equal(show_call(&ctx), MLOPS_OK);
    free_json(&ctx);
    assert_true(ts_each_allocation_failure(show_call, free_json, &ctx) > 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    assert_int_equal(rt_sql_int("runs_alloc.db", "SELECT count(*) FROM reg_run"), 2);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runs),
        cmocka_unit_test(test_lineage_both_ways),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
