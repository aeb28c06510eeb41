/*
 * Live profiles per time window in the database: put merges into a stored
 * window inside one transaction, a failed put leaves the table as it was,
 * list and get read them back, and the trend compares each window with a
 * reference profile.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

#define HOUR INT64_C(3600000000)
static const char *spec = "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\"},{\"name\":\"c\",\"kind\":\"categorical\"}]}";

static mlops_profile *fed_profile(size_t n, double shift)
{
    mlops_profile *p = NULL;
    size_t i;
    assert_int_equal(mlops_profile_new(&p, spec), MLOPS_OK);
    for (i = 0; i < n; i++) {
        double x = (double)((i * 7919) % 1000) / 100.0 + shift;
        const char *c = (i % 3 == 0 || shift > 0) ? "a" : "b";
        assert_int_equal(mlops_profile_update_float64(p, 0, &x, NULL, 1), MLOPS_OK);
        assert_int_equal(mlops_profile_update_strings(p, 1, &c, 1), MLOPS_OK);
    }
    return p;
}

static mlops_db *open_db(const char *name)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, ts_path(name), NULL), MLOPS_OK);
    return db;
}

static void test_put_list_get_and_merge(void **state)
{
    mlops_db *db = open_db("windows.db");
    mlops_profile *a = fed_profile(2000, 0), *b = fed_profile(1500, 0), *got = NULL;
    mlops_column_stats st;
    char *json = NULL, *before = NULL;
    mlops__json *doc = NULL, *w;
    int32_t version = 0;
    (void)state;
    assert_int_equal(mlops_db_schema_version(&version, db), MLOPS_OK);
    assert_true(version >= 2);
    assert_int_equal(mlops_drift_window_put(db, "live", 0, HOUR, a), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "live", HOUR, 2 * HOUR, b), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "other", 0, HOUR, b), MLOPS_OK);
    /* A second put to the same window merges. */
    assert_int_equal(mlops_drift_window_put(db, "live", 0, HOUR, b), MLOPS_OK);
    assert_int_equal(mlops_drift_window_get(&got, db, "live", 0), MLOPS_OK);
    assert_int_equal(mlops_profile_column_stats(&st, got, 0), MLOPS_OK);
    assert_int_equal(st.count, 3500);
    mlops_profile_free(got);
    assert_int_equal(mlops_drift_window_list(&json, db, "live", 0, 10 * HOUR), MLOPS_OK);
    assert_int_equal(mlops__json_parse(&doc, json, "test", "list"), MLOPS_OK);
    w = mlops__json_get(doc, "windows");
    assert_int_equal(mlops__json_array_size(w), 2);
    assert_true(mlops__json_number(mlops__json_get(mlops__json_at(w, 0), "rows")) == 3500);
    assert_true(mlops__json_number(mlops__json_get(mlops__json_at(w, 1), "start_us")) == (double)HOUR);
    assert_string_equal(mlops__json_string(mlops__json_get(mlops__json_at(w, 0), "start")), "1970-01-01T00:00:00.000000Z");
    mlops__json_free(doc);
    /* A failing put changes nothing. */
    before = json;
    ts_assert_error(mlops_drift_window_put(db, "live", 0, 3 * HOUR, a), MLOPS_ECONFLICT, "stored end");
    {
        mlops_profile *other = NULL;
        assert_int_equal(mlops_profile_new(&other, "{\"columns\":[{\"name\":\"z\",\"kind\":\"numeric\"}]}"), MLOPS_OK);
        ts_assert_error(mlops_drift_window_put(db, "live", 0, HOUR, other), MLOPS_EINVAL, "different specifications");
        mlops_profile_free(other);
    }
    assert_int_equal(mlops_drift_window_list(&json, db, "live", 0, 10 * HOUR), MLOPS_OK);
    /* updated_us is the same too: nothing was written. */
    assert_string_equal(before, json);
    mlops_free(before);
    mlops_free(json);
    assert_int_equal(mlops_drift_window_list(&json, db, "live", HOUR, 10 * HOUR), MLOPS_OK);
    assert_non_null(strstr(json, "\"rows\":1500"));
    assert_null(strstr(json, "\"rows\":3500"));
    mlops_free(json);
    ts_assert_error(mlops_drift_window_get(&got, db, "live", 5), MLOPS_ENOTFOUND, "not found");
    ts_assert_error(mlops_drift_window_put(db, "live", HOUR, HOUR, a), MLOPS_EINVAL, "not after start");
    ts_assert_error(mlops_drift_window_put(db, "", 0, HOUR, a), MLOPS_EINVAL, "empty stream");
    ts_assert_error(mlops_drift_window_put(NULL, "x", 0, HOUR, a), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_drift_window_list(NULL, db, "x", 0, 1), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_drift_trend(&json, db, "x", NULL, 0, 1, NULL), MLOPS_EINVAL, "reference");
    mlops_profile_free(a);
    mlops_profile_free(b);
    mlops_db_close(db);
}

