/*
 * Explainers: per-row attributions of one output of a session's fp32 plan
 * (exact linear SHAP, integrated gradients, KernelSHAP), their JSON, and
 * global importance (mean absolute attribution, permutation importance).
 * An explainer keeps its buffers, so explaining batches of one size again
 * allocates nothing.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "explain_int.h"
#include "../train/train_int.h"

#define SUB MLOPS__EXPLAIN_SUB
#define CHUNK_ROWS 4096                        /* rows of one forward run when a frame is scored */
#define STREAM_COALITIONS 0x636f616c6974696full
#define STREAM_PERMUTE 0x7065726d75746521ull

#define MIN_SEGMENT 1e-6 /* kinks nearer than this fraction of the path to the last one share its segment */

enum { RULE_TRAPEZOID, RULE_MIDPOINT, RULE_PIECEWISE };
enum { LINK_NONE, LINK_SIGMOID, LINK_SOFTMAX };

struct mlops_explainer {
    const mlops_session *session;
    mlops__grad *grad;
    int method, rule, probability, link;
    const mlops__linear *linear; /* the single linear layer, when the model is one */
    size_t output, features, width;
    int64_t steps, samples, max_segments;
    uint64_t seed;
    char **names;
    float *baseline;             /* features floats: the reference row */
    float *background;           /* background_rows x features */
    size_t background_rows;
    float baseline_output;
    double shap_scale;           /* KernelSHAP: 1 / (a - c) of the coalition distribution's E[z z^T] */
    double *size_cdf;            /* KernelSHAP: cumulative probability of coalition sizes 1 .. features-1 */
    /* buffers, grown only */
    float *batch, *grads, *values;
    size_t batch_cap, grads_cap, values_cap;
    double *nodes;               /* integrated gradients: (alpha, weight) pairs of the quadrature */
    size_t nodes_cap;
    double *sums;
    size_t *order;
    unsigned char *masks;
    size_t sums_cap, order_cap, masks_cap;
};

static const char *method_name(int method)
{
    return method == MLOPS_EXPLAIN_LINEAR ? "linear"
         : method == MLOPS_EXPLAIN_INTEGRATED_GRADIENTS ? "integrated_gradients" : "kernel_shap";
}

static int grow(void **buf, size_t *cap, size_t count, size_t size)
{
    void *grown;
    if (count <= *cap)
        return MLOPS_OK;
    grown = mlops__realloc(*buf, (count + 1) * size);
    if (grown == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu explanation values", count);
    *buf = grown;
    *cap = count;
    return MLOPS_OK;
}

/* ---- the model ------------------------------------------------------------------- */
/* A single linear layer fed by the input, with an optional Sigmoid (fused) or last-axis Softmax after it. */
static void find_linear(mlops_explainer *ex)
{
    const mlops__graph *graph = mlops__session_graph(ex->session);
    const mlops__step *first = graph->n_steps > 0 ? &graph->steps[0] : NULL, *second;
    int32_t rank = graph->values[graph->inputs[0]].t.rank;
    if (first == NULL || first->op != MLOPS__OP_LINEAR || first->in[0] != graph->inputs[0] || rank != 2 ||
        (first->linear->epilogue.act != MLOPS__ACT_NONE && first->linear->epilogue.act != MLOPS__ACT_SIGMOID))
        return;
    if (graph->n_steps == 1 && first->out[0] == graph->outputs[0]) {
        ex->linear = first->linear;
        ex->link = first->linear->epilogue.act == MLOPS__ACT_SIGMOID ? LINK_SIGMOID : LINK_NONE;
        return;
    }
    second = graph->n_steps == 2 ? &graph->steps[1] : NULL;
    if (second != NULL && second->op == MLOPS__OP_SOFTMAX && second->in[0] == first->out[0] &&
        second->out[0] == graph->outputs[0] && first->linear->epilogue.act == MLOPS__ACT_NONE &&
        (second->axis == 1 || second->axis == -1)) {
        ex->linear = first->linear;
        ex->link = LINK_SOFTMAX;
    }
}

/* The linear layer's pre-activation of every output for `row` into z (width floats). */
static void linear_logits(const mlops_explainer *ex, const float *row, double *z)
{
    const mlops__linear *layer = ex->linear;
    size_t i, j;
    for (j = 0; j < layer->n; j++)
        z[j] = layer->bias != NULL ? layer->bias[j] : 0.0;
    for (i = 0; i < layer->k; i++)
        for (j = 0; j < layer->n; j++)
            z[j] += (double)row[i] * layer->w[i * layer->n + j];
}

/* The model's output `k` from the pre-activations. */
static double linear_link(const mlops_explainer *ex, const double *z, size_t k)
{
    double max = z[0], sum = 0.0;
    size_t j;
    if (ex->link == LINK_SIGMOID)
        return 1.0 / (1.0 + exp(-z[k]));
    if (ex->link == LINK_NONE)
        return z[k];
    for (j = 1; j < ex->linear->n; j++)
        max = z[j] > max ? z[j] : max;
    for (j = 0; j < ex->linear->n; j++)
        sum += exp(z[j] - max);
    return exp(z[k] - max) / sum;
}

/* Forward `rows` rows through the fp32 plan in chunks; dst receives column `output` (all columns when `all`). */
static int predict(mlops_explainer *ex, const float *x, size_t rows, float *dst, int all)
{
    size_t done, i;
    int rc;
    for (done = 0; done < rows; done += CHUNK_ROWS) {
        size_t n = rows - done < CHUNK_ROWS ? rows - done : CHUNK_ROWS;
        const float *y;
        if ((rc = mlops__grad_forward(&y, ex->grad, x + done * ex->features, n)) != MLOPS_OK)
            return rc;
        if (all)
            memcpy(dst + done * ex->width, y, n * ex->width * sizeof *dst);
        else
            for (i = 0; i < n; i++)
                dst[done + i] = y[i * ex->width + ex->output];
    }
    return MLOPS_OK;
}

/* ---- options --------------------------------------------------------------------- */
typedef struct options {
    const char *method, *rule, *scale, *baseline_name;
    const mlops__json *baseline_row, *features;
    int64_t output, steps, samples, seed, max_segments;
} options;

/* Feature names: the "features" option, else the session's, else x0, x1, ... */
static int parse_names(mlops_explainer *ex, const mlops__json *features)
{
    size_t i;
    char name[32];
    ex->names = mlops__calloc(ex->features + 1, sizeof *ex->names);
    if (ex->names == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for feature names");
    for (i = 0; i < ex->features; i++) {
        if (features != NULL) {
            ex->names[i] = mlops__strdup(mlops__json_string(mlops__json_at(features, i)));
        } else if (mlops_session_feature_name(ex->session, i) != NULL) {
            ex->names[i] = mlops__strdup(mlops_session_feature_name(ex->session, i));
        } else {
            snprintf(name, sizeof name, "x%zu", i);
            ex->names[i] = mlops__strdup(name);
        }
        if (ex->names[i] == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for feature names");
    }
    return MLOPS_OK;
}

/* An array of exactly `n` items of one kind at $.key (numbers or strings). */
static int check_array(const mlops__json *node, const char *key, size_t n, int strings)
{
    size_t i;
    if (!mlops__json_is_array(node))
        return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.%s must be an array", key);
    if (mlops__json_array_size(node) != n)
        return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.%s has %zu items, the model has %zu features",
                            key, mlops__json_array_size(node), n);
    for (i = 0; i < n; i++) {
        const mlops__json *item = mlops__json_at(node, i);
        if (strings ? !mlops__json_is_string(item) : !mlops__json_is_number(item))
            return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.%s[%zu] must be a %s", key, i,
                                strings ? "string" : "number");
    }
    return MLOPS_OK;
}

static int read_options(options *o, const mlops__json *doc, size_t features)
{
    static const char *const keys[] = {"method", "output",   "baseline", "steps",        "rule", "samples",
                                       "seed",   "scale",    "features", "max_segments", NULL};
    const mlops__json *baseline;
    int rc;
    if (!mlops__json_is_object(doc))
        return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $ must be an object");
    if ((rc = mlops__json_check_keys(doc, "$", SUB, keys)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&o->method, doc, "method", "$", SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&o->rule, doc, "rule", "$", SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&o->scale, doc, "scale", "$", SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&o->output, doc, "output", "$", SUB, 0, INT32_MAX)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&o->steps, doc, "steps", "$", SUB, 1, 100000)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&o->max_segments, doc, "max_segments", "$", SUB, 1, 1000000)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&o->samples, doc, "samples", "$", SUB, 4, 10000000)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&o->seed, doc, "seed", "$", SUB, 0, INT64_MAX)) != MLOPS_OK)
        return rc;
    baseline = mlops__json_get(doc, "baseline");
    if (baseline != NULL && mlops__json_is_string(baseline)) {
        o->baseline_name = mlops__json_string(baseline);
        if (strcmp(o->baseline_name, "mean") != 0 && strcmp(o->baseline_name, "zeros") != 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.baseline: \"%s\" is not mean, zeros or an array",
                                o->baseline_name);
    } else if (baseline != NULL) {
        if ((rc = check_array(baseline, "baseline", features, 0)) != MLOPS_OK)
            return rc;
        o->baseline_row = baseline;
    }
    o->features = mlops__json_get(doc, "features");
    if (o->features != NULL && (rc = check_array(o->features, "features", features, 1)) != MLOPS_OK)
        return rc;
    return MLOPS_OK;
}

