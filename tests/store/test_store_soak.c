/*
 * Concurrency soak of the store: several processes, each with several
 * threads, each thread with its own handle on one database file, write
 * transactions of several rows plus an audit entry at once. At the end every
 * transaction is there whole (each worker's rows gap-free, one audit entry
 * per transaction naming the same rows), the audit chain verifies entry by
 * entry, and the integrity check passes.
 *
 * Sizes: MLOPS_TEST_SOAK_PROCESSES (3), MLOPS_TEST_SOAK_THREADS (2),
 * MLOPS_TEST_SOAK_TX (20 transactions per worker), MLOPS_TEST_SOAK_ROWS (5
 * rows per transaction). Raising them turns the test into a stress run;
 * scripts/tsan.sh runs it under ThreadSanitizer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_support.h"
#include "store/store_int.h"

typedef struct soak_config {
    const char *path;
    int processes;
    int threads;
    int transactions;
    int rows;
} soak_config;

typedef struct worker {
    const soak_config *config;
    int id;
    int status;   /* MLOPS_OK, or the first failure */
    char message[512];
} worker;

static int env_int(const char *name, int fallback)
{
    const char *text = getenv(name);
    return text && *text ? atoi(text) : fallback;
}

static int insert_row(mlops_db *db, const char *key, const char *value)
{
    mlops__stmt *stmt = NULL;
    int rc = mlops__db_prepare(&stmt, db, "INSERT INTO mlops_meta(key, value) VALUES (?1, ?2)");
    if (rc == MLOPS_OK && !(rc = mlops__stmt_bind_text(stmt, 1, key, strlen(key))) &&
        !(rc = mlops__stmt_bind_text(stmt, 2, value, strlen(value)))) {
        rc = mlops__stmt_step(stmt);
        if (rc == MLOPS_DONE)
            rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}

/* One worker: its own handle, `transactions` transactions of `rows` rows and an audit entry each. */
static void *worker_main(void *arg)
{
    worker *w = arg;
    const soak_config *c = w->config;
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, c->path, "{\"busy_timeout_ms\": 60000}");
    int t, r;
    for (t = 0; rc == MLOPS_OK && t < c->transactions; t++) {
        char key[64], object[64], details[64];
        rc = mlops__tx_begin(db);
        for (r = 0; rc == MLOPS_OK && r < c->rows; r++) {
            snprintf(key, sizeof key, "w%03d.t%05d.r%03d", w->id, t, r);
            rc = insert_row(db, key, "soak");
        }
        if (rc == MLOPS_OK) {
            snprintf(object, sizeof object, "soak:w%03d/t%05d", w->id, t);
            snprintf(details, sizeof details, "{\"rows\": %d}", c->rows);
            rc = mlops__audit_append(db, "soak.write", object, details);
        }
        rc = mlops__tx_end(db, rc);
    }
    if (rc != MLOPS_OK) {
        w->status = rc;
        snprintf(w->message, sizeof w->message, "worker %d: %s", w->id, mlops_error_last()->message);
    }
    mlops_db_close(db);
    return NULL;
}

/* Run this process's threads; worker ids are process * threads + thread. */
static int run_process(const soak_config *c, int process)
{
    pthread_t tids[64];
    worker workers[64];
    int i, failed = 0;
    for (i = 0; i < c->threads; i++) {
        memset(&workers[i], 0, sizeof workers[i]);
        workers[i].config = c;
        workers[i].id = process * c->threads + i;
        if (pthread_create(&tids[i], NULL, worker_main, &workers[i]) != 0)
            return 1;
    }
    for (i = 0; i < c->threads; i++) {
        pthread_join(tids[i], NULL);
        if (workers[i].status != MLOPS_OK) {
            fprintf(stderr, "%s\n", workers[i].message);
            failed = 1;
        }
    }
    return failed;
}

