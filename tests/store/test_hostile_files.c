/*
 * Database files damaged or crafted by someone else: each is refused with a
 * status and a message naming the problem, and left byte for byte untouched.
 */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static void raw_sql(const char *path, const char *sql)
{
    sqlite3 *raw = NULL;
    char *message = NULL;
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    if (sqlite3_exec(raw, sql, NULL, NULL, &message) != SQLITE_OK)
        fail_msg("raw SQL failed: %s", message);
    sqlite3_close(raw);
}

static void create_db(const char *path)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, path, NULL), MLOPS_OK);
    mlops_db_close(db);
    /* Checkpoint into the main file so its bytes alone are the database. */
    raw_sql(path, "PRAGMA journal_mode=DELETE");
}

/* A negative user_version used to index the migration list out of bounds. */
static void test_negative_schema_version_is_refused(void **state)
{
    const char *path = ts_path("negative.db");
    (void)state;
    create_db(path);
    raw_sql(path, "PRAGMA user_version = -520093695");
    ts_assert_open_refused_untouched(path, NULL, MLOPS_ECORRUPT, "invalid schema version -520093695");
    ts_assert_open_refused_untouched(path, "{\"read_only\": true}", MLOPS_ECORRUPT, "invalid schema version");
    raw_sql(path, "PRAGMA user_version = -1");
    ts_assert_open_refused_untouched(path, NULL, MLOPS_ECORRUPT, "invalid schema version -1");
}

/*
 * A main file shorter than its header says is opened when a WAL lies beside
 * it (an interrupted checkpoint leaves exactly that, and the WAL completes
 * it). When the WAL cannot complete it, the open reports the damage.
 */
static void test_truncated_file_with_useless_wal_is_reported(void **state)
{
    const char *path = ts_path("short.db");
    char wal[4200];
    mlops_db *db = NULL;
    size_t len;
    char *bytes;
    (void)state;
    create_db(path);
    raw_sql(path, "CREATE TABLE filler(x); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)"
                  " INSERT INTO filler SELECT randomblob(200) FROM n;");
    bytes = ts_read_file(path, &len);
    assert_true(len > 3 * 4096);
    ts_write_file(path, bytes, 2 * 4096);
    snprintf(wal, sizeof wal, "%s-wal", path);
    ts_write_file(wal, bytes, 32);  /* not a WAL header: SQLite ignores the file */
    ts_assert_error(mlops_db_open(&db, path, NULL), MLOPS_ECORRUPT, "malformed");
    assert_null(db);
    free(bytes);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negative_schema_version_is_refused),
        cmocka_unit_test(test_truncated_file_with_useless_wal_is_reported),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
