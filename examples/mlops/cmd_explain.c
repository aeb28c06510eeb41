/*
 * mlops explain: why a model predicted what it did, per row (attributions of
 * each feature) or over all rows (global and permutation importance).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define BACKGROUND_ROWS 100 /* rows of ROWS.csv used as the background when none is given */

typedef struct explain_args {
    const char *model, *rows_path, *method, *output, *steps, *samples, *seed, *baseline, *background, *labels;
    const char *metric, *repeats, *exclude, *precision, *top;
    int global, logits;
} explain_args;

/* Append `"key": VALUE` (VALUE an integer given on the command line) to the options. */
static int put_int(cli_buf *options, const char *key, const char *flag, const char *text)
{
    int64_t value;
    int rc;
    if (!text)
        return CLI_OK;
    if ((rc = cli_parse_int64(&value, &cli_cmd_explain, flag, text)))
        return rc;
    cli_buf_printf(options, ", \"%s\": %lld", key, (long long)value);
    return CLI_OK;
}

static void put_string(cli_buf *options, const char *key, const char *text)
{
    if (!text)
        return;
    cli_buf_printf(options, ", \"%s\": ", key);
    cli_buf_json_string(options, text);
}

/* The explainer's options: the flags given, and the input columns' names as feature names. */
static int explainer_options(cli_buf *options, const explain_args *a, const mlops_frame *input, size_t width)
{
    size_t col, n = 0, i;
    int rc;
    cli_buf_puts(options, "{\"features\": [");
    for (col = 0; col < mlops_frame_columns(input); col++) {
        uint32_t dim = mlops_frame_column_dim(input, col);
        for (i = 0; i < dim; i++, n++) {
            char name[300];
            if (dim > 1)
                snprintf(name, sizeof name, "%s[%zu]", mlops_frame_column_name(input, col), i);
            else
                snprintf(name, sizeof name, "%s", mlops_frame_column_name(input, col));
            cli_buf_puts(options, n ? ", " : "");
            cli_buf_json_string(options, name);
        }
    }
    cli_buf_puts(options, "]");
    if (n != width)
        return cli_usage_error(&cli_cmd_explain, "%s has %zu input numbers per row, the model takes %zu", a->rows_path, n,
                               width);
    put_string(options, "method", a->method);
    put_string(options, "baseline", a->baseline);
    if ((rc = put_int(options, "output", "--output", a->output)) || (rc = put_int(options, "steps", "--steps", a->steps)) ||
        (rc = put_int(options, "samples", "--samples", a->samples)) || (rc = put_int(options, "seed", "--seed", a->seed)))
        return rc;
    cli_buf_puts(options, "}");
    return CLI_OK;
}

/*
 * The model's input columns of `rows` into *input (replacing what it held):
 * when the model names its features and --exclude is not given, exactly those
 * columns in that order; else every numeric column not in `exclude`.
 */
static int input_columns(mlops_frame **input, const explain_args *a, const mlops_session *session,
                         const mlops_frame *rows, const char *exclude, const char *path)
{
    size_t i, column, width = mlops_session_input_width(session);
    const char **names;
    int rc = CLI_OK;
    mlops_frame_free(*input);
    *input = NULL;
    if (a->exclude || !mlops_session_feature_name(session, 0))
        return cli_split_columns(input, NULL, rows, exclude);
    if (!(names = calloc(width + 1, sizeof *names))) {
        fprintf(stderr, "mlops: out of memory\n");
        return CLI_FAILURE;
    }
    for (i = 0; i < width && rc == CLI_OK; i++) {
        names[i] = mlops_session_feature_name(session, i);
        if (mlops_frame_column_index(&column, rows, names[i]) != MLOPS_OK) {
            fprintf(stderr, "mlops: %s has no column \"%s\", feature %zu of the model (choose columns with --exclude)\n",
                    path, names[i], i);
            rc = CLI_FAILURE;
        }
    }
    if (rc == CLI_OK && mlops_frame_select(input, rows, names, width) != MLOPS_OK)
        rc = cli_fail("selecting the model's feature columns");
    free(names);
    return rc;
}

