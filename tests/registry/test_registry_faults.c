/*
 * Atomicity of the registry's write paths under I/O failure and process
 * death: registering a version (an artifact streamed in several chunks,
 * metadata, tags, signature), logging a metric, filling a signature, moving
 * an alias, promoting through a gate, rolling an alias back, and importing a
 * signed bundle into an empty and into a non-empty database. Each runs with
 * an I/O error, a full disk and a torn short write at every write-class call
 * in turn, and in a child killed at every write-class call and at random
 * moments (see tests/support/fault_vfs.h): the call fails with MLOPS_EIO and
 * leaves the database as it was, or it succeeds; the database always opens,
 * passes its check and holds the state before or after.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fault_vfs.h"
#include "registry_fixture.h"

/* No busy wait: the only other party is the injected fault. */
#define OPTIONS "{\"busy_timeout_ms\": 0, \"actor\": \"fault-test\"}"

/* Two 1 MiB chunks and a partial one, compressible so the runs stay quick. */
#define ARTIFACT_BYTES ((size_t)(2u << 20) + 1000)

#define GATE "{\"rules\": [{\"rule\": \"metric_min\", \"metric\": \"auc\", \"min\": 0.85}," \
             " {\"rule\": \"approvals\", \"min\": 1}]}"

static mlops_db *open_db(const char *path)
{
    mlops_db *db = NULL;
    assert_int_equal(mlops_db_open(&db, path, OPTIONS), MLOPS_OK);
    return db;
}

static int64_t register_small(mlops_db *db, const char *model, const char *bytes)
{
    int64_t version = 0;
    assert_int_equal(mlops_version_register(&version, db, model, bytes, strlen(bytes), NULL), MLOPS_OK);
    return version;
}

/*
 * The registry every path but the bundle import runs from: "fraud" with
 * versions 1 to 3 (auc 0.8, 0.9 approved, none; 3 without a signature),
 * "production" on 1 behind a gate (auc >= 0.85 and one approval), "staging"
 * moved from 1 to 3, and a second model "churn".
 */
static const char *registry_db(const char *name)
{
    const char *path = ts_path(name);
    mlops_db *db;
    remove(path);
    db = open_db(path);
    assert_int_equal(mlops_model_create(db, "fraud", "card fraud", "{\"team\": \"risk\"}"), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "churn", NULL, NULL), MLOPS_OK);
    register_small(db, "fraud", "fraud model one");
    register_small(db, "fraud", "fraud model two");
    register_small(db, "fraud", "fraud model three");
    register_small(db, "churn", "churn model one");
    assert_int_equal(mlops_version_metric_log(db, "fraud", 1, "auc", 0.8, 0.78, 0.82, "holdout", 100), MLOPS_OK);
    assert_int_equal(mlops_version_metric_log(db, "fraud", 2, "auc", 0.9, 0.88, 0.92, "holdout", 200), MLOPS_OK);
    assert_int_equal(mlops_version_approve(db, "fraud", 2, "reviewed"), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK);
    assert_int_equal(mlops_gate_set(db, "fraud", "production", GATE), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "staging", 1), MLOPS_OK);
    assert_int_equal(mlops_alias_set(db, "fraud", "staging", 3), MLOPS_OK);
    mlops_db_close(db);
    return path;
}

/* ---- the write paths ---- */

static int op_register(const char *path, void *ctx)
{
    const uint8_t *artifact = ctx;
    mlops_version_writer *writer = NULL;
    mlops_db *db = NULL;
    int64_t version = 0;
    size_t done = 0;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_version_writer_begin(&writer, db, "fraud",
                                        "{\"metadata\": {\"framework\": \"onnx\"}, \"tags\": {\"stage\": \"candidate\"},"
                                        " \"signature\": {\"inputs\": [{\"name\": \"x\", \"shape\": [1, 8]}]},"
                                        " \"parent_version\": 2, \"zstd_level\": 1}");
    /* In uneven pieces, so chunks fill across writes. */
    while (rc == MLOPS_OK && done < ARTIFACT_BYTES) {
        size_t piece = ARTIFACT_BYTES - done < 300000 ? ARTIFACT_BYTES - done : 300000;
        rc = mlops_version_writer_write(writer, artifact + done, piece);
        done += piece;
    }
    if (rc == MLOPS_OK)
        rc = mlops_version_writer_commit(&version, writer);
    mlops_version_writer_free(writer);
    mlops_db_close(db);
    return rc;
}

static int op_metric(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    (void)ctx;
    if (rc == MLOPS_OK)
        rc = mlops_version_metric_log(db, "fraud", 3, "auc", 0.93, 0.9, 0.95, "holdout", 300);
    mlops_db_close(db);
    return rc;
}

static int op_signature(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    (void)ctx;
    if (rc == MLOPS_OK)
        rc = mlops_version_signature_fill(db, "fraud", 3, "{\"inputs\": [{\"name\": \"x\", \"shape\": [1, 4]}]}");
    mlops_db_close(db);
    return rc;
}

/* Point the alias named by `ctx` ("staging" plain, "production" through its gate) at version 2. */
static int op_alias_set(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_alias_set(db, "fraud", ctx, 2);
    mlops_db_close(db);
    return rc;
}

