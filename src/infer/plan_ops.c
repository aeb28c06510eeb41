/*
 * The supported ONNX operators. Each one either computes its outputs' types
 * and shapes from its inputs' (exec = 0), refusing what the ONNX operator
 * definition refuses, or fills its outputs' data (exec = 1) into buffers the
 * caller sized from that first pass. Semantics follow the ONNX operator
 * specification for opsets 9 to 17.
 */
#include <cblas.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "plan_int.h"

#define SUB "infer"

typedef mlops__tensor tensor;

/* ---- small helpers -------------------------------------------------------------- */
static double get_d(const tensor *t, size_t i)
{
    switch (t->dtype) {
    case MLOPS__DT_FLOAT: return ((const float *)t->data)[i];
    case MLOPS__DT_DOUBLE: return ((const double *)t->data)[i];
    case MLOPS__DT_UINT8: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT8: return ((const int8_t *)t->data)[i];
    case MLOPS__DT_BOOL: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT32: return ((const int32_t *)t->data)[i];
    default: return (double)((const int64_t *)t->data)[i];
    }
}

static int64_t get_i(const tensor *t, size_t i)
{
    switch (t->dtype) {
    case MLOPS__DT_FLOAT: return (int64_t)((const float *)t->data)[i];
    case MLOPS__DT_DOUBLE: return (int64_t)((const double *)t->data)[i];
    case MLOPS__DT_UINT8: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT8: return ((const int8_t *)t->data)[i];
    case MLOPS__DT_BOOL: return ((const uint8_t *)t->data)[i];
    case MLOPS__DT_INT32: return ((const int32_t *)t->data)[i];
    default: return ((const int64_t *)t->data)[i];
    }
}

/* Store v (integer types wrap as C conversion to their width does). */
static void set_d(tensor *t, size_t i, double v)
{
    switch (t->dtype) {
    case MLOPS__DT_FLOAT: ((float *)t->data)[i] = (float)v; break;
    case MLOPS__DT_DOUBLE: ((double *)t->data)[i] = v; break;
    case MLOPS__DT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    default: {
        int64_t iv = isfinite(v) && fabs(v) < 9.2e18 ? (int64_t)v : 0;
        switch (t->dtype) {
        case MLOPS__DT_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)iv; break;
        case MLOPS__DT_INT8: ((int8_t *)t->data)[i] = (int8_t)iv; break;
        case MLOPS__DT_INT32: ((int32_t *)t->data)[i] = (int32_t)iv; break;
        default: ((int64_t *)t->data)[i] = iv; break;
        }
    }
    }
}

static void set_i(tensor *t, size_t i, int64_t v)
{
    switch (t->dtype) {
    case MLOPS__DT_FLOAT: ((float *)t->data)[i] = (float)v; break;
    case MLOPS__DT_DOUBLE: ((double *)t->data)[i] = (double)v; break;
    case MLOPS__DT_UINT8: ((uint8_t *)t->data)[i] = (uint8_t)v; break;
    case MLOPS__DT_INT8: ((int8_t *)t->data)[i] = (int8_t)v; break;
    case MLOPS__DT_BOOL: ((uint8_t *)t->data)[i] = v != 0; break;
    case MLOPS__DT_INT32: ((int32_t *)t->data)[i] = (int32_t)v; break;
    default: ((int64_t *)t->data)[i] = v; break;
    }
}

static size_t count_of(const tensor *t)
{
    return (size_t)mlops__tensor_count(t);
}

static int64_t prod(const int64_t *dims, int32_t from, int32_t to)
{
    int64_t p = 1;
    int32_t i;
    for (i = from; i < to; i++)
        p *= dims[i];
    return p;
}

static void shape_copy(tensor *out, const tensor *in, int32_t dtype)
{
    out->dtype = dtype;
    out->rank = in->rank;
    memcpy(out->dims, in->dims, sizeof out->dims);
}

static int need_type(const tensor *t, int32_t dtype, const char *what)
{
    if (t->dtype != dtype)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "%s has element type %s (%s expected)", what,
                            mlops__dtype_name(t->dtype), mlops__dtype_name(dtype));
    return MLOPS_OK;
}

static int need_float(const tensor *t, const char *what)
{
    return need_type(t, MLOPS__DT_FLOAT, what);
}

static int is_int8_type(int32_t dtype)
{
    return dtype == MLOPS__DT_UINT8 || dtype == MLOPS__DT_INT8;
}

/* Normalize `axis` against `rank` (accepting -rank..rank-1, or -rank..rank when `inclusive`). */
static int norm_axis(int64_t *axis, int64_t rank, int inclusive)
{
    int64_t hi = inclusive ? rank : rank - 1;
    int64_t a = *axis < 0 ? *axis + rank : *axis;
    if (*axis < -rank || a < 0 || a > hi)
        return mlops__error(MLOPS_EFORMAT, SUB, "axis %lld out of range for rank %lld", (long long)*axis,
                            (long long)rank);
    *axis = a;
    return MLOPS_OK;
}

static int check_count(const tensor *t)
{
    int32_t i;
    int64_t count = 1;
    for (i = 0; i < t->rank; i++) {
        if (t->dims[i] < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "negative dimension");
        if (t->dims[i] > 0 && count > MLOPS__MAX_TENSOR_ELEMS / t->dims[i])
            return mlops__error(MLOPS_ELIMIT, SUB, "a result would have more than %lld elements",
                                (long long)MLOPS__MAX_TENSOR_ELEMS);
        count *= t->dims[i];
    }
    return MLOPS_OK;
}

/* ---- broadcasting ------------------------------------------------------------------- */
/* Multidirectional (numpy) broadcast of a and b into out's shape. */
static int broadcast_shape(tensor *out, const tensor *a, const tensor *b)
{
    int32_t rank = a->rank > b->rank ? a->rank : b->rank, i;
    out->rank = rank;
    for (i = 0; i < rank; i++) {
        int64_t da = i - (rank - a->rank) >= 0 ? a->dims[i - (rank - a->rank)] : 1;
        int64_t db = i - (rank - b->rank) >= 0 ? b->dims[i - (rank - b->rank)] : 1;
        if (da != db && da != 1 && db != 1)
            return mlops__error(MLOPS_EFORMAT, SUB, "shapes do not broadcast: dimension %d is %lld and %lld", i,
                                (long long)da, (long long)db);
        out->dims[i] = da == 1 ? db : da;
    }
    return MLOPS_OK;
}

void mlops__broadcast_strides(int64_t *strides, const tensor *t, const tensor *out)
{
    int64_t stride = 1;
    int32_t i, off = out->rank - t->rank;
    for (i = out->rank - 1; i >= 0; i--) {
        int64_t d = i - off >= 0 ? t->dims[i - off] : 1;
        strides[i] = d == 1 ? 0 : stride;
        stride *= d;
    }
}

