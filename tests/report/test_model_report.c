/*
 * Reports: the JSON report of a database built here (versions with metrics,
 * a reference profile, drift windows, a router whose metrics are persisted),
 * the HTML page rendered from it, persisted serving metrics under injected
 * write failures, and every error path.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "../serve/serve_fixture.h"
#include "fault_vfs.h"
#include "mlops.h"

#define MODEL "fraud"
#define N_REF 3000
#define N_CUR 2000
#define DAY 86400000000LL

static mlops_profile *column_profile(const float *x0, const float *x1, size_t n)
{
    mlops_profile *p = NULL;
    size_t i;
    assert_int_equal(mlops_profile_new(&p, "{\"columns\": [{\"name\": \"x0\", \"kind\": \"numeric\"},"
                                           " {\"name\": \"x1\", \"kind\": \"numeric\"}]}"),
                     MLOPS_OK);
    for (i = 0; i < n; i++) {
        float row[2] = {x0[i], x1[i]};
        assert_int_equal(mlops_profile_update_matrix(p, row, 1, 2), MLOPS_OK);
    }
    return p;
}

/* Reference N(0,1) in both columns; two current windows with x1 shifted by 1.5. */
static void add_drift(mlops_db *db, int64_t version, mlops_profile **ref_out, mlops_profile **cur_out)
{
    float *a = malloc(sizeof(float) * N_REF), *b = malloc(sizeof(float) * N_REF);
    mlops_profile *ref, *w1, *w2, *merged;
    void *bytes = NULL;
    size_t len = 0;
    assert_non_null(a);
    assert_non_null(b);
    sf_normals(a, N_REF, 1, 0.0);
    sf_normals(b, N_REF, 2, 0.0);
    ref = column_profile(a, b, N_REF);
    assert_int_equal(mlops_profile_serialize(&bytes, &len, ref), MLOPS_OK);
    assert_int_equal(mlops_version_profile_set(db, MODEL, version, bytes, len), MLOPS_OK);
    mlops_free(bytes);
    sf_normals(a, N_CUR, 3, 0.0);
    sf_normals(b, N_CUR, 4, 1.5);
    w1 = column_profile(a, b, N_CUR / 2);
    w2 = column_profile(a + N_CUR / 2, b + N_CUR / 2, N_CUR / 2);
    assert_int_equal(mlops_drift_window_put(db, "live", 10 * DAY, 11 * DAY, w1), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "live", 11 * DAY, 12 * DAY, w2), MLOPS_OK);
    /* an older window that the report must leave out */
    assert_int_equal(mlops_drift_window_put(db, "live", 1 * DAY, 2 * DAY, ref), MLOPS_OK);
    mlops_profile_free(w1);
    mlops_profile_free(w2);
    /* the current data: the two stored windows, merged oldest first */
    assert_int_equal(mlops_drift_window_get(&merged, db, "live", 10 * DAY), MLOPS_OK);
    assert_int_equal(mlops_drift_window_get(&w2, db, "live", 11 * DAY), MLOPS_OK);
    assert_int_equal(mlops_profile_merge(merged, w2), MLOPS_OK);
    mlops_profile_free(w2);
    free(a);
    free(b);
    *ref_out = ref;
    *cur_out = merged;
}

/* Serve `n` requests through `router`. */
static void serve(mlops_router *router, int n, int offset)
{
    float in[SF_IN] = {0.1f, 0.2f, 0.3f, 0.4f}, out[SF_OUT];
    char key[32];
    int i;
    for (i = 0; i < n; i++) {
        snprintf(key, sizeof key, "k%d", i + offset);
        assert_int_equal(mlops_router_run(NULL, router, key, in, 1, out, SF_OUT), MLOPS_OK);
    }
}

