/*
 * Router: settings validation, stable assignment and split shares, canary
 * and ab answers from the assigned arm, shadow statistics against a direct
 * comparison of the two sessions, reloads and rollbacks, outcome joins and
 * their quality, allocation failures at open and an allocation-free hot path.
 */
#include "serve_fixture.h"

#define MODEL "fraud"

static mlops_db *fresh_db(const char *name, int64_t *v1, int64_t *v2)
{
    mlops_db *db = sf_open(name);
    size_t len;
    uint8_t *bytes;
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    bytes = sf_random_model(&len, 1);
    *v1 = sf_register(db, MODEL, bytes, len);
    bytes = sf_random_model(&len, 2);
    *v2 = sf_register(db, MODEL, bytes, len);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", *v1), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, MODEL, "staging", *v2), MLOPS_OK);
    return db;
}

static void test_settings_and_argument_errors(void **state)
{
    mlops_db *db, *memory = NULL;
    mlops_router *router = NULL;
    int64_t v1, v2, version;
    int32_t arm;
    float x[SF_IN] = {0}, y[SF_OUT];
    (void)state;
    db = fresh_db("errors.db", &v1, &v2);
    ts_assert_error(mlops_router_open(NULL, db, MODEL, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_router_open(&router, NULL, MODEL, NULL), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_router_open(&router, db, NULL, NULL), MLOPS_EINVAL, "model");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{"), MLOPS_EFORMAT, "router settings");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "[]"), MLOPS_EFORMAT, "$");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"bogus\": 1}"), MLOPS_EFORMAT, "bogus");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"share\": 1.5}"), MLOPS_EFORMAT, "share");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"share\": \"x\"}"), MLOPS_EFORMAT, "share");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"mode\": \"blue\"}"), MLOPS_EFORMAT, "$.mode");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"champion\": \"9x\"}"), MLOPS_EFORMAT,
                    "$.champion");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"challenger\": \"production\"}"), MLOPS_EFORMAT,
                    "$.challenger");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": -1}"), MLOPS_EFORMAT,
                    "reload_interval_ms");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"session\": 3}"), MLOPS_EFORMAT, "$.session");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"session\": {\"precision\": \"fp16\"}}"),
                    MLOPS_EFORMAT, "precision");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"drift\": {\"window\": 1}}"), MLOPS_EFORMAT,
                    "$.drift");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"outcomes\": {\"task\": \"rank\"}}"), MLOPS_EFORMAT,
                    "$.outcomes.task");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"outcomes\": {\"capacity\": -5}}"), MLOPS_EFORMAT,
                    "capacity");
    ts_assert_error(mlops_router_open(&router, db, "nobody", NULL), MLOPS_ENOTFOUND, "nobody");
    ts_assert_error(mlops_router_open(&router, db, MODEL, "{\"champion\": \"gold\"}"), MLOPS_ENOTFOUND, "gold");
    assert_null(router);
    assert_int_equal(mlops_db_open(&memory, ":memory:", NULL), MLOPS_OK);
    ts_assert_error(mlops_router_open(&router, memory, MODEL, NULL), MLOPS_EUNSUPPORTED, "database file");
    mlops_db_close(memory);

    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": "
                                                           "{\"window_ms\": 0}, \"outcomes\": {\"capacity\": 0}}"),
                     MLOPS_OK);
    ts_assert_error(mlops_router_run(&version, NULL, "k", x, 1, y, SF_OUT), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_run(&version, router, NULL, x, 1, y, SF_OUT), MLOPS_EINVAL, "request_key");
    ts_assert_error(mlops_router_run(&version, router, "k", NULL, 1, y, SF_OUT), MLOPS_EINVAL, "input");
    ts_assert_error(mlops_router_run(&version, router, "k", x, 1, NULL, SF_OUT), MLOPS_EINVAL, "output");
    ts_assert_error(mlops_router_run(&version, router, "k", x, 1, y, SF_OUT - 1), MLOPS_EBUFSIZE, "champion");
    ts_assert_error(mlops_router_assign(NULL, router, "k"), MLOPS_EINVAL, "arm_out");
    ts_assert_error(mlops_router_assign(&arm, NULL, "k"), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_assign(&arm, router, NULL), MLOPS_EINVAL, "request_key");
    ts_assert_error(mlops_router_outcome(router, "k", 1), MLOPS_ESTATE, "outcomes are off");
    ts_assert_error(mlops_router_outcome(NULL, "k", 1), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_drift_flush(router), MLOPS_ESTATE, "drift monitor is off");
    ts_assert_error(mlops_router_drift_flush(NULL), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_reload(NULL, NULL), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_metrics_json(NULL, router), MLOPS_EINVAL, "json_out");
    ts_assert_error(mlops_router_metrics_prometheus(NULL, router), MLOPS_EINVAL, "text_out");
    ts_assert_error(mlops_router_quality_log(NULL, NULL, NULL), MLOPS_EINVAL, "router");
    ts_assert_error(mlops_router_on_drift(NULL, NULL, NULL), MLOPS_EINVAL, "router");
    assert_int_equal(mlops_router_version(NULL, 0), 0);
    assert_int_equal(mlops_router_version(router, 7), 0);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHAMPION), v1);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHALLENGER), 0);
    /* the errors counted, the failed call did not produce an answer */
    {
        cJSON *m = sf_metrics(router), *s = sf_series(m, "champion", v1);
        assert_non_null(s);
        assert_int_equal((int)sf_number(s, "errors", NULL), 1);
        assert_int_equal((int)sf_number(s, "requests", NULL), 1);
        cJSON_Delete(m);
    }
    mlops_router_close(router);
    mlops_router_close(NULL);
    mlops_db_close(db);
}

