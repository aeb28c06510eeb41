/*
 * Live metrics: per (arm, version) series of sharded atomic counters,
 * summed when read, and their Prometheus text and JSON expositions.
 */
#include <math.h>
#include <string.h>

#include "serve_int.h"
#include "../store/store_int.h"

static const char *const arm_names[2] = {"champion", "challenger"};

void mlops__serve_add_double(atomic_uint_least64_t *bits, double value)
{
    uint64_t old = atomic_load_explicit(bits, memory_order_relaxed), next;
    do {
        double d;
        memcpy(&d, &old, sizeof d);
        d += value;
        memcpy(&next, &d, sizeof next);
    } while (!atomic_compare_exchange_weak_explicit(bits, &old, next, memory_order_relaxed, memory_order_relaxed));
}

double mlops__serve_load_double(const atomic_uint_least64_t *bits)
{
    uint64_t raw = atomic_load_explicit((atomic_uint_least64_t *)bits, memory_order_relaxed);
    double d;
    memcpy(&d, &raw, sizeof d);
    return d;
}

size_t mlops__serve_lat_bucket(uint64_t ns)
{
    unsigned octave;
    size_t sub;
    if (ns < ((uint64_t)1 << SERVE_LAT_OCTAVE_MIN))
        return 0;
    octave = 63u - (unsigned)__builtin_clzll(ns);
    if (octave >= SERVE_LAT_OCTAVE_MAX)
        return SERVE_LAT_BUCKETS - 1;
    sub = (size_t)(ns >> (octave - 2)) & (SERVE_LAT_SUB - 1);
    return 1 + (size_t)(octave - SERVE_LAT_OCTAVE_MIN) * SERVE_LAT_SUB + sub;
}

double mlops__serve_lat_upper(size_t i)
{
    size_t octave, sub;
    if (i == 0)
        return ldexp(1.0, SERVE_LAT_OCTAVE_MIN) * 1e-9;
    if (i >= SERVE_LAT_BUCKETS - 1)
        return INFINITY;
    octave = SERVE_LAT_OCTAVE_MIN + (i - 1) / SERVE_LAT_SUB;
    sub = (i - 1) % SERVE_LAT_SUB;
    return ldexp(1.0 + (double)(sub + 1) / SERVE_LAT_SUB, (int)octave) * 1e-9;
}

size_t mlops__serve_argmax(const float *row, size_t n)
{
    size_t i, best = 0;
    for (i = 1; i < n; i++)
        if (row[i] > row[best])
            best = i;
    return best;
}

int mlops__serve_series_get(serve_series **out, mlops_router *router, int32_t arm, int64_t version,
                            size_t out_width)
{
    serve_series *s;
    for (s = router->series; s != NULL; s = s->next)
        if (s->arm == arm && s->version == version) {
            *out = s;
            return MLOPS_OK;
        }
    s = mlops__calloc(1, sizeof *s);
    if (s == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "out of memory for the metrics of version %lld",
                            (long long)version);
    s->arm = arm;
    s->version = version;
    s->out_width = out_width;
    s->next = router->series;
    router->series = s;
    *out = s;
    return MLOPS_OK;
}

void mlops__serve_series_free_all(mlops_router *router)
{
    serve_series *s = router->series, *next;
    for (; s != NULL; s = next) {
        next = s->next;
        mlops__free(s);
    }
    router->series = NULL;
}

