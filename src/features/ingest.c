/*
 * Ingest: resolve the frame's columns against the view, check every row
 * against the contracts, then in one transaction append new history rows
 * (skipping rows identical to the stored one), keep the online table at the
 * newest row per key, and quarantine bad rows. Also the quarantine's list
 * and retry.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features_int.h"

#define SYSTEM_TIME_META "features.system_time"

/* One good row, encoded, for the write phase. */
typedef struct ingest_row {
    const uint8_t *key;
    const uint8_t *payload;
    size_t key_len;
    size_t payload_len;
    int64_t event_time;
    size_t row;
} ingest_row;

/* The frame resolved against a view. */
typedef struct ingest_cols {
    size_t keys[8];
    size_t event_time;
    size_t *features;       /* per feature of the view: frame column or SIZE_MAX */
} ingest_cols;

/* A contract violation of one row. */
typedef struct violation {
    const char *rule;
    const char *column;
    char message[160];
} violation;

static int resolve_columns(ingest_cols *cols, const fs_view *view, const mlops_frame *frame,
                           const char *event_time_column, const uint8_t *ignored)
{
    size_t c, k, ncols = mlops_frame_columns(frame);
    char what[96];
    int rc, type;

    snprintf(what, sizeof what, "feature view \"%s\"", view->name);
    if ((rc = mlops__fs_key_columns(cols->keys, &view->entity, frame, what)))
        return rc;
    if (mlops_frame_column_index(&cols->event_time, frame, event_time_column) != MLOPS_OK)
        return mlops__error(MLOPS_EINVAL, "features", "%s: missing event time column \"%s\"", what,
                            event_time_column);
    type = mlops_frame_column_type(frame, cols->event_time);
    if (type != MLOPS_TYPE_INT64 && type != MLOPS_TYPE_STRING)
        return mlops__error(MLOPS_EINVAL, "features", "%s: event time column \"%s\" is %s, not int64 or string", what,
                            event_time_column, mlops_frame_type_name(type));
    for (k = 0; k < view->feature_count; k++)
        cols->features[k] = SIZE_MAX;
    for (c = 0; c < ncols; c++) {
        const char *name = mlops_frame_column_name(frame, c);
        const fs_feature *f;
        int is_key = 0;
        if ((ignored && ignored[c]) || c == cols->event_time)
            continue;
        for (k = 0; k < view->entity.key_count; k++)
            is_key |= cols->keys[k] == c;
        if (is_key)
            continue;
        f = mlops__fs_view_feature(view, name);
        if (!f)
            return mlops__error(MLOPS_EINVAL, "features", "%s version %d: unknown feature column \"%s\"", what,
                                (int)view->version, name);
        type = mlops_frame_column_type(frame, c);
        if (type != f->type || (f->type == MLOPS_TYPE_F32VEC && mlops_frame_column_dim(frame, c) != f->dim))
            return mlops__error(MLOPS_EINVAL, "features", "%s: column \"%s\" is %s of dim %u, the feature is %s of dim %u",
                                what, name, mlops_frame_type_name(type), (unsigned)mlops_frame_column_dim(frame, c),
                                mlops_frame_type_name(f->type), (unsigned)f->dim);
        cols->features[f - view->features] = c;
    }
    return MLOPS_OK;
}

static int parse_event_times(int64_t *times, uint8_t *nulls, const fs_view *view, const mlops_frame *frame,
                             size_t col)
{
    size_t row, rows = mlops_frame_rows(frame);
    int string = mlops_frame_column_type(frame, col) == MLOPS_TYPE_STRING;
    for (row = 0; row < rows; row++) {
        const char *text = NULL;
        size_t len = 0;
        nulls[row] = mlops_frame_is_null(frame, col, row) == 1;
        if (nulls[row])
            continue;
        if (!string) {
            mlops_frame_get_int64(&times[row], frame, col, row);
            continue;
        }
        mlops_frame_get_string(&text, &len, frame, col, row);
        if (mlops__time_parse_iso8601(&times[row], text, len) != 0)
            return mlops__error(MLOPS_EFORMAT, "features",
                                "feature view \"%s\": column \"%s\" row %zu: \"%.40s\" is not an ISO 8601 time",
                                view->name, mlops_frame_column_name(frame, col), row, text);
    }
    return MLOPS_OK;
}

