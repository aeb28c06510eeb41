/*
 * demo: the end-to-end story of libmlops on generated card transactions.
 *
 *   demo [OUTPUT_DIRECTORY]   (default: demo-output)
 *
 * Six months of card payments (January to June 2026); in June new merchants
 * appear and amounts grow. The demo stores the features with their data
 * contracts, builds a point-in-time training set, trains and registers a
 * fraud model, promotes it through a gate, serves May and June with int8
 * inference, watches the inputs drift week by week, refuses a weak model,
 * retrains, rolls the new version out as a canary, promotes it, forgets a
 * customer on request and verifies the audit chain. Uses only the public
 * API (and cJSON to read the library's JSON documents).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <mlops.h>

#include "transactions.h"

#define DAY_US 86400000000LL
#define WEEK_US (7 * DAY_US)

/* The model's inputs, as the point-in-time join names them ("view:feature"). */
static const char *const model_features[] = {
    "transactions:amount", "transactions:hour", "transactions:is_foreign", "transactions:risky",
    "activity:txn_count_24h", "activity:amount_sum_24h", "activity:amount_mean_30d", "activity:foreign_share_30d",
    "profile:spend_level", "profile:account_age_days",
};
#define FEATURE_COUNT (sizeof model_features / sizeof model_features[0])
/* What the drift monitor watches: the model's inputs and two categorical features. */
static const char *const watched[] = {
    "transactions:amount", "transactions:category", "transactions:country", "transactions:is_foreign",
    "activity:amount_mean_30d", "activity:foreign_share_30d", "transactions:hour",
};
#define WATCHED_COUNT (sizeof watched / sizeof watched[0])

typedef struct demo {
    const char *dir;
    char db_path[4096];
    mlops_db *db;
    demo_params params;
    mlops_frame *transactions, *activity, *profiles;
    int64_t last_system_time;   /* of the newest ingest: the as-of time of training sets */
    struct timespec start;
} demo;

static int fail(const char *step)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "demo: %s failed: %s (%s)\n", step, err->message, mlops_strerror(err->code));
    return 1;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

static int64_t day(const demo *d, int n)
{
    return d->params.start_us + (int64_t)n * DAY_US;
}

static const char *date_of(int64_t us)
{
    static char text[4][16];
    static int next;
    char *out = text[next++ % 4];
    time_t seconds = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    strftime(out, sizeof text[0], "%b %d", &tm);
    return out;
}

static const char *time_of(int64_t us)
{
    static char text[32];
    time_t seconds = (time_t)(us / 1000000);
    struct tm tm;
    gmtime_r(&seconds, &tm);
    strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return text;
}

/* Rows of `frame` whose INT64 column `column` lies in [from, to). */
static int rows_between(mlops_frame **out, const mlops_frame *frame, const char *column, int64_t from, int64_t to)
{
    const int64_t *ts = NULL;
    size_t index, row, count = 0, *rows;
    int rc;
    *out = NULL;
    if ((rc = mlops_frame_column_index(&index, frame, column)) || (rc = mlops_frame_column_int64(&ts, frame, index)))
        return rc;
    rows = malloc((mlops_frame_rows(frame) + 1) * sizeof *rows);
    if (!rows)
        return MLOPS_ENOMEM;
    for (row = 0; row < mlops_frame_rows(frame); row++) {
        if (ts[row] >= from && ts[row] < to)
            rows[count++] = row;
    }
    rc = mlops_frame_take_rows(out, frame, rows, count);
    free(rows);
    return rc;
}

/* Ingest the rows of `frame` with event time in [from, to) into `view`, keeping only `columns`. */
static int ingest(demo *d, mlops_ingest_report *report, const char *view, const mlops_frame *frame,
                  const char *const *columns, size_t count, int64_t from, int64_t to)
{
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_frame *window = NULL, *picked = NULL;
    int rc;
    options.policy = MLOPS_INGEST_QUARANTINE;
    options.event_time_column = "ts";
    if ((rc = rows_between(&window, frame, "ts", from, to)) == MLOPS_OK &&
        (rc = mlops_frame_select(&picked, window, columns, count)) == MLOPS_OK &&
        (rc = mlops_features_ingest(report, d->db, view, picked, &options)) == MLOPS_OK)
        d->last_system_time = report->system_time;
    mlops_frame_free(picked);
    mlops_frame_free(window);
    return rc;
}

static const char *const transaction_columns[] = {"customer_id", "ts", "amount", "category", "country", "hour",
                                                  "is_foreign", "risky"};
static const char *const activity_columns[] = {"customer_id", "ts", "txn_count_24h", "amount_sum_24h",
                                               "amount_mean_30d", "foreign_share_30d"};

/* Ingest all three views for event times in [from, to); returns the transactions' report. */
static int ingest_period(demo *d, mlops_ingest_report *txn_report, int64_t from, int64_t to)
{
    mlops_ingest_report report;
    int rc = ingest(d, txn_report, "transactions", d->transactions, transaction_columns, 8, from, to);
    if (rc == MLOPS_OK)
        rc = ingest(d, &report, "activity", d->activity, activity_columns, 6, from, to);
    return rc;
}

