/*
 * quickstart: open a database, build a frame, write it as CSV, read it back,
 * and print what happened. Uses only the public API.
 *
 *   quickstart [DIRECTORY]   (default: the current directory)
 */
#include <stdio.h>
#include <string.h>

#include <mlops.h>

static int fail(const char *what)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "quickstart: %s: %s (%s)\n", what, err->message, mlops_strerror(err->code));
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    const int64_t customer[] = {1001, 1002, 1003, 1004};
    const double amount[] = {12.5, 830.0, 0.0, 47.25};
    const uint8_t amount_nulls[] = {0, 0, 1, 0};
    const char *const country[] = {"DE", "FR", "DE", NULL};
    char db_path[4096], csv_path[4096];
    mlops_db *db = NULL;
    mlops_frame *frame = NULL, *back = NULL;
    int32_t schema = 0;
    size_t col, row;
    int status = 1;

    snprintf(db_path, sizeof db_path, "%s/quickstart.db", dir);
    snprintf(csv_path, sizeof csv_path, "%s/quickstart.csv", dir);
    printf("libmlops %s\n", mlops_version());

    if (mlops_db_open(&db, db_path, "{\"busy_timeout_ms\": 2000}") != MLOPS_OK)
        return fail("opening the database");
    mlops_db_schema_version(&schema, db);
    printf("opened %s (schema version %d, WAL mode)\n", mlops_db_path(db), (int)schema);

    if (mlops_frame_new(&frame) || mlops_frame_add_int64(frame, "customer", customer, NULL, 4) ||
        mlops_frame_add_float64(frame, "amount", amount, amount_nulls, 4) ||
        mlops_frame_add_string(frame, "country", country, 4)) {
        status = fail("building a frame");
        goto out;
    }
    printf("built a frame of %zu rows x %zu columns\n", mlops_frame_rows(frame), mlops_frame_columns(frame));

    if (mlops_frame_write_csv(frame, csv_path, NULL) ||
        mlops_frame_read_csv(&back, csv_path, "{\"schema\": {\"customer\": \"int64\"}}")) {
        status = fail("round-tripping through CSV");
        goto out;
    }
    printf("wrote and read back %s:\n", csv_path);
    for (col = 0; col < mlops_frame_columns(back); col++)
        printf("%-10s", mlops_frame_column_name(back, col));
    printf("\n");
    for (row = 0; row < mlops_frame_rows(back); row++) {
        int64_t id;
        double value;
        const char *text;
        mlops_frame_get_int64(&id, back, 0, row);
        printf("%-10lld", (long long)id);
        if (mlops_frame_get_float64(&value, back, 1, row) == MLOPS_NULL)
            printf("%-10s", "null");
        else
            printf("%-10.2f", value);
        printf("%-10s\n", mlops_frame_get_string(&text, NULL, back, 2, row) == MLOPS_NULL ? "null" : text);
    }
    status = 0;
out:
    mlops_frame_free(back);
    mlops_frame_free(frame);
    mlops_db_close(db);
    return status;
}
