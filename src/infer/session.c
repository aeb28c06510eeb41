/*
 * Sessions: open an ONNX model into a compiled plan, choose the precision of
 * each linear layer, and run it from many threads. Each run borrows one of a
 * fixed set of run contexts with an atomic flag (no lock); a context keeps
 * its buffers, so a warm session allocates nothing per run.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "plan_int.h"

#define SUB "infer"
#define SLOTS 64

enum { PRECISION_FP32, PRECISION_INT8, PRECISION_AUTO };

struct mlops_session {
    mlops__graph *graph;
    int precision;
    mlops__isa isa;
    int isa_set;              /* isa chosen (by the options, or when int8 layers were packed) */
    int int8_layers;          /* linear layers packed in int8 */
    double auto_tolerance;
    size_t threads;           /* per run, the caller included */
    size_t input_width;       /* floats per row of the single float input, 0 otherwise */
    size_t output_width;
    char **feature_names;     /* input_width names of the input's columns, or NULL when unknown */
    atomic_int busy[SLOTS];
    mlops__ctx *slot[SLOTS];
};

/* ---- options ------------------------------------------------------------------ */
static int parse_options(mlops_session *session, const char *options_json)
{
    static const char *const keys[] = {"precision", "isa", "threads", "auto_tolerance", NULL};
    mlops__json *json = NULL;
    const char *precision = NULL, *isa = NULL;
    int64_t threads = 1;
    int rc;
    session->precision = PRECISION_FP32;
    session->auto_tolerance = 0.02;
    session->threads = 1;
    if (options_json == NULL)
        return MLOPS_OK;
    if ((rc = mlops__json_parse(&json, options_json, SUB, "session options")) != MLOPS_OK)
        return rc;
    if (!mlops__json_is_object(json)) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "session options: $ must be an object");
        goto out;
    }
    if ((rc = mlops__json_check_keys(json, "$", SUB, keys)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&precision, json, "precision", "$", SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_string(&isa, json, "isa", "$", SUB)) != MLOPS_OK ||
        (rc = mlops__json_opt_int(&threads, json, "threads", "$", SUB, 1, 256)) != MLOPS_OK ||
        (rc = mlops__json_opt_double(&session->auto_tolerance, json, "auto_tolerance", "$", SUB, 0.0, 1.0)) !=
            MLOPS_OK)
        goto out;
    if (precision != NULL) {
        if (strcmp(precision, "fp32") == 0)
            session->precision = PRECISION_FP32;
        else if (strcmp(precision, "int8") == 0)
            session->precision = PRECISION_INT8;
        else if (strcmp(precision, "auto") == 0)
            session->precision = PRECISION_AUTO;
        else {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "session options: $.precision: \"%s\" is not fp32, int8 or auto",
                              precision);
            goto out;
        }
    }
    session->threads = (size_t)threads;
    if (isa != NULL) {
        rc = mlops__isa_parse(&session->isa, isa, "session options: $.isa");
        session->isa_set = rc == MLOPS_OK;
    }
out:
    mlops__json_free(json);
    return rc;
}

/* ---- helpers ------------------------------------------------------------------------- */
/* The int8 kernel: the one the options named or the layers use, else the best here (or MLOPS_ISA). */
static int session_isa(mlops__isa *out, const mlops_session *session)
{
    if (session->isa_set) {
        *out = session->isa;
        return MLOPS_OK;
    }
    return mlops__isa_select(out);
}

static int is_linear(const mlops__step *step)
{
    return step->op == MLOPS__OP_LINEAR;
}

static int pack_layer(mlops__qlinear **out, const mlops__linear *layer, mlops__isa isa)
{
    return mlops__qlinear_pack(out, layer->w, layer->k, layer->n, layer->n, 0, layer->bias, layer->epilogue, isa);
}

/* Claim a run context: a free slot (created on first use), or a temporary one when all are busy. */
static int ctx_acquire(mlops__ctx **out, int *slot_out, const mlops_session *session)
{
    mlops_session *s = (mlops_session *)session; /* slots are the only mutable part, guarded by `busy` */
    int i, rc;
    for (i = 0; i < SLOTS; i++) {
        if (atomic_load_explicit(&s->busy[i], memory_order_relaxed) == 0 &&
            atomic_exchange_explicit(&s->busy[i], 1, memory_order_acquire) == 0) {
            if (s->slot[i] == NULL && (rc = mlops__ctx_new(&s->slot[i], s->graph, s->threads)) != MLOPS_OK) {
                atomic_store_explicit(&s->busy[i], 0, memory_order_release);
                return rc;
            }
            *out = s->slot[i];
            *slot_out = i;
            return MLOPS_OK;
        }
    }
    *slot_out = -1;
    return mlops__ctx_new(out, s->graph, s->threads);
}

