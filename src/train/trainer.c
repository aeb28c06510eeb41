/*
 * Training a net from a frame.
 *
 * Reproducibility: every random draw comes from the seeded generator in
 * rng.c (initialisation, split and shuffle each on their own stream). Each
 * mini-batch is cut into `shards` contiguous pieces whose count comes from the
 * configuration, never from the thread count; each piece's gradient is
 * computed on its own (one cblas call per product, see net.c) and the pieces
 * are summed in piece order. Threads only decide who computes which piece, so
 * 1 or N threads give bit-identical weights. The trainer never changes
 * OpenBLAS's process-wide settings.
 */
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB
#define EVAL_CHUNK 256

typedef struct shard_work {
    mlops__forward fw;
    float *grad;              /* this piece's gradient, param_count floats */
    float *delta[2];          /* back-propagated gradients, rows x widest layer */
    double loss;              /* weighted loss summed over the piece's rows */
    size_t begin, end;        /* rows of the current batch */
} shard_work;

typedef struct epoch_record {
    double loss, validation, learning_rate;
} epoch_record;

typedef struct trainer {
    const mlops__train_config *cfg;
    mlops_net *net;
    size_t rows;
    float *x;                 /* all rows, imputed and standardised */
    float *y;                 /* label per row */
    float *row_weight;        /* class weight per row */
    size_t *train_idx, *val_idx, *test_idx;
    size_t n_train, n_val, n_test;
    float *xb, *yb, *wb;      /* the gathered batch */
    double batch_weight;
    shard_work *shards;
    size_t shard_count;
    float *grad, *m, *v, *best;
    int64_t step;
    epoch_record *history;
    int64_t epochs_run, best_epoch;
    mlops_train_progress_fn progress;
    void *progress_payload;
    /* worker threads: each batch bumps `generation`; workers run their pieces and count down `pending` */
    pthread_t *threads;
    size_t thread_count, threads_started;
    pthread_mutex_t lock;
    pthread_cond_t wake, finished;
    uint64_t generation;
    size_t pending;
    int pool_ready, stop;
} trainer;

/* ---- data ------------------------------------------------------------------------ */

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return x < y ? -1 : x > y;
}

/* Row a is before row b when its timestamp is earlier (the sort is stable: equal times keep row order). */
static int time_before(const void *ctx, size_t a, size_t b)
{
    const int64_t *times = ctx;
    return times[a] < times[b];
}

/*
 * Split the rows. By fraction: a seeded shuffle, test rows first, then
 * validation, the rest trains. By time: rows sorted by the timestamp column,
 * the earliest train, then validation, then test; a boundary never separates
 * equal timestamps (it moves earlier), so no training row is later than, or as
 * late as, any validation or test row.
 */
static int split_rows(trainer *t, const mlops_frame *frame)
{
    const mlops__train_config *cfg = t->cfg;
    size_t n = t->rows, i, n_test = (size_t)((double)n * cfg->test_fraction),
           n_val = (size_t)((double)n * cfg->validation_fraction);
    size_t *all = mlops__malloc(2 * n * sizeof *all + 1);
    int rc = MLOPS_OK;
    if (!all)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory splitting %zu rows", n);
    for (i = 0; i < n; i++)
        all[i] = i;
    if (cfg->time_column) {
        size_t column, cut_val, cut_test;
        const int64_t *times;
        const uint8_t *nulls;
        if ((rc = mlops_frame_column_index(&column, frame, cfg->time_column)))
            goto out_free;
        if (mlops_frame_column_type(frame, column) != MLOPS_TYPE_INT64) {
            rc = mlops__error(MLOPS_EINVAL, SUB, "$.split.time_column: column \"%s\" is not an int64 timestamp",
                              cfg->time_column);
            goto out_free;
        }
        mlops_frame_column_int64(&times, frame, column);
        mlops_frame_column_nulls(&nulls, frame, column);
        for (i = 0; i < n; i++) {
            if (nulls[i]) {
                rc = mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: a null timestamp cannot be split",
                                  cfg->time_column, i);
                goto out_free;
            }
        }
        mlops__sort_indices(all, all + n, n, time_before, times);
        cut_test = n - n_test;
        while (n_test && cut_test > 0 && cut_test < n && times[all[cut_test - 1]] == times[all[cut_test]])
            cut_test--;
        cut_val = cut_test - (n_val < cut_test ? n_val : cut_test);
        while (n_val && cut_val > 0 && times[all[cut_val - 1]] == times[all[cut_val]])
            cut_val--;
        t->n_train = cut_val;
        t->n_val = cut_test - cut_val;
        t->n_test = n - cut_test;
        memcpy(t->train_idx, all, t->n_train * sizeof *all);
        memcpy(t->val_idx, all + cut_val, t->n_val * sizeof *all);
        memcpy(t->test_idx, all + cut_test, t->n_test * sizeof *all);
    } else {
        mlops__rng rng;
        mlops__rng_seed(&rng, cfg->seed, MLOPS__STREAM_SPLIT);
        mlops__rng_shuffle(&rng, all, n);
        t->n_test = n_test;
        t->n_val = n_val;
        t->n_train = n - n_test - n_val;
        memcpy(t->test_idx, all, n_test * sizeof *all);
        memcpy(t->val_idx, all + n_test, n_val * sizeof *all);
        memcpy(t->train_idx, all + n_test + n_val, t->n_train * sizeof *all);
    }
    qsort(t->train_idx, t->n_train, sizeof *all, cmp_size);
    qsort(t->val_idx, t->n_val, sizeof *all, cmp_size);
    qsort(t->test_idx, t->n_test, sizeof *all, cmp_size);
    if (!t->n_train)
        rc = mlops__error(MLOPS_EINVAL, SUB, "no rows left to train on after the split of %zu rows", n);
