/*
 * The int8 GEMM: every kernel equals the reference bit for bit on odd shapes,
 * strides and unaligned pointers; the reference equals the scheme's formula;
 * int8 results stay within the error the scales allow; activations, the fp32
 * and weight-only paths, threads, concurrent callers and every error path.
 * MLOPS_TEST_QUICK=1 (the sanitizer build) drops the largest shapes.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_support.h"
#include "infer/infer_int.h"

static const mlops__isa all_isas[] = {MLOPS__ISA_REF, MLOPS__ISA_AVX2, MLOPS__ISA_AVX512VNNI, MLOPS__ISA_AMX};
#define ISA_COUNT 4

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* Uniform in [-1, 1). */
static float rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (float)((rng_state >> 40) * (2.0 / 16777216.0) - 1.0);
}

static int quick(void)
{
    const char *q = getenv("MLOPS_TEST_QUICK");
    return q != NULL && q[0] == '1';
}

/* 1 when kernel `isa` runs here; otherwise prints why it is skipped (once per ISA and test). */
static int isa_or_skip(mlops__isa isa, const char *test)
{
    if (mlops__isa_available(isa))
        return 1;
    printf("[  SKIP    ] %s: kernel %s: this CPU/OS does not offer it (CPUID or arch_prctl)\n", test,
           mlops__isa_name(isa));
    return 0;
}

typedef struct shape {
    size_t m, k, n;
} shape;

/* A problem with strided, unaligned buffers and canaries around the output. */
typedef struct problem {
    size_t m, k, n, ldx, ldw, ldy;
    int transposed;
    float *xbase, *x, *wbase, *w, *bias, *ybase;
    mlops__epilogue epi;
} problem;

static void problem_init(problem *p, size_t m, size_t k, size_t n, unsigned variant)
{
    size_t i, rows, cols;
    memset(p, 0, sizeof *p);
    p->m = m;
    p->k = k;
    p->n = n;
    p->transposed = variant & 1;
    p->ldx = k + variant % 3;
    p->ldy = n + variant % 5;
    rows = p->transposed ? n : k;
    cols = p->transposed ? k : n;
    p->ldw = cols + variant % 2;
    p->xbase = malloc((m * p->ldx + 1) * sizeof(float));
    p->wbase = malloc((rows * p->ldw + 1) * sizeof(float));
    p->bias = malloc(n * sizeof(float));
    assert_non_null(p->xbase);
    assert_non_null(p->wbase);
    assert_non_null(p->bias);
    p->x = p->xbase + 1; /* not 64-byte (nor 8-byte) aligned */
    p->w = p->wbase + 1;
    for (i = 0; i < m * p->ldx; i++)
        p->x[i] = rnd();
    /* Some rows all positive (after a ReLU), some shifted: zero points across the range. */
    for (i = 0; i < m; i++) {
        size_t c;
        float shift = (i % 4 == 1) ? 1.0f : (i % 4 == 2) ? -0.7f : 0.0f;
        for (c = 0; c < k; c++)
            p->x[i * p->ldx + c] = i % 4 == 3 ? fabsf(p->x[i * p->ldx + c]) * 3.0f : p->x[i * p->ldx + c] + shift;
    }
    for (i = 0; i < rows * p->ldw; i++)
        p->w[i] = rnd() * (1.0f + (float)(i % 7));
    for (i = 0; i < n; i++)
        p->bias[i] = rnd();
}

static void problem_free(problem *p)
{
    free(p->xbase);
    free(p->wbase);
    free(p->bias);
}

/* An output buffer of the problem's stride, offset by 3 floats, filled with a canary. */
static float *output_new(const problem *p, float **base)
{
    size_t total = p->m * p->ldy + 3, i;
    *base = malloc(total * sizeof(float));
    assert_non_null(*base);
    for (i = 0; i < total; i++)
        (*base)[i] = -12345.0f;
    return *base + 3;
}

static void assert_canaries(const problem *p, const float *base)
{
    size_t i, j;
    for (i = 0; i < 3; i++)
        assert_true(base[i] == -12345.0f);
    for (i = 0; i < p->m; i++)
        for (j = p->n; j < p->ldy; j++)
            assert_true(base[3 + i * p->ldy + j] == -12345.0f);
}

static int run_isa(const problem *p, mlops__isa isa, float *y)
{
    mlops__qlinear *layer = NULL;
    void *scratch;
    int rc = mlops__qlinear_pack(&layer, p->w, p->k, p->n, p->ldw, p->transposed, p->bias, p->epi, isa);
    if (rc != MLOPS_OK)
        return rc;
    scratch = malloc(mlops__qlinear_scratch_bytes(layer, p->m));
    assert_non_null(scratch);
    rc = mlops__qlinear_run(layer, p->x, p->m, p->ldx, y, p->ldy, scratch);
    free(scratch);
    mlops__qlinear_free(layer);
    return rc;
}

static const mlops__epilogue epilogues[] = {
    {MLOPS__ACT_NONE, 0.0f, 0.0f},    {MLOPS__ACT_RELU, 0.0f, 0.0f},   {MLOPS__ACT_LEAKY_RELU, 0.1f, 0.0f},
    {MLOPS__ACT_SIGMOID, 0.0f, 0.0f}, {MLOPS__ACT_TANH, 0.0f, 0.0f},   {MLOPS__ACT_GELU, 0.0f, 0.0f},
    {MLOPS__ACT_CLIP, -0.5f, 2.0f},
};
#define EPILOGUE_COUNT (sizeof epilogues / sizeof epilogues[0])

