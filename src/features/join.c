/*
 * The point-in-time join. For each view referenced, the entity rows are
 * sorted by (key, timestamp) and merged with one ordered scan of the view's
 * history, which SQLite returns in primary-key order (key, event time,
 * system time) without sorting, seeking ahead past long runs of keys nobody
 * asked for. The last history row passed for a key with
 * event time <= the query's timestamp is the answer: newest event time,
 * ties by the latest system time. Memory grows with the entity frame only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "features_int.h"

#define HISTORY_SCAN_SQL                                                                                \
    "SELECT key, event_time, version, payload FROM fs_history WHERE view_id = ?1 AND key >= ?2 AND "    \
    "key <= ?3 AND system_time <= ?4 ORDER BY key, event_time, system_time"

typedef struct query_row {
    const uint8_t *key;
    uint32_t key_len;
    uint32_t row;
    int64_t ts;
} query_row;

/* The references of one view: which refs, and the plan reading their features. */
typedef struct view_group {
    char *view;
    size_t count;
    size_t *refs;            /* indices into the refs list */
    const char **features;
    fs_plan *plan;
} view_group;

/* The entity rows of one entity, encoded and sorted. */
typedef struct query_set {
    const fs_entity *entity;
    mlops__buf arena;
    query_row *rows;
    size_t count;
} query_set;

static int query_cmp(const void *a, const void *b)
{
    const query_row *x = a, *y = b;
    int c = mlops__fs_key_cmp(x->key, x->key_len, y->key, y->key_len);
    if (c)
        return c;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    return x->row < y->row ? -1 : x->row > y->row;
}

static int same_entity(const fs_entity *a, const fs_entity *b)
{
    size_t i;
    if (!a || a->key_count != b->key_count)
        return 0;
    for (i = 0; i < a->key_count; i++)
        if (strcmp(a->keys[i].name, b->keys[i].name) != 0 || a->keys[i].type != b->keys[i].type)
            return 0;
    return 1;
}

static void query_set_clear(query_set *q)
{
    mlops__buf_free(&q->arena);
    mlops__free(q->rows);
    q->rows = NULL;
    q->count = 0;
    q->entity = NULL;
}

/* Encode the key and timestamp of every usable entity row and sort them. */
static int query_set_build(query_set *q, const fs_entity *entity, const mlops_frame *entities, size_t ts_col,
                           const char *view)
{
    size_t cols[8], rows = mlops_frame_rows(entities), row, n = 0, i, offset;
    const int64_t *ts = NULL;
    const uint8_t *ts_nulls = NULL;
    mlops__buf key;
    char what[96];
    int rc;

    query_set_clear(q);
    mlops__buf_init(&q->arena);
    snprintf(what, sizeof what, "join of view \"%s\": entity frame", view);
    if ((rc = mlops__fs_key_columns(cols, entity, entities, what)))
        return rc;
    if (rows > UINT32_MAX)
        return mlops__error(MLOPS_ELIMIT, "features", "join: %zu entity rows exceed the limit of %u", rows,
                            (unsigned)UINT32_MAX);
    mlops_frame_column_int64(&ts, entities, ts_col);
    mlops_frame_column_nulls(&ts_nulls, entities, ts_col);
    q->rows = mlops__malloc((rows ? rows : 1) * sizeof *q->rows);
    if (!q->rows)
        return mlops__error(MLOPS_ENOMEM, "features", "join: out of memory for %zu entity rows", rows);
    mlops__buf_init(&key);
    for (row = 0; row < rows; row++) {
        if (ts_nulls[row])
            continue;
        rc = mlops__fs_key_encode(&key, entity, cols, entities, row);
        if (rc == MLOPS_NULL)
            continue;
        if (rc)
            break;
        q->rows[n].key_len = (uint32_t)key.len;
        q->rows[n].row = (uint32_t)row;
        q->rows[n].ts = ts[row];
        mlops__buf_append(&q->arena, key.data, key.len);
        n++;
    }
    mlops__buf_free(&key);
    if (rc == MLOPS_NULL)
        rc = MLOPS_OK;
    if (rc == MLOPS_OK)
        rc = mlops__buf_status(&q->arena, "features");
    if (rc) {
        query_set_clear(q);
        return rc;
    }
    /* The arena holds the keys in row order and stops moving now: point into it. */
    for (i = 0, offset = 0; i < n; i++) {
        q->rows[i].key = (const uint8_t *)q->arena.data + offset;
        offset += q->rows[i].key_len;
    }
    qsort(q->rows, n, sizeof *q->rows, query_cmp);
    q->count = n;
    q->entity = entity;
    return MLOPS_OK;
}

/* The candidate row for the current query key: the newest row passed so far. */
typedef struct candidate {
    int valid;
    int64_t event_time;
    int32_t version;
    mlops__buf payload;
} candidate;

/*
 * An ordered scan of one view's history from a key on. When the scan would
 * step over many rows of keys nobody asked for, it seeks instead: the cost
 * stays near min(one full scan, one seek per queried key).
 */