void mlops__index_next(int64_t *idx, int64_t *oa, int64_t *ob, const int64_t *sa, const int64_t *sb,
                       const int64_t *dims, int32_t last)
{
    int32_t d;
    for (d = last; d >= 0; d--) {
        idx[d]++;
        *oa += sa[d]; // NOLINT(clang-analyzer-core.uninitialized.Assign): 0 <= d < rank <= MLOPS__MAX_RANK
        *ob += sb[d];
        if (idx[d] < dims[d])
            break;
        *oa -= sa[d] * idx[d];
        *ob -= sb[d] * idx[d];
        idx[d] = 0;
    }
}

typedef enum binop { BIN_ADD, BIN_SUB, BIN_MUL, BIN_DIV } binop;

static void binary_float_run(binop op, const float *a, int64_t sa, const float *b, int64_t sb, float *y, int64_t n)
{
    int64_t i;
    switch (op) {
    case BIN_ADD: for (i = 0; i < n; i++) y[i] = a[i * sa] + b[i * sb]; break;
    case BIN_SUB: for (i = 0; i < n; i++) y[i] = a[i * sa] - b[i * sb]; break;
    case BIN_MUL: for (i = 0; i < n; i++) y[i] = a[i * sa] * b[i * sb]; break;
    default: for (i = 0; i < n; i++) y[i] = a[i * sa] / b[i * sb]; break;
    }
}

static void binary_generic(binop op, const tensor *a, size_t ia, const tensor *b, size_t ib, tensor *y, size_t iy)
{
    if (y->dtype == MLOPS__DT_DOUBLE) {
        double x = get_d(a, ia), z = get_d(b, ib);
        set_d(y, iy, op == BIN_ADD ? x + z : op == BIN_SUB ? x - z : op == BIN_MUL ? x * z : x / z);
    } else {
        int64_t x = get_i(a, ia), z = get_i(b, ib), r;
        switch (op) {
        case BIN_ADD: r = (int64_t)((uint64_t)x + (uint64_t)z); break;
        case BIN_SUB: r = (int64_t)((uint64_t)x - (uint64_t)z); break;
        case BIN_MUL: r = (int64_t)((uint64_t)x * (uint64_t)z); break;
        default: r = z == 0 ? 0 : (x == INT64_MIN && z == -1) ? x : x / z; break;
        }
        set_i(y, iy, r);
    }
}

static int op_binary(binop op, const tensor *a, const tensor *b, tensor *y, int exec)
{
    int64_t sa[MLOPS__MAX_RANK], sb[MLOPS__MAX_RANK], idx[MLOPS__MAX_RANK] = {0};
    int64_t inner, outer, o, oa = 0, ob = 0;
    int32_t r;
    if (!exec) {
        if (a->dtype != b->dtype)
            return mlops__error(MLOPS_EFORMAT, SUB, "inputs have different element types (%s and %s)",
                                mlops__dtype_name(a->dtype), mlops__dtype_name(b->dtype));
        if (a->dtype == MLOPS__DT_BOOL)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "element type bool is not supported");
        y->dtype = a->dtype;
        return broadcast_shape(y, a, b);
    }
    r = y->rank;
    mlops__broadcast_strides(sa, a, y);
    mlops__broadcast_strides(sb, b, y);
    inner = r > 0 ? y->dims[r - 1] : 1;
    outer = inner > 0 ? (int64_t)count_of(y) / inner : 0;
    for (o = 0; o < outer; o++) {
        int64_t base = o * inner, i;
        if (y->dtype == MLOPS__DT_FLOAT) {
            binary_float_run(op, (const float *)a->data + oa, r > 0 ? sa[r - 1] : 0, (const float *)b->data + ob,
                             r > 0 ? sb[r - 1] : 0, (float *)y->data + base, inner);
        } else {
            for (i = 0; i < inner; i++)
                binary_generic(op, a, (size_t)(oa + i * (r > 0 ? sa[r - 1] : 0)), b,
                               (size_t)(ob + i * (r > 0 ? sb[r - 1] : 0)), y, (size_t)(base + i));
        }
        mlops__index_next(idx, &oa, &ob, sa, sb, y->dims, r - 2); /* all dimensions but the last */
    }
    return MLOPS_OK;
}

/* ---- elementwise activations (the epilogue's definitions) ------------------------ */
/*
 * mlops__act_row() in place, with the piecewise-linear activations in loops
 * the compiler vectorizes (same formulas as mlops__act_scalar(), so the same
 * results); the transcendental ones go through mlops__act_row() itself.
 */
static void apply_act(const mlops__epilogue *epi, float *y, size_t n)
{
    size_t i;
    float alpha = epi->alpha, beta = epi->beta;
    switch (epi->act) {
    case MLOPS__ACT_NONE:
        break;
    case MLOPS__ACT_RELU:
        for (i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : 0.0f;
        break;
    case MLOPS__ACT_LEAKY_RELU:
        for (i = 0; i < n; i++)
            y[i] = y[i] > 0.0f ? y[i] : alpha * y[i];
        break;
    case MLOPS__ACT_CLIP:
        for (i = 0; i < n; i++) {
            float t = y[i] > alpha ? y[i] : alpha;
            y[i] = t < beta ? t : beta;
        }
        break;
    default:
        mlops__act_row(epi, y, n);
        break;
    }
}

static int op_unary(const mlops__step *step, const tensor *x, tensor *y, int exec)
{
    mlops__epilogue epi = {MLOPS__ACT_NONE, step->alpha, 0.0f};
    size_t n, i;
    if (!exec) {
        int rc = need_float(x, "the input");
        if (rc != MLOPS_OK)
            return rc;
        shape_copy(y, x, x->dtype);
        return MLOPS_OK;
    }
    n = count_of(x);
    if (y->data != x->data)
        memcpy(y->data, x->data, n * sizeof(float));
    switch (step->op) {
    case MLOPS__OP_RELU: epi.act = MLOPS__ACT_RELU; break;
    case MLOPS__OP_LEAKY_RELU: epi.act = MLOPS__ACT_LEAKY_RELU; break;
    case MLOPS__OP_SIGMOID: epi.act = MLOPS__ACT_SIGMOID; break;
    case MLOPS__OP_TANH: epi.act = MLOPS__ACT_TANH; break;
    default:
        for (i = 0; i < n; i++)
            ((float *)y->data)[i] = erff(((float *)y->data)[i]);
        return MLOPS_OK;
    }
    apply_act(&epi, (float *)y->data, n);
    return MLOPS_OK;
}

/* Clip: bounds from attributes (before opset 11) or optional scalar inputs. */
static int op_clip(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *x = in[0];
    const tensor *lo = step->n_in > 1 ? in[1] : NULL, *hi = step->n_in > 2 ? in[2] : NULL;
    size_t n, i;
    double vlo = -INFINITY, vhi = INFINITY;
    if (!exec) {
        if (x->dtype == MLOPS__DT_BOOL)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "element type bool is not supported");
        if ((lo != NULL && (lo->dtype != x->dtype || count_of(lo) != 1)) ||
            (hi != NULL && (hi->dtype != x->dtype || count_of(hi) != 1)))
            return mlops__error(MLOPS_EFORMAT, SUB, "min and max must be scalars of the input's element type");
        shape_copy(y, x, x->dtype);
        return MLOPS_OK;
    }
    n = count_of(x);
    if (step->opset < 11) {
        vlo = step->has_min ? step->alpha : -INFINITY;
        vhi = step->has_max ? step->beta : INFINITY;
    }
    if (lo != NULL)
        vlo = get_d(lo, 0);
    if (hi != NULL)
        vhi = get_d(hi, 0);
    if (x->dtype == MLOPS__DT_FLOAT) {
        mlops__epilogue epi = {MLOPS__ACT_CLIP, (float)vlo, (float)vhi};
        if (y->data != x->data)
            memcpy(y->data, x->data, n * sizeof(float));
        apply_act(&epi, (float *)y->data, n);
        return MLOPS_OK;
    }
    for (i = 0; i < n; i++) {
        double v = get_d(x, i);
        set_d(y, i, v < vlo ? vlo : v > vhi ? vhi : v);
    }
    return MLOPS_OK;
}

