/*
 * Streaming profiles: construction from a JSON specification or a frame,
 * allocation-free numeric updates (blocks of values: counters, min/max,
 * Welford within the block and Chan's formula across blocks, histogram on
 * fixed edges, small-domain table, optional KLL and HyperLogLog),
 * categorical updates, merging, queries and a JSON description.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "profile_int.h"

#define SUB "drift"
#define BLOCK 256

static const char *const spec_keys[] = {"columns", "quantile_k", "category_cap", "hll_bits", "quantiles",
                                        "distinct", "seed", NULL};
static const char *const column_keys[] = {"name", "kind", "edges", NULL};

static void pcol_free(mlops__pcol *c)
{
    mlops__free(c->name);
    mlops__free(c->edges);
    mlops__free(c->hist);
    if (c->has_kll)
        mlops__kll_free(&c->kll);
    mlops__free(c->hll);
    if (c->has_freq)
        mlops__freq_free(&c->freq);
    memset(c, 0, sizeof *c);
}

void mlops_profile_free(mlops_profile *profile)
{
    size_t i;
    if (!profile)
        return;
    for (i = 0; i < profile->ncols; i++)
        pcol_free(&profile->cols[i]);
    mlops__free(profile->cols);
    mlops__free(profile);
}

int mlops__profile_build(mlops_profile **out, uint32_t quantile_k, uint32_t category_cap, uint32_t hll_bits,
                         int32_t quantiles, int32_t distinct, uint64_t seed, const mlops__pcol_spec *cols,
                         size_t ncols)
{
    mlops_profile *p;
    size_t i, j;
    int rc = MLOPS_OK;
    *out = NULL;
    p = mlops__calloc(1, sizeof *p);
    if (!p || !(p->cols = mlops__calloc(ncols ? ncols : 1, sizeof *p->cols))) {
        mlops__free(p);
        return mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
    }
    p->quantile_k = quantile_k;
    p->category_cap = category_cap;
    p->hll_bits = hll_bits;
    p->quantiles = quantiles;
    p->distinct = distinct;
    p->seed = seed;
    p->ncols = ncols;
    for (i = 0; i < ncols && rc == MLOPS_OK; i++) {
        mlops__pcol *c = &p->cols[i];
        for (j = 0; j < i; j++)
            if (strcmp(cols[j].name, cols[i].name) == 0) {
                rc = mlops__error(MLOPS_EINVAL, SUB, "profile column \"%s\": duplicate name", cols[i].name);
                goto out_fail;
            }
        c->kind = cols[i].kind;
        c->min = INFINITY;
        c->max = -INFINITY;
        if (!(c->name = mlops__strdup(cols[i].name)))
            goto out_nomem;
        if (c->kind == MLOPS_COLUMN_NUMERIC) {
            if (cols[i].nedges) {
                c->nedges = cols[i].nedges;
                c->edges = mlops__malloc(sizeof(double) * c->nedges);
                c->hist = mlops__calloc(c->nedges - 1, sizeof(uint64_t));
                if (!c->edges || !c->hist)
                    goto out_nomem;
                memcpy(c->edges, cols[i].edges, sizeof(double) * c->nedges);
            }
            if (quantiles) {
                if ((rc = mlops__kll_init(&c->kll, quantile_k, mlops__mix64(seed ^ (i + 1)))))
                    goto out_fail;
                c->has_kll = 1;
            }
        } else {
            c->small_n = MLOPS__SMALL_OFF;
            if ((rc = mlops__freq_init(&c->freq, category_cap)))
                goto out_fail;
            c->has_freq = 1;
        }
        if (distinct && !(c->hll = mlops__calloc((size_t)1 << hll_bits, 1)))
            goto out_nomem;
    }
    *out = p;
    return MLOPS_OK;
out_nomem:
    rc = mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
out_fail:
    mlops_profile_free(p);
    return rc;
}

/* Settings shared by the JSON constructors; absent keys keep the defaults. */
static int read_settings(const mlops__json *doc, uint32_t *k, uint32_t *cap, uint32_t *bits, int32_t *quantiles,
                         int32_t *distinct, uint64_t *seed)
{
    int64_t v;
    int b;
    int rc;
    v = *k;
    if ((rc = mlops__json_opt_int(&v, doc, "quantile_k", "$", SUB, 8, 65535)))
        return rc;
    *k = (uint32_t)v;
    v = *cap;
    if ((rc = mlops__json_opt_int(&v, doc, "category_cap", "$", SUB, 1, 1048576)))
        return rc;
    *cap = (uint32_t)v;
    v = *bits;
    if ((rc = mlops__json_opt_int(&v, doc, "hll_bits", "$", SUB, 4, 18)))
        return rc;
    *bits = (uint32_t)v;
    b = *quantiles;
    if ((rc = mlops__json_opt_bool(&b, doc, "quantiles", "$", SUB)))
        return rc;
    *quantiles = b;
    b = *distinct;
    if ((rc = mlops__json_opt_bool(&b, doc, "distinct", "$", SUB)))
        return rc;
    *distinct = b;
    v = (int64_t)*seed;
    if ((rc = mlops__json_opt_int(&v, doc, "seed", "$", SUB, 0, INT64_MAX)))
        return rc;
    *seed = (uint64_t)v;
    return MLOPS_OK;
}

