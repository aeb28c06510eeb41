/*
 * mlops info, mlops check: the database itself.
 */
#include "cli.h"

static int run_info(cli_context *ctx)
{
    mlops_db *db = NULL;
    int32_t version = 0;
    if (ctx->argc > 1)
        return cli_usage_error(&cli_cmd_info, "unexpected argument \"%s\"", ctx->argv[1]);
    if (cli_open_db(&db, ctx, NULL))
        return CLI_FAILURE;
    if (mlops_db_schema_version(&version, db) != MLOPS_OK) {
        mlops_db_close(db);
        return cli_fail("reading the schema version");
    }
    if (ctx->json) {
        printf("{\"library_version\": ");
        cli_json_string(stdout, mlops_version());
        printf(", \"database\": ");
        cli_json_string(stdout, mlops_db_path(db));
        printf(", \"schema_version\": %d, \"schema_version_supported\": %d}\n", (int)version,
               (int)mlops_db_schema_version_supported());
    } else {
        printf("library   libmlops %s\n", mlops_version());
        printf("database  %s\n", mlops_db_path(db));
        printf("schema    version %d (this library supports up to %d)\n", (int)version,
               (int)mlops_db_schema_version_supported());
    }
    mlops_db_close(db);
    return CLI_OK;
}

static int run_check(cli_context *ctx)
{
    mlops_db *db = NULL;
    int rc;
    if (ctx->argc > 1)
        return cli_usage_error(&cli_cmd_check, "unexpected argument \"%s\"", ctx->argv[1]);
    if (cli_open_db(&db, ctx, "{\"create\": false}"))
        return CLI_FAILURE;
    rc = mlops_db_check(db);
    mlops_db_close(db);
    if (rc != MLOPS_OK)
        return cli_fail("integrity check");
    if (ctx->json)
        printf("{\"ok\": true}\n");
    else
        printf("ok: the database passed its integrity check\n");
    return CLI_OK;
}

const cli_command cli_cmd_info = {
    "info", "show the library version and the database's schema",
    "usage: mlops [--db FILE] [--json] info\n\n"
    "Open (creating if absent) the database and show the library version and\n"
    "the schema version.\n\n"
    "example:\n  mlops --db shop.db info\n",
    run_info,
};

const cli_command cli_cmd_check = {
    "check", "run the database's integrity check",
    "usage: mlops [--db FILE] [--json] check\n\n"
    "Run SQLite's integrity and foreign-key checks on an existing database;\n"
    "exit 1 with the first problem when it fails.\n\n"
    "example:\n  mlops --db shop.db check\n",
    run_check,
};
