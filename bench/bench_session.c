/*
 * Whole-model inference through sessions: batch-1 latency (hot: one model
 * whose weights stay in cache; cold: rotating over copies whose weights
 * together exceed the L2 cache) and batch-256 throughput, for one ONNX model
 * in one precision. Prints one line per figure, the median of the
 * repetitions:
 *   mlops <label> <precision> b1_hot_us <v>
 *   mlops <label> <precision> b1_cold_us <v>
 *   mlops <label> <precision> b256_rows_per_s <v>
 * Usage: bench_session MODEL.onnx LABEL fp32|int8 [--threads N] [--reps R] [--copies C]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlops.h"

#include "bench_clock.h"

#define MAX_COPIES 16

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, by_value);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void check(int rc, const char *what)
{
    if (rc != MLOPS_OK) {
        fprintf(stderr, "bench_session: %s: %s\n", what, mlops_error_last()->message);
        exit(1);
    }
}

/* Seconds per call of `calls` runs of `rows` rows, cycling over `n` sessions. */
static double time_runs(mlops_session **sessions, int n, const float *x, size_t rows, float *y, size_t cap, int calls)
{
    double start = now_s();
    int i;
    for (i = 0; i < calls; i++)
        check(mlops_session_run(sessions[i % n], x, rows, y, cap), "run");
    return (now_s() - start) / calls;
}

int main(int argc, char **argv)
{
    const char *path, *label, *precision;
    int threads = 1, reps = 7, copies = 8, i, r;
    char options[128];
    mlops_session *sessions[MAX_COPIES];
    size_t width, out_width;
    float *x, *y;
    double samples[64];
    if (argc < 4) {
        fprintf(stderr, "usage: bench_session MODEL.onnx LABEL fp32|int8 [--threads N] [--reps R] [--copies C]\n");
        return 2;
    }
    path = argv[1];
    label = argv[2];
    precision = argv[3];
    for (i = 4; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--threads") == 0)
            threads = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--reps") == 0)
            reps = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--copies") == 0)
            copies = atoi(argv[i + 1]);
    }
    if (reps < 1 || reps > 64 || copies < 1 || copies > MAX_COPIES || threads < 1) {
        fprintf(stderr, "bench_session: bad arguments\n");
        return 2;
    }
    snprintf(options, sizeof options, "{\"precision\":\"%s\",\"threads\":%d}", precision, threads);
    for (i = 0; i < copies; i++)
        check(mlops_session_open_file(&sessions[i], path, options, NULL), path);
    width = mlops_session_input_width(sessions[0]);
    out_width = mlops_session_output_width(sessions[0]);
    x = malloc(256 * width * sizeof *x);
    y = malloc(256 * out_width * sizeof *y);
    if (x == NULL || y == NULL)
        return 1;
    for (i = 0; i < (int)(256 * width); i++)
        x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;

    /* warm-up: every session sizes its buffers for both batch sizes */
    for (i = 0; i < copies; i++) {
        check(mlops_session_run(sessions[i], x, 256, y, 256 * out_width), "warm-up");
        check(mlops_session_run(sessions[i], x, 1, y, out_width), "warm-up");
    }
    for (r = 0; r < reps; r++)
        samples[r] = time_runs(sessions, 1, x, 1, y, out_width, 300);
    printf("mlops %s %s b1_hot_us %.2f\n", label, precision, median(samples, reps) * 1e6);
    for (r = 0; r < reps; r++)
        samples[r] = time_runs(sessions, copies, x, 1, y, out_width, 50 * copies);
    printf("mlops %s %s b1_cold_us %.2f\n", label, precision, median(samples, reps) * 1e6);
    for (r = 0; r < reps; r++)
        samples[r] = 256.0 / time_runs(sessions, 1, x, 256, y, 256 * out_width, 20);
    printf("mlops %s %s b256_rows_per_s %.0f\n", label, precision, median(samples, reps));
    for (i = 0; i < copies; i++)
        mlops_session_free(sessions[i]);
    free(x);
    free(y);
    return 0;
}
