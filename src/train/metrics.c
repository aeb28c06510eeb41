/*
 * Evaluation metrics with seeded bootstrap confidence intervals.
 *
 * Every metric is computed from per-row weights: 1 for the point estimate,
 * and for a bootstrap resample the number of times each row was drawn. Rows
 * are sorted by score once, so ROC AUC and average precision of a resample
 * cost one pass. Definitions follow sklearn.metrics: ties in scores form one
 * threshold; macro averages run over the classes present in the labels or
 * the predictions; an empty denominator gives 0 for precision, recall and
 * F1; probabilities are clipped to [1e-15, 1 - 1e-15] for log loss.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train_int.h"

#define SUB MLOPS__TRAIN_SUB
#define LOG_LOSS_EPS 1e-15

static const char *const binary_names[] = {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc",
                                           "log_loss", NULL};
static const char *const multiclass_names[] = {"accuracy", "precision", "recall", "f1", "log_loss", NULL};
static const char *const regression_names[] = {"rmse", "mae", "r2", NULL};

typedef struct eval_input {
    int32_t task;
    const float *scores;
    const double *labels;
    size_t rows, classes;
    double threshold;
    size_t *order;       /* rows by descending score (binary) */
    size_t *predicted;   /* predicted class per row (classifiers) */
    double *cm;          /* classes x classes weighted confusion scratch */
} eval_input;

static const char *const *names_of(int32_t task)
{
    return task == MLOPS_TASK_BINARY ? binary_names
         : task == MLOPS_TASK_MULTICLASS ? multiclass_names : regression_names;
}

int mlops__metric_higher_is_better(int32_t task, const char *name)
{
    const char *const *names = names_of(task);
    size_t i;
    for (i = 0; names[i]; i++) {
        if (strcmp(names[i], name) == 0)
            return !(strcmp(name, "log_loss") == 0 || strcmp(name, "rmse") == 0 || strcmp(name, "mae") == 0);
    }
    return -1;
}

static double ratio(double num, double den)
{
    return den > 0 ? num / den : 0.0;
}

/* ROC AUC and average precision over rows sorted by descending score. */
static void ranking_metrics(const eval_input *in, const double *w, double *auc, double *ap)
{
    double tp = 0, fp = 0, tp_prev = 0, fp_prev = 0, area = 0, sum_ap = 0, pos, neg;
    size_t i = 0, j;
    while (i < in->rows) {
        float s = in->scores[in->order[i]];
        for (j = i; j < in->rows && in->scores[in->order[j]] == s; j++) {
            size_t r = in->order[j];
            if (in->labels[r] > 0.5)
                tp += w[r];
            else
                fp += w[r];
        }
        area += (fp - fp_prev) * (tp + tp_prev) * 0.5;
        if (tp + fp > 0)
            sum_ap += (tp - tp_prev) * (tp / (tp + fp));
        tp_prev = tp;
        fp_prev = fp;
        i = j;
    }
    pos = tp;
    neg = fp;
    *auc = pos > 0 && neg > 0 ? area / (pos * neg) : NAN;
    *ap = pos > 0 ? sum_ap / pos : NAN;
}

