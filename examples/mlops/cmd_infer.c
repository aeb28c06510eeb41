/*
 * mlops predict, mlops accuracy, mlops plan: run ONNX models from a file or
 * from the registry (NAME@ALIAS, NAME@VERSION).
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define BATCH_ROWS 1024

int cli_precision_options(cli_buf *options, const cli_command *command, const char *precision)
{
    if (precision && strcmp(precision, "fp32") != 0 && strcmp(precision, "int8") != 0 &&
        strcmp(precision, "auto") != 0)
        return cli_usage_error(command, "--precision is fp32, int8 or auto, not \"%s\"", precision);
    cli_buf_puts(options, "{\"precision\": ");
    cli_buf_json_string(options, precision ? precision : "fp32");
    cli_buf_puts(options, "}");
    return CLI_OK;
}

int cli_open_model(mlops_session **out, const cli_context *ctx, const cli_command *command, const char *model,
                   const char *options, const mlops_frame *calibration)
{
    char what[512];
    mlops_db *db = NULL;
    int rc, status;
    snprintf(what, sizeof what, "opening the model \"%s\"", model);
    if (access(model, F_OK) == 0 || !strchr(model, '@')) {
        if (mlops_session_open_file(out, model, options, calibration) != MLOPS_OK)
            return cli_fail(what);
        return CLI_OK;
    }
    if ((rc = cli_open_db(&db, ctx, "{\"create\": false}")) != CLI_OK)
        return rc;
    status = mlops_session_open_registry(out, db, model, options, calibration);
    if (status == MLOPS_EINVAL)
        rc = cli_usage_error(command, "%s", mlops_error_last()->message);
    else if (status != MLOPS_OK)
        rc = cli_fail(what);
    mlops_db_close(db);
    return rc;
}

/*
 * A router on `reference` when it names a model by alias ("fraud@production"),
 * so predictions come from whatever version the alias points at, as a host
 * serving the model would get them; *out stays NULL for files and versions.
 */
static int open_router(mlops_router **out, const cli_context *ctx, const char *reference, const char *options)
{
    char name[CLI_NAME_CAP], settings[1024];
    const char *at = strchr(reference, '@');
    mlops_db *db = NULL;
    size_t len;
    int rc = CLI_OK;
    *out = NULL;
    if (access(reference, F_OK) == 0 || !at || at[1] == '\0' || strspn(at + 1, "0123456789") == strlen(at + 1))
        return CLI_OK;
    len = (size_t)(at - reference);
    if (len >= sizeof name)
        len = sizeof name - 1;
    memcpy(name, reference, len);
    name[len] = '\0';
    snprintf(settings, sizeof settings,
             "{\"champion\": \"%s\", \"reload_interval_ms\": 0, \"drift\": {\"window_ms\": 0},"
             " \"outcomes\": {\"capacity\": 0}%s%s}",
             at + 1, options ? ", \"session\": " : "", options ? options : "");
    if ((rc = cli_open_db(&db, ctx, "{\"create\": false}")) == CLI_OK &&
        mlops_router_open(out, db, name, settings) != MLOPS_OK)
        rc = cli_fail("opening a router");
    mlops_db_close(db);
    return rc;
}

int cli_split_columns(mlops_frame **input, mlops_frame **carried, const mlops_frame *rows, const char *exclude)
{
    const char **in_names = NULL, **out_names = NULL;
    size_t col, n_in = 0, n_out = 0, columns = mlops_frame_columns(rows);
    int rc = CLI_OK;
    in_names = calloc(columns + 1, sizeof *in_names);
    out_names = calloc(columns + 1, sizeof *out_names);
    if (!in_names || !out_names) {
        fprintf(stderr, "mlops: out of memory\n");
        rc = CLI_FAILURE;
        goto out;
    }
    for (col = 0; col < columns; col++) {
        const char *name = mlops_frame_column_name(rows, col);
        size_t len = strlen(name);
        const char *at = exclude;
        int excluded = 0;
        while (at && *at && !excluded) {
            size_t item = strcspn(at, ",");
            excluded = item == len && strncmp(at, name, len) == 0;
            at += item + (at[item] == ',');
        }
        if (excluded || mlops_frame_column_type(rows, col) == MLOPS_TYPE_STRING)
            out_names[n_out++] = name;
        else
            in_names[n_in++] = name;
    }
    if (mlops_frame_select(input, rows, in_names, n_in) != MLOPS_OK ||
        (carried && mlops_frame_select(carried, rows, out_names, n_out) != MLOPS_OK))
        rc = cli_fail("selecting columns");
out:
    free(in_names);
    free(out_names);
    return rc;
}

