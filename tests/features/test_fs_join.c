/*
 * The point-in-time join (and the online table) against a brute-force
 * reference on randomized data: duplicates, ties on event time,
 * corrections, late rows, keys with no rows, timestamps before any row,
 * TTL, reads as of a system time.
 */
#include <stdlib.h>

#include "fs_fixture.h"

#define KEYS 20          /* customer ids 0..19; 15..19 never get rows */
#define KEYS_WITH_ROWS 15
#define BATCHES 6
#define BATCH_ROWS 60
#define QUERIES 400
#define MAX_RECORDS (3 * BATCHES * BATCH_ROWS)

static const char *const shops[] = {"north", "south", "east", "west", "closed", "gone"};

typedef struct record {
    int view;            /* 0: a (customer), 1: b (customer, TTL 50), 2: m (shop) */
    int64_t key;         /* customer id or shop index */
    int64_t et;
    int64_t st;
    int idx;             /* row index within its write: the last one wins a tie */
    int64_t r;           /* the value; x = r / 4 (null when r % 7 == 0), n = r */
} record;

static record records[MAX_RECORDS];
static size_t record_count;
static int64_t batch_times[BATCHES];
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static int64_t uniform(int64_t lo, int64_t hi)
{
    return lo + (int64_t)(rng() % (uint64_t)(hi - lo + 1));
}

static mlops_db *open_views(const char *name)
{
    mlops_db *db = fx_open(name);
    assert_int_equal(mlops_entity_define(db, CUSTOMER_JSON), MLOPS_OK);
    assert_int_equal(mlops_entity_define(db, "{\"name\":\"shop\",\"keys\":[{\"name\":\"shop\",\"type\":\"string\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"a\",\"entity\":\"customer\",\"features\":["
                                                 "{\"name\":\"x\",\"type\":\"float64\"},{\"name\":\"n\",\"type\":\"int64\"}]}",
                                       0), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"b\",\"entity\":\"customer\",\"ttl_us\":50,\"features\":["
                                                 "{\"name\":\"x\",\"type\":\"float64\"},{\"name\":\"n\",\"type\":\"int64\"}]}",
                                       0), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"m\",\"entity\":\"shop\",\"features\":["
                                                 "{\"name\":\"x\",\"type\":\"float64\"},{\"name\":\"n\",\"type\":\"int64\"}]}",
                                       0), MLOPS_OK);
    return db;
}

static void write_batch(mlops_db *db, int view, int batch)
{
    mlops_frame *frame = NULL;
    mlops_ingest_report report;
    int64_t ids[BATCH_ROWS], times[BATCH_ROWS], ns[BATCH_ROWS];
    double xs[BATCH_ROWS];
    uint8_t nulls[BATCH_ROWS];
    const char *names[BATCH_ROWS];
    size_t first = record_count, i;

    for (i = 0; i < BATCH_ROWS; i++) {
        record *rec = &records[record_count++];
        int64_t pick = (int64_t)(rng() % 10);
        rec->view = view;
        rec->idx = (int)i;
        if (pick < 3 && first > 0) {
            /* Same key and event time as an earlier row of this view: an identical row or a correction. */
            const record *old = &records[(size_t)uniform(0, (int64_t)first - 1)];
            if (old->view != view)
                old = NULL;
            rec->key = old ? old->key : uniform(0, view == 2 ? 3 : KEYS_WITH_ROWS - 1);
            rec->et = old ? old->et : uniform(0, 200);
            rec->r = old && pick == 0 ? old->r : uniform(0, 400);
        } else {
            rec->key = uniform(0, view == 2 ? 3 : KEYS_WITH_ROWS - 1);
            rec->et = uniform(0, 200);
            rec->r = uniform(0, 400);
        }
        ids[i] = rec->key;
        names[i] = view == 2 ? shops[rec->key] : NULL;
        times[i] = rec->et;
        ns[i] = rec->r;
        xs[i] = (double)rec->r / 4.0;
        nulls[i] = rec->r % 7 == 0;
    }
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    if (view == 2)
        assert_int_equal(mlops_frame_add_string(frame, "shop", names, BATCH_ROWS), MLOPS_OK);
    else
        assert_int_equal(mlops_frame_add_int64(frame, "customer_id", ids, NULL, BATCH_ROWS), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", times, NULL, BATCH_ROWS), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "x", xs, nulls, BATCH_ROWS), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "n", ns, NULL, BATCH_ROWS), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, view == 0 ? "a" : view == 1 ? "b" : "m", frame, NULL),
                     MLOPS_OK);
    for (i = first; i < record_count; i++)
        records[i].st = report.system_time;
    batch_times[batch] = report.system_time;
    mlops_frame_free(frame);
}

