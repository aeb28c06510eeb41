/**
 * @file
 * libmlops: serving inside the host. A router answers predictions for one
 * registered model from the version an alias points at (the champion), and
 * optionally sends part of the traffic to, or mirrors it onto, a second
 * alias (the challenger). It follows alias moves made by any process on the
 * same database file and swaps versions without pausing callers, keeps live
 * metrics per arm and version (Prometheus text and JSON), feeds live drift
 * profiles compared window by window with each version's reference profile,
 * and joins late outcomes to its predictions to measure quality per arm.
 *
 * Threading: mlops_router_run() and mlops_router_outcome() may be called
 * from any number of threads at once; the hot path takes no lock that
 * serialises threads and allocates nothing once warm. Every other call is
 * `handle` but may run concurrently with run/outcome calls.
 */
#ifndef MLOPS_SERVE_H
#define MLOPS_SERVE_H

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A router serving one registered model; opaque. */
typedef struct mlops_router mlops_router;

/* Arms of a router. Pinned. */
#define MLOPS_ARM_CHAMPION   0 /**< the version the champion alias points at */
#define MLOPS_ARM_CHALLENGER 1 /**< the version the challenger alias points at */

/**
 * Open a router on model `model` of the database file behind `db` (used
 * during the call only: the router keeps its own connection, so an
 * in-memory database is refused with MLOPS_EUNSUPPORTED). `settings_json`
 * may be NULL or an object, every key optional:
 *   "champion": alias answered by default ("production"),
 *   "challenger": a second alias (none by default; while it is not set the
 *                 champion answers everything),
 *   "mode": "canary" (a share of request keys is answered by the challenger),
 *           "shadow" (the champion answers; for a share of keys the
 *           challenger also runs and is compared) or "ab" (as canary, with
 *           outcomes reported per arm); default "canary",
 *   "share": 0..1, keys routed to (or mirrored on) the challenger; default
 *            0.1 for canary, 0.5 for ab, 1 for shadow,
 *   "salt": string mixed into the key hash (""),
 *   "reload_interval_ms": 0..60000, how often the background thread looks
 *            for alias moves (1000; 0: no thread, only mlops_router_reload()),
 *   "session": object of mlops_session_open() options (precision, isa, ...),
 *   "drift": {"window_ms": 0..86400000 (60000; 0 turns the monitor off),
 *             "sample": 0..1, share of request keys whose rows feed the
 *             monitor (1; profiling every row costs more than a small
 *             model's run), "config": a mlops_drift_report_profiles()
 *             configuration},
 *   "outcomes": {"capacity": 0..16777216 recent predictions kept for
 *             outcome joins (16384; 0 turns them off), "task": "auto" |
 *             "classification" | "regression" (auto: classification when
 *             the output has more than one column)}.
 * MLOPS_ENOTFOUND when the model or the champion alias does not exist,
 * MLOPS_EFORMAT for bad settings (with the $.path). Close with
 * mlops_router_close(). @thread any
 */
MLOPS_API int mlops_router_open(mlops_router **out, mlops_db *db, const char *model, const char *settings_json);
/** Stop the background thread, flush the open drift windows and free everything; NULL is a no-op. No call may be in progress. @thread handle */
MLOPS_API void mlops_router_close(mlops_router *router);

/**
 * Predict `rows` rows (row-major, rows x input width floats) for the request
 * `request_key` (a NUL-terminated string hashed with the salt to pick the
 * arm), writing rows x output width floats into `output` (`capacity`
 * floats). `*version_out` (may be NULL) receives the version that produced
 * the answer. A call runs on one version only, also while aliases move.
 * MLOPS_EBUFSIZE when `output` is too small. @thread any
 */
MLOPS_API int mlops_router_run(int64_t *version_out, mlops_router *router, const char *request_key,
                               const float *input, size_t rows, float *output, size_t capacity);
/** Arm (MLOPS_ARM_*) that answers `request_key` under the current settings. @thread any */
MLOPS_API int mlops_router_assign(int32_t *arm_out, const mlops_router *router, const char *request_key);
/**
 * Look up the aliases now and swap in any version that changed, as the
 * background thread does; `*changed_out` (may be NULL) is 1 when a version
 * changed. A version that cannot be loaded, or whose input width differs
 * from the champion's, is not swapped in: the error is returned and counted
 * in the metrics while the router keeps answering from the old version. @thread handle
 */
