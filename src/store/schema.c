/*
 * Numbered schema migrations. Version N of the schema is reached by running
 * migrations 1..N in order, each once, inside one write transaction; the
 * version is kept in PRAGMA user_version. A released migration never changes:
 * a later change is a new migration appended to the list.
 */
#include <stdio.h>

#include "sqlite_int.h"

#define MLOPS_APPLICATION_ID_SQL "PRAGMA application_id = 1296846672" /* 0x4D4C4F50, "MLOP" */

/* 1: library metadata and the tamper-evident audit chain shared by all subsystems. */
static const char migration_core[] =
    "CREATE TABLE mlops_meta ("
    "  key TEXT PRIMARY KEY,"
    "  value TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE audit_log ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL,"
    "  action TEXT NOT NULL,"
    "  object TEXT NOT NULL,"
    "  details TEXT NOT NULL,"
    "  prev_hash BLOB NOT NULL,"
    "  hash BLOB NOT NULL"
    ") STRICT;"
    "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be changed'); END;"
    "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log"
    "  BEGIN SELECT RAISE(ABORT, 'audit entries cannot be deleted'); END;";

/*
 * 2: the model registry: models, content-addressed artifacts stored as zstd
 * chunks (frames with their content checksum), versions, aliases with history and gates, approvals, evaluation
 * metrics, lineage, experiment runs, trusted bundle keys and the change log
 * that watchers follow.
 */
static const char migration_registry[] =
    "CREATE TABLE reg_model ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  description TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  creator TEXT NOT NULL,"
    "  next_version INTEGER NOT NULL DEFAULT 1"
    ") STRICT;"
    "CREATE TABLE reg_artifact ("
    "  id INTEGER PRIMARY KEY,"
    "  sha256 BLOB UNIQUE,"
    "  size INTEGER NOT NULL,"
    "  chunks INTEGER NOT NULL,"
    "  created_us INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE reg_artifact_chunk ("
    "  artifact_id INTEGER NOT NULL REFERENCES reg_artifact(id) ON DELETE CASCADE,"
    "  idx INTEGER NOT NULL,"
    "  raw_len INTEGER NOT NULL,"
    "  data BLOB NOT NULL,"
    "  UNIQUE (artifact_id, idx)"
    ") STRICT;"
    "CREATE TABLE reg_version ("
    "  id INTEGER PRIMARY KEY,"
    "  model_id INTEGER NOT NULL REFERENCES reg_model(id),"
    "  version INTEGER NOT NULL,"
    "  artifact_id INTEGER NOT NULL REFERENCES reg_artifact(id),"
    "  metadata TEXT NOT NULL,"
    "  tags TEXT NOT NULL,"
    "  signature TEXT,"
    "  created_us INTEGER NOT NULL,"
    "  creator TEXT NOT NULL,"
    "  run_id INTEGER REFERENCES reg_run(id),"
    "  parent_version INTEGER,"
    "  as_of_us INTEGER,"
    "  origin TEXT,"
    "  origin_digest BLOB,"
    "  profile BLOB,"
    "  UNIQUE (model_id, version)"
    ") STRICT;"
    "CREATE INDEX reg_version_artifact ON reg_version(artifact_id);"
    "CREATE INDEX reg_version_origin ON reg_version(origin_digest) WHERE origin_digest IS NOT NULL;"
    "CREATE TABLE reg_alias ("
    "  model_id INTEGER NOT NULL REFERENCES reg_model(id),"
    "  name TEXT NOT NULL,"
    "  version_id INTEGER NOT NULL REFERENCES reg_version(id),"
    "  PRIMARY KEY (model_id, name)"
    ") STRICT;"
    "CREATE TABLE reg_alias_history ("
    "  id INTEGER PRIMARY KEY,"
    "  model_id INTEGER NOT NULL REFERENCES reg_model(id),"
    "  name TEXT NOT NULL,"
    "  version INTEGER,"
    "  previous INTEGER,"
    "  action TEXT NOT NULL,"
    "  undone INTEGER NOT NULL DEFAULT 0,"
    "  time_us INTEGER NOT NULL,"
    "  actor TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX reg_alias_history_name ON reg_alias_history(model_id, name, time_us);"
    "CREATE TABLE reg_gate ("
    "  model_id INTEGER NOT NULL REFERENCES reg_model(id),"
    "  alias TEXT NOT NULL,"
    "  policy TEXT NOT NULL,"
    "  PRIMARY KEY (model_id, alias)"
    ") STRICT;"
    "CREATE TABLE reg_approval ("
    "  version_id INTEGER NOT NULL REFERENCES reg_version(id) ON DELETE CASCADE,"
    "  actor TEXT NOT NULL,"
    "  note TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  PRIMARY KEY (version_id, actor)"
    ") STRICT;"
    "CREATE TABLE reg_metric ("
    "  id INTEGER PRIMARY KEY,"
    "  version_id INTEGER NOT NULL REFERENCES reg_version(id) ON DELETE CASCADE,"
    "  name TEXT NOT NULL,"
    "  value REAL NOT NULL,"
    "  ci_low REAL,"
    "  ci_high REAL,"
    "  dataset TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX reg_metric_version ON reg_metric(version_id, name);"
    "CREATE TABLE reg_lineage ("
    "  version_id INTEGER NOT NULL REFERENCES reg_version(id) ON DELETE CASCADE,"
    "  view TEXT NOT NULL,"
    "  view_version INTEGER NOT NULL,"
    "  PRIMARY KEY (version_id, view)"
    ") STRICT;"
    "CREATE INDEX reg_lineage_view ON reg_lineage(view, view_version);"
    "CREATE TABLE reg_experiment ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  created_us INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE reg_run ("
    "  id INTEGER PRIMARY KEY,"
    "  experiment_id INTEGER NOT NULL REFERENCES reg_experiment(id),"
    "  name TEXT NOT NULL,"
    "  params TEXT NOT NULL,"
    "  status TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER,"
    "  creator TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE reg_run_tag ("
    "  run_id INTEGER NOT NULL REFERENCES reg_run(id),"
    "  key TEXT NOT NULL,"
    "  value TEXT NOT NULL,"
    "  PRIMARY KEY (run_id, key)"
    ") STRICT;"
    "CREATE TABLE reg_run_metric ("
    "  run_id INTEGER NOT NULL REFERENCES reg_run(id),"
    "  key TEXT NOT NULL,"
    "  step INTEGER NOT NULL,"
    "  value REAL NOT NULL,"
    "  time_us INTEGER NOT NULL"
    ") STRICT;"
    "CREATE INDEX reg_run_metric_key ON reg_run_metric(run_id, key, step);"
    "CREATE TABLE reg_trusted_key ("
    "  public_key BLOB PRIMARY KEY,"
    "  name TEXT NOT NULL,"
    "  added_us INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE reg_change ("
    "  seq INTEGER PRIMARY KEY,"
    "  time_us INTEGER NOT NULL,"
    "  kind TEXT NOT NULL,"
    "  model TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  alias TEXT NOT NULL"
    ") STRICT;";

