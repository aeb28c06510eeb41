/*
 * Drift reports: per column, a test chosen the way Evidently chooses by
 * default (or as configured), a decision against its threshold, optional
 * multiple-testing correction of the p-value tests, an effect-size floor,
 * the share of drifted feature columns against the dataset threshold, and
 * the same for prediction columns. Columns come either from raw frames
 * (exact tests) or from profiles (tests on sketches).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "profile_int.h"

#define SUB "drift"

enum test_id { T_AUTO, T_KS, T_CHISQUARE, T_Z, T_WASSERSTEIN, T_JS, T_PSI, T_KL, T_ENERGY, T_CVM, T_ANDERSON, T_COUNT };
static const char *const test_names[T_COUNT] = {"auto", "ks", "chisquare", "z", "wasserstein", "jensenshannon",
                                                "psi", "kl", "energy", "cvm", "anderson"};
/* Tests decided on a p-value (drift when p < threshold); the rest on a distance (drift when >= threshold). */
static int is_p_test(int t)
{
    return t == T_KS || t == T_CHISQUARE || t == T_Z || t == T_CVM || t == T_ANDERSON;
}

typedef struct col_cfg {
    const char *name;
    int test;
    double threshold;    /* NaN = default */
    double min_effect;   /* NaN = global */
    int32_t kind;        /* 0 = from the data */
} col_cfg;

typedef struct report_cfg {
    col_cfg *cols;
    size_t ncols;
    const char **prediction;
    size_t nprediction;
    const char **include;
    size_t ninclude;
    int correction;      /* 0 none, 1 bonferroni, 2 benjamini_hochberg */
    double drift_share, alpha, distance_threshold, min_effect, js_base, psi_epsilon;
    uint32_t bins;
    mlops__json *doc;
} report_cfg;

static const char *const correction_names[] = {"none", "bonferroni", "benjamini_hochberg"};

static void cfg_free(report_cfg *c)
{
    mlops__free(c->cols);
    mlops__free(c->prediction);
    mlops__free(c->include);
    mlops__json_free(c->doc);
    memset(c, 0, sizeof *c);
}

static int read_names(const char ***out, size_t *n_out, const mlops__json *doc, const char *key)
{
    mlops__json *arr = mlops__json_get(doc, key);
    size_t i, n;
    *out = NULL;
    *n_out = 0;
    if (!arr)
        return MLOPS_OK;
    if (!mlops__json_is_array(arr))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.%s: expected an array of column names", key);
    n = mlops__json_array_size(arr);
    *out = mlops__calloc(n ? n : 1, sizeof **out);
    if (!*out)
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    for (i = 0; i < n; i++) {
        mlops__json *s = mlops__json_at(arr, i);
        if (!mlops__json_is_string(s))
            return mlops__error(MLOPS_EFORMAT, SUB, "$.%s[%zu]: expected a string", key, i);
        (*out)[i] = mlops__json_string(s);
    }
    *n_out = n;
    return MLOPS_OK;
}

static int parse_cfg(report_cfg *c, const char *json)
{
    static const char *const keys[] = {"columns", "prediction", "include", "correction", "drift_share", "alpha",
                                       "distance_threshold", "min_effect", "js_base", "bins", "psi_epsilon", NULL};
    static const char *const col_keys[] = {"test", "threshold", "min_effect", "kind", NULL};
    mlops__json *cols, *m;
    const char *corr = NULL;
    int64_t bins = 10;
    size_t i;
    int rc, t;
    memset(c, 0, sizeof *c);
    c->drift_share = 0.5;
    c->alpha = 0.05;
    c->distance_threshold = 0.1;
    c->min_effect = 0.0;
    c->js_base = 2.0;
    c->psi_epsilon = 1e-4;
    c->bins = 10;
    if (!json)
        return MLOPS_OK;
    if ((rc = mlops__json_parse(&c->doc, json, SUB, "drift configuration")) ||
        (rc = mlops__json_check_keys(c->doc, "$", SUB, keys)) ||
        (rc = mlops__json_opt_double(&c->drift_share, c->doc, "drift_share", "$", SUB, 0.0, 1.0)) ||
        (rc = mlops__json_opt_double(&c->alpha, c->doc, "alpha", "$", SUB, 0.0, 1.0)) ||
        (rc = mlops__json_opt_double(&c->distance_threshold, c->doc, "distance_threshold", "$", SUB, 0.0, 1e300)) ||
        (rc = mlops__json_opt_double(&c->min_effect, c->doc, "min_effect", "$", SUB, 0.0, 1e300)) ||
        (rc = mlops__json_opt_double(&c->js_base, c->doc, "js_base", "$", SUB, 0.0, 1e300)) ||
        (rc = mlops__json_opt_double(&c->psi_epsilon, c->doc, "psi_epsilon", "$", SUB, 1e-300, 0.5)) ||
        (rc = mlops__json_opt_int(&bins, c->doc, "bins", "$", SUB, 2, 10000)) ||
        (rc = mlops__json_opt_string(&corr, c->doc, "correction", "$", SUB)) ||
        (rc = read_names(&c->prediction, &c->nprediction, c->doc, "prediction")) ||
        (rc = read_names(&c->include, &c->ninclude, c->doc, "include")))
        return rc;
    if (c->js_base == 1.0)
        return mlops__error(MLOPS_EFORMAT, SUB, "$.js_base: 1 is not a logarithm base");
    c->bins = (uint32_t)bins;
    if (corr) {
        for (t = 0; t < 3 && strcmp(corr, correction_names[t]); t++)
            ;
        if (t == 3)
            return mlops__error(MLOPS_EFORMAT, SUB,
                                "$.correction: expected \"none\", \"bonferroni\" or \"benjamini_hochberg\"");
        c->correction = t;
    }
    cols = mlops__json_get(c->doc, "columns");
    if (!cols)
        return MLOPS_OK;
    if (!mlops__json_is_object(cols))
        return mlops__error(MLOPS_EFORMAT, SUB, "$.columns: expected an object keyed by column name");
    for (m = mlops__json_first(cols); m; m = mlops__json_next(m))
        c->ncols++;
    c->cols = mlops__calloc(c->ncols ? c->ncols : 1, sizeof *c->cols);
    if (!c->cols)
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    for (m = mlops__json_first(cols), i = 0; m; m = mlops__json_next(m), i++) {
        char path[160];
        const char *test = NULL, *kind = NULL;
        col_cfg *cc = &c->cols[i];
        snprintf(path, sizeof path, "$.columns.%s", mlops__json_key(m));
        cc->name = mlops__json_key(m);
        cc->threshold = NAN;
        cc->min_effect = NAN;
        if ((rc = mlops__json_check_keys(m, path, SUB, col_keys)) ||
            (rc = mlops__json_opt_string(&test, m, "test", path, SUB)) ||
            (rc = mlops__json_opt_string(&kind, m, "kind", path, SUB)) ||
            (rc = mlops__json_opt_double(&cc->threshold, m, "threshold", path, SUB, 0.0, 1e300)) ||
            (rc = mlops__json_opt_double(&cc->min_effect, m, "min_effect", path, SUB, 0.0, 1e300)))
            return rc;
        if (test) {
            for (t = 0; t < T_COUNT && strcmp(test, test_names[t]); t++)
                ;
            if (t == T_COUNT)
                return mlops__error(MLOPS_EFORMAT, SUB, "%s.test: unknown test \"%s\"", path, test);
            cc->test = t;
        }
        if (kind) {
            if (strcmp(kind, "numeric") == 0)
                cc->kind = MLOPS_COLUMN_NUMERIC;
            else if (strcmp(kind, "categorical") == 0)
                cc->kind = MLOPS_COLUMN_CATEGORICAL;
            else
                return mlops__error(MLOPS_EFORMAT, SUB, "%s.kind: expected \"numeric\" or \"categorical\"", path);
        }
    }
    return MLOPS_OK;
}

