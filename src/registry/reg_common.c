/*
 * Shared registry services: statement helpers, name checks, lookups, the
 * change record written with every change, and a version's JSON document.
 */
#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "registry_int.h"

static int bind_all(mlops__stmt *stmt, const char *types, va_list ap)
{
    int index = 1, rc = MLOPS_OK;
    const char *t;
    for (t = types; *t && rc == MLOPS_OK; t++, index++) {
        switch (*t) {
        case 'i': rc = mlops__stmt_bind_int64(stmt, index, va_arg(ap, int64_t)); break;
        case 'd': rc = mlops__stmt_bind_double(stmt, index, va_arg(ap, double)); break;
        case 't':
        case 'T': {
            const char *text = va_arg(ap, const char *);
            rc = text ? mlops__stmt_bind_text(stmt, index, text, strlen(text)) : mlops__stmt_bind_null(stmt, index);
            break;
        }
        case 'b': {
            const void *data = va_arg(ap, const void *);
            size_t len = va_arg(ap, size_t);
            rc = mlops__stmt_bind_blob(stmt, index, data, len);
            break;
        }
        case 'n': rc = mlops__stmt_bind_null(stmt, index); break;
        default: rc = mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "bad bind type '%c'", *t); break;
        }
    }
    return rc;
}

static int prepare_v(mlops__stmt **out, mlops_db *db, const char *sql, const char *types, va_list ap)
{
    int rc = mlops__db_prepare(out, db, sql);
    if (rc)
        return rc;
    rc = bind_all(*out, types, ap);
    if (rc) {
        mlops__stmt_release(*out);
        *out = NULL;
    }
    return rc;
}

int mlops__reg_prepare(mlops__stmt **out, mlops_db *db, const char *sql, const char *types, ...)
{
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_v(out, db, sql, types, ap);
    va_end(ap);
    return rc;
}

int mlops__reg_exec(mlops_db *db, const char *sql, const char *types, ...)
{
    mlops__stmt *stmt = NULL;
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_v(&stmt, db, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    while ((rc = mlops__stmt_step(stmt)) == MLOPS__ROW)
        ;
    mlops__stmt_release(stmt);
    return rc == MLOPS_DONE ? MLOPS_OK : rc;
}

int mlops__reg_query_int(int64_t *out, mlops_db *db, const char *sql, const char *types, ...)
{
    mlops__stmt *stmt = NULL;
    va_list ap;
    int rc;
    va_start(ap, types);
    rc = prepare_v(&stmt, db, sql, types, ap);
    va_end(ap);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        *out = mlops__stmt_int64(stmt, 0);
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}

int mlops__reg_check_model_name(const char *name)
{
    size_t len = strlen(name), bad = 0, i;
    if (len == 0 || len > 128)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "model name \"%.40s\" must be 1 to 128 characters", name);
    if (!mlops__utf8_valid(name, len, &bad))
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "model name is not valid UTF-8 at byte %zu", bad);
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == '@' || c == '/' || c == 0x7f)
            return mlops__error(MLOPS_EINVAL, MLOPS__REG,
                                "model name \"%s\": character %zu is not allowed ('@', '/' and controls are "
                                "reserved)", name, i);
    }
    return MLOPS_OK;
}

int mlops__reg_check_alias_name(const char *alias)
{
    size_t len = strlen(alias), i;
    if (len == 0 || len > 64)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "alias \"%.40s\" must be 1 to 64 characters", alias);
    if (alias[0] >= '0' && alias[0] <= '9')
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "alias \"%s\" must not start with a digit", alias);
    for (i = 0; i < len; i++) {
        char c = alias[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
              c == '-' || c == '.'))
            return mlops__error(MLOPS_EINVAL, MLOPS__REG,
                                "alias \"%s\": character %zu is not one of [A-Za-z0-9_.-]", alias, i);
    }
    return MLOPS_OK;
}

int mlops__reg_json_object(char **out, const char *text, const char *what, int strings_only)
{
    mlops__json *doc = NULL, *member;
    int rc;
    *out = NULL;
    if (!text || !*text)
        text = "{}";
    rc = mlops__json_parse(&doc, text, MLOPS__REG, what);
    if (rc)
        return rc;
    if (!mlops__json_is_object(doc)) {
        rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: $: expected an object", what);
        goto out_free_doc;
    }
    for (member = mlops__json_first(doc); strings_only && member; member = mlops__json_next(member)) {
        if (!mlops__json_is_string(member)) {
            rc = mlops__error(MLOPS_EFORMAT, MLOPS__REG, "%s: $.%s: expected a string", what,
                              mlops__json_key(member));
            goto out_free_doc;
        }
    }
    *out = mlops__json_print(doc);
    if (!*out)
        rc = mlops__error(MLOPS_ENOMEM, MLOPS__REG, "%s: out of memory", what);
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

int mlops__reg_model_find(int64_t *model_id, mlops_db *db, const char *model)
{
    int rc = mlops__reg_query_int(model_id, db, "SELECT id FROM reg_model WHERE name = ?1", "t", model);
    if (rc == MLOPS_DONE)
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" not found", model);
    return rc;
}