static void ctx_release(const mlops_session *session, mlops__ctx *ctx, int slot)
{
    mlops_session *s = (mlops_session *)session;
    if (slot < 0)
        mlops__ctx_free(ctx);
    else
        atomic_store_explicit(&s->busy[slot], 0, memory_order_release);
}

mlops__tensor mlops__session_input(const mlops_session *session, const float *data, size_t rows)
{
    mlops__tensor t = session->graph->values[session->graph->inputs[0]].t;
    int32_t d;
    for (d = 0; d < t.rank; d++)
        if (t.dims[d] < 0)
            t.dims[d] = (int64_t)rows;
    t.data = (void *)data;
    return t;
}

static size_t float_width(const mlops__tensor *t, int skip_first)
{
    size_t width = 1;
    int32_t d;
    for (d = skip_first ? 1 : 0; d < t->rank; d++)
        width *= (size_t)(t->dims[d] < 0 ? 1 : t->dims[d]);
    return width;
}

/* The frame's numeric columns, in order, as rows x width floats (mlops__free). */
static int frame_rows(float **out, size_t *rows_out, const mlops_session *session, const mlops_frame *frame)
{
    size_t n_cols = mlops_frame_columns(frame), n = 0, i, width = 0, rows = mlops_frame_rows(frame);
    const char **names = mlops__calloc(n_cols + 1, sizeof *names);
    float *data = NULL;
    int rc;
    *out = NULL;
    if (names == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading a frame");
    for (i = 0; i < n_cols; i++)
        if (mlops_frame_column_type(frame, i) != MLOPS_TYPE_STRING)
            names[n++] = mlops_frame_column_name(frame, i);
    if ((rc = mlops_frame_to_matrix(NULL, 0, &width, frame, names, n, MLOPS_MATRIX_NULLS_REFUSE)) != MLOPS_OK &&
        rc != MLOPS_EBUFSIZE)
        goto out;
    if (width != session->input_width) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "the frame's numeric columns make rows of %zu values, the model's input "
                          "takes %zu", width, session->input_width);
        goto out;
    }
    if (rows == 0) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "the frame has no rows");
        goto out;
    }
    data = mlops__malloc(rows * width * sizeof *data);
    if (data == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu x %zu floats", rows, width);
        goto out;
    }
    if ((rc = mlops_frame_to_matrix(data, rows * width, NULL, frame, names, n, MLOPS_MATRIX_NULLS_REFUSE)) !=
        MLOPS_OK)
        goto out;
    *out = data;
    *rows_out = rows;
    data = NULL;
out:
    mlops__free(data);
    mlops__free(names);
    return rc;
}

/* Error of `got` against `ref` over n floats: max and sum of absolute errors, squared error and reference. */
typedef struct error_sums {
    double max_abs, sum_abs, sum_sq, ref_sq;
    size_t count;
} error_sums;

static void error_add(error_sums *e, const float *ref, const float *got, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++) {
        double d = fabs((double)got[i] - (double)ref[i]);
        if (d > e->max_abs || d != d)
            e->max_abs = d;
        e->sum_abs += d;
        e->sum_sq += d * d;
        e->ref_sq += (double)ref[i] * ref[i];
    }
    e->count += n;
}

static double error_relative_rms(const error_sums *e)
{
    return e->ref_sq > 0 ? sqrt(e->sum_sq / e->ref_sq) : (e->sum_sq > 0 ? INFINITY : 0.0);
}

/*
 * Each linear layer's own int8 error, given the fp32 inputs held by `ctx` after
 * an fp32 run: run `packs[s]` on the layer's input and compare with its output.
 */