/* The label column as floats (malloc'd); NULL after printing an error. */
static float *label_values(const mlops_frame *rows, const char *column)
{
    size_t n = mlops_frame_rows(rows);
    float *labels = malloc((n ? n : 1) * sizeof *labels);
    if (!labels) {
        fprintf(stderr, "mlops: out of memory\n");
    } else if (mlops_frame_to_matrix(labels, n, NULL, rows, &column, 1, MLOPS_MATRIX_NULLS_REFUSE) != MLOPS_OK) {
        cli_fail("reading the labels");
        free(labels);
        labels = NULL;
    }
    return labels;
}

/* The background: the rows of --background, or the first rows of ROWS.csv. */
static int background_rows(float **out, size_t *rows_out, const explain_args *a, const mlops_session *session,
                           const char *exclude, const float *x, size_t n)
{
    mlops_frame *rows = NULL, *input = NULL;
    int rc;
    *out = NULL;
    if (!a->background) {
        *rows_out = n < BACKGROUND_ROWS ? n : BACKGROUND_ROWS;
        *out = malloc((*rows_out ? *rows_out : 1) * mlops_session_input_width(session) * sizeof **out);
        if (!*out) {
            fprintf(stderr, "mlops: out of memory\n");
            return CLI_FAILURE;
        }
        memcpy(*out, x, *rows_out * mlops_session_input_width(session) * sizeof **out);
        return CLI_OK;
    }
    if (!(rc = cli_read_csv(&rows, a->background, NULL, NULL)) &&
        !(rc = input_columns(&input, a, session, rows, exclude, a->background))) {
        *rows_out = mlops_frame_rows(input);
        if (!(*out = cli_input_matrix(session, input, a->background)))
            rc = CLI_FAILURE;
    }
    mlops_frame_free(input);
    mlops_frame_free(rows);
    return rc;
}

/* Per row: the prediction, then the `top` features with the largest attributions. */
static void print_rows(const cli_json *doc, const float *x, size_t width, size_t top)
{
    const cli_json *rows = cli_json_get(doc, "rows"), *names = cli_json_get(doc, "features");
    size_t r, i, j;
    printf("method %s, output %s, baseline output %s\n", cli_json_text(cli_json_get(doc, "method")),
           cli_json_text(cli_json_get(doc, "output")), cli_json_text(cli_json_get(doc, "baseline_output")));
    for (r = 0; r < cli_json_count(rows); r++) {
        const cli_json *row = cli_json_item(rows, r), *attr = cli_json_get(row, "attributions");
        const cli_json *se = cli_json_get(row, "std_error"), *err = cli_json_get(row, "completeness_error");
        int *shown = calloc(width + 1, sizeof *shown);
        cli_table *table = cli_table_new(se ? 4 : 3);
        if (!shown || !table) {
            free(shown);
            cli_table_free(table);
            fprintf(stderr, "mlops: out of memory\n");
            return;
        }
        printf("\nrow %zu: prediction %s", r, cli_json_text(cli_json_get(row, "prediction")));
        if (err)
            printf(" (completeness error %s)", cli_json_text(err));
        printf("\n");
        cli_table_add(table, "feature");
        cli_table_add(table, "value");
        cli_table_add(table, "attribution");
        if (se)
            cli_table_add(table, "std error");
        for (i = 0; i < top && i < width; i++) {
            size_t best = width;
            char value[32];
            for (j = 0; j < width; j++)
                if (!shown[j] && (best == width || fabs(cli_json_number(cli_json_item(attr, j))) >
                                                       fabs(cli_json_number(cli_json_item(attr, best)))))
                    best = j;
            shown[best] = 1;
            snprintf(value, sizeof value, "%.4g", (double)x[r * width + best]);
            cli_table_add(table, cli_json_text(cli_json_item(names, best)));
            cli_table_add(table, value);
            snprintf(value, sizeof value, "%.4g", cli_json_number(cli_json_item(attr, best)));
            cli_table_add(table, value);
            if (se) {
                snprintf(value, sizeof value, "%.2g", cli_json_number(cli_json_item(se, best)));
                cli_table_add(table, value);
            }
        }
        cli_table_print(table, stdout);
        cli_table_free(table);
        free(shown);
    }
}