/* An alias move on a handle that syncs the log at every commit ("synchronous": "full"). */
static int op_alias_set_synced(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int rc = mlops_db_open(&db, path, "{\"busy_timeout_ms\": 0, \"actor\": \"fault-test\", \"synchronous\": \"full\"}");
    if (rc == MLOPS_OK)
        rc = mlops_alias_set(db, "fraud", ctx, 2);
    mlops_db_close(db);
    return rc;
}

static int op_alias_rollback(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int64_t version = 0;
    int rc = mlops_db_open(&db, path, OPTIONS);
    (void)ctx;
    if (rc == MLOPS_OK && (rc = mlops_alias_rollback(&version, db, "fraud", "staging")) == MLOPS_OK &&
        version != 1)
        fail_msg("rollback moved staging to %lld, expected 1", (long long)version);
    mlops_db_close(db);
    return rc;
}

static int op_bundle_import(const char *path, void *ctx)
{
    mlops_db *db = NULL;
    int64_t version = 0;
    char *model = NULL;
    int rc = mlops_db_open(&db, path, OPTIONS);
    if (rc == MLOPS_OK)
        rc = mlops_bundle_import(&version, &model, db, ctx);
    mlops_free(model);
    mlops_db_close(db);
    return rc;
}

/* ---- the tests ---- */

static void check(const char *name, const char *path, ts_write_op op, void *ctx)
{
    ts_fault_report report = ts_fault_check_path(name, path, op, ctx, NULL);
    assert_true(report.points >= 2);
}

static void test_registration_survives_faults_and_kills(void **state)
{
    uint8_t *artifact = malloc(ARTIFACT_BYTES);
    size_t i;
    (void)state;
    assert_non_null(artifact);
    for (i = 0; i < ARTIFACT_BYTES; i++)
        artifact[i] = (uint8_t)(i % 251 < 7 ? i / 4096 : i % 13);
    check("version registration of a 3-chunk artifact with signature", registry_db("register.db"), op_register,
          artifact);
    /* The runners restored the start state: one more run shows the artifact spans three chunks. */
    assert_int_equal(op_register(ts_path("register.db"), artifact), MLOPS_OK);
    assert_int_equal(rt_sql_int("register.db", "SELECT chunks FROM reg_artifact ORDER BY id DESC LIMIT 1"), 3);
    assert_int_equal(rt_sql_int("register.db", "SELECT count(*) FROM reg_version WHERE signature IS NOT NULL"), 1);
    free(artifact);
}

static void test_metric_and_signature_survive_faults_and_kills(void **state)
{
    (void)state;
    check("version metric log", registry_db("metric.db"), op_metric, NULL);
    check("version signature fill", registry_db("signature.db"), op_signature, NULL);
}

static void test_alias_moves_survive_faults_and_kills(void **state)
{
    (void)state;
    check("alias move", registry_db("alias.db"), op_alias_set, "staging");
    check("alias promotion through a gate", registry_db("gate.db"), op_alias_set, "production");
    check("alias rollback", registry_db("rollback.db"), op_alias_rollback, NULL);
    check("alias move with synchronous full", registry_db("alias_full.db"), op_alias_set_synced, "staging");
}

static void test_bundle_import_survives_faults_and_kills(void **state)
{
    uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES], secret_key[MLOPS_BUNDLE_SECRET_KEY_BYTES];
    char bundle[4096];
    const char *empty = ts_path("import_empty.db"), *filled = ts_path("import_filled.db");
    mlops_db *db;
    (void)state;
    assert_int_equal(mlops_bundle_keygen(public_key, secret_key), MLOPS_OK);
    snprintf(bundle, sizeof bundle, "%s", ts_path("fraud2.mlb"));
    db = open_db(registry_db("bundle_source.db"));
    assert_int_equal(mlops_version_profile_set(db, "fraud", 2, "profile\0bytes", 13), MLOPS_OK);
    assert_int_equal(mlops_bundle_export(db, "fraud", 2, bundle, secret_key), MLOPS_OK);
    mlops_db_close(db);
    /* An empty database that trusts the key, and one with a "fraud" of its own. */
    remove(empty);
    db = open_db(empty);
    assert_int_equal(mlops_bundle_trust_key(db, public_key, "release"), MLOPS_OK);
    mlops_db_close(db);
    remove(filled);
    db = open_db(filled);
    assert_int_equal(mlops_bundle_trust_key(db, public_key, "release"), MLOPS_OK);
    assert_int_equal(mlops_model_create(db, "fraud", NULL, NULL), MLOPS_OK);
    register_small(db, "fraud", "another fraud model");
    assert_int_equal(mlops_alias_set(db, "fraud", "production", 1), MLOPS_OK);
    mlops_db_close(db);
    check("signed bundle import into an empty database", empty, op_bundle_import, bundle);
    check("signed bundle import into a database with the model", filled, op_bundle_import, bundle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_registration_survives_faults_and_kills),
        cmocka_unit_test(test_metric_and_signature_survive_faults_and_kills),
        cmocka_unit_test(test_alias_moves_survive_faults_and_kills),
        cmocka_unit_test(test_bundle_import_survives_faults_and_kills),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