static int layer_errors(error_sums *errors, const mlops__graph *graph, const mlops__ctx *ctx,
                        mlops__qlinear *const *packs)
{
    size_t s;
    int rc = MLOPS_OK;
    float *y = NULL;
    void *scratch = NULL;
    for (s = 0; s < graph->n_steps && rc == MLOPS_OK; s++) {
        const mlops__step *step = &graph->steps[s];
        const mlops__tensor *x, *ref;
        size_t m;
        if (!is_linear(step) || packs[s] == NULL)
            continue;
        x = mlops__ctx_value(ctx, (size_t)step->in[0]);
        ref = mlops__ctx_value(ctx, (size_t)step->out[0]);
        m = (size_t)mlops__tensor_count(x) / step->linear->k;
        y = mlops__malloc(m * step->linear->n * sizeof *y + 1);
        scratch = mlops__malloc(mlops__qlinear_scratch_bytes(packs[s], m) + 1);
        if (y == NULL || scratch == NULL)
            rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory measuring layer errors");
        else
            rc = mlops__qlinear_run(packs[s], (const float *)x->data, m, step->linear->k, y, step->linear->n, scratch);
        if (rc == MLOPS_OK)
            error_add(&errors[s], (const float *)ref->data, y, m * step->linear->n);
        mlops__free(y);
        mlops__free(scratch);
        y = NULL;
        scratch = NULL;
    }
    return rc;
}

/* Packs for every linear layer: the session's own, or new ones (recorded in `owned`). */
static int all_packs(mlops__qlinear **packs, int *owned, mlops__isa *isa, const mlops_session *session)
{
    const mlops__graph *graph = session->graph;
    size_t s;
    int rc;
    if ((rc = session_isa(isa, session)) != MLOPS_OK)
        return rc;
    for (s = 0; s < graph->n_steps; s++) {
        if (!is_linear(&graph->steps[s]))
            continue;
        packs[s] = graph->steps[s].linear->q;
        if (packs[s] == NULL) {
            if ((rc = pack_layer(&packs[s], graph->steps[s].linear, *isa)) != MLOPS_OK)
                return rc;
            owned[s] = 1;
        }
    }
    return MLOPS_OK;
}

static void free_packs(mlops__qlinear **packs, const int *owned, size_t n)
{
    size_t s;
    if (packs == NULL || owned == NULL)
        return;
    for (s = 0; s < n; s++)
        if (owned[s])
            mlops__qlinear_free(packs[s]);
}

/* ---- precision ------------------------------------------------------------------------ */
/* Keep int8 for the layers whose relative RMS error on the calibration rows is within tolerance. */
static int choose_auto(mlops_session *session, const float *rows_data, size_t rows)
{
    mlops__graph *graph = session->graph;
    mlops__qlinear **packs = mlops__calloc(graph->n_steps + 1, sizeof(mlops__qlinear *));
    error_sums *errors = mlops__calloc(graph->n_steps + 1, sizeof *errors);
    mlops__ctx *ctx = NULL;
    size_t s;
    mlops__tensor input;
    int rc;
    if (packs == NULL || errors == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory calibrating");
        goto out;
    }
    for (s = 0; s < graph->n_steps; s++)
        packs[s] = is_linear(&graph->steps[s]) ? graph->steps[s].linear->q : NULL;
    input = mlops__session_input(session, rows_data, rows);
    if ((rc = mlops__ctx_new(&ctx, graph, 1)) != MLOPS_OK ||
        (rc = mlops__ctx_run(ctx, graph, &input, MLOPS__MODE_FP32, NULL)) != MLOPS_OK ||
        (rc = layer_errors(errors, graph, ctx, packs)) != MLOPS_OK)
        goto out;
    for (s = 0; s < graph->n_steps; s++) {
        mlops__linear *layer = graph->steps[s].linear;
        if (!is_linear(&graph->steps[s]))
            continue;
        layer->calib_error = error_relative_rms(&errors[s]);
        if (!(layer->calib_error <= session->auto_tolerance)) {
            mlops__qlinear_free(layer->q);
            layer->q = NULL;
            session->int8_layers--;
        }
    }
out:
    mlops__ctx_free(ctx);
    mlops__free(packs);
    mlops__free(errors);
    return rc;
}

static int set_precision(mlops_session *session, const mlops_frame *calibration)
{
    mlops__graph *graph = session->graph;
    float *rows_data = NULL;
    size_t rows = 0, s;
    int rc = MLOPS_OK;
    if (session->precision == PRECISION_FP32)
        return MLOPS_OK;
    if (session->precision == PRECISION_AUTO) {
        if (calibration == NULL)
            return mlops__error(MLOPS_EINVAL, SUB, "precision \"auto\" needs a calibration frame");
        if (frame_rows(&rows_data, &rows, session, calibration) != MLOPS_OK)
            return mlops__error_prefix("calibration frame");
    }
    if ((rc = session_isa(&session->isa, session)) != MLOPS_OK)
        goto out;
    session->isa_set = 1;
    for (s = 0; s < graph->n_steps; s++) {
        if (!is_linear(&graph->steps[s]))
            continue;
        if ((rc = pack_layer(&graph->steps[s].linear->q, graph->steps[s].linear, session->isa)) != MLOPS_OK) {
            mlops__error_prefix("node \"%s\" (Linear)", graph->steps[s].name);
            goto out;
        }
        session->int8_layers++;
    }
    if (session->precision == PRECISION_AUTO)
        rc = choose_auto(session, rows_data, rows);
out:
    mlops__free(rows_data);
    return rc;
}

