/*
 * Aliases: names pointing a model at a version, every move kept in the
 * alias history (which answers "what did it point at, at time t"), gate
 * policies checked in the same transaction as the move, rollback, and the
 * resolution of "name@alias" and "name@7" references.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry_int.h"

/* ---- gate policies ------------------------------------------------------------------------------------- */

static int check_rule(const mlops__json *rule, const char *path)
{
    static const char *const metric_min_keys[] = {"rule", "metric", "min", "dataset", NULL};
    static const char *const metric_max_keys[] = {"rule", "metric", "max", "dataset", NULL};
    static const char *const better_keys[] = {"rule", "metric", "margin", "higher_is_better", "use_ci_low", "dataset",
                                              NULL};
    static const char *const profile_keys[] = {"rule", NULL};
    static const char *const approval_keys[] = {"rule", "min", NULL};
    const char *kind = NULL, *metric = NULL, *dataset = NULL;
    double number = NAN;
    int64_t count = -1;
    int flag = 0, rc;

    if (!mlops__json_is_object(rule))
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "gate policy: %s: expected an object", path);
    if (mlops__json_opt_string(&kind, rule, "rule", path, MLOPS__REG) != MLOPS_OK)
        return mlops__error_prefix("gate policy");
    if (!kind)
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG, "gate policy: %s.rule: missing", path);
    if (strcmp(kind, "metric_min") == 0 || strcmp(kind, "metric_max") == 0) {
        int is_min = strcmp(kind, "metric_min") == 0;
        const char *bound = is_min ? "min" : "max";
        rc = mlops__json_check_keys(rule, path, MLOPS__REG, is_min ? metric_min_keys : metric_max_keys);
        if (!rc)
            rc = mlops__json_opt_double(&number, rule, bound, path, MLOPS__REG, -HUGE_VAL, HUGE_VAL);
        if (!rc && isnan(number))
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s.%s: missing", path, bound);
    } else if (strcmp(kind, "better_than_current") == 0) {
        number = 0;
        rc = mlops__json_check_keys(rule, path, MLOPS__REG, better_keys);
        if (!rc)
            rc = mlops__json_opt_double(&number, rule, "margin", path, MLOPS__REG, 0, HUGE_VAL);
        if (!rc)
            rc = mlops__json_opt_bool(&flag, rule, "higher_is_better", path, MLOPS__REG);
        if (!rc)
            rc = mlops__json_opt_bool(&flag, rule, "use_ci_low", path, MLOPS__REG);
    } else if (strcmp(kind, "profile_attached") == 0) {
        return mlops__json_check_keys(rule, path, MLOPS__REG, profile_keys) ? mlops__error_prefix("gate policy")
                                                                              : MLOPS_OK;
    } else if (strcmp(kind, "approvals") == 0) {
        rc = mlops__json_check_keys(rule, path, MLOPS__REG, approval_keys);
        if (!rc)
            rc = mlops__json_opt_int(&count, rule, "min", path, MLOPS__REG, 1, 1000);
        if (!rc && count < 0)
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s.min: missing", path);
        return rc ? mlops__error_prefix("gate policy") : MLOPS_OK;
    } else {
        return mlops__error(MLOPS_EFORMAT, MLOPS__REG,
                            "gate policy: %s.rule: unknown rule \"%s\" (metric_min, metric_max, better_than_current,"
                            " profile_attached, approvals)", path, kind);
    }
    if (!rc)
        rc = mlops__json_opt_string(&metric, rule, "metric", path, MLOPS__REG);
    if (!rc)
        rc = mlops__json_opt_string(&dataset, rule, "dataset", path, MLOPS__REG);
    if (!rc && (!metric || !*metric))
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s.metric: missing", path);
    return rc ? mlops__error_prefix("gate policy") : MLOPS_OK;
}