/* Accuracy, macro (or positive-class) precision / recall / F1 from the weighted confusion matrix. */
static void classification_metrics(const eval_input *in, const double *w, double *out)
{
    size_t k = in->classes, c, r, i;
    double total = 0, correct = 0, p_sum = 0, r_sum = 0, f_sum = 0, present = 0, loss = 0;
    memset(in->cm, 0, k * k * sizeof *in->cm);
    for (i = 0; i < in->rows; i++) {
        size_t truth = (size_t)in->labels[i];
        double p;
        if (w[i] == 0)
            continue;
        in->cm[truth * k + in->predicted[i]] += w[i];
        total += w[i];
        if (truth == in->predicted[i])
            correct += w[i];
        if (in->task == MLOPS_TASK_BINARY) {
            p = in->scores[i];
            p = truth ? p : 1.0 - p;
        } else {
            double sum = 0;
            for (c = 0; c < k; c++)
                sum += in->scores[i * k + c];
            p = sum > 0 ? in->scores[i * k + truth] / sum : 0;
        }
        p = p < LOG_LOSS_EPS ? LOG_LOSS_EPS : p > 1 - LOG_LOSS_EPS ? 1 - LOG_LOSS_EPS : p;
        loss -= w[i] * log(p);
    }
    for (c = 0; c < k; c++) {
        double tp = in->cm[c * k + c], true_c = 0, pred_c = 0, prec, rec;
        for (r = 0; r < k; r++) {
            true_c += in->cm[c * k + r];
            pred_c += in->cm[r * k + c];
        }
        prec = ratio(tp, pred_c);
        rec = ratio(tp, true_c);
        if (in->task == MLOPS_TASK_BINARY && c == 1) {
            p_sum = prec;
            r_sum = rec;
            f_sum = ratio(2 * prec * rec, prec + rec);
            present = 1;
        } else if (in->task == MLOPS_TASK_MULTICLASS && (true_c > 0 || pred_c > 0)) {
            p_sum += prec;
            r_sum += rec;
            f_sum += ratio(2 * prec * rec, prec + rec);
            present += 1;
        }
    }
    out[0] = ratio(correct, total);
    out[1] = ratio(p_sum, present);
    out[2] = ratio(r_sum, present);
    out[3] = ratio(f_sum, present);
    if (in->task == MLOPS_TASK_BINARY) {
        ranking_metrics(in, w, &out[4], &out[5]);
        out[6] = ratio(loss, total);
    } else {
        out[4] = ratio(loss, total);
    }
}

static void regression_metrics(const eval_input *in, const double *w, double *out)
{
    double total = 0, sum_y = 0, mean, ss_res = 0, abs_sum = 0, ss_tot = 0;
    size_t i;
    for (i = 0; i < in->rows; i++) {
        total += w[i];
        sum_y += w[i] * in->labels[i];
    }
    mean = ratio(sum_y, total);
    for (i = 0; i < in->rows; i++) {
        double e = (double)in->scores[i] - in->labels[i], d = in->labels[i] - mean;
        ss_res += w[i] * e * e;
        abs_sum += w[i] * fabs(e);
        ss_tot += w[i] * d * d;
    }
    out[0] = sqrt(ratio(ss_res, total));
    out[1] = ratio(abs_sum, total);
    out[2] = ss_tot > 0 ? 1.0 - ss_res / ss_tot : (ss_res > 0 ? 0.0 : 1.0);
}

static void all_metrics(const eval_input *in, const double *w, double *out)
{
    if (in->task == MLOPS_TASK_REGRESSION)
        regression_metrics(in, w, out);
    else
        classification_metrics(in, w, out);
}

/* Stable merge sort of `order` by descending score (ties keep row order); `scratch` holds n indices. */
static void sort_desc(size_t *order, size_t *scratch, size_t n, const float *scores)
{
    size_t width, lo, i, j, k, mid, hi;
    for (width = 1; width < n; width *= 2) {
        for (lo = 0; lo < n; lo += 2 * width) {
            mid = lo + width < n ? lo + width : n;
            hi = lo + 2 * width < n ? lo + 2 * width : n;
            for (i = lo, j = mid, k = lo; k < hi; k++) {
                if (i < mid && (j >= hi || !(scores[order[j]] > scores[order[i]])))
                    scratch[k] = order[i++];
                else
                    scratch[k] = order[j++];
            }
        }
        memcpy(order, scratch, n * sizeof *order);
    }
}