/* The reference: the newest record (event time, then system time, then row in its write). */
static const record *reference(int view, int64_t key, int64_t ts, int64_t as_of)
{
    const record *best = NULL;
    size_t i;
    for (i = 0; i < record_count; i++) {
        const record *r = &records[i];
        if (r->view != view || r->key != key || r->et > ts || r->st > as_of)
            continue;
        if (!best || r->et > best->et || (r->et == best->et && r->st > best->st) ||
            (r->et == best->et && r->st == best->st && r->idx > best->idx))
            best = r;
    }
    if (best && view == 1 && ts - best->et > 50)
        return NULL;
    return best;
}

static mlops_frame *query_frame(int64_t *qkeys, int64_t *qshops, int64_t *qts)
{
    mlops_frame *frame = NULL;
    int64_t labels[QUERIES];
    const char *names[QUERIES];
    size_t i;
    for (i = 0; i < QUERIES; i++) {
        if (i > 0 && rng() % 8 == 0) {
            /* An exact duplicate of an earlier query row. */
            size_t j = (size_t)uniform(0, (int64_t)i - 1);
            qkeys[i] = qkeys[j];
            qshops[i] = qshops[j];
            qts[i] = qts[j];
        } else {
            qkeys[i] = uniform(0, KEYS - 1);
            qshops[i] = uniform(0, 5);
            qts[i] = uniform(-20, 230);
        }
        labels[i] = (int64_t)i;
        names[i] = shops[qshops[i]];
    }
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "label", labels, NULL, QUERIES), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "timestamp", qts, NULL, QUERIES), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "shop", names, QUERIES), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "customer_id", qkeys, NULL, QUERIES), MLOPS_OK);
    return frame;
}

static void check_join(mlops_db *db, const mlops_frame *entities, const int64_t *qkeys, const int64_t *qshops,
                       const int64_t *qts, int64_t as_of)
{
    static const char *const refs[] = {"b:n", "a:x", "m:x", "a:n", "b:x", "m:n"};
    static const int ref_view[] = {1, 0, 2, 0, 1, 2};
    static const int ref_is_x[] = {0, 1, 1, 0, 1, 0};
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *out = NULL;
    size_t i, r, hits = 0;
    int is_null = 0;

    options.as_of_system_time = as_of;
    assert_int_equal(mlops_features_join(&out, db, entities, refs, 6, &options), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(out), QUERIES);
    assert_int_equal(mlops_frame_columns(out), 4 + 6);
    for (i = 0; i < QUERIES; i++) {
        assert_int_equal(fx_i64(&is_null, out, "label", i), (int64_t)i);
        for (r = 0; r < 6; r++) {
            int64_t key = ref_view[r] == 2 ? qshops[i] : qkeys[i];
            const record *want = reference(ref_view[r], key, qts[i], as_of == MLOPS_TIME_UNSET ? INT64_MAX : as_of);
            if (ref_is_x[r]) {
                double got = fx_f64(out, refs[r], i);
                if (!want || want->r % 7 == 0) {
                    if (!isnan(got))
                        fail_msg("row %zu %s: expected null, got %g", i, refs[r], got);
                } else {
                    if (got != (double)want->r / 4.0)
                        fail_msg("row %zu %s: expected %g, got %g", i, refs[r], (double)want->r / 4.0, got);
                    hits++;
                }
            } else {
                int64_t got = fx_i64(&is_null, out, refs[r], i);
                if (!want)
                    assert_true(is_null);
                else {
                    assert_false(is_null);
                    assert_int_equal(got, want->r);
                }
            }
        }
    }
    /* The data must exercise both outcomes. */
    assert_true(hits > 100);
    mlops_frame_free(out);
}