/* Parse and validate a policy document; *out owns the parsed tree. */
static int parse_policy(mlops__json **out, const char *text)
{
    static const char *const keys[] = {"rules", NULL};
    const mlops__json *rules;
    char path[48];
    size_t i;
    int rc = mlops__json_parse(out, text, MLOPS__REG, "gate policy");
    if (rc)
        return rc;
    if ((rc = mlops__json_check_keys(*out, "$", MLOPS__REG, keys))) {
        mlops__error_prefix("gate policy");
        goto out_free;
    }
    rules = mlops__json_get(*out, "rules");
    if (!rules || !mlops__json_is_array(rules)) {
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "gate policy: $.rules: expected an array");
        goto out_free;
    }
    for (i = 0; i < mlops__json_array_size(rules); i++) {
        snprintf(path, sizeof path, "$.rules[%zu]", i);
        if ((rc = check_rule(mlops__json_at(rules, i), path)))
            goto out_free;
    }
    return MLOPS_OK;
out_free:
    mlops__json_free(*out);
    *out = NULL;
    return rc;
}

typedef struct move_ctx {
    mlops_db *db;
    const char *model;
    const char *alias;
    int64_t model_id;
    int64_t version;
    int64_t version_id;
    int64_t current;       /* version number the alias points at now, 0 when unset */
    int64_t current_id;
} move_ctx;

static int refuse(const move_ctx *m, size_t index, const char *kind, const char *what)
{
    return mlops__error(MLOPS_EPOLICY, MLOPS__REG,
                        "model \"%s\" alias \"%s\": gate rule $.rules[%zu] (%s) refuses version %lld: %s", m->model,
                        m->alias, index, kind, (long long)m->version, what);
}

static int missing_metric(const move_ctx *m, size_t index, const char *kind, int64_t version, const char *metric)
{
    return mlops__error(MLOPS_EPOLICY, MLOPS__REG,
                        "model \"%s\" alias \"%s\": gate rule $.rules[%zu] (%s) refuses version %lld: version %lld has"
                        " no metric \"%s\"", m->model, m->alias, index, kind, (long long)m->version,
                        (long long)version, metric);
}

/* Shortest text that reads back as the same double. */
typedef struct number_text {
    char text[40];
} number_text;

static number_text num(double value)
{
    number_text out = {{0}};
    mlops__format_double(out.text, sizeof out.text, value);
    return out;
}