/* Explain the rows, or their global importance; prints the library's JSON with --json. */
static int explain(const cli_context *ctx, const explain_args *a, mlops_explainer *explainer, const float *x,
                   const float *labels, size_t n, size_t width)
{
    static const cli_column features[] = {
        {"feature", "name", CLI_CELL_TEXT},
        {"importance", "importance", CLI_CELL_NUMBER},
        {"std error", "std_error", CLI_CELL_NUMBER},
    };
    cli_buf options = CLI_BUF_INIT;
    char *json = NULL;
    cli_json *doc = NULL;
    int64_t top = 5;
    int rc = CLI_OK, status;
    if (a->top && (rc = cli_parse_int64(&top, &cli_cmd_explain, "--top", a->top)))
        return rc;
    if (labels) {
        cli_buf_puts(&options, "{\"outputs\": ");
        cli_buf_puts(&options, a->logits ? "\"logits\"" : "\"probabilities\"");
        put_string(&options, "metric", a->metric);
        if ((rc = put_int(&options, "repeats", "--repeats", a->repeats)) ||
            (rc = put_int(&options, "seed", "--seed", a->seed)))
            goto out;
        cli_buf_puts(&options, "}");
        status = mlops_explain_permutation(&json, explainer, x, labels, n, options.data);
    } else if (a->global) {
        status = mlops_explain_global(&json, explainer, x, n);
    } else {
        status = mlops_explain_rows_json(&json, explainer, x, n);
    }
    if (status != MLOPS_OK) {
        rc = cli_fail("explaining the rows");
    } else if (ctx->json) {
        printf("%s\n", json);
    } else if (!(doc = cli_json_parse(json))) {
        rc = CLI_FAILURE;
    } else if (labels || a->global) {
        printf("%s importance of output %s over %s rows%s%s\n\n", cli_json_text(cli_json_get(doc, "method")),
               cli_json_text(cli_json_get(doc, "output")), cli_json_text(cli_json_get(doc, "rows")),
               labels ? ", metric " : "", labels ? cli_json_text(cli_json_get(doc, "metric")) : "");
        cli_json_table(cli_json_get(doc, "features"), features, CLI_COUNT(features), stdout);
    } else {
        print_rows(doc, x, width, top > 0 ? (size_t)top : 0);
    }
out:
    cli_json_free(doc);
    mlops_free(json);
    cli_buf_free(&options);
    return rc;
}

