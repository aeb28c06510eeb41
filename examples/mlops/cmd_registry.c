/*
 * mlops model / version / metrics / alias / gate / run / lineage / audit /
 * bundle: the model registry from the command line.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* Columns of a version in listings and of its details. */
static const cli_column version_columns[] = {
    {"version", "version", CLI_CELL_TEXT},     {"created", "created_us", CLI_CELL_TIME},
    {"creator", "creator", CLI_CELL_TEXT},     {"size", "artifact.size", CLI_CELL_BYTES},
    {"aliases", "aliases", CLI_CELL_TEXT},     {"tags", "tags", CLI_CELL_TEXT},
    {"parent", "parent_version", CLI_CELL_TEXT},
};
static const cli_column version_fields[] = {
    {"model", "model", CLI_CELL_TEXT},           {"version", "version", CLI_CELL_TEXT},
    {"created", "created_us", CLI_CELL_TIME},    {"creator", "creator", CLI_CELL_TEXT},
    {"artifact", "artifact.sha256", CLI_CELL_TEXT}, {"size", "artifact.size", CLI_CELL_BYTES},
    {"aliases", "aliases", CLI_CELL_TEXT},       {"tags", "tags", CLI_CELL_TEXT},
    {"metadata", "metadata", CLI_CELL_TEXT},     {"signature", "signature", CLI_CELL_TEXT},
    {"run", "run_id", CLI_CELL_TEXT},            {"parent", "parent_version", CLI_CELL_TEXT},
    {"feature views", "feature_views", CLI_CELL_TEXT}, {"as of", "as_of_us", CLI_CELL_TIME},
    {"profile", "profile_bytes", CLI_CELL_BYTES}, {"origin", "origin", CLI_CELL_TEXT},
};
static const cli_column metric_columns[] = {
    {"metric", "name", CLI_CELL_TEXT},     {"value", "value", CLI_CELL_TEXT},
    {"ci low", "ci_low", CLI_CELL_TEXT},   {"ci high", "ci_high", CLI_CELL_TEXT},
    {"dataset", "dataset", CLI_CELL_TEXT}, {"time", "time_us", CLI_CELL_TIME},
};
static const cli_column approval_columns[] = {
    {"approved by", "actor", CLI_CELL_TEXT}, {"note", "note", CLI_CELL_TEXT}, {"time", "time_us", CLI_CELL_TIME},
};


/* Split "NAME@ALIAS" into its parts (no lookup). */
static int split_alias(char *model, const char **alias, const cli_command *command, const char *reference)
{
    if (cli_resolve(model, CLI_NAME_CAP, NULL, NULL, command, reference))
        return CLI_USAGE;
    *alias = strchr(reference, '@') + 1;
    return CLI_OK;
}

/* ---- models ------------------------------------------------------------------------------------ */

static int run_model_create(cli_context *ctx)
{
    const char *description = NULL, *tags = NULL, *name = NULL;
    cli_flag flags[] = {{"--description", CLI_FLAG_VALUE, &description}, {"--tags", CLI_FLAG_VALUE, &tags}, {0}};
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_model_create, flags, &name, 1, 1, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    rc = mlops_model_create(db, name, description, tags) == MLOPS_OK ? CLI_OK : cli_fail("creating the model");
    if (rc == CLI_OK)
        printf("created model %s\n", name);
    mlops_db_close(db);
    return rc;
}

static int run_model_list(cli_context *ctx)
{
    static const cli_column columns[] = {
        {"model", "name", CLI_CELL_TEXT},           {"versions", "versions", CLI_CELL_TEXT},
        {"latest", "latest_version", CLI_CELL_TEXT}, {"aliases", "aliases", CLI_CELL_TEXT},
        {"created", "created_us", CLI_CELL_TIME},    {"description", "description", CLI_CELL_TEXT},
    };
    mlops_db *db = NULL;
    char *json = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_model_list, NULL, NULL, 0, 0, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_model_list(&json, db) != MLOPS_OK)
        rc = cli_fail("listing models");
    else
        rc = cli_print_document(ctx, json, columns, CLI_COUNT(columns));
    mlops_db_close(db);
    return rc;
}

static int run_model_show(cli_context *ctx)
{
    static const cli_column fields[] = {
        {"model", "name", CLI_CELL_TEXT},         {"description", "description", CLI_CELL_TEXT},
        {"tags", "tags", CLI_CELL_TEXT},          {"created", "created_us", CLI_CELL_TIME},
        {"creator", "creator", CLI_CELL_TEXT},    {"versions", "versions", CLI_CELL_TEXT},
        {"latest", "latest_version", CLI_CELL_TEXT}, {"aliases", "aliases", CLI_CELL_TEXT},
        {"gates", "gates", CLI_CELL_TEXT},
    };
    const char *name = NULL;
    mlops_db *db = NULL;
    char *json = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_model_show, NULL, &name, 1, 1, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_model_show(&json, db, name) != MLOPS_OK)
        rc = cli_fail("showing the model");
    else
        rc = cli_print_document(ctx, json, fields, CLI_COUNT(fields));
    mlops_db_close(db);
    return rc;
}

/* ---- versions --------------------------------------------------------------------------------- */

/* The signature of the ONNX model in `path` (free with mlops_free()): names, types and shapes (-1: batch). */
static int signature_of(char **sig, const char *path)
{
    mlops_session *session = NULL;
    char what[512];
    int rc = CLI_OK;
    snprintf(what, sizeof what, "reading the ONNX graph of \"%s\"", path);
    if (mlops_session_open_file(&session, path, NULL, NULL) != MLOPS_OK ||
        mlops_session_signature(sig, session) != MLOPS_OK)
        rc = cli_fail(what);
    mlops_session_free(session);
    return rc;
}