#define DEFAULT_K 200
#define DEFAULT_CAP 1024
#define DEFAULT_BITS 12

int mlops_profile_new(mlops_profile **out, const char *spec_json)
{
    mlops__json *doc = NULL, *cols;
    mlops__pcol_spec *specs = NULL;
    double *edges = NULL;
    size_t n, i, total_edges = 0, used = 0;
    uint32_t k = DEFAULT_K, cap = DEFAULT_CAP, bits = DEFAULT_BITS;
    int32_t quantiles = 1, distinct = 1;
    uint64_t seed = 0;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_new", "out");
    *out = NULL;
    if (!spec_json)
        return mlops__error_null(SUB, "mlops_profile_new", "spec_json");
    if ((rc = mlops__json_parse(&doc, spec_json, SUB, "profile specification")))
        return rc;
    if ((rc = mlops__json_check_keys(doc, "$", SUB, spec_keys)) ||
        (rc = read_settings(doc, &k, &cap, &bits, &quantiles, &distinct, &seed)))
        goto out_free_doc;
    cols = mlops__json_get(doc, "columns");
    if (!cols || !mlops__json_is_array(cols) || mlops__json_array_size(cols) == 0) {
        rc = mlops__error(MLOPS_EFORMAT, SUB, "$.columns: expected a non-empty array of columns");
        goto out_free_doc;
    }
    n = mlops__json_array_size(cols);
    for (i = 0; i < n; i++) {
        mlops__json *e = mlops__json_get(mlops__json_at(cols, i), "edges");
        if (e && mlops__json_is_array(e))
            total_edges += mlops__json_array_size(e);
    }
    specs = mlops__calloc(n, sizeof *specs);
    edges = mlops__calloc(total_edges ? total_edges : 1, sizeof *edges);
    if (!specs || !edges) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
        goto out_free_doc;
    }
    for (i = 0; i < n; i++) {
        mlops__json *col = mlops__json_at(cols, i), *e;
        const char *name = NULL, *kind = NULL;
        char path[48];
        snprintf(path, sizeof path, "$.columns[%zu]", i);
        if ((rc = mlops__json_check_keys(col, path, SUB, column_keys)) ||
            (rc = mlops__json_opt_string(&name, col, "name", path, SUB)) ||
            (rc = mlops__json_opt_string(&kind, col, "kind", path, SUB)))
            goto out_free_doc;
        if (!name || !*name) {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "%s.name: expected a non-empty string", path);
            goto out_free_doc;
        }
        if (!kind || (strcmp(kind, "numeric") != 0 && strcmp(kind, "categorical") != 0)) {
            rc = mlops__error(MLOPS_EFORMAT, SUB, "%s.kind: expected \"numeric\" or \"categorical\"", path);
            goto out_free_doc;
        }
        specs[i].name = name;
        specs[i].kind = strcmp(kind, "numeric") == 0 ? MLOPS_COLUMN_NUMERIC : MLOPS_COLUMN_CATEGORICAL;
        e = mlops__json_get(col, "edges");
        if (e) {
            size_t m = mlops__json_array_size(e), j;
            if (!mlops__json_is_array(e) || m < 2 || m > 1000001 || specs[i].kind != MLOPS_COLUMN_NUMERIC) {
                rc = mlops__error(MLOPS_EFORMAT, SUB, "%s.edges: expected 2 or more ascending numbers on a numeric column",
                                  path);
                goto out_free_doc;
            }
            for (j = 0; j < m; j++) {
                mlops__json *x = mlops__json_at(e, j);
                if (!mlops__json_is_number(x) || !isfinite(mlops__json_number(x)) ||
                    (j > 0 && mlops__json_number(x) < edges[used + j - 1])) {
                    rc = mlops__error(MLOPS_EFORMAT, SUB, "%s.edges[%zu]: expected a finite number not below the previous edge",
                                      path, j);
                    goto out_free_doc;
                }
                edges[used + j] = mlops__json_number(x);
            }
            specs[i].edges = edges + used;
            specs[i].nedges = (uint32_t)m;
            used += m;
        }
    }
    rc = mlops__profile_build(out, k, cap, bits, quantiles, distinct, seed, specs, n);
out_free_doc:
    mlops__free(specs);
    mlops__free(edges);
    mlops__json_free(doc);
    return rc;
}

