/*
 * Execution of a compiled plan. A context holds one buffer per value and the
 * kernels' scratch; it belongs to one thread at a time. Buffers only grow, so
 * once a context has run the largest batch it will see, a run allocates
 * nothing.
 */
#include <string.h>

#include "plan_int.h"

#define SUB "infer"
#define MAX_IN 8
#define MAX_OUT 3

struct mlops__ctx {
    size_t n_values;
    mlops__tensor *t;
    size_t *cap;       /* bytes owned at t[i].data; 0 when borrowed (constants, inputs) */
    void *scratch;
    size_t scratch_cap;
    mlops__pool *pool; /* threads of the int8 layers, NULL for the calling thread only */
};

int mlops__ctx_new(mlops__ctx **out, const mlops__graph *graph, size_t threads)
{
    mlops__ctx *ctx = mlops__calloc(1, sizeof *ctx);
    size_t i;
    *out = NULL;
    if (ctx == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a run context");
    ctx->n_values = graph->n_values;
    ctx->t = mlops__calloc(graph->n_values + 1, sizeof *ctx->t);
    ctx->cap = mlops__calloc(graph->n_values + 1, sizeof *ctx->cap);
    if (ctx->t == NULL || ctx->cap == NULL) {
        mlops__ctx_free(ctx);
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a run context");
    }
    if (threads > 1) {
        int rc = mlops__pool_create(&ctx->pool, threads);
        if (rc != MLOPS_OK) {
            mlops__ctx_free(ctx);
            return rc;
        }
    }
    for (i = 0; i < graph->n_values; i++)
        if (graph->values[i].is_const)
            ctx->t[i] = graph->values[i].t;
    *out = ctx;
    return MLOPS_OK;
}

void mlops__ctx_free(mlops__ctx *ctx)
{
    size_t i;
    if (ctx == NULL)
        return;
    if (ctx->t != NULL && ctx->cap != NULL)
        for (i = 0; i < ctx->n_values; i++)
            if (ctx->cap[i] > 0)
                mlops__free(ctx->t[i].data);
    mlops__free(ctx->t);
    mlops__free(ctx->cap);
    mlops__free(ctx->scratch);
    mlops__pool_free(ctx->pool);
    mlops__free(ctx);
}

const mlops__tensor *mlops__ctx_value(const mlops__ctx *ctx, size_t index)
{
    return index < ctx->n_values ? &ctx->t[index] : NULL;
}

/* Make value `index` hold its current shape's bytes. */
static int ensure(mlops__ctx *ctx, size_t index)
{
    mlops__tensor *t = &ctx->t[index];
    size_t bytes = (size_t)mlops__tensor_count(t) * mlops__dtype_size(t->dtype) + 1;
    void *grown;
    if (bytes <= ctx->cap[index])
        return MLOPS_OK;
    grown = mlops__realloc(ctx->cap[index] > 0 ? t->data : NULL, bytes);
    if (grown == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a value of %zu bytes", bytes);
    t->data = grown;
    ctx->cap[index] = bytes;
    return MLOPS_OK;
}

static int ensure_scratch(mlops__ctx *ctx, size_t bytes)
{
    void *grown;
    if (bytes <= ctx->scratch_cap)
        return MLOPS_OK;
    grown = mlops__realloc(ctx->scratch, bytes);
    if (grown == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu bytes of kernel scratch", bytes);
    ctx->scratch = grown;
    ctx->scratch_cap = bytes;
    return MLOPS_OK;
}

static int bind_input(mlops__ctx *ctx, const mlops__graph *graph, size_t i, const mlops__tensor *given)
{
    const mlops__value *value = &graph->values[graph->inputs[i]];
    int32_t d;
    if (given->dtype != value->t.dtype || given->rank != value->t.rank)
        return mlops__error(MLOPS_EINVAL, SUB, "input \"%s\": expected %s of rank %d, got %s of rank %d", value->name,
                            mlops__dtype_name(value->t.dtype), value->t.rank, mlops__dtype_name(given->dtype),
                            given->rank);
    for (d = 0; d < given->rank; d++)
        if (given->dims[d] < 0 || (value->t.dims[d] >= 0 && given->dims[d] != value->t.dims[d]))
            return mlops__error(MLOPS_EINVAL, SUB, "input \"%s\": dimension %d is %lld, the model expects %lld",
                                value->name, d, (long long)given->dims[d], (long long)value->t.dims[d]);
    if (ctx->cap[graph->inputs[i]] > 0) {
        mlops__free(ctx->t[graph->inputs[i]].data);
        ctx->cap[graph->inputs[i]] = 0;
    }
    ctx->t[graph->inputs[i]] = *given;
    return MLOPS_OK;
}

static int run_linear(mlops__ctx *ctx, const mlops__step *step, const mlops__tensor *x, mlops__tensor *y,
                      mlops__mode mode, mlops__qlinear *const *packs, size_t index)
{
    const mlops__linear *layer = step->linear;
    const mlops__qlinear *q = mode == MLOPS__MODE_INT8 ? packs[index] : mode == MLOPS__MODE_PLAN ? layer->q : NULL;
    size_t m = (size_t)(mlops__tensor_count(x) / (int64_t)layer->k);
    int rc;
    if (q == NULL) {
        // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): every step has its first output: the importer refuses a node without one
        mlops__linear_run_fp32(layer, (const float *)x->data, m, (float *)y->data);
        return MLOPS_OK;
    }
    if ((rc = ensure_scratch(ctx, mlops__qlinear_scratch_bytes(q, m))) != MLOPS_OK)
        return rc;
    // NOLINTNEXTLINE(clang-analyzer-core.NullDereference): every step has its first output: the importer refuses a node without one
    return mlops__qlinear_run_pool(q, ctx->pool, (const float *)x->data, m, layer->k, (float *)y->data, layer->n,
                                   ctx->scratch);
}

int mlops__ctx_run(mlops__ctx *ctx, const mlops__graph *graph, const mlops__tensor *inputs, mlops__mode mode,
                   mlops__qlinear *const *packs)
{
    size_t s, i;
    int rc;
    for (i = 0; i < graph->n_inputs; i++)
        if ((rc = bind_input(ctx, graph, i, &inputs[i])) != MLOPS_OK)
            return rc;
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        const mlops__tensor *in[MAX_IN];
        mlops__tensor *out[MAX_OUT] = {NULL, NULL, NULL};
        void *keep[MAX_OUT] = {NULL, NULL, NULL};
        int32_t j;
        for (j = 0; j < step->n_in; j++)
            in[j] = step->in[j] >= 0 ? &ctx->t[step->in[j]] : NULL;
        for (j = 0; j < step->n_out; j++)
            if (step->out[j] >= 0) {
                out[j] = &ctx->t[step->out[j]];
                keep[j] = out[j]->data;
            }
        rc = mlops__op_apply(step, in, out, 0);
        for (j = 0; j < step->n_out; j++)
            if (out[j] != NULL)
                out[j]->data = keep[j];
        for (j = 0; j < step->n_out && rc == MLOPS_OK; j++)
            if (out[j] != NULL)
                rc = ensure(ctx, (size_t)step->out[j]);
        if (rc == MLOPS_OK)
            rc = step->op == MLOPS__OP_LINEAR ? run_linear(ctx, step, in[0], out[0], mode, packs, s)
                                              : mlops__op_apply(step, in, out, 1);
        if (rc != MLOPS_OK)
            return mlops__error_prefix("node \"%s\" (%s)", step->name, mlops__op_name(step->op));
    }
    return MLOPS_OK;
}