/* Stream the file at `path` into `writer` with a progress bar. */
static int write_artifact(mlops_version_writer *writer, const char *path)
{
    FILE *file = fopen(path, "rb");
    char *chunk = malloc(CLI_CHUNK);
    struct stat st;
    cli_progress progress;
    int64_t done = 0;
    size_t n;
    int rc = CLI_OK;
    if (!file || !chunk || fstat(fileno(file), &st) != 0) {
        fprintf(stderr, "mlops: cannot read \"%s\": %s\n", path, strerror(errno));
        rc = CLI_FAILURE;
        goto out;
    }
    cli_progress_start(&progress, "storing", "bytes", (int64_t)st.st_size);
    while ((n = fread(chunk, 1, CLI_CHUNK, file)) > 0) {
        if (mlops_version_writer_write(writer, chunk, n) != MLOPS_OK) {
            rc = cli_fail("storing the artifact");
            break;
        }
        done += (int64_t)n;
        cli_progress_update(&progress, done);
    }
    cli_progress_end(&progress);
    if (rc == CLI_OK && ferror(file)) {
        fprintf(stderr, "mlops: cannot read \"%s\"\n", path);
        rc = CLI_FAILURE;
    }
out:
    free(chunk);
    if (file)
        fclose(file);
    return rc;
}

static int run_version_register(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *tags = NULL, *metadata = NULL, *run = NULL, *parent = NULL,
               *lineage = NULL, *signature = NULL, *description = NULL, *level = NULL;
    cli_flag flags[] = {{"--tags", CLI_FLAG_VALUE, &tags},           {"--metadata", CLI_FLAG_VALUE, &metadata},
                        {"--run", CLI_FLAG_VALUE, &run},             {"--parent", CLI_FLAG_VALUE, &parent},
                        {"--lineage", CLI_FLAG_VALUE, &lineage},     {"--signature", CLI_FLAG_VALUE, &signature},
                        {"--description", CLI_FLAG_VALUE, &description}, {"--zstd-level", CLI_FLAG_VALUE, &level},
                        {0}};
    const cli_command *cmd = &cli_cmd_version_register;
    cli_buf options = CLI_BUF_INIT;
    char *sig = NULL;
    mlops_version_writer *writer = NULL;
    mlops_db *db = NULL;
    int64_t number = 0, version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 2, 2, NULL)))
        return rc;
    cli_buf_puts(&options, "{\"signature\": ");
    if (!signature && (rc = signature_of(&sig, args[1])))
        goto out;
    cli_buf_puts(&options, signature ? signature : sig);
    if (tags)
        cli_buf_printf(&options, ", \"tags\": %s", tags);
    if (metadata)
        cli_buf_printf(&options, ", \"metadata\": %s", metadata);
    if (lineage)
        cli_buf_printf(&options, ", \"lineage\": %s", lineage);
    if (run && !(rc = cli_parse_int64(&number, cmd, "--run", run)))
        cli_buf_printf(&options, ", \"run_id\": %lld", (long long)number);
    if (!rc && parent && !(rc = cli_parse_int64(&number, cmd, "--parent", parent)))
        cli_buf_printf(&options, ", \"parent_version\": %lld", (long long)number);
    if (!rc && level && !(rc = cli_parse_int64(&number, cmd, "--zstd-level", level)))
        cli_buf_printf(&options, ", \"zstd_level\": %lld", (long long)number);
    cli_buf_puts(&options, "}");
    if (rc || (rc = cli_open_db(&db, ctx, NULL)))
        goto out;
    /* The model is created on its first registration. */
    if (mlops_model_create(db, args[0], description, NULL) != MLOPS_OK && mlops_error_last()->code != MLOPS_EEXISTS) {
        rc = cli_fail("creating the model");
        goto out;
    }
    if (mlops_version_writer_begin(&writer, db, args[0], options.data) != MLOPS_OK) {
        rc = cli_fail("registering");
        goto out;
    }
    if ((rc = write_artifact(writer, args[1])))
        goto out;
    if (mlops_version_writer_commit(&version, writer) != MLOPS_OK) {
        rc = cli_fail("registering");
        goto out;
    }
    if (ctx->json) {
        printf("{\"model\": ");
        cli_json_string(stdout, args[0]);
        printf(", \"version\": %lld}\n", (long long)version);
    } else
        printf("registered %s@%lld\n", args[0], (long long)version);
out:
    mlops_version_writer_free(writer);
    mlops_db_close(db);
    cli_buf_free(&options);
    mlops_free(sig);
    return rc;
}

