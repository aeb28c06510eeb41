/*
 * Online, as-of and float32 reads: late rows, corrections and as-of system
 * time, TTL edges, definition versions, composite keys, statistics.
 */
#include "fs_fixture.h"

static const char *const AMOUNT[] = {"amount"};

static void ingest_amounts(mlops_ingest_report *report, mlops_db *db, size_t rows, const int64_t *ids,
                           const int64_t *times, const double *amounts)
{
    mlops_frame *frame = fx_amounts(rows, ids, times, amounts);
    assert_int_equal(mlops_features_ingest(report, db, "txn", frame, NULL), MLOPS_OK);
    mlops_frame_free(frame);
}

static double online_amount(mlops_db *db, int64_t id, const mlops_read_options *options)
{
    mlops_frame *keys = fx_keys(1, &id), *out = NULL;
    double v;
    assert_int_equal(mlops_features_online(&out, db, "txn", keys, AMOUNT, 1, options), MLOPS_OK);
    v = fx_f64(out, "amount", 0);
    mlops_frame_free(out);
    mlops_frame_free(keys);
    return v;
}

static void test_late_rows_never_overwrite_online(void **state)
{
    mlops_db *db = fx_open_txn("late.db");
    mlops_ingest_report report;
    const int64_t ids[2] = {1, 2};
    (void)state;
    /* Key 1: newer first, then an older row arrives late. Key 2: in order. */
    ingest_amounts(&report, db, 2, ids, (const int64_t[]){200, 100}, (const double[]){20, 10});
    ingest_amounts(&report, db, 2, ids, (const int64_t[]){100, 200}, (const double[]){11, 21});
    assert_int_equal(report.rows_written, 2);
    assert_true(online_amount(db, 1, NULL) == 20.0);
    assert_true(online_amount(db, 2, NULL) == 21.0);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 4);
    mlops_db_close(db);
}

static void test_corrections_and_as_of_system_time(void **state)
{
    mlops_db *db = fx_open_txn("bitemporal.db");
    mlops_ingest_report first, second;
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *keys = NULL, *out = NULL;
    const int64_t ids[2] = {1, 2};
    int is_null = 0;
    (void)state;
    ingest_amounts(&first, db, 2, ids, (const int64_t[]){100, 100}, (const double[]){1, 2});
    ingest_amounts(&second, db, 2, ids, (const int64_t[]){100, 50}, (const double[]){5, 7});
    assert_true(second.system_time > first.system_time);
    /* Now: key 1 corrected to 5; key 2 keeps 2 (its new row is older in event time). */
    assert_true(online_amount(db, 1, NULL) == 5.0);
    assert_true(online_amount(db, 2, NULL) == 2.0);
    /* As the store was after the first write. */
    options.as_of_system_time = first.system_time;
    assert_true(online_amount(db, 1, &options) == 1.0);
    assert_true(online_amount(db, 2, &options) == 2.0);
    /* Before any write: nothing. */
    options.as_of_system_time = first.system_time - 1;
    assert_true(isnan(online_amount(db, 1, &options)));
    /* As of event time 60: key 2's late row is visible now, but not as of the first write. */
    keys = fx_keys(2, ids);
    assert_int_equal(mlops_features_as_of(&out, db, "txn", keys, AMOUNT, 1, 60, NULL), MLOPS_OK);
    assert_true(isnan(fx_f64(out, "amount", 0)));
    assert_true(fx_f64(out, "amount", 1) == 7.0);
    assert_int_equal(fx_i64(&is_null, out, "event_time", 1), 50);
    assert_int_equal(fx_i64(&is_null, out, "age_us", 1), 10);
    mlops_frame_free(out);
    options.as_of_system_time = first.system_time;
    assert_int_equal(mlops_features_as_of(&out, db, "txn", keys, AMOUNT, 1, 100, &options), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 0) == 1.0);
    assert_true(fx_f64(out, "amount", 1) == 2.0);
    mlops_frame_free(out);
    assert_int_equal(mlops_features_as_of(&out, db, "txn", keys, AMOUNT, 1, 100, NULL), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 0) == 5.0);
    mlops_frame_free(out);
    mlops_frame_free(keys);
    mlops_db_close(db);
}

