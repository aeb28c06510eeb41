/*
 * Sessions: the digits MLP exported from PyTorch (fp32 against PyTorch's own
 * logits, int8 top-1 agreement against fp32), precision choice, introspection,
 * runs from several threads at once, allocation-free warm runs, malformed
 * models refused with the node and op named, option errors, and allocation
 * failures during open. Malformed models are built here with the protobuf-c
 * code generated from onnx.proto.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "onnx.pb-c.h"

#define DIGITS_ROWS 450
#define PIXELS 64
#define CLASSES 10

/* ---- fixtures ----------------------------------------------------------------- */
static float digits_x[DIGITS_ROWS * PIXELS];
static float digits_logits[DIGITS_ROWS * CLASSES];
static int digits_label[DIGITS_ROWS];
static mlops_frame *digits_frame; /* the pixel columns only */
static char *digits_model;
static size_t digits_model_len;

static int setup(void **state)
{
    mlops_frame *test = NULL, *logits = NULL;
    const char *pixels[PIXELS], *classes[CLASSES];
    char names[PIXELS][8], lnames[CLASSES][8];
    const int64_t *labels;
    size_t i, label_col;
    (void)state;
    for (i = 0; i < PIXELS; i++) {
        snprintf(names[i], sizeof names[i], "p%zu", i);
        pixels[i] = names[i];
    }
    for (i = 0; i < CLASSES; i++) {
        snprintf(lnames[i], sizeof lnames[i], "l%zu", i);
        classes[i] = lnames[i];
    }
    assert_int_equal(mlops_frame_read_csv(&test, ts_data("infer/digits_test.csv"), NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_read_csv(&logits, ts_data("infer/digits_logits.csv"), NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(test), DIGITS_ROWS);
    assert_int_equal(mlops_frame_to_matrix(digits_x, sizeof digits_x / sizeof digits_x[0], NULL, test, pixels, PIXELS,
                                           MLOPS_MATRIX_NULLS_REFUSE),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_to_matrix(digits_logits, sizeof digits_logits / sizeof digits_logits[0], NULL, logits,
                                           classes, CLASSES, MLOPS_MATRIX_NULLS_REFUSE),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_column_index(&label_col, test, "label"), MLOPS_OK);
    assert_int_equal(mlops_frame_column_int64(&labels, test, label_col), MLOPS_OK);
    for (i = 0; i < DIGITS_ROWS; i++)
        digits_label[i] = (int)labels[i];
    assert_int_equal(mlops_frame_select(&digits_frame, test, pixels, PIXELS), MLOPS_OK);
    digits_model = ts_read_file(ts_data("infer/digits_mlp.onnx"), &digits_model_len);
    mlops_frame_free(test);
    mlops_frame_free(logits);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    mlops_frame_free(digits_frame);
    free(digits_model);
    return 0;
}

static size_t argmax(const float *row, size_t n)
{
    size_t j, best = 0;
    for (j = 1; j < n; j++)
        if (row[j] > row[best])
            best = j;
    return best;
}

/* Under MLOPS_ISA naming a kernel this machine lacks, sessions refuse to open: skip the int8 tests. */
static void int8_kernel_or_skip(void)
{
    const char *name;
    if (mlops_gemm_isa_default(&name) != MLOPS_OK) {
        print_message("skipped: %s\n", mlops_error_last()->message);
        skip();
    }
}

static mlops_session *open_digits(const char *options)
{
    mlops_session *session = NULL;
    int rc;
    if (options != NULL && (strstr(options, "int8") != NULL || strstr(options, "auto") != NULL))
        int8_kernel_or_skip();
    rc = mlops_session_open(&session, digits_model, digits_model_len, options, digits_frame);
    if (rc != MLOPS_OK)
        fail_msg("open: %s", mlops_error_last()->message);
    return session;
}

/* ---- the digits MLP -------------------------------------------------------------- */
static void test_digits_fp32_matches_pytorch(void **state)
{
    mlops_session *session;
    static float out[DIGITS_ROWS * CLASSES];
    size_t i, correct = 0;
    (void)state;
    assert_int_equal(mlops_session_open_file(&session, ts_data("infer/digits_mlp.onnx"), "{\"precision\":\"fp32\"}",
                                             NULL),
                     MLOPS_OK);
    assert_string_equal(mlops_session_kernel(session), "fp32");
    assert_int_equal(mlops_session_run(session, digits_x, DIGITS_ROWS, out, DIGITS_ROWS * CLASSES), MLOPS_OK);
    for (i = 0; i < DIGITS_ROWS * CLASSES; i++)
        assert_true(fabsf(out[i] - digits_logits[i]) <= 1e-4f + 1e-5f * fabsf(digits_logits[i]));
    for (i = 0; i < DIGITS_ROWS; i++)
        correct += argmax(out + i * CLASSES, CLASSES) == (size_t)digits_label[i];
    assert_true(correct >= DIGITS_ROWS * 95 / 100);
    /* one row at a time (the gemv path) gives the same logits */
    for (i = 0; i < DIGITS_ROWS; i += 37) {
        float row[CLASSES];
        size_t j;
        assert_int_equal(mlops_session_run(session, digits_x + i * PIXELS, 1, row, CLASSES), MLOPS_OK);
        for (j = 0; j < CLASSES; j++)
            assert_true(fabsf(row[j] - digits_logits[i * CLASSES + j]) <= 1e-4f + 1e-5f * fabsf(row[j]));
    }
    mlops_session_free(session);
}

static void test_digits_int8_agrees_with_fp32(void **state)
{
    mlops_session *fp32, *int8;
    static float a[DIGITS_ROWS * CLASSES], b[DIGITS_ROWS * CLASSES];
    size_t i, agree = 0;
    char *report = NULL, *plan = NULL;
    double top1;
    (void)state;
    int8 = open_digits("{\"precision\":\"int8\"}");
    fp32 = open_digits(NULL);
    assert_string_not_equal(mlops_session_kernel(int8), "fp32");
    assert_int_equal(mlops_session_run(fp32, digits_x, DIGITS_ROWS, a, DIGITS_ROWS * CLASSES), MLOPS_OK);
    assert_int_equal(mlops_session_run(int8, digits_x, DIGITS_ROWS, b, DIGITS_ROWS * CLASSES), MLOPS_OK);
    for (i = 0; i < DIGITS_ROWS; i++)
        agree += argmax(a + i * CLASSES, CLASSES) == argmax(b + i * CLASSES, CLASSES);
    assert_true(agree * 1000 >= DIGITS_ROWS * 995u);

    /* the accuracy report says the same */
    assert_int_equal(mlops_session_accuracy(&report, int8, digits_frame), MLOPS_OK);
    top1 = strtod(strstr(report, "\"top1_agreement\":") + strlen("\"top1_agreement\":"), NULL);
    assert_true(fabs(top1 - (double)agree / DIGITS_ROWS) < 1e-9);
    assert_non_null(strstr(report, "\"rows\":450"));
    assert_non_null(strstr(report, "\"name\":\"logits\""));
    assert_non_null(strstr(report, "\"relative_rms_error\":"));
    mlops_free(report);
    /* an fp32 session can report what int8 would cost */
    assert_int_equal(mlops_session_accuracy(&report, fp32, digits_frame), MLOPS_OK);
    assert_non_null(strstr(report, "\"precision\":\"fp32\""));
    mlops_free(report);

    assert_int_equal(mlops_session_plan(&plan, int8), MLOPS_OK);
    assert_non_null(strstr(plan, "\"op\":\"Mul\""));
    assert_non_null(strstr(plan, "{\"op\":\"Linear\",\"nodes\":\"/hidden/Gemm+/Relu\",\"precision\":\"int8\",\"k\":64,"
                                 "\"n\":128,\"activation\":\"relu\""));
    assert_non_null(strstr(plan, "\"nodes\":\"/out/Gemm\",\"precision\":\"int8\",\"k\":128,\"n\":10"));
    mlops_free(plan);
    mlops_session_free(fp32);
    mlops_session_free(int8);
}

static void test_auto_precision_follows_the_tolerance(void **state)
{
    mlops_session *all = open_digits("{\"precision\":\"auto\",\"auto_tolerance\":1}");
    mlops_session *none = open_digits("{\"precision\":\"auto\",\"auto_tolerance\":0}");
    mlops_session *session = NULL;
    char *plan;
    (void)state;
    assert_int_equal(mlops_session_plan(&plan, all), MLOPS_OK);
    assert_null(strstr(plan, "\"precision\":\"fp32\",\"k\""));
    assert_non_null(strstr(plan, "\"calibration_error\":0.0"));
    mlops_free(plan);
    assert_string_equal(mlops_session_kernel(none), "fp32");
    assert_int_equal(mlops_session_plan(&plan, none), MLOPS_OK);
    assert_null(strstr(plan, "\"precision\":\"int8\""));
    mlops_free(plan);
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"precision\":\"auto\"}", NULL),
                    MLOPS_EINVAL, "calibration frame");
    mlops_session_free(all);
    mlops_session_free(none);
}

