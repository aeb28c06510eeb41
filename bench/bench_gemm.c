/*
 * int8 GEMM benchmark: libmlops (float in, per-row quantization, int8
 * product, dequantizing epilogue, float out) against oneDNN's int8 matmul
 * (u8 x s8 -> f32 with a source zero point, per-column output scales and
 * bias; weights reordered to its preferred layout and the primitive created
 * before timing) and against OpenBLAS sgemm, in the same run.
 *
 *   bench_gemm [--threads T] [--reps R] [--cpu-time] [--shape MxKxN]...
 *
 * --cpu-time times with the calling thread's CPU clock instead of the wall
 * clock: on a shared, oversubscribed host it leaves out the time the thread
 * was not running. Only meaningful with one thread.
 *
 * Set OMP_NUM_THREADS=T too: oneDNN's thread count comes from OpenMP. Batch 1
 * is measured "hot" (one weight matrix, in cache) and "cold" (rotating over
 * enough copies to overflow L2). Prints one line per measurement: medians over
 * R repetitions, each repetition timing a loop of at least 20 ms.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include <oneapi/dnnl/dnnl.h>

#include "mlops.h"

#define MAX_REPS 31
#define COLD_COPIES 16

/* CLOCK_MONOTONIC, or with --cpu-time the calling thread's CPU time (one thread only). */
static clockid_t bench_clock = CLOCK_MONOTONIC;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(bench_clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "bench_gemm: %s\n", what);
    exit(1);
}

