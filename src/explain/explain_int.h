/*
 * Private interface of the explanations: the backward pass through a
 * session's compiled plan run in fp32 (grad.c), used by the explainer
 * (explainer.c) for gradients and integrated gradients and as its fp32
 * forward pass. Explanations sit on top of infer (the plan) and train (the
 * seeded generator and the metrics).
 */
#ifndef MLOPS_EXPLAIN_INT_H
#define MLOPS_EXPLAIN_INT_H

#include "mlops/explain.h"
#include "../infer/plan_int.h"

#define MLOPS__EXPLAIN_SUB "explain"

/* The fp32 twin of a session with its forward values and one gradient buffer per value. */
typedef struct mlops__grad mlops__grad;

/* A forward/backward engine over `session`'s plan; refuses models without a single batched float input. */
int mlops__grad_new(mlops__grad **out, const mlops_session *session);
void mlops__grad_free(mlops__grad *grad);
/* MLOPS_EUNSUPPORTED naming the first node on the input's path that has no derivative. */
int mlops__grad_check(const mlops__grad *grad);
/*
 * Run `rows` rows (rows x features floats, borrowed) in fp32; *out borrows
 * the first output (rows x width floats) until the next run. Grows buffers
 * only when the batch outgrows what this engine held before.
 */
int mlops__grad_forward(const float **out, mlops__grad *grad, const float *x, size_t rows);
/*
 * After a successful forward run: dx (rows x features) = d y[r][output] /
 * d x[r] for each row r. mlops__grad_check() must have passed.
 */
int mlops__grad_backward(float *dx, mlops__grad *grad, size_t output);
/*
 * Straight paths x(a) = x0 + a d: values fed only through affine ops and
 * kinked activations (Relu, LeakyRelu, Clip) are piecewise linear in a, with
 * kinks where an activation input meets a breakpoint. has_kinks: such an
 * activation exists; is_piecewise_linear: no smooth op lies on the input's path.
 */
int mlops__grad_has_kinks(const mlops__grad *grad);
int mlops__grad_is_piecewise_linear(const mlops__grad *grad);
/*
 * After a successful forward run at x(a): *next = the smallest step s >
 * min_step such that an activation whose input is piecewise linear in a
 * meets a breakpoint at x(a + s), INFINITY when none does. `direction` holds
 * d for each row of the run (borrowed).
 */
int mlops__grad_next_kink(double *next, mlops__grad *grad, const float *direction, double min_step);

#endif /* MLOPS_EXPLAIN_INT_H */
