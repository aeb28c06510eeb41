/*
 * Numbered schema migrations. Version N of the schema is reached by running
 * migrations 1..N in order, each once, inside one write transaction; the
 * version is kept in PRAGMA user_version. A released migration never changes:
 * a later change is a new migration appended to the list.
 */
#include <stdio.h>

#include "sqlite_int.h"

#define MLOPS_APPLICATION_ID_SQL "PRAGMA application_id = 1296846672" /* 0x4D4C4F50, "MLOP" */

/* 1: library metadata and the tamper-evident audit chain shared by all subsystems. */
static const char migration_core[] =
    "CREATE TABLE mlops_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  details TEXT NOT NULL,"
    "  prev_hash BLOB NOT NULL,"
    "  hash BLOB NOT NULL"
    ") STRICT;"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;";

/* 2: drift: live profiles per stream and time window (serialized profile bytes, merged on every put). */
static const char migration_drift_windows[] =
    "CREATE TABLE drift_windows ("
    "  stream TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  profile BLOB NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY (stream, start_us),"
    "  CHECK (end_us > start_us)"
    ") STRICT;";

static const char *const migrations[] = {
    migration_core,
    migration_drift_windows,
};

#define MIGRATION_COUNT ((int32_t)(sizeof migrations / sizeof migrations[0]))

int32_t mlops__schema_latest(void)
{
    return MIGRATION_COUNT;
}

static int read_version(int64_t *out, mlops_db *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->sqlite, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK ? MLOPS_OK : mlops__sqlite_error(db, rc, "reading the schema version");
}

int mlops__schema_migrate(mlops_db *db)
{
    int64_t version = 0;
    char sql[128];
    int rc;

    if ((rc = read_version(&version, db)))
        return rc;
    if (version == MIGRATION_COUNT)
        return MLOPS_OK;
    /* Another process may migrate at the same moment: decide again under the write lock. */
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = read_version(&version, db)))
        return mlops__tx_end(db, rc);
    if (version > MIGRATION_COUNT)
        return mlops__tx_end(db, mlops__error(MLOPS_ESCHEMA, "store",
                                              "database \"%s\" has schema version %lld; this library supports up to %d",
                                              db->path, (long long)version, MIGRATION_COUNT));
    for (; rc == MLOPS_OK && version < MIGRATION_COUNT; version++) {
        rc = mlops__db_exec(db, migrations[version]);
        if (rc)
            mlops__error_prefix("schema migration %lld", (long long)version + 1);
    }
    if (rc == MLOPS_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d; " MLOPS_APPLICATION_ID_SQL, MIGRATION_COUNT);
        rc = mlops__db_exec(db, sql);
    }
    if (rc == MLOPS_OK)
        rc = mlops__db_exec(db, "INSERT OR REPLACE INTO mlops_meta(key, value) VALUES ('library_version', '"
                                MLOPS_VERSION_STRING "')");
    return mlops__tx_end(db, rc);
}