/* Every kernel against the reference, bit for bit, on one shape. */
static void check_shape(size_t m, size_t k, size_t n, unsigned variant)
{
    problem p;
    float *ref_base, *ref, *out_base, *out;
    int i;
    problem_init(&p, m, k, n, variant);
    p.epi = epilogues[variant % EPILOGUE_COUNT];
    ref = output_new(&p, &ref_base);
    assert_int_equal(run_isa(&p, MLOPS__ISA_REF, ref), MLOPS_OK);
    assert_canaries(&p, ref_base);
    for (i = 1; i < ISA_COUNT; i++) {
        size_t r;
        if (!mlops__isa_available(all_isas[i]))
            continue;
        out = output_new(&p, &out_base);
        assert_int_equal(run_isa(&p, all_isas[i], out), MLOPS_OK);
        for (r = 0; r < m; r++) {
            if (memcmp(ref + r * p.ldy, out + r * p.ldy, n * sizeof(float)) != 0) {
                size_t j;
                for (j = 0; j < n && ref[r * p.ldy + j] == out[r * p.ldy + j]; j++)
                    ;
                fail_msg("kernel %s differs from ref at %zux%zux%zu row %zu col %zu: %.9g vs %.9g",
                         mlops__isa_name(all_isas[i]), m, k, n, r, j, (double)out[r * p.ldy + j],
                         (double)ref[r * p.ldy + j]);
            }
        }
        assert_canaries(&p, out_base);
        free(out_base);
    }
    free(ref_base);
    problem_free(&p);
}

static void test_kernels_equal_reference_bit_for_bit(void **state)
{
    static const size_t dims[] = {1, 3, 17, 63, 64, 65};
    static const shape wide[] = {{1000, 65, 17}, {3, 1000, 63}, {17, 64, 1000}, {1, 1000, 1000},
                                 {64, 1000, 65}, {1000, 3, 1},  {65, 17, 1000}, {2, 1000, 130}};
    size_t a, b, c;
    unsigned variant = 0;
    int i;
    (void)state;
    for (i = 1; i < ISA_COUNT; i++)
        isa_or_skip(all_isas[i], "bit-for-bit equivalence");
    for (a = 0; a < 6; a++)
        for (b = 0; b < 6; b++)
            for (c = 0; c < 6; c++)
                check_shape(dims[a], dims[b], dims[c], variant++);
    for (a = 0; a < sizeof wide / sizeof wide[0]; a++)
        check_shape(wide[a].m, wide[a].k, wide[a].n, variant++);
    if (!quick()) {
        check_shape(300, 1500, 700, 3);
        check_shape(1000, 1000, 1000, 0);
        check_shape(97, 4099, 33, 6);
    }
}

/* Every height of a partial row tile (the AVX-512 tile has 4 rows) after full ones, against every panel
 * remainder of a 96-column block: 97 leaves 1 panel, 150 leaves 4, 190 leaves 6, one of them partial. */
static void test_kernels_equal_reference_on_tile_remainders(void **state)
{
    static const size_t cols[] = {97, 150, 190};
    size_t m, c;
    unsigned variant = 0;
    int i;
    (void)state;
    for (i = 1; i < ISA_COUNT; i++)
        isa_or_skip(all_isas[i], "bit-for-bit equivalence");
    for (m = 3; m <= 10; m++)
        for (c = 0; c < sizeof cols / sizeof cols[0]; c++)
            check_shape(m, 70, cols[c], variant++);
}

/* The reference equals the scheme written out here: sum of (q - zp) * wq, times sx * sw, plus bias. */
static void test_reference_follows_the_scheme(void **state)
{
    problem p;
    mlops__qlinear *layer;
    uint8_t *q;
    int32_t *zp;
    float *scale, *y_base, *y;
    size_t i, j, c;
    (void)state;
    problem_init(&p, 19, 70, 45, 1);
    y = output_new(&p, &y_base);
    assert_int_equal(mlops__qlinear_pack(&layer, p.w, p.k, p.n, p.ldw, p.transposed, p.bias, p.epi,
                                         MLOPS__ISA_REF), MLOPS_OK);
    q = malloc(p.m * layer->kp);
    zp = malloc(p.m * sizeof *zp);
    scale = malloc(p.m * sizeof *scale);
    for (i = 0; i < p.m; i++) {
        float lo = 0.0f, hi = 0.0f;
        mlops__kernels_ref.quant(p.x + i * p.ldx, p.k, layer->kp, q + i * layer->kp, zp + i, scale + i);
        for (c = 0; c < p.k; c++) {
            float v = p.x[i * p.ldx + c], back = (float)(q[i * layer->kp + c] - zp[i]) * scale[i];
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
            assert_true(fabsf(back - v) <= scale[i] * 0.5001f + 1e-6f * fabsf(v));
        }
        assert_true(fabsf(scale[i] - (hi - lo) / 255.0f) <= 1e-6f * scale[i]);
        for (c = p.k; c < layer->kp; c++)
            assert_int_equal(q[i * layer->kp + c], 0);
    }
    /* Weights: symmetric, per column, within half a step. */
    for (j = 0; j < p.n; j++) {
        float amax = 0.0f;
        for (c = 0; c < p.k; c++)
            amax = fmaxf(amax, fabsf(p.w[j * p.ldw + c]));
        assert_true(fabsf(layer->wscale[j] - amax / 127.0f) <= 1e-6f * amax);
        for (c = 0; c < p.k; c++) {
            int wq = layer->w[mlops__packed_at(layer, c, j)];
            assert_true(wq >= -127 && wq <= 127);
            assert_true(fabsf((float)wq * layer->wscale[j] - p.w[j * p.ldw + c]) <= layer->wscale[j] * 0.5f + 1e-6f);
        }
    }
    {
        void *scratch = malloc(mlops__qlinear_scratch_bytes(layer, p.m));
        assert_int_equal(mlops__qlinear_run(layer, p.x, p.m, p.ldx, y, p.ldy, scratch), MLOPS_OK);
        free(scratch);
    }
    for (i = 0; i < p.m; i++) {
        for (j = 0; j < p.n; j++) {
            int64_t acc = 0;
            float expect;
            for (c = 0; c < p.k; c++)
                acc += (int64_t)(q[i * layer->kp + c] - zp[i]) * layer->w[mlops__packed_at(layer, c, j)];
            expect = (float)acc * (scale[i] * layer->wscale[j]) + p.bias[j];
            assert_true(expect == y[i * p.ldy + j]);
        }
    }
    free(y_base);
    free(q);
    free(zp);
    free(scale);
    mlops__qlinear_free(layer);
    problem_free(&p);
}