int mlops__reg_version_find(int64_t *version_id, mlops_db *db, int64_t model_id, const char *model,
                            int64_t version)
{
    int rc = mlops__reg_query_int(version_id, db, "SELECT id FROM reg_version WHERE model_id = ?1 AND version = ?2",
                                  "ii", model_id, version);
    if (rc == MLOPS_DONE)
        rc = mlops__error(MLOPS_ENOTFOUND, MLOPS__REG, "model \"%s\" version %lld not found", model,
                          (long long)version);
    return rc;
}

int mlops__reg_locate(int64_t *model_id, int64_t *version_id, mlops_db *db, const char *model, int64_t version)
{
    int rc = mlops__reg_model_find(model_id, db, model);
    if (rc == MLOPS_OK)
        rc = mlops__reg_version_find(version_id, db, *model_id, model, version);
    return rc;
}

int mlops__reg_record(mlops_db *db, const char *kind, const char *model, int64_t version, const char *alias,
                      const char *details_json)
{
    mlops__buf object;
    int rc;
    mlops__buf_init(&object);
    mlops__buf_printf(&object, "model:%s", model);
    if (version > 0)
        mlops__buf_printf(&object, "/%lld", (long long)version);
    if (alias && *alias)
        mlops__buf_printf(&object, "@%s", alias);
    rc = mlops__buf_status(&object, MLOPS__REG);
    if (rc == MLOPS_OK)
        rc = mlops__audit_append(db, kind, object.data, details_json);
    if (rc == MLOPS_OK)
        rc = mlops__reg_exec(db, "INSERT INTO reg_change(time_us, kind, model, version, alias) VALUES (?1, ?2, ?3, ?4, ?5)",
                             "ittit", mlops__now_us(), kind, model, version, alias ? alias : "");
    mlops__buf_free(&object);
    return rc;
}

int mlops__reg_metric_latest(double *value, double *ci_low, int *has_ci, mlops_db *db, int64_t version_id,
                             const char *name, const char *dataset)
{
    mlops__stmt *stmt = NULL;
    int rc = mlops__reg_prepare(&stmt, db,
                                "SELECT value, ci_low FROM reg_metric WHERE version_id = ?1 AND name = ?2"
                                " AND (?3 IS NULL OR dataset = ?3) ORDER BY time_us DESC, id DESC LIMIT 1",
                                "itT", version_id, name, dataset);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc == MLOPS__ROW) {
        *value = mlops__stmt_double(stmt, 0);
        *has_ci = !mlops__stmt_is_null(stmt, 1);
        *ci_low = *has_ci ? mlops__stmt_double(stmt, 1) : NAN;
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return rc;
}

static void put_int_or_null(mlops__buf *buf, mlops__stmt *stmt, int column)
{
    if (mlops__stmt_is_null(stmt, column))
        mlops__buf_puts(buf, "null");
    else
        mlops__buf_printf(buf, "%lld", (long long)mlops__stmt_int64(stmt, column));
}

static void put_raw_or_null(mlops__buf *buf, mlops__stmt *stmt, int column)
{
    const char *text = mlops__stmt_is_null(stmt, column) ? NULL : mlops__stmt_text(stmt, column);
    mlops__buf_puts(buf, text ? text : "null");
}