out_free:
    mlops__free(all);
    return rc;
}

/* Check labels, infer the class count, and set each row's class weight. */
static int check_labels(trainer *t, size_t *classes)
{
    const mlops__train_config *cfg = t->cfg;
    size_t i, top = 0;
    for (i = 0; i < t->rows; i++) {
        float y = t->y[i];
        if (!isfinite(y))
            return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: label is not finite", cfg->label, i);
        if (cfg->task == MLOPS_TASK_REGRESSION)
            continue;
        if (y != floorf(y) || y < 0 || y > 65535)
            return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: label %g is not a class index",
                                cfg->label, i, (double)y);
        top = (size_t)y > top ? (size_t)y : top;
    }
    *classes = cfg->task == MLOPS_TASK_REGRESSION ? 0 : cfg->classes ? cfg->classes : top + 1;
    if (cfg->task != MLOPS_TASK_REGRESSION && top >= *classes)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": label %zu is outside the %zu classes", cfg->label,
                            top, *classes);
    if (cfg->task == MLOPS_TASK_MULTICLASS && *classes < 2)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": a multiclass model needs at least 2 classes",
                            cfg->label);
    if (cfg->class_weights && cfg->class_weight_count != *classes)
        return mlops__error(MLOPS_EINVAL, SUB, "$.class_weights: %zu weights for %zu classes",
                            cfg->class_weight_count, *classes);
    for (i = 0; i < t->rows; i++)
        t->row_weight[i] = cfg->class_weights ? (float)cfg->class_weights[(size_t)t->y[i]] : 1.0f;
    return MLOPS_OK;
}

/* Imputation means and standardisation from the training rows only, then applied to every row. */
static int learn_inputs(trainer *t)
{
    mlops_net *net = t->net;
    size_t j, i, n = net->inputs;
    for (j = 0; j < n; j++) {
        double sum = 0, sq = 0, mean, var;
        size_t seen = 0;
        for (i = 0; i < t->n_train; i++) {
            float v = t->x[t->train_idx[i] * n + j];
            if (!isnan(v)) {
                sum += v;
                seen++;
            }
        }
        if (!seen)
            return mlops__error(MLOPS_EINVAL, SUB, "input %zu (in $.features order): every training value is null",
                                j);
        mean = sum / (double)seen;
        net->impute[j] = (float)mean;
        for (i = 0; i < t->rows; i++)
            if (isnan(t->x[i * n + j]))
                t->x[i * n + j] = net->impute[j];
        for (i = 0; i < t->n_train; i++) {
            double d = t->x[t->train_idx[i] * n + j] - mean;
            sq += d * d;
        }
        var = sq / (double)t->n_train;
        net->mean[j] = t->cfg->standardize ? (float)mean : 0.0f;
        net->inv_scale[j] = t->cfg->standardize && var > 0 ? (float)(1.0 / sqrt(var)) : 1.0f;
        for (i = 0; i < t->rows; i++)
            t->x[i * n + j] = (t->x[i * n + j] - net->mean[j]) * net->inv_scale[j];
    }
    return MLOPS_OK;
}

