/**
 * @file
 * libmlops: the model registry. Models and their numbered versions,
 * content-addressed artifacts, aliases with promotion gates and history,
 * approvals, evaluation metrics, runs, lineage, the audit chain, change
 * notifications and signed bundles, all inside the database file.
 *
 * Names: a model name is 1 to 128 characters, none of them '@' or '/'; an
 * alias name is 1 to 64 characters of [A-Za-z0-9_.-] and does not start with
 * a digit. Versions are numbered 1, 2, ... per model without gaps, also
 * when several processes register at once. Listings and documents come
 * back as JSON text that the caller frees with mlops_free(). Every change
 * appends an entry to the audit chain and to the change log in the same
 * transaction as the change itself.
 */
#ifndef MLOPS_REGISTRY_H
#define MLOPS_REGISTRY_H

#include "common.h"
#include "db.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- models ------------------------------------------------------------------------------------------- */

/** Create model `name` with a description (NULL = "") and tags (JSON object of strings, NULL = {}); MLOPS_EEXISTS if present. @thread handle */
MLOPS_API int mlops_model_create(mlops_db *db, const char *name, const char *description, const char *tags_json);
/** JSON array of every model (name, description, tags, created, latest version, aliases); caller frees with mlops_free(). @thread handle */
MLOPS_API int mlops_model_list(char **json_out, mlops_db *db);
/** JSON document of model `name` with its aliases and gates; caller frees with mlops_free(); MLOPS_ENOTFOUND. @thread handle */
MLOPS_API int mlops_model_show(char **json_out, mlops_db *db, const char *name);

/* ---- versions --------------------------------------------------------------------------------------- */

/**
 * A registration in progress: the artifact's bytes are streamed in with
 * mlops_version_writer_write() and the version appears, complete, at
 * mlops_version_writer_commit(); until then nothing is visible to others and
 * a crash leaves nothing behind. The writer holds the database's write lock
 * from begin to commit or free (other writers wait up to the busy timeout).
 * One writer at a time per handle: a second one fails its writes and
 * commit with MLOPS_ESTATE until it is the innermost again.
 */
typedef struct mlops_version_writer mlops_version_writer;

/**
 * Begin registering a new version of `model`. `options_json` may be NULL or
 * an object with keys "metadata" (object), "tags" (object of strings),
 * "signature" (object: inputs/outputs with names, types, shapes), "run_id"
 * (int), "parent_version" (int), "lineage" ({"feature_views": [{"name": s,
 * "version": n}], "as_of_us": t}) and "zstd_level" (int, default 3).
 * MLOPS_ENOTFOUND (model, run, parent), MLOPS_EFORMAT (options). @thread handle
 */
MLOPS_API int mlops_version_writer_begin(mlops_version_writer **out, mlops_db *db, const char *model,
                                         const char *options_json);
/** Append `len` artifact bytes (copied; compressed in 1 MiB chunks as they fill). @thread handle */
MLOPS_API int mlops_version_writer_write(mlops_version_writer *writer, const void *data, size_t len);
/** Store the version; `*version_out` is its number. The writer must still be freed. @thread handle */
MLOPS_API int mlops_version_writer_commit(int64_t *version_out, mlops_version_writer *writer);
/** Release the writer, discarding everything when it was not committed; NULL is a no-op. @thread handle */
MLOPS_API void mlops_version_writer_free(mlops_version_writer *writer);

/** Register a version from `len` bytes in memory (one writer begin/write/commit). @thread handle */
MLOPS_API int mlops_version_register(int64_t *version_out, mlops_db *db, const char *model, const void *data,
                                     size_t len, const char *options_json);

/**
 * JSON document of one version: number, artifact (sha256, size), metadata,
 * tags, signature, creation, run, parent, lineage, metrics, approvals,
 * aliases pointing at it, origin. Caller frees with mlops_free(). @thread handle
 */
MLOPS_API int mlops_version_show(char **json_out, mlops_db *db, const char *model, int64_t version);
/**
 * JSON array of the versions of `model`, newest first. `filter_json` may be
 * NULL or an object: "tags" (object of strings, all must match), "metric"
 * (an expression "auc >= 0.9": name, one of >= > <= < == !=, a number; the
 * version's latest value of that metric is compared; versions without it
 * do not match), "limit" (int). @thread handle
 */
