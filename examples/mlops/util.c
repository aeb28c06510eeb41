/*
 * Output helpers of the mlops tool: errors, files, JSON strings, tables.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "cli.h"

int cli_fail(const char *what)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "mlops: %s: %s\n", what, err->message);
    return CLI_FAILURE;
}

int cli_usage_error(const cli_command *command, const char *fmt, ...)
{
    va_list args;
    fprintf(stderr, "mlops %s: ", command->name);
    va_start(args, fmt);
    vfprintf(stderr, fmt, args);
    va_end(args);
    fprintf(stderr, "\n(see 'mlops %s --help')\n", command->name);
    return CLI_USAGE;
}

int cli_wants_help(const cli_context *ctx)
{
    int i;
    for (i = 1; i < ctx->argc; i++) {
        if (strcmp(ctx->argv[i], "--help") == 0 || strcmp(ctx->argv[i], "-h") == 0)
            return 1;
    }
    return 0;
}

int cli_open_db(mlops_db **out, const cli_context *ctx, const char *options_json)
{
    if (mlops_db_open(out, ctx->db_path, options_json) != MLOPS_OK)
        return cli_fail(ctx->db_path);
    return CLI_OK;
}

char *cli_read_file(const char *path, size_t *len_out)
{
    FILE *file = fopen(path, "rb");
    char *data = NULL;
    long size;
    if (!file) {
        fprintf(stderr, "mlops: cannot open \"%s\"\n", path);
        return NULL;
    }
    if (fseek(file, 0, SEEK_END) == 0 && (size = ftell(file)) >= 0 && fseek(file, 0, SEEK_SET) == 0 &&
        (data = malloc((size_t)size + 1)) != NULL && fread(data, 1, (size_t)size, file) == (size_t)size) {
        data[size] = '\0';
        if (len_out)
            *len_out = (size_t)size;
    } else {
        free(data);
        data = NULL;
        fprintf(stderr, "mlops: cannot read \"%s\"\n", path);
    }
    fclose(file);
    return data;
}

void cli_json_string(FILE *out, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    fputc('"', out);
    for (; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

struct cli_table {
    size_t columns;
    size_t count;
    size_t capacity;
    char **cells;
};

cli_table *cli_table_new(size_t columns)
{
    cli_table *table = calloc(1, sizeof *table);
    if (table)
        table->columns = columns;
    return table;
}

void cli_table_add(cli_table *table, const char *cell)
{
    if (!table)
        return;
    if (table->count == table->capacity) {
        size_t capacity = table->capacity ? table->capacity * 2 : 64;
        char **grown = realloc(table->cells, capacity * sizeof *grown);
        if (!grown)
            return;
        table->cells = grown;
        table->capacity = capacity;
    }
    table->cells[table->count++] = strdup(cell ? cell : "");
}

/* Width of the terminal on stdout, or 0 when it is not a terminal. */
static size_t terminal_width(FILE *out)
{
    struct winsize size;
    if (isatty(fileno(out)) && ioctl(fileno(out), TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        return size.ws_col;
    return 0;
}

void cli_table_print(cli_table *table, FILE *out)
{
    size_t widths[64] = {0};
    size_t i, col, total = 0, limit = terminal_width(out);
    if (!table || table->columns == 0 || table->columns > 64)
        return;
    for (i = 0; i < table->count; i++) {
        size_t len = table->cells[i] ? strlen(table->cells[i]) : 0;
        col = i % table->columns;
        if (len > widths[col])
            widths[col] = len;
    }
    for (col = 0; col < table->columns; col++)
        total += widths[col] + 2;
    /* Shrink the widest columns until the table fits the terminal. */
    while (limit && total > limit) {
        size_t widest = 0;
        for (col = 1; col < table->columns; col++)
            widest = widths[col] > widths[widest] ? col : widest;
        if (widths[widest] <= 6)
            break;
        widths[widest]--;
        total--;
    }
    for (i = 0; i < table->count; i++) {
        const char *cell = table->cells[i] ? table->cells[i] : "";
        size_t len = strlen(cell);
        col = i % table->columns;
        if (len > widths[col])
            fprintf(out, "%.*s~", (int)(widths[col] - 1), cell);
        else if (col + 1 == table->columns)
            fputs(cell, out);
        else
            fprintf(out, "%-*s", (int)widths[col], cell);
        fputs(col + 1 == table->columns ? "\n" : "  ", out);
    }
}

void cli_table_free(cli_table *table)
{
    size_t i;
    if (!table)
        return;
    for (i = 0; i < table->count; i++)
        free(table->cells[i]);
    free(table->cells);
    free(table);
}
