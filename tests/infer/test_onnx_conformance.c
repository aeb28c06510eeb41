/*
 * ONNX conformance: the official node tests that Debian's libonnx-testdata
 * ships (model.onnx plus input and output TensorProtos per data set), for every
 * supported op. Each model runs through import, plan compilation and the
 * executor; its outputs are compared with the expected TensorProtos: fp32
 * within 1e-5 relative (1e-4 for Erf and Tanh), integers exactly. Models with
 * Gemm or MatMul run a second time with every input but the first bound as a
 * constant, so the product becomes a fused linear layer, in fp32 and in int8;
 * int8 must stay within the rounding bound of its scales (derived below
 * from the data, not from the kernel). Skipped tests are printed with their
 * reason and must be the expected ones.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "infer/plan_int.h"

#define NODE_DIR "/usr/share/libonnx-testdata/data/node"
#define MAX_TENSORS 16

/* Test-name prefixes of the supported ops ("test_<prefix>" or "test_<prefix>_..."). */
static const char *const prefixes[] = {
    "gemm", "matmul", "add", "sub", "mul", "div", "relu", "leakyrelu", "sigmoid", "tanh", "erf", "softmax",
    "logsoftmax", "flatten", "reshape", "squeeze", "unsqueeze", "identity", "dropout", "clip", "batchnorm",
    "layer_normalization", "cast", "constant", "quantizelinear", "dequantizelinear", "dynamicquantizelinear",
    "matmulinteger", "qlinearmatmul"};

/* Tests that are expected to be skipped, and the words their reason must contain. */
static const struct { const char *test, *reason; } expected_skips[] = {
    {"test_batchnorm_epsilon_training_mode", "training_mode"},
    {"test_batchnorm_example_training_mode", "training_mode"},
    {"test_cast_BFLOAT16_to_FLOAT", "bfloat16"},
    {"test_cast_DOUBLE_to_FLOAT16", "float16"},
    {"test_cast_FLOAT16_to_DOUBLE", "float16"},
    {"test_cast_FLOAT16_to_FLOAT", "float16"},
    {"test_cast_FLOAT_to_BFLOAT16", "bfloat16"},
    {"test_cast_FLOAT_to_FLOAT16", "float16"},
    {"test_cast_FLOAT_to_STRING", "string"},
    {"test_cast_STRING_to_FLOAT", "string"},
    {"test_constant_pad", "Pad"},
    {"test_identity_opt", "only tensor inputs"},
    {"test_identity_sequence", "only tensor inputs"},
    {"_expanded", "unsupported op"},
};

typedef struct summary {
    int passed, skipped, int8_checked;
    char skipped_list[16384];
} summary;

static summary result;

static int wanted(const char *name)
{
    size_t i;
    if (strncmp(name, "test_", 5) != 0)
        return 0;
    for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++) {
        size_t len = strlen(prefixes[i]);
        if (strncmp(name + 5, prefixes[i], len) == 0 && (name[5 + len] == '\0' || name[5 + len] == '_'))
            return 1;
    }
    return 0;
}

static int is_expected_skip(const char *test, const char *reason)
{
    size_t i;
    for (i = 0; i < sizeof expected_skips / sizeof expected_skips[0]; i++) {
        const char *key = expected_skips[i].test;
        int match = key[0] == '_' ? strstr(test, key) != NULL : strcmp(test, key) == 0;
        if (match && strstr(reason, expected_skips[i].reason) != NULL)
            return 1;
    }
    return 0;
}

static void note_skip(const char *test, const char *reason)
{
    size_t have = strlen(result.skipped_list);
    if (!is_expected_skip(test, reason))
        fail_msg("%s skipped for an unexpected reason: %s", test, reason);
    snprintf(result.skipped_list + have, sizeof result.skipped_list - have, "  %s: %s\n", test, reason);
    result.skipped++;
}

