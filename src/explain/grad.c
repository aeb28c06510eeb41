/*
 * The backward pass through a session's compiled plan run in fp32 (its fp32
 * twin when the session runs int8). A forward run keeps every value in a run
 * context; the backward pass walks the steps in reverse and accumulates, for
 * each value that depends on the input, d y[r][output] / d value. Rows of a
 * batch are independent, so one pass gives every row's gradient.
 */
#include <math.h>
#include <string.h>

#include "explain_int.h"

#define SUB MLOPS__EXPLAIN_SUB

struct mlops__grad {
    const mlops_session *session;
    const mlops__graph *graph;
    mlops__ctx *ctx;
    unsigned char *needs; /* per value: depends on the graph's input */
    float **g;            /* per value: its gradient, when it needs one */
    size_t *cap;          /* floats held at g[i] */
    float *scratch;
    size_t scratch_cap;
    size_t rows;          /* of the last forward run, 0 before the first */
    unsigned char *affine; /* per value: piecewise linear in the input (only affine and kinked ops on its path) */
    float **t;             /* per affine value: its directional derivative along the path */
    size_t *tcap;          /* floats held at t[i] */
    int kinks;             /* some kinked activation has an affine input */
    int smooth;            /* some value on the input's path is not affine */
};

static const mlops__tensor *value_of(const mlops__grad *grad, int32_t index)
{
    return mlops__ctx_value(grad->ctx, (size_t)index);
}

static size_t count_of(const mlops__tensor *t)
{
    return (size_t)mlops__tensor_count(t);
}

/* Does input j of `step` need a gradient? */
static int needs_in(const mlops__grad *grad, const mlops__step *step, int32_t j)
{
    return j < step->n_in && step->in[j] >= 0 && grad->needs[step->in[j]];
}

/* The activation a linear layer's epilogue applies has a kink (Relu, LeakyRelu, Clip) or none at all. */
static int epilogue_piecewise(const mlops__epilogue *epi)
{
    return epi->act == MLOPS__ACT_NONE || epi->act == MLOPS__ACT_RELU || epi->act == MLOPS__ACT_LEAKY_RELU ||
           epi->act == MLOPS__ACT_CLIP;
}

/* Is the output of `step` piecewise linear in the input, given which of its inputs are? */
static int step_affine(const mlops__grad *grad, const mlops__step *step)
{
    int32_t j, count = 0;
    for (j = 0; j < step->n_in; j++) {
        if (!needs_in(grad, step, j))
            continue;
        if (!grad->affine[step->in[j]])
            return 0;
        count++;
    }
    switch (step->op) {
    case MLOPS__OP_ADD: case MLOPS__OP_SUB:
        return 1;
    case MLOPS__OP_MUL:
        return count == 1;
    case MLOPS__OP_DIV:
        return !needs_in(grad, step, 1);
    case MLOPS__OP_GEMM: case MLOPS__OP_MATMUL:
        return !(needs_in(grad, step, 0) && needs_in(grad, step, 1));
    case MLOPS__OP_LINEAR:
        return epilogue_piecewise(&step->linear->epilogue);
    case MLOPS__OP_RELU: case MLOPS__OP_LEAKY_RELU: case MLOPS__OP_CLIP: case MLOPS__OP_FLATTEN:
    case MLOPS__OP_RESHAPE: case MLOPS__OP_SQUEEZE: case MLOPS__OP_UNSQUEEZE: case MLOPS__OP_IDENTITY:
    case MLOPS__OP_DROPOUT: case MLOPS__OP_CAST: case MLOPS__OP_BATCH_NORM:
        return count == 1 && needs_in(grad, step, 0);
    default:
        return 0;
    }
}

/* Which values are piecewise linear in the input, whether kinks can be located, whether smooth ops remain. */
static void classify(mlops__grad *grad)
{
    const mlops__graph *graph = grad->graph;
    size_t s;
    grad->affine[graph->inputs[0]] = 1;
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        int affine;
        if (step->out[0] < 0 || !grad->needs[step->out[0]])
            continue;
        affine = step_affine(grad, step);
        grad->affine[step->out[0]] = (unsigned char)affine;
        grad->smooth |= !affine;
        grad->kinks |= affine && (step->op == MLOPS__OP_RELU || step->op == MLOPS__OP_LEAKY_RELU ||
                                  step->op == MLOPS__OP_CLIP ||
                                  (step->op == MLOPS__OP_LINEAR && step->linear->epilogue.act != MLOPS__ACT_NONE));
    }
}