static void test_ttl_edges(void **state)
{
    mlops_db *db = fx_open("ttl.db");
    mlops_ingest_report report;
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *keys = NULL, *out = NULL, *frame;
    mlops_online_reader *reader = NULL;
    const int64_t id = 7;
    float row[1];
    int is_null = 0;
    (void)state;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"txn\",\"entity\":\"customer\",\"ttl_us\":100,"
                                                 "\"features\":[{\"name\":\"amount\",\"type\":\"float64\"}]}", 0),
                     MLOPS_OK);
    frame = fx_amounts(1, &id, (const int64_t[]){1000}, (const double[]){3.5});
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    mlops_frame_free(frame);
    keys = fx_keys(1, &id);
    /* Exactly at the boundary: still fresh. */
    options.now = 1100;
    assert_int_equal(mlops_features_online(&out, db, "txn", keys, AMOUNT, 1, &options), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 0) == 3.5);
    assert_int_equal(fx_i64(&is_null, out, "age_us", 0), 100);
    mlops_frame_free(out);
    /* One microsecond past: null, with its event time and age. */
    options.now = 1101;
    assert_int_equal(mlops_features_online(&out, db, "txn", keys, AMOUNT, 1, &options), MLOPS_OK);
    assert_true(isnan(fx_f64(out, "amount", 0)));
    assert_int_equal(mlops_frame_is_null(out, 3, 0), 1);
    assert_int_equal(fx_i64(&is_null, out, "event_time", 0), 1000);
    assert_false(is_null);
    assert_int_equal(fx_i64(&is_null, out, "age_us", 0), 101);
    mlops_frame_free(out);
    /* The same edges for as-of reads (measured from T) and the float path. */
    assert_int_equal(mlops_features_as_of(&out, db, "txn", keys, AMOUNT, 1, 1100, NULL), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 0) == 3.5);
    mlops_frame_free(out);
    assert_int_equal(mlops_features_as_of(&out, db, "txn", keys, AMOUNT, 1, 1101, NULL), MLOPS_OK);
    assert_true(isnan(fx_f64(out, "amount", 0)));
    mlops_frame_free(out);
    assert_int_equal(mlops_online_reader_open(&reader, db, "txn", AMOUNT, 1, NULL), MLOPS_OK);
    assert_int_equal(mlops_online_reader_read(row, 1, reader, keys, 1100), MLOPS_OK);
    assert_true(row[0] == 3.5f);
    assert_int_equal(mlops_online_reader_read(row, 1, reader, keys, 1101), MLOPS_OK);
    assert_true(isnan(row[0]));
    mlops_online_reader_free(reader);
    mlops_frame_free(keys);
    mlops_db_close(db);
}

static void test_reader_matrix(void **state)
{
    mlops_db *db = fx_open_txn("matrix.db");
    mlops_online_reader *reader = NULL;
    mlops_ingest_report report;
    mlops_frame *frame = NULL, *keys = NULL;
    const char *feats[] = {"emb", "count", "amount", "flag"};
    const char *with_string[] = {"amount", "category"};
    const int64_t ids[2] = {1, 2};
    const float emb[6] = {1, 2, 3, 4, 5, 6};
    float out[3 * 6];
    size_t i;
    (void)state;
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", (const int64_t[]){5, 5}, NULL, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "amount", (const double[]){1.5, 2.5}, NULL, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "count", (const int64_t[]){3, 0}, (const uint8_t[]){0, 1}, 2),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_add_bool(frame, "flag", (const uint8_t[]){1, 0}, NULL, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_add_f32vec(frame, "emb", 3, emb, NULL, 2), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    assert_int_equal(mlops_online_reader_open(&reader, db, "txn", feats, 4, NULL), MLOPS_OK);
    assert_int_equal(mlops_online_reader_width(reader), 6);
    keys = fx_keys(3, (const int64_t[]){2, 99, 1});
    ts_assert_error(mlops_online_reader_read(out, 17, reader, keys, MLOPS_TIME_UNSET), MLOPS_EBUFSIZE, "18 floats");
    assert_int_equal(mlops_online_reader_read(out, 18, reader, keys, MLOPS_TIME_UNSET), MLOPS_OK);
    {
        const float want[18] = {4, 5, 6, NAN, 2.5f, 0, NAN, NAN, NAN, NAN, NAN, NAN, 1, 2, 3, 3, 1.5f, 1};
        for (i = 0; i < 18; i++) {
            if (isnan(want[i]))
                assert_true(isnan(out[i]));
            else
                assert_true(out[i] == want[i]);
        }
    }
    mlops_online_reader_free(reader);
    ts_assert_error(mlops_online_reader_open(&reader, db, "txn", with_string, 2, NULL), MLOPS_EINVAL, "string");
    assert_null(reader);
    ts_assert_error(mlops_online_reader_open(&reader, db, "txn", (const char *[]){"nope"}, 1, NULL), MLOPS_ENOTFOUND,
                    "no feature \"nope\"");
    ts_assert_error(mlops_online_reader_open(NULL, db, "txn", feats, 1, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_online_reader_read(out, 18, NULL, keys, 0), MLOPS_EINVAL, "reader");
    mlops_online_reader_free(NULL);
    mlops_frame_free(keys);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_compatible_change_keeps_old_rows_readable(void **state)
{
    mlops_db *db = fx_open("evolve.db");
    mlops_ingest_report report;
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *keys = NULL, *out = NULL, *frame = NULL;
    const int64_t ids[2] = {1, 2};
    const char *both[] = {"amount", "score"};
    int is_null = 0;
    (void)state;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"txn\",\"entity\":\"customer\",\"features\":"
                                                 "[{\"name\":\"amount\",\"type\":\"float64\"}]}", 0), MLOPS_OK);
    ingest_amounts(&report, db, 1, ids, (const int64_t[]){10}, (const double[]){4});
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"txn\",\"entity\":\"customer\",\"features\":"
                                                 "[{\"name\":\"score\",\"type\":\"int64\"},"
                                                 "{\"name\":\"amount\",\"type\":\"float64\"}]}", 0), MLOPS_OK);
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", &ids[1], NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", (const int64_t[]){10}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "amount", (const double[]){8}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "score", (const int64_t[]){42}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    assert_int_equal(report.definition_version, 2);
    keys = fx_keys(2, ids);
    assert_int_equal(mlops_features_online(&out, db, "txn", keys, both, 2, NULL), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 0) == 4.0);
    fx_i64(&is_null, out, "score", 0);
    assert_true(is_null);
    assert_true(fx_f64(out, "amount", 1) == 8.0);
    assert_int_equal(fx_i64(&is_null, out, "score", 1), 42);
    mlops_frame_free(out);
    /* Reading with definition version 1: only its features exist. */
    options.definition_version = 1;
    ts_assert_error(mlops_features_online(&out, db, "txn", keys, both, 2, &options), MLOPS_ENOTFOUND,
                    "version 1 has no feature \"score\"");
    assert_int_equal(mlops_features_online(&out, db, "txn", keys, AMOUNT, 1, &options), MLOPS_OK);
    assert_true(fx_f64(out, "amount", 1) == 8.0);
    mlops_frame_free(out);
    options.definition_version = 3;
    ts_assert_error(mlops_features_online(&out, db, "txn", keys, AMOUNT, 1, &options), MLOPS_ENOTFOUND, "version 3");
    mlops_frame_free(frame);
    mlops_frame_free(keys);
    mlops_db_close(db);
}

