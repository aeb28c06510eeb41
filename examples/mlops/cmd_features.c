/*
 * mlops entity / view / features: the feature store from the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_FEATURES 256

/*
 * The column layout of a view, read from its (possibly empty) quarantine
 * frame: "quarantine_id", "rule", "column", "message", "system_time", the
 * entity's key columns, "event_time", then the features of the current
 * definition, each with its type.
 */
typedef struct view_layout {
    mlops_frame *frame;
    size_t key_first;
    size_t key_count;
    size_t feature_first;
} view_layout;

static int layout_open(view_layout *layout, mlops_db *db, const char *view)
{
    size_t event_time = 0;
    memset(layout, 0, sizeof *layout);
    if (mlops_features_quarantine_list(&layout->frame, db, view) != MLOPS_OK)
        return cli_fail(view);
    if (mlops_frame_column_index(&layout->key_first, layout->frame, "system_time") != MLOPS_OK ||
        mlops_frame_column_index(&event_time, layout->frame, "event_time") != MLOPS_OK) {
        fprintf(stderr, "mlops: %s: unexpected quarantine layout\n", view);
        mlops_frame_free(layout->frame);
        layout->frame = NULL;
        return CLI_FAILURE;
    }
    layout->key_first++;
    layout->key_count = event_time - layout->key_first;
    layout->feature_first = event_time + 1;
    return CLI_OK;
}

/* A frame with only the key columns of the layout (types for parsing keys). */
static int layout_keys(mlops_frame **out, const view_layout *layout)
{
    const char *names[16];
    size_t i;
    for (i = 0; i < layout->key_count && i < CLI_COUNT(names); i++)
        names[i] = mlops_frame_column_name(layout->frame, layout->key_first + i);
    if (mlops_frame_select(out, layout->frame, names, i) != MLOPS_OK)
        return cli_fail("reading the key columns");
    return CLI_OK;
}

/* ---- definitions ------------------------------------------------------------------------------ */

static int run_entity_define(cli_context *ctx)
{
    const char *path = NULL;
    mlops_db *db = NULL;
    char *json;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_entity_define, NULL, &path, 1, 1, NULL)))
        return rc;
    if (!(json = cli_read_file(path, NULL)))
        return CLI_FAILURE;
    if ((rc = cli_open_db(&db, ctx, NULL)) == CLI_OK) {
        if (mlops_entity_define(db, json) != MLOPS_OK)
            rc = cli_fail("defining the entity");
        else
            printf("entity defined from %s\n", path);
    }
    free(json);
    mlops_db_close(db);
    return rc;
}

static int run_view_define(cli_context *ctx)
{
    const char *path = NULL;
    int incompatible = 0;
    cli_flag flags[] = {{"--incompatible", CLI_FLAG_SWITCH, &incompatible}, {0}};
    mlops_db *db = NULL;
    int32_t version = 0;
    char *json;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_view_define, flags, &path, 1, 1, NULL)))
        return rc;
    if (!(json = cli_read_file(path, NULL)))
        return CLI_FAILURE;
    if ((rc = cli_open_db(&db, ctx, NULL)) == CLI_OK) {
        if (mlops_view_define(&version, db, json, incompatible ? MLOPS_VIEW_INCOMPATIBLE : MLOPS_VIEW_DEFAULT) != MLOPS_OK)
            rc = cli_fail("defining the view");
        else
            printf("view defined from %s: definition version %d\n", path, (int)version);
    }
    free(json);
    mlops_db_close(db);
    return rc;
}

