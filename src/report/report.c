/*
 * The JSON report: per model, its versions with metrics and intervals, the
 * drift of its recent live windows against a version's reference profile
 * (statistics from mlops_drift_report_profiles(), histograms of both sides
 * on shared bins) and the serving metrics routers persisted. Everything is
 * read through the public API of the subsystems below.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "report_int.h"

typedef struct report_opts {
    mlops__json *doc;
    const char *model, *alias, *stream;
    int64_t reference_version, windows, bins;
    char *drift_config;             /* printed "drift_config" object or NULL */
    const mlops__json *importance;  /* borrowed from doc */
} report_opts;

/* Totals for the summary cards. */
typedef struct report_totals {
    int64_t models, versions, features, drifted, requests;
    double p99_us;                  /* highest p99 of any series; NaN when none */
} report_totals;

static void opts_free(report_opts *o)
{
    mlops__free(o->drift_config);
    mlops__json_free(o->doc);
}

static int object_option(const mlops__json **out, const mlops__json *doc, const char *key)
{
    const mlops__json *node = mlops__json_get(doc, key);
    *out = node;
    if (node != NULL && !mlops__json_is_object(node))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report options: $.%s: expected an object", key);
    return MLOPS_OK;
}

static int opts_parse(report_opts *o, const char *json)
{
    static const char *const keys[] = {"model", "reference_version", "alias", "stream", "windows", "bins",
                                       "drift_config", "importance", NULL};
    const mlops__json *config = NULL;
    int rc;
    memset(o, 0, sizeof *o);
    o->windows = 1;
    o->bins = 20;
    if (json == NULL)
        return MLOPS_OK;
    if ((rc = mlops__json_parse(&o->doc, json, REPORT_SUB, "report options")))
        return rc;
    if (!mlops__json_is_object(o->doc))
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB, "report options: $: expected an object");
    if ((rc = mlops__json_check_keys(o->doc, "report options: $", REPORT_SUB, keys)) ||
        (rc = mlops__json_opt_string(&o->model, o->doc, "model", "report options: $", REPORT_SUB)) ||
        (rc = mlops__json_opt_string(&o->alias, o->doc, "alias", "report options: $", REPORT_SUB)) ||
        (rc = mlops__json_opt_string(&o->stream, o->doc, "stream", "report options: $", REPORT_SUB)) ||
        (rc = mlops__json_opt_int(&o->reference_version, o->doc, "reference_version", "report options: $",
                                  REPORT_SUB, 1, INT64_MAX)) ||
        (rc = mlops__json_opt_int(&o->windows, o->doc, "windows", "report options: $", REPORT_SUB, 1, 100000)) ||
        (rc = mlops__json_opt_int(&o->bins, o->doc, "bins", "report options: $", REPORT_SUB, 2, 200)) ||
        (rc = object_option(&config, o->doc, "drift_config")) ||
        (rc = object_option(&o->importance, o->doc, "importance")))
        return rc;
    if (o->alias != NULL && o->reference_version != 0)
        return mlops__error(MLOPS_EFORMAT, REPORT_SUB,
                            "report options: $.alias: give \"alias\" or \"reference_version\", not both");
    if (config != NULL && (o->drift_config = mlops__json_print(config)) == NULL)
        return mlops__error(MLOPS_ENOMEM, REPORT_SUB, "report options: out of memory");
    return MLOPS_OK;
}

/* Parse a document an API call returned, then free its text. */
static int take_json(mlops__json **out, char *text, const char *what)
{
    int rc = mlops__json_parse(out, text, REPORT_SUB, what);
    mlops_free(text);
    return rc;
}

/* Append a member of a document as it is (or null). */
static void put_node(mlops__buf *b, const mlops__json *node)
{
    char *text;
    if (node == NULL) {
        mlops__buf_puts(b, "null");
        return;
    }
    text = mlops__json_print(node);
    if (text == NULL) {
        b->failed = 1;
        return;
    }
    mlops__buf_puts(b, text);
    mlops__free(text);
}

static void put_key_node(mlops__buf *b, const char *key, const mlops__json *node)
{
    mlops__buf_printf(b, ",\"%s\":", key);
    put_node(b, node);
}

