/*
 * Shared helpers of the cmocka suites.
 */
#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test_support.h"

static atomic_long live_allocations;
static atomic_long allocations_until_failure;
static atomic_int failure_hit;

static int should_fail(void)
{
    long left = atomic_load(&allocations_until_failure);
    if (left <= 0)
        return 0;
    left = atomic_fetch_sub(&allocations_until_failure, 1);
    if (left == 1) {
        atomic_store(&failure_hit, 1);
        return 1;
    }
    return 0;
}

static void *counting_malloc(size_t size, void *payload)
{
    void *ptr;
    (void)payload;
    if (should_fail())
        return NULL;
    ptr = malloc(size);
    if (ptr)
        atomic_fetch_add(&live_allocations, 1);
    return ptr;
}

static void *counting_realloc(void *ptr, size_t size, void *payload)
{
    (void)payload;
    if (should_fail())
        return NULL;
    return realloc(ptr, size);
}

static void counting_free(void *ptr, void *payload)
{
    (void)payload;
    if (ptr)
        atomic_fetch_sub(&live_allocations, 1);
    free(ptr);
}

void ts_alloc_install(void)
{
    mlops_allocator allocator = {MLOPS_ALLOCATOR_VERSION, counting_malloc, counting_realloc, counting_free, NULL};
    assert_int_equal(mlops_allocator_set(&allocator), MLOPS_OK);
}

void ts_alloc_fail_at(long n)
{
    atomic_store(&failure_hit, 0);
    atomic_store(&allocations_until_failure, n);
}

long ts_alloc_live(void)
{
    return atomic_load(&live_allocations);
}

int ts_alloc_failure_hit(void)
{
    return atomic_load(&failure_hit);
}

long ts_each_allocation_failure(int (*call)(void *ctx), void (*cleanup)(void *ctx), void *ctx)
{
    long n;
    ts_alloc_install();
    for (n = 1; n < 100000; n++) {
        long before = ts_alloc_live();
        int rc;
        ts_alloc_fail_at(n);
        rc = call(ctx);
        if (!ts_alloc_failure_hit()) {
            ts_alloc_fail_at(0);
            assert_int_equal(rc, MLOPS_OK);
            if (cleanup)
                cleanup(ctx);
            return n - 1;
        }
        ts_alloc_fail_at(0);
        if (rc == MLOPS_OK)
            fail_msg("allocation %ld failed but the call reported success", n);
        assert_true(rc < 0);
        assert_non_null(mlops_error_last()->message);
        if (cleanup)
            cleanup(ctx);
        if (ts_alloc_live() != before)
            fail_msg("allocation %ld failed: %ld allocations leaked", n, ts_alloc_live() - before);
    }
    fail_msg("the call never succeeded");
    return n;
}

static char tmpdir[4096];

static void remove_tree(const char *path)
{
    DIR *dir = opendir(path);
    struct dirent *entry;
    char child[8192];
    if (!dir) {
        unlink(path);
        return;
    }
    while ((entry = readdir(dir)) != NULL) {
        if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
            continue;
        snprintf(child, sizeof child, "%s/%s", path, entry->d_name);
        remove_tree(child);
    }
    closedir(dir);
    rmdir(path);
}

static void remove_tmpdir(void)
{
    if (tmpdir[0] && !getenv("MLOPS_TEST_KEEP"))
        remove_tree(tmpdir);
}

const char *ts_tmpdir(void)
{
    if (!tmpdir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmpdir, sizeof tmpdir, "%s/mlops-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmpdir))
            fail_msg("cannot create a scratch directory under %s", base ? base : "/tmp");
        atexit(remove_tmpdir);
    }
    return tmpdir;
}

const char *ts_path(const char *name)
{
    static char paths[8][8192];
    static int next;
    char *out = paths[next++ % 8];
    snprintf(out, sizeof paths[0], "%s/%s", ts_tmpdir(), name);
    return out;
}

const char *ts_data(const char *name)
{
    static char paths[8][8192];
    static int next;
    char *out = paths[next++ % 8];
    snprintf(out, sizeof paths[0], "%s/%s", MLOPS_TEST_DATA_DIR, name);
    return out;
}

void ts_write_file(const char *path, const void *data, size_t len)
{
    FILE *file = fopen(path, "wb");
    assert_non_null(file);
    assert_int_equal(fwrite(data, 1, len, file), len);
    assert_int_equal(fclose(file), 0);
}

char *ts_read_file(const char *path, size_t *len_out)
{
    FILE *file = fopen(path, "rb");
    char *data;
    long size;
    assert_non_null(file);
    fseek(file, 0, SEEK_END);
    size = ftell(file);
    fseek(file, 0, SEEK_SET);
    data = malloc((size_t)size + 1);
    assert_non_null(data);
    assert_int_equal(fread(data, 1, (size_t)size, file), (size_t)size);
    data[size] = '\0';
    fclose(file);
    if (len_out)
        *len_out = (size_t)size;
    return data;
}

void ts_assert_error_at(int status, int code, const char *needle, const char *file, int line)
{
    const mlops_error *err = mlops_error_last();
    if (status != code) {
        print_error("%s:%d: expected %s, got %s (%s)\n", file, line, mlops_strerror(code), mlops_strerror(status),
                    err->message);
        _fail(file, line);
    }
    if (err->code != code) {
        print_error("%s:%d: error detail holds %d, expected %d\n", file, line, (int)err->code, code);
        _fail(file, line);
    }
    if (needle && !strstr(err->message, needle)) {
        print_error("%s:%d: message \"%s\" lacks \"%s\"\n", file, line, err->message, needle);
        _fail(file, line);
    }
}

void ts_assert_open_refused_untouched(const char *path, const char *options, int code, const char *needle)
{
    size_t before_len, after_len;
    char *before = ts_read_file(path, &before_len);
    char *after;
    mlops_db *db = (mlops_db *)&db;
    ts_assert_error(mlops_db_open(&db, path, options), code, needle);
    assert_null(db);
    after = ts_read_file(path, &after_len);
    assert_int_equal(before_len, after_len);
    assert_memory_equal(before, after, before_len);
    free(before);
    free(after);
}
