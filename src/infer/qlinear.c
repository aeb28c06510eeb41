/*
 * The quantized linear layer: packing float weights into int8 with a
 * symmetric scale per output column, per-row activation quantization, the
 * epilogue pieces every kernel shares, and the run that splits a product
 * across a thread pool.
 */
#include <math.h>
#include <string.h>

#include "infer_int.h"

/* Products below this many multiply-adds stay on the calling thread: the hand-off costs more. */
#define POOL_MIN_MACS ((size_t)1 << 20)
#define TASKS_PER_THREAD 4

static const mlops__kernels *kernels_of(mlops__isa isa)
{
    switch (isa) {
    case MLOPS__ISA_AVX2:
        return &mlops__kernels_avx2;
    case MLOPS__ISA_AVX512VNNI:
        return &mlops__kernels_avx512;
    case MLOPS__ISA_AMX:
        return &mlops__kernels_amx;
    case MLOPS__ISA_REF:
        break;
    }
    return &mlops__kernels_ref;
}

static size_t round_up(size_t value, size_t multiple)
{
    return (value + multiple - 1) / multiple * multiple;
}

static void *align64(void *p)
{
    return (void *)(((uintptr_t)p + 63) & ~(uintptr_t)63); // NOLINT(performance-no-int-to-ptr): aligning up
}

float mlops__act_scalar(const mlops__epilogue *epilogue, float v)
{
    float t;
    switch (epilogue->act) {
    case MLOPS__ACT_RELU:
        return v > 0.0f ? v : 0.0f;
    case MLOPS__ACT_LEAKY_RELU:
        return v > 0.0f ? v : epilogue->alpha * v;
    case MLOPS__ACT_SIGMOID:
        return 1.0f / (1.0f + expf(-v));
    case MLOPS__ACT_TANH:
        return tanhf(v);
    case MLOPS__ACT_GELU:
        return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case MLOPS__ACT_CLIP:
        t = v > epilogue->alpha ? v : epilogue->alpha;
        return t < epilogue->beta ? t : epilogue->beta;
    case MLOPS__ACT_NONE:
        break;
    }
    return v;
}

int mlops__act_is_transcendental(mlops__act act)
{
    return act == MLOPS__ACT_SIGMOID || act == MLOPS__ACT_TANH || act == MLOPS__ACT_GELU;
}

void mlops__act_row(const mlops__epilogue *epilogue, float *y, size_t count)
{
    size_t i;
    for (i = 0; i < count; i++)
        y[i] = mlops__act_scalar(epilogue, y[i]);
}

void mlops__quant_params(float lo, float hi, int32_t *zp, float *scale, float *inv)
{
    float range = hi - lo, z;
    if (!(range > 0.0f)) {
        *scale = 1.0f;
        *inv = 1.0f;
        *zp = 0;
        return;
    }
    *scale = range / 255.0f;
    *inv = 1.0f / *scale;
    z = rintf(-lo * *inv); /* NaN when a bound is infinite (0 x inf): the zero point is then 0 */
    *zp = !(z > 0.0f) ? 0 : z > 255.0f ? 255 : (int32_t)z;
}

uint8_t mlops__quant_value(float x, float inv, int32_t zp)
{
    float t = fmaf(x, inv, (float)zp);
    t = t > 0.0f ? t : 0.0f;
    t = t < 255.0f ? t : 255.0f;
    return (uint8_t)rintf(t);
}

static int check_epilogue(const mlops__epilogue *epilogue)
{
    if ((unsigned)epilogue->act > MLOPS__ACT_CLIP)
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: unknown activation %d", (int)epilogue->act);
    if (epilogue->act == MLOPS__ACT_CLIP && !(epilogue->alpha <= epilogue->beta))
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: clip bounds [%g, %g] are not ordered",
                            (double)epilogue->alpha, (double)epilogue->beta);
    if (epilogue->act == MLOPS__ACT_LEAKY_RELU && !isfinite(epilogue->alpha))
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: leaky relu slope is not finite");
    return MLOPS_OK;
}

