/*
 * The database handle: options, refusal of foreign, damaged and future files
 * (leaving them untouched), WAL mode, migrations, transactions, statements,
 * the audit append, and two processes writing one file at once.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"
#include "store/store_int.h"

static mlops_db *open_ok(const char *path)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, NULL);
    if (rc != MLOPS_OK)
        fail_msg("opening %s: %s", path, mlops_error_last()->message);
    return db;
}

/* Run one SQL statement with the raw SQLite API, outside the library. */
static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    char *message = NULL;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    if (sqlite3_exec(raw, sql, NULL, NULL, &message) != SQLITE_OK)
        fail_msg("raw SQL failed: %s", message);
    sqlite3_close(raw);
}

static int64_t raw_int(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *stmt = NULL;
    int64_t value;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    return value;
}

static void test_open_creates_wal_database_with_schema(void **state)
{
    const char *path = ts_path("fresh.db");
    mlops_db *db;
    int32_t version = -1;
    (void)state;
    db = open_ok(path);
    assert_string_equal(mlops_db_path(db), path);
    assert_int_equal(mlops_db_schema_version(&version, db), MLOPS_OK);
    assert_int_equal(version, mlops_db_schema_version_supported());
    assert_true(version >= 1);
    assert_int_equal(mlops_db_check(db), MLOPS_OK);
    mlops_db_close(db);
    assert_int_equal(raw_int(path, "PRAGMA application_id"), 0x4D4C4F50);
    assert_int_equal(raw_int(path, "PRAGMA user_version"), version);
    /* WAL is a persistent property of the file. */
    {
        sqlite3 *raw = NULL;
        sqlite3_stmt *stmt = NULL;
        assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &stmt, NULL), SQLITE_OK);
        assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
        assert_string_equal((const char *)sqlite3_column_text(stmt, 0), "wal");
        sqlite3_finalize(stmt);
        sqlite3_close(raw);
    }
    /* Reopening an existing database migrates nothing and works. */
    db = open_ok(path);
    mlops_db_close(db);
}

static void test_open_validates_arguments_and_options(void **state)
{
    mlops_db *db = (mlops_db *)&db;
    (void)state;
    ts_assert_error(mlops_db_open(NULL, "x.db", NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_db_open(&db, NULL, NULL), MLOPS_EINVAL, "path");
    assert_null(db);
    ts_assert_error(mlops_db_open(&db, "", NULL), MLOPS_EINVAL, "empty");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"busy_timeout\": 5}"), MLOPS_EFORMAT,
                    "$.busy_timeout: unknown key");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"busy_timeout_ms\": \"5\"}"), MLOPS_EFORMAT,
                    "$.busy_timeout_ms: expected an integer");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"busy_timeout_ms\": -1}"), MLOPS_EFORMAT,
                    "$.busy_timeout_ms");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"busy_timeout_ms\": 1.5}"), MLOPS_EFORMAT,
                    "expected an integer");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"create\": 1}"), MLOPS_EFORMAT, "$.create");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"synchronous\": \"off\"}"), MLOPS_EFORMAT,
                    "$.synchronous");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"actor\": \"\"}"), MLOPS_EFORMAT, "$.actor");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"create\": true, \"create\": false}"), MLOPS_EFORMAT,
                    "duplicate key");
    ts_assert_error(mlops_db_open(&db, ":memory:", "{\"busy_timeout_ms\": 5,\n  oops}"), MLOPS_EFORMAT,
                    "line 2");
    ts_assert_error(mlops_db_open(&db, ":memory:", "[]"), MLOPS_EFORMAT, "expected an object");
    assert_null(db);
    assert_int_equal(mlops_db_open(&db, ":memory:",
                                   "{\"busy_timeout_ms\": 100, \"synchronous\": \"full\", \"actor\": \"ci\"}"),
                     MLOPS_OK);
    assert_string_equal(mlops__db_actor(db), "ci");
    assert_true(mlops__db_is_memory(db));
    mlops_db_close(db);
    mlops_db_close(NULL);
    ts_assert_error(mlops_db_schema_version(NULL, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_db_check(NULL), MLOPS_EINVAL, "db");
    assert_null(mlops_db_path(NULL));
}

