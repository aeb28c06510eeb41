/*
 * CSV reading and writing: RFC 4180 quoting, nulls, type inference and
 * schemas, exact round trips, and a clear error with line and column for
 * every kind of malformed input.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "test_support.h"

static mlops_frame *parse(const char *text, const char *options)
{
    mlops_frame *frame = NULL;
    int rc = mlops_frame_parse_csv(&frame, text, strlen(text), options);
    if (rc != MLOPS_OK)
        fail_msg("parse failed: %s", mlops_error_last()->message);
    return frame;
}

static void assert_parse_error(const char *text, const char *options, int code, const char *needle)
{
    mlops_frame *frame = (mlops_frame *)&frame;
    ts_assert_error(mlops_frame_parse_csv(&frame, text, strlen(text), options), code, needle);
    assert_null(frame);
}

static const char *cell_string(const mlops_frame *frame, size_t column, size_t row)
{
    const char *s = NULL;
    int rc = mlops_frame_get_string(&s, NULL, frame, column, row);
    return rc == MLOPS_NULL ? "<null>" : s;
}

static void test_rfc4180_quoting(void **state)
{
    const char *text = "name,note\r\n"
                       "\"Smith, Jane\",\"said \"\"hi\"\"\"\r\n"
                       "plain,\"two\nlines\"\r\n"
                       "\"\",\r\n"
                       ",last";
    mlops_frame *frame = parse(text, NULL);
    (void)state;
    assert_int_equal(mlops_frame_rows(frame), 4);
    assert_int_equal(mlops_frame_column_type(frame, 0), MLOPS_TYPE_STRING);
    assert_string_equal(cell_string(frame, 0, 0), "Smith, Jane");
    assert_string_equal(cell_string(frame, 1, 0), "said \"hi\"");
    assert_string_equal(cell_string(frame, 1, 1), "two\nlines");
    /* A quoted empty field is an empty string; an unquoted one is null. */
    assert_string_equal(cell_string(frame, 0, 2), "");
    assert_string_equal(cell_string(frame, 1, 2), "<null>");
    assert_string_equal(cell_string(frame, 0, 3), "<null>");
    assert_string_equal(cell_string(frame, 1, 3), "last");
    mlops_frame_free(frame);
}

static void test_type_inference(void **state)
{
    const char *text = "\xEF\xBB\xBFi,f,b,t,s,empty\n"
                       "1,1.5,true,2024-03-01T12:00:00Z,x,\n"
                       "-7,,FALSE,2024-03-01,2,\n"
                       ",1e3,,2024-03-01T00:00:00.5+01:00,,\n"
                       "\n";
    mlops_frame *frame = parse(text, NULL);
    int64_t i;
    double d;
    int32_t b;
    (void)state;
    assert_int_equal(mlops_frame_rows(frame), 3);
    assert_string_equal(mlops_frame_column_name(frame, 0), "i");
    assert_int_equal(mlops_frame_column_type(frame, 0), MLOPS_TYPE_INT64);
    assert_int_equal(mlops_frame_column_type(frame, 1), MLOPS_TYPE_FLOAT64);
    assert_int_equal(mlops_frame_column_type(frame, 2), MLOPS_TYPE_BOOL);
    assert_int_equal(mlops_frame_column_type(frame, 3), MLOPS_TYPE_INT64);
    assert_int_equal(mlops_frame_column_type(frame, 4), MLOPS_TYPE_STRING);
    assert_int_equal(mlops_frame_column_type(frame, 5), MLOPS_TYPE_FLOAT64);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 1), MLOPS_OK);
    assert_int_equal(i, -7);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 0, 2), MLOPS_NULL);
    assert_int_equal(mlops_frame_get_float64(&d, frame, 1, 2), MLOPS_OK);
    assert_true(d == 1000.0);
    assert_int_equal(mlops_frame_get_bool(&b, frame, 2, 1), MLOPS_OK);
    assert_int_equal(b, 0);
    /* 2024-03-01T12:00:00Z = 1709294400 s since the epoch (date -u -d ... +%s). */
    assert_int_equal(mlops_frame_get_int64(&i, frame, 3, 0), MLOPS_OK);
    assert_true(i == 1709294400LL * 1000000);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 3, 1), MLOPS_OK);
    assert_true(i == 1709251200LL * 1000000);
    assert_int_equal(mlops_frame_get_int64(&i, frame, 3, 2), MLOPS_OK);
    assert_true(i == (1709251200LL - 3600) * 1000000 + 500000);
    assert_string_equal(cell_string(frame, 4, 1), "2");
    assert_int_equal(mlops_frame_is_null(frame, 5, 0), 1);
    mlops_frame_free(frame);
}