static int run_version_list(cli_context *ctx)
{
    const char *name = NULL, *metric = NULL, *limit = NULL;
    cli_list tags = {{0}, 0};
    cli_flag flags[] = {{"--tag", CLI_FLAG_LIST, &tags}, {"--metric", CLI_FLAG_VALUE, &metric},
                        {"--limit", CLI_FLAG_VALUE, &limit}, {0}};
    cli_buf filter = CLI_BUF_INIT;
    mlops_db *db = NULL;
    char *json = NULL;
    int64_t count = 0;
    size_t i;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_version_list, flags, &name, 1, 1, NULL)))
        return rc;
    cli_buf_puts(&filter, "{\"tags\": {");
    for (i = 0; i < tags.count && rc == CLI_OK; i++) {
        const char *eq = strchr(tags.items[i], '=');
        char key[CLI_NAME_CAP];
        if (!eq || eq == tags.items[i] || (size_t)(eq - tags.items[i]) >= sizeof key) {
            rc = cli_usage_error(&cli_cmd_version_list, "--tag takes KEY=VALUE, not \"%s\"", tags.items[i]);
            break;
        }
        memcpy(key, tags.items[i], (size_t)(eq - tags.items[i]));
        key[eq - tags.items[i]] = '\0';
        cli_buf_puts(&filter, i ? ", " : "");
        cli_buf_json_string(&filter, key);
        cli_buf_puts(&filter, ": ");
        cli_buf_json_string(&filter, eq + 1);
    }
    cli_buf_puts(&filter, "}");
    if (metric) {
        cli_buf_puts(&filter, ", \"metric\": ");
        cli_buf_json_string(&filter, metric);
    }
    if (rc == CLI_OK && limit && (rc = cli_parse_int64(&count, &cli_cmd_version_list, "--limit", limit)) == CLI_OK)
        cli_buf_printf(&filter, ", \"limit\": %lld", (long long)count);
    cli_buf_puts(&filter, "}");
    if (rc == CLI_OK && (rc = cli_open_db(&db, ctx, NULL)) == CLI_OK) {
        if (mlops_version_list(&json, db, name, filter.data) != MLOPS_OK)
            rc = cli_fail("listing versions");
        else
            rc = cli_print_document(ctx, json, version_columns, CLI_COUNT(version_columns));
    }
    mlops_db_close(db);
    cli_buf_free(&filter);
    return rc;
}

/* Show one version: its fields, then its metrics and approvals. */
static int show_version(const cli_context *ctx, mlops_db *db, const char *model, int64_t version)
{
    cli_json *doc;
    char *json = NULL;
    int rc;
    if (mlops_version_show(&json, db, model, version) != MLOPS_OK)
        return cli_fail("showing the version");
    if ((rc = cli_take_document(&doc, ctx, json)) || !doc)
        return rc;
    cli_json_fields(doc, version_fields, CLI_COUNT(version_fields), stdout);
    if (cli_json_count(cli_json_get(doc, "metrics"))) {
        printf("\n");
        cli_json_table(cli_json_get(doc, "metrics"), metric_columns, CLI_COUNT(metric_columns), stdout);
    }
    if (cli_json_count(cli_json_get(doc, "approvals"))) {
        printf("\n");
        cli_json_table(cli_json_get(doc, "approvals"), approval_columns, CLI_COUNT(approval_columns), stdout);
    }
    cli_json_free(doc);
    return CLI_OK;
}

static int run_version_show(cli_context *ctx)
{
    const char *reference = NULL;
    char model[CLI_NAME_CAP];
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_version_show, NULL, &reference, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_version_show, reference)) == CLI_OK)
        rc = show_version(ctx, db, model, version);
    mlops_db_close(db);
    return rc;
}

static int run_version_approve(cli_context *ctx)
{
    const char *reference = NULL, *note = NULL;
    cli_flag flags[] = {{"--note", CLI_FLAG_VALUE, &note}, {0}};
    char model[CLI_NAME_CAP];
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_version_approve, flags, &reference, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_version_approve, reference)) == CLI_OK) {
        if (mlops_version_approve(db, model, version, note ? note : "") != MLOPS_OK)
            rc = cli_fail("approving");
        else
            printf("approved %s@%lld\n", model, (long long)version);
    }
    mlops_db_close(db);
    return rc;
}

/* ---- metrics --------------------------------------------------------------------------------- */

static int run_metrics_log(cli_context *ctx)
{
    const char *args[3] = {NULL, NULL, NULL}, *ci = NULL, *dataset = NULL, *when = NULL;
    cli_flag flags[] = {{"--ci", CLI_FLAG_VALUE, &ci}, {"--dataset", CLI_FLAG_VALUE, &dataset},
                        {"--time", CLI_FLAG_VALUE, &when}, {0}};
    const cli_command *cmd = &cli_cmd_metrics_log;
    char model[CLI_NAME_CAP], low_text[64];
    double value = 0, low = NAN, high = NAN;
    int64_t version = 0, time_us = 0;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, cmd, flags, args, 3, 3, NULL)) || (rc = cli_parse_double(&value, cmd, "VALUE", args[2])) ||
        (when && (rc = cli_parse_time(&time_us, cmd, "--time", when))))
        return rc;
    if (ci) {
        const char *comma = strchr(ci, ',');
        if (!comma || (size_t)(comma - ci) >= sizeof low_text)
            return cli_usage_error(cmd, "--ci takes LOW,HIGH, not \"%s\"", ci);
        memcpy(low_text, ci, (size_t)(comma - ci));
        low_text[comma - ci] = '\0';
        if ((rc = cli_parse_double(&low, cmd, "--ci LOW", low_text)) || (rc = cli_parse_double(&high, cmd, "--ci HIGH", comma + 1)))
            return rc;
    }
    if ((rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, cmd, args[0])) == CLI_OK) {
        if (mlops_version_metric_log(db, model, version, args[1], value, low, high, dataset, time_us) != MLOPS_OK)
            rc = cli_fail("logging the metric");
        else
            printf("logged %s = %s for %s@%lld\n", args[1], args[2], model, (long long)version);
    }
    mlops_db_close(db);
    return rc;
}