static void test_missing_file_without_create(void **state)
{
    mlops_db *db = NULL;
    (void)state;
    ts_assert_error(mlops_db_open(&db, ts_path("absent.db"), "{\"create\": false}"), MLOPS_ENOTFOUND,
                    "does not exist");
    assert_int_equal(access(ts_path("absent.db"), F_OK), -1);
}

static void test_garbage_file_is_refused_untouched(void **state)
{
    const char *path = ts_path("garbage.db");
    char bytes[8192];
    size_t i;
    (void)state;
    for (i = 0; i < sizeof bytes; i++)
        bytes[i] = (char)(i * 131 + 7);
    ts_write_file(path, bytes, sizeof bytes);
    ts_assert_open_refused_untouched(path, NULL, MLOPS_ESCHEMA, "not an mlops database");
}

/* Create `path` holding what `sql` writes (in one transaction), checkpointed into the main file. */
static void create_filled(const char *path, const char *sql)
{
    mlops_db *db = open_ok(path);
    assert_int_equal(mlops__tx_begin(db), MLOPS_OK);
    assert_int_equal(mlops__db_exec(db, sql), MLOPS_OK);
    assert_int_equal(mlops__tx_end(db, MLOPS_OK), MLOPS_OK);
    assert_int_equal(mlops__db_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)"), MLOPS_OK);
    mlops_db_close(db);
}

static void test_truncated_file_is_refused_untouched(void **state)
{
    const char *path = ts_path("truncated.db");
    const char *copy = ts_path("truncated-copy.db");
    size_t len;
    char *bytes;
    (void)state;
    create_filled(path, "CREATE TABLE filler(x BLOB);"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)"
                        " INSERT INTO filler SELECT randomblob(1000) FROM n");
    bytes = ts_read_file(path, &len);
    assert_true(len > 100000);
    ts_write_file(copy, bytes, len / 2);
    ts_assert_open_refused_untouched(copy, NULL, MLOPS_ECORRUPT, "truncated");
    ts_write_file(copy, bytes, 60);
    ts_assert_open_refused_untouched(copy, NULL, MLOPS_ECORRUPT, "truncated");
    free(bytes);
}

static void test_damaged_pages_are_found_by_check(void **state)
{
    const char *path = ts_path("damaged.db");
    mlops_db *db;
    size_t len, i;
    char *bytes;
    (void)state;
    create_filled(path, "CREATE TABLE t(x TEXT); CREATE INDEX t_x ON t(x);"
                        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)"
                        " INSERT INTO t SELECT hex(randomblob(20)) FROM n");
    bytes = ts_read_file(path, &len);
    for (i = 4096 * 3; i < len - 4096; i += 97)
        bytes[i] = (char)~bytes[i];
    ts_write_file(path, bytes, len);
    free(bytes);
    db = NULL;
    if (mlops_db_open(&db, path, NULL) == MLOPS_OK) {
        ts_assert_error(mlops_db_check(db), MLOPS_ECORRUPT, NULL);
        mlops_db_close(db);
    } else {
        assert_int_equal(mlops_error_last()->code, MLOPS_ECORRUPT);
    }
}

static void test_foreign_sqlite_database_is_refused_untouched(void **state)
{
    const char *path = ts_path("foreign.db");
    (void)state;
    raw_sql(path, "CREATE TABLE customers(id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'x')");
    ts_assert_open_refused_untouched(path, NULL, MLOPS_ESCHEMA, "not an mlops database");
    assert_int_equal(raw_int(path, "SELECT count(*) FROM customers"), 1);
}

static void test_future_schema_is_refused_untouched(void **state)
{
    const char *path = ts_path("future.db");
    char sql[64];
    mlops_db *db;
    (void)state;
    db = open_ok(path);
    mlops_db_close(db);
    snprintf(sql, sizeof sql, "PRAGMA user_version = %d", mlops_db_schema_version_supported() + 1);
    raw_sql(path, sql);
    raw_sql(path, "PRAGMA wal_checkpoint(TRUNCATE)");
    ts_assert_open_refused_untouched(path, NULL, MLOPS_ESCHEMA, "newer");
    assert_int_equal(raw_int(path, "PRAGMA user_version"), mlops_db_schema_version_supported() + 1);
}