static int run_view_show(cli_context *ctx)
{
    static const cli_column fields[] = {
        {"view", "name", CLI_CELL_TEXT},   {"entity", "entity", CLI_CELL_TEXT},
        {"ttl_us", "ttl_us", CLI_CELL_TEXT}, {"description", "description", CLI_CELL_TEXT},
    };
    static const cli_column features[] = {
        {"feature", "name", CLI_CELL_TEXT}, {"type", "type", CLI_CELL_TEXT},
        {"dim", "dim", CLI_CELL_TEXT},      {"contract", "contract", CLI_CELL_TEXT},
    };
    const char *view = NULL, *version_text = NULL;
    cli_flag flags[] = {{"--version", CLI_FLAG_VALUE, &version_text}, {0}};
    mlops_db *db = NULL;
    int64_t version = 0;
    char *json = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_view_show, flags, &view, 1, 1, NULL)) ||
        (version_text && (rc = cli_parse_int64(&version, &cli_cmd_view_show, "--version", version_text))) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_view_definition(&json, db, view, (int32_t)version) != MLOPS_OK)
        rc = cli_fail("reading the view");
    else
        rc = cli_print_fields_and_table(ctx, json, fields, CLI_COUNT(fields), "features", features,
                                        CLI_COUNT(features));
    mlops_db_close(db);
    return rc;
}

/* ---- ingest --------------------------------------------------------------------------------- */

/* Add the counts and first violations of `part` (whose rows start at `offset`) to `total`. */
static void report_add(mlops_ingest_report *total, const mlops_ingest_report *part, int64_t offset)
{
    uint32_t i;
    total->rows_written += part->rows_written;
    total->rows_duplicate += part->rows_duplicate;
    total->rows_quarantined += part->rows_quarantined;
    total->system_time = part->system_time;
    total->definition_version = part->definition_version;
    for (i = 0; i < part->error_count && total->error_count < MLOPS_INGEST_MAX_ERRORS; i++) {
        total->errors[total->error_count] = part->errors[i];
        total->errors[total->error_count++].row += offset;
    }
}

/* The first violations of a report as a table. */
static void report_violations(const mlops_ingest_report *report, FILE *out)
{
    cli_table *table;
    char row[32];
    uint32_t i;
    if (report->error_count == 0)
        return;
    table = cli_table_new(4);
    fprintf(out, "first violations (row 0 is the first data row):\n");
    cli_table_add(table, "row");
    cli_table_add(table, "column");
    cli_table_add(table, "rule");
    cli_table_add(table, "message");
    for (i = 0; i < report->error_count; i++) {
        snprintf(row, sizeof row, "%lld", (long long)report->errors[i].row);
        cli_table_add(table, row);
        cli_table_add(table, report->errors[i].column);
        cli_table_add(table, report->errors[i].rule);
        cli_table_add(table, report->errors[i].message);
    }
    cli_table_print(table, out);
    cli_table_free(table);
}

static void report_print(const cli_context *ctx, const mlops_ingest_report *report, const char *view, FILE *out)
{
    char when[40];
    uint32_t i;
    if (ctx->json) {
        fprintf(out, "{\"view\": ");
        cli_json_string(out, view);
        fprintf(out, ", \"rows_written\": %lld, \"rows_duplicate\": %lld, \"rows_quarantined\": %lld, "
                     "\"system_time\": %lld, \"definition_version\": %d, \"errors\": [",
                (long long)report->rows_written, (long long)report->rows_duplicate,
                (long long)report->rows_quarantined, (long long)report->system_time, (int)report->definition_version);
        for (i = 0; i < report->error_count; i++) {
            fprintf(out, "%s{\"row\": %lld, \"column\": ", i ? ", " : "", (long long)report->errors[i].row);
            cli_json_string(out, report->errors[i].column);
            fprintf(out, ", \"rule\": ");
            cli_json_string(out, report->errors[i].rule);
            fprintf(out, ", \"message\": ");
            cli_json_string(out, report->errors[i].message);
            fprintf(out, "}");
        }
        fprintf(out, "]}\n");
        return;
    }
    cli_format_time(when, sizeof when, report->system_time);
    fprintf(out, "%s (definition version %d): %lld written, %lld duplicate, %lld quarantined; system time %s (%lld)\n",
            view, (int)report->definition_version, (long long)report->rows_written, (long long)report->rows_duplicate,
            (long long)report->rows_quarantined, when, (long long)report->system_time);
    if (report->error_count)
        fprintf(out, "\n");
    report_violations(report, out);
}

