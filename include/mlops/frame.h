/**
 * @file
 * libmlops: frames. A frame is a typed, columnar, null-aware table; every
 * column has the same number of rows. It is the value type that carries data
 * between the feature store, the trainer, sessions and drift profiles.
 *
 * Threading: a frame is `handle` (one thread at a time); const reads from
 * several threads at once are safe while nobody modifies it.
 * Borrowed pointers (names, strings, column data) stay valid until the frame
 * is modified or freed.
 */
#ifndef MLOPS_FRAME_H
#define MLOPS_FRAME_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/** A typed, columnar, null-aware table; opaque. */
typedef struct mlops_frame mlops_frame;

/* Column types. Pinned. */
#define MLOPS_TYPE_INT64   1  /**< int64_t; timestamps are int64 microseconds since the epoch, UTC */
#define MLOPS_TYPE_FLOAT64 2  /**< double */
#define MLOPS_TYPE_BOOL    3  /**< uint8_t 0 or 1 */
#define MLOPS_TYPE_STRING  4  /**< UTF-8 text without NUL bytes */
#define MLOPS_TYPE_F32VEC  5  /**< fixed-dimension vector of float */

/* Flags of mlops_frame_to_matrix(). */
#define MLOPS_MATRIX_NULLS_AS_NAN 0u  /**< a null cell becomes NaN */
#define MLOPS_MATRIX_NULLS_REFUSE 1u  /**< a null cell fails the call with MLOPS_EINVAL */

/** Static name of column type `type` ("int64", "float64", "bool", "string", "f32vec"), or "unknown". @thread any */
MLOPS_API const char *mlops_frame_type_name(int32_t type);
/** Create an empty frame (no columns, no rows); free with mlops_frame_free(). @thread any */
MLOPS_API int mlops_frame_new(mlops_frame **out);
/** Free `frame`; NULL is a no-op. @thread handle */
MLOPS_API void mlops_frame_free(mlops_frame *frame);
/** Deep copy of `frame`; the caller owns the copy. @thread handle */
MLOPS_API int mlops_frame_clone(mlops_frame **out, const mlops_frame *frame);

/** Number of rows (0 for NULL). @thread handle */
MLOPS_API size_t mlops_frame_rows(const mlops_frame *frame);
/** Number of columns (0 for NULL). @thread handle */
MLOPS_API size_t mlops_frame_columns(const mlops_frame *frame);
/** Index of the column called `name`; MLOPS_ENOTFOUND when absent. @thread handle */
MLOPS_API int mlops_frame_column_index(size_t *out, const mlops_frame *frame, const char *name);
/** Name of column `column`, borrowed; NULL when out of range. @thread handle */
MLOPS_API const char *mlops_frame_column_name(const mlops_frame *frame, size_t column);
/** MLOPS_TYPE_* of column `column`, or MLOPS_EINVAL when out of range. @thread handle */
MLOPS_API int mlops_frame_column_type(const mlops_frame *frame, size_t column);
/** Vector dimension of an F32VEC column, 1 for scalar columns, 0 when out of range. @thread handle */
MLOPS_API uint32_t mlops_frame_column_dim(const mlops_frame *frame, size_t column);

/** Add an all-null column of `type` (`dim` > 0 for F32VEC, else 0); names are unique. @thread handle */
MLOPS_API int mlops_frame_add_column(mlops_frame *frame, const char *name, int32_t type, uint32_t dim);
/** Add an int64 column copied from `values`; `nulls` (1 = null) may be NULL; `rows` must match the frame unless it has no columns. @thread handle */
MLOPS_API int mlops_frame_add_int64(mlops_frame *frame, const char *name, const int64_t *values,
                                    const uint8_t *nulls, size_t rows);
/** Add a float64 column copied from `values`, as mlops_frame_add_int64(). @thread handle */
MLOPS_API int mlops_frame_add_float64(mlops_frame *frame, const char *name, const double *values,
                                      const uint8_t *nulls, size_t rows);