static int load_data(trainer *t, const mlops_frame *frame)
{
    const mlops__train_config *cfg = t->cfg;
    mlops_net *net = t->net;
    size_t width, i;
    int rc;

    if ((rc = mlops_frame_to_matrix(NULL, 0, &width, frame, cfg->features, cfg->feature_count, 0)) &&
        rc != MLOPS_EBUFSIZE)
        return rc;
    if (!width)
        return mlops__error(MLOPS_EINVAL, SUB, "$.features: the columns hold no values");
    if (t->rows < 2)
        return mlops__error(MLOPS_EINVAL, SUB, "the frame has %zu rows; training needs at least 2", t->rows);
    net->inputs = width;
    t->x = mlops__malloc(t->rows * width * sizeof *t->x);
    t->y = mlops__malloc(t->rows * sizeof *t->y);
    t->row_weight = mlops__malloc(t->rows * sizeof *t->row_weight);
    t->train_idx = mlops__malloc(t->rows * sizeof *t->train_idx);
    t->val_idx = mlops__malloc(t->rows * sizeof *t->val_idx);
    t->test_idx = mlops__malloc(t->rows * sizeof *t->test_idx);
    net->impute = mlops__malloc(width * sizeof *net->impute);
    net->mean = mlops__malloc(width * sizeof *net->mean);
    net->inv_scale = mlops__malloc(width * sizeof *net->inv_scale);
    if (!t->x || !t->y || !t->row_weight || !t->train_idx || !t->val_idx || !t->test_idx || !net->impute ||
        !net->mean || !net->inv_scale)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory loading %zu x %zu training values", t->rows, width);
    if ((rc = mlops_frame_to_matrix(t->x, t->rows * width, NULL, frame, cfg->features, cfg->feature_count,
                                    cfg->nulls_refuse ? MLOPS_MATRIX_NULLS_REFUSE : MLOPS_MATRIX_NULLS_AS_NAN)) ||
        (rc = mlops_frame_to_matrix(t->y, t->rows, NULL, frame, &cfg->label, 1, MLOPS_MATRIX_NULLS_REFUSE)))
        return rc;
    for (i = 0; i < t->rows * width; i++)
        if (isinf(t->x[i]) || (cfg->nulls_refuse && isnan(t->x[i])))
            return mlops__error(MLOPS_EINVAL, SUB, "row %zu feature %zu: value is %s", i / width, i % width,
                                isnan(t->x[i]) ? "NaN" : "infinite");
    return MLOPS_OK;
}

/* ---- the net --------------------------------------------------------------------- */

static int build_net(trainer *t, size_t classes)
{
    const mlops__train_config *cfg = t->cfg;
    mlops_net *net = t->net;
    size_t l, in = net->inputs, offset = 0;
    mlops__rng rng;

    net->task = cfg->task;
    net->outputs = cfg->task == MLOPS_TASK_MULTICLASS ? classes : 1;
    net->activation = cfg->activation;
    net->nulls_refuse = cfg->nulls_refuse;
    net->layer_count = cfg->hidden_count + 1;
    net->layers = mlops__calloc(net->layer_count, sizeof *net->layers);
    if (!net->layers)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu layers", net->layer_count);
    for (l = 0; l < net->layer_count; l++) {
        mlops__layer *layer = &net->layers[l];
        layer->in = in;
        layer->out = l < cfg->hidden_count ? cfg->hidden[l] : net->outputs;
        layer->weight_offset = offset;
        offset += layer->out * layer->in + layer->out;
        in = layer->out;
    }
    if (offset > MLOPS__TRAIN_MAX_PARAMETERS)
        return mlops__error(MLOPS_ELIMIT, SUB, "$.model: the net would have %zu parameters (at most %d)", offset,
                            MLOPS__TRAIN_MAX_PARAMETERS);
    net->param_count = offset;
    net->params = mlops__calloc(offset, sizeof *net->params);
    if (!net->params)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for %zu parameters", offset);
    /*
     * Uniform initialisation, layer by layer in row-major order: He bounds
     * sqrt(6 / in) before ReLU and GELU, Glorot sqrt(6 / (in + out)) otherwise;
     * biases start at zero.
     */
    mlops__rng_seed(&rng, cfg->seed, MLOPS__STREAM_INIT);
    for (l = 0; l < net->layer_count; l++) {
        const mlops__layer *layer = &net->layers[l];
        int he = l < cfg->hidden_count && cfg->activation != MLOPS__ACT_TANH;
        float bound = (float)sqrt(6.0 / (double)(he ? layer->in : layer->in + layer->out));
        float *w = net->params + layer->weight_offset;
        size_t i;
        for (i = 0; i < layer->out * layer->in; i++)
            w[i] = (2.0f * mlops__rng_unit_float(&rng) - 1.0f) * bound;
    }
    return MLOPS_OK;
}

static int copy_names(mlops_net *net, const mlops__train_config *cfg)
{
    size_t i;
    net->features = mlops__calloc(cfg->feature_count, sizeof *net->features);
    net->label = mlops__strdup(cfg->label);
    if (!net->features || !net->label)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying column names");
    net->feature_count = cfg->feature_count;
    for (i = 0; i < cfg->feature_count; i++)
        if (!(net->features[i] = mlops__strdup(cfg->features[i])))
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying column names");
    return MLOPS_OK;
}

/* ---- one piece of a batch: forward, loss, backward -------------------------------- */