static int run_metrics_list(cli_context *ctx)
{
    const char *reference = NULL;
    char model[CLI_NAME_CAP], *json = NULL;
    mlops_db *db = NULL;
    int64_t version = 0;
    cli_json *doc = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_metrics_list, NULL, &reference, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_metrics_list, reference)))
        goto out;
    if (mlops_version_show(&json, db, model, version) != MLOPS_OK) {
        rc = cli_fail("reading the metrics");
        goto out;
    }
    doc = cli_json_parse(json);
    mlops_free(json);
    if (!doc) {
        rc = CLI_FAILURE;
        goto out;
    }
    if (ctx->json) {
        /* The version document's "metrics" array, as the library wrote it. */
        cli_json_print(stdout, cli_json_get(doc, "metrics"));
        printf("\n");
    } else if (cli_json_count(cli_json_get(doc, "metrics")) == 0) {
        printf("(none)\n");
    } else {
        cli_json_table(cli_json_get(doc, "metrics"), metric_columns, CLI_COUNT(metric_columns), stdout);
    }
out:
    cli_json_free(doc);
    mlops_db_close(db);
    return rc;
}

/* ---- aliases and gates ---------------------------------------------------------------------- */

static int run_alias_set(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *alias = NULL;
    char model[CLI_NAME_CAP], target[CLI_NAME_CAP + 32];
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_alias_set, NULL, args, 2, 2, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_alias_set, args[0])) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    /* VERSION is a number or another reference of the same model ("staging"). */
    snprintf(target, sizeof target, "%s@%s", model, args[1]);
    if (mlops_model_resolve(&version, db, target) != MLOPS_OK)
        rc = cli_fail(target);
    else if (mlops_alias_set(db, model, alias, version) != MLOPS_OK)
        rc = cli_fail("moving the alias");
    else
        printf("%s@%s -> version %lld\n", model, alias, (long long)version);
    mlops_db_close(db);
    return rc;
}

static int run_alias_rollback(cli_context *ctx)
{
    const char *reference = NULL, *alias = NULL;
    char model[CLI_NAME_CAP];
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_alias_rollback, NULL, &reference, 1, 1, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_alias_rollback, reference)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_alias_rollback(&version, db, model, alias) != MLOPS_OK)
        rc = cli_fail("rolling back");
    else
        printf("%s@%s -> version %lld\n", model, alias, (long long)version);
    mlops_db_close(db);
    return rc;
}

static int run_alias_history(cli_context *ctx)
{
    static const cli_column columns[] = {
        {"time", "time_us", CLI_CELL_TIME},   {"action", "action", CLI_CELL_TEXT},
        {"version", "version", CLI_CELL_TEXT}, {"previous", "previous", CLI_CELL_TEXT},
        {"actor", "actor", CLI_CELL_TEXT},
    };
    const char *reference = NULL, *alias = NULL;
    char model[CLI_NAME_CAP], *json = NULL;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_alias_history, NULL, &reference, 1, 1, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_alias_history, reference)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_alias_history(&json, db, model, alias) != MLOPS_OK)
        rc = cli_fail("reading the alias history");
    else
        rc = cli_print_document(ctx, json, columns, CLI_COUNT(columns));
    mlops_db_close(db);
    return rc;
}

static int run_alias_at(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *alias = NULL;
    char model[CLI_NAME_CAP], when[40];
    mlops_db *db = NULL;
    int64_t version = 0, time_us = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_alias_at, NULL, args, 2, 2, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_alias_at, args[0])) ||
        (rc = cli_parse_time(&time_us, &cli_cmd_alias_at, "TIME", args[1])) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_alias_at(&version, db, model, alias, time_us) != MLOPS_OK) {
        rc = cli_fail("reading the alias history");
    } else if (ctx->json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model);
        printf(", \"alias\": ");
        cli_json_string(stdout, alias);
        printf(", \"time_us\": %lld, \"version\": %lld}\n", (long long)time_us, (long long)version);
    } else {
        cli_format_time(when, sizeof when, time_us);
        printf("%s@%s was version %lld at %s\n", model, alias, (long long)version, when);
    }
    mlops_db_close(db);
    return rc;
}

static int run_gate_set(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *alias = NULL;
    char model[CLI_NAME_CAP], *policy = NULL;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_gate_set, NULL, args, 2, 2, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_gate_set, args[0])))
        return rc;
    if (!(policy = cli_read_file(args[1], NULL)))
        return CLI_FAILURE;
    if ((rc = cli_open_db(&db, ctx, NULL)) == CLI_OK) {
        if (mlops_gate_set(db, model, alias, policy) != MLOPS_OK)
            rc = cli_fail("setting the gate");
        else
            printf("gate of %s@%s set\n", model, alias);
    }
    free(policy);
    mlops_db_close(db);
    return rc;
}

static int run_gate_get(cli_context *ctx)
{
    const char *reference = NULL, *alias = NULL;
    char model[CLI_NAME_CAP], *json = NULL;
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_gate_get, NULL, &reference, 1, 1, NULL)) ||
        (rc = split_alias(model, &alias, &cli_cmd_gate_get, reference)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_gate_get(&json, db, model, alias) != MLOPS_OK) {
        rc = cli_fail("reading the gate");
    } else if (ctx->json) {
        printf("%s\n", json);
        mlops_free(json);
    } else {
        /* One line per rule: its name and parameters. */
        cli_json *doc = cli_json_parse(json);
        const cli_json *rules = cli_json_get(doc, "rules");
        size_t i;
        mlops_free(json);
        for (i = 0; i < cli_json_count(rules); i++) {
            char *cell = cli_json_cell(cli_json_item(rules, i), CLI_CELL_TEXT);
            printf("%zu. %s\n", i + 1, cell);
            free(cell);
        }
        rc = doc ? CLI_OK : CLI_FAILURE;
        cli_json_free(doc);
    }
    mlops_db_close(db);
    return rc;
}

