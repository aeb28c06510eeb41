/*
 * ONNX model load and session open: the input is a serialized model, opened
 * in fp32 and in int8 (import, shape checks and plan compilation). A model
 * is refused with a status and a message, or gives a session whose inputs,
 * outputs and plan can be read and which runs two rows of its single float
 * input (when it has one of a modest width) the same way twice.
 */
#include "fuzz_common.h"

#define MAX_WIDTH 65536 /* floats per row this program is willing to feed or receive */

static void inspect(const mlops_session *session)
{
    int64_t dims[8];
    size_t rank = 0, i;
    char *plan = NULL;
    int rc;
    for (i = 0; i < mlops_session_input_count(session); i++) {
        FUZZ_CHECK(mlops_session_input_name(session, i) != NULL);
        rc = mlops_session_input_shape(dims, sizeof dims / sizeof dims[0], &rank, session, i);
        FUZZ_CHECK(rc == MLOPS_OK || rc == MLOPS_EBUFSIZE);
    }
    for (i = 0; i < mlops_session_output_count(session); i++) {
        FUZZ_CHECK(mlops_session_output_name(session, i) != NULL);
        rc = mlops_session_output_shape(dims, sizeof dims / sizeof dims[0], &rank, session, i);
        FUZZ_CHECK(rc == MLOPS_OK || rc == MLOPS_EBUFSIZE);
    }
    FUZZ_CHECK(mlops_session_input_name(session, mlops_session_input_count(session)) == NULL);
    FUZZ_CHECK(mlops_session_kernel(session) != NULL);
    FUZZ_CHECK(mlops_session_plan(&plan, session) == MLOPS_OK);
    mlops_free(plan);
}

static void run(const mlops_session *session)
{
    size_t in_width = mlops_session_input_width(session), out_width = mlops_session_output_width(session), i;
    float *input, *output, *again;
    int rc;
    if (in_width == 0 || in_width > MAX_WIDTH || out_width > MAX_WIDTH)
        return;
    input = malloc(2 * in_width * sizeof *input);
    output = calloc(2 * out_width + 1, sizeof *output);
    again = calloc(2 * out_width + 1, sizeof *again);
    FUZZ_CHECK(input && output && again);
    for (i = 0; i < 2 * in_width; i++)
        input[i] = (float)((int)(i % 7) - 3) * 0.5f;
    rc = mlops_session_run(session, input, 2, output, 2 * out_width);
    if (rc == MLOPS_OK) {
        FUZZ_CHECK(mlops_session_run(session, input, 2, again, 2 * out_width) == MLOPS_OK);
        FUZZ_CHECK(memcmp(output, again, 2 * out_width * sizeof *output) == 0);
    } else {
        FUZZ_CHECK_FAILURE(rc);
    }
    free(again);
    free(output);
    free(input);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const options[] = {"{\"precision\":\"fp32\"}", "{\"precision\":\"int8\"}"};
    size_t i;
    for (i = 0; i < sizeof options / sizeof options[0]; i++) {
        mlops_session *session = NULL;
        int rc = mlops_session_open(&session, data, size, options[i], NULL);
        if (rc != MLOPS_OK) {
            FUZZ_CHECK_FAILURE(rc);
            FUZZ_CHECK(session == NULL);
            continue;
        }
        inspect(session);
        run(session);
        mlops_session_free(session);
    }
    return 0;
}
