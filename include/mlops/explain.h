/**
 * @file
 * libmlops: explanations of a session's predictions. Per-feature
 * attributions of one chosen output that add up, with the baseline's output,
 * to the prediction: exact SHAP values of linear and logistic models,
 * integrated gradients through a backward pass of the compiled plan, and
 * KernelSHAP by seeded sampling against a background; global importance as
 * mean absolute attribution or permutation importance. What is explained is
 * the session's plan run in fp32: for an int8 session, its fp32 twin (the
 * same layers with their fp32 weights). docs/explain.md has the formulas.
 */
#ifndef MLOPS_EXPLAIN_H
#define MLOPS_EXPLAIN_H

#include "common.h"
#include "infer.h"

#ifdef __cplusplus
extern "C" {
#endif

/** An explainer over one session with its method, options and background; opaque. */
typedef struct mlops_explainer mlops_explainer;

/* Methods, as mlops_explainer_method() reports them. Pinned. */
#define MLOPS_EXPLAIN_LINEAR 1               /**< exact SHAP of a single linear layer (+ Sigmoid/Softmax) */
#define MLOPS_EXPLAIN_INTEGRATED_GRADIENTS 2 /**< path integral of gradients from the baseline */
#define MLOPS_EXPLAIN_KERNEL_SHAP 3          /**< weighted regression over sampled coalitions */

/**
 * Open an explainer over `session` (borrowed: it must outlive the explainer)
 * for a model with one float input batched on its first dimension.
 * `options_json` may be NULL or an object with "method" ("linear",
 * "integrated_gradients", "kernel_shap"; default "linear" for a single linear
 * layer, else "integrated_gradients"), "output" (the output column explained,
 * default 0), "baseline" ("mean" of the background, the default with one;
 * "zeros", the default without; or an array of one value per feature),
 * "steps" (integrated gradients, 1..100000, default 256), "rule"
 * ("trapezoid", "midpoint": steps uniform intervals; "piecewise", the default
 * when the model has Relu, LeakyRelu or Clip fed through affine ops: the path
 * is split at the activations' kinks, exact with one gradient per segment for
 * models without smooth ops, else steps spread over the segments by length),
 * "max_segments" (piecewise: most segments per row, 1..1000000, default
 * 4096; more fails the row with MLOPS_ELIMIT), "samples" (KernelSHAP coalitions,
 * 4..10000000, default 2048), "seed" (default 0), "scale" (linear: "logit"
 * default, or "probability"), "features" (one name per feature; default the
 * session's mlops_session_feature_name(), else "x0", "x1", ...). `background`
 * (rows x features floats, copied; may be NULL with 0 rows) is required by
 * KernelSHAP and by the baseline "mean".
 * Errors: MLOPS_EFORMAT (options, with their $.path), MLOPS_EINVAL (missing
 * background, probability scale without Sigmoid or Softmax),
 * MLOPS_EUNSUPPORTED (the model, or an op without a derivative, named).
 * Free with mlops_explainer_free(). @thread any
 */
MLOPS_API int mlops_explainer_open(mlops_explainer **out, const mlops_session *session, const char *options_json,
                                   const float *background, size_t background_rows);
/** Free `explainer`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_explainer_free(mlops_explainer *explainer);
/** The method in use (MLOPS_EXPLAIN_*), 0 for NULL. @thread any */
MLOPS_API int mlops_explainer_method(const mlops_explainer *explainer);
/** Number of features (floats per input row), 0 for NULL. @thread any */
MLOPS_API size_t mlops_explainer_features(const mlops_explainer *explainer);
/** Name of feature `index`, borrowed until the explainer is freed; NULL when out of range. @thread any */
MLOPS_API const char *mlops_explainer_feature_name(const mlops_explainer *explainer, size_t index);
/**
 * The output the attributions start from: the baseline row's output
 * (linear, integrated gradients) or the mean output over the background
 * (KernelSHAP). @thread any
 */
MLOPS_API float mlops_explainer_baseline_output(const mlops_explainer *explainer);

/**
 * Explain `rows` rows of `input` (rows x features floats). Writes
 * `attributions` (rows x features; `capacity` in floats, MLOPS_EBUFSIZE when
 * below rows x features) and, when not NULL, `std_errors` (rows x features,
 * the same capacity: KernelSHAP's standard errors, 0 for the other methods),
 * `predictions` (rows floats) and `completeness_errors` (rows floats:
 * |sum of attributions - (prediction - baseline output)|). MLOPS_ELIMIT names
 * the row whose path crosses more than max_segments kinks (rule "piecewise").
 * Allocation-free once warm for a batch size (rule "piecewise": and for paths
 * crossing no more kinks than before). @thread handle
 */
MLOPS_API int mlops_explain_rows(float *attributions, float *std_errors, float *predictions,
                                 float *completeness_errors, size_t capacity, mlops_explainer *explainer,
                                 const float *input, size_t rows);
/**
 * As mlops_explain_rows(), as JSON (free with mlops_free()): {"method",
 * "output", "features": [names], "baseline_output", "rows": [{"prediction",
 * "attributions": [...], "completeness_error" (integrated gradients) or
 * "std_error": [...] (KernelSHAP)}]}. @thread handle
 */
MLOPS_API int mlops_explain_rows_json(char **out, mlops_explainer *explainer, const float *input, size_t rows);
/**
 * d output / d input of each row through the fp32 plan into `gradients`
 * (rows x features, `capacity` in floats). MLOPS_EUNSUPPORTED names an op
 * without a derivative. @thread handle
 */
MLOPS_API int mlops_explain_gradient(float *gradients, size_t capacity, mlops_explainer *explainer,
                                     const float *input, size_t rows);
/**
 * Global importance: the mean absolute attribution per feature over `rows`
 * rows, as JSON (free with mlops_free()): {"method", "output", "rows",
 * "features": [{"name", "importance", "std_error"}]} by importance,
 * descending. @thread handle
 */
MLOPS_API int mlops_explain_global(char **out, mlops_explainer *explainer, const float *input, size_t rows);
/**
 * Permutation importance on a labelled frame: how much "metric" worsens when
 * one feature's column is shuffled. `labels` (rows floats: the value, or the
 * class index). `options_json` may be NULL or hold "metric" ("accuracy"
 * default, "auc", "logloss", "rmse", or any metric of mlops_metrics_compute()),
 * "repeats" (1..1000, default 5), "seed" (default 0), "outputs" ("probabilities",
 * the default, or "logits": softmax, or sigmoid for one column, before a
 * classification metric). JSON as
 * mlops_explain_global() with "method": "permutation" and "metric". @thread handle
 */
MLOPS_API int mlops_explain_permutation(char **out, mlops_explainer *explainer, const float *input,
                                        const float *labels, size_t rows, const char *options_json);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_EXPLAIN_H */