/* ---- runs, lineage, audit ------------------------------------------------------------------- */

static const cli_column run_columns[] = {
    {"run", "id", CLI_CELL_TEXT},          {"experiment", "experiment", CLI_CELL_TEXT},
    {"name", "name", CLI_CELL_TEXT},       {"status", "status", CLI_CELL_TEXT},
    {"started", "start_us", CLI_CELL_TIME}, {"ended", "end_us", CLI_CELL_TIME},
    {"params", "params", CLI_CELL_TEXT},
};

static int run_run_list(cli_context *ctx)
{
    const char *experiment = NULL;
    cli_flag flags[] = {{"--experiment", CLI_FLAG_VALUE, &experiment}, {0}};
    mlops_db *db = NULL;
    char *json = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_run_list, flags, NULL, 0, 0, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_run_list(&json, db, experiment) != MLOPS_OK)
        rc = cli_fail("listing runs");
    else
        rc = cli_print_document(ctx, json, run_columns, CLI_COUNT(run_columns));
    mlops_db_close(db);
    return rc;
}

static int run_run_show(cli_context *ctx)
{
    static const cli_column point_columns[] = {
        {"step", "step", CLI_CELL_TEXT}, {"value", "value", CLI_CELL_TEXT}, {"time", "time_us", CLI_CELL_TIME},
    };
    static const cli_column fields[] = {
        {"run", "id", CLI_CELL_TEXT},           {"experiment", "experiment", CLI_CELL_TEXT},
        {"name", "name", CLI_CELL_TEXT},        {"status", "status", CLI_CELL_TEXT},
        {"started", "start_us", CLI_CELL_TIME}, {"ended", "end_us", CLI_CELL_TIME},
        {"creator", "creator", CLI_CELL_TEXT},  {"params", "params", CLI_CELL_TEXT},
        {"tags", "tags", CLI_CELL_TEXT},
    };
    const char *id_text = NULL;
    mlops_db *db = NULL;
    char *json = NULL;
    int64_t id = 0;
    cli_json *doc;
    size_t i;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_run_show, NULL, &id_text, 1, 1, NULL)) ||
        (rc = cli_parse_int64(&id, &cli_cmd_run_show, "RUN", id_text)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_run_show(&json, db, id) != MLOPS_OK) {
        rc = cli_fail("showing the run");
    } else if (ctx->json) {
        printf("%s\n", json);
        mlops_free(json);
    } else if (!(doc = cli_json_parse(json))) {
        mlops_free(json);
        rc = CLI_FAILURE;
    } else {
        const cli_json *series = cli_json_get(doc, "metrics");
        mlops_free(json);
        cli_json_fields(doc, fields, CLI_COUNT(fields), stdout);
        for (i = 0; i < cli_json_count(series); i++) {
            printf("\nmetric %s\n", cli_json_key(cli_json_item(series, i)));
            cli_json_table(cli_json_item(series, i), point_columns, CLI_COUNT(point_columns), stdout);
        }
        cli_json_free(doc);
    }
    mlops_db_close(db);
    return rc;
}

static int run_lineage_of(cli_context *ctx)
{
    static const cli_column fields[] = {
        {"model", "model", CLI_CELL_TEXT},       {"version", "version", CLI_CELL_TEXT},
        {"feature views", "feature_views", CLI_CELL_TEXT}, {"as of", "as_of_us", CLI_CELL_TIME},
        {"run", "run_id", CLI_CELL_TEXT},        {"parent", "parent_version", CLI_CELL_TEXT},
    };
    const char *reference = NULL;
    char model[CLI_NAME_CAP], *json = NULL;
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_lineage_of, NULL, &reference, 1, 1, NULL)) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_lineage_of, reference)) == CLI_OK) {
        if (mlops_lineage_of(&json, db, model, version) != MLOPS_OK)
            rc = cli_fail("reading the lineage");
        else
            rc = cli_print_document(ctx, json, fields, CLI_COUNT(fields));
    }
    mlops_db_close(db);
    return rc;
}

static int run_lineage_users(cli_context *ctx)
{
    static const cli_column columns[] = {
        {"model", "model", CLI_CELL_TEXT}, {"version", "version", CLI_CELL_TEXT},
        {"view version", "view_version", CLI_CELL_TEXT},
    };
    const char *view = NULL, *view_version = NULL;
    cli_flag flags[] = {{"--view-version", CLI_FLAG_VALUE, &view_version}, {0}};
    mlops_db *db = NULL;
    char *json = NULL;
    int64_t number = -1;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_lineage_users, flags, &view, 1, 1, NULL)) ||
        (view_version && (rc = cli_parse_int64(&number, &cli_cmd_lineage_users, "--view-version", view_version))) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_lineage_users(&json, db, view, number) != MLOPS_OK)
        rc = cli_fail("reading the lineage");
    else
        rc = cli_print_document(ctx, json, columns, CLI_COUNT(columns));
    mlops_db_close(db);
    return rc;
}

static int run_audit_list(cli_context *ctx)
{
    static const cli_column columns[] = {
        {"seq", "seq", CLI_CELL_TEXT},       {"time", "time_us", CLI_CELL_TIME}, {"actor", "actor", CLI_CELL_TEXT},
        {"action", "action", CLI_CELL_TEXT}, {"object", "object", CLI_CELL_TEXT}, {"details", "details", CLI_CELL_TEXT},
    };
    const char *after = NULL, *limit = NULL;
    cli_flag flags[] = {{"--after", CLI_FLAG_VALUE, &after}, {"--limit", CLI_FLAG_VALUE, &limit}, {0}};
    mlops_db *db = NULL;
    char *json = NULL;
    int64_t after_seq = 0, count = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_audit_list, flags, NULL, 0, 0, NULL)) ||
        (after && (rc = cli_parse_int64(&after_seq, &cli_cmd_audit_list, "--after", after))) ||
        (limit && (rc = cli_parse_int64(&count, &cli_cmd_audit_list, "--limit", limit))) ||
        (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_audit_list(&json, db, after_seq, count) != MLOPS_OK)
        rc = cli_fail("listing the audit log");
    else
        rc = cli_print_document(ctx, json, columns, CLI_COUNT(columns));
    mlops_db_close(db);
    return rc;
}