static int eval_rule(const move_ctx *m, const mlops__json *rule, size_t index)
{
    const char *kind = mlops__json_string(mlops__json_get(rule, "rule"));
    const char *metric = NULL, *dataset = NULL;
    double value = 0, ci_low = 0, current = 0, current_ci = 0, limit;
    char what[400];
    int has_ci = 0, current_has_ci = 0, rc;
    int64_t count = 0;

    mlops__json_opt_string(&metric, rule, "metric", "$", MLOPS__REG);
    mlops__json_opt_string(&dataset, rule, "dataset", "$", MLOPS__REG);
    if (strcmp(kind, "profile_attached") == 0) {
        rc = mlops__reg_query_int(&count, m->db, "SELECT profile IS NOT NULL FROM reg_version WHERE id = ?1", "i",
                                  m->version_id);
        if (rc)
            return rc;
        return count ? MLOPS_OK : refuse(m, index, kind, "no reference profile is attached");
    }
    if (strcmp(kind, "approvals") == 0) {
        limit = mlops__json_number(mlops__json_get(rule, "min"));
        rc = mlops__reg_query_int(&count, m->db, "SELECT count(DISTINCT actor) FROM reg_approval WHERE version_id = ?1",
                                  "i", m->version_id);
        if (rc)
            return rc;
        if ((double)count >= limit)
            return MLOPS_OK;
        snprintf(what, sizeof what, "%lld distinct approvals, %.0f required", (long long)count, limit);
        return refuse(m, index, kind, what);
    }
    rc = mlops__reg_metric_latest(&value, &ci_low, &has_ci, m->db, m->version_id, metric, dataset);
    if (rc == MLOPS_DONE)
        return missing_metric(m, index, kind, m->version, metric);
    if (rc)
        return rc;
    if (strcmp(kind, "metric_min") == 0) {
        limit = mlops__json_number(mlops__json_get(rule, "min"));
        if (value >= limit)
            return MLOPS_OK;
        snprintf(what, sizeof what, "metric \"%s\" value %s is below the minimum %s", metric, num(value).text,
                 num(limit).text);
        return refuse(m, index, kind, what);
    }
    if (strcmp(kind, "metric_max") == 0) {
        limit = mlops__json_number(mlops__json_get(rule, "max"));
        if (value <= limit)
            return MLOPS_OK;
        snprintf(what, sizeof what, "metric \"%s\" value %s is above the maximum %s", metric, num(value).text,
                 num(limit).text);
        return refuse(m, index, kind, what);
    }
    /* better_than_current */
    {
        double margin = 0, candidate, improvement;
        int higher = 1, use_ci_low = 0;
        mlops__json_opt_double(&margin, rule, "margin", "$", MLOPS__REG, 0, HUGE_VAL);
        mlops__json_opt_bool(&higher, rule, "higher_is_better", "$", MLOPS__REG);
        mlops__json_opt_bool(&use_ci_low, rule, "use_ci_low", "$", MLOPS__REG);
        if (m->current == 0)
            return MLOPS_OK; /* nothing to beat */
        rc = mlops__reg_metric_latest(&current, &current_ci, &current_has_ci, m->db, m->current_id, metric, dataset);
        if (rc == MLOPS_DONE)
            return missing_metric(m, index, kind, m->current, metric);
        if (rc)
            return rc;
        if (use_ci_low && !has_ci)
            return refuse(m, index, kind, "the metric has no confidence interval to take the lower bound of");
        candidate = use_ci_low ? ci_low : value;
        improvement = higher ? candidate - current : current - candidate;
        if (improvement > margin)
            return MLOPS_OK;
        snprintf(what, sizeof what, "metric \"%s\" %s %s does not beat version %lld's %s by more than the"
                 " margin %s", metric, use_ci_low ? "lower confidence bound" : "value", num(candidate).text,
                 (long long)m->current, num(current).text, num(margin).text);
        return refuse(m, index, kind, what);
    }
}

static int check_gate(const move_ctx *m)
{
    mlops__stmt *stmt = NULL;
    mlops__json *policy = NULL;
    const mlops__json *rules;
    size_t i;
    int rc = mlops__reg_prepare(&stmt, m->db, "SELECT policy FROM reg_gate WHERE model_id = ?1 AND alias = ?2", "it",
                                m->model_id, m->alias);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW)
        rc = parse_policy(&policy, mlops__stmt_text(stmt, 0));
    else if (rc == MLOPS_DONE)
        rc = MLOPS_OK;
    mlops__stmt_release(stmt);
    if (rc || !policy)
        return rc;
    rules = mlops__json_get(policy, "rules");
    for (i = 0; rc == MLOPS_OK && i < mlops__json_array_size(rules); i++)
        rc = eval_rule(m, mlops__json_at(rules, i), i);
    mlops__json_free(policy);
    return rc;
}

int mlops_gate_set(mlops_db *db, const char *model, const char *alias, const char *policy_json)
{
    mlops__json *policy = NULL;
    char *compact = NULL;
    int64_t model_id = 0;
    int rc;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_gate_set", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_gate_set", "model");
    if (!alias)
        return mlops__error_null(MLOPS__REG, "mlops_gate_set", "alias");
    if ((rc = mlops__reg_check_alias_name(alias)))
        return rc;
    if (policy_json) {
        if ((rc = parse_policy(&policy, policy_json)))
            return rc;
        compact = mlops__json_print(policy);
        mlops__json_free(policy);
        if (!compact)
            return mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory storing a gate policy");
    }
    if ((rc = mlops__tx_begin(db)))
        goto out_free;
    rc = mlops__reg_model_find(&model_id, db, model);
    if (rc == MLOPS_OK && compact)
        rc = mlops__reg_exec(db, "INSERT OR REPLACE INTO reg_gate(model_id, alias, policy) VALUES (?1, ?2, ?3)",
                             "itt", model_id, alias, compact);
    else if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "DELETE FROM reg_gate WHERE model_id = ?1 AND alias = ?2", "it", model_id, alias);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, compact ? "gate.set" : "gate.delete", model, 0, alias, compact ? compact : "{}");
    rc = mlops__tx_end(db, rc);
