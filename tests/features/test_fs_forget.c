/*
 * Forgetting a key (the bytes leave the file and the log; the audit entry
 * holds a keyed hash only), and a process killed in the middle of an ingest
 * leaves no partial batch.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fs_fixture.h"

#define SECRET_KEY "alice-7Q2xK9-secret"

static int file_contains(const char *path, const char *needle)
{
    size_t len = 0;
    char *data;
    int found;
    if (access(path, F_OK) != 0)
        return 0;
    data = ts_read_file(path, &len);
    found = len > 0 && memmem(data, len, needle, strlen(needle)) != NULL;
    free(data);
    return found;
}

static int db_contains(const char *path, const char *needle)
{
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", path);
    return file_contains(path, needle) || file_contains(wal, needle);
}

static mlops_frame *user_frame(const char *const *users, const char *const *emails, const double *rates, size_t rows,
                               int with_email)
{
    mlops_frame *frame = NULL;
    int64_t times[4] = {10, 11, 12, 13};
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "user_id", users, rows), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "event_time", times, NULL, rows), MLOPS_OK);
    if (with_email)
        assert_int_equal(mlops_frame_add_string(frame, "email", emails, rows), MLOPS_OK);
    else
        assert_int_equal(mlops_frame_add_float64(frame, "rate", rates, NULL, rows), MLOPS_OK);
    return frame;
}

static void last_forget_hashes(char *out, size_t cap, mlops_db *db)
{
    mlops__stmt *stmt = NULL;
    assert_int_equal(mlops__db_prepare(&stmt, db, "SELECT action, object, details FROM audit_log ORDER BY seq DESC "
                                                  "LIMIT 1"), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(stmt), MLOPS__ROW);
    assert_string_equal(mlops__stmt_text(stmt, 0), "features.forget");
    assert_string_equal(mlops__stmt_text(stmt, 1), "entity:user");
    snprintf(out, cap, "%s", mlops__stmt_text(stmt, 2));
    mlops__stmt_release(stmt);
}

static void test_forget_removes_the_bytes(void **state)
{
    char path[512], details[512], again[512];
    mlops_db *db = NULL;
    mlops_ingest_report report;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_frame *frame, *keys = NULL, *out = NULL;
    const char *users[3] = {SECRET_KEY, "bob-keeps", SECRET_KEY};
    const char *emails[2] = {SECRET_KEY "@example.org", "bob@example.org"};
    const char *forget_users[1] = {SECRET_KEY};
    const char *bob[1] = {"bob-keeps"};
    int64_t removed = 0;
    int round;
    (void)state;
    snprintf(path, sizeof path, "%s", ts_path("forget.db"));
    assert_int_equal(mlops_db_open(&db, path, NULL), MLOPS_OK);
    /* As on a build whose default is off: the feature store turns it on for its own writes only. */
    assert_int_equal(mlops__db_exec(db, "PRAGMA secure_delete = 0"), MLOPS_OK);
    assert_int_equal(mlops_entity_define(db, "{\"name\":\"user\",\"keys\":[{\"name\":\"user_id\",\"type\":\"string\"}]}"),
                     MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"profile\",\"entity\":\"user\",\"features\":"
                                                 "[{\"name\":\"email\",\"type\":\"string\"}]}", 0), MLOPS_OK);
    assert_int_equal(mlops_view_define(NULL, db, "{\"name\":\"clicks\",\"entity\":\"user\",\"features\":"
                                                 "[{\"name\":\"rate\",\"type\":\"float64\",\"contract\":{\"min\":0}}]}",
                                       0), MLOPS_OK);
    /* Several writes: the online row of the key is replaced each time, leaving old copies in freed space. */
    for (round = 0; round < 6; round++) {
        char email[64];
        const char *round_emails[2] = {email, emails[1]};
        /* Growing rows, so a new copy does not simply reuse the old one's space. */
        snprintf(email, sizeof email, "%s-%.*s@example.org", SECRET_KEY, 3 * round, "xxxxxxxxxxxxxxxxxxxxxxxxx");
        frame = user_frame(users, round_emails, NULL, 2, 1);
        assert_int_equal(mlops_frame_set_int64(frame, 1, 0, 10 + round), MLOPS_OK);
        assert_int_equal(mlops_features_ingest(&report, db, "profile", frame, NULL), MLOPS_OK);
        mlops_frame_free(frame);
    }
    /* The third row breaks min and goes to the quarantine. */
    frame = user_frame(users, NULL, (const double[]){0.5, 0.25, -1.0}, 3, 0);
    options.policy = MLOPS_INGEST_QUARANTINE;
    assert_int_equal(mlops_features_ingest(&report, db, "clicks", frame, &options), MLOPS_OK);
    assert_int_equal(report.rows_quarantined, 1);
    mlops_frame_free(frame);
    assert_true(db_contains(path, SECRET_KEY));

    assert_int_equal(mlops_frame_new(&keys), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(keys, "user_id", forget_users, 1), MLOPS_OK);
    assert_int_equal(mlops_features_forget(&removed, db, "user", keys), MLOPS_OK);
    /* History 6 + 1, online 2, quarantine 1. */
    assert_int_equal(removed, 10);
    assert_false(db_contains(path, SECRET_KEY));
    assert_false(db_contains(path, "7Q2xK9"));
    assert_int_equal(fx_count(db, "PRAGMA secure_delete"), 0);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_history"), 2);
    assert_int_equal(fx_count(db, "SELECT count(*) FROM fs_quarantine"), 0);

    /* The audit entry has a hash, not the key; the same key hashes the same way. */
    last_forget_hashes(details, sizeof details, db);
    assert_null(strstr(details, "alice"));
    assert_non_null(strstr(details, "\"key_hashes\":[\""));
    assert_non_null(strstr(details, "\"rows\":10"));
    assert_int_equal(mlops_features_forget(&removed, db, "user", keys), MLOPS_OK);
    assert_int_equal(removed, 0);
    last_forget_hashes(again, sizeof again, db);
    assert_int_equal(memcmp(details, again, strlen("{\"key_hashes\":[\"") + 64), 0);

    /* Bob is untouched. */
    mlops_frame_free(keys);
    assert_int_equal(mlops_frame_new(&keys), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(keys, "user_id", bob, 1), MLOPS_OK);
    assert_int_equal(mlops_features_online(&out, db, "clicks", keys, (const char *[]){"rate"}, 1, NULL), MLOPS_OK);
    assert_true(fx_f64(out, "rate", 0) == 0.25);
    mlops_frame_free(out);
    assert_int_equal(mlops_db_check(db), MLOPS_OK);

    ts_assert_error(mlops_features_forget(&removed, db, "nobody", keys), MLOPS_ENOTFOUND, "entity \"nobody\"");
    ts_assert_error(mlops_features_forget(&removed, NULL, "user", keys), MLOPS_EINVAL, "db");
    ts_assert_error(mlops_features_forget(&removed, db, NULL, keys), MLOPS_EINVAL, "entity");
    ts_assert_error(mlops_features_forget(&removed, db, "user", NULL), MLOPS_EINVAL, "keys");
    assert_int_equal(mlops_frame_set_null(keys, 0, 0), MLOPS_OK);
    ts_assert_error(mlops_features_forget(&removed, db, "user", keys), MLOPS_EINVAL, "null key");
    mlops_frame_free(keys);
    assert_int_equal(mlops_frame_new(&keys), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(keys, "user_id", (const int64_t[]){1}, NULL, 1), MLOPS_OK);
    ts_assert_error(mlops_features_forget(&removed, db, "user", keys), MLOPS_EINVAL, "is int64");
    mlops_frame_free(keys);
    mlops_db_close(db);
}

