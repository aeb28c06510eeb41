/*
 * A small pool of worker threads for splitting one product. Workers spin for
 * a short while after each call before sleeping on a condition variable, so
 * that back-to-back calls hand off in about a microsecond while an idle pool
 * costs nothing. Tasks are claimed from a shared counter; the caller works
 * too and returns when every worker has finished the call.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "infer_int.h"

/* How many polls a worker makes before going to sleep (roughly 100 µs). */
#define SPIN_POLLS 3000

struct mlops__pool {
    size_t threads;
    size_t workers_started;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_ulong generation; /* bumped once per call (and once to stop) */
    atomic_size_t next;      /* next task index to claim */
    atomic_size_t busy;      /* workers still inside the current call */
    int stop;
    void (*task)(void *ctx, size_t index);
    void *ctx;
    size_t count;
};

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __asm__ volatile("pause");
#endif
}

static void claim_tasks(mlops__pool *pool)
{
    size_t index;
    while ((index = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed)) < pool->count)
        pool->task(pool->ctx, index);
}

static void *worker_main(void *arg)
{
    mlops__pool *pool = arg;
    unsigned long seen = 0;
    for (;;) {
        unsigned long now;
        int polls;
        for (polls = 0; polls < SPIN_POLLS; polls++) {
            if (atomic_load_explicit(&pool->generation, memory_order_acquire) != seen)
                break;
            cpu_relax();
        }
        pthread_mutex_lock(&pool->lock);
        while ((now = atomic_load_explicit(&pool->generation, memory_order_acquire)) == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        pthread_mutex_unlock(&pool->lock);
        seen = now;
        if (pool->stop)
            break;
        claim_tasks(pool);
        atomic_fetch_sub_explicit(&pool->busy, 1, memory_order_release);
    }
    return NULL;
}

/* Wake the workers for a new generation (a call, or the stop). */
static void publish(mlops__pool *pool)
{
    pthread_mutex_lock(&pool->lock);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
}

static void stop_workers(mlops__pool *pool)
{
    size_t i;
    pool->stop = 1;
    publish(pool);
    for (i = 0; i < pool->workers_started; i++)
        pthread_join(pool->workers[i], NULL);
}

int mlops__pool_create(mlops__pool **out, size_t threads)
{
    mlops__pool *pool;
    int rc = MLOPS_OK;
    if (out == NULL)
        return mlops__error_null("infer", "mlops__pool_create", "out");
    *out = NULL;
    if (threads < 1 || threads > 256)
        return mlops__error(MLOPS_EINVAL, "infer", "thread pool: %zu threads is outside [1, 256]", threads);
    pool = mlops__calloc(1, sizeof *pool);
    if (pool == NULL)
        return mlops__error(MLOPS_ENOMEM, "infer", "thread pool: out of memory");
    pool->threads = threads;
    if (threads > 1) {
        pool->workers = mlops__calloc(threads - 1, sizeof *pool->workers);
        if (pool->workers == NULL) {
            rc = mlops__error(MLOPS_ENOMEM, "infer", "thread pool: out of memory");
            goto out_free_pool;
        }
    }
    pthread_mutex_init(&pool->lock, NULL);
    pthread_cond_init(&pool->wake, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->next, 0);
    atomic_init(&pool->busy, 0);
    for (; pool->workers_started + 1 < threads; pool->workers_started++) {
        int err = pthread_create(&pool->workers[pool->workers_started], NULL, worker_main, pool);
        if (err != 0) {
            rc = mlops__error_dep(MLOPS_ENOMEM, "infer", err, "thread pool: cannot start worker %zu of %zu",
                                  pool->workers_started + 1, threads - 1);
            goto out_stop;
        }
    }
    *out = pool;
    return MLOPS_OK;
out_stop:
    stop_workers(pool);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    mlops__free(pool->workers);
out_free_pool:
    mlops__free(pool);
    return rc;
}

void mlops__pool_free(mlops__pool *pool)
{
    if (pool == NULL)
        return;
    stop_workers(pool);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    mlops__free(pool->workers);
    mlops__free(pool);
}

size_t mlops__pool_threads(const mlops__pool *pool)
{
    return pool != NULL ? pool->threads : 1;
}

void mlops__pool_run(mlops__pool *pool, void (*task)(void *ctx, size_t index), void *ctx, size_t count)
{
    if (pool == NULL || pool->workers_started == 0 || count <= 1) {
        size_t i;
        for (i = 0; i < count; i++)
            task(ctx, i);
        return;
    }
    pool->task = task;
    pool->ctx = ctx;
    pool->count = count;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->busy, pool->workers_started, memory_order_relaxed);
    publish(pool);
    claim_tasks(pool);
    while (atomic_load_explicit(&pool->busy, memory_order_acquire) != 0)
        cpu_relax();
}
