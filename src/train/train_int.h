/*
 * Private pieces of the trainer shared by the files of src/train: the seeded
 * random generator, the parsed configuration, the net's layout and its
 * forward pass, and the metric kernels.
 */
#ifndef MLOPS_TRAIN_INT_H
#define MLOPS_TRAIN_INT_H

#include "mlops/train.h"
#include "../core/core_int.h"

#define MLOPS__TRAIN_SUB "train"

/* ---- random generator ---------------------------------------------------------
 * xoshiro256** (Blackman and Vigna), its 256-bit state filled by splitmix64
 * from seed ^ stream constant, so that initialisation, splitting, shuffling
 * and bootstrap each draw from their own stream of one seed.
 */
#define MLOPS__STREAM_INIT      0x696e69745f777473ull
#define MLOPS__STREAM_SPLIT     0x73706c69745f7274ull
#define MLOPS__STREAM_SHUFFLE   0x73687566666c6521ull
#define MLOPS__STREAM_BOOTSTRAP 0x626f6f7473747270ull

typedef struct mlops__rng { uint64_t s[4]; } mlops__rng;

void mlops__rng_seed(mlops__rng *rng, uint64_t seed, uint64_t stream);
uint64_t mlops__rng_next(mlops__rng *rng);
/* Uniform integer in [0, n), n > 0, without modulo bias (rejection). */
uint64_t mlops__rng_below(mlops__rng *rng, uint64_t n);
/* Uniform float in [0, 1) from the top 24 bits. */
float mlops__rng_unit_float(mlops__rng *rng);
/* Fisher-Yates shuffle of `n` indices, drawing i from [0, k] for k = n-1 .. 1. */
void mlops__rng_shuffle(mlops__rng *rng, size_t *items, size_t n);

/* ---- sorting ------------------------------------------------------------------
 * Stable merge sort of `n` indices by `before(ctx, a, b)` (a strictly before b);
 * `scratch` holds n indices. Reentrant: no global comparison state.
 */
void mlops__sort_indices(size_t *items, size_t *scratch, size_t n, int (*before)(const void *ctx, size_t a, size_t b),
                         const void *ctx);

/* ---- configuration ------------------------------------------------------------- */
#define MLOPS__ACT_RELU 1
#define MLOPS__ACT_GELU 2
#define MLOPS__ACT_TANH 3

#define MLOPS__OPT_SGD  1
#define MLOPS__OPT_ADAM 2

#define MLOPS__SCHED_CONSTANT 1
#define MLOPS__SCHED_COSINE   2
#define MLOPS__SCHED_STEP     3

#define MLOPS__TRAIN_MAX_LAYERS 64
#define MLOPS__TRAIN_MAX_PARAMETERS (1 << 26) /* weights and biases of one net: 256 MiB of floats */

typedef struct mlops__train_config {
    mlops__json *doc;            /* owns every borrowed string below */
    const char **features;       /* column names (mlops__malloc'd array) */
    size_t feature_count;
    const char *label;
    int32_t task;
    size_t classes;              /* 0 = infer from the labels (multiclass) */
    double *class_weights;       /* NULL or `class_weight_count` values */
    size_t class_weight_count;
    size_t hidden[MLOPS__TRAIN_MAX_LAYERS];
    size_t hidden_count;
    int activation;
    int optimizer;
    double learning_rate, momentum, beta1, beta2, epsilon, weight_decay;
    int schedule;
    double min_learning_rate, gamma;
    int64_t step_epochs;
    int64_t epochs, batch_size, threads, shards, bootstrap;
    uint64_t seed;
    int standardize;
    int nulls_refuse;
    double validation_fraction, test_fraction;
    const char *time_column;     /* NULL: random split */
    const char *stop_metric;     /* NULL: no early stopping */
    int64_t patience;
    double min_delta;
} mlops__train_config;

int mlops__train_config_parse(mlops__train_config *cfg, const char *text);
void mlops__train_config_free(mlops__train_config *cfg);

/* ---- the net ------------------------------------------------------------------- */
typedef struct mlops__layer {
    size_t in, out;
    size_t weight_offset;        /* into params: out x in row-major, then `out` biases */
} mlops__layer;

struct mlops_net {
    int32_t task;
    size_t inputs, outputs;
    int activation;
    size_t layer_count;          /* hidden layers + the output layer */
    mlops__layer *layers;
    float *params;
    size_t param_count;
    char **features;             /* input column names */
    size_t feature_count;
    char *label;
    int nulls_refuse;
    float *impute;               /* inputs: the training mean used for nulls */
    float *mean;                 /* inputs: standardisation x' = (x - mean) * inv_scale */
    float *inv_scale;
    char *report;                /* training record (JSON) */
    mlops_metrics *test_metrics;
};

/* Forward workspace for up to `rows` rows: pre-activations and activations per layer. */
typedef struct mlops__forward {
    size_t rows;
    float **z;                   /* layer_count buffers, rows x out */
    float **a;                   /* hidden layers' activations, rows x out */
} mlops__forward;

int mlops__forward_init(mlops__forward *fw, const mlops_net *net, size_t rows);
void mlops__forward_free(mlops__forward *fw, const mlops_net *net);
/*
 * Forward pass of `rows` standardised rows `x` through `params` (laid out as
 * net->layers say); returns the output buffer (rows x outputs) inside `fw`,
 * holding probabilities for classifiers.
 */
float *mlops__forward_run(mlops__forward *fw, const mlops_net *net, const float *params, const float *x,
                          size_t rows);
/* Impute and standardise `rows` raw rows into `out`. */
void mlops__net_prepare(const mlops_net *net, float *out, const float *raw, size_t rows);
/* Apply the hidden activation in place over `n` values (z -> a). */
void mlops__activate(int activation, float *a, const float *z, size_t n);
/* Multiply `grad` by the activation's derivative at z (a = activation(z)). */
void mlops__activate_backward(int activation, float *grad, const float *z, const float *a, size_t n);

/* ---- metrics -------------------------------------------------------------------- */
#define MLOPS__METRICS_MAX 8

struct mlops_metrics {
    int32_t task;
    size_t count;
    const char *names[MLOPS__METRICS_MAX];
    double value[MLOPS__METRICS_MAX];
    double low[MLOPS__METRICS_MAX];
    double high[MLOPS__METRICS_MAX];
    size_t classes;
    int64_t *confusion;          /* classes x classes, NULL for regression */
};

/* Does a larger value of metric `name` mean better (1), smaller (0); -1 = unknown name. */
int mlops__metric_higher_is_better(int32_t task, const char *name);
/* Append the metrics of `m` as a JSON object to `buf`. */
void mlops__metrics_to_json(mlops__buf *buf, const mlops_metrics *m);

#endif /* MLOPS_TRAIN_INT_H */
