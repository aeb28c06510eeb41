/*
 * The AMX kernel's data flow, checked on any machine: the kernel source is
 * compiled here against a software model of the tile instructions it uses
 * (written from their definitions: ldtilecfg, tilezero, tileloadd,
 * tilestored, tdpbusd), and its output must equal the reference kernel's bit
 * for bit. This proves the tile shapes, strides and the packed layout it
 * reads; the real instructions are compared by test_gemm where the CPU has
 * them. The rows that do not fill a tile and the epilogue run the AVX-512
 * code, so the test needs AVX-512 VNNI.
 */
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "infer/infer_int.h"

/* Eight tiles of at most 16 rows x 64 bytes, and whether a valid configuration is loaded. */
static uint8_t tiles[8][16][64];
static int configured;

static void model_loadconfig(const void *config)
{
    const uint8_t *c = config;
    int t;
    configured = c[0] == 1;
    for (t = 0; t < 8; t++) {
        uint16_t colsb;
        memcpy(&colsb, c + 16 + 2 * t, 2);
        if (c[48 + t] != 16 || colsb != 64)
            configured = 0;
    }
}

static void model_zero(int t)
{
    assert_true(configured);
    memset(tiles[t], 0, sizeof tiles[t]);
}

static void model_load(int t, const void *base, size_t stride)
{
    int r;
    assert_true(configured);
    for (r = 0; r < 16; r++)
        memcpy(tiles[t][r], (const uint8_t *)base + r * stride, 64);
}

static void model_store(int t, void *base, size_t stride)
{
    int r;
    assert_true(configured);
    for (r = 0; r < 16; r++)
        memcpy((uint8_t *)base + r * stride, tiles[t][r], 64);
}

/* tdpbusd: C[m][n] += sum over k, e of zero-extended A[m][4k + e] times sign-extended B[k][4n + e]. */
static void model_dpbusd(int c, int a, int b)
{
    int m, n, k, e;
    assert_true(configured);
    for (m = 0; m < 16; m++)
        for (n = 0; n < 16; n++) {
            int32_t acc;
            memcpy(&acc, &tiles[c][m][n * 4], 4);
            for (k = 0; k < 16; k++)
                for (e = 0; e < 4; e++)
                    acc += (int32_t)tiles[a][m][k * 4 + e] * (int8_t)tiles[b][k][n * 4 + e];
            memcpy(&tiles[c][m][n * 4], &acc, 4);
        }
}

static void model_release(void)
{
    configured = 0;
}

#undef _tile_loadconfig
#undef _tile_zero
#undef _tile_loadd
#undef _tile_stored
#undef _tile_dpbusd
#undef _tile_release
#define _tile_loadconfig(config) model_loadconfig(config)
#define _tile_zero(t) model_zero(t)
#define _tile_loadd(t, base, stride) model_load(t, base, stride)
#define _tile_stored(t, base, stride) model_store(t, base, stride)
#define _tile_dpbusd(c, a, b) model_dpbusd(c, a, b)
#define _tile_release() model_release()
/* The library has its own table; this copy of the kernel gets another name. */
#define mlops__kernels_amx model_kernels_amx
#include "infer/gemm_amx.c"

static float uniform(unsigned *state)
{
    *state = *state * 1103515245u + 12345u;
    return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

static void test_amx_model_equals_reference(void **state)
{
    static const size_t shapes[][3] = {{16, 64, 16}, {32, 64, 32}, {33, 65, 17}, {47, 130, 50},
                                       {64, 200, 64}, {100, 300, 70}, {16, 1, 1}, {35, 1000, 33}};
    static const mlops__act acts[] = {MLOPS__ACT_NONE, MLOPS__ACT_GELU, MLOPS__ACT_RELU, MLOPS__ACT_CLIP};
    size_t s;
    unsigned seed = 7;
    (void)state;
    if (!mlops__isa_available(MLOPS__ISA_AVX512VNNI)) {
        printf("[  SKIP    ] the model runs row tails on AVX-512 VNNI, which this CPU lacks\n");
        return;
    }
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        size_t m = shapes[s][0], k = shapes[s][1], n = shapes[s][2], i, j0;
        float *w = malloc(k * n * sizeof *w), *x = malloc(m * k * sizeof *x), *bias = malloc(n * sizeof *bias);
        float *want = malloc(m * n * sizeof *want), *got = malloc(m * n * sizeof *got);
        mlops__epilogue epi = {acts[s % 4], -0.25f, 1.5f};
        mlops__qlinear *layer;
        void *scratch;
        uint8_t *q;
        int32_t *zp;
        float *scale;
        mlops__qrows rows;
        for (i = 0; i < k * n; i++)
            w[i] = uniform(&seed) * 1.5f;
        for (i = 0; i < m * k; i++)
            x[i] = uniform(&seed) + (i % 3 == 0 ? 0.4f : 0.0f);
        for (i = 0; i < n; i++)
            bias[i] = uniform(&seed);
        assert_int_equal(mlops__qlinear_pack(&layer, w, k, n, n, 0, bias, epi, MLOPS__ISA_REF), MLOPS_OK);
        scratch = malloc(mlops__qlinear_scratch_bytes(layer, m));
        q = (uint8_t *)(((uintptr_t)scratch + 63) & ~(uintptr_t)63);
        zp = (int32_t *)(q + m * layer->kp);
        scale = (float *)(zp + m);
        for (i = 0; i < m; i++)
            mlops__kernels_ref.quant(x + i * k, k, layer->kp, q + i * layer->kp, zp + i, scale + i);
        rows.q = q;
        rows.ldq = layer->kp;
        rows.zp = zp;
        rows.scale = scale;
        mlops__kernels_ref.gemm(layer, &rows, 0, m, 0, n, want, n);
        /* The whole product, then column ranges starting at every 16 as the thread pool hands them out. */
        for (j0 = 0; j0 < n; j0 += 16) {
            memset(got, 0, m * n * sizeof *got);
            model_kernels_amx.gemm(layer, &rows, 0, m, j0, n, got, n);
            for (i = 0; i < m; i++)
                assert_memory_equal(got + i * n + j0, want + i * n + j0, (n - j0) * sizeof *got);
        }
        /* Row ranges that do not start on a tile boundary. */
        for (i = 1; i < m && i < 20; i += 7) {
            size_t r;
            memset(got, 0, m * n * sizeof *got);
            model_kernels_amx.gemm(layer, &rows, i, m, 0, n, got, n);
            for (r = i; r < m; r++)
                assert_memory_equal(got + r * n, want + r * n, n * sizeof *got);
        }
        free(scratch);
        mlops__qlinear_free(layer);
        free(w);
        free(x);
        free(bias);
        free(want);
        free(got);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_amx_model_equals_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