/* Read <dir>/<prefix>_<i>.pb for i = 0, 1, ... */
static size_t read_tensors(mlops__tensor *tensors, const char *dir, const char *prefix)
{
    size_t n;
    for (n = 0; n < MAX_TENSORS; n++) {
        char path[1024];
        FILE *probe;
        char *bytes;
        size_t len;
        snprintf(path, sizeof path, "%s/%s_%zu.pb", dir, prefix, n);
        probe = fopen(path, "rb");
        if (probe == NULL)
            break;
        fclose(probe);
        bytes = ts_read_file(path, &len);
        assert_int_equal(mlops__onnx_tensor(&tensors[n], bytes, len), MLOPS_OK);
        free(bytes);
    }
    return n;
}

static void free_tensors(mlops__tensor *tensors, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        mlops__free(tensors[i].data);
}

static double as_double(const mlops__tensor *t, size_t i)
{
    switch (t->dtype) {
    case MLOPS__DT_FLOAT: return ((const float *)t->data)[i];
    case MLOPS__DT_DOUBLE: return ((const double *)t->data)[i];
    case MLOPS__DT_UINT8: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT8: return ((const int8_t *)t->data)[i];
    case MLOPS__DT_BOOL: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT32: return ((const int32_t *)t->data)[i];
    default: return (double)((const int64_t *)t->data)[i];
    }
}

/* Compare got with want; `bound` (may be NULL) gives a per-element absolute tolerance instead of rtol. */
static void compare(const char *test, size_t output, const mlops__tensor *got, const mlops__tensor *want,
                    double rtol, const double *bound)
{
    size_t n, i;
    int32_t d;
    assert_int_equal(got->dtype, want->dtype);
    if (got->rank != want->rank)
        fail_msg("%s output %zu: rank %d, expected %d", test, output, got->rank, want->rank);
    for (d = 0; d < got->rank; d++)
        if (got->dims[d] != want->dims[d])
            fail_msg("%s output %zu: dimension %d is %lld, expected %lld", test, output, d, (long long)got->dims[d],
                     (long long)want->dims[d]);
    n = (size_t)mlops__tensor_count(want);
    for (i = 0; i < n; i++) {
        double g = as_double(got, i), w = as_double(want, i);
        double tol = bound != NULL ? bound[i]
                     : (want->dtype == MLOPS__DT_FLOAT || want->dtype == MLOPS__DT_DOUBLE) ? rtol * fabs(w) + rtol * 0.1
                                                                                           : 0.0;
        if (isnan(w) && isnan(g))
            continue;
        if (!(fabs(g - w) <= tol))
            fail_msg("%s output %zu element %zu: got %.9g, expected %.9g (tolerance %.3g)", test, output, i, g, w, tol);
    }
}

static int uses_op(const mlops__graph *graph, mlops__op op)
{
    size_t s;
    for (s = 0; s < graph->n_steps; s++)
        if (graph->steps[s].op == op)
            return 1;
    return 0;
}

/*
 * Worst-case rounding error of the int8 product y = x . W for one element:
 * activations quantized per row with step at most max|x_row| / 127 and
 * weights per column with step max|w_col| / 127, each rounded to nearest
 * (error at most half a step): |x w - x' w'| <= sum_k |x_k| dw/2 + |w_k| dx/2 + dx dw / 4.
 */
static void int8_bounds(double *bound, const mlops__linear *layer, const float *x, size_t m)
{
    size_t r, i, j;
    for (r = 0; r < m; r++) {
        double xmax = 0;
        for (i = 0; i < layer->k; i++)
            xmax = fmax(xmax, fabs(x[r * layer->k + i]));
        for (j = 0; j < layer->n; j++) {
            double wmax = 0, dx = xmax / 127.0, dw, sum = 0;
            for (i = 0; i < layer->k; i++)
                wmax = fmax(wmax, fabs(layer->w[i * layer->n + j]));
            dw = wmax / 127.0;
            for (i = 0; i < layer->k; i++)
                sum += fabs(x[r * layer->k + i]) * dw / 2 + fabs(layer->w[i * layer->n + j]) * dx / 2 + dx * dw / 4;
            bound[r * layer->n + j] = sum * 1.0001 + 1e-5;
        }
    }
}