static void test_introspection(void **state)
{
    mlops_session *session = open_digits(NULL);
    int64_t dims[4];
    size_t rank;
    char *signature = NULL, expected[256];
    (void)state;
    assert_int_equal(mlops_session_input_count(session), 1);
    assert_int_equal(mlops_session_output_count(session), 1);
    assert_string_equal(mlops_session_input_name(session, 0), "pixels");
    assert_string_equal(mlops_session_output_name(session, 0), "logits");
    assert_null(mlops_session_input_name(session, 1));
    assert_null(mlops_session_output_name(session, 1));
    assert_int_equal(mlops_session_input_shape(dims, 4, &rank, session, 0), MLOPS_OK);
    assert_int_equal(rank, 2);
    assert_int_equal(dims[0], -1);
    assert_int_equal(dims[1], PIXELS);
    assert_int_equal(mlops_session_output_shape(dims, 4, &rank, session, 0), MLOPS_OK);
    assert_int_equal(rank, 2);
    assert_int_equal(dims[0], -1);
    assert_int_equal(dims[1], CLASSES);
    ts_assert_error(mlops_session_output_shape(dims, 1, &rank, session, 0), MLOPS_EBUFSIZE, "capacity");
    ts_assert_error(mlops_session_input_shape(dims, 4, &rank, session, 3), MLOPS_EINVAL, "out of range");
    assert_int_equal(mlops_session_input_width(session), PIXELS);
    assert_int_equal(mlops_session_output_width(session), CLASSES);
    assert_int_equal(mlops_session_signature(&signature, session), MLOPS_OK);
    snprintf(expected, sizeof expected,
             "{\"inputs\":[{\"name\":\"pixels\",\"type\":\"float32\",\"shape\":[-1,%d]}],"
             "\"outputs\":[{\"name\":\"logits\",\"type\":\"float32\",\"shape\":[-1,%d]}]}",
             PIXELS, CLASSES);
    assert_string_equal(signature, expected);
    ts_assert_error(mlops_session_signature(NULL, session), MLOPS_EINVAL, "out");
    mlops_free(signature);
    ts_assert_error(mlops_session_signature(&signature, NULL), MLOPS_EINVAL, "session");
    assert_null(signature);
    mlops_session_free(session);
}

