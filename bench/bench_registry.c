/*
 * Registry benchmark: registrations per second and 64 MiB artifact
 * write/read throughput, next to the raw building blocks measured in the
 * same run on the same data: one SQLite transaction per row, one-shot
 * zstd (same level), and a plain SQLite blob write/read of the compressed
 * bytes. Every repetition uses a fresh database file; medians are printed.
 *
 *   bench_registry [SCRATCH_DIR] [REPETITIONS]
 */
#include <math.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include <mlops.h>

#define ARTIFACT_BYTES ((size_t)64 << 20)
#define SMALL_BYTES 4096
#define REGISTRATIONS 400
#define LEVEL 3

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void die(const char *what)
{
    const mlops_error *err = mlops_error_last();
    fprintf(stderr, "bench_registry: %s: %s\n", what, err->message);
    exit(1);
}

/* Model-like bytes: float32 weights drawn from N(0, 0.05). */
static void fill_weights(float *w, size_t n, uint64_t seed)
{
    uint64_t x = seed * 0x9E3779B97F4A7C15ULL + 12345;
    size_t i;
    for (i = 0; i < n; i += 2) {
        double u1, u2, r;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        u1 = ((double)(x >> 11) + 0.5) / 9007199254740992.0;
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        u2 = ((double)(x >> 11) + 0.5) / 9007199254740992.0;
        r = sqrt(-2.0 * log(u1)) * 0.05;
        w[i] = (float)(r * cos(6.283185307179586 * u2));
        if (i + 1 < n)
            w[i + 1] = (float)(r * sin(6.283185307179586 * u2));
    }
}

static void fresh_path(char *out, size_t cap, const char *dir, const char *name, int rep)
{
    char side[4200];
    snprintf(out, cap, "%s/%s-%d.db", dir, name, rep);
    unlink(out);
    snprintf(side, sizeof side, "%s-wal", out);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", out);
    unlink(side);
}

