/*
 * Atomicity of the store's write paths under I/O failure and process death:
 * creating a database (schema migrations), a multi-row change in one
 * transaction with an audit entry, and audit appends. Each path runs with an
 * I/O error, a full disk and a torn short write injected at every write-class
 * call in turn, and in a child killed at every write-class call and at random
 * moments; the database must always open, pass its integrity check and hold
 * the state before the call (or, when the call succeeded or the kill came
 * after its commit, the state after).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_vfs.h"
#include "test_support.h"
#include "store/store_int.h"

/* No busy wait: the only other party is the injected fault, and open would retry a transient I/O error. */
#define OPTIONS "{\"busy_timeout_ms\": 0, \"actor\": \"fault-test\"}"

static int op_create(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    (void)ctx;
    mlops_db_close(db);
    return rc;
}

/* `rows` rows of metadata (large enough to span pages) and one audit entry, in one transaction. */
static int write_rows(mlops_db *db, int first, int rows)
{
    char key[32], value[400];
    int rc = mlops__tx_begin(db), i;
    for (i = first; rc == MLOPS_OK && i < first + rows; i++) {
        mlops__stmt *stmt = NULL;
        snprintf(key, sizeof key, "row.%04d", i);
        memset(value, 'a' + i % 26, sizeof value - 1);
        value[sizeof value - 1] = '\0';
        rc = mlops__db_prepare(&stmt, db, "INSERT OR REPLACE INTO mlops_meta(key, value) VALUES (?1, ?2)");
        if (rc == MLOPS_OK && !(rc = mlops__stmt_bind_text(stmt, 1, key, strlen(key))) &&
            !(rc = mlops__stmt_bind_text(stmt, 2, value, strlen(value))))
            rc = mlops__stmt_step(stmt) == MLOPS_DONE ? MLOPS_OK : mlops_error_last()->code;
        mlops__stmt_release(stmt);
    }
    if (rc == MLOPS_OK)
        rc = mlops__audit_append(db, "test.rows", "meta:rows", "{\"rows\": 1}");
    return mlops__tx_end(db, rc);
}

static int op_multi_row(const char *path, void *ctx)
{
    int rows = *(const int *)ctx;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = write_rows(db, 1000, rows);
    mlops_db_close(db);
    return rc;
}

static int op_audit(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS), i;
    (void)ctx;
    if (rc == MLOPS_OK && (rc = mlops__tx_begin(db)) == MLOPS_OK) {
        for (i = 0; rc == MLOPS_OK && i < 3; i++)
            rc = mlops__audit_append(db, "test.audit", "object:audit", "{\"n\": 3}");
        rc = mlops__tx_end(db, rc);
    }
    mlops_db_close(db);
    return rc;
}

/* A database with some rows and audit entries already in it. */
static const char *filled_db(const char *name)
{
    const char *path = ts_path(name);
    mlops_db *db = NULL;
    remove(path);
    assert_int_equal(mlops_db_open(&db, path, OPTIONS), MLOPS_OK);
    assert_int_equal(write_rows(db, 0, 20), MLOPS_OK);
    assert_int_equal(write_rows(db, 20, 5), MLOPS_OK);
    mlops_db_close(db);
    return path;
}

static long env_long(const char *name, long fallback)
{
    const char *text = getenv(name);
    return text && *text ? strtol(text, NULL, 10) : fallback;
}

static void test_create_survives_every_write_failure(void **state)
{
    const char *path = ts_path("create.db");
    ts_fault_report report;
    (void)state;
    remove(path);
    report = ts_fault_each_write("database creation and migration", path, op_create, NULL);
    assert_true(report.points >= 3);
    assert_true(report.failures > 0);
}

static void test_multi_row_write_survives_every_write_failure(void **state)
{
    int rows = 40;
    ts_fault_report report;
    (void)state;
    report = ts_fault_each_write("multi-row transaction with audit entry", filled_db("rows.db"), op_multi_row,
                                 &rows);
    assert_true(report.points >= 5);
    assert_true(report.failures > 0);
}

static void test_audit_append_survives_every_write_failure(void **state)
{
    ts_fault_report report;
    (void)state;
    report = ts_fault_each_write("audit append", filled_db("audit.db"), op_audit, NULL);
    assert_true(report.points >= 2);
    assert_true(report.failures > 0);
}

static void test_multi_row_write_survives_kill_at_every_write(void **state)
{
    int rows = 40;
    ts_fault_report report;
    (void)state;
    report = ts_kill_each_write("multi-row transaction with audit entry", filled_db("kill_each.db"), op_multi_row,
                                &rows);
    assert_true(report.before > 0);
    assert_true(report.after > 0);
}

static void test_audit_append_survives_kill_at_every_write(void **state)
{
    ts_fault_report report;
    (void)state;
    report = ts_kill_each_write("audit append", filled_db("kill_audit.db"), op_audit, NULL);
    assert_true(report.before > 0);
    assert_true(report.after > 0);
}

static void test_create_survives_kill_at_every_write(void **state)
{
    const char *path = ts_path("kill_create.db");
    ts_fault_report report;
    (void)state;
    remove(path);
    report = ts_kill_each_write("database creation and migration", path, op_create, NULL);
    assert_true(report.points >= 3);
}

static void test_multi_row_write_survives_random_kills(void **state)
{
    int rows = 200;
    ts_fault_report report;
    (void)state;
    report = ts_kill_randomly("multi-row transaction with audit entry", filled_db("kill_random.db"), op_multi_row,
                              &rows, (int)env_long("MLOPS_TEST_KILL_ITERATIONS", 100));
    assert_true(report.before + report.after > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_create_survives_every_write_failure),
        cmocka_unit_test(test_multi_row_write_survives_every_write_failure),
        cmocka_unit_test(test_audit_append_survives_every_write_failure),
        cmocka_unit_test(test_multi_row_write_survives_kill_at_every_write),
        cmocka_unit_test(test_audit_append_survives_kill_at_every_write),
        cmocka_unit_test(test_create_survives_kill_at_every_write),
        cmocka_unit_test(test_multi_row_write_survives_random_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