void mlops__serve_record(serve_series *series, unsigned shard, const float *output, size_t rows, uint64_t ns,
                         int failed)
{
    serve_counters *c = &series->shards[shard];
    size_t width = series->out_width, means = width < SERVE_MAX_MEANS ? width : SERVE_MAX_MEANS, i, j;
    atomic_fetch_add_explicit(&c->requests, 1, memory_order_relaxed);
    if (failed) {
        atomic_fetch_add_explicit(&c->errors, 1, memory_order_relaxed);
        return;
    }
    atomic_fetch_add_explicit(&c->rows, rows, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency_ns_sum, ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&c->latency[mlops__serve_lat_bucket(ns)], 1, memory_order_relaxed);
    if (output == NULL || rows == 0)
        return;
    if (width > 1)
        for (i = 0; i < rows; i++) {
            size_t k = mlops__serve_argmax(output + i * width, width);
            atomic_fetch_add_explicit(&c->classes[k < SERVE_MAX_CLASSES ? k : SERVE_MAX_CLASSES], 1,
                                      memory_order_relaxed);
        }
    for (j = 0; j < means; j++) {
        double sum = 0.0;
        for (i = 0; i < rows; i++)
            sum += output[i * width + j];
        mlops__serve_add_double(&c->output_sum[j], sum);
    }
}

/* ---- reading ------------------------------------------------------------------------------------- */

/* A series summed over its shards. */
typedef struct series_sum {
    uint64_t requests, rows, errors, latency_ns_sum, latency[SERVE_LAT_BUCKETS];
    uint64_t classes[SERVE_MAX_CLASSES + 1];
    double output_sum[SERVE_MAX_MEANS];
    uint64_t shadow_rows, shadow_disagree, shadow_errors, shadow_abs_count;
    double shadow_abs_sum;
    double p50, p90, p99;
    /* quality */
    uint64_t n, correct;
    double value, ci_low, ci_high;
    int classification;
} series_sum;

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

double mlops__serve_lat_quantile(const uint64_t *buckets, uint64_t total, double q)
{
    double target = q * (double)total, seen = 0.0;
    size_t i;
    if (total == 0)
        return NAN;
    for (i = 0; i < SERVE_LAT_BUCKETS; i++) {
        double lo = i == 0 ? 0.0 : mlops__serve_lat_upper(i - 1), hi = mlops__serve_lat_upper(i);
        if (buckets[i] == 0)
            continue;
        if (seen + (double)buckets[i] >= target) {
            if (isinf(hi))
                return lo;
            return lo + (hi - lo) * (target - seen) / (double)buckets[i];
        }
        seen += (double)buckets[i];
    }
    return mlops__serve_lat_upper(SERVE_LAT_BUCKETS - 2);
}

static int is_classification(const mlops_router *r, const serve_series *s)
{
    return r->task == SERVE_TASK_CLASSIFICATION || (r->task == SERVE_TASK_AUTO && s->out_width > 1);
}

/* Accuracy with a Wilson 95% interval, or RMSE with a normal-approximation 95% interval on the MSE. */
static void quality_of(series_sum *out, const mlops_router *r, const serve_series *s)
{
    const double z = 1.959963984540054;
    double n;
    out->classification = is_classification(r, s);
    out->n = LOAD(((serve_series *)s)->quality.n);
    out->correct = LOAD(((serve_series *)s)->quality.correct);
    out->value = out->ci_low = out->ci_high = NAN;
    if (out->n == 0)
        return;
    n = (double)out->n;
    if (out->classification) {
        double p = (double)out->correct / n, centre, half, d = 1.0 + z * z / n;
        centre = (p + z * z / (2.0 * n)) / d;
        half = z * sqrt(p * (1.0 - p) / n + z * z / (4.0 * n * n)) / d;
        out->value = p;
        out->ci_low = centre - half < 0.0 ? 0.0 : centre - half;
        out->ci_high = centre + half > 1.0 ? 1.0 : centre + half;
    } else {
        double mse = mlops__serve_load_double(&s->quality.sq_sum) / n;
        double m2 = mlops__serve_load_double(&s->quality.sq_sq_sum) / n, var = m2 - mse * mse, half;
        half = n > 1.0 && var > 0.0 ? z * sqrt(var / (n - 1.0)) : 0.0;
        out->value = sqrt(mse);
        out->ci_low = mse - half > 0.0 ? sqrt(mse - half) : 0.0;
        out->ci_high = sqrt(mse + half);
    }
}