static sqlite3 *raw_open(const char *path)
{
    sqlite3 *db = NULL;
    if (sqlite3_open(path, &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                         "CREATE TABLE IF NOT EXISTS blobs(id INTEGER PRIMARY KEY, name TEXT, sha BLOB, data BLOB)",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_registry: raw sqlite: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    return db;
}

static void raw_insert(sqlite3 *db, const void *data, size_t len, const uint8_t sha[32])
{
    sqlite3_stmt *stmt = NULL;
    sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
    sqlite3_prepare_v2(db, "INSERT INTO blobs(name, sha, data) VALUES ('m', ?1, ?2)", -1, &stmt, NULL);
    sqlite3_bind_blob(stmt, 1, sha, 32, SQLITE_STATIC);
    sqlite3_bind_blob64(stmt, 2, data, len, SQLITE_STATIC);
    if (sqlite3_step(stmt) != SQLITE_DONE) {
        fprintf(stderr, "bench_registry: raw insert: %s\n", sqlite3_errmsg(db));
        exit(1);
    }
    sqlite3_finalize(stmt);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    int reps = argc > 2 ? atoi(argv[2]) : 5, rep, k;
    size_t n = ARTIFACT_BYTES / sizeof(float);
    float *weights = malloc(ARTIFACT_BYTES);
    uint8_t *small = malloc(SMALL_BYTES), *back = malloc(ARTIFACT_BYTES);
    size_t zcap = ZSTD_compressBound(ARTIFACT_BYTES);
    void *z = malloc(zcap);
    double *t_reg = calloc((size_t)reps, sizeof(double)), *t_rawtx = calloc((size_t)reps, sizeof(double));
    double *t_w = calloc((size_t)reps, sizeof(double)), *t_r = calloc((size_t)reps, sizeof(double));
    double *t_zc = calloc((size_t)reps, sizeof(double)), *t_zd = calloc((size_t)reps, sizeof(double));
    double *t_bw = calloc((size_t)reps, sizeof(double)), *t_br = calloc((size_t)reps, sizeof(double));
    double *t_sha = calloc((size_t)reps, sizeof(double));
    size_t zlen = 0;
    char path[4096];
    uint8_t sha[32];

    if (!weights || !small || !back || !z || reps < 1) {
        fprintf(stderr, "usage: bench_registry [SCRATCH_DIR] [REPETITIONS >= 1]\n");
        return 1;
    }
    fill_weights(weights, n, 1);
    for (rep = 0; rep < reps; rep++) {
        mlops_db *db = NULL;
        mlops_version_writer *writer = NULL;
        mlops_artifact_reader *reader = NULL;
        sqlite3 *raw;
        sqlite3_stmt *stmt = NULL;
        int64_t version = 0;
        size_t got = 0, total;
        double t0;
        int rc;

        /* Registrations of small artifacts, each its own transaction, against raw one-row transactions. */
        fresh_path(path, sizeof path, dir, "reg", rep);
        if (mlops_db_open(&db, path, NULL) || mlops_model_create(db, "m", NULL, NULL))
            die("opening");
        t0 = now_s();
        for (k = 0; k < REGISTRATIONS; k++) {
            memcpy(small, &k, sizeof k);
            fill_weights((float *)(small + 8), (SMALL_BYTES - 8) / sizeof(float), (uint64_t)k + 100 * (uint64_t)rep);
            if (mlops_version_register(&version, db, "m", small, SMALL_BYTES, NULL))
                die("registering");
        }
        t_reg[rep] = now_s() - t0;
        mlops_db_close(db);
        fresh_path(path, sizeof path, dir, "rawtx", rep);
        raw = raw_open(path);
        t0 = now_s();
        for (k = 0; k < REGISTRATIONS; k++) {
            memcpy(small, &k, sizeof k);
            crypto_hash_sha256(sha, small, SMALL_BYTES);
            raw_insert(raw, small, SMALL_BYTES, sha);
        }
        t_rawtx[rep] = now_s() - t0;
        sqlite3_close(raw);

        /* 64 MiB artifact through the registry: streaming write, then verified streaming read. */
        fresh_path(path, sizeof path, dir, "big", rep);
        if (mlops_db_open(&db, path, NULL) || mlops_model_create(db, "m", NULL, NULL))
            die("opening");
        t0 = now_s();
        if (mlops_version_writer_begin(&writer, db, "m", NULL))
            die("begin");
        for (total = 0; total < ARTIFACT_BYTES; total += (size_t)1 << 20)
            if (mlops_version_writer_write(writer, (const uint8_t *)weights + total, (size_t)1 << 20))
                die("write");
        if (mlops_version_writer_commit(&version, writer))
            die("commit");
        t_w[rep] = now_s() - t0;
        mlops_version_writer_free(writer);
        t0 = now_s();
        if (mlops_artifact_reader_open(&reader, db, "m", version))
            die("reader");
        total = 0;
        while ((rc = mlops_artifact_reader_read(&got, reader, back + total, ARTIFACT_BYTES - total + 1)) == MLOPS_OK &&
               got > 0)
            total += got;
        if (rc != MLOPS_DONE || total != ARTIFACT_BYTES)
            die("read");
        t_r[rep] = now_s() - t0;
        mlops_artifact_reader_free(reader);
        mlops_db_close(db);
        if (memcmp(back, weights, ARTIFACT_BYTES) != 0) {
            fprintf(stderr, "bench_registry: read back different bytes\n");
            return 1;
        }

        /* The raw building blocks on the same bytes. */
        t0 = now_s();
        zlen = ZSTD_compress(z, zcap, weights, ARTIFACT_BYTES, LEVEL);
        t_zc[rep] = now_s() - t0;
        if (ZSTD_isError(zlen))
            return 1;
        t0 = now_s();
        if (ZSTD_decompress(back, ARTIFACT_BYTES, z, zlen) != ARTIFACT_BYTES)
            return 1;
        t_zd[rep] = now_s() - t0;
        t0 = now_s();
        crypto_hash_sha256(sha, (const unsigned char *)weights, ARTIFACT_BYTES);
        t_sha[rep] = now_s() - t0;
        fresh_path(path, sizeof path, dir, "rawblob", rep);
        raw = raw_open(path);
        t0 = now_s();
        raw_insert(raw, z, zlen, sha);
        t_bw[rep] = now_s() - t0;
        t0 = now_s();
        sqlite3_prepare_v2(raw, "SELECT data FROM blobs WHERE id = 1", -1, &stmt, NULL);
        if (sqlite3_step(stmt) != SQLITE_ROW || (size_t)sqlite3_column_bytes(stmt, 0) != zlen)
            return 1;
        memcpy(back, sqlite3_column_blob(stmt, 0), zlen);
        sqlite3_finalize(stmt);
        t_br[rep] = now_s() - t0;
        sqlite3_close(raw);
    }
    {
        const double mb = (double)ARTIFACT_BYTES / (1 << 20);
        double reg = REGISTRATIONS / median(t_reg, reps), rawtx = REGISTRATIONS / median(t_rawtx, reps);
        double w = mb / median(t_w, reps), r = mb / median(t_r, reps);
        double zc = median(t_zc, reps), zd = median(t_zd, reps), bw = median(t_bw, reps), br = median(t_br, reps);
        double sh = median(t_sha, reps);
        printf("repetitions: %d (medians), artifact %d MiB float32 weights, zstd level %d, compressed to %.1f%%\n", reps,
               (int)mb, LEVEL, 100.0 * (double)zlen / ARTIFACT_BYTES);
        printf("registrations/s (4 KiB artifacts)      registry %8.0f   raw SQLite one-row txn %8.0f   ratio %.2f\n",
               reg, rawtx, reg / rawtx);
        printf("write MB/s                              registry %8.1f   raw zstd + SQLite blob %8.1f   ratio %.2f"
               "   (raw + SHA-256 %8.1f   ratio %.2f)\n",
               w, mb / (zc + bw), w / (mb / (zc + bw)), mb / (zc + bw + sh), w / (mb / (zc + bw + sh)));
        printf("read MB/s                               registry %8.1f   raw SQLite blob + zstd %8.1f   ratio %.2f"
               "   (raw + SHA-256 %8.1f   ratio %.2f)\n",
               r, mb / (zd + br), r / (mb / (zd + br)), mb / (zd + br + sh), r / (mb / (zd + br + sh)));
        printf("parts: zstd compress %.1f MB/s, zstd decompress %.1f MB/s, SQLite blob write %.1f MB/s (compressed),"
               " read %.1f MB/s, SHA-256 %.1f MB/s\n", mb / zc, mb / zd, (double)zlen / (1 << 20) / bw,
               (double)zlen / (1 << 20) / br, mb / sh);
    }
    for (rep = 0; rep < reps; rep++) {
        static const char *const names[] = {"reg", "rawtx", "big", "rawblob"};
        for (k = 0; k < 4; k++) {
            fresh_path(path, sizeof path, dir, names[k], rep);
        }
    }
    free(weights); free(small); free(back); free(z);
    free(t_reg); free(t_rawtx); free(t_w); free(t_r); free(t_zc); free(t_zd); free(t_bw); free(t_br); free(t_sha);
    return 0;
}