#define RESEEK_AFTER 64

typedef struct scan {
    mlops__stmt *stmt;
    int64_t view_id;
    int64_t as_of;
    const query_row *last;   /* the greatest queried key bounds the scan */
    int have;
    const uint8_t *key;
    size_t len;
    int64_t event_time;
} scan;

static int scan_read(scan *s, int rc)
{
    if (rc != MLOPS__ROW && rc != MLOPS_DONE)
        return rc;
    s->have = rc == MLOPS__ROW;
    if (s->have) {
        s->key = mlops__stmt_blob(s->stmt, 0);
        s->len = mlops__stmt_bytes(s->stmt, 0);
        s->event_time = mlops__stmt_int64(s->stmt, 1);
    }
    return MLOPS_OK;
}

/* (Re)start at the first row whose key is >= `from`. */
static int scan_seek(scan *s, const uint8_t *from, size_t len)
{
    int rc;
    mlops__stmt_reset(s->stmt);
    if ((rc = mlops__stmt_bind_int64(s->stmt, 1, s->view_id)) || (rc = mlops__stmt_bind_blob(s->stmt, 2, from, len)) ||
        (rc = mlops__stmt_bind_blob(s->stmt, 3, s->last->key, s->last->key_len)) ||
        (rc = mlops__stmt_bind_int64(s->stmt, 4, s->as_of)))
        return rc;
    return scan_read(s, mlops__stmt_step(s->stmt));
}

static int merge_view(mlops_frame *out, size_t first_out_col, const view_group *g, const query_set *q,
                      mlops_db *db, int64_t as_of_system_time)
{
    const fs_plan *plan = g->plan;
    candidate cand;
    scan s;
    size_t i, f, skipped;
    int rc;

    if (q->count == 0)
        return MLOPS_OK;
    memset(&cand, 0, sizeof cand);
    memset(&s, 0, sizeof s);
    mlops__buf_init(&cand.payload);
    s.view_id = plan->view->id;
    s.as_of = as_of_system_time == MLOPS_TIME_UNSET ? INT64_MAX : as_of_system_time;
    s.last = &q->rows[q->count - 1];
    if ((rc = mlops__db_prepare(&s.stmt, db, HISTORY_SCAN_SQL)))
        return rc;
    if ((rc = scan_seek(&s, q->rows[0].key, q->rows[0].key_len)))
        goto out_release;
    for (i = 0; i < q->count && rc == MLOPS_OK; i++) {
        const query_row *qr = &q->rows[i];
        if (i == 0 || mlops__fs_key_cmp(qr->key, qr->key_len, q->rows[i - 1].key, q->rows[i - 1].key_len) != 0)
            cand.valid = 0;
        /* Pass every history row up to (this key, this timestamp), remembering the last of this key. */
        skipped = 0;
        while (s.have) {
            int c = mlops__fs_key_cmp(s.key, s.len, qr->key, qr->key_len);
            if (c > 0 || (c == 0 && s.event_time > qr->ts))
                break;
            if (c < 0 && ++skipped > RESEEK_AFTER) {
                if ((rc = scan_seek(&s, qr->key, qr->key_len)))
                    goto out_release;
                skipped = 0;
                continue;
            }
            if (c == 0) {
                cand.valid = 1;
                cand.event_time = s.event_time;
                cand.version = (int32_t)mlops__stmt_int64(s.stmt, 2);
                cand.payload.len = 0;
                mlops__buf_append(&cand.payload, mlops__stmt_blob(s.stmt, 3), mlops__stmt_bytes(s.stmt, 3));
                if ((rc = mlops__buf_status(&cand.payload, "features")) ||
                    (rc = mlops__fs_plan_check(plan, cand.version, (const uint8_t *)cand.payload.data,
                                               cand.payload.len)))
                    goto out_release;
            }
            if ((rc = scan_read(&s, mlops__stmt_step(s.stmt))))
                goto out_release;
        }
        if (!cand.valid || !mlops__fs_fresh(plan->view, cand.event_time, qr->ts))
            continue;
        for (f = 0; f < g->count && rc == MLOPS_OK; f++)
            rc = mlops__fs_plan_decode_cell(plan, f, cand.version, (const uint8_t *)cand.payload.data,
                                            cand.payload.len, out, first_out_col + g->refs[f], qr->row);
    }
out_release:
    mlops__stmt_release(s.stmt);
    mlops__buf_free(&cand.payload);
    return rc;
}

static void groups_free(view_group *groups, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++) {
        mlops__free(groups[i].view);
        mlops__free(groups[i].refs);
        mlops__free(groups[i].features);
        mlops__fs_plan_free(groups[i].plan);
    }
    mlops__free(groups);
}