MLOPS_API int mlops_version_list(char **json_out, mlops_db *db, const char *model, const char *filter_json);
/** Delete a version (its artifact stays until mlops_artifact_gc()); MLOPS_ESTATE while an alias points at it. @thread handle */
MLOPS_API int mlops_version_delete(mlops_db *db, const char *model, int64_t version);
/** Set a version's signature JSON only when it has none yet; MLOPS_ESTATE when one is set. @thread handle */
MLOPS_API int mlops_version_signature_fill(mlops_db *db, const char *model, int64_t version,
                                           const char *signature_json);
/** Attach (replace) the reference data profile of a version: opaque bytes, copied. @thread handle */
MLOPS_API int mlops_version_profile_set(mlops_db *db, const char *model, int64_t version, const void *data,
                                        size_t len);
/** The reference profile bytes (caller frees with mlops_free()); MLOPS_ENOTFOUND when none is attached. @thread handle */
MLOPS_API int mlops_version_profile_get(void **data_out, size_t *len_out, mlops_db *db, const char *model,
                                        int64_t version);

/**
 * Record an evaluation metric of a version: name, value, confidence
 * interval (`ci_low`, `ci_high`, both NaN when there is none), the dataset
 * it was measured on (NULL = "") and the time (0 = now). @thread handle
 */
MLOPS_API int mlops_version_metric_log(mlops_db *db, const char *model, int64_t version, const char *name,
                                       double value, double ci_low, double ci_high, const char *dataset,
                                       int64_t time_us);
/** Approve a version as this handle's actor with a note; MLOPS_EEXISTS when this actor approved it already. @thread handle */
MLOPS_API int mlops_version_approve(mlops_db *db, const char *model, int64_t version, const char *note);

/* ---- artifacts -------------------------------------------------------------------------------------- */

/** Read a version's whole artifact into a new buffer (mlops_free), verified; MLOPS_ECORRUPT when damaged. @thread handle */
MLOPS_API int mlops_artifact_read(void **data_out, size_t *len_out, mlops_db *db, const char *model,
                                  int64_t version);

/** A streaming, verified read of one version's artifact. */
typedef struct mlops_artifact_reader mlops_artifact_reader;

/** Open a reader on the artifact of `model` version `version` (a consistent snapshot). @thread handle */
MLOPS_API int mlops_artifact_reader_open(mlops_artifact_reader **out, mlops_db *db, const char *model,
                                         int64_t version);
/** Size in bytes of the artifact. @thread handle */
MLOPS_API int64_t mlops_artifact_reader_size(const mlops_artifact_reader *reader);
/**
 * Copy up to `capacity` next bytes into `buffer`; `*got_out` says how many.
 * Each 1 MiB chunk is verified before any of its bytes are handed out, and
 * the whole content's SHA-256 at the end: MLOPS_DONE (with *got_out 0) only
 * after the complete artifact verified; MLOPS_ECORRUPT names model and version.
 * @thread handle
 */
MLOPS_API int mlops_artifact_reader_read(size_t *got_out, mlops_artifact_reader *reader, void *buffer,
                                         size_t capacity);
/** Close a reader; NULL is a no-op. @thread handle */
MLOPS_API void mlops_artifact_reader_free(mlops_artifact_reader *reader);
/** Delete artifacts no version references; `*removed_out` counts them. @thread handle */
MLOPS_API int mlops_artifact_gc(int64_t *removed_out, mlops_db *db);

/* ---- aliases and gates ------------------------------------------------------------------------------ */

/**
 * Point `alias` of `model` at `version`, checking the alias's gate policy in
 * the same transaction. Refused with MLOPS_EPOLICY naming the failing rule
 * and the values compared (the alias is left unchanged); MLOPS_ENOTFOUND for
 * a missing model or version. Pointing the alias at the version it already
 * points at changes and records nothing. @thread handle
 */
MLOPS_API int mlops_alias_set(mlops_db *db, const char *model, const char *alias, int64_t version);
/** Remove `alias` (its history is kept); MLOPS_ENOTFOUND when it is not set. @thread handle */
MLOPS_API int mlops_alias_delete(mlops_db *db, const char *model, const char *alias);
/**
 * Move `alias` back to the version it pointed at before its current target
 * was set (repeated rollbacks walk further back); `*version_out` is the new
 * target. Not gated: rollback is the way out of a bad promotion. MLOPS_ESTATE
 * when there is no earlier version. @thread handle
 */