static mlops_db *build_db(const char *name, int64_t *v1, int64_t *v2)
{
    mlops_db *db = sf_open(name);
    size_t len;
    uint8_t *bytes;
    assert_int_equal(mlops_model_create(db, MODEL, "a <b>fraud</b> score", NULL), MLOPS_OK);
    bytes = sf_random_model(&len, 1);
    *v1 = sf_register(db, MODEL, bytes, len);
    bytes = sf_random_model(&len, 2);
    *v2 = sf_register(db, MODEL, bytes, len);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", *v1), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, MODEL, "canary", *v2), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, MODEL, *v1, "roc_auc", 0.9125, 0.9, 0.925, "test", 0), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, MODEL, *v2, "roc_auc", 0.875, 0.8625, 0.8875, "test", 0), MLOPS_OK);
    return db;
}

static cJSON *report_doc(mlops_db *db, const char *options, char **text_out)
{
    char *text = NULL;
    cJSON *doc;
    assert_int_equal(mlops_report_json(&text, db, options), MLOPS_OK);
    doc = cJSON_Parse(text);
    assert_non_null(doc);
    if (text_out)
        *text_out = text;
    else
        mlops_free(text);
    return doc;
}

static double num_at(const cJSON *obj, const char *key)
{
    const cJSON *item = cJSON_GetObjectItem(obj, key);
    assert_non_null(item);
    assert_true(cJSON_IsNumber(item));
    return item->valuedouble;
}

static const cJSON *feature(const cJSON *drift, const char *name)
{
    const cJSON *f;
    cJSON_ArrayForEach(f, cJSON_GetObjectItem(drift, "features"))
    {
        if (strcmp(cJSON_GetObjectItem(f, "name")->valuestring, name) == 0)
            return f;
    }
    fail_msg("feature %s missing", name);
    return NULL;
}

static void check_histogram(const cJSON *h, int bins)
{
    const char *sides[2] = {"reference", "current"};
    int s, i;
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(h, "edges")), bins + 1);
    for (s = 0; s < 2; s++) {
        const cJSON *shares = cJSON_GetObjectItem(h, sides[s]);
        double sum = 0.0;
        assert_int_equal(cJSON_GetArraySize(shares), bins);
        for (i = 0; i < bins; i++) {
            double v = cJSON_GetArrayItem(shares, i)->valuedouble;
            assert_true(v >= 0.0);
            sum += v;
        }
        assert_true(fabs(sum - 1.0) < 1e-9);
    }
}

/* Share of a side's mass in the upper half of the bins. */
static double upper_mass(const cJSON *h, const char *side)
{
    const cJSON *shares = cJSON_GetObjectItem(h, side);
    int n = cJSON_GetArraySize(shares), i;
    double sum = 0.0;
    for (i = n / 2; i < n; i++)
        sum += cJSON_GetArrayItem(shares, i)->valuedouble;
    return sum;
}