static void sum_series(series_sum *out, const mlops_router *r, const serve_series *cs)
{
    serve_series *s = (serve_series *)cs;
    size_t sh, i;
    memset(out, 0, sizeof *out);
    for (sh = 0; sh < SERVE_SHARDS; sh++) {
        serve_counters *c = &s->shards[sh];
        out->requests += LOAD(c->requests);
        out->rows += LOAD(c->rows);
        out->errors += LOAD(c->errors);
        out->latency_ns_sum += LOAD(c->latency_ns_sum);
        for (i = 0; i < SERVE_LAT_BUCKETS; i++)
            out->latency[i] += LOAD(c->latency[i]);
        for (i = 0; i <= SERVE_MAX_CLASSES; i++)
            out->classes[i] += LOAD(c->classes[i]);
        for (i = 0; i < SERVE_MAX_MEANS; i++)
            out->output_sum[i] += mlops__serve_load_double(&c->output_sum[i]);
        out->shadow_rows += LOAD(c->shadow_rows);
        out->shadow_disagree += LOAD(c->shadow_disagree);
        out->shadow_errors += LOAD(c->shadow_errors);
        out->shadow_abs_count += LOAD(c->shadow_abs_count);
        out->shadow_abs_sum += mlops__serve_load_double(&c->shadow_abs_sum);
    }
    {
        uint64_t total = 0;
        for (i = 0; i < SERVE_LAT_BUCKETS; i++)
            total += out->latency[i];
        out->p50 = mlops__serve_lat_quantile(out->latency, total, 0.50);
        out->p90 = mlops__serve_lat_quantile(out->latency, total, 0.90);
        out->p99 = mlops__serve_lat_quantile(out->latency, total, 0.99);
    }
    quality_of(out, r, s);
}

/* Number text that JSON and Prometheus both accept (NaN becomes null / NaN by the caller). */
static void put_double(mlops__buf *b, double v, int json)
{
    char text[40];
    if (isnan(v)) {
        mlops__buf_puts(b, json ? "null" : "NaN");
        return;
    }
    if (isinf(v)) {
        mlops__buf_puts(b, json ? "null" : (v > 0 ? "+Inf" : "-Inf"));
        return;
    }
    mlops__format_double(text, sizeof text, v);
    mlops__buf_puts(b, text);
}

/* Label value escaping of the exposition format: backslash, quote and newline. */
static void put_label(mlops__buf *b, const char *text)
{
    for (; *text; text++) {
        if (*text == '\\')
            mlops__buf_puts(b, "\\\\");
        else if (*text == '"')
            mlops__buf_puts(b, "\\\"");
        else if (*text == '\n')
            mlops__buf_puts(b, "\\n");
        else
            mlops__buf_putc(b, *text);
    }
}

