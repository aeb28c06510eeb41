/*
 * Private structures of the router: immutable arm states swapped under an
 * epoch scheme, per-shard metric counters, live drift profiles and the
 * ring of recent predictions for outcome joins.
 */
#ifndef MLOPS_SERVE_INT_H
#define MLOPS_SERVE_INT_H

#include <pthread.h>
#include <stdatomic.h>

#include "mlops/serve.h"
#include "mlops/registry.h"
#include "mlops/infer.h"
#include "mlops/drift.h"
#include "../core/core_int.h"

#define SERVE_SUB "serve"

/* Shards of every per-thread structure; a thread keeps the shard it was given first. */
#define SERVE_SHARDS 16
#define SERVE_CACHE_LINE 64

/* Latency buckets: one below 2^10 ns, four linear ones per octave up to 2^30 ns, one above. */
#define SERVE_LAT_OCTAVE_MIN 10
#define SERVE_LAT_OCTAVE_MAX 30
#define SERVE_LAT_SUB 4
#define SERVE_LAT_BUCKETS (2 + (SERVE_LAT_OCTAVE_MAX - SERVE_LAT_OCTAVE_MIN) * SERVE_LAT_SUB)

/* Prediction distribution: top-1 classes counted up to this many (the rest as "other"); output means per column. */
#define SERVE_MAX_CLASSES 64
#define SERVE_MAX_MEANS 16

#define SERVE_MODE_CANARY 0
#define SERVE_MODE_SHADOW 1
#define SERVE_MODE_AB 2

#define SERVE_TASK_AUTO 0
#define SERVE_TASK_CLASSIFICATION 1
#define SERVE_TASK_REGRESSION 2

/* Counters of one series kept by one shard; every field is updated with relaxed atomics. */
typedef struct serve_counters {
    _Alignas(SERVE_CACHE_LINE) atomic_uint_least64_t requests;
    atomic_uint_least64_t rows, errors;
    atomic_uint_least64_t latency_ns_sum;
    atomic_uint_least64_t latency[SERVE_LAT_BUCKETS];
    atomic_uint_least64_t classes[SERVE_MAX_CLASSES + 1];
    atomic_uint_least64_t output_sum[SERVE_MAX_MEANS]; /* bits of doubles */
    atomic_uint_least64_t shadow_rows, shadow_disagree, shadow_errors;
    atomic_uint_least64_t shadow_abs_sum, shadow_abs_count; /* bits of a double, count of values */
} serve_counters;

/* Quality joined from outcomes; doubles held as bits, updated by compare-and-swap. */
typedef struct serve_quality {
    atomic_uint_least64_t n, correct;
    atomic_uint_least64_t sq_sum, sq_sq_sum;
} serve_quality;

/* Metrics of one (arm, version): created on first use, kept until the router closes. */
typedef struct serve_series {
    struct serve_series *next;
    int32_t arm;
    int64_t version;
    size_t out_width;
    serve_counters shards[SERVE_SHARDS];
    serve_quality quality;
    atomic_int drift_dataset, drift_prediction;
    atomic_uint_least64_t drift_windows, drift_detections;
    /* totals at the last mlops_router_metrics_log(), under the control mutex */
    uint64_t logged_requests, logged_rows, logged_errors, logged_ns;
    uint64_t logged_latency[SERVE_LAT_BUCKETS];
} serve_series;

/* One live profile shard fed by the threads that map to it, behind a try-lock. */
typedef struct serve_pshard {
    _Alignas(SERVE_CACHE_LINE) atomic_int busy;
    mlops_profile *profile;
    uint64_t rows;
} serve_pshard;

/*
 * A loaded version serving one arm. Immutable for readers once published;
 * `refs` counts the routes holding it and is touched only under the control
 * mutex. Its drift shards are the one mutable part (behind their try-locks).
 */
typedef struct serve_arm {
    int32_t arm;
    int64_t version;
    mlops_session *session;
    size_t in_width, out_width;
    int refs;
    serve_series *series;
    mlops_profile *reference;  /* the version's reference profile, NULL when none */
    int ref_has_outputs;       /* reference columns are the inputs followed by the outputs */
    char *stream;              /* drift window stream */
    char *report_config;       /* drift report configuration used against the reference */
    int64_t window_start_us;
    serve_pshard *pshards;     /* SERVE_SHARDS of them; NULL when the monitor is off */
} serve_arm;

/* What readers see: the arms answering now. Immutable once published. */
typedef struct serve_route {
    serve_arm *arm[2];
} serve_route;

/* Per-shard reader counts of the two epoch parities. */
typedef struct serve_gate {
    _Alignas(SERVE_CACHE_LINE) atomic_uint_least64_t count[2];
} serve_gate;