out_free:
    mlops__free(compact);
    return rc;
}

int mlops_gate_get(char **json_out, mlops_db *db, const char *model, const char *alias)
{
    mlops__stmt *stmt = NULL;
    int64_t model_id = 0;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_gate_get", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_gate_get", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_gate_get", "model");
    if (!alias)
        return mlops__error_null(MLOPS__REG, "mlops_gate_get", "alias");
    if ((rc = mlops__reg_model_find(&model_id, db, model)) ||
        (rc = mlops__reg_prepare(&stmt, db, "SELECT policy FROM reg_gate WHERE model_id = ?1 AND alias = ?2", "it",
                                 model_id, alias)))
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        *json_out = mlops__strdup(mlops__stmt_text(stmt, 0));
        rc = *json_out ? MLOPS_OK : mlops__error(MLOPS_ENOMEM, MLOPS__REG, "out of memory");
    } else if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" alias \"%s\" has no gate", model, alias);
    }
    mlops__stmt_release(stmt);
    return rc;
}

/* ---- moving aliases -------------------------------------------------------------------------------------- */

/* Fill model and current target of `m` (inside the caller's transaction). */
static int load_current(move_ctx *m)
{
    mlops__stmt *stmt = NULL;
    int rc = mlops__reg_model_find(&m->model_id, m->db, m->model);
    if (rc)
        return rc;
    m->current = 0;
    m->current_id = 0;
    rc = mlops__reg_prepare(&stmt, m->db, "SELECT v.version, v.id FROM reg_alias a JOIN reg_version v"
                                          " ON v.id = a.version_id WHERE a.model_id = ?1 AND a.name = ?2", "it",
                            m->model_id, m->alias);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        m->current = mlops__stmt_int64(stmt, 0);
        m->current_id = mlops__stmt_int64(stmt, 1);
        rc = MLOPS_OK;
    } else if (rc == MLOPS_DONE) {
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}

/* Point the alias at m->version and write history, audit and change records. */
static int move_alias(const move_ctx *m, const char *action)
{
    char details[128];
    int rc = mlops__reg_exec(m->db, "INSERT OR REPLACE INTO reg_alias(model_id, name, version_id) VALUES (?1, ?2, ?3)",
                             "iti", m->model_id, m->alias, m->version_id);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(m->db, "INSERT INTO reg_alias_history(model_id, name, version, previous, action, time_us,"
                                    " actor) VALUES (?1, ?2, ?3, nullif(?4, 0), ?5, ?6, ?7)",
                             "itiitit", m->model_id, m->alias, m->version, m->current, action, mlops__now_us(),
                             mlops__db_actor(m->db));
    snprintf(details, sizeof details, "{\"version\":%lld,\"previous\":%lld}", (long long)m->version,
             (long long)m->current);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(m->db, strcmp(action, "set") == 0 ? "alias.set" : "alias.rollback", m->model,
                               m->version, m->alias, details);
    return rc;
}

static int alias_args(mlops_db *db, const char *model, const char *alias, const char *function)
{
    if (!db)
        return mlops__error_null(MLOPS__REG, function, "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, function, "model");
    if (!alias)
        return mlops__error_null(MLOPS__REG, function, "alias");
    return mlops__reg_check_alias_name(alias);
}

int mlops_alias_set(mlops_db *db, const char *model, const char *alias, int64_t version)
{
    move_ctx m = {db, model, alias, 0, version, 0, 0, 0};
    int rc = alias_args(db, model, alias, "mlops_alias_set");
    if (rc)
        return rc;
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = load_current(&m)) || (rc = mlops__reg_version_find(&m.version_id, db, m.model_id, model, version)))
        goto out_end;
    if (m.current == version)
        goto out_end; /* already there: nothing moves, nothing is recorded */
    if ((rc = check_gate(&m)) == MLOPS_OK)
        rc = move_alias(&m, "set");