static int run_audit_verify(cli_context *ctx)
{
    mlops_db *db = NULL;
    int64_t first_bad = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_audit_verify, NULL, NULL, 0, 0, NULL)) ||
        (rc = cli_open_db(&db, ctx, "{\"create\": false}")))
        return rc;
    if (mlops_audit_verify(&first_bad, db) != MLOPS_OK) {
        if (ctx->json)
            printf("{\"ok\": false, \"first_bad\": %lld}\n", (long long)first_bad);
        rc = cli_fail("verifying the audit chain");
    } else if (ctx->json) {
        printf("{\"ok\": true, \"first_bad\": 0}\n");
    } else {
        printf("ok: the audit chain is intact\n");
    }
    mlops_db_close(db);
    return rc;
}

/* ---- bundles ---------------------------------------------------------------------------------- */

/* Read a key file: `bytes` bytes as hexadecimal text. */
static int read_key(uint8_t *key, size_t bytes, const char *path)
{
    char *text = cli_read_file(path, NULL);
    size_t i, len;
    int rc = CLI_OK;
    if (!text)
        return CLI_FAILURE;
    len = strcspn(text, "\r\n");
    for (i = 0; i < bytes && len == bytes * 2; i++) {
        unsigned byte;
        if (sscanf(text + 2 * i, "%2x", &byte) != 1)
            break;
        key[i] = (uint8_t)byte;
    }
    if (i != bytes) {
        fprintf(stderr, "mlops: \"%s\" is not a key file (%zu hexadecimal bytes on one line)\n", path, bytes);
        rc = CLI_FAILURE;
    }
    free(text);
    return rc;
}

/* Write `bytes` bytes of `key` as hexadecimal text to a new file with permissions `mode`. */
static int write_key(const char *path, const uint8_t *key, size_t bytes, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
    FILE *file = fd >= 0 ? fdopen(fd, "w") : NULL;
    size_t i;
    int ok;
    if (!file) {
        fprintf(stderr, "mlops: cannot create \"%s\": %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return CLI_FAILURE;
    }
    for (i = 0; i < bytes; i++)
        fprintf(file, "%02x", key[i]);
    fputc('\n', file);
    ok = fclose(file) == 0;
    if (!ok)
        fprintf(stderr, "mlops: cannot write \"%s\"\n", path);
    return ok ? CLI_OK : CLI_FAILURE;
}

static int run_bundle_keygen(cli_context *ctx)
{
    uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES], secret_key[MLOPS_BUNDLE_SECRET_KEY_BYTES];
    const char *prefix = NULL;
    char path[4096];
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_bundle_keygen, NULL, &prefix, 1, 1, NULL)))
        return rc;
    if (mlops_bundle_keygen(public_key, secret_key) != MLOPS_OK)
        return cli_fail("making a key pair");
    snprintf(path, sizeof path, "%s.key", prefix);
    if ((rc = write_key(path, secret_key, sizeof secret_key, 0600)))
        return rc;
    snprintf(path, sizeof path, "%s.pub", prefix);
    if ((rc = write_key(path, public_key, sizeof public_key, 0644)))
        return rc;
    printf("wrote %s.key (secret: keep it) and %s.pub (public: give it to 'mlops bundle trust')\n", prefix, prefix);
    return CLI_OK;
}

static int run_bundle_export(cli_context *ctx)
{
    const char *args[2] = {NULL, NULL}, *sign = NULL;
    cli_flag flags[] = {{"--sign", CLI_FLAG_VALUE, &sign}, {0}};
    uint8_t secret_key[MLOPS_BUNDLE_SECRET_KEY_BYTES];
    char model[CLI_NAME_CAP];
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_bundle_export, flags, args, 2, 2, NULL)) ||
        (sign && (rc = read_key(secret_key, sizeof secret_key, sign))) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if ((rc = cli_resolve(model, sizeof model, &version, db, &cli_cmd_bundle_export, args[0])) == CLI_OK) {
        if (mlops_bundle_export(db, model, version, args[1], sign ? secret_key : NULL) != MLOPS_OK)
            rc = cli_fail("exporting");
        else
            printf("exported %s@%lld to %s%s\n", model, (long long)version, args[1], sign ? " (signed)" : "");
    }
    mlops_db_close(db);
    return rc;
}

static int run_bundle_import(cli_context *ctx)
{
    const char *path = NULL;
    mlops_db *db = NULL;
    char *model = NULL;
    int64_t version = 0;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_bundle_import, NULL, &path, 1, 1, NULL)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_bundle_import(&version, &model, db, path) != MLOPS_OK) {
        rc = cli_fail("importing");
    } else if (ctx->json) {
        printf("{\"model\": ");
        cli_json_string(stdout, model);
        printf(", \"version\": %lld}\n", (long long)version);
    } else {
        printf("imported %s@%lld\n", model, (long long)version);
    }
    mlops_free(model);
    mlops_db_close(db);
    return rc;
}