/* ---- threads ------------------------------------------------------------------------ */
typedef struct worker {
    const mlops_session *session;
    const float *expected; /* all rows run at once, single thread */
    int seed, failures;
    int exact;             /* 0: fp32, where BLAS may round a batch differently from one row */
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    float out[64 * CLASSES];
    int iter;
    unsigned seed = (unsigned)w->seed;
    for (iter = 0; iter < 150; iter++) {
        size_t rows = 1 + (size_t)(rand_r(&seed) % 64), start = (size_t)(rand_r(&seed) % (DIGITS_ROWS - rows));
        size_t i;
        if (mlops_session_run(w->session, digits_x + start * PIXELS, rows, out, sizeof out / sizeof out[0]) != MLOPS_OK) {
            w->failures++;
            continue;
        }
        for (i = 0; i < rows * CLASSES; i++) {
            float want = w->expected[start * CLASSES + i];
            if (w->exact ? out[i] != want : !(fabsf(out[i] - want) <= 1e-5f * (1.0f + fabsf(want))))
                w->failures++;
        }
    }
    return NULL;
}

/* Rows are independent, and int8 results do not depend on the batch, so every slice equals the full run's. */
static void run_threads(const char *options, int exact)
{
    mlops_session *session = open_digits(options);
    static float expected[DIGITS_ROWS * CLASSES];
    pthread_t threads[4];
    worker workers[4];
    int t;
    assert_int_equal(mlops_session_run(session, digits_x, DIGITS_ROWS, expected, DIGITS_ROWS * CLASSES), MLOPS_OK);
    for (t = 0; t < 4; t++) {
        workers[t].session = session;
        workers[t].expected = expected;
        workers[t].seed = t + 1;
        workers[t].failures = 0;
        workers[t].exact = exact;
        assert_int_equal(pthread_create(&threads[t], NULL, run_worker, &workers[t]), 0);
    }
    for (t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(workers[t].failures, 0);
    }
    mlops_session_free(session);
}

static void test_runs_from_several_threads(void **state)
{
    (void)state;
    run_threads("{\"precision\":\"int8\"}", 1);
    run_threads("{\"precision\":\"int8\",\"threads\":2}", 1);
    run_threads("{\"precision\":\"fp32\"}", 0);
}

static void test_warm_runs_allocate_nothing(void **state)
{
    mlops_session *session;
    static float out[DIGITS_ROWS * CLASSES];
    (void)state;
    int8_kernel_or_skip();
    ts_alloc_install();
    session = open_digits("{\"precision\":\"int8\"}");
    assert_int_equal(mlops_session_run(session, digits_x, DIGITS_ROWS, out, DIGITS_ROWS * CLASSES), MLOPS_OK);
    ts_alloc_fail_at(1);
    assert_int_equal(mlops_session_run(session, digits_x, DIGITS_ROWS, out, DIGITS_ROWS * CLASSES), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, digits_x, 1, out, CLASSES), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, digits_x, 17, out, 17 * CLASSES), MLOPS_OK);
    assert_false(ts_alloc_failure_hit());
    ts_alloc_fail_at(0);
    mlops_session_free(session);
    assert_int_equal(ts_alloc_live(), 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
}

/* ---- errors ------------------------------------------------------------------------------ */
static void test_argument_and_option_errors(void **state)
{
    mlops_session *session = NULL, *good = open_digits(NULL);
    float out[CLASSES];
    char *text = NULL;
    (void)state;
    ts_assert_error(mlops_session_open(NULL, digits_model, digits_model_len, NULL, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_session_open(&session, NULL, 0, NULL, NULL), MLOPS_EINVAL, "onnx");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"precison\":\"int8\"}", NULL),
                    MLOPS_EFORMAT, "$.precison");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"precision\":\"fp16\"}", NULL),
                    MLOPS_EFORMAT, "$.precision");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"isa\":\"sse\"}", NULL),
                    MLOPS_EINVAL, "sse");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"threads\":0}", NULL), MLOPS_EFORMAT,
                    "$.threads");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "[1]", NULL), MLOPS_EFORMAT, "$");
    ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{", NULL), MLOPS_EFORMAT, "options");
    assert_null(session);
    ts_assert_error(mlops_session_open_file(&session, ts_path("absent.onnx"), NULL, NULL), MLOPS_ENOTFOUND,
                    "cannot open model file");
    ts_assert_error(mlops_session_open_file(&session, NULL, NULL, NULL), MLOPS_EINVAL, "path");

    ts_assert_error(mlops_session_run(NULL, digits_x, 1, out, CLASSES), MLOPS_EINVAL, "session");
    ts_assert_error(mlops_session_run(good, NULL, 1, out, CLASSES), MLOPS_EINVAL, "input");
    ts_assert_error(mlops_session_run(good, digits_x, 1, NULL, CLASSES), MLOPS_EINVAL, "output");
    ts_assert_error(mlops_session_run(good, digits_x, 0, out, CLASSES), MLOPS_EINVAL, "rows");
    ts_assert_error(mlops_session_run(good, digits_x, 2, out, CLASSES), MLOPS_EBUFSIZE, "20 floats");
    ts_assert_error(mlops_session_plan(NULL, good), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_session_plan(&text, NULL), MLOPS_EINVAL, "session");
    ts_assert_error(mlops_session_accuracy(&text, good, NULL), MLOPS_EINVAL, "frame");
    {
        mlops_frame *narrow = NULL;
        const char *first[] = {"p0", "p1"};
        assert_int_equal(mlops_frame_select(&narrow, digits_frame, first, 2), MLOPS_OK);
        ts_assert_error(mlops_session_accuracy(&text, good, narrow), MLOPS_EINVAL, "rows of 2 values");
        ts_assert_error(mlops_session_open(&session, digits_model, digits_model_len, "{\"precision\":\"auto\"}",
                                           narrow),
                        MLOPS_EINVAL, "calibration frame");
        mlops_frame_free(narrow);
    }
    assert_null(mlops_session_kernel(NULL));
    assert_int_equal(mlops_session_input_count(NULL), 0);
    mlops_session_free(NULL);
    mlops_session_free(good);
}

/* A ModelProto with one float input "x" of shape [N, width], nodes, initializers; packed with mlops-free malloc. */
typedef struct node_spec {
    const char *name, *op, *in[3], *out;
} node_spec;

