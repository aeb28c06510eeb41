/*
 * Explanations: linear SHAP against its closed form, integrated gradients'
 * completeness on small MLPs and on the digits MLP, gradients of every
 * differentiable op against central finite differences, KernelSHAP against
 * the exact values of a linear model within its standard error, int8
 * sessions explained through their fp32 twin, global and permutation
 * importance, the JSON shapes, every error path and allocation failures.
 * The models are the .onnx files of tests/data/explain (made by make_models.py there).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

#define DIGITS_ROWS 40
#define PIXELS 64

/* linear.onnx: y = x . W + B */
static const double W[5] = {0.5, -1.25, 2.0, 0.0, 0.75};
static const double B = 0.25;

static float digits_x[DIGITS_ROWS * PIXELS];
static float digits_label[DIGITS_ROWS];

static mlops_session *open_model(const char *name, const char *options)
{
    char path[64];
    mlops_session *session = NULL;
    snprintf(path, sizeof path, "explain/%s.onnx", name);
    assert_int_equal(mlops_session_open_file(&session, ts_data(path), options, NULL), MLOPS_OK);
    return session;
}

static int setup(void **state)
{
    mlops_frame *test = NULL;
    const char *pixels[PIXELS];
    char names[PIXELS][8];
    const int64_t *labels;
    size_t i, label_col;
    (void)state;
    for (i = 0; i < PIXELS; i++) {
        snprintf(names[i], sizeof names[i], "p%zu", i);
        pixels[i] = names[i];
    }
    assert_int_equal(mlops_frame_read_csv(&test, ts_data("infer/digits_test.csv"), NULL), MLOPS_OK);
    {
        size_t rows[DIGITS_ROWS];
        mlops_frame *head = NULL;
        for (i = 0; i < DIGITS_ROWS; i++)
            rows[i] = i;
        assert_int_equal(mlops_frame_take_rows(&head, test, rows, DIGITS_ROWS), MLOPS_OK);
        assert_int_equal(mlops_frame_to_matrix(digits_x, DIGITS_ROWS * PIXELS, NULL, head, pixels, PIXELS,
                                               MLOPS_MATRIX_NULLS_REFUSE),
                         MLOPS_OK);
        assert_int_equal(mlops_frame_column_index(&label_col, head, "label"), MLOPS_OK);
        assert_int_equal(mlops_frame_column_int64(&labels, head, label_col), MLOPS_OK);
        for (i = 0; i < DIGITS_ROWS; i++)
            digits_label[i] = (float)labels[i];
        mlops_frame_free(head);
    }
    mlops_frame_free(test);
    return 0;
}

/* Deterministic pseudo-random values in [-scale, scale]. */
static void fill(float *x, size_t n, unsigned seed, float scale)
{
    size_t i;
    unsigned s = seed * 2654435761u + 1u;
    for (i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        x[i] = scale * ((float)((s >> 8) & 0xffff) / 32767.5f - 1.0f);
    }
}

static double sigmoid(double z)
{
    return 1.0 / (1.0 + exp(-z));
}

/* ---- linear SHAP ------------------------------------------------------------------- */
static void test_linear_shap_is_the_closed_form(void **state)
{
    mlops_session *linear = open_model("linear", NULL), *logistic = open_model("logistic", NULL);
    mlops_explainer *ex = NULL;
    float background[8 * 5], x[3 * 5], phi[3 * 5], se[3 * 5], pred[3], err[3];
    double mean[5] = {0}, base = B;
    size_t r, i;
    (void)state;
    fill(background, 8 * 5, 1, 2.0f);
    fill(x, 3 * 5, 2, 3.0f);
    for (r = 0; r < 8; r++)
        for (i = 0; i < 5; i++)
            mean[i] += background[r * 5 + i] / 8.0;
    for (i = 0; i < 5; i++)
        base += W[i] * (float)mean[i];
    assert_int_equal(mlops_explainer_open(&ex, linear, NULL, background, 8), MLOPS_OK);
    assert_int_equal(mlops_explainer_method(ex), MLOPS_EXPLAIN_LINEAR);
    assert_int_equal(mlops_explain_rows(phi, se, pred, err, 15, ex, x, 3), MLOPS_OK);
    assert_float_equal(mlops_explainer_baseline_output(ex), base, 1e-5);
    for (r = 0; r < 3; r++) {
        double y = B;
        for (i = 0; i < 5; i++) {
            assert_float_equal(phi[r * 5 + i], W[i] * (x[r * 5 + i] - (float)mean[i]), 1e-5);
            assert_float_equal(se[r * 5 + i], 0.0, 0.0);
            y += W[i] * x[r * 5 + i];
        }
        assert_float_equal(pred[r], y, 1e-5);
        assert_true(err[r] < 1e-5);
    }
    mlops_explainer_free(ex);

    /* logistic: the logit scale is the same closed form; the probability scale sums to p(x) - p(mean) */
    assert_int_equal(mlops_explainer_open(&ex, logistic, "{\"scale\":\"logit\"}", background, 8), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi, NULL, pred, NULL, 15, ex, x, 3), MLOPS_OK);
    for (i = 0; i < 5; i++)
        assert_float_equal(phi[i], W[i] * (x[i] - (float)mean[i]), 1e-5);
    mlops_explainer_free(ex);
    assert_int_equal(mlops_explainer_open(&ex, logistic, "{\"scale\":\"probability\"}", background, 8), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi, NULL, pred, err, 15, ex, x, 3), MLOPS_OK);
    assert_float_equal(mlops_explainer_baseline_output(ex), sigmoid(base), 1e-6);
    for (r = 0; r < 3; r++) {
        double y = B, total = 0.0, factor;
        for (i = 0; i < 5; i++)
            y += W[i] * x[r * 5 + i];
        factor = (sigmoid(y) - sigmoid(base)) / (y - base);
        assert_float_equal(pred[r], sigmoid(y), 1e-6);
        for (i = 0; i < 5; i++) {
            assert_float_equal(phi[r * 5 + i], factor * W[i] * (x[r * 5 + i] - (float)mean[i]), 1e-5);
            total += phi[r * 5 + i];
        }
        assert_float_equal(total, sigmoid(y) - sigmoid(base), 1e-5);
        assert_true(err[r] < 1e-5);
    }
    mlops_explainer_free(ex);
    mlops_session_free(linear);
    mlops_session_free(logistic);
}

