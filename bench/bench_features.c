/*
 * Feature store benchmark against raw SQLite doing the same access pattern
 * with prepared statements, in the same run, on the same machine:
 *   ingest      rows/s, ROWS rows x 16 float64 features in batches of 100k
 *               (raw: INSERT into a WITHOUT ROWID (key, event_time) table
 *               with 16 REAL columns, same batches, one transaction each)
 *   online      lookups/s and p50/p99 latency over KEYS keys, single key and
 *               batches of 100 into a float32 matrix (raw: SELECT of the 16
 *               columns from a latest-row table by integer primary key)
 *   join        point-in-time join of QUERIES entity rows over 3 views
 *               (raw: a loop of as-of lookups, one per row and view)
 * Prints "name value" lines; bench/run_features.sh takes medians.
 *
 *   bench_features DIR [ROWS KEYS QUERIES]
 */
#include <math.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mlops.h"

#include "bench_clock.h"

#define FEATURES 16
#define BATCH 100000
#define SMALL_FEATURES 4

static size_t rows_total = 1000000, keys_total = 100000, queries_total = 1000000;
static uint64_t rng_state = 88172645463325252u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static void die(const char *what, int rc)
{
    fprintf(stderr, "%s failed: %d %s\n", what, rc, mlops_error_last()->message);
    exit(1);
}

static void check_sqlite(sqlite3 *db, int rc, const char *what)
{
    if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) {
        fprintf(stderr, "%s: %s\n", what, sqlite3_errmsg(db));
        exit(1);
    }
}

/* Row i of a view: key i % keys, event time (i / keys) * 1000 + jitter, values from i. */
static int64_t row_key(size_t i) { return (int64_t)(i % keys_total); }
static int64_t row_time(size_t i) { return (int64_t)(i / keys_total) * 1000 + (int64_t)(i % 7); }
static double row_value(size_t i, int f) { return (double)((i * 31 + (size_t)f * 17) % 1000) / 8.0; }

static char feature_name[FEATURES][8];

static mlops_frame *batch_frame(size_t first, size_t count, int features)
{
    mlops_frame *frame = NULL;
    int64_t *keys = malloc(count * sizeof *keys), *times = malloc(count * sizeof *times);
    double *values = malloc(count * sizeof *values);
    size_t i;
    int f;
    if (mlops_frame_new(&frame))
        die("frame", -1);
    for (i = 0; i < count; i++) {
        keys[i] = row_key(first + i);
        times[i] = row_time(first + i);
    }
    mlops_frame_add_int64(frame, "id", keys, NULL, count);
    mlops_frame_add_int64(frame, "event_time", times, NULL, count);
    for (f = 0; f < features; f++) {
        for (i = 0; i < count; i++)
            values[i] = row_value(first + i, f);
        mlops_frame_add_float64(frame, feature_name[f], values, NULL, count);
    }
    free(keys);
    free(times);
    free(values);
    return frame;
}

static void define_views(mlops_db *db)
{
    char json[4096];
    size_t len;
    int f, v, rc;
    if ((rc = mlops_entity_define(db, "{\"name\":\"account\",\"keys\":[{\"name\":\"id\",\"type\":\"int64\"}]}")))
        die("entity", rc);
    for (v = 0; v < 3; v++) {
        int n = v == 0 ? FEATURES : SMALL_FEATURES;
        len = (size_t)snprintf(json, sizeof json, "{\"name\":\"v%d\",\"entity\":\"account\",\"features\":[", v);
        for (f = 0; f < n; f++)
            len += (size_t)snprintf(json + len, sizeof json - len,
                                    "%s{\"name\":\"%s\",\"type\":\"float64\",\"contract\":{\"min\":0,\"max\":1000,"
                                    "\"finite\":true}}", f ? "," : "", feature_name[f]);
        snprintf(json + len, sizeof json - len, "]}");
        if ((rc = mlops_view_define(NULL, db, json, 0)))
            die("view", rc);
    }
}