/* The widths the single-input run uses; models with other inputs leave them 0. */
static int describe_io(mlops_session *session)
{
    mlops__graph *graph = session->graph;
    const mlops__tensor *in, *out;
    int32_t d;
    if (graph->n_inputs != 1)
        return MLOPS_OK;
    in = &graph->values[graph->inputs[0]].t;
    out = &graph->values[graph->outputs[0]].t;
    if (in->dtype != MLOPS__DT_FLOAT || in->rank < 1)
        return MLOPS_OK;
    for (d = 1; d < in->rank; d++)
        if (in->dims[d] < 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB,
                                "input \"%s\": dimension %d is symbolic; only the first (batch) dimension may be",
                                graph->values[graph->inputs[0]].name, d);
    session->input_width = float_width(in, 1);
    session->output_width = float_width(out, graph->values[graph->inputs[0]].batch && out->rank > 0);
    return MLOPS_OK;
}

/* ---- public API ------------------------------------------------------------------------- */
int mlops_session_open(mlops_session **out, const void *onnx, size_t len, const char *options_json,
                       const mlops_frame *calibration)
{
    mlops_session *session = NULL;
    int rc, i;
    if (out == NULL || onnx == NULL)
        return mlops__error_null(SUB, "mlops_session_open", out == NULL ? "out" : "onnx");
    *out = NULL;
    session = mlops__calloc(1, sizeof *session);
    if (session == NULL)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for a session");
    for (i = 0; i < SLOTS; i++)
        atomic_init(&session->busy[i], 0);
    if ((rc = parse_options(session, options_json)) != MLOPS_OK)
        goto out_free;
    if ((rc = mlops__onnx_import(&session->graph, onnx, len, NULL, 0)) != MLOPS_OK ||
        (rc = mlops__plan_compile(session->graph)) != MLOPS_OK || (rc = describe_io(session)) != MLOPS_OK) {
        mlops__error_prefix("ONNX model");
        goto out_free;
    }
    if ((rc = set_precision(session, calibration)) != MLOPS_OK)
        goto out_free;
    *out = session;
    return MLOPS_OK;
out_free:
    mlops_session_free(session);
    return rc;
}

int mlops_session_open_file(mlops_session **out, const char *path, const char *options_json,
                            const mlops_frame *calibration)
{
    char *bytes = NULL;
    size_t len = 0;
    int rc;
    if (out == NULL || path == NULL)
        return mlops__error_null(SUB, "mlops_session_open_file", out == NULL ? "out" : "path");
    *out = NULL;
    if ((rc = mlops__read_file(&bytes, &len, path, MLOPS__MAX_MODEL_BYTES, SUB, "model file")) != MLOPS_OK)
        return rc;
    rc = mlops_session_open(out, bytes, len, options_json, calibration);
    if (rc != MLOPS_OK)
        mlops__error_prefix("\"%s\"", path);
    mlops__free(bytes);
    return rc;
}

static void free_feature_names(mlops_session *session)
{
    size_t i;
    if (session->feature_names != NULL)
        for (i = 0; i < session->input_width; i++)
            mlops__free(session->feature_names[i]);
    mlops__free(session->feature_names);
    session->feature_names = NULL;
}

int mlops__session_set_feature_names(mlops_session *session, const mlops__json *names)
{
    size_t i, n = session->input_width;
    free_feature_names(session);
    if (n == 0 || !mlops__json_is_array(names) || mlops__json_array_size(names) != n)
        return MLOPS_OK;
    for (i = 0; i < n; i++)
        if (!mlops__json_is_string(mlops__json_at(names, i)))
            return MLOPS_OK;
    session->feature_names = mlops__calloc(n, sizeof *session->feature_names);
    for (i = 0; session->feature_names != NULL && i < n; i++) {
        session->feature_names[i] = mlops__strdup(mlops__json_string(mlops__json_at(names, i)));
        if (session->feature_names[i] == NULL)
            break;
    }
    if (session->feature_names == NULL || i < n) {
        free_feature_names(session);
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu feature names", n);
    }
    return MLOPS_OK;
}