static void test_schema_overrides_inference(void **state)
{
    const char *text = "id;when;v;flag\n"
                       "0042;1700000000000000;\"[1, 2.5,-3]\";true\n"
                       "7;2023-11-14T22:13:20Z;;false\n";
    mlops_frame *frame = parse(text, "{\"delimiter\": \";\", \"schema\": {\"id\": \"string\", \"when\": \"timestamp\","
                                     " \"v\": {\"type\": \"f32vec\", \"dim\": 3}, \"flag\": \"bool\"}}");
    const float *v;
    int64_t when;
    (void)state;
    assert_string_equal(cell_string(frame, 0, 0), "0042");
    assert_int_equal(mlops_frame_get_int64(&when, frame, 1, 0), MLOPS_OK);
    assert_true(when == 1700000000000000LL);
    assert_int_equal(mlops_frame_get_int64(&when, frame, 1, 1), MLOPS_OK);
    assert_true(when == 1700000000000000LL);
    assert_int_equal(mlops_frame_column_dim(frame, 2), 3);
    assert_int_equal(mlops_frame_get_f32vec(&v, frame, 2, 0), MLOPS_OK);
    assert_true(v[0] == 1.0f && v[1] == 2.5f && v[2] == -3.0f);
    assert_int_equal(mlops_frame_get_f32vec(&v, frame, 2, 1), MLOPS_NULL);
    mlops_frame_free(frame);
}

static void test_no_header_and_single_column_blank_lines(void **state)
{
    mlops_frame *frame = parse("1,2\n3,4\n", "{\"header\": false}");
    int64_t v;
    (void)state;
    assert_int_equal(mlops_frame_rows(frame), 2);
    assert_string_equal(mlops_frame_column_name(frame, 1), "column_2");
    assert_int_equal(mlops_frame_get_int64(&v, frame, 1, 1), MLOPS_OK);
    assert_int_equal(v, 4);
    mlops_frame_free(frame);
    /* With one column a blank line is a null row, not a skipped one. */
    frame = parse("x\n1\n\n3\n", NULL);
    assert_int_equal(mlops_frame_rows(frame), 3);
    assert_int_equal(mlops_frame_is_null(frame, 0, 1), 1);
    mlops_frame_free(frame);
}

