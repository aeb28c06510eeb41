/*
 * The public GEMM: one packed weight matrix in one of three precisions
 * (int8 through the quantized linear layer, fp32 through BLAS, weight-only
 * int8), an optional thread pool, and run-time scratch owned by the handle.
 */
#include <limits.h>
#include <string.h>
#include <cblas.h>

#include "infer_int.h"

_Static_assert(MLOPS_ACT_CLIP == (int)MLOPS__ACT_CLIP && MLOPS_ACT_GELU == (int)MLOPS__ACT_GELU &&
                   MLOPS_ACT_RELU == (int)MLOPS__ACT_RELU,
               "public and internal activation codes agree");

struct mlops_gemm {
    int32_t precision;
    size_t k, n;
    mlops__qlinear *layer; /* int8 and weight-only int8 */
    float *w;              /* fp32: the weights as given, tightly packed */
    float *bias;           /* fp32: n floats, or NULL */
    int transposed;
    mlops__epilogue epilogue;
    mlops__pool *pool;     /* NULL for one thread */
    void *scratch;         /* int8: grown on first use by mlops_gemm_run */
    size_t scratch_cap;
};

void mlops_gemm_options_init(mlops_gemm_options *options)
{
    if (options == NULL)
        return;
    memset(options, 0, sizeof *options);
    options->version = MLOPS_GEMM_OPTIONS_VERSION;
    options->precision = MLOPS_GEMM_INT8;
    options->activation = MLOPS_ACT_NONE;
    options->alpha = 0.01f;
    options->threads = 1;
}

int mlops_gemm_isa_default(const char **out)
{
    mlops__isa isa;
    int rc;
    if (out == NULL)
        return mlops__error_null("infer", "mlops_gemm_isa_default", "out");
    *out = NULL;
    rc = mlops__isa_select(&isa);
    if (rc == MLOPS_OK)
        *out = mlops__isa_name(isa);
    return rc;
}

static int check_options(const mlops_gemm_options *options)
{
    if (options->version != MLOPS_GEMM_OPTIONS_VERSION)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm options: version %u is not %u",
                            (unsigned)options->version, (unsigned)MLOPS_GEMM_OPTIONS_VERSION);
    if (options->precision < MLOPS_GEMM_INT8 || options->precision > MLOPS_GEMM_INT8_WEIGHTS)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm options: unknown precision %d", (int)options->precision);
    if (options->activation < MLOPS_ACT_NONE || options->activation > MLOPS_ACT_CLIP)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm options: unknown activation %d", (int)options->activation);
    if (options->threads < 1 || options->threads > 256)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm options: threads %d is outside [1, 256]",
                            (int)options->threads);
    if (options->transposed != 0 && options->transposed != 1)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm options: transposed must be 0 or 1");
    return MLOPS_OK;
}

/* fp32: keep a tight copy of the weights (and bias) for BLAS. */
static int pack_fp32(mlops_gemm *gemm, const float *w, size_t ldw, const float *bias)
{
    size_t rows = gemm->transposed ? gemm->n : gemm->k, cols = gemm->transposed ? gemm->k : gemm->n, r;
    if (ldw < cols)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm: leading dimension %zu is below %zu", ldw, cols);
    if (gemm->k > INT_MAX || gemm->n > INT_MAX || rows > SIZE_MAX / sizeof(float) / cols)
        return mlops__error(MLOPS_ELIMIT, "infer", "gemm: %zu x %zu weights exceed the BLAS limits", gemm->k,
                            gemm->n);
    gemm->w = mlops__malloc(rows * cols * sizeof(float));
    if (gemm->w == NULL)
        return mlops__error(MLOPS_ENOMEM, "infer", "gemm: out of memory copying %zu x %zu weights", gemm->k,
                            gemm->n);
    for (r = 0; r < rows; r++)
        memcpy(gemm->w + r * cols, w + r * ldw, cols * sizeof(float));
    if (bias != NULL) {
        gemm->bias = mlops__malloc(gemm->n * sizeof(float));
        if (gemm->bias == NULL)
            return mlops__error(MLOPS_ENOMEM, "infer", "gemm: out of memory copying the bias");
        memcpy(gemm->bias, bias, gemm->n * sizeof(float));
    }
    return MLOPS_OK;
}

