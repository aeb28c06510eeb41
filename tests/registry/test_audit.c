/*
 * The audit chain: every registry change is listed; the chain verifies
 * when intact; an altered, removed or inserted entry is reported at its
 * position; entries cannot be changed through SQL while the triggers stand.
 */
#include "registry_fixture.h"

/* Model creation (entry 1) and five versions (entries 2..6). */
static mlops_db *make_chain(const char *name)
{
    mlops_db *db = rt_open(name);
    int i;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    for (i = 1; i <= 5; i++)
        rt_register(db, "fraud", (uint64_t)i, 100, NULL);
    return db;
}

static void drop_triggers(const char *name)
{
    rt_sql(name, "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
}

static void test_list_and_verify_intact(void **state)
{
    mlops_db *db = make_chain("audit_ok.db");
    int64_t bad = -1;
    char *json = NULL;
    cJSON *doc;
    sqlite3 *raw = NULL;
    (void)state;
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 5), MLOPS_OK);
    assert_int_equal(mlops_audit_verify(&bad, db), MLOPS_OK);
    assert_int_equal(bad, 0);
    assert_int_equal(mlops_audit_list(&json, db, 0, 0), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 7);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 0), "action")->valuestring, "model.create");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 1), "object")->valuestring, "model:fraud/1");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 6), "action")->valuestring, "alias.set");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 6), "object")->valuestring,
                        "model:fraud/5@production");
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 6), "actor")->valuestring, "alice");
    assert_int_equal(strlen(cJSON_GetObjectItem(cJSON_GetArrayItem(doc, 6), "hash")->valuestring), 64);
    cJSON_Delete(doc);
    assert_int_equal(mlops_audit_list(&json, db, 3, 2), MLOPS_OK);
    doc = rt_json(json);
    assert_int_equal(cJSON_GetArraySize(doc), 2);
    assert_int_equal((int)rt_num(cJSON_GetArrayItem(doc, 0), "seq"), 4);
    cJSON_Delete(doc);
    ts_assert_error(mlops_audit_list(&json, db, 0, -1), MLOPS_EINVAL, "negative");
    ts_assert_error(mlops_audit_list(NULL, db, 0, 0), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_audit_verify(NULL, db), MLOPS_EINVAL, "first_bad_out");
    /* The triggers refuse changes made with SQL. */
    assert_int_equal(sqlite3_open(ts_path("audit_ok.db"), &raw), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw, "UPDATE audit_log SET actor = 'mallory' WHERE seq = 2", NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw, "DELETE FROM audit_log WHERE seq = 2", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_equal(mlops_audit_verify(&bad, db), MLOPS_OK);
    mlops_db_close(db);
}

static void test_altered_entry(void **state)
{
    mlops_db *db = make_chain("audit_alter.db");
    int64_t bad = 0;
    (void)state;
    drop_triggers("audit_alter.db");
    rt_sql("audit_alter.db", "UPDATE audit_log SET actor = 'mallory' WHERE seq = 3");
    ts_assert_error(mlops_audit_verify(&bad, db), MLOPS_ECORRUPT, "entry 3: its content does not match its hash");
    assert_int_equal(bad, 3);
    mlops_db_close(db);
}

static void test_removed_entry(void **state)
{
    mlops_db *db = make_chain("audit_remove.db");
    int64_t bad = 0;
    (void)state;
    drop_triggers("audit_remove.db");
    rt_sql("audit_remove.db", "DELETE FROM audit_log WHERE seq = 4");
    ts_assert_error(mlops_audit_verify(&bad, db), MLOPS_ECORRUPT, "entry 4: it was removed");
    assert_int_equal(bad, 4);
    mlops_db_close(db);
}

static void test_inserted_entry(void **state)
{
    mlops_db *db = make_chain("audit_insert.db");
    int64_t bad = 0;
    (void)state;
    drop_triggers("audit_insert.db");
    /* Make room at position 5 and insert a forged entry that claims to follow entry 4. */
    rt_sql("audit_insert.db", "UPDATE audit_log SET seq = seq + 100 WHERE seq >= 5;"
                              "UPDATE audit_log SET seq = seq - 99 WHERE seq >= 100;"
                              "INSERT INTO audit_log(seq, time_us, actor, action, object, details, prev_hash, hash)"
                              " SELECT 5, time_us, 'mallory', 'version.delete', 'model:fraud/2', '{}', hash,"
                              " randomblob(32) FROM audit_log WHERE seq = 4");
    ts_assert_error(mlops_audit_verify(&bad, db), MLOPS_ECORRUPT, "entry 5");
    assert_int_equal(bad, 5);
    mlops_db_close(db);
}

static void test_inserted_at_the_end(void **state)
{
    mlops_db *db = make_chain("audit_append.db");
    int64_t bad = 0;
    (void)state;
    rt_sql("audit_append.db", "INSERT INTO audit_log(seq, time_us, actor, action, object, details, prev_hash, hash)"
                              " SELECT 7, time_us, 'mallory', 'alias.set', 'model:fraud/1@production', '{}', hash,"
                              " randomblob(32) FROM audit_log WHERE seq = 6");
    ts_assert_error(mlops_audit_verify(&bad, db), MLOPS_ECORRUPT, "entry 7");
    assert_int_equal(bad, 7);
    mlops_db_close(db);
}

typedef struct alloc_ctx {
    mlops_db *db;
    char *json;
} alloc_ctx;

static int list_call(void *p)
{
    alloc_ctx *ctx = p;
    return mlops_audit_list(&ctx->json, ctx->db, 0, 0);
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
    ctx.db = make_chain("audit_alloc.db");
    assert_int_equal(list_call(&ctx), MLOPS_OK);
    free_json(&ctx);
    assert_true(ts_each_allocation_failure(list_call, free_json, &ctx) > 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_and_verify_intact),
        cmocka_unit_test(test_altered_entry),
        cmocka_unit_test(test_removed_entry),
        cmocka_unit_test(test_inserted_entry),
        cmocka_unit_test(test_inserted_at_the_end),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