int mlops_profile_new_for_frame(mlops_profile **out, const mlops_frame *frame, const char *options_json)
{
    static const char *const keys[] = {"quantile_k", "category_cap", "hll_bits", "quantiles", "distinct", "seed",
                                       NULL};
    mlops__json *doc = NULL;
    mlops__pcol_spec *specs = NULL;
    size_t n, i, m = 0;
    uint32_t k = DEFAULT_K, cap = DEFAULT_CAP, bits = DEFAULT_BITS;
    int32_t quantiles = 1, distinct = 1;
    uint64_t seed = 0;
    int rc = MLOPS_OK;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_new_for_frame", "out");
    *out = NULL;
    if (!frame)
        return mlops__error_null(SUB, "mlops_profile_new_for_frame", "frame");
    if (options_json) {
        if ((rc = mlops__json_parse(&doc, options_json, SUB, "profile options")))
            return rc;
        if ((rc = mlops__json_check_keys(doc, "$", SUB, keys)) ||
            (rc = read_settings(doc, &k, &cap, &bits, &quantiles, &distinct, &seed)))
            goto out_free;
    }
    n = mlops_frame_columns(frame);
    specs = mlops__calloc(n ? n : 1, sizeof *specs);
    if (!specs) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
        goto out_free;
    }
    for (i = 0; i < n; i++) {
        int type = mlops_frame_column_type(frame, i);
        if (type == MLOPS_TYPE_FLOAT64 || type == MLOPS_TYPE_INT64)
            specs[m].kind = MLOPS_COLUMN_NUMERIC;
        else if (type == MLOPS_TYPE_STRING || type == MLOPS_TYPE_BOOL)
            specs[m].kind = MLOPS_COLUMN_CATEGORICAL;
        else
            continue;
        specs[m++].name = mlops_frame_column_name(frame, i);
    }
    if (m == 0) {
        rc = mlops__error(MLOPS_EINVAL, SUB, "profile: the frame has no numeric or categorical column");
        goto out_free;
    }
    rc = mlops__profile_build(out, k, cap, bits, quantiles, distinct, seed, specs, m);
out_free:
    mlops__free(specs);
    mlops__json_free(doc);
    return rc;
}

int mlops_profile_new_like(mlops_profile **out, const mlops_profile *profile)
{
    mlops__pcol_spec *specs;
    size_t i;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_new_like", "out");
    *out = NULL;
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_new_like", "profile");
    specs = mlops__calloc(profile->ncols, sizeof *specs);
    if (!specs)
        return mlops__error(MLOPS_ENOMEM, SUB, "profile: out of memory");
    for (i = 0; i < profile->ncols; i++) {
        specs[i].name = profile->cols[i].name;
        specs[i].kind = profile->cols[i].kind;
        specs[i].edges = profile->cols[i].edges;
        specs[i].nedges = profile->cols[i].nedges;
    }
    rc = mlops__profile_build(out, profile->quantile_k, profile->category_cap, profile->hll_bits, profile->quantiles,
                              profile->distinct, profile->seed, specs, profile->ncols);
    mlops__free(specs);
    return rc;
}

size_t mlops_profile_columns(const mlops_profile *profile)
{
    return profile ? profile->ncols : 0;
}

const char *mlops_profile_column_name(const mlops_profile *profile, size_t column)
{
    return profile && column < profile->ncols ? profile->cols[column].name : NULL;
}

int mlops_profile_column_index(size_t *out, const mlops_profile *profile, const char *name)
{
    size_t i;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_column_index", "out");
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_column_index", "profile");
    if (!name)
        return mlops__error_null(SUB, "mlops_profile_column_index", "name");
    for (i = 0; i < profile->ncols; i++)
        if (strcmp(profile->cols[i].name, name) == 0) {
            *out = i;
            return MLOPS_OK;
        }
    return mlops__error(MLOPS_ENOTFOUND, SUB, "profile column \"%s\" not found", name);
}

/* Index of the last edge <= v (0 when v is below every edge), clamped to the last bin. */
static inline uint32_t hist_bin(const double *edges, uint32_t nedges, double v)
{
    const double *base = edges;
    uint32_t len = nedges, idx;
    while (len > 1) {
        uint32_t half = len / 2;
        base = base[half] <= v ? base + half : base;
        len -= half;
    }
    idx = (uint32_t)(base - edges);
    return idx >= nedges - 1 ? nedges - 2 : idx;
}

static inline uint64_t double_hash(double v)
{
    uint64_t bits;
    if (v == 0.0)
        v = 0.0; /* -0 and +0 are one value */
    memcpy(&bits, &v, sizeof bits);
    return mlops__mix64(bits ^ UINT64_C(0x9E3779B97F4A7C15));
}

