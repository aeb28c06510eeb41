/*
 * Experiment tracking: experiments (created on first use), runs with
 * params, tags, status and start/end times, and metric time series. Each
 * change appends an audit entry whose object is "run:<id>".
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "registry_int.h"

static int run_audit(mlops_db *db, const char *action, int64_t run, const char *details)
{
    char object[48];
    snprintf(object, sizeof object, "run:%lld", (long long)run);
    return mlops__audit_append(db, action, object, details);
}

/* MLOPS_OK when `run` exists; *running tells whether it is still running. */
static int run_find(mlops_db *db, int64_t run, int *running)
{
    int64_t value = 0;
    int rc = mlops__reg_query_int(&value, db, "SELECT status = 'running' FROM reg_run WHERE id = ?1", "i", run);
    if (rc == MLOPS_DONE)
        return mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "run %lld not found", (long long)run);
    if (rc == MLOPS_OK)
        *running = (int)value;
    return rc;
}

static int put_tag(mlops_db *db, int64_t run, const char *key, const char *value)
{
    return mlops__reg_exec(db, "INSERT OR REPLACE INTO reg_run_tag(run_id, key, value) VALUES (?1, ?2, ?3)", "itt",
                           run, key, value);
}

int mlops_run_start(int64_t *run_out, mlops_db *db, const char *experiment, const char *name,
                    const char *params_json, const char *tags_json)
{
    mlops__json *tags = NULL;
    const mlops__json *member;
    char *params = NULL;
    int64_t experiment_id = 0, run = 0;
    int rc;

    if (!run_out)
        return mlops__error_null(MLOPS__REG, "mlops_run_start", "run_out");
    *run_out = 0;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_start", "db");
    if (!experiment)
        return mlops__error_null(MLOPS__REG, "mlops_run_start", "experiment");
    if (!*experiment || strlen(experiment) > 256)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "experiment name must be 1 to 256 characters");
    if ((rc = mlops__reg_json_object(&params, params_json, "run params", 0)))
        return rc;
    rc = mlops__json_parse(&tags, tags_json && *tags_json ? tags_json : "{}", MLOPS__REG, "run tags");
    if (rc)
        goto out_free;
    if (!mlops__json_is_object(tags)) {
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "run tags: $: expected an object");
        goto out_free;
    }
    for (member = mlops__json_first(tags); member; member = mlops__json_next(member)) {
        if (!mlops__json_is_string(member)) {
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "run tags: $.%s: expected a string", mlops__json_key(member));
            goto out_free;
        }
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_query_int(&experiment_id, db, "SELECT id FROM reg_experiment WHERE name = ?1", "t", experiment);
    if (rc == MLOPS_DONE) {
        rc = mlops__reg_exec(db, "INSERT INTO reg_experiment(name, created_us) VALUES (?1, ?2)", "ti", experiment,
                             mlops__now_us());
        experiment_id = mlops__db_last_insert_rowid(db);
    }
    if (rc == MLOPS_OK) {
        rc = mlops__reg_exec(db, "INSERT INTO reg_run(experiment_id, name, params, status, start_us, creator)"
                                 " VALUES (?1, ?2, ?3, 'running', ?4, ?5)", "ittit", experiment_id, name ? name : "",
                             params, mlops__now_us(), mlops__db_actor(db));
        run = mlops__db_last_insert_rowid(db);
    }
    for (member = mlops__json_first(tags); rc == MLOPS_OK && member; member = mlops__json_next(member))
        rc = put_tag(db, run, mlops__json_key(member), mlops__json_string(member));
    if (rc == MLOPS_OK)
        rc = run_audit(db, "run.start", run, params);
    rc = mlops__tx_end(db, rc);
    if (rc == MLOPS_OK)
        *run_out = run;
out_free:
    mlops__json_free(tags);
    mlops__free(params);
    return rc;
}

/* The changes that a running run takes. */
typedef enum run_change_kind { RUN_METRIC, RUN_TAG, RUN_END } run_change_kind;

typedef struct run_change_args {
    run_change_kind kind;
    const char *key;      /* metric key or tag key */
    const char *text;     /* tag value or end status */
    double value;
    int64_t step;
    int64_t time_us;
} run_change_args;

