/*
 * The public API seen from outside: only <mlops.h> and the shared library.
 * A whole small flow (open, frame, CSV, close) and the error contract.
 */
#include <stdio.h>
#include <string.h>

#include "test_support.h"

static void test_flow_through_the_shared_library(void **state)
{
    const int64_t ids[] = {1, 2, 3};
    const double values[] = {0.5, 1.5, 2.5};
    mlops_db *db = NULL;
    mlops_frame *frame = NULL, *back = NULL;
    char *csv = NULL;
    size_t len = 0;
    int32_t version = 0;
    (void)state;
    assert_int_equal(mlops_db_open(&db, ts_path("api.db"), "{\"actor\": \"api-test\"}"), MLOPS_OK);
    assert_int_equal(mlops_db_schema_version(&version, db), MLOPS_OK);
    assert_int_equal(version, mlops_db_schema_version_supported());
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "id", ids, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "value", values, NULL, 3), MLOPS_OK);
    assert_int_equal(mlops_frame_format_csv(&csv, &len, frame, NULL), MLOPS_OK);
    assert_string_equal(csv, "id,value\r\n1,0.5\r\n2,1.5\r\n3,2.5\r\n");
    assert_int_equal(mlops_frame_parse_csv(&back, csv, len, NULL), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(back), 3);
    mlops_free(csv);
    mlops_frame_free(back);
    mlops_frame_free(frame);
    mlops_db_close(db);
}

static void test_error_contract(void **state)
{
    mlops_frame *frame = NULL;
    const mlops_error *err;
    (void)state;
    mlops_error_clear();
    assert_int_equal(mlops_error_last()->code, MLOPS_OK);
    assert_int_equal(mlops_frame_parse_csv(&frame, "a,b\n1\n", 6, NULL), MLOPS_EFORMAT);
    err = mlops_error_last();
    assert_int_equal(err->code, MLOPS_EFORMAT);
    assert_string_equal(err->subsystem, "frame");
    assert_non_null(strstr(err->message, "line 2"));
    assert_non_null(strstr(mlops_strerror(err->code), "MLOPS_EFORMAT"));
    assert_string_equal(mlops_version(), MLOPS_VERSION_STRING);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flow_through_the_shared_library),
        cmocka_unit_test(test_error_contract),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