static void test_json_report_content(void **state)
{
    int64_t v1, v2, logged = -1;
    mlops_db *db = build_db("content.db", &v1, &v2);
    mlops_profile *ref, *cur;
    mlops_router *router = NULL;
    char *drift_text = NULL, *stats_text = NULL;
    cJSON *doc, *model, *versions, *drift, *serving, *expected, *col, *series;
    (void)state;
    add_drift(db, v1, &ref, &cur);
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"challenger\": \"canary\", \"share\": 0.5, \"reload_interval_ms\": 0,"
                                       " \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    serve(router, 60, 0);
    assert_int_equal(mlops_router_metrics_log(&logged, router), MLOPS_OK);
    assert_int_equal(logged, 2);
    assert_int_equal(mlops_router_metrics_log(&logged, router), MLOPS_OK);
    assert_int_equal(logged, 0); /* nothing new since the last snapshot */
    serve(router, 40, 60);
    assert_int_equal(mlops_router_metrics_log(&logged, router), MLOPS_OK);
    mlops_router_close(router);

    doc = report_doc(db, "{\"model\": \"fraud\", \"stream\": \"live\", \"windows\": 2, \"bins\": 12}", NULL);
    assert_string_equal(cJSON_GetObjectItem(doc, "report")->valuestring, "mlops");
    model = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0);
    assert_string_equal(cJSON_GetObjectItem(model, "name")->valuestring, MODEL);
    versions = cJSON_GetObjectItem(model, "versions");
    assert_int_equal(cJSON_GetArraySize(versions), 2);
    {
        /* newest first; the metric and its interval exactly as logged */
        const cJSON *v = cJSON_GetArrayItem(versions, 1);
        const cJSON *m = cJSON_GetArrayItem(cJSON_GetObjectItem(v, "metrics"), 0);
        assert_int_equal((int64_t)num_at(v, "version"), v1);
        assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "aliases"), 0)->valuestring, "production");
        assert_true(num_at(m, "value") == 0.9125 && num_at(m, "ci_low") == 0.9 && num_at(m, "ci_high") == 0.925);
        assert_string_equal(cJSON_GetObjectItem(m, "dataset")->valuestring, "test");
    }

    /* drift: the statistics of the drift subsystem on the reference and the two newest windows merged */
    drift = cJSON_GetObjectItem(model, "drift");
    assert_int_equal((int64_t)num_at(drift, "reference_version"), v1);
    assert_int_equal((int)num_at(drift, "windows"), 2);
    assert_int_equal((int64_t)num_at(drift, "from_us"), 10 * DAY);
    assert_int_equal((int64_t)num_at(drift, "to_us"), 12 * DAY);
    assert_int_equal((int)num_at(drift, "rows_current"), N_CUR);
    assert_int_equal(mlops_drift_report_profiles(&drift_text, ref, cur, NULL), MLOPS_OK);
    expected = cJSON_Parse(drift_text);
    cJSON_ArrayForEach(col, cJSON_GetObjectItem(expected, "columns"))
    {
        const cJSON *f = feature(drift, cJSON_GetObjectItem(col, "name")->valuestring);
        assert_true(num_at(f, "statistic") == num_at(col, "statistic"));
        assert_true(num_at(f, "threshold") == num_at(col, "threshold"));
        assert_string_equal(cJSON_GetObjectItem(f, "test")->valuestring, cJSON_GetObjectItem(col, "test")->valuestring);
        assert_int_equal(cJSON_IsTrue(cJSON_GetObjectItem(f, "drifted")), cJSON_IsTrue(cJSON_GetObjectItem(col, "drifted")));
    }
    assert_false(cJSON_IsTrue(cJSON_GetObjectItem(feature(drift, "x0"), "drifted")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(feature(drift, "x1"), "drifted")));
    assert_int_equal((int)num_at(cJSON_GetObjectItem(drift, "dataset"), "drifted_columns"), 1);
    check_histogram(cJSON_GetObjectItem(feature(drift, "x0"), "histogram"), 12);
    check_histogram(cJSON_GetObjectItem(feature(drift, "x1"), "histogram"), 12);
    /* the shifted column's current mass sits to the right of the reference's */
    assert_true(upper_mass(cJSON_GetObjectItem(feature(drift, "x1"), "histogram"), "current") >
                upper_mass(cJSON_GetObjectItem(feature(drift, "x1"), "histogram"), "reference") + 0.3);

    /* serving: 100 requests over two snapshots, split between the arms, equal to mlops_serve_stats_json() */
    serving = cJSON_GetObjectItem(model, "serving");
    assert_int_equal((int)num_at(serving, "requests"), 100);
    assert_int_equal(mlops_serve_stats_json(&stats_text, db, MODEL), MLOPS_OK);
    {
        char *printed_report = cJSON_PrintUnformatted(serving);
        cJSON *stats = cJSON_Parse(stats_text);
        char *printed_stats = cJSON_PrintUnformatted(stats);
        assert_string_equal(printed_report, printed_stats);
        cJSON_free(printed_report);
        cJSON_free(printed_stats);
        cJSON_Delete(stats);
    }
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(serving, "series")), 2);
    {
        double shares = 0.0;
        int requests = 0;
        cJSON_ArrayForEach(series, cJSON_GetObjectItem(serving, "series"))
        {
            const cJSON *lat = cJSON_GetObjectItem(series, "latency_us");
            requests += (int)num_at(series, "requests");
            shares += num_at(series, "share");
            assert_true(num_at(series, "snapshots") == 2.0);
            assert_true(num_at(series, "requests") > 20.0);
            assert_true(num_at(series, "share") == num_at(series, "requests") / 100.0);
            assert_int_equal((int)num_at(series, "errors"), 0);
            assert_true(num_at(lat, "p50") > 0.0 && num_at(lat, "p50") <= num_at(lat, "p90") &&
                        num_at(lat, "p90") <= num_at(lat, "p99"));
        }
        assert_int_equal(requests, 100);
        assert_true(fabs(shares - 1.0) < 1e-12);
    }
    assert_int_equal((int)num_at(cJSON_GetObjectItem(doc, "summary"), "drifted_features"), 1);
    assert_int_equal((int)num_at(cJSON_GetObjectItem(doc, "summary"), "requests"), 100);
    cJSON_Delete(doc);

    /* every model, default reference (production) and default stream: no windows there */
    doc = report_doc(db, NULL, NULL);
    drift = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0), "drift");
    assert_string_equal(cJSON_GetObjectItem(drift, "stream")->valuestring, "serve:fraud:1");
    assert_non_null(strstr(cJSON_GetObjectItem(drift, "note")->valuestring, "no drift windows"));
    cJSON_Delete(doc);
    /* a version without a reference profile */
    doc = report_doc(db, "{\"alias\": \"canary\", \"stream\": \"live\"}", NULL);
    drift = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0), "drift");
    assert_string_equal(cJSON_GetObjectItem(drift, "note")->valuestring, "version 2 has no reference profile");
    cJSON_Delete(doc);

    cJSON_Delete(expected);
    mlops_free(drift_text);
    mlops_free(stats_text);
    mlops_profile_free(ref);
    mlops_profile_free(cur);
    mlops_db_close(db);
}

