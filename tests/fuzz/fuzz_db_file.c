/*
 * Opening a database file whose bytes came from outside: the input is written
 * to a scratch file, opened read-only and read-write, checked, read and
 * written to. Every step either works or fails with a status and a message;
 * none may crash, hang or leak.
 */
#include "store/store_int.h"
#include "fuzz_common.h"

/* Step `sql` to its end, reading every column of every row. */
static void read_all(mlops_db *db, const char *sql)
{
    mlops__stmt *stmt = NULL;
    int rc = mlops__db_prepare(&stmt, db, sql);
    if (rc) {
        FUZZ_CHECK_FAILURE(rc);
        return;
    }
    while ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        (void)mlops__stmt_int64(stmt, 0);
        (void)mlops__stmt_text(stmt, 1);
        (void)mlops__stmt_bytes(stmt, 1);
    }
    if (rc != MLOPS_DONE)
        FUZZ_CHECK_FAILURE(rc);
    mlops__stmt_release(stmt);
}

static void exercise(mlops_db *db, int writable)
{
    int32_t version = 0;
    int rc = mlops_db_check(db);
    if (rc)
        FUZZ_CHECK_FAILURE(rc);
    rc = mlops_db_schema_version(&version, db);
    if (rc)
        FUZZ_CHECK_FAILURE(rc);
    read_all(db, "SELECT seq, actor, action, object, details, hash FROM audit_log ORDER BY seq");
    read_all(db, "SELECT count(*), max(value) FROM mlops_meta");
    if (!writable)
        return;
    rc = mlops__tx_begin(db);
    if (rc == MLOPS_OK) {
        rc = mlops__audit_append(db, "fuzz.write", "file:fuzz", "{\"n\":1}");
        rc = mlops__tx_end(db, rc);
    }
    if (rc)
        FUZZ_CHECK_FAILURE(rc);
    FUZZ_CHECK(mlops__tx_depth(db) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const options[] = {"{\"read_only\":true,\"busy_timeout_ms\":0}",
                                          "{\"busy_timeout_ms\":0,\"create\":false}"};
    const char *path = fuzz_scratch_file("input.db");
    size_t i;

    for (i = 0; i < sizeof options / sizeof options[0]; i++) {
        mlops_db *db = NULL;
        int rc;
        fuzz_remove_file(path);
        fuzz_write_file(path, data, size);
        rc = mlops_db_open(&db, path, options[i]);
        if (rc == MLOPS_OK) {
            exercise(db, i == 1);
            mlops_db_close(db);
        } else {
            FUZZ_CHECK_FAILURE(rc);
            FUZZ_CHECK(db == NULL);
        }
    }
    fuzz_remove_file(path);
    return 0;
}
