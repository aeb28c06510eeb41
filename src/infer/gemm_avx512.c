/*
 * AVX-512 VNNI kernels. The int8 product keeps a register tile of up to
 * 4 rows x 96 columns of int32 accumulators (24 zmm) and feeds vpdpbusd one
 * broadcast group of 4 activation bytes per row against 64-byte lines of
 * packed weights: 6 loads and 4 broadcasts per 24 vpdpbusd (a 6 x 64 tile,
 * with more broadcasts, measured slower). Each tile prefetches its output
 * lines before its K loop, so the epilogue's stores do not wait on memory
 * when y exceeds the caches. Rows are taken in blocks whose quantized bytes
 * fit in L2; within a block, panels of columns are the outer loop so a panel
 * stays in cache while every row tile passes over it. Batch 1 and 2 use a
 * 2 x 128 tile for more independent accumulator chains. The epilogue does the
 * reference's float operations in the same order, so results match it bit
 * for bit. Compiled with -mavx512f -mavx512bw -mavx512vl -mavx512vnni.
 */
#include <immintrin.h>
#include <string.h>

#include "infer_int.h"

#define MR 4       /* rows of the main tile */
#define NB 6       /* 16-column panels of the main tile */
#define MR_NARROW 2
/* Bytes of quantized rows per pass over the weights: with one 96-column block of weights they fit in L2. */
#define A_BUDGET ((size_t)1024 * 1024)
#define NB_WIDE 8  /* panels of the tile for one or two rows */

/* 16 quantized values of x[0..15] (masked), as in the reference, still as int32. */
static inline __m512i quant16(const float *x, __mmask16 mask, __m512 inv, __m512 zpv)
{
    __m512 t = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(mask, x), inv, zpv);
    t = _mm512_min_ps(_mm512_max_ps(t, _mm512_setzero_ps()), _mm512_set1_ps(255.0f));
    return _mm512_cvtps_epi32(t);
}

static void quant_row_avx512(const float *x, size_t k, size_t kp, uint8_t *q, int32_t *zp, float *scale)
{
    /* Dword order after the two in-lane packs, back to element order. */
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512 lo0 = _mm512_setzero_ps(), hi0 = _mm512_setzero_ps(), lo1 = lo0, hi1 = hi0, inv, zpv;
    float flo, fhi, finv;
    size_t i;
    for (i = 0; i + 32 <= k; i += 32) {
        __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
        lo0 = _mm512_min_ps(v0, lo0);
        hi0 = _mm512_max_ps(v0, hi0);
        lo1 = _mm512_min_ps(v1, lo1);
        hi1 = _mm512_max_ps(v1, hi1);
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - i)) - 1);
        __m512 v = _mm512_maskz_loadu_ps(mask, x + i);
        lo0 = _mm512_min_ps(v, lo0);
        hi0 = _mm512_max_ps(v, hi0);
    }
    /* Min and max are exact, so the order of the reduction does not matter. */
    flo = _mm512_reduce_min_ps(_mm512_min_ps(lo0, lo1));
    fhi = _mm512_reduce_max_ps(_mm512_max_ps(hi0, hi1));
    mlops__quant_params(flo, fhi, zp, scale, &finv);
    inv = _mm512_set1_ps(finv);
    zpv = _mm512_set1_ps((float)*zp);
    for (i = 0; i + 64 <= k; i += 64) {
        /* Values are already in [0, 255]: the saturating packs only narrow them. */
        __m512i a = quant16(x + i, 0xffff, inv, zpv), b = quant16(x + i + 16, 0xffff, inv, zpv);
        __m512i c = quant16(x + i + 32, 0xffff, inv, zpv), d = quant16(x + i + 48, 0xffff, inv, zpv);
        __m512i bytes = _mm512_packus_epi16(_mm512_packus_epi32(a, b), _mm512_packus_epi32(c, d));
        _mm512_storeu_si512(q + i, _mm512_permutexvar_epi32(order, bytes));
    }
    for (; i < k; i += 16) {
        __mmask16 mask = k - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (k - i)) - 1);
        _mm512_mask_cvtepi32_storeu_epi8(q + i, mask, quant16(x + i, mask, inv, zpv));
    }
    memset(q + k, 0, kp - k);
}

/* The activations that need no libm, as the reference defines them. */
static inline __m512 act_simple(const mlops__epilogue *e, __m512 v)
{
    switch (e->act) {
    case MLOPS__ACT_RELU:
        return _mm512_max_ps(v, _mm512_setzero_ps());
    case MLOPS__ACT_LEAKY_RELU:
        return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(v, _mm512_setzero_ps(), _CMP_GT_OQ),
                                    _mm512_mul_ps(_mm512_set1_ps(e->alpha), v), v);
    case MLOPS__ACT_CLIP:
        return _mm512_min_ps(_mm512_max_ps(v, _mm512_set1_ps(e->alpha)), _mm512_set1_ps(e->beta));
    default:
        return v;
    }
}