/* Binomial 99.9% two-sided interval of the count of successes in n trials of probability p. */
static void assert_binomial(long hits, long n, double p)
{
    double mean = p * (double)n, sd = sqrt((double)n * p * (1.0 - p)), z = 3.2905267314919255;
    if (fabs((double)hits - mean) > z * sd)
        fail_msg("%ld of %ld outside %.1f +- %.1f", hits, n, mean, z * sd);
}

static void test_split_shares_and_stable_assignment(void **state)
{
    static const struct { const char *settings; double share; } cases[] = {
        {"{\"challenger\": \"staging\", \"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}", 0.1},
        {"{\"challenger\": \"staging\", \"mode\": \"ab\", \"salt\": \"s1\", \"reload_interval_ms\": 0, "
         "\"drift\": {\"window_ms\": 0}}", 0.5},
        {"{\"challenger\": \"staging\", \"share\": 0.23, \"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}",
         0.23},
    };
    mlops_db *db;
    int64_t v1, v2;
    size_t c;
    (void)state;
    db = fresh_db("split.db", &v1, &v2);
    for (c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        mlops_router *router = NULL;
        long hits = 0, i;
        char key[32];
        assert_int_equal(mlops_router_open(&router, db, MODEL, cases[c].settings), MLOPS_OK);
        for (i = 0; i < 100000; i++) {
            int32_t arm, again;
            snprintf(key, sizeof key, "user-%ld", i);
            assert_int_equal(mlops_router_assign(&arm, router, key), MLOPS_OK);
            assert_int_equal(mlops_router_assign(&again, router, key), MLOPS_OK);
            assert_int_equal(arm, again);
            hits += arm == MLOPS_ARM_CHALLENGER;
        }
        assert_binomial(hits, 100000, cases[c].share);
        /* the answering version follows the assignment, call after call */
        for (i = 0; i < 300; i++) {
            float x[SF_IN] = {(float)i, 1, 2, 3}, y[SF_OUT];
            int64_t version, second;
            int32_t arm;
            snprintf(key, sizeof key, "user-%ld", i);
            assert_int_equal(mlops_router_assign(&arm, router, key), MLOPS_OK);
            assert_int_equal(mlops_router_run(&version, router, key, x, 1, y, SF_OUT), MLOPS_OK);
            assert_int_equal(mlops_router_run(&second, router, key, x, 1, y, SF_OUT), MLOPS_OK);
            assert_int_equal(version, arm == MLOPS_ARM_CHALLENGER ? v2 : v1);
            assert_int_equal(second, version);
        }
        mlops_router_close(router);
    }
    {
        /* another salt reshuffles the keys */
        mlops_router *a = NULL, *b = NULL;
        long differ = 0, i;
        char key[32];
        assert_int_equal(mlops_router_open(&a, db, MODEL, cases[1].settings), MLOPS_OK);
        assert_int_equal(mlops_router_open(&b, db, MODEL,
                                           "{\"challenger\": \"staging\", \"mode\": \"ab\", \"salt\": \"s2\", "
                                           "\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}"),
                         MLOPS_OK);
        for (i = 0; i < 1000; i++) {
            int32_t arm_a, arm_b;
            snprintf(key, sizeof key, "user-%ld", i);
            assert_int_equal(mlops_router_assign(&arm_a, a, key), MLOPS_OK);
            assert_int_equal(mlops_router_assign(&arm_b, b, key), MLOPS_OK);
            differ += arm_a != arm_b;
        }
        assert_binomial(differ, 1000, 0.5);
        mlops_router_close(a);
        mlops_router_close(b);
    }
    mlops_db_close(db);
}