static int allowed_num(const fs_feature *f, double v)
{
    size_t i;
    for (i = 0; i < f->allowed_count; i++)
        if (f->allowed_num[i] == v)
            return 1;
    return 0;
}

static int check_number(violation *bad, const fs_feature *f, double v, const char *element)
{
    if (f->finite && !isfinite(v)) {
        bad->rule = "finite";
        snprintf(bad->message, sizeof bad->message, "%svalue %g is not finite", element, v);
    } else if (f->has_min && v < f->min) {
        bad->rule = "min";
        snprintf(bad->message, sizeof bad->message, "%svalue %.17g below min %.17g", element, v, f->min);
    } else if (f->has_max && v > f->max) {
        bad->rule = "max";
        snprintf(bad->message, sizeof bad->message, "%svalue %.17g above max %.17g", element, v, f->max);
    } else if (f->allowed_count && !allowed_num(f, v)) {
        bad->rule = "allowed";
        snprintf(bad->message, sizeof bad->message, "value %.17g is not an allowed value", v);
    } else {
        return 0;
    }
    bad->column = f->name;
    return 1;
}

static int check_string(violation *bad, const fs_feature *f, const char *text, size_t len)
{
    size_t i;
    if (f->max_length >= 0 && len > (size_t)f->max_length) {
        bad->rule = "max_length";
        snprintf(bad->message, sizeof bad->message, "length %zu above max_length %lld", len,
                 (long long)f->max_length);
        bad->column = f->name;
        return 1;
    }
    if (f->allowed_count) {
        for (i = 0; i < f->allowed_count; i++)
            if (strlen(f->allowed_str[i]) == len && memcmp(f->allowed_str[i], text, len) == 0)
                return 0;
        bad->rule = "allowed";
        snprintf(bad->message, sizeof bad->message, "value \"%.60s\" is not an allowed value", text);
        bad->column = f->name;
        return 1;
    }
    return 0;
}

/* 1 and `bad` filled when `row` breaks a rule (the first one found), else 0. */
static int check_row(violation *bad, const fs_view *view, const ingest_cols *cols, const mlops_frame *frame,
                     const uint8_t *time_nulls, size_t row)
{
    size_t k;
    for (k = 0; k < view->entity.key_count; k++)
        if (mlops_frame_is_null(frame, cols->keys[k], row) == 1) {
            bad->rule = "not_null";
            bad->column = view->entity.keys[k].name;
            snprintf(bad->message, sizeof bad->message, "key is null");
            return 1;
        }
    if (time_nulls[row]) {
        bad->rule = "not_null";
        bad->column = mlops_frame_column_name(frame, cols->event_time);
        snprintf(bad->message, sizeof bad->message, "event time is null");
        return 1;
    }
    for (k = 0; k < view->feature_count; k++) {
        const fs_feature *f = &view->features[k];
        size_t col = cols->features[k];
        if (col == SIZE_MAX || mlops_frame_is_null(frame, col, row) == 1) {
            if (!f->not_null)
                continue;
            bad->rule = "not_null";
            bad->column = f->name;
            snprintf(bad->message, sizeof bad->message, "value is null");
            return 1;
        }
        switch (f->type) {
        case MLOPS_TYPE_INT64: {
            int64_t v = 0;
            mlops_frame_get_int64(&v, frame, col, row);
            if (check_number(bad, f, (double)v, ""))
                return 1;
            break;
        }
        case MLOPS_TYPE_FLOAT64: {
            double v = 0;
            mlops_frame_get_float64(&v, frame, col, row);
            if (check_number(bad, f, v, ""))
                return 1;
            break;
        }
        case MLOPS_TYPE_F32VEC: {
            const float *v = NULL;
            char element[32];
            uint32_t d;
            if (!f->finite && !f->has_min && !f->has_max)
                break;
            mlops_frame_get_f32vec(&v, frame, col, row);
            for (d = 0; d < f->dim; d++) {
                snprintf(element, sizeof element, "element %u ", (unsigned)d);
                if (check_number(bad, f, v[d], element))
                    return 1;
            }
            break;
        }
        case MLOPS_TYPE_STRING: {
            const char *text = NULL;
            size_t len = 0;
            mlops_frame_get_string(&text, &len, frame, col, row);
            if (check_string(bad, f, text, len))
                return 1;
            break;
        }
        default: break;
        }
    }
    return 0;
}

