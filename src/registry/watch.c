/*
 * Change notifications. Every registry change writes a row to the change
 * log (reg_change) in its own transaction. A watcher owns a separate
 * connection to the file, so PRAGMA data_version moves whenever any other
 * connection, in this process or another, commits: a poll costs one pragma
 * when nothing changed and reads only the new change-log rows otherwise.
 * Polling is done by the host (mlops_registry_watch_poll) or by a
 * background thread (mlops_registry_watch_start).
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#include "registry_int.h"

struct mlops_registry_watch {
    mlops_db *db;                    /* the watcher's own connection */
    mlops_registry_change_fn callback;
    void *payload;
    int64_t last_seq;
    int64_t data_version;
    int have_version;
    pthread_mutex_t lock;            /* one poll at a time: host and background thread */
    pthread_cond_t wake;
    pthread_t thread;
    int thread_started;
    int stop;
    int32_t interval_ms;
};

int mlops_registry_watch_open(mlops_registry_watch **out, const char *path, int64_t after_seq,
                              mlops_registry_change_fn callback, void *payload)
{
    mlops_registry_watch *watch;
    int rc;
    if (!out)
        return mlops__error_null(MLOPS__REG, "mlops_registry_watch_open", "out");
    *out = NULL;
    if (!path)
        return mlops__error_null(MLOPS__REG, "mlops_registry_watch_open", "path");
    if (!callback)
        return mlops__error_null(MLOPS__REG, "mlops_registry_watch_open", "callback");
    if (strcmp(path, ":memory:") == 0)
        return mlops__error(MLOPS_EUNSUPPORTED, MLOPS__REG,
                            "a watcher needs a database file: an in-memory database has no other connections");
    if (after_seq < -1)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "mlops_registry_watch_open: after_seq %lld is invalid",
                            (long long)after_seq);
    watch = mlops__calloc(1, sizeof *watch);
    if (!watch)
        return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory opening a watcher on \"%s\"", path);
    watch->callback = callback;
    watch->payload = payload;
    watch->last_seq = after_seq;
    if (pthread_mutex_init(&watch->lock, NULL) != 0) {
        mlops__free(watch);
        return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "cannot create a watcher lock");
    }
    if (pthread_cond_init(&watch->wake, NULL) != 0) {
        pthread_mutex_destroy(&watch->lock);
        mlops__free(watch);
        return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "cannot create a watcher condition");
    }
    rc = mlops_db_open(&watch->db, path, "{\"create\": false}");
    if (rc == MLOPS_OK && after_seq == -1) {
        rc = mlops__reg_query_int(&watch->last_seq, watch->db, "SELECT coalesce(max(seq), 0) FROM reg_change", "");
        if (rc == MLOPS_DONE)
            rc = MLOPS_OK;
    }
    if (rc) {
        mlops_registry_watch_close(watch);
        return rc;
    }
    *out = watch;
    return MLOPS_OK;
}

static int poll_locked(int64_t *delivered, mlops_registry_watch *watch)
{
    mlops__stmt *stmt = NULL;
    int64_t version = 0;
    int rc = mlops__db_data_version(&version, watch->db);
    *delivered = 0;
    if (rc)
        return rc;
    if (watch->have_version && version == watch->data_version)
        return MLOPS_OK;
    rc = mlops__reg_prepare(&stmt, watch->db, "SELECT seq, time_us, kind, model, version, alias FROM reg_change"
                                              " WHERE seq > ?1 ORDER BY seq", "i", watch->last_seq);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops_registry_change change;
        change.seq = mlops__stmt_int64(stmt, 0);
        change.time_us = mlops__stmt_int64(stmt, 1);
        change.kind = mlops__stmt_text(stmt, 2);
        change.model = mlops__stmt_text(stmt, 3);
        change.version = mlops__stmt_int64(stmt, 4);
        change.alias = mlops__stmt_text(stmt, 5);
        watch->last_seq = change.seq;
        watch->callback(&change, watch->payload);
        (*delivered)++;
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE) {
        /* Only a complete pass makes this data version "seen". */
        watch->data_version = version;
        watch->have_version = 1;
        rc = MLOPS_OK;
    }
    return rc;
}

int mlops_registry_watch_poll(int64_t *delivered_out, mlops_registry_watch *watch)
{
    int64_t delivered = 0;
    int rc;
    if (delivered_out)
        *delivered_out = 0;
    if (!watch)
        return mlops__error_null(MLOPS__REG, "mlops_registry_watch_poll", "watch");
    pthread_mutex_lock(&watch->lock);
    rc = poll_locked(&delivered, watch);
    pthread_mutex_unlock(&watch->lock);
    if (delivered_out)
        *delivered_out = delivered;
    return rc;
}

static void *watch_thread(void *arg)
{
    mlops_registry_watch *watch = arg;
    pthread_mutex_lock(&watch->lock);
    while (!watch->stop) {
        struct timespec until;
        int64_t delivered = 0;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += watch->interval_ms / 1000;
        until.tv_nsec += (long)(watch->interval_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        while (!watch->stop && pthread_cond_timedwait(&watch->wake, &watch->lock, &until) != ETIMEDOUT)
            ;
        /* A failed poll (say, a busy database) is retried on the next tick. */
        if (!watch->stop)
            poll_locked(&delivered, watch);
    }
    pthread_mutex_unlock(&watch->lock);
    return NULL;
}

int mlops_registry_watch_start(mlops_registry_watch *watch, int32_t interval_ms)
{
    int rc;
    if (!watch)
        return mlops__error_null(MLOPS__REG, "mlops_registry_watch_start", "watch");
    if (interval_ms < 1 || interval_ms > 60000)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "watch interval %d ms is outside [1, 60000]", (int)interval_ms);
    if (watch->thread_started)
        return mlops__error(MLOPS_ESTATE, MLOPS__REG, "the watcher's thread is running already");
    watch->interval_ms = interval_ms;
    rc = pthread_create(&watch->thread, NULL, watch_thread, watch);
    if (rc != 0)
        return mlops__error_dep(MLOPS_ENOMEM, MLOPS__REG, rc, "cannot start the watcher's thread: %s", strerror(rc));
    watch->thread_started = 1;
    return MLOPS_OK;
}

void mlops_registry_watch_close(mlops_registry_watch *watch)
{
    if (!watch)
        return;
    if (watch->thread_started) {
        pthread_mutex_lock(&watch->lock);
        watch->stop = 1;
        pthread_cond_signal(&watch->wake);
        pthread_mutex_unlock(&watch->lock);
        pthread_join(watch->thread, NULL);
    }
    mlops_db_close(watch->db);
    pthread_cond_destroy(&watch->wake);
    pthread_mutex_destroy(&watch->lock);
    mlops__free(watch);
}