static const col_cfg *cfg_column(const report_cfg *c, const char *name)
{
    size_t i;
    for (i = 0; i < c->ncols; i++)
        if (strcmp(c->cols[i].name, name) == 0)
            return &c->cols[i];
    return NULL;
}

static int name_in(const char *const *list, size_t n, const char *name)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (strcmp(list[i], name) == 0)
            return 1;
    return 0;
}

/* ---- one column's result -------------------------------------------------- */

typedef struct col_result {
    const char *name;
    int32_t kind;
    int test;
    int prediction;
    int approximate;          /* computed on sketches */
    int32_t method;
    uint64_t n_ref, n_cur, nan_ref, nan_cur;
    double n_unique;
    double statistic, pvalue, pvalue_adjusted, effect, threshold, min_effect;
    int drifted;
} col_result;

/* Category counts of both sides over the union of categories. */
typedef struct cat_counts {
    double *ref, *cur;
    size_t k;
} cat_counts;

static void cat_free(cat_counts *cc)
{
    mlops__free(cc->ref);
    mlops__free(cc->cur);
    memset(cc, 0, sizeof *cc);
}

static int cat_alloc(cat_counts *cc, size_t k)
{
    cc->k = 0;
    cc->ref = mlops__calloc(k ? k : 1, sizeof(double));
    cc->cur = mlops__calloc(k ? k : 1, sizeof(double));
    if (!cc->ref || !cc->cur) {
        cat_free(cc);
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    }
    return MLOPS_OK;
}

/* Categorical tests on counts (chi-square goodness of fit as Evidently, z, JS, PSI, KL). */
static int run_categorical(col_result *r, const cat_counts *cc, const report_cfg *cfg)
{
    mlops_test_result t;
    double sr = 0, sc = 0;
    size_t i;
    int rc = MLOPS_OK;
    for (i = 0; i < cc->k; i++) {
        sr += cc->ref[i];
        sc += cc->cur[i];
    }
    if (!(sr > 0 && sc > 0))
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": no values on one side", r->name);
    r->n_ref = (uint64_t)sr;
    r->n_cur = (uint64_t)sc;
    switch (r->test) {
    case T_CHISQUARE: {
        double *expected = mlops__malloc(sizeof(double) * cc->k);
        if (!expected)
            return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        for (i = 0; i < cc->k; i++)
            expected[i] = cc->ref[i] * (sc / sr);
        rc = mlops_stat_chisquare(&t, cc->cur, expected, cc->k);
        mlops__free(expected);
        if (rc == MLOPS_OK) {
            r->statistic = t.statistic;
            r->pvalue = t.pvalue;
            r->effect = sqrt(t.statistic / sc);
        }
        break;
    }
    case T_Z: {
        /* Two-proportion z-test on the share of the first category. */
        double p1 = cc->ref[0] / sr, p2 = cc->cur[0] / sc, pp = (cc->ref[0] + cc->cur[0]) / (sr + sc);
        double z = (p1 - p2) / sqrt(pp * (1 - pp) * (1 / sr + 1 / sc));
        r->statistic = isfinite(z) ? z : 0.0;
        r->pvalue = isfinite(z) ? erfc(fabs(z) / sqrt(2.0)) : 1.0;
        r->effect = fabs(p1 - p2);
        break;
    }
    case T_JS:
        rc = mlops_stat_jensenshannon(&t, cc->ref, cc->cur, cc->k, cfg->js_base);
        r->statistic = t.statistic;
        break;
    case T_PSI:
        rc = mlops_stat_psi_hist(&t, cc->ref, cc->cur, cc->k, cfg->psi_epsilon);
        r->statistic = t.statistic;
        break;
    case T_KL: {
        /* Proportions floored like PSI so that a category missing on one side stays finite. */
        double *a = mlops__malloc(sizeof(double) * cc->k), *b = mlops__malloc(sizeof(double) * cc->k);
        if (!a || !b) {
            mlops__free(a);
            mlops__free(b);
            return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        }
        for (i = 0; i < cc->k; i++) {
            a[i] = fmax(cc->ref[i] / sr, cfg->psi_epsilon);
            b[i] = fmax(cc->cur[i] / sc, cfg->psi_epsilon);
        }
        rc = mlops_stat_kl(&t, a, b, cc->k, 0.0);
        r->statistic = t.statistic;
        mlops__free(a);
        mlops__free(b);
        break;
    }
    default:
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": test \"%s\" does not apply to categorical data",
                            r->name, test_names[r->test]);
    }
    if (rc == MLOPS_OK && r->test == T_Z && cc->k > 2)
        rc = mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": the z test needs at most 2 categories (%zu)", r->name,
                          cc->k);
    return rc;
}