static void test_trend_against_reference(void **state)
{
    mlops_db *db = open_db("trend.db");
    mlops_profile *ref = fed_profile(5000, 0), *calm = fed_profile(3000, 0), *shifted = fed_profile(3000, 4.0);
    char *json = NULL;
    mlops__json *doc = NULL, *w;
    (void)state;
    assert_int_equal(mlops_drift_window_put(db, "live", 0, HOUR, calm), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "live", HOUR, 2 * HOUR, shifted), MLOPS_OK);
    assert_int_equal(mlops_drift_trend(&json, db, "live", ref, 0, 2 * HOUR, NULL), MLOPS_OK);
    assert_int_equal(mlops__json_parse(&doc, json, "test", "trend"), MLOPS_OK);
    w = mlops__json_get(doc, "windows");
    assert_int_equal(mlops__json_array_size(w), 2);
    assert_false(mlops__json_bool(mlops__json_get(mlops__json_get(mlops__json_get(mlops__json_at(w, 0), "report"), "dataset"), "drifted")));
    assert_true(mlops__json_bool(mlops__json_get(mlops__json_get(mlops__json_get(mlops__json_at(w, 1), "report"), "dataset"), "drifted")));
    mlops__json_free(doc);
    mlops_free(json);
    ts_assert_error(mlops_drift_trend(&json, db, "live", ref, 0, 2 * HOUR, "{\"bogus\":1}"), MLOPS_EFORMAT, "$.bogus");
    mlops_profile_free(ref);
    mlops_profile_free(calm);
    mlops_profile_free(shifted);
    mlops_db_close(db);
}

typedef struct put_ctx {
    mlops_db *db;
    mlops_profile *p;
    int round;
} put_ctx;

static int put_call(void *arg)
{
    put_ctx *c = arg;
    return mlops_drift_window_put(c->db, "alloc", (int64_t)c->round * HOUR, (int64_t)(c->round + 1) * HOUR, c->p);
}

static int trend_call(void *arg)
{
    put_ctx *c = arg;
    char *json = NULL;
    int rc = mlops_drift_trend(&json, c->db, "alloc", c->p, 0, 100 * HOUR, NULL);
    mlops_free(json);
    return rc;
}

static void no_cleanup(void *arg)
{
    (void)arg;
}

static void put_cleanup(void *arg)
{
    put_ctx *c = arg;
    char *json = NULL;
    /* Either nothing was stored (a failure) or the whole window (the final success). */
    assert_int_equal(mlops_drift_window_list(&json, c->db, "alloc", (int64_t)c->round * HOUR, (int64_t)(c->round + 1) * HOUR), MLOPS_OK);
    assert_true(strstr(json, "start_us") == NULL || strstr(json, "\"rows\":300") != NULL);
    mlops_free(json);
}

static void put_cleanup_stored(put_ctx *c)
{
    char *json = NULL;
    assert_int_equal(mlops_drift_window_list(&json, c->db, "alloc", 0, 100 * HOUR), MLOPS_OK);
    assert_non_null(strstr(json, "start_us"));
    mlops_free(json);
}

static void test_allocation_failures_leave_no_window(void **state)
{
    put_ctx c;
    (void)state;
    c.db = open_db("alloc.db");
    c.p = fed_profile(300, 0);
    /* Warm the database's statement cache (it keeps its statements for the life of the handle). */
    c.round = 5;
    assert_int_equal(put_call(&c), MLOPS_OK);
    assert_int_equal(put_call(&c), MLOPS_OK);
    put_cleanup_stored(&c);
    c.round = 0;
    assert_true(ts_each_allocation_failure(put_call, put_cleanup, &c) > 3);
    assert_true(ts_each_allocation_failure(trend_call, no_cleanup, &c) > 3);
    mlops_profile_free(c.p);
    mlops_db_close(c.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_put_list_get_and_merge),
        cmocka_unit_test(test_trend_against_reference),
        cmocka_unit_test(test_allocation_failures_leave_no_window),
    };
    ts_alloc_install();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
