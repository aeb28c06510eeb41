/*
 * Live profiles stored per stream and time window in the database (table
 * drift_windows), listed, and compared one by one with a reference to show
 * a drift trend. The only part of the drift subsystem that touches storage;
 * profiles travel as their serialized bytes.
 */
#include <stdio.h>
#include <string.h>

#include "profile_int.h"
#include "../store/store_int.h"

#define SUB "drift"

static uint64_t profile_rows(const mlops_profile *p)
{
    uint64_t rows = 0;
    size_t i;
    for (i = 0; i < p->ncols; i++)
        rows = p->cols[i].rows > rows ? p->cols[i].rows : rows;
    return rows;
}

/* Load the stored profile of (stream, start_us); MLOPS_ENOTFOUND when absent. */
static int window_load(mlops_profile **out, int64_t *end_out, mlops_db *db, const char *stream, int64_t start_us)
{
    mlops__stmt *st = NULL;
    int rc;
    *out = NULL;
    if ((rc = mlops__db_prepare(&st, db, "SELECT end_us, profile FROM drift_windows WHERE stream = ?1 AND start_us = ?2")))
        return rc;
    if ((rc = mlops__stmt_bind_text(st, 1, stream, strlen(stream))) || (rc = mlops__stmt_bind_int64(st, 2, start_us)))
        goto out_release;
    rc = mlops__stmt_step(st);
    if (rc == MLOPS__ROW) {
        *end_out = mlops__stmt_int64(st, 0);
        rc = mlops_profile_deserialize(out, mlops__stmt_blob(st, 1), mlops__stmt_bytes(st, 1));
        if (rc)
            mlops__error_prefix("drift window \"%s\" at %lld", stream, (long long)start_us);
    } else if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_ENOTFOUND, SUB, "drift window \"%s\" at %lld not found", stream, (long long)start_us);
    }
out_release:
    mlops__stmt_release(st);
    return rc;
}

static int window_store(mlops_db *db, const char *stream, int64_t start_us, int64_t end_us,
                        const mlops_profile *profile)
{
    mlops__stmt *st = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc;
    if ((rc = mlops_profile_serialize(&bytes, &len, profile)))
        return rc;
    if ((rc = mlops__db_prepare(&st, db,
                                "INSERT INTO drift_windows(stream, start_us, end_us, rows, profile, updated_us) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(stream, start_us) DO UPDATE SET "
                                "rows = excluded.rows, profile = excluded.profile, updated_us = excluded.updated_us")))
        goto out_free;
    if ((rc = mlops__stmt_bind_text(st, 1, stream, strlen(stream))) || (rc = mlops__stmt_bind_int64(st, 2, start_us)) ||
        (rc = mlops__stmt_bind_int64(st, 3, end_us)) ||
        (rc = mlops__stmt_bind_int64(st, 4, (int64_t)profile_rows(profile))) ||
        (rc = mlops__stmt_bind_blob(st, 5, bytes, len)) || (rc = mlops__stmt_bind_int64(st, 6, mlops__now_us())))
        goto out_release;
    rc = mlops__stmt_step(st);
    rc = rc == MLOPS_DONE ? MLOPS_OK : rc;
out_release:
    mlops__stmt_release(st);
out_free:
    mlops_free(bytes);
    return rc;
}

int mlops_drift_window_put(mlops_db *db, const char *stream, int64_t start_us, int64_t end_us,
                           const mlops_profile *profile)
{
    mlops_profile *stored = NULL;
    int64_t stored_end = 0;
    int rc;
    if (!db)
        return mlops__error_null(SUB, "mlops_drift_window_put", "db");
    if (!stream)
        return mlops__error_null(SUB, "mlops_drift_window_put", "stream");
    if (!profile)
        return mlops__error_null(SUB, "mlops_drift_window_put", "profile");
    if (!*stream)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_drift_window_put: empty stream name");
    if (end_us <= start_us)
        return mlops__error(MLOPS_EINVAL, SUB, "drift window \"%s\": end %lld is not after start %lld", stream,
                            (long long)end_us, (long long)start_us);
    if ((rc = mlops__tx_begin(db)))
        return rc;
    rc = window_load(&stored, &stored_end, db, stream, start_us);
    if (rc == MLOPS_ENOTFOUND) {
        mlops_error_clear();
        rc = window_store(db, stream, start_us, end_us, profile);
    } else if (rc == MLOPS_OK) {
        if (stored_end != end_us)
            rc = mlops__error(MLOPS_ECONFLICT, SUB, "drift window \"%s\" at %lld: stored end %lld differs from %lld",
                              stream, (long long)start_us, (long long)stored_end, (long long)end_us);
        else if ((rc = mlops_profile_merge(stored, profile)) == MLOPS_OK)
            rc = window_store(db, stream, start_us, end_us, stored);
        else
            mlops__error_prefix("drift window \"%s\" at %lld", stream, (long long)start_us);
    }
    mlops_profile_free(stored);
    return mlops__tx_end(db, rc);
}