static int choose_method(mlops_explainer *ex, const options *o)
{
    if (o->method == NULL)
        ex->method = ex->linear != NULL ? MLOPS_EXPLAIN_LINEAR : MLOPS_EXPLAIN_INTEGRATED_GRADIENTS;
    else if (strcmp(o->method, "linear") == 0)
        ex->method = MLOPS_EXPLAIN_LINEAR;
    else if (strcmp(o->method, "integrated_gradients") == 0)
        ex->method = MLOPS_EXPLAIN_INTEGRATED_GRADIENTS;
    else if (strcmp(o->method, "kernel_shap") == 0)
        ex->method = MLOPS_EXPLAIN_KERNEL_SHAP;
    else
        return mlops__error(MLOPS_EFORMAT, SUB,
                            "explainer options: $.method: \"%s\" is not linear, integrated_gradients or kernel_shap",
                            o->method);
    if (o->rule == NULL)
        ex->rule = mlops__grad_has_kinks(ex->grad) ? RULE_PIECEWISE : RULE_TRAPEZOID;
    else if (strcmp(o->rule, "trapezoid") == 0)
        ex->rule = RULE_TRAPEZOID;
    else if (strcmp(o->rule, "midpoint") == 0)
        ex->rule = RULE_MIDPOINT;
    else if (strcmp(o->rule, "piecewise") == 0)
        ex->rule = RULE_PIECEWISE;
    else
        return mlops__error(MLOPS_EFORMAT, SUB,
                            "explainer options: $.rule: \"%s\" is not trapezoid, midpoint or piecewise", o->rule);
    if (o->scale != NULL && strcmp(o->scale, "logit") != 0 && strcmp(o->scale, "probability") != 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.scale: \"%s\" is not logit or probability",
                            o->scale);
    if (o->scale != NULL && ex->method != MLOPS_EXPLAIN_LINEAR)
        return mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.scale: only method \"linear\" has a scale");
    ex->probability = o->scale != NULL && strcmp(o->scale, "probability") == 0;
    if (ex->method == MLOPS_EXPLAIN_LINEAR && ex->linear == NULL)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                            "method \"linear\" needs a model of one linear layer (Gemm or MatMul + Add), optionally "
                            "followed by Sigmoid or Softmax");
    if (ex->probability && ex->link == LINK_NONE)
        return mlops__error(MLOPS_EINVAL, SUB, "scale \"probability\" needs a model that ends in Sigmoid or Softmax");
    if (ex->method == MLOPS_EXPLAIN_KERNEL_SHAP && ex->background_rows == 0)
        return mlops__error(MLOPS_EINVAL, SUB, "method \"kernel_shap\" needs a background of at least one row");
    return ex->method == MLOPS_EXPLAIN_INTEGRATED_GRADIENTS ? mlops__grad_check(ex->grad) : MLOPS_OK;
}

