/*
 * ONNX export: onnx.checker accepts the model (when Debian's python3-onnx is
 * installed), our fp32 session gives the trainer's own forward pass, and the
 * int8 session agrees with fp32 on at least 99.5% of the test predictions.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static mlops_frame *read_csv(const char *name)
{
    mlops_frame *frame = NULL;
    assert_int_equal(mlops_frame_read_csv(&frame, ts_data(name), NULL), MLOPS_OK);
    return frame;
}

static const char *digits_config(const char *task, const char *hidden, const char *act, const char *label_extra)
{
    static char config[4096];
    size_t off = 0, i;
    off += (size_t)snprintf(config + off, sizeof config - off, "{\"features\":[");
    for (i = 0; i < 64; i++)
        off += (size_t)snprintf(config + off, sizeof config - off, "%s\"f%zu\"", i ? "," : "", i);
    snprintf(config + off, sizeof config - off,
             "],\"label\":\"label\",\"task\":\"%s\",\"model\":{\"type\":\"mlp\",\"hidden\":%s,\"activation\":"
             "\"%s\"},\"epochs\":15,\"batch_size\":32,\"seed\":4%s}",
             task, hidden, act, label_extra);
    return config;
}

/* Features of every row of `frame` as the net sees them. */
static float *features_of(const mlops_net *net, const mlops_frame *frame)
{
    size_t rows = mlops_frame_rows(frame), n = mlops_net_inputs(net), i;
    const char **names = malloc(n * sizeof *names);
    float *x = malloc(rows * n * sizeof *x);
    for (i = 0; i < n; i++)
        names[i] = mlops_net_feature_name(net, i);
    assert_int_equal(mlops_frame_to_matrix(x, rows * n, NULL, frame, names, n, MLOPS_MATRIX_NULLS_REFUSE), 0);
    free(names);
    return x;
}

static void check_checker(const void *onnx, size_t len)
{
    char command[1024];
    const char *path = ts_path("exported.onnx");
    if (system("/usr/bin/python3 -c 'import onnx' >/dev/null 2>&1") != 0) {
        print_message("skipped onnx.checker: Debian's python3-onnx is not installed\n");
        return;
    }
    ts_write_file(path, onnx, len);
    snprintf(command, sizeof command,
             "/usr/bin/python3 -c 'import onnx, sys; m = onnx.load(sys.argv[1]); onnx.checker.check_model(m, "
             "full_check=True); assert m.opset_import[0].version == 13' '%s'",
             path);
    assert_int_equal(system(command), 0);
}

/* Export, check, open in fp32: the session's outputs equal the trainer's forward pass. */
static void check_fp32(const mlops_net *net, const mlops_frame *test, double tol, const char *options)
{
    void *onnx = NULL;
    size_t len = 0, rows = mlops_frame_rows(test), k = mlops_net_outputs(net), i;
    mlops_session *session = NULL;
    float *x = features_of(net, test), *ours = malloc(rows * k * sizeof *ours), *theirs = malloc(rows * k * 4);
    double worst = 0;
    assert_int_equal(mlops_net_export_onnx(&onnx, &len, net, options), MLOPS_OK);
    check_checker(onnx, len);
    assert_int_equal(mlops_session_open(&session, onnx, len, "{\"precision\":\"fp32\"}", NULL), MLOPS_OK);
    assert_int_equal(mlops_session_input_width(session), mlops_net_inputs(net));
    assert_int_equal(mlops_session_output_width(session), k);
    assert_string_equal(mlops_session_input_name(session, 0), "features");
    assert_int_equal(mlops_net_predict(ours, rows * k, net, x, rows), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, rows, theirs, rows * k), MLOPS_OK);
    for (i = 0; i < rows * k; i++) {
        double d = fabs((double)ours[i] - (double)theirs[i]) / (1.0 + fabs((double)ours[i]));
        worst = d > worst ? d : worst;
    }
    if (worst > tol)
        fail_msg("session and trainer differ by %g (relative)", worst);
    mlops_session_free(session);
    mlops_free(onnx);
    free(x);
    free(ours);
    free(theirs);
}