/* W[c][j] of a problem, whatever its layout. */
static float weight(const problem *p, size_t c, size_t j)
{
    return p->transposed ? p->w[j * p->ldw + c] : p->w[c * p->ldw + j];
}

/*
 * Against the exact product in double: an activation is off by at most half
 * its row step sx / 2, a weight by half its column step sw / 2, so each term
 * x w is off by at most |w| sx / 2 + |x| sw / 2 + sx sw / 4.
 */
static void test_int8_within_the_error_the_scales_allow(void **state)
{
    problem p;
    float *y_base, *y;
    size_t i, j, c;
    int isa;
    (void)state;
    problem_init(&p, 23, 300, 77, 2);
    for (isa = 0; isa < ISA_COUNT; isa++) {
        if (!isa_or_skip(all_isas[isa], "scale-derived tolerance"))
            continue;
        y = output_new(&p, &y_base);
        assert_int_equal(run_isa(&p, all_isas[isa], y), MLOPS_OK);
        for (i = 0; i < p.m; i++) {
            double lo = 0.0, hi = 0.0, sx;
            for (c = 0; c < p.k; c++) {
                lo = fmin(lo, p.x[i * p.ldx + c]);
                hi = fmax(hi, p.x[i * p.ldx + c]);
            }
            sx = (hi - lo) / 255.0;
            for (j = 0; j < p.n; j++) {
                double exact = p.bias[j], bound = 0.0, amax = 0.0, sw;
                for (c = 0; c < p.k; c++)
                    amax = fmax(amax, fabs(weight(&p, c, j)));
                sw = amax / 127.0;
                for (c = 0; c < p.k; c++) {
                    double xv = p.x[i * p.ldx + c], wv = weight(&p, c, j);
                    exact += xv * wv;
                    bound += fabs(wv) * sx / 2 + fabs(xv) * sw / 2 + sx * sw / 4;
                }
                assert_true(fabs(y[i * p.ldy + j] - exact) <= bound * 1.001 + 1e-5 * fabs(exact));
            }
        }
        free(y_base);
    }
    problem_free(&p);
}

/* Activations applied in the epilogue equal the activation applied afterwards, computed here. */
static double act_expect(const mlops__epilogue *e, double v)
{
    switch (e->act) {
    case MLOPS__ACT_RELU:
        return v > 0 ? v : 0;
    case MLOPS__ACT_LEAKY_RELU:
        return v > 0 ? v : e->alpha * v;
    case MLOPS__ACT_SIGMOID:
        return 1.0 / (1.0 + exp(-v));
    case MLOPS__ACT_TANH:
        return tanh(v);
    case MLOPS__ACT_GELU:
        return 0.5 * v * (1.0 + erf(v / sqrt(2.0)));
    case MLOPS__ACT_CLIP:
        return v < e->alpha ? e->alpha : v > e->beta ? e->beta : v;
    default:
        return v;
    }
}

static void test_epilogue_activations(void **state)
{
    problem p;
    float *plain_base, *plain, *y_base, *y;
    size_t a, i, j;
    int isa;
    (void)state;
    problem_init(&p, 9, 40, 37, 0);
    plain = output_new(&p, &plain_base);
    assert_int_equal(run_isa(&p, MLOPS__ISA_REF, plain), MLOPS_OK);
    for (isa = 0; isa < ISA_COUNT; isa++) {
        if (!isa_or_skip(all_isas[isa], "epilogue activations"))
            continue;
        for (a = 1; a < EPILOGUE_COUNT; a++) {
            p.epi = epilogues[a];
            y = output_new(&p, &y_base);
            assert_int_equal(run_isa(&p, all_isas[isa], y), MLOPS_OK);
            for (i = 0; i < p.m; i++)
                for (j = 0; j < p.n; j++) {
                    double want = act_expect(&p.epi, plain[i * p.ldy + j]);
                    assert_true(fabs(y[i * p.ldy + j] - want) <= 1e-6 * (1.0 + fabs(want)));
                }
            free(y_base);
        }
        p.epi = epilogues[0];
    }
    free(plain_base);
    problem_free(&p);
}