typedef struct init_spec {
    const char *name;
    int64_t dims[2];
    int external;
    int typed;     /* 1: float_data instead of raw_data */
    int int8;      /* 1: int8 values (raw_data) instead of float */
    int scalar;    /* 1: rank 0, one value */
} init_spec;

/* Initializer values: float ((j % 7) - 3) / 4, or int8 (j % 7) - 3; scalars 0.5 (float) and 1 (int8). */
static int8_t int8_values[4][4096];

static uint8_t *build_model(size_t *len, int64_t opset, int64_t width, const node_spec *nodes, size_t n_nodes,
                            const init_spec *inits, size_t n_inits, const char *output)
{
    Onnx__ModelProto model = ONNX__MODEL_PROTO__INIT;
    Onnx__GraphProto graph = ONNX__GRAPH_PROTO__INIT;
    Onnx__OperatorSetIdProto opset_id = ONNX__OPERATOR_SET_ID_PROTO__INIT, *opsets[1] = {&opset_id};
    Onnx__ValueInfoProto in = ONNX__VALUE_INFO_PROTO__INIT, out = ONNX__VALUE_INFO_PROTO__INIT;
    Onnx__ValueInfoProto *ins[1] = {&in}, *outs[1] = {&out};
    Onnx__TypeProto type = ONNX__TYPE_PROTO__INIT;
    Onnx__TypeProto__Tensor tensor_type = ONNX__TYPE_PROTO__TENSOR__INIT;
    Onnx__TensorShapeProto shape = ONNX__TENSOR_SHAPE_PROTO__INIT;
    Onnx__TensorShapeProto__Dimension d0 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT,
                                      d1 = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT, *dims[2] = {&d0, &d1};
    Onnx__NodeProto node_protos[8], *node_ptrs[8];
    Onnx__TensorProto init_protos[4], *init_ptrs[4];
    Onnx__StringStringEntryProto location = ONNX__STRING_STRING_ENTRY_PROTO__INIT, *locations[1] = {&location};
    char *node_inputs[8][3], *node_outputs[8][1];
    static float weights[4][4096];
    uint8_t *bytes;
    size_t i, j;

    opset_id.domain = (char *)"";
    opset_id.has_version = 1;
    opset_id.version = opset;
    d0.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d0.dim_param = (char *)"N";
    d1.value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d1.dim_value = width;
    shape.n_dim = 2;
    shape.dim = dims;
    tensor_type.has_elem_type = 1;
    tensor_type.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    tensor_type.shape = &shape;
    type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    type.tensor_type = &tensor_type;
    in.name = (char *)"x";
    in.type = &type;
    out.name = (char *)output;
    for (i = 0; i < n_nodes; i++) {
        Onnx__NodeProto proto = ONNX__NODE_PROTO__INIT;
        node_protos[i] = proto;
        node_protos[i].name = (char *)nodes[i].name;
        node_protos[i].op_type = (char *)nodes[i].op;
        for (j = 0; j < 3 && nodes[i].in[j] != NULL; j++)
            node_inputs[i][j] = (char *)nodes[i].in[j];
        node_protos[i].n_input = j;
        node_protos[i].input = node_inputs[i];
        node_outputs[i][0] = (char *)nodes[i].out;
        node_protos[i].n_output = 1;
        node_protos[i].output = node_outputs[i];
        node_ptrs[i] = &node_protos[i];
    }
    for (i = 0; i < n_inits; i++) {
        Onnx__TensorProto proto = ONNX__TENSOR_PROTO__INIT;
        size_t count = inits[i].scalar ? 1 : (size_t)(inits[i].dims[0] * inits[i].dims[1]);
        for (j = 0; j < count && j < 4096; j++) {
            weights[i][j] = inits[i].scalar ? 0.5f : (float)((int)(j % 7) - 3) * 0.25f;
            int8_values[i][j] = (int8_t)(inits[i].scalar ? 1 : (int)(j % 7) - 3);
        }
        init_protos[i] = proto;
        init_protos[i].name = (char *)inits[i].name;
        init_protos[i].n_dims = inits[i].scalar ? 0 : 2;
        init_protos[i].dims = (int64_t *)inits[i].dims;
        init_protos[i].has_data_type = 1;
        init_protos[i].data_type = inits[i].int8 ? ONNX__TENSOR_PROTO__DATA_TYPE__INT8 : ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        if (inits[i].external) {
            location.key = (char *)"location";
            location.value = (char *)"weights.bin";
            init_protos[i].n_external_data = 1;
            init_protos[i].external_data = locations;
            init_protos[i].has_data_location = 1;
            init_protos[i].data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
        } else if (inits[i].typed) {
            init_protos[i].n_float_data = count;
            init_protos[i].float_data = weights[i];
        } else if (count <= 4096) {
            init_protos[i].has_raw_data = 1;
            init_protos[i].raw_data.len = count * (inits[i].int8 ? 1 : sizeof(float));
            init_protos[i].raw_data.data = inits[i].int8 ? (uint8_t *)int8_values[i] : (uint8_t *)weights[i];
        }
        init_ptrs[i] = &init_protos[i];
    }
    graph.name = (char *)"g";
    graph.n_node = n_nodes;
    graph.node = node_ptrs;
    graph.n_initializer = n_inits;
    graph.initializer = init_ptrs;
    graph.n_input = 1;
    graph.input = ins;
    graph.n_output = 1;
    graph.output = outs;
    model.has_ir_version = 1;
    model.ir_version = 8;
    model.n_opset_import = 1;
    model.opset_import = opsets;
    model.graph = &graph;
    *len = onnx__model_proto__get_packed_size(&model);
    bytes = malloc(*len + 1);
    assert_non_null(bytes);
    onnx__model_proto__pack(&model, bytes);
    return bytes;
}