/* Every entry's hash recomputed from its fields and its predecessor's hash; seq gap-free from 1. */
static int64_t verify_audit_chain(mlops_db *db)
{
    uint8_t prev[MLOPS__SHA256_BYTES] = {0}, expected[MLOPS__SHA256_BYTES];
    mlops__stmt *stmt = NULL;
    int64_t seq = 0;
    int rc;
    assert_int_equal(mlops__db_prepare(&stmt, db,
                                       "SELECT seq, time_us, actor, action, object, details, prev_hash, hash"
                                       " FROM audit_log ORDER BY seq"), MLOPS_OK);
    while ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        seq++;
        assert_int_equal(mlops__stmt_int64(stmt, 0), seq);
        assert_int_equal(mlops__stmt_bytes(stmt, 6), MLOPS__SHA256_BYTES);
        assert_memory_equal(mlops__stmt_blob(stmt, 6), prev, MLOPS__SHA256_BYTES);
        mlops__audit_hash(expected, prev, seq, mlops__stmt_int64(stmt, 1), mlops__stmt_text(stmt, 2),
                          mlops__stmt_text(stmt, 3), mlops__stmt_text(stmt, 4), mlops__stmt_text(stmt, 5));
        assert_int_equal(mlops__stmt_bytes(stmt, 7), MLOPS__SHA256_BYTES);
        assert_memory_equal(mlops__stmt_blob(stmt, 7), expected, MLOPS__SHA256_BYTES);
        memcpy(prev, expected, sizeof prev);
    }
    assert_int_equal(rc, MLOPS_DONE);
    mlops__stmt_release(stmt);
    return seq;
}

static int64_t count(mlops_db *db, const char *sql, const char *pattern)
{
    mlops__stmt *stmt = NULL;
    int64_t n;
    assert_int_equal(mlops__db_prepare(&stmt, db, sql), MLOPS_OK);
    if (pattern)
        assert_int_equal(mlops__stmt_bind_text(stmt, 1, pattern, strlen(pattern)), MLOPS_OK);
    assert_int_equal(mlops__stmt_step(stmt), MLOPS__ROW);
    n = mlops__stmt_int64(stmt, 0);
    mlops__stmt_release(stmt);
    return n;
}

static void check_invariants(const soak_config *c)
{
    int workers = c->processes * c->threads, w, t;
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, c->path, NULL), MLOPS_OK);
    assert_int_equal(mlops_db_check(db), MLOPS_OK);
    assert_int_equal(verify_audit_chain(db), (int64_t)workers * c->transactions);
    assert_int_equal(count(db, "SELECT count(*) FROM mlops_meta WHERE key GLOB 'w*'", NULL),
                     (int64_t)workers * c->transactions * c->rows);
    for (w = 0; w < workers; w++) {
        for (t = 0; t < c->transactions; t++) {
            char pattern[64];
            snprintf(pattern, sizeof pattern, "w%03d.t%05d.r*", w, t);
            assert_int_equal(count(db, "SELECT count(*) FROM mlops_meta WHERE key GLOB ?1", pattern), c->rows);
            snprintf(pattern, sizeof pattern, "soak:w%03d/t%05d", w, t);
            assert_int_equal(count(db, "SELECT count(*) FROM audit_log WHERE object = ?1", pattern), 1);
        }
    }
    mlops_db_close(db);
}

static void test_processes_and_threads_write_one_file(void **state)
{
    soak_config c;
    pid_t pids[64];
    int p, status, failed = 0;
    (void)state;
    c.path = ts_path("soak.db");
    c.processes = env_int("MLOPS_TEST_SOAK_PROCESSES", 3);
    c.threads = env_int("MLOPS_TEST_SOAK_THREADS", 2);
    c.transactions = env_int("MLOPS_TEST_SOAK_TX", 20);
    c.rows = env_int("MLOPS_TEST_SOAK_ROWS", 5);
    assert_true(c.processes >= 1 && c.processes <= 64 && c.threads >= 1 && c.threads <= 64);
    assert_true(c.transactions >= 1 && c.transactions <= 99999 && c.rows >= 1 && c.rows <= 999);
    /* All processes start at once on a file none has created: creation races too. */
    fflush(NULL);
    for (p = 1; p < c.processes; p++) {
        pids[p] = fork();
        assert_true(pids[p] >= 0);
        if (pids[p] == 0)
            _exit(run_process(&c, p));
    }
    failed |= run_process(&c, 0);
    for (p = 1; p < c.processes; p++) {
        assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
        failed |= !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    assert_int_equal(failed, 0);
    check_invariants(&c);
    printf("soak: %d processes x %d threads x %d transactions of %d rows: every invariant holds\n", c.processes,
           c.threads, c.transactions, c.rows);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_processes_and_threads_write_one_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
