/**
 * @file
 * libmlops: the feature store. Entities name the key columns that identify
 * a thing (a customer, a customer and merchant pair); feature views hold
 * typed, contract-checked features of an entity with a TTL. Every stored
 * row carries its event time and its system (ingestion) time, so any read
 * can be repeated exactly as it was at an earlier system time. Data moves
 * in and out as frames. docs/features.md gives the precise semantics.
 *
 * Times are int64 microseconds since the Unix epoch, UTC.
 */
#ifndef MLOPS_FEATURES_H
#define MLOPS_FEATURES_H

#include "common.h"
#include "db.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/** "Not given" for the optional times of mlops_read_options. */
#define MLOPS_TIME_UNSET INT64_MIN

/* Flags of mlops_view_define(). */
#define MLOPS_VIEW_DEFAULT      0u  /**< compatible changes only */
#define MLOPS_VIEW_INCOMPATIBLE 1u  /**< accept a retyping, removal or tightening as a new version */

/* Ingest policies. */
#define MLOPS_INGEST_REJECT     0   /**< any bad row fails the whole write; nothing is written */
#define MLOPS_INGEST_QUARANTINE 1   /**< good rows are written, bad rows go to the quarantine */

/** Contract violations an mlops_ingest_report keeps. */
#define MLOPS_INGEST_MAX_ERRORS 8

/** One contract violation found by an ingest. */
typedef struct mlops_ingest_error {
    int64_t row;          /**< 0-based row of the ingested frame */
    char column[64];      /**< column that broke the rule (truncated) */
    char rule[24];        /**< "not_null", "min", "max", "allowed", "max_length", "finite" */
    char message[160];    /**< human-readable detail (truncated) */
} mlops_ingest_error;

/** What an ingest did. */
typedef struct mlops_ingest_report {
    int64_t rows_written;      /**< rows stored as new history rows */
    int64_t rows_duplicate;    /**< rows identical to the stored row for their key and event time */
    int64_t rows_quarantined;  /**< rows that broke a rule (stored in the quarantine in quarantine mode) */
    int64_t system_time;       /**< system time given to every row of this write */
    int32_t definition_version;/**< view definition version the rows were checked against */
    uint32_t error_count;      /**< entries used in `errors` (the first violations, in row order) */
    mlops_ingest_error errors[MLOPS_INGEST_MAX_ERRORS]; /**< the first violations */
} mlops_ingest_report;

/** The mlops_ingest_options layout these headers describe. */
#define MLOPS_INGEST_OPTIONS_VERSION 1
/** Options of an ingest. */
typedef struct mlops_ingest_options {
    uint32_t version;                /**< MLOPS_INGEST_OPTIONS_VERSION */
    int32_t policy;                  /**< MLOPS_INGEST_REJECT or MLOPS_INGEST_QUARANTINE */
    const char *event_time_column;   /**< NULL means "event_time" */
} mlops_ingest_options;
/** Initializer of mlops_ingest_options with the defaults. */
#define MLOPS_INGEST_OPTIONS_INIT { MLOPS_INGEST_OPTIONS_VERSION, MLOPS_INGEST_REJECT, NULL }

/** The mlops_read_options layout these headers describe. */
#define MLOPS_READ_OPTIONS_VERSION 1
/** Options shared by every read. */
typedef struct mlops_read_options {
    uint32_t version;              /**< MLOPS_READ_OPTIONS_VERSION */
    int32_t definition_version;    /**< 0: the current definition of the view */
    int64_t now;                   /**< TTL reference of online reads; MLOPS_TIME_UNSET: the wall clock */
    int64_t as_of_system_time;     /**< read as the store was at this system time; MLOPS_TIME_UNSET: now */
    const char *timestamp_column;  /**< join: the entity frame's time column; NULL means "timestamp" */
} mlops_read_options;
/** Initializer of mlops_read_options with the defaults. */
#define MLOPS_READ_OPTIONS_INIT { MLOPS_READ_OPTIONS_VERSION, 0, MLOPS_TIME_UNSET, MLOPS_TIME_UNSET, NULL }

/** Set `options` to MLOPS_INGEST_OPTIONS_INIT (for bindings). @thread any */
MLOPS_API void mlops_ingest_options_init(mlops_ingest_options *options);
/** Set `options` to MLOPS_READ_OPTIONS_INIT (for bindings). @thread any */
MLOPS_API void mlops_read_options_init(mlops_read_options *options);

/**
 * Define an entity from JSON: {"name": "customer", "keys": [{"name":
 * "customer_id", "type": "int64"|"string"}, ...], "description": "..."}.
 * Defining the same entity again identically is a no-op; a different
 * definition of an existing name fails with MLOPS_ECONFLICT. @thread handle
 */
MLOPS_API int mlops_entity_define(mlops_db *db, const char *definition_json);

/**
 * Define or change a feature view from JSON (see docs/features.md): name,
 * entity, ttl_us, description, features with type and contract. The first
 * definition is version 1. A compatible change (added features, relaxed
 * rules, new TTL or descriptions) becomes the next version; an incompatible
 * one (retyped, removed or tightened features, another entity) fails with
 * MLOPS_ECONFLICT unless `flags` has MLOPS_VIEW_INCOMPATIBLE. An identical
 * definition keeps the current version. `version_out` (may be NULL) gets the
 * resulting version. @thread handle
 */
MLOPS_API int mlops_view_define(int32_t *version_out, mlops_db *db, const char *definition_json, uint32_t flags);

/** The JSON definition of `view` at `version` (0 = current); free with mlops_free(). @thread handle */
MLOPS_API int mlops_view_definition(char **out, mlops_db *db, const char *view, int32_t version);