/* Without quantile sketches a small-domain column is still tested, but has no histogram. */
static void test_no_histogram_without_quantiles(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("small.db", &v1, &v2);
    mlops_profile *ref = NULL, *cur = NULL;
    void *bytes = NULL;
    size_t len = 0, i;
    cJSON *doc;
    const cJSON *f;
    (void)state;
    assert_int_equal(mlops_profile_new(&ref, "{\"columns\": [{\"name\": \"k\", \"kind\": \"numeric\"}],"
                                             " \"quantiles\": false}"),
                     MLOPS_OK);
    assert_int_equal(mlops_profile_new_like(&cur, ref), MLOPS_OK);
    for (i = 0; i < 300; i++) {
        float ref_value = (float)(i % 3), cur_value = (float)(i % 2);
        assert_int_equal(mlops_profile_update_matrix(ref, &ref_value, 1, 1), MLOPS_OK);
        assert_int_equal(mlops_profile_update_matrix(cur, &cur_value, 1, 1), MLOPS_OK);
    }
    assert_int_equal(mlops_profile_serialize(&bytes, &len, ref), MLOPS_OK);
    assert_int_equal(mlops_version_profile_set(db, MODEL, v1, bytes, len), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "small", 0, DAY, cur), MLOPS_OK);
    doc = report_doc(db, "{\"stream\": \"small\"}", NULL);
    f = feature(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "models"), 0), "drift"), "k");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(f, "histogram")));
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f, "drifted")));
    cJSON_Delete(doc);
    mlops_free(bytes);
    mlops_profile_free(ref);
    mlops_profile_free(cur);
    mlops_db_close(db);
}