static void expect_open_error(const uint8_t *bytes, size_t len, int code, const char *needle, const char *needle2)
{
    mlops_session *session = NULL;
    ts_assert_error(mlops_session_open(&session, bytes, len, NULL, NULL), code, needle);
    if (needle2 != NULL && strstr(mlops_error_last()->message, needle2) == NULL)
        fail_msg("message \"%s\" lacks \"%s\"", mlops_error_last()->message, needle2);
    assert_null(session);
}

static void test_malformed_models_are_refused_by_name(void **state)
{
    const init_spec w43 = {"W", {4, 3}, 0, 0, 0, 0}, w34 = {"W", {3, 4}, 0, 0, 0, 0};
    const node_spec good[] = {{"mm", "MatMul", {"x", "W"}, "h"}, {"act", "Relu", {"h"}, "y"}};
    const node_spec unknown[] = {{"mm", "MatMul", {"x", "W"}, "h"}, {"odd", "FancyOp", {"h"}, "y"}};
    const node_spec cycle[] = {{"first", "Relu", {"b"}, "a"}, {"second", "Add", {"a", "x"}, "b"},
                               {"last", "Relu", {"a"}, "y"}};
    const node_spec missing[] = {{"mm", "MatMul", {"x", "W"}, "h"}, {"act", "Add", {"h", "ghost"}, "y"}};
    const node_spec mismatch[] = {{"mm", "MatMul", {"x", "W"}, "y"}};
    const node_spec unnamed[] = {{"mm", "MatMul", {"x", "W"}, "h"}, {"act", "Add", {"h", ""}, "y"}};
    uint8_t *bytes;
    size_t len;
    mlops_session *session = NULL;
    float x[4] = {1, 2, 3, 4}, y[3];
    (void)state;

    /* the well-formed model first: it opens and computes x . W then relu */
    bytes = build_model(&len, 13, 4, good, 2, &w43, 1, "y");
    assert_int_equal(mlops_session_open(&session, bytes, len, NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, 1, y, 3), MLOPS_OK);
    /* W[i][j] = ((3i + j) % 7 - 3) / 4 */
    {
        size_t i, j;
        for (j = 0; j < 3; j++) {
            float sum = 0;
            for (i = 0; i < 4; i++)
                sum += x[i] * (float)((int)((3 * i + j) % 7) - 3) * 0.25f;
            assert_true(fabsf(y[j] - (sum > 0 ? sum : 0)) < 1e-5f);
        }
    }
    mlops_session_free(session);
    /* truncated bytes */
    expect_open_error(bytes, len / 2, MLOPS_EFORMAT, "not a valid ONNX model", NULL);
    expect_open_error((const uint8_t *)"hello, world", 12, MLOPS_EFORMAT, "not a valid ONNX model", NULL);
    free(bytes);

    bytes = build_model(&len, 13, 4, unknown, 2, &w43, 1, "y");
    expect_open_error(bytes, len, MLOPS_EUNSUPPORTED, "node \"odd\" (FancyOp)", "unsupported op");
    free(bytes);
    bytes = build_model(&len, 13, 4, cycle, 3, NULL, 0, "y");
    expect_open_error(bytes, len, MLOPS_EFORMAT, "cycle", "(Relu)");
    free(bytes);
    bytes = build_model(&len, 13, 4, missing, 2, &w43, 1, "y");
    expect_open_error(bytes, len, MLOPS_EFORMAT, "node \"act\" (Add): input \"ghost\"", NULL);
    free(bytes);
    /* an empty name marks an omitted optional input; a required one cannot be omitted */
    bytes = build_model(&len, 13, 4, unnamed, 2, &w43, 1, "y");
    expect_open_error(bytes, len, MLOPS_EFORMAT, "node \"act\" (Add): required input 1 has no name", NULL);
    free(bytes);
    bytes = build_model(&len, 13, 4, mismatch, 1, &w34, 1, "y");
    expect_open_error(bytes, len, MLOPS_EFORMAT, "node \"mm\" (MatMul)", "shape mismatch");
    free(bytes);
    bytes = build_model(&len, 13, 4, good, 2, &w43, 1, "nowhere");
    expect_open_error(bytes, len, MLOPS_EFORMAT, "graph output \"nowhere\"", NULL);
    free(bytes);
    bytes = build_model(&len, 9, 4, good, 2, &w43, 1, "y");
    assert_int_equal(mlops_session_open(&session, bytes, len, NULL, NULL), MLOPS_OK);
    mlops_session_free(session);
    free(bytes);
    bytes = build_model(&len, 17, 4, good, 2, &w43, 1, "y");
    assert_int_equal(mlops_session_open(&session, bytes, len, NULL, NULL), MLOPS_OK);
    mlops_session_free(session);
    free(bytes);
    bytes = build_model(&len, 8, 4, good, 2, &w43, 1, "y");
    expect_open_error(bytes, len, MLOPS_EUNSUPPORTED, "opset 8", NULL);
    free(bytes);
    bytes = build_model(&len, 18, 4, good, 2, &w43, 1, "y");
    expect_open_error(bytes, len, MLOPS_EUNSUPPORTED, "opset 18", NULL);
    free(bytes);
    {
        const init_spec external = {"W", {4, 3}, 1, 0, 0, 0}, huge = {"W", {1 << 20, 1 << 20}, 0, 0, 0, 0};
        bytes = build_model(&len, 13, 4, good, 2, &external, 1, "y");
        expect_open_error(bytes, len, MLOPS_EUNSUPPORTED, "initializer \"W\": external data", NULL);
        free(bytes);
        bytes = build_model(&len, 13, 4, good, 2, &huge, 1, "y");
        expect_open_error(bytes, len, MLOPS_ELIMIT, "initializer \"W\"", "elements");
        free(bytes);
    }
}