/*
 * At the largest K the int32 sums reach +-255 * 127 * 65536, just below 2^31:
 * rows at the two extremes of the zero point against weights of +-127 give
 * the closed-form result on every kernel.
 */
static void test_largest_k_stays_exact(void **state)
{
    const size_t k = MLOPS__K_MAX, n = 20;
    float *w = malloc(k * n * sizeof *w), *x = malloc(2 * k * sizeof *x), y[2 * 20];
    mlops__epilogue none = {MLOPS__ACT_NONE, 0.0f, 0.0f};
    size_t c, j;
    int isa;
    (void)state;
    assert_non_null(w);
    assert_non_null(x);
    for (c = 0; c < k; c++) {
        for (j = 0; j < n; j++)
            w[c * n + j] = j % 2 ? -0.5f : 0.5f; /* quantizes to +-127 with scale 0.5 / 127 */
        x[c] = 2.0f;   /* row 0: range [0, 2], zero point 0, every value 255 */
        x[k + c] = -2.0f; /* row 1: range [-2, 0], zero point 255, every value 0 */
    }
    for (isa = 0; isa < ISA_COUNT; isa++) {
        mlops__qlinear *layer;
        void *scratch;
        if (!isa_or_skip(all_isas[isa], "largest K"))
            continue;
        assert_int_equal(mlops__qlinear_pack(&layer, w, k, n, n, 0, NULL, none, all_isas[isa]), MLOPS_OK);
        scratch = malloc(mlops__qlinear_scratch_bytes(layer, 2));
        assert_int_equal(mlops__qlinear_run(layer, x, 2, k, y, n, scratch), MLOPS_OK);
        for (j = 0; j < n; j++) {
            float sw = 0.5f / 127.0f, sx = 2.0f / 255.0f, sign = j % 2 ? -1.0f : 1.0f;
            float big = (float)(255 * 127 * (int64_t)k);
            assert_true(y[j] == sign * big * (sx * sw));
            assert_true(y[n + j] == -sign * big * (sx * sw));
        }
        free(scratch);
        mlops__qlinear_free(layer);
    }
    free(w);
    free(x);
}

/* ---- the public API ---------------------------------------------------------- */

static int pack_public(mlops_gemm **out, const problem *p, int32_t precision, int32_t act, int32_t threads,
                       const char *isa)
{
    mlops_gemm_options options;
    mlops_gemm_options_init(&options);
    options.precision = precision;
    options.activation = act;
    options.alpha = 0.2f;
    options.beta = 0.5f;
    options.transposed = p->transposed;
    options.threads = threads;
    options.isa = isa;
    return mlops_gemm_pack(out, p->w, p->k, p->n, p->ldw, p->bias, &options);
}

/* The public default kernel, unless MLOPS_ISA forces one this CPU lacks (then the test is skipped). */
static int default_kernel_or_skip(void)
{
    const char *name;
    if (mlops_gemm_isa_default(&name) == MLOPS_OK)
        return 1;
    printf("[  SKIP    ] MLOPS_ISA=%s: %s\n", getenv("MLOPS_ISA"), mlops_error_last()->message);
    return 0;
}

/* fp32 through BLAS (sgemv for one row, sgemm otherwise) against a naive triple loop. */
static void test_fp32_path_matches_naive_loop(void **state)
{
    static const shape shapes[] = {{1, 70, 33}, {5, 64, 17}, {31, 129, 65}, {1, 3, 1}};
    size_t s, i, j, c;
    unsigned variant;
    (void)state;
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        for (variant = 0; variant < 2; variant++) {
            problem p;
            mlops_gemm *gemm;
            float *y_base, *y;
            problem_init(&p, shapes[s].m, shapes[s].k, shapes[s].n, variant + (unsigned)s);
            y = output_new(&p, &y_base);
            assert_int_equal(pack_public(&gemm, &p, MLOPS_GEMM_FP32, MLOPS_ACT_LEAKY_RELU, 1, NULL), MLOPS_OK);
            assert_string_equal(mlops_gemm_kernel(gemm), "blas");
            assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
            for (i = 0; i < p.m; i++)
                for (j = 0; j < p.n; j++) {
                    double sum = p.bias[j], mag = fabs(p.bias[j]);
                    for (c = 0; c < p.k; c++) {
                        sum += (double)p.x[i * p.ldx + c] * weight(&p, c, j);
                        mag += fabs((double)p.x[i * p.ldx + c] * weight(&p, c, j));
                    }
                    sum = sum > 0 ? sum : 0.2 * sum;
                    assert_true(fabs(y[i * p.ldy + j] - sum) <= 1e-5 * mag + 1e-6);
                }
            assert_canaries(&p, y_base);
            mlops_gemm_free(gemm);
            free(y_base);
            problem_free(&p);
        }
    }
}

