/*
 * Live drift monitor: served inputs and outputs go into windows stored in
 * the database under the version's stream; a window like the reference
 * raises nothing, a shifted one fires the callback with dataset and
 * prediction drift and shows in the metrics.
 */
#include "serve_fixture.h"

#define MODEL "churn"
#define REF_ROWS 2000
#define LIVE_ROWS 1000

typedef struct seen {
    int events, dataset, prediction;
    int64_t version, start, end;
    char stream[64];
} seen;

static void on_drift(const mlops_serve_drift_event *event, void *payload)
{
    seen *s = payload;
    s->events++;
    s->dataset = event->dataset_drift;
    s->prediction = event->prediction_drift;
    s->version = event->version;
    s->start = event->start_us;
    s->end = event->end_us;
    snprintf(s->stream, sizeof s->stream, "%s", event->stream);
    assert_non_null(strstr(event->report_json, "\"dataset\""));
}

/* Serve `rows` rows drawn with `shift`, in calls of 10 rows. */
static void serve(mlops_router *router, uint64_t seed, double shift)
{
    float x[10 * SF_IN], y[10 * SF_OUT];
    char key[32];
    size_t i;
    for (i = 0; i < LIVE_ROWS / 10; i++) {
        int64_t version;
        sf_normals(x, 10 * SF_IN, seed * 1000 + i, shift);
        snprintf(key, sizeof key, "c%zu", i);
        assert_int_equal(mlops_router_run(&version, router, key, x, 10, y, 10 * SF_OUT), MLOPS_OK);
    }
}

