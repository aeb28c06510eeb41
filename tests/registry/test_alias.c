/*
 * Aliases, gates, approvals, rollback, resolution and alias-at-time.
 */
#include <math.h>
#include <time.h>
#include <unistd.h>

#include "registry_fixture.h"

static mlops_db *setup(const char *name, int versions)
{
    mlops_db *db = rt_open(name);
    int i;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    for (i = 1; i <= versions; i++)
        assert_int_equal(rt_register(db, "fraud", (uint64_t)i, 1000, NULL), i);
    return db;
}

static int64_t resolve(mlops_db *db, const char *reference)
{
    int64_t version = -1;
    assert_int_equal(mlops_model_resolve(&version, db, reference), MLOPS_OK);
    return version;
}

static void test_set_resolve_delete(void **state)
{
    mlops_db *db = setup("alias.db", 3);
    int64_t version = 0;
    (void)state;
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 2), MLOPS_OK);
    assert_int_equal(resolve(db, "fraud@production"), 2);
    assert_int_equal(resolve(db, "fraud@3"), 3);
    ts_assert_error(mlops_model_resolve(&version, db, "fraud@9"), MLOPS_ENOTFOUND, "version 9");
    ts_assert_error(mlops_model_resolve(&version, db, "fraud@staging"), MLOPS_ENOTFOUND, "no alias \"staging\"");
    ts_assert_error(mlops_model_resolve(&version, db, "other@production"), MLOPS_ENOTFOUND, "model \"other\"");
    ts_assert_error(mlops_model_resolve(&version, db, "fraud"), MLOPS_EINVAL, "name@alias");
    ts_assert_error(mlops_model_resolve(&version, db, "fraud@"), MLOPS_EINVAL, "name@alias");
    ts_assert_error(mlops_model_resolve(&version, db, "fraud@3x"), MLOPS_EINVAL, "not a version number");
    ts_assert_error(mlops_model_resolve(NULL, db, "fraud@3"), MLOPS_EINVAL, "version_out");
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 7), MLOPS_ENOTFOUND, "model \"fraud\" version 7");
    ts_assert_error(mlops_alias_set(db, "fraud", "9lives", 1), MLOPS_EINVAL, "must not start with a digit");
    ts_assert_error(mlops_alias_set(db, "fraud", "a b", 1), MLOPS_EINVAL, "character 1");
    ts_assert_error(mlops_alias_set(db, "nope", "production", 1), MLOPS_ENOTFOUND, "model \"nope\"");
    ts_assert_error(mlops_alias_set(NULL, "fraud", "production", 1), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_version_delete(db, "fraud", 2), MLOPS_ESTATE, "alias \"production\" points at it");
    assert_int_equal(mlops_alias_delete(db, "fraud", "production"), MLOPS_OK);
    ts_assert_error(mlops_alias_delete(db, "fraud", "production"), MLOPS_ENOTFOUND, "no alias");
    assert_int_equal(mlops_version_delete(db, "fraud", 2), MLOPS_OK);
    mlops_db_close(db);
}

static void test_gate_policy_validation(void **state)
{
    mlops_db *db = setup("gate_parse.db", 1);
    char *json = NULL;
    (void)state;
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{\"rules\": [}"), MLOPS_EFORMAT, "invalid JSON");
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{\"rules\": [{\"rule\": \"vibes\"}]}"), MLOPS_EFORMAT,
                    "$.rules[0].rule: unknown rule \"vibes\"");
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{\"rulez\": []}"), MLOPS_EFORMAT, "$.rulez");
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{}"), MLOPS_EFORMAT, "$.rules");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"auc\"}]}"),
                    MLOPS_EFORMAT, "$.rules[0].min: missing");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"auc\", \"min\": \"x\"}]}"),
                    MLOPS_EFORMAT, "$.rules[0].min");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"metric_max\", \"metric\": \"auc\", \"min\": 1}]}"),
                    MLOPS_EFORMAT, "$.rules[0].min: unknown key");
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{\"rules\": [{\"rule\": \"metric_max\", \"max\": 1}]}"),
                    MLOPS_EFORMAT, "$.rules[0].metric: missing");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"approvals\", \"min\": 0}]}"), MLOPS_EFORMAT,
                    "$.rules[0].min");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"auc\","
                                   " \"margin\": -1}]}"), MLOPS_EFORMAT, "$.rules[0].margin");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"auc\","
                                   " \"use_ci_low\": 1}]}"), MLOPS_EFORMAT, "$.rules[0].use_ci_low");
    ts_assert_error(mlops_gate_set(db, "fraud", "production",
                                   "{\"rules\": [{\"rule\": \"profile_attached\", \"x\": 1}]}"), MLOPS_EFORMAT,
                    "$.rules[0].x");
    ts_assert_error(mlops_gate_set(db, "fraud", "production", "{\"rules\": [3]}"), MLOPS_EFORMAT,
                    "$.rules[0]: expected an object");
    ts_assert_error(mlops_gate_get(&json, db, "fraud", "production"), MLOPS_ENOTFOUND, "has no gate");
    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"profile_attached\"}, {\"rule\": \"approvals\","
                                    " \"min\": 2}]}"), MLOPS_OK);
    assert_int_equal(mlops_gate_get(&json, db, "fraud", "production"), MLOPS_OK);
    assert_non_null(strstr(json, "\"approvals\""));
    mlops_free(json);
    assert_int_equal(mlops_gate_set(db, "fraud", "production", NULL), MLOPS_OK);
    ts_assert_error(mlops_gate_get(&json, db, "fraud", "production"), MLOPS_ENOTFOUND, "has no gate");
    mlops_db_close(db);
}