float *cli_input_matrix(const mlops_session *session, const mlops_frame *input, const char *path)
{
    const char **names = calloc(mlops_frame_columns(input) + 1, sizeof *names);
    size_t col, width = 0, rows = mlops_frame_rows(input), need = mlops_session_input_width(session);
    float *matrix = NULL;
    for (col = 0; names && col < mlops_frame_columns(input); col++) {
        names[col] = mlops_frame_column_name(input, col);
        width += mlops_frame_column_dim(input, col);
    }
    if (!names) {
        fprintf(stderr, "mlops: out of memory\n");
    } else if (width != need) {
        fprintf(stderr, "mlops: %s gives %zu numbers per row and the model takes %zu (leave columns out with --exclude)\n",
                path, width, need);
    } else if (!(matrix = malloc((rows ? rows : 1) * width * sizeof *matrix))) {
        fprintf(stderr, "mlops: out of memory\n");
    } else if (mlops_frame_to_matrix(matrix, rows * width, NULL, input, names, mlops_frame_columns(input),
                                     MLOPS_MATRIX_NULLS_REFUSE) != MLOPS_OK) {
        cli_fail(path);
        free(matrix);
        matrix = NULL;
    }
    free(names);
    return matrix;
}

/* Add the predictions (rows x width floats) to `frame`: one column per output value, and argmax when several. */
static int add_predictions(mlops_frame *frame, const mlops_session *session, const float *y, size_t rows, size_t width)
{
    double *column = malloc((rows ? rows : 1) * sizeof *column);
    int64_t *best = malloc((rows ? rows : 1) * sizeof *best);
    const char *output = mlops_session_output_name(session, 0);
    char name[300];
    size_t r, j;
    int rc = MLOPS_OK;
    if (!column || !best) {
        rc = MLOPS_ENOMEM;
        goto out;
    }
    for (j = 0; j < width && rc == MLOPS_OK; j++) {
        for (r = 0; r < rows; r++)
            column[r] = y[r * width + j];
        if (width == 1)
            snprintf(name, sizeof name, "%s", output);
        else
            snprintf(name, sizeof name, "%s_%zu", output, j);
        rc = mlops_frame_add_float64(frame, name, column, NULL, rows);
    }
    if (rc == MLOPS_OK && width > 1) {
        for (r = 0; r < rows; r++) {
            best[r] = 0;
            for (j = 1; j < width; j++)
                if (y[r * width + j] > y[r * width + (size_t)best[r]])
                    best[r] = (int64_t)j;
        }
        rc = mlops_frame_add_int64(frame, "argmax", best, NULL, rows);
    }
out:
    free(column);
    free(best);
    return rc == MLOPS_OK ? CLI_OK : cli_fail("adding predictions");
}