static void test_malformed_input_names_line_and_column(void **state)
{
    (void)state;
    assert_parse_error("", NULL, MLOPS_EFORMAT, "empty");
    assert_parse_error("a,b\n1,2\n3\n", NULL, MLOPS_EFORMAT, "line 3: 1 fields, expected 2");
    assert_parse_error("a,b\n1,2,3\n", NULL, MLOPS_EFORMAT, "line 2: 3 fields, expected 2");
    assert_parse_error("a,b\n1,\"open\n\n", NULL, MLOPS_EFORMAT, "line 2 column 2: unterminated quoted field");
    assert_parse_error("a,b\n1,\"x\"y\n", NULL, MLOPS_EFORMAT, "line 2 column 2: unexpected character 'y'");
    assert_parse_error("a,b\n1,x\"y\n", NULL, MLOPS_EFORMAT, "line 2 column 2: quote character");
    assert_parse_error("a,b\n1,caf\xC3\n", NULL, MLOPS_EFORMAT, "line 2 column 2: invalid UTF-8");
    assert_parse_error("a,b\n1,\xED\xA0\x80\n", NULL, MLOPS_EFORMAT, "invalid UTF-8");
    assert_parse_error("a,a\n1,2\n", NULL, MLOPS_EFORMAT, "duplicate column name \"a\"");
    assert_parse_error("a,\n1,2\n", NULL, MLOPS_EFORMAT, "line 1 column 2: empty column name");
    assert_parse_error("a,b\n1,2\n\"x\",oops\n", "{\"schema\": {\"a\": \"int64\"}}", MLOPS_EFORMAT,
                       "line 3 column 1 (\"a\"): \"x\" is not a valid int64");
    assert_parse_error("a\n1.5\n", "{\"schema\": {\"a\": \"int64\"}}", MLOPS_EFORMAT, "is not a valid int64");
    assert_parse_error("a\n99999999999999999999\n", "{\"schema\": {\"a\": \"int64\"}}", MLOPS_EFORMAT,
                       "not a valid int64");
    assert_parse_error("a\n1e999\n", "{\"schema\": {\"a\": \"float64\"}}", MLOPS_EFORMAT, "not a valid float64");
    assert_parse_error("a\nyes\n", "{\"schema\": {\"a\": \"bool\"}}", MLOPS_EFORMAT, "not a valid bool");
    assert_parse_error("a\n2024-02-30\n", "{\"schema\": {\"a\": \"timestamp\"}}", MLOPS_EFORMAT,
                       "not a valid timestamp");
    assert_parse_error("a\n\"[1,2]\"\n", "{\"schema\": {\"a\": {\"type\": \"f32vec\", \"dim\": 3}}}", MLOPS_EFORMAT,
                       "of the declared dimension");
    assert_parse_error("a\n1\n", "{\"schema\": {\"b\": \"int64\"}}", MLOPS_EFORMAT, "$.schema.b: the CSV has no");
    assert_parse_error("a\n1\n", "{\"schema\": {\"a\": \"int32\"}}", MLOPS_EFORMAT, "unknown type \"int32\"");
    assert_parse_error("a\n1\n", "{\"schema\": {\"a\": {\"type\": \"f32vec\"}}}", MLOPS_EFORMAT, "dim");
    assert_parse_error("a\n1\n", "{\"schema\": {\"a\": 5}}", MLOPS_EFORMAT, "$.schema.a");
    assert_parse_error("a\n1\n", "{\"schema\": []}", MLOPS_EFORMAT, "$.schema");
    assert_parse_error("a\n1\n", "{\"quote\": \"'\"}", MLOPS_EFORMAT, "$.quote: unknown key");
    assert_parse_error("a\n1\n", "{\"delimiter\": \"::\"}", MLOPS_EFORMAT, "$.delimiter");
    assert_parse_error("a\n1\n", "{\"header\": 1}", MLOPS_EFORMAT, "$.header");
    assert_parse_error("a\n1\n", "{not json", MLOPS_EFORMAT, "invalid JSON at line 1");
    assert_parse_error("a\n123456\n", "{\"max_field_bytes\": 4}", MLOPS_ELIMIT, "line 2 column 1");
    {
        mlops_frame *frame = NULL;
        char with_nul[] = "a\nx\0y\n";
        ts_assert_error(mlops_frame_parse_csv(&frame, with_nul, sizeof with_nul - 1, NULL), MLOPS_EFORMAT, "NUL");
        ts_assert_error(mlops_frame_parse_csv(NULL, "a", 1, NULL), MLOPS_EINVAL, "out");
        ts_assert_error(mlops_frame_parse_csv(&frame, NULL, 1, NULL), MLOPS_EINVAL, "data");
        ts_assert_error(mlops_frame_read_csv(&frame, ts_path("missing.csv"), NULL), MLOPS_ENOTFOUND, "missing.csv");
        ts_assert_error(mlops_frame_read_csv(&frame, NULL, NULL), MLOPS_EINVAL, "path");
    }
}