/* The online table against the reference: the newest row per key, whatever order the rows arrived in. */
static void check_online(mlops_db *db)
{
    static const char *const views[] = {"a", "b", "m"};
    const char *feats[] = {"n"};
    mlops_frame *keys = NULL, *out = NULL;
    int64_t ids[KEYS];
    const char *names[6];
    int view, is_null = 0;
    size_t i, count;
    for (i = 0; i < KEYS; i++)
        ids[i] = (int64_t)i;
    for (i = 0; i < 6; i++)
        names[i] = shops[i];
    for (view = 0; view < 3; view++) {
        count = view == 2 ? 6 : KEYS;
        assert_int_equal(mlops_frame_new(&keys), MLOPS_OK);
        if (view == 2)
            assert_int_equal(mlops_frame_add_string(keys, "shop", names, count), MLOPS_OK);
        else
            assert_int_equal(mlops_frame_add_int64(keys, "customer_id", ids, NULL, count), MLOPS_OK);
        assert_int_equal(mlops_features_online(&out, db, views[view], keys, feats, 1, NULL), MLOPS_OK);
        for (i = 0; i < count; i++) {
            const record *best = NULL;
            size_t r;
            int64_t et, n;
            for (r = 0; r < record_count; r++) {
                const record *rec = &records[r];
                if (rec->view != view || rec->key != (int64_t)i)
                    continue;
                if (!best || rec->et > best->et || (rec->et == best->et && rec->st > best->st) ||
                    (rec->et == best->et && rec->st == best->st && rec->idx > best->idx))
                    best = rec;
            }
            et = fx_i64(&is_null, out, "event_time", i);
            if (!best) {
                assert_true(is_null);
                continue;
            }
            assert_false(is_null);
            assert_int_equal(et, best->et);
            n = fx_i64(&is_null, out, "n", i);
            /* View b's 50 µs TTL has long passed on the wall clock: its values read as null. */
            if (view == 1) {
                assert_true(is_null);
            } else {
                assert_false(is_null);
                assert_int_equal(n, best->r);
            }
        }
        mlops_frame_free(out);
        mlops_frame_free(keys);
    }
}

static void test_join_matches_brute_force(void **state)
{
    mlops_db *db = open_views("join.db");
    int64_t qkeys[QUERIES], qshops[QUERIES], qts[QUERIES];
    mlops_frame *entities;
    int batch, view;
    (void)state;
    record_count = 0;
    for (batch = 0; batch < BATCHES; batch++)
        for (view = 0; view < 3; view++)
            write_batch(db, view, batch);
    check_online(db);
    entities = query_frame(qkeys, qshops, qts);
    check_join(db, entities, qkeys, qshops, qts, MLOPS_TIME_UNSET);
    check_join(db, entities, qkeys, qshops, qts, batch_times[2]);
    check_join(db, entities, qkeys, qshops, qts, batch_times[0] - 1);
    mlops_frame_free(entities);
    mlops_db_close(db);
}

static void test_join_ttl_edges_and_order(void **state)
{
    mlops_db *db = open_views("join_ttl.db");
    mlops_frame *rows = NULL, *entities = NULL, *out = NULL;
    mlops_ingest_report report;
    const char *refs[] = {"b:n"};
    const int64_t ts[5] = {151, 150, 99, 100, 150};
    int is_null = 0;
    (void)state;
    assert_int_equal(mlops_frame_new(&rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "customer_id", (const int64_t[]){1}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "event_time", (const int64_t[]){100}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "n", (const int64_t[]){9}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "b", rows, NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_new(&entities), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "customer_id", (const int64_t[]){1, 1, 1, 1, 1}, NULL, 5), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "at", ts, NULL, 5), MLOPS_OK);
    {
        mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
        options.timestamp_column = "at";
        assert_int_equal(mlops_features_join(&out, db, entities, refs, 1, &options), MLOPS_OK);
    }
    /* 1 µs past the TTL: null; exactly at it: the value; before the row: null; at the row: the value. */
    fx_i64(&is_null, out, "b:n", 0);
    assert_true(is_null);
    assert_int_equal(fx_i64(&is_null, out, "b:n", 1), 9);
    fx_i64(&is_null, out, "b:n", 2);
    assert_true(is_null);
    assert_int_equal(fx_i64(&is_null, out, "b:n", 3), 9);
    assert_int_equal(fx_i64(&is_null, out, "b:n", 4), 9);
    assert_int_equal(fx_i64(&is_null, out, "at", 2), 99);
    mlops_frame_free(out);
    mlops_frame_free(entities);
    mlops_frame_free(rows);
    mlops_db_close(db);
}

/* Sparse queries over dense history: the scan seeks past the 300 rows of key 2 nobody asked for. */
static void test_join_skips_unqueried_keys(void **state)
{
    mlops_db *db = open_views("join_sparse.db");
    mlops_frame *rows = NULL, *entities = NULL, *out = NULL;
    mlops_ingest_report report;
    int64_t ids[900], times[900], ns[900];
    const int64_t q_ids[6] = {3, 1, 4, 1, 0, 3}, q_ts[6] = {10, 150, 5, 400, 5, 299};
    const int64_t want[6] = {3010, 1150, -1, 1299, -1, 3299};
    const char *refs[] = {"a:n"};
    size_t i;
    int is_null = 0;
    (void)state;
    for (i = 0; i < 900; i++) {
        ids[i] = 1 + (int64_t)(i / 300);
        times[i] = (int64_t)(i % 300);
        ns[i] = ids[i] * 1000 + times[i];
    }
    assert_int_equal(mlops_frame_new(&rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "customer_id", ids, NULL, 900), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "event_time", times, NULL, 900), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(rows, "n", ns, NULL, 900), MLOPS_OK);
    assert_int_equal(mlops_features_ingest(&report, db, "a", rows, NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_new(&entities), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "customer_id", q_ids, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "timestamp", q_ts, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_features_join(&out, db, entities, refs, 1, NULL), MLOPS_OK);
    for (i = 0; i < 6; i++) {
        int64_t got = fx_i64(&is_null, out, "a:n", i);
        if (want[i] < 0)
            assert_true(is_null);
        else
            assert_int_equal(got, want[i]);
    }
    mlops_frame_free(out);
    mlops_frame_free(entities);
    mlops_frame_free(rows);
    mlops_db_close(db);
}