static void test_windows_are_stored_and_drift_fires(void **state)
{
    mlops_db *db = sf_open("drift.db");
    mlops_router *router = NULL;
    mlops_session *session = NULL;
    mlops_profile *reference = NULL, *window = NULL;
    mlops_column_stats stats;
    static float x[REF_ROWS * SF_IN], y[REF_ROWS * SF_OUT], both[REF_ROWS * (SF_IN + SF_OUT)];
    uint8_t *bytes;
    void *blob = NULL;
    size_t len, blob_len, i;
    int64_t v;
    char *list = NULL;
    seen s;
    cJSON *m, *series;
    (void)state;
    memset(&s, 0, sizeof s);
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    bytes = sf_random_model(&len, 9);
    assert_int_equal(mlops_session_open(&session, bytes, len, NULL, NULL), MLOPS_OK);
    v = sf_register(db, MODEL, bytes, len);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v), MLOPS_OK);
    /* the reference: training-like inputs and the model's outputs on them */
    sf_normals(x, REF_ROWS * SF_IN, 77, 0.0);
    assert_int_equal(mlops_session_run(session, x, REF_ROWS, y, REF_ROWS * SF_OUT), MLOPS_OK);
    for (i = 0; i < REF_ROWS; i++) {
        memcpy(both + i * (SF_IN + SF_OUT), x + i * SF_IN, SF_IN * sizeof *x);
        memcpy(both + i * (SF_IN + SF_OUT) + SF_IN, y + i * SF_OUT, SF_OUT * sizeof *y);
    }
    assert_int_equal(mlops_profile_new(&reference,
                                       "{\"columns\": [{\"name\": \"a\", \"kind\": \"numeric\"}, {\"name\": \"b\", "
                                       "\"kind\": \"numeric\"}, {\"name\": \"c\", \"kind\": \"numeric\"}, {\"name\": "
                                       "\"d\", \"kind\": \"numeric\"}, {\"name\": \"p0\", \"kind\": \"numeric\"}, "
                                       "{\"name\": \"p1\", \"kind\": \"numeric\"}, {\"name\": \"p2\", \"kind\": "
                                       "\"numeric\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_profile_update_matrix(reference, both, REF_ROWS, SF_IN + SF_OUT), MLOPS_OK);
    assert_int_equal(mlops_profile_serialize(&blob, &blob_len, reference), MLOPS_OK);
    assert_int_equal(mlops_version_profile_set(db, MODEL, v, blob, blob_len), MLOPS_OK);
    mlops_free(blob);

    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"drift\": {\"window_ms\": 3600000}}"), MLOPS_OK);
    assert_int_equal(mlops_router_on_drift(router, on_drift, &s), MLOPS_OK);
    serve(router, 1, 0.0);
    assert_int_equal(mlops_router_drift_flush(router), MLOPS_OK);
    assert_int_equal(s.events, 0);
    m = sf_metrics(router);
    series = sf_series(m, "champion", v);
    assert_int_equal((int)sf_number(series, "drift", "windows"), 1);
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(series, "drift"), "dataset")));
    cJSON_Delete(m);

    serve(router, 2, 3.0);
    assert_int_equal(mlops_router_drift_flush(router), MLOPS_OK);
    assert_int_equal(s.events, 1);
    assert_int_equal(s.dataset, 1);
    assert_int_equal(s.prediction, 1);
    assert_int_equal(s.version, v);
    assert_int_equal(s.end - s.start, 3600000000LL);
    assert_string_equal(s.stream, "serve:churn:1");
    m = sf_metrics(router);
    series = sf_series(m, "champion", v);
    assert_int_equal((int)sf_number(series, "drift", "windows"), 2);
    assert_int_equal((int)sf_number(series, "drift", "detections"), 1);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(series, "drift"), "dataset")));
    cJSON_Delete(m);

    /* the stored window holds what was served (both flushes, unless an hour boundary split them) */
    assert_int_equal(mlops_drift_window_list(&list, db, "serve:churn:1", 0, INT64_MAX), MLOPS_OK);
    assert_non_null(strstr(list, "\"start_us\""));
    mlops_free(list);
    assert_int_equal(mlops_drift_window_get(&window, db, "serve:churn:1", s.start), MLOPS_OK);
    assert_int_equal(mlops_profile_columns(window), SF_IN + SF_OUT);
    assert_int_equal(mlops_profile_column_stats(&stats, window, 0), MLOPS_OK);
    assert_true(stats.rows == 2 * LIVE_ROWS || stats.rows == LIVE_ROWS);
    mlops_profile_free(window);
    /* closing flushes what is left: nothing new was served, so no third window */
    mlops_router_close(router);
    mlops_profile_free(reference);
    mlops_session_free(session);
    mlops_db_close(db);
}

static void test_without_reference_windows_are_still_stored(void **state)
{
    mlops_db *db = sf_open("plain.db");
    mlops_router *router = NULL;
    mlops_profile *window = NULL;
    int64_t v;
    char *list = NULL;
    (void)state;
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    v = sf_register_tag(db, MODEL, 5.0f);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v), MLOPS_OK);
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": "
                                                           "3600000, \"config\": {\"alpha\": 0.01}}}"),
                     MLOPS_OK);
    serve(router, 3, 0.0);
    mlops_router_close(router); /* closing stores the open window */
    assert_int_equal(mlops_drift_window_list(&list, db, "serve:churn:1", 0, INT64_MAX), MLOPS_OK);
    {
        cJSON *doc = cJSON_Parse(list), *windows = cJSON_GetObjectItem(doc, "windows"), *first;
        mlops_column_stats stats;
        size_t col = 0;
        assert_non_null(windows);
        assert_int_equal(cJSON_GetArraySize(windows), 1);
        assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetArrayItem(windows, 0), "rows")->valuedouble, LIVE_ROWS);
        first = cJSON_GetArrayItem(windows, 0);
        assert_int_equal(mlops_drift_window_get(&window, db, "serve:churn:1",
                                                (int64_t)cJSON_GetObjectItem(first, "start_us")->valuedouble),
                         MLOPS_OK);
        cJSON_Delete(doc);
        /* the outputs of the tag model are all 5 */
        assert_int_equal(mlops_profile_column_index(&col, window, "y0"), MLOPS_OK);
        assert_int_equal(mlops_profile_column_stats(&stats, window, col), MLOPS_OK);
        assert_true(stats.rows == LIVE_ROWS && stats.min == 5.0 && stats.max == 5.0);
        mlops_profile_free(window);
    }
    mlops_free(list);
    mlops_db_close(db);
}