static void family(mlops__buf *b, const char *name, const char *type, const char *help)
{
    mlops__buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* `name{model="m",arm="a",version="v"` without the closing brace. */
static void sample_start(mlops__buf *b, const mlops_router *r, const char *name, const serve_series *s)
{
    mlops__buf_printf(b, "%s{model=\"", name);
    put_label(b, r->model);
    mlops__buf_printf(b, "\",arm=\"%s\",version=\"%lld\"", arm_names[s->arm], (long long)s->version);
}

static int series_live(const serve_route *route, const serve_series *s)
{
    return route != NULL && route->arm[s->arm] != NULL && route->arm[s->arm]->series == s;
}

/* Collect the sums of every series; under the control mutex. */
static int collect(series_sum **out, size_t *count_out, const mlops_router *r)
{
    const serve_series *s;
    series_sum *sums;
    size_t n = 0, i = 0;
    for (s = r->series; s != NULL; s = s->next)
        n++;
    sums = mlops__calloc(n ? n : 1, sizeof *sums);
    if (sums == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "router \"%s\": out of memory for the metrics", r->model);
    for (s = r->series; s != NULL; s = s->next)
        sum_series(&sums[i++], r, s);
    *out = sums;
    *count_out = n;
    return MLOPS_OK;
}

typedef uint64_t (*count_fn)(const series_sum *sum);
static uint64_t get_requests(const series_sum *x) { return x->requests; }
static uint64_t get_rows(const series_sum *x) { return x->rows; }
static uint64_t get_errors(const series_sum *x) { return x->errors; }
static uint64_t get_shadow_rows(const series_sum *x) { return x->shadow_rows; }
static uint64_t get_shadow_disagree(const series_sum *x) { return x->shadow_disagree; }
static uint64_t get_shadow_errors(const series_sum *x) { return x->shadow_errors; }
static uint64_t get_outcomes(const series_sum *x) { return x->n; }

static void counter_family(mlops__buf *b, const mlops_router *r, const series_sum *sums, const char *name,
                           const char *help, count_fn get)
{
    const serve_series *s;
    size_t i = 0;
    family(b, name, "counter", help);
    for (s = r->series; s != NULL; s = s->next, i++) {
        sample_start(b, r, name, s);
        mlops__buf_printf(b, "} %llu\n", (unsigned long long)get(&sums[i]));
    }
}

static void prometheus_text(mlops__buf *b, const mlops_router *r, const series_sum *sums)
{
    const serve_route *route = atomic_load(&((mlops_router *)r)->route);
    const serve_series *s;
    size_t i, k;

    family(b, "mlops_serve_live", "gauge", "1 when the version answers for the arm now.");
    for (s = r->series; s != NULL; s = s->next) {
        sample_start(b, r, "mlops_serve_live", s);
        mlops__buf_printf(b, "} %d\n", series_live(route, s));
    }
    counter_family(b, r, sums, "mlops_serve_requests_total", "Calls answered or attempted.", get_requests);
    counter_family(b, r, sums, "mlops_serve_rows_total", "Rows predicted.", get_rows);
    counter_family(b, r, sums, "mlops_serve_errors_total", "Calls that failed.", get_errors);

    family(b, "mlops_serve_latency_seconds", "histogram", "Session run time per call.");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++) {
        uint64_t cumulative = 0;
        for (k = 0; k < SERVE_LAT_BUCKETS; k++) {
            cumulative += sums[i].latency[k];
            sample_start(b, r, "mlops_serve_latency_seconds_bucket", s);
            mlops__buf_puts(b, ",le=\"");
            put_double(b, mlops__serve_lat_upper(k), 0);
            mlops__buf_printf(b, "\"} %llu\n", (unsigned long long)cumulative);
        }
        sample_start(b, r, "mlops_serve_latency_seconds_sum", s);
        mlops__buf_puts(b, "} ");
        put_double(b, (double)sums[i].latency_ns_sum * 1e-9, 0);
        mlops__buf_putc(b, '\n');
        sample_start(b, r, "mlops_serve_latency_seconds_count", s);
        mlops__buf_printf(b, "} %llu\n", (unsigned long long)cumulative);
    }
    family(b, "mlops_serve_latency_estimate_seconds", "gauge", "Latency percentiles estimated from the histogram.");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++) {
        const double qs[3] = {sums[i].p50, sums[i].p90, sums[i].p99};
        const char *names[3] = {"0.5", "0.9", "0.99"};
        for (k = 0; k < 3; k++) {
            sample_start(b, r, "mlops_serve_latency_estimate_seconds", s);
            mlops__buf_printf(b, ",percentile=\"%s\"} ", names[k]);
            put_double(b, qs[k], 0);
            mlops__buf_putc(b, '\n');
        }
    }
    family(b, "mlops_serve_predicted_class_total", "counter", "Rows by top-1 output column (\"other\" beyond 64).");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++)
        for (k = 0; k <= SERVE_MAX_CLASSES; k++) {
            if (sums[i].classes[k] == 0)
                continue;
            sample_start(b, r, "mlops_serve_predicted_class_total", s);
            if (k < SERVE_MAX_CLASSES)
                mlops__buf_printf(b, ",class=\"%zu\"} %llu\n", k, (unsigned long long)sums[i].classes[k]);
            else
                mlops__buf_printf(b, ",class=\"other\"} %llu\n", (unsigned long long)sums[i].classes[k]);
        }
    family(b, "mlops_serve_output_mean", "gauge", "Mean of each output column (first 16).");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++)
        for (k = 0; sums[i].rows > 0 && k < s->out_width && k < SERVE_MAX_MEANS; k++) {
            sample_start(b, r, "mlops_serve_output_mean", s);
            mlops__buf_printf(b, ",output=\"%zu\"} ", k);
            put_double(b, sums[i].output_sum[k] / (double)sums[i].rows, 0);
            mlops__buf_putc(b, '\n');
        }
    counter_family(b, r, sums, "mlops_serve_shadow_rows_total", "Rows the shadow challenger compared.",
                   get_shadow_rows);
    counter_family(b, r, sums, "mlops_serve_shadow_disagreements_total",
                   "Compared rows whose top-1 differs from the champion's.", get_shadow_disagree);
    counter_family(b, r, sums, "mlops_serve_shadow_errors_total", "Shadow runs that failed or could not compare.",
                   get_shadow_errors);
    family(b, "mlops_serve_shadow_mean_abs_diff", "gauge", "Mean absolute difference of the shadow outputs.");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++) {
        if (sums[i].shadow_abs_count == 0)
            continue;
        sample_start(b, r, "mlops_serve_shadow_mean_abs_diff", s);
        mlops__buf_puts(b, "} ");
        put_double(b, sums[i].shadow_abs_sum / (double)sums[i].shadow_abs_count, 0);
        mlops__buf_putc(b, '\n');
    }
    counter_family(b, r, sums, "mlops_serve_outcomes_total", "Outcomes joined to predictions.", get_outcomes);
    family(b, "mlops_serve_quality", "gauge", "Accuracy or RMSE from outcomes with its 95% interval.");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++) {
        const double v[3] = {sums[i].value, sums[i].ci_low, sums[i].ci_high};
        const char *bound[3] = {"value", "ci_low", "ci_high"};
        if (sums[i].n == 0)
            continue;
        for (k = 0; k < 3; k++) {
            sample_start(b, r, "mlops_serve_quality", s);
            mlops__buf_printf(b, ",metric=\"%s\",bound=\"%s\"} ", sums[i].classification ? "accuracy" : "rmse",
                              bound[k]);
            put_double(b, v[k], 0);
            mlops__buf_putc(b, '\n');
        }
    }
    family(b, "mlops_serve_drift_detected", "gauge", "1 when the last closed window drifted from the reference.");
    for (s = r->series; s != NULL; s = s->next) {
        sample_start(b, r, "mlops_serve_drift_detected", s);
        mlops__buf_printf(b, ",kind=\"dataset\"} %d\n", atomic_load(&((serve_series *)s)->drift_dataset));
        sample_start(b, r, "mlops_serve_drift_detected", s);
        mlops__buf_printf(b, ",kind=\"prediction\"} %d\n", atomic_load(&((serve_series *)s)->drift_prediction));
    }
    family(b, "mlops_serve_drift_windows_total", "counter", "Drift windows closed and stored.");
    for (s = r->series; s != NULL; s = s->next) {
        sample_start(b, r, "mlops_serve_drift_windows_total", s);
        mlops__buf_printf(b, "} %llu\n", (unsigned long long)atomic_load(&((serve_series *)s)->drift_windows));
    }
    family(b, "mlops_serve_reloads_total", "counter", "Route swaps after alias moves.");
    mlops__buf_puts(b, "mlops_serve_reloads_total{model=\"");
    put_label(b, r->model);
    mlops__buf_printf(b, "\"} %llu\n", (unsigned long long)r->reloads);
    family(b, "mlops_serve_reload_errors_total", "counter", "Versions or windows that could not be loaded or stored.");
    mlops__buf_puts(b, "mlops_serve_reload_errors_total{model=\"");
    put_label(b, r->model);
    mlops__buf_printf(b, "\"} %llu\n", (unsigned long long)r->reload_errors);
}

