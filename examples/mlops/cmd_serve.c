/*
 * mlops serve-stats: what routers recorded for a model, version by version.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Windows, rows and the newest window end of one router drift stream. */
static int stream_totals(int64_t *windows, int64_t *rows, int64_t *last_end, mlops_db *db, const char *stream)
{
    char *json = NULL;
    cli_json *doc;
    const cli_json *list;
    size_t i;
    *windows = *rows = *last_end = 0;
    if (mlops_drift_window_list(&json, db, stream, INT64_MIN, INT64_MAX) != MLOPS_OK)
        return cli_fail("listing drift windows");
    doc = cli_json_parse(json);
    mlops_free(json);
    if (!doc)
        return CLI_FAILURE;
    list = cli_json_get(doc, "windows");
    for (i = 0; i < cli_json_count(list); i++) {
        const cli_json *window = cli_json_item(list, i);
        int64_t end = (int64_t)cli_json_number(cli_json_get(window, "end_us"));
        *rows += (int64_t)cli_json_number(cli_json_get(window, "rows"));
        *last_end = end > *last_end ? end : *last_end;
    }
    *windows = (int64_t)cli_json_count(list);
    cli_json_free(doc);
    return CLI_OK;
}

/* The live quality a router logged for `version` on `dataset`: "rmse 0.0970 [0.0871, 0.1059]", or "". */
static int live_quality(cli_buf *out, mlops_db *db, const char *model, int64_t version, const char *dataset)
{
    char *json = NULL;
    cli_json *doc;
    const cli_json *metrics;
    size_t i;
    if (mlops_version_show(&json, db, model, version) != MLOPS_OK)
        return cli_fail("reading a version");
    doc = cli_json_parse(json);
    mlops_free(json);
    if (!doc)
        return CLI_FAILURE;
    metrics = cli_json_get(doc, "metrics");
    for (i = 0; i < cli_json_count(metrics); i++) {
        const cli_json *metric = cli_json_item(metrics, i);
        const char *name = cli_json_text(cli_json_get(metric, "name"));
        const char *on = cli_json_text(cli_json_get(metric, "dataset"));
        if (!name || !on || strcmp(on, dataset) != 0 || (strcmp(name, "accuracy") != 0 && strcmp(name, "rmse") != 0))
            continue;
        cli_buf_printf(out, "%s%s %.4g [%.4g, %.4g]", out->len ? "; " : "", name,
                       cli_json_number(cli_json_get(metric, "value")), cli_json_number(cli_json_get(metric, "ci_low")),
                       cli_json_number(cli_json_get(metric, "ci_high")));
    }
    cli_json_free(doc);
    return CLI_OK;
}

static int run_serve_stats(cli_context *ctx)
{
    const char *model = NULL, *dataset = "serve";
    cli_flag flags[] = {{"--dataset", CLI_FLAG_VALUE, &dataset}, {0}};
    mlops_db *db = NULL;
    char *json = NULL, stream[512], cell[64];
    cli_json *versions = NULL;
    cli_table *table = NULL;
    size_t i;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_serve_stats, flags, &model, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, "{\"create\": false}")))
        return rc;
    if (mlops_version_list(&json, db, model, NULL) != MLOPS_OK) {
        rc = cli_fail("listing versions");
        goto out;
    }
    versions = cli_json_parse(json);
    mlops_free(json);
    if (!versions) {
        rc = CLI_FAILURE;
        goto out;
    }
    if (ctx->json)
        printf("{\"model\": ");
    else
        table = cli_table_new(5);
    if (ctx->json) {
        cli_json_string(stdout, model);
        printf(", \"dataset\": ");
        cli_json_string(stdout, dataset);
        printf(", \"versions\": [");
    } else {
        const char *const headers[] = {"version", "windows", "rows", "last window end", "live quality"};
        for (i = 0; i < 5; i++)
            cli_table_add(table, headers[i]);
    }
    for (i = 0; rc == CLI_OK && i < cli_json_count(versions); i++) {
        int64_t version = (int64_t)cli_json_number(cli_json_get(cli_json_item(versions, i), "version"));
        int64_t windows, rows, last_end;
        cli_buf quality = CLI_BUF_INIT;
        snprintf(stream, sizeof stream, "serve:%s:%lld", model, (long long)version);
        if ((rc = stream_totals(&windows, &rows, &last_end, db, stream)) ||
            (rc = live_quality(&quality, db, model, version, dataset))) {
            cli_buf_free(&quality);
            break;
        }
        if (ctx->json) {
            printf("%s{\"version\": %lld, \"stream\": ", i ? ", " : "", (long long)version);
            cli_json_string(stdout, stream);
            printf(", \"windows\": %lld, \"rows\": %lld, \"last_window_end_us\": %lld, \"quality\": ",
                   (long long)windows, (long long)rows, (long long)last_end);
            cli_json_string(stdout, quality.data ? quality.data : "");
            printf("}");
        } else {
            snprintf(cell, sizeof cell, "%lld", (long long)version);
            cli_table_add(table, cell);
            snprintf(cell, sizeof cell, "%lld", (long long)windows);
            cli_table_add(table, cell);
            snprintf(cell, sizeof cell, "%lld", (long long)rows);
            cli_table_add(table, cell);
            if (last_end)
                cli_format_time(cell, sizeof cell, last_end);
            else
                snprintf(cell, sizeof cell, "-");
            cli_table_add(table, cell);
            cli_table_add(table, quality.data && quality.len ? quality.data : "-");
        }
        cli_buf_free(&quality);
    }
    if (rc == CLI_OK && ctx->json)
        printf("]}\n");
    else if (rc == CLI_OK)
        cli_table_print(table, stdout);
out:
    cli_table_free(table);
    cli_json_free(versions);
    mlops_db_close(db);
    return rc;
}

const cli_command cli_cmd_serve_stats = {
    "serve-stats", "what routers recorded for a model: drift windows and live quality per version",
    "usage: mlops [--db FILE] [--json] serve-stats MODEL [--dataset NAME]\n\n"
    "For each version of MODEL: the live drift windows a router stored (stream\n"
    "serve:MODEL:VERSION) with their rows and the newest window's end, and the\n"
    "live quality a router logged as version metrics on dataset NAME (default\n"
    "\"serve\"; mlops_router_quality_log).\n\n"
    "example:\n  mlops --db shop.db serve-stats fraud --dataset canary\n",
    run_serve_stats,
};