static int run_features_ingest(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *policy = NULL, *event_time = NULL, *batch_text = NULL;
    cli_flag flags[] = {{"--policy", CLI_FLAG_VALUE, &policy}, {"--event-time", CLI_FLAG_VALUE, &event_time},
                        {"--batch-rows", CLI_FLAG_VALUE, &batch_text}, {0}};
    const cli_command *cmd = &cli_cmd_features_ingest;
    mlops_ingest_options options = MLOPS_INGEST_OPTIONS_INIT;
    mlops_ingest_report total, part;
    view_layout layout = {NULL, 0, 0, 0};
    mlops_frame *frame = NULL, *slice = NULL;
    mlops_db *db = NULL;
    cli_progress progress;
    int64_t batch = 0;
    size_t rows, start;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 2, 2, NULL)) ||
        (batch_text && (rc = cli_parse_int64(&batch, cmd, "--batch-rows", batch_text))))
        return rc;
    if (!policy || strcmp(policy, "reject") == 0)
        options.policy = MLOPS_INGEST_REJECT;
    else if (strcmp(policy, "quarantine") == 0)
        options.policy = MLOPS_INGEST_QUARANTINE;
    else
        return cli_usage_error(cmd, "--policy is reject or quarantine, not \"%s\"", policy);
    if (batch_text && (batch < 1 || options.policy != MLOPS_INGEST_QUARANTINE))
        return cli_usage_error(cmd, "--batch-rows takes a positive count and the quarantine policy");
    options.event_time_column = event_time;
    if ((rc = cli_open_db(&db, ctx, NULL)) || (rc = layout_open(&layout, db, args[0])) ||
        (rc = cli_read_csv(&frame, args[1], NULL, layout.frame)))
        goto out;
    /* Reject mode writes all or nothing in one transaction; quarantine mode may go in batches. */
    rows = mlops_frame_rows(frame);
    if (options.policy == MLOPS_INGEST_REJECT)
        batch = (int64_t)(rows ? rows : 1);
    else if (!batch_text)
        batch = 50000;
    memset(&total, 0, sizeof total);
    cli_progress_start(&progress, "ingesting", "rows", (int64_t)rows);
    for (start = 0; start == 0 || start < rows; start += (size_t)batch) {
        size_t count = rows - start < (size_t)batch ? rows - start : (size_t)batch;
        const mlops_frame *part_frame = frame;
        if (count != rows) {
            mlops_frame_free(slice);
            slice = NULL;
            if ((rc = cli_frame_slice(&slice, frame, start, count)))
                break;
            part_frame = slice;
        }
        memset(&part, 0, sizeof part);
        if (mlops_features_ingest(&part, db, args[0], part_frame, &options) != MLOPS_OK) {
            report_add(&total, &part, (int64_t)start);
            cli_progress_end(&progress);
            report_violations(&total, stderr);
            rc = cli_fail("ingesting");
            break;
        }
        report_add(&total, &part, (int64_t)start);
        cli_progress_update(&progress, (int64_t)(start + count));
        if (rows == 0)
            break;
    }
    if (rc == CLI_OK) {
        cli_progress_end(&progress);
        report_print(ctx, &total, args[0], stdout);
    }
out:
    mlops_frame_free(slice);
    mlops_frame_free(frame);
    mlops_frame_free(layout.frame);
    mlops_db_close(db);
    return rc;
}

/* ---- reads ---------------------------------------------------------------------------------- */

/* Split a comma-separated list into `names` (pointers into `text`, which is modified). */
static size_t split_names(const char **names, size_t cap, char *text)
{
    size_t count = 0;
    char *save = NULL, *name;
    for (name = strtok_r(text, ",", &save); name && count < cap; name = strtok_r(NULL, ",", &save))
        names[count++] = name;
    return count;
}