static int define_store(demo *d)
{
    static const char entity[] =
        "{\"name\": \"customer\", \"keys\": [{\"name\": \"customer_id\", \"type\": \"int64\"}],"
        " \"description\": \"a card holder\"}";
    static const char transactions[] =
        "{\"name\": \"transactions\", \"entity\": \"customer\", \"description\": \"card payments\","
        " \"features\": ["
        "  {\"name\": \"amount\", \"type\": \"float64\", \"contract\": {\"not_null\": true, \"min\": 0, \"finite\": true}},"
        "  {\"name\": \"category\", \"type\": \"string\", \"contract\": {\"not_null\": true, \"max_length\": 32}},"
        "  {\"name\": \"country\", \"type\": \"string\", \"contract\": {\"allowed\": [\"DE\", \"FR\", \"NL\", \"IT\","
        "   \"ES\", \"PL\", \"AT\", \"BE\", \"US\", \"GB\", \"TR\", \"BR\"]}},"
        "  {\"name\": \"hour\", \"type\": \"int64\", \"contract\": {\"min\": 0, \"max\": 23}},"
        "  {\"name\": \"is_foreign\", \"type\": \"bool\"},"
        "  {\"name\": \"risky\", \"type\": \"bool\"}]}";
    static const char activity[] =
        "{\"name\": \"activity\", \"entity\": \"customer\", \"ttl_us\": 2592000000000,"
        " \"description\": \"rolling spending of the customer just before a payment\","
        " \"features\": ["
        "  {\"name\": \"txn_count_24h\", \"type\": \"int64\", \"contract\": {\"min\": 0}},"
        "  {\"name\": \"amount_sum_24h\", \"type\": \"float64\", \"contract\": {\"min\": 0, \"finite\": true}},"
        "  {\"name\": \"amount_mean_30d\", \"type\": \"float64\", \"contract\": {\"min\": 0, \"finite\": true}},"
        "  {\"name\": \"foreign_share_30d\", \"type\": \"float64\", \"contract\": {\"min\": 0, \"max\": 1}}]}";
    static const char profile[] =
        "{\"name\": \"profile\", \"entity\": \"customer\", \"description\": \"the account\","
        " \"features\": ["
        "  {\"name\": \"home_country\", \"type\": \"string\"},"
        "  {\"name\": \"spend_level\", \"type\": \"float64\", \"contract\": {\"min\": 0}},"
        "  {\"name\": \"account_age_days\", \"type\": \"int64\", \"contract\": {\"min\": 0}}]}";
    mlops_ingest_report report;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_frame *quarantined = NULL;
    struct timespec t0;
    int rc;
    size_t row;

    printf("2. Feature store: entity \"customer\", views transactions, activity (TTL 30 days), profile\n");
    if ((rc = mlops_entity_define(d->db, entity)) || (rc = mlops_view_define(NULL, d->db, transactions, 0)) ||
        (rc = mlops_view_define(NULL, d->db, activity, 0)) || (rc = mlops_view_define(NULL, d->db, profile, 0)))
        return fail("defining the feature store");
    options.event_time_column = "ts";
    if ((rc = mlops_features_ingest(&report, d->db, "profile", d->profiles, &options)))
        return fail("ingesting profiles");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if ((rc = ingest_period(d, &report, day(d, 0), day(d, 120))))
        return fail("ingesting January to April");
    printf("   ingested January to April: %lld payments written, %lld quarantined, in %.1f s"
           " (with the activity view)\n", (long long)report.rows_written, (long long)report.rows_quarantined,
           seconds_since(&t0));
    if ((rc = mlops_features_quarantine_list(&quarantined, d->db, "transactions")))
        return fail("listing the quarantine");
    for (row = 0; row < mlops_frame_rows(quarantined) && row < 4; row++) {
        size_t rule_col, message_col;
        const char *rule = NULL, *message = NULL;
        mlops_frame_column_index(&rule_col, quarantined, "rule");
        mlops_frame_column_index(&message_col, quarantined, "message");
        mlops_frame_get_string(&rule, NULL, quarantined, rule_col, row);
        mlops_frame_get_string(&message, NULL, quarantined, message_col, row);
        printf("   quarantined: rule %-9s %s\n", rule, message);
    }
    printf("   nothing is lost: %zu bad rows wait in the quarantine for correction\n\n", mlops_frame_rows(quarantined));
    mlops_frame_free(quarantined);
    return MLOPS_OK;
}

/* The point-in-time training set of the payments with ts in [from, to). */
static int training_set(mlops_frame **out, demo *d, int64_t from, int64_t to, double *seconds)
{
    static const char *const entity_columns[] = {"customer_id", "ts", "label"};
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *window = NULL, *entities = NULL;
    struct timespec t0;
    int rc;
    options.timestamp_column = "ts";
    options.as_of_system_time = d->last_system_time;
    *out = NULL;
    if ((rc = rows_between(&window, d->transactions, "ts", from, to)) == MLOPS_OK &&
        (rc = mlops_frame_select(&entities, window, entity_columns, 3)) == MLOPS_OK) {
        static const char *const refs[] = {
            "transactions:amount", "transactions:hour", "transactions:is_foreign", "transactions:risky",
            "transactions:category", "transactions:country", "activity:txn_count_24h", "activity:amount_sum_24h",
            "activity:amount_mean_30d", "activity:foreign_share_30d", "profile:spend_level",
            "profile:account_age_days",
        };
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = mlops_features_join(out, d->db, entities, refs, sizeof refs / sizeof refs[0], &options);
        *seconds = seconds_since(&t0);
    }
    mlops_frame_free(entities);
    mlops_frame_free(window);
    return rc;
}