/* Percentile q in [0, 1] of `n` sorted values, interpolated linearly between ranks. */
static double percentile(const double *sorted, size_t n, double q)
{
    double pos = q * (double)(n - 1), frac;
    size_t lo = (size_t)pos;
    if (lo + 1 >= n)
        return sorted[n - 1];
    frac = pos - (double)lo;
    return sorted[lo] + (sorted[lo + 1] - sorted[lo]) * frac;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int check_inputs(const eval_input *in)
{
    size_t i, c, width = in->task == MLOPS_TASK_MULTICLASS ? in->classes : 1;
    for (i = 0; i < in->rows; i++) {
        double y = in->labels[i];
        for (c = 0; c < width; c++) {
            float s = in->scores[i * width + c];
            if (!isfinite(s) || (in->task != MLOPS_TASK_REGRESSION && (s < 0 || s > 1)))
                return mlops__error(MLOPS_EINVAL, SUB, "metrics: score of row %zu is %g, not %s", i, (double)s,
                                    in->task == MLOPS_TASK_REGRESSION ? "finite" : "a probability");
        }
        if (!isfinite(y))
            return mlops__error(MLOPS_EINVAL, SUB, "metrics: label of row %zu is not finite", i);
        if (in->task != MLOPS_TASK_REGRESSION && (y != floor(y) || y < 0 || y >= (double)in->classes))
            return mlops__error(MLOPS_EINVAL, SUB, "metrics: label of row %zu is %g, not a class in 0..%zu", i,
                                y, in->classes - 1);
    }
    return MLOPS_OK;
}

static void predict_classes(eval_input *in)
{
    size_t i, c;
    for (i = 0; i < in->rows; i++) {
        if (in->task == MLOPS_TASK_BINARY) {
            in->predicted[i] = in->scores[i] >= in->threshold;
        } else {
            const float *p = in->scores + i * in->classes;
            size_t best = 0;
            for (c = 1; c < in->classes; c++)
                if (p[c] > p[best])
                    best = c;
            in->predicted[i] = best;
        }
    }
}

/* Bootstrap: for each metric, the 2.5th and 97.5th percentile over resamples where it is defined. */
static int bootstrap(mlops_metrics *m, const eval_input *in, int64_t resamples, uint64_t seed, double *w)
{
    size_t n = in->rows, i, b, k, defined;
    double *samples = mlops__malloc((size_t)resamples * m->count * sizeof *samples + 1);
    double *column = mlops__malloc((size_t)resamples * sizeof *column + 1);
    double values[MLOPS__METRICS_MAX];
    mlops__rng rng;
    int rc = MLOPS_OK;
    if (!samples || !column) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "metrics: out of memory for %lld bootstrap resamples",
                          (long long)resamples);
        goto out_free;
    }
    mlops__rng_seed(&rng, seed, MLOPS__STREAM_BOOTSTRAP);
    for (b = 0; b < (size_t)resamples; b++) {
        memset(w, 0, n * sizeof *w);
        for (i = 0; i < n; i++)
            w[mlops__rng_below(&rng, n)] += 1.0;
        all_metrics(in, w, values);
        for (k = 0; k < m->count; k++)
            samples[k * (size_t)resamples + b] = values[k];
    }
    for (k = 0; k < m->count; k++) {
        for (defined = 0, b = 0; b < (size_t)resamples; b++)
            if (!isnan(samples[k * (size_t)resamples + b]))
                column[defined++] = samples[k * (size_t)resamples + b];
        if (!defined) {
            m->low[k] = m->high[k] = NAN;
            continue;
        }
        qsort(column, defined, sizeof *column, cmp_double);
        m->low[k] = percentile(column, defined, 0.025);
        m->high[k] = percentile(column, defined, 0.975);
    }
out_free:
    mlops__free(samples);
    mlops__free(column);
    return rc;
}

