/*
 * Ingest: contract checks per rule, reject and quarantine policies, the
 * quarantine's list and retry, deduplication, and bad input.
 */
#include "fs_fixture.h"

static size_t col(const mlops_frame *frame, const char *name)
{
    size_t c = 0;
    assert_int_equal(mlops_frame_column_index(&c, frame, name), MLOPS_OK);
    return c;
}

/* Break one rule per row 1..8 of a 10-row frame; rows 0 and 9 stay good. */
static void break_rules(mlops_frame *frame)
{
    const float nan_vec[3] = {1.0f, NAN, 2.0f};
    assert_int_equal(mlops_frame_set_null(frame, col(frame, "amount"), 1), MLOPS_OK);                 /* not_null */
    assert_int_equal(mlops_frame_set_float64(frame, col(frame, "amount"), 2, -3.0), MLOPS_OK);        /* min */
    assert_int_equal(mlops_frame_set_float64(frame, col(frame, "amount"), 3, 1000.5), MLOPS_OK);      /* max */
    assert_int_equal(mlops_frame_set_string(frame, col(frame, "category"), 4, "z", 1), MLOPS_OK);     /* allowed */
    assert_int_equal(mlops_frame_set_string(frame, col(frame, "category"), 5, "dddddddddd", 10), MLOPS_OK);
    assert_int_equal(mlops_frame_set_float64(frame, col(frame, "amount"), 6, INFINITY), MLOPS_OK);    /* finite */
    assert_int_equal(mlops_frame_set_f32vec(frame, col(frame, "emb"), 7, nan_vec, 3), MLOPS_OK);      /* finite */
    assert_int_equal(mlops_frame_set_null(frame, col(frame, "customer_id"), 8), MLOPS_OK);            /* key */
}

static const char *const expected_rules[][2] = {
    {"amount", "not_null"}, {"amount", "min"}, {"amount", "max"}, {"category", "allowed"},
    {"category", "max_length"}, {"amount", "finite"}, {"emb", "finite"}, {"customer_id", "not_null"},
};