static int run_predict(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *output = NULL, *precision = NULL, *exclude = NULL;
    cli_flag flags[] = {{"--output", CLI_FLAG_VALUE, &output}, {"--precision", CLI_FLAG_VALUE, &precision},
                        {"--exclude", CLI_FLAG_VALUE, &exclude}, {0}};
    const cli_command *cmd = &cli_cmd_predict;
    mlops_frame *rows = NULL, *input = NULL, *result = NULL;
    mlops_session *session = NULL;
    mlops_router *router = NULL;
    cli_buf options = CLI_BUF_INIT;
    cli_progress progress;
    float *x = NULL, *y = NULL;
    size_t n, width_in, width_out, start;
    int64_t version = 0;
    char key[64];
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 2, 2, NULL)) || (rc = cli_precision_options(&options, cmd, precision)) ||
        (rc = open_router(&router, ctx, args[0], options.data)))
        goto out;
    if ((rc = cli_read_csv(&rows, args[1], NULL, NULL)) || (rc = cli_split_columns(&input, &result, rows, exclude)))
        goto out;
    /* "auto" calibrates on the rows themselves. */
    if ((rc = cli_open_model(&session, ctx, cmd, args[0], options.data, input)))
        goto out;
    if (!(x = cli_input_matrix(session, input, args[1]))) {
        rc = CLI_FAILURE;
        goto out;
    }
    n = mlops_frame_rows(input);
    width_in = mlops_session_input_width(session);
    width_out = mlops_session_output_width(session);
    if (!(y = malloc((n ? n : 1) * width_out * sizeof *y))) {
        fprintf(stderr, "mlops: out of memory\n");
        rc = CLI_FAILURE;
        goto out;
    }
    cli_progress_start(&progress, "predicting", "rows", (int64_t)n);
    for (start = 0; start < n; start += BATCH_ROWS) {
        size_t batch = n - start < BATCH_ROWS ? n - start : BATCH_ROWS;
        snprintf(key, sizeof key, "row-%zu", start);
        if ((router ? mlops_router_run(&version, router, key, x + start * width_in, batch, y + start * width_out,
                                       batch * width_out)
                    : mlops_session_run(session, x + start * width_in, batch, y + start * width_out,
                                        batch * width_out)) != MLOPS_OK) {
            rc = cli_fail("running the model");
            break;
        }
        cli_progress_update(&progress, (int64_t)(start + batch));
    }
    cli_progress_end(&progress);
    if (rc || (rc = add_predictions(result, session, y, n, width_out)) || (rc = cli_write_csv(result, output)))
        goto out;
    if (output && router)
        printf("wrote %zu predictions to %s (version %lld through a router on %s)\n", n, output, (long long)version,
               args[0]);
    else if (output)
        printf("wrote %zu predictions to %s (kernel %s)\n", n, output, mlops_session_kernel(session));
out:
    mlops_router_close(router);
    free(x);
    free(y);
    cli_buf_free(&options);
    mlops_session_free(session);
    mlops_frame_free(result);
    mlops_frame_free(input);
    mlops_frame_free(rows);
    return rc;
}

static int run_accuracy(cli_context *ctx)
{
    static const cli_column outputs[] = {
        {"output", "name", CLI_CELL_TEXT},
        {"max abs error", "max_abs_error", CLI_CELL_NUMBER},
        {"mean abs error", "mean_abs_error", CLI_CELL_NUMBER},
    };
    static const cli_column layers[] = {
        {"layer", "nodes", CLI_CELL_TEXT},
        {"precision", "precision", CLI_CELL_TEXT},
        {"max abs error", "max_abs_error", CLI_CELL_NUMBER},
        {"mean abs error", "mean_abs_error", CLI_CELL_NUMBER},
        {"relative rms", "relative_rms_error", CLI_CELL_NUMBER},
    };
    const char *args[2] = {NULL, NULL}, *exclude = NULL;
    cli_flag flags[] = {{"--exclude", CLI_FLAG_VALUE, &exclude}, {0}};
    mlops_frame *rows = NULL, *input = NULL;
    mlops_session *session = NULL;
    char *json = NULL;
    cli_json *doc = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_accuracy, flags, args, 2, 2, NULL)) ||
        (rc = cli_read_csv(&rows, args[1], NULL, NULL)) || (rc = cli_split_columns(&input, NULL, rows, exclude)) ||
        (rc = cli_open_model(&session, ctx, &cli_cmd_accuracy, args[0], NULL, NULL)))
        goto out;
    if (mlops_session_accuracy(&json, session, input) != MLOPS_OK) {
        rc = cli_fail("measuring accuracy");
    } else if (ctx->json) {
        printf("%s\n", json);
    } else if (!(doc = cli_json_parse(json))) {
        rc = CLI_FAILURE;
    } else {
        printf("int8 against fp32 on %s rows (kernel %s): top-1 agreement %.2f%%\n\n",
               cli_json_text(cli_json_get(doc, "rows")), cli_json_text(cli_json_get(doc, "kernel")),
               100.0 * cli_json_number(cli_json_get(doc, "top1_agreement")));
        cli_json_table(cli_json_get(doc, "outputs"), outputs, CLI_COUNT(outputs), stdout);
        printf("\n");
        cli_json_table(cli_json_get(doc, "layers"), layers, CLI_COUNT(layers), stdout);
    }
out:
    cli_json_free(doc);
    mlops_free(json);
    mlops_session_free(session);
    mlops_frame_free(input);
    mlops_frame_free(rows);
    return rc;
}

