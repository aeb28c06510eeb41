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

#endif /* MLOPS_INFER_INT_H */
