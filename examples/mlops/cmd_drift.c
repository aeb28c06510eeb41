/*
 * mlops drift, mlops drift profile: drift reports between two CSV files or
 * a CSV file and the reference profile stored with a model version.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Print the columns of one section ("columns" of the report or of its "prediction"). */
static void print_columns(const cli_json *columns)
{
    static const cli_column table[] = {
        {"column", "name", CLI_CELL_TEXT},          {"test", "test", CLI_CELL_TEXT},
        {"statistic", "statistic", CLI_CELL_NUMBER}, {"p-value", "p_value", CLI_CELL_NUMBER},
        {"threshold", "threshold", CLI_CELL_NUMBER}, {"drifted", "drifted", CLI_CELL_TEXT},
    };
    cli_json_table(columns, table, CLI_COUNT(table), stdout);
}

/* Print a drift report document (freed here). */
static int print_report(const cli_context *ctx, char *json)
{
    const cli_json *dataset, *prediction;
    cli_json *doc;
    int rc;
    if ((rc = cli_take_document(&doc, ctx, json)) || !doc)
        return rc;
    print_columns(cli_json_get(doc, "columns"));
    dataset = cli_json_get(doc, "dataset");
    printf("\ndataset drift: %s (%s of %s columns drifted, share %.3g, threshold %s)\n",
           cli_json_text(cli_json_get(dataset, "drifted")), cli_json_text(cli_json_get(dataset, "drifted_columns")),
           cli_json_text(cli_json_get(dataset, "columns")), cli_json_number(cli_json_get(dataset, "share")),
           cli_json_text(cli_json_get(dataset, "drift_share")));
    prediction = cli_json_get(doc, "prediction");
    if (cli_json_count(cli_json_get(prediction, "columns"))) {
        printf("\nprediction drift: %s\n", cli_json_text(cli_json_get(prediction, "drifted")));
        print_columns(cli_json_get(prediction, "columns"));
    }
    cli_json_free(doc);
    return CLI_OK;
}

/* --config: JSON text when it starts with '{', else a file holding it (free with free()). */
static char *read_config(const char *config)
{
    if (!config)
        return strdup("{}");
    if (config[0] == '{')
        return strdup(config);
    return cli_read_file(config, NULL);
}

/* Load the reference profile attached to the version NAME@REF. */
static int load_reference(mlops_profile **out, mlops_db *db, const cli_command *command, const char *reference)
{
    char model[CLI_NAME_CAP];
    void *bytes = NULL;
    size_t len = 0;
    int64_t version = 0;
    int rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, command, reference)))
        return rc;
    if (mlops_version_profile_get(&bytes, &len, db, model, version) != MLOPS_OK)
        return cli_fail("reading the reference profile");
    if (mlops_profile_deserialize(out, bytes, len) != MLOPS_OK)
        rc = cli_fail("reading the reference profile");
    mlops_free(bytes);
    return rc;
}

/* A profile of `frame` with the specification of `like` (so sketches compare), or its own when `like` is NULL. */
static int profile_frame(mlops_profile **out, const mlops_profile *like, const mlops_frame *frame, const char *spec)
{
    if ((like ? mlops_profile_new_like(out, like) : mlops_profile_new_for_frame(out, frame, spec)) != MLOPS_OK ||
        mlops_profile_update_frame(*out, frame) != MLOPS_OK)
        return cli_fail("profiling");
    return CLI_OK;
}

/* Report on CUR against the reference profile of a model version. */
static int drift_against_model(const cli_context *ctx, const char *reference, const mlops_frame *current,
                               const char *config)
{
    mlops_profile *ref_profile = NULL, *cur_profile = NULL;
    mlops_db *db = NULL;
    char *json = NULL;
    int rc;
    if ((rc = cli_open_db(&db, ctx, NULL)) || (rc = load_reference(&ref_profile, db, &cli_cmd_drift, reference)) ||
        (rc = profile_frame(&cur_profile, ref_profile, current, NULL)))
        goto out;
    if (mlops_drift_report_profiles(&json, ref_profile, cur_profile, config) != MLOPS_OK)
        rc = cli_fail("comparing");
    else
        rc = print_report(ctx, json);
out:
    mlops_profile_free(ref_profile);
    mlops_profile_free(cur_profile);
    mlops_db_close(db);
    return rc;
}