static void test_join_errors(void **state)
{
    mlops_db *db = open_views("join_errors.db");
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *entities = NULL, *out = NULL;
    const char *ok_ref[] = {"a:x"};
    (void)state;
    assert_int_equal(mlops_frame_new(&entities), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "customer_id", (const int64_t[]){1}, NULL, 1), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(entities, "timestamp", (const int64_t[]){1}, NULL, 1), MLOPS_OK);
    ts_assert_error(mlops_features_join(&out, db, entities, (const char *[]){"ax"}, 1, NULL), MLOPS_EINVAL,
                    "\"ax\" is not \"view:feature\"");
    ts_assert_error(mlops_features_join(&out, db, entities, (const char *[]){"zz:x"}, 1, NULL), MLOPS_ENOTFOUND,
                    "\"zz\" not found");
    ts_assert_error(mlops_features_join(&out, db, entities, (const char *[]){"a:nope"}, 1, NULL), MLOPS_ENOTFOUND,
                    "no feature \"nope\"");
    ts_assert_error(mlops_features_join(&out, db, entities, (const char *[]){"m:x"}, 1, NULL), MLOPS_EINVAL,
                    "missing key column \"shop\"");
    ts_assert_error(mlops_features_join(&out, db, entities, ok_ref, 0, NULL), MLOPS_EINVAL, "no feature references");
    options.timestamp_column = "when";
    ts_assert_error(mlops_features_join(&out, db, entities, ok_ref, 1, &options), MLOPS_EINVAL, "\"when\"");
    options.timestamp_column = NULL;
    options.definition_version = 1;
    ts_assert_error(mlops_features_join(&out, db, entities, (const char *[]){"a:x", "b:x"}, 2, &options),
                    MLOPS_EINVAL, "one-view join");
    options.version = 99;
    ts_assert_error(mlops_features_join(&out, db, entities, ok_ref, 1, &options), MLOPS_EINVAL, "version 99");
    ts_assert_error(mlops_features_join(NULL, db, entities, ok_ref, 1, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_features_join(&out, NULL, entities, ok_ref, 1, NULL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_features_join(&out, db, NULL, ok_ref, 1, NULL), MLOPS_EINVAL, "entities");
    ts_assert_error(mlops_features_join(&out, db, entities, NULL, 1, NULL), MLOPS_EINVAL, "refs");
    assert_null(out);
    mlops_frame_free(entities);
    mlops_db_close(db);
}

typedef struct join_ctx {
    mlops_db *db;
    mlops_frame *entities;
} join_ctx;

static int join_call(void *p)
{
    join_ctx *ctx = p;
    const char *refs[] = {"a:x", "m:n", "b:x"};
    mlops_frame *out = NULL;
    int rc = mlops_features_join(&out, ctx->db, ctx->entities, refs, 3, NULL);
    mlops_frame_free(out);
    return rc;
}

static void test_join_allocation_failures(void **state)
{
    join_ctx ctx;
    int64_t qkeys[QUERIES], qshops[QUERIES], qts[QUERIES];
    int view;
    (void)state;
    record_count = 0;
    ctx.db = open_views("join_alloc.db");
    for (view = 0; view < 3; view++)
        write_batch(ctx.db, view, 0);
    ctx.entities = query_frame(qkeys, qshops, qts);
    assert_int_equal(join_call(&ctx), MLOPS_OK);
    assert_true(ts_each_allocation_failure(join_call, NULL, &ctx) > 10);
    mlops_frame_free(ctx.entities);
    mlops_db_close(ctx.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_join_matches_brute_force),
        cmocka_unit_test(test_join_ttl_edges_and_order),
        cmocka_unit_test(test_join_skips_unqueried_keys),
        cmocka_unit_test(test_join_errors),
        cmocka_unit_test(test_join_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