/* Rows of a joined frame whose model inputs are all present (quarantined payments have none). */
static int complete_rows(mlops_frame **out, const mlops_frame *frame)
{
    size_t rows = mlops_frame_rows(frame), width = 0, row, k, count = 0, *keep;
    float *matrix = malloc(rows * FEATURE_COUNT * sizeof *matrix + 1);
    int rc;
    *out = NULL;
    keep = malloc(rows * sizeof *keep + 1);
    if (!matrix || !keep) {
        free(matrix);
        free(keep);
        return MLOPS_ENOMEM;
    }
    rc = mlops_frame_to_matrix(matrix, rows * FEATURE_COUNT, &width, frame, model_features, FEATURE_COUNT,
                               MLOPS_MATRIX_NULLS_AS_NAN);
    for (row = 0; rc == MLOPS_OK && row < rows; row++) {
        for (k = 0; k < width && !isnan(matrix[row * width + k]); k++)
            ;
        if (k == width)
            keep[count++] = row;
    }
    if (rc == MLOPS_OK)
        rc = mlops_frame_take_rows(out, frame, keep, count);
    free(matrix);
    free(keep);
    return rc;
}

/* The training configuration over `count` features. */
static char *train_config(const char *model_json, const char *const *features, size_t count, int epochs)
{
    static char config[4096];
    size_t used, k;
    used = (size_t)snprintf(config, sizeof config, "{\"features\": [");
    for (k = 0; k < count; k++)
        used += (size_t)snprintf(config + used, sizeof config - used, "%s\"%s\"", k ? ", " : "", features[k]);
    snprintf(config + used, sizeof config - used,
             "], \"label\": \"label\", \"model\": %s, \"task\": \"binary\","
             " \"optimizer\": {\"type\": \"adam\", \"learning_rate\": 0.003}, \"epochs\": %d, \"batch_size\": 256,"
             " \"seed\": 7, \"split\": {\"validation\": 0.1, \"test\": 0.2, \"time_column\": \"ts\"},"
             " \"early_stopping\": {\"metric\": \"roc_auc\", \"patience\": 2}, \"bootstrap\": 200}",
             model_json, epochs);
    return config;
}

static int print_metric(const mlops_net *net, const char *name, const char *label)
{
    const mlops_metrics *metrics = NULL;
    double value, low, high;
    if (mlops_net_test_metrics(&metrics, net) || mlops_metrics_get(&value, &low, &high, metrics, name))
        return fail("reading test metrics");
    printf("   %s %.3f (95%% CI %.3f to %.3f)", label, value, low, high);
    return 0;
}

/* Train on the complete rows of [from, to) and register the result as a new version of "fraud". */
static int train_version(int64_t *version, mlops_net **net, demo *d, int64_t from, int64_t to, const char *model_json,
                         const char *const *features, size_t count, int epochs, const char *run_name)
{
    mlops_frame *joined = NULL, *complete = NULL;
    char options[1024];
    double join_seconds = 0;
    struct timespec t0;
    int rc;
    if ((rc = training_set(&joined, d, from, to, &join_seconds)) || (rc = complete_rows(&complete, joined)))
        goto out;
    printf("   point-in-time training set: %zu payments from %s to %s, %zu features each, joined in %.2f s"
           " (%.0f rows/s), as the store was at %s\n", mlops_frame_rows(complete), date_of(from), date_of(to - 1),
           count, join_seconds, (double)mlops_frame_rows(joined) / (join_seconds > 0 ? join_seconds : 1e-9),
           time_of(d->last_system_time));
    snprintf(options, sizeof options,
             "{\"run_name\": \"%s\", \"lineage\": {\"feature_views\": [{\"name\": \"transactions\", \"version\": 1},"
             " {\"name\": \"activity\", \"version\": 1}, {\"name\": \"profile\", \"version\": 1}],"
             " \"as_of_us\": %lld}}", run_name, (long long)d->last_system_time);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    rc = mlops_net_train_register(version, net, d->db, "fraud", complete, train_config(model_json, features, count, epochs), options);
    if (rc == MLOPS_OK)
        printf("   trained and registered fraud version %lld in %.1f s (run \"%s\", lineage and drift reference"
               " recorded)\n", (long long)*version, seconds_since(&t0), run_name);
out:
    mlops_frame_free(complete);
    mlops_frame_free(joined);
    return rc;
}

/* Print the refusal of a gate, or the promotion. */
static int promote(demo *d, const char *alias, int64_t version)
{
    int rc = mlops_alias_set(d->db, "fraud", alias, version);
    if (rc == MLOPS_OK)
        printf("   fraud@%s -> version %lld: the gate passed\n", alias, (long long)version);
    else if (rc == MLOPS_EPOLICY)
        printf("   fraud@%s refuses version %lld: %s\n", alias, (long long)version, mlops_error_last()->message);
    else
        return fail("moving an alias");
    return rc;
}

static int approve_as(demo *d, int64_t version, const char *actor, const char *note)
{
    char options[128];
    mlops_db *other = NULL;
    int rc;
    snprintf(options, sizeof options, "{\"actor\": \"%s\"}", actor);
    if ((rc = mlops_db_open(&other, d->db_path, options)) == MLOPS_OK)
        rc = mlops_version_approve(other, "fraud", version, note);
    mlops_db_close(other);
    if (rc == MLOPS_OK)
        printf("   %s approved version %lld: \"%s\"\n", actor, (long long)version, note);
    return rc;
}

