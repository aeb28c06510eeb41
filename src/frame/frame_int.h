/*
 * The frame's layout, shared by the files of src/frame.
 */
#ifndef MLOPS_FRAME_INT_H
#define MLOPS_FRAME_INT_H

#include "mlops/frame.h"
#include "../core/core_int.h"

typedef struct frame_column {
    char *name;
    int32_t type;
    uint32_t dim;      /* F32VEC dimension; 1 for scalar types */
    void *values;      /* int64_t, double, uint8_t, char * (owned strings) or float x dim per row */
    uint8_t *nulls;    /* 1 = null */
    size_t capacity;   /* rows allocated */
} frame_column;

struct mlops_frame {
    frame_column *columns;
    size_t column_count;
    size_t column_capacity;
    size_t rows;
};

/* Bytes one row of a column of `type` and `dim` takes in `values`. */
size_t mlops__frame_cell_size(int32_t type, uint32_t dim);
/*
 * mlops_frame_add_column() for a name the caller has already checked is not
 * in the frame: skips the search, so adding n columns stays linear.
 */
int mlops__frame_add_new_column(mlops_frame *frame, const char *name, int32_t type, uint32_t dim);
/* Make room for `rows` rows in every column (rows stay as they are). */
int mlops__frame_reserve(mlops_frame *frame, size_t rows);

#endif /* MLOPS_FRAME_INT_H */