/*
 * 3: the feature store. Entities and versioned view definitions (JSON);
 * the bitemporal history, one row per (view, key, event time, system time)
 * with the features packed in one payload blob; the online table with the
 * latest row per key; quarantined rows with the rule they broke. Keys are
 * the encoded key columns of the entity (see src/features).
 */
static const char migration_features[] =
    "CREATE TABLE fs_entity ("
    "  name TEXT PRIMARY KEY,"
    "  definition TEXT NOT NULL"
    ") STRICT;"
    "CREATE TABLE fs_view ("
    "  id INTEGER PRIMARY KEY,"
    "  name TEXT NOT NULL UNIQUE,"
    "  entity TEXT NOT NULL REFERENCES fs_entity(name),"
    "  current_version INTEGER NOT NULL"
    ") STRICT;"
    "CREATE TABLE fs_view_version ("
    "  view_id INTEGER NOT NULL REFERENCES fs_view(id),"
    "  version INTEGER NOT NULL,"
    "  definition TEXT NOT NULL,"
    "  created_us INTEGER NOT NULL,"
    "  PRIMARY KEY (view_id, version)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE fs_history ("
    "  view_id INTEGER NOT NULL,"
    "  key BLOB NOT NULL,"
    "  event_time INTEGER NOT NULL,"
    "  system_time INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  PRIMARY KEY (view_id, key, event_time, system_time)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE fs_online ("
    "  view_id INTEGER NOT NULL,"
    "  key BLOB NOT NULL,"
    "  event_time INTEGER NOT NULL,"
    "  system_time INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  PRIMARY KEY (view_id, key)"
    ") STRICT, WITHOUT ROWID;"
    "CREATE TABLE fs_quarantine ("
    "  id INTEGER PRIMARY KEY,"
    "  view_id INTEGER NOT NULL,"
    "  key BLOB,"
    "  event_time INTEGER,"
    "  system_time INTEGER NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  payload BLOB NOT NULL,"
    "  rule TEXT NOT NULL,"
    "  column_name TEXT NOT NULL,"
    "  message TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX fs_quarantine_key ON fs_quarantine(view_id, key);";