/* Epilogue of 16 accumulators of row i at column `col` (`count` <= 16 of them stored). */
static inline void epilogue16(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col,
                              size_t count, __m512i acc, float *dst)
{
    __m512i cs = _mm512_load_si512(layer->colsum + col);
    __m512 s = _mm512_mul_ps(_mm512_set1_ps(a->scale[i]), _mm512_load_ps(layer->wscale + col));
    __m512 v = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc, _mm512_mullo_epi32(_mm512_set1_epi32(a->zp[i]), cs)));
    v = _mm512_add_ps(_mm512_mul_ps(v, s), _mm512_load_ps(layer->bias + col));
    v = act_simple(&layer->epilogue, v);
    if (count >= 16)
        _mm512_storeu_ps(dst, v);
    else
        _mm512_mask_storeu_ps(dst, (__mmask16)((1u << count) - 1), v);
}

void mlops__epilogue_avx512(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t count,
                            const int32_t *acc, float *dst)
{
    size_t c;
    for (c = 0; c < count; c += 16)
        epilogue16(layer, a, i, col + c, count - c, _mm512_loadu_si512(acc + c), dst + c);
    if (mlops__act_is_transcendental(layer->epilogue.act))
        mlops__act_row(&layer->epilogue, dst, count);
}

/* One register tile: rows [i, i + mr) x panels [col / 16, col / 16 + nb), columns limited to j1. */
static inline __attribute__((always_inline)) void tile(const mlops__qlinear *layer, const mlops__qrows *a,
                                                       size_t i, size_t col, size_t j1, const int mr, const int nb,
                                                       float *y, size_t ldy)
{
    __m512i acc[MR][NB_WIDE];
    const size_t groups = (layer->k + 3) / 4, pstride = layer->kp * MLOPS__N_PANEL;
    const int8_t *w = layer->w + (col / MLOPS__N_PANEL) * pstride;
    const uint8_t *q = a->q + i * a->ldq;
    size_t g;
    int r, v;
#pragma GCC unroll 8
    for (r = 0; r < mr; r++)
#pragma GCC unroll 8
        for (v = 0; v < nb; v++) {
            acc[r][v] = _mm512_setzero_si512();
            if (col + (size_t)v * 16 < j1)
                _mm_prefetch((const char *)(y + (i + r) * ldy + col + (size_t)v * 16), _MM_HINT_T0);
        }
    for (g = 0; g < groups; g++) {
        __m512i b[NB_WIDE];
#pragma GCC unroll 8
        for (v = 0; v < nb; v++)
            b[v] = _mm512_load_si512(w + v * pstride + g * 64);
#pragma GCC unroll 8
        for (r = 0; r < mr; r++) {
            int32_t four;
            __m512i av;
            memcpy(&four, q + r * a->ldq + g * 4, 4);
            av = _mm512_set1_epi32(four);
#pragma GCC unroll 8
            for (v = 0; v < nb; v++)
                acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, b[v]);
        }
    }
#pragma GCC unroll 8
    for (r = 0; r < mr; r++) {
        float *dst = y + (i + r) * ldy;
#pragma GCC unroll 8
        for (v = 0; v < nb; v++) {
            size_t c = col + (size_t)v * 16;
            if (c < j1)
                epilogue16(layer, a, i + r, c, j1 - c, acc[r][v], dst + c);
        }
        if (mlops__act_is_transcendental(layer->epilogue.act))
            mlops__act_row(&layer->epilogue, dst + col, (j1 < col + (size_t)nb * 16 ? j1 : col + (size_t)nb * 16) - col);
    }
}

#define TILE_CASE(R, B) \
    case (R) * 16 + (B): \
        tile(layer, a, i, col, j1, R, B, y, ldy); \
        break

static void tile_main(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t j1, int mr,
                      int nb, float *y, size_t ldy)
{
    switch (mr * 16 + nb) {
        TILE_CASE(1, 1); TILE_CASE(1, 2); TILE_CASE(1, 3); TILE_CASE(1, 4); TILE_CASE(1, 5); TILE_CASE(1, 6);
        TILE_CASE(2, 1); TILE_CASE(2, 2); TILE_CASE(2, 3); TILE_CASE(2, 4); TILE_CASE(2, 5); TILE_CASE(2, 6);
        TILE_CASE(3, 1); TILE_CASE(3, 2); TILE_CASE(3, 3); TILE_CASE(3, 4); TILE_CASE(3, 5); TILE_CASE(3, 6);
        TILE_CASE(4, 1); TILE_CASE(4, 2); TILE_CASE(4, 3); TILE_CASE(4, 4); TILE_CASE(4, 5); TILE_CASE(4, 6);
    default:
        break;
    }
}