static void test_html_page(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("html.db", &v1, &v2);
    mlops_profile *ref, *cur;
    char *json = NULL, *html = NULL;
    cJSON *doc;
    (void)state;
    add_drift(db, v1, &ref, &cur);
    doc = report_doc(db, "{\"stream\": \"live\", \"windows\": 2, \"importance\": {\"method\": \"permutation\","
                         " \"output\": 0, \"rows\": 500, \"features\": [{\"name\": \"x<1>\", \"importance\": 0.125,"
                         " \"std_error\": 0.004}]}}",
                     &json);
    assert_int_equal(mlops_report_html(&html, json), MLOPS_OK);
    assert_int_equal(strncmp(html, "<!DOCTYPE html>\n<html", 21), 0);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "http://"));
    assert_null(strstr(html, "https://"));
    /* the description's markup is text, the metric's value and interval are shown with their exact values */
    assert_non_null(strstr(html, "a &lt;b&gt;fraud&lt;/b&gt; score"));
    assert_non_null(strstr(html, "<span class=\"num\" data-v=\"0.9125\">0.9125</span>"));
    assert_non_null(strstr(html, "<span class=\"num\" data-v=\"0.8625\">0.8625</span>"));
    assert_non_null(strstr(html, "Feature importance"));
    assert_non_null(strstr(html, "x&lt;1&gt;"));
    assert_non_null(strstr(html, "<span class=\"num\" data-v=\"0.125\">0.125</span>"));
    assert_non_null(strstr(html, "<svg"));
    mlops_free(html);
    mlops_free(json);
    cJSON_Delete(doc);
    mlops_profile_free(ref);
    mlops_profile_free(cur);
    mlops_db_close(db);
}

static void test_html_escapes_every_string(void **state)
{
    static const char report[] =
        "{\"database\": \"<img src=x onerror=alert(1)>\", \"generated\": \"\\\"'&\","
        " \"models\": [{\"name\": \"<script>alert('m')</script>\", \"description\": \"a & b\","
        " \"versions\": [{\"version\": 1, \"aliases\": [\"<i>prod</i>\"], \"created\": \"now\","
        " \"metrics\": [{\"name\": \"<b>auc</b>\", \"dataset\": \"t\\\"x\", \"value\": 0.5}]}],"
        " \"drift\": {\"stream\": \"s<1>\", \"reference_version\": 1, \"note\": \"<u>none</u>\"},"
        " \"serving\": {\"requests\": 0, \"series\": []}}]}";
    char *html = NULL;
    (void)state;
    assert_int_equal(mlops_report_html(&html, report), MLOPS_OK);
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<i>prod"));
    assert_null(strstr(html, "<b>auc"));
    assert_null(strstr(html, "<u>none"));
    assert_non_null(strstr(html, "&lt;script&gt;alert(&#39;m&#39;)&lt;/script&gt;"));
    assert_non_null(strstr(html, "&quot;&#39;&amp;"));
    assert_non_null(strstr(html, "t&quot;x"));
    assert_non_null(strstr(html, "s&lt;1&gt;"));
    mlops_free(html);
}

