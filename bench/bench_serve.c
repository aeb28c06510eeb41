/*
 * Router overhead: batch-1 calls through mlops_router_run() against
 * mlops_session_run() on a session of the same model, on one and on two
 * threads at once, the two alternating in blocks within each repetition and
 * timed in thread CPU time.
 * Configurations: "plain" (champion only, no monitor, no outcomes), "full"
 * (a canary challenger, outcome keeping and the drift monitor on 2% of the
 * keys) and "every_row" (the same with every row profiled).
 * Prints per configuration and thread count the medians over repetitions:
 *   serve <config> threads <t> bare_ns <v> router_ns <v> overhead_ns <v> overhead_pct <v>
 * Usage: bench_serve MODEL.onnx WORK_DIR [--reps R] [--calls N] [--config plain|full|every_row]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlops.h"

#include "bench_clock.h"

/* CPU time of the calling thread: on a shared host, time other processes take from us does not count. */
static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(int rc, const char *what)
{
    if (rc != MLOPS_OK) {
        fprintf(stderr, "bench_serve: %s: %s\n", what, mlops_error_last()->message);
        exit(1);
    }
}

typedef struct job {
    mlops_session *session;
    mlops_router *router;
    const float *x;
    size_t width;
    int calls, id;
    pthread_barrier_t *start;
    double bare_s, router_s;
} job;

/* Alternate blocks of bare and routed calls so that a change of the machine's load hits both alike. */
static void *run_job(void *arg)
{
    enum { BLOCKS = 20 };
    job *j = arg;
    float y[64];
    static _Thread_local char keys[1024][16]; /* request keys made before the clock starts */
    int i, b, per_block = j->calls / BLOCKS > 0 ? j->calls / BLOCKS : 1;
    for (i = 0; i < 1024; i++)
        snprintf(keys[i], sizeof keys[i], "%d:%d", j->id, i);
    pthread_barrier_wait(j->start);
    for (b = 0; b < BLOCKS; b++) {
        double t0 = thread_cpu_s(), t1;
        for (i = 0; i < per_block; i++)
            check(mlops_session_run(j->session, j->x + (size_t)(i & 255) * j->width, 1, y, 64), "session run");
        t1 = thread_cpu_s();
        for (i = 0; i < per_block; i++)
            check(mlops_router_run(NULL, j->router, keys[i & 1023], j->x + (size_t)(i & 255) * j->width, 1, y, 64),
                  "router run");
        j->bare_s += t1 - t0;
        j->router_s += thread_cpu_s() - t1;
    }
    j->calls = per_block * BLOCKS;
    return NULL;
}

/* Nanoseconds per call, bare and routed, on `threads` threads at once (means over the threads). */
static void measure(double *bare_ns, double *router_ns, mlops_session *session, mlops_router *router, const float *x,
                    size_t width, int threads, int calls)
{
    pthread_t t[2];
    job jobs[2];
    pthread_barrier_t start;
    int i;
    *bare_ns = *router_ns = 0.0;
    pthread_barrier_init(&start, NULL, (unsigned)threads);
    for (i = 0; i < threads; i++) {
        memset(&jobs[i], 0, sizeof jobs[i]);
        jobs[i].session = session;
        jobs[i].router = router;
        jobs[i].x = x;
        jobs[i].width = width;
        jobs[i].calls = calls;
        jobs[i].id = i;
        jobs[i].start = &start;
        pthread_create(&t[i], NULL, run_job, &jobs[i]);
    }
    for (i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
        *bare_ns += jobs[i].bare_s / jobs[i].calls * 1e9 / threads;
        *router_ns += jobs[i].router_s / jobs[i].calls * 1e9 / threads;
    }
    pthread_barrier_destroy(&start);
}