/* Evidently's default choice from the reference size, the kind and the number of distinct values. */
static int default_test(int32_t kind, uint64_t ref_rows, double n_unique)
{
    int small_domain = kind == MLOPS_COLUMN_CATEGORICAL || n_unique <= 5;
    if (ref_rows <= 1000) {
        if (!small_domain)
            return T_KS;
        return n_unique > 2 ? T_CHISQUARE : T_Z;
    }
    return small_domain ? T_JS : T_WASSERSTEIN;
}

/* ---- raw samples (frames) --------------------------------------------------- */

typedef struct raw_side {
    double *num;          /* numeric values without nulls */
    size_t n;
    uint64_t nulls;
    const char **text;    /* categorical values (borrowed from the frame or `buf`) */
    char *buf;            /* decimal texts of INT64 categories */
} raw_side;

static void raw_free(raw_side *s)
{
    mlops__free(s->num);
    mlops__free(s->text);
    mlops__free(s->buf);
    memset(s, 0, sizeof *s);
}

static int raw_extract(raw_side *s, const mlops_frame *f, size_t col, int32_t kind)
{
    size_t rows = mlops_frame_rows(f), i;
    int type = mlops_frame_column_type(f, col);
    const uint8_t *nulls = NULL;
    memset(s, 0, sizeof *s);
    mlops_frame_column_nulls(&nulls, f, col);
    if (kind == MLOPS_COLUMN_NUMERIC) {
        const double *d = NULL;
        const int64_t *iv = NULL;
        const uint8_t *bv = NULL;
        if (type == MLOPS_TYPE_FLOAT64)
            mlops_frame_column_float64(&d, f, col);
        else if (type == MLOPS_TYPE_INT64)
            mlops_frame_column_int64(&iv, f, col);
        else if (type == MLOPS_TYPE_BOOL)
            mlops_frame_column_bool(&bv, f, col);
        else
            return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": frame type %d cannot be numeric",
                                mlops_frame_column_name(f, col), type);
        s->num = mlops__malloc(sizeof(double) * (rows ? rows : 1));
        if (!s->num)
            return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        /* Nulls, NaN and +/-Inf are missing values, dropped and counted (as Evidently drops them). */
        for (i = 0; i < rows; i++) {
            double v = d ? d[i] : (iv ? (double)iv[i] : (double)bv[i]);
            if (nulls[i] || !isfinite(v)) {
                s->nulls++;
                continue;
            }
            s->num[s->n++] = v;
        }
        return MLOPS_OK;
    }
    if (type != MLOPS_TYPE_STRING && type != MLOPS_TYPE_BOOL && type != MLOPS_TYPE_INT64)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": frame type %d cannot be categorical",
                            mlops_frame_column_name(f, col), type);
    s->text = mlops__malloc(sizeof(char *) * (rows ? rows : 1));
    if (type == MLOPS_TYPE_INT64)
        s->buf = mlops__malloc(24 * (rows ? rows : 1));
    if (!s->text || (type == MLOPS_TYPE_INT64 && !s->buf))
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    for (i = 0; i < rows; i++) {
        if (nulls[i]) {
            s->nulls++;
            continue;
        }
        if (type == MLOPS_TYPE_STRING) {
            mlops_frame_get_string(&s->text[s->n++], NULL, f, col, i);
        } else if (type == MLOPS_TYPE_BOOL) {
            int32_t b = 0;
            mlops_frame_get_bool(&b, f, col, i);
            s->text[s->n++] = b ? "true" : "false";
        } else {
            int64_t v = 0;
            mlops_frame_get_int64(&v, f, col, i);
            snprintf(s->buf + 24 * i, 24, "%lld", (long long)v);
            s->text[s->n++] = s->buf + 24 * i;
        }
    }
    return MLOPS_OK;
}

typedef struct tagged_text {
    const char *text;
    int side;
} tagged_text;

static int cmp_tagged(const void *a, const void *b)
{
    return strcmp(((const tagged_text *)a)->text, ((const tagged_text *)b)->text);
}