static void test_errors(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("errors.db", &v1, &v2);
    char *out = (char *)&out;
    (void)state;
    ts_assert_error(mlops_report_json(NULL, db, NULL), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_report_json(&out, NULL, NULL), MLOPS_EINVAL, "db");
    assert_null(out);
    ts_assert_error(mlops_report_json(&out, db, "{\"bogus\": 1}"), MLOPS_EFORMAT, "$.bogus");
    ts_assert_error(mlops_report_json(&out, db, "{\"windows\": 0}"), MLOPS_EFORMAT, "$.windows");
    ts_assert_error(mlops_report_json(&out, db, "{\"bins\": 1}"), MLOPS_EFORMAT, "$.bins");
    ts_assert_error(mlops_report_json(&out, db, "{\"model\": 3}"), MLOPS_EFORMAT, "$.model");
    ts_assert_error(mlops_report_json(&out, db, "{\"drift_config\": []}"), MLOPS_EFORMAT, "$.drift_config");
    ts_assert_error(mlops_report_json(&out, db, "{\"importance\": 1}"), MLOPS_EFORMAT, "$.importance");
    ts_assert_error(mlops_report_json(&out, db, "{\"alias\": \"production\", \"reference_version\": 1}"),
                    MLOPS_EFORMAT, "$.alias");
    ts_assert_error(mlops_report_json(&out, db, "[1]"), MLOPS_EFORMAT, "expected an object");
    ts_assert_error(mlops_report_json(&out, db, "{\"model\": "), MLOPS_EFORMAT, "report options");
    ts_assert_error(mlops_report_json(&out, db, "{\"model\": \"nope\"}"), MLOPS_ENOTFOUND, "nope");
    ts_assert_error(mlops_report_json(&out, db, "{\"alias\": \"missing\"}"), MLOPS_ENOTFOUND, "missing");
    ts_assert_error(mlops_report_json(&out, db, "{\"reference_version\": 9}"), MLOPS_ENOTFOUND, "9");
    assert_null(out);

    ts_assert_error(mlops_report_html(NULL, "{}"), MLOPS_EINVAL, "html_out");
    ts_assert_error(mlops_report_html(&out, NULL), MLOPS_EINVAL, "report_json");
    ts_assert_error(mlops_report_html(&out, "{\"models\": "), MLOPS_EFORMAT, "report");
    ts_assert_error(mlops_report_html(&out, "[]"), MLOPS_EFORMAT, "$: expected an object");
    ts_assert_error(mlops_report_html(&out, "{}"), MLOPS_EFORMAT, "$.models: expected an array");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [{}]}"), MLOPS_EFORMAT, "$.models[0].name");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [{\"name\": \"m\", \"versions\": 3}]}"), MLOPS_EFORMAT,
                    "$.models[0].versions: expected an array");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [{\"name\": \"m\", \"drift\": {\"features\": 1}}]}"),
                    MLOPS_EFORMAT, "$.models[0].drift.features");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [{\"name\": \"m\", \"serving\": {\"series\": {}}}]}"),
                    MLOPS_EFORMAT, "$.models[0].serving.series");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [], \"importance\": {\"features\": [{\"name\": 1}]}}"),
                    MLOPS_EFORMAT, "$.importance.features[0]");
    ts_assert_error(mlops_report_html(&out, "{\"models\": [], \"importance\": []}"), MLOPS_EFORMAT, "$.importance");
    assert_null(out);

    ts_assert_error(mlops_router_metrics_log(NULL, NULL), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_serve_stats_json(NULL, db, MODEL), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_serve_stats_json(&out, NULL, MODEL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_serve_stats_json(&out, db, NULL), MLOPS_EINVAL, "model");
    mlops_db_close(db);
}

/* A snapshot row whose latency histogram is damaged is refused, not summed. */
static void test_damaged_snapshot(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("damaged.db", &v1, &v2);
    mlops_router *router = NULL;
    char *out = NULL;
    (void)state;
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    serve(router, 5, 0);
    assert_int_equal(mlops_router_metrics_log(NULL, router), MLOPS_OK);
    mlops_router_close(router);
    mlops_db_close(db);
    {
        sqlite3 *raw = NULL;
        assert_int_equal(sqlite3_open(ts_path("damaged.db"), &raw), SQLITE_OK);
        assert_int_equal(sqlite3_exec(raw, "UPDATE serve_metrics SET latency = '[1, 2]'", NULL, NULL, NULL), SQLITE_OK);
        sqlite3_close(raw);
    }
    db = sf_open("damaged.db");
    ts_assert_error(mlops_serve_stats_json(&out, db, MODEL), MLOPS_ECORRUPT, "latency is not an array");
    ts_assert_error(mlops_report_json(&out, db, NULL), MLOPS_ECORRUPT, "latency");
    assert_null(out);
    mlops_db_close(db);
}

/* ---- persisted metrics under write failures ---------------------------------------------------- */

