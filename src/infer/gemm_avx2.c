/*
 * AVX2 kernels. vpmaddubsw would add two u8 x s8 products into a saturating
 * 16-bit lane (255 * 127 * 2 > 32767), so the int8 product widens both sides
 * to 16 bits and uses vpmaddwd, whose pairs of products are exact in 32 bits.
 * A tile is 2 rows x 16 columns; each ymm accumulator holds two partial sums
 * (k = 4g, 4g+1 and k = 4g+2, 4g+3) for 4 columns, added at the end. The
 * epilogue does the reference's float operations in the same order.
 * Compiled with -mavx2 -mfma.
 */
#include <immintrin.h>
#include <string.h>

#include "infer_int.h"

static void quant_row_avx2(const float *x, size_t k, size_t kp, uint8_t *q, int32_t *zp, float *scale)
{
    __m256 lo = _mm256_setzero_ps(), hi = _mm256_setzero_ps(), inv, zpv;
    float lanes[8], flo = 0.0f, fhi = 0.0f, finv;
    size_t i;
    int l;
    for (i = 0; i + 8 <= k; i += 8) {
        __m256 v = _mm256_loadu_ps(x + i);
        lo = _mm256_min_ps(v, lo);
        hi = _mm256_max_ps(v, hi);
    }
    _mm256_storeu_ps(lanes, lo);
    for (l = 0; l < 8; l++)
        flo = lanes[l] < flo ? lanes[l] : flo;
    _mm256_storeu_ps(lanes, hi);
    for (l = 0; l < 8; l++)
        fhi = lanes[l] > fhi ? lanes[l] : fhi;
    for (; i < k; i++) {
        flo = x[i] < flo ? x[i] : flo;
        fhi = x[i] > fhi ? x[i] : fhi;
    }
    mlops__quant_params(flo, fhi, zp, scale, &finv);
    inv = _mm256_set1_ps(finv);
    zpv = _mm256_set1_ps((float)*zp);
    for (i = 0; i + 8 <= k; i += 8) {
        __m256 t = _mm256_fmadd_ps(_mm256_loadu_ps(x + i), inv, zpv);
        __m256i r;
        __m128i packed;
        t = _mm256_min_ps(_mm256_max_ps(t, _mm256_setzero_ps()), _mm256_set1_ps(255.0f));
        r = _mm256_cvtps_epi32(t);
        packed = _mm_packus_epi32(_mm256_castsi256_si128(r), _mm256_extracti128_si256(r, 1));
        packed = _mm_packus_epi16(packed, packed);
        _mm_storel_epi64((__m128i *)(q + i), packed);
    }
    for (; i < k; i++)
        q[i] = mlops__quant_value(x[i], finv, *zp);
    memset(q + k, 0, kp - k);
}

static inline __m256 act_simple(const mlops__epilogue *e, __m256 v)
{
    switch (e->act) {
    case MLOPS__ACT_RELU:
        return _mm256_max_ps(v, _mm256_setzero_ps());
    case MLOPS__ACT_LEAKY_RELU:
        return _mm256_blendv_ps(_mm256_mul_ps(_mm256_set1_ps(e->alpha), v), v,
                                _mm256_cmp_ps(v, _mm256_setzero_ps(), _CMP_GT_OQ));
    case MLOPS__ACT_CLIP:
        return _mm256_min_ps(_mm256_max_ps(v, _mm256_set1_ps(e->alpha)), _mm256_set1_ps(e->beta));
    default:
        return v;
    }
}

/* Sum the two partial sums of each column: [c0 c0' c1 c1' c2 c2' c3 c3'] x 2 -> c0 .. c7. */
static inline __m256i fold(__m256i lo4, __m256i hi4)
{
    return _mm256_permute4x64_epi64(_mm256_hadd_epi32(lo4, hi4), 0xd8);
}

static inline void epilogue8(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t count,
                             __m256i acc, float *dst)
{
    __m256i cs = _mm256_loadu_si256((const __m256i *)(layer->colsum + col));
    __m256 s = _mm256_mul_ps(_mm256_set1_ps(a->scale[i]), _mm256_loadu_ps(layer->wscale + col));
    __m256 v = _mm256_cvtepi32_ps(_mm256_sub_epi32(acc, _mm256_mullo_epi32(_mm256_set1_epi32(a->zp[i]), cs)));
    v = _mm256_add_ps(_mm256_mul_ps(v, s), _mm256_loadu_ps(layer->bias + col));
    v = act_simple(&layer->epilogue, v);
    if (count >= 8) {
        _mm256_storeu_ps(dst, v);
    } else {
        float out[8];
        _mm256_storeu_ps(out, v);
        memcpy(dst, out, count * sizeof(float));
    }
}