static int compare_doubles(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef struct serve_stats {
    double *latency_us;
    size_t calls, capacity, skipped;
    size_t by_version[8];
} serve_stats;

/*
 * Serve the payments of [from, to) through the router, one request per
 * payment keyed by its id; then report their outcomes (the labels arrive
 * later) and store the week's input profile as a drift window.
 */
static int serve_period(demo *d, mlops_router *router, serve_stats *stats, int64_t from, int64_t to,
                        const mlops_profile *reference_shape)
{
    mlops_frame *joined = NULL, *complete = NULL, *watched_frame = NULL;
    mlops_profile *live = NULL;
    mlops_ingest_report report;
    float *inputs = NULL;
    const int64_t *ids = NULL;
    const uint8_t *labels = NULL;
    size_t rows, row, width = 0, index;
    double join_seconds;
    char key[96];
    int rc;

    /* The week's payments arrive: their features enter the store, then the requests come. */
    if ((rc = ingest_period(d, &report, from, to)) || (rc = training_set(&joined, d, from, to, &join_seconds)) ||
        (rc = complete_rows(&complete, joined)))
        goto out;
    rows = mlops_frame_rows(complete);
    stats->skipped += mlops_frame_rows(joined) - rows;
    inputs = malloc(rows * FEATURE_COUNT * sizeof *inputs + 1);
    if (!inputs) {
        rc = MLOPS_ENOMEM;
        goto out;
    }
    if ((rc = mlops_frame_to_matrix(inputs, rows * FEATURE_COUNT, &width, complete, model_features, FEATURE_COUNT,
                                    MLOPS_MATRIX_NULLS_REFUSE)) ||
        (rc = mlops_frame_column_index(&index, complete, "customer_id")) ||
        (rc = mlops_frame_column_int64(&ids, complete, index)) ||
        (rc = mlops_frame_column_index(&index, complete, "label")) ||
        (rc = mlops_frame_column_bool(&labels, complete, index)))
        goto out;
    if (stats->calls + rows > stats->capacity) {
        double *grown = realloc(stats->latency_us, (stats->calls + rows) * sizeof *grown);
        if (!grown) {
            rc = MLOPS_ENOMEM;
            goto out;
        }
        stats->latency_us = grown;
        stats->capacity = stats->calls + rows;
    }
    for (row = 0; row < rows; row++) {
        struct timespec t0, t1;
        int64_t version = 0;
        float score;
        snprintf(key, sizeof key, "c%lld-%zu-%lld", (long long)ids[row], row, (long long)from);
        clock_gettime(CLOCK_MONOTONIC, &t0);
        rc = mlops_router_run(&version, router, key, inputs + row * width, 1, &score, 1);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        if (rc)
            goto out;
        stats->latency_us[stats->calls++] =
            (double)(t1.tv_sec - t0.tv_sec) * 1e6 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e3;
        if (version > 0 && version < 8)
            stats->by_version[version]++;
        /* The bank learns later whether the payment was fraud. */
        if ((rc = mlops_router_outcome(router, key, labels[row])) && rc != MLOPS_ENOTFOUND)
            goto out;
        rc = MLOPS_OK;
    }
    if ((rc = mlops_frame_select(&watched_frame, joined, watched, WATCHED_COUNT)) ||
        (rc = mlops_profile_new_like(&live, reference_shape)) || (rc = mlops_profile_update_frame(live, watched_frame)))
        goto out;
    rc = mlops_drift_window_put(d->db, "fraud:inputs", from, to, live);
out:
    free(inputs);
    mlops_profile_free(live);
    mlops_frame_free(watched_frame);
    mlops_frame_free(complete);
    mlops_frame_free(joined);
    return rc;
}

static void print_latency(serve_stats *stats)
{
    if (stats->calls == 0)
        return;
    qsort(stats->latency_us, stats->calls, sizeof(double), compare_doubles);
    printf("   %zu requests, latency per call p50 %.1f us, p90 %.1f us, p99 %.1f us (feature join excluded)\n",
           stats->calls, stats->latency_us[stats->calls / 2], stats->latency_us[stats->calls * 9 / 10],
           stats->latency_us[stats->calls * 99 / 100]);
}

/* Print the `count` largest entries of a global importance document. */
static void print_importance(const cJSON *doc, int count)
{
    const cJSON *feature;
    int shown = 0;
    cJSON_ArrayForEach(feature, cJSON_GetObjectItem(doc, "features")) {
        if (shown++ == count)
            break;
        printf("%s %s %.4f", shown > 1 ? "," : "", cJSON_GetObjectItem(feature, "name")->valuestring,
               cJSON_GetObjectItem(feature, "importance")->valuedouble);
    }
    printf("\n");
}

/*
 * Explain the served version's decisions on the payments of [from, to):
 * integrated gradients from the week's average payment for the riskiest
 * one, and permutation importance (ROC AUC lost when a feature is shuffled)
 * over all of them, kept in *importance_out (free with mlops_free()) for
 * the report.
 */
static int explain_week(char **importance_out, demo *d, const char *reference, int64_t from, int64_t to)
{
    char *importance = NULL;
    mlops_frame *joined = NULL, *complete = NULL;
    mlops_session *session = NULL;
    mlops_explainer *explainer = NULL;
    float *inputs = NULL, *labels = NULL, *attributions = NULL, *scores = NULL, risk = 0, completeness = 0;
    const uint8_t *label = NULL;
    size_t rows = 0, width = 0, row, riskiest = 0, k, index;
    double join_seconds;
    int shown;
    cJSON *doc;
    int rc;
    *importance_out = NULL;
    if ((rc = training_set(&joined, d, from, to, &join_seconds)) || (rc = complete_rows(&complete, joined)))
        goto out;
    rows = mlops_frame_rows(complete);
    inputs = malloc(rows * FEATURE_COUNT * sizeof *inputs + 1);
    attributions = malloc(FEATURE_COUNT * sizeof *attributions);
    labels = malloc(rows * sizeof *labels + 1);
    scores = malloc(rows * sizeof *scores + 1);
    if (!inputs || !attributions || !labels || !scores) {
        rc = MLOPS_ENOMEM;
        goto out;
    }
    if ((rc = mlops_frame_to_matrix(inputs, rows * FEATURE_COUNT, &width, complete, model_features, FEATURE_COUNT,
                                    MLOPS_MATRIX_NULLS_REFUSE)) ||
        (rc = mlops_frame_column_index(&index, complete, "label")) ||
        (rc = mlops_frame_column_bool(&label, complete, index)) ||
        (rc = mlops_session_open_registry(&session, d->db, reference, "{\"precision\": \"int8\"}", NULL)) ||
        (rc = mlops_explainer_open(&explainer, session, "{\"method\": \"integrated_gradients\", \"baseline\": \"mean\"}",
                                   inputs, rows)) ||
        (rc = mlops_session_run(session, inputs, rows, scores, rows)))
        goto out;
    for (row = 0; row < rows; row++) {
        labels[row] = (float)label[row];
        if (scores[row] > scores[riskiest])
            riskiest = row;
    }
    if ((rc = mlops_explain_rows(attributions, NULL, &risk, &completeness, FEATURE_COUNT, explainer,
                                 inputs + riskiest * width, 1)))
        goto out;
    printf("   the riskiest payment of the week of %s scored %.3f against %.3f for the average one;\n"
           "   integrated gradients credit", date_of(from), risk, mlops_explainer_baseline_output(explainer));
    for (shown = 0; shown < 3; shown++) {
        size_t top = width;
        for (k = 0; k < width; k++)
            if (attributions[k] == attributions[k] && (top == width || fabsf(attributions[k]) > fabsf(attributions[top])))
                top = k;
        printf("%s %s %+.3f", shown ? "," : "", model_features[top], attributions[top]);
        attributions[top] = NAN;
    }
    printf(" (all ten sum to the difference within %.1e)\n", completeness);
    if ((rc = mlops_explain_permutation(&importance, explainer, inputs, labels, rows,
                                        "{\"metric\": \"roc_auc\", \"repeats\": 3, \"seed\": 1}")))
        goto out;
    doc = cJSON_Parse(importance);
    printf("   what the model relies on over the week's %zu payments (ROC AUC lost when shuffled):\n  ", rows);
    print_importance(doc, 3);
    cJSON_Delete(doc);
    *importance_out = importance;
out:
    mlops_explainer_free(explainer);
    mlops_session_free(session);
    free(scores);
    free(labels);
    free(attributions);
    free(inputs);
    mlops_frame_free(complete);
    mlops_frame_free(joined);
    return rc;
}

/* Print the weekly drift trend: which windows drifted, and the strongest features of each. */
static int print_trend(demo *d, const mlops_profile *reference, int64_t from, int64_t to)
{
    char *json = NULL;
    cJSON *doc, *windows, *window;
    int rc = mlops_drift_trend(&json, d->db, "fraud:inputs", reference, from, to,
                               "{\"correction\": \"benjamini_hochberg\", \"drift_share\": 0.3}");
    if (rc)
        return fail("computing the drift trend");
    doc = cJSON_Parse(json);
    windows = cJSON_GetObjectItem(doc, "windows");
    cJSON_ArrayForEach(window, windows) {
        cJSON *report = cJSON_GetObjectItem(window, "report");
        cJSON *dataset = cJSON_GetObjectItem(report, "dataset");
        cJSON *column;
        int drifted = cJSON_IsTrue(cJSON_GetObjectItem(dataset, "drifted"));
        char detail[512] = "";
        size_t used = 0;
        cJSON_ArrayForEach(column, cJSON_GetObjectItem(report, "columns")) {
            if (!cJSON_IsTrue(cJSON_GetObjectItem(column, "drifted")) || used > 400)
                continue;
            used += (size_t)snprintf(detail + used, sizeof detail - used, "%s %s %s=%.3f", used ? "," : "",
                                     cJSON_GetObjectItem(column, "name")->valuestring,
                                     cJSON_GetObjectItem(column, "test")->valuestring,
                                     cJSON_GetObjectItem(column, "statistic")->valuedouble);
        }
        printf("   week of %s: %4.0f of %d watched features drifted %s%s%s\n",
               date_of((int64_t)cJSON_GetObjectItem(window, "start_us")->valuedouble),
               cJSON_GetObjectItem(dataset, "drifted_columns")->valuedouble, (int)WATCHED_COUNT,
               drifted ? "-> DATASET DRIFT:" : "-> stable", used ? "" : "", detail);
    }
    cJSON_Delete(doc);
    mlops_free(json);
    return MLOPS_OK;
}

/* The reference the drift monitor compares with: the training period's watched features. */
static int reference_profile(mlops_profile **out, demo *d, int64_t from, int64_t to)
{
    mlops_frame *joined = NULL, *picked = NULL;
    double seconds;
    int rc;
    *out = NULL;
    if ((rc = training_set(&joined, d, from, to, &seconds)) == MLOPS_OK &&
        (rc = mlops_frame_select(&picked, joined, watched, WATCHED_COUNT)) == MLOPS_OK &&
        (rc = mlops_profile_new_for_frame(out, picked, NULL)) == MLOPS_OK)
        rc = mlops_profile_update_frame(*out, picked);
    mlops_frame_free(picked);
    mlops_frame_free(joined);
    return rc;
}

static void print_quality(mlops_router *router)
{
    char *json = NULL;
    cJSON *doc, *series;
    if (mlops_router_metrics_json(&json, router))
        return;
    doc = cJSON_Parse(json);
    cJSON_ArrayForEach(series, cJSON_GetObjectItem(doc, "series")) {
        cJSON *quality = cJSON_GetObjectItem(series, "quality");
        cJSON *value = quality ? cJSON_GetObjectItem(quality, "value") : NULL;
        if (!cJSON_IsNumber(value))
            continue;
        printf("   %-10s version %.0f: %.0f outcomes, RMSE of the fraud score %.4f (95%% CI %.4f to %.4f)\n",
               cJSON_GetObjectItem(series, "arm")->valuestring, cJSON_GetObjectItem(series, "version")->valuedouble,
               cJSON_GetObjectItem(quality, "outcomes")->valuedouble, value->valuedouble,
               cJSON_GetObjectItem(quality, "ci_low")->valuedouble, cJSON_GetObjectItem(quality, "ci_high")->valuedouble);
    }
    cJSON_Delete(doc);
    mlops_free(json);
}

static int forget_customer(demo *d, int64_t customer)
{
    static const char *const amount[] = {"amount"};
    mlops_frame *keys = NULL, *online = NULL;
    int64_t removed = 0;
    size_t column = 0;
    int rc;
    if ((rc = mlops_frame_new(&keys)) || (rc = mlops_frame_add_int64(keys, "customer_id", &customer, NULL, 1)) ||
        (rc = mlops_features_forget(&removed, d->db, "customer", keys)))
        goto out;
    printf("   customer %lld asked to be forgotten: %lld rows deleted from every view, the history, the online\n"
           "   table and the quarantine; the freed bytes were overwritten and the audit log holds only a keyed hash\n",
           (long long)customer, (long long)removed);
    if ((rc = mlops_features_online(&online, d->db, "transactions", keys, amount, 1, NULL)) == MLOPS_OK &&
        (rc = mlops_frame_column_index(&column, online, "transactions:amount")) != MLOPS_OK)
        rc = mlops_frame_column_index(&column, online, "amount");
    if (rc == MLOPS_OK)
        printf("   an online read for customer %lld now finds %s\n", (long long)customer,
               mlops_frame_is_null(online, column, 0) == 1 ? "nothing" : "a value (unexpected)");
out:
    mlops_frame_free(online);
    mlops_frame_free(keys);
    return rc;
}

/* Write `text` to DIR/NAME; the path goes to `path`. */
static int write_output(char *path, size_t cap, const demo *d, const char *name, const char *text)
{
    FILE *file;
    snprintf(path, cap, "%s/%s", d->dir, name);
    file = fopen(path, "w");
    if (file == NULL || fputs(text, file) < 0) {
        if (file)
            fclose(file);
        fprintf(stderr, "demo: cannot write %s\n", path);
        return 1;
    }
    return fclose(file) == 0 ? 0 : 1;
}

/*
 * The report of the fraud model: versions and metrics, drift of the June
 * weeks of the served inputs against version 1's training profile, the
 * serving metrics both routers stored and what version 1 relies on
 * (`importance`, an mlops_explain_permutation() document); as JSON and as
 * one HTML page.
 */
static int write_report(demo *d, int64_t reference_version, const char *importance)
{
    char path[4200], *options, *json = NULL, *html = NULL;
    size_t cap = strlen(importance) + 512;
    cJSON *doc;
    int rc;
    if (!(options = malloc(cap)))
        return fail("building the report");
    snprintf(options, cap,
             "{\"model\": \"fraud\", \"stream\": \"fraud:inputs\", \"reference_version\": %lld, \"windows\": 3,"
             " \"drift_config\": {\"correction\": \"benjamini_hochberg\", \"drift_share\": 0.3},"
             " \"importance\": %s}",
             (long long)reference_version, importance);
    rc = mlops_report_json(&json, d->db, options);
    free(options);
    if (rc || (rc = mlops_report_html(&html, json))) {
        mlops_free(json);
        return fail("building the report");
    }
    rc = write_output(path, sizeof path, d, "report.json", json);
    if (rc == 0 && (rc = write_output(path, sizeof path, d, "report.html", html)) == 0) {
        doc = cJSON_Parse(json);
        printf("   %.0f versions, %.0f of %.0f watched features drifting over the last three weeks,"
               " %.0f requests served (p99 %.1f us)\n",
               cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "versions")->valuedouble,
               cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "drifted_features")->valuedouble,
               cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "features")->valuedouble,
               cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "requests")->valuedouble,
               cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "summary"), "p99_us")->valuedouble);
        cJSON_Delete(doc);
        printf("   report: %s (the same numbers as JSON beside it)\n", path);
    }
    mlops_free(html);
    mlops_free(json);
    return rc;
}