static void test_read_only_handle_refuses_writes(void **state)
{
    const char *path = ts_path("readonly.db");
    mlops_db *db;
    (void)state;
    db = open_ok(path);
    mlops_db_close(db);
    assert_int_equal(mlops_db_open(&db, path, "{\"read_only\": true}"), MLOPS_OK);
    ts_assert_error(mlops__tx_begin(db), MLOPS_ESTATE, "read-only");
    mlops_db_close(db);
}

static void test_transactions_commit_roll_back_and_nest(void **state)
{
    mlops_db *db = open_ok(":memory:");
    mlops__stmt *stmt;
    (void)state;
    assert_int_equal(mlops__db_exec(db, "CREATE TABLE t(x INTEGER UNIQUE)"), MLOPS_OK);
    assert_int_equal(mlops__tx_begin(db), MLOPS_OK);
    assert_int_equal(mlops__db_exec(db, "INSERT INTO t VALUES (1)"), MLOPS_OK);
    assert_int_equal(mlops__tx_begin(db), MLOPS_OK);
    assert_int_equal(mlops__tx_depth(db), 2);
    assert_int_equal(mlops__db_exec(db, "INSERT INTO t VALUES (2)"), MLOPS_OK);
    /* The inner failure rolls back only the inner part and keeps its detail. */
    ts_assert_error(mlops__tx_end(db, mlops__db_exec(db, "INSERT INTO t VALUES (1)")), MLOPS_EEXISTS, "UNIQUE");
    assert_int_equal(mlops__tx_end(db, MLOPS_OK), MLOPS_OK);
    assert_int_equal(mlops__tx_depth(db), 0);
    assert_int_equal(mlops__db_prepare(&stmt, db, "SELECT group_concat(x) FROM t"), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(stmt), MLOPS__ROW);
    assert_string_equal(mlops__stmt_text(stmt, 0), "1");
    mlops__stmt_release(stmt);
    assert_int_equal(mlops__tx_begin(db), MLOPS_OK);
    assert_int_equal(mlops__db_exec(db, "INSERT INTO t VALUES (3)"), MLOPS_OK);
    assert_int_equal(mlops__tx_end(db, MLOPS_EIO), MLOPS_EIO);
    assert_int_equal(mlops__db_prepare(&stmt, db, "SELECT count(*) FROM t"), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(stmt), MLOPS__ROW);
    assert_int_equal(mlops__stmt_int64(stmt, 0), 1);
    mlops__stmt_release(stmt);
    mlops_db_close(db);
}