static int set_baseline(mlops_explainer *ex, const options *o)
{
    size_t i, r;
    ex->baseline = mlops__calloc(ex->features + 1, sizeof *ex->baseline);
    if (ex->baseline == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the baseline");
    if (o->baseline_row != NULL) {
        for (i = 0; i < ex->features; i++)
            ex->baseline[i] = (float)mlops__json_number(mlops__json_at(o->baseline_row, i));
    } else if ((o->baseline_name == NULL && ex->background_rows > 0) ||
               (o->baseline_name != NULL && strcmp(o->baseline_name, "mean") == 0)) {
        if (ex->background_rows == 0)
            return mlops__error(MLOPS_EINVAL, SUB, "baseline \"mean\" needs a background of at least one row");
        for (i = 0; i < ex->features; i++) {
            double sum = 0.0;
            for (r = 0; r < ex->background_rows; r++)
                sum += ex->background[r * ex->features + i];
            ex->baseline[i] = (float)(sum / (double)ex->background_rows);
        }
    }
    return MLOPS_OK;
}

/*
 * KernelSHAP's coalition distribution: size s (1 .. M-1) with probability
 * proportional to 1 / (s (M - s)), then a uniform subset of that size. Its
 * E[z z^T] is a on the diagonal (1/2) and c off it, so the constrained
 * regression solves in closed form with the factor 1 / (a - c).
 */
static int set_kernel(mlops_explainer *ex)
{
    size_t m = ex->features, s;
    double total = 0.0, a = 0.0, c = 0.0, run = 0.0;
    if (m < 2)
        return MLOPS_OK;
    ex->size_cdf = mlops__calloc(m, sizeof *ex->size_cdf);
    if (ex->size_cdf == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the coalition distribution");
    for (s = 1; s < m; s++)
        total += 1.0 / ((double)s * (double)(m - s));
    for (s = 1; s < m; s++) {
        double p = 1.0 / ((double)s * (double)(m - s)) / total;
        run += p;
        ex->size_cdf[s - 1] = run;
        a += p * (double)s / (double)m;
        c += p * (double)s * (double)(s - 1) / ((double)m * (double)(m - 1));
    }
    ex->shap_scale = 1.0 / (a - c);
    return MLOPS_OK;
}

static int set_baseline_output(mlops_explainer *ex)
{
    double z_stack[1], *z;
    float *out;
    size_t r;
    int rc;
    if (ex->method == MLOPS_EXPLAIN_LINEAR) {
        z = ex->linear->n > 1 ? mlops__calloc(ex->linear->n, sizeof *z) : z_stack;
        if (z == NULL)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the baseline output");
        linear_logits(ex, ex->baseline, z);
        ex->baseline_output = (float)(ex->probability ? linear_link(ex, z, ex->output) : z[ex->output]);
        if (z != z_stack)
            mlops__free(z);
        return MLOPS_OK;
    }
    if (ex->method == MLOPS_EXPLAIN_INTEGRATED_GRADIENTS)
        return predict(ex, ex->baseline, 1, &ex->baseline_output, 0);
    out = mlops__calloc(ex->background_rows, sizeof *out);
    if (out == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the background's outputs");
    if ((rc = predict(ex, ex->background, ex->background_rows, out, 0)) == MLOPS_OK) {
        double sum = 0.0;
        for (r = 0; r < ex->background_rows; r++)
            sum += out[r];
        ex->baseline_output = (float)(sum / (double)ex->background_rows);
    }
    mlops__free(out);
    return rc;
}

static int configure(mlops_explainer *ex, const char *options_json)
{
    options o = {NULL, NULL, NULL, NULL, NULL, NULL, 0, 256, 2048, 0, 4096};
    mlops__json *doc = NULL;
    int rc;
    if (options_json != NULL) {
        if ((rc = mlops__json_parse(&doc, options_json, SUB, "explainer options")) != MLOPS_OK)
            return rc;
        if ((rc = read_options(&o, doc, ex->features)) != MLOPS_OK)
            goto out;
    }
    if ((size_t)o.output >= ex->width) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "explainer options: $.output: %lld is outside [0, %zu]",
                          (long long)o.output, ex->width - 1);
        goto out;
    }
    ex->output = (size_t)o.output;
    ex->steps = o.steps;
    ex->max_segments = o.max_segments;
    ex->samples = o.samples + (o.samples & 1);
    ex->seed = (uint64_t)o.seed;
    find_linear(ex);
    if ((rc = choose_method(ex, &o)) != MLOPS_OK || (rc = parse_names(ex, o.features)) != MLOPS_OK ||
        (rc = set_baseline(ex, &o)) != MLOPS_OK || (rc = set_kernel(ex)) != MLOPS_OK)
        goto out;
    rc = set_baseline_output(ex);
out:
    mlops__json_free(doc);
    return rc;
}

/* ---- lifecycle -------------------------------------------------------------------- */
int mlops_explainer_open(mlops_explainer **out, const mlops_session *session, const char *options_json,
                         const float *background, size_t background_rows)
{
    mlops_explainer *ex;
    int rc;
    if (out == NULL || session == NULL || (background == NULL && background_rows > 0))
        return mlops__error_null(SUB, "mlops_explainer_open", out == NULL ? "out" : session == NULL ? "session" : "background");
    *out = NULL;
    ex = mlops__calloc(1, sizeof *ex);
    if (ex == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for an explainer");
    ex->session = session;
    ex->features = mlops_session_input_width(session);
    ex->width = mlops_session_output_width(session);
    ex->background_rows = background_rows;
    if ((rc = mlops__grad_new(&ex->grad, session)) != MLOPS_OK)
        goto out_free;
    if (background_rows > 0) {
        ex->background = mlops__malloc(background_rows * ex->features * sizeof *ex->background);
        if (ex->background == NULL) {
            rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a background of %zu rows", background_rows);
            goto out_free;
        }
        memcpy(ex->background, background, background_rows * ex->features * sizeof *ex->background);
    }
    if ((rc = configure(ex, options_json)) != MLOPS_OK)
        goto out_free;
    *out = ex;
    return MLOPS_OK;
out_free:
    mlops_explainer_free(ex);
    return rc;
}

void mlops_explainer_free(mlops_explainer *explainer)
{
    size_t i;
    if (explainer == NULL)
        return;
    if (explainer->names != NULL)
        for (i = 0; i < explainer->features; i++)
            mlops__free(explainer->names[i]);
    mlops__free(explainer->names);
    mlops__grad_free(explainer->grad);
    mlops__free(explainer->baseline);
    mlops__free(explainer->background);
    mlops__free(explainer->size_cdf);
    mlops__free(explainer->batch);
    mlops__free(explainer->grads);
    mlops__free(explainer->nodes);
    mlops__free(explainer->values);
    mlops__free(explainer->sums);
    mlops__free(explainer->order);
    mlops__free(explainer->masks);
    mlops__free(explainer);
}

int mlops_explainer_method(const mlops_explainer *explainer)
{
    return explainer != NULL ? explainer->method : 0;
}

size_t mlops_explainer_features(const mlops_explainer *explainer)
{
    return explainer != NULL ? explainer->features : 0;
}

const char *mlops_explainer_feature_name(const mlops_explainer *explainer, size_t index)
{
    return explainer != NULL && index < explainer->features ? explainer->names[index] : NULL;
}

float mlops_explainer_baseline_output(const mlops_explainer *explainer)
{
    return explainer != NULL ? explainer->baseline_output : NAN;
}

/* ---- one row ---------------------------------------------------------------------- */
/* Exact SHAP of a linear layer: w_ik (x_i - r_i), rescaled to the probability difference when asked. */
static int linear_row(mlops_explainer *ex, const float *x, float *phi, float *prediction)
{
    const mlops__linear *layer = ex->linear;
    double *z, *zr, factor = 1.0, pred;
    size_t i;
    int rc;
    if ((rc = grow((void **)&ex->sums, &ex->sums_cap, 2 * layer->n, sizeof *ex->sums)) != MLOPS_OK)
        return rc;
    z = ex->sums;
    zr = ex->sums + layer->n;
    linear_logits(ex, x, z);
    pred = z[ex->output];
    if (ex->probability) {
        double p = linear_link(ex, z, ex->output), dz;
        linear_logits(ex, ex->baseline, zr);
        dz = z[ex->output] - zr[ex->output];
        factor = fabs(dz) > 1e-12 ? (p - linear_link(ex, zr, ex->output)) / dz : p * (1.0 - p);
        pred = p;
    }
    for (i = 0; i < ex->features; i++)
        phi[i] = (float)(factor * layer->w[i * layer->n + ex->output] * ((double)x[i] - ex->baseline[i]));
    *prediction = (float)pred;
    return MLOPS_OK;
}

/* n midpoint nodes of equal weight over [from, to], appended after the `*count` held. */
static int add_nodes(mlops_explainer *ex, size_t *count, double from, double to, size_t n)
{
    size_t j;
    int rc;
    if ((rc = grow((void **)&ex->nodes, &ex->nodes_cap, 2 * (*count + n), sizeof(double))) != MLOPS_OK)
        return rc;
    for (j = 0; j < n; j++) {
        ex->nodes[2 * (*count + j)] = from + ((double)j + 0.5) * (to - from) / (double)n;
        ex->nodes[2 * (*count + j) + 1] = (to - from) / (double)n;
    }
    *count += n;
    return MLOPS_OK;
}

/* The uniform rules over [0, 1]: steps + 1 trapezoid nodes, or steps midpoints. */
static int uniform_nodes(mlops_explainer *ex, size_t *count)
{
    size_t j, points = (size_t)ex->steps + 1;
    int rc;
    *count = 0;
    if (ex->rule == RULE_MIDPOINT)
        return add_nodes(ex, count, 0.0, 1.0, (size_t)ex->steps);
    if ((rc = grow((void **)&ex->nodes, &ex->nodes_cap, 2 * points, sizeof(double))) != MLOPS_OK)
        return rc;
    for (j = 0; j < points; j++) {
        ex->nodes[2 * j] = (double)j / (double)ex->steps;
        ex->nodes[2 * j + 1] = (j == 0 || j + 1 == points ? 0.5 : 1.0) / (double)ex->steps;
    }
    *count = points;
    return MLOPS_OK;
}

/*
 * The piecewise rule: walk the path from kink to kink. A plan without smooth
 * ops has a constant gradient on each segment, so its midpoint is exact;
 * otherwise each segment gets max(1, round(steps x length)) midpoints.
 */
static int piecewise_nodes(mlops_explainer *ex, const float *x, size_t *count)
{
    size_t m = ex->features, i;
    int exact = mlops__grad_is_piecewise_linear(ex->grad), rc;
    int64_t segments = 0;
    double alpha = 0.0;
    float *point, *direction;
    if ((rc = grow((void **)&ex->batch, &ex->batch_cap, 2 * m, sizeof(float))) != MLOPS_OK)
        return rc;
    point = ex->batch;
    direction = ex->batch + m;
    for (i = 0; i < m; i++)
        direction[i] = (float)((double)x[i] - ex->baseline[i]);
    *count = 0;
    while (alpha < 1.0) {
        const float *y;
        double step, next;
        size_t n;
        if (segments == ex->max_segments)
            return mlops__error(MLOPS_ELIMIT, SUB,
                                "the path from the baseline crosses more than %lld activation kinks (max_segments); "
                                "raise max_segments or choose rule \"trapezoid\"",
                                (long long)ex->max_segments);
        for (i = 0; i < m; i++)
            point[i] = (float)(ex->baseline[i] + alpha * ((double)x[i] - ex->baseline[i]));
        if ((rc = mlops__grad_forward(&y, ex->grad, point, 1)) != MLOPS_OK ||
            (rc = mlops__grad_next_kink(&step, ex->grad, direction, MIN_SEGMENT)) != MLOPS_OK)
            return rc;
        next = step < 1.0 - alpha ? alpha + step : 1.0;
        n = exact ? 1 : (size_t)fmax(1.0, floor((double)ex->steps * (next - alpha) + 0.5));
        if ((rc = add_nodes(ex, count, alpha, next, n)) != MLOPS_OK)
            return rc;
        alpha = next;
        segments++;
    }
    return MLOPS_OK;
}

/* Integrated gradients along the straight path from the baseline to x, with the prediction as one more row. */
static int ig_row(mlops_explainer *ex, const float *x, float *phi, float *prediction)
{
    size_t points, m = ex->features, j, i;
    const float *y;
    int rc;
    if ((rc = ex->rule == RULE_PIECEWISE ? piecewise_nodes(ex, x, &points) : uniform_nodes(ex, &points)) !=
            MLOPS_OK ||
        (rc = grow((void **)&ex->batch, &ex->batch_cap, (points + 1) * m, sizeof(float))) != MLOPS_OK ||
        (rc = grow((void **)&ex->grads, &ex->grads_cap, (points + 1) * m, sizeof(float))) != MLOPS_OK ||
        (rc = grow((void **)&ex->sums, &ex->sums_cap, m, sizeof(double))) != MLOPS_OK)
        return rc;
    for (j = 0; j < points; j++)
        for (i = 0; i < m; i++)
            ex->batch[j * m + i] = (float)(ex->baseline[i] + ex->nodes[2 * j] * ((double)x[i] - ex->baseline[i]));
    memcpy(ex->batch + points * m, x, m * sizeof *x);
    if ((rc = mlops__grad_forward(&y, ex->grad, ex->batch, points + 1)) != MLOPS_OK)
        return rc;
    *prediction = y[points * ex->width + ex->output];
    if ((rc = mlops__grad_backward(ex->grads, ex->grad, ex->output)) != MLOPS_OK)
        return rc;
    memset(ex->sums, 0, m * sizeof *ex->sums);
    for (j = 0; j < points; j++)
        for (i = 0; i < m; i++)
            ex->sums[i] += ex->nodes[2 * j + 1] * ex->grads[j * m + i];
    for (i = 0; i < m; i++)
        phi[i] = (float)(ex->sums[i] * ((double)x[i] - ex->baseline[i]));
    return MLOPS_OK;
}

/* A coalition of size s drawn from the KernelSHAP distribution into mask (m bytes). */
static void draw_coalition(const mlops_explainer *ex, mlops__rng *rng, unsigned char *mask, size_t *order)
{
    size_t m = ex->features, s = 1, i;
    double u = mlops__rng_unit_float(rng);
    while (s < m - 1 && u >= ex->size_cdf[s - 1])
        s++;
    for (i = 0; i < m; i++) {
        order[i] = i;
        mask[i] = 0;
    }
    for (i = 0; i < s; i++) {
        size_t j = i + (size_t)mlops__rng_below(rng, m - i), t = order[i];
        order[i] = order[j];
        order[j] = t;
        mask[order[i]] = 1;
    }
}

/*
 * KernelSHAP with paired coalitions (z and its complement). Each pair gives
 * g = (z (v(z) - v0) + (1 - z) (v(1 - z) - v0)) / 2 and h = g - mean(g);
 * phi = mean(h) / (a - c) + (v(1) - v0) / M, its standard error
 * sd(h) / sqrt(pairs) / (a - c).
 */
static int kernel_row(mlops_explainer *ex, const float *x, size_t row, float *phi, float *se, float *prediction)
{
    size_t m = ex->features, bg = ex->background_rows, pairs = (size_t)ex->samples / 2, i, b, p, c;
    size_t per_chunk = CHUNK_ROWS / (2 * bg) > 0 ? CHUNK_ROWS / (2 * bg) : 1, done;
    double *sum, *sum2, delta;
    const float *y;
    mlops__rng rng;
    int rc;
    if ((rc = predict(ex, x, 1, prediction, 0)) != MLOPS_OK)
        return rc;
    delta = (double)*prediction - ex->baseline_output;
    if (m == 1) {
        phi[0] = (float)delta;
        se[0] = 0.0f;
        return MLOPS_OK;
    }
    per_chunk = per_chunk < pairs ? per_chunk : pairs;
    if ((rc = grow((void **)&ex->batch, &ex->batch_cap, per_chunk * 2 * bg * m, sizeof(float))) != MLOPS_OK ||
        (rc = grow((void **)&ex->masks, &ex->masks_cap, per_chunk * m, 1)) != MLOPS_OK ||
        (rc = grow((void **)&ex->order, &ex->order_cap, m, sizeof(size_t))) != MLOPS_OK ||
        (rc = grow((void **)&ex->sums, &ex->sums_cap, 3 * m, sizeof(double))) != MLOPS_OK)
        return rc;
    sum = ex->sums;
    sum2 = ex->sums + m;
    memset(ex->sums, 0, 2 * m * sizeof *ex->sums);
    mlops__rng_seed(&rng, ex->seed, STREAM_COALITIONS ^ (uint64_t)row);
    for (done = 0; done < pairs; done += per_chunk) {
        size_t n = pairs - done < per_chunk ? pairs - done : per_chunk;
        for (p = 0; p < n; p++) {
            unsigned char *mask = ex->masks + p * m;
            draw_coalition(ex, &rng, mask, ex->order);
            for (c = 0; c < 2; c++)
                for (b = 0; b < bg; b++) {
                    float *dst = ex->batch + ((p * 2 + c) * bg + b) * m;
                    const float *from = ex->background + b * m;
                    for (i = 0; i < m; i++)
                        dst[i] = (mask[i] != 0) != (c == 1) ? x[i] : from[i];
                }
        }
        if ((rc = mlops__grad_forward(&y, ex->grad, ex->batch, n * 2 * bg)) != MLOPS_OK)
            return rc;
        for (p = 0; p < n; p++) {
            const unsigned char *mask = ex->masks + p * m;
            double v[2] = {0.0, 0.0}, mean = 0.0, *g = ex->sums + 2 * m;
            for (c = 0; c < 2; c++) {
                for (b = 0; b < bg; b++)
                    v[c] += y[((p * 2 + c) * bg + b) * ex->width + ex->output];
                v[c] = v[c] / (double)bg - ex->baseline_output;
            }
            for (i = 0; i < m; i++) {
                g[i] = 0.5 * (mask[i] ? v[0] : v[1]);
                mean += g[i];
            }
            mean /= (double)m;
            for (i = 0; i < m; i++) {
                double h = g[i] - mean;
                sum[i] += h;
                sum2[i] += h * h;
            }
        }
    }
    for (i = 0; i < m; i++) {
        double mean = sum[i] / (double)pairs, var = (sum2[i] - (double)pairs * mean * mean) / (double)(pairs - 1);
        phi[i] = (float)(ex->shap_scale * mean + delta / (double)m);
        se[i] = (float)(ex->shap_scale * sqrt((var > 0.0 ? var : 0.0) / (double)pairs));
    }
    return MLOPS_OK;
}

static int check_rows(const mlops_explainer *ex, const float *input, size_t rows, const char *function)
{
    if (ex == NULL || input == NULL)
        return mlops__error_null(SUB, function, ex == NULL ? "explainer" : "input");
    if (rows == 0 || rows > (size_t)INT32_MAX)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: rows must be 1 to %d", function, INT32_MAX);
    return MLOPS_OK;
}

int mlops_explain_rows(float *attributions, float *std_errors, float *predictions, float *completeness_errors,
                       size_t capacity, mlops_explainer *explainer, const float *input, size_t rows)
{
    size_t r, i, m;
    int rc;
    if (attributions == NULL)
        return mlops__error_null(SUB, "mlops_explain_rows", "attributions");
    if ((rc = check_rows(explainer, input, rows, "mlops_explain_rows")) != MLOPS_OK)
        return rc;
    m = explainer->features;
    if (capacity < rows * m)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_explain_rows: %zu rows need %zu floats, capacity is %zu", rows,
                            rows * m, capacity);
    if ((rc = grow((void **)&explainer->values, &explainer->values_cap, m, sizeof(float))) != MLOPS_OK)
        return rc;
    for (r = 0; r < rows; r++) {
        float *phi = attributions + r * m, *se = std_errors != NULL ? std_errors + r * m : explainer->values;
        float prediction = 0.0f;
        double total = 0.0;
        switch (explainer->method) {
        case MLOPS_EXPLAIN_LINEAR: rc = linear_row(explainer, input + r * m, phi, &prediction); break;
        case MLOPS_EXPLAIN_INTEGRATED_GRADIENTS: rc = ig_row(explainer, input + r * m, phi, &prediction); break;
        default: rc = kernel_row(explainer, input + r * m, r, phi, se, &prediction); break;
        }
        if (rc != MLOPS_OK)
            return mlops__error_prefix("row %zu", r);
        if (explainer->method != MLOPS_EXPLAIN_KERNEL_SHAP && std_errors != NULL)
            memset(se, 0, m * sizeof *se);
        for (i = 0; i < m; i++)
            total += phi[i];
        if (predictions != NULL)
            predictions[r] = prediction;
        if (completeness_errors != NULL)
            completeness_errors[r] = (float)fabs(total - ((double)prediction - explainer->baseline_output));
    }
    return MLOPS_OK;
}

int mlops_explain_gradient(float *gradients, size_t capacity, mlops_explainer *explainer, const float *input,
                           size_t rows)
{
    const float *y;
    int rc;
    if (gradients == NULL)
        return mlops__error_null(SUB, "mlops_explain_gradient", "gradients");
    if ((rc = check_rows(explainer, input, rows, "mlops_explain_gradient")) != MLOPS_OK)
        return rc;
    if (capacity < rows * explainer->features)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_explain_gradient: %zu rows need %zu floats, capacity is %zu",
                            rows, rows * explainer->features, capacity);
    if ((rc = mlops__grad_check(explainer->grad)) != MLOPS_OK ||
        (rc = mlops__grad_forward(&y, explainer->grad, input, rows)) != MLOPS_OK)
        return rc;
    return mlops__grad_backward(gradients, explainer->grad, explainer->output);
}

