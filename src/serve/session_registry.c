/*
 * Sessions opened from the registry: resolve a reference, read the version's
 * artifact, open a session on it, name its input columns after the
 * version's metadata "features", and fill the version's signature when it
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
#include "../infer/infer_int.h"

/* The version's document (its metadata and signature), parsed. */
static int version_document(mlops__json **out, mlops_db *db, const char *model, int64_t version)
{
    char *text = NULL;
    int rc;
    *out = NULL;
    if ((rc = mlops_version_show(&text, db, model, version)) != MLOPS_OK)
        return rc;
    rc = mlops__json_parse(out, text, SERVE_SUB, "version document");
    mlops_free(text);
    return rc;
}

/* Record the session's signature as the version's when the version has none. */
static int signature_fill(mlops_db *db, const char *model, int64_t version, const mlops__json *doc,
                          const mlops_session *session)
{
    char *signature = NULL;
    int rc;
    if (mlops__db_is_read_only(db) || mlops__json_is_object(mlops__json_get(doc, "signature")))
        return MLOPS_OK;
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
    mlops__json *doc = NULL;
    void *bytes = NULL;
    size_t len = 0;
    int rc;
    *out = NULL;
    if ((rc = mlops_artifact_read(&bytes, &len, db, model, version)) != MLOPS_OK)
        return rc;
    rc = mlops_session_open(&session, bytes, len, options_json, calibration);
    mlops_free(bytes);
    if (rc == MLOPS_OK &&
        ((rc = version_document(&doc, db, model, version)) != MLOPS_OK ||
         (rc = mlops__session_set_feature_names(
              session, mlops__json_get(mlops__json_get(doc, "metadata"), "features"))) != MLOPS_OK ||
         (rc = signature_fill(db, model, version, doc, session)) != MLOPS_OK)) {
        mlops_session_free(session);
        session = NULL;
    }
    mlops__json_free(doc);
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
