/*
 * Private services shared by the files of the registry: statement helpers,
 * lookups of models and versions by name, name checks, the change record
 * (audit entry plus change-log row) and JSON output of a version.
 */
#ifndef MLOPS_REGISTRY_INT_H
#define MLOPS_REGISTRY_INT_H

#include "mlops/registry.h"
#include "../store/store_int.h"

#define MLOPS__REG "registry"
/* Raw bytes per artifact chunk: the unit of compression, verification and streaming. */
#define MLOPS__CHUNK_BYTES ((size_t)1 << 20)

/*
 * Prepare `sql` and bind its parameters from the variable arguments as
 * `types` says, one letter each: 'i' int64_t, 'd' double, 't' NUL-terminated
 * text, 'T' text or SQL NULL when the pointer is NULL, 'b' a blob as
 * (const void *, size_t), 'n' SQL NULL (no argument).
 */
int mlops__reg_prepare(mlops__stmt **out, mlops_db *db, const char *sql, const char *types, ...);
/* Prepare, bind, run to completion and release: for statements returning no rows. */
int mlops__reg_exec(mlops_db *db, const char *sql, const char *types, ...);
/* Run a query returning one integer; MLOPS_DONE (no error set) when it returns no row. */
int mlops__reg_query_int(int64_t *out, mlops_db *db, const char *sql, const char *types, ...);

/* Name checks with a message naming the bad name. */
int mlops__reg_check_model_name(const char *name);
int mlops__reg_check_alias_name(const char *alias);
/* Validate an optional JSON object (NULL or "" = "{}"); `strings_only` requires string values. Compact copy in *out. */
int mlops__reg_json_object(char **out, const char *text, const char *what, int strings_only);

/* Find a model / version by name: MLOPS_ENOTFOUND naming it. */
int mlops__reg_model_find(int64_t *model_id, mlops_db *db, const char *model);
int mlops__reg_version_find(int64_t *version_id, mlops_db *db, int64_t model_id, const char *model,
                            int64_t version);
/* Both at once, from the public (model, version) pair. */
int mlops__reg_locate(int64_t *model_id, int64_t *version_id, mlops_db *db, const char *model, int64_t version);

/*
 * Record a change inside the caller's transaction: an audit entry (action
 * `kind`, object "model:<name>[/<version>][@<alias>]", details JSON) and a
 * change-log row for watchers.
 */
int mlops__reg_record(mlops_db *db, const char *kind, const char *model, int64_t version, const char *alias,
                      const char *details_json);

/* Hand the document in `buf` to *json_out when rc is MLOPS_OK and the buffer is whole; frees `buf`. */
int mlops__reg_json_detach(char **json_out, mlops__buf *buf, int rc);
/* As mlops__reg_json_detach() for a listing whose rows ended (rc MLOPS_DONE): closes its array first. */
int mlops__reg_json_list_end(char **json_out, mlops__buf *buf, int rc);
/* Append the JSON document of one version (by row id) to `buf`. */
int mlops__reg_version_json(mlops__buf *buf, mlops_db *db, int64_t version_id);

/* The latest value of metric `name` of a version (optionally on `dataset`): MLOPS_DONE when none. */
int mlops__reg_metric_latest(double *value, double *ci_low, int *has_ci, mlops_db *db, int64_t version_id,
                             const char *name, const char *dataset);

/* Insert the chunks of an artifact while computing its hash; shared by version writers and bundle import. */
typedef struct mlops__chunk_sink {
    mlops_db *db;
    int64_t artifact_id;   /* the staged reg_artifact row */
    int64_t chunks;
    int64_t size;
    mlops__sha256 sha;
} mlops__chunk_sink;
/* Stage a new artifact row and start hashing. */
int mlops__chunk_sink_begin(mlops__chunk_sink *sink, mlops_db *db);
/* Store one chunk: `raw` (its bytes, for the hash) and `zdata` (its zstd frame, made with a content checksum). */
int mlops__chunk_sink_put(mlops__chunk_sink *sink, const void *raw, size_t raw_len, const void *zdata,
                          size_t zlen);
/* Finish: the content hash in `sha_out`; *artifact_id is the existing artifact of that content, the staged one dropped. */
int mlops__chunk_sink_finish(int64_t *artifact_id, uint8_t sha_out[MLOPS__SHA256_BYTES], mlops__chunk_sink *sink);

/*
 * Validate a lineage list: an array of {"name": text, "version": int >= 0}
 * at `path`; then insert it for a version. Shared by registration and import.
 */
int mlops__reg_lineage_check(const mlops__json *views, const char *path);
int mlops__reg_lineage_insert(mlops_db *db, int64_t version_id, const mlops__json *views);

/*
 * Decode one stored chunk frame into `raw` (MLOPS__CHUNK_BYTES): 1 when it
 * carries its content checksum, decompresses (which verifies the checksum)
 * and yields exactly `expected` bytes; 0 when it is damaged.
 */
int mlops__chunk_decode(void *dctx, uint8_t *raw, const void *zdata, size_t zlen, size_t expected);

#endif /* MLOPS_REGISTRY_INT_H */
