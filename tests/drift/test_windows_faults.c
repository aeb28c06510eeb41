/*
 * Atomicity of drift window persistence under I/O failure and process death:
 * a put that creates a window and a put that merges into a stored one. Each
 * runs with an I/O error, a full disk and a torn short write at every
 * write-class call in turn, and in a child killed at every write-class call
 * and at random moments (see tests/support/fault_vfs.h): the call fails with
 * MLOPS_EIO and leaves the database as it was, or it succeeds; the database
 * always opens, passes its check and holds the state before or after.
 */
#include <stdio.h>

#include "fault_vfs.h"
#include "test_support.h"

/* No busy wait: the only other party is the injected fault. */
#define OPTIONS "{\"busy_timeout_ms\": 0, \"actor\": \"fault-test\"}"
#define HOUR INT64_C(3600000000)

/* A profile of a numeric and a categorical column fed `n` rows, shifted by `shift`. */
static mlops_profile *fed_profile(size_t n, double shift)
{
    static const char *const categories[] = {"a", "b", "c"};
    mlops_profile *p = NULL;
    size_t i;
    assert_int_equal(mlops_profile_new(&p, "{\"columns\":[{\"name\":\"x\",\"kind\":\"numeric\"},"
                                           "{\"name\":\"c\",\"kind\":\"categorical\"}]}"),
                     MLOPS_OK);
    for (i = 0; i < n; i++) {
        double x = (double)((i * 7919) % 1000) / 100.0 + shift;
        assert_int_equal(mlops_profile_update_float64(p, 0, &x, NULL, 1), MLOPS_OK);
        assert_int_equal(mlops_profile_update_strings(p, 1, &categories[i % 3], 1), MLOPS_OK);
    }
    return p;
}

/* Windows of two streams: "live" hours 0 and 1, "other" hour 0. */
static const char *windows_db(const char *name)
{
    const char *path = ts_path(name);
    mlops_profile *a = fed_profile(3000, 0), *b = fed_profile(1000, 1);
    mlops_db *db = NULL;
    remove(path);
    assert_int_equal(mlops_db_open(&db, path, OPTIONS), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "live", 0, HOUR, a), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "live", HOUR, 2 * HOUR, b), MLOPS_OK);
    assert_int_equal(mlops_drift_window_put(db, "other", 0, HOUR, b), MLOPS_OK);
    mlops_db_close(db);
    mlops_profile_free(a);
    mlops_profile_free(b);
    return path;
}

typedef struct put_ctx {
    int64_t start_us;
    const mlops_profile *profile;
} put_ctx;

static int op_put(const char *path, void *ctx)
{
    const put_ctx *put = ctx;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_drift_window_put(db, "live", put->start_us, put->start_us + HOUR, put->profile);
    mlops_db_close(db);
    return rc;
}

static void test_new_window_survives_faults_and_kills(void **state)
{
    put_ctx put = {2 * HOUR, NULL};
    mlops_profile *profile = fed_profile(5000, 2);
    ts_fault_report report;
    (void)state;
    put.profile = profile;
    report = ts_fault_check_path("drift window put of a new window", windows_db("window_new.db"), op_put, &put, NULL);
    assert_true(report.points >= 2);
    mlops_profile_free(profile);
}

static void test_window_merge_survives_faults_and_kills(void **state)
{
    put_ctx put = {0, NULL};
    mlops_profile *profile = fed_profile(5000, 2);
    ts_fault_report report;
    (void)state;
    put.profile = profile;
    report = ts_fault_check_path("drift window put merging into a stored window", windows_db("window_merge.db"),
                                 op_put, &put, NULL);
    assert_true(report.points >= 2);
    mlops_profile_free(profile);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_new_window_survives_faults_and_kills),
        cmocka_unit_test(test_window_merge_survives_faults_and_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