static size_t widest_layer(const mlops_net *net)
{
    size_t l, w = net->inputs;
    for (l = 0; l < net->layer_count; l++)
        w = net->layers[l].out > w ? net->layers[l].out : w;
    return w;
}

/*
 * Loss of one row of outputs `p` (weighted by `w`); when `scale` > 0, `p` is
 * overwritten with the gradient of the loss with respect to the output layer's
 * values, times `scale`.
 */
static double row_loss(const mlops_net *net, float *p, float y, float w, float scale)
{
    double loss;
    size_t c;
    if (net->task == MLOPS_TASK_REGRESSION) {
        float e = p[0] - y;
        if (scale > 0)
            p[0] = scale * 2.0f * e;
        return (double)w * e * e;
    }
    if (net->task == MLOPS_TASK_BINARY) {
        double q = p[0] < 1e-7f ? 1e-7 : p[0] > 1 - 1e-7f ? 1 - 1e-7 : p[0];
        loss = -(double)w * (y > 0.5f ? log(q) : log(1 - q));
        if (scale > 0)
            p[0] = scale * (p[0] - y);
        return loss;
    }
    loss = -(double)w * log(p[(size_t)y] < 1e-7f ? 1e-7 : p[(size_t)y]);
    if (scale > 0)
        for (c = 0; c < net->outputs; c++)
            p[c] = scale * (p[c] - (c == (size_t)y ? 1.0f : 0.0f));
    return loss;
}

static void run_shard(trainer *t, shard_work *s, const float *params)
{
    const mlops_net *net = t->net;
    size_t rows = s->end - s->begin, i, j, l, L = net->layer_count;
    const float *x = t->xb + s->begin * net->inputs;
    float *p, *dz;
    int cur = 0;

    s->loss = 0;
    if (!rows) {
        memset(s->grad, 0, net->param_count * sizeof *s->grad);
        return;
    }
    p = mlops__forward_run(&s->fw, net, params, x, rows);
    /* The output values are no longer needed once their gradient is known: overwrite in place. */
    for (i = 0; i < rows; i++) {
        size_t r = s->begin + i;
        s->loss += row_loss(net, p + i * net->outputs, t->yb[r], t->wb[r], (float)(t->wb[r] / t->batch_weight));
    }
    dz = p;
    for (l = L; l-- > 0;) {
        const mlops__layer *layer = &net->layers[l];
        const float *input = l ? s->fw.a[l - 1] : x;
        const float *w = params + layer->weight_offset;
        float *gw = s->grad + layer->weight_offset, *gb = gw + layer->out * layer->in;
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)layer->out, (int)layer->in, (int)rows, 1.0f, dz,
                    (int)layer->out, input, (int)layer->in, 0.0f, gw, (int)layer->in);
        memset(gb, 0, layer->out * sizeof *gb);
        for (i = 0; i < rows; i++)
            for (j = 0; j < layer->out; j++)
                gb[j] += dz[i * layer->out + j];
        if (l) {
            float *da = s->delta[cur];
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)rows, (int)layer->in, (int)layer->out,
                        1.0f, dz, (int)layer->out, w, (int)layer->in, 0.0f, da, (int)layer->in);
            mlops__activate_backward(net->activation, da, s->fw.z[l - 1], s->fw.a[l - 1], rows * layer->in);
            dz = da;
            cur ^= 1;
        }
    }
}

/* Pieces id, id + T, id + 2T, ... belong to thread id of T. */
static void run_my_shards(trainer *t, size_t id)
{
    size_t s;
    for (s = id; s < t->shard_count; s += t->thread_count)
        run_shard(t, &t->shards[s], t->net->params);
}

typedef struct worker_arg {
    trainer *t;
    size_t id;
} worker_arg;

static void *worker_main(void *arg)
{
    trainer *t = ((worker_arg *)arg)->t;
    size_t id = ((worker_arg *)arg)->id;
    uint64_t seen = 0;
    mlops__free(arg);
    for (;;) {
        pthread_mutex_lock(&t->lock);
        while (t->generation == seen && !t->stop)
            pthread_cond_wait(&t->wake, &t->lock);
        seen = t->generation;
        if (t->stop) {
            pthread_mutex_unlock(&t->lock);
            break;
        }
        pthread_mutex_unlock(&t->lock);
        run_my_shards(t, id);
        pthread_mutex_lock(&t->lock);
        if (--t->pending == 0)
            pthread_cond_signal(&t->finished);
        pthread_mutex_unlock(&t->lock);
    }
    return NULL;
}

