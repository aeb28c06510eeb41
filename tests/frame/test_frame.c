/*
 * Frames: building, reading, nulls, selection, conversion to a matrix, and
 * the refusal of every bad argument.
 */
#include <math.h>
#include <string.h>

#include "test_support.h"

static mlops_frame *sample(void)
{
    const int64_t ids[] = {7, 8, 9};
    const double amounts[] = {1.5, -2.25, 1e300};
    const uint8_t amount_nulls[] = {0, 1, 0};
    const uint8_t flags[] = {1, 0, 1};
    const char *const names[] = {"anna", NULL, "zoë"};
    const float vectors[] = {1, 2, 3, 4, 5, 6};
    const uint8_t vector_nulls[] = {0, 0, 1};
    mlops_frame *frame = NULL;
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "id", ids, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "amount", amounts, amount_nulls, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_bool(frame, "flag", flags, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "name", names, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_f32vec(frame, "embedding", 2, vectors, vector_nulls, 3), MLOPS_OK);
    return frame;
}

static void test_build_and_read_every_type(void **state)
{
    mlops_frame *frame = sample();
    int64_t i;
    double d;
    int32_t b;
    const char *s;
    size_t len, index;
    const float *v;
    (void)state;
    assert_int_equal(mlops_frame_rows(frame), 3);
    assert_int_equal(mlops_frame_columns(frame), 5);
    assert_string_equal(mlops_frame_column_name(frame, 3), "name");
    assert_int_equal(mlops_frame_column_type(frame, 4), MLOPS_TYPE_F32VEC);
    assert_int_equal(mlops_frame_column_dim(frame, 4), 2);
    assert_int_equal(mlops_frame_column_dim(frame, 0), 1);
    assert_string_equal(mlops_frame_type_name(mlops_frame_column_type(frame, 3)), "string");
    assert_string_equal(mlops_frame_type_name(MLOPS_TYPE_F32VEC), "f32vec");
    assert_string_equal(mlops_frame_type_name(99), "unknown");
    assert_int_equal(mlops_frame_column_index(&index, frame, "flag"), MLOPS_OK);
    assert_int_equal(index, 2);

    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 2), MLOPS_OK);
    assert_int_equal(i, 9);
    assert_int_equal(mlops_frame_get_float64(&d, frame, 1, 0), MLOPS_OK);
    assert_true(d == 1.5);
    assert_int_equal(mlops_frame_get_float64(&d, frame, 1, 1), MLOPS_NULL);
    assert_true(isnan(d));
    assert_int_equal(mlops_frame_get_bool(&b, frame, 2, 0), MLOPS_OK);
    assert_int_equal(b, 1);
    assert_int_equal(mlops_frame_get_string(&s, &len, frame, 3, 2), MLOPS_OK);
    assert_string_equal(s, "zoë");
    assert_int_equal(len, 4);
    assert_int_equal(mlops_frame_get_string(&s, NULL, frame, 3, 1), MLOPS_NULL);
    assert_null(s);
    assert_int_equal(mlops_frame_get_f32vec(&v, frame, 4, 1), MLOPS_OK);
    assert_true(v[0] == 3 && v[1] == 4);
    assert_int_equal(mlops_frame_get_f32vec(&v, frame, 4, 2), MLOPS_NULL);
    assert_true(isnan(v[0]));
    assert_int_equal(mlops_frame_is_null(frame, 1, 1), 1);
    assert_int_equal(mlops_frame_is_null(frame, 1, 0), 0);
    mlops_frame_free(frame);
}

static void test_column_storage_is_contiguous(void **state)
{
    mlops_frame *frame = sample();
    const int64_t *ids;
    const double *amounts;
    const uint8_t *flags, *nulls;
    const float *vectors;
    (void)state;
    assert_int_equal(mlops_frame_column_int64(&ids, frame, 0), MLOPS_OK);
    assert_int_equal(ids[1], 8);
    assert_int_equal(mlops_frame_column_float64(&amounts, frame, 1), MLOPS_OK);
    assert_true(isnan(amounts[1]));
    assert_int_equal(mlops_frame_column_bool(&flags, frame, 2), MLOPS_OK);
    assert_int_equal(flags[2], 1);
    assert_int_equal(mlops_frame_column_f32vec(&vectors, frame, 4), MLOPS_OK);
    assert_true(vectors[3] == 4);
    assert_int_equal(mlops_frame_column_nulls(&nulls, frame, 3), MLOPS_OK);
    assert_int_equal(nulls[0], 0);
    assert_int_equal(nulls[1], 1);
    ts_assert_error(mlops_frame_column_int64(&ids, frame, 1), MLOPS_EINVAL, "is float64, not int64");
    assert_null(ids);
    ts_assert_error(mlops_frame_column_nulls(&nulls, frame, 5), MLOPS_EINVAL, "out of range");
    mlops_frame_free(frame);
}