/* A model with two inputs opens and describes itself, but the single-input run refuses it. */
static void test_models_run_cannot_take(void **state)
{
    const node_spec two[] = {{"sum", "Add", {"x", "bias_in"}, "y"}};
    Onnx__ModelProto *model;
    Onnx__ValueInfoProto *inputs[2];
    mlops_session *session = NULL;
    uint8_t *bytes, *two_inputs;
    size_t len, len2;
    float x[4] = {0}, y[4];
    (void)state;
    bytes = build_model(&len, 13, 4, two, 1, NULL, 0, "y");
    /* duplicate the input "x" as "bias_in" */
    model = onnx__model_proto__unpack(NULL, len, bytes);
    assert_non_null(model);
    inputs[0] = model->graph->input[0];
    inputs[1] = malloc(sizeof *inputs[1]);
    *inputs[1] = *inputs[0];
    inputs[1]->name = (char *)"bias_in";
    free(model->graph->input);
    model->graph->input = malloc(2 * sizeof *model->graph->input);
    memcpy(model->graph->input, inputs, sizeof inputs);
    model->graph->n_input = 2;
    len2 = onnx__model_proto__get_packed_size(model);
    two_inputs = malloc(len2);
    onnx__model_proto__pack(model, two_inputs);
    assert_int_equal(mlops_session_open(&session, two_inputs, len2, NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_input_count(session), 2);
    assert_string_equal(mlops_session_input_name(session, 1), "bias_in");
    assert_int_equal(mlops_session_input_width(session), 0);
    ts_assert_error(mlops_session_run(session, x, 1, y, 4), MLOPS_EUNSUPPORTED, "exactly one float input");
    mlops_session_free(session);
    /* restore what the unpacker owns before freeing it */
    model->graph->input[1] = NULL;
    free(inputs[1]);
    model->graph->n_input = 1;
    onnx__model_proto__free_unpacked(model, NULL);
    free(two_inputs);
    free(bytes);
}

/* Every prefix and many single-byte corruptions of a real model: a clean status, never a crash (ASan). */
static void test_damaged_bytes_fail_cleanly(void **state)
{
    size_t len, step = getenv("MLOPS_TEST_QUICK") != NULL ? 211 : 37;
    unsigned seed = 12345;
    char *copy = malloc(digits_model_len);
    (void)state;
    assert_non_null(copy);
    for (len = 0; len < digits_model_len; len += step) {
        mlops_session *session = NULL;
        int rc = mlops_session_open(&session, digits_model, len, NULL, NULL);
        assert_true(rc == MLOPS_OK || rc == MLOPS_EFORMAT || rc == MLOPS_EUNSUPPORTED || rc == MLOPS_ELIMIT);
        if (rc != MLOPS_OK)
            assert_true(strlen(mlops_error_last()->message) > 0);
        mlops_session_free(session);
    }
    for (len = 0; len < 300; len++) {
        mlops_session *session = NULL;
        size_t at = (size_t)rand_r(&seed) % digits_model_len;
        int rc;
        memcpy(copy, digits_model, digits_model_len);
        copy[at] = (char)rand_r(&seed);
        rc = mlops_session_open(&session, copy, digits_model_len, NULL, NULL);
        assert_true(rc == MLOPS_OK || rc == MLOPS_EFORMAT || rc == MLOPS_EUNSUPPORTED || rc == MLOPS_ELIMIT);
        if (rc == MLOPS_OK) {
            float out[CLASSES * 4];
            rc = mlops_session_run(session, digits_x, 4, out, sizeof out / sizeof out[0]);
            assert_true(rc == MLOPS_OK || rc == MLOPS_EBUFSIZE || rc == MLOPS_EUNSUPPORTED || rc == MLOPS_EINVAL);
        }
        mlops_session_free(session);
    }
    free(copy);
}

/* More nodes than the documented limit: refused before any work, with the limit named. */
static void test_node_count_limit(void **state)
{
    const node_spec one[] = {{"id", "Identity", {"x"}, "y"}};
    Onnx__ModelProto *model;
    Onnx__NodeProto **many, **saved;
    size_t len, len2, i, n = 100001, n_saved;
    uint8_t *bytes, *big;
    mlops_session *session = NULL;
    (void)state;
    bytes = build_model(&len, 13, 4, one, 1, NULL, 0, "y");
    model = onnx__model_proto__unpack(NULL, len, bytes);
    assert_non_null(model);
    many = malloc(n * sizeof *many);
    for (i = 0; i < n; i++)
        many[i] = model->graph->node[0];
    saved = model->graph->node;
    n_saved = model->graph->n_node;
    model->graph->node = many;
    model->graph->n_node = n;
    len2 = onnx__model_proto__get_packed_size(model);
    big = malloc(len2);
    onnx__model_proto__pack(model, big);
    model->graph->node = saved;
    model->graph->n_node = n_saved;
    ts_assert_error(mlops_session_open(&session, big, len2, NULL, NULL), MLOPS_ELIMIT, "100001 nodes (at most 100000)");
    onnx__model_proto__free_unpacked(model, NULL);
    free(many);
    free(big);
    free(bytes);
}

/* Stored int8 weights behind DequantizeLinear fold into fp32 weights at open: one fused linear layer. */
static void test_quantized_weights_fold_into_a_linear_layer(void **state)
{
    const init_spec inits[] = {{"Wq", {4, 3}, 0, 0, 1, 0}, {"scale", {0, 0}, 0, 0, 0, 1}, {"zp", {0, 0}, 0, 0, 1, 1}};
    const node_spec nodes[] = {{"deq", "DequantizeLinear", {"Wq", "scale", "zp"}, "W"},
                               {"mm", "MatMul", {"x", "W"}, "h"}, {"act", "Relu", {"h"}, "y"}};
    mlops_session *session = NULL;
    uint8_t *bytes;
    size_t len, i, j;
    float x[8] = {1, -2, 3, 0.5f, -1, 0, 2, 1}, y[6];
    char *plan;
    (void)state;
    bytes = build_model(&len, 13, 4, nodes, 3, inits, 3, "y");
    assert_int_equal(mlops_session_open(&session, bytes, len, NULL, NULL), MLOPS_OK);
    free(bytes);
    assert_int_equal(mlops_session_plan(&plan, session), MLOPS_OK);
    assert_non_null(strstr(plan, "\"steps\":[{\"op\":\"Linear\",\"nodes\":\"mm+act\""));
    assert_null(strstr(plan, "Dequantize"));
    mlops_free(plan);
    assert_int_equal(mlops_session_run(session, x, 2, y, 6), MLOPS_OK);
    /* W[i][j] = ((3i + j) % 7 - 3 - 1) * 0.5 */
    for (i = 0; i < 2; i++)
        for (j = 0; j < 3; j++) {
            float sum = 0;
            size_t p;
            for (p = 0; p < 4; p++)
                sum += x[i * 4 + p] * (float)((int)((3 * p + j) % 7) - 4) * 0.5f;
            assert_true(fabsf(y[i * 3 + j] - (sum > 0 ? sum : 0)) < 1e-5f);
        }
    mlops_session_free(session);
}

/* MatMul + Add of a row + each fusable activation: one linear layer, fp32 exact to the formula, int8 close. */
static void test_fused_activations(void **state)
{
    static const struct {
        const char *op, *name;
    } acts[] = {{"LeakyRelu", "leaky_relu"}, {"Sigmoid", "sigmoid"}, {"Tanh", "tanh"}, {"Clip", "clip"}};
    const init_spec inits[] = {{"W", {4, 3}, 0, 0, 0, 0}, {"b", {1, 3}, 0, 0, 0, 0}, {"cmax", {0, 0}, 0, 0, 0, 1}};
    float x[8] = {1, -2, 3, 0.5f, -1, 0, 2, 1}, y[6], y8[6];
    size_t a, i, j;
    (void)state;
    for (a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        node_spec nodes[] = {{"mm", "MatMul", {"x", "W"}, "h"}, {"add", "Add", {"h", "b"}, "h2"},
                             {"act", acts[a].op, {"h2"}, "y"}};
        mlops_session *fp32 = NULL, *int8 = NULL;
        uint8_t *bytes;
        size_t len;
        char *plan, expect[96];
        if (strcmp(acts[a].op, "Clip") == 0) {
            nodes[2].in[1] = "";
            nodes[2].in[2] = "cmax";
        }
        bytes = build_model(&len, 13, 4, nodes, 3, inits, 3, "y");
        assert_int_equal(mlops_session_open(&fp32, bytes, len, NULL, NULL), MLOPS_OK);
        assert_int_equal(mlops_session_plan(&plan, fp32), MLOPS_OK);
        snprintf(expect, sizeof expect, "\"nodes\":\"mm+add+act\",\"precision\":\"fp32\",\"k\":4,\"n\":3,"
                 "\"activation\":\"%s\"", acts[a].name);
        if (strstr(plan, expect) == NULL)
            fail_msg("plan %s lacks %s", plan, expect);
        mlops_free(plan);
        assert_int_equal(mlops_session_run(fp32, x, 2, y, 6), MLOPS_OK);
        for (i = 0; i < 2; i++)
            for (j = 0; j < 3; j++) {
                double v = (double)((int)(j % 7) - 3) * 0.25, want; /* b[0][j] */
                size_t p;
                for (p = 0; p < 4; p++)
                    v += x[i * 4 + p] * (double)((int)((3 * p + j) % 7) - 3) * 0.25;
                want = a == 0 ? (v > 0 ? v : 0.01 * v) : a == 1 ? 1 / (1 + exp(-v)) : a == 2 ? tanh(v)
                                                                                 : (v < 0.5 ? v : 0.5);
                if (fabs(y[i * 3 + j] - want) > 1e-5)
                    fail_msg("%s: y[%zu][%zu] = %g, expected %g", acts[a].op, i, j, y[i * 3 + j], want);
            }
        if (mlops_gemm_isa_default(&(const char *){NULL}) == MLOPS_OK) {
            assert_int_equal(mlops_session_open(&int8, bytes, len, "{\"precision\":\"int8\"}", NULL), MLOPS_OK);
            assert_int_equal(mlops_session_run(int8, x, 2, y8, 6), MLOPS_OK);
            for (i = 0; i < 6; i++)
                assert_true(fabsf(y8[i] - y[i]) < 0.05f);
        }
        mlops_session_free(fp32);
        mlops_session_free(int8);
        free(bytes);
    }
}

/* PyTorch's exported GELU (Div, Erf, Add, Mul, Mul) becomes the epilogue of the layer before it. */
static void test_exported_gelu_fuses(void **state)
{
    mlops_frame *io = NULL;
    const char *xs[] = {"x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7"}, *ys[] = {"y0", "y1", "y2", "y3"};
    float x[32 * 8], want[32 * 4], y[32 * 4];
    mlops_session *session = NULL;
    char *plan;
    size_t i;
    (void)state;
    assert_int_equal(mlops_frame_read_csv(&io, ts_data("infer/gelu_io.csv"), NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_to_matrix(x, 32 * 8, NULL, io, xs, 8, MLOPS_MATRIX_NULLS_REFUSE), MLOPS_OK);
    assert_int_equal(mlops_frame_to_matrix(want, 32 * 4, NULL, io, ys, 4, MLOPS_MATRIX_NULLS_REFUSE), MLOPS_OK);
    mlops_frame_free(io);
    assert_int_equal(mlops_session_open_file(&session, ts_data("infer/gelu_mlp.onnx"), NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_plan(&plan, session), MLOPS_OK);
    assert_non_null(strstr(plan, "\"steps\":[{\"op\":\"Linear\",\"nodes\":\"/0/Gemm+/1/Div+/1/Erf+/1/Add+/1/Mul+/1/Mul_1\","
                                 "\"precision\":\"fp32\",\"k\":8,\"n\":16,\"activation\":\"gelu\""));
    assert_non_null(strstr(plan, "},{\"op\":\"Linear\",\"nodes\":\"/2/Gemm\""));
    mlops_free(plan);
    assert_int_equal(mlops_session_run(session, x, 32, y, 32 * 4), MLOPS_OK);
    for (i = 0; i < 32 * 4; i++)
        if (fabsf(y[i] - want[i]) > 1e-5f * (1.0f + fabsf(want[i])))
            fail_msg("y[%zu] = %.9g, PyTorch %.9g", i, y[i], want[i]);
    mlops_session_free(session);
}

/* An infinite input in an int8 layer quantizes its row with zero point 0 instead of casting NaN; finite rows are unaffected. */
static void test_int8_rows_with_infinite_values(void **state)
{
    mlops_session *session = NULL;
    float x[16] = {0}, y[8], alone[4];
    size_t i;
    (void)state;
    for (i = 8; i < 16; i++)
        x[i] = (float)i / 8.0f - 1.5f;
    x[3] = -INFINITY;
    int8_kernel_or_skip();
    assert_int_equal(mlops_session_open_file(&session, ts_data("infer/gelu_mlp.onnx"), "{\"precision\":\"int8\"}", NULL),
                     MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, 2, y, 8), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x + 8, 1, alone, 4), MLOPS_OK);
    assert_memory_equal(y + 4, alone, sizeof alone);
    mlops_session_free(session);
}

static void test_typed_and_raw_initializers_agree(void **state)
{
    const init_spec raw = {"W", {4, 3}, 0, 0, 0, 0}, typed = {"W", {4, 3}, 0, 1, 0, 0};
    const node_spec nodes[] = {{"mm", "MatMul", {"x", "W"}, "y"}};
    mlops_session *a = NULL, *b = NULL;
    uint8_t *bytes;
    size_t len;
    float x[8] = {1, -2, 3, 0.5f, 0, 1, 1, 1}, ya[6], yb[6];
    (void)state;
    bytes = build_model(&len, 13, 4, nodes, 1, &raw, 1, "y");
    assert_int_equal(mlops_session_open(&a, bytes, len, NULL, NULL), MLOPS_OK);
    free(bytes);
    bytes = build_model(&len, 13, 4, nodes, 1, &typed, 1, "y");
    assert_int_equal(mlops_session_open(&b, bytes, len, NULL, NULL), MLOPS_OK);
    free(bytes);
    assert_int_equal(mlops_session_run(a, x, 2, ya, 6), MLOPS_OK);
    assert_int_equal(mlops_session_run(b, x, 2, yb, 6), MLOPS_OK);
    assert_memory_equal(ya, yb, sizeof ya);
    mlops_session_free(a);
    mlops_session_free(b);
}

/* ---- allocation failures ------------------------------------------------------------------- */
typedef struct open_ctx {
    const char *options;
    mlops_session *session;
} open_ctx;

static int open_call(void *arg)
{
    open_ctx *ctx = arg;
    return mlops_session_open(&ctx->session, digits_model, digits_model_len, ctx->options, digits_frame);
}

static void open_cleanup(void *arg)
{
    open_ctx *ctx = arg;
    mlops_session_free(ctx->session);
    ctx->session = NULL;
}

static void test_allocation_failures_on_open(void **state)
{
    open_ctx ctx = {NULL, NULL};
    (void)state;
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 20);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    int8_kernel_or_skip();
    ctx.options = "{\"precision\":\"auto\",\"auto_tolerance\":0.5}";
    assert_true(ts_each_allocation_failure(open_call, open_cleanup, &ctx) > 20);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
}

