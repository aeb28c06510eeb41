/*
 * Shared fixtures of the feature store suites: a scratch database with a
 * "customer" entity and a "txn" view, and small frame builders.
 */
#ifndef FS_FIXTURE_H
#define FS_FIXTURE_H

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test_support.h"
#include "store/store_int.h"

#define CUSTOMER_JSON "{\"name\":\"customer\",\"keys\":[{\"name\":\"customer_id\",\"type\":\"int64\"}]}"

/* amount: float64 0..1000 finite not null; category: a|b|c, at most 8 bytes; count: int64 >= 0; flag; emb: 3-vector. */
#define TXN_JSON                                                                                          \
    "{\"name\":\"txn\",\"entity\":\"customer\",\"ttl_us\":0,\"features\":["                               \
    "{\"name\":\"amount\",\"type\":\"float64\",\"contract\":{\"not_null\":true,\"min\":0,\"max\":1000,"  \
    "\"finite\":true}},"                                                                                  \
    "{\"name\":\"category\",\"type\":\"string\",\"contract\":{\"allowed\":[\"a\",\"b\",\"c\",\"dddddddddd\"]," \
    "\"max_length\":8}},"                                                                                 \
    "{\"name\":\"count\",\"type\":\"int64\",\"contract\":{\"min\":0}},"                                   \
    "{\"name\":\"flag\",\"type\":\"bool\"},"                                                              \
    "{\"name\":\"emb\",\"type\":\"f32vec\",\"dim\":3,\"contract\":{\"finite\":true}}]}"

static inline mlops_db *fx_open(const char *name)
{
    mlops_db *db = NULL;
    char path[512];
    snprintf(path, sizeof path, "%s", ts_path(name));
    assert_int_equal(mlops_db_open(&db, path, NULL), MLOPS_OK);
    return db;
}

static inline mlops_db *fx_open_txn(const char *name)
{
    mlops_db *db = fx_open(name);
    int32_t version = 0;
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_view_define(&version, db, TXN_JSON, 0), MLOPS_OK);
    assert_int_equal(version, 1);
    return db;
}

/* A frame of customer_id + event_time + amount (NaN = null) rows. */
static inline mlops_frame *fx_amounts(size_t rows, const int64_t *ids, const int64_t *times, const double *amounts)
{
    mlops_frame *frame = NULL;
    uint8_t nulls[4096];
    size_t i;
    assert_true(rows <= sizeof nulls);
    for (i = 0; i < rows; i++)
        nulls[i] = isnan(amounts[i]) ? 1 : 0;
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", times, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "amount", amounts, nulls, rows), MLOPS_OK);
    return frame;
}

/* A full txn frame of `rows` rows, keys from `first_id` on, event times from 1000 on; every row valid. */
static inline mlops_frame *fx_txn_frame(size_t rows, int64_t first_id)
{
    mlops_frame *frame = NULL;
    int64_t ids[64], times[64], counts[64];
    double amounts[64];
    uint8_t flags[64];
    float emb[64 * 3];
    const char *cats[64];
    size_t i;
    assert_true(rows <= 64);
    for (i = 0; i < rows; i++) {
        ids[i] = first_id + (int64_t)i;
        times[i] = 1000 + (int64_t)i;
        counts[i] = (int64_t)i;
        amounts[i] = 10.5 + (double)i;
        flags[i] = (uint8_t)(i & 1);
        emb[3 * i] = (float)i;
        emb[3 * i + 1] = 0.5f;
        emb[3 * i + 2] = -1.0f;
        cats[i] = i % 2 ? "a" : "b";
    }
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", times, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "amount", amounts, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "category", cats, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "count", counts, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_bool(frame, "flag", flags, NULL, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_f32vec(frame, "emb", 3, emb, NULL, rows), MLOPS_OK);
    return frame;
}

static inline mlops_frame *fx_keys(size_t rows, const int64_t *ids)
{
    mlops_frame *frame = NULL;
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, rows), MLOPS_OK);
    return frame;
}

static inline int64_t fx_count(mlops_db *db, const char *sql)
{
    mlops__stmt *stmt = NULL;
    int64_t n = -1;
    assert_int_equal(mlops__db_prepare(&stmt, db, sql), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(stmt), MLOPS__ROW);
    n = mlops__stmt_int64(stmt, 0);
    mlops__stmt_release(stmt);
    return n;
}

/* Read a FLOAT64 cell, NaN for null. */
static inline double fx_f64(const mlops_frame *frame, const char *column, size_t row)
{
    size_t col = 0;
    double v = 0;
    assert_int_equal(mlops_frame_column_index(&col, frame, column), MLOPS_OK);
    mlops_frame_get_float64(&v, frame, col, row);
    return v;
}

/* Read an INT64 cell; `null_out` gets 1 for a null. */
static inline int64_t fx_i64(int *null_out, const mlops_frame *frame, const char *column, size_t row)
{
    size_t col = 0;
    int64_t v = 0;
    assert_int_equal(mlops_frame_column_index(&col, frame, column), MLOPS_OK);
    *null_out = mlops_frame_get_int64(&v, frame, col, row) == MLOPS_NULL;
    return v;
}

#endif /* FS_FIXTURE_H */