static void test_statements_bind_read_and_cache(void **state)
{
    mlops_db *db = open_ok(":memory:");
    mlops__stmt *a, *b;
    const char *insert = "INSERT INTO t VALUES (?1, ?2, ?3, ?4, ?5)";
    (void)state;
    assert_int_equal(mlops__db_exec(db, "CREATE TABLE t(i INTEGER, d REAL, s TEXT, b BLOB, n)"), MLOPS_OK);
    assert_int_equal(mlops__db_prepare(&a, db, insert), MLOPS_OK);
    assert_int_equal(mlops__stmt_bind_int64(a, 1, INT64_MIN), MLOPS_OK);
    assert_int_equal(mlops__stmt_bind_double(a, 2, 0.1), MLOPS_OK);
    assert_int_equal(mlops__stmt_bind_text(a, 3, "héllo", strlen("héllo")), MLOPS_OK);
    assert_int_equal(mlops__stmt_bind_blob(a, 4, "\0\1\2", 3), MLOPS_OK);
    assert_int_equal(mlops__stmt_bind_null(a, 5), MLOPS_OK);
    /* The same SQL while the first is in use gets a separate statement. */
    assert_int_equal(mlops__db_prepare(&b, db, insert), MLOPS_OK);
    assert_ptr_not_equal(a, b);
    mlops__stmt_release(b);
    assert_int_equal(mlops__stmt_step(a), MLOPS_DONE);
    assert_int_equal(mlops__db_changes(db), 1);
    assert_int_equal(mlops__db_last_insert_rowid(db), 1);
    mlops__stmt_release(a);
    assert_int_equal(mlops__db_prepare(&b, db, insert), MLOPS_OK);
    assert_ptr_equal(a, b);
    mlops__stmt_release(b);
    ts_assert_error(mlops__stmt_bind_int64(b, 9, 1), MLOPS_EINTERNAL, "binding");
    assert_int_equal(mlops__db_prepare(&a, db, "SELECT i, d, s, b, n FROM t"), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(a), MLOPS__ROW);
    assert_true(mlops__stmt_int64(a, 0) == INT64_MIN);
    assert_true(mlops__stmt_double(a, 1) == 0.1);
    assert_string_equal(mlops__stmt_text(a, 2), "héllo");
    assert_int_equal(mlops__stmt_bytes(a, 3), 3);
    assert_memory_equal(mlops__stmt_blob(a, 3), "\0\1\2", 3);
    assert_true(mlops__stmt_is_null(a, 4));
    assert_false(mlops__stmt_is_null(a, 0));
    assert_int_equal(mlops__stmt_step(a), MLOPS_DONE);
    mlops__stmt_release(a);
    mlops__stmt_release(NULL);
    ts_assert_error(mlops__db_prepare(&a, db, "SELEC nonsense"), MLOPS_EINTERNAL, "syntax error");
    assert_null(a);
    mlops_db_close(db);
}

static void test_audit_append_chains_hashes(void **state)
{
    mlops_db *db = open_ok(":memory:");
    uint8_t prev[MLOPS__SHA256_BYTES] = {0}, expect[MLOPS__SHA256_BYTES];
    mlops__stmt *stmt;
    int rows = 0;
    (void)state;
    ts_assert_error(mlops__audit_append(db, "a", "b", NULL), MLOPS_EINTERNAL, "outside a transaction");
    assert_int_equal(mlops__tx_begin(db), MLOPS_OK);
    assert_int_equal(mlops__audit_append(db, "model.register", "model:fraud/1", "{\"v\":1}"), MLOPS_OK);
    assert_int_equal(mlops__audit_append(db, "alias.set", "model:fraud@prod", NULL), MLOPS_OK);
    assert_int_equal(mlops__tx_end(db, MLOPS_OK), MLOPS_OK);
    assert_int_equal(mlops__db_prepare(&stmt, db,
                                       "SELECT seq, time_us, actor, action, object, details, prev_hash, hash"
                                       " FROM audit_log ORDER BY seq"),
                     MLOPS_OK);
    while (mlops__stmt_step(stmt) == MLOPS__ROW) {
        rows++;
        assert_int_equal(mlops__stmt_int64(stmt, 0), rows);
        assert_memory_equal(mlops__stmt_blob(stmt, 6), prev, sizeof prev);
        mlops__audit_hash(expect, prev, mlops__stmt_int64(stmt, 0), mlops__stmt_int64(stmt, 1),
                          mlops__stmt_text(stmt, 2), mlops__stmt_text(stmt, 3), mlops__stmt_text(stmt, 4),
                          mlops__stmt_text(stmt, 5));
        assert_memory_equal(mlops__stmt_blob(stmt, 7), expect, sizeof expect);
        memcpy(prev, expect, sizeof prev);
    }
    mlops__stmt_release(stmt);
    assert_int_equal(rows, 2);
    /* The log refuses changes even through SQL. */
    ts_assert_error(mlops__db_exec(db, "UPDATE audit_log SET actor = 'mallory'"), MLOPS_ECONFLICT, "cannot be changed");
    ts_assert_error(mlops__db_exec(db, "DELETE FROM audit_log"), MLOPS_ECONFLICT, "cannot be deleted");
    mlops_db_close(db);
}