/* A multinomial logistic model: the default method is linear; the probability scale adds up to the session's output. */
static void test_softmax_model_is_linear(void **state)
{
    mlops_session *session = open_model("softmax", NULL);
    mlops_explainer *ex = NULL;
    float background[6 * 4], x[2 * 4], phi[2 * 4], pred[2], err[2], y[2 * 3];
    size_t k, r;
    (void)state;
    fill(background, 6 * 4, 3, 1.0f);
    fill(x, 2 * 4, 4, 2.0f);
    assert_int_equal(mlops_session_run(session, x, 2, y, 6), MLOPS_OK);
    for (k = 0; k < 3; k++) {
        char options[64];
        snprintf(options, sizeof options, "{\"output\":%zu,\"scale\":\"probability\"}", k);
        assert_int_equal(mlops_explainer_open(&ex, session, options, background, 6), MLOPS_OK);
        assert_int_equal(mlops_explainer_method(ex), MLOPS_EXPLAIN_LINEAR);
        assert_int_equal(mlops_explain_rows(phi, NULL, pred, err, 8, ex, x, 2), MLOPS_OK);
        for (r = 0; r < 2; r++) {
            assert_float_equal(pred[r], y[r * 3 + k], 1e-6);
            assert_true(err[r] < 1e-5);
        }
        mlops_explainer_free(ex);
    }
    mlops_session_free(session);
}

/* ---- integrated gradients --------------------------------------------------------- */
/* The completeness error of `steps`-step integrated gradients on each row: below `tolerance` of max(|output|, floor). */
static void check_completeness(mlops_session *session, size_t output, int64_t steps, double tolerance, double floor,
                               const float *x, size_t rows, const float *background, size_t background_rows)
{
    mlops_explainer *ex = NULL;
    size_t features = mlops_session_input_width(session), width = mlops_session_output_width(session), r;
    float *phi = calloc(rows * features, sizeof *phi), *pred = calloc(rows, sizeof *pred);
    float *err = calloc(rows, sizeof *err), *y = calloc(rows * width, sizeof *y);
    char options[112];
    snprintf(options, sizeof options, "{\"method\":\"integrated_gradients\",\"steps\":%lld,\"output\":%zu}",
             (long long)steps, output);
    assert_int_equal(mlops_explainer_open(&ex, session, options, background, background_rows), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi, NULL, pred, err, rows * features, ex, x, rows), MLOPS_OK);
    assert_int_equal(mlops_session_run(session, x, rows, y, rows * width), MLOPS_OK);
    for (r = 0; r < rows; r++) {
        assert_float_equal(pred[r], y[r * width + output], 1e-5);
        if (err[r] >= tolerance * fmax(fabs(pred[r]), floor))
            fail_msg("output %zu row %zu, %lld steps: completeness error %g, output %g", output, r, (long long)steps,
                     err[r], pred[r]);
    }
    mlops_explainer_free(ex);
    free(phi);
    free(pred);
    free(err);
    free(y);
}

/* Smooth MLPs (tanh, sigmoid, softmax; GELU): below 1e-3 of the output at 256 steps. */
static void test_integrated_gradients_are_complete(void **state)
{
    mlops_session *tanh_mlp = open_model("mlp_tanh", NULL), *gelu = NULL;
    float x[10 * 8], background[20 * 8];
    size_t k;
    (void)state;
    fill(x, 10 * 8, 5, 1.5f);
    fill(background, 20 * 8, 6, 1.0f);
    for (k = 0; k < 3; k++) {
        check_completeness(tanh_mlp, k, 256, 1e-3, 0.0, x, 10, background, 20);
        check_completeness(tanh_mlp, k, 256, 1e-3, 0.0, x, 10, NULL, 0);
    }
    assert_int_equal(mlops_session_open_file(&gelu, ts_data("infer/gelu_mlp.onnx"), NULL, NULL), MLOPS_OK);
    for (k = 0; k < 4; k++)
        check_completeness(gelu, k, 256, 1e-3, 0.0, x, 10, background, 20);
    mlops_session_free(tanh_mlp);
    mlops_session_free(gelu);
}

/*
 * ReLU MLPs: the gradient jumps where a unit switches along the path; the
 * piecewise rule (their default) integrates between those kinks, so 256 steps
 * stay within 1e-3 of the output (of at least 1e-2, for outputs near zero).
 */
static void test_integrated_gradients_on_relu_networks(void **state)
{
    mlops_session *relu_mlp = open_model("mlp_relu", NULL), *digits = NULL;
    float x[10 * 6], background[20 * 6];
    size_t k;
    (void)state;
    fill(x, 10 * 6, 5, 1.5f);
    fill(background, 20 * 6, 6, 1.0f);
    check_completeness(relu_mlp, 0, 256, 1e-3, 1e-2, x, 10, background, 20);
    check_completeness(relu_mlp, 0, 256, 1e-3, 1e-2, x, 10, NULL, 0);
    assert_int_equal(mlops_session_open_file(&digits, ts_data("infer/digits_mlp.onnx"), NULL, NULL), MLOPS_OK);
    for (k = 0; k < 10; k++)
        check_completeness(digits, k, 256, 1e-3, 1e-2, digits_x, 8, digits_x + 8 * PIXELS, 32);
    mlops_session_free(relu_mlp);
    mlops_session_free(digits);
}

/* Attributions and completeness errors of `rows` rows of x explained with `options`. */
static void explain_with(float *phi, float *err, mlops_session *session, const char *options, const float *x,
                         size_t rows, const float *background, size_t background_rows)
{
    mlops_explainer *ex = NULL;
    size_t features = mlops_session_input_width(session);
    assert_int_equal(mlops_explainer_open(&ex, session, options, background, background_rows), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi, NULL, NULL, err, rows * features, ex, x, rows), MLOPS_OK);
    mlops_explainer_free(ex);
}

/*
 * Networks made of affine ops and Relu, LeakyRelu or Clip (standalone or
 * fused into a linear layer) are piecewise linear along the path: the
 * piecewise rule adds up within 1e-5 (rounding), and matches
 * 2^16 trapezoid steps within 1e-4 per attribution, the reference's own error
 * (each kink costs it up to 2^-16 of the gradient's jump; about 1e-5 here).
 */