MLOPS_API int mlops_alias_rollback(int64_t *version_out, mlops_db *db, const char *model, const char *alias);
/** JSON array of every move of `alias`, oldest first (time, actor, version, previous, action). @thread handle */
MLOPS_API int mlops_alias_history(char **json_out, mlops_db *db, const char *model, const char *alias);
/** The version `alias` pointed at, at time `time_us`; MLOPS_ENOTFOUND when it was not set then. @thread handle */
MLOPS_API int mlops_alias_at(int64_t *version_out, mlops_db *db, const char *model, const char *alias,
                             int64_t time_us);
/** Resolve "name@alias" or "name@7" to a version number. @thread handle */
MLOPS_API int mlops_model_resolve(int64_t *version_out, mlops_db *db, const char *reference);

/**
 * Attach the gate policy `policy_json` to `alias` of `model` (NULL removes it).
 * The policy is {"rules": [rule, ...]}, each rule an object with "rule" and
 * its parameters:
 *   {"rule": "metric_min", "metric": m, "min": x}      latest value of m >= x
 *   {"rule": "metric_max", "metric": m, "max": x}      latest value of m <= x
 *   {"rule": "better_than_current", "metric": m, "margin": d (default 0),
 *    "higher_is_better": true, "use_ci_low": false}   beats the alias's current
 *                                                      target by more than d
 *   {"rule": "profile_attached"}                       a reference profile is set
 *   {"rule": "approvals", "min": n}                    n distinct actors approved
 * A "metric" rule may add "dataset": only metrics measured on it count.
 * Validated strictly: MLOPS_EFORMAT with the $.path. @thread handle
 */
MLOPS_API int mlops_gate_set(mlops_db *db, const char *model, const char *alias, const char *policy_json);
/** The gate policy of `alias` (caller frees with mlops_free()); MLOPS_ENOTFOUND when none. @thread handle */
MLOPS_API int mlops_gate_get(char **json_out, mlops_db *db, const char *model, const char *alias);

/* ---- runs (experiment tracking) ----------------------------------------------------------------- */

/** Start a run in `experiment` (created when absent) with params and tags (JSON objects or NULL); status "running". @thread handle */
MLOPS_API int mlops_run_start(int64_t *run_out, mlops_db *db, const char *experiment, const char *name,
                              const char *params_json, const char *tags_json);
/** Append a point (step, value, time; 0 = now) to the metric series `key` of a run. @thread handle */
MLOPS_API int mlops_run_log_metric(mlops_db *db, int64_t run, const char *key, double value, int64_t step,
                                   int64_t time_us);
/** Set (replace) tag `key` of a run. @thread handle */
MLOPS_API int mlops_run_set_tag(mlops_db *db, int64_t run, const char *key, const char *value);
/** End a running run with status "finished", "failed" or "killed"; MLOPS_ESTATE when it already ended. @thread handle */
MLOPS_API int mlops_run_end(mlops_db *db, int64_t run, const char *status);
/** JSON document of a run: experiment, name, params, tags, status, times, metric series. @thread handle */
MLOPS_API int mlops_run_show(char **json_out, mlops_db *db, int64_t run);
/** JSON array of the runs of `experiment` (NULL = all), newest first. @thread handle */
MLOPS_API int mlops_run_list(char **json_out, mlops_db *db, const char *experiment);

/* ---- lineage -------------------------------------------------------------------------------------- */

/** JSON document of what a version was trained on: feature views, as-of time, run, parent. @thread handle */
MLOPS_API int mlops_lineage_of(char **json_out, mlops_db *db, const char *model, int64_t version);
/** JSON array of the versions trained on feature view `view` at definition version `view_version` (-1 = any). @thread handle */
MLOPS_API int mlops_lineage_users(char **json_out, mlops_db *db, const char *view, int64_t view_version);

/* ---- audit chain -------------------------------------------------------------------------------- */