/* ---- softmax ------------------------------------------------------------------------- */
static void softmax_line(const float *x, float *y, int64_t n, int64_t stride, int log_form)
{
    int64_t i;
    float max = -INFINITY;
    double sum = 0.0;
    for (i = 0; i < n; i++)
        if (x[i * stride] > max)
            max = x[i * stride];
    for (i = 0; i < n; i++)
        sum += exp((double)x[i * stride] - max);
    for (i = 0; i < n; i++) {
        double shifted = (double)x[i * stride] - max;
        y[i * stride] = log_form ? (float)(shifted - log(sum)) : (float)(exp(shifted) / sum);
    }
}

static int op_softmax(const mlops__step *step, const tensor *x, tensor *y, int exec)
{
    int64_t axis = step->axis, outer, n, inner, o, j;
    int rc;
    if ((rc = norm_axis(&axis, x->rank, 0)) != MLOPS_OK)
        return rc;
    if (!exec) {
        if ((rc = need_float(x, "the input")) != MLOPS_OK)
            return rc;
        shape_copy(y, x, x->dtype);
        return MLOPS_OK;
    }
    if (step->opset < 13) { /* the input seen as 2-D at `axis`, normalized per row */
        outer = prod(x->dims, 0, (int32_t)axis);
        n = prod(x->dims, (int32_t)axis, x->rank);
        inner = 1;
    } else {
        outer = prod(x->dims, 0, (int32_t)axis);
        n = x->dims[axis];
        inner = prod(x->dims, (int32_t)axis + 1, x->rank);
    }
    for (o = 0; o < outer; o++)
        for (j = 0; j < inner; j++)
            softmax_line((const float *)x->data + o * n * inner + j, (float *)y->data + o * n * inner + j, n, inner,
                         step->op == MLOPS__OP_LOG_SOFTMAX);
    return MLOPS_OK;
}

/* ---- shape ops ------------------------------------------------------------------------ */
static int op_copy_shape(const tensor *x, tensor *y, int exec)
{
    if (exec && y->data != x->data)
        memcpy(y->data, x->data, count_of(x) * mlops__dtype_size(x->dtype));
    return MLOPS_OK;
}

static int op_flatten(const mlops__step *step, const tensor *x, tensor *y, int exec)
{
    int64_t axis = step->axis;
    int rc;
    if (!exec) {
        if ((rc = norm_axis(&axis, x->rank, 1)) != MLOPS_OK)
            return rc;
        y->dtype = x->dtype;
        y->rank = 2;
        y->dims[0] = prod(x->dims, 0, (int32_t)axis);
        y->dims[1] = prod(x->dims, (int32_t)axis, x->rank);
    }
    return op_copy_shape(x, y, exec);
}

static int const_ints(const tensor *t, const char *what)
{
    if (t->data == NULL)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "%s must be a constant (an initializer or Constant)", what);
    if (t->dtype != MLOPS__DT_INT64 || t->rank > 1)
        return mlops__error(MLOPS_EFORMAT, SUB, "%s must be a 1-D int64 tensor", what);
    return MLOPS_OK;
}

static int op_reshape(const mlops__step *step, const tensor *x, const tensor *shape, tensor *y, int exec)
{
    size_t i, n;
    int64_t known = 1, infer_at = -1;
    int rc;
    if (exec)
        return op_copy_shape(x, y, exec);
    if ((rc = const_ints(shape, "the shape input")) != MLOPS_OK)
        return rc;
    n = count_of(shape);
    if (n > MLOPS__MAX_RANK)
        return mlops__error(MLOPS_ELIMIT, SUB, "the new shape has %zu dimensions (at most %d)", n, MLOPS__MAX_RANK);
    y->dtype = x->dtype;
    y->rank = (int32_t)n;
    for (i = 0; i < n; i++) {
        int64_t d = ((const int64_t *)shape->data)[i];
        if (d == 0 && !step->allowzero) {
            if ((int32_t)i >= x->rank)
                return mlops__error(MLOPS_EFORMAT, SUB, "shape entry %zu is 0 but the input has rank %d", i,
                                    x->rank);
            d = x->dims[i];
        }
        if (d == -1) {
            if (infer_at >= 0)
                return mlops__error(MLOPS_EFORMAT, SUB, "the shape has more than one -1");
            infer_at = (int64_t)i;
            continue;
        }
        if (d < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "shape entry %zu is %lld", i, (long long)d);
        y->dims[i] = d;
        known *= d;
    }
    if (infer_at >= 0) {
        if (known == 0 || (int64_t)count_of(x) % known != 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "cannot infer the -1 entry: %lld elements into blocks of %lld",
                                (long long)count_of(x), (long long)known);
        y->dims[infer_at] = (int64_t)count_of(x) / known;
    } else if (known != (int64_t)count_of(x)) {
        return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: %lld elements cannot take a shape of %lld",
                            (long long)count_of(x), (long long)known);
    }
    return MLOPS_OK;
}

/* Axes of Squeeze/Unsqueeze: the attribute (before opset 13) or the constant second input. */
static int read_axes(int64_t *axes, size_t *n_axes, const mlops__step *step, const tensor *const *in)
{
    size_t i;
    int rc;
    if (step->n_in > 1 && in[1] != NULL) {
        if ((rc = const_ints(in[1], "the axes input")) != MLOPS_OK)
            return rc;
        *n_axes = count_of(in[1]);
        if (*n_axes > MLOPS__MAX_RANK)
            return mlops__error(MLOPS_EFORMAT, SUB, "too many axes");
        for (i = 0; i < *n_axes; i++)
            axes[i] = ((const int64_t *)in[1]->data)[i];
        return MLOPS_OK;
    }
    if (step->n_axes > MLOPS__MAX_RANK)
        return mlops__error(MLOPS_EFORMAT, SUB, "too many axes");
    *n_axes = step->n_axes;
    for (i = 0; i < step->n_axes; i++)
        axes[i] = step->axes[i];
    return MLOPS_OK;
}