static void small_add(mlops__pcol *c, double v, uint64_t times)
{
    uint32_t i;
    for (i = 0; i < c->small_n; i++)
        if (c->small_val[i] == v) {
            c->small_cnt[i] += times;
            return;
        }
    if (c->small_n < MLOPS__SMALL_DOMAIN) {
        c->small_val[c->small_n] = v == 0.0 ? 0.0 : v;
        c->small_cnt[c->small_n++] = times;
    } else {
        c->small_n = MLOPS__SMALL_OFF;
    }
}

/* Fold a block's count, mean and squared deviations into the column (Chan et al.). */
static void chan_merge(mlops__pcol *c, uint64_t nb, double mean_b, double m2_b)
{
    double na = (double)c->count, n = na + (double)nb, delta = mean_b - c->mean;
    if (nb == 0)
        return;
    if (c->count == 0) {
        c->mean = mean_b;
        c->m2 = m2_b;
    } else {
        c->mean += delta * ((double)nb / n);
        c->m2 += m2_b + delta * delta * (na * (double)nb / n);
    }
    c->count += nb;
}

static int numeric_update(const mlops_profile *p, mlops__pcol *c, const double *values, const uint8_t *nulls,
                          size_t n)
{
    size_t start, i;
    int rc = MLOPS_OK;
    c->rows += n;
    for (start = 0; start < n; start += BLOCK) {
        size_t end = start + BLOCK < n ? start + BLOCK : n;
        const double *v = values + start;
        size_t len = end - start;
        uint64_t cnt = 0;
        double sum = 0.0, mn = c->min, mx = c->max, mean_b, m2_b = 0.0;
        int clean = 1;
        if (nulls) {
            for (i = 0; i < len; i++)
                clean &= nulls[start + i] == 0;
        }
        for (i = 0; i < len; i++)
            clean &= isfinite(v[i]) != 0;
        if (clean) {
            /* Fast path: every value is a finite number; four partial sums break the add chains. */
            double s4[4] = {0, 0, 0, 0}, q4[4] = {0, 0, 0, 0};
            for (i = 0; i + 4 <= len; i += 4) {
                int j;
                for (j = 0; j < 4; j++) {
                    s4[j] += v[i + j];
                    mn = v[i + j] < mn ? v[i + j] : mn;
                    mx = v[i + j] > mx ? v[i + j] : mx;
                }
            }
            for (; i < len; i++) {
                s4[0] += v[i];
                mn = v[i] < mn ? v[i] : mn;
                mx = v[i] > mx ? v[i] : mx;
            }
            sum = (s4[0] + s4[1]) + (s4[2] + s4[3]);
            cnt = len;
            mean_b = sum / (double)cnt;
            for (i = 0; i + 4 <= len; i += 4) {
                int j;
                for (j = 0; j < 4; j++)
                    q4[j] += (v[i + j] - mean_b) * (v[i + j] - mean_b);
            }
            for (; i < len; i++)
                q4[0] += (v[i] - mean_b) * (v[i] - mean_b);
            m2_b = (q4[0] + q4[1]) + (q4[2] + q4[3]);
            if (c->nedges)
                for (i = 0; i < len; i++)
                    c->hist[hist_bin(c->edges, c->nedges, v[i])]++;
        } else {
            for (i = 0; i < len; i++) {
                double x = v[i];
                if (nulls && nulls[start + i]) {
                    c->nulls++;
                } else if (isnan(x)) {
                    c->nans++;
                } else if (isinf(x)) {
                    c->infs++;
                } else {
                    cnt++;
                    sum += x;
                    mn = x < mn ? x : mn;
                    mx = x > mx ? x : mx;
                    if (c->nedges)
                        c->hist[hist_bin(c->edges, c->nedges, x)]++;
                }
            }
            if (cnt == 0)
                continue;
            mean_b = sum / (double)cnt;
            for (i = 0; i < len; i++)
                if (!(nulls && nulls[start + i]) && isfinite(v[i]))
                    m2_b += (v[i] - mean_b) * (v[i] - mean_b);
        }
        c->min = mn;
        c->max = mx;
        chan_merge(c, cnt, mean_b, m2_b);
        if (c->small_n != MLOPS__SMALL_OFF || c->has_kll || c->hll) {
            for (i = 0; i < len && rc == MLOPS_OK; i++) {
                double x = v[i];
                if ((nulls && nulls[start + i]) || !isfinite(x))
                    continue;
                if (c->small_n != MLOPS__SMALL_OFF)
                    small_add(c, x, 1);
                if (c->has_kll)
                    rc = mlops__kll_update(&c->kll, x);
                if (c->hll)
                    mlops__hll_add_hash(c->hll, p->hll_bits, double_hash(x));
            }
        }
        if (rc)
            return rc;
    }
    return MLOPS_OK;
}