static void tile_wide(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t j1, int mr,
                      int nb, float *y, size_t ldy)
{
    switch (mr * 16 + nb) {
        TILE_CASE(1, 1); TILE_CASE(1, 2); TILE_CASE(1, 3); TILE_CASE(1, 4);
        TILE_CASE(1, 5); TILE_CASE(1, 6); TILE_CASE(1, 7); TILE_CASE(1, 8);
        TILE_CASE(2, 1); TILE_CASE(2, 2); TILE_CASE(2, 3); TILE_CASE(2, 4);
        TILE_CASE(2, 5); TILE_CASE(2, 6); TILE_CASE(2, 7); TILE_CASE(2, 8);
    default:
        break;
    }
}

void mlops__gemm_avx512(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1, size_t j0,
                        size_t j1, float *y, size_t ldy)
{
    const int narrow = i1 - i0 <= MR_NARROW;
    const size_t step = (size_t)(narrow ? NB_WIDE : NB) * MLOPS__N_PANEL;
    /* Rows per pass over the weights: their quantized bytes stay in L2 while every panel passes. */
    size_t chunk = A_BUDGET / layer->kp / MR * MR, c0, c1, col, i;
    if (chunk < MR)
        chunk = MR;
    for (c0 = i0; c0 < i1; c0 = c1) {
        c1 = i1 - c0 > chunk ? c0 + chunk : i1;
        for (col = j0; col < j1; col += step) {
            size_t panels = (j1 - col + MLOPS__N_PANEL - 1) / MLOPS__N_PANEL;
            int nb = (int)(panels < step / MLOPS__N_PANEL ? panels : step / MLOPS__N_PANEL);
            if (narrow) {
                tile_wide(layer, a, c0, col, j1, (int)(c1 - c0), nb, y, ldy);
                continue;
            }
            for (i = c0; i < c1; i += MR) {
                int mr = (int)(c1 - i < MR ? c1 - i : MR);
                tile_main(layer, a, i, col, j1, mr, nb, y, ldy);
            }
        }
    }
}

/*
 * Weight-only int8: each 64-byte line (4 columns x 4 k per 128-bit lane) is
 * widened to floats and multiplied by the matching 4 activations broadcast to
 * every lane; the 4 partial sums of each column are added at the end.
 */
static void w8_avx512(const mlops__qlinear *layer, const float *x, size_t ldx, size_t i0, size_t i1, size_t j0,
                      size_t j1, float *y, size_t ldy)
{
    const size_t groups = (layer->k + 3) / 4, pstride = layer->kp * MLOPS__N_PANEL;
    size_t i, col, g;
    int l, c;
    for (i = i0; i < i1; i++) {
        const float *xr = x + i * ldx;
        for (col = j0; col < j1; col += MLOPS__N_PANEL) {
            const int8_t *w = layer->w + (col / MLOPS__N_PANEL) * pstride;
            __m512 acc[4];
            float part[64], out[16];
            size_t count = j1 - col < 16 ? j1 - col : 16;
            for (l = 0; l < 4; l++)
                acc[l] = _mm512_setzero_ps();
            for (g = 0; g < groups; g++) {
                __m512 xv;
                if (g * 4 + 4 <= layer->k) {
                    xv = _mm512_broadcast_f32x4(_mm_loadu_ps(xr + g * 4));
                } else {
                    float tail[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                    memcpy(tail, xr + g * 4, (layer->k - g * 4) * sizeof(float));
                    xv = _mm512_broadcast_f32x4(_mm_loadu_ps(tail));
                }
#pragma GCC unroll 4
                for (l = 0; l < 4; l++) {
                    __m128i bytes = _mm_load_si128((const __m128i *)(w + (size_t)g * 64 + (size_t)l * 16));
                    __m512 wv = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(bytes));
                    acc[l] = _mm512_fmadd_ps(xv, wv, acc[l]);
                }
            }
            for (l = 0; l < 4; l++)
                _mm512_storeu_ps(part + (size_t)l * 16, acc[l]);
            for (c = 0; c < 16; c++) {
                float sum = (part[(size_t)c * 4] + part[(size_t)c * 4 + 1]) + (part[(size_t)c * 4 + 2] + part[(size_t)c * 4 + 3]);
                out[c] = sum * layer->wscale[col + c] + layer->bias[col + c];
            }
            for (c = 0; c < (int)count; c++)
                y[i * ldy + col + c] = mlops__act_scalar(&layer->epilogue, out[c]);
        }
    }
}

const mlops__kernels mlops__kernels_avx512 = {quant_row_avx512, mlops__gemm_avx512, w8_avx512};
