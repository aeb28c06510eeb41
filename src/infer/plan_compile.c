/*
 * The plan compiler: walks the imported graph once in execution order,
 * evaluating every node whose inputs are all constant (so Constant,
 * DequantizeLinear of stored weights, Reshape of initializers and the like
 * cost nothing at run time) and checking the shapes of the others with the
 * batch dimension taken as 1. Then MatMul (+ Add of a constant row) and Gemm
 * with constant weights, with a following Relu, LeakyRelu, Sigmoid, Tanh,
 * constant Clip or the Erf form of GELU, become one linear layer. Folded and
 * fused steps leave the plan.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "plan_int.h"

#define SUB "infer"
#define MAX_IN 8
#define MAX_OUT 3

/* The load-time view of a value: symbolic dimensions as 1. */
static mlops__tensor load_view(const mlops__value *value)
{
    mlops__tensor t = value->t;
    int32_t d;
    for (d = 0; d < t.rank; d++)
        if (t.dims[d] < 0)
            t.dims[d] = 1;
    return t;
}

/* Evaluate a step whose inputs are all constant; its outputs become constants. */
static int fold_step(mlops__graph *graph, mlops__step *step, const mlops__tensor *const *in)
{
    mlops__tensor outs[MAX_OUT];
    mlops__tensor *out[MAX_OUT] = {NULL, NULL, NULL};
    int32_t j;
    int rc;
    memset(outs, 0, sizeof outs);
    for (j = 0; j < step->n_out; j++)
        if (step->out[j] >= 0)
            out[j] = &outs[j];
    if ((rc = mlops__op_apply(step, in, out, 0)) != MLOPS_OK)
        return rc;
    for (j = 0; j < step->n_out; j++) {
        size_t bytes;
        if (out[j] == NULL)
            continue;
        bytes = (size_t)mlops__tensor_count(out[j]) * mlops__dtype_size(out[j]->dtype);
        out[j]->data = mlops__malloc(bytes + 1);
        if (out[j]->data == NULL) {
            rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory folding a constant of %zu bytes", bytes);
            goto out_free;
        }
    }
    if ((rc = mlops__op_apply(step, in, out, 1)) != MLOPS_OK)
        goto out_free;
    for (j = 0; j < step->n_out; j++) {
        mlops__value *value;
        if (out[j] == NULL)
            continue;
        value = &graph->values[step->out[j]];
        value->t = outs[j];
        value->is_const = 1;
        value->producer = -1;
        out[j] = NULL;
    }
    return MLOPS_OK;
out_free:
    for (j = 0; j < step->n_out; j++)
        if (out[j] != NULL)
            mlops__free(out[j]->data);
    return rc;
}

/* Fold constants and infer every shape; folded steps get op = -1 (removed later). */
static int fold_and_check(mlops__graph *graph, int *dead)
{
    size_t s;
    int rc;
    for (s = 0; s < graph->n_steps; s++) {
        mlops__step *step = &graph->steps[s];
        mlops__tensor views[MAX_IN];
        const mlops__tensor *in[MAX_IN];
        mlops__tensor *out[MAX_OUT] = {NULL, NULL, NULL};
        int all_const = 1;
        int32_t j;
        for (j = 0; j < step->n_in; j++) {
            in[j] = NULL;
            if (step->in[j] < 0)
                continue;
            views[j] = load_view(&graph->values[step->in[j]]);
            in[j] = &views[j];
            all_const &= graph->values[step->in[j]].is_const;
        }
        if (all_const) {
            if ((rc = fold_step(graph, step, in)) != MLOPS_OK)
                return mlops__error_prefix("node \"%s\" (%s)", step->name, mlops__op_name(step->op));
            dead[s] = 1;
            continue;
        }
        for (j = 0; j < step->n_out; j++)
            if (step->out[j] >= 0)
                out[j] = &graph->values[step->out[j]].t;
        if ((rc = mlops__op_apply(step, in, out, 0)) != MLOPS_OK)
            return mlops__error_prefix("node \"%s\" (%s)", step->name, mlops__op_name(step->op));
    }
    return MLOPS_OK;
}