void mlops_session_free(mlops_session *session)
{
    int i;
    if (session == NULL)
        return;
    for (i = 0; i < SLOTS; i++)
        mlops__ctx_free(session->slot[i]);
    free_feature_names(session);
    mlops__graph_free(session->graph);
    mlops__free(session);
}

/* Copy a value into caller floats. */
static void to_floats(float *out, const mlops__tensor *t)
{
    size_t n = (size_t)mlops__tensor_count(t), i;
    if (t->dtype == MLOPS__DT_FLOAT) {
        memcpy(out, t->data, n * sizeof *out);
        return;
    }
    for (i = 0; i < n; i++) {
        switch (t->dtype) {
        case MLOPS__DT_DOUBLE: out[i] = (float)((const double *)t->data)[i]; break;
        case MLOPS__DT_INT64: out[i] = (float)((const int64_t *)t->data)[i]; break;
        case MLOPS__DT_INT32: out[i] = (float)((const int32_t *)t->data)[i]; break;
        case MLOPS__DT_INT8: out[i] = (float)((const int8_t *)t->data)[i]; break;
        default: out[i] = (float)((const uint8_t *)t->data)[i]; break;
        }
    }
}

int mlops_session_run(const mlops_session *session, const float *input, size_t rows, float *output,
                      size_t capacity)
{
    mlops__ctx *ctx;
    mlops__tensor in;
    const mlops__tensor *result;
    int slot, rc;
    if (session == NULL || (input == NULL && rows > 0) || output == NULL)
        return mlops__error_null(SUB, "mlops_session_run", session == NULL ? "session" : input == NULL ? "input" : "output");
    if (session->input_width == 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "mlops_session_run: the model does not have exactly one float input");
    if (rows == 0 || rows > (size_t)INT32_MAX)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_session_run: rows must be 1 to %d", INT32_MAX);
    in = mlops__session_input(session, input, rows);
    if (!session->graph->values[session->graph->inputs[0]].batch && in.rank > 0 && (size_t)in.dims[0] != rows)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_session_run: the model's input has a fixed batch of %lld rows",
                            (long long)in.dims[0]);
    if ((rc = ctx_acquire(&ctx, &slot, session)) != MLOPS_OK)
        return rc;
    rc = mlops__ctx_run(ctx, session->graph, &in, MLOPS__MODE_PLAN, NULL);
    if (rc == MLOPS_OK) {
        result = mlops__ctx_value(ctx, (size_t)session->graph->outputs[0]);
        if ((size_t)mlops__tensor_count(result) > capacity)
            rc = mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_session_run: the output needs %lld floats, capacity is %zu",
                              (long long)mlops__tensor_count(result), capacity);
        else
            to_floats(output, result);
    }
    ctx_release(session, ctx, slot);
    return rc;
}

const mlops__graph *mlops__session_graph(const mlops_session *session)
{
    return session->graph;
}

size_t mlops_session_input_count(const mlops_session *session)
{
    return session != NULL ? session->graph->n_inputs : 0;
}

size_t mlops_session_output_count(const mlops_session *session)
{
    return session != NULL ? session->graph->n_outputs : 0;
}

const char *mlops_session_input_name(const mlops_session *session, size_t index)
{
    if (session == NULL || index >= session->graph->n_inputs)
        return NULL;
    return session->graph->values[session->graph->inputs[index]].name;
}

const char *mlops_session_output_name(const mlops_session *session, size_t index)
{
    if (session == NULL || index >= session->graph->n_outputs)
        return NULL;
    return session->graph->values[session->graph->outputs[index]].name;
}

static int shape_out(int64_t *dims, size_t capacity, size_t *rank_out, const mlops__tensor *t, int batch)
{
    int32_t d;
    *rank_out = (size_t)t->rank;
    if ((size_t)t->rank > capacity)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "the shape has %d dimensions, capacity is %zu", t->rank, capacity);
    for (d = 0; d < t->rank; d++)
        dims[d] = (d == 0 && batch) ? -1 : t->dims[d];
    return MLOPS_OK;
}

int mlops_session_input_shape(int64_t *dims, size_t capacity, size_t *rank_out, const mlops_session *session,
                              size_t index)
{
    const mlops__value *value;
    if (dims == NULL || rank_out == NULL || session == NULL)
        return mlops__error_null(SUB, "mlops_session_input_shape", dims == NULL ? "dims" : rank_out == NULL ? "rank_out" : "session");
    if (index >= session->graph->n_inputs)
        return mlops__error(MLOPS_EINVAL, SUB, "input %zu out of range (%zu inputs)", index, session->graph->n_inputs);
    value = &session->graph->values[session->graph->inputs[index]];
    return shape_out(dims, capacity, rank_out, &value->t, value->batch);
}

