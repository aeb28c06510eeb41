/*
 * The trained net: its forward pass (shared by training, evaluation and
 * prediction), accessors, and prediction from raw features or a frame.
 *
 * Every product goes through cblas_sgemm. OpenBLAS splits a product among its
 * threads by blocks of output rows and columns, never along the inner
 * dimension, so each output value is the same chain of multiply-adds whatever
 * its thread count; the trainer adds its own parallelism above that by fixed
 * shards (see trainer.c).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB
#define PREDICT_CHUNK 256

void mlops__activate(int activation, float *a, const float *z, size_t n)
{
    size_t i;
    switch (activation) {
    case MLOPS__ACT_RELU:
        for (i = 0; i < n; i++)
            a[i] = z[i] > 0 ? z[i] : 0.0f;
        break;
    case MLOPS__ACT_GELU:
        for (i = 0; i < n; i++)
            a[i] = 0.5f * z[i] * (1.0f + erff(z[i] * 0.70710678118654752f));
        break;
    default:
        for (i = 0; i < n; i++)
            a[i] = tanhf(z[i]);
        break;
    }
}

void mlops__activate_backward(int activation, float *grad, const float *z, const float *a, size_t n)
{
    size_t i;
    switch (activation) {
    case MLOPS__ACT_RELU:
        for (i = 0; i < n; i++)
            grad[i] = z[i] > 0 ? grad[i] : 0.0f;
        break;
    case MLOPS__ACT_GELU:
        /* d/dz [z * Phi(z)] = Phi(z) + z * phi(z) */
        for (i = 0; i < n; i++) {
            float cdf = 0.5f * (1.0f + erff(z[i] * 0.70710678118654752f));
            float pdf = 0.39894228040143268f * expf(-0.5f * z[i] * z[i]);
            grad[i] *= cdf + z[i] * pdf;
        }
        break;
    default:
        for (i = 0; i < n; i++)
            grad[i] *= 1.0f - a[i] * a[i];
        break;
    }
}

int mlops__forward_init(mlops__forward *fw, const mlops_net *net, size_t rows)
{
    size_t l;
    memset(fw, 0, sizeof *fw);
    fw->rows = rows;
    fw->z = mlops__calloc(net->layer_count, sizeof *fw->z);
    fw->a = mlops__calloc(net->layer_count, sizeof *fw->a);
    if (!fw->z || !fw->a)
        goto out_nomem;
    for (l = 0; l < net->layer_count; l++) {
        fw->z[l] = mlops__malloc(rows * net->layers[l].out * sizeof(float));
        if (!fw->z[l])
            goto out_nomem;
        if (l + 1 < net->layer_count) {
            fw->a[l] = mlops__malloc(rows * net->layers[l].out * sizeof(float));
            if (!fw->a[l])
                goto out_nomem;
        }
    }
    return MLOPS_OK;
out_nomem:
    mlops__forward_free(fw, net);
    return mlops__error(MLOPS_ENOMEM, SUB, "out of memory for the activations of %zu rows", rows);
}

void mlops__forward_free(mlops__forward *fw, const mlops_net *net)
{
    size_t l;
    for (l = 0; l < net->layer_count; l++) {
        if (fw->z)
            mlops__free(fw->z[l]);
        if (fw->a)
            mlops__free(fw->a[l]);
    }
    mlops__free(fw->z);
    mlops__free(fw->a);
    memset(fw, 0, sizeof *fw);
}

/* Turn the output layer's values into probabilities in place (sigmoid or a stable softmax). */
static void output_activation(const mlops_net *net, float *z, size_t rows)
{
    size_t i, c, k = net->outputs;
    if (net->task == MLOPS_TASK_BINARY) {
        for (i = 0; i < rows; i++)
            z[i] = 1.0f / (1.0f + expf(-z[i]));
    } else if (net->task == MLOPS_TASK_MULTICLASS) {
        for (i = 0; i < rows; i++) {
            float *p = z + i * k, max = p[0], sum = 0.0f;
            for (c = 1; c < k; c++)
                max = p[c] > max ? p[c] : max;
            for (c = 0; c < k; c++) {
                p[c] = expf(p[c] - max);
                sum += p[c];
            }
            for (c = 0; c < k; c++)
                p[c] /= sum;
        }
    }
}

