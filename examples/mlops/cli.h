/*
 * The mlops command-line tool: shared declarations of its commands and the
 * output helpers they use. Uses only the public API.
 */
#ifndef MLOPS_CLI_H
#define MLOPS_CLI_H

#include <stdio.h>

#include <mlops.h>

#define CLI_OK 0
#define CLI_FAILURE 1
#define CLI_USAGE 2

typedef struct cli_context {
    const char *db_path;  /* --db, $MLOPS_DB, or ./mlops.db */
    int json;             /* --json: machine-readable output */
    int argc;             /* the command's own arguments (argv[0] is the command name) */
    char **argv;
} cli_context;

typedef struct cli_command {
    const char *name;
    const char *summary;  /* one line for the command list */
    const char *usage;    /* full help: synopsis, options, an example */
    int (*run)(cli_context *ctx);
} cli_command;

/* Print the library's last error as "mlops: what: message" and return CLI_FAILURE. */
int cli_fail(const char *what);
/* Print a usage error for `command` and return CLI_USAGE. */
int cli_usage_error(const cli_command *command, const char *fmt, ...);
/* Open the context's database (options may be NULL); prints and returns non-zero on failure. */
int cli_open_db(mlops_db **out, const cli_context *ctx, const char *options_json);
/* Read a whole file into a NUL-terminated buffer (free with free()); NULL after printing an error. */
char *cli_read_file(const char *path, size_t *len_out);
/* Print a JSON string literal. */
void cli_json_string(FILE *out, const char *text);
/* 1 when `ctx` asks for help (--help or -h among the arguments). */
int cli_wants_help(const cli_context *ctx);

/* Tables sized to the terminal: add cells row by row, then print. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t columns);
void cli_table_add(cli_table *table, const char *cell);
void cli_table_print(cli_table *table, FILE *out);
void cli_table_free(cli_table *table);

extern const cli_command cli_cmd_info;
extern const cli_command cli_cmd_check;
extern const cli_command cli_cmd_csv;
extern const cli_command cli_cmd_train;

#endif /* MLOPS_CLI_H */
