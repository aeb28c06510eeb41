/*
 * Prepared statements with a per-handle cache, parameter binding, stepping
 * and column reading, and transactions.
 */
#include <stdio.h>
#include <string.h>

#include "sqlite_int.h"

int mlops__sqlite_error(mlops_db *db, int sqlite_rc, const char *what)
{
    int code;
    const char *detail = db && db->sqlite ? sqlite3_errmsg(db->sqlite) : sqlite3_errstr(sqlite_rc);
    switch (sqlite_rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED: code = MLOPS_EBUSY; break;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: code = MLOPS_ECORRUPT; break;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM: code = MLOPS_EIO; break;
    case SQLITE_NOMEM: code = MLOPS_ENOMEM; break;
    case SQLITE_CONSTRAINT:
        code = sqlite_rc == SQLITE_CONSTRAINT_UNIQUE || sqlite_rc == SQLITE_CONSTRAINT_PRIMARYKEY
                   ? MLOPS_EEXISTS : MLOPS_ECONFLICT;
        break;
    case SQLITE_TOOBIG: code = MLOPS_ELIMIT; break;
    default: code = MLOPS_EINTERNAL; break;
    }
    return mlops__error_dep(code, "store", sqlite_rc, "%s: %s (SQLite %d)", what, detail, sqlite_rc);
}

int mlops__db_prepare(mlops__stmt **out, mlops_db *db, const char *sql)
{
    uint64_t hash = mlops__hash64(sql, strlen(sql), 0);
    size_t slot = (size_t)(hash % STMT_CACHE_SLOTS);
    mlops__stmt *entry = db->cache[slot];
    int cacheable;
    int rc;

    *out = NULL;
    if (entry && !entry->in_use && entry->hash == hash && strcmp(entry->sql, sql) == 0) {
        entry->in_use = 1;
        *out = entry;
        return MLOPS_OK;
    }
    cacheable = entry == NULL;
    entry = mlops__calloc(1, sizeof *entry);
    if (!entry)
        return mlops__error(MLOPS_ENOMEM, "store", "out of memory preparing a statement");
    entry->sql = mlops__strdup(sql);
    if (!entry->sql) {
        mlops__free(entry);
        return mlops__error(MLOPS_ENOMEM, "store", "out of memory preparing a statement");
    }
    rc = sqlite3_prepare_v3(db->sqlite, sql, -1, cacheable ? SQLITE_PREPARE_PERSISTENT : 0, &entry->stmt, NULL);
    if (rc != SQLITE_OK) {
        int status = mlops__sqlite_error(db, rc, "preparing a statement");
        mlops__free(entry->sql);
        mlops__free(entry);
        return status;
    }
    entry->db = db;
    entry->hash = hash;
    entry->in_use = 1;
    entry->cached = cacheable;
    if (cacheable)
        db->cache[slot] = entry;
    *out = entry;
    return MLOPS_OK;
}

static void stmt_destroy(mlops__stmt *stmt)
{
    sqlite3_finalize(stmt->stmt);
    mlops__free(stmt->sql);
    mlops__free(stmt);
}

void mlops__stmt_release(mlops__stmt *stmt)
{
    if (!stmt)
        return;
    if (!stmt->cached) {
        stmt_destroy(stmt);
        return;
    }
    sqlite3_reset(stmt->stmt);
    sqlite3_clear_bindings(stmt->stmt);
    stmt->in_use = 0;
}

void mlops__stmt_reset(mlops__stmt *stmt)
{
    sqlite3_reset(stmt->stmt);
    sqlite3_clear_bindings(stmt->stmt);
}

void mlops__stmt_cache_clear(mlops_db *db)
{
    size_t i;
    for (i = 0; i < STMT_CACHE_SLOTS; i++) {
        if (db->cache[i]) {
            stmt_destroy(db->cache[i]);
            db->cache[i] = NULL;
        }
    }
}

static int bind_result(mlops__stmt *stmt, int rc, int index)
{
    if (rc == SQLITE_OK)
        return MLOPS_OK;
    return mlops__sqlite_error(stmt->db, rc, index > 0 ? "binding a parameter" : "binding");
}

int mlops__stmt_bind_int64(mlops__stmt *stmt, int index, int64_t value)
{
    return bind_result(stmt, sqlite3_bind_int64(stmt->stmt, index, value), index);
}

int mlops__stmt_bind_double(mlops__stmt *stmt, int index, double value)
{
    return bind_result(stmt, sqlite3_bind_double(stmt->stmt, index, value), index);
}

int mlops__stmt_bind_text(mlops__stmt *stmt, int index, const char *text, size_t len)
{
    return bind_result(stmt, sqlite3_bind_text64(stmt->stmt, index, text, len, SQLITE_TRANSIENT, SQLITE_UTF8),
                       index);
}

