/*
 * Key lookups: online latest values (from the online table, or from the
 * history when reading as of an earlier system time), as-of event time
 * reads, and the allocation-free float32 path for inference.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "features_int.h"

#define ONLINE_SQL "SELECT event_time, version, payload FROM fs_online WHERE view_id = ?1 AND key = ?2"
#define AS_OF_SQL                                                                                          \
    "SELECT event_time, version, payload FROM fs_history WHERE view_id = ?1 AND key = ?2 AND "             \
    "event_time <= ?3 AND system_time <= ?4 ORDER BY event_time DESC, system_time DESC LIMIT 1"

/* One prepared lookup: the online table, or the newest history row within both time bounds. */
typedef struct lookup {
    mlops__stmt *stmt;
    int history;
    int64_t event_time_max;
    int64_t system_time_max;
} lookup;

static int lookup_prepare(lookup *l, mlops_db *db, int online, int64_t event_time, int64_t as_of_system_time)
{
    l->history = !online || as_of_system_time != MLOPS_TIME_UNSET;
    l->event_time_max = online ? INT64_MAX : event_time;
    l->system_time_max = as_of_system_time == MLOPS_TIME_UNSET ? INT64_MAX : as_of_system_time;
    return mlops__db_prepare(&l->stmt, db, l->history ? AS_OF_SQL : ONLINE_SQL);
}

/* Step the lookup for `key`: MLOPS__ROW with the row ready, MLOPS_DONE, or an error. */
static int lookup_run(lookup *l, int64_t view_id, const void *key, size_t len)
{
    int rc;
    mlops__stmt_reset(l->stmt);
    if ((rc = mlops__stmt_bind_int64(l->stmt, 1, view_id)) || (rc = mlops__stmt_bind_blob(l->stmt, 2, key, len)))
        return rc;
    if (l->history && ((rc = mlops__stmt_bind_int64(l->stmt, 3, l->event_time_max)) ||
                       (rc = mlops__stmt_bind_int64(l->stmt, 4, l->system_time_max))))
        return rc;
    return mlops__stmt_step(l->stmt);
}

static int read_keys(mlops_frame **out, mlops_db *db, const char *view, const mlops_frame *keys,
                     const char *const *features, size_t count, int online, int64_t event_time,
                     const mlops_read_options *options, const char *function)
{
    mlops_read_options opt;
    fs_plan *plan = NULL;
    mlops_frame *frame = NULL;
    lookup l = {0};
    mlops__buf key;
    size_t cols[8], rows, row, i, nkeys, first_feature;
    int64_t reference;
    int rc;

    if (!out)
        return mlops__error_null("features", function, "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", function, "db");
    if (!view)
        return mlops__error_null("features", function, "view");
    if (!keys)
        return mlops__error_null("features", function, "keys");
    if (!features && count)
        return mlops__error_null("features", function, "features");
    if ((rc = mlops__fs_read_options(&opt, options)))
        return rc;
    /* One snapshot for the definitions and every key. */
    if ((rc = mlops__tx_begin_read(db)))
        return rc;
    mlops__buf_init(&key);
    if ((rc = mlops__fs_plan_new(&plan, db, view, opt.definition_version, features, count)))
        goto out_free;
    nkeys = plan->view->entity.key_count;
    first_feature = nkeys + 2;
    rows = mlops_frame_rows(keys);
    {
        char what[96];
        snprintf(what, sizeof what, "feature view \"%s\": keys", view);
        if ((rc = mlops__fs_key_columns(cols, &plan->view->entity, keys, what)))
            goto out_free;
    }
    if ((rc = mlops__fs_read_frame(&frame, plan, rows)))
        goto out_free;
    reference = online ? (opt.now == MLOPS_TIME_UNSET ? mlops__now_us() : opt.now) : event_time;
    if ((rc = lookup_prepare(&l, db, online, event_time, opt.as_of_system_time)))
        goto out_free;
    for (row = 0; row < rows; row++) {
        const uint8_t *payload;
        size_t len;
        int32_t version;
        int64_t et;
        rc = mlops__fs_key_encode(&key, &plan->view->entity, cols, keys, row);
        if (rc == MLOPS_NULL)
            continue;
        if (rc || (rc = mlops__fs_key_decode(frame, 0, row, &plan->view->entity, (const uint8_t *)key.data, key.len)))
            break;
        rc = lookup_run(&l, plan->view->id, key.data, key.len);
        if (rc == MLOPS_DONE)
            continue;
        if (rc != MLOPS__ROW)
            break;
        et = mlops__stmt_int64(l.stmt, 0);
        version = (int32_t)mlops__stmt_int64(l.stmt, 1);
        payload = mlops__stmt_blob(l.stmt, 2);
        len = mlops__stmt_bytes(l.stmt, 2);
        if ((rc = mlops__fs_plan_check(plan, version, payload, len)) ||
            (rc = mlops_frame_set_int64(frame, nkeys, row, et)) ||
            (rc = mlops_frame_set_int64(frame, nkeys + 1, row, (int64_t)((uint64_t)reference - (uint64_t)et))))
            break;
        if (!mlops__fs_fresh(plan->view, et, reference))
            continue;
        for (i = 0; i < count && rc == MLOPS_OK; i++)
            rc = mlops__fs_plan_decode_cell(plan, i, version, payload, len, frame, first_feature + i, row);
        if (rc)
            break;
    }
    if (rc == MLOPS_DONE || rc == MLOPS__ROW || rc == MLOPS_NULL)
        rc = MLOPS_OK;
out_free:
    mlops__stmt_release(l.stmt);
    rc = mlops__tx_end(db, rc);
    mlops__buf_free(&key);
    mlops__fs_plan_free(plan);
    if (rc == MLOPS_OK)
        *out = frame;
    else
        mlops_frame_free(frame);
    return rc;
}