static size_t argmax(const float *row, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (row[i] > row[best])
            best = i;
    return best;
}

static void test_shadow_statistics_match_a_direct_comparison(void **state)
{
    enum { CALLS = 400, ROWS = 3 };
    mlops_db *db;
    mlops_router *router = NULL;
    mlops_session *a = NULL, *b = NULL;
    int64_t v1, v2;
    size_t len_a, len_b, i, j;
    uint8_t *bytes_a = sf_random_model(&len_a, 1), *bytes_b = sf_random_model(&len_b, 2);
    float x[ROWS * SF_IN], ya[ROWS * SF_OUT], yb[ROWS * SF_OUT], y[ROWS * SF_OUT];
    long rows = 0, disagree = 0, champion_class[SF_OUT] = {0};
    double abs_sum = 0.0;
    char key[32];
    cJSON *m, *s;
    (void)state;
    db = fresh_db("shadow.db", &v1, &v2);
    assert_int_equal(mlops_session_open(&a, bytes_a, len_a, NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_open(&b, bytes_b, len_b, NULL, NULL), MLOPS_OK);
    free(bytes_a);
    free(bytes_b);
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"challenger\": \"staging\", \"mode\": \"shadow\", "
                                       "\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    for (i = 0; i < CALLS; i++) {
        int64_t version;
        int32_t arm;
        sf_normals(x, ROWS * SF_IN, i + 1, 0.0);
        snprintf(key, sizeof key, "req-%zu", i);
        assert_int_equal(mlops_router_run(&version, router, key, x, ROWS, y, sizeof y / sizeof y[0]), MLOPS_OK);
        assert_int_equal(version, v1);
        /* the direct comparison: both sessions run here on the same rows */
        assert_int_equal(mlops_session_run(a, x, ROWS, ya, ROWS * SF_OUT), MLOPS_OK);
        assert_memory_equal(y, ya, sizeof y);
        for (j = 0; j < ROWS; j++)
            champion_class[argmax(ya + j * SF_OUT, SF_OUT)]++;
        assert_int_equal(mlops_router_assign(&arm, router, key), MLOPS_OK);
        assert_int_equal(arm, MLOPS_ARM_CHAMPION); /* shadow never hands the answer to the challenger */
        assert_int_equal(mlops_session_run(b, x, ROWS, yb, ROWS * SF_OUT), MLOPS_OK);
        for (j = 0; j < ROWS; j++) {
            size_t k;
            rows++;
            disagree += argmax(ya + j * SF_OUT, SF_OUT) != argmax(yb + j * SF_OUT, SF_OUT);
            for (k = 0; k < SF_OUT; k++)
                abs_sum += fabs((double)ya[j * SF_OUT + k] - (double)yb[j * SF_OUT + k]);
        }
    }
    assert_true(rows > 0 && disagree > 0 && disagree < rows);
    m = sf_metrics(router);
    s = sf_series(m, "challenger", v2);
    assert_non_null(s);
    assert_int_equal((long)sf_number(s, "shadow", "rows"), rows);
    assert_int_equal((long)sf_number(s, "shadow", "disagreements"), disagree);
    assert_true(fabs(sf_number(s, "shadow", "disagreement") - (double)disagree / (double)rows) < 1e-12);
    assert_true(fabs(sf_number(s, "shadow", "mean_abs_diff") - abs_sum / (double)(rows * SF_OUT)) <
                1e-9 * (1.0 + abs_sum));
    assert_int_equal((long)sf_number(s, "rows", NULL), rows);
    s = sf_series(m, "champion", v1);
    assert_int_equal((long)sf_number(s, "requests", NULL), CALLS);
    assert_int_equal((long)sf_number(s, "rows", NULL), CALLS * ROWS);
    for (j = 0; j < SF_OUT; j++) {
        char name[8];
        cJSON *count;
        snprintf(name, sizeof name, "%zu", j);
        count = cJSON_GetObjectItem(cJSON_GetObjectItem(s, "classes"), name);
        assert_int_equal(count ? (long)count->valuedouble : 0, champion_class[j]);
    }
    cJSON_Delete(m);
    mlops_router_close(router);
    mlops_session_free(a);
    mlops_session_free(b);
    mlops_db_close(db);
}

