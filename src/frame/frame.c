/*
 * Frames: typed, columnar, null-aware tables.
 */
#include <math.h>
#include <string.h>

#include "frame_int.h"

#define SUB "frame"

const char *mlops_frame_type_name(int32_t type)
{
    switch (type) {
    case MLOPS_TYPE_INT64: return "int64";
    case MLOPS_TYPE_FLOAT64: return "float64";
    case MLOPS_TYPE_BOOL: return "bool";
    case MLOPS_TYPE_STRING: return "string";
    case MLOPS_TYPE_F32VEC: return "f32vec";
    default: return "unknown";
    }
}

size_t mlops__frame_cell_size(int32_t type, uint32_t dim)
{
    switch (type) {
    case MLOPS_TYPE_INT64: return sizeof(int64_t);
    case MLOPS_TYPE_FLOAT64: return sizeof(double);
    case MLOPS_TYPE_BOOL: return sizeof(uint8_t);
    case MLOPS_TYPE_STRING: return sizeof(char *);
    case MLOPS_TYPE_F32VEC: return sizeof(float) * dim;
    default: return 0;
    }
}

/* Store the type's null filler in rows [from, to) and mark them null. */
static void fill_null(frame_column *col, size_t from, size_t to)
{
    size_t row, k;
    for (row = from; row < to; row++) {
        col->nulls[row] = 1;
        switch (col->type) {
        case MLOPS_TYPE_INT64: ((int64_t *)col->values)[row] = 0; break;
        case MLOPS_TYPE_FLOAT64: ((double *)col->values)[row] = NAN; break;
        case MLOPS_TYPE_BOOL: ((uint8_t *)col->values)[row] = 0; break;
        case MLOPS_TYPE_STRING: ((char **)col->values)[row] = NULL; break;
        case MLOPS_TYPE_F32VEC:
            for (k = 0; k < col->dim; k++)
                ((float *)col->values)[row * col->dim + k] = NAN;
            break;
        default: break;
        }
    }
}

static int column_reserve(frame_column *col, size_t rows)
{
    size_t cell = mlops__frame_cell_size(col->type, col->dim);
    size_t cap = col->capacity;
    void *values;
    uint8_t *nulls;

    if (rows <= cap)
        return MLOPS_OK;
    cap = cap < 16 ? 16 : cap;
    while (cap < rows)
        cap = cap > SIZE_MAX / 2 ? rows : cap * 2;
    if (cap > SIZE_MAX / cell)
        return mlops__error(MLOPS_ENOMEM, SUB, "column \"%s\": %zu rows do not fit in memory", col->name, rows);
    values = mlops__realloc(col->values, cap * cell);
    if (!values)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory growing column \"%s\" to %zu rows", col->name, cap);
    col->values = values;
    nulls = mlops__realloc(col->nulls, cap);
    if (!nulls)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory growing column \"%s\" to %zu rows", col->name, cap);
    col->nulls = nulls;
    col->capacity = cap;
    return MLOPS_OK;
}

int mlops__frame_reserve(mlops_frame *frame, size_t rows)
{
    size_t i;
    int rc;
    for (i = 0; i < frame->column_count; i++) {
        if ((rc = column_reserve(&frame->columns[i], rows)))
            return rc;
    }
    return MLOPS_OK;
}

static void column_clear(frame_column *col, size_t rows)
{
    size_t row;
    if (col->type == MLOPS_TYPE_STRING && col->values) {
        for (row = 0; row < rows; row++)
            mlops__free(((char **)col->values)[row]);
    }
    mlops__free(col->values);
    mlops__free(col->nulls);
    mlops__free(col->name);
    memset(col, 0, sizeof *col);
}

int mlops_frame_new(mlops_frame **out)
{
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_new", "out");
    *out = mlops__calloc(1, sizeof **out);
    if (!*out)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory creating a frame");
    return MLOPS_OK;
}

void mlops_frame_free(mlops_frame *frame)
{
    size_t i;
    if (!frame)
        return;
    for (i = 0; i < frame->column_count; i++)
        column_clear(&frame->columns[i], frame->rows);
    mlops__free(frame->columns);
    mlops__free(frame);
}

size_t mlops_frame_rows(const mlops_frame *frame)
{
    return frame ? frame->rows : 0;
}

