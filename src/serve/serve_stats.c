/*
 * Serving metrics persisted by routers (table serve_metrics), summed per
 * version and arm over every snapshot, whichever process or router wrote
 * them, with latency percentiles from the merged histogram.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "serve_int.h"
#include "../store/store_int.h"

/* Totals of one (version, arm). */
typedef struct stats_row {
    int64_t version;
    char arm[16];
    int64_t snapshots, last_us;
    uint64_t requests, rows, errors, latency_ns_sum;
    uint64_t latency[SERVE_LAT_BUCKETS];
} stats_row;

/* Add the bucket counts of one snapshot (a JSON array of SERVE_LAT_BUCKETS counts). */
static int add_latency(stats_row *row, const char *text, const char *model)
{
    mlops__json *doc = NULL;
    size_t k;
    int rc = mlops__json_parse(&doc, text, SERVE_SUB, "serving metrics latency");
    if (rc != MLOPS_OK)
        return rc;
    if (!mlops__json_is_array(doc) || mlops__json_array_size(doc) != SERVE_LAT_BUCKETS)
        rc = mlops__error(MLOPS_ECORRUPT, SERVE_SUB,
                          "serving metrics of \"%s\" version %lld: latency is not an array of %d counts", model,
                          (long long)row->version, SERVE_LAT_BUCKETS);
    for (k = 0; rc == MLOPS_OK && k < SERVE_LAT_BUCKETS; k++) {
        const mlops__json *count = mlops__json_at(doc, k);
        double v = mlops__json_is_number(count) ? mlops__json_number(count) : -1.0;
        if (v < 0.0 || v != floor(v))
            rc = mlops__error(MLOPS_ECORRUPT, SERVE_SUB,
                              "serving metrics of \"%s\" version %lld: latency bucket %zu is not a count", model,
                              (long long)row->version, k);
        else
            row->latency[k] += (uint64_t)v;
    }
    mlops__json_free(doc);
    return rc;
}

static int load_rows(stats_row **out, size_t *n_out, mlops_db *db, const char *model)
{
    mlops__stmt *st = NULL;
    stats_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc;
    *out = NULL;
    *n_out = 0;
    if ((rc = mlops__db_prepare(&st, db,
                                "SELECT version, arm, time_us, requests, rows, errors, latency_ns_sum, latency "
                                "FROM serve_metrics WHERE model = ?1 ORDER BY version, arm, id")))
        return rc;
    if ((rc = mlops__stmt_bind_text(st, 1, model, strlen(model))))
        goto out_release;
    while ((rc = mlops__stmt_step(st)) == MLOPS__ROW) {
        int64_t version = mlops__stmt_int64(st, 0);
        const char *arm = mlops__stmt_text(st, 1);
        stats_row *row;
        if (n == 0 || rows[n - 1].version != version || strcmp(rows[n - 1].arm, arm) != 0) {
            if ((rc = mlops__grow((void **)&rows, &cap, n + 1, sizeof *rows)))
                break;
            memset(&rows[n], 0, sizeof rows[n]);
            rows[n].version = version;
            snprintf(rows[n].arm, sizeof rows[n].arm, "%s", arm);
            n++;
        }
        row = &rows[n - 1];
        row->snapshots++;
        row->last_us = mlops__stmt_int64(st, 2) > row->last_us ? mlops__stmt_int64(st, 2) : row->last_us;
        row->requests += (uint64_t)mlops__stmt_int64(st, 3);
        row->rows += (uint64_t)mlops__stmt_int64(st, 4);
        row->errors += (uint64_t)mlops__stmt_int64(st, 5);
        row->latency_ns_sum += (uint64_t)mlops__stmt_int64(st, 6);
        if ((rc = add_latency(row, mlops__stmt_text(st, 7), model)))
            break;
    }
    if (rc == MLOPS_DONE) {
        rc = MLOPS_OK;
        *out = rows;
        *n_out = n;
        rows = NULL;
    }
out_release:
    mlops__stmt_release(st);
    mlops__free(rows);
    return rc;
}

static void emit(mlops__buf *b, const char *model, const stats_row *rows, size_t n)
{
    uint64_t total = 0;
    size_t i;
    for (i = 0; i < n; i++)
        total += rows[i].requests;
    mlops__buf_puts(b, "{\"model\":");
    mlops__buf_json_string(b, model);
    mlops__buf_printf(b, ",\"requests\":%llu,\"series\":[", (unsigned long long)total);
    for (i = 0; i < n; i++) {
        const stats_row *r = &rows[i];
        uint64_t answered = r->requests - r->errors;
        mlops__buf_printf(b,
                          "%s{\"version\":%lld,\"arm\":\"%s\",\"snapshots\":%lld,\"last_us\":%lld,\"requests\":%llu,"
                          "\"rows\":%llu,\"errors\":%llu",
                          i ? "," : "", (long long)r->version, r->arm, (long long)r->snapshots,
                          (long long)r->last_us, (unsigned long long)r->requests, (unsigned long long)r->rows,
                          (unsigned long long)r->errors);
        mlops__serve_json_key_double(b, "share", total ? (double)r->requests / (double)total : NAN);
        mlops__buf_printf(b, ",\"latency_us\":{\"count\":%llu", (unsigned long long)answered);
        mlops__serve_json_key_double(b, "mean", answered ? (double)r->latency_ns_sum * 1e-3 / (double)answered : NAN);
        mlops__serve_json_key_double(b, "p50", mlops__serve_lat_quantile(r->latency, answered, 0.50) * 1e6);
        mlops__serve_json_key_double(b, "p90", mlops__serve_lat_quantile(r->latency, answered, 0.90) * 1e6);
        mlops__serve_json_key_double(b, "p99", mlops__serve_lat_quantile(r->latency, answered, 0.99) * 1e6);
        mlops__buf_puts(b, "}}");
    }
    mlops__buf_puts(b, "]}");
}

int mlops_serve_stats_json(char **json_out, mlops_db *db, const char *model)
{
    stats_row *rows = NULL;
    size_t n = 0;
    mlops__buf b;
    int rc;
    if (json_out == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_serve_stats_json", "json_out");
    *json_out = NULL;
    if (db == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_serve_stats_json", "db");
    if (model == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_serve_stats_json", "model");
    if ((rc = load_rows(&rows, &n, db, model)))
        return rc;
    mlops__buf_init(&b);
    emit(&b, model, rows, n);
    if ((rc = mlops__buf_status(&b, SERVE_SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    mlops__free(rows);
    return rc;
}