/* Run `graph` on `inputs` and compare with `outputs`; int8 = pack the linear layers first. */
static void run_and_compare(const char *test, mlops__graph *graph, const mlops__tensor *inputs,
                            const mlops__tensor *outputs, size_t n_outputs, double rtol, int int8)
{
    mlops__ctx *ctx = NULL;
    mlops__isa isa;
    size_t i, s;
    double *bound = NULL;
    assert_int_equal(graph->n_outputs, n_outputs);
    if (int8) {
        assert_int_equal(mlops__isa_select(&isa), MLOPS_OK);
        for (s = 0; s < graph->n_steps; s++) {
            mlops__linear *layer = graph->steps[s].linear;
            if (layer != NULL)
                assert_int_equal(mlops__qlinear_pack(&layer->q, layer->w, layer->k, layer->n, layer->n, 0,
                                                     layer->bias, layer->epilogue, isa),
                                 MLOPS_OK);
        }
    }
    assert_int_equal(mlops__ctx_new(&ctx, graph, 1), MLOPS_OK);
    if (mlops__ctx_run(ctx, graph, inputs, MLOPS__MODE_PLAN, NULL) != MLOPS_OK)
        fail_msg("%s: run failed: %s", test, mlops_error_last()->message);
    for (i = 0; i < n_outputs; i++) {
        const mlops__tensor *got = mlops__ctx_value(ctx, (size_t)graph->outputs[i]);
        if (int8) {
            /* the single linear layer's input is the graph's first input */
            const mlops__step *step = &graph->steps[0];
            assert_int_equal(graph->n_steps, 1);
            assert_int_equal(step->op, MLOPS__OP_LINEAR);
            bound = calloc((size_t)mlops__tensor_count(got) + 1, sizeof *bound);
            int8_bounds(bound, step->linear, (const float *)inputs[0].data,
                        (size_t)mlops__tensor_count(&inputs[0]) / step->linear->k);
            for (s = 0; s < (size_t)mlops__tensor_count(got); s++)
                bound[s] += 1e-5 * fabs(as_double(&outputs[i], s));
        }
        compare(test, i, got, &outputs[i], rtol, bound);
        free(bound);
        bound = NULL;
    }
    mlops__ctx_free(ctx);
}

/* Import with the given bindings and compile; 0 on success, else the status (message in the error detail). */
static int load(mlops__graph **graph, const char *bytes, size_t len, const mlops__binding *bindings, size_t n)
{
    int rc = mlops__onnx_import(graph, bytes, len, bindings, n);
    if (rc == MLOPS_OK && (rc = mlops__plan_compile(*graph)) != MLOPS_OK) {
        mlops__graph_free(*graph);
        *graph = NULL;
    }
    return rc;
}