int mlops__stmt_bind_blob(mlops__stmt *stmt, int index, const void *data, size_t len)
{
    return bind_result(stmt, sqlite3_bind_blob64(stmt->stmt, index, data ? data : "", len, SQLITE_TRANSIENT),
                       index);
}

int mlops__stmt_bind_null(mlops__stmt *stmt, int index)
{
    return bind_result(stmt, sqlite3_bind_null(stmt->stmt, index), index);
}

int mlops__stmt_bind_zeroblob(mlops__stmt *stmt, int index, int64_t len)
{
    return bind_result(stmt, sqlite3_bind_zeroblob64(stmt->stmt, index, (sqlite3_uint64)len), index);
}

int mlops__stmt_step(mlops__stmt *stmt)
{
    int rc = sqlite3_step(stmt->stmt);
    if (rc == SQLITE_ROW)
        return MLOPS__ROW;
    if (rc == SQLITE_DONE)
        return MLOPS_DONE;
    return mlops__sqlite_error(stmt->db, rc, "running a statement");
}

int mlops__stmt_is_null(mlops__stmt *stmt, int column)
{
    return sqlite3_column_type(stmt->stmt, column) == SQLITE_NULL;
}

int64_t mlops__stmt_int64(mlops__stmt *stmt, int column)
{
    return sqlite3_column_int64(stmt->stmt, column);
}

double mlops__stmt_double(mlops__stmt *stmt, int column)
{
    return sqlite3_column_double(stmt->stmt, column);
}

const char *mlops__stmt_text(mlops__stmt *stmt, int column)
{
    return (const char *)sqlite3_column_text(stmt->stmt, column);
}

const void *mlops__stmt_blob(mlops__stmt *stmt, int column)
{
    return sqlite3_column_blob(stmt->stmt, column);
}

size_t mlops__stmt_bytes(mlops__stmt *stmt, int column)
{
    int n = sqlite3_column_bytes(stmt->stmt, column);
    return n > 0 ? (size_t)n : 0;
}

int mlops__db_exec(mlops_db *db, const char *sql)
{
    int rc = sqlite3_exec(db->sqlite, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return mlops__sqlite_error(db, rc, "executing SQL");
    return MLOPS_OK;
}

int64_t mlops__db_last_insert_rowid(mlops_db *db)
{
    return sqlite3_last_insert_rowid(db->sqlite);
}

int64_t mlops__db_changes(mlops_db *db)
{
    return sqlite3_changes64(db->sqlite);
}

/* Open the outermost transaction with `begin`, or a savepoint inside one. */
static int tx_open(mlops_db *db, const char *begin, const char *what)
{
    char sql[48];
    int rc;
    if (db->tx_depth == 0)
        snprintf(sql, sizeof sql, "%s", begin);
    else
        snprintf(sql, sizeof sql, "SAVEPOINT mlops_sp%d", db->tx_depth);
    rc = sqlite3_exec(db->sqlite, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return mlops__sqlite_error(db, rc, what);
    db->tx_depth++;
    return MLOPS_OK;
}

int mlops__tx_begin(mlops_db *db)
{
    if (db->read_only)
        return mlops__error(MLOPS_ESTATE, "store", "database \"%s\" is open read-only", db->path);
    return tx_open(db, "BEGIN IMMEDIATE", "starting a transaction");
}

int mlops__tx_begin_read(mlops_db *db)
{
    return tx_open(db, "BEGIN DEFERRED", "starting a read transaction");
}

int mlops__tx_end(mlops_db *db, int rc)
{
    char sql[96];
    int src;
    if (db->tx_depth <= 0)
        return rc != MLOPS_OK ? rc : mlops__error(MLOPS_EINTERNAL, "store", "transaction end without begin");
    db->tx_depth--;
    if (rc == MLOPS_OK) {
        if (db->tx_depth == 0)
            snprintf(sql, sizeof sql, "COMMIT");
        else
            snprintf(sql, sizeof sql, "RELEASE mlops_sp%d", db->tx_depth);
        src = sqlite3_exec(db->sqlite, sql, NULL, NULL, NULL);
        if (src == SQLITE_OK)
            return MLOPS_OK;
        rc = mlops__sqlite_error(db, src, "committing a transaction");
    }
    if (db->tx_depth == 0)
        snprintf(sql, sizeof sql, "ROLLBACK");
    else
        snprintf(sql, sizeof sql, "ROLLBACK TO mlops_sp%d; RELEASE mlops_sp%d", db->tx_depth, db->tx_depth);
    sqlite3_exec(db->sqlite, sql, NULL, NULL, NULL);
    return rc;
}

int mlops__tx_depth(const mlops_db *db)
{
    return db->tx_depth;
}