typedef struct accuracy_ctx {
    mlops_session *session;
    char *report;
} accuracy_ctx;

static int accuracy_call(void *arg)
{
    accuracy_ctx *ctx = arg;
    return mlops_session_accuracy(&ctx->report, ctx->session, digits_frame);
}

static void accuracy_cleanup(void *arg)
{
    accuracy_ctx *ctx = arg;
    mlops_free(ctx->report);
    ctx->report = NULL;
}

/* The accuracy report frees what it allocated whichever allocation fails. */
static void test_allocation_failures_on_accuracy(void **state)
{
    accuracy_ctx ctx = {NULL, NULL};
    (void)state;
    int8_kernel_or_skip();
    assert_int_equal(mlops_session_open(&ctx.session, digits_model, digits_model_len, NULL, NULL), MLOPS_OK);
    assert_true(ts_each_allocation_failure(accuracy_call, accuracy_cleanup, &ctx) > 5);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_session_free(ctx.session);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_fp32_matches_pytorch),
        cmocka_unit_test(test_allocation_failures_on_accuracy),
        cmocka_unit_test(test_digits_int8_agrees_with_fp32),
        cmocka_unit_test(test_auto_precision_follows_the_tolerance),
        cmocka_unit_test(test_introspection),
        cmocka_unit_test(test_runs_from_several_threads),
        cmocka_unit_test(test_warm_runs_allocate_nothing),
        cmocka_unit_test(test_argument_and_option_errors),
        cmocka_unit_test(test_malformed_models_are_refused_by_name),
        cmocka_unit_test(test_models_run_cannot_take),
        cmocka_unit_test(test_damaged_bytes_fail_cleanly),
        cmocka_unit_test(test_node_count_limit),
        cmocka_unit_test(test_quantized_weights_fold_into_a_linear_layer),
        cmocka_unit_test(test_fused_activations),
        cmocka_unit_test(test_exported_gelu_fuses),
        cmocka_unit_test(test_typed_and_raw_initializers_agree),
        cmocka_unit_test(test_int8_rows_with_infinite_values),
        cmocka_unit_test(test_allocation_failures_on_open),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