static void test_reload_and_rollback_in_process(void **state)
{
    mlops_db *db;
    mlops_router *router = NULL;
    int64_t v1, v2, v3, version, back;
    int32_t changed;

    float x[SF_IN] = {1, 2, 3, 4}, y[SF_OUT];
    (void)state;
    db = fresh_db("reload.db", &v1, &v2);
    v3 = sf_register_tag(db, MODEL, 3.0f);
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_router_reload(&changed, router), MLOPS_OK);
    assert_int_equal(changed, 0);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v3), MLOPS_OK);
    assert_int_equal(mlops_router_run(&version, router, "k", x, 1, y, SF_OUT), MLOPS_OK);
    assert_int_equal(version, v1); /* no background thread: nothing moves until asked */
    assert_int_equal(mlops_router_reload(&changed, router), MLOPS_OK);
    assert_int_equal(changed, 1);
    assert_int_equal(mlops_router_run(&version, router, "k", x, 1, y, SF_OUT), MLOPS_OK);
    assert_int_equal(version, v3);
    assert_true(y[0] == 3.0f);
    assert_int_equal(mlops_alias_rollback(&back, db, MODEL, "production"), MLOPS_OK);
    assert_int_equal(back, v1);
    assert_int_equal(mlops_router_reload(&changed, router), MLOPS_OK);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHAMPION), v1);
    {
        /* a version taking another input width is not swapped in: the old one keeps answering */
        float w[(SF_IN + 1) * SF_OUT] = {0}, b[SF_OUT] = {0};
        size_t len = 0;
        uint8_t *bytes = sf_gemm_model_in(&len, SF_IN + 1, w, b);
        int64_t wide = sf_register(db, MODEL, bytes, len);
        assert_int_equal(mlops_alias_set(db, MODEL, "production", wide), MLOPS_OK);
        ts_assert_error(mlops_router_reload(&changed, router), MLOPS_ECONFLICT, "takes 5 inputs");
        assert_int_equal(changed, 0);
        assert_int_equal(mlops_router_run(&version, router, "k", x, 1, y, SF_OUT), MLOPS_OK);
        assert_int_equal(version, v1);
        assert_int_equal(mlops_alias_rollback(&back, db, MODEL, "production"), MLOPS_OK);
        assert_int_equal(mlops_router_reload(&changed, router), MLOPS_OK);
        assert_int_equal(changed, 0);
    }
    /* a champion alias that disappears leaves the router on its last version, with the error counted */
    assert_int_equal(mlops_alias_delete(db, MODEL, "production"), MLOPS_OK);
    ts_assert_error(mlops_router_reload(&changed, router), MLOPS_ENOTFOUND, "production");
    assert_int_equal(mlops_router_run(&version, router, "k", x, 1, y, SF_OUT), MLOPS_OK);
    assert_int_equal(version, v1);
    {
        cJSON *m = sf_metrics(router);
        assert_true(sf_number(m, "reload_errors", NULL) >= 2);
        assert_non_null(strstr(cJSON_GetObjectItem(m, "last_reload_error")->valuestring, "production"));
        assert_int_equal((int)sf_number(m, "reloads", NULL), 3);
        cJSON_Delete(m);
    }
    mlops_router_close(router);
    mlops_db_close(db);
}