static int op_squeeze(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *x = in[0];
    int64_t axes[MLOPS__MAX_RANK];
    int drop[MLOPS__MAX_RANK] = {0};
    size_t n_axes, i;
    int32_t d;
    int rc;
    if (exec)
        return op_copy_shape(x, y, exec);
    if ((rc = read_axes(axes, &n_axes, step, in)) != MLOPS_OK)
        return rc;
    for (i = 0; i < n_axes; i++) {
        if ((rc = norm_axis(&axes[i], x->rank, 0)) != MLOPS_OK)
            return rc;
        if (x->dims[axes[i]] != 1)
            return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: axis %lld has size %lld, not 1",
                                (long long)axes[i], (long long)x->dims[axes[i]]);
        drop[axes[i]] = 1;
    }
    if (n_axes == 0)
        for (d = 0; d < x->rank; d++)
            drop[d] = x->dims[d] == 1;
    y->dtype = x->dtype;
    y->rank = 0;
    for (d = 0; d < x->rank; d++)
        if (!drop[d])
            y->dims[y->rank++] = x->dims[d];
    return MLOPS_OK;
}

static int op_unsqueeze(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *x = in[0];
    int64_t axes[MLOPS__MAX_RANK];
    int add[MLOPS__MAX_RANK] = {0};
    size_t n_axes, i;
    int32_t d, src = 0, rank;
    int rc;
    if (exec)
        return op_copy_shape(x, y, exec);
    if ((rc = read_axes(axes, &n_axes, step, in)) != MLOPS_OK)
        return rc;
    rank = x->rank + (int32_t)n_axes;
    if (n_axes == 0 || rank > MLOPS__MAX_RANK)
        return mlops__error(MLOPS_EFORMAT, SUB, "Unsqueeze needs 1 to %d axes in all", MLOPS__MAX_RANK);
    for (i = 0; i < n_axes; i++) {
        if ((rc = norm_axis(&axes[i], rank, 0)) != MLOPS_OK)
            return rc;
        if (add[axes[i]])
            return mlops__error(MLOPS_EFORMAT, SUB, "axis %lld is repeated", (long long)axes[i]);
        add[axes[i]] = 1;
    }
    y->dtype = x->dtype;
    y->rank = rank;
    for (d = 0; d < rank; d++)
        y->dims[d] = add[d] ? 1 : x->dims[src++];
    return MLOPS_OK;
}

static int op_dropout(const mlops__step *step, const tensor *const *in, tensor *const *out, int exec)
{
    const tensor *x = in[0];
    const tensor *training = step->n_in > 2 ? in[2] : NULL;
    if (!exec) {
        if (training != NULL && training->data != NULL && get_d(training, 0) != 0)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "training_mode is not supported (inference only)");
        shape_copy(out[0], x, x->dtype);
        if (step->n_out > 1 && out[1] != NULL)
            shape_copy(out[1], x, MLOPS__DT_BOOL);
        return MLOPS_OK;
    }
    if (training != NULL && get_d(training, 0) != 0)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "training_mode is not supported (inference only)");
    if (step->n_out > 1 && out[1] != NULL)
        memset(out[1]->data, 1, count_of(x));
    return op_copy_shape(x, out[0], exec);
}

static int op_cast(const mlops__step *step, const tensor *x, tensor *y, int exec)
{
    size_t n, i;
    if (!exec) {
        shape_copy(y, x, (int32_t)step->to);
        return MLOPS_OK;
    }
    n = count_of(x);
    if (x->dtype == y->dtype)
        return op_copy_shape(x, y, exec);
    if (x->dtype == MLOPS__DT_INT64 || y->dtype == MLOPS__DT_INT64) {
        for (i = 0; i < n; i++) {
            if (x->dtype == MLOPS__DT_FLOAT || x->dtype == MLOPS__DT_DOUBLE)
                set_d(y, i, trunc(get_d(x, i)));
            else
                set_i(y, i, get_i(x, i));
        }
    } else {
        for (i = 0; i < n; i++)
            set_d(y, i, y->dtype == MLOPS__DT_FLOAT || y->dtype == MLOPS__DT_DOUBLE ? get_d(x, i) : trunc(get_d(x, i)));
    }
    return MLOPS_OK;
}

static int op_constant(const mlops__step *step, tensor *y, int exec)
{
    if (!exec) {
        *y = step->value;
        y->data = NULL;
        return MLOPS_OK;
    }
    memcpy(y->data, step->value.data, count_of(&step->value) * mlops__dtype_size(step->value.dtype));
    return MLOPS_OK;
}

/* ---- normalization ------------------------------------------------------------------- */
static int op_batch_norm(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *x = in[0];
    int64_t c, channels, inner, n, b, i;
    int k, rc;
    if (!exec) {
        if ((rc = need_float(x, "the input")) != MLOPS_OK)
            return rc;
        if (x->rank < 2)
            return mlops__error(MLOPS_EFORMAT, SUB, "the input needs at least 2 dimensions (N, C, ...)");
        for (k = 1; k < 5; k++) {
            if ((rc = need_float(in[k], "scale, bias, mean and var")) != MLOPS_OK)
                return rc;
            if ((int64_t)count_of(in[k]) != x->dims[1] || in[k]->rank != 1)
                return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: input %d has %lld elements, C is %lld", k,
                                    (long long)count_of(in[k]), (long long)x->dims[1]);
        }
        shape_copy(y, x, x->dtype);
        return MLOPS_OK;
    }
    channels = x->dims[1];
    n = x->dims[0];
    inner = prod(x->dims, 2, x->rank);
    for (c = 0; c < channels; c++) {
        float scale = ((const float *)in[1]->data)[c], bias = ((const float *)in[2]->data)[c];
        float mean = ((const float *)in[3]->data)[c], var = ((const float *)in[4]->data)[c];
        float mul = scale / sqrtf(var + step->epsilon);
        for (b = 0; b < n; b++) {
            const float *src = (const float *)x->data + (b * channels + c) * inner;
            float *dst = (float *)y->data + (b * channels + c) * inner;
            for (i = 0; i < inner; i++)
                dst[i] = (src[i] - mean) * mul + bias;
        }
    }
    return MLOPS_OK;
}

void mlops__layer_norm_stats(double *mean_out, double *inv_out, const float *x, int64_t n, double epsilon)
{
    double mean = 0, var = 0;
    int64_t i;
    for (i = 0; i < n; i++)
        mean += x[i];
    mean /= (double)(n > 0 ? n : 1);
    for (i = 0; i < n; i++)
        var += ((double)x[i] - mean) * ((double)x[i] - mean);
    var /= (double)(n > 0 ? n : 1);
    *mean_out = mean;
    *inv_out = 1.0 / sqrt(var + epsilon);
}