/* Category counts of raw values (texts, or numeric values taken as categories). */
static int raw_categories(cat_counts *cc, const raw_side *ref, const raw_side *cur, int numeric)
{
    size_t n = ref->n + cur->n, i, k = 0;
    int rc;
    if (numeric) {
        /* Sort both sides (radix) and walk them together, one category per distinct value. */
        double *a = NULL, *b = NULL;
        size_t na = 0, nb = 0, j = 0;
        uint64_t nans;
        if (ref->n && (rc = mlops__sample_prepare(&a, &na, &nans, ref->num, ref->n, 1, "reference")))
            return rc;
        if (cur->n && (rc = mlops__sample_prepare(&b, &nb, &nans, cur->num, cur->n, 1, "current"))) {
            mlops__free(a);
            return rc;
        }
        if ((rc = cat_alloc(cc, n))) {
            mlops__free(a);
            mlops__free(b);
            return rc;
        }
        i = 0;
        while (i < na || j < nb) {
            double x = (j >= nb || (i < na && a[i] <= b[j])) ? a[i] : b[j];
            while (i < na && a[i] == x) {
                cc->ref[k] += 1;
                i++;
            }
            while (j < nb && b[j] == x) {
                cc->cur[k] += 1;
                j++;
            }
            k++;
        }
        mlops__free(a);
        mlops__free(b);
    } else {
        tagged_text *all = mlops__malloc(sizeof *all * (n ? n : 1));
        if (!all)
            return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        for (i = 0; i < ref->n; i++)
            all[i] = (tagged_text){ref->text[i], 0};
        for (i = 0; i < cur->n; i++)
            all[ref->n + i] = (tagged_text){cur->text[i], 1};
        qsort(all, n, sizeof *all, cmp_tagged);
        if ((rc = cat_alloc(cc, n))) {
            mlops__free(all);
            return rc;
        }
        for (i = 0; i < n; i++) {
            if (i == 0 || strcmp(all[i].text, all[i - 1].text))
                k++;
            (all[i].side == 0 ? cc->ref : cc->cur)[k - 1] += 1;
        }
        mlops__free(all);
    }
    cc->k = k;
    return MLOPS_OK;
}