static void test_background_reload_follows_another_connection(void **state)
{
    mlops_db *db, *other;
    mlops_router *router = NULL;
    int64_t v1, v2, v3, back;

    int i;
    (void)state;
    db = fresh_db("background.db", &v1, &v2);
    v3 = sf_register_tag(db, MODEL, 3.0f);
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"challenger\": \"staging\", \"reload_interval_ms\": 5}"),
                     MLOPS_OK);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHALLENGER), v2);
    other = sf_open("background.db");
    assert_int_equal(mlops_alias_set(other, MODEL, "production", v3), MLOPS_OK);
    assert_int_equal(mlops_alias_delete(other, MODEL, "staging"), MLOPS_OK);
    for (i = 0; i < 2000 && (mlops_router_version(router, MLOPS_ARM_CHAMPION) != v3 ||
                             mlops_router_version(router, MLOPS_ARM_CHALLENGER) != 0);
         i++)
        sf_sleep_ms(5);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHAMPION), v3);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHALLENGER), 0);
    assert_int_equal(mlops_alias_rollback(&back, other, MODEL, "production"), MLOPS_OK);
    for (i = 0; i < 2000 && mlops_router_version(router, MLOPS_ARM_CHAMPION) != v1; i++)
        sf_sleep_ms(5);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHAMPION), v1);
    mlops_router_close(router);
    mlops_db_close(other);
    mlops_db_close(db);
}