/**
 * Write `frame` to `view` in one transaction. The frame holds the entity's
 * key columns, the event time column (INT64 µs or ISO 8601 STRING) and
 * feature columns by name; an absent feature column is null. Every row is
 * checked against the view's contracts. `report` is always filled. Fails
 * with MLOPS_EPOLICY (reject mode, nothing written) when a row breaks a
 * rule; MLOPS_EINVAL for a missing key or time column, an unknown column or
 * a column of the wrong type; MLOPS_EFORMAT for an unparsable time.
 * `options` may be NULL (reject). @thread handle
 */
MLOPS_API int mlops_features_ingest(mlops_ingest_report *report, mlops_db *db, const char *view,
                                    const mlops_frame *frame, const mlops_ingest_options *options);

/**
 * The quarantined rows of `view` as a new frame: "quarantine_id", "rule",
 * "column", "message", "system_time", the key columns, "event_time" and the
 * features of the current definition, oldest first. @thread handle
 */
MLOPS_API int mlops_features_quarantine_list(mlops_frame **out, mlops_db *db, const char *view);

/**
 * Re-ingest corrected quarantined rows: `frame` has the layout given by
 * mlops_features_quarantine_list() (rule, column, message and system_time
 * are ignored). In one transaction the listed quarantine rows are removed
 * and the rows ingested in quarantine mode, so a row that still breaks a
 * rule is quarantined again. MLOPS_ENOTFOUND for an unknown quarantine_id.
 * @thread handle
 */
MLOPS_API int mlops_features_quarantine_retry(mlops_ingest_report *report, mlops_db *db, const char *view,
                                              const mlops_frame *frame);

/**
 * Latest values of `features` of `view` for the keys in `keys` (a frame
 * with the entity's key columns). The new frame holds the key columns,
 * "event_time" and "age_us" (null when the key has no row) and one column
 * per feature; a value older than the TTL at `options->now` is null while
 * its event time and age stay. `options` may be NULL. @thread handle
 */
MLOPS_API int mlops_features_online(mlops_frame **out, mlops_db *db, const char *view, const mlops_frame *keys,
                                    const char *const *features, size_t feature_count,
                                    const mlops_read_options *options);

/**
 * Values of `features` of `view` as of event time `event_time` for the keys
 * in `keys`: for each key the newest row with event time <= `event_time`
 * (ties by the latest system time), null when older than the TTL measured
 * from `event_time`. Output as mlops_features_online(). @thread handle
 */
MLOPS_API int mlops_features_as_of(mlops_frame **out, mlops_db *db, const char *view, const mlops_frame *keys,
                                   const char *const *features, size_t feature_count, int64_t event_time,
                                   const mlops_read_options *options);

/**
 * Point-in-time join: a copy of `entities` (key columns of every referenced
 * view, a timestamp column, any other columns) with one column per
 * reference "view:feature", named as the reference, holding the value of the
 * newest row of that view with event time <= the row's timestamp (ties by
 * the latest system time), null when there is none or it is older than the
 * view's TTL. Row order and duplicates are kept. Memory grows with the
 * entity frame, not with the history. @thread handle
 */
MLOPS_API int mlops_features_join(mlops_frame **out, mlops_db *db, const mlops_frame *entities,
                                  const char *const *refs, size_t ref_count, const mlops_read_options *options);

/** A prepared online read of numeric features into float matrices; opaque. */
typedef struct mlops_online_reader mlops_online_reader;

/**
 * Prepare the fast online path: numeric `features` of `view` (INT64,
 * FLOAT64, BOOL, F32VEC expanded) read into float32 rows in this order.
 * `options` (may be NULL) fixes the definition version; its `now` and
 * `as_of_system_time` must be unset. Free with mlops_online_reader_free().
 * @thread handle
 */
MLOPS_API int mlops_online_reader_open(mlops_online_reader **out, mlops_db *db, const char *view,
                                       const char *const *features, size_t feature_count,
                                       const mlops_read_options *options);
/** Width in floats of one row written by mlops_online_reader_read(). @thread handle */
MLOPS_API size_t mlops_online_reader_width(const mlops_online_reader *reader);
/**
 * Read the latest values for the keys in `keys` into `out` (row-major, rows x
 * width floats, `capacity` floats): nulls, missing keys and values older
 * than the TTL at `now` (MLOPS_TIME_UNSET: the wall clock) become NaN.
 * MLOPS_EBUFSIZE when `capacity` is too small. Allocates nothing after the
 * first call with the largest key. @thread handle
 */
MLOPS_API int mlops_online_reader_read(float *out, size_t capacity, mlops_online_reader *reader,
                                       const mlops_frame *keys, int64_t now);
/** Free `reader`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_online_reader_free(mlops_online_reader *reader);

/**
 * Forget the keys in `keys` (a frame with the key columns of `entity`):
 * delete their rows from the history, the online table and the quarantine
 * of every view of the entity in one transaction, overwrite the freed bytes
 * and truncate the write-ahead log, and record the forget in the audit log
 * with a keyed hash of each key, never the key. `removed_out` (may be NULL)
 * gets the number of rows deleted. MLOPS_EBUSY when another connection keeps
 * the log from being truncated, MLOPS_EIO when truncating it fails: the rows
 * are already deleted and a retry completes the erasure. @thread handle
 */
MLOPS_API int mlops_features_forget(int64_t *removed_out, mlops_db *db, const char *entity,
                                    const mlops_frame *keys);

/**
 * Statistics of `view` as JSON (free with mlops_free()): {"view", "version",
 * "rows" (history rows), "keys" (distinct keys), "newest_event_time" (null
 * when empty), "quarantined", "features": [{"name", "null_rate"}]}, null
 * rates over the latest row of each key. @thread handle
 */
MLOPS_API int mlops_features_stats(char **out, mlops_db *db, const char *view);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_FEATURES_H */