int mlops__pcol_add_category(const mlops_profile *p, mlops__pcol *c, const char *text, size_t len)
{
    uint64_t h = mlops__freq_hash(text, len);
    c->rows++;
    c->count++;
    if (c->hll)
        mlops__hll_add_hash(c->hll, p->hll_bits, mlops__mix64(h));
    return mlops__freq_add(&c->freq, text, len, h);
}

static int check_column(const char *fn, const mlops_profile *profile, size_t column, int32_t kind)
{
    if (!profile)
        return mlops__error_null(SUB, fn, "profile");
    if (column >= profile->ncols)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: column %zu out of range (%zu columns)", fn, column, profile->ncols);
    if (kind && profile->cols[column].kind != kind)
        return mlops__error(MLOPS_EINVAL, SUB, "%s: profile column \"%s\" is not %s", fn, profile->cols[column].name,
                            kind == MLOPS_COLUMN_NUMERIC ? "numeric" : "categorical");
    return MLOPS_OK;
}

int mlops_profile_update_float64(mlops_profile *profile, size_t column, const double *values, const uint8_t *nulls,
                                 size_t n)
{
    int rc;
    if ((rc = check_column("mlops_profile_update_float64", profile, column, MLOPS_COLUMN_NUMERIC)))
        return rc;
    if (!values && n)
        return mlops__error_null(SUB, "mlops_profile_update_float64", "values");
    return numeric_update(profile, &profile->cols[column], values, nulls, n);
}

int mlops_profile_update_strings(mlops_profile *profile, size_t column, const char *const *values, size_t n)
{
    mlops__pcol *c;
    size_t i;
    int rc;
    if ((rc = check_column("mlops_profile_update_strings", profile, column, MLOPS_COLUMN_CATEGORICAL)))
        return rc;
    if (!values && n)
        return mlops__error_null(SUB, "mlops_profile_update_strings", "values");
    c = &profile->cols[column];
    for (i = 0; i < n; i++) {
        if (!values[i]) {
            c->rows++;
            c->nulls++;
        } else if ((rc = mlops__pcol_add_category(profile, c, values[i], strlen(values[i])))) {
            return rc;
        }
    }
    return MLOPS_OK;
}

int mlops_profile_update_matrix(mlops_profile *profile, const float *matrix, size_t rows, size_t width)
{
    double buf[BLOCK];
    size_t j, r0, i;
    int rc;
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_update_matrix", "profile");
    if (!matrix && rows)
        return mlops__error_null(SUB, "mlops_profile_update_matrix", "matrix");
    if (width != profile->ncols)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_profile_update_matrix: width %zu but the profile has %zu columns",
                            width, profile->ncols);
    for (j = 0; j < width; j++)
        if (profile->cols[j].kind != MLOPS_COLUMN_NUMERIC)
            return mlops__error(MLOPS_EINVAL, SUB, "mlops_profile_update_matrix: profile column \"%s\" is not numeric",
                                profile->cols[j].name);
    for (r0 = 0; r0 < rows; r0 += BLOCK) {
        size_t len = rows - r0 < BLOCK ? rows - r0 : BLOCK;
        for (j = 0; j < width; j++) {
            for (i = 0; i < len; i++)
                buf[i] = (double)matrix[(r0 + i) * width + j];
            if ((rc = numeric_update(profile, &profile->cols[j], buf, NULL, len)))
                return rc;
        }
    }
    return MLOPS_OK;
}

/* Feed one profile column from frame column `fc`, whose type mlops_profile_update_frame() checked. */
static int update_from_frame_column(mlops_profile *p, mlops__pcol *c, const mlops_frame *frame, size_t fc)
{
    int type = mlops_frame_column_type(frame, fc), rc = MLOPS_OK;
    size_t rows = mlops_frame_rows(frame), r0, i;
    const uint8_t *nulls = NULL;
    if ((rc = mlops_frame_column_nulls(&nulls, frame, fc)))
        return rc;
    if (c->kind == MLOPS_COLUMN_NUMERIC) {
        double buf[BLOCK];
        if (type == MLOPS_TYPE_FLOAT64) {
            const double *v = NULL;
            if ((rc = mlops_frame_column_float64(&v, frame, fc)))
                return rc;
            return numeric_update(p, c, v, nulls, rows);
        }
        for (r0 = 0; r0 < rows && rc == MLOPS_OK; r0 += BLOCK) {
            size_t len = rows - r0 < BLOCK ? rows - r0 : BLOCK;
            if (type == MLOPS_TYPE_INT64) {
                const int64_t *v = NULL;
                if ((rc = mlops_frame_column_int64(&v, frame, fc)))
                    return rc;
                for (i = 0; i < len; i++)
                    buf[i] = (double)v[r0 + i];
            } else {
                const uint8_t *v = NULL;
                if ((rc = mlops_frame_column_bool(&v, frame, fc)))
                    return rc;
                for (i = 0; i < len; i++)
                    buf[i] = v[r0 + i] ? 1.0 : 0.0;
            }
            rc = numeric_update(p, c, buf, nulls + r0, len);
        }
        return rc;
    }
    for (i = 0; i < rows && rc == MLOPS_OK; i++) {
        char text[32];
        const char *s = text;
        size_t len;
        if (nulls[i]) {
            c->rows++;
            c->nulls++;
            continue;
        }
        if (type == MLOPS_TYPE_STRING) {
            if ((rc = mlops_frame_get_string(&s, &len, frame, fc, i)) != MLOPS_OK)
                return rc;
        } else if (type == MLOPS_TYPE_BOOL) {
            int32_t b = 0;
            mlops_frame_get_bool(&b, frame, fc, i);
            s = b ? "true" : "false";
            len = strlen(s);
        } else { /* INT64, checked by the caller */
            int64_t v = 0;
            mlops_frame_get_int64(&v, frame, fc, i);
            len = (size_t)snprintf(text, sizeof text, "%lld", (long long)v);
        }
        rc = mlops__pcol_add_category(p, c, s, len);
    }
    return rc;
}