static void test_outcomes_give_quality_per_arm(void **state)
{
    enum { KEYS = 2000 };
    mlops_db *db;
    mlops_router *router = NULL;
    mlops_session *a = NULL, *b = NULL;
    int64_t v1, v2, logged;
    size_t len, i;
    uint8_t *bytes;
    long n[2] = {0, 0}, correct[2] = {0, 0};
    char key[32], *shown = NULL;
    cJSON *m;
    (void)state;
    db = fresh_db("outcomes.db", &v1, &v2);
    bytes = sf_random_model(&len, 1);
    assert_int_equal(mlops_session_open(&a, bytes, len, NULL, NULL), MLOPS_OK);
    free(bytes);
    bytes = sf_random_model(&len, 2);
    assert_int_equal(mlops_session_open(&b, bytes, len, NULL, NULL), MLOPS_OK);
    free(bytes);
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"challenger\": \"staging\", \"mode\": \"ab\", \"reload_interval_ms\": 0, "
                                       "\"drift\": {\"window_ms\": 0}, \"outcomes\": {\"capacity\": 65536}}"),
                     MLOPS_OK);
    for (i = 0; i < KEYS; i++) {
        float x[SF_IN], y[SF_OUT], direct[SF_OUT];
        int64_t version;
        int label;
        sf_normals(x, SF_IN, 1000 + i, 0.0);
        snprintf(key, sizeof key, "order-%zu", i);
        assert_int_equal(mlops_router_run(&version, router, key, x, 1, y, SF_OUT), MLOPS_OK);
        /* the truth: the first model's class, so arm 0 is always right and arm 1 right where they agree */
        assert_int_equal(mlops_session_run(a, x, 1, direct, SF_OUT), MLOPS_OK);
        label = (int)argmax(direct, SF_OUT);
        n[version == v2]++;
        correct[version == v2] += (int)argmax(y, SF_OUT) == label;
        assert_int_equal(mlops_router_outcome(router, key, label), MLOPS_OK);
    }
    ts_assert_error(mlops_router_outcome(router, "order-0", 0), MLOPS_ENOTFOUND, "order-0");
    ts_assert_error(mlops_router_outcome(router, "never", 0), MLOPS_ENOTFOUND, "never");
    {
        float x[SF_IN] = {0}, y[SF_OUT];
        assert_int_equal(mlops_router_run(NULL, router, "late", x, 1, y, SF_OUT), MLOPS_OK);
        ts_assert_error(mlops_router_outcome(router, "late", 7), MLOPS_EINVAL, "class index");
        ts_assert_error(mlops_router_outcome(router, "late", NAN), MLOPS_EINVAL, "not finite");
        assert_int_equal(mlops_router_outcome(router, "late", 1), MLOPS_OK); /* still kept after a refused label */
    }
    n[0]++;
    {
        float x[SF_IN] = {0}, y[SF_OUT];
        assert_int_equal(mlops_session_run(a, x, 1, y, SF_OUT), MLOPS_OK);
        correct[0] += argmax(y, SF_OUT) == 1;
    }
    m = sf_metrics(router);
    for (i = 0; i < 2; i++) {
        cJSON *s = sf_series(m, i ? "challenger" : "champion", i ? v2 : v1);
        double p = (double)correct[i] / (double)n[i], z = 1.959963984540054, nn = (double)n[i];
        double centre = (p + z * z / (2 * nn)) / (1 + z * z / nn);
        double half = z * sqrt(p * (1 - p) / nn + z * z / (4 * nn * nn)) / (1 + z * z / nn);
        assert_int_equal((long)sf_number(s, "quality", "outcomes"), n[i]);
        assert_true(fabs(sf_number(s, "quality", "value") - p) < 1e-12);
        assert_true(fabs(sf_number(s, "quality", "ci_low") - (centre - half > 0 ? centre - half : 0)) < 1e-9);
        assert_true(fabs(sf_number(s, "quality", "ci_high") - (centre + half < 1 ? centre + half : 1)) < 1e-9);
    }
    assert_true(correct[1] < n[1]); /* the challenger is sometimes wrong */
    cJSON_Delete(m);
    assert_int_equal(mlops_router_quality_log(&logged, router, "live"), MLOPS_OK);
    assert_int_equal(logged, 2);
    assert_int_equal(mlops_version_show(&shown, db, MODEL, v2), MLOPS_OK);
    assert_non_null(strstr(shown, "accuracy"));
    assert_non_null(strstr(shown, "live"));
    mlops_free(shown);
    /* the gate can now compare the two versions on the live metric */
    assert_int_equal(mlops_gate_set(db, MODEL, "production",
                                    "{\"rules\": [{\"rule\": \"better_than_current\", \"metric\": \"accuracy\", "
                                    "\"dataset\": \"live\"}]}"),
                     MLOPS_OK);
    ts_assert_error(mlops_alias_set(db, MODEL, "production", v2), MLOPS_EPOLICY, "accuracy");
    mlops_router_close(router);
    mlops_session_free(a);
    mlops_session_free(b);
    mlops_db_close(db);
}

