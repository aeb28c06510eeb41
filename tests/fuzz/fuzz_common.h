/*
 * Helpers shared by the fuzz targets: a failed invariant aborts (so libFuzzer
 * and the replay driver both report it), and a NUL-terminated copy of an input.
 */
#ifndef MLOPS_FUZZ_COMMON_H
#define MLOPS_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#endif /* MLOPS_FUZZ_COMMON_H */