static void put_time(mlops__buf *b, const char *key, int64_t us)
{
    char text[40];
    mlops__time_format_iso8601(text, us);
    mlops__buf_printf(b, ",\"%s_us\":%lld,\"%s\":\"%s\"", key, (long long)us, key, text);
}

/* ---- versions ------------------------------------------------------------------------------------ */

static void put_versions(mlops__buf *b, const mlops__json *list, report_totals *totals)
{
    size_t i, j;
    mlops__buf_puts(b, ",\"versions\":[");
    for (i = 0; i < mlops__json_array_size(list); i++) {
        const mlops__json *v = mlops__json_at(list, i), *metrics = mlops__json_get(v, "metrics");
        mlops__buf_puts(b, i ? ",{\"version\":" : "{\"version\":");
        put_node(b, mlops__json_get(v, "version"));
        put_key_node(b, "aliases", mlops__json_get(v, "aliases"));
        put_time(b, "created", (int64_t)mlops__json_number(mlops__json_get(v, "created_us")));
        put_key_node(b, "creator", mlops__json_get(v, "creator"));
        mlops__buf_puts(b, ",\"metrics\":[");
        for (j = 0; j < mlops__json_array_size(metrics); j++) {
            const mlops__json *m = mlops__json_at(metrics, j);
            mlops__buf_puts(b, j ? ",{\"name\":" : "{\"name\":");
            put_node(b, mlops__json_get(m, "name"));
            put_key_node(b, "dataset", mlops__json_get(m, "dataset"));
            put_key_node(b, "value", mlops__json_get(m, "value"));
            put_key_node(b, "ci_low", mlops__json_get(m, "ci_low"));
            put_key_node(b, "ci_high", mlops__json_get(m, "ci_high"));
            mlops__buf_putc(b, '}');
        }
        mlops__buf_puts(b, "]}");
        totals->versions++;
    }
    mlops__buf_putc(b, ']');
}

/* ---- drift --------------------------------------------------------------------------------------- */

/*
 * Histograms of a numeric column on `bins` equal-width bins spanning the
 * 0.5%..99.5% quantiles of both sides (values outside count in the outer
 * bins), as proportions read from each profile's quantile sketch; null when
 * a side keeps no quantile sketch or saw no value.
 */
static int put_histogram(mlops__buf *b, const mlops_profile *ref, const mlops_profile *cur, const char *name,
                         int64_t bins)
{
    const mlops_profile *side[2] = {ref, cur};
    static const char *const side_names[2] = {"reference", "current"};
    static const double bounds[2] = {0.005, 0.995};
    size_t col[2];
    double q[2][2], lo, hi, below, upper;
    int64_t i;
    int s, k, rc;
    if ((rc = mlops_profile_column_index(&col[0], ref, name)) || (rc = mlops_profile_column_index(&col[1], cur, name)))
        return rc;
    for (s = 0; s < 2; s++)
        for (k = 0; k < 2; k++)
            if ((rc = mlops_profile_quantile(&q[s][k], side[s], col[s], bounds[k])) == MLOPS_ESTATE) {
                mlops_error_clear();
                mlops__buf_puts(b, "null");
                return MLOPS_OK;
            } else if (rc) {
                return rc;
            }
    lo = fmin(q[0][0], q[1][0]);
    hi = fmax(q[0][1], q[1][1]);
    if (!(hi > lo))
        hi = lo + 1.0;
    mlops__buf_puts(b, "{\"edges\":[");
    for (i = 0; i <= bins; i++) {
        if (i)
            mlops__buf_putc(b, ',');
        mlops__buf_json_double(b, i == bins ? hi : lo + (hi - lo) * (double)i / (double)bins);
    }
    mlops__buf_putc(b, ']');
    for (s = 0; s < 2; s++) {
        mlops__buf_printf(b, ",\"%s\":[", side_names[s]);
        for (i = 0, below = 0.0; i < bins; i++) {
            upper = 1.0;
            if (i + 1 < bins &&
                (rc = mlops_profile_rank(&upper, side[s], col[s], lo + (hi - lo) * (double)(i + 1) / (double)bins)))
                return rc;
            if (i)
                mlops__buf_putc(b, ',');
            mlops__buf_json_double(b, fmax(upper - below, 0.0));
            below = fmax(upper, below);
        }
        mlops__buf_putc(b, ']');
    }
    mlops__buf_putc(b, '}');
    return MLOPS_OK;
}