out_end:
    return mlops__tx_end(db, rc);
}

int mlops_alias_delete(mlops_db *db, const char *model, const char *alias)
{
    move_ctx m = {db, model, alias, 0, 0, 0, 0, 0};
    char details[64];
    int rc = alias_args(db, model, alias, "mlops_alias_delete");
    if (rc)
        return rc;
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = load_current(&m)))
        goto out_end;
    if (m.current == 0) {
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" has no alias \"%s\"", model, alias);
        goto out_end;
    }
    rc = mlops__reg_exec(db, "DELETE FROM reg_alias WHERE model_id = ?1 AND name = ?2", "it", m.model_id, alias);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "INSERT INTO reg_alias_history(model_id, name, version, previous, action, time_us,"
                                 " actor) VALUES (?1, ?2, NULL, ?3, 'delete', ?4, ?5)",
                             "itiit", m.model_id, alias, m.current, mlops__now_us(), mlops__db_actor(db));
    snprintf(details, sizeof details, "{\"previous\":%lld}", (long long)m.current);
    if (rc == MLOPS_OK)
        rc = mlops__reg_record(db, "alias.delete", model, 0, alias, details);
out_end:
    return mlops__tx_end(db, rc);
}

int mlops_alias_rollback(int64_t *version_out, mlops_db *db, const char *model, const char *alias)
{
    move_ctx m = {db, model, alias, 0, 0, 0, 0, 0};
    mlops__stmt *stmt = NULL;
    int64_t entry = 0, previous = 0;
    int rc;
    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_alias_rollback", "version_out");
    *version_out = 0;
    if ((rc = alias_args(db, model, alias, "mlops_alias_rollback")))
        return rc;
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = load_current(&m)))
        goto out_end;
    if (m.current == 0) {
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" has no alias \"%s\"", model, alias);
        goto out_end;
    }
    /* The move that brought the alias to its current target and has not been rolled back yet. */
    if ((rc = mlops__reg_prepare(&stmt, db, "SELECT id, previous FROM reg_alias_history WHERE model_id = ?1 AND"
                                            " name = ?2 AND action = 'set' AND undone = 0 AND version = ?3"
                                            " ORDER BY id DESC LIMIT 1", "iti", m.model_id, alias, m.current)))
        goto out_end;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        entry = mlops__stmt_int64(stmt, 0);
        previous = mlops__stmt_is_null(stmt, 1) ? 0 : mlops__stmt_int64(stmt, 1);
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc == MLOPS_DONE || (rc == MLOPS_OK && previous == 0))
        rc = mlops__error(MLOPS_ESTATE, MLOPS__REG,
                          "model \"%s\" alias \"%s\": no earlier version to roll back to from version %lld", model,
                          alias, (long long)m.current);
    if (rc)
        goto out_end;
    m.version = previous;
    if ((rc = mlops__reg_version_find(&m.version_id, db, m.model_id, model, previous))) {
        mlops__error_prefix("rollback of alias \"%s\"", alias);
        goto out_end;
    }
    rc = mlops__reg_exec(db, "UPDATE reg_alias_history SET undone = 1 WHERE id = ?1", "i", entry);
    if (rc == MLOPS_OK)
        rc = move_alias(&m, "rollback");
    if (rc == MLOPS_OK)
        *version_out = previous;
out_end:
    return mlops__tx_end(db, rc);
}