static void test_append_rows_and_set_cells(void **state)
{
    mlops_frame *frame = sample();
    const float vec[] = {9, 10};
    int64_t i;
    const char *s;
    (void)state;
    assert_int_equal(mlops_frame_append_rows(frame, 1000), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(frame), 1003);
    assert_int_equal(mlops_frame_is_null(frame, 0, 1002), 1);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 0), MLOPS_OK);
    assert_int_equal(i, 7);
    assert_int_equal(mlops_frame_set_int64(frame, 0, 1002, -5), MLOPS_OK);
    assert_int_equal(mlops_frame_set_float64(frame, 1, 1002, 2.5), MLOPS_OK);
    assert_int_equal(mlops_frame_set_bool(frame, 2, 1002, 7), MLOPS_OK);
    assert_int_equal(mlops_frame_set_string(frame, 3, 1002, "abcdef", 3), MLOPS_OK);
    assert_int_equal(mlops_frame_set_string(frame, 3, 1002, "xyz", 2), MLOPS_OK);
    assert_int_equal(mlops_frame_set_f32vec(frame, 4, 1002, vec, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 1002), MLOPS_OK);
    assert_int_equal(i, -5);
    assert_int_equal(mlops_frame_get_string(&s, NULL, frame, 3, 1002), MLOPS_OK);
    assert_string_equal(s, "xy");
    assert_int_equal(mlops_frame_set_null(frame, 3, 1002), MLOPS_OK);
    assert_int_equal(mlops_frame_get_string(&s, NULL, frame, 3, 1002), MLOPS_NULL);
    assert_int_equal(mlops_frame_set_null(frame, 0, 1002), MLOPS_OK);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 1002), MLOPS_NULL);
    assert_int_equal(i, 0);
    /* A column added later starts all null. */
    assert_int_equal(mlops_frame_add_column(frame, "late", MLOPS_TYPE_STRING, 0), MLOPS_OK);
    assert_int_equal(mlops_frame_is_null(frame, 5, 0), 1);
    mlops_frame_free(frame);
}