/* Weight-only int8: float activations against the dequantized weights, on every kernel. */
static void test_weight_only_int8(void **state)
{
    static const shape shapes[] = {{1, 1000, 1000}, {1, 3, 17}, {2, 65, 63}, {7, 130, 33}};
    size_t s, i, j, c;
    int isa;
    (void)state;
    for (s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        problem p;
        problem_init(&p, shapes[s].m, shapes[s].k, shapes[s].n, (unsigned)s);
        for (isa = 0; isa < ISA_COUNT; isa++) {
            mlops_gemm *gemm;
            float *y_base, *y;
            if (!isa_or_skip(all_isas[isa], "weight-only int8"))
                continue;
            y = output_new(&p, &y_base);
            assert_int_equal(pack_public(&gemm, &p, MLOPS_GEMM_INT8_WEIGHTS, MLOPS_ACT_NONE, 1,
                                         mlops__isa_name(all_isas[isa])), MLOPS_OK);
            assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
            for (j = 0; j < p.n; j++) {
                float amax = 0.0f, sw;
                for (c = 0; c < p.k; c++)
                    amax = fmaxf(amax, fabsf(weight(&p, c, j)));
                sw = amax > 0.0f ? amax / 127.0f : 1.0f; /* the scheme: symmetric, 127 steps */
                for (i = 0; i < p.m; i++) {
                    double sum = 0.0, mag = 0.0;
                    for (c = 0; c < p.k; c++) {
                        double wq = rintf(weight(&p, c, j) / sw);
                        sum += p.x[i * p.ldx + c] * wq;
                        mag += fabs(p.x[i * p.ldx + c] * wq);
                    }
                    sum = sum * sw + p.bias[j];
                    /* float accumulation of k terms: at most about k units of 2^-24 of the magnitude */
                    assert_true(fabs(y[i * p.ldy + j] - sum) <=
                                (double)(p.k + 4) * 6e-8 * mag * sw + 1e-6 * (1.0 + fabs(sum)));
                }
            }
            assert_canaries(&p, y_base);
            mlops_gemm_free(gemm);
            free(y_base);
        }
        problem_free(&p);
    }
}

/* N threads give exactly the results of one, for int8 and weight-only int8. */
static void test_threads_are_bit_identical(void **state)
{
    /* Every shape is at least 2^20 multiply-adds, so the pool really splits it. */
    static const shape full[] = {{256, 256, 512}, {1, 1024, 1024}, {300, 200, 40}, {3, 700, 2000}};
    static const shape small[] = {{64, 128, 256}, {1, 1024, 1024}, {130, 100, 81}, {3, 700, 512}};
    static const int32_t precisions[] = {MLOPS_GEMM_INT8, MLOPS_GEMM_INT8_WEIGHTS};
    const shape *shapes = quick() ? small : full;
    size_t s, pr;
    int32_t threads;
    (void)state;
    if (!default_kernel_or_skip())
        return;
    for (s = 0; s < sizeof full / sizeof full[0]; s++) {
        problem p;
        problem_init(&p, shapes[s].m, shapes[s].k, shapes[s].n, (unsigned)s);
        for (pr = 0; pr < 2; pr++) {
            mlops_gemm *one;
            float *ref_base, *ref;
            ref = output_new(&p, &ref_base);
            assert_int_equal(pack_public(&one, &p, precisions[pr], MLOPS_ACT_GELU, 1, NULL), MLOPS_OK);
            assert_int_equal(mlops_gemm_run(one, p.x, p.m, p.ldx, ref, p.ldy), MLOPS_OK);
            for (threads = 2; threads <= 4; threads++) {
                mlops_gemm *many;
                float *y_base, *y;
                int rep;
                y = output_new(&p, &y_base);
                assert_int_equal(pack_public(&many, &p, precisions[pr], MLOPS_ACT_GELU, threads, NULL), MLOPS_OK);
                for (rep = 0; rep < 3; rep++) {
                    assert_int_equal(mlops_gemm_run(many, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
                    assert_memory_equal(y_base, ref_base, (p.m * p.ldy + 3) * sizeof(float));
                }
                mlops_gemm_free(many);
                free(y_base);
            }
            mlops_gemm_free(one);
            free(ref_base);
        }
        problem_free(&p);
    }
}

/* Several threads share one packed GEMM, each with its own scratch. */
typedef struct shared_run {
    const mlops_gemm *gemm;
    const problem *p;
    const float *expect;
    int mismatches;
} shared_run;

static void *shared_worker(void *arg)
{
    shared_run *run = arg;
    const problem *p = run->p;
    size_t bytes = mlops_gemm_scratch_bytes(run->gemm, p->m);
    void *scratch = malloc(bytes);
    float *y = malloc(p->m * p->ldy * sizeof(float));
    int rep;
    for (rep = 0; rep < 20; rep++) {
        size_t i;
        if (mlops_gemm_run_scratch(run->gemm, p->x, p->m, p->ldx, y, p->ldy, scratch, bytes) != MLOPS_OK) {
            run->mismatches++;
            continue;
        }
        for (i = 0; i < p->m; i++)
            if (memcmp(y + i * p->ldy, run->expect + i * p->ldy, p->n * sizeof(float)) != 0)
                run->mismatches++;
    }
    free(scratch);
    free(y);
    return NULL;
}

static void test_concurrent_callers_share_a_gemm(void **state)
{
    problem p;
    mlops_gemm *gemm;
    float *expect_base, *expect;
    pthread_t threads[4];
    shared_run runs[4];
    int t;
    (void)state;
    if (!default_kernel_or_skip())
        return;
    problem_init(&p, 33, 200, 150, 4);
    expect = output_new(&p, &expect_base);
    assert_int_equal(pack_public(&gemm, &p, MLOPS_GEMM_INT8, MLOPS_ACT_RELU, 1, NULL), MLOPS_OK);
    assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, expect, p.ldy), MLOPS_OK);
    for (t = 0; t < 4; t++) {
        runs[t].gemm = gemm;
        runs[t].p = &p;
        runs[t].expect = expect;
        runs[t].mismatches = 0;
        assert_int_equal(pthread_create(&threads[t], NULL, shared_worker, &runs[t]), 0);
    }
    for (t = 0; t < 4; t++) {
        pthread_join(threads[t], NULL);
        assert_int_equal(runs[t].mismatches, 0);
    }
    mlops_gemm_free(gemm);
    free(expect_base);
    problem_free(&p);
}