/* Numeric histogram of both raw samples on reference-quantile bins (for PSI, JS, KL on numeric data). */
static int raw_binned(cat_counts *cc, const raw_side *ref, const raw_side *cur, uint32_t bins)
{
    mlops_test_result t;
    double *edges = mlops__malloc(sizeof(double) * (bins + 1)), *a = NULL, *b = NULL;
    size_t na, nb, i;
    int rc;
    if (!edges)
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    if ((rc = mlops_stat_psi(&t, edges, bins + 1, ref->num, ref->n, cur->num, cur->n, bins, MLOPS_BINS_QUANTILE,
                             0.0)))
        goto out_free;
    if ((rc = mlops__sample_prepare(&a, &na, &t.nan_ref, ref->num, ref->n, 1, "reference")) ||
        (rc = mlops__sample_prepare(&b, &nb, &t.nan_cur, cur->num, cur->n, 1, "current")) ||
        (rc = cat_alloc(cc, bins)))
        goto out_free;
    cc->k = bins;
    for (i = 0; i < na + nb; i++) {
        double v = i < na ? a[i] : b[i - na];
        size_t lo = 0, hi = bins + 1;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (edges[mid] <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        lo = lo == 0 ? 0 : (lo - 1 >= bins ? bins - 1 : lo - 1);
        (i < na ? cc->ref : cc->cur)[lo] += 1;
    }
out_free:
    mlops__free(edges);
    mlops__free(a);
    mlops__free(b);
    return rc;
}

static int run_raw_column(col_result *r, const raw_side *ref, const raw_side *cur, const report_cfg *cfg)
{
    mlops_test_result t;
    cat_counts cc = {0};
    int rc = MLOPS_OK;
    r->nan_ref = ref->nulls;
    r->nan_cur = cur->nulls;
    if ((rc = raw_categories(&cc, ref, cur, r->kind == MLOPS_COLUMN_NUMERIC)))
        return rc;
    r->n_unique = (double)cc.k;
    if (r->test == T_AUTO)
        r->test = default_test(r->kind, ref->n, r->n_unique);
    if (r->kind == MLOPS_COLUMN_CATEGORICAL || r->test == T_CHISQUARE || r->test == T_Z ||
        (r->n_unique <= 5 && (r->test == T_JS || r->test == T_PSI || r->test == T_KL))) {
        rc = run_categorical(r, &cc, cfg);
        cat_free(&cc);
        r->nan_ref = ref->nulls;
        r->nan_cur = cur->nulls;
        return rc;
    }
    cat_free(&cc);
    switch (r->test) {
    case T_KS:
        rc = mlops_stat_ks_2samp(&t, ref->num, ref->n, cur->num, cur->n, MLOPS_METHOD_AUTO);
        r->effect = t.statistic;
        break;
    case T_WASSERSTEIN:
        rc = mlops_stat_wasserstein_norm(&t, ref->num, ref->n, cur->num, cur->n);
        break;
    case T_ENERGY:
        rc = mlops_stat_energy(&t, ref->num, ref->n, cur->num, cur->n);
        break;
    case T_CVM:
        rc = mlops_stat_cvm_2samp(&t, ref->num, ref->n, cur->num, cur->n, MLOPS_METHOD_AUTO);
        break;
    case T_ANDERSON: {
        const double *s[2] = {ref->num, cur->num};
        size_t n[2] = {ref->n, cur->n};
        rc = mlops_stat_anderson_ksamp(&t, s, n, 2);
        break;
    }
    default: /* PSI, JS, KL on reference-quantile bins */
        if ((rc = raw_binned(&cc, ref, cur, cfg->bins)) == MLOPS_OK)
            rc = run_categorical(r, &cc, cfg);
        cat_free(&cc);
        if (rc == MLOPS_OK) {
            r->n_ref = ref->n;
            r->n_cur = cur->n;
        }
        return rc;
    }
    if (rc)
        return mlops__error_prefix("column \"%s\"", r->name);
    r->statistic = t.statistic;
    r->pvalue = t.pvalue;
    r->method = t.method;
    r->n_ref = t.n_ref;
    r->n_cur = t.n_cur;
    r->nan_ref = t.nan_ref + ref->nulls;
    r->nan_cur = t.nan_cur + cur->nulls;
    return MLOPS_OK;
}

/* ---- profiles ------------------------------------------------------------------ */

/* Category counts of two profile columns: union of tracked categories (+ one "other" bucket for untracked mass). */
static int profile_categories(cat_counts *cc, const mlops__pcol *a, const mlops__pcol *b)
{
    size_t i, k = 0;
    int other = a->freq.n > a->freq.kept || b->freq.n > b->freq.kept, rc;
    if ((rc = cat_alloc(cc, (size_t)a->freq.len + b->freq.len + 1)))
        return rc;
    for (i = 0; i < a->freq.len; i++, k++) {
        cc->ref[k] = (double)a->freq.count[i];
        cc->cur[k] = (double)mlops__freq_get(&b->freq, a->freq.key[i], a->freq.key_len[i]);
    }
    for (i = 0; i < b->freq.len; i++) {
        if (mlops__freq_get(&a->freq, b->freq.key[i], b->freq.key_len[i]))
            continue;
        cc->cur[k++] = (double)b->freq.count[i];
    }
    if (other) {
        cc->ref[k] = (double)(a->freq.n - a->freq.kept);
        cc->cur[k++] = (double)(b->freq.n - b->freq.kept);
    }
    cc->k = k;
    return MLOPS_OK;
}

static int profile_small_domain(cat_counts *cc, const mlops__pcol *a, const mlops__pcol *b)
{
    size_t i, j, k = 0;
    int rc;
    if ((rc = cat_alloc(cc, 2 * MLOPS__SMALL_DOMAIN)))
        return rc;
    for (i = 0; i < a->small_n; i++, k++) {
        cc->ref[k] = (double)a->small_cnt[i];
        for (j = 0; j < b->small_n; j++)
            if (b->small_val[j] == a->small_val[i])
                cc->cur[k] = (double)b->small_cnt[j];
    }
    for (j = 0; j < b->small_n; j++) {
        int seen = 0;
        for (i = 0; i < a->small_n; i++)
            seen |= a->small_val[i] == b->small_val[j];
        if (!seen)
            cc->cur[k++] = (double)b->small_cnt[j];
    }
    cc->k = k;
    return MLOPS_OK;
}

/* Distinct-count estimate of the union of two columns (register-wise maximum). */
static int hll_union(double *out, const mlops_profile *p, const mlops__pcol *a, const mlops__pcol *b)
{
    size_t m = (size_t)1 << p->hll_bits, i;
    uint8_t *reg = mlops__malloc(m);
    if (!reg)
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    for (i = 0; i < m; i++)
        reg[i] = a->hll[i] > b->hll[i] ? a->hll[i] : b->hll[i];
    *out = mlops__hll_estimate(reg, p->hll_bits);
    mlops__free(reg);
    return MLOPS_OK;
}

/* Proportions of a KLL view in reference-quantile bins: a value on an inner edge belongs to the bin above. */
static void view_bins(double *out, const mlops__kll_view *v, const double *edges, uint32_t bins)
{
    uint32_t b;
    size_t i = 0;
    double cum = 0.0, prev = 0.0;
    for (b = 0; b < bins; b++) {
        if (b + 1 == bins) {
            cum = v->total;
        } else {
            for (; i < v->count && v->values[i] < edges[b + 1]; i++)
                cum += v->weights[i];
        }
        out[b] = (cum - prev) / v->total;
        prev = cum;
    }
}

/* `rp` is the reference profile; `hll_ok` says both sides keep comparable HyperLogLog registers. */
static int run_profile_column(col_result *r, const mlops_profile *rp, const mlops__pcol *a, const mlops__pcol *b,
                              int hll_ok, const report_cfg *cfg)
{
    cat_counts cc = {0};
    mlops__kll_view va = {0}, vb = {0};
    mlops__cdf_walk walk;
    int rc = MLOPS_OK, small;
    r->approximate = 1;
    r->nan_ref = a->nulls + a->nans;
    r->nan_cur = b->nulls + b->nans;
    r->n_ref = a->count;
    r->n_cur = b->count;
    if (a->count == 0 || b->count == 0)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": no values on one side", r->name);
    if (r->kind == MLOPS_COLUMN_CATEGORICAL) {
        int exact = a->freq.n == a->freq.kept && b->freq.n == b->freq.kept;
        if ((rc = profile_categories(&cc, a, b)))
            return rc;
        r->n_unique = (double)cc.k;
        if (!exact && hll_ok && (rc = hll_union(&r->n_unique, rp, a, b))) {
            cat_free(&cc);
            return rc;
        }
        r->approximate = !exact;
        if (r->test == T_AUTO) {
            r->test = default_test(r->kind, a->count, r->n_unique);
            if (r->test == T_Z && cc.k > 2)
                r->test = T_CHISQUARE; /* an "other" bucket makes a third category */
        }
        rc = run_categorical(r, &cc, cfg);
        cat_free(&cc);
        return rc;
    }
    small = a->small_n != MLOPS__SMALL_OFF && b->small_n != MLOPS__SMALL_OFF;
    if (small) {
        if ((rc = profile_small_domain(&cc, a, b)))
            return rc;
        r->n_unique = (double)cc.k;
    } else {
        r->n_unique = INFINITY;
        if (hll_ok && (rc = hll_union(&r->n_unique, rp, a, b)))
            return rc;
    }
    if (r->test == T_AUTO)
        r->test = default_test(r->kind, a->count, r->n_unique);
    if (small && r->n_unique <= 5 && (r->test == T_CHISQUARE || r->test == T_Z || r->test == T_JS ||
                                      r->test == T_PSI || r->test == T_KL)) {
        r->approximate = 0;
        rc = run_categorical(r, &cc, cfg);
        cat_free(&cc);
        return rc;
    }
    cat_free(&cc);
    if (r->test == T_CVM || r->test == T_ANDERSON || r->test == T_CHISQUARE || r->test == T_Z)
        return mlops__error(MLOPS_EINVAL, SUB, "column \"%s\": test \"%s\" needs raw samples, not a profile", r->name,
                            test_names[r->test]);
    if (!a->has_kll || !b->has_kll)
        return mlops__error(MLOPS_ESTATE, SUB, "column \"%s\": the profiles keep no quantile sketch", r->name);
    if ((rc = mlops__kll_sorted(&va, &a->kll)) || (rc = mlops__kll_sorted(&vb, &b->kll)))
        goto out_free;
    mlops__cdf_walk_run(&walk, va.values, va.weights, va.count, va.total, vb.values, vb.weights, vb.count, vb.total);
    if (r->test == T_KS) {
        double mins = fmin(fmax(-walk.ks_min, 0.0), 1.0), d = fmax(mins, walk.ks_max);
        r->method = MLOPS_METHOD_ASYMP;
        rc = mlops__ks_pvalue(&r->pvalue, &d, &r->method, a->count, b->count);
        r->statistic = d;
        r->effect = d;
    } else if (r->test == T_WASSERSTEIN) {
        r->statistic = walk.l1 / fmax(sqrt(a->m2 / (double)a->count), 0.001);
    } else if (r->test == T_ENERGY) {
        r->statistic = sqrt(2.0) * sqrt(walk.l2sq);
    } else {
        double *edges = mlops__malloc(sizeof(double) * (cfg->bins + 1));
        uint32_t i;
        if (!edges || (rc = cat_alloc(&cc, cfg->bins))) {
            mlops__free(edges);
            rc = rc ? rc : mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
            goto out_free;
        }
        for (i = 0; i <= cfg->bins; i++)
            edges[i] = mlops__kll_view_quantile(&va, (double)i / cfg->bins);
        view_bins(cc.ref, &va, edges, cfg->bins);
        view_bins(cc.cur, &vb, edges, cfg->bins);
        cc.k = cfg->bins;
        mlops__free(edges);
        rc = run_categorical(r, &cc, cfg);
        r->n_ref = a->count;
        r->n_cur = b->count;
        cat_free(&cc);
    }
out_free:
    mlops__kll_view_free(&va);
    mlops__kll_view_free(&vb);
    return rc;
}