static int run_drift(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *model = NULL, *config_arg = NULL, *schema = NULL;
    cli_flag flags[] = {{"--model", CLI_FLAG_VALUE, &model}, {"--config", CLI_FLAG_VALUE, &config_arg},
                        {"--schema", CLI_FLAG_VALUE, &schema}, {0}};
    mlops_frame *reference = NULL, *current = NULL;
    cli_buf options = CLI_BUF_INIT;
    char *config = NULL, *json = NULL;
    size_t count = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_drift, flags, args, 1, 2, &count)))
        return rc;
    if (count != (model ? 1u : 2u))
        return cli_usage_error(&cli_cmd_drift, model ? "with --model give only CUR.csv" : "give REF.csv and CUR.csv");
    if (!(config = read_config(config_arg)))
        return CLI_FAILURE;
    cli_csv_schema(&options, schema);
    if (model) {
        if ((rc = cli_read_csv(&current, args[0], options.data, NULL)) == CLI_OK)
            rc = drift_against_model(ctx, model, current, config);
    } else if ((rc = cli_read_csv(&reference, args[0], options.data, NULL)) == CLI_OK &&
               (rc = cli_read_csv(&current, args[1], options.data, NULL)) == CLI_OK) {
        if (mlops_drift_report_frames(&json, reference, current, config) != MLOPS_OK)
            rc = cli_fail("comparing");
        else
            rc = print_report(ctx, json);
    }
    free(config);
    cli_buf_free(&options);
    mlops_frame_free(reference);
    mlops_frame_free(current);
    return rc;
}

static int run_drift_profile(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *schema = NULL, *spec = NULL;
    cli_flag flags[] = {{"--schema", CLI_FLAG_VALUE, &schema}, {"--options", CLI_FLAG_VALUE, &spec}, {0}};
    mlops_profile *profile = NULL;
    mlops_frame *frame = NULL;
    cli_buf options = CLI_BUF_INIT;
    char model[CLI_NAME_CAP];
    void *bytes = NULL;
    size_t len = 0;
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_drift_profile, flags, args, 2, 2, NULL)))
        return rc;
    cli_csv_schema(&options, schema);
    if ((rc = cli_read_csv(&frame, args[1], options.data, NULL)) || (rc = cli_open_db(&db, ctx, NULL)) ||
        (rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_drift_profile, args[0])))
        goto out;
    if ((rc = profile_frame(&profile, NULL, frame, spec)))
        goto out;
    if (mlops_profile_serialize(&bytes, &len, profile) != MLOPS_OK) {
        rc = cli_fail("profiling");
        goto out;
    }
    if (mlops_version_profile_set(db, model, version, bytes, len) != MLOPS_OK)
        rc = cli_fail("attaching the profile");
    else
        printf("attached a reference profile of %zu rows, %zu columns (%zu bytes) to %s@%lld\n", mlops_frame_rows(frame),
               mlops_profile_columns(profile), len, model, (long long)version);
out:
    mlops_free(bytes);
    mlops_profile_free(profile);
    mlops_frame_free(frame);
    mlops_db_close(db);
    cli_buf_free(&options);
    return rc;
}

/* Parse --from and --to (the whole time line when absent). */
static int parse_range(int64_t *from_us, int64_t *to_us, const cli_command *command, const char *from, const char *to)
{
    int rc = CLI_OK;
    *from_us = INT64_MIN;
    *to_us = INT64_MAX;
    if (from)
        rc = cli_parse_time(from_us, command, "--from", from);
    if (rc == CLI_OK && to)
        rc = cli_parse_time(to_us, command, "--to", to);
    return rc;
}

static int run_drift_record(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *model = NULL, *start = NULL, *end = NULL, *schema = NULL;
    cli_flag flags[] = {{"--model", CLI_FLAG_VALUE, &model}, {"--start", CLI_FLAG_VALUE, &start},
                        {"--end", CLI_FLAG_VALUE, &end},     {"--schema", CLI_FLAG_VALUE, &schema},
                        {0}};
    const cli_command *cmd = &cli_cmd_drift_record;
    mlops_profile *reference = NULL, *profile = NULL;
    cli_buf options = CLI_BUF_INIT;
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    int64_t start_us = 0, end_us = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 2, 2, NULL)))
        return rc;
    if (!start || !end)
        return cli_usage_error(cmd, "--start and --end give the window");
    if ((rc = cli_parse_time(&start_us, cmd, "--start", start)) || (rc = cli_parse_time(&end_us, cmd, "--end", end)))
        return rc;
    cli_csv_schema(&options, schema);
    if ((rc = cli_read_csv(&frame, args[1], options.data, NULL)) || (rc = cli_open_db(&db, ctx, NULL)) ||
        (model && (rc = load_reference(&reference, db, cmd, model))) ||
        (rc = profile_frame(&profile, reference, frame, NULL)))
        goto out;
    if (mlops_drift_window_put(db, args[0], start_us, end_us, profile) != MLOPS_OK)
        rc = cli_fail("recording the window");
    else
        printf("recorded %zu rows into window %s of %s\n", mlops_frame_rows(frame), start, args[0]);