/* ---- JSON -------------------------------------------------------------------------- */
/* A float32 result with the 9 significant digits that identify it (null when not finite). */
static void put_number(mlops__buf *buf, double value)
{
    if (isfinite(value))
        mlops__buf_printf(buf, "%.9g", value);
    else
        mlops__buf_puts(buf, "null");
}

static void put_floats(mlops__buf *buf, const float *values, size_t n)
{
    size_t i;
    mlops__buf_putc(buf, '[');
    for (i = 0; i < n; i++) {
        if (i > 0)
            mlops__buf_putc(buf, ',');
        put_number(buf, values[i]);
    }
    mlops__buf_putc(buf, ']');
}

static int finish(char **out, mlops__buf *buf)
{
    int rc = mlops__buf_status(buf, SUB);
    if (rc == MLOPS_OK)
        *out = mlops__buf_detach(buf, NULL);
    mlops__buf_free(buf);
    return rc;
}

/* Room for rows x features attributions and standard errors plus rows predictions and errors. */
static int explain_all(float **out, mlops_explainer *ex, const float *input, size_t rows)
{
    size_t m = ex->features;
    float *all = mlops__malloc((2 * rows * m + 2 * rows + 1) * sizeof *all);
    int rc;
    *out = NULL;
    if (all == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the attributions of %zu rows", rows);
    rc = mlops_explain_rows(all, all + rows * m, all + 2 * rows * m, all + 2 * rows * m + rows, rows * m, ex, input,
                            rows);
    if (rc != MLOPS_OK) {
        mlops__free(all);
        return rc;
    }
    *out = all;
    return MLOPS_OK;
}

int mlops_explain_rows_json(char **out, mlops_explainer *explainer, const float *input, size_t rows)
{
    float *all;
    size_t r, i, m;
    mlops__buf buf;
    int rc;
    if (out == NULL)
        return mlops__error_null(SUB, "mlops_explain_rows_json", "out");
    *out = NULL;
    if ((rc = check_rows(explainer, input, rows, "mlops_explain_rows_json")) != MLOPS_OK ||
        (rc = explain_all(&all, explainer, input, rows)) != MLOPS_OK)
        return rc;
    m = explainer->features;
    mlops__buf_init(&buf);
    mlops__buf_printf(&buf, "{\"method\":\"%s\",\"output\":%zu,\"features\":[", method_name(explainer->method),
                      explainer->output);
    for (i = 0; i < m; i++) {
        if (i > 0)
            mlops__buf_putc(&buf, ',');
        mlops__buf_json_string(&buf, explainer->names[i]);
    }
    mlops__buf_puts(&buf, "],\"baseline_output\":");
    put_number(&buf, explainer->baseline_output);
    mlops__buf_puts(&buf, ",\"rows\":[");
    for (r = 0; r < rows; r++) {
        mlops__buf_puts(&buf, r > 0 ? ",{\"prediction\":" : "{\"prediction\":");
        put_number(&buf, all[2 * rows * m + r]);
        mlops__buf_puts(&buf, ",\"attributions\":");
        put_floats(&buf, all + r * m, m);
        if (explainer->method == MLOPS_EXPLAIN_INTEGRATED_GRADIENTS) {
            mlops__buf_puts(&buf, ",\"completeness_error\":");
            put_number(&buf, all[2 * rows * m + rows + r]);
        } else if (explainer->method == MLOPS_EXPLAIN_KERNEL_SHAP) {
            mlops__buf_puts(&buf, ",\"std_error\":");
            put_floats(&buf, all + rows * m + r * m, m);
        }
        mlops__buf_putc(&buf, '}');
    }
    mlops__buf_puts(&buf, "]}");
    mlops__free(all);
    return finish(out, &buf);
}

typedef struct ranked {
    const double *importance;
} ranked;

static int more_important(const void *ctx, size_t a, size_t b)
{
    const double *importance = ((const ranked *)ctx)->importance;
    return importance[a] > importance[b];
}

/* {"method", "output", "rows", ["metric",] "features": [...]} sorted by importance (rows 0..m-1 of `stats`). */
static int global_json(char **out, mlops_explainer *ex, const char *method, const char *metric, size_t rows,
                       const double *importance, const double *std_error)
{
    size_t m = ex->features, i, *order = mlops__malloc((2 * m + 1) * sizeof *order);
    ranked ctx = {importance};
    mlops__buf buf;
    if (order == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory ranking %zu features", m);
    for (i = 0; i < m; i++)
        order[i] = i;
    mlops__sort_indices(order, order + m, m, more_important, &ctx);
    mlops__buf_init(&buf);
    mlops__buf_printf(&buf, "{\"method\":\"%s\",\"output\":%zu,\"rows\":%zu,", method, ex->output, rows);
    if (metric != NULL) {
        mlops__buf_puts(&buf, "\"metric\":");
        mlops__buf_json_string(&buf, metric);
        mlops__buf_putc(&buf, ',');
    }
    mlops__buf_puts(&buf, "\"features\":[");
    for (i = 0; i < m; i++) {
        mlops__buf_puts(&buf, i > 0 ? ",{\"name\":" : "{\"name\":");
        mlops__buf_json_string(&buf, ex->names[order[i]]);
        mlops__buf_puts(&buf, ",\"importance\":");
        put_number(&buf, importance[order[i]]);
        mlops__buf_puts(&buf, ",\"std_error\":");
        put_number(&buf, std_error[order[i]]);
        mlops__buf_putc(&buf, '}');
    }
    mlops__buf_puts(&buf, "]}");
    mlops__free(order);
    return finish(out, &buf);
}

/* Mean and standard error of the mean of `n` samples from their sum and sum of squares, in place. */
static void mean_and_error(double *sum, double *sum2, size_t count, size_t n)
{
    size_t i;
    for (i = 0; i < count; i++) {
        double mean = sum[i] / (double)n;
        double var = n > 1 ? (sum2[i] - (double)n * mean * mean) / (double)(n - 1) : 0.0;
        sum[i] = mean;
        sum2[i] = sqrt((var > 0.0 ? var : 0.0) / (double)n);
    }
}

int mlops_explain_global(char **out, mlops_explainer *explainer, const float *input, size_t rows)
{
    float *all;
    double *stats;
    size_t r, i, m;
    int rc;
    if (out == NULL)
        return mlops__error_null(SUB, "mlops_explain_global", "out");
    *out = NULL;
    if ((rc = check_rows(explainer, input, rows, "mlops_explain_global")) != MLOPS_OK ||
        (rc = explain_all(&all, explainer, input, rows)) != MLOPS_OK)
        return rc;
    m = explainer->features;
    stats = mlops__calloc(2 * m + 1, sizeof *stats);
    if (stats == NULL) {
        mlops__free(all);
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for global importance");
    }
    for (r = 0; r < rows; r++)
        for (i = 0; i < m; i++) {
            double a = fabs((double)all[r * m + i]);
            stats[i] += a;
            stats[m + i] += a * a;
        }
    mean_and_error(stats, stats + m, m, rows);
    rc = global_json(out, explainer, method_name(explainer->method), NULL, rows, stats, stats + m);
    mlops__free(all);
    mlops__free(stats);
    return rc;
}

/* ---- permutation importance -------------------------------------------------------- */
typedef struct scorer {
    const char *name;     /* the metric's name in mlops_metrics_compute() */
    int32_t task;
    int higher;           /* a larger value is better */
    int one_vs_rest;      /* binary metric of column `output` against labels == output */
    int logits;           /* outputs are logits: softmax (several columns) or sigmoid (one) first */
    float *outputs;       /* rows x width */
    float *scores;        /* what mlops_metrics_compute() reads */
    double *labels;
} scorer;

static int pick_metric(scorer *sc, const mlops_explainer *ex, const char *metric)
{
    sc->name = strcmp(metric, "auc") == 0 ? "roc_auc" : strcmp(metric, "logloss") == 0 ? "log_loss" : metric;
    if (mlops__metric_higher_is_better(MLOPS_TASK_REGRESSION, sc->name) >= 0)
        sc->task = MLOPS_TASK_REGRESSION;
    else if (ex->width == 1)
        sc->task = MLOPS_TASK_BINARY;
    else if (strcmp(sc->name, "roc_auc") == 0 || strcmp(sc->name, "pr_auc") == 0) {
        sc->task = MLOPS_TASK_BINARY;
        sc->one_vs_rest = 1;
    } else
        sc->task = MLOPS_TASK_MULTICLASS;
    sc->higher = mlops__metric_higher_is_better(sc->task, sc->name);
    if (sc->higher < 0)
        return mlops__error(MLOPS_EFORMAT, SUB, "permutation options: $.metric: \"%s\" is not a metric of a %s output",
                            metric, ex->width == 1 ? "one-column" : "multi-column");
    return MLOPS_OK;
}

/* Softmax of a row of logits in place, or the sigmoid of a single one. */
static void to_probabilities(float *row, size_t width)
{
    double max = row[0], sum = 0.0;
    size_t j;
    if (width == 1) {
        row[0] = (float)(1.0 / (1.0 + exp(-(double)row[0])));
        return;
    }
    for (j = 1; j < width; j++)
        max = row[j] > max ? row[j] : max;
    for (j = 0; j < width; j++)
        sum += exp((double)row[j] - max);
    for (j = 0; j < width; j++)
        row[j] = (float)(exp((double)row[j] - max) / sum);
}

static int score(double *value, mlops_explainer *ex, scorer *sc, const float *x, size_t rows)
{
    mlops_metrics *metrics = NULL;
    size_t r, classes = sc->task == MLOPS_TASK_MULTICLASS ? ex->width : 2;
    int rc;
    if ((rc = predict(ex, x, rows, sc->outputs, 1)) != MLOPS_OK)
        return rc;
    if (sc->logits && sc->task != MLOPS_TASK_REGRESSION)
        for (r = 0; r < rows; r++)
            to_probabilities(sc->outputs + r * ex->width, ex->width);
    if (sc->task != MLOPS_TASK_MULTICLASS)
        for (r = 0; r < rows; r++)
            sc->scores[r] = sc->outputs[r * ex->width + (sc->task == MLOPS_TASK_BINARY && !sc->one_vs_rest ? 0 : ex->output)];
    rc = mlops_metrics_compute(&metrics, sc->task, sc->task == MLOPS_TASK_MULTICLASS ? sc->outputs : sc->scores,
                               sc->labels, rows, classes, "{\"bootstrap\":0}");
    if (rc == MLOPS_OK)
        rc = mlops_metrics_get(value, NULL, NULL, metrics, sc->name);
    mlops_metrics_free(metrics);
    return rc;
}

static int permute_all(double *stats, mlops_explainer *ex, scorer *sc, const float *input, size_t rows,
                       int64_t repeats, uint64_t seed)
{
    size_t m = ex->features, j, r, *order = NULL;
    float *work = mlops__malloc((rows * m + 1) * sizeof *work);
    double base;
    int64_t k;
    mlops__rng rng;
    int rc;
    order = mlops__malloc((rows + 1) * sizeof *order);
    if (work == NULL || order == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory permuting %zu rows", rows);
        goto out;
    }
    memcpy(work, input, rows * m * sizeof *work);
    if ((rc = score(&base, ex, sc, input, rows)) != MLOPS_OK)
        goto out;
    mlops__rng_seed(&rng, seed, STREAM_PERMUTE);
    for (j = 0; j < m; j++) {
        for (k = 0; k < repeats; k++) {
            double value, drop;
            for (r = 0; r < rows; r++)
                order[r] = r;
            mlops__rng_shuffle(&rng, order, rows);
            for (r = 0; r < rows; r++)
                work[r * m + j] = input[order[r] * m + j];
            if ((rc = score(&value, ex, sc, work, rows)) != MLOPS_OK)
                goto out;
            drop = sc->higher ? base - value : value - base;
            stats[j] += drop;
            stats[m + j] += drop * drop;
        }
        for (r = 0; r < rows; r++)
            work[r * m + j] = input[r * m + j];
    }
out:
    mlops__free(work);
    mlops__free(order);
    return rc;
}

int mlops_explain_permutation(char **out, mlops_explainer *explainer, const float *input, const float *labels,
                              size_t rows, const char *options_json)
{
    static const char *const keys[] = {"metric", "repeats", "seed", "outputs", NULL};
    const char *metric = "accuracy", *outputs = NULL;
    int64_t repeats = 5, seed = 0;
    mlops__json *doc = NULL;
    scorer sc = {NULL, 0, 0, 0, 0, NULL, NULL, NULL};
    double *stats = NULL;
    size_t r;
    int rc;
    if (out == NULL || labels == NULL)
        return mlops__error_null(SUB, "mlops_explain_permutation", out == NULL ? "out" : "labels");
    *out = NULL;
    if ((rc = check_rows(explainer, input, rows, "mlops_explain_permutation")) != MLOPS_OK)
        return rc;
    if (options_json != NULL) {
        if ((rc = mlops__json_parse(&doc, options_json, SUB, "permutation options")) != MLOPS_OK)
            return rc;
        if (!mlops__json_is_object(doc)) {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "permutation options: $ must be an object");
            goto out;
        }
        if ((rc = mlops__json_check_keys(doc, "$", SUB, keys)) != MLOPS_OK ||
            (rc = mlops__json_opt_string(&metric, doc, "metric", "$", SUB)) != MLOPS_OK ||
            (rc = mlops__json_opt_int(&repeats, doc, "repeats", "$", SUB, 1, 1000)) != MLOPS_OK ||
            (rc = mlops__json_opt_int(&seed, doc, "seed", "$", SUB, 0, INT64_MAX)) != MLOPS_OK ||
            (rc = mlops__json_opt_string(&outputs, doc, "outputs", "$", SUB)) != MLOPS_OK)
            goto out;
        if (outputs != NULL && strcmp(outputs, "probabilities") != 0 && strcmp(outputs, "logits") != 0) {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "permutation options: $.outputs: \"%s\" is not probabilities or logits",
                              outputs);
            goto out;
        }
        sc.logits = outputs != NULL && strcmp(outputs, "logits") == 0;
    }
    if ((rc = pick_metric(&sc, explainer, metric)) != MLOPS_OK)
        goto out;
    sc.outputs = mlops__malloc((rows * explainer->width + 1) * sizeof *sc.outputs);
    sc.scores = mlops__malloc((rows + 1) * sizeof *sc.scores);
    sc.labels = mlops__malloc((rows + 1) * sizeof *sc.labels);
    stats = mlops__calloc(2 * explainer->features + 1, sizeof *stats);
    if (sc.outputs == NULL || sc.scores == NULL || sc.labels == NULL || stats == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for permutation importance");
        goto out;
    }
    for (r = 0; r < rows; r++)
        sc.labels[r] = sc.one_vs_rest ? (double)(labels[r] == (float)explainer->output) : (double)labels[r];
    if ((rc = permute_all(stats, explainer, &sc, input, rows, repeats, (uint64_t)seed)) != MLOPS_OK)
        goto out;
    mean_and_error(stats, stats + explainer->features, explainer->features, (size_t)repeats);
    rc = global_json(out, explainer, "permutation", metric, rows, stats, stats + explainer->features);
out:
    mlops__json_free(doc);
    mlops__free(sc.outputs);
    mlops__free(sc.scores);
    mlops__free(sc.labels);
    mlops__free(stats);
    return rc;
}