static void test_bad_arguments_are_refused(void **state)
{
    mlops_frame *frame = sample();
    const int64_t ids[] = {1, 2};
    const float vec[] = {1, 2, 3};
    const char *const bad_utf8[] = {"ok", "\xC3\x28"};
    int64_t i;
    size_t index;
    (void)state;
    ts_assert_error(mlops_frame_new(NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_frame_add_int64(frame, "short", ids, NULL, 2), MLOPS_EINVAL, "has 2 rows, the frame has 3");
    ts_assert_error(mlops_frame_add_int64(frame, "id", ids, NULL, 3), MLOPS_EEXISTS, "\"id\" already exists");
    ts_assert_error(mlops_frame_add_int64(NULL, "x", ids, NULL, 2), MLOPS_EINVAL, "frame");
    ts_assert_error(mlops_frame_add_int64(frame, NULL, ids, NULL, 3), MLOPS_EINVAL, "name");
    ts_assert_error(mlops_frame_add_int64(frame, "x", NULL, NULL, 3), MLOPS_EINVAL, "values");
    ts_assert_error(mlops_frame_add_column(frame, "", MLOPS_TYPE_INT64, 0), MLOPS_EINVAL, "empty");
    ts_assert_error(mlops_frame_add_column(frame, "t", 99, 0), MLOPS_EINVAL, "unknown type 99");
    ts_assert_error(mlops_frame_add_column(frame, "v", MLOPS_TYPE_F32VEC, 0), MLOPS_EINVAL, "dimension");
    ts_assert_error(mlops_frame_add_column(frame, "w", MLOPS_TYPE_INT64, 4), MLOPS_EINVAL, "dimension 4");
    ts_assert_error(mlops_frame_add_f32vec(frame, "z", 0, vec, NULL, 3), MLOPS_EINVAL, "dimension");
    ts_assert_error(mlops_frame_add_string(frame, "bad", bad_utf8, 2), MLOPS_EINVAL, "has 2 rows");
    ts_assert_error(mlops_frame_get_int64(&i, frame, 1, 0), MLOPS_EINVAL, "\"amount\" is float64, not int64");
    ts_assert_error(mlops_frame_get_int64(&i, frame, 0, 3), MLOPS_EINVAL, "row 3 out of range (3 rows)");
    ts_assert_error(mlops_frame_get_int64(&i, frame, 9, 0), MLOPS_EINVAL, "column 9 out of range");
    ts_assert_error(mlops_frame_get_int64(NULL, frame, 0, 0), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_frame_set_string(frame, 3, 0, "a\0b", 3), MLOPS_EINVAL, "NUL");
    ts_assert_error(mlops_frame_set_string(frame, 3, 0, "\xFF", 1), MLOPS_EINVAL, "invalid UTF-8");
    ts_assert_error(mlops_frame_set_string(frame, 3, 0, NULL, 0), MLOPS_EINVAL, "value");
    ts_assert_error(mlops_frame_set_f32vec(frame, 4, 0, vec, 3), MLOPS_EINVAL, "vector of 3 values");
    ts_assert_error(mlops_frame_column_index(&index, frame, "nope"), MLOPS_ENOTFOUND, "no column \"nope\"");
    ts_assert_error(mlops_frame_drop_column(frame, 5), MLOPS_EINVAL, "out of range");
    ts_assert_error(mlops_frame_column_type(frame, 5), MLOPS_EINVAL, "out of range");
    assert_null(mlops_frame_column_name(frame, 5));
    assert_int_equal(mlops_frame_column_dim(frame, 5), 0);
    assert_int_equal(mlops_frame_rows(NULL), 0);
    assert_int_equal(mlops_frame_columns(NULL), 0);
    mlops_frame_free(frame);
    mlops_frame_free(NULL);
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    ts_assert_error(mlops_frame_append_rows(frame, 1), MLOPS_ESTATE, "no columns");
    /* A failed first column leaves an empty frame that still accepts any row count. */
    ts_assert_error(mlops_frame_add_string(frame, "bad", bad_utf8, 2), MLOPS_EINVAL, "row 1: invalid UTF-8");
    assert_int_equal(mlops_frame_columns(frame), 0);
    assert_int_equal(mlops_frame_rows(frame), 0);
    assert_int_equal(mlops_frame_add_int64(frame, "one", ids, NULL, 1), MLOPS_OK);
    mlops_frame_free(frame);
}

static void test_drop_select_and_clone(void **state)
{
    mlops_frame *frame = sample(), *picked = NULL, *copy = NULL;
    const char *const names[] = {"name", "id"};
    const char *const missing[] = {"id", "ghost"};
    const char *s;
    (void)state;
    assert_int_equal(mlops_frame_select(&picked, frame, names, 2), MLOPS_OK);
    assert_int_equal(mlops_frame_columns(picked), 2);
    assert_int_equal(mlops_frame_rows(picked), 3);
    assert_string_equal(mlops_frame_column_name(picked, 0), "name");
    assert_int_equal(mlops_frame_get_string(&s, NULL, picked, 0, 0), MLOPS_OK);
    assert_string_equal(s, "anna");
    ts_assert_error(mlops_frame_select(&copy, frame, missing, 2), MLOPS_ENOTFOUND, "ghost");
    assert_null(copy);
    assert_int_equal(mlops_frame_clone(&copy, frame), MLOPS_OK);
    assert_int_equal(mlops_frame_drop_column(frame, 0), MLOPS_OK);
    assert_int_equal(mlops_frame_columns(frame), 4);
    assert_string_equal(mlops_frame_column_name(frame, 0), "amount");
    assert_int_equal(mlops_frame_columns(copy), 5);
    assert_int_equal(mlops_frame_get_string(&s, NULL, copy, 3, 2), MLOPS_OK);
    assert_string_equal(s, "zoë");
    mlops_frame_free(picked);
    mlops_frame_free(copy);
    mlops_frame_free(frame);
}

static void test_take_rows(void **state)
{
    mlops_frame *frame = sample(), *taken = NULL;
    const size_t rows[] = {2, 0, 2};
    const size_t bad[] = {0, 3};
    const char *s;
    double d;
    int64_t i;
    const float *v;
    (void)state;
    assert_int_equal(mlops_frame_take_rows(&taken, frame, rows, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(taken), 3);
    assert_int_equal(mlops_frame_columns(taken), 5);
    assert_int_equal(mlops_frame_get_int64(&i, taken, 0, 0), MLOPS_OK);
    assert_int_equal(i, 9);
    assert_int_equal(mlops_frame_get_int64(&i, taken, 0, 1), MLOPS_OK);
    assert_int_equal(i, 7);
    assert_int_equal(mlops_frame_get_float64(&d, taken, 1, 2), MLOPS_OK);
    assert_true(d == 1e300);
    assert_int_equal(mlops_frame_get_string(&s, NULL, taken, 3, 0), MLOPS_OK);
    assert_string_equal(s, "zoë");
    assert_int_equal(mlops_frame_get_string(&s, NULL, taken, 3, 1), MLOPS_OK);
    assert_string_equal(s, "anna");
    assert_int_equal(mlops_frame_get_f32vec(&v, taken, 4, 0), MLOPS_NULL);
    assert_int_equal(mlops_frame_get_f32vec(&v, taken, 4, 1), MLOPS_OK);
    assert_true(v[0] == 1 && v[1] == 2);
    mlops_frame_free(taken);
    taken = NULL;
    assert_int_equal(mlops_frame_take_rows(&taken, frame, NULL, 0), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(taken), 0);
    assert_int_equal(mlops_frame_columns(taken), 5);
    mlops_frame_free(taken);
    taken = NULL;
    ts_assert_error(mlops_frame_take_rows(&taken, frame, bad, 2), MLOPS_EINVAL, "row 3 (entry 1) out of range");
    assert_null(taken);
    ts_assert_error(mlops_frame_take_rows(NULL, frame, rows, 1), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_frame_take_rows(&taken, frame, NULL, 1), MLOPS_EINVAL, "rows");
    mlops_frame_free(frame);
}

static void test_to_matrix(void **state)
{
    mlops_frame *frame = sample();
    const char *const columns[] = {"embedding", "id", "flag", "amount"};
    const char *const with_string[] = {"name"};
    float matrix[3 * 5];
    size_t width = 0;
    (void)state;
    ts_assert_error(mlops_frame_to_matrix(matrix, 14, &width, frame, columns, 4, 0), MLOPS_EBUFSIZE,
                    "needs 3 x 5");
    assert_int_equal(width, 5);
    assert_int_equal(mlops_frame_to_matrix(matrix, 15, &width, frame, columns, 4, MLOPS_MATRIX_NULLS_AS_NAN),
                     MLOPS_OK);
    assert_true(matrix[0] == 1 && matrix[1] == 2 && matrix[2] == 7 && matrix[3] == 1 && matrix[4] == 1.5f);
    assert_true(matrix[5] == 3 && matrix[6] == 4 && matrix[7] == 8 && matrix[8] == 0 && isnan(matrix[9]));
    assert_true(isnan(matrix[10]) && isnan(matrix[11]) && matrix[12] == 9);
    assert_true(isinf(matrix[14]));
    ts_assert_error(mlops_frame_to_matrix(matrix, 15, &width, frame, columns, 4, MLOPS_MATRIX_NULLS_REFUSE),
                    MLOPS_EINVAL, "column \"embedding\" row 2 is null");
    ts_assert_error(mlops_frame_to_matrix(matrix, 15, &width, frame, with_string, 1, 0), MLOPS_EINVAL,
                    "string column");
    ts_assert_error(mlops_frame_to_matrix(matrix, 15, &width, frame, columns, 4, 7), MLOPS_EINVAL, "flags");
    ts_assert_error(mlops_frame_to_matrix(NULL, 15, &width, frame, columns, 4, 0), MLOPS_EINVAL, "out");
    mlops_frame_free(frame);
}

static int build_sample(void *ctx)
{
    const char *const names[] = {"a", NULL, "c"};
    const float vectors[] = {1, 2, 3, 4, 5, 6};
    mlops_frame **out = ctx;
    mlops_frame *copy = NULL;
    int rc = mlops_frame_new(out);
    if (rc == MLOPS_OK)
        rc = mlops_frame_add_string(*out, "s", names, 3);
    if (rc == MLOPS_OK)
        rc = mlops_frame_add_f32vec(*out, "v", 2, vectors, NULL, 3);
    if (rc == MLOPS_OK)
        rc = mlops_frame_append_rows(*out, 100);
    if (rc == MLOPS_OK)
        rc = mlops_frame_set_string(*out, 0, 50, "x", 1);
    if (rc == MLOPS_OK)
        rc = mlops_frame_clone(&copy, *out);
    mlops_frame_free(copy);
    copy = NULL;
    if (rc == MLOPS_OK) {
        const size_t rows[] = {50, 0, 50};
        rc = mlops_frame_take_rows(&copy, *out, rows, 3);
        mlops_frame_free(copy);
    }
    return rc;
}

static void free_sample(void *ctx)
{
    mlops_frame_free(*(mlops_frame **)ctx);
    *(mlops_frame **)ctx = NULL;
}

static void test_every_allocation_failure_is_clean(void **state)
{
    mlops_frame *frame = NULL;
    (void)state;
    assert_true(ts_each_allocation_failure(build_sample, free_sample, &frame) >= 10);
    mlops_allocator_set(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_build_and_read_every_type),
        cmocka_unit_test(test_column_storage_is_contiguous),
        cmocka_unit_test(test_append_rows_and_set_cells),
        cmocka_unit_test(test_bad_arguments_are_refused),
        cmocka_unit_test(test_drop_select_and_clone),
        cmocka_unit_test(test_take_rows),
        cmocka_unit_test(test_to_matrix),
        cmocka_unit_test(test_every_allocation_failure_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
