/*
 * CSV to frame with fixed options. Whatever the bytes, parsing either fails
 * with a status and a message or yields a frame; a frame written back as CSV
 * and read with its own column types must give the same cells.
 */
#include <math.h>

#include "core/core_int.h"
#include "fuzz_common.h"

static const char *type_name(int type)
{
    switch (type) {
    case MLOPS_TYPE_INT64: return "int64";
    case MLOPS_TYPE_FLOAT64: return "float64";
    case MLOPS_TYPE_BOOL: return "bool";
    default: return "string";
    }
}

/* {"schema": {name: type, ...}} pinning every column of `frame`. */
static char *schema_of(const mlops_frame *frame)
{
    mlops__buf buf;
    size_t c;
    mlops__buf_init(&buf);
    mlops__buf_puts(&buf, "{\"schema\":{");
    for (c = 0; c < mlops_frame_columns(frame); c++) {
        int type = mlops_frame_column_type(frame, c);
        if (c)
            mlops__buf_putc(&buf, ',');
        mlops__buf_json_string(&buf, mlops_frame_column_name(frame, c));
        if (type == MLOPS_TYPE_F32VEC)
            mlops__buf_printf(&buf, ":{\"type\":\"f32vec\",\"dim\":%u}", mlops_frame_column_dim(frame, c));
        else
            mlops__buf_printf(&buf, ":\"%s\"", type_name(type));
    }
    mlops__buf_puts(&buf, "}}");
    FUZZ_CHECK(!buf.failed);
    return mlops__buf_detach(&buf, NULL);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

static void check_same_cells(const mlops_frame *a, const mlops_frame *b)
{
    size_t c, r;
    FUZZ_CHECK(mlops_frame_columns(a) == mlops_frame_columns(b));
    FUZZ_CHECK(mlops_frame_rows(a) == mlops_frame_rows(b));
    for (c = 0; c < mlops_frame_columns(a); c++) {
        int type = mlops_frame_column_type(a, c);
        FUZZ_CHECK(strcmp(mlops_frame_column_name(a, c), mlops_frame_column_name(b, c)) == 0);
        FUZZ_CHECK(type == mlops_frame_column_type(b, c));
        for (r = 0; r < mlops_frame_rows(a); r++) {
            int null_a = mlops_frame_is_null(a, c, r);
            FUZZ_CHECK(null_a == mlops_frame_is_null(b, c, r));
            if (null_a)
                continue;
            if (type == MLOPS_TYPE_INT64) {
                int64_t x = 0, y = 0;
                mlops_frame_get_int64(&x, a, c, r);
                mlops_frame_get_int64(&y, b, c, r);
                FUZZ_CHECK(x == y);
            } else if (type == MLOPS_TYPE_FLOAT64) {
                double x = 0, y = 0;
                mlops_frame_get_float64(&x, a, c, r);
                mlops_frame_get_float64(&y, b, c, r);
                FUZZ_CHECK(same_double(x, y));
            } else if (type == MLOPS_TYPE_BOOL) {
                int32_t x = 0, y = 0;
                mlops_frame_get_bool(&x, a, c, r);
                mlops_frame_get_bool(&y, b, c, r);
                FUZZ_CHECK(x == y);
            } else if (type == MLOPS_TYPE_STRING) {
                const char *x = NULL, *y = NULL;
                size_t lx = 0, ly = 0;
                mlops_frame_get_string(&x, &lx, a, c, r);
                mlops_frame_get_string(&y, &ly, b, c, r);
                FUZZ_CHECK(lx == ly && memcmp(x, y, lx) == 0);
            } else {
                const float *x = NULL, *y = NULL;
                uint32_t k, dim = mlops_frame_column_dim(a, c);
                mlops_frame_get_f32vec(&x, a, c, r);
                mlops_frame_get_f32vec(&y, b, c, r);
                for (k = 0; k < dim; k++)
                    FUZZ_CHECK(same_double(x[k], y[k]));
            }
        }
    }
}

/* Write `frame` as CSV and read it back with its own types: the same cells. */
static void check_round_trip(const mlops_frame *frame, const char *write_options)
{
    mlops_frame *again = NULL;
    char *text = NULL, *schema;
    size_t len = 0;
    int rc;

    if (mlops_frame_columns(frame) == 0)
        return;
    rc = mlops_frame_format_csv(&text, &len, frame, write_options);
    FUZZ_CHECK(rc == MLOPS_OK);
    schema = schema_of(frame);
    if (write_options) {
        /* The same delimiter for reading: splice the write options into the schema document. */
        mlops__buf opts;
        mlops__buf_init(&opts);
        mlops__buf_append(&opts, write_options, strlen(write_options) - 1);
        mlops__buf_putc(&opts, ',');
        mlops__buf_puts(&opts, schema + 1);
        FUZZ_CHECK(!opts.failed);
        mlops__free(schema);
        schema = mlops__buf_detach(&opts, NULL);
    }
    rc = mlops_frame_parse_csv(&again, text, len, schema);
    FUZZ_CHECK(rc == MLOPS_OK);
    check_same_cells(frame, again);
    mlops_frame_free(again);
    mlops__free(schema);
    mlops_free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const options[] = {
        NULL,
        "{\"header\":false,\"delimiter\":\";\"}",
        "{\"header\":true,\"delimiter\":\"\\t\",\"max_field_bytes\":64}",
    };
    size_t i;
    for (i = 0; i < sizeof options / sizeof options[0]; i++) {
        mlops_frame *frame = NULL;
        int rc = mlops_frame_parse_csv(&frame, (const char *)data, size, options[i]);
        if (rc != MLOPS_OK) {
            FUZZ_CHECK_FAILURE(rc);
            FUZZ_CHECK(frame == NULL);
            continue;
        }
        check_round_trip(frame, i == 1 ? "{\"delimiter\":\";\"}" : NULL);
        mlops_frame_free(frame);
    }
    return 0;
}