int mlops__grad_new(mlops__grad **out, const mlops_session *session)
{
    const mlops__graph *graph = mlops__session_graph(session);
    mlops__grad *grad;
    size_t s;
    int32_t j;
    int rc;
    *out = NULL;
    if (mlops_session_input_width(session) == 0 || !graph->values[graph->inputs[0]].batch)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                            "the model needs exactly one float input whose first dimension is the batch");
    if (graph->values[graph->outputs[0]].t.dtype != MLOPS__DT_FLOAT)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "the model's first output \"%s\" is %s, not float",
                            graph->values[graph->outputs[0]].name,
                            mlops__dtype_name(graph->values[graph->outputs[0]].t.dtype));
    grad = mlops__calloc(1, sizeof *grad);
    if (grad == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for an explainer");
    grad->session = session;
    grad->graph = graph;
    grad->needs = mlops__calloc(graph->n_values + 1, 1);
    grad->g = mlops__calloc(graph->n_values + 1, sizeof *grad->g);
    grad->cap = mlops__calloc(graph->n_values + 1, sizeof *grad->cap);
    grad->affine = mlops__calloc(graph->n_values + 1, 1);
    grad->t = mlops__calloc(graph->n_values + 1, sizeof *grad->t);
    grad->tcap = mlops__calloc(graph->n_values + 1, sizeof *grad->tcap);
    if (grad->needs == NULL || grad->g == NULL || grad->cap == NULL || grad->affine == NULL || grad->t == NULL ||
        grad->tcap == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for an explainer");
        goto out_free;
    }
    if ((rc = mlops__ctx_new(&grad->ctx, graph, 1)) != MLOPS_OK)
        goto out_free;
    grad->needs[graph->inputs[0]] = 1;
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        int any = 0;
        for (j = 0; j < step->n_in; j++)
            any |= step->in[j] >= 0 && grad->needs[step->in[j]];
        for (j = 0; j < step->n_out && any; j++)
            if (step->out[j] >= 0)
                grad->needs[step->out[j]] = graph->values[step->out[j]].t.dtype == MLOPS__DT_FLOAT;
    }
    classify(grad);
    *out = grad;
    return MLOPS_OK;
out_free:
    mlops__grad_free(grad);
    return rc;
}

void mlops__grad_free(mlops__grad *grad)
{
    size_t i;
    if (grad == NULL)
        return;
    for (i = 0; i < grad->graph->n_values; i++) {
        if (grad->g != NULL)
            mlops__free(grad->g[i]);
        if (grad->t != NULL)
            mlops__free(grad->t[i]);
    }
    mlops__free(grad->g);
    mlops__free(grad->t);
    mlops__free(grad->tcap);
    mlops__free(grad->affine);
    mlops__free(grad->cap);
    mlops__free(grad->needs);
    mlops__free(grad->scratch);
    mlops__ctx_free(grad->ctx);
    mlops__free(grad);
}


static int no_derivative(const mlops__step *step, const char *why)
{
    return mlops__error(MLOPS_EUNSUPPORTED, SUB, "node \"%s\" (%s) has no derivative%s", step->name,
                        mlops__op_name(step->op), why);
}