/* ---- decisions, correction and JSON ------------------------------------------- */

static int decide(col_result *r, size_t n, const report_cfg *cfg, int prediction)
{
    size_t i, m = 0, j;
    size_t *idx;
    for (i = 0; i < n; i++)
        if (r[i].prediction == prediction && is_p_test(r[i].test))
            m++;
    idx = mlops__malloc(sizeof(size_t) * (m ? m : 1));
    if (!idx)
        return mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
    for (i = 0, j = 0; i < n; i++)
        if (r[i].prediction == prediction && is_p_test(r[i].test))
            idx[j++] = i;
    for (i = 0; i < n; i++)
        if (r[i].prediction == prediction)
            r[i].pvalue_adjusted = r[i].pvalue;
    if (cfg->correction == 1) {
        for (j = 0; j < m; j++)
            r[idx[j]].pvalue_adjusted = fmin(1.0, r[idx[j]].pvalue * (double)m);
    } else if (cfg->correction == 2 && m > 0) {
        /* Benjamini–Hochberg adjusted p-values: sort ascending, p_(i) m / i, cumulative minimum from the top. */
        double running = 1.0;
        size_t a, b;
        for (a = 1; a < m; a++)
            for (b = a; b > 0 && r[idx[b - 1]].pvalue > r[idx[b]].pvalue; b--) {
                size_t t = idx[b];
                idx[b] = idx[b - 1];
                idx[b - 1] = t;
            }
        for (a = m; a-- > 0;) {
            double adj = r[idx[a]].pvalue * (double)m / (double)(a + 1);
            running = fmin(running, adj);
            r[idx[a]].pvalue_adjusted = fmin(1.0, running);
        }
    }
    mlops__free(idx);
    for (i = 0; i < n; i++) {
        col_result *c = &r[i];
        if (c->prediction != prediction)
            continue;
        if (is_p_test(c->test))
            c->drifted = c->pvalue_adjusted < c->threshold;
        else
            c->drifted = c->statistic >= c->threshold;
        if (c->drifted && is_p_test(c->test) && c->min_effect > 0 && !(c->effect >= c->min_effect))
            c->drifted = 0;
    }
    return MLOPS_OK;
}

static void json_num(mlops__buf *b, const char *key, double v)
{
    char text[40];
    mlops__buf_printf(b, ",\"%s\":", key);
    if (!isfinite(v)) {
        mlops__buf_puts(b, isnan(v) ? "null" : (v > 0 ? "\"inf\"" : "\"-inf\""));
        return;
    }
    mlops__format_double(text, sizeof text, v);
    mlops__buf_puts(b, text);
}