#define DNNL_CHECK(call) \
    do { \
        if ((call) != dnnl_success) \
            die(#call); \
    } while (0)

static float *random_floats(size_t count, unsigned seed)
{
    float *v = malloc(count * sizeof *v);
    size_t i;
    if (v == NULL)
        die("out of memory");
    srand(seed);
    for (i = 0; i < count; i++)
        v[i] = (float)rand() / (float)RAND_MAX * 2.0f - 1.0f;
    return v;
}

/* One benchmarked implementation: call(ctx, copy) runs one product on weight copy `copy`. */
typedef struct impl {
    const char *name;
    void (*call)(void *ctx, int copy);
    void *ctx;
    int copies; /* > 1: cold, rotating over copies */
    double times[MAX_REPS];
} impl;

/* Seconds per call of one repetition: a loop of at least 20 ms. */
static double time_once(impl *im)
{
    double start, elapsed;
    long iters = 1, i;
    for (;;) {
        start = now_s();
        for (i = 0; i < iters; i++)
            im->call(im->ctx, (int)(i % im->copies));
        elapsed = now_s() - start;
        if (elapsed >= 0.02)
            return elapsed / (double)iters;
        iters = elapsed > 0.002 ? (long)(iters * 0.025 / elapsed) + 1 : iters * 10;
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ---- libmlops ---- */
typedef struct ours_ctx {
    mlops_gemm *gemm[COLD_COPIES];
    const float *x;
    float *y;
    size_t m, k, n;
} ours_ctx;

static void ours_call(void *arg, int copy)
{
    ours_ctx *c = arg;
    if (mlops_gemm_run(c->gemm[copy], c->x, c->m, c->k, c->y, c->n) != MLOPS_OK)
        die(mlops_error_last()->message);
}

static ours_ctx *ours_new(const float *const *w, int copies, const float *bias, const float *x, float *y, size_t m,
                          size_t k, size_t n, int threads, int32_t precision)
{
    ours_ctx *c = calloc(1, sizeof *c);
    mlops_gemm_options options;
    int i;
    mlops_gemm_options_init(&options);
    options.threads = threads;
    options.precision = precision;
    for (i = 0; i < copies; i++)
        if (mlops_gemm_pack(&c->gemm[i], w[i], k, n, n, bias, &options) != MLOPS_OK)
            die(mlops_error_last()->message);
    c->x = x;
    c->y = y;
    c->m = m;
    c->k = k;
    c->n = n;
    ours_call(c, 0);
    return c;
}

static void ours_free(ours_ctx *c)
{
    int i;
    for (i = 0; i < COLD_COPIES; i++)
        mlops_gemm_free(c->gemm[i]);
    free(c);
}

/* ---- oneDNN ---- */
typedef struct dnnl_ctx {
    dnnl_engine_t engine;
    dnnl_stream_t stream;
    dnnl_primitive_t prim;
    dnnl_memory_t src, bias, dst, wei[COLD_COPIES];
    int copies;
} dnnl_ctx;

static void dnnl_call(void *arg, int copy)
{
    dnnl_ctx *c = arg;
    dnnl_exec_arg_t args[4] = {
        {DNNL_ARG_SRC, c->src}, {DNNL_ARG_WEIGHTS, c->wei[copy]}, {DNNL_ARG_BIAS, c->bias}, {DNNL_ARG_DST, c->dst}};
    DNNL_CHECK(dnnl_primitive_execute(c->prim, c->stream, 4, args));
    DNNL_CHECK(dnnl_stream_wait(c->stream));
}

static dnnl_ctx *dnnl_new(const float *const *w, int copies, const float *bias, const float *x, size_t m, size_t k,
                          size_t n, const char **kernel)
{
    dnnl_ctx *c = calloc(1, sizeof *c);
    dnnl_memory_desc_t src_md, wei_any, wei_plain, dst_md, bias_md;
    dnnl_dims_t src_dims = {(dnnl_dim_t)m, (dnnl_dim_t)k}, wei_dims = {(dnnl_dim_t)k, (dnnl_dim_t)n},
                dst_dims = {(dnnl_dim_t)m, (dnnl_dim_t)n}, bias_dims = {1, (dnnl_dim_t)n};
    dnnl_matmul_desc_t desc;
    dnnl_primitive_attr_t attr;
    dnnl_primitive_desc_t pd;
    const dnnl_memory_desc_t *wei_md;
    float *scales = malloc(n * sizeof *scales);
    int8_t *wq = malloc(k * n);
    uint8_t *xq;
    int32_t zp = 128;
    size_t i, j;
    int cp;
    DNNL_CHECK(dnnl_engine_create(&c->engine, dnnl_cpu, 0));
    DNNL_CHECK(dnnl_stream_create(&c->stream, c->engine, dnnl_stream_default_flags));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&src_md, 2, src_dims, dnnl_u8, dnnl_ab));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&wei_any, 2, wei_dims, dnnl_s8, dnnl_format_tag_any));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&wei_plain, 2, wei_dims, dnnl_s8, dnnl_ab));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&dst_md, 2, dst_dims, dnnl_f32, dnnl_ab));
    DNNL_CHECK(dnnl_memory_desc_init_by_tag(&bias_md, 2, bias_dims, dnnl_f32, dnnl_ab));
    DNNL_CHECK(dnnl_matmul_desc_init(&desc, &src_md, &wei_any, &bias_md, &dst_md));
    DNNL_CHECK(dnnl_primitive_attr_create(&attr));
    for (j = 0; j < n; j++)
        scales[j] = 1.0f / (127.0f * 127.0f);
    DNNL_CHECK(dnnl_primitive_attr_set_output_scales(attr, (dnnl_dim_t)n, 1 << 1, scales));
    DNNL_CHECK(dnnl_primitive_attr_set_zero_points(attr, DNNL_ARG_SRC, 1, 0, &zp));
    DNNL_CHECK(dnnl_primitive_desc_create(&pd, &desc, attr, c->engine, NULL));
    DNNL_CHECK(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, kernel));
    wei_md = dnnl_primitive_desc_query_md(pd, dnnl_query_weights_md, 0);
    DNNL_CHECK(dnnl_primitive_create(&c->prim, pd));
    for (cp = 0; cp < copies; cp++) {
        dnnl_memory_t plain;
        dnnl_primitive_desc_t rpd;
        dnnl_primitive_t reorder;
        dnnl_exec_arg_t rargs[2];
        for (i = 0; i < k * n; i++)
            wq[i] = (int8_t)(w[cp][i] * 127.0f);
        DNNL_CHECK(dnnl_memory_create(&plain, &wei_plain, c->engine, wq));
        DNNL_CHECK(dnnl_memory_create(&c->wei[cp], wei_md, c->engine, DNNL_MEMORY_ALLOCATE));
        DNNL_CHECK(dnnl_reorder_primitive_desc_create(&rpd, &wei_plain, c->engine, wei_md, c->engine, NULL));
        DNNL_CHECK(dnnl_primitive_create(&reorder, rpd));
        rargs[0].arg = DNNL_ARG_FROM;
        rargs[0].memory = plain;
        rargs[1].arg = DNNL_ARG_TO;
        rargs[1].memory = c->wei[cp];
        DNNL_CHECK(dnnl_primitive_execute(reorder, c->stream, 2, rargs));
        DNNL_CHECK(dnnl_stream_wait(c->stream));
        dnnl_primitive_destroy(reorder);
        dnnl_primitive_desc_destroy(rpd);
        dnnl_memory_destroy(plain);
    }
    DNNL_CHECK(dnnl_memory_create(&c->src, &src_md, c->engine, DNNL_MEMORY_ALLOCATE));
    DNNL_CHECK(dnnl_memory_get_data_handle(c->src, (void **)&xq));
    for (i = 0; i < m * k; i++)
        xq[i] = (uint8_t)(x[i] * 127.0f + 128.0f);
    DNNL_CHECK(dnnl_memory_create(&c->bias, &bias_md, c->engine, DNNL_MEMORY_ALLOCATE));
    {
        float *b;
        DNNL_CHECK(dnnl_memory_get_data_handle(c->bias, (void **)&b));
        memcpy(b, bias, n * sizeof *b);
    }
    DNNL_CHECK(dnnl_memory_create(&c->dst, &dst_md, c->engine, DNNL_MEMORY_ALLOCATE));
    c->copies = copies;
    free(scales);
    free(wq);
    dnnl_call(c, 0);
    *kernel = strdup(*kernel);
    dnnl_primitive_desc_destroy(pd);
    dnnl_primitive_attr_destroy(attr);
    return c;
}