/* Whether output `index` follows the batch of the model's single batched input. */
static int output_batch(const mlops__graph *graph, size_t index)
{
    return graph->n_inputs == 1 && graph->values[graph->inputs[0]].batch && !graph->values[graph->outputs[index]].is_const;
}

int mlops_session_output_shape(int64_t *dims, size_t capacity, size_t *rank_out, const mlops_session *session,
                               size_t index)
{
    const mlops__graph *graph;
    if (dims == NULL || rank_out == NULL || session == NULL)
        return mlops__error_null(SUB, "mlops_session_output_shape", dims == NULL ? "dims" : rank_out == NULL ? "rank_out" : "session");
    graph = session->graph;
    if (index >= graph->n_outputs)
        return mlops__error(MLOPS_EINVAL, SUB, "output %zu out of range (%zu outputs)", index, graph->n_outputs);
    return shape_out(dims, capacity, rank_out, &graph->values[graph->outputs[index]].t, output_batch(graph, index));
}

size_t mlops_session_input_width(const mlops_session *session)
{
    return session != NULL ? session->input_width : 0;
}

size_t mlops_session_output_width(const mlops_session *session)
{
    return session != NULL ? session->output_width : 0;
}

const char *mlops_session_feature_name(const mlops_session *session, size_t index)
{
    if (session == NULL || session->feature_names == NULL || index >= session->input_width)
        return NULL;
    return session->feature_names[index];
}

const char *mlops_session_kernel(const mlops_session *session)
{
    if (session == NULL)
        return NULL;
    return session->int8_layers > 0 ? mlops__isa_name(session->isa) : "fp32";
}

static const char *act_name(mlops__act act)
{
    static const char *const names[] = {"none", "relu", "leaky_relu", "sigmoid", "tanh", "gelu", "clip"};
    return (size_t)act < sizeof names / sizeof names[0] ? names[act] : "?";
}

int mlops_session_plan(char **out, const mlops_session *session)
{
    mlops__buf buf;
    size_t s;
    int rc;
    if (out == NULL || session == NULL)
        return mlops__error_null(SUB, "mlops_session_plan", out == NULL ? "out" : "session");
    *out = NULL;
    mlops__buf_init(&buf);
    mlops__buf_printf(&buf, "{\"opset\":%lld,\"kernel\":", (long long)session->graph->opset);
    mlops__buf_json_string(&buf, mlops_session_kernel(session));
    mlops__buf_puts(&buf, ",\"steps\":[");
    for (s = 0; s < session->graph->n_steps; s++) {
        const mlops__step *step = &session->graph->steps[s];
        mlops__buf_puts(&buf, s > 0 ? ",{\"op\":" : "{\"op\":");
        mlops__buf_json_string(&buf, mlops__op_name(step->op));
        mlops__buf_puts(&buf, ",\"nodes\":");
        mlops__buf_json_string(&buf, step->fused != NULL ? step->fused : step->name);
        if (is_linear(step)) {
            char error[40] = "null";
            if (step->linear->calib_error >= 0)
                mlops__format_double(error, sizeof error, step->linear->calib_error);
            mlops__buf_printf(&buf, ",\"precision\":\"%s\",\"k\":%zu,\"n\":%zu,\"activation\":\"%s\","
                              "\"calibration_error\":%s}",
                              step->linear->q != NULL ? "int8" : "fp32", step->linear->k, step->linear->n,
                              act_name(step->linear->epilogue.act), error);
        } else {
            mlops__buf_puts(&buf, ",\"precision\":\"fp32\"}");
        }
    }
    mlops__buf_puts(&buf, "]}");
    if ((rc = mlops__buf_status(&buf, SUB)) != MLOPS_OK) {
        mlops__buf_free(&buf);
        return rc;
    }
    *out = mlops__buf_detach(&buf, NULL);
    return MLOPS_OK;
}

/* Element type names of signatures: numpy's spelling, as the trainer registers them. */
static const char *signature_type(int32_t dtype)
{
    switch (dtype) {
    case MLOPS__DT_FLOAT: return "float32";
    case MLOPS__DT_DOUBLE: return "float64";
    default: return mlops__dtype_name(dtype);
    }
}

/*
 * {"name", "type", "shape"} of one graph input or output; -1 marks the batch
 * dimension. With `features` (count names, or NULL) the entry adds "features".
 */