/* Quantize column j of W into the packed layout; fails on a non-finite weight. */
static int pack_column(mlops__qlinear *layer, int8_t *w, int32_t *colsum, float *wscale, const float *src,
                       size_t ldw, int transposed, size_t j)
{
    size_t k;
    float amax = 0.0f, scale;
    int32_t sum = 0;
    for (k = 0; k < layer->k; k++) {
        float v = transposed ? src[j * ldw + k] : src[k * ldw + j];
        if (!isfinite(v))
            return mlops__error(MLOPS_EINVAL, "infer", "linear layer: weight [%zu][%zu] is not finite", k, j);
        v = fabsf(v);
        amax = v > amax ? v : amax;
    }
    scale = amax > 0.0f ? amax / 127.0f : 1.0f;
    for (k = 0; k < layer->k; k++) {
        float v = transposed ? src[j * ldw + k] : src[k * ldw + j];
        float q = rintf(v / scale);
        int8_t qi = (int8_t)(q < -127.0f ? -127 : q > 127.0f ? 127 : (int)q);
        w[mlops__packed_at(layer, k, j)] = qi;
        sum += qi;
    }
    colsum[j] = sum;
    wscale[j] = scale;
    return MLOPS_OK;
}

int mlops__qlinear_pack(mlops__qlinear **out, const float *w, size_t k, size_t n, size_t ldw, int transposed,
                        const float *bias, mlops__epilogue epilogue, mlops__isa isa)
{
    mlops__qlinear *layer;
    size_t kp, np, j, wbytes;
    int8_t *pw;
    int32_t *colsum;
    float *wscale, *pbias;
    int rc;
    if (out == NULL)
        return mlops__error_null("infer", "mlops__qlinear_pack", "out");
    *out = NULL;
    if (w == NULL)
        return mlops__error_null("infer", "mlops__qlinear_pack", "w");
    if (k == 0 || n == 0)
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: empty weight matrix (%zu x %zu)", k, n);
    if (k > MLOPS__K_MAX)
        return mlops__error(MLOPS_ELIMIT, "infer", "linear layer: K = %zu exceeds the int8 limit of %u", k,
                            MLOPS__K_MAX);
    if (n > ((size_t)1 << 24))
        return mlops__error(MLOPS_ELIMIT, "infer", "linear layer: N = %zu exceeds the limit of %u", n, 1u << 24);
    if (ldw < (transposed ? k : n))
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: leading dimension %zu is below %zu", ldw,
                            transposed ? k : n);
    if (!mlops__isa_available(isa))
        return mlops__error(MLOPS_EUNSUPPORTED, "infer", "linear layer: kernel \"%s\" is not available here",
                            mlops__isa_name(isa));
    rc = check_epilogue(&epilogue);
    if (rc != MLOPS_OK)
        return rc;
    kp = round_up(k, MLOPS__K_ALIGN);
    np = round_up(n, MLOPS__N_PANEL);
    wbytes = kp * np;
    layer = mlops__calloc(1, sizeof *layer);
    if (layer == NULL)
        return mlops__error(MLOPS_ENOMEM, "infer", "linear layer: out of memory");
    layer->block = mlops__calloc(1, 64 + wbytes + np * (sizeof *colsum + 2 * sizeof *wscale));
    if (layer->block == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, "infer", "linear layer: out of memory packing %zu x %zu weights", k, n);
        goto out_free_layer;
    }
    pw = align64(layer->block);
    colsum = (int32_t *)(pw + wbytes);
    wscale = (float *)(void *)(colsum + np);
    pbias = wscale + np;
    layer->k = k;
    layer->n = n;
    layer->kp = kp;
    layer->np = np;
    layer->isa = isa;
    layer->epilogue = epilogue;
    layer->kernels = kernels_of(isa);
    for (j = 0; j < np; j++)
        wscale[j] = 1.0f;
    for (j = 0; j < n; j++) {
        rc = pack_column(layer, pw, colsum, wscale, w, ldw, transposed, j);
        if (rc != MLOPS_OK)
            goto out_free_block;
        if (bias != NULL) {
            if (!isfinite(bias[j])) {
                rc = mlops__error(MLOPS_EINVAL, "infer", "linear layer: bias [%zu] is not finite", j);
                goto out_free_block;
            }
            pbias[j] = bias[j];
        }
    }
    layer->w = pw;
    layer->colsum = colsum;
    layer->wscale = wscale;
    layer->bias = pbias;
    *out = layer;
    return MLOPS_OK;