/*
 * Count the readers of every value among live steps and graph outputs; when
 * `readers` is given (2 per value), also note the first two live steps that
 * read each value (-1 when fewer), so the fusion below looks consumers up in
 * constant time.
 */
static void count_uses(mlops__graph *graph, const int *dead, int32_t *readers)
{
    size_t i;
    int32_t j, v;
    for (i = 0; i < graph->n_values; i++) {
        graph->values[i].uses = 0;
        if (readers != NULL)
            readers[2 * i] = readers[2 * i + 1] = -1;
    }
    for (i = 0; i < graph->n_steps; i++)
        if (!dead[i])
            for (j = 0; j < graph->steps[i].n_in; j++)
                if ((v = graph->steps[i].in[j]) >= 0) {
                    graph->values[v].uses++;
                    if (readers != NULL && readers[2 * v] < 0)
                        readers[2 * v] = (int32_t)i;
                    else if (readers != NULL && readers[2 * v + 1] < 0)
                        readers[2 * v + 1] = (int32_t)i;
                }
    for (i = 0; i < graph->n_outputs; i++)
        graph->values[graph->outputs[i]].uses++;
}

static int is_graph_output(const mlops__graph *graph, int32_t value)
{
    size_t i;
    for (i = 0; i < graph->n_outputs; i++)
        if (graph->outputs[i] == value)
            return 1;
    return 0;
}

/* The only live step that reads `value`, when exactly one does and it is no graph output; else -1. */
static int32_t sole_consumer(const mlops__graph *graph, const int *dead, const int32_t *readers, int32_t value)
{
    int32_t reader = readers[2 * value];
    if (graph->values[value].uses != 1 || is_graph_output(graph, value) || reader < 0 || dead[reader])
        return -1;
    return reader;
}

static const mlops__tensor *const_float(const mlops__graph *graph, int32_t value)
{
    if (value < 0 || !graph->values[value].is_const || graph->values[value].t.dtype != MLOPS__DT_FLOAT)
        return NULL;
    return &graph->values[value].t;
}

/* A constant that adds the same row of n floats to every row: shape [n], [1, n], [1, 1, n], or one value. */
static int is_row(const mlops__tensor *t, size_t n, int32_t max_rank)
{
    int32_t d;
    if (t == NULL || t->rank > max_rank)
        return 0;
    if (mlops__tensor_count(t) == 1)
        return 1;
    for (d = 0; d + 1 < t->rank; d++)
        if (t->dims[d] != 1)
            return 0;
    return t->rank >= 1 && t->dims[t->rank - 1] == (int64_t)n;
}

static void add_row(float *bias, const mlops__tensor *row, size_t n, float factor)
{
    size_t j;
    int single = mlops__tensor_count(row) == 1;
    for (j = 0; j < n; j++)
        bias[j] += factor * ((const float *)row->data)[single ? 0 : j];
}