/* ---- raw SQLite peer ---- */

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    char sql[2048];
    size_t len;
    int v, f;
    unlink(path);
    check_sqlite(db, sqlite3_open(path, &db), "open");
    check_sqlite(db, sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL", NULL, NULL, NULL), "pragma");
    for (v = 0; v < 3; v++) {
        int n = v == 0 ? FEATURES : SMALL_FEATURES;
        len = (size_t)snprintf(sql, sizeof sql, "CREATE TABLE raw%d (key INTEGER, event_time INTEGER", v);
        for (f = 0; f < n; f++)
            len += (size_t)snprintf(sql + len, sizeof sql - len, ", %s REAL", feature_name[f]);
        snprintf(sql + len, sizeof sql - len, ", PRIMARY KEY (key, event_time)) WITHOUT ROWID");
        check_sqlite(db, sqlite3_exec(db, sql, NULL, NULL, NULL), "create");
    }
    return db;
}

static double raw_ingest(sqlite3 *db, int v)
{
    sqlite3_stmt *stmt = NULL;
    char sql[1024];
    size_t len, i, b;
    int n = v == 0 ? FEATURES : SMALL_FEATURES, f;
    double start;
    len = (size_t)snprintf(sql, sizeof sql, "INSERT INTO raw%d VALUES (?, ?", v);
    for (f = 0; f < n; f++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, ", ?");
    snprintf(sql + len, sizeof sql - len, ")");
    check_sqlite(db, sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), "prepare insert");
    start = now_s();
    for (b = 0; b < rows_total; b += BATCH) {
        check_sqlite(db, sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL), "begin");
        for (i = b; i < b + BATCH && i < rows_total; i++) {
            sqlite3_bind_int64(stmt, 1, row_key(i));
            sqlite3_bind_int64(stmt, 2, row_time(i));
            for (f = 0; f < n; f++)
                sqlite3_bind_double(stmt, 3 + f, row_value(i, f));
            check_sqlite(db, sqlite3_step(stmt), "insert");
            sqlite3_reset(stmt);
        }
        check_sqlite(db, sqlite3_exec(db, "COMMIT", NULL, NULL, NULL), "commit");
    }
    sqlite3_finalize(stmt);
    return now_s() - start;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static void report_latency(const char *name, double *lat, size_t n, double total)
{
    qsort(lat, n, sizeof *lat, cmp_double);
    printf("%s_per_s %.0f\n", name, (double)n / total);
    printf("%s_p50_us %.2f\n", name, lat[n / 2] * 1e6);
    printf("%s_p99_us %.2f\n", name, lat[(size_t)((double)n * 0.99)] * 1e6);
}

#define LOOKUPS 200000

static void raw_lookups(sqlite3 *db, int batch)
{
    sqlite3_stmt *stmt = NULL;
    char sql[1024];
    size_t len, i, calls = LOOKUPS / (size_t)batch;
    float out[100 * FEATURES];
    double *lat = malloc(calls * sizeof *lat), total = 0, sink = 0;
    int f, k;
    len = (size_t)snprintf(sql, sizeof sql, "SELECT ");
    for (f = 0; f < FEATURES; f++)
        len += (size_t)snprintf(sql + len, sizeof sql - len, "%s%s", f ? ", " : "", feature_name[f]);
    snprintf(sql + len, sizeof sql - len, " FROM raw_latest WHERE key = ?");
    check_sqlite(db, sqlite3_prepare_v2(db, sql, -1, &stmt, NULL), "prepare lookup");
    for (i = 0; i < calls; i++) {
        double t0 = now_s(), dt;
        for (k = 0; k < batch; k++) {
            sqlite3_bind_int64(stmt, 1, (int64_t)(rng() % keys_total));
            if (sqlite3_step(stmt) == SQLITE_ROW)
                for (f = 0; f < FEATURES; f++)
                    out[k * FEATURES + f] = (float)sqlite3_column_double(stmt, f);
            sqlite3_reset(stmt);
        }
        dt = now_s() - t0;
        lat[i] = dt;
        total += dt;
        sink += out[0];
    }
    sqlite3_finalize(stmt);
    report_latency(batch == 1 ? "raw_lookup_single" : "raw_lookup_batch100", lat, calls, total);
    if (batch > 1)
        printf("raw_lookup_batch100_keys_per_s %.0f\n", (double)LOOKUPS / total);
    free(lat);
    if (sink < 0)
        printf("sink %g\n", sink);
}