static void test_composite_keys_and_stats(void **state)
{
    mlops_db *db = fx_open("composite.db");
    mlops_ingest_report report;
    mlops_frame *frame = NULL, *keys = NULL, *out = NULL;
    const char *merchants[4] = {"shop", "shop", "café", "shop"};
    const char *key_merchants[3] = {"café", "shop", "nowhere"};
    const char *text = NULL;
    char *stats = NULL;
    int is_null = 0;
    (void)state;
    assert_int_equal(mlops_entity_define(db, "{\"name\":\"pair\",\"keys\":[{\"name\":\"customer_id\",\"type\":"
                                             "\"int64\"},{\"name\":\"merchant\",\"type\":\"string\"}]}"), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"spend\",\"entity\":\"pair\",\"features\":"
                                                 "[{\"name\":\"total\",\"type\":\"float64\"},"
                                                 "{\"name\":\"note\",\"type\":\"string\"}]}", 0), MLOPS_OK);
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", (const int64_t[]){1, 1, 1, 2}, NULL, 4), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "merchant", merchants, 4), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", (const int64_t[]){1, 2, 1, 1}, NULL, 4), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "total", (const double[]){1, 2, 3, 4}, NULL, 4), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "note", (const char *[]){"x", NULL, "y", NULL}, 4), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "spend", frame, NULL), MLOPS_OK);
    assert_int_equal(report.rows_written, 4);
    assert_int_equal(mlops_frame_new(&keys), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(keys, "customer_id", (const int64_t[]){1, 1, 1}, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(keys, "merchant", key_merchants, 3), MLOPS_OK);
    assert_int_equal(mlops_features_online(&out, db, "spend", keys, (const char *[]){"note", "total"}, 2, NULL),
                     MLOPS_OK);
    assert_true(fx_f64(out, "total", 0) == 3.0);
    assert_int_equal(mlops_frame_get_string(&text, NULL, out, 4, 0), MLOPS_OK);
    assert_string_equal(text, "y");
    assert_int_equal(mlops_frame_get_string(&text, NULL, out, 1, 0), MLOPS_OK);
    assert_string_equal(text, "café");
    assert_true(fx_f64(out, "total", 1) == 2.0);
    assert_int_equal(mlops_frame_is_null(out, 4, 1), 1);
    assert_true(isnan(fx_f64(out, "total", 2)));
    fx_i64(&is_null, out, "event_time", 2);
    assert_true(is_null);
    mlops_frame_free(out);
    assert_int_equal(mlops_features_stats(&stats, db, "spend"), MLOPS_OK);
    /* 4 history rows, 3 keys; latest rows: (1,shop)=2/null, (1,café)=3/"y", (2,shop)=4/null. */
    assert_string_equal(stats, "{\"view\":\"spend\",\"version\":1,\"rows\":4,\"keys\":3,\"newest_event_time\":2,"
                               "\"quarantined\":0,\"features\":[{\"name\":\"total\",\"null_rate\":0},"
                               "{\"name\":\"note\",\"null_rate\":0.6666666666666666}]}");
    mlops_free(stats);
    ts_assert_error(mlops_features_stats(&stats, db, "nope"), MLOPS_ENOTFOUND, "\"nope\"");
    ts_assert_error(mlops_features_stats(NULL, db, "spend"), MLOPS_EINVAL, "out");
    /* Extra columns of the keys frame are ignored; a missing key column is refused. */
    assert_int_equal(mlops_features_online(&out, db, "spend", frame, (const char *[]){"total"}, 1, NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(out), 4);
    mlops_frame_free(out);
    assert_int_equal(mlops_frame_drop_column(keys, 1), MLOPS_OK);
    ts_assert_error(mlops_features_online(&out, db, "spend", keys, (const char *[]){"total"}, 1, NULL), MLOPS_EINVAL,
                    "missing key column \"merchant\"");
    ts_assert_error(mlops_features_online(&out, db, "nope", keys, AMOUNT, 1, NULL), MLOPS_ENOTFOUND, "\"nope\"");
    ts_assert_error(mlops_features_online(NULL, db, "spend", keys, AMOUNT, 1, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_features_as_of(&out, db, "spend", NULL, AMOUNT, 1, 0, NULL), MLOPS_EINVAL, "keys");
    mlops_frame_free(keys);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

typedef struct read_ctx {
    mlops_db *db;
    mlops_frame *keys;
} read_ctx;

static int online_call(void *p)
{
    read_ctx *ctx = p;
    mlops_frame *out = NULL;
    const char *feats[] = {"category", "amount", "emb"};
    int rc = mlops_features_online(&out, ctx->db, "txn", ctx->keys, feats, 3, NULL);
    mlops_frame_free(out);
    return rc;
}

static int as_of_call(void *p)
{
    read_ctx *ctx = p;
    mlops_frame *out = NULL;
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    int rc;
    options.as_of_system_time = INT64_MAX - 1;
    rc = mlops_features_as_of(&out, ctx->db, "txn", ctx->keys, AMOUNT, 1, 2, &options);
    mlops_frame_free(out);
    return rc;
}

static int reader_call(void *p)
{
    read_ctx *ctx = p;
    mlops_online_reader *reader = NULL;
    const char *feats[] = {"emb", "amount"};
    float out[3 * 4];
    int rc = mlops_online_reader_open(&reader, ctx->db, "txn", feats, 2, NULL);
    if (rc == MLOPS_OK)
        rc = mlops_online_reader_read(out, 12, reader, ctx->keys, MLOPS_TIME_UNSET);
    mlops_online_reader_free(reader);
    return rc;
}

static int stats_call(void *p)
{
    read_ctx *ctx = p;
    char *json = NULL;
    int rc = mlops_features_stats(&json, ctx->db, "txn");
    mlops_free(json);
    return rc;
}

static void test_read_allocation_failures(void **state)
{
    read_ctx ctx;
    mlops_ingest_report report;
    const int64_t ids[3] = {1, 2, 3};
    (void)state;
    ctx.db = fx_open_txn("alloc_reads.db");
    ingest_amounts(&report, ctx.db, 3, ids, (const int64_t[]){1, 2, 3}, (const double[]){1, 2, 3});
    ctx.keys = fx_keys(3, ids);
    assert_int_equal(online_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(online_call, NULL, &ctx) > 10);
    assert_int_equal(as_of_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(as_of_call, NULL, &ctx) > 10);
    assert_int_equal(reader_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(reader_call, NULL, &ctx) > 10);
    assert_int_equal(stats_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(stats_call, NULL, &ctx) > 10);
    mlops_frame_free(ctx.keys);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_late_rows_never_overwrite_online),
        cmocka_unit_test(test_corrections_and_as_of_system_time),
        cmocka_unit_test(test_ttl_edges),
        cmocka_unit_test(test_reader_matrix),
        cmocka_unit_test(test_compatible_change_keeps_old_rows_readable),
        cmocka_unit_test(test_composite_keys_and_stats),
        cmocka_unit_test(test_read_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