static long long audit_rows(const char *name)
{
    return rt_sql_int(name, "SELECT count(*) FROM audit_log");
}

static void test_gates_refuse_and_leave_alias_unchanged(void **state)
{
    mlops_db *db = setup("gate.db", 4);
    mlops_db *bob = rt_open_as("gate.db", "bob");
    long long before;
    (void)state;
    assert_int_equal(mlops_version_metric_log(db, "fraud", 1, "auc", 0.91, 0.89, 0.93, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 2, "auc", 0.85, NAN, NAN, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 3, "auc", 0.95, 0.90, 0.99, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 4, "auc", 0.96, 0.94, 0.98, "holdout", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 3, "latency_ms", 12, NAN, NAN, "bench", 0), MLOPS_OK);
    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"auc\", \"min\": 0.9,"
                                    " \"dataset\": \"holdout\"}]}"), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK);
    before = audit_rows("gate.db");
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 2), MLOPS_EPOLICY,
                    "gate rule $.rules[0] (metric_min) refuses version 2: metric \"auc\" value 0.85 "
                    "is below the minimum 0.9");
    assert_int_equal(resolve(db, "fraud@production"), 1);
    assert_int_equal(audit_rows("gate.db"), before);
    /* Other aliases are not gated. */
    assert_int_equal(mlops_alias_set(db, "fraud", "staging", 2), MLOPS_OK);

    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"metric_max\", \"metric\": \"latency_ms\", \"max\": 10}]}"),
                     MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 3), MLOPS_EPOLICY,
                    "(metric_max) refuses version 3: metric \"latency_ms\" value 12 is above the maximum 10");
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 4), MLOPS_EPOLICY,
                    "version 4 has no metric \"latency_ms\"");
    assert_int_equal(resolve(db, "fraud@production"), 1);

    /* Better than the current target (version 1: auc 0.91). */
    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"auc\","
                                    " \"margin\": 0.02, \"use_ci_low\": true}]}"), MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 3), MLOPS_EPOLICY,
                    "lower confidence bound 0.9 does not beat version 1's 0.91 by more than the margin 0.02");
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 2), MLOPS_EPOLICY,
                    "no confidence interval");
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 4), MLOPS_OK); /* 0.94 - 0.91 > 0.02 */
    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"auc\","
                                    " \"higher_is_better\": false}]}"), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK); /* 0.91 < 0.96 */

    /* A reference profile and two distinct approvers. */
    assert_int_equal(mlops_gate_set(db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"profile_attached\"}, {\"rule\": \"approvals\","
                                    " \"min\": 2}]}"), MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 3), MLOPS_EPOLICY,
                    "$.rules[0] (profile_attached) refuses version 3: no reference profile is attached");
    assert_int_equal(mlops_version_profile_set(db, "fraud", 3, "p", 1), MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 3), MLOPS_EPOLICY,
                    "$.rules[1] (approvals) refuses version 3: 0 distinct approvals, 2 required");
    assert_int_equal(mlops_version_approve(db, "fraud", 3, "ok"), MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, "fraud", "production", 3), MLOPS_EPOLICY, "1 distinct approvals, 2 required");
    assert_int_equal(mlops_version_approve(bob, "fraud", 3, "ok too"), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 3), MLOPS_OK);
    assert_int_equal(resolve(db, "fraud@production"), 3);
    mlops_db_close(bob);
    mlops_db_close(db);
}