static int run(demo *d)
{
    static const char mlp[] = "{\"type\": \"mlp\", \"hidden\": [32, 16], \"activation\": \"relu\"}";
    static const char *const weak_features[] = {"transactions:hour"};
    /* The scores are probabilities: their quality is the RMSE against the 0/1 outcome (the Brier score's root). */
    static const char router_settings[] =
        "{\"champion\": \"production\", \"challenger\": \"canary\", \"mode\": \"canary\", \"share\": 0.3,"
        " \"reload_interval_ms\": 0, \"session\": {\"precision\": \"int8\"}, \"drift\": {\"window_ms\": 0},"
        " \"outcomes\": {\"capacity\": 65536, \"task\": \"regression\"}}";
    static const char gate[] =
        "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"roc_auc\", \"min\": 0.85, \"dataset\": \"test\"},"
        " {\"rule\": \"profile_attached\"}, {\"rule\": \"approvals\", \"min\": 1}]}";
    static const char gate_with_canary[] =
        "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"roc_auc\", \"min\": 0.85, \"dataset\": \"test\"},"
        " {\"rule\": \"profile_attached\"}, {\"rule\": \"approvals\", \"min\": 1},"
        " {\"rule\": \"better_than_current\", \"metric\": \"rmse\", \"dataset\": \"canary\","
        " \"higher_is_better\": false}]}";
    mlops_net *net = NULL;
    mlops_router *router = NULL;
    mlops_profile *reference = NULL;
    serve_stats stats;
    int64_t v1 = 0, v2 = 0, weak = 0, first_bad = 0, logged = 0;
    int64_t week;
    char *prometheus = NULL, *importance = NULL;
    int32_t changed = 0;
    int rc;

    memset(&stats, 0, sizeof stats);
    if ((rc = define_store(d)))
        return rc;

    printf("3. Train, register and promote version 1 (fraud MLP 10-32-16-1 on January to April)\n");
    if ((rc = mlops_model_create(d->db, "fraud", "probability that a card payment is fraud",
                                 "{\"team\": \"risk\"}")))
        return fail("creating the model");
    if ((rc = train_version(&v1, &net, d, day(d, 0), day(d, 120), mlp, model_features, FEATURE_COUNT, 8, "v1")))
        return fail("training version 1");
    if (print_metric(net, "roc_auc", "test ROC AUC") || print_metric(net, "pr_auc", "PR AUC"))
        return 1;
    printf("\n");
    mlops_net_free(net);
    net = NULL;
    if ((rc = mlops_gate_set(d->db, "fraud", "production", gate)))
        return fail("attaching the production gate");
    printf("   production gate: test ROC AUC >= 0.85, a drift reference attached, one approval\n");
    promote(d, "production", v1);
    if ((rc = approve_as(d, v1, "risk-officer", "validated on April")) || promote(d, "production", v1) != MLOPS_OK)
        return fail("promoting version 1");
    printf("\n");

    printf("4. Serve May and June with int8 inference through a router on fraud@production\n");
    if ((rc = mlops_router_open(&router, d->db, "fraud", router_settings)))
        return fail("opening the router");
    if ((rc = reference_profile(&reference, d, day(d, 0), day(d, 120))))
        return fail("profiling the training data");
    for (week = day(d, 120); week + WEEK_US <= day(d, 169); week += WEEK_US) {
        if ((rc = serve_period(d, router, &stats, week, week + WEEK_US, reference)))
            return fail("serving a week");
    }
    print_latency(&stats);
    if (stats.skipped > 0)
        printf("   %zu payments could not be scored: their transaction features were quarantined\n", stats.skipped);
    if ((rc = explain_week(&importance, d, "fraud@production", day(d, 162), day(d, 169))))
        return fail("explaining the decisions");
    printf("\n");

    printf("5. Drift of the served inputs against the training data, week by week\n");
    if ((rc = print_trend(d, reference, day(d, 120), day(d, 169))))
        return rc;
    printf("\n");

    printf("6. A weak model meets the gate (a logistic regression on the hour of day alone)\n");
    if ((rc = train_version(&weak, &net, d, day(d, 0), day(d, 120), "{\"type\": \"logistic\"}", weak_features, 1,
                            4, "weak")))
        return fail("training the weak model");
    if (print_metric(net, "roc_auc", "test ROC AUC"))
        return 1;
    printf("\n");
    mlops_net_free(net);
    net = NULL;
    approve_as(d, weak, "risk-officer", "looks fine to me");
    promote(d, "production", weak);
    printf("\n");

    printf("7. Retrain on fresh features (January to mid-June) and roll the new version out as a canary\n");
    if ((rc = train_version(&v2, &net, d, day(d, 0), day(d, 169), mlp, model_features, FEATURE_COUNT, 8, "retrain")))
        return fail("training version 2");
    if (print_metric(net, "roc_auc", "test ROC AUC (on June)"))
        return 1;
    printf("\n");
    mlops_net_free(net);
    net = NULL;
    /* A fresh router measures both arms over the same days; the first one's serving metrics are kept. */
    if ((rc = mlops_router_metrics_log(NULL, router)))
        return fail("storing the serving metrics");
    mlops_router_close(router);
    router = NULL;
    if ((rc = mlops_alias_set(d->db, "fraud", "canary", v2)) ||
        (rc = mlops_router_open(&router, d->db, "fraud", router_settings)))
        return fail("starting the canary");
    printf("   fraud@canary -> version %lld; a router sends 30%% of customers to it, the rest to version %lld\n",
           (long long)mlops_router_version(router, MLOPS_ARM_CHALLENGER),
           (long long)mlops_router_version(router, MLOPS_ARM_CHAMPION));
    memset(stats.by_version, 0, sizeof stats.by_version);
    stats.calls = 0;
    if ((rc = serve_period(d, router, &stats, day(d, 169), day(d, 181), reference)))
        return fail("serving the canary period");
    printf("   last twelve days: version %lld answered %zu requests, version %lld answered %zu;\n", (long long)v1,
           stats.by_version[v1], (long long)v2, stats.by_version[v2]);
    printf("   their outcomes arrived later and were joined to the predictions:\n");
    print_quality(router);
    if ((rc = mlops_router_quality_log(&logged, router, "canary")))
        return fail("logging the canary quality");
    if ((rc = mlops_gate_set(d->db, "fraud", "production", gate_with_canary)))
        return fail("tightening the gate");
    printf("   the production gate now also asks for a lower canary RMSE than the current version's\n");
    if ((rc = approve_as(d, v2, "risk-officer", "canary looks good")))
        return fail("approving the new version");
    rc = promote(d, "production", v2);
    if (rc != MLOPS_OK && rc != MLOPS_EPOLICY)
        return rc;
    if ((rc = mlops_alias_delete(d->db, "fraud", "canary")) || (rc = mlops_router_reload(&changed, router)))
        return fail("ending the canary");
    printf("   the canary ends; the router answers from version %lld\n\n",
           (long long)mlops_router_version(router, MLOPS_ARM_CHAMPION));

    printf("8. Forget a customer on request\n");
    if ((rc = forget_customer(d, 42)))
        return fail("forgetting a customer");
    printf("\n");

    printf("9. Audit\n");
    rc = mlops_audit_verify(&first_bad, d->db);
    if (rc == MLOPS_OK)
        printf("   the audit chain verifies: every registration, approval, gate, alias move and the forget is"
               " recorded, hash-chained\n");
    else
        return fail("verifying the audit chain");
    if (mlops_router_metrics_prometheus(&prometheus, router) == MLOPS_OK) {
        char path[4200];
        FILE *file;
        snprintf(path, sizeof path, "%s/metrics.prom", d->dir);
        file = fopen(path, "w");
        if (file) {
            fputs(prometheus, file);
            fclose(file);
            printf("   serving metrics in Prometheus text format: %s\n", path);
        }
        mlops_free(prometheus);
    }
    if ((rc = mlops_router_metrics_log(NULL, router)))
        return fail("storing the serving metrics");
    mlops_profile_free(reference);
    mlops_router_close(router);
    free(stats.latency_us);
    printf("\n10. Report\n");
    rc = write_report(d, v1, importance);
    mlops_free(importance);
    return rc;
}