/* The public int8 path on the default (or MLOPS_ISA) kernel equals the reference kernel. */
static void test_public_default_kernel_equals_reference(void **state)
{
    problem p;
    mlops_gemm *gemm, *ref_gemm;
    float *y_base, *y, *ref_base, *ref;
    const char *name;
    (void)state;
    if (!default_kernel_or_skip())
        return;
    assert_int_equal(mlops_gemm_isa_default(&name), MLOPS_OK);
    problem_init(&p, 67, 190, 81, 5);
    y = output_new(&p, &y_base);
    ref = output_new(&p, &ref_base);
    assert_int_equal(pack_public(&gemm, &p, MLOPS_GEMM_INT8, MLOPS_ACT_CLIP, 1, NULL), MLOPS_OK);
    assert_string_equal(mlops_gemm_kernel(gemm), name);
    assert_int_equal(pack_public(&ref_gemm, &p, MLOPS_GEMM_INT8, MLOPS_ACT_CLIP, 1, "ref"), MLOPS_OK);
    assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
    assert_int_equal(mlops_gemm_run(ref_gemm, p.x, p.m, p.ldx, ref, p.ldy), MLOPS_OK);
    assert_memory_equal(y_base, ref_base, (p.m * p.ldy + 3) * sizeof(float));
    /* m = 0 is a no-op; a smaller m reuses the scratch. */
    assert_int_equal(mlops_gemm_run(gemm, p.x, 0, p.ldx, NULL, p.ldy), MLOPS_OK);
    assert_int_equal(mlops_gemm_run(gemm, p.x, 5, p.ldx, y, p.ldy), MLOPS_OK);
    mlops_gemm_free(gemm);
    mlops_gemm_free(ref_gemm);
    free(y_base);
    free(ref_base);
    problem_free(&p);
}

/* After the first call at the largest m, runs allocate nothing: every allocation would fail here. */
static void test_runs_allocate_nothing_after_warm_up(void **state)
{
    static const int32_t precisions[] = {MLOPS_GEMM_INT8, MLOPS_GEMM_FP32, MLOPS_GEMM_INT8_WEIGHTS};
    problem p;
    size_t pr;
    (void)state;
    if (!default_kernel_or_skip())
        return;
    problem_init(&p, 40, 300, 200, 2);
    ts_alloc_install();
    for (pr = 0; pr < 3; pr++) {
        mlops_gemm *gemm;
        float *y_base, *y;
        void *scratch;
        size_t bytes;
        y = output_new(&p, &y_base);
        assert_int_equal(pack_public(&gemm, &p, precisions[pr], MLOPS_ACT_TANH, 2, NULL), MLOPS_OK);
        bytes = mlops_gemm_scratch_bytes(gemm, p.m);
        scratch = malloc(bytes + 1);
        assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
        ts_alloc_fail_at(1);
        assert_int_equal(mlops_gemm_run(gemm, p.x, p.m, p.ldx, y, p.ldy), MLOPS_OK);
        assert_int_equal(mlops_gemm_run(gemm, p.x, 7, p.ldx, y, p.ldy), MLOPS_OK);
        assert_int_equal(mlops_gemm_run_scratch(gemm, p.x, p.m, p.ldx, y, p.ldy, (char *)scratch + 1, bytes),
                         MLOPS_OK);
        assert_false(ts_alloc_failure_hit());
        ts_alloc_fail_at(0);
        mlops_gemm_free(gemm);
        free(scratch);
        free(y_base);
    }
    assert_int_equal(ts_alloc_live(), 0);
    problem_free(&p);
}

/* ---- ISA selection and errors ------------------------------------------------- */

static void with_isa_env(const char *value, int expect_rc, const char *needle)
{
    const char *saved = getenv("MLOPS_ISA");
    char *copy = saved != NULL ? strdup(saved) : NULL;
    const char *name;
    setenv("MLOPS_ISA", value, 1);
    if (expect_rc == MLOPS_OK) {
        assert_int_equal(mlops_gemm_isa_default(&name), MLOPS_OK);
        assert_string_equal(name, value);
    } else {
        ts_assert_error(mlops_gemm_isa_default(&name), expect_rc, needle);
        assert_null(name);
    }
    if (copy != NULL)
        setenv("MLOPS_ISA", copy, 1);
    else
        unsetenv("MLOPS_ISA");
    free(copy);
}

