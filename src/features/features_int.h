/*
 * The feature store's private layer, shared by the files of src/features:
 * parsed definitions, the key and payload encodings, and read plans.
 *
 * Key encoding (the `key` blob of every table): per key column a tag byte,
 * then for int64 8 bytes big-endian with the sign bit flipped, for a string
 * its bytes and a 0 terminator. Equal keys give equal blobs.
 *
 * Payload encoding (one blob per row, per definition version): a null
 * bitmap of ceil(n / 8) bytes, a fixed area where each feature has its own
 * offset (int64 and float64 8 bytes little-endian, bool 1 byte, f32vec
 * 4 x dim bytes, string 4-byte offset + 4-byte length into the variable
 * area), then the variable area holding string bytes. Null cells are zero,
 * so identical rows encode to identical bytes.
 */
#ifndef MLOPS_FEATURES_INT_H
#define MLOPS_FEATURES_INT_H

#include "mlops/features.h"
#include "../core/core_int.h"
#include "../store/store_int.h"

#define FS_KEY_TAG_INT64 0x01
#define FS_KEY_TAG_STRING 0x02

typedef struct fs_key_column {
    char *name;
    int32_t type;            /* MLOPS_TYPE_INT64 or MLOPS_TYPE_STRING */
} fs_key_column;

typedef struct fs_entity {
    char *name;
    char *description;
    size_t key_count;
    fs_key_column *keys;
} fs_entity;

typedef struct fs_feature {
    char *name;
    char *description;
    int32_t type;            /* MLOPS_TYPE_* */
    uint32_t dim;            /* f32vec dimension, else 1 */
    int not_null;
    int finite;
    int has_min, has_max;
    double min, max;
    int64_t max_length;      /* -1: no limit */
    size_t allowed_count;    /* 0: any value */
    double *allowed_num;     /* int64 / float64 allowed values */
    char **allowed_str;      /* string allowed values */
    uint32_t offset;         /* position in the payload's fixed area */
} fs_feature;

typedef struct fs_view {
    int64_t id;
    char *name;
    char *entity_name;
    char *description;
    int32_t version;
    int64_t ttl_us;          /* 0: values never expire */
    size_t feature_count;
    fs_feature *features;
    uint32_t bitmap_bytes;
    uint32_t fixed_bytes;    /* bitmap + fixed area */
    fs_entity entity;
} fs_view;

/* Where one requested feature lives in the payload of one definition version. */
typedef struct fs_slot {
    int32_t bit;             /* feature index in that version; -1: absent (reads as null) */
    uint32_t offset;
} fs_slot;

/*
 * A read plan: requested features of a view resolved against every stored
 * definition version, so any row decodes with one table lookup.
 */
typedef struct fs_plan {
    fs_view *view;           /* the definition the read names */
    size_t count;
    const fs_feature **features;
    int32_t version_count;   /* versions 1..version_count */
    uint32_t *min_bytes;     /* per version: smallest valid payload */
    fs_slot *slots;          /* [version - 1][count] */
} fs_plan;

/* ---- definitions (defs.c) ---- */
void mlops__fs_entity_clear(fs_entity *entity);
int mlops__fs_entity_load(fs_entity *out, mlops_db *db, const char *name);
/* Load `name` at `version` (0 = current) with its entity; MLOPS_ENOTFOUND when absent. */
int mlops__fs_view_load(fs_view **out, mlops_db *db, const char *name, int32_t version);
void mlops__fs_view_free(fs_view *view);
const fs_feature *mlops__fs_view_feature(const fs_view *view, const char *name);

/* ---- encodings (codec.c) ---- */
/* Column indices of the entity's keys in `frame`, checked for presence and type. */
int mlops__fs_key_columns(size_t *cols, const fs_entity *entity, const mlops_frame *frame, const char *what);
/* Encode the key of `row` into `buf` (reset first); MLOPS_NULL when a key cell is null. */
int mlops__fs_key_encode(mlops__buf *buf, const fs_entity *entity, const size_t *cols, const mlops_frame *frame,
                         size_t row);
/* Append the decoded key columns of `key` to row `row` of `frame` (key columns at `first_col`..). */
int mlops__fs_key_decode(mlops_frame *frame, size_t first_col, size_t row, const fs_entity *entity,
                         const uint8_t *key, size_t len);
/*
 * Encode row `row` of `frame` as a payload of `view` into `buf` (reset first);
 * `cols[i]` is the frame column of feature i or SIZE_MAX when absent.
 */
int mlops__fs_payload_encode(mlops__buf *buf, const fs_view *view, const size_t *cols, const mlops_frame *frame,
                             size_t row);

/* ---- read plans (plan.c) ---- */
int mlops__fs_plan_new(fs_plan **out, mlops_db *db, const char *view, int32_t version,
                       const char *const *features, size_t count);
void mlops__fs_plan_free(fs_plan *plan);
/* Check that `payload` is a valid payload of `version`. */
int mlops__fs_plan_check(const fs_plan *plan, int32_t version, const uint8_t *payload, size_t len);
/* 1 when planned feature i of a checked payload is null (or absent from its version). */
int mlops__fs_plan_is_null(const fs_plan *plan, size_t i, int32_t version, const uint8_t *payload);
/* Add one all-null output column per planned feature to `frame`, named as the feature. */
int mlops__fs_plan_add_columns(const fs_plan *plan, mlops_frame *frame);
/* Write planned feature i of a checked payload into cell (row, col) of `frame` (nothing for a null). */
int mlops__fs_plan_decode_cell(const fs_plan *plan, size_t i, int32_t version, const uint8_t *payload,
                               size_t len, mlops_frame *frame, size_t col, size_t row);
/* Float32 width of the planned features (f32vec expanded); 0 when one is not numeric. */
size_t mlops__fs_plan_width(const fs_plan *plan);
/* Write the planned features of a checked payload as floats (nulls NaN). */
void mlops__fs_plan_decode_floats(const fs_plan *plan, int32_t version, const uint8_t *payload, float *out);
/* Add the output columns of an online / as-of read: keys, event_time, age_us, features. */
int mlops__fs_read_frame(mlops_frame **out, const fs_plan *plan, size_t rows);

/* ---- shared helpers ---- */
/* The read options to use (defaults when NULL), checked. */
int mlops__fs_read_options(mlops_read_options *out, const mlops_read_options *in);
/* Compare two encoded keys as SQLite compares blobs. */
int mlops__fs_key_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);
/* The view's TTL check: 1 when a value at `event_time` is still valid at `at`. */
int mlops__fs_fresh(const fs_view *view, int64_t event_time, int64_t at);

/*
 * Turn SQLite's secure_delete on for this connection (the previous value in
 * `*previous`), so that bytes of rows the feature store replaces or deletes
 * are overwritten when freed, whatever the build's default; and restore it.
 */
int mlops__fs_secure_delete_on(int64_t *previous, mlops_db *db);
void mlops__fs_secure_delete_restore(mlops_db *db, int64_t previous);

#endif /* MLOPS_FEATURES_INT_H */