static void test_piecewise_rule_is_exact(void **state)
{
    static const char *const models[] = {"mlp_relu", "op_relu", "op_leakyrelu", "op_clip", "op_linear_relu",
                                         "op_linear_leakyrelu", "op_linear_clip", NULL};
    float x[6 * 6], background[6 * 6], phi[6 * 6], ref[6 * 6], err[6];
    size_t m, k, i;
    (void)state;
    fill(x, 6 * 6, 21, 2.0f);
    fill(background, 6 * 6, 22, 2.0f);
    for (m = 0; models[m] != NULL; m++) {
        mlops_session *session = open_model(models[m], NULL);
        size_t features = mlops_session_input_width(session), width = mlops_session_output_width(session);
        for (k = 0; k < width; k++) {
            char options[96];
            snprintf(options, sizeof options, "{\"rule\":\"piecewise\",\"steps\":1,\"output\":%zu}", k);
            explain_with(phi, err, session, options, x, 6, background, 6);
            snprintf(options, sizeof options, "{\"rule\":\"trapezoid\",\"steps\":65536,\"output\":%zu}", k);
            explain_with(ref, NULL, session, options, x, 6, background, 6);
            for (i = 0; i < 6 * features; i++)
                if (fabs(phi[i] - ref[i]) > 1e-4)
                    fail_msg("%s output %zu: attribution %zu is %g, 2^16 trapezoid steps give %g", models[m], k, i,
                             phi[i], ref[i]);
            for (i = 0; i < 6; i++)
                if (err[i] > 1e-5)
                    fail_msg("%s output %zu row %zu: completeness error %g", models[m], k, i, err[i]);
        }
        mlops_session_free(session);
    }
}

/*
 * ReLU then Tanh: kinks split the path and each piece gets its share of the
 * steps, which converges faster than uniform steps over the kinks.
 */
static void test_piecewise_rule_with_smooth_ops(void **state)
{
    mlops_session *session = open_model("mlp_relu_tanh", NULL);
    float x[10 * 6], background[20 * 6], phi[10 * 6], err[10], uniform_err[10];
    double worst, uniform_worst;
    size_t k, r;
    (void)state;
    fill(x, 10 * 6, 23, 2.0f);
    fill(background, 20 * 6, 24, 1.0f);
    for (k = 0; k < 2; k++) {
        char options[96];
        snprintf(options, sizeof options, "{\"steps\":64,\"output\":%zu}", k);
        explain_with(phi, err, session, options, x, 10, background, 20);
        snprintf(options, sizeof options, "{\"rule\":\"trapezoid\",\"steps\":64,\"output\":%zu}", k);
        explain_with(phi, uniform_err, session, options, x, 10, background, 20);
        worst = uniform_worst = 0.0;
        for (r = 0; r < 10; r++) {
            worst = fmax(worst, err[r]);
            uniform_worst = fmax(uniform_worst, uniform_err[r]);
        }
        if (!(worst < uniform_worst / 4.0))
            fail_msg("output %zu: worst completeness error %g piecewise, %g with uniform steps", k, worst,
                     uniform_worst);
        check_completeness(session, k, 256, 1e-3, 1e-2, x, 10, background, 20);
    }
    mlops_session_free(session);
}

static void expect_open_error(mlops_session *session, const char *options, const float *background, size_t rows,
                              int code, const char *needle)
{
    mlops_explainer *ex = (mlops_explainer *)1;
    ts_assert_error(mlops_explainer_open(&ex, session, options, background, rows), code, needle);
    assert_null(ex);
}

/* More kinks on a row's path than max_segments: the row fails, named, with the limit. */
static void test_piecewise_segment_cap(void **state)
{
    mlops_session *session = open_model("mlp_relu", NULL);
    mlops_explainer *ex = NULL;
    float x[2 * 6], phi[2 * 6];
    (void)state;
    fill(x, 2 * 6, 5, 1.5f);
    assert_int_equal(mlops_explainer_open(&ex, session, "{\"max_segments\":1}", NULL, 0), MLOPS_OK);
    ts_assert_error(mlops_explain_rows(phi, NULL, NULL, NULL, 12, ex, x, 2), MLOPS_ELIMIT,
                    "row 0: the path from the baseline crosses more than 1 activation kinks (max_segments)");
    mlops_explainer_free(ex);
    expect_open_error(session, "{\"max_segments\":0}", NULL, 0, MLOPS_EFORMAT, "$.max_segments");
    mlops_session_free(session);
}

/* The midpoint rule and a given baseline row also add up; a row at the baseline gets zero attributions. */
static void test_integrated_gradients_options(void **state)
{
    mlops_session *session = open_model("mlp_tanh", NULL);
    mlops_explainer *ex = NULL;
    float x[2 * 6], phi[2 * 6], pred[2], err[2], base_out[3];
    const float base[6] = {0.5f, -0.5f, 0.25f, 0.0f, 1.0f, -1.0f};
    size_t i;
    (void)state;
    fill(x, 6, 7, 1.5f);
    memcpy(x + 6, base, sizeof base);
    assert_int_equal(mlops_explainer_open(&ex, session,
                                          "{\"method\":\"integrated_gradients\",\"rule\":\"midpoint\",\"steps\":512,"
                                          "\"baseline\":[0.5,-0.5,0.25,0,1,-1],\"output\":2}",
                                          NULL, 0),
                     MLOPS_OK);
    assert_int_equal(mlops_session_run(session, base, 1, base_out, 3), MLOPS_OK);
    assert_float_equal(mlops_explainer_baseline_output(ex), base_out[2], 1e-6);
    assert_int_equal(mlops_explain_rows(phi, NULL, pred, err, 12, ex, x, 2), MLOPS_OK);
    assert_true(err[0] < 1e-3 * fabs(pred[0]));
    for (i = 0; i < 6; i++)
        assert_float_equal(phi[6 + i], 0.0, 0.0);
    mlops_explainer_free(ex);
    mlops_session_free(session);
}