static void json_column(mlops__buf *b, const col_result *c)
{
    mlops__buf_puts(b, "{\"name\":");
    mlops__buf_json_string(b, c->name);
    mlops__buf_printf(b, ",\"kind\":\"%s\",\"test\":\"%s\",\"source\":\"%s\"",
                      c->kind == MLOPS_COLUMN_NUMERIC ? "numeric" : "categorical", test_names[c->test],
                      c->approximate ? "sketch" : "exact");
    if (c->test == T_KS)
        mlops__buf_printf(b, ",\"method\":\"%s\"", c->method == MLOPS_METHOD_EXACT ? "exact" : "asymp");
    mlops__buf_printf(b, ",\"n_ref\":%llu,\"n_cur\":%llu,\"missing_ref\":%llu,\"missing_cur\":%llu",
                      (unsigned long long)c->n_ref, (unsigned long long)c->n_cur, (unsigned long long)c->nan_ref,
                      (unsigned long long)c->nan_cur);
    json_num(b, "n_unique", c->n_unique);
    json_num(b, "statistic", c->statistic);
    json_num(b, "p_value", is_p_test(c->test) ? c->pvalue : NAN);
    json_num(b, "p_value_adjusted", is_p_test(c->test) ? c->pvalue_adjusted : NAN);
    json_num(b, "effect", c->effect);
    json_num(b, "threshold", c->threshold);
    json_num(b, "min_effect", c->min_effect);
    mlops__buf_printf(b, ",\"decision\":\"%s\",\"drifted\":%s}", is_p_test(c->test) ? "p_value < threshold"
                                                                                     : "statistic >= threshold",
                      c->drifted ? "true" : "false");
}

static int emit_report(char **json_out, col_result *r, size_t n, const report_cfg *cfg, uint64_t ref_rows,
                       uint64_t cur_rows)
{
    mlops__buf b;
    size_t i, features = 0, drifted = 0, pdrift = 0;
    double share;
    int rc, first;
    if ((rc = decide(r, n, cfg, 0)) || (rc = decide(r, n, cfg, 1)))
        return rc;
    for (i = 0; i < n; i++) {
        if (r[i].prediction) {
            pdrift += r[i].drifted;
        } else {
            features++;
            drifted += r[i].drifted;
        }
    }
    share = features ? (double)drifted / (double)features : 0.0;
    mlops__buf_init(&b);
    mlops__buf_printf(&b, "{\"reference_rows\":%llu,\"current_rows\":%llu,\"correction\":\"%s\"",
                      (unsigned long long)ref_rows, (unsigned long long)cur_rows, correction_names[cfg->correction]);
    mlops__buf_puts(&b, ",\"columns\":[");
    for (i = 0, first = 1; i < n; i++) {
        if (r[i].prediction)
            continue;
        if (!first)
            mlops__buf_putc(&b, ',');
        first = 0;
        json_column(&b, &r[i]);
    }
    mlops__buf_printf(&b, "],\"dataset\":{\"columns\":%zu,\"drifted_columns\":%zu", features, drifted);
    json_num(&b, "share", share);
    json_num(&b, "drift_share", cfg->drift_share);
    mlops__buf_printf(&b, ",\"drifted\":%s}", features && share >= cfg->drift_share ? "true" : "false");
    if (cfg->nprediction) {
        mlops__buf_puts(&b, ",\"prediction\":{\"columns\":[");
        for (i = 0, first = 1; i < n; i++) {
            if (!r[i].prediction)
                continue;
            if (!first)
                mlops__buf_putc(&b, ',');
            first = 0;
            json_column(&b, &r[i]);
        }
        mlops__buf_printf(&b, "],\"drifted_columns\":%zu,\"drifted\":%s}", pdrift, pdrift ? "true" : "false");
    }
    mlops__buf_putc(&b, '}');
    if ((rc = mlops__buf_status(&b, SUB)) == MLOPS_OK)
        *json_out = mlops__buf_detach(&b, NULL);
    mlops__buf_free(&b);
    return rc;
}

/* Fill the thresholds and flags of a result from the configuration. */
static void init_result(col_result *r, const char *name, int32_t kind, const report_cfg *cfg)
{
    const col_cfg *cc = cfg_column(cfg, name);
    memset(r, 0, sizeof *r);
    r->name = name;
    r->kind = cc && cc->kind ? cc->kind : kind;
    r->test = cc ? cc->test : T_AUTO;
    r->prediction = name_in(cfg->prediction, cfg->nprediction, name);
    r->statistic = r->pvalue = r->pvalue_adjusted = r->effect = NAN;
    r->min_effect = cc && !isnan(cc->min_effect) ? cc->min_effect : cfg->min_effect;
    r->threshold = cc ? cc->threshold : NAN;
}

static void finish_threshold(col_result *r, const report_cfg *cfg)
{
    if (isnan(r->threshold))
        r->threshold = is_p_test(r->test) ? cfg->alpha : cfg->distance_threshold;
}

/* Every configured name must be a compared column. */
static int check_cfg_names(const report_cfg *cfg, const col_result *r, size_t n)
{
    size_t i, j;
    const char *const *lists[3] = {NULL, cfg->prediction, cfg->include};
    size_t counts[3] = {cfg->ncols, cfg->nprediction, cfg->ninclude};
    int l;
    for (l = 0; l < 3; l++) {
        for (i = 0; i < counts[l]; i++) {
            const char *name = l == 0 ? cfg->cols[i].name : lists[l][i];
            int found = 0;
            for (j = 0; j < n; j++)
                found |= strcmp(r[j].name, name) == 0;
            if (!found)
                return mlops__error(MLOPS_EINVAL, SUB, "drift configuration names column \"%s\", which is not compared",
                                    name);
        }
    }
    return MLOPS_OK;
}