int mlops_drift_window_get(mlops_profile **out, mlops_db *db, const char *stream, int64_t start_us)
{
    int64_t end = 0;
    if (!out)
        return mlops__error_null(SUB, "mlops_drift_window_get", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null(SUB, "mlops_drift_window_get", "db");
    if (!stream)
        return mlops__error_null(SUB, "mlops_drift_window_get", "stream");
    return window_load(out, &end, db, stream, start_us);
}

/* Visit the windows of `stream` starting in [from_us, to_us), oldest first. */
typedef int (*window_fn)(void *ctx, int64_t start, int64_t end, int64_t rows, int64_t updated, const void *blob,
                         size_t len);

static int each_window(mlops_db *db, const char *stream, int64_t from_us, int64_t to_us, window_fn fn, void *ctx)
{
    mlops__stmt *st = NULL;
    int rc;
    if ((rc = mlops__db_prepare(&st, db,
                                "SELECT start_us, end_us, rows, updated_us, profile FROM drift_windows "
                                "WHERE stream = ?1 AND start_us >= ?2 AND start_us < ?3 ORDER BY start_us")))
        return rc;
    if ((rc = mlops__stmt_bind_text(st, 1, stream, strlen(stream))) || (rc = mlops__stmt_bind_int64(st, 2, from_us)) ||
        (rc = mlops__stmt_bind_int64(st, 3, to_us)))
        goto out_release;
    while ((rc = mlops__stmt_step(st)) == MLOPS__ROW) {
        if ((rc = fn(ctx, mlops__stmt_int64(st, 0), mlops__stmt_int64(st, 1), mlops__stmt_int64(st, 2),
                     mlops__stmt_int64(st, 3), mlops__stmt_blob(st, 4), mlops__stmt_bytes(st, 4))))
            goto out_release;
    }
    rc = rc == MLOPS_DONE ? MLOPS_OK : rc;
out_release:
    mlops__stmt_release(st);
    return rc;
}

typedef struct list_ctx {
    mlops__buf *buf;
    const char *stream;
    size_t count;
    const mlops_profile *reference;
    const char *config;
} list_ctx;

static void window_head(list_ctx *c, int64_t start, int64_t end, int64_t rows)
{
    char a[MLOPS__TIME_TEXT_MAX], b[MLOPS__TIME_TEXT_MAX];
    mlops__time_format_iso8601(a, start);
    mlops__time_format_iso8601(b, end);
    mlops__buf_puts(c->buf, c->count++ ? ",{" : "{");
    mlops__buf_printf(c->buf, "\"start_us\":%lld,\"end_us\":%lld,\"start\":\"%s\",\"end\":\"%s\",\"rows\":%lld",
                      (long long)start, (long long)end, a, b, (long long)rows);
}

static int list_one(void *arg, int64_t start, int64_t end, int64_t rows, int64_t updated, const void *blob, size_t len)
{
    list_ctx *c = arg;
    window_head(c, start, end, rows);
    mlops__buf_printf(c->buf, ",\"bytes\":%zu,\"updated_us\":%lld}", len, (long long)updated);
    return MLOPS_OK;
}

static int trend_one(void *arg, int64_t start, int64_t end, int64_t rows, int64_t updated, const void *blob,
                     size_t len)
{
    list_ctx *c = arg;
    mlops_profile *p = NULL;
    char *report = NULL;
    int rc;
    if ((rc = mlops_profile_deserialize(&p, blob, len)))
        return mlops__error_prefix("drift window \"%s\" at %lld", c->stream, (long long)start);
    rc = mlops_drift_report_profiles(&report, c->reference, p, c->config);
    mlops_profile_free(p);
    if (rc)
        return mlops__error_prefix("drift window \"%s\" at %lld", c->stream, (long long)start);
    window_head(c, start, end, rows);
    mlops__buf_puts(c->buf, ",\"report\":");
    mlops__buf_puts(c->buf, report);
    mlops__buf_putc(c->buf, '}');
    mlops_free(report);
    return MLOPS_OK;
}

static int collect(char **json_out, mlops_db *db, const char *stream, int64_t from_us, int64_t to_us, window_fn fn,
                   list_ctx *c)
{
    mlops__buf buf;
    int rc;
    mlops__buf_init(&buf);
    c->buf = &buf;
    c->stream = stream;
    mlops__buf_puts(&buf, "{\"stream\":");
    mlops__buf_json_string(&buf, stream);
    mlops__buf_puts(&buf, ",\"windows\":[");
    rc = each_window(db, stream, from_us, to_us, fn, c);
    mlops__buf_puts(&buf, "]}");
    if (rc == MLOPS_OK && (rc = mlops__buf_status(&buf, SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&buf, NULL);
    mlops__buf_free(&buf);
    return rc;
}

int mlops_drift_window_list(char **json_out, mlops_db *db, const char *stream, int64_t from_us, int64_t to_us)
{
    list_ctx c;
    if (!json_out)
        return mlops__error_null(SUB, "mlops_drift_window_list", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(SUB, "mlops_drift_window_list", "db");
    if (!stream)
        return mlops__error_null(SUB, "mlops_drift_window_list", "stream");
    memset(&c, 0, sizeof c);
    return collect(json_out, db, stream, from_us, to_us, list_one, &c);
}

int mlops_drift_trend(char **json_out, mlops_db *db, const char *stream, const mlops_profile *reference,
                      int64_t from_us, int64_t to_us, const char *config_json)
{
    list_ctx c;
    if (!json_out)
        return mlops__error_null(SUB, "mlops_drift_trend", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(SUB, "mlops_drift_trend", "db");
    if (!stream)
        return mlops__error_null(SUB, "mlops_drift_trend", "stream");
    if (!reference)
        return mlops__error_null(SUB, "mlops_drift_trend", "reference");
    memset(&c, 0, sizeof c);
    c.reference = reference;
    c.config = config_json;
    return collect(json_out, db, stream, from_us, to_us, trend_one, &c);
}
