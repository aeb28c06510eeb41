/*
 * Change notifications: a watcher sees changes committed by another
 * process and by other handles, in order and once, through polls or its
 * background thread.
 */
#include <stdatomic.h>
#include <sys/wait.h>
#include <unistd.h>

#include "registry_fixture.h"

typedef struct seen {
    int count;
    char kinds[16][32];
    int64_t versions[16];
    char aliases[16][32];
    int64_t last_seq;
    int out_of_order;
} seen;

static void record(const mlops_registry_change *change, void *payload)
{
    seen *s = payload;
    if (change->seq <= s->last_seq)
        s->out_of_order = 1;
    s->last_seq = change->seq;
    if (s->count < 16) {
        snprintf(s->kinds[s->count], sizeof s->kinds[0], "%s", change->kind);
        snprintf(s->aliases[s->count], sizeof s->aliases[0], "%s", change->alias);
        s->versions[s->count] = change->version;
    }
    s->count++;
}

static void test_sees_other_process(void **state)
{
    mlops_db *db = rt_open("watch.db");
    mlops_registry_watch *watch = NULL;
    seen s = {0};
    int64_t delivered = -1;
    pid_t pid;
    int status, tries;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_registry_watch_open(&watch, ts_path("watch.db"), -1, record, &s), MLOPS_OK);
    assert_int_equal(mlops_registry_watch_poll(&delivered, watch), MLOPS_OK);
    assert_int_equal(delivered, 0); /* -1: only what happens from now on */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        mlops_db *child = NULL;
        int64_t version = 0;
        if (mlops_db_open(&child, ts_path("watch.db"), NULL) ||
            mlops_version_register(&version, child, "fraud", "abc", 3, NULL) ||
            mlops_alias_set(child, "fraud", "production", version))
            _exit(1);
        mlops_db_close(child);
        _exit(0);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(mlops_registry_watch_poll(&delivered, watch), MLOPS_OK);
    assert_int_equal(delivered, 2);
    assert_string_equal(s.kinds[0], "version.create");
    assert_int_equal(s.versions[0], 1);
    assert_string_equal(s.kinds[1], "alias.set");
    assert_string_equal(s.aliases[1], "production");
    /* Nothing new: nothing delivered. */
    assert_int_equal(mlops_registry_watch_poll(&delivered, watch), MLOPS_OK);
    assert_int_equal(delivered, 0);
    /* A change through another handle of this process. */
    assert_int_equal(mlops_alias_delete(db, "fraud", "production"), MLOPS_OK);
    for (tries = 0; tries < 100 && s.count < 3; tries++)
        assert_int_equal(mlops_registry_watch_poll(NULL, watch), MLOPS_OK);
    assert_int_equal(s.count, 3);
    assert_string_equal(s.kinds[2], "alias.delete");
    assert_false(s.out_of_order);
    mlops_registry_watch_close(watch);
    mlops_db_close(db);
}

static void test_replay_from_start_and_errors(void **state)
{
    mlops_db *db = rt_open("watch_replay.db");
    mlops_registry_watch *watch = NULL;
    seen s = {0};
    int64_t delivered = 0;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    rt_register(db, "fraud", 1, 10, NULL);
    assert_int_equal(mlops_registry_watch_open(&watch, ts_path("watch_replay.db"), 0, record, &s), MLOPS_OK);
    assert_int_equal(mlops_registry_watch_poll(&delivered, watch), MLOPS_OK);
    assert_int_equal(delivered, 2);
    assert_string_equal(s.kinds[0], "model.create");
    ts_assert_error(mlops_registry_watch_start(watch, 0), MLOPS_EINVAL, "interval");
    mlops_registry_watch_close(watch);
    mlops_registry_watch_close(NULL);
    ts_assert_error(mlops_registry_watch_open(&watch, ":memory:", 0, record, &s), MLOPS_EUNSUPPORTED, "in-memory");
    ts_assert_error(mlops_registry_watch_open(&watch, ts_path("absent.db"), 0, record, &s), MLOPS_ENOTFOUND,
                    "does not exist");
    ts_assert_error(mlops_registry_watch_open(&watch, ts_path("watch_replay.db"), 0, NULL, &s), MLOPS_EINVAL,
                    "callback");
    ts_assert_error(mlops_registry_watch_open(&watch, ts_path("watch_replay.db"), -2, record, &s), MLOPS_EINVAL,
                    "after_seq");
    ts_assert_error(mlops_registry_watch_poll(NULL, NULL), MLOPS_EINVAL, "watch");
    mlops_db_close(db);
}

static atomic_int thread_count;

static void count_change(const mlops_registry_change *change, void *payload)
{
    (void)payload;
    if (strcmp(change->kind, "version.create") == 0)
        atomic_fetch_add(&thread_count, 1);
}

static void test_background_thread(void **state)
{
    mlops_db *db = rt_open("watch_thread.db");
    mlops_registry_watch *watch = NULL;
    int tries;
    (void)state;
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_registry_watch_open(&watch, ts_path("watch_thread.db"), -1, count_change, NULL), MLOPS_OK);
    assert_int_equal(mlops_registry_watch_start(watch, 5), MLOPS_OK);
    ts_assert_error(mlops_registry_watch_start(watch, 5), MLOPS_ESTATE, "running already");
    rt_register(db, "fraud", 1, 10, NULL);
    rt_register(db, "fraud", 2, 10, NULL);
    for (tries = 0; tries < 2000 && atomic_load(&thread_count) < 2; tries++)
        usleep(5000);
    assert_int_equal(atomic_load(&thread_count), 2);
    mlops_registry_watch_close(watch);
    mlops_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sees_other_process),
        cmocka_unit_test(test_replay_from_start_and_errors),
        cmocka_unit_test(test_background_thread),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
