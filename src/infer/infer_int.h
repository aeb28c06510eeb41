/*
 * Private interface of the inference core: the quantized linear layer that
 * the GEMM kernels implement and the compiled ONNX plan calls.
 *
 * A linear layer computes y = act(x . W + b) for x of m x k floats, W of
 * k x n floats (packed once, int8, symmetric scale per output column), b of
 * n floats (or none), y of m x n floats. Activations are quantized per row at
 * run time; products accumulate in int32; the epilogue adds the bias,
 * dequantizes and applies the activation.
 */
#ifndef MLOPS_INFER_INT_H
#define MLOPS_INFER_INT_H

#include "mlops/infer.h"
#include "../core/core_int.h"

/* Kernel instruction sets, best last. */
typedef enum mlops__isa {
    MLOPS__ISA_REF = 0,        /* portable C, the reference */
    MLOPS__ISA_AVX2 = 1,       /* AVX2, with AVX-VNNI where present */
    MLOPS__ISA_AVX512VNNI = 2, /* AVX-512 VNNI */
    MLOPS__ISA_AMX = 3         /* AMX-INT8 tiles */
} mlops__isa;

/* Epilogue activations. */
typedef enum mlops__act {
    MLOPS__ACT_NONE = 0,
    MLOPS__ACT_RELU = 1,
    MLOPS__ACT_LEAKY_RELU = 2, /* uses alpha */
    MLOPS__ACT_SIGMOID = 3,
    MLOPS__ACT_TANH = 4,
    MLOPS__ACT_GELU = 5,       /* exact, with erf */
    MLOPS__ACT_CLIP = 6        /* clamps to [alpha, beta] */
} mlops__act;

typedef struct mlops__epilogue {
    mlops__act act;
    float alpha;
    float beta;
} mlops__epilogue;

typedef struct mlops__qlinear mlops__qlinear;

/*
 * Pack W (k x n, row-major with leading dimension ldw; when `transposed`, W is
 * given as n x k, as Gemm's transB) and copy the bias (may be NULL) for
 * kernel `isa`. The layer is immutable after packing and may be shared by
 * threads.
 */
int mlops__qlinear_pack(mlops__qlinear **out, const float *w, size_t k, size_t n, size_t ldw, int transposed,
                        const float *bias, mlops__epilogue epilogue, mlops__isa isa);
void mlops__qlinear_free(mlops__qlinear *layer);
/* Scratch bytes a run over m rows needs (quantized rows, accumulators). */
size_t mlops__qlinear_scratch_bytes(const mlops__qlinear *layer, size_t m);
/* y = act(x . W + b). Thread-safe: each concurrent caller passes its own scratch. Allocates nothing. */
int mlops__qlinear_run(const mlops__qlinear *layer, const float *x, size_t m, size_t ldx, float *y, size_t ldy,
                       void *scratch);

/* The best kernel this CPU (and OS) allows, or the one MLOPS_ISA names; fails if that one is unavailable. */
int mlops__isa_select(mlops__isa *out);
/* 1 when kernel `isa` can run here. */
int mlops__isa_available(mlops__isa isa);
const char *mlops__isa_name(mlops__isa isa);
/* The kernel called `name` ("ref", "avx2", "avx512vnni", "amx"); refused when unknown or unavailable.
 * `origin` names where the name came from, for the message (e.g. "MLOPS_ISA", "options"). */
int mlops__isa_parse(mlops__isa *out, const char *name, const char *origin);

/* ---- kernel side ---------------------------------------------------------
 * What the kernels (one file per ISA) share with the layer code. Weights are
 * packed once for every ISA in the same layout: columns in panels of 16, K in
 * groups of 4, so that one 64-byte line holds 4 consecutive k of 16 columns
 * (the operand of vpdpbusd, and one row of an AMX B tile):
 *   w[((p * kp / 4) + g) * 64 + c * 4 + r] = Wq[4 g + r][16 p + c]
 * K is padded with zeros to kp (a multiple of 64), N to np (a multiple of 16).
 */
#define MLOPS__K_ALIGN 64
#define MLOPS__N_PANEL 16
/* Largest K: with |x - zp| <= 255 and |w| <= 127 every partial int32 sum stays exact. */
#define MLOPS__K_MAX 65536u

/* Activations of one run, quantized per row: x[i][k] ~ (q[i][k] - zp[i]) * scale[i]. */
typedef struct mlops__qrows {
    const uint8_t *q; /* m rows of kp bytes, row stride ldq; bytes k..kp-1 are zero */
    size_t ldq;
    const int32_t *zp;
    const float *scale;
} mlops__qrows;

/* Quantize one row of k floats into kp bytes (padding zeroed); sets its zero point and scale. */
typedef void (*mlops__quant_fn)(const float *x, size_t k, size_t kp, uint8_t *q, int32_t *zp, float *scale);
/* Rows [i0, i1) x columns [j0, j1) of y (j0 a multiple of 16): int32 products, then the epilogue. */
typedef void (*mlops__gemm_fn)(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1,
                               size_t j0, size_t j1, float *y, size_t ldy);