size_t mlops_frame_columns(const mlops_frame *frame)
{
    return frame ? frame->column_count : 0;
}

int mlops_frame_column_index(size_t *out, const mlops_frame *frame, const char *name)
{
    size_t i;
    if (!out || !frame || !name)
        return mlops__error_null(SUB, "mlops_frame_column_index", !out ? "out" : !frame ? "frame" : "name");
    for (i = 0; i < frame->column_count; i++) {
        if (strcmp(frame->columns[i].name, name) == 0) {
            *out = i;
            return MLOPS_OK;
        }
    }
    return mlops__error(MLOPS_ENOTFOUND, SUB, "no column \"%s\" in the frame", name);
}

const char *mlops_frame_column_name(const mlops_frame *frame, size_t column)
{
    return frame && column < frame->column_count ? frame->columns[column].name : NULL;
}

int mlops_frame_column_type(const mlops_frame *frame, size_t column)
{
    if (!frame || column >= frame->column_count)
        return mlops__error(MLOPS_EINVAL, SUB, "column %zu out of range", column);
    return frame->columns[column].type;
}

uint32_t mlops_frame_column_dim(const mlops_frame *frame, size_t column)
{
    return frame && column < frame->column_count ? frame->columns[column].dim : 0;
}

/*
 * Append a new column with storage for the frame's rows (cells uninitialised). `check_unique` searches the existing names (linear); a
 * caller that knows the name is new passes 0, so that building a frame of n
 * columns does not take n^2 comparisons.
 */
static int column_push(frame_column **out, mlops_frame *frame, const char *name, int32_t type, uint32_t dim,
                       int check_unique)
{
    void *columns = frame->columns;
    frame_column *col;
    size_t i;
    int rc;

    *out = NULL;
    if (!name)
        return mlops__error_null(SUB, "adding a column", "name");
    if (!*name)
        return mlops__error(MLOPS_EINVAL, SUB, "column names must not be empty");
    if (type < MLOPS_TYPE_INT64 || type > MLOPS_TYPE_F32VEC)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": unknown type %d", name, (int)type);
    if (type == MLOPS_TYPE_F32VEC && (dim == 0 || dim > 1048576))
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": vector dimension %u outside [1, 1048576]", name,
                            (unsigned)dim);
    if (type != MLOPS_TYPE_F32VEC && dim > 1)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": dimension %u given for a %s column", name,
                            (unsigned)dim, mlops_frame_type_name(type));
    for (i = 0; check_unique && i < frame->column_count; i++) {
        if (strcmp(frame->columns[i].name, name) == 0)
            return mlops__error(MLOPS_EEXISTS, SUB, "column \"%s\" already exists", name);
    }
    if (mlops__grow(&columns, &frame->column_capacity, frame->column_count + 1, sizeof(frame_column)))
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory adding column \"%s\"", name);
    frame->columns = columns;
    col = &frame->columns[frame->column_count];
    memset(col, 0, sizeof *col);
    col->type = type;
    col->dim = type == MLOPS_TYPE_F32VEC ? dim : 1;
    col->name = mlops__strdup(name);
    if (!col->name)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory adding column \"%s\"", name);
    if ((rc = column_reserve(col, frame->rows))) {
        column_clear(col, 0);
        return rc;
    }
    frame->column_count++;
    *out = col;
    return MLOPS_OK;
}

/* Undo a column_push() whose filling failed; `rows` cells may hold strings. */
static void column_pop(mlops_frame *frame, size_t rows)
{
    frame->column_count--;
    column_clear(&frame->columns[frame->column_count], rows);
    if (frame->column_count == 0)
        frame->rows = 0;
}

static int add_null_column(mlops_frame *frame, const char *name, int32_t type, uint32_t dim, int check_unique)
{
    frame_column *col;
    int rc;
    if (!frame)
        return mlops__error_null(SUB, "mlops_frame_add_column", "frame");
    if ((rc = column_push(&col, frame, name, type, dim, check_unique)))
        return rc;
    fill_null(col, 0, frame->rows);
    return MLOPS_OK;
}

int mlops_frame_add_column(mlops_frame *frame, const char *name, int32_t type, uint32_t dim)
{
    return add_null_column(frame, name, type, dim, 1);
}

int mlops__frame_add_new_column(mlops_frame *frame, const char *name, int32_t type, uint32_t dim)
{
    return add_null_column(frame, name, type, dim, 0);
}

