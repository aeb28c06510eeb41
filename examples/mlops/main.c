/*
 * mlops: the command-line tool over libmlops.
 *
 *   mlops [--db FILE] [--json] COMMAND [ARGS...]
 *
 * The database defaults to $MLOPS_DB, then ./mlops.db. Exit codes: 0 ok,
 * 1 failure (the library's message on stderr), 2 usage error.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_command *const commands[] = {
    &cli_cmd_info,
    &cli_cmd_check,
    &cli_cmd_csv,
    &cli_cmd_train,
};

#define COMMAND_COUNT (sizeof commands / sizeof commands[0])

static void print_help(FILE *out)
{
    size_t i;
    fprintf(out, "usage: mlops [--db FILE] [--json] COMMAND [ARGS...]\n\n"
                 "The production-ML loop on one SQLite file (libmlops %s).\n\n"
                 "options:\n"
                 "  --db FILE   the database (default: $MLOPS_DB, else ./mlops.db)\n"
                 "  --json      machine-readable output on read commands\n"
                 "  --help      this help; 'mlops COMMAND --help' for a command's\n\n"
                 "commands:\n",
            mlops_version());
    for (i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-14s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nexample:\n  mlops --db shop.db info\n");
}

int main(int argc, char **argv)
{
    cli_context ctx;
    const char *env_db = getenv("MLOPS_DB");
    int i;
    size_t c;

    memset(&ctx, 0, sizeof ctx);
    ctx.db_path = env_db && *env_db ? env_db : "mlops.db";
    for (i = 1; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            ctx.db_path = argv[++i];
        } else if (strcmp(argv[i], "--json") == 0) {
            ctx.json = 1;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            print_help(stdout);
            return CLI_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("mlops %s\n", mlops_version());
            return CLI_OK;
        } else {
            fprintf(stderr, "mlops: unknown option \"%s\" (see 'mlops --help')\n", argv[i]);
            return CLI_USAGE;
        }
    }
    if (i >= argc) {
        print_help(stderr);
        return CLI_USAGE;
    }
    for (c = 0; c < COMMAND_COUNT; c++) {
        if (strcmp(commands[c]->name, argv[i]) != 0)
            continue;
        ctx.argc = argc - i;
        ctx.argv = argv + i;
        if (cli_wants_help(&ctx)) {
            fputs(commands[c]->usage, stdout);
            return CLI_OK;
        }
        return commands[c]->run(&ctx);
    }
    fprintf(stderr, "mlops: unknown command \"%s\" (see 'mlops --help')\n", argv[i]);
    return CLI_USAGE;
}
