/*
 * CSV corner cases found by fuzzing: what the writer produces reads back to
 * the same frame.
 */
#include <string.h>

#include "test_support.h"

static mlops_frame *parse(const char *text, size_t len, const char *options)
{
    mlops_frame *frame = NULL;
    int rc = mlops_frame_parse_csv(&frame, text, len, options);
    if (rc != MLOPS_OK)
        fail_msg("parse failed: %s", mlops_error_last()->message);
    return frame;
}

/* A first field that begins with U+FEFF must not read back as a byte order mark. */
static void test_leading_feff_survives_a_round_trip(void **state)
{
    static const char input[] = "\xEF\xBB\xBF\xEF\xBB\xBFname\n\xEF\xBB\xBFv\n";
    mlops_frame *frame, *again;
    const char *value = NULL;
    char *text = NULL;
    size_t len = 0;
    (void)state;
    frame = parse(input, strlen(input), NULL);
    assert_string_equal(mlops_frame_column_name(frame, 0), "\xEF\xBB\xBFname");
    assert_int_equal(mlops_frame_format_csv(&text, &len, frame, NULL), MLOPS_OK);
    assert_memory_equal(text, "\"\xEF\xBB\xBFname\"\r\n\"\xEF\xBB\xBFv\"\r\n", len);
    again = parse(text, len, "{\"schema\": {\"\xEF\xBB\xBFname\": \"string\"}}");
    assert_string_equal(mlops_frame_column_name(again, 0), "\xEF\xBB\xBFname");
    assert_int_equal(mlops_frame_get_string(&value, NULL, again, 0, 0), MLOPS_OK);
    assert_string_equal(value, "\xEF\xBB\xBFv");
    mlops_free(text);
    mlops_frame_free(again);
    mlops_frame_free(frame);

    /* Without a header the first cell is the first field of the text. */
    frame = parse("\xEF\xBB\xBF\xEF\xBB\xBFx\n", 8, "{\"header\": false, \"schema\": {\"column_1\": \"string\"}}");
    assert_int_equal(mlops_frame_format_csv(&text, &len, frame, "{\"header\": false}"), MLOPS_OK);
    again = parse(text, len, "{\"header\": false, \"schema\": {\"column_1\": \"string\"}}");
    assert_int_equal(mlops_frame_get_string(&value, NULL, again, 0, 0), MLOPS_OK);
    assert_string_equal(value, "\xEF\xBB\xBFx");
    mlops_free(text);
    mlops_frame_free(again);
    mlops_frame_free(frame);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_leading_feff_survives_a_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