static void run_one(const char *test)
{
    char path[1024], set_dir[1024];
    char *bytes;
    size_t len, n_in, n_out, i, n_bound = 0, n_free = 0;
    mlops__graph *probe = NULL, *graph = NULL;
    mlops__tensor inputs[MAX_TENSORS], outputs[MAX_TENSORS], free_inputs[MAX_TENSORS];
    mlops__binding bindings[MAX_TENSORS];
    double rtol = strstr(test, "erf") != NULL || strstr(test, "tanh") != NULL ? 1e-4 : 1e-5;
    int rc, linear;

    snprintf(path, sizeof path, "%s/%s/model.onnx", NODE_DIR, test);
    bytes = ts_read_file(path, &len);
    rc = mlops__onnx_import(&probe, bytes, len, NULL, 0);
    if (rc != MLOPS_OK) {
        if (rc != MLOPS_EUNSUPPORTED)
            fail_msg("%s: import failed: %s", test, mlops_error_last()->message);
        note_skip(test, mlops_error_last()->message);
        free(bytes);
        return;
    }
    snprintf(set_dir, sizeof set_dir, "%s/%s/test_data_set_0", NODE_DIR, test);
    n_in = read_tensors(inputs, set_dir, "input");
    n_out = read_tensors(outputs, set_dir, "output");
    assert_int_equal(n_in, probe->n_inputs);
    /* shapes and axes (int64 inputs) are constants in the models this library runs */
    for (i = 0; i < n_in; i++) {
        if (inputs[i].dtype == MLOPS__DT_INT64) {
            bindings[n_bound].name = probe->values[probe->inputs[i]].name;
            bindings[n_bound++].tensor = &inputs[i];
        } else {
            free_inputs[n_free++] = inputs[i];
        }
    }
    rc = load(&graph, bytes, len, bindings, n_bound);
    if (rc != MLOPS_OK) {
        if (rc != MLOPS_EUNSUPPORTED)
            fail_msg("%s: load failed: %s", test, mlops_error_last()->message);
        note_skip(test, mlops_error_last()->message);
        goto out;
    }
    linear = uses_op(graph, MLOPS__OP_GEMM) || uses_op(graph, MLOPS__OP_MATMUL);
    run_and_compare(test, graph, free_inputs, outputs, n_out, rtol, 0);
    mlops__graph_free(graph);
    graph = NULL;
    result.passed++;

    /* every input but the first as a constant: a fused linear layer, in fp32 then int8 */
    if (linear && n_in > 1) {
        for (i = 1; i < n_in; i++) {
            bindings[i - 1].name = probe->values[probe->inputs[i]].name;
            bindings[i - 1].tensor = &inputs[i];
        }
        assert_int_equal(load(&graph, bytes, len, bindings, n_in - 1), MLOPS_OK);
        if (graph->n_steps == 1 && graph->steps[0].op == MLOPS__OP_LINEAR) {
            run_and_compare(test, graph, inputs, outputs, n_out, rtol, 0);
            mlops__graph_free(graph);
            assert_int_equal(load(&graph, bytes, len, bindings, n_in - 1), MLOPS_OK);
            run_and_compare(test, graph, inputs, outputs, n_out, rtol, 1);
            result.int8_checked++;
        }
    }
out:
    mlops__graph_free(graph);
    mlops__graph_free(probe);
    free_tensors(inputs, n_in);
    free_tensors(outputs, n_out);
    free(bytes);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void test_node_conformance(void **state)
{
    DIR *dir = opendir(NODE_DIR);
    struct dirent *entry;
    char *names[2048];
    size_t n = 0, i;
    mlops__isa isa;
    (void)state;
    if (mlops__isa_select(&isa) != MLOPS_OK) { /* MLOPS_ISA forces a kernel this machine lacks */
        print_message("skipped: %s\n", mlops_error_last()->message);
        if (dir != NULL)
            closedir(dir);
        skip();
    }
    if (dir == NULL)
        fail_msg("%s is missing: install libonnx-testdata (scripts/deps.sh test)", NODE_DIR);
    while ((entry = readdir(dir)) != NULL && n < 2048)
        if (wanted(entry->d_name))
            names[n++] = strdup(entry->d_name);
    closedir(dir);
    qsort(names, n, sizeof names[0], by_name);
    for (i = 0; i < n; i++) {
        run_one(names[i]);
        free(names[i]);
    }
    printf("ONNX node tests: %d passed (%d also as int8 linear layers), %d skipped:\n%s", result.passed,
           result.int8_checked, result.skipped, result.skipped_list);
    /* every supported op has its tests: at least the ones counted when this suite was written */
    assert_true(result.passed >= 133);
    assert_true(result.int8_checked >= 9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_node_conformance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