typedef struct forget_ctx {
    mlops_db *db;
    mlops_frame *keys;
} forget_ctx;

static int forget_call(void *p)
{
    forget_ctx *ctx = p;
    return mlops_features_forget(NULL, ctx->db, "customer", ctx->keys);
}

static void test_forget_allocation_failures(void **state)
{
    forget_ctx ctx;
    mlops_ingest_report report;
    mlops_frame *rows;
    const int64_t ids[3] = {1, 2, 3};
    (void)state;
    ctx.db = fx_open_txn("alloc_forget.db");
    rows = fx_amounts(3, ids, (const int64_t[]){1, 2, 3}, (const double[]){1, 2, 3});
    assert_int_equal(mlops_features_ingest(&report, ctx.db, "txn", rows, NULL), MLOPS_OK);
    /* Warm with key 3, then forget keys 1 and 2 under failing allocations. */
    ctx.keys = fx_keys(1, &ids[2]);
    assert_int_equal(forget_call(&ctx), MLOPS_OK);
    mlops_frame_free(ctx.keys);
    ctx.keys = fx_keys(2, ids);
    assert_true(ts_each_allocation_failure(forget_call, NULL, &ctx) > 3);
    assert_int_equal(fx_count(ctx.db, "SELECT count(*) FROM fs_history"), 0);
    mlops_frame_free(ctx.keys);
    mlops_frame_free(rows);
    mlops_db_close(ctx.db);
}