static void signature_entry(mlops__buf *buf, const mlops__value *value, int batch, char *const *features,
                            size_t count)
{
    int32_t d;
    size_t i;
    mlops__buf_puts(buf, "{\"name\":");
    mlops__buf_json_string(buf, value->name);
    mlops__buf_printf(buf, ",\"type\":\"%s\",\"shape\":[", signature_type(value->t.dtype));
    for (d = 0; d < value->t.rank; d++)
        mlops__buf_printf(buf, "%s%lld", d > 0 ? "," : "", (d == 0 && batch) ? -1LL : (long long)value->t.dims[d]);
    mlops__buf_putc(buf, ']');
    if (features != NULL) {
        mlops__buf_puts(buf, ",\"features\":[");
        for (i = 0; i < count; i++) {
            if (i > 0)
                mlops__buf_putc(buf, ',');
            mlops__buf_json_string(buf, features[i]);
        }
        mlops__buf_putc(buf, ']');
    }
    mlops__buf_putc(buf, '}');
}

int mlops_session_signature(char **out, const mlops_session *session)
{
    const mlops__graph *graph;
    mlops__buf buf;
    size_t i;
    int rc;
    if (out == NULL)
        return mlops__error_null(SUB, "mlops_session_signature", "out");
    *out = NULL;
    if (session == NULL)
        return mlops__error_null(SUB, "mlops_session_signature", "session");
    graph = session->graph;
    mlops__buf_init(&buf);
    mlops__buf_puts(&buf, "{\"inputs\":[");
    for (i = 0; i < graph->n_inputs; i++) {
        const mlops__value *value = &graph->values[graph->inputs[i]];
        if (i > 0)
            mlops__buf_putc(&buf, ',');
        signature_entry(&buf, value, value->batch, i == 0 ? session->feature_names : NULL, session->input_width);
    }
    mlops__buf_puts(&buf, "],\"outputs\":[");
    for (i = 0; i < graph->n_outputs; i++) {
        if (i > 0)
            mlops__buf_putc(&buf, ',');
        signature_entry(&buf, &graph->values[graph->outputs[i]], output_batch(graph, i), NULL, 0);
    }
    mlops__buf_puts(&buf, "]}");
    if ((rc = mlops__buf_status(&buf, SUB)) != MLOPS_OK) {
        mlops__buf_free(&buf);
        return rc;
    }
    *out = mlops__buf_detach(&buf, NULL);
    return MLOPS_OK;
}

static void put_double(mlops__buf *buf, const char *key, double value)
{
    char text[40];
    if (isfinite(value))
        mlops__format_double(text, sizeof text, value);
    else
        snprintf(text, sizeof text, "null");
    mlops__buf_printf(buf, "\"%s\":%s", key, text);
}

/* Share of rows whose argmax over `width` values agrees. */
static double top1_agreement(const float *a, const float *b, size_t rows, size_t width)
{
    size_t r, j, agree = 0;
    for (r = 0; r < rows; r++) {
        size_t ia = 0, ib = 0;
        for (j = 1; j < width; j++) {
            if (a[r * width + j] > a[r * width + ia])
                ia = j;
            if (b[r * width + j] > b[r * width + ib])
                ib = j;
        }
        agree += ia == ib;
    }
    return rows > 0 ? (double)agree / (double)rows : 0.0;
}

