/*
 * mlops train: train a net on a CSV file, show its progress and test
 * metrics, and optionally save the ONNX export or register it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

typedef struct progress_state {
    int terminal;
    int json;
} progress_state;

/* One line per epoch, redrawn in place on a terminal: a bar, the epoch, the loss, the validation score. */
static void show_progress(int64_t epoch, int64_t epochs, double loss, double validation, void *payload)
{
    const progress_state *state = payload;
    char bar[31];
    int filled = (int)(30 * epoch / epochs), i;
    if (state->json || !state->terminal)
        return;
    for (i = 0; i < 30; i++)
        bar[i] = i < filled ? '#' : '.';
    bar[30] = '\0';
    fprintf(stderr, "\r[%s] epoch %lld/%lld  loss %.5f", bar, (long long)epoch, (long long)epochs, loss);
    if (!isnan(validation))
        fprintf(stderr, "  validation %.5f", validation);
    if (epoch == epochs)
        fputc('\n', stderr);
    fflush(stderr);
}

static void print_metrics(const mlops_metrics *metrics, int json)
{
    cli_table *table;
    char cell[64];
    size_t i;
    if (json) {
        char *text = NULL;
        if (mlops_metrics_json(&text, metrics) == MLOPS_OK)
            printf("%s\n", text);
        mlops_free(text);
        return;
    }
    table = cli_table_new(4);
    cli_table_add(table, "metric");
    cli_table_add(table, "value");
    cli_table_add(table, "95% low");
    cli_table_add(table, "95% high");
    for (i = 0; i < mlops_metrics_count(metrics); i++) {
        double v, lo, hi;
        mlops_metrics_get(&v, &lo, &hi, metrics, mlops_metrics_name(metrics, i));
        cli_table_add(table, mlops_metrics_name(metrics, i));
        snprintf(cell, sizeof cell, "%.4f", v);
        cli_table_add(table, cell);
        snprintf(cell, sizeof cell, "%.4f", lo);
        cli_table_add(table, cell);
        snprintf(cell, sizeof cell, "%.4f", hi);
        cli_table_add(table, cell);
    }
    cli_table_print(table, stdout);
    cli_table_free(table);
}

static int save_onnx(const mlops_net *net, const char *path)
{
    void *onnx = NULL;
    size_t len = 0;
    FILE *file;
    int ok;
    if (mlops_net_export_onnx(&onnx, &len, net, NULL) != MLOPS_OK)
        return cli_fail("exporting ONNX");
    file = fopen(path, "wb");
    ok = file && fwrite(onnx, 1, len, file) == len;
    if (file && fclose(file) != 0)
        ok = 0;
    mlops_free(onnx);
    if (!ok) {
        fprintf(stderr, "mlops: cannot write \"%s\"\n", path);
        return CLI_FAILURE;
    }
    return CLI_OK;
}

static int run_train(cli_context *ctx)
{
    const char *csv = NULL, *config_path = NULL, *onnx_path = NULL, *model = NULL;
    char *config = NULL;
    mlops_frame *frame = NULL;
    mlops_net *net = NULL;
    mlops_db *db = NULL;
    const mlops_metrics *test = NULL;
    progress_state state;
    int64_t version = 0;
    int i, rc = CLI_OK;

    for (i = 1; i < ctx->argc; i++) {
        if (strcmp(ctx->argv[i], "--config") == 0 && i + 1 < ctx->argc)
            config_path = ctx->argv[++i];
        else if (strcmp(ctx->argv[i], "--save-onnx") == 0 && i + 1 < ctx->argc)
            onnx_path = ctx->argv[++i];
        else if (strcmp(ctx->argv[i], "--register") == 0 && i + 1 < ctx->argc)
            model = ctx->argv[++i];
        else if (ctx->argv[i][0] == '-')
            return cli_usage_error(&cli_cmd_train, "unknown option \"%s\"", ctx->argv[i]);
        else if (!csv)
            csv = ctx->argv[i];
        else
            return cli_usage_error(&cli_cmd_train, "unexpected argument \"%s\"", ctx->argv[i]);
    }
    if (!csv || !config_path)
        return cli_usage_error(&cli_cmd_train, "a CSV file and --config FILE are required");
    if (!(config = cli_read_file(config_path, NULL)))
        return CLI_FAILURE;
    if (mlops_frame_read_csv(&frame, csv, NULL) != MLOPS_OK) {
        rc = cli_fail("reading CSV");
        goto out;
    }
    state.terminal = isatty(STDERR_FILENO);
    state.json = ctx->json;
    if (model) {
        if ((rc = cli_open_db(&db, ctx, NULL)))
            goto out;
        if (mlops_net_train_register(&version, &net, db, model, frame, config, NULL) != MLOPS_OK) {
            rc = cli_fail("training and registering");
            goto out;
        }
    } else if (mlops_net_train_progress(&net, frame, config, show_progress, &state) != MLOPS_OK) {
        rc = cli_fail("training");
        goto out;
    }
    if (onnx_path && (rc = save_onnx(net, onnx_path)))
        goto out;
    if (!ctx->json) {
        printf("trained on %s: %zu inputs, %zu outputs", csv, mlops_net_inputs(net), mlops_net_outputs(net));
        if (model)
            printf("; registered as %s version %lld", model, (long long)version);
        printf("\n");
    }
    if (mlops_net_test_metrics(&test, net) == MLOPS_OK) {
        if (!ctx->json)
            printf("\ntest metrics:\n");
        print_metrics(test, ctx->json);
    } else if (ctx->json) {
        printf("{}\n");
    }
out:
    mlops_net_free(net);
    mlops_frame_free(frame);
    mlops_db_close(db);
    free(config);
    return rc;
}

const cli_command cli_cmd_train = {
    "train", "train a model on a CSV file, show test metrics, save or register it",
    "usage: mlops [--db FILE] [--json] train CSV --config FILE [--save-onnx PATH] [--register MODEL]\n\n"
    "Train a net on the rows of CSV as the JSON configuration FILE says\n"
    "(docs/training.md: features, label, model, optimizer, split, ...). On a\n"
    "terminal a progress bar shows the epoch, the training loss and the\n"
    "validation score; at the end the test metrics are printed with their\n"
    "bootstrap 95% intervals when the configuration has a test split.\n\n"
    "options:\n"
    "  --config FILE      the trainer configuration (JSON)\n"
    "  --save-onnx PATH   write the trained model as ONNX\n"
    "  --register MODEL   log a run and register the model as a new version of\n"
    "                     MODEL (which must exist) with metrics and profile\n\n"
    "example:\n  mlops train churn.csv --config churn.json --save-onnx churn.onnx\n",
    run_train,
};