int main(int argc, char **argv)
{
    static const char *const configs[3][2] = {
        {"plain", "{\"reload_interval_ms\": 1000, \"drift\": {\"window_ms\": 0}, \"outcomes\": {\"capacity\": 0}}"},
        {"full", "{\"challenger\": \"staging\", \"share\": 0.1, \"reload_interval_ms\": 1000, "
                 "\"drift\": {\"window_ms\": 60000, \"sample\": 0.02}, \"outcomes\": {\"capacity\": 16384}}"},
        {"every_row", "{\"challenger\": \"staging\", \"share\": 0.1, \"reload_interval_ms\": 1000, "
                      "\"drift\": {\"window_ms\": 60000, \"sample\": 1}, \"outcomes\": {\"capacity\": 16384}}"},
    };
    const char *model_path, *dir, *only = NULL;
    int reps = 7, calls = 50000, i, c, threads, r;
    char db_path[4096];
    mlops_db *db = NULL;
    mlops_session *session = NULL;
    void *bytes;
    size_t len, width;
    FILE *f;
    float *x;
    int64_t v1, v2;
    if (argc < 3) {
        fprintf(stderr, "usage: bench_serve MODEL.onnx WORK_DIR [--reps R] [--calls N] [--config NAME]\n");
        return 2;
    }
    model_path = argv[1];
    dir = argv[2];
    for (i = 3; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--calls") == 0)
            calls = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--config") == 0)
            only = argv[i + 1];
    }
    if (reps < 1 || reps > 64 || calls < 1)
        return 2;
    f = fopen(model_path, "rb");
    if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (len = (size_t)ftell(f)) == 0 || fseek(f, 0, SEEK_SET) != 0) {
        fprintf(stderr, "bench_serve: cannot read %s\n", model_path);
        return 1;
    }
    bytes = malloc(len);
    if (bytes == NULL || fread(bytes, 1, len, f) != len)
        return 1;
    fclose(f);
    snprintf(db_path, sizeof db_path, "%s/serve_bench.db", dir);
    remove(db_path);
    check(mlops_db_open(&db, db_path, NULL), "open db");
    check(mlops_model_create(db, "bench", NULL, NULL), "create model");
    check(mlops_version_register(&v1, db, "bench", bytes, len, NULL), "register");
    check(mlops_version_register(&v2, db, "bench", bytes, len, "{\"tags\": {\"copy\": \"2\"}}"), "register");
    check(mlops_alias_set(db, "bench", "production", v1), "alias");
    check(mlops_alias_set(db, "bench", "staging", v2), "alias");
    check(mlops_session_open(&session, bytes, len, NULL, NULL), "session");
    free(bytes);
    width = mlops_session_input_width(session);
    x = malloc(256 * width * sizeof *x);
    if (x == NULL)
        return 1;
    for (i = 0; i < (int)(256 * width); i++)
        x[i] = (float)((i * 7919) % 17) / 16.0f;
    for (c = 0; c < 3; c++)
        for (threads = 1; threads <= 2; threads++) {
            mlops_router *router = NULL;
            double bare[64], routed[64], over[64], pct[64];
            if (only != NULL && strcmp(only, configs[c][0]) != 0)
                continue;
            check(mlops_router_open(&router, db, "bench", configs[c][1]), "router");
            measure(&bare[0], &routed[0], session, router, x, width, threads, calls / 10); /* warm both */
            for (r = 0; r < reps; r++) {
                measure(&bare[r], &routed[r], session, router, x, width, threads, calls);
                over[r] = routed[r] - bare[r];
                pct[r] = 100.0 * over[r] / bare[r];
            }
            printf("serve %s threads %d bare_ns %.1f router_ns %.1f overhead_ns %.1f overhead_pct %.2f\n",
                   configs[c][0], threads, median(bare, reps), median(routed, reps), median(over, reps),
                   median(pct, reps));
            fflush(stdout);
            mlops_router_close(router);
        }
    free(x);
    mlops_session_free(session);
    mlops_db_close(db);
    return 0;
}