static int put_drift_columns(mlops__buf *b, const mlops__json *columns, const mlops_profile *ref,
                             const mlops_profile *cur, int64_t bins, report_totals *totals)
{
    static const char *const fields[] = {"kind", "test", "statistic", "p_value", "threshold", "drifted",
                                         "n_ref", "n_cur", NULL};
    size_t i, f;
    int rc = MLOPS_OK;
    mlops__buf_puts(b, ",\"features\":[");
    for (i = 0; i < mlops__json_array_size(columns) && rc == MLOPS_OK; i++) {
        const mlops__json *c = mlops__json_at(columns, i);
        const char *name = mlops__json_string(mlops__json_get(c, "name"));
        const char *kind = mlops__json_string(mlops__json_get(c, "kind"));
        mlops__buf_puts(b, i ? ",{\"name\":" : "{\"name\":");
        put_node(b, mlops__json_get(c, "name"));
        for (f = 0; fields[f] != NULL; f++)
            put_key_node(b, fields[f], mlops__json_get(c, fields[f]));
        mlops__buf_puts(b, ",\"histogram\":");
        if (name != NULL && kind != NULL && strcmp(kind, "numeric") == 0)
            rc = put_histogram(b, ref, cur, name, bins);
        else
            mlops__buf_puts(b, "null");
        mlops__buf_putc(b, '}');
        totals->features++;
        totals->drifted += mlops__json_bool(mlops__json_get(c, "drifted"));
    }
    mlops__buf_putc(b, ']');
    return rc;
}

/* Merge the newest `count` windows of `stream` (listed in `windows`, oldest first) into one profile. */
static int merge_windows(mlops_profile **out, mlops_db *db, const char *stream, const mlops__json *windows,
                         size_t first, size_t count)
{
    mlops_profile *merged = NULL;
    size_t i;
    int rc = MLOPS_OK;
    for (i = first; i < first + count && rc == MLOPS_OK; i++) {
        int64_t start = (int64_t)mlops__json_number(mlops__json_get(mlops__json_at(windows, i), "start_us"));
        mlops_profile *window = NULL;
        if ((rc = mlops_drift_window_get(&window, db, stream, start)))
            break;
        if (merged == NULL) {
            merged = window;
            continue;
        }
        rc = mlops_profile_merge(merged, window);
        mlops_profile_free(window);
    }
    if (rc) {
        mlops_profile_free(merged);
        merged = NULL;
    }
    *out = merged;
    return rc;
}

/* Reference and current profiles, or a note saying why there is no drift section. */
typedef struct drift_sides {
    mlops_profile *ref, *cur;
    mlops__json *windows;            /* the stream's window list */
    size_t first, count;             /* the windows merged */
    char note[512];
} drift_sides;

static int drift_load(drift_sides *d, mlops_db *db, const char *model, int64_t version, const char *stream,
                      int64_t recent)
{
    void *bytes = NULL;
    size_t len = 0, listed;
    char *json = NULL;
    int rc = mlops_version_profile_get(&bytes, &len, db, model, version);
    if (rc == MLOPS_ENOTFOUND) {
        mlops_error_clear();
        snprintf(d->note, sizeof d->note, "version %lld has no reference profile", (long long)version);
        return MLOPS_OK;
    }
    if (rc || (rc = mlops_profile_deserialize(&d->ref, bytes, len)))
        goto out_free;
    if ((rc = mlops_drift_window_list(&json, db, stream, INT64_MIN, INT64_MAX)) ||
        (rc = take_json(&d->windows, json, "drift window list")))
        goto out_free;
    listed = mlops__json_array_size(mlops__json_get(d->windows, "windows"));
    if (listed == 0) {
        snprintf(d->note, sizeof d->note, "no drift windows in stream \"%.400s\"", stream);
        goto out_free;
    }
    d->count = (size_t)recent < listed ? (size_t)recent : listed;
    d->first = listed - d->count;
    rc = merge_windows(&d->cur, db, stream, mlops__json_get(d->windows, "windows"), d->first, d->count);
out_free:
    mlops_free(bytes);
    return rc;
}