/* Apply one change to a running run, with its audit entry, in one transaction. */
static int run_change(mlops_db *db, int64_t run, const run_change_args *change, const char *details)
{
    static const char *const actions[] = {"run.metric", "run.tag", "run.end"};
    int running = 0;
    int rc = mlops__tx_begin(db);
    if (rc)
        return rc;
    rc = run_find(db, run, &running);
    if (rc == MLOPS_OK && !running)
        rc = mlops__error(MLOPS_ESTATE, MLOPS__REG, "run %lld has ended", (long long)run);
    if (rc == MLOPS_OK && change->kind == RUN_METRIC)
        rc = mlops__reg_exec(db, "INSERT INTO reg_run_metric(run_id, key, step, value, time_us)"
                                 " VALUES (?1, ?2, ?3, ?4, ?5)",
                             "itidi", run, change->key, change->step, change->value, change->time_us);
    else if (rc == MLOPS_OK && change->kind == RUN_TAG)
        rc = put_tag(db, run, change->key, change->text);
    else if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "UPDATE reg_run SET status = ?1, end_us = ?2 WHERE id = ?3", "tii", change->text,
                             change->time_us, run);
    if (rc == MLOPS_OK)
        rc = run_audit(db, actions[change->kind], run, details);
    return mlops__tx_end(db, rc);
}

int mlops_run_log_metric(mlops_db *db, int64_t run, const char *key, double value, int64_t step, int64_t time_us)
{
    char number[40];
    mlops__buf details;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_log_metric", "db");
    if (!key)
        return mlops__error_null(MLOPS__REG, "mlops_run_log_metric", "key");
    if (!*key || strlen(key) > 128)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "run %lld: metric key must be 1 to 128 characters",
                            (long long)run);
    if (!isfinite(value))
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "run %lld: metric \"%s\" step %lld: value is not finite",
                            (long long)run, key, (long long)step);
    mlops__format_double(number, sizeof number, value);
    mlops__buf_init(&details);
    mlops__buf_puts(&details, "{\"key\":");
    mlops__buf_json_string(&details, key);
    mlops__buf_printf(&details, ",\"step\":%lld,\"value\":%s}", (long long)step, number);
    rc = mlops__buf_status(&details, MLOPS__REG);
    if (rc == MLOPS_OK) {
        run_change_args change = {RUN_METRIC, key, NULL, value, step, time_us ? time_us : mlops__now_us()};
        rc = run_change(db, run, &change, details.data);
    }
    mlops__buf_free(&details);
    return rc;
}

int mlops_run_set_tag(mlops_db *db, int64_t run, const char *key, const char *value)
{
    mlops__buf details;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_set_tag", "db");
    if (!key)
        return mlops__error_null(MLOPS__REG, "mlops_run_set_tag", "key");
    if (!value)
        return mlops__error_null(MLOPS__REG, "mlops_run_set_tag", "value");
    if (!*key)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "run %lld: tag key must not be empty", (long long)run);
    mlops__buf_init(&details);
    mlops__buf_putc(&details, '{');
    mlops__buf_json_string(&details, key);
    mlops__buf_putc(&details, ':');
    mlops__buf_json_string(&details, value);
    mlops__buf_putc(&details, '}');
    rc = mlops__buf_status(&details, MLOPS__REG);
    if (rc == MLOPS_OK) {
        run_change_args change = {RUN_TAG, key, value, 0, 0, 0};
        rc = run_change(db, run, &change, details.data);
    }
    mlops__buf_free(&details);
    return rc;
}

int mlops_run_end(mlops_db *db, int64_t run, const char *status)
{
    run_change_args change = {RUN_END, NULL, status, 0, 0, 0};
    char details[64];
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_end", "db");
    if (!status)
        return mlops__error_null(MLOPS__REG, "mlops_run_end", "status");
    if (strcmp(status, "finished") != 0 && strcmp(status, "failed") != 0 && strcmp(status, "killed") != 0)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG,
                            "run %lld: status \"%s\" is not one of \"finished\", \"failed\", \"killed\"",
                            (long long)run, status);
    snprintf(details, sizeof details, "{\"status\":\"%s\"}", status);
    change.time_us = mlops__now_us();
    return run_change(db, run, &change, details);
}

