/*
 * Scale check of the point-in-time join: HISTORY rows in one view (4
 * float64 features, KEYS keys), then a join of QUERIES entity rows. Prints
 * the join's rate, the peak resident memory and the database size, to show
 * the join streams the history instead of loading it.
 *
 *   bench_features_scale DIR [HISTORY KEYS QUERIES]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mlops.h"

#include "bench_clock.h"

#define BATCH 500000

static long peak_rss_mb(void)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

static void check(int rc, const char *what)
{
    if (rc) {
        fprintf(stderr, "%s failed: %s\n", what, mlops_error_last()->message);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    size_t history = 10000000, keys = 1000000, queries = 1000000, b, i;
    const char *refs[] = {"s:a", "s:b", "s:c", "s:d"};
    const char *names[4] = {"a", "b", "c", "d"};
    char path[1024], wal[1100];
    mlops_db *db = NULL;
    mlops_frame *entities = NULL, *out = NULL;
    int64_t *k, *t;
    double *v, start, ingest_s = 0;
    struct stat st;
    uint64_t rng = 88172645463325252u;
    int f;

    if (argc < 2) {
        fprintf(stderr, "usage: %s DIR [HISTORY KEYS QUERIES]\n", argv[0]);
        return 2;
    }
    if (argc >= 5) {
        history = strtoull(argv[2], NULL, 10);
        keys = strtoull(argv[3], NULL, 10);
        queries = strtoull(argv[4], NULL, 10);
    }
    snprintf(path, sizeof path, "%s/bench_features_scale.db", argv[1]);
    snprintf(wal, sizeof wal, "%s-wal", path);
    unlink(path);
    unlink(wal);
    check(mlops_db_open(&db, path, NULL), "open");
    check(mlops_entity_define(db, "{\"name\":\"e\",\"keys\":[{\"name\":\"id\",\"type\":\"int64\"}]}"), "entity");
    check(mlops_view_define(NULL, db, "{\"name\":\"s\",\"entity\":\"e\",\"features\":[{\"name\":\"a\",\"type\":"
                                      "\"float64\"},{\"name\":\"b\",\"type\":\"float64\"},{\"name\":\"c\",\"type\":"
                                      "\"float64\"},{\"name\":\"d\",\"type\":\"float64\"}]}", 0), "view");
    k = malloc(BATCH * sizeof *k);
    t = malloc(BATCH * sizeof *t);
    v = malloc(BATCH * sizeof *v);
    for (b = 0; b < history; b += BATCH) {
        size_t n = b + BATCH <= history ? BATCH : history - b;
        mlops_frame *frame = NULL;
        mlops_ingest_report report;
        for (i = 0; i < n; i++) {
            k[i] = (int64_t)((b + i) % keys);
            t[i] = (int64_t)((b + i) / keys) * 1000;
        }
        check(mlops_frame_new(&frame), "frame");
        mlops_frame_add_int64(frame, "id", k, NULL, n);
        mlops_frame_add_int64(frame, "event_time", t, NULL, n);
        for (f = 0; f < 4; f++) {
            for (i = 0; i < n; i++)
                v[i] = (double)((b + i + (size_t)f) % 997);
            mlops_frame_add_float64(frame, names[f], v, NULL, n);
        }
        start = now_s();
        check(mlops_features_ingest(&report, db, "s", frame, NULL), "ingest");
        ingest_s += now_s() - start;
        mlops_frame_free(frame);
    }
    printf("history_rows %zu\nkeys %zu\nqueries %zu\n", history, keys, queries);
    printf("ingest_rows_per_s %.0f\n", (double)history / ingest_s);
    printf("rss_after_ingest_mb %ld\n", peak_rss_mb());
    check(mlops_frame_new(&entities), "frame");
    free(k);
    free(t);
    k = malloc(queries * sizeof *k);
    t = malloc(queries * sizeof *t);
    for (i = 0; i < queries; i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        k[i] = (int64_t)(rng % keys);
        t[i] = (int64_t)((rng >> 20) % ((history / keys) * 1000 + 1000));
    }
    mlops_frame_add_int64(entities, "id", k, NULL, queries);
    mlops_frame_add_int64(entities, "timestamp", t, NULL, queries);
    start = now_s();
    check(mlops_features_join(&out, db, entities, refs, 4, NULL), "join");
    printf("join_rows_per_s %.0f\n", (double)queries / (now_s() - start));
    printf("rss_peak_mb %ld\n", peak_rss_mb());
    if (stat(path, &st) == 0)
        printf("db_file_mb %lld\n", (long long)st.st_size / (1024 * 1024));
    mlops_frame_free(out);
    mlops_frame_free(entities);
    mlops_db_close(db);
    unlink(path);
    free(k);
    free(t);
    free(v);
    return 0;
}
