/*
 * Limits of the strict JSON reader: nesting deeper than MLOPS__JSON_MAX_DEPTH
 * is refused with MLOPS_ELIMIT naming the place, before cJSON recurses into
 * it; brackets inside strings do not count. Numbers past the range of a
 * double are refused with their path.
 */
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "core/core_int.h"

/* `depth` nested arrays around `inner`, e.g. [[[1]]]. */
static char *nested(int depth, const char *inner)
{
    size_t len = strlen(inner);
    char *text = malloc(2 * (size_t)depth + len + 1);
    assert_non_null(text);
    memset(text, '[', (size_t)depth);
    memcpy(text + depth, inner, len);
    memset(text + depth + len, ']', (size_t)depth);
    text[2 * (size_t)depth + len] = '\0';
    return text;
}

static void test_depth_at_the_limit_parses(void **state)
{
    char *text = nested(MLOPS__JSON_MAX_DEPTH, "1");
    mlops__json *doc = NULL;
    (void)state;
    assert_int_equal(mlops__json_parse(&doc, text, "core", "document"), MLOPS_OK);
    assert_true(mlops__json_is_array(doc));
    mlops__json_free(doc);
    free(text);
}

static void test_depth_beyond_the_limit_is_refused(void **state)
{
    char *text = nested(MLOPS__JSON_MAX_DEPTH + 1, "1");
    char *huge = nested(100000, "");
    mlops__json *doc = NULL;
    (void)state;
    ts_assert_error(mlops__json_parse(&doc, text, "core", "document"), MLOPS_ELIMIT,
                    "document: JSON nests deeper than 64 levels at line 1 column 65");
    assert_null(doc);
    ts_assert_error(mlops__json_parse(&doc, huge, "core", "document"), MLOPS_ELIMIT, "deeper than 64 levels");
    ts_assert_error(mlops__json_parse(&doc, "{\"a\":\n{\"b\": [{\"c\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["
                                           "[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]}}",
                                     "core", "document"),
                    MLOPS_ELIMIT, "at line 2 column");
    free(text);
    free(huge);
}

static void test_brackets_in_strings_do_not_count(void **state)
{
    char *inner = nested(200, "");
    char *text = malloc(strlen(inner) + 32);
    mlops__json *doc = NULL;
    (void)state;
    assert_non_null(text);
    strcpy(text, "{\"s\": \"\\\"");
    strcat(text, inner);
    strcat(text, "\"}");
    assert_int_equal(mlops__json_parse(&doc, text, "core", "document"), MLOPS_OK);
    assert_int_equal(strlen(mlops__json_string(mlops__json_get(doc, "s"))), 401);
    mlops__json_free(doc);
    /* An unterminated string is a syntax error, not a depth problem. */
    ts_assert_error(mlops__json_parse(&doc, "{\"s\": \"[[[[", "core", "document"), MLOPS_EFORMAT, "invalid JSON");
    free(inner);
    free(text);
}

static void test_public_options_report_the_limit(void **state)
{
    char *deep = nested(MLOPS__JSON_MAX_DEPTH + 1, "");
    char *options = malloc(strlen(deep) + 32);
    mlops_frame *frame = NULL;
    mlops_db *db = NULL;
    (void)state;
    assert_non_null(options);
    strcpy(options, "{\"actor\": ");
    strcat(options, deep);
    strcat(options, "}");
    ts_assert_error(mlops_db_open(&db, ":memory:", options), MLOPS_ELIMIT, "database options: JSON nests deeper");
    assert_null(db);
    ts_assert_error(mlops_frame_parse_csv(&frame, "a\n1\n", 4, options), MLOPS_ELIMIT, "CSV options: JSON nests deeper");
    assert_null(frame);
    free(deep);
    free(options);
}

/* A number past the range of a double would read as infinity, which JSON cannot write back. */
static void test_numbers_past_a_double_are_refused(void **state)
{
    mlops__json *doc = NULL;
    (void)state;
    ts_assert_error(mlops__json_parse(&doc, "{\"rules\": [{\"min\": 1}, {\"min\": -1e999}]}", "core", "policy"),
                    MLOPS_EFORMAT, "policy: $.rules[1].min: number out of the range of a double");
    assert_null(doc);
    ts_assert_error(mlops__json_parse(&doc, "[1, 2e400]", "core", "list"), MLOPS_EFORMAT, "list: $[1]: number out");
    assert_int_equal(mlops__json_parse(&doc, "{\"a\": [1.7976931348623157e308, -4.9e-324, 1e-999]}", "core", "list"),
                     MLOPS_OK);
    mlops__json_free(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depth_at_the_limit_parses),
        cmocka_unit_test(test_depth_beyond_the_limit_is_refused),
        cmocka_unit_test(test_brackets_in_strings_do_not_count),
        cmocka_unit_test(test_public_options_report_the_limit),
        cmocka_unit_test(test_numbers_past_a_double_are_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