/* Shared by get and asof: keys from arguments or --keys FILE, features from --features or all of them. */
static int run_read(cli_context *ctx, const cli_command *cmd, int as_of)
{
    const char *args[2 + CLI_LIST_MAX] = {NULL}, *features_text = NULL, *keys_path = NULL, *now_text = NULL,
               *system_text = NULL, *names[MAX_FEATURES];
    cli_flag flags[] = {{"--features", CLI_FLAG_VALUE, &features_text}, {"--keys", CLI_FLAG_VALUE, &keys_path},
                        {"--now", CLI_FLAG_VALUE, &now_text},           {"--as-of-system", CLI_FLAG_VALUE, &system_text},
                        {0}};
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    view_layout layout = {NULL, 0, 0, 0};
    mlops_frame *key_types = NULL, *keys = NULL, *result = NULL;
    size_t count = 0, first = as_of ? 2 : 1, n = 0, col;
    char *list = NULL;
    int64_t event_time = 0;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, first, CLI_COUNT(args), &count)) ||
        (as_of && (rc = cli_parse_time(&event_time, cmd, "TIME", args[1]))) ||
        (now_text && (rc = cli_parse_time(&options.now, cmd, "--now", now_text))) ||
        (system_text && (rc = cli_parse_time(&options.as_of_system_time, cmd, "--as-of-system", system_text))))
        return rc;
    if (count == first && !keys_path)
        return cli_usage_error(cmd, "give keys as COLUMN=VALUE arguments or --keys FILE.csv");
    if ((rc = cli_open_db(&db, ctx, NULL)) || (rc = layout_open(&layout, db, args[0])) ||
        (rc = layout_keys(&key_types, &layout)))
        goto out;
    if (keys_path)
        rc = cli_read_csv(&keys, keys_path, NULL, key_types);
    else
        rc = cli_keys_frame(&keys, cmd, args + first, count - first, key_types);
    if (rc)
        goto out;
    if (features_text) {
        list = strdup(features_text);
        n = list ? split_names(names, CLI_COUNT(names), list) : 0;
    } else {
        for (col = layout.feature_first; col < mlops_frame_columns(layout.frame) && n < CLI_COUNT(names); col++)
            names[n++] = mlops_frame_column_name(layout.frame, col);
    }
    if ((as_of ? mlops_features_as_of(&result, db, args[0], keys, names, n, event_time, &options)
               : mlops_features_online(&result, db, args[0], keys, names, n, &options)) != MLOPS_OK)
        rc = cli_fail("reading features");
    else
        cli_frame_print(ctx, result);
out:
    free(list);
    mlops_frame_free(result);
    mlops_frame_free(keys);
    mlops_frame_free(key_types);
    mlops_frame_free(layout.frame);
    mlops_db_close(db);
    return rc;
}

static int run_features_get(cli_context *ctx)
{
    return run_read(ctx, &cli_cmd_features_get, 0);
}

static int run_features_asof(cli_context *ctx)
{
    return run_read(ctx, &cli_cmd_features_asof, 1);
}