/* Shared prologue of the mlops_frame_add_<type>() family. */
static int add_typed(frame_column **out, mlops_frame *frame, const char *function, const char *name,
                     const void *values, int32_t type, uint32_t dim, size_t rows)
{
    int rc;
    *out = NULL;
    if (!frame)
        return mlops__error_null(SUB, function, "frame");
    if (!values && rows > 0)
        return mlops__error_null(SUB, function, "values");
    if (frame->column_count > 0 && rows != frame->rows)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column \"%s\" has %zu rows, the frame has %zu", function,
                            name ? name : "(null)", rows, frame->rows);
    if (frame->column_count == 0)
        frame->rows = rows;
    rc = column_push(out, frame, name, type, dim, 1);
    if (rc && frame->column_count == 0)
        frame->rows = 0;
    return rc;
}

static void copy_nulls(frame_column *col, const uint8_t *nulls, size_t rows)
{
    size_t row;
    for (row = 0; row < rows; row++)
        col->nulls[row] = nulls && nulls[row] ? 1 : 0;
}

int mlops_frame_add_int64(mlops_frame *frame, const char *name, const int64_t *values, const uint8_t *nulls,
                          size_t rows)
{
    frame_column *col;
    size_t row;
    int rc = add_typed(&col, frame, "mlops_frame_add_int64", name, values, MLOPS_TYPE_INT64, 0, rows);
    if (rc)
        return rc;
    copy_nulls(col, nulls, rows);
    for (row = 0; row < rows; row++)
        ((int64_t *)col->values)[row] = col->nulls[row] ? 0 : values[row];
    return MLOPS_OK;
}

int mlops_frame_add_float64(mlops_frame *frame, const char *name, const double *values, const uint8_t *nulls,
                            size_t rows)
{
    frame_column *col;
    size_t row;
    int rc = add_typed(&col, frame, "mlops_frame_add_float64", name, values, MLOPS_TYPE_FLOAT64, 0, rows);
    if (rc)
        return rc;
    copy_nulls(col, nulls, rows);
    for (row = 0; row < rows; row++)
        ((double *)col->values)[row] = col->nulls[row] ? NAN : values[row];
    return MLOPS_OK;
}

int mlops_frame_add_bool(mlops_frame *frame, const char *name, const uint8_t *values, const uint8_t *nulls,
                         size_t rows)
{
    frame_column *col;
    size_t row;
    int rc = add_typed(&col, frame, "mlops_frame_add_bool", name, values, MLOPS_TYPE_BOOL, 0, rows);
    if (rc)
        return rc;
    copy_nulls(col, nulls, rows);
    for (row = 0; row < rows; row++)
        ((uint8_t *)col->values)[row] = !col->nulls[row] && values[row] ? 1 : 0;
    return MLOPS_OK;
}

/* Validate one string cell: UTF-8, no NUL (len already excludes it). */
static int check_string(const frame_column *col, size_t row, const char *value, size_t len)
{
    size_t bad;
    if (memchr(value, '\0', len))
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: string contains a NUL byte", col->name, row);
    if (!mlops__utf8_valid(value, len, &bad))
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: invalid UTF-8 at byte %zu", col->name, row,
                            bad);
    return MLOPS_OK;
}

int mlops_frame_add_string(mlops_frame *frame, const char *name, const char *const *values, size_t rows)
{
    frame_column *col;
    size_t row;
    int rc = add_typed(&col, frame, "mlops_frame_add_string", name, values, MLOPS_TYPE_STRING, 0, rows);
    if (rc)
        return rc;
    fill_null(col, 0, rows);
    for (row = 0; row < rows; row++) {
        if (!values[row])
            continue;
        if ((rc = check_string(col, row, values[row], strlen(values[row]))))
            break;
        ((char **)col->values)[row] = mlops__strdup(values[row]);
        if (!((char **)col->values)[row]) {
            rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying column \"%s\"", col->name);
            break;
        }
        col->nulls[row] = 0;
    }
    if (rc)
        column_pop(frame, rows);
    return rc;
}