/* The metric, approval, lineage and alias lists of a version. */
static int version_lists_json(mlops__buf *buf, mlops_db *db, int64_t version_id)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    int rc;

    mlops__buf_puts(buf, ",\"metrics\":[");
    rc = mlops__reg_prepare(&stmt, db,
                            "SELECT name, value, ci_low, ci_high, dataset, time_us FROM reg_metric"
                            " WHERE version_id = ?1 ORDER BY id", "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(buf, "%s{\"name\":", sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_puts(buf, ",\"value\":");
        mlops__buf_json_double(buf, mlops__stmt_double(stmt, 1));
        mlops__buf_puts(buf, ",\"ci_low\":");
        mlops__buf_json_double(buf, mlops__stmt_is_null(stmt, 2) ? NAN : mlops__stmt_double(stmt, 2));
        mlops__buf_puts(buf, ",\"ci_high\":");
        mlops__buf_json_double(buf, mlops__stmt_is_null(stmt, 3) ? NAN : mlops__stmt_double(stmt, 3));
        mlops__buf_puts(buf, ",\"dataset\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 4));
        mlops__buf_printf(buf, ",\"time_us\":%lld}", (long long)mlops__stmt_int64(stmt, 5));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(buf, "],\"approvals\":[");
    sep = "";
    rc = mlops__reg_prepare(&stmt, db, "SELECT actor, note, time_us FROM reg_approval WHERE version_id = ?1"
                                       " ORDER BY time_us, actor", "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(buf, "%s{\"actor\":", sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_puts(buf, ",\"note\":");
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 1));
        mlops__buf_printf(buf, ",\"time_us\":%lld}", (long long)mlops__stmt_int64(stmt, 2));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(buf, "],\"feature_views\":[");
    sep = "";
    rc = mlops__reg_prepare(&stmt, db, "SELECT view, view_version FROM reg_lineage WHERE version_id = ?1"
                                       " ORDER BY view", "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(buf, "%s{\"name\":", sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        mlops__buf_printf(buf, ",\"version\":%lld}", (long long)mlops__stmt_int64(stmt, 1));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(buf, "],\"aliases\":[");
    sep = "";
    rc = mlops__reg_prepare(&stmt, db, "SELECT name FROM reg_alias WHERE version_id = ?1 ORDER BY name", "i",
                            version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_puts(buf, sep);
        mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    if (rc != MLOPS_DONE)
        return rc;
    mlops__buf_puts(buf, "]");
    return MLOPS_OK;
}

int mlops__reg_version_json(mlops__buf *buf, mlops_db *db, int64_t version_id)
{
    char hex[2 * MLOPS__SHA256_BYTES + 1];
    mlops__stmt *stmt = NULL;
    int rc = mlops__reg_prepare(&stmt, db,
                                "SELECT m.name, v.version, a.sha256, a.size, v.metadata, v.tags, v.signature,"
                                " v.created_us, v.creator, v.run_id, v.parent_version, v.as_of_us, v.origin,"
                                " length(v.profile)"
                                " FROM reg_version v JOIN reg_model m ON m.id = v.model_id"
                                " JOIN reg_artifact a ON a.id = v.artifact_id WHERE v.id = ?1", "i", version_id);
    if (rc)
        return rc;
    rc = mlops__stmt_step(stmt);
    if (rc != MLOPS__ROW) {
        if (rc == MLOPS_DONE)
            rc = mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "version row %lld vanished", (long long)version_id);
        goto out_release;
    }
    if (mlops__stmt_bytes(stmt, 2) != MLOPS__SHA256_BYTES) {
        rc = mlops__error(MLOPS_ECORRUPT, MLOPS__REG, "model \"%s\" version %lld: artifact hash is damaged",
                          mlops__stmt_text(stmt, 0), (long long)mlops__stmt_int64(stmt, 1));
        goto out_release;
    }
    mlops__hex(hex, mlops__stmt_blob(stmt, 2), MLOPS__SHA256_BYTES);
    mlops__buf_puts(buf, "{\"model\":");
    mlops__buf_json_string(buf, mlops__stmt_text(stmt, 0));
    mlops__buf_printf(buf, ",\"version\":%lld,\"artifact\":{\"sha256\":\"%s\",\"size\":%lld},\"metadata\":",
                      (long long)mlops__stmt_int64(stmt, 1), hex, (long long)mlops__stmt_int64(stmt, 3));
    put_raw_or_null(buf, stmt, 4);
    mlops__buf_puts(buf, ",\"tags\":");
    put_raw_or_null(buf, stmt, 5);
    mlops__buf_puts(buf, ",\"signature\":");
    put_raw_or_null(buf, stmt, 6);
    mlops__buf_printf(buf, ",\"created_us\":%lld,\"creator\":", (long long)mlops__stmt_int64(stmt, 7));
    mlops__buf_json_string(buf, mlops__stmt_text(stmt, 8));
    mlops__buf_puts(buf, ",\"run_id\":");
    put_int_or_null(buf, stmt, 9);
    mlops__buf_puts(buf, ",\"parent_version\":");
    put_int_or_null(buf, stmt, 10);
    mlops__buf_puts(buf, ",\"as_of_us\":");
    put_int_or_null(buf, stmt, 11);
    mlops__buf_puts(buf, ",\"origin\":");
    put_raw_or_null(buf, stmt, 12);
    mlops__buf_puts(buf, ",\"profile_bytes\":");
    put_int_or_null(buf, stmt, 13);
    mlops__stmt_release(stmt);
    stmt = NULL;
    rc = version_lists_json(buf, db, version_id);
    if (rc == MLOPS_OK) {
        mlops__buf_putc(buf, '}');
        rc = mlops__buf_status(buf, MLOPS__REG);
    }
out_release:
    mlops__stmt_release(stmt);
    return rc;
}

int mlops__reg_json_detach(char **json_out, mlops__buf *buf, int rc)
{
    if (rc == MLOPS_OK)
        rc = mlops__buf_status(buf, MLOPS__REG);
    if (rc == MLOPS_OK)
        *json_out = mlops__buf_detach(buf, NULL);
    mlops__buf_free(buf);
    return rc;
}

int mlops__reg_json_list_end(char **json_out, mlops__buf *buf, int rc)
{
    if (rc == MLOPS_DONE) {
        mlops__buf_putc(buf, ']');
        rc = MLOPS_OK;
    }
    return mlops__reg_json_detach(json_out, buf, rc);
}