int mlops_alias_history(char **json_out, mlops_db *db, const char *model, const char *alias)
{
    mlops__stmt *stmt = NULL;
    int64_t model_id = 0;
    const char *sep = "";
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_alias_history", "json_out");
    *json_out = NULL;
    if ((rc = alias_args(db, model, alias, "mlops_alias_history")) || (rc = mlops__reg_model_find(&model_id, db, model)))
        return rc;
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db, "SELECT time_us, actor, action, version, previous FROM reg_alias_history"
                                       " WHERE model_id = ?1 AND name = ?2 ORDER BY id", "it", model_id, alias);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(&buf, "%s{\"time_us\":%lld,\"actor\":", sep, (long long)mlops__stmt_int64(stmt, 0));
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 1));
        mlops__buf_puts(&buf, ",\"action\":");
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 2));
        if (mlops__stmt_is_null(stmt, 3))
            mlops__buf_puts(&buf, ",\"version\":null");
        else
            mlops__buf_printf(&buf, ",\"version\":%lld", (long long)mlops__stmt_int64(stmt, 3));
        if (mlops__stmt_is_null(stmt, 4))
            mlops__buf_puts(&buf, ",\"previous\":null}");
        else
            mlops__buf_printf(&buf, ",\"previous\":%lld}", (long long)mlops__stmt_int64(stmt, 4));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_list_end(json_out, &buf, rc);
}

int mlops_alias_at(int64_t *version_out, mlops_db *db, const char *model, const char *alias, int64_t time_us)
{
    char when[MLOPS__TIME_TEXT_MAX];
    mlops__stmt *stmt = NULL;
    int64_t model_id = 0;
    int rc;
    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_alias_at", "version_out");
    *version_out = 0;
    if ((rc = alias_args(db, model, alias, "mlops_alias_at")) || (rc = mlops__reg_model_find(&model_id, db, model)))
        return rc;
    rc = mlops__reg_prepare(&stmt, db, "SELECT version FROM reg_alias_history WHERE model_id = ?1 AND name = ?2"
                                       " AND time_us <= ?3 ORDER BY time_us DESC, id DESC LIMIT 1", "iti",
                            model_id, alias, time_us);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW && !mlops__stmt_is_null(stmt, 0)) {
        *version_out = mlops__stmt_int64(stmt, 0);
        rc = MLOPS_OK;
    } else if (rc == MLOPS__ROW || rc == MLOPS_DONE) {
        mlops__time_format_iso8601(when, time_us);
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" alias \"%s\" was not set at %s", model, alias,
                          when);
    }
    mlops__stmt_release(stmt);
    return rc;
}

int mlops_model_resolve(int64_t *version_out, mlops_db *db, const char *reference)
{
    const char *at;
    char model[129];
    int64_t model_id = 0, version_id = 0;
    int rc;
    if (!version_out)
        return mlops__error_null(MLOPS__REG, "mlops_model_resolve", "version_out");
    *version_out = 0;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_model_resolve", "db");
    if (!reference)
        return mlops__error_null(MLOPS__REG, "mlops_model_resolve", "reference");
    at = strchr(reference, '@');
    if (!at || at == reference || (size_t)(at - reference) >= sizeof model || !at[1])
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "reference \"%s\" is not \"name@alias\" or \"name@version\"",
                            reference);
    memcpy(model, reference, (size_t)(at - reference));
    model[at - reference] = '\0';
    at++;
    if (*at >= '0' && *at <= '9') {
        char *end = NULL;
        long long number = strtoll(at, &end, 10);
        if (*end || number <= 0)
            return mlops__error(MLOPS_EINVAL, MLOPS__REG, "reference \"%s\": \"%s\" is not a version number",
                                reference, at);
        rc = mlops__reg_locate(&model_id, &version_id, db, model, number);
        if (rc == MLOPS_OK)
            *version_out = number;
        return rc;
    }
    {
        move_ctx m = {db, model, at, 0, 0, 0, 0, 0};
        if ((rc = mlops__reg_check_alias_name(at)) || (rc = load_current(&m)))
            return rc;
        if (m.current == 0)
            return mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" has no alias \"%s\"", model, at);
        *version_out = m.current;
    }
    return MLOPS_OK;
}