/** Add a bool column copied from `values` (0 or non-zero), as mlops_frame_add_int64(). @thread handle */
MLOPS_API int mlops_frame_add_bool(mlops_frame *frame, const char *name, const uint8_t *values,
                                   const uint8_t *nulls, size_t rows);
/** Add a string column copied from NUL-terminated UTF-8 `values`; a NULL entry is a null. @thread handle */
MLOPS_API int mlops_frame_add_string(mlops_frame *frame, const char *name, const char *const *values,
                                     size_t rows);
/** Add an F32VEC column of `dim` copied from row-major `values` (rows x dim). @thread handle */
MLOPS_API int mlops_frame_add_f32vec(mlops_frame *frame, const char *name, uint32_t dim,
                                     const float *values, const uint8_t *nulls, size_t rows);
/** Drop column `column`; later columns move down by one. @thread handle */
MLOPS_API int mlops_frame_drop_column(mlops_frame *frame, size_t column);

/** Append `count` rows whose cells are all null; fill them with mlops_frame_set_*(). @thread handle */
MLOPS_API int mlops_frame_append_rows(mlops_frame *frame, size_t count);
/** Set cell (row, column) of an INT64 column. @thread handle */
MLOPS_API int mlops_frame_set_int64(mlops_frame *frame, size_t column, size_t row, int64_t value);
/** Set cell (row, column) of a FLOAT64 column. @thread handle */
MLOPS_API int mlops_frame_set_float64(mlops_frame *frame, size_t column, size_t row, double value);
/** Set cell (row, column) of a BOOL column (non-zero is true). @thread handle */
MLOPS_API int mlops_frame_set_bool(mlops_frame *frame, size_t column, size_t row, int32_t value);
/** Set cell (row, column) of a STRING column to a copy of `len` bytes of UTF-8 `value`. @thread handle */
MLOPS_API int mlops_frame_set_string(mlops_frame *frame, size_t column, size_t row, const char *value,
                                     size_t len);
/** Set cell (row, column) of an F32VEC column to a copy of `dim` floats. @thread handle */
MLOPS_API int mlops_frame_set_f32vec(mlops_frame *frame, size_t column, size_t row, const float *values,
                                     uint32_t dim);
/** Make cell (row, column) null. @thread handle */
MLOPS_API int mlops_frame_set_null(mlops_frame *frame, size_t column, size_t row);

/** 1 when cell (row, column) is null, 0 when it has a value, MLOPS_EINVAL when out of range. @thread handle */
MLOPS_API int mlops_frame_is_null(const mlops_frame *frame, size_t column, size_t row);
/** Read an INT64 cell; MLOPS_NULL (and *out = 0) for a null cell. @thread handle */
MLOPS_API int mlops_frame_get_int64(int64_t *out, const mlops_frame *frame, size_t column, size_t row);
/** Read a FLOAT64 cell; MLOPS_NULL (and *out = NaN) for a null cell. @thread handle */
MLOPS_API int mlops_frame_get_float64(double *out, const mlops_frame *frame, size_t column, size_t row);
/** Read a BOOL cell as 0 or 1; MLOPS_NULL for a null cell. @thread handle */
MLOPS_API int mlops_frame_get_bool(int32_t *out, const mlops_frame *frame, size_t column, size_t row);
/** Read a STRING cell, borrowed and NUL-terminated; `len_out` may be NULL; MLOPS_NULL for a null cell. @thread handle */
MLOPS_API int mlops_frame_get_string(const char **out, size_t *len_out, const mlops_frame *frame,
                                     size_t column, size_t row);
/** Read an F32VEC cell as a borrowed pointer to `dim` floats; MLOPS_NULL for a null cell. @thread handle */
MLOPS_API int mlops_frame_get_f32vec(const float **out, const mlops_frame *frame, size_t column, size_t row);

