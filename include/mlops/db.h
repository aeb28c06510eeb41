/**
 * @file
 * libmlops: the database handle. One SQLite file (WAL mode) holds the
 * registry, the feature store, profiles, runs and the audit log.
 */
#ifndef MLOPS_DB_H
#define MLOPS_DB_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An open database file; opaque. */
typedef struct mlops_db mlops_db;

/**
 * Open (creating if absent) the database at `path` (":memory:" for a private
 * in-memory one) and migrate its schema; close with mlops_db_close().
 * `options_json` may be NULL or an object with keys: "busy_timeout_ms" (int,
 * default 5000), "create" (bool, default true), "read_only" (bool),
 * "synchronous" ("normal" or "full", default "normal"), "actor" (string
 * recorded in the audit log, default $USER). A file that is not an mlops
 * database, is damaged, or has a newer schema is refused (MLOPS_ESCHEMA,
 * MLOPS_ECORRUPT) and left untouched. @thread any
 */
MLOPS_API int mlops_db_open(mlops_db **out, const char *path, const char *options_json);
/** Close `db`, finishing pending statements; NULL is a no-op. @thread handle */
MLOPS_API void mlops_db_close(mlops_db *db);
/** Path the handle was opened with; borrowed until mlops_db_close(). @thread handle */
MLOPS_API const char *mlops_db_path(const mlops_db *db);
/** Schema version of the open database (PRAGMA user_version). @thread handle */
MLOPS_API int mlops_db_schema_version(int32_t *out, mlops_db *db);
/** Newest schema version this library can open. @thread any */
MLOPS_API int32_t mlops_db_schema_version_supported(void);
/** Run SQLite's integrity check; MLOPS_ECORRUPT with the first problem when it fails. @thread handle */
MLOPS_API int mlops_db_check(mlops_db *db);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_DB_H */