out_free_block:
    mlops__free(layer->block);
out_free_layer:
    mlops__free(layer);
    return rc;
}

void mlops__qlinear_free(mlops__qlinear *layer)
{
    if (layer == NULL)
        return;
    mlops__free(layer->block);
    mlops__free(layer);
}

size_t mlops__qlinear_scratch_bytes(const mlops__qlinear *layer, size_t m)
{
    size_t row = layer != NULL ? layer->kp + sizeof(int32_t) + sizeof(float) : 0;
    if (layer == NULL)
        return 0;
    /* SIZE_MAX for an impossible m: no allocation can satisfy it. */
    return m > (SIZE_MAX - 64) / row ? SIZE_MAX : 64 + m * row;
}

/* One call split into tasks: quantization by rows, then the product by column or row blocks. */
typedef struct run_plan {
    const mlops__qlinear *layer;
    const float *x;
    size_t m, ldx;
    float *y;
    size_t ldy;
    uint8_t *q;
    int32_t *zp;
    float *scale;
    mlops__qrows rows;
    size_t tasks;
    int split_columns;
} run_plan;

/* Bounds [*lo, *hi) of part `index` of `tasks` over `count` items handed out in units of `unit`. */
static void split_range(size_t count, size_t unit, size_t tasks, size_t index, size_t *lo, size_t *hi)
{
    size_t units = (count + unit - 1) / unit;
    *lo = units * index / tasks * unit; // NOLINT(clang-analyzer-core.DivideZero): plan_tasks makes tasks >= 1
    *hi = units * (index + 1) / tasks * unit;
    if (*hi > count)
        *hi = count;
    if (*lo > count)
        *lo = count;
}

static void quant_task(void *ctx, size_t index)
{
    run_plan *plan = ctx;
    const mlops__qlinear *layer = plan->layer;
    size_t lo, hi, i;
    split_range(plan->m, 1, plan->tasks, index, &lo, &hi);
    for (i = lo; i < hi; i++)
        layer->kernels->quant(plan->x + i * plan->ldx, layer->k, layer->kp, plan->q + i * layer->kp, plan->zp + i,
                              plan->scale + i);
}

static void gemm_task(void *ctx, size_t index)
{
    run_plan *plan = ctx;
    const mlops__qlinear *layer = plan->layer;
    size_t lo, hi;
    if (plan->split_columns) {
        split_range(layer->n, MLOPS__N_PANEL, plan->tasks, index, &lo, &hi);
        if (lo < hi)
            layer->kernels->gemm(layer, &plan->rows, 0, plan->m, lo, hi, plan->y, plan->ldy);
    } else {
        split_range(plan->m, 1, plan->tasks, index, &lo, &hi);
        if (lo < hi)
            layer->kernels->gemm(layer, &plan->rows, lo, hi, 0, layer->n, plan->y, plan->ldy);
    }
}

static void w8_task(void *ctx, size_t index)
{
    run_plan *plan = ctx;
    const mlops__qlinear *layer = plan->layer;
    size_t lo, hi;
    if (plan->split_columns) {
        split_range(layer->n, MLOPS__N_PANEL, plan->tasks, index, &lo, &hi);
        if (lo < hi)
            layer->kernels->w8(layer, plan->x, plan->ldx, 0, plan->m, lo, hi, plan->y, plan->ldy);
    } else {
        split_range(plan->m, 1, plan->tasks, index, &lo, &hi);
        if (lo < hi)
            layer->kernels->w8(layer, plan->x, plan->ldx, lo, hi, 0, layer->n, plan->y, plan->ldy);
    }
}