static void report_json(mlops__buf *buf, const mlops_session *session, mlops__isa isa, const mlops__ctx *ref,
                        const mlops__ctx *quant, const error_sums *layers, size_t rows)
{
    const mlops__graph *graph = session->graph;
    size_t i, s;
    int first = 1;
    const mlops__tensor *a = mlops__ctx_value(ref, (size_t)graph->outputs[0]);
    const mlops__tensor *b = mlops__ctx_value(quant, (size_t)graph->outputs[0]);
    mlops__buf_printf(buf, "{\"rows\":%zu,\"kernel\":", rows);
    mlops__buf_json_string(buf, mlops__isa_name(isa));
    mlops__buf_putc(buf, ',');
    put_double(buf, "top1_agreement",
               a->dtype == MLOPS__DT_FLOAT && a->rank >= 1
                   ? top1_agreement(a->data, b->data, (size_t)mlops__tensor_count(a) / (size_t)a->dims[a->rank - 1],
                                    (size_t)a->dims[a->rank - 1])
                   : NAN);
    mlops__buf_puts(buf, ",\"outputs\":[");
    for (i = 0; i < graph->n_outputs; i++) {
        error_sums e = {0, 0, 0, 0, 0};
        a = mlops__ctx_value(ref, (size_t)graph->outputs[i]);
        b = mlops__ctx_value(quant, (size_t)graph->outputs[i]);
        if (a->dtype == MLOPS__DT_FLOAT)
            error_add(&e, a->data, b->data, (size_t)mlops__tensor_count(a));
        mlops__buf_puts(buf, i > 0 ? ",{\"name\":" : "{\"name\":");
        mlops__buf_json_string(buf, graph->values[graph->outputs[i]].name);
        mlops__buf_putc(buf, ',');
        put_double(buf, "max_abs_error", e.max_abs);
        mlops__buf_putc(buf, ',');
        put_double(buf, "mean_abs_error", e.count > 0 ? e.sum_abs / (double)e.count : 0.0);
        mlops__buf_putc(buf, '}');
    }
    mlops__buf_puts(buf, "],\"layers\":[");
    for (s = 0; s < graph->n_steps; s++) {
        const mlops__step *step = &graph->steps[s];
        if (!is_linear(step))
            continue;
        mlops__buf_puts(buf, first ? "{\"nodes\":" : ",{\"nodes\":");
        first = 0;
        mlops__buf_json_string(buf, step->fused);
        mlops__buf_printf(buf, ",\"precision\":\"%s\",", step->linear->q != NULL ? "int8" : "fp32");
        put_double(buf, "max_abs_error", layers[s].max_abs);
        mlops__buf_putc(buf, ',');
        put_double(buf, "mean_abs_error", layers[s].count > 0 ? layers[s].sum_abs / (double)layers[s].count : 0.0);
        mlops__buf_putc(buf, ',');
        put_double(buf, "relative_rms_error", error_relative_rms(&layers[s]));
        mlops__buf_putc(buf, '}');
    }
    mlops__buf_puts(buf, "]}");
}

int mlops_session_accuracy(char **out, const mlops_session *session, const mlops_frame *frame)
{
    const mlops__graph *graph;
    mlops__qlinear **packs = NULL;
    int *owned = NULL;
    error_sums *layers = NULL;
    mlops__ctx *ref = NULL, *quant = NULL;
    float *rows_data = NULL;
    size_t rows = 0;
    mlops__tensor input;
    mlops__buf buf;
    mlops__isa isa = MLOPS__ISA_REF;
    int rc;
    if (out == NULL || session == NULL || frame == NULL)
        return mlops__error_null(SUB, "mlops_session_accuracy", out == NULL ? "out" : session == NULL ? "session" : "frame");
    *out = NULL;
    graph = session->graph;
    mlops__buf_init(&buf);
    if (session->input_width == 0) {
        rc = mlops__error(MLOPS_EUNSUPPORTED, SUB, "mlops_session_accuracy: the model does not have exactly one float input");
        goto out;
    }
    packs = mlops__calloc(graph->n_steps + 1, sizeof(mlops__qlinear *));
    owned = mlops__calloc(graph->n_steps + 1, sizeof *owned);
    layers = mlops__calloc(graph->n_steps + 1, sizeof *layers);
    if (packs == NULL || owned == NULL || layers == NULL) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the accuracy report");
        goto out;
    }
    if ((rc = frame_rows(&rows_data, &rows, session, frame)) != MLOPS_OK || (rc = all_packs(packs, owned, &isa, session)) != MLOPS_OK)
        goto out;
    input = mlops__session_input(session, rows_data, rows);
    if ((rc = mlops__ctx_new(&ref, graph, 1)) != MLOPS_OK || (rc = mlops__ctx_new(&quant, graph, session->threads)) != MLOPS_OK ||
        (rc = mlops__ctx_run(ref, graph, &input, MLOPS__MODE_FP32, NULL)) != MLOPS_OK ||
        (rc = mlops__ctx_run(quant, graph, &input, MLOPS__MODE_INT8, packs)) != MLOPS_OK ||
        (rc = layer_errors(layers, graph, ref, packs)) != MLOPS_OK)
        goto out;
    report_json(&buf, session, isa, ref, quant, layers, rows);
    if ((rc = mlops__buf_status(&buf, SUB)) != MLOPS_OK)
        goto out;
    *out = mlops__buf_detach(&buf, NULL);
out:
    mlops__buf_free(&buf);
    free_packs(packs, owned, graph != NULL ? graph->n_steps : 0);
    mlops__ctx_free(ref);
    mlops__ctx_free(quant);
    mlops__free(rows_data);
    mlops__free(packs);
    mlops__free(owned);
    mlops__free(layers);
    return rc;
}
