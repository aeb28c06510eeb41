/*
 * Atomicity of the feature store's write paths under I/O failure and process
 * death: an ingest of a frame, an ingest of a CSV with malformed rows in
 * quarantine mode, a quarantine retry, and a forget across two views. Each
 * runs with an I/O error, a full disk and a torn short write at every
 * write-class call in turn, and in a child killed at every write-class call
 * and at random moments (see tests/support/fault_vfs.h): the call fails with
 * MLOPS_EIO and leaves the database as it was, or it succeeds; the database
 * always opens, passes its check and holds the state before or after.
 */
#include <stdlib.h>

#include "fault_vfs.h"
#include "fs_fixture.h"

/* No busy wait: the only other party is the injected fault. */
#define OPTIONS "{\"busy_timeout_ms\": 0, \"actor\": \"fault-test\"}"

#define PROFILE_JSON                                                                                      \
    "{\"name\":\"profile\",\"entity\":\"customer\",\"ttl_us\":0,\"features\":["                           \
    "{\"name\":\"segment\",\"type\":\"string\"},{\"name\":\"score\",\"type\":\"float64\"}]}"

static void ingest(mlops_db *db, const char *view, const mlops_frame *frame, int32_t policy)
{
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_ingest_report report;
    options.policy = policy;
    assert_int_equal(mlops_features_ingest(&report, db, view, frame, &options), MLOPS_OK);
}

/*
 * The start state every path runs from: the txn and profile views of the
 * customer entity with history in both and a quarantined row in txn,
 * a forget already done (so the forget secret exists) and a registered model.
 */
static const char *start_db(const char *name)
{
    const char *path = ts_path(name);
    mlops_db *db = NULL;
    mlops_frame *frame;
    int64_t version = 0, forgotten = 99;
    int32_t view_version = 0;
    const char *segments[] = {"gold", "silver", "gold"};
    int64_t ids[] = {1, 2, 3}, times[] = {5, 6, 7}, later[] = {2000, 2001, 2002};
    double scores[] = {0.5, 0.25, 0.75}, amounts[] = {12.0, 5000.0, 30.0};

    remove(path);
    assert_int_equal(mlops_db_open(&db, path, OPTIONS), MLOPS_OK);
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_view_define(&view_version, db, TXN_JSON, 0), MLOPS_OK);
    assert_int_equal(mlops_view_define(&view_version, db, PROFILE_JSON, 0), MLOPS_OK);
    frame = fx_txn_frame(40, 1);
    ingest(db, "txn", frame, MLOPS_INGEST_REJECT);
    mlops_frame_free(frame);
    /* Customer 2's amount breaks the max: quarantined. */
    frame = fx_amounts(3, ids, later, amounts);
    ingest(db, "txn", frame, MLOPS_INGEST_QUARANTINE);
    mlops_frame_free(frame);
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", times, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "segment", segments, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "score", scores, NULL, 3), MLOPS_OK);
    ingest(db, "profile", frame, MLOPS_INGEST_REJECT);
    mlops_frame_free(frame);
    frame = fx_keys(1, &forgotten);
    assert_int_equal(mlops_features_forget(NULL, db, "customer", frame), MLOPS_OK);
    mlops_frame_free(frame);
    assert_int_equal(mlops_model_create(db, "fraud", "scores", NULL), MLOPS_OK);
    assert_int_equal(mlops_version_register(&version, db, "fraud", "onnx", 4, NULL), MLOPS_OK);
    mlops_db_close(db);
    return path;
}

/* ---- the write paths ---- */

typedef struct ingest_ctx {
    const mlops_frame *frame;
    int32_t policy;
    int64_t expect_quarantined;
} ingest_ctx;

static int op_ingest(const char *path, void *ctx)
{
    const ingest_ctx *c = ctx;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_ingest_report report;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    options.policy = c->policy;
    if (rc == MLOPS_OK) {
        rc = mlops_features_ingest(&report, db, "txn", c->frame, &options);
        if (rc == MLOPS_OK && report.rows_quarantined != c->expect_quarantined)
            fail_msg("ingest quarantined %lld rows, expected %lld", (long long)report.rows_quarantined,
                     (long long)c->expect_quarantined);
    }
    mlops_db_close(db);
    return rc;
}

static int op_quarantine_retry(const char *path, void *ctx)
{
    mlops_ingest_report report;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_features_quarantine_retry(&report, db, "txn", ctx);
    mlops_db_close(db);
    return rc;
}