/* ---- gradients against finite differences ---------------------------------------- */
static void check_gradient(const char *model, size_t rows)
{
    mlops_session *session = open_model(model, NULL);
    size_t features = mlops_session_input_width(session), width = mlops_session_output_width(session), k, r, i;
    float x[4 * 8], g[4 * 8], plus[4 * 8], minus[4 * 8], yp[4 * 8], ym[4 * 8];
    const float h = 1e-3f;
    fill(x, rows * features, (unsigned)strlen(model), 1.2f);
    for (k = 0; k < width; k++) {
        mlops_explainer *ex = NULL;
        char options[32];
        snprintf(options, sizeof options, "{\"output\":%zu}", k);
        assert_int_equal(mlops_explainer_open(&ex, session, options, NULL, 0), MLOPS_OK);
        assert_int_equal(mlops_explain_gradient(g, rows * features, ex, x, rows), MLOPS_OK);
        for (i = 0; i < features; i++) {
            memcpy(plus, x, rows * features * sizeof *x);
            memcpy(minus, x, rows * features * sizeof *x);
            for (r = 0; r < rows; r++) {
                plus[r * features + i] += h;
                minus[r * features + i] -= h;
            }
            assert_int_equal(mlops_session_run(session, plus, rows, yp, rows * width), MLOPS_OK);
            assert_int_equal(mlops_session_run(session, minus, rows, ym, rows * width), MLOPS_OK);
            for (r = 0; r < rows; r++) {
                double fd = ((double)yp[r * width + k] - ym[r * width + k]) / (2.0 * h);
                if (fabs(fd - g[r * features + i]) > 2e-3 + 1e-2 * fabs(fd))
                    fail_msg("%s: output %zu row %zu feature %zu: gradient %g, finite difference %g", model, k, r,
                             i, g[r * features + i], fd);
            }
        }
        mlops_explainer_free(ex);
    }
    mlops_session_free(session);
}

static void test_gradients_match_finite_differences(void **state)
{
    static const char *const models[] = {
        "op_add", "op_sub", "op_mul", "op_div", "op_relu", "op_leakyrelu", "op_sigmoid", "op_tanh", "op_erf",
        "op_identity", "op_clip", "op_softmax", "op_softmax_opset11", "op_log_softmax", "op_reshape_flatten",
        "op_unsqueeze_squeeze", "op_dropout", "op_cast", "op_batch_norm", "op_layer_norm", "op_gemm_variable_c",
        "op_linear_relu", "op_linear_leakyrelu", "op_linear_sigmoid", "op_linear_tanh", "op_linear_clip",
        "op_linear_gelu", "mlp_tanh", "mlp_relu", "softmax", "logistic", NULL};
    size_t i;
    (void)state;
    for (i = 0; models[i] != NULL; i++)
        check_gradient(models[i], 4);
    check_gradient("rowwise", 1);
}

/* The fused layers really are fused: the plan lists them as Linear with their activation. */
static void test_op_models_fuse_as_expected(void **state)
{
    static const char *const models[] = {"op_linear_relu", "op_linear_leakyrelu", "op_linear_sigmoid",
                                         "op_linear_tanh", "op_linear_clip", "op_linear_gelu", NULL};
    static const char *const acts[] = {"relu", "leaky_relu", "sigmoid", "tanh", "clip", "gelu"};
    size_t i;
    (void)state;
    for (i = 0; models[i] != NULL; i++) {
        mlops_session *session = open_model(models[i], NULL);
        char *plan = NULL, needle[48];
        assert_int_equal(mlops_session_plan(&plan, session), MLOPS_OK);
        snprintf(needle, sizeof needle, "\"activation\":\"%s\"", acts[i]);
        assert_non_null(strstr(plan, needle));
        mlops_free(plan);
        mlops_session_free(session);
    }
}

/* ---- KernelSHAP -------------------------------------------------------------------- */
static void test_kernel_shap_converges_to_linear_shap(void **state)
{
    mlops_session *session = open_model("linear", NULL);
    mlops_explainer *ks = NULL, *exact = NULL, *again = NULL;
    float background[16 * 5], x[4 * 5], phi[20], se[20], ref[20], pred[4], phi2[20];
    size_t i, within = 0;
    (void)state;
    fill(background, 16 * 5, 8, 2.0f);
    fill(x, 4 * 5, 9, 3.0f);
    assert_int_equal(mlops_explainer_open(&exact, session, NULL, background, 16), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(ref, NULL, NULL, NULL, 20, exact, x, 4), MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&ks, session, "{\"method\":\"kernel_shap\",\"samples\":4000,\"seed\":3}",
                                          background, 16),
                     MLOPS_OK);
    assert_float_equal(mlops_explainer_baseline_output(ks), mlops_explainer_baseline_output(exact), 1e-5);
    assert_int_equal(mlops_explain_rows(phi, se, pred, NULL, 20, ks, x, 4), MLOPS_OK);
    for (i = 0; i < 20; i++) {
        assert_true(se[i] >= 0.0f && se[i] < 0.2f);
        if (fabs(phi[i] - ref[i]) > 4.0 * se[i] + 1e-4)
            fail_msg("attribution %zu: %g, exact %g, standard error %g", i, phi[i], ref[i], se[i]);
        within += fabs(phi[i] - ref[i]) <= 2.0 * se[i] + 1e-4;
    }
    assert_true(within >= 16); /* about 95% within two standard errors */
    /* the same seed gives the same values; another seed others */
    assert_int_equal(mlops_explainer_open(&again, session, "{\"method\":\"kernel_shap\",\"samples\":4000,\"seed\":3}",
                                          background, 16),
                     MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi2, NULL, NULL, NULL, 20, again, x, 4), MLOPS_OK);
    assert_memory_equal(phi, phi2, sizeof phi);
    mlops_explainer_free(again);
    assert_int_equal(mlops_explainer_open(&again, session, "{\"method\":\"kernel_shap\",\"samples\":4000,\"seed\":4}",
                                          background, 16),
                     MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi2, NULL, NULL, NULL, 20, again, x, 4), MLOPS_OK);
    assert_memory_not_equal(phi, phi2, sizeof phi);
    mlops_explainer_free(again);
    mlops_explainer_free(ks);
    mlops_explainer_free(exact);
    mlops_session_free(session);
}