static int run_features_join(cli_context *ctx)
{
    const char *args[1 + CLI_LIST_MAX] = {NULL}, *output = NULL, *timestamp = NULL, *system_text = NULL,
               *schema = NULL;
    cli_flag flags[] = {{"--output", CLI_FLAG_VALUE, &output},           {"--timestamp", CLI_FLAG_VALUE, &timestamp},
                        {"--as-of-system", CLI_FLAG_VALUE, &system_text}, {"--schema", CLI_FLAG_VALUE, &schema},
                        {0}};
    const cli_command *cmd = &cli_cmd_features_join;
    mlops_read_options options = MLOPS_READ_OPTIONS_INIT;
    mlops_frame *entities = NULL, *joined = NULL;
    cli_buf csv_options = CLI_BUF_INIT;
    mlops_db *db = NULL;
    size_t count = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 2, CLI_COUNT(args), &count)) ||
        (system_text && (rc = cli_parse_time(&options.as_of_system_time, cmd, "--as-of-system", system_text))))
        return rc;
    options.timestamp_column = timestamp;
    /* The timestamp column is read as a time (ISO 8601 or microseconds) unless --schema says otherwise. */
    if (schema) {
        cli_csv_schema(&csv_options, schema);
    } else {
        cli_buf_puts(&csv_options, "{\"schema\": {");
        cli_buf_json_string(&csv_options, timestamp ? timestamp : "timestamp");
        cli_buf_puts(&csv_options, ": \"timestamp\"}}");
    }
    if ((rc = cli_read_csv(&entities, args[0], csv_options.data, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        goto out;
    if (mlops_features_join(&joined, db, entities, args + 1, count - 1, &options) != MLOPS_OK)
        rc = cli_fail("joining");
    else if ((rc = cli_write_csv(joined, output)) == CLI_OK && output)
        printf("wrote %zu rows to %s\n", mlops_frame_rows(joined), output);
out:
    cli_buf_free(&csv_options);
    mlops_frame_free(joined);
    mlops_frame_free(entities);
    mlops_db_close(db);
    return rc;
}

static int run_features_forget(cli_context *ctx)
{
    const char *args[1 + CLI_LIST_MAX] = {NULL}, *keys_path = NULL;
    cli_flag flags[] = {{"--keys", CLI_FLAG_VALUE, &keys_path}, {0}};
    const cli_command *cmd = &cli_cmd_features_forget;
    mlops_frame *keys = NULL;
    mlops_db *db = NULL;
    int64_t removed = 0;
    size_t count = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 1, CLI_COUNT(args), &count)))
        return rc;
    if (count == 1 && !keys_path)
        return cli_usage_error(cmd, "give keys as COLUMN=VALUE arguments or --keys FILE.csv");
    if (keys_path)
        rc = cli_read_csv(&keys, keys_path, NULL, NULL);
    else
        rc = cli_keys_frame(&keys, cmd, args + 1, count - 1, NULL);
    if (rc || (rc = cli_open_db(&db, ctx, NULL)))
        goto out;
    if (mlops_features_forget(&removed, db, args[0], keys) != MLOPS_OK)
        rc = cli_fail("forgetting");
    else if (ctx->json) {
        printf("{\"entity\": ");
        cli_json_string(stdout, args[0]);
        printf(", \"keys\": %zu, \"rows_removed\": %lld}\n", mlops_frame_rows(keys), (long long)removed);
    } else
        printf("forgot %zu key(s) of %s: %lld row(s) removed\n", mlops_frame_rows(keys), args[0], (long long)removed);
out:
    mlops_frame_free(keys);
    mlops_db_close(db);
    return rc;
}

static int run_features_stats(cli_context *ctx)
{
    static const cli_column fields[] = {
        {"view", "view", CLI_CELL_TEXT},       {"version", "version", CLI_CELL_TEXT},
        {"rows", "rows", CLI_CELL_TEXT},       {"keys", "keys", CLI_CELL_TEXT},
        {"newest event", "newest_event_time", CLI_CELL_TIME}, {"quarantined", "quarantined", CLI_CELL_TEXT},
    };
    static const cli_column features[] = {
        {"feature", "name", CLI_CELL_TEXT}, {"null rate", "null_rate", CLI_CELL_NUMBER},
    };
    const char *view = NULL;
    mlops_db *db = NULL;
    char *json = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_features_stats, NULL, &view, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_features_stats(&json, db, view) != MLOPS_OK)
        rc = cli_fail("reading statistics");
    else
        rc = cli_print_fields_and_table(ctx, json, fields, CLI_COUNT(fields), "features", features,
                                        CLI_COUNT(features));
    mlops_db_close(db);
    return rc;
}