static void test_isa_selection(void **state)
{
    int i;
    mlops__isa best;
    (void)state;
    with_isa_env("sse9", MLOPS_EINVAL, "unknown kernel \"sse9\"");
    for (i = 0; i < ISA_COUNT; i++) {
        if (mlops__isa_available(all_isas[i]))
            with_isa_env(mlops__isa_name(all_isas[i]), MLOPS_OK, NULL);
        else
            with_isa_env(mlops__isa_name(all_isas[i]), MLOPS_EUNSUPPORTED, "is not available");
    }
    assert_true(mlops__isa_available(MLOPS__ISA_REF));
    assert_string_equal(mlops__isa_name((mlops__isa)9), "unknown");
    if (getenv("MLOPS_ISA") == NULL) {
        /* Unforced, the best available kernel wins. */
        assert_int_equal(mlops__isa_select(&best), MLOPS_OK);
        for (i = (int)best + 1; i < ISA_COUNT; i++)
            assert_false(mlops__isa_available(all_isas[i]));
        assert_true(mlops__isa_available(best));
    }
    printf("kernels here: ref avx2=%d avx512vnni=%d amx=%d (amx permitted=%d)\n",
           mlops__isa_available(MLOPS__ISA_AVX2), mlops__isa_available(MLOPS__ISA_AVX512VNNI),
           mlops__isa_available(MLOPS__ISA_AMX), mlops__amx_permitted());
}

static void test_errors(void **state)
{
    float w[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, x[8] = {0}, y[8];
    mlops_gemm *gemm = NULL;
    mlops_gemm_options options;
    mlops__qlinear *layer;
    mlops__epilogue none = {MLOPS__ACT_NONE, 0, 0}, bad_clip = {MLOPS__ACT_CLIP, 1.0f, -1.0f};
    char scratch[256];
    float *huge;
    const char *forced = getenv("MLOPS_ISA");
    char *saved = forced != NULL ? strdup(forced) : NULL;
    (void)state;
    /* These checks use the default kernel: unforce it. */
    unsetenv("MLOPS_ISA");
    ts_assert_error(mlops_gemm_pack(NULL, w, 3, 4, 4, NULL, NULL), MLOPS_EINVAL, "out");
    ts_assert_error(mlops_gemm_pack(&gemm, NULL, 3, 4, 4, NULL, NULL), MLOPS_EINVAL, "w");
    assert_null(gemm);
    ts_assert_error(mlops_gemm_pack(&gemm, w, 0, 4, 4, NULL, NULL), MLOPS_EINVAL, "empty");
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 3, NULL, NULL), MLOPS_EINVAL, "leading dimension 3");
    mlops_gemm_options_init(&options);
    options.version = 7;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "version 7");
    mlops_gemm_options_init(&options);
    options.precision = 9;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "precision 9");
    mlops_gemm_options_init(&options);
    options.activation = 42;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "activation 42");
    mlops_gemm_options_init(&options);
    options.threads = 0;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "threads 0");
    mlops_gemm_options_init(&options);
    options.transposed = 2;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "transposed");
    mlops_gemm_options_init(&options);
    options.isa = "neon";
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "unknown kernel \"neon\"");
    if (!mlops__isa_available(MLOPS__ISA_AMX)) {
        options.isa = "amx";
        ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EUNSUPPORTED,
                        "kernel \"amx\" is not available");
    }
    mlops_gemm_options_init(&options);
    options.activation = MLOPS_ACT_CLIP;
    options.alpha = 1.0f;
    options.beta = 0.0f;
    options.isa = "ref";
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "clip bounds");
    w[5] = NAN;
    options.activation = MLOPS_ACT_NONE;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_EINVAL, "weight [1][1] is not finite");
    w[5] = 6;
    x[0] = INFINITY;
    ts_assert_error(mlops_gemm_pack(&gemm, w, 3, 4, 4, x, &options), MLOPS_EINVAL, "bias [0] is not finite");
    x[0] = 0;
    huge = calloc(MLOPS__K_MAX + 1, sizeof(float));
    ts_assert_error(mlops_gemm_pack(&gemm, huge, MLOPS__K_MAX + 1, 1, 1, NULL, &options), MLOPS_ELIMIT, "K = 65537");
    free(huge);

    assert_int_equal(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_OK);
    ts_assert_error(mlops_gemm_run(NULL, x, 1, 3, y, 4), MLOPS_EINVAL, "gemm");
    ts_assert_error(mlops_gemm_run(gemm, NULL, 1, 3, y, 4), MLOPS_EINVAL, "x");
    ts_assert_error(mlops_gemm_run(gemm, x, 1, 3, NULL, 4), MLOPS_EINVAL, "y");
    ts_assert_error(mlops_gemm_run(gemm, x, 1, 2, y, 4), MLOPS_EINVAL, "input leading dimension 2");
    ts_assert_error(mlops_gemm_run(gemm, x, 1, 3, y, 3), MLOPS_EINVAL, "output leading dimension 3");
    ts_assert_error(mlops_gemm_run_scratch(NULL, x, 1, 3, y, 4, scratch, sizeof scratch), MLOPS_EINVAL, "gemm");
    ts_assert_error(mlops_gemm_run_scratch(gemm, x, 1, 3, y, 4, NULL, 0), MLOPS_EINVAL, "scratch");
    ts_assert_error(mlops_gemm_run_scratch(gemm, x, 2, 3, y, 4, scratch, 10), MLOPS_EBUFSIZE, "scratch of 10 bytes");
    assert_int_equal(mlops_gemm_run_scratch(gemm, x, 1, 3, y, 4, scratch, sizeof scratch), MLOPS_OK);
    assert_string_equal(mlops_gemm_kernel(gemm), "ref");
    assert_string_equal(mlops_gemm_kernel(NULL), "none");
    assert_int_equal(mlops_gemm_scratch_bytes(NULL, 4), 0);
    ts_assert_error(mlops_gemm_isa_default(NULL), MLOPS_EINVAL, "out");
    mlops_gemm_free(gemm);
    mlops_gemm_free(NULL);
    mlops_gemm_options_init(NULL);

    options.precision = MLOPS_GEMM_FP32;
    assert_int_equal(mlops_gemm_pack(&gemm, w, 3, 4, 4, NULL, &options), MLOPS_OK);
    ts_assert_error(mlops_gemm_run(gemm, x, 2, 2, y, 4), MLOPS_EINVAL, "leading dimensions");
    assert_int_equal(mlops_gemm_scratch_bytes(gemm, 4), 0);
    mlops_gemm_free(gemm);

    /* The private contract refuses the same way. */
    ts_assert_error(mlops__qlinear_pack(NULL, w, 3, 4, 4, 0, NULL, none, MLOPS__ISA_REF), MLOPS_EINVAL, "out");
    ts_assert_error(mlops__qlinear_pack(&layer, w, 3, 4, 4, 0, NULL, bad_clip, MLOPS__ISA_REF), MLOPS_EINVAL,
                    "clip bounds");
    ts_assert_error(mlops__qlinear_pack(&layer, w, 3, 4, 2, 1, NULL, none, MLOPS__ISA_REF), MLOPS_EINVAL,
                    "leading dimension 2 is below 3");
    assert_int_equal(mlops__qlinear_pack(&layer, w, 3, 4, 4, 0, NULL, none, MLOPS__ISA_REF), MLOPS_OK);
    ts_assert_error(mlops__qlinear_run(layer, x, 1, 3, y, 4, NULL), MLOPS_EINVAL, "scratch");
    ts_assert_error(mlops__qlinear_run(NULL, x, 1, 3, y, 4, scratch), MLOPS_EINVAL, "layer");
    assert_int_equal(mlops__qlinear_scratch_bytes(NULL, 3), 0);
    mlops__qlinear_free(layer);
    mlops__qlinear_free(NULL);
    ts_assert_error(mlops__pool_create(NULL, 2), MLOPS_EINVAL, "out");
    {
        mlops__pool *pool;
        ts_assert_error(mlops__pool_create(&pool, 0), MLOPS_EINVAL, "0 threads");
    }
    if (saved != NULL)
        setenv("MLOPS_ISA", saved, 1);
    free(saved);
}

