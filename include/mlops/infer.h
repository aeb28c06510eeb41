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

#ifdef __cplusplus
}
#endif
#endif /* MLOPS_INFER_H */
