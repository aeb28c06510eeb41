/*
 * Definitions shared by the files of src/store only: the handle's layout and
 * the translation of SQLite result codes into library statuses.
 */
#ifndef MLOPS_SQLITE_INT_H
#define MLOPS_SQLITE_INT_H

#include <sqlite3.h>

#include "store_int.h"

#define STMT_CACHE_SLOTS 256

struct mlops__stmt {
    sqlite3_stmt *stmt;
    mlops_db *db;
    char *sql;          /* owned copy, the cache key */
    uint64_t hash;
    int in_use;
    int cached;         /* 0: finalized on release */
};

struct mlops_db {
    sqlite3 *sqlite;
    char *path;
    char *actor;
    int memory;
    int read_only;
    int tx_depth;
    mlops__stmt *cache[STMT_CACHE_SLOTS];
};

/* Translate a failed SQLite call into a status with `what` and SQLite's message. */
int mlops__sqlite_error(mlops_db *db, int sqlite_rc, const char *what);
/* Finalize every cached statement (before closing). */
void mlops__stmt_cache_clear(mlops_db *db);
/* Schema migrations: bring the open database to the newest version. */
int mlops__schema_migrate(mlops_db *db);
/* The schema version this library writes. */
int32_t mlops__schema_latest(void);

#endif /* MLOPS_SQLITE_INT_H */