int mlops__grad_check(const mlops__grad *grad)
{
    const mlops__graph *graph = grad->graph;
    size_t s;
    int32_t j;
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        int any = 0, others = 0;
        for (j = 0; j < step->n_in; j++) {
            any |= needs_in(grad, step, j);
            others |= j > 0 && needs_in(grad, step, j);
        }
        if (!any)
            continue;
        switch (step->op) {
        case MLOPS__OP_ADD: case MLOPS__OP_SUB: case MLOPS__OP_MUL: case MLOPS__OP_DIV: case MLOPS__OP_GEMM:
            if (!grad->needs[step->out[0]])
                return no_derivative(step, ": its output is not float");
            break;
        case MLOPS__OP_MATMUL:
            if (graph->values[step->in[0]].t.rank != 2 || graph->values[step->in[1]].t.rank != 2)
                return no_derivative(step, " for inputs of rank other than 2");
            break;
        case MLOPS__OP_LINEAR: case MLOPS__OP_RELU: case MLOPS__OP_LEAKY_RELU: case MLOPS__OP_SIGMOID:
        case MLOPS__OP_TANH: case MLOPS__OP_ERF: case MLOPS__OP_CLIP: case MLOPS__OP_SOFTMAX:
        case MLOPS__OP_LOG_SOFTMAX: case MLOPS__OP_FLATTEN: case MLOPS__OP_RESHAPE: case MLOPS__OP_SQUEEZE:
        case MLOPS__OP_UNSQUEEZE: case MLOPS__OP_IDENTITY: case MLOPS__OP_DROPOUT: case MLOPS__OP_BATCH_NORM:
        case MLOPS__OP_LAYER_NORM: case MLOPS__OP_CAST:
            if (others)
                return no_derivative(step, " with respect to its parameters");
            if (!grad->needs[step->out[0]])
                return no_derivative(step, ": its output is not float");
            break;
        default:
            return no_derivative(step, "");
        }
    }
    return MLOPS_OK;
}

int mlops__grad_forward(const float **out, mlops__grad *grad, const float *x, size_t rows)
{
    mlops__tensor in = mlops__session_input(grad->session, x, rows);
    int rc;
    *out = NULL;
    grad->rows = 0;
    if ((rc = mlops__ctx_run(grad->ctx, grad->graph, &in, MLOPS__MODE_FP32, NULL)) != MLOPS_OK)
        return rc;
    grad->rows = rows;
    *out = value_of(grad, grad->graph->outputs[0])->data;
    return MLOPS_OK;
}

/* ---- per-op derivatives --------------------------------------------------------- */
/* Elementwise ops: gx += gy * f'(x) with f' read from x or y. */
static void unary_backward(const mlops__step *step, const float *x, const float *y, const float *gy, float *gx,
                           size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        float d;
        switch (step->op) {
        case MLOPS__OP_RELU: d = y[i] > 0.0f ? 1.0f : 0.0f; break;
        case MLOPS__OP_LEAKY_RELU: d = x[i] > 0.0f ? 1.0f : step->alpha; break;
        case MLOPS__OP_SIGMOID: d = y[i] * (1.0f - y[i]); break;
        case MLOPS__OP_TANH: d = 1.0f - y[i] * y[i]; break;
        case MLOPS__OP_ERF: d = (float)(2.0 / sqrt(3.14159265358979323846) * exp(-(double)x[i] * x[i])); break;
        case MLOPS__OP_CLIP: d = y[i] == x[i] ? 1.0f : 0.0f; break;
        default: d = 1.0f; break; /* shape ops, Identity, Dropout at inference, Cast float to float */
        }
        gx[i] += gy[i] * d;
    }
}

/* One run along the last dimension of a broadcast binary op: the shares of n output elements. */
static void binary_run(mlops__op op, const float *a, int64_t sa, const float *b, int64_t sb, const float *gy,
                       float *ga, float *gb, int64_t n)
{
    int64_t i;
    switch (op) {
    case MLOPS__OP_ADD:
    case MLOPS__OP_SUB: {
        float sign = op == MLOPS__OP_ADD ? 1.0f : -1.0f;
        for (i = 0; ga != NULL && i < n; i++)
            ga[i * sa] += gy[i];
        for (i = 0; gb != NULL && i < n; i++)
            gb[i * sb] += sign * gy[i];
        break;
    }
    case MLOPS__OP_MUL:
        for (i = 0; ga != NULL && i < n; i++)
            ga[i * sa] += gy[i] * b[i * sb];
        for (i = 0; gb != NULL && i < n; i++)
            gb[i * sb] += gy[i] * a[i * sa];
        break;
    default:
        for (i = 0; ga != NULL && i < n; i++)
            ga[i * sa] += gy[i] / b[i * sb];
        for (i = 0; gb != NULL && i < n; i++)
            gb[i * sb] -= gy[i] * a[i * sa] / (b[i * sb] * b[i * sb]);
        break;
    }
}