/* Four activation bytes of a row as 16-bit values, repeated in every 64-bit lane. */
static inline __m256i broadcast4(const uint8_t *q)
{
    int32_t four;
    memcpy(&four, q, 4);
    return _mm256_broadcastq_epi64(_mm_cvtepu8_epi16(_mm_cvtsi32_si128(four)));
}

static inline __attribute__((always_inline)) void tile(const mlops__qlinear *layer, const mlops__qrows *a,
                                                       size_t i, size_t col, size_t j1, const int mr, float *y,
                                                       size_t ldy)
{
    __m256i acc[2][4];
    const size_t groups = (layer->k + 3) / 4;
    const int8_t *w = layer->w + (col / MLOPS__N_PANEL) * layer->kp * MLOPS__N_PANEL;
    const uint8_t *q = a->q + i * a->ldq;
    size_t g;
    int r, v;
    for (r = 0; r < mr; r++)
        for (v = 0; v < 4; v++)
            acc[r][v] = _mm256_setzero_si256();
    for (g = 0; g < groups; g++) {
        __m256i b[4];
#pragma GCC unroll 4
        for (v = 0; v < 4; v++)
            b[v] = _mm256_cvtepi8_epi16(_mm_load_si128((const __m128i *)(w + (size_t)g * 64 + (size_t)v * 16)));
#pragma GCC unroll 2
        for (r = 0; r < mr; r++) {
            __m256i av = broadcast4(q + r * a->ldq + g * 4);
#pragma GCC unroll 4
            for (v = 0; v < 4; v++)
                acc[r][v] = _mm256_add_epi32(acc[r][v], _mm256_madd_epi16(av, b[v]));
        }
    }
    for (r = 0; r < mr; r++) {
        float *dst = y + (i + r) * ldy;
        size_t end = j1 < col + 16 ? j1 : col + 16;
        epilogue8(layer, a, i + r, col, end - col, fold(acc[r][0], acc[r][1]), dst + col);
        if (col + 8 < end)
            epilogue8(layer, a, i + r, col + 8, end - col - 8, fold(acc[r][2], acc[r][3]), dst + col + 8);
        if (mlops__act_is_transcendental(layer->epilogue.act))
            mlops__act_row(&layer->epilogue, dst + col, end - col);
    }
}

static void gemm_avx2(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1, size_t j0,
                      size_t j1, float *y, size_t ldy)
{
    size_t col, i;
    for (col = j0; col < j1; col += MLOPS__N_PANEL) {
        for (i = i0; i + 2 <= i1; i += 2)
            tile(layer, a, i, col, j1, 2, y, ldy);
        if (i < i1)
            tile(layer, a, i, col, j1, 1, y, ldy);
    }
}

/* Weight-only int8, as the AVX-512 version with 8-float halves of each 64-byte line. */
static void w8_avx2(const mlops__qlinear *layer, const float *x, size_t ldx, size_t i0, size_t i1, size_t j0,
                    size_t j1, float *y, size_t ldy)
{
    const size_t groups = (layer->k + 3) / 4, pstride = layer->kp * MLOPS__N_PANEL;
    size_t i, col, g;
    int l, c;
    for (i = i0; i < i1; i++) {
        const float *xr = x + i * ldx;
        for (col = j0; col < j1; col += MLOPS__N_PANEL) {
            const int8_t *w = layer->w + (col / MLOPS__N_PANEL) * pstride;
            __m256 acc[8];
            float part[64], out[16];
            size_t count = j1 - col < 16 ? j1 - col : 16;
            for (l = 0; l < 8; l++)
                acc[l] = _mm256_setzero_ps();
            for (g = 0; g < groups; g++) {
                float four[4] = {0.0f, 0.0f, 0.0f, 0.0f};
                __m256 xv;
                memcpy(four, xr + g * 4, (g * 4 + 4 <= layer->k ? 4 : layer->k - g * 4) * sizeof(float));
                xv = _mm256_broadcast_ps((const __m128 *)four);
#pragma GCC unroll 8
                for (l = 0; l < 8; l++) {
                    __m128i bytes = _mm_loadl_epi64((const __m128i *)(w + (size_t)g * 64 + (size_t)l * 8));
                    acc[l] = _mm256_fmadd_ps(xv, _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(bytes)), acc[l]);
                }
            }
            for (l = 0; l < 8; l++)
                _mm256_storeu_ps(part + (size_t)l * 8, acc[l]);
            for (c = 0; c < 16; c++) {
                float sum = (part[(size_t)c * 4] + part[(size_t)c * 4 + 1]) + (part[(size_t)c * 4 + 2] + part[(size_t)c * 4 + 3]);
                out[c] = sum * layer->wscale[col + c] + layer->bias[col + c];
            }
            for (c = 0; c < (int)count; c++)
                y[i * ldy + col + c] = mlops__act_scalar(&layer->epilogue, out[c]);
        }
    }
}

const mlops__kernels mlops__kernels_avx2 = {quant_row_avx2, gemm_avx2, w8_avx2};