float *mlops__forward_run(mlops__forward *fw, const mlops_net *net, const float *params, const float *x,
                          size_t rows)
{
    const float *input = x;
    size_t l, i;
    for (l = 0; l < net->layer_count; l++) {
        const mlops__layer *layer = &net->layers[l];
        const float *w = params + layer->weight_offset, *b = w + layer->out * layer->in;
        float *z = fw->z[l];
        for (i = 0; i < rows; i++)
            memcpy(z + i * layer->out, b, layer->out * sizeof *z);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)rows, (int)layer->out, (int)layer->in, 1.0f,
                    input, (int)layer->in, w, (int)layer->in, 1.0f, z, (int)layer->out);
        if (l + 1 < net->layer_count) {
            mlops__activate(net->activation, fw->a[l], z, rows * layer->out);
            input = fw->a[l];
        }
    }
    output_activation(net, fw->z[net->layer_count - 1], rows);
    return fw->z[net->layer_count - 1];
}

void mlops__net_prepare(const mlops_net *net, float *out, const float *raw, size_t rows)
{
    size_t i, j, n = net->inputs;
    for (i = 0; i < rows; i++) {
        for (j = 0; j < n; j++) {
            float v = raw[i * n + j];
            if (isnan(v))
                v = net->impute[j];
            out[i * n + j] = (v - net->mean[j]) * net->inv_scale[j];
        }
    }
}

/* Forward pass over raw rows in chunks, so memory stays bounded for any row count. */
static int predict_rows(float *out, const mlops_net *net, const float *features, size_t rows)
{
    mlops__forward fw;
    float *prepared;
    size_t done, n;
    int rc;
    if ((rc = mlops__forward_init(&fw, net, PREDICT_CHUNK)))
        return rc;
    prepared = mlops__malloc(PREDICT_CHUNK * net->inputs * sizeof *prepared);
    if (!prepared) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory preparing %d rows", PREDICT_CHUNK);
        goto out_free_forward;
    }
    for (done = 0; done < rows; done += n) {
        n = rows - done < PREDICT_CHUNK ? rows - done : PREDICT_CHUNK;
        mlops__net_prepare(net, prepared, features + done * net->inputs, n);
        memcpy(out + done * net->outputs, mlops__forward_run(&fw, net, net->params, prepared, n),
               n * net->outputs * sizeof *out);
    }
    mlops__free(prepared);
out_free_forward:
    mlops__forward_free(&fw, net);
    return rc;
}

int mlops_net_predict(float *out, size_t capacity, const mlops_net *net, const float *features, size_t rows)
{
    size_t i;
    if (!net || (rows && (!out || !features)))
        return mlops__error_null(SUB, "mlops_net_predict", !net ? "net" : !out ? "out" : "features");
    if (rows > capacity / net->outputs)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_net_predict: needs %zu x %zu floats, capacity is %zu",
                            rows, net->outputs, capacity);
    for (i = 0; i < rows * net->inputs; i++)
        if (isinf(features[i]) || (net->nulls_refuse && isnan(features[i])))
            return mlops__error(MLOPS_EINVAL, SUB, "mlops_net_predict: row %zu feature \"%s\" is %s",
                                i / net->inputs, net->features[i % net->inputs],
                                isnan(features[i]) ? "missing" : "infinite");
    return rows ? predict_rows(out, net, features, rows) : MLOPS_OK;
}

int mlops_net_predict_frame(float *out, size_t capacity, const mlops_net *net, const mlops_frame *frame)
{
    size_t rows, width;
    float *x;
    int rc;
    if (!net || !frame)
        return mlops__error_null(SUB, "mlops_net_predict_frame", !net ? "net" : "frame");
    rows = mlops_frame_rows(frame);
    x = mlops__malloc(rows * net->inputs * sizeof *x + 1);
    if (!x)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory reading %zu rows", rows);
    rc = mlops_frame_to_matrix(x, rows * net->inputs, &width, frame, (const char *const *)net->features,
                               net->feature_count,
                               net->nulls_refuse ? MLOPS_MATRIX_NULLS_REFUSE : MLOPS_MATRIX_NULLS_AS_NAN);
    if (!rc && width != net->inputs)
        rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_net_predict_frame: the frame's features are %zu wide, the net "
                          "takes %zu", width, net->inputs);
    if (!rc)
        rc = mlops_net_predict(out, capacity, net, x, rows);
    mlops__free(x);
    return rc;
}