static void test_round_trip_is_exact(void **state)
{
    const double tricky[] = {0.1, 1.0 / 3.0, -2.5e-300, 1.7976931348623157e308, 123456789.125, -0.0};
    const int64_t ints[] = {INT64_MIN, INT64_MAX, 0, -1, 42, 7};
    const char *const strings[] = {"comma, inside", "quote \" inside", "line\nbreak", "", NULL, "trailing "};
    const float vectors[] = {0.1f, 1e-30f, 3.4e38f, -0.0f, 1.0f / 3.0f, 7, 8, 9, 10, 11, 12, 13};
    mlops_frame *frame = NULL, *back = NULL;
    char *text = NULL;
    size_t len = 0, row;
    const char *options = "{\"schema\": {\"s\": \"string\", \"v\": {\"type\": \"f32vec\", \"dim\": 2}}}";
    (void)state;
    assert_int_equal(mlops_frame_new(&frame), MLOPS_OK);
    assert_int_equal(mlops_frame_add_float64(frame, "d", tricky, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_frame_add_int64(frame, "i", ints, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_frame_add_string(frame, "s", strings, 6), MLOPS_OK);
    assert_int_equal(mlops_frame_add_f32vec(frame, "v", 2, vectors, NULL, 6), MLOPS_OK);
    assert_int_equal(mlops_frame_format_csv(&text, &len, frame, NULL), MLOPS_OK);
    assert_int_equal(strlen(text), len);
    assert_int_equal(mlops_frame_parse_csv(&back, text, len, options), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(back), 6);
    for (row = 0; row < 6; row++) {
        double d;
        int64_t i;
        const float *v;
        assert_int_equal(mlops_frame_get_float64(&d, back, 0, row), MLOPS_OK);
        assert_memory_equal(&d, &tricky[row], sizeof d);
        assert_int_equal(mlops_frame_get_int64(&i, back, 1, row), MLOPS_OK);
        assert_true(i == ints[row]);
        assert_string_equal(cell_string(back, 2, row), strings[row] ? strings[row] : "<null>");
        assert_int_equal(mlops_frame_get_f32vec(&v, back, 3, row), MLOPS_OK);
        assert_memory_equal(v, &vectors[row * 2], 2 * sizeof(float));
    }
    mlops_free(text);
    mlops_frame_free(back);
    back = NULL;
    /* Through a file, with another delimiter and no header. */
    assert_int_equal(mlops_frame_write_csv(frame, ts_path("out.csv"), "{\"delimiter\": \"\\t\", \"header\": false}"),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_read_csv(&back, ts_path("out.csv"),
                                          "{\"delimiter\": \"\\t\", \"header\": false, \"schema\": "
                                          "{\"column_3\": \"string\", \"column_4\": {\"type\": \"f32vec\", \"dim\": 2}}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_rows(back), 6);
    assert_string_equal(cell_string(back, 2, 2), "line\nbreak");
    ts_assert_error(mlops_frame_write_csv(frame, ts_path("no/such/dir.csv"), NULL), MLOPS_EIO, "cannot create");
    ts_assert_error(mlops_frame_format_csv(&text, NULL, frame, "{\"schema\": {}}"), MLOPS_EFORMAT, "$.schema");
    ts_assert_error(mlops_frame_format_csv(NULL, NULL, frame, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_frame_format_csv(&text, NULL, NULL, NULL), MLOPS_EINVAL, "frame");
    mlops_frame_free(back);
    mlops_frame_free(frame);
}

static void test_error_in_file_names_the_file(void **state)
{
    mlops_frame *frame = NULL;
    const char *path = ts_path("bad.csv");
    (void)state;
    ts_write_file(path, "a,b\n1,2\n3\n", 10);
    ts_assert_error(mlops_frame_read_csv(&frame, path, NULL), MLOPS_EFORMAT, "bad.csv\": CSV line 3");
    assert_null(frame);
}

static int parse_sample(void *ctx)
{
    static const char text[] = "id,name,score,when,v\n"
                               "1,\"a, b\",1.5,2024-01-01,\"[1,2]\"\n"
                               "2,,2.5,2024-01-02,\n"
                               "3,\"c\"\"d\",,2024-01-03,\"[3,4]\"\n";
    return mlops_frame_parse_csv((mlops_frame **)ctx, text, sizeof text - 1,
                                 "{\"schema\": {\"v\": {\"type\": \"f32vec\", \"dim\": 2}}}");
}

static void free_parsed(void *ctx)
{
    mlops_frame_free(*(mlops_frame **)ctx);
    *(mlops_frame **)ctx = NULL;
}

static void test_every_allocation_failure_is_clean(void **state)
{
    mlops_frame *frame = NULL;
    (void)state;
    assert_true(ts_each_allocation_failure(parse_sample, free_parsed, &frame) >= 10);
    mlops_allocator_set(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc4180_quoting),
        cmocka_unit_test(test_type_inference),
        cmocka_unit_test(test_schema_overrides_inference),
        cmocka_unit_test(test_no_header_and_single_column_blank_lines),
        cmocka_unit_test(test_malformed_input_names_line_and_column),
        cmocka_unit_test(test_round_trip_is_exact),
        cmocka_unit_test(test_error_in_file_names_the_file),
        cmocka_unit_test(test_every_allocation_failure_is_clean),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