MLOPS_API int mlops_router_reload(int32_t *changed_out, mlops_router *router);
/** Version currently answering for arm `arm` (MLOPS_ARM_*); 0 when that arm has no version. @thread any */
MLOPS_API int64_t mlops_router_version(const mlops_router *router, int32_t arm);

/* ---- metrics ------------------------------------------------------------------------------------- */

/** Metrics of every arm and version as Prometheus text exposition format (version 0.0.4); free with mlops_free(). @thread handle */
MLOPS_API int mlops_router_metrics_prometheus(char **text_out, mlops_router *router);
/** The same metrics as a JSON document (docs/serving.md has its format); free with mlops_free(). @thread handle */
MLOPS_API int mlops_router_metrics_json(char **json_out, mlops_router *router);

/**
 * Persist what the router counted since its previous call (requests, rows,
 * errors, latency histogram per arm and version) as snapshots in the
 * database, in one transaction; a failure stores nothing and the next call
 * logs the same counts again. `*logged_out` (may be NULL) counts the
 * snapshots written. @thread handle
 */
MLOPS_API int mlops_router_metrics_log(int64_t *logged_out, mlops_router *router);
/**
 * Serving metrics of `model` persisted by mlops_router_metrics_log() from
 * any router or process, summed per version and arm, with latency
 * percentiles of the merged histogram, as JSON (docs/serving.md); free with
 * mlops_free(). @thread handle
 */
MLOPS_API int mlops_serve_stats_json(char **json_out, mlops_db *db, const char *model);

/* ---- drift monitor ------------------------------------------------------------------------------- */

/** One closed drift window of one arm, borrowed for the duration of the callback. */
typedef struct mlops_serve_drift_event {
    const char *model;        /**< the router's model */
    int32_t arm;              /**< MLOPS_ARM_* */
    int32_t dataset_drift;    /**< 1 when the inputs drifted */
    int32_t prediction_drift; /**< 1 when the outputs drifted */
    int32_t reserved;         /**< 0 */
    int64_t version;          /**< the version the arm served */
    int64_t start_us;         /**< start of the window, [start_us, end_us) */
    int64_t end_us;           /**< end of the window, excluded */
    const char *stream;       /**< the drift window stream it was stored under */
    const char *report_json;  /**< the mlops_drift_report_profiles() report */
} mlops_serve_drift_event;

/** Called with each closed drift window and the payload given with it. */
typedef void (*mlops_serve_drift_fn)(const mlops_serve_drift_event *event, void *payload);

/**
 * Call `callback` (NULL: none) for each window in which dataset or
 * prediction drift is detected. It runs on the thread that closes the
 * window, inside the router's control section: it may call
 * mlops_router_run(), _assign(), _version() and _outcome() but no other
 * router function. @thread handle
 */
MLOPS_API int mlops_router_on_drift(mlops_router *router, mlops_serve_drift_fn callback, void *payload);
/**
 * Close the current drift window of every live arm now: store each in the
 * database (mlops_drift_window_put, stream "serve:<model>:<version>", merged
 * with what the window already holds) and compare it with the version's
 * reference profile. The background thread does this when a window ends. @thread handle
 */
MLOPS_API int mlops_router_drift_flush(mlops_router *router);

/* ---- outcome feedback ---------------------------------------------------------------------------- */

/**
 * Report the true outcome of the request `request_key` (its first row):
 * a class index for classification, a value for regression. It is joined
 * with the predictions kept for that key (the answering arm's, and in
 * shadow mode the challenger's as well) and updates their rolling quality.
 * MLOPS_ENOTFOUND when the prediction is no longer kept or was already
 * joined; MLOPS_ESTATE when outcomes are off. @thread any
 */
MLOPS_API int mlops_router_outcome(mlops_router *router, const char *request_key, double label);
/**
 * Log the quality of every version with outcomes as version metrics
 * ("accuracy" or "rmse" with their 95% confidence interval) measured on
 * `dataset` (NULL = "serve"), for the registry's gates. `*logged_out` (may
 * be NULL) counts them. @thread handle
 */
MLOPS_API int mlops_router_quality_log(int64_t *logged_out, mlops_router *router, const char *dataset);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_SERVE_H */
