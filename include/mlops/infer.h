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

/* ---- sessions ------------------------------------------------------------- */

/*
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
/** As mlops_session_open(), reading the model from the file at `path`. @thread any */
MLOPS_API int mlops_session_open_file(mlops_session **out, const char *path, const char *options_json,
                                      const mlops_frame *calibration);
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