static int op_layer_norm(const mlops__step *step, const tensor *const *in, tensor *const *out, int exec)
{
    const tensor *x = in[0], *scale = in[1], *bias = step->n_in > 2 ? in[2] : NULL;
    int64_t axis = step->axis, outer, inner, o, i;
    int32_t d;
    int rc;
    if ((rc = norm_axis(&axis, x->rank, 0)) != MLOPS_OK)
        return rc;
    outer = prod(x->dims, 0, (int32_t)axis);
    inner = prod(x->dims, (int32_t)axis, x->rank);
    if (!exec) {
        if ((rc = need_float(x, "the input")) != MLOPS_OK || (rc = need_float(scale, "the scale")) != MLOPS_OK ||
            (bias != NULL && (rc = need_float(bias, "the bias")) != MLOPS_OK))
            return rc;
        if ((int64_t)count_of(scale) != inner || (bias != NULL && (int64_t)count_of(bias) != inner))
            return mlops__error(MLOPS_EFORMAT, SUB,
                                "shape mismatch: scale and bias need %lld elements (the normalized dimensions)",
                                (long long)inner);
        shape_copy(out[0], x, x->dtype);
        for (d = 1; d < 3; d++) {
            if (step->n_out > d && out[d] != NULL) {
                int32_t k;
                shape_copy(out[d], x, x->dtype);
                for (k = (int32_t)axis; k < x->rank; k++)
                    out[d]->dims[k] = 1;
            }
        }
        return MLOPS_OK;
    }
    for (o = 0; o < outer; o++) {
        const float *src = (const float *)x->data + o * inner;
        float *dst = (float *)out[0]->data + o * inner;
        double mean, inv_d;
        float inv;
        mlops__layer_norm_stats(&mean, &inv_d, src, inner, step->epsilon);
        inv = (float)inv_d;
        for (i = 0; i < inner; i++) {
            float v = (float)(src[i] - mean) * inv * ((const float *)scale->data)[i];
            dst[i] = bias != NULL ? v + ((const float *)bias->data)[i] : v;
        }
        if (step->n_out > 1 && out[1] != NULL)
            ((float *)out[1]->data)[o] = (float)mean;
        if (step->n_out > 2 && out[2] != NULL)
            ((float *)out[2]->data)[o] = inv;
    }
    return MLOPS_OK;
}

/* ---- matrix products --------------------------------------------------------------- */
/* y (m x n) = x (m x k) . w (k x n), through gemv for one row (much faster in OpenBLAS). */
static void sgemm_rows(const float *x, const float *w, float *y, size_t m, size_t k, size_t n, float beta)
{
    if (m == 0 || n == 0)
        return;
    if (k == 0) {
        size_t i;
        for (i = 0; i < m * n; i++)
            y[i] = beta == 0.0f ? 0.0f : y[i] * beta;
        return;
    }
    if (m == 1)
        cblas_sgemv(CblasRowMajor, CblasTrans, (blasint)k, (blasint)n, 1.0f, w, (blasint)n, x, 1, beta, y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, 1.0f, x,
                    (blasint)k, w, (blasint)n, beta, y, (blasint)n);
}

void mlops__linear_run_fp32(const mlops__linear *layer, const float *x, size_t m, float *y)
{
    size_t i, n = layer->n;
    if (layer->bias != NULL && m > 0) {
        for (i = 0; i < m; i++)
            memcpy(y + i * n, layer->bias, n * sizeof *y);
        sgemm_rows(x, layer->w, y, m, layer->k, n, 1.0f);
    } else {
        sgemm_rows(x, layer->w, y, m, layer->k, n, 0.0f);
    }
    apply_act(&layer->epilogue, y, m * n);
}

/* d[i] = dy[i] times the activation's derivative at pre-activation pre[i] (or read from its output y[i]); no
 * activation leaves d alone (the caller uses dy itself). */
static void act_backward(const mlops__epilogue *epi, const float *pre, const float *y, const float *dy, float *d,
                         size_t n)
{
    size_t i;
    switch (epi->act) {
    case MLOPS__ACT_RELU:
        for (i = 0; i < n; i++)
            d[i] = y[i] > 0.0f ? dy[i] : 0.0f;
        break;
    case MLOPS__ACT_LEAKY_RELU:
        for (i = 0; i < n; i++)
            d[i] = pre[i] > 0.0f ? dy[i] : dy[i] * epi->alpha;
        break;
    case MLOPS__ACT_SIGMOID:
        for (i = 0; i < n; i++)
            d[i] = dy[i] * y[i] * (1.0f - y[i]);
        break;
    case MLOPS__ACT_TANH:
        for (i = 0; i < n; i++)
            d[i] = dy[i] * (1.0f - y[i] * y[i]);
        break;
    case MLOPS__ACT_CLIP:
        for (i = 0; i < n; i++)
            d[i] = pre[i] >= epi->alpha && pre[i] <= epi->beta ? dy[i] : 0.0f;
        break;
    case MLOPS__ACT_GELU:
        for (i = 0; i < n; i++) {
            double p = pre[i];
            d[i] = dy[i] * (float)(0.5 * (1.0 + erf(p / sqrt(2.0))) +
                                   p * exp(-0.5 * p * p) / sqrt(2.0 * 3.14159265358979323846));
        }
        break;
    case MLOPS__ACT_NONE:
        break;
    }
}

void mlops__linear_backward_fp32(const mlops__linear *layer, const float *x, const float *y, const float *dy,
                                 size_t m, float *dx, float *scratch)
{
    size_t i, n = layer->n, k = layer->k;
    float *pre = scratch, *d = scratch + m * n;
    if (m == 0)
        return;
    if (layer->epilogue.act == MLOPS__ACT_LEAKY_RELU || layer->epilogue.act == MLOPS__ACT_CLIP ||
        layer->epilogue.act == MLOPS__ACT_GELU) {
        for (i = 0; i < m; i++) {
            if (layer->bias != NULL)
                memcpy(pre + i * n, layer->bias, n * sizeof *pre);
            else
                memset(pre + i * n, 0, n * sizeof *pre);
        }
        sgemm_rows(x, layer->w, pre, m, k, n, 1.0f);
    }
    act_backward(&layer->epilogue, pre, y, dy, d, m * n);
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)m, (blasint)k, (blasint)n, 1.0f,
                layer->epilogue.act == MLOPS__ACT_NONE ? dy : d, (blasint)n, layer->w, (blasint)n, 1.0f, dx,
                (blasint)k);
}

static int op_linear_shape(const mlops__step *step, const tensor *x, tensor *y)
{
    int rc;
    if ((rc = need_float(x, "the input")) != MLOPS_OK)
        return rc;
    if (x->rank < 1 || x->dims[x->rank - 1] != (int64_t)step->linear->k)
        return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: the input's last dimension is %lld, the weights have %zu rows",
                            x->rank < 1 ? 0LL : (long long)x->dims[x->rank - 1], step->linear->k);
    shape_copy(y, x, x->dtype);
    y->dims[y->rank - 1] = (int64_t)step->linear->n;
    return MLOPS_OK;
}

