/*
 * Live drift monitor of one arm: every shard keeps its own profile of the
 * rows it served (inputs, then outputs), behind a try-lock that only the
 * closing of a window contends for. Closing a window swaps fresh profiles
 * in, merges the old ones, stores the window in the database and compares
 * it with the version's reference profile.
 */
#include <string.h>

#include "serve_int.h"

/* The reference profile fits when its columns are numeric and are the inputs, or the inputs then the outputs. */
static int reference_fits(serve_arm *arm)
{
    size_t n = mlops_profile_columns(arm->reference), i;
    if (n != arm->in_width && n != arm->in_width + arm->out_width)
        return 0;
    for (i = 0; i < n; i++) {
        mlops_column_stats stats;
        if (mlops_profile_column_stats(&stats, arm->reference, i) != MLOPS_OK ||
            stats.kind != MLOPS_COLUMN_NUMERIC)
            return 0;
    }
    arm->ref_has_outputs = n == arm->in_width + arm->out_width;
    return 1;
}

static int load_reference(mlops_router *r, serve_arm *arm)
{
    void *bytes = NULL;
    size_t len = 0;
    int rc = mlops_version_profile_get(&bytes, &len, r->db, r->model, arm->version);
    if (rc == MLOPS_ENOTFOUND) {
        mlops_error_clear();
        return MLOPS_OK;
    }
    if (rc != MLOPS_OK)
        return rc;
    rc = mlops_profile_deserialize(&arm->reference, bytes, len);
    mlops_free(bytes);
    if (rc != MLOPS_OK)
        return mlops__error_prefix("reference profile");
    if (!reference_fits(arm)) {
        rc = mlops__error(MLOPS_ECONFLICT, SERVE_SUB,
                          "reference profile: %zu columns do not match %zu inputs (and %zu outputs), all numeric",
                          mlops_profile_columns(arm->reference), arm->in_width, arm->out_width);
        mlops_profile_free(arm->reference);
        arm->reference = NULL;
    }
    return rc;
}

/* The specification of a live profile without reference: columns x0.., then y0.. */
static int own_profile(mlops_profile **out, const serve_arm *arm)
{
    mlops__buf spec;
    size_t i;
    int rc;
    mlops__buf_init(&spec);
    mlops__buf_puts(&spec, "{\"columns\":[");
    for (i = 0; i < arm->in_width + arm->out_width; i++)
        mlops__buf_printf(&spec, "%s{\"name\":\"%c%zu\",\"kind\":\"numeric\"}", i ? "," : "",
                          i < arm->in_width ? 'x' : 'y', i < arm->in_width ? i : i - arm->in_width);
    mlops__buf_puts(&spec, "]}");
    if ((rc = mlops__buf_status(&spec, SERVE_SUB)) == MLOPS_OK)
        rc = mlops_profile_new(out, spec.data);
    mlops__buf_free(&spec);
    return rc;
}

/* Default report configuration: the output columns of the reference are the prediction. */
static int default_config(char **out, const serve_arm *arm)
{
    mlops__buf b;
    size_t i;
    int rc;
    mlops__buf_init(&b);
    mlops__buf_puts(&b, "{\"prediction\":[");
    for (i = 0; i < arm->out_width; i++) {
        if (i)
            mlops__buf_putc(&b, ',');
        mlops__buf_json_string(&b, mlops_profile_column_name(arm->reference, arm->in_width + i));
    }
    mlops__buf_puts(&b, "]}");
    if ((rc = mlops__buf_status(&b, SERVE_SUB)) == MLOPS_OK)
        *out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    return rc;
}

static int64_t window_floor(const mlops_router *r, int64_t now_us)
{
    int64_t w = r->window_ms * 1000;
    return now_us - now_us % w;
}

int mlops__serve_monitor_init(mlops_router *r, serve_arm *arm)
{
    mlops__buf stream;
    size_t s;
    int rc;
    if (r->window_ms == 0)
        return MLOPS_OK;
    if ((rc = load_reference(r, arm)) != MLOPS_OK)
        return rc;
    mlops__buf_init(&stream);
    mlops__buf_printf(&stream, "serve:%s:%lld", r->model, (long long)arm->version);
    if ((rc = mlops__buf_status(&stream, SERVE_SUB)) != MLOPS_OK) {
        mlops__buf_free(&stream);
        return rc;
    }
    arm->stream = mlops__buf_detach(&stream, NULL);
    if (r->drift_config != NULL)
        arm->report_config = mlops__strdup(r->drift_config);
    else if (arm->reference != NULL && arm->ref_has_outputs && (rc = default_config(&arm->report_config, arm)))
        return rc;
    if (r->drift_config != NULL && arm->report_config == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "out of memory");
    arm->pshards = mlops__calloc(SERVE_SHARDS, sizeof *arm->pshards);
    if (arm->pshards == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "out of memory for the live profiles");
    for (s = 0; s < SERVE_SHARDS; s++) {
        if (arm->reference != NULL)
            rc = mlops_profile_new_like(&arm->pshards[s].profile, arm->reference);
        else if (s == 0)
            rc = own_profile(&arm->pshards[s].profile, arm);
        else
            rc = mlops_profile_new_like(&arm->pshards[s].profile, arm->pshards[0].profile);
        if (rc != MLOPS_OK)
            return rc;
    }
    arm->window_start_us = window_floor(r, mlops__now_us());
    return MLOPS_OK;
}

