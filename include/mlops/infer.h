/**
 * @file
 * libmlops: the inference core. Quantized int8 GEMM with per-channel weight
 * scales on the best kernel the CPU has, and sessions that run ONNX models.
 */
#ifndef MLOPS_INFER_H
#define MLOPS_INFER_H

#include "common.h"
#include "db.h"
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
#define MLOPS_GEMM_INT8 0         /**< int8 weights and activations, int32 accumulation */
#define MLOPS_GEMM_FP32 1         /**< float32 through BLAS (sgemm, sgemv for one row) */
#define MLOPS_GEMM_INT8_WEIGHTS 2 /**< int8 weights, float activations and accumulation (for batch 1) */

/* Activations fused into the epilogue. */
#define MLOPS_ACT_NONE 0       /**< identity */
#define MLOPS_ACT_RELU 1       /**< max(v, 0) */
#define MLOPS_ACT_LEAKY_RELU 2 /**< slope alpha below zero */
#define MLOPS_ACT_SIGMOID 3    /**< 1 / (1 + exp(-v)) */
#define MLOPS_ACT_TANH 4       /**< tanh(v) */
#define MLOPS_ACT_GELU 5       /**< exact: 0.5 v (1 + erf(v / sqrt 2)) */
#define MLOPS_ACT_CLIP 6       /**< clamp to [alpha, beta] */