static int op_forget(const char *path, void *ctx)
{
    int64_t removed = 0;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_features_forget(&removed, db, "customer", ctx);
    mlops_db_close(db);
    return rc;
}

/* ---- the tests ---- */

static void test_ingest_frame_survives_faults_and_kills(void **state)
{
    ingest_ctx ctx = {NULL, MLOPS_INGEST_REJECT, 0};
    /* Customers 20 to 40 get older rows than their stored ones, 41 to 67 their first. */
    mlops_frame *frame = fx_txn_frame(48, 20);
    ts_fault_report report;
    (void)state;
    ctx.frame = frame;
    report = ts_fault_check_path("feature ingest of a 48-row frame", start_db("ingest.db"), op_ingest, &ctx, NULL);
    assert_true(report.points >= 2);
    mlops_frame_free(frame);
}

static void test_ingest_csv_with_quarantine_survives_faults_and_kills(void **state)
{
    /* Row 2 breaks amount's max, row 4 category's allowed values, row 5 count's min; the rest are good. */
    static const char csv[] = "customer_id,event_time,amount,category,count\n"
                              "1,2026-01-02T03:04:05Z,10.5,a,1\n"
                              "2,2026-01-02T03:04:06Z,20,b,2\n"
                              "3,2026-01-02T03:04:07Z,5000,c,3\n"
                              "4,2026-01-02T03:04:08Z,40,a,4\n"
                              "5,2026-01-02T03:04:09Z,50,zzz,5\n"
                              "6,2026-01-02T03:04:10Z,60,b,-6\n"
                              "1,2026-01-02T03:05:00Z,70,c,7\n";
    ingest_ctx ctx = {NULL, MLOPS_INGEST_QUARANTINE, 3};
    mlops_frame *frame = NULL;
    ts_fault_report report;
    (void)state;
    assert_int_equal(mlops_frame_parse_csv(&frame, csv, sizeof csv - 1,
                                           "{\"schema\": {\"customer_id\": \"int64\", \"event_time\": \"timestamp\","
                                           " \"amount\": \"float64\", \"category\": \"string\", \"count\": \"int64\"}}"),
                     MLOPS_OK);
    ctx.frame = frame;
    report = ts_fault_check_path("feature ingest of a CSV with 3 quarantined rows", start_db("ingest_csv.db"),
                                 op_ingest, &ctx, NULL);
    assert_true(report.points >= 2);
    mlops_frame_free(frame);
}

static void test_quarantine_retry_survives_faults_and_kills(void **state)
{
    const char *path = start_db("retry.db");
    mlops_frame *list = NULL, *fixed = NULL;
    mlops_db *db = NULL;
    int64_t ids[1], customers[1], times[1];
    double amount = 12.5;
    ts_fault_report report;
    int is_null = 0;
    (void)state;
    /* The start state's one quarantined row, corrected. */
    assert_int_equal(mlops_db_open(&db, path, OPTIONS), MLOPS_OK);
    assert_int_equal(mlops_features_quarantine_list(&list, db, "txn"), MLOPS_OK);
    mlops_db_close(db);
    assert_int_equal(mlops_frame_rows(list), 1);
    ids[0] = fx_i64(&is_null, list, "quarantine_id", 0);
    customers[0] = fx_i64(&is_null, list, "customer_id", 0);
    times[0] = fx_i64(&is_null, list, "event_time", 0);
    mlops_frame_free(list);
    fixed = fx_amounts(1, customers, times, &amount);
    assert_int_equal(mlops_frame_add_int64(fixed, "quarantine_id", ids, NULL, 1), MLOPS_OK);
    report = ts_fault_check_path("feature quarantine retry", path, op_quarantine_retry, fixed, NULL);
    assert_true(report.points >= 2);
    mlops_frame_free(fixed);
}

static void test_forget_survives_faults_and_kills(void **state)
{
    /* Both have rows in both views; customer 2 also a quarantined row. */
    int64_t ids[] = {1, 2};
    mlops_frame *keys = fx_keys(2, ids);
    ts_fault_report report;
    (void)state;
    report = ts_fault_check_path("feature forget of 2 keys in 2 views", start_db("forget.db"), op_forget, keys,
                                 "the rows are deleted");
    assert_true(report.points >= 2);
    mlops_frame_free(keys);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ingest_frame_survives_faults_and_kills),
        cmocka_unit_test(test_ingest_csv_with_quarantine_survives_faults_and_kills),
        cmocka_unit_test(test_quarantine_retry_survives_faults_and_kills),
        cmocka_unit_test(test_forget_survives_faults_and_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