/* Add, Sub, Mul, Div with broadcasting: each output element sends its share back to the elements it read. */
static void binary_backward(const mlops__step *step, const mlops__tensor *a, const mlops__tensor *b,
                            const mlops__tensor *y, const float *gy, float *ga, float *gb)
{
    int64_t sa[MLOPS__MAX_RANK], sb[MLOPS__MAX_RANK], idx[MLOPS__MAX_RANK] = {0}, ia = 0, ib = 0;
    int32_t r = y->rank;
    int64_t inner = r > 0 ? y->dims[r - 1] : 1, outer = inner > 0 ? (int64_t)count_of(y) / inner : 0, o;
    mlops__broadcast_strides(sa, a, y);
    mlops__broadcast_strides(sb, b, y);
    for (o = 0; o < outer; o++) {
        binary_run(step->op, (const float *)a->data + ia, r > 0 ? sa[r - 1] : 0, (const float *)b->data + ib,
                   r > 0 ? sb[r - 1] : 0, gy + o * inner, ga != NULL ? ga + ia : NULL, gb != NULL ? gb + ib : NULL,
                   inner);
        mlops__index_next(idx, &ia, &ib, sa, sb, y->dims, r - 2);
    }
}

/* The shape and scalars of Y = alpha op(A) op(B) + beta C (MatMul: alpha 1, no transposition, no C). */
typedef struct matrix_shape {
    int64_t m, k, n;
    int ta, tb;
    float alpha, beta;
} matrix_shape;

static matrix_shape matrix_shape_of(const mlops__step *step, const mlops__tensor *a, const mlops__tensor *b)
{
    matrix_shape f;
    int gemm = step->op == MLOPS__OP_GEMM;
    f.ta = gemm && step->trans_a;
    f.tb = gemm && step->trans_b;
    f.alpha = gemm ? step->alpha : 1.0f;
    f.beta = gemm ? step->beta : 0.0f;
    f.m = f.ta ? a->dims[1] : a->dims[0];
    f.k = f.ta ? a->dims[0] : a->dims[1];
    f.n = f.tb ? b->dims[0] : b->dims[1];
    return f;
}

/* Offsets of op(A)[i][p], op(B)[p][j] and of the C element broadcast to Y[i][j] (0 without C). */
static size_t matrix_a_at(const matrix_shape *f, int64_t i, int64_t p)
{
    return (size_t)(f->ta ? p * f->m + i : i * f->k + p);
}

static size_t matrix_b_at(const matrix_shape *f, int64_t p, int64_t j)
{
    return (size_t)(f->tb ? j * f->k + p : p * f->n + j);
}

static size_t matrix_c_at(const mlops__tensor *c, int64_t i, int64_t j)
{
    int64_t cm, cn;
    if (c == NULL)
        return 0;
    cm = c->rank >= 2 ? c->dims[c->rank - 2] : 1;
    cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
    return (size_t)((cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j));
}

/*
 * Y = alpha op(A) op(B) + beta C, A and B of rank 2 (MatMul: alpha 1, no
 * transposition, no C). dop(A) = alpha dY op(B)^T, dop(B) = alpha op(A)^T dY,
 * dC = beta dY summed over C's broadcast dimensions.
 */
static void matrix_backward(const mlops__step *step, const mlops__tensor *a, const mlops__tensor *b,
                            const mlops__tensor *c, const float *gy, float *ga, float *gb, float *gc)
{
    matrix_shape f = matrix_shape_of(step, a, b);
    int64_t m = f.m, k = f.k, n = f.n, i, j, p;
    float alpha = f.alpha, beta = f.beta;
    const float *av = a->data, *bv = b->data;
    for (i = 0; i < m; i++)
        for (p = 0; p < k; p++) {
            size_t at = matrix_a_at(&f, i, p);
            double sum_a = 0.0;
            for (j = 0; j < n; j++) {
                size_t bt = matrix_b_at(&f, p, j);
                sum_a += (double)gy[i * n + j] * bv[bt];
                if (gb != NULL)
                    gb[bt] += alpha * av[at] * gy[i * n + j];
            }
            if (ga != NULL)
                ga[at] += alpha * (float)sum_a;
        }
    for (i = 0; gc != NULL && i < m; i++)
        for (j = 0; j < n; j++)
            gc[matrix_c_at(c, i, j)] += beta * gy[i * n + j];
}

static int64_t span(const mlops__tensor *t, int64_t from, int64_t to)
{
    int64_t p = 1, d;
    for (d = from; d < to; d++)
        p *= t->dims[d];
    return p;
}