int mlops_frame_add_f32vec(mlops_frame *frame, const char *name, uint32_t dim, const float *values,
                           const uint8_t *nulls, size_t rows)
{
    frame_column *col;
    size_t row, k;
    int rc;
    if (dim == 0)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_add_f32vec: column \"%s\": dimension must be positive",
                            name ? name : "(null)");
    rc = add_typed(&col, frame, "mlops_frame_add_f32vec", name, values, MLOPS_TYPE_F32VEC, dim, rows);
    if (rc)
        return rc;
    copy_nulls(col, nulls, rows);
    for (row = 0; row < rows; row++) {
        for (k = 0; k < dim; k++)
            ((float *)col->values)[row * dim + k] = col->nulls[row] ? NAN : values[row * dim + k];
    }
    return MLOPS_OK;
}

int mlops_frame_drop_column(mlops_frame *frame, size_t column)
{
    if (!frame)
        return mlops__error_null(SUB, "mlops_frame_drop_column", "frame");
    if (column >= frame->column_count)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_drop_column: column %zu out of range (%zu columns)",
                            column, frame->column_count);
    column_clear(&frame->columns[column], frame->rows);
    memmove(&frame->columns[column], &frame->columns[column + 1],
            (frame->column_count - column - 1) * sizeof(frame_column));
    frame->column_count--;
    if (frame->column_count == 0)
        frame->rows = 0;
    return MLOPS_OK;
}

int mlops_frame_append_rows(mlops_frame *frame, size_t count)
{
    size_t i;
    int rc;
    if (!frame)
        return mlops__error_null(SUB, "mlops_frame_append_rows", "frame");
    if (frame->column_count == 0)
        return mlops__error(MLOPS_ESTATE, SUB, "mlops_frame_append_rows: the frame has no columns");
    if (count > SIZE_MAX - frame->rows)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_append_rows: %zu rows is too many", count);
    if ((rc = mlops__frame_reserve(frame, frame->rows + count)))
        return rc;
    for (i = 0; i < frame->column_count; i++)
        fill_null(&frame->columns[i], frame->rows, frame->rows + count);
    frame->rows += count;
    return MLOPS_OK;
}

/* Find cell (row, column) of `type`, or fail naming what is wrong. */
static int cell(frame_column **out, const mlops_frame *frame, const char *function, size_t column, size_t row,
                int32_t type)
{
    frame_column *col;
    *out = NULL;
    if (!frame)
        return mlops__error_null(SUB, function, "frame");
    if (column >= frame->column_count)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column %zu out of range (%zu columns)", function, column,
                            frame->column_count);
    col = &frame->columns[column];
    if (row >= frame->rows)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column \"%s\": row %zu out of range (%zu rows)", function,
                            col->name, row, frame->rows);
    if (type && col->type != type)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column \"%s\" is %s, not %s", function, col->name,
                            mlops_frame_type_name(col->type), mlops_frame_type_name(type));
    *out = col;
    return MLOPS_OK;
}

int mlops_frame_set_int64(mlops_frame *frame, size_t column, size_t row, int64_t value)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_set_int64", column, row, MLOPS_TYPE_INT64);
    if (rc)
        return rc;
    ((int64_t *)col->values)[row] = value;
    col->nulls[row] = 0;
    return MLOPS_OK;
}

int mlops_frame_set_float64(mlops_frame *frame, size_t column, size_t row, double value)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_set_float64", column, row, MLOPS_TYPE_FLOAT64);
    if (rc)
        return rc;
    ((double *)col->values)[row] = value;
    col->nulls[row] = 0;
    return MLOPS_OK;
}

int mlops_frame_set_bool(mlops_frame *frame, size_t column, size_t row, int32_t value)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_set_bool", column, row, MLOPS_TYPE_BOOL);
    if (rc)
        return rc;
    ((uint8_t *)col->values)[row] = value ? 1 : 0;
    col->nulls[row] = 0;
    return MLOPS_OK;
}

int mlops_frame_set_string(mlops_frame *frame, size_t column, size_t row, const char *value, size_t len)
{
    frame_column *col;
    char *copy;
    int rc = cell(&col, frame, "mlops_frame_set_string", column, row, MLOPS_TYPE_STRING);
    if (rc)
        return rc;
    if (!value)
        return mlops__error_null(SUB, "mlops_frame_set_string", "value");
    if ((rc = check_string(col, row, value, len)))
        return rc;
    copy = mlops__strndup(value, len);
    if (!copy)
        return mlops__error(MLOPS_ENOMEM, SUB, "out of memory setting column \"%s\" row %zu", col->name, row);
    mlops__free(((char **)col->values)[row]);
    ((char **)col->values)[row] = copy;
    col->nulls[row] = 0;
    return MLOPS_OK;
}

