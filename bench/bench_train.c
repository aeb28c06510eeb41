/*
 * Trainer throughput: samples per second over one epoch of a 3 x 1024 ReLU
 * MLP (64 inputs, 10 classes, Adam, batch 256) on 100 000 rows.
 *
 *   bench_train [REPETITIONS [THREADS SHARDS]]
 *
 * Prints one line per repetition and the median, as "samples_per_s=...".
 * Each repetition trains one epoch from the frame, so it includes reading the
 * frame and standardising it (a few milliseconds against seconds of GEMMs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "mlops.h"

#include "bench_clock.h"

#define ROWS 100000
#define INPUTS 64
#define CLASSES 10

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static mlops_frame *make_frame(void)
{
    mlops_frame *frame = NULL;
    double *column = malloc(ROWS * sizeof *column);
    int64_t *label = malloc(ROWS * sizeof *label);
    uint64_t x = 42;
    char name[16];
    size_t i, j;
    if (!column || !label || mlops_frame_new(&frame))
        exit(1);
    for (i = 0; i < ROWS; i++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        label[i] = (int64_t)((x >> 33) % CLASSES);
    }
    for (j = 0; j < INPUTS; j++) {
        for (i = 0; i < ROWS; i++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            column[i] = (double)(x >> 11) / 9007199254740992.0 + 0.05 * (double)((label[i] + j) % CLASSES);
        }
        snprintf(name, sizeof name, "f%zu", j);
        if (mlops_frame_add_float64(frame, name, column, NULL, ROWS))
            exit(1);
    }
    if (mlops_frame_add_int64(frame, "label", label, NULL, ROWS))
        exit(1);
    free(column);
    free(label);
    return frame;
}

int main(int argc, char **argv)
{
    int reps = argc > 1 ? atoi(argv[1]) : 3, threads = argc > 2 ? atoi(argv[2]) : 1;
    int shards = argc > 3 ? atoi(argv[3]) : 1, r;
    mlops_frame *frame = make_frame();
    double *rates = calloc((size_t)(reps > 0 ? reps : 1), sizeof *rates);
    char config[4096];
    size_t off, j;

    off = (size_t)snprintf(config, sizeof config, "{\"features\":[");
    for (j = 0; j < INPUTS; j++)
        off += (size_t)snprintf(config + off, sizeof config - off, "%s\"f%zu\"", j ? "," : "", j);
    snprintf(config + off, sizeof config - off,
             "],\"label\":\"label\",\"task\":\"multiclass\",\"classes\":%d,\"model\":{\"type\":\"mlp\","
             "\"hidden\":[1024,1024,1024],\"activation\":\"relu\"},\"optimizer\":{\"type\":\"adam\","
             "\"learning_rate\":0.001},\"epochs\":1,\"batch_size\":256,\"seed\":1,\"threads\":%d,\"shards\":%d}",
             CLASSES, threads, shards);
    for (r = 0; r < reps; r++) {
        mlops_net *net = NULL;
        double t0 = now_s(), dt;
        if (mlops_net_train(&net, frame, config)) {
            fprintf(stderr, "bench_train: %s\n", mlops_error_last()->message);
            return 1;
        }
        dt = now_s() - t0;
        rates[r] = ROWS / dt;
        printf("rep %d: %.3f s, samples_per_s=%.0f\n", r + 1, dt, rates[r]);
        mlops_net_free(net);
    }
    qsort(rates, (size_t)reps, sizeof *rates, cmp_double);
    printf("libmlops threads=%d shards=%d median samples_per_s=%.0f\n", threads, shards, rates[reps / 2]);
    free(rates);
    mlops_frame_free(frame);
    return 0;
}