/* Run every piece of the current batch: workers take theirs, the calling thread takes piece set 0. */
static void run_batch(trainer *t)
{
    if (!t->threads) {
        run_my_shards(t, 0);
        return;
    }
    pthread_mutex_lock(&t->lock);
    t->pending = t->thread_count - 1;
    t->generation++;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    run_my_shards(t, 0);
    pthread_mutex_lock(&t->lock);
    while (t->pending)
        pthread_cond_wait(&t->finished, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

static int pool_start(trainer *t)
{
    size_t i;
    if (t->thread_count < 2)
        return MLOPS_OK;
    if (pthread_mutex_init(&t->lock, NULL))
        return mlops__error(MLOPS_ENOMEM, SUB, "cannot create a mutex for the training threads");
    if (pthread_cond_init(&t->wake, NULL)) {
        pthread_mutex_destroy(&t->lock);
        return mlops__error(MLOPS_ENOMEM, SUB, "cannot create a condition for the training threads");
    }
    if (pthread_cond_init(&t->finished, NULL)) {
        pthread_cond_destroy(&t->wake);
        pthread_mutex_destroy(&t->lock);
        return mlops__error(MLOPS_ENOMEM, SUB, "cannot create a condition for the training threads");
    }
    t->pool_ready = 1;
    t->threads = mlops__calloc(t->thread_count, sizeof *t->threads);
    if (!t->threads)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory starting %zu threads", t->thread_count);
    for (i = 1; i < t->thread_count; i++) {
        worker_arg *arg = mlops__malloc(sizeof *arg);
        if (!arg)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory starting training thread %zu", i);
        arg->t = t;
        arg->id = i;
        if (pthread_create(&t->threads[i], NULL, worker_main, arg)) {
            mlops__free(arg);
            return mlops__error(MLOPS_ENOMEM, SUB, "cannot start training thread %zu", i);
        }
        t->threads_started = i;
    }
    return MLOPS_OK;
}

/* Stop and join the workers that started, then drop the pool. */
static void pool_stop(trainer *t)
{
    size_t i;
    if (!t->pool_ready)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_cond_broadcast(&t->wake);
    pthread_mutex_unlock(&t->lock);
    for (i = 1; i <= t->threads_started; i++)
        pthread_join(t->threads[i], NULL);
    pthread_cond_destroy(&t->finished);
    pthread_cond_destroy(&t->wake);
    pthread_mutex_destroy(&t->lock);
    mlops__free(t->threads);
    t->threads = NULL;
}

static int alloc_work(trainer *t)
{
    const mlops_net *net = t->net;
    size_t s, batch = (size_t)t->cfg->batch_size, per_shard, widest = widest_layer(net);
    int rc;
    /* No batch is larger than the training split: size the batch buffers for what can occur. */
    if (batch > t->n_train)
        batch = t->n_train ? t->n_train : 1;
    t->shard_count = (size_t)t->cfg->shards;
    t->thread_count = (size_t)t->cfg->threads;
    per_shard = (batch + t->shard_count - 1) / t->shard_count;
    t->xb = mlops__malloc(batch * net->inputs * sizeof *t->xb);
    t->yb = mlops__malloc(batch * sizeof *t->yb);
    t->wb = mlops__malloc(batch * sizeof *t->wb);
    t->shards = mlops__calloc(t->shard_count, sizeof *t->shards);
    t->grad = mlops__malloc(net->param_count * sizeof *t->grad);
    t->m = mlops__calloc(net->param_count, sizeof *t->m);
    t->v = mlops__calloc(net->param_count, sizeof *t->v);
    t->best = mlops__malloc(net->param_count * sizeof *t->best);
    t->history = mlops__calloc((size_t)t->cfg->epochs, sizeof *t->history);
    if (!t->xb || !t->yb || !t->wb || !t->shards || !t->grad || !t->m || !t->v || !t->best || !t->history)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the training state");
    for (s = 0; s < t->shard_count; s++) {
        shard_work *w = &t->shards[s];
        if ((rc = mlops__forward_init(&w->fw, net, per_shard)))
            return rc;
        w->grad = mlops__malloc(net->param_count * sizeof *w->grad);
        w->delta[0] = mlops__malloc(per_shard * widest * sizeof(float));
        w->delta[1] = mlops__malloc(per_shard * widest * sizeof(float));
        if (!w->grad || !w->delta[0] || !w->delta[1])
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the training state");
    }
    return pool_start(t);
}

static void free_work(trainer *t)
{
    size_t s;
    pool_stop(t);
    for (s = 0; t->shards && s < t->shard_count; s++) {
        mlops__forward_free(&t->shards[s].fw, t->net);
        mlops__free(t->shards[s].grad);
        mlops__free(t->shards[s].delta[0]);
        mlops__free(t->shards[s].delta[1]);
    }
    mlops__free(t->shards);
    mlops__free(t->xb);
    mlops__free(t->yb);
    mlops__free(t->wb);
    mlops__free(t->grad);
    mlops__free(t->m);
    mlops__free(t->v);
    mlops__free(t->best);
    mlops__free(t->history);
    mlops__free(t->x);
    mlops__free(t->y);
    mlops__free(t->row_weight);
    mlops__free(t->train_idx);
    mlops__free(t->val_idx);
    mlops__free(t->test_idx);
}

/* ---- optimisation ---------------------------------------------------------------- */

static double learning_rate(const mlops__train_config *cfg, int64_t epoch)
{
    switch (cfg->schedule) {
    case MLOPS__SCHED_COSINE:
        return cfg->min_learning_rate + 0.5 * (cfg->learning_rate - cfg->min_learning_rate) *
                                            (1.0 + cos(3.14159265358979324 * (double)epoch / (double)cfg->epochs));
    case MLOPS__SCHED_STEP:
        return cfg->learning_rate * pow(cfg->gamma, floor((double)epoch / (double)cfg->step_epochs));
    default:
        return cfg->learning_rate;
    }
}

/* Sum the pieces' gradients in piece order, add weight decay, and take one optimiser step. */
static void update(trainer *t, double lr)
{
    const mlops__train_config *cfg = t->cfg;
    mlops_net *net = t->net;
    float *g = t->shard_count == 1 ? t->shards[0].grad : t->grad;
    size_t i, s, l;
    double c1, c2;

    if (t->shard_count > 1) {
        memcpy(g, t->shards[0].grad, net->param_count * sizeof *g);
        for (s = 1; s < t->shard_count; s++)
            for (i = 0; i < net->param_count; i++)
                g[i] += t->shards[s].grad[i];
    }
    if (cfg->weight_decay > 0) {
        float wd = (float)cfg->weight_decay;
        for (l = 0; l < net->layer_count; l++) {
            const mlops__layer *layer = &net->layers[l];
            for (i = 0; i < layer->out * layer->in; i++)
                g[layer->weight_offset + i] += wd * net->params[layer->weight_offset + i];
        }
    }
    t->step++;
    if (cfg->optimizer == MLOPS__OPT_SGD) {
        float mu = (float)cfg->momentum, rate = (float)lr;
        for (i = 0; i < net->param_count; i++) {
            t->m[i] = mu * t->m[i] + g[i];
            net->params[i] -= rate * t->m[i];
        }
        return;
    }
    c1 = 1.0 - pow(cfg->beta1, (double)t->step);
    c2 = 1.0 - pow(cfg->beta2, (double)t->step);
    {
        float b1 = (float)cfg->beta1, b2 = (float)cfg->beta2, eps = (float)cfg->epsilon;
        float step_size = (float)(lr / c1), inv_c2 = (float)(1.0 / c2);
        for (i = 0; i < net->param_count; i++) {
            t->m[i] = b1 * t->m[i] + (1.0f - b1) * g[i];
            t->v[i] = b2 * t->v[i] + (1.0f - b2) * g[i] * g[i];
            net->params[i] -= step_size * t->m[i] / (sqrtf(t->v[i] * inv_c2) + eps);
        }
    }
}

/* One pass over the training rows in a seeded random order; returns the mean weighted loss. */
static double run_epoch(trainer *t, mlops__rng *shuffle, double lr)
{
    const mlops_net *net = t->net;
    size_t batch = (size_t)t->cfg->batch_size, start, m, i, s;
    double loss = 0, weight = 0;

    mlops__rng_shuffle(shuffle, t->train_idx, t->n_train);
    for (start = 0; start < t->n_train; start += m) {
        m = t->n_train - start < batch ? t->n_train - start : batch;
        t->batch_weight = 0;
        for (i = 0; i < m; i++) {
            size_t r = t->train_idx[start + i];
            memcpy(t->xb + i * net->inputs, t->x + r * net->inputs, net->inputs * sizeof *t->xb);
            t->yb[i] = t->y[r];
            t->wb[i] = t->row_weight[r];
            t->batch_weight += t->wb[i];
        }
        for (s = 0; s < t->shard_count; s++) {
            t->shards[s].begin = s * m / t->shard_count;
            t->shards[s].end = (s + 1) * m / t->shard_count;
        }
        run_batch(t);
        for (s = 0; s < t->shard_count; s++)
            loss += t->shards[s].loss;
        weight += t->batch_weight;
        update(t, lr);
    }
    return loss / weight;
}

/* Outputs of the current net for the listed rows (standardised already), into `out`. */
static void predict_rows(trainer *t, float *out, const size_t *rows, size_t n)
{
    const mlops_net *net = t->net;
    mlops__forward *fw = &t->shards[0].fw;
    size_t done, k, i, chunk = fw->rows;
    for (done = 0; done < n; done += k) {
        k = n - done < chunk ? n - done : chunk;
        for (i = 0; i < k; i++)
            memcpy(t->xb + i * net->inputs, t->x + rows[done + i] * net->inputs, net->inputs * sizeof *t->xb);
        memcpy(out + done * net->outputs, mlops__forward_run(fw, net, net->params, t->xb, k),
               k * net->outputs * sizeof *out);
    }
}

/* Metrics of the current net on the listed rows. */
static int rows_metrics(mlops_metrics **out, trainer *t, const size_t *rows, size_t n, int64_t bootstrap)
{
    const mlops_net *net = t->net;
    float *scores = mlops__malloc(n * net->outputs * sizeof *scores);
    double *labels = mlops__malloc(n * sizeof *labels);
    char options[96];
    size_t i;
    int rc;
    if (!scores || !labels) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory evaluating %zu rows", n);
        goto out_free;
    }
    predict_rows(t, scores, rows, n);
    for (i = 0; i < n; i++)
        labels[i] = t->y[rows[i]];
    snprintf(options, sizeof options, "{\"bootstrap\":%lld,\"seed\":%llu}", (long long)bootstrap,
             (unsigned long long)(t->cfg->seed & 0x1fffffffffffffull));
    rc = mlops_metrics_compute(out, net->task, scores, labels, n, net->outputs == 1 ? 2 : net->outputs, options);
out_free:
    mlops__free(scores);
    mlops__free(labels);
    return rc;
}

/* Validation score: the mean weighted loss, or the named metric. */
static int validation_score(double *out, trainer *t)
{
    const mlops_net *net = t->net;
    mlops_metrics *m = NULL;
    int rc;
    if (strcmp(t->cfg->stop_metric ? t->cfg->stop_metric : "loss", "loss") == 0) {
        float *p = mlops__malloc(t->n_val * net->outputs * sizeof *p);
        double loss = 0, weight = 0;
        size_t i;
        if (!p)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory evaluating %zu rows", t->n_val);
        predict_rows(t, p, t->val_idx, t->n_val);
        for (i = 0; i < t->n_val; i++) {
            size_t r = t->val_idx[i];
            loss += row_loss(net, p + i * net->outputs, t->y[r], t->row_weight[r], 0.0f);
            weight += t->row_weight[r];
        }
        mlops__free(p);
        *out = loss / weight;
        return MLOPS_OK;
    }
    if ((rc = rows_metrics(&m, t, t->val_idx, t->n_val, 0)))
        return rc;
    rc = mlops_metrics_get(out, NULL, NULL, m, t->cfg->stop_metric);
    mlops_metrics_free(m);
    return rc;
}

static int fit(trainer *t)
{
    const mlops__train_config *cfg = t->cfg;
    mlops_net *net = t->net;
    mlops__rng shuffle;
    int64_t epoch, wait = 0;
    int higher = cfg->stop_metric && strcmp(cfg->stop_metric, "loss") != 0
                     ? mlops__metric_higher_is_better(cfg->task, cfg->stop_metric) : 0;
    double best = 0;
    int rc;

    mlops__rng_seed(&shuffle, cfg->seed, MLOPS__STREAM_SHUFFLE);
    t->best_epoch = -1;
    for (epoch = 0; epoch < cfg->epochs; epoch++) {
        epoch_record *rec = &t->history[epoch];
        rec->learning_rate = learning_rate(cfg, epoch);
        rec->loss = run_epoch(t, &shuffle, rec->learning_rate);
        rec->validation = NAN;
        t->epochs_run = epoch + 1;
        if (!isfinite(rec->loss))
            return mlops__error(MLOPS_EINVAL, SUB, "epoch %lld: the training loss diverged (%g); lower the "
                                "learning rate", (long long)epoch + 1, rec->loss);
        if (t->n_val && (rc = validation_score(&rec->validation, t)))
            return rc;
        if (t->progress)
            t->progress(epoch + 1, cfg->epochs, rec->loss, rec->validation, t->progress_payload);
        if (!t->n_val || !cfg->stop_metric)
            continue;
        if (t->best_epoch < 0 || (higher ? rec->validation > best + cfg->min_delta
                                         : rec->validation < best - cfg->min_delta)) {
            best = rec->validation;
            t->best_epoch = epoch;
            memcpy(t->best, net->params, net->param_count * sizeof *t->best);
            wait = 0;
        } else if (++wait >= cfg->patience) {
            break;
        }
    }
    if (t->best_epoch >= 0)
        memcpy(net->params, t->best, net->param_count * sizeof *t->best);
    return MLOPS_OK;
}

/* ---- the training record ------------------------------------------------------- */

static void put_floats(mlops__buf *buf, const char *key, const float *values, size_t n)
{
    char text[64];
    size_t i;
    mlops__buf_printf(buf, ",\"%s\":[", key);
    for (i = 0; i < n; i++) {
        mlops__format_double(text, sizeof text, values[i]);
        mlops__buf_printf(buf, "%s%s", i ? "," : "", text);
    }
    mlops__buf_putc(buf, ']');
}

static void put_double(mlops__buf *buf, double v)
{
    char text[64];
    if (isnan(v)) {
        mlops__buf_puts(buf, "null");
        return;
    }
    mlops__format_double(text, sizeof text, v);
    mlops__buf_puts(buf, text);
}

static int write_report(trainer *t)
{
    mlops_net *net = t->net;
    static const char *const tasks[] = {"", "regression", "binary", "multiclass"};
    char *config = mlops__json_print(t->cfg->doc);
    float *scale = mlops__malloc(net->inputs * sizeof *scale);
    mlops__buf buf;
    size_t i;
    int64_t e;
    int rc;

    mlops__buf_init(&buf);
    if (!config || !scale) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory writing the training report");
        goto out_free;
    }
    for (i = 0; i < net->inputs; i++)
        scale[i] = 1.0f / net->inv_scale[i];
    mlops__buf_printf(&buf, "{\"task\":\"%s\",\"inputs\":%zu,\"outputs\":%zu,\"parameters\":%zu",
                      tasks[net->task], net->inputs, net->outputs, net->param_count);
    mlops__buf_printf(&buf, ",\"rows\":{\"train\":%zu,\"validation\":%zu,\"test\":%zu}", t->n_train, t->n_val,
                      t->n_test);
    put_floats(&buf, "impute", net->impute, net->inputs);
    put_floats(&buf, "mean", net->mean, net->inputs);
    put_floats(&buf, "scale", scale, net->inputs);
    mlops__buf_puts(&buf, ",\"epochs\":[");
    for (e = 0; e < t->epochs_run; e++) {
        mlops__buf_printf(&buf, "%s{\"epoch\":%lld,\"learning_rate\":", e ? "," : "", (long long)e + 1);
        put_double(&buf, t->history[e].learning_rate);
        mlops__buf_puts(&buf, ",\"loss\":");
        put_double(&buf, t->history[e].loss);
        mlops__buf_puts(&buf, ",\"validation\":");
        put_double(&buf, t->history[e].validation);
        mlops__buf_putc(&buf, '}');
    }
    mlops__buf_printf(&buf, "],\"validation_metric\":\"%s\",\"best_epoch\":%lld,\"stopped_early\":%s",
                      t->cfg->stop_metric ? t->cfg->stop_metric : "loss",
                      (long long)(t->best_epoch >= 0 ? t->best_epoch + 1 : t->epochs_run),
                      t->epochs_run < t->cfg->epochs ? "true" : "false");
    if (net->test_metrics) {
        mlops__buf_puts(&buf, ",\"test_metrics\":");
        mlops__metrics_to_json(&buf, net->test_metrics);
    }
    mlops__buf_printf(&buf, ",\"config\":%s}", config);
    if (!(rc = mlops__buf_status(&buf, SUB)))
        net->report = mlops__buf_detach(&buf, NULL);
out_free:
    mlops__buf_free(&buf);
    mlops__free(config);
    mlops__free(scale);
    return rc;
}

