/*
 * Private interface of the ONNX import and the compiled plan behind sessions.
 *
 * An ONNX model is read (onnx_import.c) into a graph of values and steps in
 * execution order; the plan compiler (plan_compile.c) folds constants, checks
 * every shape and fuses MatMul+Add / Gemm with a following activation into
 * one linear layer; plan_run.c executes it with per-thread contexts; the
 * operators themselves live in plan_ops.c.
 */
#ifndef MLOPS_PLAN_INT_H
#define MLOPS_PLAN_INT_H

#include <stdint.h>
#include <stddef.h>

#include "infer_int.h"

/* ---- resource limits (documented in docs/inference.md) ------------------- */
#define MLOPS__MAX_RANK 8                          /* dimensions of any tensor */
#define MLOPS__MAX_NODES 100000                    /* nodes of a graph */
#define MLOPS__MAX_TENSOR_ELEMS ((int64_t)1 << 31) /* elements of any one tensor */
#define MLOPS__MAX_MODEL_BYTES ((size_t)1 << 31)   /* bytes of a serialized model */
#define MLOPS__MIN_OPSET 9
#define MLOPS__MAX_OPSET 17

/* Element types: the ONNX TensorProto codes of the ones supported. */
#define MLOPS__DT_FLOAT 1
#define MLOPS__DT_UINT8 2
#define MLOPS__DT_INT8 3
#define MLOPS__DT_INT32 6
#define MLOPS__DT_INT64 7
#define MLOPS__DT_BOOL 9
#define MLOPS__DT_DOUBLE 11

typedef struct mlops__tensor {
    int32_t dtype;
    int32_t rank;
    int64_t dims[MLOPS__MAX_RANK];
    void *data;
} mlops__tensor;

/* Bytes of one element of `dtype`, 0 when unsupported. */
size_t mlops__dtype_size(int32_t dtype);
/* Name of an ONNX element type code ("float", "float16", ...). */
const char *mlops__dtype_name(int32_t dtype);
/* Number of elements (1 for rank 0). */
int64_t mlops__tensor_count(const mlops__tensor *t);

typedef enum mlops__op {
    MLOPS__OP_GEMM, MLOPS__OP_MATMUL, MLOPS__OP_ADD, MLOPS__OP_SUB, MLOPS__OP_MUL, MLOPS__OP_DIV,
    MLOPS__OP_RELU, MLOPS__OP_LEAKY_RELU, MLOPS__OP_SIGMOID, MLOPS__OP_TANH, MLOPS__OP_ERF,
    MLOPS__OP_SOFTMAX, MLOPS__OP_LOG_SOFTMAX, MLOPS__OP_FLATTEN, MLOPS__OP_RESHAPE, MLOPS__OP_SQUEEZE,
    MLOPS__OP_UNSQUEEZE, MLOPS__OP_IDENTITY, MLOPS__OP_DROPOUT, MLOPS__OP_CLIP, MLOPS__OP_BATCH_NORM,
    MLOPS__OP_LAYER_NORM, MLOPS__OP_CAST, MLOPS__OP_CONSTANT, MLOPS__OP_QUANTIZE, MLOPS__OP_DEQUANTIZE,
    MLOPS__OP_DYNAMIC_QUANTIZE, MLOPS__OP_MATMUL_INTEGER, MLOPS__OP_QLINEAR_MATMUL,
    MLOPS__OP_LINEAR, /* fused by the compiler, never read from ONNX */
    MLOPS__OP_COUNT
} mlops__op;

/* The ONNX name of a supported op ("Linear" for the fused layer). */
const char *mlops__op_name(mlops__op op);
/* The op called `op_type`, or -1 when unsupported. */
int mlops__op_lookup(const char *op_type);

/* A fused linear layer: y = act(x . W + b), fp32 weights kept for reference and fallback. */
typedef struct mlops__linear {
    size_t k, n;
    float *w;              /* k x n, row-major */
    float *bias;           /* n floats or NULL */
    mlops__epilogue epilogue;
    mlops__qlinear *q;     /* the int8 packing when the layer runs in int8, else NULL */
    double calib_error;    /* relative RMS error of int8 on calibration data, -1 when not measured */
} mlops__linear;

typedef struct mlops__step {
    mlops__op op;
    char *name;            /* the node's name, or "#<index>" when it has none */
    int32_t n_in, n_out;
    int32_t *in, *out;     /* value indices; -1 for an absent optional input/output */
    int64_t opset;
    /* attributes, by op */
    int64_t axis;          /* Softmax, LogSoftmax, Flatten, LayerNorm, Quantize/Dequantize */
    int64_t to;            /* Cast */
    int64_t trans_a, trans_b, allowzero, training;
    float alpha, beta, epsilon;
    int has_min, has_max;  /* Clip before opset 11: bounds in alpha (min) and beta (max) */
    int64_t *axes;         /* Squeeze/Unsqueeze before opset 13 */
    size_t n_axes;
    mlops__tensor value;   /* Constant: owned data */
    mlops__linear *linear; /* MLOPS__OP_LINEAR */
    char *fused;           /* names of the nodes fused into a linear layer, for the plan */
} mlops__step;

typedef struct mlops__value {
    char *name;
    mlops__tensor t;       /* shape known at load (batch dims as 1); owned data for constants */
    int is_const;
    int batch;             /* graph input whose first dimension is the batch */
    int32_t producer;      /* step index, -1 for inputs and constants */
    int32_t uses;          /* steps and graph outputs that read it */
} mlops__value;