static void test_reject_writes_nothing(void **state)
{
    mlops_db *db = fx_open_txn("reject.db");
    mlops_frame *frame = fx_txn_frame(10, 1);
    mlops_ingest_report report;
    uint32_t i;
    (void)state;
    break_rules(frame);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_EPOLICY,
                    "8 of 10 rows break the contract");
    assert_int_equal(report.rows_written, 0);
    assert_int_equal(report.rows_quarantined, 8);
    assert_int_equal(report.error_count, 8);
    for (i = 0; i < 8; i++) {
        assert_int_equal(report.errors[i].row, i + 1);
        assert_string_equal(report.errors[i].column, expected_rules[i][0]);
        assert_string_equal(report.errors[i].rule, expected_rules[i][1]);
    }
    assert_non_null(strstr(report.errors[1].message, "-3 below min 0"));
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 0);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_online"), 0);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_quarantine"), 0);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_quarantine_and_retry(void **state)
{
    mlops_db *db = fx_open_txn("quarantine.db");
    mlops_frame *frame = fx_txn_frame(10, 1), *q = NULL, *again = NULL;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_ingest_report report;
    const char *text = NULL;
    size_t i, amount_col;
    double v = 0;
    (void)state;
    break_rules(frame);
    options.policy = MLOPS_INGEST_QUARANTINE;
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, &options), MLOPS_OK);
    assert_int_equal(report.rows_written, 2);
    assert_int_equal(report.rows_quarantined, 8);
    assert_int_equal(report.definition_version, 1);
    assert_true(report.system_time > 0);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 2);

    assert_int_equal(mlops_features_quarantine_list(&q, db, "txn"), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(q), 8);
    for (i = 0; i < 8; i++) {
        assert_int_equal(mlops_frame_get_string(&text, NULL, q, col(q, "rule"), i), MLOPS_OK);
        assert_string_equal(text, expected_rules[i][1]);
        assert_int_equal(mlops_frame_get_string(&text, NULL, q, col(q, "column"), i), MLOPS_OK);
        assert_string_equal(text, expected_rules[i][0]);
    }
    /* The whole row is kept: the bad value and the good ones. */
    assert_int_equal(mlops_frame_get_float64(&v, q, col(q, "amount"), 1), MLOPS_OK);
    assert_true(v == -3.0);
    assert_int_equal(mlops_frame_get_string(&text, NULL, q, col(q, "category"), 1), MLOPS_OK);
    assert_string_equal(text, "b");
    assert_int_equal(mlops_frame_is_null(q, col(q, "customer_id"), 7), 1);

    /* Correct three of them (rows 0..2 of the list) and retry all: five come back to the quarantine. */
    amount_col = col(q, "amount");
    assert_int_equal(mlops_frame_set_float64(q, amount_col, 0, 1.0), MLOPS_OK);
    assert_int_equal(mlops_frame_set_float64(q, amount_col, 1, 2.0), MLOPS_OK);
    assert_int_equal(mlops_frame_set_float64(q, amount_col, 2, 3.0), MLOPS_OK);
    assert_int_equal(mlops_features_quarantine_retry(&report, db, "txn", q), MLOPS_OK);
    assert_int_equal(report.rows_written, 3);
    assert_int_equal(report.rows_quarantined, 5);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_quarantine"), 5);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 5);
    /* The old ids are gone: retrying the same list again names the missing id and changes nothing. */
    ts_assert_error(mlops_features_quarantine_retry(&report, db, "txn", q), MLOPS_ENOTFOUND, "quarantine_id");
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_quarantine"), 5);
    assert_int_equal(mlops_features_quarantine_list(&again, db, "txn"), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(again), 5);
    mlops_frame_free(again);
    ts_assert_error(mlops_features_quarantine_retry(&report, db, "txn", frame), MLOPS_EINVAL, "quarantine_id");
    ts_assert_error(mlops_features_quarantine_list(&again, db, "nope"), MLOPS_ENOTFOUND, "\"nope\"");
    ts_assert_error(mlops_features_quarantine_list(NULL, db, "txn"), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_features_quarantine_retry(NULL, db, "txn", q), MLOPS_EINVAL, "report");
    assert_null(again);
    mlops_frame_free(q);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_identical_rows_stored_once(void **state)
{
    mlops_db *db = fx_open_txn("dedup.db");
    mlops_frame *frame = fx_txn_frame(5, 100);
    mlops_ingest_report report;
    (void)state;
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    assert_int_equal(report.rows_written, 5);
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    assert_int_equal(report.rows_written, 0);
    assert_int_equal(report.rows_duplicate, 5);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 5);
    /* A changed value at the same key and event time is a correction: a new row. */
    assert_int_equal(mlops_frame_set_float64(frame, col(frame, "amount"), 2, 99.0), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_OK);
    assert_int_equal(report.rows_written, 1);
    assert_int_equal(report.rows_duplicate, 4);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 6);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_online"), 5);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_bad_input(void **state)
{
    mlops_db *db = fx_open_txn("bad_input.db");
    mlops_frame *frame = fx_txn_frame(3, 1), *f2 = NULL;
    mlops_ingest_report report;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    const char *times[3] = {"2024-03-01T00:00:00Z", "yesterday", "2024-03-02"};
    const char *names[3] = {"1", "2", "3"};
    const double doubles[3] = {1, 2, 3};
    (void)state;
    ts_assert_error(mlops_features_ingest(&report, db, "nope", frame, NULL), MLOPS_ENOTFOUND, "\"nope\"");
    ts_assert_error(mlops_features_ingest(NULL, db, "txn", frame, NULL), MLOPS_EINVAL, "report");
    ts_assert_error(mlops_features_ingest(&report, NULL, "txn", frame, NULL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_features_ingest(&report, db, NULL, frame, NULL), MLOPS_EINVAL, "view");
    ts_assert_error(mlops_features_ingest(&report, db, "txn", NULL, NULL), MLOPS_EINVAL, "frame");
    options.policy = 7;
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, &options), MLOPS_EINVAL, "policy");
    options.policy = MLOPS_INGEST_REJECT;
    options.event_time_column = "ts";
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, &options), MLOPS_EINVAL,
                    "missing event time column \"ts\"");
    /* An unknown column, a feature of the wrong type, a key of the wrong type, a missing key. */
    assert_int_equal(mlops_frame_add_float64(frame, "amout", doubles, NULL, 3), MLOPS_OK);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_EINVAL,
                    "unknown feature column \"amout\"");
    assert_int_equal(mlops_frame_drop_column(frame, col(frame, "amout")), MLOPS_OK);
    assert_int_equal(mlops_frame_drop_column(frame, col(frame, "count")), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "count", doubles, NULL, 3), MLOPS_OK);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_EINVAL, "column \"count\" is float64");
    assert_int_equal(mlops_frame_drop_column(frame, col(frame, "count")), MLOPS_OK);
    assert_int_equal(mlops_frame_drop_column(frame, col(frame, "customer_id")), MLOPS_OK);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_EINVAL,
                    "missing key column \"customer_id\"");
    assert_int_equal(mlops_frame_add_string(frame, "customer_id", names, 3), MLOPS_OK);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", frame, NULL), MLOPS_EINVAL,
                    "key column \"customer_id\" is string");
    /* ISO 8601 event times parse; an unparsable one names its row. */
    assert_int_equal(mlops_frame_new(&f2), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(f2, "customer_id", (const int64_t[]){1, 2, 3}, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(f2, "event_time", times, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(f2, "amount", doubles, NULL, 3), MLOPS_OK);
    ts_assert_error(mlops_features_ingest(&report, db, "txn", f2, NULL), MLOPS_EFORMAT, "row 1: \"yesterday\"");
    assert_int_equal(mlops_frame_set_string(f2, 1, 1, "2024-03-01T12:00:00.5+01:00", 27), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "txn", f2, NULL), MLOPS_OK);
    assert_int_equal(report.rows_written, 3);
    assert_int_equal(fx_count(db, "SELECT event_time FROM fs_online WHERE key = x'018000000000000002'"),
                     INT64_C(1709290800500000));
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 3);
    mlops_frame_free(f2);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