int mlops_frame_set_f32vec(mlops_frame *frame, size_t column, size_t row, const float *values, uint32_t dim)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_set_f32vec", column, row, MLOPS_TYPE_F32VEC);
    if (rc)
        return rc;
    if (!values)
        return mlops__error_null(SUB, "mlops_frame_set_f32vec", "values");
    if (dim != col->dim)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu: vector of %u values, the column holds %u",
                            col->name, row, (unsigned)dim, (unsigned)col->dim);
    memcpy((float *)col->values + row * dim, values, dim * sizeof(float));
    col->nulls[row] = 0;
    return MLOPS_OK;
}

int mlops_frame_set_null(mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_set_null", column, row, 0);
    if (rc)
        return rc;
    if (col->type == MLOPS_TYPE_STRING)
        mlops__free(((char **)col->values)[row]);
    fill_null(col, row, row + 1);
    return MLOPS_OK;
}

int mlops_frame_is_null(const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc = cell(&col, frame, "mlops_frame_is_null", column, row, 0);
    if (rc)
        return rc;
    return col->nulls[row] ? 1 : 0;
}

int mlops_frame_get_int64(int64_t *out, const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_get_int64", "out");
    if ((rc = cell(&col, frame, "mlops_frame_get_int64", column, row, MLOPS_TYPE_INT64)))
        return rc;
    *out = ((int64_t *)col->values)[row];
    return col->nulls[row] ? MLOPS_NULL : MLOPS_OK;
}

int mlops_frame_get_float64(double *out, const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_get_float64", "out");
    if ((rc = cell(&col, frame, "mlops_frame_get_float64", column, row, MLOPS_TYPE_FLOAT64)))
        return rc;
    *out = ((double *)col->values)[row];
    return col->nulls[row] ? MLOPS_NULL : MLOPS_OK;
}

int mlops_frame_get_bool(int32_t *out, const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_get_bool", "out");
    if ((rc = cell(&col, frame, "mlops_frame_get_bool", column, row, MLOPS_TYPE_BOOL)))
        return rc;
    *out = ((uint8_t *)col->values)[row];
    return col->nulls[row] ? MLOPS_NULL : MLOPS_OK;
}

int mlops_frame_get_string(const char **out, size_t *len_out, const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    const char *value;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_get_string", "out");
    if ((rc = cell(&col, frame, "mlops_frame_get_string", column, row, MLOPS_TYPE_STRING)))
        return rc;
    value = ((char **)col->values)[row];
    *out = value;
    if (len_out)
        *len_out = value ? strlen(value) : 0;
    return col->nulls[row] ? MLOPS_NULL : MLOPS_OK;
}

int mlops_frame_get_f32vec(const float **out, const mlops_frame *frame, size_t column, size_t row)
{
    frame_column *col;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_get_f32vec", "out");
    if ((rc = cell(&col, frame, "mlops_frame_get_f32vec", column, row, MLOPS_TYPE_F32VEC)))
        return rc;
    *out = (const float *)col->values + row * col->dim;
    return col->nulls[row] ? MLOPS_NULL : MLOPS_OK;
}

/* Shared body of the borrowed column accessors. */
static int column_data(const void **out, const mlops_frame *frame, const char *function, size_t column,
                       int32_t type)
{
    const frame_column *col;
    if (!out)
        return mlops__error_null(SUB, function, "out");
    *out = NULL;
    if (!frame)
        return mlops__error_null(SUB, function, "frame");
    if (column >= frame->column_count)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column %zu out of range (%zu columns)", function, column,
                            frame->column_count);
    col = &frame->columns[column];
    if (type && col->type != type)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column \"%s\" is %s, not %s", function, col->name,
                            mlops_frame_type_name(col->type), mlops_frame_type_name(type));
    *out = type ? col->values : (const void *)col->nulls;
    return MLOPS_OK;
}

int mlops_frame_column_int64(const int64_t **out, const mlops_frame *frame, size_t column)
{
    return column_data((const void **)out, frame, "mlops_frame_column_int64", column, MLOPS_TYPE_INT64);
}