static int put_drift(mlops__buf *b, mlops_db *db, const char *model, int64_t version, const report_opts *o,
                     report_totals *totals)
{
    drift_sides d;
    mlops__json *report = NULL;
    char stream[600], *json = NULL;
    int rc;
    memset(&d, 0, sizeof d);
    if (o->stream != NULL)
        snprintf(stream, sizeof stream, "%s", o->stream);
    else
        snprintf(stream, sizeof stream, "serve:%.500s:%lld", model, (long long)version);
    if ((rc = drift_load(&d, db, model, version, stream, o->windows)))
        goto out_free;
    mlops__buf_puts(b, ",\"drift\":{\"stream\":");
    mlops__buf_json_string(b, stream);
    mlops__buf_printf(b, ",\"reference_version\":%lld", (long long)version);
    if (d.cur == NULL) {
        mlops__buf_puts(b, ",\"note\":");
        mlops__buf_json_string(b, d.note);
        mlops__buf_putc(b, '}');
        goto out_free;
    }
    if ((rc = mlops_drift_report_profiles(&json, d.ref, d.cur, o->drift_config)) ||
        (rc = take_json(&report, json, "drift report")))
        goto out_free;
    {
        const mlops__json *list = mlops__json_get(d.windows, "windows");
        const mlops__json *first = mlops__json_at(list, d.first), *last = mlops__json_at(list, d.first + d.count - 1);
        mlops__buf_printf(b, ",\"windows\":%zu", d.count);
        put_time(b, "from", (int64_t)mlops__json_number(mlops__json_get(first, "start_us")));
        put_time(b, "to", (int64_t)mlops__json_number(mlops__json_get(last, "end_us")));
    }
    put_key_node(b, "rows_reference", mlops__json_get(report, "reference_rows"));
    put_key_node(b, "rows_current", mlops__json_get(report, "current_rows"));
    put_key_node(b, "dataset", mlops__json_get(report, "dataset"));
    if ((rc = put_drift_columns(b, mlops__json_get(report, "columns"), d.ref, d.cur, o->bins, totals)) == MLOPS_OK)
        mlops__buf_putc(b, '}');
out_free:
    mlops__json_free(report);
    mlops__json_free(d.windows);
    mlops_profile_free(d.ref);
    mlops_profile_free(d.cur);
    return rc ? mlops__error_prefix("model \"%s\": drift", model) : MLOPS_OK;
}

/* The version drift is measured against: the option, else "production", else the newest. */
static int reference_version(int64_t *out, mlops_db *db, const mlops__json *shown, const report_opts *o)
{
    const char *model = mlops__json_string(mlops__json_get(shown, "name"));
    const mlops__json *production = mlops__json_get(mlops__json_get(shown, "aliases"), "production");
    char ref[600];
    *out = 0;
    if (o->reference_version) {
        snprintf(ref, sizeof ref, "%.300s@%lld", model, (long long)o->reference_version);
        return mlops_model_resolve(out, db, ref);
    }
    if (o->alias != NULL) {
        snprintf(ref, sizeof ref, "%.300s@%.280s", model, o->alias);
        return mlops_model_resolve(out, db, ref);
    }
    *out = (int64_t)mlops__json_number(production != NULL ? production : mlops__json_get(shown, "latest_version"));
    return MLOPS_OK;
}

/* ---- serving ------------------------------------------------------------------------------------- */

static int put_serving(mlops__buf *b, mlops_db *db, const char *model, report_totals *totals)
{
    mlops__json *stats = NULL;
    const mlops__json *series;
    char *json = NULL;
    size_t i;
    int rc = mlops_serve_stats_json(&json, db, model);
    if (rc == MLOPS_OK) {
        mlops__buf_puts(b, ",\"serving\":");
        mlops__buf_puts(b, json);
        rc = take_json(&stats, json, "serving metrics");
    }
    if (rc)
        return rc;
    totals->requests += (int64_t)mlops__json_number(mlops__json_get(stats, "requests"));
    series = mlops__json_get(stats, "series");
    for (i = 0; i < mlops__json_array_size(series); i++) {
        const mlops__json *p99 = mlops__json_get(mlops__json_get(mlops__json_at(series, i), "latency_us"), "p99");
        if (mlops__json_is_number(p99) && !(mlops__json_number(p99) <= totals->p99_us))
            totals->p99_us = mlops__json_number(p99);
    }
    mlops__json_free(stats);
    return MLOPS_OK;
}