int mlops_profile_update_frame(mlops_profile *profile, const mlops_frame *frame)
{
    size_t i, fc;
    int rc;
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_update_frame", "profile");
    if (!frame)
        return mlops__error_null(SUB, "mlops_profile_update_frame", "frame");
    /* Check every column first so that a refused frame changes nothing. */
    for (i = 0; i < profile->ncols; i++) {
        int type, ok;
        if (mlops_frame_column_index(&fc, frame, profile->cols[i].name) != MLOPS_OK)
            return mlops__error(MLOPS_ENOTFOUND, SUB, "profile column \"%s\": not in the frame", profile->cols[i].name);
        type = mlops_frame_column_type(frame, fc);
        ok = profile->cols[i].kind == MLOPS_COLUMN_NUMERIC
                 ? (type == MLOPS_TYPE_FLOAT64 || type == MLOPS_TYPE_INT64 || type == MLOPS_TYPE_BOOL)
                 : (type == MLOPS_TYPE_STRING || type == MLOPS_TYPE_INT64 || type == MLOPS_TYPE_BOOL);
        if (!ok)
            return mlops__error(MLOPS_EINVAL, SUB, "profile column \"%s\": frame column type %d does not fit a %s column",
                                profile->cols[i].name, type,
                                profile->cols[i].kind == MLOPS_COLUMN_NUMERIC ? "numeric" : "categorical");
    }
    for (i = 0; i < profile->ncols; i++) {
        mlops_frame_column_index(&fc, frame, profile->cols[i].name);
        if ((rc = update_from_frame_column(profile, &profile->cols[i], frame, fc)))
            return rc;
    }
    return MLOPS_OK;
}

static int same_spec(const mlops_profile *a, const mlops_profile *b)
{
    size_t i;
    if (a->quantile_k != b->quantile_k || a->category_cap != b->category_cap || a->hll_bits != b->hll_bits ||
        a->quantiles != b->quantiles || a->distinct != b->distinct || a->ncols != b->ncols)
        return 0;
    for (i = 0; i < a->ncols; i++) {
        const mlops__pcol *x = &a->cols[i], *y = &b->cols[i];
        if (strcmp(x->name, y->name) != 0 || x->kind != y->kind || x->nedges != y->nedges ||
            (x->nedges && memcmp(x->edges, y->edges, sizeof(double) * x->nedges) != 0))
            return 0;
    }
    return 1;
}

int mlops_profile_merge(mlops_profile *into, const mlops_profile *from)
{
    size_t i, b;
    int rc = MLOPS_OK;
    if (!into)
        return mlops__error_null(SUB, "mlops_profile_merge", "into");
    if (!from)
        return mlops__error_null(SUB, "mlops_profile_merge", "from");
    if (into == from)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_profile_merge: a profile cannot be merged into itself");
    if (!same_spec(into, from))
        return mlops__error(MLOPS_EINVAL, SUB,
                            "mlops_profile_merge: the profiles have different specifications (columns, edges or sketch settings)");
    for (i = 0; i < into->ncols && rc == MLOPS_OK; i++) {
        mlops__pcol *c = &into->cols[i];
        const mlops__pcol *o = &from->cols[i];
        c->rows += o->rows;
        c->nulls += o->nulls;
        c->nans += o->nans;
        c->infs += o->infs;
        if (c->kind == MLOPS_COLUMN_NUMERIC) {
            c->min = fmin(c->min, o->min);
            c->max = fmax(c->max, o->max);
            chan_merge(c, o->count, o->mean, o->m2);
            if (c->small_n != MLOPS__SMALL_OFF && o->small_n == MLOPS__SMALL_OFF)
                c->small_n = MLOPS__SMALL_OFF;
            for (b = 0; c->small_n != MLOPS__SMALL_OFF && b < o->small_n; b++)
                small_add(c, o->small_val[b], o->small_cnt[b]);
            for (b = 0; b + 1 < c->nedges; b++)
                c->hist[b] += o->hist[b];
            if (c->has_kll)
                rc = mlops__kll_merge(&c->kll, &o->kll);
        } else {
            c->count += o->count;
            rc = mlops__freq_merge(&c->freq, &o->freq);
        }
        if (c->hll)
            for (b = 0; b < ((size_t)1 << into->hll_bits); b++)
                c->hll[b] = o->hll[b] > c->hll[b] ? o->hll[b] : c->hll[b];
    }
    return rc;
}

