/*
 * AMX-INT8 kernel. Tiles of 16 rows x 64 bytes: A is 16 quantized rows x 64
 * k, B is 16 groups of 4 k x 16 columns (exactly 16 consecutive 64-byte lines
 * of the packed weights), C is 16 x 16 int32. A block of 32 rows x 32 columns
 * keeps four C tiles; tdpbusd multiplies unsigned activations by signed
 * weights. Rows left over after the 16-row blocks go to the AVX-512 VNNI
 * kernel (every AMX CPU has it). The accumulators are stored and finished by
 * the shared AVX-512 epilogue, so results match the reference bit for bit.
 * Compiled with -mamx-tile -mamx-int8 and the AVX-512 flags.
 */
#include <immintrin.h>
#include <string.h>

#include "infer_int.h"

/* The 64-byte tile configuration of palette 1. */
typedef struct tile_config {
    uint8_t palette_id;
    uint8_t start_row;
    uint8_t reserved[14];
    uint16_t colsb[16];
    uint8_t rows[16];
} tile_config;

static void configure_tiles(void)
{
    tile_config config __attribute__((aligned(64)));
    int t;
    memset(&config, 0, sizeof config);
    config.palette_id = 1;
    for (t = 0; t < 8; t++) {
        config.rows[t] = 16;
        config.colsb[t] = 64;
    }
    /* GCC 12 may drop the stores above: the intrinsic does not tell it the struct is read. */
    __asm__ volatile("" ::: "memory");
    _tile_loadconfig(&config);
}

/* Finish a 16 x 16 block of C (rows i.., columns col..) through the AVX-512 epilogue. */
static void finish(const mlops__qlinear *layer, const mlops__qrows *a, const int32_t *c, size_t i, size_t rows,
                   size_t col, size_t j1, float *y, size_t ldy)
{
    size_t r, count = j1 - col < 16 ? j1 - col : 16;
    for (r = 0; r < rows; r++)
        mlops__epilogue_avx512(layer, a, i + r, col, count, c + r * 16, y + (i + r) * ldy + col);
}

/* Rows [i, i + 32) x columns [col, col + 32): four C tiles. */
static void block_2x2(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t j1,
                      float *y, size_t ldy)
{
    int32_t c[4][256] __attribute__((aligned(64)));
    const size_t pstride = layer->kp * MLOPS__N_PANEL;
    const int8_t *w0 = layer->w + (col / MLOPS__N_PANEL) * pstride, *w1 = w0 + pstride;
    const uint8_t *q0 = a->q + i * a->ldq, *q1 = q0 + 16 * a->ldq;
    size_t kk;
    _tile_zero(0);
    _tile_zero(1);
    _tile_zero(2);
    _tile_zero(3);
    for (kk = 0; kk < layer->kp; kk += 64) {
        _tile_loadd(4, q0 + kk, a->ldq);
        _tile_loadd(5, q1 + kk, a->ldq);
        _tile_loadd(6, w0 + kk * 16, 64);
        _tile_loadd(7, w1 + kk * 16, 64);
        _tile_dpbusd(0, 4, 6);
        _tile_dpbusd(1, 4, 7);
        _tile_dpbusd(2, 5, 6);
        _tile_dpbusd(3, 5, 7);
    }
    _tile_stored(0, c[0], 64);
    _tile_stored(1, c[1], 64);
    _tile_stored(2, c[2], 64);
    _tile_stored(3, c[3], 64);
    finish(layer, a, c[0], i, 16, col, j1, y, ldy);
    finish(layer, a, c[2], i + 16, 16, col, j1, y, ldy);
    if (col + 16 < j1) {
        finish(layer, a, c[1], i, 16, col + 16, j1, y, ldy);
        finish(layer, a, c[3], i + 16, 16, col + 16, j1, y, ldy);
    }
}

/* Rows [i, i + 16) x columns [col, col + 16): one C tile. */
static void block_1x1(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t j1,
                      float *y, size_t ldy)
{
    int32_t c[256] __attribute__((aligned(64)));
    const int8_t *w = layer->w + (col / MLOPS__N_PANEL) * layer->kp * MLOPS__N_PANEL;
    const uint8_t *q = a->q + i * a->ldq;
    size_t kk;
    _tile_zero(0);
    for (kk = 0; kk < layer->kp; kk += 64) {
        _tile_loadd(4, q + kk, a->ldq);
        _tile_loadd(6, w + kk * 16, 64);
        _tile_dpbusd(0, 4, 6);
    }
    _tile_stored(0, c, 64);
    finish(layer, a, c, i, 16, col, j1, y, ldy);
}

static void gemm_amx(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1, size_t j0, size_t j1,
                     float *y, size_t ldy)
{
    size_t full = i0 + (i1 - i0) / 16 * 16, col, i;
    if (full > i0) {
        configure_tiles();
        for (col = j0; col < j1; col += 32) {
            for (i = i0; i + 32 <= full; i += 32) {
                if (col + 16 < j1) {
                    block_2x2(layer, a, i, col, j1, y, ldy);
                } else {
                    block_1x1(layer, a, i, col, j1, y, ldy);
                    block_1x1(layer, a, i + 16, col, j1, y, ldy);
                }
            }
            for (; i < full; i += 16) {
                block_1x1(layer, a, i, col, j1, y, ldy);
                if (col + 16 < j1)
                    block_1x1(layer, a, i, col + 16, j1, y, ldy);
            }
        }
        _tile_release();
    }
    if (full < i1)
        mlops__gemm_avx512(layer, a, full, i1, j0, j1, y, ldy);
}

/* Batch-1 weight-only products gain nothing from tiles: the AVX-512 version serves. */
static void w8_amx(const mlops__qlinear *layer, const float *x, size_t ldx, size_t i0, size_t i1, size_t j0,
                   size_t j1, float *y, size_t ldy)
{
    mlops__kernels_avx512.w8(layer, x, ldx, i0, i1, j0, j1, y, ldy);
}

/* Quantization is the same vector code as AVX-512. */
static void quant_row_amx(const float *x, size_t k, size_t kp, uint8_t *q, int32_t *zp, float *scale)
{
    mlops__kernels_avx512.quant(x, k, kp, q, zp, scale);
}

const mlops__kernels mlops__kernels_amx = {quant_row_amx, gemm_amx, w8_amx};