int mlops_metrics_compute(mlops_metrics **out, int32_t task, const float *scores, const double *labels,
                          size_t rows, size_t classes, const char *options_json)
{
    static const char *const keys[] = {"bootstrap", "seed", "threshold", NULL};
    mlops__json *doc = NULL;
    int64_t resamples = 1000, seed = 0;
    eval_input in;
    mlops_metrics *m = NULL;
    double *w = NULL;
    size_t i;
    int rc;

    if (out)
        *out = NULL;
    if (!out || !scores || !labels)
        return mlops__error_null(SUB, "mlops_metrics_compute", !out ? "out" : !scores ? "scores" : "labels");
    memset(&in, 0, sizeof in);
    in.task = task;
    in.scores = scores;
    in.labels = labels;
    in.rows = rows;
    in.classes = task == MLOPS_TASK_REGRESSION ? 0 : task == MLOPS_TASK_BINARY ? 2 : classes;
    in.threshold = 0.5;
    if (task < MLOPS_TASK_REGRESSION || task > MLOPS_TASK_MULTICLASS)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_metrics_compute: unknown task %d", (int)task);
    if (task == MLOPS_TASK_BINARY && classes != 2)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_metrics_compute: a binary task has 2 classes, not %zu",
                            classes);
    if (task == MLOPS_TASK_MULTICLASS && (classes < 2 || classes > 65536))
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_metrics_compute: %zu classes is outside [2, 65536]",
                            classes);
    if (!rows)
        return mlops__error(MLOPS_EINVAL, SUB, "mlops_metrics_compute: no rows");
    if (options_json) {
        if ((rc = mlops__json_parse(&doc, options_json, SUB, "metrics options")))
            return rc;
        if ((rc = mlops__json_check_keys(doc, "$", SUB, keys)) ||
            (rc = mlops__json_opt_int(&resamples, doc, "bootstrap", "$", SUB, 0, 100000)) ||
            (rc = mlops__json_opt_int(&seed, doc, "seed", "$", SUB, 0, INT64_MAX)) ||
            (rc = mlops__json_opt_double(&in.threshold, doc, "threshold", "$", SUB, 0.0, 1.0)))
            goto out_free_doc;
    }
    if ((rc = check_inputs(&in)))
        goto out_free_doc;

    m = mlops__calloc(1, sizeof *m);
    w = mlops__malloc(rows * sizeof *w);
    in.order = mlops__malloc(2 * rows * sizeof *in.order);
    in.predicted = mlops__malloc(rows * sizeof *in.predicted);
    in.cm = mlops__malloc((in.classes ? in.classes * in.classes : 1) * sizeof *in.cm);
    if (!m || !w || !in.order || !in.predicted || !in.cm) {
        rc = mlops__error(MLOPS_ENOMEM, SUB, "metrics: out of memory for %zu rows", rows);
        goto out_free_work;
    }
    m->task = task;
    m->classes = in.classes;
    for (m->count = 0; names_of(task)[m->count]; m->count++)
        m->names[m->count] = names_of(task)[m->count];
    if (task != MLOPS_TASK_REGRESSION) {
        m->confusion = mlops__calloc(in.classes * in.classes, sizeof *m->confusion);
        if (!m->confusion) {
            rc = mlops__error(MLOPS_ENOMEM, SUB, "metrics: out of memory for the confusion matrix");
            goto out_free_work;
        }
        predict_classes(&in);
        for (i = 0; i < rows; i++)
            in.order[i] = i;
        if (task == MLOPS_TASK_BINARY)
            sort_desc(in.order, in.order + rows, rows, scores);
    }
    for (i = 0; i < rows; i++)
        w[i] = 1.0;
    all_metrics(&in, w, m->value);
    if (m->confusion)
        for (i = 0; i < in.classes * in.classes; i++)
            m->confusion[i] = (int64_t)in.cm[i];
    for (i = 0; i < m->count; i++)
        m->low[i] = m->high[i] = m->value[i];
    if (resamples > 0)
        rc = bootstrap(m, &in, resamples, (uint64_t)seed, w);
out_free_work:
    mlops__free(w);
    mlops__free(in.order);
    mlops__free(in.predicted);
    mlops__free(in.cm);
    if (rc)
        mlops_metrics_free(m);
    else
        *out = m;
