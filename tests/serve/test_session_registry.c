/*
 * Sessions opened from the registry: by alias, by version, after an alias
 * moves; the version's signature filled once from the model and never
 * overwritten; input feature names from the version's metadata; every
 * error with its status and message; allocation failures.
 */
#include "serve_fixture.h"
#include "../registry/registry_fixture.h"

#define MODEL "fraud"
#define SIGNATURE "{\"inputs\":[{\"name\":\"x\",\"type\":\"float32\",\"shape\":[-1,4]}]," \
                  "\"outputs\":[{\"name\":\"y\",\"type\":\"float32\",\"shape\":[-1,3]}]}"

/* A database with tag models 1 and 2 of MODEL, "production" on version 1. */
static mlops_db *tagged_db(const char *name)
{
    mlops_db *db = sf_open(name);
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    assert_int_equal(sf_register_tag(db, MODEL, 1.0f), 1);
    assert_int_equal(sf_register_tag(db, MODEL, 2.0f), 2);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", 1), MLOPS_OK);
    return db;
}

/* The tag (first output) the session opened on `reference` answers with. */
static float tag_of(mlops_db *db, const char *reference)
{
    mlops_session *session = NULL;
    float x[SF_IN] = {0.5f, -1.0f, 2.0f, 0.25f}, y[SF_OUT];
    assert_int_equal(mlops_session_open_registry(&session, db, reference, NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, 1, y, SF_OUT), MLOPS_OK);
    mlops_session_free(session);
    return y[0];
}

/* The version's signature, printed without spaces ("null" when empty). */
static char *signature_of(mlops_db *db, int64_t version)
{
    char *json = NULL, *text;
    cJSON *doc;
    assert_int_equal(mlops_version_show(&json, db, MODEL, version), MLOPS_OK);
    doc = cJSON_Parse(json);
    assert_non_null(doc);
    text = cJSON_PrintUnformatted(cJSON_GetObjectItem(doc, "signature"));
    cJSON_Delete(doc);
    mlops_free(json);
    return text;
}

static void assert_signature(mlops_db *db, int64_t version, const char *expected)
{
    char *text = signature_of(db, version);
    assert_string_equal(text, expected);
    free(text);
}

/* How many audit entries record a signature being set. */
static int signature_fills(mlops_db *db)
{
    char *json = NULL;
    const char *p;
    int n = 0;
    assert_int_equal(mlops_audit_list(&json, db, 0, 0), MLOPS_OK);
    for (p = json; (p = strstr(p, "\"version.signature\"")) != NULL; p++)
        n++;
    mlops_free(json);
    return n;
}

static void test_open_by_alias_version_and_after_a_move(void **state)
{
    mlops_db *db = tagged_db("open.db");
    (void)state;
    assert_true(tag_of(db, MODEL "@production") == 1.0f);
    assert_true(tag_of(db, MODEL "@2") == 2.0f);
    assert_true(tag_of(db, MODEL "@1") == 1.0f);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", 2), MLOPS_OK);
    assert_true(tag_of(db, MODEL "@production") == 2.0f);
    mlops_db_close(db);
}

static void test_options_reach_the_session(void **state)
{
    mlops_db *db = tagged_db("options.db");
    mlops_session *session = NULL;
    (void)state;
    assert_int_equal(mlops_session_open_registry(&session, db, MODEL "@production",
                                                 "{\"precision\": \"int8\", \"isa\": \"ref\"}", NULL),
                     MLOPS_OK);
    assert_string_equal(mlops_session_kernel(session), "ref");
    mlops_session_free(session);
    mlops_db_close(db);
}

