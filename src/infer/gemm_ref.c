/*
 * The reference kernels in portable C: the definition every other kernel
 * must reproduce bit for bit (int8 path) and the baseline of the weight-only
 * path. Straightforward loops, no blocking.
 */
#include "infer_int.h"

static void quant_row_ref(const float *x, size_t k, size_t kp, uint8_t *q, int32_t *zp, float *scale)
{
    float lo = 0.0f, hi = 0.0f, inv;
    size_t i;
    for (i = 0; i < k; i++) {
        lo = x[i] < lo ? x[i] : lo;
        hi = x[i] > hi ? x[i] : hi;
    }
    mlops__quant_params(lo, hi, zp, scale, &inv);
    for (i = 0; i < k; i++)
        q[i] = mlops__quant_value(x[i], inv, *zp);
    for (; i < kp; i++)
        q[i] = 0;
}

static void gemm_ref(const mlops__qlinear *layer, const mlops__qrows *a, size_t i0, size_t i1, size_t j0, size_t j1,
                     float *y, size_t ldy)
{
    size_t i, j, k;
    for (i = i0; i < i1; i++) {
        const uint8_t *q = a->q + i * a->ldq;
        for (j = j0; j < j1; j++) {
            int32_t acc = 0;
            float v, s;
            for (k = 0; k < layer->k; k++)
                acc += (int32_t)q[k] * layer->w[mlops__packed_at(layer, k, j)];
            acc -= a->zp[i] * layer->colsum[j];
            v = (float)acc;
            s = a->scale[i] * layer->wscale[j];
            y[i * ldy + j] = mlops__act_scalar(&layer->epilogue, v * s + layer->bias[j]);
        }
    }
}

static void w8_ref(const mlops__qlinear *layer, const float *x, size_t ldx, size_t i0, size_t i1, size_t j0,
                   size_t j1, float *y, size_t ldy)
{
    size_t i, j, k;
    for (i = i0; i < i1; i++) {
        for (j = j0; j < j1; j++) {
            float acc = 0.0f;
            for (k = 0; k < layer->k; k++)
                acc += x[i * ldx + k] * (float)layer->w[mlops__packed_at(layer, k, j)];
            y[i * ldy + j] = mlops__act_scalar(&layer->epilogue, acc * layer->wscale[j] + layer->bias[j]);
        }
    }
}

const mlops__kernels mlops__kernels_ref = {quant_row_ref, gemm_ref, w8_ref};