static void dnnl_free(dnnl_ctx *c)
{
    int i;
    for (i = 0; i < c->copies; i++)
        dnnl_memory_destroy(c->wei[i]);
    dnnl_memory_destroy(c->src);
    dnnl_memory_destroy(c->bias);
    dnnl_memory_destroy(c->dst);
    dnnl_primitive_destroy(c->prim);
    dnnl_stream_destroy(c->stream);
    dnnl_engine_destroy(c->engine);
    free(c);
}

/* ---- OpenBLAS ---- */
typedef struct blas_ctx {
    const float *const *w;
    const float *x;
    float *y;
    size_t m, k, n;
    int gemv;
} blas_ctx;

static void blas_call(void *arg, int copy)
{
    blas_ctx *c = arg;
    if (c->gemv)
        cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)c->k, (blasint)c->n, 1.0f, c->w[copy], (blasint)c->n, c->x,
                    1, 0.0f, c->y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)c->m, (blasint)c->n, (blasint)c->k, 1.0f,
                    c->x, (blasint)c->k, c->w[copy], (blasint)c->n, 0.0f, c->y, (blasint)c->n);
}

static void bench_shape(size_t m, size_t k, size_t n, int threads, int reps)
{
    float *w[COLD_COPIES], *bias = random_floats(n, 7), *x = random_floats(m * k, 11);
    float *y = malloc(m * n * sizeof *y);
    impl impls[8];
    int count = 0, copies = m == 1 ? COLD_COPIES : 1, cp, r, i;
    ours_ctx *ours_hot, *ours_cold = NULL, *ours_w8 = NULL;
    dnnl_ctx *dnnl_hot, *dnnl_cold = NULL;
    blas_ctx blas = {(const float *const *)w, x, y, m, k, n, 0}, blas_cold, gemv;
    const char *dnnl_kernel, *dnnl_kernel_cold;
    double med[8];
    for (cp = 0; cp < copies; cp++)
        w[cp] = random_floats(k * n, 100 + (unsigned)cp);
    ours_hot = ours_new((const float *const *)w, 1, bias, x, y, m, k, n, threads, MLOPS_GEMM_INT8);
    dnnl_hot = dnnl_new((const float *const *)w, 1, bias, x, m, k, n, &dnnl_kernel);
    impls[count++] = (impl){"mlops_int8", ours_call, ours_hot, 1, {0}};
    impls[count++] = (impl){"onednn_int8", dnnl_call, dnnl_hot, 1, {0}};
    impls[count++] = (impl){"openblas_sgemm", blas_call, &blas, 1, {0}};
    if (m == 1) {
        ours_cold = ours_new((const float *const *)w, copies, bias, x, y, m, k, n, threads, MLOPS_GEMM_INT8);
        dnnl_cold = dnnl_new((const float *const *)w, copies, bias, x, m, k, n, &dnnl_kernel_cold);
        ours_w8 = ours_new((const float *const *)w, 1, bias, x, y, m, k, n, threads, MLOPS_GEMM_INT8_WEIGHTS);
        gemv = blas;
        gemv.gemv = 1;
        blas_cold = gemv;
        impls[count++] = (impl){"mlops_int8_cold", ours_call, ours_cold, copies, {0}};
        impls[count++] = (impl){"onednn_int8_cold", dnnl_call, dnnl_cold, copies, {0}};
        impls[count++] = (impl){"mlops_int8_weights", ours_call, ours_w8, 1, {0}};
        impls[count++] = (impl){"openblas_sgemv", blas_call, &gemv, 1, {0}};
        impls[count++] = (impl){"openblas_sgemv_cold", blas_call, &blas_cold, copies, {0}};
        free((void *)dnnl_kernel_cold);
    }
    for (r = 0; r < reps; r++)
        for (i = 0; i < count; i++)
            impls[i].times[r] = time_once(&impls[i]);
    printf("# %zux%zux%zu threads=%d mlops kernel=%s onednn kernel=%s clock=%s\n", m, k, n, threads,
           mlops_gemm_kernel(ours_hot->gemm[0]), dnnl_kernel, bench_clock == CLOCK_MONOTONIC ? "wall" : "cpu");
    for (i = 0; i < count; i++) {
        med[i] = median(impls[i].times, reps);
        printf("%zux%zux%zu\tthreads=%d\t%-20s\t%10.2f us\t%8.1f GOP/s\n", m, k, n, threads, impls[i].name,
               med[i] * 1e6, 2.0 * (double)m * (double)k * (double)n / med[i] * 1e-9);
    }
    /* impls: 0 mlops, 1 oneDNN, 2 sgemm; for batch 1 also 3 mlops cold, 4 oneDNN cold, 6 sgemv. */
    printf("%zux%zux%zu\tthreads=%d\tspeed-up vs onednn %.2fx\tvs openblas sgemm %.1fx", m, k, n, threads,
           med[1] / med[0], med[2] / med[0]);
    if (m == 1)
        printf("\tcold vs onednn %.2fx\tvs openblas sgemv %.1fx", med[4] / med[3], med[6] / med[0]);
    printf("\n");
    fflush(stdout);
    ours_free(ours_hot);
    dnnl_free(dnnl_hot);
    if (m == 1) {
        ours_free(ours_cold);
        ours_free(ours_w8);
        dnnl_free(dnnl_cold);
    }
    free((void *)dnnl_kernel);
    for (cp = 0; cp < copies; cp++)
        free(w[cp]);
    free(bias);
    free(x);
    free(y);
}