/** Borrowed contiguous storage of an INT64 column (null cells hold 0). @thread handle */
MLOPS_API int mlops_frame_column_int64(const int64_t **out, const mlops_frame *frame, size_t column);
/** Borrowed contiguous storage of a FLOAT64 column (null cells hold NaN). @thread handle */
MLOPS_API int mlops_frame_column_float64(const double **out, const mlops_frame *frame, size_t column);
/** Borrowed contiguous storage of a BOOL column, one byte per row (null cells hold 0). @thread handle */
MLOPS_API int mlops_frame_column_bool(const uint8_t **out, const mlops_frame *frame, size_t column);
/** Borrowed row-major storage of an F32VEC column, rows x dim (null cells hold NaN). @thread handle */
MLOPS_API int mlops_frame_column_f32vec(const float **out, const mlops_frame *frame, size_t column);
/** Borrowed null mask of a column, one byte per row, 1 = null. @thread handle */
MLOPS_API int mlops_frame_column_nulls(const uint8_t **out, const mlops_frame *frame, size_t column);

/** New frame with copies of rows `rows[0..count)` of `frame`, in that order (repeats allowed). @thread handle */
MLOPS_API int mlops_frame_take_rows(mlops_frame **out, const mlops_frame *frame, const size_t *rows, size_t count);
/** New frame with copies of the named columns in the given order. @thread handle */
MLOPS_API int mlops_frame_select(mlops_frame **out, const mlops_frame *frame, const char *const *columns,
                                 size_t count);
/**
 * Write the named numeric columns (INT64, FLOAT64, BOOL, F32VEC expanded to
 * its dim) into `out` as a dense row-major float matrix of rows x width.
 * `width_out` (may be NULL) receives the width; when `capacity` (in floats) is
 * below rows x width the call fails with MLOPS_EBUFSIZE after setting it.
 * `flags`: MLOPS_MATRIX_NULLS_AS_NAN or MLOPS_MATRIX_NULLS_REFUSE. @thread handle
 */
MLOPS_API int mlops_frame_to_matrix(float *out, size_t capacity, size_t *width_out, const mlops_frame *frame,
                                    const char *const *columns, size_t count, uint32_t flags);

/**
 * Parse CSV text (RFC 4180) into a new frame. `options_json` may be NULL or an
 * object with keys: "header" (bool, default true), "delimiter" (one-character
 * string, default ","), "schema" (object mapping column name to a type name
 * "int64", "float64", "bool", "string", "timestamp" or {"type": "f32vec",
 * "dim": N}; columns not named are inferred), "max_field_bytes" (int, default
 * 1048576), "max_frame_bytes" (int, default 1073741824: memory of the frame's
 * cells, one null flag per cell included; strings count 8 bytes a cell and
 * their text is bounded by the input's size). A limit exceeded gives
 * MLOPS_ELIMIT. An empty field is null; "timestamp" parses ISO 8601 (UTC) or
 * integer microseconds into INT64; a vector is "[1,2,3]". Malformed input gives
 * MLOPS_EFORMAT naming the line and column, and no frame. @thread any
 */
MLOPS_API int mlops_frame_parse_csv(mlops_frame **out, const char *data, size_t len, const char *options_json);
/** Read the CSV file at `path` into a new frame, as mlops_frame_parse_csv(). @thread any */
MLOPS_API int mlops_frame_read_csv(mlops_frame **out, const char *path, const char *options_json);
/**
 * Format `frame` as CSV into a new buffer (free with mlops_free()); `len_out`
 * may be NULL. Options: "header" (bool), "delimiter" (string). Nulls become
 * empty fields; floats are written so they read back to the same bits. @thread handle
 */
MLOPS_API int mlops_frame_format_csv(char **out, size_t *len_out, const mlops_frame *frame,
                                     const char *options_json);
/** Write `frame` as CSV to the file at `path` (replaced atomically), as mlops_frame_format_csv(). @thread handle */
MLOPS_API int mlops_frame_write_csv(const mlops_frame *frame, const char *path, const char *options_json);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_FRAME_H */