static int run_explain(cli_context *ctx)
{
    explain_args a;
    const char *args[2] = {NULL, NULL};
    cli_flag flags[] = {{"--method", CLI_FLAG_VALUE, &a.method},     {"--output", CLI_FLAG_VALUE, &a.output},
                        {"--steps", CLI_FLAG_VALUE, &a.steps},       {"--samples", CLI_FLAG_VALUE, &a.samples},
                        {"--seed", CLI_FLAG_VALUE, &a.seed},         {"--baseline", CLI_FLAG_VALUE, &a.baseline},
                        {"--background", CLI_FLAG_VALUE, &a.background}, {"--labels", CLI_FLAG_VALUE, &a.labels},
                        {"--metric", CLI_FLAG_VALUE, &a.metric},     {"--repeats", CLI_FLAG_VALUE, &a.repeats},
                        {"--exclude", CLI_FLAG_VALUE, &a.exclude},   {"--precision", CLI_FLAG_VALUE, &a.precision},
                        {"--top", CLI_FLAG_VALUE, &a.top},           {"--global", CLI_FLAG_SWITCH, &a.global},
                        {"--logits", CLI_FLAG_SWITCH, &a.logits},    {0}};
    mlops_frame *rows = NULL, *input = NULL;
    mlops_session *session = NULL;
    mlops_explainer *explainer = NULL;
    cli_buf session_options = CLI_BUF_INIT, options = CLI_BUF_INIT, exclude = CLI_BUF_INIT;
    float *x = NULL, *labels = NULL, *background = NULL;
    size_t n, width, n_background = 0;
    int rc;
    memset(&a, 0, sizeof a);
    if ((rc = cli_parse_args(ctx, &cli_cmd_explain, flags, args, 2, 2, NULL)))
        return rc;
    a.model = args[0];
    a.rows_path = args[1];
    if (a.metric && !a.labels)
        return cli_usage_error(&cli_cmd_explain, "--metric needs --labels COLUMN");
    cli_buf_puts(&exclude, a.labels ? a.labels : "");
    if (a.exclude) {
        cli_buf_puts(&exclude, ",");
        cli_buf_puts(&exclude, a.exclude);
    }
    if ((rc = cli_precision_options(&session_options, &cli_cmd_explain, a.precision)) ||
        (rc = cli_read_csv(&rows, a.rows_path, NULL, NULL)) ||
        (rc = cli_split_columns(&input, NULL, rows, exclude.data)) ||
        (rc = cli_open_model(&session, ctx, &cli_cmd_explain, a.model, session_options.data, input)) ||
        (rc = input_columns(&input, &a, session, rows, exclude.data, a.rows_path)))
        goto out;
    n = mlops_frame_rows(input);
    width = mlops_session_input_width(session);
    if (n == 0) {
        fprintf(stderr, "mlops: %s has no rows to explain\n", a.rows_path);
        rc = CLI_FAILURE;
        goto out;
    }
    if (!(x = cli_input_matrix(session, input, a.rows_path)) || (a.labels && !(labels = label_values(rows, a.labels)))) {
        rc = CLI_FAILURE;
        goto out;
    }
    if ((rc = explainer_options(&options, &a, input, width)) ||
        (rc = background_rows(&background, &n_background, &a, session, exclude.data, x, n)))
        goto out;
    if (mlops_explainer_open(&explainer, session, options.data, background, n_background) != MLOPS_OK) {
        rc = cli_fail("opening an explainer");
        goto out;
    }
    rc = explain(ctx, &a, explainer, x, labels, n, width);
out:
    mlops_explainer_free(explainer);
    mlops_session_free(session);
    mlops_frame_free(input);
    mlops_frame_free(rows);
    cli_buf_free(&session_options);
    cli_buf_free(&options);
    cli_buf_free(&exclude);
    free(x);
    free(labels);
    free(background);
    return rc;
}

const cli_command cli_cmd_explain = {
    "explain", "why a model predicts what it does: attributions per row, or global importance",
    "usage: mlops [--db FILE] [--json] explain MODEL ROWS.csv [options]\n\n"
    "MODEL is an ONNX file or a registry reference NAME@ALIAS / NAME@VERSION.\n"
    "The numeric columns of ROWS.csv, in order, form each input row and name the\n"
    "features; for a registry version whose metadata names its features (as\n"
    "mlops train registers them) exactly those columns, in that order, unless\n"
    "--exclude is given. Per row: each feature's attribution to the chosen output; they add\n"
    "up, with the baseline's output, to the prediction. An int8 model is explained\n"
    "through its fp32 twin.\n\n"
    "options:\n"
    "  --method M          linear, integrated_gradients or kernel_shap (default: linear for\n"
    "                      one linear layer, else integrated_gradients)\n"
    "  --output K          the output column explained (default 0)\n"
    "  --steps N           integrated gradients: steps of the path (default 256)\n"
    "  --samples N         KernelSHAP: coalitions sampled (default 2048)\n"
    "  --seed S            KernelSHAP and permutations: the seed (default 0)\n"
    "  --baseline B        mean (of the background, default) or zeros\n"
    "  --background FILE   background rows (default: the first 100 rows of ROWS.csv)\n"
    "  --global            mean absolute attribution per feature over all rows\n"
    "  --labels COLUMN     permutation importance against this column of ROWS.csv\n"
    "  --metric NAME       with --labels: accuracy (default), auc, logloss, rmse, ...\n"
    "  --repeats N         with --labels: shuffles per feature (default 5)\n"
    "  --logits            with --labels: the model outputs logits (softmax/sigmoid first)\n"
    "  --exclude A,B       columns that are not model inputs (ids)\n"
    "  --precision P       fp32 (default), int8, or auto\n"
    "  --top N             features shown per row (default 5)\n\n"
    "example:\n  mlops explain digits_mlp.onnx digits_test.csv --exclude label --output 3 --steps 64\n"
    "  mlops explain fraud@production txns.csv --labels is_fraud --metric auc --json\n",
    run_explain,
};