static int op_gemm(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *a = in[0], *b = in[1], *c = step->n_in > 2 ? in[2] : NULL;
    int64_t m, k, n, kb, i, j;
    int rc;
    if (!exec) {
        if ((rc = need_float(a, "A")) != MLOPS_OK || (rc = need_float(b, "B")) != MLOPS_OK ||
            (c != NULL && (rc = need_float(c, "C")) != MLOPS_OK))
            return rc;
        if (a->rank != 2 || b->rank != 2)
            return mlops__error(MLOPS_EFORMAT, SUB, "A and B must be 2-D (ranks %d and %d)", a->rank, b->rank);
    }
    m = step->trans_a ? a->dims[1] : a->dims[0];
    k = step->trans_a ? a->dims[0] : a->dims[1];
    kb = step->trans_b ? b->dims[1] : b->dims[0];
    n = step->trans_b ? b->dims[0] : b->dims[1];
    if (!exec) {
        if (k != kb)
            return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: A has %lld columns, B has %lld rows",
                                (long long)k, (long long)kb);
        if (c != NULL) {
            int64_t cm = c->rank >= 2 ? c->dims[c->rank - 2] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
            if (c->rank > 2 || (cm != 1 && cm != m) || (cn != 1 && cn != n))
                return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: C does not broadcast to %lld x %lld",
                                    (long long)m, (long long)n);
        }
        y->dtype = MLOPS__DT_FLOAT;
        y->rank = 2;
        y->dims[0] = m;
        y->dims[1] = n;
        return MLOPS_OK;
    }
    if (c != NULL && step->beta != 0.0f) {
        int64_t cm = c->rank >= 2 ? c->dims[c->rank - 2] : 1, cn = c->rank >= 1 ? c->dims[c->rank - 1] : 1;
        for (i = 0; i < m; i++)
            for (j = 0; j < n; j++)
                ((float *)y->data)[i * n + j] =
                    step->beta * ((const float *)c->data)[(cm == 1 ? 0 : i) * cn + (cn == 1 ? 0 : j)];
    } else {
        memset(y->data, 0, (size_t)(m * n) * sizeof(float));
    }
    if (m > 0 && n > 0 && k > 0)
        cblas_sgemm(CblasRowMajor, step->trans_a ? CblasTrans : CblasNoTrans, step->trans_b ? CblasTrans : CblasNoTrans,
                    (blasint)m, (blasint)n, (blasint)k, step->alpha, (const float *)a->data, (blasint)a->dims[1],
                    (const float *)b->data, (blasint)b->dims[1], 1.0f, (float *)y->data, (blasint)n);
    return MLOPS_OK;
}

/* Batched matrix product with numpy semantics: shapes and the per-matrix loop. */
typedef struct matmul_dims {
    int64_t m, k, n, batch;
    int64_t a_strides[MLOPS__MAX_RANK], b_strides[MLOPS__MAX_RANK]; /* per batch dimension, in matrices */
    tensor batch_shape;
} matmul_dims;

static int matmul_shape(matmul_dims *md, tensor *y, const tensor *a, const tensor *b, int32_t dtype)
{
    tensor ab = *a, bb = *b;
    int32_t i;
    int rc;
    if (a->rank < 1 || b->rank < 1)
        return mlops__error(MLOPS_EFORMAT, SUB, "MatMul inputs must have at least one dimension");
    md->m = a->rank >= 2 ? a->dims[a->rank - 2] : 1;
    md->k = a->dims[a->rank - 1];
    md->n = b->rank >= 2 ? b->dims[b->rank - 1] : 1;
    if ((b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0]) != md->k)
        return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: A has %lld columns, B has %lld rows",
                            (long long)md->k, (long long)(b->rank >= 2 ? b->dims[b->rank - 2] : b->dims[0]));
    ab.rank = a->rank >= 2 ? a->rank - 2 : 0;
    bb.rank = b->rank >= 2 ? b->rank - 2 : 0;
    if ((rc = broadcast_shape(&md->batch_shape, &ab, &bb)) != MLOPS_OK)
        return rc;
    mlops__broadcast_strides(md->a_strides, &ab, &md->batch_shape);
    mlops__broadcast_strides(md->b_strides, &bb, &md->batch_shape);
    md->batch = prod(md->batch_shape.dims, 0, md->batch_shape.rank);
    y->dtype = dtype;
    y->rank = md->batch_shape.rank;
    memcpy(y->dims, md->batch_shape.dims, sizeof y->dims);
    if (a->rank >= 2)
        y->dims[y->rank++] = md->m;
    if (b->rank >= 2)
        y->dims[y->rank++] = md->n;
    if (y->rank > MLOPS__MAX_RANK)
        return mlops__error(MLOPS_ELIMIT, SUB, "too many dimensions");
    for (i = 0; i < y->rank; i++)
        if (y->dims[i] < 0)
            return mlops__error(MLOPS_EFORMAT, SUB, "negative dimension");
    return MLOPS_OK;
}

/* Matrix offsets (in matrices) of batch `index` in A and B. */
static void matmul_batch_offsets(const matmul_dims *md, int64_t index, int64_t *oa, int64_t *ob)
{
    int32_t d;
    *oa = 0;
    *ob = 0;
    for (d = md->batch_shape.rank - 1; d >= 0; d--) {
        int64_t i = index % md->batch_shape.dims[d];
        index /= md->batch_shape.dims[d];
        *oa += i * md->a_strides[d];
        *ob += i * md->b_strides[d];
    }
}

static int op_matmul(const tensor *a, const tensor *b, tensor *y, int exec)
{
    matmul_dims md;
    int64_t bi, oa, ob;
    int rc;
    if (!exec && ((rc = need_float(a, "A")) != MLOPS_OK || (rc = need_float(b, "B")) != MLOPS_OK))
        return rc;
    if ((rc = matmul_shape(&md, y, a, b, MLOPS__DT_FLOAT)) != MLOPS_OK || !exec)
        return rc;
    for (bi = 0; bi < md.batch; bi++) {
        matmul_batch_offsets(&md, bi, &oa, &ob);
        sgemm_rows((const float *)a->data + oa * md.m * md.k, (const float *)b->data + ob * md.k * md.n,
                   (float *)y->data + bi * md.m * md.n, (size_t)md.m, (size_t)md.k, (size_t)md.n, 0.0f);
    }
    return MLOPS_OK;
}

/* ---- quantization ------------------------------------------------------------------- */
static double saturate(double v, int32_t dtype)
{
    double lo = dtype == MLOPS__DT_UINT8 ? 0 : dtype == MLOPS__DT_INT8 ? -128 : -2147483648.0;
    double hi = dtype == MLOPS__DT_UINT8 ? 255 : dtype == MLOPS__DT_INT8 ? 127 : 2147483647.0;
    return v < lo ? lo : v > hi ? hi : v;
}