int mlops_net_train(mlops_net **out, const mlops_frame *frame, const char *config_json)
{
    return mlops_net_train_progress(out, frame, config_json, NULL, NULL);
}

int mlops_net_train_progress(mlops_net **out, const mlops_frame *frame, const char *config_json,
                             mlops_train_progress_fn callback, void *payload)
{
    mlops__train_config cfg;
    trainer t;
    size_t classes = 0;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !frame || !config_json)
        return mlops__error_null(SUB, "mlops_net_train", !out ? "out" : !frame ? "frame" : "config_json");
    memset(&t, 0, sizeof t);
    t.progress = callback;
    t.progress_payload = payload;
    if ((rc = mlops__train_config_parse(&cfg, config_json)))
        goto out_free_config;
    t.cfg = &cfg;
    t.rows = mlops_frame_rows(frame);
    t.net = mlops__calloc(1, sizeof *t.net);
    if (!t.net) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory creating a net");
        goto out_free_config;
    }
    if ((rc = copy_names(t.net, &cfg)) || (rc = load_data(&t, frame)) || (rc = check_labels(&t, &classes)) ||
        (rc = split_rows(&t, frame)) || (rc = learn_inputs(&t)) || (rc = build_net(&t, classes)) ||
        (rc = alloc_work(&t)) || (rc = fit(&t)))
        goto out_free_work;
    if (t.n_test && (rc = rows_metrics(&t.net->test_metrics, &t, t.test_idx, t.n_test, cfg.bootstrap)))
        goto out_free_work;
    rc = write_report(&t);
out_free_work:
    free_work(&t);
    if (rc)
        mlops_net_free(t.net);
    else
        *out = t.net;
out_free_config:
    mlops__train_config_free(&cfg);
    return rc;
}