/* Each process appends `count` rows, one transaction each, numbering them itself. */
static void write_rows(const char *path, int writer, int count)
{
    mlops_db *db = NULL;
    int i;
    if (mlops_db_open(&db, path, "{\"busy_timeout_ms\": 20000}") != MLOPS_OK) {
        fprintf(stderr, "writer: opening the database failed: %s\n", mlops_error_last()->message);
        _exit(10);
    }
    for (i = 0; i < count; i++) {
        mlops__stmt *stmt;
        int rc = mlops__tx_begin(db);
        if (rc == MLOPS_OK)
            rc = mlops__db_prepare(&stmt, db,
                                   "INSERT INTO counter(n, writer) SELECT coalesce(max(n), 0) + 1, ?1 FROM counter");
        if (rc == MLOPS_OK) {
            rc = mlops__stmt_bind_int64(stmt, 1, writer);
            if (rc == MLOPS_OK && mlops__stmt_step(stmt) != MLOPS_DONE)
                rc = MLOPS_EIO;
            mlops__stmt_release(stmt);
            rc = mlops__tx_end(db, rc);
        }
        if (rc != MLOPS_OK)
            _exit(11);
    }
    mlops_db_close(db);
    _exit(0);
}

static void test_two_processes_open_and_write_one_file(void **state)
{
    const char *path = ts_path("shared.db");
    pid_t children[2];
    int i, status;
    (void)state;
    /* Both processes create the file concurrently: migrations must run once. */
    for (i = 0; i < 2; i++) {
        children[i] = fork();
        assert_true(children[i] >= 0);
        if (children[i] == 0) {
            mlops_db *db = NULL;
            if (mlops_db_open(&db, path, "{\"busy_timeout_ms\": 20000}") != MLOPS_OK) {
                fprintf(stderr, "writer: opening the database failed: %s\n", mlops_error_last()->message);
                _exit(10);
            }
            if (mlops__db_exec(db, "CREATE TABLE IF NOT EXISTS counter(n INTEGER UNIQUE NOT NULL, writer INTEGER)"))
                _exit(12);
            mlops_db_close(db);
            write_rows(path, i, 200);
        }
    }
    for (i = 0; i < 2; i++) {
        assert_int_equal(waitpid(children[i], &status, 0), children[i]);
        assert_true(WIFEXITED(status));
        assert_int_equal(WEXITSTATUS(status), 0);
    }
    assert_int_equal(raw_int(path, "SELECT count(*) FROM counter"), 400);
    assert_int_equal(raw_int(path, "SELECT max(n) FROM counter"), 400);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM counter WHERE writer = 0"), 200);
    assert_int_equal(raw_int(path, "SELECT count(*) FROM mlops_meta WHERE key = 'library_version'"), 1);
}

static int open_memory(void *ctx)
{
    return mlops_db_open((mlops_db **)ctx, ":memory:", "{\"actor\": \"alloc-test\"}");
}

static void close_memory(void *ctx)
{
    mlops_db_close(*(mlops_db **)ctx);
    *(mlops_db **)ctx = NULL;
}

static void test_open_survives_every_allocation_failure(void **state)
{
    mlops_db *db = NULL;
    long points;
    (void)state;
    points = ts_each_allocation_failure(open_memory, close_memory, &db);
    assert_true(points >= 3);
    mlops_allocator_set(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_open_creates_wal_database_with_schema),
        cmocka_unit_test(test_open_validates_arguments_and_options),
        cmocka_unit_test(test_missing_file_without_create),
        cmocka_unit_test(test_garbage_file_is_refused_untouched),
        cmocka_unit_test(test_truncated_file_is_refused_untouched),
        cmocka_unit_test(test_damaged_pages_are_found_by_check),
        cmocka_unit_test(test_foreign_sqlite_database_is_refused_untouched),
        cmocka_unit_test(test_future_schema_is_refused_untouched),
        cmocka_unit_test(test_read_only_handle_refuses_writes),
        cmocka_unit_test(test_transactions_commit_roll_back_and_nest),
        cmocka_unit_test(test_statements_bind_read_and_cache),
        cmocka_unit_test(test_audit_append_chains_hashes),
        cmocka_unit_test(test_two_processes_open_and_write_one_file),
        cmocka_unit_test(test_open_survives_every_allocation_failure),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
