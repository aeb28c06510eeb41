/*
 * Entity and feature view definitions: strict JSON, versioning and the
 * compatibility rules.
 */
#include "fs_fixture.h"

static void test_entity_define_rules(void **state)
{
    mlops_db *db = fx_open("entity.db");
    (void)state;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    /* Identical again: a no-op. */
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"customer\",\"keys\":[{\"name\":\"id\",\"type\":\"string\"}]}"),
                    MLOPS_ECONFLICT, "entity \"customer\" already exists");
    /* Composite keys. */
    assert_int_equal(mlops_entity_define(db, "{\"name\":\"pair\",\"keys\":[{\"name\":\"customer_id\",\"type\":"
                                             "\"int64\"},{\"name\":\"merchant\",\"type\":\"string\"}]}"),
                     MLOPS_OK);
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"x\",\"keys\":[{\"name\":\"k\",\"type\":\"float64\"}]}"),
                    MLOPS_EFORMAT, "$.keys[0].type");
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"x\",\"keys\":[]}"), MLOPS_EFORMAT, "$.keys");
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"x\",\"keys\":[{\"name\":\"k\",\"type\":\"int64\"}],\"z\":1}"),
                    MLOPS_EFORMAT, "z");
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"bad name\",\"keys\":[{\"name\":\"k\",\"type\":\"int64\"}]}"),
                    MLOPS_EFORMAT, "$.name");
    ts_assert_error(mlops_entity_define(db, "{\"name\":\"x\",\"keys\":[{\"name\":\"k\",\"type\":\"int64\"},"
                                            "{\"name\":\"k\",\"type\":\"int64\"}]}"),
                    MLOPS_EFORMAT, "duplicate key column");
    ts_assert_error(mlops_entity_define(db, "{\"name\":"), MLOPS_EFORMAT, NULL);
    ts_assert_error(mlops_entity_define(NULL, CUSTOMER_JSON), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_entity_define(db, NULL), MLOPS_EINVAL, "definition_json");
    mlops_db_close(db);
}

static void test_view_define_errors(void **state)
{
    mlops_db *db = fx_open("view_errors.db");
    int32_t version = 0;
    (void)state;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"decimal\"}]}", 0),
                    MLOPS_EFORMAT, "$.features[0].type: unknown type \"decimal\"");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"nobody\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"int64\"}]}", 0),
                    MLOPS_ENOTFOUND, "entity \"nobody\" not found");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"int64\",\"colour\":1}]}", 0),
                    MLOPS_EFORMAT, "colour");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"f32vec\"}]}", 0),
                    MLOPS_EFORMAT, "$.features[0].dim");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"bool\",\"contract\":{\"min\":1}}]}", 0),
                    MLOPS_EFORMAT, "$.features[0].contract");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"int64\",\"contract\":{\"min\":5,"
                                                    "\"max\":1}}]}", 0),
                    MLOPS_EFORMAT, "above max");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"customer_id\",\"type\":\"int64\"}]}", 0),
                    MLOPS_EFORMAT, "key column");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"event_time\",\"type\":\"int64\"}]}", 0),
                    MLOPS_EFORMAT, "reserved");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"features\":"
                                                    "[{\"name\":\"a\",\"type\":\"int64\"},{\"name\":\"a\","
                                                    "\"type\":\"int64\"}]}", 0),
                    MLOPS_EFORMAT, "duplicate feature");
    ts_assert_error(mlops_view_define(&version, db, "{\"name\":\"v\",\"entity\":\"customer\",\"ttl_us\":-1,"
                                                    "\"features\":[{\"name\":\"a\",\"type\":\"int64\"}]}", 0),
                    MLOPS_EFORMAT, "$.ttl_us");
    ts_assert_error(mlops_view_define(&version, db, "[1]", 0), MLOPS_EFORMAT, "$");
    ts_assert_error(mlops_view_define(&version, db, TXN_JSON, 8), MLOPS_EINVAL, "flags");
    ts_assert_error(mlops_view_define(&version, NULL, TXN_JSON, 0), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_view_define(&version, db, NULL, 0), MLOPS_EINVAL, "definition_json");
    /* Nothing of the refused definitions was stored. */
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_view"), 0);
    mlops_db_close(db);
}

#define V_HEAD "{\"name\":\"v\",\"entity\":\"customer\",\"features\":["
#define F_A "{\"name\":\"a\",\"type\":\"int64\",\"contract\":{\"min\":0,\"max\":10}}"