int mlops_profile_column_stats(mlops_column_stats *out, const mlops_profile *profile, size_t column)
{
    const mlops__pcol *c;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_column_stats", "out");
    if ((rc = check_column("mlops_profile_column_stats", profile, column, 0)))
        return rc;
    c = &profile->cols[column];
    memset(out, 0, sizeof *out);
    out->kind = c->kind;
    out->rows = c->rows;
    out->count = c->count;
    out->nulls = c->nulls;
    out->nans = c->nans;
    out->infs = c->infs;
    out->min = out->max = out->mean = out->variance = NAN;
    out->rank_error = NAN;
    out->distinct = NAN;
    if (c->kind == MLOPS_COLUMN_NUMERIC && c->count) {
        out->min = c->min;
        out->max = c->max;
        out->mean = c->mean;
        out->variance = c->m2 / (double)c->count;
    }
    if (c->has_kll) {
        /* Exact until the first compaction; then KLL's 5 / k, never above the tracked worst case. */
        double worst = c->kll.n ? (double)c->kll.compacted_weight / (double)c->kll.n : 0.0;
        out->rank_error = fmin(worst, 5.0 / (double)profile->quantile_k);
    }
    if (c->hll) {
        out->distinct = mlops__hll_estimate(c->hll, profile->hll_bits);
        out->distinct_rse = 1.04 / sqrt((double)(1u << profile->hll_bits));
    }
    if (c->has_freq) {
        out->categories = c->freq.len;
        out->frequency_error = mlops__freq_error(&c->freq);
    }
    return MLOPS_OK;
}

static int quantile_view(mlops__kll_view *view, const char *fn, const mlops_profile *profile, size_t column)
{
    int rc;
    if ((rc = check_column(fn, profile, column, MLOPS_COLUMN_NUMERIC)))
        return rc;
    if (!profile->cols[column].has_kll)
        return mlops__error(MLOPS_ESTATE, SUB, "%s: quantiles are disabled in this profile", fn);
    if (profile->cols[column].kll.n == 0)
        return mlops__error(MLOPS_ESTATE, SUB, "%s: profile column \"%s\" has no value yet", fn,
                            profile->cols[column].name);
    return mlops__kll_sorted(view, &profile->cols[column].kll);
}

int mlops_profile_quantile(double *out, const mlops_profile *profile, size_t column, double q)
{
    mlops__kll_view view;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_quantile", "out");
    if (!(q >= 0.0 && q <= 1.0))
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_profile_quantile: q %g outside [0, 1]", q);
    if ((rc = quantile_view(&view, "mlops_profile_quantile", profile, column)))
        return rc;
    *out = mlops__kll_view_quantile(&view, q);
    mlops__kll_view_free(&view);
    return MLOPS_OK;
}

int mlops_profile_rank(double *out, const mlops_profile *profile, size_t column, double x)
{
    mlops__kll_view view;
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_rank", "out");
    if ((rc = quantile_view(&view, "mlops_profile_rank", profile, column)))
        return rc;
    *out = mlops__kll_view_rank(&view, x);
    mlops__kll_view_free(&view);
    return MLOPS_OK;
}

int mlops_profile_histogram(uint64_t *counts, size_t capacity, size_t *bins_out, const mlops_profile *profile,
                            size_t column)
{
    const mlops__pcol *c;
    size_t bins;
    int rc;
    if (!bins_out)
        return mlops__error_null(SUB, "mlops_profile_histogram", "bins_out");
    if ((rc = check_column("mlops_profile_histogram", profile, column, MLOPS_COLUMN_NUMERIC)))
        return rc;
    c = &profile->cols[column];
    bins = c->nedges ? c->nedges - 1 : 0;
    *bins_out = bins;
    if (bins == 0)
        return mlops__error(MLOPS_ESTATE, SUB, "mlops_profile_histogram: profile column \"%s\" has no edges", c->name);
    if (!counts || capacity < bins)
        return mlops__error(MLOPS_EBUFSIZE, SUB, "mlops_profile_histogram: capacity %zu below the %zu bins", capacity,
                            bins);
    memcpy(counts, c->hist, sizeof(uint64_t) * bins);
    return MLOPS_OK;
}

