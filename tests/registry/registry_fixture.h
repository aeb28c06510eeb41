/*
 * Helpers shared by the registry test programs: databases in the scratch
 * directory, deterministic artifact bytes, raw SQLite access for tampering
 * and JSON inspection of listings.
 */
#ifndef MLOPS_REGISTRY_FIXTURE_H
#define MLOPS_REGISTRY_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "test_support.h"

/* Smaller big-artifact sizes under the sanitizers keep the suite fast. */
#if defined(__SANITIZE_ADDRESS__)
#  define RT_BIG_BYTES ((size_t)8 << 20)
#else
#  define RT_BIG_BYTES ((size_t)64 << 20)
#endif

static inline mlops_db *rt_open(const char *name)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, ts_path(name), "{\"busy_timeout_ms\": 60000, \"actor\": \"alice\"}"),
                     MLOPS_OK);
    return db;
}

static inline mlops_db *rt_open_as(const char *name, const char *actor)
{
    char options[128];
    mlops_db *db = NULL;
    snprintf(options, sizeof options, "{\"busy_timeout_ms\": 60000, \"actor\": \"%s\"}", actor);
    assert_int_equal(mlops_db_open(&db, ts_path(name), options), MLOPS_OK);
    return db;
}

/* Deterministic, poorly compressible bytes (xorshift), different per seed. */
static inline void rt_fill(uint8_t *data, size_t len, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 1;
    size_t i;
    for (i = 0; i < len; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        data[i] = (uint8_t)(i % 7 == 0 ? 0 : x); /* some redundancy so zstd has work */
    }
}

static inline int64_t rt_register(mlops_db *db, const char *model, uint64_t seed, size_t len, const char *options)
{
    uint8_t *data = malloc(len ? len : 1);
    int64_t version = 0;
    assert_non_null(data);
    rt_fill(data, len, seed);
    assert_int_equal(mlops_version_register(&version, db, model, data, len, options), MLOPS_OK);
    free(data);
    return version;
}

/* Run SQL on the database file through a separate raw SQLite connection. */
static inline void rt_sql(const char *name, const char *sql)
{
    sqlite3 *raw = NULL;
    char *err = NULL;
    assert_int_equal(sqlite3_open(ts_path(name), &raw), SQLITE_OK);
    sqlite3_busy_timeout(raw, 10000);
    if (sqlite3_exec(raw, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("SQL failed: %s: %s", sql, err);
    sqlite3_close(raw);
}

static inline long long rt_sql_int(const char *name, const char *sql)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *stmt = NULL;
    long long value = -1;
    assert_int_equal(sqlite3_open(ts_path(name), &raw), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL), SQLITE_OK);
    if (sqlite3_step(stmt) == SQLITE_ROW)
        value = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(raw);
    return value;
}

/* Flip one byte (at `offset`) of the blob in `column` of the row `where` selects in `table`. */
static inline void rt_flip(const char *name, const char *table, const char *column, const char *where, int offset)
{
    sqlite3 *raw = NULL;
    sqlite3_stmt *stmt = NULL;
    char sql[512];
    unsigned char *copy;
    int len;
    assert_int_equal(sqlite3_open(ts_path(name), &raw), SQLITE_OK);
    snprintf(sql, sizeof sql, "SELECT rowid, %s FROM %s WHERE %s", column, table, where);
    assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    long long rowid = sqlite3_column_int64(stmt, 0);
    len = sqlite3_column_bytes(stmt, 1);
    assert_true(offset < len);
    copy = malloc((size_t)len);
    memcpy(copy, sqlite3_column_blob(stmt, 1), (size_t)len);
    sqlite3_finalize(stmt);
    copy[offset] ^= 0x5a;
    snprintf(sql, sizeof sql, "UPDATE %s SET %s = ?1 WHERE rowid = ?2", table, column);
    assert_int_equal(sqlite3_prepare_v2(raw, sql, -1, &stmt, NULL), SQLITE_OK);
    sqlite3_bind_blob(stmt, 1, copy, len, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, rowid);
    assert_int_equal(sqlite3_step(stmt), SQLITE_DONE);
    sqlite3_finalize(stmt);
    free(copy);
    sqlite3_close(raw);
}

/* Parse JSON returned by the library (and free it). */
static inline cJSON *rt_json(char *text)
{
    cJSON *doc;
    assert_non_null(text);
    doc = cJSON_Parse(text);
    if (!doc)
        fail_msg("library returned invalid JSON: %s", text);
    mlops_free(text);
    return doc;
}

static inline double rt_num(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);
    assert_non_null(item);
    return item->valuedouble;
}

#endif /* MLOPS_REGISTRY_FIXTURE_H */