static void test_digits_mlp_gelu_fp32_and_int8(void **state)
{
    mlops_frame *train = read_csv("train/digits_train.csv"), *test = read_csv("train/digits_test.csv");
    mlops_net *net = NULL;
    mlops_session *session = NULL;
    void *onnx = NULL;
    size_t len, rows = mlops_frame_rows(test), i, c, agree = 0;
    float *x, *fp32, *int8;
    (void)state;
    assert_int_equal(mlops_net_train(&net, train, digits_config("multiclass", "[64,32]", "gelu", "")), MLOPS_OK);
    check_fp32(net, test, 1e-5, NULL);
    check_fp32(net, test, 1e-5, "{\"standardization\":\"folded\"}");

    assert_int_equal(mlops_net_export_onnx(&onnx, &len, net, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_open(&session, onnx, len, "{\"precision\":\"int8\"}", NULL), MLOPS_OK);
    x = features_of(net, test);
    fp32 = malloc(rows * 10 * sizeof *fp32);
    int8 = malloc(rows * 10 * sizeof *int8);
    assert_int_equal(mlops_net_predict(fp32, rows * 10, net, x, rows), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, rows, int8, rows * 10), MLOPS_OK);
    for (i = 0; i < rows; i++) {
        size_t a = 0, b = 0;
        for (c = 1; c < 10; c++) {
            a = fp32[i * 10 + c] > fp32[i * 10 + a] ? c : a;
            b = int8[i * 10 + c] > int8[i * 10 + b] ? c : b;
        }
        agree += a == b;
    }
    print_message("int8 agrees with fp32 on %zu of %zu digits test rows\n", agree, rows);
    assert_true((double)agree >= 0.995 * (double)rows);
    free(x);
    free(fp32);
    free(int8);
    mlops_session_free(session);
    mlops_free(onnx);
    mlops_net_free(net);
    mlops_frame_free(train);
    mlops_frame_free(test);
}

static void test_every_head_and_activation(void **state)
{
    mlops_frame *train = read_csv("train/breast_cancer_train.csv"), *test = read_csv("train/breast_cancer_test.csv");
    static const char *const acts[] = {"relu", "tanh", "gelu"};
    char config[4096];
    size_t off, i, a;
    mlops_net *net = NULL;
    (void)state;
    for (a = 0; a < 3; a++) {
        off = (size_t)snprintf(config, sizeof config, "{\"features\":[");
        for (i = 0; i < 30; i++)
            off += (size_t)snprintf(config + off, sizeof config - off, "%s\"f%zu\"", i ? "," : "", i);
        snprintf(config + off, sizeof config - off,
                 "],\"label\":\"label\",\"task\":\"binary\",\"model\":{\"type\":\"mlp\",\"hidden\":[16,8,4],"
                 "\"activation\":\"%s\"},\"epochs\":5,\"seed\":1}",
                 acts[a]);
        assert_int_equal(mlops_net_train(&net, train, config), MLOPS_OK);
        check_fp32(net, test, 1e-5, NULL);
        mlops_net_free(net);
    }
    /* Linear models: regression of feature 0 on the others, and logistic regression. */
    for (a = 0; a < 2; a++) {
        off = (size_t)snprintf(config, sizeof config, "{\"features\":[");
        for (i = 1; i < 30; i++)
            off += (size_t)snprintf(config + off, sizeof config - off, "%s\"f%zu\"", i > 1 ? "," : "", i);
        snprintf(config + off, sizeof config - off, "],\"label\":\"%s\",\"model\":{\"type\":\"%s\"},\"epochs\":5}",
                 a ? "label" : "f0", a ? "logistic" : "linear");
        assert_int_equal(mlops_net_train(&net, train, config), MLOPS_OK);
        check_fp32(net, test, 1e-5, NULL);
        check_fp32(net, test, 1e-5, "{\"standardization\":\"folded\"}");
        mlops_net_free(net);
    }
    mlops_frame_free(train);
    mlops_frame_free(test);
}

typedef struct export_ctx {
    mlops_net *net;
    void *onnx;
    size_t len;
} export_ctx;

static int export_call(void *p)
{
    export_ctx *ctx = p;
    return mlops_net_export_onnx(&ctx->onnx, &ctx->len, ctx->net, "{\"standardization\":\"folded\"}");
}

static void export_cleanup(void *p)
{
    export_ctx *ctx = p;
    mlops_free(ctx->onnx);
    ctx->onnx = NULL;
}

static void test_errors_and_allocation_failures(void **state)
{
    mlops_frame *train = read_csv("train/digits_train.csv");
    export_ctx ctx = {NULL, NULL, 0};
    void *onnx = (void *)1;
    size_t len = 1;
    (void)state;
    assert_int_equal(mlops_net_train(&ctx.net, train, digits_config("multiclass", "[8]", "gelu", "")), MLOPS_OK);
    ts_assert_error(mlops_net_export_onnx(NULL, &len, ctx.net, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_net_export_onnx(&onnx, NULL, ctx.net, NULL), MLOPS_EINVAL, "len_out");
    assert_null(onnx);
    ts_assert_error(mlops_net_export_onnx(&onnx, &len, NULL, NULL), MLOPS_EINVAL, "net");
    assert_int_equal(len, 0);
    ts_assert_error(mlops_net_export_onnx(&onnx, &len, ctx.net, "{\"fold\":1}"), MLOPS_EFORMAT, "fold");
    ts_assert_error(mlops_net_export_onnx(&onnx, &len, ctx.net, "{\"standardization\":\"x\"}"), MLOPS_EFORMAT,
                    "$.standardization");
    assert_true(ts_each_allocation_failure(export_call, export_cleanup, &ctx) > 5);
    mlops_net_free(ctx.net);
    mlops_frame_free(train);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_digits_mlp_gelu_fp32_and_int8),
        cmocka_unit_test(test_every_head_and_activation),
        cmocka_unit_test(test_errors_and_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