/* More samples shrink the standard error about as 1 / sqrt(samples); attributions always add up. */
static void test_kernel_shap_error_shrinks(void **state)
{
    mlops_session *session = open_model("mlp_tanh", NULL);
    mlops_explainer *small = NULL, *large = NULL;
    float background[10 * 6], x[6], phi[6], se_small[6], se_large[6], pred, err;
    double s_small = 0.0, s_large = 0.0;
    size_t i;
    (void)state;
    fill(background, 60, 10, 1.0f);
    fill(x, 6, 11, 1.5f);
    assert_int_equal(mlops_explainer_open(&small, session, "{\"method\":\"kernel_shap\",\"samples\":200}", background, 10),
                     MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&large, session, "{\"method\":\"kernel_shap\",\"samples\":3200}", background, 10),
                     MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi, se_small, &pred, &err, 6, small, x, 1), MLOPS_OK);
    assert_true(err < 1e-5);
    assert_int_equal(mlops_explain_rows(phi, se_large, &pred, &err, 6, large, x, 1), MLOPS_OK);
    assert_true(err < 1e-5);
    for (i = 0; i < 6; i++) {
        s_small += se_small[i];
        s_large += se_large[i];
    }
    assert_true(s_large > 0.0 && s_large < s_small / 2.5 && s_large > s_small / 6.0);
    mlops_explainer_free(small);
    mlops_explainer_free(large);
    mlops_session_free(session);
}

/* ---- int8 sessions ----------------------------------------------------------------- */
static void test_int8_session_is_explained_through_its_fp32_twin(void **state)
{
    mlops_session *fp32 = NULL, *int8 = NULL;
    mlops_explainer *a = NULL, *b = NULL;
    static float phi_a[4 * PIXELS], phi_b[4 * PIXELS];
    float pred_a[4], pred_b[4], y32[4 * 10];
    const char *options = "{\"method\":\"integrated_gradients\",\"steps\":32,\"output\":3}";
    size_t r;
    (void)state;
    assert_int_equal(mlops_session_open_file(&fp32, ts_data("infer/digits_mlp.onnx"), NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_session_open_file(&int8, ts_data("infer/digits_mlp.onnx"), "{\"precision\":\"int8\"}", NULL),
                     MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&a, fp32, options, digits_x + 4 * PIXELS, 20), MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&b, int8, options, digits_x + 4 * PIXELS, 20), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi_a, NULL, pred_a, NULL, 4 * PIXELS, a, digits_x, 4), MLOPS_OK);
    assert_int_equal(mlops_explain_rows(phi_b, NULL, pred_b, NULL, 4 * PIXELS, b, digits_x, 4), MLOPS_OK);
    assert_memory_equal(phi_a, phi_b, sizeof phi_a);
    assert_memory_equal(pred_a, pred_b, sizeof pred_a);
    assert_int_equal(mlops_session_run(fp32, digits_x, 4, y32, 40), MLOPS_OK);
    for (r = 0; r < 4; r++)
        assert_float_equal(pred_b[r], y32[r * 10 + 3], 1e-5);
    mlops_explainer_free(a);
    mlops_explainer_free(b);
    mlops_session_free(fp32);
    mlops_session_free(int8);
}

/* ---- JSON and global importance ---------------------------------------------------- */
static void test_rows_json(void **state)
{
    mlops_session *session = open_model("mlp_tanh", NULL);
    mlops_explainer *ex = NULL;
    float x[2 * 6], background[4 * 6];
    char *json = NULL;
    (void)state;
    fill(x, 12, 12, 1.0f);
    fill(background, 24, 13, 1.0f);
    assert_int_equal(mlops_explainer_open(&ex, session,
                                          "{\"steps\":16,\"features\":[\"amount\",\"age\",\"c\",\"d\",\"e\",\"f\"]}",
                                          background, 4),
                     MLOPS_OK);
    assert_string_equal(mlops_explainer_feature_name(ex, 1), "age");
    assert_null(mlops_explainer_feature_name(ex, 6));
    assert_int_equal(mlops_explain_rows_json(&json, ex, x, 2), MLOPS_OK);
    assert_non_null(strstr(json, "{\"method\":\"integrated_gradients\",\"output\":0,\"features\":[\"amount\",\"age\","));
    assert_non_null(strstr(json, "\"baseline_output\":"));
    assert_non_null(strstr(json, "\"rows\":[{\"prediction\":"));
    assert_non_null(strstr(json, "\"completeness_error\":"));
    assert_null(strstr(json, "std_error"));
    mlops_free(json);
    mlops_explainer_free(ex);
    assert_int_equal(mlops_explainer_open(&ex, session, "{\"method\":\"kernel_shap\",\"samples\":64}", background, 4),
                     MLOPS_OK);
    assert_string_equal(mlops_explainer_feature_name(ex, 5), "x5");
    assert_int_equal(mlops_explain_rows_json(&json, ex, x, 2), MLOPS_OK);
    assert_non_null(strstr(json, "{\"method\":\"kernel_shap\",\"output\":0,\"features\":[\"x0\","));
    assert_non_null(strstr(json, "\"std_error\":["));
    assert_null(strstr(json, "completeness_error"));
    mlops_free(json);
    mlops_explainer_free(ex);
    mlops_session_free(session);
}