int mlops_gemm_pack(mlops_gemm **out, const float *w, size_t k, size_t n, size_t ldw, const float *bias,
                    const mlops_gemm_options *options)
{
    mlops_gemm_options defaults;
    mlops_gemm *gemm;
    mlops__isa isa = MLOPS__ISA_REF;
    int rc;
    if (out == NULL)
        return mlops__error_null("infer", "mlops_gemm_pack", "out");
    *out = NULL;
    if (w == NULL)
        return mlops__error_null("infer", "mlops_gemm_pack", "w");
    if (options == NULL) {
        mlops_gemm_options_init(&defaults);
        options = &defaults;
    }
    rc = check_options(options);
    if (rc != MLOPS_OK)
        return rc;
    if (k == 0 || n == 0)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm: empty weight matrix (%zu x %zu)", k, n);
    if (options->precision != MLOPS_GEMM_FP32) {
        rc = options->isa != NULL ? mlops__isa_parse(&isa, options->isa, "gemm options") : mlops__isa_select(&isa);
        if (rc != MLOPS_OK)
            return rc;
    }
    gemm = mlops__calloc(1, sizeof *gemm);
    if (gemm == NULL)
        return mlops__error(MLOPS_ENOMEM, "infer", "gemm: out of memory");
    gemm->precision = options->precision;
    gemm->k = k;
    gemm->n = n;
    gemm->transposed = options->transposed;
    gemm->epilogue.act = (mlops__act)options->activation;
    gemm->epilogue.alpha = options->alpha;
    gemm->epilogue.beta = options->beta;
    if (options->precision == MLOPS_GEMM_FP32)
        rc = pack_fp32(gemm, w, ldw, bias);
    else
        rc = mlops__qlinear_pack(&gemm->layer, w, k, n, ldw, options->transposed, bias, gemm->epilogue, isa);
    if (rc == MLOPS_OK && options->threads > 1 && options->precision != MLOPS_GEMM_FP32)
        rc = mlops__pool_create(&gemm->pool, (size_t)options->threads);
    if (rc != MLOPS_OK) {
        mlops_gemm_free(gemm);
        return rc;
    }
    *out = gemm;
    return MLOPS_OK;
}

void mlops_gemm_free(mlops_gemm *gemm)
{
    if (gemm == NULL)
        return;
    mlops__pool_free(gemm->pool);
    mlops__qlinear_free(gemm->layer);
    mlops__free(gemm->w);
    mlops__free(gemm->bias);
    mlops__free(gemm->scratch);
    mlops__free(gemm);
}

const char *mlops_gemm_kernel(const mlops_gemm *gemm)
{
    if (gemm == NULL)
        return "none";
    if (gemm->precision == MLOPS_GEMM_FP32)
        return "blas";
    return mlops__isa_name(gemm->layer->isa);
}

size_t mlops_gemm_scratch_bytes(const mlops_gemm *gemm, size_t m)
{
    if (gemm == NULL || gemm->precision != MLOPS_GEMM_INT8)
        return 0;
    return mlops__qlinear_scratch_bytes(gemm->layer, m);
}