static void test_signature_filled_once_and_never_overwritten(void **state)
{
    mlops_db *db = tagged_db("signature.db");
    int64_t version = 0;
    size_t len = 0;
    uint8_t *bytes = sf_tag_model(&len, 3.0f);
    (void)state;
    assert_signature(db, 1, "null");
    assert_int_equal(signature_fills(db), 0);
    assert_true(tag_of(db, MODEL "@production") == 1.0f);
    assert_signature(db, 1, SIGNATURE);
    assert_int_equal(signature_fills(db), 1);
    /* Opening again writes nothing more. */
    assert_true(tag_of(db, MODEL "@1") == 1.0f);
    assert_int_equal(signature_fills(db), 1);
    assert_signature(db, 2, "null");
    /* A signature given at registration is left as it was. */
    assert_int_equal(mlops_version_register(&version, db, MODEL, bytes, len,
                                            "{\"signature\": {\"inputs\": [{\"name\": \"features\"}]}}"),
                     MLOPS_OK);
    free(bytes);
    assert_true(tag_of(db, MODEL "@3") == 3.0f);
    assert_signature(db, 3, "{\"inputs\":[{\"name\":\"features\"}]}");
    assert_int_equal(signature_fills(db), 1);
    mlops_db_close(db);
}

/* A small binary task over columns "a" and "b" (label: a + b > 0), for the trainer. */
static mlops_frame *two_feature_frame(void)
{
    double a[64], b[64], label[64];
    mlops_frame *frame = NULL;
    size_t i;
    for (i = 0; i < 64; i++) {
        a[i] = (double)(i * 37 % 101) / 50.0 - 1.0;
        b[i] = (double)(i * 53 % 97) / 48.0 - 1.0;
        label[i] = a[i] + b[i] > 0 ? 1.0 : 0.0;
    }
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "b", b, NULL, 64), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "label", label, NULL, 64), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "a", a, NULL, 64), MLOPS_OK);
    return frame;
}

static void assert_feature_names(mlops_db *db, const char *reference, const char *first, const char *second)
{
    mlops_session *session = NULL;
    assert_int_equal(mlops_session_open_registry(&session, db, reference, NULL, NULL), MLOPS_OK);
    if (first == NULL) {
        assert_null(mlops_session_feature_name(session, 0));
    } else {
        assert_string_equal(mlops_session_feature_name(session, 0), first);
        assert_string_equal(mlops_session_feature_name(session, 1), second);
    }
    assert_null(mlops_session_feature_name(session, SF_IN));
    mlops_session_free(session);
}