int mlops_frame_column_float64(const double **out, const mlops_frame *frame, size_t column)
{
    return column_data((const void **)out, frame, "mlops_frame_column_float64", column, MLOPS_TYPE_FLOAT64);
}

int mlops_frame_column_bool(const uint8_t **out, const mlops_frame *frame, size_t column)
{
    return column_data((const void **)out, frame, "mlops_frame_column_bool", column, MLOPS_TYPE_BOOL);
}

int mlops_frame_column_f32vec(const float **out, const mlops_frame *frame, size_t column)
{
    return column_data((const void **)out, frame, "mlops_frame_column_f32vec", column, MLOPS_TYPE_F32VEC);
}

int mlops_frame_column_nulls(const uint8_t **out, const mlops_frame *frame, size_t column)
{
    return column_data((const void **)out, frame, "mlops_frame_column_nulls", column, 0);
}

/* Append a deep copy of column `src` (with `rows` rows) to `dst`; `check_unique` as column_push(). */
static int copy_column(mlops_frame *dst, const frame_column *src, size_t rows, int check_unique)
{
    frame_column *col;
    size_t row;
    int rc;
    if (dst->column_count == 0)
        dst->rows = rows;
    if ((rc = column_push(&col, dst, src->name, src->type, src->dim, check_unique)))
        return rc;
    memcpy(col->nulls, src->nulls, rows);
    if (src->type != MLOPS_TYPE_STRING) {
        memcpy(col->values, src->values, rows * mlops__frame_cell_size(src->type, src->dim));
        return MLOPS_OK;
    }
    memset(col->values, 0, rows * sizeof(char *));
    for (row = 0; row < rows; row++) {
        const char *text = ((char **)src->values)[row];
        if (!text)
            continue;
        ((char **)col->values)[row] = mlops__strdup(text);
        if (!((char **)col->values)[row]) {
            column_pop(dst, rows);
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying column \"%s\"", src->name);
        }
    }
    return MLOPS_OK;
}

int mlops_frame_clone(mlops_frame **out, const mlops_frame *frame)
{
    mlops_frame *copy = NULL;
    size_t i;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_clone", "out");
    *out = NULL;
    if (!frame)
        return mlops__error_null(SUB, "mlops_frame_clone", "frame");
    if ((rc = mlops_frame_new(&copy)))
        return rc;
    for (i = 0; i < frame->column_count && rc == MLOPS_OK; i++)
        rc = copy_column(copy, &frame->columns[i], frame->rows, 0);
    if (rc) {
        mlops_frame_free(copy);
        return rc;
    }
    copy->rows = frame->rows;
    *out = copy;
    return MLOPS_OK;
}

int mlops_frame_take_rows(mlops_frame **out, const mlops_frame *frame, const size_t *rows, size_t count)
{
    mlops_frame *taken = NULL;
    size_t i, c;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_take_rows", "out");
    *out = NULL;
    if (!frame || (!rows && count))
        return mlops__error_null(SUB, "mlops_frame_take_rows", !frame ? "frame" : "rows");
    for (i = 0; i < count; i++) {
        if (rows[i] >= frame->rows)
            return mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_take_rows: row %zu (entry %zu) out of range (%zu rows)",
                                rows[i], i, frame->rows);
    }
    if ((rc = mlops_frame_new(&taken)))
        return rc;
    for (c = 0; c < frame->column_count && rc == MLOPS_OK; c++) {
        const frame_column *src = &frame->columns[c];
        frame_column *col;
        size_t cell = mlops__frame_cell_size(src->type, src->dim);
        taken->rows = count;
        if ((rc = column_push(&col, taken, src->name, src->type, src->dim, 0)))
            break;
        if (src->type == MLOPS_TYPE_STRING && count > 0)
            memset(col->values, 0, count * sizeof(char *));
        for (i = 0; i < count; i++) {
            col->nulls[i] = src->nulls[rows[i]];
            if (src->type != MLOPS_TYPE_STRING) {
                memcpy((char *)col->values + i * cell, (const char *)src->values + rows[i] * cell, cell);
            } else if (((char *const *)src->values)[rows[i]]) {
                ((char **)col->values)[i] = mlops__strdup(((char *const *)src->values)[rows[i]]);
                if (!((char **)col->values)[i]) {
                    column_pop(taken, count);
                    rc = mlops__error(MLOPS_ENOMEM, SUB, "out of memory copying column \"%s\"", src->name);
                    break;
                }
            }
        }
    }
    if (rc) {
        mlops_frame_free(taken);
        return rc;
    }
    taken->rows = frame->column_count ? count : 0;
    *out = taken;
    return MLOPS_OK;
}