/* Scale / zero point of Quantize/DequantizeLinear: per tensor, or per slice along `axis`. */
static int quant_params_shape(const mlops__step *step, const tensor *x, const tensor *scale, const tensor *zp,
                              int64_t *axis_out)
{
    int64_t axis = step->axis;
    int rc;
    if ((rc = need_float(scale, "the scale")) != MLOPS_OK)
        return rc;
    if (zp != NULL && zp->dtype != MLOPS__DT_UINT8 && zp->dtype != MLOPS__DT_INT8 &&
        !(step->op == MLOPS__OP_DEQUANTIZE && zp->dtype == MLOPS__DT_INT32))
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "zero point of type %s is not supported",
                            mlops__dtype_name(zp->dtype));
    *axis_out = -1;
    if (count_of(scale) != 1 || scale->rank == 1) {
        if (scale->rank > 1 || (count_of(scale) != 1 && step->opset < 13))
            return mlops__error(MLOPS_EFORMAT, SUB, "the scale must be a scalar%s",
                                step->opset >= 13 ? " or 1-D" : "");
        if (scale->rank == 1 && count_of(scale) != 1) {
            if ((rc = norm_axis(&axis, x->rank, 0)) != MLOPS_OK)
                return rc;
            if (x->dims[axis] != (int64_t)count_of(scale))
                return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: %lld scales for axis %lld of size %lld",
                                    (long long)count_of(scale), (long long)axis, (long long)x->dims[axis]);
            *axis_out = axis;
        }
    }
    if (zp != NULL && count_of(zp) != count_of(scale))
        return mlops__error(MLOPS_EFORMAT, SUB, "shape mismatch: the zero point and the scale differ in size");
    return MLOPS_OK;
}

static int op_quantize(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    const tensor *x = in[0], *scale = in[1], *zp = step->n_in > 2 ? in[2] : NULL;
    int64_t axis = -1, inner = 1, channels = 1, i;
    int rc;
    if ((rc = quant_params_shape(step, x, scale, zp, &axis)) != MLOPS_OK)
        return rc;
    if (!exec) {
        int deq = step->op == MLOPS__OP_DEQUANTIZE;
        if (deq ? (!is_int8_type(x->dtype) && x->dtype != MLOPS__DT_INT32) : x->dtype != MLOPS__DT_FLOAT)
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "input of type %s is not supported",
                                mlops__dtype_name(x->dtype));
        if (deq && zp != NULL && zp->dtype != x->dtype)
            return mlops__error(MLOPS_EFORMAT, SUB, "the zero point's type differs from the input's");
        shape_copy(y, x, deq ? MLOPS__DT_FLOAT : zp != NULL ? zp->dtype : MLOPS__DT_UINT8);
        return MLOPS_OK;
    }
    if (axis >= 0) {
        channels = x->dims[axis];
        inner = prod(x->dims, (int32_t)axis + 1, x->rank);
    }
    for (i = 0; i < (int64_t)count_of(x); i++) {
        int64_t c = axis >= 0 ? (i / inner) % channels : 0;
        float s = ((const float *)scale->data)[c];
        double z = zp != NULL ? get_d(zp, (size_t)c) : 0.0;
        if (step->op == MLOPS__OP_DEQUANTIZE)
            ((float *)y->data)[i] = (float)((get_d(x, (size_t)i) - z) * s);
        else
            set_d(y, (size_t)i, saturate(nearbyint((double)(((const float *)x->data)[i] / s)) + z, y->dtype));
    }
    return MLOPS_OK;
}