static void test_view_versioning(void **state)
{
    mlops_db *db = fx_open("versions.db");
    int32_t version = 0;
    char *json = NULL;
    (void)state;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_view_define(&version, db, V_HEAD F_A "]}", 0), MLOPS_OK);
    assert_int_equal(version, 1);
    assert_int_equal(mlops_view_define(&version, db, V_HEAD F_A "]}", 0), MLOPS_OK);
    assert_int_equal(version, 1);
    /* Adding a feature: compatible. */
    assert_int_equal(mlops_view_define(&version, db, V_HEAD F_A ",{\"name\":\"b\",\"type\":\"string\"}]}", 0),
                     MLOPS_OK);
    assert_int_equal(version, 2);
    /* Relaxing a rule: compatible. */
    assert_int_equal(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"int64\",\"contract\":"
                                                    "{\"min\":-5}},{\"name\":\"b\",\"type\":\"string\"}]}", 0),
                     MLOPS_OK);
    assert_int_equal(version, 3);
    /* Removing, retyping, tightening: refused, nothing changes. */
    ts_assert_error(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"int64\"}]}", 0),
                    MLOPS_ECONFLICT, "feature \"b\" is removed");
    ts_assert_error(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"float64\"},"
                                                   "{\"name\":\"b\",\"type\":\"string\"}]}", 0),
                    MLOPS_ECONFLICT, "feature \"a\" changes type");
    ts_assert_error(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"int64\",\"contract\":"
                                                   "{\"min\":-5}},{\"name\":\"b\",\"type\":\"string\",\"contract\":"
                                                   "{\"not_null\":true}}]}", 0),
                    MLOPS_ECONFLICT, "not_null added");
    ts_assert_error(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"int64\",\"contract\":"
                                                   "{\"min\":-4}},{\"name\":\"b\",\"type\":\"string\"}]}", 0),
                    MLOPS_ECONFLICT, "min raised");
    assert_int_equal(fx_count(db, "SELECT current_version FROM fs_view WHERE name = 'v'"), 3);
    /* Asked for explicitly: a new version. */
    assert_int_equal(mlops_view_define(&version, db, V_HEAD "{\"name\":\"a\",\"type\":\"float64\"}]}",
                                       MLOPS_VIEW_INCOMPATIBLE),
                     MLOPS_OK);
    assert_int_equal(version, 4);
    assert_int_equal(mlops_view_definition(&json, db, "v", 2), MLOPS_OK);
    assert_non_null(strstr(json, "\"b\""));
    assert_non_null(strstr(json, "\"max\":10"));
    mlops_free(json);
    assert_int_equal(mlops_view_definition(&json, db, "v", 0), MLOPS_OK);
    assert_null(strstr(json, "\"b\""));
    mlops_free(json);
    ts_assert_error(mlops_view_definition(&json, db, "v", 5), MLOPS_ENOTFOUND, "no version 5");
    ts_assert_error(mlops_view_definition(&json, db, "nope", 0), MLOPS_ENOTFOUND, "\"nope\" not found");
    ts_assert_error(mlops_view_definition(NULL, db, "v", 0), MLOPS_EINVAL, "out");
    mlops_db_close(db);
}

typedef struct define_ctx {
    mlops_db *db;
} define_ctx;

static int define_call(void *p)
{
    define_ctx *ctx = p;
    return mlops_view_define(NULL, ctx->db, TXN_JSON, 0);
}

static void test_view_define_allocation_failures(void **state)
{
    define_ctx ctx;
    (void)state;
    ctx.db = fx_open("alloc_defs.db");
    assert_int_equal(mlops_entity_define(ctx.db, CUSTOMER_JSON), MLOPS_OK);
    /* Warm the statement cache with another view, so cached statements are not counted as leaks. */
    assert_int_equal(mlops_view_define(NULL, ctx.db, V_HEAD F_A "]}", 0), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, ctx.db, V_HEAD F_A ",{\"name\":\"b\",\"type\":\"string\"}]}", 0), MLOPS_OK);
    assert_true(ts_each_allocation_failure(define_call, NULL, &ctx) > 10);
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_view"), 2);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_entity_define_rules),
        cmocka_unit_test(test_view_define_errors),
        cmocka_unit_test(test_view_versioning),
        cmocka_unit_test(test_view_define_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