/* ---- quarantine ------------------------------------------------------------------------------- */

static int run_features_quarantine(cli_context *ctx)
{
    const char *view = NULL, *output = NULL;
    cli_flag flags[] = {{"--output", CLI_FLAG_VALUE, &output}, {0}};
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_features_quarantine, flags, &view, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_features_quarantine_list(&frame, db, view) != MLOPS_OK) {
        rc = cli_fail("listing the quarantine");
    } else if (output) {
        if ((rc = cli_write_csv(frame, output)) == CLI_OK)
            printf("wrote %zu quarantined rows to %s\n", mlops_frame_rows(frame), output);
    } else if (!ctx->json && mlops_frame_rows(frame) == 0) {
        printf("(none)\n");
    } else {
        cli_frame_print(ctx, frame);
    }
    mlops_frame_free(frame);
    mlops_db_close(db);
    return rc;
}

static int run_features_retry(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL};
    view_layout layout = {NULL, 0, 0, 0};
    mlops_ingest_report report;
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_features_retry, NULL, args, 2, 2, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = layout_open(&layout, db, args[0])) || (rc = cli_read_csv(&frame, args[1], NULL, layout.frame)))
        goto out;
    memset(&report, 0, sizeof report);
    if (mlops_features_quarantine_retry(&report, db, args[0], frame) != MLOPS_OK)
        rc = cli_fail("retrying");
    else
        report_print(ctx, &report, args[0], stdout);
out:
    mlops_frame_free(frame);
    mlops_frame_free(layout.frame);
    mlops_db_close(db);
    return rc;
}

/* ---- the commands ------------------------------------------------------------------------------ */