int mlops_profile_category_count(uint64_t *out, const mlops_profile *profile, size_t column, const char *category)
{
    int rc;
    if (!out)
        return mlops__error_null(SUB, "mlops_profile_category_count", "out");
    if (!category)
        return mlops__error_null(SUB, "mlops_profile_category_count", "category");
    if ((rc = check_column("mlops_profile_category_count", profile, column, MLOPS_COLUMN_CATEGORICAL)))
        return rc;
    *out = mlops__freq_get(&profile->cols[column].freq, category, strlen(category));
    return MLOPS_OK;
}

int mlops_profile_describe(char **json_out, const mlops_profile *profile)
{
    static const double qs[] = {0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99};
    mlops__buf b;
    size_t i, j;
    int rc = MLOPS_OK;
    if (!json_out)
        return mlops__error_null(SUB, "mlops_profile_describe", "json_out");
    *json_out = NULL;
    if (!profile)
        return mlops__error_null(SUB, "mlops_profile_describe", "profile");
    mlops__buf_init(&b);
    mlops__buf_printf(&b, "{\"quantile_k\":%u,\"category_cap\":%u,\"hll_bits\":%u,\"quantiles\":%s,\"distinct\":%s,"
                          "\"columns\":[",
                      profile->quantile_k, profile->category_cap, profile->hll_bits,
                      profile->quantiles ? "true" : "false", profile->distinct ? "true" : "false");
    for (i = 0; i < profile->ncols && rc == MLOPS_OK; i++) {
        const mlops__pcol *c = &profile->cols[i];
        mlops_column_stats st;
        mlops_profile_column_stats(&st, profile, i);
        mlops__buf_puts(&b, i ? ",{\"name\":" : "{\"name\":");
        mlops__buf_json_string(&b, c->name);
        mlops__buf_printf(&b, ",\"kind\":\"%s\",\"rows\":%llu,\"count\":%llu,\"nulls\":%llu,\"nans\":%llu,\"infs\":%llu",
                          c->kind == MLOPS_COLUMN_NUMERIC ? "numeric" : "categorical", (unsigned long long)c->rows,
                          (unsigned long long)c->count, (unsigned long long)c->nulls, (unsigned long long)c->nans,
                          (unsigned long long)c->infs);
        mlops__buf_puts(&b, ",\"distinct\":");
        mlops__buf_json_double(&b, st.distinct);
        if (c->kind == MLOPS_COLUMN_NUMERIC) {
            mlops__buf_puts(&b, ",\"min\":");
            mlops__buf_json_double(&b, st.min);
            mlops__buf_puts(&b, ",\"max\":");
            mlops__buf_json_double(&b, st.max);
            mlops__buf_puts(&b, ",\"mean\":");
            mlops__buf_json_double(&b, st.mean);
            mlops__buf_puts(&b, ",\"variance\":");
            mlops__buf_json_double(&b, st.variance);
            if (c->has_kll && c->kll.n) {
                mlops__kll_view view;
                if ((rc = mlops__kll_sorted(&view, &c->kll)))
                    break;
                mlops__buf_puts(&b, ",\"quantiles\":{");
                for (j = 0; j < sizeof qs / sizeof qs[0]; j++) {
                    mlops__buf_printf(&b, "%s\"%g\":", j ? "," : "", qs[j]);
                    mlops__buf_json_double(&b, mlops__kll_view_quantile(&view, qs[j]));
                }
                mlops__buf_puts(&b, "},\"rank_error\":");
                mlops__buf_json_double(&b, st.rank_error);
                mlops__kll_view_free(&view);
            }
            if (c->nedges) {
                mlops__buf_puts(&b, ",\"histogram\":{\"edges\":[");
                for (j = 0; j < c->nedges; j++) {
                    if (j)
                        mlops__buf_putc(&b, ',');
                    mlops__buf_json_double(&b, c->edges[j]);
                }
                mlops__buf_puts(&b, "],\"counts\":[");
                for (j = 0; j + 1 < c->nedges; j++)
                    mlops__buf_printf(&b, "%s%llu", j ? "," : "", (unsigned long long)c->hist[j]);
                mlops__buf_puts(&b, "]}");
            }
        } else {
            mlops__buf_puts(&b, ",\"categories\":{");
            for (j = 0; j < c->freq.len; j++) {
                if (j)
                    mlops__buf_putc(&b, ',');
                mlops__buf_json_string(&b, c->freq.key[j]);
                mlops__buf_printf(&b, ":%llu", (unsigned long long)c->freq.count[j]);
            }
            mlops__buf_puts(&b, "},\"frequency_error\":");
            mlops__buf_json_double(&b, st.frequency_error);
        }
        mlops__buf_putc(&b, '}');
    }
    mlops__buf_puts(&b, "]}");
    if (rc == MLOPS_OK && (rc = mlops__buf_status(&b, SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    return rc;
}