/* Weight-only int8: rows [i0, i1) x columns [j0, j1) of y from float x, float accumulation. */
typedef void (*mlops__w8_fn)(const mlops__qlinear *layer, const float *x, size_t ldx, size_t i0, size_t i1,
                             size_t j0, size_t j1, float *y, size_t ldy);

typedef struct mlops__kernels {
    mlops__quant_fn quant;
    mlops__gemm_fn gemm;
    mlops__w8_fn w8;
} mlops__kernels;

struct mlops__qlinear {
    size_t k, n;              /* logical shape */
    size_t kp, np;            /* padded shape */
    mlops__isa isa;
    mlops__epilogue epilogue;
    const mlops__kernels *kernels;
    const int8_t *w;          /* packed, 64-byte aligned, np * kp bytes */
    const int32_t *colsum;    /* np: sum over k of Wq[k][j], for the zero-point compensation */
    const float *wscale;      /* np: per-column weight scale (1 in the padding) */
    const float *bias;        /* np: bias, zeros when none */
    void *block;              /* the one allocation holding all of the above */
};

/* Offset of Wq[k][j] in the packed weights. */
static inline size_t mlops__packed_at(const mlops__qlinear *layer, size_t k, size_t j)
{
    return ((j / MLOPS__N_PANEL) * (layer->kp / 4) + k / 4) * 64 + (j % MLOPS__N_PANEL) * 4 + k % 4;
}

/* The kernel table of each ISA (NULL members never: every ISA fills all three). */
extern const mlops__kernels mlops__kernels_ref;
extern const mlops__kernels mlops__kernels_avx2;
extern const mlops__kernels mlops__kernels_avx512;
extern const mlops__kernels mlops__kernels_amx;

/* The AVX-512 VNNI product, also used by the AMX kernel for rows that do not fill a tile. */
void mlops__gemm_avx512(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1, size_t j0,
                        size_t j1, float *y, size_t ldy);
/* The AVX-512 epilogue of `count` int32 accumulators of row i from column `col` (a multiple of 16) into dst. */
void mlops__epilogue_avx512(const mlops__qlinear *layer, const mlops__qrows *a, size_t i, size_t col, size_t count,
                            const int32_t *acc, float *dst);

/* Shared scalar pieces every kernel uses so that results agree bit for bit. */
/* The activation of a value, as the reference defines it. */
float mlops__act_scalar(const mlops__epilogue *epilogue, float v);
/* 1 when the activation needs libm (sigmoid, tanh, GELU): kernels then apply mlops__act_row after storing. */
int mlops__act_is_transcendental(mlops__act act);
void mlops__act_row(const mlops__epilogue *epilogue, float *y, size_t count);
/* Row quantization parameters from the row's minimum and maximum (the range always includes 0). */
void mlops__quant_params(float lo, float hi, int32_t *zp, float *scale, float *inv);
/* The quantized value of x: rint(clamp(fma(x, inv, zp), 0, 255)), the fma rounded once (NaN gives 0). */
uint8_t mlops__quant_value(float x, float inv, int32_t zp);
/* Request the AMX tile-data permission once per process; 1 when granted. */
int mlops__amx_permitted(void);

/* ---- threads ----------------------------------------------------------------
 * A small pool of worker threads that, together with the caller, run the
 * tasks of one call. A pool serves one caller at a time.
 */
typedef struct mlops__pool mlops__pool;
/* A pool of `threads` in total, the caller included (threads - 1 workers). */
int mlops__pool_create(mlops__pool **out, size_t threads);
void mlops__pool_free(mlops__pool *pool);
size_t mlops__pool_threads(const mlops__pool *pool);
/* Run task(ctx, 0 .. count-1) across the pool and the caller; returns when all have finished. */
void mlops__pool_run(mlops__pool *pool, void (*task)(void *ctx, size_t index), void *ctx, size_t count);

/* mlops__qlinear_run split over the threads of `pool` (NULL: the calling thread only); same results. */
int mlops__qlinear_run_pool(const mlops__qlinear *layer, mlops__pool *pool, const float *x, size_t m, size_t ldx,
                            float *y, size_t ldy, void *scratch);
/* Weight-only int8: y = act(x . (Wq * wscale) + b) with x kept in float. Allocates nothing. */
int mlops__qlinear_run_w8(const mlops__qlinear *layer, mlops__pool *pool, const float *x, size_t m, size_t ldx,
                          float *y, size_t ldy);

/*
 * Name the columns of the session's single float input: when `names` is an
 * array of mlops_session_input_width() strings they are copied, replacing any
 * set before; anything else leaves the session without names. MLOPS_ENOMEM only.
 */
int mlops__session_set_feature_names(mlops_session *session, const mlops__json *names);

#endif /* MLOPS_INFER_INT_H */