static void copy_text(char *out, size_t cap, const char *text)
{
    snprintf(out, cap, "%s", text ? text : "");
}

static void report_violation(mlops_ingest_report *report, const violation *bad, size_t row)
{
    mlops_ingest_error *e;
    report->rows_quarantined++;
    if (report->error_count >= MLOPS_INGEST_MAX_ERRORS)
        return;
    e = &report->errors[report->error_count++];
    e->row = (int64_t)row;
    copy_text(e->column, sizeof e->column, bad->column);
    copy_text(e->rule, sizeof e->rule, bad->rule);
    copy_text(e->message, sizeof e->message, bad->message);
}

static int row_cmp(const void *a, const void *b)
{
    const ingest_row *x = a, *y = b;
    int c = mlops__fs_key_cmp(x->key, x->key_len, y->key, y->key_len);
    if (c)
        return c;
    if (x->event_time != y->event_time)
        return x->event_time < y->event_time ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

/* The system time of this write: the wall clock, strictly after every earlier write. */
static int next_system_time(int64_t *out, mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    int64_t last = INT64_MIN, now = mlops__now_us();
    char text[32];
    int rc;
    if ((rc = mlops__db_prepare(&stmt, db, "SELECT value FROM mlops_meta WHERE key = '" SYSTEM_TIME_META "'")))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        last = strtoll(mlops__stmt_text(stmt, 0), NULL, 10);
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_OK && rc != MLOPS_DONE)
        return rc;
    *out = now > last ? now : last + 1;
    snprintf(text, sizeof text, "%lld", (long long)*out);
    if ((rc = mlops__db_prepare(&stmt, db,
                                "INSERT OR REPLACE INTO mlops_meta(key, value) VALUES ('" SYSTEM_TIME_META "', ?1)")))
        return rc;
    if (!(rc = mlops__stmt_bind_text(stmt, 1, text, strlen(text))))
        rc = mlops__stmt_step(stmt);
    mlops__stmt_release(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

/* The statements of the write phase, held for the whole batch. */
typedef struct writer {
    mlops_db *db;
    const fs_view *view;
    int64_t system_time;
    mlops__stmt *history_probe;
    mlops__stmt *history_put;
    mlops__stmt *online_put;
    mlops__stmt *quarantine_put;
} writer;

static void writer_release(writer *w)
{
    mlops__stmt_release(w->history_probe);
    mlops__stmt_release(w->history_put);
    mlops__stmt_release(w->online_put);
    mlops__stmt_release(w->quarantine_put);
}

static int writer_prepare(writer *w)
{
    int rc;
    if ((rc = mlops__db_prepare(&w->history_probe, w->db,
                                "SELECT version, payload FROM fs_history WHERE view_id = ?1 AND key = ?2 AND "
                                "event_time = ?3 ORDER BY system_time DESC LIMIT 1")) ||
        (rc = mlops__db_prepare(&w->history_put, w->db,
                                "INSERT INTO fs_history(view_id, key, event_time, system_time, version, payload) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6)")) ||
        (rc = mlops__db_prepare(&w->online_put, w->db,
                                "INSERT INTO fs_online(view_id, key, event_time, system_time, version, payload) "
                                "VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (view_id, key) DO UPDATE SET "
                                "event_time = excluded.event_time, system_time = excluded.system_time, "
                                "version = excluded.version, payload = excluded.payload "
                                "WHERE excluded.event_time > fs_online.event_time OR "
                                "(excluded.event_time = fs_online.event_time AND "
                                "(excluded.version <> fs_online.version OR excluded.payload <> fs_online.payload))")) ||
        (rc = mlops__db_prepare(&w->quarantine_put, w->db,
                                "INSERT INTO fs_quarantine(view_id, key, event_time, system_time, version, payload, "
                                "rule, column_name, message) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
        return rc;
    return MLOPS_OK;
}

/* Does the probed row (version, payload) equal `r`? */
static int same_payload(mlops__stmt *stmt, const fs_view *view, const ingest_row *r)
{
    return mlops__stmt_int64(stmt, 0) == view->version && mlops__stmt_bytes(stmt, 1) == r->payload_len &&
           memcmp(mlops__stmt_blob(stmt, 1), r->payload, r->payload_len) == 0;
}

static int bind_row(mlops__stmt *stmt, const writer *w, const ingest_row *r)
{
    int rc;
    if ((rc = mlops__stmt_bind_int64(stmt, 1, w->view->id)) ||
        (rc = mlops__stmt_bind_blob(stmt, 2, r->key, r->key_len)) ||
        (rc = mlops__stmt_bind_int64(stmt, 3, r->event_time)) ||
        (rc = mlops__stmt_bind_int64(stmt, 4, w->system_time)) ||
        (rc = mlops__stmt_bind_int64(stmt, 5, w->view->version)) ||
        (rc = mlops__stmt_bind_blob(stmt, 6, r->payload, r->payload_len)))
        return rc;
    return MLOPS_OK;
}

static int run_put(mlops__stmt *stmt, const writer *w, const ingest_row *r)
{
    int rc = bind_row(stmt, w, r);
    if (rc == MLOPS_OK)
        rc = mlops__stmt_step(stmt);
    mlops__stmt_reset(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

/* The newest history row at the key and event time of `r`: is it equal to `r`? */
static int probe_duplicate(int *duplicate, writer *w, const ingest_row *r)
{
    mlops__stmt *stmt = w->history_probe;
    int rc;
    *duplicate = 0;
    if (!(rc = mlops__stmt_bind_int64(stmt, 1, w->view->id)) &&
        !(rc = mlops__stmt_bind_blob(stmt, 2, r->key, r->key_len)) &&
        !(rc = mlops__stmt_bind_int64(stmt, 3, r->event_time)))
        rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        *duplicate = same_payload(stmt, w->view, r);
    if (rc == MLOPS__ROW || rc == MLOPS_DONE)
        rc = MLOPS_OK;
    mlops__stmt_reset(stmt);
    return rc;
}

/*
 * Store one row. The online upsert moves the latest row only to a newer
 * event time, or to a correction at the same event time; when it does, the
 * row cannot equal any stored row and goes straight to the history. When it
 * does not (a late row, or the latest row again), the newest history row at
 * the same key and event time decides whether the row is a duplicate.
 */
static int write_row(int *written, writer *w, const ingest_row *r)
{
    int rc, duplicate = 0;

    *written = 0;
    if ((rc = run_put(w->online_put, w, r)))
        return rc;
    if (mlops__db_changes(w->db) == 0 && ((rc = probe_duplicate(&duplicate, w, r)) || duplicate))
        return rc;
    if ((rc = run_put(w->history_put, w, r)))
        return rc;
    *written = 1;
    return MLOPS_OK;
}

static int quarantine_row(writer *w, const mlops__buf *key, int key_null, int64_t event_time, int time_null,
                          const mlops__buf *payload, const violation *bad)
{
    mlops__stmt *stmt = w->quarantine_put;
    int rc;
    if ((rc = mlops__stmt_bind_int64(stmt, 1, w->view->id)) ||
        (rc = key_null ? mlops__stmt_bind_null(stmt, 2) : mlops__stmt_bind_blob(stmt, 2, key->data, key->len)) ||
        (rc = time_null ? mlops__stmt_bind_null(stmt, 3) : mlops__stmt_bind_int64(stmt, 3, event_time)) ||
        (rc = mlops__stmt_bind_int64(stmt, 4, w->system_time)) ||
        (rc = mlops__stmt_bind_int64(stmt, 5, w->view->version)) ||
        (rc = mlops__stmt_bind_blob(stmt, 6, payload->data, payload->len)) ||
        (rc = mlops__stmt_bind_text(stmt, 7, bad->rule, strlen(bad->rule))) ||
        (rc = mlops__stmt_bind_text(stmt, 8, bad->column, strlen(bad->column))) ||
        (rc = mlops__stmt_bind_text(stmt, 9, bad->message, strlen(bad->message))))
        goto out_reset;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
out_reset:
    mlops__stmt_reset(stmt);
    return rc;
}

/* Encode every good row into one arena and list them sorted by (key, event time, row). */
static int encode_rows(ingest_row **rows_out, size_t *count_out, mlops__buf *arena, const fs_view *view,
                       const ingest_cols *cols, const mlops_frame *frame, const uint8_t *bad, const int64_t *times)
{
    size_t rows = mlops_frame_rows(frame), row, n = 0, i;
    size_t *offsets;
    ingest_row *list;
    mlops__buf key, payload;
    int rc = MLOPS_OK;

    *rows_out = NULL;
    *count_out = 0;
    list = mlops__calloc(rows ? rows : 1, sizeof *list);
    offsets = mlops__calloc(rows ? rows : 1, 2 * sizeof *offsets);
    mlops__buf_init(&key);
    mlops__buf_init(&payload);
    if (!list || !offsets) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory encoding %zu rows", rows);
        goto out_free;
    }
    for (row = 0; row < rows && rc == MLOPS_OK; row++) {
        if (bad[row])
            continue;
        if ((rc = mlops__fs_key_encode(&key, &view->entity, cols->keys, frame, row)) ||
            (rc = mlops__fs_payload_encode(&payload, view, cols->features, frame, row)))
            break;
        offsets[2 * n] = arena->len;
        mlops__buf_append(arena, key.data, key.len);
        offsets[2 * n + 1] = arena->len;
        mlops__buf_append(arena, payload.data, payload.len);
        list[n].key_len = key.len;
        list[n].payload_len = payload.len;
        list[n].event_time = times[row];
        list[n].row = row;
        n++;
        rc = mlops__buf_status(arena, "features");
    }
    if (rc)
        goto out_free;
    /* The arena is final: turn offsets into pointers. */
    for (i = 0; i < n; i++) {
        list[i].key = (const uint8_t *)arena->data + offsets[2 * i];
        list[i].payload = (const uint8_t *)arena->data + offsets[2 * i + 1];
    }
    qsort(list, n, sizeof *list, row_cmp);
    *rows_out = list;
    *count_out = n;
    list = NULL;
out_free:
    mlops__buf_free(&key);
    mlops__buf_free(&payload);
    mlops__free(offsets);
    mlops__free(list);
    return rc;
}

/* Quarantine the bad rows: the whole row (key, event time, payload) with its first broken rule. */
static int write_quarantine(writer *w, const ingest_cols *cols, const mlops_frame *frame, const uint8_t *bad,
                            const int64_t *times, const uint8_t *time_nulls)
{
    size_t rows = mlops_frame_rows(frame), row;
    mlops__buf key, payload;
    violation v;
    int rc = MLOPS_OK, key_null;

    mlops__buf_init(&key);
    mlops__buf_init(&payload);
    for (row = 0; row < rows && rc == MLOPS_OK; row++) {
        if (!bad[row])
            continue;
        check_row(&v, w->view, cols, frame, time_nulls, row);
        rc = mlops__fs_key_encode(&key, &w->view->entity, cols->keys, frame, row);
        key_null = rc == MLOPS_NULL;
        if (key_null)
            rc = MLOPS_OK;
        if (rc || (rc = mlops__fs_payload_encode(&payload, w->view, cols->features, frame, row)))
            break;
        rc = quarantine_row(w, &key, key_null, times[row], time_nulls[row], &payload, &v);
    }
    mlops__buf_free(&key);
    mlops__buf_free(&payload);
    return rc;
}

/* Ingest `frame`, skipping the frame columns flagged in `ignored_columns` (may be NULL). */
static int ingest_frame(mlops_ingest_report *report, mlops_db *db, const char *view_name, const mlops_frame *frame,
                        const mlops_ingest_options *options, const uint8_t *ignored_columns)
{
    mlops_ingest_options defaults = MLOPS_INGEST_OPTIONS_INIT;
    const mlops_ingest_options *opt = options ? options : &defaults;
    fs_view *view = NULL;
    ingest_cols cols;
    ingest_row *list = NULL;
    mlops__buf arena;
    int64_t *times = NULL;
    uint8_t *time_nulls = NULL, *bad = NULL;
    size_t rows = mlops_frame_rows(frame), row, count = 0, i;
    int64_t secure_delete = 1;
    violation v;
    writer w;
    int rc;

    memset(report, 0, sizeof *report);
    memset(&w, 0, sizeof w);
    mlops__buf_init(&arena);
    cols.features = NULL;
    if (opt->version != MLOPS_INGEST_OPTIONS_VERSION)
        return mlops__error(MLOPS_EINVAL, "features", "ingest options version %u is not %d", (unsigned)opt->version,
                            MLOPS_INGEST_OPTIONS_VERSION);
    if (opt->policy != MLOPS_INGEST_REJECT && opt->policy != MLOPS_INGEST_QUARANTINE)
        return mlops__error(MLOPS_EINVAL, "features", "ingest options: unknown policy %d", (int)opt->policy);
    if ((rc = mlops__fs_view_load(&view, db, view_name, 0)))
        return rc;
    report->definition_version = view->version;
    cols.features = mlops__calloc(view->feature_count, sizeof *cols.features);
    times = mlops__calloc(rows ? rows : 1, sizeof *times);
    time_nulls = mlops__calloc(rows ? rows : 1, 1);
    bad = mlops__calloc(rows ? rows : 1, 1);
    if (!cols.features || !times || !time_nulls || !bad) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory ingesting %zu rows", rows);
        goto out_free;
    }
    if ((rc = resolve_columns(&cols, view, frame, opt->event_time_column ? opt->event_time_column : "event_time",
                              ignored_columns)) ||
        (rc = parse_event_times(times, time_nulls, view, frame, cols.event_time)))
        goto out_free;
    for (row = 0; row < rows; row++) {
        bad[row] = (uint8_t)check_row(&v, view, &cols, frame, time_nulls, row);
        if (bad[row])
            report_violation(report, &v, row);
    }
    if (report->rows_quarantined && opt->policy == MLOPS_INGEST_REJECT) {
        const mlops_ingest_error *e = &report->errors[0];
        rc = mlops__error(MLOPS_EPOLICY, "features",
                          "feature view \"%s\": %lld of %zu rows break the contract, nothing written; first: "
                          "column \"%s\" row %lld: %s (rule %s)",
                          view->name, (long long)report->rows_quarantined, rows, e->column, (long long)e->row,
                          e->message, e->rule);
        goto out_free;
    }
    if ((rc = encode_rows(&list, &count, &arena, view, &cols, frame, bad, times)))
        goto out_free;
    if ((rc = mlops__fs_secure_delete_on(&secure_delete, db)))
        goto out_free;
    if ((rc = mlops__tx_begin(db)))
        goto out_secure;
    w.db = db;
    w.view = view;
    if ((rc = next_system_time(&w.system_time, db)) || (rc = writer_prepare(&w)))
        goto out_end;
    report->system_time = w.system_time;
    for (i = 0; i < count && rc == MLOPS_OK; i++) {
        int written = 0;
        /* Within one write, the last row for a key and event time wins. */
        if (i + 1 < count && list[i + 1].event_time == list[i].event_time &&
            mlops__fs_key_cmp(list[i].key, list[i].key_len, list[i + 1].key, list[i + 1].key_len) == 0) {
            report->rows_duplicate++;
            continue;
        }
        rc = write_row(&written, &w, &list[i]);
        if (written)
            report->rows_written++;
        else
            report->rows_duplicate++;
    }
    if (rc == MLOPS_OK && report->rows_quarantined)
        rc = write_quarantine(&w, &cols, frame, bad, times, time_nulls);
out_end:
    writer_release(&w);
    rc = mlops__tx_end(db, rc);
    if (rc) {
        report->rows_written = 0;
        report->rows_duplicate = 0;
    }
out_secure:
    mlops__fs_secure_delete_restore(db, secure_delete);
out_free:
    mlops__buf_free(&arena);
    mlops__free(list);
    mlops__free(cols.features);
    mlops__free(times);
    mlops__free(time_nulls);
    mlops__free(bad);
    mlops__fs_view_free(view);
    return rc;
}

int mlops_features_ingest(mlops_ingest_report *report, mlops_db *db, const char *view, const mlops_frame *frame,
                          const mlops_ingest_options *options)
{
    if (!report)
        return mlops__error_null("features", "mlops_features_ingest", "report");
    memset(report, 0, sizeof *report);
    if (!db)
        return mlops__error_null("features", "mlops_features_ingest", "db");
    if (!view)
        return mlops__error_null("features", "mlops_features_ingest", "view");
    if (!frame)
        return mlops__error_null("features", "mlops_features_ingest", "frame");
    return ingest_frame(report, db, view, frame, options, NULL);
}

/* ---- quarantine ---- */

static const char *const quarantine_meta[] = {"quarantine_id", "rule", "column", "message", "system_time"};
#define QUARANTINE_META_COUNT 5

int mlops_features_quarantine_list(mlops_frame **out, mlops_db *db, const char *view)
{
    fs_plan *plan = NULL;
    const char **names = NULL;
    mlops_frame *frame = NULL;
    mlops__stmt *stmt = NULL;
    const fs_view *def;
    size_t i, row = 0, key_col, first_feature;
    int rc;

    if (!out)
        return mlops__error_null("features", "mlops_features_quarantine_list", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", "mlops_features_quarantine_list", "db");
    if (!view)
        return mlops__error_null("features", "mlops_features_quarantine_list", "view");
    {
        fs_view *current = NULL;
        if ((rc = mlops__fs_view_load(&current, db, view, 0)))
            return rc;
        names = mlops__calloc(current->feature_count, sizeof *names);
        for (i = 0; names && i < current->feature_count; i++)
            names[i] = current->features[i].name;
        rc = names ? mlops__fs_plan_new(&plan, db, view, 0, names, current->feature_count)
                   : mlops__error(MLOPS_ENOMEM, "features", "out of memory listing the quarantine");
        mlops__free(names);
        mlops__fs_view_free(current);
        if (rc)
            return rc;
    }
    def = plan->view;
    if ((rc = mlops_frame_new(&frame)) ||
        (rc = mlops_frame_add_column(frame, quarantine_meta[0], MLOPS_TYPE_INT64, 0)) ||
        (rc = mlops_frame_add_column(frame, quarantine_meta[1], MLOPS_TYPE_STRING, 0)) ||
        (rc = mlops_frame_add_column(frame, quarantine_meta[2], MLOPS_TYPE_STRING, 0)) ||
        (rc = mlops_frame_add_column(frame, quarantine_meta[3], MLOPS_TYPE_STRING, 0)) ||
        (rc = mlops_frame_add_column(frame, quarantine_meta[4], MLOPS_TYPE_INT64, 0)))
        goto out_free;
    key_col = QUARANTINE_META_COUNT;
    for (i = 0; i < def->entity.key_count && rc == MLOPS_OK; i++)
        rc = mlops_frame_add_column(frame, def->entity.keys[i].name, def->entity.keys[i].type, 0);
    first_feature = key_col + def->entity.key_count + 1;
    if (rc || (rc = mlops_frame_add_column(frame, "event_time", MLOPS_TYPE_INT64, 0)) ||
        (rc = mlops__fs_plan_add_columns(plan, frame)))
        goto out_free;
    if ((rc = mlops__db_prepare(&stmt, db,
                                "SELECT id, rule, column_name, message, system_time, key, event_time, version, "
                                "payload FROM fs_quarantine WHERE view_id = ?1 ORDER BY id")) ||
        (rc = mlops__stmt_bind_int64(stmt, 1, def->id)))
        goto out_release;
    while ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        const uint8_t *payload = mlops__stmt_blob(stmt, 8);
        size_t len = mlops__stmt_bytes(stmt, 8);
        int32_t version = (int32_t)mlops__stmt_int64(stmt, 7);
        if ((rc = mlops_frame_append_rows(frame, 1)) ||
            (rc = mlops_frame_set_int64(frame, 0, row, mlops__stmt_int64(stmt, 0))))
            break;
        for (i = 1; i <= 3 && rc == MLOPS_OK; i++)
            rc = mlops_frame_set_string(frame, i, row, mlops__stmt_text(stmt, (int)i), mlops__stmt_bytes(stmt, (int)i));
        if (rc || (rc = mlops_frame_set_int64(frame, 4, row, mlops__stmt_int64(stmt, 4))))
            break;
        if (!mlops__stmt_is_null(stmt, 5) &&
            (rc = mlops__fs_key_decode(frame, key_col, row, &def->entity, mlops__stmt_blob(stmt, 5),
                                       mlops__stmt_bytes(stmt, 5))))
            break;
        if (!mlops__stmt_is_null(stmt, 6) &&
            (rc = mlops_frame_set_int64(frame, first_feature - 1, row, mlops__stmt_int64(stmt, 6))))
            break;
        if ((rc = mlops__fs_plan_check(plan, version, payload, len)))
            break;
        for (i = 0; i < plan->count && rc == MLOPS_OK; i++)
            rc = mlops__fs_plan_decode_cell(plan, i, version, payload, len, frame, first_feature + i, row);
        if (rc)
            break;
        row++;
    }
    if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
out_release:
    mlops__stmt_release(stmt);
out_free:
    mlops__fs_plan_free(plan);
    if (rc == MLOPS_OK)
        *out = frame;
    else
        mlops_frame_free(frame);
    return rc;
}

int mlops_features_quarantine_retry(mlops_ingest_report *report, mlops_db *db, const char *view,
                                    const mlops_frame *frame)
{
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    fs_view *def = NULL;
    mlops__stmt *stmt = NULL;
    uint8_t *ignored = NULL;
    size_t id_col, i, c, rows;
    int64_t secure_delete = 1;
    int rc;

    if (!report)
        return mlops__error_null("features", "mlops_features_quarantine_retry", "report");
    memset(report, 0, sizeof *report);
    if (!db)
        return mlops__error_null("features", "mlops_features_quarantine_retry", "db");
    if (!view)
        return mlops__error_null("features", "mlops_features_quarantine_retry", "view");
    if (!frame)
        return mlops__error_null("features", "mlops_features_quarantine_retry", "frame");
    if (mlops_frame_column_index(&id_col, frame, "quarantine_id") != MLOPS_OK ||
        mlops_frame_column_type(frame, id_col) != MLOPS_TYPE_INT64)
        return mlops__error(MLOPS_EINVAL, "features", "quarantine retry of \"%s\": the frame needs an int64 column "
                            "\"quarantine_id\"", view);
    if ((rc = mlops__fs_view_load(&def, db, view, 0)))
        return rc;
    rows = mlops_frame_rows(frame);
    ignored = mlops__calloc(mlops_frame_columns(frame) + 1, 1);
    if (!ignored) {
        rc = mlops__error(MLOPS_ENOMEM, "features", "out of memory retrying quarantined rows");
        goto out_free;
    }
    for (i = 0; i < QUARANTINE_META_COUNT; i++)
        if (mlops_frame_column_index(&c, frame, quarantine_meta[i]) == MLOPS_OK)
            ignored[c] = 1;
    if ((rc = mlops__fs_secure_delete_on(&secure_delete, db)))
        goto out_free;
    if ((rc = mlops__tx_begin(db)))
        goto out_secure;
    if ((rc = mlops__db_prepare(&stmt, db, "DELETE FROM fs_quarantine WHERE id = ?1 AND view_id = ?2")))
        goto out_end;
    for (i = 0; i < rows && rc == MLOPS_OK; i++) {
        int64_t id = 0;
        if (mlops_frame_get_int64(&id, frame, id_col, i) == MLOPS_NULL) {
            rc = mlops__error(MLOPS_EINVAL, "features", "quarantine retry of \"%s\": row %zu has no quarantine_id",
                              view, i);
            break;
        }
        if ((rc = mlops__stmt_bind_int64(stmt, 1, id)) || (rc = mlops__stmt_bind_int64(stmt, 2, def->id)))
            break;
        rc = mlops__stmt_step(stmt);
        mlops__stmt_reset(stmt);
        if (rc == MLOPS_DONE)
            rc = mlops__db_changes(db) == 1 ? MLOPS_OK
                                            : mlops__error(MLOPS_ENOTFOUND, "features",
                                                           "view \"%s\": quarantine_id %lld (row %zu) not found", view,
                                                           (long long)id, i);
    }
    mlops__stmt_release(stmt);
    options.policy = MLOPS_INGEST_QUARANTINE;
    if (rc == MLOPS_OK)
        rc = ingest_frame(report, db, view, frame, &options, ignored);
out_end:
    rc = mlops__tx_end(db, rc);
out_secure:
    mlops__fs_secure_delete_restore(db, secure_delete);
out_free:
    mlops__free(ignored);
    mlops__fs_view_free(def);
    return rc;
}