static int op_metrics_log(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    mlops_router *router = NULL;
    int rc;
    (void)ctx;
    if ((rc = mlops_db_open(&db, path, NULL)) != MLOPS_OK)
        return rc;
    rc = mlops_router_open(&router, db, MODEL,
                           "{\"challenger\": \"canary\", \"share\": 0.5, \"reload_interval_ms\": 0,"
                           " \"drift\": {\"window_ms\": 0}}");
    mlops_db_close(db);
    if (rc != MLOPS_OK)
        return rc;
    serve(router, 20, 0);
    rc = mlops_router_metrics_log(NULL, router);
    mlops_router_close(router);
    return rc;
}

static void test_metrics_log_is_atomic(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("faults.db", &v1, &v2);
    mlops_router *router = NULL;
    ts_fault_report r;
    (void)state;
    /* A router's first open fills the versions' empty signatures: done here, so
       the faulted call is the metrics write alone. */
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"challenger\": \"canary\", \"reload_interval_ms\": 0}"),
                     MLOPS_OK);
    mlops_router_close(router);
    mlops_db_close(db);
    ts_fault_vfs_install();
    r = ts_fault_each_write("router metrics log", ts_path("faults.db"), op_metrics_log, NULL);
    assert_true(r.points > 0);
    assert_true(r.failures > 0);
}

static int html_call(void *ctx)
{
    char *html = NULL;
    int rc = mlops_report_html(&html, ctx);
    mlops_free(html);
    return rc;
}

static void test_html_allocation_failures(void **state)
{
    static const char report[] =
        "{\"summary\": {\"models\": 1}, \"models\": [{\"name\": \"m\", \"versions\": [{\"version\": 1,"
        " \"metrics\": [{\"name\": \"auc\", \"dataset\": \"t\", \"value\": 0.5, \"ci_low\": 0.4, \"ci_high\": 0.6}]}],"
        " \"drift\": {\"stream\": \"s\", \"reference_version\": 1, \"windows\": 1, \"dataset\": {\"drifted\": true},"
        " \"features\": [{\"name\": \"a\", \"test\": \"ks\", \"statistic\": 0.3, \"p_value\": 0.01,"
        " \"threshold\": 0.05, \"drifted\": true, \"histogram\": {\"edges\": [0, 1, 2],"
        " \"reference\": [0.5, 0.5], \"current\": [0.25, 0.75]}}]},"
        " \"serving\": {\"requests\": 3, \"series\": [{\"version\": 1, \"arm\": \"champion\", \"requests\": 3,"
        " \"share\": 1, \"errors\": 0, \"latency_us\": {\"p50\": 1, \"p90\": 2, \"p99\": 3, \"mean\": 1.5}}]}}],"
        " \"importance\": {\"method\": \"permutation\", \"features\": [{\"name\": \"a\", \"importance\": 0.2}]}}";
    (void)state;
    ts_alloc_install();
    assert_true(ts_each_allocation_failure(html_call, NULL, (void *)report) > 0);
}

static int json_call(void *ctx)
{
    char *json = NULL;
    int rc = mlops_report_json(&json, ctx, "{\"stream\": \"live\", \"windows\": 2, \"bins\": 4}");
    mlops_free(json);
    return rc;
}

static void test_json_allocation_failures(void **state)
{
    int64_t v1, v2;
    mlops_db *db = build_db("alloc.db", &v1, &v2);
    mlops_profile *ref, *cur;
    (void)state;
    add_drift(db, v1, &ref, &cur);
    mlops_profile_free(ref);
    mlops_profile_free(cur);
    ts_alloc_install();
    assert_int_equal(json_call(db), MLOPS_OK); /* the connection caches its statements once */
    assert_true(ts_each_allocation_failure(json_call, NULL, db) > 10);
    mlops_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_json_report_content),
        cmocka_unit_test(test_no_histogram_without_quantiles),
        cmocka_unit_test(test_html_page),
        cmocka_unit_test(test_html_escapes_every_string),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_damaged_snapshot),
        cmocka_unit_test(test_metrics_log_is_atomic),
        cmocka_unit_test(test_html_allocation_failures),
        cmocka_unit_test(test_json_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