#define KILL_BATCH 2000

/* The child: ingest batches of KILL_BATCH new keys forever, reporting each commit on `fd`. */
static void ingest_forever(const char *path, int fd)
{
    mlops_db *db = NULL;
    int64_t ids[KILL_BATCH], times[KILL_BATCH];
    double amounts[KILL_BATCH];
    int64_t batch, i;
    if (mlops_db_open(&db, path, NULL) != MLOPS_OK)
        _exit(2);
    for (batch = 0;; batch++) {
        mlops_frame *frame;
        mlops_ingest_report report;
        for (i = 0; i < KILL_BATCH; i++) {
            ids[i] = batch * KILL_BATCH + i;
            times[i] = i;
            amounts[i] = (double)(i % 100);
        }
        if (mlops_frame_new(&frame) != MLOPS_OK ||
            mlops_frame_add_int64(frame, "customer_id", ids, NULL, KILL_BATCH) != MLOPS_OK ||
            mlops_frame_add_int64(frame, "event_time", times, NULL, KILL_BATCH) != MLOPS_OK ||
            mlops_frame_add_float64(frame, "amount", amounts, NULL, KILL_BATCH) != MLOPS_OK ||
            mlops_features_ingest(&report, db, "txn", frame, NULL) != MLOPS_OK)
            _exit(3);
        mlops_frame_free(frame);
        if (write(fd, "x", 1) != 1)
            _exit(4);
    }
}

static void test_killed_ingest_leaves_no_partial_batch(void **state)
{
    char path[512];
    mlops_db *db = fx_open_txn("kill.db");
    int round;
    (void)state;
    snprintf(path, sizeof path, "%s", ts_path("kill.db"));
    mlops_db_close(db);
    for (round = 0; round < 3; round++) {
        int fds[2], status = 0, seen = 0;
        char c;
        pid_t pid;
        int64_t history, online;
        assert_int_equal(pipe(fds), 0);
        pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            close(fds[0]);
            ingest_forever(path, fds[1]);
        }
        close(fds[1]);
        while (seen < 2 && read(fds[0], &c, 1) == 1)
            seen++;
        assert_int_equal(seen, 2);
        /* Land somewhere inside the next batch. */
        usleep((useconds_t)(500 + 1500 * round));
        kill(pid, SIGKILL);
        assert_int_equal(waitpid(pid, &status, 0), pid);
        assert_true(WIFSIGNALED(status));
        close(fds[0]);

        assert_int_equal(mlops_db_open(&db, path, NULL), MLOPS_OK);
        assert_int_equal(mlops_db_check(db), MLOPS_OK);
        history = fx_count(db, "SELECT count(*) FROM fs_history");
        online = fx_count(db, "SELECT count(*) FROM fs_online");
        assert_true(history >= 2 * KILL_BATCH);
        assert_int_equal(history % KILL_BATCH, 0);
        assert_int_equal(online, history);
        mlops_db_close(db);
        /* Start the next round from an empty view. */
        assert_int_equal(mlops_db_open(&db, path, NULL), MLOPS_OK);
        assert_int_equal(mlops__db_exec(db, "DELETE FROM fs_history; DELETE FROM fs_online"), MLOPS_OK);
        mlops_db_close(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forget_removes_the_bytes),
        cmocka_unit_test(test_forget_allocation_failures),
        cmocka_unit_test(test_killed_ingest_leaves_no_partial_batch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