/* Scratch buffers of the hot path, one per shard behind a try-lock, grown on first use. */
typedef struct serve_scratch {
    _Alignas(SERVE_CACHE_LINE) atomic_int busy;
    float *data;
    size_t cap;
} serve_scratch;

/* Recent predictions for outcome joins: a direct-mapped table keyed by the key hash. */
typedef struct serve_slot {
    atomic_int busy;
    uint64_t key_hash;
    serve_series *series[2]; /* NULL: that arm did not answer; both NULL: free or joined */
    int32_t top1[2];
    float value[2];
} serve_slot;

struct mlops_router {
    char *model;
    char *path;
    char *aliases[2];          /* champion, challenger (NULL when none) */
    int mode;
    double share;
    uint64_t salt_seed;
    int32_t reload_ms;
    char *session_options;     /* JSON text or NULL */
    int64_t window_ms;
    uint64_t drift_sample;     /* requests monitored: key hashes whose low 20 bits are below this */
    char *drift_config;        /* JSON text or NULL */
    size_t outcome_cap;
    int task;

    _Atomic(serve_route *) route;
    atomic_uint_least64_t epoch;
    serve_gate gates[SERVE_SHARDS];
    serve_scratch scratch[SERVE_SHARDS];
    serve_slot *slots;

    pthread_mutex_t ctl;       /* control plane: reloads, windows, series list, db */
    pthread_cond_t wake;
    pthread_t thread;
    int thread_running, stopping;
    int follow;                /* the thread follows alias moves (reload_interval_ms > 0) */
    mlops_db *db;              /* the router's own connection */
    mlops_registry_watch *watch;
    atomic_int dirty;
    serve_series *series;
    uint64_t reloads, reload_errors;
    char *last_reload_error;
    mlops_serve_drift_fn drift_fn;
    void *drift_payload;
};

/* This thread's shard. */
unsigned mlops__serve_shard(void);
/* Add to a double kept as bits in an atomic. */
void mlops__serve_add_double(atomic_uint_least64_t *bits, double value);
double mlops__serve_load_double(const atomic_uint_least64_t *bits);
/* Index of the latency bucket of `ns` and the upper bound (seconds) of bucket `i` (INFINITY for the last). */
size_t mlops__serve_lat_bucket(uint64_t ns);
double mlops__serve_lat_upper(size_t i);
/* Quantile `q` of a latency histogram of `total` calls, in seconds, linear within the bucket; NaN without data. */
double mlops__serve_lat_quantile(const uint64_t *buckets, uint64_t total, double q);
/* Append `,"key":v` to a JSON text (null when v is not finite). */
void mlops__serve_json_key_double(mlops__buf *b, const char *key, double v);
/* Argmax of a row. */
size_t mlops__serve_argmax(const float *row, size_t n);

/* Find or create the series of (arm, version); under the control mutex. */
int mlops__serve_series_get(serve_series **out, mlops_router *router, int32_t arm, int64_t version,
                            size_t out_width);
void mlops__serve_series_free_all(mlops_router *router);
/* Record one answered call of `rows` rows taking `ns` (output NULL on error). */
void mlops__serve_record(serve_series *series, unsigned shard, const float *output, size_t rows, uint64_t ns,
                         int failed);

/* Drift monitor of one arm: set up at load, fed on the hot path, closed by the control plane. */
int mlops__serve_monitor_init(mlops_router *router, serve_arm *arm);
/* Feed rows of inputs and outputs to this shard's live profile; `concat` has room for rows x (inputs + outputs). */
void mlops__serve_monitor_feed(serve_arm *arm, unsigned shard, const float *input, const float *output, size_t rows,
                               float *concat);
int mlops__serve_monitor_close(mlops_router *router, serve_arm *arm, int64_t now_us);
void mlops__serve_monitor_free(serve_arm *arm);

/*
 * Open a session on the artifact of `model` version `version` (read and
 * verified) and fill the version's signature from it when it has none
 * (unless `db` is read-only): every open from the registry goes through here.
 */
int mlops__serve_session_load(mlops_session **out, mlops_db *db, const char *model, int64_t version,
                              const char *options_json, const mlops_frame *calibration);

/* Outcome ring. */
int mlops__serve_outcomes_init(mlops_router *router);
/* Keep the first-row predictions of both arms (series NULL: that arm did not run) for a later outcome. */
void mlops__serve_outcome_keep(mlops_router *router, uint64_t key_hash, serve_series *const series[2],
                               const int32_t top1[2], const float values[2]);

#endif /* MLOPS_SERVE_INT_H */
