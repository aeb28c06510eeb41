/*
 * A small pool of worker threads for splitting one product. A call publishes
 * its tasks and works on them itself; workers that wake in time join and
 * claim tasks from a shared counter. Once the caller has run out of tasks it
 * closes the call: a worker that wakes later (the host may be oversubscribed)
 * sees the call closed and does not hold the caller up. Workers spin briefly
 * after a call before sleeping, so back-to-back calls hand off quickly while
 * an idle pool costs nothing.
 */
#include <pthread.h>
#include <stdatomic.h>

#include "infer_int.h"

/* Polls a worker makes before sleeping (about 50 µs), and the caller before waiting. */
#define WORKER_SPIN_POLLS 1500
#define CALLER_SPIN_POLLS 500

struct mlops__pool {
    size_t threads;
    size_t workers_started;
    pthread_t *workers;
    pthread_mutex_t lock;
    pthread_cond_t wake;     /* a new call (or the stop) was published */
    pthread_cond_t done;     /* the last worker of a call left it */
    atomic_ulong generation; /* bumped once per call, and once to stop */
    atomic_size_t next;      /* next task index to claim */
    atomic_size_t active;    /* workers inside the current call */
    /* Under `lock`: */
    int open;                /* workers may still join the current call */
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

static void claim_tasks(mlops__pool *pool, void (*task)(void *ctx, size_t index), void *ctx, size_t count)
{
    size_t index;
    while ((index = atomic_fetch_add_explicit(&pool->next, 1, memory_order_relaxed)) < count)
        task(ctx, index);
}

static void *worker_main(void *arg)
{
    mlops__pool *pool = arg;
    unsigned long seen = 0;
    for (;;) {
        void (*task)(void *ctx, size_t index) = NULL;
        void *ctx = NULL;
        size_t count = 0;
        int polls;
        for (polls = 0; polls < WORKER_SPIN_POLLS; polls++) {
            if (atomic_load_explicit(&pool->generation, memory_order_acquire) != seen)
                break;
            cpu_relax();
        }
        pthread_mutex_lock(&pool->lock);
        while (atomic_load_explicit(&pool->generation, memory_order_acquire) == seen)
            pthread_cond_wait(&pool->wake, &pool->lock);
        seen = atomic_load_explicit(&pool->generation, memory_order_acquire);
        if (pool->stop) {
            pthread_mutex_unlock(&pool->lock);
            break;
        }
        if (pool->open) {
            task = pool->task;
            ctx = pool->ctx;
            count = pool->count;
            atomic_fetch_add_explicit(&pool->active, 1, memory_order_relaxed);
        }
        pthread_mutex_unlock(&pool->lock);
        if (task == NULL)
            continue;
        claim_tasks(pool, task, ctx, count);
        pthread_mutex_lock(&pool->lock);
        if (atomic_fetch_sub_explicit(&pool->active, 1, memory_order_release) == 1)
            pthread_cond_signal(&pool->done);
        pthread_mutex_unlock(&pool->lock);
    }
    return NULL;
}

static void stop_workers(mlops__pool *pool)
{
    size_t i;
    pthread_mutex_lock(&pool->lock);
    pool->stop = 1;
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
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
    pthread_cond_init(&pool->done, NULL);
    atomic_init(&pool->generation, 0);
    atomic_init(&pool->next, 0);
    atomic_init(&pool->active, 0);
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
    pthread_cond_destroy(&pool->done);
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
    pthread_cond_destroy(&pool->done);
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
    int polls;
    if (pool == NULL || pool->workers_started == 0 || count <= 1) {
        size_t i;
        for (i = 0; i < count; i++)
            task(ctx, i);
        return;
    }
    pthread_mutex_lock(&pool->lock);
    pool->task = task;
    pool->ctx = ctx;
    pool->count = count;
    pool->open = 1;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_fetch_add_explicit(&pool->generation, 1, memory_order_release);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    claim_tasks(pool, task, ctx, count);
    /* Every task is claimed: close the call, then wait for the workers still finishing theirs. */
    pthread_mutex_lock(&pool->lock);
    pool->open = 0;
    pthread_mutex_unlock(&pool->lock);
    for (polls = 0; polls < CALLER_SPIN_POLLS; polls++) {
        if (atomic_load_explicit(&pool->active, memory_order_acquire) == 0)
            return;
        cpu_relax();
    }
    pthread_mutex_lock(&pool->lock);
    while (atomic_load_explicit(&pool->active, memory_order_acquire) != 0)
        pthread_cond_wait(&pool->done, &pool->lock);
    pthread_mutex_unlock(&pool->lock);
}
