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

/*
 * The most bytes the blocks of the zstd frame at `src` can give: raw and RLE
 * blocks their size, a compressed block at most ZSTD_BLOCKSIZE_MAX (the
 * format's block limit). 0 when the header or a block runs past `len`. This
 * walks the block headers only (the frame format of RFC 8878), so a damaged
 * size field is caught before the size it claims is allocated.
 */
static unsigned long long frame_capacity(const unsigned char *src, size_t len)
{
    static const size_t dict_id_bytes[4] = {0, 1, 2, 4};
    unsigned long long total = 0;
    unsigned descriptor, single_segment, fcs_flag;
    size_t pos;
    if (len < 5)
        return 0;
    descriptor = src[4];
    fcs_flag = descriptor >> 6;
    single_segment = (descriptor >> 5) & 1;
    pos = 5 + !single_segment + dict_id_bytes[descriptor & 3] +
          (fcs_flag == 0 ? single_segment : (size_t)1 << fcs_flag);
    for (;;) {
        size_t header, block, payload;
        if (len < pos || len - pos < 3)
            return 0;
        header = src[pos] | (size_t)src[pos + 1] << 8 | (size_t)src[pos + 2] << 16;
        block = header >> 3;
        pos += 3;
        switch ((header >> 1) & 3) {
        case 0: payload = block; break;                    /* raw */
        case 1: payload = 1; break;                        /* RLE: one byte repeated */
        case 2: payload = block; block = ZSTD_BLOCKSIZE_MAX; break; /* compressed */
        default: return 0;                                 /* reserved */
        }
        if (len - pos < payload)
            return 0;
        pos += payload;
        total += block < ZSTD_BLOCKSIZE_MAX ? block : ZSTD_BLOCKSIZE_MAX;
        if (header & 1)
            return total;
    }
}

int mlops__zstd_decompress(void **out, size_t *out_len, const void *src, size_t len, size_t max_len,
                           const char *subsystem)
{
    unsigned long long size = ZSTD_getFrameContentSize(src, len), capacity;
    size_t got;
    void *dst;

    *out = NULL;
    *out_len = 0;
    if (size == ZSTD_CONTENTSIZE_ERROR || size == ZSTD_CONTENTSIZE_UNKNOWN)
        return mlops__error(MLOPS_ECORRUPT, subsystem, "not a zstd frame with a recorded size (%zu bytes)", len);
    if (size > max_len)
        return mlops__error(MLOPS_ELIMIT, subsystem, "zstd frame declares %llu bytes, limit is %zu", size,
                            max_len);
    capacity = frame_capacity(src, len);
    if (size > capacity)
        return mlops__error(MLOPS_ECORRUPT, subsystem, "zstd frame is damaged: it declares %llu bytes, its blocks"
                            " hold at most %llu", size, capacity);
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
