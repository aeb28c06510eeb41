/*
 * Resource limits of the CSV reader: field length, fields per line, and the
 * memory of the frame it builds. Each is refused with MLOPS_ELIMIT, a message
 * naming the limit and where, and no frame.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"

static void assert_limit(const char *text, size_t len, const char *options, const char *needle)
{
    mlops_frame *frame = NULL;
    ts_assert_error(mlops_frame_parse_csv(&frame, text, len, options), MLOPS_ELIMIT, needle);
    assert_null(frame);
}

static void test_null_vectors_cannot_exhaust_memory(void **state)
{
    /* 100000 empty lines of a single vector column: 100000 bytes of text, 400 GB of cells. */
    size_t rows = 100000, len = 2 + rows, i;
    char *text = malloc(len);
    (void)state;
    assert_non_null(text);
    memcpy(text, "v\n", 2);
    for (i = 0; i < rows; i++)
        text[2 + i] = '\n';
    assert_limit(text, len, "{\"schema\": {\"v\": {\"type\": \"f32vec\", \"dim\": 1048576}}}",
                 "CSV of 100000 rows x 4194305 bytes per row exceeds the frame limit of 1073741824 bytes "
                 "(\"max_frame_bytes\")");
    free(text);
}

static void test_frame_limit_is_exact_and_configurable(void **state)
{
    /* Two int64 columns: 9 bytes a cell with its null flag, 18 a row; three rows take 54 bytes. */
    static const char csv[] = "a,b\n1,2\n3,4\n5,6\n";
    mlops_frame *frame = NULL;
    (void)state;
    assert_int_equal(mlops_frame_parse_csv(&frame, csv, strlen(csv), "{\"max_frame_bytes\": 54}"), MLOPS_OK);
    assert_int_equal(mlops_frame_rows(frame), 3);
    mlops_frame_free(frame);
    assert_limit(csv, strlen(csv), "{\"max_frame_bytes\": 53}",
                 "3 rows x 18 bytes per row exceeds the frame limit of 53");
    ts_assert_error(mlops_frame_parse_csv(&frame, csv, strlen(csv), "{\"max_frame_bytes\": 0}"), MLOPS_EFORMAT,
                    "$.max_frame_bytes: 0 is outside");
    ts_assert_error(mlops_frame_parse_csv(&frame, csv, strlen(csv), "{\"max_frame_bytes\": 1.5}"), MLOPS_EFORMAT,
                    "$.max_frame_bytes: expected an integer");
}

static void test_too_many_fields_in_a_line(void **state)
{
    /* 65537 one-character fields. */
    size_t fields = 65537, len = 2 * fields, i;
    char *text = malloc(len);
    (void)state;
    assert_non_null(text);
    for (i = 0; i < fields; i++) {
        text[2 * i] = 'x';
        text[2 * i + 1] = i + 1 < fields ? ',' : '\n';
    }
    assert_limit(text, len, "{\"header\": false}", "CSV line 1: more than 65536 fields");
    free(text);
}

static void test_field_length_default_and_quoted(void **state)
{
    size_t body = (1u << 20) + 1, len = 4 + body + 3, i;
    char *text = malloc(len);
    (void)state;
    assert_non_null(text);
    memcpy(text, "a\n\"", 3);
    for (i = 0; i < body; i++)
        text[3 + i] = 'z';
    memcpy(text + 3 + body, "\"\n", 2);
    len = 3 + body + 2;
    assert_limit(text, len, NULL, "CSV line 2 column 1: field of 1048577 bytes exceeds the limit of 1048576");
    free(text);
}

/* A header of `columns` names c0, c1, ... with `dup_of` repeated as the last name (-1: none), and one row. */
static char *wide_csv(size_t columns, long dup_of, size_t *len_out)
{
    char *text = malloc(columns * 16 + 16);
    size_t len = 0, i;
    assert_non_null(text);
    for (i = 0; i < columns; i++) {
        if (dup_of >= 0 && i + 1 == columns)
            len += (size_t)sprintf(text + len, ",c%ld", dup_of);
        else
            len += (size_t)sprintf(text + len, "%sc%zu", i ? "," : "", i);
    }
    text[len++] = '\n';
    for (i = 0; i < columns; i++) {
        text[len++] = '7';
        text[len++] = i + 1 < columns ? ',' : '\n';
    }
    *len_out = len;
    return text;
}

/* The widest header: names checked against each other, and schema entries found, without a linear search each. */
static void test_widest_header_names_and_schema(void **state)
{
    mlops_frame *frame = NULL;
    size_t len, index = 0;
    int64_t value = 0;
    char *text = wide_csv(65536, -1, &len);
    (void)state;
    assert_int_equal(mlops_frame_parse_csv(&frame, text, len,
                                           "{\"schema\": {\"c65535\": \"string\", \"c0\": \"float64\","
                                           " \"c4097\": \"int64\"}}"),
                     MLOPS_OK);
    assert_int_equal(mlops_frame_columns(frame), 65536);
    assert_int_equal(mlops_frame_column_type(frame, 65535), MLOPS_TYPE_STRING);
    assert_int_equal(mlops_frame_column_type(frame, 0), MLOPS_TYPE_FLOAT64);
    assert_int_equal(mlops_frame_column_index(&index, frame, "c4097"), MLOPS_OK);
    assert_int_equal(index, 4097);
    assert_int_equal(mlops_frame_get_int64(&value, frame, 4097, 0), MLOPS_OK);
    assert_int_equal(value, 7);
    mlops_frame_free(frame);
    free(text);

    /* The last name repeats one far before it: reported at the repeat. */
    text = wide_csv(65536, 12345, &len);
    ts_assert_error(mlops_frame_parse_csv(&frame, text, len, NULL), MLOPS_EFORMAT,
                    "CSV line 1 column 65536: duplicate column name \"c12345\"");
    assert_null(frame);
    free(text);
    /* Several repeats: the leftmost repeat is the one named. */
    ts_assert_error(mlops_frame_parse_csv(&frame, "b,a,b,a,a\n", 10, NULL), MLOPS_EFORMAT,
                    "CSV line 1 column 3: duplicate column name \"b\"");
    ts_assert_error(mlops_frame_parse_csv(&frame, "z,a,y,a,z\n", 10, NULL), MLOPS_EFORMAT,
                    "CSV line 1 column 4: duplicate column name \"a\"");
    ts_assert_error(mlops_frame_parse_csv(&frame, "a\n1\n", 4,
                                          "{\"schema\": {\"a\": \"int64\", \"b\": \"int64\"}}"),
                    MLOPS_EFORMAT, "$.schema.b: the CSV has no such column");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_null_vectors_cannot_exhaust_memory),
        cmocka_unit_test(test_frame_limit_is_exact_and_configurable),
        cmocka_unit_test(test_too_many_fields_in_a_line),
        cmocka_unit_test(test_field_length_default_and_quoted),
        cmocka_unit_test(test_widest_header_names_and_schema),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