out:
    mlops_profile_free(profile);
    mlops_profile_free(reference);
    mlops_frame_free(frame);
    mlops_db_close(db);
    cli_buf_free(&options);
    return rc;
}

static int run_drift_windows(cli_context *ctx)
{
    static const cli_column columns[] = {
        {"start", "start", CLI_CELL_TEXT}, {"end", "end", CLI_CELL_TEXT},
        {"rows", "rows", CLI_CELL_TEXT},   {"profile", "bytes", CLI_CELL_BYTES},
        {"updated", "updated_us", CLI_CELL_TIME},
    };
    const char *stream = NULL, *from = NULL, *to = NULL;
    cli_flag flags[] = {{"--from", CLI_FLAG_VALUE, &from}, {"--to", CLI_FLAG_VALUE, &to}, {0}};
    mlops_db *db = NULL;
    int64_t from_us, to_us;
    char *json = NULL;
    cli_json *doc;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_drift_windows, flags, &stream, 1, 1, NULL)) ||
        (rc = parse_range(&from_us, &to_us, &cli_cmd_drift_windows, from, to)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_drift_window_list(&json, db, stream, from_us, to_us) != MLOPS_OK) {
        rc = cli_fail("listing windows");
    } else if (ctx->json) {
        printf("%s\n", json);
        mlops_free(json);
    } else if (!(doc = cli_json_parse(json))) {
        mlops_free(json);
        rc = CLI_FAILURE;
    } else {
        mlops_free(json);
        if (cli_json_count(cli_json_get(doc, "windows")) == 0)
            printf("(none)\n");
        else
            cli_json_table(cli_json_get(doc, "windows"), columns, CLI_COUNT(columns), stdout);
        cli_json_free(doc);
    }
    mlops_db_close(db);
    return rc;
}

/* One row of the trend table: the window, its dataset verdict and the drifted columns. */
static void trend_row(cli_table *table, const cli_json *window)
{
    const cli_json *report = cli_json_get(window, "report"), *columns = cli_json_get(report, "columns");
    cli_buf drifted = CLI_BUF_INIT;
    char share[32];
    size_t i;
    cli_buf_puts(&drifted, "");
    for (i = 0; i < cli_json_count(columns); i++) {
        const cli_json *column = cli_json_item(columns, i);
        if (strcmp(cli_json_text(cli_json_get(column, "drifted")) ? cli_json_text(cli_json_get(column, "drifted")) : "",
                   "true") != 0)
            continue;
        cli_buf_puts(&drifted, drifted.len ? "," : "");
        cli_buf_puts(&drifted, cli_json_text(cli_json_get(column, "name")));
    }
    snprintf(share, sizeof share, "%.3g", cli_json_number(cli_json_get(report, "dataset.share")));
    cli_table_add(table, cli_json_text(cli_json_get(window, "start")));
    cli_table_add(table, cli_json_text(cli_json_get(window, "rows")));
    cli_table_add(table, share);
    cli_table_add(table, cli_json_text(cli_json_get(report, "dataset.drifted")));
    cli_table_add(table, drifted.len ? drifted.data : "-");
    cli_buf_free(&drifted);
}

static int run_drift_trend(cli_context *ctx)
{
    const char *stream = NULL, *model = NULL, *from = NULL, *to = NULL, *config_arg = NULL;
    cli_flag flags[] = {{"--model", CLI_FLAG_VALUE, &model}, {"--from", CLI_FLAG_VALUE, &from},
                        {"--to", CLI_FLAG_VALUE, &to},       {"--config", CLI_FLAG_VALUE, &config_arg},
                        {0}};
    const cli_command *cmd = &cli_cmd_drift_trend;
    mlops_profile *reference = NULL;
    char *config = NULL, *json = NULL;
    mlops_db *db = NULL;
    int64_t from_us, to_us;
    cli_json *doc = NULL;
    size_t i;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, &stream, 1, 1, NULL)) ||
        (rc = parse_range(&from_us, &to_us, cmd, from, to)))
        return rc;
    if (!model)
        return cli_usage_error(cmd, "--model NAME@REF names the version whose reference profile to compare with");
    if (!(config = read_config(config_arg)))
        return CLI_FAILURE;
    if ((rc = cli_open_db(&db, ctx, NULL)) || (rc = load_reference(&reference, db, cmd, model)))
        goto out;
    if (mlops_drift_trend(&json, db, stream, reference, from_us, to_us, config) != MLOPS_OK) {
        rc = cli_fail("computing the trend");
    } else if (ctx->json) {
        printf("%s\n", json);
    } else if (!(doc = cli_json_parse(json))) {
        rc = CLI_FAILURE;
    } else if (cli_json_count(cli_json_get(doc, "windows")) == 0) {
        printf("(none)\n");
    } else {
        cli_table *table = cli_table_new(5);
        cli_table_add(table, "window");
        cli_table_add(table, "rows");
        cli_table_add(table, "share");
        cli_table_add(table, "drift");
        cli_table_add(table, "drifted columns");
        for (i = 0; i < cli_json_count(cli_json_get(doc, "windows")); i++)
            trend_row(table, cli_json_item(cli_json_get(doc, "windows"), i));
        cli_table_print(table, stdout);
        cli_table_free(table);
    }