static int run_plan(cli_context *ctx)
{
    static const cli_column steps[] = {
        {"op", "op", CLI_CELL_TEXT},
        {"nodes", "nodes", CLI_CELL_TEXT},
        {"precision", "precision", CLI_CELL_TEXT},
        {"k", "k", CLI_CELL_TEXT},
        {"n", "n", CLI_CELL_TEXT},
        {"activation", "activation", CLI_CELL_TEXT},
    };
    const char *model = NULL, *precision = NULL;
    cli_flag flags[] = {{"--precision", CLI_FLAG_VALUE, &precision}, {0}};
    mlops_session *session = NULL;
    cli_buf options = CLI_BUF_INIT;
    char *json = NULL;
    cli_json *doc = NULL;
    size_t i;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_plan, flags, &model, 1, 1, NULL)))
        return rc;
    if (precision && strcmp(precision, "auto") == 0)
        return cli_usage_error(&cli_cmd_plan, "--precision auto needs calibration rows; use fp32 or int8");
    if ((rc = cli_precision_options(&options, &cli_cmd_plan, precision)) ||
        (rc = cli_open_model(&session, ctx, &cli_cmd_plan, model, options.data, NULL)))
        goto out;
    if (mlops_session_plan(&json, session) != MLOPS_OK) {
        rc = cli_fail("reading the plan");
    } else if (ctx->json) {
        printf("%s\n", json);
    } else if (!(doc = cli_json_parse(json))) {
        rc = CLI_FAILURE;
    } else {
        printf("opset %s, int8 kernel %s\n", cli_json_text(cli_json_get(doc, "opset")),
               cli_json_text(cli_json_get(doc, "kernel")));
        for (i = 0; i < mlops_session_input_count(session); i++)
            printf("input  %s\n", mlops_session_input_name(session, i));
        for (i = 0; i < mlops_session_output_count(session); i++)
            printf("output %s\n", mlops_session_output_name(session, i));
        printf("\n");
        cli_json_table(cli_json_get(doc, "steps"), steps, CLI_COUNT(steps), stdout);
    }
out:
    cli_json_free(doc);
    mlops_free(json);
    cli_buf_free(&options);
    mlops_session_free(session);
    return rc;
}

const cli_command cli_cmd_predict = {
    "predict", "run a model on the rows of a CSV file and write predictions",
    "usage: mlops [--db FILE] predict MODEL ROWS.csv [options]\n\n"
    "MODEL is an ONNX file or a registry reference NAME@ALIAS / NAME@VERSION;\n"
    "NAME@ALIAS is answered through a router on that alias, as a serving host\n"
    "would be (auto precision needs a file or a version).\n"
    "The numeric columns of ROWS.csv, in order, form each input row; string\n"
    "columns and the --exclude columns are copied to the output, followed by\n"
    "the first output's values (OUTPUT_0, OUTPUT_1, ...) and their argmax.\n\n"
    "options:\n"
    "  --output FILE       write the predictions there (default: standard output)\n"
    "  --precision P       fp32 (default), int8, or auto (int8 where the rows show it is accurate)\n"
    "  --exclude A,B       columns that are not model inputs (ids, labels)\n\n"
    "example:\n  mlops predict digits@production digits_test.csv --exclude label --precision int8 --output pred.csv\n",
    run_predict,
};

const cli_command cli_cmd_accuracy = {
    "accuracy", "what int8 quantization costs: int8 against fp32 on CSV rows",
    "usage: mlops [--db FILE] [--json] accuracy MODEL ROWS.csv [--exclude A,B]\n\n"
    "Runs the rows through the model with every linear layer in fp32 and in\n"
    "int8: top-1 agreement, errors per output, and each layer's own error.\n"
    "MODEL is an ONNX file or a registry reference NAME@ALIAS / NAME@VERSION\n"
    "(a version opened from the registry gets its signature when it has none).\n\n"
    "example:\n  mlops accuracy digits_mlp.onnx digits_test.csv --exclude label\n",
    run_accuracy,
};

const cli_command cli_cmd_plan = {
    "plan", "show the compiled plan of a model",
    "usage: mlops [--db FILE] [--json] plan MODEL [--precision fp32|int8]\n\n"
    "The flat plan the model compiles into: fused linear layers with their\n"
    "precision and shape, and the other steps. MODEL is an ONNX file or a\n"
    "registry reference NAME@ALIAS / NAME@VERSION, as for accuracy.\n\n"
    "example:\n  mlops plan digits_mlp.onnx --precision int8\n",
    run_plan,
};
