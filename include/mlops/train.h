/**
 * @file
 * libmlops: the reproducible fp32 trainer and evaluation metrics.
 *
 * A net is a trained model: linear, logistic or softmax regression, or a
 * multilayer perceptron, together with what it learned from its training
 * data (the mean used to impute nulls, the standardisation of every input)
 * so that it takes raw feature values. It is trained from a frame and a
 * strictly validated JSON configuration (docs/training.md); the same frame,
 * configuration and seed give bit-identical weights whatever the number of
 * threads.
 *
 * Metrics are computed into an mlops_metrics object: a value and a seeded
 * bootstrap 95% confidence interval per metric, plus the confusion matrix of
 * a classifier.
 *
 * Threading: a net is `handle` to train, and `any` for concurrent reads
 * (predict, evaluate) once trained.
 */
#ifndef MLOPS_TRAIN_H
#define MLOPS_TRAIN_H

#include "common.h"
#include "db.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A trained model; opaque. */
typedef struct mlops_net mlops_net;
/** Evaluation metrics of predictions against labels; opaque. */
typedef struct mlops_metrics mlops_metrics;

/* Tasks of a net and of mlops_metrics_compute(). Pinned. */
#define MLOPS_TASK_REGRESSION 1  /**< one real output */
#define MLOPS_TASK_BINARY     2  /**< one output: the probability of class 1 */
#define MLOPS_TASK_MULTICLASS 3  /**< one probability per class, rows sum to 1 */

/**
 * Train a net on `frame` as `config_json` says (features, label, model,
 * optimiser, schedule, split, early stopping, seed, threads; docs/training.md).
 * MLOPS_EFORMAT names the bad configuration key by its $.path; MLOPS_EINVAL the bad cell
 * by column and row. Free with mlops_net_free(). @thread any
 */
MLOPS_API int mlops_net_train(mlops_net **out, const mlops_frame *frame, const char *config_json);
/**
 * Called by mlops_net_train_progress() on the calling thread after every
 * epoch: the epoch (from 1), the epochs asked for, the mean training loss and
 * the validation score (NaN without a validation split).
 */
typedef void (*mlops_train_progress_fn)(int64_t epoch, int64_t epochs, double loss, double validation,
                                        void *payload);
/** As mlops_net_train(), reporting each epoch to `callback` (may be NULL) with `payload`. @thread any */
MLOPS_API int mlops_net_train_progress(mlops_net **out, const mlops_frame *frame, const char *config_json,
                                       mlops_train_progress_fn callback, void *payload);
/** Free `net`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_net_free(mlops_net *net);

/** MLOPS_TASK_* of `net` (0 for NULL). @thread any */
MLOPS_API int32_t mlops_net_task(const mlops_net *net);
/** Number of raw input features (0 for NULL). @thread any */
MLOPS_API size_t mlops_net_inputs(const mlops_net *net);
/** Number of outputs per row: 1, or the class count of a multiclass net (0 for NULL). @thread any */
MLOPS_API size_t mlops_net_outputs(const mlops_net *net);
/** Name of input feature `index`, borrowed until the net is freed; NULL when out of range. @thread any */
MLOPS_API const char *mlops_net_feature_name(const mlops_net *net, size_t index);

/**
 * Copy every trainable parameter (layer by layer: weights out x in row-major,
 * then biases) into `out`; `count_out` receives the number of floats, and a
 * `capacity` below it fails with MLOPS_EBUFSIZE. @thread any
 */
MLOPS_API int mlops_net_parameters(float *out, size_t capacity, size_t *count_out, const mlops_net *net);

/**
 * Forward pass over `rows` x mlops_net_inputs() raw features (row-major; NaN
 * is imputed as in training) into `out`, rows x mlops_net_outputs() values
 * (a prediction, a probability, or class probabilities). `capacity` is in
 * floats; MLOPS_EBUFSIZE when too small. @thread any
 */
MLOPS_API int mlops_net_predict(float *out, size_t capacity, const mlops_net *net, const float *features,
                                size_t rows);
/**
 * Forward pass over the net's feature columns of `frame` (nulls handled by the
 * net's null policy) into `out`, as mlops_net_predict(). @thread any
 */
MLOPS_API int mlops_net_predict_frame(float *out, size_t capacity, const mlops_net *net,
                                      const mlops_frame *frame);
/**
 * Evaluate `net` on every row of `frame` (its feature columns and its label
 * column); `options_json` as mlops_metrics_compute(). @thread any
 */
