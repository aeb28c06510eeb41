/*
 * Hot reload under load: two threads predict continuously while another
 * process promotes and rolls back the champion alias 20 times. Every call
 * must succeed, every answer must come whole from one version (each model
 * answers its own version number), and the versions each thread sees must
 * follow the alias's recorded history in order.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "serve_fixture.h"

#define MODEL "scorer"
#define MOVES 20
#define MAX_SEEN 4096

typedef struct worker {
    mlops_router *router;
    atomic_int *stop;
    int id;
    long calls, failures, mixed;
    int64_t seen[MAX_SEEN];
    size_t n_seen;
} worker;

static void *predict(void *arg)
{
    worker *w = arg;
    float x[2 * SF_IN], y[2 * SF_OUT];
    char key[32];
    sf_normals(x, 2 * SF_IN, (uint64_t)w->id + 1, 0.0);
    while (!atomic_load(w->stop)) {
        int64_t version = 0;
        snprintf(key, sizeof key, "t%d-%ld", w->id, w->calls);
        w->calls++;
        if (mlops_router_run(&version, w->router, key, x, 2, y, 2 * SF_OUT) != MLOPS_OK) {
            w->failures++;
            continue;
        }
        if (y[0] != (float)version || y[SF_OUT] != (float)version)
            w->mixed++;
        if ((w->n_seen == 0 || w->seen[w->n_seen - 1] != version) && w->n_seen < MAX_SEEN)
            w->seen[w->n_seen++] = version;
    }
    return NULL;
}

/* The other process: wait for the go byte, then move the alias back and forth. */
static int mover(int go_fd)
{
    mlops_db *db = NULL;
    char byte;
    int i;
    if (read(go_fd, &byte, 1) != 1)
        return 2;
    if (mlops_db_open(&db, ts_path("stress.db"), "{\"busy_timeout_ms\": 60000, \"actor\": \"release\"}") !=
        MLOPS_OK)
        return 3;
    for (i = 0; i < MOVES; i++) {
        int64_t back = 0;
        if (mlops_alias_set(db, MODEL, "production", 2 + i % 3) != MLOPS_OK)
            return 4;
        sf_sleep_ms(15);
        if (mlops_alias_rollback(&back, db, MODEL, "production") != MLOPS_OK || back != 1)
            return 5;
        sf_sleep_ms(15);
    }
    mlops_db_close(db);
    return 0;
}

/* Is `seen` (n) a subsequence of `history` (m)? */
static int follows(const int64_t *seen, size_t n, const int64_t *history, size_t m)
{
    size_t i = 0, j = 0;
    for (; i < n && j < m; j++)
        if (seen[i] == history[j])
            i++;
    return i == n;
}

static void test_promotions_from_another_process_never_fail_or_mix(void **state)
{
    mlops_db *db = sf_open("stress.db");
    mlops_router *router = NULL;
    pthread_t threads[2];
    worker *workers = calloc(2, sizeof *workers);
    atomic_int stop = 0;
    int pipe_fd[2], status = 0, i;
    int64_t history[2 * MOVES + 1];
    size_t n_history = 0;
    char *json = NULL;
    cJSON *moves, *move, *m;
    pid_t child;
    (void)state;
    assert_non_null(workers);
    assert_int_equal(mlops_model_create(db, MODEL, NULL, NULL), MLOPS_OK);
    for (i = 1; i <= 4; i++)
        assert_int_equal(sf_register_tag(db, MODEL, (float)i), i);
    assert_int_equal(mlops_alias_set(db, MODEL, "production", 1), MLOPS_OK);
    assert_int_equal(pipe(pipe_fd), 0);
    /* fork before any thread exists: the child starts from a single-threaded copy */
    child = fork();
    assert_true(child >= 0);
    if (child == 0) {
        close(pipe_fd[1]);
        _exit(mover(pipe_fd[0]));
    }
    close(pipe_fd[0]);
    assert_int_equal(mlops_router_open(&router, db, MODEL, "{\"reload_interval_ms\": 2, \"drift\": {\"window_ms\": 0}}"),
                     MLOPS_OK);
    for (i = 0; i < 2; i++) {
        workers[i].router = router;
        workers[i].stop = &stop;
        workers[i].id = i;
        assert_int_equal(pthread_create(&threads[i], NULL, predict, &workers[i]), 0);
    }
    assert_int_equal(write(pipe_fd[1], "g", 1), 1);
    close(pipe_fd[1]);
    assert_int_equal(waitpid(child, &status, 0), child);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    for (i = 0; i < 4000 && mlops_router_version(router, MLOPS_ARM_CHAMPION) != 1; i++)
        sf_sleep_ms(5);
    sf_sleep_ms(20);
    atomic_store(&stop, 1);
    for (i = 0; i < 2; i++)
        assert_int_equal(pthread_join(threads[i], NULL), 0);
    assert_int_equal(mlops_router_version(router, MLOPS_ARM_CHAMPION), 1);

    assert_int_equal(mlops_alias_history(&json, db, MODEL, "production"), MLOPS_OK);
    moves = cJSON_Parse(json);
    mlops_free(json);
    cJSON_ArrayForEach(move, moves)
    {
        cJSON *v = cJSON_GetObjectItem(move, "version");
        assert_true(n_history < sizeof history / sizeof history[0]);
        history[n_history++] = (int64_t)v->valuedouble;
    }
    cJSON_Delete(moves);
    assert_int_equal(n_history, 2 * MOVES + 1);
    for (i = 0; i < 2; i++) {
        assert_true(workers[i].calls > 0);
        assert_int_equal(workers[i].failures, 0);
        assert_int_equal(workers[i].mixed, 0);
        assert_true(workers[i].n_seen >= 2); /* it answered from more than one version */
        if (!follows(workers[i].seen, workers[i].n_seen, history, n_history))
            fail_msg("thread %d saw versions out of the alias's order", i);
    }
    m = sf_metrics(router);
    assert_true(sf_number(m, "reloads", NULL) >= 2); /* it did follow the moves */
    assert_int_equal((int)sf_number(m, "reload_errors", NULL), 0);
    cJSON_Delete(m);
    mlops_router_close(router);
    mlops_db_close(db);
    free(workers);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_promotions_from_another_process_never_fail_or_mix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
