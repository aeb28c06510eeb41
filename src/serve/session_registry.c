/*
 * Sessions opened from the registry: resolve a reference, read the version's
 * artifact, open a session on it, and fill the version's signature when it
 * has none. The router loads its arms through the same function.
 *
 * This lives in src/serve, not src/infer: serve already sits on both the
 * registry and the inference core, while infer depends on core only and so
 * stays free of SQLite and the registry. The function is declared in
 * mlops/infer.h beside the other ways to open a session.
 */
#include <string.h>

#include "serve_int.h"
#include "../store/store_int.h"

/* Whether the version has a signature: *set_out 1 when set, 0 when empty. */
static int signature_is_set(int *set_out, mlops_db *db, const char *model, int64_t version)
{
    mlops__json *doc = NULL;
    char *text = NULL;
    int rc;
    *set_out = 0;
    if ((rc = mlops_version_show(&text, db, model, version)) != MLOPS_OK)
        return rc;
    rc = mlops__json_parse(&doc, text, SERVE_SUB, "version document");
    if (rc == MLOPS_OK)
        *set_out = mlops__json_is_object(mlops__json_get(doc, "signature"));
    mlops__json_free(doc);
    mlops_free(text);
    return rc;
}

/* Record the session's signature as the version's when the version has none. */
static int signature_fill(mlops_db *db, const char *model, int64_t version, const mlops_session *session)
{
    char *signature = NULL;
    int set = 0, rc;
    if (mlops__db_is_read_only(db))
        return MLOPS_OK;
    if ((rc = signature_is_set(&set, db, model, version)) != MLOPS_OK || set)
        return rc;
    if ((rc = mlops_session_signature(&signature, session)) != MLOPS_OK)
        return rc;
    rc = mlops_version_signature_fill(db, model, version, signature);
    if (rc == MLOPS_ESTATE)
        rc = MLOPS_OK; /* another connection filled it in between */
    mlops_free(signature);
    return rc;
}

int mlops__serve_session_load(mlops_session **out, mlops_db *db, const char *model, int64_t version,
                              const char *options_json, const mlops_frame *calibration)
{
    mlops_session *session = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    if ((rc = mlops_artifact_read(&bytes, &len, db, model, version)) != MLOPS_OK)
        return rc;
    rc = mlops_session_open(&session, bytes, len, options_json, calibration);
    mlops_free(bytes);
    if (rc == MLOPS_OK && (rc = signature_fill(db, model, version, session)) != MLOPS_OK) {
        mlops_session_free(session);
        session = NULL;
    }
    *out = session;
    return rc;
}

int mlops_session_open_registry(mlops_session **out, mlops_db *db, const char *reference, const char *options_json,
                                const mlops_frame *calibration)
{
    const char *at;
    char *model = NULL;
    int64_t version = 0;
    int rc;
    if (out == NULL || db == NULL || reference == NULL)
        return mlops__error_null(SERVE_SUB, "mlops_session_open_registry",
                                 out == NULL ? "out" : db == NULL ? "db" : "reference");
    *out = NULL;
    if ((rc = mlops_model_resolve(&version, db, reference)) != MLOPS_OK) {
        if (rc == MLOPS_ENOTFOUND)
            mlops__error_prefix("reference \"%s\"", reference);
        return rc;
    }
    at = strchr(reference, '@');
    model = mlops__strndup(reference, (size_t)(at - reference));
    if (model == NULL)
        return mlops__error(MLOPS_ENOMEM, SERVE_SUB, "reference \"%s\": out of memory", reference);
    rc = mlops__serve_session_load(out, db, model, version, options_json, calibration);
    if (rc != MLOPS_OK)
        mlops__error_prefix("reference \"%s\" (version %lld)", reference, (long long)version);
    mlops__free(model);
    return rc;
}