/* The trainer's metadata "features" name the session's input columns; other versions leave them unknown. */
static void test_feature_names_from_the_version_metadata(void **state)
{
    mlops_db *db = tagged_db("names.db");
    mlops_frame *frame = two_feature_frame();
    mlops_session *session = NULL;
    char *signature = NULL;
    int64_t version = 0;
    size_t len = 0;
    uint8_t *bytes = sf_tag_model(&len, 3.0f);
    (void)state;
    assert_int_equal(mlops_model_create(db, "ab", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_net_train_register(&version, NULL, db, "ab", frame,
                                              "{\"features\":[\"a\",\"b\"],\"label\":\"label\",\"task\":\"binary\","
                                              "\"model\":{\"type\":\"logistic\"},\"epochs\":2,\"split\":{\"test\":0.25}}",
                                              NULL),
                     MLOPS_OK);
    assert_int_equal(mlops_session_open_registry(&session, db, "ab@1", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_input_width(session), 2);
    assert_string_equal(mlops_session_feature_name(session, 0), "a");
    assert_string_equal(mlops_session_feature_name(session, 1), "b");
    assert_null(mlops_session_feature_name(session, 2));
    assert_null(mlops_session_feature_name(NULL, 0));
    assert_int_equal(mlops_session_signature(&signature, session), MLOPS_OK);
    assert_non_null(strstr(signature, "\"shape\":[-1,2],\"features\":[\"a\",\"b\"]}],\"outputs\":"));
    mlops_free(signature);
    mlops_session_free(session);
    /* Raw ONNX bytes carry no names, and the signature filled from the session has none. */
    assert_feature_names(db, MODEL "@1", NULL, NULL);
    assert_signature(db, 1, SIGNATURE);
    /* Metadata names that do not fit the input are ignored. */
    assert_int_equal(mlops_version_register(&version, db, MODEL, bytes, len,
                                            "{\"metadata\": {\"features\": [\"w\", \"x\", \"y\"]}}"),
                     MLOPS_OK);
    assert_feature_names(db, MODEL "@3", NULL, NULL);
    assert_int_equal(mlops_version_register(&version, db, MODEL, bytes, len,
                                            "{\"metadata\": {\"features\": [\"w\", \"x\", \"y\", 4]}}"),
                     MLOPS_OK);
    assert_feature_names(db, MODEL "@4", NULL, NULL);
    assert_int_equal(mlops_version_register(&version, db, MODEL, bytes, len, "{\"metadata\": {\"features\": \"w\"}}"),
                     MLOPS_OK);
    assert_feature_names(db, MODEL "@5", NULL, NULL);
    /* Names that fit reach the signature filled into the version. */
    assert_int_equal(mlops_version_register(&version, db, MODEL, bytes, len,
                                            "{\"metadata\": {\"features\": [\"w\", \"x\", \"y\", \"z\"]}}"),
                     MLOPS_OK);
    assert_feature_names(db, MODEL "@6", "w", "x");
    assert_signature(db, 6, "{\"inputs\":[{\"name\":\"x\",\"type\":\"float32\",\"shape\":[-1,4],"
                            "\"features\":[\"w\",\"x\",\"y\",\"z\"]}],"
                            "\"outputs\":[{\"name\":\"y\",\"type\":\"float32\",\"shape\":[-1,3]}]}");
    free(bytes);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_read_only_handle_opens_without_writing(void **state)
{
    mlops_db *db = tagged_db("read_only.db"), *ro = NULL;
    (void)state;
    assert_int_equal(mlops_db_open(&ro, ts_path("read_only.db"), "{\"read_only\": true}"), MLOPS_OK);
    assert_true(tag_of(ro, MODEL "@production") == 1.0f);
    assert_signature(db, 1, "null");
    mlops_db_close(ro);
    mlops_db_close(db);
}

static void test_a_failed_fill_fails_the_open(void **state)
{
    mlops_db *db = tagged_db("busy.db"), *impatient = NULL;
    mlops_session *session = NULL;
    sqlite3 *writer = NULL;
    (void)state;
    assert_int_equal(mlops_db_open(&impatient, ts_path("busy.db"), "{\"busy_timeout_ms\": 50}"), MLOPS_OK);
    /* Another connection holds the write lock past the busy timeout. */
    assert_int_equal(sqlite3_open(ts_path("busy.db"), &writer), SQLITE_OK);
    assert_int_equal(sqlite3_exec(writer, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    ts_assert_error(mlops_session_open_registry(&session, impatient, MODEL "@production", NULL, NULL), MLOPS_EBUSY,
                    "reference \"fraud@production\" (version 1): ");
    assert_null(session);
    assert_int_equal(sqlite3_exec(writer, "COMMIT", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(writer);
    assert_signature(db, 1, "null");
    assert_true(tag_of(impatient, MODEL "@production") == 1.0f);
    assert_signature(db, 1, SIGNATURE);
    mlops_db_close(impatient);
    mlops_db_close(db);
}

static void test_router_fills_the_signature_too(void **state)
{
    mlops_db *db = tagged_db("router.db");
    mlops_router *router = NULL;
    (void)state;
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    assert_signature(db, 1, SIGNATURE);
    assert_signature(db, 2, "null");
    mlops_router_close(router);
    mlops_db_close(db);
}

static void test_errors(void **state)
{
    mlops_db *db = tagged_db("errors.db");
    mlops_session *session = NULL;
    size_t len = 3000;
    uint8_t *junk = malloc(len);
    int64_t version = 0;
    (void)state;
    ts_assert_error(mlops_session_open_registry(NULL, db, MODEL "@1", NULL, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_session_open_registry(&session, NULL, MODEL "@1", NULL, NULL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_session_open_registry(&session, db, NULL, NULL, NULL), MLOPS_EINVAL, "reference");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL, NULL, NULL), MLOPS_EINVAL,
                    "reference \"fraud\" is not \"name@alias\" or \"name@version\"");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@1x", NULL, NULL), MLOPS_EINVAL,
                    "is not a version number");
    ts_assert_error(mlops_session_open_registry(&session, db, "churn@production", NULL, NULL), MLOPS_ENOTFOUND,
                    "reference \"churn@production\": ");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@staging", NULL, NULL), MLOPS_ENOTFOUND,
                    "reference \"fraud@staging\": model \"fraud\" has no alias \"staging\"");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@9", NULL, NULL), MLOPS_ENOTFOUND,
                    "reference \"fraud@9\": ");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@1", "{\"precision\": \"int4\"}", NULL),
                    MLOPS_EFORMAT, "reference \"fraud@1\" (version 1): session options: $.precision");
    assert_null(session);
    /* Bytes that are no ONNX model fail as the import says. */
    rt_fill(junk, len, 7);
    assert_int_equal(mlops_version_register(&version, db, MODEL, junk, len, NULL), MLOPS_OK);
    free(junk);
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@3", NULL, NULL), MLOPS_EFORMAT,
                    "reference \"fraud@3\" (version 3): ONNX model");
    assert_signature(db, 3, "null");
    /* A damaged artifact is refused before anything is parsed. */
    rt_sql("errors.db", "DELETE FROM reg_artifact_chunk WHERE artifact_id ="
                        " (SELECT artifact_id FROM reg_version WHERE version = 2)");
    ts_assert_error(mlops_session_open_registry(&session, db, MODEL "@2", NULL, NULL), MLOPS_ECORRUPT,
                    "reference \"fraud@2\" (version 2): model \"fraud\" version 2");
    assert_null(session);
    assert_signature(db, 2, "null");
    mlops_db_close(db);
}

typedef struct open_ctx {
    mlops_db *db;
    mlops_session *session;
} open_ctx;

static int open_call(void *arg)
{
    open_ctx *ctx = arg;
    return mlops_session_open_registry(&ctx->session, ctx->db, MODEL "@production", NULL, NULL);
}

static void open_cleanup(void *arg)
{
    open_ctx *ctx = arg;
    mlops_session_free(ctx->session);
    ctx->session = NULL;
}

static void test_allocation_failures(void **state)
{
    open_ctx ctx;
    int64_t version = 0;
    size_t len = 0;
    uint8_t *bytes = sf_tag_model(&len, 3.0f);
    (void)state;
    ctx.db = tagged_db("alloc.db");
    ctx.session = NULL;
    /* Warm the handle's statement cache, whose entries live as long as the handle, on the other version. */
    assert_true(tag_of(ctx.db, MODEL "@2") == 2.0f);
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 10);
    assert_signature(ctx.db, 1, SIGNATURE);
    assert_int_equal(signature_fills(ctx.db), 2);
    /* Again with the signature already set: the path that only reads it. */
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 10);
    /* With feature names in the version's metadata. */
    assert_int_equal(mlops_version_register(&version, ctx.db, MODEL, bytes, len,
                                            "{\"metadata\": {\"features\": [\"w\", \"x\", \"y\", \"z\"]}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_alias_set(ctx.db, MODEL, "production", version), MLOPS_OK);
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 10);
    assert_feature_names(ctx.db, MODEL "@production", "w", "x");
    free(bytes);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_by_alias_version_and_after_a_move),
        cmocka_unit_test(test_options_reach_the_session),
        cmocka_unit_test(test_signature_filled_once_and_never_overwritten),
        cmocka_unit_test(test_feature_names_from_the_version_metadata),
        cmocka_unit_test(test_read_only_handle_opens_without_writing),
        cmocka_unit_test(test_a_failed_fill_fails_the_open),
        cmocka_unit_test(test_router_fills_the_signature_too),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