/* Softmax: gx = y (gy - sum gy y); LogSoftmax: gx = gy - exp(y) sum gy; along the forward pass's lines. */
static void softmax_backward(const mlops__step *step, const mlops__tensor *y, const float *gy, float *gx)
{
    int64_t axis = step->axis < 0 ? step->axis + y->rank : step->axis, outer, n, inner, o, j, i;
    const float *yv = y->data;
    int log_form = step->op == MLOPS__OP_LOG_SOFTMAX;
    outer = span(y, 0, axis);
    n = step->opset < 13 ? span(y, axis, y->rank) : y->dims[axis];
    inner = step->opset < 13 ? 1 : span(y, axis + 1, y->rank);
    for (o = 0; o < outer; o++)
        for (j = 0; j < inner; j++) {
            int64_t base = o * n * inner + j;
            double dot = 0.0;
            for (i = 0; i < n; i++)
                dot += log_form ? (double)gy[base + i * inner] : (double)gy[base + i * inner] * yv[base + i * inner];
            for (i = 0; i < n; i++) {
                int64_t at = base + i * inner;
                gx[at] += log_form ? gy[at] - (float)(exp((double)yv[at]) * dot) : yv[at] * (gy[at] - (float)dot);
            }
        }
}

/* LayerNormalization: with g = gy * scale and xh the normalized x, gx = inv (g - mean g - xh mean(g xh)). */
static void layer_norm_backward(const mlops__step *step, const mlops__tensor *x, const mlops__tensor *scale,
                                const float *gy, float *gx)
{
    int64_t axis = step->axis < 0 ? step->axis + x->rank : step->axis;
    int64_t outer = span(x, 0, axis), inner = span(x, axis, x->rank), o, i;
    const float *s = scale->data;
    for (o = 0; o < outer; o++) {
        const float *src = (const float *)x->data + o * inner;
        const float *g = gy + o * inner;
        double mean, inv, mg = 0.0, mgx = 0.0;
        mlops__layer_norm_stats(&mean, &inv, src, inner, step->epsilon);
        for (i = 0; i < inner; i++) {
            double gi = (double)g[i] * s[i];
            mg += gi;
            mgx += gi * (src[i] - mean) * inv;
        }
        mg /= (double)(inner > 0 ? inner : 1);
        mgx /= (double)(inner > 0 ? inner : 1);
        for (i = 0; i < inner; i++)
            gx[o * inner + i] += (float)(inv * ((double)g[i] * s[i] - mg - (src[i] - mean) * inv * mgx));
    }
}

/* BatchNormalization at inference is linear per channel: dst += src * scale / sqrt(var + epsilon). */
static void batch_norm_scale(const mlops__step *step, const mlops__tensor *x, const mlops__tensor *scale,
                             const mlops__tensor *var, const float *src, float *dst)
{
    int64_t channels = x->dims[1], n = x->dims[0], inner = span(x, 2, x->rank), c, b, i;
    for (c = 0; c < channels; c++) {
        float mul = ((const float *)scale->data)[c] / sqrtf(((const float *)var->data)[c] + step->epsilon);
        for (b = 0; b < n; b++)
            for (i = 0; i < inner; i++)
                dst[(b * channels + c) * inner + i] += src[(b * channels + c) * inner + i] * mul;
    }
}

