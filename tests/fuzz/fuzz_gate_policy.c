/*
 * Gate policies: the input is attached as the policy of an alias of a model
 * with two versions, metrics, an approval and a reference profile. A policy
 * is refused with a status and a message, or stored in a form that reads
 * back and is accepted again unchanged; a stored policy is then evaluated by
 * moving the alias, which passes or is refused with a message. Each input
 * runs inside a transaction that is rolled back, so every input meets the
 * same database.
 */
#include <math.h>

#include "store/store_int.h"
#include "fuzz_common.h"

static mlops_db *registry(void)
{
    static mlops_db *db;
    static const char artifact_one[] = "version one", artifact_two[] = "version two";
    int64_t version = 0;
    if (db)
        return db;
    FUZZ_CHECK(mlops_db_open(&db, ":memory:", "{\"actor\":\"fuzz\"}") == MLOPS_OK);
    FUZZ_CHECK(mlops_model_create(db, "m", "gated", NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_register(&version, db, "m", artifact_one, sizeof artifact_one, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_register(&version, db, "m", artifact_two, sizeof artifact_two, NULL) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_metric_log(db, "m", 1, "auc", 0.8, 0.75, 0.85, "holdout", 0) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_metric_log(db, "m", 2, "auc", 0.9, 0.86, 0.94, "holdout", 0) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_metric_log(db, "m", 2, "latency_ms", 4, NAN, NAN, NULL, 0) == MLOPS_OK);
    FUZZ_CHECK(mlops_version_approve(db, "m", 2, "looks good") == MLOPS_OK);
    FUZZ_CHECK(mlops_version_profile_set(db, "m", 2, "profile", 7) == MLOPS_OK);
    FUZZ_CHECK(mlops_alias_set(db, "m", "production", 1) == MLOPS_OK);
    return db;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlops_db *db = registry();
    char *doc = fuzz_strndup(data, size), *stored = NULL, *stored_again = NULL;
    int64_t version = 0;
    int rc;

    FUZZ_CHECK(mlops__tx_begin(db) == MLOPS_OK);
    rc = mlops_gate_set(db, "m", "production", doc);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_gate_get(&stored, db, "m", "production") == MLOPS_OK);
        FUZZ_CHECK(mlops_gate_set(db, "m", "production", stored) == MLOPS_OK);
        FUZZ_CHECK(mlops_gate_get(&stored_again, db, "m", "production") == MLOPS_OK);
        FUZZ_CHECK(strcmp(stored, stored_again) == 0);
        rc = mlops_alias_set(db, "m", "production", 2);
        if (rc != MLOPS_OK)
            FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(mlops_model_resolve(&version, db, "m@production") == MLOPS_OK);
        FUZZ_CHECK(version == (rc == MLOPS_OK ? 2 : 1));
        FUZZ_CHECK(mlops_gate_set(db, "m", "production", NULL) == MLOPS_OK);
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    FUZZ_CHECK(mlops__tx_end(db, MLOPS_ESTATE) == MLOPS_ESTATE);
    FUZZ_CHECK(mlops__tx_depth(db) == 0);
    mlops_free(stored_again);
    mlops_free(stored);
    free(doc);
    return 0;
}