static void test_regression_outcomes_give_rmse(void **state)
{
    mlops_db *db = sf_open("rmse.db");
    mlops_router *router = NULL;
    int64_t v;
    size_t i;
    double sq = 0.0, sq2 = 0.0, mse, var, half, z = 1.959963984540054;
    char key[32];
    cJSON *m, *s;
    (void)state;
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    v = sf_register_tag(db, MODEL, 2.0f);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", v), MLOPS_OK);
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0}, "
                                       "\"outcomes\": {\"task\": \"regression\"}}"),
                     MLOPS_OK);
    for (i = 0; i < 50; i++) {
        float x[SF_IN] = {0}, y[SF_OUT];
        double label = (double)(i % 5), e = 2.0 - label;
        snprintf(key, sizeof key, "r%zu", i);
        assert_int_equal(mlops_router_run(NULL, router, key, x, 1, y, SF_OUT), MLOPS_OK);
        assert_int_equal(mlops_router_outcome(router, key, label), MLOPS_OK);
        sq += e * e;
        sq2 += e * e * e * e;
    }
    mse = sq / 50;
    var = sq2 / 50 - mse * mse;
    half = z * sqrt(var / 49);
    m = sf_metrics(router);
    s = sf_series(m, "champion", v);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s, "quality"), "metric")->valuestring, "rmse");
    assert_true(fabs(sf_number(s, "quality", "value") - sqrt(mse)) < 1e-12);
    assert_true(fabs(sf_number(s, "quality", "ci_low") - sqrt(mse - half)) < 1e-9);
    assert_true(fabs(sf_number(s, "quality", "ci_high") - sqrt(mse + half)) < 1e-9);
    cJSON_Delete(m);
    mlops_router_close(router);
    mlops_db_close(db);
}

typedef struct open_ctx {
    mlops_db *db;
    mlops_router *router;
    const char *settings;
} open_ctx;

static int open_call(void *arg)
{
    open_ctx *ctx = arg;
    return mlops_router_open(&ctx->router, ctx->db, MODEL, ctx->settings);
}

static void open_cleanup(void *arg)
{
    open_ctx *ctx = arg;
    mlops_router_close(ctx->router);
    ctx->router = NULL;
}

static void test_allocation_failures_on_open(void **state)
{
    open_ctx ctx;
    int64_t v1, v2;
    (void)state;
    ctx.db = fresh_db("alloc.db", &v1, &v2);
    ctx.router = NULL;
    ctx.settings = "{\"challenger\": \"staging\", \"mode\": \"shadow\", \"reload_interval_ms\": 0, "
                   "\"drift\": {\"window_ms\": 0}}";
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 10);
    ctx.settings = "{\"challenger\": \"staging\", \"reload_interval_ms\": 50, \"drift\": {\"window_ms\": 60000}}";
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 10);
    mlops_db_close(ctx.db);
}

static void test_warm_hot_path_allocates_nothing(void **state)
{
    mlops_db *db;
    mlops_router *router = NULL;
    int64_t v1, v2;
    size_t i;
    float x[4 * SF_IN], y[4 * SF_OUT];
    char key[32];
    (void)state;
    db = fresh_db("warm.db", &v1, &v2);
    ts_alloc_install();
    assert_int_equal(mlops_router_open(&router, db, MODEL,
                                       "{\"challenger\": \"staging\", \"mode\": \"shadow\", \"reload_interval_ms\": 0, "
                                       "\"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    sf_normals(x, sizeof x / sizeof x[0], 5, 0.0);
    for (i = 0; i < 10; i++) {
        snprintf(key, sizeof key, "w%zu", i);
        assert_int_equal(mlops_router_run(NULL, router, key, x, 4, y, sizeof y / sizeof y[0]), MLOPS_OK);
    }
    ts_alloc_fail_at(1);
    for (i = 0; i < 1000; i++) {
        snprintf(key, sizeof key, "w%zu", i);
        assert_int_equal(mlops_router_run(NULL, router, key, x, 1 + i % 4, y, sizeof y / sizeof y[0]), MLOPS_OK);
        assert_int_equal(mlops_router_outcome(router, key, 0), MLOPS_OK);
    }
    assert_false(ts_alloc_failure_hit());
    ts_alloc_fail_at(0);
    mlops_router_close(router);
    mlops_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_settings_and_argument_errors),
        cmocka_unit_test(test_split_shares_and_stable_assignment),
        cmocka_unit_test(test_shadow_statistics_match_a_direct_comparison),
        cmocka_unit_test(test_reload_and_rollback_in_process),
        cmocka_unit_test(test_background_reload_follows_another_connection),
        cmocka_unit_test(test_outcomes_give_quality_per_arm),
        cmocka_unit_test(test_regression_outcomes_give_rmse),
        cmocka_unit_test(test_allocation_failures_on_open),
        cmocka_unit_test(test_warm_hot_path_allocates_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
