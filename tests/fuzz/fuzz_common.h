/*
 * Helpers shared by the fuzz targets: a failed invariant aborts (so libFuzzer
 * and the replay driver both report it), a NUL-terminated copy of an input,
 * files in a scratch directory, and little-endian integers.
 */
#ifndef MLOPS_FUZZ_COMMON_H
#define MLOPS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mlops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond)                                                                                        \
    do {                                                                                                        \
        if (!(cond)) {                                                                                          \
            fprintf(stderr, "%s:%d: invariant failed: %s (last error: %s)\n", __FILE__, __LINE__, #cond,        \
                    mlops_error_last()->message);                                                               \
            abort();                                                                                            \
        }                                                                                                       \
    } while (0)

/* A failing call must say why: an error status and a non-empty message. */
#define FUZZ_CHECK_FAILURE(rc) FUZZ_CHECK((rc) < 0 && mlops_error_last()->code == (rc) && \
                                          mlops_error_last()->message[0] != '\0')

/* A NUL-terminated copy of `size` bytes (malloc'd; never NULL). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (!text)
        abort();
    if (size)
        memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

/* The scratch directory of this process, made on first use; it and the files named by fuzz_scratch_file() go at exit. */
#define FUZZ_SCRATCH_FILES 4
static char fuzz_scratch_dir[256];
static char fuzz_scratch_files[FUZZ_SCRATCH_FILES][320];

/* Remove a file and the journal and WAL files SQLite may have left beside it. */
static inline void fuzz_remove_file(const char *path)
{
    static const char *const suffixes[] = {"", "-wal", "-shm", "-journal"};
    char name[340];
    size_t i;
    for (i = 0; i < sizeof suffixes / sizeof suffixes[0]; i++) {
        snprintf(name, sizeof name, "%s%s", path, suffixes[i]);
        unlink(name);
    }
}

static inline void fuzz_remove_scratch(void)
{
    size_t i;
    for (i = 0; i < FUZZ_SCRATCH_FILES && fuzz_scratch_files[i][0]; i++)
        fuzz_remove_file(fuzz_scratch_files[i]);
    rmdir(fuzz_scratch_dir);
}

/* Path of the file `name` in the scratch directory (at most FUZZ_SCRATCH_FILES names per process); static storage. */
static inline const char *fuzz_scratch_file(const char *name)
{
    size_t i;
    if (!fuzz_scratch_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(fuzz_scratch_dir, sizeof fuzz_scratch_dir, "%s/mlops-fuzz-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(fuzz_scratch_dir))
            abort();
        atexit(fuzz_remove_scratch);
    }
    for (i = 0; i < FUZZ_SCRATCH_FILES && fuzz_scratch_files[i][0]; i++)
        if (strcmp(strrchr(fuzz_scratch_files[i], '/') + 1, name) == 0)
            return fuzz_scratch_files[i];
    if (i == FUZZ_SCRATCH_FILES)
        abort();
    snprintf(fuzz_scratch_files[i], sizeof fuzz_scratch_files[i], "%s/%s", fuzz_scratch_dir, name);
    return fuzz_scratch_files[i];
}

/* Write `size` bytes to the file at `path`, replacing it. */
static inline void fuzz_write_file(const char *path, const uint8_t *data, size_t size)
{
    FILE *file = fopen(path, "wb");
    if (!file || fwrite(data, 1, size, file) != size || fclose(file) != 0)
        abort();
}

/* Little-endian integers of `bytes` bytes, as the library's binary formats store them. */
static inline uint64_t fuzz_get_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    while (bytes-- > 0)
        v = (v << 8) | p[bytes];
    return v;
}

static inline void fuzz_put_le(uint8_t *p, uint64_t v, int bytes)
{
    int i;
    for (i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

#endif /* MLOPS_FUZZ_COMMON_H */