out_free_doc:
    mlops__json_free(doc);
    return rc;
}

void mlops_metrics_free(mlops_metrics *metrics)
{
    if (!metrics)
        return;
    mlops__free(metrics->confusion);
    mlops__free(metrics);
}

size_t mlops_metrics_count(const mlops_metrics *metrics)
{
    return metrics ? metrics->count : 0;
}

const char *mlops_metrics_name(const mlops_metrics *metrics, size_t index)
{
    return metrics && index < metrics->count ? metrics->names[index] : NULL;
}

int mlops_metrics_get(double *value, double *ci_low, double *ci_high, const mlops_metrics *metrics,
                      const char *name)
{
    size_t i;
    if (!value || !metrics || !name)
        return mlops__error_null(SUB, "mlops_metrics_get", !value ? "value" : !metrics ? "metrics" : "name");
    for (i = 0; i < metrics->count; i++) {
        if (strcmp(metrics->names[i], name) == 0) {
            *value = metrics->value[i];
            if (ci_low)
                *ci_low = metrics->low[i];
            if (ci_high)
                *ci_high = metrics->high[i];
            return MLOPS_OK;
        }
    }
    return mlops__error(MLOPS_ENOTFOUND, SUB, "metric \"%s\" not found", name);
}

int mlops_metrics_confusion(const int64_t **out, size_t *classes_out, const mlops_metrics *metrics)
{
    if (!out || !classes_out || !metrics)
        return mlops__error_null(SUB, "mlops_metrics_confusion", !out ? "out" : !classes_out ? "classes_out"
                                                                                            : "metrics");
    if (!metrics->confusion)
        return mlops__error(MLOPS_ENOTFOUND, SUB, "a regression has no confusion matrix");
    *out = metrics->confusion;
    *classes_out = metrics->classes;
    return MLOPS_OK;
}

static void put_number(mlops__buf *buf, double v)
{
    char text[64];
    if (isnan(v)) {
        mlops__buf_puts(buf, "null");
        return;
    }
    mlops__format_double(text, sizeof text, v);
    mlops__buf_puts(buf, text);
}

void mlops__metrics_to_json(mlops__buf *buf, const mlops_metrics *m)
{
    size_t i, r, c;
    mlops__buf_putc(buf, '{');
    for (i = 0; i < m->count; i++) {
        mlops__buf_printf(buf, "%s\"%s\":{\"value\":", i ? "," : "", m->names[i]);
        put_number(buf, m->value[i]);
        mlops__buf_puts(buf, ",\"ci_low\":");
        put_number(buf, m->low[i]);
        mlops__buf_puts(buf, ",\"ci_high\":");
        put_number(buf, m->high[i]);
        mlops__buf_putc(buf, '}');
    }
    if (m->confusion) {
        mlops__buf_puts(buf, ",\"confusion_matrix\":[");
        for (r = 0; r < m->classes; r++) {
            mlops__buf_puts(buf, r ? ",[" : "[");
            for (c = 0; c < m->classes; c++)
                mlops__buf_printf(buf, "%s%lld", c ? "," : "", (long long)m->confusion[r * m->classes + c]);
            mlops__buf_putc(buf, ']');
        }
        mlops__buf_putc(buf, ']');
    }
    mlops__buf_putc(buf, '}');
}

int mlops_metrics_json(char **out, const mlops_metrics *metrics)
{
    mlops__buf buf;
    int rc;
    if (out)
        *out = NULL;
    if (!out || !metrics)
        return mlops__error_null(SUB, "mlops_metrics_json", !out ? "out" : "metrics");
    mlops__buf_init(&buf);
    mlops__metrics_to_json(&buf, metrics);
    if ((rc = mlops__buf_status(&buf, SUB))) {
        mlops__buf_free(&buf);
        return rc;
    }
    *out = mlops__buf_detach(&buf, NULL);
    return MLOPS_OK;
}