out:
    cli_json_free(doc);
    mlops_free(json);
    free(config);
    mlops_profile_free(reference);
    mlops_db_close(db);
    return rc;
}

const cli_command cli_cmd_drift = {
    "drift", "compare two CSV files (or a CSV and a model's reference) for drift",
    "usage: mlops [--json] drift REF.csv CUR.csv [options]\n"
    "       mlops [--db FILE] [--json] drift --model NAME@REF CUR.csv [options]\n\n"
    "Column by column: the test (chosen as Evidently does unless the config\n"
    "names one), its statistic, p-value, threshold and verdict, then the\n"
    "dataset's drift. With --model the reference is the profile attached to\n"
    "the version ('mlops drift profile') and the tests run on sketches.\n\n"
    "options:\n"
    "  --model NAME@REF  compare against the version's reference profile\n"
    "  --config JSON     report configuration, inline or a file (see docs/drift.md)\n"
    "  --schema JSON     column types of the CSV files (as 'mlops csv')\n\n"
    "example:\n  mlops drift january.csv february.csv --config '{\"correction\": \"bonferroni\"}'\n",
    run_drift,
};

const cli_command cli_cmd_drift_profile = {
    "drift profile", "attach a reference profile of a CSV file to a model version",
    "usage: mlops [--db FILE] drift profile NAME@REF DATA.csv [--schema JSON] [--options JSON]\n\n"
    "Profiles every numeric and categorical column of DATA.csv (bounded-memory\n"
    "sketches) and stores it with the version, for 'mlops drift --model' and\n"
    "the profile_attached gate rule.\n\n"
    "options:\n"
    "  --schema JSON   column types of DATA.csv\n"
    "  --options JSON  profile settings, e.g. '{\"quantile_k\": 400}'\n\n"
    "example:\n  mlops drift profile fraud@3 training.csv\n",
    run_drift_profile,
};

const cli_command cli_cmd_drift_record = {
    "drift record", "add a CSV file's profile to a live window of a stream",
    "usage: mlops [--db FILE] drift record STREAM DATA.csv --start TIME --end TIME [--model NAME@REF] [--schema JSON]\n\n"
    "Profiles DATA.csv and merges it into the window [start, end) of STREAM\n"
    "(created when absent). With --model the profile takes the specification\n"
    "of that version's reference profile, so 'drift trend' compares like with like.\n\n"
    "example:\n  mlops drift record fraud-live week9.csv --start 2026-03-02T00:00:00Z --end 2026-03-09T00:00:00Z --model fraud@production\n",
    run_drift_record,
};

const cli_command cli_cmd_drift_windows = {
    "drift windows", "list the live windows of a stream",
    "usage: mlops [--db FILE] [--json] drift windows STREAM [--from TIME] [--to TIME]\n\n"
    "Windows starting in [from, to), oldest first.\n\n"
    "example:\n  mlops drift windows fraud-live --from 2026-03-01T00:00:00Z\n",
    run_drift_windows,
};

const cli_command cli_cmd_drift_trend = {
    "drift trend", "drift of each window of a stream against a version's reference",
    "usage: mlops [--db FILE] [--json] drift trend STREAM --model NAME@REF [--from TIME] [--to TIME] [--config JSON]\n\n"
    "One drift report per window (on sketches) against the reference profile\n"
    "attached to the version: the share of drifted columns, the verdict and\n"
    "which columns drifted.\n\n"
    "example:\n  mlops drift trend fraud-live --model fraud@production\n",
    run_drift_trend,
};