int mlops_net_evaluate(mlops_metrics **out, const mlops_net *net, const mlops_frame *frame,
                       const char *options_json)
{
    const char *label_column;
    size_t rows, i;
    float *scores = NULL, *labels_f = NULL;
    double *labels = NULL;
    int rc;
    if (out)
        *out = NULL;
    if (!out || !net || !frame)
        return mlops__error_null(SUB, "mlops_net_evaluate", !out ? "out" : !net ? "net" : "frame");
    rows = mlops_frame_rows(frame);
    label_column = net->label;
    scores = mlops__malloc(rows * net->outputs * sizeof *scores + 1);
    labels_f = mlops__malloc(rows * sizeof *labels_f + 1);
    labels = mlops__malloc(rows * sizeof *labels + 1);
    if (!scores || !labels_f || !labels) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory evaluating %zu rows", rows);
        goto out_free;
    }
    if ((rc = mlops_frame_to_matrix(labels_f, rows, NULL, frame, &label_column, 1, MLOPS_MATRIX_NULLS_REFUSE)) ||
        (rc = mlops_net_predict_frame(scores, rows * net->outputs, net, frame)))
        goto out_free;
    for (i = 0; i < rows; i++)
        labels[i] = labels_f[i];
    rc = mlops_metrics_compute(out, net->task, scores, labels, rows,
                               net->task == MLOPS_TASK_REGRESSION ? 0 : net->outputs == 1 ? 2 : net->outputs,
                               options_json);
out_free:
    mlops__free(scores);
    mlops__free(labels_f);
    mlops__free(labels);
    return rc;
}

void mlops_net_free(mlops_net *net)
{
    size_t i;
    if (!net)
        return;
    for (i = 0; i < net->feature_count && net->features; i++)
        mlops__free(net->features[i]);
    mlops__free(net->features);
    mlops__free(net->label);
    mlops__free(net->layers);
    mlops__free(net->params);
    mlops__free(net->impute);
    mlops__free(net->mean);
    mlops__free(net->inv_scale);
    mlops__free(net->report);
    mlops_metrics_free(net->test_metrics);
    mlops__free(net);
}

int32_t mlops_net_task(const mlops_net *net)
{
    return net ? net->task : 0;
}

size_t mlops_net_inputs(const mlops_net *net)
{
    return net ? net->inputs : 0;
}

size_t mlops_net_outputs(const mlops_net *net)
{
    return net ? net->outputs : 0;
}

const char *mlops_net_feature_name(const mlops_net *net, size_t index)
{
    return net && index < net->feature_count ? net->features[index] : NULL;
}

int mlops_net_parameters(float *out, size_t capacity, size_t *count_out, const mlops_net *net)
{
    if (!count_out || !net)
        return mlops__error_null(SUB, "mlops_net_parameters", !count_out ? "count_out" : "net");
    *count_out = net->param_count;
    if (capacity < net->param_count)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_net_parameters: needs %zu floats, capacity is %zu",
                            net->param_count, capacity);
    if (!out)
        return mlops__error_null(SUB, "mlops_net_parameters", "out");
    memcpy(out, net->params, net->param_count * sizeof *out);
    return MLOPS_OK;
}

int mlops_net_report_json(char **out, const mlops_net *net)
{
    if (out)
        *out = NULL;
    if (!out || !net)
        return mlops__error_null(SUB, "mlops_net_report_json", !out ? "out" : "net");
    *out = mlops__strdup(net->report);
    return *out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying the training report");
}

int mlops_net_test_metrics(const mlops_metrics **out, const mlops_net *net)
{
    if (out)
        *out = NULL;
    if (!out || !net)
        return mlops__error_null(SUB, "mlops_net_test_metrics", !out ? "out" : "net");
    if (!net->test_metrics)
        return mlops__error(MLOPS_ENOTFOUND, SUB, "the net was trained without a test split");
    *out = net->test_metrics;
    return MLOPS_OK;
}