static int ensure_floats(float **buf, size_t *cap, size_t n)
{
    float *grown;
    if (n <= *cap)
        return MLOPS_OK;
    grown = mlops__realloc(*buf, (n + 1) * sizeof *grown);
    if (grown == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu gradient values", n);
    *buf = grown;
    *cap = n;
    return MLOPS_OK;
}

/* The gradient buffer of input j of `step`, NULL when that input needs none. */
static float *g_in(const mlops__grad *grad, const mlops__step *step, int32_t j)
{
    return needs_in(grad, step, j) ? grad->g[step->in[j]] : NULL;
}

/* Input j of `step`: the importer guarantees every required input is present. */
static const mlops__tensor *input_of(const mlops__grad *grad, const mlops__step *step, int32_t j)
{
    return value_of(grad, step->in[j]);
}

static int step_backward(mlops__grad *grad, const mlops__step *step)
{
    const mlops__tensor *x = input_of(grad, step, 0), *y = value_of(grad, step->out[0]);
    const float *gy = grad->g[step->out[0]];
    float *gx = g_in(grad, step, 0);
    int rc;
    switch (step->op) {
    case MLOPS__OP_ADD: case MLOPS__OP_SUB: case MLOPS__OP_MUL: case MLOPS__OP_DIV:
        binary_backward(step, x, input_of(grad, step, 1), y, gy, gx, g_in(grad, step, 1));
        break;
    case MLOPS__OP_GEMM: case MLOPS__OP_MATMUL: {
        int has_c = step->n_in > 2 && step->in[2] >= 0;
        matrix_backward(step, x, input_of(grad, step, 1), has_c ? input_of(grad, step, 2) : NULL, gy, gx,
                        g_in(grad, step, 1), has_c ? g_in(grad, step, 2) : NULL);
        break;
    }
    case MLOPS__OP_LINEAR: {
        size_t m = count_of(x) / step->linear->k;
        if ((rc = ensure_floats(&grad->scratch, &grad->scratch_cap, 2 * m * step->linear->n)) != MLOPS_OK)
            return rc;
        mlops__linear_backward_fp32(step->linear, x->data, y->data, gy, m, gx, grad->scratch);
        break;
    }
    case MLOPS__OP_SOFTMAX: case MLOPS__OP_LOG_SOFTMAX:
        softmax_backward(step, y, gy, gx);
        break;
    case MLOPS__OP_LAYER_NORM:
        layer_norm_backward(step, x, input_of(grad, step, 1), gy, gx);
        break;
    case MLOPS__OP_BATCH_NORM:
        batch_norm_scale(step, x, input_of(grad, step, 1), input_of(grad, step, 4), gy, gx);
        break;
    default:
        unary_backward(step, x->data, y->data, gy, gx, count_of(y));
        break;
    }
    return MLOPS_OK;
}

int mlops__grad_backward(float *dx, mlops__grad *grad, size_t output)
{
    const mlops__graph *graph = grad->graph;
    int32_t result = graph->outputs[0], input = graph->inputs[0];
    size_t i, s, width, features = mlops_session_input_width(grad->session);
    int rc;
    memset(dx, 0, grad->rows * features * sizeof *dx);
    if (!grad->needs[result])
        return MLOPS_OK;
    for (i = 0; i < graph->n_values; i++) {
        size_t n;
        if (!grad->needs[i])
            continue;
        n = count_of(value_of(grad, (int32_t)i));
        if ((rc = ensure_floats(&grad->g[i], &grad->cap[i], n)) != MLOPS_OK)
            return rc;
        memset(grad->g[i], 0, n * sizeof(float));
    }
    width = count_of(value_of(grad, result)) / grad->rows;
    for (i = 0; i < grad->rows; i++)
        grad->g[result][i * width + output] = 1.0f;
    for (s = graph->n_steps; s-- > 0;) {
        const mlops__step *step = &graph->steps[s];
        if (step->out[0] < 0 || !grad->needs[step->out[0]])
            continue;
        if ((rc = step_backward(grad, step)) != MLOPS_OK)
            return rc;
    }
    memcpy(dx, grad->g[input], grad->rows * features * sizeof *dx);
    return MLOPS_OK;
}

/* ---- directional derivatives and kinks along a straight path ------------------------ */
int mlops__grad_has_kinks(const mlops__grad *grad)
{
    return grad->kinks;
}

int mlops__grad_is_piecewise_linear(const mlops__grad *grad)
{
    return !grad->smooth;
}

/* A piecewise linear activation: slope `below` under lo, 1 on [lo, hi], `above` over hi. */
typedef struct kinked {
    double lo, hi;
    float below, above;
} kinked;

static kinked kinked_of(mlops__act act, float alpha, float beta)
{
    kinked k = {-INFINITY, INFINITY, 1.0f, 1.0f};
    switch (act) {
    case MLOPS__ACT_RELU: k.lo = 0.0; k.below = 0.0f; break;
    case MLOPS__ACT_LEAKY_RELU: k.lo = 0.0; k.below = alpha; break;
    case MLOPS__ACT_CLIP: k.lo = alpha; k.hi = beta; k.below = 0.0f; k.above = 0.0f; break;
    default: break;
    }
    return k;
}

/* The activation of a unary step, with Clip's bounds from its attributes (before opset 11) or its inputs. */
static kinked step_kinked(const mlops__grad *grad, const mlops__step *step)
{
    float lo = -INFINITY, hi = INFINITY;
    switch (step->op) {
    case MLOPS__OP_RELU: return kinked_of(MLOPS__ACT_RELU, 0.0f, 0.0f);
    case MLOPS__OP_LEAKY_RELU: return kinked_of(MLOPS__ACT_LEAKY_RELU, step->alpha, 0.0f);
    case MLOPS__OP_CLIP:
        if (step->opset < 11) {
            lo = step->has_min ? step->alpha : -INFINITY;
            hi = step->has_max ? step->beta : INFINITY;
        }
        if (step->n_in > 1 && step->in[1] >= 0)
            lo = *(const float *)value_of(grad, step->in[1])->data;
        if (step->n_in > 2 && step->in[2] >= 0)
            hi = *(const float *)value_of(grad, step->in[2])->data;
        return kinked_of(MLOPS__ACT_CLIP, lo, hi);
    default: return kinked_of(MLOPS__ACT_NONE, 0.0f, 0.0f);
    }
}

/* One more breakpoint candidate: the path moves z by t per unit of alpha. */
static void kink_candidate(double *next, double z, double t, double at, double min_step)
{
    double d;
    if (t == 0.0 || !isfinite(at))
        return;
    d = (at - z) / t;
    if (d > min_step && d < *next)
        *next = d;
}

/*
 * Elementwise through `k`: records where each input z meets a breakpoint and
 * sets t_y to the slope of the piece the path enters (z a minimal step ahead) times t_z.
 */
static double kinked_apply(const kinked *k, double z, double t, double *next, double min_step)
{
    double ahead = z + min_step * t;
    kink_candidate(next, z, t, k->lo, min_step);
    kink_candidate(next, z, t, k->hi, min_step);
    return t * (ahead < k->lo ? k->below : ahead > k->hi ? k->above : 1.0f);
}

/* Add, Sub, Mul, Div with broadcasting: t_y from t_a and t_b (NULL: constant). */
static void binary_tangent(mlops__op op, const mlops__tensor *a, const mlops__tensor *b, const mlops__tensor *y,
                           const float *ta, const float *tb, float *ty)
{
    int64_t sa[MLOPS__MAX_RANK], sb[MLOPS__MAX_RANK], idx[MLOPS__MAX_RANK] = {0}, ia = 0, ib = 0, o, i;
    int32_t r = y->rank;
    int64_t inner = r > 0 ? y->dims[r - 1] : 1, outer = inner > 0 ? (int64_t)count_of(y) / inner : 0;
    const float *av = a->data, *bv = b->data;
    mlops__broadcast_strides(sa, a, y);
    mlops__broadcast_strides(sb, b, y);
    for (o = 0; o < outer; o++) {
        for (i = 0; i < inner; i++) {
            int64_t pa = ia + i * (r > 0 ? sa[r - 1] : 0), pb = ib + i * (r > 0 ? sb[r - 1] : 0);
            double da = ta != NULL ? ta[pa] : 0.0, db = tb != NULL ? tb[pb] : 0.0, v;
            switch (op) {
            case MLOPS__OP_ADD: v = da + db; break;
            case MLOPS__OP_SUB: v = da - db; break;
            case MLOPS__OP_MUL: v = da * bv[pb] + (double)av[pa] * db; break;
            default: v = (da - (double)av[pa] * db / bv[pb]) / bv[pb]; break;
            }
            ty[o * inner + i] = (float)v;
        }
        mlops__index_next(idx, &ia, &ib, sa, sb, y->dims, r - 2);
    }
}

/* t_Y = alpha (t_A op(B) + op(A) t_B) + beta t_C. */
static void matrix_tangent(const mlops__step *step, const mlops__tensor *a, const mlops__tensor *b,
                           const mlops__tensor *c, const float *ta, const float *tb, const float *tc, float *ty)
{
    matrix_shape f = matrix_shape_of(step, a, b);
    const float *av = a->data, *bv = b->data;
    int64_t i, j, p;
    for (i = 0; i < f.m; i++)
        for (j = 0; j < f.n; j++) {
            double sum = 0.0;
            for (p = 0; p < f.k; p++) {
                if (ta != NULL)
                    sum += (double)ta[matrix_a_at(&f, i, p)] * bv[matrix_b_at(&f, p, j)];
                if (tb != NULL)
                    sum += (double)av[matrix_a_at(&f, i, p)] * tb[matrix_b_at(&f, p, j)];
            }
            ty[i * f.n + j] = (float)(f.alpha * sum + (tc != NULL ? f.beta * tc[matrix_c_at(c, i, j)] : 0.0));
        }
}

/* A fused linear layer: pre = x . W + b and t_pre = t_x . W, then its activation. */
static void linear_tangent(const mlops__linear *layer, const float *x, const float *tx, size_t rows, float *ty,
                           double *next, double min_step)
{
    kinked k = kinked_of(layer->epilogue.act, layer->epilogue.alpha, layer->epilogue.beta);
    size_t r, j, p;
    for (r = 0; r < rows; r++)
        for (j = 0; j < layer->n; j++) {
            double pre = layer->bias != NULL ? layer->bias[j] : 0.0, t = 0.0;
            for (p = 0; p < layer->k; p++) {
                pre += (double)x[r * layer->k + p] * layer->w[p * layer->n + j];
                t += (double)tx[r * layer->k + p] * layer->w[p * layer->n + j];
            }
            ty[r * layer->n + j] = (float)kinked_apply(&k, pre, t, next, min_step);
        }
}

/* The tangent of input j of `step`, NULL when it is a constant. */
static const float *t_in(const mlops__grad *grad, const mlops__step *step, int32_t j)
{
    return needs_in(grad, step, j) ? grad->t[step->in[j]] : NULL;
}

/*
 * The tangent of an affine step's output from its inputs' tangents. Ops other
 * than the binary and matrix ones are affine only with a variable input 0.
 */
static void step_tangent(mlops__grad *grad, const mlops__step *step, double *next, double min_step)
{
    const mlops__tensor *x = input_of(grad, step, 0), *y = value_of(grad, step->out[0]);
    float *ty = grad->t[step->out[0]];
    const float *tx = grad->t[step->in[0]], *xv = x->data;
    size_t i, n = count_of(y);
    switch (step->op) {
    case MLOPS__OP_ADD: case MLOPS__OP_SUB: case MLOPS__OP_MUL: case MLOPS__OP_DIV:
        binary_tangent(step->op, x, input_of(grad, step, 1), y, t_in(grad, step, 0), t_in(grad, step, 1), ty);
        break;
    case MLOPS__OP_GEMM: case MLOPS__OP_MATMUL: {
        int has_c = step->n_in > 2 && step->in[2] >= 0;
        matrix_tangent(step, x, input_of(grad, step, 1), has_c ? input_of(grad, step, 2) : NULL,
                       t_in(grad, step, 0), t_in(grad, step, 1), has_c ? t_in(grad, step, 2) : NULL, ty);
        break;
    }
    case MLOPS__OP_LINEAR:
        linear_tangent(step->linear, xv, tx, count_of(x) / step->linear->k, ty, next, min_step);
        break;
    case MLOPS__OP_BATCH_NORM:
        memset(ty, 0, n * sizeof *ty);
        batch_norm_scale(step, x, input_of(grad, step, 1), input_of(grad, step, 4), tx, ty);
        break;
    default: {
        kinked k = step_kinked(grad, step);
        for (i = 0; i < n; i++)
            ty[i] = (float)kinked_apply(&k, xv[i], tx[i], next, min_step);
        break;
    }
    }
}

int mlops__grad_next_kink(double *next, mlops__grad *grad, const float *direction, double min_step)
{
    const mlops__graph *graph = grad->graph;
    size_t i, s, features = mlops_session_input_width(grad->session);
    int rc;
    *next = INFINITY;
    for (i = 0; i < graph->n_values; i++)
        if (grad->affine[i] &&
            (rc = ensure_floats(&grad->t[i], &grad->tcap[i], count_of(value_of(grad, (int32_t)i)))) != MLOPS_OK)
            return rc;
    memcpy(grad->t[graph->inputs[0]], direction, grad->rows * features * sizeof *direction);
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        if (step->out[0] >= 0 && grad->affine[step->out[0]])
            step_tangent(grad, step, next, min_step);
    }
    return MLOPS_OK;
}