typedef struct ingest_ctx {
    mlops_db *db;
    mlops_frame *frame;
} ingest_ctx;

static int ingest_call(void *p)
{
    ingest_ctx *ctx = p;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_ingest_report report;
    options.policy = MLOPS_INGEST_QUARANTINE;
    return mlops_features_ingest(&report, ctx->db, "txn", ctx->frame, &options);
}

static void test_ingest_allocation_failures(void **state)
{
    ingest_ctx ctx;
    mlops_frame *warm = fx_txn_frame(10, 500);
    mlops_ingest_report report;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    (void)state;
    ctx.db = fx_open_txn("alloc_ingest.db");
    ctx.frame = fx_txn_frame(10, 1);
    break_rules(ctx.frame);
    break_rules(warm);
    options.policy = MLOPS_INGEST_QUARANTINE;
    assert_int_equal(mlops_features_ingest(&report, ctx.db, "txn", warm, &options), MLOPS_OK);
    assert_true(ts_each_allocation_failure(ingest_call, NULL, &ctx) > 10);
    /* Only the successful run wrote: 2 + 2 good rows, 8 + 8 quarantined (the null-key rows included). */
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_history"), 4);
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_quarantine"), 16);
    mlops_frame_free(warm);
    mlops_frame_free(ctx.frame);
    mlops_db_close(ctx.db);
}

static int list_call(void *p)
{
    ingest_ctx *ctx = p;
    mlops_frame *out = NULL;
    int rc = mlops_features_quarantine_list(&out, ctx->db, "txn");
    mlops_frame_free(out);
    return rc;
}

static int retry_call(void *p)
{
    ingest_ctx *ctx = p;
    mlops_ingest_report report;
    return mlops_features_quarantine_retry(&report, ctx->db, "txn", ctx->frame);
}

static void test_quarantine_allocation_failures(void **state)
{
    ingest_ctx ctx;
    mlops_frame *frame = fx_txn_frame(10, 1), *warm = NULL;
    mlops_ingest_report report;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    (void)state;
    ctx.db = fx_open_txn("alloc_quarantine.db");
    break_rules(frame);
    options.policy = MLOPS_INGEST_QUARANTINE;
    assert_int_equal(mlops_features_ingest(&report, ctx.db, "txn", frame, &options), MLOPS_OK);
    assert_true(ts_each_allocation_failure(list_call, NULL, &ctx) > 10);
    /* Unchanged rows go back to the quarantine: warm with one retry, then retry the new list under failures. */
    assert_int_equal(mlops_features_quarantine_list(&warm, ctx.db, "txn"), MLOPS_OK);
    ctx.frame = warm;
    assert_int_equal(retry_call(&ctx), MLOPS_OK);
    mlops_frame_free(warm);
    assert_int_equal(mlops_features_quarantine_list(&warm, ctx.db, "txn"), MLOPS_OK);
    ctx.frame = warm;
    assert_true(ts_each_allocation_failure(retry_call, NULL, &ctx) > 10);
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_quarantine"), 8);
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_history"), 2);
    mlops_frame_free(warm);
    mlops_frame_free(frame);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reject_writes_nothing),
        cmocka_unit_test(test_quarantine_and_retry),
        cmocka_unit_test(test_identical_rows_stored_once),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_ingest_allocation_failures),
        cmocka_unit_test(test_quarantine_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