static void test_sampling_decides_by_key(void **state)
{
    mlops_db *db = sf_open("sample.db");
    mlops_router *router = NULL;
    char *list = NULL;
    int64_t v;
    cJSON *doc, *windows;
    double rows;
    (void)state;
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    v = sf_register_tag(db, MODEL, 1.0f);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v), MLOPS_OK);
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"drift\": {\"sample\": 2}}"), MLOPS_EFORMAT,
                    "$.drift");
    /* nothing sampled: nothing stored */
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": "
                                                           "3600000, \"sample\": 0}}"),
                     MLOPS_OK);
    serve(router, 4, 0.0);
    assert_int_equal(mlops_router_drift_flush(router), MLOPS_OK);
    mlops_router_close(router);
    assert_int_equal(mlops_drift_window_list(&list, db, "serve:churn:1", 0, INT64_MAX), MLOPS_OK);
    doc = cJSON_Parse(list);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "windows")), 0);
    cJSON_Delete(doc);
    mlops_free(list);
    /* a quarter of the keys, each call 10 rows: the count is a binomial share of the 100 calls */
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": "
                                                           "3600000, \"sample\": 0.25}}"),
                     MLOPS_OK);
    serve(router, 4, 0.0);
    mlops_router_close(router);
    assert_int_equal(mlops_drift_window_list(&list, db, "serve:churn:1", 0, INT64_MAX), MLOPS_OK);
    doc = cJSON_Parse(list);
    windows = cJSON_GetObjectItem(doc, "windows");
    assert_int_equal(cJSON_GetArraySize(windows), 1);
    rows = cJSON_GetObjectItem(cJSON_GetArrayItem(windows, 0), "rows")->valuedouble;
    assert_true(fmod(rows, 10.0) == 0.0);
    assert_true(fabs(rows / 10.0 - 25.0) <= 3.2905 * sqrt(100 * 0.25 * 0.75));
    cJSON_Delete(doc);
    mlops_free(list);
    mlops_db_close(db);
}

/* A flush that fails for one arm says why, although the other arm's window is new. */
static void test_flush_failure_keeps_its_message(void **state)
{
    mlops_db *db = sf_open("conflict.db");
    mlops_router *router = NULL;
    mlops_profile *other = NULL;
    int64_t v1, v2, day = INT64_C(86400000000), start;
    (void)state;
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    v1 = sf_register_tag(db, MODEL, 1.0f);
    v2 = sf_register_tag(db, MODEL, 2.0f);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v1), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, MODEL, "staging", v2), MLOPS_OK);
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"challenger\": \"staging\", \"mode\": \"shadow\","
                                                           " \"reload_interval_ms\": 0, \"drift\": {\"window_ms\":"
                                                           " 86400000}}"),
                     MLOPS_OK);
    /* the champion's window of today already stored with another end */
    start = (int64_t)time(NULL) * 1000000 / day * day;
    assert_int_equal(mlops_profile_new(&other, "{\"columns\": [{\"name\": \"x\", \"kind\": \"numeric\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "serve:churn:1", start, start + 1, other), MLOPS_OK);
    serve(router, 5, 0.0);
    ts_assert_error(mlops_router_drift_flush(router), MLOPS_ECONFLICT, "drift window \"serve:churn:1\"");
    mlops_router_close(router);
    mlops_profile_free(other);
    mlops_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_windows_are_stored_and_drift_fires),
        cmocka_unit_test(test_without_reference_windows_are_still_stored),
        cmocka_unit_test(test_sampling_decides_by_key),
        cmocka_unit_test(test_flush_failure_keeps_its_message),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