int mlops_features_online(mlops_frame **out, mlops_db *db, const char *view, const mlops_frame *keys,
                          const char *const *features, size_t feature_count, const mlops_read_options *options)
{
    return read_keys(out, db, view, keys, features, feature_count, 1, 0, options, "mlops_features_online");
}

int mlops_features_as_of(mlops_frame **out, mlops_db *db, const char *view, const mlops_frame *keys,
                         const char *const *features, size_t feature_count, int64_t event_time,
                         const mlops_read_options *options)
{
    return read_keys(out, db, view, keys, features, feature_count, 0, event_time, options, "mlops_features_as_of");
}

/* ---- the float32 fast path ---- */

struct mlops_online_reader {
    mlops_db *db;
    fs_plan *plan;
    size_t width;
    mlops__buf key;
};

int mlops_online_reader_open(mlops_online_reader **out, mlops_db *db, const char *view,
                             const char *const *features, size_t feature_count, const mlops_read_options *options)
{
    mlops_read_options opt;
    mlops_online_reader *reader;
    int rc;

    if (!out)
        return mlops__error_null("features", "mlops_online_reader_open", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", "mlops_online_reader_open", "db");
    if (!view)
        return mlops__error_null("features", "mlops_online_reader_open", "view");
    if (!features)
        return mlops__error_null("features", "mlops_online_reader_open", "features");
    if ((rc = mlops__fs_read_options(&opt, options)))
        return rc;
    if (opt.now != MLOPS_TIME_UNSET || opt.as_of_system_time != MLOPS_TIME_UNSET)
        return mlops__error(MLOPS_EINVAL, "features",
                            "online reader of \"%s\": now and as_of_system_time are given per read, not at open", view);
    if (feature_count == 0)
        return mlops__error(MLOPS_EINVAL, "features", "online reader of \"%s\": no features requested", view);
    reader = mlops__calloc(1, sizeof *reader);
    if (!reader)
        return mlops__error(MLOPS_ENOMEM, "features", "out of memory opening an online reader");
    mlops__buf_init(&reader->key);
    reader->db = db;
    if ((rc = mlops__fs_plan_new(&reader->plan, db, view, opt.definition_version, features, feature_count)))
        goto out_fail;
    reader->width = mlops__fs_plan_width(reader->plan);
    if (reader->width == 0) {
        rc = mlops__error(MLOPS_EINVAL, "features", "online reader of \"%s\": string features cannot be read as floats",
                          view);
        goto out_fail;
    }
    *out = reader;
    return MLOPS_OK;
out_fail:
    mlops_online_reader_free(reader);
    return rc;
}

size_t mlops_online_reader_width(const mlops_online_reader *reader)
{
    return reader ? reader->width : 0;
}

int mlops_online_reader_read(float *out, size_t capacity, mlops_online_reader *reader, const mlops_frame *keys,
                             int64_t now)
{
    const fs_plan *plan;
    lookup l = {0};
    size_t cols[8], rows, row, d;
    int rc;

    if (!reader)
        return mlops__error_null("features", "mlops_online_reader_read", "reader");
    if (!keys)
        return mlops__error_null("features", "mlops_online_reader_read", "keys");
    plan = reader->plan;
    rows = mlops_frame_rows(keys);
    if (!out && rows)
        return mlops__error_null("features", "mlops_online_reader_read", "out");
    if (capacity / reader->width < rows)
        return mlops__error(MLOPS_EBUFSIZE, "features", "online reader of \"%s\": %zu rows need %zu floats, got %zu",
                            plan->view->name, rows, rows * reader->width, capacity);
    if ((rc = mlops__fs_key_columns(cols, &plan->view->entity, keys, "online reader: keys")))
        return rc;
    if (now == MLOPS_TIME_UNSET)
        now = mlops__now_us();
    /* A batch reads one snapshot and takes the file's read locks once. */
    if (rows > 1 && (rc = mlops__tx_begin_read(reader->db)))
        return rc;
    if ((rc = lookup_prepare(&l, reader->db, 1, 0, MLOPS_TIME_UNSET)))
        goto out_end;
    for (row = 0; row < rows; row++) {
        float *dst = out + row * reader->width;
        const uint8_t *payload;
        size_t len;
        int32_t version;
        rc = mlops__fs_key_encode(&reader->key, &plan->view->entity, cols, keys, row);
        if (rc == MLOPS_OK)
            rc = lookup_run(&l, plan->view->id, reader->key.data, reader->key.len);
        if (rc == MLOPS_NULL || rc == MLOPS_DONE ||
            (rc == MLOPS__ROW && !mlops__fs_fresh(plan->view, mlops__stmt_int64(l.stmt, 0), now))) {
            for (d = 0; d < reader->width; d++)
                dst[d] = NAN;
            continue;
        }
        if (rc != MLOPS__ROW)
            break;
        version = (int32_t)mlops__stmt_int64(l.stmt, 1);
        payload = mlops__stmt_blob(l.stmt, 2);
        len = mlops__stmt_bytes(l.stmt, 2);
        if ((rc = mlops__fs_plan_check(plan, version, payload, len)))
            break;
        mlops__fs_plan_decode_floats(plan, version, payload, dst);
    }
    if (rc == MLOPS_DONE || rc == MLOPS__ROW || rc == MLOPS_NULL)
        rc = MLOPS_OK;
    mlops__stmt_release(l.stmt);
out_end:
    return rows > 1 ? mlops__tx_end(reader->db, rc) : rc;
}

void mlops_online_reader_free(mlops_online_reader *reader)
{
    if (!reader)
        return;
    mlops__fs_plan_free(reader->plan);
    mlops__buf_free(&reader->key);
    mlops__free(reader);
}