/** JSON array of audit entries with seq > `after_seq`, at most `limit` (0 = all), oldest first. @thread handle */
MLOPS_API int mlops_audit_list(char **json_out, mlops_db *db, int64_t after_seq, int64_t limit);
/**
 * Walk the whole audit chain. MLOPS_OK with `*first_bad_out` 0 when intact;
 * MLOPS_ECORRUPT with `*first_bad_out` the position (seq) of the first entry
 * that was altered, removed or inserted. @thread handle
 */
MLOPS_API int mlops_audit_verify(int64_t *first_bad_out, mlops_db *db);

/* ---- change notifications --------------------------------------------------------------------------- */

/** One registry change, borrowed for the duration of the callback. */
typedef struct mlops_registry_change {
    int64_t seq;          /**< position in the change log, increasing */
    int64_t time_us;      /**< when it was made */
    const char *kind;     /**< "model.create", "version.create", "version.delete", "alias.set", "alias.delete", ... */
    const char *model;    /**< the model it is about */
    int64_t version;      /**< 0 when not about one version */
    const char *alias;    /**< "" when not about an alias */
} mlops_registry_change;

/** Called with each change and the payload given with it. */
typedef void (*mlops_registry_change_fn)(const mlops_registry_change *change, void *payload);

/**
 * A watcher over the change log of the database file at `path`, on its own
 * connection, so it sees changes from every process. Changes after seq
 * `after_seq` are delivered (-1: only changes from now on).
 */
typedef struct mlops_registry_watch mlops_registry_watch;

/** Open a watcher; `callback` receives each change once, in order. @thread any */
MLOPS_API int mlops_registry_watch_open(mlops_registry_watch **out, const char *path, int64_t after_seq,
                                        mlops_registry_change_fn callback, void *payload);
/**
 * Deliver the changes committed since the last call on the calling thread;
 * cheap when nothing changed (one PRAGMA data_version). `*delivered_out`
 * (may be NULL) counts them. @thread handle
 */
MLOPS_API int mlops_registry_watch_poll(int64_t *delivered_out, mlops_registry_watch *watch);
/**
 * Run the poll on a background thread every `interval_ms` (1..60000): the
 * callback then runs on that thread. Stopped by mlops_registry_watch_close().
 * @thread handle
 */
MLOPS_API int mlops_registry_watch_start(mlops_registry_watch *watch, int32_t interval_ms);
/** Stop the background thread (waiting for a running callback) and close; NULL is a no-op. @thread handle */
MLOPS_API void mlops_registry_watch_close(mlops_registry_watch *watch);

/* ---- bundles ------------------------------------------------------------------------------------ */

#define MLOPS_BUNDLE_PUBLIC_KEY_BYTES 32 /**< bytes of an Ed25519 public key */
#define MLOPS_BUNDLE_SECRET_KEY_BYTES 64 /**< bytes of an Ed25519 secret key */

/** Make a new Ed25519 key pair for signing bundles. @thread any */
MLOPS_API int mlops_bundle_keygen(uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES],
                                  uint8_t secret_key[MLOPS_BUNDLE_SECRET_KEY_BYTES]);
/**
 * Write version `version` of `model` to the file `path`: a manifest (JSON:
 * metadata, tags, signature, metrics, lineage, origin) and the artifact and
 * reference profile as zstd blobs with their SHA-256, signed with
 * `secret_key` when it is not NULL. @thread handle
 */
MLOPS_API int mlops_bundle_export(mlops_db *db, const char *model, int64_t version, const char *path,
                                  const uint8_t *secret_key);
/**
 * Import the bundle at `path`: the model is created when absent and the
 * version gets the next free number (its origin is recorded); importing the
 * same content again gives back the same version. A truncated, damaged or
 * tampered bundle is refused (MLOPS_EFORMAT, MLOPS_ECORRUPT) and changes
 * nothing; when the database trusts keys, an unsigned bundle or one not
 * signed by a trusted key is refused with MLOPS_EPOLICY. `model_out` (may be
 * NULL) receives the model name (mlops_free). @thread handle
 */
MLOPS_API int mlops_bundle_import(int64_t *version_out, char **model_out, mlops_db *db, const char *path);
/** Trust bundles signed by `public_key` from now on (named `name`). @thread handle */
MLOPS_API int mlops_bundle_trust_key(mlops_db *db, const uint8_t public_key[MLOPS_BUNDLE_PUBLIC_KEY_BYTES],
                                     const char *name);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_REGISTRY_H */