MLOPS_API int mlops_net_evaluate(mlops_metrics **out, const mlops_net *net, const mlops_frame *frame,
                                 const char *options_json);
/**
 * The training record as a new JSON document (free with mlops_free()): the
 * configuration, split sizes, imputed means, standardisation, per-epoch
 * loss and validation metric, the epoch kept, and the test-split metrics
 * when a test split was used. @thread any
 */
MLOPS_API int mlops_net_report_json(char **out, const mlops_net *net);
/**
 * Export `net` as an ONNX model (opset 13, standard ops) into a new buffer
 * (free with mlops_free()): input "features" (batch x inputs, raw values, no
 * nulls), output "output"; the imputation means are in the metadata
 * ("mlops.impute"). `options_json` may be NULL or {"standardization": "nodes"
 * (default: Sub and Mul before the first layer) or "folded" (into the first
 * layer's weights and bias)}. @thread any
 */
MLOPS_API int mlops_net_export_onnx(void **out, size_t *len_out, const mlops_net *net, const char *options_json);
/**
 * Train on `frame` as `config_json` says (it must have a test split), then in
 * one transaction: start a run in an experiment (params = the configuration),
 * log per-epoch "loss" and "validation_<metric>" and the "test_<metric>"
 * values, register the ONNX export as a new version of `model` (which must
 * exist) with signature, metadata, run and lineage, log the test metrics with
 * their bootstrap intervals on dataset "test", attach the profile of the
 * frame's numeric feature columns as the drift reference, and end the run.
 * `options_json` may be NULL or hold "experiment" (default: the model name),
 * "run_name" (default "train"), "tags" (object of strings), "parent_version",
 * "lineage" ({"feature_views": [{"name", "version"}], "as_of_us"}), "export"
 * (options of mlops_net_export_onnx()) and "profile" (bool, default true).
 * On failure nothing is written. `net_out` (may be NULL) receives the net.
 * @thread handle
 */
MLOPS_API int mlops_net_train_register(int64_t *version_out, mlops_net **net_out, mlops_db *db, const char *model,
                                       const mlops_frame *frame, const char *config_json, const char *options_json);
/** Metrics of the net on its test split; MLOPS_ENOTFOUND when it was trained without one. @thread any */
MLOPS_API int mlops_net_test_metrics(const mlops_metrics **out, const mlops_net *net);

/**
 * Compute the metrics of `task` for `rows` predictions against `labels`.
 * `scores`: regression, the predictions; binary, the probability of class 1
 * (a row is predicted positive when its score >= threshold); multiclass, rows x
 * `classes` probabilities (the prediction is the arg max). `labels` hold the
 * true value or class index (0 .. classes-1); `classes` is 2 for binary and
 * ignored for regression. `options_json` may be NULL or hold "bootstrap"
 * (resamples, 0..100000, default 1000), "seed" (default 0), "threshold"
 * (default 0.5). Free with mlops_metrics_free(). @thread any
 */
MLOPS_API int mlops_metrics_compute(mlops_metrics **out, int32_t task, const float *scores, const double *labels,
                                    size_t rows, size_t classes, const char *options_json);
/** Free `metrics`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_metrics_free(mlops_metrics *metrics);
/** Number of metrics held (0 for NULL). @thread any */
MLOPS_API size_t mlops_metrics_count(const mlops_metrics *metrics);
/** Name of metric `index` ("accuracy", "roc_auc", ...), static; NULL when out of range. @thread any */
MLOPS_API const char *mlops_metrics_name(const mlops_metrics *metrics, size_t index);
/**
 * Value and bootstrap 95% interval of the metric called `name`; `ci_low` and
 * `ci_high` may be NULL. MLOPS_ENOTFOUND when the task has no such metric.
 * @thread any
 */
MLOPS_API int mlops_metrics_get(double *value, double *ci_low, double *ci_high, const mlops_metrics *metrics,
                                const char *name);
/**
 * Confusion matrix of a classifier, borrowed until `metrics` is freed:
 * classes x classes counts, row = true class, column = predicted class.
 * MLOPS_ENOTFOUND for regression. @thread any
 */
MLOPS_API int mlops_metrics_confusion(const int64_t **out, size_t *classes_out, const mlops_metrics *metrics);
/** All metrics as a new JSON document (free with mlops_free()). @thread any */
MLOPS_API int mlops_metrics_json(char **out, const mlops_metrics *metrics);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_TRAIN_H */
