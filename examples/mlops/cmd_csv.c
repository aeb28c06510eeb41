/*
 * mlops csv: read a CSV file as the library does and describe it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int run_csv(cli_context *ctx)
{
    const char *path = NULL, *schema = NULL;
    cli_buf options = CLI_BUF_INIT;
    char cell[256];
    mlops_frame *frame = NULL;
    long head = 5;
    size_t col, row, rows, nulls;
    int i, rc;

    for (i = 1; i < ctx->argc; i++) {
        if (strcmp(ctx->argv[i], "--schema") == 0 && i + 1 < ctx->argc)
            schema = ctx->argv[++i];
        else if (strcmp(ctx->argv[i], "--head") == 0 && i + 1 < ctx->argc)
            head = strtol(ctx->argv[++i], NULL, 10);
        else if (ctx->argv[i][0] == '-')
            return cli_usage_error(&cli_cmd_csv, "unknown option \"%s\"", ctx->argv[i]);
        else if (!path)
            path = ctx->argv[i];
        else
            return cli_usage_error(&cli_cmd_csv, "unexpected argument \"%s\"", ctx->argv[i]);
    }
    if (!path)
        return cli_usage_error(&cli_cmd_csv, "a CSV file is required");
    if (head < 0)
        return cli_usage_error(&cli_cmd_csv, "--head takes a count of rows");
    cli_csv_schema(&options, schema);
    rc = mlops_frame_read_csv(&frame, path, options.data);
    cli_buf_free(&options);
    if (rc != MLOPS_OK)
        return cli_fail("reading CSV");
    rows = mlops_frame_rows(frame);
    if (ctx->json) {
        printf("{\"rows\": %zu, \"columns\": [", rows);
        for (col = 0; col < mlops_frame_columns(frame); col++) {
            const uint8_t *mask = NULL;
            mlops_frame_column_nulls(&mask, frame, col);
            for (nulls = 0, row = 0; row < rows; row++)
                nulls += mask[row];
            printf("%s{\"name\": ", col ? ", " : "");
            cli_json_string(stdout, mlops_frame_column_name(frame, col));
            printf(", \"type\": \"%s\", \"dim\": %u, \"nulls\": %zu}", mlops_frame_type_name(mlops_frame_column_type(frame, col)),
                   (unsigned)mlops_frame_column_dim(frame, col), nulls);
        }
        printf("]}\n");
    } else {
        cli_table *table = cli_table_new(3);
        printf("%s: %zu rows, %zu columns\n\n", path, rows, mlops_frame_columns(frame));
        cli_table_add(table, "column");
        cli_table_add(table, "type");
        cli_table_add(table, "nulls");
        for (col = 0; col < mlops_frame_columns(frame); col++) {
            const uint8_t *mask = NULL;
            mlops_frame_column_nulls(&mask, frame, col);
            for (nulls = 0, row = 0; row < rows; row++)
                nulls += mask[row];
            cli_table_add(table, mlops_frame_column_name(frame, col));
            cli_table_add(table, mlops_frame_type_name(mlops_frame_column_type(frame, col)));
            snprintf(cell, sizeof cell, "%zu", nulls);
            cli_table_add(table, cell);
        }
        cli_table_print(table, stdout);
        cli_table_free(table);
        if (head > 0 && rows > 0) {
            table = cli_table_new(mlops_frame_columns(frame));
            for (col = 0; col < mlops_frame_columns(frame); col++)
                cli_table_add(table, mlops_frame_column_name(frame, col));
            for (row = 0; row < rows && row < (size_t)head; row++) {
                for (col = 0; col < mlops_frame_columns(frame); col++) {
                    cli_format_cell(cell, sizeof cell, frame, col, row);
                    cli_table_add(table, cell);
                }
            }
            printf("\n");
            cli_table_print(table, stdout);
            cli_table_free(table);
        }
    }
    mlops_frame_free(frame);
    return CLI_OK;
}

const cli_command cli_cmd_csv = {
    "csv", "read a CSV file and show its columns, types, nulls and first rows",
    "usage: mlops [--json] csv FILE [--schema JSON] [--head N]\n\n"
    "Read FILE exactly as the library does (RFC 4180; types inferred unless\n"
    "--schema names them) and describe it. A malformed file fails with the line\n"
    "and column of the problem.\n\n"
    "options:\n"
    "  --schema JSON  column types, e.g. '{\"when\": \"timestamp\"}'\n"
    "  --head N       rows to show (default 5)\n\n"
    "example:\n  mlops csv transactions.csv --schema '{\"ts\": \"timestamp\"}' --head 3\n",
    run_csv,
};