/* fp32: BLAS product, then bias and activation row by row. */
static int run_fp32(const mlops_gemm *gemm, const float *x, size_t m, size_t ldx, float *y, size_t ldy)
{
    size_t i, j;
    if (ldx < gemm->k || ldy < gemm->n || ldx > INT_MAX || ldy > INT_MAX || m > INT_MAX)
        return mlops__error(MLOPS_EINVAL, "infer", "gemm: leading dimensions %zu (x) and %zu (y) must be in [%zu, "
                            "%d] and [%zu, %d]", ldx, ldy, gemm->k, INT_MAX, gemm->n, INT_MAX);
    if (m == 1)
        cblas_sgemv(CblasRowMajor, gemm->transposed ? CblasNoTrans : CblasTrans,
                    (blasint)(gemm->transposed ? gemm->n : gemm->k), (blasint)(gemm->transposed ? gemm->k : gemm->n),
                    1.0f, gemm->w, (blasint)(gemm->transposed ? gemm->k : gemm->n), x, 1, 0.0f, y, 1);
    else
        cblas_sgemm(CblasRowMajor, CblasNoTrans, gemm->transposed ? CblasTrans : CblasNoTrans, (blasint)m,
                    (blasint)gemm->n, (blasint)gemm->k, 1.0f, x, (blasint)ldx, gemm->w,
                    (blasint)(gemm->transposed ? gemm->k : gemm->n), 0.0f, y, (blasint)ldy);
    for (i = 0; i < m; i++) {
        float *row = y + i * ldy;
        if (gemm->bias != NULL)
            for (j = 0; j < gemm->n; j++)
                row[j] += gemm->bias[j];
        if (gemm->epilogue.act != MLOPS__ACT_NONE)
            mlops__act_row(&gemm->epilogue, row, gemm->n);
    }
    return MLOPS_OK;
}

static int run_common(const mlops_gemm *gemm, mlops__pool *pool, const float *x, size_t m, size_t ldx, float *y,
                      size_t ldy, void *scratch)
{
    if (m > 0 && x == NULL)
        return mlops__error_null("infer", "mlops_gemm_run", "x");
    if (m > 0 && y == NULL)
        return mlops__error_null("infer", "mlops_gemm_run", "y");
    if (m == 0)
        return MLOPS_OK;
    switch (gemm->precision) {
    case MLOPS_GEMM_FP32:
        return run_fp32(gemm, x, m, ldx, y, ldy);
    case MLOPS_GEMM_INT8_WEIGHTS:
        return mlops__qlinear_run_w8(gemm->layer, pool, x, m, ldx, y, ldy);
    default:
        return mlops__qlinear_run_pool(gemm->layer, pool, x, m, ldx, y, ldy, scratch);
    }
}

int mlops_gemm_run(mlops_gemm *gemm, const float *x, size_t m, size_t ldx, float *y, size_t ldy)
{
    size_t need;
    if (gemm == NULL)
        return mlops__error_null("infer", "mlops_gemm_run", "gemm");
    need = mlops_gemm_scratch_bytes(gemm, m);
    if (need > gemm->scratch_cap) {
        void *grown = mlops__realloc(gemm->scratch, need);
        if (grown == NULL)
            return mlops__error(MLOPS_ENOMEM, "infer", "gemm: out of memory for %zu bytes of scratch", need);
        gemm->scratch = grown;
        gemm->scratch_cap = need;
    }
    return run_common(gemm, gemm->pool, x, m, ldx, y, ldy, gemm->scratch);
}

int mlops_gemm_run_scratch(const mlops_gemm *gemm, const float *x, size_t m, size_t ldx, float *y, size_t ldy,
                           void *scratch, size_t scratch_bytes)
{
    size_t need;
    if (gemm == NULL)
        return mlops__error_null("infer", "mlops_gemm_run_scratch", "gemm");
    need = mlops_gemm_scratch_bytes(gemm, m);
    if (need > 0 && scratch == NULL)
        return mlops__error_null("infer", "mlops_gemm_run_scratch", "scratch");
    if (scratch_bytes < need)
        return mlops__error(MLOPS_EBUFSIZE, "infer", "gemm: scratch of %zu bytes is below the %zu needed for %zu rows",
                            scratch_bytes, need, m);
    return run_common(gemm, NULL, x, m, ldx, y, ldy, scratch);
}
