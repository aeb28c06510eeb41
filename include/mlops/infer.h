/*
 * libmlops: the inference core. Quantized int8 GEMM with per-channel weight
 * scales on the best kernel the CPU has, and sessions that run ONNX models.
 */
#ifndef MLOPS_INFER_H
#define MLOPS_INFER_H

#include "common.h"
#include "frame.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- quantized GEMM ------------------------------------------------------- */
/*
 * y = act(x . W + b) with W (k x n) packed once. In the int8 precision the
 * weights are quantized with a symmetric scale per output column, each row of
 * x is quantized at run time to uint8 with its own scale and zero point, the
 * products accumulate exactly in int32, and the epilogue subtracts the
 * zero-point term, dequantizes, adds the bias and applies the activation.
 * Results do not depend on the kernel or the number of threads.
 */

/** A packed weight matrix with its bias, activation, precision and kernel; opaque. */
typedef struct mlops_gemm mlops_gemm;

/* Precisions. */
#define MLOPS_GEMM_INT8 0         /* int8 weights and activations, int32 accumulation */
#define MLOPS_GEMM_FP32 1         /* float32 through BLAS (sgemm, sgemv for one row) */
#define MLOPS_GEMM_INT8_WEIGHTS 2 /* int8 weights, float activations and accumulation (for batch 1) */

/* Activations fused into the epilogue. */
#define MLOPS_ACT_NONE 0
#define MLOPS_ACT_RELU 1
#define MLOPS_ACT_LEAKY_RELU 2 /* slope alpha below zero */
#define MLOPS_ACT_SIGMOID 3
#define MLOPS_ACT_TANH 4
#define MLOPS_ACT_GELU 5       /* exact: 0.5 v (1 + erf(v / sqrt 2)) */
#define MLOPS_ACT_CLIP 6       /* clamp to [alpha, beta] */

#define MLOPS_GEMM_OPTIONS_VERSION 1
/** Options of mlops_gemm_pack(); start from mlops_gemm_options_init(). */
typedef struct mlops_gemm_options {
    uint32_t version;    /* MLOPS_GEMM_OPTIONS_VERSION */
    int32_t precision;   /* MLOPS_GEMM_INT8 (default), MLOPS_GEMM_FP32, MLOPS_GEMM_INT8_WEIGHTS */
    int32_t activation;  /* MLOPS_ACT_* (default MLOPS_ACT_NONE) */
    float alpha;         /* leaky relu slope (default 0.01), clip lower bound */
    float beta;          /* clip upper bound */
    int32_t transposed;  /* 1: w is given as n x k (leading dimension >= k), like Gemm's transB */
    int32_t threads;     /* threads one mlops_gemm_run call may use, the caller included (default 1) */
    const char *isa;     /* int8 kernel: NULL for the best here (or MLOPS_ISA), or "ref", "avx2", "avx512vnni", "amx" */
} mlops_gemm_options;

/** Fill `options` with the defaults: int8, no activation, one thread, best kernel. @thread any */
MLOPS_API void mlops_gemm_options_init(mlops_gemm_options *options);
/** Pack `w` (k x n, leading dimension ldw) and `bias` (n floats or NULL), both copied; NULL options = defaults. @thread any */
MLOPS_API int mlops_gemm_pack(mlops_gemm **out, const float *w, size_t k, size_t n, size_t ldw, const float *bias,
                              const mlops_gemm_options *options);
/** Free a packed GEMM and its threads; NULL is a no-op. @thread handle */
MLOPS_API void mlops_gemm_free(mlops_gemm *gemm);
/** y (m x n, leading dimension ldy) = act(x (m x k, ldx) . W + b) with the handle's scratch, grown on first use. @thread handle */
MLOPS_API int mlops_gemm_run(mlops_gemm *gemm, const float *x, size_t m, size_t ldx, float *y, size_t ldy);
/** Scratch bytes mlops_gemm_run_scratch() needs for `m` rows. @thread any */
MLOPS_API size_t mlops_gemm_scratch_bytes(const mlops_gemm *gemm, size_t m);
/** As mlops_gemm_run() on the calling thread only, with caller scratch: callers may share `gemm`. @thread any */
MLOPS_API int mlops_gemm_run_scratch(const mlops_gemm *gemm, const float *x, size_t m, size_t ldx, float *y,
                                     size_t ldy, void *scratch, size_t scratch_bytes);
/** Kernel in use: "ref", "avx2", "avx512vnni", "amx", or "blas" for fp32; static. @thread any */
MLOPS_API const char *mlops_gemm_kernel(const mlops_gemm *gemm);
/** Name of the int8 kernel mlops_gemm_pack() picks by default here (honours MLOPS_ISA); static. @thread any */
MLOPS_API int mlops_gemm_isa_default(const char **out);

/* ---- sessions ------------------------------------------------------------- */

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_INFER_H */