static int run_bundle_trust(cli_context *ctx)
{
    const char *path = NULL, *name = NULL;
    cli_flag flags[] = {{"--name", CLI_FLAG_VALUE, &name}, {0}};
    uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES];
    mlops_db *db = NULL;
    int rc;
    if ((rc = cli_parse_args(ctx, &cli_cmd_bundle_trust, flags, &path, 1, 1, NULL)) ||
        (rc = read_key(public_key, sizeof public_key, path)) || (rc = cli_open_db(&db, ctx, NULL)))
        return rc;
    if (mlops_bundle_trust_key(db, public_key, name ? name : path) != MLOPS_OK)
        rc = cli_fail("trusting the key");
    else
        printf("trusting bundles signed by %s; unsigned bundles are refused from now on\n", name ? name : path);
    mlops_db_close(db);
    return rc;
}

/* ---- the commands ------------------------------------------------------------------------------ */

const cli_command cli_cmd_model_create = {
    "model create", "create a model (registering creates it too)",
    "usage: mlops [--db FILE] model create NAME [--description TEXT] [--tags JSON]\n\n"
    "Create the model NAME; fails when it exists.\n\n"
    "options:\n"
    "  --description TEXT  what the model does\n"
    "  --tags JSON         an object of strings, e.g. '{\"team\": \"risk\"}'\n\n"
    "example:\n  mlops model create fraud --description 'card fraud scorer' --tags '{\"team\": \"risk\"}'\n",
    run_model_create,
};
const cli_command cli_cmd_model_list = {
    "model list", "list the models with their versions and aliases",
    "usage: mlops [--db FILE] [--json] model list\n\n"
    "One row per model: versions, latest version, aliases, creation.\n\n"
    "example:\n  mlops --json model list\n",
    run_model_list,
};
const cli_command cli_cmd_model_show = {
    "model show", "show a model, its aliases and gates",
    "usage: mlops [--db FILE] [--json] model show NAME\n\n"
    "example:\n  mlops model show fraud\n",
    run_model_show,
};
const cli_command cli_cmd_version_register = {
    "version register", "register an ONNX file as the next version of a model",
    "usage: mlops [--db FILE] [--json] version register NAME FILE.onnx [options]\n\n"
    "Store FILE.onnx as the next version of NAME (the model is created when\n"
    "absent). The signature (input and output names, types and shapes, -1 for\n"
    "the batch) is read from the ONNX graph unless --signature gives one.\n\n"
    "options:\n"
    "  --tags JSON         version tags, an object of strings\n"
    "  --metadata JSON     any JSON object\n"
    "  --signature JSON    the signature instead of the graph's\n"
    "  --run ID            the run that produced it\n"
    "  --parent N          the version it derives from\n"
    "  --lineage JSON      {\"feature_views\": [{\"name\": v, \"version\": n}], \"as_of_us\": t}\n"
    "  --description TEXT  description of a model created here\n"
    "  --zstd-level N      artifact compression level (default 3)\n\n"
    "example:\n  mlops version register digits digits_mlp.onnx --tags '{\"stage\": \"dev\"}'\n",
    run_version_register,
};
const cli_command cli_cmd_version_list = {
    "version list", "list the versions of a model, newest first",
    "usage: mlops [--db FILE] [--json] version list NAME [--tag KEY=VALUE]... [--metric EXPR] [--limit N]\n\n"
    "options:\n"
    "  --tag KEY=VALUE  only versions with this tag (repeatable; all must match)\n"
    "  --metric EXPR    only versions whose latest value passes, e.g. \"auc >= 0.9\"\n"
    "  --limit N        at most N versions\n\n"
    "example:\n  mlops version list fraud --tag stage=prod --metric 'auc >= 0.9'\n",
    run_version_list,
};
const cli_command cli_cmd_version_show = {
    "version show", "show a version: artifact, signature, metrics, approvals",
    "usage: mlops [--db FILE] [--json] version show NAME@REF\n\n"
    "REF is a version number or an alias.\n\n"
    "example:\n  mlops version show fraud@production\n",
    run_version_show,
};
const cli_command cli_cmd_version_approve = {
    "version approve", "approve a version as the database's actor",
    "usage: mlops [--db FILE] version approve NAME@REF [--note TEXT]\n\n"
    "The actor is $USER (gates count distinct approvers).\n\n"
    "example:\n  USER=alice mlops version approve fraud@3 --note 'reviewed the holdout'\n",
    run_version_approve,
};
const cli_command cli_cmd_metrics_log = {
    "metrics log", "record an evaluation metric of a version",
    "usage: mlops [--db FILE] metrics log NAME@REF METRIC VALUE [--ci LOW,HIGH] [--dataset NAME] [--time TIME]\n\n"
    "options:\n"
    "  --ci LOW,HIGH   confidence interval\n"
    "  --dataset NAME  the dataset it was measured on\n"
    "  --time TIME     when (ISO 8601 or microseconds; default now)\n\n"
    "example:\n  mlops metrics log fraud@3 auc 0.91 --ci 0.89,0.93 --dataset holdout-2024\n",
    run_metrics_log,
};
const cli_command cli_cmd_metrics_list = {
    "metrics list", "list the evaluation metrics of a version",
    "usage: mlops [--db FILE] [--json] metrics list NAME@REF\n\n"
    "example:\n  mlops metrics list fraud@production\n",
    run_metrics_list,
};
const cli_command cli_cmd_alias_set = {
    "alias set", "point an alias at a version (checked by its gate)",
    "usage: mlops [--db FILE] alias set NAME@ALIAS VERSION\n\n"
    "VERSION is a number or another alias of the model. A gate on the alias\n"
    "refuses the move (exit 1) with the failing rule and the values compared.\n\n"
    "example:\n  mlops alias set fraud@production 3\n",
    run_alias_set,
};
const cli_command cli_cmd_alias_rollback = {
    "alias rollback", "move an alias back to its previous version",
    "usage: mlops [--db FILE] alias rollback NAME@ALIAS\n\n"
    "Not gated; repeated rollbacks walk further back.\n\n"
    "example:\n  mlops alias rollback fraud@production\n",
    run_alias_rollback,
};
const cli_command cli_cmd_alias_history = {
    "alias history", "every move of an alias, oldest first",
    "usage: mlops [--db FILE] [--json] alias history NAME@ALIAS\n\n"
    "example:\n  mlops alias history fraud@production\n",
    run_alias_history,
};
const cli_command cli_cmd_alias_at = {
    "alias at", "the version an alias pointed at, at a past time",
    "usage: mlops [--db FILE] [--json] alias at NAME@ALIAS TIME\n\n"
    "TIME is ISO 8601 (UTC) or microseconds since the epoch.\n\n"
    "example:\n  mlops alias at fraud@production 2026-03-01T12:00:00Z\n",
    run_alias_at,
};
const cli_command cli_cmd_gate_set = {
    "gate set", "attach a gate policy (JSON file) to an alias",
    "usage: mlops [--db FILE] gate set NAME@ALIAS POLICY.json\n\n"
    "POLICY.json is {\"rules\": [...]} with rules metric_min, metric_max,\n"
    "better_than_current, profile_attached, approvals (see docs/registry.md).\n\n"
    "example:\n  mlops gate set fraud@production production-gate.json\n",
    run_gate_set,
};
const cli_command cli_cmd_gate_get = {
    "gate get", "show the gate policy of an alias",
    "usage: mlops [--db FILE] [--json] gate get NAME@ALIAS\n\n"
    "example:\n  mlops gate get fraud@production\n",
    run_gate_get,
};
const cli_command cli_cmd_run_list = {
    "run list", "list training runs, newest first",
    "usage: mlops [--db FILE] [--json] run list [--experiment NAME]\n\n"
    "example:\n  mlops run list --experiment fraud-training\n",
    run_run_list,
};
const cli_command cli_cmd_run_show = {
    "run show", "show a run: params, tags, status, metric series",
    "usage: mlops [--db FILE] [--json] run show RUN\n\n"
    "example:\n  mlops run show 12\n",
    run_run_show,
};
const cli_command cli_cmd_lineage_of = {
    "lineage of", "what a version was trained on",
    "usage: mlops [--db FILE] [--json] lineage of NAME@REF\n\n"
    "Feature views and their definition versions, the as-of time, run, parent.\n\n"
    "example:\n  mlops lineage of fraud@production\n",
    run_lineage_of,
};
const cli_command cli_cmd_lineage_users = {
    "lineage users", "the versions trained on a feature view",
    "usage: mlops [--db FILE] [--json] lineage users VIEW [--view-version N]\n\n"
    "example:\n  mlops lineage users txn_stats --view-version 3\n",
    run_lineage_users,
};
const cli_command cli_cmd_audit_list = {
    "audit list", "list the audit log, oldest first",
    "usage: mlops [--db FILE] [--json] audit list [--after SEQ] [--limit N]\n\n"
    "example:\n  mlops audit list --after 100 --limit 20\n",
    run_audit_list,
};
const cli_command cli_cmd_audit_verify = {
    "audit verify", "verify the audit chain",
    "usage: mlops [--db FILE] [--json] audit verify\n\n"
    "Exit 1 naming the first entry that was altered, removed or inserted.\n\n"
    "example:\n  mlops audit verify\n",
    run_audit_verify,
};
const cli_command cli_cmd_bundle_export = {
    "bundle export", "write a version to a bundle file (optionally signed)",
    "usage: mlops [--db FILE] bundle export NAME@REF BUNDLE [--sign KEY]\n\n"
    "options:\n"
    "  --sign KEY  sign with the secret key file made by 'mlops bundle keygen'\n\n"
    "example:\n  mlops bundle export fraud@production fraud.mlb --sign release.key\n",
    run_bundle_export,
};
const cli_command cli_cmd_bundle_import = {
    "bundle import", "import a bundle (idempotent)",
    "usage: mlops [--db FILE] [--json] bundle import BUNDLE\n\n"
    "The version gets the model's next number; importing the same bundle again\n"
    "gives the same version. Damaged, tampered or (once keys are trusted)\n"
    "unsigned bundles are refused and change nothing.\n\n"
    "example:\n  mlops --db edge.db bundle import fraud.mlb\n",
    run_bundle_import,
};
const cli_command cli_cmd_bundle_keygen = {
    "bundle keygen", "make an Ed25519 key pair for signing bundles",
    "usage: mlops bundle keygen PREFIX\n\n"
    "Writes PREFIX.key (secret, mode 0600) and PREFIX.pub, as hexadecimal text;\n"
    "existing files are not overwritten.\n\n"
    "example:\n  mlops bundle keygen release\n",
    run_bundle_keygen,
};
const cli_command cli_cmd_bundle_trust = {
    "bundle trust", "trust bundles signed by a public key",
    "usage: mlops [--db FILE] bundle trust KEY.pub [--name NAME]\n\n"
    "From then on the database refuses unsigned bundles and bundles signed by\n"
    "keys it does not trust.\n\n"
    "example:\n  mlops --db edge.db bundle trust release.pub --name release\n",
    run_bundle_trust,
};
