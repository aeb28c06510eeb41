/*
 * mlops report: the JSON report of the database's models, and its HTML page.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Options of mlops_report_json() from the command's flags. */
static int report_options(cli_buf *out, const char *model, const char *stream, const char *reference,
                          const char *windows, const char *drift_config, const char *importance)
{
    int64_t number = 0;
    char *text;
    cli_buf_puts(out, "{");
    if (model) {
        cli_buf_puts(out, "\"model\": ");
        cli_buf_json_string(out, model);
    }
    if (stream) {
        cli_buf_puts(out, out->len > 1 ? ", \"stream\": " : "\"stream\": ");
        cli_buf_json_string(out, stream);
    }
    if (reference && strspn(reference, "0123456789") == strlen(reference)) {
        if (cli_parse_int64(&number, &cli_cmd_report, "--reference", reference))
            return CLI_USAGE;
        cli_buf_printf(out, "%s\"reference_version\": %lld", out->len > 1 ? ", " : "", (long long)number);
    } else if (reference) {
        cli_buf_puts(out, out->len > 1 ? ", \"alias\": " : "\"alias\": ");
        cli_buf_json_string(out, reference);
    }
    if (windows) {
        if (cli_parse_int64(&number, &cli_cmd_report, "--windows", windows))
            return CLI_USAGE;
        cli_buf_printf(out, "%s\"windows\": %lld", out->len > 1 ? ", " : "", (long long)number);
    }
    if (drift_config)
        cli_buf_printf(out, "%s\"drift_config\": %s", out->len > 1 ? ", " : "", drift_config);
    if (importance) {
        if ((text = cli_read_file(importance, NULL)) == NULL)
            return CLI_FAILURE;
        cli_buf_printf(out, "%s\"importance\": %s", out->len > 1 ? ", " : "", text);
        free(text);
    }
    cli_buf_puts(out, "}");
    return out->failed ? cli_fail("building the report options") : CLI_OK;
}

static int write_text(const char *path, const char *text)
{
    FILE *file = fopen(path, "w");
    int ok = file != NULL && fputs(text, file) >= 0;
    if (file != NULL && fclose(file) != 0)
        ok = 0;
    if (!ok)
        fprintf(stderr, "mlops: cannot write \"%s\"\n", path);
    return ok ? CLI_OK : CLI_FAILURE;
}

/* One line per model: versions, drift verdict, requests and p99. */
static void print_summary(const cli_json *report)
{
    const cli_json *models = cli_json_get(report, "models");
    size_t i, j;
    for (i = 0; i < cli_json_count(models); i++) {
        const cli_json *m = cli_json_item(models, i), *series = cli_json_get(m, "serving.series");
        double worst = -1.0;
        printf("%s: %zu version(s)", cli_json_text(cli_json_get(m, "name")), cli_json_count(cli_json_get(m, "versions")));
        if (cli_json_get(m, "drift.features"))
            printf("; drift on %s: %s of %s features drifted (%s)", cli_json_text(cli_json_get(m, "drift.stream")),
                   cli_json_text(cli_json_get(m, "drift.dataset.drifted_columns")),
                   cli_json_text(cli_json_get(m, "drift.dataset.columns")),
                   cli_json_text(cli_json_get(m, "drift.dataset.drifted")) &&
                           strcmp(cli_json_text(cli_json_get(m, "drift.dataset.drifted")), "true") == 0
                       ? "dataset drift"
                       : "stable");
        else if (cli_json_get(m, "drift.note"))
            printf("; no drift: %s", cli_json_text(cli_json_get(m, "drift.note")));
        for (j = 0; j < cli_json_count(series); j++) {
            const cli_json *p99 = cli_json_get(cli_json_item(series, j), "latency_us.p99");
            if (cli_json_type(p99) == CLI_JSON_NUMBER && cli_json_number(p99) > worst)
                worst = cli_json_number(p99);
        }
        printf("; %s requests served", cli_json_text(cli_json_get(m, "serving.requests")));
        if (worst >= 0.0)
            printf(", p99 %.4g us", worst);
        printf("\n");
    }
}

static int run_report(cli_context *ctx)
{
    const char *model = NULL, *stream = NULL, *reference = NULL, *windows = NULL, *html_path = NULL;
    const char *importance = NULL, *drift_config = NULL;
    cli_flag flags[] = {{"--model", CLI_FLAG_VALUE, &model},
                        {"--stream", CLI_FLAG_VALUE, &stream},
                        {"--reference", CLI_FLAG_VALUE, &reference},
                        {"--windows", CLI_FLAG_VALUE, &windows},
                        {"--drift-config", CLI_FLAG_VALUE, &drift_config},
                        {"--importance", CLI_FLAG_VALUE, &importance},
                        {"--html", CLI_FLAG_VALUE, &html_path},
                        {0}};
    cli_buf options = CLI_BUF_INIT;
    mlops_db *db = NULL;
    char *json = NULL, *html = NULL;
    cli_json *doc = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_report, flags, NULL, 0, 0, NULL)) ||
        (rc = report_options(&options, model, stream, reference, windows, drift_config, importance)) ||
        (rc = cli_open_db(&db, ctx, "{\"create\": false}")))
        goto out;
    if (mlops_report_json(&json, db, options.data) != MLOPS_OK) {
        rc = cli_fail("building the report");
        goto out;
    }
    if (html_path) {
        if (mlops_report_html(&html, json) != MLOPS_OK) {
            rc = cli_fail("rendering the report");
            goto out;
        }
        if ((rc = write_text(html_path, html)))
            goto out;
    }
    if (ctx->json) {
        printf("%s\n", json);
    } else if ((doc = cli_json_parse(json)) == NULL) {
        rc = CLI_FAILURE;
    } else {
        print_summary(doc);
        if (html_path)
            printf("report: %s\n", html_path);
    }
out:
    cli_json_free(doc);
    mlops_free(html);
    mlops_free(json);
    mlops_db_close(db);
    cli_buf_free(&options);
    return rc;
}

const cli_command cli_cmd_report = {
    "report", "a report of the models: versions, metrics, drift with histograms, serving latency",
    "usage: mlops [--db FILE] [--json] report [--model NAME] [--html FILE] [--importance FILE.json]\n"
    "       [--stream STREAM] [--reference VERSION|ALIAS] [--windows N] [--drift-config JSON]\n\n"
    "Gather what the database knows of MODEL (default: every model): its versions\n"
    "with metrics and 95% intervals; the drift of the newest N windows (default 1)\n"
    "of STREAM (default serve:MODEL:VERSION) against the reference profile of\n"
    "VERSION or ALIAS (default production, else the newest version), with the\n"
    "histograms of both; the serving metrics routers persisted. --json prints the\n"
    "JSON report; --html writes one self-contained HTML page rendered from it;\n"
    "--importance embeds a feature-importance document. docs/report.md has the formats.\n\n"
    "example:\n  mlops --db shop.db report --model fraud --stream fraud:inputs --windows 4 --html report.html\n",
    run_report,
};
