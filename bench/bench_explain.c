/*
 * Explanations per second of one model, one row per call as a host explaining
 * each refused transaction would ask: integrated gradients at 64, 256 and
 * 4096 uniform steps (trapezoid rule) and with the piecewise rule, baseline
 * the mean of the background, and KernelSHAP (512 coalitions against 32
 * background rows), output 0, one thread. Each repetition explains ROWS rows;
 * prints the median over the repetitions:
 *   mlops <label> ig64|ig256|ig4096|ig_piecewise|kernel_shap explanations_per_s <v>
 * and, on stderr, the mean and the largest completeness error of integrated
 * gradients relative to |output| (at least 1e-2).
 * Usage: bench_explain MODEL.onnx LABEL fp32|int8 [--reps R] [--rows N]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlops.h"

#include "bench_clock.h"

#define BACKGROUND 32

static void check(int rc, const char *what)
{
    if (rc != MLOPS_OK) {
        fprintf(stderr, "bench_explain: %s: %s\n", what, mlops_error_last()->message);
        exit(1);
    }
}

/* The same inputs as bench/explain_peer.py: ((i * 7919) % 1000) / 500 - 1, scaled to the digits' 0..16. */
static void fill(float *x, size_t n)
{
    size_t i;
    for (i = 0; i < n; i++)
        x[i] = (float)(((double)((i * 7919) % 1000) / 500.0 - 1.0) * 8.0 + 8.0);
}

static void bench(const mlops_session *session, const char *label, const char *figure, const char *options,
                  const float *x, size_t rows, const float *background, int reps)
{
    mlops_explainer *ex = NULL;
    size_t width = mlops_session_input_width(session), r;
    float *phi = malloc(width * sizeof *phi), prediction, error;
    double *samples = malloc((size_t)reps * sizeof *samples), errors = 0.0, worst = 0.0;
    int rep;
    if (!phi || !samples) {
        fprintf(stderr, "bench_explain: out of memory\n");
        exit(1);
    }
    check(mlops_explainer_open(&ex, session, options, background, BACKGROUND), "open");
    check(mlops_explain_rows(phi, NULL, &prediction, &error, width, ex, x, 1), "warm-up");
    for (rep = 0; rep < reps; rep++) {
        double start = now_s();
        for (r = 0; r < rows; r++) {
            check(mlops_explain_rows(phi, NULL, &prediction, &error, width, ex, x + r * width, 1), "explain");
            errors += error;
            worst = fmax(worst, error / fmax(fabs(prediction), 1e-2));
        }
        samples[rep] = (double)rows / (now_s() - start);
    }
    qsort(samples, (size_t)reps, sizeof *samples, by_value);
    printf("mlops %s %s explanations_per_s %.1f\n", label, figure,
           reps % 2 ? samples[reps / 2] : 0.5 * (samples[reps / 2 - 1] + samples[reps / 2]));
    if (strncmp(figure, "ig", 2) == 0)
        fprintf(stderr, "# mlops %s %s mean completeness error %.3g, largest relative %.3g\n", label, figure,
                errors / (double)(rows * reps), worst);
    mlops_explainer_free(ex);
    free(phi);
    free(samples);
}

int main(int argc, char **argv)
{
    const char *label, *precision;
    mlops_session *session = NULL;
    int reps = 7, i;
    size_t rows = 200, width;
    float *x, *background;
    char options[64];
    if (argc < 4) {
        fprintf(stderr, "usage: bench_explain MODEL.onnx LABEL fp32|int8 [--reps R] [--rows N]\n");
        return 2;
    }
    label = argv[2];
    precision = argv[3];
    for (i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--rows") == 0)
            rows = (size_t)atol(argv[i + 1]);
    }
    if (reps < 1 || rows < 1) {
        fprintf(stderr, "bench_explain: --reps and --rows must be positive\n");
        return 2;
    }
    snprintf(options, sizeof options, "{\"precision\":\"%s\"}", precision);
    check(mlops_session_open_file(&session, argv[1], options, NULL), "open the model");
    width = mlops_session_input_width(session);
    x = malloc((rows + BACKGROUND) * width * sizeof *x);
    if (!x) {
        fprintf(stderr, "bench_explain: out of memory\n");
        return 1;
    }
    fill(x, (rows + BACKGROUND) * width);
    background = x + rows * width;
    bench(session, label, "ig64", "{\"method\":\"integrated_gradients\",\"rule\":\"trapezoid\",\"steps\":64}", x, rows,
          background, reps);
    bench(session, label, "ig256", "{\"method\":\"integrated_gradients\",\"rule\":\"trapezoid\",\"steps\":256}", x,
          rows, background, reps);
    bench(session, label, "ig4096", "{\"method\":\"integrated_gradients\",\"rule\":\"trapezoid\",\"steps\":4096}",
          x, rows / 4 + 1, background, reps);
    bench(session, label, "ig_piecewise", "{\"method\":\"integrated_gradients\",\"rule\":\"piecewise\",\"steps\":256}",
          x, rows, background, reps);
    bench(session, label, "kernel_shap", "{\"method\":\"kernel_shap\",\"samples\":512}", x, rows / 4 + 1, background,
          reps);
    free(x);
    mlops_session_free(session);
    return 0;
}