static void lib_lookups(mlops_db *db, int batch)
{
    mlops_online_reader *reader = NULL;
    mlops_frame *keys = NULL;
    const char *names[FEATURES];
    int64_t zeros[100] = {0};
    float out[100 * FEATURES];
    size_t i, calls = LOOKUPS / (size_t)batch;
    double *lat = malloc(calls * sizeof *lat), total = 0, sink = 0;
    int f, k, rc;
    for (f = 0; f < FEATURES; f++)
        names[f] = feature_name[f];
    if ((rc = mlops_online_reader_open(&reader, db, "v0", names, FEATURES, NULL)))
        die("reader", rc);
    mlops_frame_new(&keys);
    mlops_frame_add_int64(keys, "id", zeros, NULL, (size_t)batch);
    /* Warm-up: the reader's key buffer and the statement cache. */
    mlops_online_reader_read(out, sizeof out / sizeof out[0], reader, keys, MLOPS_TIME_UNSET);
    for (i = 0; i < calls; i++) {
        double t0 = now_s(), dt;
        for (k = 0; k < batch; k++)
            mlops_frame_set_int64(keys, 0, (size_t)k, (int64_t)(rng() % keys_total));
        if ((rc = mlops_online_reader_read(out, sizeof out / sizeof out[0], reader, keys, MLOPS_TIME_UNSET)))
            die("read", rc);
        dt = now_s() - t0;
        lat[i] = dt;
        total += dt;
        sink += out[0];
    }
    report_latency(batch == 1 ? "lib_lookup_single" : "lib_lookup_batch100", lat, calls, total);
    if (batch > 1)
        printf("lib_lookup_batch100_keys_per_s %.0f\n", (double)LOOKUPS / total);
    mlops_frame_free(keys);
    mlops_online_reader_free(reader);
    free(lat);
    if (sink < 0)
        printf("sink %g\n", sink);
}

/* Entity rows: random keys, timestamps spread over the history's time range (some before any row). */
static void make_queries(int64_t *keys, int64_t *ts)
{
    int64_t span = (int64_t)(rows_total / keys_total) * 1000 + 1000;
    size_t i;
    for (i = 0; i < queries_total; i++) {
        keys[i] = (int64_t)(rng() % keys_total);
        ts[i] = (int64_t)(rng() % (uint64_t)span) - 500;
    }
}

static const char *const join_refs[] = {"v0:f0", "v0:f1", "v1:f0", "v1:f1", "v2:f0", "v2:f1"};

static double lib_join(mlops_db *db, const int64_t *keys, const int64_t *ts, double *checksum)
{
    mlops_frame *entities = NULL, *out = NULL;
    double start, elapsed, sum = 0;
    const double *col;
    size_t i, c;
    int rc;
    mlops_frame_new(&entities);
    mlops_frame_add_int64(entities, "id", keys, NULL, queries_total);
    mlops_frame_add_int64(entities, "timestamp", ts, NULL, queries_total);
    start = now_s();
    if ((rc = mlops_features_join(&out, db, entities, join_refs, 6, NULL)))
        die("join", rc);
    elapsed = now_s() - start;
    for (c = 2; c < 8; c++) {
        mlops_frame_column_float64(&col, out, c);
        for (i = 0; i < queries_total; i++)
            if (!isnan(col[i]))
                sum += col[i];
    }
    *checksum = sum;
    mlops_frame_free(out);
    mlops_frame_free(entities);
    return elapsed;
}

static double raw_join_loop(sqlite3 *db, const int64_t *keys, const int64_t *ts, double *checksum)
{
    sqlite3_stmt *stmt[3];
    double start, elapsed, sum = 0;
    size_t i;
    int v;
    for (v = 0; v < 3; v++) {
        char sql[256];
        snprintf(sql, sizeof sql, "SELECT f0, f1 FROM raw%d WHERE key = ?1 AND event_time <= ?2 "
                                  "ORDER BY event_time DESC LIMIT 1", v);
        check_sqlite(db, sqlite3_prepare_v2(db, sql, -1, &stmt[v], NULL), "prepare as-of");
    }
    start = now_s();
    for (i = 0; i < queries_total; i++)
        for (v = 0; v < 3; v++) {
            sqlite3_bind_int64(stmt[v], 1, keys[i]);
            sqlite3_bind_int64(stmt[v], 2, ts[i]);
            if (sqlite3_step(stmt[v]) == SQLITE_ROW)
                sum += sqlite3_column_double(stmt[v], 0) + sqlite3_column_double(stmt[v], 1);
            sqlite3_reset(stmt[v]);
        }
    elapsed = now_s() - start;
    for (v = 0; v < 3; v++)
        sqlite3_finalize(stmt[v]);
    *checksum = sum;
    return elapsed;
}

