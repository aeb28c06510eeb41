/*
 * Lineage queries, both ways: what a version was trained on (feature views
 * with their definition versions, the as-of system time of the training
 * set, the run and the parent version), and which versions were trained on
 * a given feature view.
 */
#include "registry_int.h"

int mlops_lineage_of(char **json_out, mlops_db *db, const char *model, int64_t version)
{
    int64_t model_id = 0, version_id = 0;
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_of", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_of", "db");
    if (!model)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_of", "model");
    if ((rc = mlops__reg_locate(&model_id, &version_id, db, model, version)))
        return rc;
    mlops__buf_init(&buf);
    mlops__buf_puts(&buf, "{\"model\":");
    mlops__buf_json_string(&buf, model);
    mlops__buf_printf(&buf, ",\"version\":%lld,\"feature_views\":[", (long long)version);
    rc = mlops__reg_prepare(&stmt, db, "SELECT view, view_version FROM reg_lineage WHERE version_id = ?1 ORDER BY view",
                            "i", version_id);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(&buf, "%s{\"name\":", sep);
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 0));
        mlops__buf_printf(&buf, ",\"version\":%lld}", (long long)mlops__stmt_int64(stmt, 1));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    stmt = NULL;
    if (rc == MLOPS_DONE)
        rc = mlops__reg_prepare(&stmt, db, "SELECT as_of_us, run_id, parent_version FROM reg_version WHERE id = ?1", "i",
                                version_id);
    if (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        int column;
        static const char *const names[] = {"as_of_us", "run_id", "parent_version"};
        mlops__buf_putc(&buf, ']');
        for (column = 0; column < 3; column++) {
            if (mlops__stmt_is_null(stmt, column))
                mlops__buf_printf(&buf, ",\"%s\":null", names[column]);
            else
                mlops__buf_printf(&buf, ",\"%s\":%lld", names[column], (long long)mlops__stmt_int64(stmt, column));
        }
        mlops__buf_putc(&buf, '}');
        rc = mlops__buf_status(&buf, MLOPS__REG);
    } else if (rc == MLOPS_DONE) {
        rc = mlops__error(MLOPS_EINTERNAL, MLOPS__REG, "model \"%s\" version %lld vanished", model, (long long)version);
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_detach(json_out, &buf, rc);
}

int mlops_lineage_users(char **json_out, mlops_db *db, const char *view, int64_t view_version)
{
    mlops__stmt *stmt = NULL;
    const char *sep = "";
    mlops__buf buf;
    int rc;
    if (!json_out)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_users", "json_out");
    *json_out = NULL;
    if (!db)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_users", "db");
    if (!view)
        return mlops__error_null(MLOPS__REG, "mlops_lineage_users", "view");
    if (view_version < -1)
        return mlops__error(MLOPS_EINVAL, MLOPS__REG, "feature view \"%s\": definition version %lld is invalid", view,
                            (long long)view_version);
    mlops__buf_init(&buf);
    mlops__buf_putc(&buf, '[');
    rc = mlops__reg_prepare(&stmt, db,
                            "SELECT m.name, v.version, l.view_version FROM reg_lineage l"
                            " JOIN reg_version v ON v.id = l.version_id JOIN reg_model m ON m.id = v.model_id"
                            " WHERE l.view = ?1 AND (?2 < 0 OR l.view_version = ?2) ORDER BY m.name, v.version",
                            "ti", view, view_version);
    while (rc == MLOPS_OK && (rc = mlops__stmt_step(stmt)) == MLOPS__ROW) {
        mlops__buf_printf(&buf, "%s{\"model\":", sep);
        mlops__buf_json_string(&buf, mlops__stmt_text(stmt, 0));
        mlops__buf_printf(&buf, ",\"version\":%lld,\"view_version\":%lld}", (long long)mlops__stmt_int64(stmt, 1),
                          (long long)mlops__stmt_int64(stmt, 2));
        sep = ",";
        rc = MLOPS_OK;
    }
    mlops__stmt_release(stmt);
    return mlops__reg_json_list_end(json_out, &buf, rc);
}