static int op_dynamic_quantize(const tensor *x, tensor *const *out, int exec)
{
    size_t n, i;
    float lo = 0.0f, hi = 0.0f, scale;
    double zp;
    int rc;
    if (!exec) {
        if ((rc = need_float(x, "the input")) != MLOPS_OK)
            return rc;
        shape_copy(out[0], x, MLOPS__DT_UINT8);
        if (out[1] != NULL) {
            out[1]->dtype = MLOPS__DT_FLOAT;
            out[1]->rank = 0;
        }
        if (out[2] != NULL) {
            out[2]->dtype = MLOPS__DT_UINT8;
            out[2]->rank = 0;
        }
        return MLOPS_OK;
    }
    n = count_of(x);
    for (i = 0; i < n; i++) {
        float v = ((const float *)x->data)[i];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    scale = (hi - lo) / 255.0f;
    zp = scale > 0.0f ? saturate(nearbyint(0.0 - (double)(lo / scale)), MLOPS__DT_UINT8) : 0.0;
    for (i = 0; i < n; i++)
        ((uint8_t *)out[0]->data)[i] =
            scale > 0.0f
                ? (uint8_t)saturate(nearbyint((double)(((const float *)x->data)[i] / scale)) + zp, MLOPS__DT_UINT8)
                : (uint8_t)zp;
    if (out[1] != NULL)
        *(float *)out[1]->data = scale;
    if (out[2] != NULL)
        *(uint8_t *)out[2]->data = (uint8_t)zp;
    return MLOPS_OK;
}

/*
 * Integer matrix product (A - a_zp)(B - b_zp) in int32: MatMulInteger, and
 * QLinearMatMul which requantizes with a_scale * b_scale / y_scale.
 */
static int check_zero_point(const tensor *zp, const tensor *of, int64_t allowed_len, const char *what)
{
    if (zp == NULL)
        return MLOPS_OK;
    if (zp->dtype != of->dtype)
        return mlops__error(MLOPS_EFORMAT, SUB, "%s has type %s, its input %s", what, mlops__dtype_name(zp->dtype),
                            mlops__dtype_name(of->dtype));
    if (count_of(zp) != 1 && (int64_t)count_of(zp) != allowed_len)
        return mlops__error(MLOPS_EUNSUPPORTED, SUB, "%s must be a scalar or have %lld entries", what,
                            (long long)allowed_len);
    return MLOPS_OK;
}

static int op_integer_matmul(const mlops__step *step, const tensor *const *in, tensor *y, int exec)
{
    int qlinear = step->op == MLOPS__OP_QLINEAR_MATMUL;
    const tensor *a = in[0], *b = qlinear ? in[3] : in[1];
    const tensor *azp = qlinear ? in[2] : step->n_in > 2 ? in[2] : NULL;
    const tensor *bzp = qlinear ? in[5] : step->n_in > 3 ? in[3] : NULL;
    matmul_dims md;
    int64_t bi, oa, ob, i, j, p;
    int rc;
    if ((rc = matmul_shape(&md, y, a, b, qlinear ? (azp != NULL ? a->dtype : MLOPS__DT_UINT8) : MLOPS__DT_INT32)) !=
        MLOPS_OK)
        return rc;
    if (!exec) {
        if (!is_int8_type(a->dtype) || !is_int8_type(b->dtype))
            return mlops__error(MLOPS_EUNSUPPORTED, SUB, "inputs must be int8 or uint8 (have %s and %s)",
                                mlops__dtype_name(a->dtype), mlops__dtype_name(b->dtype));
        if ((rc = check_zero_point(azp, a, md.m, "a_zero_point")) != MLOPS_OK ||
            (rc = check_zero_point(bzp, b, md.n, "b_zero_point")) != MLOPS_OK)
            return rc;
        if (qlinear) {
            if (in[7] == NULL || !is_int8_type(in[7]->dtype))
                return mlops__error(MLOPS_EUNSUPPORTED, SUB, "y_zero_point must be int8 or uint8");
            y->dtype = in[7]->dtype;
            for (i = 1; i < 7; i += 3)
                if ((rc = need_float(in[i], "the scales")) != MLOPS_OK || count_of(in[i]) != 1)
                    return rc != MLOPS_OK ? rc : mlops__error(MLOPS_EUNSUPPORTED, SUB, "scales must be scalars");
            if ((rc = need_float(in[6], "y_scale")) != MLOPS_OK || count_of(in[6]) != 1 || count_of(in[7]) != 1)
                return rc != MLOPS_OK ? rc : mlops__error(MLOPS_EUNSUPPORTED, SUB, "y_scale and y_zero_point must be scalars");
        }
        return MLOPS_OK;
    }
    for (bi = 0; bi < md.batch; bi++) {
        matmul_batch_offsets(&md, bi, &oa, &ob);
        for (i = 0; i < md.m; i++) {
            int64_t za = azp == NULL ? 0 : get_i(azp, count_of(azp) == 1 ? 0 : (size_t)i);
            for (j = 0; j < md.n; j++) {
                int64_t zb = bzp == NULL ? 0 : get_i(bzp, count_of(bzp) == 1 ? 0 : (size_t)j), acc = 0;
                size_t out_index = (size_t)(bi * md.m * md.n + i * md.n + j);
                for (p = 0; p < md.k; p++)
                    acc += (get_i(a, (size_t)(oa * md.m * md.k + i * md.k + p)) - za) *
                           (get_i(b, (size_t)(ob * md.k * md.n + p * md.n + j)) - zb);
                if (qlinear) {
                    float mul = ((const float *)in[1]->data)[0] * ((const float *)in[4]->data)[0] /
                                ((const float *)in[6]->data)[0];
                    set_d(y, out_index,
                          saturate(nearbyint((double)acc * mul) + (double)get_i(in[7], 0), y->dtype));
                } else {
                    ((int32_t *)y->data)[out_index] = (int32_t)acc;
                }
            }
        }
    }
    return MLOPS_OK;
}

/* ---- dispatch -------------------------------------------------------------------------- */
/* Leading inputs an op cannot do without (ONNX operator definitions); later ones may be NULL. */
static int32_t required_inputs(mlops__op op)
{
    switch (op) {
    case MLOPS__OP_CONSTANT: return 0;
    case MLOPS__OP_GEMM:
    case MLOPS__OP_MATMUL:
    case MLOPS__OP_ADD:
    case MLOPS__OP_SUB:
    case MLOPS__OP_MUL:
    case MLOPS__OP_DIV:
    case MLOPS__OP_RESHAPE:
    case MLOPS__OP_LAYER_NORM:
    case MLOPS__OP_QUANTIZE:
    case MLOPS__OP_DEQUANTIZE:
    case MLOPS__OP_MATMUL_INTEGER: return 2;
    case MLOPS__OP_BATCH_NORM: return 5;
    case MLOPS__OP_QLINEAR_MATMUL: return 8;
    default: return 1;
    }
}

int mlops__op_apply(const mlops__step *step, const tensor *const *in, tensor *const *out, int exec)
{
    int rc, i;
    for (i = 0; i < step->n_in && i < required_inputs(step->op); i++)
        if (in[i] == NULL)
            return mlops__error(MLOPS_EFORMAT, SUB, "required input %d is missing", i);
    if (!exec) {
        for (i = 0; i < step->n_in; i++)
            if (in[i] != NULL && mlops__dtype_size(in[i]->dtype) == 0)
                return mlops__error(MLOPS_EUNSUPPORTED, SUB, "element type %s is not supported",
                                    mlops__dtype_name(in[i]->dtype));
    }
    switch (step->op) {
    case MLOPS__OP_GEMM: rc = op_gemm(step, in, out[0], exec); break;
    case MLOPS__OP_MATMUL: rc = op_matmul(in[0], in[1], out[0], exec); break;
    case MLOPS__OP_ADD: rc = op_binary(BIN_ADD, in[0], in[1], out[0], exec); break;
    case MLOPS__OP_SUB: rc = op_binary(BIN_SUB, in[0], in[1], out[0], exec); break;
    case MLOPS__OP_MUL: rc = op_binary(BIN_MUL, in[0], in[1], out[0], exec); break;
    case MLOPS__OP_DIV: rc = op_binary(BIN_DIV, in[0], in[1], out[0], exec); break;
    case MLOPS__OP_RELU:
    case MLOPS__OP_LEAKY_RELU:
    case MLOPS__OP_SIGMOID:
    case MLOPS__OP_TANH:
    case MLOPS__OP_ERF: rc = op_unary(step, in[0], out[0], exec); break;
    case MLOPS__OP_SOFTMAX:
    case MLOPS__OP_LOG_SOFTMAX: rc = op_softmax(step, in[0], out[0], exec); break;
    case MLOPS__OP_FLATTEN: rc = op_flatten(step, in[0], out[0], exec); break;
    case MLOPS__OP_RESHAPE: rc = op_reshape(step, in[0], in[1], out[0], exec); break;
    case MLOPS__OP_SQUEEZE: rc = op_squeeze(step, in, out[0], exec); break;
    case MLOPS__OP_UNSQUEEZE: rc = op_unsqueeze(step, in, out[0], exec); break;
    case MLOPS__OP_IDENTITY:
        if (!exec)
            shape_copy(out[0], in[0], in[0]->dtype);
        rc = op_copy_shape(in[0], out[0], exec);
        break;
    case MLOPS__OP_DROPOUT: rc = op_dropout(step, in, out, exec); break;
    case MLOPS__OP_CLIP: rc = op_clip(step, in, out[0], exec); break;
    case MLOPS__OP_BATCH_NORM: rc = op_batch_norm(step, in, out[0], exec); break;
    case MLOPS__OP_LAYER_NORM: rc = op_layer_norm(step, in, out, exec); break;
    case MLOPS__OP_CAST: rc = op_cast(step, in[0], out[0], exec); break;
    case MLOPS__OP_CONSTANT: rc = op_constant(step, out[0], exec); break;
    case MLOPS__OP_QUANTIZE:
    case MLOPS__OP_DEQUANTIZE: rc = op_quantize(step, in, out[0], exec); break;
    case MLOPS__OP_DYNAMIC_QUANTIZE: rc = op_dynamic_quantize(in[0], out, exec); break;
    case MLOPS__OP_MATMUL_INTEGER:
    case MLOPS__OP_QLINEAR_MATMUL: rc = op_integer_matmul(step, in, out[0], exec); break;
    case MLOPS__OP_LINEAR:
        rc = exec ? mlops__error(MLOPS_EINTERNAL, SUB, "linear layers run in the plan") : op_linear_shape(step, in[0], out[0]);
        break;
    default: rc = mlops__error(MLOPS_EINTERNAL, SUB, "unknown op %d", (int)step->op); break;
    }
    if (rc == MLOPS_OK && !exec)
        for (i = 0; i < step->n_out; i++)
            if (out[i] != NULL && (rc = check_count(out[i])) != MLOPS_OK)
                break;
    return rc;
}
