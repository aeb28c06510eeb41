/*
 * demo: the end-to-end story of libmlops on generated card transactions.
 *
 *   demo [OUTPUT_DIRECTORY]   (default: demo-output)
 *
 * Uses only the public API. Each step prints what it did, with numbers.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <mlops.h>

#include "transactions.h"

static int fail(const char *step)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "demo: %s failed: %s (%s)\n", step, err->message, mlops_strerror(err->code));
    return 1;
}

static double seconds_since(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) / 1e9;
}

/* Count the true cells of a bool column, and the rows with ts at or after `from`. */
static void count_labels(size_t *fraud, size_t *shifted, const mlops_frame *frame, int64_t from)
{
    const uint8_t *label = NULL;
    const int64_t *ts = NULL;
    size_t index, row;
    *fraud = *shifted = 0;
    if (mlops_frame_column_index(&index, frame, "label") || mlops_frame_column_bool(&label, frame, index) ||
        mlops_frame_column_index(&index, frame, "ts") || mlops_frame_column_int64(&ts, frame, index))
        return;
    for (row = 0; row < mlops_frame_rows(frame); row++) {
        *fraud += label[row];
        *shifted += ts[row] >= from;
    }
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "demo-output";
    demo_params params = demo_default_params();
    mlops_frame *transactions = NULL, *activity = NULL, *profiles = NULL;
    char path[4096];
    struct timespec start;
    size_t fraud, shifted;
    mlops_db *db = NULL;
    int status = 1;

    clock_gettime(CLOCK_MONOTONIC, &start);
    mkdir(dir, 0777);
    printf("libmlops %s: end-to-end demo (seed %llu)\n\n", mlops_version(), (unsigned long long)params.seed);

    printf("1. Generating card transactions\n");
    if (demo_generate(&transactions, &activity, &profiles, &params) != MLOPS_OK)
        return fail("generating data");
    count_labels(&fraud, &shifted, transactions, params.start_us + (int64_t)params.shift_day * 86400000000LL);
    printf("   %zu transactions of %d customers over %d days; %zu labelled fraud (%.2f%%)\n",
           mlops_frame_rows(transactions), params.customers, params.days, fraud,
           100.0 * (double)fraud / (double)mlops_frame_rows(transactions));
    printf("   the last month (%zu transactions) brings a new merchant category, larger amounts, more spending abroad\n",
           shifted);
    printf("   %d rows are malformed on purpose (negative amount, unknown country, missing amount)\n\n",
           params.malformed_rows);

    snprintf(path, sizeof path, "%s/transactions.csv", dir);
    if (mlops_frame_write_csv(transactions, path, NULL) != MLOPS_OK) {
        status = fail("writing transactions.csv");
        goto out;
    }
    snprintf(path, sizeof path, "%s/demo.db", dir);
    remove(path);
    if (mlops_db_open(&db, path, "{\"actor\": \"demo\"}") != MLOPS_OK) {
        status = fail("opening the database");
        goto out;
    }
    printf("2. Database %s opened (WAL mode); raw data in %s/transactions.csv\n\n", path, dir);
    printf("Done in %.1f s. Explore with: mlops --db %s info\n", seconds_since(&start), path);
    status = 0;
out:
    mlops_db_close(db);
    mlops_frame_free(transactions);
    mlops_frame_free(activity);
    mlops_frame_free(profiles);
    return status;
}