/* Split the refs into per-view groups (in order of first mention). */
static int group_refs(view_group **out, size_t *count_out, const char *const *refs, size_t ref_count)
{
    view_group *groups = mlops__calloc(ref_count, sizeof *groups);
    size_t n = 0, r, g;
    int rc = MLOPS_OK;

    if (!groups)
        return mlops__error(MLOPS_ENOMEM, "features", "join: out of memory");
    for (r = 0; r < ref_count && rc == MLOPS_OK; r++) {
        const char *colon = refs[r] ? strchr(refs[r], ':') : NULL;
        size_t vlen;
        if (!colon || colon == refs[r] || colon[1] == 0 || strchr(colon + 1, ':')) {
            rc = mlops__error(MLOPS_EINVAL, "features", "join: reference %zu \"%s\" is not \"view:feature\"", r,
                              refs[r] ? refs[r] : "(null)");
            break;
        }
        vlen = (size_t)(colon - refs[r]);
        for (g = 0; g < n; g++)
            if (strlen(groups[g].view) == vlen && memcmp(groups[g].view, refs[r], vlen) == 0)
                break;
        if (g == n) {
            groups[n].view = mlops__strndup(refs[r], vlen);
            groups[n].refs = mlops__calloc(ref_count, sizeof *groups[n].refs);
            groups[n].features = mlops__calloc(ref_count, sizeof *groups[n].features);
            n++;
            if (!groups[g].view || !groups[g].refs || !groups[g].features) {
                rc = mlops__error(MLOPS_ENOMEM, "features", "join: out of memory");
                break;
            }
        }
        groups[g].refs[groups[g].count] = r;
        groups[g].features[groups[g].count] = colon + 1;
        groups[g].count++;
    }
    if (rc) {
        groups_free(groups, n);
        return rc;
    }
    *out = groups;
    *count_out = n;
    return MLOPS_OK;
}

int mlops_features_join(mlops_frame **out, mlops_db *db, const mlops_frame *entities, const char *const *refs,
                        size_t ref_count, const mlops_read_options *options)
{
    mlops_read_options opt;
    view_group *groups = NULL;
    query_set q;
    mlops_frame *frame = NULL;
    const char *ts_name;
    size_t group_count = 0, ts_col, first_out_col, g, r, f;
    int rc;

    if (!out)
        return mlops__error_null("features", "mlops_features_join", "out");
    *out = NULL;
    if (!db)
        return mlops__error_null("features", "mlops_features_join", "db");
    if (!entities)
        return mlops__error_null("features", "mlops_features_join", "entities");
    if (!refs)
        return mlops__error_null("features", "mlops_features_join", "refs");
    if ((rc = mlops__fs_read_options(&opt, options)))
        return rc;
    if (ref_count == 0)
        return mlops__error(MLOPS_EINVAL, "features", "join: no feature references");
    ts_name = opt.timestamp_column ? opt.timestamp_column : "timestamp";
    if (mlops_frame_column_index(&ts_col, entities, ts_name) != MLOPS_OK ||
        mlops_frame_column_type(entities, ts_col) != MLOPS_TYPE_INT64)
        return mlops__error(MLOPS_EINVAL, "features", "join: the entity frame has no int64 timestamp column \"%s\"",
                            ts_name);
    memset(&q, 0, sizeof q);
    mlops__buf_init(&q.arena);
    if ((rc = group_refs(&groups, &group_count, refs, ref_count)))
        return rc;
    /* Every view is read from one snapshot, even while another connection writes. */
    if ((rc = mlops__tx_begin_read(db)))
        goto out_free;
    if (opt.definition_version && group_count > 1) {
        rc = mlops__error(MLOPS_EINVAL, "features", "join: a definition version applies to a one-view join only");
        goto out_end;
    }
    for (g = 0; g < group_count; g++)
        if ((rc = mlops__fs_plan_new(&groups[g].plan, db, groups[g].view, opt.definition_version, groups[g].features,
                                     groups[g].count)))
            goto out_end;
    if ((rc = mlops_frame_clone(&frame, entities)))
        goto out_end;
    first_out_col = mlops_frame_columns(frame);
    for (r = 0; r < ref_count; r++) {
        for (g = 0; g < group_count; g++)
            for (f = 0; f < groups[g].count; f++)
                if (groups[g].refs[f] == r) {
                    const fs_feature *feat = groups[g].plan->features[f];
                    rc = mlops_frame_add_column(frame, refs[r], feat->type,
                                                feat->type == MLOPS_TYPE_F32VEC ? feat->dim : 0);
                    if (rc)
                        goto out_end;
                }
    }
    for (g = 0; g < group_count; g++) {
        const fs_entity *entity = &groups[g].plan->view->entity;
        if (!same_entity(q.entity, entity) &&
            (rc = query_set_build(&q, entity, entities, ts_col, groups[g].view)))
            goto out_end;
        q.entity = entity;
        if ((rc = merge_view(frame, first_out_col, &groups[g], &q, db, opt.as_of_system_time)))
            goto out_end;
    }
out_end:
    rc = mlops__tx_end(db, rc);
out_free:
    query_set_clear(&q);
    groups_free(groups, group_count);
    if (rc == MLOPS_OK)
        *out = frame;
    else
        mlops_frame_free(frame);
    return rc;
}