const cli_command cli_cmd_entity_define = {
    "entity define", "define an entity (its key columns) from a JSON file",
    "usage: mlops [--db FILE] entity define ENTITY.json\n\n"
    "ENTITY.json: {\"name\": \"customer\", \"keys\": [{\"name\": \"customer_id\",\n"
    "\"type\": \"int64\"}]}. Defining it again identically is a no-op.\n\n"
    "example:\n  mlops entity define customer.json\n",
    run_entity_define,
};
const cli_command cli_cmd_view_define = {
    "view define", "define or change a feature view from a JSON file",
    "usage: mlops [--db FILE] view define VIEW.json [--incompatible]\n\n"
    "A compatible change becomes the next definition version; an incompatible\n"
    "one (retyped, removed or tightened features) is refused unless\n"
    "--incompatible is given. See docs/features.md for the document.\n\n"
    "example:\n  mlops view define txn.json\n",
    run_view_define,
};
const cli_command cli_cmd_view_show = {
    "view show", "show the definition of a feature view",
    "usage: mlops [--db FILE] [--json] view show VIEW [--version N]\n\n"
    "options:\n"
    "  --version N  a past definition version (default: the current one)\n\n"
    "example:\n  mlops view show txn --version 1\n",
    run_view_show,
};
const cli_command cli_cmd_features_ingest = {
    "features ingest", "ingest a CSV file into a feature view",
    "usage: mlops [--db FILE] [--json] features ingest VIEW FILE.csv [options]\n\n"
    "Columns: the entity's keys, the event time (ISO 8601 or microseconds) and\n"
    "features by name, typed as the view says. Every row is checked against\n"
    "the view's contracts; the report lists the first violations.\n\n"
    "options:\n"
    "  --policy reject      any bad row fails the ingest; nothing is written (default)\n"
    "  --policy quarantine  good rows are written, bad rows go to the quarantine\n"
    "  --event-time COLUMN  the event time column (default event_time)\n"
    "  --batch-rows N       quarantine policy: rows per transaction (default 50000)\n\n"
    "example:\n  mlops features ingest txn transactions.csv --policy quarantine\n",
    run_features_ingest,
};
const cli_command cli_cmd_features_get = {
    "features get", "latest feature values of keys (online read)",
    "usage: mlops [--db FILE] [--json] features get VIEW COLUMN=VALUE[,COLUMN=VALUE]... [options]\n\n"
    "Each argument is one key (composite keys join their columns with commas).\n\n"
    "options:\n"
    "  --keys FILE.csv        keys from a CSV file with the key columns\n"
    "  --features A,B         features to read (default: all)\n"
    "  --now TIME             TTL reference (default: the wall clock)\n"
    "  --as-of-system TIME    answer as the store was at this system time\n\n"
    "example:\n  mlops features get txn customer_id=42 customer_id=7 --features amount\n",
    run_features_get,
};
const cli_command cli_cmd_features_asof = {
    "features asof", "feature values of keys as of an event time",
    "usage: mlops [--db FILE] [--json] features asof VIEW TIME COLUMN=VALUE... [options]\n\n"
    "For each key, the newest row with event time <= TIME (null beyond the TTL).\n"
    "Options as 'features get'.\n\n"
    "example:\n  mlops features asof txn 2026-03-01T00:00:00Z customer_id=42\n",
    run_features_asof,
};
const cli_command cli_cmd_features_join = {
    "features join", "point-in-time join: entity CSV in, training CSV out",
    "usage: mlops [--db FILE] features join ENTITIES.csv VIEW:FEATURE... [options]\n\n"
    "ENTITIES.csv holds the key columns, a timestamp column and any other\n"
    "columns (labels); each row gets the value of every VIEW:FEATURE as of\n"
    "its timestamp, never a later one.\n\n"
    "options:\n"
    "  --output FILE        write the CSV there (default: standard output)\n"
    "  --timestamp COLUMN   the time column (default timestamp)\n"
    "  --as-of-system TIME  join as the store was at this system time\n"
    "  --schema JSON        column types of ENTITIES.csv (as 'mlops csv')\n\n"
    "example:\n  mlops features join labels.csv txn:amount txn:count --output train.csv\n",
    run_features_join,
};
const cli_command cli_cmd_features_forget = {
    "features forget", "forget keys of an entity in every view",
    "usage: mlops [--db FILE] [--json] features forget ENTITY COLUMN=VALUE... [--keys FILE.csv]\n\n"
    "Deletes the keys' rows from every view of the entity (history, online\n"
    "table, quarantine), overwrites the freed bytes and records a keyed hash\n"
    "of each key in the audit log. Values that look like integers are int64;\n"
    "use --keys with a CSV file for other typings.\n\n"
    "example:\n  mlops features forget customer customer_id=42\n",
    run_features_forget,
};
const cli_command cli_cmd_features_stats = {
    "features stats", "rows, keys, newest event and null rates of a view",
    "usage: mlops [--db FILE] [--json] features stats VIEW\n\n"
    "example:\n  mlops features stats txn\n",
    run_features_stats,
};
const cli_command cli_cmd_features_quarantine = {
    "features quarantine", "list the quarantined rows of a view",
    "usage: mlops [--db FILE] [--json] features quarantine VIEW [--output FILE.csv]\n\n"
    "With --output the rows are written as CSV: correct them and hand the file\n"
    "to 'mlops features retry'.\n\n"
    "example:\n  mlops features quarantine txn --output fix.csv\n",
    run_features_quarantine,
};
const cli_command cli_cmd_features_retry = {
    "features retry", "re-ingest corrected quarantined rows",
    "usage: mlops [--db FILE] [--json] features retry VIEW FIXED.csv\n\n"
    "FIXED.csv has the layout written by 'features quarantine --output'; the\n"
    "listed rows leave the quarantine and are ingested again (rows that still\n"
    "break a rule go back to it).\n\n"
    "example:\n  mlops features retry txn fix.csv\n",
    run_features_retry,
};