/** The mlops_gemm_options layout these headers describe. */
#define MLOPS_GEMM_OPTIONS_VERSION 1
/** Options of mlops_gemm_pack(); start from mlops_gemm_options_init(). */
typedef struct mlops_gemm_options {
    uint32_t version;    /**< MLOPS_GEMM_OPTIONS_VERSION */
    int32_t precision;   /**< MLOPS_GEMM_INT8 (default), MLOPS_GEMM_FP32, MLOPS_GEMM_INT8_WEIGHTS */
    int32_t activation;  /**< MLOPS_ACT_* (default MLOPS_ACT_NONE) */
    float alpha;         /**< leaky relu slope (default 0.01), clip lower bound */
    float beta;          /**< clip upper bound */
    int32_t transposed;  /**< 1: w is given as n x k (leading dimension >= k), like Gemm's transB */
    int32_t threads;     /**< threads one mlops_gemm_run call may use, the caller included (default 1) */
    const char *isa;     /**< int8 kernel: NULL for the best here (or MLOPS_ISA), or "ref", "avx2", "avx512vnni", "amx" */
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

/**
 * A session runs one ONNX model (opsets 9 to 17; the supported ops are listed
 * in docs/inference.md), compiled at open into a flat plan whose linear
 * layers run in int8 or fp32. A session is immutable after open:
 * mlops_session_run() may be called from any number of threads at once.
 */
typedef struct mlops_session mlops_session;

/**
 * Open a session on `len` bytes of an ONNX model (copied). `options_json` may
 * be NULL or an object with "precision" ("fp32" default, "int8", or "auto":
 * int8 for each linear layer whose relative RMS error on the calibration rows
 * is at most "auto_tolerance", default 0.02), "isa" ("ref", "avx2",
 * "avx512vnni", "amx"; default the best available, or MLOPS_ISA). `calibration`
 * (required by "auto", else ignored; may be NULL) is a frame whose numeric
 * columns, in order, form input rows. Errors: MLOPS_EFORMAT (malformed model,
 * cycle, missing input, shape mismatch: the message names node and op),
 * MLOPS_EUNSUPPORTED (op, type, opset, external data), MLOPS_ELIMIT, MLOPS_EINVAL
 * (options). Free with mlops_session_free(). @thread any
 */
MLOPS_API int mlops_session_open(mlops_session **out, const void *onnx, size_t len, const char *options_json,
                                 const mlops_frame *calibration);
/** As mlops_session_open(), reading the model from the file at `path` (MLOPS_ENOTFOUND when absent). @thread any */
MLOPS_API int mlops_session_open_file(mlops_session **out, const char *path, const char *options_json,
                                      const mlops_frame *calibration);
/**
 * As mlops_session_open(), on the artifact of the registry version `reference`
 * names ("fraud@production", "fraud@7"), read and verified. When that version
 * has no signature yet it is filled from the session's inputs and outputs
 * (mlops_session_signature()); one already set is left alone, and nothing is
 * written through a read-only `db`. The version's metadata "features" (one
 * name per input column, as the trainer registers) become the session's
 * mlops_session_feature_name(). Errors: MLOPS_EINVAL (malformed
 * reference), MLOPS_ENOTFOUND (model, alias or version; the message names the
 * reference), MLOPS_ECORRUPT (damaged artifact), and those of
 * mlops_session_open() for an artifact that is not a usable ONNX model. @thread handle
 */
MLOPS_API int mlops_session_open_registry(mlops_session **out, mlops_db *db, const char *reference,
                                          const char *options_json, const mlops_frame *calibration);
/** Free `session`; NULL is a no-op. No run may be in progress. @thread handle */
MLOPS_API void mlops_session_free(mlops_session *session);

/**
 * Run `rows` rows of the model's single float input (row-major, rows x
 * mlops_session_input_width() floats) and write its first output into
 * `output` (rows x mlops_session_output_width() floats; `capacity` in floats,
 * MLOPS_EBUFSIZE when too small). Allocation-free once warm. @thread any
 */
MLOPS_API int mlops_session_run(const mlops_session *session, const float *input, size_t rows, float *output,
                                size_t capacity);

/** Number of graph inputs (initializers excluded). @thread any */
MLOPS_API size_t mlops_session_input_count(const mlops_session *session);
/** Number of graph outputs. @thread any */
MLOPS_API size_t mlops_session_output_count(const mlops_session *session);
/** Name of input `index`, borrowed until the session is freed; NULL when out of range. @thread any */
MLOPS_API const char *mlops_session_input_name(const mlops_session *session, size_t index);
/** Name of output `index`, borrowed until the session is freed; NULL when out of range. @thread any */
MLOPS_API const char *mlops_session_output_name(const mlops_session *session, size_t index);
/**
 * Shape of input `index` into `dims` (room for `capacity`), its rank in
 * `rank_out`; -1 marks the batch dimension. MLOPS_EBUFSIZE when too small. @thread any
 */
MLOPS_API int mlops_session_input_shape(int64_t *dims, size_t capacity, size_t *rank_out,
                                        const mlops_session *session, size_t index);
/** Shape of output `index` for one input row, as mlops_session_input_shape(). @thread any */
MLOPS_API int mlops_session_output_shape(int64_t *dims, size_t capacity, size_t *rank_out,
                                         const mlops_session *session, size_t index);
/** Floats per row of the first input (0 when the model has no single float input). @thread any */
MLOPS_API size_t mlops_session_input_width(const mlops_session *session);
/** Floats per input row of the first output. @thread any */
MLOPS_API size_t mlops_session_output_width(const mlops_session *session);
/**
 * Name of column `index` of the input row (feature name), borrowed until the session is freed; NULL when
 * unknown (only registry sessions of versions whose metadata lists "features" know them) or out of range. @thread any
 */
MLOPS_API const char *mlops_session_feature_name(const mlops_session *session, size_t index);
/**
 * The model's signature as JSON (free with mlops_free()), the shape registry
 * versions keep: {"inputs": [{"name", "type", "shape"}], "outputs": [...]},
 * types "float32", "float64", "int64", "int32", "int8", "uint8", "bool", and
 * -1 marking the batch dimension of shapes; the first input adds "features"
 * (names) when mlops_session_feature_name() knows them. @thread any
 */
MLOPS_API int mlops_session_signature(char **out, const mlops_session *session);
/** Kernel of the int8 layers ("ref", "avx2", "avx512vnni", "amx"), or "fp32" when none runs in int8; static. @thread any */
MLOPS_API const char *mlops_session_kernel(const mlops_session *session);
/**
 * The compiled plan as JSON (free with mlops_free()): {"opset", "kernel",
 * "steps": [{"op", "nodes", "precision", ...}]}. @thread any
 */
MLOPS_API int mlops_session_plan(char **out, const mlops_session *session);
/**
 * Compare int8 against fp32 on the rows of `frame` (numeric columns in order
 * form the input): JSON (free with mlops_free()) with "rows",
 * "top1_agreement" (first output, argmax per row), per output "max_abs_error"
 * and "mean_abs_error", and per linear layer its own error given fp32 inputs.
 * Layers that run in fp32 in this session are quantized for the report only. @thread any
 */
MLOPS_API int mlops_session_accuracy(char **out, const mlops_session *session, const mlops_frame *frame);

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_INFER_H */