int mlops_frame_select(mlops_frame **out, const mlops_frame *frame, const char *const *columns, size_t count)
{
    mlops_frame *selected = NULL;
    size_t i, index;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_frame_select", "out");
    *out = NULL;
    if (!frame || (!columns && count))
        return mlops__error_null(SUB, "mlops_frame_select", !frame ? "frame" : "columns");
    if ((rc = mlops_frame_new(&selected)))
        return rc;
    for (i = 0; i < count && rc == MLOPS_OK; i++) {
        if (!columns[i])
            rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_select: column name %zu is NULL", i);
        else if ((rc = mlops_frame_column_index(&index, frame, columns[i])) == MLOPS_OK)
            rc = copy_column(selected, &frame->columns[index], frame->rows, 1);
    }
    if (rc) {
        mlops_frame_free(selected);
        return rc;
    }
    selected->rows = count ? frame->rows : 0;
    *out = selected;
    return MLOPS_OK;
}

int mlops_frame_to_matrix(float *out, size_t capacity, size_t *width_out, const mlops_frame *frame,
                          const char *const *columns, size_t count, uint32_t flags)
{
    const frame_column *picked[256];
    const frame_column **cols = picked;
    size_t width = 0, offset, row, i, k, index;
    int rc = MLOPS_OK;

    if (width_out)
        *width_out = 0;
    if (!frame || (!columns && count))
        return mlops__error_null(SUB, "mlops_frame_to_matrix", !frame ? "frame" : "columns");
    if (flags > MLOPS_MATRIX_NULLS_REFUSE)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_to_matrix: unknown flags 0x%x", (unsigned)flags);
    if (count > sizeof picked / sizeof picked[0]) {
        cols = mlops__malloc(count * sizeof(const frame_column *));
        if (!cols)
            return mlops__error(MLOPS_ENOMEM, SUB, "out of memory converting %zu columns", count);
    }
    for (i = 0; i < count; i++) {
        if (!columns[i]) {
            rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_to_matrix: column name %zu is NULL", i);
            goto out_free_cols;
        }
        if ((rc = mlops_frame_column_index(&index, frame, columns[i])))
            goto out_free_cols;
        cols[i] = &frame->columns[index];
        if (cols[i]->type == MLOPS_TYPE_STRING) {
            rc = mlops__error(MLOPS_EINVAL, SUB, "mlops_frame_to_matrix: column \"%s\" is a string column",
                              cols[i]->name);
            goto out_free_cols;
        }
        width += cols[i]->dim;
    }
    if (width_out)
        *width_out = width;
    if (width && frame->rows > capacity / width) {
        rc = mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_frame_to_matrix: needs %zu x %zu floats, capacity is %zu",
                          frame->rows, width, capacity);
        goto out_free_cols;
    }
    if (!out && frame->rows && count) {
        rc = mlops__error_null(SUB, "mlops_frame_to_matrix", "out");
        goto out_free_cols;
    }
    for (offset = 0, i = 0; i < count; offset += cols[i]->dim, i++) {
        const frame_column *col = cols[i];
        for (row = 0; row < frame->rows; row++) {
            float *dst = out + row * width + offset;
            if (col->nulls[row]) {
                if (flags & MLOPS_MATRIX_NULLS_REFUSE) {
                    rc = mlops__error(MLOPS_EINVAL, SUB, "column \"%s\" row %zu is null", col->name, row);
                    goto out_free_cols;
                }
                for (k = 0; k < col->dim; k++)
                    dst[k] = NAN;
                continue;
            }
            switch (col->type) {
            case MLOPS_TYPE_INT64: dst[0] = (float)((const int64_t *)col->values)[row]; break;
            case MLOPS_TYPE_FLOAT64: dst[0] = (float)((const double *)col->values)[row]; break;
            case MLOPS_TYPE_BOOL: dst[0] = (float)((const uint8_t *)col->values)[row]; break;
            default: memcpy(dst, (const float *)col->values + row * col->dim, col->dim * sizeof(float)); break;
            }
        }
    }
out_free_cols:
    if (cols != picked)
        mlops__free(cols);
    return rc;
}