/* A session opened from the registry names its features after the version's metadata: the explainer's default. */
static void test_names_default_to_the_session(void **state)
{
    mlops_db *db = NULL;
    mlops_session *session = NULL;
    mlops_explainer *ex = NULL;
    float x[2 * 5];
    char *json = NULL, *bytes;
    size_t len = 0;
    int64_t version = 0;
    (void)state;
    fill(x, 10, 21, 1.0f);
    bytes = ts_read_file(ts_data("explain/linear.onnx"), &len);
    assert_int_equal(mlops_db_open(&db, ts_path("names.db"), NULL), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "credit", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_version_register(&version, db, "credit", bytes, len,
                                            "{\"metadata\":{\"features\":[\"income\",\"age\",\"debt\",\"zero\",\"tenure\"]}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_session_open_registry(&session, db, "credit@1", NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&ex, session, "{\"baseline\":\"zeros\"}", NULL, 0), MLOPS_OK);
    assert_string_equal(mlops_explainer_feature_name(ex, 0), "income");
    assert_string_equal(mlops_explainer_feature_name(ex, 4), "tenure");
    assert_int_equal(mlops_explain_rows_json(&json, ex, x, 2), MLOPS_OK);
    assert_non_null(strstr(json, "\"features\":[\"income\",\"age\",\"debt\",\"zero\",\"tenure\"]"));
    mlops_free(json);
    assert_int_equal(mlops_explain_global(&json, ex, x, 2), MLOPS_OK);
    assert_non_null(strstr(json, "{\"name\":\"debt\","));
    assert_null(strstr(json, "\"x2\""));
    mlops_free(json);
    mlops_explainer_free(ex);
    /* The "features" option still wins. */
    assert_int_equal(mlops_explainer_open(&ex, session, "{\"baseline\":\"zeros\",\"features\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}",
                                          NULL, 0),
                     MLOPS_OK);
    assert_string_equal(mlops_explainer_feature_name(ex, 0), "a");
    mlops_explainer_free(ex);
    mlops_session_free(session);
    mlops_db_close(db);
    free(bytes);
}

/* Feature 3 of linear.onnx has weight 0: no importance; feature 2 (weight 2) leads on comparable inputs. */
static void test_global_importance(void **state)
{
    mlops_session *session = open_model("linear", NULL);
    mlops_explainer *ex = NULL;
    float x[50 * 5], labels[50];
    char *json = NULL;
    const char *names = "{\"features\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}";
    size_t r, i;
    (void)state;
    fill(x, 250, 14, 1.0f);
    for (r = 0; r < 50; r++) {
        double y = B;
        for (i = 0; i < 5; i++)
            y += W[i] * x[r * 5 + i];
        labels[r] = (float)y;
    }
    assert_int_equal(mlops_explainer_open(&ex, session, names, x, 50), MLOPS_OK);
    assert_int_equal(mlops_explain_global(&json, ex, x, 50), MLOPS_OK);
    assert_non_null(strstr(json, "{\"method\":\"linear\",\"output\":0,\"rows\":50,\"features\":[{\"name\":\"c\","
                                 "\"importance\":"));
    assert_non_null(strstr(json, "{\"name\":\"d\",\"importance\":0,\"std_error\":0}]}"));
    mlops_free(json);
    assert_int_equal(mlops_explain_permutation(&json, ex, x, labels, 50, "{\"metric\":\"rmse\",\"repeats\":3,\"seed\":1}"),
                     MLOPS_OK);
    assert_non_null(strstr(json, "{\"method\":\"permutation\",\"output\":0,\"rows\":50,\"metric\":\"rmse\","
                                 "\"features\":[{\"name\":\"c\",\"importance\":"));
    assert_non_null(strstr(json, "{\"name\":\"d\",\"importance\":0,\"std_error\":0}]}"));
    mlops_free(json);
    mlops_explainer_free(ex);
    mlops_session_free(session);
}

/* Permutation importance of the digits MLP: accuracy and log loss drop for some pixels, never for the blank ones. */
static void test_permutation_on_digits(void **state)
{
    mlops_session *session = NULL;
    mlops_explainer *ex = NULL;
    char *json = NULL;
    (void)state;
    assert_int_equal(mlops_session_open_file(&session, ts_data("infer/digits_mlp.onnx"), NULL, NULL), MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&ex, session, "{\"steps\":8}", NULL, 0), MLOPS_OK);
    /* the digits MLP outputs logits: classification metrics need them as probabilities */
    ts_assert_error(mlops_explain_permutation(&json, ex, digits_x, digits_label, DIGITS_ROWS, NULL), MLOPS_EINVAL,
                    "not a probability");
    assert_int_equal(mlops_explain_permutation(&json, ex, digits_x, digits_label, DIGITS_ROWS, "{\"outputs\":\"logits\"}"),
                     MLOPS_OK);
    assert_non_null(strstr(json, "\"metric\":\"accuracy\""));
    /* pixel 0 is blank in every digit: shuffling it changes nothing */
    assert_non_null(strstr(json, "{\"name\":\"x0\",\"importance\":0,\"std_error\":0}"));
    mlops_free(json);
    assert_int_equal(mlops_explain_permutation(&json, ex, digits_x, digits_label, DIGITS_ROWS,
                                               "{\"metric\":\"logloss\",\"repeats\":2,\"outputs\":\"logits\"}"),
                     MLOPS_OK);
    assert_non_null(strstr(json, "\"metric\":\"logloss\""));
    mlops_free(json);
    assert_int_equal(mlops_explain_permutation(&json, ex, digits_x, digits_label, DIGITS_ROWS,
                                               "{\"metric\":\"auc\",\"repeats\":1,\"outputs\":\"logits\"}"),
                     MLOPS_OK);
    mlops_free(json);
    mlops_explainer_free(ex);
    mlops_session_free(session);
}

/* ---- warm runs and errors ---------------------------------------------------------- */
static void test_warm_explanations_allocate_nothing(void **state)
{
    mlops_session *session = open_model("mlp_tanh", NULL), *kinked = open_model("mlp_relu_tanh", NULL);
    mlops_explainer *ex[3] = {NULL, NULL, NULL};
    float x[3 * 6], background[5 * 6], phi[18], se[18];
    int i;
    (void)state;
    fill(x, 18, 15, 1.0f);
    fill(background, 30, 16, 1.0f);
    ts_alloc_install();
    assert_int_equal(mlops_explainer_open(&ex[0], session, "{\"steps\":64}", background, 5), MLOPS_OK);
    assert_int_equal(
        mlops_explainer_open(&ex[1], session, "{\"method\":\"kernel_shap\",\"samples\":128}", background, 5),
        MLOPS_OK);
    assert_int_equal(mlops_explainer_open(&ex[2], kinked, "{\"steps\":64}", background, 5), MLOPS_OK);
    for (i = 0; i < 3; i++)
        assert_int_equal(mlops_explain_rows(phi, se, NULL, NULL, 18, ex[i], x, 3), MLOPS_OK);
    ts_alloc_fail_at(1);
    for (i = 0; i < 3; i++)
        assert_int_equal(mlops_explain_rows(phi, se, NULL, NULL, 18, ex[i], x, 3), MLOPS_OK);
    assert_false(ts_alloc_failure_hit());
    ts_alloc_fail_at(0);
    for (i = 0; i < 3; i++)
        mlops_explainer_free(ex[i]);
    assert_int_equal(ts_alloc_live(), 0);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_session_free(session);
    mlops_session_free(kinked);
}

