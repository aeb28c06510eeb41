/*
 * CSV to frame with the options taken from the input: the first line is the
 * options document, the rest is the CSV. Any combination must fail cleanly
 * or yield a frame that can be written out again.
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *newline = memchr(data, '\n', size);
    size_t options_len = newline ? (size_t)(newline - data) : size;
    char *options = fuzz_strndup(data, options_len);
    const char *csv = newline ? (const char *)newline + 1 : "";
    size_t csv_len = newline ? size - options_len - 1 : 0;
    mlops_frame *frame = NULL;
    char *text = NULL;
    int rc;

    rc = mlops_frame_parse_csv(&frame, csv, csv_len, options);
    if (rc == MLOPS_OK) {
        rc = mlops_frame_format_csv(&text, NULL, frame, NULL);
        FUZZ_CHECK(rc == MLOPS_OK);
        mlops_free(text);
        mlops_frame_free(frame);
    } else {
        FUZZ_CHECK_FAILURE(rc);
        FUZZ_CHECK(frame == NULL);
    }
    free(options);
    return 0;
}