/* ---- allocation failures -------------------------------------------------------- */

typedef struct pack_ctx {
    mlops_gemm *gemm;
    int32_t precision;
    int32_t threads;
} pack_ctx;

static int pack_call(void *arg)
{
    pack_ctx *ctx = arg;
    static const float w[6] = {1, -2, 3, -4, 5, -6}, bias[3] = {0.5f, 0, -0.5f}, x[4] = {1, 2, 3, 4};
    float y[6];
    mlops_gemm_options options;
    int rc;
    mlops_gemm_options_init(&options);
    options.precision = ctx->precision;
    options.threads = ctx->threads;
    options.isa = "ref";
    rc = mlops_gemm_pack(&ctx->gemm, w, 2, 3, 3, bias, &options);
    if (rc == MLOPS_OK)
        rc = mlops_gemm_run(ctx->gemm, x, 2, 2, y, 3);
    return rc;
}

static void pack_cleanup(void *arg)
{
    pack_ctx *ctx = arg;
    mlops_gemm_free(ctx->gemm);
    ctx->gemm = NULL;
}

static void test_allocation_failures(void **state)
{
    static const int32_t precisions[] = {MLOPS_GEMM_INT8, MLOPS_GEMM_FP32, MLOPS_GEMM_INT8_WEIGHTS};
    size_t p;
    (void)state;
    for (p = 0; p < 3; p++) {
        pack_ctx ctx = {NULL, precisions[p], p == 0 ? 2 : 1};
        assert_true(ts_each_allocation_failure(pack_call, pack_cleanup, &ctx) >= 2);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_kernels_equal_reference_bit_for_bit),
        cmocka_unit_test(test_kernels_equal_reference_on_tile_remainders),
        cmocka_unit_test(test_reference_follows_the_scheme),
        cmocka_unit_test(test_int8_within_the_error_the_scales_allow),
        cmocka_unit_test(test_epilogue_activations),
        cmocka_unit_test(test_largest_k_stays_exact),
        cmocka_unit_test(test_fp32_path_matches_naive_loop),
        cmocka_unit_test(test_weight_only_int8),
        cmocka_unit_test(test_threads_are_bit_identical),
        cmocka_unit_test(test_concurrent_callers_share_a_gemm),
        cmocka_unit_test(test_public_default_kernel_equals_reference),
        cmocka_unit_test(test_runs_allocate_nothing_after_warm_up),
        cmocka_unit_test(test_isa_selection),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_allocation_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