static void test_errors(void **state)
{
    mlops_session *linear = open_model("linear", NULL), *mlp = open_model("mlp_tanh", NULL);
    mlops_session *quantized = open_model("quantized", NULL);
    mlops_explainer *ex = NULL;
    float x[6 * 4] = {0}, out[32], labels[4] = {0};
    char *json = (char *)1;
    (void)state;
    /* NULL arguments */
    ts_assert_error(mlops_explainer_open(NULL, linear, NULL, NULL, 0), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_explainer_open(&ex, NULL, NULL, NULL, 0), MLOPS_EINVAL, "session");
    ts_assert_error(mlops_explainer_open(&ex, linear, NULL, NULL, 3), MLOPS_EINVAL, "background");
    /* options */
    expect_open_error(linear, "[1]", NULL, 0, MLOPS_EFORMAT, "$ must be an object");
    expect_open_error(linear, "{\"method\":", NULL, 0, MLOPS_EFORMAT, "explainer options");
    expect_open_error(linear, "{\"colour\":1}", NULL, 0, MLOPS_EFORMAT, "colour");
    expect_open_error(linear, "{\"method\":\"lime\"}", NULL, 0, MLOPS_EFORMAT, "$.method: \"lime\"");
    expect_open_error(linear, "{\"steps\":0}", NULL, 0, MLOPS_EFORMAT, "$.steps");
    expect_open_error(linear, "{\"samples\":\"many\"}", NULL, 0, MLOPS_EFORMAT, "$.samples");
    expect_open_error(linear, "{\"output\":1}", NULL, 0, MLOPS_EFORMAT, "$.output: 1 is outside [0, 0]");
    expect_open_error(linear, "{\"baseline\":\"median\"}", NULL, 0, MLOPS_EFORMAT, "$.baseline: \"median\"");
    expect_open_error(linear, "{\"baseline\":[1,2]}", NULL, 0, MLOPS_EFORMAT, "$.baseline has 2 items, the model has 5");
    expect_open_error(linear, "{\"baseline\":[1,2,3,4,\"5\"]}", NULL, 0, MLOPS_EFORMAT, "$.baseline[4] must be a number");
    expect_open_error(linear, "{\"baseline\":7}", NULL, 0, MLOPS_EFORMAT, "$.baseline must be an array");
    expect_open_error(linear, "{\"features\":[\"a\"]}", NULL, 0, MLOPS_EFORMAT, "$.features has 1 items");
    expect_open_error(linear, "{\"features\":[1,2,3,4,5]}", NULL, 0, MLOPS_EFORMAT, "$.features[0] must be a string");
    expect_open_error(linear, "{\"rule\":\"simpson\"}", NULL, 0, MLOPS_EFORMAT, "$.rule: \"simpson\"");
    expect_open_error(linear, "{\"scale\":\"odds\"}", NULL, 0, MLOPS_EFORMAT, "$.scale: \"odds\"");
    expect_open_error(mlp, "{\"scale\":\"logit\"}", NULL, 0, MLOPS_EFORMAT, "only method \"linear\" has a scale");
    expect_open_error(linear, "{\"scale\":\"probability\"}", NULL, 0, MLOPS_EINVAL, "ends in Sigmoid or Softmax");
    expect_open_error(mlp, "{\"method\":\"linear\"}", NULL, 0, MLOPS_EUNSUPPORTED, "one linear layer");
    expect_open_error(mlp, "{\"method\":\"kernel_shap\"}", NULL, 0, MLOPS_EINVAL, "needs a background");
    expect_open_error(mlp, "{\"baseline\":\"mean\"}", NULL, 0, MLOPS_EINVAL, "baseline \"mean\" needs a background");
    /* an op without a derivative, named */
    expect_open_error(quantized, "{\"method\":\"integrated_gradients\"}", NULL, 0, MLOPS_EUNSUPPORTED,
                      "(QuantizeLinear) has no derivative");
    assert_int_equal(mlops_explainer_open(&ex, quantized, "{\"method\":\"kernel_shap\",\"samples\":8}", x, 2), MLOPS_OK);
    ts_assert_error(mlops_explain_gradient(out, 32, ex, x, 1), MLOPS_EUNSUPPORTED, "(QuantizeLinear) has no derivative");
    assert_int_equal(mlops_explain_rows(out, NULL, NULL, NULL, 32, ex, x, 1), MLOPS_OK);
    mlops_explainer_free(ex);
    /* models the explainer refuses, by what it refuses */
    {
        static const char *const refused[][3] = {
            {"refused_fixed_batch", NULL, "first dimension is the batch"},
            {"refused_int_output", NULL, "first output \"y\" is int64, not float"},
            {"refused_cast_int", "{\"method\":\"integrated_gradients\"}", "(Cast) has no derivative: its output is not float"},
            {"refused_matmul3d", "{\"method\":\"integrated_gradients\"}", "(MatMul) has no derivative for inputs of rank other than 2"},
            {"refused_layer_norm_scale", "{\"method\":\"integrated_gradients\"}",
             "(LayerNormalization) has no derivative with respect to its parameters"},
        };
        size_t i;
        for (i = 0; i < sizeof refused / sizeof refused[0]; i++) {
            mlops_session *session = open_model(refused[i][0], NULL);
            expect_open_error(session, refused[i][1], NULL, 0, MLOPS_EUNSUPPORTED, refused[i][2]);
            mlops_session_free(session);
        }
    }
    /* calls */
    assert_int_equal(mlops_explainer_open(&ex, linear, NULL, x, 4), MLOPS_OK);
    ts_assert_error(mlops_explain_rows(NULL, NULL, NULL, NULL, 32, ex, x, 1), MLOPS_EINVAL, "attributions");
    ts_assert_error(mlops_explain_rows(out, NULL, NULL, NULL, 32, NULL, x, 1), MLOPS_EINVAL, "explainer");
    ts_assert_error(mlops_explain_rows(out, NULL, NULL, NULL, 32, ex, NULL, 1), MLOPS_EINVAL, "input");
    ts_assert_error(mlops_explain_rows(out, NULL, NULL, NULL, 32, ex, x, 0), MLOPS_EINVAL, "rows must be 1");
    ts_assert_error(mlops_explain_rows(out, NULL, NULL, NULL, 9, ex, x, 2), MLOPS_EBUFSIZE, "2 rows need 10 floats, capacity is 9");
    ts_assert_error(mlops_explain_gradient(NULL, 32, ex, x, 1), MLOPS_EINVAL, "gradients");
    ts_assert_error(mlops_explain_gradient(out, 4, ex, x, 1), MLOPS_EBUFSIZE, "capacity is 4");
    ts_assert_error(mlops_explain_rows_json(NULL, ex, x, 1), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_explain_rows_json(&json, ex, NULL, 1), MLOPS_EINVAL, "input");
    assert_null(json);
    ts_assert_error(mlops_explain_global(NULL, ex, x, 1), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_explain_global(&json, NULL, x, 1), MLOPS_EINVAL, "explainer");
    ts_assert_error(mlops_explain_permutation(NULL, ex, x, labels, 4, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, NULL, 4, NULL), MLOPS_EINVAL, "labels");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "{\"metric\":\"fun\"}"), MLOPS_EFORMAT,
                    "$.metric: \"fun\" is not a metric of a one-column output");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "{\"repeats\":0}"), MLOPS_EFORMAT, "$.repeats");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "{\"seed\":true}"), MLOPS_EFORMAT, "$.seed");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "{\"metric\":"), MLOPS_EFORMAT, "permutation options");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "[]"), MLOPS_EFORMAT, "$ must be an object");
    ts_assert_error(mlops_explain_permutation(&json, ex, x, labels, 4, "{\"outputs\":\"odds\"}"), MLOPS_EFORMAT,
                    "$.outputs: \"odds\" is not probabilities or logits");
    assert_null(json);
    mlops_explainer_free(ex);
    /* accessors on NULL */
    assert_int_equal(mlops_explainer_method(NULL), 0);
    assert_int_equal(mlops_explainer_features(NULL), 0);
    assert_null(mlops_explainer_feature_name(NULL, 0));
    assert_true(isnan(mlops_explainer_baseline_output(NULL)));
    mlops_explainer_free(NULL);
    mlops_session_free(linear);
    mlops_session_free(mlp);
    mlops_session_free(quantized);
}