int mlops_drift_report_frames(char **json_out, const mlops_frame *reference, const mlops_frame *current,
                              const char *config_json)
{
    report_cfg cfg;
    col_result *res = NULL;
    size_t n = 0, i, fc;
    int rc;
    if (!json_out)
        return mlops__error_null(SUB, "mlops_drift_report_frames", "json_out");
    *json_out = NULL;
    if (!reference)
        return mlops__error_null(SUB, "mlops_drift_report_frames", "reference");
    if (!current)
        return mlops__error_null(SUB, "mlops_drift_report_frames", "current");
    if ((rc = parse_cfg(&cfg, config_json)))
        goto out_free;
    res = mlops__calloc(mlops_frame_columns(reference) + 1, sizeof *res);
    if (!res) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        goto out_free;
    }
    for (i = 0; i < mlops_frame_columns(reference); i++) {
        const char *name = mlops_frame_column_name(reference, i);
        int t = mlops_frame_column_type(reference, i);
        int32_t kind = (t == MLOPS_TYPE_FLOAT64 || t == MLOPS_TYPE_INT64) ? MLOPS_COLUMN_NUMERIC
                       : (t == MLOPS_TYPE_STRING || t == MLOPS_TYPE_BOOL) ? MLOPS_COLUMN_CATEGORICAL : 0;
        if (!kind || mlops_frame_column_index(&fc, current, name) != MLOPS_OK)
            continue;
        if (cfg.ninclude && !name_in(cfg.include, cfg.ninclude, name) && !name_in(cfg.prediction, cfg.nprediction, name))
            continue;
        init_result(&res[n++], name, kind, &cfg);
    }
    if ((rc = check_cfg_names(&cfg, res, n)))
        goto out_free;
    mlops_error_clear();
    for (i = 0; i < n; i++) {
        raw_side a, b;
        size_t rcol, ccol;
        mlops_frame_column_index(&rcol, reference, res[i].name);
        mlops_frame_column_index(&ccol, current, res[i].name);
        rc = raw_extract(&a, reference, rcol, res[i].kind);
        if (rc == MLOPS_OK)
            rc = raw_extract(&b, current, ccol, res[i].kind);
        else
            memset(&b, 0, sizeof b);
        if (rc == MLOPS_OK)
            rc = run_raw_column(&res[i], &a, &b, &cfg);
        raw_free(&a);
        raw_free(&b);
        if (rc) {
            if (mlops_error_last()->code == MLOPS_OK)
                mlops__error(rc, SUB, "column \"%s\"", res[i].name);
            goto out_free;
        }
        finish_threshold(&res[i], &cfg);
    }
    rc = emit_report(json_out, res, n, &cfg, mlops_frame_rows(reference), mlops_frame_rows(current));
out_free:
    mlops__free(res);
    cfg_free(&cfg);
    return rc;
}

int mlops_drift_report_profiles(char **json_out, const mlops_profile *reference, const mlops_profile *current,
                                const char *config_json)
{
    report_cfg cfg;
    col_result *res = NULL;
    size_t n = 0, i, j;
    uint64_t ref_rows = 0, cur_rows = 0;
    int rc;
    if (!json_out)
        return mlops__error_null(SUB, "mlops_drift_report_profiles", "json_out");
    *json_out = NULL;
    if (!reference)
        return mlops__error_null(SUB, "mlops_drift_report_profiles", "reference");
    if (!current)
        return mlops__error_null(SUB, "mlops_drift_report_profiles", "current");
    if ((rc = parse_cfg(&cfg, config_json)))
        goto out_free;
    res = mlops__calloc(reference->ncols + 1, sizeof *res);
    if (!res) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "drift report: out of memory");
        goto out_free;
    }
    for (i = 0; i < reference->ncols; i++) {
        const mlops__pcol *a = &reference->cols[i];
        for (j = 0; j < current->ncols && strcmp(current->cols[j].name, a->name); j++)
            ;
        if (j == current->ncols || current->cols[j].kind != a->kind)
            continue;
        if (cfg.ninclude && !name_in(cfg.include, cfg.ninclude, a->name) &&
            !name_in(cfg.prediction, cfg.nprediction, a->name))
            continue;
        init_result(&res[n++], a->name, a->kind, &cfg);
        res[n - 1].kind = a->kind;
        ref_rows = a->rows > ref_rows ? a->rows : ref_rows;
        cur_rows = current->cols[j].rows > cur_rows ? current->cols[j].rows : cur_rows;
    }
    if ((rc = check_cfg_names(&cfg, res, n)))
        goto out_free;
    for (i = 0; i < n; i++) {
        size_t ai, bi;
        mlops_profile_column_index(&ai, reference, res[i].name);
        mlops_profile_column_index(&bi, current, res[i].name);
        if ((rc = run_profile_column(&res[i], reference, &reference->cols[ai], &current->cols[bi],
                                     reference->distinct && current->distinct &&
                                         reference->hll_bits == current->hll_bits,
                                     &cfg)))
            goto out_free;
        finish_threshold(&res[i], &cfg);
    }
    rc = emit_report(json_out, res, n, &cfg, ref_rows, cur_rows);
out_free:
    mlops__free(res);
    cfg_free(&cfg);
    return rc;
}