static void test_rollback_and_history(void **state)
{
    mlops_db *db = setup("rollback.db", 3);
    int64_t version = 0;
    char *json = NULL;
    cJSON *doc;
    (void)state;
    ts_assert_error(mlops_alias_rollback(&version, db, "fraud", "production"), MLOPS_ENOTFOUND, "no alias");
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK);
    ts_assert_error(mlops_alias_rollback(&version, db, "fraud", "production"), MLOPS_ESTATE, "no earlier version");
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 2), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 3), MLOPS_OK);
    /* A gate that version 2 would fail does not block the way back. */
    assert_int_equal(mlops_gate_set(db, "fraud", "production", "{\"rules\": [{\"rule\": \"profile_attached\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_alias_rollback(&version, db, "fraud", "production"), MLOPS_OK);
    assert_int_equal(version, 2);
    assert_int_equal(resolve(db, "fraud@production"), 2);
    assert_int_equal(mlops_alias_rollback(&version, db, "fraud", "production"), MLOPS_OK);
    assert_int_equal(version, 1);
    ts_assert_error(mlops_alias_rollback(&version, db, "fraud", "production"), MLOPS_ESTATE, "no earlier version");
    assert_int_equal(resolve(db, "fraud@production"), 1);
    assert_int_equal(mlops_alias_history(&json, db, "fraud", "production"), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 5);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 3), "action")->valuestring, "rollback");
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 3), "version"), 2);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 3), "previous"), 3);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "actor")->valuestring, "alice");
    cJSON_Delete(doc);
    mlops_db_close(db);
}

static int64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void test_alias_at_past_time(void **state)
{
    mlops_db *db = setup("alias_at.db", 3);
    int64_t t0, t1, t2, t3, version = 0;
    (void)state;
    t0 = now_us();
    usleep(3000);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK);
    usleep(3000);
    t1 = now_us();
    usleep(3000);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 3), MLOPS_OK);
    usleep(3000);
    t2 = now_us();
    usleep(3000);
    assert_int_equal(mlops_alias_delete(db, "fraud", "production"), MLOPS_OK);
    usleep(3000);
    t3 = now_us();
    ts_assert_error(mlops_alias_at(&version, db, "fraud", "production", t0), MLOPS_ENOTFOUND, "was not set at");
    assert_int_equal(mlops_alias_at(&version, db, "fraud", "production", t1), MLOPS_OK);
    assert_int_equal(version, 1);
    assert_int_equal(mlops_alias_at(&version, db, "fraud", "production", t2), MLOPS_OK);
    assert_int_equal(version, 3);
    ts_assert_error(mlops_alias_at(&version, db, "fraud", "production", t3), MLOPS_ENOTFOUND, "was not set at");
    ts_assert_error(mlops_alias_at(NULL, db, "fraud", "production", t3), MLOPS_EINVAL, "version_out");
    mlops_db_close(db);
}

typedef struct alloc_ctx {
    mlops_db *db;
    int64_t target;
} alloc_ctx;

static int alias_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_alias_set(ctx->db, "fraud", "production", ctx->target);
}

static void test_allocation_failures(void **state)
{
    alloc_ctx ctx = {0};
    (void)state;
    ctx.db = setup("alias_alloc.db", 3);
    assert_int_equal(mlops_version_metric_log(ctx.db, "fraud", 1, "auc", 0.8, NAN, NAN, NULL, 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(ctx.db, "fraud", 2, "auc", 0.9, NAN, NAN, NULL, 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(ctx.db, "fraud", 3, "auc", 0.95, NAN, NAN, NULL, 0), MLOPS_OK);
    assert_int_equal(mlops_gate_set(ctx.db, "fraud", "production",
                                    "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"auc\"}]}"),
                     MLOPS_OK);
    ctx.target = 1;
    assert_int_equal(alias_call(&ctx), MLOPS_OK);
    ctx.target = 2;
    assert_int_equal(alias_call(&ctx), MLOPS_OK);
    ctx.target = 3;
    assert_true(ts_each_allocation_failure(alias_call, NULL, &ctx) > 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    assert_int_equal(resolve(ctx.db, "fraud@production"), 3);
    assert_int_equal(rt_sql_int("alias_alloc.db", "SELECT count(*) FROM reg_alias_history"), 3);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_resolve_delete),
        cmocka_unit_test(test_gate_policy_validation),
        cmocka_unit_test(test_gates_refuse_and_leave_alias_unchanged),
        cmocka_unit_test(test_rollback_and_history),
        cmocka_unit_test(test_alias_at_past_time),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