static int run_json(mlops__buf *buf, mlops_db *db, int64_t run, int with_metrics)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    char number[40];
    int rc = mlops__reg_prepare(&stmt, db,
                                "SELECT e.name, r.name, r.params, r.status, r.start_us, r.end_us, r.creator"
                                " FROM reg_run r JOIN reg_experiment e ON e.id = r.experiment_id WHERE r.id = ?1",
                                "i", run);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        mlops__buf_printf(buf, "{\"id\":%lld,\"experiment\":", (long long)run);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_puts(buf, ",\"name\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 1));
        mlops__buf_printf(buf, ",\"params\":%s,\"status\":", mlops__stmt_text(stmt, 2));
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 3));
        mlops__buf_printf(buf, ",\"start_us\":%lld,\"end_us\":", (long long)mlops__stmt_int64(stmt, 4));
        if (mlops__stmt_is_null(stmt, 5))
            mlops__buf_puts(buf, "null");
        else
            mlops__buf_printf(buf, "%lld", (long long)mlops__stmt_int64(stmt, 5));
        mlops__buf_puts(buf, ",\"creator\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 6));
        rc = MLOPS_OK;
    } else if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "run %lld not found", (long long)run);
    }
    mlops__stmt_release(stmt);
    if (rc)
        return rc;
    mlops__buf_puts(buf, ",\"tags\":{");
    rc = mlops__reg_prepare(&stmt, db, "SELECT key, value FROM reg_run_tag WHERE run_id = ?1 ORDER BY key", "i", run);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(buf, sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_putc(buf, ':');
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 1));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_putc(buf, '}');
    if (with_metrics) {
        const char *key_sep = "";
        char last_key[160] = "";
        int open = 0;
        mlops__buf_puts(buf, ",\"metrics\":{");
        rc = mlops__reg_prepare(&stmt, db, "SELECT key, step, value, time_us FROM reg_run_metric WHERE run_id = ?1"
                                           " ORDER BY key, step, time_us", "i", run);
        while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
            const char *key = mlops__stmt_text(stmt, 0);
            if (!open || strcmp(key, last_key) != 0) {
                mlops__buf_puts(buf, open ? "]" : "");
                mlops__buf_puts(buf, key_sep);
                mlops__buf_json_string(buf, key);
                mlops__buf_puts(buf, ":[");
                snprintf(last_key, sizeof last_key, "%s", key);
                key_sep = ",";
                sep = "";
                open = 1;
            }
            mlops__format_double(number, sizeof number, mlops__stmt_double(stmt, 2));
            mlops__buf_printf(buf, "%s{\"step\":%lld,\"value\":%s,\"time_us\":%lld}", sep,
                              (long long)mlops__stmt_int64(stmt, 1), number, (long long)mlops__stmt_int64(stmt, 3));
            sep = ",";
            rc = MLOPS_OK;
        }
        mlops__stmt_release(stmt);
        if (rc != MLOPS_DONE)
            return rc;
        mlops__buf_puts(buf, open ? "]}" : "}");
    }
    mlops__buf_putc(buf, '}');
    return mlops__buf_status(buf, MLOPS__REG);
}

int mlops_run_show(char **json_out, mlops_db *db, int64_t run)
{
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_run_show", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_show", "db");
    mlops__buf_init(&buf);
    rc = run_json(&buf, db, run, 1);
    return mlops__reg_json_detach(json_out, &buf, rc);
}

int mlops_run_list(char **json_out, mlops_db *db, const char *experiment)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_run_list", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_run_list", "db");
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db, "SELECT r.id FROM reg_run r JOIN reg_experiment e ON e.id = r.experiment_id"
                                       " WHERE ?1 IS NULL OR e.name = ?1 ORDER BY r.start_us DESC, r.id DESC", "T",
                            experiment);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(&buf, sep);
        rc = run_json(&buf, db, mlops__stmt_int64(stmt, 0), 0);
        sep = ",";
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_list_end(json_out, &buf, rc);
}