typedef struct mlops__graph {
    mlops__value *values;
    size_t n_values, cap_values;
    mlops__step *steps;
    size_t n_steps, cap_steps;
    int32_t *inputs;       /* graph inputs that are not initializers */
    size_t n_inputs;
    int32_t *outputs;
    size_t n_outputs;
    int64_t opset;
} mlops__graph;

/* A tensor bound to an input by name before compiling (it becomes a constant); data is copied. */
typedef struct mlops__binding {
    const char *name;
    const mlops__tensor *tensor;
} mlops__binding;

/*
 * Read ONNX bytes into a graph in execution order: every node's op, inputs and
 * attributes checked; unsupported ops, cycles and missing inputs refused with
 * the node and op named. `bindings` turn graph inputs into constants.
 */
int mlops__onnx_import(mlops__graph **out, const void *bytes, size_t len, const mlops__binding *bindings,
                       size_t n_bindings);
/* Parse one serialized TensorProto into a tensor whose data the caller frees with mlops__free. */
int mlops__onnx_tensor(mlops__tensor *out, const void *bytes, size_t len);
void mlops__graph_free(mlops__graph *graph);
/* Free what a step owns and zero it. */
void mlops__step_release(mlops__step *step);

/* ---- operators (plan_ops.c) ------------------------------------------------
 * Compute the outputs' types and shapes from the inputs' (exec = 0), or the
 * outputs' data into buffers already sized for them (exec = 1). `in[i]` is
 * NULL for an absent optional input, `out[i]` NULL for an unused output.
 * Failures name the problem; the caller prefixes node and op.
 */
int mlops__op_apply(const mlops__step *step, const mlops__tensor *const *in, mlops__tensor *const *out, int exec);

/* Strides (in elements) of `t` seen through out's broadcast shape: 0 along broadcast dimensions. */
void mlops__broadcast_strides(int64_t *strides, const mlops__tensor *t, const mlops__tensor *out);

/*
 * Advance the row-major multi-index idx over dims[0 .. last] by one, moving
 * the offsets *oa and *ob by their strides sa and sb (wrapping to 0).
 */
void mlops__index_next(int64_t *idx, int64_t *oa, int64_t *ob, const int64_t *sa, const int64_t *sb,
                       const int64_t *dims, int32_t last);

/* Mean and 1 / sqrt(variance + epsilon) of n floats, as LayerNormalization computes them. */
void mlops__layer_norm_stats(double *mean_out, double *inv_out, const float *x, int64_t n, double epsilon);

/* y (m x n, leading dimension n) = act(x . W + b) in fp32 through OpenBLAS. */
void mlops__linear_run_fp32(const mlops__linear *layer, const float *x, size_t m, float *y);

/* ---- compiled plan (plan_compile.c) --------------------------------------- */
/*
 * Fold constants, check shapes (batch dims as 1), fuse linear layers. The
 * graph is rewritten in place: folded steps disappear.
 */
int mlops__plan_compile(mlops__graph *graph);

/* ---- execution (plan_run.c) ----------------------------------------------- */
typedef struct mlops__ctx mlops__ctx;

/* How linear layers run. */
typedef enum mlops__mode {
    MLOPS__MODE_PLAN = 0,   /* each layer as compiled (int8 where it has a packing) */
    MLOPS__MODE_FP32 = 1,   /* every layer in fp32 */
    MLOPS__MODE_INT8 = 2    /* every layer with the packings given in `packs` */
} mlops__mode;

/* A context whose int8 layers split their rows over `threads` (1 = the calling thread only). */
int mlops__ctx_new(mlops__ctx **out, const mlops__graph *graph, size_t threads);
void mlops__ctx_free(mlops__ctx *ctx);
/*
 * Run the graph on `inputs` (one per graph input, shapes included; data
 * borrowed). On success the context holds every value; read them with
 * mlops__ctx_value(). `packs` (one per step, used with MLOPS__MODE_INT8).
 * Allocates only when a value outgrows what this context held before.
 */
int mlops__ctx_run(mlops__ctx *ctx, const mlops__graph *graph, const mlops__tensor *inputs, mlops__mode mode,
                   mlops__qlinear *const *packs);
/* Value `index` after a run, borrowed until the next run on this context. */
const mlops__tensor *mlops__ctx_value(const mlops__ctx *ctx, size_t index);

/* ---- what other subsystems read of a session (session.c) ------------------- */
/*
 * The compiled plan of `session`, borrowed until the session is freed. Its
 * linear layers keep their fp32 weights next to any int8 packing, so running
 * it with MLOPS__MODE_FP32 gives the session's fp32 twin.
 */
const mlops__graph *mlops__session_graph(const mlops_session *session);
/* The input tensor of `rows` rows over `data` (borrowed) for a session with one float input. */
mlops__tensor mlops__session_input(const mlops_session *session, const float *data, size_t rows);

/*
 * Backward pass of a linear layer in fp32: dx (m x k) += dpre . W^T, where
 * dpre = dy * act'(...) for the layer's output y = act(x . W + b), both
 * m x n. `scratch` holds 2 m n floats. Allocates nothing.
 */
void mlops__linear_backward_fp32(const mlops__linear *layer, const float *x, const float *y, const float *dy,
                                 size_t m, float *dx, float *scratch);

#endif /* MLOPS_PLAN_INT_H */