int main(int argc, char **argv)
{
    demo d;
    char path[4200];
    size_t fraud = 0, row, index;
    const uint8_t *label = NULL;
    int status;

    memset(&d, 0, sizeof d);
    d.dir = argc > 1 ? argv[1] : "demo-output";
    d.params = demo_default_params();
    clock_gettime(CLOCK_MONOTONIC, &d.start);
    mkdir(d.dir, 0777);
    printf("libmlops %s: end-to-end demo (seed %llu)\n\n", mlops_version(), (unsigned long long)d.params.seed);

    printf("1. Generating card payments\n");
    if (demo_generate(&d.transactions, &d.activity, &d.profiles, &d.params) != MLOPS_OK)
        return fail("generating data");
    if (mlops_frame_column_index(&index, d.transactions, "label") == MLOPS_OK &&
        mlops_frame_column_bool(&label, d.transactions, index) == MLOPS_OK)
        for (row = 0; row < mlops_frame_rows(d.transactions); row++)
            fraud += label[row];
    printf("   %zu payments of %d customers, January to June 2026; %zu fraudulent (%.2f%%)\n",
           mlops_frame_rows(d.transactions), d.params.customers, fraud,
           100.0 * (double)fraud / (double)mlops_frame_rows(d.transactions));
    printf("   in June a new merchant category appears, amounts grow by half, spending abroad doubles;\n"
           "   %d rows are malformed on purpose (negative or missing amount, unknown country)\n",
           d.params.malformed_rows);
    snprintf(path, sizeof path, "%s/transactions.csv", d.dir);
    if (mlops_frame_write_csv(d.transactions, path, NULL) != MLOPS_OK)
        return fail("writing transactions.csv");
    snprintf(d.db_path, sizeof d.db_path, "%s/demo.db", d.dir);
    snprintf(path, sizeof path, "%s-wal", d.db_path);
    remove(d.db_path);
    remove(path);
    if (mlops_db_open(&d.db, d.db_path, "{\"actor\": \"demo\"}") != MLOPS_OK)
        return fail("opening the database");
    printf("   raw data: %s/transactions.csv; database: %s\n\n", d.dir, d.db_path);

    status = run(&d) == MLOPS_OK ? 0 : 1;
    if (status == 0)
        printf("\nDone in %.0f s. Report: %s/report.html. Explore: mlops --db %s report;"
               " mlops --db %s audit list\n",
               seconds_since(&d.start), d.dir, d.db_path, d.db_path);
    mlops_db_close(d.db);
    mlops_frame_free(d.transactions);
    mlops_frame_free(d.activity);
    mlops_frame_free(d.profiles);
    return status;
}