/* Start a linear layer from MatMul or Gemm at step s, or return 0 when it does not qualify. */
static int start_linear(mlops__linear **out, const mlops__graph *graph, const mlops__step *step)
{
    const mlops__tensor *x = &graph->values[step->in[0]].t, *b = const_float(graph, step->in[1]), *c = NULL;
    mlops__linear *layer;
    size_t k, n, i, j;
    *out = NULL;
    if (b == NULL || b->rank != 2 || x->dtype != MLOPS__DT_FLOAT)
        return MLOPS_OK;
    if (step->op == MLOPS__OP_GEMM) {
        if (step->trans_a || x->rank != 2)
            return MLOPS_OK;
        if (step->n_in > 2 && step->in[2] >= 0) {
            c = const_float(graph, step->in[2]);
            if (c == NULL || !is_row(c, (size_t)(step->trans_b ? b->dims[0] : b->dims[1]), 2))
                return MLOPS_OK;
        }
    } else if (x->rank < 2) {
        return MLOPS_OK;
    }
    k = (size_t)(step->op == MLOPS__OP_GEMM && step->trans_b ? b->dims[1] : b->dims[0]);
    n = (size_t)(step->op == MLOPS__OP_GEMM && step->trans_b ? b->dims[0] : b->dims[1]);
    if (k == 0 || n == 0)
        return MLOPS_OK;
    layer = mlops__calloc(1, sizeof *layer);
    if (layer == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a linear layer");
    layer->k = k;
    layer->n = n;
    layer->calib_error = -1.0;
    layer->w = mlops__malloc(k * n * sizeof *layer->w);
    layer->bias = mlops__calloc(n, sizeof *layer->bias);
    if (layer->w == NULL || layer->bias == NULL) {
        mlops__free(layer->w);
        mlops__free(layer->bias);
        mlops__free(layer);
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a %zu x %zu linear layer", k, n);
    }
    for (i = 0; i < k; i++)
        for (j = 0; j < n; j++) {
            float v = step->op == MLOPS__OP_GEMM && step->trans_b ? ((const float *)b->data)[j * k + i]
                                                                 : ((const float *)b->data)[i * n + j];
            layer->w[i * n + j] = step->op == MLOPS__OP_GEMM ? v * step->alpha : v;
        }
    if (c != NULL)
        add_row(layer->bias, c, n, step->beta);
    *out = layer;
    return MLOPS_OK;
}

/* The epilogue a step can become, or 0 when it cannot. */
static int as_epilogue(mlops__epilogue *epi, const mlops__graph *graph, const mlops__step *step)
{
    epi->alpha = step->alpha;
    epi->beta = step->beta;
    switch (step->op) {
    case MLOPS__OP_RELU: epi->act = MLOPS__ACT_RELU; return 1;
    case MLOPS__OP_LEAKY_RELU: epi->act = MLOPS__ACT_LEAKY_RELU; return 1;
    case MLOPS__OP_SIGMOID: epi->act = MLOPS__ACT_SIGMOID; return 1;
    case MLOPS__OP_TANH: epi->act = MLOPS__ACT_TANH; return 1;
    case MLOPS__OP_CLIP: {
        const mlops__tensor *lo = step->n_in > 1 ? const_float(graph, step->in[1]) : NULL;
        const mlops__tensor *hi = step->n_in > 2 ? const_float(graph, step->in[2]) : NULL;
        if ((step->n_in > 1 && step->in[1] >= 0 && lo == NULL) || (step->n_in > 2 && step->in[2] >= 0 && hi == NULL))
            return 0;
        epi->act = MLOPS__ACT_CLIP;
        if (step->opset < 11) {
            epi->alpha = step->has_min ? step->alpha : -INFINITY;
            epi->beta = step->has_max ? step->beta : INFINITY;
        } else {
            epi->alpha = lo != NULL ? ((const float *)lo->data)[0] : -INFINITY;
            epi->beta = hi != NULL ? ((const float *)hi->data)[0] : INFINITY;
        }
        return 1;
    }
    default: return 0;
    }
}

static int append_name(char **fused, const char *name)
{
    size_t have = *fused != NULL ? strlen(*fused) : 0, add = strlen(name);
    char *grown = mlops__realloc(*fused, have + add + 2);
    if (grown == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory");
    if (have > 0)
        grown[have++] = '+';
    memcpy(grown + have, name, add + 1);
    *fused = grown;
    return MLOPS_OK;
}

/* A constant float scalar (any shape of one element) within 1e-6 relative of `want`. */
static int is_scalar(const mlops__graph *graph, int32_t value, double want)
{
    const mlops__tensor *t = const_float(graph, value);
    return t != NULL && mlops__tensor_count(t) == 1 && fabs(((const float *)t->data)[0] - want) <= 1e-6 * fabs(want);
}

/* The other input of binary step `step` when one of its inputs is `value`, else -1. */
static int32_t other_input(const mlops__step *step, int32_t value)
{
    if (step->n_in != 2 || step->in[0] == step->in[1])
        return -1;
    return step->in[0] == value ? step->in[1] : step->in[1] == value ? step->in[0] : -1;
}

/* The two live steps that read `value` once each, when exactly those two read it and it is no graph output. */
static int two_consumers(int32_t *found, const mlops__graph *graph, const int *dead, const int32_t *readers,
                         int32_t value)
{
    found[0] = readers[2 * value];
    found[1] = readers[2 * value + 1];
    return graph->values[value].uses == 2 && !is_graph_output(graph, value) && found[0] >= 0 && found[1] >= 0 &&
           found[0] != found[1] && !dead[found[0]] && !dead[found[1]];
}

/*
 * The exact GELU as exporters write it, 0.5 v (1 + erf(v / sqrt 2)), reading
 * `v`: Div(v, sqrt 2) or Mul(v, 1 / sqrt 2) -> Erf -> Add 1, combined with v
 * either as Mul(v, .) then Mul 0.5, or as Mul(Mul(v, 0.5), .). On a match the
 * steps are listed in `steps` (5) and the result value returned; else -1.
 */
static int32_t match_gelu(int32_t *steps, const mlops__graph *graph, const int *dead, const int32_t *readers,
                          int32_t v)
{
    int32_t found[2], scale, half, erf, add, mul, last, c;
    int k;
    if (!two_consumers(found, graph, dead, readers, v))
        return -1;
    for (k = 0; k < 2; k++) {
        const mlops__step *first = &graph->steps[found[k]];
        const mlops__step *other = &graph->steps[found[1 - k]];
        scale = found[k];
        half = found[1 - k];
        if (!((first->op == MLOPS__OP_DIV && first->in[0] == v && is_scalar(graph, first->in[1], 1.4142135623730951)) ||
              (first->op == MLOPS__OP_MUL && is_scalar(graph, other_input(first, v), 0.7071067811865476))))
            continue;
        if ((erf = sole_consumer(graph, dead, readers, first->out[0])) < 0 || graph->steps[erf].op != MLOPS__OP_ERF)
            continue;
        if ((add = sole_consumer(graph, dead, readers, graph->steps[erf].out[0])) < 0 || graph->steps[add].op != MLOPS__OP_ADD ||
            !is_scalar(graph, other_input(&graph->steps[add], graph->steps[erf].out[0]), 1.0))
            continue;
        if ((mul = sole_consumer(graph, dead, readers, graph->steps[add].out[0])) < 0 || graph->steps[mul].op != MLOPS__OP_MUL)
            continue;
        c = other_input(&graph->steps[mul], graph->steps[add].out[0]);
        if (other->op != MLOPS__OP_MUL)
            continue;
        if (half == mul && c == v) { /* Mul(v, 1 + erf) then Mul 0.5 */
            last = sole_consumer(graph, dead, readers, graph->steps[mul].out[0]);
            if (last < 0 || graph->steps[last].op != MLOPS__OP_MUL ||
                !is_scalar(graph, other_input(&graph->steps[last], graph->steps[mul].out[0]), 0.5))
                continue;
            steps[3] = mul;
            steps[4] = last;
        } else if (is_scalar(graph, other_input(other, v), 0.5) && c == other->out[0]) { /* Mul(0.5 v, 1 + erf) */
            steps[3] = half;
            steps[4] = mul;
            last = mul;
        } else {
            continue;
        }
        steps[0] = scale;
        steps[1] = erf;
        steps[2] = add;
        return graph->steps[last].out[0];
    }
    return -1;
}

/* Fuse MatMul/Gemm (+ Add) (+ activation, GELU included) into linear layers. */
static int fuse_linear(mlops__graph *graph, int *dead, const int32_t *readers)
{
    size_t s;
    int rc;
    for (s = 0; s < graph->n_steps; s++) {
        mlops__step *step = &graph->steps[s];
        mlops__linear *layer;
        mlops__epilogue epi;
        int32_t result, next;
        if (dead[s] || (step->op != MLOPS__OP_MATMUL && step->op != MLOPS__OP_GEMM))
            continue;
        if ((rc = start_linear(&layer, graph, step)) != MLOPS_OK)
            return rc;
        if (layer == NULL)
            continue;
        step->linear = layer;
        if ((rc = append_name(&step->fused, step->name)) != MLOPS_OK)
            return rc;
        result = step->out[0];
        next = sole_consumer(graph, dead, readers, result);
        if (next >= 0 && graph->steps[next].op == MLOPS__OP_ADD) {
            mlops__step *add = &graph->steps[next];
            int32_t other = add->in[0] == result ? add->in[1] : add->in[0];
            const mlops__tensor *row = const_float(graph, other);
            const mlops__value *sum = &graph->values[add->out[0]];
            if (add->in[0] != add->in[1] && is_row(row, layer->n, graph->values[result].t.rank) &&
                sum->t.rank == graph->values[result].t.rank) {
                add_row(layer->bias, row, layer->n, 1.0f);
                if ((rc = append_name(&step->fused, add->name)) != MLOPS_OK)
                    return rc;
                result = add->out[0];
                dead[next] = 1;
                next = sole_consumer(graph, dead, readers, result);
            }
        }
        layer->epilogue.act = MLOPS__ACT_NONE;
        if (next >= 0 && as_epilogue(&epi, graph, &graph->steps[next])) {
            layer->epilogue = epi;
            if ((rc = append_name(&step->fused, graph->steps[next].name)) != MLOPS_OK)
                return rc;
            result = graph->steps[next].out[0];
            dead[next] = 1;
        } else if (next < 0) {
            int32_t gelu[5], gelu_out = match_gelu(gelu, graph, dead, readers, result);
            int g;
            if (gelu_out >= 0) {
                layer->epilogue.act = MLOPS__ACT_GELU;
                for (g = 0; g < 5; g++) {
                    if ((rc = append_name(&step->fused, graph->steps[gelu[g]].name)) != MLOPS_OK)
                        return rc;
                    dead[gelu[g]] = 1;
                }
                result = gelu_out;
            }
        }
        step->op = MLOPS__OP_LINEAR;
        step->n_in = 1;
        step->n_out = 1;
        step->out[0] = result;
        graph->values[result].producer = (int32_t)s;
    }
    return MLOPS_OK;
}

/* Drop dead steps and the data of constants nothing reads any more. */
static void compact(mlops__graph *graph, const int *dead)
{
    size_t s, kept = 0, i;
    int32_t j;
    for (s = 0; s < graph->n_steps; s++) {
        if (dead[s]) {
            mlops__step_release(&graph->steps[s]);
            continue;
        }
        graph->steps[kept++] = graph->steps[s];
    }
    graph->n_steps = kept;
    for (i = 0; i < graph->n_values; i++)
        if (!graph->values[i].is_const)
            graph->values[i].producer = -1;
    for (s = 0; s < kept; s++)
        for (j = 0; j < graph->steps[s].n_out; j++)
            if (graph->steps[s].out[j] >= 0)
                graph->values[graph->steps[s].out[j]].producer = (int32_t)s;
    for (i = 0; i < graph->n_values; i++) {
        mlops__value *value = &graph->values[i];
        if (value->is_const && value->uses == 0) {
            mlops__free(value->t.data);
            value->t.data = NULL;
        }
    }
}

int mlops__plan_compile(mlops__graph *graph)
{
    int *dead = mlops__calloc(graph->n_steps + 1, sizeof *dead);
    int32_t *readers = mlops__malloc((2 * graph->n_values + 1) * sizeof *readers);
    int rc;
    if (dead == NULL || readers == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory compiling %zu nodes", graph->n_steps);
        goto out;
    }
    if ((rc = fold_and_check(graph, dead)) != MLOPS_OK)
        goto out;
    count_uses(graph, dead, readers);
    if ((rc = fuse_linear(graph, dead, readers)) != MLOPS_OK)
        goto out;
    count_uses(graph, dead, NULL);
    compact(graph, dead);
out:
    mlops__free(dead);
    mlops__free(readers);
    return rc;
}