/* 4: drift: live profiles per stream and time window (serialized profile bytes, merged on every put). */
static const char migration_drift_windows[] =
    "CREATE TABLE drift_windows ("
    "  stream TEXT NOT NULL,"
    "  start_us INTEGER NOT NULL,"
    "  end_us INTEGER NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  profile BLOB NOT NULL,"
    "  updated_us INTEGER NOT NULL,"
    "  PRIMARY KEY (stream, start_us),"
    "  CHECK (end_us > start_us)"
    ") STRICT;";

/*
 * 5: serving: snapshots of a router's counters per model, version and arm
 * (mlops_router_metrics_log), each holding what was counted since the
 * previous snapshot of that router, with the latency histogram's bucket
 * counts as a JSON array (buckets of src/serve/serve_int.h).
 */
static const char migration_serve_metrics[] =
    "CREATE TABLE serve_metrics ("
    "  id INTEGER PRIMARY KEY,"
    "  model TEXT NOT NULL,"
    "  version INTEGER NOT NULL,"
    "  arm TEXT NOT NULL,"
    "  time_us INTEGER NOT NULL,"
    "  requests INTEGER NOT NULL,"
    "  rows INTEGER NOT NULL,"
    "  errors INTEGER NOT NULL,"
    "  latency_ns_sum INTEGER NOT NULL,"
    "  latency TEXT NOT NULL"
    ") STRICT;"
    "CREATE INDEX serve_metrics_model ON serve_metrics(model, version, arm);";

static const char *const migrations[] = {
    migration_core,
    migration_registry,
    migration_features,
    migration_drift_windows,
    migration_serve_metrics,
};

#define MIGRATION_COUNT ((int32_t)(sizeof migrations / sizeof migrations[0]))

int32_t mlops__schema_latest(void)
{
    return MIGRATION_COUNT;
}

static int read_version(int64_t *out, mlops_db *db)
{
    sqlite3_stmt *stmt = NULL;
    int rc = sqlite3_prepare_v2(db->sqlite, "PRAGMA user_version", -1, &stmt, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
        *out = sqlite3_column_int64(stmt, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(stmt);
    return rc == SQLITE_OK ? MLOPS_OK : mlops__sqlite_error(db, rc, "reading the schema version");
}

int mlops__schema_migrate(mlops_db *db)
{
    int64_t version = 0;
    char sql[128];
    int rc;

    if ((rc = read_version(&version, db)))
        return rc;
    if (version == MIGRATION_COUNT)
        return MLOPS_OK;
    /* Another process may migrate at the same moment: decide again under the write lock. */
    if ((rc = mlops__tx_begin(db)))
        return rc;
    if ((rc = read_version(&version, db)))
        return mlops__tx_end(db, rc);
    if (version < 0)
        return mlops__tx_end(db, mlops__error(MLOPS_ECORRUPT, "store",
                                              "database \"%s\" has an invalid schema version %lld", db->path,
                                              (long long)version));
    if (version > MIGRATION_COUNT)
        return mlops__tx_end(db, mlops__error(MLOPS_ESCHEMA, "store",
                                              "database \"%s\" has schema version %lld, newer than this library supports (%d)",
                                              db->path, (long long)version, MIGRATION_COUNT));
    for (; rc == MLOPS_OK && version < MIGRATION_COUNT; version++) {
        rc = mlops__db_exec(db, migrations[version]);
        if (rc)
            mlops__error_prefix("schema migration %lld", (long long)version + 1);
    }
    if (rc == MLOPS_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d; " MLOPS_APPLICATION_ID_SQL, MIGRATION_COUNT);
        rc = mlops__db_exec(db, sql);
    }
    if (rc == MLOPS_OK)
        rc = mlops__db_exec(db, "INSERT OR REPLACE INTO mlops_meta(key, value) VALUES ('library_version', '"
                                MLOPS_VERSION_STRING "')");
    return mlops__tx_end(db, rc);
}