/* ---- allocation failures ------------------------------------------------------------- */
typedef struct alloc_ctx {
    mlops_session *session;
    const char *options;
    const float *background;
    size_t background_rows;
    int what;                /* 0 rows JSON, 1 global, 2 permutation */
    mlops_explainer *ex;
    char *json;
} alloc_ctx;

static int alloc_call(void *arg)
{
    alloc_ctx *ctx = arg;
    static const float labels[3] = {0.0f, 1.0f, 2.0f};
    float x[3 * 6];
    int rc;
    fill(x, 18, 17, 1.0f);
    if ((rc = mlops_explainer_open(&ctx->ex, ctx->session, ctx->options, ctx->background, ctx->background_rows)) !=
        MLOPS_OK)
        return rc;
    if (ctx->what == 0)
        return mlops_explain_rows_json(&ctx->json, ctx->ex, x, 3);
    if (ctx->what == 1)
        return mlops_explain_global(&ctx->json, ctx->ex, x, 3);
    return mlops_explain_permutation(&ctx->json, ctx->ex, x, labels, 3, "{\"repeats\":2}");
}

static void alloc_cleanup(void *arg)
{
    alloc_ctx *ctx = arg;
    mlops_explainer_free(ctx->ex);
    mlops_free(ctx->json);
    ctx->ex = NULL;
    ctx->json = NULL;
}

static void test_allocation_failures(void **state)
{
    mlops_session *session = open_model("mlp_tanh", NULL);
    float background[4 * 6];
    alloc_ctx ctx = {NULL, NULL, NULL, 4, 0, NULL, NULL};
    static const char *const options[] = {"{\"steps\":8,\"features\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\"]}",
                                          "{\"method\":\"kernel_shap\",\"samples\":16}",
                                          "{\"method\":\"integrated_gradients\",\"baseline\":\"mean\",\"steps\":4}"};
    int i;
    (void)state;
    fill(background, 24, 18, 1.0f);
    ctx.session = session;
    ctx.background = background;
    for (i = 0; i < 3; i++) {
        ctx.options = options[i];
        ctx.what = i;
        assert_true(ts_each_allocation_failure(alloc_call, alloc_cleanup, &ctx) > 5);
        assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    }
    mlops_session_free(session);
    session = open_model("mlp_relu_tanh", NULL);
    ctx.session = session;
    ctx.options = "{\"steps\":8}";
    ctx.what = 0;
    assert_true(ts_each_allocation_failure(alloc_call, alloc_cleanup, &ctx) > 5);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_session_free(session);
    session = open_model("softmax", NULL);
    ctx.session = session;
    ctx.options = "{\"scale\":\"probability\",\"output\":2}";
    ctx.what = 0;
    ctx.background = NULL;
    ctx.background_rows = 0;
    assert_true(ts_each_allocation_failure(alloc_call, alloc_cleanup, &ctx) > 5);
    assert_int_equal(mlops_allocator_set(NULL), MLOPS_OK);
    mlops_session_free(session);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linear_shap_is_the_closed_form),
        cmocka_unit_test(test_softmax_model_is_linear),
        cmocka_unit_test(test_integrated_gradients_are_complete),
        cmocka_unit_test(test_integrated_gradients_on_relu_networks),
        cmocka_unit_test(test_piecewise_rule_is_exact),
        cmocka_unit_test(test_piecewise_rule_with_smooth_ops),
        cmocka_unit_test(test_piecewise_segment_cap),
        cmocka_unit_test(test_integrated_gradients_options),
        cmocka_unit_test(test_gradients_match_finite_differences),
        cmocka_unit_test(test_op_models_fuse_as_expected),
        cmocka_unit_test(test_kernel_shap_converges_to_linear_shap),
        cmocka_unit_test(test_kernel_shap_error_shrinks),
        cmocka_unit_test(test_int8_session_is_explained_through_its_fp32_twin),
        cmocka_unit_test(test_rows_json),
        cmocka_unit_test(test_names_default_to_the_session),
        cmocka_unit_test(test_global_importance),
        cmocka_unit_test(test_permutation_on_digits),
        cmocka_unit_test(test_warm_explanations_allocate_nothing),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
