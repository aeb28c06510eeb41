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
    &cli_cmd_model_create,
    &cli_cmd_model_list,
    &cli_cmd_model_show,
    &cli_cmd_version_register,
    &cli_cmd_version_list,
    &cli_cmd_version_show,
    &cli_cmd_version_approve,
    &cli_cmd_metrics_log,
    &cli_cmd_metrics_list,
    &cli_cmd_alias_set,
    &cli_cmd_alias_rollback,
    &cli_cmd_alias_history,
    &cli_cmd_alias_at,
    &cli_cmd_gate_set,
    &cli_cmd_gate_get,
    &cli_cmd_run_list,
    &cli_cmd_run_show,
    &cli_cmd_lineage_of,
    &cli_cmd_lineage_users,
    &cli_cmd_audit_list,
    &cli_cmd_audit_verify,
    &cli_cmd_bundle_export,
    &cli_cmd_bundle_import,
    &cli_cmd_bundle_keygen,
    &cli_cmd_bundle_trust,
    &cli_cmd_entity_define,
    &cli_cmd_view_define,
    &cli_cmd_view_show,
    &cli_cmd_features_ingest,
    &cli_cmd_features_get,
    &cli_cmd_features_asof,
    &cli_cmd_features_join,
    &cli_cmd_features_forget,
    &cli_cmd_features_stats,
    &cli_cmd_features_quarantine,
    &cli_cmd_features_retry,
    &cli_cmd_drift,
    &cli_cmd_drift_profile,
    &cli_cmd_drift_record,
    &cli_cmd_drift_windows,
    &cli_cmd_drift_trend,
    &cli_cmd_predict,
    &cli_cmd_accuracy,
    &cli_cmd_plan,
    &cli_cmd_explain,
    &cli_cmd_train,
    &cli_cmd_serve_stats,
    &cli_cmd_report,
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
                 "Exit status: 0 ok, 1 failure (the library's message on stderr), 2 usage.\n\n"
                 "commands:\n",
            mlops_version());
    for (i = 0; i < COMMAND_COUNT; i++)
        fprintf(out, "  %-22s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(out, "\nexample:\n  mlops --db shop.db info\n");
}

/* Number of words of `name` ("model register": 2) that match argv[0..argc), or 0. */
static int match_words(const char *name, char **argv, int argc)
{
    int words = 0;
    while (*name) {
        size_t len = strcspn(name, " ");
        if (words >= argc || strlen(argv[words]) != len || strncmp(argv[words], name, len) != 0)
            return 0;
        words++;
        name += len;
        name += *name == ' ';
    }
    return words;
}

/* "mlops GROUP" without a known subcommand: list the group's commands; 1 when GROUP is a group. */
static int print_group(FILE *out, const char *group)
{
    size_t i, len = strlen(group);
    const char *example = NULL;
    for (i = 0; i < COMMAND_COUNT; i++) {
        if (strncmp(commands[i]->name, group, len) != 0 || commands[i]->name[len] != ' ')
            continue;
        if (!example) {
            example = strstr(commands[i]->usage, "example:");
            fprintf(out, "usage: mlops %s SUBCOMMAND [ARGS...]\n\nsubcommands:\n", group);
        }
        fprintf(out, "  %-22s %s\n", commands[i]->name, commands[i]->summary);
    }
    if (example)
        fprintf(out, "\n%s", example);
    return example != NULL;
}

int main(int argc, char **argv)
{
    cli_context ctx;
    const char *env_db = getenv("MLOPS_DB");
    int i, words, best_words = 0;
    size_t c, best = 0;

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
        words = match_words(commands[c]->name, argv + i, argc - i);
        if (words > best_words) {
            best_words = words;
            best = c;
        }
    }
    if (best_words == 0) {
        if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || strcmp(argv[i + 1], "-h") == 0) &&
            print_group(stdout, argv[i]))
            return CLI_OK;
        if (print_group(stderr, argv[i]))
            fprintf(stderr, "\nmlops %s: %s\n", argv[i], i + 1 < argc ? "unknown subcommand" : "a subcommand is required");
        else
            fprintf(stderr, "mlops: unknown command \"%s\" (see 'mlops --help')\n", argv[i]);
        return CLI_USAGE;
    }
    ctx.argc = argc - i - best_words + 1;
    ctx.argv = argv + i + best_words - 1;
    if (cli_wants_help(&ctx)) {
        fputs(commands[best]->usage, stdout);
        return CLI_OK;
    }
    return commands[best]->run(&ctx);
}