int mlops_router_metrics_prometheus(char **text_out, mlops_router *router)
{
    series_sum *sums = NULL;
    size_t n;
    mlops__buf b;
    int rc;
    if (text_out == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_metrics_prometheus", "text_out");
    *text_out = NULL;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_metrics_prometheus", "router");
    mlops__buf_init(&b);
    pthread_mutex_lock(&router->ctl);
    if ((rc = collect(&sums, &n, router)) == MLOPS_OK)
        prometheus_text(&b, router, sums);
    pthread_mutex_unlock(&router->ctl);
    if (rc == MLOPS_OK && (rc = mlops__buf_status(&b, SERVE_SUB)) == MLOPS_OK)
        *text_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    mlops__free(sums);
    return rc;
}

void mlops__serve_json_key_double(mlops__buf *b, const char *key, double v)
{
    mlops__buf_printf(b, ",\"%s\":", key);
    put_double(b, v, 1);
}

static void json_text(mlops__buf *b, const mlops_router *r, const series_sum *sums)
{
    static const char *const modes[3] = {"canary", "shadow", "ab"};
    const serve_route *route = atomic_load(&((mlops_router *)r)->route);
    const serve_series *s;
    size_t i, k;
    int a;

    mlops__buf_puts(b, "{\"model\":");
    mlops__buf_json_string(b, r->model);
    mlops__buf_printf(b, ",\"mode\":\"%s\"", modes[r->mode]);
    mlops__serve_json_key_double(b, "share", r->share);
    mlops__buf_puts(b, ",\"arms\":[");
    for (a = 0; a < 2; a++) {
        if (a)
            mlops__buf_putc(b, ',');
        mlops__buf_printf(b, "{\"arm\":\"%s\",\"alias\":", arm_names[a]);
        if (r->aliases[a])
            mlops__buf_json_string(b, r->aliases[a]);
        else
            mlops__buf_puts(b, "null");
        mlops__buf_printf(b, ",\"version\":%lld}",
                          (long long)(route && route->arm[a] ? route->arm[a]->version : 0));
    }
    mlops__buf_printf(b, "],\"reloads\":%llu,\"reload_errors\":%llu,\"last_reload_error\":",
                      (unsigned long long)r->reloads, (unsigned long long)r->reload_errors);
    if (r->last_reload_error)
        mlops__buf_json_string(b, r->last_reload_error);
    else
        mlops__buf_puts(b, "null");
    mlops__buf_puts(b, ",\"series\":[");
    for (s = r->series, i = 0; s != NULL; s = s->next, i++) {
        const series_sum *x = &sums[i];
        if (i)
            mlops__buf_putc(b, ',');
        mlops__buf_printf(b,
                          "{\"arm\":\"%s\",\"version\":%lld,\"live\":%s,\"requests\":%llu,\"rows\":%llu,"
                          "\"errors\":%llu,\"latency_us\":{\"count\":%llu",
                          arm_names[s->arm], (long long)s->version, series_live(route, s) ? "true" : "false",
                          (unsigned long long)x->requests, (unsigned long long)x->rows,
                          (unsigned long long)x->errors, (unsigned long long)(x->requests - x->errors));
        mlops__serve_json_key_double(b, "mean", x->requests > x->errors
                                       ? (double)x->latency_ns_sum * 1e-3 / (double)(x->requests - x->errors)
                                       : NAN);
        mlops__serve_json_key_double(b, "p50", x->p50 * 1e6);
        mlops__serve_json_key_double(b, "p90", x->p90 * 1e6);
        mlops__serve_json_key_double(b, "p99", x->p99 * 1e6);
        mlops__buf_puts(b, "},\"classes\":{");
        for (k = 0, a = 0; k <= SERVE_MAX_CLASSES; k++) {
            if (x->classes[k] == 0)
                continue;
            if (a++)
                mlops__buf_putc(b, ',');
            if (k < SERVE_MAX_CLASSES)
                mlops__buf_printf(b, "\"%zu\":%llu", k, (unsigned long long)x->classes[k]);
            else
                mlops__buf_printf(b, "\"other\":%llu", (unsigned long long)x->classes[k]);
        }
        mlops__buf_puts(b, "},\"output_mean\":[");
        for (k = 0; x->rows > 0 && k < s->out_width && k < SERVE_MAX_MEANS; k++) {
            if (k)
                mlops__buf_putc(b, ',');
            put_double(b, x->output_sum[k] / (double)x->rows, 1);
        }
        mlops__buf_printf(b, "],\"shadow\":{\"rows\":%llu,\"disagreements\":%llu,\"errors\":%llu",
                          (unsigned long long)x->shadow_rows, (unsigned long long)x->shadow_disagree,
                          (unsigned long long)x->shadow_errors);
        mlops__serve_json_key_double(b, "disagreement", x->shadow_rows ? (double)x->shadow_disagree / (double)x->shadow_rows
                                                          : NAN);
        mlops__serve_json_key_double(b, "mean_abs_diff",
                        x->shadow_abs_count ? x->shadow_abs_sum / (double)x->shadow_abs_count : NAN);
        mlops__buf_printf(b, "},\"quality\":{\"metric\":\"%s\",\"outcomes\":%llu",
                          x->classification ? "accuracy" : "rmse", (unsigned long long)x->n);
        mlops__serve_json_key_double(b, "value", x->value);
        mlops__serve_json_key_double(b, "ci_low", x->ci_low);
        mlops__serve_json_key_double(b, "ci_high", x->ci_high);
        mlops__buf_printf(b, "},\"drift\":{\"windows\":%llu,\"detections\":%llu,\"dataset\":%s,\"prediction\":%s}}",
                          (unsigned long long)atomic_load(&((serve_series *)s)->drift_windows),
                          (unsigned long long)atomic_load(&((serve_series *)s)->drift_detections),
                          atomic_load(&((serve_series *)s)->drift_dataset) ? "true" : "false",
                          atomic_load(&((serve_series *)s)->drift_prediction) ? "true" : "false");
    }
    mlops__buf_puts(b, "]}");
}

int mlops_router_metrics_json(char **json_out, mlops_router *router)
{
    series_sum *sums = NULL;
    size_t n;
    mlops__buf b;
    int rc;
    if (json_out == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_metrics_json", "json_out");
    *json_out = NULL;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_metrics_json", "router");
    mlops__buf_init(&b);
    pthread_mutex_lock(&router->ctl);
    if ((rc = collect(&sums, &n, router)) == MLOPS_OK)
        json_text(&b, router, sums);
    pthread_mutex_unlock(&router->ctl);
    if (rc == MLOPS_OK && (rc = mlops__buf_status(&b, SERVE_SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    mlops__free(sums);
    return rc;
}

/* ---- quality logging ----------------------------------------------------------------------------- */

int mlops_router_quality_log(int64_t *logged_out, mlops_router *router, const char *dataset)
{
    serve_series *s;
    int64_t logged = 0;
    int rc = MLOPS_OK;
    if (logged_out)
        *logged_out = 0;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_quality_log", "router");
    pthread_mutex_lock(&router->ctl);
    for (s = router->series; s != NULL && rc == MLOPS_OK; s = s->next) {
        series_sum q;
        quality_of(&q, router, s);
        if (q.n == 0)
            continue;
        rc = mlops_version_metric_log(router->db, router->model, s->version, q.classification ? "accuracy" : "rmse",
                                      q.value, q.ci_low, q.ci_high, dataset ? dataset : "serve", 0);
        if (rc == MLOPS_OK)
            logged++;
    }
    pthread_mutex_unlock(&router->ctl);
    if (logged_out)
        *logged_out = logged;
    return rc;
}

/* ---- persisted snapshots ------------------------------------------------------------------------- */

/* Insert what `x` counted since the series' last snapshot, inside the caller's transaction. */
static int snapshot_insert(mlops_router *r, const serve_series *s, const series_sum *x, int64_t now_us)
{
    mlops__stmt *st = NULL;
    mlops__buf latency;
    size_t k;
    int rc;
    mlops__buf_init(&latency);
    for (k = 0; k < SERVE_LAT_BUCKETS; k++)
        mlops__buf_printf(&latency, "%c%llu", k ? ',' : '[',
                          (unsigned long long)(x->latency[k] - s->logged_latency[k]));
    mlops__buf_putc(&latency, ']');
    if ((rc = mlops__buf_status(&latency, SERVE_SUB)) ||
        (rc = mlops__db_prepare(&st, r->db,
                                "INSERT INTO serve_metrics(model, version, arm, time_us, requests, rows, errors, "
                                "latency_ns_sum, latency) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)")))
        goto out_free;
    if (!(rc = mlops__stmt_bind_text(st, 1, r->model, strlen(r->model))) &&
        !(rc = mlops__stmt_bind_int64(st, 2, s->version)) &&
        !(rc = mlops__stmt_bind_text(st, 3, arm_names[s->arm], strlen(arm_names[s->arm]))) &&
        !(rc = mlops__stmt_bind_int64(st, 4, now_us)) &&
        !(rc = mlops__stmt_bind_int64(st, 5, (int64_t)(x->requests - s->logged_requests))) &&
        !(rc = mlops__stmt_bind_int64(st, 6, (int64_t)(x->rows - s->logged_rows))) &&
        !(rc = mlops__stmt_bind_int64(st, 7, (int64_t)(x->errors - s->logged_errors))) &&
        !(rc = mlops__stmt_bind_int64(st, 8, (int64_t)(x->latency_ns_sum - s->logged_ns))) &&
        !(rc = mlops__stmt_bind_text(st, 9, latency.data, latency.len)))
        rc = mlops__stmt_step(st) == MLOPS_DONE ? MLOPS_OK : mlops__error_prefix("storing serving metrics");
    mlops__stmt_release(st);
out_free:
    mlops__buf_free(&latency);
    return rc;
}

int mlops_router_metrics_log(int64_t *logged_out, mlops_router *router)
{
    series_sum *sums = NULL;
    serve_series *s;
    size_t n = 0, i;
    int64_t logged = 0, now_us = mlops__now_us();
    int rc;
    if (logged_out)
        *logged_out = 0;
    if (router == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_router_metrics_log", "router");
    pthread_mutex_lock(&router->ctl);
    if ((rc = collect(&sums, &n, router)) != MLOPS_OK)
        goto out_unlock;
    if ((rc = mlops__tx_begin(router->db)) != MLOPS_OK)
        goto out_unlock;
    for (s = router->series, i = 0; s != NULL && rc == MLOPS_OK; s = s->next, i++)
        if (sums[i].requests != s->logged_requests && (rc = snapshot_insert(router, s, &sums[i], now_us)) == MLOPS_OK)
            logged++;
    if ((rc = mlops__tx_end(router->db, rc)) != MLOPS_OK) {
        mlops__error_prefix("router \"%s\"", router->model);
        goto out_unlock;
    }
    /* committed: the next snapshot starts from these totals */
    for (s = router->series, i = 0; s != NULL; s = s->next, i++) {
        s->logged_requests = sums[i].requests;
        s->logged_rows = sums[i].rows;
        s->logged_errors = sums[i].errors;
        s->logged_ns = sums[i].latency_ns_sum;
        memcpy(s->logged_latency, sums[i].latency, sizeof s->logged_latency);
    }
    if (logged_out)
        *logged_out = logged;
out_unlock:
    pthread_mutex_unlock(&router->ctl);
    mlops__free(sums);
    return rc;
}