int main(int argc, char **argv)
{
    char path[1024], raw_path[1024];
    mlops_db *db = NULL;
    sqlite3 *raw;
    int64_t *qkeys, *qts;
    double t, lib_ingest = 0, lib_sum = 0, raw_sum = 0;
    size_t b;
    int f, v, rc;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [ROWS KEYS QUERIES]\n", argv[0]);
        return 2;
    }
    if (argc >= 5) {
        rows_total = strtoull(argv[2], NULL, 10);
        keys_total = strtoull(argv[3], NULL, 10);
        queries_total = strtoull(argv[4], NULL, 10);
    }
    for (f = 0; f < FEATURES; f++)
        snprintf(feature_name[f], sizeof feature_name[f], "f%d", f);
    snprintf(path, sizeof path, "%s/bench_features.db", argv[1]);
    snprintf(raw_path, sizeof raw_path, "%s/bench_features_raw.db", argv[1]);
    unlink(path);
    printf("rows %zu\nkeys %zu\nqueries %zu\n", rows_total, keys_total, queries_total);

    /* Ingest: libmlops, then raw SQLite, same rows and batches. */
    if ((rc = mlops_db_open(&db, path, NULL)))
        die("open", rc);
    define_views(db);
    for (v = 0; v < 3; v++) {
        char view[8];
        snprintf(view, sizeof view, "v%d", v);
        for (b = 0; b < rows_total; b += BATCH) {
            size_t n = b + BATCH <= rows_total ? BATCH : rows_total - b;
            mlops_frame *frame = batch_frame(b, n, v == 0 ? FEATURES : SMALL_FEATURES);
            mlops_ingest_report report;
            t = now_s();
            if ((rc = mlops_features_ingest(&report, db, view, frame, NULL)))
                die("ingest", rc);
            if (v == 0)
                lib_ingest += now_s() - t;
            mlops_frame_free(frame);
        }
    }
    printf("lib_ingest_rows_per_s %.0f\n", (double)rows_total / lib_ingest);
    raw = raw_open(raw_path);
    t = raw_ingest(raw, 0);
    printf("raw_ingest_rows_per_s %.0f\n", (double)rows_total / t);
    raw_ingest(raw, 1);
    raw_ingest(raw, 2);
    check_sqlite(raw, sqlite3_exec(raw, "CREATE TABLE raw_latest (key INTEGER PRIMARY KEY, f0 REAL, f1 REAL, f2 REAL, "
                                        "f3 REAL, f4 REAL, f5 REAL, f6 REAL, f7 REAL, f8 REAL, f9 REAL, f10 REAL, "
                                        "f11 REAL, f12 REAL, f13 REAL, f14 REAL, f15 REAL);"
                                        "INSERT INTO raw_latest SELECT key, f0, f1, f2, f3, f4, f5, f6, f7, f8, f9, "
                                        "f10, f11, f12, f13, f14, f15 FROM raw0 r WHERE event_time = (SELECT "
                                        "max(event_time) FROM raw0 WHERE key = r.key)",
                                   NULL, NULL, NULL), "latest");

    /* Online lookups, single keys and batches of 100; each side warm. */
    raw_lookups(raw, 1);
    lib_lookups(db, 1);
    raw_lookups(raw, 100);
    lib_lookups(db, 100);

    /* Point-in-time join over 3 views vs a loop of as-of lookups. */
    qkeys = malloc(queries_total * sizeof *qkeys);
    qts = malloc(queries_total * sizeof *qts);
    make_queries(qkeys, qts);
    t = lib_join(db, qkeys, qts, &lib_sum);
    printf("lib_join_rows_per_s %.0f\n", (double)queries_total / t);
    t = raw_join_loop(raw, qkeys, qts, &raw_sum);
    printf("raw_asof_loop_rows_per_s %.0f\n", (double)queries_total / t);
    if (fabs(lib_sum - raw_sum) > 1e-6 * fabs(raw_sum)) {
        fprintf(stderr, "join checksums differ: %.6f vs %.6f\n", lib_sum, raw_sum);
        return 1;
    }
    free(qkeys);
    free(qts);
    sqlite3_close(raw);
    mlops_db_close(db);
    unlink(path);
    unlink(raw_path);
    return 0;
}
