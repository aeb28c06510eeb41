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
    if (ctx->json) {
        printf("%s\n", json);
        mlops_free(json);
        return CLI_OK;
    }
    doc = cli_json_parse(json);
    mlops_free(json);
    if (!doc)
        return CLI_FAILURE;
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

/* Report on CUR against the reference profile of a model version. */
static int drift_against_model(const cli_context *ctx, const char *reference, const mlops_frame *current,
                               const char *config)
{
    mlops_profile *ref_profile = NULL, *cur_profile = NULL;
    char model[CLI_NAME_CAP], *json = NULL;
    void *bytes = NULL;
    size_t len = 0;
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_open_db(&db, ctx, NULL)) ||
        (rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_drift, reference)))
        goto out;
    if (mlops_version_profile_get(&bytes, &len, db, model, version) != MLOPS_OK) {
        rc = cli_fail("reading the reference profile");
        goto out;
    }
    /* The current data gets a profile of the same specification, so the sketches compare. */
    if (mlops_profile_deserialize(&ref_profile, bytes, len) != MLOPS_OK ||
        mlops_profile_new_like(&cur_profile, ref_profile) != MLOPS_OK ||
        mlops_profile_update_frame(cur_profile, current) != MLOPS_OK) {
        rc = cli_fail("profiling the current data");
        goto out;
    }
    if (mlops_drift_report_profiles(&json, ref_profile, cur_profile, config) != MLOPS_OK)
        rc = cli_fail("comparing");
    else
        rc = print_report(ctx, json);
out:
    mlops_free(bytes);
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
    if (mlops_profile_new_for_frame(&profile, frame, spec) != MLOPS_OK ||
        mlops_profile_update_frame(profile, frame) != MLOPS_OK ||
        mlops_profile_serialize(&bytes, &len, profile) != MLOPS_OK) {
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
