/*
 * Private storage services: the only door to SQLite. Subsystems prepare
 * statements, bind, step and read columns through these functions, run
 * their multi-row changes inside mlops__tx_begin()/mlops__tx_end(), and
 * append to the audit chain. No SQLite type crosses this header.
 */
#ifndef MLOPS_STORE_INT_H
#define MLOPS_STORE_INT_H

#include "mlops/db.h"
#include "../core/core_int.h"

/* mlops__stmt_step() result when a row is ready (never returned publicly). */
#define MLOPS__ROW 100

typedef struct mlops__stmt mlops__stmt;

/*
 * Prepare `sql` on `db`, reusing a cached compiled statement when one is
 * free. Every prepared statement goes back with mlops__stmt_release(), on
 * every path, which resets it and clears its bindings.
 */
int mlops__db_prepare(mlops__stmt **out, mlops_db *db, const char *sql);
void mlops__stmt_release(mlops__stmt *stmt);
/* Reset a held statement for another run with new bindings (earlier bindings are cleared). */
void mlops__stmt_reset(mlops__stmt *stmt);

/* Bind parameter `index` (1-based). Text and blobs are copied by SQLite. */
int mlops__stmt_bind_int64(mlops__stmt *stmt, int index, int64_t value);
int mlops__stmt_bind_double(mlops__stmt *stmt, int index, double value);
int mlops__stmt_bind_text(mlops__stmt *stmt, int index, const char *text, size_t len);
int mlops__stmt_bind_blob(mlops__stmt *stmt, int index, const void *data, size_t len);
int mlops__stmt_bind_null(mlops__stmt *stmt, int index);
/* Bind a zero-filled blob of `len` bytes (to be filled with incremental blob I/O). */
int mlops__stmt_bind_zeroblob(mlops__stmt *stmt, int index, int64_t len);

/* Run one step: MLOPS__ROW, MLOPS_DONE, or an error status with the detail set. */
int mlops__stmt_step(mlops__stmt *stmt);
/* Column readers for the current row (0-based). Text and blobs are borrowed until the next step. */
int mlops__stmt_is_null(mlops__stmt *stmt, int column);
int64_t mlops__stmt_int64(mlops__stmt *stmt, int column);
double mlops__stmt_double(mlops__stmt *stmt, int column);
const char *mlops__stmt_text(mlops__stmt *stmt, int column);
const void *mlops__stmt_blob(mlops__stmt *stmt, int column);
size_t mlops__stmt_bytes(mlops__stmt *stmt, int column);

/* Run one or more SQL statements that return no rows. */
int mlops__db_exec(mlops_db *db, const char *sql);
int64_t mlops__db_last_insert_rowid(mlops_db *db);
int64_t mlops__db_changes(mlops_db *db);

/*
 * Transactions. The outermost begin takes the write lock at once (BEGIN
 * IMMEDIATE, waiting up to the busy timeout); nested ones are savepoints.
 * mlops__tx_end(db, rc) commits when rc is MLOPS_OK and rolls back
 * otherwise, returning rc or the commit's failure; rollback never replaces
 * the error detail of the failure that caused it.
 */
int mlops__tx_begin(mlops_db *db);
int mlops__tx_end(mlops_db *db, int rc);
/*
 * A read transaction (BEGIN DEFERRED; a savepoint when nested), ended with
 * mlops__tx_end(): several statements see one snapshot and take the
 * file's read locks once. Allowed on read-only handles; nothing inside it
 * may write.
 */
int mlops__tx_begin_read(mlops_db *db);
/* Depth of the open transaction (0 when none). */
int mlops__tx_depth(const mlops_db *db);

/* The actor recorded in the audit log for changes made through `db`. */
const char *mlops__db_actor(const mlops_db *db);
/* 1 when the database is an in-memory one. */
int mlops__db_is_memory(const mlops_db *db);
/* 1 when the handle was opened read-only. */
int mlops__db_is_read_only(const mlops_db *db);
/* Changes to the file committed by other connections since the last call show as a new value. */
int mlops__db_data_version(int64_t *out, mlops_db *db);

/*
 * Append an entry to the audit chain inside the caller's transaction:
 * time, actor, action ("model.register"), object ("model:fraud/3") and
 * details (a JSON document, "{}" when empty).
 */
int mlops__audit_append(mlops_db *db, const char *action, const char *object, const char *details_json);
/*
 * The chain hash of one entry: SHA-256 over the previous entry's hash and the
 * entry's fields, each length-prefixed. Shared by append and verification.
 */
void mlops__audit_hash(uint8_t out[MLOPS__SHA256_BYTES], const uint8_t prev[MLOPS__SHA256_BYTES], int64_t seq,
                       int64_t time_us, const char *actor, const char *action, const char *object,
                       const char *details);

#endif /* MLOPS_STORE_INT_H */
