/*
 * One-shot zstd compression helpers with bounded decompression.
 */
#include <zstd.h>
#include <zstd_errors.h>

#include "core_int.h"

int mlops__zstd_compress(void **out, size_t *out_len, const void *src, size_t len, int level,
                         const char *subsystem)
{
    size_t bound = ZSTD_compressBound(len);
    size_t written;
    void *dst;

    *out = NULL;
    *out_len = 0;
    if (level < ZSTD_minCLevel() || level > ZSTD_maxCLevel())
        return mlops__error(MLOPS_EINVAL, subsystem, "zstd level %d outside [%d, %d]", level, ZSTD_minCLevel(),
                            ZSTD_maxCLevel());
    dst = mlops__malloc(bound);
    if (!dst)
        return mlops__error(MLOPS_ENOMEM, subsystem, "out of memory compressing %zu bytes", len);
    written = ZSTD_compress(dst, bound, src, len, level);
    if (ZSTD_isError(written)) {
        mlops__free(dst);
        return mlops__error_dep(MLOPS_EINTERNAL, subsystem, (int32_t)ZSTD_getErrorCode(written),
                                "zstd compression failed: %s", ZSTD_getErrorName(written));
    }
    *out = dst;
    *out_len = written;
    return MLOPS_OK;
}

int mlops__zstd_decompress(void **out, size_t *out_len, const void *src, size_t len, size_t max_len,
                           const char *subsystem)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len);
    size_t got;
    void *dst;

    *out = NULL;
    *out_len = 0;
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        return mlops__error(MLOPS_ECORRUPT, subsystem, "not a zstd frame with a recorded size (%zu bytes)", len);
    if (size > max_len)
        return mlops__error(MLOPS_ELIMIT, subsystem, "zstd frame declares %llu bytes, limit is %zu", size,
                            max_len);
    dst = mlops__malloc((size_t)size);
    if (!dst)
        return mlops__error(MLOPS_ENOMEM, subsystem, "out of memory decompressing %llu bytes", size);
    got = ZSTD_decompress(dst, (size_t)size, src, len);
    if (ZSTD_isError(got) || got != size) {
        mlops__free(dst);
        return mlops__error_dep(MLOPS_ECORRUPT, subsystem, ZSTD_isError(got) ? (int32_t)ZSTD_getErrorCode(got) : 0,
                                "zstd frame is damaged: %s",
                                ZSTD_isError(got) ? ZSTD_getErrorName(got) : "size differs from its header");
    }
    *out = dst;
    *out_len = got;
    return MLOPS_OK;
}