/* ---- models -------------------------------------------------------------------------------------- */

static int put_model(mlops__buf *b, mlops_db *db, const char *name, const report_opts *o, report_totals *totals)
{
    mlops__json *shown = NULL, *versions = NULL;
    char *json = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = mlops_model_show(&json, db, name)) || (rc = take_json(&shown, json, "model")) ||
        (rc = mlops_version_list(&json, db, name, NULL)) || (rc = take_json(&versions, json, "version list")) ||
        (rc = reference_version(&version, db, shown, o)))
        goto out_free;
    mlops__buf_puts(b, "{\"name\":");
    mlops__buf_json_string(b, name);
    put_key_node(b, "description", mlops__json_get(shown, "description"));
    put_key_node(b, "aliases", mlops__json_get(shown, "aliases"));
    put_versions(b, versions, totals);
    if (version > 0)
        rc = put_drift(b, db, name, version, o, totals);
    else
        mlops__buf_puts(b, ",\"drift\":null");
    if (rc == MLOPS_OK)
        rc = put_serving(b, db, name, totals);
    mlops__buf_putc(b, '}');
    totals->models++;
out_free:
    mlops__json_free(shown);
    mlops__json_free(versions);
    return rc;
}

static int put_models(mlops__buf *b, mlops_db *db, const report_opts *o, report_totals *totals)
{
    mlops__json *models = NULL;
    char *json = NULL;
    size_t i;
    int rc;
    mlops__buf_puts(b, ",\"models\":[");
    if (o->model != NULL) {
        rc = put_model(b, db, o->model, o, totals);
    } else if ((rc = mlops_model_list(&json, db)) == MLOPS_OK && (rc = take_json(&models, json, "model list")) == MLOPS_OK) {
        for (i = 0; i < mlops__json_array_size(models) && rc == MLOPS_OK; i++) {
            if (i)
                mlops__buf_putc(b, ',');
            rc = put_model(b, db, mlops__json_string(mlops__json_get(mlops__json_at(models, i), "name")), o, totals);
        }
    }
    mlops__buf_putc(b, ']');
    mlops__json_free(models);
    return rc;
}

int mlops_report_json(char **json_out, mlops_db *db, const char *options_json)
{
    report_opts o;
    report_totals totals;
    mlops__buf b, head;
    int rc;
    if (json_out == NULL)
        return mlops__error_null(REPORT_SUB, "mlops_report_json", "json_out");
    *json_out = NULL;
    if (db == NULL)
        return mlops__error_null(REPORT_SUB, "mlops_report_json", "db");
    memset(&totals, 0, sizeof totals);
    totals.p99_us = NAN;
    mlops__buf_init(&b);
    mlops__buf_init(&head);
    if ((rc = opts_parse(&o, options_json)) || (rc = put_models(&b, db, &o, &totals)))
        goto out_free;
    mlops__buf_printf(&head, "{\"report\":\"mlops\",\"format_version\":%d", REPORT_FORMAT_VERSION);
    put_time(&head, "generated", mlops__now_us());
    mlops__buf_puts(&head, ",\"database\":");
    mlops__buf_json_string(&head, mlops_db_path(db));
    mlops__buf_printf(&head,
                      ",\"summary\":{\"models\":%lld,\"versions\":%lld,\"features\":%lld,\"drifted_features\":%lld,"
                      "\"requests\":%lld,\"p99_us\":",
                      (long long)totals.models, (long long)totals.versions, (long long)totals.features,
                      (long long)totals.drifted, (long long)totals.requests);
    mlops__buf_json_double(&head, totals.p99_us);
    mlops__buf_putc(&head, '}');
    if ((rc = mlops__buf_status(&b, REPORT_SUB)) != MLOPS_OK)
        goto out_free;
    mlops__buf_append(&head, b.data, b.len);
    if (o.importance != NULL)
        put_key_node(&head, "importance", o.importance);
    mlops__buf_putc(&head, '}');
    if ((rc = mlops__buf_status(&head, REPORT_SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&head, NULL);
out_free:
    mlops__buf_free(&b);
    mlops__buf_free(&head);
    opts_free(&o);
    return rc;
}