void mlops__serve_monitor_free(serve_arm *arm)
{
    size_t s;
    if (arm->pshards != NULL)
        for (s = 0; s < SERVE_SHARDS; s++)
            mlops_profile_free(arm->pshards[s].profile);
    mlops__free(arm->pshards);
    mlops_profile_free(arm->reference);
    mlops__free(arm->stream);
    mlops__free(arm->report_config);
}

static serve_pshard *pshard_lock(serve_arm *arm, unsigned shard)
{
    for (;;) {
        serve_pshard *p = &arm->pshards[shard];
        int expected = 0;
        if (atomic_compare_exchange_weak(&p->busy, &expected, 1))
            return p;
        shard = (shard + 1) % SERVE_SHARDS;
    }
}

void mlops__serve_monitor_feed(serve_arm *arm, unsigned shard, const float *input, const float *output, size_t rows,
                               float *concat)
{
    serve_pshard *p = pshard_lock(arm, shard);
    int with_outputs = arm->reference == NULL || arm->ref_has_outputs;
    size_t width = arm->in_width + (with_outputs ? arm->out_width : 0), i;
    const float *matrix = input;
    if (with_outputs) {
        for (i = 0; i < rows; i++) {
            memcpy(concat + i * width, input + i * arm->in_width, arm->in_width * sizeof *concat);
            memcpy(concat + i * width + arm->in_width, output + i * arm->out_width, arm->out_width * sizeof *concat);
        }
        matrix = concat;
    }
    if (mlops_profile_update_matrix(p->profile, matrix, rows, width) == MLOPS_OK)
        p->rows += rows;
    atomic_store(&p->busy, 0);
}

/* Read the two decisions of a drift report. */
static int report_decisions(int *dataset, int *prediction, const char *report)
{
    mlops__json *json = NULL;
    const mlops__json *part, *flag;
    int rc = mlops__json_parse(&json, report, SERVE_SUB, "drift report");
    *dataset = *prediction = 0;
    if (rc != MLOPS_OK)
        return rc;
    if ((part = mlops__json_get(json, "dataset")) != NULL && (flag = mlops__json_get(part, "drifted")) != NULL)
        *dataset = mlops__json_bool(flag);
    if ((part = mlops__json_get(json, "prediction")) != NULL && (flag = mlops__json_get(part, "drifted")) != NULL)
        *prediction = mlops__json_bool(flag);
    mlops__json_free(json);
    return MLOPS_OK;
}

/* Compare a closed window with the reference; record the decisions and call the host. */
static int compare_window(mlops_router *r, serve_arm *arm, const mlops_profile *window, int64_t start, int64_t end)
{
    char *report = NULL;
    int dataset = 0, prediction = 0;
    int rc = mlops_drift_report_profiles(&report, arm->reference, window, arm->report_config);
    if (rc == MLOPS_OK)
        rc = report_decisions(&dataset, &prediction, report);
    if (rc == MLOPS_OK) {
        atomic_store(&arm->series->drift_dataset, dataset);
        atomic_store(&arm->series->drift_prediction, prediction);
        if (dataset || prediction) {
            atomic_fetch_add(&arm->series->drift_detections, 1);
            if (r->drift_fn != NULL) {
                mlops_serve_drift_event event;
                memset(&event, 0, sizeof event);
                event.model = r->model;
                event.arm = arm->arm;
                event.dataset_drift = dataset;
                event.prediction_drift = prediction;
                event.version = arm->version;
                event.start_us = start;
                event.end_us = end;
                event.stream = arm->stream;
                event.report_json = report;
                r->drift_fn(&event, r->drift_payload);
            }
        }
    }
    mlops_free(report);
    return rc == MLOPS_OK ? MLOPS_OK : mlops__error_prefix("drift window of %s", arm->stream);
}

int mlops__serve_monitor_close(mlops_router *r, serve_arm *arm, int64_t now_us)
{
    mlops_profile *merged = NULL;
    uint64_t rows = 0;
    int64_t start = arm->window_start_us, end = start + r->window_ms * 1000;
    size_t s;
    int rc = MLOPS_OK;

    for (s = 0; s < SERVE_SHARDS && rc == MLOPS_OK; s++) {
        mlops_profile *fresh = NULL, *old;
        serve_pshard *p = &arm->pshards[s];
        if ((rc = mlops_profile_new_like(&fresh, p->profile)) != MLOPS_OK)
            break;
        while (1) {
            int expected = 0;
            if (atomic_compare_exchange_weak(&p->busy, &expected, 1))
                break;
        }
        old = p->profile;
        p->profile = fresh;
        rows += p->rows;
        p->rows = 0;
        atomic_store(&p->busy, 0);
        if (merged == NULL) {
            merged = old;
        } else {
            rc = mlops_profile_merge(merged, old);
            mlops_profile_free(old);
        }
    }
    arm->window_start_us = window_floor(r, now_us);
    if (rc == MLOPS_OK && rows > 0) {
        rc = mlops_drift_window_put(r->db, arm->stream, start, end, merged);
        if (rc == MLOPS_OK) {
            atomic_fetch_add(&arm->series->drift_windows, 1);
            if (arm->reference != NULL) {
                /* compare the whole window as stored, earlier flushes and other processes included */
                mlops_profile *stored = NULL;
                rc = mlops_drift_window_get(&stored, r->db, arm->stream, start);
                if (rc == MLOPS_OK)
                    rc = compare_window(r, arm, stored, start, end);
                mlops_profile_free(stored);
            }
        }
    }
    mlops_profile_free(merged);
    return rc;
}