int main(int argc, char **argv)
{
    static const size_t defaults[][3] = {
        {1, 1024, 1024}, {16, 1024, 1024}, {256, 1024, 1024}, {256, 4096, 4096}, {1024, 1024, 1024}};
    size_t shapes[16][3];
    int nshapes = 0, threads = 1, reps = 7, a, s;
    for (a = 1; a < argc; a++) {
        if (strcmp(argv[a], "--threads") == 0 && a + 1 < argc) {
            threads = atoi(argv[++a]);
        } else if (strcmp(argv[a], "--cpu-time") == 0) {
            bench_clock = CLOCK_THREAD_CPUTIME_ID;
        } else if (strcmp(argv[a], "--reps") == 0 && a + 1 < argc) {
            reps = atoi(argv[++a]);
        } else if (strcmp(argv[a], "--shape") == 0 && a + 1 < argc && nshapes < 16) {
            if (sscanf(argv[++a], "%zux%zux%zu", &shapes[nshapes][0], &shapes[nshapes][1], &shapes[nshapes][2]) != 3)
                die("--shape wants MxKxN");
            nshapes++;
        } else {
            die("usage: bench_gemm [--threads T] [--reps R] [--cpu-time] [--shape MxKxN]...");
        }
    }
    if (reps < 1 || reps > MAX_REPS || threads < 1)
        die("--reps must be in [1, 31] and --threads >= 1");
    if (bench_clock == CLOCK_THREAD_CPUTIME_ID && threads != 1)
        die("--cpu-time measures one thread: use --threads 1");
    if (nshapes == 0) {
        memcpy(shapes, defaults, sizeof defaults);
        nshapes = (int)(sizeof defaults / sizeof defaults[0]);
    }
    openblas_set_num_threads(threads);
    for (s = 0; s < nshapes; s++)
        bench_shape(shapes[s][0], shapes[s][1], shapes[s][2], threads, reps);
    return 0;
}