static int check_run(const mlops__qlinear *layer, const float *x, size_t m, size_t ldx, const float *y,
                     size_t ldy, const char *function)
{
    if (layer == NULL)
        return mlops__error_null("infer", function, "layer");
    if (m > 0 && x == NULL)
        return mlops__error_null("infer", function, "x");
    if (m > 0 && y == NULL)
        return mlops__error_null("infer", function, "y");
    if (ldx < layer->k)
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: input leading dimension %zu is below K = %zu",
                            ldx, layer->k);
    if (ldy < layer->n)
        return mlops__error(MLOPS_EINVAL, "infer", "linear layer: output leading dimension %zu is below N = %zu",
                            ldy, layer->n);
    return MLOPS_OK;
}

/* Fill the task split of a call over `m` rows: threads only for large products. */
static void plan_tasks(run_plan *plan, mlops__pool *pool)
{
    const mlops__qlinear *layer = plan->layer;
    size_t threads = pool != NULL ? mlops__pool_threads(pool) : 1;
    if (threads > 1 && plan->m * layer->n * layer->k < POOL_MIN_MACS)
        threads = 1;
    /* A few tasks per thread balance the load when a thread starts late. */
    plan->tasks = threads > 1 ? threads * TASKS_PER_THREAD : 1;
    plan->split_columns = layer->np / MLOPS__N_PANEL >= 2 * plan->tasks || plan->m < plan->tasks;
}

static void run_tasks(mlops__pool *pool, void (*task)(void *ctx, size_t index), run_plan *plan)
{
    if (plan->tasks > 1)
        mlops__pool_run(pool, task, plan, plan->tasks);
    else
        task(plan, 0);
}

int mlops__qlinear_run_pool(const mlops__qlinear *layer, mlops__pool *pool, const float *x, size_t m, size_t ldx,
                            float *y, size_t ldy, void *scratch)
{
    run_plan plan;
    int rc = check_run(layer, x, m, ldx, y, ldy, "mlops__qlinear_run");
    if (rc != MLOPS_OK)
        return rc;
    if (m > 0 && scratch == NULL)
        return mlops__error_null("infer", "mlops__qlinear_run", "scratch");
    if (m == 0)
        return MLOPS_OK;
    memset(&plan, 0, sizeof plan);
    plan.layer = layer;
    plan.x = x;
    plan.m = m;
    plan.ldx = ldx;
    plan.y = y;
    plan.ldy = ldy;
    plan.q = align64(scratch);
    plan.zp = (int32_t *)(plan.q + m * layer->kp);
    plan.scale = (float *)(void *)(plan.zp + m);
    plan.rows.q = plan.q;
    plan.rows.ldq = layer->kp;
    plan.rows.zp = plan.zp;
    plan.rows.scale = plan.scale;
    plan_tasks(&plan, pool);
    run_tasks(pool, quant_task, &plan);
    run_tasks(pool, gemm_task, &plan);
    return MLOPS_OK;
}

int mlops__qlinear_run(const mlops__qlinear *layer, const float *x, size_t m, size_t ldx, float *y, size_t ldy,
                       void *scratch)
{
    return mlops__qlinear_run_pool(layer, NULL, x, m, ldx, y, ldy, scratch);
}

int mlops__qlinear_run_w8(const mlops__qlinear *layer, mlops__pool *pool, const float *x, size_t m, size_t ldx,
                          float *y, size_t ldy)
{
    run_plan plan;
    int rc = check_run(layer, x, m, ldx, y, ldy, "mlops__qlinear_run_w8");
    if (rc != MLOPS_OK || m == 0)
        return rc;
    memset(&plan, 0, sizeof plan);
    plan.layer = layer;
    plan.x = x;
    plan.m = m;
    plan.ldx = ldx;
    plan.y = y;
    plan.ldy = ldy;
    plan_tasks(&plan, pool);
    run_tasks(pool, w8_task, &plan);
    return MLOPS_OK;
}
